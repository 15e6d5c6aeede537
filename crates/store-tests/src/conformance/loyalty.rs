//! The points ledger: running balances that never go below zero, per customer, in
//! posting order.

use solocrm_core::{
    Conflict, CustomerId, Entity, NewPointsEntry, PointsEntry, PointsKind, Store, StoreError,
};

use super::support::{assert_err, at, customer, label};

pub(crate) fn points(customer: CustomerId, day: u32, kind: PointsKind, n: i64) -> NewPointsEntry {
    NewPointsEntry::new(customer, at(day), kind, n).expect("a valid points entry")
}

fn post(store: &dyn Store, entry: NewPointsEntry) -> PointsEntry {
    store
        .post_points(entry)
        .expect("posting a valid points entry should work")
}

fn balance(store: &dyn Store, customer: CustomerId) -> i64 {
    store.points_balance(customer).expect("the points balance")
}

/// Earning and redeeming move the balance; each entry carries the balance after it and
/// comes back in the ledger.
pub fn points_are_earned_and_redeemed_with_running_balances(store: &dyn Store) {
    let ada = customer(store, "Ada");
    let earned = post(
        store,
        points(ada.id(), 1, PointsKind::Earn, 100).with_reason(label("first order")),
    );
    assert_eq!(earned.customer(), ada.id());
    assert_eq!(earned.kind(), PointsKind::Earn);
    assert_eq!(earned.delta(), 100);
    assert_eq!(earned.balance_after(), 100);
    assert_eq!(earned.reason().map(|r| r.as_str()), Some("first order"));
    assert_eq!(earned.at(), at(1));
    let redeemed = post(store, points(ada.id(), 2, PointsKind::Redeem, 30));
    assert_eq!(redeemed.delta(), -30);
    assert_eq!(redeemed.balance_after(), 70);
    let adjusted = post(store, points(ada.id(), 3, PointsKind::Adjust, -70));
    assert_eq!(adjusted.balance_after(), 0, "down to exactly zero is fine");
    let again = post(store, points(ada.id(), 4, PointsKind::Adjust, 5));
    assert_eq!(again.balance_after(), 5);
    assert!(earned.id() < redeemed.id() && redeemed.id() < adjusted.id());
    assert_eq!(balance(store, ada.id()), 5);
    assert_eq!(
        store.points_ledger(ada.id()).expect("the ledger"),
        [earned, redeemed, adjusted, again]
    );
}

/// A redeem beyond the balance is [`Conflict::InsufficientPoints`] with the balance and
/// the request; nothing is written.
pub fn a_redeem_beyond_the_balance_is_refused_and_nothing_written(store: &dyn Store) {
    let ada = customer(store, "Ada");
    let earned = post(store, points(ada.id(), 1, PointsKind::Earn, 50));
    assert_err!(
        store.post_points(points(ada.id(), 2, PointsKind::Redeem, 80)),
        StoreError::Conflict(Conflict::InsufficientPoints { customer, balance: 50, requested: 80 })
            if customer == ada.id()
    );
    assert_eq!(balance(store, ada.id()), 50);
    assert_eq!(store.points_ledger(ada.id()).expect("the ledger"), [earned]);
    let bob = customer(store, "Bob");
    assert_err!(
        store.post_points(points(bob.id(), 2, PointsKind::Redeem, 1)),
        StoreError::Conflict(Conflict::InsufficientPoints {
            balance: 0,
            requested: 1,
            ..
        })
    );
    assert!(
        store
            .points_ledger(bob.id())
            .expect("the ledger")
            .is_empty()
    );
    post(store, points(ada.id(), 3, PointsKind::Redeem, 50));
    assert_eq!(balance(store, ada.id()), 0);
}

/// Expiring or adjusting below zero is refused like a redeem.
pub fn an_expiry_or_adjustment_below_zero_is_refused(store: &dyn Store) {
    let ada = customer(store, "Ada");
    post(store, points(ada.id(), 1, PointsKind::Earn, 10));
    assert_err!(
        store.post_points(points(ada.id(), 2, PointsKind::Expire, 11)),
        StoreError::Conflict(Conflict::InsufficientPoints {
            balance: 10,
            requested: 11,
            ..
        })
    );
    assert_err!(
        store.post_points(points(ada.id(), 2, PointsKind::Adjust, -11)),
        StoreError::Conflict(Conflict::InsufficientPoints {
            balance: 10,
            requested: 11,
            ..
        })
    );
    assert_eq!(balance(store, ada.id()), 10);
    assert_eq!(store.points_ledger(ada.id()).expect("the ledger").len(), 1);
}

/// A customer without entries has a balance of 0 and an empty ledger.
pub fn the_balance_of_a_customer_without_entries_is_zero(store: &dyn Store) {
    let ada = customer(store, "Ada");
    let bob = customer(store, "Bob");
    post(store, points(bob.id(), 1, PointsKind::Earn, 10));
    assert_eq!(balance(store, ada.id()), 0);
    assert!(
        store
            .points_ledger(ada.id())
            .expect("the ledger")
            .is_empty()
    );
}

/// Posting to, or reading the balance or ledger of, a customer that does not exist is
/// [`StoreError::NotFound`] for a customer.
pub fn points_of_an_unknown_customer_are_not_found(store: &dyn Store) {
    let unknown = CustomerId::new(64);
    assert_err!(
        store.post_points(points(unknown, 1, PointsKind::Earn, 10)),
        StoreError::NotFound {
            entity: Entity::Customer,
            ..
        }
    );
    assert_err!(
        store.points_balance(unknown),
        StoreError::NotFound {
            entity: Entity::Customer,
            ..
        }
    );
    assert_err!(
        store.points_ledger(unknown),
        StoreError::NotFound {
            entity: Entity::Customer,
            ..
        }
    );
}

/// Each customer has their own ledger; entries apply in posting order, not by their
/// time, and the ledger lists them in that order.
pub fn ledgers_are_per_customer_in_posting_order(store: &dyn Store) {
    let ada = customer(store, "Ada");
    let bob = customer(store, "Bob");
    let a1 = post(store, points(ada.id(), 10, PointsKind::Earn, 40));
    let b1 = post(store, points(bob.id(), 1, PointsKind::Earn, 5));
    // Dated before a1, posted after it: it applies to the balance a1 left.
    let a2 = post(store, points(ada.id(), 2, PointsKind::Redeem, 15));
    assert_eq!(a2.balance_after(), 25);
    let a3 = post(store, points(ada.id(), 5, PointsKind::Earn, 1));
    assert_eq!(a3.balance_after(), 26);
    assert_eq!(
        store.points_ledger(ada.id()).expect("the ledger"),
        [a1, a2, a3]
    );
    assert_eq!(store.points_ledger(bob.id()).expect("the ledger"), [b1]);
    assert_eq!(balance(store, ada.id()), 26);
    assert_eq!(balance(store, bob.id()), 5);
}
