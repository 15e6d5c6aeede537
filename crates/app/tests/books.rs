//! Opening and creating books by location.

use chrono::{TimeZone, Utc};
use solocrm_app::{Books, Location, OpenError, OpenOptions};
use solocrm_core::{Currency, CustomerData, NewCustomer, PersonName, Store};

fn add(books: &Books, name: &str) {
    let at = Utc
        .with_ymd_and_hms(2026, 2, 1, 9, 0, 0)
        .single()
        .expect("valid");
    books
        .create_customer(NewCustomer::new(
            CustomerData::new(PersonName::parse(name).expect("name")),
            at,
        ))
        .expect("a customer");
}

#[test]
fn a_file_book_keeps_its_records_across_opening() {
    let dir = tempfile::tempdir().expect("dir");
    let location = Location::Path(dir.path().join("店.db"));
    let books = Books::create(&location, Currency::CNY, &OpenOptions::default()).expect("create");
    add(&books, "李雷");
    assert!(books.sqlite().is_some());
    drop(books);
    let books = Books::open(&location, &OpenOptions::default()).expect("open");
    assert_eq!(books.count_customers().expect("count"), 1);
    assert_eq!(books.currency(), Currency::CNY);
    assert_eq!(books.location(), &location);
}

#[test]
fn a_memory_book_is_created_not_opened() {
    let books =
        Books::create(&Location::Memory, Currency::EUR, &OpenOptions::default()).expect("create");
    add(&books, "Ada");
    assert_eq!(books.count_customers().expect("count"), 1);
    assert!(books.sqlite().is_none());
    assert!(matches!(
        Books::open(&Location::Memory, &OpenOptions::default()),
        Err(OpenError::NothingToOpen)
    ));
}

#[test]
fn opening_a_missing_file_or_creating_over_one_says_so() {
    let dir = tempfile::tempdir().expect("dir");
    let location = Location::Path(dir.path().join("none.db"));
    let err = Books::open(&location, &OpenOptions::default()).expect_err("no file");
    assert!(err.to_string().contains("none.db"), "{err}");
    Books::create(&location, Currency::EUR, &OpenOptions::default()).expect("create");
    let err = Books::create(&location, Currency::EUR, &OpenOptions::default())
        .expect_err("a file is there");
    assert!(err.to_string().contains("none.db"), "{err}");
}

#[test]
fn the_settings_show_the_zone_and_a_change_keeps_the_instants() {
    use solocrm_app::settings::Settings;
    use solocrm_core::BusinessZone;
    let dir = tempfile::tempdir().expect("dir");
    let location = Location::Path(dir.path().join("shop.db"));
    let books = Books::create(&location, Currency::CNY, &OpenOptions::default()).expect("create");
    add(&books, "李雷");
    let before = Settings::load(&books).expect("settings");
    assert_eq!(
        before.timezone,
        BusinessZone::UTC,
        "a new file counts UTC days"
    );
    let beijing = BusinessZone::parse("Asia/Shanghai").expect("a zone");
    let change = books.set_time_zone(beijing).expect("set");
    assert_eq!((change.from, change.to), (BusinessZone::UTC, beijing));
    assert!(!change.is_unchanged());
    drop(books);
    let books = Books::open(&location, &OpenOptions::default()).expect("open");
    let after = Settings::load(&books).expect("settings");
    assert_eq!(after.timezone, beijing);
    assert_eq!(after.book_id, before.book_id);
    assert_eq!(
        after.schema_version,
        Some(solocrm_store_sqlite::SCHEMA_VERSION)
    );
    let json = serde_json::to_value(&after).expect("JSON");
    assert_eq!(json["timezone"], "Asia/Shanghai");
    assert_eq!(json["currency"], "CNY");
    let customer = books.customer_by_id(solocrm_core::CustomerId::new(1));
    let created = customer.expect("read").expect("kept").created_at();
    assert_eq!(created.to_rfc3339(), "2026-02-01T09:00:00+00:00");
    let memory =
        Books::create(&Location::Memory, Currency::EUR, &OpenOptions::default()).expect("memory");
    assert_eq!(
        Settings::load(&memory).expect("settings").schema_version,
        None
    );
}
