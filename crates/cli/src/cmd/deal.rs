//! `solocrm deal ...`: the sales pipeline.

use anyhow::{Result, bail};
use solocrm_core::{Deal, DealEdit, DealId, DealStage, FreeText, Label, NewDeal, OpenQuery, Store};

use super::{Ctx, CustomerNames, with_name};
use crate::books::Books;
use crate::cli::DealCmd;
use crate::i18n::label;
use crate::output::{Table, opt};
use crate::parse;

pub fn run(ctx: &mut Ctx, cmd: DealCmd) -> Result<()> {
    let store = ctx.open()?;
    match cmd {
        DealCmd::Add {
            customer,
            title,
            value,
            stage,
            close,
            campaign,
            at,
        } => {
            let c = parse::customer(&store, &customer)?;
            let campaign = campaign
                .as_deref()
                .map(|k| super::campaign::resolve(&store, k))
                .transpose()?;
            let mut new = NewDeal::new(
                c.id(),
                Label::parse(&title)?,
                parse::money(&value, &store)?,
                ctx.at(at.at.as_deref())?,
            );
            if let Some(s) = stage {
                new.stage = s;
            }
            new.expected_close = close.as_deref().map(parse::date).transpose()?;
            // The deal and its campaign in one transaction.
            let d = store.write(|w| {
                let d = w.create_deal(new.clone())?;
                if let Some(k) = &campaign {
                    w.attribute(
                        solocrm_core::campaign::AttributionSubject::Deal(d.id()),
                        Some(k.id()),
                    )?;
                }
                Ok(d)
            })?;
            if ctx.out.json {
                return ctx.out.json(&d);
            }
            if let Some(k) = campaign {
                ctx.say(t!("campaign.attributed_to", name = k.name()))?;
            }
            ctx.say(t!(
                "deal.added",
                id = d.id(),
                title = d.title(),
                value = d.value(),
                stage = label(d.stage())
            ))
        }
        DealCmd::Move {
            id,
            stage,
            reason,
            at,
        } => {
            let reason = reason.as_deref().map(Label::parse).transpose()?;
            if reason.is_some() && stage != DealStage::Lost {
                bail!(t!("deal.reason_not_lost", stage = stage));
            }
            let at = ctx.at(at.at.as_deref())?;
            let id = DealId::new(id);
            // One transaction: the move and its reason are recorded together or not at all.
            let d = store.write(|w| {
                let d = w.move_deal(id, stage, at)?;
                match &reason {
                    Some(r) => w.edit_deal(
                        id,
                        &DealEdit {
                            lost_reason: Some(r.clone()),
                            ..DealEdit::default()
                        },
                    ),
                    None => Ok(d),
                }
            })?;
            if ctx.out.json {
                return ctx.out.json(&d);
            }
            match d.lost_reason() {
                Some(r) => ctx.say(t!(
                    "deal.moved_lost",
                    id = d.id(),
                    stage = label(d.stage()),
                    reason = r
                )),
                None => ctx.say(t!("deal.moved", id = d.id(), stage = label(d.stage()))),
            }
        }
        DealCmd::Show { id } => {
            let d = store.deal(DealId::new(id))?;
            show(ctx, &store, &d)
        }
        DealCmd::Edit {
            id,
            title,
            value,
            close,
            no_close,
            note,
            campaign,
            no_campaign,
            at,
        } => {
            let campaign = campaign
                .as_deref()
                .map(|k| super::campaign::resolve(&store, k))
                .transpose()?;
            let edit = DealEdit {
                title: title.as_deref().map(Label::parse).transpose()?,
                value: value
                    .as_deref()
                    .map(|v| parse::money(v, &store))
                    .transpose()?,
                expected_close: if no_close {
                    Some(None)
                } else {
                    close.as_deref().map(parse::date).transpose()?.map(Some)
                },
                note: match note {
                    Some(n) if n.trim().is_empty() => bail!(t!("deal.note_empty")),
                    Some(n) => Some((ctx.at(at.at.as_deref())?, FreeText::parse(&n)?)),
                    None => None,
                },
                lost_reason: None,
            };
            let attribution = campaign.is_some() || no_campaign;
            if edit == DealEdit::default() && !attribution {
                bail!(t!("deal.nothing_to_change"));
            }
            // The edit and the campaign in one transaction.
            let d = store.write(|w| {
                let d = if edit == DealEdit::default() {
                    w.reader().deal(DealId::new(id))?
                } else {
                    w.edit_deal(DealId::new(id), &edit)?
                };
                if attribution {
                    w.attribute(
                        solocrm_core::campaign::AttributionSubject::Deal(d.id()),
                        campaign.as_ref().map(|k| k.id()),
                    )?;
                }
                Ok(d)
            })?;
            if ctx.out.json {
                return ctx.out.json(&d);
            }
            ctx.say(t!("deal.updated", id = d.id(), title = d.title()))
        }
        DealCmd::Note { id, text, at } => {
            let text = FreeText::parse(&text)?;
            if text.as_str().trim().is_empty() {
                bail!(t!("deal.note_empty"));
            }
            let edit = DealEdit {
                note: Some((ctx.at(at.at.as_deref())?, text)),
                ..DealEdit::default()
            };
            let d = store.edit_deal(DealId::new(id), &edit)?;
            if ctx.out.json {
                return ctx.out.json(&d);
            }
            ctx.say(t!(
                "deal.noted",
                id = d.id(),
                notes = tn!("count.note", d.notes().len())
            ))
        }
        DealCmd::List {
            open,
            customer,
            page,
        } => {
            let customer = parse::customer_id(&store, customer.as_deref())?;
            let mut deals = store.deals(&OpenQuery {
                customer,
                open_only: open,
            })?;
            let total = ctx.keep_newest(&mut deals, page);
            if ctx.out.json {
                return ctx.out.json(&deals);
            }
            deals.reverse();
            let mut names = CustomerNames::default();
            let mut t = Table::new(&[
                ">ID",
                ">CUSTOMER",
                "NAME",
                "STAGE",
                ">VALUE",
                "SINCE",
                "CLOSE",
                "TITLE",
            ]);
            for d in &deals {
                t.row(vec![
                    d.id().to_string(),
                    d.customer().to_string(),
                    names.of(&store, d.customer())?,
                    d.stage().to_string(),
                    d.value().to_string(),
                    ctx.day(d.created_at()).to_string(),
                    opt(d.expected_close()),
                    d.title().to_string(),
                ]);
            }
            ctx.out.table(&t)?;
            ctx.more(deals.len(), total, "deals")
        }
    }
}

/// `deal show`: the deal, its customer, its moves and its notes.
fn show(ctx: &mut Ctx, store: &Books, d: &Deal) -> Result<()> {
    let name = CustomerNames::default().of(store, d.customer())?;
    let mut needs = store.needs(Some(d.customer()))?;
    needs.retain(|n| n.deal == Some(d.id()));
    if ctx.out.json {
        let mut value = with_name(d, &name)?;
        if let Some(object) = value.as_object_mut() {
            object.insert("needs".to_owned(), serde_json::to_value(&needs)?);
        }
        return ctx.out.json(&value);
    }
    ctx.out
        .heading(t!("deal.heading", id = d.id(), title = d.title()))?;
    let created = ctx.day(d.created_at()).to_string();
    let closed = opt(d.closed_at().map(|at| ctx.day(at)));
    super::fields(
        ctx,
        9,
        vec![
            (
                t!("field.customer"),
                t!("field.name_id", name = name, id = d.customer()),
            ),
            (t!("field.stage"), label(d.stage()).to_owned()),
            (t!("field.value"), d.value().to_string()),
            (t!("field.created"), created),
            (t!("field.close"), opt(d.expected_close())),
            (t!("field.closed"), closed),
            (t!("field.lost_for"), opt(d.lost_reason())),
        ],
    )?;
    if !d.history().is_empty() {
        ctx.out.line("")?;
        let mut t = Table::new(&["DATE", "FROM", "TO"]);
        for m in d.history() {
            t.row(vec![
                ctx.day(m.at).to_string(),
                m.from.to_string(),
                m.to.to_string(),
            ]);
        }
        ctx.out.table(&t)?;
    }
    if !d.notes().is_empty() {
        ctx.out.line("")?;
        let mut t = Table::new(&["DATE", "NOTE"]);
        for n in d.notes() {
            t.row(vec![ctx.day(n.at).to_string(), n.text.to_string()]);
        }
        ctx.out.table(&t)?;
    }
    super::need::open_table(ctx, &needs)
}
