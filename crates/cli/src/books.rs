//! The open books: the SQLite file, and the operations layer over it that every
//! command goes through.

use std::ops::Deref;
use std::sync::Arc;

use solocrm_core::Crm;
use solocrm_store_sqlite::SqliteStore;

/// An open database: [`Crm`] (through `Deref`) for everything the books hold, and the
/// file itself for what only a file has (its book id, checks, checkpoints).
pub struct Books {
    file: Arc<SqliteStore>,
    crm: Crm,
}

impl Books {
    /// The books of an open SQLite store.
    pub fn new(store: SqliteStore) -> Self {
        let file = Arc::new(store);
        let crm = Crm::from_shared(file.clone());
        Books { file, crm }
    }

    /// The SQLite file underneath.
    pub fn file(&self) -> &SqliteStore {
        &self.file
    }
}

impl Deref for Books {
    type Target = Crm;

    fn deref(&self) -> &Crm {
        &self.crm
    }
}
