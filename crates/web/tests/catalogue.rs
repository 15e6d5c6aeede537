//! The issue-18 pages (products, offers, targets, surveys) and the customer page's
//! recommendations, participations and coupon: each page's figures, each form's
//! refusals (422 beside the field, nothing written), hostile names escaped, Chinese
//! text, cross-site POSTs refused and unknown ids a 404.

use axum::http::StatusCode;
use chrono::{DateTime, TimeZone as _, Utc};
use rust_decimal::Decimal;
use solocrm_app::{Books, Location, OpenOptions};
use solocrm_core::offer::{Benefit, Offer, OfferCode};
use solocrm_core::participation::{Participation, ParticipationKind};
use solocrm_core::product::{Product, PurchaseLine, Sku};
use solocrm_core::questionnaire::{
    Answer, AnswerValue, CollectionMethod, SurveySheet, SurveyTemplate,
};
use solocrm_core::target::{Target, TargetMetric, TargetPeriod};
use solocrm_core::{
    BusinessZone, Currency, CustomerData, CustomerId, FreeText, Label, Money, NewCustomer,
    NewPurchase, PersonName, Store as _, Tag,
};
use solocrm_web::app;

mod common;

use common::{get, post, post_from};

/// 02:00 UTC is 10:00 in Shanghai, the books' business time zone.
fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 15, 2, 0, 0)
        .single()
        .expect("instant")
}

const HOSTILE: &str = "<script>alert(1)</script>";

fn books() -> Books {
    let b =
        Books::create(&Location::Memory, Currency::CNY, &OpenOptions::default()).expect("books");
    b.set_time_zone(BusinessZone::parse("Asia/Shanghai").expect("zone"))
        .expect("zone set");
    b
}

fn router(books: &Books) -> axum::Router {
    app(books.clone(), common::config(now, false))
}

fn cny(s: &str) -> Money {
    Money::parse(s, Currency::CNY).expect("money")
}

fn customer(books: &Books, name: &str) -> CustomerId {
    books
        .create_customer(NewCustomer::new(
            CustomerData::new(PersonName::parse(name).expect("name")),
            now() - chrono::Duration::days(60),
        ))
        .expect("customer")
        .id()
}

fn product(books: &Books, sku: &str, name: &str, price: &str) {
    books
        .add_product(Product::new(
            Sku::parse(sku).expect("sku"),
            Label::parse(name).expect("name"),
            cny(price),
        ))
        .expect("product");
}

fn buy(books: &Books, who: CustomerId, skus: &[&str]) {
    let lines: Vec<PurchaseLine> = skus
        .iter()
        .map(|s| PurchaseLine::new(Sku::parse(s).expect("sku"), 1, cny("10")))
        .collect();
    let total = cny(&(10 * skus.len()).to_string());
    books
        .record_purchase_with_lines(
            NewPurchase::new(who, now() - chrono::Duration::days(10), total),
            lines,
        )
        .expect("purchase");
}

/// Tea and cups bought together by two customers; 韩梅梅 bought only tea.
fn shop(books: &Books) -> (CustomerId, CustomerId) {
    product(books, "TEA", "龙井茶", "10");
    product(books, "CUP", "茶杯", "10");
    product(books, "OLD", HOSTILE, "10");
    let li = customer(books, "李雷");
    let wang = customer(books, "王芳");
    let han = customer(books, "韩梅梅");
    buy(books, li, &["TEA", "CUP"]);
    buy(books, wang, &["TEA", "CUP"]);
    buy(books, han, &["TEA"]);
    (li, han)
}

// ---------------------------------------------------------------------------------
// Products

#[tokio::test]
async fn the_products_page_lists_sales_and_escapes_a_hostile_name() {
    let books = books();
    shop(&books);
    let router = router(&books);
    let page = get(&router, "/products").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("龙井茶"));
    assert!(page.body.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(!page.body.contains(HOSTILE));
    // Tea: three units to three buyers; the per-customer line is there.
    let tea = page
        .body
        .split("data-sku=\"TEA\"")
        .nth(1)
        .and_then(|r| r.split("</tr>").next())
        .expect("the tea row");
    assert!(tea.contains(">3<"), "{tea}");
    assert!(page.body.contains("id=\"per-customer\""));
    let zh = get(&router, "/products?lang=zh-CN").await;
    assert!(zh.body.contains("购买客户数"));
}

#[tokio::test]
async fn a_product_page_shows_its_buyers_and_what_was_bought_with_it() {
    let books = books();
    shop(&books);
    let router = router(&books);
    let page = get(&router, "/products/TEA").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("id=\"buyers\">3<"), "{}", page.body);
    let with = page
        .body
        .split("id=\"bought-with\"")
        .nth(1)
        .expect("bought-with table");
    assert!(with.contains("茶杯"));
    assert_eq!(
        get(&router, "/products/NOPE").await.status,
        StatusCode::NOT_FOUND
    );
    let hostile = get(&router, "/products/%3Cscript%3E").await;
    assert_eq!(hostile.status, StatusCode::NOT_FOUND);
    assert!(!hostile.body.contains("<script>"));
}

#[tokio::test]
async fn a_product_is_added_edited_and_removed_through_the_forms() {
    let books = books();
    let router = router(&books);
    let added = post(
        &router,
        "/products",
        &[
            ("sku", "茶/01"),
            ("name", "碧螺春"),
            ("price", "88.00"),
            ("cost", ""),
            ("category", "绿茶"),
        ],
    )
    .await;
    assert_eq!(added.status, StatusCode::SEE_OTHER);
    assert_eq!(added.location(), "/products/%E8%8C%B6%2F01");
    let page = get(&router, added.location()).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("碧螺春"));
    let edited = post(
        &router,
        "/products/%E8%8C%B6%2F01/edit",
        &[
            ("name", "碧螺春 特级"),
            ("price", "98"),
            ("cost", "40"),
            ("category", ""),
            ("state", "active"),
        ],
    )
    .await;
    assert_eq!(edited.status, StatusCode::SEE_OTHER);
    let p = books
        .product(&Sku::parse("茶/01").expect("sku"))
        .expect("p");
    assert_eq!(p.name.as_str(), "碧螺春 特级");
    assert_eq!(p.price, cny("98"));
    assert_eq!(p.cost, Some(cny("40")));
    assert_eq!(p.category, None);
    // Never sold: removing deletes it.
    let removed = post(&router, "/products/%E8%8C%B6%2F01/remove", &[]).await;
    assert_eq!(removed.status, StatusCode::SEE_OTHER);
    assert!(books.products().expect("products").is_empty());
    let again = post(&router, "/products/%E8%8C%B6%2F01/remove", &[]).await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_sold_product_is_archived_not_deleted() {
    let books = books();
    shop(&books);
    let router = router(&books);
    let removed = post(&router, "/products/TEA/remove", &[]).await;
    assert_eq!(removed.status, StatusCode::SEE_OTHER);
    let tea = books
        .product(&Sku::parse("TEA").expect("sku"))
        .expect("tea");
    assert!(tea.archived);
    let list = get(&router, "/products").await;
    assert!(!list.body.contains("data-sku=\"TEA\""));
    let all = get(&router, "/products?archived=1").await;
    assert!(all.body.contains("data-sku=\"TEA\""));
}

#[tokio::test]
async fn bad_product_forms_are_refused_beside_the_field_and_write_nothing() {
    let books = books();
    product(&books, "TEA", "龙井茶", "10");
    let router = router(&books);
    let cases: [(&[(&str, &str)], &str); 5] = [
        (
            &[("sku", "A B"), ("name", "x"), ("price", "1")],
            "product-add-sku",
        ),
        (
            &[("sku", "X"), ("name", ""), ("price", "1")],
            "product-add-name",
        ),
        (
            &[("sku", "X"), ("name", "x"), ("price", "十元")],
            "product-add-price",
        ),
        (
            &[
                ("sku", "X"),
                ("name", "x"),
                ("price", "1"),
                ("cost", "1.234"),
            ],
            "product-add-cost",
        ),
        (
            &[("sku", "TEA"), ("name", "又一个"), ("price", "1")],
            "product-add-sku",
        ),
    ];
    for (form, field) in cases {
        let answer = post(&router, "/products", form).await;
        assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY, "{form:?}");
        assert!(
            answer.body.contains(&format!("id=\"{field}-error\"")),
            "{form:?}: {}",
            answer.body
        );
    }
    assert_eq!(books.products().expect("products").len(), 1);
    let hostile = post(
        &router,
        "/products",
        &[("sku", "X"), ("name", HOSTILE), ("price", "abc")],
    )
    .await;
    assert_eq!(hostile.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(!hostile.body.contains(HOSTILE));
    let bad_edit = post(
        &router,
        "/products/TEA/edit",
        &[("name", "龙井"), ("price", "-"), ("state", "active")],
    )
    .await;
    assert_eq!(bad_edit.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad_edit.body.contains("id=\"product-edit-price-error\""));
    let bad_state = post(
        &router,
        "/products/TEA/edit",
        &[("name", "龙井"), ("price", "5"), ("state", "gone")],
    )
    .await;
    assert_eq!(bad_state.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad_state.body.contains("id=\"product-edit-state-error\""));
    let tea = books
        .product(&Sku::parse("TEA").expect("sku"))
        .expect("tea");
    assert_eq!(tea.name.as_str(), "龙井茶");
    let unknown = post(
        &router,
        "/products/NOPE/edit",
        &[("name", "x"), ("price", "1"), ("state", "active")],
    )
    .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
}

// ---------------------------------------------------------------------------------
// The customer page

#[tokio::test]
async fn the_customer_page_recommends_products_and_lists_participations() {
    let books = books();
    let (_, han) = shop(&books);
    books
        .record_participation(Participation {
            customer: han,
            at: now() - chrono::Duration::days(3),
            kind: ParticipationKind::Event,
            note: Some(FreeText::parse(&format!("品茶会 {HOSTILE}")).expect("note")),
        })
        .expect("participation");
    let router = router(&books);
    let page = get(&router, &format!("/customers/{han}")).await;
    assert_eq!(page.status, StatusCode::OK);
    let recs = page
        .body
        .split("id=\"recommended\"")
        .nth(1)
        .expect("recommendations");
    assert!(recs.contains("茶杯"), "{recs}");
    assert!(page.body.contains("品茶会 &lt;script&gt;"));
    assert!(!page.body.contains(HOSTILE));
    let zh = get(&router, &format!("/customers/{han}?lang=zh-CN")).await;
    assert!(zh.body.contains("为该客户推荐"));
    assert!(zh.body.contains("活动"));
    // A customer without lines has none.
    let new = customer(&books, "新客户");
    let page = get(&router, &format!("/customers/{new}")).await;
    assert!(page.body.contains("id=\"no-recommendations\""));
}

fn spring(books: &Books, per_customer: Option<u32>) {
    books
        .add_offer(Offer {
            code: OfferCode::parse("SPRING10").expect("code"),
            benefit: Benefit::Percent(Decimal::new(10, 0)),
            valid_from: chrono::NaiveDate::from_ymd_opt(2026, 6, 1).expect("day"),
            valid_until: chrono::NaiveDate::from_ymd_opt(2026, 6, 30).expect("day"),
            per_customer,
            total: None,
            audience: None,
            created_at: now() - chrono::Duration::days(20),
            ended_at: None,
        })
        .expect("offer");
}

#[tokio::test]
async fn a_purchase_with_a_coupon_is_discounted_and_a_refused_coupon_writes_nothing() {
    let books = books();
    spring(&books, Some(1));
    let li = customer(&books, "李雷");
    let router = router(&books);
    let path = format!("/customers/{li}/purchases");
    let done = post(&router, &path, &[("amount", "200"), ("coupon", "spring10")]).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let reds = books.redemptions(None).expect("redemptions");
    assert_eq!(reds.len(), 1);
    assert_eq!(reds[0].discount, cny("20"));
    // Used up by this customer, unknown, malformed: beside the field, nothing written.
    for code in ["SPRING10", "NOPE", "春节"] {
        let answer = post(&router, &path, &[("amount", "100"), ("coupon", code)]).await;
        assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY, "{code}");
        assert!(
            answer.body.contains("id=\"purchase-coupon-error\""),
            "{code}: {}",
            answer.body
        );
    }
    assert_eq!(books.redemptions(None).expect("redemptions").len(), 1);
    let purchases = books.crm().read(|r| r.purchases_of(li)).expect("purchases");
    assert_eq!(purchases.len(), 1);
}

// ---------------------------------------------------------------------------------
// Offers

#[tokio::test]
async fn the_offers_page_shows_performance_and_offers_are_added_and_ended() {
    let books = books();
    spring(&books, None);
    let li = customer(&books, "李雷");
    books
        .record_purchase_with_offer(
            NewPurchase::new(li, now() - chrono::Duration::days(1), cny("100")),
            &OfferCode::parse("SPRING10").expect("code"),
        )
        .expect("redeemed");
    let router = router(&books);
    let page = get(&router, "/offers").await;
    assert_eq!(page.status, StatusCode::OK);
    let row = page
        .body
        .split("data-code=\"SPRING10\"")
        .nth(1)
        .and_then(|r| r.split("</tr>").next())
        .expect("row");
    assert!(row.starts_with(" data-status=\"active\""), "{row}");
    // One use by one customer: ¥90.00 of revenue after ¥10.00 off, one new buyer.
    let cells: Vec<&str> = row
        .split("<td class=\"num\">")
        .skip(1)
        .map(|c| c.split('<').next().unwrap_or(""))
        .collect();
    assert_eq!(cells.len(), 5, "{row}");
    assert_eq!(cells[0], "1");
    assert_eq!(cells[1], "1");
    assert!(cells[2].contains("90.00"), "{row}");
    assert!(cells[3].contains("10.00"), "{row}");
    assert_eq!(cells[4], "1");
    let added = post(
        &router,
        "/offers",
        &[
            ("code", "tea-gift"),
            ("kind", "gift"),
            ("value", "茶杯一只"),
            ("from", ""),
            ("until", "2026-07-31"),
            ("per_customer", "1"),
        ],
    )
    .await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.body);
    let gift = books
        .offer(&OfferCode::parse("TEA-GIFT").expect("code"))
        .expect("gift");
    assert_eq!(gift.valid_from.to_string(), "2026-06-15");
    let zh = get(&router, "/offers?lang=zh-CN").await;
    assert!(zh.body.contains("茶杯一只"));
    assert!(zh.body.contains("赠品"));
    let ended = post(&router, "/offers/TEA-GIFT/end", &[]).await;
    assert_eq!(ended.status, StatusCode::SEE_OTHER);
    let gift = books
        .offer(&OfferCode::parse("TEA-GIFT").expect("code"))
        .expect("gift");
    assert!(gift.ended_at.is_some());
    assert_eq!(
        post(&router, "/offers/NOPE/end", &[]).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        post(&router, "/offers/%3Cscript%3E/end", &[]).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn bad_offer_forms_are_refused_beside_the_field_and_write_nothing() {
    let books = books();
    spring(&books, None);
    let router = router(&books);
    let base = |extra: &[(&'static str, &'static str)]| {
        let mut v: Vec<(&str, &str)> = vec![
            ("code", "NEW1"),
            ("kind", "percent"),
            ("value", "10"),
            ("until", "2026-07-31"),
        ];
        for (k, x) in extra {
            v.retain(|(kk, _)| kk != k);
            v.push((k, x));
        }
        v
    };
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (base(&[("code", "春节")]), "code"),
        (base(&[("code", "SPRING10")]), "code"),
        (base(&[("kind", "free")]), "kind"),
        (base(&[("value", "abc")]), "value"),
        (base(&[("value", "150")]), "value"),
        (base(&[("until", "2026-13-01")]), "until"),
        (base(&[("from", "2026-08-01")]), "until"),
        (base(&[("per_customer", "0")]), "per_customer"),
        (base(&[("total", "-1")]), "total"),
        (base(&[("segment", "stage = = loyal")]), "segment"),
        (
            base(&[("segment", "stage = loyal"), ("tier", "gold")]),
            "segment",
        ),
    ];
    for (form, field) in &cases {
        let answer = post(&router, "/offers", form).await;
        assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY, "{form:?}");
        assert!(
            answer
                .body
                .contains(&format!("id=\"offer-add-{field}-error\"")),
            "{form:?}: {}",
            answer.body
        );
    }
    assert_eq!(books.offers().expect("offers").len(), 1);
    let hostile = post(&router, "/offers", &base(&[("value", HOSTILE)])).await;
    assert_eq!(hostile.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(!hostile.body.contains(HOSTILE));
}

// ---------------------------------------------------------------------------------
// Targets

#[tokio::test]
async fn the_targets_page_shows_progress_with_a_run_rate_and_targets_are_set_and_removed() {
    let books = books();
    let li = customer(&books, "李雷");
    books
        .record_purchase(NewPurchase::new(
            li,
            now() - chrono::Duration::days(5),
            cny("3000"),
        ))
        .expect("purchase");
    books
        .set_target(
            Target::new(
                TargetMetric::Revenue,
                TargetPeriod::parse("2026-06").expect("period"),
                Decimal::new(10_000, 0),
            )
            .expect("target"),
        )
        .expect("set");
    let router = router(&books);
    let page = get(&router, "/targets").await;
    assert_eq!(page.status, StatusCode::OK);
    let row = page
        .body
        .split("data-metric=\"revenue\"")
        .nth(1)
        .and_then(|r| r.split("</tr>").next())
        .expect("progress row");
    // 3000 of 10000 after 15 of 30 days: 30 %, forecast 6000 (60 %).
    assert!(row.contains("30.0 %"), "{row}");
    assert!(row.contains("6000"), "{row}");
    assert!(row.contains("15/30"), "{row}");
    let zh = get(&router, "/targets?lang=zh-CN").await;
    assert!(zh.body.contains("销售额"));
    let set = post(
        &router,
        "/targets",
        &[
            ("metric", "retention_rate"),
            ("period", "2026-Q3"),
            ("value", "85%"),
        ],
    )
    .await;
    assert_eq!(set.status, StatusCode::SEE_OTHER);
    assert_eq!(books.targets().expect("targets").len(), 2);
    let removed = post(
        &router,
        "/targets/remove",
        &[("metric", "retention_rate"), ("period", "2026-Q3")],
    )
    .await;
    assert_eq!(removed.status, StatusCode::SEE_OTHER);
    assert_eq!(books.targets().expect("targets").len(), 1);
    let again = post(
        &router,
        "/targets/remove",
        &[("metric", "retention_rate"), ("period", "2026-Q3")],
    )
    .await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
    let other_day = get(&router, "/targets?as_of=2026-08-01").await;
    assert!(other_day.body.contains("id=\"no-progress\""));
    let bad_day = get(&router, "/targets?as_of=八月").await;
    assert_eq!(bad_day.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad_day.body.contains("id=\"target-day-as_of-error\""));
}

#[tokio::test]
async fn bad_target_forms_are_refused_beside_the_field_and_write_nothing() {
    let books = books();
    let router = router(&books);
    let cases: [(&[(&str, &str)], &str); 5] = [
        (
            &[("metric", "profit"), ("period", "2026-06"), ("value", "1")],
            "metric",
        ),
        (
            &[("metric", "revenue"), ("period", "2026-13"), ("value", "1")],
            "period",
        ),
        (
            &[
                ("metric", "revenue"),
                ("period", "2026-06"),
                ("value", "一万"),
            ],
            "value",
        ),
        (
            &[
                ("metric", "revenue"),
                ("period", "2026-06"),
                ("value", HOSTILE),
            ],
            "value",
        ),
        (
            &[
                ("metric", "retention_rate"),
                ("period", "2026"),
                ("value", "85"),
            ],
            "value",
        ),
    ];
    for (form, field) in cases {
        let answer = post(&router, "/targets", form).await;
        assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY, "{form:?}");
        assert!(
            answer
                .body
                .contains(&format!("id=\"target-set-{field}-error\"")),
            "{form:?}: {}",
            answer.body
        );
        assert!(!answer.body.contains(HOSTILE));
    }
    assert!(books.targets().expect("targets").is_empty());
    let bad_remove = post(
        &router,
        "/targets/remove",
        &[("metric", "profit"), ("period", "2026")],
    )
    .await;
    assert_eq!(bad_remove.status, StatusCode::UNPROCESSABLE_ENTITY);
}

// ---------------------------------------------------------------------------------
// Surveys

#[tokio::test]
async fn the_surveys_page_shows_templates_dimension_means_and_the_driver() {
    let books = books();
    let name = Tag::parse("售后回访").expect("name");
    let questions = [
        "推荐意愿|总体|0-10|nps",
        "服务态度如何？|服务质量|1-5",
        "送货快吗？|物流|1-5",
    ]
    .iter()
    .map(|q| solocrm_app::questionnaire::question_from_flag(q).expect("question"))
    .collect();
    books
        .add_survey_template(SurveyTemplate::new(name.clone(), questions).expect("template"))
        .expect("added");
    // A promoter rates the service high, a detractor low; delivery alike.
    for (who, nps, service) in [("李雷", 10, 5), ("韩梅梅", 2, 1)] {
        let c = customer(&books, who);
        books
            .record_survey_sheet(SurveySheet {
                void: None,
                template: name.clone(),
                customer: c,
                at: now() - chrono::Duration::days(2),
                method: CollectionMethod::Online,
                answers: vec![
                    Answer {
                        question: 1,
                        value: AnswerValue::Score(nps),
                    },
                    Answer {
                        question: 2,
                        value: AnswerValue::Score(service),
                    },
                    Answer {
                        question: 3,
                        value: AnswerValue::Score(4),
                    },
                ],
            })
            .expect("sheet");
    }
    let router = router(&books);
    let page = get(&router, "/surveys").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("售后回访"));
    assert!(page.body.contains("id=\"dimensions\""));
    let driver = page
        .body
        .split("id=\"driver\"")
        .nth(1)
        .and_then(|r| r.split("</p>").next())
        .expect("driver");
    assert!(driver.contains("服务质量"), "{driver}");
    let one = get(
        &router,
        "/surveys?template=%E5%94%AE%E5%90%8E%E5%9B%9E%E8%AE%BF",
    )
    .await;
    assert_eq!(one.status, StatusCode::OK);
    assert!(
        one.body.contains("售后回访 的维度分析") || one.body.contains("Dimensions of 售后回访")
    );
    let zh = get(&router, "/surveys?lang=zh-CN").await;
    assert!(zh.body.contains("关键维度"));
    assert_eq!(
        get(&router, "/surveys?template=nope").await.status,
        StatusCode::NOT_FOUND
    );
    let hostile = get(&router, "/surveys?template=%3Cscript%3E").await;
    assert_eq!(hostile.status, StatusCode::NOT_FOUND);
    assert!(!hostile.body.contains("<script>"));
}

// ---------------------------------------------------------------------------------
// Cross-site

#[tokio::test]
async fn cross_site_posts_to_the_new_forms_are_refused_and_write_nothing() {
    let books = books();
    product(&books, "TEA", "龙井茶", "10");
    spring(&books, None);
    let li = customer(&books, "李雷");
    let router = router(&books);
    let purchase = format!("/customers/{li}/purchases");
    let posts: [(&str, &[(&str, &str)]); 8] = [
        ("/products", &[("sku", "X"), ("name", "x"), ("price", "1")]),
        (
            "/products/TEA/edit",
            &[("name", "x"), ("price", "1"), ("state", "archived")],
        ),
        ("/products/TEA/remove", &[]),
        (
            "/offers",
            &[
                ("code", "X1"),
                ("kind", "percent"),
                ("value", "5"),
                ("until", "2026-12-31"),
            ],
        ),
        ("/offers/SPRING10/end", &[]),
        (
            "/targets",
            &[("metric", "revenue"), ("period", "2026"), ("value", "1")],
        ),
        (
            "/targets/remove",
            &[("metric", "revenue"), ("period", "2026")],
        ),
        (&purchase, &[("amount", "10"), ("coupon", "SPRING10")]),
    ];
    for (path, form) in posts {
        let answer = post_from(&router, path, form, "cross-site").await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "{path}");
    }
    assert_eq!(books.products().expect("products").len(), 1);
    assert!(
        !books
            .product(&Sku::parse("TEA").expect("sku"))
            .expect("tea")
            .archived
    );
    assert_eq!(books.offers().expect("offers").len(), 1);
    assert!(books.offers().expect("offers")[0].ended_at.is_none());
    assert!(books.targets().expect("targets").is_empty());
    assert!(books.redemptions(None).expect("redemptions").is_empty());
}
