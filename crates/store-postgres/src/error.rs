//! The store's errors: opening a book ([`OpenError`]) and the internal failure of one
//! statement ([`Fail`]), turned into the port's [`StoreError`] at the edge.

use std::fmt;
use std::time::Duration;

use postgres::error::SqlState;
use solocrm_core::StoreError;

/// Why a PostgreSQL book could not be opened or created.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The location is not a usable `postgres://` URL (or its `tenant` is not a
    /// positive whole number).
    #[error("not a PostgreSQL location: {0}")]
    BadUrl(String),
    /// No connection to the server could be made.
    #[error("cannot connect to PostgreSQL: {0}")]
    Connect(String),
    /// The database holds a solocrm schema newer than this build reads; it was left
    /// untouched.
    #[error(
        "the database's solocrm schema is version {found}, newer than this build's {supported}: \
         upgrade solocrm"
    )]
    NewerSchema {
        /// The version found in the database.
        found: i32,
        /// The newest version this build knows.
        supported: i32,
    },
    /// The database has no book of this tenant (open), or already has one (create).
    #[error("{0}")]
    Tenant(String),
    /// The server refused a statement while opening (a migration, a look-up).
    #[error("PostgreSQL: {}", describe(.0))]
    Db(#[source] postgres::Error),
    /// The stored tenant row does not decode.
    #[error("corrupt data in the database: {0}")]
    Corrupt(String),
}

/// A row that does not decode: the table and column, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Corrupt(pub(crate) String);

impl fmt::Display for Corrupt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "corrupt data in the database: {}", self.0)
    }
}

impl std::error::Error for Corrupt {}

/// A driver error with its server message (`postgres::Error`'s own display says only
/// "db error").
#[derive(Debug)]
pub(crate) struct Driver(pub(crate) postgres::Error);

/// The server's message and code of `e`, or the client's error, without a prefix.
fn describe(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{} ({})", db.message(), db.code().code()),
        None => e.to_string(),
    }
}

impl Driver {
    /// The server's message and code, or the client's error, without a prefix.
    pub(crate) fn message(&self) -> String {
        describe(&self.0)
    }
}

impl fmt::Display for Driver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PostgreSQL: {}", self.message())
    }
}

impl std::error::Error for Driver {}

/// The failure of one primitive.
#[derive(Debug)]
pub(crate) enum Fail {
    /// The driver or server failed.
    Db(postgres::Error),
    /// A stored row does not decode.
    Corrupt(Corrupt),
    /// Already a port error.
    Store(StoreError),
}

/// The result of one primitive.
pub(crate) type Res<T> = Result<T, Fail>;

impl From<postgres::Error> for Fail {
    fn from(e: postgres::Error) -> Self {
        Fail::Db(e)
    }
}

impl From<Corrupt> for Fail {
    fn from(e: Corrupt) -> Self {
        Fail::Corrupt(e)
    }
}

/// True if `e` is a failure PostgreSQL asks the client to retry: a serialization
/// failure (40001) or a deadlock (40P01).
pub(crate) fn retryable(e: &postgres::Error) -> bool {
    matches!(
        e.code(),
        Some(c) if *c == SqlState::T_R_SERIALIZATION_FAILURE || *c == SqlState::T_R_DEADLOCK_DETECTED
    )
}

impl Fail {
    /// True if the transaction may succeed when run again.
    pub(crate) fn is_retryable(&self) -> bool {
        matches!(self, Fail::Db(e) if retryable(e))
    }

    /// The port's error: a retryable failure is [`StoreError::Busy`] (the caller of
    /// the whole write may try again), anything else [`StoreError::Backend`].
    pub(crate) fn into_store(self) -> StoreError {
        match self {
            Fail::Db(e) if retryable(&e) => StoreError::busy(Duration::ZERO),
            Fail::Db(e) => StoreError::backend(Driver(e)),
            Fail::Corrupt(c) => StoreError::backend(c),
            Fail::Store(e) => e,
        }
    }
}

/// A [`Fail`] for a row that does not decode.
pub(crate) fn corrupt(what: impl Into<String>) -> Fail {
    Fail::Corrupt(Corrupt(what.into()))
}

/// A [`Fail`] for a backend error that is not the driver's.
pub(crate) fn backend(e: impl std::error::Error + Send + Sync + 'static) -> Fail {
    Fail::Store(StoreError::backend(e))
}
