//! Errors: [`OpenError`] for creating and opening a database, and the internal
//! plumbing that turns driver errors and corrupt rows into [`StoreError`]s.

use std::error::Error as StdError;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use solocrm_core::{StoreError, ValidationError};

/// Why a database could not be created or opened.
#[derive(Debug)]
#[non_exhaustive]
pub enum OpenError {
    /// [`SqliteStore::create`](crate::SqliteStore::create) found a file at the path.
    AlreadyExists {
        /// The path.
        path: PathBuf,
    },
    /// [`SqliteStore::open`](crate::SqliteStore::open) found no file at the path.
    NotFound {
        /// The path.
        path: PathBuf,
    },
    /// The file is not a solocrm database (another application's SQLite file, or an
    /// empty file).
    NotSolocrm,
    /// The file holds solocrm's tables but not the two header fields that identify a
    /// solocrm database: a copy restored from an SQL text dump (`sqlite3 .dump`), which
    /// does not carry them. Nothing was changed.
    HeaderLost,
    /// The file was written by a newer solocrm with a schema this build does not know.
    NewerSchema {
        /// The file's schema version.
        found: u32,
        /// The newest schema version this build reads.
        supported: u32,
    },
    /// The file claims to be a solocrm database but its contents are inconsistent.
    Corrupt {
        /// What is wrong.
        reason: String,
    },
    /// A migration found data it cannot carry to the new schema (say two customers
    /// whose emails become one once Unicode spellings are unified). It was rolled
    /// back: the file stays at its old version, unchanged.
    Migration {
        /// The schema version the migration would have reached.
        version: u32,
        /// What is in the way and what to do about it.
        reason: String,
    },
    /// The file system refused (permissions, a missing directory).
    Io(std::io::Error),
    /// Another program held the database's write lock (a long import, say) for longer
    /// than the busy timeout while the file needed a change to open (a migration).
    /// Nothing was changed; opening again once the other program finishes succeeds.
    Busy {
        /// How long opening waited for the lock.
        waited: Duration,
    },
    /// SQLite failed.
    Database(Box<dyn StdError + Send + Sync>),
}

impl OpenError {
    /// A driver error; "file is not a database" means the file is not ours. A busy
    /// database is [`OpenError::Busy`]; the time waited is filled in by
    /// [`OpenError::after_waiting`] where the busy timeout is known.
    pub(crate) fn db(e: rusqlite::Error) -> Self {
        if e.sqlite_error_code() == Some(rusqlite::ErrorCode::NotADatabase) {
            OpenError::NotSolocrm
        } else if is_busy(&e) {
            OpenError::Busy {
                waited: Duration::ZERO,
            }
        } else {
            OpenError::Database(Box::new(Driver(e)))
        }
    }

    /// Records the busy timeout in an [`OpenError::Busy`].
    pub(crate) fn after_waiting(self, timeout: Duration) -> Self {
        match self {
            OpenError::Busy { .. } => OpenError::Busy { waited: timeout },
            other => other,
        }
    }

    pub(crate) fn corrupt(reason: String) -> Self {
        OpenError::Corrupt { reason }
    }
}

impl fmt::Display for OpenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OpenError::AlreadyExists { path } => write!(
                f,
                "{} already exists; open it instead of creating it",
                path.display()
            ),
            OpenError::NotFound { path } => write!(
                f,
                "{} does not exist; create a new database first",
                path.display()
            ),
            OpenError::NotSolocrm => f.write_str("the file is not a solocrm database"),
            OpenError::HeaderLost => write!(
                f,
                "the file holds solocrm's tables but not the header that marks a solocrm \
                 database, as a copy restored from an SQL dump (`sqlite3 .dump`) does; to adopt \
                 it, run `sqlite3 FILE 'PRAGMA application_id = {}; PRAGMA user_version = V'` \
                 with V the schema version of the solocrm that wrote the dump (this one writes \
                 {}), then `solocrm check`; copy databases with `sqlite3 SRC '.backup DST'` or \
                 `VACUUM INTO`, which keep the header",
                crate::schema::APPLICATION_ID,
                crate::SCHEMA_VERSION
            ),
            OpenError::NewerSchema { found, supported } => write!(
                f,
                "the database has schema version {found}, newer than the newest this \
                 version of solocrm supports ({supported}); upgrade solocrm to open it"
            ),
            OpenError::Corrupt { reason } => write!(f, "the database is corrupt: {reason}"),
            OpenError::Migration { version, reason } => write!(
                f,
                "cannot bring the database to schema version {version}, so it stays as it \
                 was: {reason}"
            ),
            OpenError::Io(e) => write!(f, "cannot access the database file: {e}"),
            OpenError::Busy { waited } => fmt::Display::fmt(&StoreError::busy(*waited), f),
            OpenError::Database(e) => write!(f, "sqlite failed: {e}"),
        }
    }
}

impl StdError for OpenError {
    /// The causes of the error this one shows in its message (not that error itself,
    /// so that a printed chain does not repeat it).
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        match self {
            OpenError::Io(e) => e.source(),
            OpenError::Database(e) => e.source(),
            _ => None,
        }
    }
}

impl From<OpenError> for StoreError {
    fn from(e: OpenError) -> Self {
        match e {
            OpenError::Busy { waited } => StoreError::busy(waited),
            other => StoreError::backend(other),
        }
    }
}

/// True if SQLite gave up waiting for a lock another connection holds
/// (`SQLITE_BUSY`, `SQLITE_LOCKED`).
pub(crate) fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    )
}

/// A driver error, shown once: its message, without the driver's own cause (the
/// result code, whose text repeats the message).
#[derive(Debug)]
pub(crate) struct Driver(pub(crate) rusqlite::Error);

impl fmt::Display for Driver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl StdError for Driver {}

/// A stored value that does not decode into its domain type: the file was changed
/// outside solocrm, or is damaged. Reported as [`StoreError::Backend`].
#[derive(Debug)]
pub(crate) struct Corrupt(pub(crate) String);

impl fmt::Display for Corrupt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "corrupt data in the database: {}", self.0)
    }
}

impl StdError for Corrupt {}

/// The error of the store's internals: a store error to pass on, a driver error, or
/// corrupt data. `?` converts every source; the trait methods turn it into a
/// [`StoreError`] at the boundary.
#[derive(Debug)]
pub(crate) enum Fail {
    Store(StoreError),
    Db(rusqlite::Error),
    Corrupt(Corrupt),
}

pub(crate) type Res<T> = Result<T, Fail>;

impl Fail {
    /// The store error at the API boundary; a busy database says it waited `waited`
    /// (the connection's busy timeout).
    pub(crate) fn into_store(self, waited: Duration) -> StoreError {
        match self {
            Fail::Store(e) => e,
            Fail::Db(e) if is_busy(&e) => StoreError::busy(waited),
            Fail::Db(e) if is_total_overflow(&e) => {
                StoreError::Validation(ValidationError::PurchaseTotalOutOfRange { max: i64::MAX })
            }
            Fail::Db(e) => StoreError::backend(Driver(e)),
            Fail::Corrupt(c) => StoreError::backend(c),
        }
    }
}

impl From<rusqlite::Error> for Fail {
    fn from(e: rusqlite::Error) -> Self {
        Fail::Db(e)
    }
}

impl From<Corrupt> for Fail {
    fn from(e: Corrupt) -> Self {
        Fail::Corrupt(e)
    }
}

impl From<StoreError> for Fail {
    fn from(e: StoreError) -> Self {
        Fail::Store(e)
    }
}

/// True if `e` is a violation of a `UNIQUE` constraint.
pub(crate) fn is_unique_violation(e: &rusqlite::Error) -> bool {
    e.sqlite_extended_error_code() == Some(rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE)
}

/// True if `e` is a sum past the 64-bit range: SQLite's `sum()` fails with "integer
/// overflow" (the recounts of `purchase_totals` and its refill after a bulk import,
/// ADR 0046), and `+` turns the integer into a real that the `STRICT` integer column
/// `purchase_totals.amount` refuses (the insert trigger). The purchase totals are the
/// only sums of a write that can get there.
pub(crate) fn is_total_overflow(e: &rusqlite::Error) -> bool {
    match e {
        rusqlite::Error::SqliteFailure(_, Some(message)) => {
            message == "integer overflow" || message.contains("purchase_totals.amount")
        }
        _ => false,
    }
}
