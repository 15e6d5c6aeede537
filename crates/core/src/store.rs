//! The contract of solocrm's operations: [`Store`], every business operation as one
//! call, and the one error type, [`StoreError`], that every operation reports in.
//!
//! [`Crm`](crate::Crm) implements `Store` over any backend of the storage port
//! ([`crate::port`]), each call in its own transaction; the same operations compose in
//! one transaction through [`Crm::write`](crate::Crm::write). Backends do not implement
//! `Store` (ADR 0004): the rules below exist once, in [`crate::ops`].
//!
//! # Contract
//!
//! - **Atomic.** Every method happens entirely or not at all. A method that fails has
//!   changed nothing, including [`Store::record_purchases`] with one bad row in a
//!   million.
//! - **Validated.** Inputs are domain types, so text and scores are valid on arrival.
//!   The store checks what needs its state: that referenced records exist
//!   ([`StoreError::NotFound`]), uniqueness, balances, links and erasure
//!   ([`StoreError::Conflict`]), state machines ([`StoreError::InvalidTransition`]),
//!   and money against the base currency ([`StoreError::Validation`]). Money is stored
//!   in its [`Money::for_storage`](crate::Money::for_storage) form.
//! - **Ordered.** Every list comes in a documented, deterministic order, so two stores
//!   holding the same data give the same answers (a differential test checks this).
//! - **Erased stays erased.** A new record that names an erased customer is refused
//!   with [`Conflict::CustomerErased`], and so is editing their data, tags or consent.
//!   Steps of records that already exist (moving a deal, answering a request,
//!   completing a task, refunding a purchase, changing the stage) stay possible, so
//!   the books can be closed, but carry no text: a refund reason or a stage note for
//!   an erased customer is [`Conflict::CustomerErased`] too.
//! - **Times are exact.** Instants round-trip to the nanosecond.
//! - **No clock.** Every time comes from the caller.
//! - **Shareable.** A store is `Send + Sync`; methods take `&self`.
//!
//! The conformance suite in `solocrm-store-tests` checks all of the above.

use std::error::Error as StdError;
use std::fmt;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::customer::{Consent, Customer, CustomerData, NewCustomer};
use crate::deal::{Deal, DealStage, NewDeal};
use crate::error::{Conflict, DomainError, ValidationError};
use crate::ids::{CustomerId, DealId, InteractionId, PurchaseId, RequestId, SurveyId, TaskId};
use crate::interaction::{Interaction, InteractionEdit, NewInteraction};
use crate::lifecycle::{LifecycleStage, StageChange, StageReason, TransitionError};
use crate::loyalty::{NewPointsEntry, PointsEntry};
use crate::money::Currency;
use crate::names::named_enum;
use crate::privacy::{AuditEntry, CustomerExport};
use crate::purchase::{NewPurchase, NewRefund, Purchase, PurchaseEdit, PurchaseLog, Refund};
use crate::segment::{Predicate, Segment};
use crate::service::{NewServiceRequest, RequestEventKind, ServiceRequest};
use crate::survey::{NewSurveyResponse, SurveyResponse};
use crate::task::{NewTask, Task};
use crate::text::{Email, ExternalRef, Label, Tag};
use crate::time::TimeRange;
use crate::void::Void;

named_enum! {
    /// The kinds of record a store holds, for [`StoreError::NotFound`].
    pub enum Entity as "entity" {
        /// A customer.
        Customer = "customer",
        /// A purchase.
        Purchase = "purchase",
        /// An interaction.
        Interaction = "interaction",
        /// A survey answer.
        Survey = "survey",
        /// A deal.
        Deal = "deal",
        /// A service request.
        Request = "service_request",
        /// A task.
        Task = "task",
        /// A segment.
        Segment = "segment",
        /// A recorded cost.
        Cost = "cost",
        /// A tier of the points program.
        PointsTier = "points_tier",
        /// An automation rule.
        Rule = "rule",
        /// One of the founder's own holidays.
        Holiday = "holiday",
        /// A sales target.
        Target = "target",
        /// A marketing campaign.
        Campaign = "campaign",
        /// A survey template.
        SurveyTemplate = "survey_template",
        /// An offer (coupon).
        Offer = "offer",
        /// A product of the catalogue.
        Product = "product",
        /// A need or pain point.
        Need = "need",
        /// One customer's answer sheet to a survey template.
        SurveySheet = "survey_sheet",
    }
}

/// What went wrong in a store operation.
///
/// Printed as a chain (`{e:#}` with anyhow), no message repeats: a variant that shows
/// the error it holds in its own message exposes only that error's causes as its
/// [`source`](StdError::source), not the error itself.
#[derive(Debug)]
#[non_exhaustive]
pub enum StoreError {
    /// The record does not exist.
    NotFound {
        /// What kind of record.
        entity: Entity,
        /// Its key as a person would type it (an id, a name).
        key: String,
    },
    /// The request clashes with what the store holds.
    Conflict(Conflict),
    /// A state machine does not allow the move.
    InvalidTransition(TransitionError),
    /// The input is invalid for this store (e.g. money in a foreign currency).
    Validation(ValidationError),
    /// One row of a batch was refused, so none was written.
    Batch {
        /// The row's position in the batch.
        index: usize,
        /// Why it was refused.
        error: Box<StoreError>,
    },
    /// One record of an [`ImportBatch`] was refused, so none was written.
    Import {
        /// Which part of the batch.
        section: ImportSection,
        /// The record's position within that part.
        index: usize,
        /// Why it was refused.
        error: Box<StoreError>,
    },
    /// The backend failed (I/O, a corrupt file, a driver error).
    Backend(Box<dyn StdError + Send + Sync>),
    /// The source of a [`Store::import_parts`] reported an error, so the import stopped
    /// and nothing was written. Holds the source's error.
    Aborted(Box<dyn StdError + Send + Sync>),
    /// Another program held the database's write lock (a long import, say) for longer
    /// than the backend was willing to wait. Nothing was written; the same call may
    /// succeed once the other program finishes. Not a failure of the backend.
    Busy {
        /// How long the call waited for the lock.
        waited: Duration,
    },
}

/// `waited` in seconds as a person reads it: `10`, `1.5`, `0.25`.
fn seconds(waited: Duration) -> String {
    let ms = waited.as_millis();
    if ms.is_multiple_of(1000) {
        format!("{}", ms / 1000)
    } else {
        let text = format!("{}.{:03}", ms / 1000, ms % 1000);
        text.trim_end_matches('0').to_owned()
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::NotFound { entity, key } => write!(f, "{entity} {key} not found"),
            StoreError::Conflict(e) => fmt::Display::fmt(e, f),
            StoreError::InvalidTransition(e) => fmt::Display::fmt(e, f),
            StoreError::Validation(e) => fmt::Display::fmt(e, f),
            StoreError::Batch { index, error } => write!(
                f,
                "row {index} of the batch (counting from 0): {error}; nothing was written"
            ),
            StoreError::Import {
                section,
                index,
                error,
            } => write!(
                f,
                "{section} record {index} of the import (counting from 0): {error}; \
                 nothing was written"
            ),
            StoreError::Backend(e) => write!(f, "storage backend failed: {e}"),
            StoreError::Aborted(e) => {
                write!(f, "the import's source failed: {e}; nothing was written")
            }
            StoreError::Busy { waited } => write!(
                f,
                "the database is busy: another program is writing to it (an import?); \
                 waited {} s — try again when it finishes",
                seconds(*waited)
            ),
        }
    }
}

impl StdError for StoreError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        match self {
            // Shown in this error's message: only their causes follow in a chain.
            StoreError::Conflict(e) => e.source(),
            StoreError::InvalidTransition(e) => e.source(),
            StoreError::Validation(e) => e.source(),
            StoreError::Batch { error, .. } | StoreError::Import { error, .. } => error.source(),
            StoreError::Backend(e) | StoreError::Aborted(e) => e.source(),
            StoreError::NotFound { .. } | StoreError::Busy { .. } => None,
        }
    }
}

impl From<Conflict> for StoreError {
    fn from(e: Conflict) -> Self {
        StoreError::Conflict(e)
    }
}

impl From<TransitionError> for StoreError {
    fn from(e: TransitionError) -> Self {
        StoreError::InvalidTransition(e)
    }
}

impl From<ValidationError> for StoreError {
    fn from(e: ValidationError) -> Self {
        StoreError::Validation(e)
    }
}

/// The variant of a [`StoreError`], without its data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StoreErrorKind {
    /// [`StoreError::NotFound`].
    NotFound,
    /// [`StoreError::Conflict`].
    Conflict,
    /// [`StoreError::InvalidTransition`].
    InvalidTransition,
    /// [`StoreError::Validation`].
    Validation,
    /// [`StoreError::Batch`].
    Batch,
    /// [`StoreError::Import`].
    Import,
    /// [`StoreError::Backend`].
    Backend,
    /// [`StoreError::Aborted`].
    Aborted,
    /// [`StoreError::Busy`].
    Busy,
}

impl StoreError {
    /// A [`StoreError::NotFound`] for `entity` with `key`.
    pub fn not_found(entity: Entity, key: impl ToString) -> Self {
        StoreError::NotFound {
            entity,
            key: key.to_string(),
        }
    }

    /// Wraps a backend error.
    pub fn backend(err: impl StdError + Send + Sync + 'static) -> Self {
        StoreError::Backend(Box::new(err))
    }

    /// A [`StoreError::Busy`] after waiting `waited` for the write lock.
    pub fn busy(waited: Duration) -> Self {
        StoreError::Busy { waited }
    }

    /// True if the same call may succeed later unchanged ([`StoreError::Busy`], also
    /// inside a batch or an import).
    pub fn is_retryable(&self) -> bool {
        match self {
            StoreError::Busy { .. } => true,
            StoreError::Batch { error, .. } | StoreError::Import { error, .. } => {
                error.is_retryable()
            }
            _ => false,
        }
    }

    /// The variant, without its data.
    pub fn kind(&self) -> StoreErrorKind {
        match self {
            StoreError::NotFound { .. } => StoreErrorKind::NotFound,
            StoreError::Conflict(_) => StoreErrorKind::Conflict,
            StoreError::InvalidTransition(_) => StoreErrorKind::InvalidTransition,
            StoreError::Validation(_) => StoreErrorKind::Validation,
            StoreError::Batch { .. } => StoreErrorKind::Batch,
            StoreError::Import { .. } => StoreErrorKind::Import,
            StoreError::Backend(_) => StoreErrorKind::Backend,
            StoreError::Aborted(_) => StoreErrorKind::Aborted,
            StoreError::Busy { .. } => StoreErrorKind::Busy,
        }
    }
}

impl From<DomainError> for StoreError {
    fn from(e: DomainError) -> Self {
        match e {
            DomainError::Validation(v) => StoreError::Validation(v),
            DomainError::Transition(t) => StoreError::InvalidTransition(t),
            DomainError::Conflict(c) => StoreError::Conflict(c),
        }
    }
}

/// The result of a store operation.
pub type StoreResult<T> = Result<T, StoreError>;

/// The most customers one page may hold.
pub const MAX_PAGE_SIZE: u32 = 10_000;

/// A segment filter: the predicate and the date it is evaluated on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SegmentFilter {
    /// The predicate.
    pub predicate: Predicate,
    /// The time its behavioural conditions are evaluated at (purchases after it are
    /// ignored).
    pub as_of: DateTime<Utc>,
}

/// Which customers to list, and which page.
///
/// Pages are keyset-paginated by id: a page holds up to `limit` customers with ids
/// above `after`, ascending, and [`Page::next`] is the `after` of the next page. Keyset
/// pages stay correct while customers are added.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerQuery {
    /// Only customers in this stage.
    pub stage: Option<LifecycleStage>,
    /// Only customers with this tag.
    pub tag: Option<Tag>,
    /// Only customers in this segment.
    pub segment: Option<SegmentFilter>,
    /// Include erased customers (default: no).
    pub include_erased: bool,
    /// Only ids above this one.
    pub after: Option<CustomerId>,
    /// Page size, 1 to [`MAX_PAGE_SIZE`]. Default 100.
    pub limit: u32,
}

impl Default for CustomerQuery {
    fn default() -> Self {
        CustomerQuery {
            stage: None,
            tag: None,
            segment: None,
            include_erased: false,
            after: None,
            limit: 100,
        }
    }
}

impl CustomerQuery {
    /// Checks the page size.
    ///
    /// # Errors
    ///
    /// [`ValidationError::OutOfRange`] unless `1 <= limit <= MAX_PAGE_SIZE`.
    pub fn validate(&self) -> Result<(), ValidationError> {
        if (1..=MAX_PAGE_SIZE).contains(&self.limit) {
            Ok(())
        } else {
            Err(ValidationError::OutOfRange {
                field: "page size",
                value: self.limit.into(),
                min: 1,
                max: MAX_PAGE_SIZE.into(),
            })
        }
    }

    /// True if `c` passes the stage, tag and erasure filters (not the segment, which
    /// needs purchases).
    pub fn admits(&self, c: &Customer) -> bool {
        (self.include_erased || !c.is_erased())
            && self.stage.is_none_or(|s| c.stage() == s)
            && self.tag.as_ref().is_none_or(|t| c.tags().contains(t))
            && self.after.is_none_or(|a| c.id() > a)
    }
}

/// One page of results.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Page<T> {
    /// The items.
    pub items: Vec<T>,
    /// The cursor of the next page, if there may be more.
    pub next: Option<CustomerId>,
}

/// Which records of a customer's history to list.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivityQuery {
    /// Only this customer's.
    pub customer: Option<CustomerId>,
    /// Only within this time range.
    pub range: TimeRange,
    /// Also list voided records ([`crate::void`]); by default they are left out, as
    /// every metric and rule must leave them out. Refunds are never voided.
    #[serde(default)]
    pub include_voided: bool,
}

impl ActivityQuery {
    /// Everything that is not voided.
    pub const ALL: ActivityQuery = ActivityQuery {
        customer: None,
        range: TimeRange::ALL,
        include_voided: false,
    };

    /// Everything, voided records included (for the audit trail, an erasure, a
    /// privacy export).
    pub const EVERYTHING: ActivityQuery = ActivityQuery {
        customer: None,
        range: TimeRange::ALL,
        include_voided: true,
    };

    /// Everything of one customer that is not voided.
    pub fn customer(id: CustomerId) -> Self {
        ActivityQuery {
            customer: Some(id),
            range: TimeRange::ALL,
            include_voided: false,
        }
    }

    /// The same query, voided records included.
    #[must_use]
    pub fn with_voided(mut self) -> Self {
        self.include_voided = true;
        self
    }

    /// True if a record of `customer` at `at` matches, voided or not.
    pub fn admits(&self, customer: CustomerId, at: DateTime<Utc>) -> bool {
        self.customer.is_none_or(|c| c == customer) && self.range.contains(at)
    }

    /// True if a record of `customer` at `at`, voided if `voided`, matches.
    pub fn admits_record(&self, customer: CustomerId, at: DateTime<Utc>, voided: bool) -> bool {
        (self.include_voided || !voided) && self.admits(customer, at)
    }
}

/// Which deals or service requests to list.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenQuery {
    /// Only this customer's.
    pub customer: Option<CustomerId>,
    /// Only open ones (deals not won or lost; requests not resolved).
    pub open_only: bool,
}

impl OpenQuery {
    /// True if a record of `customer` that is `open` (a deal not won or lost, a
    /// request not resolved) matches.
    pub fn admits(&self, customer: CustomerId, open: bool) -> bool {
        self.customer.is_none_or(|c| c == customer) && (open || !self.open_only)
    }
}

/// Which tasks to list.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskQuery {
    /// Only tasks about this customer.
    pub customer: Option<CustomerId>,
    /// Only tasks due on or before this date.
    pub due_until: Option<NaiveDate>,
    /// Include one-off tasks that are done and tasks that were cancelled (default:
    /// no).
    pub include_done: bool,
}

impl TaskQuery {
    /// True if `task` matches.
    pub fn admits(&self, task: &Task) -> bool {
        self.customer.is_none_or(|c| task.customer() == Some(c))
            && self.due_until.is_none_or(|d| task.due() <= d)
            && (self.include_done || task.is_open())
    }
}

named_enum! {
    /// The parts of an [`ImportBatch`]. A part applies its customers (created, then
    /// updated), their attributions, then purchases, then surveys; the variants are
    /// listed in the order they were added, which is their order in
    /// [`ImportSection::ALL`].
    pub enum ImportSection as "import section" {
        /// [`ImportBatch::create_customers`].
        CreateCustomers = "create_customers",
        /// [`ImportBatch::update_customers`].
        UpdateCustomers = "update_customers",
        /// [`ImportBatch::purchases`].
        Purchases = "purchases",
        /// [`ImportBatch::surveys`].
        Surveys = "surveys",
        /// [`ImportBatch::attributions`].
        Attributions = "attributions",
    }
}

/// The customer a record of an [`ImportBatch`] belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CustomerRef {
    /// A customer already in the store.
    Existing(CustomerId),
    /// The `i`-th customer created by the same import: `create_customers[i]` of the
    /// batch, or counted over all parts so far in [`Store::import_parts`].
    New(usize),
}

/// Many writes applied as one: everything or nothing. What a file import needs.
///
/// The parts apply in order: customers are created (ids assigned in order), then
/// updated, then their campaigns are set, then purchases and survey answers are
/// recorded. A record's `customer`
/// field is ignored in favour of the [`CustomerRef`] beside it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportBatch {
    /// Customers to create.
    pub create_customers: Vec<NewCustomer>,
    /// Existing customers whose data to replace.
    pub update_customers: Vec<(CustomerId, CustomerData)>,
    /// Purchases to record.
    pub purchases: Vec<(CustomerRef, NewPurchase)>,
    /// Survey answers to record.
    pub surveys: Vec<(CustomerRef, NewSurveyResponse)>,
    /// The lines of some of this batch's purchases: `(i, lines)` gives `purchases[i]`
    /// its lines, in increasing `i`, each purchase at most once. Checked as
    /// [`Writer::record_purchase_with_lines`](crate::ops::Writer::record_purchase_with_lines)
    /// checks them (known, live products; the amount exactly their sum); a refusal is
    /// the purchase's ([`ImportSection::Purchases`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub purchase_lines: Vec<(usize, Vec<crate::product::PurchaseLine>)>,
    /// Customers' campaigns to set (`Some`) or remove (`None`), applied after the
    /// part's customers are created and updated, as
    /// [`Writer::attribute`](crate::ops::Writer::attribute) would: the customer
    /// must be live and the campaign must exist. A refusal is
    /// [`ImportSection::Attributions`], its index counted over the whole import.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attributions: Vec<(CustomerRef, Option<crate::ids::CampaignId>)>,
}

/// What an [`ImportBatch`] created.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportReceipt {
    /// Ids of the created customers, in batch order.
    pub created_customers: Vec<CustomerId>,
    /// Ids of the recorded purchases, in batch order.
    pub purchases: Vec<PurchaseId>,
    /// Ids of the recorded survey answers, in batch order.
    pub surveys: Vec<crate::SurveyId>,
}

impl ImportBatch {
    /// True if the batch holds nothing.
    pub fn is_empty(&self) -> bool {
        self.create_customers.is_empty()
            && self.update_customers.is_empty()
            && self.purchases.is_empty()
            && self.surveys.is_empty()
            && self.attributions.is_empty()
    }
}

/// One part of a streamed import (see [`Store::import_parts`]): the next batch, or the
/// error that makes the source give up, which aborts the whole import.
pub type ImportPart = Result<ImportBatch, Box<dyn StdError + Send + Sync>>;

/// The keys a customer can be found by: what an importer needs to resolve the
/// `customer` column of a file without loading every customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerKeys {
    /// The id.
    pub id: CustomerId,
    /// The external reference, if any.
    pub external_ref: Option<ExternalRef>,
    /// The email, if any.
    pub email: Option<Email>,
    /// True if the customer was erased (an erased customer has no reference or email).
    pub erased: bool,
}

impl From<&Customer> for CustomerKeys {
    fn from(c: &Customer) -> Self {
        CustomerKeys {
            id: c.id(),
            external_ref: c.external_ref().cloned(),
            email: c.email().cloned(),
            erased: c.is_erased(),
        }
    }
}

/// Resolves a [`CustomerRef`] against the ids created so far in a batch.
///
/// # Errors
///
/// [`StoreError::NotFound`] for a `New` index beyond the created customers.
pub fn resolve_ref(r: CustomerRef, created: &[CustomerId]) -> StoreResult<CustomerId> {
    match r {
        CustomerRef::Existing(id) => Ok(id),
        CustomerRef::New(i) => created.get(i).copied().ok_or_else(|| {
            StoreError::not_found(Entity::Customer, format!("new customer #{i} of the import"))
        }),
    }
}

/// Builds the error for an import record.
pub fn import_error(section: ImportSection, index: usize, error: StoreError) -> StoreError {
    StoreError::Import {
        section,
        index,
        error: Box::new(error),
    }
}

/// Everything solocrm does with the books, one call each. See the [module docs](self)
/// for the contract; [`Crm`](crate::Crm) is the implementation.
///
/// Errors: every method returns [`StoreError::Backend`] if the backend fails, and the
/// other variants as listed under each method.
pub trait Store: Send + Sync {
    /// The currency the store keeps its books in. Set when the store is created.
    fn base_currency(&self) -> Currency;

    // ----- customers -----

    /// Creates a customer and returns them with their new id. Ids are assigned in
    /// increasing order.
    ///
    /// # Errors
    ///
    /// [`Conflict::DuplicateEmail`] (ignoring case), [`Conflict::DuplicateExternalRef`],
    /// [`StoreError::Validation`] for an acquisition cost in another currency or negative.
    fn create_customer(&self, new: NewCustomer) -> StoreResult<Customer>;

    /// The customer with `id`.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`].
    fn customer(&self, id: CustomerId) -> StoreResult<Customer>;

    /// The customer with this email, compared ignoring case.
    fn customer_by_email(&self, email: &Email) -> StoreResult<Option<Customer>>;

    /// The customer with this external reference, compared exactly.
    fn customer_by_external_ref(&self, reference: &ExternalRef) -> StoreResult<Option<Customer>>;

    /// Every customer's keys, erased customers included, ascending by id.
    fn customer_keys(&self) -> StoreResult<Vec<CustomerKeys>>;

    /// Replaces a customer's editable data.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`], [`Conflict::CustomerErased`], the uniqueness conflicts
    /// of [`Store::create_customer`] (a customer never clashes with themself).
    fn update_customer(&self, id: CustomerId, data: CustomerData) -> StoreResult<Customer>;

    /// One page of customers, ascending by id.
    ///
    /// # Errors
    ///
    /// [`StoreError::Validation`] for a page size outside 1..=[`MAX_PAGE_SIZE`].
    fn list_customers(&self, query: &CustomerQuery) -> StoreResult<Page<Customer>>;

    /// The number of customers, erased ones included.
    fn count_customers(&self) -> StoreResult<u64>;

    /// Adds a tag; `Ok(false)` if the customer already had it.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`], [`Conflict::CustomerErased`].
    fn tag_customer(&self, id: CustomerId, tag: &Tag) -> StoreResult<bool>;

    /// Removes a tag; `Ok(false)` if the customer did not have it.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`], [`Conflict::CustomerErased`].
    fn untag_customer(&self, id: CustomerId, tag: &Tag) -> StoreResult<bool>;

    /// Records a consent decision.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`], [`Conflict::CustomerErased`].
    fn record_consent(&self, id: CustomerId, consent: Consent) -> StoreResult<Customer>;

    // ----- lifecycle -----

    /// Moves a customer to another lifecycle stage and records the change.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`]; [`Conflict::CustomerErased`] for a manual change with a
    /// note of an erased customer; [`TransitionError::Lifecycle`] for a move the table
    /// forbids; [`ValidationError::TimeOrder`] if `at` is before the customer's last
    /// recorded change.
    fn change_stage(
        &self,
        id: CustomerId,
        to: LifecycleStage,
        at: DateTime<Utc>,
        reason: StageReason,
    ) -> StoreResult<StageChange>;

    /// A customer's stage changes, oldest first.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`].
    fn stage_history(&self, id: CustomerId) -> StoreResult<Vec<StageChange>>;

    // ----- interactions -----

    /// Logs an interaction.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`] for an unknown customer, [`Conflict::CustomerErased`].
    fn log_interaction(&self, new: NewInteraction) -> StoreResult<Interaction>;

    /// Interactions matching `query`, ordered by time, then id.
    fn interactions(&self, query: &ActivityQuery) -> StoreResult<Vec<Interaction>>;

    /// The interaction with this id, voided or not.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`].
    fn interaction(&self, id: InteractionId) -> StoreResult<Interaction>;

    /// Changes an interaction (see
    /// [`Writer::edit_interaction`](crate::Writer::edit_interaction)).
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`]; [`Conflict::Voided`]; [`Conflict::CustomerErased`]
    /// for a summary of an erased customer.
    fn edit_interaction(
        &self,
        id: InteractionId,
        edit: &InteractionEdit,
    ) -> StoreResult<Interaction>;

    /// Voids an interaction (see
    /// [`Writer::void_interaction`](crate::Writer::void_interaction)).
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`]; [`Conflict::Voided`]; [`Conflict::CustomerErased`]
    /// for a reason about an erased customer.
    fn void_interaction(&self, id: InteractionId, void: Void) -> StoreResult<Interaction>;

    // ----- purchases -----

    /// Records a purchase.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`] for an unknown customer or deal;
    /// [`Conflict::CustomerErased`]; [`StoreError::Validation`] for a negative amount or
    /// cost, another currency, or sub-minor-unit digits; [`Conflict::DuplicatePurchaseRef`];
    /// [`Conflict::DealOfAnotherCustomer`] or [`Conflict::DealNotWon`] for a bad deal link.
    fn record_purchase(&self, new: NewPurchase) -> StoreResult<Purchase>;

    /// Records many purchases at once, all or none, and returns their ids in order.
    ///
    /// # Errors
    ///
    /// [`StoreError::Batch`] with the index and error of the first row that
    /// [`Store::record_purchase`] would refuse; nothing is written then. Each row is
    /// checked in the order of [`Store::record_purchase`] (customer, money, a reference
    /// recorded before the batch, deal link) and then for a reference repeated within
    /// the batch ([`Conflict::DuplicateRefInBatch`]), so a repeated row that is also bad
    /// in another way reports the other fault. ([`Store::import`] checks repeats first:
    /// there a row may name a customer created by the same batch.)
    fn record_purchases(&self, batch: Vec<NewPurchase>) -> StoreResult<Vec<PurchaseId>>;

    /// Applies an [`ImportBatch`], all or none. Each record is checked exactly as the
    /// single-record method would check it ([`Store::create_customer`],
    /// [`Store::update_customer`], [`Store::record_purchase`], [`Store::record_survey`]),
    /// against the store as changed by the records before it in the batch, with one
    /// exception: a purchase reference repeated within the batch is
    /// [`Conflict::DuplicateRefInBatch`] (checked first), not a clash with the earlier
    /// row. An id named in an error (e.g. the `existing` customer of a duplicate email)
    /// may belong to a record created earlier in the same, refused batch.
    ///
    /// # Errors
    ///
    /// [`StoreError::Import`] with the section, index and error of the first record
    /// refused; nothing is written then.
    fn import(&self, batch: ImportBatch) -> StoreResult<ImportReceipt> {
        self.import_parts(&mut std::iter::once(Ok(batch)))
    }

    /// Applies a stream of [`ImportBatch`] parts as one import, all or none.
    ///
    /// The parts are pulled one at a time and applied in turn, each as
    /// [`Store::import`] applies a batch, but all in one transaction. Across the parts:
    /// [`CustomerRef::New`]`(i)` names the `i`-th customer created by the parts so far;
    /// an index in an error counts the records of that section in all parts so far; a
    /// purchase reference repeated anywhere in the stream is
    /// [`Conflict::DuplicateRefInBatch`]; and the receipt lists the ids of all parts.
    ///
    /// Pulling lazily lets a caller produce the next part (say, parse the next rows of a
    /// file, on another thread) while the store writes the previous one, and keeps
    /// memory bounded by the parts in flight rather than the whole import. The store is
    /// locked for writing until the stream ends, so the iterator must not use this
    /// store.
    ///
    /// # Errors
    ///
    /// [`StoreError::Import`] as for [`Store::import`]; [`StoreError::Aborted`] with the
    /// source's error if a part is `Err`. Nothing is written then.
    fn import_parts(
        &self,
        parts: &mut dyn Iterator<Item = ImportPart>,
    ) -> StoreResult<ImportReceipt>;

    /// The purchase with `id`.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`].
    fn purchase(&self, id: PurchaseId) -> StoreResult<Purchase>;

    /// Purchases matching `query`, ordered by time, then id.
    fn purchases(&self, query: &ActivityQuery) -> StoreResult<Vec<Purchase>>;

    /// Every purchase as a columnar [`PurchaseLog`] (rows in id order; all customers,
    /// ascending, in the customer index).
    fn purchase_log(&self) -> StoreResult<PurchaseLog>;

    /// Changes a purchase (see [`Writer::edit_purchase`](crate::Writer::edit_purchase)).
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`]; [`Conflict::Voided`]; [`Conflict::CustomerErased`]
    /// for a description of an erased customer's purchase; [`StoreError::Validation`]
    /// for bad money or a time after the first refund;
    /// [`Conflict::AmountBelowRefunded`]; [`Conflict::DuplicatePurchaseRef`].
    fn edit_purchase(&self, id: PurchaseId, edit: &PurchaseEdit) -> StoreResult<Purchase>;

    /// Voids a purchase (see [`Writer::void_purchase`](crate::Writer::void_purchase)).
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`]; [`Conflict::Voided`]; [`Conflict::VoidRefunded`];
    /// [`Conflict::CustomerErased`] for a reason about an erased customer.
    fn void_purchase(&self, id: PurchaseId, void: Void) -> StoreResult<Purchase>;

    /// Records a refund of (part of) a purchase.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`] for an unknown purchase; [`Conflict::CustomerErased`] for
    /// a refund with a reason of an erased customer's purchase;
    /// [`StoreError::Validation`] for an amount that is not positive or in another currency, or a time before the
    /// purchase ([`ValidationError::TimeOrder`]); [`Conflict::RefundExceedsPurchase`].
    fn record_refund(&self, new: NewRefund) -> StoreResult<Refund>;

    /// Refunds matching `query` (by the purchase's customer and the refund's time),
    /// ordered by time, then id.
    fn refunds(&self, query: &ActivityQuery) -> StoreResult<Vec<Refund>>;

    // ----- surveys -----

    /// The survey answer with this id, voided or not.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`].
    fn survey(&self, id: SurveyId) -> StoreResult<SurveyResponse>;

    /// Voids a survey answer (see [`Writer::void_survey`](crate::Writer::void_survey)).
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`]; [`Conflict::Voided`]; [`Conflict::CustomerErased`]
    /// for a reason about an erased customer.
    fn void_survey(&self, id: SurveyId, void: Void) -> StoreResult<SurveyResponse>;

    /// Records a survey answer.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`] for an unknown customer, [`Conflict::CustomerErased`].
    fn record_survey(&self, new: NewSurveyResponse) -> StoreResult<SurveyResponse>;

    /// Survey answers matching `query`, ordered by time, then id.
    fn surveys(&self, query: &ActivityQuery) -> StoreResult<Vec<SurveyResponse>>;

    // ----- service requests -----

    /// Opens a service request.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`] for an unknown customer or deal,
    /// [`Conflict::CustomerErased`], and the deal-link conflicts of
    /// [`Store::record_purchase`].
    fn open_request(&self, new: NewServiceRequest) -> StoreResult<ServiceRequest>;

    /// Applies a step (respond, resolve, reopen) to a request; see
    /// [`ServiceRequest::apply`].
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`]; [`TransitionError::Request`];
    /// [`ValidationError::TimeOrder`].
    fn update_request(
        &self,
        id: RequestId,
        step: RequestEventKind,
        at: DateTime<Utc>,
    ) -> StoreResult<ServiceRequest>;

    /// The request with `id`.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`].
    fn request(&self, id: RequestId) -> StoreResult<ServiceRequest>;

    /// Requests matching `query`, by id.
    fn requests(&self, query: &OpenQuery) -> StoreResult<Vec<ServiceRequest>>;

    // ----- deals -----

    /// Creates a deal.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`] for an unknown customer, [`Conflict::CustomerErased`],
    /// [`StoreError::Validation`] for a negative value, another currency, or a closed
    /// first stage.
    fn create_deal(&self, new: NewDeal) -> StoreResult<Deal>;

    /// Moves a deal; see [`Deal::move_to`].
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`]; [`TransitionError::Deal`];
    /// [`ValidationError::TimeOrder`].
    fn move_deal(&self, id: DealId, to: DealStage, at: DateTime<Utc>) -> StoreResult<Deal>;

    /// Changes a deal, adds a note or records why it was lost (see
    /// [`DealEdit`](crate::deal::DealEdit)).
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`]; [`Conflict::CustomerErased`];
    /// [`StoreError::Validation`] for a bad value; [`Conflict::DealNotLost`].
    fn edit_deal(&self, id: DealId, edit: &crate::deal::DealEdit) -> StoreResult<Deal>;

    /// The deal with `id`.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`].
    fn deal(&self, id: DealId) -> StoreResult<Deal>;

    /// Deals matching `query`, by id.
    fn deals(&self, query: &OpenQuery) -> StoreResult<Vec<Deal>>;

    // ----- tasks -----

    /// Creates a task.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`] for an unknown customer, [`Conflict::CustomerErased`].
    fn create_task(&self, new: NewTask) -> StoreResult<Task>;

    /// Completes a task; see [`Task::complete`].
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`], [`Conflict::TaskAlreadyDone`].
    fn complete_task(&self, id: TaskId, at: DateTime<Utc>) -> StoreResult<Task>;

    /// Changes a task's title, kind or due date; see [`Task::edit`].
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`], [`Conflict::TaskAlreadyDone`],
    /// [`Conflict::TaskCancelled`].
    fn edit_task(
        &self,
        id: TaskId,
        title: Option<Label>,
        kind: Option<crate::TaskKind>,
        due: Option<NaiveDate>,
    ) -> StoreResult<Task>;

    /// Cancels a task; see [`Task::cancel`].
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`], [`Conflict::TaskAlreadyDone`],
    /// [`Conflict::TaskCancelled`].
    fn cancel_task(&self, id: TaskId, at: DateTime<Utc>) -> StoreResult<Task>;

    /// The task with `id`.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`].
    fn task(&self, id: TaskId) -> StoreResult<Task>;

    /// Tasks matching `query`, by due date, then id.
    fn tasks(&self, query: &TaskQuery) -> StoreResult<Vec<Task>>;

    // ----- loyalty -----

    /// Posts a points entry.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`], [`Conflict::CustomerErased`],
    /// [`Conflict::InsufficientPoints`] if the balance would go below zero.
    fn post_points(&self, entry: NewPointsEntry) -> StoreResult<PointsEntry>;

    /// The tiers of the points program, lowest first.
    ///
    /// # Errors
    ///
    /// Only the backend's.
    fn points_tiers(&self) -> StoreResult<crate::PointsTiers>;

    /// Adds a tier of the points program, or moves the threshold of the one with its
    /// name; returns the tiers after.
    ///
    /// # Errors
    ///
    /// [`StoreError::Validation`] for a negative threshold or one another tier has.
    fn set_points_tier(&self, tier: crate::PointsTier) -> StoreResult<crate::PointsTiers>;

    /// Removes a tier of the points program; returns the tiers after.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`] if there is none by that name.
    fn remove_points_tier(&self, name: &Tag) -> StoreResult<crate::PointsTiers>;

    /// The book's holiday calendar (chosen presets and own holidays).
    ///
    /// # Errors
    ///
    /// Only the backend's.
    fn holiday_calendar(&self) -> StoreResult<crate::holiday::HolidayCalendar>;

    /// Adds one of the founder's own holidays, or replaces the one with its key.
    ///
    /// # Errors
    ///
    /// [`StoreError::Validation`] for a rule that cannot be stored (only fixed and
    /// lunar dates can).
    fn put_holiday(
        &self,
        holiday: crate::holiday::HolidayDef,
    ) -> StoreResult<crate::holiday::HolidayCalendar>;

    /// Removes one of the founder's own holidays.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`] if there is none by that key.
    fn remove_holiday(&self, key: &Tag) -> StoreResult<crate::holiday::HolidayCalendar>;

    /// Chooses the preset calendars (repeats are dropped, the first kept).
    ///
    /// # Errors
    ///
    /// Only the backend's.
    fn set_holiday_presets(
        &self,
        presets: &[crate::holiday::Preset],
    ) -> StoreResult<crate::holiday::HolidayCalendar>;

    /// Every sales target, in [`Target::sort_key`](crate::target::Target::sort_key)
    /// order.
    ///
    /// # Errors
    ///
    /// Only the backend's.
    fn targets(&self) -> StoreResult<Vec<crate::target::Target>>;

    /// Sets a sales target, replacing the one for its metric and period; returns it.
    ///
    /// # Errors
    ///
    /// [`StoreError::Validation`] for a revenue target with more decimals than the
    /// base currency has.
    fn set_target(&self, target: crate::target::Target) -> StoreResult<crate::target::Target>;

    /// Removes the target for this metric and period; returns it.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`] if there is none.
    fn remove_target(
        &self,
        metric: crate::target::TargetMetric,
        period: crate::target::TargetPeriod,
    ) -> StoreResult<crate::target::Target>;

    /// Every survey template, by name.
    ///
    /// # Errors
    ///
    /// Only the backend's.
    fn survey_templates(&self) -> StoreResult<Vec<crate::questionnaire::SurveyTemplate>>;

    /// Adds a survey template (see [`Writer::add_survey_template`](crate::Writer::add_survey_template)).
    ///
    /// # Errors
    ///
    /// [`Conflict::DuplicateSurveyTemplate`] if the name is taken.
    fn add_survey_template(
        &self,
        template: crate::questionnaire::SurveyTemplate,
    ) -> StoreResult<crate::questionnaire::SurveyTemplate>;

    /// Renames a survey template or replaces its questions (see
    /// [`Writer::edit_survey_template`](crate::Writer::edit_survey_template)).
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`]; [`Conflict::DuplicateSurveyTemplate`];
    /// [`Conflict::SurveyTemplateAnswered`] for new questions of an answered template;
    /// [`StoreError::Validation`].
    fn edit_survey_template(
        &self,
        name: &crate::Tag,
        edit: crate::questionnaire::SurveyTemplateEdit,
    ) -> StoreResult<crate::questionnaire::SurveyTemplate>;

    /// Removes a survey template no one has answered (see
    /// [`Writer::remove_survey_template`](crate::Writer::remove_survey_template)).
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`]; [`Conflict::SurveyTemplateAnswered`].
    fn remove_survey_template(
        &self,
        name: &crate::Tag,
    ) -> StoreResult<crate::questionnaire::SurveyTemplate>;

    /// Archives a survey template or brings it back (see
    /// [`Writer::set_survey_template_archived`](crate::Writer::set_survey_template_archived)).
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`].
    fn set_survey_template_archived(
        &self,
        name: &crate::Tag,
        archived: bool,
    ) -> StoreResult<crate::questionnaire::SurveyTemplate>;

    /// Records a customer's answers to a template (see
    /// [`Writer::record_survey_sheet`](crate::Writer::record_survey_sheet)).
    ///
    /// # Errors
    ///
    /// As [`Writer::record_survey_sheet`](crate::Writer::record_survey_sheet).
    fn record_survey_sheet(
        &self,
        sheet: crate::questionnaire::SurveySheet,
    ) -> StoreResult<crate::questionnaire::SurveySheet>;

    /// Voids a survey sheet (see
    /// [`Writer::void_survey_sheet`](crate::Writer::void_survey_sheet)).
    ///
    /// # Errors
    ///
    /// As [`Writer::void_survey_sheet`](crate::Writer::void_survey_sheet).
    fn void_survey_sheet(
        &self,
        key: &crate::questionnaire::SheetKey,
        void: Void,
    ) -> StoreResult<crate::questionnaire::SurveySheet>;

    /// The survey sheets of one customer or of all, by time, customer, template.
    ///
    /// # Errors
    ///
    /// Only the backend's.
    fn survey_sheets(
        &self,
        customer: Option<CustomerId>,
    ) -> StoreResult<Vec<crate::questionnaire::SurveySheet>>;

    /// The per-dimension analysis of every sheet, or of one template's (see
    /// [`analyse_dimensions`](crate::questionnaire::analysis::analyse_dimensions)).
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`] for an unknown template.
    fn survey_dimensions(
        &self,
        template: Option<&Tag>,
    ) -> StoreResult<crate::questionnaire::analysis::DimensionAnalysis>;

    /// Records a participation (see
    /// [`Writer::record_participation`](crate::Writer::record_participation)).
    ///
    /// # Errors
    ///
    /// As [`Writer::record_participation`](crate::Writer::record_participation).
    fn record_participation(
        &self,
        participation: crate::participation::Participation,
    ) -> StoreResult<crate::participation::Participation>;

    /// The participations of one customer or of all, by time, customer, kind.
    ///
    /// # Errors
    ///
    /// Only the backend's.
    fn participations(
        &self,
        customer: Option<CustomerId>,
    ) -> StoreResult<Vec<crate::participation::Participation>>;

    /// The offer with this code ([`Reader::offer`](crate::Reader::offer)).
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`].
    fn offer(&self, code: &crate::offer::OfferCode) -> StoreResult<crate::offer::Offer>;

    /// Every offer, by code.
    ///
    /// # Errors
    ///
    /// Only the backend's.
    fn offers(&self) -> StoreResult<Vec<crate::offer::Offer>>;

    /// Adds an offer ([`Writer::add_offer`](crate::Writer::add_offer)).
    ///
    /// # Errors
    ///
    /// [`StoreError::Validation`]; [`Conflict::DuplicateOfferCode`].
    fn add_offer(&self, offer: crate::offer::Offer) -> StoreResult<crate::offer::Offer>;

    /// Ends an offer at `at` ([`Writer::end_offer`](crate::Writer::end_offer)).
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`].
    fn end_offer(
        &self,
        code: &crate::offer::OfferCode,
        at: DateTime<Utc>,
    ) -> StoreResult<crate::offer::Offer>;

    /// Records a purchase with a coupon
    /// ([`Writer::record_purchase_with_offer`](crate::Writer::record_purchase_with_offer)).
    ///
    /// # Errors
    ///
    /// As that method.
    fn record_purchase_with_offer(
        &self,
        new: NewPurchase,
        code: &crate::offer::OfferCode,
    ) -> StoreResult<(Purchase, crate::offer::Redemption)>;

    /// The redemptions of one offer (`None`: of all), by purchase id.
    ///
    /// # Errors
    ///
    /// Only the backend's.
    fn redemptions(
        &self,
        code: Option<&crate::offer::OfferCode>,
    ) -> StoreResult<Vec<crate::offer::Redemption>>;

    /// An offer's performance ([`Reader::offer_stats`](crate::Reader::offer_stats)).
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`]; the backend's.
    fn offer_stats(
        &self,
        code: &crate::offer::OfferCode,
        lookback: u32,
    ) -> StoreResult<crate::offer::OfferStats>;

    /// The product catalogue, archived products included, by SKU.
    ///
    /// # Errors
    ///
    /// Only the backend's.
    fn products(&self) -> StoreResult<Vec<crate::product::Product>>;

    /// The product with this SKU.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`].
    fn product(&self, sku: &crate::product::Sku) -> StoreResult<crate::product::Product>;

    /// Adds a product (see [`Writer::add_product`](crate::ops::Writer::add_product)).
    ///
    /// # Errors
    ///
    /// [`StoreError::Validation`]; [`crate::Conflict::DuplicateSku`].
    fn add_product(&self, product: crate::product::Product)
    -> StoreResult<crate::product::Product>;

    /// Changes a product (see [`Writer::edit_product`](crate::ops::Writer::edit_product)).
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`]; [`StoreError::Validation`].
    fn edit_product(
        &self,
        sku: &crate::product::Sku,
        edit: &crate::product::ProductEdit,
    ) -> StoreResult<crate::product::Product>;

    /// Removes a product: deleted if no line names it, archived otherwise.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`].
    fn remove_product(
        &self,
        sku: &crate::product::Sku,
    ) -> StoreResult<crate::product::ProductRemoval>;

    /// Records a purchase with its lines (see
    /// [`Writer::record_purchase_with_lines`](crate::ops::Writer::record_purchase_with_lines)).
    ///
    /// # Errors
    ///
    /// Those of [`Store::record_purchase`]; [`StoreError::Validation`] if the amount is
    /// not exactly the sum of the lines; [`StoreError::NotFound`] for an unknown SKU;
    /// [`crate::Conflict::ProductArchived`].
    fn record_purchase_with_lines(
        &self,
        new: NewPurchase,
        lines: Vec<crate::product::PurchaseLine>,
    ) -> StoreResult<(Purchase, Vec<crate::product::PurchaseLine>)>;

    /// The lines of a purchase, in order.
    ///
    /// # Errors
    ///
    /// Only the backend's.
    fn purchase_lines(
        &self,
        purchase: PurchaseId,
    ) -> StoreResult<Vec<crate::product::PurchaseLine>>;

    /// Every purchase line, by purchase id and then in order.
    ///
    /// # Errors
    ///
    /// Only the backend's.
    fn all_purchase_lines(&self) -> StoreResult<Vec<(PurchaseId, crate::product::PurchaseLine)>>;

    /// Records a need or pain point (see
    /// [`Writer::record_need`](crate::Writer::record_need)).
    ///
    /// # Errors
    ///
    /// As [`Writer::record_need`](crate::Writer::record_need).
    fn record_need(&self, new: crate::need::NewNeed) -> StoreResult<crate::need::Need>;

    /// Marks a need or pain point resolved (see
    /// [`Writer::resolve_need`](crate::Writer::resolve_need)).
    ///
    /// # Errors
    ///
    /// As [`Writer::resolve_need`](crate::Writer::resolve_need).
    fn resolve_need(
        &self,
        id: crate::NeedId,
        at: chrono::DateTime<chrono::Utc>,
    ) -> StoreResult<crate::need::Need>;

    /// Voids a need or pain point recorded by mistake (see
    /// [`Writer::void_need`](crate::Writer::void_need)).
    ///
    /// # Errors
    ///
    /// As [`Writer::void_need`](crate::Writer::void_need).
    fn void_need(
        &self,
        id: crate::NeedId,
        at: chrono::DateTime<chrono::Utc>,
    ) -> StoreResult<crate::need::Need>;

    /// The needs and pain points of one customer or of all, by id, resolved and
    /// voided ones included.
    ///
    /// # Errors
    ///
    /// Only the backend's.
    fn needs(&self, customer: Option<CustomerId>) -> StoreResult<Vec<crate::need::Need>>;

    /// One need or pain point.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`] for an unknown id.
    fn need(&self, id: crate::NeedId) -> StoreResult<crate::need::Need>;

    /// The books' points validity; `None`: points never expire.
    ///
    /// # Errors
    ///
    /// Only the backend's.
    fn points_expiry(&self) -> StoreResult<Option<crate::PointsExpiry>>;

    /// Sets the books' points validity (`None`: points never expire).
    ///
    /// # Errors
    ///
    /// Only the backend's.
    fn set_points_expiry(&self, expiry: Option<crate::PointsExpiry>) -> StoreResult<()>;

    /// The customers whose points balance is above zero, by id.
    ///
    /// # Errors
    ///
    /// Only the backend's.
    fn points_holders(&self) -> StoreResult<Vec<CustomerId>>;

    /// Posts a customer's points lapses due by the end of `through`
    /// ([`Writer::post_due_lapses`](crate::Writer::post_due_lapses)).
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`]; [`Conflict::CustomerErased`](crate::Conflict).
    fn post_due_lapses(
        &self,
        customer: CustomerId,
        through: chrono::NaiveDate,
    ) -> StoreResult<Vec<PointsEntry>>;

    /// A customer's points balance (0 without entries).
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`].
    fn points_balance(&self, customer: CustomerId) -> StoreResult<i64>;

    /// A customer's ledger, in posting order.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`].
    fn points_ledger(&self, customer: CustomerId) -> StoreResult<Vec<PointsEntry>>;

    // ----- segments -----

    /// Saves a named segment.
    ///
    /// # Errors
    ///
    /// [`Conflict::DuplicateSegment`] if the name is taken (names compare exactly).
    fn create_segment(&self, segment: Segment) -> StoreResult<()>;

    /// The segment named `name`.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`].
    fn segment(&self, name: &Label) -> StoreResult<Segment>;

    /// Every segment, by name.
    fn segments(&self) -> StoreResult<Vec<Segment>>;

    /// Deletes the segment named `name`.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`].
    fn delete_segment(&self, name: &Label) -> StoreResult<()>;

    // ----- privacy -----

    /// Erases a customer's personal data everywhere (see [`crate::privacy`]) and adds
    /// an audit entry, which it returns.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`], [`Conflict::AlreadyErased`].
    fn erase_customer(&self, id: CustomerId, at: DateTime<Utc>) -> StoreResult<AuditEntry>;

    /// Everything known about a customer.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`].
    fn export_customer(&self, id: CustomerId) -> StoreResult<CustomerExport>;

    /// The audit log, oldest first.
    fn audit_log(&self) -> StoreResult<Vec<AuditEntry>>;

    // ----- search and costs -----

    /// The customers matching `text`, ranked (see [`crate::search`]): up to `limit`
    /// (all with `None`), and how many matched in all.
    fn search_customers(
        &self,
        text: &crate::search::SearchText,
        limit: Option<usize>,
    ) -> StoreResult<(Vec<Customer>, usize)>;

    /// Records a cost.
    ///
    /// # Errors
    ///
    /// [`StoreError::Validation`] for an amount of zero or less or in another currency.
    fn record_cost(&self, new: crate::cost::NewCost) -> StoreResult<crate::cost::Cost>;

    /// Voids a cost.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`]; [`Conflict::CostAlreadyVoid`].
    fn void_cost(
        &self,
        id: crate::ids::CostId,
        at: DateTime<Utc>,
        reason: Label,
    ) -> StoreResult<crate::cost::Cost>;

    /// Every cost, voided ones included, by time then id.
    fn costs(&self) -> StoreResult<Vec<crate::cost::Cost>>;

    // ----- campaigns -----

    /// Every campaign, by id.
    ///
    /// # Errors
    ///
    /// Only the backend's.
    fn campaigns(&self) -> StoreResult<Vec<crate::campaign::Campaign>>;

    /// The campaign with this id.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`].
    fn campaign(&self, id: crate::ids::CampaignId) -> StoreResult<crate::campaign::Campaign>;

    /// Adds a campaign; its id is one more than the largest so far.
    ///
    /// # Errors
    ///
    /// [`StoreError::Validation`] (days out of order or range, a negative budget or
    /// one in another currency); [`Conflict::DuplicateCampaign`].
    fn add_campaign(
        &self,
        new: crate::campaign::NewCampaign,
    ) -> StoreResult<crate::campaign::Campaign>;

    /// Changes a campaign's fields.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`]; as [`Store::add_campaign`].
    fn edit_campaign(
        &self,
        id: crate::ids::CampaignId,
        edit: &crate::campaign::CampaignEdit,
    ) -> StoreResult<crate::campaign::Campaign>;

    /// Every attribution, customers first, then deals, then costs, each by id.
    ///
    /// # Errors
    ///
    /// Only the backend's.
    fn attributions(&self) -> StoreResult<Vec<crate::campaign::Attribution>>;

    /// Attributes `subject` to `campaign`, replacing its earlier campaign, or with
    /// `None` removes its attribution; returns the earlier campaign.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`] for an unknown subject or campaign;
    /// [`Conflict::CustomerErased`] for an erased customer.
    fn attribute(
        &self,
        subject: crate::campaign::AttributionSubject,
        campaign: Option<crate::ids::CampaignId>,
    ) -> StoreResult<Option<crate::ids::CampaignId>>;

    /// Records a cost spent on `campaign`, cost and attribution in one transaction.
    ///
    /// # Errors
    ///
    /// As [`Store::record_cost`]; [`StoreError::NotFound`] for an unknown campaign
    /// (and nothing is recorded).
    fn record_campaign_cost(
        &self,
        new: crate::cost::NewCost,
        campaign: crate::ids::CampaignId,
    ) -> StoreResult<crate::cost::Cost>;
}

/// Checks that a record of `customer` may link to `deal` as after-sales: same customer,
/// and won. For store implementations.
///
/// # Errors
///
/// [`Conflict::DealOfAnotherCustomer`] or [`Conflict::DealNotWon`].
pub fn check_after_sales_link(deal: &Deal, customer: CustomerId) -> Result<(), Conflict> {
    if deal.customer() != customer {
        return Err(Conflict::DealOfAnotherCustomer {
            deal: deal.id(),
            owner: deal.customer(),
            customer,
        });
    }
    if deal.stage() != DealStage::Won {
        return Err(Conflict::DealNotWon {
            deal: deal.id(),
            stage: deal.stage(),
        });
    }
    Ok(())
}

/// Checks that a new record may name `customer`: refuses erased customers. For store
/// implementations.
///
/// # Errors
///
/// [`Conflict::CustomerErased`].
pub fn check_not_erased(customer: &Customer) -> Result<(), Conflict> {
    if customer.is_erased() {
        Err(Conflict::CustomerErased {
            customer: customer.id(),
        })
    } else {
        Ok(())
    }
}

/// Checks a stage change against the table and the time of the last change, applies it
/// to `customer`, and returns the record. For store implementations.
///
/// # Errors
///
/// [`TransitionError::Lifecycle`], [`ValidationError::TimeOrder`].
pub fn apply_stage_change(
    customer: &mut Customer,
    last_change_at: Option<DateTime<Utc>>,
    to: LifecycleStage,
    at: DateTime<Utc>,
    reason: StageReason,
) -> Result<StageChange, DomainError> {
    check_stage_change(customer.stage(), last_change_at, to, at)?;
    Ok(customer.move_to(to, at, reason)?)
}

/// Checks a move from stage `from` to `to` at `at` against the lifecycle's table and
/// the time of the last change: what [`apply_stage_change`] checks, for a caller that
/// holds the stage alone rather than the whole customer.
///
/// # Errors
///
/// [`TransitionError::Lifecycle`], [`ValidationError::TimeOrder`].
pub fn check_stage_change(
    from: LifecycleStage,
    last_change_at: Option<DateTime<Utc>>,
    to: LifecycleStage,
    at: DateTime<Utc>,
) -> Result<(), DomainError> {
    from.check_move(to)?;
    if let Some(last) = last_change_at
        && at < last
    {
        return Err(ValidationError::TimeOrder {
            field: "stage change",
            at,
            earlier_field: "the previous stage change",
            earlier: last,
        }
        .into());
    }
    Ok(())
}

/// Checks a refund against its purchase and what was already refunded of it, and
/// returns the refund in stored form. For store implementations.
///
/// # Errors
///
/// [`ValidationError`]s of [`NewRefund::for_storage`], [`ValidationError::TimeOrder`]
/// before the purchase, [`Conflict::RefundExceedsPurchase`].
pub fn check_refund(
    new: NewRefund,
    purchase: &Purchase,
    already_refunded: crate::Money,
    base: Currency,
) -> Result<NewRefund, DomainError> {
    let new = new.for_storage(base)?;
    if new.at < purchase.at() {
        return Err(ValidationError::TimeOrder {
            field: "refund",
            at: new.at,
            earlier_field: "its purchase",
            earlier: purchase.at(),
        }
        .into());
    }
    let refundable = purchase
        .amount()
        .checked_sub(already_refunded)
        .unwrap_or(crate::Money::zero(base));
    let left = refundable.checked_sub(new.amount).map_err(|_| {
        DomainError::Validation(ValidationError::CurrencyMismatch {
            field: "refund amount",
            expected: base,
            found: new.amount.currency(),
        })
    })?;
    if left.is_negative() {
        return Err(Conflict::RefundExceedsPurchase {
            purchase: purchase.id(),
            refundable,
            requested: new.amount,
        }
        .into());
    }
    Ok(new)
}

/// Builds the error for a batch row.
pub fn batch_error(index: usize, error: StoreError) -> StoreError {
    StoreError::Batch {
        index,
        error: Box::new(error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An error with a cause, like a driver error and its code.
    #[derive(Debug)]
    struct Outer(std::io::Error);

    impl fmt::Display for Outer {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "the driver failed")
        }
    }

    impl StdError for Outer {
        fn source(&self) -> Option<&(dyn StdError + 'static)> {
            Some(&self.0)
        }
    }

    fn links(e: &(dyn StdError + 'static)) -> Vec<String> {
        std::iter::successors(Some(e), |&e| e.source())
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn no_message_in_a_chain_repeats_its_cause() {
        let disk = || std::io::Error::other("disk on fire");
        let errors = [
            StoreError::backend(disk()),
            StoreError::backend(Outer(disk())),
            StoreError::Aborted(Box::new(Outer(disk()))),
            StoreError::Batch {
                index: 3,
                error: Box::new(StoreError::backend(Outer(disk()))),
            },
            StoreError::Import {
                section: ImportSection::Purchases,
                index: 0,
                error: Box::new(StoreError::Aborted(Box::new(disk()))),
            },
            StoreError::busy(Duration::from_secs(10)),
        ];
        for e in &errors {
            let chain = links(e);
            for pair in chain.windows(2) {
                assert!(
                    !pair[0].contains(&pair[1]),
                    "{:?} repeats its cause: {chain:?}",
                    e.kind()
                );
            }
            let all = chain.join(": ");
            assert_eq!(
                all.matches("disk on fire").count(),
                usize::from(e.kind() != StoreErrorKind::Busy),
                "{all}"
            );
        }
        // Nothing is lost: the cause of a wrapped error still follows.
        assert_eq!(
            links(&errors[1]),
            ["storage backend failed: the driver failed", "disk on fire"]
        );
    }

    #[test]
    fn busy_says_what_to_do_and_is_retryable() {
        let e = StoreError::busy(Duration::from_millis(1500));
        assert_eq!(
            e.to_string(),
            "the database is busy: another program is writing to it (an import?); \
             waited 1.5 s — try again when it finishes"
        );
        assert_eq!(e.kind(), StoreErrorKind::Busy);
        assert!(e.is_retryable());
        assert!(
            StoreError::busy(Duration::from_secs(10))
                .to_string()
                .contains("waited 10 s")
        );
        let in_batch = StoreError::Batch {
            index: 0,
            error: Box::new(e),
        };
        assert!(in_batch.is_retryable());
        assert!(!StoreError::backend(std::io::Error::other("x")).is_retryable());
    }
}
