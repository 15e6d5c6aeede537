//! Automation's storage checks (`solocrm_store_tests::automation`) on the PostgreSQL
//! store, each on new books of its own tenant in a fresh schema.

mod common;

#[test]
fn the_automation_checks_pass() {
    let Some(pg) = common::server() else { return };
    let mut failed = Vec::new();
    for check in solocrm_store_tests::automation::AUTOMATION_CHECKS {
        let crm = pg.crm();
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| (check.run)(&crm)));
        if outcome.is_err() {
            failed.push(check.name);
        }
    }
    assert!(failed.is_empty(), "failed: {failed:?}");
}
