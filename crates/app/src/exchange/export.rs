//! The exports: [`CsvExporter`] and [`JsonExporter`].

use std::borrow::Cow;
use std::collections::HashMap;
use std::io::{self, Write};

use chrono::SecondsFormat;
use serde::ser::{SerializeSeq, Serializer as _};
use solocrm_core::product::PurchaseLine;
use solocrm_core::{ActivityQuery, CustomerId, PurchaseId, StoreError};

use super::csv_file::neutralise;
use super::{
    CAMPAIGN_COLUMN, Dataset, PURCHASE_COLUMNS, PURCHASE_LINE_COLUMNS, customer_cells, text,
};
use crate::Books;
use crate::escape::{TerminalSafe, escape_controls};
use crate::keys::CustomerKey;

/// The columns whose cells an export formats itself rather than copying text: they
/// cannot begin a spreadsheet formula, so they are not guarded.
const FORMATTED: [&str; 14] = [
    "birthday",
    "quantity",
    "unit_price",
    "line_discount",
    "date",
    "amount",
    "currency",
    "kind",
    "score",
    "cost",
    "stage",
    "birth_year",
    "gender",
    "income_band",
];

/// Why an export failed. Nothing is to be kept of what was written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExportError {
    /// The books could not be read.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The CSV could not be written.
    #[error(transparent)]
    Csv(#[from] csv::Error),
    /// The JSON could not be written.
    #[error(transparent)]
    Json(#[from] serde_json::Error),
    /// The output could not be written.
    #[error(transparent)]
    Io(#[from] io::Error),
}

/// Writes a [`Dataset`] of the books, in one snapshot, in the columns its import
/// reads ([`Dataset::columns`]).
///
/// Every row names its customer by [`CustomerKey::of`] with the book id: the
/// reference, else the email, else `#ID@BOOK`, so that a re-import into another book
/// refuses the row rather than attach it to whoever has that id there. Records of
/// erased customers are left out. Dates are RFC 3339 in UTC; amounts are exact
/// decimals in the book's currency.
pub trait Exporter {
    /// Writes `dataset` of `books` to `out`.
    ///
    /// # Errors
    ///
    /// [`ExportError`] if the books cannot be read or `out` cannot be written.
    fn export(
        &self,
        books: &Books,
        dataset: Dataset,
        out: &mut dyn Write,
    ) -> Result<(), ExportError>;
}

/// CSV with a header row. Text cells that begin like a spreadsheet formula get a `'`
/// in front ([`neutralise`]), which the import removes again.
#[derive(Debug, Clone, Copy, Default)]
pub struct CsvExporter {
    escape_controls: bool,
}

impl CsvExporter {
    /// The CSV export: cells exactly as stored (formula-guarded).
    pub fn new() -> Self {
        CsvExporter::default()
    }

    /// For a person at a terminal: what a terminal would obey (escape sequences,
    /// bidirectional overrides) is written as a visible escape
    /// ([`escape_controls`]) instead. Such a file no longer holds the stored text;
    /// into a file or a pipe, leave this off.
    #[must_use]
    pub fn for_terminal(mut self, on: bool) -> Self {
        self.escape_controls = on;
        self
    }
}

/// A JSON array of objects, one per row, every value a string, keys as the CSV
/// columns. Controls a terminal obeys are written as `\uXXXX` escapes
/// ([`TerminalSafe`]), the same text to every JSON reader.
#[derive(Debug, Clone, Copy, Default)]
pub struct JsonExporter;

impl Exporter for CsvExporter {
    fn export(
        &self,
        books: &Books,
        dataset: Dataset,
        out: &mut dyn Write,
    ) -> Result<(), ExportError> {
        let mut w = csv::Writer::from_writer(&mut *out);
        let mut text: Vec<bool> = Vec::new();
        each_row(books, dataset, &mut |emit| {
            let r = match emit {
                Emit::Header(header) => {
                    w.write_record(header)?;
                    text = header.iter().map(|h| !FORMATTED.contains(h)).collect();
                    return Ok(());
                }
                Emit::Row(r) => r,
            };
            for (cell, &is_text) in r.iter().zip(&text) {
                let cell = match self.escape_controls {
                    true => escape_controls(cell, true),
                    false => Cow::Borrowed(cell.as_str()),
                };
                match is_text {
                    true => w.write_field(neutralise(&cell).as_bytes())?,
                    false => w.write_field(cell.as_bytes())?,
                }
            }
            w.write_record(None::<&[u8]>)?;
            Ok(())
        })?;
        w.flush()?;
        drop(w);
        out.flush()?;
        Ok(())
    }
}

impl Exporter for JsonExporter {
    fn export(
        &self,
        books: &Books,
        dataset: Dataset,
        out: &mut dyn Write,
    ) -> Result<(), ExportError> {
        let mut header: Vec<&'static str> = Vec::new();
        // The serialiser writes many small pieces: buffered, they cost a system call
        // per 64 KiB rather than per piece.
        let mut buffered = io::BufWriter::with_capacity(1 << 16, &mut *out);
        let mut ser = serde_json::Serializer::with_formatter(
            &mut buffered,
            TerminalSafe(serde_json::ser::PrettyFormatter::new()),
        );
        // The array is written element by element as the rows are read; the output is
        // the same as serialising the whole list at once.
        let mut seq = ser.serialize_seq(None)?;
        each_row(books, dataset, &mut |emit| {
            let r = match emit {
                Emit::Header(h) => {
                    header = h.to_vec();
                    return Ok(());
                }
                Emit::Row(r) => r,
            };
            let object: serde_json::Map<String, serde_json::Value> = header
                .iter()
                .zip(r)
                .map(|(h, v)| ((*h).to_owned(), serde_json::Value::String(v.clone())))
                .collect();
            seq.serialize_element(&object)?;
            Ok(())
        })?;
        seq.end()?;
        writeln!(buffered)?;
        buffered.flush()?;
        drop(buffered);
        out.flush()?;
        Ok(())
    }
}

/// Stops a read when writing a row failed (the write error is kept aside).
#[derive(Debug)]
struct WriteFailed;

impl std::fmt::Display for WriteFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the export's output could not be written")
    }
}

impl std::error::Error for WriteFailed {}

/// Each attributed customer's campaign name.
fn customer_campaigns(
    campaigns: &[solocrm_core::campaign::Campaign],
    attributions: &[solocrm_core::campaign::Attribution],
) -> HashMap<CustomerId, String> {
    let names: HashMap<_, _> = campaigns
        .iter()
        .map(|c| (c.id(), c.name().to_string()))
        .collect();
    attributions
        .iter()
        .filter_map(|a| match a.subject {
            solocrm_core::campaign::AttributionSubject::Customer(c) => {
                names.get(&a.campaign).map(|n| (c, n.clone()))
            }
            _ => None,
        })
        .collect()
}

/// What [`each_row`] gives: first the header, then each row.
enum Emit<'a> {
    /// The columns: [`Dataset::columns`], and for purchases the
    /// [line columns](PURCHASE_LINE_COLUMNS) after them when the book has lines, for
    /// customers the [`CAMPAIGN_COLUMN`] when the book has campaigns.
    Header(&'a [&'static str]),
    /// A row's text cells, in the header's order.
    Row(&'a [String]),
}

/// Gives `row` the header, then the rows of `dataset` as text cells in its order, read
/// in one snapshot, each as soon as it is read: purchases come one at a time from the
/// store ([`Reader::for_each_purchase`](solocrm_core::Reader::for_each_purchase)), so
/// the memory an export of them takes does not grow with their number (their lines,
/// if the book has any, are read first, all at once). Customers are named by their
/// key columns alone, not read whole, except for the customers dataset itself.
///
/// A purchase with lines is one row per line, in the lines' order; its first row
/// carries the amount, the others leave it empty (the import's rule for the rows of
/// one purchase, with or without a reference).
fn each_row(
    books: &Books,
    dataset: Dataset,
    row: &mut dyn FnMut(Emit<'_>) -> Result<(), ExportError>,
) -> Result<(), ExportError> {
    let book = books.book_id()?;
    let mut failed: Option<ExportError> = None;
    let read = books.read(|r| {
        let mut emit = |e: Emit<'_>| -> Result<(), StoreError> {
            row(e).map_err(|e| {
                failed = Some(e);
                StoreError::backend(WriteFailed)
            })
        };
        // Records of erased customers are left out: only those not erased have a key,
        // read from the key columns alone.
        let keys = || -> Result<HashMap<CustomerId, String>, StoreError> {
            Ok(r.customer_keys()?
                .iter()
                .filter(|k| !k.erased)
                .map(|k| (k.id, CustomerKey::of_keys(k, Some(&book))))
                .collect())
        };
        let mut cells: Vec<String> = Vec::with_capacity(6);
        match dataset {
            Dataset::Customers => {
                // Books with campaigns add the `campaign` column; books without
                // export exactly the columns they always did.
                let campaigns = r.campaigns()?;
                let attributed = customer_campaigns(&campaigns, &r.attributions()?);
                if campaigns.is_empty() {
                    emit(Emit::Header(dataset.columns()))?;
                } else {
                    let header = [dataset.columns(), &[CAMPAIGN_COLUMN][..]].concat();
                    emit(Emit::Header(&header))?;
                }
                for c in r.all_customers()? {
                    let mut cells = customer_cells(c.data(), Some(c.stage()));
                    cells.push(CustomerKey::of(&c, Some(&book)));
                    if !campaigns.is_empty() {
                        cells.push(attributed.get(&c.id()).cloned().unwrap_or_default());
                    }
                    emit(Emit::Row(&cells))?;
                }
                Ok(())
            }
            Dataset::Purchases => {
                let keys = keys()?;
                let mut lines: HashMap<PurchaseId, Vec<PurchaseLine>> = HashMap::new();
                for (p, line) in r.all_purchase_lines()? {
                    lines.entry(p).or_default().push(line);
                }
                if lines.is_empty() {
                    emit(Emit::Header(dataset.columns()))?;
                } else {
                    let header = [dataset.columns(), &PURCHASE_LINE_COLUMNS[..]].concat();
                    emit(Emit::Header(&header))?;
                }
                r.for_each_purchase(&ActivityQuery::ALL, |p| {
                    let Some(key) = keys.get(&p.customer()) else {
                        return Ok(());
                    };
                    cells.clear();
                    cells.extend([
                        key.clone(),
                        p.at().to_rfc3339_opts(SecondsFormat::AutoSi, true),
                        p.amount().amount().to_string(),
                        p.amount().currency().to_string(),
                        text(p.external_ref()),
                        text(p.description()),
                    ]);
                    if lines.is_empty() {
                        return emit(Emit::Row(&cells));
                    }
                    let Some(own) = lines.get(&p.id()) else {
                        cells.extend(std::iter::repeat_n(String::new(), 4));
                        return emit(Emit::Row(&cells));
                    };
                    for (n, line) in own.iter().enumerate() {
                        cells.truncate(PURCHASE_COLUMNS.len());
                        if n == 1 {
                            cells[2].clear();
                        }
                        cells.extend([
                            line.sku.to_string(),
                            line.quantity.to_string(),
                            line.unit_price.amount().to_string(),
                            text(line.discount.map(|d| d.amount())),
                        ]);
                        emit(Emit::Row(&cells))?;
                    }
                    Ok(())
                })
            }
            Dataset::Surveys => {
                emit(Emit::Header(dataset.columns()))?;
                let keys = keys()?;
                for s in r.surveys(&ActivityQuery::ALL)? {
                    let Some(key) = keys.get(&s.customer()) else {
                        continue;
                    };
                    cells.clear();
                    cells.extend([
                        key.clone(),
                        s.at().to_rfc3339_opts(SecondsFormat::AutoSi, true),
                        s.score().kind().to_string(),
                        s.score().value().to_string(),
                        text(s.comment()),
                    ]);
                    emit(Emit::Row(&cells))?;
                }
                Ok(())
            }
        }
    });
    match failed {
        Some(e) => Err(e),
        None => Ok(read?),
    }
}
