//! The live-server harness of the PostgreSQL tests.
//!
//! Tests read `SOLOCRM_TEST_PG_URL` (e.g. `postgres://root@127.0.0.1:5432/test`).
//! Without it they print why and pass as skipped; with `SOLOCRM_REQUIRE_PG=1` (set by
//! `.ci/run`) a missing variable or an unreachable server fails them instead. Each
//! [`PgTest`] is a fresh schema of its own, named after the process and a counter,
//! which every connection of its stores uses (`search_path`), dropped with
//! everything in it when the test ends.

#![allow(dead_code)]

use std::str::FromStr;
use std::sync::atomic::{AtomicI64, AtomicU32, AtomicU64, Ordering};

use postgres::{Client, NoTls};
use solocrm_core::{Crm, Currency};
use solocrm_store_postgres::{PgOptions, PgStore, TenantId};

/// A fresh schema on the test server.
pub struct PgTest {
    url: String,
    schema: String,
    next_tenant: AtomicI64,
    /// The stores' `bulk_from`: 1 sends every announced load of purchases with COPY.
    bulk_from: AtomicU64,
}

fn required() -> bool {
    std::env::var("SOLOCRM_REQUIRE_PG").is_ok_and(|v| v == "1")
}

/// A fresh schema on the server `SOLOCRM_TEST_PG_URL` names, or `None` (with a
/// printed message) if there is none and none is required.
///
/// # Panics
///
/// With `SOLOCRM_REQUIRE_PG=1`, if the variable is unset or the server cannot be
/// reached.
pub fn server() -> Option<PgTest> {
    let Ok(url) = std::env::var("SOLOCRM_TEST_PG_URL") else {
        assert!(
            !required(),
            "SOLOCRM_REQUIRE_PG=1 but SOLOCRM_TEST_PG_URL is not set"
        );
        eprintln!(
            "skipped: set SOLOCRM_TEST_PG_URL (e.g. postgres://root@127.0.0.1:5432/test) \
             to run the PostgreSQL tests"
        );
        return None;
    };
    let mut client = match Client::connect(&url, NoTls) {
        Ok(c) => c,
        Err(e) => {
            assert!(
                !required(),
                "SOLOCRM_REQUIRE_PG=1 but the server at SOLOCRM_TEST_PG_URL cannot be reached: {e:?}"
            );
            eprintln!("skipped: the server at SOLOCRM_TEST_PG_URL cannot be reached: {e:?}");
            return None;
        }
    };
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let schema = format!(
        "solocrm_test_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    );
    client
        .batch_execute(&format!(
            "DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}"
        ))
        .expect("a fresh schema");
    Some(PgTest {
        url,
        schema,
        next_tenant: AtomicI64::new(1),
        bulk_from: AtomicU64::new(PgOptions::new().bulk_from_rows()),
    })
}

impl PgTest {
    /// The connection configuration: the test server, this schema first.
    pub fn config(&self) -> postgres::Config {
        let mut config = postgres::Config::from_str(&self.url).expect("a valid test URL");
        config.options(&format!("-c search_path={}", self.schema));
        config
    }

    /// Makes the stores made from now on load purchases with COPY from `rows`
    /// announced rows on (1: always).
    pub fn set_bulk_from(&self, rows: u64) {
        self.bulk_from.store(rows, Ordering::Relaxed);
    }

    /// The configuration of a connection to `schema` on the test server, for a child
    /// process working in a parent's schema.
    pub fn config_of_schema(schema: &str) -> Option<postgres::Config> {
        let url = std::env::var("SOLOCRM_TEST_PG_URL").ok()?;
        let mut config = postgres::Config::from_str(&url).ok()?;
        config.options(&format!("-c search_path={schema}"));
        Some(config)
    }

    /// The schema's name.
    pub fn schema(&self) -> &str {
        &self.schema
    }

    /// A plain client on this schema.
    pub fn client(&self) -> Client {
        self.config().connect(NoTls).expect("a client")
    }

    /// New books of a tenant not used before in this schema, in EUR.
    pub fn store(&self) -> PgStore {
        let tenant = self.next_tenant.fetch_add(1, Ordering::Relaxed);
        self.store_of(tenant)
    }

    /// New books of `tenant`, in EUR.
    pub fn store_of(&self, tenant: i64) -> PgStore {
        PgStore::create_with(
            self.config(),
            TenantId::new(tenant).expect("a tenant"),
            Currency::EUR,
            &PgOptions::new()
                .pool_size(4)
                .bulk_from(self.bulk_from.load(Ordering::Relaxed)),
        )
        .expect("new books")
    }

    /// New books of a new tenant, as a `Crm`.
    pub fn crm(&self) -> Crm {
        Crm::new(self.store())
    }
}

impl Drop for PgTest {
    fn drop(&mut self) {
        // Best effort: a schema left behind by a failed drop is dropped by the next
        // run with the same name (process ids repeat), and holds only test data.
        if let Ok(mut client) = Client::connect(&self.url, NoTls) {
            let _ = client.batch_execute(&format!("DROP SCHEMA IF EXISTS {} CASCADE", self.schema));
        }
    }
}
