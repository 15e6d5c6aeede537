//! [`MetricsReport`]: every metric of a period in one serialisable value, computed
//! from a [`ReportData`] snapshot (which
//! [`Reader::metrics_report`](crate::ops::Reader::metrics_report) reads in one
//! transaction).

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::behaviour::{
    Engagement, LoyaltyIndex, PurchaseStats, engagement_of, log_currency, loyalty_index,
    purchase_stats,
};
use super::cohort::{CohortGrain, CohortMatrix, cohort_matrix};
use super::digest::{Digest, Digests, Start};
use super::error::{Measured, MetricError, MetricResult};
use super::period::Period;
use super::pipeline::{PipelineMetrics, pipeline_metrics};
use super::ratio::{Ratio, exact_div, minor_of, money_from_minor};
use super::report_rows::{LogCosts, ReportInteraction, ReportPurchase, ReportPurchases};
use super::retention::{Churn, CustomerBase};
use super::rfm::{Basis as RfmBasis, RfmTable, SegmentCount, TieRule, rfm_of_aggregates};
use super::satisfaction::{
    CSAT_SATISFIED_FROM, Ces, Csat, Nps, ces, csat, csat_per_customer, nps, nps_per_customer,
};
use super::screen::{Outliers, screen};
use super::service::{ServiceMetrics, service_metrics};
use super::spend::{SpendInputs, SpendSection, spend_section};
use super::value::{
    AcquisitionRecord, CacByChannel, HistoricalClv, average_clv, cac_by_channel, gross_margin_of,
    ltv_to_cac, retention_clv,
};
use super::warning::{Activity, ChurnWarning, WarningConfig, churn_warnings_by_contacts};
use crate::cost::Cost;
use crate::customer::Customer;
use crate::deal::{Deal, StageProbabilities};
use crate::error::ValidationError;
use crate::ids::CustomerId;
use crate::lifecycle::LifecycleStage;
use crate::money::{Currency, Money};
use crate::policy::LifecyclePolicy;
use crate::purchase::{PurchaseLog, Refund};
use crate::service::ServiceRequest;
use crate::survey::SurveyResponse;
use crate::text::Tag;

/// What a metrics report reads of a customer (the answer of
/// [`ReadTx::report_customers`](crate::port::ReadTx::report_customers)): their
/// creation, stage, whether they are erased and how they were acquired. Far lighter than a whole [`Customer`]: no name, contact
/// details, tags, profile or consents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportCustomer {
    /// The customer.
    pub id: CustomerId,
    /// When they were created.
    pub created_at: DateTime<Utc>,
    /// Their lifecycle stage.
    pub stage: LifecycleStage,
    /// True if they were erased (their anonymous amounts still count).
    pub erased: bool,
    /// Their acquisition channel, if recorded.
    pub acquisition_channel: Option<Tag>,
    /// What acquiring them cost, if recorded.
    pub acquisition_cost: Option<Money>,
}

impl ReportCustomer {
    /// The facts of a whole customer.
    pub fn of(c: &Customer) -> ReportCustomer {
        ReportCustomer {
            id: c.id(),
            created_at: c.created_at(),
            stage: c.stage(),
            erased: c.is_erased(),
            acquisition_channel: c.data().acquisition_channel.clone(),
            acquisition_cost: c.data().acquisition_cost,
        }
    }
}

/// The choices a report is computed with. Deserialising checks them
/// ([`ReportConfig::validate`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "ReportConfigRepr")]
pub struct ReportConfig {
    /// The least CSAT score counted as satisfied. Default 4.
    pub csat_satisfied_from: u8,
    /// The tie rule of the RFM scores. Default [`TieRule::Shared`].
    pub tie_rule: TieRule,
    /// Whether the report carries the per-customer RFM table (O(customers) in size) or
    /// only the segment counts. Default true.
    pub include_rfm_table: bool,
    /// Months or weeks for the cohort matrix. Default months.
    pub cohort_grain: CohortGrain,
    /// Win probabilities per deal stage. Default [`StageProbabilities::default`].
    pub stage_probabilities: StageProbabilities,
    /// The lifecycle policy: its churn horizon defines who is a customer, its overdue
    /// rule drives the early warning.
    pub policy: LifecyclePolicy,
    /// The early-warning weights.
    pub warning: WarningConfig,
    /// The yearly discount rate of the retention-based CLV. Default 0.10, a common
    /// cost of capital for small firms; set your own.
    pub discount_rate: Decimal,
    /// What the loyalty index's engagement measures. Default
    /// [`EngagementBasis::InteractionRate`](crate::metrics::EngagementBasis),
    /// the original proxy.
    pub engagement_basis: crate::metrics::EngagementBasis,
}

/// The serde form of [`ReportConfig`], checked on the way in.
#[derive(Deserialize)]
struct ReportConfigRepr {
    csat_satisfied_from: u8,
    tie_rule: TieRule,
    include_rfm_table: bool,
    cohort_grain: CohortGrain,
    stage_probabilities: StageProbabilities,
    policy: LifecyclePolicy,
    warning: WarningConfig,
    discount_rate: Decimal,
    #[serde(default)]
    engagement_basis: crate::metrics::EngagementBasis,
}

impl TryFrom<ReportConfigRepr> for ReportConfig {
    type Error = ValidationError;

    fn try_from(r: ReportConfigRepr) -> Result<Self, ValidationError> {
        let config = ReportConfig {
            csat_satisfied_from: r.csat_satisfied_from,
            tie_rule: r.tie_rule,
            include_rfm_table: r.include_rfm_table,
            cohort_grain: r.cohort_grain,
            stage_probabilities: r.stage_probabilities,
            policy: r.policy,
            warning: r.warning,
            discount_rate: r.discount_rate,
            engagement_basis: r.engagement_basis,
        };
        config.validate()?;
        Ok(config)
    }
}

impl ReportConfig {
    /// Checks the choices: a CSAT threshold on the 1–5 scale, a discount rate that is
    /// not negative, and a valid policy.
    ///
    /// # Errors
    ///
    /// [`ValidationError::Config`] naming the choice.
    pub fn validate(&self) -> Result<(), ValidationError> {
        if !(1..=5).contains(&self.csat_satisfied_from) {
            return Err(ValidationError::Config(format!(
                "the least satisfied CSAT score must be between 1 and 5, got {}",
                self.csat_satisfied_from
            )));
        }
        if self.discount_rate.is_sign_negative() && !self.discount_rate.is_zero() {
            return Err(ValidationError::Config(format!(
                "the discount rate must not be negative, got {}",
                self.discount_rate
            )));
        }
        self.policy.validate()
    }
}

impl Default for ReportConfig {
    fn default() -> Self {
        ReportConfig {
            csat_satisfied_from: CSAT_SATISFIED_FROM,
            tie_rule: TieRule::Shared,
            include_rfm_table: true,
            cohort_grain: CohortGrain::Month,
            stage_probabilities: StageProbabilities::default(),
            policy: LifecyclePolicy::default(),
            warning: WarningConfig::default(),
            discount_rate: Decimal::new(10, 2),
            engagement_basis: crate::metrics::EngagementBasis::InteractionRate,
        }
    }
}

/// Everything a report reads, owned: one snapshot of the store
/// ([`Reader::report_data`](crate::ops::Reader::report_data)).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ReportData {
    /// Every customer, erased ones included (their anonymous amounts still count), by
    /// ascending id: what the report reads of them.
    pub customers: Vec<ReportCustomer>,
    /// Every purchase, columnar.
    pub log: PurchaseLog,
    /// The purchases that are not voided up to the end of the period, with their
    /// costs (for margins), as the narrow rows a report reads (ADR 0062). Without rows
    /// (only the currency) when [`log_costs`](Self::log_costs) keeps them beside the
    /// log: read them with [`purchase_rows`](Self::purchase_rows).
    pub purchases: ReportPurchases,
    /// The rows of [`purchases`](Self::purchases) kept as the log's purchases and
    /// their costs (ADR 0076), as
    /// [`Reader::report_purchases`](crate::ops::Reader::report_purchases) makes them;
    /// `None` when the rows are in `purchases`.
    #[serde(default)]
    pub log_costs: Option<LogCosts>,
    /// Refunds up to the end of the period.
    pub refunds: Vec<Refund>,
    /// Survey answers up to the end of the period.
    pub surveys: Vec<SurveyResponse>,
    /// Who and when of the interactions that are not voided up to the end of the
    /// period (ADR 0062).
    pub interactions: Vec<ReportInteraction>,
    /// Every deal.
    pub deals: Vec<Deal>,
    /// Every service request.
    pub requests: Vec<ServiceRequest>,
    /// Every recorded cost, voided ones included (they are counted, not summed).
    pub costs: Vec<Cost>,
    /// Participations up to the end of the period (read only when the loyalty index
    /// measures engagement by them).
    #[serde(default)]
    pub participations: Vec<crate::participation::Participation>,
    /// Every campaign.
    #[serde(default)]
    pub campaigns: Vec<crate::campaign::Campaign>,
    /// Every attribution to a campaign.
    #[serde(default)]
    pub attributions: Vec<crate::campaign::Attribution>,
}

impl ReportData {
    /// These records with the purchases a report reads: what
    /// [`Reader::report_records`](crate::ops::Reader::report_records) leaves empty, read
    /// apart by [`Reader::report_purchases`](crate::ops::Reader::report_purchases)
    /// (perhaps on a second thread in the same snapshot, as
    /// [`Crm::report_data`](crate::ops::Crm::report_data) does).
    #[must_use]
    pub fn with_purchases(mut self, read: ReportPurchaseRead) -> ReportData {
        self.purchases = read.purchases;
        self.log = read.log;
        self.log_costs = read.log_costs;
        self
    }

    /// The report rows of the purchases, in order: those of
    /// [`purchases`](Self::purchases), then those kept beside the log
    /// ([`log_costs`](Self::log_costs)); one of the two is empty as a store reads them.
    pub fn purchase_rows(&self) -> impl Iterator<Item = ReportPurchase> + '_ {
        let beside = self.log_costs.iter().flat_map(|c| c.rows(&self.log));
        self.purchases.rows.iter().copied().chain(beside)
    }
}

/// The purchases a report of a period reads, the largest part of its
/// [`ReportData`]: the narrow rows and the purchase log, in the books' zone and
/// currency ([`Reader::report_purchases`](crate::ops::Reader::report_purchases)).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ReportPurchaseRead {
    /// The purchases not voided up to the period's end (see [`ReportData::purchases`]).
    pub purchases: ReportPurchases,
    /// Every purchase, columnar (see [`ReportData::log`]).
    pub log: PurchaseLog,
    /// The rows of `purchases` kept beside the log (see [`ReportData::log_costs`]).
    pub log_costs: Option<LogCosts>,
}

impl ReportPurchaseRead {
    /// `purchases` and `log` as a report keeps them: the rows as costs beside the log
    /// when they are its purchases ([`LogCosts::of`]; their own copy is dropped here),
    /// else as they are (ADR 0076).
    pub fn beside(purchases: ReportPurchases, log: PurchaseLog) -> ReportPurchaseRead {
        let log_costs = LogCosts::of(&purchases, &log);
        let purchases = match log_costs {
            Some(_) => ReportPurchases {
                currency: purchases.currency,
                rows: Vec::new(),
            },
            None => purchases,
        };
        ReportPurchaseRead {
            purchases,
            log,
            log_costs,
        }
    }
}

/// Satisfaction in the period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SatisfactionSection {
    /// CSAT of the period's answers (every answer counts).
    pub csat: Measured<Csat>,
    /// NPS of the period's answers (every answer counts).
    pub nps: Measured<Nps>,
    /// CSAT of the customers who answered in the period, each by their latest answer
    /// ([`csat_per_customer`](super::csat_per_customer)).
    pub csat_per_customer: Measured<Csat>,
    /// NPS of the customers who answered in the period, each by their latest answer
    /// ([`nps_per_customer`](super::nps_per_customer)).
    pub nps_per_customer: Measured<Nps>,
    /// The customer effort score of the period's answers ([`ces`](super::ces)).
    pub ces: Measured<Ces>,
}

/// Retention in the period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetentionSection {
    /// The headcounts.
    pub base: CustomerBase,
    /// Churn and retention rates.
    pub churn: Measured<Churn>,
    /// CRR = (E − N) / S with N = acquired + returned.
    pub crr: Measured<Ratio>,
}

/// Purchases in the period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PurchaseSection {
    /// Orders, buyers, revenue (gross).
    pub stats: PurchaseStats,
    /// Refunds dated in the period.
    pub refunds: Money,
    /// Revenue minus refunds.
    pub net_revenue: Money,
    /// Average order value (gross).
    pub average_order_value: Measured<Money>,
    /// Purchases per buyer.
    pub purchase_frequency: Measured<Decimal>,
    /// Repeat purchase rate.
    pub repeat_purchase_rate: Measured<Ratio>,
}

/// The yearly inputs of the two lifetime-value formulas, over the year that ends with
/// the period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnnualBasis {
    /// The year.
    pub year: Period,
    /// Average order value in the year.
    pub average_order_value: Measured<Money>,
    /// Purchases per buyer in the year.
    pub purchases_per_year: Measured<Decimal>,
    /// Gross margin of the year's purchases with a recorded cost.
    pub gross_margin: Measured<Decimal>,
    /// Yearly retention rate ([`CustomerBase`] over the year).
    pub retention: Measured<Ratio>,
    /// Expected lifespan in years = 1 / yearly churn rate.
    pub expected_lifespan_years: Measured<Decimal>,
    /// Margin per buyer per year = AOV × frequency × gross margin.
    pub margin_per_year: Measured<Money>,
}

/// Customer value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValueSection {
    /// Historical CLV: margin to date, total and per buyer.
    pub historical_clv: Measured<HistoricalClv>,
    /// The yearly inputs below.
    pub annual: AnnualBasis,
    /// AOV × frequency × gross margin × expected lifespan.
    pub average_clv: Measured<Money>,
    /// m × r / (1 + d − r) with the yearly margin, retention and the configured
    /// discount rate.
    pub retention_clv: Measured<Money>,
    /// Lifetime sales to date / acquisition cost, over the customers with a recorded
    /// acquisition cost (one population, so the ratio of the averages is the ratio of
    /// the sums).
    pub ltv_to_cac: Measured<Decimal>,
    /// CAC of the period, overall and per channel.
    pub cac: CacByChannel,
}

/// RFM as of the period's last day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RfmSection {
    /// Customers per segment, in the order of [`RfmSegment::ALL`](super::RfmSegment::ALL).
    pub segments: Vec<SegmentCount>,
    /// The per-customer table, if [`ReportConfig::include_rfm_table`].
    pub table: Option<RfmTable>,
}

/// Every metric of a period: one value to show, store or send, serialisable with serde.
///
/// Point-in-time figures (the customer base at the end, RFM, the pipeline, open
/// requests, the early warning) are as of the period's last day; flows (revenue,
/// answers, closed deals) are those dated in the period. Nothing reads the clock. A
/// metric that cannot be computed (no answers, no closed deals) is
/// [`Measured::Undefined`] with the reason, never a zero.
///
/// ```
/// use solocrm_core::metrics::{MetricsReport, Period, ReportConfig, ReportData};
/// use solocrm_core::{Currency, PurchaseLog};
/// let data = ReportData { log: PurchaseLog::with_customers(Currency::EUR, vec![]), ..ReportData::default() };
/// let report = MetricsReport::compute(&data, Period::month(2026, 3)?, &ReportConfig::default())?;
/// assert!(!report.satisfaction.nps.is_defined());
/// let json = serde_json::to_string(&report).unwrap();
/// assert!(json.contains(r#""nps":{"undefined":"nps is undefined: no nps responses"}"#));
/// # Ok::<(), solocrm_core::metrics::MetricError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MetricsReport {
    /// The period.
    pub period: Period,
    /// Its last day: the date of the point-in-time figures.
    pub as_of: NaiveDate,
    /// The currency of every amount.
    pub currency: Currency,
    /// CSAT and NPS.
    pub satisfaction: SatisfactionSection,
    /// Churn, retention, CRR and the headcounts.
    pub retention: RetentionSection,
    /// Order value, frequency, repeat purchases.
    pub purchases: PurchaseSection,
    /// Engagement rate and interaction frequency of the customer base at the end.
    pub engagement: Measured<Engagement>,
    /// The loyalty index and its components.
    pub loyalty: Measured<LoyaltyIndex>,
    /// CLV, LTV-to-CAC, CAC.
    pub value: ValueSection,
    /// RFM segments.
    pub rfm: RfmSection,
    /// The cohort retention matrix up to the period's end.
    pub cohorts: CohortMatrix,
    /// Pipeline metrics.
    pub pipeline: PipelineMetrics,
    /// Service metrics.
    pub service: ServiceMetrics,
    /// The churn early-warning list as of the period's last day.
    pub early_warning: Vec<ChurnWarning>,
    /// The records left out of every metric because they cannot be measured: purchases
    /// and refunds dated outside the plausible calendar, amounts beyond the storage
    /// bound or in another currency, deals and acquisition costs likewise (see
    /// [`Outliers`]). All zero for data the stores accept today.
    #[serde(default)]
    pub outliers: Outliers,
    /// The period's recorded costs: ROI on revenue and gross margin, CAC and ROI per
    /// acquisition channel. `None` only in a report serialised before costs existed.
    #[serde(default)]
    pub spend: Option<SpendSection>,
    /// Cost, customers acquired, CAC, revenue, won deals and ROI per campaign and per
    /// channel of campaigns ([`campaign_stats`](super::campaign_stats)). `None` only
    /// in a report serialised before campaigns existed.
    #[serde(default)]
    pub campaigns: Option<super::campaign::CampaignSection>,
}

impl MetricsReport {
    /// Computes the report from a snapshot. Pure.
    ///
    /// # Errors
    ///
    /// [`MetricError`] when the data cannot be measured at all: a malformed purchase
    /// log or an invalid policy. Never because of one record: records no metric can
    /// measure are skipped and counted in [`MetricsReport::outliers`], and every part
    /// bounds its work to the period (the cohort matrix to
    /// [`MAX_COHORT_PERIODS`](super::MAX_COHORT_PERIODS) periods ending with it).
    pub fn compute(
        data: &ReportData,
        period: Period,
        config: &ReportConfig,
    ) -> MetricResult<MetricsReport> {
        super::retention::check_log(&data.log, "metrics report")?;
        // The period's days are the books' days: those of the log's zone.
        let period = period.in_zone(data.log.zone);
        let currency = log_currency(&data.log, "metrics report")?;
        let (log, mut outliers) = screen(&data.log);
        let log = log.as_ref();
        let records = screen_records(data, currency, &mut outliers);
        let data = match &records {
            Some(clean) => clean,
            None => data,
        };
        let as_of = period.last_day();
        // The early-warning list needs none of the other sections: it is computed on a
        // second thread meanwhile (the same list; here if the system refuses a thread).
        let warnings = || early_warnings(data, log, config, as_of);
        std::thread::scope(|scope| {
            let spawned = std::thread::Builder::new().spawn_scoped(scope, warnings);
            let report = Self::sections(data, log, period, currency, config, outliers);
            let early_warning = match spawned {
                Ok(h) => h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)),
                Err(_) => warnings(),
            };
            // A section's error comes first, as when the list was computed last.
            let mut report = report?;
            report.early_warning = early_warning?;
            Ok(report)
        })
    }

    /// Every section of the report but the early-warning list, from the screened
    /// records and log.
    fn sections(
        data: &ReportData,
        log: &PurchaseLog,
        period: Period,
        currency: Currency,
        config: &ReportConfig,
        mut outliers: Outliers,
    ) -> MetricResult<MetricsReport> {
        let as_of = period.last_day();
        let in_period = |p: &Period, at| p.contains_instant(at);

        // Satisfaction.
        let period_surveys = answers_in(&data.surveys, &period);
        let csat_m = csat(&period_surveys, config.csat_satisfied_from);
        let nps_m = nps(&period_surveys);

        // Customer base, churn, CRR; with the trailing year's base, RFM and LTV to CAC,
        // from one pass over the log.
        if u32::try_from(log.len()).is_err() {
            return Err(MetricError::Overflow { metric: "rfm" });
        }
        let year = period.trailing_year()?;
        let digests = Digests::of(log, period, year, &config.policy);
        let flags = digests.base(period, Start::Period);
        let base = flags.counts;

        // Purchases.
        let stats = purchase_stats(log, period)?;
        let mut refunded = 0i128;
        for r in data.refunds.iter().filter(|r| in_period(&period, r.at())) {
            // Screened: in the currency and within the bound, so this neither fails
            // nor overflows.
            refunded = refunded.saturating_add(minor_of(r.amount(), currency, "refunds")?);
        }
        let refunds = money_from_minor(refunded, currency, "refunds")?;
        let net_revenue =
            stats
                .revenue
                .checked_sub(refunds)
                .map_err(|_| MetricError::Overflow {
                    metric: "net revenue",
                })?;

        // Engagement of the base at the end.
        let population: Vec<_> = log
            .customers
            .iter()
            .zip(&flags.active_at_end)
            .filter(|(_, a)| **a)
            .map(|(id, _)| *id)
            .collect();
        let engagement_m = engagement_of(&population, &data.interactions, period);

        // Loyalty index.
        let loyalty = (|| -> MetricResult<LoyaltyIndex> {
            let repeat = stats.repeat_purchase_rate()?;
            let will = nps_m.clone()?.promoter_share()?;
            match config.engagement_basis {
                crate::metrics::EngagementBasis::InteractionRate => {
                    let eng = engagement_m.clone()?.engagement_rate;
                    Ok(loyalty_index(repeat, eng, will))
                }
                basis @ crate::metrics::EngagementBasis::ParticipationRate => {
                    let eng = crate::metrics::participation_engagement(
                        &population,
                        &data.participations,
                        period,
                    )?
                    .participation_rate;
                    Ok(loyalty_index(repeat, eng, will).with_basis(basis))
                }
            }
        })();

        // Value.
        let value = value_section(
            data,
            log,
            ValueBasis {
                period,
                year,
                digests: &digests,
                first_at: &flags.first_at,
            },
            config,
            currency,
            &mut outliers,
        )?;

        // RFM's population, before the digests are dropped: their end is the first
        // instant after `as_of`, where RFM stops counting.
        debug_assert_eq!(period.end_secs(), super::rfm::end_of(log.zone, as_of));
        let unscored = rfm_of_aggregates(
            &log.customers,
            digests.rows.iter().map(Digest::agg),
            digests.earliest,
            RfmBasis {
                as_of,
                tie_rule: config.tie_rule,
                currency,
                zone: log.zone,
                // The log is screened: a second screening would find nothing.
                outliers: Outliers::default(),
            },
        )?;
        drop(digests);

        // Spend: the recorded costs against revenue, margin and new customers.
        let spend = spend_section(
            &data.costs,
            SpendInputs {
                period,
                currency,
                customers: &data.customers,
                log,
                first_at: &flags.first_at,
                net_revenue,
                gross_margin: gross_margin_of(
                    data.purchase_rows().filter(|p| period.contains_secs(p.at)),
                ),
            },
        )?;

        // Campaigns: their attributed costs, customers, revenue and deals.
        let campaigns = super::campaign::campaign_stats_over(
            super::campaign::CampaignInputs {
                period,
                currency,
                campaigns: &data.campaigns,
                attributions: &data.attributions,
                costs: &data.costs,
                // Read below as `purchase_rows`, wherever they are kept.
                purchases: &data.purchases,
                refunds: &data.refunds,
                deals: &data.deals,
            },
            data.purchases.currency,
            data.purchase_rows(),
        )?;

        // RFM, cohorts, pipeline, service, warnings.
        let table = unscored.score();
        let rfm_section = RfmSection {
            segments: table.segment_counts(),
            table: config.include_rfm_table.then_some(table),
        };
        let cohorts = cohort_matrix(log, config.cohort_grain, as_of)?;
        let pipeline =
            pipeline_metrics(&data.deals, &config.stage_probabilities, period, currency)?;
        let service = service_metrics(&data.requests, period);

        Ok(MetricsReport {
            period,
            as_of,
            currency,
            satisfaction: SatisfactionSection {
                csat: csat_m.into(),
                nps: nps_m.into(),
                csat_per_customer: csat_per_customer(&period_surveys, config.csat_satisfied_from)
                    .into(),
                nps_per_customer: nps_per_customer(&period_surveys).into(),
                ces: ces(&period_surveys).into(),
            },
            retention: RetentionSection {
                base,
                churn: base.churn().into(),
                crr: base.crr().into(),
            },
            purchases: PurchaseSection {
                stats,
                refunds,
                net_revenue,
                average_order_value: stats.average_order_value().into(),
                purchase_frequency: stats.purchase_frequency().into(),
                repeat_purchase_rate: stats.repeat_purchase_rate().into(),
            },
            engagement: engagement_m.into(),
            loyalty: loyalty.into(),
            value,
            rfm: rfm_section,
            cohorts,
            pipeline,
            service,
            early_warning: Vec::new(),
            outliers,
            spend: Some(spend),
            campaigns: Some(campaigns),
        })
    }
}

/// The answers of `surveys` dated in `period`, in their order: borrowed as one run of
/// the slice when it is in time order (as every store reads it: by time then id), so
/// the period's answers are not copied; else copied out one by one.
pub(super) fn answers_in<'a>(
    surveys: &'a [SurveyResponse],
    period: &Period,
) -> std::borrow::Cow<'a, [SurveyResponse]> {
    let secs = |s: &SurveyResponse| s.at().timestamp();
    if surveys.is_sorted_by_key(secs) {
        // The period holds the whole seconds `[start, end)`: in time order, one run.
        let from = surveys.partition_point(|s| secs(s) < period.start_secs());
        let to = surveys.partition_point(|s| secs(s) < period.end_secs());
        std::borrow::Cow::Borrowed(&surveys[from..to.max(from)])
    } else {
        std::borrow::Cow::Owned(
            surveys
                .iter()
                .filter(|s| period.contains_instant(s.at()))
                .cloned()
                .collect(),
        )
    }
}

/// The churn early-warning list of a report as of its last day `as_of`: each
/// customer's stage, latest interaction before the end of that day, purchases and open
/// requests, as [`churn_warnings_by_contacts`] weighs them.
fn early_warnings(
    data: &ReportData,
    log: &PurchaseLog,
    config: &ReportConfig,
    as_of: NaiveDate,
) -> MetricResult<Vec<ChurnWarning>> {
    let activity = Activity {
        customers: &[],
        log,
        surveys: &data.surveys,
        requests: &data.requests,
        interactions: &[],
    };
    // Each customer's latest interaction before the end of the last day, as
    // `churn_warnings_by_stage` would fold them from whole interactions.
    // Kept by the customer's place in the log (a hash map of a million customers
    // missed the processor's caches on each interaction), which lists them by id; a
    // customer the log does not list is kept aside.
    let end = log.zone.end_of(as_of);
    let mut by_place: Vec<Option<DateTime<Utc>>> = vec![None; log.customers.len()];
    let mut unlisted: BTreeMap<CustomerId, DateTime<Utc>> = BTreeMap::new();
    for i in data.interactions.iter().filter(|i| i.at < end) {
        match log.index_of(i.customer) {
            Some(k) => {
                let slot = &mut by_place[k as usize];
                *slot = Some(slot.map_or(i.at, |at| at.max(i.at)));
            }
            None => {
                let e = unlisted.entry(i.customer).or_insert(i.at);
                *e = (*e).max(i.at);
            }
        }
    }
    let mut latest: Vec<(CustomerId, DateTime<Utc>)> = log
        .customers
        .iter()
        .zip(by_place)
        .filter_map(|(&c, at)| Some((c, at?)))
        .collect();
    if !unlisted.is_empty() {
        latest.extend(unlisted);
        latest.sort_unstable_by_key(|(c, _)| *c);
    }
    let stages: Vec<_> = data
        .customers
        .iter()
        .filter(|c| !c.erased)
        .map(|c| (c.id, c.stage))
        .collect();
    churn_warnings_by_contacts(
        &stages,
        &latest,
        &activity,
        &config.policy,
        &config.warning,
        as_of,
    )
}

/// True if `m` is money a metric can sum: in `currency` and within the storage bound.
fn measurable(m: Money, currency: Currency) -> bool {
    m.currency() == currency
        && m.to_minor_units()
            .is_ok_and(|minor| minor.unsigned_abs() < currency.max_stored_minor().unsigned_abs())
}

/// Counts one record in `outliers` if it is dated outside the plausible calendar or
/// carries money no metric can sum; true if it is one.
fn record_outlier(
    outliers: &mut Outliers,
    at: chrono::DateTime<chrono::Utc>,
    money: &[Money],
    currency: Currency,
) -> bool {
    let secs = at.timestamp();
    if !crate::time::is_plausible(at) {
        // The date decides the kind; the amount does not matter.
        outliers.count(secs, 0, 1);
        true
    } else if money.iter().any(|m| !measurable(*m, currency)) {
        outliers.amount_too_large += 1;
        true
    } else {
        false
    }
}

/// True if no metric can measure the narrow purchase `p` of a report in `currency`
/// whose rows are in `rows_currency`: dated outside the plausible calendar, or an
/// amount or cost beyond the storage bound or in another currency (the same test as
/// [`record_outlier`] on the whole purchase).
fn purchase_unmeasurable(
    p: &ReportPurchase,
    rows_currency: Option<Currency>,
    currency: Currency,
) -> bool {
    let bound = currency.max_stored_minor().unsigned_abs();
    !(crate::time::EARLIEST_SECS..crate::time::AFTER_LATEST_SECS).contains(&p.at)
        || rows_currency != Some(currency)
        || p.amount.unsigned_abs() >= bound
        || p.cost().is_some_and(|c| c.unsigned_abs() >= bound)
}

/// A copy of the records without those no metric can measure, or `None` when every
/// record is measurable (the common case: nothing is copied).
fn screen_records(
    data: &ReportData,
    currency: Currency,
    outliers: &mut Outliers,
) -> Option<ReportData> {
    let mut found = Outliers::default();
    let rows_currency = data.purchases.currency;
    let purchase_bad = |p: &ReportPurchase| purchase_unmeasurable(p, rows_currency, currency);
    let refund_bad =
        |r: &Refund, o: &mut Outliers| record_outlier(o, r.at(), &[r.amount()], currency);
    let deal_bad =
        |d: &Deal, o: &mut Outliers| record_outlier(o, d.created_at(), &[d.value()], currency);
    let mut probe = Outliers::default();
    let any_bad = data.purchase_rows().any(|p| purchase_bad(&p))
        || data.refunds.iter().any(|r| refund_bad(r, &mut probe))
        || data.deals.iter().any(|d| deal_bad(d, &mut probe));
    if !any_bad {
        return None;
    }
    let mut clean = data.clone();
    // Purchases are counted once, through the log's screening. The clean rows are
    // kept as rows, not beside the log.
    clean.purchases.rows = data.purchase_rows().filter(|p| !purchase_bad(p)).collect();
    clean.log_costs = None;
    if clean.purchases.is_empty() {
        // Nothing left in another currency: the rows are the report's.
        clean.purchases.currency = Some(currency);
    }
    clean.refunds.retain(|r| !refund_bad(r, &mut found));
    clean.deals.retain(|d| !deal_bad(d, &mut found));
    outliers.add(&found);
    Some(clean)
}

/// What the value section reads beside the records: the period, its trailing year,
/// the digests of the log and the first purchase of each dense customer.
struct ValueBasis<'a> {
    period: Period,
    year: Period,
    digests: &'a Digests,
    first_at: &'a [Option<i64>],
}

fn value_section(
    data: &ReportData,
    log: &PurchaseLog,
    basis: ValueBasis<'_>,
    config: &ReportConfig,
    currency: Currency,
    outliers: &mut Outliers,
) -> MetricResult<ValueSection> {
    let ValueBasis {
        period,
        year,
        digests,
        first_at,
    } = basis;
    let as_of = period.last_day();

    // Historical CLV over everything up to the period's end.
    let historical = super::value::historical_clv_over(
        data.purchases.currency,
        data.purchase_rows(),
        &data.refunds,
        as_of,
        period.zone(),
    );

    // The yearly basis.
    let year_stats = purchase_stats(log, year)?;
    let aov = year_stats.average_order_value();
    let freq = year_stats.purchase_frequency();
    let margin_share = gross_margin_of(data.purchase_rows().filter(|p| year.contains_secs(p.at)));
    let year_base = digests.base(year, Start::Year).counts;
    let year_churn = year_base.churn();
    let retention = year_churn
        .as_ref()
        .map(|c| c.retention_rate)
        .map_err(Clone::clone);
    let lifespan = year_churn.as_ref().map_err(Clone::clone).and_then(|c| {
        if c.lost == 0 {
            Err(MetricError::ZeroDenominator {
                metric: "expected lifespan",
                what: "the yearly churn rate",
            })
        } else {
            exact_div(
                i128::from(c.at_start),
                i128::from(c.lost),
                "expected lifespan",
            )
        }
    });
    let margin_per_year = (|| -> MetricResult<Money> {
        let (a, f, g) = (aov.clone()?, freq.clone()?, margin_share.clone()?);
        average_clv(a, f, g, Decimal::ONE)
    })();
    let average = (|| -> MetricResult<Money> {
        average_clv(
            aov.clone()?,
            freq.clone()?,
            margin_share.clone()?,
            lifespan.clone()?,
        )
    })();
    let by_retention = (|| -> MetricResult<Money> {
        retention_clv(
            margin_per_year.clone()?,
            retention.clone()?,
            config.discount_rate,
        )
    })();

    // LTV to CAC over customers with a recorded acquisition cost.
    let end = period.end_instant();
    let (mut sales, mut cost) = (0i128, 0i128);
    let mut records = Vec::new();
    for c in data.customers.iter().filter(|c| c.created_at < end) {
        let acquired = log
            .index_of(c.id)
            .and_then(|i| first_at.get(i as usize).copied().flatten())
            .is_some_and(|t| t >= period.start_secs());
        let mut cost_of = c.acquisition_cost;
        // A cost in another currency, negative, or beyond the bound (from an older
        // file) is left out and counted.
        if cost_of.is_some_and(|k| !measurable(k, currency) || k.is_negative()) {
            cost_of = None;
            outliers.amount_too_large += 1;
        }
        if let Some(k) = cost_of {
            cost = cost.saturating_add(minor_of(k, currency, "ltv to cac")?);
            sales = sales.saturating_add(log.index_of(c.id).map_or(0, |i| digests.spend(log, i)));
        }
        records.push(AcquisitionRecord {
            channel: c.acquisition_channel.as_ref(),
            spend: cost_of.filter(|_| period.contains_instant(c.created_at)),
            acquired,
        });
    }
    let any_cost = data.customers.iter().any(|c| {
        c.acquisition_cost
            .is_some_and(|k| measurable(k, currency) && !k.is_negative())
    });
    let ltv = if any_cost {
        money_from_minor(sales, currency, "ltv to cac")
            .and_then(|sales| ltv_to_cac(sales, money_from_minor(cost, currency, "ltv to cac")?))
    } else {
        Err(MetricError::EmptyPopulation {
            metric: "ltv to cac",
            population: "no customers with a recorded acquisition cost",
        })
    };
    let cac = cac_by_channel(&records, currency)?;

    Ok(ValueSection {
        historical_clv: historical.into(),
        annual: AnnualBasis {
            year,
            average_order_value: aov.into(),
            purchases_per_year: freq.into(),
            gross_margin: margin_share.into(),
            retention: retention.into(),
            expected_lifespan_years: lifespan.into(),
            margin_per_year: margin_per_year.into(),
        },
        average_clv: average.into(),
        retention_clv: by_retention.into(),
        ltv_to_cac: ltv.into(),
        cac,
    })
}
