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
