//! The SQL and row codecs the port's primitives (`crate::port`) share: column lists,
//! the statements whose plans `the_queries_use_their_indexes` checks, the decoding
//! of each kind of row into its domain record, and the bulk-import index rebuild.
//! Nothing here checks a business rule: the operations layer (`solocrm_core::ops`)
//! decides what may be written, in what order.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use rusqlite::{Connection, Row, TransactionBehavior, params};
use solocrm_core::{
    ActivityQuery, AuditAction, AuditEntry, AuditId, Channel, Consent, Currency, Customer,
    CustomerData, CustomerId, Deal, DealId, DealStage, DealStageChange, Direction, Email,
    ExternalRef, FreeText, Interaction, InteractionId, Label, LifecycleStage, NewDeal,
    NewInteraction, NewPointsEntry, NewPurchase, NewRefund, NewServiceRequest, NewSurveyResponse,
    NewTask, OpenQuery, PersonName, Phone, PointsEntry, PointsEntryId, PointsKind, PolicyRule,
    Predicate, Profile, Purchase, PurchaseId, PurchaseLog, PurchaseSummary, Recurrence, Refund,
    RefundId, RequestEvent, RequestEventKind, RequestId, RequestKind, Segment, Sentiment,
    ServiceRequest, StageChange, StageReason, StoreError, StoreResult, SurveyId, SurveyKind,
    SurveyResponse, SurveyScore, Tag, Tags, Task, TaskId, TaskKind, TaskQuery, TimeRange,
};

use crate::SqliteStore;
use crate::codec::{Cols, date, key, minor, opt_ts, ts};
use crate::error::{Corrupt, Fail, Res};

impl SqliteStore {
    /// The stored segments that cannot be read, by name: each one's name as stored and
    /// why it does not decode (say a condition nested deeper than
    /// [`MAX_PREDICATE_DEPTH`](solocrm_core::segment::MAX_PREDICATE_DEPTH), saved by an
    /// older version, or a row changed outside solocrm). [`Store::segments`](solocrm_core::Store::segments) leaves
    /// them out instead of failing for every segment, and [`Store::segment`](solocrm_core::Store::segment) of one of
    /// them is a [`StoreError::Backend`] naming it; [`Store::delete_segment`](solocrm_core::Store::delete_segment) removes
    /// one (by its name, if that is a valid [`Label`]).
    ///
    /// # Errors
    ///
    /// [`StoreError::Backend`] if SQLite fails, [`StoreError::Busy`] if it cannot read.
    pub fn unreadable_segments(&self) -> StoreResult<Vec<(String, String)>> {
        let mut conn = self.lock();
        let mut run = || -> Res<Vec<(String, String)>> {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Deferred)?;
            let (_, bad) = all_segments(&tx)?;
            tx.commit()?;
            Ok(bad)
        };
        run().map_err(|e| e.into_store(self.busy_timeout))
    }
}

// ----- column lists (static SQL only; values are always bound) -----

macro_rules! customer_cols {
    () => {
        "c.id, c.name, c.email, c.phone, c.company, c.birthday, c.profile, \
         c.acquisition_channel, c.acquisition_cost, c.external_ref, c.notes, \
         c.created_at, c.created_at_ns, c.stage, c.erased_at, c.erased_at_ns"
    };
}

macro_rules! purchase_cols {
    () => {
        "p.id, p.customer_id, p.at, p.at_ns, p.amount, p.cost, p.description, p.items, \
         p.external_ref, p.deal_id"
    };
}

macro_rules! interaction_cols {
    () => {
        "i.id, i.customer_id, i.channel, i.direction, i.at, i.at_ns, i.summary, i.sentiment"
    };
}

macro_rules! refund_cols {
    () => {
        "r.id, r.customer_id, r.purchase_id, r.at, r.at_ns, r.amount, r.reason"
    };
}

macro_rules! survey_cols {
    () => {
        "s.id, s.customer_id, s.at, s.at_ns, s.kind, s.score, s.comment"
    };
}

macro_rules! request_cols {
    () => {
        "r.id, r.customer_id, r.kind, r.subject, r.description, r.deal_id, r.opened_at, \
         r.opened_at_ns, r.status"
    };
}

macro_rules! deal_cols {
    () => {
        "d.id, d.customer_id, d.title, d.value, d.created_at, d.created_at_ns, \
         d.initial_stage, d.expected_close, d.stage"
    };
}

macro_rules! task_cols {
    () => {
        "t.id, t.customer_id, t.kind, t.title, t.due, t.recurrence, t.created_at, \
         t.created_at_ns, t.occurrence, t.done, t.last_done_at, t.last_done_at_ns"
    };
}

macro_rules! points_cols {
    () => {
        "e.id, e.customer_id, e.at, e.at_ns, e.kind, e.delta, e.reason, e.balance_after"
    };
}

/// Declares the two statements of a time-ordered activity list: all customers (in id
/// order, sorted by time in Rust), and one customer (through the
/// `(customer_id, at, at_ns)` index, in time order).
macro_rules! activity_sql {
    ($all:ident, $one:ident, $cols:expr, $table:literal, $alias:literal) => {
        // All customers: one scan in id order; the caller sorts by time (ids follow
        // insertion order, which is nearly time order, and a sort of presorted runs
        // is close to linear, unlike SQLite's sorter).
        const $all: &str = concat!(
            "SELECT ",
            $cols,
            " FROM ",
            $table,
            " ",
            $alias,
            " WHERE (",
            $alias,
            ".at, ",
            $alias,
            ".at_ns) >= (?1, ?2) AND (",
            $alias,
            ".at, ",
            $alias,
            ".at_ns) < (?3, ?4) ORDER BY ",
            $alias,
            ".id"
        );
        const $one: &str = concat!(
            "SELECT ",
            $cols,
            " FROM ",
            $table,
            " ",
            $alias,
            " WHERE ",
            $alias,
            ".customer_id = ?5 AND (",
            $alias,
            ".at, ",
            $alias,
            ".at_ns) >= (?1, ?2) AND (",
            $alias,
            ".at, ",
            $alias,
            ".at_ns) < (?3, ?4) ORDER BY ",
            $alias,
            ".at, ",
            $alias,
            ".at_ns, ",
            $alias,
            ".id"
        );
    };
}

activity_sql!(
    INTERACTIONS_ALL,
    INTERACTIONS_OF,
    interaction_cols!(),
    "interactions",
    "i"
);
activity_sql!(
    PURCHASES_ALL,
    PURCHASES_OF,
    purchase_cols!(),
    "purchases",
    "p"
);
activity_sql!(REFUNDS_ALL, REFUNDS_OF, refund_cols!(), "refunds", "r");
activity_sql!(SURVEYS_ALL, SURVEYS_OF, survey_cols!(), "surveys", "s");

// ----- statements that the query-plan test checks -----

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
pub(crate) const PURCHASE_SUMMARY: &str = "SELECT at, at_ns, amount FROM purchases WHERE customer_id = ?1 \
         AND (at, at_ns) <= (?2, ?3)";
pub(crate) const PURCHASE_REF_OWNER: &str = "SELECT id FROM purchases WHERE external_ref = ?1";
pub(crate) const REQUEST_EVENTS: &str =
    "SELECT kind, at, at_ns FROM request_events WHERE request_id = ?1 ORDER BY seq";
pub(crate) const DEAL_MOVES: &str =
    "SELECT from_stage, to_stage, at, at_ns FROM deal_moves WHERE deal_id = ?1 ORDER BY seq";
pub(crate) const POINTS_BALANCE: &str =
    "SELECT balance_after FROM points_entries WHERE customer_id = ?1 ORDER BY id DESC LIMIT 1";
pub(crate) const POINTS_LEDGER: &str = concat!(
    "SELECT ",
    points_cols!(),
    " FROM points_entries e WHERE e.customer_id = ?1 ORDER BY e.id"
);
pub(crate) const STAGE_HISTORY: &str = "SELECT id, customer_id, from_stage, to_stage, at, at_ns, reason, note, rule \
         FROM stage_changes WHERE customer_id = ?1 ORDER BY id";
pub(crate) const PURCHASE_LOG_SCAN: &str =
    "SELECT customer_id, at, amount FROM purchases NOT INDEXED ORDER BY id";
// ----- small helpers -----

pub(crate) fn backend(e: impl std::error::Error + Send + Sync + 'static) -> Fail {
    Fail::Store(StoreError::backend(e))
}

pub(crate) fn corrupt(what: String) -> Fail {
    Fail::Corrupt(Corrupt(what))
}

/// Runs `sql` with `params` and decodes every row.
pub(crate) fn query_all<T, P: rusqlite::Params>(
    conn: &Connection,
    sql: &str,
    params: P,
    mut decode: impl FnMut(&Row<'_>) -> Res<T>,
) -> Res<Vec<T>> {
    let mut stmt = conn.prepare_cached(sql)?;
    let mut rows = stmt.query(params)?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        out.push(decode(row)?);
    }
    Ok(out)
}

/// Runs `sql` with `params` and decodes the first row, if any.
pub(crate) fn query_one<T, P: rusqlite::Params>(
    conn: &Connection,
    sql: &str,
    params: P,
    decode: impl FnOnce(&Row<'_>) -> Res<T>,
) -> Res<Option<T>> {
    let mut stmt = conn.prepare_cached(sql)?;
    let mut rows = stmt.query(params)?;
    match rows.next()? {
        Some(row) => decode(row).map(Some),
        None => Ok(None),
    }
}

pub(crate) fn execute<P: rusqlite::Params>(conn: &Connection, sql: &str, params: P) -> Res<usize> {
    Ok(conn.prepare_cached(sql)?.execute(params)?)
}

/// The `(from, to)` bounds of a time range as column values; an open end becomes a
/// bound no stored instant reaches.
pub(crate) fn range_params(range: &TimeRange) -> (i64, i64, i64, i64) {
    let (fs, fns) = range.from.map_or((i64::MIN, 0), ts);
    let (us, uns) = range.to.map_or((i64::MAX, 0), ts);
    (fs, fns, us, uns)
}

/// A time-ordered activity list.
/// A list ordered by time, then id: `order` gives each item's `(time, id)`.
pub(crate) fn activity<T>(
    conn: &Connection,
    query: &ActivityQuery,
    (all, one): (&str, &str),
    decode: impl FnMut(&Row<'_>) -> Res<T>,
    order: impl Fn(&T) -> (DateTime<Utc>, u64),
) -> Res<Vec<T>> {
    let (fs, fns, us, uns) = range_params(&query.range);
    match query.customer {
        None => {
            let mut items = query_all(conn, all, params![fs, fns, us, uns], decode)?;
            items.sort_by_key(order);
            Ok(items)
        }
        Some(c) => query_all(conn, one, params![fs, fns, us, uns, key(c.get())], decode),
    }
}

pub(crate) fn interactions(conn: &Connection, query: &ActivityQuery) -> Res<Vec<Interaction>> {
    activity(
        conn,
        query,
        (INTERACTIONS_ALL, INTERACTIONS_OF),
        interaction_row,
        |i| (i.at(), i.id().get()),
    )
}

pub(crate) fn purchases(
    conn: &Connection,
    query: &ActivityQuery,
    base: Currency,
) -> Res<Vec<Purchase>> {
    activity(
        conn,
        query,
        (PURCHASES_ALL, PURCHASES_OF),
        |row| purchase_row(row, base),
        |p| (p.at(), p.id().get()),
    )
}

pub(crate) fn refunds(
    conn: &Connection,
    query: &ActivityQuery,
    base: Currency,
) -> Res<Vec<Refund>> {
    activity(
        conn,
        query,
        (REFUNDS_ALL, REFUNDS_OF),
        |row| refund_row(row, base),
        |r| (r.at(), r.id().get()),
    )
}

pub(crate) fn surveys(conn: &Connection, query: &ActivityQuery) -> Res<Vec<SurveyResponse>> {
    activity(conn, query, (SURVEYS_ALL, SURVEYS_OF), survey_row, |s| {
        (s.at(), s.id().get())
    })
}

// ----- customers -----

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
        let c = Cols::new(row, "consents");
        Ok(Consent {
            purpose: c.parse(0, Tag::parse)?,
            granted: c.bool(1)?,
            at: c.time(2)?,
            source: c.parse(4, Label::parse)?,
        })
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
    let mut consents: HashMap<i64, Vec<Consent>> = HashMap::new();
    {
        let mut stmt = conn.prepare_cached(CONSENTS_BETWEEN)?;
        let mut it = stmt.query([lo, hi])?;
        while let Some(row) = it.next()? {
            let c = Cols::new(row, "consents");
            consents.entry(c.i64(0)?).or_default().push(Consent {
                purpose: c.parse(1, Tag::parse)?,
                granted: c.bool(2)?,
                at: c.time(3)?,
                source: c.parse(5, Label::parse)?,
            });
        }
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
    let d = c.data();
    let cost = d.acquisition_cost.map(minor).transpose()?;
    let (erased, erased_ns) = opt_ts(c.erased_at());
    execute(
        conn,
        "UPDATE customers SET name = ?2, email = ?3, email_key = ?4, phone = ?5, \
         company = ?6, birthday = ?7, profile = ?8, acquisition_channel = ?9, \
         acquisition_cost = ?10, external_ref = ?11, notes = ?12, stage = ?13, \
         erased_at = ?14, erased_at_ns = ?15 WHERE id = ?1",
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
            c.stage().as_str(),
            erased,
            erased_ns,
        ],
    )?;
    Ok(())
}

/// Makes the stored tags of `id` go from `old` to `new`.
pub(crate) fn sync_tags(conn: &Connection, id: CustomerId, old: &Tags, new: &Tags) -> Res<()> {
    for gone in old.difference(new) {
        execute(
            conn,
            "DELETE FROM customer_tags WHERE customer_id = ?1 AND tag = ?2",
            params![key(id.get()), gone.as_str()],
        )?;
    }
    for added in new.difference(old) {
        execute(
            conn,
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

/// What a segment needs of a customer's purchases up to `as_of`, summed exactly in
/// Rust (no SQL `sum` that could overflow).
pub(crate) fn purchase_summary(
    conn: &Connection,
    id: CustomerId,
    as_of: DateTime<Utc>,
    base: Currency,
) -> Res<PurchaseSummary> {
    let (s, ns) = ts(as_of);
    let mut summary = PurchaseSummary::none(base);
    let mut stmt = conn.prepare_cached(PURCHASE_SUMMARY)?;
    let mut rows = stmt.query(params![key(id.get()), s, ns])?;
    while let Some(row) = rows.next()? {
        let c = Cols::new(row, "purchases");
        summary
            .add(c.time(0)?, c.money(2, base)?)
            .map_err(backend)?;
    }
    Ok(summary)
}

// ----- purchases -----

pub(crate) fn purchase_row(row: &Row<'_>, base: Currency) -> Res<Purchase> {
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
        return Err(corrupt("purchases: a negative amount".to_owned()));
    }
    Ok(Purchase::new(c.id(0, PurchaseId::new)?, fields))
}

/// An import needs at least this many purchases, and half the table's highest
/// purchase id before it (its size: purchases are never deleted), before the purchase
/// indexes are rebuilt at its end rather than maintained row by row.
pub(crate) const BULK_PURCHASES: usize = 50_000;
pub(crate) fn rebuild_indexes(conn: &Connection, sqls: &[String]) -> Res<()> {
    let built = conn
        .execute_batch("PRAGMA threads = 1; PRAGMA cache_size = -4096")
        .and_then(|()| sqls.iter().try_for_each(|sql| conn.execute_batch(sql)));
    let restored = conn.execute_batch(&format!(
        "PRAGMA threads = 0; PRAGMA cache_size = -{}",
        crate::CACHE_KIB
    ));
    built?;
    Ok(restored?)
}

/// Drops the purchase indexes SQLite does not need for constraints, and returns the
/// statements that create them again.
pub(crate) fn drop_purchase_indexes(conn: &Connection) -> Res<Vec<String>> {
    let mut stmt = conn.prepare(
        "SELECT name, sql FROM sqlite_schema \
         WHERE type = 'index' AND tbl_name = 'purchases' AND sql IS NOT NULL ORDER BY name",
    )?;
    let found = stmt
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    for (name, _) in &found {
        // The name comes from the schema, not from input; quoted as an identifier.
        conn.execute_batch(&format!("DROP INDEX \"{}\"", name.replace('"', "\"\"")))?;
    }
    Ok(found.into_iter().map(|(_, sql)| sql).collect())
}

// ----- interactions, refunds, surveys -----

pub(crate) fn interaction_row(row: &Row<'_>) -> Res<Interaction> {
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
    ))
}

pub(crate) fn refund_row(row: &Row<'_>, base: Currency) -> Res<Refund> {
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

pub(crate) fn survey_row(row: &Row<'_>) -> Res<SurveyResponse> {
    let c = Cols::new(row, "surveys");
    let kind = c.parse(4, SurveyKind::parse)?;
    let score = c.i64(5)?;
    let score =
        SurveyScore::new(kind, score).map_err(|e| corrupt(format!("surveys.score: {e}")))?;
    Ok(SurveyResponse::new(
        c.id(0, SurveyId::new)?,
        NewSurveyResponse {
            customer: c.id(1, CustomerId::new)?,
            at: c.time(2)?,
            score,
            comment: c.opt_parse(6, FreeText::parse)?,
        },
    ))
}

// ----- service requests -----

pub(crate) const REQUESTS_ALL: &str = concat!(
    "SELECT ",
    request_cols!(),
    " FROM service_requests r ORDER BY r.id"
);
pub(crate) const REQUESTS_OPEN: &str = concat!(
    "SELECT ",
    request_cols!(),
    " FROM service_requests r WHERE r.status <> 'resolved' ORDER BY r.id"
);
pub(crate) const REQUESTS_OF: &str = concat!(
    "SELECT ",
    request_cols!(),
    " FROM service_requests r WHERE r.customer_id = ?1 ORDER BY r.id"
);
pub(crate) const REQUESTS_OPEN_OF: &str = concat!(
    "SELECT ",
    request_cols!(),
    " FROM service_requests r WHERE r.customer_id = ?1 AND r.status <> 'resolved' \
     ORDER BY r.id"
);

/// A request row: the opening, and the stored status to check the replay against.
pub(crate) struct RequestRow {
    id: RequestId,
    new: NewServiceRequest,
    status: String,
}

pub(crate) fn request_row(row: &Row<'_>) -> Res<RequestRow> {
    let c = Cols::new(row, "service_requests");
    Ok(RequestRow {
        id: c.id(0, RequestId::new)?,
        new: NewServiceRequest {
            customer: c.id(1, CustomerId::new)?,
            kind: c.parse(2, RequestKind::parse)?,
            subject: c.parse(3, Label::parse)?,
            description: c.parse(4, FreeText::parse)?,
            opened_at: c.time(6)?,
            deal: c.opt_id(5, DealId::new)?,
        },
        status: c.str(8)?.to_owned(),
    })
}

/// Rebuilds a request by replaying its events through the domain's rules.
pub(crate) fn finish_request(conn: &Connection, r: RequestRow) -> Res<ServiceRequest> {
    let events = query_all(conn, REQUEST_EVENTS, [key(r.id.get())], |row| {
        let c = Cols::new(row, "request_events");
        Ok(RequestEvent {
            kind: c.parse(0, RequestEventKind::parse)?,
            at: c.time(1)?,
        })
    })?;
    let req = ServiceRequest::replay(r.id, r.new, events)
        .map_err(|e| corrupt(format!("service request {}: {e}", r.id)))?;
    if req.status().as_str() != r.status {
        return Err(corrupt(format!(
            "service request {}: stored status '{}' but its history ends {}",
            r.id,
            r.status,
            req.status()
        )));
    }
    Ok(req)
}

pub(crate) fn requests_where<P: rusqlite::Params>(
    conn: &Connection,
    sql: &str,
    params: P,
) -> Res<Vec<ServiceRequest>> {
    let rows = query_all(conn, sql, params, request_row)?;
    rows.into_iter().map(|r| finish_request(conn, r)).collect()
}

pub(crate) fn list_requests(conn: &Connection, q: &OpenQuery) -> Res<Vec<ServiceRequest>> {
    match (q.customer, q.open_only) {
        (None, false) => requests_where(conn, REQUESTS_ALL, []),
        (None, true) => requests_where(conn, REQUESTS_OPEN, []),
        (Some(c), false) => requests_where(conn, REQUESTS_OF, [key(c.get())]),
        (Some(c), true) => requests_where(conn, REQUESTS_OPEN_OF, [key(c.get())]),
    }
}

// ----- deals -----

pub(crate) const DEALS_ALL: &str = concat!("SELECT ", deal_cols!(), " FROM deals d ORDER BY d.id");
pub(crate) const DEALS_OPEN: &str = concat!(
    "SELECT ",
    deal_cols!(),
    " FROM deals d WHERE d.stage NOT IN ('won', 'lost') ORDER BY d.id"
);
pub(crate) const DEALS_OF: &str = concat!(
    "SELECT ",
    deal_cols!(),
    " FROM deals d WHERE d.customer_id = ?1 ORDER BY d.id"
);
pub(crate) const DEALS_OPEN_OF: &str = concat!(
    "SELECT ",
    deal_cols!(),
    " FROM deals d WHERE d.customer_id = ?1 AND d.stage NOT IN ('won', 'lost') ORDER BY d.id"
);

pub(crate) struct DealRow {
    id: DealId,
    new: NewDeal,
    stage: String,
}

pub(crate) fn deal_row(row: &Row<'_>, base: Currency) -> Res<DealRow> {
    let c = Cols::new(row, "deals");
    let value = c.money(3, base)?;
    if value.is_negative() {
        return Err(corrupt(format!("deals.value: {value} is negative")));
    }
    Ok(DealRow {
        id: c.id(0, DealId::new)?,
        new: NewDeal {
            customer: c.id(1, CustomerId::new)?,
            title: c.parse(2, Label::parse)?,
            value,
            created_at: c.time(4)?,
            stage: c.parse(6, DealStage::parse)?,
            expected_close: c.opt_date(7)?,
        },
        stage: c.str(8)?.to_owned(),
    })
}

/// Rebuilds a deal by replaying its moves through the domain's rules, and checks the
/// stored history and stage against the replay.
pub(crate) fn finish_deal(conn: &Connection, r: DealRow) -> Res<Deal> {
    let moves = query_all(conn, DEAL_MOVES, [key(r.id.get())], |row| {
        let c = Cols::new(row, "deal_moves");
        Ok(DealStageChange {
            from: c.parse(0, DealStage::parse)?,
            to: c.parse(1, DealStage::parse)?,
            at: c.time(2)?,
        })
    })?;
    if r.new.stage.is_closed() {
        return Err(corrupt(format!("deal {}: starts closed", r.id)));
    }
    let deal = Deal::replay(r.id, r.new, moves.iter().cloned())
        .map_err(|e| corrupt(format!("deal {}: {e}", r.id)))?;
    if deal.history() != moves.as_slice() || deal.stage().as_str() != r.stage {
        return Err(corrupt(format!(
            "deal {}: the stored stages do not match its history",
            r.id
        )));
    }
    Ok(deal)
}

pub(crate) fn deals_where<P: rusqlite::Params>(
    conn: &Connection,
    sql: &str,
    params: P,
    base: Currency,
) -> Res<Vec<Deal>> {
    let rows = query_all(conn, sql, params, |row| deal_row(row, base))?;
    rows.into_iter().map(|r| finish_deal(conn, r)).collect()
}

pub(crate) fn list_deals(conn: &Connection, q: &OpenQuery, base: Currency) -> Res<Vec<Deal>> {
    match (q.customer, q.open_only) {
        (None, false) => deals_where(conn, DEALS_ALL, [], base),
        (None, true) => deals_where(conn, DEALS_OPEN, [], base),
        (Some(c), false) => deals_where(conn, DEALS_OF, [key(c.get())], base),
        (Some(c), true) => deals_where(conn, DEALS_OPEN_OF, [key(c.get())], base),
    }
}

/// The deal with `id`, if it exists.
pub(crate) fn find_deal(conn: &Connection, id: DealId, base: Currency) -> Res<Option<Deal>> {
    let row = query_one(
        conn,
        concat!("SELECT ", deal_cols!(), " FROM deals d WHERE d.id = ?1"),
        [key(id.get())],
        |row| deal_row(row, base),
    )?;
    row.map(|r| finish_deal(conn, r)).transpose()
}

// ----- tasks -----

pub(crate) fn task_row(row: &Row<'_>) -> Res<Task> {
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
            "tasks: done and occurrence contradict the recurrence".to_owned(),
        ));
    }
    Ok(Task::from_parts(
        c.id(0, TaskId::new)?,
        fields,
        occurrence,
        done,
        c.opt_time(10)?,
    ))
}

/// Tasks matching `q`, by due date, then id. The due date of a recurring task depends
/// on how often it was completed, so the date filter and the order are applied here,
/// on the (few) tasks of the store.
pub(crate) fn list_tasks(conn: &Connection, q: &TaskQuery) -> Res<Vec<Task>> {
    let mut tasks = match q.customer {
        None => query_all(
            conn,
            concat!(
                "SELECT ",
                task_cols!(),
                " FROM tasks t WHERE (?1 OR t.done = 0)"
            ),
            [q.include_done],
            task_row,
        )?,
        Some(c) => query_all(
            conn,
            concat!(
                "SELECT ",
                task_cols!(),
                " FROM tasks t WHERE t.customer_id = ?2 AND (?1 OR t.done = 0)"
            ),
            params![q.include_done, key(c.get())],
            task_row,
        )?,
    };
    tasks.retain(|t| q.due_until.is_none_or(|d| t.due() <= d));
    tasks.sort_by_key(|t| (t.due(), t.id()));
    Ok(tasks)
}

// ----- points -----

pub(crate) fn points_row(row: &Row<'_>) -> Res<PointsEntry> {
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

pub(crate) fn points_balance(conn: &Connection, customer: CustomerId) -> Res<i64> {
    let b = query_one(conn, POINTS_BALANCE, [key(customer.get())], |row| {
        Cols::new(row, "points_entries").i64(0)
    })?;
    Ok(b.unwrap_or(0))
}

pub(crate) fn points_ledger(conn: &Connection, customer: CustomerId) -> Res<Vec<PointsEntry>> {
    query_all(conn, POINTS_LEDGER, [key(customer.get())], points_row)
}

// ----- lifecycle -----

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

// ----- segments and audit -----

/// A stored segment row: the segment, or, if the row does not decode (a predicate
/// nested deeper than this version reads, saved by an older one; a row edited outside
/// solocrm), its name as stored and why it cannot be read.
pub(crate) fn segment_row(row: &Row<'_>) -> Res<Result<Segment, (String, String)>> {
    use rusqlite::types::ValueRef;
    let text = |i: usize| -> Res<Result<String, String>> {
        Ok(match row.get_ref(i)? {
            ValueRef::Text(b) => std::str::from_utf8(b)
                .map(str::to_owned)
                .map_err(|_| String::from_utf8_lossy(b).into_owned()),
            other => Err(format!("{:?}", other.data_type())),
        })
    };
    let name = match text(0)? {
        Ok(name) => name,
        Err(raw) => {
            return Ok(Err((
                raw,
                "its name is not valid text (changed outside solocrm?)".to_owned(),
            )));
        }
    };
    let label = match Label::parse(&name) {
        Ok(label) => label,
        Err(e) => return Ok(Err((name, format!("its name is not valid: {e}")))),
    };
    let predicate = match text(1)? {
        Ok(json) => serde_json::from_str::<Predicate>(&json).map_err(|e| {
            if e.to_string().starts_with("recursion limit exceeded") {
                // The stored form of a condition nested far deeper than the limit.
                format!(
                    "its condition does not decode: it nests more than {} levels deep, \
                     the most solocrm reads (an older version saved it)",
                    solocrm_core::segment::MAX_PREDICATE_DEPTH
                )
            } else {
                format!("its condition does not decode: {e}")
            }
        }),
        Err(kind) => Err(format!("its condition is not text but {kind}")),
    };
    Ok(match predicate {
        Ok(predicate) => Ok(Segment {
            name: label,
            predicate,
        }),
        Err(why) => Err((name, why)),
    })
}

/// Every stored segment by name: those that decode, and the name and the reason of
/// those that do not.
pub(crate) type SegmentRows = (Vec<Segment>, Vec<(String, String)>);

pub(crate) fn all_segments(conn: &Connection) -> Res<SegmentRows> {
    let rows = query_all(
        conn,
        "SELECT name, predicate FROM segments ORDER BY name",
        [],
        segment_row,
    )?;
    let mut ok = Vec::new();
    let mut unreadable = Vec::new();
    for row in rows {
        match row {
            Ok(s) => ok.push(s),
            Err(bad) => unreadable.push(bad),
        }
    }
    Ok((ok, unreadable))
}

/// A stored segment that cannot be read; the message names it and says how to get rid
/// of it. Reported as [`StoreError::Backend`].
#[derive(Debug)]
pub(crate) struct UnreadableSegment {
    pub(crate) name: String,
    pub(crate) why: String,
}

impl std::fmt::Display for UnreadableSegment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "segment '{}' cannot be read: {}; delete it with `solocrm segment delete {}`",
            self.name.escape_debug(),
            self.why,
            shell_word(&self.name)
        )
    }
}

impl std::error::Error for UnreadableSegment {}

/// `s` as one word of a POSIX shell command line: as it is if it holds only
/// characters no shell treats specially, in single quotes otherwise (control
/// characters escaped, so the hint never carries one to a terminal).
pub(crate) fn shell_word(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_alphanumeric() || "-_.,:/@+=%".contains(c));
    if plain {
        return s.to_owned();
    }
    let mut out = String::from("'");
    for c in s.chars() {
        match c {
            '\'' => out.push_str("'\\''"),
            c if c.is_control() => out.extend(c.escape_debug()),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

pub(crate) fn audit_row(row: &Row<'_>) -> Res<AuditEntry> {
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
        let dense =
            |i: usize| u32::try_from(i).map_err(|_| corrupt("more than 2^32 customers".to_owned()));
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

pub(crate) fn purchase_log(conn: &Connection, base: Currency) -> Res<PurchaseLog> {
    let customers = query_all(conn, "SELECT id FROM customers ORDER BY id", [], |row| {
        Cols::new(row, "customers").id(0, CustomerId::new)
    })?;
    let index = DenseIndex::new(&customers)?;
    let mut log = PurchaseLog::with_customers(base, customers);
    // Ids are dense, so the largest id is a close upper bound of the row count.
    let rows: i64 = conn
        .prepare_cached("SELECT coalesce(max(id), 0) FROM purchases")?
        .query_row([], |r| r.get(0))?;
    let capacity = usize::try_from(rows).unwrap_or(0).min(1 << 28);
    log.customer.reserve_exact(capacity);
    log.at.reserve_exact(capacity);
    log.amount.reserve_exact(capacity);
    // One pass over the table in rowid (= id) order; no sort. `NOT INDEXED` keeps the
    // planner off the covering customer index, which holds the same columns in
    // customer order.
    let mut stmt = conn.prepare_cached(PURCHASE_LOG_SCAN)?;
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        let (customer, at, amount) = match (row.get_ref(0)?, row.get_ref(1)?, row.get_ref(2)?) {
            (
                rusqlite::types::ValueRef::Integer(c),
                rusqlite::types::ValueRef::Integer(t),
                rusqlite::types::ValueRef::Integer(a),
            ) => (c, t, a),
            _ => return Err(corrupt("purchases: a non-integer column".to_owned())),
        };
        let dense = index
            .get(customer)
            .ok_or_else(|| corrupt(format!("purchases: unknown customer {customer}")))?;
        log.push(dense, at, amount);
    }
    Ok(log)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    use solocrm_core::{
        Conflict, Crm, CustomerData, CustomerRef, ImportBatch, Money, NewCustomer, NewPurchase,
        PersonName, Store, StoreErrorKind,
    };

    /// The query plan of `sql`, one line per step.
    fn plan(conn: &Connection, sql: &str) -> String {
        let mut stmt = conn
            .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
            .expect("explain");
        let n = stmt.parameter_count();
        let params: Vec<rusqlite::types::Value> = vec![rusqlite::types::Value::Integer(1); n];
        let rows = stmt
            .query_map(rusqlite::params_from_iter(params), |r| {
                r.get::<_, String>(3)
            })
            .expect("the plan");
        rows.map(|r| r.expect("a plan step"))
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Each index serves the query `docs/storage.md` says it serves, and the purchase
    /// log is one scan of the table in id order without a sort.
    #[test]
    fn the_queries_use_their_indexes() {
        let store = SqliteStore::open_in_memory(Currency::EUR).expect("a store");
        let conn = store.lock();
        let uses = |sql: &str, wanted: &str| {
            let p = plan(&conn, sql);
            assert!(p.contains(wanted), "{sql}\nwants {wanted}, plan:\n{p}");
            // A sort of the rows that tie on the index's order is fine (purchases of
            // one customer at one instant, by id); a sort of the whole result is not.
            assert!(
                !p.contains("TEMP B-TREE FOR ORDER BY"),
                "{sql}\nsorts:\n{p}"
            );
        };
        uses(CUSTOMER_BY_ID, "USING INTEGER PRIMARY KEY");
        uses(EMAIL_OWNER, "sqlite_autoindex_customers_1");
        uses(CUSTOMER_REF_OWNER, "sqlite_autoindex_customers_2");
        uses(TAGS_OF, "USING PRIMARY KEY (customer_id=?)");
        uses(CONSENTS_OF, "consents_by_customer");
        uses(LIST_ALL, "USING INTEGER PRIMARY KEY (rowid>?)");
        uses(
            LIST_TAG,
            "USING COVERING INDEX customer_tags_by_tag (tag=? AND customer_id>?)",
        );
        uses(LIST_TAG_STAGE, "customer_tags_by_tag");
        uses(STAGE_HISTORY, "stage_changes_by_customer");
        uses(INTERACTIONS_OF, "interactions_by_customer");
        uses(PURCHASES_OF, "purchases_by_customer");
        uses(
            PURCHASE_SUMMARY,
            "USING COVERING INDEX purchases_by_customer (customer_id=? AND",
        );
        uses(PURCHASE_REF_OWNER, "sqlite_autoindex_purchases_1");
        uses(
            crate::port::activity::REFUNDS_OF_PURCHASE,
            "refunds_by_purchase",
        );
        uses(REFUNDS_OF, "refunds_by_customer");
        uses(SURVEYS_OF, "surveys_by_customer");
        uses(DEALS_OF, "deals_by_customer");
        uses(DEALS_OPEN, "deals_open");
        uses(DEAL_MOVES, "USING PRIMARY KEY (deal_id=?)");
        uses(REQUESTS_OF, "service_requests_by_customer");
        uses(REQUESTS_OPEN, "service_requests_open");
        uses(REQUEST_EVENTS, "USING PRIMARY KEY (request_id=?)");
        uses(POINTS_BALANCE, "points_entries_by_customer");
        uses(POINTS_LEDGER, "points_entries_by_customer");
        for all in [INTERACTIONS_ALL, PURCHASES_ALL, REFUNDS_ALL, SURVEYS_ALL] {
            let p = plan(&conn, all);
            assert!(
                p.starts_with("SCAN") && !p.contains("TEMP B-TREE"),
                "{all}\n{p}"
            );
        }
        uses(
            TAGS_BETWEEN,
            "USING PRIMARY KEY (customer_id>? AND customer_id<?)",
        );
        uses(
            CONSENTS_BETWEEN,
            "consents_by_customer (customer_id>? AND customer_id<?)",
        );
        let log = plan(&conn, PURCHASE_LOG_SCAN);
        assert_eq!(log, "SCAN purchases", "one pass, no index, no sort");
    }
    /// The schema's purchase indexes, as `sqlite_schema` records them.
    fn purchase_indexes(store: &SqliteStore) -> Vec<(String, Option<String>)> {
        let conn = store.lock();
        let mut stmt = conn
            .prepare(
                "SELECT name, sql FROM sqlite_schema WHERE type = 'index' \
                 AND tbl_name = 'purchases' ORDER BY name",
            )
            .expect("the schema query");
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .expect("the schema")
            .collect::<rusqlite::Result<_>>()
            .expect("schema rows")
    }

    /// SQLite's schema cookie, which every `CREATE` and `DROP` increments.
    fn schema_version(store: &SqliteStore) -> i64 {
        store
            .lock()
            .pragma_query_value(None, "schema_version", |r| r.get(0))
            .expect("the pragma")
    }

    fn foreign_keys_on(store: &SqliteStore) -> bool {
        store
            .lock()
            .pragma_query_value(None, "foreign_keys", |r| r.get(0))
            .expect("the pragma")
    }

    /// A part of `n` purchases spread over `customers`, the first `refs` of them with
    /// references `R-{offset + i}`.
    fn purchases_part(customers: &[CustomerId], n: usize, offset: usize) -> ImportBatch {
        let t0 = chrono::DateTime::from_timestamp(1_767_225_600, 0).expect("an instant");
        let purchases = (0..n)
            .map(|i| {
                let k = offset + i;
                // Customers in a scrambled order, as in a real file.
                let who = customers[(k * 7919) % customers.len()];
                let mut p = NewPurchase::new(
                    who,
                    t0 + chrono::Duration::minutes(i64::try_from(k).expect("small")),
                    Money::from_minor(i64::try_from(k % 5_000).expect("small") + 1, Currency::EUR),
                );
                p.external_ref = Some(ExternalRef::parse(&format!("R-{k}")).expect("a reference"));
                (CustomerRef::Existing(who), p)
            })
            .collect();
        ImportBatch {
            purchases,
            ..ImportBatch::default()
        }
    }

    fn some_customers(crm: &Crm, n: usize) -> Vec<CustomerId> {
        let t0 = chrono::DateTime::from_timestamp(1_767_225_600, 0).expect("an instant");
        let batch = ImportBatch {
            create_customers: (0..n)
                .map(|i| {
                    let name = PersonName::parse(&format!("Customer {i}")).expect("a name");
                    NewCustomer::new(CustomerData::new(name), t0)
                })
                .collect(),
            ..ImportBatch::default()
        };
        crm.import(batch).expect("customers").created_customers
    }

    /// An import big enough to rebuild the purchase indexes leaves them as the schema
    /// defines them, the file sound, the foreign-key checks back on, and every row
    /// findable through the index.
    #[test]
    fn a_bulk_import_rebuilds_the_purchase_indexes_in_its_transaction() {
        let store = Arc::new(SqliteStore::open_in_memory(Currency::EUR).expect("a store"));
        let crm = Crm::from_shared(store.clone());
        let customers = some_customers(&crm, 500);
        let indexes = purchase_indexes(&store);
        assert!(
            indexes.iter().any(|(n, _)| n == "purchases_by_customer"),
            "{indexes:?}"
        );
        let small = purchases_part(&customers, 10, 1_000_000);
        let version = schema_version(&store);
        crm.import(small).expect("a small import");
        assert_eq!(
            schema_version(&store),
            version,
            "a small import keeps its index"
        );
        let half = BULK_PURCHASES / 2 + 1;
        let mut parts = vec![
            Ok(purchases_part(&customers, half, 0)),
            Ok(purchases_part(&customers, half, half)),
        ]
        .into_iter();
        let receipt = crm.import_parts(&mut parts).expect("the import");
        assert_eq!(receipt.purchases.len(), 2 * half);
        assert!(
            schema_version(&store) > version,
            "a big import drops and rebuilds the index"
        );
        assert_eq!(purchase_indexes(&store), indexes);
        assert!(foreign_keys_on(&store));
        assert_eq!(
            store.integrity_check().expect("the check"),
            Vec::<String>::new()
        );
        let conn = store.lock();
        let p = plan(&conn, PURCHASES_OF);
        assert!(p.contains("purchases_by_customer"), "{p}");
        drop(conn);
        let mut total = 0;
        for c in &customers {
            total += crm
                .purchases(&ActivityQuery::customer(*c))
                .expect("a customer's purchases")
                .len();
        }
        assert_eq!(total, 2 * half + 10);
    }

    /// A bulk import refused by its last record, or aborted by its source after the
    /// indexes were dropped, writes nothing and leaves the indexes in place.
    #[test]
    fn a_refused_bulk_import_leaves_the_indexes_and_writes_nothing() {
        let store = Arc::new(SqliteStore::open_in_memory(Currency::EUR).expect("a store"));
        let crm = Crm::from_shared(store.clone());
        let customers = some_customers(&crm, 100);
        let indexes = purchase_indexes(&store);
        let mut big = purchases_part(&customers, BULK_PURCHASES, 0);
        let repeat = big.purchases[0].clone();
        big.purchases.push(repeat);
        let err = crm.import(big).expect_err("a repeated reference");
        assert!(
            matches!(
                &err,
                StoreError::Import { index, error, .. }
                    if *index == BULK_PURCHASES
                        && matches!(**error, StoreError::Conflict(Conflict::DuplicateRefInBatch { .. }))
            ),
            "{err:?}"
        );
        let mut parts = vec![
            Ok(purchases_part(&customers, BULK_PURCHASES, 0)),
            Err("the source gave up".into()),
        ]
        .into_iter();
        let err = crm.import_parts(&mut parts).expect_err("aborted");
        assert_eq!(err.kind(), StoreErrorKind::Aborted);
        assert_eq!(purchase_indexes(&store), indexes);
        assert!(foreign_keys_on(&store));
        assert!(
            crm.purchases(&ActivityQuery::ALL)
                .expect("listing")
                .is_empty()
        );
    }
}
