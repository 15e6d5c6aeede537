//! The holiday calendar: fixed-date, lunar-calendar and computed holidays, the preset
//! calendars `cn` and `western`, and the founder's own holidays stored with the books.
//!
//! Everything here is pure: a date is worked out from a year, never from the clock.
//!
//! - **Lunar holidays** (春节, 元宵, 端午, 七夕, 中秋, 重阳, 除夕) are converted from the
//!   Chinese lunisolar calendar with the `tyme4rs` crate for Gregorian years
//!   [`FIRST_YEAR`]–[`LAST_YEAR`]; the dates are checked in the tests against a fixture
//!   written from an independent source (`scripts/holiday_fixture.py`, ADR 0021).
//! - **清明** is the day of the solar term 清明 (sun at 15° ecliptic longitude) in
//!   China's time, also from `tyme4rs` and also checked against the fixture.
//! - **Easter** (western preset) is the Gregorian computus; **Mother's Day** the second
//!   Sunday of May.
//!
//! A holiday is identified by its [`Tag`] key (`spring_festival`, `mid_autumn`, …),
//! stable across languages; the name is what people read (`春节`).

use chrono::{Datelike, Days, NaiveDate, Weekday};
use serde::{Deserialize, Serialize};

use crate::error::ValidationError;
use crate::text::{Label, Tag};

/// The first Gregorian year the calendar answers for.
pub const FIRST_YEAR: i32 = 1900;
/// The last Gregorian year the calendar answers for.
pub const LAST_YEAR: i32 = 2100;

/// When a holiday falls each year.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum HolidayRule {
    /// The same Gregorian month and day every year; February 29 is kept on March 1 in
    /// common years.
    Fixed {
        /// 1–12.
        month: u32,
        /// 1–31.
        day: u32,
    },
    /// A day of the Chinese lunar calendar. `leap` asks for the leap month of that
    /// number; in a year without one the regular month is used. Day 30 of a month of 29
    /// days is kept on its 29th.
    Lunar {
        /// Lunar month, 1–12.
        month: u32,
        /// Lunar day, 1–30.
        day: u32,
        /// The leap (intercalary) month of that number.
        leap: bool,
    },
    /// 除夕: the last day of the twelfth lunar month, the eve of 春节.
    LunarNewYearsEve,
    /// 清明: the day of the solar term 清明 (about April 4–5).
    Qingming,
    /// Easter Sunday (Gregorian computus).
    Easter,
    /// The `n`-th `weekday` of `month` (e.g. the second Sunday of May).
    NthWeekday {
        /// 1–12.
        month: u32,
        /// 1–4.
        n: u32,
        /// The weekday.
        weekday: Weekday,
    },
}

impl HolidayRule {
    /// A fixed-date rule, checked.
    ///
    /// # Errors
    ///
    /// [`ValidationError::Config`] if no year has `month`/`day`.
    pub fn fixed(month: u32, day: u32) -> Result<Self, ValidationError> {
        if NaiveDate::from_ymd_opt(2024, month, day).is_none() {
            return Err(ValidationError::Config(format!(
                "{month:02}-{day:02} is not a day of the year"
            )));
        }
        Ok(HolidayRule::Fixed { month, day })
    }

    /// A lunar-date rule, checked.
    ///
    /// # Errors
    ///
    /// [`ValidationError::Config`] unless the month is 1–12 and the day 1–30.
    pub fn lunar(month: u32, day: u32, leap: bool) -> Result<Self, ValidationError> {
        if !(1..=12).contains(&month) || !(1..=30).contains(&day) {
            return Err(ValidationError::Config(format!(
                "lunar {month}-{day} is not a lunar day (months 1-12, days 1-30)"
            )));
        }
        Ok(HolidayRule::Lunar { month, day, leap })
    }

    /// True for the rules the founder may store ([`HolidayRule::Fixed`] and
    /// [`HolidayRule::Lunar`]); the others belong to the presets.
    pub fn is_storable(&self) -> bool {
        matches!(self, HolidayRule::Fixed { .. } | HolidayRule::Lunar { .. })
    }

    /// The dates of this rule that fall in Gregorian `year` (none outside
    /// [`FIRST_YEAR`]–[`LAST_YEAR`]). Lunar rules may fall twice in a Gregorian year
    /// in principle; in practice a holiday falls once.
    ///
    /// ```
    /// use solocrm_core::holiday::HolidayRule;
    /// let d = |s: &str| s.parse::<chrono::NaiveDate>().unwrap();
    /// // 中秋 (lunar 8-15) of 2025 is October 6; 春节 of 2024 is February 10.
    /// assert_eq!(HolidayRule::lunar(8, 15, false)?.dates_in(2025), vec![d("2025-10-06")]);
    /// assert_eq!(HolidayRule::lunar(1, 1, false)?.dates_in(2024), vec![d("2024-02-10")]);
    /// assert_eq!(HolidayRule::Qingming.dates_in(2025), vec![d("2025-04-04")]);
    /// assert_eq!(HolidayRule::Easter.dates_in(2025), vec![d("2025-04-20")]);
    /// assert!(HolidayRule::Easter.dates_in(1899).is_empty());
    /// # Ok::<(), solocrm_core::ValidationError>(())
    /// ```
    pub fn dates_in(&self, year: i32) -> Vec<NaiveDate> {
        if !(FIRST_YEAR..=LAST_YEAR).contains(&year) {
            return Vec::new();
        }
        match *self {
            HolidayRule::Fixed { month, day } => fixed_date(year, month, day).into_iter().collect(),
            HolidayRule::Lunar { month, day, leap } => [year - 1, year]
                .into_iter()
                .filter_map(|ly| lunar_date(ly, month, day, leap))
                .filter(|d| d.year() == year)
                .collect(),
            HolidayRule::LunarNewYearsEve => [year - 1, year]
                .into_iter()
                .filter_map(lunar_new_years_eve)
                .filter(|d| d.year() == year)
                .collect(),
            HolidayRule::Qingming => qingming(year).into_iter().collect(),
            HolidayRule::Easter => easter(year).into_iter().collect(),
            HolidayRule::NthWeekday { month, n, weekday } => {
                NaiveDate::from_weekday_of_month_opt(year, month, weekday, n as u8)
                    .into_iter()
                    .collect()
            }
        }
    }
}

fn fixed_date(year: i32, month: u32, day: u32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(year, month, day).or_else(|| {
        (month == 2 && day == 29)
            .then(|| NaiveDate::from_ymd_opt(year, 3, 1))
            .flatten()
    })
}

/// The Gregorian date of a day of the Chinese lunar calendar: lunar `year`, `month`
/// (1–12), `day` (1–30), in the leap month of that number when `leap`.
///
/// Definition: the lunar year `year` begins on 春节 (正月初一) of Gregorian year
/// `year`; months are counted from it, a leap month following the regular month of the
/// same number. Source: the `tyme4rs` crate (astronomical new moons and solar terms,
/// China's time zone), checked against an independent table for 1900–2100.
///
/// Edge cases: `None` when the lunar year is outside 1899–2100, the month or day is out
/// of range, `leap` is asked of a month that has no leap month that year, or the month
/// has only 29 days and `day` is 30 (the callers decide how to observe those).
///
/// ```
/// use solocrm_core::holiday::lunar_date;
/// let d = |s: &str| s.parse::<chrono::NaiveDate>().unwrap();
/// assert_eq!(lunar_date(2024, 1, 1, false), Some(d("2024-02-10")));
/// // 2023 had a leap second month: 闰二月初一 was March 22, 2023.
/// assert_eq!(lunar_date(2023, 2, 1, true), Some(d("2023-03-22")));
/// assert_eq!(lunar_date(2024, 2, 1, true), None);
/// ```
pub fn lunar_date(year: i32, month: u32, day: u32, leap: bool) -> Option<NaiveDate> {
    use tyme4rs::tyme::lunar::{LunarDay, LunarMonth, LunarYear};
    if !(FIRST_YEAR - 1..=LAST_YEAR).contains(&year)
        || !(1..=12).contains(&month)
        || !(1..=30).contains(&day)
    {
        return None;
    }
    let y = year as isize;
    if leap && LunarYear::new(y).ok()?.get_leap_month() != month as usize {
        return None;
    }
    let m = if leap {
        -(month as isize)
    } else {
        month as isize
    };
    if day as usize > LunarMonth::new(y, m).ok()?.get_day_count() {
        return None;
    }
    let solar = LunarDay::new(y, m, day as usize).ok()?.get_solar_day();
    NaiveDate::from_ymd_opt(
        i32::try_from(solar.get_year()).ok()?,
        u32::try_from(solar.get_month()).ok()?,
        u32::try_from(solar.get_day()).ok()?,
    )
}

/// The observed date of a lunar holiday in lunar `year`: a leap month that year lacks
/// falls back to the regular month, a day 30 that the month lacks to its 29th.
fn lunar_observed(year: i32, month: u32, day: u32, leap: bool) -> Option<NaiveDate> {
    lunar_date(year, month, day, leap)
        .or_else(|| lunar_date(year, month, day, false))
        .or_else(|| {
            (day == 30)
                .then(|| lunar_date(year, month, 29, false))
                .flatten()
        })
}

fn lunar_new_years_eve(lunar_year: i32) -> Option<NaiveDate> {
    lunar_date(lunar_year + 1, 1, 1, false)?.checked_sub_days(Days::new(1))
}

fn qingming(year: i32) -> Option<NaiveDate> {
    use tyme4rs::tyme::solar::SolarTerm;
    let solar = SolarTerm::new(year as isize, "清明").ok()?.get_solar_day();
    NaiveDate::from_ymd_opt(
        i32::try_from(solar.get_year()).ok()?,
        u32::try_from(solar.get_month()).ok()?,
        u32::try_from(solar.get_day()).ok()?,
    )
}

/// Easter Sunday of Gregorian `year` by the anonymous Gregorian computus (Meeus/Jones/
/// Butcher): the first Sunday after the ecclesiastical full moon on or after March 21.
///
/// Edge cases: always between March 22 and April 25.
///
/// ```
/// use solocrm_core::holiday::easter;
/// let d = |s: &str| s.parse::<chrono::NaiveDate>().unwrap();
/// assert_eq!(easter(2024), Some(d("2024-03-31")));
/// assert_eq!(easter(2026), Some(d("2026-04-05")));
/// assert_eq!(easter(2038), Some(d("2038-04-25")));
/// ```
pub fn easter(year: i32) -> Option<NaiveDate> {
    let a = year % 19;
    let b = year / 100;
    let c = year % 100;
    let d = b / 4;
    let e = b % 4;
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15) % 30;
    let i = c / 4;
    let k = c % 4;
    let l = (32 + 2 * e + 2 * i - h - k) % 7;
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let day = (h + l - 7 * m + 114) % 31 + 1;
    NaiveDate::from_ymd_opt(year, u32::try_from(month).ok()?, u32::try_from(day).ok()?)
}

/// A holiday: a stable key, a name and when it falls.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HolidayDef {
    /// The stable key (`spring_festival`); customers tagged with it are "tagged for" the
    /// holiday.
    pub key: Tag,
    /// The name people read (`春节`).
    pub name: Label,
    /// When it falls.
    pub rule: HolidayRule,
}

impl HolidayDef {
    /// The dates of this holiday in Gregorian `year`, observed: lunar rules fall back as
    /// [`HolidayRule::Lunar`] says.
    pub fn dates_in(&self, year: i32) -> Vec<NaiveDate> {
        match self.rule {
            HolidayRule::Lunar { month, day, leap } => {
                if !(FIRST_YEAR..=LAST_YEAR).contains(&year) {
                    return Vec::new();
                }
                [year - 1, year]
                    .into_iter()
                    .filter_map(|ly| lunar_observed(ly, month, day, leap))
                    .filter(|d| d.year() == year)
                    .collect()
            }
            rule => rule.dates_in(year),
        }
    }
}

/// A preset calendar that a book can choose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Preset {
    /// China: 元旦, 除夕, 春节, 元宵, 清明, 劳动节, 端午, 七夕, 中秋, 国庆, 重阳 (names in
    /// Chinese).
    Cn,
    /// A "Western" set: New Year's Day, Valentine's Day, Easter, Mother's Day (second
    /// Sunday of May), Halloween, Christmas Eve, Christmas.
    Western,
}

impl Preset {
    /// Every preset.
    pub const ALL: [Preset; 2] = [Preset::Cn, Preset::Western];

    /// Its key (`cn`, `western`).
    pub fn key(self) -> &'static str {
        match self {
            Preset::Cn => "cn",
            Preset::Western => "western",
        }
    }

    /// The preset of a key.
    ///
    /// # Errors
    ///
    /// [`ValidationError::Config`] naming the known presets.
    pub fn parse(key: &str) -> Result<Self, ValidationError> {
        Preset::ALL
            .into_iter()
            .find(|p| p.key() == key.trim().to_lowercase())
            .ok_or_else(|| {
                ValidationError::Config(format!(
                    "unknown holiday calendar {key:?} (known: cn, western)"
                ))
            })
    }

    /// Its holidays, in the order of the year.
    pub fn holidays(self) -> Vec<HolidayDef> {
        use HolidayRule::*;
        let list: &[(&str, &str, HolidayRule)] = match self {
            Preset::Cn => &[
                ("new_year", "元旦", Fixed { month: 1, day: 1 }),
                ("new_years_eve_lunar", "除夕", LunarNewYearsEve),
                ("spring_festival", "春节", lunar(1, 1)),
                ("lantern_festival", "元宵节", lunar(1, 15)),
                ("qingming", "清明节", Qingming),
                ("labour_day", "劳动节", Fixed { month: 5, day: 1 }),
                ("dragon_boat", "端午节", lunar(5, 5)),
                ("qixi", "七夕", lunar(7, 7)),
                ("mid_autumn", "中秋节", lunar(8, 15)),
                ("national_day", "国庆节", Fixed { month: 10, day: 1 }),
                ("double_ninth", "重阳节", lunar(9, 9)),
            ],
            Preset::Western => &[
                ("new_year", "New Year's Day", Fixed { month: 1, day: 1 }),
                (
                    "valentines_day",
                    "Valentine's Day",
                    Fixed { month: 2, day: 14 },
                ),
                ("easter", "Easter", Easter),
                (
                    "mothers_day",
                    "Mother's Day",
                    NthWeekday {
                        month: 5,
                        n: 2,
                        weekday: Weekday::Sun,
                    },
                ),
                ("halloween", "Halloween", Fixed { month: 10, day: 31 }),
                (
                    "christmas_eve",
                    "Christmas Eve",
                    Fixed { month: 12, day: 24 },
                ),
                ("christmas", "Christmas", Fixed { month: 12, day: 25 }),
            ],
        };
        list.iter()
            .map(|(key, name, rule)| HolidayDef {
                key: Tag::parse(key).expect("preset keys are valid tags"),
                name: Label::parse(name).expect("preset names are valid labels"),
                rule: *rule,
            })
            .collect()
    }
}

const fn lunar(month: u32, day: u32) -> HolidayRule {
    HolidayRule::Lunar {
        month,
        day,
        leap: false,
    }
}

/// One holiday on one day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HolidayOccurrence {
    /// The day (in the business time zone's calendar).
    pub date: NaiveDate,
    /// The holiday's key.
    pub key: Tag,
    /// The holiday's name.
    pub name: Label,
}

/// The holidays a book keeps: the chosen presets and the founder's own.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HolidayCalendar {
    /// The chosen presets.
    pub presets: Vec<Preset>,
    /// The founder's own holidays.
    pub own: Vec<HolidayDef>,
}

impl HolidayCalendar {
    /// Every holiday: the presets' in preset order, then the founder's own. An own
    /// holiday replaces a preset one of the same key, and of two presets with the same
    /// key (`new_year`) the first is kept.
    pub fn holidays(&self) -> Vec<HolidayDef> {
        let mut out: Vec<HolidayDef> = Vec::new();
        for p in &self.presets {
            for h in p.holidays() {
                if !out.iter().any(|o| o.key == h.key) && !self.own.iter().any(|o| o.key == h.key) {
                    out.push(h);
                }
            }
        }
        out.extend(self.own.iter().cloned());
        out
    }

    /// The occurrences in Gregorian `year`, sorted by date, then key.
    ///
    /// ```
    /// use solocrm_core::holiday::{HolidayCalendar, Preset};
    /// let cn = HolidayCalendar { presets: vec![Preset::Cn], own: vec![] };
    /// let year = cn.occurrences(2026);
    /// let spring = year.iter().find(|o| o.key.as_str() == "spring_festival").unwrap();
    /// assert_eq!(spring.date.to_string(), "2026-02-17");
    /// assert_eq!(spring.name.as_str(), "春节");
    /// ```
    pub fn occurrences(&self, year: i32) -> Vec<HolidayOccurrence> {
        let mut out: Vec<HolidayOccurrence> = self
            .holidays()
            .into_iter()
            .flat_map(|h| {
                h.dates_in(year)
                    .into_iter()
                    .map(move |date| HolidayOccurrence {
                        date,
                        key: h.key.clone(),
                        name: h.name.clone(),
                    })
            })
            .collect();
        out.sort_by(|a, b| (a.date, &a.key).cmp(&(b.date, &b.key)));
        out
    }

    /// The occurrences from `from` to `to`, both included, sorted by date, then key.
    pub fn occurrences_between(&self, from: NaiveDate, to: NaiveDate) -> Vec<HolidayOccurrence> {
        if to < from {
            return Vec::new();
        }
        (from.year()..=to.year())
            .flat_map(|y| self.occurrences(y))
            .filter(|o| o.date >= from && o.date <= to)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().expect("valid date")
    }

    #[test]
    fn leap_month_falls_back_and_day_thirty_is_kept_on_the_29th() {
        // 2023 had 闰二月; 2024 has no leap month.
        let def = HolidayDef {
            key: Tag::parse("x").expect("tag"),
            name: Label::parse("x").expect("label"),
            rule: HolidayRule::lunar(2, 1, true).expect("rule"),
        };
        assert_eq!(def.dates_in(2023), vec![d("2023-03-22")]);
        assert_eq!(
            def.dates_in(2024),
            vec![lunar_date(2024, 2, 1, false).expect("d")]
        );
        // Some twelfth month has 29 days somewhere in 2000-2050; day 30 is then its 29th.
        let short = (2000..=2050)
            .find(|&y| lunar_date(y, 12, 30, false).is_none())
            .expect("a short twelfth month");
        assert!(lunar_observed(short, 12, 30, false) == lunar_date(short, 12, 29, false));
    }

    #[test]
    fn new_years_eve_is_the_day_before_spring_festival() {
        for y in [1950, 2024, 2025, 2100] {
            let spring = HolidayRule::lunar(1, 1, false).expect("r").dates_in(y)[0];
            let eve = HolidayRule::LunarNewYearsEve.dates_in(y);
            assert_eq!(eve, vec![spring.pred_opt().expect("d")]);
        }
    }

    #[test]
    fn out_of_range_is_empty_not_a_panic() {
        let cn = HolidayCalendar {
            presets: vec![Preset::Cn, Preset::Western],
            own: vec![],
        };
        assert!(cn.occurrences(1899).is_empty());
        assert!(cn.occurrences(2101).is_empty());
        assert!(!cn.occurrences(1900).is_empty());
        assert!(lunar_date(2101, 1, 1, false).is_none());
        assert!(lunar_date(2024, 13, 1, false).is_none());
        assert!(lunar_date(2024, 1, 31, false).is_none());
    }

    #[test]
    fn own_holiday_replaces_preset_of_same_key() {
        let cal = HolidayCalendar {
            presets: vec![Preset::Cn, Preset::Western],
            own: vec![HolidayDef {
                key: Tag::parse("new_year").expect("tag"),
                name: Label::parse("新年").expect("label"),
                rule: HolidayRule::fixed(1, 2).expect("rule"),
            }],
        };
        let ny: Vec<_> = cal
            .occurrences(2025)
            .into_iter()
            .filter(|o| o.key.as_str() == "new_year")
            .collect();
        assert_eq!(ny.len(), 1);
        assert_eq!(ny[0].date, d("2025-01-02"));
    }

    #[test]
    fn western_preset_dates() {
        let w = HolidayCalendar {
            presets: vec![Preset::Western],
            own: vec![],
        };
        let got: Vec<(String, String)> = w
            .occurrences(2025)
            .into_iter()
            .map(|o| (o.date.to_string(), o.key.as_str().to_owned()))
            .collect();
        let want = [
            ("2025-01-01", "new_year"),
            ("2025-02-14", "valentines_day"),
            ("2025-04-20", "easter"),
            ("2025-05-11", "mothers_day"),
            ("2025-10-31", "halloween"),
            ("2025-12-24", "christmas_eve"),
            ("2025-12-25", "christmas"),
        ];
        let want: Vec<(String, String)> = want
            .iter()
            .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
            .collect();
        assert_eq!(got, want);
    }

    #[test]
    fn rules_are_checked() {
        assert!(HolidayRule::fixed(2, 30).is_err());
        assert!(HolidayRule::fixed(2, 29).is_ok());
        assert!(HolidayRule::lunar(0, 1, false).is_err());
        assert!(HolidayRule::lunar(12, 31, false).is_err());
        assert!(Preset::parse("CN").is_ok());
        assert!(Preset::parse("mars").is_err());
    }
}
