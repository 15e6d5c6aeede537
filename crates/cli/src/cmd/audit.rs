//! `solocrm audit`: the audit trail, newest first.
//!
//! Every write appends its domain events to the outbox in its own transaction; the
//! outbox is therefore the record of what changed, when, and about which customer. An
//! event carries ids and non-personal facts only (see `solocrm_core::event`), and the
//! customer's name is read now, so an erased customer shows as their placeholder and
//! nothing personal of theirs appears. Erasures of books written before the outbox
//! existed are in the audit log only; they are listed too, as the oldest rows. Who made
//! a change is not recorded (the books have one user).

use std::collections::hash_map::Entry;
use std::collections::{BTreeSet, HashMap};

use anyhow::Result;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use solocrm_core::{AuditAction, CustomerId, EventSeq};

use super::Ctx;
use crate::cli::Page;
use crate::output::{Table, opt};
use crate::parse;

/// One row of the trail.
#[derive(Debug, Serialize)]
struct Row {
    /// The event's position in the outbox; `null` for an erasure from the audit log
    /// of a book written before the outbox existed.
    seq: Option<EventSeq>,
    /// When it happened, as recorded; `null` for a change that takes no time.
    at: Option<DateTime<Utc>>,
    /// What happened (`purchase_recorded`, `customer_erased`, …).
    action: &'static str,
    /// The customer it concerns.
    customer: Option<CustomerId>,
    /// Their name now (the placeholder once erased).
    name: Option<String>,
    /// The event's other facts (ids, stages, amounts), as the outbox holds them.
    details: Value,
}

/// How many events are read per call of the outbox.
const CHUNK: u32 = 10_000;

pub fn run(ctx: &mut Ctx, customer: Option<&str>, since: Option<&str>, page: Page) -> Result<()> {
    let store = ctx.open()?;
    let only = customer
        .map(|c| parse::customer(&store, c).map(|c| c.id()))
        .transpose()?;
    let since = since.map(|s| ctx.at(Some(s))).transpose()?;
    let keep = |at: Option<DateTime<Utc>>, who: Option<CustomerId>| {
        only.is_none_or(|c| who == Some(c)) && since.is_none_or(|s| at.is_some_and(|t| t >= s))
    };
    // One snapshot: the events, the audit log and the names they need.
    let mut rows = store.read(|r| {
        let mut rows = Vec::new();
        let mut erased_in_outbox = BTreeSet::new();
        let mut after = 0;
        loop {
            let chunk = r.events(after, CHUNK)?;
            let done = chunk.len() < CHUNK as usize;
            for e in chunk {
                after = e.seq;
                let who = e.event.customer();
                if e.event.name() == "customer_erased" {
                    erased_in_outbox.extend(who);
                }
                if !keep(e.at, who) {
                    continue;
                }
                let mut details = serde_json::to_value(&e.event).unwrap_or(Value::Null);
                if let Value::Object(m) = &mut details {
                    m.remove("type");
                    m.remove("customer");
                }
                rows.push(Row {
                    seq: Some(e.seq),
                    at: e.at,
                    action: e.event.name(),
                    customer: who,
                    name: None,
                    details,
                });
            }
            if done {
                break;
            }
        }
        // Erasures the outbox does not hold (books from before it), oldest first.
        let mut old = Vec::new();
        for entry in r.audit_log()? {
            let AuditAction::CustomerErased { customer } = entry.action else {
                continue;
            };
            if erased_in_outbox.contains(&customer) || !keep(Some(entry.at), Some(customer)) {
                continue;
            }
            old.push(Row {
                seq: None,
                at: Some(entry.at),
                action: "customer_erased",
                customer: Some(customer),
                name: None,
                details: Value::Object(serde_json::Map::new()),
            });
        }
        old.append(&mut rows);
        let mut names: HashMap<CustomerId, Option<String>> = HashMap::new();
        for row in &mut old {
            if let Some(id) = row.customer {
                let name = match names.entry(id) {
                    Entry::Occupied(e) => e.get().clone(),
                    Entry::Vacant(e) => e
                        .insert(r.tx().customer(id)?.map(|c| c.name().to_string()))
                        .clone(),
                };
                row.name = name;
            }
        }
        Ok(old)
    })?;
    let total = ctx.keep_newest(&mut rows, page);
    if ctx.out.json {
        return ctx.out.json(&rows);
    }
    rows.reverse();
    let mut t = Table::new(&[">SEQ", "DATE", "ACTION", ">CUSTOMER", "NAME", "DETAILS"]);
    for row in &rows {
        t.row(vec![
            opt(row.seq),
            opt(row.at.map(|at| ctx.day(at))),
            row.action.to_owned(),
            opt(row.customer),
            row.name.clone().unwrap_or_default(),
            details(&row.details),
        ]);
    }
    ctx.out.table(&t)?;
    ctx.more(rows.len(), total, "entries")
}

/// The facts of an event as `key=value` pairs: `purchase=3 amount=49.90`.
fn details(v: &Value) -> String {
    let Value::Object(m) = v else {
        return String::new();
    };
    m.iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(k, v)| match v {
            Value::String(s) => format!("{k}={s}"),
            Value::Object(o) if o.contains_key("amount") => {
                format!("{k}={}", o["amount"].as_str().unwrap_or_default())
            }
            other => format!("{k}={other}"),
        })
        .collect::<Vec<_>>()
        .join(" ")
}
