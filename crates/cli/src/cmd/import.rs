//! `solocrm import ...`: the arguments to a [`CsvImporter`] and its summary printed.
//! The contract itself (columns, strictness, rejects, one transaction) lives in
//! `solocrm_app::exchange`.

use anyhow::{Result, anyhow};
use solocrm_app::exchange::csv_file::FileError;
use solocrm_app::exchange::{
    CsvImporter, Dataset, ImportError, ImportOptions, ImportSummary, Importer, Input, Output,
};

use super::Ctx;
use crate::cli::ImportCmd;
use crate::output::ImportProgress;
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
    // `-` is standard input.
    let stdin = opts.file.as_os_str() == "-";
    // The rejects file is checked and created before anything is read or written: a
    // path that cannot be written must not cost a committed import its rejects.
    let rejects: Option<Box<dyn Output>> = match &opts.rejects {
        Some(path) if opts.skip_invalid => {
            let mut protected = Protected::database(&ctx.db);
            if !stdin {
                protected = protected.with_input(&opts.file, "the file being imported");
            }
            Some(Box::new(OutFile::create("--rejects", path, &protected)?))
        }
        _ => None,
    };
    // Standard input is read whole: an import may read its input more than once
    // (its encoding first, then its rows, again after a refused row).
    let input = if stdin {
        Input::stdin().map_err(|e| anyhow!("cannot read standard input: {e}"))?
    } else {
        Input::file(&opts.file)
    };
    let store = ctx.open()?;
    let mut options = ImportOptions::new(ctx.now);
    options.skip_invalid = opts.skip_invalid;
    options.ignore_unknown = opts.ignore_unknown;
    options.create_missing = create_missing;
    options.dry_run = opts.dry_run;
    // No progress under --quiet.
    let mut bars = ImportProgress::new();
    let mut silent = solocrm_app::exchange::NoProgress;
    let progress: &mut dyn solocrm_app::exchange::Progress = if super::quiet() {
        &mut silent
    } else {
        &mut bars
    };
    let imported = CsvImporter.import(&store, dataset, &input, &options, rejects, progress);
    bars.finish();
    let summary = imported.map_err(|e| match e {
        ImportError::File(e @ FileError::UnknownColumn { .. }) => {
            anyhow!("{e} (or pass --ignore-unknown)")
        }
        other => other.into(),
    })?;
    if ctx.out.json {
        return ctx.out.json(&summary);
    }
    if summary.dry_run {
        return dry_run(ctx, &summary);
    }
    if summary.rows == 0 {
        return ctx.out.line(format!(
            "nothing to import: {} has a header but no rows",
            summary.file
        ));
    }
    ctx.out
        .line(format!("imported {}: {}", summary.file, counts(&summary)))
}

/// The counts of a summary: `3 created, 1 updated, 0 unchanged, 2 rejected`.
fn counts(summary: &ImportSummary) -> String {
    let mut parts: Vec<String> = summary
        .counts
        .iter()
        .map(|(k, v)| format!("{v} {k}"))
        .collect();
    if summary.rejected > 0 {
        parts.push(format!("{} rejected", summary.rejected));
    }
    parts.join(", ")
}

/// Prints what a dry run found: the counts, then each row that would change
/// something or be rejected (unchanged rows only counted).
fn dry_run(ctx: &mut Ctx, summary: &ImportSummary) -> Result<()> {
    ctx.out.line(format!(
        "dry run of {}: would import {}; nothing was written",
        summary.file,
        counts(summary)
    ))?;
    for row in summary.plan.iter().flatten() {
        let what = match row.action {
            "reject" => format!("reject: {}", row.reason.as_deref().unwrap_or("")),
            "update" => {
                let fields: Vec<String> = row
                    .changes
                    .iter()
                    .map(|c| format!("{} '{}' -> '{}'", c.field, c.from, c.to))
                    .collect();
                format!("update {}: {}", row.name, fields.join("; "))
            }
            "create" => format!("create {}", row.name),
            _ => continue,
        };
        ctx.out.line(format!("line {}: {what}", row.line))?;
    }
    Ok(())
}
