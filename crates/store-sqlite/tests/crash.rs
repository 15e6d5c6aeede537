//! Crash safety: a child process bulk-imports a big batch of purchases and is killed
//! with SIGKILL at different moments, mid-way through the import or its commit. After
//! each kill the file must pass `PRAGMA integrity_check`, hold the batch entirely or
//! not at all, and hold everything committed before unchanged.
//!
//! The child is this test binary itself, started again with `SOLOCRM_CRASH_CHILD` set
//! to the database path; run on its own, `crash_child` does nothing.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeZone, Utc};
use solocrm_core::Crm;
use solocrm_core::{
    ActivityQuery, Currency, CustomerData, CustomerId, Money, NewCustomer, NewPurchase, PersonName,
    Store,
};
use solocrm_store_sqlite::SqliteStore;

const CHILD_ENV: &str = "SOLOCRM_CRASH_CHILD";
const CUSTOMERS: u64 = 200;
/// Big enough that the import and its commit take a while even in an optimised build.
const BATCH: usize = 200_000;

fn at(i: usize) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
        .single()
        .expect("valid")
        + chrono::Duration::seconds(i64::try_from(i).unwrap_or(0))
}

/// The `round`th batch: deterministic, so the parent knows what a committed batch holds.
fn batch(round: usize) -> Vec<NewPurchase> {
    (0..BATCH)
        .map(|i| {
            let customer = CustomerId::new(1 + (i as u64 * 7919) % CUSTOMERS);
            let minor = i64::try_from((i * 37 + round) % 100_000).unwrap_or(0);
            NewPurchase::new(customer, at(i), Money::from_minor(minor, Currency::EUR))
        })
        .collect()
}

fn marker(path: &Path, what: &str) -> PathBuf {
    path.with_extension(what)
}

/// The child: imports batch `SOLOCRM_CRASH_ROUND` into the database at
/// `SOLOCRM_CRASH_CHILD`, writing marker files just before and just after.
#[test]
fn crash_child() {
    let Some(path) = std::env::var_os(CHILD_ENV).map(PathBuf::from) else {
        return;
    };
    let round: usize = std::env::var("SOLOCRM_CRASH_ROUND")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(0);
    let store = Crm::new(SqliteStore::open(&path).expect("the child opens the database"));
    let rows = batch(round);
    std::fs::write(marker(&path, "started"), b"").expect("the start marker");
    store.record_purchases(rows).expect("the import");
    std::fs::write(marker(&path, "done"), b"").expect("the done marker");
    // Keep the connection (and the log) until the parent kills this process.
    std::thread::sleep(Duration::from_secs(60));
}

fn spawn_child(path: &Path, round: usize) -> std::process::Child {
    let exe = std::env::current_exe().expect("the test binary");
    Command::new(exe)
        .args([
            "--exact",
            "crash_child",
            "--nocapture",
            "--test-threads",
            "1",
        ])
        .env(CHILD_ENV, path)
        .env("SOLOCRM_CRASH_ROUND", round.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the child starts")
}

fn wait_for(file: &Path, limit: Duration) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if file.exists() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    false
}

/// When the parent kills the child.
#[derive(Debug, Clone, Copy)]
enum Kill {
    /// This fraction of an import's time after it started.
    After(f64),
    /// Once the log has this many bytes (during the commit).
    LogBytes(u64),
    /// This long after the import returned.
    Done(Duration),
}

fn wal(path: &Path) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push("-wal");
    PathBuf::from(s)
}

/// Checkpoints and truncates the log, so that its growth shows the next import's
/// writes.
fn empty_the_log(path: &Path) {
    let store = SqliteStore::open(path).expect("opens");
    store.checkpoint().expect("a checkpoint");
    drop(store);
    assert_eq!(
        std::fs::metadata(wal(path)).map(|m| m.len()).unwrap_or(0),
        0
    );
}

/// Everything the parent compares after a crash.
#[derive(Debug, PartialEq)]
struct Snapshot {
    customers: Vec<solocrm_core::CustomerExport>,
    log: solocrm_core::PurchaseLog,
}

fn snapshot(store: &Crm) -> Snapshot {
    let customers = (1..=CUSTOMERS)
        .step_by(37)
        .map(|id| store.export_customer(CustomerId::new(id)).expect("export"))
        .collect();
    Snapshot {
        customers,
        log: store.purchase_log().expect("log"),
    }
}

#[cfg(unix)]
#[test]
fn a_bulk_import_killed_mid_way_is_all_or_nothing_and_the_file_stays_sound() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("crash.db");
    {
        let store = Crm::new(SqliteStore::create(&path, Currency::EUR).expect("created"));
        for i in 0..CUSTOMERS {
            let name = PersonName::parse(&format!("Customer {i}")).expect("valid");
            store
                .create_customer(NewCustomer::new(CustomerData::new(name), at(0)))
                .expect("customer");
        }
        let first: Vec<NewPurchase> = batch(0).into_iter().take(1000).collect();
        store.record_purchases(first).expect("earlier data");
    }

    // Round 1 runs to the end, to learn how long an import takes here and how much it
    // writes to the log.
    empty_the_log(&path);
    let mut child = spawn_child(&path, 1);
    assert!(
        wait_for(&marker(&path, "started"), Duration::from_secs(120)),
        "the child started the import"
    );
    let started = Instant::now();
    assert!(wait_for(&marker(&path, "done"), Duration::from_secs(600)));
    let full = started.elapsed();
    let log_bytes = std::fs::metadata(wal(&path)).map(|m| m.len()).unwrap_or(0);
    child.kill().expect("SIGKILL after the import");
    child.wait().expect("the child is gone");
    assert!(log_bytes > 0, "the import wrote to the log");
    let _ = std::fs::remove_file(marker(&path, "done"));
    let _ = std::fs::remove_file(marker(&path, "started"));

    let mut before = {
        let store = Crm::new(SqliteStore::open(&path).expect("reopened"));
        let s = snapshot(&store);
        assert_eq!(s.log.len(), 1000 + BATCH);
        s
    };

    // Then kills spread over the import: part-way through building the transaction,
    // while the commit writes the log (at byte counts of the log), and after the
    // commit (while the log is checkpointed or just after).
    let kills = [
        Kill::After(0.3),
        Kill::After(0.7),
        Kill::LogBytes(log_bytes / 10),
        Kill::LogBytes(log_bytes / 2),
        Kill::LogBytes(log_bytes / 10 * 9),
        Kill::LogBytes(log_bytes.saturating_sub(64 * 1024)),
        Kill::Done(Duration::ZERO),
        Kill::Done(Duration::from_millis(20)),
    ];
    let mut interrupted = 0;
    let mut committed = 0;
    for (round, kill) in kills.into_iter().enumerate() {
        let round = round + 2;
        empty_the_log(&path);
        let mut child = spawn_child(&path, round);
        assert!(
            wait_for(&marker(&path, "started"), Duration::from_secs(120)),
            "the child started the import"
        );
        match kill {
            Kill::After(fraction) => std::thread::sleep(full.mul_f64(fraction)),
            Kill::LogBytes(n) => {
                let start = Instant::now();
                while std::fs::metadata(wal(&path)).map(|m| m.len()).unwrap_or(0) < n
                    && !marker(&path, "done").exists()
                    && start.elapsed() < Duration::from_secs(600)
                {
                    std::thread::sleep(Duration::from_micros(200));
                }
            }
            Kill::Done(pause) => {
                assert!(wait_for(&marker(&path, "done"), Duration::from_secs(600)));
                std::thread::sleep(pause);
            }
        }
        let finished_first = marker(&path, "done").exists();
        child.kill().expect("SIGKILL");
        child.wait().expect("the child is gone");
        if !finished_first && !marker(&path, "done").exists() {
            interrupted += 1;
        }
        let _ = std::fs::remove_file(marker(&path, "done"));
        let _ = std::fs::remove_file(marker(&path, "started"));

        let file = Arc::new(SqliteStore::open(&path).expect("the file opens after the crash"));
        let store = Crm::from_shared(file.clone());
        assert_eq!(
            file.integrity_check().expect("the check runs"),
            Vec::<String>::new(),
            "round {round}: the file is sound"
        );
        let now = snapshot(&store);
        let rows = now.log.len();
        eprintln!(
            "round {round}: {kill:?} (an import takes {full:?} and {log_bytes} log bytes); \
             finished first: {finished_first}; batch {}",
            if rows == before.log.len() {
                "absent"
            } else {
                "present"
            }
        );
        if rows == before.log.len() {
            assert_eq!(now, before, "round {round}: nothing changed");
        } else {
            assert_eq!(
                rows,
                before.log.len() + BATCH,
                "round {round}: all or nothing"
            );
            // The earlier rows are untouched and the batch is there row for row.
            let old = before.log.len();
            assert_eq!(now.log.amount[..old], before.log.amount[..]);
            assert_eq!(now.log.at[..old], before.log.at[..]);
            let expected: Vec<i64> = batch(round)
                .iter()
                .map(|p| p.amount.to_minor_units().expect("minor units"))
                .collect();
            assert_eq!(now.log.amount[old..], expected[..]);
            let last = store
                .purchases(&ActivityQuery::customer(CustomerId::new(1)))
                .expect("purchases");
            assert!(!last.is_empty());
            committed += 1;
            before = now;
        }
    }
    assert!(interrupted >= 4, "kills landed before the import finished");
    assert!(committed >= 2, "the imports that finished are there");
    eprintln!("{interrupted} kills before the end, {committed} batches committed");
}
