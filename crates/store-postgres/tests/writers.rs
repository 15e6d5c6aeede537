//! Eight writers of one tenant at once — four threads of this process and four other
//! processes (this test binary run again as `writers_child`), each with its own
//! handle and pool — record purchases and earn and redeem points for a few shared
//! customers for a while. Then: every write a writer was told had succeeded is in
//! the books (and nothing else is), no writer saw an error (a redemption the balance
//! cannot cover is refused as a business rule, never overdrawn), no balance ever went
//! below zero, and ids are gap-free.
//!
//! How long: `SOLOCRM_PG_WRITERS_SECS` seconds; by default 30 under
//! `SOLOCRM_REQUIRE_PG=1` (CI), 5 otherwise.

mod common;

use std::collections::{HashMap, HashSet};
use std::io::{BufRead as _, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeZone, Utc};
use solocrm_core::{
    ActivityQuery, Crm, Currency, CustomerData, CustomerId, ExternalRef, Money, NewCustomer,
    NewPointsEntry, NewPurchase, PersonName, PointsKind, Store, StoreError,
};
use solocrm_store_postgres::{PgOptions, PgStore, TenantId};

const THREADS: usize = 4;
const PROCESSES: usize = 4;
const CUSTOMERS: u64 = 3;

fn duration() -> Duration {
    let secs = std::env::var("SOLOCRM_PG_WRITERS_SECS")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .unwrap_or(
            if std::env::var("SOLOCRM_REQUIRE_PG").is_ok_and(|v| v == "1") {
                30
            } else {
                5
            },
        );
    Duration::from_secs(secs)
}

fn at(seconds: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0)
        .single()
        .expect("an instant")
        + chrono::Duration::seconds(seconds)
}

/// What a writer was told.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Ack {
    /// A purchase stored: its reference and amount in cents.
    Purchase(String, i64),
    /// A points entry stored: its id and delta.
    Points(u64, i64),
    /// A redemption refused: the balance could not cover it.
    Refused,
}

impl Ack {
    fn line(&self) -> String {
        match self {
            Ack::Purchase(r, cents) => format!("ack purchase {r} {cents}"),
            Ack::Points(id, delta) => format!("ack points {id} {delta}"),
            Ack::Refused => "ack refused".to_owned(),
        }
    }

    /// The acknowledgement in `line`, which may follow the test harness's own
    /// `test writers_child ... ` on the same line.
    fn parse(line: &str) -> Option<Ack> {
        let line = &line[line.find("ack ")?..];
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["ack", "purchase", r, cents] => {
                Some(Ack::Purchase((*r).to_owned(), cents.parse().ok()?))
            }
            ["ack", "points", id, delta] => {
                Some(Ack::Points(id.parse().ok()?, delta.parse().ok()?))
            }
            ["ack", "refused"] => Some(Ack::Refused),
            _ => None,
        }
    }
}

/// Writes for `how_long` as writer `w`, telling `tell` of each acknowledged write;
/// the errors it saw (none is the point).
fn write_for(
    store: PgStore,
    w: usize,
    how_long: Duration,
    tell: &mut dyn FnMut(Ack),
) -> Vec<String> {
    let crm = Crm::new(store);
    let until = Instant::now() + how_long;
    let mut errors = Vec::new();
    let mut state = 0x9E37_79B9_7F4A_7C15_u64 ^ (w as u64).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    let mut i = 0_i64;
    while Instant::now() < until {
        // xorshift: which customer, and what to write.
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let who = CustomerId::new(state % CUSTOMERS + 1);
        let when = at(i64::try_from(w).unwrap_or(0) * 1_000_000 + i);
        i += 1;
        match (state >> 8) % 3 {
            0 => {
                let reference = format!("w{w}-{i}");
                let cents = 100 + i64::try_from(state % 900).unwrap_or(0);
                let mut p = NewPurchase::new(who, when, Money::from_minor(cents, Currency::EUR));
                p.external_ref = Some(ExternalRef::parse(&reference).expect("a reference"));
                match crm.record_purchase(p) {
                    Ok(_) => tell(Ack::Purchase(reference, cents)),
                    Err(e) => errors.push(format!("purchase {reference}: {e}")),
                }
            }
            kind => {
                let (kind, amount) = if kind == 1 {
                    (PointsKind::Earn, 3)
                } else {
                    (PointsKind::Redeem, 5)
                };
                let entry = NewPointsEntry::new(who, when, kind, amount).expect("an entry");
                match crm.post_points(entry) {
                    Ok(e) => tell(Ack::Points(e.id().get(), e.delta())),
                    Err(StoreError::Conflict(_)) => tell(Ack::Refused),
                    Err(e) => errors.push(format!("points: {e}")),
                }
            }
        }
    }
    errors
}

fn handle(config: postgres::Config) -> PgStore {
    PgStore::open_with(
        config,
        TenantId::new(1).expect("a tenant"),
        &PgOptions::new().pool_size(2),
    )
    .expect("a handle on the books")
}

/// A writer process: writes into tenant 1 of the parent's schema and prints each
/// acknowledged write, then its errors, then `done`.
#[test]
fn writers_child() {
    let Ok(schema) = std::env::var("SOLOCRM_WRITERS_CHILD") else {
        return;
    };
    let w: usize = std::env::var("SOLOCRM_WRITER")
        .ok()
        .and_then(|s| s.parse().ok())
        .expect("the writer's number");
    let millis: u64 = std::env::var("SOLOCRM_WRITER_MILLIS")
        .ok()
        .and_then(|s| s.parse().ok())
        .expect("how long");
    let config = common::PgTest::config_of_schema(&schema).expect("the parent's server");
    let errors = write_for(
        handle(config),
        w,
        Duration::from_millis(millis),
        &mut |ack| {
            println!("{}", ack.line());
        },
    );
    for e in errors {
        println!("err {}", e.replace('\n', " "));
    }
    println!("done");
}

#[test]
fn eight_writers_threads_and_processes_lose_nothing_and_never_overdraw() {
    let Some(pg) = common::server() else { return };
    let how_long = duration();
    let crm = Crm::new(pg.store_of(1));
    for i in 0..CUSTOMERS {
        let name = PersonName::parse(&format!("Shared Customer {i}")).expect("a name");
        crm.create_customer(NewCustomer::new(CustomerData::new(name), at(0)))
            .expect("a customer");
    }
    let exe = std::env::current_exe().expect("this test binary");
    let children: Vec<_> = (0..PROCESSES)
        .map(|p| {
            Command::new(&exe)
                .args([
                    "--exact",
                    "writers_child",
                    "--nocapture",
                    "--test-threads",
                    "1",
                ])
                .env("SOLOCRM_WRITERS_CHILD", pg.schema())
                .env("SOLOCRM_WRITER", (THREADS + p).to_string())
                .env("SOLOCRM_WRITER_MILLIS", how_long.as_millis().to_string())
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .expect("a writer process starts")
        })
        .collect();
    let pg = Arc::new(pg);
    let threads: Vec<_> = (0..THREADS)
        .map(|w| {
            let pg = Arc::clone(&pg);
            std::thread::spawn(move || {
                let mut acks = Vec::new();
                let errors = write_for(handle(pg.config()), w, how_long, &mut |a| acks.push(a));
                (acks, errors)
            })
        })
        .collect();
    let mut acks = Vec::new();
    let mut errors = Vec::new();
    let mut from_processes = 0;
    for mut child in children {
        let stdout = child.stdout.take().expect("its output");
        let mut done = false;
        for line in BufReader::new(stdout).lines() {
            let line = line.expect("a line");
            if let Some(a) = Ack::parse(&line) {
                acks.push(a);
                from_processes += 1;
            } else if let Some(e) = line.find("err ").map(|i| &line[i + 4..]) {
                errors.push(format!("process: {e}"));
            } else if line.ends_with("done") {
                done = true;
            }
        }
        let status = child.wait().expect("the writer process ends");
        assert!(
            status.success() && done,
            "a writer process failed: {status}"
        );
    }
    for t in threads {
        let (a, e) = t.join().expect("a writer thread");
        acks.extend(a);
        errors.extend(e);
    }
    assert!(errors.is_empty(), "errors reached the writers: {errors:#?}");
    assert!(
        from_processes > 0 && acks.len() > from_processes,
        "both kinds wrote"
    );

    // Every acknowledged purchase is stored, as acknowledged, and no other.
    let acked: HashMap<String, i64> = acks
        .iter()
        .filter_map(|a| match a {
            Ack::Purchase(r, cents) => Some((r.clone(), *cents)),
            _ => None,
        })
        .collect();
    let stored: HashMap<String, i64> = crm
        .purchases(&ActivityQuery::ALL)
        .expect("the purchases")
        .iter()
        .map(|p| {
            let r = p.external_ref().expect("every purchase has a reference");
            let cents = p.amount().to_minor_units().expect("cents");
            (r.as_str().to_owned(), cents)
        })
        .collect();
    assert_eq!(
        stored, acked,
        "the stored purchases are the acknowledged ones"
    );
    let purchases = acked.len();

    // Every acknowledged points entry is stored with its delta, and no other; each
    // ledger follows itself and never goes below zero; ids are gap-free.
    let acked: HashMap<u64, i64> = acks
        .iter()
        .filter_map(|a| match a {
            Ack::Points(id, delta) => Some((*id, *delta)),
            _ => None,
        })
        .collect();
    let mut stored = HashMap::new();
    for c in 1..=CUSTOMERS {
        let mut balance = 0;
        for e in crm.points_ledger(CustomerId::new(c)).expect("a ledger") {
            balance += e.delta();
            assert_eq!(
                e.balance_after(),
                balance,
                "entry {} follows the one before",
                e.id()
            );
            assert!(balance >= 0, "entry {} overdraws customer {c}", e.id());
            stored.insert(e.id().get(), e.delta());
        }
        assert_eq!(
            crm.points_balance(CustomerId::new(c)).expect("a balance"),
            balance
        );
    }
    assert_eq!(
        stored, acked,
        "the stored entries are the acknowledged ones"
    );
    let ids: HashSet<u64> = stored.keys().copied().collect();
    assert_eq!(
        ids,
        (1..=u64::try_from(ids.len()).expect("small")).collect(),
        "gap-free ids"
    );
    let refused = acks.iter().filter(|a| **a == Ack::Refused).count();
    eprintln!(
        "{} s: {} purchases, {} points entries, {refused} redemptions refused, \
         {from_processes} writes from the processes",
        how_long.as_secs(),
        purchases,
        ids.len(),
    );
}
