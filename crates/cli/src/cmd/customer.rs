//! `solocrm customer ...`

use anyhow::{Result, bail};
use solocrm_app::views::CustomerPage;
use solocrm_core::{
    CountryCode, Customer, CustomerData, CustomerQuery, Email, ExternalRef, FreeText, Label,
    NewCustomer, PersonName, Phone, SegmentFilter, Store, Tag,
};

use super::Ctx;
use crate::books::File as _;
use crate::cli::{CustomerCmd, CustomerFields};
use crate::output::{Table, opt};
use crate::parse;

pub fn run(ctx: &mut Ctx, cmd: CustomerCmd) -> Result<()> {
    let store = ctx.open()?;
    match cmd {
        CustomerCmd::Add {
            name,
            fields,
            tags,
            stage,
            at,
        } => {
            let mut data = apply_fields(
                CustomerData::new(PersonName::parse(&name)?),
                &fields,
                &store,
                ctx.today(),
            )?;
            for t in tags {
                data.tags.insert(Tag::parse(&t)?);
            }
            let mut new = NewCustomer::new(data, ctx.at(at.at.as_deref())?);
            if let Some(s) = stage {
                new = new.at_stage(s);
            }
            let c = store.create_customer(new)?;
            if ctx.out.json {
                ctx.out.json(&c)?;
            } else {
                ctx.say(format!("added customer {} ({})", c.id(), c.name()))?;
            }
        }
        CustomerCmd::List {
            stage,
            tag,
            segment,
            limit,
            after,
            as_of,
        } => {
            let segment = match segment {
                Some(name) => Some(SegmentFilter {
                    predicate: store.segment(&Label::parse(&name)?)?.predicate,
                    as_of: ctx.as_of(as_of.as_of.as_deref())?,
                }),
                None => None,
            };
            let query = CustomerQuery {
                stage,
                tag: tag.as_deref().map(Tag::parse).transpose()?,
                segment,
                include_erased: false,
                after: after.map(solocrm_core::CustomerId::new),
                limit,
            };
            let page = store.list_customers(&query)?;
            if ctx.out.json {
                ctx.out.json(&page)?;
            } else {
                print_customers(ctx, &page.items)?;
                if let Some(next) = page.next {
                    ctx.say(format!("(more: --after {next})"))?;
                }
            }
        }
        CustomerCmd::Show { customer } => {
            let c = parse::customer(&store, &customer)?;
            show(ctx, &store, &c)?;
        }
        CustomerCmd::Edit {
            customer,
            name,
            fields,
            clear,
        } => {
            let c = parse::customer(&store, &customer)?;
            let mut data = c.data().clone();
            if let Some(n) = name {
                data.name = PersonName::parse(&n)?;
            }
            for field in &clear {
                clear_field(&mut data, field)?;
            }
            let data = apply_fields(data, &fields, &store, ctx.today())?;
            let c = store.update_customer(c.id(), data)?;
            if ctx.out.json {
                ctx.out.json(&c)?;
            } else {
                ctx.say(format!("updated customer {} ({})", c.id(), c.name()))?;
            }
        }
        CustomerCmd::Tag { customer, tags } => {
            let c = parse::customer(&store, &customer)?;
            for t in parse::non_empty(tags, "tag")? {
                store.tag_customer(c.id(), &Tag::parse(&t)?)?;
            }
            report_tags(ctx, &store.customer(c.id())?)?;
        }
        CustomerCmd::Untag { customer, tags } => {
            let c = parse::customer(&store, &customer)?;
            for t in parse::non_empty(tags, "tag")? {
                store.untag_customer(c.id(), &Tag::parse(&t)?)?;
            }
            report_tags(ctx, &store.customer(c.id())?)?;
        }
        CustomerCmd::Erase { customer, yes, at } => {
            let c = parse::customer(&store, &customer)?;
            if !yes {
                bail!(
                    "erasing customer {} ({}) removes their personal data for good; run again with --yes to confirm",
                    c.id(),
                    c.name()
                );
            }
            let entry = store.erase_customer(c.id(), ctx.at(at.at.as_deref())?)?;
            // The erasure is committed; make sure no old copy of the personal data
            // stays behind in the write-ahead log, and say so loudly if it does.
            let wal = crate::paths::side_file(&ctx.db, "-wal");
            // PostgreSQL books have no log file beside them (see docs/storage.md on
            // what a server keeps of old row versions).
            let log_empty =
                store.sqlite().is_none() || std::fs::metadata(&wal).map_or(true, |m| m.len() == 0);
            if !log_empty && !ctx.out.json {
                super::note(&format!(
                    "another program is reading {}; waiting up to {} s for it, to scrub the log",
                    ctx.db.display(),
                    ctx.busy_timeout.as_secs()
                ));
            }
            let scrubbed = log_empty || store.file()?.checkpoint().unwrap_or(false);
            if ctx.out.json {
                let mut value = serde_json::to_value(&entry)?;
                if let Some(map) = value.as_object_mut() {
                    map.insert("scrubbed".into(), scrubbed.into());
                }
                ctx.out.json(&value)?;
            } else {
                ctx.say(format!(
                    "erased customer {}; amounts and dates are kept",
                    c.id()
                ))?;
            }
            if !scrubbed {
                super::warn(&format!(
                    "the erasure is recorded, but another program holding {} open kept the old \
                     personal data in its log file ({}-wal). Close the other program, then run \
                     `solocrm checkpoint` to remove it for good.",
                    ctx.db.display(),
                    ctx.db.display()
                ));
            }
        }
        CustomerCmd::Export { customer } => {
            let c = parse::customer(&store, &customer)?;
            ctx.out.json(&store.export_customer(c.id())?)?;
        }
    }
    Ok(())
}

fn report_tags(ctx: &mut Ctx, c: &Customer) -> Result<()> {
    if ctx.out.json {
        return ctx.out.json(c);
    }
    let tags: Vec<&str> = c.tags().iter().map(Tag::as_str).collect();
    ctx.say(format!(
        "customer {} tags: {}",
        c.id(),
        if tags.is_empty() {
            "-".to_owned()
        } else {
            tags.join(", ")
        }
    ))
}

/// Sets every field given on the command line.
pub fn apply_fields(
    mut data: CustomerData,
    f: &CustomerFields,
    store: &solocrm_core::Crm,
    today: chrono::NaiveDate,
) -> Result<CustomerData> {
    if let Some(v) = &f.email {
        data.email = Some(Email::parse(v)?);
    }
    if let Some(v) = &f.phone {
        data.phone = Some(Phone::parse(v)?);
    }
    if let Some(v) = &f.company {
        data.company = Some(Label::parse(v)?);
    }
    if let Some(v) = &f.birthday {
        data.birthday = Some(solocrm_app::values::birthday(v, today)?);
    }
    if let Some(v) = &f.country {
        data.profile.country = Some(CountryCode::parse(v)?);
    }
    if let Some(v) = &f.city {
        data.profile.city = Some(Label::parse(v)?);
    }
    if let Some(v) = &f.channel {
        data.acquisition_channel = Some(Tag::parse(v)?);
    }
    if let Some(v) = &f.cost {
        data.acquisition_cost = Some(parse::money(v, store)?);
    }
    if let Some(v) = &f.reference {
        data.external_ref = Some(ExternalRef::parse(v)?);
    }
    if let Some(v) = &f.notes {
        data.notes = FreeText::parse(v)?;
    }
    Ok(data)
}

fn clear_field(data: &mut CustomerData, field: &str) -> Result<()> {
    match field.trim().to_ascii_lowercase().as_str() {
        "email" => data.email = None,
        "phone" => data.phone = None,
        "company" => data.company = None,
        "birthday" => data.birthday = None,
        "country" => data.profile.country = None,
        "city" => data.profile.city = None,
        "channel" => data.acquisition_channel = None,
        "cost" => data.acquisition_cost = None,
        "reference" => data.external_ref = None,
        "notes" => data.notes = FreeText::empty(),
        other => bail!(
            "cannot clear '{other}'; clearable fields: email, phone, company, birthday, country, city, channel, cost, reference, notes"
        ),
    }
    Ok(())
}

fn print_customers(ctx: &mut Ctx, customers: &[Customer]) -> Result<()> {
    let mut t = Table::new(&[">ID", "NAME", "STAGE", "EMAIL", "TAGS", "SINCE"]);
    for c in customers {
        let tags: Vec<&str> = c.tags().iter().map(Tag::as_str).collect();
        t.row(vec![
            c.id().to_string(),
            c.name().to_string(),
            c.stage().to_string(),
            opt(c.email()),
            tags.join(","),
            ctx.day(c.created_at()).to_string(),
        ]);
    }
    if t.is_empty() {
        return ctx.out.line("no customers match");
    }
    ctx.out.table(&t)
}

fn show(ctx: &mut Ctx, store: &solocrm_core::Crm, c: &Customer) -> Result<()> {
    let page = store.read(|r| CustomerPage::load(&r, c.id()))?;
    if ctx.out.json {
        return ctx.out.json(&page);
    }
    let export = &page.export;
    let d = c.data();
    let tags: Vec<&str> = c.tags().iter().map(Tag::as_str).collect();
    ctx.out
        .heading(format!("{} (customer {})", c.name(), c.id()))?;
    for (label, value) in [
        ("stage", c.stage().to_string()),
        ("email", opt(c.email())),
        ("phone", opt(c.phone())),
        ("company", opt(d.company.as_ref())),
        ("birthday", opt(c.birthday())),
        ("country", opt(d.profile.country.as_ref())),
        ("city", opt(d.profile.city.as_ref())),
        (
            "tags",
            if tags.is_empty() {
                "-".into()
            } else {
                tags.join(", ")
            },
        ),
        ("channel", opt(d.acquisition_channel.as_ref())),
        ("cost", opt(d.acquisition_cost)),
        ("reference", opt(c.external_ref())),
        ("since", ctx.day(c.created_at()).to_string()),
        ("points", page.points_balance.to_string()),
    ] {
        ctx.out.line(format!("  {label:<10} {value}"))?;
    }
    if !d.notes.is_empty() {
        ctx.out.line(format!("  {:<10} {}", "notes", d.notes))?;
    }
    if !export.purchases.is_empty() {
        ctx.out.line("")?;
        let mut t = Table::new(&[">PURCHASE", "DATE", ">AMOUNT", "DESCRIPTION"]);
        for p in &export.purchases {
            t.row(vec![
                p.id().to_string(),
                ctx.day(p.at()).to_string(),
                p.amount().to_string(),
                opt(p.description()),
            ]);
        }
        ctx.out.table(&t)?;
    }
    if !export.interactions.is_empty() {
        ctx.out.line("")?;
        let mut t = Table::new(&["DATE", "CHANNEL", "DIRECTION", "SUMMARY"]);
        for i in &export.interactions {
            t.row(vec![
                ctx.day(i.at()).to_string(),
                i.channel().to_string(),
                i.direction().to_string(),
                i.summary().as_str().lines().next().unwrap_or("").to_owned(),
            ]);
        }
        ctx.out.table(&t)?;
    }
    if !export.surveys.is_empty() {
        ctx.out.line("")?;
        let mut t = Table::new(&["DATE", "KIND", ">SCORE", "COMMENT"]);
        for s in &export.surveys {
            t.row(vec![
                ctx.day(s.at()).to_string(),
                s.score().kind().to_string(),
                s.score().value().to_string(),
                opt(s.comment()),
            ]);
        }
        ctx.out.table(&t)?;
    }
    if !export.stage_history.is_empty() {
        ctx.out.line("")?;
        let mut t = Table::new(&["DATE", "FROM", "TO", "WHY"]);
        for h in &export.stage_history {
            let why = match &h.reason {
                solocrm_core::StageReason::Manual { note } => format!(
                    "manual{}",
                    note.as_ref().map(|n| format!(": {n}")).unwrap_or_default()
                ),
                solocrm_core::StageReason::Rule { rule } => format!("rule: {rule}"),
            };
            t.row(vec![
                ctx.day(h.at).to_string(),
                h.from.to_string(),
                h.to.to_string(),
                why,
            ]);
        }
        ctx.out.table(&t)?;
    }
    Ok(())
}
