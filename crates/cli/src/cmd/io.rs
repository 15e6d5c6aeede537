//! `solocrm export ...`: where the export goes (a file written all or nothing, or
//! standard output) and in which format; the rows and their columns are
//! `solocrm_app::exchange`'s, the columns an import reads, so a file round-trips.

use std::io::Write;
use std::path::Path;

use anyhow::{Context as _, Result};
use solocrm_app::Books;
use solocrm_app::escape::escape_controls;
use solocrm_app::exchange::archive::{ArchiveError, export_archive};
use solocrm_app::exchange::calendar::{Calendar, write_calendar};
use solocrm_app::exchange::vcard::write_vcards;
use solocrm_app::exchange::{CsvExporter, Dataset, ExportError, Exporter, JsonExporter};
use solocrm_core::{TaskQuery, care::Holiday};

use super::Ctx;
use crate::cli::{ExportWhat, Format};
use crate::output::{Counted, Unit};
use crate::paths::{OutFile, Protected};

pub fn export(
    ctx: &mut Ctx,
    what: ExportWhat,
    format: Option<Format>,
    out: Option<&Path>,
    holidays: &[String],
) -> Result<()> {
    // `Cli::check` refused a format the export does not have.
    let format = format.unwrap_or(what.formats()[0]);
    let holidays: Vec<Holiday> = holidays
        .iter()
        .map(|h| super::lifecycle::holiday(h))
        .collect::<Result<_>>()?;
    // `--out -` is standard output, as is no `--out`.
    let out = out.filter(|path| path.as_os_str() != "-");
    // The output is checked and created before anything is read.
    let protected = Protected::database(&ctx.db);
    if out.is_none() {
        protected.check_stdout()?;
    }
    let mut file = out
        .map(|path| OutFile::create("--out", path, &protected))
        .transpose()?;
    let store = ctx.open()?;
    let dataset = match (what, format) {
        (ExportWhat::Customers, Format::Vcard) => {
            let text = vcards(&store)?;
            return finish_text(file, &text);
        }
        (ExportWhat::Calendar, _) => {
            let text = calendar(ctx, &store, &holidays)?;
            return finish_text(file, &text);
        }
        (ExportWhat::All, _) => {
            let mut stdout = std::io::stdout().lock();
            let sink: &mut dyn Write = match &mut file {
                Some(f) => f,
                None => &mut stdout,
            };
            let written = match export_archive(&store, sink) {
                Ok(()) => Ok(()),
                Err(ArchiveError::Store(e)) => return Err(e.into()),
                Err(ArchiveError::Io(e)) => Err(anyhow::Error::from(e)),
                Err(other) => Err(other.into()),
            };
            return finish(file, written);
        }
        (ExportWhat::Customers, _) => Dataset::Customers,
        (ExportWhat::Purchases, _) => Dataset::Purchases,
        (ExportWhat::Surveys, _) => Dataset::Surveys,
    };
    let mut stdout = std::io::stdout().lock();
    // On a terminal a person reads the export: what a terminal would obey is shown
    // escaped. Into a file or a pipe the cells go exactly as stored.
    let terminal = file.is_none() && std::io::IsTerminal::is_terminal(&stdout);
    let exporter: &dyn Exporter = match format {
        Format::Json => &JsonExporter,
        _ => &CsvExporter::new().for_terminal(terminal),
    };
    let sink: &mut dyn Write = match &mut file {
        Some(f) => f,
        None => &mut stdout,
    };
    // A bar of the bytes written into a file; none over what goes to the terminal.
    let progress = if out.is_some() {
        ctx.progress_in(t!("progress.exporting"), 0, Unit::Bytes)
    } else {
        None
    };
    let mut counted = Counted::new(sink, progress);
    let exported = exporter.export(&store, dataset, &mut counted);
    counted.finish();
    // The error itself, not the wrapper, so that `main` can tell a closed pipe.
    let written = match exported {
        Ok(()) => Ok(()),
        Err(ExportError::Store(e)) => return Err(e.into()),
        Err(ExportError::Csv(e)) => Err(anyhow::Error::from(e)),
        Err(ExportError::Json(e)) => Err(e.into()),
        Err(ExportError::Io(e)) => Err(e.into()),
        Err(other) => Err(other.into()),
    };
    finish(file, written)
}

/// Commits the file once everything is written, or reports what went wrong.
fn finish(file: Option<OutFile>, written: Result<()>) -> Result<()> {
    match file {
        Some(f) => {
            written.with_context(|| t!("export.cannot_write", file = f.path().display()))?;
            f.commit()
        }
        None => written,
    }
}

/// Writes a document made whole in memory (vCard, iCalendar) to the file or standard
/// output. Into a file or a pipe it goes as written; on a terminal, what a terminal
/// would obey (a bidirectional override in a note, say) is shown escaped, line by
/// line.
fn finish_text(mut file: Option<OutFile>, text: &str) -> Result<()> {
    let written = match &mut file {
        Some(f) => f.write_all(text.as_bytes()).and_then(|()| f.flush()),
        None => {
            let mut stdout = std::io::stdout().lock();
            if std::io::IsTerminal::is_terminal(&stdout) {
                let shown: String = text
                    .split_terminator("\r\n")
                    .map(|line| format!("{}\r\n", escape_controls(line, false)))
                    .collect();
                stdout
                    .write_all(shown.as_bytes())
                    .and_then(|()| stdout.flush())
            } else {
                stdout
                    .write_all(text.as_bytes())
                    .and_then(|()| stdout.flush())
            }
        }
    };
    finish(file, written.map_err(anyhow::Error::from))
}

/// The customers as vCard 4.0, read in one snapshot.
fn vcards(store: &Books) -> Result<String> {
    let book = store.book_id()?;
    let customers = store.read(|r| r.all_customers())?;
    Ok(write_vcards(&customers, &book))
}

/// The care calendar, read in one snapshot.
fn calendar(ctx: &Ctx, store: &Books, holidays: &[Holiday]) -> Result<String> {
    let book = store.book_id()?;
    let (customers, tasks, stored) = store.read(|r| {
        let customers = r.all_customers()?;
        let tasks = r.tx().tasks(&TaskQuery {
            customer: None,
            due_until: None,
            include_done: false,
        })?;
        Ok((customers, tasks, r.holiday_calendar()?))
    })?;
    // The holidays kept with the books, dated, from today to a year ahead.
    let today = ctx.today();
    let dated = stored.occurrences_between(
        today,
        today
            .checked_add_days(chrono::Days::new(365))
            .unwrap_or(today),
    );
    Ok(write_calendar(&Calendar {
        book: &book,
        customers: &customers,
        tasks: &tasks,
        holidays,
        dated_holidays: &dated,
        now: ctx.now,
        today: ctx.today(),
    }))
}
