//! The values a person or a file writes: dates, instants and amounts, read the one
//! way every frontend reads them.
//!
//! A day is `YYYY-MM-DD`; an instant is RFC 3339 or a day (the start of that day,
//! UTC). Days must lie in the core's plausible calendar ([`time::EARLIEST_DATE`] to
//! [`time::LATEST_DATE`], 1900 to 2199, ADR 0001): historic records back to 1900 are
//! read without a word, an earlier or later year is taken for a typo (`0205` for
//! `2025`). Leap seconds are refused: stored instants count seconds without them.

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use solocrm_core::{Currency, Money, time};

/// Why a value cannot be read; the message quotes the input and says what to write.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ValueError(String);

/// A written date: a whole day or an instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum When {
    /// A whole day (`YYYY-MM-DD`).
    Day(NaiveDate),
    /// An instant (RFC 3339).
    Instant(DateTime<Utc>),
}

/// Refuses a day outside the plausible calendar, as a typo in the year.
fn plausible(input: &str, day: NaiveDate) -> Result<NaiveDate, ValueError> {
    time::check_date("date", day)
        .map_err(|e| ValueError(format!("'{input}': {e} (a typo in the year?)")))?;
    Ok(day)
}

/// Reads `YYYY-MM-DD` or RFC 3339 within the accepted days.
///
/// # Errors
///
/// [`ValueError`] for anything else, a day outside 1900–2199, or a leap second.
pub fn when(input: &str) -> Result<When, ValueError> {
    let s = input.trim();
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Ok(When::Day(plausible(input, d)?));
    }
    let t = DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| {
            ValueError(format!(
                "'{input}' is not a date; use YYYY-MM-DD or RFC 3339 (2026-11-22T09:30:00Z)"
            ))
        })?;
    time::check_instant("date", t).map_err(|e| ValueError(format!("'{input}': {e}")))?;
    Ok(When::Instant(t))
}

/// The first instant of day `d` (UTC).
pub fn start_of(d: NaiveDate) -> DateTime<Utc> {
    d.and_time(NaiveTime::MIN).and_utc()
}

/// An instant: a bare date is the start of that day (UTC).
///
/// # Errors
///
/// As [`when`].
pub fn instant(input: &str) -> Result<DateTime<Utc>, ValueError> {
    if let Some(t) = common_instant(input) {
        return Ok(t);
    }
    Ok(match when(input)? {
        When::Day(d) => start_of(d),
        When::Instant(t) => t,
    })
}

/// The two shapes of date a file mostly holds, `YYYY-MM-DD` and
/// `YYYY-MM-DDTHH:MM:SSZ`, read directly; `None` for anything else, which [`when`]
/// then reads. Gives what [`when`] gives for every input it accepts (a test checks
/// this), only faster: a big import reads a date per row.
fn common_instant(input: &str) -> Option<DateTime<Utc>> {
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
        return Some(start_of(date));
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
    fn general_instant(input: &str) -> Option<DateTime<Utc>> {
        when(input).ok().map(|w| match w {
            When::Day(d) => start_of(d),
            When::Instant(t) => t,
        })
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
        let t = common_instant("2026-02-28T23:59:59Z").expect("read directly");
        assert_eq!(t.to_rfc3339(), "2026-02-28T23:59:59+00:00");
        assert!(common_instant("2026-02-29").is_none(), "no such day");
        assert!(
            common_instant("2026-12-31T23:59:60Z").is_none(),
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
        let today = NaiveDate::from_ymd_opt(2026, 11, 29).expect("a day");
        assert_eq!(birthday("2026-11-29", today), Ok(today));
        let err = birthday("2030-01-01", today).expect_err("in the future");
        assert!(err.to_string().contains("cannot be in the future"), "{err}");
    }

    proptest::proptest! {
        /// On every input the fast date path reads, it agrees with the general one.
        #[test]
        fn the_fast_date_path_agrees_with_chrono(
            input in "[0-9]{4}-[0-9]{2}-[0-9]{2}(T[0-9]{2}:[0-9]{2}:[0-9]{2}Z)?|[0-9T:Z -]{8,22}",
        ) {
            if let Some(fast) = common_instant(&input) {
                proptest::prop_assert_eq!(Some(fast), general_instant(&input));
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
