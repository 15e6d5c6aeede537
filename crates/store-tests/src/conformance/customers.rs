//! Customers: creation, look-up by id, email and external reference, update, and the
//! uniqueness of email (ignoring case) and external reference (exact).

use solocrm_core::{
    Conflict, CountryCode, CustomerData, CustomerId, Entity, LifecycleStage, NewCustomer, Store,
    StoreError, ValidationError,
};

use super::support::{
    assert_err, at, create, customer, customers, date, email, eur, eur_scaled, ext, ids, name, tag,
    text, usd,
};

/// A customer with every field set, so that round trips cover every column.
fn full_data() -> CustomerData {
    let mut data = CustomerData::new(name("Ada Lovelace"))
        .with_email(email("Ada@Example.com"))
        .with_phone(solocrm_core::Phone::parse("+44 20 7946 0000").expect("a valid phone"))
        .with_birthday(date(40))
        .with_tag(tag("vip"))
        .with_tag(tag("b2b"))
        .with_acquisition(tag("referral"), Some(eur(2_500)))
        .with_external_ref(ext("CRM-1"))
        .with_country(CountryCode::parse("gb").expect("a valid country"));
    data.company = Some(super::support::label("Analytical Engines Ltd"));
    data.notes = text("  prefers letters\nnot calls ");
    data.profile.city = Some(super::support::label("Zürich"));
    data.profile.region = Some(super::support::label("東京都 🎌"));
    data.profile.interests.insert(tag("mathematics"));
    data.profile
        .attributes
        .insert(tag("size"), super::support::label("small"));
    data
}

/// `create_customer` returns the customer with a new id and every field as given, and
/// `customer` reads the same back.
pub fn a_created_customer_can_be_read_back_with_its_data(store: &dyn Store) {
    let data = full_data();
    let created = store
        .create_customer(NewCustomer::new(data.clone(), at(3)))
        .expect("creating a valid customer should work");
    assert_eq!(created.data(), &data);
    assert_eq!(created.created_at(), at(3));
    assert_eq!(created.stage(), LifecycleStage::Prospect);
    assert!(created.consents().is_empty());
    assert!(!created.is_erased());
    assert_eq!(created.erased_at(), None);
    let read = store
        .customer(created.id())
        .expect("a created customer should be found");
    assert_eq!(read, created);
}

/// Customer ids are assigned in increasing order.
pub fn customer_ids_are_assigned_in_increasing_order(store: &dyn Store) {
    let ids = ids(&customers(store, 5));
    assert!(
        ids.windows(2).all(|w| w[0] < w[1]),
        "ids should increase: {ids:?}"
    );
}

/// Reading a customer that does not exist is [`StoreError::NotFound`] for a customer,
/// keyed by the id.
pub fn an_unknown_customer_is_not_found(store: &dyn Store) {
    assert_err!(
        store.customer(CustomerId::new(4242)),
        StoreError::NotFound { entity: Entity::Customer, ref key } if key == "4242"
    );
    let known = customer(store, "Ada");
    let unknown = CustomerId::new(known.id().get() + 1);
    assert_err!(
        store.customer(unknown),
        StoreError::NotFound {
            entity: Entity::Customer,
            ..
        }
    );
}

/// A second customer with the same email in another case is refused with
/// [`Conflict::DuplicateEmail`] naming the holder, and nothing is written.
pub fn a_duplicate_email_is_refused_ignoring_case(store: &dyn Store) {
    let first = create(
        store,
        CustomerData::new(name("Ada")).with_email(email("Ada@Example.com")),
    );
    let again = CustomerData::new(name("Other Ada")).with_email(email("ada@EXAMPLE.com"));
    assert_err!(
        store.create_customer(NewCustomer::new(again, at(1))),
        StoreError::Conflict(Conflict::DuplicateEmail { existing, .. }) if existing == first.id()
    );
    assert_eq!(store.count_customers().expect("count"), 1);
}

/// Case is ignored beyond ASCII too: `JÜRGEN@MÜLLER.DE` is `jürgen@müller.de` (the
/// comparison key is [`Email::key`](solocrm_core::Email::key), Unicode lower case).
pub fn a_duplicate_email_is_refused_ignoring_case_beyond_ascii(store: &dyn Store) {
    let first = create(
        store,
        CustomerData::new(name("Jürgen Müller")).with_email(email("jürgen@müller.de")),
    );
    let again = CustomerData::new(name("J. Müller")).with_email(email("JÜRGEN@MÜLLER.DE"));
    assert_err!(
        store.create_customer(NewCustomer::new(again, at(1))),
        StoreError::Conflict(Conflict::DuplicateEmail { existing, .. }) if existing == first.id()
    );
    let found = store
        .customer_by_email(&email("Jürgen@Müller.DE"))
        .expect("a look-up should work");
    assert_eq!(found.map(|c| c.id()), Some(first.id()));
    assert_eq!(store.count_customers().expect("count"), 1);
}

/// A second customer with the same external reference is refused with
/// [`Conflict::DuplicateExternalRef`] naming the holder, and nothing is written.
pub fn a_duplicate_external_ref_is_refused(store: &dyn Store) {
    let first = create(
        store,
        CustomerData::new(name("Ada")).with_external_ref(ext("CRM-7")),
    );
    let again = CustomerData::new(name("Bob")).with_external_ref(ext("CRM-7"));
    assert_err!(
        store.create_customer(NewCustomer::new(again, at(1))),
        StoreError::Conflict(Conflict::DuplicateExternalRef { existing, ref reference })
            if existing == first.id() && reference == "CRM-7"
    );
    assert_eq!(store.count_customers().expect("count"), 1);
}

/// External references compare exactly: `crm-7` and `CRM-7` are two references.
pub fn external_refs_compare_exactly_so_another_case_is_no_duplicate(store: &dyn Store) {
    create(
        store,
        CustomerData::new(name("Ada")).with_external_ref(ext("CRM-7")),
    );
    store
        .create_customer(NewCustomer::new(
            CustomerData::new(name("Bob")).with_external_ref(ext("crm-7")),
            at(1),
        ))
        .expect("a reference differing in case is another reference");
    assert_eq!(store.count_customers().expect("count"), 2);
}

/// `customer_by_email` finds a customer whatever the case of the address, and `None`
/// for an address nobody has.
pub fn a_customer_is_found_by_email_ignoring_case(store: &dyn Store) {
    customer(store, "No Email");
    let ada = create(
        store,
        CustomerData::new(name("Ada")).with_email(email("Ada@Example.com")),
    );
    for query in ["Ada@Example.com", "ada@example.com", "ADA@EXAMPLE.COM"] {
        let found = store
            .customer_by_email(&email(query))
            .expect("a look-up should work");
        assert_eq!(found.as_ref().map(|c| c.id()), Some(ada.id()), "{query}");
    }
    assert_eq!(
        store
            .customer_by_email(&email("bob@example.com"))
            .expect("a look-up should work"),
        None
    );
}

/// `customer_by_external_ref` finds a customer by the exact reference only.
pub fn a_customer_is_found_by_external_ref_compared_exactly(store: &dyn Store) {
    let ada = create(
        store,
        CustomerData::new(name("Ada")).with_external_ref(ext("CRM-7")),
    );
    let found = store
        .customer_by_external_ref(&ext("CRM-7"))
        .expect("a look-up should work");
    assert_eq!(found, Some(ada));
    for other in ["crm-7", "CRM-8"] {
        assert_eq!(
            store
                .customer_by_external_ref(&ext(other))
                .expect("a look-up should work"),
            None,
            "{other}"
        );
    }
}

/// An acquisition cost in a currency other than the base currency is refused with
/// [`ValidationError::CurrencyMismatch`], and nothing is written.
pub fn an_acquisition_cost_in_a_foreign_currency_is_refused(store: &dyn Store) {
    let data = CustomerData::new(name("Ada")).with_acquisition(tag("ads"), Some(usd(1_000)));
    assert_err!(
        store.create_customer(NewCustomer::new(data, at(0))),
        StoreError::Validation(ValidationError::CurrencyMismatch { .. })
    );
    assert_eq!(store.count_customers().expect("count"), 0);
}

/// A negative acquisition cost is refused with [`ValidationError::NegativeAmount`].
pub fn a_negative_acquisition_cost_is_refused(store: &dyn Store) {
    let data = CustomerData::new(name("Ada")).with_acquisition(tag("ads"), Some(eur(-1)));
    assert_err!(
        store.create_customer(NewCustomer::new(data, at(0))),
        StoreError::Validation(ValidationError::NegativeAmount { .. })
    );
    assert_eq!(store.count_customers().expect("count"), 0);
}

/// Money is stored in its `Money::for_storage` form: `12.5 EUR` comes back as `12.50`.
pub fn an_acquisition_cost_is_stored_at_the_currency_scale(store: &dyn Store) {
    let data =
        CustomerData::new(name("Ada")).with_acquisition(tag("ads"), Some(eur_scaled(125, 1)));
    let created = create(store, data);
    for c in [
        created.clone(),
        store.customer(created.id()).expect("found"),
    ] {
        let cost = c.data().acquisition_cost.expect("the cost is kept");
        assert_eq!(cost, eur(1_250));
        assert_eq!(cost.amount().scale(), 2, "stored at the scale of EUR");
    }
}

/// `update_customer` replaces the editable data and keeps id, stage, creation time
/// and consents.
pub fn an_update_replaces_the_data_and_keeps_id_stage_and_creation_time(store: &dyn Store) {
    let before = customer(store, "Ada");
    let data = full_data();
    let updated = store
        .update_customer(before.id(), data.clone())
        .expect("updating a customer should work");
    assert_eq!(updated.id(), before.id());
    assert_eq!(updated.data(), &data);
    assert_eq!(updated.stage(), before.stage());
    assert_eq!(updated.created_at(), before.created_at());
    assert_eq!(store.customer(before.id()).expect("found"), updated);
    let found = store
        .customer_by_email(&email("ada@example.com"))
        .expect("a look-up should work");
    assert_eq!(found.map(|c| c.id()), Some(before.id()));
}

/// An update that keeps the customer's own email and reference, even in another case,
/// does not clash with themself.
pub fn an_update_that_keeps_the_own_email_is_accepted(store: &dyn Store) {
    let ada = create(
        store,
        CustomerData::new(name("Ada"))
            .with_email(email("ada@example.com"))
            .with_external_ref(ext("CRM-1")),
    );
    let mut data = ada.data().clone();
    data.name = name("Ada King");
    store
        .update_customer(ada.id(), data.clone())
        .expect("keeping the own email is no clash");
    data.email = Some(email("ADA@example.com"));
    let updated = store
        .update_customer(ada.id(), data)
        .expect("changing the case of the own email is no clash");
    assert_eq!(updated.name().as_str(), "Ada King");
    assert_eq!(updated.email().map(|e| e.as_str()), Some("ADA@example.com"));
}

/// Taking another customer's email in an update is refused with
/// [`Conflict::DuplicateEmail`], and the customer keeps their old data.
pub fn an_update_to_another_customers_email_is_refused_ignoring_case(store: &dyn Store) {
    let ada = create(
        store,
        CustomerData::new(name("Ada")).with_email(email("ada@example.com")),
    );
    let bob = create(
        store,
        CustomerData::new(name("Bob")).with_email(email("bob@example.com")),
    );
    let data = CustomerData::new(name("Bob")).with_email(email("Ada@Example.COM"));
    assert_err!(
        store.update_customer(bob.id(), data),
        StoreError::Conflict(Conflict::DuplicateEmail { existing, .. }) if existing == ada.id()
    );
    assert_eq!(store.customer(bob.id()).expect("found"), bob);
}

/// Taking another customer's external reference in an update is refused with
/// [`Conflict::DuplicateExternalRef`].
pub fn an_update_to_another_customers_external_ref_is_refused(store: &dyn Store) {
    let ada = create(
        store,
        CustomerData::new(name("Ada")).with_external_ref(ext("CRM-1")),
    );
    let bob = customer(store, "Bob");
    let data = CustomerData::new(name("Bob")).with_external_ref(ext("CRM-1"));
    assert_err!(
        store.update_customer(bob.id(), data),
        StoreError::Conflict(Conflict::DuplicateExternalRef { existing, .. }) if existing == ada.id()
    );
    assert_eq!(store.customer(bob.id()).expect("found"), bob);
}

/// An update whose acquisition cost is in another currency is refused with
/// [`ValidationError::CurrencyMismatch`] (the contract's "money against the base
/// currency").
pub fn an_update_with_a_foreign_acquisition_cost_is_refused(store: &dyn Store) {
    let ada = customer(store, "Ada");
    let data = CustomerData::new(name("Ada")).with_acquisition(tag("ads"), Some(usd(500)));
    assert_err!(
        store.update_customer(ada.id(), data),
        StoreError::Validation(ValidationError::CurrencyMismatch { .. })
    );
    assert_eq!(store.customer(ada.id()).expect("found"), ada);
}

/// Updating a customer that does not exist is [`StoreError::NotFound`].
pub fn updating_an_unknown_customer_is_not_found(store: &dyn Store) {
    assert_err!(
        store.update_customer(CustomerId::new(99), CustomerData::new(name("Nobody"))),
        StoreError::NotFound {
            entity: Entity::Customer,
            ..
        }
    );
    assert_eq!(store.count_customers().expect("count"), 0);
}

/// After a customer changes their email, the old address is free: look-ups no longer
/// find them by it, and another customer may take it.
pub fn an_email_given_up_in_an_update_is_free_again(store: &dyn Store) {
    let ada = create(
        store,
        CustomerData::new(name("Ada"))
            .with_email(email("ada@example.com"))
            .with_external_ref(ext("CRM-1")),
    );
    store
        .update_customer(
            ada.id(),
            CustomerData::new(name("Ada")).with_email(email("ada@lovelace.org")),
        )
        .expect("updating a customer should work");
    assert_eq!(
        store
            .customer_by_email(&email("ada@example.com"))
            .expect("a look-up should work"),
        None
    );
    assert_eq!(
        store
            .customer_by_external_ref(&ext("CRM-1"))
            .expect("a look-up should work"),
        None
    );
    let bob = create(
        store,
        CustomerData::new(name("Bob"))
            .with_email(email("ADA@example.com"))
            .with_external_ref(ext("CRM-1")),
    );
    let found = store
        .customer_by_email(&email("ada@example.com"))
        .expect("a look-up should work");
    assert_eq!(found.map(|c| c.id()), Some(bob.id()));
}

/// `count_customers` is 0 for an empty store and counts every created customer.
pub fn count_customers_counts_every_customer_from_zero(store: &dyn Store) {
    assert_eq!(store.count_customers().expect("count"), 0);
    customers(store, 3);
    assert_eq!(store.count_customers().expect("count"), 3);
}
