//! Bulk purchases: `record_purchases` writes all rows or none, and names the first bad
//! row.

use solocrm_core::{
    ActivityQuery, Conflict, CustomerId, DealStage, Entity, NewPurchase, Store, StoreError,
    ValidationError,
};

use super::support::{assert_err, at, buy, customer, eur, ext, open_deal, usd};

fn row(customer: CustomerId, day: u32, minor: i64) -> NewPurchase {
    NewPurchase::new(customer, at(day), eur(minor))
}

fn with_ref(mut p: NewPurchase, reference: &str) -> NewPurchase {
    p.external_ref = Some(ext(reference));
    p
}

/// Asserts the store holds no purchase and an empty log.
fn assert_nothing_written(store: &dyn Store) {
    assert!(
        store
            .purchases(&ActivityQuery::ALL)
            .expect("listing purchases")
            .is_empty(),
        "a refused batch must write nothing"
    );
    assert!(store.purchase_log().expect("the log").is_empty());
}

/// After a refused batch, a purchase still works, and a batch that reuses the refused
/// batch's references is accepted (nothing of the refused batch is visible).
fn assert_store_still_works(store: &dyn Store, customer: CustomerId, references: &[&str]) {
    let single = buy(store, customer, 20, 100);
    assert_eq!(store.purchase(single.id()).expect("found"), single);
    let batch: Vec<NewPurchase> = references
        .iter()
        .enumerate()
        .map(|(i, r)| with_ref(row(customer, 21, i as i64 + 1), r))
        .collect();
    let n = batch.len();
    let ids = store
        .record_purchases(batch)
        .expect("the refused batch's references are not taken");
    assert_eq!(ids.len(), n);
    assert!(ids.iter().all(|id| *id > single.id()));
}

/// A valid batch is written whole; the ids come back in row order, increasing, and
/// each reads back its row.
pub fn a_batch_of_purchases_is_recorded_with_ids_in_row_order(store: &dyn Store) {
    let ada = customer(store, "Ada");
    let bob = customer(store, "Bob");
    let before = buy(store, ada.id(), 1, 1);
    let rows = vec![
        with_ref(row(ada.id(), 5, 500), "B-1"),
        row(bob.id(), 2, 200),
        row(ada.id(), 3, 0),
    ];
    let ids = store
        .record_purchases(rows.clone())
        .expect("a valid batch should be recorded");
    assert_eq!(ids.len(), 3);
    assert!(ids[0] > before.id());
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "ids increase: {ids:?}");
    for (id, row) in ids.iter().zip(&rows) {
        let stored = store.purchase(*id).expect("a batch row is found");
        assert_eq!(stored.fields(), row);
    }
    assert_eq!(
        store.purchases(&ActivityQuery::ALL).expect("listing").len(),
        4
    );
}

/// An empty batch is all of nothing: it succeeds with no ids and writes nothing.
pub fn an_empty_batch_records_nothing(store: &dyn Store) {
    customer(store, "Ada");
    let ids = store
        .record_purchases(Vec::new())
        .expect("an empty batch is valid");
    assert!(ids.is_empty());
    assert_nothing_written(store);
}

/// One invalid row (a foreign currency) refuses the whole batch with
/// [`StoreError::Batch`] naming the row and its error; nothing is written, and the store
/// goes on working as if the batch had never been sent.
pub fn a_batch_with_one_invalid_row_writes_nothing_and_names_the_row(store: &dyn Store) {
    let ada = customer(store, "Ada");
    let rows = vec![
        with_ref(row(ada.id(), 1, 100), "R-1"),
        with_ref(row(ada.id(), 2, 200), "R-2"),
        NewPurchase::new(ada.id(), at(3), usd(300)),
        row(ada.id(), 4, 400),
    ];
    assert_err!(
        store.record_purchases(rows),
        StoreError::Batch { index: 2, error }
            if matches!(*error, StoreError::Validation(ValidationError::CurrencyMismatch { .. }))
    );
    assert_nothing_written(store);
    assert_store_still_works(store, ada.id(), &["R-1", "R-2"]);
}

/// A row naming an unknown customer refuses the batch with its index and
/// [`StoreError::NotFound`].
pub fn a_batch_row_of_an_unknown_customer_is_refused_with_its_index(store: &dyn Store) {
    let ada = customer(store, "Ada");
    let rows = vec![
        row(ada.id(), 1, 100),
        row(CustomerId::new(ada.id().get() + 100), 2, 200),
    ];
    assert_err!(
        store.record_purchases(rows),
        StoreError::Batch { index: 1, error }
            if matches!(*error, StoreError::NotFound { entity: Entity::Customer, .. })
    );
    assert_nothing_written(store);
    assert_store_still_works(store, ada.id(), &[]);
}

/// A reference that appears twice in one batch refuses it at the second occurrence with
/// [`Conflict::DuplicateRefInBatch`].
pub fn a_reference_repeated_within_a_batch_is_refused(store: &dyn Store) {
    let ada = customer(store, "Ada");
    let rows = vec![
        with_ref(row(ada.id(), 1, 100), "X-1"),
        with_ref(row(ada.id(), 2, 200), "X-2"),
        with_ref(row(ada.id(), 3, 300), "X-1"),
    ];
    assert_err!(
        store.record_purchases(rows),
        StoreError::Batch { index: 2, error }
            if matches!(
                &*error,
                StoreError::Conflict(Conflict::DuplicateRefInBatch { reference }) if reference == "X-1"
            )
    );
    assert_nothing_written(store);
    assert_store_still_works(store, ada.id(), &["X-1", "X-2"]);
}

/// A row whose reference is already stored refuses the batch with
/// [`Conflict::DuplicatePurchaseRef`] naming the stored purchase.
pub fn a_batch_row_whose_reference_is_already_stored_is_refused(store: &dyn Store) {
    let ada = customer(store, "Ada");
    let stored = store
        .record_purchase(with_ref(row(ada.id(), 1, 100), "INV-1"))
        .expect("recording");
    let rows = vec![
        with_ref(row(ada.id(), 2, 200), "INV-2"),
        with_ref(row(ada.id(), 3, 300), "INV-1"),
    ];
    assert_err!(
        store.record_purchases(rows),
        StoreError::Batch { index: 1, error }
            if matches!(
                *error,
                StoreError::Conflict(Conflict::DuplicatePurchaseRef { existing, .. }) if existing == stored.id()
            )
    );
    assert_eq!(
        store.purchases(&ActivityQuery::ALL).expect("listing"),
        [stored]
    );
}

/// With several bad rows, the error names the first.
pub fn a_batch_reports_the_first_bad_row(store: &dyn Store) {
    let ada = customer(store, "Ada");
    let rows = vec![
        row(ada.id(), 1, 100),
        row(ada.id(), 2, 200),
        row(ada.id(), 3, -300),
        NewPurchase::new(ada.id(), at(4), usd(400)),
        row(CustomerId::new(9_999), 5, 500),
    ];
    assert_err!(
        store.record_purchases(rows),
        StoreError::Batch { index: 2, error }
            if matches!(*error, StoreError::Validation(ValidationError::NegativeAmount { .. }))
    );
    assert_nothing_written(store);
}

/// A row linked to a deal that is not won refuses the batch with
/// [`Conflict::DealNotWon`], as `record_purchase` would.
pub fn a_batch_row_with_a_bad_deal_link_is_refused(store: &dyn Store) {
    let ada = customer(store, "Ada");
    let deal = open_deal(store, ada.id(), 10_000);
    let mut linked = row(ada.id(), 3, 300);
    linked.deal = Some(deal.id());
    let rows = vec![row(ada.id(), 1, 100), linked];
    assert_err!(
        store.record_purchases(rows),
        StoreError::Batch { index: 1, error }
            if matches!(
                *error,
                StoreError::Conflict(Conflict::DealNotWon { deal: d, stage: DealStage::NeedIdentified })
                    if d == deal.id()
            )
    );
    assert_nothing_written(store);
}

/// A long batch (longer than a backend may store in one statement, and than the
/// operations queue before handing rows over): a reference taken by a stored
/// purchase, or repeated from an earlier row, deep in it refuses the batch at that
/// row, however the rows around it are grouped; a row refused by a check after an
/// earlier row with a taken reference is not the one named; a valid long batch is
/// recorded whole, each row as given.
pub fn a_long_batch_names_its_first_refused_row_wherever_it_is(store: &dyn Store) {
    let ada = customer(store, "Ada");
    let bob = customer(store, "Bob");
    let stored = store
        .record_purchase(with_ref(row(ada.id(), 1, 100), "INV-STORED"))
        .expect("recording");
    let long = |n: usize| -> Vec<NewPurchase> {
        (0..n)
            .map(|i| {
                let who = if i % 3 == 0 { bob.id() } else { ada.id() };
                let p = row(who, 2 + (i % 20) as u32, 10 + i as i64);
                if i % 4 == 3 {
                    p
                } else {
                    with_ref(p, &format!("R-{i}"))
                }
            })
            .collect()
    };
    for at in [0, 31, 32, 70, 129] {
        let mut rows = long(150);
        rows[at] = with_ref(row(ada.id(), 3, 5), "INV-STORED");
        assert_err!(
            store.record_purchases(rows),
            StoreError::Batch { index, error }
                if index == at && matches!(
                    *error,
                    StoreError::Conflict(Conflict::DuplicatePurchaseRef { existing, .. }) if existing == stored.id()
                )
        );
    }
    for (first, again) in [(0, 1), (10, 40), (33, 95), (64, 140)] {
        let mut rows = long(150);
        rows[again] = with_ref(row(bob.id(), 4, 7), &format!("R-{first}"));
        assert_err!(
            store.record_purchases(rows),
            StoreError::Batch { index, error }
                if index == again && matches!(*error, StoreError::Conflict(Conflict::DuplicateRefInBatch { .. }))
        );
    }
    // A taken reference at row 50, a negative amount at row 60: row 50 is named.
    let mut rows = long(150);
    rows[50] = with_ref(row(ada.id(), 3, 5), "INV-STORED");
    rows[60] = row(ada.id(), 3, -5);
    assert_err!(
        store.record_purchases(rows),
        StoreError::Batch { index: 50, error }
            if matches!(*error, StoreError::Conflict(Conflict::DuplicatePurchaseRef { .. }))
    );
    assert_eq!(
        store.purchases(&ActivityQuery::ALL).expect("listing"),
        std::slice::from_ref(&stored),
        "a refused batch writes nothing"
    );
    let rows = long(150);
    let ids = store
        .record_purchases(rows.clone())
        .expect("a valid long batch");
    assert_eq!(ids.len(), rows.len());
    for (id, row) in ids.iter().zip(&rows) {
        assert_eq!(
            store.purchase(*id).expect("a batch row is found").fields(),
            row
        );
    }
}
