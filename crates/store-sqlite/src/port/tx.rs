//! [`Tx`]: one open SQLite transaction as a [`ReadTx`] and [`WriteTx`]. Each method
//! hands its connection to the function of its record kind and turns the internal
//! error into a [`StoreError`](solocrm_core::StoreError).

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use rusqlite::{CachedStatement, Connection};
use solocrm_core::automation::{AutomationCursor, Firing, Occurrence, RuleName, RuleRecord};
use solocrm_core::port::{
    ContactTimes, CustomerDates, CustomerFilter, CustomerStage, IdKind, ReadTx, WriteTx,
};
use solocrm_core::{
    ActivityQuery, AuditEntry, BusinessZone, Consent, Cost, CostId, Currency, Customer, CustomerId,
    CustomerKeys, Deal, DealId, Email, Event, EventSeq, ExternalRef, Interaction, InteractionId,
    Label, LifecycleStage, OpenQuery, PointsEntry, Purchase, PurchaseId, PurchaseLog,
    PurchaseSummary, Refund, ReportInteraction, ReportPurchaseRead, ReportPurchases, RequestId,
    SearchFields, SearchMatch, SearchText, Segment, ServiceRequest, StageChange, StoreResult,
    SurveyId, SurveyResponse, Task, TaskId, TaskQuery,
};

use super::bulk_totals::AppendedTotals;
use super::search_index::{self, DeferredInserts};
use super::{activity, automation, customers, events, ledger, loyalty, pipeline, privacy};
use crate::codec::Cols;
use crate::error::Res;
use crate::rows;
use crate::rows::Kept;

/// What a bulk build of new books wrote of one customer: the columns and the row the
/// operations look up before nearly every write.
#[derive(Debug, Clone, Copy)]
struct Known {
    stage: LifecycleStage,
    erased: bool,
    /// The time of the customer's last stage change (the last one stored).
    last_change: Option<DateTime<Utc>>,
    /// The balance after the customer's points entry of the largest id (0 for none).
    balance: i64,
    /// The largest id of the customer's points entries (0 for none).
    last_points: u64,
}

/// What a bulk build of new books wrote of each customer, by id. The build numbers
/// its customers densely from 1, so the records sit in a vector indexed by id (no
/// hashing per look-up, one or more per operation); an id far beyond the vector's
/// length, or so far that the vector would hold more than about twice as many slots
/// as records (neither of which a build of new books makes), goes to a map instead:
/// the vector never exceeds twice the records held plus [`KnownCustomers::GROWTH`]
/// slots, however the ids are spread.
#[derive(Debug, Default)]
struct KnownCustomers {
    /// Slot `id` holds customer `id`'s record.
    dense: Vec<Option<Known>>,
    /// How many slots of `dense` hold a record.
    filled: usize,
    /// Ids too far past the end of `dense`.
    sparse: HashMap<u64, Known>,
}

impl KnownCustomers {
    /// How far past the vector's end an id may be and still extend it.
    const GROWTH: u64 = 1 << 16;

    fn slot(&self, id: u64) -> Option<usize> {
        usize::try_from(id).ok().filter(|&i| i < self.dense.len())
    }

    fn get(&self, id: u64) -> Option<&Known> {
        match self.slot(id) {
            Some(i) => self.dense[i].as_ref(),
            None => self.sparse.get(&id),
        }
    }

    fn get_mut(&mut self, id: u64) -> Option<&mut Known> {
        match self.slot(id) {
            Some(i) => self.dense[i].as_mut(),
            None => self.sparse.get_mut(&id),
        }
    }

    fn insert(&mut self, id: u64, known: Known) {
        let len = self.dense.len() as u64;
        let held = (self.filled + self.sparse.len()) as u64;
        let fits = id < len.saturating_add(Self::GROWTH)
            && id < held.saturating_mul(2).saturating_add(Self::GROWTH);
        match usize::try_from(id) {
            Ok(i) if i < self.dense.len() || fits => {
                if i >= self.dense.len() {
                    self.dense.resize(i + 1, None);
                    // Ids the vector now covers leave the map (none in a build of
                    // new books).
                    let covered: Vec<u64> =
                        self.sparse.keys().copied().filter(|&k| k <= id).collect();
                    for k in covered {
                        if let (Some(slot), Some(v)) = (
                            usize::try_from(k).ok().and_then(|k| self.dense.get_mut(k)),
                            self.sparse.remove(&k),
                        ) {
                            *slot = Some(v);
                            self.filled += 1;
                        }
                    }
                }
                if self.dense[i].replace(known).is_none() {
                    self.filled += 1;
                }
            }
            _ => {
                self.sparse.insert(id, known);
            }
        }
    }
}

/// A transaction on one connection: read-only (a snapshot) or the write transaction.
pub(crate) struct Tx<'c> {
    conn: &'c Connection,
    /// The write statements of the operations that run most often (interactions,
    /// points, stage changes, consents), kept prepared for the whole transaction.
    kept: Kept<'c>,
    /// The two statements an import runs once per row, kept prepared for the whole
    /// transaction rather than fetched from the connection's statement cache every
    /// time (a hash of the SQL text and a round trip through its LRU per call).
    purchase_by_ref: RefCell<Option<CachedStatement<'c>>>,
    insert_purchase: Option<CachedStatement<'c>>,
    /// The import's insert that stores nothing when the reference is taken.
    append_unless_taken: Option<CachedStatement<'c>>,
    /// [`activity::INSERT_PURCHASE_RUN`], once prepared.
    append_run: Option<CachedStatement<'c>>,
    /// The insert into the outbox, which every operation runs, kept prepared like
    /// the import's.
    append_event: Option<CachedStatement<'c>>,
    /// The next id of each kind (indexed by `IdKind as usize`) once looked up: the
    /// largest stored + 1, moved on by this transaction's own inserts, so that an
    /// operation's look-ups of its record's id and its event's do not query the
    /// table again and again in a bulk write. Forgotten at a rollback to a savepoint.
    next_ids: [Option<u64>; IdKind::ALL.len()],
    base: Currency,
    /// The busy timeout, reported by a [`StoreError::Busy`](solocrm_core::StoreError).
    waited: Duration,
    /// The statements that create the purchase indexes a bulk import dropped, to run
    /// before the commit.
    rebuild: Option<Vec<String>>,
    /// How many purchases were stored when this transaction first said how many it
    /// would insert (an import calls `expect_purchases` again with its running total
    /// before each part; the table's size before the import is what counts).
    purchases_before: Option<u64>,
    /// Checkpoint after the commit (see [`WriteTx::purge_after_commit`]).
    purge: bool,
    /// A bulk build of new books (see [`Tx::building_new_books`]).
    new_books: bool,
    /// In a bulk build of new books, what this transaction wrote of each customer,
    /// by id (see [`Known`]); `None` otherwise, and from a write it does not follow
    /// on (a rewritten stage history, a rollback to a savepoint).
    known: Option<KnownCustomers>,
    /// The books' time zone, once read: a build posts hundreds of thousands of points
    /// entries, each of which needs it (for its lot's day). Forgotten when this
    /// transaction sets the zone and at a rollback to a savepoint.
    zone: Cell<Option<BusinessZone>>,
    /// One more than the largest purchase id stored, once known: an insert of that id
    /// appends (see [`activity::append_purchase`]). Forgotten at a rollback.
    next_purchase: Option<u64>,
    /// At each open savepoint, innermost last: whether indexes were dropped and the
    /// table's size then, restored by a rollback to it (which undoes a drop too).
    saved: Vec<(bool, Option<u64>)>,
    /// While a bulk write has dropped the triggers that keep `purchase_totals`: the
    /// totals of the purchases it inserted, merged before the commit instead of a
    /// refill of the whole table; `None` once the write changes purchases any other
    /// way (see [`bulk_totals`](super::bulk_totals)).
    appended: Option<AppendedTotals>,
    /// A bulk write ([`bulk_write`](Self::bulk_write)): its first created customer
    /// defers the search index's inserts.
    bulk: bool,
    /// Whether this write has deferred the search index's inserts, and what it then
    /// created (see [`DeferredInserts`]); `None` inside until it creates a customer.
    search_deferred: Option<Option<DeferredInserts>>,
}

impl<'c> Tx<'c> {
    pub(crate) fn new(conn: &'c Connection, base: Currency, waited: Duration) -> Self {
        Tx {
            conn,
            kept: Kept::new(conn),
            purchase_by_ref: RefCell::new(None),
            insert_purchase: None,
            append_unless_taken: None,
            append_run: None,
            append_event: None,
            next_ids: [None; IdKind::ALL.len()],
            base,
            waited,
            rebuild: None,
            purchases_before: None,
            purge: false,
            new_books: false,
            known: None,
            zone: Cell::new(None),
            saved: Vec::new(),
            next_purchase: None,
            appended: None,
            bulk: false,
            search_deferred: None,
        }
    }

    /// What is left to do at the end of a write: the indexes to rebuild before the
    /// commit, and whether to purge after it.
    pub(crate) fn finish(self) -> (Option<Vec<String>>, bool) {
        (self.rebuild, self.purge)
    }

    /// Marks the transaction as a bulk write (an import) of existing books: the first
    /// customer it creates drops the search index's insert trigger, and
    /// [`finish_search`](Self::finish_search) fills the index for what it created
    /// (see [`DeferredInserts`]).
    pub(crate) fn bulk_write(&mut self) {
        self.bulk = true;
    }

    /// Before [`finish`](Self::finish): puts back the search index's insert trigger a
    /// bulk write dropped and writes the entries of the customers it created since.
    pub(crate) fn finish_search(&mut self) -> StoreResult<()> {
        match self.search_deferred.take().flatten() {
            Some(d) => self.run(|c| d.finish(c)),
            None => Ok(()),
        }
    }

    /// Before [`finish`](Self::finish): if the write dropped the triggers that keep
    /// `purchase_totals` and only inserted purchases since, merges the totals of what
    /// it inserted into the table and takes the refill of the whole table out of the
    /// rebuild.
    pub(crate) fn merge_appended_totals(&mut self) -> StoreResult<()> {
        let Some(mut appended) = self.appended.take() else {
            return Ok(());
        };
        let fill = self.rebuild.as_ref().and_then(|sqls| {
            sqls.iter()
                .position(|sql| sql == crate::schema::FILL_PURCHASE_TOTALS)
        });
        if let Some(at) = fill
            && self.run(|c| appended.merge_into(c))?
            && let Some(sqls) = &mut self.rebuild
        {
            sqls.remove(at);
        }
        Ok(())
    }

    /// Marks the transaction as the bulk build of new, empty books
    /// ([`SqliteOptions::private_build`](crate::SqliteOptions::private_build)): every
    /// purchase it stores is its own, so the first batch it announces
    /// ([`WriteTx::expect_purchases`]) drops the purchase indexes, rebuilt sorted
    /// before the commit, however small each batch is.
    ///
    /// Every customer such a build stores is stored by it, so it also keeps what it
    /// wrote of each (stage, erasure, time of the last stage change) and answers the
    /// operations' narrow look-ups ([`ReadTx::customer_erased`],
    /// [`ReadTx::customer_stage`], [`ReadTx::last_stage_change_at`]), one for nearly
    /// every operation, without a B-tree seek into a table of hundreds of megabytes.
    pub(crate) fn building_new_books(&mut self) {
        self.new_books = true;
        self.known = Some(KnownCustomers::default());
    }

    /// What this transaction wrote of customer `id`, if it keeps that (`None`: ask
    /// the database); `Some(None)`: no such customer.
    fn known(&self, id: CustomerId) -> Option<Option<&Known>> {
        self.known.as_ref().map(|k| k.get(id.get()))
    }

    /// True if `purchase`'s id is the largest stored + 1, so it can be appended (see
    /// [`activity::append_purchase`]); learns the largest id on the first call.
    fn appends(&mut self, purchase: &Purchase) -> StoreResult<bool> {
        let next = match self.next_purchase {
            Some(n) => n,
            None => {
                let n = self.run(activity::stored_purchases)?.saturating_add(1);
                *self.next_purchase.insert(n)
            }
        };
        Ok(purchase.id().get() == next)
    }

    /// Adds an inserted purchase to the totals a bulk write gathers, if it does.
    fn gather(&mut self, purchase: &Purchase) -> StoreResult<()> {
        match &mut self.appended {
            Some(a) => a.add(purchase).map_err(|e| e.into_store(self.waited)),
            None => Ok(()),
        }
    }

    /// Notes that `purchase` was stored, for [`appends`](Self::appends).
    fn stored_purchase(&mut self, purchase: &Purchase) {
        let after = purchase.id().get().saturating_add(1);
        self.next_purchase = Some(self.next_purchase.map_or(after, |n| n.max(after)));
        self.stored(IdKind::Purchase, purchase.id().get());
    }

    /// Notes that a record of `kind` was stored under `id`, for
    /// [`next_id`](WriteTx::next_id).
    fn stored(&mut self, kind: IdKind, id: u64) {
        let slot = &mut self.next_ids[kind as usize];
        if let Some(next) = slot {
            *next = (*next).max(id.saturating_add(1));
        }
    }

    /// Runs the insert of a record of `kind` under `id`, then notes it.
    fn insert(
        &mut self,
        kind: IdKind,
        id: u64,
        f: impl FnOnce(&Connection) -> Res<()>,
    ) -> StoreResult<()> {
        self.run(f)?;
        self.stored(kind, id);
        Ok(())
    }

    fn run<T>(&self, f: impl FnOnce(&Connection) -> Res<T>) -> StoreResult<T> {
        f(self.conn).map_err(|e| e.into_store(self.waited))
    }

    /// Runs `f` with the transaction's kept statements.
    fn run_kept<T>(&mut self, f: impl FnOnce(&mut Kept<'c>) -> Res<T>) -> StoreResult<T> {
        f(&mut self.kept).map_err(|e| e.into_store(self.waited))
    }

    fn run_base<T>(&self, f: impl FnOnce(&Connection, Currency) -> Res<T>) -> StoreResult<T> {
        f(self.conn, self.base).map_err(|e| e.into_store(self.waited))
    }
}

impl<'c> ReadTx for Tx<'c> {
    fn base_currency(&self) -> Currency {
        self.base
    }

    fn time_zone(&self) -> StoreResult<BusinessZone> {
        if let Some(zone) = self.zone.get() {
            return Ok(zone);
        }
        let zone = self.run(crate::schema::time_zone)?;
        self.zone.set(Some(zone));
        Ok(zone)
    }

    fn customer(&self, id: CustomerId) -> StoreResult<Option<Customer>> {
        self.run_base(|c, base| customers::find_customer(c, id, base))
    }

    fn customer_erased(&self, id: CustomerId) -> StoreResult<Option<bool>> {
        if let Some(known) = self.known(id) {
            return Ok(known.map(|k| k.erased));
        }
        self.run(|c| customers::erased(c, id))
    }

    fn customer_stage(&self, id: CustomerId) -> StoreResult<Option<CustomerStage>> {
        if let Some(known) = self.known(id) {
            return Ok(known.map(|k| CustomerStage {
                stage: k.stage,
                erased: k.erased,
            }));
        }
        self.run(|c| customers::stage_of(c, id))
    }

    fn last_stage_change_at(&self, customer: CustomerId) -> StoreResult<Option<DateTime<Utc>>> {
        if let Some(known) = self.known(customer) {
            return Ok(known.and_then(|k| k.last_change));
        }
        self.run(|c| customers::last_stage_change_at(c, customer))
    }

    fn customer_by_email(&self, email: &Email) -> StoreResult<Option<CustomerId>> {
        self.run(|c| customers::by_email(c, email))
    }

    fn customer_by_external_ref(&self, reference: &ExternalRef) -> StoreResult<Option<CustomerId>> {
        self.run(|c| customers::by_external_ref(c, reference))
    }

    fn customer_keys(&self) -> StoreResult<Vec<CustomerKeys>> {
        self.run(customers::keys)
    }

    fn for_each_customer_key(
        &self,
        f: &mut dyn FnMut(CustomerKeys) -> StoreResult<()>,
    ) -> StoreResult<()> {
        self.run(|c| customers::for_each_key(c, f))
    }

    fn customer_keys_created(&self) -> StoreResult<Vec<(CustomerKeys, DateTime<Utc>)>> {
        self.run(customers::keys_created)
    }

    fn customers_created_from(&self, from: DateTime<Utc>) -> StoreResult<Vec<CustomerId>> {
        self.run(|c| customers::created_from(c, from))
    }

    fn customers(
        &self,
        filter: &CustomerFilter,
        after: Option<CustomerId>,
        limit: u32,
    ) -> StoreResult<Vec<Customer>> {
        self.run_base(|c, base| customers::list(c, filter, after, limit, base))
    }

    fn count_customers(&self) -> StoreResult<u64> {
        self.run(customers::count)
    }

    fn stage_history(&self, customer: CustomerId) -> StoreResult<Vec<StageChange>> {
        self.run(|c| customers::stage_history(c, customer))
    }

    fn stage_changes_from(&self, from: DateTime<Utc>) -> StoreResult<Vec<StageChange>> {
        self.run(|c| customers::stage_changes_from(c, from))
    }

    fn interactions(&self, query: &ActivityQuery) -> StoreResult<Vec<Interaction>> {
        self.run(|c| activity::interactions(c, query))
    }

    fn interaction(&self, id: InteractionId) -> StoreResult<Option<Interaction>> {
        self.run(|c| activity::interaction(c, id))
    }

    fn purchase(&self, id: PurchaseId) -> StoreResult<Option<Purchase>> {
        self.run_base(|c, base| activity::purchase(c, id, base))
    }

    fn purchase_by_external_ref(&self, reference: &ExternalRef) -> StoreResult<Option<PurchaseId>> {
        let conn: &'c Connection = self.conn;
        let mut slot = self.purchase_by_ref.borrow_mut();
        let found = (|| -> Res<Option<PurchaseId>> {
            let stmt: &mut CachedStatement<'c> = match &mut *slot {
                Some(stmt) => stmt,
                None => slot.insert(conn.prepare_cached(activity::PURCHASE_REF_OWNER)?),
            };
            let mut rows = stmt.query([reference.as_str()])?;
            match rows.next()? {
                Some(row) => Ok(Some(Cols::new(row, "purchases").id(0, PurchaseId::new)?)),
                None => Ok(None),
            }
        })();
        found.map_err(|e| e.into_store(self.waited))
    }

    fn purchases(&self, query: &ActivityQuery) -> StoreResult<Vec<Purchase>> {
        self.run_base(|c, base| activity::purchases(c, query, base))
    }

    fn for_each_purchase(
        &self,
        query: &ActivityQuery,
        f: &mut dyn FnMut(Purchase) -> StoreResult<()>,
    ) -> StoreResult<()> {
        self.run_base(|c, base| activity::for_each_purchase(c, query, base, f))
    }

    fn purchase_summary(
        &self,
        customer: CustomerId,
        as_of: DateTime<Utc>,
    ) -> StoreResult<PurchaseSummary> {
        if self.rebuild.is_some() {
            // A bulk write dropped the triggers that keep the totals: scan.
            return self.run_base(|c, base| activity::scanned_summary(c, customer, as_of, base));
        }
        self.run_base(|c, base| activity::purchase_summary(c, customer, as_of, base))
    }

    fn purchase_summaries(
        &self,
        as_of: DateTime<Utc>,
    ) -> StoreResult<Vec<(CustomerId, PurchaseSummary)>> {
        if self.rebuild.is_some() {
            // A bulk write dropped the triggers that keep the totals: scan.
            return self.run_base(|c, base| activity::scanned_summaries(c, as_of, base));
        }
        self.run_base(|c, base| activity::purchase_summaries(c, as_of, base))
    }

    fn purchase_log(&self) -> StoreResult<PurchaseLog> {
        self.run_base(activity::purchase_log)
    }

    fn purchase_log_by_customer(&self) -> StoreResult<PurchaseLog> {
        self.run_base(activity::purchase_log_by_customer)
    }

    fn report_purchases(&self, until: DateTime<Utc>) -> StoreResult<ReportPurchases> {
        self.run_base(|c, base| activity::report_purchases(c, until, base))
    }

    fn report_purchases_and_log(
        &self,
        until: DateTime<Utc>,
    ) -> StoreResult<(ReportPurchases, PurchaseLog)> {
        self.run_base(|c, base| activity::report_purchases_and_log(c, until, base))
    }

    fn report_purchase_read(&self, until: DateTime<Utc>) -> StoreResult<ReportPurchaseRead> {
        self.run_base(|c, base| activity::report_purchase_read(c, until, base))
    }

    fn report_interactions(&self, until: DateTime<Utc>) -> StoreResult<Vec<ReportInteraction>> {
        self.run(|c| activity::report_interactions(c, until))
    }

    fn survey_scores(&self, until: DateTime<Utc>) -> StoreResult<Vec<solocrm_core::ScoredAnswer>> {
        self.run(|c| activity::survey_scores(c, until))
    }

    fn refunds(&self, query: &ActivityQuery) -> StoreResult<Vec<Refund>> {
        self.run_base(|c, base| activity::refunds(c, query, base))
    }

    fn refunds_of(&self, purchase: PurchaseId) -> StoreResult<Vec<Refund>> {
        self.run_base(|c, base| activity::refunds_of(c, purchase, base))
    }

    fn surveys(&self, query: &ActivityQuery) -> StoreResult<Vec<SurveyResponse>> {
        self.run(|c| activity::surveys(c, query))
    }

    fn survey(&self, id: SurveyId) -> StoreResult<Option<SurveyResponse>> {
        self.run(|c| activity::survey(c, id))
    }

    fn request(&self, id: RequestId) -> StoreResult<Option<ServiceRequest>> {
        self.run(|c| pipeline::request(c, id))
    }

    fn requests(&self, query: &OpenQuery) -> StoreResult<Vec<ServiceRequest>> {
        self.run(|c| pipeline::list_requests(c, query))
    }

    fn deal(&self, id: DealId) -> StoreResult<Option<Deal>> {
        self.run_base(|c, base| pipeline::find_deal(c, id, base))
    }

    fn deals(&self, query: &OpenQuery) -> StoreResult<Vec<Deal>> {
        self.run_base(|c, base| pipeline::list_deals(c, query, base))
    }

    fn task(&self, id: TaskId) -> StoreResult<Option<Task>> {
        self.run(|c| pipeline::task(c, id))
    }

    fn tasks(&self, query: &TaskQuery) -> StoreResult<Vec<Task>> {
        self.run(|c| pipeline::list_tasks(c, query))
    }

    fn points_ledger(&self, customer: CustomerId) -> StoreResult<Vec<PointsEntry>> {
        self.run(|c| loyalty::points_ledger(c, customer))
    }

    fn points_balance(&self, customer: CustomerId) -> StoreResult<i64> {
        if let Some(known) = self.known(customer) {
            // No customer, no entries: 0, as the query gives.
            return Ok(known.map_or(0, |k| k.balance));
        }
        self.run(|c| loyalty::points_balance(c, customer))
    }

    fn points_tiers(&self) -> StoreResult<Vec<solocrm_core::PointsTier>> {
        self.run(loyalty::points_tiers)
    }

    fn points_expiry(&self) -> StoreResult<Option<solocrm_core::PointsExpiry>> {
        self.run(loyalty::points_expiry)
    }

    fn points_holders(&self) -> StoreResult<Vec<CustomerId>> {
        self.run(loyalty::points_holders)
    }

    fn points_holder_ledgers(&self) -> StoreResult<Vec<(CustomerId, Vec<PointsEntry>)>> {
        self.run(loyalty::points_holder_ledgers)
    }

    fn points_lots_earned_through(
        &self,
        through: chrono::NaiveDate,
    ) -> StoreResult<Vec<(CustomerId, Vec<solocrm_core::PointsLot>)>> {
        self.run(|c| loyalty::lots_earned_through(c, through))
    }

    fn segment(&self, name: &Label) -> StoreResult<Option<Segment>> {
        self.run(|c| privacy::segment(c, name))
    }

    fn segments(&self) -> StoreResult<Vec<Segment>> {
        self.run(|c| privacy::all_segments(c).map(|(ok, _)| ok))
    }

    fn audit_log(&self) -> StoreResult<Vec<AuditEntry>> {
        self.run(privacy::audit_log)
    }

    fn cost(&self, id: CostId) -> StoreResult<Option<Cost>> {
        self.run_base(|c, base| ledger::cost(c, id, base))
    }

    fn costs(&self) -> StoreResult<Vec<Cost>> {
        self.run_base(ledger::costs)
    }

    fn search_customers(&self, text: &SearchText) -> StoreResult<Vec<CustomerId>> {
        self.run(|c| ledger::search(c, text))
    }

    fn search_fields(&self, text: &SearchText) -> StoreResult<Vec<SearchFields>> {
        self.run(|c| ledger::search_fields(c, text))
    }

    fn all_search_fields(&self) -> StoreResult<Vec<SearchFields>> {
        self.run(ledger::all_search_fields)
    }

    fn search_matches(&self, text: &SearchText) -> StoreResult<Vec<SearchMatch>> {
        self.run(|c| ledger::search_matches(c, text))
    }

    fn events(&self, after: EventSeq, limit: u32) -> StoreResult<Vec<Event>> {
        self.run(|c| events::list(c, after, limit))
    }
    fn rules(&self) -> StoreResult<Vec<RuleRecord>> {
        self.run(automation::rules)
    }

    fn firing_exists(
        &self,
        rule: &RuleName,
        customer: CustomerId,
        occurrence: &Occurrence,
    ) -> StoreResult<bool> {
        self.run(|c| automation::firing_exists(c, rule, customer, occurrence))
    }

    fn firings(&self) -> StoreResult<Vec<Firing>> {
        self.run(automation::firings)
    }

    fn customer_names(
        &self,
        ids: &[CustomerId],
    ) -> StoreResult<Vec<(CustomerId, solocrm_core::PersonName)>> {
        self.run(|c| customers::names(c, ids))
    }

    fn last_interactions(
        &self,
        until: DateTime<Utc>,
    ) -> StoreResult<Vec<(CustomerId, DateTime<Utc>)>> {
        self.run(|c| automation::last_interactions(c, until))
    }

    fn customer_stages(&self) -> StoreResult<Vec<(CustomerId, LifecycleStage)>> {
        self.run(customers::stages)
    }

    fn churned_at(&self) -> StoreResult<Vec<(CustomerId, Option<DateTime<Utc>>)>> {
        self.run(customers::churned_at)
    }

    fn customer_dates(&self) -> StoreResult<Vec<CustomerDates>> {
        self.run(automation::customer_dates)
    }

    fn segment_rows(
        &self,
        filter: &CustomerFilter,
        fields: solocrm_core::SegmentFields,
    ) -> StoreResult<Vec<solocrm_core::SegmentRow>> {
        self.run(|c| customers::segment_rows(c, filter, fields))
    }

    fn report_customers(&self) -> StoreResult<Vec<solocrm_core::ReportCustomer>> {
        self.run_base(customers::report_customers)
    }

    fn contact_times(
        &self,
        from: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> StoreResult<Vec<ContactTimes>> {
        // While a bulk write has dropped the triggers, the kept totals are stale.
        let kept = self.rebuild.is_none();
        self.run(|c| automation::contact_times(c, from.timestamp(), until.timestamp(), kept))
    }

    fn automation_cursor(&self) -> StoreResult<AutomationCursor> {
        self.run(automation::cursor)
    }

    fn holiday_calendar(&self) -> StoreResult<solocrm_core::holiday::HolidayCalendar> {
        self.run(super::holidays::holiday_calendar)
    }

    fn targets(&self) -> StoreResult<Vec<solocrm_core::target::Target>> {
        self.run(super::targets::targets)
    }

    fn survey_templates(&self) -> StoreResult<Vec<solocrm_core::questionnaire::SurveyTemplate>> {
        self.run(super::questionnaire::survey_templates)
    }

    fn survey_sheets(
        &self,
        customer: Option<CustomerId>,
    ) -> StoreResult<Vec<solocrm_core::questionnaire::SurveySheet>> {
        self.run(|c| super::questionnaire::survey_sheets(c, customer))
    }

    fn participations(
        &self,
        customer: Option<CustomerId>,
    ) -> StoreResult<Vec<solocrm_core::participation::Participation>> {
        self.run(|c| super::questionnaire::participations(c, customer))
    }

    fn needs(&self, customer: Option<CustomerId>) -> StoreResult<Vec<solocrm_core::need::Need>> {
        self.run(|c| super::needs::needs(c, customer))
    }

    fn need(&self, id: solocrm_core::NeedId) -> StoreResult<Option<solocrm_core::need::Need>> {
        self.run(|c| super::needs::need(c, id))
    }

    fn offer(
        &self,
        code: &solocrm_core::offer::OfferCode,
    ) -> StoreResult<Option<solocrm_core::offer::Offer>> {
        self.run_base(|c, base| super::offers::offer(c, code, base))
    }

    fn offers(&self) -> StoreResult<Vec<solocrm_core::offer::Offer>> {
        self.run_base(super::offers::offers)
    }

    fn redemptions(
        &self,
        code: Option<&solocrm_core::offer::OfferCode>,
    ) -> StoreResult<Vec<solocrm_core::offer::Redemption>> {
        self.run_base(|c, base| super::offers::redemptions(c, code, base))
    }

    fn campaigns(&self) -> StoreResult<Vec<solocrm_core::campaign::Campaign>> {
        self.run_base(super::campaigns::campaigns)
    }

    fn attributions(&self) -> StoreResult<Vec<solocrm_core::campaign::Attribution>> {
        self.run(super::campaigns::attributions)
    }

    fn attribution(
        &self,
        subject: solocrm_core::campaign::AttributionSubject,
    ) -> StoreResult<Option<solocrm_core::CampaignId>> {
        self.run(|c| super::campaigns::attribution(c, subject))
    }

    fn products(&self) -> StoreResult<Vec<solocrm_core::product::Product>> {
        self.run_base(super::products::products)
    }

    fn product(
        &self,
        sku: &solocrm_core::product::Sku,
    ) -> StoreResult<Option<solocrm_core::product::Product>> {
        self.run_base(|c, base| super::products::product(c, sku, base))
    }

    fn product_has_lines(&self, sku: &solocrm_core::product::Sku) -> StoreResult<bool> {
        self.run(|c| super::products::product_has_lines(c, sku))
    }

    fn purchase_lines(
        &self,
        purchase: PurchaseId,
    ) -> StoreResult<Vec<solocrm_core::product::PurchaseLine>> {
        self.run_base(|c, base| super::products::purchase_lines(c, purchase, base))
    }

    fn all_purchase_lines(
        &self,
    ) -> StoreResult<Vec<(PurchaseId, solocrm_core::product::PurchaseLine)>> {
        self.run_base(super::products::all_purchase_lines)
    }
}

impl<'c> WriteTx for Tx<'c> {
    fn set_time_zone(&mut self, zone: BusinessZone) -> StoreResult<()> {
        // A lot's business day may move with the zone: the kept lots are rebuilt.
        self.zone.set(None);
        self.run(|c| {
            crate::schema::set_time_zone(c, zone)?;
            loyalty::rebuild_lots(c, zone)
        })
    }

    fn savepoint(&mut self) -> StoreResult<()> {
        // Prepared once: every operation of a transaction opens one.
        self.run(|c| Ok(c.prepare_cached("SAVEPOINT op")?.execute([]).map(drop)?))?;
        self.saved
            .push((self.rebuild.is_some(), self.purchases_before));
        Ok(())
    }

    fn release_savepoint(&mut self) -> StoreResult<()> {
        self.run(|c| Ok(c.prepare_cached("RELEASE op")?.execute([]).map(drop)?))?;
        self.saved.pop();
        Ok(())
    }

    fn rollback_to_savepoint(&mut self) -> StoreResult<()> {
        self.run(|c| Ok(c.execute_batch("ROLLBACK TO op; RELEASE op")?))?;
        self.next_purchase = None;
        // The totals gathered may count rows the rollback took back.
        self.appended = None;
        self.next_ids = [None; IdKind::ALL.len()];
        // What was rolled back is not followed: from now on, ask the database.
        self.known = None;
        self.zone.set(None);
        if let Some((dropped, before)) = self.saved.pop() {
            if !dropped {
                self.rebuild = None;
            }
            self.purchases_before = before;
        }
        Ok(())
    }

    fn next_id(&mut self, kind: IdKind) -> StoreResult<u64> {
        if let Some(next) = self.next_ids[kind as usize] {
            return Ok(next);
        }
        let next = self.run(|c| next_id(c, kind))?;
        self.next_ids[kind as usize] = Some(next);
        Ok(next)
    }

    fn insert_customer(&mut self, customer: &Customer) -> StoreResult<()> {
        if self.bulk && self.search_deferred.is_none() {
            self.search_deferred = Some(self.run(search_index::defer_inserts)?);
        }
        self.run_kept(|k| customers::insert(k, customer))?;
        self.stored(IdKind::Customer, customer.id().get());
        if let Some(Some(d)) = &mut self.search_deferred {
            d.created(customer.id().get());
        }
        if let Some(known) = &mut self.known {
            known.insert(
                customer.id().get(),
                Known {
                    stage: customer.stage(),
                    erased: customer.is_erased(),
                    last_change: None,
                    balance: 0,
                    last_points: 0,
                },
            );
        }
        Ok(())
    }

    fn update_customer(&mut self, customer: &Customer) -> StoreResult<()> {
        self.run(|c| customers::update(c, customer))?;
        if let Some(k) = self
            .known
            .as_mut()
            .and_then(|k| k.get_mut(customer.id().get()))
        {
            k.stage = customer.stage();
            k.erased = customer.is_erased();
        }
        Ok(())
    }

    fn set_customer_stage(&mut self, id: CustomerId, stage: LifecycleStage) -> StoreResult<()> {
        self.run_kept(|k| customers::set_stage(k, id, stage))?;
        if let Some(k) = self.known.as_mut().and_then(|k| k.get_mut(id.get())) {
            k.stage = stage;
        }
        Ok(())
    }

    fn append_consent(&mut self, id: CustomerId, consent: &Consent) -> StoreResult<()> {
        match self.known(id) {
            Some(Some(_)) => self.run_kept(|k| customers::insert_consent(k, id, consent)),
            _ => self.run(|c| customers::append_consent(c, id, consent)),
        }
    }

    fn push_stage_change(&mut self, change: &StageChange) -> StoreResult<()> {
        self.run_kept(|k| customers::push_stage_change(k, change))?;
        if let Some(k) = self
            .known
            .as_mut()
            .and_then(|k| k.get_mut(change.customer.get()))
        {
            k.last_change = Some(change.at);
        }
        Ok(())
    }

    fn rewrite_stage_history(
        &mut self,
        customer: CustomerId,
        history: &[StageChange],
    ) -> StoreResult<()> {
        // Not followed: from now on, ask the database.
        self.known = None;
        self.run(|c| customers::rewrite_stage_history(c, customer, history))
    }

    fn insert_interaction(&mut self, interaction: &Interaction) -> StoreResult<()> {
        self.run_kept(|k| activity::insert_interaction(k, interaction))?;
        self.stored(IdKind::Interaction, interaction.id().get());
        Ok(())
    }

    fn update_interaction(&mut self, interaction: &Interaction) -> StoreResult<()> {
        self.run(|c| activity::update_interaction(c, interaction))
    }

    fn expect_purchases(&mut self, rows: u64) -> StoreResult<()> {
        if self.rebuild.is_some() {
            return Ok(());
        }
        let before = match self.purchases_before {
            Some(n) => n,
            None => *self
                .purchases_before
                .insert(self.run(activity::stored_purchases)?),
        };
        let rows = if self.new_books {
            rows.max(activity::BULK_PURCHASES as u64)
        } else {
            rows
        };
        self.rebuild = self.run(|c| activity::prepare_bulk(c, rows, before))?;
        let fills = |sqls: &Vec<String>| {
            sqls.iter()
                .any(|sql| sql == crate::schema::FILL_PURCHASE_TOTALS)
        };
        if self.rebuild.as_ref().is_some_and(fills) {
            self.appended = Some(AppendedTotals::default());
        }
        Ok(())
    }

    fn insert_purchase(&mut self, purchase: &Purchase) -> StoreResult<()> {
        let append = self.appends(purchase)?;
        let conn: &'c Connection = self.conn;
        let stmt = cached(&mut self.insert_purchase, conn, activity::INSERT_PURCHASE);
        let done = stmt.and_then(|stmt| {
            if append {
                activity::append_purchase(stmt, conn, purchase).map(drop)
            } else {
                activity::run_purchase(stmt, purchase)
            }
        });
        done.map_err(|e| e.into_store(self.waited))?;
        self.stored_purchase(purchase);
        if purchase.is_void() {
            self.run(|c| activity::set_purchase_void(c, purchase))?;
        }
        self.gather(purchase)
    }

    fn insert_purchase_unless_ref_taken(
        &mut self,
        purchase: &Purchase,
    ) -> StoreResult<Option<PurchaseId>> {
        let Some(reference) = purchase.external_ref() else {
            self.insert_purchase(purchase)?;
            return Ok(None);
        };
        if !self.appends(purchase)? {
            // Not an append: look the reference up, then insert under the given id.
            if let Some(owner) = self.purchase_by_external_ref(reference)? {
                return Ok(Some(owner));
            }
            self.insert_purchase(purchase)?;
            return Ok(None);
        }
        let conn: &'c Connection = self.conn;
        let stmt = cached(
            &mut self.append_unless_taken,
            conn,
            activity::INSERT_PURCHASE_UNLESS_TAKEN,
        );
        let stored = stmt
            .and_then(|stmt| activity::append_purchase(stmt, conn, purchase))
            .map_err(|e| e.into_store(self.waited))?;
        if stored {
            self.stored_purchase(purchase);
            if purchase.is_void() {
                self.run(|c| activity::set_purchase_void(c, purchase))?;
            }
            self.gather(purchase)?;
            return Ok(None);
        }
        match self.purchase_by_external_ref(reference)? {
            Some(owner) => Ok(Some(owner)),
            None => Err(solocrm_core::StoreError::backend(std::io::Error::other(
                format!("purchases: reference {reference} clashed but no purchase has it"),
            ))),
        }
    }

    fn insert_purchases_unless_ref_taken(
        &mut self,
        batch: &[Purchase],
    ) -> StoreResult<Option<(usize, PurchaseId)>> {
        let mut done = 0;
        for run in batch.chunks(activity::APPEND_RUN) {
            // A whole run of appends, none voided: one statement. A taken reference
            // fails it whole; the run then goes row by row to find which.
            let consecutive = run
                .windows(2)
                .all(|w| w[1].id().get() == w[0].id().get().saturating_add(1));
            let whole = run.len() == activity::APPEND_RUN
                && consecutive
                && !run.iter().any(Purchase::is_void)
                && run.first().map_or(Ok(false), |p| self.appends(p))?;
            if whole {
                let conn: &'c Connection = self.conn;
                let stored = cached(&mut self.append_run, conn, &activity::INSERT_PURCHASE_RUN)
                    .and_then(|stmt| activity::append_purchases(stmt, conn, run))
                    .map_err(|e| e.into_store(self.waited))?;
                if stored {
                    for p in run {
                        self.stored_purchase(p);
                        self.gather(p)?;
                    }
                    done += run.len();
                    continue;
                }
            }
            for (i, p) in run.iter().enumerate() {
                if let Some(owner) = self.insert_purchase_unless_ref_taken(p)? {
                    return Ok(Some((done + i, owner)));
                }
            }
            done += run.len();
        }
        Ok(None)
    }

    fn update_purchase(&mut self, purchase: &Purchase) -> StoreResult<()> {
        // The totals gathered no longer follow from the inserts alone.
        self.appended = None;
        self.run(|c| activity::update_purchase(c, purchase))
    }

    fn insert_refund(&mut self, refund: &Refund) -> StoreResult<()> {
        self.insert(IdKind::Refund, refund.id().get(), |c| {
            activity::insert_refund(c, refund)
        })
    }

    fn update_refund(&mut self, refund: &Refund) -> StoreResult<()> {
        self.run(|c| activity::update_refund(c, refund))
    }

    fn insert_survey(&mut self, survey: &SurveyResponse) -> StoreResult<()> {
        self.insert(IdKind::Survey, survey.id().get(), |c| {
            activity::insert_survey(c, survey)
        })
    }

    fn update_survey(&mut self, survey: &SurveyResponse) -> StoreResult<()> {
        self.run(|c| activity::update_survey(c, survey))
    }

    fn insert_request(&mut self, request: &ServiceRequest) -> StoreResult<()> {
        self.insert(IdKind::Request, request.id().get(), |c| {
            pipeline::insert_request(c, request)
        })
    }

    fn update_request(&mut self, request: &ServiceRequest) -> StoreResult<()> {
        self.run(|c| pipeline::update_request(c, request))
    }

    fn insert_deal(&mut self, deal: &Deal) -> StoreResult<()> {
        self.insert(IdKind::Deal, deal.id().get(), |c| {
            pipeline::insert_deal(c, deal)
        })
    }

    fn update_deal(&mut self, deal: &Deal) -> StoreResult<()> {
        self.run(|c| pipeline::update_deal(c, deal))
    }

    fn insert_task(&mut self, task: &Task) -> StoreResult<()> {
        self.insert(IdKind::Task, task.id().get(), |c| {
            pipeline::insert_task(c, task)
        })
    }

    fn update_task(&mut self, task: &Task) -> StoreResult<()> {
        self.run(|c| pipeline::update_task(c, task))
    }

    fn insert_points(&mut self, entry: &PointsEntry) -> StoreResult<()> {
        // The kept lots (ADR 0043) follow the ledger in id order; an entry stored
        // before a later one of its customer (never by the operations) rebuilds them.
        let last_known = match self.known(entry.customer()) {
            Some(Some(k)) => Some(k.last_points),
            _ => None,
        };
        let in_order = match last_known {
            Some(last) => entry.id().get() > last,
            // At or past the next id of the whole ledger (kept by the transaction,
            // never below the largest stored id): after every entry, without asking
            // per customer — whose index a build of new books has dropped.
            None if entry.id().get() >= self.next_id(IdKind::Points)? => true,
            None => {
                let customer = entry.customer();
                self.run(|c| loyalty::last_points_id(c, customer))? < entry.id().get()
            }
        };
        self.run_kept(|k| loyalty::insert_points(k, entry))?;
        let zone = self.time_zone()?;
        self.run(|c| {
            if in_order {
                loyalty::track_lot(c, entry, zone)
            } else {
                loyalty::rebuild_lots_of(c, entry.customer(), zone)
            }
        })?;
        self.stored(IdKind::Points, entry.id().get());
        if let Some(k) = self
            .known
            .as_mut()
            .and_then(|k| k.get_mut(entry.customer().get()))
            && entry.id().get() > k.last_points
        {
            k.last_points = entry.id().get();
            k.balance = entry.balance_after();
        }
        Ok(())
    }

    fn update_points(&mut self, entry: &PointsEntry) -> StoreResult<()> {
        // A rewritten entry is not followed: from now on, ask the database.
        self.known = None;
        let zone = self.time_zone()?;
        self.run(|c| loyalty::update_points_keeping_lots(c, entry, zone))
    }

    fn insert_segment(&mut self, segment: &Segment) -> StoreResult<()> {
        self.run(|c| privacy::insert_segment(c, segment))
    }

    fn delete_segment(&mut self, name: &Label) -> StoreResult<bool> {
        self.run(|c| privacy::delete_segment(c, name))
    }

    fn set_points_expiry(
        &mut self,
        expiry: Option<&solocrm_core::PointsExpiry>,
    ) -> StoreResult<()> {
        self.run(|c| loyalty::set_points_expiry(c, expiry))
    }

    fn put_points_tier(&mut self, tier: &solocrm_core::PointsTier) -> StoreResult<()> {
        self.run(|c| loyalty::put_points_tier(c, tier))
    }

    fn delete_points_tier(&mut self, name: &solocrm_core::Tag) -> StoreResult<bool> {
        self.run(|c| loyalty::delete_points_tier(c, name))
    }

    fn insert_audit(&mut self, entry: &AuditEntry) -> StoreResult<()> {
        self.insert(IdKind::Audit, entry.id.get(), |c| {
            privacy::insert_audit(c, entry)
        })
    }

    fn insert_cost(&mut self, cost: &Cost) -> StoreResult<()> {
        self.insert(IdKind::Cost, cost.id().get(), |c| {
            ledger::insert_cost(c, cost)
        })
    }

    fn update_cost(&mut self, cost: &Cost) -> StoreResult<()> {
        self.run(|c| ledger::update_cost(c, cost))
    }

    fn append_event(&mut self, event: &Event) -> StoreResult<()> {
        let conn: &'c Connection = self.conn;
        cached(&mut self.append_event, conn, events::APPEND)
            .and_then(|stmt| events::append(stmt, event))
            .map_err(|e| e.into_store(self.waited))?;
        self.stored(IdKind::Event, event.seq);
        Ok(())
    }

    fn put_rule(&mut self, rule: &RuleRecord) -> StoreResult<()> {
        self.run(|c| automation::put_rule(c, rule))
    }

    fn delete_rule(&mut self, name: &RuleName) -> StoreResult<bool> {
        self.run(|c| automation::delete_rule(c, name))
    }

    fn insert_firing(&mut self, firing: &Firing) -> StoreResult<()> {
        self.run(|c| automation::insert_firing(c, firing))
    }

    fn delete_firings_of(&mut self, customer: CustomerId) -> StoreResult<u64> {
        self.run(|c| automation::delete_firings_of(c, customer))
    }

    fn set_automation_cursor(&mut self, cursor: &AutomationCursor) -> StoreResult<()> {
        self.run(|c| automation::set_cursor(c, cursor))
    }

    fn put_holiday(&mut self, holiday: &solocrm_core::holiday::HolidayDef) -> StoreResult<()> {
        self.run(|c| super::holidays::put_holiday(c, holiday))
    }

    fn delete_holiday(&mut self, key: &solocrm_core::Tag) -> StoreResult<bool> {
        self.run(|c| super::holidays::delete_holiday(c, key))
    }

    fn set_holiday_presets(
        &mut self,
        presets: &[solocrm_core::holiday::Preset],
    ) -> StoreResult<()> {
        self.run(|c| super::holidays::set_holiday_presets(c, presets))
    }

    fn put_target(&mut self, target: &solocrm_core::target::Target) -> StoreResult<()> {
        self.run(|c| super::targets::put_target(c, target))
    }

    fn delete_target(
        &mut self,
        metric: solocrm_core::target::TargetMetric,
        period: solocrm_core::target::TargetPeriod,
    ) -> StoreResult<bool> {
        self.run(|c| super::targets::delete_target(c, metric, period))
    }

    fn insert_survey_template(
        &mut self,
        template: &solocrm_core::questionnaire::SurveyTemplate,
    ) -> StoreResult<()> {
        self.run(|c| super::questionnaire::insert_survey_template(c, template))
    }

    fn replace_survey_template(
        &mut self,
        from: &solocrm_core::Tag,
        template: &solocrm_core::questionnaire::SurveyTemplate,
    ) -> StoreResult<()> {
        self.run(|c| super::questionnaire::replace_survey_template(c, from, template))
    }

    fn delete_survey_template(&mut self, name: &solocrm_core::Tag) -> StoreResult<()> {
        self.run(|c| super::questionnaire::delete_survey_template(c, name))
    }

    fn insert_survey_sheet(
        &mut self,
        sheet: &solocrm_core::questionnaire::SurveySheet,
    ) -> StoreResult<()> {
        self.run(|c| super::questionnaire::insert_survey_sheet(c, sheet))
    }

    fn insert_need(&mut self, n: &solocrm_core::need::Need) -> StoreResult<()> {
        self.insert(IdKind::Need, n.id.get(), |c| {
            super::needs::insert_need(c, n)
        })
    }

    fn update_need(&mut self, n: &solocrm_core::need::Need) -> StoreResult<()> {
        self.run(|c| super::needs::update_need(c, n))
    }

    fn insert_participation(
        &mut self,
        p: &solocrm_core::participation::Participation,
    ) -> StoreResult<()> {
        self.run(|c| super::questionnaire::insert_participation(c, p))
    }

    fn update_participation(
        &mut self,
        p: &solocrm_core::participation::Participation,
    ) -> StoreResult<()> {
        self.run(|c| super::questionnaire::update_participation(c, p))
    }

    fn update_survey_sheet(
        &mut self,
        sheet: &solocrm_core::questionnaire::SurveySheet,
    ) -> StoreResult<()> {
        self.run(|c| super::questionnaire::update_survey_sheet(c, sheet))
    }

    fn put_offer(&mut self, offer: &solocrm_core::offer::Offer) -> StoreResult<()> {
        self.run(|c| super::offers::put_offer(c, offer))
    }

    fn put_campaign(&mut self, campaign: &solocrm_core::campaign::Campaign) -> StoreResult<()> {
        self.run(|c| super::campaigns::put_campaign(c, campaign))
    }

    fn put_attribution(
        &mut self,
        attribution: &solocrm_core::campaign::Attribution,
    ) -> StoreResult<()> {
        self.run(|c| super::campaigns::put_attribution(c, attribution))
    }

    fn delete_attribution(
        &mut self,
        subject: solocrm_core::campaign::AttributionSubject,
    ) -> StoreResult<bool> {
        self.run(|c| super::campaigns::delete_attribution(c, subject))
    }

    fn redeem_within_limits(
        &mut self,
        redemption: &solocrm_core::offer::Redemption,
        per_customer: Option<u32>,
        total: Option<u32>,
    ) -> StoreResult<solocrm_core::offer::RedeemOutcome> {
        self.run(|c| super::offers::redeem(c, redemption, per_customer, total))
    }

    fn put_product(&mut self, product: &solocrm_core::product::Product) -> StoreResult<()> {
        self.run(|c| super::products::put_product(c, product))
    }

    fn delete_product(&mut self, sku: &solocrm_core::product::Sku) -> StoreResult<bool> {
        self.run(|c| super::products::delete_product(c, sku))
    }

    fn insert_purchase_lines(
        &mut self,
        purchase: PurchaseId,
        lines: &[solocrm_core::product::PurchaseLine],
    ) -> StoreResult<()> {
        self.run(|c| super::products::insert_purchase_lines(c, purchase, lines))
    }

    fn purge_after_commit(&mut self) -> StoreResult<()> {
        self.purge = true;
        Ok(())
    }
}

/// The statement that gives the largest stored id of `kind`: the last row of the
/// table's B-tree (one seek, whatever the table's size), none if it is empty. The
/// customers' statement names the table (`NOT INDEXED`): its narrow index, which also
/// begins with the id, would answer as fast, but the table is the record of ids.
fn last_id_sql(kind: IdKind) -> &'static str {
    match kind {
        IdKind::Customer => "SELECT id FROM customers NOT INDEXED ORDER BY id DESC LIMIT 1",
        IdKind::Interaction => "SELECT id FROM interactions ORDER BY id DESC LIMIT 1",
        IdKind::Purchase => "SELECT id FROM purchases ORDER BY id DESC LIMIT 1",
        IdKind::Refund => "SELECT id FROM refunds ORDER BY id DESC LIMIT 1",
        IdKind::Survey => "SELECT id FROM surveys ORDER BY id DESC LIMIT 1",
        IdKind::Request => "SELECT id FROM service_requests ORDER BY id DESC LIMIT 1",
        IdKind::Deal => "SELECT id FROM deals ORDER BY id DESC LIMIT 1",
        IdKind::Task => "SELECT id FROM tasks ORDER BY id DESC LIMIT 1",
        IdKind::Points => "SELECT id FROM points_entries ORDER BY id DESC LIMIT 1",
        IdKind::Audit => "SELECT id FROM audit_log ORDER BY id DESC LIMIT 1",
        IdKind::Event => "SELECT seq FROM events ORDER BY seq DESC LIMIT 1",
        IdKind::Cost => "SELECT id FROM costs ORDER BY id DESC LIMIT 1",
        IdKind::Need => "SELECT id FROM needs ORDER BY id DESC LIMIT 1",
    }
}

/// One more than the largest stored id of `kind` (ids are never deleted, so the
/// largest ever stored); 1 for none.
pub(crate) fn next_id(conn: &Connection, kind: IdKind) -> Res<u64> {
    let last = rows::query_one(conn, last_id_sql(kind), [], |row| {
        crate::codec::Cols::new(row, "ids").id(0, |id| id)
    })?;
    Ok(last.map_or(1, |id| id.saturating_add(1)))
}

/// The statement kept in `slot` for the whole transaction, prepared on first use.
fn cached<'s, 'c>(
    slot: &'s mut Option<CachedStatement<'c>>,
    conn: &'c Connection,
    sql: &str,
) -> Res<&'s mut CachedStatement<'c>> {
    match slot {
        Some(stmt) => Ok(stmt),
        None => Ok(slot.insert(conn.prepare_cached(sql)?)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known(balance: i64) -> Known {
        Known {
            stage: LifecycleStage::Prospect,
            erased: false,
            last_change: None,
            balance,
            last_points: 0,
        }
    }

    /// The build's records of its customers answer by id whether the ids are dense
    /// (the vector) or far apart (the map), and an id the vector later grows over is
    /// still found.
    #[test]
    fn the_known_customers_answer_by_id_dense_or_sparse() {
        let mut k = KnownCustomers::default();
        let far = 1_u64 << 40;
        for id in 1..=3 {
            k.insert(id, known(id as i64));
        }
        k.insert(far, known(-1));
        k.insert(70_000, known(7));
        assert_eq!(k.dense.len(), 4, "1..=3 in the vector");
        assert_eq!(k.sparse.len(), 2, "the two far ids in the map");
        // Growing id by id until the vector covers 70,000, leaving 5 out.
        for id in 4..=70_001 {
            if id != 70_000 && id != 5 {
                k.insert(id, known(0));
            }
        }
        assert!(k.get(5).is_none(), "a gap is no customer");
        assert_eq!(k.sparse.len(), 1, "70,000 moved into the vector");
        assert_eq!(k.filled, 70_000);
        assert_eq!(k.get(70_000).map(|v| v.balance), Some(7));
        assert_eq!(k.get(far).map(|v| v.balance), Some(-1));
        assert_eq!(k.get(2).map(|v| v.balance), Some(2));
        assert!(k.get(0).is_none());
        assert!(
            k.get(far - 1).is_none(),
            "an id never inserted is no customer"
        );
        assert!(k.get(far + 1).is_none());
        if let Some(v) = k.get_mut(far) {
            v.balance = 5;
        }
        if let Some(v) = k.get_mut(3) {
            v.erased = true;
        }
        assert_eq!(k.get(far).map(|v| v.balance), Some(5));
        assert_eq!(k.get(3).map(|v| v.erased), Some(true));
    }

    /// Ids that each step just under the growth allowance past the last do not grow
    /// the vector without bound: beyond twice the records held (plus the allowance)
    /// they go to the map, and every one is still found.
    #[test]
    fn spread_ids_keep_the_vector_bounded() {
        let mut k = KnownCustomers::default();
        let step = KnownCustomers::GROWTH - 1;
        for n in 1..=200_u64 {
            k.insert(n * step, known(n as i64));
        }
        let bound = 2 * (k.filled + k.sparse.len()) + KnownCustomers::GROWTH as usize;
        assert!(
            k.dense.len() <= bound,
            "{} slots for 200 records",
            k.dense.len()
        );
        assert!(!k.sparse.is_empty());
        for n in 1..=200_u64 {
            assert_eq!(k.get(n * step).map(|v| v.balance), Some(n as i64));
        }
    }

    /// The look-ups a bulk build of new books answers itself agree with the
    /// database after every kind of write it follows, for stored and missing
    /// customers alike; a rewritten history hands them back to the database.
    #[test]
    fn a_build_of_new_books_answers_its_look_ups_as_the_database_does() {
        use solocrm_core::{
            CustomerData, NewCustomer, NewPointsEntry, PersonName, PointsEntryId, PointsKind,
            StageReason,
        };

        let mut conn = Connection::open_in_memory().expect("a connection");
        crate::schema::migrate(&mut conn, crate::SCHEMA_VERSION, Some("EUR")).expect("schema");
        let at = |s: i64| DateTime::from_timestamp(1_767_225_600 + s, 7).expect("an instant");
        let tx = conn.transaction().expect("a transaction");
        let mut w = Tx::new(&tx, Currency::EUR, Duration::ZERO);
        w.building_new_books();
        let agree = |w: &Tx<'_>, step: &str| {
            for id in (1..=4).map(CustomerId::new) {
                let db = (
                    customers::erased(&tx, id).expect("erased"),
                    customers::stage_of(&tx, id).expect("stage"),
                    customers::last_stage_change_at(&tx, id).expect("last"),
                    loyalty::points_balance(&tx, id).expect("balance"),
                );
                let kept = (
                    w.customer_erased(id).expect("erased"),
                    w.customer_stage(id).expect("stage"),
                    w.last_stage_change_at(id).expect("last"),
                    w.points_balance(id).expect("balance"),
                );
                assert_eq!(
                    format!("{kept:?}"),
                    format!("{db:?}"),
                    "{step}: customer {id}"
                );
            }
        };
        for n in 1_u32..=3 {
            let name = PersonName::parse(&format!("Kunde {n}")).expect("a name");
            let new = NewCustomer::new(CustomerData::new(name), at(i64::from(n)));
            w.insert_customer(&Customer::create(CustomerId::new(u64::from(n)), new))
                .expect("inserted");
        }
        assert!(w.known.is_some());
        agree(&w, "inserted");
        // Points: two entries of one customer, one of another; the balance is the
        // one after the entry of the largest id.
        for (id, customer, kind, points, after) in [
            (1, 1, PointsKind::Earn, 40, 40),
            (2, 2, PointsKind::Earn, 15, 15),
            (3, 1, PointsKind::Redeem, 25, 15),
        ] {
            let new = NewPointsEntry::new(CustomerId::new(customer), at(50 + id), kind, points)
                .expect("an entry");
            w.insert_points(&PointsEntry::new(PointsEntryId::new(id as u64), new, after))
                .expect("posted");
        }
        agree(&w, "points");
        // Consents through the kept insert, for a stored customer.
        let consent = Consent {
            purpose: solocrm_core::Tag::parse("newsletter").expect("a purpose"),
            granted: true,
            at: at(60),
            source: Label::parse("同意书").expect("a source"),
        };
        w.append_consent(CustomerId::new(1), &consent)
            .expect("appended");
        assert_eq!(
            w.customer(CustomerId::new(1))
                .expect("read")
                .expect("stored")
                .consents(),
            std::slice::from_ref(&consent)
        );
        let id = CustomerId::new(2);
        let from = w
            .customer_stage(id)
            .expect("a stage")
            .expect("stored")
            .stage;
        let change = StageChange {
            customer: id,
            from,
            to: LifecycleStage::Active,
            at: at(100),
            reason: StageReason::Manual { note: None },
        };
        w.set_customer_stage(id, LifecycleStage::Active)
            .expect("moved");
        w.push_stage_change(&change).expect("recorded");
        agree(&w, "moved");
        let mut erased = w
            .customer(CustomerId::new(3))
            .expect("read")
            .expect("stored");
        erased.erase(at(200));
        w.update_customer(&erased).expect("erased");
        agree(&w, "erased");
        w.rewrite_stage_history(id, &[]).expect("rewritten");
        assert!(w.known.is_none(), "not followed");
        agree(&w, "rewritten");
    }

    /// Every statement walks the table's primary key backwards and stops at once: no
    /// sort, no index other than the table itself.
    #[test]
    fn next_id_reads_the_last_row_only() {
        let mut conn = Connection::open_in_memory().expect("a connection");
        crate::schema::migrate(&mut conn, crate::SCHEMA_VERSION, Some("EUR")).expect("schema");
        for kind in IdKind::ALL {
            let sql = last_id_sql(kind);
            let plan: String = conn
                .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
                .and_then(|mut s| {
                    s.query_map([], |r| r.get::<_, String>(3))?
                        .collect::<rusqlite::Result<Vec<_>>>()
                })
                .expect("a plan")
                .join("\n");
            assert!(
                !plan.contains("TEMP B-TREE") && !plan.contains("INDEX"),
                "{kind:?}: {sql}\n{plan}"
            );
            assert_eq!(next_id(&conn, kind).expect("an id"), 1, "{kind:?}");
        }
    }
}
