//! The books as they stood at an instant: [`AsOf`], a read transaction that replays
//! history.
//!
//! Every analytic view (the report, the care list, the churn warning, segment
//! membership, stage counts, RFM, cohorts) reads the books through a [`ReadTx`].
//! Wrapping that transaction in an [`AsOf`] makes the same code answer "what did the
//! books say just before this instant": the view over `AsOf::new(tx, cutoff)` equals
//! the view over a copy of the store holding only what had happened before `cutoff`
//! (the property test `solocrm_store_tests::as_of` holds both backends to that).
//!
//! The cutoff is an **instant**, exclusive: a record dated exactly at `cutoff` is
//! hidden. To see the books at the end of a day D, pass the first instant of the day
//! after D in the business's time zone (the caller computes it; this crate does not
//! know the zone).
//!
//! # What is rewound
//!
//! - **Customers** created at or after the cutoff are absent from every look-up, list
//!   and count, and so is everything recorded about them (interactions, purchases,
//!   refunds, answers, requests, deals, their tasks and points).
//! - A customer's **stage** is the one their stage history gives at the cutoff; the
//!   history itself shows only the changes before it.
//! - **Consents** decided at or after the cutoff are hidden.
//! - An **erasure** is never undone, whenever it happened: a customer erased after
//!   the cutoff is erased in the view too (left out of stage counts, care lists and
//!   segments, as today). Erasure honours a request to be forgotten, and a view of
//!   the past must not bring the person back onto a list.
//! - **Interactions, purchases, refunds, survey answers, audit entries** dated at or
//!   after the cutoff are hidden; the [`PurchaseLog`] and purchase summaries follow.
//! - **Service requests** opened at or after the cutoff are absent; the steps of the
//!   others (responded, resolved, reopened) dated at or after it are undone, so a
//!   request resolved later shows as open.
//! - **Deals** created at or after the cutoff are absent; the moves of the others at or
//!   after it are undone (a deal keeps its whole history), and so are their notes dated
//!   at or after it; a lost reason goes with the lost move.
//! - **Tasks** created at or after the cutoff are absent; a one-off task completed at
//!   or after it shows as open, and so does a task cancelled at or after it.
//! - **Points tiers** are settings: today's apply; so are **survey templates**, while
//!   **survey sheets** and **participations** dated at or after the cutoff are hidden.
//! - **Needs and pain points** recorded at or after the cutoff are hidden; one
//!   resolved at or after it shows as open. A voided one stays void (a void corrects a
//!   mistake, as for purchases).
//! - **Points** entries dated at or after the cutoff are hidden, and the balances after
//!   each remaining entry are recomputed from them.
//! - **Costs** spent at or after the cutoff are hidden.
//! - **Purchase lines** follow their purchase; the **product catalogue** is a setting:
//!   today's applies.
//! - **Events** of the outbox dated at or after the cutoff, or not dated at all, are
//!   hidden.
//!
//! # What cannot be rewound
//!
//! Only what the store keeps a history of can be replayed. Shown as they are now:
//!
//! - edited **profile fields** (name, email, phone, company, birthday, tags, profile,
//!   acquisition channel and cost, notes): no history of edits is kept. Look-ups by
//!   email and external reference use the current values; the tag filter of a
//!   customer list uses the current tags;
//! - a **cost voided** after the cutoff: void in the view too (a void corrects a
//!   mistake, which the past should not repeat);
//! - a **customer erased** after the cutoff: erased in the view too (see above), so
//!   counts as of an earlier day leave them out;
//! - **edited records** (an interaction, purchase, refund or answer whose fields were
//!   corrected, a record whose text was erased): the current version is shown, at
//!   the time it carries;
//! - **recurring tasks** completed after the cutoff: a task keeps only its latest
//!   completion, not each one, so its occurrence is the current one;
//! - **segment definitions**: a segment has no creation time; every stored segment is
//!   listed.
//!
//! # Precision of the purchase log
//!
//! The [`PurchaseLog`] keeps whole seconds. For a cutoff on a whole second (every
//! cutoff a day boundary gives) it is exact; for a cutoff inside a second, the log
//! keeps the purchases of the second the cutoff falls in.
//!
//! # Cost
//!
//! Each method filters what the wrapped transaction returns, in one pass. A customer
//! read costs one more read (their stage history); a list of customers reads, once for
//! the wrapper's lifetime, the histories of only those with a stage change at or after
//! the cutoff ([`ReadTx::stage_changes_from`]). The first method that has to know
//! which customers were created after the cutoff asks for the creation instants
//! ([`ReadTx::customer_dates`], and the erased customers one by one) and keeps the
//! answer for the wrapper's lifetime. The light reads (`customer_stages`,
//! `customer_dates`, `contact_times`, and a report's narrow rows: `report_customers`,
//! `report_purchases`, `report_interactions`) are answered from the store's own,
//! filtered.

use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

use chrono::{DateTime, TimeDelta, Utc};

use crate::cost::Cost;
use crate::customer::Customer;
use crate::deal::{Deal, NewDeal};
use crate::event::{Event, EventSeq};
use crate::ids::{CostId, CustomerId, DealId, PurchaseId, RequestId, TaskId};
use crate::interaction::Interaction;
use crate::lifecycle::LifecycleStage;
use crate::lifecycle::StageChange;
use crate::loyalty::{NewPointsEntry, PointsEntry};
use crate::metrics::{ReportCustomer, ReportInteraction, ReportPurchases};
use crate::money::Currency;
use crate::port::{
    ContactTimes, CustomerDates, CustomerFilter, ReadTx, contact_times_from_records,
};
use crate::privacy::AuditEntry;
use crate::purchase::{Purchase, PurchaseLog, Refund};
use crate::search::SearchText;
use crate::segment::{PurchaseSummary, Segment};
use crate::service::{NewServiceRequest, ServiceRequest};
use crate::store::{ActivityQuery, CustomerKeys, OpenQuery, StoreError, StoreResult, TaskQuery};
use crate::survey::SurveyResponse;
use crate::task::{NewTask, Task};
use crate::text::{Email, ExternalRef, Label};
use crate::time::TimeRange;
use crate::zone::BusinessZone;

use super::Reader;

/// How many customers a walk over all of them reads at a time.
const CHUNK: u32 = 512;

/// A read transaction showing the books as they stood strictly before `cutoff`.
///
/// See the [module docs](self) for what is rewound and what cannot be. Wrap the
/// transaction of a [`Reader`] with
/// [`Reader::as_of`], or read through
/// [`Crm::read_as_of`](crate::Crm::read_as_of).
pub struct AsOf<'a> {
    inner: &'a dyn ReadTx,
    /// Reads shared with other views of the same snapshot, if any ([`SharedReads`]).
    shared: Option<&'a SharedReads<'a>>,
    cutoff: DateTime<Utc>,
    /// The customers created at or after the cutoff, found on first need.
    late: OnceLock<HashSet<CustomerId>>,
    /// The store's key columns of every customer with their creation instants, read
    /// on first need: `late` and `customer_keys` both want them, and a view reads them
    /// once (ADRs 0057, 0061).
    keys: OnceLock<Vec<(CustomerKeys, DateTime<Utc>)>>,
    /// The stage histories of the customers with a change at or after the cutoff,
    /// found on first need: everyone else's stage is the same then as now.
    moved: OnceLock<HashMap<CustomerId, Vec<StageChange>>>,
}

impl std::fmt::Debug for AsOf<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AsOf")
            .field("cutoff", &self.cutoff)
            .finish_non_exhaustive()
    }
}

impl<'a> AsOf<'a> {
    /// The books of `inner` as they stood strictly before `cutoff` (a record dated
    /// exactly at `cutoff` is hidden).
    pub fn new(inner: &'a dyn ReadTx, cutoff: DateTime<Utc>) -> Self {
        AsOf {
            inner,
            shared: None,
            cutoff,
            late: OnceLock::new(),
            keys: OnceLock::new(),
            moved: OnceLock::new(),
        }
    }

    /// The books of `shared`'s transaction as they stood strictly before `cutoff`, taking
    /// the reads `shared` keeps from it rather than asking the store again.
    pub fn sharing(shared: &'a SharedReads<'a>, cutoff: DateTime<Utc>) -> Self {
        AsOf {
            shared: Some(shared),
            ..AsOf::new(shared.inner, cutoff)
        }
    }

    /// What the shared reads answer for a read (`from_shared`; `None` when they cannot
    /// answer it exactly), else what the store answers (`from_store`).
    fn shared_or<T>(
        &self,
        from_shared: impl FnOnce(&SharedReads<'a>) -> StoreResult<Option<T>>,
        from_store: impl FnOnce() -> StoreResult<T>,
    ) -> StoreResult<T> {
        if let Some(shared) = self.shared
            && let Some(kept) = from_shared(shared)?
        {
            return Ok(kept);
        }
        from_store()
    }

    /// The first instant hidden.
    pub fn cutoff(&self) -> DateTime<Utc> {
        self.cutoff
    }

    /// The transaction underneath, showing the books as they are.
    pub fn inner(&self) -> &'a dyn ReadTx {
        self.inner
    }

    /// True if something dated `at` happened before the cutoff.
    fn before(&self, at: DateTime<Utc>) -> bool {
        at < self.cutoff
    }

    /// The store's keys of every customer (erased ones included) with their creation
    /// instants, read once for the wrapper's lifetime.
    fn store_keys(&self) -> StoreResult<&[(CustomerKeys, DateTime<Utc>)]> {
        if let Some(shared) = self.shared {
            return shared.keys();
        }
        if let Some(keys) = self.keys.get() {
            return Ok(keys);
        }
        let keys = self.inner.customer_keys_created()?;
        Ok(self.keys.get_or_init(|| keys))
    }

    /// The customers created at or after the cutoff, erased ones included: from the
    /// one read of the keys and creation instants
    /// ([`customer_keys_created`](ReadTx::customer_keys_created), ADR 0061) when the
    /// view has or shares it, else from
    /// [`customers_created_from`](ReadTx::customers_created_from).
    fn late(&self) -> StoreResult<&HashSet<CustomerId>> {
        if let Some(late) = self.late.get() {
            return Ok(late);
        }
        // From the keys when they are read or shared (a series reads them once for
        // all its views); else from the ids and creation instants alone, without the
        // key text to decode.
        let late: HashSet<CustomerId> = match (self.shared, self.keys.get()) {
            (None, None) => self
                .inner
                .customers_created_from(self.cutoff)?
                .into_iter()
                .collect(),
            _ => self
                .store_keys()?
                .iter()
                .filter(|(_, created)| !self.before(*created))
                .map(|(k, _)| k.id)
                .collect(),
        };
        Ok(self.late.get_or_init(|| late))
    }

    /// The stage histories of the customers with a change at or after the cutoff
    /// ([`ReadTx::stage_changes_from`]), by customer.
    fn moved(&self) -> StoreResult<&HashMap<CustomerId, Vec<StageChange>>> {
        if let Some(moved) = self.moved.get() {
            return Ok(moved);
        }
        let mut moved: HashMap<CustomerId, Vec<StageChange>> = HashMap::new();
        for change in self.inner.stage_changes_from(self.cutoff)? {
            moved.entry(change.customer).or_default().push(change);
        }
        Ok(self.moved.get_or_init(|| moved))
    }

    /// The stage a customer now in `current` with this stage `history` had at the
    /// cutoff.
    fn stage_at(&self, history: &[StageChange], current: LifecycleStage) -> LifecycleStage {
        let kept = history.iter().filter(|h| self.before(h.at)).count();
        if kept == history.len() {
            current
        } else if let Some(last) = history.iter().rev().find(|h| self.before(h.at)) {
            last.to
        } else {
            // Nothing before the cutoff: the stage the first change left.
            history.first().map_or(current, |h| h.from)
        }
    }

    /// A cost as it stood at the cutoff: none if spent at or after it. A voiding is
    /// never undone (it corrects a mistake, like erasure honours a request): a cost
    /// voided later is void in the view too.
    fn rewind_cost(&self, c: Cost) -> Option<Cost> {
        self.before(c.at()).then_some(c)
    }

    /// True if the customer existed before the cutoff (an unknown id counts as
    /// existing: the record naming it is the backend's to explain).
    fn present(&self, customer: CustomerId) -> StoreResult<bool> {
        Ok(!self.late()?.contains(&customer))
    }

    /// The customer as they stood at the cutoff, or `None` if created at or after it,
    /// their stage history read on its own.
    fn rewind_customer(&self, c: Customer) -> StoreResult<Option<Customer>> {
        if !self.before(c.created_at()) {
            return Ok(None);
        }
        let history = self.inner.stage_history(c.id())?;
        Ok(Some(self.rewind_with(c, &history)))
    }

    /// [`rewind_customer`](Self::rewind_customer) within a walk over many customers:
    /// the histories come from [`moved`](Self::moved), one read for all of them.
    fn rewind_listed(&self, c: Customer) -> StoreResult<Option<Customer>> {
        if !self.before(c.created_at()) {
            return Ok(None);
        }
        let history = self.moved()?.get(&c.id()).map_or(&[][..], Vec::as_slice);
        Ok(Some(self.rewind_with(c, history)))
    }

    /// A customer created before the cutoff, with this stage history, as they stood
    /// at it.
    fn rewind_with(&self, c: Customer, history: &[StageChange]) -> Customer {
        let stage = self.stage_at(history, c.stage());
        let consents_hidden = c.consents().iter().any(|k| !self.before(k.at));
        if stage == c.stage() && !consents_hidden {
            return c;
        }
        let consents = c
            .consents()
            .iter()
            .filter(|k| self.before(k.at))
            .cloned()
            .collect();
        // An erasure stays, whenever it happened (see the module docs).
        let erased_at = c.erased_at();
        Customer::from_parts(
            c.id(),
            c.data().clone(),
            c.created_at(),
            stage,
            consents,
            erased_at,
        )
    }

    /// `query` with its range ending at the cutoff at the latest.
    fn clip(&self, query: &ActivityQuery) -> ActivityQuery {
        let to = match query.range.to {
            Some(to) => to.min(self.cutoff),
            None => self.cutoff,
        };
        ActivityQuery {
            customer: query.customer,
            range: TimeRange {
                from: query.range.from,
                to: Some(to),
            },
            include_voided: query.include_voided,
        }
    }

    /// Keeps the records of customers who existed before the cutoff.
    /// The need as it stood at the cutoff, or `None` if recorded at or after it.
    fn rewind_need(&self, mut n: crate::need::Need) -> Option<crate::need::Need> {
        if !self.before(n.at) {
            return None;
        }
        if n.resolved_at.is_some_and(|r| !self.before(r)) {
            n.resolved_at = None;
        }
        Some(n)
    }

    fn of_present<T>(
        &self,
        rows: Vec<T>,
        customer: impl Fn(&T) -> CustomerId,
    ) -> StoreResult<Vec<T>> {
        let late = self.late()?;
        if late.is_empty() {
            return Ok(rows);
        }
        Ok(rows
            .into_iter()
            .filter(|r| !late.contains(&customer(r)))
            .collect())
    }

    /// The request as it stood at the cutoff, or `None` if opened at or after it.
    fn rewind_request(&self, r: ServiceRequest) -> StoreResult<Option<ServiceRequest>> {
        if !self.before(r.opened_at()) {
            return Ok(None);
        }
        if r.events().iter().all(|e| self.before(e.at)) {
            return Ok(Some(r));
        }
        let new = NewServiceRequest {
            customer: r.customer(),
            kind: r.kind(),
            subject: r.subject().clone(),
            description: r.description().clone(),
            opened_at: r.opened_at(),
            deal: r.deal(),
        };
        // The first event is the opening itself, which `replay` adds.
        let steps = r
            .events()
            .iter()
            .skip(1)
            .filter(|e| self.before(e.at))
            .cloned();
        ServiceRequest::replay(r.id(), new, steps)
            .map(Some)
            .map_err(StoreError::backend)
    }

    /// The deal as it stood at the cutoff, or `None` if created at or after it.
    fn rewind_deal(&self, d: Deal) -> StoreResult<Option<Deal>> {
        if !self.before(d.created_at()) {
            return Ok(None);
        }
        let notes: Vec<_> = d
            .notes()
            .iter()
            .filter(|n| self.before(n.at))
            .cloned()
            .collect();
        if d.history().iter().all(|m| self.before(m.at)) {
            let reason = d.lost_reason().cloned();
            return d
                .with_extras(notes, reason)
                .map(Some)
                .map_err(StoreError::backend);
        }
        let new = NewDeal {
            customer: d.customer(),
            title: d.title().clone(),
            value: d.value(),
            created_at: d.created_at(),
            stage: d.initial_stage(),
            expected_close: d.expected_close(),
        };
        let moves = d
            .history()
            .iter()
            .filter(|m| self.before(m.at))
            .cloned()
            .collect::<Vec<_>>();
        // The lost move (and so its reason) lies after the cutoff.
        Deal::replay(d.id(), new, moves)
            .map_err(StoreError::backend)?
            .with_extras(notes, None)
            .map(Some)
            .map_err(StoreError::backend)
    }

    /// The task as it stood at the cutoff, or `None` if created at or after it (or
    /// about a customer created at or after it).
    fn rewind_task(&self, t: Task) -> StoreResult<Option<Task>> {
        if !self.before(t.created_at()) {
            return Ok(None);
        }
        if let Some(c) = t.customer()
            && !self.present(c)?
        {
            return Ok(None);
        }
        // A task cancelled at or after the cutoff was still open then.
        let t = match t.cancelled_at() {
            Some(at) if !self.before(at) => t.cancelled(None),
            _ => t,
        };
        let done_later = t.last_done_at().is_some_and(|at| !self.before(at));
        if !done_later || t.recurrence().is_some() {
            // A recurring task keeps only its latest completion: its occurrence
            // cannot be rewound (see the module docs).
            return Ok(Some(t));
        }
        let fields = NewTask {
            customer: t.customer(),
            kind: t.kind(),
            title: t.title().clone(),
            due: t.anchor(),
            recurrence: t.recurrence(),
            created_at: t.created_at(),
        };
        Ok(Some(Task::from_parts(t.id(), fields, 0, false, None)))
    }

    /// `log` (the inner book's) as it stood at the cutoff: without the customers
    /// created at or after it, and without the rows of a second that starts at or
    /// after it. The order of the rows and of the customers is kept.
    fn clip_log(&self, log: PurchaseLog) -> StoreResult<PurchaseLog> {
        let late = self.late()?;
        // A row's time is whole seconds: rows in a second that starts before the
        // cutoff are kept (exact when the cutoff is on a whole second).
        let secs = self.cutoff.timestamp();
        let end = if self.cutoff.timestamp_subsec_nanos() == 0 {
            secs
        } else {
            secs.saturating_add(1)
        };
        if late.is_empty() && log.at.iter().all(|&at| at < end) {
            return Ok(log);
        }
        // Old dense index -> new dense index, for the customers that stay.
        let mut remap: Vec<Option<u32>> = Vec::with_capacity(log.customers.len());
        let mut customers = Vec::with_capacity(log.customers.len());
        for &id in &log.customers {
            if late.contains(&id) {
                remap.push(None);
            } else {
                remap.push(u32::try_from(customers.len()).ok());
                customers.push(id);
            }
        }
        let mut out = PurchaseLog {
            currency: log.currency,
            customers,
            ..PurchaseLog::default()
        };
        for ((&idx, &at), &amount) in log.customer.iter().zip(&log.at).zip(&log.amount) {
            if at >= end {
                continue;
            }
            if let Some(Some(new)) = remap.get(idx as usize) {
                out.push(*new, at, amount);
            }
        }
        Ok(out)
    }
}

/// What several as-of views of one snapshot read of the store alike, read once: a
/// series of reports (`report --by month`, each period the books as they stood at its
/// end) would otherwise read every customer, purchase, interaction and survey answer
/// again for each period (ADR 0067). The deals and service requests are shared too.
///
/// Each read is made once, on first need, up to `bound` (the latest instant any of the
/// views will ask for), and a view whose cutoff is earlier takes the rows before it:
/// exactly what the store would have answered, as the rows are filtered by the same
/// comparison the store makes. A request the kept rows cannot answer exactly (past
/// `bound`, or the report rows' whole seconds at a cutoff inside a second) goes to the
/// store as before. Views made with [`SharedReads::as_of`] see nothing else
/// differently from [`Reader::as_of`].
///
/// ```
/// # use chrono::{TimeZone, Utc};
/// # use solocrm_core::{Crm, SharedReads, StoreResult};
/// # fn ends(crm: &Crm) -> StoreResult<()> {
/// let march = Utc.with_ymd_and_hms(2025, 3, 1, 0, 0, 0).unwrap();
/// let april = Utc.with_ymd_and_hms(2025, 4, 1, 0, 0, 0).unwrap();
/// // How many customers there were at the end of February and of March.
/// let counts = crm.read(|r| {
///     let shared = SharedReads::new(r.tx(), april);
///     let mut counts = Vec::new();
///     for end in [march, april] {
///         counts.push(shared.as_of(end, |then| then.count_customers())?);
///     }
///     Ok(counts)
/// })?;
/// # Ok(()) }
/// ```
pub struct SharedReads<'a> {
    inner: &'a dyn ReadTx,
    bound: DateTime<Utc>,
    keys: OnceLock<Vec<(CustomerKeys, DateTime<Utc>)>>,
    customers: OnceLock<Vec<ReportCustomer>>,
    purchases: OnceLock<(ReportPurchases, PurchaseLog)>,
    interactions: OnceLock<Vec<ReportInteraction>>,
    surveys: OnceLock<Vec<SurveyResponse>>,
    deals: OnceLock<Vec<Deal>>,
    requests: OnceLock<Vec<ServiceRequest>>,
}

impl std::fmt::Debug for SharedReads<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedReads")
            .field("bound", &self.bound)
            .finish_non_exhaustive()
    }
}

/// The value of `cell`, read by `read` on first need.
fn kept<T>(cell: &OnceLock<T>, read: impl FnOnce() -> StoreResult<T>) -> StoreResult<&T> {
    if let Some(value) = cell.get() {
        return Ok(value);
    }
    let value = read()?;
    Ok(cell.get_or_init(|| value))
}

impl<'a> SharedReads<'a> {
    /// Reads of `inner` to share among views whose cutoffs are at or before `bound`.
    pub fn new(inner: &'a dyn ReadTx, bound: DateTime<Utc>) -> Self {
        SharedReads {
            inner,
            bound,
            keys: OnceLock::new(),
            customers: OnceLock::new(),
            purchases: OnceLock::new(),
            interactions: OnceLock::new(),
            surveys: OnceLock::new(),
            deals: OnceLock::new(),
            requests: OnceLock::new(),
        }
    }

    /// Runs `f` with a reader over the books as they stood strictly before `cutoff`,
    /// as [`Reader::as_of`] does, taking the shared reads.
    pub fn as_of<T>(&self, cutoff: DateTime<Utc>, f: impl FnOnce(Reader<'_>) -> T) -> T {
        let view = AsOf::sharing(self, cutoff);
        f(Reader::new(&view))
    }

    /// Every customer's keys with their creation instants.
    fn keys(&self) -> StoreResult<&[(CustomerKeys, DateTime<Utc>)]> {
        kept(&self.keys, || self.inner.customer_keys_created()).map(Vec::as_slice)
    }

    /// [`ReadTx::report_customers`] (it has no bound).
    fn report_customers(&self) -> StoreResult<Vec<ReportCustomer>> {
        kept(&self.customers, || self.inner.report_customers()).cloned()
    }

    /// [`ReadTx::report_purchases_and_log`] of `until`, if the kept rows answer it: a
    /// bound on a whole second (the rows keep whole seconds) at or before `bound`.
    fn purchases_until(
        &self,
        until: DateTime<Utc>,
    ) -> StoreResult<Option<(ReportPurchases, PurchaseLog)>> {
        if until > self.bound || until.timestamp_subsec_nanos() != 0 {
            return Ok(None);
        }
        let (rows, log) = kept(&self.purchases, || {
            self.inner.report_purchases_and_log(self.bound)
        })?;
        let second = until.timestamp();
        let rows = ReportPurchases {
            currency: rows.currency,
            rows: rows
                .rows
                .iter()
                .filter(|p| p.at < second)
                .copied()
                .collect(),
        };
        Ok(Some((rows, log.clone())))
    }

    /// [`ReadTx::report_interactions`] of `until`, if at or before `bound`.
    fn interactions_until(
        &self,
        until: DateTime<Utc>,
    ) -> StoreResult<Option<Vec<ReportInteraction>>> {
        if until > self.bound {
            return Ok(None);
        }
        let rows = kept(&self.interactions, || {
            self.inner.report_interactions(self.bound)
        })?;
        Ok(Some(
            rows.iter().filter(|i| i.at < until).copied().collect(),
        ))
    }

    /// [`ReadTx::surveys`] of `query`, if it asks for every customer's answers that are
    /// not voided, from the first, up to an instant at or before `bound`.
    fn surveys(&self, query: &ActivityQuery) -> StoreResult<Option<Vec<SurveyResponse>>> {
        let to = match (query.customer, query.range.from, query.range.to) {
            (None, None, Some(to)) if !query.include_voided && to <= self.bound => to,
            _ => return Ok(None),
        };
        let rows = kept(&self.surveys, || {
            self.inner.surveys(&ActivityQuery {
                customer: None,
                range: TimeRange::until(self.bound),
                include_voided: false,
            })
        })?;
        Ok(Some(rows.iter().filter(|r| r.at() < to).cloned().collect()))
    }

    /// [`ReadTx::deals`] of every customer, open and closed, if that is what `query`
    /// asks for (deals have no bound: the view rewinds each one).
    fn deals(&self, query: &OpenQuery) -> StoreResult<Option<Vec<Deal>>> {
        every(&self.deals, query, |q| self.inner.deals(q))
    }

    /// [`ReadTx::requests`] of every customer, open and closed, if that is what `query`
    /// asks for (the view rewinds each one).
    fn requests(&self, query: &OpenQuery) -> StoreResult<Option<Vec<ServiceRequest>>> {
        every(&self.requests, query, |q| self.inner.requests(q))
    }
}

/// The records of every customer, open and closed, kept in `cell` (read by `read` on
/// first need), if `query` asks for exactly those; else `None`.
fn every<T: Clone>(
    cell: &OnceLock<Vec<T>>,
    query: &OpenQuery,
    read: impl FnOnce(&OpenQuery) -> StoreResult<Vec<T>>,
) -> StoreResult<Option<Vec<T>>> {
    if query.customer.is_some() || query.open_only {
        return Ok(None);
    }
    kept(cell, || read(query)).cloned().map(Some)
}

impl ReadTx for AsOf<'_> {
    fn base_currency(&self) -> Currency {
        self.inner.base_currency()
    }

    /// The books' current zone: a zone change has no history, and the days of the past
    /// are counted the way the books count them now.
    fn time_zone(&self) -> StoreResult<BusinessZone> {
        self.inner.time_zone()
    }

    fn customer(&self, id: CustomerId) -> StoreResult<Option<Customer>> {
        match self.inner.customer(id)? {
            Some(c) => self.rewind_customer(c),
            None => Ok(None),
        }
    }

    fn customer_erased(&self, id: CustomerId) -> StoreResult<Option<bool>> {
        Ok(self
            .inner
            .customer(id)?
            .filter(|c| self.before(c.created_at()))
            .map(|c| c.is_erased()))
    }

    fn customer_by_email(&self, email: &Email) -> StoreResult<Option<CustomerId>> {
        match self.inner.customer_by_email(email)? {
            Some(id) if self.present(id)? => Ok(Some(id)),
            _ => Ok(None),
        }
    }

    fn customer_by_external_ref(&self, reference: &ExternalRef) -> StoreResult<Option<CustomerId>> {
        match self.inner.customer_by_external_ref(reference)? {
            Some(id) if self.present(id)? => Ok(Some(id)),
            _ => Ok(None),
        }
    }

    fn customer_keys(&self) -> StoreResult<Vec<CustomerKeys>> {
        // The store's own key columns less the customers created at or after the
        // cutoff: no walk over decoded customers (a third of `rfm --json` at 100 k
        // customers, issue 14). Keys have no history, so the current ones are the
        // ones at the cutoff, as before. Read once with `late` (ADRs 0057, 0061) when
        // the view has them or shares them; else read and handed over as they come,
        // not kept: keeping them cost a copy of every key and freeing the originals
        // (`rfm --json --as-of` 0.121 -> 0.112 s at 100 k); `late` then reads the
        // creation instants alone (ADR 0074).
        if self.shared.is_none() && self.keys.get().is_none() {
            return Ok(self
                .inner
                .customer_keys_created()?
                .into_iter()
                .filter(|(_, created)| self.before(*created))
                .map(|(k, _)| k)
                .collect());
        }
        Ok(self
            .store_keys()?
            .iter()
            .filter(|(_, created)| self.before(*created))
            .map(|(k, _)| k.clone())
            .collect())
    }

    fn customer_keys_created(&self) -> StoreResult<Vec<(CustomerKeys, DateTime<Utc>)>> {
        Ok(self
            .store_keys()?
            .iter()
            .filter(|(_, created)| self.before(*created))
            .cloned()
            .collect())
    }

    fn customers(
        &self,
        filter: &CustomerFilter,
        after: Option<CustomerId>,
        limit: u32,
    ) -> StoreResult<Vec<Customer>> {
        let wanted = usize::try_from(limit).unwrap_or(usize::MAX);
        let mut out = Vec::new();
        if wanted == 0 {
            return Ok(out);
        }
        // Stages are rewound, so they are checked here; tags have no
        // history, so the backend may filter by them.
        let wide = CustomerFilter {
            stage: None,
            tag: filter.tag.clone(),
            include_erased: true,
        };
        let mut after = after;
        loop {
            let chunk = self.inner.customers(&wide, after, CHUNK)?;
            let exhausted = chunk.len() < CHUNK as usize;
            for c in chunk {
                after = Some(c.id());
                if let Some(c) = self.rewind_listed(c)?
                    && filter.admits(&c)
                {
                    out.push(c);
                    if out.len() == wanted {
                        return Ok(out);
                    }
                }
            }
            if exhausted {
                return Ok(out);
            }
        }
    }

    fn count_customers(&self) -> StoreResult<u64> {
        let total = self.inner.count_customers()?;
        let late = u64::try_from(self.late()?.len()).unwrap_or(u64::MAX);
        Ok(total.saturating_sub(late))
    }

    fn stage_history(&self, customer: CustomerId) -> StoreResult<Vec<StageChange>> {
        if !self.present(customer)? {
            return Ok(Vec::new());
        }
        let mut history = self.inner.stage_history(customer)?;
        history.retain(|h| self.before(h.at));
        Ok(history)
    }

    fn stage_changes_from(&self, from: DateTime<Utc>) -> StoreResult<Vec<StageChange>> {
        if from >= self.cutoff {
            return Ok(Vec::new());
        }
        let late = self.late()?;
        let mut out = Vec::new();
        for change in self.inner.stage_changes_from(from)? {
            if self.before(change.at) && !late.contains(&change.customer) {
                out.push(change);
            }
        }
        // A customer listed only for changes at or after the cutoff, which the view
        // hides, had none at or after `from` then.
        let mut keep: HashSet<CustomerId> = HashSet::new();
        for change in &out {
            if change.at >= from {
                keep.insert(change.customer);
            }
        }
        out.retain(|change| keep.contains(&change.customer));
        Ok(out)
    }

    fn customer_stages(&self) -> StoreResult<Vec<(CustomerId, LifecycleStage)>> {
        let late = self.late()?;
        let moved = self.moved()?;
        let mut out = self.inner.customer_stages()?;
        out.retain(|(id, _)| !late.contains(id));
        for (id, stage) in &mut out {
            if let Some(history) = moved.get(id) {
                *stage = self.stage_at(history, *stage);
            }
        }
        Ok(out)
    }

    /// The store's narrow rows less the customers created at or after the cutoff,
    /// each stage rewound as [`customer_stages`](ReadTx::customer_stages) rewinds it
    /// (the other facts have no history; an erasure stays): no customer decoded whole
    /// (issue 14).
    fn report_customers(&self) -> StoreResult<Vec<ReportCustomer>> {
        let moved = self.moved()?;
        let mut out = self.shared_or(
            |s| s.report_customers().map(Some),
            || self.inner.report_customers(),
        )?;
        out.retain(|c| self.before(c.created_at));
        for c in &mut out {
            if let Some(history) = moved.get(&c.id) {
                c.stage = self.stage_at(history, c.stage);
            }
        }
        Ok(out)
    }

    fn customer_dates(&self) -> StoreResult<Vec<CustomerDates>> {
        let mut out = self.inner.customer_dates()?;
        out.retain(|d| self.before(d.created_at));
        Ok(out)
    }

    /// The store's own answer up to the cutoff, less the customers created after it,
    /// when the cutoff is on a whole second (as every day boundary is): the answer
    /// counts whole seconds, so it is exact then. Otherwise from the records.
    fn contact_times(
        &self,
        from: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> StoreResult<Vec<ContactTimes>> {
        if self.cutoff.timestamp_subsec_nanos() != 0 {
            return contact_times_from_records(self, from, until);
        }
        let late = self.late()?;
        let mut out = self.inner.contact_times(from, until.min(self.cutoff))?;
        out.retain(|c| !late.contains(&c.customer));
        Ok(out)
    }

    /// The store's own answer up to the cutoff (as `interactions` clips its range),
    /// less the customers created after it.
    fn last_interactions(
        &self,
        until: DateTime<Utc>,
    ) -> StoreResult<Vec<(CustomerId, DateTime<Utc>)>> {
        let late = self.late()?;
        let mut out = self.inner.last_interactions(until.min(self.cutoff))?;
        out.retain(|(id, _)| !late.contains(id));
        Ok(out)
    }

    fn interactions(&self, query: &ActivityQuery) -> StoreResult<Vec<Interaction>> {
        let rows = self.inner.interactions(&self.clip(query))?;
        self.of_present(rows, Interaction::customer)
    }

    fn purchase(&self, id: PurchaseId) -> StoreResult<Option<Purchase>> {
        match self.inner.purchase(id)? {
            Some(p) if self.before(p.at()) && self.present(p.customer())? => Ok(Some(p)),
            _ => Ok(None),
        }
    }

    fn purchase_by_external_ref(&self, reference: &ExternalRef) -> StoreResult<Option<PurchaseId>> {
        match self.inner.purchase_by_external_ref(reference)? {
            Some(id) if self.purchase(id)?.is_some() => Ok(Some(id)),
            _ => Ok(None),
        }
    }

    fn purchases(&self, query: &ActivityQuery) -> StoreResult<Vec<Purchase>> {
        let rows = self.inner.purchases(&self.clip(query))?;
        self.of_present(rows, Purchase::customer)
    }

    fn for_each_purchase(
        &self,
        query: &ActivityQuery,
        f: &mut dyn FnMut(Purchase) -> StoreResult<()>,
    ) -> StoreResult<()> {
        let late = self.late()?;
        self.inner
            .for_each_purchase(&self.clip(query), &mut |p: Purchase| {
                if late.contains(&p.customer()) {
                    Ok(())
                } else {
                    f(p)
                }
            })
    }

    /// The store's narrow rows up to the cutoff, less the customers created at or
    /// after it (as [`for_each_purchase`](ReadTx::for_each_purchase) clips and
    /// filters): no purchase decoded whole (issue 14).
    fn report_purchases(&self, until: DateTime<Utc>) -> StoreResult<ReportPurchases> {
        let late = self.late()?;
        let mut out = self.inner.report_purchases(until.min(self.cutoff))?;
        if !late.is_empty() {
            out.rows.retain(|p| !late.contains(&p.customer));
        }
        Ok(out)
    }

    /// The store's answer up to the cutoff, the rows filtered as
    /// [`report_purchases`](ReadTx::report_purchases) filters them and the log clipped
    /// as [`purchase_log`](ReadTx::purchase_log) clips it.
    fn report_purchases_and_log(
        &self,
        until: DateTime<Utc>,
    ) -> StoreResult<(ReportPurchases, PurchaseLog)> {
        let late = self.late()?;
        let until = until.min(self.cutoff);
        let (mut rows, log) = self.shared_or(
            |s| s.purchases_until(until),
            || self.inner.report_purchases_and_log(until),
        )?;
        if !late.is_empty() {
            rows.rows.retain(|p| !late.contains(&p.customer));
        }
        Ok((rows, self.clip_log(log)?))
    }

    /// The store's narrow rows up to the cutoff, less the customers created at or
    /// after it (as [`interactions`](ReadTx::interactions) clips and filters).
    fn report_interactions(&self, until: DateTime<Utc>) -> StoreResult<Vec<ReportInteraction>> {
        let late = self.late()?;
        let until = until.min(self.cutoff);
        let mut out = self.shared_or(
            |s| s.interactions_until(until),
            || self.inner.report_interactions(until),
        )?;
        if !late.is_empty() {
            out.retain(|i| !late.contains(&i.customer));
        }
        Ok(out)
    }

    fn purchase_summary(
        &self,
        customer: CustomerId,
        as_of: DateTime<Utc>,
    ) -> StoreResult<PurchaseSummary> {
        if !self.present(customer)? {
            return Ok(PurchaseSummary::none(self.base_currency()));
        }
        // The summary counts purchases at or before its instant; the last instant
        // before the cutoff is one nanosecond earlier.
        let last = self
            .cutoff
            .checked_sub_signed(TimeDelta::nanoseconds(1))
            .unwrap_or(self.cutoff);
        self.inner.purchase_summary(customer, as_of.min(last))
    }

    fn purchase_summaries(
        &self,
        as_of: DateTime<Utc>,
    ) -> StoreResult<Vec<(CustomerId, PurchaseSummary)>> {
        let late = self.late()?;
        // As `purchase_summary`: up to the last instant before the cutoff.
        let last = self
            .cutoff
            .checked_sub_signed(TimeDelta::nanoseconds(1))
            .unwrap_or(self.cutoff);
        let mut out = self.inner.purchase_summaries(as_of.min(last))?;
        out.retain(|(id, _)| !late.contains(id));
        Ok(out)
    }

    fn purchase_log(&self) -> StoreResult<PurchaseLog> {
        self.clip_log(self.inner.purchase_log()?)
    }

    fn purchase_log_by_customer(&self) -> StoreResult<PurchaseLog> {
        // Clipping keeps the rows' order and renumbers the customers that stay in
        // their order, so the rows stay grouped.
        self.clip_log(self.inner.purchase_log_by_customer()?)
    }

    fn refunds(&self, query: &ActivityQuery) -> StoreResult<Vec<Refund>> {
        let rows = self.inner.refunds(&self.clip(query))?;
        self.of_present(rows, Refund::customer)
    }

    fn refunds_of(&self, purchase: PurchaseId) -> StoreResult<Vec<Refund>> {
        if self.purchase(purchase)?.is_none() {
            return Ok(Vec::new());
        }
        let mut rows = self.inner.refunds_of(purchase)?;
        rows.retain(|r| self.before(r.at()));
        Ok(rows)
    }

    fn surveys(&self, query: &ActivityQuery) -> StoreResult<Vec<SurveyResponse>> {
        let query = self.clip(query);
        let rows = self.shared_or(|s| s.surveys(&query), || self.inner.surveys(&query))?;
        self.of_present(rows, SurveyResponse::customer)
    }

    fn request(&self, id: RequestId) -> StoreResult<Option<ServiceRequest>> {
        match self.inner.request(id)? {
            Some(r) if self.present(r.customer())? => self.rewind_request(r),
            _ => Ok(None),
        }
    }

    fn requests(&self, query: &OpenQuery) -> StoreResult<Vec<ServiceRequest>> {
        // A request resolved after the cutoff was open at it: ask for all of them.
        let wide = OpenQuery {
            customer: query.customer,
            open_only: false,
        };
        let rows = self.shared_or(|s| s.requests(&wide), || self.inner.requests(&wide))?;
        let rows = self.of_present(rows, ServiceRequest::customer)?;
        let mut out = Vec::new();
        for r in rows {
            if let Some(r) = self.rewind_request(r)?
                && query.admits(r.customer(), r.is_open())
            {
                out.push(r);
            }
        }
        Ok(out)
    }

    fn deal(&self, id: DealId) -> StoreResult<Option<Deal>> {
        match self.inner.deal(id)? {
            Some(d) if self.present(d.customer())? => self.rewind_deal(d),
            _ => Ok(None),
        }
    }

    fn deals(&self, query: &OpenQuery) -> StoreResult<Vec<Deal>> {
        let wide = OpenQuery {
            customer: query.customer,
            open_only: false,
        };
        let rows = self.shared_or(|s| s.deals(&wide), || self.inner.deals(&wide))?;
        let rows = self.of_present(rows, Deal::customer)?;
        let mut out = Vec::new();
        for d in rows {
            if let Some(d) = self.rewind_deal(d)?
                && query.admits(d.customer(), !d.stage().is_closed())
            {
                out.push(d);
            }
        }
        Ok(out)
    }

    fn task(&self, id: TaskId) -> StoreResult<Option<Task>> {
        match self.inner.task(id)? {
            Some(t) => self.rewind_task(t),
            None => Ok(None),
        }
    }

    fn tasks(&self, query: &TaskQuery) -> StoreResult<Vec<Task>> {
        // Completion is rewound, so the done ones are asked for too; rewinding never
        // moves a due date (recurring tasks are not rewound), so the order holds.
        let wide = TaskQuery {
            include_done: true,
            ..*query
        };
        let mut out = Vec::new();
        for t in self.inner.tasks(&wide)? {
            if let Some(t) = self.rewind_task(t)?
                && query.admits(&t)
            {
                out.push(t);
            }
        }
        Ok(out)
    }

    fn points_ledger(&self, customer: CustomerId) -> StoreResult<Vec<PointsEntry>> {
        if !self.present(customer)? {
            return Ok(Vec::new());
        }
        let ledger = self.inner.points_ledger(customer)?;
        if ledger.iter().all(|e| self.before(e.at())) {
            return Ok(ledger);
        }
        // The balance before the first entry, then each kept entry's change on top.
        let mut balance = ledger
            .first()
            .map_or(0, |e| e.balance_after().saturating_sub(e.delta()));
        let mut out = Vec::new();
        for e in ledger.into_iter().filter(|e| self.before(e.at())) {
            balance = balance.saturating_add(e.delta());
            let fields = NewPointsEntry {
                customer: e.customer(),
                at: e.at(),
                kind: e.kind(),
                delta: e.delta(),
                reason: e.reason().cloned(),
            };
            out.push(PointsEntry::new(e.id(), fields, balance));
        }
        Ok(out)
    }

    fn points_balance(&self, customer: CustomerId) -> StoreResult<i64> {
        Ok(self
            .points_ledger(customer)?
            .last()
            .map_or(0, PointsEntry::balance_after))
    }

    fn points_tiers(&self) -> StoreResult<Vec<crate::loyalty::PointsTier>> {
        // The rules are settings, not history: today's apply to any date.
        self.inner.points_tiers()
    }

    fn points_expiry(&self) -> StoreResult<Option<crate::loyalty::PointsExpiry>> {
        // A setting, like the tiers.
        self.inner.points_expiry()
    }

    fn points_holders(&self) -> StoreResult<Vec<CustomerId>> {
        // A customer with nothing today may have held points then: ask each one
        // with a ledger.
        let mut out = Vec::new();
        for k in self.inner.customer_keys()? {
            if self.points_balance(k.id)? > 0 {
                out.push(k.id);
            }
        }
        out.sort_unstable();
        Ok(out)
    }

    fn segment(&self, name: &Label) -> StoreResult<Option<Segment>> {
        self.inner.segment(name)
    }

    fn segments(&self) -> StoreResult<Vec<Segment>> {
        self.inner.segments()
    }

    fn audit_log(&self) -> StoreResult<Vec<AuditEntry>> {
        let mut log = self.inner.audit_log()?;
        log.retain(|e| self.before(e.at));
        Ok(log)
    }

    /// Costs spent before the cutoff (a voiding is never undone: see the
    /// [module docs](self)).
    fn cost(&self, id: CostId) -> StoreResult<Option<Cost>> {
        Ok(self.inner.cost(id)?.and_then(|c| self.rewind_cost(c)))
    }

    fn costs(&self) -> StoreResult<Vec<Cost>> {
        Ok(self
            .inner
            .costs()?
            .into_iter()
            .filter_map(|c| self.rewind_cost(c))
            .collect())
    }

    /// The backend's candidates, less the customers absent at the cutoff (the
    /// operations layer checks the rest through [`AsOf::customer`]).
    fn search_customers(&self, text: &SearchText) -> StoreResult<Vec<CustomerId>> {
        let mut ids = self.inner.search_customers(text)?;
        let mut kept = Vec::with_capacity(ids.len());
        for id in ids.drain(..) {
            if self.present(id)? {
                kept.push(id);
            }
        }
        Ok(kept)
    }

    fn events(&self, after: EventSeq, limit: u32) -> StoreResult<Vec<Event>> {
        let wanted = usize::try_from(limit).unwrap_or(usize::MAX);
        let mut out = Vec::new();
        if wanted == 0 {
            return Ok(out);
        }
        let page = limit.max(CHUNK);
        let mut after = after;
        loop {
            let chunk = self.inner.events(after, page)?;
            let exhausted = chunk.len() < page as usize;
            for e in chunk {
                after = e.seq;
                if e.at.is_some_and(|at| self.before(at)) {
                    out.push(e);
                    if out.len() == wanted {
                        return Ok(out);
                    }
                }
            }
            if exhausted {
                return Ok(out);
            }
        }
    }
    /// The rules as they are now: a rule's switch has no history.
    fn rules(&self) -> StoreResult<Vec<crate::automation::RuleRecord>> {
        self.inner.rules()
    }

    fn firing_exists(
        &self,
        rule: &crate::automation::RuleName,
        customer: CustomerId,
        occurrence: &crate::automation::Occurrence,
    ) -> StoreResult<bool> {
        Ok(self
            .firings()?
            .iter()
            .any(|f| &f.rule == rule && f.customer == customer && &f.occurrence == occurrence))
    }

    /// The firings of runs before the cutoff.
    fn firings(&self) -> StoreResult<Vec<crate::automation::Firing>> {
        let mut all = self.inner.firings()?;
        all.retain(|f| self.before(f.at));
        Ok(all)
    }

    /// The runner's cursor as it is now: it has no history.
    fn automation_cursor(&self) -> StoreResult<crate::automation::AutomationCursor> {
        self.inner.automation_cursor()
    }

    fn holiday_calendar(&self) -> StoreResult<crate::holiday::HolidayCalendar> {
        // A setting, not history: today's calendar applies to any date.
        self.inner.holiday_calendar()
    }

    fn targets(&self) -> StoreResult<Vec<crate::target::Target>> {
        // A plan, not history: targets are read as they are set today.
        self.inner.targets()
    }

    fn survey_templates(&self) -> StoreResult<Vec<crate::questionnaire::SurveyTemplate>> {
        // Definitions, like settings: today's apply.
        self.inner.survey_templates()
    }

    fn survey_sheets(
        &self,
        customer: Option<CustomerId>,
    ) -> StoreResult<Vec<crate::questionnaire::SurveySheet>> {
        let rows: Vec<_> = self
            .inner
            .survey_sheets(customer)?
            .into_iter()
            .filter(|s| s.at < self.cutoff)
            .collect();
        self.of_present(rows, |s| s.customer)
    }

    fn participations(
        &self,
        customer: Option<CustomerId>,
    ) -> StoreResult<Vec<crate::participation::Participation>> {
        let rows: Vec<_> = self
            .inner
            .participations(customer)?
            .into_iter()
            .filter(|p| p.at < self.cutoff)
            .collect();
        self.of_present(rows, |p| p.customer)
    }

    fn offer(&self, code: &crate::offer::OfferCode) -> StoreResult<Option<crate::offer::Offer>> {
        // A setting, not history: an offer is shown as it stands.
        self.inner.offer(code)
    }

    fn offers(&self) -> StoreResult<Vec<crate::offer::Offer>> {
        self.inner.offers()
    }

    fn redemptions(
        &self,
        code: Option<&crate::offer::OfferCode>,
    ) -> StoreResult<Vec<crate::offer::Redemption>> {
        // Only those up to the view's instant, like the purchases they were used on.
        Ok(self
            .inner
            .redemptions(code)?
            .into_iter()
            .filter(|r| r.at < self.cutoff)
            .collect())
    }

    fn campaigns(&self) -> StoreResult<Vec<crate::campaign::Campaign>> {
        // Campaigns are a plan, not history: read as they are today.
        self.inner.campaigns()
    }

    fn attributions(&self) -> StoreResult<Vec<crate::campaign::Attribution>> {
        self.inner.attributions()
    }

    fn attribution(
        &self,
        subject: crate::campaign::AttributionSubject,
    ) -> StoreResult<Option<crate::CampaignId>> {
        self.inner.attribution(subject)
    }

    fn products(&self) -> StoreResult<Vec<crate::product::Product>> {
        // The catalogue is not history: today's products apply to any date.
        self.inner.products()
    }

    fn product(&self, sku: &crate::product::Sku) -> StoreResult<Option<crate::product::Product>> {
        self.inner.product(sku)
    }

    fn product_has_lines(&self, sku: &crate::product::Sku) -> StoreResult<bool> {
        self.inner.product_has_lines(sku)
    }

    fn purchase_lines(
        &self,
        purchase: PurchaseId,
    ) -> StoreResult<Vec<crate::product::PurchaseLine>> {
        // Lines never change once written: those of a purchase the view shows.
        if self.purchase(purchase)?.is_none() {
            return Ok(Vec::new());
        }
        self.inner.purchase_lines(purchase)
    }

    fn all_purchase_lines(&self) -> StoreResult<Vec<(PurchaseId, crate::product::PurchaseLine)>> {
        let shown: HashSet<PurchaseId> = self
            .purchases(&ActivityQuery::ALL.with_voided())?
            .iter()
            .map(Purchase::id)
            .collect();
        let mut all = self.inner.all_purchase_lines()?;
        all.retain(|(p, _)| shown.contains(p));
        Ok(all)
    }

    fn needs(&self, customer: Option<CustomerId>) -> StoreResult<Vec<crate::need::Need>> {
        let rows: Vec<_> = self
            .inner
            .needs(customer)?
            .into_iter()
            .filter_map(|n| self.rewind_need(n))
            .collect();
        self.of_present(rows, |n| n.customer)
    }

    fn need(&self, id: crate::NeedId) -> StoreResult<Option<crate::need::Need>> {
        let Some(n) = self.inner.need(id)?.and_then(|n| self.rewind_need(n)) else {
            return Ok(None);
        };
        Ok(self.of_present(vec![n], |n| n.customer)?.pop())
    }
}
