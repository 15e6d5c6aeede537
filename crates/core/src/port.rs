//! The storage port: read and write transactions over thin per-record storage.
//!
//! A backend implements [`Storage`] (opening transactions) and the two transaction
//! traits [`ReadTx`] and [`WriteTx`] (getting, listing, inserting and updating records).
//! It holds **no business rule**: whether a refund is allowed, a balance may go
//! negative or an erased customer may get a new record is decided once, by the
//! operations layer ([`crate::ops`]), which every frontend reaches through [`Crm`].
//! A backend stores what it is given and reads back exactly what it stored.
//!
//! # Contract
//!
//! - **Transactions.** [`Storage::read`] runs its closure over one consistent
//!   snapshot: nothing committed while it runs is visible to it. [`Storage::write`]
//!   runs its closure in one serialisable transaction and commits only if the closure
//!   returns `Ok`; an `Err` (or a panic) leaves the store as it was. Writes are
//!   serialised (one at a time per store); reads never wait for a writer.
//! - **Retries.** A backend may run a write closure again after a retryable failure
//!   ([`StoreError::is_retryable`]) that happened before it committed; it reports the
//!   failure when its retries run out. Closures must therefore be repeatable (the
//!   operations layer's are).
//! - **Stored exactly.** Every record reads back equal to what was written, instants
//!   to the nanosecond and money in its stored form.
//! - **Ordered.** Lists come in the order each method documents, so two backends
//!   holding the same records give the same answers (the differential test checks
//!   this).
//! - **Ids.** [`WriteTx::next_id`] is one more than the largest id of that kind ever
//!   stored (1 in an empty store); the operations layer assigns ids from it.
//! - **Uniqueness** of a customer's email key and external reference, of a purchase's
//!   external reference and of a segment's name may be enforced by an index; the
//!   operations layer checks first and reports the clash by name, so an index that
//!   fires anyway is a [`StoreError::Backend`] error.
//!
//! [`Crm`]: crate::ops::Crm
//! [`StoreError::is_retryable`]: crate::StoreError::is_retryable
//! [`StoreError::Backend`]: crate::StoreError::Backend

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::automation::{AutomationCursor, Firing, Occurrence, RuleName, RuleRecord};
use crate::cost::Cost;
use crate::customer::{Consent, Customer};
use crate::deal::Deal;
use crate::event::{Event, EventSeq};
use crate::holiday::{HolidayCalendar, HolidayDef, Preset};
use crate::ids::{
    CostId, CustomerId, DealId, InteractionId, PurchaseId, RequestId, SurveyId, TaskId,
};
use crate::interaction::Interaction;
use crate::lifecycle::{LifecycleStage, StageChange};
use crate::loyalty::{PointsEntry, PointsExpiry, PointsLot, PointsTier, open_lots};
use crate::money::Currency;
use crate::offer::{Offer, OfferCode, RedeemOutcome, Redemption};
use crate::privacy::AuditEntry;
use crate::product::{Product, PurchaseLine, Sku};
use crate::purchase::{Purchase, PurchaseLog, Refund};
use crate::questionnaire::{SurveySheet, SurveyTemplate};
use crate::search::{SearchFields, SearchMatch, SearchText};
use crate::segment::{PurchaseSummary, Segment, SegmentFields, SegmentRow};
use crate::service::ServiceRequest;
use crate::store::{ActivityQuery, CustomerKeys, OpenQuery, StoreResult, TaskQuery};
use crate::survey::SurveyResponse;
use crate::task::Task;
use crate::text::{Email, ExternalRef, Label, Tag};
use crate::zone::BusinessZone;

/// The kinds of record that get their ids from [`WriteTx::next_id`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IdKind {
    /// [`Customer`]s.
    Customer,
    /// [`Interaction`]s.
    Interaction,
    /// [`Purchase`]s.
    Purchase,
    /// [`Refund`]s.
    Refund,
    /// [`SurveyResponse`]s.
    Survey,
    /// [`ServiceRequest`]s.
    Request,
    /// [`Deal`]s.
    Deal,
    /// [`Task`]s.
    Task,
    /// [`PointsEntry`]s.
    Points,
    /// [`AuditEntry`]s.
    Audit,
    /// [`Event`]s (their [`EventSeq`]).
    Event,
    /// [`Cost`]s.
    Cost,
    /// [`Need`](crate::need::Need)s (needs and pain points).
    Need,
}

impl IdKind {
    /// Every kind, in declaration order.
    pub const ALL: [IdKind; 13] = [
        IdKind::Customer,
        IdKind::Interaction,
        IdKind::Purchase,
        IdKind::Refund,
        IdKind::Survey,
        IdKind::Request,
        IdKind::Deal,
        IdKind::Task,
        IdKind::Points,
        IdKind::Audit,
        IdKind::Event,
        IdKind::Cost,
        IdKind::Need,
    ];
}

/// Which customers [`ReadTx::customers`] lists: the filters a backend applies itself
/// (a segment is evaluated by the operations layer over these).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerFilter {
    /// Only customers in this stage.
    pub stage: Option<LifecycleStage>,
    /// Only customers with this tag.
    pub tag: Option<Tag>,
    /// Include erased customers.
    pub include_erased: bool,
}

impl CustomerFilter {
    /// True if `c` passes the filter: what a backend without an index would check.
    pub fn admits(&self, c: &Customer) -> bool {
        (self.include_erased || !c.is_erased())
            && self.stage.is_none_or(|s| c.stage() == s)
            && self.tag.as_ref().is_none_or(|t| c.tags().contains(t))
    }
}

/// What the time rules of automation read of a customer (the answer of
/// [`ReadTx::customer_dates`]): the creation instant, where a silence without any
/// contact starts, and the birthday. Far lighter than a whole [`Customer`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CustomerDates {
    /// The customer.
    pub id: CustomerId,
    /// When they were created.
    pub created_at: DateTime<Utc>,
    /// Their birthday, if known.
    pub birthday: Option<NaiveDate>,
}

pub use crate::metrics::ReportCustomer;
pub use crate::metrics::{ReportInteraction, ReportPurchase, ReportPurchases};

/// One customer's contacts around a range of time (the answer of
/// [`ReadTx::contact_times`]). A contact is a purchase or an interaction that is not
/// voided; its instant is given to the whole second, rounded down (a business day
/// starts on a whole second, so the day it falls on is exact).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactTimes {
    /// The customer.
    pub customer: CustomerId,
    /// The latest contact before the range, if any.
    pub last_before: Option<DateTime<Utc>>,
    /// The contacts within the range, ascending, repeats kept.
    pub within: Vec<DateTime<Utc>>,
}

/// An instant rounded down to the whole second, as [`ContactTimes`] gives it.
pub fn whole_second(at: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp(at.timestamp(), 0).unwrap_or(at)
}

/// [`ReadTx::contact_times`] from the whole records of `tx`: every purchase and
/// interaction, read and folded (the trait's default, and the answer of a view that
/// cannot ask the store underneath directly).
///
/// # Errors
///
/// The backend's.
pub fn contact_times_from_records<T: ReadTx + ?Sized>(
    tx: &T,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
) -> StoreResult<Vec<ContactTimes>> {
    let mut by: std::collections::BTreeMap<CustomerId, ContactTimes> =
        std::collections::BTreeMap::new();
    let purchases = tx.purchases(&ActivityQuery::ALL)?;
    let interactions = tx.interactions(&ActivityQuery::ALL)?;
    let all = purchases
        .iter()
        .map(|p| (p.customer(), p.at()))
        .chain(interactions.iter().map(|i| (i.customer(), i.at())));
    for (customer, at) in all {
        let at = whole_second(at);
        if at >= whole_second(until) {
            continue;
        }
        let entry = by.entry(customer).or_insert_with(|| ContactTimes {
            customer,
            last_before: None,
            within: Vec::new(),
        });
        if at < whole_second(from) {
            entry.last_before = entry.last_before.max(Some(at));
        } else {
            entry.within.push(at);
        }
    }
    Ok(by
        .into_values()
        .map(|mut c| {
            c.within.sort_unstable();
            c
        })
        .collect())
}

/// A customer's stage and erasure: what [`ReadTx::customer_stage`] answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CustomerStage {
    /// The current lifecycle stage.
    pub stage: LifecycleStage,
    /// True if the customer is erased.
    pub erased: bool,
}

/// [`WriteTx::set_customer_stage`] named a customer that is not stored.
#[derive(Debug)]
struct MissingCustomer(CustomerId);

impl std::fmt::Display for MissingCustomer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "customer {} to update is not stored", self.0)
    }
}

impl std::error::Error for MissingCustomer {}

/// Reads within one snapshot. Every method returns
/// [`StoreError::Backend`](crate::StoreError::Backend) if the backend fails (I/O, a
/// corrupt row) and nothing else: a missing record is `None` or an empty list.
pub trait ReadTx {
    /// The currency the books are kept in.
    fn base_currency(&self) -> Currency;
    /// The business time zone the books count their days in ([`BusinessZone::UTC`]
    /// for books created before zones existed).
    fn time_zone(&self) -> StoreResult<BusinessZone>;

    /// The customer with this id.
    fn customer(&self, id: CustomerId) -> StoreResult<Option<Customer>>;
    /// Whether the customer with this id is erased; `None` if there is no such
    /// customer. What a check of many records against their customer needs, without
    /// reading each customer whole (a backend may answer it from one column).
    fn customer_erased(&self, id: CustomerId) -> StoreResult<Option<bool>> {
        Ok(self.customer(id)?.map(|c| c.is_erased()))
    }
    /// The id of the customer whose email has this [key](Email::key).
    fn customer_by_email(&self, email: &Email) -> StoreResult<Option<CustomerId>>;
    /// The id of the customer with this external reference.
    fn customer_by_external_ref(&self, reference: &ExternalRef) -> StoreResult<Option<CustomerId>>;
    /// The keys of every customer, erased ones included, by ascending id.
    fn customer_keys(&self) -> StoreResult<Vec<CustomerKeys>>;
    /// Calls `f` with the keys of every customer, erased ones included, by ascending
    /// id, one at a time, stopping at the first error `f` returns: what
    /// [`customer_keys`](ReadTx::customer_keys) lists, for a reader that keeps only
    /// part of each (an export's table of keys) and need not hold them all at once.
    /// The default lists them first; a backend streams them from its table.
    fn for_each_customer_key(
        &self,
        f: &mut dyn FnMut(CustomerKeys) -> StoreResult<()>,
    ) -> StoreResult<()> {
        self.customer_keys()?.into_iter().try_for_each(f)
    }
    /// Up to `limit` customers passing `filter` with ids above `after`, by ascending id.
    fn customers(
        &self,
        filter: &CustomerFilter,
        after: Option<CustomerId>,
        limit: u32,
    ) -> StoreResult<Vec<Customer>>;
    /// How many customers there are, erased ones included.
    fn count_customers(&self) -> StoreResult<u64>;
    /// The ids of the customers that may match `text`, by ascending id: every customer
    /// who is not erased and [matches](SearchText::matches) it, and possibly others
    /// (an index may over-approximate; the operations layer checks each candidate
    /// and ranks the hits, see [`crate::search`]). Never an erased customer's id
    /// because of their former data: erasure leaves nothing a search could find.
    fn search_customers(&self, text: &SearchText) -> StoreResult<Vec<CustomerId>>;
    /// The searchable text of the customers that may match `text`, by ascending id:
    /// the same candidates as [`search_customers`](ReadTx::search_customers) (every
    /// customer who is not erased and matches, possibly others), each with their name,
    /// email, company, city and notes as stored, so the operations layer can check and
    /// rank them all and decode only the page it shows. Never an erased customer. The
    /// default reads each candidate; a backend reads the text columns alone.
    fn search_fields(&self, text: &SearchText) -> StoreResult<Vec<SearchFields>> {
        let mut out = Vec::new();
        for id in self.search_customers(text)? {
            if let Some(c) = self.customer(id)?
                && !c.is_erased()
            {
                out.push(SearchFields::of(&c));
            }
        }
        Ok(out)
    }
    /// The searchable text of every customer who is not erased, by ascending id: what
    /// an in-memory [`SearchIndex`](crate::search::SearchIndex) is built from. The
    /// default reads the customers in pages; a backend reads the text columns alone.
    fn all_search_fields(&self) -> StoreResult<Vec<SearchFields>> {
        let mut out = Vec::new();
        let mut after = None;
        loop {
            let page = self.customers(&CustomerFilter::default(), after, 1000)?;
            let Some(last) = page.last() else { break };
            after = Some(last.id());
            out.extend(page.iter().filter(|c| !c.is_erased()).map(SearchFields::of));
        }
        Ok(out)
    }
    /// Every customer who matches `text` ([`SearchText::matches`]: not erased, the
    /// folded text in their name, email, company, city or notes), by ascending id,
    /// with their name only: what ranking needs ([`crate::search::rank_matches`]).
    /// Unlike [`search_fields`](ReadTx::search_fields) the rows are hits, not
    /// candidates: the store has checked them. The default checks the rows of
    /// [`search_fields`](ReadTx::search_fields); a backend that can check the text
    /// where it reads it returns only the names.
    fn search_matches(&self, text: &SearchText) -> StoreResult<Vec<SearchMatch>> {
        Ok(self
            .search_fields(text)?
            .into_iter()
            .filter(|f| text.hit_fields(f).is_some())
            .map(|f| SearchMatch {
                id: f.id,
                name: f.name,
            })
            .collect())
    }
    /// The customer's stage changes, oldest first (in the order they were pushed).
    fn stage_history(&self, customer: CustomerId) -> StoreResult<Vec<StageChange>>;
    /// The names of the customers with these ids, in the order asked (an id asked twice
    /// is answered twice), an unknown id left out; an erased customer's is the name
    /// erasure left. What a view naming many customers reads, without reading each
    /// customer whole in a transaction of its own. The default reads each customer; a
    /// backend answers it from one column.
    fn customer_names(
        &self,
        ids: &[CustomerId],
    ) -> StoreResult<Vec<(CustomerId, crate::text::PersonName)>> {
        let mut out = Vec::with_capacity(ids.len());
        for &id in ids {
            if let Some(c) = self.customer(id)? {
                out.push((id, c.name().clone()));
            }
        }
        Ok(out)
    }
    /// The whole stage history of every customer (erased ones included) with a change
    /// dated at or after `from`: by ascending customer id, each customer's changes
    /// oldest first as [`stage_history`](ReadTx::stage_history) gives them. What a view
    /// of the books at an earlier instant needs to rewind stages, without reading every
    /// customer's history: everyone else's stage is the same then as now. The default
    /// reads every customer's history; a backend answers it from its stage changes.
    fn stage_changes_from(&self, from: DateTime<Utc>) -> StoreResult<Vec<StageChange>> {
        let filter = CustomerFilter {
            include_erased: true,
            ..CustomerFilter::default()
        };
        let mut out = Vec::new();
        let mut after = None;
        loop {
            let page = self.customers(&filter, after, 1000)?;
            let Some(last) = page.last() else {
                return Ok(out);
            };
            after = Some(last.id());
            for c in &page {
                let history = self.stage_history(c.id())?;
                if history.iter().any(|h| h.at >= from) {
                    out.extend(history);
                }
            }
        }
    }
    /// The time of the customer's last stage change (the last one pushed), `None` if
    /// the history is empty. What a new change is checked against, without reading
    /// the whole history (a backend may answer it from one indexed row).
    fn last_stage_change_at(&self, customer: CustomerId) -> StoreResult<Option<DateTime<Utc>>> {
        Ok(self.stage_history(customer)?.last().map(|change| change.at))
    }
    /// The customer's stage and whether they are erased; `None` if there is no such
    /// customer. What a stage change needs, without reading the customer whole (a
    /// backend may answer it from two columns).
    fn customer_stage(&self, id: CustomerId) -> StoreResult<Option<CustomerStage>> {
        Ok(self.customer(id)?.map(|c| CustomerStage {
            stage: c.stage(),
            erased: c.is_erased(),
        }))
    }

    /// The stage of every customer who is not erased, by ascending id: what a
    /// reassessment of the whole book reads, without reading each customer whole. The
    /// default pages through the whole customers; a backend answers it from two
    /// columns.
    fn customer_stages(&self) -> StoreResult<Vec<(CustomerId, LifecycleStage)>> {
        let filter = CustomerFilter::default();
        let mut out = Vec::new();
        let mut after = None;
        loop {
            let page = self.customers(&filter, after, 1000)?;
            let Some(last) = page.last() else {
                return Ok(out);
            };
            after = Some(last.id());
            out.extend(page.iter().map(|c| (c.id(), c.stage())));
        }
    }

    /// Every customer now in stage `Churned` who is not erased, by ascending id, with
    /// the instant of the last change of their history (in push order) that moved them
    /// to `Churned`, `None` if none did. What the lifecycle catch-up reads to know when
    /// a churned customer churned, without reading each one's history in a statement
    /// of its own. The default reads each churned customer's history; a backend
    /// answers it in one statement.
    fn churned_at(&self) -> StoreResult<Vec<(CustomerId, Option<DateTime<Utc>>)>> {
        let mut out = Vec::new();
        for (id, stage) in self.customer_stages()? {
            if stage == LifecycleStage::Churned {
                let history = self.stage_history(id)?;
                let at = history
                    .iter()
                    .rev()
                    .find(|h| h.to == LifecycleStage::Churned)
                    .map(|h| h.at);
                out.push((id, at));
            }
        }
        Ok(out)
    }

    /// The creation instant and birthday of every customer who is not erased, by
    /// ascending id: what the time rules of automation read. The default pages
    /// through the whole customers; a backend answers it from three columns.
    fn customer_dates(&self) -> StoreResult<Vec<CustomerDates>> {
        let filter = CustomerFilter::default();
        let mut out = Vec::new();
        let mut after = None;
        loop {
            let page = self.customers(&filter, after, 1000)?;
            let Some(last) = page.last() else {
                return Ok(out);
            };
            after = Some(last.id());
            out.extend(page.iter().map(|c| CustomerDates {
                id: c.id(),
                created_at: c.created_at(),
                birthday: c.birthday(),
            }));
        }
    }

    /// The keys of every customer, erased ones included, each with the instant the
    /// customer was created, by ascending id: what a view of an earlier instant
    /// ([`AsOf`](crate::AsOf)) reads to know who existed then and how to name them
    /// (ADR 0061). The default joins [`customer_keys`](Self::customer_keys) with
    /// [`customer_dates`](Self::customer_dates) and reads an erased customer whole; a
    /// backend answers it from one pass over its key and creation columns.
    fn customer_keys_created(&self) -> StoreResult<Vec<(CustomerKeys, DateTime<Utc>)>> {
        let keys = self.customer_keys()?;
        let dates: std::collections::HashMap<CustomerId, DateTime<Utc>> = self
            .customer_dates()?
            .into_iter()
            .map(|d| (d.id, d.created_at))
            .collect();
        let mut out = Vec::with_capacity(keys.len());
        for k in keys {
            let created = match dates.get(&k.id) {
                Some(&at) => Some(at),
                None => self.customer(k.id)?.map(|c| c.created_at()),
            };
            // A key without a customer behind it names nobody who could have existed.
            if let Some(at) = created {
                out.push((k, at));
            }
        }
        Ok(out)
    }
    /// The customers created at or after `from`, erased ones included, by ascending id:
    /// who a view of the books before `from` ([`AsOf`](crate::AsOf)) leaves out. The
    /// default filters [`customer_keys_created`](Self::customer_keys_created); a
    /// backend reads its id and creation columns alone (no key text to decode: the
    /// as-of views of `rfm` and the reports read every customer's keys twice before,
    /// issue 14).
    fn customers_created_from(&self, from: DateTime<Utc>) -> StoreResult<Vec<CustomerId>> {
        Ok(self
            .customer_keys_created()?
            .into_iter()
            .filter(|(_, created)| *created >= from)
            .map(|(k, _)| k.id)
            .collect())
    }
    /// The [`SegmentRow`] of every customer passing `filter`, by ascending id, holding
    /// the `fields` asked for and no others: what a segment over the whole book reads
    /// to evaluate its predicate. The default pages through the whole customers; a
    /// backend reads only the columns asked for.
    fn segment_rows(
        &self,
        filter: &CustomerFilter,
        fields: SegmentFields,
    ) -> StoreResult<Vec<SegmentRow>> {
        let mut out = Vec::new();
        let mut after = None;
        loop {
            let page = self.customers(filter, after, 1000)?;
            let Some(last) = page.last() else {
                return Ok(out);
            };
            after = Some(last.id());
            out.extend(page.iter().map(|c| SegmentRow::of(c, fields)));
        }
    }
    /// [`ReportCustomer`] of every customer, erased ones included, by ascending id:
    /// what a metrics report reads of them. The default pages through the whole
    /// customers; a backend answers it from seven columns of one table.
    fn report_customers(&self) -> StoreResult<Vec<ReportCustomer>> {
        let filter = CustomerFilter {
            include_erased: true,
            ..CustomerFilter::default()
        };
        let mut out = Vec::new();
        let mut after = None;
        loop {
            let page = self.customers(&filter, after, 1000)?;
            let Some(last) = page.last() else {
                return Ok(out);
            };
            after = Some(last.id());
            out.extend(page.iter().map(ReportCustomer::of));
        }
    }
    /// For every customer (erased ones included) with a contact before `until`, by
    /// ascending id: their latest contact before `from` and their contacts from `from`
    /// up to but not including `until` (see [`ContactTimes`]). What a no-contact rule
    /// needs to find the silences of a run's days, without reading every contact. The
    /// default reads every purchase and interaction; a backend answers it from its
    /// customer indexes.
    fn contact_times(
        &self,
        from: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> StoreResult<Vec<ContactTimes>> {
        contact_times_from_records(self, from, until)
    }

    /// Every customer's latest interaction strictly before `until` (voided ones left
    /// out, erased customers included), by ascending customer id: what a view needing
    /// only when each customer was last in touch reads, without decoding every
    /// interaction. The default reads the interactions; a backend answers it from two
    /// columns.
    fn last_interactions(
        &self,
        until: DateTime<Utc>,
    ) -> StoreResult<Vec<(CustomerId, DateTime<Utc>)>> {
        let query = ActivityQuery {
            customer: None,
            range: crate::time::TimeRange::until(until),
            include_voided: false,
        };
        let mut by: std::collections::BTreeMap<CustomerId, DateTime<Utc>> =
            std::collections::BTreeMap::new();
        for i in self.interactions(&query)? {
            let latest = by.entry(i.customer()).or_insert(i.at());
            *latest = (*latest).max(i.at());
        }
        Ok(by.into_iter().collect())
    }

    /// The interactions matching `query` (voided ones only with
    /// [`ActivityQuery::include_voided`]), by time then id.
    fn interactions(&self, query: &ActivityQuery) -> StoreResult<Vec<Interaction>>;
    /// The interaction with this id, voided or not. The default looks through every
    /// interaction; a backend answers it from its primary key.
    fn interaction(&self, id: InteractionId) -> StoreResult<Option<Interaction>> {
        Ok(self
            .interactions(&ActivityQuery::EVERYTHING)?
            .into_iter()
            .find(|i| i.id() == id))
    }

    /// The purchase with this id.
    fn purchase(&self, id: PurchaseId) -> StoreResult<Option<Purchase>>;
    /// The id of the purchase with this external reference.
    fn purchase_by_external_ref(&self, reference: &ExternalRef) -> StoreResult<Option<PurchaseId>>;
    /// The purchases matching `query` (voided ones only with
    /// [`ActivityQuery::include_voided`]), by time then id.
    fn purchases(&self, query: &ActivityQuery) -> StoreResult<Vec<Purchase>>;
    /// Calls `f` with each purchase [`purchases`](ReadTx::purchases) would list for
    /// `query`, in the same order (by time then id), one at a time, and stops at the
    /// first error `f` returns: what a streaming export reads, without holding every
    /// purchase at once. The default lists them all first; a backend streams them from
    /// its table, so that the memory it takes does not grow with the book.
    fn for_each_purchase(
        &self,
        query: &ActivityQuery,
        f: &mut dyn FnMut(Purchase) -> StoreResult<()>,
    ) -> StoreResult<()> {
        self.purchases(query)?.into_iter().try_for_each(f)
    }
    /// Every purchase that is not voided, dated before `until`, by ascending id, as
    /// the narrow rows a metrics report reads ([`ReportPurchases`]: customer, time,
    /// amount and cost, in minor units of the books' currency; ADR 0062). The default
    /// lists them through [`for_each_purchase`](ReadTx::for_each_purchase) (leaving
    /// out any it cannot express in minor units of the books' currency, which a store
    /// never holds); a backend reads only those columns.
    fn report_purchases(&self, until: DateTime<Utc>) -> StoreResult<ReportPurchases> {
        let query = ActivityQuery {
            customer: None,
            range: crate::time::TimeRange::until(until),
            include_voided: false,
        };
        let currency = self.base_currency();
        let mut rows: Vec<(PurchaseId, ReportPurchase)> = Vec::new();
        self.for_each_purchase(&query, &mut |p| {
            rows.extend(ReportPurchase::of(&p, currency).map(|r| (p.id(), r)));
            Ok(())
        })?;
        rows.sort_by_key(|(id, _)| *id);
        Ok(ReportPurchases {
            currency: Some(currency),
            rows: rows.into_iter().map(|(_, r)| r).collect(),
        })
    }
    /// [`report_purchases`](ReadTx::report_purchases) of `until` and the
    /// [`purchase_log`](ReadTx::purchase_log), together: what a metrics report reads of
    /// purchases. The default asks for each; a backend that reads both from the same
    /// rows answers them from one pass over its purchases.
    fn report_purchases_and_log(
        &self,
        until: DateTime<Utc>,
    ) -> StoreResult<(ReportPurchases, PurchaseLog)> {
        Ok((self.report_purchases(until)?, self.purchase_log()?))
    }
    /// What a metrics report reads of purchases, as it keeps them: the
    /// [`report_purchases_and_log`](ReadTx::report_purchases_and_log) of `until`, the
    /// rows perhaps as their costs beside the log ([`LogCosts`](crate::metrics::LogCosts),
    /// ADR 0076). The default gives the rows as rows (the reader keeps them beside the
    /// log when it finds them there); a backend that reads both in one pass makes the
    /// costs as it goes, without the rows' own copy.
    fn report_purchase_read(
        &self,
        until: DateTime<Utc>,
    ) -> StoreResult<crate::metrics::ReportPurchaseRead> {
        let (purchases, log) = self.report_purchases_and_log(until)?;
        Ok(crate::metrics::ReportPurchaseRead {
            purchases,
            log,
            log_costs: None,
        })
    }
    /// Who and when of every interaction that is not voided, dated before `until`, by
    /// time then id (the order of [`interactions`](ReadTx::interactions)): what a
    /// metrics report reads of interactions (ADR 0062). The default lists them whole;
    /// a backend reads only those columns.
    fn report_interactions(&self, until: DateTime<Utc>) -> StoreResult<Vec<ReportInteraction>> {
        let query = ActivityQuery {
            customer: None,
            range: crate::time::TimeRange::until(until),
            include_voided: false,
        };
        Ok(self
            .interactions(&query)?
            .iter()
            .filter(|i| !i.is_void())
            .map(ReportInteraction::of)
            .collect())
    }
    /// Count, exact sum and first and last time of a customer's purchases at or before
    /// `as_of`, voided ones left out.
    fn purchase_summary(
        &self,
        customer: CustomerId,
        as_of: DateTime<Utc>,
    ) -> StoreResult<PurchaseSummary>;
    /// [`purchase_summary`](ReadTx::purchase_summary) of every customer (erased ones
    /// included) with a purchase at or before `as_of`, by ascending customer id: what a
    /// segment over the whole book reads, in one pass instead of one read per customer.
    /// The default reads every purchase; a backend answers it from its customer index.
    fn purchase_summaries(
        &self,
        as_of: DateTime<Utc>,
    ) -> StoreResult<Vec<(CustomerId, PurchaseSummary)>> {
        let mut by: std::collections::BTreeMap<CustomerId, PurchaseSummary> =
            std::collections::BTreeMap::new();
        let none = PurchaseSummary::none(self.base_currency());
        for p in self.purchases(&ActivityQuery::ALL)? {
            if p.at() <= as_of {
                by.entry(p.customer())
                    .or_insert(none)
                    .add(p.at(), p.amount())
                    .map_err(crate::StoreError::backend)?;
            }
        }
        Ok(by.into_iter().collect())
    }
    /// Every purchase that is not voided, in columnar form, customers in ascending id
    /// order (see [`PurchaseLog`]).
    fn purchase_log(&self) -> StoreResult<PurchaseLog>;
    /// The log of [`purchase_log`](ReadTx::purchase_log) with its rows grouped by
    /// customer: the same customers, the same rows, ordered by ascending dense
    /// customer index, the order of one customer's rows the backend's (see
    /// [`PurchaseLog::group_by_customer`]). What the reads that fold each customer's
    /// purchases apart take (`stage reassess`, `churn-risk`, the lifecycle
    /// catch-up). The default groups the log; a backend reads its customer index.
    fn purchase_log_by_customer(&self) -> StoreResult<PurchaseLog> {
        let mut log = self.purchase_log()?;
        log.group_by_customer();
        Ok(log)
    }

    /// The refunds matching `query`, by time then id.
    fn refunds(&self, query: &ActivityQuery) -> StoreResult<Vec<Refund>>;
    /// The refunds of one purchase, by id.
    fn refunds_of(&self, purchase: PurchaseId) -> StoreResult<Vec<Refund>>;

    /// The survey answers matching `query` (voided ones only with
    /// [`ActivityQuery::include_voided`]), by time then id.
    fn surveys(&self, query: &ActivityQuery) -> StoreResult<Vec<SurveyResponse>>;
    /// Who, when and the score of every survey answer that is not voided, dated
    /// before `until`, by time then id (the order of [`surveys`](ReadTx::surveys)):
    /// what the lifecycle policy reads of satisfaction. The default lists the answers
    /// whole; a backend reads only those columns.
    fn survey_scores(&self, until: DateTime<Utc>) -> StoreResult<Vec<crate::ScoredAnswer>> {
        let query = ActivityQuery {
            customer: None,
            range: crate::time::TimeRange::until(until),
            include_voided: false,
        };
        Ok(self
            .surveys(&query)?
            .iter()
            .filter(|s| !s.is_void())
            .map(crate::ScoredAnswer::of)
            .collect())
    }
    /// The survey answer with this id, voided or not. The default looks through every
    /// answer; a backend answers it from its primary key.
    fn survey(&self, id: SurveyId) -> StoreResult<Option<SurveyResponse>> {
        Ok(self
            .surveys(&ActivityQuery::EVERYTHING)?
            .into_iter()
            .find(|s| s.id() == id))
    }

    /// The service request with this id.
    fn request(&self, id: RequestId) -> StoreResult<Option<ServiceRequest>>;
    /// The service requests matching `query` (see [`OpenQuery::admits`]), by id.
    fn requests(&self, query: &OpenQuery) -> StoreResult<Vec<ServiceRequest>>;

    /// The deal with this id.
    fn deal(&self, id: DealId) -> StoreResult<Option<Deal>>;
    /// The deals matching `query` (see [`OpenQuery::admits`]), by id.
    fn deals(&self, query: &OpenQuery) -> StoreResult<Vec<Deal>>;

    /// The task with this id.
    fn task(&self, id: TaskId) -> StoreResult<Option<Task>>;
    /// The tasks matching `query` (see [`TaskQuery::admits`]), by due date then id.
    fn tasks(&self, query: &TaskQuery) -> StoreResult<Vec<Task>>;

    /// A customer's points ledger, by id.
    fn points_ledger(&self, customer: CustomerId) -> StoreResult<Vec<PointsEntry>>;
    /// The balance after the customer's ledger entry with the largest id; 0 with none.
    fn points_balance(&self, customer: CustomerId) -> StoreResult<i64>;
    /// The tiers of the points program, by threshold then name.
    fn points_tiers(&self) -> StoreResult<Vec<PointsTier>>;
    /// The books' points validity; `None` (the default): points never expire.
    fn points_expiry(&self) -> StoreResult<Option<PointsExpiry>>;
    /// The customers whose points balance ([`points_balance`](Self::points_balance))
    /// is above zero, by id: whose points may lapse.
    fn points_holders(&self) -> StoreResult<Vec<CustomerId>>;
    /// Every points holder ([`points_holders`](Self::points_holders)) with their whole
    /// ledger ([`points_ledger`](Self::points_ledger)), by customer id: what the
    /// points expiry reads each day. The default asks for each holder's ledger in turn;
    /// a store overrides it with one read.
    fn points_holder_ledgers(&self) -> StoreResult<Vec<(CustomerId, Vec<PointsEntry>)>> {
        self.points_holders()?
            .into_iter()
            .map(|customer| Ok((customer, self.points_ledger(customer)?)))
            .collect()
    }
    /// The open lots ([`open_lots`] of each ledger in the books' time zone, without a
    /// validity: `lapses_on` is `None`) earned on or before the business day
    /// `through`, of every customer who has some, by customer id, each customer's lots
    /// in [`open_lots`]' order (earliest day first, record order within a day). Since
    /// a later earn never lapses earlier, these are exactly the lots that lapse by
    /// [`PointsExpiry::lapse_day`] of `through`: what the daily run asks for the lapses
    /// due and the `points_expiring` windows (ADR 0043).
    ///
    /// The default replays every holder's ledger
    /// ([`points_holder_ledgers`](Self::points_holder_ledgers)); a store may keep the
    /// open lots up to date with each points write and answer from an index by day.
    /// Both must give the same answer (the conformance check
    /// `kept_points_lots_equal_the_replayed_ledgers`).
    fn points_lots_earned_through(
        &self,
        through: NaiveDate,
    ) -> StoreResult<Vec<(CustomerId, Vec<PointsLot>)>> {
        let zone = self.time_zone()?;
        Ok(self
            .points_holder_ledgers()?
            .into_iter()
            .filter_map(|(customer, ledger)| {
                let mut lots = open_lots(&ledger, zone, None);
                lots.truncate(lots.partition_point(|l| l.earned_on <= through));
                (!lots.is_empty()).then_some((customer, lots))
            })
            .collect())
    }

    /// The segment with this name.
    fn segment(&self, name: &Label) -> StoreResult<Option<Segment>>;
    /// Every segment, by name.
    fn segments(&self) -> StoreResult<Vec<Segment>>;

    /// The audit log, by id.
    fn audit_log(&self) -> StoreResult<Vec<AuditEntry>>;

    /// The cost with this id.
    fn cost(&self, id: CostId) -> StoreResult<Option<Cost>>;
    /// Every cost, voided ones included, by time then id.
    fn costs(&self) -> StoreResult<Vec<Cost>>;

    /// Up to `limit` events with a sequence number above `after`, in order.
    fn events(&self, after: EventSeq, limit: u32) -> StoreResult<Vec<Event>>;

    /// The stored automation rules and built-in switches, by name.
    fn rules(&self) -> StoreResult<Vec<RuleRecord>>;
    /// Whether a firing of `rule` for `customer` and `occurrence` is stored.
    fn firing_exists(
        &self,
        rule: &RuleName,
        customer: CustomerId,
        occurrence: &Occurrence,
    ) -> StoreResult<bool>;
    /// Every stored firing, by day, then rule name, customer and occurrence key.
    fn firings(&self) -> StoreResult<Vec<Firing>>;
    /// Where the automation runner has got to ([`AutomationCursor::default`] before
    /// its first run).
    fn automation_cursor(&self) -> StoreResult<AutomationCursor>;

    /// The book's holiday calendar: the chosen presets in the order they were chosen,
    /// and the founder's own holidays by key.
    fn holiday_calendar(&self) -> StoreResult<HolidayCalendar>;

    /// Every sales target, by the period's first day, months before quarters before
    /// years, then by metric name ([`Target::sort_key`](crate::target::Target::sort_key)).
    fn targets(&self) -> StoreResult<Vec<crate::target::Target>>;
    /// Every survey template, by name.
    fn survey_templates(&self) -> StoreResult<Vec<SurveyTemplate>>;
    /// The survey sheets of `customer` (every customer's with `None`), by
    /// [`SheetKey`](crate::questionnaire::SheetKey): time, then customer, then template; each sheet's answers by
    /// question number.
    fn survey_sheets(&self, customer: Option<CustomerId>) -> StoreResult<Vec<SurveySheet>>;
    /// The participations of `customer` (every customer's with `None`), by
    /// [`ParticipationKey`](crate::participation::ParticipationKey): time, customer,
    /// kind.
    fn participations(
        &self,
        customer: Option<CustomerId>,
    ) -> StoreResult<Vec<crate::participation::Participation>>;
    /// The needs and pain points of `customer` (every customer's with `None`), voided
    /// and resolved ones included, by id.
    fn needs(&self, customer: Option<CustomerId>) -> StoreResult<Vec<crate::need::Need>>;
    /// One need or pain point.
    fn need(&self, id: crate::NeedId) -> StoreResult<Option<crate::need::Need>>;
    /// The offer with this code.
    fn offer(&self, code: &OfferCode) -> StoreResult<Option<Offer>>;
    /// Every offer, by code.
    fn offers(&self) -> StoreResult<Vec<Offer>>;
    /// The redemptions of the offer with this code (`None`: of every offer), by
    /// purchase id.
    fn redemptions(&self, code: Option<&OfferCode>) -> StoreResult<Vec<Redemption>>;
    /// The product catalogue, archived products included, by SKU (byte order).
    fn products(&self) -> StoreResult<Vec<Product>>;
    /// Every campaign, by id.
    fn campaigns(&self) -> StoreResult<Vec<crate::campaign::Campaign>>;
    /// Every attribution to a campaign, by subject (customers, then deals, then
    /// costs, each by id).
    fn attributions(&self) -> StoreResult<Vec<crate::campaign::Attribution>>;
    /// The campaign `subject` is attributed to, if any. The default reads every
    /// attribution; a store with an index on subjects answers from it (one customer's
    /// page, one `--campaign` edit).
    fn attribution(
        &self,
        subject: crate::campaign::AttributionSubject,
    ) -> StoreResult<Option<crate::CampaignId>> {
        Ok(self
            .attributions()?
            .into_iter()
            .find(|a| a.subject == subject)
            .map(|a| a.campaign))
    }
    /// The product with this SKU, if any.
    fn product(&self, sku: &Sku) -> StoreResult<Option<Product>>;
    /// True if some purchase line (of any purchase, voided ones included) names `sku`.
    fn product_has_lines(&self, sku: &Sku) -> StoreResult<bool>;
    /// The lines of one purchase, in the order they were given (none for a purchase
    /// recorded without lines, or one that does not exist).
    fn purchase_lines(&self, purchase: PurchaseId) -> StoreResult<Vec<PurchaseLine>>;
    /// Every purchase line of the store, by purchase id and then in each purchase's
    /// order; voided purchases' lines included (the caller leaves them out).
    fn all_purchase_lines(&self) -> StoreResult<Vec<(PurchaseId, PurchaseLine)>>;
}

/// Writes within one transaction, which also sees its own writes. Every method returns
/// [`StoreError::Backend`](crate::StoreError::Backend) if the backend fails.
///
/// `insert_*` stores a new record under the id it carries (taken from
/// [`next_id`](WriteTx::next_id)); `update_*` replaces the stored record with the same
/// id. The operations layer inserts only free ids and updates only stored records; a
/// backend that is asked otherwise reports
/// [`StoreError::Backend`](crate::StoreError::Backend) rather than ignoring it (an
/// `UPDATE` that changed no row is such a case). A record's child rows (a customer's tags and consents, a deal's
/// moves, a request's steps) are part of it.
pub trait WriteTx: ReadTx {
    /// One more than the largest id of this kind ever stored; 1 if there is none.
    fn next_id(&mut self, kind: IdKind) -> StoreResult<u64>;
    /// Sets the business time zone. Instants stay as stored; only the days they are
    /// counted on change.
    fn set_time_zone(&mut self, zone: BusinessZone) -> StoreResult<()>;

    /// Marks a point this transaction can roll back to, inside any earlier mark.
    /// The operations layer marks one before each operation, so an operation that
    /// fails leaves nothing even inside a write that goes on to commit others.
    fn savepoint(&mut self) -> StoreResult<()>;
    /// Forgets the latest mark, keeping what was written since.
    fn release_savepoint(&mut self) -> StoreResult<()>;
    /// Undoes everything written since the latest mark, and forgets the mark.
    fn rollback_to_savepoint(&mut self) -> StoreResult<()>;

    /// Stores a new customer.
    fn insert_customer(&mut self, customer: &Customer) -> StoreResult<()>;
    /// Replaces a customer: data, tags, consents, stage and erasure.
    fn update_customer(&mut self, customer: &Customer) -> StoreResult<()>;
    /// Sets a stored customer's stage, leaving everything else of the customer (data,
    /// tags, consents, erasure) as it is: what [`update_customer`](Self::update_customer)
    /// with only the stage changed stores, without rewriting the rest. The stage
    /// history is not touched ([`push_stage_change`](Self::push_stage_change) appends
    /// to it). A customer that is not stored is a
    /// [`StoreError::Backend`](crate::StoreError::Backend) error.
    fn set_customer_stage(&mut self, id: CustomerId, stage: LifecycleStage) -> StoreResult<()> {
        let Some(c) = self.customer(id)? else {
            return Err(crate::StoreError::backend(MissingCustomer(id)));
        };
        let c = Customer::from_parts(
            id,
            c.data().clone(),
            c.created_at(),
            stage,
            c.consents().to_vec(),
            c.erased_at(),
        );
        self.update_customer(&c)
    }
    /// Appends a consent decision to a stored customer's consents, leaving everything
    /// else of the customer as it is: what [`update_customer`](Self::update_customer)
    /// with the consent pushed stores, without rewriting the rest. A customer that is
    /// not stored is a [`StoreError::Backend`](crate::StoreError::Backend) error.
    fn append_consent(&mut self, id: CustomerId, consent: &Consent) -> StoreResult<()> {
        let Some(mut c) = self.customer(id)? else {
            return Err(crate::StoreError::backend(MissingCustomer(id)));
        };
        c.record_consent(consent.clone());
        self.update_customer(&c)
    }
    /// Appends a change to the customer's stage history.
    fn push_stage_change(&mut self, change: &StageChange) -> StoreResult<()>;
    /// Replaces the customer's whole stage history with `history`, which has the
    /// same length and order (used to scrub notes); a different length is a
    /// [`StoreError::Backend`](crate::StoreError::Backend) error.
    fn rewrite_stage_history(
        &mut self,
        customer: CustomerId,
        history: &[StageChange],
    ) -> StoreResult<()>;

    /// Stores a new interaction.
    fn insert_interaction(&mut self, interaction: &Interaction) -> StoreResult<()>;
    /// Replaces an interaction, its void marker included.
    fn update_interaction(&mut self, interaction: &Interaction) -> StoreResult<()>;

    /// Says that about `rows` purchases are about to be inserted in this transaction,
    /// so a backend may prepare (drop and later rebuild indexes, say). A hint: doing
    /// nothing is correct.
    fn expect_purchases(&mut self, rows: u64) -> StoreResult<()> {
        let _ = rows;
        Ok(())
    }
    /// Stores a new purchase.
    fn insert_purchase(&mut self, purchase: &Purchase) -> StoreResult<()>;
    /// Stores a new purchase unless another stored purchase has its external
    /// reference; then stores nothing and returns that purchase's id. What an import
    /// needs to learn of a clash without looking every reference up first (a backend
    /// with a unique index answers it with the insert itself).
    fn insert_purchase_unless_ref_taken(
        &mut self,
        purchase: &Purchase,
    ) -> StoreResult<Option<PurchaseId>> {
        if let Some(reference) = purchase.external_ref()
            && let Some(owner) = self.purchase_by_external_ref(reference)?
        {
            return Ok(Some(owner));
        }
        self.insert_purchase(purchase)?;
        Ok(None)
    }
    /// Stores a run of new purchases, in order, as
    /// [`insert_purchase_unless_ref_taken`](Self::insert_purchase_unless_ref_taken)
    /// would one after the other: up to the first whose external reference another
    /// stored purchase has (an earlier one of the run included), whose index in
    /// `batch` and the owner's id it returns; the purchases before it are stored, it
    /// and the ones after it are not. `None`: all were stored. What a bulk load hands
    /// over a few dozen rows at a time, so that a backend can store them in one
    /// statement (the default goes row by row).
    fn insert_purchases_unless_ref_taken(
        &mut self,
        batch: &[Purchase],
    ) -> StoreResult<Option<(usize, PurchaseId)>> {
        for (i, p) in batch.iter().enumerate() {
            if let Some(owner) = self.insert_purchase_unless_ref_taken(p)? {
                return Ok(Some((i, owner)));
            }
        }
        Ok(None)
    }
    /// Replaces a purchase, its void marker included.
    fn update_purchase(&mut self, purchase: &Purchase) -> StoreResult<()>;

    /// Stores a new refund.
    fn insert_refund(&mut self, refund: &Refund) -> StoreResult<()>;
    /// Replaces a refund.
    fn update_refund(&mut self, refund: &Refund) -> StoreResult<()>;

    /// Stores a new survey answer.
    fn insert_survey(&mut self, survey: &SurveyResponse) -> StoreResult<()>;
    /// Replaces a survey answer, its void marker included.
    fn update_survey(&mut self, survey: &SurveyResponse) -> StoreResult<()>;

    /// Stores a new service request.
    fn insert_request(&mut self, request: &ServiceRequest) -> StoreResult<()>;
    /// Replaces a service request, its steps included.
    fn update_request(&mut self, request: &ServiceRequest) -> StoreResult<()>;

    /// Stores a new deal, its stage history included.
    fn insert_deal(&mut self, deal: &Deal) -> StoreResult<()>;
    /// Replaces a deal, its stage history included.
    fn update_deal(&mut self, deal: &Deal) -> StoreResult<()>;

    /// Stores a new task.
    fn insert_task(&mut self, task: &Task) -> StoreResult<()>;
    /// Replaces a task.
    fn update_task(&mut self, task: &Task) -> StoreResult<()>;

    /// Stores a new points ledger entry.
    fn insert_points(&mut self, entry: &PointsEntry) -> StoreResult<()>;
    /// Replaces a points ledger entry.
    fn update_points(&mut self, entry: &PointsEntry) -> StoreResult<()>;

    /// Stores a tier of the points program, replacing the one with its name if there
    /// is one.
    fn put_points_tier(&mut self, tier: &PointsTier) -> StoreResult<()>;
    /// Deletes a tier of the points program; false if there was none by that name.
    fn delete_points_tier(&mut self, name: &Tag) -> StoreResult<bool>;
    /// Sets the books' points validity (`None`: points never expire).
    fn set_points_expiry(&mut self, expiry: Option<&PointsExpiry>) -> StoreResult<()>;

    /// Stores a new segment (its name is not taken).
    fn insert_segment(&mut self, segment: &Segment) -> StoreResult<()>;
    /// Deletes a segment; false if there was none by that name.
    fn delete_segment(&mut self, name: &Label) -> StoreResult<bool>;

    /// Appends to the audit log.
    fn insert_audit(&mut self, entry: &AuditEntry) -> StoreResult<()>;

    /// Stores a new cost.
    fn insert_cost(&mut self, cost: &Cost) -> StoreResult<()>;
    /// Replaces a cost (to void it).
    fn update_cost(&mut self, cost: &Cost) -> StoreResult<()>;

    /// Appends an event to the outbox.
    fn append_event(&mut self, event: &Event) -> StoreResult<()>;

    /// Stores a rule record, replacing the one with its name if there is one.
    fn put_rule(&mut self, rule: &RuleRecord) -> StoreResult<()>;
    /// Deletes a rule record; false if there was none by that name.
    fn delete_rule(&mut self, name: &RuleName) -> StoreResult<bool>;
    /// Stores a firing. Its (rule, customer, occurrence) is unique: the operations
    /// layer checks [`ReadTx::firing_exists`] first, so a clash is a
    /// [`StoreError::Backend`](crate::StoreError::Backend) error.
    fn insert_firing(&mut self, firing: &Firing) -> StoreResult<()>;
    /// Deletes every firing of a customer (an erasure); returns how many there were.
    fn delete_firings_of(&mut self, customer: CustomerId) -> StoreResult<u64>;
    /// Stores where the automation runner has got to.
    fn set_automation_cursor(&mut self, cursor: &AutomationCursor) -> StoreResult<()>;

    /// Stores one of the founder's own holidays (a [`HolidayRule::is_storable`]
    /// rule), replacing the one with its key if there is one.
    ///
    /// [`HolidayRule::is_storable`]: crate::holiday::HolidayRule::is_storable
    fn put_holiday(&mut self, holiday: &HolidayDef) -> StoreResult<()>;
    /// Deletes one of the founder's own holidays; false if there was none by that key.
    fn delete_holiday(&mut self, key: &Tag) -> StoreResult<bool>;
    /// Replaces the chosen preset calendars (in this order, without repeats).
    fn set_holiday_presets(&mut self, presets: &[Preset]) -> StoreResult<()>;

    /// Stores a sales target, replacing the one for its metric and period if there is
    /// one.
    fn put_target(&mut self, target: &crate::target::Target) -> StoreResult<()>;
    /// Deletes the target for this metric and period; false if there was none.
    fn delete_target(
        &mut self,
        metric: crate::target::TargetMetric,
        period: crate::target::TargetPeriod,
    ) -> StoreResult<bool>;
    /// Stores a new survey template (the caller has checked its name is free).
    fn insert_survey_template(&mut self, template: &SurveyTemplate) -> StoreResult<()>;
    /// Replaces the stored template named `from` by `template`, whose name may differ
    /// (the caller has checked that a new name is free): the sheets of `from` then
    /// name `template`, with their answers unchanged.
    fn replace_survey_template(&mut self, from: &Tag, template: &SurveyTemplate)
    -> StoreResult<()>;
    /// Deletes the template named `name` (the caller has checked no sheet answers it).
    fn delete_survey_template(&mut self, name: &Tag) -> StoreResult<()>;
    /// Stores a new survey sheet (the caller has checked its key is free, its
    /// customer and template exist and its answers fit the template).
    fn insert_survey_sheet(&mut self, sheet: &SurveySheet) -> StoreResult<()>;
    /// Replaces the answers of the stored sheet with `sheet`'s [`SheetKey`](crate::questionnaire::SheetKey).
    fn update_survey_sheet(&mut self, sheet: &SurveySheet) -> StoreResult<()>;
    /// Stores a new participation (the caller has checked its key is free and its
    /// customer exists).
    fn insert_participation(
        &mut self,
        participation: &crate::participation::Participation,
    ) -> StoreResult<()>;
    /// Replaces the note of the stored participation with `participation`'s key.
    fn update_participation(
        &mut self,
        participation: &crate::participation::Participation,
    ) -> StoreResult<()>;
    /// Stores a new need or pain point (the caller has checked its customer and deal).
    fn insert_need(&mut self, need: &crate::need::Need) -> StoreResult<()>;
    /// Replaces the note, resolution and void of the stored need with `need`'s id
    /// (customer, deal, kind, key and time never change).
    fn update_need(&mut self, need: &crate::need::Need) -> StoreResult<()>;
    /// Stores an offer, replacing the one with its code if there is one (to end it).
    fn put_offer(&mut self, offer: &Offer) -> StoreResult<()>;
    /// Stores `redemption` if its offer has been redeemed fewer than `total` times in
    /// all and fewer than `per_customer` times by its customer (`None`: no limit);
    /// otherwise stores nothing and says which limit was reached (the total one first).
    /// The check and the insert are **one step**: a backend makes them race-free
    /// against any other writer (a conditional insert, a lock), never a read and a
    /// write that another transaction could come between. A purchase holds at most one
    /// redemption; a second one on it is a
    /// [`StoreError::Backend`](crate::StoreError::Backend) error.
    fn redeem_within_limits(
        &mut self,
        redemption: &Redemption,
        per_customer: Option<u32>,
        total: Option<u32>,
    ) -> StoreResult<RedeemOutcome>;
    /// Stores a product, replacing the one with its SKU if there is one.
    fn put_product(&mut self, product: &Product) -> StoreResult<()>;
    /// Stores a campaign, replacing the one with its id if there is one.
    fn put_campaign(&mut self, campaign: &crate::campaign::Campaign) -> StoreResult<()>;
    /// Stores an attribution, replacing the subject's earlier one if there is one.
    fn put_attribution(&mut self, attribution: &crate::campaign::Attribution) -> StoreResult<()>;
    /// Deletes the subject's attribution; false if there was none.
    fn delete_attribution(
        &mut self,
        subject: crate::campaign::AttributionSubject,
    ) -> StoreResult<bool>;
    /// Deletes a product; false if there was none with that SKU. The operations layer
    /// deletes only products that no line names.
    fn delete_product(&mut self, sku: &Sku) -> StoreResult<bool>;
    /// Stores the lines of a stored purchase that has none yet, in this order.
    fn insert_purchase_lines(
        &mut self,
        purchase: PurchaseId,
        lines: &[PurchaseLine],
    ) -> StoreResult<()>;

    /// Says that this transaction removes personal data, so after it commits the
    /// backend should also purge the old versions from any journal, log or free page
    /// it keeps. Storage hygiene, not a rule: doing nothing is correct for a backend
    /// that keeps no old versions.
    fn purge_after_commit(&mut self) -> StoreResult<()> {
        Ok(())
    }
}

/// What a write transaction is for, said before it begins so that a backend may
/// prepare.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WriteKind {
    /// Ordinary writes: a backend keeps every check of its own (SQLite's foreign keys,
    /// say) as a second line behind the operations layer's.
    Ordinary,
    /// A bulk load (a file import, a batch of purchases): the operations layer has
    /// looked up every record the rows refer to, and a backend may skip repeating
    /// that per row for speed.
    Bulk,
}

/// A backend: opens transactions over the records it stores. See the
/// [module docs](self) for the contract.
///
/// Object safe: use it as `Arc<dyn Storage>` (what [`Crm`](crate::ops::Crm) holds).
pub trait Storage: Send + Sync {
    /// The currency the books are kept in, fixed when the store was created.
    fn base_currency(&self) -> Currency;

    /// Runs `f` over one consistent snapshot.
    ///
    /// # Errors
    ///
    /// What `f` returns, or [`StoreError::Backend`](crate::StoreError::Backend) /
    /// [`StoreError::Busy`](crate::StoreError::Busy) if the snapshot could not be
    /// opened.
    fn read(&self, f: &mut dyn FnMut(&dyn ReadTx) -> StoreResult<()>) -> StoreResult<()>;

    /// Runs `here` on this thread and `there` on another, each over its own read
    /// transaction, both of **one** snapshot: what a reader that reads much can split
    /// over two cores (issue 14, ADR 0070). Both have run when it returns; `here`'s
    /// error comes first if both fail.
    ///
    /// The default runs both here, one after the other, in one [`read`](Storage::read):
    /// the same answers on one core. A backend that can open two transactions of one
    /// snapshot (SQLite, by holding its write lock for the instant both begin) runs
    /// them at the same time, and falls back to the default whenever it cannot (a
    /// writer in the way, a read-only file): a read never waits for that.
    ///
    /// # Errors
    ///
    /// What either closure returns, or the backend's error opening the snapshot.
    fn read_beside(
        &self,
        here: &mut dyn FnMut(&dyn ReadTx) -> StoreResult<()>,
        there: &mut (dyn FnMut(&dyn ReadTx) -> StoreResult<()> + Send),
    ) -> StoreResult<()> {
        self.read(&mut |tx| {
            let first = here(tx);
            let second = there(tx);
            first.and(second)
        })
    }

    /// Runs `f` in one serialisable transaction and commits if it returns `Ok`.
    ///
    /// # Errors
    ///
    /// What `f` returns (nothing is committed then), or a backend error from opening
    /// or committing the transaction (nothing is committed either).
    fn write(&self, f: &mut dyn FnMut(&mut dyn WriteTx) -> StoreResult<()>) -> StoreResult<()>;

    /// [`write`](Storage::write), saying what the transaction is for. The default
    /// ignores the kind.
    ///
    /// # Errors
    ///
    /// As [`write`](Storage::write).
    fn write_as(
        &self,
        kind: WriteKind,
        f: &mut dyn FnMut(&mut dyn WriteTx) -> StoreResult<()>,
    ) -> StoreResult<()> {
        let _ = kind;
        self.write(f)
    }
}

macro_rules! forward_storage {
    ($($ty:ty),*) => {$(
        impl<T: Storage + ?Sized> Storage for $ty {
            fn base_currency(&self) -> Currency {
                (**self).base_currency()
            }
            fn read(
                &self,
                f: &mut dyn FnMut(&dyn ReadTx) -> StoreResult<()>,
            ) -> StoreResult<()> {
                (**self).read(f)
            }
            fn read_beside(
                &self,
                here: &mut dyn FnMut(&dyn ReadTx) -> StoreResult<()>,
                there: &mut (dyn FnMut(&dyn ReadTx) -> StoreResult<()> + Send),
            ) -> StoreResult<()> {
                (**self).read_beside(here, there)
            }
            fn write(
                &self,
                f: &mut dyn FnMut(&mut dyn WriteTx) -> StoreResult<()>,
            ) -> StoreResult<()> {
                (**self).write(f)
            }
            fn write_as(
                &self,
                kind: WriteKind,
                f: &mut dyn FnMut(&mut dyn WriteTx) -> StoreResult<()>,
            ) -> StoreResult<()> {
                (**self).write_as(kind, f)
            }
        }
    )*};
}

forward_storage!(Arc<T>, Box<T>, &T);
