//! `solocrm interaction …`: log, list, show, edit and void interactions.

use anyhow::Result;
use solocrm_core::{
    ActivityQuery, FreeText, Interaction, InteractionEdit, InteractionId, NewInteraction, Store,
};

use super::purchase::{show_void, void_mark, when};
use super::{Ctx, CustomerNames};
use crate::cli::InteractionCmd;
use crate::i18n::label;
use crate::output::{Table, opt};
use crate::parse;

/// Runs an `interaction` subcommand.
pub fn run(ctx: &mut Ctx, cmd: InteractionCmd) -> Result<()> {
    let store = ctx.open()?;
    match cmd {
        InteractionCmd::Log {
            customer,
            summary,
            channel,
            direction,
            sentiment,
            at,
        } => {
            let c = parse::customer(&store, &customer)?;
            let i = store.log_interaction(NewInteraction {
                customer: c.id(),
                channel,
                direction,
                at: ctx.at(at.at.as_deref())?,
                summary: FreeText::parse(&summary)?,
                sentiment,
            })?;
            if ctx.out.json {
                return ctx.out.json(&i);
            }
            ctx.say(t!("interaction.logged", id = i.id(), name = c.name()))
        }
        InteractionCmd::List {
            customer,
            channel,
            voided,
            page,
        } => {
            let mut query = match customer {
                Some(c) => ActivityQuery::customer(parse::customer(&store, &c)?.id()),
                None => ActivityQuery::ALL,
            };
            query.include_voided = voided.voided;
            let mut rows = store.interactions(&query)?;
            rows.retain(|i| channel.is_none_or(|ch| i.channel() == ch));
            let total = ctx.keep_newest(&mut rows, page);
            if ctx.out.json {
                return ctx.out.json(&rows);
            }
            rows.reverse();
            let mut names = CustomerNames::default();
            let mut head = vec![
                ">ID",
                ">CUSTOMER",
                "NAME",
                "DATE",
                "CHANNEL",
                "DIRECTION",
                "SENTIMENT",
            ];
            if voided.voided {
                head.push("VOIDED");
            }
            head.push("SUMMARY");
            let mut t = Table::new(&head);
            for i in &rows {
                let mut row = vec![
                    i.id().to_string(),
                    i.customer().to_string(),
                    names.of(&store, i.customer())?,
                    ctx.day(i.at()).to_string(),
                    i.channel().to_string(),
                    i.direction().to_string(),
                    opt(i.sentiment()),
                ];
                if voided.voided {
                    row.push(opt(i.void().map(|v| ctx.day(v.at))));
                }
                row.push(i.summary().to_string());
                t.row(row);
            }
            ctx.out.table(&t)?;
            ctx.more(rows.len(), total, "interactions")
        }
        InteractionCmd::Show { id } => {
            let i = store.read(|r| r.interaction(InteractionId::new(id)))?;
            if ctx.out.json {
                return ctx.out.json(&i);
            }
            show(ctx, &store, &i)
        }
        InteractionCmd::Edit {
            id,
            summary,
            channel,
            direction,
            sentiment,
            clear_sentiment,
            at,
        } => {
            let edit = InteractionEdit {
                summary: summary.as_deref().map(FreeText::parse).transpose()?,
                channel,
                direction,
                sentiment: if clear_sentiment {
                    Some(None)
                } else {
                    sentiment.map(Some)
                },
                at: at.as_deref().map(|a| ctx.at(Some(a))).transpose()?,
            };
            let i = store.write(|w| w.edit_interaction(InteractionId::new(id), &edit))?;
            if ctx.out.json {
                return ctx.out.json(&i);
            }
            ctx.say(t!("interaction.updated", id = i.id()))
        }
        InteractionCmd::Void { id, void } => {
            let mark = void_mark(ctx, &void)?;
            let i = store.write(|w| w.void_interaction(InteractionId::new(id), mark.clone()))?;
            if ctx.out.json {
                return ctx.out.json(&i);
            }
            ctx.say(t!("interaction.voided", id = i.id()))
        }
    }
}

fn show(ctx: &mut Ctx, store: &crate::books::Books, i: &Interaction) -> Result<()> {
    let name = CustomerNames::default().of(store, i.customer())?;
    ctx.out.heading(t!("interaction.heading", id = i.id()))?;
    let at = when(ctx, i.at());
    super::fields(
        ctx,
        11,
        vec![
            (
                t!("field.customer"),
                t!("field.id_name", id = i.customer(), name = name),
            ),
            (t!("field.at"), at),
            (t!("field.channel"), label(i.channel()).to_owned()),
            (t!("field.direction"), label(i.direction()).to_owned()),
            (t!("field.sentiment"), opt(i.sentiment().map(label))),
            (t!("field.summary"), i.summary().to_string()),
        ],
    )?;
    show_void(ctx, i.void())
}
