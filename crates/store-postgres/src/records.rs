//! The statements and row codecs of every kind of record. Each function takes the
//! connection of the open transaction and the tenant, which every statement binds as
//! `$1` and names in every `WHERE`, so no statement can reach another tenant's rows.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use postgres::Row;
use solocrm_core::port::{CustomerFilter, CustomerStage, IdKind};
use solocrm_core::{
    ActivityQuery, AuditAction, AuditEntry, AuditId, BusinessZone, Channel, Consent, Cost,
    CostCategory, CostId, CostVoid, Currency, Customer, CustomerData, CustomerId, CustomerKeys,
    Deal, DealId, DealNote, DealStage, DealStageChange, Direction, DomainEvent, Email, Event,
    EventSeq, ExternalRef, FreeText, Interaction, InteractionId, Label, LifecycleStage, NewDeal,
    NewInteraction, NewPointsEntry, NewPurchase, NewRefund, NewServiceRequest, NewSurveyResponse,
    NewTask, OpenQuery, PersonName, Phone, PointsEntry, PointsEntryId, PointsExpiry, PointsKind,
    PointsTier, PolicyRule, Predicate, Profile, Purchase, PurchaseId, PurchaseLog, PurchaseSummary,
    Recurrence, Refund, RefundId, RequestEvent, RequestEventKind, RequestId, RequestKind,
    SearchFields, SearchText, Segment, Sentiment, ServiceRequest, StageChange, StageReason,
    SurveyId, SurveyKind, SurveyResponse, SurveyScore, Tag, Tags, Task, TaskId, TaskKind,
    TaskQuery, TimeRange, Void,
};

use crate::codec::{Cols, date, key, minor, opt_ts, ts};
use crate::error::{Res, backend, corrupt};
use crate::pool::Conn;

/// Fails unless an update changed exactly one row: the operations layer updates only
/// stored records, so anything else is a fault to report, never to ignore.
fn one_row(changed: u64, what: &str) -> Res<()> {
    if changed == 1 {
        Ok(())
    } else {
        Err(corrupt(format!(
            "{what}: the update changed {changed} rows, not 1"
        )))
    }
}

fn seq(i: usize) -> Res<i64> {
    i64::try_from(i + 1).map_err(backend)
}

// ----- the tenant row -----

pub(crate) fn time_zone(c: &mut Conn, t: i64) -> Res<BusinessZone> {
    let row = c
        .query_opt("SELECT time_zone FROM tenants WHERE tenant_id = $1", &[&t])?
        .ok_or_else(|| corrupt(format!("tenants: no row for tenant {t}")))?;
    Cols::new(&row, "tenants").parse(0, BusinessZone::from_stored)
}

pub(crate) fn set_time_zone(c: &mut Conn, t: i64, zone: BusinessZone) -> Res<()> {
    let n = c.execute(
        "UPDATE tenants SET time_zone = $2 WHERE tenant_id = $1",
        &[&t, &zone.name()],
    )?;
    one_row(n, "tenants")
}

pub(crate) fn points_expiry(c: &mut Conn, t: i64) -> Res<Option<PointsExpiry>> {
    let row = c
        .query_opt(
            "SELECT points_valid_months, points_valid_from FROM tenants WHERE tenant_id = $1",
            &[&t],
        )?
        .ok_or_else(|| corrupt(format!("tenants: no row for tenant {t}")))?;
    let cols = Cols::new(&row, "tenants");
    match (cols.opt_int::<u32>(0)?, cols.opt_date(1)?) {
        (None, None) => Ok(None),
        (Some(m), Some(f)) => PointsExpiry::new(m, f)
            .map(Some)
            .map_err(|e| corrupt(format!("tenants: {e}"))),
        _ => Err(corrupt(
            "tenants: points_valid_months and points_valid_from must be set together".to_owned(),
        )),
    }
}

pub(crate) fn set_points_expiry(c: &mut Conn, t: i64, expiry: Option<&PointsExpiry>) -> Res<()> {
    let months = expiry.map(|e| i64::from(e.months()));
    let from = expiry.map(|e| date(e.from()));
    let n = c.execute(
        "UPDATE tenants SET points_valid_months = $2, points_valid_from = $3 WHERE tenant_id = $1",
        &[&t, &months, &from],
    )?;
    one_row(n, "tenants")
}

/// One more than the largest stored id of `kind` in the tenant (records are never
/// deleted, so the largest ever stored); 1 for none. One descent of the table's
/// primary key `(tenant_id, id)`.
pub(crate) fn next_id(c: &mut Conn, t: i64, kind: IdKind) -> Res<u64> {
    let sql = match kind {
        IdKind::Customer => "SELECT max(id) FROM customers WHERE tenant_id = $1",
        IdKind::Interaction => "SELECT max(id) FROM interactions WHERE tenant_id = $1",
        IdKind::Purchase => "SELECT max(id) FROM purchases WHERE tenant_id = $1",
        IdKind::Refund => "SELECT max(id) FROM refunds WHERE tenant_id = $1",
        IdKind::Survey => "SELECT max(id) FROM surveys WHERE tenant_id = $1",
        IdKind::Request => "SELECT max(id) FROM service_requests WHERE tenant_id = $1",
        IdKind::Deal => "SELECT max(id) FROM deals WHERE tenant_id = $1",
        IdKind::Task => "SELECT max(id) FROM tasks WHERE tenant_id = $1",
        IdKind::Points => "SELECT max(id) FROM points_entries WHERE tenant_id = $1",
        IdKind::Audit => "SELECT max(id) FROM audit_log WHERE tenant_id = $1",
        IdKind::Event => "SELECT max(seq) FROM events WHERE tenant_id = $1",
        IdKind::Cost => "SELECT max(id) FROM costs WHERE tenant_id = $1",
        IdKind::Need => "SELECT max(id) FROM needs WHERE tenant_id = $1",
    };
    let rows = c.query(sql, &[&t])?;
    let last = match rows.first() {
        Some(row) => Cols::new(row, "ids").opt_id(0, |id| id)?,
        None => None,
    };
    Ok(last.map_or(1, |id| id.saturating_add(1)))
}

// ----- customers -----

macro_rules! customer_cols {
    () => {
        "c.id, c.name, c.email, c.phone, c.company, c.birthday, c.profile, \
         c.acquisition_channel, c.acquisition_cost, c.external_ref, c.notes, c.created_at, \
         c.created_at_ns, c.stage, c.erased_at, c.erased_at_ns"
    };
}

pub(crate) fn erased(c: &mut Conn, t: i64, id: CustomerId) -> Res<Option<bool>> {
    let row = c.query_opt(
        "SELECT erased_at IS NOT NULL FROM customers WHERE tenant_id = $1 AND id = $2",
        &[&t, &key(id.get())],
    )?;
    row.map(|r| Cols::new(&r, "customers").bool(0)).transpose()
}

/// The customer's stage and erasure, from two columns of its row.
pub(crate) fn stage_of(c: &mut Conn, t: i64, id: CustomerId) -> Res<Option<CustomerStage>> {
    let row = c.query_opt(
        "SELECT stage, erased_at IS NOT NULL FROM customers WHERE tenant_id = $1 AND id = $2",
        &[&t, &key(id.get())],
    )?;
    row.map(|r| {
        let c = Cols::new(&r, "customers");
        Ok(CustomerStage {
            stage: c.parse(0, LifecycleStage::parse)?,
            erased: c.bool(1)?,
        })
    })
    .transpose()
}

/// The stage of every customer of the tenant who is not erased, by id (see
/// [`solocrm_core::port::ReadTx::customer_stages`]).
pub(crate) fn stages(c: &mut Conn, t: i64) -> Res<Vec<(CustomerId, LifecycleStage)>> {
    c.query(
        "SELECT id, stage FROM customers WHERE tenant_id = $1 AND erased_at IS NULL ORDER BY id",
        &[&t],
    )?
    .iter()
    .map(|row| {
        let c = Cols::new(row, "customers");
        Ok((
            c.id(0, CustomerId::new)?,
            c.parse(1, LifecycleStage::parse)?,
        ))
    })
    .collect()
}

/// The names of the customers with these ids, in the order asked (see
/// [`solocrm_core::port::ReadTx::customer_names`]): one query for them all.
pub(crate) fn names(
    c: &mut Conn,
    t: i64,
    ids: &[CustomerId],
) -> Res<Vec<(CustomerId, PersonName)>> {
    let keys: Vec<i64> = ids.iter().map(|id| key(id.get())).collect();
    let rows = c.query(
        "SELECT id, name FROM customers WHERE tenant_id = $1 AND id = ANY($2)",
        &[&t, &keys],
    )?;
    let mut found: HashMap<CustomerId, PersonName> = HashMap::with_capacity(rows.len());
    for row in &rows {
        let c = Cols::new(row, "customers");
        found.insert(c.id(0, CustomerId::new)?, c.parse(1, PersonName::parse)?);
    }
    Ok(ids
        .iter()
        .filter_map(|id| found.get(id).map(|name| (*id, name.clone())))
        .collect())
}

/// Sets the stage column of a customer's row, nothing else.
pub(crate) fn set_stage(c: &mut Conn, t: i64, id: CustomerId, stage: LifecycleStage) -> Res<()> {
    let n = c.execute(
        "UPDATE customers SET stage = $3 WHERE tenant_id = $1 AND id = $2",
        &[&t, &key(id.get()), &stage.as_str()],
    )?;
    match n {
        1 => Ok(()),
        _ => Err(corrupt(format!("customer {id} to update is not stored"))),
    }
}

/// Appends a consent decision to a stored customer's consents: numbered after the
/// last stored one, read from the primary key `(tenant_id, customer_id, seq)`. The
/// customer is looked up first, so that a missing one fails this call without
/// aborting the transaction (which a foreign-key violation would).
pub(crate) fn append_consent(c: &mut Conn, t: i64, id: CustomerId, consent: &Consent) -> Res<()> {
    if erased(c, t, id)?.is_none() {
        return Err(corrupt(format!("customer {id} to update is not stored")));
    }
    let (at, at_ns) = ts(consent.at);
    c.execute(
        "INSERT INTO consents (tenant_id, customer_id, seq, purpose, granted, at, at_ns, source) \
         VALUES ($1, $2, (SELECT coalesce(max(seq), 0) + 1 FROM consents \
                          WHERE tenant_id = $1 AND customer_id = $2), $3, $4, $5, $6, $7)",
        &[
            &t,
            &key(id.get()),
            &consent.purpose.as_str(),
            &consent.granted,
            &at,
            &at_ns,
            &consent.source.as_str(),
        ],
    )?;
    Ok(())
}

pub(crate) fn by_email(c: &mut Conn, t: i64, email: &Email) -> Res<Option<CustomerId>> {
    let row = c.query_opt(
        "SELECT id FROM customers WHERE tenant_id = $1 AND email_key = $2",
        &[&t, &email.key()],
    )?;
    row.map(|r| Cols::new(&r, "customers").id(0, CustomerId::new))
        .transpose()
}

pub(crate) fn by_external_ref(
    c: &mut Conn,
    t: i64,
    reference: &ExternalRef,
) -> Res<Option<CustomerId>> {
    let row = c.query_opt(
        "SELECT id FROM customers WHERE tenant_id = $1 AND external_ref = $2",
        &[&t, &reference.as_str()],
    )?;
    row.map(|r| Cols::new(&r, "customers").id(0, CustomerId::new))
        .transpose()
}

pub(crate) fn keys(c: &mut Conn, t: i64) -> Res<Vec<CustomerKeys>> {
    let rows = c.query(
        "SELECT id, external_ref, email, erased_at IS NOT NULL FROM customers \
         WHERE tenant_id = $1 ORDER BY id",
        &[&t],
    )?;
    rows.iter()
        .map(|row| {
            let c = Cols::new(row, "customers");
            Ok(CustomerKeys {
                id: c.id(0, CustomerId::new)?,
                external_ref: c.opt_parse(1, ExternalRef::parse)?,
                email: c.opt_parse(2, Email::parse)?,
                erased: c.bool(3)?,
            })
        })
        .collect()
}

const LIST_CUSTOMERS: &str = concat!(
    "SELECT ",
    customer_cols!(),
    " FROM customers c WHERE c.tenant_id = $1 AND c.id > $2 AND ($3 OR c.erased_at IS NULL) \
     AND ($5::text IS NULL OR c.stage = $5) \
     AND ($6::text IS NULL OR EXISTS (SELECT 1 FROM customer_tags g \
          WHERE g.tenant_id = c.tenant_id AND g.customer_id = c.id AND g.tag = $6)) \
     ORDER BY c.id LIMIT $4"
);

/// Up to `limit` customers passing `filter` with ids above `after`, ascending.
pub(crate) fn list(
    c: &mut Conn,
    t: i64,
    filter: &CustomerFilter,
    after: Option<CustomerId>,
    limit: u32,
    base: Currency,
) -> Res<Vec<Customer>> {
    let after = match after {
        None => 0,
        Some(a) => match i64::try_from(a.get()) {
            Ok(a) => a,
            // Beyond any id that can be stored: nothing comes after it.
            Err(_) => return Ok(Vec::new()),
        },
    };
    let stage = filter.stage.map(|s| s.as_str());
    let tag = filter.tag.as_ref().map(Tag::as_str);
    let rows = c.query(
        LIST_CUSTOMERS,
        &[
            &t,
            &after,
            &filter.include_erased,
            &i64::from(limit),
            &stage,
            &tag,
        ],
    )?;
    let rows = rows
        .iter()
        .map(|r| customer_row(r, base))
        .collect::<Res<Vec<_>>>()?;
    finish_customers(c, t, rows)
}

pub(crate) fn count(c: &mut Conn, t: i64) -> Res<u64> {
    let rows = c.query("SELECT count(*) FROM customers WHERE tenant_id = $1", &[&t])?;
    let n = match rows.first() {
        Some(row) => Cols::new(row, "customers").i64(0)?,
        None => 0,
    };
    Ok(u64::try_from(n).unwrap_or(0))
}

/// A customer row without its tags and consents.
pub(crate) struct CustomerRow {
    id: CustomerId,
    data: CustomerData,
    created_at: DateTime<Utc>,
    stage: LifecycleStage,
    erased_at: Option<DateTime<Utc>>,
}

fn customer_row(row: &Row, base: Currency) -> Res<CustomerRow> {
    let c = Cols::new(row, "customers");
    let profile = match c.opt_str(6)? {
        None => Profile::default(),
        Some(json) => {
            serde_json::from_str(json).map_err(|e| corrupt(format!("customers.profile: {e}")))?
        }
    };
    let data = CustomerData {
        name: c.parse(1, PersonName::parse)?,
        email: c.opt_parse(2, Email::parse)?,
        phone: c.opt_parse(3, Phone::parse)?,
        company: c.opt_parse(4, Label::parse)?,
        birthday: c.opt_date(5)?,
        tags: Tags::new(),
        profile,
        acquisition_channel: c.opt_parse(7, Tag::parse)?,
        acquisition_cost: c.opt_money(8, base)?,
        external_ref: c.opt_parse(9, ExternalRef::parse)?,
        notes: c.parse(10, FreeText::parse)?,
    };
    Ok(CustomerRow {
        id: c.id(0, CustomerId::new)?,
        data,
        created_at: c.time(11)?,
        stage: c.parse(13, LifecycleStage::parse)?,
        erased_at: c.opt_time(14)?,
    })
}

fn consent_row(c: &Cols<'_>, first: usize) -> Res<Consent> {
    Ok(Consent {
        purpose: c.parse(first, Tag::parse)?,
        granted: c.bool(first + 1)?,
        at: c.time(first + 2)?,
        source: c.parse(first + 4, Label::parse)?,
    })
}

fn load_tags(c: &mut Conn, t: i64, id: CustomerId) -> Res<Tags> {
    let rows = c.query(
        "SELECT tag FROM customer_tags WHERE tenant_id = $1 AND customer_id = $2",
        &[&t, &key(id.get())],
    )?;
    rows.iter()
        .map(|r| Cols::new(r, "customer_tags").parse(0, Tag::parse))
        .collect()
}

fn load_consents(c: &mut Conn, t: i64, id: CustomerId) -> Res<Vec<Consent>> {
    let rows = c.query(
        "SELECT purpose, granted, at, at_ns, source FROM consents \
         WHERE tenant_id = $1 AND customer_id = $2 ORDER BY seq",
        &[&t, &key(id.get())],
    )?;
    rows.iter()
        .map(|r| consent_row(&Cols::new(r, "consents"), 0))
        .collect()
}

/// Adds tags and consents to customer rows: one query each for the whole page.
fn finish_customers(c: &mut Conn, t: i64, rows: Vec<CustomerRow>) -> Res<Vec<Customer>> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<i64> = rows.iter().map(|r| key(r.id.get())).collect();
    let mut tags: HashMap<i64, Tags> = HashMap::new();
    for row in c.query(
        "SELECT customer_id, tag FROM customer_tags \
         WHERE tenant_id = $1 AND customer_id = ANY($2)",
        &[&t, &ids],
    )? {
        let c = Cols::new(&row, "customer_tags");
        tags.entry(c.i64(0)?)
            .or_default()
            .insert(c.parse(1, Tag::parse)?);
    }
    let mut consents: HashMap<i64, Vec<Consent>> = HashMap::new();
    for row in c.query(
        "SELECT customer_id, purpose, granted, at, at_ns, source FROM consents \
         WHERE tenant_id = $1 AND customer_id = ANY($2) ORDER BY customer_id, seq",
        &[&t, &ids],
    )? {
        let c = Cols::new(&row, "consents");
        consents
            .entry(c.i64(0)?)
            .or_default()
            .push(consent_row(&c, 1)?);
    }
    Ok(rows
        .into_iter()
        .map(|r| {
            let k = key(r.id.get());
            let mut data = r.data;
            data.tags = tags.remove(&k).unwrap_or_default();
            Customer::from_parts(
                r.id,
                data,
                r.created_at,
                r.stage,
                consents.remove(&k).unwrap_or_default(),
                r.erased_at,
            )
        })
        .collect())
}

pub(crate) fn find_customer(
    c: &mut Conn,
    t: i64,
    id: CustomerId,
    base: Currency,
) -> Res<Option<Customer>> {
    let Some(row) = c.query_opt(
        concat!(
            "SELECT ",
            customer_cols!(),
            " FROM customers c WHERE c.tenant_id = $1 AND c.id = $2"
        ),
        &[&t, &key(id.get())],
    )?
    else {
        return Ok(None);
    };
    let r = customer_row(&row, base)?;
    let mut data = r.data;
    data.tags = load_tags(c, t, r.id)?;
    let consents = load_consents(c, t, r.id)?;
    Ok(Some(Customer::from_parts(
        r.id,
        data,
        r.created_at,
        r.stage,
        consents,
        r.erased_at,
    )))
}

fn profile_json(p: &Profile) -> Res<Option<String>> {
    if *p == Profile::default() {
        Ok(None)
    } else {
        serde_json::to_string(p).map(Some).map_err(backend)
    }
}

const INSERT_CUSTOMER: &str = "INSERT INTO customers (tenant_id, id, name, email, email_key, \
     phone, company, birthday, profile, acquisition_channel, acquisition_cost, external_ref, \
     notes, created_at, created_at_ns, stage, erased_at, erased_at_ns) VALUES ($1, $2, $3, $4, \
     $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)";

const UPDATE_CUSTOMER: &str = "UPDATE customers SET name = $3, email = $4, email_key = $5, \
     phone = $6, company = $7, birthday = $8, profile = $9, acquisition_channel = $10, \
     acquisition_cost = $11, external_ref = $12, notes = $13, created_at = $14, \
     created_at_ns = $15, stage = $16, erased_at = $17, erased_at_ns = $18 \
     WHERE tenant_id = $1 AND id = $2";

/// Runs `sql`, an insert or update of a customer's row, with the tenant as `$1`, the
/// id as `$2` and the columns after them in the order of the table.
fn write_customer(c: &mut Conn, t: i64, sql: &'static str, cu: &Customer) -> Res<u64> {
    let d = cu.data();
    let cost = d.acquisition_cost.map(minor).transpose()?;
    let (at, at_ns) = ts(cu.created_at());
    let (erased, erased_ns) = opt_ts(cu.erased_at());
    let email = d.email.as_ref().map(Email::as_str);
    let email_key = d.email.as_ref().map(Email::key);
    let phone = d.phone.as_ref().map(Phone::as_str);
    let company = d.company.as_ref().map(Label::as_str);
    let birthday = d.birthday.map(date);
    let profile = profile_json(&d.profile)?;
    let channel = d.acquisition_channel.as_ref().map(Tag::as_str);
    let reference = d.external_ref.as_ref().map(ExternalRef::as_str);
    Ok(c.execute(
        sql,
        &[
            &t,
            &key(cu.id().get()),
            &d.name.as_str(),
            &email,
            &email_key,
            &phone,
            &company,
            &birthday,
            &profile,
            &channel,
            &cost,
            &reference,
            &d.notes.as_str(),
            &at,
            &at_ns,
            &cu.stage().as_str(),
            &erased,
            &erased_ns,
        ],
    )?)
}

/// Stores a new customer under its id, with its tags and consents.
pub(crate) fn insert_customer(c: &mut Conn, t: i64, cu: &Customer) -> Res<()> {
    write_customer(c, t, INSERT_CUSTOMER, cu)?;
    sync_tags(c, t, cu.id(), &Tags::new(), cu.tags())?;
    for (i, consent) in cu.consents().iter().enumerate() {
        insert_consent(c, t, cu.id(), i, consent)?;
    }
    Ok(())
}

/// Replaces a customer's row, and brings its tags and consents to the customer's.
/// Consents are a log: new ones are appended; anything else (an erasure) rewrites
/// them.
pub(crate) fn update_customer(c: &mut Conn, t: i64, cu: &Customer) -> Res<()> {
    let n = write_customer(c, t, UPDATE_CUSTOMER, cu)?;
    one_row(n, "customers")?;
    let old_tags = load_tags(c, t, cu.id())?;
    sync_tags(c, t, cu.id(), &old_tags, cu.tags())?;
    let old = load_consents(c, t, cu.id())?;
    let new = cu.consents();
    if new.starts_with(&old) {
        for (i, consent) in new.iter().enumerate().skip(old.len()) {
            insert_consent(c, t, cu.id(), i, consent)?;
        }
    } else {
        c.execute(
            "DELETE FROM consents WHERE tenant_id = $1 AND customer_id = $2",
            &[&t, &key(cu.id().get())],
        )?;
        for (i, consent) in new.iter().enumerate() {
            insert_consent(c, t, cu.id(), i, consent)?;
        }
    }
    Ok(())
}

fn insert_consent(c: &mut Conn, t: i64, id: CustomerId, i: usize, consent: &Consent) -> Res<()> {
    let (at, at_ns) = ts(consent.at);
    c.execute(
        "INSERT INTO consents (tenant_id, customer_id, seq, purpose, granted, at, at_ns, source) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        &[
            &t,
            &key(id.get()),
            &seq(i)?,
            &consent.purpose.as_str(),
            &consent.granted,
            &at,
            &at_ns,
            &consent.source.as_str(),
        ],
    )?;
    Ok(())
}

/// Makes the stored tags of `id` go from `old` to `new`.
fn sync_tags(c: &mut Conn, t: i64, id: CustomerId, old: &Tags, new: &Tags) -> Res<()> {
    for gone in old.difference(new) {
        c.execute(
            "DELETE FROM customer_tags WHERE tenant_id = $1 AND customer_id = $2 AND tag = $3",
            &[&t, &key(id.get()), &gone.as_str()],
        )?;
    }
    for added in new.difference(old) {
        c.execute(
            "INSERT INTO customer_tags (tenant_id, customer_id, tag) VALUES ($1, $2, $3)",
            &[&t, &key(id.get()), &added.as_str()],
        )?;
    }
    Ok(())
}

/// The column values of a stage change's reason: kind, note, rule.
fn reason_cols(reason: &StageReason) -> (&'static str, Option<&str>, Option<&'static str>) {
    match reason {
        StageReason::Manual { note } => ("manual", note.as_ref().map(Label::as_str), None),
        StageReason::Rule { rule } => ("rule", None, Some(rule.as_str())),
    }
}

const INSERT_STAGE_CHANGE: &str = "INSERT INTO stage_changes (tenant_id, customer_id, seq, \
     from_stage, to_stage, at, at_ns, reason, note, rule) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";

fn write_stage_change(
    c: &mut Conn,
    t: i64,
    sql: &'static str,
    n: i64,
    ch: &StageChange,
) -> Res<u64> {
    let (kind, note, rule) = reason_cols(&ch.reason);
    let (s, ns) = ts(ch.at);
    Ok(c.execute(
        sql,
        &[
            &t,
            &key(ch.customer.get()),
            &n,
            &ch.from.as_str(),
            &ch.to.as_str(),
            &s,
            &ns,
            &kind,
            &note,
            &rule,
        ],
    )?)
}

fn stage_changes_stored(c: &mut Conn, t: i64, customer: CustomerId) -> Res<i64> {
    let rows = c.query(
        "SELECT coalesce(max(seq), 0) FROM stage_changes WHERE tenant_id = $1 AND customer_id = $2",
        &[&t, &key(customer.get())],
    )?;
    match rows.first() {
        Some(row) => Cols::new(row, "stage_changes").i64(0),
        None => Ok(0),
    }
}

pub(crate) fn push_stage_change(c: &mut Conn, t: i64, ch: &StageChange) -> Res<()> {
    let n = stage_changes_stored(c, t, ch.customer)? + 1;
    write_stage_change(c, t, INSERT_STAGE_CHANGE, n, ch)?;
    Ok(())
}

/// Rewrites the stored history row by row, in place (same rows, same order); a
/// history of another length is refused.
pub(crate) fn rewrite_stage_history(
    c: &mut Conn,
    t: i64,
    customer: CustomerId,
    history: &[StageChange],
) -> Res<()> {
    let stored = stage_changes_stored(c, t, customer)?;
    if usize::try_from(stored).ok() != Some(history.len()) {
        return Err(corrupt(format!(
            "stage_changes: customer {customer} has {stored} stage changes, the rewrite {}",
            history.len()
        )));
    }
    for (i, ch) in history.iter().enumerate() {
        if ch.customer != customer {
            return Err(corrupt(format!(
                "stage_changes: a change of customer {} in the history of {customer}",
                ch.customer
            )));
        }
        let n = write_stage_change(
            c,
            t,
            "UPDATE stage_changes SET from_stage = $4, to_stage = $5, at = $6, at_ns = $7, \
             reason = $8, note = $9, rule = $10 \
             WHERE tenant_id = $1 AND customer_id = $2 AND seq = $3",
            seq(i)?,
            ch,
        )?;
        one_row(n, "stage_changes")?;
    }
    Ok(())
}

/// The time of the customer's last stage change: one row of the primary key
/// `(tenant_id, customer_id, seq)`, read backwards.
pub(crate) fn last_stage_change_at(
    c: &mut Conn,
    t: i64,
    id: CustomerId,
) -> Res<Option<DateTime<Utc>>> {
    let row = c.query_opt(
        "SELECT at, at_ns FROM stage_changes WHERE tenant_id = $1 AND customer_id = $2 \
         ORDER BY seq DESC LIMIT 1",
        &[&t, &key(id.get())],
    )?;
    row.map(|r| Cols::new(&r, "stage_changes").time(0))
        .transpose()
}

pub(crate) fn stage_history(c: &mut Conn, t: i64, id: CustomerId) -> Res<Vec<StageChange>> {
    let rows = c.query(
        "SELECT customer_id, from_stage, to_stage, at, at_ns, reason, note, rule \
         FROM stage_changes WHERE tenant_id = $1 AND customer_id = $2 ORDER BY seq",
        &[&t, &key(id.get())],
    )?;
    rows.iter().map(stage_change_row).collect()
}

/// See [`solocrm_core::port::ReadTx::stage_changes_from`]: the histories of the
/// customers with a change at or after `from`, in customer then push order.
pub(crate) fn stage_changes_from(
    c: &mut Conn,
    t: i64,
    from: DateTime<Utc>,
) -> Res<Vec<StageChange>> {
    let (s, ns) = ts(from);
    let rows = c.query(
        "SELECT customer_id, from_stage, to_stage, at, at_ns, reason, note, rule \
         FROM stage_changes WHERE tenant_id = $1 AND customer_id IN \
         (SELECT customer_id FROM stage_changes WHERE tenant_id = $1 \
          AND (at, at_ns) >= ($2, $3)) \
         ORDER BY customer_id, seq",
        &[&t, &s, &ns],
    )?;
    rows.iter().map(stage_change_row).collect()
}

/// One row of `stage_changes` (the columns of [`stage_history`]).
fn stage_change_row(row: &Row) -> Res<StageChange> {
    let c = Cols::new(row, "stage_changes");
    let reason = match c.str(5)? {
        "manual" => StageReason::Manual {
            note: c.opt_parse(6, Label::parse)?,
        },
        "rule" => StageReason::Rule {
            rule: c.parse(7, PolicyRule::parse)?,
        },
        other => return Err(corrupt(format!("stage_changes.reason: '{other}'"))),
    };
    Ok(StageChange {
        customer: c.id(0, CustomerId::new)?,
        from: c.parse(1, LifecycleStage::parse)?,
        to: c.parse(2, LifecycleStage::parse)?,
        at: c.time(3)?,
        reason,
    })
}

// ----- activity: interactions, purchases, refunds, surveys -----

/// The `(from, to)` bounds of a time range as column values; an open end becomes a
/// bound no stored instant reaches.
fn range_params(range: &TimeRange) -> (i64, i64, i64, i64) {
    let (fs, fns) = range.from.map_or((i64::MIN, 0), ts);
    let (us, uns) = range.to.map_or((i64::MAX, 0), ts);
    (fs, fns, us, uns)
}

/// Declares the two statements of a time-ordered activity list within
/// `[($2, $3), ($4, $5))`, by time then id: all customers, and one customer (`$6`,
/// through the `(tenant_id, customer_id, at, at_ns, id)` index). Two statements, not
/// one with `$6 IS NULL OR …`, so that a cached generic plan of the one-customer list
/// still uses the index.
macro_rules! activity_sql {
    ($all:ident, $one:ident, $cols:expr, $table:literal) => {
        const $all: &str = concat!(
            "SELECT ",
            $cols,
            " FROM ",
            $table,
            " x WHERE x.tenant_id = $1 AND (x.at, x.at_ns) >= ($2, $3) \
             AND (x.at, x.at_ns) < ($4, $5) ORDER BY x.at, x.at_ns, x.id"
        );
        const $one: &str = concat!(
            "SELECT ",
            $cols,
            " FROM ",
            $table,
            " x WHERE x.tenant_id = $1 AND x.customer_id = $6 \
             AND (x.at, x.at_ns) >= ($2, $3) AND (x.at, x.at_ns) < ($4, $5) \
             ORDER BY x.at, x.at_ns, x.id"
        );
    };
}

/// [`activity_sql!`] for the kinds that can be voided: `$6` says whether voided
/// records are listed too, and the one customer is `$7`.
macro_rules! voidable_sql {
    ($all:ident, $one:ident, $cols:expr, $table:literal) => {
        const $all: &str = concat!(
            "SELECT ",
            $cols,
            " FROM ",
            $table,
            " x WHERE x.tenant_id = $1 AND (x.at, x.at_ns) >= ($2, $3) \
             AND (x.at, x.at_ns) < ($4, $5) AND ($6 OR x.void_at IS NULL) \
             ORDER BY x.at, x.at_ns, x.id"
        );
        const $one: &str = concat!(
            "SELECT ",
            $cols,
            " FROM ",
            $table,
            " x WHERE x.tenant_id = $1 AND x.customer_id = $7 \
             AND (x.at, x.at_ns) >= ($2, $3) AND (x.at, x.at_ns) < ($4, $5) \
             AND ($6 OR x.void_at IS NULL) ORDER BY x.at, x.at_ns, x.id"
        );
    };
}

macro_rules! interaction_cols {
    () => {
        "x.id, x.customer_id, x.channel, x.direction, x.at, x.at_ns, x.summary, x.sentiment, \
         x.void_at, x.void_at_ns, x.void_by, x.void_reason"
    };
}
macro_rules! purchase_cols {
    () => {
        "x.id, x.customer_id, x.at, x.at_ns, x.amount, x.cost, x.description, x.items, \
         x.external_ref, x.deal_id, x.void_at, x.void_at_ns, x.void_by, x.void_reason"
    };
}
macro_rules! survey_cols {
    () => {
        "x.id, x.customer_id, x.at, x.at_ns, x.kind, x.score, x.comment, x.void_at, \
         x.void_at_ns, x.void_by, x.void_reason"
    };
}

voidable_sql!(
    INTERACTIONS,
    INTERACTIONS_OF,
    interaction_cols!(),
    "interactions"
);
voidable_sql!(PURCHASES, PURCHASES_OF, purchase_cols!(), "purchases");
activity_sql!(
    REFUNDS,
    REFUNDS_OF,
    "x.id, x.customer_id, x.purchase_id, x.at, x.at_ns, x.amount, x.reason",
    "refunds"
);
voidable_sql!(SURVEYS, SURVEYS_OF, survey_cols!(), "surveys");

fn activity(
    c: &mut Conn,
    t: i64,
    (all, one): (&'static str, &'static str),
    query: &ActivityQuery,
) -> Res<Vec<Row>> {
    let (fs, fns, us, uns) = range_params(&query.range);
    Ok(match query.customer {
        None => c.query(all, &[&t, &fs, &fns, &us, &uns])?,
        Some(id) => c.query(one, &[&t, &fs, &fns, &us, &uns, &key(id.get())])?,
    })
}

/// [`activity`] for the statements of [`voidable_sql!`].
fn voidable(
    c: &mut Conn,
    t: i64,
    (all, one): (&'static str, &'static str),
    query: &ActivityQuery,
) -> Res<Vec<Row>> {
    let (fs, fns, us, uns) = range_params(&query.range);
    let voided = query.include_voided;
    Ok(match query.customer {
        None => c.query(all, &[&t, &fs, &fns, &us, &uns, &voided])?,
        Some(id) => c.query(one, &[&t, &fs, &fns, &us, &uns, &voided, &key(id.get())])?,
    })
}

/// The four void columns of a record: `void_at`, `void_at_ns`, `void_by`,
/// `void_reason`, all null for a record that is not voided.
fn void_params(void: Option<&Void>) -> (Option<i64>, Option<i64>, Option<&str>, Option<&str>) {
    let (at, at_ns) = opt_ts(void.map(|v| v.at));
    (
        at,
        at_ns,
        void.and_then(|v| v.by.as_ref()).map(Label::as_str),
        void.and_then(|v| v.reason.as_ref()).map(FreeText::as_str),
    )
}

/// The interaction with this id, voided or not.
pub(crate) fn interaction(c: &mut Conn, t: i64, id: InteractionId) -> Res<Option<Interaction>> {
    let row = c.query_opt(
        concat!(
            "SELECT ",
            interaction_cols!(),
            " FROM interactions x WHERE x.tenant_id = $1 AND x.id = $2"
        ),
        &[&t, &key(id.get())],
    )?;
    row.map(|r| interaction_row(&r)).transpose()
}

/// The survey answer with this id, voided or not.
pub(crate) fn survey(c: &mut Conn, t: i64, id: SurveyId) -> Res<Option<SurveyResponse>> {
    let row = c.query_opt(
        concat!(
            "SELECT ",
            survey_cols!(),
            " FROM surveys x WHERE x.tenant_id = $1 AND x.id = $2"
        ),
        &[&t, &key(id.get())],
    )?;
    row.map(|r| survey_row(&r)).transpose()
}

pub(crate) fn interactions(c: &mut Conn, t: i64, query: &ActivityQuery) -> Res<Vec<Interaction>> {
    voidable(c, t, (INTERACTIONS, INTERACTIONS_OF), query)?
        .iter()
        .map(interaction_row)
        .collect()
}

fn interaction_row(row: &Row) -> Res<Interaction> {
    let c = Cols::new(row, "interactions");
    Ok(Interaction::new(
        c.id(0, InteractionId::new)?,
        NewInteraction {
            customer: c.id(1, CustomerId::new)?,
            channel: c.parse(2, Channel::parse)?,
            direction: c.parse(3, Direction::parse)?,
            at: c.time(4)?,
            summary: c.parse(6, FreeText::parse)?,
            sentiment: c.opt_parse(7, Sentiment::parse)?,
        },
    )
    .with_void(c.void(8)?))
}

const INSERT_INTERACTION: &str = "INSERT INTO interactions (tenant_id, id, customer_id, channel, \
     direction, at, at_ns, summary, sentiment, void_at, void_at_ns, void_by, void_reason) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)";
const UPDATE_INTERACTION: &str = "UPDATE interactions SET customer_id = $3, channel = $4, \
     direction = $5, at = $6, at_ns = $7, summary = $8, sentiment = $9, void_at = $10, \
     void_at_ns = $11, void_by = $12, void_reason = $13 WHERE tenant_id = $1 AND id = $2";

pub(crate) fn write_interaction(c: &mut Conn, t: i64, i: &Interaction, insert: bool) -> Res<()> {
    let (at, at_ns) = ts(i.at());
    let sentiment = i.sentiment().map(Sentiment::as_str);
    let (void_at, void_at_ns, void_by, void_reason) = void_params(i.void());
    let n = c.execute(
        if insert {
            INSERT_INTERACTION
        } else {
            UPDATE_INTERACTION
        },
        &[
            &t,
            &key(i.id().get()),
            &key(i.customer().get()),
            &i.channel().as_str(),
            &i.direction().as_str(),
            &at,
            &at_ns,
            &i.summary().as_str(),
            &sentiment,
            &void_at,
            &void_at_ns,
            &void_by,
            &void_reason,
        ],
    )?;
    one_row(n, "interactions")
}

pub(crate) fn purchases(
    c: &mut Conn,
    t: i64,
    query: &ActivityQuery,
    base: Currency,
) -> Res<Vec<Purchase>> {
    voidable(c, t, (PURCHASES, PURCHASES_OF), query)?
        .iter()
        .map(|r| purchase_row(r, base))
        .collect()
}

pub(crate) fn purchase(
    c: &mut Conn,
    t: i64,
    id: PurchaseId,
    base: Currency,
) -> Res<Option<Purchase>> {
    let row = c.query_opt(
        concat!(
            "SELECT ",
            purchase_cols!(),
            " FROM purchases x WHERE x.tenant_id = $1 AND x.id = $2"
        ),
        &[&t, &key(id.get())],
    )?;
    row.map(|r| purchase_row(&r, base)).transpose()
}

fn purchase_row(row: &Row, base: Currency) -> Res<Purchase> {
    let c = Cols::new(row, "purchases");
    let fields = NewPurchase {
        customer: c.id(1, CustomerId::new)?,
        at: c.time(2)?,
        amount: c.money(4, base)?,
        cost: c.opt_money(5, base)?,
        description: c.opt_parse(6, FreeText::parse)?,
        items: c.opt_int(7)?,
        external_ref: c.opt_parse(8, ExternalRef::parse)?,
        deal: c.opt_id(9, DealId::new)?,
    };
    if fields.amount.is_negative() || fields.cost.is_some_and(|m| m.is_negative()) {
        return Err(corrupt("purchases: a negative amount"));
    }
    Ok(Purchase::new(c.id(0, PurchaseId::new)?, fields).with_void(c.void(10)?))
}

pub(crate) fn purchase_by_ref(
    c: &mut Conn,
    t: i64,
    reference: &ExternalRef,
) -> Res<Option<PurchaseId>> {
    let row = c.query_opt(
        "SELECT id FROM purchases WHERE tenant_id = $1 AND external_ref = $2",
        &[&t, &reference.as_str()],
    )?;
    row.map(|r| Cols::new(&r, "purchases").id(0, PurchaseId::new))
        .transpose()
}

const INSERT_PURCHASE: &str = "INSERT INTO purchases (tenant_id, id, customer_id, at, at_ns, \
     amount, cost, description, items, external_ref, deal_id, void_at, void_at_ns, void_by, \
     void_reason) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)";
const INSERT_PURCHASE_UNLESS_TAKEN: &str = "INSERT INTO purchases (tenant_id, id, customer_id, \
     at, at_ns, amount, cost, description, items, external_ref, deal_id, void_at, void_at_ns, \
     void_by, void_reason) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) \
     ON CONFLICT (tenant_id, external_ref) DO NOTHING";
const UPDATE_PURCHASE: &str = "UPDATE purchases SET customer_id = $3, at = $4, at_ns = $5, \
     amount = $6, cost = $7, description = $8, items = $9, external_ref = $10, deal_id = $11, \
     void_at = $12, void_at_ns = $13, void_by = $14, void_reason = $15 \
     WHERE tenant_id = $1 AND id = $2";

/// How [`write_purchase`] writes.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum PurchaseWrite {
    Insert,
    InsertUnlessRefTaken,
    Update,
}

/// Writes `p`; says how many rows changed (0 only for an insert whose reference is
/// taken).
pub(crate) fn write_purchase(c: &mut Conn, t: i64, p: &Purchase, how: PurchaseWrite) -> Res<u64> {
    let (at, at_ns) = ts(p.at());
    let amount = minor(p.amount())?;
    let cost = p.cost().map(minor).transpose()?;
    let description = p.description().map(FreeText::as_str);
    let items = p.items().map(i64::from);
    let reference = p.external_ref().map(ExternalRef::as_str);
    let deal = p.deal().map(|d| key(d.get()));
    let (void_at, void_at_ns, void_by, void_reason) = void_params(p.void());
    let sql = match how {
        PurchaseWrite::Insert => INSERT_PURCHASE,
        PurchaseWrite::InsertUnlessRefTaken => INSERT_PURCHASE_UNLESS_TAKEN,
        PurchaseWrite::Update => UPDATE_PURCHASE,
    };
    let n = c.execute(
        sql,
        &[
            &t,
            &key(p.id().get()),
            &key(p.customer().get()),
            &at,
            &at_ns,
            &amount,
            &cost,
            &description,
            &items,
            &reference,
            &deal,
            &void_at,
            &void_at_ns,
            &void_by,
            &void_reason,
        ],
    )?;
    if how != PurchaseWrite::InsertUnlessRefTaken {
        one_row(n, "purchases")?;
    }
    Ok(n)
}

/// The name of tenant `t`'s partition of `purchases` (schema v5, ADR 0019), qualified
/// with the schema of `purchases`.
fn partition_name(c: &mut Conn, t: i64) -> Res<String> {
    // A catalog read, not one of the books' statements (which name the tenant).
    let row = c.client.query_one(
        "SELECT relnamespace::regnamespace::text FROM pg_class \
         WHERE oid = 'purchases'::regclass",
        &[],
    )?;
    let schema = Cols::new(&row, "pg_class").str(0)?.to_owned();
    Ok(format!("{schema}.purchases_t{t}"))
}

/// Whether tenant `t` has its partition of `purchases` attached.
pub(crate) fn has_partition(c: &mut Conn, t: i64) -> Res<bool> {
    let row = c.client.query_one(
        "SELECT EXISTS (SELECT 1 FROM pg_inherits i JOIN pg_class p ON p.oid = i.inhrelid \
         WHERE i.inhparent = 'purchases'::regclass \
         AND p.relname = 'purchases_t' || $1::bigint::text)",
        &[&t],
    )?;
    Cols::new(&row, "pg_inherits").bool(0)
}

/// Creates tenant `t`'s partition of `purchases`, empty, and attaches it: the table
/// first, then `ATTACH PARTITION`, which locks `purchases` in SHARE UPDATE EXCLUSIVE
/// mode only (other tenants read and write on; `CREATE TABLE … PARTITION OF` would
/// lock it ACCESS EXCLUSIVE). Its `CHECK (tenant_id = t)` spares the attach a scan.
pub(crate) fn create_partition(c: &mut Conn, t: i64) -> Res<()> {
    let name = stage_partition(c, t)?;
    c.batch(&format!(
        "ALTER TABLE purchases ATTACH PARTITION {name} FOR VALUES IN ({t})"
    ))?;
    Ok(())
}

/// Creates tenant `t`'s partition of `purchases` as a plain table without keys,
/// indexes or foreign keys, not attached (nothing reads it through `purchases` yet),
/// for a bulk load to fill with `COPY`; [`attach_staged`] then builds what the table
/// needs in one pass each and attaches it. Returns its qualified name.
pub(crate) fn stage_partition(c: &mut Conn, t: i64) -> Res<String> {
    let name = partition_name(c, t)?;
    c.batch(&format!(
        "CREATE TABLE {name} (LIKE purchases INCLUDING DEFAULTS INCLUDING CONSTRAINTS); \
         ALTER TABLE {name} ADD CHECK (tenant_id = {t})"
    ))?;
    Ok(name)
}

/// Builds the keys and the index of the staged partition `name` of tenant `t` (each
/// from a sorted pass over the loaded rows, with 256 MB to sort in) and attaches it:
/// the attach takes the built indexes as the partitions of the parent's, and checks
/// the foreign keys to `customers` and `deals` with one join each. A duplicate id or
/// reference, or a missing customer or deal, fails here as it would have at the row.
pub(crate) fn attach_staged(c: &mut Conn, t: i64, name: &str) -> Res<()> {
    c.batch(&format!(
        "SET LOCAL maintenance_work_mem = '256MB'; \
         ALTER TABLE {name} ADD PRIMARY KEY (tenant_id, id), ADD UNIQUE (tenant_id, external_ref); \
         CREATE INDEX ON {name} (tenant_id, customer_id, at, at_ns, id); \
         ALTER TABLE purchases ATTACH PARTITION {name} FOR VALUES IN ({t})"
    ))?;
    Ok(())
}

/// Every stored purchase reference of the tenant and its purchase, for a bulk load
/// that answers "is this reference taken?" without a query per row.
pub(crate) fn purchase_refs(c: &mut Conn, t: i64) -> Res<HashMap<String, PurchaseId>> {
    c.query(
        "SELECT external_ref, id FROM purchases WHERE tenant_id = $1 \
         AND external_ref IS NOT NULL",
        &[&t],
    )?
    .iter()
    .map(|row| {
        let c = Cols::new(row, "purchases");
        Ok((c.str(0)?.to_owned(), c.id(1, PurchaseId::new)?))
    })
    .collect()
}

/// Whether each of the tenant's customers is erased, by id: one read for a bulk load,
/// which checks every row's customer.
pub(crate) fn erased_by_id(c: &mut Conn, t: i64) -> Res<HashMap<i64, bool>> {
    c.query(
        "SELECT id, erased_at IS NOT NULL FROM customers WHERE tenant_id = $1",
        &[&t],
    )?
    .iter()
    .map(|row| {
        let c = Cols::new(row, "customers");
        Ok((c.i64(0)?, c.bool(1)?))
    })
    .collect()
}

/// Stores `rows` with one binary `COPY` (in the open transaction). The purchases must
/// be new, as inserts are; a clash fails the whole `COPY`.
///
/// `table` is `purchases`, or the tenant's partition still being loaded (see
/// [`stage_partition`]).
pub(crate) fn copy_purchases(c: &mut Conn, t: i64, table: &str, rows: &[Purchase]) -> Res<()> {
    use postgres::binary_copy::BinaryCopyInWriter;
    use postgres::types::Type;
    if rows.is_empty() {
        return Ok(());
    }
    let sink = c.client.copy_in(&format!(
        "COPY {table} (tenant_id, id, customer_id, at, at_ns, amount, cost, description, \
         items, external_ref, deal_id, void_at, void_at_ns, void_by, void_reason) \
         FROM STDIN (FORMAT binary)"
    ))?;
    let types = [
        Type::INT8,
        Type::INT8,
        Type::INT8,
        Type::INT8,
        Type::INT8,
        Type::INT8,
        Type::INT8,
        Type::TEXT,
        Type::INT8,
        Type::TEXT,
        Type::INT8,
        Type::INT8,
        Type::INT8,
        Type::TEXT,
        Type::TEXT,
    ];
    let mut writer = BinaryCopyInWriter::new(sink, &types);
    for p in rows {
        let (at, at_ns) = ts(p.at());
        let amount = minor(p.amount())?;
        let cost = p.cost().map(minor).transpose()?;
        let description = p.description().map(FreeText::as_str);
        let items = p.items().map(i64::from);
        let reference = p.external_ref().map(ExternalRef::as_str);
        let deal = p.deal().map(|d| key(d.get()));
        let (void_at, void_at_ns, void_by, void_reason) = void_params(p.void());
        writer.write(&[
            &t,
            &key(p.id().get()),
            &key(p.customer().get()),
            &at,
            &at_ns,
            &amount,
            &cost,
            &description,
            &items,
            &reference,
            &deal,
            &void_at,
            &void_at_ns,
            &void_by,
            &void_reason,
        ])?;
    }
    writer.finish()?;
    Ok(())
}

/// What a segment needs of a customer's purchases up to `as_of`, summed exactly in
/// Rust.
pub(crate) fn purchase_summary(
    c: &mut Conn,
    t: i64,
    id: CustomerId,
    as_of: DateTime<Utc>,
    base: Currency,
) -> Res<PurchaseSummary> {
    let (s, ns) = ts(as_of);
    let mut summary = PurchaseSummary::none(base);
    for row in c.query(
        "SELECT at, at_ns, amount FROM purchases WHERE tenant_id = $1 AND customer_id = $2 \
         AND (at, at_ns) <= ($3, $4) AND void_at IS NULL",
        &[&t, &key(id.get()), &s, &ns],
    )? {
        let c = Cols::new(&row, "purchases");
        summary
            .add(c.time(0)?, c.money(2, base)?)
            .map_err(backend)?;
    }
    Ok(summary)
}

/// [`purchase_summary`] of every customer with a purchase up to `as_of`, by id, in
/// one query.
pub(crate) fn purchase_summaries(
    c: &mut Conn,
    t: i64,
    as_of: DateTime<Utc>,
    base: Currency,
) -> Res<Vec<(CustomerId, PurchaseSummary)>> {
    let (s, ns) = ts(as_of);
    let mut out: Vec<(CustomerId, PurchaseSummary)> = Vec::new();
    for row in c.query(
        "SELECT customer_id, at, at_ns, amount FROM purchases WHERE tenant_id = $1 \
         AND (at, at_ns) <= ($2, $3) AND void_at IS NULL ORDER BY customer_id",
        &[&t, &s, &ns],
    )? {
        let c = Cols::new(&row, "purchases");
        let id = c.id(0, CustomerId::new)?;
        if out.last().is_none_or(|(last, _)| *last != id) {
            out.push((id, PurchaseSummary::none(base)));
        }
        if let Some((_, summary)) = out.last_mut() {
            summary
                .add(c.time(1)?, c.money(3, base)?)
                .map_err(backend)?;
        }
    }
    Ok(out)
}

/// The dense index of each customer id in a purchase log.
enum DenseIndex {
    /// `table[id]` is the dense index (`u32::MAX` for no customer).
    Table(Vec<u32>),
    /// Sparse ids.
    Map(HashMap<i64, u32>),
}

impl DenseIndex {
    fn new(customers: &[CustomerId]) -> Res<Self> {
        let max = customers.last().map_or(0, |c| c.get());
        let dense = |i: usize| u32::try_from(i).map_err(|_| corrupt("more than 2^32 customers"));
        if max
            <= (customers.len() as u64)
                .saturating_mul(4)
                .saturating_add(1024)
        {
            let len = usize::try_from(max).map_err(backend)?.saturating_add(1);
            let mut table = vec![u32::MAX; len];
            for (i, c) in customers.iter().enumerate() {
                let slot = usize::try_from(c.get()).map_err(backend)?;
                table[slot] = dense(i)?;
            }
            Ok(DenseIndex::Table(table))
        } else {
            let mut map = HashMap::with_capacity(customers.len());
            for (i, c) in customers.iter().enumerate() {
                map.insert(key(c.get()), dense(i)?);
            }
            Ok(DenseIndex::Map(map))
        }
    }

    fn get(&self, id: i64) -> Option<u32> {
        match self {
            DenseIndex::Table(t) => usize::try_from(id)
                .ok()
                .and_then(|i| t.get(i))
                .copied()
                .filter(|&d| d != u32::MAX),
            DenseIndex::Map(m) => m.get(&id).copied(),
        }
    }
}

pub(crate) fn purchase_log(c: &mut Conn, t: i64, base: Currency) -> Res<PurchaseLog> {
    let customers = c
        .query(
            "SELECT id FROM customers WHERE tenant_id = $1 ORDER BY id",
            &[&t],
        )?
        .iter()
        .map(|r| Cols::new(r, "customers").id(0, CustomerId::new))
        .collect::<Res<Vec<_>>>()?;
    let index = DenseIndex::new(&customers)?;
    let mut log = PurchaseLog::with_customers(base, customers);
    for row in c.query(
        "SELECT customer_id, at, amount FROM purchases WHERE tenant_id = $1 AND void_at IS NULL \
         ORDER BY id",
        &[&t],
    )? {
        let cols = Cols::new(&row, "purchases");
        let customer = cols.i64(0)?;
        let dense = index
            .get(customer)
            .ok_or_else(|| corrupt(format!("purchases: unknown customer {customer}")))?;
        log.push(dense, cols.i64(1)?, cols.i64(2)?);
    }
    Ok(log)
}

pub(crate) fn refunds(
    c: &mut Conn,
    t: i64,
    query: &ActivityQuery,
    base: Currency,
) -> Res<Vec<Refund>> {
    activity(c, t, (REFUNDS, REFUNDS_OF), query)?
        .iter()
        .map(|r| refund_row(r, base))
        .collect()
}

pub(crate) fn refunds_of(
    c: &mut Conn,
    t: i64,
    purchase: PurchaseId,
    base: Currency,
) -> Res<Vec<Refund>> {
    c.query(
        "SELECT x.id, x.customer_id, x.purchase_id, x.at, x.at_ns, x.amount, x.reason \
         FROM refunds x WHERE x.tenant_id = $1 AND x.purchase_id = $2 ORDER BY x.id",
        &[&t, &key(purchase.get())],
    )?
    .iter()
    .map(|r| refund_row(r, base))
    .collect()
}

fn refund_row(row: &Row, base: Currency) -> Res<Refund> {
    let c = Cols::new(row, "refunds");
    let amount = c.money(5, base)?;
    if amount.is_negative() || amount.is_zero() {
        return Err(corrupt(format!("refunds.amount: {amount} is not positive")));
    }
    Ok(Refund::new(
        c.id(0, RefundId::new)?,
        c.id(1, CustomerId::new)?,
        NewRefund {
            purchase: c.id(2, PurchaseId::new)?,
            at: c.time(3)?,
            amount,
            reason: c.opt_parse(6, FreeText::parse)?,
        },
    ))
}

pub(crate) fn write_refund(c: &mut Conn, t: i64, r: &Refund, insert: bool) -> Res<()> {
    let (at, at_ns) = ts(r.at());
    let amount = minor(r.amount())?;
    let reason = r.reason().map(FreeText::as_str);
    let n = c.execute(
        if insert {
            "INSERT INTO refunds (tenant_id, id, purchase_id, customer_id, at, at_ns, amount, \
             reason) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
        } else {
            "UPDATE refunds SET purchase_id = $3, customer_id = $4, at = $5, at_ns = $6, \
             amount = $7, reason = $8 WHERE tenant_id = $1 AND id = $2"
        },
        &[
            &t,
            &key(r.id().get()),
            &key(r.purchase().get()),
            &key(r.customer().get()),
            &at,
            &at_ns,
            &amount,
            &reason,
        ],
    )?;
    one_row(n, "refunds")
}

pub(crate) fn surveys(c: &mut Conn, t: i64, query: &ActivityQuery) -> Res<Vec<SurveyResponse>> {
    voidable(c, t, (SURVEYS, SURVEYS_OF), query)?
        .iter()
        .map(survey_row)
        .collect()
}

fn survey_row(row: &Row) -> Res<SurveyResponse> {
    let c = Cols::new(row, "surveys");
    let kind = c.parse(4, SurveyKind::parse)?;
    let score =
        SurveyScore::new(kind, c.i64(5)?).map_err(|e| corrupt(format!("surveys.score: {e}")))?;
    Ok(SurveyResponse::new(
        c.id(0, SurveyId::new)?,
        NewSurveyResponse {
            customer: c.id(1, CustomerId::new)?,
            at: c.time(2)?,
            score,
            comment: c.opt_parse(6, FreeText::parse)?,
        },
    )
    .with_void(c.void(7)?))
}

pub(crate) fn write_survey(c: &mut Conn, t: i64, s: &SurveyResponse, insert: bool) -> Res<()> {
    let (at, at_ns) = ts(s.at());
    let comment = s.comment().map(FreeText::as_str);
    let (void_at, void_at_ns, void_by, void_reason) = void_params(s.void());
    let n = c.execute(
        if insert {
            "INSERT INTO surveys (tenant_id, id, customer_id, at, at_ns, kind, score, comment, \
             void_at, void_at_ns, void_by, void_reason) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
        } else {
            "UPDATE surveys SET customer_id = $3, at = $4, at_ns = $5, kind = $6, score = $7, \
             comment = $8, void_at = $9, void_at_ns = $10, void_by = $11, void_reason = $12 \
             WHERE tenant_id = $1 AND id = $2"
        },
        &[
            &t,
            &key(s.id().get()),
            &key(s.customer().get()),
            &at,
            &at_ns,
            &s.score().kind().as_str(),
            &i64::from(s.score().value()),
            &comment,
            &void_at,
            &void_at_ns,
            &void_by,
            &void_reason,
        ],
    )?;
    one_row(n, "surveys")
}

// ----- service requests -----

macro_rules! request_cols {
    () => {
        "r.id, r.customer_id, r.kind, r.subject, r.description, r.deal_id, r.opened_at, \
         r.opened_at_ns, r.status"
    };
}

const REQUESTS: &str = concat!(
    "SELECT ",
    request_cols!(),
    " FROM service_requests r WHERE r.tenant_id = $1 \
     AND ($2::bigint IS NULL OR r.customer_id = $2) AND (NOT $3 OR r.status <> 'resolved') \
     ORDER BY r.id"
);

pub(crate) fn request(c: &mut Conn, t: i64, id: RequestId) -> Res<Option<ServiceRequest>> {
    let row = c.query_opt(
        concat!(
            "SELECT ",
            request_cols!(),
            " FROM service_requests r WHERE r.tenant_id = $1 AND r.id = $2"
        ),
        &[&t, &key(id.get())],
    )?;
    row.map(|r| finish_request(c, t, &r)).transpose()
}

pub(crate) fn list_requests(c: &mut Conn, t: i64, q: &OpenQuery) -> Res<Vec<ServiceRequest>> {
    let customer = q.customer.map(|id| key(id.get()));
    let rows = c.query(REQUESTS, &[&t, &customer, &q.open_only])?;
    rows.iter().map(|r| finish_request(c, t, r)).collect()
}

fn stored_steps(c: &mut Conn, t: i64, id: i64) -> Res<Vec<RequestEvent>> {
    c.query(
        "SELECT kind, at, at_ns FROM request_events WHERE tenant_id = $1 AND request_id = $2 \
         ORDER BY seq",
        &[&t, &id],
    )?
    .iter()
    .map(|row| {
        let c = Cols::new(row, "request_events");
        Ok(RequestEvent {
            kind: c.parse(0, RequestEventKind::parse)?,
            at: c.time(1)?,
        })
    })
    .collect()
}

fn finish_request(c: &mut Conn, t: i64, row: &Row) -> Res<ServiceRequest> {
    let cols = Cols::new(row, "service_requests");
    let id = cols.id(0, RequestId::new)?;
    let new = NewServiceRequest {
        customer: cols.id(1, CustomerId::new)?,
        kind: cols.parse(2, RequestKind::parse)?,
        subject: cols.parse(3, Label::parse)?,
        description: cols.parse(4, FreeText::parse)?,
        opened_at: cols.time(6)?,
        deal: cols.opt_id(5, DealId::new)?,
    };
    let status = cols.str(8)?;
    let events = stored_steps(c, t, key(id.get()))?;
    let req = ServiceRequest::replay(id, new, events)
        .map_err(|e| corrupt(format!("service request {id}: {e}")))?;
    if req.status().as_str() != status {
        return Err(corrupt(format!(
            "service request {id}: stored status '{status}' but its history ends {}",
            req.status()
        )));
    }
    Ok(req)
}

fn steps(r: &ServiceRequest) -> &[RequestEvent] {
    r.events().get(1..).unwrap_or_default()
}

fn insert_steps(c: &mut Conn, t: i64, r: &ServiceRequest, from: usize) -> Res<()> {
    for (i, e) in steps(r).iter().enumerate().skip(from) {
        let (s, ns) = ts(e.at);
        c.execute(
            "INSERT INTO request_events (tenant_id, request_id, seq, kind, at, at_ns) \
             VALUES ($1, $2, $3, $4, $5, $6)",
            &[&t, &key(r.id().get()), &seq(i)?, &e.kind.as_str(), &s, &ns],
        )?;
    }
    Ok(())
}

pub(crate) fn write_request(c: &mut Conn, t: i64, r: &ServiceRequest, insert: bool) -> Res<()> {
    let (at, at_ns) = ts(r.opened_at());
    let deal = r.deal().map(|d| key(d.get()));
    let n = c.execute(
        if insert {
            "INSERT INTO service_requests (tenant_id, id, customer_id, kind, subject, \
             description, deal_id, opened_at, opened_at_ns, status) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
        } else {
            "UPDATE service_requests SET customer_id = $3, kind = $4, subject = $5, \
             description = $6, deal_id = $7, opened_at = $8, opened_at_ns = $9, status = $10 \
             WHERE tenant_id = $1 AND id = $2"
        },
        &[
            &t,
            &key(r.id().get()),
            &key(r.customer().get()),
            &r.kind().as_str(),
            &r.subject().as_str(),
            &r.description().as_str(),
            &deal,
            &at,
            &at_ns,
            &r.status().as_str(),
        ],
    )?;
    one_row(n, "service_requests")?;
    if insert {
        return insert_steps(c, t, r, 0);
    }
    let stored = stored_steps(c, t, key(r.id().get()))?;
    if steps(r).starts_with(&stored) {
        insert_steps(c, t, r, stored.len())
    } else {
        c.execute(
            "DELETE FROM request_events WHERE tenant_id = $1 AND request_id = $2",
            &[&t, &key(r.id().get())],
        )?;
        insert_steps(c, t, r, 0)
    }
}

// ----- deals -----

macro_rules! deal_cols {
    () => {
        "d.id, d.customer_id, d.title, d.value, d.created_at, d.created_at_ns, \
         d.initial_stage, d.expected_close, d.stage, d.lost_reason"
    };
}

const DEALS: &str = concat!(
    "SELECT ",
    deal_cols!(),
    " FROM deals d WHERE d.tenant_id = $1 AND ($2::bigint IS NULL OR d.customer_id = $2) \
     AND (NOT $3 OR d.stage NOT IN ('won', 'lost')) ORDER BY d.id"
);

pub(crate) fn find_deal(c: &mut Conn, t: i64, id: DealId, base: Currency) -> Res<Option<Deal>> {
    let row = c.query_opt(
        concat!(
            "SELECT ",
            deal_cols!(),
            " FROM deals d WHERE d.tenant_id = $1 AND d.id = $2"
        ),
        &[&t, &key(id.get())],
    )?;
    row.map(|r| finish_deal(c, t, &r, base)).transpose()
}

pub(crate) fn list_deals(c: &mut Conn, t: i64, q: &OpenQuery, base: Currency) -> Res<Vec<Deal>> {
    let customer = q.customer.map(|id| key(id.get()));
    let rows = c.query(DEALS, &[&t, &customer, &q.open_only])?;
    rows.iter().map(|r| finish_deal(c, t, r, base)).collect()
}

fn stored_moves(c: &mut Conn, t: i64, id: i64) -> Res<Vec<DealStageChange>> {
    c.query(
        "SELECT from_stage, to_stage, at, at_ns FROM deal_moves \
         WHERE tenant_id = $1 AND deal_id = $2 ORDER BY seq",
        &[&t, &id],
    )?
    .iter()
    .map(|row| {
        let c = Cols::new(row, "deal_moves");
        Ok(DealStageChange {
            from: c.parse(0, DealStage::parse)?,
            to: c.parse(1, DealStage::parse)?,
            at: c.time(2)?,
        })
    })
    .collect()
}

fn finish_deal(c: &mut Conn, t: i64, row: &Row, base: Currency) -> Res<Deal> {
    let cols = Cols::new(row, "deals");
    let value = cols.money(3, base)?;
    if value.is_negative() {
        return Err(corrupt(format!("deals.value: {value} is negative")));
    }
    let id = cols.id(0, DealId::new)?;
    let new = NewDeal {
        customer: cols.id(1, CustomerId::new)?,
        title: cols.parse(2, Label::parse)?,
        value,
        created_at: cols.time(4)?,
        stage: cols.parse(6, DealStage::parse)?,
        expected_close: cols.opt_date(7)?,
    };
    let stage = cols.str(8)?;
    if new.stage.is_closed() {
        return Err(corrupt(format!("deal {id}: starts closed")));
    }
    let moves = stored_moves(c, t, key(id.get()))?;
    let deal = Deal::replay(id, new, moves.iter().cloned())
        .map_err(|e| corrupt(format!("deal {id}: {e}")))?;
    if deal.history() != moves.as_slice() || deal.stage().as_str() != stage {
        return Err(corrupt(format!(
            "deal {id}: the stored stages do not match its history"
        )));
    }
    let lost_reason = cols.opt_parse(9, Label::parse)?;
    let notes = c
        .query(
            "SELECT at, at_ns, text FROM deal_notes WHERE tenant_id = $1 AND deal_id = $2 \
             ORDER BY seq",
            &[&t, &key(id.get())],
        )?
        .iter()
        .map(|row| {
            let c = Cols::new(row, "deal_notes");
            Ok(DealNote {
                at: c.time(0)?,
                text: c.parse(2, FreeText::parse)?,
            })
        })
        .collect::<Res<Vec<_>>>()?;
    deal.with_extras(notes, lost_reason)
        .map_err(|e| corrupt(format!("deal {id}: {e}")))
}

/// Writes the deal's notes anew (they are few, and erasing drops them).
fn write_notes(c: &mut Conn, t: i64, d: &Deal) -> Res<()> {
    c.execute(
        "DELETE FROM deal_notes WHERE tenant_id = $1 AND deal_id = $2",
        &[&t, &key(d.id().get())],
    )?;
    for (i, n) in d.notes().iter().enumerate() {
        let (s, ns) = ts(n.at);
        c.execute(
            "INSERT INTO deal_notes (tenant_id, deal_id, seq, at, at_ns, text) \
             VALUES ($1, $2, $3, $4, $5, $6)",
            &[&t, &key(d.id().get()), &seq(i)?, &s, &ns, &n.text.as_str()],
        )?;
    }
    Ok(())
}

fn insert_moves(c: &mut Conn, t: i64, d: &Deal, from: usize) -> Res<()> {
    for (i, m) in d.history().iter().enumerate().skip(from) {
        let (s, ns) = ts(m.at);
        c.execute(
            "INSERT INTO deal_moves (tenant_id, deal_id, seq, from_stage, to_stage, at, at_ns) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
            &[
                &t,
                &key(d.id().get()),
                &seq(i)?,
                &m.from.as_str(),
                &m.to.as_str(),
                &s,
                &ns,
            ],
        )?;
    }
    Ok(())
}

pub(crate) fn write_deal(c: &mut Conn, t: i64, d: &Deal, insert: bool) -> Res<()> {
    let (at, at_ns) = ts(d.created_at());
    let value = minor(d.value())?;
    let close = d.expected_close().map(date);
    let n = c.execute(
        if insert {
            "INSERT INTO deals (tenant_id, id, customer_id, title, value, created_at, \
             created_at_ns, initial_stage, expected_close, stage, lost_reason) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
        } else {
            "UPDATE deals SET customer_id = $3, title = $4, value = $5, created_at = $6, \
             created_at_ns = $7, initial_stage = $8, expected_close = $9, stage = $10, \
             lost_reason = $11 WHERE tenant_id = $1 AND id = $2"
        },
        &[
            &t,
            &key(d.id().get()),
            &key(d.customer().get()),
            &d.title().as_str(),
            &value,
            &at,
            &at_ns,
            &d.initial_stage().as_str(),
            &close,
            &d.stage().as_str(),
            &d.lost_reason().map(Label::as_str),
        ],
    )?;
    one_row(n, "deals")?;
    if insert {
        insert_moves(c, t, d, 0)?;
        return write_notes(c, t, d);
    }
    let stored = stored_moves(c, t, key(d.id().get()))?;
    if d.history().starts_with(&stored) {
        insert_moves(c, t, d, stored.len())?;
    } else {
        c.execute(
            "DELETE FROM deal_moves WHERE tenant_id = $1 AND deal_id = $2",
            &[&t, &key(d.id().get())],
        )?;
        insert_moves(c, t, d, 0)?;
    }
    write_notes(c, t, d)
}

// ----- tasks -----

macro_rules! task_cols {
    () => {
        "k.id, k.customer_id, k.kind, k.title, k.due, k.recurrence, k.created_at, \
         k.created_at_ns, k.occurrence, k.done, k.last_done_at, k.last_done_at_ns, \
         k.cancelled_at, k.cancelled_at_ns"
    };
}

pub(crate) fn task(c: &mut Conn, t: i64, id: TaskId) -> Res<Option<Task>> {
    let row = c.query_opt(
        concat!(
            "SELECT ",
            task_cols!(),
            " FROM tasks k WHERE k.tenant_id = $1 AND k.id = $2"
        ),
        &[&t, &key(id.get())],
    )?;
    row.map(|r| task_row(&r)).transpose()
}

fn task_row(row: &Row) -> Res<Task> {
    let c = Cols::new(row, "tasks");
    let fields = NewTask {
        customer: c.opt_id(1, CustomerId::new)?,
        kind: c.parse(2, TaskKind::parse)?,
        title: c.parse(3, Label::parse)?,
        due: c.date(4)?,
        recurrence: c.opt_parse(5, Recurrence::parse)?,
        created_at: c.time(6)?,
    };
    let done = c.bool(9)?;
    let occurrence: u32 = c.int(8)?;
    if (done && fields.recurrence.is_some()) || (occurrence > 0 && fields.recurrence.is_none()) {
        return Err(corrupt(
            "tasks: done and occurrence contradict the recurrence",
        ));
    }
    let cancelled_at = c.opt_time(12)?;
    if done && cancelled_at.is_some() {
        return Err(corrupt("tasks: a done task is also cancelled"));
    }
    Ok(Task::from_parts(
        c.id(0, TaskId::new)?,
        fields,
        occurrence,
        done,
        c.opt_time(10)?,
    )
    .cancelled(cancelled_at))
}

pub(crate) fn list_tasks(c: &mut Conn, t: i64, q: &TaskQuery) -> Res<Vec<Task>> {
    let customer = q.customer.map(|id| key(id.get()));
    let mut tasks = c
        .query(
            concat!(
                "SELECT ",
                task_cols!(),
                " FROM tasks k WHERE k.tenant_id = $1 \
                 AND ($2 OR (NOT k.done AND k.cancelled_at IS NULL)) \
                 AND ($3::bigint IS NULL OR k.customer_id = $3)"
            ),
            &[&t, &q.include_done, &customer],
        )?
        .iter()
        .map(task_row)
        .collect::<Res<Vec<_>>>()?;
    // A recurring task's due date depends on how often it was completed: compared
    // and sorted in Rust.
    tasks.retain(|k| q.due_until.is_none_or(|d| k.due() <= d));
    tasks.sort_by_key(|k| (k.due(), k.id()));
    Ok(tasks)
}

pub(crate) fn write_task(c: &mut Conn, t: i64, k: &Task, insert: bool) -> Res<()> {
    let (at, at_ns) = ts(k.created_at());
    let (done_at, done_at_ns) = opt_ts(k.last_done_at());
    let customer = k.customer().map(|id| key(id.get()));
    let recurrence = k.recurrence().map(Recurrence::as_str);
    let (cancelled_at, cancelled_at_ns) = opt_ts(k.cancelled_at());
    let n = c.execute(
        if insert {
            "INSERT INTO tasks (tenant_id, id, customer_id, kind, title, due, recurrence, \
             created_at, created_at_ns, occurrence, done, last_done_at, last_done_at_ns, \
             cancelled_at, cancelled_at_ns) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)"
        } else {
            "UPDATE tasks SET customer_id = $3, kind = $4, title = $5, due = $6, \
             recurrence = $7, created_at = $8, created_at_ns = $9, occurrence = $10, \
             done = $11, last_done_at = $12, last_done_at_ns = $13, cancelled_at = $14, \
             cancelled_at_ns = $15 WHERE tenant_id = $1 AND id = $2"
        },
        &[
            &t,
            &key(k.id().get()),
            &customer,
            &k.kind().as_str(),
            &k.title().as_str(),
            &date(k.anchor()),
            &recurrence,
            &at,
            &at_ns,
            &i64::from(k.occurrence()),
            &k.is_done(),
            &done_at,
            &done_at_ns,
            &cancelled_at,
            &cancelled_at_ns,
        ],
    )?;
    one_row(n, "tasks")
}

// ----- points -----

pub(crate) fn write_points(c: &mut Conn, t: i64, e: &PointsEntry, insert: bool) -> Res<()> {
    let (at, at_ns) = ts(e.at());
    let reason = e.reason().map(Label::as_str);
    let n = c.execute(
        if insert {
            "INSERT INTO points_entries (tenant_id, id, customer_id, at, at_ns, kind, delta, \
             reason, balance_after) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        } else {
            "UPDATE points_entries SET customer_id = $3, at = $4, at_ns = $5, kind = $6, \
             delta = $7, reason = $8, balance_after = $9 WHERE tenant_id = $1 AND id = $2"
        },
        &[
            &t,
            &key(e.id().get()),
            &key(e.customer().get()),
            &at,
            &at_ns,
            &e.kind().as_str(),
            &e.delta(),
            &reason,
            &e.balance_after(),
        ],
    )?;
    one_row(n, "points_entries")
}

pub(crate) fn points_balance(c: &mut Conn, t: i64, customer: CustomerId) -> Res<i64> {
    let row = c.query_opt(
        "SELECT balance_after FROM points_entries WHERE tenant_id = $1 AND customer_id = $2 \
         ORDER BY id DESC LIMIT 1",
        &[&t, &key(customer.get())],
    )?;
    match row {
        Some(r) => Cols::new(&r, "points_entries").i64(0),
        None => Ok(0),
    }
}

pub(crate) fn points_holders(c: &mut Conn, t: i64) -> Res<Vec<CustomerId>> {
    c.query(
        "SELECT e.customer_id FROM points_entries e WHERE e.tenant_id = $1 \
         AND e.id IN (SELECT max(l.id) FROM points_entries l \
                      WHERE l.tenant_id = $1 GROUP BY l.customer_id) \
         AND e.balance_after > 0 ORDER BY e.customer_id",
        &[&t],
    )?
    .iter()
    .map(|row| Cols::new(row, "points_entries").id(0, CustomerId::new))
    .collect()
}

/// The columns of a points entry, as [`points_entry_row`] reads them.
macro_rules! points_cols {
    () => {
        "e.id, e.customer_id, e.at, e.at_ns, e.kind, e.delta, e.reason, e.balance_after"
    };
}

pub(crate) fn points_ledger(c: &mut Conn, t: i64, customer: CustomerId) -> Res<Vec<PointsEntry>> {
    const SQL: &str = concat!(
        "SELECT ",
        points_cols!(),
        " FROM points_entries e WHERE e.tenant_id = $1 AND e.customer_id = $2 ORDER BY e.id"
    );
    c.query(SQL, &[&t, &key(customer.get())])?
        .iter()
        .map(points_entry_row)
        .collect()
}

/// Every points holder with their whole ledger, in one statement: the entries of the
/// customers whose newest entry leaves points, by customer then id.
pub(crate) fn points_holder_ledgers(
    c: &mut Conn,
    t: i64,
) -> Res<Vec<(CustomerId, Vec<PointsEntry>)>> {
    const SQL: &str = concat!(
        "SELECT ",
        points_cols!(),
        " FROM points_entries e WHERE e.tenant_id = $1 ",
        "AND e.customer_id IN (SELECT h.customer_id FROM points_entries h ",
        "WHERE h.tenant_id = $1 AND h.balance_after > 0 ",
        "AND h.id IN (SELECT max(l.id) FROM points_entries l ",
        "WHERE l.tenant_id = $1 GROUP BY l.customer_id)) ",
        "ORDER BY e.customer_id, e.id"
    );
    let mut out: Vec<(CustomerId, Vec<PointsEntry>)> = Vec::new();
    for row in &c.query(SQL, &[&t])? {
        let entry = points_entry_row(row)?;
        match out.last_mut() {
            Some((customer, ledger)) if *customer == entry.customer() => ledger.push(entry),
            _ => out.push((entry.customer(), vec![entry])),
        }
    }
    Ok(out)
}

/// One row of `points_entries` in the order of `points_cols!`.
fn points_entry_row(row: &Row) -> Res<PointsEntry> {
    let c = Cols::new(row, "points_entries");
    let kind = c.parse(4, PointsKind::parse)?;
    let delta = c.i64(5)?;
    let points = match kind {
        PointsKind::Earn | PointsKind::Adjust => delta,
        PointsKind::Redeem | PointsKind::Expire => delta.saturating_neg(),
    };
    let mut entry = NewPointsEntry::new(c.id(1, CustomerId::new)?, c.time(2)?, kind, points)
        .map_err(|e| corrupt(format!("points_entries: {e}")))?;
    if entry.delta != delta {
        return Err(corrupt(format!("points_entries: delta {delta} for {kind}")));
    }
    if let Some(reason) = c.opt_parse(6, Label::parse)? {
        entry = entry.with_reason(reason);
    }
    let balance_after = c.i64(7)?;
    if balance_after < 0 {
        return Err(corrupt(format!(
            "points_entries: negative balance {balance_after}"
        )));
    }
    Ok(PointsEntry::new(
        c.id(0, PointsEntryId::new)?,
        entry,
        balance_after,
    ))
}

pub(crate) fn points_tiers(c: &mut Conn, t: i64) -> Res<Vec<PointsTier>> {
    c.query(
        "SELECT name, min_points FROM points_tiers WHERE tenant_id = $1 \
         ORDER BY min_points, name",
        &[&t],
    )?
    .iter()
    .map(|row| {
        let c = Cols::new(row, "points_tiers");
        let min_points = c.i64(1)?;
        if min_points < 0 {
            return Err(corrupt(format!(
                "points_tiers: negative threshold {min_points}"
            )));
        }
        Ok(PointsTier {
            name: c.parse(0, Tag::parse)?,
            min_points,
        })
    })
    .collect()
}

pub(crate) fn put_points_tier(c: &mut Conn, t: i64, tier: &PointsTier) -> Res<()> {
    c.execute(
        "INSERT INTO points_tiers (tenant_id, name, min_points) VALUES ($1, $2, $3) \
         ON CONFLICT (tenant_id, name) DO UPDATE SET min_points = excluded.min_points",
        &[&t, &tier.name.as_str(), &tier.min_points],
    )?;
    Ok(())
}

pub(crate) fn delete_points_tier(c: &mut Conn, t: i64, name: &Tag) -> Res<bool> {
    let n = c.execute(
        "DELETE FROM points_tiers WHERE tenant_id = $1 AND name = $2",
        &[&t, &name.as_str()],
    )?;
    Ok(n > 0)
}

// ----- costs -----

macro_rules! cost_cols {
    () => {
        "id, at, at_ns, amount, category, channel, note, voided_at, voided_at_ns, void_reason"
    };
}

pub(crate) fn cost(c: &mut Conn, t: i64, id: CostId, base: Currency) -> Res<Option<Cost>> {
    let row = c.query_opt(
        concat!(
            "SELECT ",
            cost_cols!(),
            " FROM costs WHERE tenant_id = $1 AND id = $2"
        ),
        &[&t, &key(id.get())],
    )?;
    row.map(|r| cost_row(&r, base)).transpose()
}

pub(crate) fn costs(c: &mut Conn, t: i64, base: Currency) -> Res<Vec<Cost>> {
    c.query(
        concat!(
            "SELECT ",
            cost_cols!(),
            " FROM costs WHERE tenant_id = $1 ORDER BY at, at_ns, id"
        ),
        &[&t],
    )?
    .iter()
    .map(|r| cost_row(r, base))
    .collect()
}

fn cost_row(row: &Row, base: Currency) -> Res<Cost> {
    let c = Cols::new(row, "costs");
    let amount = c.money(3, base)?;
    if amount.is_negative() || amount.is_zero() {
        return Err(corrupt(format!("costs.amount: {amount} is not positive")));
    }
    let voided = match c.opt_time(7)? {
        Some(at) => Some(CostVoid {
            at,
            reason: c.parse(9, Label::parse)?,
        }),
        None => None,
    };
    Ok(Cost::new(
        c.id(0, CostId::new)?,
        solocrm_core::NewCost {
            at: c.time(1)?,
            amount,
            category: c.parse(4, CostCategory::parse)?,
            channel: c.opt_parse(5, Tag::parse)?,
            note: c.opt_parse(6, FreeText::parse)?,
        },
        voided,
    ))
}

pub(crate) fn write_cost(c: &mut Conn, t: i64, cost: &Cost, insert: bool) -> Res<()> {
    let (at, at_ns) = ts(cost.at());
    let (voided_at, voided_at_ns) = opt_ts(cost.voided().map(|v| v.at));
    let n = c.execute(
        if insert {
            "INSERT INTO costs (tenant_id, id, at, at_ns, amount, category, channel, note, \
             voided_at, voided_at_ns, void_reason) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
        } else {
            "UPDATE costs SET at = $3, at_ns = $4, amount = $5, category = $6, channel = $7, \
             note = $8, voided_at = $9, voided_at_ns = $10, void_reason = $11 \
             WHERE tenant_id = $1 AND id = $2"
        },
        &[
            &t,
            &key(cost.id().get()),
            &at,
            &at_ns,
            &minor(cost.amount())?,
            &cost.category().as_str(),
            &cost.channel().map(Tag::as_str),
            &cost.note().map(FreeText::as_str),
            &voided_at,
            &voided_at_ns,
            &cost.voided().map(|v| v.reason.as_str()),
        ],
    )?;
    one_row(n, "costs")
}

// ----- customer search -----

/// `%text%` for `LIKE … ESCAPE '\'`.
fn like_pattern(text: &str) -> String {
    let mut p = String::from("%");
    for ch in text.chars() {
        if matches!(ch, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(ch);
    }
    p.push('%');
    p
}

/// True if `ILIKE` finds exactly what the search's folding finds for this text, in
/// any database collation: every character is ASCII or has no case.
fn ilike_is_exact(text: &str) -> bool {
    text.chars().all(|ch| {
        ch.is_ascii() || {
            let mut lower = ch.to_lowercase();
            let mut upper = ch.to_uppercase();
            lower.next() == Some(ch)
                && lower.next().is_none()
                && upper.next() == Some(ch)
                && upper.next().is_none()
        }
    })
}

// The Kelvin sign (U+212A) is the one character beyond ASCII whose lower case is ASCII
// (`k`): the search folds it to `k`, `ILIKE` under the "C" collation does not, so it is
// translated first. The expression is the search document of migration 0003, word for
// word, so that its trigram index (where pg_trgm is installed) answers the `ILIKE`; it
// matches wherever one of the fields does (and where the text spans a line break
// between two, which the operations layer's check of each candidate leaves out).
const SEARCH_ILIKE: &str = "SELECT id FROM customers WHERE tenant_id = $1 AND erased_at IS NULL \
     AND translate(name || chr(10) || coalesce(email, '') || chr(10) \
         || coalesce(company, '') || chr(10) || notes || chr(10) \
         || coalesce(profile::jsonb ->> 'city', ''), chr(8490), 'k') ILIKE $2 ESCAPE '\\' \
     ORDER BY id";
const SEARCH_ALL: &str =
    "SELECT id FROM customers WHERE tenant_id = $1 AND erased_at IS NULL ORDER BY id";

/// The candidates for a search (see
/// [`ReadTx::search_customers`](solocrm_core::port::ReadTx::search_customers)): an
/// `ILIKE` of the customers' search document (through its trigram index where
/// migration 0003 could make one, else a scan of the tenant's rows), or, for a text
/// with a cased letter beyond ASCII (which `ILIKE` folds only as the database's
/// collation says), every customer who is not erased, for the operations layer to
/// check. An erased customer's text is cleared, so the row no longer matches.
pub(crate) fn search(c: &mut Conn, t: i64, text: &SearchText) -> Res<Vec<CustomerId>> {
    let rows = if ilike_is_exact(text.as_str()) {
        c.query(SEARCH_ILIKE, &[&t, &like_pattern(text.as_str())])?
    } else {
        c.query(SEARCH_ALL, &[&t])?
    };
    rows.iter()
        .map(|r| Cols::new(r, "customers").id(0, CustomerId::new))
        .collect()
}

const FIELDS_ILIKE: &str = "SELECT id, name, email, company, profile::jsonb ->> 'city', notes \
     FROM customers WHERE tenant_id = $1 AND erased_at IS NULL \
     AND translate(name || chr(10) || coalesce(email, '') || chr(10) \
         || coalesce(company, '') || chr(10) || notes || chr(10) \
         || coalesce(profile::jsonb ->> 'city', ''), chr(8490), 'k') ILIKE $2 ESCAPE '\\' \
     ORDER BY id";
const FIELDS_ALL: &str = "SELECT id, name, email, company, profile::jsonb ->> 'city', notes \
     FROM customers WHERE tenant_id = $1 AND erased_at IS NULL ORDER BY id";

/// The searchable text of the candidates for a search (see
/// [`ReadTx::search_fields`](solocrm_core::port::ReadTx::search_fields)): the rows
/// [`search`] finds, with their name, email, company, city and notes instead of the
/// whole customer.
pub(crate) fn search_fields(c: &mut Conn, t: i64, text: &SearchText) -> Res<Vec<SearchFields>> {
    let rows = if ilike_is_exact(text.as_str()) {
        c.query(FIELDS_ILIKE, &[&t, &like_pattern(text.as_str())])?
    } else {
        c.query(FIELDS_ALL, &[&t])?
    };
    rows.iter()
        .map(|r| {
            let c = Cols::new(r, "customers");
            let owned = |s: Option<&str>| s.map(str::to_owned);
            Ok(SearchFields {
                id: c.id(0, CustomerId::new)?,
                name: c.str(1)?.to_owned(),
                email: owned(c.opt_str(2)?),
                company: owned(c.opt_str(3)?),
                city: owned(c.opt_str(4)?),
                notes: c.str(5)?.to_owned(),
            })
        })
        .collect()
}

// ----- segments, audit, events -----

fn segment_row(row: &Row) -> Res<Segment> {
    let c = Cols::new(row, "segments");
    Ok(Segment {
        name: c.parse(0, Label::parse)?,
        predicate: c.parse(1, |s| serde_json::from_str::<Predicate>(s))?,
    })
}

pub(crate) fn segment(c: &mut Conn, t: i64, name: &Label) -> Res<Option<Segment>> {
    let row = c.query_opt(
        "SELECT name, predicate FROM segments WHERE tenant_id = $1 AND name = $2",
        &[&t, &name.as_str()],
    )?;
    row.map(|r| segment_row(&r)).transpose()
}

/// The stored segments that do not decode, by name: each one's name as stored and why.
pub(crate) fn unreadable_segments(c: &mut Conn, t: i64) -> Res<Vec<(String, String)>> {
    let mut bad = Vec::new();
    for row in c.query(
        "SELECT name, predicate FROM segments WHERE tenant_id = $1 ORDER BY name",
        &[&t],
    )? {
        if let Err(e) = segment_row(&row) {
            let name = row.try_get::<_, String>(0).unwrap_or_default();
            let why = match e {
                crate::error::Fail::Corrupt(c) => c.0,
                other => other.into_store().to_string(),
            };
            bad.push((name, why));
        }
    }
    Ok(bad)
}

/// Every segment that decodes, by name. A row that does not (written by hand, or
/// by an older version with a deeper predicate) is left out, as the SQLite store
/// does, so one bad row does not hide the others.
pub(crate) fn segments(c: &mut Conn, t: i64) -> Res<Vec<Segment>> {
    Ok(c.query(
        "SELECT name, predicate FROM segments WHERE tenant_id = $1 ORDER BY name",
        &[&t],
    )?
    .iter()
    .filter_map(|r| segment_row(r).ok())
    .collect())
}

pub(crate) fn insert_segment(c: &mut Conn, t: i64, segment: &Segment) -> Res<()> {
    let json = serde_json::to_string(&segment.predicate).map_err(backend)?;
    c.execute(
        "INSERT INTO segments (tenant_id, name, predicate) VALUES ($1, $2, $3)",
        &[&t, &segment.name.as_str(), &json],
    )?;
    Ok(())
}

pub(crate) fn delete_segment(c: &mut Conn, t: i64, name: &Label) -> Res<bool> {
    let n = c.execute(
        "DELETE FROM segments WHERE tenant_id = $1 AND name = $2",
        &[&t, &name.as_str()],
    )?;
    Ok(n > 0)
}

pub(crate) fn audit_log(c: &mut Conn, t: i64) -> Res<Vec<AuditEntry>> {
    c.query(
        "SELECT id, at, at_ns, action, customer_id FROM audit_log WHERE tenant_id = $1 \
         ORDER BY id",
        &[&t],
    )?
    .iter()
    .map(|row| {
        let c = Cols::new(row, "audit_log");
        let action = match c.str(3)? {
            "customer_erased" => AuditAction::CustomerErased {
                customer: c.id(4, CustomerId::new)?,
            },
            other => return Err(corrupt(format!("audit_log.action: '{other}'"))),
        };
        Ok(AuditEntry {
            id: c.id(0, AuditId::new)?,
            at: c.time(1)?,
            action,
        })
    })
    .collect()
}

pub(crate) fn insert_audit(c: &mut Conn, t: i64, entry: &AuditEntry) -> Res<()> {
    let customer = match &entry.action {
        AuditAction::CustomerErased { customer } => *customer,
        #[allow(unreachable_patterns)]
        other => return Err(corrupt(format!("audit_log: no column form for {other:?}"))),
    };
    let (s, ns) = ts(entry.at);
    c.execute(
        "INSERT INTO audit_log (tenant_id, id, at, at_ns, action, customer_id) \
         VALUES ($1, $2, $3, $4, 'customer_erased', $5)",
        &[&t, &key(entry.id.get()), &s, &ns, &key(customer.get())],
    )?;
    Ok(())
}

pub(crate) fn append_event(c: &mut Conn, t: i64, event: &Event) -> Res<()> {
    let payload = serde_json::to_string(&event.event).map_err(backend)?;
    let (s, ns) = opt_ts(event.at);
    let customer = event.event.customer().map(|id| key(id.get()));
    c.execute(
        "INSERT INTO events (tenant_id, seq, at, at_ns, type, customer_id, payload) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        &[
            &t,
            &key(event.seq),
            &s,
            &ns,
            &event.event.name(),
            &customer,
            &payload,
        ],
    )?;
    Ok(())
}

pub(crate) fn events(c: &mut Conn, t: i64, after: EventSeq, limit: u32) -> Res<Vec<Event>> {
    let Ok(after) = i64::try_from(after) else {
        return Ok(Vec::new());
    };
    c.query(
        "SELECT seq, at, at_ns, payload FROM events WHERE tenant_id = $1 AND seq > $2 \
         ORDER BY seq LIMIT $3",
        &[&t, &after, &i64::from(limit)],
    )?
    .iter()
    .map(|row| {
        let c = Cols::new(row, "events");
        Ok(Event {
            seq: c.id(0, |s| s)?,
            at: c.opt_time(1)?,
            event: c.parse(3, |s| serde_json::from_str::<DomainEvent>(s))?,
        })
    })
    .collect()
}
