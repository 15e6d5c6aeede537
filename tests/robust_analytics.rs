//! Analytics never fail for good because of one record (issue 10).
//!
//! Whatever dates and amounts the stores accept through `record_purchase` — arbitrary
//! instants across chrono's whole range, arbitrary amounts — the report, RFM, cohorts,
//! CLV (historical and the BG/NBD fit) and the churn early warning return, for the
//! period asked: never a panic, never an error caused by one record. Run through the
//! operations layer (`Crm`) over the in-memory store and over the SQLite store.

use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Utc};
use proptest::prelude::*;
use solocrm::memory::MemoryStore;
use solocrm::metrics::{
    Activity, MetricsReport, Period, ReportConfig, WarningConfig, churn_warnings, cohort_matrix,
    historical_clv, rfm,
};
use solocrm::models::{BgNbd, CustomerSummary, FitOptions, SummaryOptions, TimeUnit};
use solocrm::ops::ReportError;
use solocrm::sqlite::SqliteStore;
use solocrm::{
    ActivityQuery, CohortGrain, Crm, Currency, CustomerData, CustomerId, LifecyclePolicy,
    LifecycleStage, Money, NewCustomer, NewPurchase, OpenQuery, PersonName, StageReason, Store,
    StoreError, TieRule, ValidationError,
};

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// The metrics report of `period` with the default configuration, from one snapshot.
fn report(crm: &Crm, period: Period) -> Result<MetricsReport, ReportError> {
    crm.metrics_report(period, &ReportConfig::default())
}

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or(NaiveDate::MIN)
}

fn noon(y: i32, m: u32, d: u32) -> DateTime<Utc> {
    Utc.from_utc_datetime(&day(y, m, d).and_hms_opt(12, 0, 0).unwrap_or_default())
}

/// Both stores, each with `n` customers created on 2020-01-01.
fn stores(n: usize) -> Vec<(&'static str, Crm, Vec<CustomerId>)> {
    let mut out = vec![("memory", Crm::new(MemoryStore::new(Currency::EUR)))];
    if let Ok(s) = SqliteStore::open_in_memory(Currency::EUR) {
        out.push(("sqlite", Crm::new(s)));
    }
    out.into_iter()
        .map(|(name, store)| {
            let ids = (0..n)
                .filter_map(|i| {
                    let name = PersonName::parse(&format!("Customer {i}")).ok()?;
                    store
                        .create_customer(NewCustomer::new(
                            CustomerData::new(name),
                            noon(2020, 1, 1),
                        ))
                        .ok()
                        .map(|c| c.id())
                })
                .collect();
            (name, store, ids)
        })
        .collect()
}

/// Everything a user can ask of the analytics for the period ending `as_of`; `Err`
/// names the command that failed.
fn analyse(store: &Crm, as_of: NaiveDate) -> Result<(), String> {
    let period = Period::new(
        day(as_of.year(), as_of.month(), 1),
        as_of.succ_opt().unwrap_or(as_of),
    )
    .map_err(|e| format!("period: {e}"))?;
    report(store, period).map_err(|e| format!("report: {e}"))?;
    let log = store.purchase_log().map_err(|e| format!("log: {e}"))?;
    rfm(&log, as_of, TieRule::Shared).map_err(|e| format!("rfm: {e}"))?;
    rfm(&log, as_of, TieRule::Ordinal).map_err(|e| format!("rfm: {e}"))?;
    cohort_matrix(&log, CohortGrain::Month, as_of).map_err(|e| format!("cohort: {e}"))?;
    cohort_matrix(&log, CohortGrain::Week, as_of).map_err(|e| format!("cohort: {e}"))?;
    let purchases = store
        .purchases(&ActivityQuery::ALL)
        .map_err(|e| format!("purchases: {e}"))?;
    let refunds = store
        .refunds(&ActivityQuery::ALL)
        .map_err(|e| format!("refunds: {e}"))?;
    // Historical CLV is a per-metric value: undefined without purchases, never a panic.
    let _ = historical_clv(&purchases, &refunds, as_of, log.zone);
    let customers = store
        .read(|r| r.all_customers())
        .map_err(|e| format!("{e}"))?;
    let surveys = store
        .surveys(&ActivityQuery::ALL)
        .map_err(|e| format!("{e}"))?;
    let requests = store
        .requests(&OpenQuery::default())
        .map_err(|e| format!("{e}"))?;
    let interactions = store
        .interactions(&ActivityQuery::ALL)
        .map_err(|e| format!("{e}"))?;
    let activity = Activity {
        customers: &customers,
        log: &log,
        surveys: &surveys,
        requests: &requests,
        interactions: &interactions,
    };
    churn_warnings(
        &activity,
        &LifecyclePolicy::default(),
        &WarningConfig::default(),
        as_of,
    )
    .map_err(|e| format!("churn warning: {e}"))?;
    for unit in [TimeUnit::Day, TimeUnit::Week] {
        let summary = CustomerSummary::from_log(&log, &SummaryOptions::new(as_of, unit))
            .map_err(|e| format!("clv summary: {e}"))?;
        if summary.is_empty() {
            continue;
        }
        let counts = summary.count_data().map_err(|e| format!("clv: {e}"))?;
        // The fit may honestly fail to converge on odd data; it must return.
        let _ = BgNbd::fit(&counts, &FitOptions::default());
    }
    let at = noon(as_of.year(), as_of.month(), as_of.day());
    store
        .read(|r| r.reassess_all(&LifecyclePolicy::default(), at))
        .map_err(|e| format!("reassess: {e}"))?;
    Ok(())
}

/// Two purchases of 92 233 720 368 547 758.07 EUR were accepted and broke `report`
/// and `rfm` for good. The stores now refuse them with the bound in the message.
#[test]
fn amounts_beyond_twelve_digits_are_refused_by_every_store() -> TestResult {
    for (name, store, ids) in stores(1) {
        let huge = Money::parse("92233720368547758.07", Currency::EUR)?;
        let err = store
            .record_purchase(NewPurchase::new(ids[0], noon(2026, 1, 2), huge))
            .expect_err(name);
        assert!(
            matches!(
                err,
                StoreError::Validation(ValidationError::AmountOutOfRange { .. })
            ),
            "{name}: {err}"
        );
        assert!(
            err.to_string().contains("at most 12 digits"),
            "{name}: {err}"
        );
        let largest = Money::parse("999999999999.99", Currency::EUR)?;
        for d in 2..4 {
            store.record_purchase(NewPurchase::new(ids[0], noon(2026, 1, d), largest))?;
        }
        analyse(&store, day(2026, 1, 31)).map_err(|e| format!("{name}: {e}"))?;
        let t = rfm(&store.purchase_log()?, day(2026, 1, 31), TieRule::Shared)?;
        assert_eq!(t.monetary_minor(), [199_999_999_999_998], "{name}");
    }
    Ok(())
}

/// `purchase add A 20 --at 0205-03-01` broke `report` and `cohort` for good.
#[test]
fn a_purchase_dated_in_year_205_is_an_outlier_in_every_store() -> TestResult {
    for (name, store, ids) in stores(2) {
        let eur = |c| Money::from_minor(c, Currency::EUR);
        store.record_purchase(NewPurchase::new(ids[0], noon(205, 3, 1), eur(2_000)))?;
        store.record_purchase(NewPurchase::new(ids[0], noon(2026, 1, 3), eur(500)))?;
        store.record_purchase(NewPurchase::new(ids[1], noon(2026, 1, 4), eur(700)))?;
        analyse(&store, day(2026, 1, 31)).map_err(|e| format!("{name}: {e}"))?;
        let report = report(&store, Period::month(2026, 1)?)?;
        assert_eq!(report.outliers.dated_before_earliest, 1, "{name}");
        assert_eq!(
            report.cohorts.rows.len(),
            1,
            "{name}: {:?}",
            report.cohorts.rows
        );
        assert_eq!(report.cohorts.rows[0].size, 2, "{name}");
    }
    Ok(())
}

/// `stage set 5 won_back --at 2205-01-01` froze that customer, and `stage reassess
/// --apply` then applied none of the pending moves.
#[test]
fn a_future_dated_stage_change_does_not_freeze_reassess() -> TestResult {
    for (name, store, ids) in stores(5) {
        for &id in &ids {
            store.record_purchase(NewPurchase::new(
                id,
                noon(2026, 1, 5),
                Money::from_minor(1_000, Currency::EUR),
            ))?;
        }
        // Customer 2 was moved to Lead "in 2205": a typo.
        store.change_stage(
            ids[1],
            LifecycleStage::Lead,
            noon(2205, 1, 1),
            StageReason::Manual { note: None },
        )?;
        let as_of = noon(2026, 2, 1);
        let found = store.read(|r| r.reassess_all(&LifecyclePolicy::default(), as_of))?;
        assert_eq!(found.suggestions.len(), 4, "{name}");
        assert_eq!(found.future_dated.len(), 1, "{name}");
        assert_eq!(found.future_dated[0].customer, ids[1], "{name}");
        assert_eq!(found.future_dated[0].change.at, noon(2205, 1, 1), "{name}");
        // Every suggestion applies: the loop of `stage reassess --apply` completes.
        for (id, s) in &found.suggestions {
            store.write(|w| w.apply_suggestion(*id, s, &LifecyclePolicy::default(), as_of))?;
        }
        let again = store.read(|r| r.reassess_all(&LifecyclePolicy::default(), as_of))?;
        assert!(
            again.suggestions.is_empty(),
            "{name}: {:?}",
            again.suggestions
        );
        assert_eq!(
            store.customer(ids[0])?.stage(),
            LifecycleStage::New,
            "{name}"
        );
    }
    Ok(())
}

/// Any instant chrono can represent: mostly plausible dates, often the extremes.
fn any_instant() -> impl Strategy<Value = DateTime<Utc>> {
    let min = DateTime::<Utc>::MIN_UTC.timestamp();
    let max = DateTime::<Utc>::MAX_UTC.timestamp();
    prop_oneof![
        3 => noon(2020, 1, 1).timestamp()..noon(2027, 1, 1).timestamp(),
        1 => min..=max,
        1 => prop::sample::select(vec![
            min,
            max,
            noon(1, 1, 1).timestamp(),
            noon(205, 3, 1).timestamp(),
            noon(1899, 12, 31).timestamp(),
            noon(2199, 12, 31).timestamp(),
            noon(2205, 1, 1).timestamp(),
        ]),
    ]
    .prop_map(|secs| DateTime::from_timestamp(secs, 0).unwrap_or_default())
}

/// Any amount in minor units: small ones, ones near the bound, and any i64.
fn any_amount() -> impl Strategy<Value = i64> {
    let bound = Currency::EUR.max_stored_minor();
    prop_oneof![
        2 => 0..100_000i64,
        1 => (bound - 1_000)..=bound,
        1 => any::<i64>(),
    ]
}

/// The dates a user asks about: usually now, sometimes the extremes.
fn any_as_of() -> impl Strategy<Value = NaiveDate> {
    prop_oneof![
        4 => Just(day(2026, 6, 30)),
        1 => prop::sample::select(vec![
            day(1900, 1, 31),
            day(2199, 12, 31),
            day(205, 3, 31),
            NaiveDate::MIN,
            NaiveDate::MAX,
        ]),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Whatever `record_purchase` accepts never breaks the analytics: for a date in
    /// the plausible calendar every command succeeds; for any other date asked for
    /// they return (an error then concerns that date, never a record) without
    /// panicking.
    #[test]
    fn no_accepted_purchase_breaks_the_analytics(
        rows in prop::collection::vec((0usize..3, any_instant(), any_amount()), 1..24),
        refunds in prop::collection::vec((any_instant(), 1..1_000i64), 0..4),
        stage_at in any_instant(),
        as_of in any_as_of(),
    ) {
        for (name, store, ids) in stores(3) {
            let mut accepted = Vec::new();
            for &(c, at, minor) in &rows {
                // Refused purchases (beyond the bound, a date the store cannot keep)
                // are fine; only what is accepted must be measurable.
                if let Ok(p) = store.record_purchase(NewPurchase::new(
                    ids[c],
                    at,
                    Money::from_minor(minor, Currency::EUR),
                )) {
                    accepted.push(p.id());
                }
            }
            for (&(at, minor), &purchase) in refunds.iter().zip(&accepted) {
                let _ = store.record_refund(solocrm::NewRefund {
                    purchase,
                    at,
                    amount: Money::from_minor(minor, Currency::EUR),
                    reason: None,
                });
            }
            // A stage change at any instant (a typo such as 2205) never freezes reassess.
            let _ = store.change_stage(ids[0], LifecycleStage::Lead, stage_at, StageReason::Manual { note: None });
            let asked = analyse(&store, day(2026, 6, 30));
            prop_assert!(asked.is_ok(), "{}: {:?}", name, asked);
            if solocrm::time::check_date("as of", as_of).is_ok() {
                let asked = analyse(&store, as_of);
                prop_assert!(asked.is_ok(), "{}: as of {}: {:?}", name, as_of, asked);
            } else {
                // Outside the calendar: any answer but a panic.
                let _ = analyse(&store, as_of);
            }
        }
    }
}

/// NFC and NFD spellings of one email made two customers: now the second is a
/// duplicate, and either spelling finds the first.
#[test]
fn nfd_and_nfc_spellings_of_an_email_are_one_customer_in_every_store() -> TestResult {
    for (name, store, _) in stores(0) {
        let nfc = solocrm::Email::parse("Zo\u{eb}@example.com")?;
        let nfd = solocrm::Email::parse("Zoe\u{308}@example.com")?;
        let zoe = PersonName::parse("Zoë")?;
        let person = |email| {
            NewCustomer::new(
                CustomerData::new(zoe.clone()).with_email(email),
                noon(2026, 1, 1),
            )
        };
        let first = store.create_customer(person(nfc.clone()))?;
        assert!(
            store.create_customer(person(nfd.clone())).is_err(),
            "{name}"
        );
        let found = store.customer_by_email(&nfd)?.map(|c| c.id());
        assert_eq!(found, Some(first.id()), "{name}");
    }
    Ok(())
}
