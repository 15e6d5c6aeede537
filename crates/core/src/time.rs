//! Time ranges. All instants are UTC (`DateTime<Utc>`); the core never reads the clock,
//! so every function that needs "now" takes an `as_of` argument.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A half-open range of instants `[from, to)`; either end may be open.
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use solocrm_core::TimeRange;
/// let jan = TimeRange::between(
///     Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap(),
///     Utc.with_ymd_and_hms(2026, 2, 1, 0, 0, 0).unwrap(),
/// );
/// assert!(jan.contains(Utc.with_ymd_and_hms(2026, 1, 31, 23, 59, 59).unwrap()));
/// assert!(!jan.contains(Utc.with_ymd_and_hms(2026, 2, 1, 0, 0, 0).unwrap()));
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TimeRange {
    /// Inclusive start; `None` is unbounded.
    pub from: Option<DateTime<Utc>>,
    /// Exclusive end; `None` is unbounded.
    pub to: Option<DateTime<Utc>>,
}

impl TimeRange {
    /// All of time.
    pub const ALL: TimeRange = TimeRange {
        from: None,
        to: None,
    };

    /// `[from, to)`.
    pub fn between(from: DateTime<Utc>, to: DateTime<Utc>) -> Self {
        TimeRange {
            from: Some(from),
            to: Some(to),
        }
    }

    /// Everything strictly before `to`.
    pub fn until(to: DateTime<Utc>) -> Self {
        TimeRange {
            from: None,
            to: Some(to),
        }
    }

    /// Everything from `from` on.
    pub fn since(from: DateTime<Utc>) -> Self {
        TimeRange {
            from: Some(from),
            to: None,
        }
    }

    /// True if `at` lies in the range.
    pub fn contains(&self, at: DateTime<Utc>) -> bool {
        self.from.is_none_or(|f| at >= f) && self.to.is_none_or(|t| at < t)
    }
}
