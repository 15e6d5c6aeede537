//! `solocrm import ...`
//!
//! Purchases and survey answers stream: a second thread reads and checks the rows and
//! hands them over in parts of [`PART_ROWS`], while the store writes the part before
//! ([`Store::import_parts`]), all in one transaction. Reading and writing overlap, and
//! memory holds a few parts rather than the file. Customers are read whole, because
//! each row is matched against the store (an upsert) before anything is written.
//!
//! By default the first bad row stops the import and nothing is written. With
//! `--skip-invalid`, bad rows go to the rejects file and the rest is imported; a row
//! the store refuses (say, a reference it already holds) is set aside and the import
//! run again without it.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, mpsc};
use std::thread;

use crate::books::Books;
use crate::books::File as _;
use anyhow::{Context as _, Result, anyhow, bail};
use solocrm_core::{
    ActivityQuery, Conflict, CountryCode, Currency, Customer, CustomerData, CustomerId,
    CustomerRef, Email, ExternalRef, FreeText, ImportBatch, ImportPart, ImportReceipt,
    ImportSection, Money, NewCustomer, NewPurchase, NewSurveyResponse, PersonName, Phone,
    PurchaseId, Store, StoreError, SurveyKind, SurveyScore, Tag, ValidationError, text::parse_tags,
};

use super::Ctx;
use super::io::CUSTOMER_COLUMNS;
use crate::cli::{ImportCmd, ImportOpts};
use crate::csvio::{Columns, CsvRows, Next, Row, RowError, Sheet};
use crate::output::Progress;
use crate::parse::{self, CustomerKey};
use crate::paths::{OutFile, Protected};

/// A hash map with a fast, randomly seeded hasher, for the per-row look-ups.
type FastMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// The rows of one part: large enough that handing a part over costs nothing next to
/// writing it, small enough that the parts in flight take little memory.
const PART_ROWS: usize = 8_192;

/// How many parts the reader may be ahead of the store.
const PARTS_AHEAD: usize = 4;

/// The most passes a `--skip-invalid` streamed import makes over its file. The reader
/// checks every row against a fresh snapshot of the store before each pass, so a pass
/// is refused only for what changed in the store since the pass began (another
/// import committing at the same time): one or two passes in practice.
const MAX_PASSES: usize = 16;

pub fn import(ctx: &mut Ctx, cmd: ImportCmd) -> Result<()> {
    let opts = match &cmd {
        ImportCmd::Customers(opts) | ImportCmd::Surveys(opts) => opts,
        ImportCmd::Purchases { opts, .. } => opts,
    };
    // The rejects file is checked and created before anything is read or written: a
    // path that cannot be written must not cost a committed import its rejects.
    let rejects = match &opts.rejects {
        Some(path) if opts.skip_invalid => {
            let protected =
                Protected::database(&ctx.db).with_input(&opts.file, "the file being imported");
            Some(OutFile::create("--rejects", path, &protected)?)
        }
        _ => None,
    };
    let store = ctx.open()?;
    let summary = match cmd {
        ImportCmd::Customers(opts) => import_customers(&store, &opts, rejects, ctx.now)?,
        ImportCmd::Purchases {
            opts,
            create_missing,
        } => import_purchases(&store, &opts, rejects, create_missing)?,
        ImportCmd::Surveys(opts) => import_surveys(&store, &opts, rejects)?,
    };
    if ctx.out.json {
        return ctx.out.json(&summary);
    }
    if summary.rows == 0 {
        return ctx.out.line(format!(
            "nothing to import: {} has a header but no rows",
            summary.file
        ));
    }
    let mut parts: Vec<String> = summary
        .counts
        .iter()
        .map(|(k, v)| format!("{v} {k}"))
        .collect();
    if summary.rejected > 0 {
        parts.push(format!("{} rejected", summary.rejected));
    }
    ctx.out
        .line(format!("imported {}: {}", summary.file, parts.join(", ")))
}

/// What an import did.
#[derive(Debug, serde::Serialize)]
struct Summary {
    file: String,
    counts: Vec<(&'static str, usize)>,
    rejected: usize,
    /// The rows of the file, rejected ones included.
    rows: u64,
}

/// Where each record of an import came from, by section (indices count over the
/// whole import), plus the rows that depend on a customer the import creates (their
/// purchases). `K` is a row index or a line number.
struct Origin<K> {
    rows: [Vec<K>; 4],
    dependents: Vec<(usize, K)>,
}

impl<K> Default for Origin<K> {
    fn default() -> Self {
        Origin {
            rows: Default::default(),
            dependents: Vec::new(),
        }
    }
}

impl<K: Copy + PartialEq> Origin<K> {
    fn slot(section: ImportSection) -> usize {
        ImportSection::ALL
            .iter()
            .position(|s| *s == section)
            .unwrap_or(0)
    }

    /// Records that the next record of `section` comes from `row`.
    fn push(&mut self, section: ImportSection, row: K) {
        self.rows[Self::slot(section)].push(row);
    }

    /// The rows behind record `index` of `section`, its own first.
    fn of(&self, section: ImportSection, index: usize) -> Vec<K> {
        let mut out: Vec<K> = self.rows[Self::slot(section)]
            .get(index)
            .copied()
            .into_iter()
            .collect();
        if section == ImportSection::CreateCustomers {
            out.extend(
                self.dependents
                    .iter()
                    .filter(|(n, _)| *n == index)
                    .map(|(_, row)| *row),
            );
        }
        out.dedup();
        out
    }
}

/// The CSV column a store error is about, where one is.
fn column_of(e: &StoreError) -> Option<&'static str> {
    match e {
        StoreError::Validation(
            ValidationError::NegativeAmount { .. }
            | ValidationError::TooManyDecimals { .. }
            | ValidationError::AmountOutOfRange { .. }
            | ValidationError::CurrencyMismatch { .. },
        ) => Some("amount"),
        StoreError::Conflict(
            Conflict::DuplicatePurchaseRef { .. }
            | Conflict::DuplicateRefInBatch { .. }
            | Conflict::DuplicateExternalRef { .. },
        ) => Some("reference"),
        StoreError::Conflict(Conflict::DuplicateEmail { .. }) => Some("email"),
        StoreError::Conflict(Conflict::CustomerErased { .. }) | StoreError::NotFound { .. } => {
            Some("customer")
        }
        _ => None,
    }
}

/// The row error for a record the store refused, found on `line`.
fn refused(line: u64, error: &StoreError) -> RowError {
    RowError {
        line,
        column: column_of(error).map(str::to_owned),
        reason: error.to_string(),
    }
}

fn cell_err<T, E: std::fmt::Display>(
    row: &Row,
    column: &str,
    r: Result<T, E>,
) -> Result<T, RowError> {
    r.map_err(|e| RowError::at(row.line, column, e))
}

/// A `date` cell: `YYYY-MM-DD` (start of the day, UTC) or RFC 3339.
fn date_cell(cols: &Columns, row: &Row) -> Result<chrono::DateTime<chrono::Utc>, RowError> {
    let v = cols
        .value(row, "date")
        .ok_or_else(|| RowError::at(row.line, "date", "is empty"))?;
    cell_err(row, "date", parse::instant(v))
}

/// An `amount` cell in the store's currency, checked against an optional `currency` cell.
fn amount_cell(cols: &Columns, row: &Row, base: Currency) -> Result<Money, RowError> {
    if let Some(c) = cols.value(row, "currency")
        && c != base.as_str()
    {
        let c = cell_err(row, "currency", Currency::parse(c))?;
        if c != base {
            return Err(RowError::at(
                row.line,
                "currency",
                format!("{c} differs from the database's currency {base}"),
            ));
        }
    }
    let v = cols
        .value(row, "amount")
        .ok_or_else(|| RowError::at(row.line, "amount", "is empty"))?;
    if let Some(m) = parse::stored_amount(v, base) {
        return Ok(m);
    }
    let m = cell_err(row, "amount", Money::parse(v, base))?;
    if m.is_negative() {
        return Err(RowError::at(
            row.line,
            "amount",
            format!("must not be negative, got {v}"),
        ));
    }
    cell_err(row, "amount", m.for_storage("amount", base))
}

/// An optional cell read by `parse`: `None` if the column is absent or the cell empty.
fn optional_cell<T, E: std::fmt::Display>(
    cols: &Columns,
    row: &Row,
    column: &str,
    parse: impl FnOnce(&str) -> Result<T, E>,
) -> Result<Option<T>, RowError> {
    cols.value(row, column)
        .map(parse)
        .transpose()
        .map_err(|e| RowError::at(row.line, column, e))
}

/// An optional free-text cell, kept as written.
fn free_text_cell(cols: &Columns, row: &Row, column: &str) -> Result<Option<FreeText>, RowError> {
    cols.raw(row, column)
        .filter(|s| !s.is_empty())
        .map(FreeText::parse)
        .transpose()
        .map_err(|e| RowError::at(row.line, column, e))
}

// ----- finding the customer a row names -----

/// Every customer's keys, read at the start of each pass over a file: a `customer`
/// cell names a customer as a command line does ([`CustomerKey`]).
struct Keys {
    by_ref: FastMap<String, CustomerId>,
    by_email: FastMap<String, CustomerId>,
    ids: HashSet<CustomerId, foldhash::fast::RandomState>,
    erased: HashSet<CustomerId, foldhash::fast::RandomState>,
    /// This database's book id, which `#N@BOOK` must name.
    book: String,
}

/// Why a `customer` cell names no customer that can take records.
#[derive(Debug, Clone)]
enum Miss {
    /// No customer has the key (one `--create-missing` may create, if a reference).
    Unknown(CustomerKey),
    /// The key can never name a customer here: not a key, or another database's id.
    Refused(String),
}

impl Keys {
    fn load(store: &Books) -> Result<Keys> {
        let all = store.customer_keys()?;
        let mut keys = Keys {
            by_ref: FastMap::default(),
            by_email: FastMap::default(),
            ids: all.iter().map(|k| k.id).collect(),
            erased: all.iter().filter(|k| k.erased).map(|k| k.id).collect(),
            book: store.file()?.book_id()?,
        };
        for k in all {
            if let Some(r) = k.external_ref {
                keys.by_ref.insert(r.to_string(), k.id);
            }
            if let Some(e) = k.email {
                keys.by_email.insert(e.key(), k.id);
            }
        }
        Ok(keys)
    }

    fn find(&self, key: &str) -> Result<CustomerId, Miss> {
        let Some(k) = CustomerKey::parse(key) else {
            return Err(Miss::Refused(CustomerKey::invalid(key)));
        };
        let found = match &k {
            CustomerKey::Id(id) => self.ids.get(id).copied(),
            CustomerKey::BookId(id, book) => {
                if *book != self.book {
                    return Err(Miss::Refused(CustomerKey::foreign(*id, book)));
                }
                self.ids.get(id).copied()
            }
            CustomerKey::Email(e) => self.by_email.get(&e.key()).copied(),
            CustomerKey::Reference(r) => self.by_ref.get(r.as_str()).copied(),
        };
        found.ok_or(Miss::Unknown(k))
    }
}

/// [`Keys::find`] with a memory of the cells seen: a file names each customer many
/// times.
struct Resolver {
    keys: Arc<Keys>,
    cache: FastMap<String, Result<CustomerId, Miss>>,
}

impl Resolver {
    fn new(keys: Arc<Keys>) -> Self {
        Resolver {
            keys,
            cache: FastMap::default(),
        }
    }

    fn find(&mut self, key: &str) -> Result<CustomerId, Miss> {
        if let Some(hit) = self.cache.get(key) {
            return hit.clone();
        }
        let found = self.keys.find(key);
        self.cache.insert(key.to_owned(), found.clone());
        found
    }
}

/// The customer a `customer` cell names (`Ok(Err(key))` if no customer has that key),
/// or why the cell names none that can take new records: empty, not a key, another
/// database's id, or an erased customer (the store's own refusal, found while
/// reading so that `--skip-invalid` need not run the import again).
fn live_customer(
    cols: &Columns,
    row: &Row,
    resolver: &mut Resolver,
) -> Result<Result<CustomerId, CustomerKey>, RowError> {
    let key = cols
        .value(row, "customer")
        .ok_or_else(|| RowError::at(row.line, "customer", "is empty"))?;
    match resolver.find(key) {
        Ok(customer) if resolver.keys.erased.contains(&customer) => {
            let refused = StoreError::from(Conflict::CustomerErased { customer });
            Err(RowError::at(row.line, "customer", refused))
        }
        Ok(customer) => Ok(Ok(customer)),
        Err(Miss::Unknown(k)) => Ok(Err(k)),
        Err(Miss::Refused(why)) => Err(RowError::at(row.line, "customer", why)),
    }
}

fn unknown_customer(row: &Row, key: &CustomerKey, hint: &str) -> RowError {
    RowError::at(row.line, "customer", format!("{}{hint}", key.not_found()))
}

// ----- streamed imports: purchases and survey answers -----

/// Turns the rows of a streamed file into the records of an import.
trait Planner: Send {
    /// Adds the records `row` becomes to `part`, noting their lines in `origin`, or
    /// says why the row cannot be imported (and then adds nothing).
    fn plan(
        &mut self,
        cols: &Columns,
        row: &Row,
        part: &mut ImportBatch,
        origin: &mut Origin<u64>,
    ) -> Result<(), RowError>;
}

/// Who a purchases row belongs to.
enum Who {
    Existing(CustomerId),
    /// A customer to create (with `--create-missing`), named after their reference.
    New(ExternalRef, PersonName),
}

/// Purchases rows: `customer`, `date`, `amount`, optional `currency`, `reference`,
/// `description`.
struct PurchasePlanner {
    resolver: Resolver,
    base: Currency,
    create_missing: bool,
    /// The customers this import creates, by reference, with their index.
    created: FastMap<ExternalRef, usize>,
    /// With `--skip-invalid`: the references checked while reading.
    references: Option<References>,
}

/// With `--skip-invalid`, a row whose reference the store holds, or an earlier row of
/// the file has, is rejected while reading, as the store would refuse it. Otherwise
/// each such row would cost one more run of the whole import (see [`stream`]), and a
/// file imported twice has one per purchase.
struct References {
    stored: Arc<FastMap<String, PurchaseId>>,
    seen: HashSet<String, foldhash::fast::RandomState>,
}

impl References {
    /// The store's refusal of `reference` if an earlier row of the file has it.
    fn repeated(&self, reference: &ExternalRef) -> Option<Conflict> {
        let r = reference.as_str();
        self.seen
            .contains(r)
            .then(|| Conflict::DuplicateRefInBatch {
                reference: r.to_owned(),
            })
    }

    /// The store's refusal of `reference` if the store holds it.
    fn stored(&self, reference: &ExternalRef) -> Option<Conflict> {
        let r = reference.as_str();
        self.stored
            .get(r)
            .map(|&existing| Conflict::DuplicatePurchaseRef {
                reference: r.to_owned(),
                existing,
            })
    }
}

/// Every stored purchase reference and its purchase.
fn stored_references(store: &solocrm_core::Crm) -> Result<FastMap<String, PurchaseId>> {
    Ok(store
        .purchases(&ActivityQuery::ALL)?
        .into_iter()
        .filter_map(|p| p.external_ref().map(|r| (r.to_string(), p.id())))
        .collect())
}

impl Planner for PurchasePlanner {
    fn plan(
        &mut self,
        cols: &Columns,
        row: &Row,
        part: &mut ImportBatch,
        origin: &mut Origin<u64>,
    ) -> Result<(), RowError> {
        // The reference first: the store names a reference repeated within the import
        // before any other fault of the row.
        let reference = optional_cell(cols, row, "reference", ExternalRef::parse)?;
        let refused =
            |conflict: Conflict| RowError::at(row.line, "reference", StoreError::from(conflict));
        if let (Some(refs), Some(r)) = (&self.references, &reference)
            && let Some(repeat) = refs.repeated(r)
        {
            return Err(refused(repeat));
        }
        let found = live_customer(cols, row, &mut self.resolver)?;
        let who = match found {
            Ok(id) => Who::Existing(id),
            Err(CustomerKey::Reference(r)) if self.create_missing => {
                let name = PersonName::parse(r.as_str())
                    .map_err(|e| RowError::at(row.line, "customer", e))?;
                Who::New(r, name)
            }
            Err(k @ CustomerKey::Reference(_)) => {
                return Err(unknown_customer(
                    row,
                    &k,
                    " (pass --create-missing to create one)",
                ));
            }
            Err(k) => return Err(unknown_customer(row, &k, "")),
        };
        let at = date_cell(cols, row)?;
        let amount = amount_cell(cols, row, self.base)?;
        // The store takes the customer from the `CustomerRef` beside the purchase.
        let existing = match &who {
            Who::Existing(id) => *id,
            Who::New(..) => CustomerId::new(0),
        };
        let mut p = NewPurchase::new(existing, at, amount);
        p.description = free_text_cell(cols, row, "description")?;
        if let (Some(refs), Some(r)) = (&mut self.references, &reference) {
            if let Some(stored) = refs.stored(r) {
                return Err(refused(stored));
            }
            refs.seen.insert(r.as_str().to_owned());
        }
        p.external_ref = reference;
        // The row is valid: from here on, it is recorded.
        let who = match who {
            Who::Existing(id) => CustomerRef::Existing(id),
            Who::New(reference, name) => {
                if let Some(&n) = self.created.get(&reference) {
                    origin.dependents.push((n, row.line));
                    CustomerRef::New(n)
                } else {
                    // A new customer is created at the time of their first purchase.
                    let n = self.created.len();
                    let data = CustomerData::new(name).with_external_ref(reference.clone());
                    part.create_customers.push(NewCustomer::new(data, at));
                    origin.push(ImportSection::CreateCustomers, row.line);
                    self.created.insert(reference, n);
                    CustomerRef::New(n)
                }
            }
        };
        part.purchases.push((who, p));
        origin.push(ImportSection::Purchases, row.line);
        Ok(())
    }
}

/// Survey rows: `customer`, `date`, `kind`, `score`, optional `comment`.
struct SurveyPlanner {
    resolver: Resolver,
}

impl Planner for SurveyPlanner {
    fn plan(
        &mut self,
        cols: &Columns,
        row: &Row,
        part: &mut ImportBatch,
        origin: &mut Origin<u64>,
    ) -> Result<(), RowError> {
        let id = live_customer(cols, row, &mut self.resolver)?
            .map_err(|k| unknown_customer(row, &k, ""))?;
        let at = date_cell(cols, row)?;
        let kind = SurveyKind::parse(cols.value(row, "kind").unwrap_or(""))
            .map_err(|e| RowError::at(row.line, "kind", e))?;
        let raw = cols
            .value(row, "score")
            .ok_or_else(|| RowError::at(row.line, "score", "is empty"))?;
        let n: i64 = raw.parse().map_err(|_| {
            RowError::at(row.line, "score", format!("'{raw}' is not a whole number"))
        })?;
        let score = SurveyScore::new(kind, n).map_err(|e| RowError::at(row.line, "score", e))?;
        let comment = free_text_cell(cols, row, "comment")?;
        part.surveys.push((
            CustomerRef::Existing(id),
            NewSurveyResponse {
                customer: id,
                at,
                score,
                comment,
            },
        ));
        origin.push(ImportSection::Surveys, row.line);
        Ok(())
    }
}

/// What one pass of the reader over the file saw.
#[derive(Default)]
struct Pass {
    origin: Origin<u64>,
    /// The rows not imported, with why, in file order (with `--skip-invalid`).
    rejects: Vec<(Row, RowError)>,
    /// Why the reader gave up, aborting the import.
    failure: Option<String>,
    /// The rows read.
    rows: u64,
}

/// Why the reader stopped before the end of the file.
enum Stop {
    /// A bad row (without `--skip-invalid`) or bad CSV: the import must not happen.
    Failed(String),
    /// The store stopped taking parts (it refused a record).
    StoreDone,
}

/// The sending end of the parts. If the reader panics, it aborts the import on the
/// way out, so that the store does not take the parts so far for the whole file.
struct PartSender(mpsc::SyncSender<ImportPart>);

impl PartSender {
    fn send(&self, part: ImportBatch) -> Result<(), Stop> {
        self.0.send(Ok(part)).map_err(|_| Stop::StoreDone)
    }
}

impl Drop for PartSender {
    fn drop(&mut self) {
        if thread::panicking() {
            let _ = self.0.send(Err("the file reader failed".into()));
        }
    }
}

/// The reader's side of a pass: reads the rows, plans them into parts and sends each
/// full part. Rows in `set_aside` are rejected with their recorded reason.
fn read_rows(
    file: &mut CsvRows,
    planner: &mut dyn Planner,
    set_aside: &BTreeMap<u64, RowError>,
    skip_invalid: bool,
    tx: &PartSender,
    pass: &mut Pass,
) -> Result<(), Stop> {
    let mut progress = Progress::new("importing", file.file_len());
    let mut row = Row::default();
    let mut part = ImportBatch::default();
    let mut rows_in_part = 0;
    let result = loop {
        match file.next_into(&mut row) {
            Ok(Next::Row) => {}
            Ok(Next::End) => break tx.send(std::mem::take(&mut part)),
            Ok(Next::Malformed(e)) if skip_invalid => {
                pass.rejects.push((row.clone(), e));
                continue;
            }
            Ok(Next::Malformed(e)) => {
                let path = &file.columns().path;
                break Err(Stop::Failed(format!(
                    "{}; nothing was imported",
                    e.in_file(path)
                )));
            }
            Err(e) => break Err(Stop::Failed(format!("{e:#}; nothing was imported"))),
        }
        if let Some(e) = set_aside.get(&row.line) {
            pass.rejects.push((row.clone(), e.clone()));
            continue;
        }
        match planner.plan(file.columns(), &row, &mut part, &mut pass.origin) {
            Ok(()) => rows_in_part += 1,
            Err(e) if skip_invalid => pass.rejects.push((row.clone(), e)),
            Err(e) => {
                let path = &file.columns().path;
                break Err(Stop::Failed(format!(
                    "{}; nothing was imported",
                    e.in_file(path)
                )));
            }
        }
        if rows_in_part == PART_ROWS {
            if let Err(stop) = tx.send(std::mem::take(&mut part)) {
                break Err(stop);
            }
            rows_in_part = 0;
            progress.set(file.bytes_read());
        }
    };
    progress.finish();
    if let Err(Stop::Failed(why)) = result {
        // The rows before the bad one go to the store first: if it refuses one of
        // them, that earlier row is the one to report. The failure follows, and
        // aborts the import either way.
        if !part.is_empty() && tx.send(part).is_err() {
            return Err(Stop::StoreDone);
        }
        return Err(Stop::Failed(why));
    }
    result
}

/// What [`stream`] did.
struct Streamed {
    receipt: ImportReceipt,
    /// The rows rejected.
    rejected: usize,
    /// The rows of the file, rejected ones included.
    rows: u64,
    /// The passes over the file it took (at most [`MAX_PASSES`]).
    passes: usize,
}

/// Streams the file into the store through a planner, passing again without the rows
/// the store refused (with `--skip-invalid`), until the store takes the import or
/// a row stops it.
///
/// `new_planner(fresh)` makes the planner of each pass; `fresh` is true on every pass
/// after the first, when the planner must check rows against the store as it is now:
/// the store refused a row the planner's snapshot let through, so something changed
/// (another import committed meanwhile). With a fresh snapshot the reader rejects all
/// such rows in one pass, rather than the store refusing them one pass each.
fn stream(
    store: &Books,
    opts: &ImportOpts,
    mut rejects: Option<OutFile>,
    required: &[&'static str],
    optional: &[&'static str],
    new_planner: &mut dyn FnMut(bool) -> Result<Box<dyn Planner>>,
) -> Result<Streamed> {
    let mut set_aside: BTreeMap<u64, RowError> = BTreeMap::new();
    let mut passes = 0;
    loop {
        passes += 1;
        let mut file = CsvRows::open(&opts.file, required, optional, opts.ignore_unknown)?;
        let columns = file.columns().clone();
        let mut planner = new_planner(passes > 1)?;
        let (tx, rx) = mpsc::sync_channel(PARTS_AHEAD);
        let (result, pass) = thread::scope(|scope| {
            let set_aside = &set_aside;
            let planner = planner.as_mut();
            let reader = scope.spawn(move || {
                let tx = PartSender(tx);
                let mut pass = Pass::default();
                if let Err(Stop::Failed(why)) = read_rows(
                    &mut file,
                    planner,
                    set_aside,
                    opts.skip_invalid,
                    &tx,
                    &mut pass,
                ) {
                    let _ = tx.0.send(Err(why.clone().into()));
                    pass.failure = Some(why);
                }
                pass.rows = file.rows_read();
                pass
            });
            let result = store.import_parts(&mut rx.iter());
            // The store is done: a reader still sending stops.
            drop(rx);
            let pass = reader
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            (result, pass)
        });
        match result {
            Ok(receipt) => {
                if let Some(out) = rejects.take() {
                    let rows = receipt.purchases.len() + receipt.surveys.len();
                    columns
                        .write_rejects(out, pass.rejects.iter().map(|(r, e)| (r, e)))
                        .with_context(|| committed(rows, pass.rejects.len()))?;
                }
                return Ok(Streamed {
                    receipt,
                    rejected: pass.rejects.len(),
                    rows: pass.rows,
                    passes,
                });
            }
            Err(StoreError::Aborted(e)) => {
                bail!(
                    pass.failure
                        .unwrap_or_else(|| format!("{e}; nothing was imported"))
                )
            }
            Err(StoreError::Import {
                section,
                index,
                error,
            }) => {
                let lines = pass.origin.of(section, index);
                let Some(&first) = lines.first() else {
                    bail!("{section} record {index}: {error}; nothing was imported");
                };
                let err = refused(first, &error);
                if !opts.skip_invalid {
                    bail!("{}; nothing was imported", err.in_file(&opts.file));
                }
                if passes >= MAX_PASSES {
                    bail!(
                        "{}; the store still refused rows the reader let through after \
                         {passes} passes over the file (another program is probably writing to \
                         the same database at the same time); nothing was imported; run the \
                         import again when that is done",
                        err.in_file(&opts.file)
                    );
                }
                for line in lines {
                    set_aside.insert(
                        line,
                        RowError {
                            line,
                            ..err.clone()
                        },
                    );
                }
            }
            Err(other) => return Err(other).context("the import failed; nothing was imported"),
        }
    }
}

/// What the reader of a purchases file checks rows against: the store's customer keys
/// and (with `--skip-invalid`) its purchase references, as of one moment.
struct Snapshot {
    keys: Arc<Keys>,
    stored: Arc<FastMap<String, PurchaseId>>,
}

impl Snapshot {
    /// The store as it is now; its purchase references only if `references`.
    fn load(store: &Books, references: bool) -> Result<Snapshot> {
        let stored = if references {
            stored_references(store)?
        } else {
            FastMap::default()
        };
        Ok(Snapshot {
            keys: Arc::new(Keys::load(store)?),
            stored: Arc::new(stored),
        })
    }
}

fn import_purchases(
    store: &Books,
    opts: &ImportOpts,
    rejects: Option<OutFile>,
    create_missing: bool,
) -> Result<Summary> {
    let first = Snapshot::load(store, opts.skip_invalid)?;
    Ok(purchases_from(store, opts, rejects, create_missing, first)?.0)
}

/// [`import_purchases`], its first pass checking rows against `first`; also returns
/// the passes it took.
fn purchases_from(
    store: &Books,
    opts: &ImportOpts,
    rejects: Option<OutFile>,
    create_missing: bool,
    first: Snapshot,
) -> Result<(Summary, usize)> {
    let base = store.base_currency();
    let mut snapshot = first;
    let done = stream(
        store,
        opts,
        rejects,
        &["customer", "date", "amount"],
        &["currency", "reference", "description"],
        &mut |fresh| {
            if fresh {
                snapshot = Snapshot::load(store, opts.skip_invalid)?;
            }
            Ok(Box::new(PurchasePlanner {
                resolver: Resolver::new(Arc::clone(&snapshot.keys)),
                base,
                create_missing,
                created: FastMap::default(),
                references: opts.skip_invalid.then(|| References {
                    stored: Arc::clone(&snapshot.stored),
                    seen: HashSet::default(),
                }),
            }))
        },
    )?;
    let summary = Summary {
        file: opts.file.display().to_string(),
        counts: vec![
            ("purchases", done.receipt.purchases.len()),
            ("new customers", done.receipt.created_customers.len()),
        ],
        rejected: done.rejected,
        rows: done.rows,
    };
    Ok((summary, done.passes))
}

fn import_surveys(store: &Books, opts: &ImportOpts, rejects: Option<OutFile>) -> Result<Summary> {
    let mut keys = Arc::new(Keys::load(store)?);
    let done = stream(
        store,
        opts,
        rejects,
        &["customer", "date", "kind", "score"],
        &["comment"],
        &mut |fresh| {
            // A customer erased or added since the last pass.
            if fresh {
                keys = Arc::new(Keys::load(store)?);
            }
            Ok(Box::new(SurveyPlanner {
                resolver: Resolver::new(Arc::clone(&keys)),
            }))
        },
    )?;
    Ok(Summary {
        file: opts.file.display().to_string(),
        counts: vec![("survey answers", done.receipt.surveys.len())],
        rejected: done.rejected,
        rows: done.rows,
    })
}

// ----- customers: read whole, matched against the store, then imported -----

/// One planned row: what it becomes, or why it cannot.
type Planned<T> = Vec<(usize, Result<T, RowError>)>;

/// A batch and where its records came from.
struct Built {
    batch: ImportBatch,
    origin: Origin<usize>,
}

/// Runs a plan: stops at the first bad row, or (with `--skip-invalid`) imports the rest
/// and writes the rejects. `build` turns the accepted rows into a batch.
fn execute<T>(
    store: &solocrm_core::Crm,
    sheet: &Sheet,
    opts: &ImportOpts,
    rejects_file: Option<OutFile>,
    planned: &Planned<T>,
    build: impl Fn(&[(usize, &T)]) -> Built,
) -> Result<(ImportReceipt, Vec<bool>, usize)> {
    let path = &sheet.columns.path;
    let mut rejects: Vec<(usize, RowError)> = Vec::new();
    let mut ok: Vec<(usize, &T)> = Vec::new();
    for (i, r) in planned {
        match r {
            Ok(t) => ok.push((*i, t)),
            Err(e) if opts.skip_invalid => rejects.push((*i, e.clone())),
            Err(e) => bail!("{}; nothing was imported", e.in_file(path)),
        }
    }
    let receipt = loop {
        let built = build(&ok);
        match store.import(built.batch) {
            Ok(receipt) => break receipt,
            Err(StoreError::Import {
                section,
                index,
                error,
            }) => {
                let rows = built.origin.of(section, index);
                let Some(&first) = rows.first() else {
                    return Err(anyhow!("{section} record {index}: {error}"));
                };
                let err = refused(sheet.rows[first].line, &error);
                if !opts.skip_invalid {
                    bail!("{}; nothing was imported", err.in_file(path));
                }
                for &r in &rows {
                    let e = RowError {
                        line: sheet.rows[r].line,
                        ..err.clone()
                    };
                    rejects.push((r, e));
                }
                ok.retain(|(i, _)| !rows.contains(i));
            }
            Err(other) => return Err(other).context("the import failed; nothing was imported"),
        }
    };
    rejects.sort_by_key(|(i, _)| *i);
    if let Some(out) = rejects_file {
        sheet
            .columns
            .write_rejects(out, rejects.iter().map(|(i, e)| (&sheet.rows[*i], e)))
            .with_context(|| committed(ok.len(), rejects.len()))?;
    }
    // Which rows were imported, by row index: the callers look each row up, so a
    // mask rather than a list (a list made the summary quadratic in the rows).
    let mut imported = vec![false; sheet.rows.len()];
    for (i, _) in &ok {
        if let Some(slot) = imported.get_mut(*i) {
            *slot = true;
        }
    }
    Ok((receipt, imported, rejects.len()))
}

/// What to say when the rejects cannot be written after the import committed.
fn committed(rows: usize, rejected: usize) -> String {
    format!(
        "the import was committed with {rows} rows, but its {rejected} rejected rows could not \
         be saved; do not run the same import again"
    )
}

/// What a customers row does.
#[derive(Debug, Clone)]
enum Upsert {
    Create(Box<NewCustomer>),
    Update(CustomerId, Box<CustomerData>),
    Unchanged,
}

/// Customers new to the store are created at `now`.
fn import_customers(
    store: &Books,
    opts: &ImportOpts,
    rejects: Option<OutFile>,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Summary> {
    let sheet = Sheet::read(
        &opts.file,
        &["name"],
        &CUSTOMER_COLUMNS[1..],
        opts.ignore_unknown,
    )?;
    let cols = &sheet.columns;
    let book = store.file()?.book_id()?;
    let mut seen: HashMap<String, u64> = HashMap::new();
    let mut planned: Planned<Upsert> = Vec::with_capacity(sheet.rows.len());
    for (i, row) in sheet.rows.iter().enumerate() {
        if let Some(e) = sheet.malformed.get(&i) {
            planned.push((i, Err(e.clone())));
            continue;
        }
        let plan = (|| -> Result<Result<Upsert, RowError>> {
            let parsed = (|| {
                let reference = optional_cell(cols, row, "reference", ExternalRef::parse)?;
                let email = optional_cell(cols, row, "email", Email::parse)?;
                // The key of an export names a customer of this database by id;
                // another database's `#ID@BOOK` is no one here.
                let id = match cols.value(row, "customer").and_then(CustomerKey::parse) {
                    Some(CustomerKey::Id(id)) => Some(id),
                    Some(CustomerKey::BookId(id, b)) if b == book => Some(id),
                    _ => None,
                };
                if let Some(id) = id
                    && let Some(first) = seen.insert(format!("id:{id}"), row.line)
                {
                    return Err(RowError::at(
                        row.line,
                        "customer",
                        format!("#{id} is also on line {first} of this file; one row per customer"),
                    ));
                }
                // A second row for the same customer, or a second customer with an
                // email an earlier row gives, is refused naming both lines.
                if let Some(r) = &reference
                    && let Some(first) = seen.insert(format!("ref:{r}"), row.line)
                {
                    return Err(RowError::at(
                        row.line,
                        "reference",
                        format!("'{r}' is also on line {first} of this file; one row per customer"),
                    ));
                }
                if let Some(e) = &email
                    && let Some(first) = seen.insert(format!("email:{}", e.key()), row.line)
                {
                    return Err(RowError::at(
                        row.line,
                        "email",
                        format!(
                            "'{e}' is also on line {first} of this file; one customer per email"
                        ),
                    ));
                }
                Ok((id, reference, email))
            })();
            let (id, reference, email) = match parsed {
                Ok(v) => v,
                Err(e) => return Ok(Err(e)),
            };
            let existing: Option<Customer> = match id {
                Some(id) => parse::customer_by_id(store, id)?,
                None => None,
            };
            let existing = match (existing, &reference) {
                (Some(c), _) => Some(c),
                (None, Some(r)) => store.customer_by_external_ref(r)?,
                (None, None) => None,
            };
            let existing = match (existing, &email) {
                (Some(c), _) => Some(c),
                (None, Some(e)) => store.customer_by_email(e)?,
                (None, None) => None,
            };
            let base = existing.as_ref().map(|c| c.data().clone());
            Ok(
                customer_data(cols, row, base.clone(), email, reference).map(
                    |data| match existing {
                        Some(_) if base.as_ref() == Some(&data) => Upsert::Unchanged,
                        Some(c) => Upsert::Update(c.id(), Box::new(data)),
                        None => Upsert::Create(Box::new(NewCustomer::new(data, now))),
                    },
                ),
            )
        })()?;
        planned.push((i, plan));
    }
    let (receipt, imported, rejected) = execute(store, &sheet, opts, rejects, &planned, |ok| {
        let mut batch = ImportBatch::default();
        let mut origin = Origin::default();
        for (row, u) in ok {
            match u {
                Upsert::Create(n) => {
                    origin.push(ImportSection::CreateCustomers, *row);
                    batch.create_customers.push((**n).clone());
                }
                Upsert::Update(id, d) => {
                    origin.push(ImportSection::UpdateCustomers, *row);
                    batch.update_customers.push((*id, (**d).clone()));
                }
                Upsert::Unchanged => {}
            }
        }
        Built { batch, origin }
    })?;
    let was_imported = |i: &usize| imported.get(*i).copied().unwrap_or(false);
    let unchanged = planned
        .iter()
        .filter(|(i, p)| was_imported(i) && matches!(p, Ok(Upsert::Unchanged)))
        .count();
    let updated = planned
        .iter()
        .filter(|(i, p)| was_imported(i) && matches!(p, Ok(Upsert::Update(..))))
        .count();
    Ok(Summary {
        file: opts.file.display().to_string(),
        counts: vec![
            ("created", receipt.created_customers.len()),
            ("updated", updated),
            ("unchanged", unchanged),
        ],
        rejected,
        rows: u64::try_from(sheet.rows.len()).unwrap_or(u64::MAX),
    })
}

/// The data a customers row describes: the existing data (if any) with every column
/// present in the file applied; an empty cell clears its field.
fn customer_data(
    cols: &Columns,
    row: &Row,
    existing: Option<CustomerData>,
    email: Option<Email>,
    reference: Option<ExternalRef>,
) -> Result<CustomerData, RowError> {
    let l = row.line;
    let name = cols
        .value(row, "name")
        .ok_or_else(|| RowError::at(l, "name", "is empty"))?;
    let name = PersonName::parse(name).map_err(|e| RowError::at(l, "name", e))?;
    let mut d = existing.unwrap_or_else(|| CustomerData::new(name.clone()));
    d.name = name;
    if cols.has("email") {
        d.email = email;
    }
    if cols.has("reference") {
        d.external_ref = reference;
    }
    if cols.has("phone") {
        d.phone = optional_cell(cols, row, "phone", Phone::parse)?;
    }
    if cols.has("birthday") {
        d.birthday = optional_cell(cols, row, "birthday", parse::date)?;
    }
    if cols.has("country") {
        d.profile.country = optional_cell(cols, row, "country", CountryCode::parse)?;
    }
    if cols.has("tags") {
        d.tags = parse_tags(cols.cell(row, "tags").unwrap_or(""), ';')
            .map_err(|e| RowError::at(l, "tags", e))?;
    }
    if cols.has("channel") {
        d.acquisition_channel = optional_cell(cols, row, "channel", Tag::parse)?;
    }
    Ok(d)
}

#[cfg(test)]
mod tests {
    use std::fmt::Write as _;

    use chrono::TimeZone as _;

    use super::*;

    /// A database holding customer `A` and, after `stale` was taken, purchases with
    /// the references `Q0`..`Q{held - 1}` — as if another import committed them while
    /// this one read — and a `--skip-invalid` purchases file of rows `Q0`..`Q{rows - 1}`.
    struct Race {
        _dir: tempfile::TempDir,
        store: Books,
        stale: Snapshot,
        opts: ImportOpts,
    }

    fn race(held: usize, rows: usize) -> Race {
        let dir = tempfile::tempdir().unwrap();
        let eur = Currency::parse("EUR").unwrap();
        let path = dir.path().join("t.db");
        let store = crate::books::of_file(
            solocrm_store_sqlite::SqliteStore::create(&path, eur).unwrap(),
            &path,
        );
        let at = chrono::Utc.with_ymd_and_hms(2025, 1, 3, 0, 0, 0).unwrap();
        let name = PersonName::parse("Ann").unwrap();
        let data = CustomerData::new(name).with_external_ref(ExternalRef::parse("A").unwrap());
        let mut batch = ImportBatch::default();
        batch.create_customers.push(NewCustomer::new(data, at));
        let customer = store.import(batch).unwrap().created_customers[0];
        let stale = Snapshot::load(&store, true).unwrap();

        let mut other = ImportBatch::default();
        for i in 0..held {
            let mut p = NewPurchase::new(customer, at, Money::parse("1.00", eur).unwrap());
            p.external_ref = Some(ExternalRef::parse(&format!("Q{i}")).unwrap());
            other.purchases.push((CustomerRef::Existing(customer), p));
        }
        store.import(other).unwrap();

        let mut csv = String::from("customer,date,amount,reference\n");
        for i in 0..rows {
            writeln!(csv, "A,2025-01-03,1.00,Q{i}").unwrap();
        }
        let file = dir.path().join("q.csv");
        std::fs::write(&file, csv).unwrap();
        let opts = ImportOpts {
            file,
            ignore_unknown: false,
            skip_invalid: true,
            rejects: None,
        };
        Race {
            _dir: dir,
            store,
            stale,
            opts,
        }
    }

    #[test]
    fn references_stored_after_the_snapshot_are_rejected_in_one_more_pass() {
        let r = race(100, 150);
        let (summary, passes) = purchases_from(&r.store, &r.opts, None, false, r.stale).unwrap();
        assert_eq!(summary.rejected, 100);
        assert_eq!(summary.counts[0], ("purchases", 50));
        assert_eq!(summary.rows, 150);
        // The store refuses the first stale row, then the reader, with a fresh
        // snapshot, rejects all of them: two passes, not one per row.
        assert_eq!(passes, 2);
    }

    #[test]
    fn a_planner_that_never_learns_stops_after_the_most_passes() {
        let r = race(100, 150);
        let stale = r.stale;
        let err = stream(
            &r.store,
            &r.opts,
            None,
            &["customer", "date", "amount"],
            &["reference"],
            &mut |_fresh| {
                Ok(Box::new(PurchasePlanner {
                    resolver: Resolver::new(Arc::clone(&stale.keys)),
                    base: r.store.base_currency(),
                    create_missing: false,
                    created: FastMap::default(),
                    references: Some(References {
                        stored: Arc::clone(&stale.stored),
                        seen: HashSet::default(),
                    }),
                }))
            },
        )
        .err()
        .unwrap();
        let msg = format!("{err:#}");
        assert!(msg.contains(&format!("{MAX_PASSES} passes")), "{msg}");
        assert!(msg.contains("nothing was imported"), "{msg}");
        // Nothing of the file was stored.
        assert_eq!(Snapshot::load(&r.store, true).unwrap().stored.len(), 100);
    }
}
