//! Care reminders: who needs attention between `as_of` and `as_of + horizon` days.
//!
//! [`care_due`] is pure. It lists, each with its reason:
//! - birthdays in the window (a February 29 birthday is celebrated on March 1 in common
//!   years, the later of the two neighbouring days, so the customer is never greeted
//!   before their birthday);
//! - configured holidays in the window (one item per holiday, not per customer: the
//!   person decides whom to greet);
//! - open tasks due in the window, and overdue ones (due before `as_of`);
//! - customers without contact (interaction or purchase) for `no_contact_days` or more,
//!   counted from their creation if there never was one; prospects, churned and erased
//!   customers are left out;
//! - customers in the `AtRisk` stage.
//!
//! Items come sorted by date, then customer, then kind.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::error::ValidationError;
use crate::holiday::HolidayCalendar;
use crate::ids::{CustomerId, TaskId};
use crate::lifecycle::LifecycleStage;
use crate::task::{Task, TaskKind};
use crate::text::Label;
use crate::zone::BusinessZone;

/// A holiday on a fixed day each year. Deserialising checks the day
/// ([`Holiday::new`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "HolidayRepr")]
pub struct Holiday {
    /// Its name.
    pub name: Label,
    month: u32,
    day: u32,
}

/// The serde form of [`Holiday`], checked on the way in.
#[derive(Deserialize)]
struct HolidayRepr {
    name: Label,
    month: u32,
    day: u32,
}

impl TryFrom<HolidayRepr> for Holiday {
    type Error = ValidationError;

    fn try_from(r: HolidayRepr) -> Result<Self, ValidationError> {
        Holiday::new(r.name, r.month, r.day)
    }
}

impl Holiday {
    /// A holiday on `month`/`day` every year (February 29 is observed on March 1 in
    /// common years, like birthdays).
    ///
    /// # Errors
    ///
    /// [`ValidationError::Config`] if no year has that day.
    pub fn new(name: Label, month: u32, day: u32) -> Result<Self, ValidationError> {
        if NaiveDate::from_ymd_opt(2024, month, day).is_none() {
            return Err(ValidationError::Config(format!(
                "{month:02}-{day:02} is not a day of the year"
            )));
        }
        Ok(Holiday { name, month, day })
    }

    /// The month, 1–12.
    pub fn month(&self) -> u32 {
        self.month
    }

    /// The day of the month.
    pub fn day(&self) -> u32 {
        self.day
    }
}

/// What [`care_due`] looks for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CareConfig {
    /// Holidays to remind of.
    pub holidays: Vec<Holiday>,
    /// Days without contact after which a customer is listed. Default 90.
    pub no_contact_days: u32,
}

impl Default for CareConfig {
    fn default() -> Self {
        CareConfig {
            holidays: Vec::new(),
            no_contact_days: 90,
        }
    }
}

/// What [`care_due`] needs to know of one customer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CareCustomer {
    /// The id.
    pub id: CustomerId,
    /// The birthday.
    pub birthday: Option<NaiveDate>,
    /// The current stage.
    pub stage: LifecycleStage,
    /// When the customer was created.
    pub created_at: DateTime<Utc>,
    /// The latest interaction or purchase, if any.
    pub last_contact: Option<DateTime<Utc>>,
    /// True once erased.
    pub erased: bool,
}

/// Why an item is on the care list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CareReason {
    /// A birthday; `turning` is the new age when the birth year is known.
    Birthday {
        /// The age they turn.
        turning: Option<u32>,
    },
    /// A holiday.
    Holiday {
        /// Its name.
        name: Label,
    },
    /// An open task.
    Task {
        /// The task.
        task: TaskId,
        /// What it is for.
        task_kind: TaskKind,
        /// Its title.
        title: Label,
        /// Days overdue (0 when due on or after `as_of`).
        overdue_days: i64,
    },
    /// No contact for a while.
    NoContact {
        /// Days since the last contact (or creation).
        days: i64,
        /// False if there never was a contact.
        ever_contacted: bool,
    },
    /// In the at-risk stage.
    AtRisk,
}

impl CareReason {
    fn rank(&self) -> u8 {
        match self {
            CareReason::Task { .. } => 0,
            CareReason::Birthday { .. } => 1,
            CareReason::Holiday { .. } => 2,
            CareReason::AtRisk => 3,
            CareReason::NoContact { .. } => 4,
        }
    }
}

impl std::fmt::Display for CareReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CareReason::Birthday { turning: Some(n) } => write!(f, "birthday (turns {n})"),
            CareReason::Birthday { turning: None } => f.write_str("birthday"),
            CareReason::Holiday { name } => write!(f, "holiday: {name}"),
            CareReason::Task {
                title,
                overdue_days,
                task_kind,
                ..
            } if *overdue_days > 0 => {
                let overdue = crate::names::count(*overdue_days, "day", "days");
                write!(f, "{task_kind}: {title} (overdue by {overdue})")
            }
            CareReason::Task {
                title, task_kind, ..
            } => write!(f, "{task_kind}: {title}"),
            CareReason::NoContact {
                days,
                ever_contacted: true,
            } => write!(
                f,
                "no contact for {}",
                crate::names::count(*days, "day", "days")
            ),
            CareReason::NoContact {
                days,
                ever_contacted: false,
            } => {
                let days = crate::names::count(*days, "day", "days");
                write!(f, "never contacted since being added {days} ago")
            }
            CareReason::AtRisk => f.write_str("at risk of churning"),
        }
    }
}

/// One reminder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CareItem {
    /// The day it concerns (for overdue tasks and standing conditions: `as_of`).
    pub date: NaiveDate,
    /// The customer, if it concerns one.
    pub customer: Option<CustomerId>,
    /// Why.
    pub reason: CareReason,
}

/// The day a yearly date (`month`/`day` of `base`) falls on in `year`; February 29 moves
/// to March 1 in common years.
pub fn anniversary_in(base_month: u32, base_day: u32, year: i32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(year, base_month, base_day).or_else(|| {
        (base_month == 2 && base_day == 29)
            .then(|| NaiveDate::from_ymd_opt(year, 3, 1))
            .flatten()
    })
}

/// The first occurrence of a yearly date on or after `from`, if it is on or before `to`.
fn next_in_window(month: u32, day: u32, from: NaiveDate, to: NaiveDate) -> Option<NaiveDate> {
    (from.year()..=to.year())
        .filter_map(|y| anniversary_in(month, day, y))
        .find(|d| *d >= from && *d <= to)
}

/// Every reminder due from `as_of` up to and including `as_of + horizon_days`, plus
/// overdue tasks and standing conditions (no contact, at risk) as of `as_of`.
///
/// `as_of` is a business-local date; `zone` turns the customers' instants (creation,
/// last contact) into business-local dates, so "days without contact" counts the
/// business's days.
pub fn care_due(
    as_of: NaiveDate,
    zone: BusinessZone,
    horizon_days: u32,
    config: &CareConfig,
    customers: &[CareCustomer],
    tasks: &[Task],
) -> Vec<CareItem> {
    care_due_with_calendar(
        as_of,
        zone,
        horizon_days,
        config,
        &HolidayCalendar::default(),
        customers,
        tasks,
    )
}

/// [`care_due`], with the holidays of a stored [`HolidayCalendar`] too: one item per
/// occurrence in the window (`as_of` to `as_of + horizon_days`), named as the
/// calendar names it, besides the fixed-day holidays of `config`.
///
/// ```
/// use solocrm_core::care::{CareConfig, CareReason, care_due_with_calendar};
/// use solocrm_core::holiday::{HolidayCalendar, Preset};
/// use solocrm_core::zone::BusinessZone;
/// let cn = HolidayCalendar { presets: vec![Preset::Cn], own: vec![] };
/// let as_of = "2025-10-01".parse().unwrap();
/// let items = care_due_with_calendar(
///     as_of, BusinessZone::UTC, 7, &CareConfig::default(), &cn, &[], &[],
/// );
/// // 国庆节 on October 1 and 中秋节 (lunar 8-15) on October 6, 2025.
/// let named: Vec<(String, String)> = items
///     .iter()
///     .filter_map(|i| match &i.reason {
///         CareReason::Holiday { name } => Some((i.date.to_string(), name.to_string())),
///         _ => None,
///     })
///     .collect();
/// assert_eq!(
///     named,
///     [("2025-10-01".into(), "国庆节".into()), ("2025-10-06".into(), "中秋节".into())]
/// );
/// ```
#[allow(clippy::too_many_arguments)]
pub fn care_due_with_calendar(
    as_of: NaiveDate,
    zone: BusinessZone,
    horizon_days: u32,
    config: &CareConfig,
    calendar: &HolidayCalendar,
    customers: &[CareCustomer],
    tasks: &[Task],
) -> Vec<CareItem> {
    let end = as_of
        .checked_add_days(chrono::Days::new(horizon_days.into()))
        .unwrap_or(NaiveDate::MAX);
    let mut items = Vec::new();
    for c in customers.iter().filter(|c| !c.erased) {
        if let Some(b) = c.birthday
            && let Some(date) = next_in_window(b.month(), b.day(), as_of, end)
        {
            let turning = u32::try_from(date.year() - b.year()).ok();
            items.push(CareItem {
                date,
                customer: Some(c.id),
                reason: CareReason::Birthday { turning },
            });
        }
        if c.stage == LifecycleStage::AtRisk {
            items.push(CareItem {
                date: as_of,
                customer: Some(c.id),
                reason: CareReason::AtRisk,
            });
        }
        let skip_contact = matches!(c.stage, LifecycleStage::Prospect | LifecycleStage::Churned);
        let since = zone.date_of(c.last_contact.unwrap_or(c.created_at));
        let days = (as_of - since).num_days();
        if !skip_contact && days >= i64::from(config.no_contact_days) {
            items.push(CareItem {
                date: as_of,
                customer: Some(c.id),
                reason: CareReason::NoContact {
                    days,
                    ever_contacted: c.last_contact.is_some(),
                },
            });
        }
    }
    for h in &config.holidays {
        if let Some(date) = next_in_window(h.month, h.day, as_of, end) {
            items.push(CareItem {
                date,
                customer: None,
                reason: CareReason::Holiday {
                    name: h.name.clone(),
                },
            });
        }
    }
    for o in calendar.occurrences_between(as_of, end) {
        items.push(CareItem {
            date: o.date,
            customer: None,
            reason: CareReason::Holiday { name: o.name },
        });
    }
    for t in tasks.iter().filter(|t| !t.is_done()) {
        let due = t.due();
        if due <= end {
            items.push(CareItem {
                date: due.max(as_of),
                customer: t.customer(),
                reason: CareReason::Task {
                    task: t.id(),
                    task_kind: t.kind(),
                    title: t.title().clone(),
                    overdue_days: (as_of - due).num_days().max(0),
                },
            });
        }
    }
    items.sort_by(|a, b| {
        (a.date, a.customer, a.reason.rank()).cmp(&(b.date, b.customer, b.reason.rank()))
    });
    items
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn d(s: &str) -> NaiveDate {
        s.parse().expect("valid date")
    }

    fn person(
        id: u64,
        birthday: Option<&str>,
        stage: LifecycleStage,
        last_contact: Option<&str>,
    ) -> CareCustomer {
        let at = |s: &str| Utc.from_utc_datetime(&d(s).and_hms_opt(10, 0, 0).expect("valid"));
        CareCustomer {
            id: CustomerId::new(id),
            birthday: birthday.map(d),
            stage,
            created_at: at("2025-01-01"),
            last_contact: last_contact.map(at),
            erased: false,
        }
    }

    #[test]
    fn a_leap_day_birthday_is_celebrated_on_march_first_in_common_years() {
        let c = [person(
            1,
            Some("2000-02-29"),
            LifecycleStage::Active,
            Some("2027-02-20"),
        )];
        let items = care_due(
            d("2027-02-27"),
            BusinessZone::UTC,
            3,
            &CareConfig::default(),
            &c,
            &[],
        );
        assert_eq!(
            items,
            vec![CareItem {
                date: d("2027-03-01"),
                customer: Some(CustomerId::new(1)),
                reason: CareReason::Birthday { turning: Some(27) },
            }]
        );
        let leap = care_due(
            d("2028-02-27"),
            BusinessZone::UTC,
            3,
            &CareConfig::default(),
            &c,
            &[],
        );
        let birthday = leap
            .iter()
            .find(|i| matches!(i.reason, CareReason::Birthday { .. }));
        assert_eq!(birthday.map(|i| i.date), Some(d("2028-02-29")));
    }

    #[test]
    fn days_without_contact_are_counted_in_the_business_zone() {
        // Last contact at 23:30 UTC on 2026-03-31: 1 April in Beijing.
        let mut c = person(1, None, LifecycleStage::Active, None);
        c.last_contact = Some(Utc.with_ymd_and_hms(2026, 3, 31, 23, 30, 0).unwrap());
        let config = CareConfig {
            holidays: Vec::new(),
            no_contact_days: 30,
        };
        let silent = |zone: BusinessZone| {
            care_due(
                d("2026-05-01"),
                zone,
                0,
                &config,
                std::slice::from_ref(&c),
                &[],
            )
            .iter()
            .find_map(|i| match i.reason {
                CareReason::NoContact { days, .. } => Some(days),
                _ => None,
            })
        };
        assert_eq!(silent(BusinessZone::UTC), Some(31));
        let beijing = BusinessZone::parse("Asia/Shanghai").unwrap();
        assert_eq!(silent(beijing), Some(30));
    }

    #[test]
    fn a_birthday_window_crosses_new_year() {
        let c = [person(
            1,
            Some("1990-01-02"),
            LifecycleStage::Active,
            Some("2026-12-30"),
        )];
        let items = care_due(
            d("2026-12-30"),
            BusinessZone::UTC,
            5,
            &CareConfig::default(),
            &c,
            &[],
        );
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].date, d("2027-01-02"));
    }

    #[test]
    fn silence_at_risk_and_holidays_are_listed_with_reasons() {
        let config = CareConfig {
            holidays: vec![
                Holiday::new(Label::parse("Christmas").expect("valid"), 12, 25).expect("valid"),
            ],
            no_contact_days: 90,
        };
        let c = [
            person(1, None, LifecycleStage::Active, Some("2026-08-01")),
            person(2, None, LifecycleStage::AtRisk, Some("2026-12-01")),
            person(3, None, LifecycleStage::Churned, None),
            person(4, None, LifecycleStage::Prospect, None),
        ];
        let items = care_due(d("2026-12-20"), BusinessZone::UTC, 7, &config, &c, &[]);
        let shown: Vec<String> = items
            .iter()
            .map(|i| format!("{} {:?} {}", i.date, i.customer.map(|c| c.get()), i.reason))
            .collect();
        assert_eq!(
            shown,
            [
                "2026-12-20 Some(1) no contact for 141 days",
                "2026-12-20 Some(2) at risk of churning",
                "2026-12-25 None holiday: Christmas",
            ]
        );
    }

    #[test]
    fn an_impossible_holiday_is_refused() {
        assert!(Holiday::new(Label::parse("x").expect("valid"), 2, 30).is_err());
        assert!(Holiday::new(Label::parse("x").expect("valid"), 2, 29).is_ok());
    }
}

#[cfg(test)]
mod counts {
    use super::CareReason;

    #[test]
    fn one_day_is_a_day() {
        let reason = |days, ever_contacted| CareReason::NoContact {
            days,
            ever_contacted,
        };
        assert_eq!(reason(1, true).to_string(), "no contact for 1 day");
        assert_eq!(reason(2, true).to_string(), "no contact for 2 days");
        assert_eq!(
            reason(1, false).to_string(),
            "never contacted since being added 1 day ago"
        );
    }
}
