//! The RFM table a frontend shows, read from what the store keeps per customer.
//!
//! [`rfm_table`] computes RFM from every buyer's purchase summary up to the day (count,
//! exact sum, last instant: what the SQLite store keeps in `purchase_totals`, ADR 0046)
//! instead of the whole purchase log, and reads the log only when a summary may hold a
//! record RFM screens out (see [`rfm_of_summaries`]). The customers, values, scores
//! and segments are the same either way (ADR 0057); of the outlier counts, which no
//! frontend shows, the summaries cannot see outliers dated after the day.

use chrono::{NaiveDate, TimeDelta};
use solocrm_core::metrics::{MetricResult, RfmTable, TieRule, rfm, rfm_of_summaries};
use solocrm_core::{Reader, StoreResult};

use crate::groups::{Members, only_members_log};

/// The RFM table of the books `r` reads as of the business-local `day` (as
/// [`rfm()`] over [`Reader::purchase_log`] gives it): of the group's `members` only,
/// ranked among themselves, when given.
///
/// # Errors
///
/// The backend's (outer); the metric's (inner).
pub fn rfm_table(
    r: &Reader<'_>,
    day: NaiveDate,
    tie_rule: TieRule,
    members: Option<&Members>,
) -> StoreResult<MetricResult<RfmTable>> {
    let zone = r.time_zone()?;
    // The last instant of `day`: the summaries count purchases at or before it.
    let end = zone.end_of(day);
    let last = end
        .checked_sub_signed(TimeDelta::nanoseconds(1))
        .unwrap_or(end);
    let mut summaries = r.purchase_summaries(last)?;
    if let Some(m) = members {
        summaries.retain(|(id, _)| m.contains(*id));
    }
    match rfm_of_summaries(&summaries, r.currency(), zone, day, tie_rule) {
        Ok(Some(table)) => return Ok(Ok(table)),
        Ok(None) => {}
        Err(e) => return Ok(Err(e)),
    }
    // A summary may hold a record RFM screens out: the log tells.
    drop(summaries);
    let log = r.purchase_log()?;
    let log = match members {
        Some(m) => only_members_log(&log, m),
        None => log,
    };
    Ok(rfm(&log, day, tie_rule))
}
