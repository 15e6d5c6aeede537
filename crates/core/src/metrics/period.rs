//! [`Period`]: the days a metric covers, and the day arithmetic every metric shares.

use chrono::{DateTime, Datelike, Months, NaiveDate, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use super::error::{MetricError, MetricResult};
use crate::time::TimeRange;
use crate::zone::{BusinessZone, LocalDays};

/// A run of whole business-local days `[start, end)`: the period a report or a rate
/// covers.
///
/// The days are counted in a [`BusinessZone`] (UTC unless [`Period::in_zone`] says
/// otherwise): [`Period::time_range`] and [`Period::contains_instant`] map them to instants.
/// The operations layer puts every period it is given in the books' zone.
///
/// Half-open like [`TimeRange`], so that consecutive months share no day and a year is
/// twelve months exactly. "At the start of the period" means at the end of the day
/// before `start`; "at the end" means at the end of [`Period::last_day`], which is also
/// the `as_of` date of every point-in-time figure in a report.
///
/// ```
/// use chrono::NaiveDate;
/// use solocrm_core::metrics::Period;
/// let march = Period::month(2026, 3)?;
/// assert_eq!(march.days(), 31);
/// assert_eq!(march.last_day(), NaiveDate::from_ymd_opt(2026, 3, 31).unwrap());
/// assert!(march.contains(NaiveDate::from_ymd_opt(2026, 3, 15).unwrap()));
/// assert!(!march.contains(NaiveDate::from_ymd_opt(2026, 4, 1).unwrap()));
/// assert!(Period::new(march.end(), march.start()).is_err());
/// # Ok::<(), solocrm_core::metrics::MetricError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "RawPeriod", into = "RawPeriod")]
pub struct Period {
    start: NaiveDate,
    end: NaiveDate,
    zone: BusinessZone,
    /// The first instant of `start` and of `end` in `zone`, Unix seconds.
    from_secs: i64,
    to_secs: i64,
}

#[derive(Serialize, Deserialize)]
struct RawPeriod {
    start: NaiveDate,
    end: NaiveDate,
}

impl TryFrom<RawPeriod> for Period {
    type Error = MetricError;
    fn try_from(r: RawPeriod) -> MetricResult<Period> {
        Period::new(r.start, r.end)
    }
}

impl From<Period> for RawPeriod {
    fn from(p: Period) -> RawPeriod {
        RawPeriod {
            start: p.start,
            end: p.end,
        }
    }
}

impl Period {
    /// The days from `start` up to but excluding `end`.
    ///
    /// # Errors
    ///
    /// [`MetricError::InvalidInput`] unless `start < end`.
    pub fn new(start: NaiveDate, end: NaiveDate) -> MetricResult<Period> {
        if start < end {
            Ok(Period {
                start,
                end,
                zone: BusinessZone::UTC,
                from_secs: 0,
                to_secs: 0,
            }
            .in_zone(BusinessZone::UTC))
        } else {
            Err(MetricError::InvalidInput {
                metric: "period",
                what: "the end",
                expected: "after the start",
                value: format!("{start} to {end}"),
            })
        }
    }

    /// A calendar month.
    ///
    /// # Errors
    ///
    /// [`MetricError::InvalidInput`] for a month outside 1–12 or a year chrono does not
    /// know.
    pub fn month(year: i32, month: u32) -> MetricResult<Period> {
        let start = NaiveDate::from_ymd_opt(year, month, 1).ok_or(MetricError::InvalidInput {
            metric: "period",
            what: "the month",
            expected: "a calendar month",
            value: format!("{year}-{month}"),
        })?;
        let end = start
            .checked_add_months(Months::new(1))
            .ok_or(MetricError::DateOutOfRange { metric: "period" })?;
        Period::new(start, end)
    }

    /// A calendar year.
    ///
    /// # Errors
    ///
    /// [`MetricError::InvalidInput`] for a year chrono does not know.
    pub fn year(year: i32) -> MetricResult<Period> {
        let start = Period::month(year, 1)?.start;
        let end = start
            .checked_add_months(Months::new(12))
            .ok_or(MetricError::DateOutOfRange { metric: "period" })?;
        Period::new(start, end)
    }

    /// The same days, counted in `zone`.
    #[must_use]
    pub fn in_zone(mut self, zone: BusinessZone) -> Period {
        self.zone = zone;
        self.from_secs = zone.start_of(self.start).timestamp();
        self.to_secs = zone.start_of(self.end).timestamp();
        self
    }

    /// The first instant of the period.
    pub fn start_instant(&self) -> DateTime<Utc> {
        self.zone.start_of(self.start)
    }

    /// The first instant after the period: the end of its last day.
    pub fn end_instant(&self) -> DateTime<Utc> {
        self.zone.start_of(self.end)
    }

    /// The zone the days are counted in.
    pub fn zone(&self) -> BusinessZone {
        self.zone
    }

    /// The first instant of the period, Unix seconds.
    pub(crate) fn start_secs(&self) -> i64 {
        self.from_secs
    }

    /// The first instant after the period, Unix seconds.
    pub(crate) fn end_secs(&self) -> i64 {
        self.to_secs
    }

    /// True if the instant `secs` (whole Unix seconds) lies in the period: the same
    /// answer as [`contains_instant`](Self::contains_instant) of any instant in that
    /// second.
    pub(crate) fn contains_secs(&self, secs: i64) -> bool {
        (self.from_secs..self.to_secs).contains(&secs)
    }

    /// The first day.
    pub fn start(&self) -> NaiveDate {
        self.start
    }

    /// The first day after the period.
    pub fn end(&self) -> NaiveDate {
        self.end
    }

    /// The last day in the period: the `as_of` of point-in-time figures.
    pub fn last_day(&self) -> NaiveDate {
        self.end.pred_opt().unwrap_or(self.start)
    }

    /// The day before the period: the state "at the start" is the state as of this day.
    pub fn day_before(&self) -> Option<NaiveDate> {
        self.start.pred_opt()
    }

    /// The number of days.
    pub fn days(&self) -> i64 {
        (self.end - self.start).num_days()
    }

    /// True if `day` is in the period.
    pub fn contains(&self, day: NaiveDate) -> bool {
        self.start <= day && day < self.end
    }

    /// True if the instant falls on a day of the period (in its zone).
    pub fn contains_instant(&self, at: DateTime<Utc>) -> bool {
        (self.from_secs..self.to_secs).contains(&at.timestamp())
    }

    /// The same days as a [`TimeRange`] of instants, from the first instant of the
    /// first day to the first instant after the last, in the period's zone, for store
    /// queries.
    pub fn time_range(&self) -> TimeRange {
        TimeRange::between(self.start_instant(), self.end_instant())
    }

    /// The year (365 or 366 days) that ends with this period's last day:
    /// `[end − 1 year, end)`. Rates that need a yearly basis, such as the inputs of the
    /// lifetime-value formulas, use it.
    ///
    /// # Errors
    ///
    /// [`MetricError::DateOutOfRange`] at the edge of the calendar.
    pub fn trailing_year(&self) -> MetricResult<Period> {
        let start = self
            .end
            .checked_sub_months(Months::new(12))
            .ok_or(MetricError::DateOutOfRange { metric: "period" })?;
        Ok(Period::new(start, self.end)?.in_zone(self.zone))
    }

    /// A short label: `2026-03` for a calendar month, else `2026-03-05..2026-04-05`.
    pub fn label(&self) -> String {
        if self.start.day() == 1
            && self.end.day() == 1
            && self.start.checked_add_months(Months::new(1)) == Some(self.end)
        {
            format!("{:04}-{:02}", self.start.year(), self.start.month())
        } else {
            format!("{}..{}", self.start, self.end)
        }
    }
}

use crate::zone::EPOCH_DAYS_FROM_CE;

/// Days since 1970-01-01 of a date.
pub(crate) fn epoch_day(d: NaiveDate) -> i64 {
    i64::from(d.num_days_from_ce()) - EPOCH_DAYS_FROM_CE
}

/// Half a day in seconds: the bucket of a [`DayTable`].
const HALF_DAY: i64 = 43_200;

/// The most buckets of a [`DayTable`]: 359 years of half days (the plausible calendar
/// spans 300).
const MAX_BUCKETS: i64 = 1 << 18;

/// The offsets of one half day of a [`DayTable`]: `before` up to `switch` (a second
/// in the half day, `i64::MAX` when the offset does not change in it), `after` from it.
#[derive(Clone, Copy)]
struct Bucket {
    switch: i64,
    before: i32,
    after: i32,
}

/// Unix seconds to business-local day numbers for instants in a window of time, in
/// constant time whatever the order of the lookups.
///
/// [`LocalDays`] is fastest on instants in time order (its cache holds the last span);
/// the kernels that convert one instant per customer (RFM's last purchase) look them up
/// in customer order, which is random in time. This table holds, for every half day of
/// the window, the offset before and after the one change a half day can hold (the
/// span table behind [`LocalDays`] has at most one per half day), built from
/// [`LocalDays::offset`] so that both always agree. Outside the window it asks
/// [`LocalDays`]; in UTC it divides.
pub(crate) struct DayTable {
    days: LocalDays,
    utc: bool,
    /// The half-day number of `buckets[0]`.
    first: i64,
    buckets: Vec<Bucket>,
}

impl DayTable {
    /// The table of `zone` for the instants `from..=to` (Unix seconds); cheap for a
    /// window of a few years (one entry per half day, at most [`MAX_BUCKETS`]).
    pub(crate) fn new(zone: BusinessZone, from: i64, to: i64) -> DayTable {
        let days = zone.days();
        let utc = zone.is_utc();
        let first = from.div_euclid(HALF_DAY);
        let mut buckets = Vec::new();
        if !utc && from <= to {
            let count = (to.div_euclid(HALF_DAY) - first + 1).clamp(0, MAX_BUCKETS);
            buckets.reserve(usize::try_from(count).unwrap_or(0));
            for b in first..first + count {
                let start = b * HALF_DAY;
                let end = start + HALF_DAY - 1;
                let (before, after) = (days.offset(start), days.offset(end));
                let switch = if before == after {
                    i64::MAX
                } else {
                    // The first second with the new offset.
                    let (mut lo, mut hi) = (start, end);
                    while hi - lo > 1 {
                        let mid = lo + (hi - lo) / 2;
                        if days.offset(mid) == before {
                            lo = mid;
                        } else {
                            hi = mid;
                        }
                    }
                    hi
                };
                // Offsets are below a day, so they fit an i32.
                let narrow = |o: i64| i32::try_from(o).unwrap_or(0);
                buckets.push(Bucket {
                    switch,
                    before: narrow(before),
                    after: narrow(after),
                });
            }
        }
        DayTable {
            days,
            utc,
            first,
            buckets,
        }
    }

    /// The business-local day number of `secs`.
    #[inline]
    pub(crate) fn day(&self, secs: i64) -> i64 {
        if self.utc {
            return secs.div_euclid(86_400);
        }
        // A negative index wraps to a huge one and misses.
        let i = secs.div_euclid(HALF_DAY).wrapping_sub(self.first) as usize;
        match self.buckets.get(i) {
            Some(b) => {
                let offset = if secs < b.switch { b.before } else { b.after };
                secs.saturating_add(i64::from(offset)).div_euclid(86_400)
            }
            None => self.days.day(secs),
        }
    }
}

/// The date of a day number.
pub(crate) fn date_of_day(day: i64) -> Option<NaiveDate> {
    let ce = day.checked_add(EPOCH_DAYS_FROM_CE)?;
    NaiveDate::from_num_days_from_ce_opt(i32::try_from(ce).ok()?)
}

/// A duration in seconds, saturating.
pub(crate) fn seconds(d: TimeDelta) -> i64 {
    d.num_seconds()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveTime;

    #[test]
    fn day_numbers_agree_with_chrono() {
        let utc = DayTable::new(BusinessZone::UTC, 0, 0);
        for (y, m, d) in [(1970, 1, 1), (1969, 12, 31), (2000, 2, 29), (2026, 3, 1)] {
            let date = NaiveDate::from_ymd_opt(y, m, d).unwrap();
            let n = epoch_day(date);
            assert_eq!(date_of_day(n), Some(date));
            let midnight = date.and_time(NaiveTime::MIN).and_utc().timestamp();
            assert_eq!(utc.day(midnight), n);
            assert_eq!(utc.day(midnight + 86_399), n);
            assert_eq!(utc.day(midnight - 1), n - 1);
        }
    }

    #[test]
    fn the_day_table_agrees_with_local_days_in_and_out_of_its_window() {
        use chrono::TimeZone;
        for name in [
            "UTC",
            "Asia/Shanghai",
            "America/New_York",
            "Europe/Berlin",
            "America/Santiago",
            "Australia/Lord_Howe",
            "Asia/Kathmandu",
            "Pacific/Apia",
        ] {
            let zone = BusinessZone::parse(name).unwrap();
            let days = zone.days();
            let secs = |y| Utc.with_ymd_and_hms(y, 1, 1, 0, 0, 0).unwrap().timestamp();
            let table = DayTable::new(zone, secs(2005), secs(2015));
            // Every 7 minutes and 13 seconds over 2000–2020, in a scrambled order.
            let (from, to) = (secs(2000), secs(2020));
            let n = (to - from) / 433;
            for k in 0..n {
                let t = from + (k * 7_919 % n) * 433;
                assert_eq!(table.day(t), days.day(t), "{name} {t}");
            }
        }
    }

    #[test]
    fn periods_round_trip_through_json_and_refuse_reversed_days() {
        let p = Period::month(2026, 2).unwrap();
        assert_eq!(p.days(), 28);
        assert_eq!(p.label(), "2026-02");
        let json = serde_json::to_string(&p).unwrap();
        assert_eq!(json, r#"{"start":"2026-02-01","end":"2026-03-01"}"#);
        assert_eq!(serde_json::from_str::<Period>(&json).unwrap(), p);
        assert!(
            serde_json::from_str::<Period>(r#"{"start":"2026-03-01","end":"2026-03-01"}"#).is_err()
        );
        assert_eq!(p.trailing_year().unwrap().days(), 365);
        assert_eq!(Period::year(2024).unwrap().days(), 366);
    }
}
