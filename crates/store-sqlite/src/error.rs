//! Errors: [`OpenError`] for creating and opening a database, and the internal
//! plumbing that turns driver errors and corrupt rows into [`StoreError`]s.

use std::error::Error as StdError;
use std::fmt;
use std::path::PathBuf;

use solocrm_core::lifecycle::TransitionError;
use solocrm_core::{Conflict, DomainError, StoreError, ValidationError};

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
    /// The file system refused (permissions, a missing directory).
    Io(std::io::Error),
    /// SQLite failed.
    Database(Box<dyn StdError + Send + Sync>),
}

impl OpenError {
    /// A driver error; "file is not a database" means the file is not ours.
    pub(crate) fn db(e: rusqlite::Error) -> Self {
        if e.sqlite_error_code() == Some(rusqlite::ErrorCode::NotADatabase) {
            OpenError::NotSolocrm
        } else {
            OpenError::Database(Box::new(e))
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
            OpenError::NewerSchema { found, supported } => write!(
                f,
                "the database has schema version {found}, newer than the newest this \
                 version of solocrm supports ({supported}); upgrade solocrm to open it"
            ),
            OpenError::Corrupt { reason } => write!(f, "the database is corrupt: {reason}"),
            OpenError::Io(e) => write!(f, "cannot access the database file: {e}"),
            OpenError::Database(e) => write!(f, "sqlite failed: {e}"),
        }
    }
}

impl StdError for OpenError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        match self {
            OpenError::Io(e) => Some(e),
            OpenError::Database(e) => Some(e.as_ref()),
            _ => None,
        }
    }
}

impl From<OpenError> for StoreError {
    fn from(e: OpenError) -> Self {
        StoreError::backend(e)
    }
}

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

impl From<Fail> for StoreError {
    fn from(f: Fail) -> Self {
        match f {
            Fail::Store(e) => e,
            Fail::Db(e) => StoreError::backend(e),
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

impl From<ValidationError> for Fail {
    fn from(e: ValidationError) -> Self {
        Fail::Store(e.into())
    }
}

impl From<Conflict> for Fail {
    fn from(e: Conflict) -> Self {
        Fail::Store(e.into())
    }
}

impl From<TransitionError> for Fail {
    fn from(e: TransitionError) -> Self {
        Fail::Store(e.into())
    }
}

impl From<DomainError> for Fail {
    fn from(e: DomainError) -> Self {
        Fail::Store(e.into())
    }
}

/// True if `e` is a violation of a `UNIQUE` constraint.
pub(crate) fn is_unique_violation(e: &rusqlite::Error) -> bool {
    e.sqlite_extended_error_code() == Some(rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE)
}
