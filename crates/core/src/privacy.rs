//! Privacy: everything known about one customer as one bundle, and an audit log of
//! erasures that holds no personal data.
//!
//! Erasing a customer ([`Store::erase_customer`](crate::Store::erase_customer)) keeps
//! every amount, date, score, stage and id, so revenue, churn and satisfaction figures
//! do not move, and removes every piece of personal data and free text:
//!
//! | record | erased | kept |
//! |---|---|---|
//! | customer | name (→ `erased customer ID`), email, phone, company, birthday, tags, profile, external reference, notes, consents | id, created-at, stage, acquisition channel and cost |
//! | interactions | summary | channel, direction, time, sentiment |
//! | purchases | description | amount, cost, time, items, reference, deal |
//! | purchase lines | nothing (no personal data) | product, quantity, unit price, discount |
//! | refunds | reason | amount, time |
//! | surveys | comment | score, time |
//! | survey sheets | free-text answers (dropped) | template, scores, method, time |
//! | participations | note | kind, time |
//! | needs and pain points | note | kind, key, deal, times |
//! | service requests | subject (→ `erased`), description | kind, times, status |
//! | deals | title and lost reason (→ `erased`), notes (dropped) | value, stages, times |
//! | tasks | title (→ `erased`) | kind, due date, recurrence, cancellation time |
//! | points | reason | kind, points, balance, time |
//! | stage history | manual notes | stages, times, rules |
//!
//! Products are the business's own catalogue and hold nothing about a customer; the
//! lines of an erased customer's purchases stay whole, as the purchases' amounts do,
//! so product revenue, margins and co-purchase counts do not move either.

use chrono::{DateTime, Utc};

use serde::{Deserialize, Serialize};

use crate::customer::Customer;
use crate::deal::Deal;
use crate::ids::{AuditId, CustomerId};
use crate::interaction::Interaction;
use crate::lifecycle::StageChange;
use crate::loyalty::PointsEntry;
use crate::purchase::{Purchase, Refund};
use crate::service::ServiceRequest;
use crate::survey::SurveyResponse;
use crate::task::Task;
pub use crate::text::ERASED_LABEL;

/// Everything a store knows about one customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerExport {
    /// The customer.
    pub customer: Customer,
    /// Their lifecycle history, oldest first.
    pub stage_history: Vec<StageChange>,
    /// Their interactions, by time.
    pub interactions: Vec<Interaction>,
    /// Their purchases, by time.
    pub purchases: Vec<Purchase>,
    /// Refunds of their purchases, by time.
    pub refunds: Vec<Refund>,
    /// Their survey answers, by time.
    pub surveys: Vec<SurveyResponse>,
    /// Their service requests, by id.
    pub requests: Vec<ServiceRequest>,
    /// Their deals, by id.
    pub deals: Vec<Deal>,
    /// Tasks about them, by due date.
    pub tasks: Vec<Task>,
    /// Their points ledger, in posting order.
    pub points: Vec<PointsEntry>,
    /// Their answers to survey templates, by time (free-text answers included).
    #[serde(default)]
    pub survey_sheets: Vec<crate::questionnaire::SurveySheet>,
    /// Their participations (events, community, suggestions, reviews), by time.
    #[serde(default)]
    pub participations: Vec<crate::participation::Participation>,
    /// Their needs and pain points (on them and on their deals), by id, resolved and
    /// voided ones included.
    #[serde(default)]
    pub needs: Vec<crate::need::Need>,
    /// The coupons they used, by purchase id.
    #[serde(default)]
    pub redemptions: Vec<crate::offer::Redemption>,
    /// The campaign that acquired them, if one is recorded.
    #[serde(default)]
    pub campaign: Option<crate::ids::CampaignId>,
}

/// What an audit entry records. Never personal data: ids, times and kinds only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
#[non_exhaustive]
pub enum AuditAction {
    /// A customer's personal data was erased.
    CustomerErased {
        /// The customer.
        customer: CustomerId,
    },
}

/// One entry of the audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// The id.
    pub id: AuditId,
    /// When.
    pub at: DateTime<Utc>,
    /// What happened.
    #[serde(flatten)]
    pub action: AuditAction,
}
