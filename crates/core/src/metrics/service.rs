//! Service: first-response and resolution times (median and 90th percentile) and open
//! complaints.
//!
//! Requests are read as they stood at the end of the period: a response or resolution
//! recorded later does not count, and neither does a reopening.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::error::{Measured, MetricError, MetricResult};
use super::period::{Period, seconds};
use super::ratio::exact_div;
use crate::service::{RequestEventKind, RequestKind, ServiceRequest};

/// The median and 90th percentile of a set of durations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DurationStats {
    /// How many durations.
    pub count: u64,
    /// The median in seconds: the middle value, or the mean of the two middle values
    /// (hence possibly half a second).
    pub median_seconds: Decimal,
    /// The 90th percentile in seconds, nearest-rank: the smallest value with at least
    /// 90 % of the values at or below it (always an observed value).
    pub p90_seconds: i64,
}

impl DurationStats {
    /// The median in hours.
    pub fn median_hours(&self) -> Decimal {
        (self.median_seconds / Decimal::from(3600)).normalize()
    }
    /// The 90th percentile in hours.
    pub fn p90_hours(&self) -> Decimal {
        (Decimal::from(self.p90_seconds) / Decimal::from(3600)).normalize()
    }
}

/// Median and nearest-rank 90th percentile of durations in seconds (sorts `values`).
///
/// *Definition.* Median: the middle of the sorted values, or the mean of the two middle
/// ones for an even count. 90th percentile: nearest-rank, the value at rank ⌈0.9 n⌉ of
/// the sorted values, so it is always a time that really occurred.
///
/// *Source.* Hyndman, R. J. & Fan, Y., "Sample quantiles in statistical packages", *The
/// American Statistician* 50(4), 1996 (definition 1 for the nearest rank; the median is
/// their definition 2 at p = ½).
///
/// ```
/// use rust_decimal::Decimal;
/// use solocrm_core::metrics::duration_stats;
/// let mut hours: Vec<i64> = [1, 2, 2, 3, 4, 5, 6, 8, 24, 48].iter().map(|h| h * 3600).collect();
/// let s = duration_stats(&mut hours, "first response time")?;
/// assert_eq!(s.median_hours(), Decimal::new(45, 1)); // (4 + 5) / 2
/// assert_eq!(s.p90_hours(), Decimal::from(24));       // rank ⌈0.9 × 10⌉ = 9
/// assert!(duration_stats(&mut [], "first response time").is_err());
/// # Ok::<(), solocrm_core::metrics::MetricError>(())
/// ```
///
/// # Errors
///
/// [`MetricError::EmptyPopulation`] for no values.
pub fn duration_stats(values: &mut [i64], metric: &'static str) -> MetricResult<DurationStats> {
    let n = values.len();
    if n == 0 {
        return Err(MetricError::EmptyPopulation {
            metric,
            population: "no requests with that step in the period",
        });
    }
    values.sort_unstable();
    let median = if n % 2 == 1 {
        Decimal::from(values[n / 2])
    } else {
        exact_div(
            i128::from(values[n / 2 - 1]) + i128::from(values[n / 2]),
            2,
            metric,
        )?
    };
    // ⌈0.9 n⌉ = ⌈9n / 10⌉, a rank from 1 to n.
    let rank = (9 * n).div_ceil(10).max(1);
    Ok(DurationStats {
        count: n as u64,
        median_seconds: median,
        p90_seconds: values[rank - 1],
    })
}

/// What a request looked like at an instant.
struct StateAt {
    first_response: Option<DateTime<Utc>>,
    resolved: Option<DateTime<Utc>>,
}

fn state_at(r: &ServiceRequest, t: DateTime<Utc>) -> Option<StateAt> {
    if r.opened_at() >= t {
        return None;
    }
    let mut s = StateAt {
        first_response: None,
        resolved: None,
    };
    for e in r.events().iter().take_while(|e| e.at < t) {
        match e.kind {
            RequestEventKind::Responded => {
                s.first_response.get_or_insert(e.at);
            }
            RequestEventKind::Resolved => {
                s.first_response.get_or_insert(e.at);
                s.resolved = Some(e.at);
            }
            RequestEventKind::Reopened => s.resolved = None,
            RequestEventKind::Opened => {}
        }
    }
    Some(s)
}

/// Service metrics of a period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceMetrics {
    /// Requests opened in the period.
    pub opened: u64,
    /// Time from opening to the first response, over the period's requests that had one
    /// by the end of the period. (Resolving without a response counts as the first
    /// response, as in [`ServiceRequest`].)
    pub first_response: Measured<DurationStats>,
    /// Time from opening to the final resolution, over the period's requests resolved
    /// (and not reopened) by the end of the period.
    pub resolution: Measured<DurationStats>,
    /// The period's requests still without a response at its end: the times above do
    /// not see them, so read the two together.
    pub awaiting_response: u64,
    /// All requests (opened any time) not resolved at the end of the period.
    pub open_requests: u64,
    /// Of those, complaints.
    pub open_complaints: u64,
}

/// First-response and resolution times of the requests opened in `period`, and the
/// requests and complaints open at its end.
///
/// ```
/// use rust_decimal::Decimal;
/// use solocrm_core::metrics::{service_metrics, Period};
/// # use chrono::{TimeZone, Utc};
/// # use solocrm_core::{CustomerId, FreeText, Label, NewServiceRequest, RequestEventKind, RequestId, RequestKind, ServiceRequest};
/// # let at = |d, h| Utc.with_ymd_and_hms(2026, 3, d, h, 0, 0).unwrap();
/// # let req = |id, kind, steps: &[(RequestEventKind, u32)]| {
/// #     let mut r = ServiceRequest::open(RequestId::new(id), NewServiceRequest {
/// #         customer: CustomerId::new(1), kind, subject: Label::parse("x").unwrap(),
/// #         description: FreeText::empty(), opened_at: at(2, 8), deal: None });
/// #     for (k, h) in steps { r.apply(*k, at(2, *h)).unwrap(); }
/// #     r
/// # };
/// use RequestEventKind::{Responded, Resolved};
/// let requests = [
///     req(1, RequestKind::Question, &[(Responded, 9), (Resolved, 12)]),   // 1 h, 4 h
///     req(2, RequestKind::Complaint, &[(Responded, 11)]),                 // 3 h, still open
///     req(3, RequestKind::Complaint, &[]),                                // no response yet
/// ];
/// let s = service_metrics(&requests, Period::month(2026, 3)?);
/// assert_eq!(s.first_response.value().map(|d| d.median_hours()), Some(Decimal::TWO));
/// assert_eq!(s.resolution.value().map(|d| d.p90_hours()), Some(Decimal::from(4)));
/// assert_eq!((s.awaiting_response, s.open_requests, s.open_complaints), (1, 2, 2));
/// # Ok::<(), solocrm_core::metrics::MetricError>(())
/// ```
pub fn service_metrics(requests: &[ServiceRequest], period: Period) -> ServiceMetrics {
    let end = period.end_instant();
    let (mut first, mut resolution) = (Vec::new(), Vec::new());
    let (mut opened, mut awaiting, mut open, mut complaints) = (0u64, 0u64, 0u64, 0u64);
    for r in requests {
        let Some(s) = state_at(r, end) else { continue };
        if s.resolved.is_none() {
            open += 1;
            complaints += u64::from(r.kind() == RequestKind::Complaint);
        }
        if !period.contains_instant(r.opened_at()) {
            continue;
        }
        opened += 1;
        match s.first_response {
            Some(t) => first.push(seconds(t - r.opened_at())),
            None => awaiting += 1,
        }
        if let Some(t) = s.resolved {
            resolution.push(seconds(t - r.opened_at()));
        }
    }
    ServiceMetrics {
        opened,
        first_response: duration_stats(&mut first, "first response time").into(),
        resolution: duration_stats(&mut resolution, "resolution time").into(),
        awaiting_response: awaiting,
        open_requests: open,
        open_complaints: complaints,
    }
}
