//! `GET /?segment=` / `?stage=` and `?by=month|quarter` (issue 18): the dashboard of a
//! group is the one `report --segment/--stage` computes ([`load_dashboard`], the same
//! app function, so the expected figures here come from it, not copied), the series is
//! the one `report --by` prints ([`Trend::load`]), partial periods are marked, and a bad
//! value (an unknown segment, a bad stage, both, a bad `by`, too many periods) is a 422
//! with the message beside its field and the typed values kept.

use axum::Router;
use axum::http::StatusCode;
use chrono::{DateTime, NaiveDate, TimeZone as _, Utc};
use solocrm_app::groups::CustomerGroup;
use solocrm_app::trends::{Grain, GroupDashboard, Trend, load_dashboard, load_overview};
use solocrm_app::{Books, Location, OpenOptions};
use solocrm_core::metrics::Period;
use solocrm_core::{
    BusinessZone, Currency, CustomerData, CustomerId, Label, LifecycleStage, Money, NewCustomer,
    NewDeal, NewPurchase, PersonName, Predicate, ReportConfig, Segment, Store as _, Tag,
};
use solocrm_web::app;

mod common;

use common::{encode, get};

/// 02:00 UTC is 10:00 in Shanghai, the books' business time zone.
fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 15, 2, 0, 0)
        .single()
        .expect("instant")
}

/// The saved segment of the test: the customers tagged 茶友.
const TEA_CLUB: &str = "茶友会";

fn zone() -> BusinessZone {
    BusinessZone::parse("Asia/Shanghai").expect("zone")
}

fn cny(s: &str) -> Money {
    Money::parse(s, Currency::CNY).expect("money")
}

fn day(m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, m, d).expect("day")
}

fn at(m: u32, d: u32) -> DateTime<Utc> {
    // 04:00 UTC is noon in Shanghai: the same day in the business zone.
    Utc.with_ymd_and_hms(2026, m, d, 4, 0, 0)
        .single()
        .expect("instant")
}

/// Three customers: 李雷 and 王芳 in the tea club (tagged 茶友), 韩梅梅 outside it;
/// purchases from January to June.
fn shop() -> (Books, Router) {
    let books =
        Books::create(&Location::Memory, Currency::CNY, &OpenOptions::default()).expect("books");
    books.set_time_zone(zone()).expect("zone set");
    let customer = |name: &str, since: DateTime<Utc>| -> CustomerId {
        books
            .create_customer(NewCustomer::new(
                CustomerData::new(PersonName::parse(name).expect("name")),
                since,
            ))
            .expect("customer")
            .id()
    };
    let li = customer("李雷", at(1, 5));
    let wang = customer("王芳", at(2, 20));
    let han = customer("韩梅梅", at(1, 2));
    let buy = |who: CustomerId, when: DateTime<Utc>, amount: &str| {
        books
            .record_purchase(NewPurchase::new(who, when, cny(amount)))
            .expect("purchase");
    };
    buy(li, at(1, 12), "120");
    buy(li, at(3, 3), "80.5");
    buy(wang, at(2, 25), "66");
    buy(wang, at(6, 10), "30");
    buy(han, at(1, 20), "500");
    buy(han, at(5, 8), "260");
    let club = Tag::parse("茶友").expect("tag");
    books.tag_customer(li, &club).expect("tagged");
    books.tag_customer(wang, &club).expect("tagged");
    books
        .create_segment(Segment {
            name: Label::parse(TEA_CLUB).expect("label"),
            predicate: Predicate::parse("tag = 茶友").expect("expr"),
        })
        .expect("segment");
    let router = app(books.clone(), common::config(now, false));
    (books, router)
}

/// The dashboard's report settings.
fn config() -> ReportConfig {
    ReportConfig {
        include_rfm_table: false,
        ..ReportConfig::default()
    }
}

/// `from` … `to` (inclusive), in the books' zone.
fn range(from: NaiveDate, to: NaiveDate) -> Period {
    Period::new(from, to.succ_opt().expect("next"))
        .expect("period")
        .in_zone(zone())
}

fn tea_club() -> CustomerGroup {
    CustomerGroup::Segment(Label::parse(TEA_CLUB).expect("label"))
}

fn expected(books: &Books, group: Option<&CustomerGroup>) -> GroupDashboard {
    load_dashboard(
        books,
        range(day(1, 10), day(6, 14)),
        &config(),
        group,
        now(),
    )
    .expect("dashboard")
}

/// The part of `body` between `start` and the next `end`.
fn part<'a>(body: &'a str, start: &str, end: &str) -> &'a str {
    let from = body
        .find(start)
        .unwrap_or_else(|| panic!("no {start} in {body}"));
    let rest = &body[from..];
    &rest[..rest.find(end).unwrap_or(rest.len())]
}

/// The text of the `td` cells of a row.
fn tds(row: &str) -> Vec<String> {
    row.split("<td>")
        .skip(1)
        .map(|c| c.split("</td>").next().unwrap_or_default().to_owned())
        .collect()
}

const RANGE: &str = "from=2026-01-10&to=2026-06-14";

#[tokio::test]
async fn a_groups_dashboard_is_the_reports_and_differs_from_the_whole_books() {
    let (books, router) = shop();
    let club = expected(&books, Some(&tea_club()));
    let whole = expected(&books, None);
    assert_eq!(club.members, Some(2));
    assert_ne!(club.dashboard.revenue, whole.dashboard.revenue);
    // 李雷 120 + 80.5, 王芳 66 + 30 in the range.
    assert_eq!(club.dashboard.revenue, "296.50");
    for query in [
        format!("/?segment={}&{RANGE}", encode(TEA_CLUB)),
        format!("/?segment={}&{RANGE}&lang=zh-CN", encode(TEA_CLUB)),
    ] {
        let page = get(&router, &query).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        let figures = part(&page.body, "id=\"group-figures\"", "</dl>");
        let d = &club.dashboard;
        for v in [
            format!("<dd>{} CNY</dd>", d.revenue),
            format!("<dd>{} CNY</dd>", d.net_revenue),
            format!("<dd>{}</dd>", d.report.purchases.stats.orders),
            format!("<dd>{}</dd>", d.report.purchases.stats.buyers),
        ] {
            assert!(figures.contains(&v), "{v} not in {figures}");
        }
        assert!(!figures.contains(&format!("<dd>{} CNY</dd>", whole.dashboard.revenue)));
        // The line naming the group, and the form keeping the choice.
        assert!(page.body.contains("group-line"), "{}", page.body);
        assert!(page.body.contains(TEA_CLUB));
        assert!(
            page.body
                .contains(&format!("<option value=\"{TEA_CLUB}\" selected>")),
            "{}",
            page.body
        );
    }
    // A stage: the figures are the app's for that stage too.
    let stage = load_dashboard(
        &books,
        range(day(1, 10), day(6, 14)),
        &config(),
        Some(&CustomerGroup::Stage(LifecycleStage::Lead)),
        now(),
    )
    .expect("dashboard");
    let page = get(&router, &format!("/?stage=lead&{RANGE}")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let figures = part(&page.body, "id=\"group-figures\"", "</dl>");
    assert!(figures.contains(&format!("<dd>{} CNY</dd>", stage.dashboard.revenue)));
    // The whole book's page is unchanged: no group figures.
    let plain = get(&router, &format!("/?{RANGE}")).await;
    assert_eq!(plain.status, StatusCode::OK);
    assert!(!plain.body.contains("group-figures"));
    // … and offers the group filter and the series, the saved segment among the choices.
    for id in [
        "id=\"period-segment\"",
        "id=\"period-stage\"",
        "id=\"period-by\"",
    ] {
        assert!(plain.body.contains(id), "{id} not in {}", plain.body);
    }
    assert!(
        plain
            .body
            .contains(&format!("<option value=\"{TEA_CLUB}\">{TEA_CLUB}</option>"))
    );
}

#[tokio::test]
async fn the_series_rows_are_the_apps_with_partial_periods_marked() {
    let (books, router) = shop();
    for (grain, by, group, query) in [
        (Grain::Month, "month", None, String::new()),
        (
            Grain::Month,
            "month",
            Some(tea_club()),
            format!("&segment={}", encode(TEA_CLUB)),
        ),
        (Grain::Quarter, "quarter", None, String::new()),
    ] {
        let trend = Trend::load(
            &books,
            range(day(1, 10), day(6, 14)),
            grain,
            &config(),
            group.as_ref(),
            now(),
        )
        .expect("trend");
        let page = get(&router, &format!("/?by={by}&{RANGE}{query}")).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        let table = part(
            &page.body,
            "<table class=\"data\" id=\"trend\">",
            "</table>",
        );
        assert!(table.contains("<caption>"), "{table}");
        let body = part(table, "<tbody>", "</tbody>");
        let rows: Vec<&str> = body.split("<tr").skip(1).collect();
        assert_eq!(rows.len(), trend.periods.len(), "{table}");
        for (row, p) in rows.iter().zip(&trend.periods) {
            assert!(row.contains(&p.label), "{} not in {row}", p.label);
            assert_eq!(row.contains("<abbr"), p.partial, "{row}");
            let cells = tds(row);
            let s = &p.dashboard.report.purchases.stats;
            assert_eq!(
                &cells[..4],
                [
                    s.revenue.amount().to_string(),
                    s.orders.to_string(),
                    s.buyers.to_string(),
                    p.dashboard.report.retention.base.acquired.to_string(),
                ],
                "{row}"
            );
            assert_eq!(cells[11], p.dashboard.net_revenue);
        }
        // The first and last periods are clipped by the range.
        assert!(trend.periods.first().is_some_and(|p| p.partial));
        assert!(trend.periods.last().is_some_and(|p| p.partial));
        let total = tds(part(table, "<tfoot>", "</tfoot>"));
        assert_eq!(
            total[0],
            trend
                .total
                .report
                .purchases
                .stats
                .revenue
                .amount()
                .to_string()
        );
        // The figures above are the range's total.
        let figures = part(&page.body, "id=\"group-figures\"", "</dl>");
        assert!(figures.contains(&format!("<dd>{} CNY</dd>", trend.total.revenue)));
    }
    // The club's months differ from the whole book's.
    let club = get(
        &router,
        &format!("/?by=month&{RANGE}&segment={}", encode(TEA_CLUB)),
    )
    .await;
    let whole = get(&router, &format!("/?by=month&{RANGE}")).await;
    assert_ne!(
        part(&club.body, "<tbody>", "</tbody>"),
        part(&whole.body, "<tbody>", "</tbody>")
    );
}

#[tokio::test]
async fn a_bad_value_is_a_422_beside_its_field_with_the_typed_values_kept() {
    let (_books, router) = shop();
    for (query, field, typed) in [
        ("segment=nobody".to_owned(), "segment", "nobody"),
        (
            format!("segment={}", encode("无此分群")),
            "segment",
            "无此分群",
        ),
        ("stage=sleeping".to_owned(), "stage", "sleeping"),
        (
            format!("segment={}&stage=lead", encode(TEA_CLUB)),
            "segment",
            TEA_CLUB,
        ),
        ("by=week".to_owned(), "by", "week"),
        ("by=month&from=2000-01-01".to_owned(), "by", "month"),
        ("by=month&from=2026-13-01".to_owned(), "from", "2026-13-01"),
        (
            "stage=lead&from=2026-06-14&to=2026-01-01".to_owned(),
            "to",
            "2026-01-01",
        ),
    ] {
        for lang in ["en", "zh-CN"] {
            let page = get(&router, &format!("/?{query}&lang={lang}")).await;
            assert_eq!(
                page.status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "{query}: {}",
                page.body
            );
            let id = format!("id=\"dash-{field}-error\"");
            assert!(page.body.contains(&id), "{query}: no {id} in {}", page.body);
            assert!(
                page.body.contains(&format!("value=\"{typed}\"")),
                "{query}: {typed} not kept in {}",
                page.body
            );
            assert!(!page.body.contains("group-figures"));
        }
    }
    let zh = get(&router, "/?by=week&lang=zh-CN").await;
    assert!(zh.body.contains("序列周期"), "{}", zh.body);
    let en = get(&router, "/?by=month&from=2000-01-01&lang=en").await;
    assert!(en.body.contains("at most 120 periods"), "{}", en.body);
}

/// The part of `body` from the chart `id`'s figure to its end.
fn chart<'a>(body: &'a str, id: &str) -> &'a str {
    part(
        body,
        &format!("<figure class=\"chart\" id=\"{id}\""),
        "</figure>",
    )
}

#[tokio::test]
async fn a_groups_dashboard_draws_the_three_charts_from_the_groups_data() {
    let (books, router) = shop();
    // An open deal in the club (李雷) and one outside it (韩梅梅).
    let ids: Vec<CustomerId> = books
        .list_customers(&solocrm_core::CustomerQuery::default())
        .expect("customers")
        .items
        .iter()
        .map(|c| c.id())
        .collect();
    let (li, han) = (ids[0], ids[2]);
    for (who, title, value) in [(li, "茶叶礼盒", "1888"), (han, "<b>大单</b>", "7777")] {
        books
            .create_deal(NewDeal::new(
                who,
                Label::parse(title).expect("title"),
                cny(value),
                now() - chrono::Duration::days(5),
            ))
            .expect("deal");
    }
    let club = load_overview(
        &books,
        range(day(1, 10), day(6, 14)),
        &config(),
        Some(&tea_club()),
        now(),
    )
    .expect("overview");
    // The same figures as the report.
    assert_eq!(
        club.dashboard,
        expected(&books, Some(&tea_club())).dashboard
    );
    for query in [
        format!("/?segment={}&{RANGE}", encode(TEA_CLUB)),
        format!("/?segment={}&{RANGE}&by=month&lang=zh-CN", encode(TEA_CLUB)),
    ] {
        let page = get(&router, &query).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        for id in ["chart-stages", "chart-revenue", "chart-pipeline"] {
            let c = chart(&page.body, id);
            assert!(c.contains("<figcaption>"), "{id}");
            assert!(
                c.contains("<svg") && c.contains("<table class=\"data\">"),
                "{id}"
            );
        }
        // Revenue by month: the group's purchases only (韩梅梅's 500 and 260 left out).
        let revenue = chart(&page.body, "chart-revenue");
        assert_eq!(club.revenue_by_month.len(), 6);
        for m in &club.revenue_by_month {
            let row = format!(
                "<th scope=\"row\">{}</th><td class=\"num\">{}</td><td class=\"num\">{}</td>",
                m.month.format("%Y-%m"),
                m.revenue.amount(),
                m.orders
            );
            assert!(revenue.contains(&row), "{row} not in {revenue}");
        }
        assert!(revenue.contains(">120.00<") && !revenue.contains("500.00"));
        // The pipeline: the club's deal, not the other.
        let pipeline = chart(&page.body, "chart-pipeline");
        assert!(
            pipeline.contains("1888.00") && !pipeline.contains("7777"),
            "{pipeline}"
        );
        // Customers by stage: the group's two, one bar per stage.
        let stages = chart(&page.body, "chart-stages");
        let counted: usize = club.dashboard.stages.iter().map(|(_, n)| n).sum();
        assert_eq!(counted, 2);
        assert_eq!(
            stages.matches("<rect class=\"bar\"").count(),
            club.dashboard.stages.len()
        );
        let drawn: usize = stages
            .split("data-value=\"")
            .skip(1)
            .filter_map(|v| v.split('"').next()?.parse::<usize>().ok())
            .sum();
        assert_eq!(drawn, 2, "{stages}");
    }
    // The whole book's charts hold both deals and every purchase (January: 120 + 500).
    let plain = get(&router, &format!("/?{RANGE}")).await;
    let pipeline = chart(&plain.body, "chart-pipeline");
    // Both deals are in the first stage: 1888 + 7777.
    assert!(pipeline.contains("9665.00"), "{pipeline}");
    assert!(chart(&plain.body, "chart-revenue").contains("620.00"));
    assert!(plain.body.contains("id=\"figures\""));
}

/// The CSAT and NPS of the month `m` as the report computes them for a period of that
/// month alone: the oracle of the satisfaction chart.
fn month_satisfaction(books: &Books, m: u32) -> (String, String) {
    let first = day(m, 1);
    let last = first
        .checked_add_months(chrono::Months::new(1))
        .and_then(|d| d.pred_opt())
        .expect("last day");
    let d = load_dashboard(books, range(first, last), &config(), None, now())
        .expect("dashboard")
        .dashboard;
    let s = &d.report.satisfaction;
    // Shown to two decimals.
    let two = |mut v: rust_decimal::Decimal| {
        v.rescale(2);
        v.to_string()
    };
    (
        s.csat
            .value()
            .map_or("–".to_owned(), |c| two(c.share.percent_rounded(2))),
        s.nps
            .value()
            .map_or("–".to_owned(), |n| two(n.score.round_dp(2))),
    )
}

#[tokio::test]
async fn the_dashboard_draws_satisfaction_by_month_the_rfm_segments_and_the_cohort_heatmap() {
    use solocrm_core::{NewSurveyResponse, SurveyKind, SurveyScore};
    let (books, router) = shop();
    let ids: Vec<CustomerId> = books
        .list_customers(&Default::default())
        .expect("list")
        .items
        .iter()
        .map(|c| c.id())
        .collect();
    let (li, wang, han) = (ids[0], ids[1], ids[2]);
    let answer = |who, when, kind, score| {
        books
            .record_survey(NewSurveyResponse {
                customer: who,
                at: when,
                score: SurveyScore::new(kind, score).expect("score"),
                comment: None,
            })
            .expect("answer");
    };
    // January 5th is before the range (it starts on the 10th): left out, as purchases.
    answer(han, at(1, 5), SurveyKind::Csat, 1);
    // February: two satisfied (4 and 5) of three, 66.67 %.
    answer(li, at(2, 3), SurveyKind::Csat, 5);
    answer(han, at(2, 10), SurveyKind::Csat, 4);
    answer(wang, at(2, 26), SurveyKind::Csat, 2);
    // March: two promoters and a detractor of three, NPS 33.33.
    answer(li, at(3, 4), SurveyKind::Nps, 10);
    answer(han, at(3, 5), SurveyKind::Nps, 9);
    answer(wang, at(3, 6), SurveyKind::Nps, 5);
    answer(li, at(4, 2), SurveyKind::Csat, 5);
    // May: a promoter and a detractor, NPS 0, shown as 0.00 like the report's figures.
    answer(li, at(5, 3), SurveyKind::Nps, 10);
    answer(han, at(5, 4), SurveyKind::Nps, 2);

    let page = get(&router, &format!("/?{RANGE}")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let satisfaction = chart(&page.body, "chart-satisfaction");
    let row = |month: &str, csat: &str, nps: &str| {
        format!(
            "<th scope=\"row\">{month}</th><td class=\"num\">{csat}</td><td class=\"num\">{nps}</td>"
        )
    };
    for (month, csat, nps) in [
        ("2026-01", "–", "–"),
        ("2026-02", "66.67", "–"),
        ("2026-03", "–", "33.33"),
        ("2026-04", "100.00", "–"),
        ("2026-05", "–", "0.00"),
    ] {
        let r = row(month, csat, nps);
        assert!(satisfaction.contains(&r), "{r} not in {satisfaction}");
    }
    // Every whole month as the report computes it for that month alone.
    for m in 2..=5 {
        let (csat, nps) = month_satisfaction(&books, m);
        let r = row(&format!("2026-{m:02}"), &csat, &nps);
        assert!(satisfaction.contains(&r), "{r} not in {satisfaction}");
    }
    // A bar per month of the range, zero-high without a CSAT answer.
    assert_eq!(
        satisfaction.matches("<rect class=\"bar\"").count(),
        6,
        "{satisfaction}"
    );

    // RFM: one bar per segment; the three buyers among them.
    let rfm = chart(&page.body, "chart-rfm");
    assert_eq!(
        rfm.matches("<rect class=\"bar\"").count(),
        solocrm_core::metrics::RfmSegment::ALL.len()
    );
    let buyers: usize = rfm
        .split("data-value=\"")
        .skip(1)
        .filter_map(|v| v.split('"').next()?.parse::<usize>().ok())
        .sum();
    assert_eq!(buyers, 3, "{rfm}");
    assert!(page.body.contains("href=\"/rfm\""));

    // The cohort heatmap: the January buyers (李雷, 韩梅梅) and February's (王芳).
    let heatmap = part(
        &page.body,
        "<figure class=\"chart\" id=\"cohort-heatmap\"",
        "</figure>",
    );
    assert!(heatmap.contains("<svg") && heatmap.contains("id=\"cohort-table\""));
    for cohort in ["2026-01-01", "2026-02-01"] {
        assert!(
            heatmap.contains(&format!("data-cohort=\"{cohort}\"")),
            "{cohort} in {heatmap}"
        );
    }
}
