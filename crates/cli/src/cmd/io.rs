//! `solocrm export ...`, and the columns it shares with `solocrm import ...`: an export
//! writes the columns an import reads, so a file round-trips.

use std::borrow::Cow;
use std::collections::HashMap;
use std::io::Write;
use std::path::Path;

use anyhow::{Context as _, Result};
use chrono::SecondsFormat;
use solocrm_core::{ActivityQuery, Customer, CustomerId, Store, Tag};

use super::Ctx;
use crate::books::File as _;
use crate::cli::{ExportWhat, Format};
use crate::csvio::neutralise;
use crate::output::{TerminalSafe, escape_controls};
use crate::parse::CustomerKey;
use crate::paths::{OutFile, Protected};

/// The columns of each import (and export), in export order. The `customer` column of
/// a customers file is the customer's key, as in the other files: a re-import into
/// the same database updates the customer it names even without reference or email.
pub const CUSTOMER_COLUMNS: [&str; 9] = [
    "name",
    "email",
    "phone",
    "birthday",
    "country",
    "tags",
    "channel",
    "reference",
    "customer",
];
/// The columns of a purchases file.
pub const PURCHASE_COLUMNS: [&str; 6] = [
    "customer",
    "date",
    "amount",
    "currency",
    "reference",
    "description",
];
/// The columns of a surveys file.
pub const SURVEY_COLUMNS: [&str; 5] = ["customer", "date", "kind", "score", "comment"];

/// The columns whose cells an export formats itself rather than copying text.
const FORMATTED: [&str; 6] = ["birthday", "date", "amount", "currency", "kind", "score"];

/// The key a customer is shown by: the reference, else the email, else `#ID` (see
/// [`CustomerKey::of`]).
pub fn customer_key(c: &Customer) -> String {
    CustomerKey::of(c, None)
}

pub fn export(ctx: &mut Ctx, what: ExportWhat, format: Format, out: Option<&Path>) -> Result<()> {
    // The output is checked and created before anything is read.
    let protected = Protected::database(&ctx.db);
    if out.is_none() {
        protected.check_stdout()?;
    }
    let mut file = out
        .map(|path| OutFile::create("--out", path, &protected))
        .transpose()?;
    let store = ctx.open()?;
    let customers = store.read(|r| r.all_customers())?;
    // The key a row names its customer by: `#ID@BOOK` where there is no other, so
    // that a re-import into another database refuses the row rather than attach it
    // to whoever has that id there.
    let book = store.file()?.book_id()?;
    let keys: HashMap<CustomerId, String> = customers
        .iter()
        .map(|c| (c.id(), CustomerKey::of(c, Some(&book))))
        .collect();
    let key = |id: CustomerId| {
        keys.get(&id)
            .cloned()
            .unwrap_or_else(|| format!("#{id}@{book}"))
    };
    let (header, rows): (&[&str], Vec<Vec<String>>) = match what {
        ExportWhat::Customers => (
            &CUSTOMER_COLUMNS,
            customers
                .iter()
                .map(|c| {
                    let d = c.data();
                    vec![
                        c.name().to_string(),
                        c.email().map(ToString::to_string).unwrap_or_default(),
                        c.phone().map(ToString::to_string).unwrap_or_default(),
                        c.birthday().map(|b| b.to_string()).unwrap_or_default(),
                        d.profile
                            .country
                            .as_ref()
                            .map(ToString::to_string)
                            .unwrap_or_default(),
                        c.tags()
                            .iter()
                            .map(Tag::as_str)
                            .collect::<Vec<_>>()
                            .join(";"),
                        d.acquisition_channel
                            .as_ref()
                            .map(ToString::to_string)
                            .unwrap_or_default(),
                        c.external_ref()
                            .map(ToString::to_string)
                            .unwrap_or_default(),
                        key(c.id()),
                    ]
                })
                .collect(),
        ),
        ExportWhat::Purchases => (
            &PURCHASE_COLUMNS,
            store
                .purchases(&ActivityQuery::ALL)?
                .iter()
                .filter(|p| keys.contains_key(&p.customer()))
                .map(|p| {
                    vec![
                        key(p.customer()),
                        p.at().to_rfc3339_opts(SecondsFormat::AutoSi, true),
                        p.amount().amount().to_string(),
                        p.amount().currency().to_string(),
                        p.external_ref()
                            .map(ToString::to_string)
                            .unwrap_or_default(),
                        p.description().map(ToString::to_string).unwrap_or_default(),
                    ]
                })
                .collect(),
        ),
        ExportWhat::Surveys => (
            &SURVEY_COLUMNS,
            store
                .surveys(&ActivityQuery::ALL)?
                .iter()
                .filter(|s| keys.contains_key(&s.customer()))
                .map(|s| {
                    vec![
                        key(s.customer()),
                        s.at().to_rfc3339_opts(SecondsFormat::AutoSi, true),
                        s.score().kind().to_string(),
                        s.score().value().to_string(),
                        s.comment().map(ToString::to_string).unwrap_or_default(),
                    ]
                })
                .collect(),
        ),
    };
    let mut stdout = std::io::stdout().lock();
    // On a terminal a person reads the export: what a terminal would obey is shown
    // escaped. Into a file or a pipe the cells go exactly as stored.
    let terminal = file.is_none() && std::io::IsTerminal::is_terminal(&stdout);
    let sink: &mut dyn Write = match &mut file {
        Some(f) => f,
        None => &mut stdout,
    };
    let written = write_rows(sink, format, header, &rows, terminal);
    match file {
        Some(f) => {
            written.with_context(|| format!("cannot write {}", f.path().display()))?;
            f.commit()?;
        }
        None => written?,
    }
    Ok(())
}

/// Writes the rows as CSV or JSON.
fn write_rows(
    sink: &mut dyn Write,
    format: Format,
    header: &[&str],
    rows: &[Vec<String>],
    terminal: bool,
) -> Result<()> {
    match format {
        Format::Csv => {
            let mut w = csv::Writer::from_writer(&mut *sink);
            w.write_record(header)?;
            // Text cells are guarded against spreadsheet formulas; the cells
            // formatted here (dates, amounts, codes) cannot start one.
            let text: Vec<bool> = header.iter().map(|h| !FORMATTED.contains(h)).collect();
            for r in rows {
                for (cell, &is_text) in r.iter().zip(&text) {
                    let cell = match terminal {
                        true => escape_controls(cell, true),
                        false => Cow::Borrowed(cell.as_str()),
                    };
                    let cell = cell.as_ref();
                    match is_text {
                        true => w.write_field(neutralise(cell).as_bytes())?,
                        false => w.write_field(cell)?,
                    }
                }
                w.write_record(None::<&[u8]>)?;
            }
            w.flush()?;
        }
        Format::Json => {
            let objects: Vec<serde_json::Map<String, serde_json::Value>> = rows
                .iter()
                .map(|r| {
                    header
                        .iter()
                        .zip(r)
                        .map(|(h, v)| ((*h).to_owned(), serde_json::Value::String(v.clone())))
                        .collect()
                })
                .collect();
            // The JSON is the same for every reader; the controls a terminal obeys are
            // written as \uXXXX escapes.
            let mut ser = serde_json::Serializer::with_formatter(
                &mut *sink,
                TerminalSafe(serde_json::ser::PrettyFormatter::new()),
            );
            serde::Serialize::serialize(&objects, &mut ser)?;
            writeln!(sink)?;
        }
    }
    sink.flush()?;
    Ok(())
}
