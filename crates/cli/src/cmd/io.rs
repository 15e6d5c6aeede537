//! `solocrm import ...` and `solocrm export ...`
//!
//! An import parses every row into a plan, turns the plan into one
//! [`ImportBatch`], and hands it to the store, which applies
//! it all or not at all. By default the first bad row stops the import and nothing is
//! written; with `--skip-invalid` the bad rows go to the rejects file and the rest is
//! imported (a row the store refuses is taken out and the batch retried).

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;

use anyhow::{Context as _, Result, anyhow, bail};
use chrono::SecondsFormat;
use solocrm_core::store::all_customers;
use solocrm_core::{
    ActivityQuery, Conflict, CountryCode, Currency, Customer, CustomerData, CustomerId,
    CustomerRef, Email, ExternalRef, FreeText, ImportBatch, ImportSection, Money, NewCustomer,
    NewPurchase, NewSurveyResponse, PersonName, Phone, Store, StoreError, SurveyKind, SurveyScore,
    Tag, ValidationError, text::parse_tags,
};
use solocrm_store_sqlite::SqliteStore;

use super::Ctx;
use crate::cli::{ExportWhat, Format, ImportCmd, ImportOpts};
use crate::csvio::{Row, RowError, Sheet};
use crate::output::Progress;
use crate::parse;

/// The columns of each import (and export), in export order.
pub const CUSTOMER_COLUMNS: [&str; 8] = [
    "name",
    "email",
    "phone",
    "birthday",
    "country",
    "tags",
    "channel",
    "reference",
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

pub fn import(ctx: &mut Ctx, cmd: ImportCmd) -> Result<()> {
    let store = ctx.open()?;
    let summary = match cmd {
        ImportCmd::Customers(opts) => import_customers(&store, &opts, ctx.now)?,
        ImportCmd::Purchases {
            opts,
            create_missing,
        } => import_purchases(&store, &opts, create_missing)?,
        ImportCmd::Surveys(opts) => import_surveys(&store, &opts)?,
    };
    if ctx.out.json {
        return ctx.out.json(&summary);
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

/// What an import did.
#[derive(Debug, serde::Serialize)]
struct Summary {
    file: String,
    counts: Vec<(&'static str, usize)>,
    rejected: usize,
}

/// One planned row: what it becomes, or why it cannot.
type Planned<T> = Vec<(usize, Result<T, RowError>)>;

/// A batch and where its records came from.
struct Built {
    batch: ImportBatch,
    origin: Origin,
}

/// Which file row each record of a batch came from: `rows[section][index]`, plus the
/// rows that depend on a customer the batch creates (their purchases).
#[derive(Default)]
struct Origin {
    rows: [Vec<usize>; 4],
    dependents: Vec<(usize, usize)>,
}

impl Origin {
    fn slot(section: ImportSection) -> usize {
        ImportSection::ALL
            .iter()
            .position(|s| *s == section)
            .unwrap_or(0)
    }

    /// Records that the next record of `section` comes from `row`.
    fn push(&mut self, section: ImportSection, row: usize) {
        self.rows[Self::slot(section)].push(row);
    }

    /// The rows behind record `index` of `section`, its own first.
    fn of(&self, section: ImportSection, index: usize) -> Vec<usize> {
        let mut out: Vec<usize> = self.rows[Self::slot(section)]
            .get(index)
            .copied()
            .into_iter()
            .collect();
        if section == ImportSection::CreateCustomers {
            out.extend(
                self.dependents
                    .iter()
                    .filter(|(n, _)| *n == index)
                    .map(|(_, row)| *row),
            );
        }
        out.dedup();
        out
    }
}

/// Runs a plan: stops at the first bad row, or (with `--skip-invalid`) imports the rest
/// and writes the rejects. `build` turns the accepted rows into a batch.
fn execute<T>(
    store: &dyn Store,
    sheet: &Sheet,
    opts: &ImportOpts,
    planned: Planned<T>,
    build: impl Fn(&[(usize, &T)]) -> Built,
) -> Result<(solocrm_core::ImportReceipt, Vec<usize>, usize)> {
    let mut rejects: Vec<(usize, RowError)> = Vec::new();
    let mut ok: Vec<(usize, &T)> = Vec::new();
    for (i, r) in &planned {
        match r {
            Ok(t) => ok.push((*i, t)),
            Err(e) if opts.skip_invalid => rejects.push((*i, e.clone())),
            Err(e) => bail!("{}; nothing was imported", e.in_file(&sheet.path)),
        }
    }
    let receipt = loop {
        let built = build(&ok);
        match store.import(built.batch) {
            Ok(receipt) => break receipt,
            Err(StoreError::Import {
                section,
                index,
                error,
            }) => {
                let rows = built.origin.of(section, index);
                let Some(&first) = rows.first() else {
                    return Err(anyhow!("{section} record {index}: {error}"));
                };
                let line = sheet.rows[first].line;
                let err = RowError {
                    line,
                    column: column_of(&error).map(str::to_owned),
                    reason: error.to_string(),
                };
                if !opts.skip_invalid {
                    bail!("{}; nothing was imported", err.in_file(&sheet.path));
                }
                for r in rows {
                    let e = RowError {
                        line: sheet.rows[r].line,
                        ..err.clone()
                    };
                    rejects.push((r, e));
                    ok.retain(|(i, _)| *i != r);
                }
            }
            Err(other) => return Err(other).context("the import failed; nothing was imported"),
        }
    };
    rejects.sort_by_key(|(i, _)| *i);
    if let Some(path) = &opts.rejects
        && opts.skip_invalid
    {
        sheet.write_rejects(path, &rejects)?;
    }
    Ok((receipt, ok.iter().map(|(i, _)| *i).collect(), rejects.len()))
}

/// The CSV column a store error is about, where one is.
fn column_of(e: &StoreError) -> Option<&'static str> {
    match e {
        StoreError::Validation(
            ValidationError::NegativeAmount { .. }
            | ValidationError::TooManyDecimals { .. }
            | ValidationError::AmountOutOfRange { .. }
            | ValidationError::CurrencyMismatch { .. },
        ) => Some("amount"),
        StoreError::Conflict(
            Conflict::DuplicatePurchaseRef { .. }
            | Conflict::DuplicateRefInBatch { .. }
            | Conflict::DuplicateExternalRef { .. },
        ) => Some("reference"),
        StoreError::Conflict(Conflict::DuplicateEmail { .. }) => Some("email"),
        StoreError::Conflict(Conflict::CustomerErased { .. }) | StoreError::NotFound { .. } => {
            Some("customer")
        }
        _ => None,
    }
}

fn open_sheet(
    opts: &ImportOpts,
    required: &[&'static str],
    optional: &[&'static str],
) -> Result<Sheet> {
    Sheet::read(&opts.file, required, optional, opts.ignore_unknown)
}

fn cell_err<T, E: std::fmt::Display>(
    row: &Row,
    column: &str,
    r: Result<T, E>,
) -> Result<T, RowError> {
    r.map_err(|e| RowError::at(row.line, column, e))
}

/// A `date` cell: `YYYY-MM-DD` (start of the day, UTC) or RFC 3339.
fn date_cell(sheet: &Sheet, row: &Row) -> Result<chrono::DateTime<chrono::Utc>, RowError> {
    let v = sheet
        .value(row, "date")
        .ok_or_else(|| RowError::at(row.line, "date", "is empty"))?;
    cell_err(row, "date", parse::instant(v))
}

/// An `amount` cell in the store's currency, checked against an optional `currency` cell.
fn amount_cell(sheet: &Sheet, row: &Row, base: Currency) -> Result<Money, RowError> {
    if let Some(c) = sheet.value(row, "currency") {
        let c = cell_err(row, "currency", Currency::parse(c))?;
        if c != base {
            return Err(RowError::at(
                row.line,
                "currency",
                format!("{c} differs from the database's currency {base}"),
            ));
        }
    }
    let v = sheet
        .value(row, "amount")
        .ok_or_else(|| RowError::at(row.line, "amount", "is empty"))?;
    let m = cell_err(row, "amount", Money::parse(v, base))?;
    if m.is_negative() {
        return Err(RowError::at(
            row.line,
            "amount",
            format!("must not be negative, got {v}"),
        ));
    }
    cell_err(row, "amount", m.for_storage("amount", base))
}

/// Files with at least this many rows read every customer once instead of looking each
/// key up: one pass over the customers is cheaper than two indexed queries per key.
const PRELOAD_ROWS: usize = 2_000;

/// Every customer's keys, for large files.
struct KeyMaps {
    by_ref: HashMap<String, CustomerId>,
    by_email: HashMap<String, CustomerId>,
    ids: std::collections::HashSet<CustomerId>,
}

/// Finds the customer a `customer` cell names: by external reference, then email, then id.
struct Resolver<'a> {
    store: &'a dyn Store,
    maps: Option<KeyMaps>,
    cache: HashMap<String, Option<CustomerId>>,
}

impl<'a> Resolver<'a> {
    /// A resolver for a file of `rows` rows.
    fn new(store: &'a dyn Store, rows: usize) -> Result<Self> {
        let maps = if rows >= PRELOAD_ROWS {
            let everyone = solocrm_core::store::all_matching(
                store,
                &solocrm_core::CustomerQuery {
                    include_erased: true,
                    ..solocrm_core::CustomerQuery::default()
                },
            )?;
            let mut maps = KeyMaps {
                by_ref: HashMap::with_capacity(everyone.len()),
                by_email: HashMap::with_capacity(everyone.len()),
                ids: everyone.iter().map(Customer::id).collect(),
            };
            for c in &everyone {
                if let Some(r) = c.external_ref() {
                    maps.by_ref.insert(r.to_string(), c.id());
                }
                if let Some(e) = c.email() {
                    maps.by_email.insert(e.key(), c.id());
                }
            }
            Some(maps)
        } else {
            None
        };
        Ok(Resolver {
            store,
            maps,
            cache: HashMap::new(),
        })
    }

    fn find(&mut self, key: &str) -> Result<Option<CustomerId>> {
        if let Some(hit) = self.cache.get(key) {
            return Ok(*hit);
        }
        let reference = ExternalRef::parse(key).ok();
        let email = if key.contains('@') {
            Email::parse(key).ok()
        } else {
            None
        };
        let id = key.parse::<u64>().ok().map(CustomerId::new);
        let found = match &self.maps {
            Some(m) => reference
                .and_then(|r| m.by_ref.get(r.as_str()).copied())
                .or_else(|| email.and_then(|e| m.by_email.get(&e.key()).copied()))
                .or_else(|| id.filter(|i| m.ids.contains(i))),
            None => {
                let mut found = None;
                if let Some(r) = reference {
                    found = self.store.customer_by_external_ref(&r)?.map(|c| c.id());
                }
                if found.is_none()
                    && let Some(e) = email
                {
                    found = self.store.customer_by_email(&e)?.map(|c| c.id());
                }
                if found.is_none()
                    && let Some(i) = id
                {
                    found = self.store.customer(i).ok().map(|c| c.id());
                }
                found
            }
        };
        self.cache.insert(key.to_owned(), found);
        Ok(found)
    }
}

/// Who a purchase or survey row belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Who {
    Existing(CustomerId),
    /// A customer to create, named after their reference.
    New(ExternalRef, PersonName),
}

fn customer_cell(
    sheet: &Sheet,
    row: &Row,
    resolver: &mut Resolver<'_>,
    create_missing: bool,
) -> Result<Result<Who, RowError>> {
    let Some(key) = sheet.value(row, "customer") else {
        return Ok(Err(RowError::at(row.line, "customer", "is empty")));
    };
    Ok(match resolver.find(key)? {
        Some(id) => Ok(Who::Existing(id)),
        None if create_missing => ExternalRef::parse(key)
            .and_then(|r| Ok(Who::New(r, PersonName::parse(key)?)))
            .map_err(|e| RowError::at(row.line, "customer", e)),
        None => Err(RowError::at(
            row.line,
            "customer",
            format!(
                "no customer with reference, email or id '{key}' (pass --create-missing to create one)"
            ),
        )),
    })
}

/// Turns rows' `Who` into batch references, creating each new customer once.
/// A new customer is created at the time of their first purchase in the file.
fn customer_refs(
    whos: &[&Who],
    at: &[chrono::DateTime<chrono::Utc>],
    batch: &mut ImportBatch,
) -> Vec<CustomerRef> {
    let mut created: HashMap<&ExternalRef, usize> = HashMap::new();
    whos.iter()
        .enumerate()
        .map(|(k, who)| match who {
            Who::Existing(id) => CustomerRef::Existing(*id),
            Who::New(r, name) => CustomerRef::New(*created.entry(r).or_insert_with(|| {
                let data = CustomerData::new(name.clone()).with_external_ref(r.clone());
                batch.create_customers.push(NewCustomer::new(data, at[k]));
                batch.create_customers.len() - 1
            })),
        })
        .collect()
}

fn import_purchases(
    store: &SqliteStore,
    opts: &ImportOpts,
    create_missing: bool,
) -> Result<Summary> {
    let sheet = open_sheet(
        opts,
        &["customer", "date", "amount"],
        &["currency", "reference", "description"],
    )?;
    let base = store.base_currency();
    let mut resolver = Resolver::new(store, sheet.rows.len())?;
    let mut progress = Progress::new("reading", sheet.rows.len() as u64);
    let mut planned: Planned<(Who, NewPurchase)> = Vec::with_capacity(sheet.rows.len());
    for (i, row) in sheet.rows.iter().enumerate() {
        let plan = (|| -> Result<Result<(Who, NewPurchase), RowError>> {
            let who = match customer_cell(&sheet, row, &mut resolver, create_missing)? {
                Ok(w) => w,
                Err(e) => return Ok(Err(e)),
            };
            let parsed = (|| {
                let at = date_cell(&sheet, row)?;
                let amount = amount_cell(&sheet, row, base)?;
                // The customer is set from `who` when the batch is built.
                let mut p = NewPurchase::new(CustomerId::new(0), at, amount);
                p.external_ref = sheet
                    .value(row, "reference")
                    .map(ExternalRef::parse)
                    .transpose()
                    .map_err(|e| RowError::at(row.line, "reference", e))?;
                p.description = sheet
                    .raw(row, "description")
                    .filter(|s| !s.is_empty())
                    .map(FreeText::parse)
                    .transpose()
                    .map_err(|e| RowError::at(row.line, "description", e))?;
                Ok((who, p))
            })();
            Ok(parsed)
        })()?;
        planned.push((i, plan));
        progress.set(i as u64 + 1);
    }
    progress.finish();
    let (receipt, _, rejected) = execute(store, &sheet, opts, planned, |ok| {
        let mut batch = ImportBatch::default();
        let whos: Vec<&Who> = ok.iter().map(|(_, (w, _))| w).collect();
        let ats: Vec<_> = ok.iter().map(|(_, (_, p))| p.at).collect();
        let refs = customer_refs(&whos, &ats, &mut batch);
        let mut origin = Origin::default();
        for ((row, (_, p)), r) in ok.iter().zip(refs) {
            batch.purchases.push((r, p.clone()));
            origin.push(ImportSection::Purchases, *row);
            if let CustomerRef::New(n) = r {
                // The first row that names new customer n is the one it comes from.
                if origin.rows[Origin::slot(ImportSection::CreateCustomers)].len() == n {
                    origin.push(ImportSection::CreateCustomers, *row);
                } else {
                    origin.dependents.push((n, *row));
                }
            }
        }
        Built { batch, origin }
    })?;
    Ok(Summary {
        file: opts.file.display().to_string(),
        counts: vec![
            ("purchases", receipt.purchases.len()),
            ("new customers", receipt.created_customers.len()),
        ],
        rejected,
    })
}

fn import_surveys(store: &SqliteStore, opts: &ImportOpts) -> Result<Summary> {
    let sheet = open_sheet(opts, &["customer", "date", "kind", "score"], &["comment"])?;
    let mut resolver = Resolver::new(store, sheet.rows.len())?;
    let mut planned: Planned<(CustomerId, NewSurveyResponse)> =
        Vec::with_capacity(sheet.rows.len());
    for (i, row) in sheet.rows.iter().enumerate() {
        let who = customer_cell(&sheet, row, &mut resolver, false)?;
        let plan = who.and_then(|who| {
            let Who::Existing(id) = who else {
                return Err(RowError::at(row.line, "customer", "unknown customer"));
            };
            let at = date_cell(&sheet, row)?;
            let kind = SurveyKind::parse(sheet.value(row, "kind").unwrap_or(""))
                .map_err(|e| RowError::at(row.line, "kind", e))?;
            let raw = sheet
                .value(row, "score")
                .ok_or_else(|| RowError::at(row.line, "score", "is empty"))?;
            let n: i64 = raw.parse().map_err(|_| {
                RowError::at(row.line, "score", format!("'{raw}' is not a whole number"))
            })?;
            let score =
                SurveyScore::new(kind, n).map_err(|e| RowError::at(row.line, "score", e))?;
            let comment = sheet
                .raw(row, "comment")
                .filter(|s| !s.is_empty())
                .map(FreeText::parse)
                .transpose()
                .map_err(|e| RowError::at(row.line, "comment", e))?;
            Ok((
                id,
                NewSurveyResponse {
                    customer: id,
                    at,
                    score,
                    comment,
                },
            ))
        });
        planned.push((i, plan));
    }
    let (receipt, _, rejected) = execute(store, &sheet, opts, planned, |ok| {
        let mut batch = ImportBatch::default();
        let mut origin = Origin::default();
        for (row, (id, s)) in ok {
            batch.surveys.push((CustomerRef::Existing(*id), s.clone()));
            origin.push(ImportSection::Surveys, *row);
        }
        Built { batch, origin }
    })?;
    Ok(Summary {
        file: opts.file.display().to_string(),
        counts: vec![("survey answers", receipt.surveys.len())],
        rejected,
    })
}

/// What a customers row does.
#[derive(Debug, Clone)]
enum Upsert {
    Create(Box<NewCustomer>),
    Update(CustomerId, Box<CustomerData>),
    Unchanged,
}

/// Customers new to the store are created at `now`.
fn import_customers(
    store: &SqliteStore,
    opts: &ImportOpts,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Summary> {
    let sheet = open_sheet(opts, &["name"], &CUSTOMER_COLUMNS[1..])?;
    let mut seen: HashMap<String, u64> = HashMap::new();
    let mut planned: Planned<Upsert> = Vec::with_capacity(sheet.rows.len());
    for (i, row) in sheet.rows.iter().enumerate() {
        let plan = (|| -> Result<Result<Upsert, RowError>> {
            let parsed = (|| {
                let reference = sheet
                    .value(row, "reference")
                    .map(ExternalRef::parse)
                    .transpose()
                    .map_err(|e| RowError::at(row.line, "reference", e))?;
                let email = sheet
                    .value(row, "email")
                    .map(Email::parse)
                    .transpose()
                    .map_err(|e| RowError::at(row.line, "email", e))?;
                let key = reference
                    .as_ref()
                    .map(|r| format!("ref:{r}"))
                    .or_else(|| email.as_ref().map(|e| format!("email:{}", e.key())));
                if let Some(k) = &key
                    && let Some(first) = seen.insert(k.clone(), row.line)
                {
                    return Err(RowError::row(
                        row.line,
                        format!("the same customer as line {first}"),
                    ));
                }
                Ok((reference, email))
            })();
            let (reference, email) = match parsed {
                Ok(v) => v,
                Err(e) => return Ok(Err(e)),
            };
            let existing: Option<Customer> = match &reference {
                Some(r) => store.customer_by_external_ref(r)?,
                None => None,
            };
            let existing = match (existing, &email) {
                (Some(c), _) => Some(c),
                (None, Some(e)) => store.customer_by_email(e)?,
                (None, None) => None,
            };
            let base = existing.as_ref().map(|c| c.data().clone());
            Ok(
                customer_data(&sheet, row, base.clone(), email, reference).map(
                    |data| match existing {
                        Some(_) if base.as_ref() == Some(&data) => Upsert::Unchanged,
                        Some(c) => Upsert::Update(c.id(), Box::new(data)),
                        None => Upsert::Create(Box::new(NewCustomer::new(data, now))),
                    },
                ),
            )
        })()?;
        planned.push((i, plan));
    }
    let (receipt, imported, rejected) = execute(store, &sheet, opts, planned.clone(), |ok| {
        let mut batch = ImportBatch::default();
        let mut origin = Origin::default();
        for (row, u) in ok {
            match u {
                Upsert::Create(n) => {
                    origin.push(ImportSection::CreateCustomers, *row);
                    batch.create_customers.push((**n).clone());
                }
                Upsert::Update(id, d) => {
                    origin.push(ImportSection::UpdateCustomers, *row);
                    batch.update_customers.push((*id, (**d).clone()));
                }
                Upsert::Unchanged => {}
            }
        }
        Built { batch, origin }
    })?;
    let unchanged = planned
        .iter()
        .filter(|(i, p)| imported.contains(i) && matches!(p, Ok(Upsert::Unchanged)))
        .count();
    let updated = planned
        .iter()
        .filter(|(i, p)| imported.contains(i) && matches!(p, Ok(Upsert::Update(..))))
        .count();
    Ok(Summary {
        file: opts.file.display().to_string(),
        counts: vec![
            ("created", receipt.created_customers.len()),
            ("updated", updated),
            ("unchanged", unchanged),
        ],
        rejected,
    })
}

/// The data a customers row describes: the existing data (if any) with every column
/// present in the file applied; an empty cell clears its field.
fn customer_data(
    sheet: &Sheet,
    row: &Row,
    existing: Option<CustomerData>,
    email: Option<Email>,
    reference: Option<ExternalRef>,
) -> Result<CustomerData, RowError> {
    let l = row.line;
    let name = sheet
        .value(row, "name")
        .ok_or_else(|| RowError::at(l, "name", "is empty"))?;
    let name = PersonName::parse(name).map_err(|e| RowError::at(l, "name", e))?;
    let mut d = existing.unwrap_or_else(|| CustomerData::new(name.clone()));
    d.name = name;
    if sheet.has("email") {
        d.email = email;
    }
    if sheet.has("reference") {
        d.external_ref = reference;
    }
    if sheet.has("phone") {
        d.phone = sheet
            .value(row, "phone")
            .map(Phone::parse)
            .transpose()
            .map_err(|e| RowError::at(l, "phone", e))?;
    }
    if sheet.has("birthday") {
        d.birthday = sheet
            .value(row, "birthday")
            .map(parse::date)
            .transpose()
            .map_err(|e| RowError::at(l, "birthday", e))?;
    }
    if sheet.has("country") {
        d.profile.country = sheet
            .value(row, "country")
            .map(CountryCode::parse)
            .transpose()
            .map_err(|e| RowError::at(l, "country", e))?;
    }
    if sheet.has("tags") {
        d.tags = parse_tags(sheet.cell(row, "tags").unwrap_or(""), ';')
            .map_err(|e| RowError::at(l, "tags", e))?;
    }
    if sheet.has("channel") {
        d.acquisition_channel = sheet
            .value(row, "channel")
            .map(Tag::parse)
            .transpose()
            .map_err(|e| RowError::at(l, "channel", e))?;
    }
    Ok(d)
}

/// The key an export writes in a `customer` column: the reference, else the email,
/// else the id.
pub fn customer_key(c: &Customer) -> String {
    c.external_ref()
        .map(|r| r.to_string())
        .or_else(|| c.email().map(|e| e.to_string()))
        .unwrap_or_else(|| c.id().to_string())
}

pub fn export(ctx: &mut Ctx, what: ExportWhat, format: Format, out: Option<&Path>) -> Result<()> {
    let store = ctx.open()?;
    let customers = all_customers(&store)?;
    let keys: HashMap<CustomerId, String> = customers
        .iter()
        .map(|c| (c.id(), customer_key(c)))
        .collect();
    let key = |id: CustomerId| keys.get(&id).cloned().unwrap_or_else(|| id.to_string());
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
    let mut sink: Box<dyn Write> = match out {
        Some(path) => Box::new(
            std::fs::File::create(path)
                .with_context(|| format!("cannot write {}", path.display()))?,
        ),
        None => Box::new(std::io::stdout().lock()),
    };
    match format {
        Format::Csv => {
            let mut w = csv::Writer::from_writer(&mut sink);
            w.write_record(header)?;
            for r in &rows {
                w.write_record(r)?;
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
            serde_json::to_writer_pretty(&mut sink, &objects)?;
            writeln!(sink)?;
        }
    }
    sink.flush()?;
    Ok(())
}
