//! Report metrics as a series over calendar months or quarters (`solocrm report --by
//! month|quarter`, issue 18, ADR 0026), for the whole book or one [`CustomerGroup`].
//!
//! A series is a list of plain reports: each period's entry is the [`Dashboard`] that
//! `report --from FIRST --to LAST` prints for that period, computed by the same code
//! ([`group_dashboard`]) from the books as they stood at the end of the period's last
//! day. No metric has a second, "per period" formula. The range's own dashboard comes
//! with it as the total, so the series' total equals the plain report of the range.
//!
//! Periods are calendar months or quarters in the books' business time zone (a purchase
//! at 2025-01-31T17:00Z is in February in Asia/Shanghai), clipped to the range: a first
//! or last period that does not cover its whole month or quarter is marked `partial`.

use chrono::{DateTime, Datelike as _, Months, NaiveDate, Utc};
use serde::Serialize;
use solocrm_core::{Crm, Period, Reader, ReportConfig, ReportData, ReportError, SharedReads};

use crate::groups::{CustomerGroup, GroupError, Members, only_members};
use crate::views::{Dashboard, PeriodView};

/// The most periods one series may have: ten years of months. Each period is a whole
/// report, so the cost grows with their number.
pub const MAX_PERIODS: usize = 120;

/// The length of a series' periods.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Grain {
    /// Calendar months.
    Month,
    /// Calendar quarters (January–March, April–June, July–September, October–December).
    Quarter,
}

impl Grain {
    fn months(self) -> u32 {
        match self {
            Grain::Month => 1,
            Grain::Quarter => 3,
        }
    }

    /// The first day of the month or quarter `day` is in.
    fn start_of(self, day: NaiveDate) -> NaiveDate {
        let month0 = day.month0() - day.month0() % self.months();
        NaiveDate::from_ymd_opt(day.year(), month0 + 1, 1).unwrap_or(day)
    }

    /// The label of the month or quarter starting on `start`: `2025-01` or `2025-Q1`.
    fn label(self, start: NaiveDate) -> String {
        match self {
            Grain::Month => format!("{:04}-{:02}", start.year(), start.month()),
            Grain::Quarter => format!("{:04}-Q{}", start.year(), start.month0() / 3 + 1),
        }
    }
}

/// One period of a range cut by a [`Grain`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slice {
    /// Its days: the calendar month or quarter, clipped to the range.
    pub period: Period,
    /// `2025-01` or `2025-Q1`: the month or quarter it belongs to.
    pub label: String,
    /// True if the clipping left out days of the month or quarter.
    pub partial: bool,
}

/// The calendar months or quarters `range` touches, oldest first, each clipped to the
/// range and in its zone.
///
/// ```
/// use chrono::NaiveDate;
/// use solocrm_app::trends::{Grain, slices};
/// use solocrm_core::Period;
/// let day = |m, d| NaiveDate::from_ymd_opt(2025, m, d).unwrap();
/// let range = Period::new(day(2, 15), day(7, 1))?;
/// let q: Vec<(String, bool)> = slices(range, Grain::Quarter)?
///     .into_iter()
///     .map(|s| (s.label, s.partial))
///     .collect();
/// assert_eq!(q, [("2025-Q1".to_owned(), true), ("2025-Q2".to_owned(), false)]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
///
/// [`GroupError::TooManyPeriods`] beyond [`MAX_PERIODS`].
pub fn slices(range: Period, grain: Grain) -> Result<Vec<Slice>, GroupError> {
    let step = Months::new(grain.months());
    let first = grain.start_of(range.start());
    // Count first (cheap: one date step each), so a refusal says how many.
    let mut asked = 0_usize;
    let mut start = first;
    while start < range.end() {
        asked += 1;
        match start.checked_add_months(step) {
            Some(next) => start = next,
            None => break,
        }
    }
    if asked > MAX_PERIODS {
        return Err(GroupError::TooManyPeriods {
            asked,
            max: MAX_PERIODS,
        });
    }
    let mut out = Vec::with_capacity(asked);
    let mut start = first;
    while start < range.end() {
        let Some(next) = start.checked_add_months(step) else {
            break;
        };
        let from = start.max(range.start());
        let to = next.min(range.end());
        let period = Period::new(from, to)
            .map_err(ReportError::from)?
            .in_zone(range.zone());
        out.push(Slice {
            period,
            label: grain.label(start),
            partial: from != start || to != next,
        });
        start = next;
    }
    Ok(out)
}

/// The dashboard of `period` over the reader's snapshot, of the whole book
/// (`members` `None`) or of the group's customers only ([`only_members`]).
///
/// # Errors
///
/// [`ReportError`] if reading fails or the data cannot be measured at all.
pub fn group_dashboard(
    reader: &Reader<'_>,
    period: Period,
    config: &ReportConfig,
    members: Option<&Members>,
) -> Result<Dashboard, ReportError> {
    group_dashboard_with_months(reader, period, config, members).map(|(d, _)| d)
}

/// [`group_dashboard`] with the revenue by month of the same purchases.
fn group_dashboard_with_months(
    reader: &Reader<'_>,
    period: Period,
    config: &ReportConfig,
    members: Option<&Members>,
) -> Result<(Dashboard, Vec<crate::overview::MonthFigures>), ReportError> {
    dashboard_of(reader.report_data(period)?, period, config, members)
}

/// The dashboard of `period` and its revenue by month, computed from `data` read for
/// it, of the whole book or of `members` only.
fn dashboard_of(
    data: ReportData,
    period: Period,
    config: &ReportConfig,
    members: Option<&Members>,
) -> Result<(Dashboard, Vec<crate::overview::MonthFigures>), ReportError> {
    let data = match members {
        Some(m) => only_members(&data, m),
        None => data,
    };
    crate::overview::dashboard_of_data(&data, period, config)
}

/// The instant a view of `period` is as of: the end of its last day, or `now` if that
/// is earlier (a period still running).
pub fn view_instant(
    reader: &Reader<'_>,
    period: Period,
    now: DateTime<Utc>,
) -> Result<DateTime<Utc>, ReportError> {
    Ok(reader.time_zone()?.end_of(period.last_day()).min(now))
}

/// Runs `f` on the books as they stood at the end of `day` when that is not after
/// `now`, else on the books as they are, inside the reader's transaction; through the
/// reads `shared` keeps if given (a series' views, ADR 0067).
fn as_of_day<T>(
    reader: &Reader<'_>,
    shared: Option<&SharedReads<'_>>,
    day: NaiveDate,
    now: DateTime<Utc>,
    f: impl FnOnce(&Reader<'_>) -> T,
) -> Result<T, ReportError> {
    let cutoff = reader.time_zone()?.end_of(day);
    Ok(match shared {
        _ if cutoff > now => f(reader),
        Some(shared) => shared.as_of(cutoff, |r| f(&r)),
        None => reader.as_of(cutoff, |r| f(&r)),
    })
}

/// A group's dashboard of a period, as the books stood at the end of the period's last
/// day (or now), the group decided at that instant: what `report [--segment NAME |
/// --stage STAGE]` prints. `group` `None` is the whole book.
///
/// # Errors
///
/// [`GroupError::UnknownSegment`]; reading or measuring errors.
pub fn load_dashboard(
    crm: &Crm,
    period: Period,
    config: &ReportConfig,
    group: Option<&CustomerGroup>,
    now: DateTime<Utc>,
) -> Result<GroupDashboard, GroupError> {
    let day = period.last_day();
    // The purchases on a second thread, in the same snapshot, while this one reads the
    // rest and decides the group (issue 14, ADR 0070).
    let (records, purchases) = crate::history::read_as_of_day_beside(
        crm,
        day,
        now,
        |v| {
            Ok((|| {
                let at = view_instant(&v, period, now)?;
                let members = group.map(|g| g.members(&v, at)).transpose()?;
                let records = v.report_records(period).map_err(ReportError::Store)?;
                Ok::<_, GroupError>((members, records))
            })())
        },
        |v| v.report_purchases(period),
    )
    .map_err(GroupError::from)?;
    let (members, records) = records?;
    let data = records.with_purchases(purchases);
    let (dashboard, _) = dashboard_of(data, period, config, members.as_ref())?;
    Ok(GroupDashboard {
        members: members.as_ref().map(Members::len),
        dashboard,
    })
}

/// What the web dashboard draws for a group (or the whole book, `group` `None`):
/// [`load_dashboard`]'s figures, with the revenue by month of the group's purchases and
/// the board of the group's open deals, from one snapshot, as the whole book's
/// [`Overview`](crate::overview::Overview) has them.
///
/// # Errors
///
/// [`GroupError::UnknownSegment`]; reading or measuring errors.
pub fn load_overview(
    crm: &Crm,
    period: Period,
    config: &ReportConfig,
    group: Option<&CustomerGroup>,
    now: DateTime<Utc>,
) -> Result<GroupOverview, GroupError> {
    load_overview_with_trend(crm, period, None, config, group, now).map(|(o, _)| o)
}

/// [`load_overview`] and, with a grain, the series [`Trend::load`] computes over the
/// same range, in one read transaction: the range's dashboard is computed once and is
/// both the overview's figures and the series' total (the web dashboard with `?by=`).
///
/// # Errors
///
/// [`GroupError::UnknownSegment`], [`GroupError::TooManyPeriods`]; reading or measuring
/// errors.
pub fn load_overview_with_trend(
    crm: &Crm,
    period: Period,
    by: Option<Grain>,
    config: &ReportConfig,
    group: Option<&CustomerGroup>,
    now: DateTime<Utc>,
) -> Result<(GroupOverview, Option<Trend>), GroupError> {
    let cut = by.map(|g| slices(period, g).map(|c| (g, c))).transpose()?;
    crm.read(|r| {
        let run = || -> Result<(GroupOverview, Option<Trend>), GroupError> {
            // With a series, as in `Trend::load`: the store's rows read once for every
            // view. A single view reads them itself (nothing to share).
            let bound = r.time_zone()?.end_of(period.last_day());
            let shared = cut.as_ref().map(|_| SharedReads::new(r.tx(), bound));
            let (overview, members) =
                as_of_day(&r, shared.as_ref(), period.last_day(), now, |v| {
                    let at = view_instant(v, period, now)?;
                    let members = group.map(|g| g.members(v, at)).transpose()?;
                    let (dashboard, revenue_by_month) =
                        group_dashboard_with_months(v, period, config, members.as_ref())?;
                    let board =
                        crate::views::PipelineBoard::load(v, at, &config.stage_probabilities)
                            .map_err(ReportError::Store)?;
                    let board = match &members {
                        Some(m) => board.only(|c| m.contains(c)).map_err(ReportError::Store)?,
                        None => board,
                    };
                    let overview = GroupOverview {
                        members: members.as_ref().map(Members::len),
                        dashboard,
                        revenue_by_month,
                        board,
                    };
                    Ok::<_, GroupError>((overview, members))
                })??;
            let trend = match cut {
                None => None,
                Some((grain, cut)) => {
                    let ask = Ask {
                        range: period,
                        grain,
                        config,
                        group,
                        now,
                    };
                    let total = overview.dashboard.clone();
                    Some(ask.series(&r, shared.as_ref(), cut, members, total)?)
                }
            };
            Ok((overview, trend))
        };
        Ok(run())
    })
    .map_err(GroupError::from)?
}

/// A group's dashboard with what its charts draw ([`load_overview`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GroupOverview {
    /// How many customers the group had (`None` for the whole book).
    pub members: Option<usize>,
    /// The dashboard.
    pub dashboard: Dashboard,
    /// Revenue and orders of the group's purchases in every month the period touches.
    pub revenue_by_month: Vec<crate::overview::MonthFigures>,
    /// The group's open deals by stage, as of the end of the period (now if earlier).
    pub board: crate::views::PipelineBoard,
}

/// A dashboard and the size of the group it measures.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GroupDashboard {
    /// How many customers the group had (`None` for the whole book).
    pub members: Option<usize>,
    /// The dashboard.
    pub dashboard: Dashboard,
}

/// One period of a [`Trend`]: its label, whether it is partial, and its dashboard
/// (flattened in JSON: the same fields as `report --json`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrendPeriod {
    /// `2025-01` or `2025-Q1`.
    pub label: String,
    /// True if the range covers only part of the month or quarter.
    pub partial: bool,
    /// The period's report.
    #[serde(flatten)]
    pub dashboard: Dashboard,
}

/// A series of reports over the months or quarters of a range, and the range's own
/// report: what `solocrm report --by month|quarter --json` prints (`docs/cli.md`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Trend {
    /// Months or quarters.
    pub by: Grain,
    /// The whole range.
    pub period: PeriodView,
    /// The group measured (`null` for the whole book).
    pub group: Option<CustomerGroup>,
    /// How many customers the group had at the end of the range (`null` for the whole
    /// book).
    pub members: Option<usize>,
    /// The periods, oldest first.
    pub periods: Vec<TrendPeriod>,
    /// The report of the whole range: equal to the plain report of the range.
    pub total: Dashboard,
}

impl Trend {
    /// Computes the series in one read transaction: each period from the books as they
    /// stood at the end of its last day (or as they are, for a period still running),
    /// the group decided once, at the end of the range (or `now`), and used for every
    /// period.
    ///
    /// # Errors
    ///
    /// [`GroupError::UnknownSegment`], [`GroupError::TooManyPeriods`]; reading or
    /// measuring errors.
    pub fn load(
        crm: &Crm,
        range: Period,
        grain: Grain,
        config: &ReportConfig,
        group: Option<&CustomerGroup>,
        now: DateTime<Utc>,
    ) -> Result<Trend, GroupError> {
        let cut = slices(range, grain)?;
        let ask = Ask {
            range,
            grain,
            config,
            group,
            now,
        };
        crm.read(|r| {
            let run = || -> Result<Trend, GroupError> {
                // Every view of the series is at or before the end of the range: the
                // store's rows are read once, up to it, and each view takes its own.
                let bound = r.time_zone()?.end_of(range.last_day());
                let shared = SharedReads::new(r.tx(), bound);
                let (members, total) = as_of_day(&r, Some(&shared), range.last_day(), now, |v| {
                    let at = view_instant(v, range, now)?;
                    let members = group.map(|g| g.members(v, at)).transpose()?;
                    let total = group_dashboard(v, range, config, members.as_ref())?;
                    Ok::<_, GroupError>((members, total))
                })??;
                ask.series(&r, Some(&shared), cut, members, total)
            };
            Ok(run())
        })
        .map_err(GroupError::from)?
    }
}

/// What a series is asked for: the range, its grain, the report's settings, the group
/// and the instant of the asking.
struct Ask<'a> {
    range: Period,
    grain: Grain,
    config: &'a ReportConfig,
    group: Option<&'a CustomerGroup>,
    now: DateTime<Utc>,
}

impl Ask<'_> {
    /// The series over the reader's transaction, given the range's members (decided at
    /// its end) and its dashboard: each period's dashboard as the books stood at the
    /// end of its last day.
    fn series(
        &self,
        r: &Reader<'_>,
        shared: Option<&SharedReads<'_>>,
        cut: Vec<Slice>,
        members: Option<Members>,
        total: Dashboard,
    ) -> Result<Trend, GroupError> {
        let mut periods = Vec::with_capacity(cut.len());
        for s in cut {
            let dashboard = as_of_day(r, shared, s.period.last_day(), self.now, |v| {
                group_dashboard(v, s.period, self.config, members.as_ref())
            })??;
            periods.push(TrendPeriod {
                label: s.label,
                partial: s.partial,
                dashboard,
            });
        }
        Ok(Trend {
            by: self.grain,
            period: PeriodView {
                start: self.range.start(),
                end: self.range.end(),
            },
            group: self.group.cloned(),
            members: members.as_ref().map(Members::len),
            periods,
            total,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("day")
    }

    #[test]
    fn months_and_quarters_cover_the_range_once_and_mark_clipped_ends() {
        let range = Period::new(day(2024, 11, 20), day(2025, 3, 1)).expect("range");
        let months = slices(range, Grain::Month).expect("months");
        let got: Vec<(&str, NaiveDate, NaiveDate, bool)> = months
            .iter()
            .map(|s| {
                (
                    s.label.as_str(),
                    s.period.start(),
                    s.period.end(),
                    s.partial,
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("2024-11", day(2024, 11, 20), day(2024, 12, 1), true),
                ("2024-12", day(2024, 12, 1), day(2025, 1, 1), false),
                ("2025-01", day(2025, 1, 1), day(2025, 2, 1), false),
                ("2025-02", day(2025, 2, 1), day(2025, 3, 1), false),
            ]
        );
        let quarters = slices(range, Grain::Quarter).expect("quarters");
        let got: Vec<(&str, NaiveDate, NaiveDate, bool)> = quarters
            .iter()
            .map(|s| {
                (
                    s.label.as_str(),
                    s.period.start(),
                    s.period.end(),
                    s.partial,
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("2024-Q4", day(2024, 11, 20), day(2025, 1, 1), true),
                ("2025-Q1", day(2025, 1, 1), day(2025, 3, 1), true),
            ]
        );
        let days: i64 = months.iter().map(|s| s.period.days()).sum();
        assert_eq!(days, range.days());
    }

    #[test]
    fn a_series_longer_than_the_bound_is_refused_with_its_length() {
        let range = Period::new(day(2000, 1, 1), day(2011, 1, 1)).expect("range");
        match slices(range, Grain::Month) {
            Err(GroupError::TooManyPeriods { asked, max }) => {
                assert_eq!((asked, max), (132, MAX_PERIODS));
            }
            other => panic!("expected a refusal, got {other:?}"),
        }
        assert_eq!(slices(range, Grain::Quarter).expect("quarters").len(), 44);
    }
}
