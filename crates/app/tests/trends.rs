//! Report series by month and quarter, and reports narrowed to a segment or a stage
//! (issue 18), over the memory and SQLite stores. Days are counted in Asia/Shanghai;
//! names, the tag and the segment are Chinese.

use chrono::{DateTime, NaiveDate, TimeZone as _, Utc};
use proptest::prelude::*;
use solocrm_app::groups::{CustomerGroup, GroupError};
use solocrm_app::trends::{Grain, Trend, load_dashboard, load_overview, load_overview_with_trend};
use solocrm_app::views::Dashboard;
use solocrm_core::{
    BusinessZone, CostCategory, Crm, Currency, CustomerData, CustomerId, Label, LifecycleStage,
    Money, NewCost, NewCustomer, NewPurchase, NewSurveyResponse, Period, PersonName, Predicate,
    ReportConfig, Segment, Store as _, SurveyKind, SurveyScore, Tag,
};
use solocrm_store_memory::MemoryStore;
use solocrm_store_sqlite::SqliteStore;

fn zone() -> BusinessZone {
    BusinessZone::parse("Asia/Shanghai").expect("a zone")
}

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("a date")
}

/// Noon on `d` in Shanghai.
fn noon(d: NaiveDate) -> DateTime<Utc> {
    zone().instant(d.and_hms_opt(12, 0, 0).expect("a time"))
}

fn cny(text: &str) -> Money {
    Money::parse(text, Currency::CNY).expect("money")
}

/// Long after every period: each is read from the books as they stood at its end.
fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
        .single()
        .expect("now")
}

fn config() -> ReportConfig {
    ReportConfig {
        include_rfm_table: false,
        ..ReportConfig::default()
    }
}

fn range(from: NaiveDate, to_excluded: NaiveDate) -> Period {
    Period::new(from, to_excluded)
        .expect("period")
        .in_zone(zone())
}

/// Empty books of each kind, counting days in Shanghai.
fn stores() -> Vec<(&'static str, Crm)> {
    let out = vec![
        ("memory", Crm::new(MemoryStore::new(Currency::CNY))),
        (
            "sqlite",
            Crm::new(SqliteStore::open_in_memory(Currency::CNY).expect("in-memory database")),
        ),
    ];
    for (_, crm) in &out {
        crm.write(|w| w.set_time_zone(zone())).expect("zone");
    }
    out
}

const VIP: &str = "贵宾";
const SEGMENT: &str = "高价值客户";

/// One customer of the story and what they did.
struct Person {
    name: &'static str,
    vip: bool,
    purchases: Vec<(DateTime<Utc>, Money)>,
    nps: Option<(NaiveDate, i64)>,
}

fn story() -> Vec<Person> {
    vec![
        Person {
            name: "王芳",
            vip: true,
            purchases: vec![
                (noon(day(2025, 1, 10)), cny("100.00")),
                // 2025-02-01 01:00 in Shanghai: February's, not January's.
                (
                    Utc.with_ymd_and_hms(2025, 1, 31, 17, 0, 0)
                        .single()
                        .expect("instant"),
                    cny("50.00"),
                ),
            ],
            nps: Some((day(2025, 1, 15), 9)),
        },
        Person {
            name: "李雷",
            vip: true,
            purchases: vec![
                (noon(day(2025, 2, 14)), cny("200.00")),
                (noon(day(2025, 3, 20)), cny("80.00")),
            ],
            nps: Some((day(2025, 3, 5), 10)),
        },
        Person {
            name: "韩梅梅",
            vip: false,
            purchases: vec![
                (noon(day(2025, 1, 5)), cny("300.00")),
                (noon(day(2025, 3, 3)), cny("40.00")),
            ],
            nps: Some((day(2025, 2, 10), 3)),
        },
        Person {
            name: "张伟",
            vip: false,
            purchases: vec![(noon(day(2025, 2, 20)), cny("60.00"))],
            nps: None,
        },
    ]
}

/// Records `people` in `crm` (customers first, then their records, in the given
/// order), the segment of the VIPs, and a marketing cost.
fn record(crm: &Crm, people: &[Person]) -> Vec<CustomerId> {
    let created = noon(day(2024, 12, 1));
    let ids: Vec<CustomerId> = people
        .iter()
        .map(|p| {
            let mut data = CustomerData::new(PersonName::parse(p.name).expect("name"));
            if p.vip {
                data = data.with_tag(Tag::parse(VIP).expect("tag"));
            }
            crm.create_customer(NewCustomer::new(data, created))
                .expect("customer")
                .id()
        })
        .collect();
    for (p, &id) in people.iter().zip(&ids) {
        for &(at, amount) in &p.purchases {
            crm.record_purchase(NewPurchase::new(id, at, amount))
                .expect("purchase");
        }
        if let Some((d, score)) = p.nps {
            crm.record_survey(NewSurveyResponse {
                customer: id,
                at: noon(d),
                score: SurveyScore::new(SurveyKind::Nps, score).expect("score"),
                comment: None,
            })
            .expect("answer");
        }
    }
    crm.create_segment(Segment {
        name: Label::parse(SEGMENT).expect("name"),
        predicate: Predicate::parse(&format!("tag = \"{VIP}\"")).expect("predicate"),
    })
    .expect("segment");
    ids
}

fn plain(crm: &Crm, period: Period, group: Option<&CustomerGroup>) -> Dashboard {
    load_dashboard(crm, period, &config(), group, now())
        .expect("dashboard")
        .dashboard
}

fn revenue(d: &Dashboard) -> String {
    d.report.purchases.stats.revenue.amount().to_string()
}

#[test]
fn months_follow_the_books_zone_and_every_period_is_the_plain_report_of_its_days() {
    for (kind, crm) in stores() {
        record(&crm, &story());
        crm.record_cost(NewCost {
            at: noon(day(2025, 1, 3)),
            amount: cny("120.00"),
            category: CostCategory::Marketing,
            channel: None,
            note: None,
        })
        .expect("cost");
        let q1 = range(day(2025, 1, 1), day(2025, 4, 1));
        let trend = Trend::load(&crm, q1, Grain::Month, &config(), None, now()).expect("trend");
        let got: Vec<(&str, bool, String, u64)> = trend
            .periods
            .iter()
            .map(|p| {
                (
                    p.label.as_str(),
                    p.partial,
                    revenue(&p.dashboard),
                    p.dashboard.report.purchases.stats.orders,
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("2025-01", false, "400.00".to_owned(), 2),
                ("2025-02", false, "310.00".to_owned(), 3),
                ("2025-03", false, "120.00".to_owned(), 2),
            ],
            "{kind}"
        );
        // The total is the plain report of the range, each period that of its days.
        assert_eq!(trend.total, plain(&crm, q1, None), "{kind}");
        for p in &trend.periods {
            let days = range(p.dashboard.period.start, p.dashboard.period.end);
            assert_eq!(p.dashboard, plain(&crm, days, None), "{kind} {}", p.label);
        }
        // Flows add up over the periods; headcounts of buyers do not have to.
        let orders: u64 = trend
            .periods
            .iter()
            .map(|p| p.dashboard.report.purchases.stats.orders)
            .sum();
        assert_eq!(orders, trend.total.report.purchases.stats.orders, "{kind}");
        let new: u64 = trend
            .periods
            .iter()
            .map(|p| p.dashboard.report.retention.base.acquired)
            .sum();
        assert_eq!(new, trend.total.report.retention.base.acquired, "{kind}");
        assert_eq!(revenue(&trend.total), "830.00", "{kind}");
        // NPS per month: one promoter in January, one detractor in February.
        let nps: Vec<Option<f64>> = trend.periods.iter().map(|p| p.dashboard.nps).collect();
        assert_eq!(nps, [Some(100.0), Some(-100.0), Some(100.0)], "{kind}");
        // Not a mean of the months: 100 × (2 promoters − 1 detractor) / 3 answers.
        assert_eq!(trend.total.nps, Some(33.33), "{kind}");
        assert_eq!(trend.total.costs, "120.00", "{kind}");

        // A quarter of the same days is the same report; a range from mid-January
        // makes it partial.
        let quarters =
            Trend::load(&crm, q1, Grain::Quarter, &config(), None, now()).expect("quarters");
        assert_eq!(quarters.periods.len(), 1, "{kind}");
        assert_eq!(quarters.periods[0].label, "2025-Q1", "{kind}");
        assert!(!quarters.periods[0].partial, "{kind}");
        assert_eq!(quarters.periods[0].dashboard, trend.total, "{kind}");
        let late = range(day(2025, 1, 15), day(2025, 5, 1));
        let quarters =
            Trend::load(&crm, late, Grain::Quarter, &config(), None, now()).expect("quarters");
        let labels: Vec<(&str, bool)> = quarters
            .periods
            .iter()
            .map(|p| (p.label.as_str(), p.partial))
            .collect();
        assert_eq!(labels, [("2025-Q1", true), ("2025-Q2", true)], "{kind}");
        assert_eq!(revenue(&quarters.periods[0].dashboard), "430.00", "{kind}");
        assert_eq!(quarters.total, plain(&crm, late, None), "{kind}");

        let json = serde_json::to_value(&trend).expect("json");
        assert_eq!(json["by"], "month");
        assert_eq!(json["periods"][1]["label"], "2025-02");
        assert_eq!(json["periods"][1]["revenue"], "310.00");
        assert_eq!(json["periods"][1]["partial"], false);
        assert_eq!(json["periods"][1]["period"]["start"], "2025-02-01");
        assert!(json["group"].is_null() && json["members"].is_null());
        assert_eq!(json["total"]["revenue"], "830.00");
    }
}

#[test]
fn a_segments_report_equals_the_report_of_books_holding_only_its_customers() {
    let q1 = range(day(2025, 1, 1), day(2025, 4, 1));
    let segment = CustomerGroup::Segment(Label::parse(SEGMENT).expect("name"));
    for (kind, crm) in stores() {
        record(&crm, &story());
        // Costs are the whole business's: a group's report carries none.
        crm.record_cost(NewCost {
            at: noon(day(2025, 1, 3)),
            amount: cny("120.00"),
            category: CostCategory::Marketing,
            channel: None,
            note: None,
        })
        .expect("cost");
        let only = Crm::new(MemoryStore::new(Currency::CNY));
        only.write(|w| w.set_time_zone(zone())).expect("zone");
        let vips: Vec<Person> = story().into_iter().filter(|p| p.vip).collect();
        record(&only, &vips);

        let narrowed =
            Trend::load(&crm, q1, Grain::Month, &config(), Some(&segment), now()).expect("trend");
        let alone = Trend::load(&only, q1, Grain::Month, &config(), None, now()).expect("trend");
        assert_eq!(narrowed.members, Some(2), "{kind}");
        assert_eq!(narrowed.periods, alone.periods, "{kind}");
        assert_eq!(narrowed.total, alone.total, "{kind}");
        assert_eq!(narrowed.total, plain(&crm, q1, Some(&segment)), "{kind}");
        assert_eq!(revenue(&narrowed.total), "430.00", "{kind}");
        assert_eq!(narrowed.total.costs, "0.00", "{kind}");
        let json = serde_json::to_value(&narrowed).expect("json");
        assert_eq!(json["group"]["segment"], SEGMENT);
        assert_eq!(json["members"], 2);

        // A stage: everyone who bought is in one of the buying stages at the end.
        let mut everyone = 0;
        for stage in LifecycleStage::ALL.iter().copied() {
            let group = CustomerGroup::Stage(stage);
            let g = load_dashboard(&crm, q1, &config(), Some(&group), now()).expect("stage");
            let n = g.members.expect("a count");
            assert_eq!(
                g.dashboard.customers_by_stage.values().sum::<usize>(),
                n,
                "{kind} {stage:?}"
            );
            everyone += n;
        }
        assert_eq!(everyone, 4, "{kind}");

        let unknown = CustomerGroup::Segment(Label::parse("不存在").expect("name"));
        match Trend::load(&crm, q1, Grain::Month, &config(), Some(&unknown), now()) {
            Err(GroupError::UnknownSegment(name)) => assert_eq!(name.to_string(), "不存在"),
            other => panic!("{kind}: expected an unknown segment, got {other:?}"),
        }
    }
}

/// A random customer: whether they are a VIP, and purchases as (day of 2025, amount
/// in fen).
#[test]
fn the_overview_with_its_series_equals_each_loaded_alone() {
    let q1 = range(day(2025, 1, 1), day(2025, 4, 1));
    let segment = CustomerGroup::Segment(Label::parse(SEGMENT).expect("name"));
    for (kind, crm) in stores() {
        record(&crm, &story());
        for group in [None, Some(&segment)] {
            for by in [Grain::Month, Grain::Quarter] {
                let (overview, trend) =
                    load_overview_with_trend(&crm, q1, Some(by), &config(), group, now())
                        .expect("both");
                let trend = trend.expect("a series when a grain is asked");
                let alone = Trend::load(&crm, q1, by, &config(), group, now()).expect("trend");
                assert_eq!(trend, alone, "{kind} {group:?} {by:?}");
                assert_eq!(overview.dashboard, trend.total, "{kind} {group:?}");
                assert_eq!(
                    overview,
                    load_overview(&crm, q1, &config(), group, now()).expect("overview"),
                    "{kind} {group:?}"
                );
            }
            let (_, none) = load_overview_with_trend(&crm, q1, None, &config(), group, now())
                .expect("overview");
            assert!(none.is_none(), "{kind}: no grain, no series");
        }
    }
}

fn person() -> impl Strategy<Value = (bool, Vec<(u32, i64)>)> {
    (
        any::<bool>(),
        prop::collection::vec((0_u32..180, 1_i64..100_000), 0..5),
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// Whoever the segment holds, its series equals the series of books holding only
    /// its members.
    #[test]
    fn any_segments_series_equals_the_series_of_its_own_books(
        people in prop::collection::vec(person(), 1..8)
    ) {
        let names = ["王芳", "李雷", "韩梅梅", "张伟", "刘洋", "陈静", "杨帆", "赵敏"];
        let stories: Vec<Person> = people
            .iter()
            .zip(names)
            .map(|((vip, purchases), name)| Person {
                name,
                vip: *vip,
                purchases: purchases
                    .iter()
                    .map(|&(d, fen)| {
                        let at = noon(day(2025, 1, 1) + chrono::Days::new(u64::from(d)));
                        (at, Money::from_minor(fen, Currency::CNY))
                    })
                    .collect(),
                nps: None,
            })
            .collect();
        // VIPs first, so both books give them the same ids.
        let (vips, others): (Vec<Person>, Vec<Person>) = stories.into_iter().partition(|p| p.vip);
        let count = vips.len();
        let full = Crm::new(MemoryStore::new(Currency::CNY));
        full.write(|w| w.set_time_zone(zone())).expect("zone");
        let only = Crm::new(MemoryStore::new(Currency::CNY));
        only.write(|w| w.set_time_zone(zone())).expect("zone");
        record(&only, &vips);
        let mut all = vips;
        all.extend(others);
        record(&full, &all);
        let segment = CustomerGroup::Segment(Label::parse(SEGMENT).expect("name"));
        let months = range(day(2025, 2, 10), day(2025, 6, 20));
        let narrowed = Trend::load(&full, months, Grain::Month, &config(), Some(&segment), now())
            .expect("trend");
        let alone = Trend::load(&only, months, Grain::Month, &config(), None, now()).expect("trend");
        prop_assert_eq!(narrowed.members, Some(count));
        prop_assert_eq!(&narrowed.periods, &alone.periods);
        prop_assert_eq!(&narrowed.total, &alone.total);
    }
}
