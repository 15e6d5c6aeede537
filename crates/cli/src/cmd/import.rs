//! `solocrm import ...`: the arguments to a [`CsvImporter`] and its summary printed.
//! The contract itself (columns, strictness, rejects, one transaction) lives in
//! `solocrm_app::exchange`.

use std::path::Path;

use anyhow::{Result, anyhow};
use solocrm_app::exchange::archive::{import_archive, parse_archive};
use solocrm_app::exchange::csv_file::FileError;
use solocrm_app::exchange::presets::{self, Preset};
use solocrm_app::exchange::{
    CsvImporter, Dataset, ImportError, ImportOptions, ImportSummary, Importer, Input, Output,
};

use super::Ctx;
use crate::cli::{ImportCmd, ImportFormat, ImportFrom};
use crate::output::ImportProgress;
use crate::paths::{OutFile, Protected};

pub fn import(ctx: &mut Ctx, cmd: ImportCmd) -> Result<()> {
    let mut preset = None;
    let (dataset, opts, create_missing) = match cmd {
        ImportCmd::Customers { opts, from, format } => {
            preset = match (from, format) {
                (Some(ImportFrom::Hubspot), _) => Some(Preset::Hubspot),
                (Some(ImportFrom::GoogleContacts), _) => Some(Preset::GoogleContacts),
                (None, Some(ImportFormat::Vcard)) => Some(Preset::Vcard),
                (None, Some(ImportFormat::Csv)) => None,
                (None, None) => is_vcard(&opts.file).then_some(Preset::Vcard),
            };
            (Dataset::Customers, opts, false)
        }
        ImportCmd::Purchases {
            opts,
            create_missing,
        } => (Dataset::Purchases, opts, create_missing),
        ImportCmd::Surveys(opts) => (Dataset::Surveys, opts, false),
        ImportCmd::All { file } => return import_all(ctx, &file),
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
    let mut input = if stdin {
        Input::stdin().map_err(|e| anyhow!("cannot read standard input: {e}"))?
    } else {
        Input::file(&opts.file)
    };
    // Another program's export, or vCards: read into a customers file first.
    if let Some(preset) = preset {
        input = presets::convert(&input, preset)?;
    }
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

/// True if the path names a vCard file (`.vcf` or `.vcard`, any case).
fn is_vcard(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("vcf") || e.eq_ignore_ascii_case("vcard"))
}

/// `solocrm import all FILE`: an archive of `export all` into this empty book.
fn import_all(ctx: &mut Ctx, file: &Path) -> Result<()> {
    let (name, archive) = if file.as_os_str() == "-" {
        let archive = parse_archive(std::io::stdin().lock());
        ("standard input".to_owned(), archive)
    } else {
        let f = std::fs::File::open(file)
            .map_err(|e| anyhow!("cannot read {}: {e}", file.display()))?;
        (file.display().to_string(), parse_archive(f))
    };
    let archive = archive.map_err(|e| anyhow!("{name}: {e}"))?;
    let store = ctx.open()?;
    import_archive(&store, &archive)?;
    if ctx.out.json {
        let counts: serde_json::Map<String, serde_json::Value> = archive
            .counts()
            .into_iter()
            .map(|(k, v)| (k.replace(' ', "_"), v.into()))
            .collect();
        return ctx.out.json(&serde_json::json!({
            "file": name,
            "book_id": archive.book_id,
            "counts": counts,
        }));
    }
    let counts: Vec<String> = archive
        .counts()
        .into_iter()
        .filter(|(_, n)| *n > 0)
        .map(|(k, n)| format!("{n} {k}"))
        .collect();
    let counts = match counts.is_empty() {
        true => "nothing (an empty book)".to_owned(),
        false => counts.join(", "),
    };
    ctx.say(format!(
        "restored {name} into book {}: {counts}",
        archive.book_id
    ))
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
