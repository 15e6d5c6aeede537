//! `solocrm need`: needs and pain points of customers and deals (ADR 0035).

use anyhow::Result;
use solocrm_core::need::{Need, NeedKind, NewNeed, open_counts};
use solocrm_core::{DealId, FreeText, NeedId, Store, Tag};

use super::{BadValue, Ctx, CustomerNames};
use crate::cli::NeedCmd;
use crate::output::{Table, opt};
use crate::parse;

/// A value the books refuse, as a usage error (exit 2).
fn bad(e: impl std::fmt::Display) -> anyhow::Error {
    BadValue(e.to_string()).into()
}

/// The kind in the reader's language.
pub(super) fn kind_label(kind: NeedKind) -> String {
    match kind {
        NeedKind::Need => t!("need.kind_need").to_owned(),
        NeedKind::PainPoint => t!("need.kind_pain_point").to_owned(),
    }
}

/// The state in the reader's language: open, resolved (with the day) or void.
pub(super) fn state_label(ctx: &Ctx, n: &Need) -> String {
    match (n.voided_at, n.resolved_at) {
        (Some(_), _) => t!("need.state_void").to_owned(),
        (None, Some(r)) => t!("need.state_resolved", day = ctx.day(r)),
        (None, None) => t!("need.state_open").to_owned(),
    }
}

/// Prints the open entries of `needs` as a table (nothing if none is open): the
/// section of `customer show` and `deal show`.
pub(super) fn open_table(ctx: &mut Ctx, needs: &[Need]) -> Result<()> {
    let open: Vec<&Need> = needs.iter().filter(|n| n.is_open()).collect();
    if open.is_empty() {
        return Ok(());
    }
    ctx.out.line("")?;
    let mut t = Table::new(&[">ID", "DATE", "KIND", "KEY", ">DEAL", "NOTE"]);
    for n in open {
        t.row(vec![
            n.id.to_string(),
            ctx.day(n.at).to_string(),
            kind_label(n.kind),
            n.key.to_string(),
            opt(n.deal),
            opt(n.note.as_ref()),
        ]);
    }
    ctx.out.table(&t)
}

/// Runs a `need` subcommand.
pub fn run(ctx: &mut Ctx, cmd: NeedCmd) -> Result<()> {
    let store = ctx.open()?;
    match cmd {
        NeedCmd::Add {
            customer,
            key,
            kind,
            deal,
            note,
            at,
        } => {
            let kind = NeedKind::parse_any(&kind).map_err(|_| {
                bad(t!(
                    "need.bad_kind",
                    kind = kind,
                    expected = "need (需求), pain-point (痛点)"
                ))
            })?;
            let key = Tag::parse(&key).map_err(bad)?;
            let note = note
                .as_deref()
                .map(FreeText::parse)
                .transpose()
                .map_err(bad)?;
            let c = parse::customer(&store, &customer)?;
            let n = store.record_need(NewNeed {
                customer: c.id(),
                deal: deal.map(DealId::new),
                kind,
                key,
                note,
                at: ctx.at(at.at.as_deref())?,
            })?;
            if ctx.out.json {
                return ctx.out.json(&n);
            }
            ctx.say(t!(
                "need.recorded",
                id = n.id,
                kind = kind_label(n.kind),
                key = n.key,
                name = c.name()
            ))
        }
        NeedCmd::List {
            customer,
            open,
            page,
        } => {
            let who = customer
                .map(|c| parse::customer(&store, &c).map(|c| c.id()))
                .transpose()?;
            let mut rows = store.needs(who)?;
            if open {
                rows.retain(Need::is_open);
            }
            rows.sort_by_key(|n| (n.at, n.id));
            let total = ctx.keep_newest(&mut rows, page);
            if ctx.out.json {
                return ctx.out.json(&rows);
            }
            if rows.is_empty() {
                return ctx.say(t!("need.none"));
            }
            rows.reverse();
            let mut names = CustomerNames::default();
            let mut t = Table::new(&[
                ">ID",
                "DATE",
                ">CUSTOMER",
                "NAME",
                "KIND",
                "KEY",
                ">DEAL",
                "STATE",
                "NOTE",
            ]);
            for n in &rows {
                t.row(vec![
                    n.id.to_string(),
                    ctx.day(n.at).to_string(),
                    n.customer.to_string(),
                    names.of(&store, n.customer)?,
                    kind_label(n.kind),
                    n.key.to_string(),
                    opt(n.deal),
                    state_label(ctx, n),
                    opt(n.note.as_ref()),
                ]);
            }
            ctx.out.table(&t)?;
            ctx.more(rows.len(), total, "needs")
        }
        NeedCmd::Resolve { id, at } => {
            let n = store.resolve_need(NeedId::new(id), ctx.at(at.at.as_deref())?)?;
            if ctx.out.json {
                return ctx.out.json(&n);
            }
            ctx.say(t!("need.resolved", id = n.id, key = n.key))
        }
        NeedCmd::Void { id, at } => {
            let n = store.void_need(NeedId::new(id), ctx.at(at.at.as_deref())?)?;
            if ctx.out.json {
                return ctx.out.json(&n);
            }
            ctx.say(t!("need.voided", id = n.id, key = n.key))
        }
        NeedCmd::Stats => {
            let counts = open_counts(&store.needs(None)?, ctx.now);
            if ctx.out.json {
                return ctx.out.json(&counts);
            }
            if counts.is_empty() {
                return ctx.say(t!("need.none_open"));
            }
            let mut t = Table::new(&["KIND", "KEY", ">CUSTOMERS", ">TOTAL"]);
            for c in &counts {
                t.row(vec![
                    kind_label(c.kind),
                    c.key.to_string(),
                    c.customers.to_string(),
                    c.entries.to_string(),
                ]);
            }
            ctx.out.table(&t)
        }
    }
}
