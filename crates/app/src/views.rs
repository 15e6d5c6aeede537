//! Typed view models: what a frontend shows, computed once. Their serde form is the
//! `--json` contract of the command line (`docs/cli.md`), and what the web workspace
//! renders.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Serialize;
use solocrm_core::metrics::MetricsReport;
use solocrm_core::{
    Customer, CustomerExport, CustomerId, LifecycleStage, Measured, Period, Ratio, Reader,
    ReportConfig, ReportError, StoreResult,
};

/// A percentage or score as a JSON number (two decimals), `null` when undefined.
fn number(d: Decimal) -> Option<f64> {
    d.to_string().parse::<f64>().ok()
}

fn percent(r: &Measured<Ratio>) -> Option<f64> {
    r.value().and_then(|r| number(r.percent_rounded(2)))
}

/// The first and last day of a dashboard's period (`end` exclusive).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PeriodView {
    /// The first day.
    pub start: NaiveDate,
    /// The day after the last.
    pub end: NaiveDate,
}

/// The dashboard of a period: the headline figures, customers by lifecycle stage, and
/// the whole [`MetricsReport`], all from one snapshot.
///
/// Its JSON is what `solocrm report --json` prints.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Dashboard {
    /// The period.
    pub period: PeriodView,
    /// The day the report is as of (its last day).
    pub as_of: NaiveDate,
    /// NPS of the period's answers, two decimals.
    pub nps: Option<f64>,
    /// CSAT (share satisfied) in percent, two decimals.
    pub csat: Option<f64>,
    /// Churn rate in percent.
    pub churn_rate: Option<f64>,
    /// Retention rate in percent.
    pub retention_rate: Option<f64>,
    /// Customer retention rate (E − N) / S in percent.
    pub crr: Option<f64>,
    /// Repeat purchase rate in percent.
    pub repeat_purchase_rate: Option<f64>,
    /// Loyalty index in percent.
    pub loyalty_index: Option<f64>,
    /// Revenue of the period, as an exact decimal string.
    pub revenue: String,
    /// Revenue net of refunds, as an exact decimal string.
    pub net_revenue: String,
    /// Customers (not erased) per stage, by stage name.
    pub customers_by_stage: BTreeMap<&'static str, usize>,
    /// Every metric of the period.
    pub report: MetricsReport,
    /// The same counts in lifecycle order, for a table.
    #[serde(skip)]
    pub stages: Vec<(LifecycleStage, usize)>,
}

impl Dashboard {
    /// Reads the period's data in the reader's one snapshot and computes the dashboard.
    ///
    /// # Errors
    ///
    /// [`ReportError`] if reading fails or the data cannot be measured at all.
    pub fn load(
        reader: &Reader<'_>,
        period: Period,
        config: &ReportConfig,
    ) -> Result<Dashboard, ReportError> {
        let data = reader.report_data(period)?;
        let report = MetricsReport::compute(&data, period, config)?;
        Ok(Dashboard::new(period, &data.customers, report))
    }

    /// The dashboard of a computed report and the customers it was computed from.
    pub fn new(period: Period, customers: &[Customer], report: MetricsReport) -> Dashboard {
        let live: Vec<&Customer> = customers.iter().filter(|c| !c.is_erased()).collect();
        let stages: Vec<(LifecycleStage, usize)> = LifecycleStage::ALL
            .iter()
            .map(|s| (*s, live.iter().filter(|c| c.stage() == *s).count()))
            .collect();
        let r = &report;
        let churn = r.retention.churn.value();
        Dashboard {
            period: PeriodView {
                start: period.start(),
                end: period.end(),
            },
            as_of: r.as_of,
            nps: r
                .satisfaction
                .nps
                .value()
                .and_then(|n| number(n.score.round_dp(2))),
            csat: r
                .satisfaction
                .csat
                .value()
                .and_then(|c| number(c.share.percent_rounded(2))),
            churn_rate: churn.and_then(|c| number(c.churn_rate.percent_rounded(2))),
            retention_rate: churn.and_then(|c| number(c.retention_rate.percent_rounded(2))),
            crr: percent(&r.retention.crr),
            repeat_purchase_rate: percent(&r.purchases.repeat_purchase_rate),
            loyalty_index: r
                .loyalty
                .value()
                .and_then(|l| number(l.index.percent_rounded(2))),
            revenue: r.purchases.stats.revenue.amount().to_string(),
            net_revenue: r.purchases.net_revenue.amount().to_string(),
            customers_by_stage: stages.iter().map(|(s, n)| (s.as_str(), *n)).collect(),
            stages,
            report,
        }
    }
}

/// One customer's page: everything stored about them and their points balance, read in
/// one snapshot (so the balance and the ledger always agree).
///
/// Its JSON is the [`CustomerExport`] with `points_balance` beside it: what
/// `solocrm customer show --json` prints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CustomerPage {
    /// Everything stored about the customer.
    #[serde(flatten)]
    pub export: CustomerExport,
    /// Their points balance.
    pub points_balance: i64,
}

impl CustomerPage {
    /// Reads the customer's page.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`](solocrm_core::StoreError::NotFound) for an unknown
    /// customer; the backend's errors.
    pub fn load(reader: &Reader<'_>, customer: CustomerId) -> StoreResult<CustomerPage> {
        Ok(CustomerPage {
            export: reader.export_customer(customer)?,
            points_balance: reader.points_balance(customer)?,
        })
    }
}
