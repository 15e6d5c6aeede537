//! Another program holding the write lock (a long import): opening a current database
//! takes no write lock, readers never wait, and a writer waits at most the busy timeout
//! and then fails with a clear, retryable error.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeZone, Utc};
use rusqlite::Connection;
use solocrm_core::{
    ActivityQuery, Crm, Currency, CustomerData, CustomerId, CustomerQuery, NewCustomer, PersonName,
    Store, StoreError, StoreErrorKind,
};
use solocrm_store_sqlite::{
    OpenError, SCHEMA_VERSION, SqliteOptions, SqliteStore, create_at_schema_version,
};

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
    let store = Crm::new(SqliteStore::create(&path, Currency::EUR).expect("created"));
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
    let store = Crm::new(SqliteStore::open_with(&path, &options).expect("opens during the import"));
    let store_default =
        Crm::new(SqliteStore::open(&path).expect("opens with the default timeout too"));
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

#[test]
fn a_writer_waits_the_busy_timeout_then_gets_a_clear_retryable_error() {
    let (_dir, path, importer) = locked_database();
    let options = SqliteOptions::new().busy_timeout(TIMEOUT);
    let store = Crm::new(SqliteStore::open_with(&path, &options).expect("opens during the import"));
    let start = Instant::now();
    let err = store
        .create_customer(person("Grace"))
        .expect_err("the importer holds the write lock");
    let waited = start.elapsed();
    assert!(
        waited >= TIMEOUT.mul_f64(0.9) && waited < TIMEOUT * 4,
        "waited {waited:?} for a {TIMEOUT:?} busy timeout"
    );
    assert_eq!(err.kind(), StoreErrorKind::Busy, "{err}");
    assert!(err.is_retryable());
    assert_eq!(
        err.to_string(),
        "the database is busy: another program is writing to it (an import?); waited 1.5 s \
         — try again when it finishes"
    );
    // Once the import ends, the same call succeeds.
    importer
        .execute_batch("COMMIT")
        .expect("the import commits");
    store
        .create_customer(person("Grace"))
        .expect("the retry succeeds");
    assert_eq!(store.count_customers().expect("a count"), 3);
}

#[test]
fn opening_a_file_that_must_migrate_while_another_program_writes_is_busy() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("old.db");
    create_at_schema_version(&path, Currency::EUR, 1).expect("an old file");
    let importer = Connection::open(&path).expect("the importer connects");
    importer
        .execute_batch(
            "BEGIN IMMEDIATE;
             INSERT INTO customers (name, notes, created_at, created_at_ns, stage)
             VALUES ('Importing', '', 0, 0, 'lead');",
        )
        .expect("the importer holds the write lock");
    let options = SqliteOptions::new().busy_timeout(Duration::from_millis(300));
    let err = SqliteStore::open_with(&path, &options).expect_err("the migration must wait");
    assert!(
        matches!(err, OpenError::Busy { waited } if waited == Duration::from_millis(300)),
        "{err:?}"
    );
    assert!(err.to_string().starts_with("the database is busy"), "{err}");
    assert_eq!(StoreError::from(err).kind(), StoreErrorKind::Busy);
    drop(importer);
    let store = SqliteStore::open_with(&path, &options).expect("migrates once the import ended");
    assert_eq!(store.schema_version().expect("version"), SCHEMA_VERSION);
}

/// The messages of `e` and its causes, as `{e:#}` prints them.
fn chain(e: &(dyn std::error::Error + 'static)) -> Vec<String> {
    std::iter::successors(Some(e), |&e| e.source())
        .map(ToString::to_string)
        .collect()
}

#[test]
fn a_driver_error_is_printed_once_in_the_error_chain() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("crm.db");
    drop(SqliteStore::create(&path, Currency::EUR).expect("created"));
    Connection::open(&path)
        .and_then(|c| c.execute_batch("DROP TABLE surveys"))
        .expect("a table removed by hand");
    let store = Crm::new(SqliteStore::open(&path).expect("opens"));
    let err = store
        .surveys(&ActivityQuery::ALL)
        .expect_err("the table is gone");
    assert_eq!(err.kind(), StoreErrorKind::Backend);
    let printed = chain(&err).join(": ");
    assert_eq!(printed.matches("no such table").count(), 1, "{printed}");
}
