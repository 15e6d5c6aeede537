//! `solocrm target ...`: sales targets per calendar month, quarter or year, and the
//! progress against them (issue 18).

use anyhow::Result;
use rust_decimal::Decimal;
use solocrm_core::Store as _;
use solocrm_core::target::{Target, TargetMetric, TargetProgress};

use super::{BadValue, Ctx};
use crate::cli::TargetCmd;
use crate::output::{Out, Table};

pub fn run(ctx: &mut Ctx, cmd: TargetCmd) -> Result<()> {
    match cmd {
        TargetCmd::Set {
            metric,
            period,
            value,
        } => {
            let value = target_value(metric, &value)?;
            let target = Target::new(metric, period, value).map_err(|e| BadValue(e.to_string()))?;
            let store = ctx.open()?;
            let t = store.set_target(target)?;
            if ctx.out.json {
                return ctx.out.json(&t);
            }
            ctx.say(t!(
                "target.set",
                metric = crate::i18n::label(t.metric()),
                period = t.period(),
                value = shown(t.metric(), t.value())
            ))
        }
        TargetCmd::List => {
            let store = ctx.open()?;
            let targets = store.targets()?;
            if ctx.out.json {
                return ctx.out.json(&targets);
            }
            if targets.is_empty() {
                return ctx.say(t!("target.none"));
            }
            let mut t = Table::new(&["PERIOD", "METRIC", ">TARGET"]);
            for x in &targets {
                t.row(vec![
                    x.period().to_string(),
                    crate::i18n::label(x.metric()).to_owned(),
                    shown(x.metric(), x.value()),
                ]);
            }
            ctx.out.table(&t)
        }
        TargetCmd::Remove { metric, period } => {
            let store = ctx.open()?;
            let t = store.remove_target(metric, period)?;
            if ctx.out.json {
                return ctx.out.json(&t);
            }
            ctx.say(t!(
                "target.removed",
                metric = crate::i18n::label(t.metric()),
                period = t.period()
            ))
        }
        TargetCmd::Progress { period, as_of } => {
            let day = ctx.as_of_day(as_of.as_of.as_deref())?;
            let store = ctx.open()?;
            let all = store.targets()?;
            let chosen = match period {
                Some(p) => solocrm_app::targets::overlapping(&all, p),
                None => all
                    .into_iter()
                    .filter(|t| t.period().start() <= day && day < t.period().end())
                    .collect(),
            };
            let progress = solocrm_app::targets::progress(
                &store,
                &chosen,
                day,
                &super::analytics::report_config(),
                ctx.now,
            )
            .map_err(super::analytics::group_failed)?;
            if ctx.out.json {
                return ctx.out.json(&progress);
            }
            if progress.is_empty() {
                return ctx.say(t!("target.none_for", day = day));
            }
            ctx.out.heading(t!("target.heading", day = day))?;
            progress_table(&mut ctx.out, &progress)?;
            ctx.say(t!("target.footer"))
        }
    }
}

/// A target's value as typed ([`solocrm_app::targets::parse_value`]); a value that
/// is no number is a usage error.
fn target_value(metric: TargetMetric, input: &str) -> Result<Decimal> {
    solocrm_app::targets::parse_value(metric, input).ok_or_else(|| {
        BadValue(t!(
            "target.bad_value",
            value = input,
            metric = metric.as_str()
        ))
        .into()
    })
}

/// A value of `metric` for a table: a percentage for the retention rate.
fn shown(metric: TargetMetric, v: Decimal) -> String {
    solocrm_app::targets::shown_value(metric, v)
}

/// A share as a percentage, one decimal; `-` without one.
fn pct(v: Option<Decimal>) -> String {
    v.map_or_else(
        || "-".to_owned(),
        |v| format!("{:.1}%", v * Decimal::ONE_HUNDRED),
    )
}

/// The progress table `target progress` and `report` print.
pub(super) fn progress_table(out: &mut Out, progress: &[TargetProgress]) -> Result<()> {
    let mut t = Table::new(&[
        "PERIOD",
        "METRIC",
        ">TARGET",
        ">ACTUAL",
        ">SHARE",
        ">FORECAST",
        ">OF TARGET",
        ">DAYS",
    ]);
    for p in progress {
        let m = p.target.metric();
        t.row(vec![
            p.target.period().to_string(),
            crate::i18n::label(m).to_owned(),
            shown(m, p.target.value()),
            p.actual.map_or_else(|| "-".to_owned(), |a| shown(m, a)),
            pct(p.share),
            p.forecast.map_or_else(|| "-".to_owned(), |f| shown(m, f)),
            pct(p.forecast_share),
            format!("{}/{}", p.elapsed_days, p.total_days),
        ]);
    }
    out.table(&t)
}

/// The targets of a report's days `[from, to)`, as of its last day, for `report`.
pub(super) fn of_report(
    store: &solocrm_core::Crm,
    period: solocrm_core::Period,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<TargetProgress>> {
    let all = store.targets()?;
    let chosen = solocrm_app::targets::overlapping_days(&all, period.start(), period.end());
    if chosen.is_empty() {
        return Ok(Vec::new());
    }
    solocrm_app::targets::progress(
        store,
        &chosen,
        period.last_day(),
        &super::analytics::report_config(),
        now,
    )
    .map_err(super::analytics::group_failed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_retention_target_is_typed_as_a_percentage_or_a_fraction() {
        let r = TargetMetric::RetentionRate;
        assert_eq!(target_value(r, "85%").unwrap(), Decimal::new(85, 2));
        assert_eq!(target_value(r, "0.85").unwrap(), Decimal::new(85, 2));
        assert!(target_value(r, "八成").is_err());
        assert!(target_value(TargetMetric::Revenue, "1,000").is_err());
        assert_eq!(shown(r, Decimal::new(85, 2)), "85%");
    }
}
