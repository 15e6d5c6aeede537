//! `solocrm customer ...`

use anyhow::{Result, anyhow, bail};
use solocrm_app::views::CustomerPage;

use chrono::{DateTime, Utc};
use solocrm_core::store::{MAX_PAGE_SIZE, Page};
use solocrm_core::{
    BirthYear, CountryCode, Crm, Customer, CustomerData, CustomerId, CustomerQuery, Email,
    ExternalRef, FreeText, Gender, IncomeBand, Label, Money, NewCustomer, PersonName, Phone,
    Profile, Reader, SearchText, SegmentFilter, Store, Tag,
};

use super::Ctx;
use crate::books::File as _;
use crate::cli::{ClearField, CustomerCmd, CustomerFields};
use crate::i18n::label;
use crate::output::{Table, opt};
use crate::parse;
use solocrm_core::campaign::AttributionSubject;

pub fn run(ctx: &mut Ctx, cmd: CustomerCmd) -> Result<()> {
    let store = ctx.open()?;
    match cmd {
        CustomerCmd::Add {
            name,
            fields,
            tags,
            stage,
            campaign,
            at,
        } => {
            let campaign = campaign
                .as_deref()
                .map(|k| super::campaign::resolve(&store, k))
                .transpose()?;
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
            // The customer and their campaign in one transaction.
            let c = store.write(|w| {
                let c = w.create_customer(new.clone())?;
                if let Some(k) = &campaign {
                    w.attribute(AttributionSubject::Customer(c.id()), Some(k.id()))?;
                }
                Ok(c)
            })?;
            if ctx.out.json {
                ctx.out.json(&c)?;
            } else {
                ctx.say(t!("customer.added", id = c.id(), name = c.name()))?;
                if let Some(k) = campaign {
                    ctx.say(t!("campaign.attributed_to", name = k.name()))?;
                }
            }
        }
        CustomerCmd::List {
            stage,
            tag,
            segment,
            page,
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
                limit: MAX_PAGE_SIZE,
            };
            list(ctx, &store, query, ctx.rows(page))?;
        }
        CustomerCmd::Search { text, page } => {
            search(ctx, &store, &text, page)?;
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
            set,
            unset,
            campaign,
            no_campaign,
        } => {
            let c = parse::customer(&store, &customer)?;
            let campaign = campaign
                .as_deref()
                .map(|k| super::campaign::resolve(&store, k))
                .transpose()?;
            let mut data = c.data().clone();
            if let Some(n) = name {
                data.name = PersonName::parse(&n)?;
            }
            for field in &clear {
                clear_field(&mut data, *field);
            }
            for key in &unset {
                unset_attribute(&mut data.profile, key)?;
            }
            for pair in &set {
                set_attribute(&mut data.profile, pair)?;
            }
            let data = apply_fields(data, &fields, &store, ctx.today())?;
            let only_campaign = (campaign.is_some() || no_campaign) && data == *c.data();
            // The data and the campaign in one transaction.
            let c = store.write(|w| {
                let c = if only_campaign {
                    c.clone()
                } else {
                    w.update_customer(c.id(), data.clone())?
                };
                if campaign.is_some() || no_campaign {
                    w.attribute(
                        AttributionSubject::Customer(c.id()),
                        campaign.as_ref().map(|k| k.id()),
                    )?;
                }
                Ok(c)
            })?;
            if ctx.out.json {
                ctx.out.json(&c)?;
            } else {
                ctx.say(t!("customer.updated", id = c.id(), name = c.name()))?;
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
                bail!(t!(
                    "customer.erase_unconfirmed",
                    id = c.id(),
                    name = c.name()
                ));
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
                super::note(&t!(
                    "customer.erase_waiting",
                    db = ctx.db.display(),
                    seconds = ctx.busy_timeout.as_secs()
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
                ctx.say(t!("customer.erased", id = c.id()))?;
            }
            if !scrubbed {
                super::warn(&t!("customer.not_scrubbed", db = ctx.db.display()));
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
    let tags = if tags.is_empty() {
        "-".to_owned()
    } else {
        tags.join(", ")
    };
    ctx.say(t!("customer.tags", id = c.id(), tags = tags))
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

fn clear_field(data: &mut CustomerData, field: ClearField) {
    match field {
        ClearField::Email => data.email = None,
        ClearField::Phone => data.phone = None,
        ClearField::Company => data.company = None,
        ClearField::Birthday => data.birthday = None,
        ClearField::Country => data.profile.country = None,
        ClearField::City => data.profile.city = None,
        ClearField::Channel => data.acquisition_channel = None,
        ClearField::Cost => data.acquisition_cost = None,
        ClearField::Reference => data.external_ref = None,
        ClearField::Notes => data.notes = FreeText::empty(),
    }
}

/// The profile fields `--set` and `--unset` know by name; any other key is a custom
/// attribute.
const PROFILE_KEYS: &str = "country, region, city, gender, income_band, industry, birth_year, interests, lifestyle, values";

/// A known profile field's name, read forgivingly (`Income Band`, `income-band`), or
/// `None` for a custom attribute. `attribute.KEY` always names a custom attribute.
fn profile_key(key: &str) -> Option<&'static str> {
    let k = key.trim().to_lowercase().replace(['-', ' '], "_");
    Some(match k.as_str() {
        "country" => "country",
        "region" => "region",
        "city" => "city",
        "gender" => "gender",
        "income_band" | "income" => "income_band",
        "industry" => "industry",
        "birth_year" => "birth_year",
        "interests" | "interest" => "interests",
        "lifestyle" | "lifestyles" => "lifestyle",
        "values" | "value" => "values",
        _ => return None,
    })
}

/// The custom attribute a key names (`attribute.` stripped).
fn custom_key(key: &str) -> Result<Tag> {
    let k = key.trim();
    let k = k.strip_prefix("attribute.").unwrap_or(k);
    Tag::parse(k).map_err(|e| anyhow!(t!("customer.bad_attribute", key = k, error = e)))
}

/// Comma-separated tags, as `interests=` takes them.
fn tag_list(value: &str) -> Result<solocrm_core::Tags> {
    let mut tags = solocrm_core::Tags::default();
    for t in value.split(',').filter(|t| !t.trim().is_empty()) {
        tags.insert(Tag::parse(t)?);
    }
    Ok(tags)
}

/// `--set KEY=VALUE`: a profile field or a custom attribute.
fn set_attribute(p: &mut Profile, pair: &str) -> Result<()> {
    let Some((key, value)) = pair.split_once('=') else {
        bail!(t!("customer.set_syntax", pair = pair));
    };
    let value = value.trim();
    if value.is_empty() {
        bail!(t!("customer.set_empty", key = key));
    }
    let known = if key.trim().starts_with("attribute.") {
        None
    } else {
        profile_key(key)
    };
    match known {
        Some("country") => p.country = Some(CountryCode::parse(value)?),
        Some("region") => p.region = Some(Label::parse(value)?),
        Some("city") => p.city = Some(Label::parse(value)?),
        Some("gender") => p.gender = Some(Gender::parse(value)?),
        Some("income_band") => p.income_band = Some(IncomeBand::parse(value)?),
        Some("industry") => p.industry = Some(Label::parse(value)?),
        Some("birth_year") => {
            let year: i32 = value
                .parse()
                .map_err(|_| anyhow!(t!("customer.bad_birth_year", value = value)))?;
            p.birth_year = Some(BirthYear::new(year)?);
        }
        Some("interests") => p.interests = tag_list(value)?,
        Some("lifestyle") => p.lifestyle = tag_list(value)?,
        Some("values") => p.values = tag_list(value)?,
        _ => {
            p.attributes.insert(custom_key(key)?, Label::parse(value)?);
        }
    }
    Ok(())
}

/// `--unset KEY`: removes a profile field or a custom attribute.
fn unset_attribute(p: &mut Profile, key: &str) -> Result<()> {
    let known = if key.trim().starts_with("attribute.") {
        None
    } else {
        profile_key(key)
    };
    match known {
        Some("country") => p.country = None,
        Some("region") => p.region = None,
        Some("city") => p.city = None,
        Some("gender") => p.gender = None,
        Some("income_band") => p.income_band = None,
        Some("industry") => p.industry = None,
        Some("birth_year") => p.birth_year = None,
        Some("interests") => p.interests = solocrm_core::Tags::default(),
        Some("lifestyle") => p.lifestyle = solocrm_core::Tags::default(),
        Some("values") => p.values = solocrm_core::Tags::default(),
        _ => {
            let k = custom_key(key)?;
            if p.attributes.remove(&k).is_none() {
                bail!(t!("customer.no_attribute", key = k, fields = PROFILE_KEYS));
            }
        }
    }
    Ok(())
}

/// `customer list`: up to `rows` customers of `query` by id (all with `None`), read
/// with their purchase summaries in one snapshot.
fn list(ctx: &mut Ctx, store: &Crm, mut query: CustomerQuery, rows: Option<usize>) -> Result<()> {
    let as_of = ctx.now;
    let (items, next, summaries) = store.read(|r| {
        let mut items = Vec::new();
        let next = if rows.is_none() {
            // Every row: one walk, which reads a segment's purchase facts once.
            items = r.all_matching(&query)?;
            None
        } else {
            loop {
                let want = rows.map_or(MAX_PAGE_SIZE as usize, |n| n - items.len());
                query.limit = u32::try_from(want.clamp(1, MAX_PAGE_SIZE as usize)).unwrap_or(1);
                let page = r.list_customers(&query)?;
                items.extend(page.items);
                match page.next {
                    Some(n) if rows.is_none_or(|max| items.len() < max) => query.after = Some(n),
                    other => break other,
                }
            }
        };
        let summaries = summaries(&r, &items, as_of)?;
        Ok((items, next, summaries))
    })?;
    if ctx.out.json {
        return ctx.out.json(&Page { items, next });
    }
    print_customers(ctx, &items, &summaries)?;
    if let Some(next) = next {
        ctx.say(t!(
            "customer.more",
            customers = tn!("count.customer", items.len()),
            next = next
        ))?;
    }
    Ok(())
}

/// Above this many rows, the list reads every buyer's purchase summary at once
/// rather than one summary per row.
const SUMMARY_BY_ROW_UP_TO: usize = 2_000;

/// Each customer's last purchase and total spent (before refunds) as of `as_of`.
fn summaries(
    r: &Reader<'_>,
    items: &[Customer],
    as_of: DateTime<Utc>,
) -> solocrm_core::StoreResult<Vec<(Option<DateTime<Utc>>, Money)>> {
    let currency = r.currency();
    if items.len() <= SUMMARY_BY_ROW_UP_TO {
        return items
            .iter()
            .map(|c| {
                let s = r.tx().purchase_summary(c.id(), as_of)?;
                Ok((s.last_at, s.total))
            })
            .collect();
    }
    // Every buyer's summary at once, from the totals the store keeps (ADR 0046), by
    // ascending id: not every purchase read again (issue 14).
    let all = r.tx().purchase_summaries(as_of)?;
    Ok(items
        .iter()
        .map(|c| match all.binary_search_by_key(&c.id(), |(id, _)| *id) {
            Ok(i) => (all[i].1.last_at, all[i].1.total),
            Err(_) => (None, Money::zero(currency)),
        })
        .collect())
}

fn print_customers(
    ctx: &mut Ctx,
    customers: &[Customer],
    summaries: &[(Option<DateTime<Utc>>, Money)],
) -> Result<()> {
    let mut t = Table::new(&[
        ">ID",
        "NAME",
        "STAGE",
        "LAST PURCHASE",
        ">SPENT",
        "EMAIL",
        "TAGS",
        "SINCE",
    ]);
    for (c, (last, spent)) in customers.iter().zip(summaries) {
        let tags: Vec<&str> = c.tags().iter().map(Tag::as_str).collect();
        t.row(vec![
            c.id().to_string(),
            c.name().to_string(),
            c.stage().to_string(),
            opt(last.map(|at| ctx.day(at))),
            spent.to_string(),
            opt(c.email()),
            tags.join(","),
            ctx.day(c.created_at()).to_string(),
        ]);
    }
    if t.is_empty() {
        return ctx.out.line(t!("customer.none_match"));
    }
    ctx.out.table(&t)
}

/// `customer search TEXT`: the customers matching, ranked (exact name first, then by
/// name; see `solocrm_core::search`).
fn search(ctx: &mut Ctx, store: &Crm, text: &str, page: crate::cli::Page) -> Result<()> {
    let text = SearchText::parse(text)?;
    let rows = ctx.rows(page);
    let (items, total) = store.search_customers(&text, rows)?;
    if ctx.out.json {
        return ctx.out.json(&serde_json::json!({
            "query": text.as_str(),
            "total": total,
            "items": items,
        }));
    }
    if items.is_empty() {
        ctx.say(t!("customer.no_match", text = text.as_str()))?;
        return Ok(());
    }
    let mut t = Table::new(&[">ID", "NAME", "STAGE", "EMAIL", "COMPANY", "CITY"]);
    for c in &items {
        t.row(vec![
            c.id().to_string(),
            c.name().to_string(),
            c.stage().to_string(),
            opt(c.email()),
            opt(c.data().company.as_ref()),
            opt(c.profile().city.as_ref()),
        ]);
    }
    ctx.out.table(&t)?;
    ctx.more(items.len(), total, "customers")
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
        .heading(t!("customer.heading", name = c.name(), id = c.id()))?;
    let since = ctx.day(c.created_at()).to_string();
    super::fields(
        ctx,
        10,
        vec![
            (t!("field.stage"), label(c.stage()).to_owned()),
            (t!("field.email"), opt(c.email())),
            (t!("field.phone"), opt(c.phone())),
            (t!("field.company"), opt(d.company.as_ref())),
            (t!("field.birthday"), opt(c.birthday())),
            (t!("field.country"), opt(d.profile.country.as_ref())),
            (t!("field.city"), opt(d.profile.city.as_ref())),
            (
                t!("field.tags"),
                if tags.is_empty() {
                    "-".into()
                } else {
                    tags.join(", ")
                },
            ),
            (
                t!("field.acquisition_channel"),
                opt(d.acquisition_channel.as_ref()),
            ),
            (t!("field.acquisition_cost"), opt(d.acquisition_cost)),
            (t!("field.reference"), opt(c.external_ref())),
            (t!("field.since"), since),
            (t!("field.points"), page.points_balance.to_string()),
            (t!("field.tier"), opt(page.tier.as_ref())),
        ],
    )?;
    if !d.notes.is_empty() {
        super::fields(ctx, 10, vec![(t!("field.notes"), d.notes.to_string())])?;
    }
    show_profile(ctx, &d.profile)?;
    show_relations(ctx, &page)?;
    super::need::open_table(ctx, &export.needs)?;
    show_automation(ctx, store, c.id())?;
    if export.purchases.iter().any(|r| !r.is_void()) {
        ctx.out.line("")?;
        let mut t = Table::new(&[">PURCHASE", "DATE", ">AMOUNT", "DESCRIPTION"]);
        // Voided records are in the JSON (with their marker), not in the table.
        for p in export.purchases.iter().filter(|r| !r.is_void()) {
            t.row(vec![
                p.id().to_string(),
                ctx.day(p.at()).to_string(),
                p.amount().to_string(),
                opt(p.description()),
            ]);
        }
        ctx.out.table(&t)?;
    }
    if export.interactions.iter().any(|r| !r.is_void()) {
        ctx.out.line("")?;
        let mut t = Table::new(&["DATE", "CHANNEL", "DIRECTION", "SUMMARY"]);
        // Voided records are in the JSON (with their marker), not in the table.
        for i in export.interactions.iter().filter(|r| !r.is_void()) {
            t.row(vec![
                ctx.day(i.at()).to_string(),
                i.channel().to_string(),
                i.direction().to_string(),
                i.summary().as_str().lines().next().unwrap_or("").to_owned(),
            ]);
        }
        ctx.out.table(&t)?;
    }
    if export.surveys.iter().any(|r| !r.is_void()) {
        ctx.out.line("")?;
        let mut t = Table::new(&["DATE", "KIND", ">SCORE", "COMMENT"]);
        // Voided records are in the JSON (with their marker), not in the table.
        for s in export.surveys.iter().filter(|r| !r.is_void()) {
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
            t.row(vec![
                ctx.day(h.at).to_string(),
                h.from.to_string(),
                h.to.to_string(),
                stage_why(&h.reason),
            ]);
        }
        ctx.out.table(&t)?;
    }
    Ok(())
}

/// Why a stage changed, in words: by hand (with the note, if any) or by which rule.
pub(super) fn stage_why(reason: &solocrm_core::StageReason) -> String {
    match reason {
        solocrm_core::StageReason::Manual { note: None } => t!("customer.why_manual").to_owned(),
        solocrm_core::StageReason::Manual { note: Some(n) } => {
            t!("customer.why_manual_note", note = n)
        }
        solocrm_core::StageReason::Rule { rule } => t!("customer.why_rule", rule = rule),
    }
}

/// The profile fields `customer edit --set` sets, those that are given.
fn show_profile(ctx: &mut Ctx, p: &Profile) -> Result<()> {
    let tags = |t: &solocrm_core::Tags| t.iter().map(Tag::as_str).collect::<Vec<_>>().join(", ");
    let mut lines: Vec<(&str, String)> = Vec::new();
    if let Some(v) = &p.region {
        lines.push((t!("field.region"), v.to_string()));
    }
    if let Some(v) = p.gender {
        lines.push((t!("field.gender"), v.to_string()));
    }
    if let Some(v) = p.income_band {
        lines.push((t!("field.income"), v.to_string()));
    }
    if let Some(v) = &p.industry {
        lines.push((t!("field.industry"), v.to_string()));
    }
    if let Some(v) = p.birth_year {
        lines.push((t!("field.born"), v.get().to_string()));
    }
    for (label, t) in [
        (t!("field.interests"), &p.interests),
        (t!("field.lifestyle"), &p.lifestyle),
        (t!("field.values"), &p.values),
    ] {
        if !t.is_empty() {
            lines.push((label, tags(t)));
        }
    }
    // Custom attributes by their own names.
    for (k, v) in &p.attributes {
        lines.push((k.as_str(), v.to_string()));
    }
    super::fields(ctx, 10, lines)
}

/// What the automation rules did for the customer, oldest first: each firing with
/// its rule, the occurrence that caused it (an outbox event, a birthday, a silence
/// …) and the task it created — the audit of every automatic action.
fn show_automation(ctx: &mut Ctx, store: &solocrm_core::Crm, id: CustomerId) -> Result<()> {
    let mut firings = store.read(|r| r.firings())?;
    firings.retain(|f| f.customer == id);
    if firings.is_empty() {
        return Ok(());
    }
    ctx.out.line("")?;
    let mut t = Table::new(&["FIRED", "RULE", "CAUSE", ">TASK"]);
    for f in &firings {
        t.row(vec![
            f.day.to_string(),
            f.rule.to_string(),
            f.occurrence.to_string(),
            opt(f.task),
        ]);
    }
    ctx.out.table(&t)
}

/// The open deals, open requests, open tasks and the consents in force.
fn show_relations(ctx: &mut Ctx, page: &CustomerPage) -> Result<()> {
    let export = &page.export;
    let deals: Vec<_> = export
        .deals
        .iter()
        .filter(|d| !d.stage().is_closed())
        .collect();
    if !deals.is_empty() {
        ctx.out.line("")?;
        let mut t = Table::new(&[">DEAL", "STAGE", ">VALUE", "CLOSE", "TITLE"]);
        for d in deals {
            t.row(vec![
                d.id().to_string(),
                d.stage().to_string(),
                d.value().to_string(),
                opt(d.expected_close()),
                d.title().to_string(),
            ]);
        }
        ctx.out.table(&t)?;
    }
    let requests: Vec<_> = export.requests.iter().filter(|r| r.is_open()).collect();
    if !requests.is_empty() {
        ctx.out.line("")?;
        let mut t = Table::new(&[">REQUEST", "KIND", "STATUS", "OPENED", "SUBJECT"]);
        for r in requests {
            t.row(vec![
                r.id().to_string(),
                r.kind().to_string(),
                r.status().to_string(),
                ctx.day(r.opened_at()).to_string(),
                r.subject().to_string(),
            ]);
        }
        ctx.out.table(&t)?;
    }
    let tasks: Vec<_> = export.tasks.iter().filter(|t| t.is_open()).collect();
    if !tasks.is_empty() {
        ctx.out.line("")?;
        let mut t = Table::new(&[">TASK", "DUE", "KIND", "TITLE"]);
        for task in tasks {
            t.row(vec![
                task.id().to_string(),
                task.due().to_string(),
                task.kind().to_string(),
                task.title().to_string(),
            ]);
        }
        ctx.out.table(&t)?;
    }
    let c = &export.customer;
    let mut purposes: Vec<&Tag> = Vec::new();
    for d in c.consents() {
        if !purposes.contains(&&d.purpose) {
            purposes.push(&d.purpose);
        }
    }
    if !purposes.is_empty() {
        ctx.out.line("")?;
        let mut t = Table::new(&["CONSENT", "STATE", "SINCE", "SOURCE"]);
        for p in purposes {
            let latest = c
                .consents()
                .iter()
                .enumerate()
                .filter(|(_, d)| &d.purpose == p)
                .max_by_key(|(i, d)| (d.at, *i))
                .map(|(_, d)| d);
            if let Some(d) = latest {
                t.row(vec![
                    p.to_string(),
                    if d.granted { "granted" } else { "revoked" }.into(),
                    ctx.day(d.at).to_string(),
                    d.source.to_string(),
                ]);
            }
        }
        ctx.out.table(&t)?;
    }
    Ok(())
}
