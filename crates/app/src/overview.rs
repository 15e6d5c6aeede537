//! What the web workspace shows beyond the command line's views: the dashboard with the
//! series its charts need (revenue by month, the open pipeline by stage, the care list
//! of the next days), read in one snapshot, and the rows of a customer list with each
//! customer's last purchase and spend.

use chrono::{DateTime, Datelike as _, NaiveDate, Utc};
use serde::Serialize;
use solocrm_core::care::CareConfig;
use solocrm_core::metrics::MetricsReport;
use solocrm_core::{
    Crm, Customer, CustomerId, EventSeq, Money, Period, PurchaseLog, Reader, ReportConfig,
    ReportData, ReportError, StoreResult,
};

use crate::views::{CareList, Dashboard, PipelineBoard};

/// The revenue, orders and satisfaction of one calendar month (in the books' time
/// zone): the series of the dashboard's charts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MonthFigures {
    /// The first day of the month.
    pub month: NaiveDate,
    /// The revenue of the month's purchases (before refunds).
    pub revenue: Money,
    /// How many purchases.
    pub orders: u64,
    /// CSAT of the month's answers in percent, to two decimals shown (as the report's
    /// CSAT of a period); `None` without a CSAT answer.
    pub csat: Option<rust_decimal::Decimal>,
    /// NPS of the month's answers, to two decimals shown; `None` without an NPS answer.
    pub nps: Option<rust_decimal::Decimal>,
}

/// The dashboard of a period with everything its charts need, from one snapshot.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Overview {
    /// The dashboard (metrics report, customers by stage).
    pub dashboard: Dashboard,
    /// Revenue and orders of every month the period touches, oldest first (months
    /// without purchases included, with zeros).
    pub revenue_by_month: Vec<MonthFigures>,
    /// The open pipeline by stage, as of the end of the period.
    pub board: PipelineBoard,
    /// The care reminders of the days after the period's last day.
    pub care: CareList,
}

impl Overview {
    /// Reads the period's data, the open deals and the care list in the reader's one
    /// snapshot. `as_of` is the instant the board and the care list are as of
    /// (normally the end of the period, or now if that is earlier).
    ///
    /// # Errors
    ///
    /// [`ReportError`] if reading fails or the data cannot be measured at all.
    pub fn load(
        reader: &Reader<'_>,
        period: Period,
        config: &ReportConfig,
        as_of: DateTime<Utc>,
        care_days: u32,
        care: &CareConfig,
    ) -> Result<Overview, ReportError> {
        let (dashboard, revenue_by_month) = dashboard_with_months(reader, period, config)?;
        let board = PipelineBoard::load(reader, as_of, &config.stage_probabilities)?;
        let care = CareList::load(reader, as_of, care_days, care)?;
        Ok(Overview {
            dashboard,
            revenue_by_month,
            board,
            care,
        })
    }
}

/// The dashboard of `period` and its revenue by month, from the reader's snapshot: the
/// part of an [`Overview`] that reads every record (and that a frontend may keep while
/// the outbox shows no new event, see [`newest_event`]).
///
/// # Errors
///
/// [`ReportError`] if reading fails or the data cannot be measured at all.
pub fn dashboard_with_months(
    reader: &Reader<'_>,
    period: Period,
    config: &ReportConfig,
) -> Result<(Dashboard, Vec<MonthFigures>), ReportError> {
    dashboard_of_data(&reader.report_data(period)?, period, config)
}

/// The dashboard of `period` and its figures by month (revenue, orders, CSAT, NPS),
/// computed from `data` read for that period: the one computation behind every
/// dashboard a frontend shows.
///
/// # Errors
///
/// [`ReportError`] if the data cannot be measured at all.
pub fn dashboard_of_data(
    data: &ReportData,
    period: Period,
    config: &ReportConfig,
) -> Result<(Dashboard, Vec<MonthFigures>), ReportError> {
    let mut months = revenue_by_month(&data.log, period);
    satisfaction_by_month(
        &mut months,
        &data.surveys,
        &data.log,
        period,
        config.csat_satisfied_from,
    );
    let report = MetricsReport::compute(data, period, config)?;
    Ok((Dashboard::new(period, &data.customers, report), months))
}

/// [`dashboard_with_months`] in a snapshot of its own, read on two threads (the
/// purchases beside the rest, [`Crm::read_beside`]), with the position of that
/// snapshot's newest event ([`newest_event`]): what a frontend keeping the dashboard
/// computes when its kept one is out of date.
///
/// # Errors
///
/// [`ReportError`] if reading fails or the data cannot be measured at all.
pub fn dashboard_with_months_apart(
    crm: &Crm,
    period: Period,
    config: &ReportConfig,
) -> Result<(EventSeq, Dashboard, Vec<MonthFigures>), ReportError> {
    let ((seq, records), purchases) = crm.read_beside(
        |r| Ok((newest_event(&r, 0)?, r.report_records(period)?)),
        |r| r.report_purchases(period),
    )?;
    let (dashboard, months) =
        dashboard_of_data(&records.with_purchases(purchases), period, config)?;
    Ok((seq, dashboard, months))
}

/// The position of the newest event of the outbox in the reader's snapshot (0 if there
/// is none), searched from `known`, a position seen before (or 0), in O(log n)
/// look-ups: a view computed in the same snapshot is still current while
/// `reader.events(newest, 1)` comes back empty.
///
/// # Errors
///
/// The backend's.
pub fn newest_event(reader: &Reader<'_>, known: EventSeq) -> StoreResult<EventSeq> {
    let after = |x: EventSeq| -> StoreResult<Option<EventSeq>> {
        Ok(reader.events(x, 1)?.first().map(|e| e.seq))
    };
    let Some(mut low) = after(known)? else {
        return Ok(known);
    };
    // `low` exists; gallop to a `high` with nothing after it.
    let mut step: u64 = 1;
    let mut high = loop {
        let probe = low.saturating_add(step);
        match after(probe)? {
            Some(seq) => {
                low = seq;
                step = step.saturating_mul(2);
            }
            None => break probe,
        }
    };
    // The newest is in [low, high]: `low` exists, nothing is after `high`.
    while low < high {
        let mid = low + (high - low) / 2;
        match after(mid)? {
            Some(seq) => low = seq,
            None => high = mid,
        }
    }
    Ok(low)
}

/// The revenue and orders of each month `period` touches, from the purchase log (its
/// days counted in the log's zone); purchases outside the period are left out.
pub fn revenue_by_month(log: &PurchaseLog, period: Period) -> Vec<MonthFigures> {
    let currency = log.currency.unwrap_or(solocrm_core::Currency::EUR);
    let first = first_of_month(period.start());
    let mut months = Vec::new();
    let mut m = first;
    while m < period.end() {
        months.push(m);
        let Some(next) = m.checked_add_months(chrono::Months::new(1)) else {
            break;
        };
        m = next;
    }
    let mut sums = vec![(0_i128, 0_u64); months.len()];
    let (from, to) = (
        period.start_instant().timestamp(),
        period.end_instant().timestamp(),
    );
    let days = log.zone.days();
    for (&at, &amount) in log.at.iter().zip(&log.amount) {
        if at < from || at >= to {
            continue;
        }
        let Some(day) = days.date(at) else { continue };
        let index = (day.year() - first.year()) * 12 + day.month0() as i32 - first.month0() as i32;
        if let Some(slot) = usize::try_from(index).ok().and_then(|i| sums.get_mut(i)) {
            slot.0 += i128::from(amount);
            slot.1 += 1;
        }
    }
    months
        .into_iter()
        .zip(sums)
        .map(|(month, (minor, orders))| MonthFigures {
            month,
            revenue: Money::from_minor(i64::try_from(minor).unwrap_or(i64::MAX), currency),
            orders,
            csat: None,
            nps: None,
        })
        .collect()
}

/// Fills in the CSAT and NPS of each month of `months` (as [`revenue_by_month`] made
/// them for `period`) from the survey answers dated in it, each day counted in the
/// log's zone: [`csat`](solocrm_core::metrics::csat) with `satisfied_from` and
/// [`nps`](solocrm_core::metrics::nps) of the month's answers, as the report computes
/// them for its period. Answers outside `period` are left out, as purchases are.
pub fn satisfaction_by_month(
    months: &mut [MonthFigures],
    surveys: &[solocrm_core::SurveyResponse],
    log: &PurchaseLog,
    period: Period,
    satisfied_from: u8,
) {
    let Some(first) = months.first().map(|m| m.month) else {
        return;
    };
    let days = log.zone.days();
    let mut by_month: Vec<Vec<solocrm_core::SurveyResponse>> = vec![Vec::new(); months.len()];
    for s in surveys.iter().filter(|s| period.contains_instant(s.at())) {
        let Some(day) = days.date(s.at().timestamp()) else {
            continue;
        };
        let index = (day.year() - first.year()) * 12 + day.month0() as i32 - first.month0() as i32;
        if let Some(bucket) = usize::try_from(index)
            .ok()
            .and_then(|i| by_month.get_mut(i))
        {
            bucket.push(s.clone());
        }
    }
    // Two decimals shown, as the report's figures are (44.00, not 44).
    let two = |mut d: rust_decimal::Decimal| {
        d.rescale(2);
        d
    };
    for (m, answers) in months.iter_mut().zip(&by_month) {
        m.csat = solocrm_core::metrics::csat(answers, satisfied_from)
            .ok()
            .map(|c| two(c.share.percent_rounded(2)));
        m.nps = solocrm_core::metrics::nps(answers)
            .ok()
            .map(|n| two(n.score.round_dp(2)));
    }
}

fn first_of_month(day: NaiveDate) -> NaiveDate {
    day.with_day(1).unwrap_or(day)
}

/// One row of a customer list: the customer, their last purchase day and what they
/// spent in all (before refunds), as of an instant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CustomerRow {
    /// The customer.
    pub customer: Customer,
    /// The day of their last purchase, in the books' time zone.
    pub last_purchase: Option<NaiveDate>,
    /// What they spent in all.
    pub spent: Money,
}

/// The rows of `customers`, each with its purchase summary as of `as_of`, read in the
/// reader's snapshot (one summary per customer: meant for a page of a list).
///
/// # Errors
///
/// The backend's.
pub fn customer_rows(
    reader: &Reader<'_>,
    customers: Vec<Customer>,
    as_of: DateTime<Utc>,
) -> StoreResult<Vec<CustomerRow>> {
    let zone = reader.time_zone()?;
    customers
        .into_iter()
        .map(|customer| {
            let id: CustomerId = customer.id();
            let s = reader.tx().purchase_summary(id, as_of)?;
            Ok(CustomerRow {
                last_purchase: s.last_at.map(|at| zone.date_of(at)),
                spent: s.total,
                customer,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use solocrm_core::{BusinessZone, Currency};

    fn at(s: &str) -> i64 {
        DateTime::parse_from_rfc3339(s)
            .map(|d| d.timestamp())
            .unwrap_or_default()
    }

    #[test]
    fn months_sum_their_purchases_in_the_books_zone_and_keep_empty_months() {
        let zone = BusinessZone::parse("Asia/Shanghai").expect("zone");
        let mut log =
            PurchaseLog::with_customers(Currency::CNY, vec![CustomerId::new(1)]).in_zone(zone);
        // 2026-01-31 20:00 UTC is 1 February in Shanghai.
        for (t, minor) in [
            ("2026-01-10T00:00:00Z", 1000),
            ("2026-01-31T20:00:00Z", 250),
            ("2026-03-05T00:00:00Z", 70),
            ("2025-12-31T00:00:00Z", 9999),
        ] {
            log.customer.push(0);
            log.at.push(at(t));
            log.amount.push(minor);
        }
        let period = Period::new(
            NaiveDate::from_ymd_opt(2026, 1, 1).expect("day"),
            NaiveDate::from_ymd_opt(2026, 4, 1).expect("day"),
        )
        .expect("period")
        .in_zone(zone);
        let months = revenue_by_month(&log, period);
        let got: Vec<(u32, String, u64)> = months
            .iter()
            .map(|m| (m.month.month(), m.revenue.amount().to_string(), m.orders))
            .collect();
        assert_eq!(
            got,
            vec![
                (1, "10.00".to_owned(), 1),
                (2, "2.50".to_owned(), 1),
                (3, "0.70".to_owned(), 1)
            ]
        );
    }

    #[test]
    fn the_newest_event_is_found_from_any_known_position() {
        use crate::{Books, Location, OpenOptions};
        use solocrm_core::{CustomerData, NewCustomer, PersonName, Store as _};
        let books = Books::create(&Location::Memory, Currency::EUR, &OpenOptions::default())
            .expect("books");
        let newest = |known| books.read(|r| newest_event(&r, known)).expect("read");
        assert_eq!(newest(0), 0);
        let at = DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
            .expect("instant")
            .with_timezone(&Utc);
        for n in 1..=37 {
            let name = PersonName::parse(&format!("C{n}")).expect("name");
            books
                .create_customer(NewCustomer::new(CustomerData::new(name), at))
                .expect("customer");
            let all = books.read(|r| r.events(0, 10_000)).expect("events");
            let last = all.last().map(|e| e.seq).expect("an event");
            for known in [0, 1, last / 2, last.saturating_sub(1), last] {
                assert_eq!(newest(known.min(last)), last, "from {known} with {n}");
            }
        }
    }
}
