//! `solocrm stage ...`, `solocrm care`, `solocrm segment ...`

use anyhow::{Context as _, Result, anyhow, bail};
use solocrm_app::history::read_as_of_day;
use solocrm_core::care::{CareConfig, Holiday};
use solocrm_core::{CustomerQuery, Label, Predicate, Segment, SegmentFilter, StageReason, Store};

use super::Ctx;
use crate::books::File as _;
use crate::cli::{SegmentCmd, StageCmd};
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
            ctx.say(format!("{}: {} -> {}", c.name(), change.from, change.to))
        }
        StageCmd::Reassess { as_of, apply } => {
            let as_of = ctx.as_of(as_of.as_of.as_deref())?;
            let policy = store.lifecycle().cloned().unwrap_or_default();
            let suggestions = store.read(|r| r.reassess_all(&policy, as_of))?.suggestions;
            // One customer whose move fails (a stage history dated after `as_of`, a
            // customer erased meanwhile) does not hold back the others: each customer's
            // move is its own transaction (all its steps or none), and the failures are
            // listed and make the exit code 1.
            let mut failed: Vec<Option<String>> = vec![None; suggestions.len()];
            if apply {
                let mut progress = ctx.progress("applying", suggestions.len() as u64);
                for (i, (id, s)) in suggestions.iter().enumerate() {
                    if let Err(e) = store.write(|w| w.apply_suggestion(*id, s, &policy, as_of)) {
                        failed[i] = Some(e.to_string());
                    }
                    if let Some(p) = &mut progress {
                        p.set(i as u64 + 1);
                    }
                }
                if let Some(p) = progress {
                    p.finish();
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
                return ctx.out.line("everyone is in the stage the policy expects");
            } else {
                let mut t = Table::new(&[">CUSTOMER", "NAME", "FROM", "TO", "WHY"]);
                for ((id, s), error) in suggestions.iter().zip(&failed) {
                    let why = match error {
                        Some(e) => format!("NOT MOVED: {e}"),
                        None => s.reason(),
                    };
                    t.row(vec![
                        id.to_string(),
                        store.customer(*id)?.name().to_string(),
                        s.from.to_string(),
                        s.assessment.target.to_string(),
                        why,
                    ]);
                }
                ctx.out.table(&t)?;
                if apply {
                    let moved = suggestions.len() - failures;
                    ctx.say(format!(
                        "{} moved",
                        super::plural(moved, "customer", "customers")
                    ))?;
                } else {
                    ctx.say(format!(
                        "{} would move (run with --apply to record)",
                        super::plural(suggestions.len(), "customer", "customers")
                    ))?;
                }
            }
            if failures > 0 {
                bail!(
                    "{failures} of {} could not be recorded (marked NOT MOVED); the others were",
                    super::plural(suggestions.len(), "move", "moves")
                );
            }
            Ok(())
        }
    }
}

fn holiday(spec: &str) -> Result<Holiday> {
    let bad = || anyhow!("holiday '{spec}' is not NAME=MM-DD, e.g. Christmas=12-25");
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
    let items = read_as_of_day(&store, ctx.day(as_of), ctx.now, |r| {
        r.care_due(as_of, days, &config)
    })?;
    if ctx.out.json {
        return ctx.out.json(&items);
    }
    if items.is_empty() {
        return ctx.out.line(format!(
            "nobody needs care between {} and the next {}",
            ctx.day(as_of),
            super::plural(days, "day", "days")
        ));
    }
    let mut t = Table::new(&["DATE", ">CUSTOMER", "NAME", "WHY"]);
    for item in &items {
        let (id, name) = match item.customer {
            Some(id) => (id.to_string(), store.customer(id)?.name().to_string()),
            None => ("-".into(), "everyone".into()),
        };
        t.row(vec![
            item.date.to_string(),
            id,
            name,
            item.reason.to_string(),
        ]);
    }
    ctx.out.table(&t)
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
            ctx.say(format!(
                "saved segment {}: {}",
                segment.name, segment.predicate
            ))
        }
        SegmentCmd::List => {
            let segments = store.segments()?;
            // A segment an older version saved and this one cannot read is listed on
            // its own (with how to remove it) instead of failing the whole list.
            let unreadable = store.file()?.unreadable_segments()?;
            for (name, why) in &unreadable {
                super::warn(&format!("segment '{name}' cannot be read: {why}"));
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
            let members = read_as_of_day(&store, ctx.day(as_of), ctx.now, |r| {
                r.all_matching(&CustomerQuery {
                    segment: Some(SegmentFilter {
                        predicate: segment.predicate.clone(),
                        as_of,
                    }),
                    ..CustomerQuery::default()
                })
            })?;
            if ctx.out.json {
                let ids: Vec<_> = members.iter().map(|c| c.id()).collect();
                return ctx.out.json(
                    &serde_json::json!({ "segment": segment, "as_of": as_of, "customers": ids }),
                );
            }
            ctx.out
                .line(format!("{}: {}", segment.name, segment.predicate))?;
            let mut t = Table::new(&[">ID", "NAME", "STAGE"]);
            for c in &members {
                t.row(vec![
                    c.id().to_string(),
                    c.name().to_string(),
                    c.stage().to_string(),
                ]);
            }
            ctx.out.table(&t)?;
            ctx.say(format!(
                "{} as of {}",
                super::plural(members.len(), "customer", "customers"),
                ctx.day(as_of)
            ))
        }
        SegmentCmd::Delete { name } => {
            store.delete_segment(&Label::parse(&name)?)?;
            if ctx.out.json {
                return ctx.out.json(&serde_json::json!({ "deleted": name }));
            }
            ctx.say(format!("deleted segment {name}"))
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
