//! Customers, their tags and consents, and their stage history.

use rusqlite::{Connection, params};
use solocrm_core::port::CustomerFilter;
use solocrm_core::{
    Consent, Currency, Customer, CustomerId, CustomerKeys, Email, ExternalRef, Label, Phone,
    StageChange, StageReason, Tag,
};

use crate::codec::{Cols, date, key, minor, opt_ts, ts};
use crate::error::Res;
use crate::rows::{
    CUSTOMER_REF_OWNER, EMAIL_OWNER, LIST_ALL, LIST_STAGE, LIST_TAG, LIST_TAG_STAGE,
    customers_where, execute, load_consents, load_tags, profile_json, query_all, query_one,
    save_customer, sync_tags,
};

pub(crate) fn erased(conn: &Connection, id: CustomerId) -> Res<Option<bool>> {
    query_one(
        conn,
        "SELECT erased_at IS NOT NULL FROM customers WHERE id = ?1",
        [key(id.get())],
        |row| Ok(row.get::<_, bool>(0)?),
    )
}

pub(crate) fn by_email(conn: &Connection, email: &Email) -> Res<Option<CustomerId>> {
    query_one(conn, EMAIL_OWNER, [email.key()], |row| {
        Cols::new(row, "customers").id(0, CustomerId::new)
    })
}

pub(crate) fn by_external_ref(
    conn: &Connection,
    reference: &ExternalRef,
) -> Res<Option<CustomerId>> {
    query_one(conn, CUSTOMER_REF_OWNER, [reference.as_str()], |row| {
        Cols::new(row, "customers").id(0, CustomerId::new)
    })
}

pub(crate) fn keys(conn: &Connection) -> Res<Vec<CustomerKeys>> {
    query_all(
        conn,
        "SELECT id, external_ref, email, erased_at IS NOT NULL FROM customers ORDER BY id",
        [],
        |row| {
            let c = Cols::new(row, "customers");
            Ok(CustomerKeys {
                id: c.id(0, CustomerId::new)?,
                external_ref: c.opt_parse(1, ExternalRef::parse)?,
                email: c.opt_parse(2, Email::parse)?,
                erased: c.bool(3)?,
            })
        },
    )
}

/// Up to `limit` customers passing `filter` with ids above `after`, ascending.
pub(crate) fn list(
    conn: &Connection,
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
    let (erased, limit) = (filter.include_erased, i64::from(limit));
    match (&filter.tag, filter.stage) {
        (None, None) => customers_where(conn, LIST_ALL, params![after, erased, limit], base),
        (None, Some(s)) => customers_where(
            conn,
            LIST_STAGE,
            params![after, erased, limit, s.as_str()],
            base,
        ),
        (Some(t), None) => customers_where(
            conn,
            LIST_TAG,
            params![after, erased, limit, t.as_str()],
            base,
        ),
        (Some(t), Some(s)) => customers_where(
            conn,
            LIST_TAG_STAGE,
            params![after, erased, limit, t.as_str(), s.as_str()],
            base,
        ),
    }
}

pub(crate) fn count(conn: &Connection) -> Res<u64> {
    let n: i64 = conn
        .prepare_cached("SELECT count(*) FROM customers")?
        .query_row([], |r| r.get(0))?;
    Ok(u64::try_from(n).unwrap_or(0))
}

/// Stores a new customer under its id, with its tags and consents.
pub(crate) fn insert(conn: &Connection, c: &Customer) -> Res<()> {
    let d = c.data();
    let cost = d.acquisition_cost.map(minor).transpose()?;
    let (at, at_ns) = ts(c.created_at());
    let (erased, erased_ns) = opt_ts(c.erased_at());
    execute(
        conn,
        "INSERT INTO customers (id, name, email, email_key, phone, company, birthday, \
         profile, acquisition_channel, acquisition_cost, external_ref, notes, created_at, \
         created_at_ns, stage, erased_at, erased_at_ns) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, \
         ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)",
        params![
            key(c.id().get()),
            d.name.as_str(),
            d.email.as_ref().map(Email::as_str),
            d.email.as_ref().map(Email::key),
            d.phone.as_ref().map(Phone::as_str),
            d.company.as_ref().map(Label::as_str),
            d.birthday.map(date),
            profile_json(&d.profile)?,
            d.acquisition_channel.as_ref().map(Tag::as_str),
            cost,
            d.external_ref.as_ref().map(ExternalRef::as_str),
            d.notes.as_str(),
            at,
            at_ns,
            c.stage().as_str(),
            erased,
            erased_ns,
        ],
    )?;
    sync_tags(conn, c.id(), &Default::default(), c.tags())?;
    for consent in c.consents() {
        insert_consent(conn, c.id(), consent)?;
    }
    Ok(())
}

/// Replaces a customer's row, and brings its tags and consents to the customer's.
/// Consents are a log: new ones are appended; anything else (an erasure) rewrites
/// them.
pub(crate) fn update(conn: &Connection, c: &Customer) -> Res<()> {
    save_customer(conn, c)?;
    let old_tags = load_tags(conn, c.id())?;
    sync_tags(conn, c.id(), &old_tags, c.tags())?;
    let old = load_consents(conn, c.id())?;
    let new = c.consents();
    if new.starts_with(&old) {
        for consent in &new[old.len()..] {
            insert_consent(conn, c.id(), consent)?;
        }
    } else {
        execute(
            conn,
            "DELETE FROM consents WHERE customer_id = ?1",
            [key(c.id().get())],
        )?;
        for consent in new {
            insert_consent(conn, c.id(), consent)?;
        }
    }
    Ok(())
}

fn insert_consent(conn: &Connection, id: CustomerId, consent: &Consent) -> Res<()> {
    let (at, at_ns) = ts(consent.at);
    execute(
        conn,
        "INSERT INTO consents (customer_id, purpose, granted, at, at_ns, source) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            key(id.get()),
            consent.purpose.as_str(),
            consent.granted,
            at,
            at_ns,
            consent.source.as_str()
        ],
    )?;
    Ok(())
}

/// The column values of a stage change's reason: kind, note, rule.
fn reason_cols(reason: &StageReason) -> (&'static str, Option<&str>, Option<&'static str>) {
    match reason {
        StageReason::Manual { note } => ("manual", note.as_ref().map(Label::as_str), None),
        StageReason::Rule { rule } => ("rule", None, Some(rule.as_str())),
    }
}

pub(crate) fn push_stage_change(conn: &Connection, change: &StageChange) -> Res<()> {
    let (kind, note, rule) = reason_cols(&change.reason);
    let (s, ns) = ts(change.at);
    execute(
        conn,
        "INSERT INTO stage_changes (customer_id, from_stage, to_stage, at, at_ns, reason, \
         note, rule) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            key(change.customer.get()),
            change.from.as_str(),
            change.to.as_str(),
            s,
            ns,
            kind,
            note,
            rule
        ],
    )?;
    Ok(())
}

/// Rewrites the stored history row by row, in place (same rows, same order); a
/// history of another length replaces the old one.
pub(crate) fn rewrite_stage_history(
    conn: &Connection,
    customer: CustomerId,
    history: &[StageChange],
) -> Res<()> {
    let ids = query_all(
        conn,
        "SELECT id FROM stage_changes WHERE customer_id = ?1 ORDER BY id",
        [key(customer.get())],
        |row| Cols::new(row, "stage_changes").i64(0),
    )?;
    if ids.len() != history.len() {
        execute(
            conn,
            "DELETE FROM stage_changes WHERE customer_id = ?1",
            [key(customer.get())],
        )?;
        return history
            .iter()
            .try_for_each(|change| push_stage_change(conn, change));
    }
    for (id, change) in ids.into_iter().zip(history) {
        let (kind, note, rule) = reason_cols(&change.reason);
        let (s, ns) = ts(change.at);
        execute(
            conn,
            "UPDATE stage_changes SET customer_id = ?2, from_stage = ?3, to_stage = ?4, \
             at = ?5, at_ns = ?6, reason = ?7, note = ?8, rule = ?9 WHERE id = ?1",
            params![
                id,
                key(change.customer.get()),
                change.from.as_str(),
                change.to.as_str(),
                s,
                ns,
                kind,
                note,
                rule
            ],
        )?;
    }
    Ok(())
}
