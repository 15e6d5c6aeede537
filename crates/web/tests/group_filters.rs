//! `?segment=` / `?stage=` on `/products`, `/offers`, `/campaigns` and `/surveys`
//! (issue 18): each page narrowed to a group shows what `product stats`, `offer stats`,
//! `campaign stats` and `survey dimensions` compute with `--segment`/`--stage` for the
//! same small Chinese book (the expected values come from the same app and core
//! functions, not copied), the filter form keeps the choice, and an unknown segment,
//! a bad stage or both at once is a 422 page that names it.

use axum::Router;
use axum::http::StatusCode;
use chrono::{DateTime, NaiveDate, TimeZone as _, Utc};
use rust_decimal::Decimal;
use solocrm_app::catalogue::sales_of;
use solocrm_app::groups::{CustomerGroup, Members, only_members_lines};
use solocrm_app::{Books, Location, OpenOptions};
use solocrm_core::campaign::{AttributionSubject, NewCampaign};
use solocrm_core::metrics::Period;
use solocrm_core::offer::{Benefit, Offer, OfferCode};
use solocrm_core::product::{Product, PurchaseLine, Sku};
use solocrm_core::questionnaire::{
    Answer, AnswerValue, CollectionMethod, SurveySheet, SurveyTemplate,
};
use solocrm_core::{
    BusinessZone, CostCategory, Currency, CustomerData, CustomerId, Label, LifecycleStage, Money,
    NewCost, NewCustomer, NewPurchase, PersonName, Predicate, Segment, StageReason, Store as _,
    Tag,
};
use solocrm_web::app;

mod common;

use common::{encode, get, post};

/// 02:00 UTC is 10:00 in Shanghai, the books' business time zone.
fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 15, 2, 0, 0)
        .single()
        .expect("instant")
}

/// The saved segment of the test: the customers tagged 茶友.
const TEA_CLUB: &str = "茶友会";

fn cny(s: &str) -> Money {
    Money::parse(s, Currency::CNY).expect("money")
}

fn zone() -> BusinessZone {
    BusinessZone::parse("Asia/Shanghai").expect("zone")
}

/// The instant a group is decided at by a page of today: now.
fn at() -> DateTime<Utc> {
    zone().end_of(zone().date_of(now())).min(now())
}

struct Shop {
    books: Books,
    router: Router,
    /// 韩梅梅, the one customer outside the tea club, moved to `loyal`.
    han: CustomerId,
}

/// Three customers: 李雷 and 王芳 in the tea club, 韩梅梅 loyal; tea and cups sold,
/// a coupon used by 李雷 and 韩梅梅, a campaign both came through, and a survey
/// answered by all three.
async fn shop() -> Shop {
    let books =
        Books::create(&Location::Memory, Currency::CNY, &OpenOptions::default()).expect("books");
    books.set_time_zone(zone()).expect("zone set");
    for (sku, name) in [("TEA", "龙井茶"), ("CUP", "茶杯")] {
        books
            .add_product(Product::new(
                Sku::parse(sku).expect("sku"),
                Label::parse(name).expect("name"),
                cny("10"),
            ))
            .expect("product");
    }
    let customer = |name: &str| {
        books
            .create_customer(NewCustomer::new(
                CustomerData::new(PersonName::parse(name).expect("name")),
                now() - chrono::Duration::days(60),
            ))
            .expect("customer")
            .id()
    };
    let li = customer("李雷");
    let wang = customer("王芳");
    let han = customer("韩梅梅");
    let buy = |who: CustomerId, skus: &[&str], days: i64| {
        let lines: Vec<PurchaseLine> = skus
            .iter()
            .map(|s| PurchaseLine::new(Sku::parse(s).expect("sku"), 1, cny("10")))
            .collect();
        books
            .record_purchase_with_lines(
                NewPurchase::new(
                    who,
                    now() - chrono::Duration::days(days),
                    cny(&(10 * skus.len()).to_string()),
                ),
                lines,
            )
            .expect("purchase");
    };
    buy(li, &["TEA", "CUP"], 20);
    buy(wang, &["TEA", "CUP"], 15);
    buy(han, &["TEA"], 12);
    buy(han, &["TEA"], 8);
    let club = Tag::parse("茶友").expect("tag");
    books.tag_customer(li, &club).expect("tagged");
    books.tag_customer(wang, &club).expect("tagged");
    books
        .create_segment(Segment {
            name: Label::parse(TEA_CLUB).expect("label"),
            predicate: Predicate::parse("tag = 茶友").expect("expr"),
        })
        .expect("segment");
    // The campaign both 李雷 and 韩梅梅 came through, with a cost.
    let live = books
        .add_campaign(NewCampaign::new(
            Label::parse("端午直播").expect("name"),
            Tag::parse("douyin").expect("channel"),
            NaiveDate::from_ymd_opt(2026, 1, 1).expect("day"),
        ))
        .expect("campaign");
    for who in [li, han] {
        books
            .attribute(AttributionSubject::Customer(who), Some(live.id()))
            .expect("attributed");
    }
    books
        .record_campaign_cost(
            NewCost {
                at: now() - chrono::Duration::days(30),
                amount: cny("50"),
                category: CostCategory::Marketing,
                channel: None,
                note: None,
            },
            live.id(),
        )
        .expect("cost");
    books
        .add_offer(Offer {
            code: OfferCode::parse("SPRING10").expect("code"),
            benefit: Benefit::Percent(Decimal::new(10, 0)),
            valid_from: NaiveDate::from_ymd_opt(2026, 6, 1).expect("day"),
            valid_until: NaiveDate::from_ymd_opt(2026, 6, 30).expect("day"),
            per_customer: None,
            total: None,
            audience: None,
            created_at: now() - chrono::Duration::days(20),
            ended_at: None,
        })
        .expect("offer");
    // The survey: the club rates the service high, 韩梅梅 low.
    let template = Tag::parse("售后回访").expect("name");
    let questions = ["推荐意愿|总体|0-10|nps", "服务态度如何？|服务质量|1-5"]
        .iter()
        .map(|q| solocrm_app::questionnaire::question_from_flag(q).expect("question"))
        .collect();
    books
        .add_survey_template(SurveyTemplate::new(template.clone(), questions).expect("template"))
        .expect("added");
    for (who, nps, service) in [(li, 10, 5), (wang, 9, 4), (han, 2, 1)] {
        books
            .record_survey_sheet(SurveySheet {
                void: None,
                template: template.clone(),
                customer: who,
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
                ],
            })
            .expect("sheet");
    }
    let router = app(books.clone(), common::config(now, false));
    for who in [li, han] {
        let done = post(
            &router,
            &format!("/customers/{who}/purchases"),
            &[("amount", "100"), ("coupon", "SPRING10")],
        )
        .await;
        assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    }
    // After the purchases (which move a customer's stage themselves).
    books
        .change_stage(
            han,
            LifecycleStage::Loyal,
            now(),
            StageReason::Manual { note: None },
        )
        .expect("moved");
    Shop { books, router, han }
}

/// The two groups the tests narrow to, with their query strings.
fn groups() -> Vec<(CustomerGroup, String)> {
    vec![
        (
            CustomerGroup::Segment(Label::parse(TEA_CLUB).expect("label")),
            format!("segment={}", encode(TEA_CLUB)),
        ),
        (
            CustomerGroup::Stage(LifecycleStage::Loyal),
            "stage=loyal".to_owned(),
        ),
    ]
}

fn members(books: &Books, group: &CustomerGroup) -> Members {
    books
        .crm()
        .read(|r| Ok(group.members(&r, at())))
        .expect("read")
        .expect("members")
}

/// The text of each cell (`td`) of the first table row of `body` holding `marker`.
fn cells(body: &str, marker: &str) -> Vec<String> {
    let row = body
        .split("<tr")
        .find(|r| r.contains(marker))
        .unwrap_or_else(|| panic!("no row with {marker}: {body}"));
    let row = row.split("</tr>").next().unwrap_or_default();
    row.split("<td")
        .skip(1)
        .map(|c| {
            let inner = c.split_once('>').map_or("", |(_, rest)| rest);
            let inner = inner.split("</td>").next().unwrap_or_default();
            let mut text = String::new();
            let mut in_tag = false;
            for ch in inner.chars() {
                match ch {
                    '<' => in_tag = true,
                    '>' => in_tag = false,
                    c if !in_tag => text.push(c),
                    _ => {}
                }
            }
            text.trim().to_owned()
        })
        .collect()
}

/// The line that says whom the page measures.
fn group_line(body: &str) -> &str {
    body.split("class=\"group-line\"")
        .nth(1)
        .and_then(|r| r.split("</p>").next())
        .unwrap_or_else(|| panic!("no group line: {body}"))
}

#[tokio::test]
async fn products_of_a_group_are_product_stats_of_its_members() {
    let s = shop().await;
    let whole = get(&s.router, "/products").await;
    assert_eq!(whole.status, StatusCode::OK, "{}", whole.body);
    assert!(
        whole.body.contains("id=\"group-segment\""),
        "{}",
        whole.body
    );
    let log = s.books.crm().read(|r| r.line_log()).expect("lines");
    let catalogue = s.books.products().expect("products");
    for (group, query) in groups() {
        let m = members(&s.books, &group);
        assert!(!m.is_empty() && m.len() < 3, "{group}: {}", m.len());
        let expected = sales_of(
            &only_members_lines(&log, &m),
            &catalogue,
            Currency::CNY,
            false,
        );
        let page = get(&s.router, &format!("/products?{query}")).await;
        assert_eq!(page.status, StatusCode::OK, "{query}: {}", page.body);
        assert!(group_line(&page.body).contains(&m.len().to_string()));
        for sku in ["TEA", "CUP"] {
            let row = cells(&page.body, &format!("data-sku=\"{sku}\""));
            let want = expected.rows.iter().find(|r| r.key.as_deref() == Some(sku));
            let units = want.map_or(0, |w| w.units);
            let revenue = want.map_or_else(|| cny("0").to_string(), |w| w.revenue.to_string());
            let buyers = want.map_or(0, |w| w.buyers);
            assert_eq!(row[5], units.to_string(), "{query} {sku}: {row:?}");
            assert_eq!(row[6], revenue, "{query} {sku}: {row:?}");
            assert_eq!(row[8], buyers.to_string(), "{query} {sku}: {row:?}");
        }
    }
    // The club bought TEA twice, 韩梅梅 bought it twice: 2 units each way, but the
    // whole book sold 4 (the filter changed the numbers).
    let tea = cells(&whole.body, "data-sku=\"TEA\"");
    assert_eq!(tea[5], "4", "{tea:?}");
    // The archived switch keeps the group.
    let both = get(
        &s.router,
        &format!("/products?archived=1&segment={}", encode(TEA_CLUB)),
    )
    .await;
    assert_eq!(both.status, StatusCode::OK);
    assert!(both.body.contains("name=\"archived\" value=\"1\""));
    assert!(both.body.contains("selected"), "{}", both.body);
}

#[tokio::test]
async fn offers_of_a_group_are_offer_stats_of_its_members() {
    let s = shop().await;
    let code = OfferCode::parse("SPRING10").expect("code");
    for (group, query) in groups() {
        let m = members(&s.books, &group);
        let keep = |c: CustomerId| m.contains(c);
        let want = s
            .books
            .crm()
            .read(|r| r.offer_stats_where(&code, 90, &keep))
            .expect("stats");
        assert_eq!(want.redemptions, 1, "{query}: one use each side");
        let page = get(&s.router, &format!("/offers?{query}")).await;
        assert_eq!(page.status, StatusCode::OK, "{query}: {}", page.body);
        let row = cells(&page.body, "data-code=\"SPRING10\"");
        assert_eq!(
            row[6..11],
            [
                want.redemptions.to_string(),
                want.redeemers.to_string(),
                want.revenue.to_string(),
                want.discount_cost.to_string(),
                want.incremental_buyers.to_string(),
            ],
            "{query}: {row:?}"
        );
        assert!(group_line(&page.body).contains(&m.len().to_string()));
    }
    let whole = get(&s.router, "/offers").await;
    assert_eq!(cells(&whole.body, "data-code=\"SPRING10\"")[6], "2");
}

#[tokio::test]
async fn campaigns_of_a_group_are_campaign_stats_of_its_members_without_costs() {
    let s = shop().await;
    let period = Period::new(
        NaiveDate::from_ymd_opt(2026, 1, 1).expect("day"),
        NaiveDate::from_ymd_opt(2026, 12, 31).expect("day"),
    )
    .expect("period")
    .in_zone(zone());
    for (group, query) in groups() {
        let m = members(&s.books, &group);
        let keep = |c: CustomerId| m.contains(c);
        let want = s
            .books
            .crm()
            .read(|r| Ok(r.campaign_stats_of(period, Some(&keep))))
            .expect("read")
            .expect("stats");
        let f = &want.campaigns[0].figures;
        let page = get(&s.router, &format!("/campaigns?period=2026&{query}")).await;
        assert_eq!(page.status, StatusCode::OK, "{query}: {}", page.body);
        let row = cells(&page.body, "<td>端午直播");
        assert_eq!(row[3], f.cost.to_string(), "{query}: {row:?}");
        assert_eq!(row[4], f.customers_acquired.to_string(), "{query}: {row:?}");
        assert_eq!(row[6], f.revenue.to_string(), "{query}: {row:?}");
        assert_eq!(row[8], "–", "a group's ROI is left empty: {row:?}");
        assert_eq!(f.customers_acquired, 1, "{query}: one of the two each side");
        // Both forms keep the other's choice.
        assert!(page.body.contains("name=\"period\" value=\"2026\""));
    }
    let (_, query) = &groups()[0];
    let whole = get(&s.router, "/campaigns?period=2026").await;
    let row = cells(&whole.body, "<td>端午直播");
    assert_eq!(row[4], "2", "{row:?}");
    assert_ne!(row[8], "–", "the whole book's ROI: {row:?}");
    let zh = get(&s.router, &format!("/campaigns?{query}&lang=zh-CN")).await;
    assert_eq!(zh.status, StatusCode::OK);
    assert!(zh.body.contains(TEA_CLUB));
}

#[tokio::test]
async fn surveys_of_a_group_are_survey_dimensions_of_its_members() {
    let s = shop().await;
    let template = Tag::parse("售后回访").expect("name");
    for (group, query) in groups() {
        let m = members(&s.books, &group);
        let keep = |c: CustomerId| m.contains(c);
        for (path, t) in [
            (format!("/surveys?{query}"), None),
            (
                format!("/surveys?template={}&{query}", encode("售后回访")),
                Some(&template),
            ),
        ] {
            let want = s
                .books
                .crm()
                .read(|r| r.survey_dimensions_where(t, &keep))
                .expect("analysis");
            let page = get(&s.router, &path).await;
            assert_eq!(page.status, StatusCode::OK, "{path}: {}", page.body);
            let service = want
                .dimensions
                .iter()
                .find(|d| d.dimension.as_str() == "服务质量")
                .expect("dimension");
            let row = cells(&page.body, "<bdi>服务质量</bdi></td>");
            assert_eq!(row[1], service.answers.to_string(), "{path}: {row:?}");
            let mean = service
                .mean_share
                .map(|v| format!("{:.1} %", v * Decimal::ONE_HUNDRED))
                .expect("a mean");
            assert_eq!(row[2], mean, "{path}: {row:?}");
            assert_eq!(service.answers, m.len() as u64, "{path}");
        }
    }
    // The template link keeps the group.
    let page = get(&s.router, "/surveys?stage=loyal").await;
    assert!(
        page.body.contains("stage=loyal&amp;template="),
        "{}",
        page.body
    );
    let whole = get(&s.router, "/surveys").await;
    assert_eq!(cells(&whole.body, "<bdi>服务质量</bdi></td>")[1], "3");
    // 韩梅梅 alone: her low service score.
    assert!(members(&s.books, &CustomerGroup::Stage(LifecycleStage::Loyal)).contains(s.han));
}

#[tokio::test]
async fn bad_group_values_are_422_pages_that_name_them_on_every_page() {
    let s = shop().await;
    for path in ["/products", "/offers", "/campaigns", "/surveys"] {
        for (query, named) in [
            ("segment=nobody", "nobody"),
            ("stage=sleepy", "sleepy"),
            ("segment=%E8%8C%B6%E5%8F%8B%E4%BC%9A&stage=new", "both"),
            ("segment=%3Cscript%3E", "&lt;script&gt;"),
        ] {
            let page = get(&s.router, &format!("{path}?{query}")).await;
            assert_eq!(
                page.status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "{path}?{query}: {}",
                page.body
            );
            assert!(page.body.contains(named), "{path}?{query}: {}", page.body);
            assert!(!page.body.contains("<script>"), "{path}?{query}");
        }
        let zh = get(&s.router, &format!("{path}?segment=nobody&lang=zh-CN")).await;
        assert_eq!(zh.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(zh.body.contains("nobody"));
    }
}
