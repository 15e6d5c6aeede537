//! The rules and metrics run over a snapshot: each reads what it needs through a
//! [`Reader`] (one transaction, so never torn by a writer) and hands plain data to the
//! pure functions of [`crate::policy`], [`crate::care`] and [`crate::metrics`], which
//! never see the storage port.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};

use super::{Crm, Reader, Writer};
use crate::care::{CareConfig, CareCustomer, CareItem, care_due};
use crate::ids::CustomerId;
use crate::lifecycle::{LifecycleStage, StageChange, StageReason};
use crate::metrics::{MetricError, MetricsReport, Period, ReportConfig, ReportData};
use crate::policy::{Behaviour, FutureDated, LifecyclePolicy, Reassessment, Suggestion};
use crate::store::{ActivityQuery, CustomerQuery, OpenQuery, StoreError, StoreResult, TaskQuery};
use crate::survey::SurveyKind;
use crate::time::TimeRange;

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
    /// The [`MetricsReport`] of `period`, from one snapshot: what
    /// `crm.read(|r| Ok(r.metrics_report(period, config)))?` gives, without the
    /// nested result.
    ///
    /// # Errors
    ///
    /// As [`Reader::metrics_report`], and the backend's error opening the snapshot.
    pub fn metrics_report(
        &self,
        period: Period,
        config: &ReportConfig,
    ) -> Result<MetricsReport, ReportError> {
        self.read(|r| Ok(r.metrics_report(period, config)))?
    }
}

impl Reader<'_> {
    /// Reads what a report of `period` needs, in this one snapshot: every customer
    /// (erased ones included), the purchase log, and the records up to the period's
    /// end.
    ///
    /// # Errors
    ///
    /// The backend's.
    pub fn report_data(&self, period: Period) -> StoreResult<ReportData> {
        let customers = self.all_matching(&CustomerQuery {
            include_erased: true,
            ..CustomerQuery::default()
        })?;
        let until = ActivityQuery {
            customer: None,
            range: TimeRange {
                from: None,
                to: period.time_range().to,
            },
        };
        let mut log = self.purchase_log()?;
        log.currency.get_or_insert(self.currency());
        Ok(ReportData {
            customers,
            log,
            purchases: self.purchases(&until)?,
            refunds: self.refunds(&until)?,
            surveys: self.surveys(&until)?,
            interactions: self.interactions(&until)?,
            deals: self.deals(&OpenQuery::default())?,
            requests: self.requests(&OpenQuery::default())?,
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
    /// Purchase days come from the [`PurchaseLog`](crate::PurchaseLog), without
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
        let log = self.purchase_log()?;
        let mut days: Vec<Vec<NaiveDate>> = vec![Vec::new(); log.customers.len()];
        for (k, &at) in log.at.iter().enumerate() {
            let when = DateTime::from_timestamp(at, 0)
                .filter(|t| crate::time::is_plausible(*t))
                .map(|t| t.date_naive());
            if let (Some(&idx), Some(day)) = (log.customer.get(k), when)
                && let Some(v) = days.get_mut(idx as usize)
            {
                v.push(day);
            }
        }
        let mut nps: HashMap<CustomerId, u8> = HashMap::new();
        let mut csat: HashMap<CustomerId, u8> = HashMap::new();
        // Surveys come ordered by time, so the last write per customer is the latest.
        for s in self.surveys(&ActivityQuery::ALL)? {
            if s.at() > as_of {
                continue;
            }
            match s.score().kind() {
                SurveyKind::Nps => nps.insert(s.customer(), s.score().value()),
                SurveyKind::Csat => csat.insert(s.customer(), s.score().value()),
                SurveyKind::Ces => None,
            };
        }
        let today = as_of.date_naive();
        let mut out = Reassessment::default();
        for c in self.all_matching(&CustomerQuery::default())? {
            let purchase_days = log
                .index_of(c.id())
                .and_then(|i| days.get(i as usize))
                .map_or(&[][..], Vec::as_slice);
            let churned = c.stage() == LifecycleStage::Churned;
            let mut history = if churned {
                Some(self.tx.stage_history(c.id())?)
            } else {
                None
            };
            let churned_on = history.as_ref().and_then(|h| {
                h.iter()
                    .rev()
                    .find(|h| h.to == LifecycleStage::Churned)
                    .map(|h| h.at.date_naive())
            });
            let behaviour = Behaviour {
                stage: c.stage(),
                purchase_days,
                latest_nps: nps.get(&c.id()).copied(),
                latest_csat: csat.get(&c.id()).copied(),
                churned_on,
            };
            let Some(s) = policy.suggest(&behaviour, today) else {
                continue;
            };
            // Only customers with a pending move need their history read.
            let history = match history.take() {
                Some(h) => h,
                None => self.tx.stage_history(c.id())?,
            };
            match history
                .into_iter()
                .filter(|h| h.at > as_of)
                .max_by_key(|h| h.at)
            {
                Some(change) => out.future_dated.push(FutureDated {
                    customer: c.id(),
                    change,
                    suggestion: s,
                }),
                None => out.suggestions.push((c.id(), s)),
            }
        }
        Ok(out)
    }

    /// Runs [`care_due`] over the books: every customer (erased ones skipped), their
    /// last contact (latest interaction or purchase at or before `as_of`), and the open
    /// tasks due by the end of the window.
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
        let mut last: HashMap<CustomerId, DateTime<Utc>> = HashMap::new();
        let mut note = |c: CustomerId, at: DateTime<Utc>| {
            if at <= as_of {
                let e = last.entry(c).or_insert(at);
                *e = (*e).max(at);
            }
        };
        let log = self.purchase_log()?;
        for (k, &at) in log.at.iter().enumerate() {
            if let (Some(&idx), Some(when)) = (log.customer.get(k), DateTime::from_timestamp(at, 0))
                && let Some(&id) = log.customers.get(idx as usize)
            {
                note(id, when);
            }
        }
        for i in self.interactions(&ActivityQuery::ALL)? {
            note(i.customer(), i.at());
        }
        let customers: Vec<CareCustomer> = self
            .all_matching(&CustomerQuery::default())?
            .into_iter()
            .map(|c| CareCustomer {
                id: c.id(),
                birthday: c.birthday(),
                stage: c.stage(),
                created_at: c.created_at(),
                last_contact: last.get(&c.id()).copied(),
                erased: c.is_erased(),
            })
            .collect();
        let today = as_of.date_naive();
        let end = today
            .checked_add_days(chrono::Days::new(horizon_days.into()))
            .unwrap_or(NaiveDate::MAX);
        let tasks = self.tasks(&TaskQuery {
            customer: None,
            due_until: Some(end),
            include_done: false,
        })?;
        Ok(care_due(today, horizon_days, config, &customers, &tasks))
    }
}

impl Writer<'_> {
    /// Applies a suggestion of [`Reader::reassess_all`]: records each step of its path
    /// as a stage change at `at`, with the suggestion's rule as the reason. All steps
    /// commit with the rest of the transaction, so a customer is never left half-moved.
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
        at: DateTime<Utc>,
    ) -> StoreResult<Vec<StageChange>> {
        let reason = StageReason::Rule {
            rule: suggestion.assessment.rule,
        };
        self.atomic(|w| {
            suggestion
                .path
                .iter()
                .map(|&to| w.change_stage(customer, to, at, reason.clone()))
                .collect()
        })
    }
}
