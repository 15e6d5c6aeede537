//! `impl Storage for SqliteStore`: the transactional port of `solocrm_core::port`.
//!
//! - [`Storage::write`] takes the one writer connection (behind the store's mutex),
//!   turns SQLite's foreign-key checks off for a bulk write and keeps its statement
//!   journals and changed pages in memory (see [`Unchecked`]), runs
//!   `BEGIN IMMEDIATE`, the closure over a [`Tx`] backed by that connection, and
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
//! The primitives themselves are in one module per kind of record, each with its
//! statements and row codecs; [`crate::rows`] holds the column lists and query
//! helpers they share.

pub(crate) mod activity;
pub(crate) mod automation;
mod bulk_totals;
mod campaigns;
pub(crate) mod checks;
pub(crate) mod customers;
mod events;
mod holidays;
mod ledger;
pub(crate) mod loyalty;
mod needs;
mod offers;
pub(crate) mod pipeline;
mod privacy;
mod products;
mod questionnaire;
mod search_index;
mod targets;
mod tx;

use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, TransactionBehavior};
use solocrm_core::port::{ReadTx, Storage, WriteKind, WriteTx};
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
/// timeout, untrusted schema) but with a smaller page cache
/// ([`READER_CACHE_KIB`](crate::READER_CACHE_KIB)).
pub(crate) fn open_reader(
    store: &SqliteStore,
    path: &std::path::Path,
) -> Result<Connection, OpenError> {
    let conn = Connection::open_with_flags(
        crate::as_file_name(path),
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(OpenError::db)?;
    conn.busy_timeout(store.busy_timeout)
        .map_err(OpenError::db)?;
    conn.set_prepared_statement_cache_capacity(128);
    crate::stable_plans(&conn).map_err(OpenError::db)?;
    conn.pragma_update(None, "trusted_schema", false)
        .map_err(OpenError::db)?;
    conn.pragma_update(None, "cache_size", -crate::READER_CACHE_KIB)
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

/// Runs `f` over a [`Tx`] on `conn`, whose read transaction
/// [`SqliteStore::begin_together`] began, then ends that transaction.
fn in_begun(
    conn: &Connection,
    base: Currency,
    waited: Duration,
    f: &mut dyn FnMut(&dyn ReadTx) -> StoreResult<()>,
) -> StoreResult<()> {
    let out = f(&Tx::new(conn, base, waited));
    // Ending a read transaction cannot lose anything; if it fails, the connection
    // stays in it and is not reused (see `read_beside`).
    let ended = conn
        .execute_batch("COMMIT")
        .map_err(|e| Fail::from(e).into_store(waited));
    out.and(ended)
}

/// `here`, then `there`, over the one transaction `tx`: [`Storage::read_beside`] on
/// one core. Both run; `here`'s error comes first.
fn one_after_the_other(
    tx: &dyn ReadTx,
    here: &mut dyn FnMut(&dyn ReadTx) -> StoreResult<()>,
    there: &mut (dyn FnMut(&dyn ReadTx) -> StoreResult<()> + Send),
) -> StoreResult<()> {
    let first = here(tx);
    first.and(there(tx))
}

/// Begins a read transaction on `conn` and takes its snapshot (at the first read of
/// the file, not at `BEGIN`).
fn begin_read(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch("BEGIN DEFERRED")?;
    conn.query_row("SELECT count(*) FROM sqlite_schema", [], |_| Ok(()))
}

impl SqliteStore {
    /// Begins a read transaction on each of `a` and `b` such that both see the same
    /// commit (ADR 0070): while this connection's writer holds SQLite's write lock, no
    /// commit can come between the two. True if both began; false, with neither in a
    /// transaction, if the lock could not be had at once (our writer busy, another
    /// process writing, a read-only file): a reader never waits for a writer.
    fn begin_together(&self, a: &Connection, b: &Connection) -> bool {
        let writer = match self.conn.try_lock() {
            Ok(writer) => writer,
            Err(std::sync::TryLockError::Poisoned(p)) => p.into_inner(),
            Err(std::sync::TryLockError::WouldBlock) => return false,
        };
        let fenced = writer.busy_timeout(Duration::ZERO).is_ok()
            && writer.execute_batch("BEGIN IMMEDIATE").is_ok();
        let began = fenced && begin_read(a).is_ok() && begin_read(b).is_ok();
        if fenced {
            // Nothing was written: the lock goes as it came.
            let _ = writer.execute_batch("ROLLBACK");
        }
        let _ = writer.busy_timeout(self.busy_timeout);
        if !began {
            for conn in [a, b] {
                if !conn.is_autocommit() {
                    let _ = conn.execute_batch("ROLLBACK");
                }
            }
        }
        began
    }
}

/// The writer connection with SQLite's foreign-key checks off for one bulk write
/// ([`WriteKind::Bulk`]: an import, a batch of purchases), back on when dropped (after the transaction, which is declared later and so
/// dropped first; the pragma only takes effect outside a transaction).
///
/// The operations layer looks up every record a new one refers to before writing it
/// (it must, to report a missing one by name), so SQLite's check repeats that look-up
/// for every row: a B-tree search per purchase of a million-row import, which the
/// import's time budget (2 × the `sqlite3` shell's `.import`) cannot afford. `SqliteStore::check`
/// still finds a dangling reference (`PRAGMA foreign_key_check`).
///
/// A bulk write also keeps its work in memory where SQLite would write it to a file
/// and read it back (ADR 0079):
///
/// - Its statement journals. A statement of several rows that may fail half-way
///   (the runs of purchases, whose `CHECK`s call functions; a `DROP INDEX`) journals
///   every page it changes that existed when it began; past 64 KiB SQLite moves that
///   journal into a temporary file for the rest of the transaction, and a 1 M-row
///   import wrote it 600 k times. The pager decides where the journal lives at
///   `BEGIN`, from `PRAGMA temp_store`: [`Unchecked::begin`] sets it to `MEMORY` for
///   the `BEGIN` alone, so the sorts of the write (the rebuilt indexes) still spill to
///   files in runs of a few megabytes on a helper thread (ADR 0059). What one
///   statement journals is then held in memory: the most is the drop of the purchase
///   indexes by a big import onto a big book (`secure_delete` overwrites every freed
///   page), about 21 MB at 1 M purchases.
/// - Its changed pages, up to about [`BULK_SPILL_KIB`](crate::BULK_SPILL_KIB) of cache
///   (`PRAGMA cache_spill`): beyond the page cache (64 MiB) SQLite otherwise writes
///   changed pages into the log before the commit, and the small cache of the index
///   rebuild sent every page of the imported rows there and read it back once per
///   index. The commit writes each page once.
///
/// The third field says whether the write is a build of new books, which may also turn
/// the per-row `CHECK` constraints off (see `checks`); only then does the drop turn
/// them on again (setting the pragma expires the connection's prepared statements).
struct Unchecked<'a>(MutexGuard<'a, Connection>, bool, bool);

impl<'a> Unchecked<'a> {
    /// The writer connection, with the checks off if `bulk`; `build` for a build of
    /// new books.
    fn new(conn: MutexGuard<'a, Connection>, bulk: bool, build: bool) -> rusqlite::Result<Self> {
        // Made first, so that a setting refused half-way is undone by the drop.
        let unchecked = Unchecked(conn, bulk, bulk && build);
        if bulk {
            unchecked.0.pragma_update(None, "foreign_keys", false)?;
            unchecked
                .0
                .pragma_update(None, "cache_spill", -crate::BULK_SPILL_KIB)?;
        }
        Ok(unchecked)
    }

    /// `BEGIN IMMEDIATE`; for a bulk write with the statement journals in memory, and
    /// temporary storage back in files once the transaction has begun.
    fn begin(&mut self) -> rusqlite::Result<rusqlite::Transaction<'_>> {
        if self.1 {
            self.0.pragma_update(None, "temp_store", "MEMORY")?;
        }
        let tx = self
            .0
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        if self.1 {
            // Refused inside a transaction only while the connection's temporary
            // database is open. The writer never opens it: no `TEMP` table may be
            // made on it, which the switch to `MEMORY` above would drop.
            tx.pragma_update(None, "temp_store", "DEFAULT")?;
        }
        Ok(tx)
    }
}

impl Drop for Unchecked<'_> {
    fn drop(&mut self) {
        // The connection goes back as it was opened (checks on) for whatever else
        // runs on it. Cannot fail outside a transaction; if it did, the next open
        // would restore it.
        if self.1 {
            let _ = self.0.pragma_update(None, "foreign_keys", true);
            // SQLite's default: changed pages spill once the cache is full.
            let _ = self.0.pragma_update(None, "cache_spill", 1);
            // In case `BEGIN` failed after `begin` set it.
            let _ = self.0.pragma_update(None, "temp_store", "DEFAULT");
        }
        if self.2 {
            // A build of new books that failed before its end left the per-row
            // `CHECK` constraints off (see `checks`).
            let _ = checks::restore(&self.0);
        }
    }
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

    fn read_beside(
        &self,
        here: &mut dyn FnMut(&dyn ReadTx) -> StoreResult<()>,
        there: &mut (dyn FnMut(&dyn ReadTx) -> StoreResult<()> + Send),
    ) -> StoreResult<()> {
        let Some(path) = &self.path else {
            let mut conn = self.lock();
            return read_on(&mut conn, self.currency, self.busy_timeout, &mut |tx| {
                one_after_the_other(tx, here, there)
            });
        };
        let reader = || match self.readers.take() {
            Some(conn) => Ok(conn),
            None => open_reader(self, path)
                .map_err(|e| solocrm_core::StoreError::from(e.after_waiting(self.busy_timeout))),
        };
        let (mut a, b) = (reader()?, reader()?);
        if !self.begin_together(&a, &b) {
            // Both connections are out of any transaction: one snapshot, one core.
            self.readers.give_back(b);
            let out = read_on(&mut a, self.currency, self.busy_timeout, &mut |tx| {
                one_after_the_other(tx, here, there)
            });
            if a.is_autocommit() {
                self.readers.give_back(a);
            }
            return out;
        }
        let (base, waited) = (self.currency, self.busy_timeout);
        // Taken by the second thread, or by this one if no thread can be had.
        let slot = Mutex::new(Some(there));
        let (first, second, b) = std::thread::scope(|scope| {
            let slot = &slot;
            let spawned = std::thread::Builder::new().spawn_scoped(scope, move || {
                let taken = slot.lock().unwrap_or_else(PoisonError::into_inner).take();
                let out = taken.map_or(Ok(()), |there| in_begun(&b, base, waited, there));
                (out, b)
            });
            match spawned {
                Ok(handle) => {
                    let first = in_begun(&a, base, waited, here);
                    let (second, b) = handle
                        .join()
                        .unwrap_or_else(|p| std::panic::resume_unwind(p));
                    (first, second, Some(b))
                }
                // No thread to be had: `b` went with the refused closure (its
                // transaction ends as it closes); `a` holds the same snapshot.
                Err(_) => {
                    let mut taken = slot.lock().unwrap_or_else(PoisonError::into_inner).take();
                    let out = in_begun(&a, base, waited, &mut |tx| match taken {
                        Some(ref mut there) => one_after_the_other(tx, here, *there),
                        None => here(tx),
                    });
                    (out, Ok(()), None)
                }
            }
        });
        for conn in [Some(a), b].into_iter().flatten() {
            if conn.is_autocommit() {
                self.readers.give_back(conn);
            }
        }
        first.and(second)
    }

    fn write(&self, f: &mut dyn FnMut(&mut dyn WriteTx) -> StoreResult<()>) -> StoreResult<()> {
        self.write_as(WriteKind::Ordinary, f)
    }

    fn write_as(
        &self,
        kind: WriteKind,
        f: &mut dyn FnMut(&mut dyn WriteTx) -> StoreResult<()>,
    ) -> StoreResult<()> {
        let waited = self.busy_timeout;
        let db = |e: Fail| e.into_store(waited);
        let purge = {
            let bulk = kind == WriteKind::Bulk;
            let mut conn =
                Unchecked::new(self.lock(), bulk, self.private_build).map_err(|e| db(e.into()))?;
            // Dropped without a commit (an error, a panic in `f`), the transaction
            // rolls back, the dropped indexes of a bulk import included.
            let tx = conn.begin().map_err(|e| db(e.into()))?;
            // A bulk build of new books fills the search index once, at its end.
            let deferred = if kind == WriteKind::Bulk && self.private_build {
                search_index::defer(&tx).map_err(db)?
            } else {
                None
            };
            // It also evaluates the tables' `CHECK` constraints once, at its end.
            if deferred.is_some() {
                checks::defer(&tx).map_err(db)?;
            }
            let mut writer = Tx::new(&tx, self.currency, waited);
            if deferred.is_some() {
                writer.building_new_books();
            } else if kind == WriteKind::Bulk {
                writer.bulk_write();
            }
            f(&mut writer)?;
            writer.merge_appended_totals()?;
            writer.finish_search()?;
            let (rebuild, purge) = writer.finish();
            if deferred.is_some() {
                checks::verify(&tx).map_err(db)?;
            }
            if let Some(sqls) = rebuild {
                activity::rebuild_indexes(&tx, &sqls, self.private_build).map_err(db)?;
            }
            if let Some(deferred) = deferred {
                deferred.finish(&tx).map_err(db)?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::DateTime;
    use solocrm_core::{
        CustomerId, Money, NewPurchase, Purchase, PurchaseId, StoreError, StoreErrorKind,
    };

    /// `PRAGMA name` on the writer connection.
    fn pragma(store: &SqliteStore, name: &str) -> i64 {
        store
            .lock()
            .pragma_query_value(None, name, |r| r.get(0))
            .expect("the pragma")
    }

    fn foreign_keys_on(store: &SqliteStore) -> bool {
        pragma(store, "foreign_keys") == 1
    }

    fn orphan() -> Purchase {
        let at = DateTime::from_timestamp(1_767_225_600, 0).expect("an instant");
        Purchase::new(
            PurchaseId::new(1),
            NewPurchase::new(
                CustomerId::new(99),
                at,
                Money::from_minor(100, Currency::EUR),
            ),
        )
    }

    /// An ordinary write keeps SQLite's foreign-key checks, a second line behind the
    /// operations layer's: an orphan is refused.
    #[test]
    fn an_ordinary_write_keeps_the_foreign_key_checks() {
        let store = SqliteStore::open_in_memory(Currency::EUR).expect("a store");
        let err = store
            .write(&mut |tx| tx.insert_purchase(&orphan()))
            .expect_err("an orphan");
        assert_eq!(err.kind(), StoreErrorKind::Backend, "{err}");
        assert!(
            store.check().expect("the check").is_empty(),
            "nothing was stored"
        );
        assert!(foreign_keys_on(&store));
    }

    /// A bulk write runs without SQLite's foreign-key checks (the operations layer
    /// checks references) and turns them back on afterwards, whether it commits,
    /// fails or panics.
    #[test]
    fn a_bulk_write_skips_the_foreign_key_checks_and_restores_them() {
        let store = SqliteStore::open_in_memory(Currency::EUR).expect("a store");
        let stop = || StoreError::busy(Duration::ZERO);
        let err = store
            .write_as(WriteKind::Bulk, &mut |tx| {
                tx.insert_purchase(&orphan())?;
                Err(stop())
            })
            .expect_err("rolled back");
        assert_eq!(err.kind(), StoreErrorKind::Busy);
        assert!(foreign_keys_on(&store));
        let spill = pragma(&store, "cache_spill");
        let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let _ = store.write_as(WriteKind::Bulk, &mut |_| panic!("the closure panics"));
        }));
        assert!(panicked.is_err());
        assert!(foreign_keys_on(&store));
        assert_eq!(pragma(&store, "cache_spill"), spill);
        assert_eq!(pragma(&store, "temp_store"), 0);
        store
            .write_as(WriteKind::Bulk, &mut |tx| tx.insert_purchase(&orphan()))
            .expect("stored as given");
        assert!(foreign_keys_on(&store));
        let problems = store.check().expect("the check");
        assert_eq!(
            problems,
            ["row 1 of purchases refers to a missing row of customers"],
            "the check finds what the write did not"
        );
    }

    /// A bulk write's settings for the pages it changes (kept in memory up to
    /// `BULK_SPILL_KIB`) and for its statement journals (in memory: temporary storage
    /// at its `BEGIN`) are gone when it ends, however it ends (its `BEGIN` refused,
    /// its closure failing, a commit): the next ordinary write spills as SQLite does
    /// by default and sorts in files.
    #[test]
    fn a_bulk_write_gives_back_the_cache_and_temporary_storage_settings() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("crm.db");
        drop(SqliteStore::create(&path, Currency::EUR).expect("a store"));
        let options = crate::SqliteOptions::new().busy_timeout(Duration::from_millis(20));
        let store = SqliteStore::open_with(&path, &options).expect("opens");
        let (spill, temp) = (pragma(&store, "cache_spill"), pragma(&store, "temp_store"));
        assert_eq!(temp, 0, "SQLite's default: temporary storage in files");
        let other = Connection::open(&path).expect("another connection");
        other
            .execute_batch("BEGIN IMMEDIATE")
            .expect("the other takes the write lock");
        let busy = store.write_as(WriteKind::Bulk, &mut |_| Ok(()));
        assert_eq!(busy.expect_err("busy").kind(), StoreErrorKind::Busy);
        assert_eq!(pragma(&store, "cache_spill"), spill);
        assert_eq!(pragma(&store, "temp_store"), temp);
        other.execute_batch("ROLLBACK").expect("released");
        let stop = || StoreError::busy(Duration::ZERO);
        let failed = store.write_as(WriteKind::Bulk, &mut |_| Err(stop()));
        assert!(failed.is_err());
        assert_eq!(pragma(&store, "cache_spill"), spill);
        assert_eq!(pragma(&store, "temp_store"), temp);
        store
            .write_as(WriteKind::Bulk, &mut |_| Ok(()))
            .expect("committed");
        assert_eq!(pragma(&store, "cache_spill"), spill);
        assert_eq!(pragma(&store, "temp_store"), temp);
    }

    /// Inside a bulk write's transaction temporary storage is in files again (the
    /// sorts that rebuild the indexes run there, on a helper thread), and the
    /// changed pages may fill `BULK_SPILL_KIB` before they spill.
    #[test]
    fn a_bulk_transaction_sorts_in_files_and_keeps_its_pages() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let store = SqliteStore::create(dir.path().join("crm.db"), Currency::EUR).expect("a store");
        let ordinary = pragma(&store, "cache_spill");
        let mut conn = Unchecked::new(store.lock(), true, false).expect("unchecked");
        let tx = conn.begin().expect("begun");
        let value = |name: &str| -> i64 {
            tx.pragma_query_value(None, name, |r| r.get(0))
                .expect("the pragma")
        };
        assert_eq!(value("temp_store"), 0);
        let page: i64 = value("page_size");
        assert!(
            value("cache_spill") * page > crate::BULK_SPILL_KIB * 1024 * 9 / 10,
            "{} pages of {page} bytes, ordinarily {ordinary}",
            value("cache_spill")
        );
        assert!(value("cache_spill") > ordinary);
    }

    /// A new book in `dir`, opened for a private build of new books.
    fn private_build_in(dir: &tempfile::TempDir) -> SqliteStore {
        let options = crate::SqliteOptions::default().private_build(true);
        SqliteStore::create_with(dir.path().join("new.db"), Currency::EUR, &options)
            .expect("a store")
    }

    /// The build of new books in a private build drops the purchase indexes and
    /// builds them again before its commit with a small cache; the connection then
    /// has the private build's own large cache again, not the ordinary one.
    #[test]
    fn a_private_build_gets_its_cache_back_after_rebuilding_the_purchase_indexes() {
        let dir = tempfile::tempdir().expect("a directory");
        let store = private_build_in(&dir);
        let setting = |store: &SqliteStore, name: &str| -> i64 {
            store
                .lock()
                .pragma_query_value(None, name, |r| r.get(0))
                .expect("the pragma")
        };
        // The index's row in the schema: a new one when it is dropped and created
        // again.
        let root = |store: &SqliteStore| -> i64 {
            store
                .lock()
                .query_row(
                    "SELECT rowid FROM sqlite_schema \
                     WHERE type = 'index' AND name = 'purchases_by_customer'",
                    [],
                    |r| r.get(0),
                )
                .expect("the index")
        };
        assert_eq!(
            setting(&store, "cache_size"),
            -crate::PRIVATE_BUILD_CACHE_KIB
        );
        let before = root(&store);
        store
            .write_as(WriteKind::Bulk, &mut |tx| tx.expect_purchases(1))
            .expect("written");
        assert_ne!(root(&store), before, "the index was built again");
        assert_eq!(
            setting(&store, "cache_size"),
            -crate::PRIVATE_BUILD_CACHE_KIB
        );
        assert_eq!(setting(&store, "threads"), 0);
    }

    /// A build of new books that fails turns SQLite's per-row `CHECK` constraints on
    /// again (it wrote with them off, ADR 0055): the next ordinary write on the same
    /// connection is checked row by row.
    #[test]
    fn a_failed_build_of_new_books_leaves_the_check_constraints_on() {
        let dir = tempfile::tempdir().expect("a directory");
        let store = private_build_in(&dir);
        let ignored = |store: &SqliteStore| pragma(store, "ignore_check_constraints") == 1;
        let failed = store.write_as(WriteKind::Bulk, &mut |_| {
            Err(solocrm_core::StoreError::Aborted(
                "the build gave up".into(),
            ))
        });
        assert!(failed.is_err());
        assert!(!ignored(&store), "the checks are on again");
        let conn = store.lock();
        conn.execute_batch("CREATE TEMP TABLE t (n INTEGER CHECK (n > 0))")
            .expect("a table");
        let err = conn
            .execute("INSERT INTO t (n) VALUES (0)", [])
            .expect_err("checked row by row");
        assert_eq!(
            err.sqlite_extended_error_code(),
            Some(rusqlite::ffi::SQLITE_CONSTRAINT_CHECK)
        );
    }

    /// Every table of a new book gives `checks` a query that SQLite accepts: a CHECK
    /// a later migration writes in a form the extraction misreads fails here, not in
    /// a user's build.
    #[test]
    fn every_table_of_a_new_book_has_a_valid_check_query() {
        let store = SqliteStore::open_in_memory(Currency::EUR).expect("a store");
        let conn = store.lock();
        let found = checks::queries(&conn).expect("the schema");
        assert!(found.len() >= 10, "the tables with checks: {}", found.len());
        for (table, sql) in &found {
            conn.prepare(sql)
                .unwrap_or_else(|e| panic!("{table}: {e}\n{sql}"));
        }
    }

    /// A statement whose plan SQLite could tie to a bound value is not prepared again
    /// each time it comes back from the statement cache (see `stable_plans`).
    #[test]
    fn cached_look_ups_are_not_prepared_again_on_every_call() {
        let store = SqliteStore::open_in_memory(Currency::EUR).expect("a store");
        let conn = store.lock();
        for sql in [
            customers::CONSENTS_OF,
            customers::STAGE_HISTORY,
            loyalty::POINTS_BALANCE,
            pipeline::DEAL_MOVES,
        ] {
            for id in 1..=5_i64 {
                let mut stmt = conn.prepare_cached(sql).expect("prepared");
                let mut rows = stmt.query([id]).expect("a query");
                while rows.next().expect("a row").is_some() {}
            }
            let stmt = conn.prepare_cached(sql).expect("prepared");
            assert_eq!(
                stmt.get_status(rusqlite::StatementStatus::RePrepare),
                0,
                "{sql}"
            );
        }
    }
}
