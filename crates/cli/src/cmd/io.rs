//! `solocrm export ...`: where the export goes (a file written all or nothing, or
//! standard output) and in which format; the rows and their columns are
//! `solocrm_app::exchange`'s, the columns an import reads, so a file round-trips.

use std::io::Write;
use std::path::Path;

use anyhow::{Context as _, Result};
use solocrm_app::exchange::{CsvExporter, Dataset, ExportError, Exporter, JsonExporter};

use super::Ctx;
use crate::cli::{ExportWhat, Format};
use crate::output::{Counted, Unit};
use crate::paths::{OutFile, Protected};

pub fn export(ctx: &mut Ctx, what: ExportWhat, format: Format, out: Option<&Path>) -> Result<()> {
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
    let dataset = match what {
        ExportWhat::Customers => Dataset::Customers,
        ExportWhat::Purchases => Dataset::Purchases,
        ExportWhat::Surveys => Dataset::Surveys,
    };
    let mut stdout = std::io::stdout().lock();
    // On a terminal a person reads the export: what a terminal would obey is shown
    // escaped. Into a file or a pipe the cells go exactly as stored.
    let terminal = file.is_none() && std::io::IsTerminal::is_terminal(&stdout);
    let exporter: &dyn Exporter = match format {
        Format::Csv => &CsvExporter::new().for_terminal(terminal),
        Format::Json => &JsonExporter,
    };
    let sink: &mut dyn Write = match &mut file {
        Some(f) => f,
        None => &mut stdout,
    };
    // A bar of the bytes written into a file; none over what goes to the terminal.
    let progress = if out.is_some() {
        ctx.progress_in("exporting", 0, Unit::Bytes)
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
    match file {
        Some(f) => {
            written.with_context(|| format!("cannot write {}", f.path().display()))?;
            f.commit()
        }
        None => written,
    }
}
