//! Domain events: what changed, appended to an outbox in the same transaction as the
//! change itself, and read back in order from a cursor (see
//! [`ReadTx::events`](crate::port::ReadTx::events)).
//!
//! # No personal data
//!
//! An event names records by id and carries only non-personal facts about them
//! (stages, kinds, amounts, scores). It never holds a name, an email, a phone number,
//! a note or any other free text, so erasing a customer leaves nothing personal in the
//! outbox: the records the ids point to are scrubbed by the erasure itself. The
//! conformance suite checks this after a full story.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::cost::CostCategory;
use crate::deal::DealStage;
use crate::ids::{
    CostId, CustomerId, DealId, InteractionId, PointsEntryId, PurchaseId, RefundId, RequestId,
    SurveyId, TaskId,
};
use crate::interaction::Channel;
use crate::lifecycle::LifecycleStage;
use crate::money::Money;
use crate::service::{RequestKind, RequestStatus};
use crate::survey::SurveyKind;

/// The position of an event in the outbox: 1, 2, 3 … in commit order, never reused.
pub type EventSeq = u64;

/// One thing that happened to the books.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum DomainEvent {
    /// A customer was created.
    CustomerCreated {
        /// The customer.
        customer: CustomerId,
        /// The stage they start in.
        stage: LifecycleStage,
    },
    /// A customer's data, tags or consent changed.
    CustomerUpdated {
        /// The customer.
        customer: CustomerId,
    },
    /// A customer moved from one lifecycle stage to another.
    StageChanged {
        /// The customer.
        customer: CustomerId,
        /// The stage before.
        from: LifecycleStage,
        /// The stage after.
        to: LifecycleStage,
        /// True if a person made the move, false if a policy rule did.
        manual: bool,
    },
    /// An interaction was logged.
    InteractionLogged {
        /// The customer.
        customer: CustomerId,
        /// The interaction.
        interaction: InteractionId,
        /// How it happened.
        channel: Channel,
    },
    /// A purchase was recorded (one at a time, not by an import).
    PurchaseRecorded {
        /// The customer.
        customer: CustomerId,
        /// The purchase.
        purchase: PurchaseId,
        /// Its amount.
        amount: Money,
        /// True if it is the customer's first purchase.
        first: bool,
    },
    /// A refund was recorded.
    RefundRecorded {
        /// The customer.
        customer: CustomerId,
        /// The purchase refunded.
        purchase: PurchaseId,
        /// The refund.
        refund: RefundId,
        /// Its amount.
        amount: Money,
    },
    /// A survey answer was recorded (one at a time, not by an import).
    SurveyAnswered {
        /// The customer.
        customer: CustomerId,
        /// The answer.
        survey: SurveyId,
        /// The kind of survey.
        kind: SurveyKind,
        /// The score given.
        score: u8,
    },
    /// A service request was opened.
    RequestOpened {
        /// The customer.
        customer: CustomerId,
        /// The request.
        request: RequestId,
        /// Its kind.
        kind: RequestKind,
    },
    /// A service request took a step.
    RequestUpdated {
        /// The customer.
        customer: CustomerId,
        /// The request.
        request: RequestId,
        /// Its status after the step.
        status: RequestStatus,
    },
    /// A deal was created.
    DealCreated {
        /// The customer.
        customer: CustomerId,
        /// The deal.
        deal: DealId,
        /// The stage it starts in.
        stage: DealStage,
    },
    /// A deal moved along the pipeline.
    DealMoved {
        /// The customer.
        customer: CustomerId,
        /// The deal.
        deal: DealId,
        /// The stage before.
        from: DealStage,
        /// The stage after.
        to: DealStage,
    },
    /// A deal's title, value or expected close date changed, or a note or lost reason
    /// was added.
    DealEdited {
        /// The customer.
        customer: CustomerId,
        /// The deal.
        deal: DealId,
    },
    /// A task was created.
    TaskCreated {
        /// The task.
        task: TaskId,
        /// The customer it is about, if any.
        customer: Option<CustomerId>,
    },
    /// A task was completed (a recurring task: one occurrence).
    TaskCompleted {
        /// The task.
        task: TaskId,
        /// The customer it is about, if any.
        customer: Option<CustomerId>,
    },
    /// A task's title, kind or due date changed.
    TaskEdited {
        /// The task.
        task: TaskId,
        /// The customer it is about, if any.
        customer: Option<CustomerId>,
    },
    /// A task was cancelled.
    TaskCancelled {
        /// The task.
        task: TaskId,
        /// The customer it is about, if any.
        customer: Option<CustomerId>,
    },
    /// Points were posted to a customer's ledger.
    PointsPosted {
        /// The customer.
        customer: CustomerId,
        /// The ledger entry.
        entry: PointsEntryId,
        /// The change in points (negative for a redemption or expiry).
        delta: i64,
        /// The balance after it.
        balance: i64,
    },
    /// A segment was saved.
    SegmentCreated {
        /// Its name.
        name: String,
    },
    /// A segment was deleted.
    SegmentDeleted {
        /// Its name.
        name: String,
    },
    /// A cost was recorded.
    CostRecorded {
        /// The cost.
        cost: CostId,
        /// What for.
        category: CostCategory,
        /// How much.
        amount: Money,
        /// The acquisition channel it paid for (a closed-list-like tag, not free text).
        channel: Option<String>,
    },
    /// A cost was voided: it counts in no metric any more.
    CostVoided {
        /// The cost.
        cost: CostId,
    },
    /// A customer's personal data was erased.
    CustomerErased {
        /// The customer.
        customer: CustomerId,
    },
    /// A file import committed. One event for the whole import: imported history is
    /// not news to act on record by record, and a million-row import must not write a
    /// million events. Ids of each kind are consecutive, so the ranges name every
    /// record the import created.
    Imported {
        /// The created customers, first and last id, if any.
        customers: Option<(CustomerId, CustomerId)>,
        /// How many existing customers were updated.
        updated_customers: u64,
        /// The recorded purchases, first and last id, if any.
        purchases: Option<(PurchaseId, PurchaseId)>,
        /// The recorded survey answers, first and last id, if any.
        surveys: Option<(SurveyId, SurveyId)>,
    },
    /// An interaction was changed.
    InteractionEdited {
        /// The customer.
        customer: CustomerId,
        /// The interaction.
        interaction: InteractionId,
    },
    /// An interaction was voided: it stays in the books and counts nowhere.
    InteractionVoided {
        /// The customer.
        customer: CustomerId,
        /// The interaction.
        interaction: InteractionId,
    },
    /// A purchase was changed.
    PurchaseEdited {
        /// The customer.
        customer: CustomerId,
        /// The purchase.
        purchase: PurchaseId,
        /// Its amount after the change.
        amount: Money,
    },
    /// A purchase was voided: it stays in the books and counts nowhere.
    PurchaseVoided {
        /// The customer.
        customer: CustomerId,
        /// The purchase.
        purchase: PurchaseId,
        /// Its amount, no longer counted.
        amount: Money,
    },
    /// A survey answer was voided: it counts in no NPS, CSAT or CES.
    SurveyVoided {
        /// The customer.
        customer: CustomerId,
        /// The answer.
        survey: SurveyId,
        /// The kind of survey.
        kind: SurveyKind,
    },
    /// A survey sheet was voided (ADR 0050): it counts in no dimension analysis.
    SurveySheetVoided {
        /// The customer.
        customer: CustomerId,
        /// The template answered.
        template: crate::text::Tag,
        /// When they answered (the sheet's key with the two above).
        answered_at: DateTime<Utc>,
    },
}

impl DomainEvent {
    /// The customer the event is about, if it is about one.
    pub fn customer(&self) -> Option<CustomerId> {
        use DomainEvent as E;
        match self {
            E::CustomerCreated { customer, .. }
            | E::CustomerUpdated { customer }
            | E::StageChanged { customer, .. }
            | E::InteractionLogged { customer, .. }
            | E::PurchaseRecorded { customer, .. }
            | E::RefundRecorded { customer, .. }
            | E::SurveyAnswered { customer, .. }
            | E::RequestOpened { customer, .. }
            | E::RequestUpdated { customer, .. }
            | E::DealCreated { customer, .. }
            | E::DealMoved { customer, .. }
            | E::DealEdited { customer, .. }
            | E::PointsPosted { customer, .. }
            | E::InteractionEdited { customer, .. }
            | E::InteractionVoided { customer, .. }
            | E::PurchaseEdited { customer, .. }
            | E::PurchaseVoided { customer, .. }
            | E::SurveyVoided { customer, .. }
            | E::SurveySheetVoided { customer, .. }
            | E::CustomerErased { customer } => Some(*customer),
            E::TaskCreated { customer, .. }
            | E::TaskCompleted { customer, .. }
            | E::TaskEdited { customer, .. }
            | E::TaskCancelled { customer, .. } => *customer,
            E::SegmentCreated { .. }
            | E::SegmentDeleted { .. }
            | E::Imported { .. }
            | E::CostRecorded { .. }
            | E::CostVoided { .. } => None,
        }
    }

    /// The event's name, as in its serde form (`purchase_recorded`).
    pub fn name(&self) -> &'static str {
        use DomainEvent as E;
        match self {
            E::CustomerCreated { .. } => "customer_created",
            E::CustomerUpdated { .. } => "customer_updated",
            E::StageChanged { .. } => "stage_changed",
            E::InteractionLogged { .. } => "interaction_logged",
            E::PurchaseRecorded { .. } => "purchase_recorded",
            E::RefundRecorded { .. } => "refund_recorded",
            E::SurveyAnswered { .. } => "survey_answered",
            E::RequestOpened { .. } => "request_opened",
            E::RequestUpdated { .. } => "request_updated",
            E::DealCreated { .. } => "deal_created",
            E::DealMoved { .. } => "deal_moved",
            E::DealEdited { .. } => "deal_edited",
            E::TaskEdited { .. } => "task_edited",
            E::TaskCancelled { .. } => "task_cancelled",
            E::TaskCreated { .. } => "task_created",
            E::TaskCompleted { .. } => "task_completed",
            E::PointsPosted { .. } => "points_posted",
            E::SegmentCreated { .. } => "segment_created",
            E::SegmentDeleted { .. } => "segment_deleted",
            E::CostRecorded { .. } => "cost_recorded",
            E::CostVoided { .. } => "cost_voided",
            E::CustomerErased { .. } => "customer_erased",
            E::Imported { .. } => "imported",
            E::InteractionEdited { .. } => "interaction_edited",
            E::InteractionVoided { .. } => "interaction_voided",
            E::PurchaseEdited { .. } => "purchase_edited",
            E::PurchaseVoided { .. } => "purchase_voided",
            E::SurveyVoided { .. } => "survey_voided",
            E::SurveySheetVoided { .. } => "survey_sheet_voided",
        }
    }
}

/// An event as the outbox holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// Its position in the outbox.
    pub seq: EventSeq,
    /// When it happened, as the caller said (the time of the purchase, the move …);
    /// `None` for an operation that takes no time (editing a customer's data, say).
    pub at: Option<DateTime<Utc>>,
    /// What happened.
    pub event: DomainEvent,
}
