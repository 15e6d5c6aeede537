//! `solocrm import ...`: the arguments to a [`CsvImporter`] and its summary printed.
//! The contract itself (columns, strictness, rejects, one transaction) lives in
//! `solocrm_app::exchange`.

use anyhow::{Result, anyhow};
use solocrm_app::exchange::csv_file::FileError;
use solocrm_app::exchange::{CsvImporter, Dataset, ImportError, ImportOptions, Importer, Output};

use super::Ctx;
use crate::cli::ImportCmd;
use crate::output::ProgressLine;
use crate::paths::{OutFile, Protected};

pub fn import(ctx: &mut Ctx, cmd: ImportCmd) -> Result<()> {
    let (dataset, opts, create_missing) = match cmd {
        ImportCmd::Customers(opts) => (Dataset::Customers, opts, false),
        ImportCmd::Purchases {
            opts,
            create_missing,
        } => (Dataset::Purchases, opts, create_missing),
        ImportCmd::Surveys(opts) => (Dataset::Surveys, opts, false),
    };
    // The rejects file is checked and created before anything is read or written: a
    // path that cannot be written must not cost a committed import its rejects.
    let rejects: Option<Box<dyn Output>> = match &opts.rejects {
        Some(path) if opts.skip_invalid => {
            let protected =
                Protected::database(&ctx.db).with_input(&opts.file, "the file being imported");
            Some(Box::new(OutFile::create("--rejects", path, &protected)?))
        }
        _ => None,
    };
    let store = ctx.open()?;
    let mut options = ImportOptions::new(ctx.now);
    options.skip_invalid = opts.skip_invalid;
    options.ignore_unknown = opts.ignore_unknown;
    options.create_missing = create_missing;
    let mut progress = ProgressLine::new("importing");
    let summary = CsvImporter
        .import(
            &store,
            dataset,
            &opts.file,
            &options,
            rejects,
            &mut progress,
        )
        .map_err(|e| match e {
            ImportError::File(e @ FileError::UnknownColumn { .. }) => {
                anyhow!("{e} (or pass --ignore-unknown)")
            }
            other => other.into(),
        })?;
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
