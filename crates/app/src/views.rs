//! Typed view models: what a frontend shows, computed once. Their serde form is the
//! `--json` contract of the command line (`docs/cli.md`), and what the web workspace
//! renders.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Serialize;
use solocrm_core::metrics::MetricsReport;
use solocrm_core::{
    CustomerExport, CustomerId, LifecycleStage, Measured, Period, Ratio, Reader, ReportConfig,
    ReportCustomer, ReportError, StoreResult,
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
    /// NPS of the customers who answered, each by their latest answer, two decimals.
    pub nps_per_customer: Option<f64>,
    /// CSAT of the customers who answered, each by their latest answer, in percent.
    pub csat_per_customer: Option<f64>,
    /// The mean customer effort score (1 very easy to 7 very difficult), two decimals.
    pub ces: Option<f64>,
    /// The share of low-effort CES answers (1–3) in percent, two decimals.
    pub ces_low_effort: Option<f64>,
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
    /// The period's recorded costs (voided ones left out), as an exact decimal string.
    pub costs: String,
    /// ROI of the costs on net revenue in percent, two decimals; `null` without costs.
    pub roi: Option<f64>,
    /// ROI of the costs on gross margin (net revenue × gross margin) in percent, two
    /// decimals; `null` without costs or without a measurable margin.
    pub roi_gross_margin: Option<f64>,
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
    pub fn new(period: Period, customers: &[ReportCustomer], report: MetricsReport) -> Dashboard {
        let mut counts = [0_usize; LifecycleStage::ALL.len()];
        for c in customers.iter().filter(|c| !c.erased) {
            if let Some(i) = LifecycleStage::ALL.iter().position(|s| *s == c.stage) {
                counts[i] += 1;
            }
        }
        let stages: Vec<(LifecycleStage, usize)> =
            LifecycleStage::ALL.iter().copied().zip(counts).collect();
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
            nps_per_customer: r
                .satisfaction
                .nps_per_customer
                .value()
                .and_then(|n| number(n.score.round_dp(2))),
            csat_per_customer: r
                .satisfaction
                .csat_per_customer
                .value()
                .and_then(|c| number(c.share.percent_rounded(2))),
            ces: r
                .satisfaction
                .ces
                .value()
                .and_then(|c| number(c.average.round_dp(2))),
            ces_low_effort: r
                .satisfaction
                .ces
                .value()
                .and_then(|c| number(c.low_effort_share.percent_rounded(2))),
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
            costs: r
                .spend
                .as_ref()
                .map_or_else(|| "0".to_owned(), |s| s.total.amount().to_string()),
            roi: r
                .spend
                .as_ref()
                .and_then(|s| s.roi_on_revenue.value())
                .and_then(|c| number(c.roi_percent().round_dp(2))),
            roi_gross_margin: r
                .spend
                .as_ref()
                .and_then(|s| s.roi_on_gross_margin.value())
                .and_then(|c| number(c.roi_percent().round_dp(2))),
            stages,
            report,
        }
    }
}

/// One customer's page: everything stored about them and their points balance, read in
/// one snapshot (so the balance and the ledger always agree).
///
/// Its JSON is the [`CustomerExport`] (deals, requests, tasks and consents included)
/// with `points_balance`, `lifetime_points` and `tier` beside it: what
/// `solocrm customer show --json` prints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CustomerPage {
    /// Everything stored about the customer.
    #[serde(flatten)]
    pub export: CustomerExport,
    /// Their points balance.
    pub points_balance: i64,
    /// Their lifetime points ([`solocrm_core::lifetime_points`]), which the tier goes by.
    pub lifetime_points: i64,
    /// Their tier of the points program, if the books have tiers and they reach one.
    pub tier: Option<solocrm_core::Tag>,
}

impl CustomerPage {
    /// Reads the customer's page.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`](solocrm_core::StoreError::NotFound) for an unknown
    /// customer; the backend's errors.
    pub fn load(reader: &Reader<'_>, customer: CustomerId) -> StoreResult<CustomerPage> {
        let export = reader.export_customer(customer)?;
        let lifetime_points = solocrm_core::lifetime_points(&export.points);
        let tiers = reader.points_tiers()?;
        Ok(CustomerPage {
            tier: tiers.tier_for(lifetime_points).map(|t| t.name.clone()),
            lifetime_points,
            points_balance: reader.points_balance(customer)?,
            export,
        })
    }
}

/// One open deal on the [`PipelineBoard`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BoardCard {
    /// The deal.
    pub deal: solocrm_core::DealId,
    /// Its customer.
    pub customer: CustomerId,
    /// The customer's name (a placeholder for an erased one).
    pub customer_name: String,
    /// What the deal is about.
    pub title: String,
    /// Its value.
    pub value: solocrm_core::Money,
    /// Whole days since it last moved, as of the board's day (0 if it moved later).
    pub days_in_stage: i64,
    /// When it is expected to close, if said.
    pub expected_close: Option<NaiveDate>,
}

/// One column of the [`PipelineBoard`]: an open stage and its deals.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BoardColumn {
    /// The stage.
    pub stage: solocrm_core::DealStage,
    /// Its win probability.
    pub probability: Decimal,
    /// Its deals, longest in the stage first (then by id).
    pub cards: Vec<BoardCard>,
    /// The sum of their values.
    pub total: solocrm_core::Money,
    /// The sum of their values weighted by the stage's probability, rounded to the
    /// currency's minor unit.
    pub weighted: solocrm_core::Money,
}

/// The open deals as a board: one column per open stage in pipeline order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PipelineBoard {
    /// The day the board is as of (in the books' time zone).
    pub as_of: NaiveDate,
    /// The columns, in pipeline order.
    pub columns: Vec<BoardColumn>,
}

impl PipelineBoard {
    /// The board of the deals of the customers `keep` admits only (a group's board):
    /// each column's total and weighted value summed again over the cards left.
    ///
    /// # Errors
    ///
    /// [`StoreError::Backend`](solocrm_core::StoreError::Backend) if a sum overflows
    /// (it cannot: the cards left are a part of sums that did not).
    pub fn only(
        mut self,
        keep: impl Fn(solocrm_core::CustomerId) -> bool,
    ) -> StoreResult<PipelineBoard> {
        use solocrm_core::{Money, StoreError};
        for column in &mut self.columns {
            column.cards.retain(|c| keep(c.customer));
            let currency = column.total.currency();
            let mut total = Money::zero(currency);
            for c in &column.cards {
                total = total.checked_add(c.value).map_err(StoreError::backend)?;
            }
            column.weighted = Money::new(
                (total.amount() * column.probability).round_dp(currency.minor_unit_digits()),
                currency,
            );
            column.total = total;
        }
        Ok(self)
    }

    /// Reads the open deals and their customers' names in one snapshot.
    ///
    /// # Errors
    ///
    /// The backend's; [`StoreError::Backend`](solocrm_core::StoreError::Backend) if a
    /// sum overflows (values are bounded, so it cannot with stored deals).
    pub fn load(
        reader: &Reader<'_>,
        as_of: chrono::DateTime<chrono::Utc>,
        probabilities: &solocrm_core::StageProbabilities,
    ) -> StoreResult<PipelineBoard> {
        use solocrm_core::{DealStage, Money, OpenQuery, StoreError};
        let currency = reader.currency();
        let deals = reader.deals(&OpenQuery {
            customer: None,
            open_only: true,
        })?;
        let mut names = std::collections::HashMap::new();
        let mut columns = Vec::new();
        for stage in DealStage::OPEN {
            let probability = probabilities.of(stage);
            let mut cards = Vec::new();
            let mut total = Money::zero(currency);
            for d in deals.iter().filter(|d| d.stage() == stage) {
                let name = name_of(reader, &mut names, d.customer())?;
                total = total.checked_add(d.value()).map_err(StoreError::backend)?;
                cards.push(BoardCard {
                    deal: d.id(),
                    customer: d.customer(),
                    customer_name: name,
                    title: d.title().to_string(),
                    value: d.value(),
                    days_in_stage: (as_of - d.last_change_at()).num_days().max(0),
                    expected_close: d.expected_close(),
                });
            }
            cards.sort_by(|a, b| {
                b.days_in_stage
                    .cmp(&a.days_in_stage)
                    .then(a.deal.cmp(&b.deal))
            });
            let weighted = Money::new(
                (total.amount() * probability).round_dp(currency.minor_unit_digits()),
                currency,
            );
            columns.push(BoardColumn {
                stage,
                probability,
                cards,
                total,
                weighted,
            });
        }
        Ok(PipelineBoard {
            as_of: reader.time_zone()?.date_of(as_of),
            columns,
        })
    }
}

/// One line of the [`CareList`]: a reminder and the name of the customer it concerns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CareEntry {
    /// The reminder.
    #[serde(flatten)]
    pub item: solocrm_core::CareItem,
    /// The customer's name, if it concerns one.
    pub customer_name: Option<String>,
}

/// Who needs care in a window of days, with names, from one snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CareList {
    /// The first day of the window (in the books' time zone).
    pub as_of: NaiveDate,
    /// How many days ahead it looks.
    pub days: u32,
    /// The reminders, by day, customer and kind.
    pub entries: Vec<CareEntry>,
}

impl CareList {
    /// Reads the care reminders of the window and the names they need.
    ///
    /// # Errors
    ///
    /// The backend's.
    pub fn load(
        reader: &Reader<'_>,
        as_of: chrono::DateTime<chrono::Utc>,
        days: u32,
        config: &solocrm_core::CareConfig,
    ) -> StoreResult<CareList> {
        let items = reader.care_due(as_of, days, config)?;
        let mut names = std::collections::HashMap::new();
        let mut entries = Vec::with_capacity(items.len());
        for item in items {
            let customer_name = match item.customer {
                Some(id) => Some(name_of(reader, &mut names, id)?),
                None => None,
            };
            entries.push(CareEntry {
                item,
                customer_name,
            });
        }
        Ok(CareList {
            as_of: reader.time_zone()?.date_of(as_of),
            days,
            entries,
        })
    }
}

/// The name of customer `id`, read once per view.
fn name_of(
    reader: &Reader<'_>,
    names: &mut std::collections::HashMap<CustomerId, String>,
    id: CustomerId,
) -> StoreResult<String> {
    if let Some(n) = names.get(&id) {
        return Ok(n.clone());
    }
    let n = reader.customer(id)?.name().to_string();
    names.insert(id, n.clone());
    Ok(n)
}
