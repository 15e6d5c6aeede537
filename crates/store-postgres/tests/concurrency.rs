//! Writers of one tenant on separate handles (separate pools, as separate processes
//! would have) serialise on the tenant's row: no lost update, no balance below zero,
//! ids gap-free; a writer of another tenant is not held up by them.

mod common;

use std::sync::Arc;

use chrono::{DateTime, Duration, TimeZone, Utc};
use solocrm_core::{
    Crm, CustomerData, CustomerId, NewCustomer, NewPointsEntry, PersonName, PointsKind, Store,
    StoreError,
};

fn at(seconds: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0)
        .single()
        .expect("an instant")
        + Duration::seconds(seconds)
}

#[test]
fn concurrent_writers_of_one_tenant_lose_no_update_and_never_overdraw() {
    let Some(pg) = common::server() else { return };
    let first = Crm::new(pg.store_of(1));
    let who = first
        .create_customer(NewCustomer::new(
            CustomerData::new(PersonName::parse("Grace Hopper").expect("a name")),
            at(0),
        ))
        .expect("created")
        .id();
    let pg = Arc::new(pg);
    const THREADS: i64 = 6;
    const EACH: i64 = 20;
    let handles: Vec<_> = (0..THREADS)
        .map(|t| {
            let pg = Arc::clone(&pg);
            std::thread::spawn(move || {
                let crm = Crm::new(
                    solocrm_store_postgres::PgStore::open_with(
                        pg.config(),
                        solocrm_store_postgres::TenantId::new(1).expect("a tenant"),
                        &solocrm_store_postgres::PgOptions::new().pool_size(2),
                    )
                    .expect("a second handle"),
                );
                let mut refused = 0;
                for i in 0..EACH {
                    let when = at(1 + t * EACH + i);
                    // Even threads earn 3, odd ones try to redeem 2: a redemption the
                    // balance cannot cover is refused, never overdrawn.
                    let entry = if t % 2 == 0 {
                        NewPointsEntry::new(who, when, PointsKind::Earn, 3)
                    } else {
                        NewPointsEntry::new(who, when, PointsKind::Redeem, 2)
                    }
                    .expect("an entry");
                    match crm.post_points(entry) {
                        Ok(_) => {}
                        Err(StoreError::Conflict(_)) => refused += 1,
                        Err(e) => panic!("a writer failed: {e}"),
                    }
                }
                refused
            })
        })
        .collect();
    let refused: i64 = handles
        .into_iter()
        .map(|h| h.join().expect("a writer thread"))
        .sum();
    let ledger = first.points_ledger(who).expect("the ledger");
    let posted = THREADS * EACH - refused;
    assert_eq!(
        i64::try_from(ledger.len()).ok(),
        Some(posted),
        "{refused} refused"
    );
    let mut balance = 0;
    for (i, e) in ledger.iter().enumerate() {
        assert_eq!(
            e.id().get(),
            u64::try_from(i).expect("small") + 1,
            "ids are gap-free"
        );
        balance += e.delta();
        assert_eq!(
            e.balance_after(),
            balance,
            "entry {i} follows the one before"
        );
        assert!(balance >= 0, "entry {i} overdraws");
    }
    assert_eq!(first.points_balance(who).expect("a balance"), balance);
    assert_eq!(who, CustomerId::new(1));
}
