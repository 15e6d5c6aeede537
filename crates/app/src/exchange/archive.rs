//! The lossless archive: every record of a book in one versioned JSON document
//! (`solocrm export all`, `solocrm import all`).
//!
//! An [`Archive`] holds what the storage port can read — customers (with tags,
//! consents, profile and erasure), their stage history, interactions, purchases,
//! refunds, survey answers (voided ones with their marker), service requests, deals
//! (with notes and lost reasons), tasks (cancelled ones too), the points ledger and
//! tiers, segments, costs, the product catalogue and purchase lines, the audit log
//! and the event outbox — with the book's
//! settings (book id, currency, time zone, points validity) and its id counters. Records keep their ids, instants and
//! history exactly: [`import_archive`] writes them through the port's `insert_*`
//! methods in one transaction, into an empty book only, after checking the whole
//! document. A hand-edited archive with a bad row fails with the path to it
//! (`customers[3].email: …`) and nothing is written.
//!
//! # Adding a record kind
//!
//! A new kind is one field of [`Archive`] (with `#[serde(default)]`, so that older
//! archives still load), one line in [`read_archive`] filling it, its checks in
//! [`Archive::validate`] and one insert loop in [`import_archive`].

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{self, Read, Write};

use serde::{Deserialize, Serialize};
use solocrm_core::{
    ActivityQuery, AuditEntry, BusinessZone, Cost, Currency, Customer, CustomerFilter, CustomerId,
    Deal, Event, IdKind, Interaction, OpenQuery, PointsEntry, PointsTier, Purchase, ReadTx, Refund,
    Segment, ServiceRequest, StageChange, StoreError, SurveyResponse, Task, TaskQuery,
};

use crate::Books;
use crate::escape::TerminalSafe;

/// The `format` an archive names itself by.
pub const ARCHIVE_FORMAT: &str = "solocrm-archive";
/// The archive version this build writes and reads.
pub const ARCHIVE_VERSION: u32 = 1;

/// Every record of a book, as `solocrm export all` writes it. Lists are by id (the
/// stage history in the order it was pushed, per customer by id).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Archive {
    /// Always [`ARCHIVE_FORMAT`].
    pub format: String,
    /// [`ARCHIVE_VERSION`] when written by this build.
    pub version: u32,
    /// The book id ([`Books::book_id`]): a restored book is the same book, so keys
    /// `#N@BOOK` of its older exports still name its customers.
    pub book_id: String,
    /// The currency the books are kept in.
    pub currency: Currency,
    /// The business time zone.
    pub timezone: BusinessZone,
    /// How long earned points stay valid; left out of the document when they never
    /// expire (an older archive without it restores a book whose points never do).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub points_validity: Option<solocrm_core::PointsExpiry>,
    /// The next id of every kind ([`solocrm_core::WriteTx::next_id`]), as the book
    /// had them; an import checks the records give the same.
    pub next_ids: BTreeMap<IdKind, u64>,
    /// Customers, erased ones included.
    #[serde(default)]
    pub customers: Vec<Customer>,
    /// Every customer's stage changes: customers by id, each one's oldest first.
    #[serde(default)]
    pub stage_history: Vec<StageChange>,
    /// Interactions.
    #[serde(default)]
    pub interactions: Vec<Interaction>,
    /// Deals, their stage moves included.
    #[serde(default)]
    pub deals: Vec<Deal>,
    /// Purchases.
    #[serde(default)]
    pub purchases: Vec<Purchase>,
    /// Refunds.
    #[serde(default)]
    pub refunds: Vec<Refund>,
    /// Survey answers.
    #[serde(default)]
    pub surveys: Vec<SurveyResponse>,
    /// Service requests, their steps included.
    #[serde(default)]
    pub requests: Vec<ServiceRequest>,
    /// Tasks, done ones included.
    #[serde(default)]
    pub tasks: Vec<Task>,
    /// The points ledger of every customer.
    #[serde(default)]
    pub points: Vec<PointsEntry>,
    /// Segments, by name.
    #[serde(default)]
    pub segments: Vec<Segment>,
    /// Costs (spend on marketing, tools …), voided ones included, by id.
    #[serde(default)]
    pub costs: Vec<Cost>,
    /// The tiers of the points program, lowest threshold first.
    #[serde(default)]
    pub points_tiers: Vec<PointsTier>,
    /// The holiday calendar kept with the books (chosen presets, own holidays by key);
    /// left out of the document while it is empty.
    #[serde(default, skip_serializing_if = "holidays_empty")]
    pub holidays: solocrm_core::holiday::HolidayCalendar,
    /// Sales targets, by period then metric; left out of the document while there
    /// are none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub targets: Vec<solocrm_core::target::Target>,
    /// Survey templates, by name; left out of the document while there are none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub survey_templates: Vec<solocrm_core::questionnaire::SurveyTemplate>,
    /// Survey sheets, by time, customer, template; left out while there are none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub survey_sheets: Vec<solocrm_core::questionnaire::SurveySheet>,
    /// Participations, by time, customer, kind; left out while there are none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub participations: Vec<solocrm_core::participation::Participation>,
    /// Needs and pain points, by id; left out of the document while there are none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub needs: Vec<solocrm_core::need::Need>,
    /// Offers (coupons), by code; left out of the document while there are none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub offers: Vec<solocrm_core::offer::Offer>,
    /// Redemptions of offers, by purchase id; left out while there are none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub redemptions: Vec<solocrm_core::offer::Redemption>,
    /// The product catalogue, archived products included, by SKU.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub products: Vec<solocrm_core::product::Product>,
    /// The lines of the purchases that have some, by purchase id and then in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub purchase_lines: Vec<ArchivedLine>,
    /// Campaigns, by id; left out of the document while there are none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub campaigns: Vec<solocrm_core::campaign::Campaign>,
    /// Attributions to campaigns: customers, then deals, then costs, each by id; left
    /// out while there are none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attributions: Vec<solocrm_core::campaign::Attribution>,
    /// The audit log.
    #[serde(default)]
    pub audit: Vec<AuditEntry>,
    /// The event outbox.
    #[serde(default)]
    pub events: Vec<Event>,
}

/// Why an archive could not be read, checked or imported. Nothing was written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ArchiveError {
    /// The document is not valid JSON or a value in it is not valid; the message
    /// starts with the path to it (`customers[3].email: …`).
    #[error("{0}")]
    Parse(#[from] serde_path_to_error::Error<serde_json::Error>),
    /// A record breaks a rule that spans records (an unknown customer, an id out of
    /// order, a taken email …).
    #[error("{path}: {message}")]
    Invalid {
        /// Where: `purchases[4].customer`.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// The book already holds records.
    #[error(
        "the book is not empty ({what}); `import all` restores an archive into a new book only (solocrm init one first)"
    )]
    NotEmpty {
        /// What was found.
        what: String,
    },
    /// The archive's currency is not the book's.
    #[error(
        "the archive's books are kept in {archive}, this book in {book}; create the book with --currency {archive}"
    )]
    Currency {
        /// The archive's.
        archive: Currency,
        /// The book's.
        book: Currency,
    },
    /// The books could not be read or written.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The document could not be written.
    #[error(transparent)]
    Json(#[from] serde_json::Error),
    /// The input or output failed.
    #[error(transparent)]
    Io(#[from] io::Error),
}

fn invalid(path: String, message: impl Into<String>) -> ArchiveError {
    ArchiveError::Invalid {
        path,
        message: message.into(),
    }
}

/// How many customers one read asks for.
const PAGE: u32 = 1000;

/// Reads every record of `books` in one snapshot.
///
/// # Errors
///
/// The backend's.
pub fn read_archive(books: &Books) -> Result<Archive, StoreError> {
    let book_id = books.book_id()?;
    let mut archive = None;
    books.storage().read(&mut |tx| {
        archive = Some(read_tx(tx, book_id.clone())?);
        Ok(())
    })?;
    archive.ok_or_else(|| StoreError::backend(io::Error::other("the read did not run")))
}

fn read_tx(tx: &dyn ReadTx, book_id: String) -> Result<Archive, StoreError> {
    let filter = CustomerFilter {
        include_erased: true,
        ..CustomerFilter::default()
    };
    let mut customers: Vec<Customer> = Vec::new();
    loop {
        let page = tx.customers(&filter, customers.last().map(Customer::id), PAGE)?;
        let done = page.len() < PAGE as usize;
        customers.extend(page);
        if done {
            break;
        }
    }
    let mut stage_history = Vec::new();
    let mut points = Vec::new();
    for c in &customers {
        stage_history.extend(tx.stage_history(c.id())?);
        points.extend(tx.points_ledger(c.id())?);
    }
    points.sort_by_key(|p: &PointsEntry| p.id());
    let mut interactions = tx.interactions(&ActivityQuery::EVERYTHING)?;
    interactions.sort_by_key(|r| r.id());
    let mut purchases = tx.purchases(&ActivityQuery::EVERYTHING)?;
    purchases.sort_by_key(|r| r.id());
    let mut refunds = tx.refunds(&ActivityQuery::ALL)?;
    refunds.sort_by_key(|r| r.id());
    let mut surveys = tx.surveys(&ActivityQuery::EVERYTHING)?;
    surveys.sort_by_key(|r| r.id());
    let every = OpenQuery {
        customer: None,
        open_only: false,
    };
    let mut requests = tx.requests(&every)?;
    requests.sort_by_key(|r| r.id());
    let mut deals = tx.deals(&every)?;
    deals.sort_by_key(|r| r.id());
    let mut tasks = tx.tasks(&TaskQuery {
        customer: None,
        due_until: None,
        include_done: true,
    })?;
    tasks.sort_by_key(|r| r.id());
    let mut events: Vec<Event> = Vec::new();
    loop {
        let page = tx.events(events.last().map_or(0, |e| e.seq), PAGE)?;
        let done = page.len() < PAGE as usize;
        events.extend(page);
        if done {
            break;
        }
    }
    // The counters are the port's: one more than the largest id ever stored, which
    // a read transaction answers from the records (nothing numbered is deleted).
    let mut next_ids = BTreeMap::new();
    let high = |ids: &mut dyn Iterator<Item = u64>| ids.max().map_or(1, |m| m.saturating_add(1));
    next_ids.insert(
        IdKind::Customer,
        high(&mut customers.iter().map(|r| r.id().get())),
    );
    next_ids.insert(
        IdKind::Interaction,
        high(&mut interactions.iter().map(|r| r.id().get())),
    );
    next_ids.insert(
        IdKind::Purchase,
        high(&mut purchases.iter().map(|r| r.id().get())),
    );
    next_ids.insert(
        IdKind::Refund,
        high(&mut refunds.iter().map(|r| r.id().get())),
    );
    next_ids.insert(
        IdKind::Survey,
        high(&mut surveys.iter().map(|r| r.id().get())),
    );
    next_ids.insert(
        IdKind::Request,
        high(&mut requests.iter().map(|r| r.id().get())),
    );
    next_ids.insert(IdKind::Deal, high(&mut deals.iter().map(|r| r.id().get())));
    next_ids.insert(IdKind::Task, high(&mut tasks.iter().map(|r| r.id().get())));
    next_ids.insert(
        IdKind::Points,
        high(&mut points.iter().map(|r| r.id().get())),
    );
    let mut costs = tx.costs()?;
    costs.sort_by_key(|r| r.id());
    next_ids.insert(IdKind::Cost, high(&mut costs.iter().map(|r| r.id().get())));
    let needs = tx.needs(None)?;
    next_ids.insert(IdKind::Need, high(&mut needs.iter().map(|r| r.id.get())));
    let audit = tx.audit_log()?;
    next_ids.insert(IdKind::Audit, high(&mut audit.iter().map(|r| r.id.get())));
    next_ids.insert(IdKind::Event, high(&mut events.iter().map(|r| r.seq)));
    Ok(Archive {
        format: ARCHIVE_FORMAT.to_owned(),
        version: ARCHIVE_VERSION,
        book_id,
        currency: tx.base_currency(),
        timezone: tx.time_zone()?,
        points_validity: tx.points_expiry()?,
        next_ids,
        customers,
        stage_history,
        interactions,
        deals,
        purchases,
        refunds,
        surveys,
        requests,
        tasks,
        points,
        segments: tx.segments()?,
        costs,
        points_tiers: tx.points_tiers()?,
        holidays: tx.holiday_calendar()?,
        targets: tx.targets()?,
        survey_templates: tx.survey_templates()?,
        survey_sheets: tx.survey_sheets(None)?,
        participations: tx.participations(None)?,
        needs,
        offers: tx.offers()?,
        redemptions: tx.redemptions(None)?,
        products: tx.products()?,
        purchase_lines: tx
            .all_purchase_lines()?
            .into_iter()
            .map(|(purchase, line)| ArchivedLine { purchase, line })
            .collect(),
        campaigns: tx.campaigns()?,
        attributions: tx.attributions()?,
        audit,
        events,
    })
}

/// Writes the archive of `books` to `out` as pretty-printed JSON (controls a
/// terminal obeys as `\uXXXX`, the same text to every JSON reader).
///
/// # Errors
///
/// [`ArchiveError`] if the books cannot be read or `out` written.
pub fn export_archive(books: &Books, out: &mut dyn Write) -> Result<(), ArchiveError> {
    let archive = read_archive(books)?;
    write_archive(&archive, out)
}

/// Writes `archive` to `out` as [`export_archive`] does.
///
/// # Errors
///
/// [`ArchiveError::Json`] or [`ArchiveError::Io`].
pub fn write_archive(archive: &Archive, out: &mut dyn Write) -> Result<(), ArchiveError> {
    let mut ser = serde_json::Serializer::with_formatter(
        &mut *out,
        TerminalSafe(serde_json::ser::PrettyFormatter::new()),
    );
    archive.serialize(&mut ser)?;
    writeln!(out)?;
    out.flush()?;
    Ok(())
}

/// Reads and checks an archive ([`Archive::validate`]).
///
/// # Errors
///
/// [`ArchiveError::Parse`] with the path to the bad value, [`ArchiveError::Invalid`]
/// for a rule across records, [`ArchiveError::Io`].
pub fn parse_archive(mut input: impl Read) -> Result<Archive, ArchiveError> {
    let mut bytes = Vec::new();
    input.read_to_end(&mut bytes)?;
    let mut de = serde_json::Deserializer::from_slice(&bytes);
    let archive: Archive =
        serde_path_to_error::deserialize(&mut de).map_err(|e| refine(&bytes, e))?;
    de.end()?;
    archive.validate()?;
    Ok(archive)
}

/// A customer's data is read flattened, which hides the field a bad value is in:
/// an error at `customers[i]` is looked at again field by field, to say
/// `customers[i].email: …`.
fn refine(bytes: &[u8], e: serde_path_to_error::Error<serde_json::Error>) -> ArchiveError {
    let path = e.path().to_string();
    let index = path
        .strip_prefix("customers[")
        .and_then(|r| r.strip_suffix(']'))
        .and_then(|n| n.parse::<usize>().ok());
    let Some(i) = index else {
        return e.into();
    };
    let Ok(doc) = serde_json::from_slice::<serde_json::Value>(bytes) else {
        return e.into();
    };
    let Some(row) = doc.get("customers").and_then(|c| c.get(i)) else {
        return e.into();
    };
    match serde_path_to_error::deserialize::<_, solocrm_core::CustomerData>(row) {
        Err(inner) if inner.path().iter().next().is_some() => invalid(
            format!("{path}.{}", inner.path()),
            inner.inner().to_string(),
        ),
        _ => e.into(),
    }
}

/// Checks that ids of `ids` are strictly ascending; the first one out of order is
/// reported under `list[i].field`.
fn ascending(
    list: &str,
    field: &str,
    ids: impl Iterator<Item = u64>,
) -> Result<HashSet<u64>, ArchiveError> {
    let mut seen = HashSet::new();
    let mut last = 0;
    for (i, id) in ids.enumerate() {
        if id <= last {
            return Err(invalid(
                format!("{list}[{i}].{field}"),
                format!("{id} does not come after {last}: ids are unique and in ascending order"),
            ));
        }
        last = id;
        seen.insert(id);
    }
    Ok(seen)
}

impl Archive {
    /// Checks what single values cannot: the format and version, ids unique and
    /// ascending, every reference to a customer, purchase or deal pointing into the
    /// archive, emails, external references and segment names unique, each points
    /// ledger adding up, and the id counters matching the records.
    ///
    /// # Errors
    ///
    /// [`ArchiveError::Invalid`] naming the first bad value.
    pub fn validate(&self) -> Result<(), ArchiveError> {
        if self.format != ARCHIVE_FORMAT {
            return Err(invalid(
                "format".into(),
                format!("'{}' is not {ARCHIVE_FORMAT}", self.format),
            ));
        }
        if self.version != ARCHIVE_VERSION {
            return Err(invalid(
                "version".into(),
                format!(
                    "version {} is not {ARCHIVE_VERSION}, the one this solocrm reads",
                    self.version
                ),
            ));
        }
        if self.book_id.len() != 16
            || !self
                .book_id
                .bytes()
                .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        {
            return Err(invalid(
                "book_id".into(),
                format!("'{}' is not 16 lowercase hex digits", self.book_id),
            ));
        }
        let customers = ascending(
            "customers",
            "id",
            self.customers.iter().map(|c| c.id().get()),
        )?;
        let mut emails = HashMap::new();
        let mut refs = HashMap::new();
        for (i, c) in self.customers.iter().enumerate() {
            if let Some(email) = c.email()
                && let Some(j) = emails.insert(email.key(), i)
            {
                return Err(invalid(
                    format!("customers[{i}].email"),
                    format!("{email} is customers[{j}]'s already"),
                ));
            }
            if let Some(r) = c.data().external_ref.as_ref()
                && let Some(j) = refs.insert(r.to_string(), i)
            {
                return Err(invalid(
                    format!("customers[{i}].external_ref"),
                    format!("{r} is customers[{j}]'s already"),
                ));
            }
        }
        let known = |list: &str, i: usize, id: CustomerId| {
            if customers.contains(&id.get()) {
                Ok(())
            } else {
                Err(invalid(
                    format!("{list}[{i}].customer"),
                    format!("no customer {id} in the archive"),
                ))
            }
        };
        let mut last_of: HashMap<CustomerId, usize> = HashMap::new();
        for (i, s) in self.stage_history.iter().enumerate() {
            known("stage_history", i, s.customer)?;
            // One customer's changes together, customers in id order, as written.
            if let Some((_, &prev)) = last_of.iter().find(|(c, _)| **c > s.customer) {
                return Err(invalid(
                    format!("stage_history[{i}].customer"),
                    format!(
                        "comes after stage_history[{prev}] of a later customer: the history is by customer id"
                    ),
                ));
            }
            last_of.insert(s.customer, i);
        }
        ascending(
            "interactions",
            "id",
            self.interactions.iter().map(|r| r.id().get()),
        )?;
        for (i, r) in self.interactions.iter().enumerate() {
            known("interactions", i, r.customer())?;
        }
        let deals = ascending("deals", "id", self.deals.iter().map(|r| r.id().get()))?;
        for (i, r) in self.deals.iter().enumerate() {
            known("deals", i, r.customer())?;
        }
        let deal_known = |list: &str, i: usize, deal: Option<solocrm_core::DealId>| match deal {
            Some(d) if !deals.contains(&d.get()) => Err(invalid(
                format!("{list}[{i}].deal"),
                format!("no deal {d} in the archive"),
            )),
            _ => Ok(()),
        };
        ascending(
            "purchases",
            "id",
            self.purchases.iter().map(|r| r.id().get()),
        )?;
        let mut purchase_owner = HashMap::new();
        let mut purchase_refs = HashMap::new();
        for (i, r) in self.purchases.iter().enumerate() {
            known("purchases", i, r.customer())?;
            deal_known("purchases", i, r.deal())?;
            purchase_owner.insert(r.id(), r.customer());
            if let Some(x) = r.external_ref()
                && let Some(j) = purchase_refs.insert(x.to_string(), i)
            {
                return Err(invalid(
                    format!("purchases[{i}].external_ref"),
                    format!("{x} is purchases[{j}]'s already"),
                ));
            }
        }
        ascending("refunds", "id", self.refunds.iter().map(|r| r.id().get()))?;
        for (i, r) in self.refunds.iter().enumerate() {
            match purchase_owner.get(&r.purchase()) {
                None => {
                    return Err(invalid(
                        format!("refunds[{i}].purchase"),
                        format!("no purchase {} in the archive", r.purchase()),
                    ));
                }
                Some(&owner) if owner != r.customer() => {
                    return Err(invalid(
                        format!("refunds[{i}].customer"),
                        format!(
                            "customer {} did not make purchase {}",
                            r.customer(),
                            r.purchase()
                        ),
                    ));
                }
                Some(_) => {}
            }
        }
        ascending("surveys", "id", self.surveys.iter().map(|r| r.id().get()))?;
        for (i, r) in self.surveys.iter().enumerate() {
            known("surveys", i, r.customer())?;
        }
        self.check_survey_sheets(&known)?;
        for (i, p) in self.participations.iter().enumerate() {
            known("participations", i, p.customer)?;
            if i > 0 && self.participations[i - 1].key() >= p.key() {
                return Err(invalid(
                    format!("participations[{i}]"),
                    "participations must come by time, customer and kind, each once",
                ));
            }
        }
        ascending("needs", "id", self.needs.iter().map(|r| r.id.get()))?;
        let deal_owner: HashMap<solocrm_core::DealId, CustomerId> =
            self.deals.iter().map(|r| (r.id(), r.customer())).collect();
        for (i, n) in self.needs.iter().enumerate() {
            known("needs", i, n.customer)?;
            deal_known("needs", i, n.deal)?;
            if let Some(d) = n.deal
                && let Some(&owner) = deal_owner.get(&d)
                && owner != n.customer
            {
                return Err(invalid(
                    format!("needs[{i}].deal"),
                    format!("deal {d} belongs to customer {owner}, not {}", n.customer),
                ));
            }
            if let Some(r) = n.resolved_at
                && r < n.at
            {
                return Err(invalid(
                    format!("needs[{i}].resolved_at"),
                    "a need cannot be resolved before it was recorded".to_owned(),
                ));
            }
        }
        ascending("requests", "id", self.requests.iter().map(|r| r.id().get()))?;
        for (i, r) in self.requests.iter().enumerate() {
            known("requests", i, r.customer())?;
            deal_known("requests", i, r.deal())?;
        }
        ascending("tasks", "id", self.tasks.iter().map(|r| r.id().get()))?;
        for (i, r) in self.tasks.iter().enumerate() {
            if let Some(c) = r.customer() {
                known("tasks", i, c)?;
            }
        }
        ascending("points", "id", self.points.iter().map(|r| r.id().get()))?;
        let mut balances: HashMap<CustomerId, i64> = HashMap::new();
        for (i, r) in self.points.iter().enumerate() {
            known("points", i, r.customer())?;
            let before = balances.get(&r.customer()).copied().unwrap_or(0);
            if before.checked_add(r.delta()) != Some(r.balance_after()) {
                return Err(invalid(
                    format!("points[{i}].balance_after"),
                    format!(
                        "{} is not the balance before ({before}) plus the change ({})",
                        r.balance_after(),
                        r.delta()
                    ),
                ));
            }
            balances.insert(r.customer(), r.balance_after());
        }
        let mut names = HashSet::new();
        for (i, s) in self.segments.iter().enumerate() {
            if !names.insert(s.name.to_string()) {
                return Err(invalid(
                    format!("segments[{i}].name"),
                    format!("a segment named {} is there already", s.name),
                ));
            }
        }
        ascending("costs", "id", self.costs.iter().map(|r| r.id().get()))?;
        if let Err(e) = solocrm_core::PointsTiers::new(self.points_tiers.clone()) {
            return Err(invalid("points_tiers".to_owned(), e.to_string()));
        }
        self.check_holidays()?;
        self.check_targets()?;
        self.check_offers()?;
        self.check_products()?;
        self.check_campaigns()?;
        ascending("audit", "id", self.audit.iter().map(|r| r.id.get()))?;
        ascending("events", "seq", self.events.iter().map(|r| r.seq))?;
        self.check_counters()
    }

    /// Campaigns by id, each name once (ignoring case); attributions in listing order,
    /// each subject once, naming a campaign of the archive and a customer, deal or
    /// cost of it.
    fn check_campaigns(&self) -> Result<(), ArchiveError> {
        ascending(
            "campaigns",
            "id",
            self.campaigns.iter().map(|c| c.id().get()),
        )?;
        let mut names = HashSet::new();
        for (i, c) in self.campaigns.iter().enumerate() {
            // A budget is money of the books: in their currency, as products and
            // offers are.
            if let Err(e) = c.fields().clone().for_storage(self.currency) {
                return Err(invalid(format!("campaigns[{i}].budget"), e.to_string()));
            }
            if !names.insert(c.name_key()) {
                return Err(invalid(
                    format!("campaigns[{i}].name"),
                    format!("a campaign named {} is there already", c.name()),
                ));
            }
        }
        let ids: HashSet<_> = self.campaigns.iter().map(|c| c.id()).collect();
        let customer_ids: HashSet<CustomerId> = self.customers.iter().map(|x| x.id()).collect();
        let deal_ids: HashSet<solocrm_core::DealId> = self.deals.iter().map(|x| x.id()).collect();
        let cost_ids: HashSet<solocrm_core::CostId> = self.costs.iter().map(|x| x.id()).collect();
        for (i, a) in self.attributions.iter().enumerate() {
            if i > 0 && self.attributions[i - 1].subject >= a.subject {
                return Err(invalid(
                    format!("attributions[{i}]"),
                    "attributions must come customers, deals, then costs, each by id, each once",
                ));
            }
            if !ids.contains(&a.campaign) {
                return Err(invalid(
                    format!("attributions[{i}].campaign"),
                    format!("there is no campaign {}", a.campaign),
                ));
            }
            use solocrm_core::campaign::AttributionSubject as S;
            let known = match a.subject {
                S::Customer(c) => customer_ids.contains(&c),
                S::Deal(d) => deal_ids.contains(&d),
                S::Cost(c) => cost_ids.contains(&c),
            };
            if !known {
                return Err(invalid(
                    format!("attributions[{i}]"),
                    format!("there is no {} {}", a.subject.kind(), a.subject.raw_id()),
                ));
            }
        }
        Ok(())
    }

    /// The targets: in listing order (period start, span, metric), each metric and
    /// period once.
    fn check_targets(&self) -> Result<(), ArchiveError> {
        for (i, w) in self.targets.windows(2).enumerate() {
            if w[0].sort_key() >= w[1].sort_key() {
                return Err(invalid(
                    format!("targets[{}]", i + 1),
                    "targets must come by period then metric, each pair once",
                ));
            }
        }
        Ok(())
    }

    /// Survey templates by name, each name once; sheets by key, each key once, of a
    /// known customer and template, their answers fitting the template.
    fn check_survey_sheets(
        &self,
        known: &dyn Fn(&str, usize, CustomerId) -> Result<(), ArchiveError>,
    ) -> Result<(), ArchiveError> {
        for (i, t) in self.survey_templates.iter().enumerate() {
            if i > 0 && self.survey_templates[i - 1].name() >= t.name() {
                return Err(invalid(
                    format!("survey_templates[{i}].name"),
                    "templates must come by name, each name once",
                ));
            }
        }
        for (i, sh) in self.survey_sheets.iter().enumerate() {
            known("survey_sheets", i, sh.customer)?;
            if i > 0 && self.survey_sheets[i - 1].key() >= sh.key() {
                return Err(invalid(
                    format!("survey_sheets[{i}]"),
                    "sheets must come by time, customer and template, each once",
                ));
            }
            let template = self
                .survey_templates
                .iter()
                .find(|t| t.name() == &sh.template)
                .ok_or_else(|| {
                    invalid(
                        format!("survey_sheets[{i}].template"),
                        format!("no survey template {} in the archive", sh.template),
                    )
                })?;
            // An erased customer's sheet may have lost every answer (its text).
            if !sh.answers.is_empty() {
                template
                    .check(&sh.answers)
                    .map_err(|e| invalid(format!("survey_sheets[{i}].answers"), e.to_string()))?;
            }
        }
        Ok(())
    }

    /// The holiday calendar: presets without repeats; own holidays by key, each key
    /// once, each a fixed or lunar date.
    fn check_holidays(&self) -> Result<(), ArchiveError> {
        for (i, p) in self.holidays.presets.iter().enumerate() {
            if self.holidays.presets[..i].contains(p) {
                return Err(invalid(
                    format!("holidays.presets[{i}]"),
                    format!("the preset {} is there already", p.key()),
                ));
            }
        }
        for (i, h) in self.holidays.own.iter().enumerate() {
            if i > 0 && self.holidays.own[i - 1].key >= h.key {
                return Err(invalid(
                    format!("holidays.own[{i}].key"),
                    "own holidays must come by key, each key once",
                ));
            }
            if !h.rule.is_storable() {
                return Err(invalid(
                    format!("holidays.own[{i}].rule"),
                    "an own holiday is a fixed or a lunar date",
                ));
            }
        }
        Ok(())
    }

    /// The catalogue by SKU, each once; every line names a stored purchase and a
    /// product of the catalogue, the lines of a purchase come together, and each
    /// purchase's amount is exactly the sum of its lines.
    fn check_products(&self) -> Result<(), ArchiveError> {
        for (i, p) in self.products.iter().enumerate() {
            if i > 0 && self.products[i - 1].sku >= p.sku {
                return Err(invalid(
                    format!("products[{i}].sku"),
                    "products must come by SKU, each SKU once",
                ));
            }
            // Priced in the books' currency, as the stores keep them.
            p.clone()
                .for_storage(self.currency)
                .map_err(|e| invalid(format!("products[{i}]"), e.to_string()))?;
        }
        let skus: HashSet<&solocrm_core::product::Sku> =
            self.products.iter().map(|p| &p.sku).collect();
        let amounts: HashMap<u64, solocrm_core::Money> = self
            .purchases
            .iter()
            .map(|p| (p.id().get(), p.amount()))
            .collect();
        let mut start = 0;
        while start < self.purchase_lines.len() {
            let purchase = self.purchase_lines[start].purchase;
            if start > 0 && self.purchase_lines[start - 1].purchase > purchase {
                return Err(invalid(
                    format!("purchase_lines[{start}].purchase"),
                    "lines must come by purchase id",
                ));
            }
            let end = start
                + self.purchase_lines[start..]
                    .iter()
                    .take_while(|l| l.purchase == purchase)
                    .count();
            let Some(&amount) = amounts.get(&purchase.get()) else {
                return Err(invalid(
                    format!("purchase_lines[{start}].purchase"),
                    format!("there is no purchase {purchase}"),
                ));
            };
            let lines: Vec<solocrm_core::product::PurchaseLine> = self.purchase_lines[start..end]
                .iter()
                .map(|l| l.line.clone())
                .collect();
            for (k, l) in lines.iter().enumerate() {
                if !skus.contains(&l.sku) {
                    return Err(invalid(
                        format!("purchase_lines[{}].sku", start + k),
                        format!("there is no product {}", l.sku),
                    ));
                }
                if let Err(e) = l.clone().for_storage(self.currency) {
                    return Err(invalid(
                        format!("purchase_lines[{}]", start + k),
                        e.to_string(),
                    ));
                }
            }
            if let Err(e) = solocrm_core::product::check_lines(amount, &lines) {
                return Err(invalid(format!("purchase_lines[{start}]"), e.to_string()));
            }
            start = end;
        }
        Ok(())
    }

    /// The id counters must be what the records give: one more than the largest id.
    fn check_counters(&self) -> Result<(), ArchiveError> {
        let high =
            |ids: &mut dyn Iterator<Item = u64>| ids.max().map_or(1, |m| m.saturating_add(1));
        for kind in IdKind::ALL {
            let from_records = match kind {
                IdKind::Customer => high(&mut self.customers.iter().map(|r| r.id().get())),
                IdKind::Interaction => high(&mut self.interactions.iter().map(|r| r.id().get())),
                IdKind::Purchase => high(&mut self.purchases.iter().map(|r| r.id().get())),
                IdKind::Refund => high(&mut self.refunds.iter().map(|r| r.id().get())),
                IdKind::Survey => high(&mut self.surveys.iter().map(|r| r.id().get())),
                IdKind::Request => high(&mut self.requests.iter().map(|r| r.id().get())),
                IdKind::Deal => high(&mut self.deals.iter().map(|r| r.id().get())),
                IdKind::Task => high(&mut self.tasks.iter().map(|r| r.id().get())),
                IdKind::Points => high(&mut self.points.iter().map(|r| r.id().get())),
                IdKind::Cost => high(&mut self.costs.iter().map(|r| r.id().get())),
                IdKind::Need => high(&mut self.needs.iter().map(|r| r.id.get())),
                IdKind::Audit => high(&mut self.audit.iter().map(|r| r.id.get())),
                IdKind::Event => high(&mut self.events.iter().map(|r| r.seq)),
            };
            let name = serde_json::to_value(kind)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_else(|| format!("{kind:?}"));
            match self.next_ids.get(&kind) {
                Some(&n) if n == from_records => {}
                Some(&n) => {
                    return Err(invalid(
                        format!("next_ids.{name}"),
                        format!("{n} is not what the records give ({from_records})"),
                    ));
                }
                // An archive written before needs existed has no counter for them.
                None if kind == IdKind::Need && from_records == 1 => {}
                None => {
                    return Err(invalid(format!("next_ids.{name}"), "missing".to_owned()));
                }
            }
        }
        Ok(())
    }

    /// Offers by code, each code once, each valid for the archive's currency;
    /// redemptions by purchase, each of an offer, a purchase and a customer in the
    /// archive.
    fn check_offers(&self) -> Result<(), ArchiveError> {
        for (i, o) in self.offers.iter().enumerate() {
            if i > 0 && self.offers[i - 1].code >= o.code {
                return Err(invalid(
                    format!("offers[{i}].code"),
                    "offers must come by code, each code once",
                ));
            }
            if let Err(e) = o.clone().checked(self.currency) {
                return Err(invalid(format!("offers[{i}]"), e.to_string()));
            }
        }
        ascending(
            "redemptions",
            "purchase",
            self.redemptions.iter().map(|r| r.purchase.get()),
        )?;
        for (i, r) in self.redemptions.iter().enumerate() {
            let bought = self
                .purchases
                .binary_search_by_key(&r.purchase, |p| p.id())
                .ok()
                .map(|k| &self.purchases[k]);
            let fits = self.offers.iter().any(|o| o.code == r.code)
                && bought.is_some_and(|p| p.customer() == r.customer && p.at() == r.at)
                && r.discount.currency() == self.currency
                && !r.discount.is_negative();
            if !fits {
                return Err(invalid(
                    format!("redemptions[{i}]"),
                    "a redemption names an offer of the archive and a purchase of its customer, at its time",
                ));
            }
        }
        Ok(())
    }

    /// How many records of each kind the archive holds, for a summary.
    pub fn counts(&self) -> Vec<(&'static str, usize)> {
        vec![
            ("customers", self.customers.len()),
            ("stage changes", self.stage_history.len()),
            ("interactions", self.interactions.len()),
            ("deals", self.deals.len()),
            ("purchases", self.purchases.len()),
            ("refunds", self.refunds.len()),
            ("surveys", self.surveys.len()),
            ("requests", self.requests.len()),
            ("tasks", self.tasks.len()),
            ("points entries", self.points.len()),
            ("segments", self.segments.len()),
            ("costs", self.costs.len()),
            ("points tiers", self.points_tiers.len()),
            ("own holidays", self.holidays.own.len()),
            ("targets", self.targets.len()),
            ("survey templates", self.survey_templates.len()),
            ("survey sheets", self.survey_sheets.len()),
            ("participations", self.participations.len()),
            ("needs", self.needs.len()),
            ("offers", self.offers.len()),
            ("redemptions", self.redemptions.len()),
            ("products", self.products.len()),
            ("purchase lines", self.purchase_lines.len()),
            ("campaigns", self.campaigns.len()),
            ("attributions", self.attributions.len()),
            ("audit entries", self.audit.len()),
            ("events", self.events.len()),
        ]
    }
}

/// One purchase line of an [`Archive`]: the purchase it belongs to and the line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArchivedLine {
    /// The purchase.
    pub purchase: solocrm_core::PurchaseId,
    /// The line.
    #[serde(flatten)]
    pub line: solocrm_core::product::PurchaseLine,
}

fn holidays_empty(c: &solocrm_core::holiday::HolidayCalendar) -> bool {
    c.presets.is_empty() && c.own.is_empty()
}

/// What `books` holds already, if anything: `3 customers`, `an event`, …
fn contents(tx: &dyn ReadTx) -> Result<Option<String>, StoreError> {
    let customers = tx.count_customers()?;
    if customers > 0 {
        return Ok(Some(format!("{customers} customers")));
    }
    if !tx.segments()?.is_empty() {
        return Ok(Some("segments".to_owned()));
    }
    if !tx.costs()?.is_empty() {
        return Ok(Some("costs".to_owned()));
    }
    if !tx.points_tiers()?.is_empty() {
        return Ok(Some("points tiers".to_owned()));
    }
    if tx.holiday_calendar()? != solocrm_core::holiday::HolidayCalendar::default() {
        return Ok(Some("a holiday calendar".to_owned()));
    }
    if !tx.targets()?.is_empty() {
        return Ok(Some("targets".to_owned()));
    }
    if !tx.survey_templates()?.is_empty() {
        return Ok(Some("survey templates".to_owned()));
    }
    if !tx.offers()?.is_empty() {
        return Ok(Some("offers".to_owned()));
    }
    if !tx.products()?.is_empty() {
        return Ok(Some("products".to_owned()));
    }
    if !tx.campaigns()?.is_empty() {
        return Ok(Some("campaigns".to_owned()));
    }
    Ok(None)
}

/// Restores `archive` into `books`, which must be empty and kept in the archive's
/// currency: sets the time zone, inserts every record under its own id in one
/// transaction, then takes the archive's book id. Returns the archive's
/// [counts](Archive::counts).
///
/// # Errors
///
/// [`ArchiveError::NotEmpty`], [`ArchiveError::Currency`], or the backend's error;
/// nothing is written then.
pub fn import_archive(books: &Books, archive: &Archive) -> Result<(), ArchiveError> {
    if archive.currency != books.currency() {
        return Err(ArchiveError::Currency {
            archive: archive.currency,
            book: books.currency(),
        });
    }
    let old_id = books.book_id()?;
    let mut refused: Option<String> = None;
    let written = books.storage().write(&mut |w| {
        refused = None;
        if let Some(what) = contents(w)? {
            refused = Some(what);
            return Ok(());
        }
        for kind in IdKind::ALL {
            if w.next_id(kind)? != 1 {
                refused = Some(format!("{kind:?} records"));
                return Ok(());
            }
        }
        w.set_time_zone(archive.timezone)?;
        w.set_points_expiry(archive.points_validity.as_ref())?;
        for r in &archive.customers {
            w.insert_customer(r)?;
        }
        for r in &archive.stage_history {
            w.push_stage_change(r)?;
        }
        for r in &archive.deals {
            w.insert_deal(r)?;
        }
        for r in &archive.interactions {
            w.insert_interaction(r)?;
        }
        w.expect_purchases(archive.purchases.len() as u64)?;
        for r in &archive.purchases {
            w.insert_purchase(r)?;
        }
        for r in &archive.refunds {
            w.insert_refund(r)?;
        }
        for r in &archive.surveys {
            w.insert_survey(r)?;
        }
        for r in &archive.requests {
            w.insert_request(r)?;
        }
        for r in &archive.tasks {
            w.insert_task(r)?;
        }
        for r in &archive.points {
            w.insert_points(r)?;
        }
        for r in &archive.segments {
            w.insert_segment(r)?;
        }
        for r in &archive.costs {
            w.insert_cost(r)?;
        }
        for r in &archive.points_tiers {
            w.put_points_tier(r)?;
        }
        for r in &archive.holidays.own {
            w.put_holiday(r)?;
        }
        w.set_holiday_presets(&archive.holidays.presets)?;
        for r in &archive.targets {
            w.put_target(r)?;
        }
        for r in &archive.survey_templates {
            w.insert_survey_template(r)?;
        }
        for r in &archive.survey_sheets {
            w.insert_survey_sheet(r)?;
        }
        for r in &archive.participations {
            w.insert_participation(r)?;
        }
        for r in &archive.needs {
            w.insert_need(r)?;
        }
        for r in &archive.offers {
            w.put_offer(r)?;
        }
        for r in &archive.redemptions {
            // Restored as they were: the limits held when they were redeemed.
            if w.redeem_within_limits(r, None, None)?
                != solocrm_core::offer::RedeemOutcome::Redeemed
            {
                return Err(StoreError::backend(io::Error::other(format!(
                    "the redemption on purchase {} was not restored",
                    r.purchase
                ))));
            }
        }
        for r in &archive.products {
            w.put_product(r)?;
        }
        for group in archive
            .purchase_lines
            .chunk_by(|a, b| a.purchase == b.purchase)
        {
            let lines: Vec<solocrm_core::product::PurchaseLine> =
                group.iter().map(|l| l.line.clone()).collect();
            w.insert_purchase_lines(group[0].purchase, &lines)?;
        }
        for r in &archive.campaigns {
            w.put_campaign(r)?;
        }
        for r in &archive.attributions {
            w.put_attribution(r)?;
        }
        for r in &archive.audit {
            w.insert_audit(r)?;
        }
        for r in &archive.events {
            w.append_event(r)?;
        }
        // What the port counts from now on must be what the book counted.
        for (&kind, &next) in &archive.next_ids {
            let got = w.next_id(kind)?;
            if got != next {
                return Err(StoreError::backend(io::Error::other(format!(
                    "after the import the next {kind:?} id is {got}, not the archive's {next}"
                ))));
            }
        }
        Ok(())
    });
    written?;
    if let Some(what) = refused {
        return Err(ArchiveError::NotEmpty { what });
    }
    if archive.book_id != old_id {
        books.adopt_book_id(&archive.book_id)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Location, OpenOptions};

    fn empty() -> Books {
        Books::create(&Location::Memory, Currency::CNY, &OpenOptions::new()).expect("a book")
    }

    fn json(archive: &Archive) -> String {
        let mut out = Vec::new();
        write_archive(archive, &mut out).expect("written");
        String::from_utf8(out).expect("utf-8")
    }

    #[test]
    fn an_empty_book_round_trips() {
        let books = empty();
        let a = read_archive(&books).expect("read");
        assert_eq!(a.next_ids.len(), IdKind::ALL.len());
        let text = json(&a);
        assert!(text.starts_with("{\n  \"format\": \"solocrm-archive\",\n  \"version\": 1,"));
        let back = parse_archive(text.as_bytes()).expect("parsed");
        let other = empty();
        import_archive(&other, &back).expect("imported");
        assert_eq!(json(&read_archive(&other).expect("read")), text);
    }

    #[test]
    fn a_bad_value_is_reported_with_its_path() {
        let books = empty();
        let text = json(&read_archive(&books).expect("read"));
        let bad = text.replace("\"version\": 1", "\"version\": \"one\"");
        let e = parse_archive(bad.as_bytes()).expect_err("refused");
        assert!(e.to_string().starts_with("version: invalid type"), "{e}");
        let unknown = text.replacen('{', "{\"tier_rules\": [],", 1);
        let e = parse_archive(unknown.as_bytes()).expect_err("refused");
        assert!(e.to_string().contains("unknown field `tier_rules`"), "{e}");
        let counters = text.replace("\"customer\": 1", "\"customer\": 5");
        let e = parse_archive(counters.as_bytes()).expect_err("refused");
        assert_eq!(
            e.to_string(),
            "next_ids.customer: 5 is not what the records give (1)"
        );
    }

    /// A random book: the sample business of `customers` customers, one of them
    /// erased, with a segment.
    fn sample(books: &Books, customers: u32, seed: u64) {
        let config = solocrm_sample::GenConfig::new(customers, seed)
            .with_purchases(u64::from(customers) * 4)
            .with_currency(Currency::CNY);
        let made = solocrm_sample::populate(
            &solocrm_core::Crm::from_shared(books.storage().clone()),
            &config,
        )
        .expect("populated");
        let at = "2026-11-29T08:00:00Z".parse().expect("an instant");
        let first = made.customers[0];
        books
            .write(|w| {
                w.erase_customer(first, at)?;
                w.create_segment(Segment {
                    name: solocrm_core::Label::parse("上海常客").expect("a label"),
                    predicate: solocrm_core::Predicate::parse("tag = vip and city = 上海")
                        .expect("a predicate"),
                })?;
                let spend = |amount: &str, channel: Option<&str>| solocrm_core::NewCost {
                    at,
                    amount: solocrm_core::Money::parse(amount, Currency::CNY).expect("money"),
                    category: solocrm_core::CostCategory::Marketing,
                    channel: channel.map(|c| solocrm_core::Tag::parse(c).expect("a tag")),
                    note: Some(solocrm_core::FreeText::parse("小红书推广").expect("a note")),
                };
                w.set_points_tier(solocrm_core::PointsTier {
                    name: solocrm_core::Tag::parse("金卡").expect("a tier name"),
                    min_points: 1000,
                })?;
                // The holiday calendar: two presets and own holidays, lunar leap included.
                w.set_holiday_presets(&[
                    solocrm_core::holiday::Preset::Cn,
                    solocrm_core::holiday::Preset::Western,
                ])?;
                w.put_holiday(solocrm_core::holiday::HolidayDef {
                    key: solocrm_core::Tag::parse("店庆").expect("a key"),
                    name: solocrm_core::Label::parse("店庆").expect("a name"),
                    rule: solocrm_core::holiday::HolidayRule::fixed(6, 18).expect("a day"),
                })?;
                w.put_holiday(solocrm_core::holiday::HolidayDef {
                    key: solocrm_core::Tag::parse("mum").expect("a key"),
                    name: solocrm_core::Label::parse("妈妈生日").expect("a name"),
                    rule: solocrm_core::holiday::HolidayRule::lunar(4, 28, true)
                        .expect("a lunar day"),
                })?;
                // Sales targets of three spans.
                for (metric, period, value) in [
                    (
                        solocrm_core::target::TargetMetric::Revenue,
                        "2025-03",
                        "8800.50",
                    ),
                    (
                        solocrm_core::target::TargetMetric::RetentionRate,
                        "2025-Q1",
                        "0.8",
                    ),
                    (
                        solocrm_core::target::TargetMetric::NewCustomers,
                        "2025",
                        "120",
                    ),
                ] {
                    w.set_target(
                        solocrm_core::target::Target::new(
                            metric,
                            solocrm_core::target::TargetPeriod::parse(period).expect("a period"),
                            value.parse().expect("a value"),
                        )
                        .expect("a target"),
                    )?;
                }
                // A survey template with dimensions and a sheet with a comment.
                {
                    use solocrm_core::questionnaire::{
                        Answer, AnswerValue, Answering, CollectionMethod, Question, Scale,
                        SurveySheet, SurveyTemplate,
                    };
                    let label = |s: &str| solocrm_core::Label::parse(s).expect("a label");
                    let name = solocrm_core::Tag::parse("回访").expect("a name");
                    w.add_survey_template(
                        SurveyTemplate::new(
                            name.clone(),
                            vec![
                                Question {
                                    text: label("服务态度如何？"),
                                    dimension: label("服务质量"),
                                    answering: Answering::Score {
                                        scale: Scale::new(1, 5).expect("a scale"),
                                        role: None,
                                    },
                                },
                                Question {
                                    text: label("还有什么建议？"),
                                    dimension: label("售后支持"),
                                    answering: Answering::Text,
                                },
                            ],
                        )
                        .expect("a template"),
                    )?;
                    let sheet = w.record_survey_sheet(SurveySheet {
                        void: None,
                        template: name,
                        customer: made.customers[1],
                        at,
                        method: CollectionMethod::Phone,
                        answers: vec![
                            Answer {
                                question: 1,
                                value: AnswerValue::Score(4),
                            },
                            Answer {
                                question: 2,
                                value: AnswerValue::Text(
                                    solocrm_core::FreeText::parse("希望周末也能送货")
                                        .expect("text"),
                                ),
                            },
                        ],
                    })?;
                    // Voided (ADR 0050): the archive carries the mark both ways.
                    w.void_survey_sheet(
                        &sheet.key(),
                        solocrm_core::Void::at(at)
                            .because(solocrm_core::FreeText::parse("录错了客户").expect("text")),
                    )?;
                }
                w.record_participation(solocrm_core::participation::Participation {
                    customer: made.customers[1],
                    at,
                    kind: solocrm_core::participation::ParticipationKind::Suggestion,
                    note: Some(solocrm_core::FreeText::parse("建议增加会员日").expect("a note")),
                })?;
                // A pain point, resolved, and an open need.
                {
                    use solocrm_core::need::{NeedKind, NewNeed};
                    let slow = w.record_need(NewNeed {
                        customer: made.customers[1],
                        deal: None,
                        kind: NeedKind::PainPoint,
                        key: solocrm_core::Tag::parse("发货慢").expect("a key"),
                        note: Some(solocrm_core::FreeText::parse("上次等了两周").expect("a note")),
                        at,
                    })?;
                    w.resolve_need(slow.id, at + chrono::Duration::days(3))?;
                    w.record_need(NewNeed {
                        customer: made.customers[1],
                        deal: None,
                        kind: NeedKind::Need,
                        key: solocrm_core::Tag::parse("fast-delivery").expect("a key"),
                        note: None,
                        at,
                    })?;
                }
                // A campaign with a customer, a deal and a cost attributed to it.
                let live = w.add_campaign(solocrm_core::campaign::NewCampaign {
                    budget: Some(solocrm_core::Money::from_minor(500_000, Currency::CNY)),
                    note: Some(solocrm_core::FreeText::parse("三场直播").expect("a note")),
                    ..solocrm_core::campaign::NewCampaign::new(
                        solocrm_core::Label::parse("双十一直播").expect("a name"),
                        solocrm_core::Tag::parse("douyin").expect("a channel"),
                        at.date_naive(),
                    )
                })?;
                w.attribute(
                    solocrm_core::campaign::AttributionSubject::Customer(made.customers[1]),
                    Some(live.id()),
                )?;
                w.record_campaign_cost(
                    solocrm_core::NewCost {
                        at,
                        amount: solocrm_core::Money::from_minor(120_000, Currency::CNY),
                        category: solocrm_core::CostCategory::Marketing,
                        channel: Some(solocrm_core::Tag::parse("douyin").expect("a tag")),
                        note: None,
                    },
                    live.id(),
                )?;
                // A catalogue, one product archived, and a purchase with lines.
                let sku = |s: &str| solocrm_core::product::Sku::parse(s).expect("a SKU");
                let yuan = |s: &str| solocrm_core::Money::parse(s, Currency::CNY).expect("money");
                let mut tea = solocrm_core::product::Product::new(
                    sku("TEA-LJ"),
                    solocrm_core::Label::parse("龙井茶").expect("a name"),
                    yuan("88.00"),
                );
                tea.category = Some(solocrm_core::Label::parse("茶叶").expect("a category"));
                tea.cost = Some(yuan("40.00"));
                w.add_product(tea)?;
                w.add_product(solocrm_core::product::Product::new(
                    sku("CUP-01"),
                    solocrm_core::Label::parse("青瓷茶杯").expect("a name"),
                    yuan("35.00"),
                ))?;
                let mut tea_line =
                    solocrm_core::product::PurchaseLine::new(sku("TEA-LJ"), 2, yuan("88.00"));
                tea_line.discount = Some(yuan("6.00"));
                w.record_purchase_with_lines(
                    solocrm_core::NewPurchase::new(made.customers[1], at, yuan("205.00")),
                    vec![
                        tea_line,
                        solocrm_core::product::PurchaseLine::new(sku("CUP-01"), 1, yuan("35.00")),
                    ],
                )?;
                w.remove_product(&sku("CUP-01"))?;
                // A purchase entered by mistake and voided: it travels with its marker.
                let mistake = w.record_purchase(solocrm_core::NewPurchase {
                    customer: made.customers[1],
                    at,
                    amount: solocrm_core::Money::parse("12.00", Currency::CNY).expect("money"),
                    cost: None,
                    description: None,
                    items: None,
                    external_ref: None,
                    deal: None,
                })?;
                w.void_purchase(
                    mistake.id(),
                    solocrm_core::Void {
                        at,
                        by: None,
                        reason: None,
                    },
                )?;
                // A coupon used once: the offer and its redemption travel together.
                let day = at.date_naive();
                w.add_offer(solocrm_core::offer::Offer {
                    code: solocrm_core::offer::OfferCode::parse("CNY-GIFT").expect("a code"),
                    benefit: solocrm_core::offer::Benefit::Gift(
                        solocrm_core::Label::parse("新春礼盒").expect("a label"),
                    ),
                    valid_from: day,
                    valid_until: day,
                    per_customer: Some(1),
                    total: None,
                    audience: None,
                    created_at: at,
                    ended_at: None,
                })?;
                w.add_offer(solocrm_core::offer::Offer {
                    code: solocrm_core::offer::OfferCode::parse("SPRING10").expect("a code"),
                    benefit: solocrm_core::offer::Benefit::Percent(rust_decimal::Decimal::TEN),
                    valid_from: day,
                    valid_until: day,
                    per_customer: None,
                    total: Some(100),
                    audience: Some(solocrm_core::Predicate::parse("tag = vip").expect("parses")),
                    created_at: at,
                    ended_at: Some(at),
                })?;
                w.record_purchase_with_offer(
                    solocrm_core::NewPurchase::new(
                        made.customers[1],
                        at,
                        solocrm_core::Money::parse("99.99", Currency::CNY).expect("money"),
                    ),
                    &solocrm_core::offer::OfferCode::parse("CNY-GIFT").expect("a code"),
                )?;
                let ad = w.record_cost(spend("1200.00", Some("xiaohongshu")))?;
                w.record_cost(spend("99.00", None))?;
                w.void_cost(
                    ad.id(),
                    at,
                    solocrm_core::Label::parse("重复记账").expect("a label"),
                )
                .map(|_| ())
            })
            .expect("written");
    }

    fn sqlite(dir: &tempfile::TempDir, name: &str) -> Books {
        let location = Location::Path(dir.path().join(name));
        Books::create(&location, Currency::CNY, &OpenOptions::new()).expect("a file")
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(6))]

        /// export all → import all into an empty book → export all gives the same
        /// bytes, from memory to SQLite and back.
        #[test]
        fn random_books_round_trip_exactly(seed in 0u64..1_000_000, customers in 2u32..12) {
            let dir = tempfile::tempdir().expect("a directory");
            let from = empty();
            sample(&from, customers, seed);
            let text = json(&read_archive(&from).expect("read"));
            let archive = parse_archive(text.as_bytes()).expect("parsed");
            proptest::prop_assert!(!archive.purchases.is_empty());
            proptest::prop_assert!(archive.purchases.iter().any(|p| p.is_void()));
            proptest::prop_assert_eq!(archive.audit.len(), 1);
            proptest::prop_assert_eq!(archive.holidays.own.len(), 2);
            proptest::prop_assert_eq!(archive.holidays.presets.len(), 2);
            proptest::prop_assert_eq!(archive.survey_templates.len(), 1);
            proptest::prop_assert_eq!(archive.survey_sheets.len(), 1);
            proptest::prop_assert!(archive.survey_sheets[0].is_void());
            proptest::prop_assert_eq!(archive.participations.len(), 1);
            proptest::prop_assert_eq!(archive.needs.len(), 2);
            proptest::prop_assert!(archive.needs.iter().any(|n| n.resolved_at.is_some()));
            proptest::prop_assert_eq!(archive.products.len(), 2);
            proptest::prop_assert!(archive.products.iter().any(|p| p.archived));
            proptest::prop_assert_eq!(archive.purchase_lines.len(), 2);

            let file = sqlite(&dir, "restored.db");
            import_archive(&file, &archive).expect("imported");
            let again = json(&read_archive(&file).expect("read"));
            proptest::prop_assert_eq!(&again, &text);

            let memory = empty();
            import_archive(&memory, &parse_archive(again.as_bytes()).expect("parsed"))
                .expect("imported");
            proptest::prop_assert_eq!(json(&read_archive(&memory).expect("read")), text);
        }
    }

    /// The same business in either backend reads as the same archive, and the
    /// archive holds every kind the sample business makes.
    #[test]
    fn both_backends_give_the_same_archive() {
        let dir = tempfile::tempdir().expect("a directory");
        let memory = empty();
        sample(&memory, 25, 42);
        let file = sqlite(&dir, "same.db");
        sample(&file, 25, 42);
        let mut a = read_archive(&memory).expect("read");
        let b = read_archive(&file).expect("read");
        a.book_id.clone_from(&b.book_id);
        assert_eq!(json(&a), json(&b));
        assert!(a.customers.iter().any(|c| !c.consents().is_empty()));
        assert!(a.customers.iter().any(Customer::is_erased));
        for (kind, n) in a.counts() {
            assert!(n > 0, "no {kind} in the sample");
        }
    }

    #[test]
    fn only_an_empty_book_of_the_same_currency_takes_an_archive() {
        let from = empty();
        sample(&from, 3, 7);
        let archive = read_archive(&from).expect("read");
        let dir = tempfile::tempdir().expect("a directory");
        let full = sqlite(&dir, "full.db");
        sample(&full, 2, 8);
        let before = json(&read_archive(&full).expect("read"));
        let e = import_archive(&full, &archive).expect_err("refused");
        assert!(matches!(e, ArchiveError::NotEmpty { .. }), "{e}");
        assert_eq!(json(&read_archive(&full).expect("read")), before);

        let euros =
            Books::create(&Location::Memory, Currency::EUR, &OpenOptions::new()).expect("a book");
        let e = import_archive(&euros, &archive).expect_err("refused");
        assert_eq!(
            e.to_string(),
            "the archive's books are kept in CNY, this book in EUR; create the book with --currency CNY"
        );
    }

    #[test]
    fn rules_across_records_are_checked_with_a_path() {
        let from = empty();
        sample(&from, 40, 11);
        let good = read_archive(&from).expect("read");

        let mut a = good.clone();
        a.customers.swap(1, 2);
        let e = a.validate().expect_err("refused");
        assert!(e.to_string().starts_with("customers[2].id: "), "{e}");

        let a = good.clone();
        let email = a.customers[1].email().cloned();
        let mut text = json(&a);
        if let (Some(email), Some(other)) = (email, a.customers[2].email()) {
            text = text.replace(&format!("\"{other}\""), &format!("\"{email}\""));
            let e = parse_archive(text.as_bytes()).expect_err("refused");
            assert!(e.to_string().starts_with("customers[2].email: "), "{e}");
        }

        let edited = |list: &str, field: &str, value: u64| {
            let mut v = serde_json::to_value(&good).expect("a value");
            v[list][0][field] = value.into();
            parse_archive(v.to_string().as_bytes())
                .expect_err("refused")
                .to_string()
        };
        assert_eq!(
            edited("interactions", "customer", 424_242),
            "interactions[0].customer: no customer 424242 in the archive"
        );
        assert!(!good.refunds.is_empty());
        assert_eq!(
            edited("refunds", "purchase", 424_242),
            "refunds[0].purchase: no purchase 424242 in the archive"
        );
        assert!(
            edited("points", "balance_after", 424_242)
                .starts_with("points[0].balance_after: 424242 is not the balance before (0) plus")
        );
        let text = json(&good);
        let bad = text.replacen("\"email\": \"", "\"email\": \"not an email", 1);
        let e = parse_archive(bad.as_bytes()).expect_err("refused");
        assert!(
            e.to_string()
                .starts_with("customers[1].email: email 'not an email"),
            "{e}"
        );
    }
}
