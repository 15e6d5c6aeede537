//! Two writers on one file: two processes, and two connections in one process, write
//! to the same database at once for a few seconds while a reader reads. No operation
//! may fail (no "database is locked"), and every write must be there afterwards.
//!
//! The writer processes are this test binary itself, started again with
//! `SOLOCRM_WRITER_DB` set; run on its own, `writer_child` does nothing.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeZone, Utc};
use solocrm_core::Crm;
use solocrm_core::{
    ActivityQuery, Currency, CustomerData, CustomerQuery, Email, Money, NewCustomer,
    NewPointsEntry, NewPurchase, PersonName, PointsKind, Store, Tag,
};
use solocrm_store_sqlite::SqliteStore;

const WRITE_FOR: Duration = Duration::from_secs(3);

fn at(i: usize) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
        .single()
        .expect("valid")
        + chrono::Duration::seconds(i64::try_from(i).unwrap_or(0))
}

/// What one writer did: for each customer it created, its email and how many
/// purchases and points it recorded for them.
#[derive(Debug, Default)]
struct Written {
    customers: Vec<(String, usize, i64)>,
    erased: usize,
}

/// Writes as fast as it can for `WRITE_FOR`, as writer `name`; panics on any error.
fn write_for_a_while(store: &Crm, name: &str) -> Written {
    let vip = Tag::parse("vip").expect("valid");
    let mut w = Written::default();
    let start = Instant::now();
    let mut i = 0;
    while start.elapsed() < WRITE_FOR {
        let email = format!("{name}-{i}@example.com");
        let data = CustomerData::new(PersonName::parse(&format!("{name} {i}")).expect("valid"))
            .with_email(Email::parse(&email).expect("valid"));
        let c = store
            .create_customer(NewCustomer::new(data, at(i)))
            .unwrap_or_else(|e| panic!("{name}: create failed: {e}"));
        let purchases = 1 + i % 3;
        if purchases == 1 {
            store
                .record_purchase(NewPurchase::new(
                    c.id(),
                    at(i),
                    Money::from_minor(100, Currency::EUR),
                ))
                .unwrap_or_else(|e| panic!("{name}: purchase failed: {e}"));
        } else {
            let batch = (0..purchases)
                .map(|k| NewPurchase::new(c.id(), at(i + k), Money::from_minor(100, Currency::EUR)))
                .collect();
            store
                .record_purchases(batch)
                .unwrap_or_else(|e| panic!("{name}: batch failed: {e}"));
        }
        let points = i64::try_from(1 + i % 5).unwrap_or(1);
        store
            .post_points(
                NewPointsEntry::new(c.id(), at(i), PointsKind::Earn, points).expect("valid"),
            )
            .unwrap_or_else(|e| panic!("{name}: points failed: {e}"));
        store
            .tag_customer(c.id(), &vip)
            .unwrap_or_else(|e| panic!("{name}: tag failed: {e}"));
        if i % 50 == 49 {
            // An erasure checkpoints the log while the others write.
            store
                .erase_customer(c.id(), at(i))
                .unwrap_or_else(|e| panic!("{name}: erase failed: {e}"));
            w.erased += 1;
        } else {
            w.customers.push((email, purchases, points));
        }
        i += 1;
    }
    w
}

/// Reads while the writers write; panics on any error.
fn read_for_a_while(store: &Crm) -> usize {
    let start = Instant::now();
    let mut reads = 0;
    while start.elapsed() < WRITE_FOR {
        let page = store
            .list_customers(&CustomerQuery::default())
            .unwrap_or_else(|e| panic!("reader: list failed: {e}"));
        if let Some(c) = page.items.first() {
            store
                .export_customer(c.id())
                .unwrap_or_else(|e| panic!("reader: export failed: {e}"));
        }
        store
            .purchase_log()
            .unwrap_or_else(|e| panic!("reader: purchase log failed: {e}"));
        reads += 1;
    }
    reads
}

/// Checks that everything `w` wrote is in `store`.
fn all_present(store: &Crm, w: &Written) {
    for (email, purchases, points) in &w.customers {
        let c = store
            .customer_by_email(&Email::parse(email).expect("valid"))
            .expect("look-up")
            .unwrap_or_else(|| panic!("{email} is missing"));
        let bought = store
            .purchases(&ActivityQuery::customer(c.id()))
            .expect("purchases");
        assert_eq!(bought.len(), *purchases, "{email}");
        assert_eq!(store.points_balance(c.id()).expect("balance"), *points);
        assert!(c.tags().contains(&Tag::parse("vip").expect("valid")));
    }
}

fn totals(ws: &[&Written]) -> (u64, usize) {
    let customers = ws
        .iter()
        .map(|w| w.customers.len() + w.erased)
        .sum::<usize>();
    let purchases = ws
        .iter()
        .map(|w| w.customers.iter().map(|c| c.1).sum::<usize>())
        .sum::<usize>();
    (customers as u64, purchases)
}

#[test]
fn two_connections_in_threads_write_one_file_without_locking_errors() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("shared.db");
    drop(SqliteStore::create(&path, Currency::EUR).expect("created"));
    let (a, b, reads) = std::thread::scope(|s| {
        let a =
            s.spawn(|| write_for_a_while(&Crm::new(SqliteStore::open(&path).expect("opens")), "a"));
        let b =
            s.spawn(|| write_for_a_while(&Crm::new(SqliteStore::open(&path).expect("opens")), "b"));
        let r = s.spawn(|| read_for_a_while(&Crm::new(SqliteStore::open(&path).expect("opens"))));
        (
            a.join().expect("writer a"),
            b.join().expect("writer b"),
            r.join().expect("the reader"),
        )
    });
    eprintln!(
        "threads: a wrote {} customers, b {}, the reader read {reads} times",
        a.customers.len() + a.erased,
        b.customers.len() + b.erased
    );
    assert!(a.customers.len() > 10 && b.customers.len() > 10 && reads > 0);
    let file = Arc::new(SqliteStore::open(&path).expect("reopened"));
    let store = Crm::from_shared(file.clone());
    all_present(&store, &a);
    all_present(&store, &b);
    let (customers, purchases) = totals(&[&a, &b]);
    assert_eq!(store.count_customers().expect("count"), customers);
    let log = store.purchase_log().expect("log");
    let erased_purchases = log.len() - purchases;
    assert!(erased_purchases <= 3 * (a.erased + b.erased));
    assert_eq!(file.integrity_check().expect("check"), Vec::<String>::new());
}

// ----- processes -----

const CHILD_ENV: &str = "SOLOCRM_WRITER_DB";

fn report_path(db: &Path, name: &str) -> PathBuf {
    db.with_extension(format!("{name}.report"))
}

/// The writer process: writes for a while as `SOLOCRM_WRITER_NAME`, then reports what
/// it wrote, one line per customer, in a file beside the database.
#[test]
fn writer_child() {
    let Some(db) = std::env::var_os(CHILD_ENV).map(PathBuf::from) else {
        return;
    };
    let name = std::env::var("SOLOCRM_WRITER_NAME").unwrap_or_else(|_| "w".to_owned());
    let store = Crm::new(SqliteStore::open(&db).expect("the writer opens the database"));
    let w = write_for_a_while(&store, &name);
    let mut report = format!("erased {}\n", w.erased);
    for (email, purchases, points) in &w.customers {
        report.push_str(&format!("{email} {purchases} {points}\n"));
    }
    std::fs::write(report_path(&db, &name), report).expect("the report");
}

fn read_report(db: &Path, name: &str) -> Written {
    let text = std::fs::read_to_string(report_path(db, name)).expect("the writer's report");
    let mut w = Written::default();
    for line in text.lines() {
        let parts: Vec<&str> = line.split(' ').collect();
        match parts.as_slice() {
            ["erased", n] => w.erased = n.parse().expect("a number"),
            [email, purchases, points] => w.customers.push((
                (*email).to_owned(),
                purchases.parse().expect("a number"),
                points.parse().expect("a number"),
            )),
            _ => panic!("a bad report line: {line}"),
        }
    }
    w
}

#[test]
fn two_processes_write_one_file_without_locking_errors() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let db = dir.path().join("shared.db");
    drop(SqliteStore::create(&db, Currency::EUR).expect("created"));
    let exe = std::env::current_exe().expect("the test binary");
    let children: Vec<_> = ["p", "q"]
        .iter()
        .map(|name| {
            let child = Command::new(&exe)
                .args([
                    "--exact",
                    "writer_child",
                    "--nocapture",
                    "--test-threads",
                    "1",
                ])
                .env(CHILD_ENV, &db)
                .env("SOLOCRM_WRITER_NAME", name)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("a writer process");
            (*name, child)
        })
        .collect();
    let reads = read_for_a_while(&Crm::new(SqliteStore::open(&db).expect("opens")));
    for (name, child) in children {
        let out = child.wait_with_output().expect("the writer ends");
        assert!(
            out.status.success(),
            "writer {name} failed:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert!(reads > 0);
    let p = read_report(&db, "p");
    let q = read_report(&db, "q");
    eprintln!(
        "processes: p wrote {} customers, q {}, the reader read {reads} times",
        p.customers.len() + p.erased,
        q.customers.len() + q.erased
    );
    assert!(p.customers.len() > 10 && q.customers.len() > 10);
    let file = Arc::new(SqliteStore::open(&db).expect("reopened"));
    let store = Crm::from_shared(file.clone());
    all_present(&store, &p);
    all_present(&store, &q);
    let (customers, _) = totals(&[&p, &q]);
    assert_eq!(store.count_customers().expect("count"), customers);
    assert_eq!(file.integrity_check().expect("check"), Vec::<String>::new());
}
