//! solocrm's PostgreSQL store: the books of one business (a *tenant*) in a
//! PostgreSQL (≥ 14) database that may hold the books of many.
//!
//! [`PgStore`] implements the transactional port of [`solocrm_core::port`]; the
//! operations layer ([`Crm`](solocrm_core::Crm)) runs every business rule over it, so
//! the store holds none of its own. One handle is one tenant: every statement binds
//! the tenant id and names it in its `WHERE`, and every table leads its primary key,
//! unique constraints and foreign keys with `tenant_id`, so the schema can be
//! distributed by Citus on that column unchanged (see `docs/storage.md` and ADR 0014).
//!
//! ```no_run
//! use solocrm_core::{Crm, Currency};
//! use solocrm_store_postgres::PgStore;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // A new book for tenant 7 (the schema is created or migrated as needed).
//! let store = PgStore::create("postgres://solocrm@db.example/crm?tenant=7", Currency::EUR)?;
//! let crm = Crm::new(store);
//! // Later, the same book.
//! let store = PgStore::open("postgres://solocrm@db.example/crm?tenant=7")?;
//! # Ok(()) }
//! ```
//!
//! # Transactions
//!
//! - A read is one `REPEATABLE READ READ ONLY` transaction: one snapshot, and it never
//!   waits for a writer.
//! - A write is one `READ COMMITTED` transaction that first locks the tenant's row
//!   (`SELECT … FOR UPDATE`), so the writes of one tenant run one at a time (and those
//!   of different tenants side by side); each statement after the lock sees every
//!   write committed before it. A write that waits for the lock longer than the busy
//!   timeout fails with [`StoreError::Busy`].
//! - A serialization failure (40001) or deadlock (40P01), which PostgreSQL-compatible
//!   clusters (Citus, CockroachDB, YugabyteDB) report where plain PostgreSQL would
//!   wait, rolls the transaction back and runs the closure again, up to
//!   [`PgOptions::retries`] times; when they run out, the write fails with
//!   [`StoreError::Busy`], which says a retry may
//!   succeed.
//!
//! # Threads
//!
//! The `postgres` client is synchronous (it runs a private runtime inside). Use the
//! store from plain threads or `spawn_blocking`, never from an async task, and do not
//! drop the last handle inside an async runtime.

mod campaigns;
mod codec;
mod error;
mod holidays;
mod needs;
mod offers;
mod pool;
mod products;
mod questionnaire;
mod records;
mod rules;
mod schema;
mod targets;
mod tx;

use std::str::FromStr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use postgres::error::SqlState;
use solocrm_core::port::{ReadTx, Storage, WriteKind, WriteTx};
use solocrm_core::{Currency, StoreError, StoreResult};

pub use error::OpenError;
pub use schema::SCHEMA_VERSION;

use pool::{Conn, Manager};
use tx::Tx;

/// The tables an erasure rewrites or deletes from: the customer's own rows and every
/// record that holds text about a customer.
const VACUUM_AFTER_ERASE: &str = "VACUUM (INDEX_CLEANUP ON) customers, customer_tags, consents, \
     stage_changes, interactions, purchases, refunds, surveys, service_requests, \
     request_events, deals, deal_moves, deal_notes, tasks, points_entries";

/// The id of one tenant (one business's books) in a database: a positive number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TenantId(i64);

impl TenantId {
    /// The tenant of a single-business database, and of a URL without `tenant=`.
    pub const DEFAULT: TenantId = TenantId(1);

    /// `id` as a tenant id.
    ///
    /// # Errors
    ///
    /// [`OpenError::BadUrl`] if `id` is not positive.
    pub fn new(id: i64) -> Result<TenantId, OpenError> {
        if id >= 1 {
            Ok(TenantId(id))
        } else {
            Err(OpenError::BadUrl(format!(
                "the tenant must be a positive whole number, not {id}"
            )))
        }
    }

    /// The number.
    pub fn get(self) -> i64 {
        self.0
    }
}

impl std::fmt::Display for TenantId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// How a [`PgStore`] connects and retries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PgOptions {
    pool_size: u32,
    retries: u32,
    busy_timeout: Duration,
    bulk_from: u64,
    vacuum_after_erase: bool,
}

impl Default for PgOptions {
    fn default() -> Self {
        PgOptions {
            pool_size: 8,
            retries: 5,
            busy_timeout: Duration::from_secs(10),
            bulk_from: 256,
            vacuum_after_erase: true,
        }
    }
}

impl PgOptions {
    /// The defaults: 8 pooled connections, 5 retries, a 10 s busy timeout.
    pub fn new() -> Self {
        PgOptions::default()
    }

    /// At most this many connections at once (at least 1).
    pub fn pool_size(mut self, n: u32) -> Self {
        self.pool_size = n.max(1);
        self
    }

    /// How many times a write (or read) that failed with 40001 or 40P01 is run again
    /// before [`StoreError::Busy`] is reported.
    pub fn retries(mut self, n: u32) -> Self {
        self.retries = n;
        self
    }

    /// How long a write waits for the tenant's lock (another writer of the same
    /// tenant), and a call for a free connection, before [`StoreError::Busy`].
    pub fn busy_timeout(mut self, t: Duration) -> Self {
        self.busy_timeout = t;
        self
    }

    /// From how many purchases announced by a write (an import, a batch) they are
    /// sent with binary `COPY` in batches rather than one `INSERT` each (default 256;
    /// 0 or 1 for every announced load, as tests do).
    pub fn bulk_from(mut self, rows: u64) -> Self {
        self.bulk_from = rows;
        self
    }

    /// Whether an erasure, once committed, runs [`PgStore::vacuum_books`] (default
    /// true), so that no old version of the erased rows stays in the tables. A host
    /// that vacuums on its own schedule (the tables are shared by every tenant, and
    /// `VACUUM` reads all their indexes) may turn it off.
    pub fn vacuum_after_erase(mut self, on: bool) -> Self {
        self.vacuum_after_erase = on;
        self
    }

    /// From how many announced purchases a write uses `COPY`.
    pub fn bulk_from_rows(&self) -> u64 {
        self.bulk_from
    }

    /// The number of retries.
    pub fn retries_allowed(&self) -> u32 {
        self.retries
    }
}

/// Splits `url` into the connection URL without the `tenant` parameter and the tenant
/// it names ([`TenantId::DEFAULT`] if none).
///
/// # Errors
///
/// [`OpenError::BadUrl`] if the URL is not `postgres://` or `postgresql://`, or its
/// tenant is not a positive whole number or is given twice.
pub fn split_tenant(url: &str) -> Result<(String, TenantId), OpenError> {
    if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
        return Err(OpenError::BadUrl(format!(
            "'{url}' does not start with postgres:// or postgresql://"
        )));
    }
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let mut tenant = None;
    let mut rest = Vec::new();
    for pair in query.into_iter().flat_map(|q| q.split('&')) {
        match pair.split_once('=') {
            Some(("tenant", v)) => {
                if tenant.is_some() {
                    return Err(OpenError::BadUrl(
                        "the URL names the tenant twice".to_owned(),
                    ));
                }
                let n = v.parse::<i64>().map_err(|_| {
                    OpenError::BadUrl(format!(
                        "the tenant must be a positive whole number, not '{v}'"
                    ))
                })?;
                tenant = Some(TenantId::new(n)?);
            }
            _ if pair.is_empty() => {}
            _ => rest.push(pair),
        }
    }
    let url = if rest.is_empty() {
        base.to_owned()
    } else {
        format!("{base}?{}", rest.join("&"))
    };
    Ok((url, tenant.unwrap_or(TenantId::DEFAULT)))
}

/// The connection configuration of `url` (its `tenant` parameter taken out, a 10 s
/// connect timeout unless the URL sets one) and the tenant it names.
///
/// # Errors
///
/// [`OpenError::BadUrl`] as [`split_tenant`] says, or for a URL the client cannot read.
pub fn config_of(url: &str) -> Result<(postgres::Config, TenantId), OpenError> {
    let (url, tenant) = split_tenant(url)?;
    let mut config =
        postgres::Config::from_str(&url).map_err(|e| OpenError::BadUrl(e.to_string()))?;
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(Duration::from_secs(10));
    }
    Ok((config, tenant))
}

/// One tenant's books in a PostgreSQL database. `Send + Sync`; share it with `Arc`.
pub struct PgStore {
    pool: r2d2::Pool<Manager>,
    tenant: TenantId,
    currency: Currency,
    options: PgOptions,
    /// Set once a committed write saw the tenant's partition of `purchases` attached
    /// (schema v5), so that later writes do not look it up.
    partition_attached: AtomicBool,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore")
            .field("tenant", &self.tenant)
            .field("currency", &self.currency)
            .finish_non_exhaustive()
    }
}

impl PgStore {
    /// Opens the books of the tenant `url` names (`?tenant=N`, 1 if absent); the
    /// schema is migrated first if it is older than this build's.
    ///
    /// # Errors
    ///
    /// [`OpenError`]: a bad URL, no server, a newer schema, or no such tenant.
    pub fn open(url: &str) -> Result<PgStore, OpenError> {
        let (config, tenant) = config_of(url)?;
        PgStore::open_with(config, tenant, &PgOptions::default())
    }

    /// Creates new books for the tenant `url` names, kept in `currency`; creates the
    /// schema if the database has none.
    ///
    /// # Errors
    ///
    /// [`OpenError`]: as [`open`](PgStore::open), or [`OpenError::Tenant`] if the
    /// tenant has books already.
    pub fn create(url: &str, currency: Currency) -> Result<PgStore, OpenError> {
        let (config, tenant) = config_of(url)?;
        PgStore::create_with(config, tenant, currency, &PgOptions::default())
    }

    /// Opens the tenant's books, or creates them in `currency` if it has none.
    ///
    /// # Errors
    ///
    /// As [`open`](PgStore::open).
    pub fn open_or_create(url: &str, currency: Currency) -> Result<PgStore, OpenError> {
        let (config, tenant) = config_of(url)?;
        PgStore::start(
            config,
            tenant,
            Some((currency, true)),
            &PgOptions::default(),
        )
    }

    /// [`open`](PgStore::open) with a connection configuration and options.
    ///
    /// # Errors
    ///
    /// As [`open`](PgStore::open).
    pub fn open_with(
        config: postgres::Config,
        tenant: TenantId,
        options: &PgOptions,
    ) -> Result<PgStore, OpenError> {
        PgStore::start(config, tenant, None, options)
    }

    /// [`create`](PgStore::create) with a connection configuration and options.
    ///
    /// # Errors
    ///
    /// As [`create`](PgStore::create).
    pub fn create_with(
        config: postgres::Config,
        tenant: TenantId,
        currency: Currency,
        options: &PgOptions,
    ) -> Result<PgStore, OpenError> {
        PgStore::start(config, tenant, Some((currency, false)), options)
    }

    /// Connects, migrates, then finds (or with `create`, inserts) the tenant's row.
    /// `create` is the currency and whether books already there are fine.
    fn start(
        config: postgres::Config,
        tenant: TenantId,
        create: Option<(Currency, bool)>,
        options: &PgOptions,
    ) -> Result<PgStore, OpenError> {
        let manager = Manager { config };
        let pool = r2d2::Pool::builder()
            .max_size(options.pool_size)
            .min_idle(Some(0))
            .connection_timeout(options.busy_timeout)
            .build_unchecked(manager.clone());
        // The first connection directly, so a failure says why.
        let mut conn = r2d2::ManageConnection::connect(&manager)
            .map_err(|e| OpenError::Connect(error::Driver(e).message()))?;
        schema::migrate(&mut conn.client)?;
        let t = tenant.get();
        if let Some((currency, existing_ok)) = create {
            let inserted = conn
                .client
                .execute(
                    "INSERT INTO tenants (tenant_id, base_currency, book_id) VALUES ($1, $2, \
                     substr(md5(random()::text || clock_timestamp()::text), 1, 16)) \
                     ON CONFLICT (tenant_id) DO NOTHING",
                    &[&t, &currency.to_string()],
                )
                .map_err(OpenError::Db)?;
            if inserted == 0 && !existing_ok {
                return Err(OpenError::Tenant(format!(
                    "tenant {tenant} already has books in this database"
                )));
            }
        }
        let row = conn
            .client
            .query_opt(
                "SELECT base_currency FROM tenants WHERE tenant_id = $1",
                &[&t],
            )
            .map_err(OpenError::Db)?
            .ok_or_else(|| {
                OpenError::Tenant(format!("this database has no books of tenant {tenant}"))
            })?;
        let code: String = row.try_get(0).map_err(OpenError::Db)?;
        let currency = Currency::from_stored(&code)
            .map_err(|e| OpenError::Corrupt(format!("tenants.base_currency: {e}")))?;
        Ok(PgStore {
            pool,
            tenant,
            currency,
            options: options.clone(),
            partition_attached: AtomicBool::new(false),
        })
    }

    /// The tenant whose books this handle reads and writes.
    pub fn tenant(&self) -> TenantId {
        self.tenant
    }

    /// The book's stable random identity (16 lowercase hex characters), as
    /// `SqliteStore::book_id` gives it for a file: set when the tenant's books are
    /// created, changed only by [`adopt_book_id`](PgStore::adopt_book_id).
    ///
    /// # Errors
    ///
    /// A [`StoreError`] if the tenant's row cannot be read.
    pub fn book_id(&self) -> StoreResult<String> {
        let mut id = String::new();
        self.with_retries(
            "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY",
            false,
            &mut |tx| {
                id = tx.run(|c, t| {
                    let row =
                        c.query_opt("SELECT book_id FROM tenants WHERE tenant_id = $1", &[&t])?;
                    match row {
                        Some(r) => Ok(codec::Cols::new(&r, "tenants").str(0)?.to_owned()),
                        None => Err(error::corrupt(format!("tenants: no row for tenant {t}"))),
                    }
                })?;
                Ok(())
            },
        )?;
        Ok(id)
    }

    /// Makes `id` the book id: what restoring an archive into new books does, so that
    /// the restored books are the same books (ADR 0009).
    ///
    /// # Errors
    ///
    /// [`StoreError::Backend`] if `id` is not 16 lowercase hex digits, or the write's
    /// error.
    pub fn adopt_book_id(&self, id: &str) -> StoreResult<()> {
        if !(id.len() == 16 && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))) {
            return Err(StoreError::backend(std::io::Error::other(format!(
                "'{id}' is not a book id (16 lowercase hex digits)"
            ))));
        }
        self.with_retries("BEGIN ISOLATION LEVEL READ COMMITTED", true, &mut |tx| {
            tx.run(|c, t| {
                let n = c.execute(
                    "UPDATE tenants SET book_id = $2 WHERE tenant_id = $1",
                    &[&t, &id],
                )?;
                if n == 1 {
                    Ok(())
                } else {
                    Err(error::corrupt(format!("tenants: no row for tenant {t}")))
                }
            })
        })
    }

    /// The stored segments that cannot be read, by name: each one's name as stored and
    /// why it does not decode (a condition nested deeper than
    /// [`MAX_PREDICATE_DEPTH`](solocrm_core::segment::MAX_PREDICATE_DEPTH), a row
    /// changed outside solocrm). The segment list leaves them out rather than failing
    /// for every segment, as `SqliteStore::unreadable_segments` says of SQLite.
    ///
    /// # Errors
    ///
    /// A [`StoreError`] if the segments cannot be read.
    pub fn unreadable_segments(&self) -> StoreResult<Vec<(String, String)>> {
        let mut bad = Vec::new();
        self.with_retries(
            "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY",
            false,
            &mut |tx| {
                bad = tx.run(records::unreadable_segments)?;
                Ok(())
            },
        )?;
        Ok(bad)
    }

    /// Runs `VACUUM (INDEX_CLEANUP ON)` on the tables an erasure rewrites (customers,
    /// their tags, consents and stage changes, and every kind of record that holds
    /// text about a customer), so that the old versions of the erased rows leave the
    /// tables and their index entries go: what an erasure through
    /// [`Crm`](solocrm_core::Crm) runs right after its commit, unless
    /// [`PgOptions::vacuum_after_erase`] is off. Call it again after an erasure whose
    /// vacuum an older snapshot held up (a long read of another session keeps the
    /// versions it can see).
    ///
    /// The space of a removed version is marked free, not overwritten: its bytes stay
    /// in the table file until new rows reuse it, and in the write-ahead log and the
    /// backups for as long as the server keeps them; `VACUUM FULL` (which locks the
    /// whole table) rewrites a table without them (see `docs/storage.md`). The tables
    /// are the whole database's, every tenant's rows included. Without the rights of
    /// the tables' owner PostgreSQL skips a table with a warning.
    ///
    /// # Errors
    ///
    /// [`StoreError::Backend`] if the server refuses the statement, or
    /// [`StoreError::Busy`] if no connection came free.
    pub fn vacuum_books(&self) -> StoreResult<()> {
        let mut conn = self.conn()?;
        conn.batch(VACUUM_AFTER_ERASE)
            .map_err(|e| error::Fail::from(e).into_store())
    }

    /// A pooled connection, or [`StoreError::Busy`] if none came free in time.
    fn conn(&self) -> StoreResult<r2d2::PooledConnection<Manager>> {
        let started = Instant::now();
        self.pool.get().map_err(|e| {
            if started.elapsed() >= self.options.busy_timeout {
                StoreError::busy(started.elapsed())
            } else {
                StoreError::backend(std::io::Error::other(format!(
                    "no connection to PostgreSQL: {e}"
                )))
            }
        })
    }

    /// Runs one transaction attempt: `begin`, then `body`, then `COMMIT`, or
    /// `ROLLBACK` on any error. Says whether a failure may succeed if run again.
    fn attempt(
        &self,
        begin: &str,
        lock: bool,
        body: &mut dyn FnMut(&mut Tx<'_>) -> StoreResult<()>,
    ) -> Result<(), (StoreError, bool)> {
        let mut conn = self.conn().map_err(|e| (e, false))?;
        let mut guard = Open::begin(&mut conn, begin).map_err(|e| {
            let retry = e.is_retryable();
            (e.into_store(), retry)
        })?;
        if lock {
            self.lock_tenant(guard.conn())?;
        }
        let (outcome, retry, attached) = {
            let mut tx = Tx::new(
                guard.conn(),
                self.tenant.get(),
                self.currency,
                self.options.bulk_from,
                self.partition_attached.load(Ordering::Relaxed),
            );
            // What a bulk load keeps waiting goes before the commit.
            let outcome = body(&mut tx).and_then(|()| tx.finish());
            (outcome, tx.wants_retry(), tx.partition_attached())
        };
        match outcome {
            Ok(()) => {
                guard.commit().map_err(|e| {
                    let retry = e.is_retryable();
                    (e.into_store(), retry)
                })?;
                if attached {
                    self.partition_attached.store(true, Ordering::Relaxed);
                }
                Ok(())
            }
            Err(e) => {
                guard.rollback();
                Err((e, retry))
            }
        }
    }

    /// Takes the tenant's write lock, waiting up to the busy timeout.
    fn lock_tenant(&self, conn: &mut Conn) -> Result<(), (StoreError, bool)> {
        let timeout = format!(
            "SET LOCAL lock_timeout = {}",
            self.options.busy_timeout.as_millis().max(1)
        );
        conn.batch(&timeout).map_err(|e| {
            let f = error::Fail::from(e);
            let r = f.is_retryable();
            (f.into_store(), r)
        })?;
        match conn.query_opt(
            "SELECT tenant_id FROM tenants WHERE tenant_id = $1 FOR UPDATE",
            &[&self.tenant.get()],
        ) {
            Ok(Some(_)) => Ok(()),
            Ok(None) => Err((
                StoreError::backend(std::io::Error::other(format!(
                    "the books of tenant {} are gone from the database",
                    self.tenant
                ))),
                false,
            )),
            Err(e) if e.code() == Some(&SqlState::LOCK_NOT_AVAILABLE) => {
                Err((StoreError::busy(self.options.busy_timeout), false))
            }
            Err(e) => {
                let f = error::Fail::from(e);
                let r = f.is_retryable();
                Err((f.into_store(), r))
            }
        }
    }

    /// Runs attempts until one succeeds, fails for good, or the retries run out.
    fn with_retries(
        &self,
        begin: &str,
        lock: bool,
        body: &mut dyn FnMut(&mut Tx<'_>) -> StoreResult<()>,
    ) -> StoreResult<()> {
        let started = Instant::now();
        let mut tries = 0;
        loop {
            match self.attempt(begin, lock, body) {
                Ok(()) => return Ok(()),
                Err((_, true)) if tries < self.options.retries => {
                    tries += 1;
                    // Back off a little more each time, jittered by the clock's
                    // nanoseconds so that two clashing writers do not meet again.
                    let nanos = std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .map_or(0, |d| d.subsec_nanos());
                    let jitter = u64::from(nanos % 5);
                    std::thread::sleep(Duration::from_millis(5 * u64::from(tries) + jitter));
                }
                Err((_, true)) => return Err(StoreError::busy(started.elapsed())),
                Err((e, false)) => return Err(e),
            }
        }
    }
}

/// An open transaction on a pooled connection; rolled back if dropped open (an error
/// path or a panic in the closure), and the connection discarded if even that fails.
struct Open<'a> {
    conn: &'a mut Conn,
    open: bool,
}

impl<'a> Open<'a> {
    fn begin(conn: &'a mut Conn, sql: &str) -> Result<Open<'a>, error::Fail> {
        conn.batch(sql)?;
        Ok(Open { conn, open: true })
    }

    fn conn(&mut self) -> &mut Conn {
        self.conn
    }

    fn commit(mut self) -> Result<(), error::Fail> {
        self.open = false;
        match self.conn.batch("COMMIT") {
            Ok(()) => Ok(()),
            Err(e) => {
                // A failed COMMIT has ended the transaction; a broken connection
                // is not reused.
                if self.conn.client.is_closed() {
                    self.conn.broken = true;
                }
                Err(e.into())
            }
        }
    }

    fn rollback(mut self) {
        self.end();
    }

    fn end(&mut self) {
        if self.open {
            self.open = false;
            if self.conn.batch("ROLLBACK").is_err() {
                self.conn.broken = true;
            }
        }
    }
}

impl Drop for Open<'_> {
    fn drop(&mut self) {
        self.end();
    }
}

impl Storage for PgStore {
    fn base_currency(&self) -> Currency {
        self.currency
    }

    fn read(&self, f: &mut dyn FnMut(&dyn ReadTx) -> StoreResult<()>) -> StoreResult<()> {
        self.with_retries(
            "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY",
            false,
            &mut |tx| f(tx),
        )
    }

    fn write(&self, f: &mut dyn FnMut(&mut dyn WriteTx) -> StoreResult<()>) -> StoreResult<()> {
        let mut purge = false;
        self.with_retries("BEGIN ISOLATION LEVEL READ COMMITTED", true, &mut |tx| {
            f(tx)?;
            purge = tx.wants_purge();
            Ok(())
        })?;
        // After the commit (VACUUM cannot run inside a transaction) and on a
        // connection of its own: committed already, so this cannot fail the write.
        if purge && self.options.vacuum_after_erase {
            let _ = self.vacuum_books();
        }
        Ok(())
    }

    fn write_as(
        &self,
        kind: WriteKind,
        f: &mut dyn FnMut(&mut dyn WriteTx) -> StoreResult<()>,
    ) -> StoreResult<()> {
        let _ = kind;
        self.write(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tenant_is_taken_from_the_url_and_the_rest_kept() {
        let (url, t) =
            split_tenant("postgres://u@h:5432/db?tenant=7&sslmode=disable").expect("a URL");
        assert_eq!(url, "postgres://u@h:5432/db?sslmode=disable");
        assert_eq!(t.get(), 7);
        let (url, t) = split_tenant("postgresql://u@h/db").expect("a URL");
        assert_eq!(
            (url.as_str(), t),
            ("postgresql://u@h/db", TenantId::DEFAULT)
        );
        for bad in [
            "sqlite:crm.db",
            "postgres://h/db?tenant=0",
            "postgres://h/db?tenant=-3",
            "postgres://h/db?tenant=x",
            "postgres://h/db?tenant=1&tenant=2",
        ] {
            assert!(
                matches!(split_tenant(bad), Err(OpenError::BadUrl(_))),
                "{bad}"
            );
        }
    }

    /// A store on a fresh schema of the test server, or `None` without one.
    fn test_store(options: &PgOptions) -> Option<(PgStore, String, String)> {
        let url = std::env::var("SOLOCRM_TEST_PG_URL").ok()?;
        let mut admin = postgres::Client::connect(&url, postgres::NoTls).ok()?;
        let schema = format!("solocrm_unit_{}", std::process::id());
        admin
            .batch_execute(&format!(
                "DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}"
            ))
            .ok()?;
        let mut config = postgres::Config::from_str(&url).ok()?;
        config.options(&format!("-c search_path={schema}"));
        let store = PgStore::create_with(config, TenantId::DEFAULT, Currency::EUR, options).ok()?;
        Some((store, url, schema))
    }

    /// A serialization failure (40001, raised here by hand) rolls the write back and
    /// runs it again; when the retries run out the write is `Busy`, which says a
    /// retry may succeed.
    #[test]
    fn a_serialization_failure_is_retried_then_reported_as_busy() {
        let Some((store, url, schema)) = test_store(&PgOptions::new().retries(3)) else {
            assert!(
                std::env::var("SOLOCRM_REQUIRE_PG").as_deref() != Ok("1"),
                "SOLOCRM_REQUIRE_PG=1 but no store could be made on SOLOCRM_TEST_PG_URL"
            );
            eprintln!("skipped: set SOLOCRM_TEST_PG_URL to run this test");
            return;
        };
        let raise = "DO $$ BEGIN RAISE EXCEPTION 'clash' USING ERRCODE = '40001'; END $$";
        let mut runs = 0;
        store
            .with_retries("BEGIN", true, &mut |tx| {
                runs += 1;
                if runs <= 2 {
                    tx.run(|c, _| Ok(c.batch(raise)?))?;
                }
                Ok(())
            })
            .expect("the third run succeeds");
        assert_eq!(runs, 3);
        let mut runs = 0;
        let err = store
            .with_retries("BEGIN", true, &mut |tx| {
                runs += 1;
                tx.run(|c, _| Ok(c.batch(raise)?))
            })
            .expect_err("always clashes");
        assert_eq!(runs, 4, "the first run and three retries");
        assert!(matches!(err, StoreError::Busy { .. }), "{err:?}");
        assert!(err.is_retryable());
        // Another error is reported at once, with the server's message.
        let mut runs = 0;
        let err = store
            .with_retries("BEGIN", true, &mut |tx| {
                runs += 1;
                tx.run(|c, _| Ok(c.batch("SELECT * FROM no_such_table")?))
            })
            .expect_err("a missing table");
        assert_eq!(runs, 1);
        assert!(err.to_string().contains("no_such_table"), "{err}");
        drop(store);
        if let Ok(mut admin) = postgres::Client::connect(&url, postgres::NoTls) {
            let _ = admin.batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"));
        }
    }
}
