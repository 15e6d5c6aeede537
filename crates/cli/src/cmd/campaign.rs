//! `solocrm campaign ...`: marketing campaigns (a channel, a period of days, a
//! budget), what is attributed to them, and what they cost and won (issue 18).
//! Costs are put on a campaign with `solocrm cost add … --campaign`, customers and
//! deals with `--campaign` on their `add` and `edit`.

use anyhow::{Result, bail};
use clap::Subcommand;
use solocrm_core::campaign::{AttributionSubject, Campaign, CampaignEdit, NewCampaign};
use solocrm_core::metrics::{CampaignFigures, CampaignSection, Period};
use solocrm_core::{CampaignId, Crm, FreeText, Label, Store as _, Tag};

use super::{BadValue, Ctx};
use crate::cli::{Group, Range};
use crate::output::{Out, Table, opt};

/// `solocrm campaign ...`
#[derive(Debug, Subcommand)]
pub enum CampaignCmd {
    /// Add a campaign: its name (unique, any case), channel and first day.
    Add {
        /// The name, e.g. 双十一直播.
        name: String,
        /// The acquisition channel it runs on (e.g. douyin, wechat, google-ads),
        /// spelled like customers' and costs' --channel.
        #[arg(long)]
        channel: String,
        /// Its first day (default: today).
        #[arg(long, value_name = "DATE")]
        start: Option<String>,
        /// Its last day, included.
        #[arg(long, value_name = "DATE")]
        end: Option<String>,
        /// The planned spend, in the books' currency (a plan; the cost is what is
        /// recorded with `cost add --campaign`).
        #[arg(long, allow_negative_numbers = true)]
        budget: Option<String>,
        /// A note.
        #[arg(long)]
        note: Option<String>,
    },
    /// List campaigns by id.
    List,
    /// Show one campaign, what is attributed to it, and its figures over its days.
    Show {
        /// The campaign: its name, or its id (`#ID` when a name is all digits).
        campaign: String,
    },
    /// Change a campaign (only the given fields).
    #[command(group(clap::ArgGroup::new("change").required(true).multiple(true)
        .args(["name", "channel", "start", "end", "budget", "note", "clear"])))]
    Edit {
        /// The campaign: its id or name.
        campaign: String,
        /// A new name.
        #[arg(long)]
        name: Option<String>,
        /// A new channel.
        #[arg(long)]
        channel: Option<String>,
        /// A new first day.
        #[arg(long, value_name = "DATE")]
        start: Option<String>,
        /// A new last day.
        #[arg(long, value_name = "DATE")]
        end: Option<String>,
        /// A new budget.
        #[arg(long, allow_negative_numbers = true)]
        budget: Option<String>,
        /// A new note.
        #[arg(long)]
        note: Option<String>,
        /// Clear a field: end, budget or note (repeatable).
        #[arg(long, value_name = "FIELD", value_parser = ["end", "budget", "note"])]
        clear: Vec<String>,
    },
    /// End a campaign: its last day becomes --on (default: today).
    End {
        /// The campaign: its id or name.
        campaign: String,
        /// Its last day.
        #[arg(long, value_name = "DATE")]
        on: Option<String>,
    },
    /// Cost, customers acquired, CAC, revenue, won deals and ROI per campaign and per
    /// channel, over --period (a month 2026-11, quarter 2026-Q4 or year 2026) or
    /// --from/--to (default: the year to today).
    Stats {
        /// A calendar month, quarter or year.
        #[arg(long, conflicts_with_all = ["from", "to", "as_of"])]
        period: Option<String>,
        #[command(flatten)]
        range: Range,
        /// Only this segment's or stage's customers (decided at the end of the
        /// period): their acquisitions, revenue and deals; a group has no costs, so
        /// no cost, CAC or ROI (as `report --segment`).
        #[command(flatten)]
        group: Group,
    },
}

/// The campaign `input` names: its name (any case), else its id. A name wins over an
/// id, so a campaign named `618` is reached by its name even when campaign 618 exists
/// (that one by `#618`). An unknown one is a usage error that names it.
pub fn resolve(store: &Crm, input: &str) -> Result<Campaign> {
    let all = store.campaigns()?;
    let key = solocrm_core::campaign::name_key(input);
    let by_name = all.iter().find(|c| c.name_key() == key);
    let by_id = || {
        let digits = input.trim();
        digits
            .strip_prefix('#')
            .unwrap_or(digits)
            .parse::<u64>()
            .ok()
            .and_then(|id| all.iter().find(|c| c.id() == CampaignId::new(id)))
    };
    match by_name.or_else(by_id) {
        Some(c) => Ok(c.clone()),
        None => Err(BadValue(t!("campaign.unknown", name = input.trim())).into()),
    }
}

pub fn run(ctx: &mut Ctx, cmd: CampaignCmd) -> Result<()> {
    match cmd {
        CampaignCmd::Add {
            name,
            channel,
            start,
            end,
            budget,
            note,
        } => {
            let store = ctx.open()?;
            let new = NewCampaign {
                name: Label::parse(&name)?,
                channel: Tag::parse(&channel)?,
                start: match start {
                    Some(d) => crate::parse::date(&d)?,
                    None => ctx.today(),
                },
                end: end.as_deref().map(crate::parse::date).transpose()?,
                budget: budget
                    .as_deref()
                    .map(|b| crate::parse::money(b, &store))
                    .transpose()?,
                note: note.as_deref().map(FreeText::parse).transpose()?,
            };
            let c = store.add_campaign(new)?;
            if ctx.out.json {
                return ctx.out.json(&c);
            }
            ctx.say(t!(
                "campaign.added",
                id = c.id(),
                name = c.name(),
                channel = c.channel()
            ))
        }
        CampaignCmd::List => {
            let store = ctx.open()?;
            let all = store.campaigns()?;
            if ctx.out.json {
                return ctx.out.json(&all);
            }
            if all.is_empty() {
                return ctx.say(t!("campaign.none"));
            }
            let today = ctx.today();
            let mut t = Table::new(&[
                ">ID", "NAME", "CHANNEL", "START", "END", ">BUDGET", "STATUS",
            ]);
            for c in &all {
                t.row(vec![
                    c.id().to_string(),
                    c.name().to_string(),
                    c.channel().to_string(),
                    c.start().to_string(),
                    opt(c.end().as_ref()),
                    opt(c.budget().as_ref()),
                    status(c, today),
                ]);
            }
            ctx.out.table(&t)
        }
        CampaignCmd::Show { campaign } => {
            let store = ctx.open()?;
            let c = resolve(&store, &campaign)?;
            let last = c.end().unwrap_or_else(|| ctx.today()).max(c.start());
            let period = Period::new(c.start(), last + chrono::Days::new(1))?;
            let stats = store.read(|r| Ok(r.campaign_stats(period)))??;
            let mine = stats.campaigns.iter().find(|s| s.campaign == c.id());
            let attributed = store.attributions()?;
            let count = |f: fn(&AttributionSubject) -> bool| {
                attributed
                    .iter()
                    .filter(|a| a.campaign == c.id() && f(&a.subject))
                    .count()
            };
            let customers = count(|s| matches!(s, AttributionSubject::Customer(_)));
            let deals = count(|s| matches!(s, AttributionSubject::Deal(_)));
            let costs = count(|s| matches!(s, AttributionSubject::Cost(_)));
            if ctx.out.json {
                return ctx.out.json(&serde_json::json!({
                    "campaign": c,
                    "attributed": { "customers": customers, "deals": deals, "costs": costs },
                    "stats": mine,
                }));
            }
            let mut rows = vec![
                (t!("field.name"), c.name().to_string()),
                (t!("field.channel"), c.channel().to_string()),
                (
                    t!("campaign.field_days"),
                    format!("{} – {}", c.start(), opt(c.end().as_ref())),
                ),
                (t!("field.status"), status(&c, ctx.today())),
                (t!("campaign.field_budget"), opt(c.budget().as_ref())),
                (
                    t!("campaign.field_attributed"),
                    t!(
                        "campaign.attributed",
                        customers = customers,
                        deals = deals,
                        costs = costs
                    ),
                ),
            ];
            if let Some(n) = c.note() {
                rows.push((t!("field.notes"), n.to_string()));
            }
            if let Some(s) = mine {
                rows.extend(figure_fields(&s.figures));
            }
            super::fields(ctx, 12, rows)
        }
        CampaignCmd::Edit {
            campaign,
            name,
            channel,
            start,
            end,
            budget,
            note,
            clear,
        } => {
            let store = ctx.open()?;
            let c = resolve(&store, &campaign)?;
            let cleared = |f: &str| clear.iter().any(|x| x == f);
            let mut edit = CampaignEdit {
                name: name.as_deref().map(Label::parse).transpose()?,
                channel: channel.as_deref().map(Tag::parse).transpose()?,
                start: start.as_deref().map(crate::parse::date).transpose()?,
                end: end
                    .as_deref()
                    .map(crate::parse::date)
                    .transpose()?
                    .map(Some),
                budget: budget
                    .as_deref()
                    .map(|b| crate::parse::money(b, &store))
                    .transpose()?
                    .map(Some),
                note: note.as_deref().map(FreeText::parse).transpose()?.map(Some),
            };
            for (field, set) in [
                ("end", edit.end.is_some()),
                ("budget", edit.budget.is_some()),
                ("note", edit.note.is_some()),
            ] {
                if set && cleared(field) {
                    bail!(BadValue(t!("campaign.set_and_clear", field = field)));
                }
            }
            if cleared("end") {
                edit.end = Some(None);
            }
            if cleared("budget") {
                edit.budget = Some(None);
            }
            if cleared("note") {
                edit.note = Some(None);
            }
            let c = store.edit_campaign(c.id(), &edit)?;
            if ctx.out.json {
                return ctx.out.json(&c);
            }
            ctx.say(t!("campaign.edited", id = c.id(), name = c.name()))
        }
        CampaignCmd::End { campaign, on } => {
            let store = ctx.open()?;
            let c = resolve(&store, &campaign)?;
            let day = match on {
                Some(d) => crate::parse::date(&d)?,
                None => ctx.today(),
            };
            let c = store.edit_campaign(
                c.id(),
                &CampaignEdit {
                    end: Some(Some(day)),
                    ..CampaignEdit::default()
                },
            )?;
            if ctx.out.json {
                return ctx.out.json(&c);
            }
            ctx.say(t!("campaign.ended", name = c.name(), day = day))
        }
        CampaignCmd::Stats {
            period,
            range,
            group,
        } => {
            let period = match period {
                Some(p) => {
                    let p = solocrm_core::target::TargetPeriod::parse(&p)
                        .map_err(|e| BadValue(e.to_string()))?;
                    Period::new(p.start(), p.end())?.in_zone(ctx.zone())
                }
                None => {
                    // Opening first sets the books' zone the days are read in.
                    drop(ctx.open()?);
                    super::analytics::period(ctx, &range)?
                }
            };
            let store = ctx.open()?;
            let group = super::analytics::chosen(&group);
            let at = super::analytics::group_instant(ctx, period.last_day());
            let (stats, members) = store
                .read(|r| {
                    // The group is decided as the books stood at the end of the period
                    // (as `report` and `pipeline` decide it), not by today's stages and
                    // tags; the figures are the books' as they are.
                    let cutoff = r.time_zone()?.end_of(period.last_day());
                    let decided = if group.is_some() && cutoff <= ctx.now {
                        r.as_of(cutoff, |v| {
                            super::analytics::members_in(&v, group.as_ref(), at)
                        })
                    } else {
                        super::analytics::members_in(&r, group.as_ref(), at)
                    };
                    Ok(match decided {
                        Err(e) => Err(e),
                        Ok(None) => Ok((r.campaign_stats(period), None)),
                        Ok(Some(m)) => {
                            let keep = |c| m.contains(c);
                            Ok((r.campaign_stats_of(period, Some(&keep)), Some(m)))
                        }
                    })
                })?
                .map_err(super::analytics::group_failed)?;
            let stats = stats?;
            if ctx.out.json {
                let mut doc = serde_json::json!({
                    "period": { "from": period.start(), "to": period.last_day() },
                    "campaigns": stats.campaigns,
                    "channels": stats.channels,
                });
                if let (Some(g), Some(m), Some(map)) = (&group, &members, doc.as_object_mut()) {
                    map.insert("group".into(), serde_json::to_value(g)?);
                    map.insert("members".into(), m.len().into());
                }
                return ctx.out.json(&doc);
            }
            if let (Some(g), Some(m)) = (&group, &members) {
                ctx.out.line(super::analytics::group_line(g, m.len()))?;
            }
            if stats.campaigns.is_empty() {
                return ctx.say(t!("campaign.none"));
            }
            ctx.out.heading(t!(
                "campaign.stats_heading",
                from = period.start(),
                to = period.last_day()
            ))?;
            tables(&mut ctx.out, &stats)
        }
    }
}

/// `running`, `ended` or `upcoming` on `today`.
fn status(c: &Campaign, today: chrono::NaiveDate) -> String {
    if c.has_ended(today) {
        t!("campaign.status_ended")
    } else if c.start() > today {
        t!("campaign.status_upcoming")
    } else {
        t!("campaign.status_running")
    }
    .to_owned()
}

/// `-` for a figure without a value.
fn or_dash<T: ToString>(v: Option<T>) -> String {
    v.map_or_else(|| "-".to_owned(), |v| v.to_string())
}

/// An ROI as a percentage with one decimal.
fn roi(f: &CampaignFigures) -> String {
    or_dash(
        f.roi
            .map(|r| format!("{} %", (r * rust_decimal::Decimal::ONE_HUNDRED).round_dp(1))),
    )
}

/// The figures as `show` lines.
fn figure_fields(f: &CampaignFigures) -> Vec<(&'static str, String)> {
    vec![
        (t!("field.cost"), f.cost.to_string()),
        (
            t!("campaign.field_acquired"),
            f.customers_acquired.to_string(),
        ),
        (t!("col.CAC"), or_dash(f.cac)),
        (t!("campaign.field_revenue"), f.revenue.to_string()),
        (
            t!("campaign.field_won"),
            format!("{} ({})", f.deals_won, f.won_value),
        ),
        (t!("col.ROI"), roi(f)),
    ]
}

/// The per-campaign and per-channel tables of `stats` and `report`.
pub fn tables(out: &mut Out, s: &CampaignSection) -> Result<()> {
    let mut t = Table::new(&[
        ">ID",
        "CAMPAIGN",
        "CHANNEL",
        ">BUDGET",
        ">COST",
        ">ACQUIRED",
        ">CAC",
        ">REVENUE",
        ">WON",
        ">ROI",
    ]);
    for c in &s.campaigns {
        let f = &c.figures;
        t.row(vec![
            c.campaign.to_string(),
            c.name.clone(),
            c.channel.clone(),
            or_dash(c.budget),
            f.cost.to_string(),
            f.customers_acquired.to_string(),
            or_dash(f.cac),
            f.revenue.to_string(),
            format!("{} ({})", f.deals_won, f.won_value),
            roi(f),
        ]);
    }
    out.table(&t)?;
    out.line("")?;
    let mut t = Table::new(&[
        "CHANNEL",
        ">CAMPAIGNS",
        ">COST",
        ">ACQUIRED",
        ">CAC",
        ">REVENUE",
        ">WON",
        ">ROI",
    ]);
    for c in &s.channels {
        let f = &c.figures;
        t.row(vec![
            c.channel.clone(),
            c.campaigns.to_string(),
            f.cost.to_string(),
            f.customers_acquired.to_string(),
            or_dash(f.cac),
            f.revenue.to_string(),
            format!("{} ({})", f.deals_won, f.won_value),
            roi(f),
        ]);
    }
    out.table(&t)
}

/// The campaign rows of `report`, when the books have campaigns.
pub fn report_tables(out: &mut Out, r: &solocrm_core::metrics::MetricsReport) -> Result<()> {
    let Some(s) = r.campaigns.as_ref().filter(|s| !s.campaigns.is_empty()) else {
        return Ok(());
    };
    out.line("")?;
    tables(out, s)
}
