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
    on_a_checked_file(|crm| {
        solocrm_store_tests::purchase_totals::kept_purchase_totals_after_a_bulk_import(crm, 60_000);
    });
}

/// Runs `f` on new books in a file, then the file's own check, which must find
/// nothing.
fn on_a_checked_file(f: impl FnOnce(&Crm)) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store =
        SqliteStore::create(dir.path().join("books.db"), Currency::EUR).expect("new database");
    let crm = Crm::new(store);
    f(&crm);
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
    on_a_checked_file(|crm| {
        solocrm_store_tests::purchase_totals::kept_purchase_totals_after_bulk_writes_onto_stored_purchases(
            crm, 60_000,
        );
    });
}

/// A bulk write that creates customers drops the search index's insert trigger and,
/// before its commit, puts it back and writes the entries of what it created. After
/// creates, an update of a created customer, an operation that created customers and
/// was rolled back to its savepoint, and creates after that rollback, the file's own
/// check (every live customer in the index as their row has them, no other entry)
/// finds nothing, the trigger is back, and a customer created afterwards is indexed.
#[test]
fn a_bulk_write_that_creates_customers_fills_the_search_index_at_its_end() {
    use chrono::{TimeZone, Utc};
    use solocrm_core::{
        CustomerData, CustomerRef, ImportBatch, ImportPart, NewCustomer, NewPurchase, PersonName,
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("books.db");
    let crm = Crm::new(SqliteStore::create(&path, Currency::EUR).expect("new database"));
    let when = Utc
        .with_ymd_and_hms(2026, 3, 1, 0, 0, 0)
        .single()
        .expect("a date");
    let new = |who: &str| {
        NewCustomer::new(
            CustomerData::new(PersonName::parse(who).expect("a name")),
            when,
        )
    };
    let old = crm
        .write(|w| w.create_customer(new("早先的顾客")))
        .expect("a customer");
    crm.write_bulk(|w| {
        let created = w.import_parts(&mut std::iter::once::<ImportPart>(Ok(ImportBatch {
            create_customers: (0..300).map(|i| new(&format!("王芳 {i}"))).collect(),
            update_customers: vec![(
                old.id(),
                CustomerData::new(PersonName::parse("改名的顾客")?),
            )],
            ..ImportBatch::default()
        })))?;
        // A created customer renamed in the same write.
        let first = created.created_customers[0];
        w.import_parts(&mut std::iter::once::<ImportPart>(Ok(ImportBatch {
            update_customers: vec![(first, CustomerData::new(PersonName::parse("张伟")?))],
            ..ImportBatch::default()
        })))?;
        // Creates, then a purchase of a customer who does not exist: rolled back.
        let refused = w.import_parts(&mut std::iter::once::<ImportPart>(Ok(ImportBatch {
            create_customers: (0..20).map(|i| new(&format!("回滚 {i}"))).collect(),
            purchases: vec![(
                CustomerRef::Existing(solocrm_core::CustomerId::new(999_999)),
                NewPurchase::new(
                    solocrm_core::CustomerId::new(999_999),
                    when,
                    solocrm_core::Money::from_minor(100, Currency::EUR),
                ),
            )],
            ..ImportBatch::default()
        })));
        assert!(
            refused.is_err(),
            "a purchase of an unknown customer is refused"
        );
        w.create_customer(new("李雷")).map(drop)
    })
    .expect("the bulk write");
    let late = crm
        .write(|w| w.create_customer(new("韩梅梅")))
        .expect("a customer after the bulk write");
    drop(crm);
    let store = SqliteStore::open(&path).expect("the file");
    let problems = store.check().expect("the check");
    assert!(problems.is_empty(), "{problems:?}");
    drop(store);
    let conn = rusqlite::Connection::open(&path).expect("the file");
    let trigger: i64 = conn
        .query_row(
            "SELECT count(*) FROM sqlite_schema WHERE type = 'trigger' AND name = 'customer_search_insert'",
            [],
            |r| r.get(0),
        )
        .expect("the schema");
    assert_eq!(trigger, 1, "the insert trigger is back");
    let indexed: i64 = conn
        .query_row("SELECT count(*) FROM customer_search", [], |r| r.get(0))
        .expect("the index");
    // The old customer, 300 created, 李雷 and 韩梅梅; none of the rolled-back 20.
    assert_eq!(indexed, 1 + 300 + 2);
    let hit: i64 = conn
        .query_row(
            "SELECT rowid FROM customer_search WHERE customer_search MATCH '\"韩梅梅\"'",
            [],
            |r| r.get(0),
        )
        .expect("the late customer is found");
    assert_eq!(hit, late.id().get() as i64);
}
