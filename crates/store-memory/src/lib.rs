//! # solocrm-store-memory
//!
//! solocrm's in-memory storage, in two forms while the storage port changes:
//!
//! - [`MemoryBackend`], the in-memory backend of the transactional port
//!   ([`Storage`](solocrm_core::port::Storage), [`ReadTx`](solocrm_core::port::ReadTx),
//!   [`WriteTx`](solocrm_core::port::WriteTx)). It only stores and reads back records,
//!   with snapshot reads and all-or-nothing writes over persistent maps; the business
//!   rules live in the operations layer above it. See [`MemoryBackend`] for an example.
//! - [`MemoryStore`], the in-memory [`Store`]: the reference semantics of the storage
//!   contract, kept simple so that it is obviously right. Every other store is tested
//!   against it. It is replaced by the operations layer over [`MemoryBackend`].
//!
//! In [`MemoryStore`] all data sits behind one [`RwLock`]; every method takes the lock
//! once, checks everything it needs, and only then changes anything, so each method is
//! atomic. Nothing is persisted by either: the data is gone when the store is dropped.
//!
//! ```
//! use chrono::{TimeZone, Utc};
//! use solocrm_core::{Currency, CustomerData, NewCustomer, PersonName, Store};
//! use solocrm_store_memory::MemoryStore;
//!
//! let store = MemoryStore::new(Currency::EUR);
//! let at = Utc.with_ymd_and_hms(2026, 1, 5, 9, 0, 0).unwrap();
//! let ada = store.create_customer(NewCustomer::new(
//!     CustomerData::new(PersonName::parse("Ada Lovelace")?),
//!     at,
//! ))?;
//! assert_eq!(store.customer(ada.id())?.name().as_str(), "Ada Lovelace");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(missing_docs)]

mod backend;

pub use backend::MemoryBackend;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

use chrono::{DateTime, Utc};
use solocrm_core::store::{
    apply_stage_change, batch_error, check_after_sales_link, check_not_erased, check_refund,
    import_error, resolve_ref,
};
use solocrm_core::{
    ActivityQuery, AuditAction, AuditEntry, AuditId, Conflict, Consent, Currency, Customer,
    CustomerData, CustomerExport, CustomerId, CustomerQuery, Deal, DealId, DealStage, Email,
    Entity, ExternalRef, ImportPart, ImportReceipt, ImportSection, Interaction, InteractionId,
    Label, LifecycleStage, Money, NewCustomer, NewDeal, NewInteraction, NewPointsEntry,
    NewPurchase, NewRefund, NewServiceRequest, NewSurveyResponse, NewTask, OpenQuery, Page,
    PointsEntry, PointsEntryId, Purchase, PurchaseId, PurchaseLog, PurchaseSummary, Refund,
    RefundId, RequestEventKind, RequestId, Segment, ServiceRequest, StageChange, StageReason,
    Store, StoreError, StoreResult, SurveyId, SurveyResponse, Tag, Task, TaskId, TaskQuery,
};

/// The in-memory store. `Send + Sync`; share it behind an `Arc`.
#[derive(Debug)]
pub struct MemoryStore {
    currency: Currency,
    inner: RwLock<Inner>,
}

#[derive(Debug, Default, Clone)]
struct Inner {
    customers: BTreeMap<CustomerId, Customer>,
    by_email: HashMap<String, CustomerId>,
    by_ref: HashMap<ExternalRef, CustomerId>,
    stage_history: HashMap<CustomerId, Vec<StageChange>>,
    interactions: BTreeMap<InteractionId, Interaction>,
    purchases: BTreeMap<PurchaseId, Purchase>,
    purchase_refs: HashMap<ExternalRef, PurchaseId>,
    refunds: BTreeMap<RefundId, Refund>,
    surveys: BTreeMap<SurveyId, SurveyResponse>,
    requests: BTreeMap<RequestId, ServiceRequest>,
    deals: BTreeMap<DealId, Deal>,
    tasks: BTreeMap<TaskId, Task>,
    points: BTreeMap<PointsEntryId, PointsEntry>,
    balances: HashMap<CustomerId, i64>,
    segments: BTreeMap<Label, Segment>,
    audit: Vec<AuditEntry>,
}

/// The next id after the largest key of `map` (1 for an empty map).
fn next_key<K: Ord + Copy + Into<u64>, V>(map: &BTreeMap<K, V>) -> u64 {
    map.last_key_value().map_or(1, |(k, _)| (*k).into() + 1)
}

impl MemoryStore {
    /// An empty store keeping its books in `currency`.
    pub fn new(currency: Currency) -> Self {
        MemoryStore {
            currency,
            inner: RwLock::new(Inner::default()),
        }
    }

    // A panic while holding the lock cannot leave half-applied changes behind, because
    // every method checks before it writes; so a poisoned lock is safe to keep using.
    fn read(&self) -> RwLockReadGuard<'_, Inner> {
        self.inner.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, Inner> {
        self.inner.write().unwrap_or_else(|e| e.into_inner())
    }
}

impl Inner {
    fn customer(&self, id: CustomerId) -> StoreResult<&Customer> {
        self.customers
            .get(&id)
            .ok_or_else(|| StoreError::not_found(Entity::Customer, id))
    }

    fn customer_mut(&mut self, id: CustomerId) -> StoreResult<&mut Customer> {
        self.customers
            .get_mut(&id)
            .ok_or_else(|| StoreError::not_found(Entity::Customer, id))
    }

    /// The customer, who must exist and not be erased, for a new record.
    fn live_customer(&self, id: CustomerId) -> StoreResult<&Customer> {
        let c = self.customer(id)?;
        check_not_erased(c)?;
        Ok(c)
    }

    fn check_unique(&self, data: &CustomerData, own: Option<CustomerId>) -> StoreResult<()> {
        if let Some(email) = &data.email
            && let Some(&existing) = self.by_email.get(&email.key())
            && Some(existing) != own
        {
            return Err(Conflict::DuplicateEmail {
                email: email.to_string(),
                existing,
            }
            .into());
        }
        if let Some(reference) = &data.external_ref
            && let Some(&existing) = self.by_ref.get(reference)
            && Some(existing) != own
        {
            return Err(Conflict::DuplicateExternalRef {
                reference: reference.to_string(),
                existing,
            }
            .into());
        }
        Ok(())
    }

    fn index_customer(&mut self, c: &Customer) {
        if let Some(e) = c.email() {
            self.by_email.insert(e.key(), c.id());
        }
        if let Some(r) = c.external_ref() {
            self.by_ref.insert(r.clone(), c.id());
        }
    }

    fn unindex_customer(&mut self, c: &Customer) {
        if let Some(e) = c.email() {
            self.by_email.remove(&e.key());
        }
        if let Some(r) = c.external_ref() {
            self.by_ref.remove(r);
        }
    }

    fn create_customer(&mut self, new: NewCustomer, base: Currency) -> StoreResult<Customer> {
        let data = new.data.clone().for_storage(base)?;
        self.check_unique(&data, None)?;
        let id = CustomerId::new(next_key(&self.customers));
        let c = Customer::create(id, NewCustomer { data, ..new });
        self.index_customer(&c);
        self.customers.insert(id, c.clone());
        Ok(c)
    }

    fn update_customer(
        &mut self,
        id: CustomerId,
        data: CustomerData,
        base: Currency,
    ) -> StoreResult<Customer> {
        let data = data.for_storage(base)?;
        check_not_erased(self.customer(id)?)?;
        self.check_unique(&data, Some(id))?;
        let mut c = self.customer(id)?.clone();
        self.unindex_customer(&c);
        c.set_data(data);
        self.index_customer(&c);
        self.customers.insert(id, c.clone());
        Ok(c)
    }

    fn record_survey(&mut self, new: NewSurveyResponse) -> StoreResult<SurveyResponse> {
        self.live_customer(new.customer)?;
        let id = SurveyId::new(next_key(&self.surveys));
        let s = SurveyResponse::new(id, new);
        self.surveys.insert(id, s.clone());
        Ok(s)
    }

    fn deal(&self, id: DealId) -> StoreResult<&Deal> {
        self.deals
            .get(&id)
            .ok_or_else(|| StoreError::not_found(Entity::Deal, id))
    }

    /// Checks a purchase against the store (everything but in-batch duplicates) and
    /// returns it in stored form.
    fn check_purchase(&self, new: NewPurchase, base: Currency) -> StoreResult<NewPurchase> {
        self.live_customer(new.customer)?;
        let new = new.for_storage(base)?;
        if let Some(reference) = &new.external_ref
            && let Some(&existing) = self.purchase_refs.get(reference)
        {
            return Err(Conflict::DuplicatePurchaseRef {
                reference: reference.to_string(),
                existing,
            }
            .into());
        }
        if let Some(deal) = new.deal {
            check_after_sales_link(self.deal(deal)?, new.customer)?;
        }
        Ok(new)
    }

    fn insert_purchase(&mut self, new: NewPurchase) -> Purchase {
        let id = PurchaseId::new(next_key(&self.purchases));
        if let Some(r) = &new.external_ref {
            self.purchase_refs.insert(r.clone(), id);
        }
        let p = Purchase::new(id, new);
        self.purchases.insert(id, p.clone());
        p
    }

    fn interactions(&self, query: &ActivityQuery) -> Vec<Interaction> {
        let it = self
            .interactions
            .values()
            .filter(|i| query.admits(i.customer(), i.at()))
            .cloned();
        sorted_by_time(it, |i| (i.at(), i.id().get()))
    }

    fn purchases(&self, query: &ActivityQuery) -> Vec<Purchase> {
        let it = self
            .purchases
            .values()
            .filter(|p| query.admits(p.customer(), p.at()))
            .cloned();
        sorted_by_time(it, |p| (p.at(), p.id().get()))
    }

    fn refunds(&self, query: &ActivityQuery) -> Vec<Refund> {
        let it = self
            .refunds
            .values()
            .filter(|r| query.admits(r.customer(), r.at()))
            .cloned();
        sorted_by_time(it, |r| (r.at(), r.id().get()))
    }

    fn surveys(&self, query: &ActivityQuery) -> Vec<SurveyResponse> {
        let it = self
            .surveys
            .values()
            .filter(|s| query.admits(s.customer(), s.at()))
            .cloned();
        sorted_by_time(it, |s| (s.at(), s.id().get()))
    }

    fn requests(&self, query: &OpenQuery) -> Vec<ServiceRequest> {
        self.requests
            .values()
            .filter(|r| query.customer.is_none_or(|c| c == r.customer()))
            .filter(|r| !query.open_only || r.is_open())
            .cloned()
            .collect()
    }

    fn deals(&self, query: &OpenQuery) -> Vec<Deal> {
        self.deals
            .values()
            .filter(|d| query.customer.is_none_or(|c| c == d.customer()))
            .filter(|d| !query.open_only || !d.stage().is_closed())
            .cloned()
            .collect()
    }

    fn tasks(&self, query: &TaskQuery) -> Vec<Task> {
        let mut v: Vec<Task> = self
            .tasks
            .values()
            .filter(|t| query.customer.is_none_or(|c| t.customer() == Some(c)))
            .filter(|t| query.due_until.is_none_or(|d| t.due() <= d))
            .filter(|t| query.include_done || !t.is_done())
            .cloned()
            .collect();
        v.sort_by_key(|t| (t.due(), t.id()));
        v
    }

    fn points_ledger(&self, customer: CustomerId) -> Vec<PointsEntry> {
        self.points
            .values()
            .filter(|e| e.customer() == customer)
            .cloned()
            .collect()
    }

    fn summaries(
        &self,
        as_of: DateTime<Utc>,
        base: Currency,
    ) -> StoreResult<HashMap<CustomerId, PurchaseSummary>> {
        let mut out: HashMap<CustomerId, PurchaseSummary> = HashMap::new();
        for p in self.purchases.values().filter(|p| p.at() <= as_of) {
            out.entry(p.customer())
                .or_insert_with(|| PurchaseSummary::none(base))
                .add(p.at(), p.amount())
                .map_err(StoreError::backend)?;
        }
        Ok(out)
    }
}

fn sorted_by_time<T: Clone>(
    items: impl Iterator<Item = T>,
    key: impl Fn(&T) -> (DateTime<Utc>, u64),
) -> Vec<T> {
    let mut v: Vec<T> = items.collect();
    v.sort_by_key(|x| key(x));
    v
}

impl Store for MemoryStore {
    fn base_currency(&self) -> Currency {
        self.currency
    }

    fn create_customer(&self, new: NewCustomer) -> StoreResult<Customer> {
        self.write().create_customer(new, self.currency)
    }

    fn customer(&self, id: CustomerId) -> StoreResult<Customer> {
        self.read().customer(id).cloned()
    }

    fn customer_by_email(&self, email: &Email) -> StoreResult<Option<Customer>> {
        let g = self.read();
        Ok(g.by_email
            .get(&email.key())
            .and_then(|id| g.customers.get(id))
            .cloned())
    }

    fn customer_by_external_ref(&self, reference: &ExternalRef) -> StoreResult<Option<Customer>> {
        let g = self.read();
        Ok(g.by_ref
            .get(reference)
            .and_then(|id| g.customers.get(id))
            .cloned())
    }

    fn update_customer(&self, id: CustomerId, data: CustomerData) -> StoreResult<Customer> {
        self.write().update_customer(id, data, self.currency)
    }

    fn list_customers(&self, query: &CustomerQuery) -> StoreResult<Page<Customer>> {
        query.validate()?;
        let g = self.read();
        let summaries = match &query.segment {
            Some(f) if f.predicate.needs_purchases() => Some(g.summaries(f.as_of, self.currency)?),
            _ => None,
        };
        let none = PurchaseSummary::none(self.currency);
        let limit = usize::try_from(query.limit).unwrap_or(usize::MAX);
        let mut items = Vec::new();
        let mut more = false;
        for c in g.customers.values().filter(|c| query.admits(c)) {
            if let Some(f) = &query.segment {
                let s = summaries
                    .as_ref()
                    .and_then(|m| m.get(&c.id()))
                    .unwrap_or(&none);
                if !f.predicate.matches(c, s, f.as_of) {
                    continue;
                }
            }
            if items.len() == limit {
                more = true;
                break;
            }
            items.push(c.clone());
        }
        let next = if more {
            items.last().map(Customer::id)
        } else {
            None
        };
        Ok(Page { items, next })
    }

    fn count_customers(&self) -> StoreResult<u64> {
        Ok(self.read().customers.len() as u64)
    }

    fn tag_customer(&self, id: CustomerId, tag: &Tag) -> StoreResult<bool> {
        let mut g = self.write();
        let c = g.customer_mut(id)?;
        check_not_erased(c)?;
        Ok(c.add_tag(tag.clone()))
    }

    fn untag_customer(&self, id: CustomerId, tag: &Tag) -> StoreResult<bool> {
        let mut g = self.write();
        let c = g.customer_mut(id)?;
        check_not_erased(c)?;
        Ok(c.remove_tag(tag))
    }

    fn record_consent(&self, id: CustomerId, consent: Consent) -> StoreResult<Customer> {
        let mut g = self.write();
        let c = g.customer_mut(id)?;
        check_not_erased(c)?;
        c.record_consent(consent);
        Ok(c.clone())
    }

    fn change_stage(
        &self,
        id: CustomerId,
        to: LifecycleStage,
        at: DateTime<Utc>,
        reason: StageReason,
    ) -> StoreResult<StageChange> {
        let mut g = self.write();
        let last = g
            .stage_history
            .get(&id)
            .and_then(|h| h.last())
            .map(|c| c.at);
        let mut c = g.customer(id)?.clone();
        // A note is text about the customer: an erased one takes none.
        if matches!(reason, StageReason::Manual { note: Some(_) }) {
            check_not_erased(&c)?;
        }
        let change = apply_stage_change(&mut c, last, to, at, reason)?;
        g.customers.insert(id, c);
        g.stage_history.entry(id).or_default().push(change.clone());
        Ok(change)
    }

    fn stage_history(&self, id: CustomerId) -> StoreResult<Vec<StageChange>> {
        let g = self.read();
        g.customer(id)?;
        Ok(g.stage_history.get(&id).cloned().unwrap_or_default())
    }

    fn log_interaction(&self, new: NewInteraction) -> StoreResult<Interaction> {
        let mut g = self.write();
        g.live_customer(new.customer)?;
        let id = InteractionId::new(next_key(&g.interactions));
        let i = Interaction::new(id, new);
        g.interactions.insert(id, i.clone());
        Ok(i)
    }

    fn interactions(&self, query: &ActivityQuery) -> StoreResult<Vec<Interaction>> {
        Ok(self.read().interactions(query))
    }

    fn record_purchase(&self, new: NewPurchase) -> StoreResult<Purchase> {
        let mut g = self.write();
        let new = g.check_purchase(new, self.currency)?;
        Ok(g.insert_purchase(new))
    }

    fn record_purchases(&self, batch: Vec<NewPurchase>) -> StoreResult<Vec<PurchaseId>> {
        let mut g = self.write();
        let mut seen: HashSet<ExternalRef> = HashSet::new();
        let mut checked = Vec::with_capacity(batch.len());
        for (index, new) in batch.into_iter().enumerate() {
            let new = g
                .check_purchase(new, self.currency)
                .map_err(|e| batch_error(index, e))?;
            if let Some(r) = &new.external_ref
                && !seen.insert(r.clone())
            {
                let dup = Conflict::DuplicateRefInBatch {
                    reference: r.to_string(),
                };
                return Err(batch_error(index, dup.into()));
            }
            checked.push(new);
        }
        Ok(checked
            .into_iter()
            .map(|p| g.insert_purchase(p).id())
            .collect())
    }

    fn import_parts(
        &self,
        parts: &mut dyn Iterator<Item = ImportPart>,
    ) -> StoreResult<ImportReceipt> {
        use ImportSection as S;
        let mut g = self.write();
        // Work on a copy and keep it only if every record of every part is accepted.
        let mut draft = g.clone();
        let mut receipt = ImportReceipt::default();
        let mut updated = 0;
        let mut seen: HashSet<ExternalRef> = HashSet::new();
        for part in parts {
            let batch = part.map_err(StoreError::Aborted)?;
            for new in batch.create_customers {
                let i = receipt.created_customers.len();
                let c = draft
                    .create_customer(new, self.currency)
                    .map_err(|e| import_error(S::CreateCustomers, i, e))?;
                receipt.created_customers.push(c.id());
            }
            for (id, data) in batch.update_customers {
                draft
                    .update_customer(id, data, self.currency)
                    .map_err(|e| import_error(S::UpdateCustomers, updated, e))?;
                updated += 1;
            }
            for (who, mut new) in batch.purchases {
                let i = receipt.purchases.len();
                let fail = |e| import_error(S::Purchases, i, e);
                new.customer = resolve_ref(who, &receipt.created_customers).map_err(fail)?;
                // A repeat within the import is named as such, before the draft (which
                // holds the earlier rows) would report it as a stored duplicate.
                if let Some(r) = &new.external_ref
                    && !seen.insert(r.clone())
                {
                    let dup = Conflict::DuplicateRefInBatch {
                        reference: r.to_string(),
                    };
                    return Err(fail(dup.into()));
                }
                let new = draft.check_purchase(new, self.currency).map_err(fail)?;
                receipt.purchases.push(draft.insert_purchase(new).id());
            }
            for (who, mut new) in batch.surveys {
                let i = receipt.surveys.len();
                let fail = |e| import_error(S::Surveys, i, e);
                new.customer = resolve_ref(who, &receipt.created_customers).map_err(fail)?;
                receipt
                    .surveys
                    .push(draft.record_survey(new).map_err(fail)?.id());
            }
        }
        *g = draft;
        Ok(receipt)
    }

    fn purchase(&self, id: PurchaseId) -> StoreResult<Purchase> {
        self.read()
            .purchases
            .get(&id)
            .cloned()
            .ok_or_else(|| StoreError::not_found(Entity::Purchase, id))
    }

    fn purchases(&self, query: &ActivityQuery) -> StoreResult<Vec<Purchase>> {
        Ok(self.read().purchases(query))
    }

    fn purchase_log(&self) -> StoreResult<PurchaseLog> {
        let g = self.read();
        let mut log =
            PurchaseLog::with_customers(self.currency, g.customers.keys().copied().collect());
        for p in g.purchases.values() {
            let idx = log
                .index_of(p.customer())
                .ok_or_else(|| StoreError::not_found(Entity::Customer, p.customer()))?;
            let minor = p.amount().to_minor_units().map_err(StoreError::backend)?;
            log.push(idx, p.at().timestamp(), minor);
        }
        Ok(log)
    }

    fn record_refund(&self, new: NewRefund) -> StoreResult<Refund> {
        let mut g = self.write();
        let purchase = g
            .purchases
            .get(&new.purchase)
            .ok_or_else(|| StoreError::not_found(Entity::Purchase, new.purchase))?;
        // A reason is text about the customer: an erased one takes none.
        if new.reason.is_some() {
            check_not_erased(g.customer(purchase.customer())?)?;
        }
        let refunded = g
            .refunds
            .values()
            .filter(|r| r.purchase() == purchase.id())
            .try_fold(Money::zero(self.currency), |acc, r| {
                acc.checked_add(r.amount())
            })
            .map_err(StoreError::backend)?;
        let customer = purchase.customer();
        let new = check_refund(new, purchase, refunded, self.currency)?;
        let id = RefundId::new(next_key(&g.refunds));
        let r = Refund::new(id, customer, new);
        g.refunds.insert(id, r.clone());
        Ok(r)
    }

    fn refunds(&self, query: &ActivityQuery) -> StoreResult<Vec<Refund>> {
        Ok(self.read().refunds(query))
    }

    fn record_survey(&self, new: NewSurveyResponse) -> StoreResult<SurveyResponse> {
        self.write().record_survey(new)
    }

    fn surveys(&self, query: &ActivityQuery) -> StoreResult<Vec<SurveyResponse>> {
        Ok(self.read().surveys(query))
    }

    fn open_request(&self, new: NewServiceRequest) -> StoreResult<ServiceRequest> {
        let mut g = self.write();
        g.live_customer(new.customer)?;
        if let Some(deal) = new.deal {
            check_after_sales_link(g.deal(deal)?, new.customer)?;
        }
        let id = RequestId::new(next_key(&g.requests));
        let r = ServiceRequest::open(id, new);
        g.requests.insert(id, r.clone());
        Ok(r)
    }

    fn update_request(
        &self,
        id: RequestId,
        step: RequestEventKind,
        at: DateTime<Utc>,
    ) -> StoreResult<ServiceRequest> {
        let mut g = self.write();
        let r = g
            .requests
            .get_mut(&id)
            .ok_or_else(|| StoreError::not_found(Entity::Request, id))?;
        // `apply` checks before it changes anything.
        r.apply(step, at)?;
        Ok(r.clone())
    }

    fn request(&self, id: RequestId) -> StoreResult<ServiceRequest> {
        self.read()
            .requests
            .get(&id)
            .cloned()
            .ok_or_else(|| StoreError::not_found(Entity::Request, id))
    }

    fn requests(&self, query: &OpenQuery) -> StoreResult<Vec<ServiceRequest>> {
        Ok(self.read().requests(query))
    }

    fn create_deal(&self, new: NewDeal) -> StoreResult<Deal> {
        let new = new.for_storage(self.currency)?;
        let mut g = self.write();
        g.live_customer(new.customer)?;
        let id = DealId::new(next_key(&g.deals));
        let d = Deal::create(id, new);
        g.deals.insert(id, d.clone());
        Ok(d)
    }

    fn move_deal(&self, id: DealId, to: DealStage, at: DateTime<Utc>) -> StoreResult<Deal> {
        let mut g = self.write();
        let d = g
            .deals
            .get_mut(&id)
            .ok_or_else(|| StoreError::not_found(Entity::Deal, id))?;
        // `move_to` checks before it changes anything.
        d.move_to(to, at)?;
        Ok(d.clone())
    }

    fn deal(&self, id: DealId) -> StoreResult<Deal> {
        self.read().deal(id).cloned()
    }

    fn deals(&self, query: &OpenQuery) -> StoreResult<Vec<Deal>> {
        Ok(self.read().deals(query))
    }

    fn create_task(&self, new: NewTask) -> StoreResult<Task> {
        let mut g = self.write();
        if let Some(c) = new.customer {
            g.live_customer(c)?;
        }
        let id = TaskId::new(next_key(&g.tasks));
        let t = Task::create(id, new);
        g.tasks.insert(id, t.clone());
        Ok(t)
    }

    fn complete_task(&self, id: TaskId, at: DateTime<Utc>) -> StoreResult<Task> {
        let mut g = self.write();
        let t = g
            .tasks
            .get_mut(&id)
            .ok_or_else(|| StoreError::not_found(Entity::Task, id))?;
        t.complete(at)?;
        Ok(t.clone())
    }

    fn task(&self, id: TaskId) -> StoreResult<Task> {
        self.read()
            .tasks
            .get(&id)
            .cloned()
            .ok_or_else(|| StoreError::not_found(Entity::Task, id))
    }

    fn tasks(&self, query: &TaskQuery) -> StoreResult<Vec<Task>> {
        Ok(self.read().tasks(query))
    }

    fn post_points(&self, entry: NewPointsEntry) -> StoreResult<PointsEntry> {
        let mut g = self.write();
        g.live_customer(entry.customer)?;
        let balance = g.balances.get(&entry.customer).copied().unwrap_or(0);
        let after = entry.apply_to(balance)?;
        let id = PointsEntryId::new(next_key(&g.points));
        g.balances.insert(entry.customer, after);
        let e = PointsEntry::new(id, entry, after);
        g.points.insert(id, e.clone());
        Ok(e)
    }

    fn points_balance(&self, customer: CustomerId) -> StoreResult<i64> {
        let g = self.read();
        g.customer(customer)?;
        Ok(g.balances.get(&customer).copied().unwrap_or(0))
    }

    fn points_ledger(&self, customer: CustomerId) -> StoreResult<Vec<PointsEntry>> {
        let g = self.read();
        g.customer(customer)?;
        Ok(g.points_ledger(customer))
    }

    fn create_segment(&self, segment: Segment) -> StoreResult<()> {
        // A predicate nested deeper than a store can read back is refused before
        // anything else, as the SQLite store does.
        segment.validate()?;
        let mut g = self.write();
        if g.segments.contains_key(&segment.name) {
            return Err(Conflict::DuplicateSegment {
                name: segment.name.to_string(),
            }
            .into());
        }
        g.segments.insert(segment.name.clone(), segment);
        Ok(())
    }

    fn segment(&self, name: &Label) -> StoreResult<Segment> {
        self.read()
            .segments
            .get(name)
            .cloned()
            .ok_or_else(|| StoreError::not_found(Entity::Segment, name))
    }

    fn segments(&self) -> StoreResult<Vec<Segment>> {
        Ok(self.read().segments.values().cloned().collect())
    }

    fn delete_segment(&self, name: &Label) -> StoreResult<()> {
        self.write()
            .segments
            .remove(name)
            .map(drop)
            .ok_or_else(|| StoreError::not_found(Entity::Segment, name))
    }

    fn erase_customer(&self, id: CustomerId, at: DateTime<Utc>) -> StoreResult<AuditEntry> {
        let mut g = self.write();
        let mut c = g.customer(id)?.clone();
        if c.is_erased() {
            return Err(Conflict::AlreadyErased { customer: id }.into());
        }
        g.unindex_customer(&c);
        c.erase(at);
        g.customers.insert(id, c);
        for i in g.interactions.values_mut().filter(|i| i.customer() == id) {
            i.erase_text();
        }
        for p in g.purchases.values_mut().filter(|p| p.customer() == id) {
            p.erase_text();
        }
        for r in g.refunds.values_mut().filter(|r| r.customer() == id) {
            r.erase_text();
        }
        for s in g.surveys.values_mut().filter(|s| s.customer() == id) {
            s.erase_text();
        }
        for r in g.requests.values_mut().filter(|r| r.customer() == id) {
            r.erase_text();
        }
        for d in g.deals.values_mut().filter(|d| d.customer() == id) {
            d.erase_text();
        }
        for t in g.tasks.values_mut().filter(|t| t.customer() == Some(id)) {
            t.erase_text();
        }
        for e in g.points.values_mut().filter(|e| e.customer() == id) {
            e.erase_text();
        }
        if let Some(history) = g.stage_history.get_mut(&id) {
            for change in history {
                if let StageReason::Manual { note } = &mut change.reason {
                    *note = None;
                }
            }
        }
        let entry = AuditEntry {
            id: AuditId::new(g.audit.len() as u64 + 1),
            at,
            action: AuditAction::CustomerErased { customer: id },
        };
        g.audit.push(entry.clone());
        Ok(entry)
    }

    fn export_customer(&self, id: CustomerId) -> StoreResult<CustomerExport> {
        let g = self.read();
        let customer = g.customer(id)?.clone();
        let of = ActivityQuery::customer(id);
        let by_customer = OpenQuery {
            customer: Some(id),
            open_only: false,
        };
        Ok(CustomerExport {
            stage_history: g.stage_history.get(&id).cloned().unwrap_or_default(),
            interactions: g.interactions(&of),
            purchases: g.purchases(&of),
            refunds: g.refunds(&of),
            surveys: g.surveys(&of),
            requests: g.requests(&by_customer),
            deals: g.deals(&by_customer),
            tasks: g.tasks(&TaskQuery {
                customer: Some(id),
                due_until: None,
                include_done: true,
            }),
            points: g.points_ledger(id),
            customer,
        })
    }

    fn audit_log(&self) -> StoreResult<Vec<AuditEntry>> {
        Ok(self.read().audit.clone())
    }
}
