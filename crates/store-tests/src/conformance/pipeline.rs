//! The sales pipeline: deals, their moves and history, and the after-sales links from
//! purchases and service requests to won deals.

use solocrm_core::{
    ActivityQuery, Conflict, CustomerId, DealId, DealStage, DealStageChange, Entity, NewDeal,
    NewPurchase, NewServiceRequest, OpenQuery, RequestKind, Store, StoreError, TransitionError,
    ValidationError,
};

use super::support::{
    assert_err, at, customer, date, eur, eur_scaled, label, open_deal, text, usd, won_deal,
};

/// A created deal has a new id, its fields, its first stage and an empty history.
pub fn a_created_deal_starts_at_its_first_stage_with_no_history(store: &dyn Store) {
    let ada = customer(store, "Ada");
    let mut new = NewDeal::new(ada.id(), label("new website"), eur_scaled(125, 1), at(3));
    new.stage = DealStage::Demo;
    new.expected_close = Some(date(60));
    let deal = store.create_deal(new).expect("creating a valid deal");
    assert_eq!(deal.customer(), ada.id());
    assert_eq!(deal.title().as_str(), "new website");
    assert_eq!(deal.value(), eur(1_250));
    assert_eq!(
        deal.value().amount().scale(),
        2,
        "stored at the scale of EUR"
    );
    assert_eq!(deal.created_at(), at(3));
    assert_eq!(deal.initial_stage(), DealStage::Demo);
    assert_eq!(deal.stage(), DealStage::Demo);
    assert_eq!(deal.expected_close(), Some(date(60)));
    assert!(deal.history().is_empty());
    assert_eq!(deal.closed_at(), None);
    assert_eq!(
        store.deal(deal.id()).expect("a created deal is found"),
        deal
    );
    let second = open_deal(store, ada.id(), 0);
    assert!(second.id() > deal.id(), "deal ids increase");
}

/// A deal of a customer that does not exist is [`StoreError::NotFound`] for a customer.
pub fn a_deal_of_an_unknown_customer_is_not_found(store: &dyn Store) {
    assert_err!(
        store.create_deal(NewDeal::new(CustomerId::new(50), label("x"), eur(1), at(1))),
        StoreError::NotFound {
            entity: Entity::Customer,
            ..
        }
    );
    assert!(
        store
            .deals(&OpenQuery::default())
            .expect("listing")
            .is_empty()
    );
}

/// A negative value is [`ValidationError::NegativeAmount`]; a value in another currency
/// is [`ValidationError::CurrencyMismatch`].
pub fn a_deal_with_a_negative_value_or_foreign_currency_is_refused(store: &dyn Store) {
    let ada = customer(store, "Ada");
    assert_err!(
        store.create_deal(NewDeal::new(ada.id(), label("x"), eur(-1), at(1))),
        StoreError::Validation(ValidationError::NegativeAmount { .. })
    );
    assert_err!(
        store.create_deal(NewDeal::new(ada.id(), label("x"), usd(100), at(1))),
        StoreError::Validation(ValidationError::CurrencyMismatch { .. })
    );
    assert!(
        store
            .deals(&OpenQuery::default())
            .expect("listing")
            .is_empty()
    );
}

/// A deal cannot enter the pipeline won or lost: [`StoreError::Validation`]
/// ([`ValidationError::UnknownName`] for the first stage).
pub fn a_deal_cannot_start_closed(store: &dyn Store) {
    let ada = customer(store, "Ada");
    for stage in [DealStage::Won, DealStage::Lost] {
        let mut new = NewDeal::new(ada.id(), label("x"), eur(1), at(1));
        new.stage = stage;
        assert_err!(
            store.create_deal(new),
            StoreError::Validation(ValidationError::UnknownName { .. })
        );
    }
    assert!(
        store
            .deals(&OpenQuery::default())
            .expect("listing")
            .is_empty()
    );
}

/// Every move is recorded oldest first; open stages may be skipped or revisited; a won
/// deal has a close time.
pub fn deal_moves_are_recorded_oldest_first(store: &dyn Store) {
    let ada = customer(store, "Ada");
    let deal = open_deal(store, ada.id(), 50_000);
    let steps = [
        (DealStage::Contacted, 2),
        (DealStage::Proposal, 3),
        (DealStage::Demo, 4),
        (DealStage::Negotiation, 4),
        (DealStage::Won, 9),
    ];
    let mut from = DealStage::NeedIdentified;
    let mut expected = Vec::new();
    for (to, day) in steps {
        let moved = store
            .move_deal(deal.id(), to, at(day))
            .expect("an allowed move");
        expected.push(DealStageChange {
            from,
            to,
            at: at(day),
        });
        assert_eq!(moved.stage(), to);
        assert_eq!(moved.history(), expected.as_slice());
        from = to;
    }
    let stored = store.deal(deal.id()).expect("found");
    assert_eq!(stored.history(), expected.as_slice());
    assert_eq!(stored.stage(), DealStage::Won);
    assert_eq!(stored.closed_at(), Some(at(9)));
    assert_eq!(stored.initial_stage(), DealStage::NeedIdentified);
    assert_eq!(stored.value(), eur(50_000));
}

/// Won and lost are final: any move from them is [`TransitionError::Deal`], and
/// changes nothing.
pub fn a_closed_deal_refuses_further_moves(store: &dyn Store) {
    let ada = customer(store, "Ada");
    let won = won_deal(store, ada.id());
    for to in [DealStage::Lost, DealStage::Negotiation, DealStage::Won] {
        assert_err!(
            store.move_deal(won.id(), to, at(5)),
            StoreError::InvalidTransition(TransitionError::Deal { from: DealStage::Won, to: t, .. })
                if t == to
        );
    }
    let lost = open_deal(store, ada.id(), 1);
    store
        .move_deal(lost.id(), DealStage::Lost, at(3))
        .expect("an open deal may be lost");
    assert_err!(
        store.move_deal(lost.id(), DealStage::Won, at(5)),
        StoreError::InvalidTransition(TransitionError::Deal {
            from: DealStage::Lost,
            to: DealStage::Won,
            ..
        })
    );
    assert_eq!(store.deal(won.id()).expect("found"), won);
    assert_eq!(store.deal(lost.id()).expect("found").history().len(), 1);
}

/// Moving a deal to the stage it is at is [`TransitionError::Deal`].
pub fn a_deal_move_to_its_current_stage_is_refused(store: &dyn Store) {
    let ada = customer(store, "Ada");
    let deal = open_deal(store, ada.id(), 1);
    assert_err!(
        store.move_deal(deal.id(), DealStage::NeedIdentified, at(2)),
        StoreError::InvalidTransition(TransitionError::Deal {
            from: DealStage::NeedIdentified,
            to: DealStage::NeedIdentified,
            ..
        })
    );
    assert!(store.deal(deal.id()).expect("found").history().is_empty());
}

/// A move dated before the deal's last change (or its creation) is
/// [`ValidationError::TimeOrder`], and changes nothing.
pub fn a_deal_move_back_in_time_is_refused(store: &dyn Store) {
    let ada = customer(store, "Ada");
    let deal = open_deal(store, ada.id(), 1); // created on day 1
    assert_err!(
        store.move_deal(deal.id(), DealStage::Contacted, at(0)),
        StoreError::Validation(ValidationError::TimeOrder { .. })
    );
    store
        .move_deal(deal.id(), DealStage::Contacted, at(5))
        .expect("an allowed move");
    assert_err!(
        store.move_deal(deal.id(), DealStage::Won, at(4)),
        StoreError::Validation(ValidationError::TimeOrder { .. })
    );
    let stored = store.deal(deal.id()).expect("found");
    assert_eq!(stored.stage(), DealStage::Contacted);
    assert_eq!(stored.history().len(), 1);
}

/// Reading or moving a deal that does not exist is [`StoreError::NotFound`] for a deal.
pub fn an_unknown_deal_is_not_found(store: &dyn Store) {
    assert_err!(
        store.deal(DealId::new(3)),
        StoreError::NotFound {
            entity: Entity::Deal,
            ref key
        } if key == "3"
    );
    assert_err!(
        store.move_deal(DealId::new(3), DealStage::Won, at(1)),
        StoreError::NotFound {
            entity: Entity::Deal,
            ..
        }
    );
}

/// `deals` lists by id, and filters by customer and by open (neither won nor lost).
pub fn deals_are_listed_by_id_and_filtered_by_customer_and_openness(store: &dyn Store) {
    let ada = customer(store, "Ada");
    let bob = customer(store, "Bob");
    let a_open = open_deal(store, ada.id(), 1);
    let b_won = won_deal(store, bob.id());
    let a_lost = open_deal(store, ada.id(), 2);
    let a_lost = store
        .move_deal(a_lost.id(), DealStage::Lost, at(3))
        .expect("an open deal may be lost");
    let b_open = open_deal(store, bob.id(), 3);
    let list = |query: OpenQuery| store.deals(&query).expect("listing deals");
    assert_eq!(
        list(OpenQuery::default()),
        [
            a_open.clone(),
            b_won.clone(),
            a_lost.clone(),
            b_open.clone()
        ]
    );
    assert_eq!(
        list(OpenQuery {
            customer: None,
            open_only: true,
        }),
        [a_open.clone(), b_open.clone()]
    );
    assert_eq!(
        list(OpenQuery {
            customer: Some(ada.id()),
            open_only: false,
        }),
        [a_open.clone(), a_lost]
    );
    assert_eq!(
        list(OpenQuery {
            customer: Some(bob.id()),
            open_only: true,
        }),
        [b_open]
    );
}

/// A purchase may name a won deal of the same customer; the link is stored.
pub fn a_purchase_may_follow_a_won_deal_of_its_customer(store: &dyn Store) {
    let ada = customer(store, "Ada");
    let deal = won_deal(store, ada.id());
    let mut new = NewPurchase::new(ada.id(), at(3), eur(100_000));
    new.deal = Some(deal.id());
    let p = store
        .record_purchase(new)
        .expect("a won deal may be linked");
    assert_eq!(p.deal(), Some(deal.id()));
    assert_eq!(
        store.purchase(p.id()).expect("found").deal(),
        Some(deal.id())
    );
}

/// A purchase naming another customer's deal is [`Conflict::DealOfAnotherCustomer`]
/// naming deal, owner and customer; nothing is written.
pub fn a_purchase_linked_to_a_deal_of_another_customer_is_refused(store: &dyn Store) {
    let ada = customer(store, "Ada");
    let bob = customer(store, "Bob");
    let deal = won_deal(store, ada.id());
    let mut new = NewPurchase::new(bob.id(), at(3), eur(100));
    new.deal = Some(deal.id());
    assert_err!(
        store.record_purchase(new),
        StoreError::Conflict(Conflict::DealOfAnotherCustomer { deal: d, owner, customer })
            if d == deal.id() && owner == ada.id() && customer == bob.id()
    );
    assert!(
        store
            .purchases(&ActivityQuery::ALL)
            .expect("listing")
            .is_empty()
    );
}

/// A purchase naming an open or lost deal is [`Conflict::DealNotWon`] with the deal's
/// stage.
pub fn a_purchase_linked_to_a_deal_that_is_not_won_is_refused(store: &dyn Store) {
    let ada = customer(store, "Ada");
    let open = open_deal(store, ada.id(), 1);
    let lost = open_deal(store, ada.id(), 1);
    store
        .move_deal(lost.id(), DealStage::Lost, at(2))
        .expect("an open deal may be lost");
    for (deal, stage) in [
        (open.id(), DealStage::NeedIdentified),
        (lost.id(), DealStage::Lost),
    ] {
        let mut new = NewPurchase::new(ada.id(), at(3), eur(100));
        new.deal = Some(deal);
        assert_err!(
            store.record_purchase(new),
            StoreError::Conflict(Conflict::DealNotWon { deal: d, stage: s }) if d == deal && s == stage
        );
    }
    assert!(
        store
            .purchases(&ActivityQuery::ALL)
            .expect("listing")
            .is_empty()
    );
}

/// A purchase naming a deal that does not exist is [`StoreError::NotFound`] for a deal.
pub fn a_purchase_linked_to_an_unknown_deal_is_not_found(store: &dyn Store) {
    let ada = customer(store, "Ada");
    let mut new = NewPurchase::new(ada.id(), at(3), eur(100));
    new.deal = Some(DealId::new(77));
    assert_err!(
        store.record_purchase(new),
        StoreError::NotFound {
            entity: Entity::Deal,
            ..
        }
    );
}

fn request(customer: CustomerId, deal: Option<DealId>) -> NewServiceRequest {
    NewServiceRequest {
        customer,
        kind: RequestKind::Question,
        subject: label("how do I log in"),
        description: text("the password reset mail never came"),
        opened_at: at(5),
        deal,
    }
}

/// A service request may name a won deal of the same customer; the link is stored.
pub fn a_service_request_may_follow_a_won_deal_of_its_customer(store: &dyn Store) {
    let ada = customer(store, "Ada");
    let deal = won_deal(store, ada.id());
    let r = store
        .open_request(request(ada.id(), Some(deal.id())))
        .expect("a won deal may be linked");
    assert_eq!(r.deal(), Some(deal.id()));
    assert_eq!(
        store.request(r.id()).expect("found").deal(),
        Some(deal.id())
    );
}

/// A service request naming another customer's deal, an open deal or an unknown deal
/// is refused like a purchase, and nothing is written.
pub fn a_service_request_with_a_bad_deal_link_is_refused(store: &dyn Store) {
    let ada = customer(store, "Ada");
    let bob = customer(store, "Bob");
    let adas = won_deal(store, ada.id());
    let open = open_deal(store, bob.id(), 1);
    assert_err!(
        store.open_request(request(bob.id(), Some(adas.id()))),
        StoreError::Conflict(Conflict::DealOfAnotherCustomer { deal, owner, customer })
            if deal == adas.id() && owner == ada.id() && customer == bob.id()
    );
    assert_err!(
        store.open_request(request(bob.id(), Some(open.id()))),
        StoreError::Conflict(Conflict::DealNotWon { deal, stage: DealStage::NeedIdentified })
            if deal == open.id()
    );
    assert_err!(
        store.open_request(request(bob.id(), Some(DealId::new(999)))),
        StoreError::NotFound {
            entity: Entity::Deal,
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
