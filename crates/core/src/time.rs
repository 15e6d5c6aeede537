//! Time ranges and the plausible calendar. All instants are UTC (`DateTime<Utc>`); the
//! core never reads the clock, so every function that needs "now" takes an `as_of`
//! argument.
//!
//! # The plausible calendar
//!
//! chrono represents dates about 262,000 years either side of year 0, far beyond any
//! customer record. solocrm's analytics measure records dated from [`EARLIEST_DATE`]
//! (1900-01-01) to [`LATEST_DATE`] (2199-12-31), both included. A record outside that
//! window (a typo such as `0205-03-01` for `2025-03-01`, or a file written by another
//! tool) is not an error that breaks a report for good: the metrics skip it and count it
//! as an outlier ([`Outliers`](crate::metrics::Outliers)). [`check_date`] gives the
//! message an input edge shows when it refuses such a date.

use chrono::{DateTime, NaiveDate, Utc};

use crate::error::ValidationError;

/// The earliest date the analytics measure: 1900-01-01. Old enough for any customer
/// history a one-person business imports; a purchase dated before it is almost surely a
/// typo.
pub const EARLIEST_DATE: NaiveDate = match NaiveDate::from_ymd_opt(1900, 1, 1) {
    Some(d) => d,
    None => NaiveDate::MIN,
};

/// The latest date the analytics measure: 2199-12-31.
pub const LATEST_DATE: NaiveDate = match NaiveDate::from_ymd_opt(2199, 12, 31) {
    Some(d) => d,
    None => NaiveDate::MAX,
};

/// The first second of [`EARLIEST_DATE`], in Unix seconds (UTC).
pub(crate) const EARLIEST_SECS: i64 = -2_208_988_800;
/// The first second after [`LATEST_DATE`] (2200-01-01T00:00:00Z), in Unix seconds.
pub(crate) const AFTER_LATEST_SECS: i64 = 7_258_118_400;

/// True if `at` lies on a date from [`EARLIEST_DATE`] to [`LATEST_DATE`].
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use solocrm_core::time::is_plausible;
/// assert!(is_plausible(Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap()));
/// assert!(!is_plausible(Utc.with_ymd_and_hms(205, 3, 1, 0, 0, 0).unwrap()));
/// assert!(!is_plausible(Utc.with_ymd_and_hms(2205, 1, 1, 0, 0, 0).unwrap()));
/// ```
pub fn is_plausible(at: DateTime<Utc>) -> bool {
    (EARLIEST_SECS..AFTER_LATEST_SECS).contains(&at.timestamp())
}

/// Checks an instant for an input edge: its date must lie in the plausible calendar
/// ([`check_date`]), and it must not be a leap second (`23:59:60`): UTC as solocrm
/// stores it (Unix seconds) has no leap seconds, so `2025-06-30T23:59:60Z` would
/// silently become `23:59:59`, or an instant that does not exist.
///
/// ```
/// use chrono::{NaiveDate, TimeZone, Utc};
/// use solocrm_core::time::check_instant;
/// let leap = NaiveDate::from_ymd_opt(2025, 6, 30).unwrap()
///     .and_hms_milli_opt(23, 59, 59, 1_000).unwrap().and_utc();
/// assert_eq!(
///     check_instant("purchase time", leap).unwrap_err().to_string(),
///     "purchase time contains a leap second (23:59:60), which is not allowed there"
/// );
/// assert!(check_instant("purchase time", Utc.with_ymd_and_hms(2025, 6, 30, 23, 59, 59).unwrap()).is_ok());
/// assert!(check_instant("purchase time", Utc.with_ymd_and_hms(0, 1, 1, 0, 0, 0).unwrap()).is_err());
/// ```
///
/// # Errors
///
/// [`ValidationError::ForbiddenCharacter`] for a leap second,
/// [`ValidationError::DateOutOfRange`] outside the calendar.
pub fn check_instant(field: &'static str, at: DateTime<Utc>) -> Result<(), ValidationError> {
    use chrono::Timelike;
    if at.nanosecond() >= 1_000_000_000 {
        return Err(ValidationError::ForbiddenCharacter {
            field,
            what: "a leap second (23:59:60)".to_owned(),
        });
    }
    check_date(field, at.date_naive())
}

/// Checks that `date` lies from [`EARLIEST_DATE`] to [`LATEST_DATE`].
///
/// ```
/// use chrono::NaiveDate;
/// use solocrm_core::time::check_date;
/// let typo = NaiveDate::from_ymd_opt(2205, 1, 1).unwrap();
/// assert_eq!(
///     check_date("purchase date", typo).unwrap_err().to_string(),
///     "purchase date 2205-01-01 is after 2199-12-31, the latest date solocrm accepts"
/// );
/// assert!(check_date("purchase date", NaiveDate::from_ymd_opt(2026, 6, 30).unwrap()).is_ok());
/// ```
///
/// # Errors
///
/// [`ValidationError::DateOutOfRange`] naming `field` and the bound it crosses.
pub fn check_date(field: &'static str, date: NaiveDate) -> Result<(), ValidationError> {
    if date < EARLIEST_DATE {
        Err(ValidationError::DateOutOfRange {
            field,
            date,
            relation: "before",
            bound: EARLIEST_DATE,
            which: "earliest",
        })
    } else if date > LATEST_DATE {
        Err(ValidationError::DateOutOfRange {
            field,
            date,
            relation: "after",
            bound: LATEST_DATE,
            which: "latest",
        })
    } else {
        Ok(())
    }
}
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

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveTime;

    #[test]
    fn the_second_bounds_match_the_dates() {
        let secs = |d: NaiveDate| d.and_time(NaiveTime::MIN).and_utc().timestamp();
        assert_eq!(EARLIEST_SECS, secs(EARLIEST_DATE));
        assert_eq!(AFTER_LATEST_SECS, secs(LATEST_DATE) + 86_400);
        assert_eq!(EARLIEST_DATE.to_string(), "1900-01-01");
        assert_eq!(LATEST_DATE.to_string(), "2199-12-31");
    }

    #[test]
    fn dates_outside_the_window_are_refused_with_the_bound() {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap_or(NaiveDate::MIN);
        let early = check_date("purchase date", d(205, 3, 1)).unwrap_err();
        assert_eq!(
            early.to_string(),
            "purchase date 0205-03-01 is before 1900-01-01, the earliest date solocrm accepts"
        );
        assert!(check_date("x", EARLIEST_DATE).is_ok());
        assert!(check_date("x", LATEST_DATE).is_ok());
        assert!(check_date("x", d(2200, 1, 1)).is_err());
    }
}
