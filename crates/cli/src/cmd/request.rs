//! `solocrm request ...`: service requests.

use anyhow::Result;
use solocrm_core::{
    DealId, FreeText, Label, NewServiceRequest, OpenQuery, RequestEventKind, RequestId, Store,
};

use super::{Ctx, CustomerNames, with_name};
use crate::cli::RequestCmd;
use crate::output::{Table, opt};
use crate::parse;

pub fn run(ctx: &mut Ctx, cmd: RequestCmd) -> Result<()> {
    let store = ctx.open()?;
    let step = |id: u64, kind: RequestEventKind, at: Option<&str>, ctx: &mut Ctx| -> Result<()> {
        let r = store.update_request(RequestId::new(id), kind, ctx.at(at)?)?;
        if ctx.out.json {
            return ctx.out.json(&r);
        }
        ctx.say(format!("request {} is now {}", r.id(), r.status()))
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
            ctx.say(format!("opened {} {} for {}", r.kind(), r.id(), c.name()))
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
            ctx.out
                .heading(format!("{} {}: {}", r.kind(), r.id(), r.subject()))?;
            for (label, value) in [
                ("customer", format!("{name} ({})", r.customer())),
                ("status", r.status().to_string()),
                ("opened", ctx.day(r.opened_at()).to_string()),
                ("answered", opt(r.first_response_at().map(|at| ctx.day(at)))),
                ("resolved", opt(r.resolved_at().map(|at| ctx.day(at)))),
                ("deal", opt(r.deal())),
            ] {
                ctx.out.line(format!("  {label:<9} {value}"))?;
            }
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
            let customer = customer
                .map(|c| parse::customer(&store, &c))
                .transpose()?
                .map(|c| c.id());
            let mut requests = store.requests(&OpenQuery {
                customer,
                open_only: open,
            })?;
            let total = requests.len();
            if let Some(rows) = ctx.rows(page) {
                requests.drain(..total.saturating_sub(rows));
            }
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
