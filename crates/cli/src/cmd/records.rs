//! Commands that record and list activity: interactions, purchases and surveys.

use anyhow::{Result, anyhow};
use solocrm_core::{
    ActivityQuery, DealId, ExternalRef, FreeText, NewInteraction, NewPurchase, NewSurveyResponse,
    Store, SurveyKind, SurveyScore,
};

use super::{Ctx, CustomerNames};
use crate::cli::{InteractionCmd, PurchaseCmd, SurveyCmd};
use crate::output::{Table, opt};
use crate::parse;

pub fn interaction(ctx: &mut Ctx, cmd: InteractionCmd) -> Result<()> {
    let store = ctx.open()?;
    let InteractionCmd::Log {
        customer,
        summary,
        channel,
        direction,
        sentiment,
        at,
    } = cmd;
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
    ctx.say(format!("logged interaction {} with {}", i.id(), c.name()))
}

pub fn purchase(ctx: &mut Ctx, cmd: PurchaseCmd) -> Result<()> {
    let store = ctx.open()?;
    match cmd {
        PurchaseCmd::Add {
            customer,
            amount,
            description,
            reference,
            deal,
            at,
        } => {
            let c = parse::customer(&store, &customer)?;
            let mut new = NewPurchase::new(
                c.id(),
                ctx.at(at.at.as_deref())?,
                parse::money(&amount, &store)?,
            );
            new.description = description.as_deref().map(FreeText::parse).transpose()?;
            new.external_ref = reference.as_deref().map(ExternalRef::parse).transpose()?;
            new.deal = deal.map(DealId::new);
            let p = store.record_purchase(new)?;
            if ctx.out.json {
                return ctx.out.json(&p);
            }
            ctx.say(format!(
                "recorded purchase {} of {} by {}",
                p.id(),
                p.amount(),
                c.name()
            ))
        }
        PurchaseCmd::List { customer, page } => {
            let query = match customer {
                Some(c) => ActivityQuery::customer(parse::customer(&store, &c)?.id()),
                None => ActivityQuery::ALL,
            };
            // The newest rows: JSON in id order, the table newest first.
            let mut purchases = store.purchases(&query)?;
            let total = purchases.len();
            if let Some(rows) = ctx.rows(page) {
                purchases.drain(..total.saturating_sub(rows));
            }
            if ctx.out.json {
                return ctx.out.json(&purchases);
            }
            purchases.reverse();
            let mut names = CustomerNames::default();
            let mut t = Table::new(&[
                ">ID",
                ">CUSTOMER",
                "NAME",
                "DATE",
                ">AMOUNT",
                "REFERENCE",
                "DESCRIPTION",
            ]);
            for p in &purchases {
                t.row(vec![
                    p.id().to_string(),
                    p.customer().to_string(),
                    names.of(&store, p.customer())?,
                    ctx.day(p.at()).to_string(),
                    p.amount().to_string(),
                    opt(p.external_ref()),
                    opt(p.description()),
                ]);
            }
            ctx.out.table(&t)?;
            ctx.more(purchases.len(), total, "purchases")
        }
    }
}

pub fn survey(ctx: &mut Ctx, cmd: SurveyCmd) -> Result<()> {
    let store = ctx.open()?;
    let SurveyCmd::Record {
        customer,
        nps,
        csat,
        ces,
        comment,
        at,
    } = cmd;
    let score = match (nps, csat, ces) {
        (Some(n), None, None) => SurveyScore::new(SurveyKind::Nps, n)?,
        (None, Some(n), None) => SurveyScore::new(SurveyKind::Csat, n)?,
        (None, None, Some(n)) => SurveyScore::new(SurveyKind::Ces, n)?,
        _ => return Err(anyhow!("give exactly one of --nps, --csat or --ces")),
    };
    let c = parse::customer(&store, &customer)?;
    let s = store.record_survey(NewSurveyResponse {
        customer: c.id(),
        at: ctx.at(at.at.as_deref())?,
        score,
        comment: comment.as_deref().map(FreeText::parse).transpose()?,
    })?;
    if ctx.out.json {
        return ctx.out.json(&s);
    }
    ctx.say(format!(
        "recorded {} {} from {}",
        score.kind(),
        score.value(),
        c.name()
    ))
}
