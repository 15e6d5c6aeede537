//! Metric formulas: satisfaction, retention, loyalty, customer value, RFM, cohorts, the
//! pipeline, service, churn early warning, and the [`MetricsReport`] that carries them
//! all.
//!
//! Every formula is a pure function over plain data with an explicit period or `as_of`
//! date; nothing here reads the clock or does I/O. Each function's documentation gives
//! the definition, a source, the edge cases and a worked example (a doctest);
//! `docs/formulas.md` collects them on one page.
//!
//! # Design decisions
//!
//! - **Ratios are [`Ratio`]**: an exact [`Decimal`](rust_decimal::Decimal) checked to lie
//!   in [0, 1], with [`Ratio::percent`] as the percent view. Values that are not shares
//!   (NPS in [−100, 100], ROI, LTV-to-CAC, frequencies) are plain `Decimal`s. Every ratio
//!   is one division of exact integers reduced by their greatest common divisor, so equal
//!   fractions give identical values and no ratio moves when all money is scaled.
//! - **Money stays exact**: amounts are summed as integer minor units (`i64` per row,
//!   `i128` in sums) and returned as [`Money`](crate::Money). Averages are rounded once,
//!   at the end, to the minor unit with banker's rounding (half to even); nothing is ever
//!   an `f64`.
//! - **No value is an error, not a number**: an empty population, a zero cost or an
//!   input out of range is a [`MetricError`] naming the metric. Never NaN, never infinity,
//!   never a silent 0, never a panic. In the serialisable report every metric is a
//!   [`Measured`]: its value, or the reason it has none.
//! - **Gross purchase amounts**: the columnar [`PurchaseLog`](crate::PurchaseLog) holds
//!   purchases only, so the metrics computed from it (RFM monetary, cohort revenue, order
//!   value, frequency, revenue) are gross of refunds. Where refunds are read from the
//!   store they are netted and the metric says so: historical CLV subtracts them, and
//!   the report shows the period's refunds and net revenue beside the gross revenue.
//! - **One bad record never breaks a metric for good**: every columnar metric first
//!   screens the log ([`Outliers`]): purchases dated outside 1900-01-01..=2199-12-31 or
//!   with an amount beyond the storage bound are skipped and counted in the result, and
//!   work is bounded by the period asked for (the cohort matrix has at most
//!   [`MAX_COHORT_PERIODS`] rows, ending at `as_of`).
//! - **Days are business-local dates**: a purchase belongs to the date of its timestamp
//!   in the books' time zone ([`BusinessZone`](crate::BusinessZone)), carried by the
//!   purchase log ([`PurchaseLog::zone`](crate::PurchaseLog::zone)) and the
//!   [`Period`]; recency and silence are whole local days between dates, as in the
//!   lifecycle policy. The kernels compare UTC seconds with the first instants of local
//!   days and convert an instant to a local day only where a day number is needed (one
//!   per customer in RFM, none per row in cohorts), so a zone costs little and UTC
//!   nothing.
//! - **Who is a customer** comes from the [`LifecyclePolicy`](crate::LifecyclePolicy):
//!   someone who bought and has not been silent beyond its churn horizon
//!   ([`CustomerBase`]); the churn early warning uses the policy's overdue rule.
//! - **Fast paths are columnar**: RFM, cohorts, purchase stats and the customer base run
//!   over the `PurchaseLog` (dense customer index, `i64` seconds, `i64` minor units) in
//!   one pass into per-customer arrays, with counting and radix sorts for ranks; memory
//!   beyond the log is O(customers). See `docs/performance.md`.
//!
//! # Index
//!
//! | Metric | Function |
//! |---|---|
//! | CSAT | [`csat`], [`csat_from_scores`] |
//! | NPS (with counts) | [`nps`], [`nps_from_scores`] |
//! | CSAT and NPS per customer (latest answer each) | [`csat_per_customer`], [`nps_per_customer`] |
//! | CES (mean effort, share of low effort) | [`ces`], [`ces_from_scores`] |
//! | Churn and retention rate | [`churn_rate`], [`CustomerBase::churn`] |
//! | CRR = (E − N) / S | [`customer_retention_rate`], [`CustomerBase::crr`] |
//! | Customer base (S, E, N, lost) | [`customer_base`] |
//! | Average order value, purchase frequency, repeat purchase rate | [`purchase_stats`] |
//! | Engagement rate, interaction frequency | [`engagement`] |
//! | Participation rate | [`participation_engagement`] |
//! | Loyalty index | [`loyalty_index`] (engagement by [`EngagementBasis`]) |
//! | LTV-to-CAC ratio | [`ltv_to_cac`] |
//! | Historical CLV | [`historical_clv`] |
//! | Average-based CLV | [`average_clv`] (with [`gross_margin`]) |
//! | Retention-based CLV | [`retention_clv`] |
//! | CAC overall and per channel | [`cac`], [`cac_by_channel`] |
//! | Campaigns: cost, acquired, CAC, revenue, won deals, ROI per campaign and channel | [`campaign_stats`] |
//! | Net benefit, ROI | [`net_benefit`], [`roi`] |
//! | Recorded costs: ROI on revenue and gross margin, CAC and ROI per channel | [`spend_section`] |
//! | RFM, codes, segments | [`rfm()`], [`RfmScore`], [`RfmSegment`] |
//! | Cohort retention matrix | [`cohort_matrix`] |
//! | Win rate, stage conversion, cycle time, weighted pipeline, sales velocity | [`win_rate`], [`stage_conversion`], [`average_cycle_time`], [`weighted_pipeline`], [`sales_velocity`], [`pipeline_metrics`] |
//! | First-response and resolution time, open complaints | [`service_metrics`], [`duration_stats`] |
//! | Churn early warning | [`churn_warnings`] |
//! | Everything for a period | [`MetricsReport`] |

mod behaviour;
mod campaign;
pub mod cohort;
mod digest;
mod error;
mod participation;
mod period;
mod pipeline;
pub mod products;
mod ratio;
mod report;
mod report_rows;
mod retention;
pub mod rfm;
mod satisfaction;
pub mod screen;
mod service;
mod spend;
mod value;
pub mod warning;

#[cfg(test)]
mod tests;

pub use behaviour::{
    Engagement, LoyaltyIndex, PurchaseStats, engagement, engagement_of, loyalty_index,
    purchase_stats,
};
pub use campaign::{
    CampaignChannelStats, CampaignFigures, CampaignInputs, CampaignSection, CampaignStats,
    campaign_stats,
};
pub use cohort::{CohortGrain, CohortMatrix, CohortRow, MAX_COHORT_PERIODS, cohort_matrix};
pub use error::{Measured, MetricError, MetricResult};
pub use participation::{EngagementBasis, ParticipationEngagement, participation_engagement};
pub use period::Period;
pub use pipeline::{
    CycleTime, PipelineMetrics, StageConversion, WeightedPipeline, WinRate, average_cycle_time,
    pipeline_metrics, sales_velocity, stage_at, stage_conversion, weighted_pipeline, win_rate,
};
pub use ratio::Ratio;
pub use report::{
    AnnualBasis, MetricsReport, PurchaseSection, ReportConfig, ReportCustomer, ReportData,
    ReportPurchaseRead, RetentionSection, RfmSection, SatisfactionSection, ValueSection,
};
pub use report_rows::{LogCosts, ReportInteraction, ReportPurchase, ReportPurchases};
pub use retention::{Churn, CustomerBase, churn_rate, customer_base, customer_retention_rate};
pub use rfm::{
    RfmRow, RfmScore, RfmSegment, RfmTable, SegmentCount, TieRule, rfm, rfm_of_summaries,
};
pub use satisfaction::{
    CES_LOW_EFFORT_UP_TO, CSAT_SATISFIED_FROM, Ces, Csat, Nps, ces, ces_from_scores, csat,
    csat_from_scores, csat_per_customer, latest_per_customer, nps, nps_from_scores,
    nps_per_customer,
};
pub use screen::Outliers;
pub use service::{DurationStats, ServiceMetrics, duration_stats, service_metrics};
pub use spend::{CategorySpend, ChannelSpend, SpendInputs, SpendSection, spend_section};
pub use value::{
    AcquisitionRecord, Cac, CacByChannel, ChannelCac, CostBenefit, HistoricalClv, UNATTRIBUTED,
    average_clv, cac, cac_by_channel, gross_margin, gross_margin_of, historical_clv,
    historical_clv_of, ltv_to_cac, net_benefit, retention_clv, roi,
};
pub use warning::{
    Activity, ChurnWarning, RiskFactor, RiskReason, WarningConfig, churn_warnings,
    churn_warnings_by_contacts, churn_warnings_by_stage,
};
