//! `solocrm holiday ...`: the holiday calendar kept with the books.

use anyhow::{Result, bail};
use solocrm_app::holidays;
use solocrm_core::holiday::{FIRST_YEAR, HolidayCalendar, HolidayDef, Preset};
use solocrm_core::{Label, Store, Tag};

use super::Ctx;
use crate::cli::HolidayCmd;
use crate::output::Table;

pub fn run(ctx: &mut Ctx, cmd: HolidayCmd) -> Result<()> {
    match cmd {
        HolidayCmd::List { year, calendars } => list(ctx, year, &calendars),
        HolidayCmd::Add {
            name,
            key,
            date,
            lunar,
            leap,
        } => {
            let name = Label::parse(&name)?;
            let key = holidays::own_key(&name, key.as_deref())?;
            let rule = match (date, lunar) {
                (Some(d), None) => holidays::fixed_rule(&d, "--date MM-DD")?,
                (None, Some(l)) => holidays::lunar_rule(&l, leap, "--lunar M-D")?,
                _ => bail!("give either --date MM-DD or --lunar M-D"),
            };
            let store = ctx.open()?;
            let cal = store.put_holiday(HolidayDef {
                key: key.clone(),
                name: name.clone(),
                rule,
            })?;
            if ctx.out.json {
                return ctx.out.json(&cal);
            }
            ctx.say(t!("holiday.added", name = name, key = key))
        }
        HolidayCmd::Remove { key } => {
            let key = Tag::parse(&key)?;
            let store = ctx.open()?;
            let cal = store.remove_holiday(&key)?;
            if ctx.out.json {
                return ctx.out.json(&cal);
            }
            ctx.say(t!("holiday.removed", key = key))
        }
        HolidayCmd::Use { presets } => {
            let presets = holidays::parse_presets(&presets)?;
            let store = ctx.open()?;
            let cal = store.set_holiday_presets(&presets)?;
            if ctx.out.json {
                return ctx.out.json(&cal);
            }
            if cal.presets.is_empty() {
                return ctx.say(t!("holiday.no_presets"));
            }
            let names: Vec<&str> = cal.presets.iter().map(|p| p.key()).collect();
            ctx.say(t!("holiday.presets", presets = names.join(", ")))
        }
    }
}

/// `holiday list`: the books' calendar, or only the presets named by --calendar.
fn list(ctx: &mut Ctx, year: Option<i32>, calendars: &[String]) -> Result<()> {
    let presets = calendars
        .iter()
        .map(|c| Preset::parse(c))
        .collect::<Result<Vec<_>, _>>()?;
    let (calendar, year) = if presets.is_empty() || year.is_none() {
        let store = ctx.open()?;
        let year = year.unwrap_or_else(|| chrono::Datelike::year(&ctx.today()));
        let calendar = if presets.is_empty() {
            store.holiday_calendar()?
        } else {
            HolidayCalendar {
                presets,
                own: Vec::new(),
            }
        };
        (calendar, year)
    } else {
        (
            HolidayCalendar {
                presets,
                own: Vec::new(),
            },
            year.unwrap_or(FIRST_YEAR),
        )
    };
    if !holidays::year_in_range(year) {
        bail!("{}", t!("holiday.bad_year", year = year));
    }
    let days = calendar.occurrences(year);
    if ctx.out.json {
        return ctx.out.json(&days);
    }
    if days.is_empty() {
        return ctx.say(t!("holiday.none", year = year));
    }
    let mut t = Table::new(&["DATE", "HOLIDAY", "KEY"]);
    for o in &days {
        t.row(vec![
            o.date.to_string(),
            o.name.to_string(),
            o.key.to_string(),
        ]);
    }
    ctx.out.table(&t)
}
