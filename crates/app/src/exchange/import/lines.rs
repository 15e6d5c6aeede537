//! Purchases files with line columns (`sku`, `quantity`, `unit_price`,
//! `line_discount`): one row per purchase line, the rows of one purchase grouped.
//!
//! Such a file is read whole (grouping needs rows that may be far apart), checked,
//! and imported as one batch; a file without line columns keeps the streamed path.
//! The contract (`docs/cli.md`, "Purchases with lines"):
//!
//! - Rows with the same `reference` are one purchase, wherever they are in the file.
//!   They must agree on the customer, the date and the description.
//! - A row without a reference starts a purchase if its `amount` is given; with the
//!   amount empty, it is one more line of the purchase of the row just above (which
//!   must have no reference either), and must agree with it as above.
//! - A purchase's amount is its total: every row of it either repeats it or leaves it
//!   empty. If no row gives it (only possible with a reference), it is the sum of the
//!   lines. Given, it must be exactly Σ (quantity × unit price − line discount).
//! - `sku` names a product of the catalogue that is not archived; `quantity` is a
//!   whole number ≥ 1 (required with a SKU); `unit_price` defaults to the
//!   catalogue price; `line_discount` to none.
//! - A row with an empty `sku` is a purchase without lines (as in a file without the
//!   line columns); it cannot share its purchase with other rows.
//!
//! Every fault is reported on the line and column it is on. Without `skip_invalid`
//! the first (in file order) stops the import and nothing is written; with it, a
//! purchase with a bad row is set aside whole, all its rows going to the rejects.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use solocrm_core::product::{Product, PurchaseLine, Sku, check_lines, lines_total};
use solocrm_core::{
    Conflict, Currency, CustomerData, CustomerId, CustomerRef, ExternalRef, FreeText, ImportBatch,
    ImportSection, Money, NewCustomer, NewPurchase, PersonName, Store, StoreError,
};

use super::{
    ImportError, ImportOptions, ImportSummary, Job, Keys, Resolver, Snapshot, amount_value, apply,
    currency_cell, date_cell, free_text_cell, live_customer, money_value, optional_cell, refused,
    unknown_customer,
};
use crate::Books;
use crate::exchange::PURCHASE_LINE_COLUMNS;
use crate::exchange::csv_file::{Columns, Row, RowError, Sheet};
use crate::keys::CustomerKey;

/// True if the file has any of the line columns: it is then read by this module.
pub(super) fn has_line_columns(cols: &Columns) -> bool {
    PURCHASE_LINE_COLUMNS.iter().any(|c| cols.has(c))
}

/// Who a purchase belongs to, as its rows name them.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Owner {
    Existing(CustomerId),
    /// A customer to create (with `--create-missing`), named after their reference.
    New(ExternalRef, PersonName),
}

/// What one valid row says.
struct Parsed {
    owner: Owner,
    at: DateTime<Utc>,
    amount: Option<Money>,
    reference: Option<ExternalRef>,
    description: Option<FreeText>,
    line: Option<PurchaseLine>,
}

/// The rows of one purchase, as read so far.
struct Group {
    /// Row indices, in file order.
    rows: Vec<usize>,
    owner: Owner,
    at: DateTime<Utc>,
    /// The amount, with the row index that gave it first.
    amount: Option<(Money, usize)>,
    reference: Option<ExternalRef>,
    description: Option<FreeText>,
    lines: Vec<PurchaseLine>,
    /// True if a row of it has no line (then it must be its only row).
    lineless: bool,
    /// The first fault found in one of its rows.
    fault: Option<RowError>,
}

impl Group {
    fn new(i: usize, p: Parsed) -> Group {
        let mut g = Group {
            rows: vec![i],
            owner: p.owner,
            at: p.at,
            amount: p.amount.map(|m| (m, i)),
            reference: p.reference,
            description: p.description,
            lines: Vec::new(),
            lineless: p.line.is_none(),
            fault: None,
        };
        g.lines.extend(p.line);
        g
    }

    /// Adds row `i` (on file line `line`) to the purchase, or says why its cells
    /// disagree with the rows before.
    fn join(&mut self, i: usize, line: u64, p: Parsed) -> Result<(), RowError> {
        let what = self.name();
        let differs = |column: &str, detail: &str| {
            RowError::at(
                line,
                column,
                format!("{detail} than the row before of {what}; its rows must agree"),
            )
        };
        self.rows.push(i);
        if self.lineless || p.line.is_none() {
            return Err(RowError::at(
                line,
                "sku",
                format!(
                    "{what} has a row without a product; in a file with line columns, a \
                     purchase of several rows has a product on each"
                ),
            ));
        }
        if p.owner != self.owner {
            return Err(differs("customer", "names another customer"));
        }
        if p.at != self.at {
            return Err(differs("date", "gives another date"));
        }
        if p.description != self.description {
            return Err(differs("description", "gives another description"));
        }
        match (p.amount, self.amount) {
            (Some(m), Some((held, _))) if m != held => {
                return Err(differs("amount", "gives another amount"));
            }
            (Some(m), None) => self.amount = Some((m, i)),
            _ => {}
        }
        self.lines.extend(p.line);
        Ok(())
    }

    /// The purchase in messages.
    fn name(&self) -> String {
        match &self.reference {
            Some(r) => format!("purchase '{r}'"),
            None => "the purchase".to_owned(),
        }
    }
}

/// Reads the cells of row `line` into a [`Parsed`].
struct Reader<'a> {
    cols: &'a Columns,
    resolver: Resolver,
    zone: solocrm_core::BusinessZone,
    base: Currency,
    create_missing: bool,
    products: &'a HashMap<Sku, Product>,
}

impl Reader<'_> {
    fn row(&mut self, row: &Row) -> Result<Parsed, RowError> {
        let cols = self.cols;
        let reference = optional_cell(cols, row, "reference", ExternalRef::parse)?;
        let owner = match live_customer(cols, row, &mut self.resolver)? {
            Ok(id) => Owner::Existing(id),
            Err(CustomerKey::Reference(r)) if self.create_missing => {
                let name = PersonName::parse(r.as_str())
                    .map_err(|e| RowError::at(row.line, "customer", e))?;
                Owner::New(r, name)
            }
            Err(k @ CustomerKey::Reference(_)) => {
                return Err(unknown_customer(
                    row,
                    &k,
                    " (pass --create-missing to create one)",
                ));
            }
            Err(k) => return Err(unknown_customer(row, &k, "")),
        };
        let at = date_cell(cols, row, self.zone)?;
        currency_cell(cols, row, self.base)?;
        let amount = match cols.value(row, "amount") {
            Some(v) => Some(amount_value(row, v, self.base)?),
            None => None,
        };
        let description = free_text_cell(cols, row, "description")?;
        let line = self.line(row)?;
        Ok(Parsed {
            owner,
            at,
            amount,
            reference,
            description,
            line,
        })
    }

    /// The row's line, `None` if its `sku` is empty (and so are the other line cells).
    fn line(&self, row: &Row) -> Result<Option<PurchaseLine>, RowError> {
        let cols = self.cols;
        let Some(sku) = cols.value(row, "sku") else {
            if let Some(c) = ["quantity", "unit_price", "line_discount"]
                .into_iter()
                .find(|c| cols.value(row, c).is_some())
            {
                return Err(RowError::at(
                    row.line,
                    c,
                    "is given without a product: fill in the sku column",
                ));
            }
            return Ok(None);
        };
        let sku = Sku::parse(sku).map_err(|e| RowError::at(row.line, "sku", e))?;
        let Some(product) = self.products.get(&sku) else {
            return Err(RowError::at(
                row.line,
                "sku",
                format!(
                    "no product has the SKU '{sku}' (add it first: solocrm product add {sku} …)"
                ),
            ));
        };
        if product.archived {
            return Err(RowError::at(
                row.line,
                "sku",
                StoreError::from(Conflict::ProductArchived {
                    sku: sku.to_string(),
                }),
            ));
        }
        let raw = cols
            .value(row, "quantity")
            .ok_or_else(|| RowError::at(row.line, "quantity", "is empty"))?;
        let quantity = raw.parse::<u32>().ok().filter(|q| *q >= 1).ok_or_else(|| {
            RowError::at(
                row.line,
                "quantity",
                format!("'{raw}' is not a whole number of at least 1"),
            )
        })?;
        let unit_price = match cols.value(row, "unit_price") {
            Some(v) => money_value(row, "unit_price", v, self.base)?,
            None => product.price,
        };
        let discount = cols
            .value(row, "line_discount")
            .map(|v| money_value(row, "line_discount", v, self.base))
            .transpose()?;
        let line = PurchaseLine {
            sku,
            quantity,
            unit_price,
            discount,
        };
        line.for_storage(self.base)
            .map(Some)
            .map_err(|e| RowError::at(row.line, "line_discount", e))
    }
}

/// Imports a purchases file with line columns, read whole as `sheet`.
pub(super) fn import(
    store: &Books,
    job: Job<'_>,
    sheet: &Sheet,
) -> Result<ImportSummary, ImportError> {
    let ImportOptions {
        skip_invalid,
        create_missing,
        dry_run,
        ..
    } = *job.options;
    let base = store.base_currency();
    let zone = store.time_zone()?;
    let snapshot = Snapshot::load(store, skip_invalid)?;
    let products: HashMap<Sku, Product> = store
        .products()?
        .into_iter()
        .map(|p| (p.sku.clone(), p))
        .collect();
    let keys: Arc<Keys> = Arc::clone(&snapshot.keys);
    let mut reader = Reader {
        cols: &sheet.columns,
        resolver: Resolver::new(keys),
        zone,
        base,
        create_missing,
        products: &products,
    };

    // Rows into purchases.
    let mut groups: Vec<Group> = Vec::new();
    let mut by_reference: HashMap<String, usize> = HashMap::new();
    // The purchase without reference the next row may continue.
    let mut open: Option<usize> = None;
    // Rows that belong to no purchase (malformed, or bad before they could be
    // placed), with why.
    let mut loose: BTreeMap<usize, RowError> = BTreeMap::new();
    // The references of rows in `loose`, with the first such row's line.
    let mut bad_references: HashMap<String, u64> = HashMap::new();
    for (i, row) in sheet.rows.iter().enumerate() {
        let was_open = open.take();
        if let Some(e) = sheet.malformed.get(&i) {
            loose.insert(i, e.clone());
            continue;
        }
        // A row whose cells cannot be read still belongs to its purchase, if its
        // reference says which: the purchase is then set aside whole.
        let parsed = match reader.row(row) {
            Ok(p) => p,
            Err(e) => {
                let cols = &sheet.columns;
                let reference = cols.value(row, "reference");
                let group = match reference {
                    Some(r) => by_reference.get(r).copied(),
                    // A row that would continue the purchase above.
                    None if cols.value(row, "amount").is_none() => was_open,
                    None => None,
                };
                match group {
                    Some(g) => {
                        groups[g].rows.push(i);
                        groups[g].fault.get_or_insert(e);
                        if reference.is_none() {
                            open = Some(g);
                        }
                    }
                    None => {
                        // Rows of its purchase further down are set aside with it.
                        if let Some(r) = reference {
                            bad_references.entry(r.to_owned()).or_insert(e.line);
                        }
                        loose.insert(i, e);
                    }
                }
                continue;
            }
        };
        let target = match &parsed.reference {
            Some(r) => by_reference.get(r.as_str()).copied(),
            None if parsed.amount.is_none() => {
                let Some(g) = was_open else {
                    loose.insert(
                        i,
                        RowError::at(
                            row.line,
                            "amount",
                            "is empty, and the row has no reference: a row without \
                             reference and amount is one more line of the purchase on the \
                             row above, and there is none",
                        ),
                    );
                    continue;
                };
                Some(g)
            }
            None => None,
        };
        let continues = parsed.reference.is_none() && parsed.line.is_some();
        let g = match target {
            Some(g) => {
                if let Err(e) = groups[g].join(i, row.line, parsed) {
                    groups[g].fault.get_or_insert(e);
                }
                g
            }
            None => {
                let g = groups.len();
                if let Some(r) = &parsed.reference {
                    by_reference.insert(r.as_str().to_owned(), g);
                }
                groups.push(Group::new(i, parsed));
                g
            }
        };
        if continues {
            open = Some(g);
        }
    }

    // Each purchase whole: its amount, its lines adding up to it, its reference.
    let line_of = |i: usize| sheet.rows[i].line;
    for g in &mut groups {
        if let Some(r) = &g.reference
            && let Some(&bad) = bad_references.get(r.as_str())
            && g.fault.is_none()
        {
            g.fault = Some(RowError::at(
                line_of(g.rows[0]),
                "reference",
                format!("another row of purchase '{r}', on line {bad}, is bad"),
            ));
        }
    }
    let mut amounts: Vec<Option<Money>> = Vec::with_capacity(groups.len());
    for g in &mut groups {
        if g.fault.is_some() {
            amounts.push(None);
            continue;
        }
        let checked = (|| -> Result<Money, RowError> {
            let (amount, at) = match g.amount {
                Some((m, i)) => (m, i),
                None if g.lineless => {
                    return Err(RowError::at(line_of(g.rows[0]), "amount", "is empty"));
                }
                None => {
                    let total = lines_total(&g.lines, base)
                        .map_err(|e| RowError::at(line_of(g.rows[0]), "amount", e))?;
                    (total, g.rows[0])
                }
            };
            check_lines(amount, &g.lines)
                .map_err(|e| RowError::at(line_of(at), "amount", format!("{}: {e}", g.name())))?;
            if let Some(r) = &g.reference
                && let Some(&existing) = snapshot.stored.get(r.as_str())
            {
                let conflict = Conflict::DuplicatePurchaseRef {
                    reference: r.as_str().to_owned(),
                    existing,
                };
                return Err(RowError::at(
                    line_of(g.rows[0]),
                    "reference",
                    StoreError::from(conflict),
                ));
            }
            Ok(amount)
        })();
        match checked {
            Ok(m) => amounts.push(Some(m)),
            Err(e) => {
                g.fault = Some(e);
                amounts.push(None);
            }
        }
    }

    // Without `skip_invalid`, the first fault in file order stops the import: a
    // purchase's own fault sits on the row it is about.
    let path = sheet.columns.path.clone();
    if !skip_invalid
        && let Some(row) = loose
            .values()
            .chain(groups.iter().filter_map(|g| g.fault.as_ref()))
            .min_by_key(|e| e.line)
    {
        return Err(ImportError::Row {
            path,
            row: row.clone(),
        });
    }
    let mut faults: Vec<(usize, RowError)> = loose.into_iter().collect();
    for g in &groups {
        if let Some(e) = &g.fault {
            for &i in &g.rows {
                let line = line_of(i);
                let e = if e.line == line {
                    e.clone()
                } else {
                    RowError::row(
                        line,
                        format!(
                            "set aside with its purchase (line {}: {})",
                            e.line,
                            e.message()
                        ),
                    )
                };
                faults.push((i, e));
            }
        }
    }
    faults.sort_by_key(|(i, _)| *i);

    // The batch, run again without a purchase the store refuses (with
    // `skip_invalid`).
    let mut set_aside: Vec<bool> = groups.iter().map(|g| g.fault.is_some()).collect();
    let rows_total = sheet.rows.len() as u64;
    let (receipt, lines) = loop {
        let mut batch = ImportBatch::default();
        // For each purchase and each created customer of the batch, its group(s).
        let mut purchase_group: Vec<usize> = Vec::new();
        let mut customer_groups: Vec<Vec<usize>> = Vec::new();
        let mut created: HashMap<ExternalRef, usize> = HashMap::new();
        let mut lines = 0usize;
        for (g, group) in groups.iter().enumerate() {
            let Some(amount) = amounts[g].filter(|_| !set_aside[g]) else {
                continue;
            };
            let who = match &group.owner {
                Owner::Existing(id) => CustomerRef::Existing(*id),
                Owner::New(r, name) => {
                    let n = *created.entry(r.clone()).or_insert_with(|| {
                        let data = CustomerData::new(name.clone()).with_external_ref(r.clone());
                        batch
                            .create_customers
                            .push(NewCustomer::new(data, group.at));
                        customer_groups.push(Vec::new());
                        customer_groups.len() - 1
                    });
                    customer_groups[n].push(g);
                    CustomerRef::New(n)
                }
            };
            let existing = match who {
                CustomerRef::Existing(id) => id,
                _ => CustomerId::new(0),
            };
            let mut p = NewPurchase::new(existing, group.at, amount);
            p.description = group.description.clone();
            p.external_ref = group.reference.clone();
            if !group.lines.is_empty() {
                batch
                    .purchase_lines
                    .push((batch.purchases.len(), group.lines.clone()));
                lines += group.lines.len();
            }
            batch.purchases.push((who, p));
            purchase_group.push(g);
        }
        match apply(store, &mut std::iter::once(Ok(batch)), dry_run) {
            Ok(receipt) => break (receipt, lines),
            Err(StoreError::Import {
                section,
                index,
                error,
            }) => {
                let refused_groups = match section {
                    ImportSection::Purchases => purchase_group.get(index).map(|g| vec![*g]),
                    ImportSection::CreateCustomers => customer_groups.get(index).cloned(),
                    _ => None,
                };
                let Some(refused_groups) = refused_groups.filter(|v| !v.is_empty()) else {
                    return Err(ImportError::Record {
                        section,
                        index,
                        error: *error,
                    });
                };
                let first = line_of(groups[refused_groups[0]].rows[0]);
                let err = refused(first, &error);
                if !skip_invalid {
                    return Err(ImportError::Row { path, row: err });
                }
                for g in refused_groups {
                    set_aside[g] = true;
                    for &i in &groups[g].rows {
                        faults.push((
                            i,
                            RowError {
                                line: line_of(i),
                                ..err.clone()
                            },
                        ));
                    }
                }
                faults.sort_by_key(|(i, _)| *i);
            }
            Err(other) => return Err(ImportError::Store(other)),
        }
    };
    if let Some(out) = job.rejects.filter(|_| !dry_run) {
        sheet
            .columns
            .write_rejects(out, faults.iter().map(|(i, e)| (&sheet.rows[*i], e)))
            .map_err(|source| ImportError::RejectsNotSaved {
                rows: receipt.purchases.len(),
                rejected: faults.len(),
                source,
            })?;
    }
    Ok(ImportSummary {
        file: job.file.display().to_string(),
        counts: vec![
            ("purchases", receipt.purchases.len()),
            ("new customers", receipt.created_customers.len()),
            ("purchase lines", lines),
        ],
        rejected: faults.len(),
        rows: rows_total,
        dry_run,
        plan: None,
        rejects: faults.into_iter().map(|(_, e)| e).collect(),
    })
}
