//! # solocrm-store-memory
//!
//! [`MemoryStore`]: solocrm's in-memory storage, the reference backend of the
//! transactional storage port ([`Storage`], [`ReadTx`], [`WriteTx`]). It only stores
//! and reads back records, with snapshot reads and all-or-nothing writes over
//! persistent maps; the business rules live once in the operations layer above it
//! ([`Crm`](solocrm_core::Crm)), which is what an application talks to:
//!
//! ```
//! use chrono::{TimeZone, Utc};
//! use solocrm_core::{Crm, Currency, CustomerData, NewCustomer, PersonName, Store};
//! use solocrm_store_memory::MemoryStore;
//!
//! let crm = Crm::new(MemoryStore::new(Currency::EUR));
//! let at = Utc.with_ymd_and_hms(2026, 1, 5, 9, 0, 0).unwrap();
//! let ada = crm.create_customer(NewCustomer::new(
//!     CustomerData::new(PersonName::parse("Ada Lovelace")?),
//!     at,
//! ))?;
//! assert_eq!(crm.customer(ada.id())?.name().as_str(), "Ada Lovelace");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The committed state is one value of persistent maps ([`imbl`]), so copying it is
//! O(1) and a copy shares everything with the original until either changes. A read
//! takes a copy under a short lock and works on it, so it never waits for a writer
//! and sees nothing committed after it started. A write takes the writer lock, works
//! on a copy (a draft) and, if its closure returns `Ok`, installs the draft as the new
//! committed state; otherwise it drops the draft, so a failed write leaves nothing.
//!
//! The backend holds no business rule. What it refuses is only what would break its
//! own indexes (two records under one id, two customers under one email key or
//! external reference, two purchases under one external reference, two segments under
//! one name, an update of a record that is not there), and it refuses that with
//! [`StoreError::Backend`], as the port's contract says an index that fires does.
#![deny(missing_docs)]

use std::borrow::Borrow;

use solocrm_core::product::{Product, PurchaseLine, Sku};
use std::error::Error as StdError;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use chrono::{DateTime, Utc};
use imbl::{OrdMap, OrdSet, Vector};
use solocrm_core::automation::{AutomationCursor, Firing, Occurrence, RuleName, RuleRecord};
use solocrm_core::port::{CustomerFilter, CustomerStage, IdKind, ReadTx, Storage, WriteTx};
use solocrm_core::{
    ActivityQuery, AuditEntry, AuditId, BusinessZone, Consent, Cost, CostId, Currency, Customer,
    CustomerId, CustomerKeys, Deal, DealId, Email, Event, EventSeq, ExternalRef, Interaction,
    InteractionId, Label, LifecycleStage, OpenQuery, PointsEntry, PointsEntryId, Purchase,
    PurchaseId, PurchaseLog, PurchaseSummary, Refund, RefundId, RequestId, SearchFields,
    SearchText, Segment, ServiceRequest, StageChange, StoreError, StoreResult, SurveyId,
    SurveyResponse, Task, TaskId, TaskQuery,
};

/// The in-memory storage backend: snapshot reads, serialised all-or-nothing writes.
///
/// `Send + Sync`; share it behind an `Arc` (or hand it to the operations layer, which
/// holds an `Arc<dyn Storage>`). Nothing is persisted: the data is gone when the
/// backend is dropped.
///
/// A read costs one copy of an `Arc`; a write one O(1) copy of the state, then
/// O(log n) per record it stores. Lists by customer (and a purchase's refunds) go
/// through an index, so they cost what they return, not what the store holds.
/// A write closure must not open another write on the same backend: it would wait
/// for itself. Reads inside it are fine (they see the last commit, not the draft).
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use solocrm_core::port::{IdKind, Storage};
/// use solocrm_core::{Currency, Customer, CustomerData, CustomerId, NewCustomer, PersonName};
/// use solocrm_store_memory::MemoryStore;
///
/// let backend = MemoryStore::new(Currency::EUR);
/// let at = Utc.with_ymd_and_hms(2026, 1, 5, 9, 0, 0).unwrap();
/// let data = CustomerData::new(PersonName::parse("Ada Lovelace")?);
///
/// // One write transaction: take an id, store the customer under it.
/// let mut id = None;
/// backend.write(&mut |tx| {
///     let next = CustomerId::new(tx.next_id(IdKind::Customer)?);
///     tx.insert_customer(&Customer::create(next, NewCustomer::new(data.clone(), at)))?;
///     id = Some(next);
///     Ok(())
/// })?;
/// let id = id.expect("the write ran");
/// assert_eq!(id, CustomerId::new(1));
///
/// // One read transaction over a snapshot.
/// let mut name = String::new();
/// backend.read(&mut |tx| {
///     let ada = tx.customer(id)?.expect("stored");
///     name = ada.name().as_str().to_owned();
///     Ok(())
/// })?;
/// assert_eq!(name, "Ada Lovelace");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct MemoryStore {
    currency: Currency,
    /// The committed state. Held only long enough to copy or replace the `Arc`.
    committed: Mutex<Arc<State>>,
    /// Held for the whole of a write transaction, so writes run one at a time.
    writer: Mutex<()>,
}

impl MemoryStore {
    /// An empty backend keeping its books in `currency`.
    pub fn new(currency: Currency) -> Self {
        MemoryStore {
            currency,
            committed: Mutex::new(Arc::new(State::default())),
            writer: Mutex::new(()),
        }
    }

    /// The committed state as of now.
    fn snapshot(&self) -> Arc<State> {
        Arc::clone(&lock(&self.committed))
    }
}

/// Locks `m`, also after a panic elsewhere: neither lock guards a half-done change
/// (a write works on a draft that a panic simply drops), so a poisoned lock is safe.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.snapshot();
        f.debug_struct("MemoryStore")
            .field("currency", &self.currency)
            .field("customers", &s.customers.len())
            .field("purchases", &s.purchases.rows.len())
            .field("events", &s.events.len())
            .finish_non_exhaustive()
    }
}

impl Storage for MemoryStore {
    fn base_currency(&self) -> Currency {
        self.currency
    }

    fn read(&self, f: &mut dyn FnMut(&dyn ReadTx) -> StoreResult<()>) -> StoreResult<()> {
        let tx = Tx {
            saved: Vec::new(),
            currency: self.currency,
            state: self.snapshot(),
        };
        f(&tx)
    }

    fn write(&self, f: &mut dyn FnMut(&mut dyn WriteTx) -> StoreResult<()>) -> StoreResult<()> {
        let _writer = lock(&self.writer);
        let mut tx = Tx {
            saved: Vec::new(),
            currency: self.currency,
            state: State::clone(&self.snapshot()),
        };
        f(&mut tx)?;
        *lock(&self.committed) = Arc::new(tx.state);
        Ok(())
    }
}

/// What the backend reports when its own indexes would break: a bug in the caller,
/// which the operations layer's checks should have caught.
#[derive(Debug)]
struct IndexFault(String);

impl fmt::Display for IndexFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "memory backend: {}", self.0)
    }
}

impl StdError for IndexFault {}

fn fault(message: String) -> StoreError {
    StoreError::backend(IndexFault(message))
}

/// A record kind stored in a [`Table`]: its id and the customer it belongs to.
trait Row: Clone {
    type Id: Ord + Copy + Into<u64> + fmt::Display;
    /// For messages.
    const NAME: &'static str;
    /// The kind whose [`WriteTx::next_id`] it takes.
    const KIND: IdKind;
    fn id_of(raw: u64) -> Self::Id;
    fn row_id(&self) -> Self::Id;
    fn owner(&self) -> Option<CustomerId>;
}

/// A record kind with a time, listed through an [`ActivityQuery`].
trait Activity: Row {
    fn at(&self) -> DateTime<Utc>;
    fn customer(&self) -> CustomerId;
    /// True if the record is voided (never for a refund).
    fn voided(&self) -> bool;
}

macro_rules! row {
    ($ty:ty, $id:ident, $kind:ident, $name:literal, |$r:ident| $owner:expr) => {
        impl Row for $ty {
            type Id = $id;
            const NAME: &'static str = $name;
            const KIND: IdKind = IdKind::$kind;
            fn id_of(raw: u64) -> $id {
                $id::new(raw)
            }
            fn row_id(&self) -> $id {
                self.id()
            }
            fn owner(&self) -> Option<CustomerId> {
                let $r = self;
                $owner
            }
        }
    };
}

macro_rules! activity {
    ($($ty:ty => |$r:ident| $voided:expr),*) => {$(
        impl Activity for $ty {
            fn at(&self) -> DateTime<Utc> {
                <$ty>::at(self)
            }
            fn customer(&self) -> CustomerId {
                <$ty>::customer(self)
            }
            fn voided(&self) -> bool {
                let $r = self;
                $voided
            }
        }
    )*};
}

row!(
    Interaction,
    InteractionId,
    Interaction,
    "interaction",
    |r| Some(r.customer())
);
row!(Purchase, PurchaseId, Purchase, "purchase", |r| Some(
    r.customer()
));
row!(Refund, RefundId, Refund, "refund", |r| Some(r.customer()));
row!(SurveyResponse, SurveyId, Survey, "survey answer", |r| Some(
    r.customer()
));
row!(ServiceRequest, RequestId, Request, "service request", |r| {
    Some(r.customer())
});
row!(Deal, DealId, Deal, "deal", |r| Some(r.customer()));
row!(Task, TaskId, Task, "task", |r| r.customer());
row!(
    PointsEntry,
    PointsEntryId,
    Points,
    "points entry",
    |r| Some(r.customer())
);
activity!(
    Interaction => |r| r.is_void(),
    Purchase => |r| r.is_void(),
    Refund => |_r| false,
    SurveyResponse => |r| r.is_void()
);

/// Records of one kind by id, with an index by customer.
#[derive(Clone)]
struct Table<R: Row> {
    rows: OrdMap<R::Id, R>,
    by_customer: OrdSet<(CustomerId, R::Id)>,
}

impl<R: Row> Default for Table<R> {
    fn default() -> Self {
        Table {
            rows: OrdMap::new(),
            by_customer: OrdSet::new(),
        }
    }
}

impl<R: Row> Table<R> {
    fn get(&self, id: R::Id) -> Option<&R> {
        self.rows.get(&id)
    }

    /// The customer's records, by id.
    fn of(&self, customer: CustomerId) -> impl DoubleEndedIterator<Item = &R> {
        let all = (customer, R::id_of(0))..=(customer, R::id_of(u64::MAX));
        self.by_customer
            .range(all)
            .filter_map(|(_, id)| self.rows.get(id))
    }

    /// The records of `customer` if given, else all of them; by id either way.
    fn of_maybe(&self, customer: Option<CustomerId>) -> Box<dyn Iterator<Item = &R> + '_> {
        match customer {
            Some(c) => Box::new(self.of(c)),
            None => Box::new(self.rows.values()),
        }
    }

    fn insert(&mut self, row: &R) -> StoreResult<()> {
        let id = row.row_id();
        if self.rows.contains_key(&id) {
            return Err(fault(format!("{} {id} is already stored", R::NAME)));
        }
        if let Some(c) = row.owner() {
            self.by_customer.insert((c, id));
        }
        self.rows.insert(id, row.clone());
        Ok(())
    }

    /// Replaces the record with the same id and returns the one it replaced.
    fn update(&mut self, row: &R) -> StoreResult<R> {
        let id = row.row_id();
        let old = self
            .rows
            .insert(id, row.clone())
            .ok_or_else(|| fault(format!("{} {id} to update is not stored", R::NAME)))?;
        if old.owner() != row.owner() {
            if let Some(c) = old.owner() {
                self.by_customer.remove(&(c, id));
            }
            if let Some(c) = row.owner() {
                self.by_customer.insert((c, id));
            }
        }
        Ok(old)
    }
}

impl<R: Activity> Table<R> {
    /// The records matching `query`, by time then id.
    fn matching(&self, query: &ActivityQuery) -> Vec<R> {
        let mut v: Vec<R> = self
            .of_maybe(query.customer)
            .filter(|r| query.admits_record(r.customer(), r.at(), r.voided()))
            .cloned()
            .collect();
        v.sort_by_key(|r| (r.at(), r.row_id()));
        v
    }
}

/// Everything the backend holds. Every field is a persistent map, so a clone is O(1).
#[derive(Clone, Default)]
struct State {
    /// The largest id ever stored of each kind, by [`IdKind`] position.
    high: [u64; IdKind::ALL.len()],
    customers: OrdMap<CustomerId, Customer>,
    /// [`Email::key`] → customer, for customers that are not erased.
    by_email: OrdMap<String, CustomerId>,
    /// External reference → customer, for customers that are not erased.
    by_ref: OrdMap<ExternalRef, CustomerId>,
    stage_history: OrdMap<CustomerId, Vector<StageChange>>,
    interactions: Table<Interaction>,
    purchases: Table<Purchase>,
    purchase_refs: OrdMap<ExternalRef, PurchaseId>,
    refunds: Table<Refund>,
    refunds_by_purchase: OrdSet<(PurchaseId, RefundId)>,
    surveys: Table<SurveyResponse>,
    requests: Table<ServiceRequest>,
    deals: Table<Deal>,
    tasks: Table<Task>,
    points: Table<PointsEntry>,
    segments: OrdMap<Label, Segment>,
    /// The points program's tiers, by name.
    tiers: OrdMap<solocrm_core::Tag, solocrm_core::PointsTier>,
    audit: OrdMap<AuditId, AuditEntry>,
    costs: OrdMap<CostId, Cost>,
    events: OrdMap<EventSeq, Event>,
    /// The business time zone.
    zone: BusinessZone,
    /// Automation rules and built-in switches, by name.
    rules: OrdMap<RuleName, RuleRecord>,
    /// Automation firings, by (rule, customer, occurrence key): the unique key.
    firings: OrdMap<(RuleName, CustomerId, String), Firing>,
    /// Where the automation runner has got to.
    automation_cursor: AutomationCursor,
    /// The founder's own holidays, by key.
    holidays: OrdMap<solocrm_core::Tag, solocrm_core::holiday::HolidayDef>,
    /// The chosen preset calendars, in the order chosen.
    holiday_presets: Vector<solocrm_core::holiday::Preset>,
    /// Sales targets, in their listing order.
    targets: OrdMap<(chrono::NaiveDate, u8, &'static str), solocrm_core::target::Target>,
    /// Needs and pain points, by id.
    needs: OrdMap<solocrm_core::NeedId, solocrm_core::need::Need>,
    /// The needs of each customer, by id: a segment reads one customer's at a time.
    needs_by_customer: OrdSet<(CustomerId, solocrm_core::NeedId)>,
    /// Participations, by key (time, customer, kind).
    participations: OrdMap<
        solocrm_core::participation::ParticipationKey,
        solocrm_core::participation::Participation,
    >,
    /// Survey templates, by name.
    survey_templates: OrdMap<solocrm_core::Tag, solocrm_core::questionnaire::SurveyTemplate>,
    /// Survey sheets, by key (time, customer, template).
    survey_sheets:
        OrdMap<solocrm_core::questionnaire::SheetKey, solocrm_core::questionnaire::SurveySheet>,
    /// The product catalogue, by SKU.
    products: OrdMap<Sku, Product>,
    /// Campaigns, by id.
    campaigns: OrdMap<solocrm_core::CampaignId, solocrm_core::campaign::Campaign>,
    /// Attributions to campaigns, by subject.
    attributions: OrdMap<solocrm_core::campaign::AttributionSubject, solocrm_core::CampaignId>,
    /// The lines of each purchase that has some, in order.
    purchase_lines: OrdMap<PurchaseId, Vector<PurchaseLine>>,
    /// The points validity; `None`: points never expire.
    points_expiry: Option<solocrm_core::PointsExpiry>,
    /// The offers, by code.
    offers: OrdMap<solocrm_core::offer::OfferCode, solocrm_core::offer::Offer>,
    /// The redemptions of offers, by purchase.
    redemptions: OrdMap<PurchaseId, solocrm_core::offer::Redemption>,
}

/// The look-up keys a customer is indexed under: none once erased.
fn index_keys(c: &Customer) -> (Option<String>, Option<ExternalRef>) {
    if c.is_erased() {
        (None, None)
    } else {
        (c.email().map(Email::key), c.external_ref().cloned())
    }
}

impl State {
    fn saw(&mut self, kind: IdKind, id: u64) {
        let high = &mut self.high[kind as usize];
        *high = (*high).max(id);
    }

    /// Refuses keys another customer than `own` is indexed under.
    fn check_keys_free(
        &self,
        own: CustomerId,
        email: Option<&String>,
        reference: Option<&ExternalRef>,
    ) -> StoreResult<()> {
        if let Some(e) = email
            && let Some(&other) = self.by_email.get(e)
            && other != own
        {
            return Err(fault(format!(
                "the email key of customer {own} is already indexed for customer {other}"
            )));
        }
        if let Some(r) = reference
            && let Some(&other) = self.by_ref.get(r)
            && other != own
        {
            return Err(fault(format!(
                "the external reference of customer {own} is already indexed for customer \
                 {other}"
            )));
        }
        Ok(())
    }

    fn insert_row<R: Row>(
        &mut self,
        table: fn(&mut State) -> &mut Table<R>,
        row: &R,
    ) -> StoreResult<()> {
        table(self).insert(row)?;
        self.saw(R::KIND, row.row_id().into());
        Ok(())
    }
}

/// A transaction: a snapshot to read (`S = Arc<State>`) or a draft to write
/// (`S = State`).
struct Tx<S> {
    currency: Currency,
    state: S,
    /// The state at each open savepoint, innermost last (O(1) copies).
    saved: Vec<State>,
}

impl<S: Borrow<State>> Tx<S> {
    fn s(&self) -> &State {
        self.state.borrow()
    }
}

impl<S: Borrow<State>> ReadTx for Tx<S> {
    fn base_currency(&self) -> Currency {
        self.currency
    }

    fn time_zone(&self) -> StoreResult<BusinessZone> {
        Ok(self.s().zone)
    }

    fn customer(&self, id: CustomerId) -> StoreResult<Option<Customer>> {
        Ok(self.s().customers.get(&id).cloned())
    }

    fn customer_stage(&self, id: CustomerId) -> StoreResult<Option<CustomerStage>> {
        Ok(self.s().customers.get(&id).map(|c| CustomerStage {
            stage: c.stage(),
            erased: c.is_erased(),
        }))
    }

    fn last_stage_change_at(&self, customer: CustomerId) -> StoreResult<Option<DateTime<Utc>>> {
        Ok(self
            .s()
            .stage_history
            .get(&customer)
            .and_then(|h| h.last().map(|change| change.at)))
    }

    fn customer_by_email(&self, email: &Email) -> StoreResult<Option<CustomerId>> {
        Ok(self.s().by_email.get(&email.key()).copied())
    }

    fn customer_by_external_ref(&self, reference: &ExternalRef) -> StoreResult<Option<CustomerId>> {
        Ok(self.s().by_ref.get(reference).copied())
    }

    fn customer_keys(&self) -> StoreResult<Vec<CustomerKeys>> {
        Ok(self
            .s()
            .customers
            .values()
            .map(CustomerKeys::from)
            .collect())
    }

    fn customers(
        &self,
        filter: &CustomerFilter,
        after: Option<CustomerId>,
        limit: u32,
    ) -> StoreResult<Vec<Customer>> {
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        let customers = &self.s().customers;
        let from = match after {
            // Nothing is above the largest id.
            Some(a) if a.get() == u64::MAX => return Ok(Vec::new()),
            Some(a) => CustomerId::new(a.get() + 1),
            None => CustomerId::new(0),
        };
        Ok(customers
            .range(from..)
            .map(|(_, c)| c)
            .filter(|c| filter.admits(c))
            .take(limit)
            .cloned()
            .collect())
    }

    fn count_customers(&self) -> StoreResult<u64> {
        Ok(self.s().customers.len() as u64)
    }

    /// A scan: exactly the customers who match.
    fn search_customers(&self, text: &SearchText) -> StoreResult<Vec<CustomerId>> {
        Ok(self
            .s()
            .customers
            .values()
            .filter(|c| text.matches(c))
            .map(Customer::id)
            .collect())
    }

    /// A scan: exactly the customers who match, with their text.
    fn search_fields(&self, text: &SearchText) -> StoreResult<Vec<SearchFields>> {
        Ok(self
            .s()
            .customers
            .values()
            .filter(|c| text.matches(c))
            .map(SearchFields::of)
            .collect())
    }

    fn stage_history(&self, customer: CustomerId) -> StoreResult<Vec<StageChange>> {
        Ok(self
            .s()
            .stage_history
            .get(&customer)
            .map(|h| h.iter().cloned().collect())
            .unwrap_or_default())
    }

    fn interactions(&self, query: &ActivityQuery) -> StoreResult<Vec<Interaction>> {
        Ok(self.s().interactions.matching(query))
    }

    fn interaction(&self, id: InteractionId) -> StoreResult<Option<Interaction>> {
        Ok(self.s().interactions.get(id).cloned())
    }

    fn purchase(&self, id: PurchaseId) -> StoreResult<Option<Purchase>> {
        Ok(self.s().purchases.get(id).cloned())
    }

    fn purchase_by_external_ref(&self, reference: &ExternalRef) -> StoreResult<Option<PurchaseId>> {
        Ok(self.s().purchase_refs.get(reference).copied())
    }

    fn purchases(&self, query: &ActivityQuery) -> StoreResult<Vec<Purchase>> {
        Ok(self.s().purchases.matching(query))
    }

    fn purchase_summary(
        &self,
        customer: CustomerId,
        as_of: DateTime<Utc>,
    ) -> StoreResult<PurchaseSummary> {
        let mut summary = PurchaseSummary::none(self.currency);
        for p in self
            .s()
            .purchases
            .of(customer)
            .filter(|p| p.at() <= as_of && !p.is_void())
        {
            summary
                .add(p.at(), p.amount())
                .map_err(StoreError::backend)?;
        }
        Ok(summary)
    }

    fn purchase_log(&self) -> StoreResult<PurchaseLog> {
        let s = self.s();
        let mut log =
            PurchaseLog::with_customers(self.currency, s.customers.keys().copied().collect());
        for p in s.purchases.rows.values().filter(|p| !p.is_void()) {
            let idx = log.index_of(p.customer()).ok_or_else(|| {
                fault(format!(
                    "purchase {} names customer {}, who is not stored",
                    p.id(),
                    p.customer()
                ))
            })?;
            let minor = p.amount().to_minor_units().map_err(StoreError::backend)?;
            log.push(idx, p.at().timestamp(), minor);
        }
        Ok(log)
    }

    fn refunds(&self, query: &ActivityQuery) -> StoreResult<Vec<Refund>> {
        Ok(self.s().refunds.matching(query))
    }

    fn refunds_of(&self, purchase: PurchaseId) -> StoreResult<Vec<Refund>> {
        let s = self.s();
        let all = (purchase, RefundId::new(0))..=(purchase, RefundId::new(u64::MAX));
        Ok(s.refunds_by_purchase
            .range(all)
            .filter_map(|(_, id)| s.refunds.get(*id))
            .cloned()
            .collect())
    }

    fn surveys(&self, query: &ActivityQuery) -> StoreResult<Vec<SurveyResponse>> {
        Ok(self.s().surveys.matching(query))
    }

    fn survey(&self, id: SurveyId) -> StoreResult<Option<SurveyResponse>> {
        Ok(self.s().surveys.get(id).cloned())
    }

    fn request(&self, id: RequestId) -> StoreResult<Option<ServiceRequest>> {
        Ok(self.s().requests.get(id).cloned())
    }

    fn requests(&self, query: &OpenQuery) -> StoreResult<Vec<ServiceRequest>> {
        Ok(self
            .s()
            .requests
            .of_maybe(query.customer)
            .filter(|r| query.admits(r.customer(), r.is_open()))
            .cloned()
            .collect())
    }

    fn deal(&self, id: DealId) -> StoreResult<Option<Deal>> {
        Ok(self.s().deals.get(id).cloned())
    }

    fn deals(&self, query: &OpenQuery) -> StoreResult<Vec<Deal>> {
        Ok(self
            .s()
            .deals
            .of_maybe(query.customer)
            .filter(|d| query.admits(d.customer(), !d.stage().is_closed()))
            .cloned()
            .collect())
    }

    fn task(&self, id: TaskId) -> StoreResult<Option<Task>> {
        Ok(self.s().tasks.get(id).cloned())
    }

    fn tasks(&self, query: &TaskQuery) -> StoreResult<Vec<Task>> {
        let mut v: Vec<Task> = self
            .s()
            .tasks
            .of_maybe(query.customer)
            .filter(|t| query.admits(t))
            .cloned()
            .collect();
        v.sort_by_key(|t| (t.due(), t.id()));
        Ok(v)
    }

    fn points_ledger(&self, customer: CustomerId) -> StoreResult<Vec<PointsEntry>> {
        Ok(self.s().points.of(customer).cloned().collect())
    }

    fn points_balance(&self, customer: CustomerId) -> StoreResult<i64> {
        Ok(self
            .s()
            .points
            .of(customer)
            .next_back()
            .map_or(0, PointsEntry::balance_after))
    }

    fn points_tiers(&self) -> StoreResult<Vec<solocrm_core::PointsTier>> {
        let mut tiers: Vec<_> = self.s().tiers.values().cloned().collect();
        tiers.sort_by(|a, b| a.min_points.cmp(&b.min_points).then(a.name.cmp(&b.name)));
        Ok(tiers)
    }

    fn points_expiry(&self) -> StoreResult<Option<solocrm_core::PointsExpiry>> {
        Ok(self.s().points_expiry)
    }

    fn points_holders(&self) -> StoreResult<Vec<CustomerId>> {
        // `by_customer` is ordered by customer then id: the last pair of each
        // customer is their newest entry.
        let points = &self.s().points;
        let mut out = Vec::new();
        let mut pairs = points.by_customer.iter().peekable();
        while let Some(&(customer, id)) = pairs.next() {
            if pairs.peek().is_some_and(|(next, _)| *next == customer) {
                continue;
            }
            if points.rows.get(&id).is_some_and(|e| e.balance_after() > 0) {
                out.push(customer);
            }
        }
        Ok(out)
    }

    fn segment(&self, name: &Label) -> StoreResult<Option<Segment>> {
        Ok(self.s().segments.get(name).cloned())
    }

    fn segments(&self) -> StoreResult<Vec<Segment>> {
        Ok(self.s().segments.values().cloned().collect())
    }

    fn audit_log(&self) -> StoreResult<Vec<AuditEntry>> {
        Ok(self.s().audit.values().cloned().collect())
    }

    fn cost(&self, id: CostId) -> StoreResult<Option<Cost>> {
        Ok(self.s().costs.get(&id).cloned())
    }

    fn costs(&self) -> StoreResult<Vec<Cost>> {
        let mut v: Vec<Cost> = self.s().costs.values().cloned().collect();
        v.sort_by_key(|c| (c.at(), c.id()));
        Ok(v)
    }

    fn events(&self, after: EventSeq, limit: u32) -> StoreResult<Vec<Event>> {
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        let Some(from) = after.checked_add(1) else {
            return Ok(Vec::new());
        };
        Ok(self
            .s()
            .events
            .range(from..)
            .take(limit)
            .map(|(_, e)| e.clone())
            .collect())
    }

    fn rules(&self) -> StoreResult<Vec<RuleRecord>> {
        Ok(self.s().rules.values().cloned().collect())
    }

    fn firing_exists(
        &self,
        rule: &RuleName,
        customer: CustomerId,
        occurrence: &Occurrence,
    ) -> StoreResult<bool> {
        Ok(self
            .s()
            .firings
            .contains_key(&(rule.clone(), customer, occurrence.key())))
    }

    fn firings(&self) -> StoreResult<Vec<Firing>> {
        let mut v: Vec<Firing> = self.s().firings.values().cloned().collect();
        v.sort_by(|a, b| {
            (a.day, &a.rule, a.customer, a.occurrence.key()).cmp(&(
                b.day,
                &b.rule,
                b.customer,
                b.occurrence.key(),
            ))
        });
        Ok(v)
    }

    fn automation_cursor(&self) -> StoreResult<AutomationCursor> {
        Ok(self.s().automation_cursor)
    }

    fn holiday_calendar(&self) -> StoreResult<solocrm_core::holiday::HolidayCalendar> {
        let s = self.s();
        Ok(solocrm_core::holiday::HolidayCalendar {
            presets: s.holiday_presets.iter().copied().collect(),
            own: s.holidays.values().cloned().collect(),
        })
    }

    fn targets(&self) -> StoreResult<Vec<solocrm_core::target::Target>> {
        Ok(self.s().targets.values().cloned().collect())
    }

    fn survey_templates(&self) -> StoreResult<Vec<solocrm_core::questionnaire::SurveyTemplate>> {
        Ok(self.s().survey_templates.values().cloned().collect())
    }

    fn survey_sheets(
        &self,
        customer: Option<CustomerId>,
    ) -> StoreResult<Vec<solocrm_core::questionnaire::SurveySheet>> {
        Ok(self
            .s()
            .survey_sheets
            .values()
            .filter(|s| customer.is_none_or(|c| s.customer == c))
            .cloned()
            .collect())
    }

    fn needs(&self, customer: Option<CustomerId>) -> StoreResult<Vec<solocrm_core::need::Need>> {
        let s = self.s();
        Ok(match customer {
            None => s.needs.values().cloned().collect(),
            Some(c) => {
                let all =
                    (c, solocrm_core::NeedId::new(0))..=(c, solocrm_core::NeedId::new(u64::MAX));
                s.needs_by_customer
                    .range(all)
                    .filter_map(|(_, id)| s.needs.get(id).cloned())
                    .collect()
            }
        })
    }

    fn need(&self, id: solocrm_core::NeedId) -> StoreResult<Option<solocrm_core::need::Need>> {
        Ok(self.s().needs.get(&id).cloned())
    }

    fn participations(
        &self,
        customer: Option<CustomerId>,
    ) -> StoreResult<Vec<solocrm_core::participation::Participation>> {
        Ok(self
            .s()
            .participations
            .values()
            .filter(|p| customer.is_none_or(|c| p.customer == c))
            .cloned()
            .collect())
    }

    fn offer(
        &self,
        code: &solocrm_core::offer::OfferCode,
    ) -> StoreResult<Option<solocrm_core::offer::Offer>> {
        Ok(self.s().offers.get(code).cloned())
    }

    fn offers(&self) -> StoreResult<Vec<solocrm_core::offer::Offer>> {
        Ok(self.s().offers.values().cloned().collect())
    }

    fn redemptions(
        &self,
        code: Option<&solocrm_core::offer::OfferCode>,
    ) -> StoreResult<Vec<solocrm_core::offer::Redemption>> {
        Ok(self
            .s()
            .redemptions
            .values()
            .filter(|r| code.is_none_or(|c| &r.code == c))
            .cloned()
            .collect())
    }

    fn campaigns(&self) -> StoreResult<Vec<solocrm_core::campaign::Campaign>> {
        Ok(self.s().campaigns.values().cloned().collect())
    }

    fn attribution(
        &self,
        subject: solocrm_core::campaign::AttributionSubject,
    ) -> StoreResult<Option<solocrm_core::CampaignId>> {
        Ok(self.s().attributions.get(&subject).copied())
    }

    fn attributions(&self) -> StoreResult<Vec<solocrm_core::campaign::Attribution>> {
        Ok(self
            .s()
            .attributions
            .iter()
            .map(|(&subject, &campaign)| solocrm_core::campaign::Attribution { subject, campaign })
            .collect())
    }

    fn products(&self) -> StoreResult<Vec<Product>> {
        Ok(self.s().products.values().cloned().collect())
    }

    fn product(&self, sku: &Sku) -> StoreResult<Option<Product>> {
        Ok(self.s().products.get(sku).cloned())
    }

    fn product_has_lines(&self, sku: &Sku) -> StoreResult<bool> {
        Ok(self
            .s()
            .purchase_lines
            .values()
            .any(|lines| lines.iter().any(|l| l.sku == *sku)))
    }

    fn purchase_lines(&self, purchase: PurchaseId) -> StoreResult<Vec<PurchaseLine>> {
        Ok(self
            .s()
            .purchase_lines
            .get(&purchase)
            .map(|l| l.iter().cloned().collect())
            .unwrap_or_default())
    }

    fn all_purchase_lines(&self) -> StoreResult<Vec<(PurchaseId, PurchaseLine)>> {
        Ok(self
            .s()
            .purchase_lines
            .iter()
            .flat_map(|(p, lines)| lines.iter().map(move |l| (*p, l.clone())))
            .collect())
    }
}

impl WriteTx for Tx<State> {
    fn set_time_zone(&mut self, zone: BusinessZone) -> StoreResult<()> {
        self.state.zone = zone;
        Ok(())
    }

    fn set_points_expiry(
        &mut self,
        expiry: Option<&solocrm_core::PointsExpiry>,
    ) -> StoreResult<()> {
        self.state.points_expiry = expiry.copied();
        Ok(())
    }

    fn savepoint(&mut self) -> StoreResult<()> {
        self.saved.push(self.state.clone());
        Ok(())
    }

    fn release_savepoint(&mut self) -> StoreResult<()> {
        self.saved
            .pop()
            .map(drop)
            .ok_or_else(|| fault("release of a savepoint that was never marked".to_owned()))
    }

    fn rollback_to_savepoint(&mut self) -> StoreResult<()> {
        self.state = self
            .saved
            .pop()
            .ok_or_else(|| fault("rollback to a savepoint that was never marked".to_owned()))?;
        Ok(())
    }

    fn next_id(&mut self, kind: IdKind) -> StoreResult<u64> {
        self.state.high[kind as usize]
            .checked_add(1)
            .ok_or_else(|| fault(format!("no {kind:?} id is left above {}", u64::MAX)))
    }

    fn insert_customer(&mut self, customer: &Customer) -> StoreResult<()> {
        let s = &mut self.state;
        let id = customer.id();
        if s.customers.contains_key(&id) {
            return Err(fault(format!("customer {id} is already stored")));
        }
        let (email, reference) = index_keys(customer);
        s.check_keys_free(id, email.as_ref(), reference.as_ref())?;
        if let Some(e) = email {
            s.by_email.insert(e, id);
        }
        if let Some(r) = reference {
            s.by_ref.insert(r, id);
        }
        s.customers.insert(id, customer.clone());
        s.saw(IdKind::Customer, id.get());
        Ok(())
    }

    fn update_customer(&mut self, customer: &Customer) -> StoreResult<()> {
        let s = &mut self.state;
        let id = customer.id();
        let old = s
            .customers
            .get(&id)
            .ok_or_else(|| fault(format!("customer {id} to update is not stored")))?;
        let (old_email, old_ref) = index_keys(old);
        let (email, reference) = index_keys(customer);
        s.check_keys_free(id, email.as_ref(), reference.as_ref())?;
        if let Some(e) = old_email {
            s.by_email.remove(&e);
        }
        if let Some(r) = old_ref {
            s.by_ref.remove(&r);
        }
        if let Some(e) = email {
            s.by_email.insert(e, id);
        }
        if let Some(r) = reference {
            s.by_ref.insert(r, id);
        }
        s.customers.insert(id, customer.clone());
        Ok(())
    }

    fn set_customer_stage(&mut self, id: CustomerId, stage: LifecycleStage) -> StoreResult<()> {
        let c = self
            .state
            .customers
            .get_mut(&id)
            .ok_or_else(|| fault(format!("customer {id} to update is not stored")))?;
        *c = Customer::from_parts(
            id,
            c.data().clone(),
            c.created_at(),
            stage,
            c.consents().to_vec(),
            c.erased_at(),
        );
        Ok(())
    }

    fn append_consent(&mut self, id: CustomerId, consent: &Consent) -> StoreResult<()> {
        self.state
            .customers
            .get_mut(&id)
            .ok_or_else(|| fault(format!("customer {id} to update is not stored")))?
            .record_consent(consent.clone());
        Ok(())
    }

    fn push_stage_change(&mut self, change: &StageChange) -> StoreResult<()> {
        self.state
            .stage_history
            .entry(change.customer)
            .or_default()
            .push_back(change.clone());
        Ok(())
    }

    fn rewrite_stage_history(
        &mut self,
        customer: CustomerId,
        history: &[StageChange],
    ) -> StoreResult<()> {
        let stored = self
            .state
            .stage_history
            .get(&customer)
            .map_or(0, Vector::len);
        if stored != history.len() {
            return Err(fault(format!(
                "the stage history of customer {customer} holds {stored} changes; a rewrite \
                 of it must hold as many, not {}",
                history.len()
            )));
        }
        if !history.is_empty() {
            let rewritten: Vector<StageChange> = history.iter().cloned().collect();
            self.state.stage_history.insert(customer, rewritten);
        }
        Ok(())
    }

    fn insert_interaction(&mut self, interaction: &Interaction) -> StoreResult<()> {
        self.state.insert_row(|s| &mut s.interactions, interaction)
    }

    fn update_interaction(&mut self, interaction: &Interaction) -> StoreResult<()> {
        self.state.interactions.update(interaction).map(drop)
    }

    fn insert_purchase(&mut self, purchase: &Purchase) -> StoreResult<()> {
        let s = &mut self.state;
        if let Some(r) = purchase.external_ref()
            && let Some(&other) = s.purchase_refs.get(r)
        {
            return Err(fault(format!(
                "the external reference of purchase {} is already indexed for purchase {other}",
                purchase.id()
            )));
        }
        s.insert_row(|s| &mut s.purchases, purchase)?;
        if let Some(r) = purchase.external_ref() {
            s.purchase_refs.insert(r.clone(), purchase.id());
        }
        Ok(())
    }

    fn update_purchase(&mut self, purchase: &Purchase) -> StoreResult<()> {
        let s = &mut self.state;
        let id = purchase.id();
        if let Some(r) = purchase.external_ref()
            && let Some(&other) = s.purchase_refs.get(r)
            && other != id
        {
            return Err(fault(format!(
                "the external reference of purchase {id} is already indexed for purchase {other}"
            )));
        }
        let old = s.purchases.update(purchase)?;
        if let Some(r) = old.external_ref() {
            s.purchase_refs.remove(r);
        }
        if let Some(r) = purchase.external_ref() {
            s.purchase_refs.insert(r.clone(), id);
        }
        Ok(())
    }

    fn insert_refund(&mut self, refund: &Refund) -> StoreResult<()> {
        let s = &mut self.state;
        s.insert_row(|s| &mut s.refunds, refund)?;
        s.refunds_by_purchase
            .insert((refund.purchase(), refund.id()));
        Ok(())
    }

    fn update_refund(&mut self, refund: &Refund) -> StoreResult<()> {
        let s = &mut self.state;
        let old = s.refunds.update(refund)?;
        s.refunds_by_purchase.remove(&(old.purchase(), old.id()));
        s.refunds_by_purchase
            .insert((refund.purchase(), refund.id()));
        Ok(())
    }

    fn insert_survey(&mut self, survey: &SurveyResponse) -> StoreResult<()> {
        self.state.insert_row(|s| &mut s.surveys, survey)
    }

    fn update_survey(&mut self, survey: &SurveyResponse) -> StoreResult<()> {
        self.state.surveys.update(survey).map(drop)
    }

    fn insert_request(&mut self, request: &ServiceRequest) -> StoreResult<()> {
        self.state.insert_row(|s| &mut s.requests, request)
    }

    fn update_request(&mut self, request: &ServiceRequest) -> StoreResult<()> {
        self.state.requests.update(request).map(drop)
    }

    fn insert_deal(&mut self, deal: &Deal) -> StoreResult<()> {
        self.state.insert_row(|s| &mut s.deals, deal)
    }

    fn update_deal(&mut self, deal: &Deal) -> StoreResult<()> {
        self.state.deals.update(deal).map(drop)
    }

    fn insert_task(&mut self, task: &Task) -> StoreResult<()> {
        self.state.insert_row(|s| &mut s.tasks, task)
    }

    fn update_task(&mut self, task: &Task) -> StoreResult<()> {
        self.state.tasks.update(task).map(drop)
    }

    fn insert_points(&mut self, entry: &PointsEntry) -> StoreResult<()> {
        self.state.insert_row(|s| &mut s.points, entry)
    }

    fn update_points(&mut self, entry: &PointsEntry) -> StoreResult<()> {
        self.state.points.update(entry).map(drop)
    }

    fn insert_segment(&mut self, segment: &Segment) -> StoreResult<()> {
        let segments = &mut self.state.segments;
        if segments.contains_key(&segment.name) {
            return Err(fault(format!(
                "a segment named {} is already stored",
                segment.name
            )));
        }
        segments.insert(segment.name.clone(), segment.clone());
        Ok(())
    }

    fn delete_segment(&mut self, name: &Label) -> StoreResult<bool> {
        Ok(self.state.segments.remove(name).is_some())
    }

    fn put_points_tier(&mut self, tier: &solocrm_core::PointsTier) -> StoreResult<()> {
        self.state.tiers.insert(tier.name.clone(), tier.clone());
        Ok(())
    }

    fn delete_points_tier(&mut self, name: &solocrm_core::Tag) -> StoreResult<bool> {
        Ok(self.state.tiers.remove(name).is_some())
    }

    fn insert_audit(&mut self, entry: &AuditEntry) -> StoreResult<()> {
        let s = &mut self.state;
        if s.audit.contains_key(&entry.id) {
            return Err(fault(format!("audit entry {} is already stored", entry.id)));
        }
        s.audit.insert(entry.id, entry.clone());
        s.saw(IdKind::Audit, entry.id.get());
        Ok(())
    }

    fn insert_cost(&mut self, cost: &Cost) -> StoreResult<()> {
        let s = &mut self.state;
        if s.costs.contains_key(&cost.id()) {
            return Err(fault(format!("cost {} is already stored", cost.id())));
        }
        s.costs.insert(cost.id(), cost.clone());
        s.saw(IdKind::Cost, cost.id().get());
        Ok(())
    }

    fn update_cost(&mut self, cost: &Cost) -> StoreResult<()> {
        self.state
            .costs
            .insert(cost.id(), cost.clone())
            .map(drop)
            .ok_or_else(|| fault(format!("cost {} to update is not stored", cost.id())))
    }

    fn append_event(&mut self, event: &Event) -> StoreResult<()> {
        let s = &mut self.state;
        if s.events.contains_key(&event.seq) {
            return Err(fault(format!("event {} is already stored", event.seq)));
        }
        s.events.insert(event.seq, event.clone());
        s.saw(IdKind::Event, event.seq);
        Ok(())
    }

    fn put_rule(&mut self, rule: &RuleRecord) -> StoreResult<()> {
        self.state.rules.insert(rule.name.clone(), rule.clone());
        Ok(())
    }

    fn delete_rule(&mut self, name: &RuleName) -> StoreResult<bool> {
        Ok(self.state.rules.remove(name).is_some())
    }

    fn insert_firing(&mut self, firing: &Firing) -> StoreResult<()> {
        let key = (
            firing.rule.clone(),
            firing.customer,
            firing.occurrence.key(),
        );
        if self.state.firings.contains_key(&key) {
            return Err(fault(format!(
                "rule {} already fired for customer {} ({})",
                firing.rule, firing.customer, firing.occurrence
            )));
        }
        self.state.firings.insert(key, firing.clone());
        Ok(())
    }

    fn delete_firings_of(&mut self, customer: CustomerId) -> StoreResult<u64> {
        let keys: Vec<_> = self
            .state
            .firings
            .keys()
            .filter(|(_, c, _)| *c == customer)
            .cloned()
            .collect();
        for key in &keys {
            self.state.firings.remove(key);
        }
        Ok(keys.len() as u64)
    }

    fn set_automation_cursor(&mut self, cursor: &AutomationCursor) -> StoreResult<()> {
        self.state.automation_cursor = *cursor;
        Ok(())
    }

    fn put_holiday(&mut self, holiday: &solocrm_core::holiday::HolidayDef) -> StoreResult<()> {
        if !holiday.rule.is_storable() {
            return Err(fault(format!(
                "holiday {}: only fixed and lunar dates are stored",
                holiday.key
            )));
        }
        self.state
            .holidays
            .insert(holiday.key.clone(), holiday.clone());
        Ok(())
    }

    fn delete_holiday(&mut self, key: &solocrm_core::Tag) -> StoreResult<bool> {
        Ok(self.state.holidays.remove(key).is_some())
    }

    fn set_holiday_presets(
        &mut self,
        presets: &[solocrm_core::holiday::Preset],
    ) -> StoreResult<()> {
        self.state.holiday_presets = presets.iter().copied().collect();
        Ok(())
    }

    fn put_target(&mut self, target: &solocrm_core::target::Target) -> StoreResult<()> {
        self.state.targets.insert(target.sort_key(), target.clone());
        Ok(())
    }

    fn delete_target(
        &mut self,
        metric: solocrm_core::target::TargetMetric,
        period: solocrm_core::target::TargetPeriod,
    ) -> StoreResult<bool> {
        let key = (period.start(), period.span_rank(), metric.as_str());
        Ok(self.state.targets.remove(&key).is_some())
    }

    fn insert_survey_template(
        &mut self,
        template: &solocrm_core::questionnaire::SurveyTemplate,
    ) -> StoreResult<()> {
        let name = template.name().clone();
        if self.state.survey_templates.contains_key(&name) {
            return Err(fault(format!("survey template {name} is already stored")));
        }
        self.state.survey_templates.insert(name, template.clone());
        Ok(())
    }

    fn replace_survey_template(
        &mut self,
        from: &solocrm_core::Tag,
        template: &solocrm_core::questionnaire::SurveyTemplate,
    ) -> StoreResult<()> {
        if self.state.survey_templates.remove(from).is_none() {
            return Err(fault(format!("no survey template {from} to replace")));
        }
        let to = template.name().clone();
        self.state
            .survey_templates
            .insert(to.clone(), template.clone());
        if &to != from {
            let keys: Vec<_> = self
                .state
                .survey_sheets
                .keys()
                .filter(|k| &k.template == from)
                .cloned()
                .collect();
            for key in keys {
                if let Some(mut sheet) = self.state.survey_sheets.remove(&key) {
                    sheet.template = to.clone();
                    self.state.survey_sheets.insert(sheet.key(), sheet);
                }
            }
        }
        Ok(())
    }

    fn delete_survey_template(&mut self, name: &solocrm_core::Tag) -> StoreResult<()> {
        if self.state.survey_templates.remove(name).is_none() {
            return Err(fault(format!("no survey template {name} to delete")));
        }
        Ok(())
    }

    fn insert_survey_sheet(
        &mut self,
        sheet: &solocrm_core::questionnaire::SurveySheet,
    ) -> StoreResult<()> {
        let key = sheet.key();
        if self.state.survey_sheets.contains_key(&key) {
            return Err(fault(format!(
                "a sheet of {} by customer {} at {} is already stored",
                key.template, key.customer, key.at
            )));
        }
        if !self.state.customers.contains_key(&sheet.customer) {
            return Err(fault(format!("no customer {}", sheet.customer)));
        }
        if !self.state.survey_templates.contains_key(&sheet.template) {
            return Err(fault(format!("no survey template {}", sheet.template)));
        }
        self.state
            .survey_sheets
            .insert(key, sheet.clone().normalized());
        Ok(())
    }

    fn insert_need(&mut self, n: &solocrm_core::need::Need) -> StoreResult<()> {
        let s = &mut self.state;
        if s.needs.contains_key(&n.id) {
            return Err(fault(format!("need {} is already stored", n.id)));
        }
        if !s.customers.contains_key(&n.customer) {
            return Err(fault(format!("no customer {}", n.customer)));
        }
        if let Some(d) = n.deal
            && s.deals.get(d).is_none()
        {
            return Err(fault(format!("no deal {d}")));
        }
        s.needs.insert(n.id, n.clone());
        s.needs_by_customer.insert((n.customer, n.id));
        s.saw(IdKind::Need, n.id.get());
        Ok(())
    }

    fn update_need(&mut self, n: &solocrm_core::need::Need) -> StoreResult<()> {
        match self.state.needs.get_mut(&n.id) {
            Some(stored) => {
                stored.note = n.note.clone();
                stored.resolved_at = n.resolved_at;
                stored.voided_at = n.voided_at;
                Ok(())
            }
            None => Err(fault(format!("need {} to update is not stored", n.id))),
        }
    }

    fn insert_participation(
        &mut self,
        p: &solocrm_core::participation::Participation,
    ) -> StoreResult<()> {
        let key = p.key();
        if self.state.participations.contains_key(&key) {
            return Err(fault(format!(
                "a {} participation of customer {} at {} is already stored",
                key.kind, key.customer, key.at
            )));
        }
        if !self.state.customers.contains_key(&p.customer) {
            return Err(fault(format!("no customer {}", p.customer)));
        }
        self.state.participations.insert(key, p.clone());
        Ok(())
    }

    fn update_participation(
        &mut self,
        p: &solocrm_core::participation::Participation,
    ) -> StoreResult<()> {
        let key = p.key();
        match self.state.participations.get_mut(&key) {
            Some(stored) => {
                *stored = p.clone();
                Ok(())
            }
            None => Err(fault(format!(
                "no {} participation of customer {} at {}",
                key.kind, key.customer, key.at
            ))),
        }
    }

    fn update_survey_sheet(
        &mut self,
        sheet: &solocrm_core::questionnaire::SurveySheet,
    ) -> StoreResult<()> {
        let key = sheet.key();
        match self.state.survey_sheets.get_mut(&key) {
            Some(stored) => {
                *stored = sheet.clone().normalized();
                Ok(())
            }
            None => Err(fault(format!(
                "no sheet of {} by customer {} at {}",
                key.template, key.customer, key.at
            ))),
        }
    }

    fn put_offer(&mut self, offer: &solocrm_core::offer::Offer) -> StoreResult<()> {
        self.state.offers.insert(offer.code.clone(), offer.clone());
        Ok(())
    }

    fn redeem_within_limits(
        &mut self,
        r: &solocrm_core::offer::Redemption,
        per_customer: Option<u32>,
        total: Option<u32>,
    ) -> StoreResult<solocrm_core::offer::RedeemOutcome> {
        use solocrm_core::offer::RedeemOutcome;
        // The whole write holds the store's one lock, so counting and inserting here
        // cannot be come between.
        if !self.state.offers.contains_key(&r.code) {
            return Err(fault(format!("redemption of unknown offer {}", r.code)));
        }
        if self.state.redemptions.contains_key(&r.purchase) {
            return Err(fault(format!(
                "purchase {} already holds a redemption",
                r.purchase
            )));
        }
        let mut all = 0u64;
        let mut theirs = 0u64;
        for x in self.state.redemptions.values().filter(|x| x.code == r.code) {
            all += 1;
            if x.customer == r.customer {
                theirs += 1;
            }
        }
        if total.is_some_and(|t| all >= u64::from(t)) {
            return Ok(RedeemOutcome::TotalUsedUp);
        }
        if per_customer.is_some_and(|t| theirs >= u64::from(t)) {
            return Ok(RedeemOutcome::CustomerUsedUp);
        }
        self.state.redemptions.insert(r.purchase, r.clone());
        Ok(RedeemOutcome::Redeemed)
    }

    fn put_campaign(&mut self, campaign: &solocrm_core::campaign::Campaign) -> StoreResult<()> {
        self.state.campaigns.insert(campaign.id(), campaign.clone());
        Ok(())
    }

    fn put_attribution(
        &mut self,
        attribution: &solocrm_core::campaign::Attribution,
    ) -> StoreResult<()> {
        self.state
            .attributions
            .insert(attribution.subject, attribution.campaign);
        Ok(())
    }

    fn delete_attribution(
        &mut self,
        subject: solocrm_core::campaign::AttributionSubject,
    ) -> StoreResult<bool> {
        Ok(self.state.attributions.remove(&subject).is_some())
    }

    fn put_product(&mut self, product: &Product) -> StoreResult<()> {
        self.state
            .products
            .insert(product.sku.clone(), product.clone());
        Ok(())
    }

    fn delete_product(&mut self, sku: &Sku) -> StoreResult<bool> {
        Ok(self.state.products.remove(sku).is_some())
    }

    fn insert_purchase_lines(
        &mut self,
        purchase: PurchaseId,
        lines: &[PurchaseLine],
    ) -> StoreResult<()> {
        if self.state.purchases.get(purchase).is_none() {
            return Err(fault(format!(
                "lines of purchase {purchase}, which is not stored"
            )));
        }
        if self.state.purchase_lines.contains_key(&purchase) {
            return Err(fault(format!("purchase {purchase} has lines already")));
        }
        if let Some(l) = lines
            .iter()
            .find(|l| !self.state.products.contains_key(&l.sku))
        {
            return Err(fault(format!(
                "line of purchase {purchase}: no product {}",
                l.sku
            )));
        }
        if !lines.is_empty() {
            self.state
                .purchase_lines
                .insert(purchase, lines.iter().cloned().collect());
        }
        Ok(())
    }
}
