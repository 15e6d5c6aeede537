//! Tags and consent: adding and removing tags, and recording consent decisions.

use solocrm_core::{Consent, CustomerId, Entity, Store, StoreError, Tag};

use super::support::{assert_err, at, customer, label, tag};

/// `tag_customer` returns `true` when it adds the tag and `false` when the customer
/// already had it; the tag is then on the stored customer once.
pub fn tagging_returns_true_then_false_for_a_tag_already_there(store: &dyn Store) {
    let ada = customer(store, "Ada");
    assert!(store.tag_customer(ada.id(), &tag("vip")).expect("tagging"));
    assert!(!store.tag_customer(ada.id(), &tag("vip")).expect("tagging"));
    let tags: Vec<String> = store
        .customer(ada.id())
        .expect("found")
        .tags()
        .iter()
        .map(|t| t.as_str().to_owned())
        .collect();
    assert_eq!(tags, ["vip"]);
}

/// Tags are normalised before they reach the store, so ` Trade  Fair ` and
/// `trade-fair` are one tag, stored as `trade-fair`.
pub fn tags_are_normalised_so_differently_written_tags_are_one(store: &dyn Store) {
    let ada = customer(store, "Ada");
    assert!(
        store
            .tag_customer(ada.id(), &tag(" Trade  Fair "))
            .expect("tagging")
    );
    assert!(
        !store
            .tag_customer(ada.id(), &tag("TRADE-FAIR"))
            .expect("tagging")
    );
    let stored = store.customer(ada.id()).expect("found");
    assert!(stored.tags().contains(&tag("trade-fair")));
    assert_eq!(stored.tags().len(), 1);
    assert!(
        store
            .untag_customer(ada.id(), &tag("Trade Fair"))
            .expect("untagging")
    );
    assert!(store.customer(ada.id()).expect("found").tags().is_empty());
}

/// `untag_customer` returns `true` when it removes the tag and `false` when the customer
/// did not have it; other tags stay.
pub fn untagging_returns_true_then_false_for_a_missing_tag(store: &dyn Store) {
    let ada = customer(store, "Ada");
    store.tag_customer(ada.id(), &tag("vip")).expect("tagging");
    store.tag_customer(ada.id(), &tag("b2b")).expect("tagging");
    assert!(
        store
            .untag_customer(ada.id(), &tag("vip"))
            .expect("untagging")
    );
    assert!(
        !store
            .untag_customer(ada.id(), &tag("vip"))
            .expect("untagging")
    );
    assert!(
        !store
            .untag_customer(ada.id(), &tag("never-had"))
            .expect("untagging")
    );
    let left: Vec<Tag> = store
        .customer(ada.id())
        .expect("found")
        .tags()
        .iter()
        .cloned()
        .collect();
    assert_eq!(left, [tag("b2b")]);
}

/// Tagging and untagging a customer that does not exist is [`StoreError::NotFound`].
pub fn tagging_or_untagging_an_unknown_customer_is_not_found(store: &dyn Store) {
    let unknown = CustomerId::new(77);
    assert_err!(
        store.tag_customer(unknown, &tag("vip")),
        StoreError::NotFound {
            entity: Entity::Customer,
            ..
        }
    );
    assert_err!(
        store.untag_customer(unknown, &tag("vip")),
        StoreError::NotFound {
            entity: Entity::Customer,
            ..
        }
    );
}

/// Consent decisions are kept in the order recorded, are returned by
/// `record_consent` and by `customer`, and the latest decision is in force.
pub fn recorded_consents_are_kept_oldest_first_and_the_latest_wins(store: &dyn Store) {
    let ada = customer(store, "Ada");
    let purpose = tag("marketing-email");
    let grant = Consent {
        purpose: purpose.clone(),
        granted: true,
        at: at(1),
        source: label("web form"),
    };
    let withdraw = Consent {
        purpose: purpose.clone(),
        granted: false,
        at: at(5),
        source: label("phone call"),
    };
    let after_grant = store
        .record_consent(ada.id(), grant.clone())
        .expect("recording consent");
    assert_eq!(after_grant.consents(), std::slice::from_ref(&grant));
    assert!(after_grant.has_consent(&purpose));
    let after_withdrawal = store
        .record_consent(ada.id(), withdraw.clone())
        .expect("recording consent");
    assert_eq!(after_withdrawal.consents(), [grant, withdraw]);
    assert!(!after_withdrawal.has_consent(&purpose));
    assert_eq!(store.customer(ada.id()).expect("found"), after_withdrawal);
}

/// Recording consent for a customer that does not exist is [`StoreError::NotFound`].
pub fn recording_consent_for_an_unknown_customer_is_not_found(store: &dyn Store) {
    let consent = Consent {
        purpose: tag("newsletter"),
        granted: true,
        at: at(1),
        source: label("web form"),
    };
    assert_err!(
        store.record_consent(CustomerId::new(5), consent),
        StoreError::NotFound {
            entity: Entity::Customer,
            ..
        }
    );
}
