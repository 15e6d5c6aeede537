//! The analytic views (issue 15): `/rfm`, `/churn`, `/cohorts`, `/segments` and a
//! segment's members show what the CLI's `rfm`, `churn-risk`, `cohort` and `segment`
//! compute for the same
//! books and instant (the expected values are computed here through the same app and
//! core functions, not copied), narrowed by `?segment=` / `?stage=`, paged, with every
//! bad query value a 422 that names it, and names escaped.

use std::collections::HashMap;

use axum::Router;
use axum::http::StatusCode;
use chrono::{DateTime, NaiveDate, TimeZone as _, Utc};
use solocrm_app::groups::{CustomerGroup, only_members_log};
use solocrm_app::history::read_as_of_day;
use solocrm_app::{Books, Location, OpenOptions};
use solocrm_core::metrics::{
    Activity, ChurnWarning, CohortGrain, RfmRow, TieRule, WarningConfig, churn_warnings,
    cohort_matrix, rfm,
};
use solocrm_core::{
    ActivityQuery, BusinessZone, Currency, CustomerData, CustomerId, Label, LifecyclePolicy,
    LifecycleStage, NewCustomer, OpenQuery, PersonName, Predicate, Segment, Store as _, TimeRange,
};
use solocrm_sample::{GenConfig, Locale, populate};
use solocrm_web::app;

mod common;

use common::{encode, get};

/// A name that tries markup, an attribute break-out and Chinese.
const HOSTILE: &str = "<script>alert(1)</script>\"onmouseover=alert(2) 王小明";
/// A saved segment with a Chinese name.
const VIP: &str = "高价值客户";

fn zone() -> BusinessZone {
    BusinessZone::parse("Asia/Shanghai").expect("zone")
}

/// Ten days after the demo's history ends (in Shanghai: 2026-01-10).
fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 10, 2, 0, 0)
        .single()
        .expect("instant")
}

fn today() -> NaiveDate {
    zone().date_of(now())
}

/// A Chinese demo shop of 300 customers in CNY and Asia/Shanghai, a hostile-named
/// buyer among them, and two saved segments.
fn shop() -> (Books, Router) {
    let books =
        Books::create(&Location::Memory, Currency::CNY, &OpenOptions::default()).expect("books");
    books.set_time_zone(zone()).expect("zone set");
    let config = GenConfig::new(300, 7)
        .with_zone(zone())
        .with_locale(Locale::ZhCn)
        .with_currency(Currency::CNY)
        .with_end(NaiveDate::from_ymd_opt(2025, 12, 31).expect("day"));
    // The generator scripts its own stage moves, as `demo` writes it: no automatic
    // lifecycle while it replays.
    let replay = books.crm().clone().with_lifecycle(None);
    populate(&replay, &config).expect("demo");
    drop(replay);
    let hostile = books
        .create_customer(NewCustomer::new(
            CustomerData::new(PersonName::parse(HOSTILE).expect("name")),
            now() - chrono::Duration::days(400),
        ))
        .expect("customer")
        .id();
    books
        .record_purchase(solocrm_core::NewPurchase::new(
            hostile,
            now() - chrono::Duration::days(300),
            solocrm_core::Money::new(rust_decimal::Decimal::new(99_999, 2), Currency::CNY),
        ))
        .expect("purchase");
    for (name, expr) in [
        (VIP, "stage = active and days_since_purchase > 20"),
        ("loyal-ones", "stage = loyal"),
    ] {
        books
            .create_segment(Segment {
                name: Label::parse(name).expect("label"),
                predicate: Predicate::parse(expr).expect("expr"),
            })
            .expect("segment");
    }
    let router = app(books.clone(), common::config(now, false));
    (books, router)
}

/// What `solocrm rfm --json` computes for the group, in the order its table ranks
/// (best code, then most spent).
fn expected_rfm(books: &Books, group: Option<&CustomerGroup>) -> Vec<RfmRow> {
    let day = today();
    let at = zone().end_of(day).min(now());
    let (log, members) = read_as_of_day(books, day, now(), |r| {
        Ok((
            r.purchase_log()?,
            group.map(|g| g.members(&r, at).expect("members")),
        ))
    })
    .expect("read");
    let log = match &members {
        Some(m) => only_members_log(&log, m),
        None => log,
    };
    let table = rfm(&log, day, TieRule::Shared).expect("rfm");
    let mut rows: Vec<RfmRow> = table.rows().collect();
    rows.sort_by(|a, b| {
        (b.score.code(), b.monetary.amount()).cmp(&(a.score.code(), a.monetary.amount()))
    });
    rows
}

/// What `solocrm churn-risk --json` computes for the group.
fn expected_churn(books: &Books, group: Option<&CustomerGroup>) -> Vec<ChurnWarning> {
    let at = now();
    let day = today();
    let until = ActivityQuery {
        customer: None,
        range: TimeRange::until(at + chrono::Duration::seconds(1)),
        include_voided: false,
    };
    read_as_of_day(books, day, now(), |r| {
        let customers = r.all_customers()?;
        let log = r.purchase_log()?;
        let surveys = r.surveys(&until)?;
        let requests = r.requests(&OpenQuery::default())?;
        let interactions = r.interactions(&until)?;
        let members = group.map(|g| g.members(&r, at).expect("members"));
        let activity = Activity {
            customers: &customers,
            log: &log,
            surveys: &surveys,
            requests: &requests,
            interactions: &interactions,
        };
        let mut w = churn_warnings(
            &activity,
            &LifecyclePolicy::default(),
            &WarningConfig::default(),
            day,
        )
        .expect("warnings");
        if let Some(m) = &members {
            w.retain(|x| m.contains(x.customer));
        }
        Ok(w)
    })
    .expect("read")
}

/// The `data-customer` ids of a page's rows, in order.
fn row_ids(body: &str) -> Vec<u64> {
    body.split("<tr data-customer=\"")
        .skip(1)
        .map(|p| p.split('"').next().expect("id").parse().expect("number"))
        .collect()
}

/// The cells of the row with `data-customer=id`, as text between `<td` tags (tags
/// stripped).
fn row_cells(body: &str, id: u64) -> Vec<String> {
    let start = body
        .find(&format!("<tr data-customer=\"{id}\">"))
        .expect("row");
    let row = &body[start..];
    let row = &row[..row.find("</tr>").expect("end")];
    row.split("<td")
        .skip(1)
        .map(|cell| {
            let cell = &cell[cell.find('>').expect(">") + 1..];
            let mut text = String::new();
            let mut in_tag = false;
            for ch in cell.chars() {
                match ch {
                    '<' => in_tag = true,
                    '>' => in_tag = false,
                    c if !in_tag => text.push(c),
                    _ => {}
                }
            }
            text
        })
        .collect()
}

/// The RFM segment table's counts: `data-segment` → buyers.
fn segment_counts(body: &str) -> HashMap<String, usize> {
    let table = &body[body.find("id=\"rfm-segments\"").expect("segment table")..];
    let table = &table[..table.find("</table>").expect("end")];
    table
        .split("<tr data-segment=\"")
        .skip(1)
        .map(|p| {
            let name = p.split('"').next().expect("name").to_owned();
            let num = p.split("<td class=\"num\">").nth(1).expect("count");
            let n = num.split('<').next().expect("n").parse().expect("number");
            (name, n)
        })
        .collect()
}

fn counts_of(rows: &[RfmRow]) -> HashMap<String, usize> {
    let mut m = HashMap::new();
    for s in solocrm_core::metrics::RfmSegment::ALL {
        m.insert(s.as_str().to_owned(), 0);
    }
    for r in rows {
        *m.entry(r.segment.as_str().to_owned()).or_default() += 1;
    }
    m
}

#[tokio::test]
async fn rfm_shows_the_clis_scores_and_segment_counts_paged_and_filtered() {
    let (books, router) = shop();
    let all = expected_rfm(&books, None);
    assert!(all.len() > 60, "the demo has buyers to page: {}", all.len());

    let page = get(&router, "/rfm").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert_eq!(segment_counts(&page.body), counts_of(&all));
    assert!(page.body.contains(&format!("{} buyers", all.len())));
    let first: Vec<u64> = all.iter().take(50).map(|r| r.customer.get()).collect();
    assert_eq!(row_ids(&page.body), first);
    let best = &all[0];
    let cells = row_cells(&page.body, best.customer.get());
    assert_eq!(
        cells[1..7],
        [
            best.recency_days.to_string(),
            best.frequency.to_string(),
            best.monetary.to_string(),
            best.score.r().to_string(),
            best.score.f().to_string(),
            best.score.m().to_string(),
        ]
    );
    // The grid's 25 cells hold every buyer once.
    let cells: usize = page
        .body
        .split("data-count=\"")
        .skip(1)
        .map(|p| p.split('"').next().expect("n").parse::<usize>().expect("n"))
        .sum();
    assert_eq!(cells, all.len());
    assert!(page.body.contains("href=\"/rfm?page=2\""), "next page link");

    let second = get(&router, "/rfm?page=2").await;
    let expected: Vec<u64> = all
        .iter()
        .skip(50)
        .take(50)
        .map(|r| r.customer.get())
        .collect();
    assert_eq!(row_ids(&second.body), expected);

    // One RFM segment's buyers.
    let lost: Vec<u64> = all
        .iter()
        .filter(|r| r.segment.as_str() == "lost")
        .take(50)
        .map(|r| r.customer.get())
        .collect();
    let only = get(&router, "/rfm?rfm=lost").await;
    assert_eq!(only.status, StatusCode::OK);
    assert_eq!(row_ids(&only.body), lost);
    // The largest cell is the darkest; a filtered grid's segment links keep the filter.
    assert!(page.body.contains("fill-opacity=\"0.60\""));
    let staged = get(&router, "/rfm?stage=active").await;
    assert!(
        staged
            .body
            .contains("href=\"/rfm?stage=active&amp;rfm=lost\""),
        "{}",
        staged.body
    );

    // A stage and a saved segment: their buyers ranked among themselves.
    for (query, group) in [
        (
            "stage=active".to_owned(),
            CustomerGroup::Stage(LifecycleStage::Active),
        ),
        (
            format!("segment={}", encode(VIP)),
            CustomerGroup::Segment(Label::parse(VIP).expect("label")),
        ),
    ] {
        let rows = expected_rfm(&books, Some(&group));
        let page = get(&router, &format!("/rfm?{query}")).await;
        assert_eq!(page.status, StatusCode::OK, "{query}: {}", page.body);
        assert_eq!(segment_counts(&page.body), counts_of(&rows), "{query}");
        let first: Vec<u64> = rows.iter().take(50).map(|r| r.customer.get()).collect();
        assert_eq!(row_ids(&page.body), first, "{query}");
        // The group's scores differ from the whole book's for some buyer, or the
        // filter would prove nothing.
        assert_ne!(rows.len(), all.len(), "{query}");
    }
}

#[tokio::test]
async fn churn_lists_the_clis_warnings_riskiest_first_with_reasons() {
    let (books, router) = shop();
    let all = expected_churn(&books, None);
    assert!(!all.is_empty(), "the demo has customers at risk");
    let page = get(&router, "/churn").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        page.body
            .contains(&format!("{} customers at risk", all.len()))
    );
    let first: Vec<u64> = all.iter().take(50).map(|w| w.customer.get()).collect();
    assert_eq!(row_ids(&page.body), first);
    let top = &all[0];
    let cells = row_cells(&page.body, top.customer.get());
    assert_eq!(cells[2], top.score.to_string());
    for f in &top.factors {
        assert!(cells[3].contains(&f.reason.describe()), "{:?}", cells[3]);
    }
    // Riskiest first.
    let scores: Vec<u32> = row_ids(&page.body)
        .iter()
        .map(|id| row_cells(&page.body, *id)[2].parse().expect("score"))
        .collect();
    assert!(scores.windows(2).all(|w| w[0] >= w[1]), "{scores:?}");

    let group = CustomerGroup::Stage(LifecycleStage::AtRisk);
    let rows = expected_churn(&books, Some(&group));
    let page = get(&router, "/churn?stage=at_risk").await;
    assert_eq!(page.status, StatusCode::OK);
    let first: Vec<u64> = rows.iter().take(50).map(|w| w.customer.get()).collect();
    assert_eq!(row_ids(&page.body), first);
    assert!(
        page.body
            .contains(&format!("{} customers at risk", rows.len()))
    );

    // In Chinese, the reasons too.
    let zh = get(&router, "/churn?lang=zh-CN").await;
    assert!(zh.body.contains("流失风险"));
    assert!(zh.body.contains("阈值") || zh.body.contains("未联系") || zh.body.contains("NPS"));
}

#[tokio::test]
async fn segments_list_their_conditions_counts_and_members() {
    let (books, router) = shop();
    let page = get(&router, "/segments").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    for name in [VIP, "loyal-ones"] {
        let group = CustomerGroup::Segment(Label::parse(name).expect("label"));
        let members = books
            .read(|r| Ok(group.members(&r, now()).expect("members")))
            .expect("read");
        let link = format!("/segments/members?segment={}", encode(name));
        // The list row: link, condition, count.
        let at = page.body.find(&format!("href=\"{link}\"")).expect(name);
        let row = &page.body[at..];
        let row = &row[..row.find("</tr>").expect("end")];
        assert!(
            row.contains(&format!("<td class=\"num\">{}</td>", members.len())),
            "{name}: {row}"
        );
        let list = get(&router, &link).await;
        assert_eq!(list.status, StatusCode::OK, "{}", list.body);
        assert!(
            list.body.contains(&format!("{} found", members.len())),
            "{name}"
        );
        let listed: Vec<u64> = list
            .body
            .split("<a href=\"/customers/")
            .skip(1)
            .map(|p| p.split('"').next().expect("id").parse().expect("id"))
            .collect();
        assert_eq!(listed.len(), members.len().min(50), "{name}");
        assert!(
            listed
                .iter()
                .all(|id| members.contains(CustomerId::new(*id))),
            "{name}"
        );
    }
    assert!(
        page.body.contains("stage = loyal"),
        "the condition is shown"
    );
    for view in ["/rfm", "/churn", "/cohorts", "/clv"] {
        let link = format!("href=\"{view}?segment=loyal-ones\"");
        assert!(page.body.contains(&link), "{link}");
        let narrowed = get(&router, &format!("{view}?segment=loyal-ones")).await;
        assert_eq!(narrowed.status, StatusCode::OK, "{view}");
        assert!(narrowed.body.contains("Only segment loyal-ones"), "{view}");
    }
}

#[tokio::test]
async fn bad_query_values_are_422_pages_that_name_them() {
    let (_books, router) = shop();
    for (path, words) in [
        ("/rfm?stage=sleeping", "sleeping"),
        ("/churn?stage=%3Cb%3E", "&lt;b&gt;"),
        ("/rfm?segment=nobody", "nobody"),
        ("/churn?segment=nobody", "nobody"),
        ("/rfm?page=0", "page number"),
        ("/churn?page=x", "page number"),
        ("/rfm?rfm=best", "best"),
        ("/rfm?segment=loyal-ones&stage=new", "not both"),
        ("/segments/members", "segment"),
        ("/segments/members?segment=nobody", "nobody"),
        (
            "/segments/members?segment=loyal-ones&page=-1",
            "page number",
        ),
    ] {
        let page = get(&router, path).await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY, "{path}");
        assert!(page.body.contains("role=\"alert\""), "{path}");
        assert!(page.body.contains(words), "{path}: {}", page.body);
        assert!(!page.body.contains("<b>"), "{path}");
    }
    // In Chinese too.
    for path in [
        "/rfm?segment=nobody&lang=zh-CN",
        "/clv?segment=nobody&lang=zh-CN",
    ] {
        let page = get(&router, path).await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY, "{path}");
        assert!(page.body.contains("没有名为“nobody”的已保存分群"), "{path}");
    }
}

#[tokio::test]
async fn hostile_names_are_text_and_pages_speak_both_languages() {
    let (books, router) = shop();
    // The page of the RFM list that holds the hostile buyer, and the churn list's.
    let hostile = books
        .read(|r| r.all_customers())
        .expect("customers")
        .into_iter()
        .find(|c| c.name().to_string() == HOSTILE)
        .expect("hostile")
        .id();
    let rank = expected_rfm(&books, None)
        .iter()
        .position(|r| r.customer == hostile)
        .expect("a buyer");
    let page = get(&router, &format!("/rfm?page={}", rank / 50 + 1)).await;
    assert!(row_ids(&page.body).contains(&hostile.get()));
    assert!(page.body.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(!page.body.contains("<script>"));
    let rank = expected_churn(&books, None)
        .iter()
        .position(|w| w.customer == hostile)
        .expect("at risk: one purchase 300 days ago");
    let page = get(&router, &format!("/churn?page={}", rank / 50 + 1)).await;
    assert!(row_ids(&page.body).contains(&hostile.get()));
    assert!(page.body.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(!page.body.contains("<script>"));
    for path in ["/rfm", "/churn", "/cohorts", "/clv", "/segments"] {
        let en = get(&router, path).await;
        assert_eq!(en.status, StatusCode::OK, "{path}");
        assert!(!en.body.contains("<script>"), "{path}");
        assert!(
            en.body.contains("aria-current=\"page\""),
            "{path} is in the nav"
        );
        let zh = get(&router, &format!("{path}?lang=zh-CN")).await;
        assert_eq!(zh.status, StatusCode::OK, "{path}");
        assert!(zh.body.contains("lang=\"zh-CN\""), "{path}");
    }
    let zh = get(&router, "/rfm?lang=zh-CN").await;
    assert!(zh.body.contains("已流失客户"));
    let seg = get(&router, "/segments?lang=zh-CN").await;
    assert!(seg.body.contains(VIP));
}

/// The data table's rows of `/cohorts`: cohort start → its cells (size, shares).
fn cohort_table(body: &str) -> Vec<(String, Vec<String>)> {
    let table = &body[body.find("id=\"cohort-table\"").expect("cohort table")..];
    let table = &table[..table.find("</table>").expect("end")];
    table
        .split("<tr data-cohort=\"")
        .skip(1)
        .map(|p| {
            let start = p.split('"').next().expect("start").to_owned();
            let cells = p
                .split("<td class=\"num\">")
                .skip(1)
                .map(|c| c.split('<').next().expect("cell").to_owned())
                .collect();
            (start, cells)
        })
        .collect()
}

/// What `solocrm cohort --by GRAIN` prints for the group, cell by cell: size, then
/// the shares of +0 to +12 rounded half up to whole percent.
fn expected_cohorts(
    books: &Books,
    grain: CohortGrain,
    group: Option<&CustomerGroup>,
) -> Vec<(String, Vec<String>)> {
    let day = today();
    let at = zone().end_of(day).min(now());
    let (log, members) = read_as_of_day(books, day, now(), |r| {
        Ok((
            r.purchase_log()?,
            group.map(|g| g.members(&r, at).expect("members")),
        ))
    })
    .expect("read");
    let log = match &members {
        Some(m) => only_members_log(&log, m),
        None => log,
    };
    let m = cohort_matrix(&log, grain, day).expect("cohorts");
    let width = m
        .rows
        .iter()
        .map(|r| r.customers.len())
        .max()
        .unwrap_or(0)
        .min(13);
    m.rows
        .iter()
        .map(|row| {
            let mut cells = vec![row.size.to_string()];
            for j in 0..width {
                cells.push(row.customers.get(j).map_or_else(String::new, |n| {
                    if row.size == 0 {
                        "-".to_owned()
                    } else {
                        // Half up: 2.5 % is 3 %.
                        let p = (rust_decimal::Decimal::from(*n)
                            * rust_decimal::Decimal::from(100)
                            / rust_decimal::Decimal::from(row.size))
                        .round_dp_with_strategy(
                            0,
                            rust_decimal::RoundingStrategy::MidpointAwayFromZero,
                        );
                        format!("{p}%")
                    }
                }));
            }
            (row.start.to_string(), cells)
        })
        .collect()
}

#[tokio::test]
async fn cohorts_show_the_clis_retention_by_month_and_week_and_filtered() {
    let (books, router) = shop();
    for (path, grain, group) in [
        ("/cohorts", CohortGrain::Month, None),
        ("/cohorts?by=week", CohortGrain::Week, None),
        (
            "/cohorts?by=month&stage=loyal",
            CohortGrain::Month,
            Some(CustomerGroup::Stage(LifecycleStage::Loyal)),
        ),
    ] {
        let page = get(&router, path).await;
        assert_eq!(page.status, StatusCode::OK, "{path}: {}", page.body);
        let expected = expected_cohorts(&books, grain, group.as_ref());
        assert!(expected.len() > 10, "{path}: the demo spans three years");
        assert_eq!(cohort_table(&page.body), expected, "{path}");
        // One heatmap cell per shown share.
        let shown = expected
            .iter()
            .map(|(_, cells)| cells.iter().skip(1).filter(|c| !c.is_empty()).count())
            .sum::<usize>();
        assert_eq!(page.body.matches("data-percent=").count(), shown, "{path}");
    }
    let bad = get(&router, "/cohorts?by=year").await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("year"));
    let zh = get(&router, "/cohorts?lang=zh-CN").await;
    assert!(zh.body.contains("同期群留存"));
}

/// What `solocrm clv --calibration-end END --model MODEL` computes for the group with
/// its defaults: `(customer, P(alive) to 3 places, CLV)` in its table's order.
fn expected_clv(
    books: &Books,
    end: NaiveDate,
    model: &str,
    group: Option<&CustomerGroup>,
) -> Vec<(u64, String, String)> {
    use solocrm_models::{
        BgNbd, ClvOptions, CustomerSummary, GuardOptions, ParetoNbd, SummaryOptions, TimeUnit,
        clv_money, guarded_clv,
    };
    let mut log = books.purchase_log().expect("log");
    if let Some(g) = group {
        let at = zone().end_of(end).min(now());
        let m = read_as_of_day(books, end, now(), |r| {
            Ok(g.members(&r, at).expect("members"))
        })
        .expect("read");
        log = only_members_log(&log, &m);
    }
    let summary =
        CustomerSummary::from_log(&log, &SummaryOptions::new(end, TimeUnit::Week)).expect("sum");
    assert!(!summary.t_days.is_empty(), "buyers");
    // The CLI's defaults: its flags default to `ClvOptions::default()` and its horizon
    // to the calibration length.
    let opts = GuardOptions {
        penalizer: None,
        horizon: solocrm_models::calibration_length(&summary),
        clv: ClvOptions {
            unit: TimeUnit::Week,
            ..ClvOptions::default()
        },
    };
    let values = match model {
        "bg-nbd" => {
            guarded_clv(&summary, BgNbd::fit, &opts)
                .expect("clv")
                .values
        }
        "pareto-nbd" => {
            guarded_clv(&summary, ParetoNbd::fit, &opts)
                .expect("clv")
                .values
        }
        other => panic!("{other}"),
    };
    let mut rows: Vec<(usize, f64, f64)> = values
        .iter()
        .enumerate()
        .map(|(i, v)| (i, v.clv, v.expected_purchases))
        .collect();
    rows.sort_by(|a, b| b.1.total_cmp(&a.1).then(b.2.total_cmp(&a.2)));
    rows.into_iter()
        .map(|(i, clv, _)| {
            (
                summary.customers[i].get(),
                format!("{:.3}", values[i].p_alive),
                clv_money(clv, Currency::CNY).expect("money").to_string(),
            )
        })
        .collect()
}

#[tokio::test]
async fn clv_fits_the_clis_model_and_ranks_its_values() {
    let (books, router) = shop();
    let end = NaiveDate::from_ymd_opt(2025, 6, 30).expect("day");
    let vip = CustomerGroup::Segment(Label::parse(VIP).expect("label"));
    for (path, model, group) in [
        ("/clv?end=2025-06-30".to_owned(), "bg-nbd", None),
        (
            "/clv?end=2025-06-30&model=pareto-nbd".to_owned(),
            "pareto-nbd",
            None,
        ),
        (
            format!("/clv?end=2025-06-30&segment={}", encode(VIP)),
            "bg-nbd",
            Some(&vip),
        ),
    ] {
        let expected = expected_clv(&books, end, model, group);
        let page = get(&router, &path).await;
        assert_eq!(page.status, StatusCode::OK, "{path}: {}", page.body);
        let ids = row_ids(&page.body);
        assert_eq!(ids.len(), expected.len().min(50), "{path}");
        for (id, (want_id, p_alive, clv)) in ids.iter().zip(&expected) {
            assert_eq!(id, want_id, "{path}");
            let cells = row_cells(&page.body, *id);
            assert_eq!(&cells[2], p_alive, "{path}");
            assert_eq!(&cells[4], clv, "{path}");
        }
        assert!(page.body.contains(model), "{path}");
    }
    // The second page goes on where the first stopped.
    let expected = expected_clv(&books, end, "bg-nbd", None);
    assert!(expected.len() > 50);
    let second = get(&router, "/clv?end=2025-06-30&model=bg-nbd&page=2").await;
    let want: Vec<u64> = expected.iter().skip(50).take(50).map(|e| e.0).collect();
    assert_eq!(row_ids(&second.body), want);

    for (path, words) in [
        ("/clv?model=lifetimes", "lifetimes"),
        ("/clv?end=2025-13-01", "2025-13-01"),
        ("/clv?end=2000-01-01", "Nobody bought"),
        ("/clv?segment=nobody", "nobody"),
    ] {
        let page = get(&router, path).await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY, "{path}");
        assert!(page.body.contains(words), "{path}: {}", page.body);
    }
    let zh = get(&router, "/clv?end=2025-06-30&lang=zh-CN").await;
    assert!(zh.body.contains("客户终身价值"));
}
