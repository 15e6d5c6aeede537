//! Voids and edits: a record entered by mistake stays, marked void, and every read that
//! feeds a metric leaves it out; an edit changes only what it names and keeps refunds
//! consistent.

use solocrm_core::{
    ActivityQuery, Channel, Cmp, Comparison, Conflict, CustomerQuery, Direction, Entity,
    InteractionEdit, InteractionId, NewInteraction, NewRefund, NewSurveyResponse, Predicate,
    PurchaseEdit, PurchaseId, SegmentFilter, Sentiment, Store, StoreError, SurveyId, SurveyKind,
    SurveyScore, ValidationError, Void,
};

use super::support::{assert_err, at, buy, customer, eur, ext, label, text};

fn void(day: u32) -> Void {
    Void::at(at(day)).because(text("录错了")).by(label("老板"))
}

fn refund(store: &dyn Store, purchase: PurchaseId, day: u32, minor: i64) {
    store
        .record_refund(NewRefund {
            purchase,
            at: at(day),
            amount: eur(minor),
            reason: None,
        })
        .expect("a valid refund");
}

/// A voided purchase is read back by id with its marker, listed only when voided
/// records are asked for, and left out of the purchase log and a purchase summary.
pub fn a_voided_purchase_is_kept_and_left_out_of_every_metric_read(store: &dyn Store) {
    let wang = customer(store, "王芳");
    let kept = buy(store, wang.id(), 1, 1_000);
    let wrong = buy(store, wang.id(), 2, 99_900);
    let voided = store
        .void_purchase(wrong.id(), void(3))
        .expect("voiding a purchase");
    assert_eq!(voided.void(), Some(&void(3)));
    assert_eq!(
        voided.amount(),
        wrong.amount(),
        "the books keep what was entered"
    );
    assert_eq!(store.purchase(wrong.id()).expect("still there"), voided);
    assert_eq!(
        store.purchases(&ActivityQuery::ALL).expect("listing"),
        std::slice::from_ref(&kept)
    );
    assert_eq!(
        store
            .purchases(&ActivityQuery::customer(wang.id()))
            .expect("listing"),
        std::slice::from_ref(&kept)
    );
    assert_eq!(
        store
            .purchases(&ActivityQuery::EVERYTHING)
            .expect("listing"),
        [kept.clone(), voided.clone()]
    );
    assert_eq!(
        store
            .purchases(&ActivityQuery::customer(wang.id()).with_voided())
            .expect("listing"),
        [kept, voided]
    );
    let log = store.purchase_log().expect("the log");
    assert_eq!(log.amount, [1_000]);
    // A segment reads the purchase summary: one purchase of 10.00, not two.
    let query = CustomerQuery {
        segment: Some(SegmentFilter {
            predicate: Predicate::All(vec![
                Predicate::PurchaseCount(Comparison {
                    op: Cmp::Eq,
                    value: 1,
                }),
                Predicate::TotalSpend(Comparison {
                    op: Cmp::Eq,
                    value: rust_decimal::Decimal::TEN,
                }),
            ]),
            as_of: at(10),
        }),
        ..CustomerQuery::default()
    };
    let found = store.list_customers(&query).expect("listing");
    assert_eq!(
        found.items.len(),
        1,
        "the voided purchase counts in no summary"
    );
}

/// A void cannot be undone or repeated, and a voided purchase takes no refund and
/// no edit: [`Conflict::Voided`], with nothing written.
pub fn a_voided_purchase_refuses_a_second_void_a_refund_and_an_edit(store: &dyn Store) {
    let wang = customer(store, "王芳");
    let p = buy(store, wang.id(), 1, 1_000);
    let voided = store.void_purchase(p.id(), void(2)).expect("voided");
    let is_voided = |e: &StoreError| matches!(e, StoreError::Conflict(Conflict::Voided { entity: "purchase", id, .. }) if *id == p.id().get());
    let e = store.void_purchase(p.id(), void(3)).expect_err("twice");
    assert!(is_voided(&e), "{e:?}");
    let e = store
        .record_refund(NewRefund {
            purchase: p.id(),
            at: at(3),
            amount: eur(100),
            reason: None,
        })
        .expect_err("a refund of a voided purchase");
    assert!(is_voided(&e), "{e:?}");
    let edit = PurchaseEdit {
        amount: Some(eur(500)),
        ..PurchaseEdit::default()
    };
    let e = store.edit_purchase(p.id(), &edit).expect_err("an edit");
    assert!(is_voided(&e), "{e:?}");
    assert_eq!(store.purchase(p.id()).expect("found"), voided);
    assert!(
        store
            .refunds(&ActivityQuery::ALL)
            .expect("listing")
            .is_empty()
    );
}

/// A purchase with refunds cannot be voided ([`Conflict::VoidRefunded`]); an unknown
/// one is not found.
pub fn a_refunded_or_unknown_purchase_cannot_be_voided(store: &dyn Store) {
    let wang = customer(store, "王芳");
    let p = buy(store, wang.id(), 1, 1_000);
    refund(store, p.id(), 2, 100);
    assert_err!(
        store.void_purchase(p.id(), void(3)),
        StoreError::Conflict(Conflict::VoidRefunded { purchase, refunded })
            if purchase == p.id() && refunded == eur(100)
    );
    assert!(!store.purchase(p.id()).expect("found").is_void());
    assert_err!(
        store.void_purchase(PurchaseId::new(99), void(3)),
        StoreError::NotFound {
            entity: Entity::Purchase,
            ..
        }
    );
}

/// An edit replaces only the fields it names; the id, customer and deal stay, and a
/// reference given up is free again.
pub fn an_edited_purchase_changes_only_the_named_fields(store: &dyn Store) {
    let wang = customer(store, "王芳");
    let mut new = solocrm_core::NewPurchase::new(wang.id(), at(1), eur(1_000));
    new.cost = Some(eur(400));
    new.description = Some(text("龙井茶"));
    new.external_ref = Some(ext("INV-1"));
    let p = store.record_purchase(new).expect("a purchase");
    let edit = PurchaseEdit {
        amount: Some(eur(1_200)),
        external_ref: Some(Some(ext("INV-2"))),
        ..PurchaseEdit::default()
    };
    let e = store.edit_purchase(p.id(), &edit).expect("edited");
    assert_eq!(e.id(), p.id());
    assert_eq!(e.customer(), wang.id());
    assert_eq!(e.amount(), eur(1_200));
    assert_eq!(e.cost(), Some(eur(400)));
    assert_eq!(e.description(), p.description());
    assert_eq!(e.at(), p.at());
    assert_eq!(store.purchase(p.id()).expect("found"), e);
    assert_eq!(store.purchase_log().expect("the log").amount, [1_200]);
    let cleared = store
        .edit_purchase(
            p.id(),
            &PurchaseEdit {
                cost: Some(None),
                description: Some(None),
                at: Some(at(2)),
                ..PurchaseEdit::default()
            },
        )
        .expect("cleared");
    assert_eq!((cleared.cost(), cleared.description()), (None, None));
    assert_eq!(cleared.at(), at(2));
    let mut other = solocrm_core::NewPurchase::new(wang.id(), at(3), eur(5));
    other.external_ref = Some(ext("INV-1"));
    store
        .record_purchase(other)
        .expect("the old reference is free");
}

/// An edit keeps refunds consistent: no amount below what was refunded
/// ([`Conflict::AmountBelowRefunded`]), no time after the first refund
/// ([`ValidationError::TimeOrder`]), no reference of another purchase, no negative
/// amount; each refused with nothing written.
pub fn an_edit_that_breaks_refunds_or_references_is_refused(store: &dyn Store) {
    let wang = customer(store, "王芳");
    let p = buy(store, wang.id(), 1, 1_000);
    let mut other = solocrm_core::NewPurchase::new(wang.id(), at(1), eur(5));
    other.external_ref = Some(ext("TAKEN"));
    let other = store.record_purchase(other).expect("another purchase");
    refund(store, p.id(), 3, 600);
    let edit = |e: PurchaseEdit| store.edit_purchase(p.id(), &e);
    assert_err!(
        edit(PurchaseEdit {
            amount: Some(eur(599)),
            ..PurchaseEdit::default()
        }),
        StoreError::Conflict(Conflict::AmountBelowRefunded { refunded, .. }) if refunded == eur(600)
    );
    assert_err!(
        edit(PurchaseEdit {
            at: Some(at(4)),
            ..PurchaseEdit::default()
        }),
        StoreError::Validation(ValidationError::TimeOrder { .. })
    );
    assert_err!(
        edit(PurchaseEdit {
            external_ref: Some(Some(ext("TAKEN"))),
            ..PurchaseEdit::default()
        }),
        StoreError::Conflict(Conflict::DuplicatePurchaseRef { existing, .. }) if existing == other.id()
    );
    assert_err!(
        edit(PurchaseEdit {
            amount: Some(eur(-1)),
            ..PurchaseEdit::default()
        }),
        StoreError::Validation(ValidationError::NegativeAmount { .. })
    );
    assert_eq!(store.purchase(p.id()).expect("found"), p, "nothing written");
    edit(PurchaseEdit {
        amount: Some(eur(600)),
        at: Some(at(3)),
        ..PurchaseEdit::default()
    })
    .expect("down to exactly what was refunded, up to the first refund");
    assert_err!(
        store.edit_purchase(PurchaseId::new(99), &PurchaseEdit::default()),
        StoreError::NotFound {
            entity: Entity::Purchase,
            ..
        }
    );
}

/// Interactions: read by id, edited field by field, voided and then listed only when
/// asked for; a second void or an edit of a voided one is [`Conflict::Voided`].
pub fn interactions_are_read_by_id_edited_and_voided(store: &dyn Store) {
    let wang = customer(store, "王芳");
    let log = |day: u32, summary: &str| {
        store
            .log_interaction(NewInteraction {
                customer: wang.id(),
                channel: Channel::WeChat,
                direction: Direction::Inbound,
                at: at(day),
                summary: text(summary),
                sentiment: None,
            })
            .expect("logged")
    };
    let a = log(1, "问价格");
    let b = log(2, "投诉");
    assert_eq!(store.interaction(a.id()).expect("by id"), a);
    let e = store
        .edit_interaction(
            a.id(),
            &InteractionEdit {
                summary: Some(text("问龙井的价格")),
                sentiment: Some(Some(Sentiment::Positive)),
                ..InteractionEdit::default()
            },
        )
        .expect("edited");
    assert_eq!(e.summary(), &text("问龙井的价格"));
    assert_eq!(e.sentiment(), Some(Sentiment::Positive));
    assert_eq!((e.channel(), e.at()), (a.channel(), a.at()));
    assert_eq!(store.interaction(a.id()).expect("by id"), e);
    let vb = store.void_interaction(b.id(), void(3)).expect("voided");
    assert_eq!(vb.void(), Some(&void(3)));
    assert_eq!(
        store.interactions(&ActivityQuery::ALL).expect("listing"),
        std::slice::from_ref(&e)
    );
    assert_eq!(
        store
            .interactions(&ActivityQuery::EVERYTHING)
            .expect("listing"),
        [e, vb.clone()]
    );
    assert_err!(
        store.void_interaction(b.id(), void(4)),
        StoreError::Conflict(Conflict::Voided {
            entity: "interaction",
            ..
        })
    );
    assert_err!(
        store.edit_interaction(b.id(), &InteractionEdit::default()),
        StoreError::Conflict(Conflict::Voided { .. })
    );
    assert_eq!(store.interaction(b.id()).expect("by id"), vb);
    assert_err!(
        store.interaction(InteractionId::new(99)),
        StoreError::NotFound {
            entity: Entity::Interaction,
            ..
        }
    );
}

/// Survey answers: read by id, voided and then listed only when asked for; a voided
/// one cannot be voided again; an unknown one is not found.
pub fn survey_answers_are_read_by_id_and_voided(store: &dyn Store) {
    let wang = customer(store, "王芳");
    let answer = |day: u32, score: i64| {
        store
            .record_survey(NewSurveyResponse {
                customer: wang.id(),
                at: at(day),
                score: SurveyScore::new(SurveyKind::Nps, score).expect("a score"),
                comment: Some(text("还行")),
            })
            .expect("recorded")
    };
    let a = answer(1, 9);
    let b = answer(2, 0);
    assert_eq!(store.survey(b.id()).expect("by id"), b);
    let vb = store.void_survey(b.id(), void(3)).expect("voided");
    assert_eq!(
        store.surveys(&ActivityQuery::ALL).expect("listing"),
        std::slice::from_ref(&a)
    );
    assert_eq!(
        store.surveys(&ActivityQuery::EVERYTHING).expect("listing"),
        [a, vb.clone()]
    );
    assert_eq!(store.survey(b.id()).expect("by id"), vb);
    assert_err!(
        store.void_survey(b.id(), void(4)),
        StoreError::Conflict(Conflict::Voided {
            entity: "survey",
            ..
        })
    );
    assert_err!(
        store.survey(SurveyId::new(99)),
        StoreError::NotFound {
            entity: Entity::Survey,
            ..
        }
    );
}

/// Erasing a customer removes the reasons of their voided records (text about them)
/// and keeps the voids; an erased customer's record takes no new reason.
pub fn erasure_removes_void_reasons_and_keeps_the_voids(store: &dyn Store) {
    let wang = customer(store, "王芳");
    let p = buy(store, wang.id(), 1, 1_000);
    let q = buy(store, wang.id(), 2, 2_000);
    store.void_purchase(p.id(), void(3)).expect("voided");
    store.erase_customer(wang.id(), at(4)).expect("erased");
    let p = store.purchase(p.id()).expect("found");
    let v = p.void().expect("still void");
    assert_eq!((v.at, v.reason.as_ref()), (at(3), None));
    assert_err!(
        store.void_purchase(q.id(), void(5)),
        StoreError::Conflict(Conflict::CustomerErased { .. })
    );
    store
        .void_purchase(q.id(), Void::at(at(5)))
        .expect("a void without a reason");
}
