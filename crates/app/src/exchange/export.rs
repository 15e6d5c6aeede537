//! The exports: [`CsvExporter`] and [`JsonExporter`].

use std::borrow::Cow;
use std::collections::HashMap;
use std::io::{self, Write};

use chrono::SecondsFormat;
use solocrm_core::{ActivityQuery, CustomerId, StoreError};

use super::csv_file::neutralise;
use super::{Dataset, customer_cells, text};
use crate::Books;
use crate::escape::{TerminalSafe, escape_controls};
use crate::keys::CustomerKey;

/// The columns whose cells an export formats itself rather than copying text: they
/// cannot begin a spreadsheet formula, so they are not guarded.
const FORMATTED: [&str; 11] = [
    "birthday",
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
        let header = dataset.columns();
        let rows = rows(books, dataset)?;
        let mut w = csv::Writer::from_writer(&mut *out);
        w.write_record(header)?;
        let text: Vec<bool> = header.iter().map(|h| !FORMATTED.contains(h)).collect();
        for r in &rows {
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
        }
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
        let header = dataset.columns();
        let objects: Vec<serde_json::Map<String, serde_json::Value>> = rows(books, dataset)?
            .into_iter()
            .map(|r| {
                header
                    .iter()
                    .zip(r)
                    .map(|(h, v)| ((*h).to_owned(), serde_json::Value::String(v)))
                    .collect()
            })
            .collect();
        let mut ser = serde_json::Serializer::with_formatter(
            &mut *out,
            TerminalSafe(serde_json::ser::PrettyFormatter::new()),
        );
        serde::Serialize::serialize(&objects, &mut ser)?;
        writeln!(out)?;
        out.flush()?;
        Ok(())
    }
}

/// The rows of `dataset`, as text cells in [`Dataset::columns`] order, read in one
/// snapshot.
fn rows(books: &Books, dataset: Dataset) -> Result<Vec<Vec<String>>, StoreError> {
    let book = books.book_id()?;
    books.read(|r| {
        let customers = r.all_customers()?;
        let keys: HashMap<CustomerId, String> = customers
            .iter()
            .map(|c| (c.id(), CustomerKey::of(c, Some(&book))))
            .collect();
        let key = |id: CustomerId| {
            keys.get(&id)
                .cloned()
                .unwrap_or_else(|| format!("#{id}@{book}"))
        };
        Ok(match dataset {
            Dataset::Customers => customers
                .iter()
                .map(|c| {
                    let mut cells = customer_cells(c.data(), Some(c.stage()));
                    cells.push(key(c.id()));
                    cells
                })
                .collect(),
            Dataset::Purchases => r
                .purchases(&ActivityQuery::ALL)?
                .iter()
                .filter(|p| keys.contains_key(&p.customer()))
                .map(|p| {
                    vec![
                        key(p.customer()),
                        p.at().to_rfc3339_opts(SecondsFormat::AutoSi, true),
                        p.amount().amount().to_string(),
                        p.amount().currency().to_string(),
                        text(p.external_ref()),
                        text(p.description()),
                    ]
                })
                .collect(),
            Dataset::Surveys => r
                .surveys(&ActivityQuery::ALL)?
                .iter()
                .filter(|s| keys.contains_key(&s.customer()))
                .map(|s| {
                    vec![
                        key(s.customer()),
                        s.at().to_rfc3339_opts(SecondsFormat::AutoSi, true),
                        s.score().kind().to_string(),
                        s.score().value().to_string(),
                        text(s.comment()),
                    ]
                })
                .collect(),
        })
    })
}
