//! Conversions between domain values and column values.
//!
//! Writing is total: every domain value has a column form. Reading goes through the
//! domain's validating constructors, and a value that does not decode is a
//! [`Corrupt`](crate::error::Corrupt) error naming the table and column, never a panic.

use std::fmt::Display;

use chrono::{DateTime, NaiveDate, Utc};
use postgres::Row;
use postgres::types::FromSql;
use solocrm_core::{Currency, Money};

use crate::error::{Fail, Res, corrupt};

/// An instant as `(seconds, nanoseconds)` columns.
pub(crate) fn ts(t: DateTime<Utc>) -> (i64, i64) {
    (t.timestamp(), i64::from(t.timestamp_subsec_nanos()))
}

/// An optional instant as two nullable columns.
pub(crate) fn opt_ts(t: Option<DateTime<Utc>>) -> (Option<i64>, Option<i64>) {
    match t {
        Some(t) => {
            let (s, ns) = ts(t);
            (Some(s), Some(ns))
        }
        None => (None, None),
    }
}

/// The column form of an id. Ids beyond `i64::MAX` cannot be stored, so they become
/// `-1`, which matches no row (stored ids are positive).
pub(crate) fn key(raw: u64) -> i64 {
    i64::try_from(raw).unwrap_or(-1)
}

/// Whole minor units of money that passed [`Money::for_storage`].
pub(crate) fn minor(m: Money) -> Res<i64> {
    m.to_minor_units()
        .map_err(|e| corrupt(format!("amount not in minor units: {e}")))
}

/// A calendar date as ISO 8601 text.
pub(crate) fn date(d: NaiveDate) -> String {
    d.to_string()
}

/// Reads the columns of one row, naming the table in errors.
pub(crate) struct Cols<'r> {
    row: &'r Row,
    table: &'static str,
}

impl<'r> Cols<'r> {
    pub(crate) fn new(row: &'r Row, table: &'static str) -> Self {
        Cols { row, table }
    }

    fn corrupt(&self, i: usize, what: impl Display) -> Fail {
        let column = self.row.columns().get(i).map_or("?", |c| c.name());
        corrupt(format!("{}.{column}: {what}", self.table))
    }

    fn get<T: FromSql<'r>>(&self, i: usize) -> Res<T> {
        self.row.try_get(i).map_err(|e| self.corrupt(i, e))
    }

    pub(crate) fn opt_i64(&self, i: usize) -> Res<Option<i64>> {
        self.get(i)
    }

    pub(crate) fn i64(&self, i: usize) -> Res<i64> {
        self.get(i)
    }

    pub(crate) fn opt_str(&self, i: usize) -> Res<Option<&'r str>> {
        self.get(i)
    }

    pub(crate) fn str(&self, i: usize) -> Res<&'r str> {
        self.get(i)
    }

    /// Text decoded by `parse`.
    pub(crate) fn parse<T, E: Display>(
        &self,
        i: usize,
        parse: impl FnOnce(&str) -> Result<T, E>,
    ) -> Res<T> {
        let s = self.str(i)?;
        parse(s).map_err(|e| self.corrupt(i, e))
    }

    /// Nullable text decoded by `parse`.
    pub(crate) fn opt_parse<T, E: Display>(
        &self,
        i: usize,
        parse: impl FnOnce(&str) -> Result<T, E>,
    ) -> Res<Option<T>> {
        match self.opt_str(i)? {
            None => Ok(None),
            Some(s) => parse(s).map(Some).map_err(|e| self.corrupt(i, e)),
        }
    }

    /// A positive integer id.
    pub(crate) fn id<T>(&self, i: usize, make: impl FnOnce(u64) -> T) -> Res<T> {
        let v = self.i64(i)?;
        u64::try_from(v)
            .map(make)
            .map_err(|_| self.corrupt(i, format!("negative id {v}")))
    }

    /// A nullable id.
    pub(crate) fn opt_id<T>(&self, i: usize, make: impl FnOnce(u64) -> T) -> Res<Option<T>> {
        match self.opt_i64(i)? {
            None => Ok(None),
            Some(v) => u64::try_from(v)
                .map(|v| Some(make(v)))
                .map_err(|_| self.corrupt(i, format!("negative id {v}"))),
        }
    }

    /// An integer that must fit `T`.
    pub(crate) fn int<T: TryFrom<i64>>(&self, i: usize) -> Res<T> {
        let v = self.i64(i)?;
        T::try_from(v).map_err(|_| self.corrupt(i, format!("{v} is out of range")))
    }

    /// A nullable integer that must fit `T`.
    pub(crate) fn opt_int<T: TryFrom<i64>>(&self, i: usize) -> Res<Option<T>> {
        match self.opt_i64(i)? {
            None => Ok(None),
            Some(v) => T::try_from(v)
                .map(Some)
                .map_err(|_| self.corrupt(i, format!("{v} is out of range"))),
        }
    }

    /// A boolean.
    pub(crate) fn bool(&self, i: usize) -> Res<bool> {
        self.get(i)
    }

    /// The instant in columns `i` (seconds) and `i + 1` (nanoseconds).
    pub(crate) fn time(&self, i: usize) -> Res<DateTime<Utc>> {
        self.opt_time(i)?
            .ok_or_else(|| self.corrupt(i, "unexpected null"))
    }

    /// The nullable instant in columns `i` and `i + 1`.
    pub(crate) fn opt_time(&self, i: usize) -> Res<Option<DateTime<Utc>>> {
        match (self.opt_i64(i)?, self.opt_i64(i + 1)?) {
            (None, None) => Ok(None),
            (Some(s), Some(ns)) => u32::try_from(ns)
                .ok()
                .and_then(|ns| DateTime::from_timestamp(s, ns))
                .map(Some)
                .ok_or_else(|| self.corrupt(i, format!("({s}, {ns}) is not an instant"))),
            _ => Err(self.corrupt(i, "half of an instant is null")),
        }
    }

    /// Money in whole minor units of `currency`.
    /// The void marker in columns `i` (`void_at`), `i + 1` (`void_at_ns`), `i + 2`
    /// (`void_by`) and `i + 3` (`void_reason`); none if `void_at` is null.
    pub(crate) fn void(&self, i: usize) -> Res<Option<solocrm_core::Void>> {
        let Some(at) = self.opt_time(i)? else {
            if self.opt_str(i + 2)?.is_some() || self.opt_str(i + 3)?.is_some() {
                return Err(self.corrupt(i, "a void's author or reason without its time"));
            }
            return Ok(None);
        };
        Ok(Some(solocrm_core::Void {
            at,
            by: self.opt_parse(i + 2, solocrm_core::Label::parse)?,
            reason: self.opt_parse(i + 3, solocrm_core::FreeText::parse)?,
        }))
    }

    pub(crate) fn money(&self, i: usize, currency: Currency) -> Res<Money> {
        Ok(Money::from_minor(self.i64(i)?, currency))
    }

    /// Nullable money.
    pub(crate) fn opt_money(&self, i: usize, currency: Currency) -> Res<Option<Money>> {
        Ok(self.opt_i64(i)?.map(|m| Money::from_minor(m, currency)))
    }

    /// An ISO 8601 date.
    pub(crate) fn date(&self, i: usize) -> Res<NaiveDate> {
        self.parse(i, str::parse::<NaiveDate>)
    }

    /// A nullable ISO 8601 date.
    pub(crate) fn opt_date(&self, i: usize) -> Res<Option<NaiveDate>> {
        self.opt_parse(i, str::parse::<NaiveDate>)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extreme_dates_round_trip_through_iso_text() {
        for d in [
            NaiveDate::MIN,
            NaiveDate::MAX,
            NaiveDate::from_ymd_opt(0, 1, 1).unwrap_or_default(),
            NaiveDate::from_ymd_opt(2024, 2, 29).unwrap_or_default(),
        ] {
            assert_eq!(date(d).parse::<NaiveDate>(), Ok(d), "{d}");
        }
    }

    #[test]
    fn an_instant_splits_into_seconds_and_nanoseconds_and_back() {
        let leap = NaiveDate::from_ymd_opt(2016, 12, 31)
            .and_then(|d| d.and_hms_nano_opt(23, 59, 59, 1_500_000_000))
            .map(|t| t.and_utc())
            .expect("a leap second");
        for t in [
            DateTime::from_timestamp(-1, 500_000_000).expect("an instant"),
            DateTime::from_timestamp(0, 123_456_789).expect("an instant"),
            leap,
        ] {
            let (s, ns) = ts(t);
            let back = u32::try_from(ns)
                .ok()
                .and_then(|ns| DateTime::from_timestamp(s, ns));
            assert_eq!(back, Some(t));
        }
    }
}
