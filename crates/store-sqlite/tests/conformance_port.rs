//! The conformance suites run through the operations layer over the SQLite store's
//! transactional port: `Crm::new(SqliteStore)` instead of the store's own `Store`
//! methods.
//!
//! - Every check of `store_conformance!`, one `#[test]` each, on a fresh private
//!   in-memory database keeping its books in EUR.
//! - The checks of `port_conformance!` that need no second thread, on in-memory
//!   databases. The three threaded ones (a read's snapshot while another thread
//!   writes, two reads beside one another while a third writes, readers beside an
//!   import) need reads that do not wait for the writer, which an
//!   in-memory database, one connection behind a mutex, cannot give.
//! - Both suites on database files, where reads run on their own connections.

use solocrm_core::Currency;
use solocrm_core::ops::Crm;
use solocrm_store_sqlite::SqliteStore;

solocrm_store_tests::store_conformance!(|| Crm::new(
    SqliteStore::open_in_memory(Currency::EUR).expect("in-memory database")
));

/// The port checks an in-memory database cannot pass: they hold a read open while
/// another thread writes.
const NEEDS_CONCURRENT_READS: &[&str] = &[
    "a_read_sees_one_snapshot_while_another_thread_writes",
    "reads_beside_one_another_see_one_snapshot",
    "readers_proceed_while_an_import_holds_the_writer",
];

/// Runs `run` on each check with a fresh `Crm` from `setup`, and fails naming every
/// check that panicked (not only the first).
fn run_all<C: Copy>(
    checks: &[C],
    name: impl Fn(C) -> String,
    run: impl Fn(C, &Crm),
    setup: impl Fn(usize) -> (Crm, Option<SqliteStore>),
) {
    let mut failed = Vec::new();
    for (i, check) in checks.iter().copied().enumerate() {
        let (crm, file) = setup(i);
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run(check, &crm)));
        if outcome.is_err() {
            failed.push(name(check));
        }
        drop(crm);
        if let Some(store) = file {
            assert_eq!(
                store.integrity_check().expect("the check"),
                Vec::<String>::new(),
                "{} leaves the file sound",
                name(check)
            );
        }
    }
    assert!(failed.is_empty(), "failed: {failed:#?}");
}

#[test]
fn the_port_checks_pass_in_memory() {
    let checks: Vec<_> = solocrm_store_tests::transactions::PORT_CHECKS
        .iter()
        .filter(|c| !NEEDS_CONCURRENT_READS.contains(&c.name))
        .collect();
    assert_eq!(
        checks.len() + NEEDS_CONCURRENT_READS.len(),
        solocrm_store_tests::transactions::PORT_CHECKS.len()
    );
    run_all(
        &checks,
        |c| c.name.to_owned(),
        |c, crm| (c.run)(crm),
        |_| {
            let store = SqliteStore::open_in_memory(Currency::EUR).expect("in-memory database");
            (Crm::new(store), None)
        },
    );
}

/// A fresh database file in `dir`, as a `Crm`, and a second handle on the file to
/// check it afterwards.
fn on_file(dir: &std::path::Path, i: usize) -> (Crm, Option<SqliteStore>) {
    let path = dir.join(format!("{i}.db"));
    let store = SqliteStore::create(&path, Currency::EUR).expect("a database file");
    let crm = Crm::new(store);
    let checker = SqliteStore::open(&path).expect("a second handle");
    (crm, Some(checker))
}

#[test]
fn the_port_checks_pass_on_database_files() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    run_all(
        solocrm_store_tests::transactions::PORT_CHECKS,
        |c| c.name.to_owned(),
        |c, crm| (c.run)(crm),
        |i| on_file(dir.path(), i),
    );
}

#[test]
fn the_store_checks_pass_on_database_files() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    run_all(
        solocrm_store_tests::conformance::CHECKS,
        |c| format!("{}::{}", c.module, c.name),
        |c, crm| (c.run)(crm),
        |i| on_file(dir.path(), i),
    );
}
