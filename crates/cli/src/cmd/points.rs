//! `solocrm points ...`: the points ledger and the tiers of the points program.

use anyhow::{Result, bail};
use solocrm_core::{
    Label, NewPointsEntry, PointsKind, PointsTier, PointsTiers, Store, Tag, lifetime_points,
};

use super::Ctx;
use crate::cli::{PointsCmd, TierCmd};
use crate::output::{Table, opt};
use crate::parse;

pub fn run(ctx: &mut Ctx, cmd: PointsCmd) -> Result<()> {
    let store = ctx.open()?;
    let (customer, kind, points, reason, at) = match cmd {
        PointsCmd::Earn {
            customer,
            points,
            reason,
            at,
        } => (customer, PointsKind::Earn, points, reason, at),
        PointsCmd::Redeem {
            customer,
            points,
            reason,
            at,
        } => (customer, PointsKind::Redeem, points, reason, at),
        PointsCmd::Expire {
            due: true,
            as_of,
            at,
            ..
        } => {
            if at.at.is_some() {
                bail!(t!("points.due_alone"));
            }
            return expire_due(ctx, &store, as_of.as_deref());
        }
        PointsCmd::Expire {
            customer: Some(customer),
            points: Some(points),
            reason,
            at,
            ..
        } => (customer, PointsKind::Expire, points, reason, at),
        PointsCmd::Expire { .. } => bail!(t!("points.due_alone")),
        PointsCmd::Adjust {
            customer,
            points,
            reason,
            at,
        } => (customer, PointsKind::Adjust, points, Some(reason), at),
        PointsCmd::Balance { customer } => {
            let c = parse::customer(&store, &customer)?;
            let ledger = store.points_ledger(c.id())?;
            let balance = store.points_balance(c.id())?;
            if ctx.out.json {
                return ctx.out.json(&serde_json::json!({ "customer": c.id(), "balance": balance, "ledger": ledger }));
            }
            ctx.out.line(t!(
                "points.has",
                name = c.name(),
                points = tn!("count.point", balance)
            ))?;
            if !ledger.is_empty() {
                let mut t = Table::new(&["DATE", "KIND", ">POINTS", ">BALANCE", "REASON"]);
                for e in &ledger {
                    t.row(vec![
                        ctx.day(e.at()).to_string(),
                        e.kind().to_string(),
                        format!("{:+}", e.delta()),
                        e.balance_after().to_string(),
                        opt(e.reason()),
                    ]);
                }
                ctx.out.table(&t)?;
            }
            return Ok(());
        }
        PointsCmd::History { customer, page } => {
            let c = parse::customer(&store, &customer)?;
            let mut ledger = store.points_ledger(c.id())?;
            let lifetime = lifetime_points(&ledger);
            let balance = ledger.last().map_or(0, |e| e.balance_after());
            let total = ctx.keep_newest(&mut ledger, page);
            if ctx.out.json {
                return ctx.out.json(&serde_json::json!({
                    "customer": c.id(),
                    "name": c.name().to_string(),
                    "balance": balance,
                    "lifetime": lifetime,
                    "entries": ledger,
                }));
            }
            ctx.say(t!(
                "points.history",
                name = c.name(),
                balance = tn!("count.point", balance),
                lifetime = lifetime
            ))?;
            ledger.reverse();
            let mut t = Table::new(&[">ID", "DATE", "KIND", ">POINTS", ">BALANCE", "REASON"]);
            for e in &ledger {
                t.row(vec![
                    e.id().to_string(),
                    ctx.day(e.at()).to_string(),
                    e.kind().to_string(),
                    format!("{:+}", e.delta()),
                    e.balance_after().to_string(),
                    opt(e.reason()),
                ]);
            }
            if t.is_empty() {
                return ctx.say(t!("points.none"));
            }
            ctx.out.table(&t)?;
            return ctx.more(ledger.len(), total, "entries");
        }
        PointsCmd::Tier(cmd) => return tier(ctx, &store, cmd),
    };
    let c = parse::customer(&store, &customer)?;
    if kind == PointsKind::Adjust && reason.as_deref().is_none_or(|r| r.trim().is_empty()) {
        bail!(t!("points.adjust_needs_reason"));
    }
    let mut entry = NewPointsEntry::new(c.id(), ctx.at(at.at.as_deref())?, kind, points)?;
    if let Some(r) = reason {
        entry = entry.with_reason(Label::parse(&r)?);
    }
    let e = store.post_points(entry)?;
    if ctx.out.json {
        return ctx.out.json(&e);
    }
    ctx.say(t!(
        "points.now_has",
        name = c.name(),
        points = tn!("count.point", e.balance_after())
    ))
}

/// `points expire --due [--as-of D]`: every lapse due by the day, as the runner's
/// daily run posts them.
fn expire_due(ctx: &mut Ctx, store: &crate::books::Books, as_of: Option<&str>) -> Result<()> {
    let day = ctx.as_of_day(as_of)?;
    let as_of = ctx.as_of_not_after_today(as_of)?;
    let enabled = store.crm().read(|r| r.points_expiry())?.is_some();
    let lapsed = solocrm_app::automation::post_lapses(store.crm(), as_of)?;
    if ctx.out.json {
        return ctx.out.json(&serde_json::json!({
            "as_of": day,
            "validity": enabled,
            "lapsed": lapsed,
        }));
    }
    if !enabled {
        return ctx.say(t!("points.no_validity"));
    }
    if lapsed.is_empty() {
        return ctx.say(t!("points.none_due", day = day));
    }
    let mut names = super::CustomerNames::default();
    let mut t = Table::new(&[">CUSTOMER", "NAME", "DAY", ">POINTS", ">BALANCE"]);
    for l in &lapsed {
        t.row(vec![
            l.customer.to_string(),
            names.of(store, l.customer)?,
            l.day.to_string(),
            format!("-{}", l.points),
            l.balance.to_string(),
        ]);
    }
    ctx.out.table(&t)?;
    ctx.say(tn!("count.lapse", lapsed.len() as u64))
}

/// `points tier list|set|remove`.
fn tier(ctx: &mut Ctx, store: &crate::books::Books, cmd: TierCmd) -> Result<()> {
    let tiers = match cmd {
        TierCmd::List => store.points_tiers()?,
        TierCmd::Set { name, min } => {
            let name = Tag::parse(&name)?;
            let tiers = store.set_points_tier(PointsTier {
                name: name.clone(),
                min_points: min,
            })?;
            if !ctx.out.json {
                ctx.say(t!(
                    "tier.set",
                    name = name,
                    points = tn!("count.point", min)
                ))?;
            }
            tiers
        }
        TierCmd::Remove { name } => {
            let name = Tag::parse(&name)?;
            let tiers = store.remove_points_tier(&name)?;
            if !ctx.out.json {
                ctx.say(t!("tier.removed", name = name))?;
            }
            tiers
        }
    };
    print_tiers(ctx, &tiers)
}

fn print_tiers(ctx: &mut Ctx, tiers: &PointsTiers) -> Result<()> {
    if ctx.out.json {
        return ctx.out.json(tiers.tiers());
    }
    if tiers.is_empty() {
        return ctx.say(t!("tier.none"));
    }
    let mut t = Table::new(&["TIER", ">FROM POINTS"]);
    for tier in tiers.tiers() {
        t.row(vec![tier.name.to_string(), tier.min_points.to_string()]);
    }
    ctx.out.table(&t)
}
