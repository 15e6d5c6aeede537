//! `solocrm purchase …`: record, list, show, edit, void and refund purchases, and list
//! refunds.

use anyhow::Result;
use chrono::{DateTime, Utc};
use solocrm_core::{
    ActivityQuery, DealId, ExternalRef, FreeText, Label, Money, NewPurchase, NewRefund, Purchase,
    PurchaseEdit, PurchaseId, Refund, Store, Void,
};

use super::{Ctx, CustomerNames};
use crate::books::Books;
use crate::cli::{PurchaseCmd, VoidArgs};
use crate::output::{Table, opt};
use crate::parse;

/// Runs a `purchase` subcommand.
pub fn run(ctx: &mut Ctx, cmd: PurchaseCmd) -> Result<()> {
    let store = ctx.open()?;
    match cmd {
        PurchaseCmd::Add {
            customer,
            amount,
            lines,
            cost,
            description,
            reference,
            deal,
            coupon,
            at,
        } => {
            let c = parse::customer(&store, &customer)?;
            let lines = super::product::parse_lines(&store, &lines)?;
            let amount = match amount {
                Some(a) => parse::money(&a, &store)?,
                None => solocrm_core::product::lines_total(&lines, store.currency())?,
            };
            let mut new = NewPurchase::new(c.id(), ctx.at(at.at.as_deref())?, amount);
            new.cost = cost.map(|m| parse::money(&m, &store)).transpose()?;
            new.description = description.as_deref().map(FreeText::parse).transpose()?;
            new.external_ref = reference.as_deref().map(ExternalRef::parse).transpose()?;
            new.deal = deal.map(DealId::new);
            if let Some(code) = coupon {
                // clap refuses --coupon with --line, so `lines` is empty here.
                let code = super::offer::coupon(&code)?;
                let (p, r) = store.record_purchase_with_offer(new, &code)?;
                if ctx.out.json {
                    return ctx
                        .out
                        .json(&serde_json::json!({ "purchase": p, "redemption": r }));
                }
                return ctx.say(t!(
                    "purchase.recorded_with_coupon",
                    id = p.id(),
                    amount = p.amount(),
                    name = c.name(),
                    code = r.code,
                    discount = r.discount
                ));
            }
            let (p, lines) = if lines.is_empty() {
                (store.record_purchase(new)?, lines)
            } else {
                store.record_purchase_with_lines(new, lines)?
            };
            if ctx.out.json {
                if lines.is_empty() {
                    return ctx.out.json(&p);
                }
                let mut value = serde_json::to_value(&p)?;
                if let Some(o) = value.as_object_mut() {
                    o.insert("lines".to_owned(), serde_json::to_value(&lines)?);
                }
                return ctx.out.json(&value);
            }
            ctx.say(t!(
                "purchase.recorded",
                id = p.id(),
                amount = p.amount(),
                name = c.name()
            ))
        }
        PurchaseCmd::List {
            customer,
            voided,
            page,
        } => {
            let mut query = match customer {
                Some(c) => ActivityQuery::customer(parse::customer(&store, &c)?.id()),
                None => ActivityQuery::ALL,
            };
            query.include_voided = voided.voided;
            // The newest rows: JSON in id order, the table newest first.
            let mut purchases = store.purchases(&query)?;
            let total = ctx.keep_newest(&mut purchases, page);
            if ctx.out.json {
                return ctx.out.json(&purchases);
            }
            purchases.reverse();
            let mut names = CustomerNames::default();
            let mut head = vec![
                ">ID",
                ">CUSTOMER",
                "NAME",
                "DATE",
                ">AMOUNT",
                ">COST",
                "REFERENCE",
            ];
            if voided.voided {
                head.push("VOIDED");
            }
            head.push("DESCRIPTION");
            let mut t = Table::new(&head);
            for p in &purchases {
                let mut row = vec![
                    p.id().to_string(),
                    p.customer().to_string(),
                    names.of(&store, p.customer())?,
                    ctx.day(p.at()).to_string(),
                    p.amount().to_string(),
                    opt(p.cost()),
                    opt(p.external_ref()),
                ];
                if voided.voided {
                    row.push(opt(p.void().map(|v| ctx.day(v.at))));
                }
                row.push(opt(p.description()));
                t.row(row);
            }
            ctx.out.table(&t)?;
            ctx.more(purchases.len(), total, "purchases")
        }
        PurchaseCmd::Show { id } => show(ctx, &store, PurchaseId::new(id)),
        PurchaseCmd::Edit {
            id,
            amount,
            cost,
            description,
            reference,
            at,
            clear,
        } => {
            let cleared = |field: &str| clear.iter().any(|c| c == field);
            for (field, given) in [
                ("cost", cost.is_some()),
                ("description", description.is_some()),
                ("reference", reference.is_some()),
            ] {
                if given && cleared(field) {
                    anyhow::bail!(t!("purchase.contradiction", field = field));
                }
            }
            let edit = PurchaseEdit {
                amount: amount.map(|m| parse::money(&m, &store)).transpose()?,
                cost: match cost {
                    Some(m) => Some(Some(parse::money(&m, &store)?)),
                    None => cleared("cost").then_some(None),
                },
                description: match description {
                    Some(d) => Some(Some(FreeText::parse(&d)?)),
                    None => cleared("description").then_some(None),
                },
                external_ref: match reference {
                    Some(r) => Some(Some(ExternalRef::parse(&r)?)),
                    None => cleared("reference").then_some(None),
                },
                at: at.as_deref().map(|a| ctx.at(Some(a))).transpose()?,
            };
            let p = store.write(|w| w.edit_purchase(PurchaseId::new(id), &edit))?;
            if ctx.out.json {
                return ctx.out.json(&p);
            }
            ctx.say(t!("purchase.updated", id = p.id(), amount = p.amount()))
        }
        PurchaseCmd::Void { id, void } => {
            let mark = void_mark(ctx, &void)?;
            let p = store.write(|w| w.void_purchase(PurchaseId::new(id), mark.clone()))?;
            if ctx.out.json {
                return ctx.out.json(&p);
            }
            ctx.say(t!("purchase.voided", id = p.id(), amount = p.amount()))
        }
        PurchaseCmd::Refund {
            id,
            amount,
            reason,
            at,
        } => {
            let r = store.record_refund(NewRefund {
                purchase: PurchaseId::new(id),
                at: ctx.at(at.at.as_deref())?,
                amount: parse::money(&amount, &store)?,
                reason: reason.as_deref().map(FreeText::parse).transpose()?,
            })?;
            if ctx.out.json {
                return ctx.out.json(&r);
            }
            ctx.say(t!(
                "purchase.refunded",
                amount = r.amount(),
                purchase = r.purchase(),
                id = r.id()
            ))
        }
        PurchaseCmd::Refunds { customer, page } => {
            let query = match customer {
                Some(c) => ActivityQuery::customer(parse::customer(&store, &c)?.id()),
                None => ActivityQuery::ALL,
            };
            let mut refunds = store.refunds(&query)?;
            let total = ctx.keep_newest(&mut refunds, page);
            if ctx.out.json {
                return ctx.out.json(&refunds);
            }
            refunds.reverse();
            let mut names = CustomerNames::default();
            let mut t = Table::new(&[
                ">ID",
                ">PURCHASE",
                ">CUSTOMER",
                "NAME",
                "DATE",
                ">AMOUNT",
                "REASON",
            ]);
            for r in &refunds {
                t.row(vec![
                    r.id().to_string(),
                    r.purchase().to_string(),
                    r.customer().to_string(),
                    names.of(&store, r.customer())?,
                    ctx.day(r.at()).to_string(),
                    r.amount().to_string(),
                    opt(r.reason()),
                ]);
            }
            ctx.out.table(&t)?;
            ctx.more(refunds.len(), total, "refunds")
        }
    }
}

/// `purchase show`: the purchase, what was refunded and what is left, its refunds.
fn show(ctx: &mut Ctx, store: &Books, id: PurchaseId) -> Result<()> {
    let (p, refunds, lines): (
        Purchase,
        Vec<Refund>,
        Vec<solocrm_core::product::PurchaseLine>,
    ) = store.read(|r| Ok((r.purchase(id)?, r.refunds_of(id)?, r.purchase_lines(id)?)))?;
    let zero = Money::zero(store.currency());
    let refunded = refunds
        .iter()
        .try_fold(zero, |sum, r| sum.checked_add(r.amount()))?;
    let left = p.amount().checked_sub(refunded)?;
    if ctx.out.json {
        return ctx.out.json(&serde_json::json!({
            "purchase": p,
            "refunded": refunded,
            "refundable": if p.is_void() { zero } else { left },
            "refunds": refunds,
            "lines": lines,
        }));
    }
    let name = CustomerNames::default().of(store, p.customer())?;
    ctx.out.heading(t!("purchase.heading", id = p.id()))?;
    let at = when(ctx, p.at());
    super::fields(
        ctx,
        11,
        vec![
            (
                t!("field.customer"),
                t!("field.id_name", id = p.customer(), name = name),
            ),
            (t!("field.at"), at),
            (t!("field.amount"), p.amount().to_string()),
            (t!("field.cost"), opt(p.cost())),
            (t!("field.margin"), opt(p.margin())),
            (t!("field.items"), opt(p.items())),
            (t!("field.reference"), opt(p.external_ref())),
            (t!("field.deal"), opt(p.deal())),
            (t!("field.description"), opt(p.description())),
            (t!("field.refunded"), refunded.to_string()),
        ],
    )?;
    show_void(ctx, p.void())?;
    if !lines.is_empty() {
        ctx.out.line("")?;
        let mut t = Table::new(&["SKU", ">QTY", ">UNIT_PRICE", ">DISCOUNT", ">TOTAL"]);
        for l in &lines {
            t.row(vec![
                l.sku.to_string(),
                l.quantity.to_string(),
                l.unit_price.to_string(),
                opt(l.discount),
                l.total().map_or_else(|e| e.to_string(), |m| m.to_string()),
            ]);
        }
        ctx.out.table(&t)?;
    }
    if !refunds.is_empty() {
        ctx.out.line("")?;
        let mut t = Table::new(&[">REFUND", "DATE", ">AMOUNT", "REASON"]);
        for r in &refunds {
            t.row(vec![
                r.id().to_string(),
                ctx.day(r.at()).to_string(),
                r.amount().to_string(),
                opt(r.reason()),
            ]);
        }
        ctx.out.table(&t)?;
    }
    Ok(())
}

/// An instant as the business zone's local time, with the zone's name.
pub(super) fn when(ctx: &Ctx, at: DateTime<Utc>) -> String {
    format!(
        "{} {}",
        ctx.zone().local(at).format("%Y-%m-%d %H:%M:%S"),
        ctx.zone().name()
    )
}

/// The void marker of a void command: now, by `--by` (else `USER`, if it is a valid
/// name), because of `--reason`, which must say something: a blank reason is a usage
/// error (exit 2), as it is on the web.
pub(super) fn void_mark(ctx: &Ctx, args: &VoidArgs) -> Result<Void> {
    if args.reason.trim().is_empty() {
        return Err(super::BadValue(t!("void.blank_reason").to_string()).into());
    }
    let mut void = Void::at(ctx.now).because(FreeText::parse(&args.reason)?);
    let by = match &args.by {
        Some(by) => Some(Label::parse(by)?),
        None => std::env::var("USER")
            .ok()
            .and_then(|u| Label::parse(&u).ok()),
    };
    if let Some(by) = by {
        void = void.by(by);
    }
    Ok(void)
}

/// The lines of a `show` that say a record is void, if it is.
pub(super) fn show_void(ctx: &mut Ctx, void: Option<&Void>) -> Result<()> {
    let Some(v) = void else {
        return Ok(());
    };
    let value = t!(
        "void.value",
        at = when(ctx, v.at),
        by = opt(v.by.as_ref()),
        reason = opt(v.reason.as_ref())
    );
    ctx.out.line(super::field(11, t!("field.voided"), &value))
}
