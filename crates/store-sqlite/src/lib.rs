//! # solocrm-store-sqlite
//!
//! The embedded default storage of [solocrm](https://example.invalid/solocrm): one
//! SQLite file (bundled SQLite, no system library needed) that keeps a one-person
//! company's customers, money and history exactly, survives crashes, and gives the
//! same answers as the in-memory store. It implements the transactional port
//! ([`Storage`](solocrm_core::port::Storage)); the business operations run over it
//! through [`Crm`](solocrm_core::Crm).
//!
//! ```
//! use chrono::{TimeZone, Utc};
//! use solocrm_core::{Crm, Currency, CustomerData, NewCustomer, PersonName, Store};
//! use solocrm_store_sqlite::SqliteStore;
//!
//! let dir = tempfile::tempdir()?;
//! let path = dir.path().join("crm.db");
//! let crm = Crm::new(SqliteStore::create(&path, Currency::EUR)?);
//! let at = Utc.with_ymd_and_hms(2026, 1, 5, 9, 0, 0).unwrap();
//! let ada = crm.create_customer(NewCustomer::new(
//!     CustomerData::new(PersonName::parse("Ada Lovelace")?),
//!     at,
//! ))?;
//! drop(crm);
//!
//! let crm = Crm::new(SqliteStore::open(&path)?);
//! assert_eq!(crm.customer(ada.id())?.name().as_str(), "Ada Lovelace");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # How it keeps data safe
//!
//! - **Atomic.** Every port transaction is one SQLite transaction (writes take the
//!   write lock up front with `BEGIN IMMEDIATE`) and rolls back on any error, so an
//!   operation of [`Crm`](solocrm_core::Crm), or several composed in one
//!   `crm.write(..)`, is all or nothing; an import of a whole batch is one
//!   transaction.
//! - **Durable.** The journal is a write-ahead log. With the default
//!   [`Synchronous::Normal`] a committed transaction survives a crash of the process;
//!   after a power loss the last transactions before it may be rolled back, but the
//!   file is never corrupt. [`Synchronous::Full`] also keeps them, at the cost of one
//!   `fsync` per commit.
//! - **Shared.** Two processes may use one file: a writer waits up to
//!   [`SqliteOptions::busy_timeout`] for the other instead of failing, then fails
//!   with [`StoreError::Busy`]; readers never wait, and opening a current database
//!   takes no lock.
//! - **Exact.** Money is stored as integer minor units, instants as whole seconds plus
//!   nanoseconds, dates as ISO 8601 text. Every stored row is decoded through the
//!   domain's validating constructors; a row that does not decode is reported as
//!   [`StoreError::Backend`], never a panic.
//! - **Private.** New files are readable by their owner only (0600 on Unix).
//!   `secure_delete` is on, and erasing a customer checkpoints the log (waiting up to
//!   the busy timeout for other readers), so the erased personal data is gone from the
//!   files, not merely unlinked; [`SqliteStore::checkpoint`] says whether a reader
//!   prevented that.
//! - **Backed up, checked.** [`SqliteStore::backup_to`] copies the books into a new
//!   private file from one snapshot while others write (a running import is in the copy
//!   entirely or not at all); [`SqliteStore::check`] verifies SQLite's integrity, the
//!   foreign keys and the store's own invariants.
//!
//! # The transactional port
//!
//! `SqliteStore` implements [`Storage`](solocrm_core::port::Storage): write
//! transactions (`BEGIN IMMEDIATE` on the one writer connection, committed only if the
//! closure succeeds) and read snapshots on a small pool of read-only connections, so a
//! reader never waits for a writer (an in-memory database reads on its one connection).
//! The outbox of domain events is the `events` table of schema version 6.
//!
//! See `docs/storage.md` for the schema, its indexes and the migration rules.
#![deny(missing_docs)]

mod backup;
mod codec;
mod error;
mod invariants;
mod schema;
mod spellings;
#[macro_use]
mod rows;
mod port;

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use rusqlite::{Connection, OpenFlags};
use solocrm_core::{Currency, StoreError, StoreResult};

pub use backup::{BackupError, BackupReport};
pub use error::OpenError;
pub use schema::SCHEMA_VERSION;

use crate::error::Fail;

/// How hard SQLite works to make a commit survive a power loss.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Synchronous {
    /// `PRAGMA synchronous = NORMAL`: the write-ahead log is synced at checkpoints, not
    /// at every commit. A commit survives the process crashing; a power loss or an
    /// operating-system crash may roll back the last commits (never corrupting the
    /// file). Much faster for many small writes. The default.
    #[default]
    Normal,
    /// `PRAGMA synchronous = FULL`: every commit is synced before it returns, so it
    /// also survives a power loss.
    Full,
}

impl Synchronous {
    fn pragma(self) -> &'static str {
        match self {
            Synchronous::Normal => "NORMAL",
            Synchronous::Full => "FULL",
        }
    }
}

/// Options for opening or creating a database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqliteOptions {
    synchronous: Synchronous,
    busy_timeout: Duration,
    private_build: bool,
}

impl Default for SqliteOptions {
    fn default() -> Self {
        SqliteOptions {
            synchronous: Synchronous::Normal,
            busy_timeout: Duration::from_secs(10),
            private_build: false,
        }
    }
}

impl SqliteOptions {
    /// The defaults: [`Synchronous::Normal`], a 10 s busy timeout.
    pub fn new() -> Self {
        SqliteOptions::default()
    }

    /// Sets the durability level.
    #[must_use]
    pub fn synchronous(mut self, level: Synchronous) -> Self {
        self.synchronous = level;
        self
    }

    /// Sets how long a write waits for another connection's write to finish before it
    /// fails with [`StoreError::Busy`] (reads never wait).
    #[must_use]
    pub fn busy_timeout(mut self, timeout: Duration) -> Self {
        self.busy_timeout = timeout;
        self
    }

    /// With `on`, the settings for building a new file that no other program sees
    /// until it is complete and closed (`solocrm demo` builds its sample in a private
    /// directory, then moves it into place), in one transaction of very many small
    /// operations:
    ///
    /// - `PRAGMA journal_mode = MEMORY` instead of the write-ahead log: every page is
    ///   written once, into the file, instead of into the log, (when the cache
    ///   overflows) read back from it, and copied into the file at the checkpoint. A
    ///   crash leaves a broken file, which is why it is only for a private one: the
    ///   next open switches the file to the write-ahead log as always.
    ///   The statement journal every operation's savepoint keeps then stays in
    ///   memory too (SQLite keeps the statement journals of a connection whose
    ///   journal is in memory in memory), while temporary storage stays in files, so
    ///   that the sorts that rebuild the deferred indexes at the end run on a helper
    ///   thread in runs of a few megabytes (see ADR 0059).
    /// - A page cache of up to [`PRIVATE_BUILD_CACHE_KIB`] instead of
    ///   the usual 64 MiB, so that a build of some hundred megabytes does not spill.
    /// - A bulk write ([`WriteKind::Bulk`](solocrm_core::port::WriteKind::Bulk)) that
    ///   starts with no customer stored fills the customer search index once, just
    ///   before its commit, from every customer then stored, instead of row by row
    ///   through its triggers (which flush the index at every statement). Searches
    ///   inside that write do not see its customers; the committed books are the
    ///   same, up to how the index lays out its segments. Its purchases, however
    ///   small the batches it records them in, are written without the purchase
    ///   indexes that only serve reads, which are rebuilt, sorted, before the
    ///   commit (as a big import's are): reads by customer inside that write then
    ///   scan the table. The same holds for the indexes by customer of
    ///   interactions, stage changes, points entries, consents and survey answers;
    ///   the look-ups the operations make (stage, erasure, last stage change,
    ///   points balance) are answered from what the write stored.
    ///
    /// Off by default.
    #[must_use]
    pub fn private_build(mut self, on: bool) -> Self {
        self.private_build = on;
        self
    }

    /// The durability level.
    pub fn synchronous_level(&self) -> Synchronous {
        self.synchronous
    }

    /// The busy timeout.
    pub fn busy_timeout_duration(&self) -> Duration {
        self.busy_timeout
    }
}

/// The SQLite store: one connection to one database file (or to a private in-memory
/// database), behind a mutex. `Send + Sync`; share it behind an `Arc`. Several
/// processes, or several `SqliteStore`s in one process, may open the same file.
pub struct SqliteStore {
    /// Idle read-only connections for [`Storage::read`](solocrm_core::Storage::read)
    /// (file-backed stores only). Declared first, so dropped first: the writer,
    /// closing last, checkpoints the log and deletes it, as before there were readers.
    readers: port::Readers,
    conn: Mutex<Connection>,
    currency: Currency,
    path: Option<PathBuf>,
    busy_timeout: Duration,
    /// Opened with [`SqliteOptions::private_build`]: a bulk write into the empty
    /// books fills the search index once, at its end.
    private_build: bool,
}

impl fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.path)
            .field("currency", &self.currency)
            .finish_non_exhaustive()
    }
}

/// The file a database at `path` keeps beside it (`-wal`, `-shm`).
fn sidecar(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

fn flags() -> OpenFlags {
    // No URI parsing: the path is a path, even if it contains `?` or `#`.
    OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX
}

/// The name SQLite is given for `path`: the path itself, except that a relative path
/// beginning with `file:` gets a leading `./`. The bundled SQLite reads URI file names
/// (`file:data.db?mode=memory`) whatever the open flags say; so written, the name is a
/// plain path, and `--db file:real.db` opens the file of that name and no other.
fn as_file_name(path: &Path) -> PathBuf {
    let uri_like = path.is_relative()
        && path
            .as_os_str()
            .as_encoded_bytes()
            .get(..5)
            .is_some_and(|head| head.eq_ignore_ascii_case(b"file:"));
    if uri_like {
        Path::new(".").join(path)
    } else {
        path.to_owned()
    }
}

fn open_err(e: rusqlite::Error) -> OpenError {
    OpenError::db(e)
}

/// How long the checkpoint that follows an erasure waits for other connections.
pub(crate) const ERASE_CHECKPOINT_PATIENCE: Duration = Duration::from_secs(1);

/// The page cache of a connection, in KiB: a larger cache (64 MiB at most, allocated
/// as needed) keeps the indexes of a big purchase table in memory during imports.
pub(crate) const CACHE_KIB: i64 = 65_536;

/// The most a bulk write (an import, a batch of purchases) keeps of its changed pages
/// in memory before writing them into the log ahead of its commit, in KiB (128 MiB of
/// cache, counting clean and changed pages and SQLite's own bookkeeping per page):
/// beyond the page cache ([`CACHE_KIB`]), up to this, a bulk write's pages are written
/// once, at the commit, instead of spilled and read back (ADR 0079). A 1 M-row import
/// changes about 100 MiB; a bigger one spills past this bound as any write does. A
/// server's writer is bounded the same way while a web import runs (issue 15's
/// budget is 300 MiB for the whole process).
pub(crate) const BULK_SPILL_KIB: i64 = 131_072;

/// The page cache of a read-only connection, in KiB (8 MiB at most). Readers walk
/// whole tables once (a report) or look up a few rows (a page); neither reads a page
/// again soon enough for a big cache to pay, and the operating system keeps the file
/// cached anyway. A web server keeps four readers: at the writer's size their caches
/// could hold 256 MiB, the better part of the issue's 300 MiB (issue 15).
pub(crate) const READER_CACHE_KIB: i64 = 8_192;

/// The page cache of a [private build](SqliteOptions::private_build), in KiB (1 GiB at
/// most, allocated as needed).
pub const PRIVATE_BUILD_CACHE_KIB: i64 = 1_048_576;

/// Query plans that do not depend on bound values (`SQLITE_DBCONFIG_ENABLE_QPSG`).
///
/// Without it, SQLite (3.54) marks a statement such as
/// `... WHERE customer_id = ?1 ORDER BY id` to be re-prepared when its parameter is
/// rebound, and `sqlite3_clear_bindings`, which rusqlite's statement cache calls on
/// every statement it takes back, then expires it: every look-up of a customer's
/// consents, stage history, ledger or deal moves was parsed and planned again (an
/// eighth of an import through the port, one full customer load per new buyer). No
/// statement of this crate needs a plan chosen for a particular value.
pub(crate) fn stable_plans(conn: &Connection) -> rusqlite::Result<()> {
    conn.set_db_config(
        rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
        true,
    )
    .map(drop)
}

/// Per-connection settings.
fn configure(conn: &Connection, options: &SqliteOptions, file: bool) -> Result<(), OpenError> {
    conn.busy_timeout(options.busy_timeout).map_err(open_err)?;
    conn.set_prepared_statement_cache_capacity(128);
    stable_plans(conn).map_err(open_err)?;
    conn.pragma_update(None, "foreign_keys", true)
        .map_err(open_err)?;
    conn.pragma_update(None, "secure_delete", true)
        .map_err(open_err)?;
    conn.pragma_update(None, "trusted_schema", false)
        .map_err(open_err)?;
    conn.pragma_update(None, "cache_size", -CACHE_KIB)
        .map_err(open_err)?;
    if file && options.private_build {
        conn.pragma_update(None, "cache_size", -PRIVATE_BUILD_CACHE_KIB)
            .map_err(open_err)?;
        let mode: String = conn
            .pragma_update_and_check(None, "journal_mode", "MEMORY", |r| r.get(0))
            .map_err(open_err)?;
        if !mode.eq_ignore_ascii_case("memory") {
            return Err(OpenError::corrupt(format!(
                "cannot keep the journal of a private build in memory (it stays '{mode}')"
            )));
        }
    } else if file {
        // After a checkpoint resets the log, cut it back to 64 MiB, so that one big
        // import does not leave a huge log file behind.
        conn.pragma_update(None, "journal_size_limit", 64 * 1024 * 1024)
            .map_err(open_err)?;
        let mode: String = conn
            .pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))
            .map_err(open_err)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(OpenError::corrupt(format!(
                "cannot switch the journal to write-ahead logging (it stays '{mode}')"
            )));
        }
    }
    conn.pragma_update(None, "synchronous", options.synchronous.pragma())
        .map_err(open_err)?;
    Ok(())
}

impl SqliteStore {
    /// Creates a new database file at `path` keeping its books in `currency`, with
    /// the default [`SqliteOptions`].
    ///
    /// # Errors
    ///
    /// [`OpenError::AlreadyExists`] if anything is at `path`; [`OpenError::Io`] or
    /// [`OpenError::Database`] if the file cannot be written. Nothing is left behind
    /// on failure.
    pub fn create(path: impl AsRef<Path>, currency: Currency) -> Result<Self, OpenError> {
        SqliteStore::create_with(path, currency, &SqliteOptions::default())
    }

    /// Creates a new database file with `options`; see [`SqliteStore::create`].
    ///
    /// # Errors
    ///
    /// As [`SqliteStore::create`].
    pub fn create_with(
        path: impl AsRef<Path>,
        currency: Currency,
        options: &SqliteOptions,
    ) -> Result<Self, OpenError> {
        let path = path.as_ref();
        let conn = create_file(path, currency, options, SCHEMA_VERSION)?;
        Ok(SqliteStore {
            readers: port::Readers::default(),
            conn: Mutex::new(conn),
            currency,
            path: Some(path.to_owned()),
            busy_timeout: options.busy_timeout,
            private_build: options.private_build,
        })
    }

    /// Opens an existing database file with the default [`SqliteOptions`], migrating
    /// its schema to [`SCHEMA_VERSION`] if it is older.
    ///
    /// # Errors
    ///
    /// [`OpenError::NotFound`] if there is no file; [`OpenError::NotSolocrm`] for a
    /// file that is not a solocrm database; [`OpenError::NewerSchema`] for a file of a
    /// newer solocrm (it is left untouched); [`OpenError::Busy`] if the file must be
    /// migrated while another program holds its write lock; [`OpenError::Corrupt`],
    /// [`OpenError::Io`] or [`OpenError::Database`] otherwise.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, OpenError> {
        SqliteStore::open_with(path, &SqliteOptions::default())
    }

    /// Opens an existing database file with `options`; see [`SqliteStore::open`].
    ///
    /// # Errors
    ///
    /// As [`SqliteStore::open`].
    pub fn open_with(path: impl AsRef<Path>, options: &SqliteOptions) -> Result<Self, OpenError> {
        let path = path.as_ref();
        match std::fs::metadata(path) {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(OpenError::NotFound {
                    path: path.to_owned(),
                });
            }
            Err(e) => return Err(OpenError::Io(e)),
        }
        let open = || -> Result<(Connection, Currency), OpenError> {
            let mut conn =
                Connection::open_with_flags(as_file_name(path), flags()).map_err(open_err)?;
            conn.busy_timeout(options.busy_timeout).map_err(open_err)?;
            // Check before changing anything: a foreign or newer file stays untouched.
            schema::check_existing(&conn)?;
            configure(&conn, options, true)?;
            schema::migrate(&mut conn, SCHEMA_VERSION, None)?;
            let currency = schema::base_currency(&conn)?;
            // Leniently: a book created when any three letters passed (`BTC`, `XYZ`)
            // keeps its currency; only `create` insists on an active ISO 4217 code.
            let currency = Currency::from_stored(&currency)
                .map_err(|e| OpenError::corrupt(format!("base currency: {e}")))?;
            Ok((conn, currency))
        };
        let (conn, currency) = open().map_err(|e| e.after_waiting(options.busy_timeout))?;
        Ok(SqliteStore {
            readers: port::Readers::default(),
            conn: Mutex::new(conn),
            currency,
            path: Some(path.to_owned()),
            busy_timeout: options.busy_timeout,
            private_build: options.private_build,
        })
    }

    /// A new private in-memory database keeping its books in `currency`; gone when
    /// the store is dropped. For tests and throw-away work.
    ///
    /// # Errors
    ///
    /// [`OpenError::Database`] if SQLite fails.
    pub fn open_in_memory(currency: Currency) -> Result<Self, OpenError> {
        let mut conn = Connection::open_in_memory().map_err(open_err)?;
        configure(&conn, &SqliteOptions::default(), false)?;
        schema::migrate(&mut conn, SCHEMA_VERSION, Some(currency.as_str()))?;
        Ok(SqliteStore {
            readers: port::Readers::default(),
            conn: Mutex::new(conn),
            currency,
            path: None,
            busy_timeout: SqliteOptions::default().busy_timeout,
            private_build: false,
        })
    }

    /// The database file, or `None` for an in-memory database.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// The schema version of the database (always [`SCHEMA_VERSION`] once opened).
    ///
    /// # Errors
    ///
    /// [`StoreError::Backend`] if SQLite fails.
    pub fn schema_version(&self) -> StoreResult<u32> {
        let v = schema::user_version(&self.lock()).map_err(|e| self.db_err(e))?;
        u32::try_from(v).map_err(|_| StoreError::backend(OpenError::NotSolocrm))
    }

    /// The book id: a random identity (16 lowercase hex characters) the database got
    /// when it was created, or when it was migrated to schema version 3. It never
    /// changes and two databases practically never share one, so exports can mark the
    /// ids that only mean something in this database with it (a re-import can then
    /// tell "customer 7 of this book" from "customer 7 of another book"). A copy of
    /// the file keeps it.
    ///
    /// # Errors
    ///
    /// [`StoreError::Backend`] if SQLite fails or the stored id is missing or
    /// malformed (the file was changed outside solocrm).
    pub fn book_id(&self) -> StoreResult<String> {
        let id = schema::book_id(&self.lock()).map_err(|e| self.db_err(e))?;
        match id {
            Some(id) if is_book_id(&id) => Ok(id),
            _ => Err(StoreError::backend(error::Corrupt(
                "the database records no valid book id".to_owned(),
            ))),
        }
    }

    /// Replaces the book id with `id`: restoring an archive of a book into a new,
    /// empty database makes it that book again (`solocrm import all`), so the ids its
    /// older exports wrote (`#N@BOOK`) still name its customers. Nothing else changes
    /// the id.
    ///
    /// # Errors
    ///
    /// [`StoreError::Backend`] if `id` is not 16 lowercase hex digits or SQLite fails.
    pub fn adopt_book_id(&self, id: &str) -> StoreResult<()> {
        if !is_book_id(id) {
            return Err(StoreError::backend(error::Corrupt(format!(
                "'{id}' is not a book id (16 lowercase hex digits)"
            ))));
        }
        self.lock()
            .execute("UPDATE store_info SET book_id = ?1 WHERE id = 1", [id])
            .map_err(|e| self.db_err(e))?;
        Ok(())
    }

    /// Copies every committed change from the write-ahead log into the database file
    /// and empties the log (`PRAGMA wal_checkpoint(TRUNCATE)`), retrying for up to the
    /// busy timeout while other connections' readers or a writer are in the way.
    ///
    /// `true`: the whole log is in the main file and the log file is truncated, so no
    /// old version of a row (say, the personal data of a customer just erased) remains
    /// in the `-wal` file. `false`: another connection kept a read transaction open on
    /// an older snapshot for the whole busy timeout; the log is left as it was, and the
    /// next checkpoint (SQLite also runs them on its own) finishes the job. Always
    /// `true` for an in-memory database.
    ///
    /// An erasure through [`Crm`](solocrm_core::Crm) already runs one (it asks for
    /// `purge_after_commit`);
    /// call this after it to learn whether the erased text has left the files, and
    /// before copying the file.
    ///
    /// # Errors
    ///
    /// [`StoreError::Backend`] if SQLite fails.
    pub fn checkpoint(&self) -> StoreResult<bool> {
        checkpoint(&self.lock(), self.busy_timeout, self.busy_timeout)
    }

    /// Checks the whole file: SQLite's `PRAGMA integrity_check` and
    /// `PRAGMA foreign_key_check`, then, if those pass, the store's own invariants
    /// (rules across rows that the schema cannot declare): every customer's stage is
    /// where their stage history ends and each stage change starts where the previous
    /// one ended; likewise for deals and their moves; no purchase is refunded beyond
    /// its amount, and a refund is filed under its purchase's customer; each points
    /// entry's balance follows from the one before; an erased customer carries the
    /// placeholder name, no tags, consents or text in any record, and has an erasure in
    /// the audit log (and only they do); every email's look-up key is the one derived
    /// from it. Everything is read in one snapshot, so a write by another program
    /// during the check cannot make it report a violation that never was.
    ///
    /// Returns the problems found, one line each; empty if the file is sound.
    ///
    /// # Errors
    ///
    /// [`StoreError::Backend`] if SQLite fails, [`StoreError::Busy`] if it cannot read.
    pub fn check(&self) -> StoreResult<Vec<String>> {
        let mut conn = self.lock();
        let mut run = || -> rusqlite::Result<Vec<String>> {
            let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Deferred)?;
            let mut problems = Vec::new();
            let mut stmt = tx.prepare("PRAGMA integrity_check")?;
            let mut rows = stmt.query([])?;
            while let Some(r) = rows.next()? {
                let line: String = r.get(0)?;
                if line != "ok" {
                    problems.push(line);
                }
            }
            drop(rows);
            drop(stmt);
            let mut stmt = tx.prepare("PRAGMA foreign_key_check")?;
            let mut rows = stmt.query([])?;
            while let Some(r) = rows.next()? {
                let table: String = r.get(0)?;
                let rowid: Option<i64> = r.get(1)?;
                let parent: String = r.get(2)?;
                problems.push(format!(
                    "row {} of {table} refers to a missing row of {parent}",
                    rowid.map_or_else(|| "?".to_owned(), |r| r.to_string())
                ));
            }
            drop(rows);
            drop(stmt);
            // Damaged pages make the invariants' queries fail or mislead: the damage
            // is the problem to report.
            if problems.is_empty() {
                problems.extend(invariants::violations(&tx)?);
            }
            tx.commit()?;
            Ok(problems)
        };
        run().map_err(|e| self.db_err(e))
    }

    /// The same as [`SqliteStore::check`].
    ///
    /// # Errors
    ///
    /// As [`SqliteStore::check`].
    pub fn integrity_check(&self) -> StoreResult<Vec<String>> {
        self.check()
    }

    /// The checkpoint after an erasure: like [`SqliteStore::checkpoint`], but it cannot
    /// fail the erasure, which is committed; false if it did not finish.
    ///
    /// It waits at most [`ERASE_CHECKPOINT_PATIENCE`] for another connection's reader
    /// to move on, so that an erase is not held up for the whole busy timeout; a caller
    /// that must know the scrub reached the disk calls [`SqliteStore::checkpoint`]
    /// next, which waits the full busy timeout (the CLI does, and warns when even that
    /// cannot finish).
    pub(crate) fn checkpoint_after_erase(&self) -> bool {
        let patience = ERASE_CHECKPOINT_PATIENCE.min(self.busy_timeout);
        checkpoint(&self.lock(), patience, self.busy_timeout).unwrap_or(false)
    }

    /// A driver error as a store error: [`StoreError::Busy`] after the busy timeout,
    /// [`StoreError::Backend`] otherwise.
    fn db_err(&self, e: rusqlite::Error) -> StoreError {
        Fail::from(e).into_store(self.busy_timeout)
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        // A panic while the lock was held dropped its transaction, which rolled back,
        // so the connection is safe to keep using.
        self.conn.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Creates a database file at `path` (0600, failing if anything is there) with the
/// schema at `version`, and removes it again if anything fails.
fn create_file(
    path: &Path,
    currency: Currency,
    options: &SqliteOptions,
    version: u32,
) -> Result<Connection, OpenError> {
    let mut file = std::fs::OpenOptions::new();
    file.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        file.mode(0o600);
    }
    match file.open(path) {
        Ok(f) => drop(f),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            return Err(OpenError::AlreadyExists {
                path: path.to_owned(),
            });
        }
        Err(e) => return Err(OpenError::Io(e)),
    }
    let made = (|| {
        let mut conn =
            Connection::open_with_flags(as_file_name(path), flags()).map_err(open_err)?;
        configure(&conn, options, true)?;
        schema::migrate(&mut conn, version, Some(currency.as_str()))?;
        Ok(conn)
    })();
    let made = made.map_err(|e: OpenError| e.after_waiting(options.busy_timeout));
    if made.is_err() {
        // The file is ours (created above), so it is safe to remove.
        for p in [
            sidecar(path, "-wal"),
            sidecar(path, "-shm"),
            path.to_owned(),
        ] {
            let _ = std::fs::remove_file(p);
        }
    }
    made
}

/// Creates a database file whose schema stops at the older `version`, for migration
/// tests and their fixtures. Not part of the stable API.
///
/// # Errors
///
/// As [`SqliteStore::create`], and [`OpenError::Corrupt`] for a version this build
/// does not have.
#[doc(hidden)]
pub fn create_at_schema_version(
    path: impl AsRef<Path>,
    currency: Currency,
    version: u32,
) -> Result<(), OpenError> {
    if !(1..=SCHEMA_VERSION).contains(&version) {
        return Err(OpenError::corrupt(format!("no schema version {version}")));
    }
    create_file(path.as_ref(), currency, &SqliteOptions::default(), version).map(drop)
}

/// `PRAGMA wal_checkpoint(TRUNCATE)`, tried again until it finishes or `patience` has
/// passed; true if it finished. SQLite's busy handler waits for readers within one try;
/// trying again covers what it does not wait for (another connection's checkpoint).
/// The connection's busy timeout is `timeout` again afterwards.
fn checkpoint(conn: &Connection, patience: Duration, timeout: Duration) -> StoreResult<bool> {
    // Each attempt waits for nobody (busy timeout 0) and the loop retries: a TRUNCATE
    // checkpoint that waited inside SQLite would hold the write lock all the while,
    // so another connection's writers could not get a word in until it gave up.
    let deadline = Instant::now() + patience;
    let outcome = conn.busy_timeout(Duration::ZERO).and_then(|()| {
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let tried = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| {
                r.get::<_, i64>(0)
            });
            match tried {
                // 0: the whole log is in the file and the log is truncated (also for a
                // database without a log).
                Ok(0) => break Ok(true),
                Ok(_) => {}
                Err(e) if error::is_busy(&e) => {}
                Err(e) => break Err(e),
            }
            if left.is_zero() {
                break Ok(false);
            }
            std::thread::sleep(left.min(Duration::from_millis(10)));
        }
    });
    let restored = conn.busy_timeout(timeout);
    let done = outcome.map_err(|e| Fail::from(e).into_store(patience))?;
    restored.map_err(|e| Fail::from(e).into_store(timeout))?;
    Ok(done)
}

/// True if `id` has the form of a book id: 16 lowercase hex digits.
pub fn is_book_id(id: &str) -> bool {
    id.len() == 16 && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}
