//! Imports: [`ImportBatch`] applied all or none, section by section, each record checked
//! like its single-record method against the store as changed by the records before it.

use solocrm_core::{
    ActivityQuery, Conflict, CustomerData, CustomerId, CustomerKeys, CustomerQuery, CustomerRef,
    Entity, ImportBatch, ImportPart, ImportReceipt, ImportSection, NewCustomer, NewPurchase,
    NewSurveyResponse, Store, StoreError, SurveyKind, SurveyScore, ValidationError,
};

use super::support::{assert_err, at, create, customer, email, eur, ext, name, usd};

/// A customer id no store under test has: the `customer` field an import ignores.
const IGNORED: CustomerId = CustomerId::new(987_654);

fn new_customer(who: &str, address: &str) -> NewCustomer {
    NewCustomer::new(
        CustomerData::new(name(who)).with_email(email(address)),
        at(0),
    )
}

fn purchase(who: CustomerRef, day: u32, minor: i64) -> (CustomerRef, NewPurchase) {
    (who, NewPurchase::new(IGNORED, at(day), eur(minor)))
}

fn purchase_ref(
    who: CustomerRef,
    day: u32,
    minor: i64,
    reference: &str,
) -> (CustomerRef, NewPurchase) {
    let mut p = NewPurchase::new(IGNORED, at(day), eur(minor));
    p.external_ref = Some(ext(reference));
    (who, p)
}

fn survey(who: CustomerRef, day: u32, score: i64) -> (CustomerRef, NewSurveyResponse) {
    (
        who,
        NewSurveyResponse {
            customer: IGNORED,
            at: at(day),
            score: SurveyScore::new(SurveyKind::Csat, score).expect("a valid score"),
            comment: None,
        },
    )
}

/// What the store holds, to compare before and after a refused import.
#[derive(Debug, PartialEq)]
struct Snapshot {
    customers: Vec<solocrm_core::Customer>,
    purchases: Vec<solocrm_core::Purchase>,
    surveys: Vec<solocrm_core::SurveyResponse>,
}

fn snapshot(store: &dyn Store) -> Snapshot {
    Snapshot {
        customers: store
            .list_customers(&CustomerQuery {
                include_erased: true,
                limit: 1_000,
                ..CustomerQuery::default()
            })
            .expect("listing customers")
            .items,
        purchases: store
            .purchases(&ActivityQuery::ALL)
            .expect("listing purchases"),
        surveys: store.surveys(&ActivityQuery::ALL).expect("listing surveys"),
    }
}

/// An import creates customers (ids in order), updates customers, and records purchases
/// and survey answers for the customers its [`CustomerRef`]s name, ignoring the
/// records' own `customer` field; the receipt lists the new ids in batch order.
pub fn an_import_creates_updates_and_records_for_new_and_existing_customers(store: &dyn Store) {
    let old = customer(store, "Old Customer");
    let before = customer(store, "Before");
    let batch = ImportBatch {
        create_customers: vec![
            new_customer("Ada", "ada@example.com"),
            new_customer("Bob", "bob@example.com"),
        ],
        update_customers: vec![(
            old.id(),
            CustomerData::new(name("Old Customer, renamed")).with_email(email("old@example.com")),
        )],
        purchases: vec![
            purchase(CustomerRef::New(1), 3, 300),
            purchase_ref(CustomerRef::Existing(old.id()), 2, 200, "IMP-1"),
            purchase(CustomerRef::New(0), 1, 100),
        ],
        surveys: vec![
            survey(CustomerRef::New(0), 4, 5),
            survey(CustomerRef::Existing(old.id()), 4, 2),
        ],
        purchase_lines: Vec::new(),
        attributions: Vec::new(),
    };
    let receipt = store
        .import(batch)
        .expect("a valid import should be applied");
    assert_eq!(receipt.created_customers.len(), 2);
    let (ada, bob) = (receipt.created_customers[0], receipt.created_customers[1]);
    assert!(
        before.id() < ada && ada < bob,
        "new ids follow the old ones, in order"
    );
    assert_eq!(store.customer(ada).expect("found").name().as_str(), "Ada");
    assert_eq!(store.customer(bob).expect("found").name().as_str(), "Bob");
    assert_eq!(
        store
            .customer_by_email(&email("BOB@example.com"))
            .expect("a look-up")
            .map(|c| c.id()),
        Some(bob)
    );
    let renamed = store.customer(old.id()).expect("found");
    assert_eq!(renamed.name().as_str(), "Old Customer, renamed");
    assert_eq!(renamed.created_at(), old.created_at());

    assert_eq!(receipt.purchases.len(), 3);
    assert!(receipt.purchases.windows(2).all(|w| w[0] < w[1]));
    let owners: Vec<(CustomerId, i64)> = receipt
        .purchases
        .iter()
        .map(|id| {
            let p = store.purchase(*id).expect("an imported purchase is found");
            (
                p.customer(),
                p.amount().to_minor_units().expect("whole cents"),
            )
        })
        .collect();
    assert_eq!(owners, [(bob, 300), (old.id(), 200), (ada, 100)]);
    assert_eq!(receipt.surveys.len(), 2);
    let surveyed: Vec<CustomerId> = store
        .surveys(&ActivityQuery::ALL)
        .expect("listing surveys")
        .iter()
        .map(|s| s.customer())
        .collect();
    assert_eq!(surveyed, [ada, old.id()]);
    assert_eq!(store.count_customers().expect("count"), 4);
}

/// An empty import succeeds with an empty receipt and changes nothing.
pub fn an_empty_import_changes_nothing(store: &dyn Store) {
    customer(store, "Ada");
    let before = snapshot(store);
    let receipt = store
        .import(ImportBatch::default())
        .expect("an empty import is valid");
    assert_eq!(receipt, ImportReceipt::default());
    assert_eq!(snapshot(store), before);
}

/// One bad record (a purchase in another currency) refuses the whole import with
/// [`StoreError::Import`] naming its section and index; nothing is written, and the
/// import's emails and references stay free.
pub fn an_import_with_one_bad_record_writes_nothing_and_names_it(store: &dyn Store) {
    let old = customer(store, "Old");
    let before = snapshot(store);
    let mut bad = NewPurchase::new(IGNORED, at(2), usd(100));
    bad.external_ref = Some(ext("IMP-2"));
    let batch = ImportBatch {
        create_customers: vec![new_customer("Ada", "ada@example.com")],
        update_customers: vec![(old.id(), CustomerData::new(name("Renamed")))],
        purchases: vec![
            purchase_ref(CustomerRef::New(0), 1, 100, "IMP-1"),
            (CustomerRef::New(0), bad),
        ],
        surveys: vec![survey(CustomerRef::New(0), 3, 4)],
        purchase_lines: Vec::new(),
        attributions: Vec::new(),
    };
    assert_err!(
        store.import(batch),
        StoreError::Import { section: ImportSection::Purchases, index: 1, error }
            if matches!(*error, StoreError::Validation(ValidationError::CurrencyMismatch { .. }))
    );
    assert_eq!(snapshot(store), before);
    assert_eq!(store.purchase_log().expect("the log").customers, [old.id()]);
    // Nothing of the refused import is visible.
    let ada = create(
        store,
        CustomerData::new(name("Ada")).with_email(email("ada@example.com")),
    );
    let mut p = NewPurchase::new(ada.id(), at(1), eur(100));
    p.external_ref = Some(ext("IMP-1"));
    store
        .record_purchase(p)
        .expect("the refused import's reference is free");
}

/// The first refused record is reported in the order the sections apply: customers to
/// create, customers to update, purchases, surveys.
pub fn an_import_reports_the_first_refused_record_in_section_order(store: &dyn Store) {
    let batch = ImportBatch {
        create_customers: vec![
            new_customer("Ada", "ada@example.com"),
            new_customer("Bob", "bob@example.com"),
        ],
        update_customers: vec![(CustomerId::new(555), CustomerData::new(name("Ghost")))],
        purchases: vec![purchase(CustomerRef::New(0), 1, -5)],
        surveys: vec![survey(CustomerRef::Existing(CustomerId::new(556)), 1, 3)],
        purchase_lines: Vec::new(),
        attributions: Vec::new(),
    };
    assert_err!(
        store.import(batch.clone()),
        StoreError::Import { section: ImportSection::UpdateCustomers, index: 0, error }
            if matches!(*error, StoreError::NotFound { entity: Entity::Customer, .. })
    );
    let mut no_update = batch.clone();
    no_update.update_customers.clear();
    assert_err!(
        store.import(no_update.clone()),
        StoreError::Import { section: ImportSection::Purchases, index: 0, error }
            if matches!(*error, StoreError::Validation(ValidationError::NegativeAmount { .. }))
    );
    no_update.purchases.clear();
    assert_err!(
        store.import(no_update),
        StoreError::Import { section: ImportSection::Surveys, index: 0, error }
            if matches!(*error, StoreError::NotFound { entity: Entity::Customer, .. })
    );
    assert_eq!(store.count_customers().expect("count"), 0);
}

/// Records are checked against the store as changed by the records before them: a new
/// customer repeating an earlier new customer's email (in another case) is
/// [`Conflict::DuplicateEmail`], and so is an update taking it.
pub fn an_import_checks_each_record_against_the_records_before_it(store: &dyn Store) {
    let old = create(
        store,
        CustomerData::new(name("Old")).with_email(email("old@example.com")),
    );
    let twice = ImportBatch {
        create_customers: vec![
            new_customer("Ada", "ada@example.com"),
            new_customer("Ada Again", "ADA@example.com"),
        ],
        ..ImportBatch::default()
    };
    assert_err!(
        store.import(twice),
        StoreError::Import { section: ImportSection::CreateCustomers, index: 1, error }
            if matches!(*error, StoreError::Conflict(Conflict::DuplicateEmail { .. }))
    );
    let taken_by_update = ImportBatch {
        create_customers: vec![new_customer("Ada", "ada@example.com")],
        update_customers: vec![(
            old.id(),
            CustomerData::new(name("Old")).with_email(email("Ada@Example.com")),
        )],
        ..ImportBatch::default()
    };
    assert_err!(
        store.import(taken_by_update),
        StoreError::Import { section: ImportSection::UpdateCustomers, index: 0, error }
            if matches!(*error, StoreError::Conflict(Conflict::DuplicateEmail { .. }))
    );
    let against_store = ImportBatch {
        create_customers: vec![new_customer("Imposter", "OLD@example.com")],
        ..ImportBatch::default()
    };
    assert_err!(
        store.import(against_store),
        StoreError::Import { section: ImportSection::CreateCustomers, index: 0, error }
            if matches!(*error, StoreError::Conflict(Conflict::DuplicateEmail { existing, .. }) if existing == old.id())
    );
    assert_eq!(store.count_customers().expect("count"), 1);
}

/// A purchase reference repeated within the import is [`Conflict::DuplicateRefInBatch`];
/// one already stored is [`Conflict::DuplicatePurchaseRef`].
pub fn an_import_refuses_repeated_and_stored_purchase_references(store: &dyn Store) {
    let ada = customer(store, "Ada");
    let mut stored = NewPurchase::new(ada.id(), at(1), eur(100));
    stored.external_ref = Some(ext("INV-1"));
    let stored = store.record_purchase(stored).expect("recording");
    let repeated = ImportBatch {
        purchases: vec![
            purchase_ref(CustomerRef::Existing(ada.id()), 2, 100, "INV-2"),
            purchase_ref(CustomerRef::Existing(ada.id()), 3, 100, "INV-3"),
            purchase_ref(CustomerRef::Existing(ada.id()), 4, 100, "INV-2"),
        ],
        ..ImportBatch::default()
    };
    assert_err!(
        store.import(repeated),
        StoreError::Import { section: ImportSection::Purchases, index: 2, error }
            if matches!(&*error, StoreError::Conflict(Conflict::DuplicateRefInBatch { reference }) if reference == "INV-2")
    );
    let clash = ImportBatch {
        purchases: vec![
            purchase_ref(CustomerRef::Existing(ada.id()), 2, 100, "INV-2"),
            purchase_ref(CustomerRef::Existing(ada.id()), 3, 100, "INV-1"),
        ],
        ..ImportBatch::default()
    };
    assert_err!(
        store.import(clash),
        StoreError::Import { section: ImportSection::Purchases, index: 1, error }
            if matches!(*error, StoreError::Conflict(Conflict::DuplicatePurchaseRef { existing, .. }) if existing == stored.id())
    );
    assert_eq!(
        store.purchases(&ActivityQuery::ALL).expect("listing"),
        [stored]
    );
}

/// A [`CustomerRef::New`] beyond the customers the import creates is
/// [`StoreError::NotFound`] for a customer.
pub fn an_import_ref_to_a_new_customer_beyond_the_batch_is_not_found(store: &dyn Store) {
    let batch = ImportBatch {
        create_customers: vec![new_customer("Ada", "ada@example.com")],
        surveys: vec![
            survey(CustomerRef::New(0), 1, 3),
            survey(CustomerRef::New(1), 1, 3),
        ],
        ..ImportBatch::default()
    };
    assert_err!(
        store.import(batch),
        StoreError::Import { section: ImportSection::Surveys, index: 1, error }
            if matches!(*error, StoreError::NotFound { entity: Entity::Customer, .. })
    );
    assert_eq!(store.count_customers().expect("count"), 0);
    assert!(
        store
            .surveys(&ActivityQuery::ALL)
            .expect("listing")
            .is_empty()
    );
}

/// An import naming an erased customer, to update or to record for, is refused with
/// [`Conflict::CustomerErased`] at that record.
pub fn an_import_for_an_erased_customer_is_refused(store: &dyn Store) {
    let ada = customer(store, "Ada");
    store.erase_customer(ada.id(), at(5)).expect("erasing");
    let erased = CustomerRef::Existing(ada.id());
    let is_erased = |e: &StoreError| matches!(e, StoreError::Conflict(Conflict::CustomerErased { customer }) if *customer == ada.id());
    assert_err!(
        store.import(ImportBatch {
            update_customers: vec![(ada.id(), CustomerData::new(name("Ada")))],
            ..ImportBatch::default()
        }),
        StoreError::Import { section: ImportSection::UpdateCustomers, index: 0, ref error }
            if is_erased(error)
    );
    assert_err!(
        store.import(ImportBatch {
            purchases: vec![purchase(erased, 6, 100)],
            ..ImportBatch::default()
        }),
        StoreError::Import { section: ImportSection::Purchases, index: 0, ref error }
            if is_erased(error)
    );
    assert_err!(
        store.import(ImportBatch {
            surveys: vec![survey(erased, 6, 3)],
            ..ImportBatch::default()
        }),
        StoreError::Import { section: ImportSection::Surveys, index: 0, ref error }
            if is_erased(error)
    );
    let export = store.export_customer(ada.id()).expect("export");
    assert!(export.purchases.is_empty() && export.surveys.is_empty());
}

/// [`Store::import_parts`] applies its parts in turn as one import: a
/// [`CustomerRef::New`] counts the customers created by all parts so far, and the
/// receipt lists the ids of every part in order.
pub fn streamed_parts_apply_in_turn_as_one_import(store: &dyn Store) {
    let old = customer(store, "Old");
    let first = ImportBatch {
        create_customers: vec![new_customer("Ada", "ada@example.com")],
        purchases: vec![purchase(CustomerRef::New(0), 1, 100)],
        ..ImportBatch::default()
    };
    let second = ImportBatch {
        create_customers: vec![new_customer("Bob", "bob@example.com")],
        update_customers: vec![(old.id(), CustomerData::new(name("Old, renamed")))],
        purchases: vec![
            purchase(CustomerRef::New(1), 2, 200),
            purchase_ref(CustomerRef::New(0), 3, 300, "INV-3"),
        ],
        surveys: vec![survey(CustomerRef::Existing(old.id()), 4, 5)],
        purchase_lines: Vec::new(),
        attributions: Vec::new(),
    };
    let mut parts = vec![Ok(first), Ok(ImportBatch::default()), Ok(second)].into_iter();
    let receipt = store
        .import_parts(&mut parts)
        .expect("valid parts should be applied");
    let [ada, bob] = receipt.created_customers[..] else {
        panic!("two customers created, got {:?}", receipt.created_customers);
    };
    assert!(old.id() < ada && ada < bob);
    assert_eq!(receipt.purchases.len(), 3);
    assert!(receipt.purchases.windows(2).all(|w| w[0] < w[1]));
    let owners: Vec<CustomerId> = receipt
        .purchases
        .iter()
        .map(|id| store.purchase(*id).expect("found").customer())
        .collect();
    assert_eq!(owners, [ada, bob, ada]);
    assert_eq!(receipt.surveys.len(), 1);
    assert_eq!(
        store.customer(old.id()).expect("found").name().as_str(),
        "Old, renamed"
    );
}

/// A refused record in a later part refuses the whole stream, with its index counted
/// over all parts; a source that fails is [`StoreError::Aborted`] with its error. In
/// both cases nothing of the earlier parts is written.
pub fn a_refused_record_or_a_failing_source_writes_no_part(store: &dyn Store) {
    let ada = customer(store, "Ada");
    let before = snapshot(store);
    let good = || ImportBatch {
        create_customers: vec![new_customer("Bob", "bob@example.com")],
        purchases: vec![
            purchase_ref(CustomerRef::Existing(ada.id()), 1, 100, "INV-1"),
            purchase(CustomerRef::New(0), 2, 200),
        ],
        ..ImportBatch::default()
    };
    let bad = ImportBatch {
        create_customers: vec![new_customer("Cy", "cy@example.com")],
        purchases: vec![
            purchase(CustomerRef::New(1), 3, 300),
            purchase(CustomerRef::New(2), 4, 400),
        ],
        ..ImportBatch::default()
    };
    let mut parts = vec![Ok(good()), Ok(bad)].into_iter();
    assert_err!(
        store.import_parts(&mut parts),
        StoreError::Import { section: ImportSection::Purchases, index: 3, error }
            if matches!(*error, StoreError::NotFound { entity: Entity::Customer, .. })
    );
    assert_eq!(snapshot(store), before);
    let failing: ImportPart = Err("the file ended in the middle of a row".into());
    let mut parts = vec![Ok(good()), failing, Ok(good())].into_iter();
    let err = store
        .import_parts(&mut parts)
        .expect_err("a failing source aborts the import");
    assert!(
        matches!(&err, StoreError::Aborted(e) if e.to_string() == "the file ended in the middle of a row"),
        "expected Aborted with the source's error, got {err:?}"
    );
    assert_eq!(err.kind(), solocrm_core::StoreErrorKind::Aborted);
    assert_eq!(snapshot(store), before);
    // The aborted parts' email and reference are free again.
    let mut parts = vec![Ok(good())].into_iter();
    store
        .import_parts(&mut parts)
        .expect("the same part imports after the aborted attempts");
}

/// A purchase reference repeated in a later part is a repeat within the import,
/// [`Conflict::DuplicateRefInBatch`], named before any other fault of the row.
pub fn a_reference_repeated_in_a_later_part_is_a_repeat_within_the_import(store: &dyn Store) {
    let ada = customer(store, "Ada");
    store.erase_customer(ada.id(), at(9)).expect("erasing");
    let bob = customer(store, "Bob");
    let first = ImportBatch {
        purchases: vec![purchase_ref(
            CustomerRef::Existing(bob.id()),
            1,
            100,
            "INV-1",
        )],
        ..ImportBatch::default()
    };
    let second = ImportBatch {
        // Also for an erased customer: the repeat is named first.
        purchases: vec![purchase_ref(
            CustomerRef::Existing(ada.id()),
            2,
            100,
            "INV-1",
        )],
        ..ImportBatch::default()
    };
    let mut parts = vec![Ok(first), Ok(second)].into_iter();
    assert_err!(
        store.import_parts(&mut parts),
        StoreError::Import { section: ImportSection::Purchases, index: 1, error }
            if matches!(&*error, StoreError::Conflict(Conflict::DuplicateRefInBatch { reference }) if reference == "INV-1")
    );
    assert!(
        store
            .purchases(&ActivityQuery::ALL)
            .expect("listing")
            .is_empty()
    );
}

/// [`Store::customer_keys`] lists every customer, erased ones included, ascending by id,
/// with the reference and email they can be found by.
pub fn customer_keys_list_every_customer_with_their_keys(store: &dyn Store) {
    assert!(store.customer_keys().expect("keys").is_empty());
    let ada = create(
        store,
        CustomerData::new(name("Ada"))
            .with_email(email("Ada@Example.com"))
            .with_external_ref(ext("C-1")),
    );
    let bob = customer(store, "Bob");
    let cy = create(
        store,
        CustomerData::new(name("Cy")).with_email(email("cy@example.com")),
    );
    store.erase_customer(cy.id(), at(3)).expect("erasing");
    let keys = store.customer_keys().expect("keys");
    let expected = vec![
        CustomerKeys {
            id: ada.id(),
            external_ref: Some(ext("C-1")),
            email: Some(email("Ada@Example.com")),
            erased: false,
        },
        CustomerKeys {
            id: bob.id(),
            external_ref: bob.external_ref().cloned(),
            email: bob.email().cloned(),
            erased: false,
        },
        CustomerKeys {
            id: cy.id(),
            external_ref: None,
            email: None,
            erased: true,
        },
    ];
    assert_eq!(keys, expected);
}

/// An import naming more customers than the operations look up one by one (they
/// then read every live customer at once) still refuses a row for an erased
/// customer or one that does not exist, with the error and row an import naming few
/// customers gets.
pub fn an_import_naming_most_of_a_large_book_refuses_erased_and_unknown_customers(
    store: &dyn Store,
) {
    const MANY: usize = 4_500;
    let receipt = store
        .import(ImportBatch {
            create_customers: (0..MANY)
                .map(|i| NewCustomer::new(CustomerData::new(name(&format!("顾客 {i}"))), at(0)))
                .collect(),
            ..ImportBatch::default()
        })
        .expect("creating the book");
    let ids = receipt.created_customers;
    let gone = ids[MANY - 10];
    store.erase_customer(gone, at(5)).expect("erasing");
    let unknown = CustomerId::new(ids[MANY - 1].get() + 1_000);
    // Every live customer once, then the row under test.
    let rows = |last: CustomerId| -> Vec<(CustomerRef, NewPurchase)> {
        ids.iter()
            .filter(|&&id| id != gone)
            .chain([&last])
            .map(|&id| purchase(CustomerRef::Existing(id), 6, 100))
            .collect()
    };
    let last = MANY - 1;
    assert_err!(
        store.import(ImportBatch {
            purchases: rows(gone),
            ..ImportBatch::default()
        }),
        StoreError::Import { section: ImportSection::Purchases, index, ref error }
            if index == last
                && matches!(&**error, StoreError::Conflict(Conflict::CustomerErased { customer }) if *customer == gone)
    );
    assert_err!(
        store.import(ImportBatch {
            purchases: rows(unknown),
            ..ImportBatch::default()
        }),
        StoreError::Import { section: ImportSection::Purchases, index, ref error }
            if index == last
                && matches!(&**error, StoreError::NotFound { entity: Entity::Customer, key } if *key == unknown.to_string())
    );
    // The same rows with a live customer last are recorded.
    let recorded = store
        .import(ImportBatch {
            purchases: rows(ids[0]),
            ..ImportBatch::default()
        })
        .expect("every row names a live customer");
    assert_eq!(recorded.purchases.len(), MANY);
}

/// In a long import, a row whose reference a stored purchase has is named before a
/// later row refused by any check (an unknown new-customer reference, a negative
/// amount), however the store groups the rows it writes; a later stored-reference
/// row is named at its own row.
pub fn a_long_import_names_its_first_refused_purchase(store: &dyn Store) {
    let ada = customer(store, "Ada");
    let who = CustomerRef::Existing(ada.id());
    store
        .record_purchase({
            let mut p = NewPurchase::new(ada.id(), at(1), eur(100));
            p.external_ref = Some(ext("INV-STORED"));
            p
        })
        .expect("recording");
    let long = || -> Vec<(CustomerRef, NewPurchase)> {
        (0..150)
            .map(|i| purchase_ref(who, 2 + (i % 20) as u32, 10 + i as i64, &format!("R-{i}")))
            .collect()
    };
    let taken = |rows: &[(CustomerRef, NewPurchase)], want: usize| {
        assert_err!(
            store.import(ImportBatch {
                purchases: rows.to_vec(),
                ..ImportBatch::default()
            }),
            StoreError::Import { section: ImportSection::Purchases, index, error }
                if index == want
                    && matches!(*error, StoreError::Conflict(Conflict::DuplicatePurchaseRef { .. }))
        );
    };
    let mut rows = long();
    rows[50] = purchase_ref(who, 3, 5, "INV-STORED");
    rows[60] = purchase(CustomerRef::New(7), 3, 5);
    taken(&rows, 50);
    rows[60] = purchase(who, 3, -5);
    taken(&rows, 50);
    let mut rows = long();
    rows[100] = purchase_ref(who, 3, 5, "INV-STORED");
    taken(&rows, 100);
    assert_eq!(
        store.purchases(&ActivityQuery::ALL).expect("listing").len(),
        1,
        "a refused import writes nothing"
    );
}
