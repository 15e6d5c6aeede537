//! [`Tx`]: one open PostgreSQL transaction of one tenant as a [`ReadTx`] and
//! [`WriteTx`]. Each method hands the connection and the tenant to the function of
//! its record kind in [`crate::records`] and turns the internal error into a
//! [`StoreError`](solocrm_core::StoreError), noting a failure the server asks to retry.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;

use chrono::{DateTime, Utc};
use solocrm_core::automation as am;
use solocrm_core::port::{
    ContactTimes, CustomerDates, CustomerFilter, CustomerStage, IdKind, ReadTx, WriteTx,
};
use solocrm_core::{
    ActivityQuery, AuditEntry, BusinessZone, Consent, Cost, CostId, Currency, Customer, CustomerId,
    CustomerKeys, Deal, DealId, Email, Event, EventSeq, ExternalRef, Interaction, InteractionId,
    Label, LifecycleStage, OpenQuery, PointsEntry, PointsTier, Purchase, PurchaseId, PurchaseLog,
    PurchaseSummary, Refund, RequestId, SearchFields, SearchText, Segment, ServiceRequest,
    StageChange, StoreResult, SurveyId, SurveyResponse, Tag, Task, TaskId, TaskQuery,
};

use crate::error::{Fail, Res};
use crate::pool::Conn;
use crate::records::{self as rec, PurchaseWrite};

/// How many purchases a bulk load keeps waiting before it sends them with one `COPY`.
const COPY_ROWS: usize = 10_000;

/// A bulk load of purchases (announced with [`WriteTx::expect_purchases`]): new
/// purchases wait here and go to the server with one binary `COPY` per
/// [`COPY_ROWS`], before anything else is read or written and before the commit;
/// whether a reference is taken is answered from `refs`, every reference stored or
/// waiting, instead of a query per row.
struct Bulk {
    rows: Vec<Purchase>,
    /// `None` until loaded, and again after a rollback to a savepoint.
    refs: Option<HashMap<String, PurchaseId>>,
    /// Whether each customer is erased, by id: what the check of every row's customer
    /// asks, answered from one read instead of a query per customer. `None` until
    /// loaded, and again after a rollback to a savepoint; kept in step by the
    /// customer writes of the transaction.
    erased: Option<HashMap<i64, bool>>,
}

/// Where the tenant's partition of `purchases` stands in this transaction (schema
/// v5, ADR 0019).
#[derive(Clone, PartialEq, Eq)]
enum Partition {
    /// Not looked up yet.
    Unknown,
    /// Attached: purchases go through `purchases`.
    Attached,
    /// Created by this transaction's bulk load as a plain table (its qualified name)
    /// that `COPY` fills; keyed, indexed and attached before anything reads or
    /// writes purchases, and before the commit. With it, the largest purchase id
    /// copied into it (0 before the first row): the table holds every purchase of the
    /// tenant, so that is the tenant's largest, known without scanning the unindexed
    /// table at each part of an import.
    Staged(String, u64),
}

/// A transaction on one pooled connection: a read-only snapshot or a write.
pub(crate) struct Tx<'c> {
    conn: RefCell<&'c mut Conn>,
    tenant: i64,
    base: Currency,
    /// Set when a statement failed with 40001 or 40P01: the whole transaction may be
    /// run again.
    retry: Cell<bool>,
    /// From how many announced purchases a write loads them with `COPY`.
    bulk_from: u64,
    bulk: RefCell<Option<Bulk>>,
    /// Set by [`WriteTx::purge_after_commit`]: the write removed personal data.
    purge: bool,
    partition: RefCell<Partition>,
}

impl<'c> Tx<'c> {
    /// `attached`: the tenant's partition of `purchases` is known to be attached
    /// (committed), so that no write looks it up again.
    pub(crate) fn new(
        conn: &'c mut Conn,
        tenant: i64,
        base: Currency,
        bulk_from: u64,
        attached: bool,
    ) -> Self {
        Tx {
            conn: RefCell::new(conn),
            tenant,
            base,
            retry: Cell::new(false),
            bulk_from,
            bulk: RefCell::new(None),
            purge: false,
            partition: RefCell::new(if attached {
                Partition::Attached
            } else {
                Partition::Unknown
            }),
        }
    }

    /// True if the tenant's partition of `purchases` is attached in this transaction.
    pub(crate) fn partition_attached(&self) -> bool {
        *self.partition.borrow() == Partition::Attached
    }

    /// Makes sure the tenant's partition of `purchases` is attached before a purchase
    /// is written through `purchases`: a staged one is finished, a missing one created
    /// empty.
    fn attach_partition(&self) -> StoreResult<()> {
        let state = self.partition.borrow().clone();
        match state {
            Partition::Attached => return Ok(()),
            Partition::Staged(name, _) => {
                self.run_unflushed(|c, t| rec::attach_staged(c, t, &name))?;
            }
            Partition::Unknown => {
                self.run_unflushed(|c, t| {
                    if rec::has_partition(c, t)? {
                        Ok(())
                    } else {
                        rec::create_partition(c, t)
                    }
                })?;
            }
        }
        *self.partition.borrow_mut() = Partition::Attached;
        Ok(())
    }

    /// Where a bulk load's `COPY` goes: `purchases` if the tenant has its partition,
    /// else a staged partition of its own (created at the first `COPY`).
    fn copy_target(&self) -> StoreResult<String> {
        let state = self.partition.borrow().clone();
        let target = match state {
            Partition::Attached => return Ok("purchases".to_owned()),
            Partition::Staged(name, _) => return Ok(name),
            Partition::Unknown => self.run_unflushed(|c, t| {
                if rec::has_partition(c, t)? {
                    Ok(Partition::Attached)
                } else {
                    rec::stage_partition(c, t).map(|name| Partition::Staged(name, 0))
                }
            })?,
        };
        *self.partition.borrow_mut() = target;
        self.copy_target()
    }

    /// Sends what a bulk load keeps waiting and, if it loaded a staged partition,
    /// keys, indexes and attaches it: before anything reads or writes purchases,
    /// and before the commit.
    pub(crate) fn finish(&self) -> StoreResult<()> {
        self.flush()?;
        if matches!(*self.partition.borrow(), Partition::Staged(..)) {
            self.attach_partition()?;
        }
        Ok(())
    }

    /// True if the write asked for the old versions of its rows to be purged after
    /// its commit (an erasure).
    pub(crate) fn wants_purge(&self) -> bool {
        self.purge
    }

    /// Sends the purchases waiting in a bulk load, so that what follows sees them.
    pub(crate) fn flush(&self) -> StoreResult<()> {
        let rows = match self.bulk.borrow_mut().as_mut() {
            Some(b) if !b.rows.is_empty() => std::mem::take(&mut b.rows),
            _ => return Ok(()),
        };
        let table = self.copy_target()?;
        self.run_unflushed(|c, t| rec::copy_purchases(c, t, &table, &rows))?;
        if let Partition::Staged(_, max) = &mut *self.partition.borrow_mut() {
            *max = rows.iter().map(|p| p.id().get()).fold(*max, u64::max);
        }
        Ok(())
    }

    /// The bulk load's references, loaded on first use.
    fn with_refs<T>(
        &self,
        f: impl FnOnce(&mut Vec<Purchase>, &mut HashMap<String, PurchaseId>) -> T,
    ) -> StoreResult<Option<T>> {
        let loaded = match self.bulk.borrow().as_ref() {
            None => return Ok(None),
            Some(b) => b.refs.is_some(),
        };
        if !loaded {
            // Whatever waits goes first, so the references read include its own.
            self.flush()?;
            let refs = self.run_unflushed(rec::purchase_refs)?;
            if let Some(b) = self.bulk.borrow_mut().as_mut() {
                b.refs = Some(refs);
            }
        }
        let mut bulk = self.bulk.borrow_mut();
        Ok(bulk.as_mut().and_then(|b| {
            let Bulk { rows, refs, .. } = b;
            refs.as_mut().map(|refs| f(rows, refs))
        }))
    }

    /// Keeps `p` for the next `COPY` of a bulk load, unless its reference is taken
    /// (then its owner); `None` outside a bulk load.
    fn buffer(&self, p: &Purchase) -> StoreResult<Option<Option<PurchaseId>>> {
        let taken = self.with_refs(|rows, refs| {
            if let Some(r) = p.external_ref() {
                if let Some(owner) = refs.get(r.as_str()) {
                    return (Some(*owner), false);
                }
                refs.insert(r.as_str().to_owned(), p.id());
            }
            rows.push(p.clone());
            (None, rows.len() >= COPY_ROWS)
        })?;
        match taken {
            None => Ok(None),
            Some((owner, full)) => {
                if full {
                    self.flush()?;
                }
                Ok(Some(owner))
            }
        }
    }

    /// Keeps a bulk load's erasure map in step with a customer just written.
    fn note_customer(&self, customer: &Customer) {
        if let Some(erased) = self
            .bulk
            .borrow_mut()
            .as_mut()
            .and_then(|b| b.erased.as_mut())
            && let Ok(key) = i64::try_from(customer.id().get())
        {
            erased.insert(key, customer.is_erased());
        }
    }

    /// True if a statement of this transaction failed in a way the server asks to
    /// retry.
    pub(crate) fn wants_retry(&self) -> bool {
        self.retry.get()
    }

    /// Runs `f` after sending what a bulk load keeps waiting (and attaching its
    /// staged partition).
    pub(crate) fn run<T>(&self, f: impl FnOnce(&mut Conn, i64) -> Res<T>) -> StoreResult<T> {
        self.finish()?;
        self.run_unflushed(f)
    }

    /// Runs `f`, which reads nothing a waiting purchase could change.
    fn run_unflushed<T>(&self, f: impl FnOnce(&mut Conn, i64) -> Res<T>) -> StoreResult<T> {
        let mut conn = self.conn.borrow_mut();
        f(&mut conn, self.tenant).map_err(|e| self.fail(e))
    }

    fn run_base<T>(&self, f: impl FnOnce(&mut Conn, i64, Currency) -> Res<T>) -> StoreResult<T> {
        self.finish()?;
        self.run_base_unflushed(f)
    }

    /// [`run_base`](Self::run_base) for what a waiting purchase cannot change.
    fn run_base_unflushed<T>(
        &self,
        f: impl FnOnce(&mut Conn, i64, Currency) -> Res<T>,
    ) -> StoreResult<T> {
        let mut conn = self.conn.borrow_mut();
        f(&mut conn, self.tenant, self.base).map_err(|e| self.fail(e))
    }

    fn fail(&self, e: Fail) -> solocrm_core::StoreError {
        if e.is_retryable() {
            self.retry.set(true);
        }
        e.into_store()
    }
}

impl ReadTx for Tx<'_> {
    fn base_currency(&self) -> Currency {
        self.base
    }

    fn time_zone(&self) -> StoreResult<BusinessZone> {
        self.run(rec::time_zone)
    }

    // A bulk load of purchases checks each row's customer and deal: those reads
    // (which no waiting purchase changes) do not send the waiting rows.
    fn customer(&self, id: CustomerId) -> StoreResult<Option<Customer>> {
        self.run_base_unflushed(|c, t, b| rec::find_customer(c, t, id, b))
    }

    fn customer_erased(&self, id: CustomerId) -> StoreResult<Option<bool>> {
        let loaded = match self.bulk.borrow().as_ref() {
            None => return self.run_unflushed(|c, t| rec::erased(c, t, id)),
            Some(b) => b.erased.is_some(),
        };
        if !loaded {
            let all = self.run_unflushed(rec::erased_by_id)?;
            if let Some(b) = self.bulk.borrow_mut().as_mut() {
                b.erased = Some(all);
            }
        }
        let Ok(key) = i64::try_from(id.get()) else {
            return Ok(None);
        };
        Ok(self
            .bulk
            .borrow()
            .as_ref()
            .and_then(|b| b.erased.as_ref())
            .and_then(|e| e.get(&key).copied()))
    }

    // A stage change reads two columns of the customer and one row of its history;
    // no waiting purchase changes either.
    fn customer_stage(&self, id: CustomerId) -> StoreResult<Option<CustomerStage>> {
        self.run_unflushed(|c, t| rec::stage_of(c, t, id))
    }

    fn last_stage_change_at(&self, customer: CustomerId) -> StoreResult<Option<DateTime<Utc>>> {
        self.run_unflushed(|c, t| rec::last_stage_change_at(c, t, customer))
    }

    fn customer_by_email(&self, email: &Email) -> StoreResult<Option<CustomerId>> {
        self.run(|c, t| rec::by_email(c, t, email))
    }

    fn customer_by_external_ref(&self, reference: &ExternalRef) -> StoreResult<Option<CustomerId>> {
        self.run(|c, t| rec::by_external_ref(c, t, reference))
    }

    fn customer_keys(&self) -> StoreResult<Vec<CustomerKeys>> {
        self.run(rec::keys)
    }

    fn customers(
        &self,
        filter: &CustomerFilter,
        after: Option<CustomerId>,
        limit: u32,
    ) -> StoreResult<Vec<Customer>> {
        self.run_base(|c, t, b| rec::list(c, t, filter, after, limit, b))
    }

    fn count_customers(&self) -> StoreResult<u64> {
        self.run(rec::count)
    }

    fn search_customers(&self, text: &SearchText) -> StoreResult<Vec<CustomerId>> {
        self.run(|c, t| rec::search(c, t, text))
    }

    fn search_fields(&self, text: &SearchText) -> StoreResult<Vec<SearchFields>> {
        self.run(|c, t| rec::search_fields(c, t, text))
    }

    fn stage_history(&self, customer: CustomerId) -> StoreResult<Vec<StageChange>> {
        self.run(|c, t| rec::stage_history(c, t, customer))
    }

    fn stage_changes_from(&self, from: DateTime<Utc>) -> StoreResult<Vec<StageChange>> {
        self.run(|c, t| rec::stage_changes_from(c, t, from))
    }

    fn interactions(&self, query: &ActivityQuery) -> StoreResult<Vec<Interaction>> {
        self.run(|c, t| rec::interactions(c, t, query))
    }

    fn interaction(&self, id: InteractionId) -> StoreResult<Option<Interaction>> {
        self.run(|c, t| rec::interaction(c, t, id))
    }

    fn purchase(&self, id: PurchaseId) -> StoreResult<Option<Purchase>> {
        self.run_base(|c, t, b| rec::purchase(c, t, id, b))
    }

    fn purchase_by_external_ref(&self, reference: &ExternalRef) -> StoreResult<Option<PurchaseId>> {
        if let Some(owner) = self.with_refs(|_, refs| refs.get(reference.as_str()).copied())? {
            return Ok(owner);
        }
        self.run(|c, t| rec::purchase_by_ref(c, t, reference))
    }

    fn purchases(&self, query: &ActivityQuery) -> StoreResult<Vec<Purchase>> {
        self.run_base(|c, t, b| rec::purchases(c, t, query, b))
    }

    fn purchase_summary(
        &self,
        customer: CustomerId,
        as_of: DateTime<Utc>,
    ) -> StoreResult<PurchaseSummary> {
        self.run_base(|c, t, b| rec::purchase_summary(c, t, customer, as_of, b))
    }

    fn purchase_summaries(
        &self,
        as_of: DateTime<Utc>,
    ) -> StoreResult<Vec<(CustomerId, PurchaseSummary)>> {
        self.run_base(|c, t, b| rec::purchase_summaries(c, t, as_of, b))
    }

    fn purchase_log(&self) -> StoreResult<PurchaseLog> {
        self.run_base(rec::purchase_log)
    }

    fn refunds(&self, query: &ActivityQuery) -> StoreResult<Vec<Refund>> {
        self.run_base(|c, t, b| rec::refunds(c, t, query, b))
    }

    fn refunds_of(&self, purchase: PurchaseId) -> StoreResult<Vec<Refund>> {
        self.run_base(|c, t, b| rec::refunds_of(c, t, purchase, b))
    }

    fn surveys(&self, query: &ActivityQuery) -> StoreResult<Vec<SurveyResponse>> {
        self.run(|c, t| rec::surveys(c, t, query))
    }

    fn survey(&self, id: SurveyId) -> StoreResult<Option<SurveyResponse>> {
        self.run(|c, t| rec::survey(c, t, id))
    }

    fn request(&self, id: RequestId) -> StoreResult<Option<ServiceRequest>> {
        self.run(|c, t| rec::request(c, t, id))
    }

    fn requests(&self, query: &OpenQuery) -> StoreResult<Vec<ServiceRequest>> {
        self.run(|c, t| rec::list_requests(c, t, query))
    }

    fn deal(&self, id: DealId) -> StoreResult<Option<Deal>> {
        self.run_base_unflushed(|c, t, b| rec::find_deal(c, t, id, b))
    }

    fn deals(&self, query: &OpenQuery) -> StoreResult<Vec<Deal>> {
        self.run_base(|c, t, b| rec::list_deals(c, t, query, b))
    }

    fn task(&self, id: TaskId) -> StoreResult<Option<Task>> {
        self.run(|c, t| rec::task(c, t, id))
    }

    fn tasks(&self, query: &TaskQuery) -> StoreResult<Vec<Task>> {
        self.run(|c, t| rec::list_tasks(c, t, query))
    }

    fn points_ledger(&self, customer: CustomerId) -> StoreResult<Vec<PointsEntry>> {
        self.run(|c, t| rec::points_ledger(c, t, customer))
    }

    fn points_balance(&self, customer: CustomerId) -> StoreResult<i64> {
        self.run(|c, t| rec::points_balance(c, t, customer))
    }

    fn points_tiers(&self) -> StoreResult<Vec<PointsTier>> {
        self.run(rec::points_tiers)
    }

    fn points_expiry(&self) -> StoreResult<Option<solocrm_core::PointsExpiry>> {
        self.run(rec::points_expiry)
    }

    fn points_holders(&self) -> StoreResult<Vec<CustomerId>> {
        self.run(rec::points_holders)
    }

    fn points_holder_ledgers(&self) -> StoreResult<Vec<(CustomerId, Vec<PointsEntry>)>> {
        self.run(rec::points_holder_ledgers)
    }

    fn segment(&self, name: &Label) -> StoreResult<Option<Segment>> {
        self.run(|c, t| rec::segment(c, t, name))
    }

    fn segments(&self) -> StoreResult<Vec<Segment>> {
        self.run(rec::segments)
    }

    fn audit_log(&self) -> StoreResult<Vec<AuditEntry>> {
        self.run(rec::audit_log)
    }

    fn cost(&self, id: CostId) -> StoreResult<Option<Cost>> {
        self.run_base(|c, t, b| rec::cost(c, t, id, b))
    }

    fn costs(&self) -> StoreResult<Vec<Cost>> {
        self.run_base(rec::costs)
    }

    fn events(&self, after: EventSeq, limit: u32) -> StoreResult<Vec<Event>> {
        self.run(|c, t| rec::events(c, t, after, limit))
    }
    fn rules(&self) -> StoreResult<Vec<am::RuleRecord>> {
        self.run(crate::rules::rules)
    }
    fn firing_exists(
        &self,
        r: &am::RuleName,
        c: CustomerId,
        o: &am::Occurrence,
    ) -> StoreResult<bool> {
        self.run(|x, t| crate::rules::firing_exists(x, t, r, c, o))
    }
    fn firings(&self) -> StoreResult<Vec<am::Firing>> {
        self.run(crate::rules::firings)
    }
    fn customer_names(
        &self,
        ids: &[CustomerId],
    ) -> StoreResult<Vec<(CustomerId, solocrm_core::PersonName)>> {
        self.run(|c, t| rec::names(c, t, ids))
    }

    fn customer_stages(&self) -> StoreResult<Vec<(CustomerId, LifecycleStage)>> {
        self.run(rec::stages)
    }

    fn customer_dates(&self) -> StoreResult<Vec<CustomerDates>> {
        self.run(crate::rules::customer_dates)
    }
    fn contact_times(
        &self,
        from: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> StoreResult<Vec<ContactTimes>> {
        self.run(|x, t| crate::rules::contact_times(x, t, from.timestamp(), until.timestamp()))
    }
    fn automation_cursor(&self) -> StoreResult<am::AutomationCursor> {
        self.run(crate::rules::cursor)
    }

    fn holiday_calendar(&self) -> StoreResult<solocrm_core::holiday::HolidayCalendar> {
        self.run(crate::holidays::holiday_calendar)
    }

    fn targets(&self) -> StoreResult<Vec<solocrm_core::target::Target>> {
        self.run(crate::targets::targets)
    }

    fn survey_templates(&self) -> StoreResult<Vec<solocrm_core::questionnaire::SurveyTemplate>> {
        self.run(crate::questionnaire::survey_templates)
    }

    fn survey_sheets(
        &self,
        customer: Option<CustomerId>,
    ) -> StoreResult<Vec<solocrm_core::questionnaire::SurveySheet>> {
        self.run(|c, t| crate::questionnaire::survey_sheets(c, t, customer))
    }

    fn participations(
        &self,
        customer: Option<CustomerId>,
    ) -> StoreResult<Vec<solocrm_core::participation::Participation>> {
        self.run(|c, t| crate::questionnaire::participations(c, t, customer))
    }

    fn needs(&self, customer: Option<CustomerId>) -> StoreResult<Vec<solocrm_core::need::Need>> {
        self.run(|c, t| crate::needs::needs(c, t, customer))
    }

    fn need(&self, id: solocrm_core::NeedId) -> StoreResult<Option<solocrm_core::need::Need>> {
        self.run(|c, t| crate::needs::need(c, t, id))
    }

    fn offer(
        &self,
        code: &solocrm_core::offer::OfferCode,
    ) -> StoreResult<Option<solocrm_core::offer::Offer>> {
        self.run_base(|c, t, base| crate::offers::offer(c, t, code, base))
    }

    fn offers(&self) -> StoreResult<Vec<solocrm_core::offer::Offer>> {
        self.run_base(crate::offers::offers)
    }

    fn redemptions(
        &self,
        code: Option<&solocrm_core::offer::OfferCode>,
    ) -> StoreResult<Vec<solocrm_core::offer::Redemption>> {
        self.run_base(|c, t, base| crate::offers::redemptions(c, t, code, base))
    }

    fn campaigns(&self) -> StoreResult<Vec<solocrm_core::campaign::Campaign>> {
        self.run_base(crate::campaigns::campaigns)
    }

    fn attributions(&self) -> StoreResult<Vec<solocrm_core::campaign::Attribution>> {
        self.run(crate::campaigns::attributions)
    }

    fn attribution(
        &self,
        subject: solocrm_core::campaign::AttributionSubject,
    ) -> StoreResult<Option<solocrm_core::CampaignId>> {
        self.run(|c, t| crate::campaigns::attribution(c, t, subject))
    }

    fn products(&self) -> StoreResult<Vec<solocrm_core::product::Product>> {
        self.run_base(crate::products::products)
    }

    fn product(
        &self,
        sku: &solocrm_core::product::Sku,
    ) -> StoreResult<Option<solocrm_core::product::Product>> {
        self.run_base(|c, t, base| crate::products::product(c, t, base, sku))
    }

    fn product_has_lines(&self, sku: &solocrm_core::product::Sku) -> StoreResult<bool> {
        self.run(|c, t| crate::products::product_has_lines(c, t, sku))
    }

    fn purchase_lines(
        &self,
        purchase: PurchaseId,
    ) -> StoreResult<Vec<solocrm_core::product::PurchaseLine>> {
        self.run_base(|c, t, base| crate::products::purchase_lines(c, t, base, purchase))
    }

    fn all_purchase_lines(
        &self,
    ) -> StoreResult<Vec<(PurchaseId, solocrm_core::product::PurchaseLine)>> {
        self.run_base(crate::products::all_purchase_lines)
    }
}

impl WriteTx for Tx<'_> {
    fn next_id(&mut self, kind: IdKind) -> StoreResult<u64> {
        // A bulk load asks for the next purchase id at each part of an import: a staged
        // partition answers it from the ids copied into it, and stays staged; no other
        // id depends on a waiting purchase.
        self.flush()?;
        if let Partition::Staged(_, max) = &*self.partition.borrow()
            && kind == IdKind::Purchase
        {
            return Ok(max.saturating_add(1));
        }
        self.run_unflushed(|c, t| rec::next_id(c, t, kind))
    }

    fn set_time_zone(&mut self, zone: BusinessZone) -> StoreResult<()> {
        self.run(|c, t| rec::set_time_zone(c, t, zone))
    }

    fn savepoint(&mut self) -> StoreResult<()> {
        self.run(|c, _| Ok(c.batch("SAVEPOINT op")?))
    }

    fn rollback_to_savepoint(&mut self) -> StoreResult<()> {
        // A savepoint sends every waiting purchase first, so all that wait now came
        // after the latest one and go with the rollback; the references are read
        // again when next needed.
        if let Some(b) = self.bulk.borrow_mut().as_mut() {
            b.rows.clear();
            b.refs = None;
            b.erased = None;
        }
        // A partition created or attached since the savepoint goes with it: looked up
        // again when next needed.
        *self.partition.borrow_mut() = Partition::Unknown;
        self.run_unflushed(|c, _| Ok(c.batch("ROLLBACK TO SAVEPOINT op; RELEASE SAVEPOINT op")?))
    }

    fn release_savepoint(&mut self) -> StoreResult<()> {
        self.run_unflushed(|c, _| Ok(c.batch("RELEASE SAVEPOINT op")?))
    }

    fn expect_purchases(&mut self, rows: u64) -> StoreResult<()> {
        if rows >= self.bulk_from && self.bulk.borrow().is_none() {
            *self.bulk.borrow_mut() = Some(Bulk {
                rows: Vec::new(),
                refs: None,
                erased: None,
            });
        }
        Ok(())
    }

    fn insert_customer(&mut self, customer: &Customer) -> StoreResult<()> {
        self.run(|c, t| rec::insert_customer(c, t, customer))?;
        self.note_customer(customer);
        Ok(())
    }

    fn update_customer(&mut self, customer: &Customer) -> StoreResult<()> {
        self.run(|c, t| rec::update_customer(c, t, customer))?;
        self.note_customer(customer);
        Ok(())
    }

    fn set_customer_stage(&mut self, id: CustomerId, stage: LifecycleStage) -> StoreResult<()> {
        self.run(|c, t| rec::set_stage(c, t, id, stage))
    }

    fn append_consent(&mut self, id: CustomerId, consent: &Consent) -> StoreResult<()> {
        self.run(|c, t| rec::append_consent(c, t, id, consent))
    }

    fn push_stage_change(&mut self, change: &StageChange) -> StoreResult<()> {
        self.run(|c, t| rec::push_stage_change(c, t, change))
    }

    fn rewrite_stage_history(
        &mut self,
        customer: CustomerId,
        history: &[StageChange],
    ) -> StoreResult<()> {
        self.run(|c, t| rec::rewrite_stage_history(c, t, customer, history))
    }

    fn insert_interaction(&mut self, interaction: &Interaction) -> StoreResult<()> {
        self.run(|c, t| rec::write_interaction(c, t, interaction, true))
    }

    fn update_interaction(&mut self, interaction: &Interaction) -> StoreResult<()> {
        self.run(|c, t| rec::write_interaction(c, t, interaction, false))
    }

    fn insert_purchase(&mut self, purchase: &Purchase) -> StoreResult<()> {
        // Inserted as given, as outside a bulk load (where the index, not a
        // look-up, says whether its reference is taken).
        if let Some(bulk) = self.bulk.borrow_mut().as_mut() {
            if let Some(refs) = bulk.refs.as_mut()
                && let Some(r) = purchase.external_ref()
            {
                refs.insert(r.as_str().to_owned(), purchase.id());
            }
            bulk.rows.push(purchase.clone());
        }
        if self.bulk.borrow().is_some() {
            let full = self
                .bulk
                .borrow()
                .as_ref()
                .is_some_and(|b| b.rows.len() >= COPY_ROWS);
            return if full { self.flush() } else { Ok(()) };
        }
        self.finish()?;
        self.attach_partition()?;
        self.run(|c, t| rec::write_purchase(c, t, purchase, PurchaseWrite::Insert).map(drop))
    }

    fn insert_purchase_unless_ref_taken(
        &mut self,
        purchase: &Purchase,
    ) -> StoreResult<Option<PurchaseId>> {
        let Some(reference) = purchase.external_ref() else {
            self.insert_purchase(purchase)?;
            return Ok(None);
        };
        if let Some(owner) = self.buffer(purchase)? {
            return Ok(owner);
        }
        self.finish()?;
        self.attach_partition()?;
        let stored = self
            .run(|c, t| rec::write_purchase(c, t, purchase, PurchaseWrite::InsertUnlessRefTaken))?;
        if stored == 1 {
            return Ok(None);
        }
        match self.purchase_by_external_ref(reference)? {
            Some(owner) => Ok(Some(owner)),
            None => Err(solocrm_core::StoreError::backend(std::io::Error::other(
                format!("purchases: reference {reference} clashed but no purchase has it"),
            ))),
        }
    }

    fn update_purchase(&mut self, purchase: &Purchase) -> StoreResult<()> {
        self.run(|c, t| rec::write_purchase(c, t, purchase, PurchaseWrite::Update).map(drop))
    }

    fn insert_refund(&mut self, refund: &Refund) -> StoreResult<()> {
        self.run(|c, t| rec::write_refund(c, t, refund, true))
    }

    fn update_refund(&mut self, refund: &Refund) -> StoreResult<()> {
        self.run(|c, t| rec::write_refund(c, t, refund, false))
    }

    fn insert_survey(&mut self, survey: &SurveyResponse) -> StoreResult<()> {
        self.run(|c, t| rec::write_survey(c, t, survey, true))
    }

    fn update_survey(&mut self, survey: &SurveyResponse) -> StoreResult<()> {
        self.run(|c, t| rec::write_survey(c, t, survey, false))
    }

    fn insert_request(&mut self, request: &ServiceRequest) -> StoreResult<()> {
        self.run(|c, t| rec::write_request(c, t, request, true))
    }

    fn update_request(&mut self, request: &ServiceRequest) -> StoreResult<()> {
        self.run(|c, t| rec::write_request(c, t, request, false))
    }

    fn insert_deal(&mut self, deal: &Deal) -> StoreResult<()> {
        self.run(|c, t| rec::write_deal(c, t, deal, true))
    }

    fn update_deal(&mut self, deal: &Deal) -> StoreResult<()> {
        self.run(|c, t| rec::write_deal(c, t, deal, false))
    }

    fn insert_task(&mut self, task: &Task) -> StoreResult<()> {
        self.run(|c, t| rec::write_task(c, t, task, true))
    }

    fn update_task(&mut self, task: &Task) -> StoreResult<()> {
        self.run(|c, t| rec::write_task(c, t, task, false))
    }

    fn insert_points(&mut self, entry: &PointsEntry) -> StoreResult<()> {
        self.run(|c, t| rec::write_points(c, t, entry, true))
    }

    fn update_points(&mut self, entry: &PointsEntry) -> StoreResult<()> {
        self.run(|c, t| rec::write_points(c, t, entry, false))
    }

    fn set_points_expiry(
        &mut self,
        expiry: Option<&solocrm_core::PointsExpiry>,
    ) -> StoreResult<()> {
        self.run(|c, t| rec::set_points_expiry(c, t, expiry))
    }

    fn put_points_tier(&mut self, tier: &PointsTier) -> StoreResult<()> {
        self.run(|c, t| rec::put_points_tier(c, t, tier))
    }

    fn delete_points_tier(&mut self, name: &Tag) -> StoreResult<bool> {
        self.run(|c, t| rec::delete_points_tier(c, t, name))
    }

    fn insert_segment(&mut self, segment: &Segment) -> StoreResult<()> {
        self.run(|c, t| rec::insert_segment(c, t, segment))
    }

    fn delete_segment(&mut self, name: &Label) -> StoreResult<bool> {
        self.run(|c, t| rec::delete_segment(c, t, name))
    }

    fn insert_audit(&mut self, entry: &AuditEntry) -> StoreResult<()> {
        self.run(|c, t| rec::insert_audit(c, t, entry))
    }

    fn insert_cost(&mut self, cost: &Cost) -> StoreResult<()> {
        self.run(|c, t| rec::write_cost(c, t, cost, true))
    }

    fn update_cost(&mut self, cost: &Cost) -> StoreResult<()> {
        self.run(|c, t| rec::write_cost(c, t, cost, false))
    }

    fn append_event(&mut self, event: &Event) -> StoreResult<()> {
        self.run(|c, t| rec::append_event(c, t, event))
    }

    fn purge_after_commit(&mut self) -> StoreResult<()> {
        self.purge = true;
        Ok(())
    }

    fn put_rule(&mut self, r: &am::RuleRecord) -> StoreResult<()> {
        self.run(|c, t| crate::rules::put_rule(c, t, r))
    }
    fn delete_rule(&mut self, n: &am::RuleName) -> StoreResult<bool> {
        self.run(|c, t| crate::rules::delete_rule(c, t, n))
    }
    fn insert_firing(&mut self, f: &am::Firing) -> StoreResult<()> {
        self.run(|c, t| crate::rules::insert_firing(c, t, f))
    }
    fn delete_firings_of(&mut self, x: CustomerId) -> StoreResult<u64> {
        self.run(|c, t| crate::rules::delete_firings_of(c, t, x))
    }
    fn set_automation_cursor(&mut self, x: &am::AutomationCursor) -> StoreResult<()> {
        self.run(|c, t| crate::rules::set_cursor(c, t, x))
    }

    fn put_holiday(&mut self, h: &solocrm_core::holiday::HolidayDef) -> StoreResult<()> {
        self.run(|c, t| crate::holidays::put_holiday(c, t, h))
    }

    fn delete_holiday(&mut self, key: &Tag) -> StoreResult<bool> {
        self.run(|c, t| crate::holidays::delete_holiday(c, t, key))
    }

    fn set_holiday_presets(&mut self, p: &[solocrm_core::holiday::Preset]) -> StoreResult<()> {
        self.run(|c, t| crate::holidays::set_holiday_presets(c, t, p))
    }

    fn put_target(&mut self, target: &solocrm_core::target::Target) -> StoreResult<()> {
        self.run(|c, t| crate::targets::put_target(c, t, target))
    }

    fn delete_target(
        &mut self,
        metric: solocrm_core::target::TargetMetric,
        period: solocrm_core::target::TargetPeriod,
    ) -> StoreResult<bool> {
        self.run(|c, t| crate::targets::delete_target(c, t, metric, period))
    }

    fn insert_survey_template(
        &mut self,
        x: &solocrm_core::questionnaire::SurveyTemplate,
    ) -> StoreResult<()> {
        self.run(|c, t| crate::questionnaire::insert_survey_template(c, t, x))
    }

    fn replace_survey_template(
        &mut self,
        from: &solocrm_core::Tag,
        x: &solocrm_core::questionnaire::SurveyTemplate,
    ) -> StoreResult<()> {
        self.run(|c, t| crate::questionnaire::replace_survey_template(c, t, from, x))
    }

    fn delete_survey_template(&mut self, name: &solocrm_core::Tag) -> StoreResult<()> {
        self.run(|c, t| crate::questionnaire::delete_survey_template(c, t, name))
    }

    fn insert_survey_sheet(
        &mut self,
        x: &solocrm_core::questionnaire::SurveySheet,
    ) -> StoreResult<()> {
        self.run(|c, t| crate::questionnaire::insert_survey_sheet(c, t, x))
    }

    fn insert_need(&mut self, n: &solocrm_core::need::Need) -> StoreResult<()> {
        self.run(|c, t| crate::needs::insert_need(c, t, n))
    }

    fn update_need(&mut self, n: &solocrm_core::need::Need) -> StoreResult<()> {
        self.run(|c, t| crate::needs::update_need(c, t, n))
    }

    fn insert_participation(
        &mut self,
        x: &solocrm_core::participation::Participation,
    ) -> StoreResult<()> {
        self.run(|c, t| crate::questionnaire::insert_participation(c, t, x))
    }

    fn update_participation(
        &mut self,
        x: &solocrm_core::participation::Participation,
    ) -> StoreResult<()> {
        self.run(|c, t| crate::questionnaire::update_participation(c, t, x))
    }

    fn update_survey_sheet(
        &mut self,
        x: &solocrm_core::questionnaire::SurveySheet,
    ) -> StoreResult<()> {
        self.run(|c, t| crate::questionnaire::update_survey_sheet(c, t, x))
    }

    fn put_offer(&mut self, offer: &solocrm_core::offer::Offer) -> StoreResult<()> {
        self.run(|c, t| crate::offers::put_offer(c, t, offer))
    }

    fn put_campaign(&mut self, campaign: &solocrm_core::campaign::Campaign) -> StoreResult<()> {
        self.run(|c, t| crate::campaigns::put_campaign(c, t, campaign))
    }

    fn put_attribution(
        &mut self,
        attribution: &solocrm_core::campaign::Attribution,
    ) -> StoreResult<()> {
        self.run(|c, t| crate::campaigns::put_attribution(c, t, attribution))
    }

    fn delete_attribution(
        &mut self,
        subject: solocrm_core::campaign::AttributionSubject,
    ) -> StoreResult<bool> {
        self.run(|c, t| crate::campaigns::delete_attribution(c, t, subject))
    }

    fn redeem_within_limits(
        &mut self,
        redemption: &solocrm_core::offer::Redemption,
        per_customer: Option<u32>,
        total: Option<u32>,
    ) -> StoreResult<solocrm_core::offer::RedeemOutcome> {
        self.run(|c, t| crate::offers::redeem(c, t, redemption, per_customer, total))
    }

    fn put_product(&mut self, p: &solocrm_core::product::Product) -> StoreResult<()> {
        self.run(|c, t| crate::products::put_product(c, t, p))
    }

    fn delete_product(&mut self, sku: &solocrm_core::product::Sku) -> StoreResult<bool> {
        self.run(|c, t| crate::products::delete_product(c, t, sku))
    }

    fn insert_purchase_lines(
        &mut self,
        purchase: PurchaseId,
        lines: &[solocrm_core::product::PurchaseLine],
    ) -> StoreResult<()> {
        self.run(|c, t| crate::products::insert_purchase_lines(c, t, purchase, lines))
    }
}
