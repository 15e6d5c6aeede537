//! Buying and contact behaviour: order value, purchase frequency, repeat purchases,
//! interaction frequency, engagement, and the loyalty index built from them.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::error::{MetricError, MetricResult};
use super::period::{DayTable, Period};
use super::ratio::{Ratio, clamp_ratio, exact_div, minor_of, money_from_minor, money_mean};
use super::report_rows::ReportInteraction;
use super::retention::check_log;
use crate::ids::CustomerId;
use crate::interaction::Interaction;
use crate::money::{Currency, Money};
use crate::purchase::PurchaseLog;

/// What the customers bought in a period: the counts behind average order value,
/// purchase frequency and the repeat purchase rate. Amounts are gross: refunds are not
/// in the purchase log and are not netted out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PurchaseStats {
    /// The currency of the revenue.
    pub currency: Currency,
    /// Purchases in the period.
    pub orders: u64,
    /// Customers with at least one purchase in the period.
    pub buyers: u64,
    /// Customers who bought on two or more different days in the period.
    pub repeat_buyers: u64,
    /// Sum of the purchases' amounts.
    pub revenue: Money,
}

impl PurchaseStats {
    /// Average order value = revenue / orders, rounded to the minor unit.
    ///
    /// *Source.* Farris et al., *Marketing Metrics* (2010), ch. 5 and 7 (average
    /// transaction size); the standard e-commerce definition.
    ///
    /// *Edge cases.* No orders: [`MetricError::EmptyPopulation`]. A free order (amount
    /// zero) counts as an order.
    ///
    /// # Errors
    ///
    /// See above.
    pub fn average_order_value(&self) -> MetricResult<Money> {
        let metric = "average order value";
        money_mean(
            minor_of(self.revenue, self.currency, metric)?,
            self.orders,
            self.currency,
            metric,
            "no purchases in the period",
        )
    }

    /// Purchase frequency = orders / buyers: purchases per buying customer in the
    /// period (at least 1 when defined).
    ///
    /// *Edge cases.* No buyers: [`MetricError::EmptyPopulation`].
    ///
    /// # Errors
    ///
    /// See above.
    pub fn purchase_frequency(&self) -> MetricResult<Decimal> {
        if self.buyers == 0 {
            return Err(MetricError::EmptyPopulation {
                metric: "purchase frequency",
                population: "no buyers in the period",
            });
        }
        exact_div(
            i128::from(self.orders),
            i128::from(self.buyers),
            "purchase frequency",
        )
    }

    /// Repeat purchase rate = customers who bought on two or more days / customers who
    /// bought, within the period.
    ///
    /// Two purchases on the same business-local day are one visit, as in the lifecycle
    /// policy: a basket split into two orders is not a repeat purchase.
    ///
    /// *Edge cases.* No buyers: [`MetricError::EmptyPopulation`].
    ///
    /// # Errors
    ///
    /// See above.
    pub fn repeat_purchase_rate(&self) -> MetricResult<Ratio> {
        Ratio::of(
            self.repeat_buyers,
            self.buyers,
            "repeat purchase rate",
            "no buyers in the period",
        )
    }
}

/// Orders, buyers, repeat buyers and revenue of `period`, in one pass over the log.
///
/// The days are those of the log's business time zone ([`PurchaseLog::zone`]): the
/// period is read in it whatever zone it was built in, as in
/// [`MetricsReport::compute`](super::MetricsReport::compute).
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use rust_decimal::Decimal;
/// use solocrm_core::{Currency, CustomerId, Money, PurchaseLog};
/// use solocrm_core::metrics::{purchase_stats, Period};
/// let ts = |d, h| Utc.with_ymd_and_hms(2026, 3, d, h, 0, 0).unwrap().timestamp();
/// let mut log = PurchaseLog::with_customers(Currency::EUR, (1..=3).map(CustomerId::new).collect());
/// log.push(0, ts(2, 9), 4_000);
/// log.push(0, ts(2, 17), 1_000); // same day: one visit
/// log.push(1, ts(3, 9), 3_000);
/// log.push(1, ts(20, 9), 2_000); // another day: a repeat purchase
/// let s = purchase_stats(&log, Period::month(2026, 3)?)?;
/// assert_eq!((s.orders, s.buyers, s.repeat_buyers), (4, 2, 1));
/// assert_eq!(s.average_order_value()?, Money::from_minor(2_500, Currency::EUR));
/// assert_eq!(s.purchase_frequency()?, Decimal::TWO);
/// assert_eq!(s.repeat_purchase_rate()?.percent(), Decimal::from(50));
/// # Ok::<(), solocrm_core::metrics::MetricError>(())
/// ```
///
/// # Errors
///
/// [`MetricError::InvalidInput`] for a malformed log or one without a currency;
/// [`MetricError::Overflow`] if the revenue does not fit a `Decimal` (more than 2^32
/// purchases at the amount bound). Purchases outside the plausible calendar or beyond
/// the amount bound are skipped (see [`Outliers`](super::Outliers)).
pub fn purchase_stats(log: &PurchaseLog, period: Period) -> MetricResult<PurchaseStats> {
    let metric = "purchase stats";
    check_log(log, metric)?;
    let currency = log_currency(log, metric)?;
    // Outliers are skipped; the report counts them (see `Outliers`).
    let (log, _) = super::screen::screen(log);
    let log = log.as_ref();
    // The books' days: the period read in the log's zone, its ends as UTC seconds.
    let period = period.in_zone(log.zone);
    let (start, end) = (period.start_secs(), period.end_secs());
    let table = DayTable::new(log.zone, start, end.saturating_sub(1));
    const NONE: i64 = i64::MIN;
    // Per customer: the first purchase day seen in the period; a second distinct day
    // makes them a repeat buyer.
    let mut first = vec![NONE; log.customers.len()];
    let mut repeat = vec![false; log.customers.len()];
    let (mut orders, mut revenue) = (0u64, 0i128);
    for ((&c, &at), &amount) in log.customer.iter().zip(&log.at).zip(&log.amount) {
        if at < start || at >= end {
            continue;
        }
        let day = table.day(at);
        let c = c as usize;
        orders += 1;
        revenue += i128::from(amount);
        if first[c] == NONE {
            first[c] = day;
        } else if first[c] != day {
            repeat[c] = true;
        }
    }
    let buyers = first.iter().filter(|&&d| d != NONE).count() as u64;
    let repeat_buyers = repeat.iter().filter(|&&r| r).count() as u64;
    Ok(PurchaseStats {
        currency,
        orders,
        buyers,
        repeat_buyers,
        revenue: money_from_minor(revenue, currency, metric)?,
    })
}

pub(crate) fn log_currency(log: &PurchaseLog, metric: &'static str) -> MetricResult<Currency> {
    log.currency.ok_or(MetricError::InvalidInput {
        metric,
        what: "the purchase log",
        expected: "a currency",
        value: "none".to_owned(),
    })
}

/// Contact with a population of customers in a period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Engagement {
    /// Customers in the population.
    pub population: u64,
    /// Of those, customers with at least one interaction in the period.
    pub engaged: u64,
    /// Interactions of the population in the period.
    pub interactions: u64,
    /// `engaged / population`.
    pub engagement_rate: Ratio,
    /// `interactions / population`: interaction frequency, contacts per customer.
    pub interaction_frequency: Decimal,
}

/// Engagement rate and interaction frequency of `population` in `period`.
///
/// *Definition.* Engagement rate = customers of the population with at least one
/// logged interaction (any channel, either direction) in the period / customers in the
/// population. Interaction frequency = interactions of the population in the period /
/// customers in the population. Interactions of customers outside the population are
/// ignored, so the rate stays in [0, 1]. solocrm's report uses the customer base at the
/// end of the period as the population ([`CustomerBase`](super::CustomerBase)).
///
/// *Source.* The mission's appendix (interaction frequency; engagement as a loyalty
/// component); Kumar & Reinartz, *Customer Relationship Management* (2012), on contact
/// frequency.
///
/// *Edge cases.* Empty population: [`MetricError::EmptyPopulation`]. Duplicate ids in
/// the population count once.
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use rust_decimal::Decimal;
/// use solocrm_core::{Channel, CustomerId, Direction, FreeText, Interaction, InteractionId, NewInteraction};
/// use solocrm_core::metrics::{engagement, Period};
/// let call = |id, customer| Interaction::new(InteractionId::new(id), NewInteraction {
///     customer: CustomerId::new(customer),
///     channel: Channel::Phone,
///     direction: Direction::Outbound,
///     at: Utc.with_ymd_and_hms(2026, 3, 10, 9, 0, 0).unwrap(),
///     summary: FreeText::empty(),
///     sentiment: None,
/// });
/// let population = [CustomerId::new(1), CustomerId::new(2), CustomerId::new(3), CustomerId::new(4)];
/// let log = [call(1, 1), call(2, 1), call(3, 2), call(4, 9)]; // customer 9 is not in the population
/// let e = engagement(&population, &log, Period::month(2026, 3)?)?;
/// assert_eq!(e.engagement_rate.percent(), Decimal::from(50));   // customers 1 and 2 of 4
/// assert_eq!(e.interaction_frequency, Decimal::new(75, 2));     // 3 interactions / 4
/// # Ok::<(), solocrm_core::metrics::MetricError>(())
/// ```
///
/// # Errors
///
/// See above.
pub fn engagement(
    population: &[CustomerId],
    interactions: &[Interaction],
    period: Period,
) -> MetricResult<Engagement> {
    engagement_over(
        population,
        interactions.iter().map(|i| (i.customer(), i.at())),
        period,
    )
}

/// [`engagement`] over the narrow rows a metrics report reads of interactions (ADR
/// 0062): the same figures.
///
/// # Errors
///
/// As [`engagement`].
pub fn engagement_of(
    population: &[CustomerId],
    interactions: &[ReportInteraction],
    period: Period,
) -> MetricResult<Engagement> {
    engagement_over(
        population,
        interactions.iter().map(|i| (i.customer, i.at)),
        period,
    )
}

fn engagement_over(
    population: &[CustomerId],
    interactions: impl Iterator<Item = (CustomerId, DateTime<Utc>)>,
    period: Period,
) -> MetricResult<Engagement> {
    // Only their numbers are read: hash sets, not ordered ones.
    let members: HashSet<CustomerId> = population.iter().copied().collect();
    let mut engaged = HashSet::new();
    let mut count = 0u64;
    for (customer, at) in interactions {
        if period.contains_instant(at) && members.contains(&customer) {
            count += 1;
            engaged.insert(customer);
        }
    }
    let n = members.len() as u64;
    let rate = Ratio::of(
        engaged.len() as u64,
        n,
        "engagement rate",
        "no customers in the population",
    )?;
    Ok(Engagement {
        population: n,
        engaged: engaged.len() as u64,
        interactions: count,
        engagement_rate: rate,
        interaction_frequency: exact_div(
            i128::from(count),
            i128::from(n),
            "interaction frequency",
        )?,
    })
}

/// The loyalty index and its three components, each in [0, 1].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoyaltyIndex {
    /// [`PurchaseStats::repeat_purchase_rate`].
    pub repeat_purchase_rate: Ratio,
    /// [`Engagement::engagement_rate`].
    pub engagement_rate: Ratio,
    /// The share of NPS respondents who are promoters ([`Nps::promoter_share`](super::Nps::promoter_share)).
    pub recommendation_willingness: Ratio,
    /// The unweighted mean of the three.
    pub index: Ratio,
    /// What `engagement_rate` measures: the interaction rate (the default, left out
    /// of JSON) or the participation rate.
    #[serde(
        default,
        skip_serializing_if = "crate::metrics::EngagementBasis::is_default"
    )]
    pub engagement_basis: crate::metrics::EngagementBasis,
}

impl LoyaltyIndex {
    /// The same index, saying its engagement component is measured by `basis`.
    #[must_use]
    pub fn with_basis(mut self, basis: crate::metrics::EngagementBasis) -> Self {
        self.engagement_basis = basis;
        self
    }
}

/// Loyalty index = (repeat purchase rate + engagement rate + recommendation
/// willingness) / 3.
///
/// *Definition.* Three shares, each in [0, 1], weighted equally:
/// - repeat purchase rate: buyers of the period who bought on two or more days
///   ([`PurchaseStats::repeat_purchase_rate`]);
/// - engagement rate: customers of the base with at least one interaction in the period
///   ([`engagement`]) — the original proxy, `interaction_rate` — or, when the report is
///   asked for `participation_rate`, customers of the base with at least one
///   participation in the period
///   ([`participation_engagement`](crate::metrics::participation_engagement));
/// - recommendation willingness: NPS respondents of the period who are promoters, 9–10
///   ([`Nps::promoter_share`](super::Nps::promoter_share)).
///
/// The index is exact; the components stay available on their own because an index of
/// 0.5 can hide very different businesses.
///
/// *Source.* The mission's appendix; the index is solocrm's reading of it, not a
/// published standard. The components follow Reichheld (2003) for willingness to
/// recommend and Kumar & Reinartz (2012) for the behavioural shares.
///
/// ```
/// use rust_decimal::Decimal;
/// use solocrm_core::metrics::{loyalty_index, Ratio};
/// let pct = |p: i64| Ratio::from_percent(Decimal::from(p)).unwrap();
/// let l = loyalty_index(pct(30), pct(60), pct(45));
/// assert_eq!(l.index.percent(), Decimal::from(45));
/// ```
pub fn loyalty_index(
    repeat_purchase_rate: Ratio,
    engagement_rate: Ratio,
    recommendation_willingness: Ratio,
) -> LoyaltyIndex {
    let sum =
        repeat_purchase_rate.value() + engagement_rate.value() + recommendation_willingness.value();
    // The mean of three values in [0, 1] is in [0, 1], and a sum of at most 3 divided
    // by 3 cannot overflow.
    let index = clamp_ratio(sum / Decimal::from(3));
    LoyaltyIndex {
        repeat_purchase_rate,
        engagement_rate,
        recommendation_willingness,
        index,
        engagement_basis: crate::metrics::EngagementBasis::InteractionRate,
    }
}
