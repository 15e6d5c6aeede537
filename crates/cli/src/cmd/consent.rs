//! `solocrm consent ...`: consent per purpose.

use anyhow::Result;
use serde::Serialize;
use solocrm_core::{Consent, CustomerId, Label, Store, Tag};

use super::Ctx;
use crate::cli::ConsentCmd;
use crate::output::Table;
use crate::parse;

/// One row of `consent list`: a decision and whose it is.
#[derive(Serialize)]
struct ConsentRow {
    customer: CustomerId,
    name: String,
    #[serde(flatten)]
    consent: Consent,
    /// Whether this decision is the one in force for its purpose now.
    current: bool,
}

pub fn run(ctx: &mut Ctx, cmd: ConsentCmd) -> Result<()> {
    let store = ctx.open()?;
    let (customer, purpose, source, at, granted) = match cmd {
        ConsentCmd::Grant {
            customer,
            purpose,
            source,
            at,
        } => (customer, purpose, source, at, true),
        ConsentCmd::Revoke {
            customer,
            purpose,
            source,
            at,
        } => (customer, purpose, source, at, false),
        ConsentCmd::List {
            customer,
            purpose,
            page,
        } => {
            let purpose = purpose.as_deref().map(Tag::parse).transpose()?;
            let customers = match customer {
                Some(c) => vec![parse::customer(&store, &c)?],
                None => store.read(|r| r.all_customers())?,
            };
            let mut rows = Vec::new();
            for c in &customers {
                for (i, d) in c.consents().iter().enumerate() {
                    if purpose.as_ref().is_some_and(|p| p != &d.purpose) {
                        continue;
                    }
                    // In force: the latest decision for the purpose, by time then order.
                    let current = !c
                        .consents()
                        .iter()
                        .enumerate()
                        .any(|(j, e)| e.purpose == d.purpose && (e.at, j) > (d.at, i));
                    rows.push(ConsentRow {
                        customer: c.id(),
                        name: c.name().to_string(),
                        consent: d.clone(),
                        current,
                    });
                }
            }
            // Oldest first (by time, then customer); the table shows the newest first.
            rows.sort_by_key(|r| (r.consent.at, r.customer));
            let total = ctx.keep_newest(&mut rows, page);
            if ctx.out.json {
                return ctx.out.json(&rows);
            }
            rows.reverse();
            let mut t = Table::new(&[
                ">CUSTOMER",
                "NAME",
                "PURPOSE",
                "DECISION",
                "DATE",
                "SOURCE",
                "IN FORCE",
            ]);
            for r in &rows {
                t.row(vec![
                    r.customer.to_string(),
                    r.name.clone(),
                    r.consent.purpose.to_string(),
                    if r.consent.granted {
                        "granted"
                    } else {
                        "revoked"
                    }
                    .into(),
                    ctx.day(r.consent.at).to_string(),
                    r.consent.source.to_string(),
                    if r.current { "yes" } else { "no" }.into(),
                ]);
            }
            if t.is_empty() {
                return ctx.say(t!("consent.none"));
            }
            ctx.out.table(&t)?;
            return ctx.more(rows.len(), total, "consent decisions");
        }
    };
    let c = parse::customer(&store, &customer)?;
    let purpose = Tag::parse(&purpose)?;
    let c = store.record_consent(
        c.id(),
        Consent {
            purpose: purpose.clone(),
            granted,
            at: ctx.at(at.at.as_deref())?,
            source: Label::parse(&source)?,
        },
    )?;
    if ctx.out.json {
        return ctx.out.json(&c);
    }
    let state = if c.has_consent(&purpose) {
        t!("consent.is_granted")
    } else {
        t!("consent.not_granted")
    };
    ctx.say(t!(
        "consent.state",
        name = c.name(),
        purpose = purpose,
        state = state
    ))
}
