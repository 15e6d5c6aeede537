//! The store as a whole: its base currency, and sharing one store between threads
//! (`Send + Sync`, methods on `&self`, every method atomic).

use solocrm_core::{
    Conflict, Currency, CustomerData, CustomerId, CustomerQuery, LifecycleStage, NewCustomer,
    NewPointsEntry, NewPurchase, PointsKind, StageReason, Store, StoreError,
};

use super::loyalty::points;
use super::support::{at, customer, email, eur, name};

const THREADS: usize = 8;

/// `base_currency` is the currency the store was created with (EUR for the suite).
pub fn the_store_keeps_its_books_in_the_base_currency(store: &dyn Store) {
    assert_eq!(store.base_currency(), Currency::EUR);
    customer(store, "Ada");
    assert_eq!(store.base_currency(), Currency::EUR);
    assert_eq!(
        store.purchase_log().expect("the purchase log").currency,
        Some(Currency::EUR)
    );
}

/// Times come back exactly as given, to the nanosecond, from every kind of record.
pub fn times_keep_their_sub_second_precision(store: &dyn Store) {
    let t = |day, nanos| at(day) + chrono::Duration::nanoseconds(nanos);
    let c = store
        .create_customer(NewCustomer::new(
            CustomerData::new(name("Ada")),
            t(0, 123_456_789),
        ))
        .expect("creating a customer");
    assert_eq!(
        store.customer(c.id()).expect("found").created_at(),
        t(0, 123_456_789)
    );
    let change = store
        .change_stage(c.id(), LifecycleStage::Lead, t(1, 1), StageReason::manual())
        .expect("allowed");
    assert_eq!(store.stage_history(c.id()).expect("history"), [change]);
    let p = store
        .record_purchase(NewPurchase::new(c.id(), t(2, 999_999_999), eur(100)))
        .expect("recording a purchase");
    assert_eq!(
        store.purchase(p.id()).expect("found").at(),
        t(2, 999_999_999)
    );
    let entry = store
        .post_points(NewPointsEntry::new(c.id(), t(3, 500), PointsKind::Earn, 5).expect("valid"))
        .expect("posting points");
    assert_eq!(store.points_ledger(c.id()).expect("the ledger"), [entry]);
    let audit = store.erase_customer(c.id(), t(4, 42)).expect("erasing");
    assert_eq!(audit.at, t(4, 42));
    assert_eq!(store.audit_log().expect("the audit log"), [audit]);
    assert_eq!(
        store.customer(c.id()).expect("found").erased_at(),
        Some(t(4, 42))
    );
}

/// Customers created from several threads at once all get distinct ids, and every one
/// of them is stored.
pub fn concurrent_creates_get_distinct_increasing_ids(store: &dyn Store) {
    const EACH: usize = 25;
    let per_thread: Vec<Vec<CustomerId>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..THREADS)
            .map(|t| {
                s.spawn(move || {
                    (0..EACH)
                        .map(|i| {
                            let data = CustomerData::new(name(&format!("t{t} c{i}")))
                                .with_email(email(&format!("t{t}.c{i}@example.com")));
                            store
                                .create_customer(NewCustomer::new(data, at(0)))
                                .expect("creating a customer from a thread")
                                .id()
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a creating thread panicked"))
            .collect()
    });
    for ids in &per_thread {
        assert!(
            ids.windows(2).all(|w| w[0] < w[1]),
            "one thread's ids increase: {ids:?}"
        );
    }
    let mut all: Vec<CustomerId> = per_thread.into_iter().flatten().collect();
    all.sort();
    all.dedup();
    assert_eq!(all.len(), THREADS * EACH, "every id is distinct");
    assert_eq!(
        store.count_customers().expect("count"),
        (THREADS * EACH) as u64
    );
    let listed = store
        .list_customers(&CustomerQuery {
            limit: 1_000,
            ..CustomerQuery::default()
        })
        .expect("listing");
    let listed: Vec<CustomerId> = listed.items.iter().map(|c| c.id()).collect();
    assert_eq!(listed, all);
}

/// When several threads create a customer with the same email at once, exactly one
/// succeeds and the others get [`Conflict::DuplicateEmail`].
pub fn concurrent_creates_with_one_email_admit_exactly_one(store: &dyn Store) {
    let results: Vec<Result<CustomerId, StoreError>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..THREADS)
            .map(|t| {
                s.spawn(move || {
                    let address = if t % 2 == 0 {
                        "same@example.com"
                    } else {
                        "SAME@example.com"
                    };
                    let data = CustomerData::new(name(&format!("t{t}"))).with_email(email(address));
                    store
                        .create_customer(NewCustomer::new(data, at(0)))
                        .map(|c| c.id())
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a creating thread panicked"))
            .collect()
    });
    let winners: Vec<CustomerId> = results
        .iter()
        .filter_map(|r| r.as_ref().ok())
        .copied()
        .collect();
    assert_eq!(winners.len(), 1, "exactly one create wins: {results:?}");
    for r in &results {
        if let Err(e) = r {
            assert!(
                matches!(
                    e,
                    StoreError::Conflict(Conflict::DuplicateEmail { existing, .. }) if *existing == winners[0]
                ),
                "the losers get DuplicateEmail naming the winner, got {e:?}"
            );
        }
    }
    assert_eq!(store.count_customers().expect("count"), 1);
}

/// Redeems from several threads at once never take the balance below zero: with 100
/// points and eight redeems of 30, exactly three succeed.
pub fn concurrent_redeems_never_overdraw_the_balance(store: &dyn Store) {
    let ada = customer(store, "Ada").id();
    store
        .post_points(points(ada, 1, PointsKind::Earn, 100))
        .expect("posting points");
    let results: Vec<bool> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..THREADS)
            .map(|_| {
                s.spawn(
                    move || match store.post_points(points(ada, 2, PointsKind::Redeem, 30)) {
                        Ok(_) => true,
                        Err(StoreError::Conflict(Conflict::InsufficientPoints { .. })) => false,
                        Err(e) => panic!("expected success or InsufficientPoints, got {e:?}"),
                    },
                )
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a redeeming thread panicked"))
            .collect()
    });
    assert_eq!(results.iter().filter(|ok| **ok).count(), 3);
    assert_eq!(store.points_balance(ada).expect("the balance"), 10);
    let ledger = store.points_ledger(ada).expect("the ledger");
    assert_eq!(ledger.len(), 4);
    let balances: Vec<i64> = ledger.iter().map(|e| e.balance_after()).collect();
    assert_eq!(balances, [100, 70, 40, 10]);
}
