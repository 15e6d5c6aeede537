//! The read operations: look-ups that report a missing record as
//! [`StoreError::NotFound`], lists, segment filtering and the privacy export.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::Reader;
use crate::cost::Cost;
use crate::customer::Customer;
use crate::deal::Deal;
use crate::event::{Event, EventSeq};
use crate::ids::{
    CostId, CustomerId, DealId, InteractionId, PurchaseId, RequestId, SurveyId, TaskId,
};
use crate::interaction::Interaction;
use crate::lifecycle::StageChange;
use crate::loyalty::{PointsEntry, PointsTiers};
use crate::port::CustomerFilter;
use crate::privacy::{AuditEntry, CustomerExport};
use crate::purchase::{Purchase, PurchaseLog, Refund};
use crate::search::SearchText;
use crate::segment::{Facts, Predicate, PurchaseSummary, Segment, SegmentRow};
use crate::service::ServiceRequest;
use crate::store::{
    ActivityQuery, CustomerKeys, CustomerQuery, Entity, MAX_PAGE_SIZE, OpenQuery, Page,
    SegmentFilter, StoreError, StoreResult, TaskQuery,
};
use crate::survey::SurveyResponse;
use crate::task::Task;
use crate::text::{Email, ExternalRef, Label, Tag};

/// How many candidates a segment walk reads at a time.
const SEGMENT_CHUNK: u32 = 512;

impl<'t> Reader<'t> {
    /// The customer with this id.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`].
    pub fn customer(&self, id: CustomerId) -> StoreResult<Customer> {
        self.tx
            .customer(id)?
            .ok_or_else(|| StoreError::not_found(Entity::Customer, id))
    }

    /// The customer with this email (compared by [`Email::key`]).
    ///
    /// # Errors
    ///
    /// Only the backend's.
    pub fn customer_by_email(&self, email: &Email) -> StoreResult<Option<Customer>> {
        match self.tx.customer_by_email(email)? {
            Some(id) => self.tx.customer(id),
            None => Ok(None),
        }
    }

    /// The customer with this external reference.
    ///
    /// # Errors
    ///
    /// Only the backend's.
    pub fn customer_by_external_ref(
        &self,
        reference: &ExternalRef,
    ) -> StoreResult<Option<Customer>> {
        match self.tx.customer_by_external_ref(reference)? {
            Some(id) => self.tx.customer(id),
            None => Ok(None),
        }
    }

    /// The keys of every customer (erased ones included), by id.
    ///
    /// # Errors
    ///
    /// Only the backend's.
    pub fn customer_keys(&self) -> StoreResult<Vec<CustomerKeys>> {
        self.tx.customer_keys()
    }

    /// Calls `f` with the keys of every customer (erased ones included), by id, one at
    /// a time (see
    /// [`ReadTx::for_each_customer_key`](crate::port::ReadTx::for_each_customer_key)):
    /// for a reader that keeps only part of each.
    ///
    /// # Errors
    ///
    /// The backend's, or the first error `f` returns.
    pub fn for_each_customer_key(
        &self,
        mut f: impl FnMut(CustomerKeys) -> StoreResult<()>,
    ) -> StoreResult<()> {
        self.tx.for_each_customer_key(&mut f)
    }

    /// One page of customers: see [`CustomerQuery`].
    ///
    /// # Errors
    ///
    /// [`StoreError::Validation`] for a page size out of range.
    pub fn list_customers(&self, query: &CustomerQuery) -> StoreResult<Page<Customer>> {
        query.validate()?;
        self.customer_page(query, &mut Summaries::OneByOne { asked: 0 })
    }

    /// A page of `query` with its segment's purchase facts from `summaries`.
    fn customer_page(
        &self,
        query: &CustomerQuery,
        summaries: &mut Summaries,
    ) -> StoreResult<Page<Customer>> {
        let limit = usize::try_from(query.limit).unwrap_or(usize::MAX);
        let filter = CustomerFilter {
            stage: query.stage,
            tag: query.tag.clone(),
            include_erased: query.include_erased,
        };
        let Some(segment) = &query.segment else {
            let mut items =
                self.tx
                    .customers(&filter, query.after, query.limit.saturating_add(1))?;
            let more = items.len() > limit;
            items.truncate(limit);
            return Ok(page(items, more));
        };
        // A segment needs each candidate's purchases: walk the candidates in chunks
        // until one more than a page matches.
        let needs = segment.predicate.needs_purchases();
        let extras = PredicateExtras::read(self, &segment.predicate)?;
        let zone = self.time_zone()?;
        let none = PurchaseSummary::none(self.currency());
        let mut after = query.after;
        let mut items = Vec::new();
        loop {
            if needs {
                summaries.settle(self, segment.as_of)?;
            }
            let candidates = self.tx.customers(&filter, after, SEGMENT_CHUNK)?;
            let exhausted = candidates.len() < SEGMENT_CHUNK as usize;
            for c in candidates {
                after = Some(c.id());
                let summary = if needs {
                    summaries.of(self, c.id(), segment.as_of)?
                } else {
                    none
                };
                let (tier, needs) = extras.of(self, c.id())?;
                let facts = Facts {
                    purchases: &summary,
                    tier: tier.as_ref(),
                    needs: &needs,
                };
                if !segment.predicate.matches(&c, &facts, segment.as_of, zone) {
                    continue;
                }
                if items.len() == limit {
                    return Ok(page(items, true));
                }
                items.push(c);
            }
            if exhausted {
                return Ok(page(items, false));
            }
        }
    }

    /// Every customer who is not erased, by id.
    ///
    /// # Errors
    ///
    /// Only the backend's.
    pub fn all_customers(&self) -> StoreResult<Vec<Customer>> {
        self.all_matching(&CustomerQuery::default())
    }

    /// Every customer matching `query`'s filters from `query.after` on, by id (the
    /// page size is ignored).
    ///
    /// # Errors
    ///
    /// Only the backend's.
    pub fn all_matching(&self, query: &CustomerQuery) -> StoreResult<Vec<Customer>> {
        let mut query = CustomerQuery {
            limit: MAX_PAGE_SIZE,
            ..query.clone()
        };
        query.validate()?;
        // Every candidate is looked at: a segment's purchase facts are read at once.
        let mut summaries = match &query.segment {
            Some(s) if s.predicate.needs_purchases() => Summaries::load(self, s.as_of)?,
            _ => Summaries::OneByOne { asked: 0 },
        };
        let mut out = Vec::new();
        loop {
            let page = self.customer_page(&query, &mut summaries)?;
            out.extend(page.items);
            match page.next {
                Some(next) => query.after = Some(next),
                None => return Ok(out),
            }
        }
    }

    /// The customers who are not erased and belong to `segment`, by id, as the narrow
    /// rows its predicate is evaluated over ([`SegmentRow`], holding the
    /// [`fields`](crate::Predicate::fields) the predicate names): the same customers,
    /// in the same order, as [`all_matching`](Reader::all_matching) with this segment,
    /// without reading each customer whole.
    ///
    /// # Errors
    ///
    /// Only the backend's.
    pub fn segment_members(&self, segment: &SegmentFilter) -> StoreResult<Vec<SegmentRow>> {
        let predicate = &segment.predicate;
        let rows = self
            .tx
            .segment_rows(&CustomerFilter::default(), predicate.fields())?;
        // Both by ascending id: the summaries are walked beside the rows.
        let summaries = if predicate.needs_purchases() {
            self.tx.purchase_summaries(segment.as_of)?
        } else {
            Vec::new()
        };
        let mut summaries = summaries.into_iter().peekable();
        let extras = PredicateExtras::read(self, predicate)?;
        let zone = self.time_zone()?;
        let none = PurchaseSummary::none(self.currency());
        let mut out = Vec::new();
        for row in rows {
            while summaries.next_if(|(id, _)| *id < row.id).is_some() {}
            let summary = summaries
                .next_if(|(id, _)| *id == row.id)
                .map_or(none, |(_, s)| s);
            let (tier, needs) = extras.of(self, row.id)?;
            let facts = Facts {
                purchases: &summary,
                tier: tier.as_ref(),
                needs: &needs,
            };
            if predicate.matches_row(&row, &facts, segment.as_of, zone) {
                out.push(row);
            }
        }
        Ok(out)
    }

    /// How many customers there are, erased ones included.
    ///
    /// # Errors
    ///
    /// Only the backend's.
    pub fn count_customers(&self) -> StoreResult<u64> {
        self.tx.count_customers()
    }

    /// A customer's stage changes, oldest first.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`] for an unknown customer.
    pub fn stage_history(&self, id: CustomerId) -> StoreResult<Vec<StageChange>> {
        self.customer(id)?;
        self.tx.stage_history(id)
    }

    /// The interactions matching `query`, by time then id.
    ///
    /// # Errors
    ///
    /// Only the backend's.
    pub fn interactions(&self, query: &ActivityQuery) -> StoreResult<Vec<Interaction>> {
        self.tx.interactions(query)
    }

    /// The interaction with this id, voided or not.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`].
    pub fn interaction(&self, id: InteractionId) -> StoreResult<Interaction> {
        self.tx
            .interaction(id)?
            .ok_or_else(|| StoreError::not_found(Entity::Interaction, id))
    }

    /// The survey answer with this id, voided or not.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`].
    pub fn survey(&self, id: SurveyId) -> StoreResult<SurveyResponse> {
        self.tx
            .survey(id)?
            .ok_or_else(|| StoreError::not_found(Entity::Survey, id))
    }

    /// The refunds of one purchase, by id.
    ///
    /// # Errors
    ///
    /// Only the backend's.
    pub fn refunds_of(&self, purchase: PurchaseId) -> StoreResult<Vec<Refund>> {
        self.tx.refunds_of(purchase)
    }

    /// The purchase with this id, voided or not.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`].
    pub fn purchase(&self, id: PurchaseId) -> StoreResult<Purchase> {
        self.tx
            .purchase(id)?
            .ok_or_else(|| StoreError::not_found(Entity::Purchase, id))
    }

    /// The purchases matching `query`, by time then id.
    ///
    /// # Errors
    ///
    /// Only the backend's.
    pub fn purchases(&self, query: &ActivityQuery) -> StoreResult<Vec<Purchase>> {
        self.tx.purchases(query)
    }

    /// Calls `f` with each purchase matching `query`, by time then id, one at a time
    /// (see [`ReadTx::for_each_purchase`](crate::port::ReadTx::for_each_purchase)):
    /// for a reader that writes each out and need not keep them.
    ///
    /// # Errors
    ///
    /// The backend's, or the first error `f` returns.
    pub fn for_each_purchase(
        &self,
        query: &ActivityQuery,
        mut f: impl FnMut(Purchase) -> StoreResult<()>,
    ) -> StoreResult<()> {
        self.tx.for_each_purchase(query, &mut f)
    }

    /// Every purchase of one customer, by time then id.
    ///
    /// # Errors
    ///
    /// Only the backend's.
    pub fn purchases_of(&self, customer: CustomerId) -> StoreResult<Vec<Purchase>> {
        self.tx.purchases(&ActivityQuery::customer(customer))
    }

    /// Count, sum and first and last time of a customer's purchases up to `as_of`.
    ///
    /// # Errors
    ///
    /// Only the backend's.
    pub fn purchase_summary(
        &self,
        customer: CustomerId,
        as_of: DateTime<Utc>,
    ) -> StoreResult<PurchaseSummary> {
        self.tx.purchase_summary(customer, as_of)
    }

    /// Count, exact sum and first and last time of the purchases at or before `as_of`
    /// of every customer who has one (erased ones included), by ascending customer id:
    /// see [`ReadTx::purchase_summaries`](crate::port::ReadTx::purchase_summaries),
    /// which a backend answers from what it keeps per customer.
    ///
    /// # Errors
    ///
    /// Only the backend's.
    pub fn purchase_summaries(
        &self,
        as_of: DateTime<Utc>,
    ) -> StoreResult<Vec<(CustomerId, PurchaseSummary)>> {
        self.tx.purchase_summaries(as_of)
    }

    /// Every purchase in columnar form.
    ///
    /// # Errors
    ///
    /// Only the backend's.
    pub fn purchase_log(&self) -> StoreResult<PurchaseLog> {
        Ok(self.tx.purchase_log()?.in_zone(self.tx.time_zone()?))
    }

    /// [`purchase_log`](Self::purchase_log) with its rows grouped by customer (see
    /// [`ReadTx::purchase_log_by_customer`](crate::port::ReadTx::purchase_log_by_customer)):
    /// for a fold of each customer's purchases apart, where the order of the rows
    /// does not matter.
    ///
    /// # Errors
    ///
    /// Only the backend's.
    pub fn purchase_log_by_customer(&self) -> StoreResult<PurchaseLog> {
        Ok(self
            .tx
            .purchase_log_by_customer()?
            .in_zone(self.tx.time_zone()?))
    }

    /// The business time zone the books count their days in.
    ///
    /// # Errors
    ///
    /// Only the backend's.
    pub fn time_zone(&self) -> StoreResult<crate::zone::BusinessZone> {
        self.tx.time_zone()
    }

    /// The refunds matching `query`, by time then id.
    ///
    /// # Errors
    ///
    /// Only the backend's.
    pub fn refunds(&self, query: &ActivityQuery) -> StoreResult<Vec<Refund>> {
        self.tx.refunds(query)
    }

    /// The survey answers matching `query`, by time then id.
    ///
    /// # Errors
    ///
    /// Only the backend's.
    pub fn surveys(&self, query: &ActivityQuery) -> StoreResult<Vec<SurveyResponse>> {
        self.tx.surveys(query)
    }

    /// The service request with this id.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`].
    pub fn request(&self, id: RequestId) -> StoreResult<ServiceRequest> {
        self.tx
            .request(id)?
            .ok_or_else(|| StoreError::not_found(Entity::Request, id))
    }

    /// The service requests matching `query`, by id.
    ///
    /// # Errors
    ///
    /// Only the backend's.
    pub fn requests(&self, query: &OpenQuery) -> StoreResult<Vec<ServiceRequest>> {
        self.tx.requests(query)
    }

    /// The deal with this id.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`].
    pub fn deal(&self, id: DealId) -> StoreResult<Deal> {
        self.tx
            .deal(id)?
            .ok_or_else(|| StoreError::not_found(Entity::Deal, id))
    }

    /// The deals matching `query`, by id.
    ///
    /// # Errors
    ///
    /// Only the backend's.
    pub fn deals(&self, query: &OpenQuery) -> StoreResult<Vec<Deal>> {
        self.tx.deals(query)
    }

    /// The task with this id.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`].
    pub fn task(&self, id: TaskId) -> StoreResult<Task> {
        self.tx
            .task(id)?
            .ok_or_else(|| StoreError::not_found(Entity::Task, id))
    }

    /// The tasks matching `query`, by due date then id.
    ///
    /// # Errors
    ///
    /// Only the backend's.
    pub fn tasks(&self, query: &TaskQuery) -> StoreResult<Vec<Task>> {
        self.tx.tasks(query)
    }

    /// A customer's points balance.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`] for an unknown customer.
    pub fn points_balance(&self, customer: CustomerId) -> StoreResult<i64> {
        self.customer(customer)?;
        self.tx.points_balance(customer)
    }

    /// A customer's points ledger, by id.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`] for an unknown customer.
    pub fn points_ledger(&self, customer: CustomerId) -> StoreResult<Vec<PointsEntry>> {
        self.customer(customer)?;
        self.tx.points_ledger(customer)
    }

    /// The tiers of the points program, lowest first.
    ///
    /// # Errors
    ///
    /// The backend's ([`StoreError::Backend`] for stored tiers that break the rules).
    pub fn points_tiers(&self) -> StoreResult<PointsTiers> {
        PointsTiers::new(self.tx.points_tiers()?).map_err(StoreError::backend)
    }

    /// The books' points validity; `None`: points never expire.
    ///
    /// # Errors
    ///
    /// Only the backend's.
    pub fn points_expiry(&self) -> StoreResult<Option<crate::loyalty::PointsExpiry>> {
        self.tx.points_expiry()
    }

    /// A customer's open points lots, oldest first, with their lapse days under the
    /// books' validity ([`open_lots`](crate::loyalty::open_lots)).
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`] for an unknown customer.
    pub fn points_lots(&self, customer: CustomerId) -> StoreResult<Vec<crate::loyalty::PointsLot>> {
        let ledger = self.points_ledger(customer)?;
        let expiry = self.tx.points_expiry()?;
        Ok(crate::loyalty::open_lots(
            &ledger,
            self.tx.time_zone()?,
            expiry.as_ref(),
        ))
    }

    /// The book's holiday calendar: chosen presets and the founder's own holidays.
    ///
    /// # Errors
    ///
    /// Only the backend's.
    pub fn holiday_calendar(&self) -> StoreResult<crate::holiday::HolidayCalendar> {
        self.tx.holiday_calendar()
    }

    /// Every sales target, by period then metric.
    ///
    /// # Errors
    ///
    /// Only the backend's.
    pub fn targets(&self) -> StoreResult<Vec<crate::target::Target>> {
        self.tx.targets()
    }

    /// A customer's tier under `tiers`, by their lifetime points
    /// ([`lifetime_points`](crate::lifetime_points)); `None` below the lowest tier.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`] for an unknown customer.
    pub fn tier_of(&self, customer: CustomerId, tiers: &PointsTiers) -> StoreResult<Option<Tag>> {
        if tiers.is_empty() {
            self.customer(customer)?;
            return Ok(None);
        }
        let ledger = self.points_ledger(customer)?;
        Ok(tiers
            .tier_for(crate::loyalty::lifetime_points(&ledger))
            .map(|t| t.name.clone()))
    }

    /// The segment with this name.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`].
    pub fn segment(&self, name: &Label) -> StoreResult<Segment> {
        self.tx
            .segment(name)?
            .ok_or_else(|| StoreError::not_found(Entity::Segment, name))
    }

    /// Every segment, by name.
    ///
    /// # Errors
    ///
    /// Only the backend's.
    pub fn segments(&self) -> StoreResult<Vec<Segment>> {
        self.tx.segments()
    }

    /// Everything stored about one customer, for a data-access request.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`] for an unknown customer.
    pub fn export_customer(&self, id: CustomerId) -> StoreResult<CustomerExport> {
        let customer = self.customer(id)?;
        // Everything stored: voided records too, with their markers.
        let of = ActivityQuery::customer(id).with_voided();
        let by_customer = OpenQuery {
            customer: Some(id),
            open_only: false,
        };
        Ok(CustomerExport {
            stage_history: self.tx.stage_history(id)?,
            interactions: self.tx.interactions(&of)?,
            purchases: self.tx.purchases(&of)?,
            refunds: self.tx.refunds(&of)?,
            surveys: self.tx.surveys(&of)?,
            requests: self.tx.requests(&by_customer)?,
            deals: self.tx.deals(&by_customer)?,
            tasks: self.tx.tasks(&TaskQuery {
                customer: Some(id),
                due_until: None,
                include_done: true,
            })?,
            points: self.tx.points_ledger(id)?,
            survey_sheets: self.tx.survey_sheets(Some(id))?,
            participations: self.tx.participations(Some(id))?,
            needs: self.tx.needs(Some(id))?,
            campaign: self
                .tx
                .attribution(crate::campaign::AttributionSubject::Customer(id))?,
            redemptions: self
                .tx
                .redemptions(None)?
                .into_iter()
                .filter(|r| r.customer == id)
                .collect(),
            customer,
        })
    }

    /// The customers matching `text`, ranked (see [`crate::search`]): up to `limit`
    /// of them (all with `None`) and how many matched in all. Erased customers never
    /// match.
    ///
    /// # Errors
    ///
    /// Only the backend's.
    pub fn search_customers(
        &self,
        text: &SearchText,
        limit: Option<usize>,
    ) -> StoreResult<(Vec<Customer>, usize)> {
        // Rank the hits on their names alone, sort only those that can reach the
        // page, and decode only the customers returned (ADR 0042, ADR 0053).
        let (ranked, total) =
            crate::search::rank_matches(text, self.tx.search_matches(text)?, limit);
        let mut page = Vec::with_capacity(ranked.len());
        for id in ranked {
            let c = self
                .tx
                .customer(id)?
                .ok_or_else(|| StoreError::not_found(Entity::Customer, id))?;
            page.push(c);
        }
        Ok((page, total))
    }

    /// Every customer's searchable text, folded once, for searches answered in memory
    /// ([`SearchIndex::search`](crate::search::SearchIndex::search) gives what
    /// [`search_customers`](Reader::search_customers) gives). A caller keeps it only
    /// while the books do not change, and drops it after an erasure.
    ///
    /// # Errors
    ///
    /// Only the backend's.
    pub fn search_index(&self) -> StoreResult<crate::search::SearchIndex> {
        Ok(crate::search::SearchIndex::new(
            self.tx.all_search_fields()?,
        ))
    }

    /// The cost with this id.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`].
    pub fn cost(&self, id: CostId) -> StoreResult<Cost> {
        self.tx
            .cost(id)?
            .ok_or_else(|| StoreError::not_found(Entity::Cost, id))
    }

    /// Every cost, voided ones included, by time then id.
    ///
    /// # Errors
    ///
    /// Only the backend's.
    pub fn costs(&self) -> StoreResult<Vec<Cost>> {
        self.tx.costs()
    }

    /// The audit log, oldest first.
    ///
    /// # Errors
    ///
    /// Only the backend's.
    pub fn audit_log(&self) -> StoreResult<Vec<AuditEntry>> {
        self.tx.audit_log()
    }

    /// Up to `limit` events of the outbox after the cursor `after` (0 for the start),
    /// in order. The cursor of the next call is the last event's
    /// [`seq`](Event::seq).
    ///
    /// # Errors
    ///
    /// Only the backend's.
    pub fn events(&self, after: EventSeq, limit: u32) -> StoreResult<Vec<Event>> {
        self.tx.events(after, limit)
    }
}

fn page(items: Vec<Customer>, more: bool) -> Page<Customer> {
    let next = if more {
        items.last().map(Customer::id)
    } else {
        None
    };
    Page { items, next }
}

/// Where a segment walk gets each candidate's [`PurchaseSummary`]: one read per
/// candidate while few have been asked for (a page of a dense segment), then, once a
/// walk has asked for [`SUMMARIES_AT_ONCE_AFTER`], every customer's at once
/// ([`ReadTx::purchase_summaries`](crate::port::ReadTx::purchase_summaries)), as a walk
/// over the whole book does from the start.
enum Summaries {
    /// One read per candidate; `asked` so far.
    OneByOne { asked: usize },
    /// Every customer's summary with a purchase, read at once.
    AtOnce(HashMap<CustomerId, PurchaseSummary>),
}

/// How many candidates' summaries a walk reads one by one before it reads them all at
/// once: one read takes about a hundred-thousandth of the time of all of them at
/// 100 k customers and 1 M purchases, so a sparse segment's page switches early.
const SUMMARIES_AT_ONCE_AFTER: usize = 2 * SEGMENT_CHUNK as usize;

impl Summaries {
    /// Every customer's summary at `as_of`.
    fn load(r: &Reader<'_>, as_of: DateTime<Utc>) -> StoreResult<Self> {
        Ok(Summaries::AtOnce(
            r.tx.purchase_summaries(as_of)?.into_iter().collect(),
        ))
    }

    /// Switches to reading them all once enough were read one by one.
    fn settle(&mut self, r: &Reader<'_>, as_of: DateTime<Utc>) -> StoreResult<()> {
        if let Summaries::OneByOne { asked } = self
            && *asked >= SUMMARIES_AT_ONCE_AFTER
        {
            *self = Summaries::load(r, as_of)?;
        }
        Ok(())
    }

    /// The summary of `customer`'s purchases up to `as_of`.
    fn of(
        &mut self,
        r: &Reader<'_>,
        customer: CustomerId,
        as_of: DateTime<Utc>,
    ) -> StoreResult<PurchaseSummary> {
        match self {
            Summaries::OneByOne { asked } => {
                *asked += 1;
                r.tx.purchase_summary(customer, as_of)
            }
            Summaries::AtOnce(all) => Ok(all
                .get(&customer)
                .copied()
                .unwrap_or_else(|| PurchaseSummary::none(r.currency()))),
        }
    }
}

/// What a segment predicate may read of a customer beside their record and purchases
/// ([`Facts`]): the points tiers, read once when the predicate names a tier, and
/// whether it reads need entries.
pub(super) struct PredicateExtras {
    tiers: Option<PointsTiers>,
    needs: bool,
}

impl PredicateExtras {
    /// What `predicate` reads, with the tiers if it needs them.
    pub(super) fn read(r: &Reader<'_>, predicate: &Predicate) -> StoreResult<Self> {
        Ok(PredicateExtras {
            tiers: if predicate.needs_tier() {
                Some(r.points_tiers()?)
            } else {
                None
            },
            needs: predicate.needs_need_entries(),
        })
    }

    /// The customer's tier and needs, each empty unless the predicate reads it.
    pub(super) fn of(
        &self,
        r: &Reader<'_>,
        customer: CustomerId,
    ) -> StoreResult<(Option<Tag>, Vec<crate::need::Need>)> {
        let tier = match &self.tiers {
            Some(tiers) => r.tier_of(customer, tiers)?,
            None => None,
        };
        let needs = if self.needs {
            r.tx.needs(Some(customer))?
        } else {
            Vec::new()
        };
        Ok((tier, needs))
    }
}
