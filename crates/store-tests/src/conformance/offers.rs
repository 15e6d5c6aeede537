//! Offers (issue 18): coupons stored by code, a purchase with a coupon discounted
//! exactly, the refusals (window, ended, audience, limits) that leave nothing written,
//! redemptions that survive the erasure of their customer, offer performance, and
//! limits that hold when many threads redeem at once.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use solocrm_core::offer::{Benefit, Offer, OfferCode, Refusal};
use solocrm_core::{Conflict, Entity, NewPurchase, Predicate, Store, StoreError};

use super::support::{assert_err, at, customer, date, eur, label};

fn code(s: &str) -> OfferCode {
    OfferCode::parse(s).expect("a valid code")
}

/// An offer valid from day `from` to day `until` (both included), without limits.
fn offer(c: &str, benefit: Benefit, from: u32, until: u32) -> Offer {
    Offer {
        code: code(c),
        benefit,
        valid_from: date(from),
        valid_until: date(until),
        per_customer: None,
        total: None,
        audience: None,
        created_at: at(0),
        ended_at: None,
    }
}

fn ten_percent() -> Benefit {
    Benefit::Percent(Decimal::TEN)
}

fn with_coupon(
    store: &dyn Store,
    who: solocrm_core::CustomerId,
    day: DateTime<Utc>,
    minor: i64,
    c: &str,
) -> Result<(solocrm_core::Purchase, solocrm_core::offer::Redemption), StoreError> {
    store.record_purchase_with_offer(NewPurchase::new(who, day, eur(minor)), &code(c))
}

/// Every kind reads back exactly, listed by code; a code taken in another case is a
/// duplicate; a window that ends before it starts or a zero limit is refused; an
/// ended offer keeps its fields and its end.
pub fn offers_are_stored_listed_and_ended(store: &dyn Store) {
    let mut gold = offer("GOLD-GIFT", Benefit::Gift(label("新春礼盒")), 1, 30);
    gold.audience = Some(Predicate::parse("tier = \"gold\"").expect("parses"));
    gold.per_customer = Some(1);
    let mut cash = offer("CASH5", Benefit::Amount(eur(500)), 1, 10);
    cash.total = Some(100);
    let pct = offer("SPRING10", ten_percent(), 0, 60);
    for o in [&pct, &gold, &cash] {
        assert_eq!(&store.add_offer(o.clone()).expect("added"), o);
    }
    assert_eq!(
        store.offers().expect("listed"),
        vec![cash.clone(), gold.clone(), pct.clone()]
    );
    assert_eq!(store.offer(&code("gold-gift")).expect("read"), gold);
    assert_err!(
        store.add_offer(offer("spring10", ten_percent(), 0, 1)),
        StoreError::Conflict(Conflict::DuplicateOfferCode { .. })
    );
    assert_err!(
        store.add_offer(offer("LATE", ten_percent(), 5, 4)),
        StoreError::Validation(_)
    );
    let mut zero = offer("ZERO", ten_percent(), 1, 4);
    zero.total = Some(0);
    assert_err!(store.add_offer(zero), StoreError::Validation(_));
    assert_err!(
        store.add_offer(offer("MUCH", Benefit::Percent(Decimal::from(101)), 1, 4)),
        StoreError::Validation(_)
    );
    assert_err!(
        store.offer(&code("NONE")),
        StoreError::NotFound {
            entity: Entity::Offer,
            ..
        }
    );
    let ended = store.end_offer(&code("CASH5"), at(3)).expect("ended");
    assert_eq!(ended.ended_at, Some(at(3)));
    assert_eq!(store.offer(&code("CASH5")).expect("read"), ended);
    // Ending again keeps the first end.
    assert_eq!(
        store.end_offer(&code("CASH5"), at(9)).expect("again"),
        ended
    );
    assert_eq!(store.offers().expect("listed").len(), 3);
}

/// The purchase records the total less the discount and the redemption the discount:
/// 10% of 99.99 is 10.00 (rounded half away from zero), leaving 89.99; an amount off
/// larger than the total leaves zero; a gift takes nothing off.
pub fn a_coupon_discounts_the_purchase_exactly(store: &dyn Store) {
    let wang = customer(store, "王芳");
    store
        .add_offer(offer("SPRING10", ten_percent(), 0, 60))
        .expect("added");
    store
        .add_offer(offer("BIG", Benefit::Amount(eur(5000)), 0, 60))
        .expect("added");
    store
        .add_offer(offer("GIFT", Benefit::Gift(label("红包")), 0, 60))
        .expect("added");
    let (p, r) = with_coupon(store, wang.id(), at(2), 9999, "spring10").expect("redeemed");
    assert_eq!(p.amount(), eur(8999));
    assert_eq!(r.discount, eur(1000));
    assert_eq!((r.purchase, r.customer, r.at), (p.id(), wang.id(), at(2)));
    assert_eq!(store.purchase(p.id()).expect("stored"), p);
    let (p2, r2) = with_coupon(store, wang.id(), at(3), 1234, "BIG").expect("redeemed");
    assert_eq!((p2.amount(), r2.discount), (eur(0), eur(1234)));
    let (p3, r3) = with_coupon(store, wang.id(), at(4), 700, "GIFT").expect("redeemed");
    assert_eq!((p3.amount(), r3.discount), (eur(700), eur(0)));
    assert_eq!(
        store.redemptions(None).expect("listed"),
        vec![r, r2, r3.clone()]
    );
    assert_eq!(
        store.redemptions(Some(&code("GIFT"))).expect("listed"),
        vec![r3]
    );
}

/// Before the first day, after the last, once ended, for a customer outside the
/// audience and for an unknown code, the coupon is refused by name and neither the
/// purchase nor a redemption is written.
pub fn a_refused_coupon_writes_nothing(store: &dyn Store) {
    let li = customer(store, "李雷");
    let mut vip = offer("VIP", ten_percent(), 5, 10);
    vip.audience = Some(Predicate::parse("tag = \"vip\"").expect("parses"));
    store.add_offer(vip).expect("added");
    store
        .add_offer(offer("WEEK", ten_percent(), 5, 10))
        .expect("added");
    assert_err!(
        with_coupon(store, li.id(), at(4), 1000, "WEEK"),
        StoreError::Conflict(Conflict::OfferRefused {
            refusal: Refusal::NotYetValid { .. },
            ..
        })
    );
    assert_err!(
        with_coupon(store, li.id(), at(11), 1000, "WEEK"),
        StoreError::Conflict(Conflict::OfferRefused {
            refusal: Refusal::Expired { .. },
            ..
        })
    );
    assert_err!(
        with_coupon(store, li.id(), at(6), 1000, "VIP"),
        StoreError::Conflict(Conflict::OfferRefused {
            refusal: Refusal::NotForCustomer { .. },
            ..
        })
    );
    assert_err!(
        with_coupon(store, li.id(), at(6), 1000, "NOPE"),
        StoreError::NotFound {
            entity: Entity::Offer,
            ..
        }
    );
    store.end_offer(&code("WEEK"), at(5)).expect("ended");
    assert_err!(
        with_coupon(store, li.id(), at(6), 1000, "WEEK"),
        StoreError::Conflict(Conflict::OfferRefused {
            refusal: Refusal::Ended { .. },
            ..
        })
    );
    assert!(
        store
            .purchases(&solocrm_core::ActivityQuery::customer(li.id()))
            .expect("read")
            .is_empty()
    );
    assert!(store.redemptions(None).expect("read").is_empty());
    // Tagged, the customer is in the audience.
    store
        .tag_customer(li.id(), &super::support::tag("vip"))
        .expect("tagged");
    with_coupon(store, li.id(), at(6), 1000, "VIP").expect("redeemed");
}

/// With one use per customer and three in all, a customer's second use is refused,
/// and the fourth use in all is refused; neither writes a purchase.
pub fn a_coupon_is_never_redeemed_beyond_its_limits(store: &dyn Store) {
    let a = customer(store, "张伟");
    let b = customer(store, "刘洋");
    let c = customer(store, "陈静");
    let d = customer(store, "杨帆");
    let mut o = offer("ONCE", ten_percent(), 0, 60);
    o.per_customer = Some(1);
    o.total = Some(3);
    store.add_offer(o).expect("added");
    with_coupon(store, a.id(), at(1), 1000, "ONCE").expect("first");
    assert_err!(
        with_coupon(store, a.id(), at(2), 1000, "ONCE"),
        StoreError::Conflict(Conflict::OfferRefused {
            refusal: Refusal::UsedUpByCustomer { limit: 1 },
            ..
        })
    );
    with_coupon(store, b.id(), at(2), 1000, "ONCE").expect("second");
    with_coupon(store, c.id(), at(3), 1000, "ONCE").expect("third");
    assert_err!(
        with_coupon(store, d.id(), at(4), 1000, "ONCE"),
        StoreError::Conflict(Conflict::OfferRefused {
            refusal: Refusal::UsedUp { limit: 3 },
            ..
        })
    );
    assert_eq!(store.redemptions(None).expect("read").len(), 3);
    assert_eq!(
        store
            .purchases(&solocrm_core::ActivityQuery::customer(a.id()))
            .expect("read")
            .len(),
        1
    );
    assert!(
        store
            .purchases(&solocrm_core::ActivityQuery::customer(d.id()))
            .expect("read")
            .is_empty()
    );
}

/// Eight threads each try three redemptions of an offer with five uses in all and two
/// per customer (four customers): exactly five succeed, nobody more than twice.
pub fn concurrent_redemptions_stay_within_the_limits(store: &dyn Store) {
    let people: Vec<_> = ["赵一", "钱二", "孙三", "李四"]
        .iter()
        .map(|n| customer(store, n))
        .collect();
    let mut o = offer("RUSH", ten_percent(), 0, 60);
    o.per_customer = Some(2);
    o.total = Some(5);
    store.add_offer(o).expect("added");
    let won = std::sync::atomic::AtomicU32::new(0);
    std::thread::scope(|s| {
        for t in 0..8u32 {
            let who = people[(t % 4) as usize].id();
            let won = &won;
            s.spawn(move || {
                for i in 0..3u32 {
                    match with_coupon(store, who, at(1 + i), 1000, "RUSH") {
                        Ok(_) => {
                            won.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        }
                        Err(StoreError::Conflict(Conflict::OfferRefused { .. })) => {}
                        Err(StoreError::Busy { .. }) => {}
                        Err(e) => panic!("unexpected error: {e}"),
                    }
                }
            });
        }
    });
    let reds = store.redemptions(None).expect("read");
    assert_eq!(reds.len(), 5);
    assert_eq!(won.into_inner(), 5);
    for p in &people {
        let theirs = reds.iter().filter(|r| r.customer == p.id()).count();
        assert!(theirs <= 2, "{} used it {theirs} times", p.name());
        assert_eq!(
            store
                .purchases(&solocrm_core::ActivityQuery::customer(p.id()))
                .expect("read")
                .len(),
            theirs
        );
    }
}

/// Redemptions, revenue after the discount, the discount given and the incremental
/// buyers (no other purchase in the 30 days before their first redemption).
pub fn offer_stats_count_redemptions_revenue_discount_and_new_buyers(store: &dyn Store) {
    let old = customer(store, "老顾客");
    let new = customer(store, "新顾客");
    super::support::buy(store, old.id(), 1, 5000);
    store
        .add_offer(offer("SPRING10", ten_percent(), 0, 90))
        .expect("added");
    with_coupon(store, old.id(), at(10), 10000, "SPRING10").expect("redeemed");
    with_coupon(store, new.id(), at(10), 2000, "SPRING10").expect("redeemed");
    with_coupon(store, new.id(), at(20), 2000, "SPRING10").expect("redeemed");
    let s = store.offer_stats(&code("SPRING10"), 30).expect("stats");
    assert_eq!((s.redemptions, s.redeemers), (3, 2));
    assert_eq!(s.revenue, eur(9000 + 1800 + 1800));
    assert_eq!(s.discount_cost, eur(1000 + 200 + 200));
    assert_eq!(s.incremental_buyers, 1);
    // With a look-back of 5 days the old customer's purchase 9 days before is too old.
    let s = store.offer_stats(&code("SPRING10"), 5).expect("stats");
    assert_eq!(s.incremental_buyers, 2);
}

/// A redemption holds no personal text: erasing its customer keeps it whole (amounts
/// and dates stay, as on the purchase), and nothing of the customer's data is on it.
pub fn erasing_a_redeemer_keeps_the_redemptions(store: &dyn Store) {
    let zhou = customer(store, "周杰");
    store
        .add_offer(offer("SPRING10", ten_percent(), 0, 90))
        .expect("added");
    let (_, r) = with_coupon(store, zhou.id(), at(2), 1000, "SPRING10").expect("redeemed");
    store.erase_customer(zhou.id(), at(5)).expect("erased");
    assert_eq!(store.redemptions(None).expect("read"), vec![r]);
    let shown = format!("{:?}", store.redemptions(None).expect("read"));
    assert!(!shown.contains("周杰"), "{shown}");
    let s = store.offer_stats(&code("SPRING10"), 30).expect("stats");
    assert_eq!(s.redemptions, 1);
}

/// A purchase that used a coupon keeps the time and amount it was redeemed at: an
/// edit of either is refused and changes nothing (the redemption would otherwise no
/// longer match its purchase, and an archive of the books would not import); an edit
/// of its cost is accepted.
pub fn a_redeemed_purchase_keeps_its_time_and_amount(store: &dyn Store) {
    let wu = customer(store, "吴敏");
    store
        .add_offer(offer("AUTUMN", ten_percent(), 0, 90))
        .expect("added");
    let (p, r) = with_coupon(store, wu.id(), at(2), 1000, "AUTUMN").expect("redeemed");
    for edit in [
        solocrm_core::PurchaseEdit {
            at: Some(at(3)),
            ..Default::default()
        },
        solocrm_core::PurchaseEdit {
            amount: Some(eur(500)),
            ..Default::default()
        },
    ] {
        assert_err!(
            store.edit_purchase(p.id(), &edit),
            StoreError::Conflict(Conflict::PurchaseRedeemed { purchase, .. }) if purchase == p.id()
        );
    }
    assert_eq!(store.purchase(p.id()).expect("read"), p);
    assert_eq!(store.redemptions(None).expect("read"), vec![r]);
    let costed = store
        .edit_purchase(
            p.id(),
            &solocrm_core::PurchaseEdit {
                cost: Some(Some(eur(300))),
                ..Default::default()
            },
        )
        .expect("a new cost is fine");
    assert_eq!(costed.at(), p.at());
    assert_eq!(costed.amount(), p.amount());
}
