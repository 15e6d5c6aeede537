//! A client killed in the middle of an import: the server rolls its transaction back,
//! so nothing of the import is visible, the books are as before, and the tenant's
//! write lock is free again. The client is this test binary run again as a child
//! (`crash_child`), killed with SIGKILL once it has sent purchases by `COPY`.

mod common;

use std::io::{BufRead as _, BufReader};
use std::process::{Command, Stdio};

use chrono::{DateTime, Duration, TimeZone, Utc};
use solocrm_core::store::{CustomerRef, ImportBatch, ImportPart};
use solocrm_core::{
    ActivityQuery, Crm, Currency, CustomerData, CustomerId, Money, NewCustomer, NewPurchase,
    PersonName, Store,
};
use solocrm_store_postgres::{PgOptions, PgStore, TenantId};

fn at(minutes: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0)
        .single()
        .expect("an instant")
        + Duration::minutes(minutes)
}

/// `n` purchases spread over customers 1 to 20.
fn part(n: i64) -> ImportBatch {
    ImportBatch {
        purchases: (0..n)
            .map(|i| {
                let who = CustomerId::new(u64::try_from(i % 20).expect("small") + 1);
                let p = NewPurchase::new(who, at(i), Money::from_minor(100 + i, Currency::EUR));
                (CustomerRef::Existing(who), p)
            })
            .collect(),
        ..ImportBatch::default()
    }
}

/// The child: imports into tenant 1 of the parent's schema, says when its first part
/// is sent, then waits inside the transaction to be killed.
#[test]
fn crash_child() {
    let Ok(schema) = std::env::var("SOLOCRM_CRASH_CHILD") else {
        return;
    };
    let config = common::PgTest::config_of_schema(&schema).expect("the parent's server");
    let store = PgStore::open_with(
        config,
        TenantId::new(1).expect("a tenant"),
        &PgOptions::new(),
    )
    .expect("the parent's books");
    let crm = Crm::new(store);
    let mut sent = 0;
    let mut parts = std::iter::from_fn(move || -> Option<ImportPart> {
        sent += 1;
        if sent == 1 {
            // More than one COPY's worth, so rows reach the server before the kill.
            return Some(Ok(part(25_000)));
        }
        println!("first part written");
        std::thread::sleep(std::time::Duration::from_secs(120));
        None
    });
    let _ = crm.import_parts(&mut parts);
    panic!("the child was to be killed before its import ended");
}

#[test]
fn a_client_killed_mid_import_leaves_nothing_of_it() {
    let Some(pg) = common::server() else { return };
    let crm = Crm::new(pg.store_of(1));
    for i in 0..20 {
        let name = PersonName::parse(&format!("Customer {i}")).expect("a name");
        crm.create_customer(NewCustomer::new(CustomerData::new(name), at(0)))
            .expect("a customer");
    }
    crm.import(part(10)).expect("an earlier import");
    let before = crm.purchases(&ActivityQuery::ALL).expect("the purchases");
    let exe = std::env::current_exe().expect("this test binary");
    let mut child = Command::new(exe)
        .args([
            "--exact",
            "crash_child",
            "--nocapture",
            "--test-threads",
            "1",
        ])
        .env("SOLOCRM_CRASH_CHILD", pg.schema())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the child starts");
    let stdout = child.stdout.take().expect("its output");
    let mut waited = false;
    for line in BufReader::new(stdout).lines() {
        if line.expect("a line").contains("first part written") {
            waited = true;
            break;
        }
    }
    assert!(waited, "the child sent its first part");
    // Sent: the server holds the child's open transaction, its last statement a COPY.
    let mut client = pg.client();
    let open: i64 = client
        .query_one(
            "SELECT count(*) FROM pg_stat_activity WHERE state = 'idle in transaction' \
             AND datname = current_database() AND query LIKE 'COPY purchases %'",
            &[],
        )
        .expect("the server's sessions")
        .get(0);
    assert!(open >= 1, "the child's transaction is open");
    child.kill().expect("killed");
    child.wait().expect("reaped");
    // Nothing of the import, the books as before, and the tenant writable again.
    assert_eq!(
        crm.purchases(&ActivityQuery::ALL).expect("the purchases"),
        before
    );
    let receipt = crm.import(part(30)).expect("a new import takes the lock");
    assert_eq!(receipt.purchases.len(), 30);
    assert_eq!(
        receipt.purchases.first().map(|p| p.get()),
        Some(11),
        "ids go on from the last committed one"
    );
}
