//! Opening and creating books: the schema is made once and migrations are idempotent,
//! a tenant is created once and opened after, a missing tenant and a newer schema are
//! refused (the newer one untouched), and books keep their currency and book id.

mod common;

use solocrm_core::port::Storage;
use solocrm_core::{Currency, Store};
use solocrm_store_postgres::{OpenError, PgOptions, PgStore, SCHEMA_VERSION, TenantId};

fn tenant(n: i64) -> TenantId {
    TenantId::new(n).expect("a tenant")
}

#[test]
fn books_are_created_once_and_opened_after() {
    let Some(pg) = common::server() else { return };
    let options = PgOptions::new();
    let a = PgStore::create_with(pg.config(), tenant(3), Currency::JPY, &options).expect("created");
    assert_eq!(a.tenant(), tenant(3));
    let id = a.book_id().expect("a book id");
    assert_eq!(id.len(), 16);
    assert!(id.chars().all(|c| c.is_ascii_hexdigit()));
    let again = PgStore::create_with(pg.config(), tenant(3), Currency::EUR, &options);
    assert!(matches!(again, Err(OpenError::Tenant(_))), "{again:?}");
    let b = PgStore::open_with(pg.config(), tenant(3), &options).expect("opened");
    assert_eq!(b.base_currency(), Currency::JPY);
    assert_eq!(b.book_id().expect("its id"), id);
    let other = PgStore::create_with(pg.config(), tenant(4), Currency::EUR, &options)
        .expect("a second tenant");
    assert_ne!(other.book_id().expect("its id"), id);
    other.adopt_book_id(&id).expect("adopted");
    assert_eq!(other.book_id().expect("its id"), id);
    assert_eq!(
        b.book_id().expect("its id"),
        id,
        "the other tenant's is unchanged"
    );
    assert!(other.adopt_book_id("NOT-AN-ID").is_err());
    let missing = PgStore::open_with(pg.config(), tenant(5), &options);
    assert!(matches!(missing, Err(OpenError::Tenant(_))), "{missing:?}");
    let mut client = pg.client();
    let version: i32 = client
        .query_one("SELECT version FROM solocrm_schema", &[])
        .expect("the version")
        .get(0);
    assert_eq!(version, SCHEMA_VERSION);
    let rows: i64 = client
        .query_one("SELECT count(*) FROM solocrm_schema", &[])
        .expect("a count")
        .get(0);
    assert_eq!(rows, 1, "migrated once");
}

#[test]
fn a_newer_schema_is_refused_untouched() {
    let Some(pg) = common::server() else { return };
    let crm = solocrm_core::Crm::new(pg.store_of(1));
    assert_eq!(crm.count_customers().expect("a count"), 0);
    drop(crm);
    let mut client = pg.client();
    client
        .execute(
            "UPDATE solocrm_schema SET version = $1",
            &[&(SCHEMA_VERSION + 1)],
        )
        .expect("a newer version");
    let err =
        PgStore::open_with(pg.config(), tenant(1), &PgOptions::new()).expect_err("a newer schema");
    assert!(
        matches!(err, OpenError::NewerSchema { found, supported }
            if found == SCHEMA_VERSION + 1 && supported == SCHEMA_VERSION),
        "{err:?}"
    );
    let version: i32 = client
        .query_one("SELECT version FROM solocrm_schema", &[])
        .expect("the version")
        .get(0);
    assert_eq!(version, SCHEMA_VERSION + 1, "left as it was");
}

#[test]
fn a_bad_location_is_refused_before_connecting() {
    for bad in [
        "sqlite:books.db",
        "postgres://h/db?tenant=0",
        "postgres://h/db?tenant=x",
    ] {
        let err = PgStore::open(bad).expect_err("refused");
        assert!(matches!(err, OpenError::BadUrl(_)), "{bad}: {err:?}");
    }
    let err = PgStore::open("postgres://nobody@127.0.0.1:1/none?connect_timeout=2")
        .expect_err("nothing listens there");
    assert!(matches!(err, OpenError::Connect(_)), "{err:?}");
}

/// A segment whose stored condition does not decode is left out of the list and
/// named, with the reason, by `unreadable_segments`.
#[test]
fn an_unreadable_segment_is_left_out_and_named() {
    use solocrm_core::{Cmp, Comparison, Label, Predicate, Segment};
    let Some(pg) = common::server() else { return };
    let store = std::sync::Arc::new(pg.store_of(1));
    let crm = solocrm_core::Crm::from_shared(store.clone());
    for name in ["fine", "broken"] {
        crm.create_segment(Segment {
            name: Label::parse(name).expect("a label"),
            predicate: Predicate::PurchaseCount(Comparison {
                op: Cmp::Ge,
                value: 1,
            }),
        })
        .expect("saved");
    }
    assert!(store.unreadable_segments().expect("read").is_empty());
    pg.client()
        .execute(
            "UPDATE segments SET predicate = '{\"no\": 1}' WHERE name = 'broken'",
            &[],
        )
        .expect("broken by hand");
    let names: Vec<String> = crm
        .segments()
        .expect("the list")
        .into_iter()
        .map(|s| s.name.to_string())
        .collect();
    assert_eq!(names, ["fine"]);
    let bad = store.unreadable_segments().expect("read");
    assert_eq!(bad.len(), 1, "{bad:?}");
    assert_eq!(bad[0].0, "broken");
    assert!(bad[0].1.contains("segments.predicate"), "{bad:?}");
}
