//! Campaigns (issue 18): stored, listed by id, edited and ended; names unique
//! ignoring case; customers, deals and costs attributed to at most one campaign each;
//! an erased customer's attribution goes, and their export names it before.

use solocrm_core::campaign::{AttributionSubject, CampaignEdit, NewCampaign};
use solocrm_core::{
    CampaignId, Conflict, CostCategory, CustomerData, CustomerRef, Entity, ImportBatch,
    ImportSection, NewCost, NewCustomer, Store, StoreError, ValidationError,
};

use super::support::{assert_err, at, customer, date, eur, label, name, open_deal, tag, text, usd};

fn campaign(name: &str, channel: &str, start: u32) -> NewCampaign {
    NewCampaign::new(label(name), tag(channel), date(start))
}

fn cost(day: u32, minor: i64) -> NewCost {
    NewCost {
        at: at(day),
        amount: eur(minor),
        category: CostCategory::Marketing,
        channel: Some(tag("douyin")),
        note: None,
    }
}

/// Campaigns read back exactly, by id (one more than the largest), are edited and
/// ended; a second campaign with the same name in other case is a conflict, an end
/// before the start or a budget in another currency is refused, and nothing changes.
pub fn campaigns_are_added_listed_edited_and_ended(store: &dyn Store) {
    assert!(store.campaigns().expect("none yet").is_empty());
    let mut live = campaign("双十一直播", "douyin", 300);
    live.budget = Some(eur(500_000));
    live.note = Some(text("抖音直播间，三场"));
    let live = store.add_campaign(live).expect("added");
    let fair = store
        .add_campaign(campaign("Spring Fair", "trade-fair", 60))
        .expect("added");
    assert_eq!(live.id(), CampaignId::new(1));
    assert_eq!(fair.id(), CampaignId::new(2));
    assert_eq!(store.campaign(live.id()).expect("found"), live);
    assert_eq!(
        store.campaigns().expect("listed"),
        vec![live.clone(), fair.clone()]
    );
    assert_err!(
        store.add_campaign(campaign("spring FAIR", "google-ads", 1)),
        StoreError::Conflict(Conflict::DuplicateCampaign { .. })
    );
    let mut backwards = campaign("倒着的活动", "wechat", 10);
    backwards.end = Some(date(9));
    assert_err!(
        store.add_campaign(backwards),
        StoreError::Validation(ValidationError::Inconsistent { .. })
    );
    let mut dollars = campaign("Dollars", "google-ads", 10);
    dollars.budget = Some(usd(100));
    assert_err!(store.add_campaign(dollars), StoreError::Validation(_));
    assert_eq!(store.campaigns().expect("listed").len(), 2);

    let ended = store
        .edit_campaign(
            fair.id(),
            &CampaignEdit {
                end: Some(Some(date(62))),
                ..CampaignEdit::default()
            },
        )
        .expect("ended");
    assert_eq!(ended.end(), Some(date(62)));
    assert_eq!(ended.name(), fair.name());
    assert_err!(
        store.edit_campaign(
            fair.id(),
            &CampaignEdit {
                name: Some(label("双十一直播")),
                ..CampaignEdit::default()
            },
        ),
        StoreError::Conflict(Conflict::DuplicateCampaign { .. })
    );
    assert_err!(
        store.edit_campaign(
            fair.id(),
            &CampaignEdit {
                end: Some(Some(date(1))),
                ..CampaignEdit::default()
            },
        ),
        StoreError::Validation(_)
    );
    assert_err!(
        store.edit_campaign(CampaignId::new(9), &CampaignEdit::default()),
        StoreError::NotFound {
            entity: Entity::Campaign,
            ..
        }
    );
    assert_eq!(
        store.campaigns().expect("listed"),
        vec![live.clone(), ended]
    );
    let third = store
        .add_campaign(campaign("第三场", "douyin", 310))
        .expect("added");
    assert_eq!(third.id(), CampaignId::new(3));
}

/// Customers, deals and costs are attributed to one campaign each (a second replaces,
/// `None` removes), listed customers first; an unknown subject or campaign is not
/// found and changes nothing; a cost recorded on a campaign carries its attribution,
/// and on an unknown campaign records nothing.
pub fn customers_deals_and_costs_are_attributed_to_one_campaign(store: &dyn Store) {
    let live = store
        .add_campaign(campaign("双十一直播", "douyin", 300))
        .expect("added");
    let fair = store
        .add_campaign(campaign("Spring Fair", "trade-fair", 60))
        .expect("added");
    let wang = customer(store, "王伟").id();
    let li = customer(store, "李娜").id();
    let deal = open_deal(store, li, 90_000).id();
    let by = |s| AttributionSubject::Customer(s);
    assert_eq!(
        store.attribute(by(wang), Some(fair.id())).expect("set"),
        None
    );
    assert_eq!(
        store
            .attribute(by(wang), Some(live.id()))
            .expect("replaced"),
        Some(fair.id())
    );
    store.attribute(by(li), Some(fair.id())).expect("set");
    store
        .attribute(AttributionSubject::Deal(deal), Some(live.id()))
        .expect("set");
    let spent = store
        .record_campaign_cost(cost(301, 120_000), live.id())
        .expect("recorded");
    assert_eq!(store.costs().expect("costs"), vec![spent.clone()]);
    let listed = store.attributions().expect("listed");
    let subjects: Vec<_> = listed.iter().map(|a| (a.subject, a.campaign)).collect();
    assert_eq!(
        subjects,
        vec![
            (by(wang), live.id()),
            (by(li), fair.id()),
            (AttributionSubject::Deal(deal), live.id()),
            (AttributionSubject::Cost(spent.id()), live.id()),
        ]
    );
    assert_err!(
        store.attribute(by(solocrm_core::CustomerId::new(404)), Some(live.id())),
        StoreError::NotFound {
            entity: Entity::Customer,
            ..
        }
    );
    assert_err!(
        store.attribute(by(li), Some(CampaignId::new(404))),
        StoreError::NotFound {
            entity: Entity::Campaign,
            ..
        }
    );
    assert_err!(
        store.record_campaign_cost(cost(302, 5_000), CampaignId::new(404)),
        StoreError::NotFound {
            entity: Entity::Campaign,
            ..
        }
    );
    assert_eq!(store.costs().expect("costs").len(), 1);
    assert_eq!(store.attributions().expect("listed"), listed);
    assert_eq!(
        store.attribute(by(li), None).expect("removed"),
        Some(fair.id())
    );
    assert_eq!(store.attributions().expect("listed").len(), 3);
    // Each subject's earlier campaign, as `attribute` answers it (the store's own
    // lookup of one subject), is the list's; setting it again changes nothing.
    for (subject, expected) in [
        (by(wang), Some(live.id())),
        (by(li), None),
        (AttributionSubject::Deal(deal), Some(live.id())),
        (AttributionSubject::Cost(spent.id()), Some(live.id())),
    ] {
        assert_eq!(
            store.attribute(subject, expected).expect("set again"),
            expected,
            "{subject:?}"
        );
    }
    assert_eq!(store.attributions().expect("listed").len(), 3);
}

/// An import batch's attributions apply with its customers, all or nothing: new
/// customers (by their place in the import) and existing ones are attributed or lose
/// their campaign; an unknown campaign refuses the whole batch, naming the
/// attribution, and neither the customers nor the other attributions are written.
pub fn an_import_batchs_attributions_are_all_or_nothing_with_its_customers(store: &dyn Store) {
    let live = store
        .add_campaign(campaign("双十一直播", "douyin", 300))
        .expect("added");
    let fair = store
        .add_campaign(campaign("Spring Fair", "trade-fair", 60))
        .expect("added");
    let wang = customer(store, "王伟").id();
    let li = customer(store, "李娜").id();
    store
        .attribute(AttributionSubject::Customer(li), Some(fair.id()))
        .expect("set");
    let listed = || {
        store
            .list_customers(&solocrm_core::CustomerQuery {
                limit: 100,
                ..solocrm_core::CustomerQuery::default()
            })
            .expect("listed")
            .items
    };
    let before_customers = listed();
    let before = store.attributions().expect("listed");
    let new = |who: &str| NewCustomer::new(CustomerData::new(name(who)), at(1));
    let bad = ImportBatch {
        create_customers: vec![new("张敏")],
        attributions: vec![
            (CustomerRef::New(0), Some(live.id())),
            (CustomerRef::Existing(li), None),
            (CustomerRef::Existing(wang), Some(CampaignId::new(404))),
        ],
        ..ImportBatch::default()
    };
    assert_err!(
        store.import(bad),
        StoreError::Import { section: ImportSection::Attributions, index: 2, error }
            if matches!(*error, StoreError::NotFound { entity: Entity::Campaign, .. })
    );
    assert_eq!(listed(), before_customers);
    assert_eq!(store.attributions().expect("listed"), before);

    let good = ImportBatch {
        create_customers: vec![new("张敏")],
        attributions: vec![
            (CustomerRef::New(0), Some(live.id())),
            (CustomerRef::Existing(li), None),
            (CustomerRef::Existing(wang), Some(fair.id())),
        ],
        ..ImportBatch::default()
    };
    let receipt = store.import(good).expect("imported");
    let zhang = receipt.created_customers[0];
    let by = AttributionSubject::Customer;
    let subjects: Vec<_> = store
        .attributions()
        .expect("listed")
        .iter()
        .map(|a| (a.subject, a.campaign))
        .collect();
    assert_eq!(
        subjects,
        vec![(by(wang), fair.id()), (by(zhang), live.id())]
    );
}

/// A customer's export names their campaign; erasing them removes the attribution
/// (the campaign stays, with no personal text), and an erased customer cannot be
/// attributed again.
pub fn erasure_removes_a_customers_attribution(store: &dyn Store) {
    let live = store
        .add_campaign(campaign("双十一直播", "douyin", 300))
        .expect("added");
    let wang = customer(store, "王伟").id();
    let li = customer(store, "李娜").id();
    let subject = AttributionSubject::Customer(wang);
    store.attribute(subject, Some(live.id())).expect("set");
    store
        .attribute(AttributionSubject::Customer(li), Some(live.id()))
        .expect("set");
    assert_eq!(
        store.export_customer(wang).expect("export").campaign,
        Some(live.id())
    );
    store.erase_customer(wang, at(310)).expect("erased");
    let left: Vec<_> = store
        .attributions()
        .expect("listed")
        .into_iter()
        .map(|a| a.subject)
        .collect();
    assert_eq!(left, vec![AttributionSubject::Customer(li)]);
    assert_eq!(store.export_customer(wang).expect("export").campaign, None);
    assert_eq!(store.campaigns().expect("listed"), vec![live.clone()]);
    assert_err!(
        store.attribute(subject, Some(live.id())),
        StoreError::Conflict(Conflict::CustomerErased { .. })
    );
}
