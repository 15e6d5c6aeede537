//! The CLI's books are always an SQLite file: [`File`] reaches it.

use anyhow::{Result, anyhow};
pub use solocrm_app::Books;
use solocrm_app::Location;
use solocrm_store_sqlite::SqliteStore;

/// The SQLite file under the books, for what only a file has (book id, check,
/// checkpoint).
pub trait File {
    /// The file.
    ///
    /// # Errors
    ///
    /// If the books are not kept in a file (never, for books the CLI opened).
    fn file(&self) -> Result<&SqliteStore>;
}

impl File for Books {
    fn file(&self) -> Result<&SqliteStore> {
        self.sqlite()
            .ok_or_else(|| anyhow!("{} is not an SQLite file", self.location()))
    }
}

/// The books of an SQLite store the CLI opened or created at `path`.
pub fn of_file(store: SqliteStore, path: &std::path::Path) -> Books {
    Books::from_sqlite(store, Location::Path(path.to_owned()))
}
