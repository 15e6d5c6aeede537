//! The customer lifecycle: stage changes, the transition table, time order and the
//! recorded history.

use solocrm_core::{
    CustomerData, CustomerId, Entity, LifecycleStage, NewCustomer, PolicyRule, StageChange,
    StageReason, Store, StoreError, TransitionError, ValidationError,
};

use super::support::{assert_err, at, customer, label, name};

use LifecycleStage::{Active, Churned, Lead, Loyal, New, Prospect, WonBack};

/// `change_stage` moves the customer and returns the record of the change.
pub fn a_stage_change_moves_the_customer_and_returns_the_record(store: &dyn Store) {
    let ada = customer(store, "Ada");
    let change = store
        .change_stage(ada.id(), Lead, at(2), StageReason::manual())
        .expect("prospect → lead is allowed");
    assert_eq!(
        change,
        StageChange {
            customer: ada.id(),
            from: Prospect,
            to: Lead,
            at: at(2),
            reason: StageReason::manual(),
        }
    );
    assert_eq!(store.customer(ada.id()).expect("found").stage(), Lead);
}

/// A customer created at another first stage (an import) starts there and moves on from
/// there.
pub fn a_customer_created_at_a_later_stage_starts_there(store: &dyn Store) {
    let imported = store
        .create_customer(NewCustomer::new(CustomerData::new(name("Ada")), at(0)).at_stage(Active))
        .expect("creating a customer at a later stage should work");
    assert_eq!(imported.stage(), Active);
    assert_eq!(
        store.customer(imported.id()).expect("found").stage(),
        Active
    );
    let change = store
        .change_stage(imported.id(), Loyal, at(1), StageReason::manual())
        .expect("active → loyal is allowed");
    assert_eq!(change.from, Active);
}

/// A move the table forbids is [`TransitionError::Lifecycle`] naming both stages, and
/// changes nothing.
pub fn a_forbidden_lifecycle_transition_is_refused_naming_both_stages(store: &dyn Store) {
    let ada = customer(store, "Ada");
    assert_err!(
        store.change_stage(ada.id(), Active, at(1), StageReason::manual()),
        StoreError::InvalidTransition(TransitionError::Lifecycle {
            from: Prospect,
            to: Active
        })
    );
    assert_err!(
        store.change_stage(ada.id(), Prospect, at(1), StageReason::manual()),
        StoreError::InvalidTransition(TransitionError::Lifecycle {
            from: Prospect,
            to: Prospect
        })
    );
    assert_eq!(store.customer(ada.id()).expect("found").stage(), Prospect);
    assert!(store.stage_history(ada.id()).expect("history").is_empty());
    // And from a later stage: churned customers can only be won back.
    for (to, day) in [(New, 1), (Churned, 2)] {
        store
            .change_stage(ada.id(), to, at(day), StageReason::manual())
            .expect("allowed");
    }
    assert_err!(
        store.change_stage(ada.id(), Loyal, at(3), StageReason::manual()),
        StoreError::InvalidTransition(TransitionError::Lifecycle {
            from: Churned,
            to: Loyal
        })
    );
    assert_eq!(store.customer(ada.id()).expect("found").stage(), Churned);
    assert_eq!(store.stage_history(ada.id()).expect("history").len(), 2);
}

/// A change dated before the customer's last recorded change is
/// [`ValidationError::TimeOrder`], and changes nothing.
pub fn a_stage_change_back_in_time_is_refused(store: &dyn Store) {
    let ada = customer(store, "Ada");
    store
        .change_stage(ada.id(), Lead, at(5), StageReason::manual())
        .expect("allowed");
    assert_err!(
        store.change_stage(ada.id(), New, at(4), StageReason::manual()),
        StoreError::Validation(ValidationError::TimeOrder { .. })
    );
    assert_eq!(store.customer(ada.id()).expect("found").stage(), Lead);
    assert_eq!(store.stage_history(ada.id()).expect("history").len(), 1);
}

/// Only a change *before* the last one is refused: two changes at the same instant are
/// fine.
pub fn a_stage_change_at_the_time_of_the_last_one_is_accepted(store: &dyn Store) {
    let ada = customer(store, "Ada");
    store
        .change_stage(ada.id(), Lead, at(5), StageReason::manual())
        .expect("allowed");
    store
        .change_stage(ada.id(), New, at(5), StageReason::manual())
        .expect("a change at the same instant is in order");
    assert_eq!(store.customer(ada.id()).expect("found").stage(), New);
}

/// `stage_history` lists every change oldest first, with its stages, time and reason.
pub fn stage_history_is_recorded_oldest_first_with_reasons(store: &dyn Store) {
    let ada = customer(store, "Ada");
    let bob = customer(store, "Bob");
    let note = StageReason::Manual {
        note: Some(label("met at the fair")),
    };
    let steps = [
        (Lead, 1, note.clone()),
        (
            New,
            3,
            StageReason::Rule {
                rule: PolicyRule::FirstPurchase,
            },
        ),
        (
            Churned,
            200,
            StageReason::Rule {
                rule: PolicyRule::Silent,
            },
        ),
        (
            WonBack,
            300,
            StageReason::Rule {
                rule: PolicyRule::PurchaseAfterChurn,
            },
        ),
        (Active, 301, StageReason::manual()),
    ];
    let mut expected = Vec::new();
    let mut from = Prospect;
    for (to, day, reason) in steps {
        let change = store
            .change_stage(ada.id(), to, at(day), reason.clone())
            .expect("allowed");
        // Another customer's change in between must not show up in Ada's history.
        if to == New {
            store
                .change_stage(bob.id(), Lead, at(day), StageReason::manual())
                .expect("allowed");
        }
        let record = StageChange {
            customer: ada.id(),
            from,
            to,
            at: at(day),
            reason,
        };
        assert_eq!(change, record);
        expected.push(record);
        from = to;
    }
    assert_eq!(store.stage_history(ada.id()).expect("history"), expected);
    assert_eq!(store.stage_history(bob.id()).expect("history").len(), 1);
}

/// A customer who never changed stage has an empty history.
pub fn a_customer_without_stage_changes_has_an_empty_history(store: &dyn Store) {
    let ada = customer(store, "Ada");
    assert!(store.stage_history(ada.id()).expect("history").is_empty());
}

/// Changing the stage of, or reading the history of, a customer that does not exist is
/// [`StoreError::NotFound`].
pub fn changing_or_reading_the_stage_of_an_unknown_customer_is_not_found(store: &dyn Store) {
    let unknown = CustomerId::new(31);
    assert_err!(
        store.change_stage(unknown, Lead, at(1), StageReason::manual()),
        StoreError::NotFound {
            entity: Entity::Customer,
            ..
        }
    );
    assert_err!(
        store.stage_history(unknown),
        StoreError::NotFound {
            entity: Entity::Customer,
            ..
        }
    );
}
