//! Interactions and survey answers: logging, ordering by time then id, and the
//! customer and half-open time-range filters.

use chrono::{DateTime, Utc};
use solocrm_core::{
    ActivityQuery, Channel, CustomerId, Direction, Entity, Interaction, NewInteraction,
    NewSurveyResponse, Sentiment, Store, StoreError, SurveyKind, SurveyScore, TimeRange,
};

use super::support::{assert_err, at, customer, text};

fn interaction(customer: CustomerId, at: DateTime<Utc>, summary: &str) -> NewInteraction {
    NewInteraction {
        customer,
        channel: Channel::Email,
        direction: Direction::Inbound,
        at,
        summary: text(summary),
        sentiment: None,
    }
}

fn log(store: &dyn Store, new: NewInteraction) -> Interaction {
    store
        .log_interaction(new)
        .expect("logging a valid interaction should work")
}

fn survey(customer: CustomerId, at: DateTime<Utc>, nps: i64) -> NewSurveyResponse {
    NewSurveyResponse {
        customer,
        at,
        score: SurveyScore::new(SurveyKind::Nps, nps).expect("a valid score"),
        comment: None,
    }
}

/// A logged interaction is returned with a new id and its fields, and listed.
pub fn a_logged_interaction_is_listed_with_its_fields(store: &dyn Store) {
    let ada = customer(store, "Ada");
    let new = NewInteraction {
        customer: ada.id(),
        channel: Channel::Phone,
        direction: Direction::Outbound,
        at: at(3),
        summary: text("  called about the offer\nwill think "),
        sentiment: Some(Sentiment::Positive),
    };
    let logged = log(store, new.clone());
    assert_eq!(logged.customer(), ada.id());
    assert_eq!(logged.channel(), Channel::Phone);
    assert_eq!(logged.direction(), Direction::Outbound);
    assert_eq!(logged.at(), at(3));
    assert_eq!(logged.summary(), &new.summary);
    assert_eq!(logged.sentiment(), Some(Sentiment::Positive));
    let listed = store
        .interactions(&ActivityQuery::ALL)
        .expect("listing interactions");
    assert_eq!(listed, [logged]);
}

/// Interactions come ordered by time, then id, whatever the order they were logged in.
pub fn interactions_are_ordered_by_time_then_id(store: &dyn Store) {
    let ada = customer(store, "Ada");
    let bob = customer(store, "Bob");
    let late = log(store, interaction(ada.id(), at(9), "late"));
    let early = log(store, interaction(bob.id(), at(2), "early"));
    let tie_first = log(store, interaction(ada.id(), at(5), "tie one"));
    let tie_second = log(store, interaction(bob.id(), at(5), "tie two"));
    assert!(tie_first.id() < tie_second.id(), "ids increase");
    let listed = store
        .interactions(&ActivityQuery::ALL)
        .expect("listing interactions");
    assert_eq!(listed, [early, tie_first, tie_second, late]);
}

/// The customer filter and the half-open range `[from, to)` select interactions.
pub fn interactions_are_filtered_by_customer_and_half_open_time_range(store: &dyn Store) {
    let ada = customer(store, "Ada");
    let bob = customer(store, "Bob");
    let a1 = log(store, interaction(ada.id(), at(1), "a1"));
    let b2 = log(store, interaction(bob.id(), at(2), "b2"));
    let a3 = log(store, interaction(ada.id(), at(3), "a3"));
    let a4 = log(store, interaction(ada.id(), at(4), "a4"));
    let list = |query: ActivityQuery| store.interactions(&query).expect("listing interactions");
    assert_eq!(
        list(ActivityQuery::customer(ada.id())),
        [a1.clone(), a3.clone(), a4.clone()]
    );
    assert_eq!(
        list(ActivityQuery::customer(bob.id())),
        std::slice::from_ref(&b2)
    );
    assert!(list(ActivityQuery::customer(CustomerId::new(999))).is_empty());
    let range = |range| ActivityQuery {
        customer: None,
        range,
        include_voided: false,
    };
    assert_eq!(
        list(range(TimeRange::between(at(2), at(4)))),
        [b2.clone(), a3.clone()]
    );
    assert_eq!(
        list(range(TimeRange::since(at(3)))),
        [a3.clone(), a4.clone()]
    );
    assert_eq!(
        list(range(TimeRange::until(at(2)))),
        std::slice::from_ref(&a1)
    );
    assert!(list(range(TimeRange::between(at(3), at(3)))).is_empty());
    assert_eq!(
        list(ActivityQuery {
            customer: Some(ada.id()),
            range: TimeRange::between(at(2), at(5)),
            include_voided: false,
        }),
        [a3, a4]
    );
}

/// Logging an interaction for a customer that does not exist is
/// [`StoreError::NotFound`], and nothing is written.
pub fn logging_an_interaction_for_an_unknown_customer_is_not_found(store: &dyn Store) {
    assert_err!(
        store.log_interaction(interaction(CustomerId::new(12), at(1), "hello")),
        StoreError::NotFound {
            entity: Entity::Customer,
            ..
        }
    );
    assert!(
        store
            .interactions(&ActivityQuery::ALL)
            .expect("listing")
            .is_empty()
    );
}

/// A survey answer is returned with its fields and listed.
pub fn a_survey_answer_is_recorded_and_listed_with_its_fields(store: &dyn Store) {
    let ada = customer(store, "Ada");
    let new = NewSurveyResponse {
        customer: ada.id(),
        at: at(4),
        score: SurveyScore::new(SurveyKind::Csat, 4).expect("a valid score"),
        comment: Some(text("quick and friendly")),
    };
    let recorded = store
        .record_survey(new.clone())
        .expect("recording a survey should work");
    assert_eq!(recorded.customer(), ada.id());
    assert_eq!(recorded.at(), at(4));
    assert_eq!(recorded.score(), new.score);
    assert_eq!(recorded.comment(), new.comment.as_ref());
    assert_eq!(
        store.surveys(&ActivityQuery::ALL).expect("listing surveys"),
        [recorded]
    );
}

/// Survey answers come ordered by time, then id, and are filtered by customer and
/// half-open range.
pub fn surveys_are_ordered_by_time_then_id_and_filtered(store: &dyn Store) {
    let ada = customer(store, "Ada");
    let bob = customer(store, "Bob");
    let record = |new| store.record_survey(new).expect("recording a survey");
    let late = record(survey(ada.id(), at(8), 9));
    let tie_a = record(survey(bob.id(), at(4), 7));
    let tie_b = record(survey(ada.id(), at(4), 10));
    let early = record(survey(ada.id(), at(1), 0));
    let list = |query: ActivityQuery| store.surveys(&query).expect("listing surveys");
    assert_eq!(
        list(ActivityQuery::ALL),
        [early.clone(), tie_a.clone(), tie_b.clone(), late.clone()]
    );
    assert_eq!(
        list(ActivityQuery::customer(ada.id())),
        [early, tie_b.clone(), late]
    );
    assert_eq!(
        list(ActivityQuery {
            customer: None,
            range: TimeRange::between(at(4), at(8)),
            include_voided: false,
        }),
        [tie_a, tie_b]
    );
}

/// A survey answer of a customer that does not exist is [`StoreError::NotFound`].
pub fn a_survey_for_an_unknown_customer_is_not_found(store: &dyn Store) {
    assert_err!(
        store.record_survey(survey(CustomerId::new(3), at(1), 5)),
        StoreError::NotFound {
            entity: Entity::Customer,
            ..
        }
    );
    assert!(
        store
            .surveys(&ActivityQuery::ALL)
            .expect("listing")
            .is_empty()
    );
}
