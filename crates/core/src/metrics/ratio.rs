//! [`Ratio`], the type of every share, and the exact division behind all metrics.

use std::fmt;

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

use super::error::{MetricError, MetricResult};
use crate::money::{Currency, Money};

/// A share between 0 and 1 inclusive, such as a churn rate or the share of satisfied
/// respondents, held as an exact [`Decimal`] (28 significant digits), with a percent
/// view.
///
/// Why a type of its own rather than a bare `Decimal` or an `f64`: the range is checked
/// once, at construction, so a churn rate of 1.3 or −0.1 cannot exist; the same number is
/// never read as 0.25 in one place and as 25 in another (the value is always the
/// fraction, [`Ratio::percent`] the percentage); and there is no NaN.
///
/// Every ratio is computed from exact integers or decimals with a single division whose
/// operands are first reduced by their greatest common divisor, so the same fraction
/// always gives the same bits: 2/6 and 1/3 are identical values, and a ratio does not
/// move when all money is scaled by a common factor.
///
/// ```
/// use rust_decimal::Decimal;
/// use solocrm_core::metrics::Ratio;
/// let r = Ratio::of(1, 8, "example", "nothing to divide by")?;
/// assert_eq!(r.value(), Decimal::new(125, 3));
/// assert_eq!(r.percent(), Decimal::new(125, 1));
/// assert_eq!(r.to_string(), "12.50 %");
/// assert_eq!(r.complement().percent(), Decimal::new(875, 1));
/// assert!(Ratio::new(Decimal::TWO).is_err());
/// # Ok::<(), solocrm_core::metrics::MetricError>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "Decimal", into = "Decimal")]
pub struct Ratio(Decimal);

impl Ratio {
    /// 0 %.
    pub const ZERO: Ratio = Ratio(Decimal::ZERO);
    /// 100 %.
    pub const ONE: Ratio = Ratio(Decimal::ONE);

    /// A ratio from a fraction in `[0, 1]`.
    ///
    /// # Errors
    ///
    /// [`MetricError::InvalidInput`] outside `[0, 1]`.
    pub fn new(value: Decimal) -> MetricResult<Ratio> {
        if value < Decimal::ZERO || value > Decimal::ONE {
            return Err(MetricError::InvalidInput {
                metric: "ratio",
                what: "a ratio",
                expected: "between 0 and 1",
                value: value.to_string(),
            });
        }
        Ok(Ratio(value.normalize()))
    }

    /// A ratio from a percentage in `[0, 100]`: `from_percent(25)` is 0.25.
    ///
    /// # Errors
    ///
    /// [`MetricError::InvalidInput`] outside `[0, 100]`.
    pub fn from_percent(percent: Decimal) -> MetricResult<Ratio> {
        let value = percent
            .checked_div(Decimal::ONE_HUNDRED)
            .ok_or(MetricError::Overflow { metric: "ratio" })?;
        Ratio::new(value)
    }

    /// `part / whole` for counts; `metric` and `population` name the error when
    /// `whole` is zero.
    ///
    /// # Errors
    ///
    /// [`MetricError::EmptyPopulation`] when `whole` is zero;
    /// [`MetricError::InconsistentCounts`] when `part > whole`.
    pub fn of(
        part: u64,
        whole: u64,
        metric: &'static str,
        population: &'static str,
    ) -> MetricResult<Ratio> {
        if whole == 0 {
            return Err(MetricError::EmptyPopulation { metric, population });
        }
        if part > whole {
            return Err(MetricError::InconsistentCounts {
                metric,
                detail: format!("{part} out of {whole}"),
            });
        }
        let v = exact_div(i128::from(part), i128::from(whole), metric)?;
        Ok(Ratio(v))
    }

    /// The fraction, in `[0, 1]`.
    pub fn value(self) -> Decimal {
        self.0
    }

    /// The percentage, in `[0, 100]`.
    pub fn percent(self) -> Decimal {
        // Cannot overflow: the value is at most 1.
        (self.0 * Decimal::ONE_HUNDRED).normalize()
    }

    /// The percentage rounded to `dp` decimal places, half to even.
    pub fn percent_rounded(self, dp: u32) -> Decimal {
        let mut p = self
            .percent()
            .round_dp_with_strategy(dp, RoundingStrategy::MidpointNearestEven);
        p.rescale(dp);
        p
    }

    /// `1 − self`: retention from churn and back.
    pub fn complement(self) -> Ratio {
        Ratio((Decimal::ONE - self.0).normalize())
    }
}

impl fmt::Display for Ratio {
    /// The percentage with two decimals: `12.50 %`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} %", self.percent_rounded(2))
    }
}

impl fmt::Debug for Ratio {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Ratio({})", self.0)
    }
}

impl TryFrom<Decimal> for Ratio {
    type Error = MetricError;
    fn try_from(d: Decimal) -> MetricResult<Ratio> {
        Ratio::new(d)
    }
}

impl From<Ratio> for Decimal {
    fn from(r: Ratio) -> Decimal {
        r.0
    }
}

/// A ratio from a value the arithmetic guarantees to lie in `[0, 1]` (a mean of
/// ratios); clamps the last digit of rounding.
pub(crate) fn clamp_ratio(value: Decimal) -> Ratio {
    Ratio(value.clamp(Decimal::ZERO, Decimal::ONE).normalize())
}

fn gcd(mut a: u128, mut b: u128) -> u128 {
    while b != 0 {
        let t = a % b;
        a = b;
        b = t;
    }
    a
}

/// `num / den` as a [`Decimal`]: the fraction is reduced first, so equal fractions give
/// identical results.
///
/// # Errors
///
/// [`MetricError::ZeroDenominator`] for `den == 0` (callers check their populations
/// before and report them by name); [`MetricError::Overflow`] if the reduced operands do
/// not fit a `Decimal` (96 bits).
pub(crate) fn exact_div(num: i128, den: i128, metric: &'static str) -> MetricResult<Decimal> {
    if den == 0 {
        return Err(MetricError::ZeroDenominator {
            metric,
            what: "the denominator",
        });
    }
    let negative = (num < 0) != (den < 0);
    let (n, d) = (num.unsigned_abs(), den.unsigned_abs());
    let g = gcd(n, d).max(1);
    let (n, d) = (n / g, d / g);
    let overflow = MetricError::Overflow { metric };
    let to_dec = |x: u128| {
        i128::try_from(x)
            .ok()
            .and_then(|x| Decimal::try_from_i128_with_scale(x, 0).ok())
    };
    let (n, d) = (
        to_dec(n).ok_or(overflow.clone())?,
        to_dec(d).ok_or(overflow.clone())?,
    );
    let q = n.checked_div(d).ok_or(overflow)?.normalize();
    Ok(if negative { -q } else { q })
}

/// `a / b` for two decimals, reduced to an exact integer fraction first (see
/// [`exact_div`]).
pub(crate) fn exact_div_dec(a: Decimal, b: Decimal, metric: &'static str) -> MetricResult<Decimal> {
    // Bring both to the same scale, then divide the integer mantissas.
    let scale = a.scale().max(b.scale());
    let (mut a, mut b) = (a, b);
    a.rescale(scale);
    b.rescale(scale);
    if a.scale() != scale || b.scale() != scale {
        // Rescaling lost digits (values too large): fall back to a plain division.
        return a
            .checked_div(b)
            .map(|q| q.normalize())
            .ok_or(MetricError::Overflow { metric });
    }
    exact_div(a.mantissa(), b.mantissa(), metric)
}

/// Money of `minor` units, exact.
pub(crate) fn money_from_minor(
    minor: i128,
    currency: Currency,
    metric: &'static str,
) -> MetricResult<Money> {
    Decimal::try_from_i128_with_scale(minor, currency.minor_unit_digits())
        .map(|d| Money::new(d, currency))
        .map_err(|_| MetricError::Overflow { metric })
}

/// `minor / count` as money, rounded to the minor unit half to even.
pub(crate) fn money_mean(
    minor: i128,
    count: u64,
    currency: Currency,
    metric: &'static str,
    population: &'static str,
) -> MetricResult<Money> {
    if count == 0 {
        return Err(MetricError::EmptyPopulation { metric, population });
    }
    let scale = 10_i128.pow(currency.minor_unit_digits());
    let den = i128::from(count)
        .checked_mul(scale)
        .ok_or(MetricError::Overflow { metric })?;
    let v = exact_div(minor, den, metric)?;
    Ok(Money::new(v, currency).round_to_minor_units())
}

/// The minor units of `m`, checking the currency.
pub(crate) fn minor_of(m: Money, currency: Currency, metric: &'static str) -> MetricResult<i128> {
    if m.currency() != currency {
        return Err(MetricError::CurrencyMismatch {
            metric,
            left: currency,
            right: m.currency(),
        });
    }
    let scaled = m
        .amount()
        .checked_mul(Decimal::from(10_i64.pow(currency.minor_unit_digits())))
        .ok_or(MetricError::Overflow { metric })?;
    if !scaled.fract().is_zero() {
        return Err(MetricError::InvalidInput {
            metric,
            what: "an amount",
            expected: "a whole number of minor units",
            value: m.to_string(),
        });
    }
    i128::try_from(scaled.trunc()).map_err(|_| MetricError::Overflow { metric })
}

/// Checks that two amounts share a currency.
pub(crate) fn same_currency(a: Money, b: Money, metric: &'static str) -> MetricResult<Currency> {
    if a.currency() == b.currency() {
        Ok(a.currency())
    } else {
        Err(MetricError::CurrencyMismatch {
            metric,
            left: a.currency(),
            right: b.currency(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_fractions_give_identical_decimals() {
        let a = exact_div(2, 6, "t").unwrap();
        let b = exact_div(1, 3, "t").unwrap();
        let c = exact_div(1_000_000_000, 3_000_000_000, "t").unwrap();
        assert_eq!(a, b);
        assert_eq!(b, c);
        assert_eq!(a.to_string(), b.to_string());
        assert_eq!(exact_div(-1, 4, "t").unwrap(), Decimal::new(-25, 2));
        assert!(exact_div(1, 0, "t").is_err());
    }

    #[test]
    fn ratio_serialises_as_a_decimal_string_and_checks_its_range() {
        let r = Ratio::of(1, 4, "t", "p").unwrap();
        assert_eq!(serde_json::to_string(&r).unwrap(), "\"0.25\"");
        assert_eq!(serde_json::from_str::<Ratio>("\"0.25\"").unwrap(), r);
        assert!(serde_json::from_str::<Ratio>("\"1.5\"").is_err());
        assert!(matches!(
            Ratio::of(1, 0, "t", "p"),
            Err(MetricError::EmptyPopulation { .. })
        ));
        assert!(matches!(
            Ratio::of(2, 1, "t", "p"),
            Err(MetricError::InconsistentCounts { .. })
        ));
    }

    #[test]
    fn money_mean_rounds_half_to_even() {
        let eur = Currency::EUR;
        // 0.25 EUR / 2 = 0.125 → 0.12
        assert_eq!(
            money_mean(25, 2, eur, "t", "p").unwrap(),
            Money::from_minor(12, eur)
        );
        // 0.35 EUR / 2 = 0.175 → 0.18
        assert_eq!(
            money_mean(35, 2, eur, "t", "p").unwrap(),
            Money::from_minor(18, eur)
        );
        assert!(money_mean(35, 0, eur, "t", "p").is_err());
        assert_eq!(minor_of(Money::from_minor(-5, eur), eur, "t").unwrap(), -5);
    }
}
