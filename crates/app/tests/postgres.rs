//! Books at a `postgres://` location: created and opened by URL (`?tenant=N` selects
//! the books), and the lossless archive round trip PostgreSQL → SQLite → PostgreSQL
//! gives the same archive byte for byte, book id included (what `solocrm migrate`
//! will build on).
//!
//! Needs a server: `SOLOCRM_TEST_PG_URL`. Without it the test prints that it skipped;
//! with `SOLOCRM_REQUIRE_PG=1` it fails instead. It works in a fresh schema of its own.

use solocrm_app::exchange::archive::{import_archive, read_archive, write_archive};
use solocrm_app::{Books, Location, OpenOptions};
use solocrm_core::Currency;
use solocrm_sample::{GenConfig, populate};

/// The test server's URL, or `None` (printed) when there is none and none is
/// required.
fn server() -> Option<String> {
    let required = std::env::var("SOLOCRM_REQUIRE_PG").is_ok_and(|v| v == "1");
    match std::env::var("SOLOCRM_TEST_PG_URL") {
        Ok(url) => Some(url),
        Err(_) => {
            assert!(
                !required,
                "SOLOCRM_REQUIRE_PG=1 but SOLOCRM_TEST_PG_URL is not set"
            );
            eprintln!("skipped: set SOLOCRM_TEST_PG_URL to run the PostgreSQL tests");
            None
        }
    }
}

/// A fresh schema, dropped when done.
struct Schema {
    url: String,
    name: String,
}

impl Schema {
    fn new(url: &str) -> Schema {
        let name = format!("solocrm_app_test_{}", std::process::id());
        let mut client = postgres::Client::connect(url, postgres::NoTls)
            .expect("the server at SOLOCRM_TEST_PG_URL answers");
        client
            .batch_execute(&format!(
                "DROP SCHEMA IF EXISTS {name} CASCADE; CREATE SCHEMA {name}"
            ))
            .expect("a schema");
        Schema {
            url: url.to_owned(),
            name,
        }
    }

    /// The location of `tenant`'s books in this schema.
    fn location(&self, tenant: i64) -> Location {
        let sep = if self.url.contains('?') { '&' } else { '?' };
        Location::parse(&format!(
            "{}{sep}options=-c%20search_path%3D{}&tenant={tenant}",
            self.url, self.name
        ))
        .expect("a postgres location")
    }
}

impl Drop for Schema {
    fn drop(&mut self) {
        if let Ok(mut client) = postgres::Client::connect(&self.url, postgres::NoTls) {
            let _ = client.batch_execute(&format!("DROP SCHEMA IF EXISTS {} CASCADE", self.name));
        }
    }
}

fn archive_text(books: &Books) -> String {
    let mut out = Vec::new();
    write_archive(&read_archive(books).expect("read"), &mut out).expect("written");
    String::from_utf8(out).expect("UTF-8")
}

#[test]
fn books_round_trip_between_postgres_and_sqlite_exactly() {
    let Some(url) = server() else { return };
    let schema = Schema::new(&url);
    let options = OpenOptions::new();
    let from = Books::create(&schema.location(5), Currency::EUR, &options).expect("created");
    assert!(from.postgres().is_some() && from.sqlite().is_none());
    // The generator scripts its own stage changes: it writes through a plain `Crm`
    // (no automatic lifecycle) on a second handle of the same books.
    let Location::Postgres(url5) = schema.location(5) else {
        unreachable!("a postgres location")
    };
    let plain = solocrm_core::Crm::new(
        solocrm_store_postgres::PgStore::open(&url5).expect("a second handle"),
    );
    populate(&plain, &GenConfig::new(40, 3).with_purchases(300)).expect("populated");
    let text = archive_text(&from);

    let dir = tempfile::tempdir().expect("a directory");
    let file = Books::create(
        &Location::Path(dir.path().join("copy.db")),
        Currency::EUR,
        &options,
    )
    .expect("a file");
    let archive = read_archive(&from).expect("read");
    import_archive(&file, &archive).expect("into SQLite");
    assert_eq!(archive_text(&file), text, "PostgreSQL → SQLite");

    let back = Books::create(&schema.location(6), Currency::EUR, &options).expect("created");
    import_archive(&back, &read_archive(&file).expect("read")).expect("into PostgreSQL");
    assert_eq!(archive_text(&back), text, "SQLite → PostgreSQL");
    assert_eq!(back.book_id().ok(), from.book_id().ok(), "the same book");

    // Opened again by URL, tenant 6 is the restored book; tenant 7 has none.
    let reopened = Books::open(&schema.location(6), &options).expect("opened");
    assert_eq!(archive_text(&reopened), text);
    assert!(Books::open(&schema.location(7), &options).is_err());
}
