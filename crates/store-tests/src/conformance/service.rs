//! Service requests: open → responded → resolved, reopening, the forbidden steps and
//! time order.

use solocrm_core::{
    CustomerId, Entity, NewServiceRequest, OpenQuery, RequestEvent, RequestEventKind, RequestId,
    RequestKind, RequestStatus, ServiceRequest, Store, StoreError, TransitionError,
    ValidationError,
};

use super::support::{assert_err, at, at_hour, customer, label, text};

use RequestEventKind::{Opened, Reopened, Resolved, Responded};

fn open(store: &dyn Store, customer: CustomerId, day: u32) -> ServiceRequest {
    store
        .open_request(NewServiceRequest {
            customer,
            kind: RequestKind::Complaint,
            subject: label("late delivery"),
            description: text("ordered two weeks ago"),
            opened_at: at(day),
            deal: None,
        })
        .expect("opening a valid request should work")
}

fn step(
    store: &dyn Store,
    id: RequestId,
    kind: RequestEventKind,
    day: u32,
    hour: u32,
) -> ServiceRequest {
    store
        .update_request(id, kind, at_hour(day, hour))
        .expect("an allowed step")
}

/// An opened request is open, has the `Opened` event and its fields, and reads back.
pub fn an_opened_request_is_open_with_one_event(store: &dyn Store) {
    let ada = customer(store, "Ada");
    let r = open(store, ada.id(), 2);
    assert_eq!(r.customer(), ada.id());
    assert_eq!(r.kind(), RequestKind::Complaint);
    assert_eq!(r.subject().as_str(), "late delivery");
    assert_eq!(r.description().as_str(), "ordered two weeks ago");
    assert_eq!(r.status(), RequestStatus::Open);
    assert!(r.is_open());
    assert_eq!(r.opened_at(), at(2));
    assert_eq!(r.first_response_at(), None);
    assert_eq!(r.resolved_at(), None);
    assert_eq!(
        r.events(),
        [RequestEvent {
            kind: Opened,
            at: at(2)
        }]
    );
    assert_eq!(store.request(r.id()).expect("found"), r);
    let second = open(store, ada.id(), 3);
    assert!(second.id() > r.id(), "request ids increase");
}

/// Respond, respond again, resolve, reopen, resolve: statuses, first response, the
/// final resolution and every event are kept.
pub fn a_request_is_responded_to_resolved_and_reopened(store: &dyn Store) {
    let ada = customer(store, "Ada");
    let r = open(store, ada.id(), 1);
    let r1 = step(store, r.id(), Responded, 1, 10);
    assert_eq!(r1.status(), RequestStatus::Responded);
    assert_eq!(r1.first_response_at(), Some(at_hour(1, 10)));
    let r2 = step(store, r.id(), Responded, 1, 12);
    assert_eq!(
        r2.first_response_at(),
        Some(at_hour(1, 10)),
        "the first response stays"
    );
    let r3 = step(store, r.id(), Resolved, 2, 9);
    assert_eq!(r3.status(), RequestStatus::Resolved);
    assert_eq!(r3.resolved_at(), Some(at_hour(2, 9)));
    assert!(!r3.is_open());
    let r4 = step(store, r.id(), Reopened, 3, 9);
    assert_eq!(r4.status(), RequestStatus::Open);
    assert_eq!(r4.resolved_at(), None, "reopening clears the resolution");
    let r5 = step(store, r.id(), Resolved, 4, 9);
    assert_eq!(r5.resolved_at(), Some(at_hour(4, 9)));
    assert_eq!(r5.first_response_at(), Some(at_hour(1, 10)));
    let kinds: Vec<RequestEventKind> = r5.events().iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        [Opened, Responded, Responded, Resolved, Reopened, Resolved]
    );
    assert_eq!(store.request(r.id()).expect("found"), r5);
}

/// Resolving a request that had no response counts the resolution as the first
/// response.
pub fn resolving_without_a_response_counts_as_the_first_response(store: &dyn Store) {
    let ada = customer(store, "Ada");
    let r = open(store, ada.id(), 1);
    let resolved = step(store, r.id(), Resolved, 2, 15);
    assert_eq!(resolved.first_response_at(), Some(at_hour(2, 15)));
    assert_eq!(resolved.resolved_at(), Some(at_hour(2, 15)));
    assert_eq!(store.request(r.id()).expect("found"), resolved);
}

/// Reopening an open request, responding to or resolving a resolved one, and opening
/// again are [`TransitionError::Request`] naming the status; nothing changes.
pub fn forbidden_request_steps_are_refused_naming_the_status(store: &dyn Store) {
    let ada = customer(store, "Ada");
    let r = open(store, ada.id(), 1);
    assert_err!(
        store.update_request(r.id(), Reopened, at(2)),
        StoreError::InvalidTransition(TransitionError::Request {
            status: RequestStatus::Open,
            ..
        })
    );
    assert_err!(
        store.update_request(r.id(), Opened, at(2)),
        StoreError::InvalidTransition(TransitionError::Request {
            status: RequestStatus::Open,
            ..
        })
    );
    assert_eq!(store.request(r.id()).expect("found"), r);
    let resolved = step(store, r.id(), Resolved, 2, 9);
    for kind in [Responded, Resolved, Opened] {
        assert_err!(
            store.update_request(r.id(), kind, at(3)),
            StoreError::InvalidTransition(TransitionError::Request {
                status: RequestStatus::Resolved,
                ..
            })
        );
    }
    assert_eq!(store.request(r.id()).expect("found"), resolved);
}

/// A step dated before the previous step is [`ValidationError::TimeOrder`], and
/// changes nothing.
pub fn a_request_step_back_in_time_is_refused(store: &dyn Store) {
    let ada = customer(store, "Ada");
    let r = open(store, ada.id(), 5);
    assert_err!(
        store.update_request(r.id(), Responded, at(4)),
        StoreError::Validation(ValidationError::TimeOrder { .. })
    );
    let responded = step(store, r.id(), Responded, 6, 9);
    assert_err!(
        store.update_request(r.id(), Resolved, at(5)),
        StoreError::Validation(ValidationError::TimeOrder { .. })
    );
    assert_eq!(store.request(r.id()).expect("found"), responded);
    step(store, r.id(), Resolved, 6, 9);
}

/// Reading or stepping a request that does not exist is [`StoreError::NotFound`].
pub fn an_unknown_request_is_not_found(store: &dyn Store) {
    assert_err!(
        store.request(RequestId::new(11)),
        StoreError::NotFound {
            entity: Entity::Request,
            ref key
        } if key == "11"
    );
    assert_err!(
        store.update_request(RequestId::new(11), Responded, at(1)),
        StoreError::NotFound {
            entity: Entity::Request,
            ..
        }
    );
}

/// A request of a customer that does not exist is [`StoreError::NotFound`] for a
/// customer.
pub fn a_request_of_an_unknown_customer_is_not_found(store: &dyn Store) {
    assert_err!(
        store.open_request(NewServiceRequest {
            customer: CustomerId::new(8),
            kind: RequestKind::Feedback,
            subject: label("great"),
            description: text(""),
            opened_at: at(1),
            deal: None,
        }),
        StoreError::NotFound {
            entity: Entity::Customer,
            ..
        }
    );
    assert!(
        store
            .requests(&OpenQuery::default())
            .expect("listing")
            .is_empty()
    );
}

/// `requests` lists by id, and filters by customer and by open (not resolved).
pub fn requests_are_listed_by_id_and_filtered_by_customer_and_openness(store: &dyn Store) {
    let ada = customer(store, "Ada");
    let bob = customer(store, "Bob");
    let a1 = open(store, ada.id(), 9);
    let b1 = open(store, bob.id(), 1);
    let a2 = open(store, ada.id(), 2);
    let a2 = step(store, a2.id(), Resolved, 3, 9);
    let b2 = open(store, bob.id(), 4);
    let b2 = step(store, b2.id(), Responded, 5, 9);
    let list = |query: OpenQuery| store.requests(&query).expect("listing requests");
    assert_eq!(
        list(OpenQuery::default()),
        [a1.clone(), b1.clone(), a2.clone(), b2.clone()]
    );
    assert_eq!(
        list(OpenQuery {
            customer: None,
            open_only: true,
        }),
        [a1.clone(), b1.clone(), b2.clone()],
        "responded requests are still open"
    );
    assert_eq!(
        list(OpenQuery {
            customer: Some(ada.id()),
            open_only: false,
        }),
        [a1.clone(), a2]
    );
    assert_eq!(
        list(OpenQuery {
            customer: Some(ada.id()),
            open_only: true,
        }),
        [a1]
    );
}
