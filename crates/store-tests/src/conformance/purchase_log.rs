//! The columnar purchase log: every customer ascending in the index, rows in purchase-id
//! order, times in Unix seconds, amounts in minor units of the base currency.

use solocrm_core::{Currency, Store};

use super::support::{at, buy, customers, ids};

/// An empty store has an empty log, in the base currency, with no customers.
pub fn the_purchase_log_of_an_empty_store_is_empty_in_the_base_currency(store: &dyn Store) {
    let log = store.purchase_log().expect("the purchase log");
    assert_eq!(log.currency, Some(Currency::EUR));
    assert!(log.customers.is_empty());
    assert!(log.is_empty());
    assert!(log.at.is_empty() && log.amount.is_empty());
}

/// The customer index holds every customer ascending by id, including those who never
/// bought.
pub fn the_purchase_log_lists_every_customer_ascending_even_without_purchases(store: &dyn Store) {
    let all = ids(&customers(store, 4));
    let log = store.purchase_log().expect("the purchase log");
    assert_eq!(log.customers, all);
    assert!(log.is_empty());
    assert_eq!(log.currency, Some(Currency::EUR));
    buy(store, all[2], 1, 100);
    let log = store.purchase_log().expect("the purchase log");
    assert_eq!(log.customers, all);
    assert_eq!(log.customer, [2]);
}

/// Rows come in purchase-id order (not time order); each row holds the customer's dense
/// index, the time in Unix seconds and the amount in cents.
pub fn purchase_log_rows_come_in_id_order_with_amounts_in_minor_units(store: &dyn Store) {
    let all = ids(&customers(store, 3));
    let p1 = buy(store, all[2], 9, 12_345);
    let p2 = buy(store, all[0], 1, 0);
    let p3 = buy(store, all[2], 5, 99);
    let rows = store
        .record_purchases(vec![solocrm_core::NewPurchase::new(
            all[0],
            at(3),
            super::support::eur(100_000_000),
        )])
        .expect("a valid batch");
    assert!(p1.id() < p2.id() && p2.id() < p3.id() && p3.id() < rows[0]);
    let log = store.purchase_log().expect("the purchase log");
    assert_eq!(log.currency, Some(Currency::EUR));
    assert_eq!(log.customers, all);
    assert_eq!(log.len(), 4);
    assert_eq!(log.customer, [2, 0, 2, 0]);
    assert_eq!(
        log.at,
        [
            at(9).timestamp(),
            at(1).timestamp(),
            at(5).timestamp(),
            at(3).timestamp()
        ]
    );
    assert_eq!(log.amount, [12_345, 0, 99, 100_000_000]);
    for (k, &dense) in log.customer.iter().enumerate() {
        assert_eq!(
            log.index_of(log.customers[dense as usize]),
            Some(dense),
            "row {k}"
        );
    }
}
