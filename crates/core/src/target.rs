//! Sales targets (issue 18): a goal for one metric over one calendar month, quarter or
//! year in the business time zone, kept with the books, and the arithmetic of progress
//! against it — the share reached so far and the run-rate forecast for the period's end.
//!
//! The metrics are a closed list ([`TargetMetric`]): net revenue, new customers, deals
//! won (flows, summed over the days of the period) and the retention rate (a rate, not
//! summed). The actual figures come from the same report as `solocrm report` for the
//! days of the period up to the day asked about; this module only holds the target and
//! the two formulas, [`share_of_target`] and [`run_rate_forecast`].
//!
//! Everything here is pure: the day "so far" is passed in, never read from the clock.

use std::fmt;

use chrono::{Datelike as _, Months, NaiveDate};
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

use crate::error::ValidationError;
use crate::metrics::Period;
use crate::names::named_enum;
use crate::zone::BusinessZone;

/// The earliest year a target may be set for.
pub const FIRST_YEAR: i32 = 1900;
/// The latest year a target may be set for.
pub const LAST_YEAR: i32 = 2200;
/// The largest count a new-customers or deals-won target may ask for.
pub const MAX_COUNT: u64 = 1_000_000_000;

named_enum! {
    /// What a target measures. A closed list.
    pub enum TargetMetric as "target metric" {
        /// Net revenue of the period (revenue minus refunds dated in it), in the books'
        /// currency.
        Revenue = "revenue",
        /// Customers whose first purchase falls in the period (the report's
        /// `acquired`).
        NewCustomers = "new_customers",
        /// Deals won in the period.
        DealsWon = "deals_won",
        /// The retention rate of the period: the share of the customers at its start
        /// still customers at the day asked about, a fraction from 0 to 1.
        RetentionRate = "retention_rate",
    }
}

impl TargetMetric {
    /// True for a metric summed over the days of the period (revenue, new customers,
    /// deals won), whose run rate is extrapolated; false for a rate.
    pub fn is_flow(self) -> bool {
        !matches!(self, TargetMetric::RetentionRate)
    }
}

/// A calendar month, quarter or year: the period a target is set for. Written
/// `2026-03`, `2026-Q1` and `2026`.
///
/// ```
/// use solocrm_core::target::TargetPeriod;
/// let q = TargetPeriod::parse("2026-q2")?;
/// assert_eq!(q.to_string(), "2026-Q2");
/// assert_eq!(q.start().to_string(), "2026-04-01");
/// assert_eq!(q.end().to_string(), "2026-07-01");
/// assert!(TargetPeriod::parse("2026-13").is_err());
/// # Ok::<(), solocrm_core::ValidationError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum TargetPeriod {
    /// A calendar month, 1–12.
    Month {
        /// The year.
        year: i32,
        /// The month, 1–12.
        month: u32,
    },
    /// A calendar quarter, 1–4 (January–March is the first).
    Quarter {
        /// The year.
        year: i32,
        /// The quarter, 1–4.
        quarter: u32,
    },
    /// A calendar year.
    Year {
        /// The year.
        year: i32,
    },
}

impl TargetPeriod {
    /// Parses `YYYY-MM`, `YYYY-Qn` (a `q` is accepted) or `YYYY`, for years
    /// [`FIRST_YEAR`]–[`LAST_YEAR`].
    ///
    /// # Errors
    ///
    /// [`ValidationError::Config`] naming the three spellings.
    pub fn parse(input: &str) -> Result<TargetPeriod, ValidationError> {
        let s = input.trim();
        let bad = || {
            ValidationError::Config(format!(
                "target period {s:?}: expected a month (2026-03), a quarter (2026-Q1) or a \
                 year (2026), years {FIRST_YEAR}–{LAST_YEAR}"
            ))
        };
        let number = |part: &str, len: usize| -> Result<u32, ValidationError> {
            if part.len() != len || !part.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad());
            }
            part.parse().map_err(|_| bad())
        };
        let (year, rest) = match s.split_once('-') {
            Some((y, r)) => (number(y, 4)?, Some(r)),
            None => (number(s, 4)?, None),
        };
        let year = i32::try_from(year).map_err(|_| bad())?;
        if !(FIRST_YEAR..=LAST_YEAR).contains(&year) {
            return Err(bad());
        }
        let period = match rest {
            None => TargetPeriod::Year { year },
            Some(r) => match r.strip_prefix('Q').or_else(|| r.strip_prefix('q')) {
                Some(q) => {
                    let quarter = number(q, 1)?;
                    if !(1..=4).contains(&quarter) {
                        return Err(bad());
                    }
                    TargetPeriod::Quarter { year, quarter }
                }
                None => {
                    let month = number(r, 2)?;
                    if !(1..=12).contains(&month) {
                        return Err(bad());
                    }
                    TargetPeriod::Month { year, month }
                }
            },
        };
        Ok(period)
    }

    /// The calendar month, quarter or year `day` is in, of the same length as `self`.
    #[must_use]
    pub fn containing(self, day: NaiveDate) -> TargetPeriod {
        let year = day.year();
        match self {
            TargetPeriod::Month { .. } => TargetPeriod::Month {
                year,
                month: day.month(),
            },
            TargetPeriod::Quarter { .. } => TargetPeriod::Quarter {
                year,
                quarter: day.month0() / 3 + 1,
            },
            TargetPeriod::Year { .. } => TargetPeriod::Year { year },
        }
    }

    /// The first day.
    pub fn start(self) -> NaiveDate {
        let (year, month) = match self {
            TargetPeriod::Month { year, month } => (year, month),
            TargetPeriod::Quarter { year, quarter } => (year, quarter * 3 - 2),
            TargetPeriod::Year { year } => (year, 1),
        };
        // Checked on construction: the year is in range and the month in 1–12.
        NaiveDate::from_ymd_opt(year, month, 1).unwrap_or(NaiveDate::MIN)
    }

    /// The day after the last.
    pub fn end(self) -> NaiveDate {
        let months = match self {
            TargetPeriod::Month { .. } => 1,
            TargetPeriod::Quarter { .. } => 3,
            TargetPeriod::Year { .. } => 12,
        };
        let start = self.start();
        start
            .checked_add_months(Months::new(months))
            .unwrap_or(start)
    }

    /// The number of days.
    pub fn days(self) -> u32 {
        u32::try_from((self.end() - self.start()).num_days()).unwrap_or(0)
    }

    /// 0 for a month, 1 for a quarter, 2 for a year: with [`TargetPeriod::start`], the
    /// order targets are listed in.
    pub fn span_rank(self) -> u8 {
        match self {
            TargetPeriod::Month { .. } => 0,
            TargetPeriod::Quarter { .. } => 1,
            TargetPeriod::Year { .. } => 2,
        }
    }

    /// The days of the period counted in `zone`.
    ///
    /// # Errors
    ///
    /// None for a parsed period (its start is before its end); the
    /// [`MetricError`](crate::metrics::MetricError) of [`Period::new`] otherwise.
    pub fn period(self, zone: BusinessZone) -> crate::metrics::MetricResult<Period> {
        Ok(Period::new(self.start(), self.end())?.in_zone(zone))
    }

    /// The days of the period elapsed by the end of `as_of`: 0 before the period, all
    /// of them after it.
    pub fn elapsed_days(self, as_of: NaiveDate) -> u32 {
        if as_of < self.start() {
            return 0;
        }
        let done = (as_of - self.start()).num_days() + 1;
        u32::try_from(done).unwrap_or(u32::MAX).min(self.days())
    }

    /// True if `inner` lies wholly inside `self` (a period lies inside itself).
    pub fn covers(self, inner: TargetPeriod) -> bool {
        self.start() <= inner.start() && inner.end() <= self.end()
    }
}

impl fmt::Display for TargetPeriod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TargetPeriod::Month { year, month } => write!(f, "{year:04}-{month:02}"),
            TargetPeriod::Quarter { year, quarter } => write!(f, "{year:04}-Q{quarter}"),
            TargetPeriod::Year { year } => write!(f, "{year:04}"),
        }
    }
}

impl From<TargetPeriod> for String {
    fn from(p: TargetPeriod) -> String {
        p.to_string()
    }
}

impl TryFrom<String> for TargetPeriod {
    type Error = ValidationError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        TargetPeriod::parse(&s)
    }
}

/// A target: `value` of `metric` over `period`. At most one per metric and period.
///
/// The value is a plain decimal: an amount in the books' currency for
/// [`TargetMetric::Revenue`] (the operations layer checks its minor units), a whole
/// count up to [`MAX_COUNT`] for new customers and deals won, a fraction from 0 to 1
/// for the retention rate. Deserialising checks what [`Target::new`] checks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "TargetRepr", into = "TargetRepr")]
pub struct Target {
    metric: TargetMetric,
    period: TargetPeriod,
    value: Decimal,
}

#[derive(Serialize, Deserialize)]
struct TargetRepr {
    metric: TargetMetric,
    period: TargetPeriod,
    #[serde(with = "rust_decimal::serde::str")]
    value: Decimal,
}

impl From<Target> for TargetRepr {
    fn from(t: Target) -> Self {
        TargetRepr {
            metric: t.metric,
            period: t.period,
            value: t.value,
        }
    }
}

impl TryFrom<TargetRepr> for Target {
    type Error = ValidationError;
    fn try_from(r: TargetRepr) -> Result<Self, ValidationError> {
        Target::new(r.metric, r.period, r.value)
    }
}

impl Target {
    /// A target, checked: not negative; a whole number up to [`MAX_COUNT`] for a
    /// count; at most 1 for the retention rate; an amount below 10^12 for revenue.
    ///
    /// ```
    /// use rust_decimal::Decimal;
    /// use solocrm_core::target::{Target, TargetMetric, TargetPeriod};
    /// let q1 = TargetPeriod::parse("2026-Q1")?;
    /// assert!(Target::new(TargetMetric::NewCustomers, q1, Decimal::new(30, 0)).is_ok());
    /// assert!(Target::new(TargetMetric::NewCustomers, q1, Decimal::new(305, 1)).is_err());
    /// assert!(Target::new(TargetMetric::RetentionRate, q1, Decimal::new(85, 2)).is_ok());
    /// assert!(Target::new(TargetMetric::RetentionRate, q1, Decimal::new(85, 0)).is_err());
    /// assert!(Target::new(TargetMetric::Revenue, q1, Decimal::new(-1, 0)).is_err());
    /// # Ok::<(), solocrm_core::ValidationError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`ValidationError::Config`] saying what the metric's value must be.
    pub fn new(
        metric: TargetMetric,
        period: TargetPeriod,
        value: Decimal,
    ) -> Result<Target, ValidationError> {
        let bad = |expected: &str| {
            ValidationError::Config(format!(
                "target {metric} for {period}: {value} is not {expected}"
            ))
        };
        if value.is_sign_negative() && !value.is_zero() {
            return Err(bad("zero or more"));
        }
        match metric {
            TargetMetric::Revenue => {
                if value >= Decimal::from(1_000_000_000_000_u64) {
                    return Err(bad("an amount below 10^12"));
                }
            }
            TargetMetric::NewCustomers | TargetMetric::DealsWon => {
                if value.fract() != Decimal::ZERO || value > Decimal::from(MAX_COUNT) {
                    return Err(bad("a whole number of at most 1000000000"));
                }
            }
            TargetMetric::RetentionRate => {
                if value > Decimal::ONE {
                    return Err(bad("a rate from 0 to 1 (0% to 100%)"));
                }
            }
        }
        Ok(Target {
            metric,
            period,
            value: value.normalize(),
        })
    }

    /// What it measures.
    pub fn metric(&self) -> TargetMetric {
        self.metric
    }
    /// Over which days.
    pub fn period(&self) -> TargetPeriod {
        self.period
    }
    /// The goal.
    pub fn value(&self) -> Decimal {
        self.value
    }
    /// The order targets are listed in: by the period's first day, months before
    /// quarters before years, then by metric name.
    pub fn sort_key(&self) -> (NaiveDate, u8, &'static str) {
        (
            self.period.start(),
            self.period.span_rank(),
            self.metric.as_str(),
        )
    }
}

/// Share of target = actual ÷ target.
///
/// *Definition.* How much of the goal has been reached, as a fraction (1 = met, more
/// than 1 = exceeded), rounded to four decimals (half to even).
///
/// *Source.* The usual attainment ratio of sales-target tracking (000 §4.1 销售目标,
/// §9.1).
///
/// *Edge cases.* A zero target has no share (`None`): any actual meets it, and the
/// ratio is undefined. A missing actual (a retention rate without customers at the
/// start) is the caller's `None` before it gets here.
///
/// ```
/// use rust_decimal::Decimal;
/// use solocrm_core::target::share_of_target;
/// // 36 000 of a 90 000 revenue target: 40 %.
/// assert_eq!(
///     share_of_target(Decimal::new(36_000, 0), Decimal::new(90_000, 0)),
///     Some(Decimal::new(4, 1))
/// );
/// assert_eq!(share_of_target(Decimal::new(5, 0), Decimal::ZERO), None);
/// ```
pub fn share_of_target(actual: Decimal, target: Decimal) -> Option<Decimal> {
    if target.is_zero() {
        return None;
    }
    actual.checked_div(target).map(|s| {
        s.round_dp_with_strategy(4, RoundingStrategy::MidpointNearestEven)
            .normalize()
    })
}

/// Run-rate forecast = actual so far × days in the period ÷ days elapsed.
///
/// *Definition.* Linear extrapolation by elapsed business days: if the period goes on
/// as it has so far, its total at the end is the total so far scaled by the whole
/// period's days over the days elapsed. A day counts as elapsed once it has begun: on
/// the first day, one day has elapsed. Only flows are extrapolated
/// ([`TargetMetric::is_flow`]); a rate's forecast is its value so far (the caller's
/// choice: see [`forecast_for`]).
///
/// *Source.* The straight-line run rate of sales forecasting (000 §4.1, §9.1): the
/// simplest forecast there is, with no seasonality and no weekday weighting.
///
/// *Edge cases.* Before the period (`elapsed_days` 0) there is no forecast (`None`).
/// On the first day the forecast is the first day's figure × the days of the period
/// (the noisiest point). Once the period is over (`elapsed_days` ≥ `total_days`) the
/// forecast is the actual. A period of zero days has no forecast. The result is not
/// rounded; callers round for display.
///
/// ```
/// use rust_decimal::Decimal;
/// use solocrm_core::target::run_rate_forecast;
/// // 36 000 in the first 12 days of a 30-day month: 36 000 × 30 / 12 = 90 000.
/// assert_eq!(
///     run_rate_forecast(Decimal::new(36_000, 0), 12, 30),
///     Some(Decimal::new(90_000, 0))
/// );
/// // First day: 1 200 × 30.
/// assert_eq!(
///     run_rate_forecast(Decimal::new(1_200, 0), 1, 30),
///     Some(Decimal::new(36_000, 0))
/// );
/// // Period over: the actual itself.
/// assert_eq!(run_rate_forecast(Decimal::new(7, 0), 31, 30), Some(Decimal::new(7, 0)));
/// // Not begun.
/// assert_eq!(run_rate_forecast(Decimal::ZERO, 0, 30), None);
/// ```
pub fn run_rate_forecast(actual: Decimal, elapsed_days: u32, total_days: u32) -> Option<Decimal> {
    if elapsed_days == 0 || total_days == 0 {
        return None;
    }
    if elapsed_days >= total_days {
        return Some(actual);
    }
    actual
        .checked_mul(Decimal::from(total_days))
        .and_then(|x| x.checked_div(Decimal::from(elapsed_days)))
}

/// The forecast for the period's end of a target's metric: [`run_rate_forecast`] for a
/// flow, the value so far for a rate (a retention rate does not add up over days).
pub fn forecast_for(
    metric: TargetMetric,
    actual: Decimal,
    elapsed_days: u32,
    total_days: u32,
) -> Option<Decimal> {
    if metric.is_flow() {
        run_rate_forecast(actual, elapsed_days, total_days)
    } else if elapsed_days == 0 || total_days == 0 {
        None
    } else {
        Some(actual)
    }
}

/// Progress against one target as of one day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TargetProgress {
    /// The target.
    pub target: Target,
    /// The day the progress is as of (its end).
    pub as_of: NaiveDate,
    /// Days of the period elapsed by the end of `as_of` (0 before it).
    pub elapsed_days: u32,
    /// Days in the period.
    pub total_days: u32,
    /// The figure so far (`None` before the period, or for a retention rate without
    /// customers at the period's start).
    #[serde(with = "rust_decimal::serde::str_option")]
    pub actual: Option<Decimal>,
    /// [`share_of_target`] of the actual.
    #[serde(with = "rust_decimal::serde::str_option")]
    pub share: Option<Decimal>,
    /// [`forecast_for`] the period's end, rounded to `digits` decimals (half to even).
    #[serde(with = "rust_decimal::serde::str_option")]
    pub forecast: Option<Decimal>,
    /// [`share_of_target`] of the forecast.
    #[serde(with = "rust_decimal::serde::str_option")]
    pub forecast_share: Option<Decimal>,
}

impl TargetProgress {
    /// Progress of `target` as of the end of `as_of`, given the `actual` figure of
    /// the period's days up to then; the forecast is rounded to `digits` decimals (the
    /// currency's minor-unit digits for revenue, 2 otherwise).
    ///
    /// ```
    /// use chrono::NaiveDate;
    /// use rust_decimal::Decimal;
    /// use solocrm_core::target::{Target, TargetMetric, TargetPeriod, TargetProgress};
    /// let nov = TargetPeriod::parse("2026-11")?;
    /// let target = Target::new(TargetMetric::DealsWon, nov, Decimal::new(10, 0))?;
    /// let day = NaiveDate::from_ymd_opt(2026, 11, 12).unwrap();
    /// let p = TargetProgress::new(target, day, Some(Decimal::new(4, 0)), 2);
    /// assert_eq!((p.elapsed_days, p.total_days), (12, 30));
    /// assert_eq!(p.share, Some(Decimal::new(4, 1)));
    /// assert_eq!(p.forecast, Some(Decimal::new(10, 0)));
    /// assert_eq!(p.forecast_share, Some(Decimal::ONE));
    /// # Ok::<(), solocrm_core::ValidationError>(())
    /// ```
    pub fn new(
        target: Target,
        as_of: NaiveDate,
        actual: Option<Decimal>,
        digits: u32,
    ) -> TargetProgress {
        let total_days = target.period.days();
        let elapsed_days = target.period.elapsed_days(as_of);
        let actual = if elapsed_days == 0 { None } else { actual };
        let forecast = actual
            .and_then(|a| forecast_for(target.metric, a, elapsed_days, total_days))
            .map(|f| {
                f.round_dp_with_strategy(digits, RoundingStrategy::MidpointNearestEven)
                    .normalize()
            });
        TargetProgress {
            share: actual.and_then(|a| share_of_target(a, target.value)),
            forecast_share: forecast.and_then(|f| share_of_target(f, target.value)),
            target,
            as_of,
            elapsed_days,
            total_days,
            actual: actual.map(|a| a.normalize()),
            forecast,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn periods_parse_print_and_span_their_days() {
        for (s, start, end, days) in [
            ("2026-02", day(2026, 2, 1), day(2026, 3, 1), 28),
            ("2024-02", day(2024, 2, 1), day(2024, 3, 1), 29),
            ("2026-Q4", day(2026, 10, 1), day(2027, 1, 1), 92),
            ("2026", day(2026, 1, 1), day(2027, 1, 1), 365),
        ] {
            let p = TargetPeriod::parse(s).unwrap();
            assert_eq!(p.to_string(), s);
            assert_eq!((p.start(), p.end(), p.days()), (start, end, days));
        }
        for bad in [
            "2026-00",
            "2026-Q5",
            "26-01",
            "2026-1",
            "1899",
            "二〇二六",
            "",
            "2026-Q",
        ] {
            assert!(TargetPeriod::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn elapsed_days_are_clamped_to_the_period() {
        let p = TargetPeriod::parse("2026-11").unwrap();
        assert_eq!(p.elapsed_days(day(2026, 10, 31)), 0);
        assert_eq!(p.elapsed_days(day(2026, 11, 1)), 1);
        assert_eq!(p.elapsed_days(day(2026, 11, 30)), 30);
        assert_eq!(p.elapsed_days(day(2027, 5, 1)), 30);
    }

    #[test]
    fn a_rate_is_not_extrapolated_and_a_zero_target_has_no_share() {
        let p = TargetPeriod::parse("2026-Q1").unwrap();
        let t = Target::new(TargetMetric::RetentionRate, p, Decimal::new(9, 1)).unwrap();
        let pr = TargetProgress::new(t, day(2026, 1, 10), Some(Decimal::new(95, 2)), 2);
        assert_eq!(pr.forecast, Some(Decimal::new(95, 2)));
        let zero = Target::new(TargetMetric::DealsWon, p, Decimal::ZERO).unwrap();
        let pr = TargetProgress::new(zero, day(2026, 1, 10), Some(Decimal::ONE), 2);
        assert_eq!((pr.share, pr.forecast_share), (None, None));
        assert_eq!(pr.forecast, Some(Decimal::new(9, 0)));
        let before =
            TargetProgress::new(pr.target.clone(), day(2025, 12, 31), Some(Decimal::ONE), 2);
        assert_eq!((before.actual, before.forecast), (None, None));
    }

    #[test]
    fn a_target_round_trips_through_serde_and_is_checked_on_the_way_in() {
        let t = Target::new(
            TargetMetric::Revenue,
            TargetPeriod::parse("2026-03").unwrap(),
            Decimal::new(1_234_550, 2),
        )
        .unwrap();
        let json = serde_json::to_string(&t).unwrap();
        assert_eq!(
            json,
            r#"{"metric":"revenue","period":"2026-03","value":"12345.5"}"#
        );
        assert_eq!(serde_json::from_str::<Target>(&json).unwrap(), t);
        assert!(serde_json::from_str::<Target>(&json.replace("12345.5", "-1")).is_err());
        assert!(serde_json::from_str::<Target>(&json.replace("2026-03", "2026-13")).is_err());
    }

    proptest! {
        /// The forecast never falls below the actual for a flow that is not negative,
        /// equals it once the period is over, and is exact when the days divide.
        #[test]
        fn run_rate_is_linear(actual in 0_i64..10_000_000, elapsed in 1_u32..400, total in 1_u32..400) {
            let a = Decimal::new(actual, 2);
            let f = run_rate_forecast(a, elapsed, total).unwrap();
            if elapsed >= total {
                prop_assert_eq!(f, a);
            } else {
                prop_assert!(f >= a);
                let back = f * Decimal::from(elapsed) / Decimal::from(total);
                prop_assert!((back - a).abs() < Decimal::new(1, 10));
            }
        }

        /// Every month, quarter and year prints as it parses and contains its days.
        #[test]
        fn period_spellings_round_trip(year in FIRST_YEAR..=LAST_YEAR, month in 1_u32..=12, kind in 0_u8..3) {
            let p = match kind {
                0 => TargetPeriod::Month { year, month },
                1 => TargetPeriod::Quarter { year, quarter: (month - 1) / 3 + 1 },
                _ => TargetPeriod::Year { year },
            };
            prop_assert_eq!(TargetPeriod::parse(&p.to_string()).unwrap(), p);
            let d = NaiveDate::from_ymd_opt(year, month, 1).unwrap();
            prop_assert_eq!(p.containing(d), p);
            prop_assert!(p.start() < p.end());
        }
    }
}
