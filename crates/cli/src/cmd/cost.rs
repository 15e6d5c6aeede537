//! `solocrm cost ...`: what the business spends, for ROI and CAC in the report.

use anyhow::{Result, bail};
use solocrm_core::{CostId, FreeText, Label, NewCost, Store as _, Tag};

use super::Ctx;
use crate::cli::CostCmd;
use crate::output::{Table, opt};
use crate::parse;

pub fn run(ctx: &mut Ctx, cmd: CostCmd) -> Result<()> {
    let store = ctx.open()?;
    match cmd {
        CostCmd::Add {
            amount,
            category,
            channel,
            note,
            campaign,
            at,
        } => {
            let campaign = campaign
                .as_deref()
                .map(|c| super::campaign::resolve(&store, c))
                .transpose()?;
            let new = NewCost {
                at: ctx.at(at.at.as_deref())?,
                amount: parse::money(&amount, &store)?,
                category,
                // A campaign's cost is spent on its channel unless told otherwise, so
                // the report's spend by channel and its campaign channels agree.
                channel: match (channel.as_deref(), &campaign) {
                    (Some(c), _) => Some(Tag::parse(c)?),
                    (None, Some(k)) => Some(k.channel().clone()),
                    (None, None) => None,
                },
                note: note.as_deref().map(FreeText::parse).transpose()?,
            };
            let c = match &campaign {
                Some(k) => store.record_campaign_cost(new, k.id())?,
                None => store.record_cost(new)?,
            };
            if ctx.out.json {
                return ctx.out.json(&c);
            }
            let category = crate::i18n::label(c.category());
            match c.channel() {
                Some(channel) => ctx.say(t!(
                    "cost.recorded_channel",
                    id = c.id(),
                    amount = c.amount(),
                    category = category,
                    channel = channel
                )),
                None => ctx.say(t!(
                    "cost.recorded",
                    id = c.id(),
                    amount = c.amount(),
                    category = category
                )),
            }?;
            match campaign {
                Some(k) => ctx.say(t!("campaign.attributed_to", name = k.name())),
                None => Ok(()),
            }
        }
        CostCmd::List { from, to, page } => {
            let from = from.as_deref().map(parse::date).transpose()?;
            let to = to.as_deref().map(parse::date).transpose()?;
            if let (Some(f), Some(t)) = (from, to)
                && f > t
            {
                bail!(t!("cost.from_after_to", from = f, to = t));
            }
            let mut costs = store.costs()?;
            costs.retain(|c| {
                let day = ctx.day(c.at());
                from.is_none_or(|f| day >= f) && to.is_none_or(|t| day <= t)
            });
            let total = ctx.keep_newest(&mut costs, page);
            if ctx.out.json {
                return ctx.out.json(&costs);
            }
            costs.reverse();
            let mut t = Table::new(&[
                ">ID", "DATE", ">AMOUNT", "CATEGORY", "CHANNEL", "NOTE", "VOID",
            ]);
            for c in &costs {
                t.row(vec![
                    c.id().to_string(),
                    ctx.day(c.at()).to_string(),
                    c.amount().to_string(),
                    c.category().to_string(),
                    opt(c.channel()),
                    opt(c.note()),
                    c.voided()
                        .map(|v| format!("{}: {}", ctx.day(v.at), v.reason))
                        .unwrap_or_default(),
                ]);
            }
            ctx.out.table(&t)?;
            ctx.more(costs.len(), total, "costs")
        }
        CostCmd::Void { id, reason, at } => {
            let reason = Label::parse(&reason)?;
            let c = store.void_cost(CostId::new(id), ctx.at(at.at.as_deref())?, reason)?;
            if ctx.out.json {
                return ctx.out.json(&c);
            }
            ctx.say(t!("cost.voided", id = c.id(), amount = c.amount()))
        }
    }
}
