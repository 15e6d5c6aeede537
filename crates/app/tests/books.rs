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
