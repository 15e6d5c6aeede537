//! The CSV import: [`CsvImporter`].
//!
//! Purchases and survey answers stream: a second thread reads and checks the rows and
//! hands them over in parts of [`PART_ROWS`], while the store writes the part before
//! ([`Crm::import_parts`](solocrm_core::Store::import_parts)), all in one
//! transaction. Reading and writing overlap, and memory holds a few parts rather than
//! the file. Customers are read whole, because each row is matched against the store
//! (an upsert) before anything is written.
//!
//! By default the first bad row stops the import and nothing is written. With
//! `skip_invalid`, bad rows go to the rejects file and the rest is imported; a row the
//! store refuses (say, a reference it already holds) is set aside and the import run
//! again without it.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, mpsc};
use std::thread;

use chrono::{DateTime, Utc};
use solocrm_core::{
    ActivityQuery, BirthYear, BusinessZone, CampaignId, Conflict, CountryCode, Crm, Currency,
    Customer, CustomerData, CustomerId, CustomerRef, Email, ExternalRef, FreeText, Gender,
    ImportBatch, ImportPart, ImportReceipt, ImportSection, IncomeBand, Label, LifecycleStage,
    Money, NewCustomer, NewPurchase, NewSurveyResponse, PersonName, Phone, PurchaseId, Store,
    StoreError, SurveyKind, SurveyScore, Tag, Tags, ValidationError, campaign::AttributionSubject,
    text::parse_tags,
};

use super::csv_file::{Columns, CsvRows, FileError, Next, Row, RowError, Sheet};
use super::encoding::Detected;
use super::{
    CAMPAIGN_COLUMN, Dataset, Input, Output, Progress, Source, WriteError, customer_cells,
};
use crate::Books;
use crate::keys::CustomerKey;
use crate::values;

mod lines;

/// A hash map with a fast, randomly seeded hasher, for the per-row look-ups.
type FastMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// The rows of one part: large enough that handing a part over costs nothing next to
/// writing it, small enough that the parts in flight take little memory.
const PART_ROWS: usize = 8_192;

/// How many parts the reader may be ahead of the store.
const PARTS_AHEAD: usize = 4;

/// The most passes a `skip_invalid` streamed import makes over its file. The reader
/// checks every row against a fresh snapshot of the store before each pass, so a pass
/// is refused only for what changed in the store since the pass began (another
/// import committing at the same time): one or two passes in practice.
pub const MAX_PASSES: usize = 16;

/// How an import reads its file.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ImportOptions {
    /// Set bad rows aside (into the rejects output, with their reason) and import the
    /// rest, instead of stopping at the first and importing nothing.
    pub skip_invalid: bool,
    /// Ignore columns the import does not know, instead of refusing the file.
    pub ignore_unknown: bool,
    /// Purchases only: create a customer for a `customer` cell that is a reference
    /// no customer has, named after it and created at their first purchase.
    pub create_missing: bool,
    /// When customers new to the books are created (customers files).
    pub now: DateTime<Utc>,
    /// Check everything a real import checks, the store's own refusals included,
    /// then roll back: the summary says what the import would do, and nothing is
    /// written (no rejects output either). A customers file's summary also carries
    /// its [`plan`](ImportSummary::plan), row by row and field by field.
    pub dry_run: bool,
}

impl ImportOptions {
    /// Strict options: stop at the first bad row, refuse unknown columns, create no
    /// missing customer; new customers are created at `now`.
    pub fn new(now: DateTime<Utc>) -> Self {
        ImportOptions {
            skip_invalid: false,
            ignore_unknown: false,
            create_missing: false,
            now,
            dry_run: false,
        }
    }
}

/// What an import did. Its JSON is what `solocrm import … --json` prints.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ImportSummary {
    /// The file, as given.
    pub file: String,
    /// What was imported, by kind, in a fixed order (`created`, `updated`, `unchanged`
    /// for customers; `purchases`, `new customers`; `survey answers`).
    pub counts: Vec<(&'static str, usize)>,
    /// The rows set aside (with `skip_invalid`).
    pub rejected: usize,
    /// The rows of the file, rejected ones included.
    pub rows: u64,
    /// True if this was a dry run: nothing was written.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub dry_run: bool,
    /// For a dry run of a customers file: what each row would do.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plan: Option<Vec<PlannedRow>>,
    /// The rows set aside (with `skip_invalid`), in file order, each with its line,
    /// column and reason: what the rejects output holds, for a frontend that shows
    /// every bad row of a file (the web's import page) rather than writing them out.
    /// Not in the JSON, which counts them ([`rejected`](Self::rejected)).
    #[serde(skip)]
    pub rejects: Vec<RowError>,
}

/// What one row of a customers file would do (see [`ImportOptions::dry_run`]).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PlannedRow {
    /// The row's line in the file.
    pub line: u64,
    /// `create`, `update`, `unchanged` or `reject`.
    pub action: &'static str,
    /// The customer's name as the row gives it (empty for a rejected row).
    pub name: String,
    /// For an update: each field that changes, from what to what.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<FieldChange>,
    /// For a rejected row: why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// One field an update changes, as the CSV columns write it (empty for none).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FieldChange {
    /// The column.
    pub field: &'static str,
    /// The stored value.
    pub from: String,
    /// The value after the import.
    pub to: String,
}

/// The cell that clears a field in a customers file. An empty cell leaves the stored
/// value alone (so a file that lacks some values cannot wipe them); to clear a phone,
/// birthday, country, channel, reference, email or the tags, write this instead.
pub const CLEAR: &str = "(clear)";

/// Why an import did not happen, or happened without its rejects saved.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ImportError {
    /// The file cannot be opened, or its header is not this import's.
    #[error(transparent)]
    File(#[from] FileError),
    /// The file became unreadable part way (a quoted field never closed, a read
    /// error): nothing was imported.
    #[error("{0}; nothing was imported")]
    Unreadable(FileError),
    /// A row is invalid, or the store refused it, and bad rows are not skipped:
    /// nothing was imported.
    #[error("{}; nothing was imported", row.in_file(path))]
    Row {
        /// The file.
        path: PathBuf,
        /// The row and what is wrong with it.
        row: RowError,
    },
    /// With `skip_invalid`, the store still refused rows the reader let through after
    /// [`MAX_PASSES`] passes: another program keeps writing the same books.
    #[error(
        "{}; the store still refused rows the reader let through after {passes} passes \
         over the file (another program is probably writing to the same database at the \
         same time); nothing was imported; run the import again when that is done",
        row.in_file(path)
    )]
    Unsettled {
        /// The file.
        path: PathBuf,
        /// The last row refused.
        row: RowError,
        /// The passes made.
        passes: usize,
    },
    /// The store refused a record no row of the file accounts for.
    #[error("{section} record {index}: {error}; nothing was imported")]
    Record {
        /// The kind of record.
        section: ImportSection,
        /// Its index in the import.
        index: usize,
        /// Why.
        error: StoreError,
    },
    /// The reader stopped the import.
    #[error("{0}; nothing was imported")]
    Aborted(String),
    /// The books could not be read to check the rows against.
    #[error(transparent)]
    Read(StoreError),
    /// The import itself failed in the store: nothing was imported.
    #[error("the import failed; nothing was imported")]
    Store(#[source] StoreError),
    /// The import was committed, but its rejected rows could not be written.
    #[error(
        "the import was committed with {rows} rows, but its {rejected} rejected rows could \
         not be saved; do not run the same import again"
    )]
    RejectsNotSaved {
        /// The rows imported.
        rows: usize,
        /// The rows rejected.
        rejected: usize,
        /// Why they could not be saved.
        #[source]
        source: WriteError,
    },
}

impl From<StoreError> for ImportError {
    fn from(e: StoreError) -> Self {
        ImportError::Read(e)
    }
}

/// Reads a file of one [`Dataset`] into the books, in one transaction: all of it, or
/// (with [`ImportOptions::skip_invalid`]) all of its valid rows, the others written to
/// `rejects` with their reason.
pub trait Importer {
    /// Imports `input` (a file, or standard input's bytes) as `dataset` into
    /// `books`. Its encoding is detected first ([`encoding`](super::encoding)).
    ///
    /// # Errors
    ///
    /// [`ImportError`]: the file cannot be read or is in no encoding the import
    /// reads, a row is bad (without
    /// `skip_invalid`), the store failed — nothing was imported — or the rejects could
    /// not be written after the import committed.
    fn import(
        &self,
        books: &Books,
        dataset: Dataset,
        input: &Input,
        options: &ImportOptions,
        rejects: Option<Box<dyn Output + '_>>,
        progress: &mut dyn Progress,
    ) -> Result<ImportSummary, ImportError>;
}

/// The CSV import (module docs; the contract in `docs/cli.md`).
#[derive(Debug, Clone, Copy, Default)]
pub struct CsvImporter;

impl Importer for CsvImporter {
    fn import(
        &self,
        books: &Books,
        dataset: Dataset,
        input: &Input,
        options: &ImportOptions,
        rejects: Option<Box<dyn Output + '_>>,
        progress: &mut dyn Progress,
    ) -> Result<ImportSummary, ImportError> {
        let (detected, first) = FileError::detect(input)?;
        let job = Job {
            file: input.name(),
            input,
            detected,
            first: Some(first),
            opened: None,
            options,
            rejects,
        };
        match dataset {
            Dataset::Customers => import_customers(books, job),
            Dataset::Purchases => import_purchases(books, job, progress),
            Dataset::Surveys => import_surveys(books, job, progress),
        }
    }
}

/// A purchases file: streamed, unless it has line columns ([`lines`]).
fn import_purchases(
    books: &Books,
    mut job: Job<'_>,
    progress: &mut dyn Progress,
) -> Result<ImportSummary, ImportError> {
    let (required, optional) = (Dataset::Purchases.required(), Dataset::Purchases.optional());
    let ignore_unknown = job.options.ignore_unknown;
    let source = match job.first.take() {
        Some(source) => source,
        None => job.input.open().map_err(|source| FileError::Open {
            path: job.file.to_owned(),
            source,
        })?,
    };
    let file = CsvRows::open_source(
        job.file,
        source,
        job.detected,
        required,
        optional,
        ignore_unknown,
    )?;
    if !lines::has_line_columns(file.columns()) {
        // The header decides; a file without line columns streams as it always did.
        job.opened = Some(file);
        let first = Snapshot::load(books, job.options.skip_invalid)?;
        return Ok(purchases_from(books, job, progress, first)?.0);
    }
    let sheet = match Sheet::read_rows(file) {
        // The file looked like UTF-8 at the start only: the whole of it decides.
        Err(FileError::NotUtf8After { .. }) => Sheet::read_input(
            job.input,
            Detected::Sure(FileError::detect_whole(job.input)?),
            required,
            optional,
            ignore_unknown,
        )?,
        other => other?,
    };
    lines::import(books, job, &sheet)
}

/// One import's file, options and rejects output.
struct Job<'a> {
    /// The input's name.
    file: &'a Path,
    input: &'a Input,
    /// The input's encoding, as far as its start tells.
    detected: Detected,
    /// The input opened for the first pass.
    first: Option<Source>,
    /// The file opened for the first pass, its header read (purchases).
    opened: Option<CsvRows>,
    options: &'a ImportOptions,
    rejects: Option<Box<dyn Output + 'a>>,
}

/// Where each record of an import came from, by section (indices count over the
/// whole import), plus the rows that depend on a customer the import creates (their
/// purchases). `K` is a row index or a line number.
struct Origin<K> {
    rows: [Vec<K>; 5],
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
        StoreError::Validation(ValidationError::LinesTotal { .. }) => Some("amount"),
        StoreError::Validation(ValidationError::LineDiscount { .. }) => Some("line_discount"),
        StoreError::NotFound {
            entity: solocrm_core::Entity::Product,
            ..
        }
        | StoreError::Conflict(Conflict::ProductArchived { .. }) => Some("sku"),
        StoreError::Conflict(Conflict::DuplicateEmail { .. }) => Some("email"),
        StoreError::NotFound {
            entity: solocrm_core::Entity::Campaign,
            ..
        } => Some(CAMPAIGN_COLUMN),
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

/// A `date` cell: `YYYY-MM-DD` (the start of that day in the books' time zone), a local
/// `YYYY-MM-DD HH:MM[:SS]` (in the books' zone) or RFC 3339 (as given).
fn date_cell(
    cols: &Columns,
    row: &Row,
    zone: BusinessZone,
) -> Result<chrono::DateTime<chrono::Utc>, RowError> {
    let v = cols
        .value(row, "date")
        .ok_or_else(|| RowError::at(row.line, "date", "is empty"))?;
    cell_err(row, "date", values::instant_in(v, zone))
}

/// An `amount` cell in the store's currency, checked against an optional `currency` cell.
fn amount_cell(cols: &Columns, row: &Row, base: Currency) -> Result<Money, RowError> {
    currency_cell(cols, row, base)?;
    let v = cols
        .value(row, "amount")
        .ok_or_else(|| RowError::at(row.line, "amount", "is empty"))?;
    amount_value(row, v, base)
}

/// Checks an optional `currency` cell against the store's currency.
fn currency_cell(cols: &Columns, row: &Row, base: Currency) -> Result<(), RowError> {
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
    Ok(())
}

/// The amount `v` of the `amount` cell of `row`: in the store's currency, not negative.
fn amount_value(row: &Row, v: &str, base: Currency) -> Result<Money, RowError> {
    money_value(row, "amount", v, base)
}

/// The money `v` of the cell `column` of `row`: in the store's currency, not
/// negative, as stored.
fn money_value(
    row: &Row,
    column: &'static str,
    v: &str,
    base: Currency,
) -> Result<Money, RowError> {
    if let Some(m) = values::stored_amount(v, base) {
        return Ok(m);
    }
    let m = cell_err(row, column, Money::parse(v, base))?;
    if m.is_negative() {
        return Err(RowError::at(
            row.line,
            column,
            format!("must not be negative, got {v}"),
        ));
    }
    cell_err(row, column, m.for_storage(column, base))
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
    fn load(store: &Books) -> Result<Keys, StoreError> {
        let all = store.customer_keys()?;
        let mut keys = Keys {
            by_ref: FastMap::default(),
            by_email: FastMap::default(),
            ids: all.iter().map(|k| k.id).collect(),
            erased: all.iter().filter(|k| k.erased).map(|k| k.id).collect(),
            book: store.book_id()?,
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
    /// The books' time zone, for dates without an offset.
    zone: BusinessZone,
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

/// Every stored purchase reference and its purchase (a voided purchase keeps its
/// reference taken).
fn stored_references(store: &Crm) -> Result<FastMap<String, PurchaseId>, StoreError> {
    Ok(store
        .purchases(&ActivityQuery::EVERYTHING)?
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
        let at = date_cell(cols, row, self.zone)?;
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
    /// The books' time zone, for dates without an offset.
    zone: BusinessZone,
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
        let at = date_cell(cols, row, self.zone)?;
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
    failure: Option<ImportError>,
    /// The rows read.
    rows: u64,
}

/// Why the reader stopped before the end of the file.
enum Stop {
    /// A bad row (without `skip_invalid`) or bad CSV: the import must not happen.
    Failed(ImportError),
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
    progress: &mut dyn Progress,
) -> Result<(), Stop> {
    progress.begin(file.file_len());
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
                let path = file.columns().path.clone();
                break Err(Stop::Failed(ImportError::Row { path, row: e }));
            }
            Err(e) => break Err(Stop::Failed(ImportError::Unreadable(e))),
        }
        if let Some(e) = set_aside.get(&row.line) {
            pass.rejects.push((row.clone(), e.clone()));
            continue;
        }
        match planner.plan(file.columns(), &row, &mut part, &mut pass.origin) {
            Ok(()) => rows_in_part += 1,
            Err(e) if skip_invalid => pass.rejects.push((row.clone(), e)),
            Err(e) => {
                let path = file.columns().path.clone();
                break Err(Stop::Failed(ImportError::Row { path, row: e }));
            }
        }
        if rows_in_part == PART_ROWS {
            if let Err(stop) = tx.send(std::mem::take(&mut part)) {
                break Err(stop);
            }
            rows_in_part = 0;
            progress.advance(file.bytes_read());
        }
    };
    progress.end();
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

/// One [`Progress`] for the reader and the writer of a pass, taken in turn.
struct Shared<'p>(std::sync::Mutex<&'p mut dyn Progress>);

impl Shared<'_> {
    fn with(&self, f: impl FnOnce(&mut dyn Progress)) {
        let mut guard = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&mut **guard);
    }
}

impl Progress for &Shared<'_> {
    fn begin(&mut self, total: u64) {
        self.with(|p| p.begin(total));
    }
    fn advance(&mut self, done: u64) {
        self.with(|p| p.advance(done));
    }
    fn end(&mut self) {
        self.with(|p| p.end());
    }
    fn written(&mut self, rows: u64) {
        self.with(|p| p.written(rows));
    }
    fn committing(&mut self) {
        self.with(|p| p.committing());
    }
}

/// The parts of a pass on their way to the store, reporting the rows written: a part
/// is asked for once the one before it is written.
struct Counting<'p, I> {
    parts: I,
    rows: u64,
    progress: &'p Shared<'p>,
}

impl<I: Iterator<Item = ImportPart>> Iterator for Counting<'_, I> {
    type Item = ImportPart;

    fn next(&mut self) -> Option<ImportPart> {
        self.progress.with(|p| p.written(self.rows));
        let next = self.parts.next();
        match &next {
            Some(Ok(batch)) => {
                let rows = batch.create_customers.len()
                    + batch.update_customers.len()
                    + batch.purchases.len()
                    + batch.surveys.len();
                self.rows += rows as u64;
            }
            Some(Err(_)) => {}
            None => self.progress.with(|p| p.committing()),
        }
        next
    }
}

/// What [`stream`] did.
struct Streamed {
    receipt: ImportReceipt,
    /// The rows rejected, in file order.
    rejected: Vec<RowError>,
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
    job: Job<'_>,
    dataset: Dataset,
    progress: &mut dyn Progress,
    new_planner: &mut dyn FnMut(bool) -> Result<Box<dyn Planner>, StoreError>,
) -> Result<Streamed, ImportError> {
    let Job {
        file: path,
        input,
        mut detected,
        mut first,
        mut opened,
        options: opts,
        mut rejects,
    } = job;
    let mut set_aside: BTreeMap<u64, RowError> = BTreeMap::new();
    let mut passes = 0;
    loop {
        passes += 1;
        let mut file = match opened.take() {
            Some(file) => file,
            None => {
                let source = match first.take() {
                    Some(source) => source,
                    None => input.open().map_err(|source| FileError::Open {
                        path: path.to_owned(),
                        source,
                    })?,
                };
                CsvRows::open_source(
                    path,
                    source,
                    detected,
                    dataset.required(),
                    dataset.optional(),
                    opts.ignore_unknown,
                )?
            }
        };
        let columns = file.columns().clone();
        let mut planner = new_planner(passes > 1)?;
        let (tx, rx) = mpsc::sync_channel(PARTS_AHEAD);
        let shared = Shared(std::sync::Mutex::new(&mut *progress));
        let (result, pass) = thread::scope(|scope| {
            let set_aside = &set_aside;
            let planner = planner.as_mut();
            let shared = &shared;
            let reader = scope.spawn(move || {
                let progress = &mut &*shared;
                let tx = PartSender(tx);
                let mut pass = Pass::default();
                if let Err(Stop::Failed(why)) = read_rows(
                    &mut file,
                    planner,
                    set_aside,
                    opts.skip_invalid,
                    &tx,
                    &mut pass,
                    progress,
                ) {
                    let _ = tx.0.send(Err(why.to_string().into()));
                    pass.failure = Some(why);
                }
                pass.rows = file.rows_read();
                pass
            });
            let mut parts = Counting {
                parts: rx.iter(),
                rows: 0,
                progress: shared,
            };
            let result = apply(store, &mut parts, opts.dry_run);
            // The store is done: a reader still sending stops.
            drop(rx);
            let pass = reader
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            (result, pass)
        });
        if result.is_err()
            && let Some(ImportError::Unreadable(FileError::NotUtf8After { .. })) = &pass.failure
        {
            // The file looked like UTF-8 at the start only: the whole of it decides,
            // and the pass (rolled back) is made again.
            detected = Detected::Sure(FileError::detect_whole(input)?);
            passes -= 1;
            continue;
        }
        match result {
            Ok(receipt) => {
                if let Some(out) = rejects.take().filter(|_| !opts.dry_run) {
                    let rows = receipt.purchases.len() + receipt.surveys.len();
                    columns
                        .write_rejects(out, pass.rejects.iter().map(|(r, e)| (r, e)))
                        .map_err(|source| ImportError::RejectsNotSaved {
                            rows,
                            rejected: pass.rejects.len(),
                            source,
                        })?;
                }
                return Ok(Streamed {
                    receipt,
                    rejected: pass.rejects.into_iter().map(|(_, e)| e).collect(),
                    rows: pass.rows,
                    passes,
                });
            }
            Err(StoreError::Aborted(e)) => {
                return Err(pass
                    .failure
                    .unwrap_or_else(|| ImportError::Aborted(e.to_string())));
            }
            Err(StoreError::Import {
                section,
                index,
                error,
            }) => {
                let lines = pass.origin.of(section, index);
                let Some(&first) = lines.first() else {
                    return Err(ImportError::Record {
                        section,
                        index,
                        error: *error,
                    });
                };
                let err = refused(first, &error);
                if !opts.skip_invalid {
                    return Err(ImportError::Row {
                        path: path.to_owned(),
                        row: err,
                    });
                }
                if passes >= MAX_PASSES {
                    return Err(ImportError::Unsettled {
                        path: path.to_owned(),
                        row: err,
                        passes,
                    });
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
            Err(other) => return Err(ImportError::Store(other)),
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
    fn load(store: &Books, references: bool) -> Result<Snapshot, StoreError> {
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

/// The purchases import, its first pass checking rows against `first`; also returns
/// the passes it took.
fn purchases_from(
    store: &Books,
    job: Job<'_>,
    progress: &mut dyn Progress,
    first: Snapshot,
) -> Result<(ImportSummary, usize), ImportError> {
    let base = store.base_currency();
    let zone = store.time_zone()?;
    let file = job.file.display().to_string();
    let ImportOptions {
        skip_invalid,
        create_missing,
        dry_run: job_dry_run,
        ..
    } = *job.options;
    let mut snapshot = first;
    let done = stream(store, job, Dataset::Purchases, progress, &mut |fresh| {
        if fresh {
            snapshot = Snapshot::load(store, skip_invalid)?;
        }
        Ok(Box::new(PurchasePlanner {
            resolver: Resolver::new(Arc::clone(&snapshot.keys)),
            zone,
            base,
            create_missing,
            created: FastMap::default(),
            references: skip_invalid.then(|| References {
                stored: Arc::clone(&snapshot.stored),
                seen: HashSet::default(),
            }),
        }))
    })?;
    let summary = ImportSummary {
        file,
        counts: vec![
            ("purchases", done.receipt.purchases.len()),
            ("new customers", done.receipt.created_customers.len()),
        ],
        rejected: done.rejected.len(),
        rows: done.rows,
        dry_run: job_dry_run,
        plan: None,
        rejects: done.rejected,
    };
    Ok((summary, done.passes))
}

fn import_surveys(
    store: &Books,
    job: Job<'_>,
    progress: &mut dyn Progress,
) -> Result<ImportSummary, ImportError> {
    let file = job.file.display().to_string();
    let dry_run = job.options.dry_run;
    let mut keys = Arc::new(Keys::load(store)?);
    let zone = store.time_zone()?;
    let done = stream(store, job, Dataset::Surveys, progress, &mut |fresh| {
        // A customer erased or added since the last pass.
        if fresh {
            keys = Arc::new(Keys::load(store)?);
        }
        Ok(Box::new(SurveyPlanner {
            resolver: Resolver::new(Arc::clone(&keys)),
            zone,
        }))
    })?;
    Ok(ImportSummary {
        file,
        counts: vec![("survey answers", done.receipt.surveys.len())],
        rejected: done.rejected.len(),
        rows: done.rows,
        dry_run,
        plan: None,
        rejects: done.rejected,
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

/// Runs a plan: stops at the first bad row, or (with `skip_invalid`) imports the rest
/// and writes the rejects. `build` turns the accepted rows into a batch.
fn execute<T>(
    store: &Crm,
    sheet: &Sheet,
    job: Job<'_>,
    planned: &Planned<T>,
    build: impl Fn(&[(usize, &T)]) -> Built,
) -> Result<Executed, ImportError> {
    let path = &sheet.columns.path;
    let skip_invalid = job.options.skip_invalid;
    let dry_run = job.options.dry_run;
    let row_error = |row: RowError| ImportError::Row {
        path: path.clone(),
        row,
    };
    let mut rejects: Vec<(usize, RowError)> = Vec::new();
    let mut ok: Vec<(usize, &T)> = Vec::new();
    for (i, r) in planned {
        match r {
            Ok(t) => ok.push((*i, t)),
            Err(e) if skip_invalid => rejects.push((*i, e.clone())),
            Err(e) => return Err(row_error(e.clone())),
        }
    }
    let receipt = loop {
        let built = build(&ok);
        match apply(store, &mut std::iter::once(Ok(built.batch)), dry_run) {
            Ok(receipt) => break receipt,
            Err(StoreError::Import {
                section,
                index,
                error,
            }) => {
                let rows = built.origin.of(section, index);
                let Some(&first) = rows.first() else {
                    return Err(ImportError::Record {
                        section,
                        index,
                        error: *error,
                    });
                };
                let err = refused(sheet.rows[first].line, &error);
                if !skip_invalid {
                    return Err(row_error(err));
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
            Err(other) => return Err(ImportError::Store(other)),
        }
    };
    rejects.sort_by_key(|(i, _)| *i);
    if let Some(out) = job.rejects.filter(|_| !dry_run) {
        sheet
            .columns
            .write_rejects(out, rejects.iter().map(|(i, e)| (&sheet.rows[*i], e)))
            .map_err(|source| ImportError::RejectsNotSaved {
                rows: ok.len(),
                rejected: rejects.len(),
                source,
            })?;
    }
    // Which rows were imported, by row index: the callers look each row up, so a
    // mask rather than a list (a list made the summary quadratic in the rows).
    let mut imported = vec![false; sheet.rows.len()];
    for (i, _) in &ok {
        if let Some(slot) = imported.get_mut(*i) {
            *slot = true;
        }
    }
    Ok(Executed {
        receipt,
        imported,
        rejects,
    })
}

/// What [`execute`] did.
struct Executed {
    receipt: ImportReceipt,
    /// Which rows were imported, by row index.
    imported: Vec<bool>,
    /// The rows rejected, by row index, in file order.
    rejects: Vec<(usize, RowError)>,
}

/// Applies an import's parts in one transaction, or with `dry_run` applies them and
/// rolls back: every check the store makes is made, and nothing is kept.
fn apply(
    store: &Crm,
    parts: &mut dyn Iterator<Item = ImportPart>,
    dry_run: bool,
) -> Result<ImportReceipt, StoreError> {
    if !dry_run {
        return store.import_parts(parts);
    }
    let mut parts = Some(parts);
    let mut receipt = None;
    let outcome = store.write_bulk(|w| {
        let parts = parts
            .take()
            .ok_or_else(|| StoreError::Aborted("the store ran a dry-run import twice".into()))?;
        // Rolled back whatever happens: no savepoint needed (as `Store::import_parts`).
        w.all_or_nothing();
        receipt = Some(w.import_parts(parts)?);
        // Any error rolls the transaction back; this one says it was on purpose.
        Err::<(), _>(StoreError::Aborted(Box::new(DryRun)))
    });
    match (outcome, receipt) {
        (Err(StoreError::Aborted(why)), Some(receipt)) if why.is::<DryRun>() => Ok(receipt),
        (Err(e), _) => Err(e),
        (Ok(()), _) => Err(StoreError::Aborted("a dry run was committed".into())),
    }
}

/// Why a dry run rolls its transaction back.
#[derive(Debug, thiserror::Error)]
#[error("a dry run writes nothing")]
struct DryRun;

/// What a customers row does.
#[derive(Debug, Clone)]
enum Upsert {
    /// The new customer, and the campaign the row attributes them to.
    Create(Box<NewCustomer>, Option<CampaignId>),
    /// The customer, their data after the row, and before it; the change of their
    /// campaign, if the row makes one. The data may be unchanged if the campaign is
    /// not.
    Update(
        CustomerId,
        Box<CustomerData>,
        Box<CustomerData>,
        Option<CampaignMove>,
    ),
    Unchanged(Box<CustomerData>),
}

/// A change of an existing customer's campaign by a customers row.
#[derive(Debug, Clone)]
struct CampaignMove {
    /// The campaign after the row, `None` for none.
    to: Option<CampaignId>,
    /// The campaign names before and after, as the column writes them (empty for
    /// none).
    change: FieldChange,
}

impl Upsert {
    fn name(&self) -> String {
        match self {
            Upsert::Create(n, _) => n.data.name.to_string(),
            Upsert::Update(_, d, ..) | Upsert::Unchanged(d) => d.name.to_string(),
        }
    }
}

/// The campaigns a customers file's `campaign` cells are matched against, read once
/// before the rows.
#[derive(Default)]
struct CampaignBook {
    /// Each campaign's id and name, by [`name_key`](solocrm_core::campaign::name_key).
    by_key: HashMap<String, (CampaignId, String)>,
    /// Each campaign's name, by id.
    names: HashMap<CampaignId, String>,
    /// Each attributed customer's campaign.
    of: HashMap<CustomerId, CampaignId>,
}

impl CampaignBook {
    /// The campaigns and customers' attributions of `store`, in one snapshot.
    fn load(store: &Crm) -> Result<Self, StoreError> {
        let (campaigns, attributions) = store.read(|r| Ok((r.campaigns()?, r.attributions()?)))?;
        let mut book = CampaignBook::default();
        for c in campaigns {
            let name = c.name().to_string();
            book.by_key.insert(c.name_key(), (c.id(), name.clone()));
            book.names.insert(c.id(), name);
        }
        for a in attributions {
            if let AttributionSubject::Customer(c) = a.subject {
                book.of.insert(c, a.campaign);
            }
        }
        Ok(book)
    }

    /// The campaign a cell names, matched as campaign names are unique.
    fn find(&self, v: &str) -> Result<CampaignId, String> {
        self.by_key
            .get(&solocrm_core::campaign::name_key(v))
            .map(|(id, _)| *id)
            .ok_or_else(|| format!("no campaign is named '{v}' (see `campaign list`)"))
    }

    /// A name as the column writes it, empty for none.
    fn name(&self, id: Option<CampaignId>) -> String {
        id.and_then(|id| self.names.get(&id).cloned())
            .unwrap_or_default()
    }

    /// What `cell` does to `customer`'s campaign: `None` if it leaves it as it is.
    fn change(&self, customer: CustomerId, cell: Edit<CampaignId>) -> Option<CampaignMove> {
        let before = self.of.get(&customer).copied();
        let to = match cell {
            Edit::Keep => return None,
            Edit::Clear => None,
            Edit::Set(id) => Some(id),
        };
        (to != before).then(|| CampaignMove {
            to,
            change: FieldChange {
                field: CAMPAIGN_COLUMN,
                from: self.name(before),
                to: self.name(to),
            },
        })
    }
}

/// Customers new to the store are created at the options' `now`.
fn import_customers(store: &Books, mut job: Job<'_>) -> Result<ImportSummary, ImportError> {
    let now = job.options.now;
    let today = store.time_zone()?.date_of(now);
    let currency = store.currency();
    let dry_run = job.options.dry_run;
    let (required, optional) = (Dataset::Customers.required(), Dataset::Customers.optional());
    let first = job.first.take().map_or_else(
        || {
            CsvRows::open_input(
                job.input,
                job.detected,
                required,
                optional,
                job.options.ignore_unknown,
            )
        },
        |source| {
            CsvRows::open_source(
                job.file,
                source,
                job.detected,
                required,
                optional,
                job.options.ignore_unknown,
            )
        },
    );
    let sheet = match first.and_then(Sheet::read_rows) {
        // The file looked like UTF-8 at the start only: the whole of it decides.
        Err(FileError::NotUtf8After { .. }) => Sheet::read_input(
            job.input,
            Detected::Sure(FileError::detect_whole(job.input)?),
            required,
            optional,
            job.options.ignore_unknown,
        )?,
        other => other?,
    };
    let file = job.file.display().to_string();
    let cols = &sheet.columns;
    let book = store.book_id()?;
    // Only a file with the column reads the campaigns.
    let campaigns = match cols.has(CAMPAIGN_COLUMN) {
        true => CampaignBook::load(store)?,
        false => CampaignBook::default(),
    };
    let mut seen: HashMap<String, u64> = HashMap::new();
    let mut planned: Planned<Upsert> = Vec::with_capacity(sheet.rows.len());
    for (i, row) in sheet.rows.iter().enumerate() {
        if let Some(e) = sheet.malformed.get(&i) {
            planned.push((i, Err(e.clone())));
            continue;
        }
        let plan = (|| -> Result<Result<Upsert, RowError>, StoreError> {
            let parsed = (|| {
                let reference = edit(cols, row, "reference", ExternalRef::parse)?;
                let email = edit(cols, row, "email", Email::parse)?;
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
                if let Some(r) = reference.value()
                    && let Some(first) = seen.insert(format!("ref:{r}"), row.line)
                {
                    return Err(RowError::at(
                        row.line,
                        "reference",
                        format!("'{r}' is also on line {first} of this file; one row per customer"),
                    ));
                }
                if let Some(e) = email.value()
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
                Some(id) => store.customer_by_id(id)?,
                None => None,
            };
            let existing = match (existing, reference.value()) {
                (Some(c), _) => Some(c),
                (None, Some(r)) => store.customer_by_external_ref(r)?,
                (None, None) => None,
            };
            let existing = match (existing, email.value()) {
                (Some(c), _) => Some(c),
                (None, Some(e)) => store.customer_by_email(e)?,
                (None, None) => None,
            };
            let base = existing.as_ref().map(|c| c.data().clone());
            Ok(
                customer_data(cols, row, base.clone(), email, reference, today, currency).and_then(
                    |data| {
                        let stage = edit(cols, row, "stage", LifecycleStage::parse)?;
                        let campaign = edit(cols, row, CAMPAIGN_COLUMN, |v| campaigns.find(v))?;
                        Ok(match (existing, base) {
                            (Some(c), Some(base)) => match campaigns.change(c.id(), campaign) {
                                None if base == data => Upsert::Unchanged(Box::new(data)),
                                moved => {
                                    Upsert::Update(c.id(), Box::new(data), Box::new(base), moved)
                                }
                            },
                            _ => {
                                let mut new = NewCustomer::new(data, now);
                                if let Some(&stage) = stage.value() {
                                    new = new.at_stage(stage);
                                }
                                Upsert::Create(Box::new(new), campaign.value().copied())
                            }
                        })
                    },
                ),
            )
        })()?;
        planned.push((i, plan));
    }
    let done = execute(store, &sheet, job, &planned, |ok| {
        let mut batch = ImportBatch::default();
        let mut origin = Origin::default();
        for (row, u) in ok {
            match u {
                Upsert::Create(n, campaign) => {
                    origin.push(ImportSection::CreateCustomers, *row);
                    let i = batch.create_customers.len();
                    batch.create_customers.push((**n).clone());
                    if let Some(campaign) = campaign {
                        origin.push(ImportSection::Attributions, *row);
                        batch
                            .attributions
                            .push((CustomerRef::New(i), Some(*campaign)));
                    }
                }
                Upsert::Update(id, d, before, moved) => {
                    // A row that changes only the campaign writes only that.
                    if d != before {
                        origin.push(ImportSection::UpdateCustomers, *row);
                        batch.update_customers.push((*id, (**d).clone()));
                    }
                    if let Some(m) = moved {
                        origin.push(ImportSection::Attributions, *row);
                        batch.attributions.push((CustomerRef::Existing(*id), m.to));
                    }
                }
                Upsert::Unchanged(_) => {}
            }
        }
        Built { batch, origin }
    })?;
    let was_imported = |i: &usize| done.imported.get(*i).copied().unwrap_or(false);
    let unchanged = planned
        .iter()
        .filter(|(i, p)| was_imported(i) && matches!(p, Ok(Upsert::Unchanged(_))))
        .count();
    let updated = planned
        .iter()
        .filter(|(i, p)| was_imported(i) && matches!(p, Ok(Upsert::Update(..))))
        .count();
    let plan = dry_run.then(|| {
        let rejected: HashMap<usize, &RowError> =
            done.rejects.iter().map(|(i, e)| (*i, e)).collect();
        planned
            .iter()
            .map(|(i, p)| {
                let line = sheet.rows[*i].line;
                match (rejected.get(i).copied(), p) {
                    (Some(e), _) | (None, Err(e)) => PlannedRow {
                        line,
                        action: "reject",
                        name: String::new(),
                        changes: Vec::new(),
                        reason: Some(e.message()),
                    },
                    (None, Ok(u)) => PlannedRow {
                        line,
                        action: match u {
                            Upsert::Create(..) => "create",
                            Upsert::Update(..) => "update",
                            Upsert::Unchanged(_) => "unchanged",
                        },
                        name: u.name(),
                        changes: match u {
                            Upsert::Update(_, after, before, moved) => {
                                let mut c = changes(before, after);
                                c.extend(moved.iter().map(|m| m.change.clone()));
                                c
                            }
                            _ => Vec::new(),
                        },
                        reason: None,
                    },
                }
            })
            .collect()
    });
    Ok(ImportSummary {
        file,
        counts: vec![
            ("created", done.receipt.created_customers.len()),
            ("updated", updated),
            ("unchanged", unchanged),
        ],
        rejected: done.rejects.len(),
        rows: u64::try_from(sheet.rows.len()).unwrap_or(u64::MAX),
        dry_run,
        plan,
        rejects: done.rejects.into_iter().map(|(_, e)| e).collect(),
    })
}

/// What a cell of a customers file does to its field: an empty cell (or an absent
/// column) keeps it, [`CLEAR`] clears it, anything else sets it.
enum Edit<T> {
    Keep,
    Clear,
    Set(T),
}

impl<T> Edit<T> {
    /// The value the cell sets, if it sets one.
    fn value(&self) -> Option<&T> {
        match self {
            Edit::Set(v) => Some(v),
            Edit::Keep | Edit::Clear => None,
        }
    }

    /// Applies the cell to `field`.
    fn apply(self, field: &mut Option<T>) {
        match self {
            Edit::Keep => {}
            Edit::Clear => *field = None,
            Edit::Set(v) => *field = Some(v),
        }
    }
}

/// The [`Edit`] of `column` in `row`, its value read by `parse`.
fn edit<T, E: std::fmt::Display>(
    cols: &Columns,
    row: &Row,
    column: &str,
    parse: impl FnOnce(&str) -> Result<T, E>,
) -> Result<Edit<T>, RowError> {
    match cols.value(row, column) {
        None => Ok(Edit::Keep),
        Some(CLEAR) => Ok(Edit::Clear),
        Some(v) => parse(v)
            .map(Edit::Set)
            .map_err(|e| RowError::at(row.line, column, e)),
    }
}

/// The data a customers row describes: the existing data (if any) merged with the
/// row. An empty cell keeps the stored value, [`CLEAR`] clears it, anything else
/// replaces it (the tags as a whole).
fn customer_data(
    cols: &Columns,
    row: &Row,
    existing: Option<CustomerData>,
    email: Edit<Email>,
    reference: Edit<ExternalRef>,
    today: chrono::NaiveDate,
    base: Currency,
) -> Result<CustomerData, RowError> {
    let l = row.line;
    let name = cols
        .value(row, "name")
        .ok_or_else(|| RowError::at(l, "name", "is empty"))?;
    let name = PersonName::parse(name).map_err(|e| RowError::at(l, "name", e))?;
    let mut d = existing.unwrap_or_else(|| CustomerData::new(name.clone()));
    d.name = name;
    email.apply(&mut d.email);
    reference.apply(&mut d.external_ref);
    edit(cols, row, "phone", Phone::parse)?.apply(&mut d.phone);
    edit(cols, row, "birthday", |b| values::birthday(b, today))?.apply(&mut d.birthday);
    edit(cols, row, "country", CountryCode::parse)?.apply(&mut d.profile.country);
    edit(cols, row, "channel", Tag::parse)?.apply(&mut d.acquisition_channel);
    let tags = |column: &str, field: &mut Tags| -> Result<(), RowError> {
        match edit(cols, row, column, |t| parse_tags(t, ';'))? {
            Edit::Keep => {}
            Edit::Clear => *field = Tags::new(),
            Edit::Set(tags) => *field = tags,
        }
        Ok(())
    };
    tags("tags", &mut d.tags)?;
    tags("interests", &mut d.profile.interests)?;
    tags("lifestyle", &mut d.profile.lifestyle)?;
    tags("values", &mut d.profile.values)?;
    edit(cols, row, "company", Label::parse)?.apply(&mut d.company);
    edit(cols, row, "region", Label::parse)?.apply(&mut d.profile.region);
    edit(cols, row, "city", Label::parse)?.apply(&mut d.profile.city);
    edit(cols, row, "industry", Label::parse)?.apply(&mut d.profile.industry);
    edit(cols, row, "cost", |v| cost(v, base))?.apply(&mut d.acquisition_cost);
    edit(cols, row, "birth_year", |v| {
        v.parse::<i32>()
            .map_err(|_| format!("'{v}' is not a year"))
            .and_then(|y| BirthYear::new(y).map_err(|e| e.to_string()))
    })?
    .apply(&mut d.profile.birth_year);
    edit(cols, row, "gender", Gender::parse)?.apply(&mut d.profile.gender);
    edit(cols, row, "income_band", IncomeBand::parse)?.apply(&mut d.profile.income_band);
    match edit(cols, row, "attributes", attributes)? {
        Edit::Keep => {}
        Edit::Clear => d.profile.attributes.clear(),
        Edit::Set(a) => d.profile.attributes = a,
    }
    // Notes are free text, kept as written: an empty cell keeps them.
    match cols.raw(row, "notes") {
        None | Some("") => {}
        Some(CLEAR) => d.notes = FreeText::empty(),
        Some(v) => d.notes = FreeText::parse(v).map_err(|e| RowError::at(l, "notes", e))?,
    }
    Ok(d)
}

/// An acquisition cost in the book's currency, as stored.
fn cost(v: &str, base: Currency) -> Result<Money, String> {
    if let Some(m) = values::stored_amount(v, base) {
        return Ok(m);
    }
    let m = Money::parse(v, base).map_err(|e| e.to_string())?;
    if m.is_negative() {
        return Err(format!("must not be negative, got {v}"));
    }
    m.for_storage("cost", base).map_err(|e| e.to_string())
}

/// Custom attributes from a JSON object of strings (`{"会员等级":"金卡"}`).
fn attributes(v: &str) -> Result<BTreeMap<Tag, Label>, String> {
    let map: BTreeMap<String, String> = serde_json::from_str(v).map_err(|e| {
        format!("is not a JSON object of strings such as {{\"level\":\"gold\"}}: {e}")
    })?;
    map.into_iter()
        .map(|(k, v)| {
            let key = Tag::parse(&k).map_err(|e| format!("attribute '{k}': {e}"))?;
            let value = Label::parse(&v).map_err(|e| format!("attribute '{k}': {e}"))?;
            Ok((key, value))
        })
        .collect()
}

/// The fields `after` changes from `before`, as the CSV columns write them.
fn changes(before: &CustomerData, after: &CustomerData) -> Vec<FieldChange> {
    Dataset::Customers
        .columns()
        .iter()
        .zip(
            customer_cells(before, None)
                .into_iter()
                .zip(customer_cells(after, None)),
        )
        .filter(|(_, (from, to))| from != to)
        .map(|(&field, (from, to))| FieldChange { field, from, to })
        .collect()
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
        file: PathBuf,
        options: ImportOptions,
    }

    fn race(held: usize, rows: usize) -> Race {
        let dir = tempfile::tempdir().unwrap();
        let eur = Currency::parse("EUR").unwrap();
        let location = crate::Location::Path(dir.path().join("t.db"));
        let store = Books::create(&location, eur, &crate::OpenOptions::new()).unwrap();
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
        let mut options = ImportOptions::new(at);
        options.skip_invalid = true;
        Race {
            _dir: dir,
            store,
            stale,
            file,
            options,
        }
    }

    /// What a [`Progress`] was told, in order.
    #[derive(Default)]
    struct Recorded(Vec<(&'static str, u64)>);

    impl Progress for Recorded {
        fn begin(&mut self, total: u64) {
            self.0.push(("begin", total));
        }
        fn advance(&mut self, done: u64) {
            self.0.push(("advance", done));
        }
        fn end(&mut self) {
            self.0.push(("end", 0));
        }
        fn written(&mut self, rows: u64) {
            self.0.push(("written", rows));
        }
        fn committing(&mut self) {
            self.0.push(("committing", 0));
        }
    }

    /// A dry run that sets bad rows aside lists every one, with its line and column,
    /// for customers (read whole) and purchases (streamed) alike; nothing is written.
    #[test]
    fn a_dry_run_lists_every_rejected_row() {
        use crate::{Location, OpenOptions};
        let books = Books::create(&Location::Memory, Currency::CNY, &OpenOptions::new()).unwrap();
        let now: DateTime<Utc> = "2026-11-29T08:00:00Z".parse().unwrap();
        let mut options = ImportOptions::new(now);
        options.skip_invalid = true;
        options.dry_run = true;
        let customers = Input::bytes(
            "客户.csv",
            "name,email\n张伟,zhang@example.cn\n李雷,not-an-email\n,x@example.cn\n".as_bytes(),
        );
        let summary = CsvImporter
            .import(
                &books,
                Dataset::Customers,
                &customers,
                &options,
                None,
                &mut super::super::NoProgress,
            )
            .unwrap();
        let lines: Vec<(u64, Option<&str>)> = summary
            .rejects
            .iter()
            .map(|e| (e.line, e.column.as_deref()))
            .collect();
        assert_eq!(lines, [(3, Some("email")), (4, Some("name"))]);
        assert_eq!(summary.rejected, 2);
        let purchases = Input::bytes(
            "p.csv",
            "customer,date,amount\nnobody,2026-11-01,10\nnobody,2026-13-01,10\n".as_bytes(),
        );
        let summary = CsvImporter
            .import(
                &books,
                Dataset::Purchases,
                &purchases,
                &options,
                None,
                &mut super::super::NoProgress,
            )
            .unwrap();
        let lines: Vec<u64> = summary.rejects.iter().map(|e| e.line).collect();
        assert_eq!(lines, [2, 3]);
        assert_eq!(books.count_customers().unwrap(), 0);
    }

    #[test]
    fn progress_reports_the_rows_written_then_the_commit() {
        let rows = 2 * PART_ROWS + 100;
        let r = race(0, rows);
        let input = Input::file(&r.file);
        let job = Job {
            file: &r.file,
            input: &input,
            detected: Detected::Sure(super::super::encoding::Encoding::Utf8),
            first: None,
            opened: None,
            options: &r.options,
            rejects: None,
        };
        let mut progress = Recorded::default();
        let (summary, _) = purchases_from(&r.store, job, &mut progress, r.stale).unwrap();
        assert_eq!(summary.counts[0], ("purchases", rows));
        let calls = progress.0;
        let len = std::fs::metadata(&r.file).unwrap().len();
        assert!(calls.contains(&("begin", len)), "{calls:?}");
        let written: Vec<u64> = calls
            .iter()
            .filter(|(what, _)| *what == "written")
            .map(|&(_, n)| n)
            .collect();
        assert!(written.windows(2).all(|w| w[0] <= w[1]), "{written:?}");
        assert_eq!(written.first(), Some(&0));
        assert_eq!(written.last(), Some(&(rows as u64)));
        assert!(written.contains(&(PART_ROWS as u64)), "{written:?}");
        // The commit comes once, after the last row is written.
        let commits: Vec<usize> = (0..calls.len())
            .filter(|&i| calls[i].0 == "committing")
            .collect();
        assert_eq!(commits.len(), 1, "{calls:?}");
        // (The reader's `end` may fall between the last count and the commit.)
        let before: Vec<_> = calls[..commits[0]]
            .iter()
            .filter(|(what, _)| *what == "written")
            .collect();
        assert_eq!(before.last(), Some(&&("written", rows as u64)));
        assert!(
            !calls[commits[0]..]
                .iter()
                .any(|(what, _)| *what == "written")
        );
        assert!(calls.contains(&("end", 0)));
    }

    #[test]
    fn references_stored_after_the_snapshot_are_rejected_in_one_more_pass() {
        let r = race(100, 150);
        let input = Input::file(&r.file);
        let job = Job {
            file: &r.file,
            input: &input,
            detected: Detected::Sure(super::super::encoding::Encoding::Utf8),
            first: None,
            opened: None,
            options: &r.options,
            rejects: None,
        };
        let (summary, passes) =
            purchases_from(&r.store, job, &mut super::super::NoProgress, r.stale).unwrap();
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
        let input = Input::file(&r.file);
        let job = Job {
            file: &r.file,
            input: &input,
            detected: Detected::Sure(super::super::encoding::Encoding::Utf8),
            first: None,
            opened: None,
            options: &r.options,
            rejects: None,
        };
        let err = stream(
            &r.store,
            job,
            Dataset::Purchases,
            &mut super::super::NoProgress,
            &mut |_fresh| {
                Ok(Box::new(PurchasePlanner {
                    resolver: Resolver::new(Arc::clone(&stale.keys)),
                    zone: BusinessZone::UTC,
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
        assert!(matches!(err, ImportError::Unsettled { .. }), "{err:?}");
        let msg = err.to_string();
        assert!(msg.contains(&format!("{MAX_PASSES} passes")), "{msg}");
        assert!(msg.contains("nothing was imported"), "{msg}");
        // Nothing of the file was stored.
        assert_eq!(Snapshot::load(&r.store, true).unwrap().stored.len(), 100);
    }
}
