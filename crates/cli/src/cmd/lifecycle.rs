//! `solocrm stage ...`, `solocrm care`, `solocrm segment ...`

use anyhow::{Context as _, Result, anyhow, bail};
use solocrm_app::history::{read_as_of_day, read_as_of_day_beside};
use solocrm_core::care::{CareConfig, CareReason, Holiday};
use solocrm_core::{
    Label, PolicyRule, Predicate, Segment, SegmentFilter, StageReason, Store, Suggestion,
};

use super::{Ctx, CustomerNames};
use crate::cli::{SegmentCmd, StageCmd};
use crate::i18n::label;
use crate::output::Table;
use crate::parse;

pub fn stage(ctx: &mut Ctx, cmd: StageCmd) -> Result<()> {
    let store = ctx.open()?;
    match cmd {
        StageCmd::Set {
            customer,
            stage,
            reason,
            at,
        } => {
            let c = parse::customer(&store, &customer)?;
            let note = reason.as_deref().map(Label::parse).transpose()?;
            let change = store.change_stage(
                c.id(),
                stage,
                ctx.at(at.at.as_deref())?,
                StageReason::Manual { note },
            )?;
            if ctx.out.json {
                return ctx.out.json(&change);
            }
            ctx.say(t!(
                "stage_set.changed",
                name = c.name(),
                from = label(change.from),
                to = label(change.to)
            ))
        }
        StageCmd::Reassess { as_of, apply } => {
            let as_of = ctx.as_of(as_of.as_of.as_deref())?;
            let policy = store.lifecycle().cloned().unwrap_or_default();
            let reassess = || Ok(store.reassess_all(&policy, as_of)?.suggestions);
            // A table names every customer it lists: their names are read on a second
            // thread meanwhile.
            let (suggestions, mut names) = if ctx.out.json {
                (reassess()?, super::CustomerNames::default())
            } else {
                super::CustomerNames::all_while(&store, reassess)?
            };
            // One customer whose move fails (a stage history dated after `as_of`, a
            // customer erased meanwhile) does not hold back the others: each customer's
            // move is all its steps or none, a batch of customers to a transaction, and
            // the failures are listed and make the exit code 1.
            let mut failed: Vec<Option<String>> = vec![None; suggestions.len()];
            if apply {
                let mut progress = ctx.progress(t!("progress.applying"), suggestions.len() as u64);
                let applied = store.apply_suggestions(&suggestions, &policy, as_of, |n| {
                    if let Some(p) = &mut progress {
                        p.set(n as u64);
                    }
                });
                if let Some(p) = progress {
                    p.finish();
                }
                let answered = applied.answers.len();
                for (slot, answer) in failed.iter_mut().zip(applied.answers) {
                    *slot = answer.err().map(|e| e.to_string());
                }
                // A backend failure stopped the moves at a transaction: the ones
                // before it are recorded and listed as moved, the rest carry the
                // failure.
                if let Some(stop) = applied.stopped {
                    let stop = stop.to_string();
                    for slot in &mut failed[answered..] {
                        *slot = Some(stop.clone());
                    }
                }
            }
            let failures = failed.iter().flatten().count();
            if ctx.out.json {
                let rows: Vec<_> = suggestions
                    .iter()
                    .zip(&failed)
                    .map(|((id, s), error)| {
                        serde_json::json!({
                            "customer": id, "from": s.from, "to": s.assessment.target,
                            "rule": s.assessment.rule, "reason": s.reason(), "path": s.path,
                            "applied": apply && error.is_none(), "error": error,
                        })
                    })
                    .collect();
                ctx.out.json(&rows)?;
            } else if suggestions.is_empty() {
                return ctx.out.line(t!("reassess.none"));
            } else {
                let mut t = Table::new(&[">CUSTOMER", "NAME", "FROM", "TO", "WHY"]);
                for ((id, s), error) in suggestions.iter().zip(&failed) {
                    let why = match error {
                        Some(e) => t!("reassess.not_moved", error = e),
                        None => suggestion_reason(s),
                    };
                    t.row(vec![
                        id.to_string(),
                        names.take(&store, *id)?,
                        label(s.from).to_owned(),
                        label(s.assessment.target).to_owned(),
                        why,
                    ]);
                }
                ctx.out.table(&t)?;
                if apply {
                    let moved = suggestions.len() - failures;
                    ctx.say(t!(
                        "reassess.moved",
                        customers = tn!("count.customer", moved)
                    ))?;
                } else {
                    ctx.say(t!(
                        "reassess.would_move",
                        customers = tn!("count.customer", suggestions.len())
                    ))?;
                }
            }
            if failures > 0 {
                bail!(t!(
                    "reassess.failed",
                    failures = failures,
                    moves = tn!("count.move", suggestions.len())
                ));
            }
            Ok(())
        }
    }
}

pub(super) fn holiday(spec: &str) -> Result<Holiday> {
    let bad = || anyhow!(t!("care.bad_holiday", spec = spec));
    let (name, date) = spec.rsplit_once('=').ok_or_else(bad)?;
    let (m, d) = date.trim().split_once('-').ok_or_else(bad)?;
    let month: u32 = m.parse().map_err(|_| bad())?;
    let day: u32 = d.parse().map_err(|_| bad())?;
    Ok(Holiday::new(Label::parse(name)?, month, day)?)
}

pub fn care(
    ctx: &mut Ctx,
    as_of: Option<&str>,
    days: u32,
    silent_days: u32,
    holidays: &[String],
) -> Result<()> {
    let store = ctx.open()?;
    let as_of = ctx.as_of(as_of)?;
    let config = CareConfig {
        holidays: holidays.iter().map(|h| holiday(h)).collect::<Result<_>>()?,
        no_contact_days: silent_days,
    };
    // The last contacts on a second thread while this one reads the rest (ADR 0070).
    let due = || -> Result<_> {
        let (records, last) = read_as_of_day_beside(
            &store,
            ctx.day(as_of),
            ctx.now,
            |r| r.care_records(as_of, days),
            |r| r.last_contacts(as_of),
        )?;
        Ok(records.due(&last, &config))
    };
    if ctx.out.json {
        return ctx.out.json(&due()?);
    }
    // The table names the customers it lists: their names are read on a second thread
    // meanwhile.
    let (items, mut names) = super::CustomerNames::all_while(&store, due)?;
    if items.is_empty() {
        return ctx.out.line(t!(
            "care.nobody",
            day = ctx.day(as_of),
            days = tn!("count.day", days)
        ));
    }
    let mut t = Table::new(&["DATE", ">CUSTOMER", "NAME", "WHY"]);
    for item in &items {
        let (id, name) = match item.customer {
            Some(id) => (id.to_string(), names.of(&store, id)?),
            None => ("-".into(), t!("care.everyone").to_owned()),
        };
        t.row(vec![
            item.date.to_string(),
            id,
            name,
            care_reason(&item.reason),
        ]);
    }
    ctx.out.table(&t)
}

/// Why the policy suggests a move, in the run's language (the core's own wording,
/// [`Suggestion::reason`], in English).
fn suggestion_reason(s: &Suggestion) -> String {
    if crate::i18n::lang() == crate::i18n::Lang::En {
        return s.reason();
    }
    let e = &s.assessment.evidence;
    match s.assessment.rule {
        PolicyRule::Overdue => match e.median_gap_days {
            Some(g) => t!(
                "reason.overdue_gap",
                days = tn!("count.day", e.days_since_last_purchase),
                threshold = e.overdue_after_days,
                gap = tn!("count.day", g)
            ),
            None => t!(
                "reason.overdue_once",
                days = tn!("count.day", e.days_since_last_purchase),
                threshold = e.overdue_after_days
            ),
        },
        PolicyRule::Silent => t!(
            "reason.silent",
            days = tn!("count.day", e.days_since_last_purchase)
        ),
        PolicyRule::PurchaseAfterChurn => t!(
            "reason.purchase_after_churn",
            days = tn!("count.day", e.days_since_last_purchase)
        ),
        PolicyRule::LoyalBehaviour => t!("reason.loyal_behaviour", purchase_days = e.purchase_days),
        PolicyRule::RepeatPurchase => t!("reason.repeat_purchase", purchase_days = e.purchase_days),
        PolicyRule::FirstPurchase => t!("reason.first_purchase").to_owned(),
    }
}

/// Why a customer needs care, in the run's language (the core's English text, in
/// English).
fn care_reason(reason: &CareReason) -> String {
    if crate::i18n::lang() == crate::i18n::Lang::En {
        return reason.to_string();
    }
    match reason {
        CareReason::Birthday { turning: Some(n) } => t!("care.birthday_turns", age = n),
        CareReason::Birthday { turning: None } => t!("care.birthday").to_owned(),
        CareReason::Holiday { name } => t!("care.holiday", name = name),
        CareReason::Task {
            task_kind,
            title,
            overdue_days,
            ..
        } if *overdue_days > 0 => t!(
            "care.task_overdue",
            kind = label(*task_kind),
            title = title,
            overdue = tn!("count.day", *overdue_days)
        ),
        CareReason::Task {
            task_kind, title, ..
        } => t!("care.task", kind = label(*task_kind), title = title),
        CareReason::NoContact {
            days,
            ever_contacted: true,
        } => t!("care.no_contact", days = tn!("count.day", *days)),
        CareReason::NoContact {
            days,
            ever_contacted: false,
        } => t!("care.never_contacted", days = tn!("count.day", *days)),
        CareReason::AtRisk => t!("care.at_risk").to_owned(),
    }
}

pub fn segment(ctx: &mut Ctx, cmd: SegmentCmd) -> Result<()> {
    let store = ctx.open()?;
    match cmd {
        SegmentCmd::Add { name, expr } => {
            let predicate = Predicate::parse(&expr)
                .with_context(|| format!("in the segment expression '{expr}'"))?;
            let segment = Segment {
                name: Label::parse(&name)?,
                predicate,
            };
            store.create_segment(segment.clone())?;
            if ctx.out.json {
                return ctx.out.json(&segment);
            }
            ctx.say(t!(
                "segment.saved",
                name = segment.name,
                condition = segment.predicate
            ))
        }
        SegmentCmd::List => {
            let segments = store.segments()?;
            // A segment an older version saved and this one cannot read is listed on
            // its own (with how to remove it) instead of failing the whole list.
            let unreadable = match (store.sqlite(), store.postgres()) {
                (Some(file), _) => file.unreadable_segments()?,
                (None, Some(db)) => db.unreadable_segments()?,
                (None, None) => Vec::new(),
            };
            for (name, why) in &unreadable {
                super::warn(&t!("segment.unreadable", name = name, why = why));
            }
            if ctx.out.json {
                return ctx.out.json(&segments);
            }
            let mut t = Table::new(&["NAME", "CONDITION"]);
            for s in &segments {
                t.row(vec![s.name.to_string(), s.predicate.to_string()]);
            }
            ctx.out.table(&t)
        }
        SegmentCmd::Show { name, as_of } => {
            let segment = store.segment(&Label::parse(&name)?)?;
            let as_of = ctx.as_of(as_of.as_of.as_deref())?;
            let filter = SegmentFilter {
                predicate: segment.predicate.clone(),
                as_of,
            };
            // The predicate over narrow rows (only the fields it names).
            let members = read_as_of_day(&store, ctx.day(as_of), ctx.now, |r| {
                r.segment_members(&filter)
            })?;
            if ctx.out.json {
                let ids: Vec<_> = members.iter().map(|c| c.id).collect();
                return ctx.out.json(
                    &serde_json::json!({ "segment": segment, "as_of": as_of, "customers": ids }),
                );
            }
            ctx.out
                .line(format!("{}: {}", segment.name, segment.predicate))?;
            // Names have no history: the table's come from one read of the books' name
            // column, not from the (past) view the members were chosen in.
            let ids: Vec<_> = members.iter().map(|c| c.id).collect();
            let mut names = CustomerNames::default();
            names.load(&store, &ids)?;
            let mut t = Table::new(&[">ID", "NAME", "STAGE"]);
            for c in &members {
                t.row(vec![
                    c.id.to_string(),
                    names.take(&store, c.id)?,
                    label(c.stage).to_owned(),
                ]);
            }
            ctx.out.table(&t)?;
            ctx.say(t!(
                "segment.members",
                customers = tn!("count.customer", members.len()),
                day = ctx.day(as_of)
            ))
        }
        SegmentCmd::Delete { name } => {
            store.delete_segment(&Label::parse(&name)?)?;
            if ctx.out.json {
                return ctx.out.json(&serde_json::json!({ "deleted": name }));
            }
            ctx.say(t!("segment.deleted", name = name))
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn holidays_parse_from_name_and_month_day() {
        let h = super::holiday("Christmas=12-25").unwrap();
        assert_eq!((h.name.as_str(), h.month(), h.day()), ("Christmas", 12, 25));
        assert!(super::holiday("Christmas").is_err());
        assert!(super::holiday("X=02-30").is_err());
    }
}
