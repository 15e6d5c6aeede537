//! Customer value: acquisition cost, lifetime value in its three forms, the LTV-to-CAC
//! ratio, and cost-benefit.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::error::{Measured, MetricError, MetricResult};
use super::ratio::{
    Ratio, exact_div, exact_div_dec, minor_of, money_from_minor, money_mean, same_currency,
};
use super::report_rows::{ReportPurchase, ReportPurchases};
use crate::ids::CustomerId;
use crate::money::{Currency, Money};
use crate::purchase::{Purchase, Refund};
use crate::text::Tag;
use crate::zone::BusinessZone;

fn non_negative(m: Money, metric: &'static str, what: &'static str) -> MetricResult<()> {
    if m.is_negative() {
        return Err(MetricError::InvalidInput {
            metric,
            what,
            expected: "zero or more",
            value: m.to_string(),
        });
    }
    Ok(())
}

fn non_negative_dec(d: Decimal, metric: &'static str, what: &'static str) -> MetricResult<()> {
    if d < Decimal::ZERO {
        return Err(MetricError::InvalidInput {
            metric,
            what,
            expected: "zero or more",
            value: d.to_string(),
        });
    }
    Ok(())
}

// ----- cost-benefit -----

/// The cost-benefit of a measure: what it cost, what it gained, the net benefit and the
/// return on investment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CostBenefit {
    /// What it cost.
    pub cost: Money,
    /// What it gained.
    pub gain: Money,
    /// `gain − cost`.
    pub net_benefit: Money,
    /// `(gain − cost) / cost` as a fraction: 4 is 400 %.
    pub roi: Decimal,
}

impl CostBenefit {
    /// The ROI in percent.
    pub fn roi_percent(&self) -> Decimal {
        (self.roi * Decimal::ONE_HUNDRED).normalize()
    }
}

/// Net benefit = gain − cost.
///
/// *Source.* The mission's appendix (cost-benefit analysis); Farris et al., *Marketing
/// Metrics* (2010), ch. 10, "Net profit and return on investment".
///
/// ```
/// use solocrm_core::{Currency, Money};
/// use solocrm_core::metrics::net_benefit;
/// let eur = |units: i64| Money::from_minor(units * 100, Currency::EUR);
/// assert_eq!(net_benefit(eur(100_000), eur(500_000))?, eur(400_000));
/// # Ok::<(), solocrm_core::metrics::MetricError>(())
/// ```
///
/// # Errors
///
/// [`MetricError::CurrencyMismatch`], [`MetricError::Overflow`].
pub fn net_benefit(cost: Money, gain: Money) -> MetricResult<Money> {
    same_currency(cost, gain, "net benefit")?;
    gain.checked_sub(cost).map_err(|_| MetricError::Overflow {
        metric: "net benefit",
    })
}

/// ROI = (gain − cost) / cost, with the net benefit beside it.
///
/// *Definition.* The return per unit of money spent, as a fraction (4 = 400 %). A
/// negative ROI is a loss; −1 (−100 %) means nothing came back.
///
/// *Source.* The mission's appendix, whose example is the doctest below; Farris et al.,
/// *Marketing Metrics* (2010), ch. 10, "Return on investment".
///
/// *Edge cases.* A cost of zero would make the ROI infinite:
/// [`MetricError::ZeroCost`]. A negative cost: [`MetricError::InvalidInput`].
///
/// ```
/// use rust_decimal::Decimal;
/// use solocrm_core::{Currency, Money};
/// use solocrm_core::metrics::roi;
/// let eur = |units: i64| Money::from_minor(units * 100, Currency::EUR);
/// // The source's example: cost 100,000, yearly gain 500,000.
/// let cb = roi(eur(100_000), eur(500_000))?;
/// assert_eq!(cb.net_benefit, eur(400_000));
/// assert_eq!(cb.roi_percent(), Decimal::from(400));
/// // Zero cost is an error, not infinity.
/// assert!(roi(eur(0), eur(10)).is_err());
/// # Ok::<(), solocrm_core::metrics::MetricError>(())
/// ```
///
/// # Errors
///
/// See above.
pub fn roi(cost: Money, gain: Money) -> MetricResult<CostBenefit> {
    let metric = "roi";
    let currency = same_currency(cost, gain, metric)?;
    non_negative(cost, metric, "the cost")?;
    if cost.is_zero() {
        return Err(MetricError::ZeroCost { metric });
    }
    let net = net_benefit(cost, gain)?;
    let roi = exact_div(
        minor_of(net, currency, metric)?,
        minor_of(cost, currency, metric)?,
        metric,
    )?;
    Ok(CostBenefit {
        cost,
        gain,
        net_benefit: net,
        roi,
    })
}

// ----- acquisition cost -----

/// Customer acquisition cost: what winning one customer cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cac {
    /// Acquisition spend.
    pub spend: Money,
    /// Customers won.
    pub new_customers: u64,
    /// `spend / new_customers`, rounded to the minor unit.
    pub cac: Money,
}

/// CAC = acquisition spend / new customers.
///
/// *Source.* Farris et al., *Marketing Metrics* (2010), ch. 5, "Acquisition versus
/// retention cost"; the mission's appendix.
///
/// *Edge cases.* No new customers: [`MetricError::EmptyPopulation`] (the spend bought
/// nobody yet; the cost per customer is undefined, not infinite). Negative spend:
/// [`MetricError::InvalidInput`].
///
/// ```
/// use solocrm_core::{Currency, Money};
/// use solocrm_core::metrics::cac;
/// // 1,500 EUR of ads won 12 customers: 125 EUR each.
/// let c = cac(Money::from_minor(150_000, Currency::EUR), 12)?;
/// assert_eq!(c.cac, Money::from_minor(12_500, Currency::EUR));
/// assert!(cac(Money::from_minor(150_000, Currency::EUR), 0).is_err());
/// # Ok::<(), solocrm_core::metrics::MetricError>(())
/// ```
///
/// # Errors
///
/// See above.
pub fn cac(spend: Money, new_customers: u64) -> MetricResult<Cac> {
    let metric = "customer acquisition cost";
    non_negative(spend, metric, "the spend")?;
    let currency = spend.currency();
    let minor = minor_of(spend, currency, metric)?;
    let cac = money_mean(minor, new_customers, currency, metric, "no new customers")?;
    Ok(Cac {
        spend,
        new_customers,
        cac,
    })
}

/// One customer's part in the acquisition spend of a period, for [`cac_by_channel`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AcquisitionRecord<'a> {
    /// How they found the business; `None` is reported as `unattributed`.
    pub channel: Option<&'a Tag>,
    /// The acquisition cost booked in the period (solocrm's report books a customer's
    /// recorded cost in the period the customer was created, whether or not they have
    /// bought yet: the money was spent).
    pub spend: Option<Money>,
    /// True if the customer was won in the period (first purchase in it).
    pub acquired: bool,
}

/// CAC of one acquisition channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelCac {
    /// The channel; `unattributed` for customers without one.
    pub channel: String,
    /// Spend booked on the channel.
    pub spend: Money,
    /// Customers won through it.
    pub new_customers: u64,
    /// `spend / new_customers`, or why it is undefined.
    pub cac: Measured<Money>,
}

/// CAC overall and per acquisition channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CacByChannel {
    /// All channels together.
    pub overall: Measured<Cac>,
    /// Per channel, by name.
    pub channels: Vec<ChannelCac>,
}

/// The label of customers without an acquisition channel.
pub const UNATTRIBUTED: &str = "unattributed";

/// [`cac`] overall and per channel, from per-customer records.
///
/// ```
/// use solocrm_core::{Currency, Money, Tag};
/// use solocrm_core::metrics::{cac_by_channel, AcquisitionRecord};
/// let eur = |units: i64| Money::from_minor(units * 100, Currency::EUR);
/// let ads = Tag::parse("google-ads")?;
/// let fair = Tag::parse("trade-fair")?;
/// let records = [
///     AcquisitionRecord { channel: Some(&ads), spend: Some(eur(300)), acquired: true },
///     AcquisitionRecord { channel: Some(&ads), spend: Some(eur(300)), acquired: false },
///     AcquisitionRecord { channel: Some(&fair), spend: Some(eur(900)), acquired: true },
///     AcquisitionRecord { channel: Some(&fair), spend: None, acquired: true },
/// ];
/// let by = cac_by_channel(&records, Currency::EUR)?;
/// assert_eq!(by.overall.value().map(|c| c.cac), Some(eur(500))); // 1,500 / 3
/// assert_eq!(by.channels[0].cac.value(), Some(&eur(600)));        // google-ads: 600 / 1
/// assert_eq!(by.channels[1].cac.value(), Some(&eur(450)));        // trade-fair: 900 / 2
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
///
/// [`MetricError::CurrencyMismatch`] for spend in another currency,
/// [`MetricError::InvalidInput`] for negative spend, [`MetricError::Overflow`].
pub fn cac_by_channel(
    records: &[AcquisitionRecord<'_>],
    currency: Currency,
) -> MetricResult<CacByChannel> {
    let metric = "customer acquisition cost";
    let mut per: BTreeMap<&str, (i128, u64)> = BTreeMap::new();
    let (mut spend, mut won) = (0i128, 0u64);
    for r in records {
        if r.spend.is_none() && !r.acquired {
            continue; // no part in this period's acquisition
        }
        let s = match r.spend {
            Some(m) => {
                non_negative(m, metric, "the spend")?;
                minor_of(m, currency, metric)?
            }
            None => 0,
        };
        let key = r.channel.map_or(UNATTRIBUTED, Tag::as_str);
        let e = per.entry(key).or_default();
        e.0 = e.0.checked_add(s).ok_or(MetricError::Overflow { metric })?;
        e.1 += u64::from(r.acquired);
        spend = spend
            .checked_add(s)
            .ok_or(MetricError::Overflow { metric })?;
        won += u64::from(r.acquired);
    }
    let overall = cac(money_from_minor(spend, currency, metric)?, won).into();
    let mut channels = Vec::with_capacity(per.len());
    for (channel, (s, n)) in per {
        let spend = money_from_minor(s, currency, metric)?;
        channels.push(ChannelCac {
            channel: channel.to_owned(),
            spend,
            new_customers: n,
            cac: cac(spend, n).map(|c| c.cac).into(),
        });
    }
    Ok(CacByChannel { overall, channels })
}

// ----- lifetime value -----

/// The LTV-to-CAC ratio: average lifetime value per customer / average acquisition
/// cost.
///
/// *Definition.* How many times a customer pays back what winning them cost. The
/// mission's source writes "CLV = average lifetime sales / average acquisition cost";
/// that quotient has no unit, so it is not a lifetime value but this ratio, and solocrm
/// names it so. Pass average lifetime *sales* to follow the source, or average
/// lifetime *margin* ([`HistoricalClv`]) for the stricter reading; a ratio of 3 or more
/// is the usual rule of thumb for healthy acquisition.
///
/// *Source.* Skok, D., "SaaS Metrics 2.0" (2013), for the 3:1 rule; the mission's
/// appendix for the formula.
///
/// *Edge cases.* Zero CAC (every customer came for free): [`MetricError::ZeroCost`];
/// negative inputs: [`MetricError::InvalidInput`].
///
/// ```
/// use rust_decimal::Decimal;
/// use solocrm_core::{Currency, Money};
/// use solocrm_core::metrics::ltv_to_cac;
/// let eur = |units: i64| Money::from_minor(units * 100, Currency::EUR);
/// // Customers spend 1,200 EUR over their lifetime and cost 400 EUR to win: 3.
/// assert_eq!(ltv_to_cac(eur(1_200), eur(400))?, Decimal::from(3));
/// assert!(ltv_to_cac(eur(1_200), eur(0)).is_err());
/// # Ok::<(), solocrm_core::metrics::MetricError>(())
/// ```
///
/// # Errors
///
/// See above; [`MetricError::CurrencyMismatch`].
pub fn ltv_to_cac(average_lifetime_value: Money, average_cac: Money) -> MetricResult<Decimal> {
    let metric = "ltv to cac";
    let currency = same_currency(average_lifetime_value, average_cac, metric)?;
    non_negative(average_cac, metric, "the average acquisition cost")?;
    if average_cac.is_zero() {
        return Err(MetricError::ZeroCost { metric });
    }
    exact_div(
        minor_of(average_lifetime_value, currency, metric)?,
        minor_of(average_cac, currency, metric)?,
        metric,
    )
}

/// What customers have been worth so far: revenue, known costs, refunds and the margin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoricalClv {
    /// Customers who bought (the divisor of the average).
    pub customers: u64,
    /// Purchases counted.
    pub purchases: u64,
    /// Purchases without a recorded cost: their margin counts as their full amount.
    pub purchases_without_cost: u64,
    /// Sum of purchase amounts.
    pub revenue: Money,
    /// Sum of recorded purchase costs.
    pub costs: Money,
    /// Sum of refunds.
    pub refunds: Money,
    /// `revenue − costs − refunds`: the margin to date, all customers together.
    pub margin: Money,
    /// `margin / customers`, rounded to the minor unit: the historical CLV of an
    /// average customer.
    pub average: Money,
}

/// Historical CLV: the sum of margin a customer (or each customer on average) has
/// brought so far.
///
/// *Definition.* Over the purchases and refunds dated on or before `as_of` (a
/// business-local date in `zone`, the books' time zone): margin =
/// Σ amount − Σ recorded cost − Σ refunds. A refund takes revenue back and is assumed not
/// to return the cost of the goods (the conservative reading). A purchase without a
/// recorded cost contributes its whole amount, so with missing costs the margin is an
/// upper bound; `purchases_without_cost` says how many there were. The average divides by
/// the customers who bought. Pass one customer's records for that customer's value.
///
/// *Source.* Kumar, V. & Reinartz, W., *Customer Relationship Management* (2nd ed.,
/// 2012), "past customer value"; Farris et al., *Marketing Metrics* (2010), ch. 5.
///
/// *Edge cases.* No purchases: [`MetricError::EmptyPopulation`].
///
/// ```
/// use chrono::{NaiveDate, TimeZone, Utc};
/// use solocrm_core::{BusinessZone, Currency, CustomerId, Money, NewPurchase, Purchase, PurchaseId};
/// use solocrm_core::metrics::historical_clv;
/// let eur = |units: i64| Money::from_minor(units * 100, Currency::EUR);
/// let at = Utc.with_ymd_and_hms(2026, 1, 5, 10, 0, 0).unwrap();
/// let mut a = NewPurchase::new(CustomerId::new(1), at, eur(100));
/// a.cost = Some(eur(60));
/// let mut b = NewPurchase::new(CustomerId::new(2), at, eur(50));
/// b.cost = Some(eur(20));
/// let purchases = [Purchase::new(PurchaseId::new(1), a), Purchase::new(PurchaseId::new(2), b)];
/// let h = historical_clv(&purchases, &[], NaiveDate::from_ymd_opt(2026, 1, 31).unwrap(), BusinessZone::UTC)?;
/// assert_eq!(h.margin, eur(70));   // (100 − 60) + (50 − 20)
/// assert_eq!(h.average, eur(35));  // over 2 customers
/// # Ok::<(), solocrm_core::metrics::MetricError>(())
/// ```
///
/// # Errors
///
/// See above; [`MetricError::CurrencyMismatch`], [`MetricError::Overflow`].
pub fn historical_clv(
    purchases: &[Purchase],
    refunds: &[Refund],
    as_of: NaiveDate,
    zone: BusinessZone,
) -> MetricResult<HistoricalClv> {
    let metric = "historical clv";
    // Up to the end of `as_of` in the business's zone.
    let end = zone.end_of(as_of);
    let Some(currency) = purchases.first().map(|p| p.amount().currency()) else {
        return Err(MetricError::EmptyPopulation {
            metric,
            population: "no purchases",
        });
    };
    let (mut revenue, mut costs, mut refunded) = (0i128, 0i128, 0i128);
    let (mut count, mut without_cost) = (0u64, 0u64);
    let mut customers = BTreeSet::new();
    let add = |acc: &mut i128, m: Money| -> MetricResult<()> {
        *acc = acc
            .checked_add(minor_of(m, currency, metric)?)
            .ok_or(MetricError::Overflow { metric })?;
        Ok(())
    };
    for p in purchases.iter().filter(|p| p.at() < end) {
        add(&mut revenue, p.amount())?;
        match p.cost() {
            Some(c) => add(&mut costs, c)?,
            None => without_cost += 1,
        }
        count += 1;
        customers.insert(p.customer());
    }
    for r in refunds.iter().filter(|r| r.at() < end) {
        add(&mut refunded, r.amount())?;
    }
    clv_of_sums(
        [revenue, costs, refunded],
        [customers.len() as u64, count, without_cost],
        currency,
        metric,
    )
}

/// The historical CLV of its sums in minor units (`[revenue, costs, refunds]`) and
/// counts (`[customers, purchases, purchases without a cost]`): what both
/// [`historical_clv`] and [`historical_clv_of`] end with.
fn clv_of_sums(
    [revenue, costs, refunded]: [i128; 3],
    [customers, purchases, without_cost]: [u64; 3],
    currency: Currency,
    metric: &'static str,
) -> MetricResult<HistoricalClv> {
    let margin = revenue - costs - refunded;
    Ok(HistoricalClv {
        customers,
        purchases,
        purchases_without_cost: without_cost,
        revenue: money_from_minor(revenue, currency, metric)?,
        costs: money_from_minor(costs, currency, metric)?,
        refunds: money_from_minor(refunded, currency, metric)?,
        margin: money_from_minor(margin, currency, metric)?,
        average: money_mean(margin, customers, currency, metric, "no purchases")?,
    })
}

/// [`historical_clv`] over the narrow rows a metrics report reads (ADR 0062): the
/// same figures for the same purchases when they are not voided and in the books'
/// currency (what a store holds; [`ReportPurchases::from_purchases`] leaves out
/// voided purchases and any it cannot express in minor units), their amounts already
/// in minor units of `purchases.currency`.
///
/// # Errors
///
/// As [`historical_clv`].
pub fn historical_clv_of(
    purchases: &ReportPurchases,
    refunds: &[Refund],
    as_of: NaiveDate,
    zone: BusinessZone,
) -> MetricResult<HistoricalClv> {
    historical_clv_over(
        purchases.currency,
        purchases.iter().copied(),
        refunds,
        as_of,
        zone,
    )
}

/// [`historical_clv_of`] over rows given one by one, in `currency` (a report's rows
/// kept beside its log: [`ReportData::purchase_rows`](super::ReportData::purchase_rows)).
pub(crate) fn historical_clv_over(
    currency: Option<Currency>,
    purchases: impl Iterator<Item = ReportPurchase>,
    refunds: &[Refund],
    as_of: NaiveDate,
    zone: BusinessZone,
) -> MetricResult<HistoricalClv> {
    let metric = "historical clv";
    let end = zone.end_of(as_of).timestamp();
    let mut purchases = purchases.peekable();
    let Some(currency) = currency.filter(|_| purchases.peek().is_some()) else {
        return Err(MetricError::EmptyPopulation {
            metric,
            population: "no purchases",
        });
    };
    let (mut revenue, mut costs, mut refunded) = (0i128, 0i128, 0i128);
    let (mut count, mut without_cost) = (0u64, 0u64);
    // Only their number is read (ten million inserts at 1 M customers).
    let mut customers = DistinctIds::default();
    let add = |acc: &mut i128, minor: i64| -> MetricResult<()> {
        *acc = acc
            .checked_add(i128::from(minor))
            .ok_or(MetricError::Overflow { metric })?;
        Ok(())
    };
    for p in purchases.filter(|p| p.at < end) {
        add(&mut revenue, p.amount)?;
        match p.cost() {
            Some(c) => add(&mut costs, c)?,
            None => without_cost += 1,
        }
        count += 1;
        customers.insert(p.customer);
    }
    for r in refunds.iter().filter(|r| r.at().timestamp() < end) {
        refunded = refunded
            .checked_add(minor_of(r.amount(), currency, metric)?)
            .ok_or(MetricError::Overflow { metric })?;
    }
    clv_of_sums(
        [revenue, costs, refunded],
        [customers.len(), count, without_cost],
        currency,
        metric,
    )
}

/// The number of distinct customer ids seen: ids below 2²⁶ as bits by id (8 MB at
/// most; 125 kB for a book of a million customers numbered from one, which the
/// processor's caches hold), any larger id in a hash set. A hash set of a million ids
/// missed the caches on nearly every one of ten million inserts.
#[derive(Debug, Default)]
pub(super) struct DistinctIds {
    bits: Vec<u64>,
    counted: u64,
    far: std::collections::HashSet<CustomerId>,
}

impl DistinctIds {
    const BITS_BELOW: u64 = 1 << 26;

    pub(super) fn insert(&mut self, id: CustomerId) {
        let raw = id.get();
        if raw >= Self::BITS_BELOW {
            self.far.insert(id);
            return;
        }
        // Below 2²⁶: the word index fits in usize everywhere.
        let word = (raw / 64) as usize;
        if word >= self.bits.len() {
            self.bits.resize(word + 1, 0);
        }
        let bit = 1u64 << (raw % 64);
        if self.bits[word] & bit == 0 {
            self.bits[word] |= bit;
            self.counted += 1;
        }
    }

    pub(super) fn len(&self) -> u64 {
        self.counted + self.far.len() as u64
    }
}

/// [`gross_margin`] over the narrow rows a metrics report reads (ADR 0062), their
/// amounts in minor units of one currency: the same figure for the same purchases
/// when they are not voided and in the books' currency (as for [`historical_clv_of`]).
///
/// # Errors
///
/// As [`gross_margin`] (no currency mismatch can arise).
pub fn gross_margin_of<P: std::borrow::Borrow<ReportPurchase>>(
    purchases: impl IntoIterator<Item = P>,
) -> MetricResult<Decimal> {
    let metric = "gross margin";
    let (mut amount, mut margin) = (0i128, 0i128);
    for p in purchases {
        let p = p.borrow();
        let Some(cost) = p.cost() else { continue };
        let a = i128::from(p.amount);
        amount = amount
            .checked_add(a)
            .ok_or(MetricError::Overflow { metric })?;
        margin = margin
            .checked_add(a - i128::from(cost))
            .ok_or(MetricError::Overflow { metric })?;
    }
    margin_of_sums(margin, amount, metric)
}

/// Σ(amount − cost) / Σ amount from its two sums in minor units: what both
/// [`gross_margin`] and [`gross_margin_of`] end with.
fn margin_of_sums(margin: i128, amount: i128, metric: &'static str) -> MetricResult<Decimal> {
    if amount == 0 {
        return Err(MetricError::EmptyPopulation {
            metric,
            population: "no sales with a recorded cost",
        });
    }
    exact_div(margin, amount, metric)
}

/// The gross margin of purchases with a recorded cost: Σ(amount − cost) / Σ amount.
///
/// At most 1 (costs are never negative); negative when goods sell below cost.
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use rust_decimal::Decimal;
/// use solocrm_core::{Currency, CustomerId, Money, NewPurchase, Purchase, PurchaseId};
/// use solocrm_core::metrics::gross_margin;
/// let eur = |units: i64| Money::from_minor(units * 100, Currency::EUR);
/// let at = Utc.with_ymd_and_hms(2026, 1, 5, 10, 0, 0).unwrap();
/// let mut a = NewPurchase::new(CustomerId::new(1), at, eur(100));
/// a.cost = Some(eur(60));
/// let no_cost = NewPurchase::new(CustomerId::new(1), at, eur(900)); // ignored
/// let ps = [Purchase::new(PurchaseId::new(1), a), Purchase::new(PurchaseId::new(2), no_cost)];
/// assert_eq!(gross_margin(&ps)?, Decimal::new(4, 1));
/// # Ok::<(), solocrm_core::metrics::MetricError>(())
/// ```
///
/// # Errors
///
/// [`MetricError::EmptyPopulation`] without purchases that have a cost and a non-zero
/// amount; [`MetricError::CurrencyMismatch`]; [`MetricError::Overflow`].
pub fn gross_margin<'a>(
    purchases: impl IntoIterator<Item = &'a Purchase>,
) -> MetricResult<Decimal> {
    let metric = "gross margin";
    let mut currency = None;
    let (mut amount, mut margin) = (0i128, 0i128);
    for p in purchases {
        let Some(cost) = p.cost() else { continue };
        let cur = *currency.get_or_insert(p.amount().currency());
        let a = minor_of(p.amount(), cur, metric)?;
        let c = minor_of(cost, cur, metric)?;
        amount = amount
            .checked_add(a)
            .ok_or(MetricError::Overflow { metric })?;
        margin = margin
            .checked_add(a - c)
            .ok_or(MetricError::Overflow { metric })?;
    }
    margin_of_sums(margin, amount, metric)
}

/// Average-based CLV = average order value × purchase frequency × gross margin ×
/// expected lifespan.
///
/// *Definition.* The margin an average customer brings per year (orders per year ×
/// order value × margin share) times the years they stay. Undiscounted; for discounting
/// use [`retention_clv`]. The result is rounded once, to the minor unit.
///
/// *Source.* Jain, D. & Singh, S. S., "Customer lifetime value research in marketing: a
/// review and future directions", *Journal of Interactive Marketing* 16(2), 2002 (the
/// basic deterministic model); practitioner guides use the same product.
///
/// *Edge cases.* Negative frequency or lifespan: [`MetricError::InvalidInput`]; a gross
/// margin above 1: [`MetricError::InvalidInput`] (a negative margin is allowed and gives
/// a negative CLV).
///
/// ```
/// use rust_decimal::Decimal;
/// use solocrm_core::{Currency, Money};
/// use solocrm_core::metrics::average_clv;
/// // 50 EUR per order, 4 orders a year, 60 % margin, 3 years: 360 EUR.
/// let clv = average_clv(
///     Money::from_minor(5_000, Currency::EUR),
///     Decimal::from(4),
///     Decimal::new(6, 1),
///     Decimal::from(3),
/// )?;
/// assert_eq!(clv, Money::from_minor(36_000, Currency::EUR));
/// # Ok::<(), solocrm_core::metrics::MetricError>(())
/// ```
///
/// # Errors
///
/// See above; [`MetricError::Overflow`].
pub fn average_clv(
    average_order_value: Money,
    purchases_per_year: Decimal,
    gross_margin: Decimal,
    lifespan_years: Decimal,
) -> MetricResult<Money> {
    let metric = "average clv";
    non_negative(average_order_value, metric, "the average order value")?;
    non_negative_dec(purchases_per_year, metric, "the purchase frequency")?;
    non_negative_dec(lifespan_years, metric, "the expected lifespan")?;
    if gross_margin > Decimal::ONE {
        return Err(MetricError::InvalidInput {
            metric,
            what: "the gross margin",
            expected: "at most 1",
            value: gross_margin.to_string(),
        });
    }
    let overflow = MetricError::Overflow { metric };
    let v = average_order_value
        .amount()
        .checked_mul(purchases_per_year)
        .and_then(|v| v.checked_mul(gross_margin))
        .and_then(|v| v.checked_mul(lifespan_years))
        .ok_or(overflow)?;
    Ok(Money::new(v, average_order_value.currency()).round_to_minor_units())
}

/// Retention-based CLV = m × r / (1 + d − r).
///
/// *Definition.* The expected discounted margin of a customer who brings margin `m` per
/// period, stays each further period with probability `r` (the retention rate) and whose
/// future money is discounted at `d` per period: Σ_{t≥1} m rᵗ / (1 + d)ᵗ = m r / (1 + d −
/// r). The sum starts with the next period's margin (the customer is retained once
/// before paying again); add `m` for the variant that counts the current period. `m`,
/// `r` and `d` must be for the same period length, usually a year.
///
/// *Source.* Gupta, S. & Lehmann, D. R., "Customers as assets", *Journal of Interactive
/// Marketing* 17(1), 2003 (the margin multiple r / (1 + d − r)); Fader, P. S. & Hardie,
/// B. G. S., "Reconciling and Clarifying CLV Formulas" (2012), on which variant counts
/// which period.
///
/// *Edge cases.* `r = 1` and `d = 0` (a customer who never leaves, money that never
/// loses value): the sum is infinite, [`MetricError::ZeroDenominator`]; a negative
/// discount rate: [`MetricError::InvalidInput`].
///
/// ```
/// use rust_decimal::Decimal;
/// use solocrm_core::{Currency, Money};
/// use solocrm_core::metrics::{retention_clv, Ratio};
/// // 100 EUR margin a year, 80 % retention, 10 % discount rate:
/// // 100 × 0.8 / (1 + 0.1 − 0.8) = 266.67 EUR.
/// let clv = retention_clv(
///     Money::from_minor(10_000, Currency::EUR),
///     Ratio::new(Decimal::new(8, 1))?,
///     Decimal::new(1, 1),
/// )?;
/// assert_eq!(clv, Money::from_minor(26_667, Currency::EUR));
/// # Ok::<(), solocrm_core::metrics::MetricError>(())
/// ```
///
/// # Errors
///
/// See above; [`MetricError::Overflow`].
pub fn retention_clv(
    margin: Money,
    retention: Ratio,
    discount_rate: Decimal,
) -> MetricResult<Money> {
    let metric = "retention clv";
    non_negative_dec(discount_rate, metric, "the discount rate")?;
    let den = Decimal::ONE + discount_rate - retention.value();
    if den.is_zero() {
        return Err(MetricError::ZeroDenominator {
            metric,
            what: "1 + discount rate − retention",
        });
    }
    let num = margin
        .amount()
        .checked_mul(retention.value())
        .ok_or(MetricError::Overflow { metric })?;
    let v = exact_div_dec(num, den, metric)?;
    Ok(Money::new(v, margin.currency()).round_to_minor_units())
}
