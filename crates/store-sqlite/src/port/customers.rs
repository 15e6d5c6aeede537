//! Customers, their tags and consents, and their stage history.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use rusqlite::{Connection, Row, params};
use solocrm_core::port::{CustomerFilter, CustomerStage, ReportCustomer};
use solocrm_core::{
    Consent, Currency, Customer, CustomerData, CustomerId, CustomerKeys, Email, ExternalRef,
    FreeText, Label, LifecycleStage, PersonName, Phone, PolicyRule, Profile, SegmentFields,
    SegmentRow, StageChange, StageReason, Tag, Tags,
};

use crate::codec::{Cols, date, key, minor, opt_ts, ts};
use crate::error::Res;
use crate::rows::{Exec, backend, corrupt, execute, query_all, query_one};

pub(crate) fn erased(conn: &Connection, id: CustomerId) -> Res<Option<bool>> {
    query_one(
        conn,
        "SELECT erased_at IS NOT NULL FROM customers WHERE id = ?1",
        [key(id.get())],
        |row| Ok(row.get::<_, bool>(0)?),
    )
}

/// The customer's stage and erasure, from two columns of its row.
pub(crate) fn stage_of(conn: &Connection, id: CustomerId) -> Res<Option<CustomerStage>> {
    query_one(
        conn,
        "SELECT stage, erased_at IS NOT NULL FROM customers WHERE id = ?1",
        [key(id.get())],
        |row| {
            let c = Cols::new(row, "customers");
            Ok(CustomerStage {
                stage: c.parse(0, LifecycleStage::parse)?,
                erased: c.bool(1)?,
            })
        },
    )
}

/// The names of the customers with these ids (see
/// [`solocrm_core::port::ReadTx::customer_names`]): one prepared look-up of one column
/// per id, or, when the ids asked cover at least one in [`NAMES_SCAN_SHARE`] of the id
/// range (a list naming most customers, such as `care`'s), one pass over the table in
/// id order, which reads each page once instead of one descent of the tree per id.
pub(crate) fn names(conn: &Connection, ids: &[CustomerId]) -> Res<Vec<(CustomerId, PersonName)>> {
    if ids.len() >= NAMES_SCAN_MIN {
        let max: i64 = conn
            .prepare_cached("SELECT coalesce(max(id), 0) FROM customers")?
            .query_row([], |r| r.get(0))?;
        let span = usize::try_from(max).unwrap_or(usize::MAX);
        if ids.len().saturating_mul(NAMES_SCAN_SHARE) >= span {
            return names_by_scan(conn, ids, span);
        }
    }
    let mut stmt = conn.prepare_cached("SELECT name FROM customers WHERE id = ?1")?;
    let mut out = Vec::with_capacity(ids.len());
    for &id in ids {
        let mut rows = stmt.query([key(id.get())])?;
        if let Some(row) = rows.next()? {
            out.push((id, Cols::new(row, "customers").parse(0, PersonName::parse)?));
        }
    }
    Ok(out)
}

/// Fewer ids than this are always looked up one by one.
const NAMES_SCAN_MIN: usize = 1024;

/// [`names`] walks the whole table when the ids asked are at least one in this many of
/// the id range (ids are dense, so the range bounds the row count).
const NAMES_SCAN_SHARE: usize = 4;

/// [`names`] by one pass over the table: the rows whose id was asked are decoded, and
/// the answers given in the order asked (an id asked twice answered twice, an unknown
/// one left out), as the look-ups give them. `span` is the largest id.
fn names_by_scan(
    conn: &Connection,
    ids: &[CustomerId],
    span: usize,
) -> Res<Vec<(CustomerId, PersonName)>> {
    // Slot per id of the range: the index of its name in `found`, once read.
    const UNASKED: u32 = u32::MAX;
    const ASKED: u32 = u32::MAX - 1;
    let mut slot = vec![UNASKED; span.saturating_add(1)];
    for id in ids {
        if let Some(s) = usize::try_from(id.get()).ok().and_then(|i| slot.get_mut(i)) {
            *s = ASKED;
        }
    }
    let mut found: Vec<PersonName> = Vec::new();
    let mut stmt = conn.prepare_cached(NAMES_SCAN)?;
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        let c = Cols::new(row, "customers");
        let id = c.i64(0)?;
        let Some(s) = usize::try_from(id).ok().and_then(|i| slot.get_mut(i)) else {
            continue;
        };
        if *s == ASKED {
            *s = u32::try_from(found.len()).map_err(backend)?;
            found.push(c.parse(1, PersonName::parse)?);
        }
    }
    let mut out = Vec::with_capacity(ids.len());
    for &id in ids {
        let name = usize::try_from(id.get())
            .ok()
            .and_then(|i| slot.get(i))
            .and_then(|&s| found.get(s as usize));
        if let Some(name) = name {
            out.push((id, name.clone()));
        }
    }
    Ok(out)
}

/// Every name, by id, from `customers_light`: what [`names_by_scan`] walks.
pub(crate) const NAMES_SCAN: &str = "SELECT id, name FROM customers ORDER BY id";

/// See [`stages`]: from `customers_light`.
pub(crate) const CUSTOMER_STAGES: &str =
    "SELECT id, stage FROM customers WHERE erased_at IS NULL ORDER BY id";

/// See [`report_customers`]: from `customers_light`.
pub(crate) const REPORT_CUSTOMERS: &str = "SELECT id, created_at, created_at_ns, stage, \
     erased_at IS NOT NULL, acquisition_channel, acquisition_cost FROM customers ORDER BY id";

/// The stage of every customer who is not erased, by id (see
/// [`solocrm_core::port::ReadTx::customer_stages`]).
pub(crate) fn stages(conn: &Connection) -> Res<Vec<(CustomerId, LifecycleStage)>> {
    query_all(conn, CUSTOMER_STAGES, [], |row| {
        let c = Cols::new(row, "customers");
        Ok((
            c.id(0, CustomerId::new)?,
            c.parse(1, LifecycleStage::parse)?,
        ))
    })
}

/// The changes to `churned`: from their partial index `stage_changes_churned`, which
/// holds these columns (a test holds the plan to it).
pub(crate) const CHURN_CHANGES: &str =
    "SELECT customer_id, id, at, at_ns FROM stage_changes WHERE to_stage = 'churned'";

/// The churned customers who are not erased, by id, from `customers_light`.
pub(crate) const CHURNED_CUSTOMERS: &str =
    "SELECT id FROM customers WHERE erased_at IS NULL AND stage = 'churned' ORDER BY id";

/// [`solocrm_core::port::ReadTx::churned_at`]: the churned customers who are not
/// erased, each with their last change to `churned` (the one pushed last, so the
/// largest id). One pass over the partial index of the changes to `churned`, then one
/// over the narrow customer index: no seek per customer, no row of either table read.
pub(crate) fn churned_at(conn: &Connection) -> Res<Vec<(CustomerId, Option<DateTime<Utc>>)>> {
    let mut last: HashMap<i64, (i64, DateTime<Utc>)> = HashMap::new();
    let mut stmt = conn.prepare_cached(CHURN_CHANGES)?;
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        let c = Cols::new(row, "stage_changes");
        let (customer, id, at) = (c.i64(0)?, c.i64(1)?, c.time(2)?);
        let e = last.entry(customer).or_insert((id, at));
        if id >= e.0 {
            *e = (id, at);
        }
    }
    query_all(conn, CHURNED_CUSTOMERS, [], |row| {
        let c = Cols::new(row, "customers");
        let raw = c.i64(0)?;
        Ok((c.id(0, CustomerId::new)?, last.get(&raw).map(|&(_, at)| at)))
    })
}

/// What a metrics report reads of every customer, erased ones included, by id (see
/// [`solocrm_core::port::ReadTx::report_customers`]): seven columns of one table (the
/// creation in two), no tags, consents, names or profiles decoded.
pub(crate) fn report_customers(conn: &Connection, base: Currency) -> Res<Vec<ReportCustomer>> {
    let bound = crate::rows::id_bound(conn, "customers")?;
    crate::rows::query_all_sized(conn, REPORT_CUSTOMERS, [], bound, |row| {
        let c = Cols::new(row, "customers");
        Ok(ReportCustomer {
            id: c.id(0, CustomerId::new)?,
            created_at: c.time(1)?,
            stage: c.parse(3, LifecycleStage::parse)?,
            erased: c.bool(4)?,
            acquisition_channel: c.opt_parse(5, Tag::parse)?,
            acquisition_cost: c.opt_money(6, base)?,
        })
    })
}

/// The segment rows of the customers passing `filter`, by id (see
/// [`solocrm_core::port::ReadTx::segment_rows`]): the id, stage and erasure columns
/// and only the columns of the `fields` asked for; the tags and consents, when asked
/// for, in one pass each over their tables.
pub(crate) fn segment_rows(
    conn: &Connection,
    filter: &CustomerFilter,
    fields: SegmentFields,
) -> Res<Vec<SegmentRow>> {
    let col = |wanted: bool, name: &str| {
        if wanted {
            format!("c.{name}")
        } else {
            "NULL".to_owned()
        }
    };
    let sql = format!(
        "SELECT c.id, c.stage, c.erased_at IS NOT NULL, {}, {}, {} FROM customers c \
         WHERE (?1 OR c.erased_at IS NULL) AND (?2 IS NULL OR c.stage = ?2) \
         AND (?3 IS NULL OR EXISTS (SELECT 1 FROM customer_tags t \
         WHERE t.customer_id = c.id AND t.tag = ?3)) ORDER BY c.id",
        col(fields.birthday, "birthday"),
        col(fields.profile, "profile"),
        col(fields.acquisition_channel, "acquisition_channel"),
    );
    let mut rows = query_all(
        conn,
        &sql,
        params![
            filter.include_erased,
            filter.stage.map(LifecycleStage::as_str),
            filter.tag.as_ref().map(Tag::as_str)
        ],
        |row| {
            let c = Cols::new(row, "customers");
            let profile = match c.opt_str(4)? {
                None => None,
                Some(json) => SegmentRow::boxed(
                    serde_json::from_str(json)
                        .map_err(|e| corrupt(format!("customers.profile: {e}")))?,
                ),
            };
            Ok(SegmentRow {
                id: c.id(0, CustomerId::new)?,
                stage: c.parse(1, LifecycleStage::parse)?,
                erased: c.bool(2)?,
                tags: Tags::new(),
                profile,
                birthday: c.opt_date(3)?,
                acquisition_channel: c.opt_parse(5, Tag::parse)?,
                consents: Vec::new(),
            })
        },
    )?;
    if fields.tags {
        // The tags in customer order (the table's own key order, no sort), handed to
        // the rows (in id order too) as both are walked forward: a hash map of every
        // tagged customer missed the processor's caches on each row at 1 M customers.
        let mut stmt =
            conn.prepare("SELECT customer_id, tag FROM customer_tags ORDER BY customer_id, tag")?;
        let mut it = stmt.query([])?;
        let mut next = rows.iter_mut().peekable();
        while let Some(row) = it.next()? {
            let c = Cols::new(row, "customer_tags");
            let id = c.i64(0)?;
            // Rows before the tag's customer have no more tags; a tag of a customer
            // not listed (erased, or of another stage or tag) is passed over.
            while next.next_if(|r| key(r.id.get()) < id).is_some() {}
            if let Some(r) = next.peek_mut().filter(|r| key(r.id.get()) == id) {
                r.tags.insert(c.parse(1, Tag::parse)?);
            }
        }
    }
    if fields.consents {
        let mut consents = consents_between(conn, 1, i64::MAX)?;
        for r in &mut rows {
            r.consents = consents.remove(&key(r.id.get())).unwrap_or_default();
        }
    }
    Ok(rows)
}

/// Sets the stage column of a customer's row, nothing else.
pub(crate) fn set_stage(db: &mut impl Exec, id: CustomerId, stage: LifecycleStage) -> Res<()> {
    match db.exec(
        "UPDATE customers SET stage = ?2 WHERE id = ?1",
        params![key(id.get()), stage.as_str()],
    )? {
        1 => Ok(()),
        _ => Err(corrupt(format!("customer {id} to update is not stored"))),
    }
}

/// The time of the customer's last stage change, from one row of the index.
pub(crate) fn last_stage_change_at(
    conn: &Connection,
    id: CustomerId,
) -> Res<Option<DateTime<Utc>>> {
    query_one(
        conn,
        "SELECT at, at_ns FROM stage_changes WHERE customer_id = ?1 ORDER BY id DESC LIMIT 1",
        [key(id.get())],
        |row| Cols::new(row, "stage_changes").time(0),
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

/// See [`keys`]: from `customers_light`.
pub(crate) const KEYS: &str =
    "SELECT id, external_ref, email, erased_at IS NOT NULL FROM customers ORDER BY id";

/// See [`keys_created`]: from `customers_light`.
pub(crate) const KEYS_CREATED: &str = "SELECT id, external_ref, email, erased_at IS NOT NULL, \
     created_at, created_at_ns FROM customers ORDER BY id";

pub(crate) fn keys(conn: &Connection) -> Res<Vec<CustomerKeys>> {
    // One pass over the narrow index (migration 26): its pages are not read again,
    // so they are not kept (a streaming export's memory stays flat).
    super::activity::with_small_cache(conn, || {
        query_all(conn, KEYS, [], |row| key_row(&Cols::new(row, "customers")))
    })
}

/// See [`solocrm_core::port::ReadTx::for_each_customer_key`]: [`keys`]' one pass over
/// the narrow index, each row handed to `f` as it is read.
pub(crate) fn for_each_key(
    conn: &Connection,
    f: &mut dyn FnMut(CustomerKeys) -> solocrm_core::StoreResult<()>,
) -> Res<()> {
    super::activity::with_small_cache(conn, || {
        let mut stmt = conn.prepare_cached(KEYS)?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            f(key_row(&Cols::new(row, "customers"))?).map_err(crate::error::Fail::Store)?;
        }
        Ok(())
    })
}

/// A customer's keys from the first four columns of [`keys`]' query (id,
/// external_ref, email, erased), which [`keys_created`] shares.
fn key_row(c: &Cols<'_, '_>) -> Res<CustomerKeys> {
    Ok(CustomerKeys {
        id: c.id(0, CustomerId::new)?,
        external_ref: c.opt_parse(1, ExternalRef::parse)?,
        email: c.opt_parse(2, Email::parse)?,
        erased: c.bool(3)?,
    })
}

/// See [`solocrm_core::port::ReadTx::customer_keys_created`]: [`keys`] and the
/// creation instant, in the same one pass over the narrow index.
pub(crate) fn keys_created(
    conn: &Connection,
) -> Res<Vec<(CustomerKeys, chrono::DateTime<chrono::Utc>)>> {
    super::activity::with_small_cache(conn, || {
        query_all(conn, KEYS_CREATED, [], |row| {
            let c = Cols::new(row, "customers");
            Ok((key_row(&c)?, c.time(4)?))
        })
    })
}

/// See [`solocrm_core::port::ReadTx::customers_created_from`]: the ids whose creation
/// instant (seconds, then nanoseconds) is at or after `from`, in one pass over the id
/// and creation columns.
pub(crate) fn created_from(
    conn: &Connection,
    from: chrono::DateTime<chrono::Utc>,
) -> Res<Vec<CustomerId>> {
    let (secs, nanos) = crate::codec::ts(from);
    super::activity::with_small_cache(conn, || {
        query_all(
            conn,
            "SELECT id FROM customers WHERE (created_at, created_at_ns) >= (?1, ?2) \
             ORDER BY id",
            rusqlite::params![secs, nanos],
            |row| Cols::new(row, "customers").id(0, CustomerId::new),
        )
    })
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
pub(crate) fn insert(db: &mut impl Exec, c: &Customer) -> Res<()> {
    write_row(
        db,
        "INSERT INTO customers (id, name, email, email_key, phone, company, birthday, \
         profile, acquisition_channel, acquisition_cost, external_ref, notes, created_at, \
         created_at_ns, stage, erased_at, erased_at_ns) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, \
         ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)",
        c,
    )?;
    sync_tags(db, c.id(), &Default::default(), c.tags())?;
    for consent in c.consents() {
        insert_consent(db, c.id(), consent)?;
    }
    Ok(())
}

/// Replaces a customer's row, and brings its tags and consents to the customer's.
/// Consents are a log: new ones are appended; anything else (an erasure) rewrites
/// them.
pub(crate) fn update(conn: &Connection, c: &Customer) -> Res<()> {
    save_customer(conn, c)?;
    let old_tags = load_tags(conn, c.id())?;
    sync_tags(&mut { conn }, c.id(), &old_tags, c.tags())?;
    let old = load_consents(conn, c.id())?;
    let new = c.consents();
    if new.starts_with(&old) {
        for consent in &new[old.len()..] {
            insert_consent(&mut { conn }, c.id(), consent)?;
        }
    } else {
        execute(
            conn,
            "DELETE FROM consents WHERE customer_id = ?1",
            [key(c.id().get())],
        )?;
        for consent in new {
            insert_consent(&mut { conn }, c.id(), consent)?;
        }
    }
    Ok(())
}

/// Appends a consent decision to a stored customer's consents.
pub(crate) fn append_consent(conn: &Connection, id: CustomerId, consent: &Consent) -> Res<()> {
    if erased(conn, id)?.is_none() {
        return Err(corrupt(format!("customer {id} to update is not stored")));
    }
    insert_consent(&mut { conn }, id, consent)
}

/// Inserts one consent decision of customer `id` (who is stored).
pub(crate) fn insert_consent(db: &mut impl Exec, id: CustomerId, consent: &Consent) -> Res<()> {
    let (at, at_ns) = ts(consent.at);
    db.exec(
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

pub(crate) fn push_stage_change(db: &mut impl Exec, change: &StageChange) -> Res<()> {
    let (kind, note, rule) = reason_cols(&change.reason);
    let (s, ns) = ts(change.at);
    db.exec(
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
            .try_for_each(|change| push_stage_change(&mut { conn }, change));
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

pub(crate) const TAGS_OF: &str = "SELECT tag FROM customer_tags WHERE customer_id = ?1";

pub(crate) const TAGS_BETWEEN: &str =
    "SELECT customer_id, tag FROM customer_tags WHERE customer_id BETWEEN ?1 AND ?2";

pub(crate) const CONSENTS_BETWEEN: &str = "SELECT customer_id, purpose, granted, at, at_ns, source \
     FROM consents WHERE customer_id BETWEEN ?1 AND ?2 ORDER BY customer_id, id";

pub(crate) const CONSENTS_OF: &str = "SELECT purpose, granted, at, at_ns, source FROM consents WHERE customer_id = ?1 \
         ORDER BY id";

pub(crate) const CUSTOMER_BY_ID: &str = concat!(
    "SELECT ",
    customer_cols!(),
    " FROM customers c WHERE c.id = ?1"
);

pub(crate) const EMAIL_OWNER: &str = "SELECT id FROM customers WHERE email_key = ?1";

pub(crate) const CUSTOMER_REF_OWNER: &str = "SELECT id FROM customers WHERE external_ref = ?1";

pub(crate) const STAGE_HISTORY: &str = "SELECT id, customer_id, from_stage, to_stage, at, at_ns, reason, note, rule \
         FROM stage_changes WHERE customer_id = ?1 ORDER BY id";

/// [`solocrm_core::port::ReadTx::stage_changes_from`]: the changes of the customers
/// with one dated at or after `?1, ?2`, in customer then push order.
pub(crate) const STAGE_CHANGES_FROM: &str = "SELECT id, customer_id, from_stage, to_stage, at, at_ns, \
     reason, note, rule FROM stage_changes WHERE customer_id IN \
     (SELECT customer_id FROM stage_changes WHERE (at, at_ns) >= (?1, ?2)) \
     ORDER BY customer_id, id";

/// See [`STAGE_CHANGES_FROM`].
pub(crate) fn stage_changes_from(conn: &Connection, from: DateTime<Utc>) -> Res<Vec<StageChange>> {
    let (s, ns) = ts(from);
    query_all(conn, STAGE_CHANGES_FROM, params![s, ns], stage_change_row)
}

/// A customer row without its tags and consents.
pub(crate) struct CustomerRow {
    id: CustomerId,
    data: CustomerData,
    created_at: DateTime<Utc>,
    stage: LifecycleStage,
    erased_at: Option<DateTime<Utc>>,
}

pub(crate) fn customer_row(row: &Row<'_>, base: Currency) -> Res<CustomerRow> {
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

pub(crate) fn load_tags(conn: &Connection, id: CustomerId) -> Res<Tags> {
    let tags = query_all(conn, TAGS_OF, [key(id.get())], |row| {
        Cols::new(row, "customer_tags").parse(0, Tag::parse)
    })?;
    Ok(tags.into_iter().collect())
}

pub(crate) fn load_consents(conn: &Connection, id: CustomerId) -> Res<Vec<Consent>> {
    query_all(conn, CONSENTS_OF, [key(id.get())], |row| {
        consent_from(&Cols::new(row, "consents"), 0)
    })
}

/// The consent decisions of the customers with ids `lo..=hi`, by customer, each
/// customer's oldest first.
fn consents_between(conn: &Connection, lo: i64, hi: i64) -> Res<HashMap<i64, Vec<Consent>>> {
    let mut consents: HashMap<i64, Vec<Consent>> = HashMap::new();
    let mut stmt = conn.prepare_cached(CONSENTS_BETWEEN)?;
    let mut it = stmt.query([lo, hi])?;
    while let Some(row) = it.next()? {
        let c = Cols::new(row, "consents");
        consents
            .entry(c.i64(0)?)
            .or_default()
            .push(consent_from(&c, 1)?);
    }
    Ok(consents)
}

/// A consent decision from the columns `purpose, granted, at, at_ns, source` of a row,
/// the first at `first`.
fn consent_from(c: &Cols<'_, '_>, first: usize) -> Res<Consent> {
    Ok(Consent {
        purpose: c.parse(first, Tag::parse)?,
        granted: c.bool(first + 1)?,
        at: c.time(first + 2)?,
        source: c.parse(first + 4, Label::parse)?,
    })
}

pub(crate) fn finish_customer(conn: &Connection, r: CustomerRow) -> Res<Customer> {
    let mut data = r.data;
    data.tags = load_tags(conn, r.id)?;
    let consents = load_consents(conn, r.id)?;
    Ok(Customer::from_parts(
        r.id,
        data,
        r.created_at,
        r.stage,
        consents,
        r.erased_at,
    ))
}

pub(crate) fn customers_where<P: rusqlite::Params>(
    conn: &Connection,
    sql: &str,
    params: P,
    base: Currency,
) -> Res<Vec<Customer>> {
    let rows = query_all(conn, sql, params, |row| customer_row(row, base))?;
    finish_customers(conn, rows)
}

/// Adds tags and consents to customer rows in ascending id order. A page of dense ids
/// reads them with one range query each instead of two queries per customer.
pub(crate) fn finish_customers(conn: &Connection, rows: Vec<CustomerRow>) -> Res<Vec<Customer>> {
    let (Some(first), Some(last)) = (rows.first(), rows.last()) else {
        return Ok(Vec::new());
    };
    let (lo, hi) = (key(first.id.get()), key(last.id.get()));
    let dense = hi >= lo && (hi - lo) as u64 <= 4 * rows.len() as u64 + 16;
    if rows.len() < 8 || !dense {
        return rows.into_iter().map(|r| finish_customer(conn, r)).collect();
    }
    let mut tags: HashMap<i64, Tags> = HashMap::new();
    {
        let mut stmt = conn.prepare_cached(TAGS_BETWEEN)?;
        let mut it = stmt.query([lo, hi])?;
        while let Some(row) = it.next()? {
            let c = Cols::new(row, "customer_tags");
            tags.entry(c.i64(0)?)
                .or_default()
                .insert(c.parse(1, Tag::parse)?);
        }
    }
    let mut consents = consents_between(conn, lo, hi)?;
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
    conn: &Connection,
    id: CustomerId,
    base: Currency,
) -> Res<Option<Customer>> {
    let row = query_one(conn, CUSTOMER_BY_ID, [key(id.get())], |row| {
        customer_row(row, base)
    })?;
    row.map(|r| finish_customer(conn, r)).transpose()
}

pub(crate) fn profile_json(p: &Profile) -> Res<Option<String>> {
    if *p == Profile::default() {
        Ok(None)
    } else {
        serde_json::to_string(p).map(Some).map_err(backend)
    }
}

/// Writes a customer's columns (not tags or consents) over its row.
pub(crate) fn save_customer(conn: &Connection, c: &Customer) -> Res<()> {
    write_row(
        &mut { conn },
        "UPDATE customers SET name = ?2, email = ?3, email_key = ?4, phone = ?5, \
         company = ?6, birthday = ?7, profile = ?8, acquisition_channel = ?9, \
         acquisition_cost = ?10, external_ref = ?11, notes = ?12, created_at = ?13, \
         created_at_ns = ?14, stage = ?15, erased_at = ?16, erased_at_ns = ?17 WHERE id = ?1",
        c,
    )
}

/// Runs `sql`, an insert or update of a customer's row, with its columns as `?1` (the
/// id) to `?17`, in the order of the table.
fn write_row(db: &mut impl Exec, sql: &'static str, c: &Customer) -> Res<()> {
    let d = c.data();
    let cost = d.acquisition_cost.map(minor).transpose()?;
    let (at, at_ns) = ts(c.created_at());
    let (erased, erased_ns) = opt_ts(c.erased_at());
    db.exec(
        sql,
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
    Ok(())
}

/// Makes the stored tags of `id` go from `old` to `new`.
pub(crate) fn sync_tags(db: &mut impl Exec, id: CustomerId, old: &Tags, new: &Tags) -> Res<()> {
    for gone in old.difference(new) {
        db.exec(
            "DELETE FROM customer_tags WHERE customer_id = ?1 AND tag = ?2",
            params![key(id.get()), gone.as_str()],
        )?;
    }
    for added in new.difference(old) {
        db.exec(
            "INSERT INTO customer_tags (customer_id, tag) VALUES (?1, ?2)",
            params![key(id.get()), added.as_str()],
        )?;
    }
    Ok(())
}

pub(crate) const LIST_ALL: &str = concat!(
    "SELECT ",
    customer_cols!(),
    " FROM customers c WHERE c.id > ?1 AND (?2 OR c.erased_at IS NULL) ORDER BY c.id LIMIT ?3"
);

pub(crate) const LIST_STAGE: &str = concat!(
    "SELECT ",
    customer_cols!(),
    " FROM customers c WHERE c.id > ?1 AND (?2 OR c.erased_at IS NULL) AND c.stage = ?4 \
     ORDER BY c.id LIMIT ?3"
);

pub(crate) const LIST_TAG: &str = concat!(
    "SELECT ",
    customer_cols!(),
    " FROM customer_tags t JOIN customers c ON c.id = t.customer_id WHERE t.tag = ?4 \
     AND t.customer_id > ?1 AND (?2 OR c.erased_at IS NULL) ORDER BY t.customer_id LIMIT ?3"
);

pub(crate) const LIST_TAG_STAGE: &str = concat!(
    "SELECT ",
    customer_cols!(),
    " FROM customer_tags t JOIN customers c ON c.id = t.customer_id WHERE t.tag = ?4 \
     AND t.customer_id > ?1 AND (?2 OR c.erased_at IS NULL) AND c.stage = ?5 \
     ORDER BY t.customer_id LIMIT ?3"
);

pub(crate) fn stage_change_row(row: &Row<'_>) -> Res<StageChange> {
    let c = Cols::new(row, "stage_changes");
    let reason = match c.str(6)? {
        "manual" => StageReason::Manual {
            note: c.opt_parse(7, Label::parse)?,
        },
        "rule" => StageReason::Rule {
            rule: c.parse(8, PolicyRule::parse)?,
        },
        other => return Err(corrupt(format!("stage_changes.reason: '{other}'"))),
    };
    Ok(StageChange {
        customer: c.id(1, CustomerId::new)?,
        from: c.parse(2, LifecycleStage::parse)?,
        to: c.parse(3, LifecycleStage::parse)?,
        at: c.time(4)?,
        reason,
    })
}

pub(crate) fn stage_history(conn: &Connection, id: CustomerId) -> Res<Vec<StageChange>> {
    query_all(conn, STAGE_HISTORY, [key(id.get())], stage_change_row)
}
