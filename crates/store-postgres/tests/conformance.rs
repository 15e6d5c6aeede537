//! The conformance suites run through the operations layer over the PostgreSQL
//! store: every check of `store_conformance!` and `port_conformance!` (the threaded
//! ones included: reads run on their own pooled connections) and the as-of property.
//! Each suite runs in a fresh schema, each check on new books of its own tenant, so
//! the checks also show that a tenant sees nothing of the others in the schema.

mod common;

use solocrm_core::ops::Crm;

/// Runs `run` on each check with a fresh `Crm`, and fails naming every check that
/// panicked (not only the first).
fn run_all<C: Copy>(
    checks: &[C],
    name: impl Fn(C) -> String,
    run: impl Fn(C, &Crm),
    crm: impl Fn() -> Crm,
) -> usize {
    let mut failed = Vec::new();
    for check in checks.iter().copied() {
        let crm = crm();
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run(check, &crm)));
        if outcome.is_err() {
            failed.push(name(check));
        }
    }
    assert!(failed.is_empty(), "failed: {failed:#?}");
    checks.len()
}

#[test]
fn the_store_checks_pass() {
    let Some(pg) = common::server() else { return };
    let n = run_all(
        solocrm_store_tests::conformance::CHECKS,
        |c| format!("{}::{}", c.module, c.name),
        |c, crm| (c.run)(crm),
        || pg.crm(),
    );
    eprintln!("{n} store checks passed on PostgreSQL");
    assert!(n > 100, "the suite has its checks");
}

#[test]
fn the_port_checks_pass() {
    let Some(pg) = common::server() else { return };
    let n = run_all(
        solocrm_store_tests::transactions::PORT_CHECKS,
        |c| c.name.to_owned(),
        |c, crm| (c.run)(crm),
        || pg.crm(),
    );
    eprintln!("{n} port checks passed on PostgreSQL");
}

#[test]
fn the_books_read_as_of_an_instant_equal_the_books_cut_there() {
    let Some(pg) = common::server() else { return };
    solocrm_store_tests::as_of::check_as_of_replay(&|| pg.crm(), solocrm_store_tests::as_of::CASES);
}

#[test]
fn the_books_as_of_a_day_of_issue_12_say_what_they_said_then() {
    let Some(pg) = common::server() else { return };
    solocrm_store_tests::as_of::check_issue_cases(&|| pg.crm());
}

/// The store and port checks again with every announced load of purchases (a batch,
/// an import) sent with binary COPY, however small, so that the COPY path answers as
/// the INSERT path does.
#[test]
fn the_store_and_port_checks_pass_with_every_load_copied() {
    let Some(pg) = common::server() else { return };
    pg.set_bulk_from(1);
    run_all(
        solocrm_store_tests::conformance::CHECKS,
        |c| format!("{}::{}", c.module, c.name),
        |c, crm| (c.run)(crm),
        || pg.crm(),
    );
    run_all(
        solocrm_store_tests::transactions::PORT_CHECKS,
        |c| c.name.to_owned(),
        |c, crm| (c.run)(crm),
        || pg.crm(),
    );
}
