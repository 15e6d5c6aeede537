//! Commands that record and list activity: service requests, deals, tasks, points and
//! consent (interactions, purchases and surveys have modules of their own).

use anyhow::Result;
use solocrm_core::{
    Consent, DealId, FreeText, Label, NewDeal, NewPointsEntry, NewServiceRequest, NewTask,
    OpenQuery, PointsKind, RequestEventKind, RequestId, Store, Tag, TaskId, TaskQuery,
};

use super::Ctx;
use crate::cli::{ConsentCmd, DealCmd, PointsCmd, RequestCmd, TaskCmd};
use crate::output::{Table, opt};
use crate::parse;

pub fn request(ctx: &mut Ctx, cmd: RequestCmd) -> Result<()> {
    let store = ctx.open()?;
    let step = |id: u64, kind: RequestEventKind, at: Option<&str>, ctx: &mut Ctx| -> Result<()> {
        let r = store.update_request(RequestId::new(id), kind, ctx.at(at)?)?;
        if ctx.out.json {
            return ctx.out.json(&r);
        }
        ctx.say(format!("request {} is now {}", r.id(), r.status()))
    };
    match cmd {
        RequestCmd::Open {
            customer,
            subject,
            kind,
            description,
            deal,
            at,
        } => {
            let c = parse::customer(&store, &customer)?;
            let r = store.open_request(NewServiceRequest {
                customer: c.id(),
                kind,
                subject: Label::parse(&subject)?,
                description: FreeText::parse(&description)?,
                opened_at: ctx.at(at.at.as_deref())?,
                deal: deal.map(DealId::new),
            })?;
            if ctx.out.json {
                return ctx.out.json(&r);
            }
            ctx.say(format!("opened {} {} for {}", r.kind(), r.id(), c.name()))
        }
        RequestCmd::Respond { id, at } => {
            step(id, RequestEventKind::Responded, at.at.as_deref(), ctx)
        }
        RequestCmd::Resolve { id, at } => {
            step(id, RequestEventKind::Resolved, at.at.as_deref(), ctx)
        }
        RequestCmd::Reopen { id, at } => {
            step(id, RequestEventKind::Reopened, at.at.as_deref(), ctx)
        }
        RequestCmd::List { open, customer } => {
            let customer = customer
                .map(|c| parse::customer(&store, &c))
                .transpose()?
                .map(|c| c.id());
            let requests = store.requests(&OpenQuery {
                customer,
                open_only: open,
            })?;
            if ctx.out.json {
                return ctx.out.json(&requests);
            }
            let mut t = Table::new(&[">ID", ">CUSTOMER", "KIND", "STATUS", "OPENED", "SUBJECT"]);
            for r in &requests {
                t.row(vec![
                    r.id().to_string(),
                    r.customer().to_string(),
                    r.kind().to_string(),
                    r.status().to_string(),
                    ctx.day(r.opened_at()).to_string(),
                    r.subject().to_string(),
                ]);
            }
            ctx.out.table(&t)
        }
    }
}

pub fn deal(ctx: &mut Ctx, cmd: DealCmd) -> Result<()> {
    let store = ctx.open()?;
    match cmd {
        DealCmd::Add {
            customer,
            title,
            value,
            stage,
            close,
            at,
        } => {
            let c = parse::customer(&store, &customer)?;
            let mut new = NewDeal::new(
                c.id(),
                Label::parse(&title)?,
                parse::money(&value, &store)?,
                ctx.at(at.at.as_deref())?,
            );
            if let Some(s) = stage {
                new.stage = s;
            }
            new.expected_close = close.as_deref().map(parse::date).transpose()?;
            let d = store.create_deal(new)?;
            if ctx.out.json {
                return ctx.out.json(&d);
            }
            ctx.say(format!(
                "added deal {} ({}, {}) at {}",
                d.id(),
                d.title(),
                d.value(),
                d.stage()
            ))
        }
        DealCmd::Move { id, stage, at } => {
            let d = store.move_deal(DealId::new(id), stage, ctx.at(at.at.as_deref())?)?;
            if ctx.out.json {
                return ctx.out.json(&d);
            }
            ctx.say(format!("deal {} is now {}", d.id(), d.stage()))
        }
        DealCmd::List { open, customer } => {
            let customer = customer
                .map(|c| parse::customer(&store, &c))
                .transpose()?
                .map(|c| c.id());
            let deals = store.deals(&OpenQuery {
                customer,
                open_only: open,
            })?;
            if ctx.out.json {
                return ctx.out.json(&deals);
            }
            let mut t = Table::new(&[">ID", ">CUSTOMER", "STAGE", ">VALUE", "SINCE", "TITLE"]);
            for d in &deals {
                t.row(vec![
                    d.id().to_string(),
                    d.customer().to_string(),
                    d.stage().to_string(),
                    d.value().to_string(),
                    ctx.day(d.created_at()).to_string(),
                    d.title().to_string(),
                ]);
            }
            ctx.out.table(&t)
        }
    }
}

pub fn task(ctx: &mut Ctx, cmd: TaskCmd) -> Result<()> {
    let store = ctx.open()?;
    match cmd {
        TaskCmd::Add {
            title,
            due,
            customer,
            kind,
            every,
            at,
        } => {
            let customer = customer
                .map(|c| parse::customer(&store, &c))
                .transpose()?
                .map(|c| c.id());
            let t = store.create_task(NewTask {
                customer,
                kind,
                title: Label::parse(&title)?,
                due: parse::date(&due)?,
                recurrence: every,
                created_at: ctx.at(at.at.as_deref())?,
            })?;
            if ctx.out.json {
                return ctx.out.json(&t);
            }
            ctx.say(format!("added task {} due {}", t.id(), t.due()))
        }
        TaskCmd::Done { id, at } => {
            let t = store.complete_task(TaskId::new(id), ctx.at(at.at.as_deref())?)?;
            if ctx.out.json {
                return ctx.out.json(&t);
            }
            if t.is_done() {
                ctx.say(format!("task {} is done", t.id()))
            } else {
                ctx.say(format!("task {} is next due {}", t.id(), t.due()))
            }
        }
        TaskCmd::List { until, all } => {
            let tasks = store.tasks(&TaskQuery {
                customer: None,
                due_until: until.as_deref().map(parse::date).transpose()?,
                include_done: all,
            })?;
            if ctx.out.json {
                return ctx.out.json(&tasks);
            }
            let mut t = Table::new(&[
                ">ID",
                "DUE",
                "KIND",
                ">CUSTOMER",
                "REPEATS",
                "DONE",
                "TITLE",
            ]);
            for task in &tasks {
                t.row(vec![
                    task.id().to_string(),
                    task.due().to_string(),
                    task.kind().to_string(),
                    opt(task.customer()),
                    opt(task.recurrence()),
                    if task.is_done() {
                        "yes".into()
                    } else {
                        "no".into()
                    },
                    task.title().to_string(),
                ]);
            }
            ctx.out.table(&t)
        }
    }
}

pub fn points(ctx: &mut Ctx, cmd: PointsCmd) -> Result<()> {
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
        PointsCmd::Balance { customer } => {
            let c = parse::customer(&store, &customer)?;
            let ledger = store.points_ledger(c.id())?;
            let balance = store.points_balance(c.id())?;
            if ctx.out.json {
                return ctx.out.json(&serde_json::json!({ "customer": c.id(), "balance": balance, "ledger": ledger }));
            }
            ctx.out.line(format!(
                "{} has {}",
                c.name(),
                super::plural(balance, "point", "points")
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
    };
    let c = parse::customer(&store, &customer)?;
    let mut entry = NewPointsEntry::new(c.id(), ctx.at(at.at.as_deref())?, kind, points)?;
    if let Some(r) = reason {
        entry = entry.with_reason(Label::parse(&r)?);
    }
    let e = store.post_points(entry)?;
    if ctx.out.json {
        return ctx.out.json(&e);
    }
    ctx.say(format!(
        "{} now has {}",
        c.name(),
        super::plural(e.balance_after(), "point", "points")
    ))
}

pub fn consent(ctx: &mut Ctx, cmd: ConsentCmd) -> Result<()> {
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
        "granted"
    } else {
        "not granted"
    };
    ctx.say(format!("{}: consent for {purpose} is {state}", c.name()))
}
