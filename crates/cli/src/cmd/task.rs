//! `solocrm task ...`: tasks and reminders.

use anyhow::{Result, bail};
use solocrm_core::{Label, NewTask, Store, Task, TaskId, TaskQuery};

use super::{Ctx, CustomerNames, with_name};
use crate::books::Books;
use crate::cli::TaskCmd;
use crate::output::{Table, opt};
use crate::parse;

pub fn run(ctx: &mut Ctx, cmd: TaskCmd) -> Result<()> {
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
        TaskCmd::Show { id } => {
            let t = store.task(TaskId::new(id))?;
            show(ctx, &store, &t)
        }
        TaskCmd::Edit {
            id,
            title,
            due,
            kind,
        } => {
            if title.is_none() && due.is_none() && kind.is_none() {
                bail!("nothing to change; give --title, --due or --kind");
            }
            let title = title.as_deref().map(Label::parse).transpose()?;
            let due = due.as_deref().map(parse::date).transpose()?;
            let t = store.edit_task(TaskId::new(id), title, kind, due)?;
            if ctx.out.json {
                return ctx.out.json(&t);
            }
            ctx.say(format!("updated task {} due {}", t.id(), t.due()))
        }
        TaskCmd::Cancel { id, at } => {
            let t = store.cancel_task(TaskId::new(id), ctx.at(at.at.as_deref())?)?;
            if ctx.out.json {
                return ctx.out.json(&t);
            }
            ctx.say(format!("cancelled task {} ({})", t.id(), t.title()))
        }
        TaskCmd::List {
            until,
            customer,
            all,
            page,
        } => {
            let customer = customer
                .map(|c| parse::customer(&store, &c))
                .transpose()?
                .map(|c| c.id());
            let mut tasks = store.tasks(&TaskQuery {
                customer,
                due_until: until.as_deref().map(parse::date).transpose()?,
                include_done: all,
            })?;
            // Soonest due first; a cut list keeps the soonest.
            let total = tasks.len();
            if let Some(rows) = ctx.rows(page) {
                tasks.truncate(rows);
            }
            if ctx.out.json {
                return ctx.out.json(&tasks);
            }
            let mut names = CustomerNames::default();
            let mut t = Table::new(&[
                ">ID",
                "DUE",
                "KIND",
                ">CUSTOMER",
                "NAME",
                "REPEATS",
                "STATUS",
                "TITLE",
            ]);
            for task in &tasks {
                t.row(vec![
                    task.id().to_string(),
                    task.due().to_string(),
                    task.kind().to_string(),
                    opt(task.customer()),
                    match task.customer() {
                        Some(c) => names.of(&store, c)?,
                        None => "-".into(),
                    },
                    opt(task.recurrence()),
                    status(task).into(),
                    task.title().to_string(),
                ]);
            }
            ctx.out.table(&t)?;
            ctx.more(tasks.len(), total, "tasks")
        }
    }
}

/// `open`, `done` or `cancelled`.
fn status(t: &Task) -> &'static str {
    if t.cancelled_at().is_some() {
        "cancelled"
    } else if t.is_done() {
        "done"
    } else {
        "open"
    }
}

/// `task show`: the task, its customer and its state.
fn show(ctx: &mut Ctx, store: &Books, t: &Task) -> Result<()> {
    let name = match t.customer() {
        Some(c) => Some(CustomerNames::default().of(store, c)?),
        None => None,
    };
    if ctx.out.json {
        return match &name {
            Some(n) => ctx.out.json(&with_name(t, n)?),
            None => ctx.out.json(t),
        };
    }
    ctx.out.heading(format!("task {}: {}", t.id(), t.title()))?;
    let customer = match (t.customer(), &name) {
        (Some(c), Some(n)) => format!("{n} ({c})"),
        _ => "-".into(),
    };
    for (label, value) in [
        ("status", status(t).to_owned()),
        ("due", t.due().to_string()),
        ("kind", t.kind().to_string()),
        ("repeats", opt(t.recurrence())),
        ("customer", customer),
        ("created", ctx.day(t.created_at()).to_string()),
        ("last done", opt(t.last_done_at().map(|at| ctx.day(at)))),
        ("cancelled", opt(t.cancelled_at().map(|at| ctx.day(at)))),
    ] {
        ctx.out.line(format!("  {label:<9} {value}"))?;
    }
    Ok(())
}
