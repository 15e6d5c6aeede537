//! Automation's storage checks (`automation_conformance!`) on the SQLite store, in an
//! in-memory database and in a file.

use solocrm_core::Currency;
use solocrm_core::ops::Crm;
use solocrm_store_sqlite::SqliteStore;

solocrm_store_tests::automation_conformance!(|| Crm::new(
    SqliteStore::open_in_memory(Currency::EUR).expect("in-memory database")
));

#[test]
fn the_automation_checks_pass_on_a_file() {
    for check in solocrm_store_tests::automation::AUTOMATION_CHECKS {
        let dir = tempfile::tempdir().expect("temp dir");
        let store =
            SqliteStore::create(dir.path().join("books.db"), Currency::EUR).expect("new database");
        (check.run)(&Crm::new(store));
    }
}

/// The kept open points lots (migration 21) equal the lots replayed from the ledgers
/// after random sequences of points writes (ADR 0043).
#[test]
fn the_kept_points_lots_equal_the_replayed_ledgers_after_any_history() {
    solocrm_store_tests::points_lots::check_kept_lots_replay(
        &|| Crm::new(SqliteStore::open_in_memory(Currency::EUR).expect("in-memory database")),
        64,
    );
}

/// The kept purchase totals (migration 23) follow an import big enough for the bulk
/// path (the triggers dropped, the totals refilled at its end), in a file as the
/// command line has it.
#[test]
fn the_kept_purchase_totals_follow_a_bulk_import() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store =
        SqliteStore::create(dir.path().join("books.db"), Currency::EUR).expect("new database");
    let crm = Crm::new(store);
    solocrm_store_tests::purchase_totals::kept_purchase_totals_after_a_bulk_import(&crm, 60_000);
    drop(crm);
    let problems = SqliteStore::open(dir.path().join("books.db"))
        .expect("the file")
        .check()
        .expect("the check");
    assert!(problems.is_empty(), "{problems:?}");
}

/// The totals a bulk write gathers as it inserts are merged into the kept ones only
/// when it did nothing else to purchases (see `port::bulk_totals`): after each kind
/// of bulk write onto stored purchases, the totals equal the scan and the file's own
/// check (which recomputes them) finds nothing.
#[test]
fn the_kept_purchase_totals_follow_bulk_writes_onto_stored_purchases() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store =
        SqliteStore::create(dir.path().join("books.db"), Currency::EUR).expect("new database");
    let crm = Crm::new(store);
    solocrm_store_tests::purchase_totals::kept_purchase_totals_after_bulk_writes_onto_stored_purchases(
        &crm, 60_000,
    );
    drop(crm);
    let problems = SqliteStore::open(dir.path().join("books.db"))
        .expect("the file")
        .check()
        .expect("the check");
    assert!(problems.is_empty(), "{problems:?}");
}
