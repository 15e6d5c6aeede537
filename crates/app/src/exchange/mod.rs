//! Import and export: the file contract every frontend shares.
//!
//! An [`Importer`] reads a file of one [`Dataset`] into the books; an [`Exporter`]
//! writes a dataset out in the columns the import reads, so that a file round-trips.
//! [`CsvImporter`], [`CsvExporter`] and [`JsonExporter`] implement the CSV contract
//! documented in `docs/cli.md` ("Import and export"): columns matched by name in any
//! order; strict CSV ([`csv_file`]); every error naming the file, the line and the
//! column; by default the first bad row stops the import and nothing is written; with
//! `skip_invalid`, bad rows go to a rejects file with their reason and the rest is
//! imported in one transaction; text cells of a CSV export guarded against spreadsheet
//! formulas ([`neutralise`](csv_file::neutralise)), undone on import.
//!
//! Beside the CSV contract: [`archive`], the lossless archive of a whole book
//! (`export all` / `import all`); [`vcard`] and [`calendar`], vCard 4.0 and
//! iCalendar written over [`content_line`]; and [`presets`], which read vCards and
//! HubSpot or Google Contacts exports into a customers file for [`CsvImporter`].
//!
//! Where the bytes go is the frontend's: an [`Output`] (the command line writes a
//! private temporary file and moves it into place on [`Output::commit`]), and how
//! progress shows is a [`Progress`].
//!
//! ```
//! use solocrm_app::exchange::{
//!     CsvExporter, CsvImporter, Dataset, Exporter, ImportOptions, Importer, Input, NoProgress,
//! };
//! use solocrm_app::{Books, Location, OpenOptions};
//! use solocrm_core::Currency;
//!
//! let dir = tempfile::tempdir()?;
//! let file = dir.path().join("customers.csv");
//! std::fs::write(&file, "name,email,tags\n张伟,zhang.wei@example.cn,vip;上海\n")?;
//! let books = Books::create(&Location::Memory, Currency::CNY, &OpenOptions::new())?;
//! let now = "2026-11-29T08:00:00Z".parse()?;
//! let summary = CsvImporter.import(
//!     &books,
//!     Dataset::Customers,
//!     &Input::file(&file),
//!     &ImportOptions::new(now),
//!     None,
//!     &mut NoProgress,
//! )?;
//! assert_eq!(summary.counts[0], ("created", 1));
//!
//! let mut out = Vec::new();
//! CsvExporter::new().export(&books, Dataset::Customers, &mut out)?;
//! let text = String::from_utf8(out)?;
//! assert!(text.starts_with("name,email,phone,birthday,country,tags,channel,reference,company,"));
//! assert!(text.contains("张伟,zhang.wei@example.cn,,,,vip;上海,,,,,,,prospect,,"));
//! assert!(text.ends_with(",zhang.wei@example.cn\n"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod archive;
pub mod calendar;
pub mod content_line;
pub mod csv_file;
pub mod encoding;
mod export;
mod headers;
mod import;
pub mod presets;
pub mod vcard;

use std::fs::File;
use std::io::{self, Cursor, Read};
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

pub use export::{CsvExporter, ExportError, Exporter, JsonExporter};
pub use import::{
    CLEAR, CsvImporter, FieldChange, ImportError, ImportOptions, ImportSummary, Importer,
    MAX_PASSES, PlannedRow,
};

/// What an import reads: a file by its path, or bytes already read (standard input,
/// which cannot be read twice). Its encoding is detected
/// ([`encoding`](encoding::detect)).
#[derive(Debug, Clone)]
pub struct Input {
    name: PathBuf,
    /// The bytes, if they are in memory: given so, or a pipe's, read once when it had
    /// to be read more than once.
    bytes: OnceLock<Arc<[u8]>>,
}

impl Input {
    /// The file at `path`. A pipe or device is read once, as it comes, if it is
    /// UTF-8; in another encoding, it is read into memory first.
    pub fn file(path: impl Into<PathBuf>) -> Input {
        Input {
            name: path.into(),
            bytes: OnceLock::new(),
        }
    }

    /// `bytes`, named `name` in messages.
    pub fn bytes(name: impl Into<PathBuf>, bytes: impl Into<Arc<[u8]>>) -> Input {
        Input {
            name: name.into(),
            bytes: OnceLock::from(bytes.into()),
        }
    }

    /// All of standard input, named `standard input` in messages.
    ///
    /// # Errors
    ///
    /// If standard input cannot be read.
    pub fn stdin() -> io::Result<Input> {
        let mut bytes = Vec::new();
        io::stdin().lock().read_to_end(&mut bytes)?;
        Ok(Input::bytes("standard input", bytes))
    }

    /// The input's name in messages: the path as given, or `standard input`.
    pub fn name(&self) -> &Path {
        &self.name
    }

    /// Opens the input for one pass over its bytes.
    pub(crate) fn open(&self) -> io::Result<Source> {
        Ok(match self.bytes.get() {
            Some(bytes) => Source::Bytes(Cursor::new(Arc::clone(bytes))),
            None => Source::File(File::open(&self.name)?),
        })
    }

    /// True if [`Input::open`] can read the input again: bytes in memory or a
    /// regular file, not a pipe or device.
    pub(crate) fn rereadable(&self) -> bool {
        self.bytes.get().is_some() || std::fs::metadata(&self.name).is_ok_and(|m| m.is_file())
    }

    /// Keeps `bytes` as the input's, to be read again.
    pub(crate) fn keep(&self, bytes: Vec<u8>) -> Arc<[u8]> {
        Arc::clone(self.bytes.get_or_init(|| bytes.into()))
    }
}

impl From<&Path> for Input {
    fn from(path: &Path) -> Input {
        Input::file(path)
    }
}

impl From<PathBuf> for Input {
    fn from(path: PathBuf) -> Input {
        Input::file(path)
    }
}

/// One pass over an [`Input`]'s bytes.
#[derive(Debug)]
pub(crate) enum Source {
    File(File),
    Bytes(Cursor<Arc<[u8]>>),
    /// A file whose first bytes were read already (to tell its encoding), then
    /// the rest.
    Started(Cursor<Vec<u8>>, File),
}

impl Source {
    /// The number of bytes (0 for a pipe).
    pub(crate) fn len(&self) -> u64 {
        match self {
            Source::File(f) | Source::Started(_, f) => f.metadata().map_or(0, |m| m.len()),
            Source::Bytes(b) => b.get_ref().len() as u64,
        }
    }
}

impl Read for Source {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Source::File(f) => f.read(buf),
            Source::Bytes(b) => b.read(buf),
            Source::Started(start, f) => {
                let n = start.read(buf)?;
                if n > 0 || buf.is_empty() {
                    return Ok(n);
                }
                f.read(buf)
            }
        }
    }
}

/// The records a file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dataset {
    /// Customers: `name` and the optional columns of [`CUSTOMER_COLUMNS`].
    Customers,
    /// Purchases: [`PURCHASE_COLUMNS`], and optionally [`PURCHASE_LINE_COLUMNS`].
    Purchases,
    /// Survey answers: [`SURVEY_COLUMNS`].
    Surveys,
}

impl Dataset {
    /// Every dataset.
    pub const ALL: [Dataset; 3] = [Dataset::Customers, Dataset::Purchases, Dataset::Surveys];

    /// The columns, in the order an export writes them.
    pub fn columns(self) -> &'static [&'static str] {
        match self {
            Dataset::Customers => &CUSTOMER_COLUMNS,
            Dataset::Purchases => &PURCHASE_COLUMNS,
            Dataset::Surveys => &SURVEY_COLUMNS,
        }
    }

    /// The columns an import requires; the others of [`Dataset::columns`] are optional.
    pub fn required(self) -> &'static [&'static str] {
        match self {
            Dataset::Customers => &CUSTOMER_COLUMNS[..CUSTOMER_REQUIRED],
            Dataset::Purchases => &PURCHASE_COLUMNS[..PURCHASE_REQUIRED],
            Dataset::Surveys => &SURVEY_COLUMNS[..4],
        }
    }

    /// The columns an import reads if present: the others of [`Dataset::columns`],
    /// and for purchases the [line columns](PURCHASE_LINE_COLUMNS) too, for customers
    /// the [`CAMPAIGN_COLUMN`].
    pub fn optional(self) -> &'static [&'static str] {
        match self {
            Dataset::Customers => &CUSTOMER_IMPORT_OPTIONAL,
            Dataset::Purchases => &PURCHASE_IMPORT_OPTIONAL,
            _ => &self.columns()[self.required().len()..],
        }
    }
}

/// How many of [`CUSTOMER_COLUMNS`], from the first, an import requires.
const CUSTOMER_REQUIRED: usize = 1;

/// The columns of a customers file, in export order: every field of a customer.
/// The `customer` column is the customer's key, as in the other files: a re-import
/// into the same book updates the customer it names even without reference or
/// email.
///
/// The cells: `tags`, `interests`, `lifestyle` and `values` are tags separated by
/// `;`; `cost` is the acquisition cost, an amount in the book's currency; `stage` the
/// lifecycle stage (a customer the import creates starts in it; an existing
/// customer's stage is moved with its history by `customer stage`, not by a file);
/// `attributes` the custom attributes as a JSON object of strings
/// (`{"会员等级":"金卡"}`), so that any value round-trips; `notes` free text kept
/// exactly.
pub const CUSTOMER_COLUMNS: [&str; 23] = [
    "name",
    "email",
    "phone",
    "birthday",
    "country",
    "tags",
    "channel",
    "reference",
    "company",
    "region",
    "city",
    "cost",
    "stage",
    "notes",
    "birth_year",
    "gender",
    "income_band",
    "industry",
    "interests",
    "lifestyle",
    "values",
    "attributes",
    "customer",
];

/// A customer's data as the cells of a customers file, in [`CUSTOMER_COLUMNS`] order
/// up to `attributes` (the `customer` key column is the file's, not the data's):
/// what an export writes and what a dry run compares. `stage` is the customer's, if
/// there is one.
pub(crate) fn customer_cells(
    d: &solocrm_core::CustomerData,
    stage: Option<solocrm_core::LifecycleStage>,
) -> Vec<String> {
    let tags = |t: &solocrm_core::Tags| {
        t.iter()
            .map(solocrm_core::Tag::as_str)
            .collect::<Vec<_>>()
            .join(";")
    };
    let p = &d.profile;
    vec![
        d.name.to_string(),
        text(d.email.as_ref()),
        text(d.phone.as_ref()),
        text(d.birthday),
        text(p.country.as_ref()),
        tags(&d.tags),
        text(d.acquisition_channel.as_ref()),
        text(d.external_ref.as_ref()),
        text(d.company.as_ref()),
        text(p.region.as_ref()),
        text(p.city.as_ref()),
        text(d.acquisition_cost.map(|m| m.amount())),
        text(stage.map(|s| s.as_str())),
        d.notes.to_string(),
        text(p.birth_year.map(|y| y.get())),
        text(p.gender.map(|g| g.as_str())),
        text(p.income_band.map(|b| b.as_str())),
        text(p.industry.as_ref()),
        tags(&p.interests),
        tags(&p.lifestyle),
        tags(&p.values),
        attributes_cell(&p.attributes),
    ]
}

/// Custom attributes as a JSON object of strings, empty for none.
pub(crate) fn attributes_cell(
    a: &std::collections::BTreeMap<solocrm_core::Tag, solocrm_core::Label>,
) -> String {
    if a.is_empty() {
        return String::new();
    }
    let map: serde_json::Map<String, serde_json::Value> = a
        .iter()
        .map(|(k, v)| (k.to_string(), serde_json::Value::String(v.to_string())))
        .collect();
    serde_json::Value::Object(map).to_string()
}

/// An optional value as a cell, empty for none.
pub(crate) fn text<T: ToString>(v: Option<T>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

/// The optional column of a customers file that names the customer's campaign (by
/// name, matched as campaign names are unique: ignoring case). An export writes it,
/// after [`CUSTOMER_COLUMNS`], only when the books have campaigns; its cell is empty
/// for a customer attributed to none. On import an empty cell keeps the
/// attribution, `(clear)` removes it, a name sets it.
pub const CAMPAIGN_COLUMN: &str = "campaign";

/// The optional columns of a customers import: those of [`CUSTOMER_COLUMNS`], then
/// [`CAMPAIGN_COLUMN`].
const CUSTOMER_IMPORT_OPTIONAL: [&str; 23] =
    optional_then(CUSTOMER_COLUMNS, CUSTOMER_REQUIRED, [CAMPAIGN_COLUMN]);

/// The columns of `columns` after its first `required`, then `extra`: an import's
/// optional columns, derived from the export's list so the two cannot drift apart.
const fn optional_then<const N: usize, const E: usize, const M: usize>(
    columns: [&'static str; N],
    required: usize,
    extra: [&'static str; E],
) -> [&'static str; M] {
    assert!(N - required + E == M, "the optional columns' count");
    let mut out = [""; M];
    let mut i = 0;
    while i < N - required {
        out[i] = columns[required + i];
        i += 1;
    }
    let mut j = 0;
    while j < E {
        out[i + j] = extra[j];
        j += 1;
    }
    out
}

/// How many of [`PURCHASE_COLUMNS`], from the first, an import requires.
const PURCHASE_REQUIRED: usize = 3;

/// The columns of a purchases file, required ones first.
pub const PURCHASE_COLUMNS: [&str; 6] = [
    "customer",
    "date",
    "amount",
    "currency",
    "reference",
    "description",
];
/// The optional columns of a purchases file that make it a file of purchase lines:
/// one row per line, the rows of one purchase grouped by its `reference` (see
/// `docs/cli.md`, "Purchases with lines"). An export writes them after
/// [`PURCHASE_COLUMNS`] when the book has purchase lines.
pub const PURCHASE_LINE_COLUMNS: [&str; 4] = ["sku", "quantity", "unit_price", "line_discount"];

/// The optional columns of a purchases import: those of [`PURCHASE_COLUMNS`], then the
/// line columns.
const PURCHASE_IMPORT_OPTIONAL: [&str; 7] =
    optional_then(PURCHASE_COLUMNS, PURCHASE_REQUIRED, PURCHASE_LINE_COLUMNS);

/// The columns of a surveys file, required ones first.
pub const SURVEY_COLUMNS: [&str; 5] = ["customer", "date", "kind", "score", "comment"];

/// Where a pipeline writes a file: bytes through [`io::Write`], then
/// [`Output::commit`] once all of them are written. An output dropped without a
/// commit should leave no trace (the command line's files are written to a temporary
/// name and moved into place on commit).
pub trait Output: io::Write {
    /// The output's name in messages (a path as the user gave it).
    fn name(&self) -> String;

    /// Makes what was written visible; called once, after the last write.
    ///
    /// # Errors
    ///
    /// If the bytes cannot be stored or moved into place.
    fn commit(self: Box<Self>) -> io::Result<()>;
}

/// An output could not be written.
#[derive(Debug, thiserror::Error)]
#[error("cannot write {name}")]
pub struct WriteError {
    /// The output's [name](Output::name).
    pub name: String,
    /// Why.
    #[source]
    pub source: io::Error,
}

/// How a long import shows how far it has come: the bytes read of each pass over
/// the file ([`begin`](Self::begin), [`advance`](Self::advance), [`end`](Self::end)),
/// and the rows the store has written of it ([`written`](Self::written), then
/// [`committing`](Self::committing)). Reading and writing overlap (the store writes
/// one part while the next is read), so the calls come from two threads, one at a
/// time, hence `Send`. A `--skip-invalid` import may read its file more than once;
/// each pass begins anew, its written rows counted from zero again.
pub trait Progress: Send {
    /// A pass over `total` bytes begins.
    fn begin(&mut self, total: u64);
    /// `done` of the pass's bytes are read.
    fn advance(&mut self, done: u64);
    /// The pass is over.
    fn end(&mut self);
    /// The store has written `rows` rows of the pass so far (created, updated,
    /// purchases, surveys). Nothing by default.
    fn written(&mut self, _rows: u64) {}
    /// Every row of the pass is written; the transaction commits (or, for a dry run,
    /// rolls back). Nothing by default.
    fn committing(&mut self) {}
}

/// Progress that shows nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProgress;

impl Progress for NoProgress {
    fn begin(&mut self, _total: u64) {}
    fn advance(&mut self, _done: u64) {}
    fn end(&mut self) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_dataset_splits_its_columns_into_required_and_optional() {
        assert_eq!(Dataset::Customers.required(), ["name"]);
        assert_eq!(
            Dataset::Purchases.optional(),
            [
                "currency",
                "reference",
                "description",
                "sku",
                "quantity",
                "unit_price",
                "line_discount"
            ]
        );
        assert_eq!(Dataset::Surveys.optional(), ["comment"]);
        let d = Dataset::Surveys;
        assert_eq!([d.required(), d.optional()].concat(), d.columns());
        assert_eq!(
            [Dataset::Customers.columns(), &[CAMPAIGN_COLUMN][..]].concat(),
            [Dataset::Customers.required(), Dataset::Customers.optional()].concat()
        );
        assert_eq!(
            [Dataset::Purchases.columns(), &PURCHASE_LINE_COLUMNS[..]].concat(),
            [Dataset::Purchases.required(), Dataset::Purchases.optional()].concat()
        );
    }
}
