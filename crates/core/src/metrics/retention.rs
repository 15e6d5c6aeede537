//! Churn, retention and the customer base they are measured on.

use serde::{Deserialize, Serialize};

use super::error::{MetricError, MetricResult};
use super::period::{Period, epoch_day};
use super::ratio::Ratio;
use crate::policy::LifecyclePolicy;
use crate::purchase::PurchaseLog;

/// Churn and retention over a period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Churn {
    /// Customers at the start of the period.
    pub at_start: u64,
    /// Of those, customers lost by the end.
    pub lost: u64,
    /// `lost / at_start`.
    pub churn_rate: Ratio,
    /// `1 − churn_rate`: the share of the start's customers still there at the end.
    pub retention_rate: Ratio,
}

/// Churn rate = customers lost in the period / customers at the start × 100 %, with the
/// retention rate beside it.
///
/// *Definition.* Of the `at_start` customers the business had when the period began,
/// `lost` were gone by its end. The retention rate is the complement, so churn +
/// retention = 100 % exactly. Customers won during the period play no part: they were
/// not there at the start.
///
/// The mission's source calls `lost / at_start` the "retention rate"; it is the churn
/// rate, and solocrm names it so. The standard customer retention rate computed from
/// headcounts is [`customer_retention_rate`].
///
/// *Source.* Farris, Bendle, Pfeifer, Reibstein, *Marketing Metrics* (2nd ed., 2010),
/// ch. 5, retention rate and its complement, churn.
///
/// *Edge cases.* No customers at the start: [`MetricError::EmptyPopulation`]; more lost
/// than there were: [`MetricError::InconsistentCounts`].
///
/// ```
/// use rust_decimal::Decimal;
/// use solocrm_core::metrics::churn_rate;
/// // 200 customers on January 1st, 14 of them gone by January 31st: 7 % churn.
/// let c = churn_rate(200, 14)?;
/// assert_eq!(c.churn_rate.percent(), Decimal::from(7));
/// assert_eq!(c.retention_rate.percent(), Decimal::from(93));
/// assert!(churn_rate(0, 0).is_err());
/// # Ok::<(), solocrm_core::metrics::MetricError>(())
/// ```
///
/// # Errors
///
/// See above.
pub fn churn_rate(at_start: u64, lost: u64) -> MetricResult<Churn> {
    let churn = Ratio::of(lost, at_start, "churn rate", "no customers at the start")?;
    Ok(Churn {
        at_start,
        lost,
        churn_rate: churn,
        retention_rate: churn.complement(),
    })
}

/// Customer retention rate CRR = (E − N) / S × 100 %.
///
/// *Definition.* `S` customers at the start of the period, `E` at the end, `N` of the
/// end's customers joined during the period; `E − N` is then the start's customers who
/// stayed. Counted from one consistent data set, CRR equals the retention rate of
/// [`churn_rate`]; the formula is the one to use when all you have are three headcounts.
///
/// *Source.* The standard formula of practitioner guides, e.g. Farris et al., *Marketing
/// Metrics* (2010), ch. 5; for solocrm's counts see [`CustomerBase`].
///
/// *Edge cases.* `S = 0`: [`MetricError::EmptyPopulation`]; `N > E` or `E − N > S`
/// (headcounts that contradict each other): [`MetricError::InconsistentCounts`].
///
/// ```
/// use rust_decimal::Decimal;
/// use solocrm_core::metrics::customer_retention_rate;
/// // 200 at the start, 210 at the end, 24 of them new: (210 − 24) / 200 = 93 %.
/// let crr = customer_retention_rate(200, 210, 24)?;
/// assert_eq!(crr.percent(), Decimal::from(93));
/// assert!(customer_retention_rate(200, 10, 24).is_err());
/// # Ok::<(), solocrm_core::metrics::MetricError>(())
/// ```
///
/// # Errors
///
/// See above.
pub fn customer_retention_rate(start: u64, end: u64, new: u64) -> MetricResult<Ratio> {
    let metric = "customer retention rate";
    if start == 0 {
        return Err(MetricError::EmptyPopulation {
            metric,
            population: "no customers at the start",
        });
    }
    let stayed = end
        .checked_sub(new)
        .ok_or_else(|| MetricError::InconsistentCounts {
            metric,
            detail: format!("{new} new customers but only {end} at the end"),
        })?;
    if stayed > start {
        return Err(MetricError::InconsistentCounts {
            metric,
            detail: format!("{stayed} stayed of {start} at the start"),
        });
    }
    Ratio::of(stayed, start, metric, "no customers at the start")
}

/// Who was a customer when: the headcounts behind churn, retention and CRR.
///
/// A person is *in the customer base* on a day when they have bought on or before that
/// day and have not been silent for longer than the lifecycle policy's churn horizon
/// ([`LifecyclePolicy::churn_after_days`]): exactly the customers the policy does not
/// call churned. "At the start" is as of the day before the period, "at the end" as of
/// its last day.
///
/// `at_end = retained + acquired + returned`, and `at_start = retained + lost`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CustomerBase {
    /// In the base at the start.
    pub at_start: u64,
    /// In the base at the end.
    pub at_end: u64,
    /// In the base at both ends.
    pub retained: u64,
    /// In the base at the start, not at the end.
    pub lost: u64,
    /// First purchase in the period, in the base at the end.
    pub acquired: u64,
    /// Bought before but not in the base at the start (churned); back in the base at the
    /// end: won back.
    pub returned: u64,
}

impl CustomerBase {
    /// [`churn_rate`] of these counts.
    ///
    /// # Errors
    ///
    /// As [`churn_rate`].
    pub fn churn(&self) -> MetricResult<Churn> {
        churn_rate(self.at_start, self.lost)
    }

    /// [`customer_retention_rate`] with `N` = acquired + returned.
    ///
    /// # Errors
    ///
    /// As [`customer_retention_rate`].
    pub fn crr(&self) -> MetricResult<Ratio> {
        customer_retention_rate(self.at_start, self.at_end, self.acquired + self.returned)
    }
}

/// Per-customer facts of one pass over the log, shared by the report's metrics.
#[derive(Debug, Clone)]
pub(crate) struct BaseFlags {
    pub(crate) counts: CustomerBase,
    /// Dense index → in the base at the end of the period.
    pub(crate) active_at_end: Vec<bool>,
    /// Dense index → the first purchase up to the period's end (Unix seconds), or
    /// `None`.
    pub(crate) first_at: Vec<Option<i64>>,
}

/// The customer base of `period` from the purchase log. See [`CustomerBase`].
///
/// The days are those of the log's business time zone ([`PurchaseLog::zone`]): the
/// period is read in it whatever zone it was built in, as in
/// [`MetricsReport::compute`](super::MetricsReport::compute).
///
/// ```
/// use chrono::{NaiveDate, TimeZone, Utc};
/// use solocrm_core::{CustomerId, Currency, LifecyclePolicy, PurchaseLog};
/// use solocrm_core::metrics::{customer_base, Period};
/// let ts = |y, m, d| Utc.with_ymd_and_hms(y, m, d, 12, 0, 0).unwrap().timestamp();
/// let mut log = PurchaseLog::with_customers(Currency::EUR, (1..=3).map(CustomerId::new).collect());
/// log.push(0, ts(2025, 6, 1), 1000);  // in the base all through 2026-03
/// log.push(1, ts(2025, 3, 1), 1000);  // silent 366 days on 2026-03-02: lost in March
/// log.push(2, ts(2026, 3, 10), 1000); // acquired in March
/// let base = customer_base(&log, Period::month(2026, 3)?, &LifecyclePolicy::default())?;
/// assert_eq!((base.at_start, base.lost, base.acquired, base.at_end), (2, 1, 1, 2));
/// assert_eq!(base.churn()?.churn_rate.percent(), rust_decimal::Decimal::from(50));
/// # Ok::<(), solocrm_core::metrics::MetricError>(())
/// ```
///
/// # Errors
///
/// [`MetricError::InvalidInput`] if the log's columns differ in length or name a customer
/// index outside the customer list.
pub fn customer_base(
    log: &PurchaseLog,
    period: Period,
    policy: &LifecyclePolicy,
) -> MetricResult<CustomerBase> {
    base_flags(log, period, policy).map(|f| f.counts)
}

pub(crate) fn check_log(log: &PurchaseLog, metric: &'static str) -> MetricResult<()> {
    let n = log.customer.len();
    if log.at.len() != n || log.amount.len() != n {
        return Err(MetricError::InvalidInput {
            metric,
            what: "the purchase log",
            expected: "columns of equal length",
            value: format!(
                "{} customers, {} times, {} amounts",
                n,
                log.at.len(),
                log.amount.len()
            ),
        });
    }
    let customers = log.customers.len();
    if u32::try_from(customers).is_err() {
        return Err(MetricError::InvalidInput {
            metric,
            what: "the purchase log",
            expected: "at most 2^32 customers",
            value: customers.to_string(),
        });
    }
    if let Some(bad) = log.customer.iter().find(|&&c| c as usize >= customers) {
        return Err(MetricError::InvalidInput {
            metric,
            what: "a customer index of the purchase log",
            expected: "below the number of customers",
            value: bad.to_string(),
        });
    }
    Ok(())
}

pub(crate) fn base_flags(
    log: &PurchaseLog,
    period: Period,
    policy: &LifecyclePolicy,
) -> MetricResult<BaseFlags> {
    check_log(log, "customer base")?;
    // Purchases outside the plausible calendar are skipped (see `Outliers`).
    let (log, _) = super::screen::screen(log);
    let log = log.as_ref();
    // The books' days: the period read in the log's zone.
    let period = period.in_zone(log.zone);
    let cuts = BaseCuts::of(period, policy);
    let end_secs = period.end_secs();
    let mut seen = vec![UNSEEN; log.customers.len()];
    for (&c, &at) in log.customer.iter().zip(&log.at) {
        if at >= end_secs {
            continue;
        }
        let d = &mut seen[c as usize];
        d.first = d.first.min(at);
        d.last = d.last.max(at);
        d.at_start |= cuts.at_start(at);
    }
    Ok(flags_of(seen.iter().copied(), period, cuts))
}

/// What the customer base needs of one customer's purchases before the period's end.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Seen {
    /// The first purchase, Unix seconds; `i64::MAX` for none.
    pub(crate) first: i64,
    /// The last purchase, Unix seconds; `i64::MIN` for none.
    pub(crate) last: i64,
    /// In the base at the start: a purchase in the horizon before it
    /// ([`BaseCuts::at_start`]).
    pub(crate) at_start: bool,
}

/// A customer without a purchase before the period's end.
pub(crate) const UNSEEN: Seen = Seen {
    first: i64::MAX,
    last: i64::MIN,
    at_start: false,
};

/// The instants that place a customer in the base of a period, Unix seconds. In the
/// base on a day D when the last purchase up to D is on or after D − horizon: at the
/// start D = the day before the period, at the end D = its last day. Compares UTC
/// seconds with the first instants of local days, so no purchase is converted.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BaseCuts {
    /// The period's first instant.
    start: i64,
    /// The first instant of the horizon before the period.
    start_cut: i64,
    /// The first instant of the horizon before the period's last day.
    end_cut: i64,
}

impl BaseCuts {
    /// The cuts of `period` (read in the log's zone) under `policy`'s churn horizon.
    pub(crate) fn of(period: Period, policy: &LifecyclePolicy) -> BaseCuts {
        let days = period.zone().days();
        let horizon = i64::from(policy.churn_after_days);
        BaseCuts {
            start: period.start_secs(),
            start_cut: days.start_of_day(epoch_day(period.start()) - 1 - horizon),
            end_cut: days.start_of_day(epoch_day(period.last_day()) - horizon),
        }
    }

    /// True if a purchase at `at` puts its customer in the base at the start: the last
    /// purchase before the period is on or after the start's cut exactly when one is.
    #[inline]
    pub(crate) fn at_start(&self, at: i64) -> bool {
        at >= self.start_cut && at < self.start
    }
}

/// The customer base of `period` from what each customer's purchases before its end
/// say ([`Seen`], one per dense customer, in order) under `cuts` (those of `period`).
pub(crate) fn flags_of(
    seen: impl ExactSizeIterator<Item = Seen>,
    period: Period,
    cuts: BaseCuts,
) -> BaseFlags {
    let n = seen.len();
    let start_secs = period.start_secs();
    let mut counts = CustomerBase::default();
    let mut active_at_end = vec![false; n];
    let mut first_at = vec![None; n];
    for (
        c,
        Seen {
            first,
            last,
            at_start: s,
        },
    ) in seen.enumerate()
    {
        if first == i64::MAX {
            continue;
        }
        first_at[c] = Some(first);
        let e = last >= cuts.end_cut;
        active_at_end[c] = e;
        counts.at_start += u64::from(s);
        counts.at_end += u64::from(e);
        match (s, e) {
            (true, true) => counts.retained += 1,
            (true, false) => counts.lost += 1,
            (false, true) if first >= start_secs => counts.acquired += 1,
            (false, true) => counts.returned += 1,
            (false, false) => {}
        }
    }
    BaseFlags {
        counts,
        active_at_end,
        first_at,
    }
}
