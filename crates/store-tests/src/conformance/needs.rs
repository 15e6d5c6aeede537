//! Needs and pain points (issue 18): tag-like entries on a customer or one of their
//! deals, stored and listed by id, resolved and voided in place, refused when they
//! cannot be, selected by the segment fields `need` and `pain_point` while open, and
//! scrubbed of their note by an erasure.

use solocrm_core::need::{Need, NeedKind, NewNeed};
use solocrm_core::{
    Conflict, CustomerId, CustomerQuery, DealId, Entity, NeedId, Predicate, SegmentFilter, Store,
    StoreError,
};

use super::support::{assert_err, at, at_hour, customer, open_deal, tag, text};

fn entry(
    customer: CustomerId,
    deal: Option<DealId>,
    kind: NeedKind,
    key: &str,
    note: Option<&str>,
    day: u32,
) -> NewNeed {
    NewNeed {
        customer,
        deal,
        kind,
        key: tag(key),
        note: note.map(text),
        at: at(day),
    }
}

/// Entries read back exactly with ids from 1, listed by id, all or of one customer;
/// resolving and voiding change them in place, once each; a deal entry carries it.
pub fn needs_are_stored_listed_resolved_and_voided(store: &dyn Store) {
    assert!(store.needs(None).expect("none").is_empty());
    let wang = customer(store, "王伟").id();
    let li = customer(store, "李娜").id();
    let deal = open_deal(store, li, 50_000).id();
    let fast = store
        .record_need(entry(
            wang,
            None,
            NeedKind::Need,
            "fast-delivery",
            Some("要求三天内到货"),
            2,
        ))
        .expect("recorded");
    let price = store
        .record_need(entry(
            li,
            Some(deal),
            NeedKind::PainPoint,
            "价格敏感",
            None,
            3,
        ))
        .expect("recorded");
    assert_eq!(fast.id, NeedId::new(1));
    assert_eq!(price.id, NeedId::new(2));
    assert_eq!(price.deal, Some(deal));
    assert!(fast.is_open() && price.is_open());
    assert_eq!(
        store.needs(None).expect("read"),
        vec![fast.clone(), price.clone()]
    );
    assert_eq!(store.needs(Some(li)).expect("read"), vec![price.clone()]);
    assert_eq!(store.need(fast.id).expect("read"), fast);

    let resolved = store.resolve_need(price.id, at(5)).expect("resolved");
    assert_eq!(resolved.resolved_at, Some(at(5)));
    assert_eq!(store.need(price.id).expect("read"), resolved);
    assert_err!(
        store.resolve_need(price.id, at(6)),
        StoreError::Conflict(Conflict::NeedResolved { .. })
    );
    assert_err!(
        store.resolve_need(fast.id, at(1)),
        StoreError::Validation(_)
    );
    let voided = store.void_need(fast.id, at(4)).expect("voided");
    assert_eq!(voided.voided_at, Some(at(4)));
    assert_eq!(store.need(fast.id).expect("read"), voided);
    assert_err!(
        store.void_need(fast.id, at(4)),
        StoreError::Conflict(Conflict::Voided { .. })
    );
    assert_err!(
        store.resolve_need(fast.id, at(5)),
        StoreError::Conflict(Conflict::Voided { .. })
    );
    assert_err!(
        store.need(NeedId::new(99)),
        StoreError::NotFound {
            entity: Entity::Need,
            ..
        }
    );
    assert_eq!(store.needs(None).expect("read"), vec![voided, resolved]);
}

/// An entry of an unknown or erased customer, of an unknown deal or of someone else's
/// deal is refused, and nothing is written.
pub fn a_need_that_cannot_be_is_refused(store: &dyn Store) {
    assert_err!(
        store.record_need(entry(
            CustomerId::new(404),
            None,
            NeedKind::Need,
            "x",
            None,
            1
        )),
        StoreError::NotFound {
            entity: Entity::Customer,
            ..
        }
    );
    let wang = customer(store, "王伟").id();
    let li = customer(store, "李娜").id();
    let lis_deal = open_deal(store, li, 10_000).id();
    assert_err!(
        store.record_need(entry(
            wang,
            Some(DealId::new(404)),
            NeedKind::Need,
            "x",
            None,
            1
        )),
        StoreError::NotFound {
            entity: Entity::Deal,
            ..
        }
    );
    assert_err!(
        store.record_need(entry(
            wang,
            Some(lis_deal),
            NeedKind::PainPoint,
            "售后",
            None,
            1
        )),
        StoreError::Conflict(Conflict::DealOfAnotherCustomer { .. })
    );
    store.erase_customer(wang, at(1)).expect("erased");
    assert_err!(
        store.record_need(entry(wang, None, NeedKind::Need, "x", Some("备注"), 2)),
        StoreError::Conflict(Conflict::CustomerErased { .. })
    );
    assert!(store.needs(None).expect("read").is_empty());
}

/// `need = …` and `pain_point = …` select the customers with such an entry open at
/// the segment's `as_of` — on them or on one of their deals; a resolved or voided
/// entry, or one recorded later, selects no one.
pub fn need_and_pain_point_segments_select_open_entries(store: &dyn Store) {
    let wang = customer(store, "王伟").id();
    let li = customer(store, "李娜").id();
    let zhao = customer(store, "赵敏").id();
    let deal = open_deal(store, li, 20_000).id();
    store
        .record_need(entry(wang, None, NeedKind::PainPoint, "价格敏感", None, 2))
        .expect("recorded");
    store
        .record_need(entry(
            li,
            Some(deal),
            NeedKind::PainPoint,
            "价格敏感",
            None,
            3,
        ))
        .expect("recorded");
    let solved = store
        .record_need(entry(zhao, None, NeedKind::PainPoint, "价格敏感", None, 1))
        .expect("recorded");
    store.resolve_need(solved.id, at(4)).expect("resolved");
    let mistake = store
        .record_need(entry(zhao, None, NeedKind::Need, "fast-delivery", None, 1))
        .expect("recorded");
    store.void_need(mistake.id, at(2)).expect("voided");
    store
        .record_need(entry(wang, None, NeedKind::Need, "fast-delivery", None, 20))
        .expect("recorded");
    let who = |text: &str, day: u32| {
        store
            .list_customers(&CustomerQuery {
                segment: Some(SegmentFilter {
                    predicate: Predicate::parse(text).expect("parses"),
                    as_of: at(day),
                }),
                ..CustomerQuery::default()
            })
            .expect("listed")
            .items
            .iter()
            .map(|c| c.id())
            .collect::<Vec<_>>()
    };
    assert_eq!(who(r#"pain_point = "价格敏感""#, 10), [wang, li]);
    // Before zhao's was resolved, it counted.
    assert_eq!(who(r#"pain_point = "价格敏感""#, 3), [wang, li, zhao]);
    // A need is not a pain point.
    assert!(who(r#"need = "价格敏感""#, 10).is_empty());
    // Voided: never; recorded on day 20: not yet on day 10.
    assert!(who(r#"need = "fast-delivery""#, 10).is_empty());
    assert_eq!(who(r#"need = "fast-delivery""#, 21), [wang]);
    assert_eq!(
        who(
            r#"not pain_point = "价格敏感" and need != "fast-delivery""#,
            10
        ),
        [zhao]
    );
}

/// Erasing a customer drops the notes of their entries and keeps kind, key and times;
/// another customer's are untouched; the customer export lists them.
pub fn erasure_scrubs_the_notes_of_needs(store: &dyn Store) {
    let wang = customer(store, "王伟").id();
    let li = customer(store, "李娜").id();
    let scrubbed = store
        .record_need(entry(
            wang,
            None,
            NeedKind::PainPoint,
            "发货慢",
            Some("王伟说上次快递丢了"),
            1,
        ))
        .expect("recorded");
    let kept = store
        .record_need(entry(li, None, NeedKind::Need, "发票", Some("需要专票"), 1))
        .expect("recorded");
    assert_eq!(
        store.export_customer(li).expect("export").needs,
        vec![kept.clone()]
    );
    store.erase_customer(wang, at_hour(2, 9)).expect("erased");
    let after: Vec<Need> = store.needs(Some(wang)).expect("read");
    assert_eq!(
        after,
        vec![Need {
            note: None,
            ..scrubbed
        }]
    );
    assert_eq!(store.needs(Some(li)).expect("read"), vec![kept]);
}
