//! `solocrm rule ...` and `solocrm run`: automation rules and their runner
//! ([`solocrm_app::automation`]).

use std::collections::HashMap;
use std::path::Path;

use anyhow::{Context as _, Result, bail};
use serde::Serialize;
use solocrm_app::automation::draft::{Part, RuleDraft, TaskDraft};
use solocrm_app::automation::file::{self, FileRule};
use solocrm_app::automation::{Only, Planned, plan, run as run_rules};
use solocrm_core::automation::{
    Action, Condition, CreateTask, EffectiveRule, Firing, Priority, Rule, RuleName, Template,
    Trigger,
};
use solocrm_core::{CustomerId, Store as _, TaskId, TaskQuery};

use super::{Ctx, CustomerNames};
use crate::cli::RuleCmd;
use crate::i18n::label;
use crate::output::{Table, opt};

/// A rule as `rule list` shows it.
#[derive(Serialize)]
struct Listed<'a> {
    name: &'a RuleName,
    enabled: bool,
    builtin: bool,
    trigger: String,
    condition: Option<&'a str>,
    actions: &'a [Action],
}

fn listed(r: &EffectiveRule) -> Listed<'_> {
    Listed {
        name: r.rule.name(),
        enabled: r.enabled,
        builtin: r.builtin,
        trigger: r.rule.trigger().to_string(),
        condition: r.rule.condition().map(Condition::as_str),
        actions: r.rule.actions(),
    }
}

/// The one rule of a TOML snippet (`rule add --toml`, `rule edit --toml`).
fn rule_of_toml(snippet: String) -> Result<FileRule> {
    // A bare snippet is one rule's keys: read it as a `[[rule]]` table, and count its
    // lines from its own first one.
    let bare = !snippet.trim_start().starts_with("[[rule]]");
    let text = if bare {
        format!("[[rule]]\n{snippet}")
    } else {
        snippet
    };
    let mut rules = file::parse(&text).map_err(|mut e| {
        if bare {
            e.line = e.line.saturating_sub(1).max(1);
        }
        anyhow::anyhow!(t!("rule.toml_error", error = e))
    })?;
    if rules.len() != 1 {
        bail!(t!("rule.toml_one"));
    }
    Ok(rules.remove(0))
}

fn rule_name(input: &str) -> Result<RuleName> {
    Ok(RuleName::parse(input)?)
}

pub fn run(ctx: &mut Ctx, cmd: RuleCmd) -> Result<()> {
    let books = ctx.open()?;
    let crm = books.crm();
    match cmd {
        RuleCmd::List => {
            let rules = crm.read(|r| r.rules())?;
            if ctx.out.json {
                let rows: Vec<Listed<'_>> = rules.iter().map(listed).collect();
                return ctx.out.json(&rows);
            }
            let mut t = Table::new(&[
                "NAME",
                "ENABLED",
                "BUILTIN",
                "TRIGGER",
                "CONDITION",
                "ACTIONS",
            ]);
            for r in &rules {
                let yes = |b: bool| if b { "yes" } else { "no" };
                let actions: Vec<String> =
                    r.rule.actions().iter().map(ToString::to_string).collect();
                t.row(vec![
                    r.rule.name().to_string(),
                    yes(r.enabled).into(),
                    yes(r.builtin).into(),
                    r.rule.trigger().to_string(),
                    opt(r.rule.condition()),
                    actions.join("; "),
                ]);
            }
            ctx.out.table(&t)
        }
        RuleCmd::Enable { name } => switch(ctx, crm, &name, true),
        RuleCmd::Disable { name } => switch(ctx, crm, &name, false),
        RuleCmd::Add {
            name,
            trigger,
            condition,
            task,
            due_in,
            priority,
            kind,
            tag,
            untag,
            stage,
            note,
            points,
            disabled,
            toml,
        } => {
            let (rule, enabled) = match toml {
                Some(snippet) => {
                    let FileRule { rule, enabled, .. } = rule_of_toml(snippet)?;
                    (rule, enabled && !disabled)
                }
                None => {
                    let (Some(name), Some(trigger)) = (name, trigger) else {
                        bail!(t!("rule.needs_name_and_trigger"));
                    };
                    let draft = RuleDraft {
                        name,
                        trigger,
                        condition,
                        task: task.map(|title| TaskDraft {
                            title,
                            kind,
                            due_in,
                            priority,
                        }),
                        tags: tag,
                        untags: untag,
                        stage,
                        note,
                        points,
                    };
                    let rule = draft.build().map_err(|e| match e.part {
                        Part::Condition => anyhow::anyhow!(t!("rule.condition_error", error = e)),
                        _ => anyhow::Error::new(e),
                    })?;
                    (rule, !disabled)
                }
            };
            let name = rule.name().clone();
            crm.write(|w| w.add_rule(rule.clone(), enabled))?;
            if ctx.out.json {
                let r = crm.read(|r| r.rule(&name))?;
                return ctx.out.json(&listed(&r));
            }
            ctx.say(t!("rule.added", name = name))
        }
        RuleCmd::Edit {
            name,
            trigger,
            condition,
            no_condition,
            task,
            due_in,
            priority,
            kind,
            toml,
        } => {
            let name = rule_name(&name)?;
            let rule = match toml {
                Some(snippet) => {
                    let rule = rule_of_toml(snippet)?.rule;
                    if rule.name() != &name {
                        bail!(t!("rule.edit_other_name", name = name, other = rule.name()));
                    }
                    rule
                }
                None => {
                    let current = crm.read(|r| r.rule(&name))?;
                    if current.builtin {
                        // What the write would refuse; said before reading the flags.
                        let e = solocrm_core::Conflict::BuiltinRule {
                            name: name.to_string(),
                        };
                        return Err(solocrm_core::StoreError::from(e).into());
                    }
                    let current = current.rule;
                    let trigger = match trigger {
                        Some(t) => Trigger::parse(&t)?,
                        None => current.trigger(),
                    };
                    let condition =
                        match (condition, no_condition) {
                            (Some(c), _) => Some(Condition::parse(&c).map_err(|e| {
                                anyhow::anyhow!(t!("rule.condition_error", error = e))
                            })?),
                            (None, true) => None,
                            (None, false) => current.condition().cloned(),
                        };
                    let mut actions = current.actions().to_vec();
                    let changes_task =
                        task.is_some() || due_in.is_some() || priority.is_some() || kind.is_some();
                    if changes_task {
                        let at = actions.iter().position(|a| matches!(a, Action::Task(_)));
                        let old = match at.and_then(|i| actions.get(i)) {
                            Some(Action::Task(t)) => Some(t.clone()),
                            _ => None,
                        };
                        let title = match (task, &old) {
                            (Some(title), _) => Template::parse(&title)?,
                            (None, Some(old)) => old.title.clone(),
                            (None, None) => bail!(t!("rule.edit_no_task", name = name)),
                        };
                        let priority = match priority {
                            Some(p) => Priority::parse(&p)?,
                            None => old.as_ref().map_or(Priority::Normal, |o| o.priority),
                        };
                        let new = CreateTask::new(
                            title,
                            kind.or(old.as_ref().map(|o| o.kind))
                                .unwrap_or(solocrm_core::TaskKind::FollowUp),
                            due_in.or(old.as_ref().map(|o| o.due_in)).unwrap_or(0),
                            priority,
                        )?;
                        match at {
                            Some(i) => actions[i] = Action::Task(new),
                            None => actions.insert(0, Action::Task(new)),
                        }
                    }
                    Rule::new(name.clone(), trigger, condition, actions)?
                }
            };
            crm.write(|w| w.edit_rule(rule.clone()))?;
            if ctx.out.json {
                let r = crm.read(|r| r.rule(&name))?;
                return ctx.out.json(&listed(&r));
            }
            ctx.say(t!("rule.edited", name = name))
        }
        RuleCmd::Remove { name } => {
            let name = rule_name(&name)?;
            crm.write(|w| w.remove_rule(&name))?;
            ctx.say(t!("rule.removed", name = name))
        }
        RuleCmd::Test { name, as_of } => {
            let name = rule_name(&name)?;
            let as_of = ctx.as_of(as_of.as_of.as_deref())?;
            let planned = plan(crm, as_of, Only::Rule(&name))?;
            let mut names = CustomerNames::default();
            if ctx.out.json {
                let mut rows = Vec::new();
                for p in &planned {
                    rows.push(super::with_name(p, &names.of(&books, p.customer)?)?);
                }
                return ctx.out.json(&rows);
            }
            planned_table(ctx, &books, &planned, &mut names)?;
            ctx.say(tn!("count.would_fire", planned.len() as u64))
        }
        RuleCmd::Log { rule, page } => {
            let only = rule.as_deref().map(rule_name).transpose()?;
            let mut firings: Vec<Firing> = crm.read(|r| r.firings())?;
            firings.retain(|f| only.as_ref().is_none_or(|n| &f.rule == n));
            let total = ctx.keep_newest(&mut firings, page);
            if ctx.out.json {
                return ctx.out.json(&firings);
            }
            let mut names = CustomerNames::default();
            let mut t = Table::new(&[
                "DAY",
                "RULE",
                ">CUSTOMER",
                "NAME",
                "OCCURRENCE",
                ">TASK",
                "PRIORITY",
            ]);
            for f in &firings {
                t.row(vec![
                    f.day.to_string(),
                    f.rule.to_string(),
                    f.customer.to_string(),
                    names.of(&books, f.customer)?,
                    f.occurrence.to_string(),
                    opt(f.task),
                    opt(f.priority),
                ]);
            }
            ctx.out.table(&t)?;
            ctx.more(firings.len(), total, "firings")
        }
        RuleCmd::Import {
            file: path,
            replace,
        } => import(ctx, crm, &path, replace),
    }
}

fn switch(ctx: &mut Ctx, crm: &solocrm_core::Crm, name: &str, on: bool) -> Result<()> {
    let name = rule_name(name)?;
    let r = crm.write(|w| w.set_rule_enabled(&name, on))?;
    if ctx.out.json {
        return ctx.out.json(&listed(&r));
    }
    if on {
        ctx.say(t!("rule.enabled", name = name))
    } else {
        ctx.say(t!("rule.disabled", name = name))
    }
}

/// `rule import FILE`: every rule of the file in one transaction, or none.
fn import(ctx: &mut Ctx, crm: &solocrm_core::Crm, path: &Path, replace: bool) -> Result<()> {
    let text = std::fs::read_to_string(path)
        .with_context(|| t!("rule.cannot_read", file = path.display()))?;
    let rules = file::parse(&text).map_err(|e| {
        anyhow::anyhow!("{}:{}:{}: {}", path.display(), e.line, e.column, e.message)
    })?;
    crm.write(|w| {
        for r in &rules {
            let name = r.rule.name().clone();
            let stored = w
                .reader()
                .rules()?
                .into_iter()
                .any(|x| x.rule.name() == &name && !x.builtin);
            if replace && stored {
                w.put_rule(r.rule.clone())?;
                w.set_rule_enabled(&name, r.enabled)?;
            } else {
                w.add_rule(r.rule.clone(), r.enabled)?;
            }
        }
        Ok(())
    })
    .map_err(|e| {
        // Name where the refused rule is.
        let at = rules
            .iter()
            .find(|r| e.to_string().contains(&format!("'{}'", r.rule.name())))
            .map(|r| r.at);
        match at {
            Some((line, column)) => {
                anyhow::anyhow!("{}:{line}:{column}: {e}", path.display())
            }
            None => anyhow::Error::new(e),
        }
    })?;
    ctx.say(tn!("count.rule_imported", rules.len() as u64))
}

fn planned_table(
    ctx: &mut Ctx,
    books: &crate::books::Books,
    planned: &[Planned],
    names: &mut CustomerNames,
) -> Result<()> {
    let mut t = Table::new(&["DAY", "RULE", ">CUSTOMER", "NAME", "WHY"]);
    for p in planned {
        t.row(vec![
            p.day.to_string(),
            p.rule.to_string(),
            p.customer.to_string(),
            names.of(books, p.customer)?,
            p.why.clone(),
        ]);
    }
    ctx.out.table(&t)
}

/// `solocrm run [--as-of D] [--notify]`. A run a store failure stops part way prints
/// what it did before the failure (all of it committed), then fails with it.
pub fn run_now(ctx: &mut Ctx, as_of: Option<&str>, notify: bool) -> Result<()> {
    let books = ctx.open()?;
    let as_of = ctx.as_of_not_after_today(as_of)?;
    let (report, stopped) = match run_rules(books.crm(), as_of) {
        Ok(report) => (report, None),
        Err(s) => (*s.done, Some(s.error)),
    };
    let printed = print_run(ctx, &books, &report, as_of, notify, stopped.as_ref());
    match stopped {
        // The run's failure is the one to report; one in printing what it did (the
        // books or the output failing too) only adds a warning.
        Some(error) => {
            if let Err(e) = printed {
                super::warn(&e.to_string());
            }
            Err(error.into())
        }
        None => printed,
    }
}

/// Prints what a run did; with `notify`, the digest of the day's due tasks as well.
/// After a failure (`stopped`) it prints what was done before it, a customer whose
/// name cannot be read as `-`, without the digest; `--json` then carries `stopped`
/// (the failure) and a `null` cursor, since the run did not reach its end.
fn print_run(
    ctx: &mut Ctx,
    books: &crate::books::Books,
    report: &solocrm_app::automation::RunReport,
    as_of: chrono::DateTime<chrono::Utc>,
    notify: bool,
    stopped: Option<&solocrm_core::StoreError>,
) -> Result<()> {
    let notify = notify && stopped.is_none();
    let mut names = CustomerNames::default();
    let mut name_of = |id: CustomerId| match names.of(books, id) {
        Err(_) if stopped.is_some() => Ok("-".to_owned()),
        other => other,
    };
    if ctx.out.json {
        let mut fired = Vec::new();
        for f in &report.fired {
            fired.push(super::with_name(f, &name_of(f.planned.customer)?)?);
        }
        let mut doc = serde_json::json!({
            "fired": fired,
            "already": report.already,
            "events": report.events,
            "moved": report.moved,
            "not_moved": report.not_moved,
            "lapsed": report.lapsed,
            "cursor": report.cursor,
        });
        if let (Some(error), Some(map)) = (stopped, doc.as_object_mut()) {
            map.insert("cursor".into(), serde_json::Value::Null);
            map.insert("stopped".into(), error.to_string().into());
        }
        return ctx.out.json(&doc);
    }
    if notify {
        let today = ctx.day(as_of);
        ctx.out.heading(t!("run.digest", day = today))?;
    }
    if !report.moved.is_empty() || !report.not_moved.is_empty() {
        let mut t = Table::new(&[">CUSTOMER", "NAME", "FROM", "TO", "WHY"]);
        for m in &report.moved {
            let (Some(first), Some(last)) = (m.changes.first(), m.changes.last()) else {
                continue;
            };
            t.row(vec![
                m.customer.to_string(),
                name_of(m.customer)?,
                label(first.from).to_owned(),
                label(last.to).to_owned(),
                super::customer::stage_why(&last.reason),
            ]);
        }
        for m in &report.not_moved {
            t.row(vec![
                m.customer.to_string(),
                name_of(m.customer)?,
                "-".into(),
                "-".into(),
                t!("reassess.not_moved", error = m.error),
            ]);
        }
        ctx.out.table(&t)?;
        ctx.say(t!(
            "reassess.moved",
            customers = tn!("count.customer", report.moved.len() as u64)
        ))?;
    }
    for l in &report.lapsed {
        ctx.say(t!(
            "points.lapsed",
            name = name_of(l.customer)?,
            points = tn!("count.point", l.points),
            day = l.day
        ))?;
    }
    if !report.fired.is_empty() {
        let mut t = Table::new(&[
            "RULE",
            ">CUSTOMER",
            "NAME",
            ">TASK",
            "DUE",
            "PRIORITY",
            "TITLE",
        ]);
        for f in &report.fired {
            t.row(vec![
                f.planned.rule.to_string(),
                f.planned.customer.to_string(),
                name_of(f.planned.customer)?,
                opt(f.task),
                opt(f.due),
                opt(f.priority),
                f.title.clone().unwrap_or_else(|| "-".into()),
            ]);
        }
        ctx.out.table(&t)?;
    }
    if notify {
        let today = ctx.day(as_of);
        let due = books.tasks(&TaskQuery {
            customer: None,
            due_until: Some(today),
            include_done: false,
        })?;
        let overdue = due.iter().filter(|t| t.due() < today).count();
        ctx.out
            .line(t!("run.due", due = due.len(), overdue = overdue))?;
        for t in &due {
            let who = match t.customer() {
                Some(c) => name_of(c)?,
                None => "-".into(),
            };
            ctx.out
                .line(format!("  #{} {} {} ({who})", t.id(), t.due(), t.title()))?;
        }
    }
    ctx.say(tn!("count.fired", report.fired.len() as u64))
}

/// The rule that made each task, for `task list --json`.
pub fn rules_of_tasks(
    books: &crate::books::Books,
) -> Result<HashMap<TaskId, (RuleName, Option<Priority>)>> {
    let firings = books.crm().read(|r| r.firings())?;
    Ok(firings
        .into_iter()
        .filter_map(|f| f.task.map(|t| (t, (f.rule, f.priority))))
        .collect())
}
