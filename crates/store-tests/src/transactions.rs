//! The conformance checks of the transactional port: what every backend must do
//! under [`Crm`] beyond the single operations of the [`conformance`](crate::conformance)
//! suite — atomic multi-operation writes, one snapshot per read, readers that do not
//! wait for a writer, and the event outbox.
//!
//! Each check is a plain `fn(&Crm)` that expects a **fresh, empty store whose base
//! currency is EUR**, and panics on the first violation. Run them with
//! [`port_conformance!`](crate::port_conformance):
//!
//! ```text
//! solocrm_store_tests::port_conformance!(|| solocrm_core::Crm::new(my_backend()));
//! ```
//!
//! The threaded checks wait on channels with a generous deadline (60 s) only so that a
//! backend whose reader waits for its writer fails with a message instead of hanging
//! the test run; they assert no duration.

use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use chrono::{DateTime, Duration as Days, TimeZone, Utc};
use solocrm_core::{
    Channel, Crm, Currency, CustomerData, CustomerId, CustomerStage, DealStage, Direction,
    DomainEvent, Email, Event, FreeText, ImportBatch, Label, LifecycleStage, Money, NewCustomer,
    NewDeal, NewInteraction, NewPointsEntry, NewPurchase, NewRefund, NewServiceRequest,
    NewSurveyResponse, NewTask, PersonName, Phone, PointsKind, Predicate, RequestEventKind,
    RequestKind, Segment, StageChange, StageReason, Store, StoreError, SurveyKind, SurveyScore,
    TaskKind,
};

/// How long a threaded check waits for the other thread before calling it stuck.
const STUCK: Duration = Duration::from_secs(60);

/// One check of the port, as data.
#[derive(Debug, Clone, Copy)]
pub struct PortCheck {
    /// The check's name, a sentence in snake case.
    pub name: &'static str,
    /// The check; it wants a fresh store with base currency EUR.
    pub run: fn(&Crm),
}

/// Expands to one `#[test]` per check of [`PORT_CHECKS`], each on a fresh store made
/// by `$setup` (a closure returning a [`Crm`]).
#[macro_export]
macro_rules! port_conformance {
    ($setup:expr) => {
        $crate::__port_conformance_tests! { $setup;
            a_write_that_fails_in_its_second_operation_leaves_nothing_of_the_first,
            a_write_the_caller_abandons_leaves_nothing,
            a_failed_operation_inside_a_write_that_goes_on_leaves_nothing_of_itself,
            operations_of_one_write_commit_together_and_see_each_other,
            every_write_emits_exactly_its_events_in_order,
            a_refused_write_emits_no_event,
            an_import_emits_one_event_naming_what_it_created,
            events_are_read_in_pages_from_a_cursor,
            erasure_leaves_no_personal_data_in_the_outbox_or_the_records,
            purchases_and_answers_move_the_lifecycle_by_themselves,
            the_business_zone_is_stored_and_counts_the_days,
            a_read_sees_one_snapshot_while_another_thread_writes,
            reads_beside_one_another_see_one_snapshot,
            readers_proceed_while_an_import_holds_the_writer,
            the_stage_port_methods_touch_the_stage_alone,
            an_all_or_nothing_write_commits_whole_or_not_at_all,
            appending_a_consent_leaves_the_rest_of_the_customer,
            a_consent_appended_by_the_writer_is_recorded_as_record_consent_records_it,
            search_fields_give_each_candidates_text_by_id_and_never_an_erased_one,
            search_matches_are_exactly_the_hits_by_id_with_their_names,
            a_write_uses_the_zone_it_set_in_its_later_operations,
            a_batched_catch_up_moves_each_customer_as_a_move_of_its_own,
            a_reassessment_judges_each_customer_by_their_own_latest_answer_and_churn,
        }
    };
}

/// Not public API.
#[doc(hidden)]
#[macro_export]
macro_rules! __port_conformance_tests {
    ($setup:expr; $($check:ident),* $(,)?) => {
        mod port_conformance {
            #[allow(unused_imports)]
            use super::*;
            $(
                #[test]
                fn $check() {
                    let crm: solocrm_core::Crm = ($setup)();
                    $crate::transactions::$check(&crm);
                }
            )*
        }
    };
}

/// Every check, in the order of [`port_conformance!`].
pub const PORT_CHECKS: &[PortCheck] = &[
    PortCheck {
        name: "a_write_that_fails_in_its_second_operation_leaves_nothing_of_the_first",
        run: a_write_that_fails_in_its_second_operation_leaves_nothing_of_the_first,
    },
    PortCheck {
        name: "a_write_the_caller_abandons_leaves_nothing",
        run: a_write_the_caller_abandons_leaves_nothing,
    },
    PortCheck {
        name: "a_failed_operation_inside_a_write_that_goes_on_leaves_nothing_of_itself",
        run: a_failed_operation_inside_a_write_that_goes_on_leaves_nothing_of_itself,
    },
    PortCheck {
        name: "operations_of_one_write_commit_together_and_see_each_other",
        run: operations_of_one_write_commit_together_and_see_each_other,
    },
    PortCheck {
        name: "every_write_emits_exactly_its_events_in_order",
        run: every_write_emits_exactly_its_events_in_order,
    },
    PortCheck {
        name: "a_refused_write_emits_no_event",
        run: a_refused_write_emits_no_event,
    },
    PortCheck {
        name: "an_import_emits_one_event_naming_what_it_created",
        run: an_import_emits_one_event_naming_what_it_created,
    },
    PortCheck {
        name: "events_are_read_in_pages_from_a_cursor",
        run: events_are_read_in_pages_from_a_cursor,
    },
    PortCheck {
        name: "erasure_leaves_no_personal_data_in_the_outbox_or_the_records",
        run: erasure_leaves_no_personal_data_in_the_outbox_or_the_records,
    },
    PortCheck {
        name: "purchases_and_answers_move_the_lifecycle_by_themselves",
        run: purchases_and_answers_move_the_lifecycle_by_themselves,
    },
    PortCheck {
        name: "the_business_zone_is_stored_and_counts_the_days",
        run: the_business_zone_is_stored_and_counts_the_days,
    },
    PortCheck {
        name: "a_read_sees_one_snapshot_while_another_thread_writes",
        run: a_read_sees_one_snapshot_while_another_thread_writes,
    },
    PortCheck {
        name: "reads_beside_one_another_see_one_snapshot",
        run: reads_beside_one_another_see_one_snapshot,
    },
    PortCheck {
        name: "readers_proceed_while_an_import_holds_the_writer",
        run: readers_proceed_while_an_import_holds_the_writer,
    },
    PortCheck {
        name: "the_stage_port_methods_touch_the_stage_alone",
        run: the_stage_port_methods_touch_the_stage_alone,
    },
    PortCheck {
        name: "an_all_or_nothing_write_commits_whole_or_not_at_all",
        run: an_all_or_nothing_write_commits_whole_or_not_at_all,
    },
    PortCheck {
        name: "appending_a_consent_leaves_the_rest_of_the_customer",
        run: appending_a_consent_leaves_the_rest_of_the_customer,
    },
    PortCheck {
        name: "a_consent_appended_by_the_writer_is_recorded_as_record_consent_records_it",
        run: a_consent_appended_by_the_writer_is_recorded_as_record_consent_records_it,
    },
    PortCheck {
        name: "search_fields_give_each_candidates_text_by_id_and_never_an_erased_one",
        run: search_fields_give_each_candidates_text_by_id_and_never_an_erased_one,
    },
    PortCheck {
        name: "search_matches_are_exactly_the_hits_by_id_with_their_names",
        run: search_matches_are_exactly_the_hits_by_id_with_their_names,
    },
    PortCheck {
        name: "a_write_uses_the_zone_it_set_in_its_later_operations",
        run: a_write_uses_the_zone_it_set_in_its_later_operations,
    },
    PortCheck {
        name: "a_batched_catch_up_moves_each_customer_as_a_move_of_its_own",
        run: a_batched_catch_up_moves_each_customer_as_a_move_of_its_own,
    },
    PortCheck {
        name: "a_reassessment_judges_each_customer_by_their_own_latest_answer_and_churn",
        run: a_reassessment_judges_each_customer_by_their_own_latest_answer_and_churn,
    },
];

fn at(day: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 9, 0, 0)
        .single()
        .expect("a valid fixed timestamp")
        + Days::days(day)
}

fn eur(minor: i64) -> Money {
    Money::from_minor(minor, Currency::EUR)
}

fn person(name: &str) -> NewCustomer {
    NewCustomer::new(
        CustomerData::new(PersonName::parse(name).expect("a valid name")),
        at(0),
    )
}

fn label(s: &str) -> Label {
    Label::parse(s).expect("a valid label")
}

fn text(s: &str) -> FreeText {
    FreeText::parse(s).expect("a valid text")
}

fn all_events(crm: &Crm) -> Vec<Event> {
    crm.read(|r| r.events(0, 10_000))
        .expect("reading the outbox should work")
}

fn event_names(crm: &Crm) -> Vec<&'static str> {
    all_events(crm).iter().map(|e| e.event.name()).collect()
}

/// A write whose second operation is refused leaves nothing of its first: no customer,
/// no event.
pub fn a_write_that_fails_in_its_second_operation_leaves_nothing_of_the_first(crm: &Crm) {
    let result = crm.write(|w| {
        let c = w.create_customer(person("Ada"))?;
        w.record_purchase(NewPurchase::new(c.id(), at(1), eur(-100)))
    });
    assert!(
        matches!(result, Err(StoreError::Validation(_))),
        "a negative amount should be refused, got {result:?}"
    );
    assert_eq!(crm.count_customers().expect("count"), 0);
    assert!(event_names(crm).is_empty(), "a failed write left events");
    // And the ids it used are free again: the next customer is number 1.
    let c = crm.create_customer(person("Grace")).expect("create");
    assert_eq!(c.id(), CustomerId::new(1));
}

/// A caller's own error inside a write rolls back everything the write did.
pub fn a_write_the_caller_abandons_leaves_nothing(crm: &Crm) {
    let result: Result<(), StoreError> = crm.write(|w| {
        let c = w.create_customer(person("Ada"))?;
        w.create_task(NewTask {
            customer: Some(c.id()),
            kind: TaskKind::FollowUp,
            title: label("call back"),
            due: at(3).date_naive(),
            recurrence: None,
            created_at: at(0),
        })?;
        Err(StoreError::Aborted("the caller changed their mind".into()))
    });
    assert!(matches!(result, Err(StoreError::Aborted(_))), "{result:?}");
    assert_eq!(crm.count_customers().expect("count"), 0);
    let tasks = crm.tasks(&Default::default()).expect("tasks");
    assert!(tasks.is_empty(), "an abandoned write left {tasks:?}");
    assert!(event_names(crm).is_empty());
}

/// An operation that fails inside a write leaves nothing of itself, even when the
/// write handles the error and commits what else it did: a batch whose second row is
/// refused does not keep its first, an import refused in its second part keeps no
/// part.
pub fn a_failed_operation_inside_a_write_that_goes_on_leaves_nothing_of_itself(crm: &Crm) {
    let ada = crm
        .write(|w| {
            let c = w.create_customer(person("Ada"))?;
            let batch = w.record_purchases(vec![
                NewPurchase::new(c.id(), at(1), eur(100)),
                NewPurchase::new(c.id(), at(2), eur(-5)),
            ]);
            assert!(
                matches!(batch, Err(StoreError::Batch { index: 1, .. })),
                "{batch:?}"
            );
            // A row naming a deal that does not exist is that, not a backend error,
            // also inside an ordinary write (where SQLite checks its foreign keys).
            let mut after_sales = NewPurchase::new(c.id(), at(1), eur(100));
            after_sales.deal = Some(solocrm_core::DealId::new(404));
            let batch = w.record_purchases(vec![after_sales]);
            assert!(
                matches!(
                    &batch,
                    Err(StoreError::Batch { index: 0, error })
                        if matches!(**error, StoreError::NotFound { .. })
                ),
                "{batch:?}"
            );
            let mut parts = vec![
                Ok(ImportBatch {
                    create_customers: vec![person("Grace")],
                    purchases: vec![(
                        solocrm_core::CustomerRef::Existing(c.id()),
                        NewPurchase::new(c.id(), at(3), eur(300)),
                    )],
                    ..ImportBatch::default()
                }),
                Ok(ImportBatch {
                    purchases: vec![(
                        solocrm_core::CustomerRef::Existing(CustomerId::new(77)),
                        NewPurchase::new(CustomerId::new(77), at(4), eur(400)),
                    )],
                    ..ImportBatch::default()
                }),
            ]
            .into_iter();
            let import = w.import_parts(&mut parts);
            assert!(
                matches!(import, Err(StoreError::Import { .. })),
                "{import:?}"
            );
            // The write goes on after both failures.
            w.record_purchase(NewPurchase::new(c.id(), at(5), eur(500)))?;
            Ok(c.id())
        })
        .expect("the write commits what succeeded");
    let purchases = crm.purchases(&Default::default()).expect("purchases");
    assert_eq!(
        purchases.iter().map(|p| p.amount()).collect::<Vec<_>>(),
        [eur(500)],
        "only the purchase recorded after the failures is kept"
    );
    assert_eq!(purchases[0].customer(), ada);
    assert_eq!(crm.count_customers().expect("count"), 1, "no Grace");
    assert_eq!(event_names(crm), ["customer_created", "purchase_recorded"]);
}

/// Operations of one write see each other's records and all commit.
pub fn operations_of_one_write_commit_together_and_see_each_other(crm: &Crm) {
    let (c, p) = crm
        .write(|w| {
            let c = w.create_customer(person("王芳"))?;
            let p = w.record_purchase(NewPurchase::new(c.id(), at(1), eur(8_800)))?;
            // The write sees its own purchase before it commits.
            assert_eq!(w.reader().purchases_of(c.id())?.len(), 1);
            w.create_task(NewTask {
                customer: Some(c.id()),
                kind: TaskKind::FollowUp,
                title: label("致谢回访"),
                due: at(3).date_naive(),
                recurrence: None,
                created_at: at(1),
            })?;
            Ok((c, p))
        })
        .expect("a valid write should commit");
    assert_eq!(crm.purchase(p.id()).expect("purchase"), p);
    assert_eq!(crm.customer(c.id()).expect("customer"), c);
    assert_eq!(crm.tasks(&Default::default()).expect("tasks").len(), 1);
    assert_eq!(
        event_names(crm),
        ["customer_created", "purchase_recorded", "task_created"]
    );
}

/// A story touching every kind of write: each emits its events, in order, numbered
/// 1, 2, 3 … with the time the caller gave.
pub fn every_write_emits_exactly_its_events_in_order(crm: &Crm) {
    let c = crm.create_customer(person("Ada")).expect("create");
    let id = c.id();
    let mut data = c.data().clone();
    data.email = Some(Email::parse("ada@example.com").expect("email"));
    crm.update_customer(id, data).expect("update");
    let vip = solocrm_core::Tag::parse("vip").expect("tag");
    assert!(crm.tag_customer(id, &vip).expect("tag"));
    // Tagging again changes nothing and says nothing.
    assert!(!crm.tag_customer(id, &vip).expect("tag again"));
    crm.log_interaction(NewInteraction {
        customer: id,
        channel: Channel::Phone,
        direction: Direction::Outbound,
        at: at(1),
        summary: text("intro call"),
        sentiment: None,
    })
    .expect("interaction");
    let p1 = crm
        .record_purchase(NewPurchase::new(id, at(2), eur(10_000)))
        .expect("purchase");
    crm.record_purchase(NewPurchase::new(id, at(3), eur(5_000)))
        .expect("second purchase");
    crm.record_refund(NewRefund {
        purchase: p1.id(),
        at: at(4),
        amount: eur(1_000),
        reason: None,
    })
    .expect("refund");
    crm.record_survey(NewSurveyResponse {
        customer: id,
        at: at(5),
        score: SurveyScore::new(SurveyKind::Nps, 9).expect("score"),
        comment: None,
    })
    .expect("survey");
    let request = crm
        .open_request(NewServiceRequest {
            customer: id,
            kind: RequestKind::Question,
            subject: label("invoice"),
            description: text("where is it"),
            opened_at: at(6),
            deal: None,
        })
        .expect("request");
    crm.update_request(request.id(), RequestEventKind::Responded, at(7))
        .expect("respond");
    let deal = crm
        .create_deal(NewDeal::new(id, label("website"), eur(100_000), at(8)))
        .expect("deal");
    crm.move_deal(deal.id(), DealStage::Won, at(9))
        .expect("win");
    let task = crm
        .create_task(NewTask {
            customer: Some(id),
            kind: TaskKind::FollowUp,
            title: label("check in"),
            due: at(10).date_naive(),
            recurrence: None,
            created_at: at(9),
        })
        .expect("task");
    crm.complete_task(task.id(), at(10)).expect("complete");
    crm.post_points(NewPointsEntry::new(id, at(11), PointsKind::Earn, 150).expect("entry"))
        .expect("points");
    let segment = Segment {
        name: label("everyone"),
        predicate: Predicate::All(Vec::new()),
    };
    crm.create_segment(segment).expect("segment");
    crm.delete_segment(&label("everyone")).expect("delete");
    crm.change_stage(
        id,
        solocrm_core::LifecycleStage::Lead,
        at(12),
        StageReason::manual(),
    )
    .expect("stage");
    crm.erase_customer(id, at(13)).expect("erase");

    let events = all_events(crm);
    let names: Vec<&str> = events.iter().map(|e| e.event.name()).collect();
    assert_eq!(
        names,
        [
            "customer_created",
            "customer_updated",
            "customer_updated",
            "interaction_logged",
            "purchase_recorded",
            "purchase_recorded",
            "refund_recorded",
            "survey_answered",
            "request_opened",
            "request_updated",
            "deal_created",
            "deal_moved",
            "task_created",
            "task_completed",
            "points_posted",
            "segment_created",
            "segment_deleted",
            "stage_changed",
            "customer_erased",
        ]
    );
    let seqs: Vec<u64> = events.iter().map(|e| e.seq).collect();
    let expected: Vec<u64> = (1..=events.len() as u64).collect();
    assert_eq!(
        seqs, expected,
        "events are numbered 1, 2, 3 … in commit order"
    );
    let firsts: Vec<bool> = events
        .iter()
        .filter_map(|e| match e.event {
            DomainEvent::PurchaseRecorded { first, .. } => Some(first),
            _ => None,
        })
        .collect();
    assert_eq!(firsts, [true, false], "only the first purchase is first");
    assert!(events.iter().all(|e| e.event.name() == "segment_created"
        || e.event.name() == "segment_deleted"
        || e.event.customer() == Some(id)));
    // The times are the callers': the purchase at day 2, the erasure at day 13.
    assert_eq!(events[4].at, Some(at(2)));
    assert_eq!(events.last().map(|e| e.at), Some(Some(at(13))));
    match &events[11].event {
        DomainEvent::DealMoved { from, to, .. } => {
            assert_eq!((*from, *to), (DealStage::NeedIdentified, DealStage::Won));
        }
        other => panic!("expected the deal's move, got {other:?}"),
    }
}

/// Refused writes append nothing to the outbox.
pub fn a_refused_write_emits_no_event(crm: &Crm) {
    let mut first = person("Ada");
    first.data.email = Some(Email::parse("ada@example.com").expect("email"));
    crm.create_customer(first.clone()).expect("create");
    let before = all_events(crm);
    assert!(crm.create_customer(first).is_err(), "a duplicate email");
    assert!(
        crm.record_purchase(NewPurchase::new(CustomerId::new(99), at(1), eur(1)))
            .is_err()
    );
    assert!(
        crm.move_deal(solocrm_core::DealId::new(7), DealStage::Won, at(1))
            .is_err()
    );
    assert_eq!(all_events(crm), before);
}

/// An import is one event with the ranges of ids it created, not one per row.
pub fn an_import_emits_one_event_naming_what_it_created(crm: &Crm) {
    let existing = crm.create_customer(person("Ada")).expect("create");
    let batch = ImportBatch {
        create_customers: vec![person("Grace"), person("Edsger")],
        update_customers: vec![(existing.id(), existing.data().clone())],
        purchases: vec![
            (
                solocrm_core::CustomerRef::New(0),
                NewPurchase::new(CustomerId::new(0), at(1), eur(100)),
            ),
            (
                solocrm_core::CustomerRef::Existing(existing.id()),
                NewPurchase::new(existing.id(), at(2), eur(200)),
            ),
        ],
        surveys: vec![],
        purchase_lines: Vec::new(),
        attributions: Vec::new(),
    };
    let receipt = crm.import(batch).expect("import");
    let events = all_events(crm);
    assert_eq!(
        events.len(),
        2,
        "one for Ada, one for the import: {events:?}"
    );
    assert_eq!(
        events[1].event,
        DomainEvent::Imported {
            customers: Some((receipt.created_customers[0], receipt.created_customers[1])),
            updated_customers: 1,
            purchases: Some((receipt.purchases[0], receipt.purchases[1])),
            surveys: None,
        }
    );
}

/// The outbox is read after a cursor, in pages, and a page past the end is empty.
pub fn events_are_read_in_pages_from_a_cursor(crm: &Crm) {
    for i in 0..5 {
        crm.create_customer(person(&format!("c{i}")))
            .expect("create");
    }
    let first = crm.read(|r| r.events(0, 2)).expect("page 1");
    assert_eq!(first.iter().map(|e| e.seq).collect::<Vec<_>>(), [1, 2]);
    let second = crm.read(|r| r.events(2, 2)).expect("page 2");
    assert_eq!(second.iter().map(|e| e.seq).collect::<Vec<_>>(), [3, 4]);
    let rest = crm.read(|r| r.events(4, 100)).expect("the rest");
    assert_eq!(rest.iter().map(|e| e.seq).collect::<Vec<_>>(), [5]);
    assert!(crm.read(|r| r.events(5, 100)).expect("past").is_empty());
    let customers: Vec<Option<CustomerId>> =
        all_events(crm).iter().map(|e| e.event.customer()).collect();
    let expected: Vec<Option<CustomerId>> = (1..=5).map(|i| Some(CustomerId::new(i))).collect();
    assert_eq!(customers, expected);
}

/// After erasure, nothing personal is left: not in the outbox, not in any record.
pub fn erasure_leaves_no_personal_data_in_the_outbox_or_the_records(crm: &Crm) {
    let secrets = [
        "Lovelace",
        "ada@secret.example",
        "+44 20 7946 0000",
        "told me about her illness",
        "bought the red bicycle",
        "refund for the late delivery",
        "the broken saddle",
        "Lovelace garden project",
        "call about her illness",
        "loyal since the bicycle",
        "moved after the divorce",
    ];
    let mut new = person("Ada Lovelace");
    new.data.email = Some(Email::parse(secrets[1]).expect("email"));
    new.data.phone = Some(Phone::parse(secrets[2]).expect("phone"));
    let id = crm.create_customer(new).expect("create").id();
    crm.log_interaction(NewInteraction {
        customer: id,
        channel: Channel::Phone,
        direction: Direction::Inbound,
        at: at(1),
        summary: text(secrets[3]),
        sentiment: None,
    })
    .expect("interaction");
    let mut purchase = NewPurchase::new(id, at(2), eur(50_000));
    purchase.description = Some(text(secrets[4]));
    let p = crm.record_purchase(purchase).expect("purchase");
    crm.record_refund(NewRefund {
        purchase: p.id(),
        at: at(3),
        amount: eur(1_000),
        reason: Some(text(secrets[5])),
    })
    .expect("refund");
    crm.open_request(NewServiceRequest {
        customer: id,
        kind: RequestKind::Complaint,
        subject: label(secrets[6]),
        description: text(secrets[6]),
        opened_at: at(4),
        deal: None,
    })
    .expect("request");
    crm.create_deal(NewDeal::new(id, label(secrets[7]), eur(1), at(5)))
        .expect("deal");
    crm.create_task(NewTask {
        customer: Some(id),
        kind: TaskKind::FollowUp,
        title: label(secrets[8]),
        due: at(6).date_naive(),
        recurrence: None,
        created_at: at(5),
    })
    .expect("task");
    let mut points = NewPointsEntry::new(id, at(6), PointsKind::Earn, 10).expect("entry");
    points.reason = Some(label(secrets[9]));
    crm.post_points(points).expect("points");
    crm.change_stage(
        id,
        solocrm_core::LifecycleStage::Lead,
        at(7),
        StageReason::Manual {
            note: Some(label(secrets[10])),
        },
    )
    .expect("stage");

    crm.erase_customer(id, at(8)).expect("erase");

    let outbox = format!("{:?}", all_events(crm));
    let export = format!("{:?}", crm.export_customer(id).expect("export"));
    for secret in secrets {
        assert!(!outbox.contains(secret), "the outbox keeps {secret:?}");
        assert!(!export.contains(secret), "the records keep {secret:?}");
    }
    let keys = crm.customer_keys().expect("keys");
    assert!(keys.iter().all(|k| k.email.is_none() && k.erased));
}

/// With a lifecycle policy, a purchase or a survey answer moves its customer in the
/// same write, each step with its own rule; without one, nothing moves by itself. A
/// catch-up dates each step when its condition arose.
pub fn purchases_and_answers_move_the_lifecycle_by_themselves(crm: &Crm) {
    use solocrm_core::{LifecyclePolicy, LifecycleStage as S, PolicyRule as R};
    let manual = crm.create_customer(person("Manual")).expect("create");
    crm.record_purchase(NewPurchase::new(manual.id(), at(1), eur(100)))
        .expect("purchase");
    assert_eq!(
        crm.customer(manual.id()).expect("read").stage(),
        S::Prospect
    );

    let auto = crm.clone().with_lifecycle(Some(LifecyclePolicy::default()));
    let ada = auto.create_customer(person("Ada")).expect("create");
    let steps = |id: CustomerId| -> Vec<(S, i64, Option<R>)> {
        auto.stage_history(id)
            .expect("history")
            .iter()
            .map(|h| {
                let rule = match h.reason {
                    StageReason::Rule { rule } => Some(rule),
                    StageReason::Manual { .. } => None,
                };
                (h.to, (h.at - at(0)).num_days(), rule)
            })
            .collect()
    };
    let before = all_events(&auto).len();
    auto.record_purchase(NewPurchase::new(ada.id(), at(1), eur(100)))
        .expect("purchase");
    assert_eq!(steps(ada.id()), [(S::New, 1, Some(R::FirstPurchase))]);
    let names: Vec<&str> = all_events(&auto)[before..]
        .iter()
        .map(|e| e.event.name())
        .collect();
    assert_eq!(
        names,
        ["purchase_recorded", "stage_changed"],
        "one write, in order"
    );
    // A second purchase the same day is the same visit; the next day's is a repeat.
    auto.record_purchase(NewPurchase::new(ada.id(), at(1), eur(100)))
        .expect("purchase");
    assert_eq!(steps(ada.id()).len(), 1);
    for day in 2..=5 {
        auto.record_purchase(NewPurchase::new(ada.id(), at(day), eur(100)))
            .expect("purchase");
    }
    // Five purchase days and a promoter's answer: loyal, because of the answer.
    let nps = SurveyScore::new(SurveyKind::Nps, 10).expect("a score");
    auto.record_survey(NewSurveyResponse {
        customer: ada.id(),
        at: at(6),
        score: nps,
        comment: None,
    })
    .expect("survey");
    assert_eq!(
        steps(ada.id()),
        [
            (S::New, 1, Some(R::FirstPurchase)),
            (S::Active, 2, Some(R::RepeatPurchase)),
            (S::Loyal, 6, Some(R::LoyalBehaviour)),
        ]
    );

    // A prospect with purchases recorded without a policy catches up in one go: new
    // at the first purchase, at risk the day after the threshold (180 days for a
    // single purchase day), churned the day after the horizon (365; at 00:00 UTC, so
    // 366 whole days after 09:00 on day 0).
    let policy = LifecyclePolicy::default();
    let as_of = at(500);
    let found = auto
        .read(|r| r.reassess_all(&policy, as_of))
        .expect("reassess");
    let (_, s) = found
        .suggestions
        .iter()
        .find(|(id, _)| *id == manual.id())
        .expect("the manual customer should move");
    auto.write(|w| w.apply_suggestion(manual.id(), s, &policy, as_of))
        .expect("apply");
    assert_eq!(
        steps(manual.id()),
        [
            (S::New, 1, Some(R::FirstPurchase)),
            (S::Churned, 366, Some(R::Silent))
        ]
    );
    // A purchase dated before the latest change moves no one (a history never goes
    // back in time); one after it wins the customer back.
    auto.record_purchase(NewPurchase::new(manual.id(), at(300), eur(100)))
        .expect("purchase");
    assert_eq!(
        auto.customer(manual.id()).expect("read").stage(),
        S::Churned
    );
    auto.record_purchase(NewPurchase::new(manual.id(), at(400), eur(100)))
        .expect("purchase");
    assert_eq!(
        steps(manual.id()).last(),
        Some(&(S::WonBack, 400, Some(R::PurchaseAfterChurn)))
    );
}

/// The business time zone is stored with the books by the write that sets it (an
/// abandoned write leaves it alone), and the rules count its days: days without
/// contact on the care list, and a caught-up time-driven move dated at the first
/// instant of the business-local day its condition arose on.
pub fn the_business_zone_is_stored_and_counts_the_days(crm: &Crm) {
    use solocrm_core::{
        BusinessZone, CareConfig, CareReason, LifecyclePolicy, LifecycleStage as S,
    };
    let zone = || crm.read(|r| r.time_zone()).expect("the zone");
    assert_eq!(zone(), BusinessZone::UTC, "a new book counts UTC days");
    let beijing = BusinessZone::parse("Asia/Shanghai").expect("a zone");
    let abandoned: Result<(), StoreError> = crm.write(|w| {
        w.set_time_zone(beijing)?;
        Err(StoreError::Aborted("not now".into()))
    });
    assert!(abandoned.is_err());
    assert_eq!(
        zone(),
        BusinessZone::UTC,
        "an abandoned write keeps the zone"
    );

    // The last purchase at 23:30 UTC on 31 March is on 1 April in Beijing.
    let ada = crm.create_customer(person("Ada")).expect("create");
    let last = Utc
        .with_ymd_and_hms(2026, 3, 31, 23, 30, 0)
        .single()
        .expect("a valid instant");
    crm.record_purchase(NewPurchase::new(ada.id(), last, eur(100)))
        .expect("purchase");
    crm.write(|w| {
        w.change_stage(ada.id(), S::New, last, StageReason::Manual { note: None })
            .map(|_| ())
    })
    .expect("a stage");
    let config = CareConfig {
        holidays: Vec::new(),
        no_contact_days: 30,
    };
    // 10:00 on 1 May in Beijing (02:00 UTC).
    let may_day = Utc
        .with_ymd_and_hms(2026, 5, 1, 2, 0, 0)
        .single()
        .expect("a valid instant");
    let silence = || -> Option<i64> {
        crm.read(|r| r.care_due(may_day, 0, &config))
            .expect("care")
            .iter()
            .find_map(|i| match i.reason {
                CareReason::NoContact { days, .. } => Some(days),
                _ => None,
            })
    };
    assert_eq!(silence(), Some(31), "UTC: 31 March to 1 May");
    crm.write(|w| w.set_time_zone(beijing))
        .expect("set the zone");
    assert_eq!(zone(), beijing);
    assert_eq!(silence(), Some(30), "Beijing: 1 April to 1 May");

    // One purchase day: at risk after 180 days without buying, that is from the
    // first instant of 2026-09-29 in Beijing (16:00 UTC on the 28th).
    let policy = LifecyclePolicy::default();
    let as_of = last + Days::days(200);
    let found = crm
        .read(|r| r.reassess_all(&policy, as_of))
        .expect("reassess");
    let (_, s) = found
        .suggestions
        .iter()
        .find(|(id, _)| *id == ada.id())
        .expect("Ada should move");
    let steps = crm
        .write(|w| w.apply_suggestion(ada.id(), s, &policy, as_of))
        .expect("apply");
    let at_risk = steps.iter().find(|h| h.to == S::AtRisk).expect("at risk");
    assert_eq!(
        at_risk.at,
        Utc.with_ymd_and_hms(2026, 9, 28, 16, 0, 0)
            .single()
            .expect("a valid instant")
    );
}

/// A read sees the books as they were when it began, however many writes commit while
/// it runs; and those writes do not wait for it.
pub fn a_read_sees_one_snapshot_while_another_thread_writes(crm: &Crm) {
    let c = crm.create_customer(person("Ada")).expect("create");
    crm.record_purchase(NewPurchase::new(c.id(), at(1), eur(100)))
        .expect("purchase");
    let (go, wait_go) = mpsc::channel::<()>();
    let (done, wait_done) = mpsc::channel::<Result<(), String>>();
    let writer = crm.clone();
    let id = c.id();
    let handle = thread::spawn(move || {
        if wait_go.recv_timeout(STUCK).is_err() {
            return;
        }
        let result = writer
            .write(|w| {
                w.create_customer(person("Grace"))?;
                w.record_purchase(NewPurchase::new(id, at(2), eur(900)))?;
                Ok(())
            })
            .map_err(|e| e.to_string());
        let _ = done.send(result);
    });
    let seen = crm
        .read(|r| {
            let before = (r.count_customers()?, r.purchases_of(id)?.len());
            go.send(()).expect("the writer thread is waiting");
            let committed = wait_done.recv_timeout(STUCK).unwrap_or_else(|_| {
                Err("the writer did not commit while a read was open".to_owned())
            });
            let after = (r.count_customers()?, r.purchases_of(id)?.len());
            Ok((before, committed, after))
        })
        .expect("the read should work");
    handle.join().expect("the writer thread");
    let (before, committed, after) = seen;
    committed.expect("the write should commit while the read is open");
    assert_eq!(before, (1, 1));
    assert_eq!(
        after, before,
        "the read saw a write that committed after it began"
    );
    assert_eq!(crm.count_customers().expect("count"), 2);
    assert_eq!(crm.purchases(&Default::default()).expect("all").len(), 2);
}

/// The two reads of [`Crm::read_beside`] see one snapshot: a write committed while
/// the first is running (and before the second reads anything) is in neither, whether
/// the backend runs them at once or one after the other. Each one's error is
/// returned, the first one's when both fail, and both run.
pub fn reads_beside_one_another_see_one_snapshot(crm: &Crm) {
    let c = crm.create_customer(person("王芳")).expect("create");
    crm.record_purchase(NewPurchase::new(c.id(), at(1), eur(100)))
        .expect("purchase");
    let id = c.id();
    let (written, wait_written) = mpsc::channel::<Result<(), String>>();
    let writer = crm.clone();
    let (here, there) = crm
        .read_beside(
            |r| {
                let before = (r.count_customers()?, r.purchases_of(id)?.len());
                // Another thread commits while this read is open.
                let result = thread::spawn(move || {
                    writer
                        .write(|w| {
                            w.create_customer(person("李娜"))?;
                            w.record_purchase(NewPurchase::new(id, at(2), eur(900)))?;
                            Ok(())
                        })
                        .map_err(|e| e.to_string())
                })
                .join()
                .expect("the writer thread");
                let after = (r.count_customers()?, r.purchases_of(id)?.len());
                written.send(result).expect("the other read is waiting");
                Ok((before, after))
            },
            move |r| {
                let committed = wait_written
                    .recv_timeout(STUCK)
                    .unwrap_or_else(|_| Err("the first read never wrote".to_owned()));
                Ok((committed, r.count_customers()?, r.purchases_of(id)?.len()))
            },
        )
        .expect("both reads should work");
    let (committed, customers, purchases) = there;
    committed.expect("the write should commit while the reads are open");
    assert_eq!(here.0, (1, 1));
    assert_eq!(here.1, here.0, "the first read saw a later write");
    assert_eq!(
        (customers, purchases),
        here.0,
        "the second read saw a write that committed after the reads began"
    );
    assert_eq!(crm.count_customers().expect("count"), 2);

    // Errors: the first read's comes first; the second read runs all the same.
    let refused = |what: &str| StoreError::backend(std::io::Error::other(what.to_owned()));
    let ran = std::sync::atomic::AtomicBool::new(false);
    let both = crm.read_beside(
        |_| Err::<(), _>(refused("here")),
        |_| {
            ran.store(true, std::sync::atomic::Ordering::SeqCst);
            Err::<(), _>(refused("there"))
        },
    );
    let message = both.expect_err("both failed").to_string();
    assert!(message.contains("here"), "{message}");
    assert!(ran.load(std::sync::atomic::Ordering::SeqCst));
    let second = crm.read_beside(|r| r.count_customers(), |_| Err::<(), _>(refused("there")));
    let message = second.expect_err("the second failed").to_string();
    assert!(message.contains("there"), "{message}");
    // And the store is as usable as before.
    let (a, b) = crm
        .read_beside(|r| r.count_customers(), |r| r.count_customers())
        .expect("both");
    assert_eq!((a, b), (2, 2));
}

/// While an import holds the writer (its source is still producing parts), readers
/// get answers at once and see none of the import.
pub fn readers_proceed_while_an_import_holds_the_writer(crm: &Crm) {
    crm.create_customer(person("Ada")).expect("create");
    let (started, wait_started) = mpsc::channel::<()>();
    let (release, wait_release) = mpsc::channel::<()>();
    let importer = crm.clone();
    let handle = thread::spawn(move || {
        let mut first = Some(ImportBatch {
            create_customers: vec![person("Grace")],
            ..ImportBatch::default()
        });
        let mut parts = std::iter::from_fn(move || {
            let part = first.take()?;
            Some(Ok(part))
        })
        .chain(std::iter::from_fn({
            let mut once = Some(());
            move || {
                once.take()?;
                // The first part is written; hold the writer until released.
                let _ = started.send(());
                let _ = wait_release.recv_timeout(STUCK);
                Some(Ok(ImportBatch {
                    create_customers: vec![person("Edsger")],
                    ..ImportBatch::default()
                }))
            }
        }));
        importer.import_parts(&mut parts)
    });
    wait_started
        .recv_timeout(STUCK)
        .expect("the import should start");
    let during = crm.read(|r| r.count_customers());
    let listed = crm.list_customers(&Default::default());
    release.send(()).expect("the import is waiting");
    let receipt = handle
        .join()
        .expect("the import thread")
        .expect("the import should commit");
    assert_eq!(
        during.expect("a read during the import should not wait or fail"),
        1
    );
    assert_eq!(listed.expect("listing during the import").items.len(), 1);
    assert_eq!(receipt.created_customers.len(), 2);
    assert_eq!(crm.count_customers().expect("count"), 3);
}

/// The port's narrow stage methods:
/// [`customer_stage`](solocrm_core::port::ReadTx::customer_stage) answers the stage
/// and erasure,
/// [`last_stage_change_at`](solocrm_core::port::ReadTx::last_stage_change_at) the
/// time of the last change *pushed* (not the latest time), and
/// [`set_customer_stage`](solocrm_core::port::WriteTx::set_customer_stage) changes
/// the stage and nothing else of the customer (data, tags, consents stay; the history
/// is not touched); a customer that is not stored is `None`, and setting its stage an
/// error.
pub fn the_stage_port_methods_touch_the_stage_alone(crm: &Crm) {
    let ada = crm
        .write(|w| {
            let mut new = person("Ada");
            new.data
                .tags
                .insert(solocrm_core::Tag::parse("vip").expect("a valid tag"));
            let c = w.create_customer(new)?;
            w.record_consent(
                c.id(),
                solocrm_core::Consent {
                    purpose: solocrm_core::Tag::parse("newsletter").expect("a valid tag"),
                    granted: true,
                    at: at(1),
                    source: label("web form"),
                },
            )
        })
        .expect("creating Ada");
    let id = ada.id();
    let missing = CustomerId::new(404);
    crm.storage()
        .write(&mut |tx| {
            assert_eq!(
                tx.customer_stage(id)?,
                Some(CustomerStage {
                    stage: LifecycleStage::Prospect,
                    erased: false
                })
            );
            assert_eq!(tx.customer_stage(missing)?, None);
            assert_eq!(tx.last_stage_change_at(id)?, None, "no change yet");
            for (from, to, day) in [
                (LifecycleStage::Prospect, LifecycleStage::Lead, 5),
                (LifecycleStage::Lead, LifecycleStage::New, 3),
            ] {
                tx.set_customer_stage(id, to)?;
                tx.push_stage_change(&StageChange {
                    customer: id,
                    from,
                    to,
                    at: at(day),
                    reason: StageReason::manual(),
                })?;
            }
            assert_eq!(
                tx.last_stage_change_at(id)?,
                Some(at(3)),
                "the last change pushed, not the latest in time"
            );
            assert!(
                tx.set_customer_stage(missing, LifecycleStage::Lead)
                    .is_err(),
                "a customer that is not stored"
            );
            Ok(())
        })
        .expect("the port's stage methods");
    let stored = crm.customer(id).expect("Ada is stored");
    assert_eq!(stored.stage(), LifecycleStage::New);
    assert_eq!(stored.data(), ada.data(), "data and tags unchanged");
    assert_eq!(stored.consents(), ada.consents(), "consents unchanged");
    assert_eq!(stored.created_at(), ada.created_at());
    assert_eq!(crm.stage_history(id).expect("history").len(), 2);
    crm.storage()
        .read(&mut |tx| {
            assert_eq!(
                tx.customer_stage(id)?,
                Some(CustomerStage {
                    stage: LifecycleStage::New,
                    erased: false
                }),
                "the committed stage"
            );
            Ok(())
        })
        .expect("reading the stage back");
    let erased_at = at(9);
    crm.erase_customer(id, erased_at).expect("erasing Ada");
    crm.storage()
        .read(&mut |tx| {
            assert_eq!(
                tx.customer_stage(id)?,
                Some(CustomerStage {
                    stage: LifecycleStage::New,
                    erased: true
                })
            );
            Ok(())
        })
        .expect("reading the erased stage");
}

/// After [`Writer::all_or_nothing`](solocrm_core::ops::Writer::all_or_nothing) a
/// write whose operations all succeed commits as any other, and one where an
/// operation fails commits nothing at all, even when the caller ignores the failure
/// and returns `Ok`.
pub fn an_all_or_nothing_write_commits_whole_or_not_at_all(crm: &Crm) {
    let ada = crm
        .write(|w| {
            w.all_or_nothing();
            let c = w.create_customer(person("Ada"))?;
            w.change_stage(c.id(), LifecycleStage::Lead, at(1), StageReason::manual())?;
            w.post_points(
                NewPointsEntry::new(c.id(), at(2), PointsKind::Earn, 10).expect("valid points"),
            )?;
            assert!(!w.is_spoiled());
            Ok(c.id())
        })
        .expect("a write whose operations all succeed commits");
    assert_eq!(
        crm.customer(ada).expect("Ada").stage(),
        LifecycleStage::Lead
    );
    let events_before = all_events(crm).len();
    let result = crm.write(|w| {
        w.all_or_nothing();
        w.create_customer(person("Grace"))?;
        // A move back in time, before Ada's change at day 1: refused by its checks.
        let refused = w.change_stage(ada, LifecycleStage::New, at(0), StageReason::manual());
        assert!(
            matches!(refused, Err(StoreError::Validation(_))),
            "{refused:?}"
        );
        assert!(w.is_spoiled());
        // The caller goes on as if nothing happened.
        Ok(())
    });
    assert!(
        result.is_err(),
        "a spoiled write does not commit: {result:?}"
    );
    assert_eq!(crm.count_customers().expect("count"), 1, "no Grace");
    assert_eq!(
        all_events(crm).len(),
        events_before,
        "no event of the write"
    );
}

/// [`append_consent`](solocrm_core::port::WriteTx::append_consent) adds the decision
/// after the customer's earlier ones and changes nothing else of the customer; a
/// customer that is not stored is an error.
pub fn appending_a_consent_leaves_the_rest_of_the_customer(crm: &Crm) {
    let consent = |day, granted| solocrm_core::Consent {
        purpose: solocrm_core::Tag::parse("newsletter").expect("a valid tag"),
        granted,
        at: at(day),
        source: label("web form"),
    };
    let ada = crm
        .write(|w| {
            let mut new = person("Ada");
            new.data
                .tags
                .insert(solocrm_core::Tag::parse("vip").expect("a valid tag"));
            let c = w.create_customer(new)?;
            w.record_consent(c.id(), consent(1, true))
        })
        .expect("creating Ada");
    crm.storage()
        .write(&mut |tx| {
            tx.append_consent(ada.id(), &consent(2, false))?;
            assert!(
                tx.append_consent(CustomerId::new(404), &consent(2, true))
                    .is_err(),
                "a customer that is not stored"
            );
            Ok(())
        })
        .expect("appending a consent");
    let stored = crm.customer(ada.id()).expect("Ada is stored");
    assert_eq!(stored.consents(), [consent(1, true), consent(2, false)]);
    assert_eq!(stored.data(), ada.data(), "data and tags unchanged");
    assert_eq!(stored.stage(), ada.stage());
    assert_eq!(stored.created_at(), ada.created_at());
    assert!(!stored.has_consent(&solocrm_core::Tag::parse("newsletter").expect("a valid tag")));
}

/// [`Writer::append_consent`](solocrm_core::Writer::append_consent) (no customer
/// read back) writes what [`Writer::record_consent`](solocrm_core::Writer::record_consent)
/// writes — the consent after the customer's earlier ones and one `CustomerUpdated`
/// event — and refuses what it refuses: a customer not stored, an erased one.
pub fn a_consent_appended_by_the_writer_is_recorded_as_record_consent_records_it(crm: &Crm) {
    let consent = |day, granted| solocrm_core::Consent {
        purpose: solocrm_core::Tag::parse("newsletter").expect("a valid tag"),
        granted,
        at: at(day),
        source: label("web form"),
    };
    let (ada, bob) = crm
        .write(|w| {
            let ada = w.create_customer(person("Ada"))?.id();
            let bob = w.create_customer(person("Bob"))?.id();
            Ok((ada, bob))
        })
        .expect("two customers");
    let after = all_events(crm).len();
    crm.write(|w| {
        w.record_consent(ada, consent(1, true))?;
        w.record_consent(ada, consent(2, false))?;
        w.append_consent(bob, &consent(1, true))?;
        w.append_consent(bob, &consent(2, false))
    })
    .expect("the consents");
    let (a, b) = (
        crm.customer(ada).expect("Ada"),
        crm.customer(bob).expect("Bob"),
    );
    assert_eq!(a.consents(), [consent(1, true), consent(2, false)]);
    assert_eq!(b.consents(), a.consents(), "the same decisions, in order");
    let events: Vec<DomainEvent> = all_events(crm)
        .into_iter()
        .skip(after)
        .map(|e| e.event)
        .collect();
    assert_eq!(
        events,
        [ada, ada, bob, bob].map(|customer| DomainEvent::CustomerUpdated { customer })
    );
    let missing = crm.write(|w| w.append_consent(CustomerId::new(404), &consent(3, true)));
    assert!(
        matches!(missing, Err(StoreError::NotFound { .. })),
        "{missing:?}"
    );
    crm.erase_customer(bob, at(4)).expect("erase Bob");
    let erased = crm.write(|w| w.append_consent(bob, &consent(5, true)));
    assert!(
        matches!(
            erased,
            Err(StoreError::Conflict(
                solocrm_core::Conflict::CustomerErased { .. }
            ))
        ),
        "{erased:?}"
    );
    assert_eq!(
        crm.customer(ada).expect("Ada").consents(),
        a.consents(),
        "nothing else written"
    );
}

/// [`ReadTx::search_fields`](solocrm_core::port::ReadTx::search_fields): for texts
/// of one, two and three or more characters (Chinese, ASCII, a cased letter beyond
/// ASCII), the candidates come by ascending id, each with exactly the text stored for
/// that customer; every customer who matches is among them, and an erased customer
/// never is, not even by their former name.
pub fn search_fields_give_each_candidates_text_by_id_and_never_an_erased_one(crm: &Crm) {
    use solocrm_core::{SearchFields, SearchText};
    let mut made = Vec::new();
    for (who, mail, company, city, notes) in [
        (
            "王芳",
            Some("fang@example.cn"),
            Some("上海王氏贸易"),
            Some("上海"),
            "老客户",
        ),
        ("张伟", None, None, Some("北京"), ""),
        (
            "Ängel Nguyễn",
            Some("angel@example.com"),
            None,
            None,
            "Vietnam trip",
        ),
        (
            "Dan Brown",
            None,
            Some("Danube Ltd"),
            None,
            "asked about 王府井",
        ),
        ("王秘密", None, None, None, "erased soon"),
    ] {
        let mut new = person(who);
        new.data.email = mail.map(|m| Email::parse(m).expect("an email"));
        new.data.company = company.map(label);
        new.data.profile.city = city.map(label);
        new.data.notes = text(notes);
        made.push(crm.create_customer(new).expect("a customer"));
    }
    let erased = made.pop().expect("five customers").id();
    crm.erase_customer(erased, at(9)).expect("erased");
    let stored: Vec<solocrm_core::Customer> = made
        .iter()
        .map(|c| crm.customer(c.id()).expect("stored"))
        .collect();
    for s in [
        "王",
        "王芳",
        "上海王",
        "an",
        "AN",
        "ä",
        "Ä",
        "nguyễn",
        "秘密",
        "zz",
    ] {
        let text = SearchText::parse(s).expect("a search text");
        let mut rows = Vec::new();
        crm.storage()
            .read(&mut |tx| {
                rows = tx.search_fields(&text)?;
                Ok(())
            })
            .expect("a read");
        let ids: Vec<CustomerId> = rows.iter().map(|f| f.id).collect();
        let mut sorted = ids.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(ids, sorted, "{s}: by ascending id, each once");
        assert!(!ids.contains(&erased), "{s}: never the erased customer");
        for f in &rows {
            let c = stored
                .iter()
                .find(|c| c.id() == f.id)
                .expect("a candidate is a stored customer");
            assert_eq!(f, &SearchFields::of(c), "{s}: the stored text");
        }
        for c in &stored {
            if text.matches(c) {
                assert!(ids.contains(&c.id()), "{s}: {} matches", c.name());
            }
        }
    }
}

/// [`ReadTx::search_matches`](solocrm_core::port::ReadTx::search_matches): for texts
/// of one, two and three or more characters (Chinese, ASCII in either case, a cased
/// letter beyond ASCII, `LIKE`'s wildcards), exactly the customers who match, by
/// ascending id, each with their stored name; never an erased customer, not even by
/// their former name or notes, and not after an edit took the text away. And
/// [`ReadTx::all_search_fields`](solocrm_core::port::ReadTx::all_search_fields): every
/// customer who is not erased, by id, with their text as stored now, from which a
/// [`SearchIndex`](solocrm_core::search::SearchIndex) answers as the store's search.
pub fn search_matches_are_exactly_the_hits_by_id_with_their_names(crm: &Crm) {
    use solocrm_core::{SearchMatch, SearchText};
    let mut made = Vec::new();
    for (who, mail, company, city, notes) in [
        (
            "王芳",
            Some("fang@example.cn"),
            Some("上海王氏贸易"),
            Some("上海"),
            "老客户",
        ),
        ("张伟", None, None, Some("北京"), "50% off, a_b"),
        (
            "Ängel Nguyễn",
            Some("angel@example.com"),
            None,
            None,
            "Vietnam trip",
        ),
        (
            "DAN Brown",
            None,
            Some("Danube Ltd"),
            None,
            "asked about 王府井",
        ),
        ("Zoë", None, None, Some("Anhui"), ""),
        ("王秘密", None, None, None, "erased soon"),
    ] {
        let mut new = person(who);
        new.data.email = mail.map(|m| Email::parse(m).expect("an email"));
        new.data.company = company.map(label);
        new.data.profile.city = city.map(label);
        new.data.notes = text(notes);
        made.push(crm.create_customer(new).expect("a customer"));
    }
    let erased = made.pop().expect("six customers").id();
    crm.erase_customer(erased, at(9)).expect("erased");
    // An edit takes "Zoë"'s city away: a search for it finds her no more.
    let zoe = made[4].id();
    let mut data = crm.customer(zoe).expect("Zoë").data().clone();
    data.profile.city = None;
    crm.update_customer(zoe, data).expect("an edit");
    let stored: Vec<solocrm_core::Customer> = made
        .iter()
        .map(|c| crm.customer(c.id()).expect("stored"))
        .collect();
    for s in [
        "王",
        "王芳",
        "上海王",
        "an",
        "AN",
        "ä",
        "Ä",
        "ë",
        "nguyễn",
        "秘密",
        "erased",
        "anh",
        "%",
        "_",
        "0%",
        "a_",
        "zz",
    ] {
        let text = SearchText::parse(s).expect("a search text");
        let mut rows = Vec::new();
        crm.storage()
            .read(&mut |tx| {
                rows = tx.search_matches(&text)?;
                Ok(())
            })
            .expect("a read");
        let expected: Vec<SearchMatch> = stored
            .iter()
            .filter(|c| text.matches(c))
            .map(|c| SearchMatch {
                id: c.id(),
                name: c.name().as_str().to_owned(),
            })
            .collect();
        assert_eq!(
            rows, expected,
            "{s}: exactly the hits, by id, with their names"
        );
    }
    // What an in-memory index is built from: every customer but the erased one, by
    // id, with the text as stored now (Zoë without her former city).
    let mut all = Vec::new();
    crm.storage()
        .read(&mut |tx| {
            all = tx.all_search_fields()?;
            Ok(())
        })
        .expect("a read");
    let expected: Vec<solocrm_core::SearchFields> =
        stored.iter().map(solocrm_core::SearchFields::of).collect();
    assert_eq!(all, expected, "every customer not erased, by id, as stored");
    let index = solocrm_core::search::SearchIndex::new(all);
    for s in ["王", "an", "Ä", "anh", "erased", "%"] {
        let text = SearchText::parse(s).expect("a search text");
        let (ids, total) = index.search(&text, None);
        let (found, count) = crm.search_customers(&text, None).expect("a search");
        let found: Vec<CustomerId> = found.iter().map(|c| c.id()).collect();
        assert_eq!(
            (ids, total),
            (found, count),
            "{s}: the index answers as the store"
        );
    }
}

/// A write that reads the business time zone, sets another and goes on sees the new
/// zone in every later read and operation of the same write, also after a failed
/// operation was rolled back (a store may keep the zone it read for the transaction,
/// ADR 0054): a points entry posted after the change keeps its lot on the new zone's
/// day, and the kept lots equal the ledgers replayed in the stored zone.
pub fn a_write_uses_the_zone_it_set_in_its_later_operations(crm: &Crm) {
    use solocrm_core::{BusinessZone, open_lots};
    let beijing = BusinessZone::parse("Asia/Shanghai").expect("a zone");
    let ada = crm.create_customer(person("Ada")).expect("create");
    // 23:30 UTC on 31 March: 31 March in UTC, 1 April in Beijing.
    let late = Utc
        .with_ymd_and_hms(2026, 3, 31, 23, 30, 0)
        .single()
        .expect("a valid instant");
    let earn = |points| NewPointsEntry::new(ada.id(), late, PointsKind::Earn, points);
    crm.write(|w| {
        assert_eq!(w.reader().time_zone()?, BusinessZone::UTC);
        w.post_points(earn(10).expect("entry"))?;
        w.set_time_zone(beijing)?;
        assert_eq!(w.reader().time_zone()?, beijing, "read back in the write");
        // A failed operation (unknown customer) is rolled back; the write goes on.
        let missing = NewPointsEntry::new(CustomerId::new(999_999), late, PointsKind::Earn, 1)
            .expect("entry");
        assert!(w.post_points(missing).is_err());
        assert_eq!(w.reader().time_zone()?, beijing, "after a rollback");
        w.post_points(earn(20).expect("entry"))?;
        Ok(())
    })
    .expect("the write");
    assert_eq!(crm.read(|r| r.time_zone()).expect("the zone"), beijing);
    let far = chrono::NaiveDate::from_ymd_opt(2200, 1, 1).expect("a day");
    let kept = crm
        .read(|r| r.tx().points_lots_earned_through(far))
        .expect("the kept lots");
    let ledger = crm.read(|r| r.points_ledger(ada.id())).expect("the ledger");
    let replayed = open_lots(&ledger, beijing, None);
    let april = chrono::NaiveDate::from_ymd_opt(2026, 4, 1).expect("a day");
    assert_eq!(replayed.len(), 2);
    assert!(
        replayed.iter().all(|l| l.earned_on == april),
        "{replayed:?}"
    );
    assert_eq!(kept, vec![(ada.id(), replayed)]);
}

/// A catch-up of more customers than one transaction holds
/// ([`solocrm_core::ops::MOVES_PER_WRITE`]) moves each customer all or nothing, in
/// order: a move refused in the middle of a batch (the customer was moved by hand
/// after the read) is answered in its place with the store's error and leaves nothing,
/// and the
/// others of that batch and of the next are made with exactly the steps and events a
/// move of its own makes.
pub fn a_batched_catch_up_moves_each_customer_as_a_move_of_its_own(crm: &Crm) {
    use solocrm_core::ops::MOVES_PER_WRITE;
    use solocrm_core::{LifecyclePolicy, LifecycleStage as S, PolicyRule as R};
    let n = MOVES_PER_WRITE + 3;
    let ids: Vec<CustomerId> = (0..n)
        .map(|i| {
            let c = crm
                .create_customer(person(&format!("Customer {i}")))
                .expect("create");
            crm.record_purchase(NewPurchase::new(c.id(), at(1), eur(100)))
                .expect("purchase");
            c.id()
        })
        .collect();
    let policy = LifecyclePolicy::default();
    let as_of = at(500);
    let found = crm
        .read(|r| r.reassess_all(&policy, as_of))
        .expect("reassess");
    assert_eq!(found.suggestions.len(), n, "every customer is behind");
    // Moved by hand after the read, one in the first transaction and one in the
    // second: the suggested first step (to new) is no longer a move.
    let gone = [ids[5], ids[MOVES_PER_WRITE + 1]];
    for id in gone {
        crm.change_stage(id, S::New, at(600), StageReason::Manual { note: None })
            .expect("a manual move");
    }
    let before = all_events(crm).len();
    let mut told = Vec::new();
    let applied = crm.apply_suggestions(&found.suggestions, &policy, as_of, |k| told.push(k));
    assert!(applied.stopped.is_none(), "the batches commit: {applied:?}");
    let answers = applied.answers;
    assert_eq!(told, [MOVES_PER_WRITE, n], "told after each transaction");
    assert_eq!(answers.len(), n, "one answer per suggestion, in order");
    let mut expected_events = Vec::new();
    for (((id, _), answer), i) in found.suggestions.iter().zip(&answers).zip(0..) {
        assert_eq!(*id, ids[i], "suggestions ascend by id");
        if gone.contains(id) {
            assert!(
                matches!(answer, Err(StoreError::InvalidTransition(_))),
                "a stale move is refused, got {answer:?}"
            );
            assert_eq!(crm.stage_history(*id).expect("history").len(), 1);
            continue;
        }
        let changes = answer.as_ref().expect("the others move");
        let steps: Vec<(S, S, i64)> = changes
            .iter()
            .map(|c| (c.from, c.to, (c.at - at(0)).num_days()))
            .collect();
        // New at the first purchase, churned the day after the 365-day horizon
        // (00:00 UTC, so 366 whole days after 09:00 on day 0).
        assert_eq!(
            steps,
            [(S::Prospect, S::New, 1), (S::New, S::Churned, 366)],
            "customer {i}"
        );
        let history = crm.stage_history(*id).expect("history");
        assert_eq!(history.len(), 2);
        assert!(matches!(
            history[1].reason,
            StageReason::Rule { rule: R::Silent }
        ));
        assert_eq!(crm.customer(*id).expect("read").stage(), S::Churned);
        expected_events.extend([(*id, S::New), (*id, S::Churned)]);
    }
    // The outbox holds each moved customer's two changes, customer after customer, and
    // nothing of the refused moves.
    let events: Vec<(CustomerId, S)> = all_events(crm)[before..]
        .iter()
        .map(|e| match &e.event {
            DomainEvent::StageChanged { customer, to, .. } => (*customer, *to),
            other => panic!("only stage changes, got {}", other.name()),
        })
        .collect();
    assert_eq!(events, expected_events);
}

/// `reassess_all` judges each customer by their own latest NPS or CSAT answer and by
/// when they churned, with the answers of several customers recorded interleaved
/// and out of customer order, and churned customers between the others.
pub fn a_reassessment_judges_each_customer_by_their_own_latest_answer_and_churn(crm: &Crm) {
    use solocrm_core::{LifecyclePolicy, LifecycleStage as S, PolicyRule as R};
    let policy = LifecyclePolicy::default();
    let step = "the check's step";
    let new = |name: &str| crm.create_customer(person(name)).expect(step).id();
    let gone = new("赵磊");
    let promoter = new("王芳");
    let back = new("陈静");
    let detractor = new("李娜");
    let satisfied = new("张伟");
    let buy = |id: CustomerId, day: i64| {
        crm.record_purchase(NewPurchase::new(id, at(day), eur(100)))
            .expect(step);
    };
    for id in [promoter, detractor, satisfied] {
        for day in 400..405 {
            buy(id, day);
        }
    }
    // Silent for a year: the catch-up churns both.
    buy(gone, 1);
    buy(back, 1);
    let churn = crm.read(|r| r.reassess_all(&policy, at(380))).expect(step);
    for id in [gone, back] {
        let (_, s) = churn
            .suggestions
            .iter()
            .find(|(c, _)| *c == id)
            .expect("churned by silence");
        crm.write(|w| w.apply_suggestion(id, s, &policy, at(380)))
            .expect(step);
        assert_eq!(crm.customer(id).expect(step).stage(), S::Churned);
    }
    buy(back, 406);
    let answer = |id: CustomerId, kind: SurveyKind, value: i64, day: i64| {
        crm.record_survey(NewSurveyResponse {
            customer: id,
            at: at(day),
            score: SurveyScore::new(kind, value).expect(step),
            comment: None,
        })
        .expect(step);
    };
    answer(satisfied, SurveyKind::Csat, 1, 405);
    answer(detractor, SurveyKind::Nps, 10, 405);
    answer(promoter, SurveyKind::Nps, 2, 405);
    answer(satisfied, SurveyKind::Csat, 5, 406);
    answer(detractor, SurveyKind::Nps, 2, 406);
    answer(promoter, SurveyKind::Nps, 10, 406);
    answer(detractor, SurveyKind::Csat, 3, 406);
    let found = crm.read(|r| r.reassess_all(&policy, at(407))).expect(step);
    let moves: Vec<(CustomerId, S, R)> = found
        .suggestions
        .iter()
        .map(|(id, s)| (*id, s.assessment.target, s.assessment.rule))
        .collect();
    assert_eq!(
        moves,
        [
            (promoter, S::Loyal, R::LoyalBehaviour),
            (back, S::WonBack, R::PurchaseAfterChurn),
            (detractor, S::Active, R::RepeatPurchase),
            (satisfied, S::Loyal, R::LoyalBehaviour),
        ],
        "by id; the customer still churned is where they belong"
    );
    assert!(found.future_dated.is_empty());
}

#[cfg(test)]
mod tests {
    use super::PORT_CHECKS;

    #[test]
    fn the_table_and_the_macro_list_the_same_checks() {
        let source = include_str!("transactions.rs");
        let public: Vec<&str> = source
            .lines()
            .filter_map(|l| l.strip_prefix("pub fn "))
            .map(|rest| rest.split('(').next().unwrap_or_default())
            .collect();
        let listed: Vec<&str> = PORT_CHECKS.iter().map(|c| c.name).collect();
        assert_eq!(
            public, listed,
            "every public check is in PORT_CHECKS, in order"
        );
        let macro_body = source
            .split("macro_rules! port_conformance")
            .nth(1)
            .and_then(|s| s.split("macro_rules!").next())
            .unwrap_or_default();
        for name in listed {
            assert!(
                macro_body.contains(name),
                "{name} is not in port_conformance!"
            );
        }
    }
}
