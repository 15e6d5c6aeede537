//! Cohort retention: customers grouped by the month (or week) of their first purchase,
//! followed period by period — who came back, and what they spent.
//!
//! # Definition
//!
//! A customer's *cohort* is the period (calendar month, or ISO week starting on Monday,
//! both in the business-local calendar of the log's zone, [`PurchaseLog::zone`]) of
//! their first purchase. Row `c` of the matrix is one cohort; column `j`
//! is the `j`-th period after the cohort's own (`j = 0` is the acquisition period). For
//! each cell:
//!
//! - **customers**: the cohort's customers with at least one purchase in that period
//!   (column 0 is the cohort size, since every member bought then);
//! - **revenue**: the sum of the cohort's purchases in that period, gross (refunds are
//!   not in the purchase log).
//!
//! The retention of a cell is `customers / size`. Purchases after `as_of` are ignored;
//! the period holding `as_of` is usually still running, so its column is partial. Every
//! period from the first cohort to the one holding `as_of` has a row, also those in
//! which nobody was acquired (size 0), so the rows line up by calendar.
//!
//! # Bounded work
//!
//! The matrix covers at most [`MAX_COHORT_PERIODS`] periods, the last of them the one
//! holding `as_of` (100 years of months, 23 years of weeks). Customers acquired before
//! the first of them are in no row; they are counted in
//! [`CohortMatrix::acquired_earlier`]. Purchases outside the plausible calendar or
//! beyond the amount bound are skipped and counted in [`CohortMatrix::outliers`]
//! (see [`Outliers`]), so a typo such as a purchase dated `0205-03-01` neither fails
//! the matrix nor makes it allocate a row per month since year 205.
//!
//! *Source.* Fader, P. S. & Hardie, B. G. S., "How to project customer retention",
//! *Journal of Interactive Marketing* 21(1), 2007, for cohort-based retention; the
//! layout is the usual "cohort triangle" of analytics tools.
//!
//! # Speed
//!
//! When the log is sorted by time (as stores and the generator produce it) one pass
//! does everything: a customer's first row is their first purchase, a per-customer
//! "last period counted" marker deduplicates the customer counts, and since time only
//! moves forward the current period advances by comparing each timestamp with the
//! start of the next period (no date arithmetic per row). The period boundaries are
//! the first instants of local days in UTC seconds, computed once per period, so a
//! business time zone costs nothing per row. An unsorted log is first put in time
//! order through a sorted permutation (O(rows) extra memory, slower).
//!
//! The per-customer state is read at random, and with a million customers it does
//! not fit a core's cache; each update also waits for the period moved by the row
//! before it. So the pass goes in blocks of 64 rows: first it reads the block's
//! states alone, letting their cache misses overlap, then it updates them. At
//! 10 M purchases / 1 M customers that takes a third off the pass (see
//! `docs/performance.md`).

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use super::behaviour::log_currency;
use super::error::{MetricError, MetricResult};
use super::period::{date_of_day, epoch_day};
use super::ratio::{Ratio, money_from_minor};
use super::retention::check_log;
use super::screen::{Outliers, screen};
use crate::money::{Currency, Money};
use crate::names::named_enum;
use crate::purchase::PurchaseLog;

named_enum! {
    /// The length of a cohort period.
    pub enum CohortGrain as "cohort grain" {
        /// Calendar months (business-local).
        Month = "month",
        /// ISO weeks, Monday to Sunday (business-local).
        Week = "week",
    }
}

/// Rows whose customer states are read together before they are updated (see
/// [`cohort_matrix`]'s main loop): enough misses in flight to fill the core's queue,
/// few enough to stay within its reorder window.
const TOUCH_AHEAD: usize = 64;

/// The most periods (rows) a matrix spans, ending with the period holding `as_of`: 100
/// years of months. Its size grows with the square (720,600 cells at most).
pub const MAX_COHORT_PERIODS: usize = 1200;

/// One cohort: the customers acquired in one period, followed through the periods after.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CohortRow {
    /// The first day of the acquisition period.
    pub start: NaiveDate,
    /// Customers acquired in the period.
    pub size: u64,
    /// `customers[j]`: members who bought in the `j`-th period after acquisition.
    pub customers: Vec<u64>,
    /// `revenue[j]`: what the members spent in that period.
    pub revenue: Vec<Money>,
}

impl CohortRow {
    /// The share of the cohort that bought in the `j`-th period after acquisition, or
    /// `None` for an empty cohort or a period not yet reached.
    pub fn retention(&self, j: usize) -> Option<Ratio> {
        let c = *self.customers.get(j)?;
        Ratio::of(c, self.size, "cohort retention", "an empty cohort").ok()
    }
}

/// The cohort retention matrix (a triangle: later cohorts have fewer periods behind
/// them). Built by [`cohort_matrix`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CohortMatrix {
    /// Months or weeks.
    pub grain: CohortGrain,
    /// Purchases after this day are ignored.
    pub as_of: NaiveDate,
    /// The currency of the revenue.
    pub currency: Currency,
    /// One row per period, oldest first.
    pub rows: Vec<CohortRow>,
    /// Customers whose first purchase lies before the first row (more than
    /// [`MAX_COHORT_PERIODS`] periods before `as_of`); none of their purchases is in the
    /// matrix.
    #[serde(default)]
    pub acquired_earlier: u64,
    /// Purchases skipped because no metric can measure them.
    #[serde(default)]
    pub outliers: Outliers,
}

/// The period index of a day number: months since year 0, or weeks since the Monday
/// before 1970-01-01.
fn period_of_day(day: i64, grain: CohortGrain) -> MetricResult<i64> {
    match grain {
        CohortGrain::Week => Ok((day + 3).div_euclid(7)),
        CohortGrain::Month => {
            let d = date_of_day(day).ok_or(MetricError::DateOutOfRange { metric: "cohorts" })?;
            Ok(i64::from(d.year()) * 12 + i64::from(d.month0()))
        }
    }
}

fn period_start(index: i64, grain: CohortGrain) -> MetricResult<NaiveDate> {
    let out = MetricError::DateOutOfRange { metric: "cohorts" };
    match grain {
        CohortGrain::Week => date_of_day(index * 7 - 3).ok_or(out),
        CohortGrain::Month => {
            let year = i32::try_from(index.div_euclid(12)).map_err(|_| out.clone())?;
            let month = u32::try_from(index.rem_euclid(12) + 1).map_err(|_| out.clone())?;
            NaiveDate::from_ymd_opt(year, month, 1).ok_or(out)
        }
    }
}

/// The cohort retention matrix of the log as of `as_of`, by month or by week. See the
/// [module docs](self).
///
/// ```
/// use chrono::{NaiveDate, TimeZone, Utc};
/// use solocrm_core::{Currency, CustomerId, Money, PurchaseLog};
/// use solocrm_core::metrics::{cohort_matrix, CohortGrain};
/// let ts = |m, d| Utc.with_ymd_and_hms(2026, m, d, 12, 0, 0).unwrap().timestamp();
/// let mut log = PurchaseLog::with_customers(Currency::EUR, (1..=3).map(CustomerId::new).collect());
/// log.push(0, ts(1, 10), 1_000); // customer 1: January cohort
/// log.push(1, ts(1, 20), 2_000); // customer 2: January cohort
/// log.push(0, ts(2, 3), 500);    // customer 1 comes back in February
/// log.push(0, ts(2, 9), 700);    // and again: still one customer, 12 EUR
/// log.push(2, ts(2, 15), 3_000); // customer 3: February cohort
/// log.push(1, ts(3, 1), 900);    // customer 2 comes back in March
/// let m = cohort_matrix(&log, CohortGrain::Month, NaiveDate::from_ymd_opt(2026, 3, 31).unwrap())?;
/// let jan = &m.rows[0];
/// assert_eq!((jan.start.to_string(), jan.size), ("2026-01-01".to_string(), 2));
/// assert_eq!(jan.customers, vec![2, 1, 1]);
/// assert_eq!(jan.revenue[1], Money::from_minor(1_200, Currency::EUR));
/// assert_eq!(jan.retention(1).unwrap().to_string(), "50.00 %");
/// assert_eq!(m.rows[1].customers, vec![1, 0]);
/// assert_eq!(m.rows[2].size, 0); // nobody acquired in March
/// # Ok::<(), solocrm_core::metrics::MetricError>(())
/// ```
///
/// # Errors
///
/// [`MetricError::InvalidInput`] for a malformed log or one without a currency;
/// [`MetricError::Overflow`] if a cell's revenue does not fit a `Decimal` (impossible
/// for amounts under the storage bound). Never for one record: see the
/// [module docs](self).
pub fn cohort_matrix(
    log: &PurchaseLog,
    grain: CohortGrain,
    as_of: NaiveDate,
) -> MetricResult<CohortMatrix> {
    let metric = "cohorts";
    check_log(log, metric)?;
    let currency = log_currency(log, metric)?;
    let (log, outliers) = screen(log);
    let log = log.as_ref();
    let zone = log.zone;
    let days = zone.days();
    let as_of_day = epoch_day(as_of);
    // The first instant after `as_of` in the business's zone.
    let end_secs = days.start_of_day(as_of_day + 1);
    let at = &log.at;

    // Rows in time order: the log itself when sorted, else a sorted permutation.
    let sorted = at
        .iter()
        .zip(at.iter().skip(1))
        .fold(true, |ok, (a, b)| ok & (a <= b));
    let order: Option<Vec<u32>> = if sorted {
        None
    } else if u32::try_from(at.len()).is_err() {
        return Err(MetricError::InvalidInput {
            metric,
            what: "an unsorted purchase log",
            expected: "at most 2^32 rows (sort larger logs by time first)",
            value: at.len().to_string(),
        });
    } else {
        let mut idx: Vec<u32> = (0..at.len() as u32)
            .filter(|&i| at[i as usize] < end_secs)
            .collect();
        idx.sort_unstable_by_key(|&i| at[i as usize]);
        Some(idx)
    };
    let cut = match &order {
        None => at.partition_point(|&t| t < end_secs),
        Some(idx) => idx.len(),
    };
    let row_at = |k: usize| -> usize {
        match &order {
            None => k,
            Some(idx) => idx[k] as usize,
        }
    };
    if cut == 0 {
        return Ok(CohortMatrix {
            grain,
            as_of,
            currency,
            rows: Vec::new(),
            acquired_earlier: 0,
            outliers,
        });
    }
    let min_day = days.day(at[row_at(0)]);
    let last_period = period_of_day(as_of_day, grain)?;
    // At most MAX_COHORT_PERIODS rows, the last holding `as_of`.
    let window_first = last_period - (MAX_COHORT_PERIODS as i64 - 1);
    let first_period = period_of_day(min_day, grain)?.max(window_first);
    // 1 ≤ periods ≤ MAX_COHORT_PERIODS: the first row is at or before `as_of`.
    let periods = usize::try_from(last_period - first_period + 1)
        .unwrap_or(1)
        .clamp(1, MAX_COHORT_PERIODS);
    // The first second of the first row; earlier purchases belong to customers
    // acquired before the matrix.
    let window_start = zone
        .start_of(period_start(first_period, grain)?)
        .timestamp();
    // Rows come in time order, so the period only ever moves forward: compare each
    // timestamp with the start of the next period instead of dividing it into days.
    // bounds[p] is the first second of period p + 1 (i64::MAX past the calendar's end),
    // the first instant of its first local day.
    let mut bounds = Vec::with_capacity(periods + 1);
    for p in 1..=periods {
        let start = period_start(first_period + p as i64, grain);
        bounds.push(start.map_or(i64::MAX, |d| zone.start_of(d).timestamp()));
    }
    bounds.push(i64::MAX);
    // Row c of the triangle starts at base[c] and has `periods − c` cells.
    let mut base = Vec::with_capacity(periods + 1);
    let mut cells = 0usize;
    for c in 0..periods {
        base.push(cells);
        cells += periods - c;
    }
    let mut customers = vec![0u64; cells];
    let mut revenue = vec![0i128; cells];
    let mut size = vec![0u64; periods];
    // Per customer: [cohort, last period counted], as u16 (periods ≤ 1200) so that a
    // million customers take 4 MB and mostly stay in cache. EARLIER marks a customer
    // acquired before the first row.
    const NONE: u16 = u16::MAX;
    const EARLIER: u16 = u16::MAX - 1;
    let mut state = vec![[NONE, NONE]; log.customers.len()];
    let mut acquired_earlier = 0u64;
    let (mut p, mut next) = (0u16, bounds[0]);
    let customer = &log.customer;
    // The customers' states are read at random: a million of them (4 MB) miss the
    // core's cache on most rows. Each block's states are first read together, so that
    // their misses overlap instead of each waiting for the update before it.
    let mut touched = 0u16;
    let mut start = 0;
    while start < cut {
        let end = (start + TOUCH_AHEAD).min(cut);
        for k in start..end {
            touched ^= state[customer[row_at(k)] as usize][1];
        }
        for k in (start..end).map(row_at) {
            let t = at[k];
            let st = &mut state[customer[k] as usize];
            if t < window_start {
                if st[0] == NONE {
                    st[0] = EARLIER;
                    acquired_earlier += 1;
                }
                continue;
            }
            if st[0] == EARLIER {
                continue;
            }
            while t >= next {
                p += 1;
                next = bounds[p as usize];
            }
            if st[0] == NONE {
                st[0] = p;
                size[p as usize] += 1;
            }
            let cell = base[st[0] as usize] + (p - st[0]) as usize;
            revenue[cell] += i128::from(log.amount[k]);
            if st[1] != p {
                customers[cell] += 1;
                st[1] = p;
            }
        }
        start = end;
    }
    // The reads above only warm the cache; keep them from being optimised away.
    std::hint::black_box(touched);
    let mut rows = Vec::with_capacity(periods);
    for c in 0..periods {
        let len = periods - c;
        let cells = base[c]..base[c] + len;
        rows.push(CohortRow {
            start: period_start(first_period + c as i64, grain)?,
            size: size[c],
            customers: customers[cells.clone()].to_vec(),
            revenue: revenue[cells]
                .iter()
                .map(|&r| money_from_minor(r, currency, metric))
                .collect::<MetricResult<_>>()?,
        });
    }
    Ok(CohortMatrix {
        grain,
        as_of,
        currency,
        rows,
        acquired_earlier,
        outliers,
    })
}
