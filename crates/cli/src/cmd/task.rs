//! `solocrm task ...`: tasks and reminders.

use anyhow::{Result, bail};
use solocrm_core::{Label, NewTask, Store, Task, TaskId, TaskQuery};

use super::{Ctx, CustomerNames, with_name};
use crate::books::Books;
use crate::cli::TaskCmd;
use crate::i18n::label;
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
            let customer = parse::customer_id(&store, customer.as_deref())?;
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
            ctx.say(t!("task.added", id = t.id(), due = t.due()))
        }
        TaskCmd::Done { id, at } => {
            let t = store.complete_task(TaskId::new(id), ctx.at(at.at.as_deref())?)?;
            if ctx.out.json {
                return ctx.out.json(&t);
            }
            if t.is_done() {
                ctx.say(t!("task.done", id = t.id()))
            } else {
                ctx.say(t!("task.next_due", id = t.id(), due = t.due()))
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
                bail!(t!("task.nothing_to_change"));
            }
            let title = title.as_deref().map(Label::parse).transpose()?;
            let due = due.as_deref().map(parse::date).transpose()?;
            let t = store.edit_task(TaskId::new(id), title, kind, due)?;
            if ctx.out.json {
                return ctx.out.json(&t);
            }
            ctx.say(t!("task.updated", id = t.id(), due = t.due()))
        }
        TaskCmd::Cancel { id, at } => {
            let t = store.cancel_task(TaskId::new(id), ctx.at(at.at.as_deref())?)?;
            if ctx.out.json {
                return ctx.out.json(&t);
            }
            ctx.say(t!("task.cancelled", id = t.id(), title = t.title()))
        }
        TaskCmd::List {
            until,
            customer,
            all,
            page,
        } => {
            let customer = parse::customer_id(&store, customer.as_deref())?;
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
            // A task an automation rule made carries the rule's name and priority.
            let by_rule = super::rule::rules_of_tasks(&store)?;
            if ctx.out.json {
                let mut rows = Vec::new();
                for task in &tasks {
                    let mut value = serde_json::to_value(task)?;
                    if let (Some((rule, priority)), Some(map)) =
                        (by_rule.get(&task.id()), value.as_object_mut())
                    {
                        map.insert("rule".into(), rule.as_str().into());
                        if let Some(p) = priority {
                            map.insert("priority".into(), p.as_str().into());
                        }
                    }
                    rows.push(value);
                }
                return ctx.out.json(&rows);
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
                "RULE",
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
                    by_rule
                        .get(&task.id())
                        .map_or_else(|| "-".into(), |(rule, _)| rule.to_string()),
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
    ctx.out
        .heading(t!("task.heading", id = t.id(), title = t.title()))?;
    let customer = match (t.customer(), &name) {
        (Some(c), Some(n)) => t!("field.name_id", name = n, id = c),
        _ => "-".into(),
    };
    // The state reads as the STATUS column shows it (`status.open`, `status.done` …).
    let state = status(t);
    let state = crate::i18n::lookup(&format!("status.{state}")).unwrap_or(state);
    let created = ctx.day(t.created_at()).to_string();
    let last_done = opt(t.last_done_at().map(|at| ctx.day(at)));
    let cancelled = opt(t.cancelled_at().map(|at| ctx.day(at)));
    super::fields(
        ctx,
        9,
        vec![
            (t!("field.status"), state.to_owned()),
            (t!("field.due"), t.due().to_string()),
            (t!("field.kind"), label(t.kind()).to_owned()),
            (t!("field.repeats"), opt(t.recurrence().map(label))),
            (t!("field.customer"), customer),
            (t!("field.created"), created),
            (t!("field.last_done"), last_done),
            (t!("field.cancelled"), cancelled),
        ],
    )
}
