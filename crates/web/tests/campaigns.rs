//! `/campaigns` through the router (`oneshot`): the campaigns with their figures in
//! English and Chinese, a period chosen by `?period=`, and a bad period refused with
//! 422 and its message, never a 500.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use chrono::{DateTime, NaiveDate, TimeZone as _, Utc};
use http_body_util::BodyExt as _;
use solocrm_app::{Books, Location, OpenOptions};
use solocrm_core::campaign::{AttributionSubject, NewCampaign};
use solocrm_core::{
    CostCategory, Currency, Label, Money, NewCost, NewCustomer, NewPurchase, PersonName,
    Store as _, Tag,
};
use solocrm_web::{Config, app};
use tower::ServiceExt as _;

const HOST: &str = "127.0.0.1:8765";
const SESSION: &str = "fedcba9876543210";

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 20, 10, 0, 0)
        .single()
        .expect("instant")
}

async fn get(router: &Router, path: &str, lang: &str) -> (StatusCode, String) {
    let request = Request::get(path)
        .header(header::HOST, HOST)
        .header(header::COOKIE, format!("solocrm_session={SESSION}"))
        .header(header::ACCEPT_LANGUAGE, lang)
        .body(Body::empty())
        .expect("request");
    let response = router.clone().oneshot(request).await.expect("response");
    let status = response.status();
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

#[tokio::test]
async fn the_campaigns_page_lists_each_campaign_with_its_figures() {
    let books =
        Books::create(&Location::Memory, Currency::CNY, &OpenOptions::default()).expect("books");
    let yuan = |y: i64| Money::from_minor(y * 100, Currency::CNY);
    let live = books
        .add_campaign(NewCampaign {
            budget: Some(yuan(5_000)),
            ..NewCampaign::new(
                Label::parse("双十一直播").expect("a name"),
                Tag::parse("douyin").expect("a channel"),
                NaiveDate::from_ymd_opt(2026, 11, 1).expect("a day"),
            )
        })
        .expect("a campaign");
    let at = Utc
        .with_ymd_and_hms(2026, 11, 5, 4, 0, 0)
        .single()
        .expect("at");
    let c = books
        .create_customer(NewCustomer::new(
            solocrm_core::CustomerData::new(PersonName::parse("王小明").expect("a name")),
            at,
        ))
        .expect("a customer");
    books
        .attribute(AttributionSubject::Customer(c.id()), Some(live.id()))
        .expect("attributed");
    books
        .record_purchase(NewPurchase::new(c.id(), at, yuan(1_500)))
        .expect("a purchase");
    books
        .record_campaign_cost(
            NewCost {
                at,
                amount: yuan(1_000),
                category: CostCategory::Marketing,
                channel: None,
                note: None,
            },
            live.id(),
        )
        .expect("a cost");
    let router = app(
        books.clone(),
        Config {
            token: "0123456789abcdef".to_owned(),
            session: SESSION.to_owned(),
            extra_host: None,
            clock: Arc::new(now),
            automation: false,
            feed: None,
        },
    );
    let (status, page) = get(&router, "/campaigns?period=2026-11", "en").await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("双十一直播"), "{page}");
    assert!(
        page.contains("5000.00 CNY") && page.contains("1000.00 CNY"),
        "{page}"
    );
    assert!(page.contains("50.0 %"), "ROI (1500 − 1000) / 1000: {page}");
    assert!(
        page.contains("href=\"/campaigns\""),
        "the nav links it: {page}"
    );
    let (status, zh) = get(&router, "/campaigns", "zh-CN").await;
    assert_eq!(status, StatusCode::OK);
    assert!(zh.contains("营销活动") && zh.contains("获客"), "{zh}");
    let (status, bad) = get(&router, "/campaigns?period=2026-13", "en").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    assert!(bad.contains("2026-13"), "{bad}");
}
