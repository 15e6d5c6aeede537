//! The CLI on PostgreSQL books: `--db postgres://…?tenant=N` for `init` and every
//! command that reads or writes the books, and `solocrm migrate` from an SQLite file
//! to PostgreSQL and back, which gives the same `export all` byte for byte.
//!
//! Needs a server: `SOLOCRM_TEST_PG_URL`. Without it the tests print that they skipped;
//! with `SOLOCRM_REQUIRE_PG=1` they fail instead. Each works in a fresh schema.

mod common;

use common::{Env, command_on};

/// The test server's URL, or `None` (printed) when there is none and none is required.
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

/// A fresh schema of its own, dropped when done.
struct Schema {
    url: String,
    name: String,
}

impl Schema {
    fn new(url: &str, test: &str) -> Schema {
        let name = format!("solocrm_cli_{test}_{}", std::process::id());
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

    /// `--db` for `tenant`'s books in this schema.
    fn db(&self, tenant: i64) -> String {
        format!("{}&tenant={tenant}", self.url())
    }

    /// `--db` for this schema, naming no tenant.
    fn url(&self) -> String {
        let sep = if self.url.contains('?') { '&' } else { '?' };
        format!("{}{sep}options=-c%20search_path%3D{}", self.url, self.name)
    }
}

impl Drop for Schema {
    fn drop(&mut self) {
        if let Ok(mut client) = postgres::Client::connect(&self.url, postgres::NoTls) {
            let _ = client.batch_execute(&format!("DROP SCHEMA IF EXISTS {} CASCADE", self.name));
        }
    }
}

/// Runs `args` on `db`; its standard output, or a failure with its standard error.
#[track_caller]
fn ok_on(db: &str, args: &[&str]) -> String {
    let out = command_on(db, args).output().expect("the binary runs");
    assert!(
        out.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8")
}

#[test]
fn books_on_postgres_are_created_written_and_read_by_url() {
    let Some(url) = server() else { return };
    let schema = Schema::new(&url, "books");
    let db = schema.db(2);
    ok_on(
        &db,
        &["init", "--currency", "EUR", "--timezone", "Asia/Shanghai"],
    );
    ok_on(
        &db,
        &[
            "customer",
            "add",
            "Ada Lovelace",
            "--email",
            "ada@example.com",
        ],
    );
    let list = ok_on(&db, &["customer", "list"]);
    assert!(list.contains("Ada Lovelace"), "{list}");
    let segments = ok_on(&db, &["--json", "segment", "list"]);
    assert_eq!(segments.trim(), "[]");
    // Another tenant of the same database is other books.
    let other = schema.db(3);
    ok_on(&other, &["init", "--currency", "EUR"]);
    let list = ok_on(&other, &["customer", "list"]);
    assert!(!list.contains("Ada"), "{list}");
    // A second init of a tenant is refused; a tenant without books is not found.
    let out = command_on(&db, &["init", "--currency", "EUR"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("already has books"));
    // demo builds a file; on PostgreSQL it says how to get one there.
    let out = command_on(schema.db(8), &["demo", "--customers", "5"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("solocrm migrate"));
    let out = command_on(schema.db(9), &["customer", "list"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no books of tenant 9"));
}

#[test]
fn migrate_sqlite_to_postgres_to_sqlite_keeps_export_all_identical() {
    let Some(url) = server() else { return };
    let schema = Schema::new(&url, "migrate");
    let env = Env::new();
    env.ok(&["demo", "--customers", "60", "--end", "2025-12-31"]);
    let file = env.db();
    let file = file.to_str().expect("a UTF-8 path");
    let pg = schema.db(4);
    let back = env.path("back.db");
    let back = back.to_str().expect("a UTF-8 path");
    let report: serde_json::Value = serde_json::from_str(&ok_on(
        file,
        &["--json", "migrate", "--from", file, "--to", &pg],
    ))
    .expect("JSON");
    assert_eq!(report["verified"], true, "{report}");
    assert!(
        report["records"]["customers"].as_u64() == Some(60),
        "{report}"
    );
    let said = ok_on(file, &["migrate", "--from", &pg, "--to", back]);
    assert!(said.contains("both read back the same"), "{said}");
    let original = ok_on(file, &["export", "all"]);
    assert_eq!(ok_on(back, &["export", "all"]), original);
    assert_eq!(ok_on(&pg, &["export", "all"]), original);
    // The target must be new.
    let out = command_on(file, &["migrate", "--from", file, "--to", &pg])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let out = command_on(file, &["migrate", "--from", &pg, "--to", back])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("already exists"));
}

/// `--tenant N` (and `SOLOCRM_TENANT`) selects the same books as `?tenant=N`; a
/// tenant that disagrees with the URL's, or one given for an SQLite file, is refused
/// with a message that says why.
#[test]
fn the_tenant_option_selects_the_books_the_url_would() {
    let Some(url) = server() else { return };
    let schema = Schema::new(&url, "tenant");
    let bare = schema.url();
    ok_on(&bare, &["--tenant", "5", "init", "--currency", "EUR"]);
    ok_on(&bare, &["customer", "add", "Grace Hopper", "--tenant", "5"]);
    // The same books by the URL, by the option with the same tenant in the URL, and
    // by the environment.
    for list in [
        ok_on(&schema.db(5), &["customer", "list"]),
        ok_on(&schema.db(5), &["--tenant", "5", "customer", "list"]),
        {
            let out = command_on(&bare, &["customer", "list"])
                .env("SOLOCRM_TENANT", "5")
                .output()
                .expect("runs");
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            String::from_utf8(out.stdout).expect("UTF-8")
        },
    ] {
        assert!(list.contains("Grace Hopper"), "{list}");
    }
    // Without a tenant the URL means tenant 1, which has no books here.
    let out = command_on(&bare, &["customer", "list"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no books of tenant 1"));
    // The option and the URL disagree: refused, whichever comes from where.
    for cmd in [
        command_on(schema.db(5), &["--tenant", "6", "customer", "list"]),
        {
            let mut c = command_on(schema.db(5), &["customer", "list"]);
            c.env("SOLOCRM_TENANT", "6");
            c
        },
    ] {
        let mut cmd = cmd;
        let out = cmd.output().expect("runs");
        assert_eq!(out.status.code(), Some(1));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("--tenant 6")
                && err.contains("tenant=5")
                && err.contains("different books"),
            "{err}"
        );
    }
    // An SQLite file holds one book: a tenant for it is refused, not ignored.
    let env = Env::new();
    env.init();
    let err = env.fails(&["--tenant", "2", "customer", "list"], 1);
    assert!(err.contains("SQLite file"), "{err}");
    // Not a tenant at all: a usage error.
    let out = command_on(&bare, &["--tenant", "0", "customer", "list"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
}
