//! Participations (issue 18): events, community activities, suggestions and reviews
//! of a customer, stored and listed in key order, refused when they cannot be, and
//! scrubbed of their note by an erasure.

use solocrm_core::participation::{Participation, ParticipationKind};
use solocrm_core::{Conflict, CustomerId, Entity, Store, StoreError};

use super::support::{assert_err, at, at_hour, customer, text};

fn took_part(
    customer: CustomerId,
    day: u32,
    kind: ParticipationKind,
    note: Option<&str>,
) -> Participation {
    Participation {
        customer,
        at: at(day),
        kind,
        note: note.map(text),
    }
}

/// Participations read back exactly, listed by time, then customer, then kind, all or
/// of one customer; a second one with the same key is a conflict.
pub fn participations_are_stored_and_listed_in_order(store: &dyn Store) {
    assert!(store.participations(None).expect("none").is_empty());
    let wang = customer(store, "王伟").id();
    let li = customer(store, "李娜").id();
    let review = store
        .record_participation(took_part(
            li,
            3,
            ParticipationKind::Review,
            Some("包装很用心"),
        ))
        .expect("recorded");
    let event = store
        .record_participation(took_part(
            wang,
            2,
            ParticipationKind::Event,
            Some("新品品鉴会"),
        ))
        .expect("recorded");
    let suggestion = store
        .record_participation(took_part(wang, 2, ParticipationKind::Suggestion, None))
        .expect("recorded");
    let community = store
        .record_participation(took_part(li, 2, ParticipationKind::Community, None))
        .expect("recorded");
    assert_eq!(
        store.participations(None).expect("read"),
        vec![
            event.clone(),
            suggestion.clone(),
            community.clone(),
            review.clone()
        ]
    );
    assert_eq!(
        store.participations(Some(wang)).expect("read"),
        vec![event, suggestion]
    );
    assert_eq!(
        store.participations(Some(li)).expect("read"),
        vec![community, review]
    );
    assert_err!(
        store.record_participation(took_part(li, 3, ParticipationKind::Review, None)),
        StoreError::Conflict(Conflict::DuplicateParticipation { .. })
    );
}

/// A participation of an unknown or erased customer is refused and nothing written.
pub fn a_participation_of_an_unknown_or_erased_customer_is_refused(store: &dyn Store) {
    assert_err!(
        store.record_participation(took_part(
            CustomerId::new(404),
            1,
            ParticipationKind::Event,
            None
        )),
        StoreError::NotFound {
            entity: Entity::Customer,
            ..
        }
    );
    let wang = customer(store, "王伟").id();
    store.erase_customer(wang, at(1)).expect("erased");
    assert_err!(
        store.record_participation(took_part(wang, 2, ParticipationKind::Review, Some("好评"))),
        StoreError::Conflict(Conflict::CustomerErased { .. })
    );
    assert!(store.participations(None).expect("read").is_empty());
}

/// Erasing a customer drops the notes of their participations and keeps kind and
/// time; another customer's are untouched.
pub fn erasure_scrubs_the_notes_of_participations(store: &dyn Store) {
    let wang = customer(store, "王伟").id();
    let li = customer(store, "李娜").id();
    store
        .record_participation(took_part(
            wang,
            1,
            ParticipationKind::Suggestion,
            Some("王伟建议增加夜间配送"),
        ))
        .expect("recorded");
    let kept = store
        .record_participation(took_part(
            li,
            1,
            ParticipationKind::Review,
            Some("五星好评"),
        ))
        .expect("recorded");
    store.erase_customer(wang, at_hour(2, 9)).expect("erased");
    assert_eq!(
        store.participations(Some(wang)).expect("read"),
        vec![took_part(wang, 1, ParticipationKind::Suggestion, None)]
    );
    assert_eq!(store.participations(Some(li)).expect("read"), vec![kept]);
}
