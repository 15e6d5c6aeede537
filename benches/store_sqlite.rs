//! SQLite store benchmarks, each through the operations layer (`Crm` over the SQLite
//! port, as the CLI runs) against a baseline measured in the same run:
//!
//! - bulk import of 1 M purchases through `Crm::record_purchases`, against raw
//!   rusqlite inserting the same rows with one prepared statement in one transaction
//!   into the same schema (a copy of the same file, same pragmas, same indexes);
//! - the columnar purchase snapshot (`Crm::purchase_log`) of a file with 10 M
//!   purchases, against raw rusqlite reading the same columns into the same vectors;
//! - `Crm::customer` and `Crm::customer_by_email` with 100 k customers;
//! - the metrics report (`Reader::metrics_report`) from a file of 1 M purchases /
//!   100 k customers, against the same report from the in-memory store holding the
//!   same data.
//!
//! `cargo bench -p solocrm --bench store_sqlite`. The data comes from the seeded
//! generator of `solocrm-sample`; the database files are built once (a few
//! minutes) and kept in `target/solocrm-bench/` for later runs. Results and the machine:
//! `docs/performance.md`, "SQLite store". A summary with the ratios is printed at the end.
#![allow(missing_docs)] // criterion_group! generates an undocumented function.

use std::collections::BTreeMap;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::DateTime;
use criterion::{Criterion, SamplingMode};
use solocrm::memory::MemoryStore;
use solocrm::metrics::{MetricsReport, Period, ReportConfig};
use solocrm::sqlite::{SCHEMA_VERSION, SqliteStore};
use solocrm::store::ImportBatch;
use solocrm::{Crm, Email, Store};
use solocrm::{Currency, CustomerData, CustomerId, Money, NewCustomer, NewPurchase, PersonName};
use solocrm_sample::{GenConfig, business, populate, purchase_log};

const SEED: u64 = 20_260_101;

// ----- results -----

/// Every timed run, by benchmark, for the summary at the end.
static TIMES: Mutex<BTreeMap<&'static str, Vec<Duration>>> = Mutex::new(BTreeMap::new());

fn record(name: &'static str, d: Duration) {
    if let Ok(mut t) = TIMES.lock() {
        t.entry(name).or_default().push(d);
    }
}

fn median(name: &str) -> Option<Duration> {
    let t = TIMES.lock().ok()?;
    let mut v = t.get(name)?.clone();
    v.sort();
    v.get(v.len() / 2).copied()
}

// ----- fixtures -----

fn data_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("target"));
    let dir = target.join("solocrm-bench");
    std::fs::create_dir_all(&dir).expect("the bench data directory");
    dir
}

/// The file at `name` in the data directory, built by `build` (into a temporary name,
/// renamed when complete) unless a previous run left it there.
fn cached(name: &str, build: impl FnOnce(&Path)) -> PathBuf {
    let path = data_dir().join(format!("v{SCHEMA_VERSION}-{name}"));
    if !path.exists() {
        let partial = path.with_extension("partial");
        let _ = std::fs::remove_file(&partial);
        let start = Instant::now();
        build(&partial);
        // Fold the log into the file, so a copy of the file is the whole database.
        let store = SqliteStore::open(&partial).expect("opens");
        store.checkpoint().expect("checkpointed");
        drop(store);
        std::fs::rename(&partial, &path).expect("the finished file");
        eprintln!("built {} in {:.1?}", path.display(), start.elapsed());
    }
    path
}

fn copy_of(template: &Path, name: &str) -> PathBuf {
    let path = data_dir().join(name);
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    std::fs::copy(template, &path).expect("a copy of the template");
    path
}

fn remove(path: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
}

/// 100 k customers with the generator's data (names, emails, profiles, tags) and no
/// purchases; and the 1 M purchases of the same business (without deal links, which
/// the template has no deals for).
fn customers_100k() -> (PathBuf, Vec<NewPurchase>, Vec<Email>) {
    let config = GenConfig::new(100_000, SEED).with_purchases(1_000_000);
    let b = business(&config);
    let emails = b
        .customers
        .iter()
        .filter_map(|c| c.data.email.clone())
        .collect();
    let purchases = b
        .purchases
        .iter()
        .map(|p| p.to_new(CustomerId::new(p.customer as u64 + 1), None))
        .collect();
    let path = cached("customers-100k.db", |path| {
        let store = Crm::new(SqliteStore::create(path, Currency::EUR).expect("created"));
        let batch = ImportBatch {
            create_customers: b.customers.clone(),
            ..ImportBatch::default()
        };
        store.import(batch).expect("the customers");
    });
    (path, purchases, emails)
}

/// 1 M customers (names only) and 10 M purchases from the generator's purchase log,
/// written through the store in batches of 1 M.
fn purchases_10m() -> PathBuf {
    cached("purchases-10m.db", |path| {
        let config = GenConfig::new(1_000_000, SEED).with_purchases(10_000_000);
        let log = purchase_log(&config);
        let store = Crm::new(SqliteStore::create(path, Currency::EUR).expect("created"));
        let customers = log
            .customers
            .iter()
            .map(|id| {
                let name = PersonName::parse(&format!("Customer {id}")).expect("valid");
                NewCustomer::new(CustomerData::new(name), config.start)
            })
            .collect();
        store
            .import(ImportBatch {
                create_customers: customers,
                ..ImportBatch::default()
            })
            .expect("the customers");
        let rows = log.len();
        for start in (0..rows).step_by(1_000_000) {
            let batch = (start..rows.min(start + 1_000_000))
                .map(|k| {
                    NewPurchase::new(
                        log.customers[log.customer[k] as usize],
                        DateTime::from_timestamp(log.at[k], 0).expect("a valid time"),
                        Money::from_minor(log.amount[k], Currency::EUR),
                    )
                })
                .collect();
            store.record_purchases(batch).expect("the purchases");
        }
    })
}

/// A whole generated business of 100 k customers and 1 M purchases (with refunds,
/// interactions, surveys, deals, requests, tasks, points), in a file and in memory.
fn business_100k() -> (PathBuf, Crm) {
    let config = GenConfig::new(100_000, SEED).with_purchases(1_000_000);
    let path = cached("business-100k-1m.db", |path| {
        let store = Crm::new(SqliteStore::create(path, Currency::EUR).expect("created"));
        populate(&store, &config).expect("populated");
    });
    let memory = Crm::new(MemoryStore::new(Currency::EUR));
    populate(&memory, &config).expect("populated");
    (path, memory)
}

// ----- the raw baseline -----

/// The pragmas the store sets on its connections.
fn raw_connection(path: &Path) -> rusqlite::Connection {
    let conn = rusqlite::Connection::open(path).expect("a raw connection");
    conn.execute_batch(
        "PRAGMA foreign_keys = ON; PRAGMA secure_delete = ON; PRAGMA cache_size = -65536; \
         PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;",
    )
    .expect("the pragmas");
    conn
}

type RawRow = (
    i64,
    i64,
    i64,
    i64,
    Option<i64>,
    Option<String>,
    Option<u32>,
    Option<String>,
);

fn raw_rows(purchases: &[NewPurchase]) -> Vec<RawRow> {
    purchases
        .iter()
        .map(|p| {
            (
                p.customer.get() as i64,
                p.at.timestamp(),
                i64::from(p.at.timestamp_subsec_nanos()),
                p.amount.to_minor_units().expect("minor units"),
                p.cost.map(|c| c.to_minor_units().expect("minor units")),
                p.description.as_ref().map(|d| d.as_str().to_owned()),
                p.items,
                p.external_ref.as_ref().map(|r| r.as_str().to_owned()),
            )
        })
        .collect()
}

fn raw_insert(conn: &mut rusqlite::Connection, rows: &[RawRow]) {
    let tx = conn.transaction().expect("a transaction");
    {
        let mut stmt = tx
            .prepare(
                "INSERT INTO purchases (customer_id, at, at_ns, amount, cost, description, \
                 items, external_ref, deal_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, NULL)",
            )
            .expect("the statement");
        for r in rows {
            stmt.execute(rusqlite::params![r.0, r.1, r.2, r.3, r.4, r.5, r.6, r.7])
                .expect("a row");
        }
    }
    tx.commit().expect("the commit");
}

/// What `purchase_log` builds, read with plain rusqlite.
fn raw_snapshot(conn: &rusqlite::Connection) -> (Vec<u32>, Vec<i64>, Vec<i64>) {
    let ids: Vec<i64> = conn
        .prepare("SELECT id FROM customers ORDER BY id")
        .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
        .expect("the customers");
    let max = ids.last().copied().unwrap_or(0) as usize;
    let mut dense = vec![u32::MAX; max + 1];
    for (i, id) in ids.iter().enumerate() {
        dense[*id as usize] = i as u32;
    }
    let (mut c, mut t, mut a) = (Vec::new(), Vec::new(), Vec::new());
    let mut stmt = conn
        .prepare("SELECT customer_id, at, amount FROM purchases NOT INDEXED ORDER BY id")
        .expect("the statement");
    let mut rows = stmt.query([]).expect("the rows");
    while let Some(r) = rows.next().expect("a row") {
        let id: i64 = r.get(0).expect("customer");
        c.push(dense[id as usize]);
        t.push(r.get(1).expect("at"));
        a.push(r.get(2).expect("amount"));
    }
    (c, t, a)
}

// ----- benchmarks -----

fn bench_import(c: &mut Criterion, template: &Path, purchases: &[NewPurchase]) {
    let mut g = c.benchmark_group("bulk_import_1m");
    g.sampling_mode(SamplingMode::Flat)
        .sample_size(10)
        .warm_up_time(Duration::from_millis(1))
        .measurement_time(Duration::from_secs(20));
    let rows = raw_rows(purchases);
    g.bench_function("raw_rusqlite", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let path = copy_of(template, "import-raw.db");
                let mut conn = raw_connection(&path);
                let start = Instant::now();
                raw_insert(&mut conn, black_box(&rows));
                let d = start.elapsed();
                drop(conn);
                remove(&path);
                record("import_raw", d);
                total += d;
            }
            total
        })
    });
    g.bench_function("store_record_purchases", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let path = copy_of(template, "import-store.db");
                let store = Crm::new(SqliteStore::open(&path).expect("opens"));
                let batch = purchases.to_vec();
                let start = Instant::now();
                let ids = store.record_purchases(black_box(batch)).expect("imported");
                let d = start.elapsed();
                assert_eq!(ids.len(), purchases.len());
                drop(store);
                remove(&path);
                record("import_store", d);
                total += d;
            }
            total
        })
    });
    g.finish();
}

fn bench_snapshot(c: &mut Criterion, file: &Path) {
    let mut g = c.benchmark_group("purchase_snapshot_10m");
    g.sampling_mode(SamplingMode::Flat)
        .sample_size(10)
        .measurement_time(Duration::from_secs(30));
    let store = Crm::new(SqliteStore::open(file).expect("opens"));
    let conn = raw_connection(file);
    g.bench_function("raw_rusqlite", |b| {
        b.iter_custom(|iters| {
            let start = Instant::now();
            for _ in 0..iters {
                let s = raw_snapshot(black_box(&conn));
                assert_eq!(s.0.len(), 10_000_000);
            }
            let d = start.elapsed();
            record("snapshot_raw", d / iters as u32);
            d
        })
    });
    g.bench_function("store_purchase_log", |b| {
        b.iter_custom(|iters| {
            let start = Instant::now();
            for _ in 0..iters {
                let log = store.purchase_log().expect("the log");
                assert_eq!(black_box(log).len(), 10_000_000);
            }
            let d = start.elapsed();
            record("snapshot_store", d / iters as u32);
            d
        })
    });
    g.finish();
}

fn bench_lookup(c: &mut Criterion, file: &Path, emails: &[Email]) {
    let mut g = c.benchmark_group("customer_lookup_100k");
    g.sample_size(100).measurement_time(Duration::from_secs(5));
    let store = Crm::new(SqliteStore::open(file).expect("opens"));
    assert_eq!(store.count_customers().expect("count"), 100_000);
    // A fixed pseudo-random walk over the ids and emails.
    let ids: Vec<CustomerId> = (0..4096u64)
        .map(|i| CustomerId::new(1 + (i * 7_919 + 13) % 100_000))
        .collect();
    let by_email: Vec<&Email> = (0..4096usize)
        .map(|i| &emails[(i * 104_729) % emails.len()])
        .collect();
    g.bench_function("customer_by_id", |b| {
        let mut k = 0;
        b.iter_custom(|iters| {
            let start = Instant::now();
            for _ in 0..iters {
                k = (k + 1) % ids.len();
                black_box(store.customer(ids[k]).expect("found"));
            }
            let d = start.elapsed();
            record("lookup_id", d / iters as u32);
            d
        })
    });
    g.bench_function("customer_by_email", |b| {
        let mut k = 0;
        b.iter_custom(|iters| {
            let start = Instant::now();
            for _ in 0..iters {
                k = (k + 1) % by_email.len();
                black_box(store.customer_by_email(by_email[k]).expect("found"));
            }
            let d = start.elapsed();
            record("lookup_email", d / iters as u32);
            d
        })
    });
    g.finish();
}

/// The metrics report of `period`, from one snapshot of `crm`.
fn report(crm: &Crm, period: Period, config: &ReportConfig) -> MetricsReport {
    crm.metrics_report(period, config).expect("a report")
}

fn bench_report(c: &mut Criterion, file: &Path, memory: &Crm) {
    let mut g = c.benchmark_group("metrics_report_1m");
    g.sampling_mode(SamplingMode::Flat)
        .sample_size(10)
        .measurement_time(Duration::from_secs(40));
    let store = Crm::new(SqliteStore::open(file).expect("opens"));
    let period = Period::year(2025).expect("a period");
    let config = ReportConfig::default();
    let a = report(&store, period, &config);
    let b = report(memory, period, &config);
    assert_eq!(a, b, "both stores give the same report");
    for (name, s) in [("memory", memory), ("sqlite", &store)] {
        let key = if name == "memory" {
            "report_memory"
        } else {
            "report_sqlite"
        };
        g.bench_function(name, |bench| {
            bench.iter_custom(|iters| {
                let start = Instant::now();
                for _ in 0..iters {
                    black_box(report(s, period, &config));
                }
                let d = start.elapsed();
                record(key, d / iters as u32);
                d
            })
        });
    }
    g.finish();
}

fn summary() {
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    eprintln!("\n== store_sqlite summary (medians) ==");
    if let (Some(raw), Some(store)) = (median("import_raw"), median("import_store")) {
        eprintln!(
            "bulk import 1 M: raw {:.0} ms ({:.2} M rows/s), store {:.0} ms ({:.2} M rows/s); \
             store/raw speed = {:.2} (target >= 0.7)",
            ms(raw),
            1.0 / raw.as_secs_f64(),
            ms(store),
            1.0 / store.as_secs_f64(),
            raw.as_secs_f64() / store.as_secs_f64()
        );
    }
    if let (Some(raw), Some(store)) = (median("snapshot_raw"), median("snapshot_store")) {
        eprintln!(
            "snapshot 10 M: raw {:.0} ms ({:.1} M rows/s), store {:.0} ms ({:.1} M rows/s, \
             target >= 5); store/raw speed = {:.2}",
            ms(raw),
            10.0 / raw.as_secs_f64(),
            ms(store),
            10.0 / store.as_secs_f64(),
            raw.as_secs_f64() / store.as_secs_f64()
        );
    }
    if let (Some(id), Some(email)) = (median("lookup_id"), median("lookup_email")) {
        eprintln!(
            "lookup with 100 k customers: by id {:.1} us, by email {:.1} us (target < 20)",
            us(id),
            us(email)
        );
    }
    if let (Some(m), Some(s)) = (median("report_memory"), median("report_sqlite")) {
        eprintln!(
            "metrics report 1 M / 100 k: memory {:.0} ms, sqlite {:.0} ms; sqlite/memory \
             time = {:.2} (target <= 2)",
            ms(m),
            ms(s),
            s.as_secs_f64() / m.as_secs_f64()
        );
    }
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    // `cargo bench -- <filter>`: build only what the selected benchmarks need.
    let filter: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let wants = |name: &str| filter.is_empty() || filter.iter().any(|f| name.contains(f.as_str()));
    if wants("bulk_import_1m") || wants("customer_lookup_100k") {
        let (template, purchases, emails) = customers_100k();
        if wants("bulk_import_1m") {
            bench_import(&mut c, &template, &purchases);
        }
        if wants("customer_lookup_100k") {
            bench_lookup(&mut c, &template, &emails);
        }
    }
    if wants("purchase_snapshot_10m") {
        bench_snapshot(&mut c, &purchases_10m());
    }
    if wants("metrics_report_1m") {
        let (file, memory) = business_100k();
        bench_report(&mut c, &file, &memory);
    }
    c.final_summary();
    summary();
}
