//! Progress against the sales targets (`solocrm target progress`, and the targets in
//! `solocrm report`; issue 18, ADR 0029).
//!
//! The actual figure of a target is read from the very report `solocrm report` prints
//! for the target's days up to the day asked about (the period's first day through
//! `as_of`, or the whole period once it is over), computed by the same code
//! ([`load_dashboard`]) from the books as they stood at the end of that day:
//!
//! | metric | figure of the report |
//! |---|---|
//! | `revenue` | net revenue (revenue minus refunds dated in the days) |
//! | `new_customers` | customers acquired (first purchase in the days) |
//! | `deals_won` | deals won in the days |
//! | `retention_rate` | retention rate (share of the start's customers still customers) |
//!
//! The share and the forecast are [`solocrm_core::target`]'s formulas.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use solocrm_core::metrics::MetricsReport;
use solocrm_core::target::{Target, TargetMetric, TargetPeriod, TargetProgress};
use solocrm_core::{Crm, ReportConfig, ReportError};

use crate::groups::GroupError;
use crate::trends::load_dashboard;

/// The actual figure of `metric` in `report`; `None` for a retention rate the report
/// could not measure (no customers at the start).
pub fn actual_of(metric: TargetMetric, report: &MetricsReport) -> Option<Decimal> {
    match metric {
        TargetMetric::Revenue => Some(report.purchases.net_revenue.amount()),
        TargetMetric::NewCustomers => Some(Decimal::from(report.retention.base.acquired)),
        // The win rate is undefined only when no deal was closed: none won.
        TargetMetric::DealsWon => Some(Decimal::from(
            report.pipeline.win_rate.value().map_or(0, |w| w.won),
        )),
        TargetMetric::RetentionRate => report
            .retention
            .churn
            .value()
            .map(|c| c.retention_rate.value()),
    }
}

/// The targets that overlap `period` (calendar periods nest, so: those containing it
/// and those inside it), in their listing order.
pub fn overlapping(targets: &[Target], period: TargetPeriod) -> Vec<Target> {
    targets
        .iter()
        .filter(|t| t.period().start() < period.end() && period.start() < t.period().end())
        .cloned()
        .collect()
}

/// The targets whose period overlaps the days `[from, to)`, in their listing order.
pub fn overlapping_days(targets: &[Target], from: NaiveDate, to: NaiveDate) -> Vec<Target> {
    targets
        .iter()
        .filter(|t| t.period().start() < to && from < t.period().end())
        .cloned()
        .collect()
}

/// Progress of each of `targets` as of the end of `as_of`, each from the report of
/// its period's days up to then (one report per distinct period).
///
/// # Errors
///
/// Reading or measuring errors of the report.
pub fn progress(
    crm: &Crm,
    targets: &[Target],
    as_of: NaiveDate,
    config: &ReportConfig,
    now: DateTime<Utc>,
) -> Result<Vec<TargetProgress>, GroupError> {
    let zone = crm.read(|r| r.time_zone())?;
    let mut reports: BTreeMap<(NaiveDate, NaiveDate), MetricsReport> = BTreeMap::new();
    let mut out = Vec::with_capacity(targets.len());
    for t in targets {
        let p = t.period();
        let elapsed = p.elapsed_days(as_of);
        if elapsed == 0 {
            out.push(TargetProgress::new(t.clone(), as_of, None, 2));
            continue;
        }
        let start = p.start();
        let end = as_of.succ_opt().unwrap_or(as_of).min(p.end());
        let report = match reports.get(&(start, end)) {
            Some(r) => r,
            None => {
                let days = solocrm_core::Period::new(start, end)
                    .map_err(ReportError::from)?
                    .in_zone(zone);
                let loaded = load_dashboard(crm, days, config, None, now)?;
                reports
                    .entry((start, end))
                    .or_insert(loaded.dashboard.report)
            }
        };
        let digits = match t.metric() {
            TargetMetric::Revenue => report.currency.minor_unit_digits(),
            _ => 2,
        };
        out.push(TargetProgress::new(
            t.clone(),
            as_of,
            actual_of(t.metric(), report),
            digits,
        ));
    }
    Ok(out)
}

/// A target's value as typed: `85%` or `0.85` for the retention rate, a plain decimal
/// otherwise (no digit grouping). `None` if it is no number; whether the number fits
/// the metric is [`Target::new`]'s check.
///
/// ```
/// use rust_decimal::Decimal;
/// use solocrm_app::targets::parse_value;
/// use solocrm_core::target::TargetMetric;
/// let r = TargetMetric::RetentionRate;
/// assert_eq!(parse_value(r, "85%"), Some(Decimal::new(85, 2)));
/// assert_eq!(parse_value(r, "0.85"), Some(Decimal::new(85, 2)));
/// assert_eq!(parse_value(r, "八成"), None);
/// assert_eq!(parse_value(TargetMetric::Revenue, "1,000"), None);
/// ```
pub fn parse_value(metric: TargetMetric, input: &str) -> Option<Decimal> {
    let s = input.trim();
    if metric == TargetMetric::RetentionRate
        && let Some(pct) = s.strip_suffix('%')
    {
        let p = solocrm_core::money::parse_plain_decimal(pct.trim()).ok()?;
        return Some(p / Decimal::ONE_HUNDRED);
    }
    solocrm_core::money::parse_plain_decimal(s).ok()
}

/// A value of `metric` as shown: a percentage for the retention rate (`85%`), the
/// plain decimal otherwise.
pub fn shown_value(metric: TargetMetric, v: Decimal) -> String {
    match metric {
        TargetMetric::RetentionRate => {
            format!("{}%", (v * Decimal::ONE_HUNDRED).round_dp(2).normalize())
        }
        _ => v.normalize().to_string(),
    }
}
