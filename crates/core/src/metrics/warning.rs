//! Churn early warning: customers ranked by a risk score, each with the reasons behind
//! it, consistent with the [`LifecyclePolicy`].
//!
//! # The score
//!
//! Points from five kinds of evidence, added and capped at 100 (weights in
//! [`WarningConfig`], defaults below):
//!
//! | Reason | Default points | When |
//! |---|---|---|
//! | [`RiskReason::Overdue`] | 50, plus up to 20 | silent for longer than the policy's overdue threshold — exactly when the policy says `AtRisk`; the extra points grow linearly with the way from the threshold to the churn horizon |
//! | [`RiskReason::Approaching`] | 15 | silent for at least 75 % of the overdue threshold, not yet over it |
//! | [`RiskReason::Nps`] | 15 | the latest NPS answer is a detractor's (0–6) or lower than the one before |
//! | [`RiskReason::Csat`] | 15 | the latest CSAT answer is below the policy's satisfied threshold or lower than the one before |
//! | [`RiskReason::OpenComplaints`] | 10 each, at most 20 | complaints not resolved at `as_of` |
//! | [`RiskReason::LongSilence`] | 10 | no contact at all (purchase or interaction) for 90 days or more |
//!
//! The overdue threshold, the rhythm (median gap between purchase days), the churn
//! horizon and the satisfied threshold are the policy's own, computed by
//! [`LifecyclePolicy::assess`], so the warning list and the lifecycle never disagree:
//! every customer the policy would move to `AtRisk` is listed with the `Overdue` reason,
//! and customers who are churned — by the policy's verdict or by their current stage —
//! are not listed (they are lost, not at risk; winning them back is another list).
//! Customers who never bought and erased customers are not listed either.
//!
//! The list is sorted by score, highest first, then by customer id. Only customers with
//! at least one reason appear.
//!
//! Days — purchase days, silence, the age of a complaint, the last contact — are
//! business-local days in the zone of the purchase log ([`PurchaseLog::zone`]), and
//! `as_of` ends at the first instant of the next local day; interactions, answers and
//! complaints are counted in the same zone.
//!
//! *Source.* The reasons follow the churn predictors of the retention literature:
//! recency relative to a customer's own inter-purchase time (Schmittlein, D. C.,
//! Morrison, D. G. & Colombo, R., "Counting your customers", *Management Science* 33(1),
//! 1987), declining satisfaction and complaints (Keaveney, S. M., "Customer switching
//! behavior in service industries", *Journal of Marketing* 59(2), 1995). The weights are
//! solocrm's, chosen so that being overdue alone puts a customer above every
//! combination of softer signals; they are configuration, not science.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::error::{MetricError, MetricResult};
use super::period::{DayTable, date_of_day};
use super::retention::check_log;
use crate::customer::Customer;
use crate::ids::{CustomerId, SurveyId};
use crate::interaction::Interaction;
use crate::lifecycle::{LifecycleStage, PolicyRule};
use crate::policy::{Behaviour, LifecyclePolicy};
use crate::purchase::PurchaseLog;
use crate::service::{RequestEventKind, RequestKind, ServiceRequest};
use crate::survey::{SurveyKind, SurveyResponse};

/// The weights of the risk score.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WarningConfig {
    /// Points for being overdue. Default 50.
    pub overdue_points: u32,
    /// Extra points, reached at the churn horizon. Default 20.
    pub overdue_extra_points: u32,
    /// The share of the overdue threshold, in percent, from which a customer is
    /// approaching it. Default 75.
    pub approaching_percent: u32,
    /// Points for approaching. Default 15.
    pub approaching_points: u32,
    /// Points for a detractor's or falling NPS answer. Default 15.
    pub nps_points: u32,
    /// Points for an unsatisfied or falling CSAT answer. Default 15.
    pub csat_points: u32,
    /// Points per open complaint. Default 10.
    pub complaint_points: u32,
    /// The most points open complaints can add. Default 20.
    pub complaint_points_max: u32,
    /// Days without any contact that count as a long silence. Default 90, like the care
    /// reminders' `no_contact_days`.
    pub silence_days: u32,
    /// Points for a long silence. Default 10.
    pub silence_points: u32,
}

impl Default for WarningConfig {
    fn default() -> Self {
        WarningConfig {
            overdue_points: 50,
            overdue_extra_points: 20,
            approaching_percent: 75,
            approaching_points: 15,
            nps_points: 15,
            csat_points: 15,
            complaint_points: 10,
            complaint_points_max: 20,
            silence_days: 90,
            silence_points: 10,
        }
    }
}

/// One piece of evidence that a customer may leave.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RiskReason {
    /// Silent for longer than their own rhythm allows: the policy says `AtRisk`.
    Overdue {
        /// Days since the last purchase.
        days_since_last_purchase: i64,
        /// The policy's overdue threshold for this customer.
        overdue_after_days: i64,
        /// Their median gap between purchase days, if they bought on two or more days.
        median_gap_days: Option<i64>,
    },
    /// Close to the overdue threshold.
    Approaching {
        /// Days since the last purchase.
        days_since_last_purchase: i64,
        /// The policy's overdue threshold for this customer.
        overdue_after_days: i64,
    },
    /// The latest NPS answer is a detractor's or lower than the previous one.
    Nps {
        /// The answer before the latest, if any.
        previous: Option<u8>,
        /// The latest answer.
        latest: u8,
    },
    /// The latest CSAT answer is below the satisfied threshold or lower than the
    /// previous one.
    Csat {
        /// The answer before the latest, if any.
        previous: Option<u8>,
        /// The latest answer.
        latest: u8,
    },
    /// Complaints not resolved at `as_of`.
    OpenComplaints {
        /// How many.
        count: u64,
        /// Days since the oldest was opened.
        oldest_days: i64,
    },
    /// No purchase and no interaction for a long time.
    LongSilence {
        /// Days since the last contact of any kind.
        days_since_contact: i64,
    },
}

impl RiskReason {
    /// A line a person can read, e.g. `overdue: 95 days since the last purchase,
    /// threshold 60 (median gap 30 days)`.
    pub fn describe(&self) -> String {
        match self {
            RiskReason::Overdue {
                days_since_last_purchase: d,
                overdue_after_days: t,
                median_gap_days: Some(g),
            } => format!(
                "overdue: {} since the last purchase, threshold {t} (median gap {})",
                crate::names::count(*d, "day", "days"),
                crate::names::count(*g, "day", "days")
            ),
            RiskReason::Overdue {
                days_since_last_purchase: d,
                overdue_after_days: t,
                median_gap_days: None,
            } => format!(
                "overdue: {} since the only purchase day, threshold {t}",
                crate::names::count(*d, "day", "days")
            ),
            RiskReason::Approaching {
                days_since_last_purchase: d,
                overdue_after_days: t,
            } => format!(
                "approaching: {} since the last purchase, threshold {t}",
                crate::names::count(*d, "day", "days")
            ),
            RiskReason::Nps {
                previous: Some(p),
                latest: l,
            } => format!("nps {l}, down from {p}"),
            RiskReason::Nps {
                previous: None,
                latest: l,
            } => format!("nps {l}: a detractor"),
            RiskReason::Csat {
                previous: Some(p),
                latest: l,
            } => format!("csat {l}, down from {p}"),
            RiskReason::Csat {
                previous: None,
                latest: l,
            } => format!("csat {l}: unsatisfied"),
            RiskReason::OpenComplaints { count, oldest_days } => {
                format!(
                    "{} open, the oldest {} old",
                    crate::names::count(*count, "complaint", "complaints"),
                    crate::names::count(*oldest_days, "day", "days")
                )
            }
            RiskReason::LongSilence { days_since_contact } => {
                format!(
                    "no contact for {}",
                    crate::names::count(*days_since_contact, "day", "days")
                )
            }
        }
    }
}

/// A reason and the points it adds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RiskFactor {
    /// The evidence.
    pub reason: RiskReason,
    /// Its points.
    pub points: u32,
}

/// One customer on the early-warning list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChurnWarning {
    /// The customer.
    pub customer: CustomerId,
    /// Their current lifecycle stage.
    pub stage: LifecycleStage,
    /// The stage the policy points to on `as_of`.
    pub policy_target: LifecycleStage,
    /// 1 to 100; higher is riskier.
    pub score: u32,
    /// The evidence, strongest first.
    pub factors: Vec<RiskFactor>,
}

/// Everything the warnings (and the report) read about customers, borrowed.
#[derive(Debug, Clone, Copy)]
pub struct Activity<'a> {
    /// The customers (erased ones are skipped).
    pub customers: &'a [Customer],
    /// Their purchases.
    pub log: &'a PurchaseLog,
    /// Survey answers (those after `as_of` are ignored).
    pub surveys: &'a [SurveyResponse],
    /// Service requests.
    pub requests: &'a [ServiceRequest],
    /// Interactions (those after `as_of` are ignored).
    pub interactions: &'a [Interaction],
}

#[derive(Default)]
struct Answers {
    // (time, id, score), the latest two of each kind.
    nps: Vec<(DateTime<Utc>, SurveyId, u8)>,
    csat: Vec<(DateTime<Utc>, SurveyId, u8)>,
}

fn latest_two(v: &mut [(DateTime<Utc>, SurveyId, u8)]) -> (Option<u8>, Option<u8>) {
    v.sort_unstable();
    let n = v.len();
    let latest = n.checked_sub(1).map(|i| v[i].2);
    let previous = n.checked_sub(2).map(|i| v[i].2);
    (latest, previous)
}

/// The ranked early-warning list as of the end of `as_of`. See the [module docs](self).
///
/// ```
/// use chrono::{NaiveDate, TimeZone, Utc};
/// use solocrm_core::{Currency, Customer, CustomerData, CustomerId, LifecyclePolicy, LifecycleStage, NewCustomer, PersonName, PurchaseLog};
/// use solocrm_core::metrics::{churn_warnings, Activity, RiskReason, WarningConfig};
/// let day = |m, d| Utc.with_ymd_and_hms(2026, m, d, 12, 0, 0).unwrap();
/// let customer = |id| Customer::create(CustomerId::new(id), NewCustomer::new(
///     CustomerData::new(PersonName::parse("x").unwrap()), day(1, 1)).at_stage(LifecycleStage::Active));
/// let customers = [customer(1), customer(2)];
/// let mut log = PurchaseLog::with_customers(Currency::EUR, vec![CustomerId::new(1), CustomerId::new(2)]);
/// // Customer 1 buys monthly but has been silent since March 2nd; customer 2 is on rhythm.
/// for (m, d) in [(1, 1), (1, 31), (3, 2)] { log.push(0, day(m, d).timestamp(), 5_000); }
/// for (m, d) in [(3, 1), (3, 31), (4, 30)] { log.push(1, day(m, d).timestamp(), 5_000); }
/// let activity = Activity { customers: &customers, log: &log, surveys: &[], requests: &[], interactions: &[] };
/// let list = churn_warnings(&activity, &LifecyclePolicy::default(), &WarningConfig::default(),
///     NaiveDate::from_ymd_opt(2026, 5, 10).unwrap())?;
/// assert_eq!(list.len(), 1);
/// assert_eq!(list[0].customer, CustomerId::new(1));
/// assert_eq!(list[0].policy_target, LifecycleStage::AtRisk);
/// // 69 days of silence against a threshold of 60: 50 points + 20 × 9 / 305 → 50.
/// assert_eq!(list[0].score, 50);
/// assert_eq!(list[0].factors[0].reason.describe(),
///     "overdue: 69 days since the last purchase, threshold 60 (median gap 30 days)");
/// # Ok::<(), solocrm_core::metrics::MetricError>(())
/// ```
///
/// # Errors
///
/// [`MetricError::InvalidInput`] for a malformed log or an invalid policy.
pub fn churn_warnings(
    activity: &Activity<'_>,
    policy: &LifecyclePolicy,
    config: &WarningConfig,
    as_of: NaiveDate,
) -> MetricResult<Vec<ChurnWarning>> {
    let stages: Vec<(CustomerId, LifecycleStage)> = activity
        .customers
        .iter()
        .filter(|c| !c.is_erased())
        .map(|c| (c.id(), c.stage()))
        .collect();
    churn_warnings_by_stage(&stages, activity, policy, config, as_of)
}

/// [`churn_warnings`] with the customers given by their stage alone: `stages` lists
/// every customer who is not erased with their stage (what
/// [`ReadTx::customer_stages`](crate::port::ReadTx::customer_stages) reads, without
/// decoding whole customers), and `activity.customers` is not read. The same list for
/// the same customers: the warnings look at nothing else of a customer.
///
/// # Errors
///
/// As [`churn_warnings`].
pub fn churn_warnings_by_stage(
    stages: &[(CustomerId, LifecycleStage)],
    activity: &Activity<'_>,
    policy: &LifecyclePolicy,
    config: &WarningConfig,
    as_of: NaiveDate,
) -> MetricResult<Vec<ChurnWarning>> {
    let end = activity.log.zone.end_of(as_of);
    let mut latest: BTreeMap<CustomerId, DateTime<Utc>> = BTreeMap::new();
    for i in activity.interactions.iter().filter(|i| i.at() < end) {
        let e = latest.entry(i.customer()).or_insert(i.at());
        *e = (*e).max(i.at());
    }
    let latest: Vec<(CustomerId, DateTime<Utc>)> = latest.into_iter().collect();
    churn_warnings_by_contacts(stages, &latest, activity, policy, config, as_of)
}

/// [`churn_warnings_by_stage`] with the interactions given by each customer's latest
/// one alone: `last_interactions` holds, for every customer with an interaction
/// before the end of `as_of`, the latest such instant (what
/// [`ReadTx::last_interactions`](crate::port::ReadTx::last_interactions) reads up to
/// that end, without decoding every interaction); `activity.customers` and
/// `activity.interactions` are not read. The same list: the warnings look at no other
/// fact of an interaction than the day of a customer's latest one. Entries at or
/// after the end of `as_of` are ignored.
///
/// ```
/// use chrono::{NaiveDate, TimeZone, Utc};
/// use solocrm_core::{Currency, CustomerId, LifecyclePolicy, LifecycleStage, PurchaseLog};
/// use solocrm_core::metrics::{churn_warnings_by_contacts, Activity, RiskReason, WarningConfig};
/// let day = |m, d| Utc.with_ymd_and_hms(2026, m, d, 12, 0, 0).unwrap();
/// let mut log = PurchaseLog::with_customers(Currency::EUR, vec![CustomerId::new(1)]);
/// for (m, d) in [(1, 1), (1, 31), (3, 2)] { log.push(0, day(m, d).timestamp(), 5_000); }
/// let activity = Activity { customers: &[], log: &log, surveys: &[], requests: &[], interactions: &[] };
/// let stages = [(CustomerId::new(1), LifecycleStage::Active)];
/// // 王芳 was last called on March 20th: the silence counts from the call.
/// let contacts = [(CustomerId::new(1), day(3, 20))];
/// let list = churn_warnings_by_contacts(&stages, &contacts, &activity,
///     &LifecyclePolicy::default(), &WarningConfig::default(),
///     NaiveDate::from_ymd_opt(2026, 5, 10).unwrap())?;
/// assert_eq!(list[0].customer, CustomerId::new(1));
/// assert!(matches!(list[0].factors[0].reason, RiskReason::Overdue { .. }));
/// // 51 days since the call, under the 90 days of silence that would add points.
/// assert!(!list[0].factors.iter().any(|f| matches!(f.reason, RiskReason::LongSilence { .. })));
/// # Ok::<(), solocrm_core::metrics::MetricError>(())
/// ```
///
/// # Errors
///
/// As [`churn_warnings`].
pub fn churn_warnings_by_contacts(
    stages: &[(CustomerId, LifecycleStage)],
    last_interactions: &[(CustomerId, DateTime<Utc>)],
    activity: &Activity<'_>,
    policy: &LifecyclePolicy,
    config: &WarningConfig,
    as_of: NaiveDate,
) -> MetricResult<Vec<ChurnWarning>> {
    let metric = "churn warning";
    check_log(activity.log, metric)?;
    policy.validate().map_err(|e| MetricError::InvalidInput {
        metric,
        what: "the lifecycle policy",
        expected: "valid",
        value: e.to_string(),
    })?;
    // Purchases outside the plausible calendar or beyond the amount bound are skipped.
    let (log, _) = super::screen::screen(activity.log);
    let log = log.as_ref();
    // The end of `as_of` in the business's zone.
    let zone = log.zone;
    let end = zone.end_of(as_of);
    let end_secs = end.timestamp();

    // Purchase days per dense customer, grouped (CSR).
    let n = log.customers.len();
    let mut start = vec![0usize; n + 1];
    let mut earliest = end_secs;
    for (&c, &at) in log.customer.iter().zip(&log.at) {
        if at < end_secs {
            start[c as usize + 1] += 1;
            earliest = earliest.min(at);
        }
    }
    let table = DayTable::new(zone, earliest, end_secs.saturating_sub(1));
    for i in 0..n {
        start[i + 1] += start[i];
    }
    let mut fill = start.clone();
    // Days since the epoch as `i32`, half the memory of the largest array here: a day
    // beyond `i32` is beyond chrono's calendar too, so it is kept as `i32::MAX`, which
    // `date_of_day` refuses as it would have refused the day itself.
    let mut days = vec![0i32; start[n]];
    for (&c, &at) in log.customer.iter().zip(&log.at) {
        if at < end_secs {
            days[fill[c as usize]] = i32::try_from(table.day(at)).unwrap_or(i32::MAX);
            fill[c as usize] += 1;
        }
    }

    // The NPS and CSAT answers before the end, and the interactions, each in one array
    // sorted by customer, each customer's run found by binary search: a tree keyed by
    // customer missed the processor's caches on nearly every look-up at 1 M customers,
    // where the stages (in id order) now walk both arrays forward.
    let mut answered: Vec<(CustomerId, DateTime<Utc>, SurveyId, u8, SurveyKind)> = activity
        .surveys
        .iter()
        .filter(|s| s.at() < end && s.score().kind() != SurveyKind::Ces)
        .map(|s| {
            (
                s.customer(),
                s.at(),
                s.id(),
                s.score().value(),
                s.score().kind(),
            )
        })
        .collect();
    // Each customer's answers are sorted again by `latest_two`: their order is free.
    answered.sort_unstable_by_key(|a| a.0);
    // A customer listed twice in `stages` has its answers counted once, the first time.
    let mut answers_taken = vec![false; answered.len()];
    // Open complaints at the end of `as_of`: (count, oldest opening).
    let mut complaints: BTreeMap<CustomerId, (u64, DateTime<Utc>)> = BTreeMap::new();
    for r in activity
        .requests
        .iter()
        .filter(|r| r.kind() == RequestKind::Complaint && r.opened_at() < end)
    {
        let resolved = r
            .events()
            .iter()
            .take_while(|e| e.at < end)
            .fold(false, |res, e| match e.kind {
                RequestEventKind::Resolved => true,
                RequestEventKind::Reopened => false,
                _ => res,
            });
        if !resolved {
            let e = complaints.entry(r.customer()).or_insert((0, r.opened_at()));
            e.0 += 1;
            e.1 = e.1.min(r.opened_at());
        }
    }
    let mut contacts: Vec<(CustomerId, DateTime<Utc>)> = last_interactions
        .iter()
        .filter(|(_, at)| *at < end)
        .copied()
        .collect();
    if !contacts.is_sorted_by_key(|c| c.0) {
        contacts.sort_unstable_by_key(|c| c.0);
    }
    // Where each array's last run was found: the stages come in id order, so each
    // search starts there.
    let (mut answers_at, mut contacts_at) = (0, 0);

    let mut out = Vec::new();
    let mut purchase_days = Vec::new();
    for &(id, stage) in stages {
        let Some(idx) = log.index_of(id) else {
            continue;
        };
        let idx = idx as usize;
        purchase_days.clear();
        for &d in &days[start[idx]..start[idx + 1]] {
            purchase_days
                .push(date_of_day(i64::from(d)).ok_or(MetricError::DateOutOfRange { metric })?);
        }
        let mut a = Answers::default();
        let mine = crate::sorted::run_from(&answered, id, |a| a.0, &mut answers_at);
        if !mine.is_empty() && !std::mem::replace(&mut answers_taken[mine.start], true) {
            for &(_, at, survey, score, kind) in &answered[mine] {
                match kind {
                    SurveyKind::Nps => a.nps.push((at, survey, score)),
                    _ => a.csat.push((at, survey, score)),
                }
            }
        }
        let (nps, nps_prev) = latest_two(&mut a.nps);
        let (csat, csat_prev) = latest_two(&mut a.csat);
        let behaviour = Behaviour {
            stage,
            purchase_days: &purchase_days,
            latest_nps: nps,
            latest_csat: csat,
            // Churned customers are skipped below whatever the policy says of them.
            churned_on: None,
        };
        let Some(assessment) = policy.assess(&behaviour, as_of) else {
            continue; // never bought
        };
        if assessment.rule == PolicyRule::Silent || stage == LifecycleStage::Churned {
            continue; // churned: lost, not at risk (winning back is another list)
        }
        let e = &assessment.evidence;
        let mut factors = Vec::new();
        let silence = e.days_since_last_purchase;
        let threshold = e.overdue_after_days;
        if silence > threshold {
            let horizon = i64::from(policy.churn_after_days);
            let extra = if horizon > threshold {
                i64::from(config.overdue_extra_points) * (silence - threshold)
                    / (horizon - threshold)
            } else {
                0
            };
            factors.push(RiskFactor {
                reason: RiskReason::Overdue {
                    days_since_last_purchase: silence,
                    overdue_after_days: threshold,
                    median_gap_days: e.median_gap_days,
                },
                points: config.overdue_points.saturating_add(
                    u32::try_from(extra.clamp(0, i64::from(config.overdue_extra_points)))
                        .unwrap_or(0),
                ),
            });
        } else if silence * 100 >= threshold * i64::from(config.approaching_percent) {
            factors.push(RiskFactor {
                reason: RiskReason::Approaching {
                    days_since_last_purchase: silence,
                    overdue_after_days: threshold,
                },
                points: config.approaching_points,
            });
        }
        if let Some(l) = nps
            && (l <= 6 || nps_prev.is_some_and(|p| l < p))
        {
            factors.push(RiskFactor {
                reason: RiskReason::Nps {
                    previous: nps_prev,
                    latest: l,
                },
                points: config.nps_points,
            });
        }
        if let Some(l) = csat
            && (l < policy.loyal_min_csat || csat_prev.is_some_and(|p| l < p))
        {
            factors.push(RiskFactor {
                reason: RiskReason::Csat {
                    previous: csat_prev,
                    latest: l,
                },
                points: config.csat_points,
            });
        }
        if let Some(&(count, oldest)) = complaints.get(&id) {
            factors.push(RiskFactor {
                reason: RiskReason::OpenComplaints {
                    count,
                    oldest_days: (as_of - zone.date_of(oldest)).num_days(),
                },
                points: u32::try_from(count)
                    .unwrap_or(u32::MAX)
                    .saturating_mul(config.complaint_points)
                    .min(config.complaint_points_max),
            });
        }
        let last_purchase = purchase_days.iter().max().copied();
        let last_contact = contacts
            [crate::sorted::run_from(&contacts, id, |c| c.0, &mut contacts_at)]
        .iter()
        .map(|&(_, at)| zone.date_of(at))
        .max();
        let contact = match (last_purchase, last_contact) {
            (Some(p), Some(i)) => Some(p.max(i)),
            (p, i) => p.or(i),
        };
        if let Some(contact) = contact {
            let quiet = (as_of - contact).num_days();
            if quiet >= i64::from(config.silence_days) {
                factors.push(RiskFactor {
                    reason: RiskReason::LongSilence {
                        days_since_contact: quiet,
                    },
                    points: config.silence_points,
                });
            }
        }
        factors.retain(|f| f.points > 0);
        if factors.is_empty() {
            continue;
        }
        factors.sort_by_key(|f| std::cmp::Reverse(f.points));
        let score = factors
            .iter()
            .fold(0u32, |s, f| s.saturating_add(f.points))
            .min(100);
        out.push(ChurnWarning {
            customer: id,
            stage,
            policy_target: assessment.target,
            score,
            factors,
        });
    }
    out.sort_by(|a, b| b.score.cmp(&a.score).then(a.customer.cmp(&b.customer)));
    Ok(out)
}
