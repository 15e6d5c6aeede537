//! # solocrm-core
//!
//! The domain, rules and storage port of [solocrm](https://example.invalid/solocrm), a
//! toolkit for the customer relationships of a one-person company.
//!
//! This crate does no I/O and never reads the clock: every function that needs "now"
//! takes an `as_of` argument, and storage is reached through the [`Store`] trait,
//! which other crates implement.
//!
//! - **Domain**: [`Customer`], [`Money`], [`Interaction`], [`Purchase`], [`Refund`],
//!   [`Deal`], [`SurveyResponse`], [`ServiceRequest`], [`Task`], the points ledger
//!   ([`PointsEntry`]) and tiers ([`TierRules`]), [`Segment`]s, [`Consent`] and the
//!   privacy [`CustomerExport`]. Every type is valid by construction.
//! - **Rules**: the lifecycle state machine ([`LifecycleStage`]), the
//!   [`LifecyclePolicy`] that says who should move, and the care reminders
//!   ([`care_due`]).
//! - **Metrics**: every formula in [`metrics`] (CSAT, NPS, churn and retention, repeat
//!   purchase rate, loyalty index, CAC, ROI, CLV, RFM, cohorts, pipeline, service, the
//!   churn early warning) and one [`MetricsReport`] of a period. The probabilistic
//!   customer-base models (BG/NBD, MBG/NBD, Pareto/NBD, Gamma-Gamma) are in the
//!   `solocrm-models` crate.
//! - **Storage port**: [`Store`] and [`StoreError`].
#![deny(missing_docs)]

mod money_value;
mod names;
mod sorted;
mod stages;
mod validation;

pub mod automation;
pub mod campaign;
pub mod care;
pub mod cost;
pub mod customer;
pub mod deal;
pub mod error;
pub mod event;
pub mod holiday;
pub mod ids;
pub mod interaction;
pub mod lifecycle;
pub mod loyalty;
pub mod metrics;
pub mod money;
pub mod need;
pub mod offer;
pub mod ops;
pub mod participation;
pub mod policy;
pub mod port;
pub mod privacy;
pub mod product;
pub mod purchase;
pub mod questionnaire;
pub mod search;
pub mod segment;
pub mod segment_syntax;
pub mod service;
pub mod store;
pub mod survey;
pub mod target;
pub mod task;
pub mod text;
pub mod time;
pub mod void;
pub mod zone;

pub use care::{CareConfig, CareCustomer, CareItem, CareReason, Holiday, care_due};
pub use cost::{Cost, CostCategory, CostVoid, NewCost};
pub use customer::{
    AgeBand, BirthYear, Consent, ConsentPurpose, Customer, CustomerData, Gender, IncomeBand,
    NewCustomer, Profile,
};
pub use deal::{Deal, DealEdit, DealNote, DealStage, DealStageChange, NewDeal, StageProbabilities};
pub use error::{Conflict, DomainError, ValidationError};
pub use event::{DomainEvent, Event, EventSeq};
pub use ids::{
    AuditId, CampaignId, CostId, CustomerId, DealId, InteractionId, NeedId, PointsEntryId,
    PurchaseId, RefundId, RequestId, SurveyId, TaskId,
};
pub use interaction::{
    Channel, Direction, Interaction, InteractionEdit, NewInteraction, Sentiment,
};
pub use lifecycle::{LifecycleStage, PolicyRule, StageChange, StageReason, TransitionError};
pub use loyalty::{
    Lapse, MAX_VALID_MONTHS, NewPointsEntry, PointsEntry, PointsExpiry, PointsKind, PointsLot,
    PointsTier, PointsTiers, Tier, TierRules, due_lapses, lapse_schedule, lifetime_points,
    open_lots,
};
pub use metrics::{
    ChurnWarning, CohortGrain, CohortMatrix, LogCosts, Measured, MetricError, MetricsReport,
    Period, Ratio, ReportConfig, ReportData, ReportInteraction, ReportPurchase, ReportPurchaseRead,
    ReportPurchases, RfmScore, RfmSegment, RfmTable, TieRule,
};
pub use money::{Currency, Money, MoneyError};
pub use names::NameList;
pub use ops::{
    CareRecords, Crm, Reader, ReportError, Writer,
    history::{AsOf, SharedReads},
};
pub use policy::{Assessment, Behaviour, Evidence, LifecyclePolicy, Suggestion};
pub use port::{
    ContactTimes, CustomerDates, CustomerFilter, CustomerStage, IdKind, ReadTx, ReportCustomer,
    Storage, WriteKind, WriteTx,
};
pub use privacy::{AuditAction, AuditEntry, CustomerExport};
pub use purchase::{NewPurchase, NewRefund, Purchase, PurchaseEdit, PurchaseLog, Refund};
pub use search::{SearchFields, SearchMatch, SearchText};
pub use segment::{
    Cmp, Comparison, Facts, Predicate, PurchaseSummary, Segment, SegmentFields, SegmentRow,
};
pub use service::{
    NewServiceRequest, RequestEvent, RequestEventKind, RequestKind, RequestStatus, ServiceRequest,
};
pub use store::{
    ActivityQuery, CustomerKeys, CustomerQuery, CustomerRef, Entity, ImportBatch, ImportPart,
    ImportReceipt, ImportSection, OpenQuery, Page, SegmentFilter, Store, StoreError,
    StoreErrorKind, StoreResult, TaskQuery,
};
pub use survey::{NewSurveyResponse, ScoredAnswer, SurveyKind, SurveyResponse, SurveyScore};
pub use task::{NewTask, Recurrence, Task, TaskKind};
pub use text::{CountryCode, Email, ExternalRef, FreeText, Label, PersonName, Phone, Tag, Tags};
pub use time::TimeRange;
pub use void::Void;
pub use zone::{BusinessZone, LocalDays};
