//! The small-book property (issue 12): for any book of 1–200 customers from the sample
//! generator, every model's guarded output is finite and every 12-month CLV stays
//! within the customer's bound (`guard::clv_bound`, docs/clv.md "Small books").

use chrono::{Duration, NaiveDate};
use proptest::prelude::*;
use solocrm_models::guard::{History, clv_bound, historic_value};
use solocrm_models::{
    BgNbd, ClvOptions, CountData, CustomerSummary, FitOptions, Fitted, GuardOptions, MbgNbd,
    ModelError, ParetoNbd, PurchaseModel, SummaryOptions, TimeUnit, ValueMethod, guarded_clv,
};
use solocrm_sample::{GenConfig, purchase_log};

/// Checks one model on one book; returns the number of historic values.
fn check<M: PurchaseModel + Sync>(
    summary: &CustomerSummary,
    fit: fn(&CountData, &FitOptions) -> Result<Fitted<M>, ModelError>,
    penalizer: Option<f64>,
) -> Result<usize, TestCaseError> {
    let opts = GuardOptions {
        penalizer,
        horizon: 52.0,
        clv: ClvOptions::default(),
    };
    let g = guarded_clv(summary, fit, &opts).map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert_eq!(g.values.len(), summary.len());
    prop_assert!(g.penalizer.is_finite() && g.penalizer >= 0.0);
    let mut historic = 0;
    for (i, v) in g.values.iter().enumerate() {
        let bound = clv_bound(summary.total_spend(i), summary.t(i), TimeUnit::Week, 12);
        prop_assert!(
            v.p_alive.is_finite() && (0.0..=1.0).contains(&v.p_alive),
            "{v:?}"
        );
        prop_assert!(
            v.expected_purchases.is_finite() && v.expected_purchases >= 0.0,
            "{v:?}"
        );
        prop_assert!(v.clv.is_finite() && v.clv >= 0.0, "{v:?}");
        prop_assert_eq!(v.bound, bound);
        prop_assert!(v.clv <= bound, "customer {i}: {v:?} above {bound}");
        if v.method == ValueMethod::Historic {
            historic += 1;
        }
    }
    for w in &g.warnings {
        prop_assert!(!w.is_empty());
    }
    // Anything historic is said.
    if historic > 0 {
        prop_assert!(!g.warnings.is_empty());
    }
    Ok(historic)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn every_small_book_gets_finite_values_within_the_bound(
        customers in 1_u32..=200,
        per_customer in 1_u64..=12,
        seed in any::<u64>(),
        // Calibration end from 2023-03-01 to 2025-12-31.
        end_offset in 0_i64..=1035,
        penalizer in prop_oneof![Just(None), (0.0..=0.5_f64).prop_map(Some)],
    ) {
        let log = purchase_log(&GenConfig::new(customers, seed).with_purchases(u64::from(customers) * per_customer));
        let start = NaiveDate::from_ymd_opt(2023, 3, 1).ok_or_else(|| TestCaseError::fail("date"))?;
        let end = start + Duration::days(end_offset);
        let summary = CustomerSummary::from_log(&log, &SummaryOptions::new(end, TimeUnit::Week))
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assume!(!summary.is_empty());
        check(&summary, BgNbd::fit, penalizer)?;
        check(&summary, MbgNbd::fit, penalizer)?;
        check(&summary, ParetoNbd::fit, penalizer)?;
    }

    #[test]
    fn the_historic_value_never_exceeds_the_bound(
        x in 0_u32..500,
        t in 0.0..600.0_f64,
        recency_share in 0.0..=1.0_f64,
        spend in 0.0..1e7_f64,
        pooled in 0.0..5.0_f64,
        months in 1_u32..=1200,
        discount in 0.0..0.2_f64,
    ) {
        let h = History { frequency: x, recency: if x == 0 { 0.0 } else { t * recency_share }, t, total_spend: spend };
        let opts = ClvOptions { horizon_months: months, discount_monthly: discount, ..ClvOptions::default() };
        let (p, e, v) = historic_value(&h, pooled, 52.0, &opts);
        prop_assert!(p.is_finite() && (0.0..=1.0).contains(&p));
        prop_assert!(e.is_finite() && e >= 0.0);
        prop_assert!(v.is_finite() && v >= 0.0);
        prop_assert!(v <= clv_bound(spend, t, TimeUnit::Week, months));
    }
}

/// The 20-customer demo-sized book of the issue: the old fits ran a parameter to 2e9 or
/// failed; guarded, every model gives a value to every customer and says why it is rough.
#[test]
fn a_twenty_customer_book_is_warned_about_and_fully_valued() {
    let log = purchase_log(&GenConfig::new(20, 1));
    let end = NaiveDate::from_ymd_opt(2025, 12, 31).expect("valid");
    let summary = CustomerSummary::from_log(&log, &SummaryOptions::new(end, TimeUnit::Week))
        .expect("summary");
    let opts = GuardOptions {
        penalizer: None,
        horizon: 52.0,
        clv: ClvOptions::default(),
    };
    let g = guarded_clv(&summary, BgNbd::fit, &opts).expect("guarded");
    assert!(!g.warnings.is_empty());
    assert!(g.warnings[0].starts_with("small book"), "{:?}", g.warnings);
    assert_eq!(g.penalizer, 0.01);
    assert!(g.values.iter().any(|v| v.clv > 0.0));
}

/// A one-customer book without repeat purchases cannot be fitted at all: every value is
/// historic, and the warning says so.
#[test]
fn a_book_that_cannot_be_fitted_is_all_historic() {
    let log = purchase_log(&GenConfig::new(1, 7).with_purchases(1));
    let end = NaiveDate::from_ymd_opt(2025, 12, 31).expect("valid");
    let summary = CustomerSummary::from_log(&log, &SummaryOptions::new(end, TimeUnit::Week))
        .expect("summary");
    assert_eq!(summary.len(), 1);
    let opts = GuardOptions {
        penalizer: Some(0.0),
        horizon: 52.0,
        clv: ClvOptions::default(),
    };
    let g = guarded_clv(&summary, ParetoNbd::fit, &opts).expect("guarded");
    assert!(g.fitted.is_err());
    assert_eq!(g.values[0].method, ValueMethod::Historic);
    assert!(
        g.warnings.iter().any(|w| w.contains("could not be fitted")),
        "{:?}",
        g.warnings
    );
    // A bad penaliser is an error, not a warning.
    let bad = GuardOptions {
        penalizer: Some(-1.0),
        ..opts
    };
    assert!(guarded_clv(&summary, BgNbd::fit, &bad).is_err());
}
