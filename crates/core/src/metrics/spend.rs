//! Spend: the recorded [`Cost`]s of a period set against what the period brought in
//! (ROI on revenue and on gross margin, with [`roi`]) and, per acquisition channel,
//! against the customers it won ([`cac_by_channel`]) and their revenue.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde::{Deserialize, Serialize};

use super::ReportCustomer;
use super::error::{Measured, MetricError, MetricResult};
use super::period::Period;
use super::ratio::{minor_of, money_from_minor};
use super::value::{
    AcquisitionRecord, CacByChannel, CostBenefit, UNATTRIBUTED, cac_by_channel, roi,
};
use crate::cost::{Cost, CostCategory};
use crate::money::{Currency, Money};
use crate::purchase::PurchaseLog;
use crate::text::Tag;

/// What the period's costs of one category came to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CategorySpend {
    /// The category.
    pub category: CostCategory,
    /// The sum of its costs in the period.
    pub spend: Money,
    /// How many costs.
    pub costs: u64,
}

/// One acquisition channel's marketing spend, the customers it won, their revenue
/// and the return on it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelSpend {
    /// The channel (`unattributed` for marketing costs without one and customers
    /// without a channel).
    pub channel: String,
    /// Marketing costs of the period booked on the channel.
    pub spend: Money,
    /// Customers of the channel whose first purchase is in the period.
    pub new_customers: u64,
    /// `spend / new_customers`, or why it is undefined.
    pub cac: Measured<Money>,
    /// Revenue of the period from every customer of the channel.
    pub revenue: Money,
    /// ROI of the spend on that revenue, or why it is undefined (no spend).
    pub roi: Measured<CostBenefit>,
}

/// The period's recorded costs and what they returned. Voided costs count nowhere.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpendSection {
    /// Every cost of the period.
    pub total: Money,
    /// Per category, in the order of [`CostCategory::ALL`].
    pub by_category: Vec<CategorySpend>,
    /// ROI on revenue: gain = the period's revenue net of refunds, cost = `total`.
    pub roi_on_revenue: Measured<CostBenefit>,
    /// ROI on gross margin: gain = net revenue × the period's gross margin, cost =
    /// `total`.
    pub roi_on_gross_margin: Measured<CostBenefit>,
    /// CAC from the marketing costs, overall and per channel.
    pub cac: CacByChannel,
    /// Per acquisition channel with marketing spend or new customers in the period, by
    /// name.
    pub channels: Vec<ChannelSpend>,
    /// Costs of the period left out because they were voided.
    pub voided: u64,
}

/// The inputs of [`spend_section`] beside the costs.
#[derive(Debug, Clone)]
pub struct SpendInputs<'a> {
    /// The period.
    pub period: Period,
    /// The books' currency.
    pub currency: Currency,
    /// Every customer (for their acquisition channel).
    pub customers: &'a [ReportCustomer],
    /// The purchase log (screened), for revenue per channel.
    pub log: &'a PurchaseLog,
    /// The first purchase of each customer of the log, in seconds, by log index.
    pub first_at: &'a [Option<i64>],
    /// The period's revenue net of refunds.
    pub net_revenue: Money,
    /// The gross margin of the period's purchases with a recorded cost, if defined.
    pub gross_margin: MetricResult<Decimal>,
}

/// The spend section of a period (see [`SpendSection`] and `docs/formulas.md`,
/// "Spend and ROI").
///
/// # Errors
///
/// [`MetricError::CurrencyMismatch`] for a cost in another currency,
/// [`MetricError::Overflow`].
pub fn spend_section(costs: &[Cost], input: SpendInputs<'_>) -> MetricResult<SpendSection> {
    let metric = "spend";
    let SpendInputs {
        period, currency, ..
    } = input;
    let mut per_category: BTreeMap<CostCategory, (i128, u64)> = BTreeMap::new();
    let (mut total, mut voided) = (0i128, 0u64);
    let mut records: Vec<AcquisitionRecord<'_>> = Vec::new();
    let mut channel_spend: BTreeMap<&str, i128> = BTreeMap::new();
    for c in costs.iter().filter(|c| period.contains_instant(c.at())) {
        if c.is_void() {
            voided += 1;
            continue;
        }
        let m = minor_of(c.amount(), currency, metric)?;
        let e = per_category.entry(c.category()).or_default();
        e.0 = e.0.checked_add(m).ok_or(MetricError::Overflow { metric })?;
        e.1 += 1;
        total = total
            .checked_add(m)
            .ok_or(MetricError::Overflow { metric })?;
        if c.category() == CostCategory::Marketing {
            records.push(AcquisitionRecord {
                channel: c.channel(),
                spend: Some(c.amount()),
                acquired: false,
            });
            let s = channel_spend
                .entry(c.channel().map_or(UNATTRIBUTED, Tag::as_str))
                .or_default();
            *s = s.checked_add(m).ok_or(MetricError::Overflow { metric })?;
        }
    }
    // Customers won in the period, and each customer's revenue in it, by channel.
    let log = input.log;
    let start = period.start_instant().timestamp();
    let end = period.end_instant().timestamp();
    let channel_of: BTreeMap<_, Option<&Tag>> = input
        .customers
        .iter()
        .map(|c| (c.id, c.acquisition_channel.as_ref()))
        .collect();
    // Each customer's channel looked up once, and the period's revenue summed by
    // customer before it is summed by channel (one map update per buyer, not per
    // purchase).
    let channel_at: Vec<Option<&Tag>> = log
        .customers
        .iter()
        .map(|id| channel_of.get(id).copied().flatten())
        .collect();
    let mut bought: Vec<Option<i128>> = vec![None; log.customers.len()];
    for ((&i, &at), &amount) in log.customer.iter().zip(&log.at).zip(&log.amount) {
        if at < start || at >= end {
            continue;
        }
        if let Some(sum) = bought.get_mut(i as usize) {
            *sum = Some(sum.unwrap_or(0).saturating_add(i128::from(amount)));
        }
    }
    let mut revenue: BTreeMap<&str, i128> = BTreeMap::new();
    for (sum, channel) in bought.iter().zip(&channel_at) {
        if let Some(sum) = sum {
            let r = revenue
                .entry(channel.map_or(UNATTRIBUTED, Tag::as_str))
                .or_default();
            *r = r.saturating_add(*sum);
        }
    }
    let mut won: BTreeMap<&str, u64> = BTreeMap::new();
    for (i, channel) in channel_at.iter().enumerate() {
        let first = input.first_at.get(i).copied().flatten();
        if first.is_some_and(|t| t >= start && t < end) {
            let channel = *channel;
            records.push(AcquisitionRecord {
                channel,
                spend: None,
                acquired: true,
            });
            *won.entry(channel.map_or(UNATTRIBUTED, Tag::as_str))
                .or_default() += 1;
        }
    }
    let cac = cac_by_channel(&records, currency)?;
    let total_money = money_from_minor(total, currency, metric)?;
    let by_category = CostCategory::ALL
        .iter()
        .map(|&category| {
            let (s, n) = per_category.get(&category).copied().unwrap_or_default();
            Ok(CategorySpend {
                category,
                spend: money_from_minor(s, currency, metric)?,
                costs: n,
            })
        })
        .collect::<MetricResult<Vec<_>>>()?;
    let roi_on_revenue = roi(total_money, input.net_revenue);
    let roi_on_gross_margin = input.gross_margin.and_then(|g| {
        let net = Decimal::from_i128_with_scale(minor_of(input.net_revenue, currency, metric)?, 0);
        let profit = (net * g)
            .round()
            .to_i128()
            .ok_or(MetricError::Overflow { metric })?;
        roi(total_money, money_from_minor(profit, currency, metric)?)
    });
    let mut names: Vec<&str> = channel_spend.keys().chain(won.keys()).copied().collect();
    names.sort_unstable();
    names.dedup();
    let channels = names
        .into_iter()
        .map(|name| {
            let spend = money_from_minor(
                channel_spend.get(name).copied().unwrap_or(0),
                currency,
                metric,
            )?;
            let gain = money_from_minor(revenue.get(name).copied().unwrap_or(0), currency, metric)?;
            let new_customers = won.get(name).copied().unwrap_or(0);
            Ok(ChannelSpend {
                channel: name.to_owned(),
                spend,
                new_customers,
                cac: super::value::cac(spend, new_customers)
                    .map(|c| c.cac)
                    .into(),
                revenue: gain,
                roi: roi(spend, gain).into(),
            })
        })
        .collect::<MetricResult<Vec<_>>>()?;
    Ok(SpendSection {
        total: total_money,
        by_category,
        roi_on_revenue: roi_on_revenue.into(),
        roi_on_gross_margin: roi_on_gross_margin.into(),
        cac,
        channels,
        voided,
    })
}
