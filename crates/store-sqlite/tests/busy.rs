//! Another program holding the write lock (a long import): opening a current database
//! takes no write lock, readers never wait, and a writer waits at most the busy timeout
//! and then fails with a clear, retryable error.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeZone, Utc};
use rusqlite::Connection;
use solocrm_core::{
    Currency, CustomerData, CustomerId, CustomerQuery, NewCustomer, PersonName, Store,
};
use solocrm_store_sqlite::{SqliteOptions, SqliteStore};

const TIMEOUT: Duration = Duration::from_millis(1500);

fn at(day: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 2, day, 10, 0, 0)
        .single()
        .expect("valid")
}

fn person(name: &str) -> NewCustomer {
    NewCustomer::new(
        CustomerData::new(PersonName::parse(name).expect("a valid name")),
        at(1),
    )
}

/// A database with one customer, and another connection that holds the write lock
/// with a write in progress, as an import does.
fn locked_database() -> (tempfile::TempDir, PathBuf, Connection) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("crm.db");
    let store = SqliteStore::create(&path, Currency::EUR).expect("created");
    store.create_customer(person("Ada")).expect("Ada");
    drop(store);
    let importer = Connection::open(&path).expect("the importer connects");
    importer
        .execute_batch(
            "BEGIN IMMEDIATE;
             INSERT INTO customers (name, notes, created_at, created_at_ns, stage)
             VALUES ('Importing', '', 0, 0, 'lead');",
        )
        .expect("the importer holds the write lock");
    (dir, path, importer)
}

#[test]
fn opening_a_current_database_takes_no_write_lock_and_reads_do_not_wait() {
    let (_dir, path, importer) = locked_database();
    let options = SqliteOptions::new().busy_timeout(TIMEOUT);
    let start = Instant::now();
    let store = SqliteStore::open_with(&path, &options).expect("opens during the import");
    let store_default = SqliteStore::open(&path).expect("opens with the default timeout too");
    let opened_in = start.elapsed();
    assert!(
        opened_in < TIMEOUT / 2,
        "opening waited {opened_in:?} for the importer's write lock"
    );
    let start = Instant::now();
    for s in [&store, &store_default] {
        assert_eq!(
            s.customer(CustomerId::new(1))
                .expect("a read")
                .name()
                .as_str(),
            "Ada"
        );
        assert_eq!(
            s.count_customers().expect("a count"),
            1,
            "the import is not committed yet"
        );
        assert_eq!(
            s.list_customers(&CustomerQuery::default())
                .expect("a list")
                .items
                .len(),
            1
        );
    }
    assert!(
        start.elapsed() < TIMEOUT / 2,
        "reads waited {:?}",
        start.elapsed()
    );
    drop(importer);
}
