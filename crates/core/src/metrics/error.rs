//! The one error type of the metrics: [`MetricError`].

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::money::Currency;

/// Why a metric has no value.
///
/// A metric never answers NaN, infinity or a made-up zero: an empty population, a zero
/// cost or an input outside its range is one of these variants, naming the metric so
/// the message can be shown as it is.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum MetricError {
    /// The population the metric divides by is empty (no respondents, no customers at
    /// the start of the period, no closed deals).
    #[error("{metric} is undefined: {population}")]
    EmptyPopulation {
        /// The metric, e.g. `"csat"`.
        metric: &'static str,
        /// What is missing, e.g. `"no csat responses"`.
        population: &'static str,
    },
    /// A return on a cost of zero (ROI, LTV-to-CAC) would be infinite.
    #[error("{metric} is undefined because the cost is zero")]
    ZeroCost {
        /// The metric, e.g. `"roi"`.
        metric: &'static str,
    },
    /// A denominator other than a population or a cost is zero (a cycle time of zero,
    /// a retention of 100 % with no discounting).
    #[error("{metric} is undefined because {what} is zero")]
    ZeroDenominator {
        /// The metric.
        metric: &'static str,
        /// The zero quantity, e.g. `"the average cycle time"`.
        what: &'static str,
    },
    /// An input outside its range.
    #[error("{metric}: {what} must be {expected}, got {value}")]
    InvalidInput {
        /// The metric.
        metric: &'static str,
        /// The input, e.g. `"discount rate"`.
        what: &'static str,
        /// What it must be, e.g. `"zero or more"`.
        expected: &'static str,
        /// The rejected value, as text.
        value: String,
    },
    /// Counts that contradict each other (more customers lost than there were).
    #[error("{metric}: inconsistent counts: {detail}")]
    InconsistentCounts {
        /// The metric.
        metric: &'static str,
        /// What contradicts what.
        detail: String,
    },
    /// Money in two currencies.
    #[error("{metric}: cannot combine {left} with {right}")]
    CurrencyMismatch {
        /// The metric.
        metric: &'static str,
        /// One currency.
        left: Currency,
        /// The other.
        right: Currency,
    },
    /// A sum or product does not fit the exact number types (±7.9 × 10^28, or 2^63
    /// minor units per customer).
    #[error("{metric} overflowed")]
    Overflow {
        /// The metric.
        metric: &'static str,
    },
    /// A date outside the calendar (a timestamp more than 262,000 years away).
    #[error("{metric}: a date is outside the supported calendar")]
    DateOutOfRange {
        /// The metric.
        metric: &'static str,
    },
}

/// The result of a metric.
pub type MetricResult<T> = Result<T, MetricError>;

/// A metric's value, or why it has none, in a form that serialises: the shape of every
/// field of a [`MetricsReport`](super::MetricsReport).
///
/// ```
/// use solocrm_core::metrics::{Measured, nps_from_scores};
/// let none: Measured<_> = nps_from_scores(&[]).into();
/// assert_eq!(
///     serde_json::to_string(&none)?,
///     r#"{"undefined":"nps is undefined: no nps responses"}"#
/// );
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Measured<T> {
    /// The value.
    Value(T),
    /// Why there is none: the [`MetricError`]'s message.
    Undefined(String),
}

impl<T> Measured<T> {
    /// The value, if there is one.
    pub fn value(&self) -> Option<&T> {
        match self {
            Measured::Value(v) => Some(v),
            Measured::Undefined(_) => None,
        }
    }

    /// The value, if there is one.
    pub fn into_value(self) -> Option<T> {
        match self {
            Measured::Value(v) => Some(v),
            Measured::Undefined(_) => None,
        }
    }

    /// True if there is a value.
    pub fn is_defined(&self) -> bool {
        matches!(self, Measured::Value(_))
    }

    /// Maps the value.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Measured<U> {
        match self {
            Measured::Value(v) => Measured::Value(f(v)),
            Measured::Undefined(why) => Measured::Undefined(why),
        }
    }
}

impl<T> From<MetricResult<T>> for Measured<T> {
    fn from(r: MetricResult<T>) -> Self {
        match r {
            Ok(v) => Measured::Value(v),
            Err(e) => Measured::Undefined(e.to_string()),
        }
    }
}
