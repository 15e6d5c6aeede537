//! `impl Storage for SqliteStore`: the transactional port of `solocrm_core::port`.
//!
//! - [`Storage::write`] takes the one writer connection (behind the store's mutex),
//!   runs `BEGIN IMMEDIATE`, the closure over a [`Tx`] backed by that connection, and
//!   `COMMIT`; an `Err` or a panic drops the open transaction, which rolls it back.
//!   A big import announced with `expect_purchases` has its purchase indexes rebuilt
//!   just before the commit, and a transaction that asked for `purge_after_commit`
//!   is followed by a checkpoint that scrubs the old row versions from the log.
//! - [`Storage::read`] runs the closure in a deferred transaction (one WAL snapshot)
//!   on a read-only connection taken from a small pool ([`Readers`]), so a reader
//!   never waits for the writer or a long import. An in-memory database cannot be
//!   shared between connections, so there reads use the writer connection under its
//!   mutex (and do wait for a writer).
//!
//! The primitives themselves are in one module per kind of record, over the row
//! codecs and SQL of [`crate::store`].

mod activity;
mod customers;
mod events;
mod loyalty;
mod pipeline;
mod privacy;
mod tx;

use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, TransactionBehavior};
use solocrm_core::port::{ReadTx, Storage, WriteTx};
use solocrm_core::{Currency, StoreResult};

use crate::SqliteStore;
use crate::error::{Fail, OpenError};

pub(crate) use tx::Tx;

/// How many idle read-only connections a file-backed store keeps. More readers at
/// once open more connections; those beyond this number are closed when done.
pub(crate) const READERS: usize = 4;

/// The idle read-only connections of a file-backed store, opened on demand.
#[derive(Default)]
pub(crate) struct Readers {
    idle: Mutex<Vec<Connection>>,
}

impl Readers {
    fn take(&self) -> Option<Connection> {
        self.idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop()
    }

    /// Keeps `conn` for the next reader, unless enough are kept already.
    fn give_back(&self, conn: Connection) {
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        if idle.len() < READERS {
            idle.push(conn);
        }
    }
}

/// A read-only connection to the file of `store`, configured like the writer (busy
/// timeout, page cache, untrusted schema).
fn open_reader(store: &SqliteStore, path: &std::path::Path) -> Result<Connection, OpenError> {
    let conn = Connection::open_with_flags(
        crate::as_file_name(path),
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(OpenError::db)?;
    conn.busy_timeout(store.busy_timeout)
        .map_err(OpenError::db)?;
    conn.set_prepared_statement_cache_capacity(128);
    conn.pragma_update(None, "trusted_schema", false)
        .map_err(OpenError::db)?;
    conn.pragma_update(None, "cache_size", -crate::CACHE_KIB)
        .map_err(OpenError::db)?;
    conn.pragma_update(None, "query_only", true)
        .map_err(OpenError::db)?;
    Ok(conn)
}

/// Runs `f` over a [`Tx`] in a deferred transaction on `conn`, then commits (which
/// for a read only ends the snapshot).
fn read_on(
    conn: &mut Connection,
    base: Currency,
    waited: Duration,
    f: &mut dyn FnMut(&dyn ReadTx) -> StoreResult<()>,
) -> StoreResult<()> {
    let db = |e: rusqlite::Error| Fail::from(e).into_store(waited);
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Deferred)
        .map_err(db)?;
    {
        let reader = Tx::new(&tx, base, waited);
        f(&reader)?;
    }
    tx.commit().map_err(db)
}

impl Storage for SqliteStore {
    fn base_currency(&self) -> Currency {
        self.currency
    }

    fn read(&self, f: &mut dyn FnMut(&dyn ReadTx) -> StoreResult<()>) -> StoreResult<()> {
        let Some(path) = &self.path else {
            // In memory: the one connection there is.
            let mut conn = self.lock();
            return read_on(&mut conn, self.currency, self.busy_timeout, f);
        };
        let mut conn = match self.readers.take() {
            Some(conn) => conn,
            None => open_reader(self, path)
                .map_err(|e| solocrm_core::StoreError::from(e.after_waiting(self.busy_timeout)))?,
        };
        let out = read_on(&mut conn, self.currency, self.busy_timeout, f);
        // A connection whose transaction could not end cleanly is not reused.
        if conn.is_autocommit() {
            self.readers.give_back(conn);
        }
        out
    }

    fn write(&self, f: &mut dyn FnMut(&mut dyn WriteTx) -> StoreResult<()>) -> StoreResult<()> {
        let waited = self.busy_timeout;
        let db = |e: Fail| e.into_store(waited);
        let purge = {
            let mut conn = self.lock();
            // Dropped without a commit (an error, a panic in `f`), the transaction
            // rolls back, the dropped indexes of a bulk import included.
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(|e| db(e.into()))?;
            let mut writer = Tx::new(&tx, self.currency, waited);
            f(&mut writer)?;
            let (rebuild, purge) = writer.finish();
            if let Some(sqls) = rebuild {
                crate::store::rebuild_indexes(&tx, &sqls).map_err(db)?;
            }
            tx.commit().map_err(|e| db(e.into()))?;
            purge
        };
        // After the commit and with the writer's lock released: the erased rows'
        // old versions leave the log. Committed already, so this cannot fail the
        // write.
        if purge && self.path.is_some() {
            self.checkpoint_after_erase();
        }
        Ok(())
    }
}
