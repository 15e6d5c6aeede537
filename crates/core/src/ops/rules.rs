//! The rules and metrics run over a snapshot: each reads what it needs through a
//! [`Reader`] (one transaction, so never torn by a writer) and hands plain data to the
//! pure functions of [`crate::policy`], [`crate::care`] and [`crate::metrics`], which
//! never see the storage port.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};

use super::{Crm, Reader, Writer};
use crate::care::{CareConfig, CareCustomer, CareItem, care_due_with_calendar};
use crate::ids::CustomerId;
use crate::lifecycle::{LifecycleStage, PolicyRule, StageChange, StageReason};
use crate::metrics::{
    MetricError, MetricsReport, Period, ReportConfig, ReportData, ReportPurchaseRead,
    ReportPurchases,
};
use crate::policy::{Behaviour, FutureDated, LifecyclePolicy, Reassessment, Suggestion};
use crate::port::whole_second;
use crate::purchase::PurchaseLog;
use crate::sorted;
use crate::store::{ActivityQuery, OpenQuery, StoreError, StoreResult, TaskQuery};
use crate::survey::SurveyKind;
use crate::time::TimeRange;
use crate::zone::BusinessZone;

/// Why a report could not be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReportError {
    /// Reading the store failed.
    #[error("cannot read the store")]
    Store(#[from] StoreError),
    /// The data cannot be measured at all (a malformed purchase log, an overflow).
    /// Single metrics without a value do not fail the report; they are
    /// [`Measured::Undefined`](crate::Measured::Undefined).
    #[error(transparent)]
    Metric(#[from] MetricError),
}

impl Crm {
    /// [`Reader::reassess_all`] over one snapshot, the purchase days read on a second
    /// thread while this one reads the rest ([`read_beside`](Self::read_beside)).
    ///
    /// # Errors
    ///
    /// The backend's.
    pub fn reassess_all(
        &self,
        policy: &LifecyclePolicy,
        as_of: DateTime<Utc>,
    ) -> StoreResult<Reassessment> {
        let (records, days) =
            self.read_beside(|r| r.reassess_records(as_of), |r| r.purchase_days())?;
        Ok(records.assess(policy, as_of, &days))
    }

    /// What a report of `period` reads ([`Reader::report_data`]), in one snapshot: the
    /// purchases on a second thread while this one reads the rest
    /// ([`read_beside`](Self::read_beside); one after the other on a backend that
    /// cannot).
    ///
    /// # Errors
    ///
    /// The backend's.
    pub fn report_data(&self, period: Period) -> StoreResult<ReportData> {
        let (records, purchases) =
            self.read_beside(|r| r.report_records(period), |r| r.report_purchases(period))?;
        Ok(records.with_purchases(purchases))
    }

    /// The [`MetricsReport`] of `period`, from one snapshot: what
    /// `crm.read(|r| Ok(r.metrics_report(period, config)))?` gives, without the
    /// nested result, read on two threads ([`report_data`](Self::report_data)).
    ///
    /// # Errors
    ///
    /// As [`Reader::metrics_report`], and the backend's error opening the snapshot.
    pub fn metrics_report(
        &self,
        period: Period,
        config: &ReportConfig,
    ) -> Result<MetricsReport, ReportError> {
        let data = self.report_data(period)?;
        Ok(MetricsReport::compute(&data, period, config)?)
    }
}

impl Reader<'_> {
    /// Reads what a report of `period` needs, in this one snapshot: every customer
    /// (erased ones included), the purchase log, and the records up to the period's
    /// end. [`report_purchases`](Self::report_purchases) and
    /// [`report_records`](Self::report_records) joined; [`Crm::report_data`] reads the
    /// two on two threads.
    ///
    /// # Errors
    ///
    /// The backend's.
    pub fn report_data(&self, period: Period) -> StoreResult<ReportData> {
        let purchases = self.report_purchases(period)?;
        Ok(self.report_records(period)?.with_purchases(purchases))
    }

    /// The purchases a report of `period` reads ([`ReportData::purchases`] and
    /// [`ReportData::log`]): the narrow rows (customer, time, amount, cost; ADR 0062)
    /// and the log, from one pass of the backend (issue 14), the log in the books' zone
    /// and currency.
    ///
    /// # Errors
    ///
    /// The backend's.
    pub fn report_purchases(&self, period: Period) -> StoreResult<ReportPurchaseRead> {
        let zone = self.time_zone()?;
        let period = period.in_zone(zone);
        let read = self.tx().report_purchase_read(period.end_instant())?;
        let mut log = read.log.in_zone(zone);
        log.currency.get_or_insert(self.currency());
        Ok(match read.log_costs {
            Some(log_costs) => ReportPurchaseRead {
                purchases: read.purchases,
                log,
                log_costs: Some(log_costs),
            },
            // Rows read as rows are the log's purchases before the bound: kept as their
            // costs beside the log, their own copy given back here, on the reading
            // thread, before the report is computed (ADR 0076).
            None => ReportPurchaseRead::beside(read.purchases, log),
        })
    }

    /// What a report of `period` reads but its purchases: a [`ReportData`] whose
    /// `purchases` and `log` are empty until
    /// [`with_purchases`](ReportData::with_purchases) adds what
    /// [`report_purchases`](Self::report_purchases) read in the same snapshot.
    ///
    /// # Errors
    ///
    /// The backend's.
    pub fn report_records(&self, period: Period) -> StoreResult<ReportData> {
        let period = period.in_zone(self.time_zone()?);
        // What the report reads of each customer, not whole customers (issue 14).
        let customers = self.tx().report_customers()?;
        let until = ActivityQuery {
            customer: None,
            range: TimeRange {
                from: None,
                to: period.time_range().to,
            },
            include_voided: false,
        };
        Ok(ReportData {
            customers,
            log: PurchaseLog::default(),
            purchases: ReportPurchases::default(),
            log_costs: None,
            refunds: self.refunds(&until)?,
            surveys: self.surveys(&until)?,
            participations: self
                .participations(None)?
                .into_iter()
                .filter(|p| until.range.contains(p.at))
                .collect(),
            // Who and when only, not the summaries (ADR 0062).
            interactions: self.tx().report_interactions(period.end_instant())?,
            deals: self.deals(&OpenQuery::default())?,
            requests: self.requests(&OpenQuery::default())?,
            costs: self.costs()?,
            campaigns: self.campaigns()?,
            attributions: self.attributions()?,
        })
    }

    /// The [`MetricsReport`] of `period`, from one snapshot
    /// ([`report_data`](Self::report_data), then [`MetricsReport::compute`]).
    ///
    /// # Errors
    ///
    /// [`ReportError::Store`] if reading fails, [`ReportError::Metric`] as in
    /// [`MetricsReport::compute`].
    pub fn metrics_report(
        &self,
        period: Period,
        config: &ReportConfig,
    ) -> Result<MetricsReport, ReportError> {
        let data = self.report_data(period)?;
        Ok(MetricsReport::compute(&data, period, config)?)
    }

    /// Asks the policy about every customer (erased ones skipped) as of `as_of`.
    ///
    /// Purchase days come from the [`PurchaseLog`], without
    /// purchases dated outside the plausible calendar (see [`crate::time`]); the
    /// latest NPS and CSAT answers at or before `as_of` count as the customer's
    /// satisfaction.
    ///
    /// **Future-dated stage changes.** A stage history never goes back in time, so a
    /// move at `as_of` cannot be recorded for a customer whose latest change is dated
    /// after `as_of`. Such a customer is not suggested a move; they are listed in
    /// [`Reassessment::future_dated`] with the change that blocks them and the move the
    /// policy would have made. Every other customer is assessed as usual: one record
    /// can never freeze the others.
    ///
    /// # Errors
    ///
    /// The backend's.
    pub fn reassess_all(
        &self,
        policy: &LifecyclePolicy,
        as_of: DateTime<Utc>,
    ) -> StoreResult<Reassessment> {
        let days = self.purchase_days()?;
        Ok(self.reassess_records(as_of)?.assess(policy, as_of, &days))
    }

    /// Every customer's purchase days, from the purchase log grouped by customer: what
    /// a reassessment reads of purchases.
    fn purchase_days(&self) -> StoreResult<PurchaseDays> {
        Ok(PurchaseDays::of(self.purchase_log_by_customer()?))
    }

    /// What a reassessment as of `as_of` reads but the purchase days: the stages, the
    /// latest scores, the changes dated after `as_of`, and when each churned customer
    /// churned.
    fn reassess_records(&self, as_of: DateTime<Utc>) -> StoreResult<ReassessRecords> {
        // Just after `as_of`: the answers before it, and the changes from it.
        let after = as_of
            .checked_add_signed(chrono::TimeDelta::nanoseconds(1))
            .unwrap_or(DateTime::<Utc>::MAX_UTC);
        let mut nps: Vec<(CustomerId, u8)> = Vec::new();
        let mut csat: Vec<(CustomerId, u8)> = Vec::new();
        // Scores come ordered by time, so after a stable sort by customer the last of
        // each customer's run is the latest; none is after `as_of` (the calendar ends
        // long before the largest instant).
        for s in self.tx.survey_scores(after)? {
            match s.score.kind() {
                SurveyKind::Nps => nps.push((s.customer, s.score.value())),
                SurveyKind::Csat => csat.push((s.customer, s.score.value())),
                SurveyKind::Ces => {}
            }
        }
        nps.sort_by_key(|&(id, _)| id);
        csat.sort_by_key(|&(id, _)| id);
        // The changes dated after `as_of`, of the few customers who have one, in one
        // read: what blocks a move (a history never goes back in time). Everyone
        // else's pending move needs no read of their history.
        let mut later: HashMap<CustomerId, StageChange> = HashMap::new();
        if after > as_of {
            for change in self.tx.stage_changes_from(after)? {
                if change.at > as_of
                    && later
                        .get(&change.customer)
                        .is_none_or(|latest| change.at >= latest.at)
                {
                    later.insert(change.customer, change);
                }
            }
        }
        // When each churned customer churned, in one read rather than one history
        // read per churned customer.
        let mut churned_at = self.tx.churned_at()?;
        churned_at.sort_by_key(|&(id, _)| id);
        let stages = self.tx.customer_stages()?;
        let mut missed = Vec::new();
        let mut at = 0;
        for &(id, stage) in &stages {
            if stage == LifecycleStage::Churned
                && sorted::run_from(&churned_at, id, |e| e.0, &mut at).is_empty()
            {
                // Churned after the read above cannot happen in one snapshot; a
                // backend that misses one still answers from the history.
                missed.push((id, last_churned(&self.tx.stage_history(id)?)));
            }
        }
        if !missed.is_empty() {
            churned_at.extend(missed);
            churned_at.sort_by_key(|&(id, _)| id);
        }
        Ok(ReassessRecords {
            stages,
            nps,
            csat,
            later,
            churned_at,
        })
    }

    /// Runs [`care_due`](crate::care::care_due) over the books, with the holiday
    /// calendar kept with them: every customer (erased ones skipped), their
    /// last contact (latest interaction or purchase at or before `as_of`), and the open
    /// tasks due by the end of the window.
    ///
    /// The customers come from the light port reads
    /// ([`customer_dates`](crate::port::ReadTx::customer_dates),
    /// [`customer_stages`](crate::port::ReadTx::customer_stages)) and the last
    /// contacts from [`last_contacts`](Self::last_contacts), never from whole records.
    ///
    /// # Errors
    ///
    /// The backend's.
    pub fn care_due(
        &self,
        as_of: DateTime<Utc>,
        horizon_days: u32,
        config: &CareConfig,
    ) -> StoreResult<Vec<CareItem>> {
        let last = self.last_contacts(as_of)?;
        Ok(self.care_records(as_of, horizon_days)?.due(&last, config))
    }

    /// What [`care_due`](Self::care_due) reads but the last contacts: the customers'
    /// dates and stages, the open tasks due by the end of the window, the zone and the
    /// holidays kept with the books. [`CareRecords::due`] with what
    /// [`last_contacts`](Self::last_contacts) read in the same snapshot (perhaps on a
    /// second thread, [`Crm::read_beside`]) gives the list.
    ///
    /// # Errors
    ///
    /// The backend's.
    pub fn care_records(
        &self,
        as_of: DateTime<Utc>,
        horizon_days: u32,
    ) -> StoreResult<CareRecords> {
        // Both reads list the customers who are not erased, by id: each customer's
        // stage is found from where the one before was (a hash map of a million
        // customers missed the processor's caches on every look-up).
        let mut stages = self.tx.customer_stages()?;
        if !stages.is_sorted_by_key(|s| s.0) {
            stages.sort_by_key(|s| s.0);
        }
        let mut at = 0;
        let customers: Vec<CareCustomer> = self
            .tx
            .customer_dates()?
            .into_iter()
            .filter_map(|d| {
                let stage = stages[sorted::run_from(&stages, d.id, |s| s.0, &mut at)]
                    .last()?
                    .1;
                Some(CareCustomer {
                    id: d.id,
                    birthday: d.birthday,
                    stage,
                    created_at: d.created_at,
                    last_contact: None,
                    erased: false,
                })
            })
            .collect();
        let zone = self.time_zone()?;
        let today = zone.date_of(as_of);
        let end = today
            .checked_add_days(chrono::Days::new(horizon_days.into()))
            .unwrap_or(NaiveDate::MAX);
        let tasks = self.tasks(&TaskQuery {
            customer: None,
            due_until: Some(end),
            include_done: false,
        })?;
        // The holidays kept with the books come on top of the config's fixed days.
        let calendar = self.holiday_calendar()?;
        Ok(CareRecords {
            today,
            zone,
            horizon_days,
            calendar,
            customers,
            tasks,
        })
    }

    /// Every customer's last contact at or before `as_of` (erased ones included), to
    /// the whole second: their latest purchase, counted by the whole second of the
    /// [`PurchaseLog`] (a purchase in the second of `as_of`
    /// counts), or interaction, counted at its exact instant; voided ones left out.
    /// What [`care_due`](Self::care_due) reads, from
    /// [`contact_times`](crate::port::ReadTx::contact_times) around the second of
    /// `as_of`: only a customer with a contact in that very second needs a closer look.
    /// One entry per customer with a contact, in ascending id order.
    ///
    /// # Errors
    ///
    /// The backend's.
    pub fn last_contacts(
        &self,
        as_of: DateTime<Utc>,
    ) -> StoreResult<Vec<(CustomerId, DateTime<Utc>)>> {
        let second = whole_second(as_of);
        let next = second
            .checked_add_signed(chrono::TimeDelta::seconds(1))
            .unwrap_or(DateTime::<Utc>::MAX_UTC);
        let mut last = Vec::new();
        for c in self.tx.contact_times(second, next)? {
            let mut latest = c.last_before;
            if !c.within.is_empty() {
                // A purchase in this second counts (the log keeps whole seconds); an
                // interaction in it only up to `as_of` itself.
                let query = |to: DateTime<Utc>| ActivityQuery {
                    customer: Some(c.customer),
                    range: TimeRange::between(second, to),
                    include_voided: false,
                };
                let until_as_of = as_of
                    .checked_add_signed(chrono::TimeDelta::nanoseconds(1))
                    .unwrap_or(as_of);
                if !self.tx.purchases(&query(next))?.is_empty()
                    || !self.tx.interactions(&query(until_as_of))?.is_empty()
                {
                    latest = Some(second);
                }
            }
            if let Some(at) = latest {
                last.push((c.customer, at));
            }
        }
        // The port gives the customers in id order; a store that does not is sorted
        // here, so that the list keeps its promise.
        if !last.is_sorted_by_key(|l| l.0) {
            last.sort_by_key(|l| l.0);
        }
        Ok(last)
    }
}

/// When a stage history last moved its customer to `Churned`.
fn last_churned(history: &[StageChange]) -> Option<DateTime<Utc>> {
    history
        .iter()
        .rev()
        .find(|h| h.to == LifecycleStage::Churned)
        .map(|h| h.at)
}

/// What the care list of a window reads but the customers' last contacts
/// ([`Reader::care_records`]).
#[derive(Debug, Clone)]
pub struct CareRecords {
    today: NaiveDate,
    zone: BusinessZone,
    horizon_days: u32,
    calendar: crate::holiday::HolidayCalendar,
    customers: Vec<CareCustomer>,
    tasks: Vec<crate::task::Task>,
}

impl CareRecords {
    /// The care list ([`care_due`](crate::care::care_due) with the books' holidays),
    /// each customer's last contact taken from `last` (what
    /// [`Reader::last_contacts`] read in the same snapshot).
    pub fn due(
        mut self,
        last: &[(CustomerId, DateTime<Utc>)],
        config: &CareConfig,
    ) -> Vec<CareItem> {
        let mut sorted = std::borrow::Cow::Borrowed(last);
        if !last.is_sorted_by_key(|l| l.0) {
            sorted.to_mut().sort_by_key(|l| l.0);
        }
        let mut at = 0;
        for c in &mut self.customers {
            let run = crate::sorted::run_from(&sorted, c.id, |l| l.0, &mut at);
            c.last_contact = sorted[run].last().map(|l| l.1);
        }
        care_due_with_calendar(
            self.today,
            self.zone,
            self.horizon_days,
            config,
            &self.calendar,
            &self.customers,
            &self.tasks,
        )
    }
}

/// Every customer's purchase days, each customer's one run of `days` (one
/// allocation): room for `start[i]..start[i + 1]` for dense index `i` of the log, of
/// which `start[i]..fill[i]` is filled (a row whose instant has no local day takes no
/// slot; a row naming no customer of the log is left out).
struct PurchaseDays {
    log: PurchaseLog,
    start: Vec<usize>,
    fill: Vec<usize>,
    days: Vec<NaiveDate>,
}

impl PurchaseDays {
    /// The days of `log` (grouped by customer) in its zone, without purchases dated
    /// outside the plausible calendar (see [`crate::time`]).
    fn of(log: PurchaseLog) -> PurchaseDays {
        let local = log.zone.days();
        let groups = log.customers.len();
        let mut start = vec![0usize; groups + 1];
        for &idx in &log.customer {
            if let Some(n) = start.get_mut(idx as usize + 1) {
                *n += 1;
            }
        }
        for i in 0..groups {
            start[i + 1] += start[i];
        }
        let mut fill = start.clone();
        let mut days: Vec<NaiveDate> = vec![NaiveDate::MIN; start[groups]];
        for (k, &at) in log.at.iter().enumerate() {
            // `is_plausible` on the seconds themselves: no date is built for the test.
            let plausible =
                (crate::time::EARLIEST_SECS..crate::time::AFTER_LATEST_SECS).contains(&at);
            let when = plausible.then(|| local.date(at)).flatten();
            if let (Some(&idx), Some(day)) = (log.customer.get(k), when)
                && let Some(slot) = fill[..groups].get_mut(idx as usize)
            {
                days[*slot] = day;
                *slot += 1;
            }
        }
        PurchaseDays {
            log,
            start,
            fill,
            days,
        }
    }

    /// The days kept of the customer's rows, as they come (a row outside the plausible
    /// calendar has none).
    fn of_customer(&self, id: CustomerId) -> &[NaiveDate] {
        self.log
            .index_of(id)
            .and_then(|i| {
                self.days
                    .get(*self.start.get(i as usize)?..*self.fill.get(i as usize)?)
            })
            .unwrap_or(&[])
    }
}

/// What a reassessment reads besides the purchase days ([`Reader::reassess_all`]).
struct ReassessRecords {
    /// Every customer not erased, with their stage, by id.
    stages: Vec<(CustomerId, LifecycleStage)>,
    /// The NPS answers up to the instant, by customer (stable: in time order within
    /// a customer, so the last of a run is the latest).
    nps: Vec<(CustomerId, u8)>,
    /// The CSAT answers up to the instant, likewise.
    csat: Vec<(CustomerId, u8)>,
    /// The latest change dated after the instant, of each customer with one.
    later: HashMap<CustomerId, StageChange>,
    /// When each churned customer churned (if the history says), by customer.
    churned_at: Vec<(CustomerId, Option<DateTime<Utc>>)>,
}

impl ReassessRecords {
    /// Asks the policy about each customer as of `as_of`, with their days from `days`.
    fn assess(
        mut self,
        policy: &LifecyclePolicy,
        as_of: DateTime<Utc>,
        days: &PurchaseDays,
    ) -> Reassessment {
        let zone = days.log.zone;
        let today = zone.date_of(as_of);
        let mut out = Reassessment::default();
        // The stages come by id: each list is walked once, from where the customer
        // before left it (ADR 0080), not looked up in a map of every customer.
        let (mut at_nps, mut at_csat, mut at_churned) = (0, 0, 0);
        let last = |list: &[(CustomerId, u8)], id, at: &mut usize| {
            let run = sorted::run_from(list, id, |e| e.0, at);
            list[run].last().map(|&(_, v)| v)
        };
        for &(id, stage) in &self.stages {
            let churned_on = if stage == LifecycleStage::Churned {
                let run = sorted::run_from(&self.churned_at, id, |e| e.0, &mut at_churned);
                self.churned_at[run]
                    .last()
                    .and_then(|&(_, t)| t)
                    .map(|t| zone.date_of(t))
            } else {
                None
            };
            let behaviour = Behaviour {
                stage,
                purchase_days: days.of_customer(id),
                latest_nps: last(&self.nps, id, &mut at_nps),
                latest_csat: last(&self.csat, id, &mut at_csat),
                churned_on,
            };
            let Some(s) = policy.suggest(&behaviour, today) else {
                continue;
            };
            match self.later.remove(&id) {
                Some(change) => out.future_dated.push(FutureDated {
                    customer: id,
                    change,
                    suggestion: s,
                }),
                None => out.suggestions.push((id, s)),
            }
        }
        out
    }
}

/// What the policy looks at for one customer, as of an instant.
struct Facts {
    /// Their purchases at or before the instant, by time.
    purchases: Vec<DateTime<Utc>>,
    /// The distinct business-local days of those purchases, ascending.
    days: Vec<NaiveDate>,
    /// The business time zone the days are counted in.
    zone: BusinessZone,
    /// The latest NPS and CSAT answers at or before the instant, with their time.
    nps: Option<(u8, DateTime<Utc>)>,
    csat: Option<(u8, DateTime<Utc>)>,
    /// Their stage history, oldest first.
    history: Vec<StageChange>,
}

impl Facts {
    /// The [`Behaviour`] of a customer now in `stage`.
    fn behaviour(&self, stage: LifecycleStage) -> Behaviour<'_> {
        Behaviour {
            stage,
            purchase_days: &self.days,
            latest_nps: self.nps.map(|(v, _)| v),
            latest_csat: self.csat.map(|(v, _)| v),
            churned_on: self.churned_at().map(|t| self.zone.date_of(t)),
        }
    }

    /// When the customer was last moved to `Churned`.
    fn churned_at(&self) -> Option<DateTime<Utc>> {
        last_churned(&self.history)
    }

    /// The first purchase on the `n`-th distinct purchase day (from 1).
    fn purchase_on_day(&self, n: usize) -> Option<DateTime<Utc>> {
        let day = *self.days.get(n.checked_sub(1)?)?;
        self.purchases
            .iter()
            .copied()
            .find(|t| self.zone.date_of(*t) == day)
    }

    /// When the condition of a step to `to` arose, as far as the facts tell: the
    /// purchase that made the customer new, active or won back, the later of the
    /// purchase and the answer that made them loyal, the first day past the overdue
    /// threshold or the churn horizon after their last purchase.
    fn arose(
        &self,
        to: LifecycleStage,
        policy: &LifecyclePolicy,
        evidence: &crate::policy::Evidence,
    ) -> Option<DateTime<Utc>> {
        let last_day = *self.days.last()?;
        let day_after = |days: i64| {
            last_day
                .checked_add_signed(chrono::TimeDelta::days(days + 1))
                .map(|d| self.zone.start_of(d))
        };
        match to {
            LifecycleStage::New => self.purchases.first().copied(),
            LifecycleStage::Active => self.purchase_on_day(2),
            LifecycleStage::Loyal => {
                let kth = self.purchase_on_day(policy.loyal_min_purchases as usize)?;
                let answer = [self.nps, self.csat]
                    .into_iter()
                    .flatten()
                    .map(|(_, t)| t)
                    .max();
                Some(answer.map_or(kth, |a| a.max(kth)))
            }
            LifecycleStage::WonBack => {
                let churned = self.churned_at()?;
                self.purchases.iter().copied().find(|t| *t > churned)
            }
            LifecycleStage::AtRisk => day_after(evidence.overdue_after_days),
            LifecycleStage::Churned => day_after(i64::from(policy.churn_after_days)),
            LifecycleStage::Prospect | LifecycleStage::Lead => None,
        }
    }
}

impl Reader<'_> {
    /// The [`Facts`] of `customer` as of `as_of`.
    fn facts(&self, customer: CustomerId, as_of: DateTime<Utc>) -> StoreResult<Facts> {
        let purchases: Vec<DateTime<Utc>> = self
            .purchases_of(customer)?
            .iter()
            .map(|p| p.at())
            .filter(|t| *t <= as_of && crate::time::is_plausible(*t))
            .collect();
        let zone = self.time_zone()?;
        let mut days: Vec<NaiveDate> = purchases.iter().map(|t| zone.date_of(*t)).collect();
        days.dedup();
        let mut nps = None;
        let mut csat = None;
        let query = ActivityQuery {
            customer: Some(customer),
            range: TimeRange {
                from: None,
                to: None,
            },
            include_voided: false,
        };
        // By time, so the last answer of each kind is the latest.
        for s in self.surveys(&query)? {
            if s.at() > as_of {
                continue;
            }
            match s.score().kind() {
                SurveyKind::Nps => nps = Some((s.score().value(), s.at())),
                SurveyKind::Csat => csat = Some((s.score().value(), s.at())),
                SurveyKind::Ces => {}
            }
        }
        Ok(Facts {
            purchases,
            days,
            zone,
            nps,
            csat,
            history: self.tx.stage_history(customer)?,
        })
    }
}

/// How many customers' moves one write transaction of
/// [`Crm::apply_suggestions`] holds.
///
/// A transaction per customer made a catch-up of tens of thousands of moves (a book
/// months behind) commit that many times: each commit writes its pages to the
/// journal, and each new outbox position made the web workspace's kept views stale
/// again. On the 100 k-customer demo a batch of 256 holds the writer's lock for
/// about 25 ms (`stage reassess --apply` made 56,808 moves in 6.1 s of CPU, its
/// read included), well inside another writer's busy timeout.
pub const MOVES_PER_WRITE: usize = 256;

/// What [`Crm::apply_suggestions`] did: the answers of the transactions that
/// committed, and the backend failure that stopped it, if one did.
#[derive(Debug)]
#[non_exhaustive]
#[must_use = "a backend failure that stopped the moves is in `stopped`"]
pub struct Applied {
    /// One answer per suggestion, in order, for every suggestion whose transaction
    /// committed: its changes, or the store's refusal of that one move. Without a
    /// `stopped`, one per suggestion.
    pub answers: Vec<StoreResult<Vec<StageChange>>>,
    /// The failure of the backend itself ([`StoreError::Backend`],
    /// [`StoreError::Aborted`], or [`StoreError::Busy`] past the backend's retries)
    /// that rolled back the transaction after `answers`: the suggestions from
    /// `answers.len()` on were not applied.
    pub stopped: Option<StoreError>,
}

impl Crm {
    /// Applies the suggestions of [`Reader::reassess_all`] made with `policy`, in
    /// order, [`MOVES_PER_WRITE`] customers to a transaction. Each customer's move is
    /// its own savepoint ([`Writer::apply_suggestion`]: all its steps or none), so a
    /// move the store refuses — the customer moved or was erased since the read, a
    /// history dated after `at` — is answered in its place and the others go on.
    /// `done` is told how many suggestions have been answered after each transaction.
    ///
    /// The books end as if each customer had been moved in a transaction of their own:
    /// the same changes, events and ids, in the same order.
    ///
    /// A failure of the backend itself stops at its transaction, which is rolled
    /// back; the transactions before it stay, and their answers are returned with the
    /// failure ([`Applied::stopped`]), so a caller can say which customers moved.
    pub fn apply_suggestions(
        &self,
        suggestions: &[(CustomerId, Suggestion)],
        policy: &LifecyclePolicy,
        at: DateTime<Utc>,
        mut done: impl FnMut(usize),
    ) -> Applied {
        let mut answers = Vec::with_capacity(suggestions.len());
        for batch in suggestions.chunks(MOVES_PER_WRITE) {
            let batch_answers = self.write(|w| {
                // A retried transaction starts its batch again.
                let mut answers = Vec::with_capacity(batch.len());
                for (customer, suggestion) in batch {
                    match w.apply_suggestion(*customer, suggestion, policy, at) {
                        Err(
                            e @ (StoreError::Backend(_)
                            | StoreError::Aborted(_)
                            | StoreError::Busy { .. }),
                        ) => return Err(e),
                        answer => answers.push(answer),
                    }
                }
                Ok(answers)
            });
            match batch_answers {
                Ok(batch_answers) => answers.extend(batch_answers),
                Err(e) => {
                    return Applied {
                        answers,
                        stopped: Some(e),
                    };
                }
            }
            done(answers.len());
        }
        Applied {
            answers,
            stopped: None,
        }
    }
}

impl Writer<'_> {
    /// Applies a suggestion of [`Reader::reassess_all`] made with `policy`: records
    /// each step of its path, all in this transaction (a customer is never left
    /// half-moved). Each step names the rule of its own target
    /// ([`PolicyRule::reaching`]) and is dated when its condition arose — the first
    /// purchase for `new`, the first day past the overdue threshold for `at_risk`, and
    /// so on — but never before the customer's previous change nor after `at`, the
    /// instant the run catches up to.
    ///
    /// # Errors
    ///
    /// The errors of [`change_stage`](Writer::change_stage), e.g.
    /// [`StoreError::InvalidTransition`] if the customer moved since the suggestion
    /// was made.
    pub fn apply_suggestion(
        &mut self,
        customer: CustomerId,
        suggestion: &Suggestion,
        policy: &LifecyclePolicy,
        at: DateTime<Utc>,
    ) -> StoreResult<Vec<StageChange>> {
        self.atomic(|w| {
            let facts = w.reader().facts(customer, at)?;
            let mut floor = facts.history.last().map(|h| h.at);
            let mut changes = Vec::with_capacity(suggestion.path.len());
            for &to in &suggestion.path {
                let arose = facts.arose(to, policy, &suggestion.assessment.evidence);
                let when = arose.unwrap_or(at).min(at);
                let when = floor.map_or(when, |f| when.max(f));
                let rule = PolicyRule::reaching(to).unwrap_or(suggestion.assessment.rule);
                changes.push(w.change_stage(customer, to, when, StageReason::Rule { rule })?);
                floor = Some(when);
            }
            Ok(changes)
        })
    }

    /// After a purchase or a survey answer of `customer` at `at`: moves them as the
    /// lifecycle policy's behaviour rules say ([`PolicyRule::is_behaviour`]), each step
    /// at `at` with its own rule. Nothing happens without a policy, for an erased
    /// customer, for a move that only silence causes (left to
    /// [`apply_suggestion`](Self::apply_suggestion)), or when the customer's stage
    /// history already holds a change after `at` (a history never goes back in time;
    /// the record is kept and the next catch-up sees it).
    pub(super) fn follow_behaviour(
        &mut self,
        customer: CustomerId,
        at: DateTime<Utc>,
    ) -> StoreResult<()> {
        let Some(policy) = self.lifecycle else {
            return Ok(());
        };
        let c = self.reader().customer(customer)?;
        if c.is_erased() {
            return Ok(());
        }
        let facts = self.reader().facts(customer, at)?;
        if facts.history.last().is_some_and(|h| h.at > at) {
            return Ok(());
        }
        let Some(s) = policy.suggest(&facts.behaviour(c.stage()), facts.zone.date_of(at)) else {
            return Ok(());
        };
        if !s.assessment.rule.is_behaviour() {
            return Ok(());
        }
        for &to in &s.path {
            let rule = PolicyRule::reaching(to).unwrap_or(s.assessment.rule);
            self.change_stage(customer, to, at, StageReason::Rule { rule })?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::care::CareReason;
    use chrono::TimeZone;

    fn records() -> CareRecords {
        let created = Utc.with_ymd_and_hms(2025, 1, 1, 9, 0, 0).unwrap();
        CareRecords {
            today: NaiveDate::from_ymd_opt(2026, 6, 1).unwrap(),
            zone: BusinessZone::default(),
            horizon_days: 7,
            calendar: crate::holiday::HolidayCalendar::default(),
            customers: (1..=4)
                .map(|id| CareCustomer {
                    id: CustomerId::new(id),
                    birthday: None,
                    stage: LifecycleStage::Active,
                    created_at: created,
                    last_contact: None,
                    erased: false,
                })
                .collect(),
            tasks: Vec::new(),
        }
    }

    fn silent(items: &[CareItem]) -> Vec<u64> {
        items
            .iter()
            .filter(|i| matches!(i.reason, CareReason::NoContact { .. }))
            .filter_map(|i| i.customer.map(CustomerId::get))
            .collect()
    }

    /// Each customer's last contact is found in the list in any order, the later of
    /// two entries for one customer counting (as the map it replaced kept it).
    #[test]
    fn the_last_contacts_are_found_sorted_or_not_and_a_later_entry_counts() {
        let at = |m, d| Utc.with_ymd_and_hms(2026, m, d, 12, 0, 0).unwrap();
        let (recent, old) = (at(5, 20), at(1, 10));
        let id = CustomerId::new;
        let sorted = [(id(1), recent), (id(2), old), (id(4), recent)];
        let config = CareConfig::default();
        let want = records().due(&sorted, &config);
        // Customer 2 has been silent since January, customer 3 since its creation.
        assert_eq!(silent(&want), vec![2, 3]);
        let mut reversed = sorted;
        reversed.reverse();
        assert_eq!(records().due(&reversed, &config), want);
        // Customer 3 listed twice: the later, recent entry counts.
        let twice = [(id(3), old), (id(1), recent), (id(3), recent), (id(2), old)];
        assert_eq!(silent(&records().due(&twice, &config)), vec![2, 4]);
    }
}
