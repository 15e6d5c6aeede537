//! Inserting a generated business into a store through the [`Store`] trait.

use chrono::{DateTime, Utc};
use solocrm_core::{
    Consent, Crm, CustomerId, DealId, DealStage, LifecycleStage, NewCustomer, NewDeal,
    NewInteraction, NewPointsEntry, NewPurchase, NewRefund, NewServiceRequest, NewSurveyResponse,
    NewTask, PurchaseId, RequestEventKind, RequestId, StageReason, Store, StoreResult, TaskId,
    Writer,
};

use super::GenConfig;
use super::business::{Business, business};

/// Purchases per [`Store::record_purchases`] call.
const PURCHASE_BATCH: usize = 10_000;

/// How many records of each kind there are (in a [`Business`]) or were created (by
/// [`populate`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Customers.
    pub customers: u64,
    /// Purchases.
    pub purchases: u64,
    /// Refunds.
    pub refunds: u64,
    /// Interactions.
    pub interactions: u64,
    /// Survey answers.
    pub surveys: u64,
    /// Deals.
    pub deals: u64,
    /// Moves of deals through the pipeline.
    pub deal_moves: u64,
    /// Service requests.
    pub requests: u64,
    /// Steps of service requests after opening.
    pub request_steps: u64,
    /// Tasks.
    pub tasks: u64,
    /// Task completions.
    pub task_completions: u64,
    /// Loyalty points entries.
    pub points_entries: u64,
    /// Lifecycle stage changes.
    pub stage_changes: u64,
    /// Consent decisions.
    pub consents: u64,
}

impl Business {
    /// How many records of each kind the business holds.
    pub fn counts(&self) -> Counts {
        let n = |len: usize| len as u64;
        Counts {
            customers: n(self.customers.len()),
            purchases: n(self.purchases.len()),
            refunds: n(self.refunds.len()),
            interactions: n(self.interactions.len()),
            surveys: n(self.surveys.len()),
            deals: n(self.deals.len()),
            deal_moves: n(self.deals.iter().map(|d| d.moves.len()).sum()),
            requests: n(self.requests.len()),
            request_steps: n(self.requests.iter().map(|r| r.steps.len()).sum()),
            tasks: n(self.tasks.len()),
            task_completions: n(self.tasks.iter().map(|t| t.completions.len()).sum()),
            points_entries: n(self.points.len()),
            stage_changes: n(self.stage_changes.len()),
            consents: n(self.consents.len()),
        }
    }
}

/// What [`populate`] created: the stored ids, each list in the index order of the
/// [`Business`] lists, and the counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Populated {
    /// The customers' ids, in index order.
    pub customers: Vec<CustomerId>,
    /// The purchases' ids, in index order.
    pub purchases: Vec<PurchaseId>,
    /// The deals' ids, in index order.
    pub deals: Vec<DealId>,
    /// The service requests' ids, in index order.
    pub requests: Vec<RequestId>,
    /// The tasks' ids, in index order.
    pub tasks: Vec<TaskId>,
    /// How many records of each kind were created.
    pub counts: Counts,
}

/// Inserts [`business(config)`](business) into `store` through the [`Store`] trait
/// (purchases via [`Store::record_purchases`] in batches) and returns what was created.
/// Succeeds on an empty store whose base currency is `config.currency`.
///
/// Every record is its own transaction (a [`Crm`]'s [`Store`] methods each commit);
/// [`populate_bulk`] writes the same records in one.
///
/// # Errors
///
/// The first error of the store, e.g. [`StoreError::Validation`](solocrm_core::StoreError::Validation)
/// when the store keeps its books in another currency; what was inserted before stays.
///
/// # Panics
///
/// As [`purchase_log`](super::purchase_log).
pub fn populate<S: Store + ?Sized>(store: &S, config: &GenConfig) -> StoreResult<Populated> {
    insert(store, &business(config))
}

/// Inserts a [`Business`] into `store`, in an order the store contract accepts:
/// customers, deals with their moves (so after-sales links find won deals), purchases
/// in batches, refunds, interactions, surveys, service requests with their steps,
/// tasks with their completions, points, stage changes, consents.
///
/// # Errors
///
/// As [`populate`].
pub fn insert<S: Store + ?Sized>(store: &S, business: &Business) -> StoreResult<Populated> {
    insert_via(&mut ViaStore(store), business, &mut |_| {})
}

/// [`populate`] in one bulk transaction of `crm` ([`Crm::write_bulk`]): the same
/// operations in the same order, so the books come out record for record the same
/// (ids, events and all), but written and synced once instead of once per record.
/// `progress` is called now and then with the records written so far, out of
/// [`Counts::total`] of the business's [`counts`](Business::counts); the generation
/// before the first call takes a moment of its own.
///
/// Nothing is written if an operation fails. A backend that runs the transaction again
/// after a retryable failure starts the count again from zero.
///
/// ```
/// use solocrm_core::{Crm, Currency, Store};
/// use solocrm_sample::{GenConfig, populate, populate_bulk};
/// use solocrm_store_memory::MemoryStore;
///
/// let config = GenConfig::new(30, 5);
/// let one_by_one = Crm::new(MemoryStore::new(Currency::EUR)).with_lifecycle(None);
/// let in_bulk = Crm::new(MemoryStore::new(Currency::EUR)).with_lifecycle(None);
/// let mut written = 0;
/// let created = populate_bulk(&in_bulk, &config, &mut |n| written = n)?;
/// assert_eq!(created, populate(&one_by_one, &config)?);
/// assert_eq!(written, created.counts.total());
/// assert_eq!(in_bulk.purchase_log()?, one_by_one.purchase_log()?);
/// # Ok::<(), solocrm_core::StoreError>(())
/// ```
///
/// # Errors
///
/// As [`populate`], except that nothing stays.
///
/// # Panics
///
/// As [`purchase_log`](super::purchase_log).
pub fn populate_bulk(
    crm: &Crm,
    config: &GenConfig,
    progress: &mut dyn FnMut(u64),
) -> StoreResult<Populated> {
    insert_bulk(crm, &business(config), progress)
}

/// [`insert`] in one bulk transaction of `crm`, reporting progress as
/// [`populate_bulk`] does.
///
/// # Errors
///
/// As [`populate_bulk`].
pub fn insert_bulk(
    crm: &Crm,
    business: &Business,
    progress: &mut dyn FnMut(u64),
) -> StoreResult<Populated> {
    crm.write_bulk(|w| {
        // Any error abandons the whole build: no operation needs its own savepoint.
        w.all_or_nothing();
        insert_into(w, business, progress)
    })
}

/// [`insert`] through the write operations of one open transaction `w` (see
/// [`Crm::write`]); nothing is committed here. `progress` is called as in
/// [`populate_bulk`].
///
/// # Errors
///
/// As [`populate`]; the transaction should then be abandoned.
pub fn insert_into(
    w: &mut Writer<'_>,
    business: &Business,
    progress: &mut dyn FnMut(u64),
) -> StoreResult<Populated> {
    insert_via(w, business, progress)
}

impl Counts {
    /// All records together: every kind of [`Counts`] added up (the steps of
    /// [`populate_bulk`]'s progress).
    pub fn total(&self) -> u64 {
        self.customers
            + self.purchases
            + self.refunds
            + self.interactions
            + self.surveys
            + self.deals
            + self.deal_moves
            + self.requests
            + self.request_steps
            + self.tasks
            + self.task_completions
            + self.points_entries
            + self.stage_changes
            + self.consents
    }
}

/// How often (in records) [`insert_via`] reports progress.
const PROGRESS_EVERY: u64 = 4096;

/// The write operations [`insert`] makes, over a [`Store`] (each its own transaction)
/// or a [`Writer`] (all in the writer's one).
trait Sink {
    fn create_customer(&mut self, new: NewCustomer) -> StoreResult<CustomerId>;
    fn create_deal(&mut self, new: NewDeal) -> StoreResult<DealId>;
    fn move_deal(&mut self, id: DealId, to: DealStage, at: DateTime<Utc>) -> StoreResult<()>;
    fn record_purchases(&mut self, batch: Vec<NewPurchase>) -> StoreResult<Vec<PurchaseId>>;
    fn record_refund(&mut self, new: NewRefund) -> StoreResult<()>;
    fn log_interaction(&mut self, new: NewInteraction) -> StoreResult<()>;
    fn record_survey(&mut self, new: NewSurveyResponse) -> StoreResult<()>;
    fn open_request(&mut self, new: NewServiceRequest) -> StoreResult<RequestId>;
    fn update_request(
        &mut self,
        id: RequestId,
        step: RequestEventKind,
        at: DateTime<Utc>,
    ) -> StoreResult<()>;
    fn create_task(&mut self, new: NewTask) -> StoreResult<TaskId>;
    fn complete_task(&mut self, id: TaskId, at: DateTime<Utc>) -> StoreResult<()>;
    fn post_points(&mut self, new: NewPointsEntry) -> StoreResult<()>;
    fn change_stage(
        &mut self,
        id: CustomerId,
        to: LifecycleStage,
        at: DateTime<Utc>,
        reason: StageReason,
    ) -> StoreResult<()>;
    fn record_consent(&mut self, id: CustomerId, consent: Consent) -> StoreResult<()>;
}

/// A [`Store`] as a [`Sink`].
struct ViaStore<'s, S: ?Sized>(&'s S);

impl<S: Store + ?Sized> Sink for ViaStore<'_, S> {
    fn create_customer(&mut self, new: NewCustomer) -> StoreResult<CustomerId> {
        Ok(self.0.create_customer(new)?.id())
    }
    fn create_deal(&mut self, new: NewDeal) -> StoreResult<DealId> {
        Ok(self.0.create_deal(new)?.id())
    }
    fn move_deal(&mut self, id: DealId, to: DealStage, at: DateTime<Utc>) -> StoreResult<()> {
        self.0.move_deal(id, to, at).map(drop)
    }
    fn record_purchases(&mut self, batch: Vec<NewPurchase>) -> StoreResult<Vec<PurchaseId>> {
        self.0.record_purchases(batch)
    }
    fn record_refund(&mut self, new: NewRefund) -> StoreResult<()> {
        self.0.record_refund(new).map(drop)
    }
    fn log_interaction(&mut self, new: NewInteraction) -> StoreResult<()> {
        self.0.log_interaction(new).map(drop)
    }
    fn record_survey(&mut self, new: NewSurveyResponse) -> StoreResult<()> {
        self.0.record_survey(new).map(drop)
    }
    fn open_request(&mut self, new: NewServiceRequest) -> StoreResult<RequestId> {
        Ok(self.0.open_request(new)?.id())
    }
    fn update_request(
        &mut self,
        id: RequestId,
        step: RequestEventKind,
        at: DateTime<Utc>,
    ) -> StoreResult<()> {
        self.0.update_request(id, step, at).map(drop)
    }
    fn create_task(&mut self, new: NewTask) -> StoreResult<TaskId> {
        Ok(self.0.create_task(new)?.id())
    }
    fn complete_task(&mut self, id: TaskId, at: DateTime<Utc>) -> StoreResult<()> {
        self.0.complete_task(id, at).map(drop)
    }
    fn post_points(&mut self, new: NewPointsEntry) -> StoreResult<()> {
        self.0.post_points(new).map(drop)
    }
    fn change_stage(
        &mut self,
        id: CustomerId,
        to: LifecycleStage,
        at: DateTime<Utc>,
        reason: StageReason,
    ) -> StoreResult<()> {
        self.0.change_stage(id, to, at, reason).map(drop)
    }
    fn record_consent(&mut self, id: CustomerId, consent: Consent) -> StoreResult<()> {
        self.0.record_consent(id, consent).map(drop)
    }
}

impl Sink for Writer<'_> {
    fn create_customer(&mut self, new: NewCustomer) -> StoreResult<CustomerId> {
        Ok(Writer::create_customer(self, new)?.id())
    }
    fn create_deal(&mut self, new: NewDeal) -> StoreResult<DealId> {
        Ok(Writer::create_deal(self, new)?.id())
    }
    fn move_deal(&mut self, id: DealId, to: DealStage, at: DateTime<Utc>) -> StoreResult<()> {
        Writer::move_deal(self, id, to, at).map(drop)
    }
    fn record_purchases(&mut self, batch: Vec<NewPurchase>) -> StoreResult<Vec<PurchaseId>> {
        Writer::record_purchases(self, batch)
    }
    fn record_refund(&mut self, new: NewRefund) -> StoreResult<()> {
        Writer::record_refund(self, new).map(drop)
    }
    fn log_interaction(&mut self, new: NewInteraction) -> StoreResult<()> {
        Writer::log_interaction(self, new).map(drop)
    }
    fn record_survey(&mut self, new: NewSurveyResponse) -> StoreResult<()> {
        Writer::record_survey(self, new).map(drop)
    }
    fn open_request(&mut self, new: NewServiceRequest) -> StoreResult<RequestId> {
        Ok(Writer::open_request(self, new)?.id())
    }
    fn update_request(
        &mut self,
        id: RequestId,
        step: RequestEventKind,
        at: DateTime<Utc>,
    ) -> StoreResult<()> {
        Writer::update_request(self, id, step, at).map(drop)
    }
    fn create_task(&mut self, new: NewTask) -> StoreResult<TaskId> {
        Ok(Writer::create_task(self, new)?.id())
    }
    fn complete_task(&mut self, id: TaskId, at: DateTime<Utc>) -> StoreResult<()> {
        Writer::complete_task(self, id, at).map(drop)
    }
    fn post_points(&mut self, new: NewPointsEntry) -> StoreResult<()> {
        Writer::post_points(self, new).map(drop)
    }
    fn change_stage(
        &mut self,
        id: CustomerId,
        to: LifecycleStage,
        at: DateTime<Utc>,
        reason: StageReason,
    ) -> StoreResult<()> {
        Writer::change_stage(self, id, to, at, reason).map(drop)
    }
    fn record_consent(&mut self, id: CustomerId, consent: Consent) -> StoreResult<()> {
        // Nothing needs the customer back: the consent is appended without loading
        // them (and their consents) whole.
        Writer::append_consent(self, id, &consent)
    }
}

/// Counts the records written and reports them every [`PROGRESS_EVERY`].
struct Tally<'p> {
    done: u64,
    report: &'p mut dyn FnMut(u64),
}

impl Tally<'_> {
    fn add(&mut self, n: u64) {
        let before = self.done / PROGRESS_EVERY;
        self.done += n;
        if self.done / PROGRESS_EVERY != before {
            (self.report)(self.done);
        }
    }
}

/// The body of [`insert`] and [`insert_into`].
fn insert_via(
    sink: &mut dyn Sink,
    business: &Business,
    progress: &mut dyn FnMut(u64),
) -> StoreResult<Populated> {
    let mut counts = Counts::default();
    let mut tally = Tally {
        done: 0,
        report: progress,
    };
    (tally.report)(0);

    let mut customers = Vec::with_capacity(business.customers.len());
    for c in &business.customers {
        customers.push(sink.create_customer(c.clone())?);
        counts.customers += 1;
        tally.add(1);
    }

    let mut deals = Vec::with_capacity(business.deals.len());
    for d in &business.deals {
        let id = sink.create_deal(d.to_new(customers[d.customer]))?;
        counts.deals += 1;
        tally.add(1);
        for &(stage, at) in &d.moves {
            sink.move_deal(id, stage, at)?;
            counts.deal_moves += 1;
            tally.add(1);
        }
        deals.push(id);
    }

    let mut purchases = Vec::with_capacity(business.purchases.len());
    for chunk in business.purchases.chunks(PURCHASE_BATCH) {
        let batch = chunk
            .iter()
            .map(|p| p.to_new(customers[p.customer], p.deal.map(|d| deals[d])))
            .collect();
        let ids = sink.record_purchases(batch)?;
        counts.purchases += ids.len() as u64;
        tally.add(ids.len() as u64);
        purchases.extend(ids);
    }

    for r in &business.refunds {
        sink.record_refund(r.to_new(purchases[r.purchase]))?;
        counts.refunds += 1;
        tally.add(1);
    }
    for x in &business.interactions {
        sink.log_interaction(x.to_new(customers[x.customer]))?;
        counts.interactions += 1;
        tally.add(1);
    }
    for s in &business.surveys {
        sink.record_survey(s.to_new(customers[s.customer]))?;
        counts.surveys += 1;
        tally.add(1);
    }

    let mut requests = Vec::with_capacity(business.requests.len());
    for r in &business.requests {
        let new = r.to_new(customers[r.customer], r.deal.map(|d| deals[d]));
        let id = sink.open_request(new)?;
        counts.requests += 1;
        tally.add(1);
        for &(step, at) in &r.steps {
            sink.update_request(id, step, at)?;
            counts.request_steps += 1;
            tally.add(1);
        }
        requests.push(id);
    }

    let mut tasks = Vec::with_capacity(business.tasks.len());
    for t in &business.tasks {
        let id = sink.create_task(t.to_new(t.customer.map(|c| customers[c])))?;
        counts.tasks += 1;
        tally.add(1);
        for &at in &t.completions {
            sink.complete_task(id, at)?;
            counts.task_completions += 1;
            tally.add(1);
        }
        tasks.push(id);
    }

    for p in &business.points {
        sink.post_points(p.to_new(customers[p.customer]))?;
        counts.points_entries += 1;
        tally.add(1);
    }
    for c in &business.stage_changes {
        sink.change_stage(customers[c.customer], c.to, c.at, c.reason.clone())?;
        counts.stage_changes += 1;
        tally.add(1);
    }
    for c in &business.consents {
        sink.record_consent(customers[c.customer], c.consent.clone())?;
        counts.consents += 1;
        tally.add(1);
    }
    (tally.report)(tally.done);

    Ok(Populated {
        customers,
        purchases,
        deals,
        requests,
        tasks,
        counts,
    })
}
