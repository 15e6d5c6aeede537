//! The import page (issue 15): `/import` uploads a customers, purchases or survey
//! answers file and reads it through the same pipeline as `solocrm import`
//! ([`CsvImporter`]): the same columns, encodings (UTF-8, UTF-16, GB18030), Chinese
//! headers, purchase lines, `campaign` column, presets (vCard, HubSpot, Google
//! Contacts) and errors. The CLI's `--ignore-unknown` and `--create-missing` are
//! checkboxes, its `--dry-run` the "check only" button (ADR 0041).
//!
//! One rule more than the CLI's default: nothing is ever set aside. A file with a bad
//! row writes nothing (the CLI's strict import, one transaction), and the page lists
//! *every* bad row with its line, column and reason — found by a second, dry pass
//! that sets bad rows aside ([`ImportSummary::rejects`]) — so that the whole file can
//! be fixed at once. An upload larger than [`UPLOAD_LIMIT`] is refused with 413.

use axum::extract::Multipart;
use axum::extract::multipart::MultipartRejection;
use solocrm_app::exchange::csv_file::{FileError, RowError};
use solocrm_app::exchange::presets::{self, Preset};
use solocrm_app::exchange::{
    CsvImporter, Dataset, ImportError, ImportOptions, ImportSummary, Importer, Input, NoProgress,
};

use super::*;

/// The largest upload `/import` reads: 32 MiB, about 300 000 customer rows. A larger
/// file is imported with `solocrm import`, which streams it.
pub const UPLOAD_LIMIT: usize = 32 * 1024 * 1024;

/// The most bad rows a refused file lists (then how many more there are).
const PROBLEMS_SHOWN: usize = 1_000;
/// The most rows of a dry run's plan shown.
const PLAN_SHOWN: usize = 500;

/// The counts an import reports, in the order the page shows them (the names of
/// [`ImportSummary::counts`]).
const COUNTS: [&str; 7] = [
    "created",
    "updated",
    "unchanged",
    "purchases",
    "new customers",
    "purchase lines",
    "survey answers",
];

/// The kinds of file, by their form's name.
const KINDS: [(&str, Dataset); 3] = [
    ("customers", Dataset::Customers),
    ("purchases", Dataset::Purchases),
    ("surveys", Dataset::Surveys),
];

/// The formats a customers file may be in (`csv` or a preset), as `--from`/`--format`.
const FORMATS: [&str; 4] = ["csv", "vcard", "hubspot", "google-contacts"];

fn preset_of(format: &str) -> Option<Preset> {
    match format {
        "vcard" => Some(Preset::Vcard),
        "hubspot" => Some(Preset::Hubspot),
        "google-contacts" => Some(Preset::GoogleContacts),
        _ => None,
    }
}

/// The form of a kind: `import-customers`, …
fn form_id(kind: &str) -> String {
    format!("import-{kind}")
}

/// One thing wrong with a file: its line and column when one is to blame.
#[derive(Debug, Clone)]
struct Problem {
    line: Option<u64>,
    column: Option<String>,
    reason: String,
}

impl From<RowError> for Problem {
    fn from(e: RowError) -> Self {
        Problem {
            line: Some(e.line),
            column: e.column,
            reason: e.reason,
        }
    }
}

impl Problem {
    fn whole(reason: impl Into<String>) -> Self {
        Problem {
            line: None,
            column: None,
            reason: reason.into(),
        }
    }
}

/// What an upload did.
enum Outcome {
    /// Imported (or, for a check, would import) as the summary says.
    Done(ImportSummary),
    /// Refused: nothing was written. Every bad row the file has (up to
    /// [`PROBLEMS_SHOWN`]) and how many there are.
    Refused(Vec<Problem>, usize),
}

/// What the page shows below the forms.
enum Panel {
    None,
    /// An import done: its counts (read back from the 303's query).
    Imported(Vec<(&'static str, usize)>, u64),
    /// A check (dry run): the summary.
    Checked(ImportSummary),
    /// A refused file.
    Refused(Vec<Problem>, usize),
}

/// What an upload asked.
#[derive(Default)]
struct Upload {
    values: HashMap<String, String>,
    file_name: String,
    bytes: Option<Vec<u8>>,
}

impl Upload {
    /// The kind asked for, when it is one of [`KINDS`]; `None` for a missing or
    /// unknown one (refused, never read as another kind).
    fn kind(&self) -> Option<&'static str> {
        let k = self.values.get("kind").map_or("", String::as_str);
        KINDS
            .iter()
            .find(|(name, _)| *name == k)
            .map(|(name, _)| *name)
    }

    fn ticked(&self, name: &str) -> bool {
        self.values.get(name).is_some_and(|v| !v.is_empty())
    }
}

/// `GET /import`: a form per kind of file; after an import, its counts.
pub async fn import_page(ctx: Ctx, Query(q): Query<HashMap<String, String>>) -> Response {
    let counts: Vec<(&'static str, usize)> = COUNTS
        .iter()
        .filter_map(|k| q.get(*k).and_then(|v| v.parse().ok()).map(|n| (*k, n)))
        .collect();
    let rows = q.get("rows").and_then(|v| v.parse().ok());
    let shown = match rows {
        Some(rows) => Panel::Imported(counts, rows),
        None => Panel::None,
    };
    respond(StatusCode::OK, page(&ctx, None, &shown))
}

/// `POST /import` (multipart: `kind`, `format`, `ignore_unknown`, `create_missing`,
/// `action` = `import` or `check`, `file`): imports the file (303 to the page with its
/// counts), checks it (200 with what it would do), or refuses it (422 listing every bad
/// row; 413 for an upload over [`UPLOAD_LIMIT`]).
pub async fn import_upload(
    State(st): State<AppState>,
    ctx: Ctx,
    multipart: Result<Multipart, MultipartRejection>,
) -> Response {
    let l = ctx.lang;
    let mut upload = Upload::default();
    let read = match multipart {
        Ok(m) => read_upload(m, &mut upload).await,
        Err(e) => Err((StatusCode::UNPROCESSABLE_ENTITY, e.body_text())),
    };
    let asked_kind = upload.kind();
    // A refusal of an unknown kind is shown on the first form.
    let kind = asked_kind.unwrap_or(KINDS[0].0).to_owned();
    let form = form_id(&kind);
    let refuse = |status: StatusCode, field: &'static str, message: String| {
        let state = FormState::new(&form, field, message, &upload.values);
        respond(status, page(&ctx, Some(&state), &Panel::None))
    };
    if let Err((status, message)) = read {
        let message = if status == StatusCode::PAYLOAD_TOO_LARGE {
            l.f(
                "import.too_large",
                &[("mib", &(UPLOAD_LIMIT / (1024 * 1024)))],
            )
        } else {
            l.f("import.bad_upload", &[("error", &message)])
        };
        return refuse(status, "file", message);
    }
    let Some((_, dataset)) =
        asked_kind.and_then(|k| KINDS.iter().find(|(name, _)| *name == k).copied())
    else {
        return refuse(
            StatusCode::UNPROCESSABLE_ENTITY,
            "file",
            l.t("import.bad_kind").to_owned(),
        );
    };
    let format = upload.values.get("format").map_or("csv", String::as_str);
    if !FORMATS.contains(&format) || (format != "csv" && dataset != Dataset::Customers) {
        return refuse(
            StatusCode::UNPROCESSABLE_ENTITY,
            "format",
            l.f("import.bad_format", &[("format", &format)]),
        );
    }
    let preset = preset_of(format);
    let bytes = match upload.bytes.take() {
        Some(b) if !b.is_empty() => b,
        _ => {
            return refuse(
                StatusCode::UNPROCESSABLE_ENTITY,
                "file",
                l.t("import.no_file").to_owned(),
            );
        }
    };
    let mut options = ImportOptions::new(st.now());
    options.ignore_unknown = upload.ticked("ignore_unknown");
    options.create_missing = dataset == Dataset::Purchases && upload.ticked("create_missing");
    options.dry_run = upload.values.get("action").is_some_and(|a| a == "check");
    let name = if upload.file_name.is_empty() {
        format!("{kind}.csv")
    } else {
        upload.file_name.clone()
    };
    let books = st.inner.books.clone();
    let check = options.dry_run;
    let outcome = blocking(move || {
        let input = Input::bytes(name, bytes);
        let input = match preset {
            Some(p) => match presets::convert(&input, p) {
                Ok(i) => i,
                Err(e) => return Ok(Outcome::Refused(vec![Problem::whole(e.to_string())], 1)),
            },
            None => input,
        };
        run(l, &books, dataset, &input, &options)
    })
    .await;
    match outcome {
        Ok(Outcome::Done(summary)) if check => {
            respond(StatusCode::OK, page(&ctx, None, &Panel::Checked(summary)))
        }
        Ok(Outcome::Done(summary)) => {
            // An import is a bulk write: what it triggers runs now, and no kept view
            // (the dashboard's, the care list) outlives it.
            st.forget_kept_views();
            st.after_write().await;
            let mut pairs: Vec<(&str, String)> =
                vec![("kind", kind.clone()), ("rows", summary.rows.to_string())];
            pairs.extend(summary.counts.iter().map(|(k, n)| (*k, n.to_string())));
            let query = serde_urlencoded::to_string(&pairs).unwrap_or_default();
            Redirect::to(&format!("/import?{query}")).into_response()
        }
        Ok(Outcome::Refused(problems, total)) => {
            let state = FormState::new(
                &form,
                "file",
                l.f("import.refused", &[("n", &total)]),
                &upload.values,
            );
            respond(
                StatusCode::UNPROCESSABLE_ENTITY,
                page(&ctx, Some(&state), &Panel::Refused(problems, total)),
            )
        }
        Err(f) => failure(&ctx, f),
    }
}

/// Reads the multipart body: the file's bytes and name, and the other fields as text.
/// The error is the status to answer (413 for a body over the limit) and why.
async fn read_upload(mut m: Multipart, upload: &mut Upload) -> Result<(), (StatusCode, String)> {
    let fail = |e: axum::extract::multipart::MultipartError| (e.status(), e.body_text());
    while let Some(field) = m.next_field().await.map_err(fail)? {
        let name = field.name().unwrap_or_default().to_owned();
        if name == "file" {
            // Only the base name: a browser may send a path.
            upload.file_name = field
                .file_name()
                .map(|n| n.rsplit(['/', '\\']).next().unwrap_or(n).to_owned())
                .unwrap_or_default();
            upload.bytes = Some(field.bytes().await.map_err(fail)?.to_vec());
        } else if !name.is_empty() {
            let text = field.text().await.map_err(fail)?;
            upload.values.insert(name, text);
        }
    }
    Ok(())
}

/// Imports `input` as the CLI does without `--skip-invalid`: all of it or nothing. A
/// file refused for a bad row is read again, dry and setting bad rows aside, to list
/// every one of them.
fn run(
    l: Lang,
    books: &solocrm_app::Books,
    dataset: Dataset,
    input: &Input,
    options: &ImportOptions,
) -> Result<Outcome, Failure> {
    let first = match CsvImporter.import(books, dataset, input, options, None, &mut NoProgress) {
        Ok(summary) => return Ok(Outcome::Done(summary)),
        Err(e) => e,
    };
    let problem = match first {
        ImportError::Row { row, .. } | ImportError::Unsettled { row, .. } => {
            let mut all = options.clone();
            all.skip_invalid = true;
            all.dry_run = true;
            let every = match CsvImporter.import(books, dataset, input, &all, None, &mut NoProgress)
            {
                Ok(s) if !s.rejects.is_empty() => s.rejects,
                // The dry pass found nothing (the books changed meanwhile): the
                // first refusal is the answer.
                _ => vec![row],
            };
            let total = every.len();
            let shown = every
                .into_iter()
                .take(PROBLEMS_SHOWN)
                .map(Problem::from)
                .collect();
            return Ok(Outcome::Refused(shown, total));
        }
        ImportError::File(FileError::UnknownColumn {
            column, expected, ..
        }) => Problem {
            line: Some(1),
            column: Some(column),
            reason: l.f("import.unknown_column", &[("expected", &expected)]),
        },
        ImportError::File(FileError::Invalid { line, reason, .. })
        | ImportError::Unreadable(FileError::Invalid { line, reason, .. }) => Problem {
            line,
            column: None,
            reason,
        },
        ImportError::File(FileError::Encoding { source, .. }) => Problem::whole(source.to_string()),
        ImportError::Read(e) | ImportError::Store(e) => return Err(e.into()),
        other => Problem::whole(other.to_string()),
    };
    Ok(Outcome::Refused(vec![problem], 1))
}

/// A labelled checkbox, ticked if the failed form had it ticked.
fn checkbox(state: Option<&FormState>, form: &str, name: &str, label: &str) -> Markup {
    let id = format!("{form}-{name}");
    let ticked = !typed(state, form, name).is_empty();
    html! {
        div.field.check {
            @if ticked {
                input id=(id) type="checkbox" name=(name) value="1" checked;
            } @else {
                input id=(id) type="checkbox" name=(name) value="1";
            }
            label for=(id) { (label) }
        }
    }
}

/// The upload form of one kind of file.
fn upload_form(l: Lang, state: Option<&FormState>, kind: &'static str, dataset: Dataset) -> Markup {
    let form = form_id(kind);
    let file_id = format!("{form}-file");
    let error = error_for(state, &form, "file");
    let required = dataset.required().join(", ");
    let optional = dataset.optional().join(", ");
    let formats: Vec<(&'static str, &'static str)> = FORMATS
        .iter()
        .map(|f| (*f, l.label("iformat", f)))
        .collect();
    html! {
        section.import-kind {
            h2 { (l.label("ikind", kind)) }
            p.hint { (l.f("import.columns", &[("required", &required), ("optional", &optional)])) }
            form #(form) method="post" action="/import" enctype="multipart/form-data" {
                input type="hidden" name="kind" value=(kind);
                @if dataset == Dataset::Customers {
                    (choose(state, &form, "format", l.t("import.format"), &formats, "csv"))
                }
                div.field {
                    label for=(file_id) { (l.t("import.file")) }
                    @if let Some(e) = error {
                        input id=(file_id) type="file" name="file" accept=".csv,.txt,.vcf,.vcard,text/csv,text/vcard"
                            aria-invalid="true" aria-describedby=(format!("{file_id}-error"));
                        span.error id=(format!("{file_id}-error")) role="alert" { (e) }
                    } @else {
                        input id=(file_id) type="file" name="file" accept=".csv,.txt,.vcf,.vcard,text/csv,text/vcard";
                    }
                }
                (checkbox(state, &form, "ignore_unknown", l.t("import.ignore_unknown")))
                @if dataset == Dataset::Purchases {
                    (checkbox(state, &form, "create_missing", l.t("import.create_missing")))
                }
                button type="submit" name="action" value="import" { (l.t("import.import")) }
                " "
                button type="submit" name="action" value="check" { (l.t("import.check")) }
            }
        }
    }
}

/// The counts of a summary, in the page's language.
fn counts_line(l: Lang, counts: &[(&'static str, usize)], rows: u64) -> String {
    let mut parts = vec![l.f("import.rows", &[("n", &rows)])];
    parts.extend(
        counts
            .iter()
            .map(|(k, n)| format!("{} {}", n, l.label("icount", k))),
    );
    parts.join(l.t("import.separator"))
}

fn page(ctx: &Ctx, state: Option<&FormState>, shown: &Panel) -> Markup {
    let l = ctx.lang;
    let body = html! {
        p.hint { (l.t("import.intro")) }
        @match shown {
            Panel::None => {}
            Panel::Imported(counts, rows) => {
                p.message.done #import-done role="status" {
                    (l.f("import.done", &[("counts", &counts_line(l, counts, *rows))]))
                }
            }
            Panel::Checked(s) => {
                section #import-checked {
                    p.message.done role="status" {
                        bdi { (s.file) } ": "
                        (l.f("import.would", &[("counts", &counts_line(l, &s.counts, s.rows))]))
                    }
                    @if let Some(plan) = &s.plan {
                        @let changing: Vec<_> = plan.iter().filter(|r| r.action != "unchanged").collect();
                        @if !changing.is_empty() {
                            table #import-plan {
                                thead { tr {
                                    th.num { (l.t("import.line")) } th { (l.t("import.action")) }
                                    th { (l.t("col.name")) } th { (l.t("import.changes")) }
                                } }
                                tbody {
                                    @for r in changing.iter().take(PLAN_SHOWN) {
                                        tr data-action=(r.action) {
                                            td.num { (r.line) }
                                            td { (l.label("iaction", r.action)) }
                                            td { bdi { (r.name) } }
                                            td {
                                                @for c in &r.changes {
                                                    span.change { (c.field) ": " bdi { (c.from) } " → " bdi { (c.to) } } " "
                                                }
                                            }
                                        }
                                    }
                                }
                            }
                            @if changing.len() > PLAN_SHOWN {
                                p.hint { (l.f("import.more", &[("n", &(changing.len() - PLAN_SHOWN))])) }
                            }
                        }
                    }
                }
            }
            Panel::Refused(problems, total) => {
                section #import-errors {
                    h2 { (l.f("import.errors", &[("n", total)])) }
                    p.hint { (l.t("import.nothing_written")) }
                    table #import-problems {
                        thead { tr {
                            th.num { (l.t("import.line")) } th { (l.t("import.column")) }
                            th { (l.t("import.reason")) }
                        } }
                        tbody {
                            @for p in problems {
                                tr {
                                    td.num { @if let Some(n) = p.line { (n) } @else { "–" } }
                                    td { @if let Some(c) = &p.column { bdi { (c) } } }
                                    td { bdi { (p.reason) } }
                                }
                            }
                        }
                    }
                    @if *total > problems.len() {
                        p.hint { (l.f("import.more", &[("n", &(total - problems.len()))])) }
                    }
                }
            }
        }
        @for (kind, dataset) in KINDS {
            (upload_form(l, state, kind, dataset))
        }
    };
    frame(ctx, l.t("import.title"), body)
}
