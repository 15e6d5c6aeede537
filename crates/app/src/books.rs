//! An open book: [`Books`].

use std::ops::Deref;
use std::sync::Arc;
use std::time::Duration;

use solocrm_core::{
    BusinessZone, Crm, Currency, Customer, CustomerId, LifecyclePolicy, StoreError, StoreResult,
};
use solocrm_store_memory::MemoryStore;
use solocrm_store_postgres::{PgOptions, PgStore};
use solocrm_store_sqlite::{SqliteOptions, SqliteStore};

use crate::location::Location;
use crate::settings::ZoneChange;

/// How to open a book.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OpenOptions {
    sqlite: SqliteOptions,
    postgres: PgOptions,
}

impl OpenOptions {
    /// The defaults (a 10 s wait for another writer).
    pub fn new() -> Self {
        OpenOptions::default()
    }

    /// How long a write waits for another program's write before it fails with
    /// [`StoreError::Busy`](solocrm_core::StoreError::Busy). Reads never wait.
    #[must_use]
    pub fn busy_timeout(mut self, timeout: Duration) -> Self {
        self.sqlite = self.sqlite.busy_timeout(timeout);
        self.postgres = self.postgres.clone().busy_timeout(timeout);
        self
    }

    /// The options of a PostgreSQL database.
    pub fn postgres(&self) -> &PgOptions {
        &self.postgres
    }

    /// The options of an SQLite file.
    pub fn sqlite(&self) -> &SqliteOptions {
        &self.sqlite
    }
}

/// Why a book cannot be opened or created.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OpenError {
    /// The SQLite file cannot be opened or created (missing, not a solocrm file, a
    /// newer schema, busy …); the message says which.
    #[error(transparent)]
    Sqlite(#[from] solocrm_store_sqlite::OpenError),
    /// The PostgreSQL books cannot be opened or created (a bad URL, no server, no such
    /// tenant, a newer schema …); the message says which.
    #[error(transparent)]
    Postgres(#[from] solocrm_store_postgres::OpenError),
    /// An in-memory book exists only from its creation on; there is none to open.
    #[error("an in-memory book cannot be opened, only created")]
    NothingToOpen,
}

/// The backend underneath, for what only it has.
#[derive(Debug, Clone)]
enum Backend {
    /// An in-memory book, with the book id it was given at creation (or took from an
    /// archive, [`Books::adopt_book_id`]).
    Memory(Arc<std::sync::Mutex<String>>),
    Sqlite(Arc<SqliteStore>),
    Postgres(Arc<PgStore>),
}

/// An open book: the operations ([`Crm`], through `Deref`) over its store, and the
/// store itself for what only it has.
///
/// Its lifecycle moves by itself: purchases and survey answers move customers as the
/// default [`LifecyclePolicy`] says (see [`Crm::with_lifecycle`]).
///
/// Cheap to clone; `Send + Sync`.
#[derive(Debug, Clone)]
pub struct Books {
    crm: Crm,
    backend: Backend,
    location: Location,
}

impl Books {
    /// Opens the book at `location`, migrating an older SQLite file forward.
    ///
    /// # Errors
    ///
    /// [`OpenError::Sqlite`] as [`SqliteStore::open_with`] reports it;
    /// [`OpenError::NothingToOpen`] for `memory:`.
    pub fn open(location: &Location, options: &OpenOptions) -> Result<Books, OpenError> {
        match location {
            Location::Memory => Err(OpenError::NothingToOpen),
            Location::Path(path) => {
                let store = SqliteStore::open_with(path, options.sqlite())?;
                Ok(Books::from_sqlite(store, location.clone()))
            }
            Location::Postgres(url) => {
                let (config, tenant) = solocrm_store_postgres::config_of(url)?;
                let store = PgStore::open_with(config, tenant, options.postgres())?;
                Ok(Books::from_postgres(store, location.clone()))
            }
        }
    }

    /// Creates an empty book at `location` keeping its books in `currency`.
    ///
    /// # Errors
    ///
    /// [`OpenError::Sqlite`] as [`SqliteStore::create_with`] reports it (a file is
    /// already there, say).
    pub fn create(
        location: &Location,
        currency: Currency,
        options: &OpenOptions,
    ) -> Result<Books, OpenError> {
        match location {
            Location::Memory => Ok(Books {
                crm: Crm::new(MemoryStore::new(currency))
                    .with_lifecycle(Some(LifecyclePolicy::default())),
                backend: Backend::Memory(Arc::new(std::sync::Mutex::new(random_book_id()))),
                location: Location::Memory,
            }),
            Location::Path(path) => {
                let store = SqliteStore::create_with(path, currency, options.sqlite())?;
                Ok(Books::from_sqlite(store, location.clone()))
            }
            Location::Postgres(url) => {
                let (config, tenant) = solocrm_store_postgres::config_of(url)?;
                let store = PgStore::create_with(config, tenant, currency, options.postgres())?;
                Ok(Books::from_postgres(store, location.clone()))
            }
        }
    }

    /// The book of an SQLite store opened by other means.
    pub fn from_sqlite(store: SqliteStore, location: Location) -> Books {
        let file = Arc::new(store);
        Books {
            crm: Crm::from_shared(file.clone()).with_lifecycle(Some(LifecyclePolicy::default())),
            backend: Backend::Sqlite(file),
            location,
        }
    }

    /// The books of a PostgreSQL store opened by other means.
    pub fn from_postgres(store: PgStore, location: Location) -> Books {
        let db = Arc::new(store);
        Books {
            crm: Crm::from_shared(db.clone()).with_lifecycle(Some(LifecyclePolicy::default())),
            backend: Backend::Postgres(db),
            location,
        }
    }

    /// Where the book is.
    pub fn location(&self) -> &Location {
        &self.location
    }

    /// The operations over the book (also reachable through `Deref`).
    pub fn crm(&self) -> &Crm {
        &self.crm
    }

    /// The SQLite file, for a book kept in one.
    pub fn sqlite(&self) -> Option<&SqliteStore> {
        match &self.backend {
            Backend::Sqlite(s) => Some(s),
            Backend::Memory(_) | Backend::Postgres(_) => None,
        }
    }

    /// The PostgreSQL store, for a book kept in one.
    pub fn postgres(&self) -> Option<&PgStore> {
        match &self.backend {
            Backend::Postgres(s) => Some(s),
            Backend::Memory(_) | Backend::Sqlite(_) => None,
        }
    }

    /// The book id: sixteen hex digits that tell this book from every other, so that
    /// a key `#N@BOOK` written by an export names customer N of this book only
    /// ([`CustomerKey`](crate::CustomerKey)). An SQLite file keeps it; an in-memory
    /// book gets a random one when created.
    ///
    /// # Errors
    ///
    /// A [`StoreError`] if the file cannot be read or records no valid id.
    pub fn book_id(&self) -> StoreResult<String> {
        match &self.backend {
            Backend::Sqlite(s) => s.book_id(),
            Backend::Postgres(s) => s.book_id(),
            Backend::Memory(id) => Ok(id
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .clone()),
        }
    }

    /// Makes `id` the book id: what restoring an archive into a new book does, so that
    /// the restored book is the same book (keys `#N@BOOK` of its older exports name its
    /// customers). Every clone of this `Books` sees the new id.
    ///
    /// # Errors
    ///
    /// [`StoreError::Backend`] if `id` is not 16 lowercase hex digits, or the
    /// backend's.
    pub fn adopt_book_id(&self, id: &str) -> StoreResult<()> {
        match &self.backend {
            Backend::Sqlite(s) => s.adopt_book_id(id),
            Backend::Postgres(s) => s.adopt_book_id(id),
            Backend::Memory(m) => {
                if !solocrm_store_sqlite::is_book_id(id) {
                    return Err(StoreError::backend(std::io::Error::other(format!(
                        "'{id}' is not a book id (16 lowercase hex digits)"
                    ))));
                }
                *m.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = id.to_owned();
                Ok(())
            }
        }
    }

    /// The business time zone the book counts its days in (UTC for a book created
    /// before zones existed).
    ///
    /// # Errors
    ///
    /// The backend's.
    pub fn time_zone(&self) -> StoreResult<BusinessZone> {
        self.crm.read(|r| r.time_zone())
    }

    /// Sets the business time zone. Stored instants stay as they are; from now on
    /// every day is counted in `zone`. Returns the change ([`ZoneChange`]).
    ///
    /// # Errors
    ///
    /// The backend's.
    pub fn set_time_zone(&self, zone: BusinessZone) -> StoreResult<ZoneChange> {
        self.crm.write(|w| {
            let from = w.reader().time_zone()?;
            w.set_time_zone(zone)?;
            Ok(ZoneChange { from, to: zone })
        })
    }

    /// Sets how long earned points stay valid (`None`: they never expire). Returns the
    /// change ([`ValidityChange`](crate::settings::ValidityChange)).
    ///
    /// # Errors
    ///
    /// The backend's.
    pub fn set_points_validity(
        &self,
        validity: Option<solocrm_core::PointsExpiry>,
    ) -> StoreResult<crate::settings::ValidityChange> {
        self.crm.write(|w| {
            let from = w.reader().points_expiry()?;
            w.set_points_expiry(validity)?;
            Ok(crate::settings::ValidityChange { from, to: validity })
        })
    }

    /// Sets the business time zone and the points validity together, in one
    /// transaction (either or both; `None` leaves that setting as it is): both are
    /// stored or neither. Returns each change made.
    ///
    /// # Errors
    ///
    /// The backend's.
    pub fn set_settings(
        &self,
        zone: Option<BusinessZone>,
        validity: Option<Option<solocrm_core::PointsExpiry>>,
    ) -> StoreResult<(Option<ZoneChange>, Option<crate::settings::ValidityChange>)> {
        self.crm.write(|w| {
            let zone = match zone {
                Some(to) => {
                    let from = w.reader().time_zone()?;
                    w.set_time_zone(to)?;
                    Some(ZoneChange { from, to })
                }
                None => None,
            };
            let points = match validity {
                Some(to) => {
                    let from = w.reader().points_expiry()?;
                    w.set_points_expiry(to)?;
                    Some(crate::settings::ValidityChange { from, to })
                }
                None => None,
            };
            Ok((zone, points))
        })
    }

    /// The customer with id `id`, `None` if there is none.
    ///
    /// # Errors
    ///
    /// A [`StoreError`] other than "not found".
    pub fn customer_by_id(&self, id: CustomerId) -> StoreResult<Option<Customer>> {
        match self.crm.read(|r| r.customer(id)) {
            Ok(c) => Ok(Some(c)),
            Err(StoreError::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// Sixteen random hex digits, from the standard library's randomly seeded hasher
/// (the id needs to be unlikely to repeat, not secret).
fn random_book_id() -> String {
    use std::hash::{BuildHasher as _, Hasher as _};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(0);
    format!("{:016x}", h.finish())
}

impl Deref for Books {
    type Target = Crm;

    fn deref(&self) -> &Crm {
        &self.crm
    }
}
