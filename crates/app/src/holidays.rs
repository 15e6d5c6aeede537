//! The holiday calendar as a person types it, for the command line (`solocrm holiday`)
//! and the web workspace (`/holidays`) alike: a month and day (`MM-DD`, lunar `M-D`),
//! the preset list of `holiday use` (`cn,western`, `none`), the year range, and the
//! rows of a year's calendar with the kind of rule each holiday follows.
//!
//! The stored calendar and its rules are the core's ([`solocrm_core::holiday`]); this
//! module only reads what is typed and lays out what is shown.
//!
//! ```
//! use solocrm_app::holidays::{RuleKind, fixed_rule, lunar_rule, parse_presets, year_rows};
//! use solocrm_core::holiday::{HolidayCalendar, HolidayDef, Preset};
//! use solocrm_core::{Label, Tag};
//!
//! assert_eq!(parse_presets(&["cn,western"])?, vec![Preset::Cn, Preset::Western]);
//! assert!(parse_presets(&["none"])?.is_empty());
//! let shop = HolidayDef {
//!     key: Tag::parse("店庆")?,
//!     name: Label::parse("店庆")?,
//!     rule: fixed_rule("06-18", "MM-DD")?,
//! };
//! let calendar = HolidayCalendar { presets: vec![Preset::Cn], own: vec![shop] };
//! let rows = year_rows(&calendar, 2025);
//! let mid_autumn = rows.iter().find(|r| r.key.as_str() == "mid_autumn").unwrap();
//! assert_eq!(mid_autumn.date.to_string(), "2025-10-06");
//! assert_eq!(mid_autumn.kind, RuleKind::Lunar);
//! let own = rows.iter().find(|r| r.own).unwrap();
//! assert_eq!((own.name.as_str(), own.kind), ("店庆", RuleKind::Fixed));
//! assert!(lunar_rule("13-1", false, "M-D").is_err());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use chrono::NaiveDate;
use solocrm_core::holiday::{FIRST_YEAR, HolidayCalendar, HolidayRule, LAST_YEAR, Preset};
use solocrm_core::{Label, Tag, ValidationError};

/// `MM-DD` or `M-D` as a month and a day; `expected` names the form in the message
/// (`--date MM-DD`, `MM-DD`).
///
/// # Errors
///
/// [`ValidationError::Config`] when `input` is not two numbers joined by `-`.
pub fn month_day(input: &str, expected: &str) -> Result<(u32, u32), ValidationError> {
    input
        .trim()
        .split_once('-')
        .and_then(|(m, d)| Some((m.trim().parse().ok()?, d.trim().parse().ok()?)))
        .ok_or_else(|| {
            ValidationError::Config(format!(
                "{input:?} is not a month and day; expected {expected}"
            ))
        })
}

/// A fixed-date rule from `MM-DD`, checked ([`HolidayRule::fixed`]).
///
/// # Errors
///
/// [`ValidationError::Config`] for text that is not a month and day, or a day no year
/// has.
pub fn fixed_rule(input: &str, expected: &str) -> Result<HolidayRule, ValidationError> {
    let (m, d) = month_day(input, expected)?;
    HolidayRule::fixed(m, d)
}

/// A lunar-date rule from `M-D` (the leap month of that number if `leap`), checked
/// ([`HolidayRule::lunar`]).
///
/// # Errors
///
/// [`ValidationError::Config`] for text that is not a month and day, or a month or
/// day outside the lunar calendar's.
pub fn lunar_rule(input: &str, leap: bool, expected: &str) -> Result<HolidayRule, ValidationError> {
    let (m, d) = month_day(input, expected)?;
    HolidayRule::lunar(m, d, leap)
}

/// The key of an own holiday: the one given, else the name as a tag.
///
/// # Errors
///
/// The tag's [`ValidationError`] (empty, too long, a separator in it).
pub fn own_key(name: &Label, key: Option<&str>) -> Result<Tag, ValidationError> {
    Tag::parse(key.unwrap_or(name.as_str()))
}

/// The presets of `holiday use`: each item may hold several names joined by commas;
/// `none` and blanks name nothing, so `none` alone chooses no preset.
///
/// # Errors
///
/// [`ValidationError::Config`] naming an unknown preset and the known ones.
pub fn parse_presets<S: AsRef<str>>(items: &[S]) -> Result<Vec<Preset>, ValidationError> {
    items
        .iter()
        .flat_map(|p| p.as_ref().split(','))
        .map(str::trim)
        .filter(|p| !p.is_empty() && !p.eq_ignore_ascii_case("none"))
        .map(Preset::parse)
        .collect()
}

/// True for a year the calendar answers for ([`FIRST_YEAR`]–[`LAST_YEAR`]).
pub fn year_in_range(year: i32) -> bool {
    (FIRST_YEAR..=LAST_YEAR).contains(&year)
}

/// What kind of rule a holiday follows, as a list shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleKind {
    /// The same Gregorian day every year.
    Fixed,
    /// A day of the Chinese lunar calendar (除夕 included).
    Lunar,
    /// Worked out otherwise each year: 清明 (a solar term), Easter, the n-th weekday
    /// of a month.
    Computed,
}

impl RuleKind {
    /// The kind of `rule`.
    pub fn of(rule: &HolidayRule) -> RuleKind {
        match rule {
            HolidayRule::Fixed { .. } => RuleKind::Fixed,
            HolidayRule::Lunar { .. } | HolidayRule::LunarNewYearsEve => RuleKind::Lunar,
            HolidayRule::Qingming | HolidayRule::Easter | HolidayRule::NthWeekday { .. } => {
                RuleKind::Computed
            }
        }
    }

    /// Its name (`fixed`, `lunar`, `computed`).
    pub fn as_str(self) -> &'static str {
        match self {
            RuleKind::Fixed => "fixed",
            RuleKind::Lunar => "lunar",
            RuleKind::Computed => "computed",
        }
    }
}

/// One holiday on one day of a year's calendar.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct HolidayRow {
    /// The day.
    pub date: NaiveDate,
    /// The holiday's name.
    pub name: Label,
    /// Its key.
    pub key: Tag,
    /// The kind of its rule.
    pub kind: RuleKind,
    /// The rule itself.
    pub rule: HolidayRule,
    /// True for one of the founder's own holidays (which can be removed), false for a
    /// preset's.
    pub own: bool,
}

/// The rows of `calendar` in Gregorian `year`, by date, then key (the order of
/// [`HolidayCalendar::occurrences`]); none outside the calendar's years.
pub fn year_rows(calendar: &HolidayCalendar, year: i32) -> Vec<HolidayRow> {
    let defs = calendar.holidays();
    calendar
        .occurrences(year)
        .into_iter()
        .filter_map(|o| {
            let def = defs.iter().find(|d| d.key == o.key)?;
            Some(HolidayRow {
                date: o.date,
                kind: RuleKind::of(&def.rule),
                rule: def.rule,
                own: calendar.own.iter().any(|h| h.key == o.key),
                name: o.name,
                key: o.key,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn month_day_reads_two_numbers_and_names_the_expected_form() {
        assert_eq!(month_day(" 6 - 18 ", "MM-DD").expect("parsed"), (6, 18));
        let e = month_day("June 18", "--date MM-DD").expect_err("refused");
        assert!(e.to_string().contains("expected --date MM-DD"), "{e}");
        assert!(fixed_rule("02-30", "MM-DD").is_err());
        assert_eq!(
            lunar_rule("4-5", true, "M-D").expect("lunar"),
            HolidayRule::Lunar {
                month: 4,
                day: 5,
                leap: true
            }
        );
    }

    #[test]
    fn presets_split_on_commas_and_none_chooses_nothing() {
        assert_eq!(
            parse_presets(&["western", " cn "]).expect("parsed"),
            vec![Preset::Western, Preset::Cn]
        );
        assert!(parse_presets(&["none", ""]).expect("parsed").is_empty());
        let e = parse_presets(&["cn,mars"]).expect_err("unknown");
        assert!(e.to_string().contains("mars"), "{e}");
    }

    #[test]
    fn rows_mark_own_holidays_and_the_kind_of_rule() {
        let cal = HolidayCalendar {
            presets: vec![Preset::Cn, Preset::Western],
            own: Vec::new(),
        };
        let rows = year_rows(&cal, 2026);
        let kind = |key: &str| {
            rows.iter()
                .find(|r| r.key.as_str() == key)
                .map(|r| r.kind)
                .expect("listed")
        };
        assert_eq!(kind("national_day"), RuleKind::Fixed);
        assert_eq!(kind("new_years_eve_lunar"), RuleKind::Lunar);
        assert_eq!(kind("easter"), RuleKind::Computed);
        assert!(rows.iter().all(|r| !r.own));
        assert!(year_rows(&cal, 1899).is_empty());
        assert!(year_in_range(1900) && year_in_range(2100) && !year_in_range(2101));
    }
}
