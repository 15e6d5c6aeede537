//! Tests across the metrics: worked examples, edge cases and properties.

use std::collections::BTreeMap;

use chrono::{Duration, NaiveDate, TimeZone, Utc};
use proptest::prelude::*;
use rust_decimal::Decimal;

use super::ReportCustomer;
use super::period::epoch_day;
use super::*;
use crate::customer::{Customer, CustomerData, NewCustomer};
use crate::deal::{Deal, DealStage, NewDeal};
use crate::ids::{CustomerId, DealId, PurchaseId, RefundId, RequestId, SurveyId};
use crate::lifecycle::LifecycleStage;
use crate::money::{Currency, Money};
use crate::policy::LifecyclePolicy;
use crate::purchase::{NewPurchase, NewRefund, Purchase, PurchaseLog, Refund};
use crate::segment::PurchaseSummary;
use crate::service::{NewServiceRequest, RequestKind, ServiceRequest};
use crate::survey::{NewSurveyResponse, SurveyKind, SurveyResponse, SurveyScore};
use crate::text::{FreeText, Label, PersonName, Tag};
use crate::zone::BusinessZone;

const EUR: Currency = Currency::EUR;

fn eur(units: i64) -> Money {
    Money::from_minor(units * 100, EUR)
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn ts(y: i32, m: u32, d: u32) -> i64 {
    Utc.with_ymd_and_hms(y, m, d, 12, 0, 0).unwrap().timestamp()
}

/// Midnight UTC at the start of `day`.
fn midnight(day: NaiveDate) -> chrono::DateTime<Utc> {
    day.and_hms_opt(0, 0, 0).unwrap().and_utc()
}

fn pct(p: i64) -> Decimal {
    Decimal::from(p)
}

// ----- satisfaction -----

#[test]
fn csat_and_nps_edge_cases() {
    assert!(matches!(
        csat_from_scores(&[], 4),
        Err(MetricError::EmptyPopulation { metric: "csat", .. })
    ));
    assert_eq!(csat_from_scores(&[5], 4).unwrap().percent(), pct(100));
    assert_eq!(csat_from_scores(&[1, 2, 3], 4).unwrap().percent(), pct(0));
    assert!(matches!(
        csat_from_scores(&[6], 4),
        Err(MetricError::InvalidInput { .. })
    ));
    assert!(matches!(
        csat_from_scores(&[3], 0),
        Err(MetricError::InvalidInput { .. })
    ));

    assert!(matches!(
        nps_from_scores(&[]),
        Err(MetricError::EmptyPopulation { .. })
    ));
    assert_eq!(nps_from_scores(&[10; 7]).unwrap().score, pct(100));
    assert_eq!(nps_from_scores(&[0, 6]).unwrap().score, pct(-100));
    assert_eq!(nps_from_scores(&[8]).unwrap().score, pct(0));
    // One promoter, two passives: 100 / 3, exact to 28 digits, not rounded.
    let third = nps_from_scores(&[9, 7, 8]).unwrap();
    assert_eq!(third.score.round_dp(2), Decimal::new(3333, 2));
    assert!(matches!(
        nps_from_scores(&[11]),
        Err(MetricError::InvalidInput { .. })
    ));
    assert_eq!(
        nps_from_scores(&[10, 9]).unwrap().promoter_share().unwrap(),
        Ratio::ONE
    );
}

#[test]
fn survey_kinds_do_not_mix() {
    let at = Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).unwrap();
    let answer = |id, kind, v| {
        SurveyResponse::new(
            SurveyId::new(id),
            NewSurveyResponse {
                customer: CustomerId::new(1),
                at,
                score: SurveyScore::new(kind, v).unwrap(),
                comment: None,
            },
        )
    };
    let rs = [
        answer(1, SurveyKind::Csat, 5),
        answer(2, SurveyKind::Nps, 3),
        answer(3, SurveyKind::Ces, 7),
    ];
    assert_eq!(csat(&rs, 4).unwrap().respondents, 1);
    assert_eq!(nps(&rs).unwrap().score, pct(-100));
}

// ----- retention -----

#[test]
fn churn_and_crr_edge_cases() {
    assert!(matches!(
        churn_rate(0, 0),
        Err(MetricError::EmptyPopulation { .. })
    ));
    assert!(matches!(
        churn_rate(1, 2),
        Err(MetricError::InconsistentCounts { .. })
    ));
    let one = churn_rate(1, 1).unwrap();
    assert_eq!(
        (one.churn_rate, one.retention_rate),
        (Ratio::ONE, Ratio::ZERO)
    );
    assert!(matches!(
        customer_retention_rate(0, 5, 5),
        Err(MetricError::EmptyPopulation { .. })
    ));
    assert!(matches!(
        customer_retention_rate(10, 5, 6),
        Err(MetricError::InconsistentCounts { .. })
    ));
    assert!(matches!(
        customer_retention_rate(10, 30, 5),
        Err(MetricError::InconsistentCounts { .. })
    ));
    assert_eq!(customer_retention_rate(10, 12, 2).unwrap(), Ratio::ONE);
}

#[test]
fn the_customer_base_follows_the_policy_churn_horizon() {
    // Horizon 365: active as long as at most 365 days passed since the last purchase.
    let mut log = PurchaseLog::with_customers(EUR, (1..=4).map(CustomerId::new).collect());
    log.push(0, ts(2025, 2, 28), 100); // day before March 2026 is 365 days later: in
    log.push(1, ts(2025, 2, 27), 100); // 366 days: out at the start
    log.push(1, ts(2026, 3, 5), 100); // ... and back in March: returned
    log.push(2, ts(2026, 4, 2), 100); // after the period: not seen
    let base = customer_base(
        &log,
        Period::month(2026, 3).unwrap(),
        &LifecyclePolicy::default(),
    )
    .unwrap();
    assert_eq!(
        base,
        CustomerBase {
            at_start: 1,
            at_end: 1,
            retained: 0,
            lost: 1,
            acquired: 0,
            returned: 1,
        }
    );
    assert_eq!(base.crr().unwrap(), Ratio::ZERO);
}

// ----- value -----

#[test]
fn the_source_cost_benefit_example() {
    let cb = roi(eur(100_000), eur(500_000)).unwrap();
    assert_eq!(cb.net_benefit, eur(400_000));
    assert_eq!(cb.roi, Decimal::from(4));
    assert_eq!(cb.roi_percent(), pct(400));
}

#[test]
fn value_edge_cases_are_errors_not_infinities() {
    assert!(matches!(
        roi(eur(0), eur(5)),
        Err(MetricError::ZeroCost { metric: "roi" })
    ));
    assert!(matches!(
        roi(eur(-1), eur(5)),
        Err(MetricError::InvalidInput { .. })
    ));
    assert_eq!(roi(eur(100), eur(0)).unwrap().roi_percent(), pct(-100));
    assert!(matches!(
        roi(eur(1), Money::from_minor(1, Currency::USD)),
        Err(MetricError::CurrencyMismatch { .. })
    ));
    assert!(matches!(
        cac(eur(100), 0),
        Err(MetricError::EmptyPopulation { .. })
    ));
    assert_eq!(cac(eur(0), 3).unwrap().cac, Money::zero(EUR));
    assert!(matches!(
        ltv_to_cac(eur(10), eur(0)),
        Err(MetricError::ZeroCost { .. })
    ));
    let one = Ratio::ONE;
    assert!(matches!(
        retention_clv(eur(100), one, Decimal::ZERO),
        Err(MetricError::ZeroDenominator { .. })
    ));
    // r = 1 with discounting: m / d.
    assert_eq!(
        retention_clv(eur(100), one, Decimal::new(1, 1)).unwrap(),
        eur(1_000)
    );
    // r = 0: nothing after today.
    assert_eq!(
        retention_clv(eur(100), Ratio::ZERO, Decimal::new(1, 1)).unwrap(),
        eur(0)
    );
    assert!(matches!(
        retention_clv(eur(100), one, Decimal::new(-1, 1)),
        Err(MetricError::InvalidInput { .. })
    ));
    assert!(matches!(
        average_clv(eur(50), Decimal::ONE, Decimal::new(11, 1), Decimal::ONE),
        Err(MetricError::InvalidInput { .. })
    ));
    // A negative margin gives a negative CLV rather than an error.
    assert_eq!(
        average_clv(eur(50), Decimal::TWO, Decimal::new(-1, 1), Decimal::ONE).unwrap(),
        eur(-10)
    );
}

#[test]
fn historical_clv_nets_refunds_and_flags_missing_costs() {
    let at = Utc.with_ymd_and_hms(2026, 1, 5, 10, 0, 0).unwrap();
    let mut a = NewPurchase::new(CustomerId::new(1), at, eur(100));
    a.cost = Some(eur(60));
    let b = NewPurchase::new(CustomerId::new(1), at, eur(50));
    let late = NewPurchase::new(CustomerId::new(2), at + Duration::days(60), eur(999));
    let ps = [
        Purchase::new(PurchaseId::new(1), a),
        Purchase::new(PurchaseId::new(2), b),
        Purchase::new(PurchaseId::new(3), late),
    ];
    let refund = Refund::new(
        RefundId::new(1),
        CustomerId::new(1),
        NewRefund {
            purchase: PurchaseId::new(2),
            at: at + Duration::days(1),
            amount: eur(20),
            reason: None,
        },
    );
    let h = historical_clv(&ps, &[refund], date(2026, 1, 31), BusinessZone::UTC).unwrap();
    assert_eq!(
        (h.customers, h.purchases, h.purchases_without_cost),
        (1, 2, 1)
    );
    assert_eq!(h.revenue, eur(150));
    assert_eq!(h.margin, eur(70)); // 150 − 60 − 20
    assert_eq!(h.average, eur(70));
    assert!(matches!(
        historical_clv(&[], &[], date(2026, 1, 31), BusinessZone::UTC),
        Err(MetricError::EmptyPopulation { .. })
    ));
}

// ----- RFM -----

#[test]
fn rfm_of_nothing_and_of_one_customer() {
    let log = PurchaseLog::with_customers(EUR, vec![CustomerId::new(1)]);
    assert!(
        rfm(&log, date(2026, 1, 1), TieRule::Shared)
            .unwrap()
            .is_empty()
    );
    let mut log = log;
    log.push(0, ts(2026, 1, 1), 500);
    let t = rfm(&log, date(2026, 1, 1), TieRule::Shared).unwrap();
    // Quintiles rank customers against each other: one customer is the whole first fifth.
    assert_eq!(t.row(0).unwrap().score.to_string(), "111");
    assert_eq!(t.row(0).unwrap().recency_days, 0);
    // A purchase after as_of is not seen.
    assert!(
        rfm(&log, date(2025, 12, 31), TieRule::Shared)
            .unwrap()
            .is_empty()
    );
}

#[test]
fn tie_rules_differ_exactly_as_documented() {
    // Ten customers; frequencies 1,1,1,1,1,1,2,2,3,4 (ids ascending).
    let mut log = PurchaseLog::with_customers(EUR, (1..=10).map(CustomerId::new).collect());
    let freq = [1, 1, 1, 1, 1, 1, 2, 2, 3, 4];
    for (c, &f) in freq.iter().enumerate() {
        for k in 0..f {
            log.push(c as u32, ts(2026, 1, 1 + k), 100);
        }
    }
    let f_scores = |tie| {
        let t = rfm(&log, date(2026, 2, 1), tie).unwrap();
        t.scores().iter().map(|s| s.f()).collect::<Vec<_>>()
    };
    // Ordinal: ranks 1..10, two per bucket, ties broken by id.
    assert_eq!(
        f_scores(TieRule::Ordinal),
        vec![1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    );
    // Shared: the six once-buyers share rank 1, the two twice-buyers rank 7.
    assert_eq!(
        f_scores(TieRule::Shared),
        vec![1, 1, 1, 1, 1, 1, 4, 4, 5, 5]
    );
}

#[test]
fn rfm_skips_outliers_and_refuses_malformed_logs() {
    // An amount beyond the storage bound (from a file written before the bound) is
    // skipped and counted, not an error that breaks RFM for good.
    let mut log = PurchaseLog::with_customers(EUR, vec![CustomerId::new(1), CustomerId::new(2)]);
    log.push(0, ts(2026, 1, 1), i64::MAX);
    log.push(0, ts(2026, 1, 2), 1);
    // Customer 2 spends 2^63 minor units in 100,000 purchases under the bound: left
    // out and counted, not a wrong sum.
    for _ in 0..100_000 {
        log.push(1, ts(2026, 1, 3), EUR.max_stored_minor() - 1);
    }
    let t = rfm(&log, date(2026, 2, 1), TieRule::Shared).unwrap();
    assert_eq!(t.len(), 1);
    assert_eq!(t.monetary_minor(), [1]);
    assert_eq!(t.outliers().amount_too_large, 1);
    assert_eq!(t.outliers().customers_too_large, 1);
    let mut bad = PurchaseLog::with_customers(EUR, vec![CustomerId::new(1)]);
    bad.push(3, ts(2026, 1, 1), 1);
    assert!(matches!(
        rfm(&bad, date(2026, 2, 1), TieRule::Shared),
        Err(MetricError::InvalidInput { .. })
    ));
    let mut ragged = PurchaseLog::with_customers(EUR, vec![CustomerId::new(1)]);
    ragged.push(0, ts(2026, 1, 1), 1);
    ragged.amount.pop();
    assert!(rfm(&ragged, date(2026, 2, 1), TieRule::Shared).is_err());
    let no_currency = PurchaseLog::default();
    assert!(rfm(&no_currency, date(2026, 2, 1), TieRule::Shared).is_err());
}

#[test]
fn every_score_has_exactly_one_segment_and_every_segment_is_used() {
    let mut seen = std::collections::BTreeSet::new();
    for r in 1..=5 {
        for f in 1..=5 {
            for m in 1..=5 {
                seen.insert(RfmScore::new(r, f, m).unwrap().segment());
            }
        }
    }
    assert_eq!(seen.len(), RfmSegment::ALL.len());
    assert_eq!(RfmSegment::CantLoseThem.label(), "Can't lose them");
    let s = RfmScore::new(3, 3, 3).unwrap();
    assert_eq!(serde_json::to_string(&s).unwrap(), "333");
    assert!(serde_json::from_str::<RfmScore>("363").is_err());
}

// ----- cohorts -----

#[test]
fn weekly_cohorts_start_on_monday() {
    let mut log = PurchaseLog::with_customers(EUR, (1..=2).map(CustomerId::new).collect());
    log.push(0, ts(2026, 3, 1), 100); // Sunday: the week of Monday 2026-02-23
    log.push(1, ts(2026, 3, 2), 100); // Monday
    log.push(0, ts(2026, 3, 8), 100); // Sunday: one week later
    let m = cohort_matrix(&log, CohortGrain::Week, date(2026, 3, 8)).unwrap();
    assert_eq!(m.rows.len(), 2);
    assert_eq!(m.rows[0].start, date(2026, 2, 23));
    assert_eq!(m.rows[0].customers, vec![1, 1]);
    assert_eq!(m.rows[1].start, date(2026, 3, 2));
    assert_eq!(m.rows[1].customers, vec![1]);
    let empty = PurchaseLog::with_customers(EUR, vec![CustomerId::new(1)]);
    assert!(
        cohort_matrix(&empty, CohortGrain::Month, date(2026, 1, 1))
            .unwrap()
            .rows
            .is_empty()
    );
}

/// A purchase dated 0205-03-01 (a typo) broke `cohort` and `report` for good: it is
/// now an outlier, counted and skipped.
#[test]
fn a_purchase_dated_in_year_205_is_an_outlier_not_a_failure() {
    let mut log = PurchaseLog::with_customers(EUR, (1..=2).map(CustomerId::new).collect());
    log.push(0, ts(205, 3, 1), 2_000);
    log.push(0, ts(2026, 1, 3), 500);
    log.push(1, ts(2026, 1, 4), 700);
    let m = cohort_matrix(&log, CohortGrain::Month, date(2026, 2, 1)).unwrap();
    assert_eq!(m.rows.len(), 2); // January and February 2026
    assert_eq!(m.rows[0].size, 2);
    assert_eq!(m.outliers.dated_before_earliest, 1);
    assert_eq!(m.acquired_earlier, 0);
    let t = rfm(&log, date(2026, 2, 1), TieRule::Shared).unwrap();
    assert_eq!(t.outliers().dated_before_earliest, 1);
    assert_eq!(t.monetary_minor(), [500, 700]);
    let report = MetricsReport::compute(
        &ReportData {
            log,
            ..ReportData::default()
        },
        Period::month(2026, 1).unwrap(),
        &ReportConfig::default(),
    )
    .unwrap();
    assert_eq!(report.outliers.dated_before_earliest, 1);
    assert_eq!(report.purchases.stats.orders, 2);
}

/// The matrix never spans more than MAX_COHORT_PERIODS periods, whatever the dates:
/// customers acquired before its first row are counted, not given rows.
#[test]
fn the_cohort_matrix_is_bounded_to_the_periods_before_as_of() {
    let mut log = PurchaseLog::with_customers(EUR, (1..=2).map(CustomerId::new).collect());
    log.push(0, ts(1900, 1, 1), 100);
    log.push(1, ts(2150, 6, 1), 100);
    log.push(0, ts(2150, 6, 2), 100); // an earlier customer's later purchase: not counted
    for (grain, as_of) in [
        (CohortGrain::Month, date(2199, 12, 31)),
        (CohortGrain::Week, date(2150, 12, 31)),
        (CohortGrain::Month, NaiveDate::MAX),
    ] {
        let m = cohort_matrix(&log, grain, as_of).unwrap();
        assert_eq!(m.rows.len(), MAX_COHORT_PERIODS, "{grain:?} {as_of}");
        let in_rows: u64 = m.rows.iter().map(|r| r.size).sum();
        assert_eq!(in_rows + m.acquired_earlier, 2, "{grain:?} {as_of}");
    }
    let m = cohort_matrix(&log, CohortGrain::Month, date(2199, 12, 31)).unwrap();
    assert_eq!(m.acquired_earlier, 1);
    let june = m.rows.iter().find(|r| r.start == date(2150, 6, 1)).unwrap();
    assert_eq!((june.size, june.customers[0]), (1, 1));
    assert_eq!(june.revenue[0], Money::from_minor(100, EUR));
    // Far before every purchase: nothing to show.
    assert!(
        cohort_matrix(&log, CohortGrain::Week, NaiveDate::MIN)
            .unwrap()
            .rows
            .is_empty()
    );
}

// ----- service -----

#[test]
fn percentiles_of_one_and_of_two() {
    let one = duration_stats(&mut [7], "t").unwrap();
    assert_eq!((one.median_seconds, one.p90_seconds), (Decimal::from(7), 7));
    let two = duration_stats(&mut [3, 4], "t").unwrap();
    assert_eq!(
        (two.median_seconds, two.p90_seconds),
        (Decimal::new(35, 1), 4)
    );
}

// ----- the report -----

fn customer(id: u64, stage: LifecycleStage, created: (i32, u32, u32)) -> Customer {
    let (y, m, d) = created;
    Customer::create(
        CustomerId::new(id),
        NewCustomer::new(
            CustomerData::new(PersonName::parse("someone").unwrap()),
            Utc.with_ymd_and_hms(y, m, d, 9, 0, 0).unwrap(),
        )
        .at_stage(stage),
    )
}

fn scenario() -> ReportData {
    let mut c1 = customer(1, LifecycleStage::Active, (2025, 6, 1));
    let mut d = c1.data().clone();
    d.acquisition_channel = Some(Tag::parse("referral").unwrap());
    d.acquisition_cost = Some(eur(50));
    c1.set_data(d);
    let mut c2 = customer(2, LifecycleStage::New, (2026, 3, 3));
    let mut d = c2.data().clone();
    d.acquisition_channel = Some(Tag::parse("ads").unwrap());
    d.acquisition_cost = Some(eur(150));
    c2.set_data(d);
    let c3 = customer(3, LifecycleStage::Active, (2025, 1, 1));
    let customers = [c1, c2, c3];

    let mut log = PurchaseLog::with_customers(EUR, (1..=3).map(CustomerId::new).collect());
    let mut purchases = Vec::new();
    let mut add = |c: u32, (y, m, d): (i32, u32, u32), units: i64, cost: i64| {
        log.push(c, ts(y, m, d), units * 100);
        let mut p = NewPurchase::new(
            CustomerId::new(u64::from(c) + 1),
            Utc.timestamp_opt(ts(y, m, d), 0).unwrap(),
            eur(units),
        );
        p.cost = Some(eur(cost));
        purchases.push(Purchase::new(
            PurchaseId::new(purchases.len() as u64 + 1),
            p,
        ));
    };
    add(0, (2025, 6, 1), 100, 40);
    add(0, (2025, 9, 1), 100, 40);
    add(0, (2026, 3, 2), 80, 30);
    add(0, (2026, 3, 20), 120, 50);
    add(1, (2026, 3, 10), 200, 100);
    add(2, (2025, 3, 15), 60, 30); // silent since: lost in March 2026
    let survey = |id, c, kind, v, day| {
        SurveyResponse::new(
            SurveyId::new(id),
            NewSurveyResponse {
                customer: CustomerId::new(c),
                at: Utc.with_ymd_and_hms(2026, 3, day, 9, 0, 0).unwrap(),
                score: SurveyScore::new(kind, v).unwrap(),
                comment: None,
            },
        )
    };
    let surveys = vec![
        survey(1, 1, SurveyKind::Nps, 10, 5),
        survey(2, 2, SurveyKind::Nps, 5, 12),
        survey(3, 1, SurveyKind::Csat, 5, 5),
        survey(4, 2, SurveyKind::Csat, 2, 12),
    ];
    let mut deal = Deal::create(
        DealId::new(1),
        NewDeal::new(
            CustomerId::new(2),
            Label::parse("website").unwrap(),
            eur(2_000),
            Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).unwrap(),
        ),
    );
    deal.move_to(
        DealStage::Won,
        Utc.with_ymd_and_hms(2026, 3, 9, 9, 0, 0).unwrap(),
    )
    .unwrap();
    let open = Deal::create(
        DealId::new(2),
        NewDeal::new(
            CustomerId::new(1),
            Label::parse("redesign").unwrap(),
            eur(1_000),
            Utc.with_ymd_and_hms(2026, 3, 15, 9, 0, 0).unwrap(),
        ),
    );
    let complaint = ServiceRequest::open(
        RequestId::new(1),
        NewServiceRequest {
            customer: CustomerId::new(2),
            kind: RequestKind::Complaint,
            subject: Label::parse("late").unwrap(),
            description: FreeText::empty(),
            opened_at: Utc.with_ymd_and_hms(2026, 3, 25, 9, 0, 0).unwrap(),
            deal: None,
        },
    );
    ReportData {
        customers: customers.iter().map(ReportCustomer::of).collect(),
        log,
        purchases: crate::metrics::ReportPurchases::from_purchases(EUR, &purchases),
        surveys,
        deals: vec![deal, open],
        requests: vec![complaint],
        ..ReportData::default()
    }
}

#[test]
fn a_report_for_a_small_business() {
    let data = scenario();
    let march = Period::month(2026, 3).unwrap();
    let r = MetricsReport::compute(&data, march, &ReportConfig::default()).unwrap();
    assert_eq!(r.as_of, date(2026, 3, 31));
    // Satisfaction: one promoter, one detractor; CSAT one of two.
    assert_eq!(r.satisfaction.nps.value().unwrap().score, pct(0));
    assert_eq!(r.satisfaction.csat.value().unwrap().percent(), pct(50));
    // Base: customers 1 and 3 at the start; 3 lost (silent > 365 days on March 31st);
    // 2 acquired.
    let b = r.retention.base;
    assert_eq!((b.at_start, b.lost, b.acquired, b.at_end), (2, 1, 1, 2));
    assert_eq!(
        r.retention.churn.value().unwrap().churn_rate.percent(),
        pct(50)
    );
    // Purchases in March: 3 orders by 2 buyers, 400 EUR; customer 1 bought twice.
    let s = r.purchases.stats;
    assert_eq!((s.orders, s.buyers, s.repeat_buyers), (3, 2, 1));
    assert_eq!(
        r.purchases.average_order_value.value(),
        Some(&Money::new(Decimal::new(13333, 2), EUR))
    );
    // Engagement: no interactions; loyalty (0.5 + 0 + 0.5) / 3.
    let l = r.loyalty.value().unwrap();
    assert_eq!(l.engagement_rate, Ratio::ZERO);
    assert_eq!(l.index.value().round_dp(4), Decimal::new(3333, 4));
    // CAC: 150 EUR booked on customer 2 (created in March), one customer won.
    assert_eq!(r.value.cac.overall.value().unwrap().cac, eur(150));
    // LTV to CAC: (400 + 200) / (50 + 150) = 3.
    assert_eq!(r.value.ltv_to_cac.value(), Some(&Decimal::from(3)));
    // Historical CLV: margin 240 + 100 + 30 over 3 buyers.
    let h = r.value.historical_clv.value().unwrap();
    assert_eq!(
        (h.margin, h.average),
        (eur(370), Money::new(Decimal::new(12333, 2), EUR))
    );
    // Pipeline: one won of one closed, cycle 8 days, one open deal at need identified.
    let p = &r.pipeline;
    assert_eq!(p.win_rate.value().unwrap().rate, Ratio::ONE);
    assert_eq!(p.cycle_time.value().unwrap().average_days, Decimal::from(8));
    assert_eq!(p.pipeline.weighted, eur(100));
    // 1,000 × 1 / 8 days = 125 EUR a day.
    assert_eq!(p.sales_velocity.value(), Some(&eur(125)));
    assert_eq!(r.service.open_complaints, 1);
    // Early warning: customer 2 (detractor, unsatisfied, open complaint) is listed.
    let w: Vec<_> = r.early_warning.iter().map(|w| w.customer.get()).collect();
    assert_eq!(w, vec![2]);
    assert_eq!(r.early_warning[0].score, 40);
    // RFM covers the three buyers.
    assert_eq!(r.rfm.table.as_ref().unwrap().len(), 3);
    assert_eq!(r.cohorts.rows.len(), 13); // March 2025 to March 2026
    // And it round-trips through JSON.
    let json = serde_json::to_string(&r).unwrap();
    let back: MetricsReport = serde_json::from_str(&json).unwrap();
    assert_eq!(back, r);
}

#[test]
fn a_report_of_an_empty_store_has_reasons_not_numbers() {
    let data = ReportData {
        log: PurchaseLog::with_customers(EUR, vec![]),
        ..ReportData::default()
    };
    let r = MetricsReport::compute(
        &data,
        Period::month(2026, 3).unwrap(),
        &ReportConfig::default(),
    )
    .unwrap();
    assert!(!r.retention.churn.is_defined());
    assert!(!r.purchases.average_order_value.is_defined());
    assert!(!r.loyalty.is_defined());
    assert!(!r.value.ltv_to_cac.is_defined());
    assert!(r.early_warning.is_empty());
    assert_eq!(r.pipeline.pipeline.weighted, Money::zero(EUR));
}

// ----- properties -----

/// A random log: up to `customers` customers with sparse ascending ids, rows within
/// ±400 days of 2026-01-01.
fn any_log(customers: usize, rows: usize, max_amount: i64) -> impl Strategy<Value = PurchaseLog> {
    (
        prop::collection::btree_set(1u64..10_000, 1..=customers),
        prop::collection::vec(
            (
                any::<prop::sample::Index>(),
                -400i64..400,
                0..86_400i64,
                0..=max_amount,
            ),
            0..rows,
        ),
    )
        .prop_map(|(ids, rows)| {
            let ids: Vec<CustomerId> = ids.into_iter().map(CustomerId::new).collect();
            let n = ids.len();
            let base = ts(2026, 1, 1) - 12 * 3600;
            let mut log = PurchaseLog::with_customers(EUR, ids);
            for (c, day, sec, amount) in rows {
                log.push(c.index(n) as u32, base + day * 86_400 + sec, amount);
            }
            log
        })
}

fn as_of() -> NaiveDate {
    date(2026, 1, 1)
}

/// The per-customer RFM, written as plainly as possible.
fn naive_rfm(
    log: &PurchaseLog,
    as_of: NaiveDate,
    tie: TieRule,
) -> Vec<(CustomerId, u32, u32, i64, [u8; 3])> {
    let as_of_day = epoch_day(as_of);
    let mut per: BTreeMap<CustomerId, (i64, u32, i64)> = BTreeMap::new();
    for k in 0..log.len() {
        // The business-local date, through chrono-tz.
        let at = chrono::DateTime::from_timestamp(log.at[k], 0).unwrap();
        let day = epoch_day(log.zone.date_of(at));
        if day > as_of_day {
            continue;
        }
        let e = per
            .entry(log.customers[log.customer[k] as usize])
            .or_insert((i64::MIN, 0, 0));
        e.0 = e.0.max(day);
        e.1 += 1;
        e.2 += log.amount[k];
    }
    let rows: Vec<_> = per.into_iter().collect();
    let n = rows.len();
    // Goodness of each measure: larger is better.
    let goodness: [Vec<i128>; 3] = [
        rows.iter().map(|(_, v)| i128::from(v.0)).collect(),
        rows.iter().map(|(_, v)| i128::from(v.1)).collect(),
        rows.iter().map(|(_, v)| i128::from(v.2)).collect(),
    ];
    let score = |g: &[i128], i: usize| -> u8 {
        let rank = match tie {
            // Customers worse, plus equal ones with a smaller id (rows are by id).
            TieRule::Ordinal => {
                (0..n)
                    .filter(|&j| g[j] < g[i] || (g[j] == g[i] && j < i))
                    .count()
                    + 1
            }
            TieRule::Shared => (0..n).filter(|&j| g[j] < g[i]).count() + 1,
        };
        ((rank - 1) * 5 / n + 1) as u8
    };
    rows.iter()
        .enumerate()
        .map(|(i, (id, v))| {
            (
                *id,
                (as_of_day - v.0) as u32,
                v.1,
                v.2,
                [
                    score(&goodness[0], i),
                    score(&goodness[1], i),
                    score(&goodness[2], i),
                ],
            )
        })
        .collect()
}

fn table_rows(t: &RfmTable) -> Vec<(CustomerId, u32, u32, i64, [u8; 3])> {
    t.rows()
        .map(|r| {
            (
                r.customer,
                r.recency_days,
                r.frequency,
                r.monetary.to_minor_units().unwrap(),
                [r.score.r(), r.score.f(), r.score.m()],
            )
        })
        .collect()
}

fn permuted(log: &PurchaseLog, seed: u64) -> PurchaseLog {
    let mut order: Vec<usize> = (0..log.len()).collect();
    // A deterministic shuffle (xorshift), enough to destroy any order.
    let mut x = seed | 1;
    for i in (1..order.len()).rev() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        order.swap(i, (x % (i as u64 + 1)) as usize);
    }
    let mut out = PurchaseLog::with_customers(EUR, log.customers.clone());
    for k in order {
        out.push(log.customer[k], log.at[k], log.amount[k]);
    }
    out
}

fn scaled(log: &PurchaseLog, factor: i64) -> PurchaseLog {
    let mut out = log.clone();
    for a in &mut out.amount {
        *a *= factor;
    }
    out
}

fn sorted_by_time(log: &PurchaseLog) -> PurchaseLog {
    let mut order: Vec<usize> = (0..log.len()).collect();
    order.sort_by_key(|&k| (log.at[k], k));
    let mut out = PurchaseLog::with_customers(EUR, log.customers.clone());
    for k in order {
        out.push(log.customer[k], log.at[k], log.amount[k]);
    }
    out
}

proptest! {
    #[test]
    fn nps_is_between_minus_100_and_100(scores in prop::collection::vec(0u8..=10, 1..200)) {
        let n = nps_from_scores(&scores).unwrap();
        prop_assert!(n.score >= pct(-100) && n.score <= pct(100));
        prop_assert_eq!(n.respondents(), scores.len() as u64);
        let mut rev = scores.clone();
        rev.reverse();
        prop_assert_eq!(nps_from_scores(&rev).unwrap(), n);
    }

    #[test]
    fn csat_is_between_0_and_100(scores in prop::collection::vec(1u8..=5, 1..200), from in 1u8..=5) {
        let c = csat_from_scores(&scores, from).unwrap();
        prop_assert!(c.percent() >= pct(0) && c.percent() <= pct(100));
        let mut rev = scores.clone();
        rev.reverse();
        prop_assert_eq!(csat_from_scores(&rev, from).unwrap(), c);
    }

    #[test]
    fn churn_and_retention_add_up_to_100_percent(start in 1u64..1_000_000, lost_share in 0u64..=1000) {
        let lost = start * lost_share / 1000;
        let c = churn_rate(start, lost).unwrap();
        prop_assert_eq!(c.churn_rate.value() + c.retention_rate.value(), Decimal::ONE);
        prop_assert_eq!(c.churn_rate.percent() + c.retention_rate.percent(), pct(100));
    }

    #[test]
    fn the_customer_base_adds_up_and_crr_equals_retention(log in any_log(30, 300, 10_000), month in 1u32..=12) {
        let period = Period::month(2025, month).unwrap();
        let b = customer_base(&log, period, &LifecyclePolicy::default()).unwrap();
        prop_assert_eq!(b.at_end, b.retained + b.acquired + b.returned);
        prop_assert_eq!(b.at_start, b.retained + b.lost);
        if let Ok(c) = b.churn() {
            prop_assert_eq!(c.churn_rate.value() + c.retention_rate.value(), Decimal::ONE);
            prop_assert_eq!(b.crr().unwrap(), c.retention_rate);
        }
        prop_assert_eq!(customer_base(&permuted(&log, 7), period, &LifecyclePolicy::default()).unwrap(), b);
    }

    #[test]
    fn columnar_rfm_agrees_with_the_naive_version(log in any_log(40, 400, 1_000_000), ordinal in any::<bool>()) {
        let tie = if ordinal { TieRule::Ordinal } else { TieRule::Shared };
        let t = rfm(&log, as_of(), tie).unwrap();
        prop_assert_eq!(table_rows(&t), naive_rfm(&log, as_of(), tie));
    }

    #[test]
    fn rfm_agrees_with_the_naive_version_on_huge_amounts(log in any_log(20, 60, 9_999_999_999_999_999), ordinal in any::<bool>()) {
        // Spans near 2^59 force the pair-sort fallback of the ranker. Amounts this
        // large (up to 10^16 minor units) are storable only in a currency with four
        // minor-unit digits.
        let mut log = log;
        log.currency = Some(Currency::parse("CLF").unwrap());
        let tie = if ordinal { TieRule::Ordinal } else { TieRule::Shared };
        let t = rfm(&log, as_of(), tie).unwrap();
        prop_assert_eq!(table_rows(&t), naive_rfm(&log, as_of(), tie));
    }

    #[test]
    fn rfm_scores_are_1_to_5_and_buckets_are_as_even_as_the_tie_rule_allows(log in any_log(60, 400, 5_000)) {
        let ord = rfm(&log, as_of(), TieRule::Ordinal).unwrap();
        let shr = rfm(&log, as_of(), TieRule::Shared).unwrap();
        let n = ord.len();
        for (measure, values) in [
            (0usize, ord.recency_days().iter().map(|&d| -i64::from(d)).collect::<Vec<_>>()),
            (1, ord.frequency().iter().map(|&f| i64::from(f)).collect()),
            (2, ord.monetary_minor().to_vec()),
        ] {
            let pick = |s: &RfmScore| [s.r(), s.f(), s.m()][measure];
            let o: Vec<u8> = ord.scores().iter().map(pick).collect();
            let s: Vec<u8> = shr.scores().iter().map(pick).collect();
            prop_assert!(o.iter().chain(&s).all(|x| (1..=5).contains(x)));
            let sizes = |v: &[u8]| (1..=5u8).map(|k| v.iter().filter(|&&x| x == k).count() as i64).collect::<Vec<_>>();
            let (so, ss) = (sizes(&o), sizes(&s));
            // Ordinal: bucket sizes differ by at most one.
            prop_assert!(so.iter().max().unwrap_or(&0) - so.iter().min().unwrap_or(&0) <= 1);
            // Shared: each bucket differs from the ordinal one by less than the largest tie group.
            let mut groups: BTreeMap<i64, i64> = BTreeMap::new();
            for v in &values { *groups.entry(*v).or_default() += 1; }
            let g = groups.values().max().copied().unwrap_or(1);
            for k in 0..5 { prop_assert!((so[k] - ss[k]).abs() < g); }
            // Shared: equal values share a score; better values never score lower.
            for i in 0..n {
                for j in 0..n {
                    if values[i] == values[j] { prop_assert_eq!(s[i], s[j]); }
                    if values[i] < values[j] { prop_assert!(s[i] <= s[j] && o[i] <= o[j]); }
                }
                prop_assert!(s[i] <= o[i]);
            }
        }
    }

    #[test]
    fn rates_do_not_move_when_rows_are_permuted_or_money_is_scaled(log in any_log(30, 300, 100_000), factor in 1i64..1000, seed in any::<u64>()) {
        let year = Period::year(2025).unwrap();
        let shuffled = permuted(&log, seed);
        let big = scaled(&log, factor);
        let s = purchase_stats(&log, year).unwrap();
        for other in [&shuffled, &big] {
            let o = purchase_stats(other, year).unwrap();
            prop_assert_eq!(o.repeat_purchase_rate(), s.repeat_purchase_rate());
            prop_assert_eq!(o.purchase_frequency(), s.purchase_frequency());
        }
        prop_assert_eq!(purchase_stats(&shuffled, year).unwrap(), s);
        for tie in [TieRule::Shared, TieRule::Ordinal] {
            let t = rfm(&log, as_of(), tie).unwrap();
            prop_assert_eq!(&rfm(&shuffled, as_of(), tie).unwrap(), &t);
            let b = rfm(&big, as_of(), tie).unwrap();
            prop_assert_eq!(b.scores(), t.scores());
        }
        let m = cohort_matrix(&log, CohortGrain::Month, as_of()).unwrap();
        prop_assert_eq!(&cohort_matrix(&shuffled, CohortGrain::Month, as_of()).unwrap(), &m);
        let mb = cohort_matrix(&big, CohortGrain::Month, as_of()).unwrap();
        for (a, b) in m.rows.iter().zip(&mb.rows) {
            prop_assert_eq!(&a.customers, &b.customers);
            for j in 0..a.customers.len() { prop_assert_eq!(a.retention(j), b.retention(j)); }
        }
    }

    #[test]
    fn money_ratios_do_not_move_when_money_is_scaled(cost in 1i64..1_000_000_000, gain in 0i64..1_000_000_000, factor in 1i64..10_000) {
        let m = |x: i64| Money::from_minor(x, EUR);
        prop_assert_eq!(roi(m(cost), m(gain)).unwrap().roi, roi(m(cost * factor), m(gain * factor)).unwrap().roi);
        prop_assert_eq!(ltv_to_cac(m(gain), m(cost)).unwrap(), ltv_to_cac(m(gain * factor), m(cost * factor)).unwrap());
    }

    #[test]
    fn cohort_cells_never_exceed_the_cohort_and_revenue_is_conserved(log in any_log(40, 400, 10_000), weekly in any::<bool>()) {
        let grain = if weekly { CohortGrain::Week } else { CohortGrain::Month };
        let m = cohort_matrix(&log, grain, as_of()).unwrap();
        let sorted = cohort_matrix(&sorted_by_time(&log), grain, as_of()).unwrap();
        prop_assert_eq!(&m, &sorted);
        let end = midnight(date(2026, 1, 2)).timestamp();
        let buyers: std::collections::BTreeSet<u32> = (0..log.len()).filter(|&k| log.at[k] < end).map(|k| log.customer[k]).collect();
        let total: i64 = (0..log.len()).filter(|&k| log.at[k] < end).map(|k| log.amount[k]).sum();
        prop_assert_eq!(m.rows.iter().map(|r| r.size).sum::<u64>(), buyers.len() as u64);
        let mut revenue = Money::zero(EUR);
        for (i, r) in m.rows.iter().enumerate() {
            prop_assert_eq!(r.customers.len(), m.rows.len() - i);
            prop_assert_eq!(r.customers[0], r.size);
            prop_assert!(r.customers.iter().all(|&c| c <= r.size));
            for x in &r.revenue { revenue = revenue.checked_add(*x).unwrap(); }
        }
        prop_assert_eq!(revenue.to_minor_units().unwrap(), total);
    }
}

proptest! {
    /// The early warning agrees with the lifecycle policy: everyone the policy puts at
    /// risk is listed as overdue, nobody it calls churned is listed, and the list is
    /// ranked.
    #[test]
    fn the_early_warning_is_consistent_with_the_lifecycle_policy(
        days in prop::collection::vec(prop::collection::vec(0i64..500, 0..8), 1..12),
    ) {
        let as_of = date(2026, 6, 1);
        let policy = LifecyclePolicy::default();
        let customers: Vec<Customer> = (1..=days.len() as u64)
            .map(|id| customer(id, LifecycleStage::Active, (2024, 1, 1)))
            .collect();
        let mut log = PurchaseLog::with_customers(EUR, customers.iter().map(Customer::id).collect());
        for (c, ds) in days.iter().enumerate() {
            for d in ds {
                log.push(c as u32, midnight(as_of).timestamp() - d * 86_400 + 3600, 100);
            }
        }
        let activity = Activity { customers: &customers, log: &log, surveys: &[], requests: &[], interactions: &[] };
        let list = churn_warnings(&activity, &policy, &WarningConfig::default(), as_of).unwrap();
        for (c, ds) in days.iter().enumerate() {
            let purchase_days: Vec<NaiveDate> = ds.iter().map(|d| as_of - Duration::days(*d)).collect();
            let b = crate::policy::Behaviour { stage: LifecycleStage::Active, purchase_days: &purchase_days, latest_nps: None, latest_csat: None, churned_on: None };
            let listed = list.iter().find(|w| w.customer == customers[c].id());
            match policy.assess(&b, as_of).map(|a| a.target) {
                Some(LifecycleStage::AtRisk) => {
                    let w = listed.expect("at risk customers are listed");
                    let overdue = matches!(w.factors[0].reason, RiskReason::Overdue { .. });
                    prop_assert!(overdue);
                    prop_assert!(w.score >= 50);
                }
                Some(LifecycleStage::Churned) | None => prop_assert!(listed.is_none()),
                Some(_) => prop_assert!(listed.is_none_or(|w| w.score < 50)),
            }
        }
        for pair in list.windows(2) {
            prop_assert!((pair[0].score, std::cmp::Reverse(pair[0].customer)) >= (pair[1].score, std::cmp::Reverse(pair[1].customer)));
        }
    }
}

/// A survey answer of `customer` on day `day` of March 2026.
fn answer_of(id: u64, customer: u64, kind: SurveyKind, day: u32, score: u8) -> SurveyResponse {
    SurveyResponse::new(
        SurveyId::new(id),
        NewSurveyResponse {
            customer: CustomerId::new(customer),
            at: Utc
                .with_ymd_and_hms(2026, 3, day, 9, 0, 0)
                .single()
                .expect("a day of March"),
            score: SurveyScore::new(kind, i64::from(score)).expect("a valid score"),
            comment: None,
        },
    )
}

proptest! {
    /// Per customer, only each customer's latest answer counts: adding earlier answers
    /// of any score changes nothing, and the figures equal the per-answer ones over
    /// the latest answers alone.
    #[test]
    fn per_customer_satisfaction_counts_each_customer_once(
        latest in proptest::collection::vec((1u8..=5, 0u8..=10), 1..20),
        earlier in proptest::collection::vec((0usize..20, 1u8..=5, 0u8..=10), 0..40),
    ) {
        let mut answers = Vec::new();
        let mut id = 0;
        for (c, (csat_score, nps_score)) in latest.iter().enumerate() {
            id += 1;
            answers.push(answer_of(id, c as u64 + 1, SurveyKind::Csat, 20, *csat_score));
            id += 1;
            answers.push(answer_of(id, c as u64 + 1, SurveyKind::Nps, 20, *nps_score));
        }
        let only_latest = answers.clone();
        for (c, csat_score, nps_score) in earlier {
            let customer = (c % latest.len()) as u64 + 1;
            id += 1;
            answers.push(answer_of(id, customer, SurveyKind::Csat, 3, csat_score));
            id += 1;
            answers.push(answer_of(id, customer, SurveyKind::Nps, 3, nps_score));
        }
        prop_assert_eq!(csat_per_customer(&answers, 4)?, csat(&only_latest, 4)?);
        prop_assert_eq!(nps_per_customer(&answers)?, nps(&only_latest)?);
        prop_assert_eq!(
            csat_per_customer(&answers, 4)?.respondents,
            latest.len() as u64
        );
    }
}

#[test]
fn ces_and_per_customer_figures_in_the_report_follow_their_functions() {
    let answers = vec![
        answer_of(1, 1, SurveyKind::Ces, 2, 2),
        answer_of(2, 1, SurveyKind::Ces, 3, 6),
        answer_of(3, 2, SurveyKind::Ces, 4, 1),
    ];
    let c = ces(&answers).expect("three answers");
    assert_eq!(c.average, Decimal::new(3, 0));
    assert_eq!((c.low_effort, c.respondents), (2, 3));
    // A tie in time goes to the larger survey id.
    let tie = vec![
        answer_of(7, 1, SurveyKind::Csat, 5, 5),
        answer_of(8, 1, SurveyKind::Csat, 5, 1),
    ];
    assert_eq!(
        latest_per_customer(&tie, SurveyKind::Csat)[0].id(),
        SurveyId::new(8)
    );
}

// ----- business time zones (issue 12) -----

fn zone(name: &str) -> BusinessZone {
    BusinessZone::parse(name).unwrap()
}

/// The instant of a business-local date and time.
fn local(z: BusinessZone, y: i32, m: u32, d: u32, h: u32, min: u32) -> i64 {
    z.instant(date(y, m, d).and_hms_opt(h, min, 0).unwrap())
        .timestamp()
}

/// One customer who bought once, at `at`, in a log counting the days of `z`.
fn one_purchase(z: BusinessZone, at: i64) -> PurchaseLog {
    let mut log = PurchaseLog::with_customers(EUR, vec![CustomerId::new(1)]).in_zone(z);
    log.push(0, at, 8_800);
    log
}

#[test]
fn a_beijing_new_year_morning_is_new_years_day_in_every_kernel() {
    let bj = zone("Asia/Shanghai");
    // 07:00 on 2026-01-01 in Beijing is 23:00 UTC on 2025-12-31.
    let at = local(bj, 2026, 1, 1, 7, 0);
    assert_eq!(
        at,
        Utc.with_ymd_and_hms(2025, 12, 31, 23, 0, 0)
            .unwrap()
            .timestamp()
    );
    let beijing = one_purchase(bj, at);
    let utc = one_purchase(BusinessZone::UTC, at);
    let january = Period::month(2026, 1).unwrap();
    let december = Period::month(2025, 12).unwrap();

    // A January report period holds it in Beijing, December's in UTC.
    assert_eq!(purchase_stats(&beijing, january).unwrap().orders, 1);
    assert_eq!(purchase_stats(&beijing, december).unwrap().orders, 0);
    assert_eq!(purchase_stats(&utc, january).unwrap().orders, 0);
    assert_eq!(purchase_stats(&utc, december).unwrap().orders, 1);
    let data = ReportData {
        log: beijing.clone(),
        ..ReportData::default()
    };
    let r = MetricsReport::compute(&data, january, &ReportConfig::default()).unwrap();
    assert_eq!(r.purchases.stats.orders, 1);
    assert_eq!(r.retention.base.acquired, 1);
    assert_eq!(r.period.zone(), bj);
    let r = MetricsReport::compute(&data, december, &ReportConfig::default()).unwrap();
    assert_eq!((r.purchases.stats.orders, r.retention.base.at_end), (0, 0));

    // RFM and cohorts as of New Year's Day count it, as of New Year's Eve not (in
    // Beijing); in UTC it is a New Year's Eve purchase.
    let t = rfm(&beijing, date(2026, 1, 1), TieRule::Shared).unwrap();
    assert_eq!(t.row(0).map(|r| r.recency_days), Some(0));
    assert!(
        rfm(&beijing, date(2025, 12, 31), TieRule::Shared)
            .unwrap()
            .is_empty()
    );
    let t = rfm(&utc, date(2025, 12, 31), TieRule::Shared).unwrap();
    assert_eq!(t.row(0).map(|r| r.recency_days), Some(0));
    assert_eq!(
        rfm(&utc, date(2026, 1, 1), TieRule::Shared)
            .unwrap()
            .recency_days(),
        &[1]
    );

    let m = cohort_matrix(&beijing, CohortGrain::Month, date(2026, 1, 1)).unwrap();
    assert_eq!(m.rows.len(), 1);
    assert_eq!((m.rows[0].start, m.rows[0].size), (date(2026, 1, 1), 1));
    assert!(
        cohort_matrix(&beijing, CohortGrain::Month, date(2025, 12, 31))
            .unwrap()
            .rows
            .is_empty()
    );
    let m = cohort_matrix(&utc, CohortGrain::Month, date(2025, 12, 31)).unwrap();
    assert_eq!((m.rows[0].start, m.rows[0].size), (date(2025, 12, 1), 1));
    // The customer base at the end of New Year's Day.
    let day = Period::new(date(2026, 1, 1), date(2026, 1, 2)).unwrap();
    let policy = LifecyclePolicy::default();
    assert_eq!(customer_base(&beijing, day, &policy).unwrap().acquired, 1);
    assert_eq!(customer_base(&utc, day, &policy).unwrap().acquired, 0);
}

#[test]
fn singles_day_in_beijing_is_the_eleventh_of_november() {
    let bj = zone("Asia/Shanghai");
    // 07:30 on 11-11 in Beijing is 23:30 UTC on 11-10.
    let at = local(bj, 2026, 11, 11, 7, 30);
    assert_eq!(
        at,
        Utc.with_ymd_and_hms(2026, 11, 10, 23, 30, 0)
            .unwrap()
            .timestamp()
    );
    let beijing = one_purchase(bj, at);
    let singles_day = Period::new(date(2026, 11, 11), date(2026, 11, 12)).unwrap();
    assert_eq!(purchase_stats(&beijing, singles_day).unwrap().orders, 1);
    let t = rfm(&beijing, date(2026, 11, 11), TieRule::Shared).unwrap();
    assert_eq!(t.recency_days(), &[0]);
    assert!(
        rfm(&beijing, date(2026, 11, 10), TieRule::Shared)
            .unwrap()
            .is_empty()
    );
    // 2026-11-11 is a Wednesday: its ISO week starts on Monday the 9th.
    let w = cohort_matrix(&beijing, CohortGrain::Week, date(2026, 11, 11)).unwrap();
    assert_eq!((w.rows[0].start, w.rows[0].size), (date(2026, 11, 9), 1));
    let utc = one_purchase(BusinessZone::UTC, at);
    assert_eq!(purchase_stats(&utc, singles_day).unwrap().orders, 0);
    assert_eq!(
        rfm(&utc, date(2026, 11, 11), TieRule::Shared)
            .unwrap()
            .recency_days(),
        &[1]
    );
    // The historical CLV as of 11-10 leaves it out in Beijing.
    let purchase = Purchase::new(
        PurchaseId::new(1),
        NewPurchase::new(
            CustomerId::new(1),
            chrono::DateTime::from_timestamp(at, 0).unwrap(),
            eur(88),
        ),
    );
    let ps = [purchase];
    assert_eq!(
        historical_clv(&ps, &[], date(2026, 11, 11), bj)
            .unwrap()
            .purchases,
        1
    );
    assert!(matches!(
        historical_clv(&ps, &[], date(2026, 11, 10), bj),
        Err(MetricError::EmptyPopulation { .. })
    ));
    assert_eq!(
        historical_clv(&ps, &[], date(2026, 11, 10), BusinessZone::UTC)
            .unwrap()
            .purchases,
        1
    );
}

#[test]
fn recency_across_the_new_york_spring_gap_is_whole_local_days() {
    let ny = zone("America/New_York");
    // The clocks jump from 02:00 to 03:00 on 2026-03-08: that day has 23 hours.
    let mut log =
        PurchaseLog::with_customers(EUR, (1..=4).map(CustomerId::new).collect()).in_zone(ny);
    log.push(0, local(ny, 2026, 3, 7, 23, 30), 100); // 04:30 UTC on the 8th
    log.push(1, local(ny, 2026, 3, 8, 0, 30), 100); // before the gap
    log.push(1, local(ny, 2026, 3, 8, 3, 30), 100); // after it: the same day
    log.push(2, local(ny, 2026, 3, 9, 0, 0), 100); // the first instant of the 9th
    log.push(3, local(ny, 2026, 3, 9, 23, 59), 100); // 03:59 UTC on the 10th
    let t = rfm(&log, date(2026, 3, 9), TieRule::Shared).unwrap();
    let recency: Vec<u32> = t.recency_days().to_vec();
    assert_eq!(recency, vec![2, 1, 0, 0]);
    // In UTC the first is a purchase of the 8th and the last one is after `as_of`.
    let mut utc = log.clone();
    utc.zone = BusinessZone::UTC;
    assert_eq!(
        rfm(&utc, date(2026, 3, 9), TieRule::Shared)
            .unwrap()
            .recency_days(),
        &[1, 1, 0]
    );
    // Two purchases either side of the gap are one visit.
    let the_8th = Period::new(date(2026, 3, 8), date(2026, 3, 9)).unwrap();
    let s = purchase_stats(&log, the_8th).unwrap();
    assert_eq!((s.orders, s.buyers, s.repeat_buyers), (2, 1, 0));
    // The early warning counts the same whole days.
    let customers: Vec<Customer> = (1..=4)
        .map(|id| customer(id, LifecycleStage::Active, (2025, 1, 1)))
        .collect();
    let activity = Activity {
        customers: &customers,
        log: &log,
        surveys: &[],
        requests: &[],
        interactions: &[],
    };
    let config = WarningConfig {
        silence_days: 2,
        ..WarningConfig::default()
    };
    let list = churn_warnings(
        &activity,
        &LifecyclePolicy::default(),
        &config,
        date(2026, 3, 9),
    )
    .unwrap();
    let silent: Vec<(CustomerId, &RiskReason)> = list
        .iter()
        .flat_map(|w| w.factors.iter().map(move |f| (w.customer, &f.reason)))
        .filter(|(_, r)| matches!(r, RiskReason::LongSilence { .. }))
        .collect();
    assert_eq!(
        silent,
        vec![(
            CustomerId::new(1),
            &RiskReason::LongSilence {
                days_since_contact: 2
            }
        )]
    );
}

/// The same log with every instant moved by `offset` seconds, counting UTC days.
fn shifted(log: &PurchaseLog, offset: i64) -> PurchaseLog {
    let mut out = log.clone().in_zone(BusinessZone::UTC);
    for at in &mut out.at {
        *at += offset;
    }
    out
}

/// The cohort matrix written plainly: every purchase's local date through chrono-tz.
fn naive_cohorts(
    log: &PurchaseLog,
    grain: CohortGrain,
    as_of: NaiveDate,
) -> Vec<(NaiveDate, u64, Vec<u64>, Vec<i64>)> {
    use chrono::Datelike;
    let start_of = |d: NaiveDate| match grain {
        CohortGrain::Month => date(d.year(), d.month(), 1),
        CohortGrain::Week => d - Duration::days(i64::from(d.weekday().num_days_from_monday())),
    };
    let next = |d: NaiveDate| match grain {
        CohortGrain::Month => d.checked_add_months(chrono::Months::new(1)).unwrap(),
        CohortGrain::Week => d + Duration::days(7),
    };
    // (local date, customer, amount) up to `as_of`.
    let mut rows: Vec<(NaiveDate, u32, i64)> = (0..log.len())
        .map(|k| {
            let at = chrono::DateTime::from_timestamp(log.at[k], 0).unwrap();
            (log.zone.date_of(at), log.customer[k], log.amount[k])
        })
        .filter(|r| r.0 <= as_of)
        .collect();
    rows.sort();
    let Some(first) = rows.first().map(|r| start_of(r.0)) else {
        return Vec::new();
    };
    let mut periods = vec![first];
    while next(*periods.last().unwrap()) <= as_of {
        periods.push(next(*periods.last().unwrap()));
    }
    let index = |d: NaiveDate| periods.iter().rposition(|p| *p <= d).unwrap();
    let mut cohort: BTreeMap<u32, usize> = BTreeMap::new();
    for r in &rows {
        cohort.entry(r.1).or_insert(index(r.0));
    }
    let n = periods.len();
    let mut out: Vec<_> = periods
        .iter()
        .enumerate()
        .map(|(c, p)| (*p, 0, vec![0; n - c], vec![0; n - c]))
        .collect();
    let mut seen = std::collections::BTreeSet::new();
    for r in &rows {
        let (c, p) = (cohort[&r.1], index(r.0));
        if seen.insert((r.1, p)) {
            out[c].2[p - c] += 1;
        }
        out[c].3[p - c] += r.2;
    }
    for row in &mut out {
        row.1 = row.2[0];
    }
    out
}

fn matrix_rows(m: &CohortMatrix) -> Vec<(NaiveDate, u64, Vec<u64>, Vec<i64>)> {
    m.rows
        .iter()
        .map(|r| {
            (
                r.start,
                r.size,
                r.customers.clone(),
                r.revenue
                    .iter()
                    .map(|x| x.to_minor_units().unwrap())
                    .collect(),
            )
        })
        .collect()
}

/// Zones whose offset has been fixed since before the logs of `any_log`.
const FIXED_ZONES: [&str; 5] = [
    "Asia/Shanghai",
    "Etc/GMT-8",
    "Etc/GMT+5",
    "Asia/Kathmandu",
    "Asia/Kolkata",
];

/// Zones with summer time, a midnight gap, a half-hour change and a skipped day.
const DST_ZONES: [&str; 5] = [
    "America/New_York",
    "Europe/Berlin",
    "America/Santiago",
    "Australia/Lord_Howe",
    "Pacific/Apia",
];

proptest! {
    /// A differential oracle: in a zone of fixed offset, every kernel gives what it
    /// gives in UTC on the log shifted by that offset.
    #[test]
    fn kernels_in_a_fixed_offset_zone_equal_utc_on_the_shifted_log(
        log in any_log(30, 300, 100_000),
        which in 0usize..FIXED_ZONES.len(),
        month in 1u32..=12,
        ordinal in any::<bool>(),
        weekly in any::<bool>(),
    ) {
        let z = zone(FIXED_ZONES[which]);
        let offset = i64::from(z.offset_at(Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap()));
        let zoned = log.clone().in_zone(z);
        let moved = shifted(&log, offset);
        let tie = if ordinal { TieRule::Ordinal } else { TieRule::Shared };
        let grain = if weekly { CohortGrain::Week } else { CohortGrain::Month };
        prop_assert_eq!(rfm(&zoned, as_of(), tie).unwrap(), rfm(&moved, as_of(), tie).unwrap());
        prop_assert_eq!(cohort_matrix(&zoned, grain, as_of()).unwrap(), cohort_matrix(&moved, grain, as_of()).unwrap());
        let period = Period::month(2025, month).unwrap();
        prop_assert_eq!(purchase_stats(&zoned, period).unwrap(), purchase_stats(&moved, period).unwrap());
        let policy = LifecyclePolicy::default();
        prop_assert_eq!(customer_base(&zoned, period, &policy).unwrap(), customer_base(&moved, period, &policy).unwrap());
        let customers: Vec<Customer> = log.customers.iter().map(|id| customer(id.get(), LifecycleStage::Active, (2024, 1, 1))).collect();
        let warn = |l: &PurchaseLog| {
            let activity = Activity { customers: &customers, log: l, surveys: &[], requests: &[], interactions: &[] };
            churn_warnings(&activity, &policy, &WarningConfig::default(), date(2025, month, 28)).unwrap()
        };
        prop_assert_eq!(warn(&zoned), warn(&moved));
        let report = |l: &PurchaseLog| {
            let data = ReportData { customers: customers.iter().map(ReportCustomer::of).collect(), log: l.clone(), ..ReportData::default() };
            MetricsReport::compute(&data, period, &ReportConfig::default()).unwrap()
        };
        let (a, b) = (report(&zoned), report(&moved));
        prop_assert_eq!(a.retention, b.retention);
        prop_assert_eq!(a.purchases, b.purchases);
        prop_assert_eq!(a.rfm, b.rfm);
        prop_assert_eq!(a.cohorts, b.cohorts);
        prop_assert_eq!(a.early_warning, b.early_warning);
    }

    /// In zones with summer time, RFM and cohorts agree with the plain versions that
    /// convert every purchase with chrono-tz, in time order or not.
    #[test]
    fn rfm_and_cohorts_agree_with_chrono_tz_in_zones_with_summer_time(
        log in any_log(30, 300, 100_000),
        which in 0usize..DST_ZONES.len(),
        ordinal in any::<bool>(),
        weekly in any::<bool>(),
        seed in any::<u64>(),
    ) {
        let z = zone(DST_ZONES[which]);
        let zoned = log.in_zone(z);
        let shuffled = permuted(&zoned, seed).in_zone(z);
        let tie = if ordinal { TieRule::Ordinal } else { TieRule::Shared };
        let grain = if weekly { CohortGrain::Week } else { CohortGrain::Month };
        let naive = naive_rfm(&zoned, as_of(), tie);
        prop_assert_eq!(table_rows(&rfm(&zoned, as_of(), tie).unwrap()), naive.clone());
        prop_assert_eq!(table_rows(&rfm(&shuffled, as_of(), tie).unwrap()), naive);
        let naive = naive_cohorts(&zoned, grain, as_of());
        prop_assert_eq!(matrix_rows(&cohort_matrix(&zoned, grain, as_of()).unwrap()), naive.clone());
        prop_assert_eq!(matrix_rows(&cohort_matrix(&shuffled, grain, as_of()).unwrap()), naive);
    }
}

// ----- spend -----

#[test]
fn recorded_costs_give_roi_and_cac_per_channel() {
    use crate::cost::{Cost, CostCategory, NewCost};
    use crate::ids::CostId;
    let mut data = scenario();
    let cost = |id: u64, day: u32, units: i64, category, channel: Option<&str>| {
        Cost::new(
            CostId::new(id),
            NewCost {
                at: Utc.with_ymd_and_hms(2026, 3, day, 9, 0, 0).unwrap(),
                amount: eur(units),
                category,
                channel: channel.map(|c| Tag::parse(c).unwrap()),
                note: None,
            },
            None,
        )
    };
    let voided = cost(4, 8, 1_000, CostCategory::Marketing, Some("ads")).void(
        Utc.with_ymd_and_hms(2026, 3, 9, 9, 0, 0).unwrap(),
        Label::parse("typo").unwrap(),
    );
    let mut february = cost(5, 1, 50, CostCategory::Other, None);
    february = Cost::new(
        february.id(),
        NewCost {
            at: Utc.with_ymd_and_hms(2026, 2, 27, 9, 0, 0).unwrap(),
            amount: february.amount(),
            category: february.category(),
            channel: None,
            note: None,
        },
        None,
    );
    data.costs = vec![
        cost(1, 5, 100, CostCategory::Marketing, Some("ads")),
        cost(2, 6, 300, CostCategory::Marketing, Some("referral")),
        cost(3, 7, 100, CostCategory::Tools, None),
        voided,
        february,
    ];
    let march = Period::month(2026, 3).unwrap();
    let r = MetricsReport::compute(&data, march, &ReportConfig::default()).unwrap();
    let s = r.spend.expect("a spend section");
    assert_eq!(s.total, eur(500));
    assert_eq!(s.voided, 1);
    assert_eq!(s.by_category[0].spend, eur(400));
    assert_eq!(s.by_category[0].costs, 2);
    assert_eq!(s.by_category[1].spend, eur(100));
    assert_eq!(
        s.by_category[2].costs, 0,
        "February's cost is outside March"
    );
    // Revenue 400, costs 500: ROI −20 %.
    let on_revenue = s.roi_on_revenue.value().unwrap();
    assert_eq!(on_revenue.gain, eur(400));
    assert_eq!(on_revenue.roi_percent(), Decimal::from(-20));
    // Gross margin (50 + 70 + 100) / 400 = 55 %: gain 220, ROI −56 %.
    let on_margin = s.roi_on_gross_margin.value().unwrap();
    assert_eq!(on_margin.gain, eur(220));
    assert_eq!(on_margin.roi_percent(), Decimal::from(-56));
    // ads won customer 2 (200 in March); referral won nobody new (customer 1 bought 200).
    let ads = &s.channels[0];
    assert_eq!((ads.channel.as_str(), ads.new_customers), ("ads", 1));
    assert_eq!(ads.cac.value(), Some(&eur(100)));
    assert_eq!(ads.revenue, eur(200));
    assert_eq!(ads.roi.value().unwrap().roi_percent(), Decimal::from(100));
    let referral = &s.channels[1];
    assert_eq!(referral.channel, "referral");
    assert!(!referral.cac.is_defined(), "spend without a new customer");
    assert_eq!(referral.revenue, eur(200));
    assert_eq!(s.channels.len(), 2, "no spend, no new customer: not listed");
    assert_eq!(s.cac.overall.value().unwrap().cac, eur(400));
}

#[test]
fn without_costs_the_roi_is_undefined_not_infinite() {
    let data = scenario();
    let r = MetricsReport::compute(
        &data,
        Period::month(2026, 3).unwrap(),
        &ReportConfig::default(),
    )
    .unwrap();
    let s = r.spend.expect("a spend section");
    assert_eq!(s.total, eur(0));
    assert!(!s.roi_on_revenue.is_defined());
    assert!(!s.roi_on_gross_margin.is_defined());
    assert!(s.channels.iter().all(|c| !c.roi.is_defined()));
}

/// Each customer's summary of the log's purchases up to the last instant of `as_of` in
/// the log's zone, exactly summed: what a store keeps and answers "as of" (ADR 0046).
fn summaries_of(log: &PurchaseLog, as_of: NaiveDate) -> Vec<(CustomerId, PurchaseSummary)> {
    let end = log.zone.end_of(as_of).timestamp();
    let currency = log.currency.unwrap();
    let mut by: BTreeMap<CustomerId, PurchaseSummary> = BTreeMap::new();
    for k in 0..log.len() {
        if log.at[k] >= end {
            continue;
        }
        let at = chrono::DateTime::from_timestamp(log.at[k], 0).unwrap();
        by.entry(log.customers[log.customer[k] as usize])
            .or_insert(PurchaseSummary::none(currency))
            .add(at, Money::from_minor(log.amount[k], currency))
            .unwrap();
    }
    by.into_iter().collect()
}

/// True if some purchase up to `as_of` is one `rfm` screens out, or some customer's
/// spend up to then reaches the bound of one amount: what a summary cannot tell apart.
fn summaries_cannot_tell(log: &PurchaseLog, as_of: NaiveDate) -> bool {
    let bound = log.currency.unwrap().max_stored_minor();
    summaries_of(log, as_of).iter().any(|(_, s)| {
        s.first_at.unwrap().timestamp() < crate::time::EARLIEST_SECS
            || !s.total.to_minor_units().is_ok_and(|m| m < bound)
    })
}

const ZONES: [&str; 6] = [
    "UTC",
    "Asia/Shanghai",
    "America/New_York",
    "Pacific/Chatham",
    "Australia/Lord_Howe",
    "Asia/Kathmandu",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn rfm_of_the_kept_summaries_is_rfm_of_the_log(
        log in any_log(40, 400, 1_000_000),
        zone in 0..ZONES.len(),
        day in -420i64..420,
        clf in any::<bool>(),
        whale in prop::option::of((any::<prop::sample::Index>(), 1usize..1_000)),
        ancient in prop::option::of((any::<prop::sample::Index>(), 0..3i64)),
        ordinal in any::<bool>(),
    ) {
        let tie = if ordinal { TieRule::Ordinal } else { TieRule::Shared };
        let mut log = log.in_zone(BusinessZone::parse(ZONES[zone]).unwrap());
        let as_of = as_of() + Duration::days(day);
        let n = log.customers.len();
        // A customer whose spend reaches the bound of one amount, or overflows the
        // 64-bit sum (in CLF, 923 purchases at the bound do).
        if let Some((who, count)) = whale {
            if clf {
                log.currency = Some(Currency::parse("CLF").unwrap());
            }
            let bound = log.currency.unwrap().max_stored_minor();
            let c = who.index(n) as u32;
            for k in 0..count {
                log.push(c, ts(2025, 6, 1) + k as i64 * 3_600, bound - 1);
            }
        }
        // A purchase dated before 1900, which `rfm` screens out.
        if let Some((who, years)) = ancient {
            log.push(who.index(n) as u32, crate::time::EARLIEST_SECS - 1 - years * 31_557_600, 500);
        }
        let want = rfm(&log, as_of, tie).unwrap();
        let got = rfm_of_summaries(
            &summaries_of(&log, as_of),
            log.currency.unwrap(),
            log.zone,
            as_of,
            tie,
        )
        .unwrap();
        match got {
            Some(t) => {
                prop_assert!(!summaries_cannot_tell(&log, as_of));
                prop_assert_eq!(t, want);
            }
            None => prop_assert!(summaries_cannot_tell(&log, as_of)),
        }
    }
}

#[test]
fn rfm_of_summaries_leaves_the_doubtful_to_the_log_and_refuses_malformed_input() {
    let day = date(2026, 2, 1);
    let at = |d| chrono::DateTime::from_timestamp(ts(2026, 1, d), 0).unwrap();
    let one = |minor: i64, d: u32| {
        let mut s = PurchaseSummary::none(EUR);
        s.add(at(d), Money::from_minor(minor, EUR)).unwrap();
        s
    };
    let of = |rows: &[(u64, PurchaseSummary)]| {
        let rows: Vec<_> = rows
            .iter()
            .map(|(id, s)| (CustomerId::new(*id), *s))
            .collect();
        rfm_of_summaries(&rows, EUR, BusinessZone::UTC, day, TieRule::Shared)
    };
    // Nothing bought: an empty table, as `rfm` of an empty log.
    let empty = PurchaseLog::with_customers(EUR, vec![CustomerId::new(1)]);
    assert_eq!(
        of(&[(1, PurchaseSummary::none(EUR))]).unwrap(),
        Some(rfm(&empty, day, TieRule::Shared).unwrap())
    );
    // A total at the bound of one amount may hold an outlier: the log tells.
    assert_eq!(of(&[(1, one(EUR.max_stored_minor(), 3))]).unwrap(), None);
    assert!(
        of(&[(1, one(EUR.max_stored_minor() - 1, 3))])
            .unwrap()
            .is_some()
    );
    // Out of order, after the day asked, in another currency: the caller's mistake.
    assert!(of(&[(2, one(1, 3)), (1, one(1, 3))]).is_err());
    assert!(of(&[(1, one(1, 3)), (1, one(1, 3))]).is_err());
    let late = {
        let mut s = PurchaseSummary::none(EUR);
        s.add(
            chrono::DateTime::from_timestamp(ts(2026, 2, 2), 0).unwrap(),
            Money::from_minor(1, EUR),
        )
        .unwrap();
        s
    };
    assert!(of(&[(1, late)]).is_err());
    let mut yen = PurchaseSummary::none(Currency::JPY);
    yen.add(at(3), Money::from_minor(1, Currency::JPY)).unwrap();
    assert!(of(&[(1, yen)]).is_err());
    // An amount kept as written: trailing zeros are the same cents; finer units are
    // the log's to judge.
    let written = |text: &str| {
        let mut s = PurchaseSummary::none(EUR);
        s.add(at(3), Money::parse(text, EUR).unwrap()).unwrap();
        s
    };
    assert_eq!(
        of(&[(1, written("25.500"))]).unwrap(),
        of(&[(1, one(2_550, 3))]).unwrap()
    );
    assert_eq!(of(&[(1, written("25.505"))]).unwrap(), None);
}

proptest! {
    /// The narrow rows a report reads (ADR 0062) give the same historical CLV, gross
    /// margin and engagement as the whole records they come from, sub-second times,
    /// missing costs and day boundaries included.
    #[test]
    fn narrow_report_rows_measure_as_the_whole_records(
        rows in proptest::collection::vec(
            (1u64..6, 0i64..400 * 86_400, 0u32..1_000_000_000, 0i64..100_000, proptest::option::of(0i64..100_000)),
            0..40,
        ),
        day in 1i64..400,
    ) {
        let start = Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap();
        let mut whole = Vec::new();
        let mut contacts = Vec::new();
        for (k, &(c, secs, nanos, amount, cost)) in rows.iter().enumerate() {
            let at = start + Duration::seconds(secs) + Duration::nanoseconds(i64::from(nanos));
            let mut p = NewPurchase::new(CustomerId::new(c), at, Money::from_minor(amount, Currency::EUR));
            p.cost = cost.map(|m| Money::from_minor(m, Currency::EUR));
            whole.push(Purchase::new(PurchaseId::new(k as u64 + 1), p));
            contacts.push(crate::interaction::Interaction::new(
                crate::ids::InteractionId::new(k as u64 + 1),
                crate::interaction::NewInteraction {
                    customer: CustomerId::new(c),
                    channel: crate::interaction::Channel::Phone,
                    direction: crate::interaction::Direction::Outbound,
                    at,
                    summary: FreeText::empty(),
                    sentiment: None,
                },
            ));
        }
        let narrow = ReportPurchases::from_purchases(Currency::EUR, &whole);
        prop_assert_eq!(narrow.len(), whole.len());
        let as_of = start.date_naive() + Duration::days(day);
        let zone = BusinessZone::UTC;
        prop_assert_eq!(
            historical_clv(&whole, &[], as_of, zone),
            historical_clv_of(&narrow, &[], as_of, zone)
        );
        let period = Period::new(start.date_naive(), as_of).unwrap();
        prop_assert_eq!(
            gross_margin(whole.iter().filter(|p| period.contains_instant(p.at()))),
            gross_margin_of(narrow.iter().filter(|p| period.contains_secs(p.at)))
        );
        let narrow_contacts: Vec<ReportInteraction> =
            contacts.iter().map(ReportInteraction::of).collect();
        let population: Vec<CustomerId> = (1..4).map(CustomerId::new).collect();
        prop_assert_eq!(
            engagement(&population, &contacts, period),
            engagement_of(&population, &narrow_contacts, period)
        );
    }
}

proptest! {
    /// A report's answers of its period are those `contains_instant` keeps, in their
    /// order, borrowed without a copy when the answers are in time order (as stores
    /// read them) and copied when they are not; the period in a zone other than UTC.
    #[test]
    fn a_periods_answers_are_a_run_of_answers_in_time_order(
        // Seconds from March 1st 00:00 UTC; the period's bounds in Shanghai are
        // -8 h and 30 days 16 h, drawn often with their neighbours.
        offsets in proptest::collection::vec(
            prop_oneof![
                3 => -3 * 86_400i64..35 * 86_400,
                1 => proptest::sample::select(vec![
                    -28_801i64, -28_800, -28_799, 2_649_599, 2_649_600, 2_649_601,
                ]),
            ],
            0..40,
        ),
        swap in any::<proptest::sample::Index>(),
    ) {
        let period = Period::month(2026, 3)
            .unwrap()
            .in_zone(BusinessZone::parse("Asia/Shanghai").unwrap());
        let march = Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap();
        let mut sorted = offsets.clone();
        sorted.sort_unstable();
        let answers: Vec<SurveyResponse> = sorted
            .iter()
            .zip(1..)
            .map(|(&s, id)| {
                SurveyResponse::new(
                    SurveyId::new(id),
                    NewSurveyResponse {
                        customer: CustomerId::new(id % 7 + 1),
                        at: march + Duration::seconds(s),
                        score: SurveyScore::new(SurveyKind::Csat, 3).unwrap(),
                        comment: None,
                    },
                )
            })
            .collect();
        let expected = |rs: &[SurveyResponse]| -> Vec<SurveyResponse> {
            rs.iter().filter(|r| period.contains_instant(r.at())).cloned().collect()
        };
        let got = super::report::answers_in(&answers, &period);
        prop_assert!(matches!(got, std::borrow::Cow::Borrowed(_)));
        prop_assert_eq!(got.to_vec(), expected(&answers));

        // Out of time order: the same filter, copied.
        let mut shuffled = answers.clone();
        if shuffled.len() > 1 {
            let i = swap.index(shuffled.len() - 1);
            shuffled.swap(0, i + 1);
        }
        let got = super::report::answers_in(&shuffled, &period);
        prop_assert_eq!(got.to_vec(), expected(&shuffled));
    }
}

proptest! {
    /// Rows kept beside the log give back the same rows in the same order, repeated
    /// purchases included; a row that is not one of the log's purchases, or rows out
    /// of the log's order, are kept as rows (no costs beside).
    #[test]
    fn rows_beside_the_log_are_the_rows(
        purchases in proptest::collection::vec((0u32..4, 0i64..5, 0i64..3), 0..150),
        picks in proptest::collection::vec((any::<bool>(), proptest::option::of(0i64..9)), 150),
        stray in any::<proptest::sample::Index>(),
        (first, spacing) in (1u64..1_000, prop_oneof![Just(1u64), 2u64..20]),
    ) {
        // Ids without a gap (spacing 1) are read by arithmetic, others from the table.
        let customers: Vec<CustomerId> = (0..4).map(|c| CustomerId::new(first + c * spacing)).collect();
        let mut log = PurchaseLog::with_customers(EUR, customers.clone());
        let mut rows = ReportPurchases::new(EUR);
        for (&(c, at, amount), &(pick, cost)) in purchases.iter().zip(&picks) {
            log.push(c, at, amount);
            if pick {
                rows.rows.push(ReportPurchase::new(customers[c as usize], at, amount, cost));
            }
        }
        let costs = LogCosts::of(&rows, &log).expect("the rows are the log's purchases");
        prop_assert_eq!(costs.len(), rows.len());
        prop_assert_eq!(costs.rows(&log).collect::<Vec<_>>(), rows.rows.clone());

        if !rows.is_empty() {
            // A row the log does not hold.
            let mut odd = rows.clone();
            let i = stray.index(odd.len());
            odd.rows[i].amount += 100;
            prop_assert!(LogCosts::of(&odd, &log).is_none());
            // Another currency.
            let mut usd = rows.clone();
            usd.currency = Some(Currency::USD);
            prop_assert!(LogCosts::of(&usd, &log).is_none());
        }
        // The last row first: kept beside the log only if the log holds them in that
        // order too, and then given back as they are.
        let mut turned = rows.clone();
        if !turned.is_empty() {
            turned.rows.rotate_right(1);
        }
        if let Some(costs) = LogCosts::of(&turned, &log) {
            prop_assert_eq!(costs.rows(&log).collect::<Vec<_>>(), turned.rows);
        }
    }
}

#[test]
fn rows_out_of_the_logs_order_stay_rows() {
    let (a, b) = (CustomerId::new(1), CustomerId::new(2));
    let mut log = PurchaseLog::with_customers(EUR, vec![a, b]);
    log.push(0, 10, 5);
    log.push(1, 20, 7);
    let mut rows = ReportPurchases::new(EUR);
    rows.rows.push(ReportPurchase::new(b, 20, 7, Some(1)));
    rows.rows.push(ReportPurchase::new(a, 10, 5, None));
    assert_eq!(LogCosts::of(&rows, &log), None);
    rows.rows.reverse();
    let costs = LogCosts::of(&rows, &log).expect("in the log's order");
    assert_eq!(costs.rows(&log).collect::<Vec<_>>(), rows.rows);
}

#[test]
fn a_report_with_its_rows_beside_the_log_is_the_same_report() {
    let data = scenario();
    assert!(!data.purchases.is_empty());
    let read = ReportPurchaseRead::beside(data.purchases.clone(), data.log.clone());
    assert!(read.log_costs.is_some() && read.purchases.is_empty());
    let beside = data.clone().with_purchases(read);
    assert_eq!(
        beside.purchase_rows().collect::<Vec<_>>(),
        data.purchases.rows
    );
    for period in [
        Period::month(2026, 3).unwrap(),
        Period::month(2026, 2).unwrap(),
        Period::year(2026).unwrap(),
    ] {
        let config = ReportConfig::default();
        assert_eq!(
            MetricsReport::compute(&beside, period, &config).unwrap(),
            MetricsReport::compute(&data, period, &config).unwrap(),
            "{period:?}"
        );
    }
}

proptest! {
    /// The distinct customers of the historical CLV are counted as a set counts them,
    /// small ids as bits and large ones (from 2²⁶) apart, repeats and both sides of
    /// the bound included.
    #[test]
    fn distinct_ids_count_as_a_set_does(
        raw in proptest::collection::vec(
            prop_oneof![
                4 => 1u64..300,
                1 => (1u64 << 26) - 3..(1u64 << 26) + 3,
                1 => any::<u64>(),
            ],
            0..200,
        ),
    ) {
        let mut counted = super::value::DistinctIds::default();
        let mut set = std::collections::HashSet::new();
        for &r in &raw {
            counted.insert(CustomerId::new(r));
            set.insert(r);
            prop_assert_eq!(counted.len(), set.len() as u64);
        }
    }
}

/// The early-warning list by contacts reads each customer's answers and latest contact
/// from arrays sorted by customer: answers in any order, contacts unsorted and
/// repeated, a customer listed twice (its answers count once, the first time), and a
/// customer with neither.
#[test]
fn warnings_by_contacts_find_each_customers_answers_and_latest_contact() {
    let day = |m, d| Utc.with_ymd_and_hms(2026, m, d, 12, 0, 0).unwrap();
    let (one, two, three) = (CustomerId::new(1), CustomerId::new(2), CustomerId::new(3));
    let mut log = PurchaseLog::with_customers(EUR, vec![one, two, three]);
    // All three bought monthly until March 2nd: overdue by June 15th (105 days).
    for c in 0..3 {
        for (m, d) in [(1, 1), (1, 31), (3, 2)] {
            log.push(c, day(m, d).timestamp(), 5_000);
        }
    }
    let answer = |id, customer, kind, m, score| {
        SurveyResponse::new(
            SurveyId::new(id),
            NewSurveyResponse {
                customer,
                at: day(m, 5),
                score: SurveyScore::new(kind, score).unwrap(),
                comment: None,
            },
        )
    };
    // Customer 2 answers NPS 9 then 3 (a fall); customer 1 only a CES; out of order.
    let surveys = [
        answer(3, two, SurveyKind::Nps, 4, 3),
        answer(1, one, SurveyKind::Ces, 2, 2),
        answer(2, two, SurveyKind::Nps, 2, 9),
    ];
    // Customer 1's latest contact May 1st (45 days: no silence), customer 2's March 3rd
    // (104 days), unsorted and repeated; customer 3 none (105 days since buying).
    let contacts = [
        (two, day(3, 3)),
        (one, day(2, 1)),
        (one, day(5, 1)),
        (two, day(1, 9)),
    ];
    let activity = Activity {
        customers: &[],
        log: &log,
        surveys: &surveys,
        requests: &[],
        interactions: &[],
    };
    let stages = [
        (two, LifecycleStage::Active),
        (one, LifecycleStage::Active),
        (three, LifecycleStage::Active),
        (two, LifecycleStage::Active),
    ];
    let list = churn_warnings_by_contacts(
        &stages,
        &contacts,
        &activity,
        &LifecyclePolicy::default(),
        &WarningConfig::default(),
        date(2026, 6, 15),
    )
    .unwrap();
    let reasons = |c: CustomerId| -> Vec<Vec<String>> {
        list.iter()
            .filter(|w| w.customer == c)
            .map(|w| w.factors.iter().map(|f| f.reason.describe()).collect())
            .collect()
    };
    let has = |rs: &[String], what: &str| rs.iter().any(|r| r.contains(what));
    let of_two = reasons(two);
    assert_eq!(of_two.len(), 2, "{list:?}");
    assert_eq!(
        of_two.iter().filter(|rs| has(rs, "nps")).count(),
        1,
        "customer 2's answers count once: {of_two:?}"
    );
    assert!(
        of_two.iter().all(|rs| has(rs, "no contact for 104 days")),
        "{of_two:?}"
    );
    let of_one = reasons(one);
    assert_eq!(of_one.len(), 1);
    assert!(
        !has(&of_one[0], "nps") && !has(&of_one[0], "no contact"),
        "{of_one:?}"
    );
    let of_three = reasons(three);
    assert_eq!(of_three.len(), 1);
    assert!(has(&of_three[0], "no contact for 105 days"), "{of_three:?}");
}

use super::ratio::{minor_of, money_from_minor};

/// The report's customers for `log`: every other one with an acquisition cost (1 to 3
/// euros by id), created before any purchase.
fn report_customers_with_costs(log: &PurchaseLog) -> Vec<ReportCustomer> {
    log.customers
        .iter()
        .map(|&id| ReportCustomer {
            id,
            created_at: Utc.with_ymd_and_hms(2020, 1, 1, 0, 0, 0).unwrap(),
            stage: LifecycleStage::Active,
            erased: false,
            acquisition_channel: None,
            acquisition_cost: (id.get() % 2 == 0).then(|| eur(1 + (id.get() % 3) as i64)),
        })
        .collect()
}

/// LTV to CAC written plainly: the spend before the period's end of the customers
/// with a cost, over their costs.
fn plain_ltv_to_cac(log: &PurchaseLog, customers: &[ReportCustomer], end: i64) -> Decimal {
    let (mut sales, mut cost) = (0i128, 0i128);
    for c in customers {
        let Some(k) = c.acquisition_cost else {
            continue;
        };
        cost += minor_of(k, EUR, "test").unwrap();
        let i = log.customers.binary_search(&c.id).unwrap();
        sales += (0..log.len())
            .filter(|&k| log.customer[k] as usize == i && log.at[k] < end)
            .map(|k| i128::from(log.amount[k]))
            .sum::<i128>();
    }
    ltv_to_cac(
        money_from_minor(sales, EUR, "test").unwrap(),
        money_from_minor(cost, EUR, "test").unwrap(),
    )
    .unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// The report measures its customer base, the trailing year's retention, RFM and LTV
    /// to CAC from one pass over the log: each agrees with its own function (or, for LTV
    /// to CAC, a plain sum), in fixed and summer-time zones.
    #[test]
    fn the_reports_one_pass_agrees_with_each_metrics_own(
        log in any_log(40, 400, 100_000),
        which in 0usize..(FIXED_ZONES.len() + DST_ZONES.len() + 1),
        month in 1u32..=12,
        ordinal in any::<bool>(),
    ) {
        let z = match which {
            w if w < FIXED_ZONES.len() => zone(FIXED_ZONES[w]),
            w if w < FIXED_ZONES.len() + DST_ZONES.len() => zone(DST_ZONES[w - FIXED_ZONES.len()]),
            _ => BusinessZone::default(),
        };
        let log = log.in_zone(z);
        let period = Period::month(2025, month).unwrap().in_zone(z);
        let tie = if ordinal { TieRule::Ordinal } else { TieRule::Shared };
        let config = ReportConfig { tie_rule: tie, include_rfm_table: true, ..ReportConfig::default() };
        let customers = report_customers_with_costs(&log);
        let data = ReportData { customers: customers.clone(), log: log.clone(), ..ReportData::default() };
        let r = MetricsReport::compute(&data, period, &config).unwrap();

        let policy = LifecyclePolicy::default();
        prop_assert_eq!(r.retention.base, customer_base(&log, period, &policy).unwrap());
        let year = customer_base(&log, period.trailing_year().unwrap(), &policy).unwrap();
        let year_retention = year.churn().ok().map(|c| c.retention_rate);
        prop_assert_eq!(r.value.annual.retention.value(), year_retention.as_ref());
        let table = rfm(&log, period.last_day(), tie).unwrap();
        prop_assert_eq!(r.rfm.table.as_ref(), Some(&table));
        prop_assert_eq!(&r.rfm.segments, &table.segment_counts());
        let ltv = r.value.ltv_to_cac.value().copied();
        if customers.iter().any(|c| c.acquisition_cost.is_some()) {
            prop_assert_eq!(ltv, Some(plain_ltv_to_cac(&log, &customers, period.end_secs())));
        }
    }
}

/// A customer whose spend leaves `i64` (about 92,000 purchases at the storage bound) is
/// left out of the report's RFM and counted, but their exact spend still counts in LTV
/// to CAC.
#[test]
fn a_spend_beyond_i64_is_an_rfm_outlier_but_counts_whole_in_ltv_to_cac() {
    let mut log = PurchaseLog::with_customers(EUR, vec![CustomerId::new(2), CustomerId::new(4)]);
    let bound = crate::money::MAX_STORED_MAJOR * 100 - 1;
    let rows = i64::MAX / bound + 1;
    for k in 0..rows {
        log.push(0, ts(2025, 1, 1) + k, bound);
    }
    log.push(1, ts(2025, 2, 1), 500);
    let customers = report_customers_with_costs(&log);
    let data = ReportData {
        customers: customers.clone(),
        log: log.clone(),
        ..ReportData::default()
    };
    let config = ReportConfig {
        include_rfm_table: true,
        ..ReportConfig::default()
    };
    let r = MetricsReport::compute(&data, Period::month(2025, 3).unwrap(), &config).unwrap();
    let table = r.rfm.table.unwrap();
    assert_eq!(table.customers(), [CustomerId::new(4)]);
    assert_eq!(table.outliers().customers_too_large, 1);
    let sales = i128::from(bound) * i128::from(rows) + 500;
    assert!(sales > i128::from(i64::MAX));
    // Costs: 3 euros (id 2) and 2 euros (id 4).
    let expected = ltv_to_cac(
        money_from_minor(sales, EUR, "test").unwrap(),
        money_from_minor(500, EUR, "test").unwrap(),
    )
    .unwrap();
    assert_eq!(r.value.ltv_to_cac.value(), Some(&expected));
}
