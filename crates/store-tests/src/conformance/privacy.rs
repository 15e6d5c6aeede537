//! Privacy: erasure (every row of the table in [`solocrm_core::privacy`]), the refusal of
//! new records for erased customers, the export bundle, and the audit log.

use solocrm_core::customer::erased_name;
use solocrm_core::{
    ActivityQuery, AuditAction, Channel, Conflict, Consent, Customer, CustomerData, CustomerId,
    Deal, DealStage, Direction, Entity, Interaction, LifecycleStage, NewCustomer, NewDeal,
    NewInteraction, NewPurchase, NewRefund, NewServiceRequest, NewSurveyResponse, NewTask,
    PointsEntry, PointsKind, PolicyRule, Profile, Purchase, Recurrence, Refund, RequestEventKind,
    RequestKind, Sentiment, ServiceRequest, StageChange, StageReason, Store, StoreError,
    SurveyKind, SurveyResponse, SurveyScore, Task, TaskKind,
};

use super::loyalty::points;
use super::support::{
    assert_err, at, at_hour, create, customer, date, email, eur, ext, label, name, tag, text,
};

/// The day every erasure in this module happens.
const ERASED_ON: u32 = 50;

/// One of every record of a customer, as the store returned them.
struct Records {
    customer: Customer,
    history: Vec<StageChange>,
    interaction: Interaction,
    deal: Deal,
    purchase: Purchase,
    refund: Refund,
    survey: SurveyResponse,
    request: ServiceRequest,
    task: Task,
    points: Vec<PointsEntry>,
}

/// Creates a customer called `who` with every personal field filled and one of every
/// record, each with personal text.
fn populate(store: &dyn Store, who: &str) -> Records {
    let key = who.to_lowercase();
    let mut data = CustomerData::new(name(who))
        .with_email(email(&format!("{key}@example.com")))
        .with_phone(solocrm_core::Phone::parse("+49 30 1234567").expect("a valid phone"))
        .with_birthday(date(10) - chrono::Duration::days(365 * 30))
        .with_tag(tag("vip"))
        .with_acquisition(tag("referral"), Some(eur(4_200)))
        .with_external_ref(ext(&format!("CRM-{key}")))
        .with_country(solocrm_core::CountryCode::parse("DE").expect("a valid country"));
    data.company = Some(label(&format!("{who} GmbH")));
    data.notes = text(&format!("{who} has two kids and a dog"));
    data.profile.city = Some(label("Berlin"));
    data.profile.interests.insert(tag("cooking"));
    let c = create(store, data);
    let id = c.id();
    store
        .record_consent(
            id,
            Consent {
                purpose: tag("newsletter"),
                granted: true,
                at: at(1),
                source: label("web form"),
            },
        )
        .expect("recording consent");
    let mut history = Vec::new();
    history.push(
        store
            .change_stage(
                id,
                LifecycleStage::Lead,
                at(1),
                StageReason::Manual {
                    note: Some(label(&format!("{who} asked at the fair"))),
                },
            )
            .expect("allowed"),
    );
    let interaction = store
        .log_interaction(NewInteraction {
            customer: id,
            channel: Channel::Phone,
            direction: Direction::Inbound,
            at: at(2),
            summary: text(&format!("{who} called about the kitchen")),
            sentiment: Some(Sentiment::Negative),
        })
        .expect("logging an interaction");
    let deal = store
        .create_deal(NewDeal::new(
            id,
            label(&format!("{who}'s kitchen")),
            eur(900_000),
            at(1),
        ))
        .expect("creating a deal");
    store
        .move_deal(deal.id(), DealStage::Proposal, at(2))
        .expect("allowed");
    let deal = store
        .move_deal(deal.id(), DealStage::Won, at_hour(2, 15))
        .expect("allowed");
    let purchase = store
        .record_purchase(NewPurchase {
            customer: id,
            at: at(3),
            amount: eur(900_000),
            cost: Some(eur(500_000)),
            description: Some(text(&format!("kitchen for {who}"))),
            items: Some(12),
            external_ref: Some(ext(&format!("INV-{key}"))),
            deal: Some(deal.id()),
        })
        .expect("recording a purchase");
    history.push(
        store
            .change_stage(
                id,
                LifecycleStage::New,
                at(3),
                StageReason::Rule {
                    rule: PolicyRule::FirstPurchase,
                },
            )
            .expect("allowed"),
    );
    let refund = store
        .record_refund(NewRefund {
            purchase: purchase.id(),
            at: at(4),
            amount: eur(10_000),
            reason: Some(text(&format!("{who}'s handle was scratched"))),
        })
        .expect("recording a refund");
    let survey = store
        .record_survey(NewSurveyResponse {
            customer: id,
            at: at(5),
            score: SurveyScore::new(SurveyKind::Nps, 9).expect("a valid score"),
            comment: Some(text(&format!("{who} loves it"))),
        })
        .expect("recording a survey");
    let request = store
        .open_request(NewServiceRequest {
            customer: id,
            kind: RequestKind::Complaint,
            subject: label(&format!("{who}'s oven is cold")),
            description: text(&format!("{who} lives at Hauptstraße 1")),
            opened_at: at(5),
            deal: Some(deal.id()),
        })
        .expect("opening a request");
    store
        .update_request(request.id(), RequestEventKind::Responded, at(6))
        .expect("allowed");
    let request = store
        .update_request(request.id(), RequestEventKind::Resolved, at(7))
        .expect("allowed");
    let task = store
        .create_task(NewTask {
            customer: Some(id),
            kind: TaskKind::Birthday,
            title: label(&format!("congratulate {who}")),
            due: date(10),
            recurrence: Some(Recurrence::Yearly),
            created_at: at(1),
        })
        .expect("creating a task");
    let task = store.complete_task(task.id(), at(10)).expect("completing");
    let points = vec![
        store
            .post_points(
                points(id, 3, PointsKind::Earn, 900)
                    .with_reason(label(&format!("{who}'s kitchen"))),
            )
            .expect("posting points"),
        store
            .post_points(
                points(id, 8, PointsKind::Redeem, 100)
                    .with_reason(label(&format!("voucher for {who}"))),
            )
            .expect("posting points"),
    ];
    let customer = store.customer(id).expect("found");
    Records {
        customer,
        history,
        interaction,
        deal,
        purchase,
        refund,
        survey,
        request,
        task,
        points,
    }
}

/// Populates Ada and Bob, erases Ada on [`ERASED_ON`], and returns Ada's records from
/// before the erasure.
fn populate_and_erase_ada(store: &dyn Store) -> Records {
    let ada = populate(store, "Ada");
    populate(store, "Bob");
    store
        .erase_customer(ada.customer.id(), at(ERASED_ON))
        .expect("erasing a customer");
    ada
}

fn only<T: std::fmt::Debug>(mut items: Vec<T>, what: &str) -> T {
    assert_eq!(items.len(), 1, "expected exactly one {what}: {items:?}");
    items.remove(0)
}

/// The customer's name becomes `erased customer ID`; email, phone, company, birthday,
/// tags, profile, external reference, notes and consents are cleared; id, creation
/// time, stage, acquisition channel and cost stay.
pub fn erasing_removes_personal_data_and_keeps_id_stage_and_acquisition(store: &dyn Store) {
    let before = populate_and_erase_ada(store).customer;
    let after = store
        .customer(before.id())
        .expect("an erased customer is still found");
    assert_eq!(after.id(), before.id());
    assert_eq!(after.name(), &erased_name(before.id()));
    assert_eq!(after.email(), None);
    assert_eq!(after.phone(), None);
    assert_eq!(after.data().company, None);
    assert_eq!(after.birthday(), None);
    assert!(after.tags().is_empty());
    assert_eq!(after.profile(), &Profile::default());
    assert_eq!(after.external_ref(), None);
    assert!(after.data().notes.is_empty());
    assert!(after.consents().is_empty());
    assert_eq!(after.created_at(), before.created_at());
    assert_eq!(after.stage(), before.stage());
    assert_eq!(
        after.data().acquisition_channel,
        before.data().acquisition_channel
    );
    assert_eq!(after.data().acquisition_cost, Some(eur(4_200)));
    assert!(after.is_erased());
    assert_eq!(after.erased_at(), Some(at(ERASED_ON)));
}

/// Interactions lose their summary and keep channel, direction, time and sentiment.
pub fn erasing_clears_interaction_summaries_and_keeps_their_facts(store: &dyn Store) {
    let before = populate_and_erase_ada(store).interaction;
    let after = only(
        store
            .interactions(&ActivityQuery::customer(before.customer()))
            .expect("listing"),
        "interaction",
    );
    assert!(after.summary().is_empty(), "summary: {:?}", after.summary());
    assert_eq!(after.id(), before.id());
    assert_eq!(after.channel(), before.channel());
    assert_eq!(after.direction(), before.direction());
    assert_eq!(after.at(), before.at());
    assert_eq!(after.sentiment(), before.sentiment());
}

/// Purchases lose their description and keep amount, cost, time, items, reference and
/// deal.
pub fn erasing_clears_purchase_descriptions_and_keeps_amounts(store: &dyn Store) {
    let before = populate_and_erase_ada(store).purchase;
    let after = store.purchase(before.id()).expect("found");
    assert_eq!(after.description(), None);
    let mut expected = before.fields().clone();
    expected.description = None;
    assert_eq!(after.fields(), &expected);
}

/// Refunds lose their reason and keep amount and time.
pub fn erasing_clears_refund_reasons_and_keeps_amounts(store: &dyn Store) {
    let before = populate_and_erase_ada(store).refund;
    let after = only(
        store
            .refunds(&ActivityQuery::customer(before.customer()))
            .expect("listing"),
        "refund",
    );
    assert_eq!(after.reason(), None);
    assert_eq!(after.id(), before.id());
    assert_eq!(after.purchase(), before.purchase());
    assert_eq!(after.amount(), before.amount());
    assert_eq!(after.at(), before.at());
}

/// Survey answers lose their comment and keep score and time.
pub fn erasing_clears_survey_comments_and_keeps_scores(store: &dyn Store) {
    let before = populate_and_erase_ada(store).survey;
    let after = only(
        store
            .surveys(&ActivityQuery::customer(before.customer()))
            .expect("listing"),
        "survey answer",
    );
    assert_eq!(after.comment(), None);
    assert_eq!(after.id(), before.id());
    assert_eq!(after.score(), before.score());
    assert_eq!(after.at(), before.at());
}

/// Service requests get the subject `erased` and an empty description, and keep kind,
/// times and status.
pub fn erasing_blanks_service_requests_and_keeps_their_times(store: &dyn Store) {
    let before = populate_and_erase_ada(store).request;
    let after = store.request(before.id()).expect("found");
    assert_eq!(after.subject().as_str(), "erased");
    assert!(after.description().is_empty());
    assert_eq!(after.kind(), before.kind());
    assert_eq!(after.status(), before.status());
    assert_eq!(after.opened_at(), before.opened_at());
    assert_eq!(after.first_response_at(), before.first_response_at());
    assert_eq!(after.resolved_at(), before.resolved_at());
    assert_eq!(after.events(), before.events());
    assert_eq!(after.deal(), before.deal());
}

/// Deals get the title `erased` and keep value, stages and times.
pub fn erasing_blanks_deal_titles_and_keeps_values_and_stages(store: &dyn Store) {
    let before = populate_and_erase_ada(store).deal;
    let after = store.deal(before.id()).expect("found");
    assert_eq!(after.title().as_str(), "erased");
    assert_eq!(after.value(), before.value());
    assert_eq!(after.stage(), before.stage());
    assert_eq!(after.initial_stage(), before.initial_stage());
    assert_eq!(after.created_at(), before.created_at());
    assert_eq!(after.history(), before.history());
    assert_eq!(after.closed_at(), before.closed_at());
}

/// Tasks get the title `erased` and keep kind, due date and recurrence.
pub fn erasing_blanks_task_titles_and_keeps_their_schedule(store: &dyn Store) {
    let before = populate_and_erase_ada(store).task;
    let after = store.task(before.id()).expect("found");
    assert_eq!(after.title().as_str(), "erased");
    assert_eq!(after.kind(), before.kind());
    assert_eq!(after.anchor(), before.anchor());
    assert_eq!(after.due(), before.due());
    assert_eq!(after.recurrence(), before.recurrence());
    assert_eq!(after.customer(), before.customer());
}

/// Points entries lose their reason and keep kind, points, balance and time.
pub fn erasing_clears_points_reasons_and_keeps_the_ledger(store: &dyn Store) {
    let ada = populate_and_erase_ada(store);
    let id = ada.customer.id();
    let after = store.points_ledger(id).expect("the ledger");
    assert_eq!(after.len(), ada.points.len());
    for (a, b) in after.iter().zip(&ada.points) {
        assert_eq!(a.reason(), None);
        assert_eq!(a.id(), b.id());
        assert_eq!(a.kind(), b.kind());
        assert_eq!(a.delta(), b.delta());
        assert_eq!(a.balance_after(), b.balance_after());
        assert_eq!(a.at(), b.at());
    }
    assert_eq!(store.points_balance(id).expect("the balance"), 800);
}

/// The stage history loses manual notes and keeps stages, times and rules.
pub fn erasing_drops_manual_stage_notes_and_keeps_the_history(store: &dyn Store) {
    let ada = populate_and_erase_ada(store);
    let expected: Vec<StageChange> = ada
        .history
        .iter()
        .cloned()
        .map(|mut c| {
            if let StageReason::Manual { note } = &mut c.reason {
                *note = None;
            }
            c
        })
        .collect();
    assert_eq!(
        store.stage_history(ada.customer.id()).expect("history"),
        expected
    );
}

/// Erasing one customer changes nothing of another's.
pub fn erasing_leaves_other_customers_untouched(store: &dyn Store) {
    let ada = populate(store, "Ada");
    let bob = populate(store, "Bob");
    let bob_before = store.export_customer(bob.customer.id()).expect("export");
    store
        .erase_customer(ada.customer.id(), at(ERASED_ON))
        .expect("erasing a customer");
    assert_eq!(
        store.export_customer(bob.customer.id()).expect("export"),
        bob_before
    );
    let found = store
        .customer_by_email(&email("bob@example.com"))
        .expect("a look-up");
    assert_eq!(found.map(|c| c.id()), Some(bob.customer.id()));
}

/// `erase_customer` returns an audit entry of the erasure, at its time, holding the id
/// and nothing personal, and the audit log holds it.
pub fn an_erasure_adds_an_audit_entry_holding_only_the_id(store: &dyn Store) {
    let ada = populate(store, "Ada");
    let id = ada.customer.id();
    let entry = store
        .erase_customer(id, at(ERASED_ON))
        .expect("erasing a customer");
    assert_eq!(entry.at, at(ERASED_ON));
    assert_eq!(entry.action, AuditAction::CustomerErased { customer: id });
    let log = store.audit_log().expect("the audit log");
    assert_eq!(log, [entry]);
    let shown = format!("{log:?}");
    for personal in ["Ada", "ada@example.com", "CRM-ada", "kitchen"] {
        assert!(
            !shown.contains(personal),
            "the audit log holds '{personal}': {shown}"
        );
    }
}

/// Erasing an erased customer is [`Conflict::AlreadyErased`]; the first erasure's time
/// and audit entry stay alone.
pub fn erasing_twice_is_refused_as_already_erased(store: &dyn Store) {
    let ada = customer(store, "Ada");
    store.erase_customer(ada.id(), at(5)).expect("erasing");
    assert_err!(
        store.erase_customer(ada.id(), at(6)),
        StoreError::Conflict(Conflict::AlreadyErased { customer }) if customer == ada.id()
    );
    assert_eq!(store.audit_log().expect("the audit log").len(), 1);
    assert_eq!(
        store.customer(ada.id()).expect("found").erased_at(),
        Some(at(5))
    );
}

/// Erasing a customer that does not exist is [`StoreError::NotFound`], and the audit
/// log stays empty.
pub fn erasing_an_unknown_customer_is_not_found(store: &dyn Store) {
    assert_err!(
        store.erase_customer(CustomerId::new(123), at(5)),
        StoreError::NotFound {
            entity: Entity::Customer,
            ..
        }
    );
    assert!(store.audit_log().expect("the audit log").is_empty());
}

/// An erased customer accepts no new personal data: update, tag, untag and consent are
/// [`Conflict::CustomerErased`], and the customer stays as erased.
pub fn an_erased_customer_refuses_updates_tags_and_consents(store: &dyn Store) {
    let ada = customer(store, "Ada");
    let id = ada.id();
    store.tag_customer(id, &tag("vip")).expect("tagging");
    store.erase_customer(id, at(5)).expect("erasing");
    let erased = store.customer(id).expect("found");
    let refused = |r: Result<(), StoreError>, what: &str| match r {
        Err(StoreError::Conflict(Conflict::CustomerErased { customer })) if customer == id => {}
        other => {
            panic!("{what} of an erased customer: expected Conflict::CustomerErased, got {other:?}")
        }
    };
    refused(
        store
            .update_customer(id, CustomerData::new(name("Ada again")))
            .map(drop),
        "update_customer",
    );
    refused(
        store.tag_customer(id, &tag("vip")).map(drop),
        "tag_customer",
    );
    refused(
        store.untag_customer(id, &tag("vip")).map(drop),
        "untag_customer",
    );
    refused(
        store
            .record_consent(
                id,
                Consent {
                    purpose: tag("newsletter"),
                    granted: true,
                    at: at(6),
                    source: label("web form"),
                },
            )
            .map(drop),
        "record_consent",
    );
    assert_eq!(store.customer(id).expect("found"), erased);
}

/// A new record naming an erased customer is [`Conflict::CustomerErased`] for every
/// kind of record (in a batch: at its row), and nothing is written.
pub fn an_erased_customer_refuses_new_activity_records(store: &dyn Store) {
    let ada = customer(store, "Ada");
    let id = ada.id();
    store.erase_customer(id, at(5)).expect("erasing");
    let refused = |r: Result<(), StoreError>, what: &str| match r {
        Err(StoreError::Conflict(Conflict::CustomerErased { customer })) if customer == id => {}
        other => panic!(
            "{what} for an erased customer: expected Conflict::CustomerErased, got {other:?}"
        ),
    };
    refused(
        store
            .log_interaction(NewInteraction {
                customer: id,
                channel: Channel::Email,
                direction: Direction::Outbound,
                at: at(6),
                summary: text("hello"),
                sentiment: None,
            })
            .map(drop),
        "log_interaction",
    );
    refused(
        store
            .record_purchase(NewPurchase::new(id, at(6), eur(100)))
            .map(drop),
        "record_purchase",
    );
    match store.record_purchases(vec![NewPurchase::new(id, at(6), eur(100))]) {
        Err(StoreError::Batch { index: 0, error }) => {
            refused(Err(*error), "record_purchases row 0")
        }
        other => panic!(
            "record_purchases for an erased customer: expected Batch at row 0, got {other:?}"
        ),
    }
    refused(
        store
            .record_survey(NewSurveyResponse {
                customer: id,
                at: at(6),
                score: SurveyScore::new(SurveyKind::Csat, 3).expect("a valid score"),
                comment: None,
            })
            .map(drop),
        "record_survey",
    );
    refused(
        store
            .open_request(NewServiceRequest {
                customer: id,
                kind: RequestKind::Question,
                subject: label("hello"),
                description: text(""),
                opened_at: at(6),
                deal: None,
            })
            .map(drop),
        "open_request",
    );
    refused(
        store
            .create_deal(NewDeal::new(id, label("x"), eur(1), at(6)))
            .map(drop),
        "create_deal",
    );
    refused(
        store
            .create_task(NewTask {
                customer: Some(id),
                kind: TaskKind::FollowUp,
                title: label("x"),
                due: date(7),
                recurrence: None,
                created_at: at(6),
            })
            .map(drop),
        "create_task",
    );
    refused(
        store
            .post_points(points(id, 6, PointsKind::Earn, 10))
            .map(drop),
        "post_points",
    );
    let export = store.export_customer(id).expect("export");
    assert!(export.interactions.is_empty());
    assert!(export.purchases.is_empty());
    assert!(export.surveys.is_empty());
    assert!(export.requests.is_empty());
    assert!(export.deals.is_empty());
    assert!(export.tasks.is_empty());
    assert!(export.points.is_empty());
}

/// Erasure clears the email and external reference, so look-ups no longer find the
/// erased customer by them, and a new customer may use them.
pub fn an_erased_customers_email_and_external_ref_are_free_again(store: &dyn Store) {
    let ada = populate(store, "Ada").customer;
    store
        .erase_customer(ada.id(), at(ERASED_ON))
        .expect("erasing");
    assert_eq!(
        store
            .customer_by_email(&email("ada@example.com"))
            .expect("a look-up"),
        None
    );
    assert_eq!(
        store
            .customer_by_external_ref(&ext("CRM-ada"))
            .expect("a look-up"),
        None
    );
    let again = store
        .create_customer(NewCustomer::new(
            CustomerData::new(name("Ada"))
                .with_email(email("ADA@example.com"))
                .with_external_ref(ext("CRM-ada")),
            at(ERASED_ON + 1),
        ))
        .expect("the erased customer's email and reference are free");
    assert_ne!(again.id(), ada.id());
}

/// An erased customer is still counted, listed in the purchase log's customers, and
/// their purchases keep counting.
pub fn erased_customers_stay_counted_and_in_the_purchase_log(store: &dyn Store) {
    let ada = populate_and_erase_ada(store);
    let id = ada.customer.id();
    assert_eq!(store.count_customers().expect("count"), 2);
    let log = store.purchase_log().expect("the log");
    let dense = log.index_of(id).expect("the erased customer is in the log");
    assert_eq!(log.len(), 2);
    let row = log
        .customer
        .iter()
        .position(|c| *c == dense)
        .expect("the erased customer's purchase is in the log");
    assert_eq!(log.amount[row], 900_000);
    assert_eq!(
        store
            .purchases(&ActivityQuery::customer(id))
            .expect("listing")
            .len(),
        1
    );
}

/// `export_customer` bundles the customer with every record of theirs, in the
/// documented orders, and nothing of anyone else.
pub fn an_export_bundles_every_record_of_the_customer(store: &dyn Store) {
    let ada = populate(store, "Ada");
    populate(store, "Bob");
    let id = ada.customer.id();
    // An earlier purchase recorded later, a second deal and a task due earlier.
    let early = store
        .record_purchase(NewPurchase::new(id, at(2), eur(500)))
        .expect("recording");
    let second_deal = store
        .create_deal(NewDeal::new(id, label("second"), eur(1), at(3)))
        .expect("creating a deal");
    let early_task = store
        .create_task(NewTask {
            customer: Some(id),
            kind: TaskKind::FollowUp,
            title: label("early"),
            due: date(2),
            recurrence: None,
            created_at: at(1),
        })
        .expect("creating a task");
    store
        .create_task(NewTask {
            customer: None,
            kind: TaskKind::Custom,
            title: label("nobody's"),
            due: date(1),
            recurrence: None,
            created_at: at(1),
        })
        .expect("creating a task");
    let export = store.export_customer(id).expect("export");
    assert_eq!(export.customer, store.customer(id).expect("found"));
    assert_eq!(export.customer.consents().len(), 1);
    assert_eq!(export.stage_history, ada.history);
    assert_eq!(export.interactions, [ada.interaction]);
    assert_eq!(export.purchases, [early, ada.purchase]);
    assert_eq!(export.refunds, [ada.refund]);
    assert_eq!(export.surveys, [ada.survey]);
    assert_eq!(export.requests, [ada.request]);
    assert_eq!(export.deals, [ada.deal, second_deal]);
    assert_eq!(export.tasks, [early_task, ada.task]);
    assert_eq!(export.points, ada.points);
}

/// The export of an erased customer shows the placeholders and kept facts, not the
/// personal data.
pub fn the_export_of_an_erased_customer_shows_placeholders(store: &dyn Store) {
    let ada = populate_and_erase_ada(store);
    let id = ada.customer.id();
    let export = store.export_customer(id).expect("export");
    assert_eq!(export.customer, store.customer(id).expect("found"));
    assert_eq!(export.customer.name(), &erased_name(id));
    assert!(export.customer.is_erased());
    assert_eq!(export.customer.email(), None);
    assert_eq!(export.stage_history.len(), ada.history.len());
    let interaction = only(export.interactions, "interaction");
    assert!(interaction.summary().is_empty());
    let purchase = only(export.purchases, "purchase");
    assert_eq!(purchase.description(), None);
    assert_eq!(purchase.amount(), ada.purchase.amount());
    assert_eq!(only(export.refunds, "refund").reason(), None);
    assert_eq!(only(export.surveys, "survey").comment(), None);
    let request = only(export.requests, "request");
    assert_eq!(request.subject().as_str(), "erased");
    assert!(request.description().is_empty());
    let deal = only(export.deals, "deal");
    assert_eq!(deal.title().as_str(), "erased");
    assert_eq!(deal.value(), ada.deal.value());
    assert_eq!(only(export.tasks, "task").title().as_str(), "erased");
    assert!(export.points.iter().all(|p| p.reason().is_none()));
    assert_eq!(export.points.len(), 2);
    let shown = format!("{:?}", store.export_customer(id).expect("export"));
    // The purchase reference (`INV-ada`) is kept on purpose: see the privacy table.
    for personal in [
        "Ada",
        "ada@example.com",
        "CRM-ada",
        "kitchen",
        "Hauptstraße",
        "Berlin",
    ] {
        assert!(
            !shown.contains(personal),
            "the export still holds '{personal}'"
        );
    }
}

/// Exporting a customer that does not exist is [`StoreError::NotFound`].
pub fn exporting_an_unknown_customer_is_not_found(store: &dyn Store) {
    assert_err!(
        store.export_customer(CustomerId::new(9)),
        StoreError::NotFound {
            entity: Entity::Customer,
            ..
        }
    );
}

/// The audit log is empty at first and lists erasures oldest first.
pub fn the_audit_log_lists_erasures_oldest_first(store: &dyn Store) {
    assert!(store.audit_log().expect("the audit log").is_empty());
    let cs: Vec<CustomerId> = (0..3)
        .map(|i| customer(store, &format!("c{i}")).id())
        .collect();
    let order = [(cs[2], 10), (cs[0], 11), (cs[1], 12)];
    let entries: Vec<_> = order
        .iter()
        .map(|(id, day)| store.erase_customer(*id, at(*day)).expect("erasing"))
        .collect();
    let log = store.audit_log().expect("the audit log");
    assert_eq!(log, entries);
    let customers: Vec<CustomerId> = log
        .iter()
        .map(|e| match e.action {
            AuditAction::CustomerErased { customer } => customer,
            ref other => panic!("unexpected audit action {other:?}"),
        })
        .collect();
    assert_eq!(customers, [cs[2], cs[0], cs[1]]);
    assert!(
        log.windows(2)
            .all(|w| w[0].id < w[1].id && w[0].at <= w[1].at)
    );
}

/// The steps of records that already exist stay possible for an erased customer (so the
/// books can be closed), but none may carry text: a stage change with a note and a
/// refund with a reason are [`Conflict::CustomerErased`] — checked right after the
/// customer or purchase is found, before the move or the amount — and write nothing;
/// without the text they are accepted.
pub fn an_erased_customer_refuses_text_on_steps_of_existing_records(store: &dyn Store) {
    let ada = customer(store, "Ada");
    let id = ada.id();
    let purchase = store
        .record_purchase(NewPurchase::new(id, at(2), eur(5_000)))
        .expect("a purchase");
    store.erase_customer(id, at(5)).expect("erasing");
    let refused = |r: Result<(), StoreError>, what: &str| match r {
        Err(StoreError::Conflict(Conflict::CustomerErased { customer })) if customer == id => {}
        other => panic!(
            "{what} for an erased customer: expected Conflict::CustomerErased, got {other:?}"
        ),
    };
    let noted = |note: &str| StageReason::Manual {
        note: Some(label(note)),
    };
    refused(
        store
            .change_stage(id, LifecycleStage::New, at(6), noted("Ada Lovelace called"))
            .map(drop),
        "change_stage with a note",
    );
    // Before the move itself is checked: staying put is no move at all.
    refused(
        store
            .change_stage(id, LifecycleStage::Prospect, at(6), noted("Ada"))
            .map(drop),
        "change_stage with a note and no move",
    );
    let with_reason = |amount: i64| NewRefund {
        purchase: purchase.id(),
        at: at(6),
        amount: eur(amount),
        reason: Some(text("Ada Lovelace, 12 Main St, complained")),
    };
    refused(
        store.record_refund(with_reason(100)).map(drop),
        "record_refund with a reason",
    );
    // Before the amount is checked.
    refused(
        store.record_refund(with_reason(999_999)).map(drop),
        "record_refund with a reason and too large an amount",
    );
    assert!(store.stage_history(id).expect("history").is_empty());
    assert!(
        store
            .refunds(&ActivityQuery::customer(id))
            .expect("refunds")
            .is_empty()
    );
    assert_eq!(
        store.customer(id).expect("found").stage(),
        LifecycleStage::Prospect
    );
    // An unknown customer or purchase is still not found first.
    assert_err!(
        store.change_stage(CustomerId::new(999), LifecycleStage::New, at(6), noted("x")),
        StoreError::NotFound {
            entity: Entity::Customer,
            ..
        }
    );
    assert_err!(
        store.record_refund(NewRefund {
            purchase: solocrm_core::PurchaseId::new(999),
            ..with_reason(100)
        }),
        StoreError::NotFound {
            entity: Entity::Purchase,
            ..
        }
    );

    // Without text, the steps stay possible.
    let change = store
        .change_stage(
            id,
            LifecycleStage::New,
            at(6),
            StageReason::Manual { note: None },
        )
        .expect("a stage change without a note");
    assert_eq!(change.reason, StageReason::Manual { note: None });
    let refund = store
        .record_refund(NewRefund {
            reason: None,
            ..with_reason(100)
        })
        .expect("a refund without a reason");
    assert_eq!(refund.reason(), None);
}
