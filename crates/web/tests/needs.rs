//! The customer page's needs and pain points: the open entries with a resolve button
//! and a form to record one. A write redirects (303), a bad value is a 422 with the
//! message beside its field and writes nothing, a cross-site post is refused.

use axum::http::StatusCode;
use chrono::{DateTime, TimeZone as _, Utc};
use solocrm_app::{Books, Location, OpenOptions};
use solocrm_core::{
    BusinessZone, Currency, CustomerData, CustomerId, NewCustomer, PersonName, Store as _,
};
use solocrm_web::app;

mod common;

use common::{get, post, post_from};

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 14, 20, 0, 0)
        .single()
        .expect("instant")
}

fn setup() -> (Books, axum::Router, CustomerId, CustomerId) {
    let books =
        Books::create(&Location::Memory, Currency::CNY, &OpenOptions::default()).expect("books");
    books
        .set_time_zone(BusinessZone::parse("Asia/Shanghai").expect("zone"))
        .expect("zone");
    let router = app(books.clone(), common::config(now, true));
    let mut ids = ["刘洋", "陈静"].iter().map(|name| {
        books
            .create_customer(NewCustomer::new(
                CustomerData::new(PersonName::parse(name).expect("name")),
                now() - chrono::Duration::days(10),
            ))
            .expect("customer")
            .id()
    });
    let (a, b) = (ids.next().expect("one"), ids.next().expect("two"));
    (books, router, a, b)
}

#[tokio::test]
async fn a_pain_point_is_recorded_shown_and_resolved() {
    let (books, r, id, _) = setup();
    let path = format!("/customers/{id}/needs");
    let a = post(
        &r,
        &path,
        &[
            ("kind", "pain_point"),
            ("key", "价格敏感"),
            ("note", "嫌运费贵"),
        ],
    )
    .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
    assert_eq!(a.location(), format!("/customers/{id}"));
    let page = get(&r, &format!("/customers/{id}?lang=zh-CN")).await;
    assert!(
        page.body.contains("价格敏感") && page.body.contains("嫌运费贵"),
        "{}",
        page.body
    );
    let stored = books.needs(Some(id)).expect("needs");
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].at, now());
    let n = stored[0].id;
    let resolve = format!("/customers/{id}/needs/{n}/resolve");
    let done = post(&r, &resolve, &[]).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(books.need(n).expect("need").resolved_at, Some(now()));
    let page = get(&r, &format!("/customers/{id}")).await;
    assert!(page.body.contains("No open needs"), "{}", page.body);
    // Resolving again: 422 with the message.
    let again = post(&r, &resolve, &[]).await;
    assert_eq!(
        again.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        again.body
    );
    assert!(again.body.contains("resolved already"), "{}", again.body);
}

#[tokio::test]
async fn bad_needs_are_refused_and_write_nothing() {
    let (books, r, id, other) = setup();
    let path = format!("/customers/{id}/needs");
    let bad_kind = post(&r, &path, &[("kind", "wish"), ("key", "x")]).await;
    assert_eq!(bad_kind.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        bad_kind.body.contains("id=\"need-kind-error\""),
        "{}",
        bad_kind.body
    );
    let no_key = post(&r, &path, &[("kind", "need"), ("key", "  ")]).await;
    assert_eq!(no_key.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        no_key.body.contains("id=\"need-key-error\""),
        "{}",
        no_key.body
    );
    let bad_deal = post(&r, &path, &[("kind", "need"), ("key", "x"), ("deal", "七")]).await;
    assert_eq!(bad_deal.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        bad_deal.body.contains("id=\"need-deal-error\""),
        "{}",
        bad_deal.body
    );
    // An unknown deal, and another customer's deal, are the deal field's fault.
    let no_deal = post(&r, &path, &[("kind", "need"), ("key", "x"), ("deal", "9")]).await;
    assert_eq!(
        no_deal.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        no_deal.body
    );
    assert!(
        no_deal.body.contains("id=\"need-deal-error\""),
        "{}",
        no_deal.body
    );
    let their_deal = books
        .create_deal(solocrm_core::NewDeal::new(
            other,
            solocrm_core::Label::parse("茶园参观").expect("title"),
            solocrm_core::Money::parse("800", Currency::CNY).expect("money"),
            now(),
        ))
        .expect("deal")
        .id();
    let wrong_deal = post(
        &r,
        &path,
        &[
            ("kind", "need"),
            ("key", "x"),
            ("deal", &their_deal.to_string()),
        ],
    )
    .await;
    assert_eq!(wrong_deal.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        wrong_deal.body.contains("id=\"need-deal-error\""),
        "{}",
        wrong_deal.body
    );
    let forged = post_from(&r, &path, &[("kind", "need"), ("key", "x")], "cross-site").await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert!(books.needs(None).expect("needs").is_empty());
    // Another customer's entry cannot be resolved through this page.
    let theirs = books
        .record_need(solocrm_core::need::NewNeed {
            customer: other,
            deal: None,
            kind: solocrm_core::need::NeedKind::Need,
            key: solocrm_core::Tag::parse("发票").expect("key"),
            note: None,
            at: now(),
        })
        .expect("recorded");
    let wrong = post(
        &r,
        &format!("/customers/{id}/needs/{}/resolve", theirs.id),
        &[],
    )
    .await;
    assert_eq!(wrong.status, StatusCode::NOT_FOUND);
    assert!(books.need(theirs.id).expect("need").is_open());
}
