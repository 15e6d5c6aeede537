//! Purchases: recording one, the money rules (base currency, whole minor units, not
//! negative, zero allowed), unique references, ordering and filters.

use solocrm_core::{
    ActivityQuery, Conflict, CustomerId, Entity, NewPurchase, Purchase, PurchaseId, Store,
    StoreError, TimeRange, ValidationError,
};

use super::support::{assert_err, at, buy, customer, eur, eur_scaled, ext, text, usd};

fn all(store: &dyn Store) -> Vec<Purchase> {
    store
        .purchases(&ActivityQuery::ALL)
        .expect("listing purchases")
}

/// A recorded purchase is returned with a new id and every field, and `purchase`
/// reads the same back.
pub fn a_recorded_purchase_can_be_read_back_with_all_fields(store: &dyn Store) {
    let ada = customer(store, "Ada");
    let new = NewPurchase {
        customer: ada.id(),
        at: at(4),
        amount: eur(12_999),
        cost: Some(eur(4_000)),
        description: Some(text("two tickets\nrow 7")),
        items: Some(2),
        external_ref: Some(ext("INV-2026-001")),
        deal: None,
    };
    let recorded = store
        .record_purchase(new.clone())
        .expect("recording a valid purchase should work");
    assert_eq!(recorded.fields(), &new);
    assert_eq!(recorded.margin(), Some(eur(8_999)));
    assert_eq!(
        store
            .purchase(recorded.id())
            .expect("a recorded purchase is found"),
        recorded
    );
    let second = buy(store, ada.id(), 5, 100);
    assert!(second.id() > recorded.id(), "purchase ids increase");
}

/// Reading a purchase that does not exist is [`StoreError::NotFound`] for a purchase.
pub fn an_unknown_purchase_is_not_found(store: &dyn Store) {
    assert_err!(
        store.purchase(PurchaseId::new(8)),
        StoreError::NotFound {
            entity: Entity::Purchase,
            ref key
        } if key == "8"
    );
}

/// A purchase of a customer that does not exist is [`StoreError::NotFound`] for a
/// customer, and nothing is written.
pub fn a_purchase_of_an_unknown_customer_is_not_found(store: &dyn Store) {
    assert_err!(
        store.record_purchase(NewPurchase::new(CustomerId::new(6), at(1), eur(100))),
        StoreError::NotFound {
            entity: Entity::Customer,
            ..
        }
    );
    assert!(all(store).is_empty());
}

/// A purchase in another currency is [`ValidationError::CurrencyMismatch`], and nothing
/// is written.
pub fn a_purchase_in_a_foreign_currency_is_refused(store: &dyn Store) {
    let ada = customer(store, "Ada");
    assert_err!(
        store.record_purchase(NewPurchase::new(ada.id(), at(1), usd(100))),
        StoreError::Validation(ValidationError::CurrencyMismatch { .. })
    );
    assert!(all(store).is_empty());
}

/// An amount with digits below the cent is [`ValidationError::TooManyDecimals`].
pub fn a_purchase_with_sub_cent_digits_is_refused(store: &dyn Store) {
    let ada = customer(store, "Ada");
    assert_err!(
        store.record_purchase(NewPurchase::new(ada.id(), at(1), eur_scaled(10_005, 3))),
        StoreError::Validation(ValidationError::TooManyDecimals { .. })
    );
    let mut with_cost = NewPurchase::new(ada.id(), at(1), eur(100));
    with_cost.cost = Some(eur_scaled(1, 3));
    assert_err!(
        store.record_purchase(with_cost),
        StoreError::Validation(ValidationError::TooManyDecimals { .. })
    );
    assert!(all(store).is_empty());
}

/// `10.500 EUR` is a whole number of cents: it is accepted and stored as `10.50`.
pub fn trailing_zeros_beyond_the_minor_unit_are_accepted_and_rescaled(store: &dyn Store) {
    let ada = customer(store, "Ada");
    let recorded = store
        .record_purchase(NewPurchase::new(ada.id(), at(1), eur_scaled(10_500, 3)))
        .expect("trailing zeros are whole cents");
    let read = store.purchase(recorded.id()).expect("found");
    for p in [recorded, read] {
        assert_eq!(p.amount(), eur(1_050));
        assert_eq!(p.amount().amount().scale(), 2, "stored at the scale of EUR");
    }
    let whole = store
        .record_purchase(NewPurchase::new(ada.id(), at(2), eur_scaled(7, 0)))
        .expect("whole euros are whole cents");
    assert_eq!(whole.amount().amount().scale(), 2);
    assert_eq!(whole.amount(), eur(700));
}

/// A negative amount is [`ValidationError::NegativeAmount`]; money back is a refund.
pub fn a_negative_purchase_amount_is_refused(store: &dyn Store) {
    let ada = customer(store, "Ada");
    assert_err!(
        store.record_purchase(NewPurchase::new(ada.id(), at(1), eur(-1))),
        StoreError::Validation(ValidationError::NegativeAmount { .. })
    );
    assert!(all(store).is_empty());
}

/// A cost that is negative or in another currency is refused like an amount.
pub fn a_negative_or_foreign_purchase_cost_is_refused(store: &dyn Store) {
    let ada = customer(store, "Ada");
    let mut negative = NewPurchase::new(ada.id(), at(1), eur(100));
    negative.cost = Some(eur(-50));
    assert_err!(
        store.record_purchase(negative),
        StoreError::Validation(ValidationError::NegativeAmount { .. })
    );
    let mut foreign = NewPurchase::new(ada.id(), at(1), eur(100));
    foreign.cost = Some(usd(50));
    assert_err!(
        store.record_purchase(foreign),
        StoreError::Validation(ValidationError::CurrencyMismatch { .. })
    );
    assert!(all(store).is_empty());
}

/// A free order (amount zero) is a purchase: it is stored, listed and in the log.
pub fn a_zero_amount_purchase_is_accepted_and_counted(store: &dyn Store) {
    let ada = customer(store, "Ada");
    let free = buy(store, ada.id(), 1, 0);
    assert!(free.amount().is_zero());
    assert_eq!(all(store), [free]);
    let log = store.purchase_log().expect("the purchase log");
    assert_eq!(log.len(), 1);
    assert_eq!(log.amount, [0]);
}

/// A second purchase with a stored reference is [`Conflict::DuplicatePurchaseRef`]
/// naming the purchase that has it, and nothing is written.
pub fn a_duplicate_purchase_reference_is_refused(store: &dyn Store) {
    let ada = customer(store, "Ada");
    let bob = customer(store, "Bob");
    let mut first = NewPurchase::new(ada.id(), at(1), eur(100));
    first.external_ref = Some(ext("INV-1"));
    let first = store.record_purchase(first).expect("recording");
    let mut again = NewPurchase::new(bob.id(), at(2), eur(200));
    again.external_ref = Some(ext("INV-1"));
    assert_err!(
        store.record_purchase(again),
        StoreError::Conflict(Conflict::DuplicatePurchaseRef { existing, ref reference })
            if existing == first.id() && reference == "INV-1"
    );
    assert_eq!(all(store), [first]);
    let mut other = NewPurchase::new(bob.id(), at(2), eur(200));
    other.external_ref = Some(ext("inv-1"));
    store
        .record_purchase(other)
        .expect("references compare exactly, so another case is another reference");
}

/// Purchases come ordered by time, then id, whatever the order they were recorded in.
pub fn purchases_are_ordered_by_time_then_id(store: &dyn Store) {
    let ada = customer(store, "Ada");
    let bob = customer(store, "Bob");
    let a3 = buy(store, ada.id(), 3, 100);
    let b1 = buy(store, bob.id(), 1, 200);
    let b3 = buy(store, bob.id(), 3, 300);
    let a2 = buy(store, ada.id(), 2, 400);
    assert_eq!(all(store), [b1, a2, a3, b3]);
}

/// The customer filter and the half-open range `[from, to)` select purchases.
pub fn purchases_are_filtered_by_customer_and_half_open_time_range(store: &dyn Store) {
    let ada = customer(store, "Ada");
    let bob = customer(store, "Bob");
    let a1 = buy(store, ada.id(), 1, 100);
    let b2 = buy(store, bob.id(), 2, 200);
    let a3 = buy(store, ada.id(), 3, 300);
    let list = |query: ActivityQuery| store.purchases(&query).expect("listing purchases");
    assert_eq!(
        list(ActivityQuery::customer(ada.id())),
        [a1.clone(), a3.clone()]
    );
    assert_eq!(
        list(ActivityQuery::customer(bob.id())),
        std::slice::from_ref(&b2)
    );
    let range = |range| ActivityQuery {
        customer: None,
        range,
        include_voided: false,
    };
    assert_eq!(
        list(range(TimeRange::between(at(1), at(3)))),
        [a1.clone(), b2.clone()]
    );
    assert_eq!(
        list(range(TimeRange::since(at(2)))),
        [b2.clone(), a3.clone()]
    );
    assert_eq!(list(range(TimeRange::until(at(1)))), []);
    assert_eq!(
        list(ActivityQuery {
            customer: Some(ada.id()),
            range: TimeRange::since(at(2)),
            include_voided: false,
        }),
        [a3]
    );
    assert_eq!(
        list(ActivityQuery {
            customer: Some(bob.id()),
            range: TimeRange::until(at(2)),
            include_voided: false,
        }),
        []
    );
}

/// Purchases a fraction of a second apart are ordered by their exact time, and range
/// bounds apply to the exact instant (a text encoding of times must sort correctly).
pub fn purchases_a_fraction_of_a_second_apart_are_ordered_and_filtered_exactly(store: &dyn Store) {
    let ada = customer(store, "Ada");
    let record = |t, minor| {
        store
            .record_purchase(NewPurchase::new(ada.id(), t, eur(minor)))
            .expect("recording a purchase")
    };
    let ms = chrono::Duration::milliseconds;
    let late = record(at(1) + ms(500), 3);
    let whole = record(at(1), 1);
    let early = record(at(1) - ms(1), 0);
    let tiny = record(at(1) + chrono::Duration::nanoseconds(1), 2);
    assert_eq!(
        all(store),
        [early.clone(), whole.clone(), tiny.clone(), late.clone()]
    );
    let list = |range| {
        store
            .purchases(&ActivityQuery {
                customer: None,
                range,
                include_voided: false,
            })
            .expect("listing purchases")
    };
    assert_eq!(
        list(TimeRange::since(at(1))),
        [whole.clone(), tiny.clone(), late]
    );
    assert_eq!(list(TimeRange::until(at(1))), std::slice::from_ref(&early));
    assert_eq!(
        list(TimeRange::between(at(1), at(1) + ms(500))),
        [whole, tiny]
    );
}

/// The largest amount the core stores (12 integer digits: 999 999 999 999.99 EUR) is
/// kept exactly; one cent more is [`ValidationError::AmountOutOfRange`].
pub fn the_largest_amount_that_fits_is_kept_and_a_larger_one_refused(store: &dyn Store) {
    let ada = customer(store, "Ada");
    let largest = solocrm_core::Currency::EUR.max_stored_minor() - 1;
    let max = store
        .record_purchase(NewPurchase::new(ada.id(), at(1), eur(largest)))
        .expect("the largest stored amount fits");
    assert_eq!(
        store.purchase(max.id()).expect("found").amount(),
        eur(largest)
    );
    assert_eq!(store.purchase_log().expect("the log").amount, [largest]);
    for too_big in [largest + 1, i64::MAX] {
        assert_err!(
            store.record_purchase(NewPurchase::new(ada.id(), at(2), eur(too_big))),
            StoreError::Validation(ValidationError::AmountOutOfRange { .. })
        );
    }
    assert_eq!(all(store).len(), 1);
}
