//! The values a person or a file writes: dates, instants and amounts, read the one
//! way every frontend reads them.
//!
//! A day is `YYYY-MM-DD`; an instant is RFC 3339 (an explicit offset, kept as given),
//! a local date and time `YYYY-MM-DD HH:MM[:SS]` (or with a `T`), or a day (the start
//! of that day). Local dates and times are read in the books' [`BusinessZone`] by the
//! `*_in` functions (a time in a DST gap moves forward by the gap, a time that happens
//! twice is the earlier; see [`BusinessZone::instant`]); the plain ones read them in
//! UTC. Days must lie in the core's plausible calendar ([`time::EARLIEST_DATE`] to
//! [`time::LATEST_DATE`], 1900 to 2199, ADR 0001): historic records back to 1900 are
//! read without a word, an earlier or later year is taken for a typo (`0205` for
//! `2025`). Leap seconds are refused: stored instants count seconds without them.

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use solocrm_core::{BusinessZone, Currency, Money, time};

/// Why a value cannot be read; the message quotes the input and says what to write.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ValueError(String);

/// A written date: a whole day or an instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum When {
    /// A whole day (`YYYY-MM-DD`).
    Day(NaiveDate),
    /// A local date and time without an offset (`YYYY-MM-DD HH:MM[:SS]`), read in the
    /// books' zone.
    Local(NaiveDateTime),
    /// An instant (RFC 3339, with `Z` or an offset).
    Instant(DateTime<Utc>),
}

impl When {
    /// The instant this denotes in `zone`: a day is the first instant of that local
    /// day, a local time is read in `zone`, an instant stays as given.
    pub fn start_in(self, zone: BusinessZone) -> DateTime<Utc> {
        match self {
            When::Day(d) => zone.start_of(d),
            When::Local(t) => zone.instant(t),
            When::Instant(t) => t,
        }
    }

    /// The business-local day this denotes in `zone`.
    pub fn day_in(self, zone: BusinessZone) -> NaiveDate {
        match self {
            When::Day(d) => d,
            When::Local(t) => t.date(),
            When::Instant(t) => zone.date_of(t),
        }
    }
}

/// The local date-time shapes [`when`] reads besides RFC 3339.
const LOCAL_FORMATS: [&str; 4] = [
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%dT%H:%M",
];

/// Refuses a day outside the plausible calendar, as a typo in the year.
fn plausible(input: &str, day: NaiveDate) -> Result<NaiveDate, ValueError> {
    time::check_date("date", day)
        .map_err(|e| ValueError(format!("'{input}': {e} (a typo in the year?)")))?;
    Ok(day)
}

/// Reads `YYYY-MM-DD`, a local `YYYY-MM-DD HH:MM[:SS]` (or with a `T`) or RFC 3339
/// within the accepted days.
///
/// # Errors
///
/// [`ValueError`] for anything else, a day outside 1900–2199, or a leap second.
pub fn when(input: &str) -> Result<When, ValueError> {
    let s = input.trim();
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Ok(When::Day(plausible(input, d)?));
    }
    if let Some(t) = LOCAL_FORMATS
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
    {
        plausible(input, t.date())?;
        return Ok(When::Local(t));
    }
    let t = DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| {
            ValueError(format!(
                "'{input}' is not a date; use YYYY-MM-DD or YYYY-MM-DD HH:MM (in the books' \
                 time zone) or RFC 3339 (2026-11-22T09:30:00Z)"
            ))
        })?;
    time::check_instant("date", t).map_err(|e| ValueError(format!("'{input}': {e}")))?;
    Ok(When::Instant(t))
}

/// An instant, local dates and times read in UTC: a bare date is the start of that
/// day (UTC). [`instant_in`] reads them in the books' zone.
///
/// # Errors
///
/// As [`when`].
pub fn instant(input: &str) -> Result<DateTime<Utc>, ValueError> {
    instant_in(input, BusinessZone::UTC)
}

/// An instant, local dates and times read in `zone`: a bare date is the first instant
/// of that local day, `2026-01-01 07:00` is 07:00 local time, and RFC 3339 with `Z`
/// or an offset stays as given.
///
/// ```
/// use solocrm_app::values::instant_in;
/// use solocrm_core::BusinessZone;
/// let beijing = BusinessZone::parse("Asia/Shanghai")?;
/// let t = instant_in("2026-01-01 07:00", beijing)?;
/// assert_eq!(t.to_rfc3339(), "2025-12-31T23:00:00+00:00");
/// let t = instant_in("2026-01-01", beijing)?;
/// assert_eq!(t.to_rfc3339(), "2025-12-31T16:00:00+00:00");
/// let t = instant_in("2026-01-01T07:00:00Z", beijing)?;
/// assert_eq!(t.to_rfc3339(), "2026-01-01T07:00:00+00:00");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
///
/// As [`when`].
pub fn instant_in(input: &str, zone: BusinessZone) -> Result<DateTime<Utc>, ValueError> {
    if let Some(t) = common_instant(input, zone) {
        return Ok(t);
    }
    Ok(when(input)?.start_in(zone))
}

/// How far past `now` an event may be dated: a day, for a clock or a time zone a little
/// ahead of ours, not more.
pub const EVENT_SLACK: chrono::TimeDelta = chrono::TimeDelta::days(1);

/// Why an event time (when something happened) is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventTimeError {
    /// The text is no date or time.
    #[error(transparent)]
    Value(#[from] ValueError),
    /// The time lies more than [`EVENT_SLACK`] after now.
    #[error("{input:?} is in the future (today is {today} in {zone})")]
    Future {
        /// What was written.
        input: String,
        /// Today in the books' zone.
        today: NaiveDate,
        /// The books' zone.
        zone: BusinessZone,
    },
}

/// An event time (the CLI's `--at`, the web's sheet time: when something happened)
/// read in `zone` as [`instant_in`] reads it; none is `now`. An event
/// cannot have happened more than [`EVENT_SLACK`] after `now`.
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use solocrm_app::values::{EventTimeError, event_at};
/// use solocrm_core::BusinessZone;
/// let beijing = BusinessZone::parse("Asia/Shanghai")?;
/// let now = Utc.with_ymd_and_hms(2026, 5, 1, 12, 0, 0).unwrap();
/// assert_eq!(event_at(None, now, beijing)?, now);
/// let t = event_at(Some("2026-04-30 09:30"), now, beijing)?;
/// assert_eq!(t.to_rfc3339(), "2026-04-30T01:30:00+00:00");
/// assert!(matches!(event_at(Some("2026-05-03"), now, beijing), Err(EventTimeError::Future { .. })));
/// assert!(matches!(event_at(Some("soon"), now, beijing), Err(EventTimeError::Value(_))));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
///
/// [`EventTimeError::Value`] as [`when`]; [`EventTimeError::Future`].
pub fn event_at(
    input: Option<&str>,
    now: DateTime<Utc>,
    zone: BusinessZone,
) -> Result<DateTime<Utc>, EventTimeError> {
    let Some(input) = input else {
        return Ok(now);
    };
    let t = instant_in(input, zone)?;
    if t > now + EVENT_SLACK {
        return Err(EventTimeError::Future {
            input: input.to_owned(),
            today: zone.date_of(now),
            zone,
        });
    }
    Ok(t)
}

/// The instant an analysis is made as of (`--as-of`), in `zone`: a bare date is the
/// last second of that local day, so the whole day counts; a local time is read in
/// `zone`; an RFC 3339 instant stays as given; none is `now`.
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use solocrm_app::values::as_of_in;
/// use solocrm_core::BusinessZone;
/// let beijing = BusinessZone::parse("Asia/Shanghai")?;
/// let now = Utc.with_ymd_and_hms(2026, 5, 1, 12, 0, 0).unwrap();
/// let t = as_of_in(Some("2026-01-01"), now, beijing)?;
/// assert_eq!(t.to_rfc3339(), "2026-01-01T15:59:59+00:00");
/// assert_eq!(as_of_in(None, now, beijing)?, now);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
///
/// As [`when`].
pub fn as_of_in(
    input: Option<&str>,
    now: DateTime<Utc>,
    zone: BusinessZone,
) -> Result<DateTime<Utc>, ValueError> {
    Ok(match input.map(when).transpose()? {
        None => now,
        Some(When::Day(d)) => zone.end_of(d) - chrono::TimeDelta::seconds(1),
        Some(w) => w.start_in(zone),
    })
}

/// The business-local day an analysis is made as of (`--as-of`): the day written, the
/// local day of a time or an instant, or today in `zone`.
///
/// # Errors
///
/// As [`when`].
pub fn as_of_day_in(
    input: Option<&str>,
    now: DateTime<Utc>,
    zone: BusinessZone,
) -> Result<NaiveDate, ValueError> {
    Ok(match input.map(when).transpose()? {
        None => zone.date_of(now),
        Some(w) => w.day_in(zone),
    })
}

/// The two shapes of date a file mostly holds, `YYYY-MM-DD` (the first instant of
/// that day in `zone`) and `YYYY-MM-DDTHH:MM:SSZ`, read directly; `None` for anything
/// else, which [`when`] then reads. Gives what [`when`] gives for every input it
/// accepts (a test checks this), only faster: a big import reads a date per row.
fn common_instant(input: &str, zone: BusinessZone) -> Option<DateTime<Utc>> {
    let b = input.trim().as_bytes();
    if !(b.len() == 10 || b.len() == 20) || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let num = |from: usize, to: usize| -> Option<u32> {
        b[from..to].iter().try_fold(0, |n: u32, &c| {
            c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
        })
    };
    let year = i32::try_from(num(0, 4)?).ok()?;
    let date = NaiveDate::from_ymd_opt(year, num(5, 7)?, num(8, 10)?)?;
    // A day outside the accepted ones is left to the general path, which explains.
    if !(time::EARLIEST_DATE..=time::LATEST_DATE).contains(&date) {
        return None;
    }
    if b.len() == 10 {
        return Some(zone.start_of(date));
    }
    if b[10] != b'T' || b[13] != b':' || b[16] != b':' || b[19] != b'Z' {
        return None;
    }
    // Second 60 (a leap second) is left to the general parser.
    let time = NaiveTime::from_hms_opt(num(11, 13)?, num(14, 16)?, num(17, 19)?)?;
    Some(date.and_time(time).and_utc())
}

/// A calendar date, `YYYY-MM-DD`, within the accepted days.
///
/// # Errors
///
/// [`ValueError`] for another shape or a day outside 1900–2199.
pub fn date(input: &str) -> Result<NaiveDate, ValueError> {
    let d = NaiveDate::parse_from_str(input.trim(), "%Y-%m-%d")
        .map_err(|_| ValueError(format!("'{input}' is not a date; use YYYY-MM-DD")))?;
    plausible(input, d)
}

/// A birthday, `YYYY-MM-DD`: a [`date`] no later than `today` (the day it is
/// entered; a birthday in the future is a typo).
///
/// # Errors
///
/// As [`date`], and [`ValueError`] for a day after `today`.
pub fn birthday(input: &str, today: NaiveDate) -> Result<NaiveDate, ValueError> {
    let d = date(input)?;
    if d > today {
        return Err(ValueError(format!(
            "'{input}' is after today ({today}): a birthday cannot be in the future"
        )));
    }
    Ok(d)
}

/// An amount of a file, as stored: [`Money::parse`] followed by
/// [`Money::for_storage`]. Plain amounts (`digits` or `digits.digits`, at most 12
/// digits before the point and no more after it than the currency has minor digits)
/// are read directly into minor units; `None` for anything else, which the general
/// path then reads and explains. A test checks the two agree.
pub fn stored_amount(input: &str, base: Currency) -> Option<Money> {
    let s = input.trim();
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    let digits = base.minor_unit_digits();
    let frac_len = u32::try_from(frac.len()).ok()?;
    if int.is_empty()
        || int.len() > 12
        || frac_len > digits
        || (s.len() > int.len() && frac.is_empty())
    {
        return None;
    }
    let read = |part: &str| -> Option<i64> {
        part.bytes().try_fold(0, |n: i64, c| {
            c.is_ascii_digit().then(|| n * 10 + i64::from(c - b'0'))
        })
    };
    let minor = read(int)? * 10_i64.pow(digits) + read(frac)? * 10_i64.pow(digits - frac_len);
    Some(Money::from_minor(minor, base))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the general path makes of a date.
    fn general_instant(input: &str, zone: BusinessZone) -> Option<DateTime<Utc>> {
        when(input).ok().map(|w| w.start_in(zone))
    }

    /// What the general path makes of an amount.
    fn general_amount(input: &str, base: Currency) -> Option<Money> {
        Money::parse(input, base)
            .ok()
            .filter(|m| !m.is_negative())
            .and_then(|m| m.for_storage("amount", base).ok())
    }

    #[test]
    fn the_fast_paths_read_the_common_shapes() {
        let t = common_instant("2026-02-28T23:59:59Z", BusinessZone::UTC).expect("read directly");
        assert_eq!(t.to_rfc3339(), "2026-02-28T23:59:59+00:00");
        assert!(
            common_instant("2026-02-29", BusinessZone::UTC).is_none(),
            "no such day"
        );
        assert!(
            common_instant("2026-12-31T23:59:60Z", BusinessZone::UTC).is_none(),
            "left to chrono"
        );
        assert_eq!(
            stored_amount("12.5", Currency::EUR),
            Some(Money::from_minor(1_250, Currency::EUR))
        );
        assert_eq!(
            stored_amount("7", Currency::JPY),
            Some(Money::from_minor(7, Currency::JPY))
        );
        for other in ["-1", "1.", ".5", "1.234", "+1", "1e3", "", "1,5"] {
            assert_eq!(stored_amount(other, Currency::EUR), None, "{other}");
        }
    }

    #[test]
    fn dates_outside_the_accepted_days_are_refused_with_the_reason() {
        for (input, why) in [
            ("0205-03-01", "before 1900-01-01"),
            ("0000-01-01", "before 1900-01-01"),
            ("2205-01-01", "after 2199-12-31"),
            ("+262142-12-31", "after 2199-12-31"),
            ("2025-06-30T23:59:60Z", "leap second"),
            ("1899-12-31T23:59:59Z", "before 1900-01-01"),
        ] {
            let err = instant(input).expect_err(input).to_string();
            assert!(err.contains(why), "{input}: {err}");
        }
        assert!(date("2200-01-01").is_err());
        assert!(date("1900-01-01").is_ok(), "historic records import");
        assert!(instant("1900-01-01T00:00:00Z").is_ok());
        assert_eq!(
            instant("2026-11-22T09:30:00+01:00").map(|t| t.to_rfc3339()),
            Ok("2026-11-22T08:30:00+00:00".to_owned())
        );
        assert!(instant("22.11.2026").is_err());
        assert_eq!(
            instant("2026-11-22 09:30").map(|t| t.to_rfc3339()),
            Ok("2026-11-22T09:30:00+00:00".to_owned())
        );
        let today = NaiveDate::from_ymd_opt(2026, 11, 29).expect("a day");
        assert_eq!(birthday("2026-11-29", today), Ok(today));
        let err = birthday("2030-01-01", today).expect_err("in the future");
        assert!(err.to_string().contains("cannot be in the future"), "{err}");
    }

    #[test]
    fn local_times_are_read_in_the_zone() {
        let bj = BusinessZone::parse("Asia/Shanghai").expect("a zone");
        let ny = BusinessZone::parse("America/New_York").expect("a zone");
        let at = |s: &str, z| instant_in(s, z).map(|t| t.to_rfc3339());
        assert_eq!(
            at("2026-11-11 07:30", bj),
            Ok("2026-11-10T23:30:00+00:00".to_owned())
        );
        assert_eq!(
            at("2026-11-11T07:30:15", bj),
            Ok("2026-11-10T23:30:15+00:00".to_owned())
        );
        assert_eq!(
            at("2026-11-11T07:30:00+08:00", ny),
            Ok("2026-11-10T23:30:00+00:00".to_owned()),
            "an explicit offset stays as given"
        );
        // In the gap the time moves forward; in the overlap it is the earlier.
        assert_eq!(
            at("2026-03-08 02:30", ny),
            Ok("2026-03-08T07:30:00+00:00".to_owned())
        );
        assert_eq!(
            at("2026-11-01 01:30", ny),
            Ok("2026-11-01T05:30:00+00:00".to_owned())
        );
        let now = instant("2026-11-29T12:00:00Z").expect("an instant");
        assert_eq!(
            as_of_in(Some("2026-03-08"), now, ny).map(|t| t.to_rfc3339()),
            Ok("2026-03-09T03:59:59+00:00".to_owned())
        );
        let late = instant("2026-01-31T17:00:00Z").expect("an instant");
        assert_eq!(
            as_of_day_in(None, late, bj),
            Ok(NaiveDate::from_ymd_opt(2026, 2, 1).expect("a day"))
        );
        assert!(instant_in("2026-13-01 07:00", bj).is_err());
        assert!(instant_in("0205-01-01 07:00", bj).is_err());
    }

    proptest::proptest! {
        /// On every input the fast date path reads, it agrees with the general one.
        #[test]
        fn the_fast_date_path_agrees_with_chrono(
            input in "[0-9]{4}-[0-9]{2}-[0-9]{2}(T[0-9]{2}:[0-9]{2}:[0-9]{2}Z)?|[0-9T:Z -]{8,22}",
        ) {
            for zone in ["UTC", "Asia/Shanghai", "America/New_York"] {
                let zone = BusinessZone::parse(zone).expect("a zone");
                if let Some(fast) = common_instant(&input, zone) {
                    proptest::prop_assert_eq!(Some(fast), general_instant(&input, zone));
                }
            }
        }

        /// On every input the fast amount path reads, it agrees with the general one.
        #[test]
        fn the_fast_amount_path_agrees_with_money_parse(
            input in "[0-9]{1,14}(\\.[0-9]{0,5})?|[-+0-9. e]{1,8}",
            code in proptest::sample::select(vec!["EUR", "JPY", "KWD", "CLF"]),
        ) {
            let base = Currency::parse(code).expect("a code");
            if let Some(fast) = stored_amount(&input, base) {
                proptest::prop_assert_eq!(Some(fast), general_amount(&input, base));
            }
        }
    }
}
