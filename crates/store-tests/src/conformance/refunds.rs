//! Refunds: money back on one purchase, never more than is left of it, never before it.

use solocrm_core::{
    ActivityQuery, Conflict, Entity, NewRefund, PurchaseId, Refund, Store, StoreError, TimeRange,
    ValidationError,
};

use super::support::{assert_err, at, at_hour, buy, customer, eur, eur_scaled, text, usd};

fn refund(purchase: PurchaseId, day: u32, minor: i64) -> NewRefund {
    NewRefund {
        purchase,
        at: at(day),
        amount: eur(minor),
        reason: None,
    }
}

fn all(store: &dyn Store) -> Vec<Refund> {
    store.refunds(&ActivityQuery::ALL).expect("listing refunds")
}

/// A refund of part of a purchase is returned with its fields and the purchase's
/// customer, and listed.
pub fn a_partial_refund_is_recorded_and_listed(store: &dyn Store) {
    let ada = customer(store, "Ada");
    let p = buy(store, ada.id(), 1, 10_000);
    let new = NewRefund {
        purchase: p.id(),
        at: at(3),
        amount: eur(2_550),
        reason: Some(text("one item arrived broken")),
    };
    let r = store
        .record_refund(new.clone())
        .expect("a partial refund should be recorded");
    assert_eq!(r.customer(), ada.id());
    assert_eq!(r.purchase(), p.id());
    assert_eq!(r.at(), at(3));
    assert_eq!(r.amount(), eur(2_550));
    assert_eq!(r.amount().amount().scale(), 2);
    assert_eq!(r.reason(), new.reason.as_ref());
    assert_eq!(all(store), [r]);
    assert_eq!(
        store.purchase(p.id()).expect("found").amount(),
        eur(10_000),
        "a refund does not change its purchase"
    );
}

/// Refunds may add up to exactly the purchase amount; one cent more is
/// [`Conflict::RefundExceedsPurchase`] with nothing left to refund.
pub fn refunds_may_add_up_to_the_purchase_but_not_beyond(store: &dyn Store) {
    let ada = customer(store, "Ada");
    let p = buy(store, ada.id(), 1, 10_000);
    store
        .record_refund(refund(p.id(), 2, 6_000))
        .expect("within the purchase");
    store
        .record_refund(refund(p.id(), 3, 4_000))
        .expect("exactly the rest");
    assert_err!(
        store.record_refund(refund(p.id(), 4, 1)),
        StoreError::Conflict(Conflict::RefundExceedsPurchase { purchase, refundable, requested })
            if purchase == p.id() && refundable == eur(0) && requested == eur(1)
    );
    assert_eq!(all(store).len(), 2);
}

/// A refund larger than what is left is [`Conflict::RefundExceedsPurchase`] naming what
/// is left and what was asked; nothing is written, and a smaller refund still works.
pub fn a_refund_exceeding_what_is_left_is_refused_and_nothing_written(store: &dyn Store) {
    let ada = customer(store, "Ada");
    let p = buy(store, ada.id(), 1, 10_000);
    let other = buy(store, ada.id(), 1, 50_000);
    store
        .record_refund(refund(p.id(), 2, 3_000))
        .expect("within the purchase");
    assert_err!(
        store.record_refund(refund(p.id(), 3, 8_000)),
        StoreError::Conflict(Conflict::RefundExceedsPurchase { purchase, refundable, requested })
            if purchase == p.id() && refundable == eur(7_000) && requested == eur(8_000)
    );
    assert_eq!(all(store).len(), 1);
    store
        .record_refund(refund(p.id(), 3, 7_000))
        .expect("the refused refund took nothing away");
    store
        .record_refund(refund(other.id(), 3, 40_000))
        .expect("other purchases have their own balance");
}

/// A free purchase has nothing to refund.
pub fn a_refund_of_a_free_purchase_is_refused(store: &dyn Store) {
    let ada = customer(store, "Ada");
    let free = buy(store, ada.id(), 1, 0);
    assert_err!(
        store.record_refund(refund(free.id(), 2, 1)),
        StoreError::Conflict(Conflict::RefundExceedsPurchase { purchase, .. }) if purchase == free.id()
    );
    assert!(all(store).is_empty());
}

/// A refund dated before its purchase is [`ValidationError::TimeOrder`].
pub fn a_refund_before_its_purchase_is_refused(store: &dyn Store) {
    let ada = customer(store, "Ada");
    let p = buy(store, ada.id(), 5, 10_000);
    let mut early = refund(p.id(), 5, 100);
    early.at = at(5) - chrono::Duration::seconds(1);
    assert_err!(
        store.record_refund(early),
        StoreError::Validation(ValidationError::TimeOrder { .. })
    );
    assert_err!(
        store.record_refund(refund(p.id(), 1, 100)),
        StoreError::Validation(ValidationError::TimeOrder { .. })
    );
    assert!(all(store).is_empty());
}

/// A refund at the very instant of its purchase is in order.
pub fn a_refund_at_the_time_of_its_purchase_is_accepted(store: &dyn Store) {
    let ada = customer(store, "Ada");
    let p = buy(store, ada.id(), 5, 10_000);
    let r = store
        .record_refund(refund(p.id(), 5, 10_000))
        .expect("a refund at the purchase's time is in order");
    assert_eq!(r.at(), p.at());
}

/// A refund of zero or less is [`ValidationError::NonPositiveAmount`].
pub fn a_zero_or_negative_refund_is_refused(store: &dyn Store) {
    let ada = customer(store, "Ada");
    let p = buy(store, ada.id(), 1, 10_000);
    for minor in [0, -100] {
        assert_err!(
            store.record_refund(refund(p.id(), 2, minor)),
            StoreError::Validation(ValidationError::NonPositiveAmount { .. })
        );
    }
    assert!(all(store).is_empty());
}

/// A refund in another currency is [`ValidationError::CurrencyMismatch`]; one with
/// digits below the cent is [`ValidationError::TooManyDecimals`].
pub fn a_refund_in_a_foreign_currency_or_with_sub_cent_digits_is_refused(store: &dyn Store) {
    let ada = customer(store, "Ada");
    let p = buy(store, ada.id(), 1, 10_000);
    let mut foreign = refund(p.id(), 2, 0);
    foreign.amount = usd(100);
    assert_err!(
        store.record_refund(foreign),
        StoreError::Validation(ValidationError::CurrencyMismatch { .. })
    );
    let mut fraction = refund(p.id(), 2, 0);
    fraction.amount = eur_scaled(1_001, 3);
    assert_err!(
        store.record_refund(fraction),
        StoreError::Validation(ValidationError::TooManyDecimals { .. })
    );
    assert!(all(store).is_empty());
}

/// A refund of a purchase that does not exist is [`StoreError::NotFound`] for a
/// purchase.
pub fn a_refund_of_an_unknown_purchase_is_not_found(store: &dyn Store) {
    customer(store, "Ada");
    assert_err!(
        store.record_refund(refund(PurchaseId::new(404), 2, 100)),
        StoreError::NotFound {
            entity: Entity::Purchase,
            ..
        }
    );
    assert!(all(store).is_empty());
}

/// Refunds are selected by the customer of their purchase and by the refund's own time
/// (half-open), ordered by time, then id.
pub fn refunds_are_filtered_by_the_purchase_customer_and_the_refund_time(store: &dyn Store) {
    let ada = customer(store, "Ada");
    let bob = customer(store, "Bob");
    let pa = buy(store, ada.id(), 1, 10_000);
    let pb = buy(store, bob.id(), 1, 10_000);
    let record = |new| store.record_refund(new).expect("recording a refund");
    let a_late = record(refund(pa.id(), 20, 100));
    let b_mid = record(refund(pb.id(), 10, 100));
    let mut tie = refund(pa.id(), 10, 200);
    tie.at = at_hour(10, 9);
    let a_tie = record(tie);
    let a_early = record(refund(pa.id(), 2, 300));
    let list = |query: ActivityQuery| store.refunds(&query).expect("listing refunds");
    assert_eq!(
        list(ActivityQuery::ALL),
        [
            a_early.clone(),
            b_mid.clone(),
            a_tie.clone(),
            a_late.clone()
        ]
    );
    assert_eq!(
        list(ActivityQuery::customer(ada.id())),
        [a_early, a_tie.clone(), a_late.clone()]
    );
    assert_eq!(
        list(ActivityQuery::customer(bob.id())),
        std::slice::from_ref(&b_mid)
    );
    // The range applies to the refund's time, not the purchase's.
    assert_eq!(
        list(ActivityQuery {
            customer: None,
            range: TimeRange::between(at(10), at(20)),
            include_voided: false,
        }),
        [b_mid, a_tie]
    );
    assert!(
        list(ActivityQuery {
            customer: None,
            range: TimeRange::until(at(2)),
            include_voided: false,
        })
        .is_empty()
    );
    assert_eq!(
        list(ActivityQuery {
            customer: Some(ada.id()),
            range: TimeRange::since(at(20)),
            include_voided: false,
        }),
        [a_late]
    );
}
