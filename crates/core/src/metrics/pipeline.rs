//! The sales pipeline: win rate, stage-to-stage conversion, cycle time, weighted
//! pipeline value and sales velocity.
//!
//! Deals are read as they stood at the end of the period: moves recorded after it are
//! ignored, so a report for last March does not change when a deal moves today.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::error::{Measured, MetricError, MetricResult};
use super::period::{Period, seconds};
use super::ratio::{Ratio, exact_div, exact_div_dec, minor_of, money_from_minor};
use crate::deal::{Deal, DealStage, StageProbabilities};
use crate::money::{Currency, Money};

/// The stage of `deal` at instant `t` (moves strictly before `t`), or `None` if it was
/// created at or after `t`.
pub fn stage_at(deal: &Deal, t: DateTime<Utc>) -> Option<DealStage> {
    if deal.created_at() >= t {
        return None;
    }
    Some(
        deal.history()
            .iter()
            .take_while(|c| c.at < t)
            .last()
            .map_or(deal.initial_stage(), |c| c.to),
    )
}

/// When the deal was won or lost, if that happened before `t`.
fn closed_before(deal: &Deal, t: DateTime<Utc>) -> Option<(DealStage, DateTime<Utc>)> {
    deal.history()
        .iter()
        .take_while(|c| c.at < t)
        .find(|c| c.to.is_closed())
        .map(|c| (c.to, c.at))
}

/// Won and lost deals of a period and the share won.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct WinRate {
    /// Deals won in the period.
    pub won: u64,
    /// Deals lost in the period.
    pub lost: u64,
    /// `won / (won + lost)`.
    pub rate: Ratio,
}

/// Win rate = deals won / deals closed (won + lost), over the deals closed in `period`.
///
/// *Definition.* A deal counts in the period in which it was won or lost; open deals do
/// not count (they are neither).
///
/// *Source.* Standard sales-pipeline practice; e.g. Jordan, J. & Vazzana, M., *Cracking
/// the Sales Management Code* (2012), on win rate as a pipeline metric.
///
/// *Edge cases.* No deal closed: [`MetricError::EmptyPopulation`].
///
/// ```
/// use solocrm_core::metrics::{win_rate, Period};
/// # use chrono::{TimeZone, Utc};
/// # use solocrm_core::{CustomerId, Currency, Deal, DealId, DealStage, Label, Money, NewDeal};
/// # let at = |d, h| Utc.with_ymd_and_hms(2026, 3, d, h, 0, 0).unwrap();
/// # let deal = |id, to: DealStage| {
/// #     let mut d = Deal::create(DealId::new(id), NewDeal::new(CustomerId::new(1),
/// #         Label::parse("x").unwrap(), Money::from_minor(100_000, Currency::EUR), at(1, 9)));
/// #     d.move_to(to, at(20, 9)).unwrap();
/// #     d
/// # };
/// // three deals won and one lost in March
/// let deals = [deal(1, DealStage::Won), deal(2, DealStage::Won), deal(3, DealStage::Won), deal(4, DealStage::Lost)];
/// let w = win_rate(&deals, Period::month(2026, 3)?)?;
/// assert_eq!((w.won, w.lost, w.rate.to_string()), (3, 1, "75.00 %".to_string()));
/// assert!(win_rate(&deals, Period::month(2026, 4)?).is_err());
/// # Ok::<(), solocrm_core::metrics::MetricError>(())
/// ```
///
/// # Errors
///
/// See above.
pub fn win_rate(deals: &[Deal], period: Period) -> MetricResult<WinRate> {
    let end = period.end_instant();
    let (mut won, mut lost) = (0u64, 0u64);
    for d in deals {
        if let Some((stage, at)) = closed_before(d, end)
            && period.contains_instant(at)
        {
            match stage {
                DealStage::Won => won += 1,
                _ => lost += 1,
            }
        }
    }
    let rate = Ratio::of(won, won + lost, "win rate", "no deals closed in the period")?;
    Ok(WinRate { won, lost, rate })
}

/// How many deals that reached a stage went further.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StageConversion {
    /// The stage.
    pub stage: DealStage,
    /// Deals that reached it.
    pub reached: u64,
    /// Of those, deals that later reached a later open stage or were won.
    pub advanced: u64,
    /// `advanced / reached`.
    pub rate: Measured<Ratio>,
}

fn order(stage: DealStage) -> Option<usize> {
    match stage {
        DealStage::Won => Some(DealStage::OPEN.len()),
        DealStage::Lost => None,
        s => DealStage::OPEN.iter().position(|o| *o == s),
    }
}

/// Stage-to-stage conversion over the deals that entered the pipeline in `period`.
///
/// *Definition.* For each open stage in pipeline order, *reached* counts the deals that
/// were at that stage at some time (their first stage or a move into it) and
/// *advanced* those of them that afterwards reached any later stage — the next open
/// stage, a stage further on (deals may skip a demo), or won. Moving back does not
/// count, and neither does being lost. Deals still sitting at a stage count as reached
/// but not (yet) advanced, so young deals pull the rates down; compare periods that
/// have had time to close. Moves after the period's end are ignored.
///
/// *Source.* The funnel conversion rates of sales-pipeline practice (Jordan & Vazzana,
/// 2012).
///
/// *Edge cases.* A stage nobody reached has an undefined rate
/// ([`Measured::Undefined`]).
///
/// ```
/// use solocrm_core::DealStage;
/// use solocrm_core::metrics::{stage_conversion, Period};
/// # use chrono::{TimeZone, Utc};
/// # use solocrm_core::{CustomerId, Currency, Deal, DealId, Label, Money, NewDeal};
/// # let at = |d| Utc.with_ymd_and_hms(2026, 3, d, 9, 0, 0).unwrap();
/// # let deal = |id, path: &[DealStage]| {
/// #     let mut d = Deal::create(DealId::new(id), NewDeal::new(CustomerId::new(1),
/// #         Label::parse("x").unwrap(), Money::from_minor(100_000, Currency::EUR), at(1)));
/// #     for (i, s) in path.iter().enumerate() { d.move_to(*s, at(2 + i as u32)).unwrap(); }
/// #     d
/// # };
/// use DealStage::*;
/// // Four deals start at "need identified"; three are contacted, one of them skips the
/// // demo straight to a proposal and is won.
/// let deals = [
///     deal(1, &[Contacted, Proposal, Won]),
///     deal(2, &[Contacted, Demo]),
///     deal(3, &[Contacted, Lost]),
///     deal(4, &[]),
/// ];
/// let c = stage_conversion(&deals, Period::month(2026, 3)?);
/// assert_eq!((c[0].stage, c[0].reached, c[0].advanced), (NeedIdentified, 4, 3));
/// assert_eq!((c[1].stage, c[1].reached, c[1].advanced), (Contacted, 3, 2));
/// assert_eq!((c[2].stage, c[2].reached, c[2].advanced), (Demo, 1, 0));
/// assert_eq!((c[3].stage, c[3].reached, c[3].advanced), (Proposal, 1, 1));
/// assert!(!c[4].rate.is_defined()); // nobody reached negotiation
/// # Ok::<(), solocrm_core::metrics::MetricError>(())
/// ```
pub fn stage_conversion(deals: &[Deal], period: Period) -> Vec<StageConversion> {
    let end = period.end_instant();
    let k = DealStage::OPEN.len();
    let (mut reached, mut advanced) = (vec![0u64; k], vec![0u64; k]);
    for d in deals
        .iter()
        .filter(|d| period.contains_instant(d.created_at()))
    {
        // The path up to the end of the period, as pipeline positions (lost = None).
        let path: Vec<Option<usize>> = std::iter::once(d.initial_stage())
            .chain(d.history().iter().take_while(|c| c.at < end).map(|c| c.to))
            .map(order)
            .collect();
        for s in 0..k {
            let Some(first) = path.iter().position(|p| *p == Some(s)) else {
                continue;
            };
            reached[s] += 1;
            if path[first + 1..].iter().any(|p| p.is_some_and(|p| p > s)) {
                advanced[s] += 1;
            }
        }
    }
    DealStage::OPEN
        .iter()
        .enumerate()
        .map(|(i, &stage)| StageConversion {
            stage,
            reached: reached[i],
            advanced: advanced[i],
            rate: Ratio::of(
                advanced[i],
                reached[i],
                "stage conversion",
                "no deal reached the stage",
            )
            .into(),
        })
        .collect()
}

/// The average sales cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CycleTime {
    /// Deals won in the period.
    pub deals: u64,
    /// The mean time from entering the pipeline to being won, in days (exact).
    pub average_days: Decimal,
}

/// Average cycle time = mean of (won at − created at) over the deals won in `period`, in
/// days.
///
/// *Definition.* The sales cycle is measured on won deals, as in the sales-velocity
/// equation; lost deals often die slowly and would stretch it. The result is exact
/// (seconds / 86,400).
///
/// *Edge cases.* No deal won: [`MetricError::EmptyPopulation`].
///
/// ```
/// use rust_decimal::Decimal;
/// use solocrm_core::metrics::{average_cycle_time, Period};
/// # use chrono::{TimeZone, Utc};
/// # use solocrm_core::{CustomerId, Currency, Deal, DealId, DealStage, Label, Money, NewDeal};
/// # let at = |d| Utc.with_ymd_and_hms(2026, 3, d, 9, 0, 0).unwrap();
/// # let won = |id, from, to| {
/// #     let mut d = Deal::create(DealId::new(id), NewDeal::new(CustomerId::new(1),
/// #         Label::parse("x").unwrap(), Money::from_minor(100_000, Currency::EUR), at(from)));
/// #     d.move_to(DealStage::Won, at(to)).unwrap();
/// #     d
/// # };
/// // Won after 10 and after 21 days: 15.5 days on average.
/// let deals = [won(1, 1, 11), won(2, 2, 23)];
/// let c = average_cycle_time(&deals, Period::month(2026, 3)?)?;
/// assert_eq!(c.average_days, Decimal::new(155, 1));
/// # Ok::<(), solocrm_core::metrics::MetricError>(())
/// ```
///
/// # Errors
///
/// See above.
pub fn average_cycle_time(deals: &[Deal], period: Period) -> MetricResult<CycleTime> {
    let metric = "average cycle time";
    let end = period.end_instant();
    let (mut n, mut total) = (0u64, 0i128);
    for d in deals {
        if let Some((DealStage::Won, at)) = closed_before(d, end)
            && period.contains_instant(at)
        {
            n += 1;
            total += i128::from(seconds(at - d.created_at()));
        }
    }
    if n == 0 {
        return Err(MetricError::EmptyPopulation {
            metric,
            population: "no deals won in the period",
        });
    }
    let average_days = exact_div(total, i128::from(n) * 86_400, metric)?;
    Ok(CycleTime {
        deals: n,
        average_days,
    })
}

/// The open pipeline at a moment, at face value and weighted by stage probability.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct WeightedPipeline {
    /// Open deals.
    pub open_deals: u64,
    /// The sum of their values.
    pub total: Money,
    /// Σ value × probability of the deal's stage, rounded to the minor unit.
    pub weighted: Money,
}

/// Weighted pipeline value = Σ over open deals of value × win probability of the deal's
/// stage ([`StageProbabilities`]), at the end of `period`.
///
/// *Definition.* The expected revenue of the open pipeline if the stage probabilities
/// hold. An empty pipeline is worth zero (a sum over nothing, not an undefined ratio).
///
/// *Source.* The "weighted pipeline" (expected value) forecast of sales-management
/// practice; the default probabilities are documented on [`StageProbabilities`].
///
/// ```
/// use solocrm_core::{Currency, Money, StageProbabilities};
/// use solocrm_core::metrics::{weighted_pipeline, Period};
/// # use chrono::{TimeZone, Utc};
/// # use solocrm_core::{CustomerId, Deal, DealId, DealStage, Label, NewDeal};
/// # let at = |d| Utc.with_ymd_and_hms(2026, 3, d, 9, 0, 0).unwrap();
/// # let deal = |id, value, to: Option<DealStage>| {
/// #     let mut d = Deal::create(DealId::new(id), NewDeal::new(CustomerId::new(1),
/// #         Label::parse("x").unwrap(), Money::from_minor(value, Currency::EUR), at(1)));
/// #     if let Some(s) = to { d.move_to(s, at(2)).unwrap(); }
/// #     d
/// # };
/// use solocrm_core::DealStage::*;
/// // 10,000 EUR at proposal (60 %) and 5,000 EUR at demo (40 %); a won deal is not open.
/// let deals = [deal(1, 1_000_000, Some(Proposal)), deal(2, 500_000, Some(Demo)), deal(3, 700_000, Some(Won))];
/// let w = weighted_pipeline(&deals, &StageProbabilities::default(), Period::month(2026, 3)?, Currency::EUR)?;
/// assert_eq!(w.open_deals, 2);
/// assert_eq!(w.total, Money::from_minor(1_500_000, Currency::EUR));
/// assert_eq!(w.weighted, Money::from_minor(800_000, Currency::EUR)); // 6,000 + 2,000
/// # Ok::<(), solocrm_core::metrics::MetricError>(())
/// ```
///
/// # Errors
///
/// [`MetricError::CurrencyMismatch`], [`MetricError::Overflow`].
pub fn weighted_pipeline(
    deals: &[Deal],
    probabilities: &StageProbabilities,
    period: Period,
    currency: Currency,
) -> MetricResult<WeightedPipeline> {
    let metric = "weighted pipeline";
    let end = period.end_instant();
    let (mut n, mut total, mut weighted) = (0u64, 0i128, Decimal::ZERO);
    for d in deals {
        let Some(stage) = stage_at(d, end) else {
            continue;
        };
        if stage.is_closed() {
            continue;
        }
        let v = minor_of(d.value(), currency, metric)?;
        n += 1;
        total = total
            .checked_add(v)
            .ok_or(MetricError::Overflow { metric })?;
        weighted = Decimal::try_from_i128_with_scale(v, 0)
            .ok()
            .and_then(|v| v.checked_mul(probabilities.of(stage)))
            .and_then(|x| weighted.checked_add(x))
            .ok_or(MetricError::Overflow { metric })?;
    }
    let scale = Decimal::from(10_i64.pow(currency.minor_unit_digits()));
    let weighted = weighted
        .checked_div(scale)
        .ok_or(MetricError::Overflow { metric })?;
    Ok(WeightedPipeline {
        open_deals: n,
        total: money_from_minor(total, currency, metric)?,
        weighted: Money::new(weighted, currency).round_to_minor_units(),
    })
}

/// Sales velocity = open deals × average deal value × win rate / average cycle length:
/// the revenue the pipeline is expected to bring per day.
///
/// *Definition.* With `n` open deals of average value `v`, a win rate `w` and an average
/// cycle of `L` days, `n × v × w / L` is money per day. solocrm's report takes `n` and
/// `v` from the open pipeline at the end of the period and `w` and `L` from the deals
/// closed in it ([`win_rate`], [`average_cycle_time`]).
///
/// *Source.* The sales-velocity equation of B2B sales practice (e.g. Salesforce and
/// HubSpot sales guides); no academic origin.
///
/// *Edge cases.* A cycle of zero days: [`MetricError::ZeroDenominator`]; negative
/// inputs: [`MetricError::InvalidInput`].
///
/// ```
/// use rust_decimal::Decimal;
/// use solocrm_core::{Currency, Money};
/// use solocrm_core::metrics::{sales_velocity, Ratio};
/// // 8 open deals of 2,500 EUR, 25 % won, 40-day cycle: 8 × 2,500 × 0.25 / 40 = 125 EUR/day.
/// let v = sales_velocity(8, Money::from_minor(250_000, Currency::EUR), Ratio::new(Decimal::new(25, 2))?, Decimal::from(40))?;
/// assert_eq!(v, Money::from_minor(12_500, Currency::EUR));
/// # Ok::<(), solocrm_core::metrics::MetricError>(())
/// ```
///
/// # Errors
///
/// See above; [`MetricError::Overflow`].
pub fn sales_velocity(
    open_deals: u64,
    average_value: Money,
    win_rate: Ratio,
    cycle_days: Decimal,
) -> MetricResult<Money> {
    let metric = "sales velocity";
    let total = average_value
        .checked_mul(Decimal::from(open_deals))
        .map_err(|_| MetricError::Overflow { metric })?;
    velocity_of_total(total, win_rate, cycle_days)
}

/// `total × win rate / cycle days`: sales velocity from the pipeline's total value.
fn velocity_of_total(total: Money, win_rate: Ratio, cycle_days: Decimal) -> MetricResult<Money> {
    let metric = "sales velocity";
    if total.is_negative() || cycle_days < Decimal::ZERO {
        return Err(MetricError::InvalidInput {
            metric,
            what: "the average value and the cycle",
            expected: "zero or more",
            value: format!("{total}, {cycle_days} days"),
        });
    }
    if cycle_days.is_zero() {
        return Err(MetricError::ZeroDenominator {
            metric,
            what: "the average cycle time",
        });
    }
    let num = total
        .amount()
        .checked_mul(win_rate.value())
        .ok_or(MetricError::Overflow { metric })?;
    let v = exact_div_dec(num, cycle_days, metric)?;
    Ok(Money::new(v, total.currency()).round_to_minor_units())
}

/// Every pipeline metric of a period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PipelineMetrics {
    /// [`win_rate`].
    pub win_rate: Measured<WinRate>,
    /// [`stage_conversion`].
    pub stage_conversion: Vec<StageConversion>,
    /// [`average_cycle_time`].
    pub cycle_time: Measured<CycleTime>,
    /// [`weighted_pipeline`] at the end of the period.
    pub pipeline: WeightedPipeline,
    /// [`sales_velocity`], money per day.
    pub sales_velocity: Measured<Money>,
}

/// All of the above for `period`.
///
/// # Errors
///
/// The errors of [`weighted_pipeline`].
pub fn pipeline_metrics(
    deals: &[Deal],
    probabilities: &StageProbabilities,
    period: Period,
    currency: Currency,
) -> MetricResult<PipelineMetrics> {
    let win = win_rate(deals, period);
    let cycle = average_cycle_time(deals, period);
    let pipeline = weighted_pipeline(deals, probabilities, period, currency)?;
    let velocity = match (&win, &cycle) {
        // n × average value is the pipeline's total: no rounded average in between.
        (Ok(w), Ok(c)) if pipeline.open_deals > 0 => {
            velocity_of_total(pipeline.total, w.rate, c.average_days)
        }
        (Err(e), _) | (_, Err(e)) => Err(e.clone()),
        _ => Err(MetricError::EmptyPopulation {
            metric: "sales velocity",
            population: "no open deals",
        }),
    };
    Ok(PipelineMetrics {
        win_rate: win.into(),
        stage_conversion: stage_conversion(deals, period),
        cycle_time: cycle.into(),
        pipeline,
        sales_velocity: velocity.into(),
    })
}
