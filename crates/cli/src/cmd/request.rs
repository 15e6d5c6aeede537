//! `solocrm request ...`: service requests.

use anyhow::Result;
use solocrm_core::{
    DealId, FreeText, Label, NewServiceRequest, OpenQuery, RequestEventKind, RequestId, Store,
};

use super::{Ctx, CustomerNames, with_name};
use crate::cli::RequestCmd;
use crate::i18n::label;
use crate::output::{Table, opt};
use crate::parse;

pub fn run(ctx: &mut Ctx, cmd: RequestCmd) -> Result<()> {
    let store = ctx.open()?;
    let step = |id: u64, kind: RequestEventKind, at: Option<&str>, ctx: &mut Ctx| -> Result<()> {
        let r = store.update_request(RequestId::new(id), kind, ctx.at(at)?)?;
        if ctx.out.json {
            return ctx.out.json(&r);
        }
        ctx.say(t!("request.now", id = r.id(), status = label(r.status())))
    };
    match cmd {
        RequestCmd::Open {
            customer,
            subject,
            kind,
            description,
            deal,
            at,
        } => {
            let c = parse::customer(&store, &customer)?;
            let r = store.open_request(NewServiceRequest {
                customer: c.id(),
                kind,
                subject: Label::parse(&subject)?,
                description: FreeText::parse(&description)?,
                opened_at: ctx.at(at.at.as_deref())?,
                deal: deal.map(DealId::new),
            })?;
            if ctx.out.json {
                return ctx.out.json(&r);
            }
            ctx.say(t!(
                "request.opened",
                kind = label(r.kind()),
                id = r.id(),
                name = c.name()
            ))
        }
        RequestCmd::Respond { id, at } => {
            step(id, RequestEventKind::Responded, at.at.as_deref(), ctx)
        }
        RequestCmd::Resolve { id, at } => {
            step(id, RequestEventKind::Resolved, at.at.as_deref(), ctx)
        }
        RequestCmd::Reopen { id, at } => {
            step(id, RequestEventKind::Reopened, at.at.as_deref(), ctx)
        }
        RequestCmd::Show { id } => {
            let r = store.request(RequestId::new(id))?;
            let name = CustomerNames::default().of(&store, r.customer())?;
            if ctx.out.json {
                return ctx.out.json(&with_name(&r, &name)?);
            }
            ctx.out.heading(t!(
                "request.heading",
                kind = label(r.kind()),
                id = r.id(),
                subject = r.subject()
            ))?;
            let opened = ctx.day(r.opened_at()).to_string();
            let answered = opt(r.first_response_at().map(|at| ctx.day(at)));
            let resolved = opt(r.resolved_at().map(|at| ctx.day(at)));
            super::fields(
                ctx,
                9,
                vec![
                    (
                        t!("field.customer"),
                        t!("field.name_id", name = name, id = r.customer()),
                    ),
                    (t!("field.status"), label(r.status()).to_owned()),
                    (t!("field.opened"), opened),
                    (t!("field.answered"), answered),
                    (t!("field.resolved"), resolved),
                    (t!("field.deal"), opt(r.deal())),
                ],
            )?;
            if !r.description().is_empty() {
                ctx.out.line("")?;
                ctx.out.line(r.description().as_str())?;
            }
            if r.events().len() > 1 {
                ctx.out.line("")?;
                let mut t = Table::new(&["DATE", "STEP"]);
                for e in &r.events()[1..] {
                    t.row(vec![ctx.day(e.at).to_string(), e.kind.to_string()]);
                }
                ctx.out.table(&t)?;
            }
            Ok(())
        }
        RequestCmd::List {
            open,
            customer,
            page,
        } => {
            let customer = parse::customer_id(&store, customer.as_deref())?;
            let mut requests = store.requests(&OpenQuery {
                customer,
                open_only: open,
            })?;
            let total = ctx.keep_newest(&mut requests, page);
            if ctx.out.json {
                return ctx.out.json(&requests);
            }
            requests.reverse();
            let mut names = CustomerNames::default();
            let mut t = Table::new(&[
                ">ID",
                ">CUSTOMER",
                "NAME",
                "KIND",
                "STATUS",
                "OPENED",
                "SUBJECT",
            ]);
            for r in &requests {
                t.row(vec![
                    r.id().to_string(),
                    r.customer().to_string(),
                    names.of(&store, r.customer())?,
                    r.kind().to_string(),
                    r.status().to_string(),
                    ctx.day(r.opened_at()).to_string(),
                    r.subject().to_string(),
                ]);
            }
            ctx.out.table(&t)?;
            ctx.more(requests.len(), total, "requests")
        }
    }
}
