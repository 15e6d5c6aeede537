//! Interactions, purchases, refunds and survey answers, and the bulk-import hint.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use rusqlite::{Connection, Row, Statement, params};
use solocrm_core::{
    ActivityQuery, Channel, Currency, CustomerId, DealId, Direction, ExternalRef, FreeText,
    Interaction, InteractionId, Label, LogCosts, NewInteraction, NewPurchase, NewRefund,
    NewSurveyResponse, Purchase, PurchaseId, PurchaseLog, PurchaseSummary, Refund, RefundId,
    ReportInteraction, ReportPurchase, ReportPurchaseRead, ReportPurchases, ScoredAnswer,
    Sentiment, SurveyId, SurveyKind, SurveyResponse, SurveyScore, TimeRange, Void,
};

use crate::codec::{Cols, key, minor, opt_ts, ts};
use crate::error::Res;
use crate::rows::{Exec, backend, corrupt, execute, query_all, query_all_sized, query_one};

pub(crate) fn insert_interaction(db: &mut impl Exec, i: &Interaction) -> Res<()> {
    write_interaction(
        db,
        "INSERT INTO interactions (id, customer_id, channel, direction, at, at_ns, summary, \
         sentiment, void_at, void_at_ns, void_by, void_reason) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        i,
    )
}

pub(crate) fn update_interaction(mut conn: &Connection, i: &Interaction) -> Res<()> {
    write_interaction(
        &mut conn,
        "UPDATE interactions SET customer_id = ?2, channel = ?3, direction = ?4, at = ?5, \
         at_ns = ?6, summary = ?7, sentiment = ?8, void_at = ?9, void_at_ns = ?10, \
         void_by = ?11, void_reason = ?12 WHERE id = ?1",
        i,
    )
}

fn write_interaction(db: &mut impl Exec, sql: &'static str, i: &Interaction) -> Res<()> {
    let (at, at_ns) = ts(i.at());
    let (void_at, void_at_ns, void_by, void_reason) = void_params(i.void());
    db.exec(
        sql,
        params![
            key(i.id().get()),
            key(i.customer().get()),
            i.channel().as_str(),
            i.direction().as_str(),
            at,
            at_ns,
            i.summary().as_str(),
            i.sentiment().map(Sentiment::as_str),
            void_at,
            void_at_ns,
            void_by,
            void_reason
        ],
    )?;
    Ok(())
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
pub(crate) fn interaction(conn: &Connection, id: InteractionId) -> Res<Option<Interaction>> {
    query_one(
        conn,
        concat!(
            "SELECT ",
            interaction_cols!(),
            " FROM interactions i WHERE i.id = ?1"
        ),
        [key(id.get())],
        interaction_row,
    )
}

/// The survey answer with this id, voided or not.
pub(crate) fn survey(conn: &Connection, id: SurveyId) -> Res<Option<SurveyResponse>> {
    query_one(
        conn,
        concat!("SELECT ", survey_cols!(), " FROM surveys s WHERE s.id = ?1"),
        [key(id.get())],
        survey_row,
    )
}

pub(crate) fn purchase(conn: &Connection, id: PurchaseId, base: Currency) -> Res<Option<Purchase>> {
    query_one(
        conn,
        concat!(
            "SELECT ",
            purchase_cols!(),
            " FROM purchases p WHERE p.id = ?1"
        ),
        [key(id.get())],
        |row| purchase_row(row, base),
    )
}

/// Inserts a purchase. Bound with its id, under that id; bound with a `NULL` id (see
/// [`append_purchase`]), under the id SQLite assigns, the largest stored + 1.
pub(crate) const INSERT_PURCHASE: &str = "INSERT INTO purchases (id, customer_id, at, at_ns, \
     amount, cost, description, items, external_ref, deal_id) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)";
/// [`INSERT_PURCHASE`] that stores nothing when another purchase has the reference.
pub(crate) const INSERT_PURCHASE_UNLESS_TAKEN: &str = "INSERT INTO purchases (id, customer_id, \
     at, at_ns, amount, cost, description, items, external_ref, deal_id) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) ON CONFLICT (external_ref) DO NOTHING";
const UPDATE_PURCHASE: &str = "UPDATE purchases SET customer_id = ?2, at = ?3, at_ns = ?4, \
     amount = ?5, cost = ?6, description = ?7, items = ?8, external_ref = ?9, deal_id = ?10 \
     WHERE id = ?1";
/// Sets the void columns of a purchase (kept out of the insert statements, which a
/// million-row import runs for purchases that are never voided).
const SET_PURCHASE_VOID: &str = "UPDATE purchases SET void_at = ?2, void_at_ns = ?3, \
     void_by = ?4, void_reason = ?5 WHERE id = ?1";

/// Runs `stmt` (an insert or update of purchases) for `p` with `id` as `?1`, and says
/// how many rows it changed.
fn bind_purchase(stmt: &mut Statement<'_>, p: &Purchase, id: Option<i64>) -> Res<usize> {
    stmt.raw_bind_parameter(1, id)?;
    bind_purchase_fields(stmt, 2, p)?;
    Ok(stmt.raw_execute()?)
}

/// Binds `p`'s nine stored fields (customer to deal, as [`INSERT_PURCHASE`] lists
/// them after the id) to the parameters from index `first` on.
fn bind_purchase_fields(stmt: &mut Statement<'_>, first: usize, p: &Purchase) -> Res<()> {
    let (at, at_ns) = ts(p.at());
    stmt.raw_bind_parameter(first, key(p.customer().get()))?;
    stmt.raw_bind_parameter(first + 1, at)?;
    stmt.raw_bind_parameter(first + 2, at_ns)?;
    stmt.raw_bind_parameter(first + 3, minor(p.amount())?)?;
    stmt.raw_bind_parameter(first + 4, p.cost().map(minor).transpose()?)?;
    stmt.raw_bind_parameter(first + 5, p.description().map(FreeText::as_str))?;
    stmt.raw_bind_parameter(first + 6, p.items())?;
    stmt.raw_bind_parameter(first + 7, p.external_ref().map(ExternalRef::as_str))?;
    stmt.raw_bind_parameter(first + 8, p.deal().map(|d| key(d.get())))?;
    Ok(())
}

/// Runs `stmt` for `p` under `p`'s own id.
pub(crate) fn run_purchase(stmt: &mut Statement<'_>, p: &Purchase) -> Res<()> {
    bind_purchase(stmt, p, Some(key(p.id().get())))?;
    Ok(())
}

/// Runs an insert `stmt` for `p` with a `NULL` id, so that SQLite appends it under the
/// largest id + 1 instead of searching the table for the id (a tenth of a million-row
/// import); `p`'s id must be that one, and is checked to be. False if the statement
/// stored nothing ([`INSERT_PURCHASE_UNLESS_TAKEN`] with a taken reference).
pub(crate) fn append_purchase(
    stmt: &mut Statement<'_>,
    conn: &Connection,
    p: &Purchase,
) -> Res<bool> {
    if bind_purchase(stmt, p, None)? == 0 {
        return Ok(false);
    }
    let stored = conn.last_insert_rowid();
    if stored != key(p.id().get()) {
        return Err(corrupt(format!(
            "purchases: purchase {} was stored under id {stored}; ids must be assigned in order",
            p.id()
        )));
    }
    Ok(true)
}

/// Purchases [`append_purchases`] stores in one statement.
pub(crate) const APPEND_RUN: usize = 32;

/// [`INSERT_PURCHASE`] of [`APPEND_RUN`] rows with `NULL` ids (appended, as
/// [`append_purchase`] does), in one statement. No conflict clause: a taken
/// reference fails the statement, which SQLite then undoes whole.
pub(crate) static INSERT_PURCHASE_RUN: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| {
        let row = "(NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
        format!(
            "INSERT INTO purchases (id, customer_id, at, at_ns, amount, cost, description, \
             items, external_ref, deal_id) VALUES {}",
            vec![row; APPEND_RUN].join(", ")
        )
    });

/// Appends `run` ([`APPEND_RUN`] purchases whose ids follow the largest stored, in
/// order) with [`INSERT_PURCHASE_RUN`]. `Ok(false)`: a reference of the run is
/// taken, and nothing was stored (the caller then goes row by row).
pub(crate) fn append_purchases(
    stmt: &mut Statement<'_>,
    conn: &Connection,
    run: &[Purchase],
) -> Res<bool> {
    let (Some(first), Some(last)) = (run.first(), run.last()) else {
        return Ok(true);
    };
    if run.len() != APPEND_RUN {
        return Err(corrupt(format!(
            "purchases: a run of {} purchases for a statement of {APPEND_RUN}",
            run.len()
        )));
    }
    for (i, p) in run.iter().enumerate() {
        bind_purchase_fields(stmt, 1 + 9 * i, p)?;
    }
    match stmt.raw_execute() {
        Ok(_) => {}
        Err(rusqlite::Error::SqliteFailure(e, _))
            if e.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE =>
        {
            return Ok(false);
        }
        Err(e) => return Err(e.into()),
    }
    let stored = conn.last_insert_rowid();
    let first_id = key(first.id().get());
    if stored != key(last.id().get()) || stored - first_id + 1 != APPEND_RUN as i64 {
        return Err(corrupt(format!(
            "purchases: purchases {}..{} were stored up to id {stored}; ids must be assigned in order",
            first.id(),
            last.id()
        )));
    }
    Ok(true)
}

pub(crate) fn update_purchase(conn: &Connection, p: &Purchase) -> Res<()> {
    let mut stmt = conn.prepare_cached(UPDATE_PURCHASE)?;
    if bind_purchase(&mut stmt, p, Some(key(p.id().get())))? != 1 {
        return Err(corrupt(format!(
            "purchases: no purchase {} to update",
            p.id()
        )));
    }
    set_purchase_void(conn, p)
}

/// Stores the void marker of `p` (or its absence) in its row.
pub(crate) fn set_purchase_void(conn: &Connection, p: &Purchase) -> Res<()> {
    let (void_at, void_at_ns, void_by, void_reason) = void_params(p.void());
    execute(
        conn,
        SET_PURCHASE_VOID,
        params![key(p.id().get()), void_at, void_at_ns, void_by, void_reason],
    )?;
    Ok(())
}

/// How many purchases are stored: the highest id, as purchases are never deleted
/// (one seek, not a count).
pub(crate) fn stored_purchases(conn: &Connection) -> Res<u64> {
    let last = query_one(
        conn,
        "SELECT id FROM purchases ORDER BY id DESC LIMIT 1",
        [],
        |row| Ok(u64::try_from(row.get::<_, i64>(0)?).unwrap_or(0)),
    )?;
    Ok(last.unwrap_or(0))
}

/// For an import of about `rows` purchases into a table of `before`: if it is big
/// (at least [`BULK_PURCHASES`] rows and half the rows stored before it), drops the
/// purchase indexes that only serve reads and returns the statements that rebuild
/// them, which the write runs before its commit. Inserting a million rows into an
/// index in customer order costs several times more than sorting them once. The drop
/// is part of the transaction, so a failed import keeps the indexes; the unique index
/// of the references stays, as the import looks references up.
pub(crate) fn prepare_bulk(conn: &Connection, rows: u64, before: u64) -> Res<Option<Vec<String>>> {
    let bulk_from = (BULK_PURCHASES as u64).max(before / 2);
    if rows < bulk_from {
        return Ok(None);
    }
    drop_purchase_indexes(conn).map(Some)
}

/// The refunds of one purchase, through `refunds_by_purchase`.
pub(crate) const REFUNDS_OF_PURCHASE: &str = concat!(
    "SELECT ",
    refund_cols!(),
    " FROM refunds r WHERE r.purchase_id = ?1 ORDER BY r.id"
);

pub(crate) fn refunds_of(
    conn: &Connection,
    purchase: PurchaseId,
    base: Currency,
) -> Res<Vec<Refund>> {
    query_all(conn, REFUNDS_OF_PURCHASE, [key(purchase.get())], |row| {
        refund_row(row, base)
    })
}

const INSERT_REFUND: &str = "INSERT INTO refunds (id, purchase_id, customer_id, at, at_ns, \
     amount, reason) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
const UPDATE_REFUND: &str = "UPDATE refunds SET purchase_id = ?2, customer_id = ?3, at = ?4, \
     at_ns = ?5, amount = ?6, reason = ?7 WHERE id = ?1";

fn write_refund(conn: &Connection, sql: &str, r: &Refund) -> Res<()> {
    let (at, at_ns) = ts(r.at());
    execute(
        conn,
        sql,
        params![
            key(r.id().get()),
            key(r.purchase().get()),
            key(r.customer().get()),
            at,
            at_ns,
            minor(r.amount())?,
            r.reason().map(FreeText::as_str)
        ],
    )?;
    Ok(())
}

pub(crate) fn insert_refund(conn: &Connection, r: &Refund) -> Res<()> {
    write_refund(conn, INSERT_REFUND, r)
}

pub(crate) fn update_refund(conn: &Connection, r: &Refund) -> Res<()> {
    write_refund(conn, UPDATE_REFUND, r)
}

const INSERT_SURVEY: &str = "INSERT INTO surveys (id, customer_id, at, at_ns, kind, score, \
     comment, void_at, void_at_ns, void_by, void_reason) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)";
const UPDATE_SURVEY: &str = "UPDATE surveys SET customer_id = ?2, at = ?3, at_ns = ?4, \
     kind = ?5, score = ?6, comment = ?7, void_at = ?8, void_at_ns = ?9, void_by = ?10, \
     void_reason = ?11 WHERE id = ?1";

fn write_survey(conn: &Connection, sql: &str, s: &SurveyResponse) -> Res<()> {
    let (at, at_ns) = ts(s.at());
    let (void_at, void_at_ns, void_by, void_reason) = void_params(s.void());
    execute(
        conn,
        sql,
        params![
            key(s.id().get()),
            key(s.customer().get()),
            at,
            at_ns,
            s.score().kind().as_str(),
            s.score().value(),
            s.comment().map(FreeText::as_str),
            void_at,
            void_at_ns,
            void_by,
            void_reason
        ],
    )?;
    Ok(())
}

pub(crate) fn insert_survey(conn: &Connection, s: &SurveyResponse) -> Res<()> {
    write_survey(conn, INSERT_SURVEY, s)
}

pub(crate) fn update_survey(conn: &Connection, s: &SurveyResponse) -> Res<()> {
    write_survey(conn, UPDATE_SURVEY, s)
}

/// Declares the two statements of a time-ordered activity list: all customers (in id
/// order, sorted by time in Rust), and one customer (through the
/// `(customer_id, at, at_ns)` index, in time order).
macro_rules! activity_sql {
    ($all:ident, $one:ident, $cols:expr, $table:literal, $alias:literal) => {
        activity_sql!($all, $one, $cols, $table, $alias, "");
    };
    ($all:ident, $one:ident, $cols:expr, $table:literal, $alias:literal, $filter:literal) => {
        // All customers: one scan in id order; the caller sorts by time (ids follow
        // insertion order, which is nearly time order, and a sort of presorted runs
        // is close to linear, unlike SQLite's sorter).
        pub(crate) const $all: &str = concat!(
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
            ".at_ns) < (?3, ?4)",
            $filter,
            " ORDER BY ",
            $alias,
            ".id"
        );
        pub(crate) const $one: &str = concat!(
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
            ".at_ns) < (?3, ?4)",
            $filter,
            " ORDER BY ",
            $alias,
            ".at, ",
            $alias,
            ".at_ns, ",
            $alias,
            ".id"
        );
    };
}

// The voidable kinds take `?6`: 1 to list voided records too, 0 to leave them out.
activity_sql!(
    INTERACTIONS_ALL,
    INTERACTIONS_OF,
    interaction_cols!(),
    "interactions",
    "i",
    " AND (?6 OR i.void_at IS NULL)"
);

activity_sql!(
    PURCHASES_ALL,
    PURCHASES_OF,
    purchase_cols!(),
    "purchases",
    "p",
    " AND (?6 OR p.void_at IS NULL)"
);

activity_sql!(REFUNDS_ALL, REFUNDS_OF, refund_cols!(), "refunds", "r");

activity_sql!(
    SURVEYS_ALL,
    SURVEYS_OF,
    survey_cols!(),
    "surveys",
    "s",
    " AND (?6 OR s.void_at IS NULL)"
);

pub(crate) const PURCHASE_SUMMARY: &str = "SELECT at, at_ns, amount FROM purchases WHERE customer_id = ?1 \
         AND (at, at_ns) <= (?2, ?3) AND void_at IS NULL";

pub(crate) const PURCHASE_REF_OWNER: &str = "SELECT id FROM purchases WHERE external_ref = ?1";

pub(crate) const PURCHASE_LOG_SCAN: &str =
    "SELECT customer_id, at, amount FROM purchases NOT INDEXED WHERE void_at IS NULL ORDER BY id";

/// The `(from, to)` bounds of a time range as column values; an open end becomes a
/// bound no stored instant reaches.
pub(crate) fn range_params(range: &TimeRange) -> (i64, i64, i64, i64) {
    let (fs, fns) = range.from.map_or((i64::MIN, 0), ts);
    let (us, uns) = range.to.map_or((i64::MAX, 0), ts);
    (fs, fns, us, uns)
}

/// A list ordered by time, then id: `order` gives each item's `(time, id)`.
/// `voidable` says the statements take `?6`, whether to list voided records; `table`
/// is the table the statements read.
///
/// A read of every customer's records from the first (a report's answers, a
/// history's interactions) makes room for the table's id bound first
/// ([`id_bound`](crate::rows::id_bound)) instead of growing by doubling: each doubling
/// leaves the room it outgrew behind, touched, for the allocator to keep (jemalloc
/// keeps freed pages for seconds; the 60 k answers of the 100 k demo left 8 MB so).
/// The rows are sorted only when the table's order is not already the time order.
pub(crate) fn activity<T>(
    conn: &Connection,
    query: &ActivityQuery,
    (all, one, voidable, table): (&str, &str, bool, &'static str),
    decode: impl FnMut(&Row<'_>) -> Res<T>,
    order: impl Fn(&T) -> (DateTime<Utc>, u64),
) -> Res<Vec<T>> {
    let (fs, fns, us, uns) = range_params(&query.range);
    let customer = query.customer.map_or(0, |c| key(c.get()));
    let voided = query.include_voided;
    // At most 1 GiB up front, whatever the bound: past it the vector grows as it fills.
    let room = || -> Res<usize> {
        match query.range.from {
            None => Ok(crate::rows::id_bound(conn, table)?
                .min((1 << 30) / std::mem::size_of::<T>().max(1))),
            Some(_) => Ok(0),
        }
    };
    let mut items = match (query.customer, voidable) {
        (None, false) => query_all_sized(conn, all, params![fs, fns, us, uns], room()?, decode)?,
        (None, true) => query_all_sized(
            conn,
            all,
            params![fs, fns, us, uns, rusqlite::types::Null, voided],
            room()?,
            decode,
        )?,
        (Some(_), false) => {
            return query_all(conn, one, params![fs, fns, us, uns, customer], decode);
        }
        (Some(_), true) => {
            return query_all(
                conn,
                one,
                params![fs, fns, us, uns, customer, voided],
                decode,
            );
        }
    };
    if !items.is_sorted_by_key(&order) {
        items.sort_by_key(order);
    }
    Ok(items)
}

pub(crate) fn interactions(conn: &Connection, query: &ActivityQuery) -> Res<Vec<Interaction>> {
    activity(
        conn,
        query,
        (INTERACTIONS_ALL, INTERACTIONS_OF, true, "interactions"),
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
        (PURCHASES_ALL, PURCHASES_OF, true, "purchases"),
        |row| purchase_row(row, base),
        |p| (p.at(), p.id().get()),
    )
}

/// The purchases of [`PURCHASES_ALL`] ordered by time then id, for
/// [`for_each_purchase`] when the table's id order is not its time order (SQLite
/// sorts them, spilling to a temporary file beyond the page cache's size).
const PURCHASES_BY_TIME: &str = concat!(
    "SELECT ",
    purchase_cols!(),
    " FROM purchases p WHERE (p.at, p.at_ns) >= (?1, ?2) AND (p.at, p.at_ns) < (?3, ?4) \
     AND (?6 OR p.void_at IS NULL) ORDER BY p.at, p.at_ns, p.id"
);

/// The times of [`PURCHASES_ALL`]'s rows in its (id) order, to learn whether that
/// order is already the time order.
const PURCHASE_TIMES_BY_ID: &str = "SELECT p.at, p.at_ns FROM purchases p \
     WHERE (p.at, p.at_ns) >= (?1, ?2) AND (p.at, p.at_ns) < (?3, ?4) \
     AND (?6 OR p.void_at IS NULL) ORDER BY p.id";

/// The page cache, in KiB, while [`for_each_purchase`] walks the whole table: what it
/// reads is used once, so a small cache keeps its memory flat as the book grows.
const STREAM_CACHE_KIB: i64 = 4096;

/// Calls `f` with each purchase of `query` by time then id, decoding one row at a
/// time: [`solocrm_core::port::ReadTx::for_each_purchase`].
///
/// One customer's purchases come from their index, already in that order. All of
/// them are read in id order when that is also the time order (what a book whose
/// purchases were recorded as they happened, or imported from a file in time order,
/// holds): one narrow pass over the times checks it first. Otherwise SQLite sorts
/// them. The page cache is held small while the whole table is read, and set back
/// to its size after.
pub(crate) fn for_each_purchase(
    conn: &Connection,
    query: &ActivityQuery,
    base: Currency,
    f: &mut dyn FnMut(Purchase) -> solocrm_core::StoreResult<()>,
) -> Res<()> {
    let (fs, fns, us, uns) = range_params(&query.range);
    let voided = query.include_voided;
    let mut each = |stmt: &mut Statement<'_>, params: &[&dyn rusqlite::ToSql]| -> Res<()> {
        let mut rows = stmt.query(params)?;
        while let Some(row) = rows.next()? {
            f(purchase_row(row, base)?).map_err(crate::error::Fail::Store)?;
        }
        Ok(())
    };
    if let Some(c) = query.customer {
        let mut stmt = conn.prepare_cached(PURCHASES_OF)?;
        return each(&mut stmt, params![fs, fns, us, uns, key(c.get()), voided]);
    }
    with_small_cache(conn, || {
        let all = params![fs, fns, us, uns, rusqlite::types::Null, voided];
        let mut in_order = true;
        {
            let mut stmt = conn.prepare_cached(PURCHASE_TIMES_BY_ID)?;
            let mut rows = stmt.query(all)?;
            let mut last = (i64::MIN, i64::MIN);
            while let Some(row) = rows.next()? {
                let at: (i64, i64) = (row.get(0)?, row.get(1)?);
                if at < last {
                    in_order = false;
                    break;
                }
                last = at;
            }
        }
        let sql = if in_order {
            PURCHASES_ALL
        } else {
            PURCHASES_BY_TIME
        };
        let mut stmt = conn.prepare_cached(sql)?;
        each(&mut stmt, all)
    })
}

/// Runs `f`, a walk over a whole table whose pages are read once, with the page cache
/// held at [`STREAM_CACHE_KIB`], then sets it back to its size: the memory of the walk
/// then does not grow with the table.
pub(crate) fn with_small_cache<T>(conn: &Connection, f: impl FnOnce() -> Res<T>) -> Res<T> {
    let cache: i64 = conn.pragma_query_value(None, "cache_size", |r| r.get(0))?;
    conn.pragma_update(None, "cache_size", -STREAM_CACHE_KIB)?;
    let walked = f();
    let restored = conn.pragma_update(None, "cache_size", cache);
    let out = walked?;
    restored?;
    Ok(out)
}

pub(crate) fn refunds(
    conn: &Connection,
    query: &ActivityQuery,
    base: Currency,
) -> Res<Vec<Refund>> {
    activity(
        conn,
        query,
        (REFUNDS_ALL, REFUNDS_OF, false, "refunds"),
        |row| refund_row(row, base),
        |r| (r.at(), r.id().get()),
    )
}

pub(crate) fn surveys(conn: &Connection, query: &ActivityQuery) -> Res<Vec<SurveyResponse>> {
    activity(
        conn,
        query,
        (SURVEYS_ALL, SURVEYS_OF, true, "surveys"),
        survey_row,
        |s| (s.at(), s.id().get()),
    )
}

/// What a segment needs of a customer's purchases up to `as_of`, summed exactly in
/// Rust (no SQL `sum` that could overflow), from the customer's index range.
pub(crate) fn scanned_summary(
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

/// One row of `purchase_totals` (ADR 0046): a customer's purchases that are not
/// voided, all of them, whatever their instant.
pub(crate) const PURCHASE_TOTAL_OF: &str = "SELECT customer_id, purchases, amount, \
     first_at, first_at_ns, last_at, last_at_ns FROM purchase_totals WHERE customer_id = ?1";
/// Every row of `purchase_totals`, by customer.
pub(crate) const PURCHASE_TOTALS: &str = "SELECT customer_id, purchases, amount, \
     first_at, first_at_ns, last_at, last_at_ns FROM purchase_totals ORDER BY customer_id";

/// A row of `purchase_totals` read as a summary, with its customer.
fn total_row(row: &Row<'_>, base: Currency) -> Res<(CustomerId, PurchaseSummary)> {
    let c = Cols::new(row, "purchase_totals");
    let count = u64::try_from(c.i64(1)?)
        .map_err(|_| corrupt("purchase_totals: a negative count".to_owned()))?;
    let first = c.time(3)?;
    let last = c.time(5)?;
    Ok((
        c.id(0, CustomerId::new)?,
        PurchaseSummary {
            count,
            total: c.money(2, base)?,
            first_at: Some(first),
            last_at: Some(last),
        },
    ))
}

/// What the kept totals say of the purchases at or before `as_of`: all of them when
/// the last is (`Some`), none when even the first is later (`Some` of nothing), and
/// `None` when `as_of` falls between the first and the last, which only the
/// customer's purchases can answer.
fn as_of_total(
    total: PurchaseSummary,
    as_of: DateTime<Utc>,
    base: Currency,
) -> Option<PurchaseSummary> {
    if total.last_at.is_some_and(|last| last <= as_of) {
        Some(total)
    } else if total.first_at.is_none_or(|first| first > as_of) {
        Some(PurchaseSummary::none(base))
    } else {
        None
    }
}

/// What a segment needs of a customer's purchases up to `as_of`: the kept totals
/// when they answer it (see [`as_of_total`]), else the customer's index range.
pub(crate) fn purchase_summary(
    conn: &Connection,
    id: CustomerId,
    as_of: DateTime<Utc>,
    base: Currency,
) -> Res<PurchaseSummary> {
    let kept = query_one(conn, PURCHASE_TOTAL_OF, [key(id.get())], |row| {
        total_row(row, base)
    })?;
    let Some((_, total)) = kept else {
        return Ok(PurchaseSummary::none(base));
    };
    match as_of_total(total, as_of, base) {
        Some(summary) => Ok(summary),
        None => scanned_summary(conn, id, as_of, base),
    }
}

/// [`purchase_summary`] of every customer at once: one walk of the covering customer
/// index, in customer order (no sort).
const PURCHASE_SUMMARIES: &str = "SELECT customer_id, at, at_ns, amount FROM purchases \
     WHERE (at, at_ns) <= (?1, ?2) AND void_at IS NULL ORDER BY customer_id";

/// Past this share of the customers (one in this many) whose totals do not answer
/// `as_of`, [`purchase_summaries`] walks every purchase instead of reading each of
/// them from their index range.
const SCAN_WHEN_ONE_IN: usize = 16;

/// See [`solocrm_core::port::ReadTx::purchase_summaries`]: the kept totals (ADR
/// 0046), with the customers whose purchases straddle `as_of` read from their index
/// range; when they are many (an `as_of` well in the past), one walk of the index.
pub(crate) fn purchase_summaries(
    conn: &Connection,
    as_of: DateTime<Utc>,
    base: Currency,
) -> Res<Vec<(CustomerId, PurchaseSummary)>> {
    let totals = query_all(conn, PURCHASE_TOTALS, [], |row| total_row(row, base))?;
    let straddling = totals
        .iter()
        .filter(|(_, t)| as_of_total(*t, as_of, base).is_none())
        .count();
    if straddling > totals.len() / SCAN_WHEN_ONE_IN {
        return scanned_summaries(conn, as_of, base);
    }
    let mut out = Vec::with_capacity(totals.len());
    for (id, total) in totals {
        let summary = match as_of_total(total, as_of, base) {
            Some(summary) => summary,
            None => scanned_summary(conn, id, as_of, base)?,
        };
        if summary.count > 0 {
            out.push((id, summary));
        }
    }
    Ok(out)
}

/// [`purchase_summaries`] from every purchase: one walk of the covering customer
/// index, in customer order (no sort).
pub(crate) fn scanned_summaries(
    conn: &Connection,
    as_of: DateTime<Utc>,
    base: Currency,
) -> Res<Vec<(CustomerId, PurchaseSummary)>> {
    let (s, ns) = ts(as_of);
    let mut out: Vec<(CustomerId, PurchaseSummary)> = Vec::new();
    let mut stmt = conn.prepare_cached(PURCHASE_SUMMARIES)?;
    let mut rows = stmt.query(params![s, ns])?;
    while let Some(row) = rows.next()? {
        let c = Cols::new(row, "purchases");
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

/// See [`solocrm_core::port::ReadTx::report_purchases`]: five columns of the purchases
/// that are not voided and dated before `until`, in id order (the table's own), in a
/// small page cache (one pass; the pages are not read again), decoded straight into
/// the narrow rows (ADR 0062).
pub(crate) fn report_purchases(
    conn: &Connection,
    until: DateTime<Utc>,
    base: Currency,
) -> Res<ReportPurchases> {
    let (s, ns) = ts(until);
    with_small_cache(conn, || {
        let mut stmt = conn.prepare_cached(
            "SELECT customer_id, at, at_ns, amount, cost \
             FROM purchases NOT INDEXED \
             WHERE void_at IS NULL AND (at, at_ns) < (?1, ?2) ORDER BY id",
        )?;
        let mut rows = stmt.query(params![s, ns])?;
        let mut out = ReportPurchases::new(base);
        while let Some(row) = rows.next()? {
            out.rows.push(report_row(&Cols::new(row, "purchases"))?);
        }
        Ok(out)
    })
}

/// One report row from the columns `customer_id, at, at_ns, amount, cost` of a
/// purchase: the instant checked (as a whole purchase's is) and kept as whole seconds,
/// the amounts refused if negative.
fn report_row(c: &Cols<'_, '_>) -> Res<ReportPurchase> {
    report_row_of(c, c.i64(0)?, (c.i64(1)?, c.i64(2)?), c.i64(3)?)
}

/// [`report_row`] of the row of `c` whose customer, instant and amount (columns 0–3)
/// were fetched already: only the cost (column 4) is fetched here. The checks are
/// [`report_row`]'s: a customer id, an instant, no negative amount or cost.
fn report_row_of(
    c: &Cols<'_, '_>,
    customer: i64,
    (at, at_ns): (i64, i64),
    amount: i64,
) -> Res<ReportPurchase> {
    let customer = u64::try_from(customer)
        .map(CustomerId::new)
        .map_err(|_| corrupt(format!("purchases.customer_id: negative id {customer}")))?;
    if !is_instant(at, at_ns) {
        return Err(corrupt(format!(
            "purchases.at: ({at}, {at_ns}) is not an instant"
        )));
    }
    let cost = c.opt_i64(4)?;
    if amount < 0 || cost.is_some_and(|m| m < 0) {
        return Err(corrupt("purchases: a negative amount".to_owned()));
    }
    Ok(ReportPurchase::new(customer, at, amount, cost))
}

/// Whether `(secs, nanos)` is an instant `DateTime::from_timestamp` accepts, without
/// building the date for the common case: any second within ±2³⁸ (±8,700 years, well
/// inside chrono's range) with fewer than 10⁹ nanoseconds is one; anything else is
/// asked of chrono (leap-second nanoseconds, the far ends of its range).
fn is_instant(secs: i64, nanos: i64) -> bool {
    const NEAR: i64 = 1 << 38;
    if (0..1_000_000_000).contains(&nanos) && (-NEAR..NEAR).contains(&secs) {
        return true;
    }
    u32::try_from(nanos)
        .ok()
        .and_then(|ns| DateTime::from_timestamp(secs, ns))
        .is_some()
}

/// See [`solocrm_core::port::ReadTx::report_purchases_and_log`]: [`report_purchases`]
/// and [`purchase_log`] from one pass over the purchases that are not voided, in id
/// order, in a small page cache. Every row goes into the log; those dated before
/// `until` also become report rows ([`report_row`]), as the two reads would.
pub(crate) fn report_purchases_and_log(
    conn: &Connection,
    until: DateTime<Utc>,
    base: Currency,
) -> Res<(ReportPurchases, PurchaseLog)> {
    let mut report = ReportPurchases::new(base);
    let log = scan_report_purchases(conn, until, base, &mut report)?;
    report.rows.shrink_to_fit();
    Ok((report, log))
}

/// See [`solocrm_core::port::ReadTx::report_purchase_read`]: the pass of
/// [`report_purchases_and_log`], the rows kept as their costs beside the log as they
/// are read (ADR 0076), never as rows: 8 bytes and a bit a purchase instead of 32.
pub(crate) fn report_purchase_read(
    conn: &Connection,
    until: DateTime<Utc>,
    base: Currency,
) -> Res<ReportPurchaseRead> {
    let mut costs = LogCosts::default();
    let log = scan_report_purchases(conn, until, base, &mut costs)?;
    costs.shrink_to_fit();
    Ok(ReportPurchaseRead {
        purchases: ReportPurchases::new(base),
        log,
        log_costs: Some(costs),
    })
}

/// Where [`scan_report_purchases`] puts what it reads besides the log.
trait ReportRows {
    /// Room for `capacity` purchases, before the first.
    fn reserve_for(&mut self, capacity: usize);
    /// The log's next purchase: its report row, or `None` when it is dated at or after
    /// the bound.
    fn next_purchase(&mut self, row: Option<ReportPurchase>);
}

impl ReportRows for ReportPurchases {
    fn reserve_for(&mut self, capacity: usize) {
        self.rows.reserve(capacity);
    }

    fn next_purchase(&mut self, row: Option<ReportPurchase>) {
        self.rows.extend(row);
    }
}

impl ReportRows for LogCosts {
    fn reserve_for(&mut self, capacity: usize) {
        *self = LogCosts::with_capacity(capacity, capacity);
    }

    fn next_purchase(&mut self, row: Option<ReportPurchase>) {
        match row {
            Some(row) => self.push_row(row.cost()),
            None => self.push_other(),
        }
    }
}

/// The one pass of [`report_purchases_and_log`] and [`report_purchase_read`]: each
/// purchase that is not voided goes into the returned log, in id order, and `out` is
/// told of it, with its report row ([`report_row_of`]'s checks) when it is dated
/// before `until`, after room for the table was made.
fn scan_report_purchases(
    conn: &Connection,
    until: DateTime<Utc>,
    base: Currency,
    out: &mut impl ReportRows,
) -> Res<PurchaseLog> {
    let (mut log, capacity) = empty_log(conn, base)?;
    let index = DenseIndex::new(&log.customers)?;
    out.reserve_for(capacity);
    let bound = ts(until);
    with_small_cache(conn, || {
        let mut stmt = conn.prepare_cached(
            "SELECT customer_id, at, at_ns, amount, cost FROM purchases NOT INDEXED \
             WHERE void_at IS NULL ORDER BY id",
        )?;
        let mut rows = stmt.query([])?;
        // Each column is fetched once (through rusqlite every fetch is three calls
        // into SQLite): this loop is most of `report`'s purchase thread.
        while let Some(row) = rows.next()? {
            let c = Cols::new(row, "purchases");
            let customer = c.i64(0)?;
            let at = c.i64(1)?;
            let at_ns = c.i64(2)?;
            let amount = c.i64(3)?;
            let dense = index
                .get(customer)
                .ok_or_else(|| corrupt(format!("purchases: unknown customer {customer}")))?;
            log.push(dense, at, amount);
            if (at, at_ns) < bound {
                out.next_purchase(Some(report_row_of(&c, customer, (at, at_ns), amount)?));
            } else {
                out.next_purchase(None);
            }
        }
        Ok(())
    })?;
    Ok(log)
}

/// See [`solocrm_core::port::ReadTx::report_interactions`]: four integer columns of the
/// interactions that are not voided and dated before `until`, by time then id (one
/// pass in the table's order, in a small page cache like [`report_purchases`]: the
/// pages, summary text included, are read once; sorted here only if that is not
/// already the time order).
pub(crate) fn report_interactions(
    conn: &Connection,
    until: DateTime<Utc>,
) -> Res<Vec<ReportInteraction>> {
    let (s, ns) = ts(until);
    // Read by id; by time then id is the same order when the times never go back, so
    // the rows are sorted (stably by time, which keeps the ids' order among equal
    // times) only if one does. No id is kept beside each row: this runs beside the
    // purchase read (ADR 0070), and a keyed copy would add to the peak.
    let (mut rows, in_order) = with_small_cache(conn, || {
        let mut stmt = conn.prepare_cached(
            "SELECT customer_id, at, at_ns FROM interactions NOT INDEXED \
             WHERE void_at IS NULL AND (at, at_ns) < (?1, ?2) ORDER BY id",
        )?;
        let mut rows = stmt.query(params![s, ns])?;
        let mut out: Vec<ReportInteraction> =
            Vec::with_capacity(crate::rows::id_bound(conn, "interactions")?);
        let mut in_order = true;
        while let Some(row) = rows.next()? {
            let c = Cols::new(row, "interactions");
            let customer = c.id(0, CustomerId::new)?;
            let at = c.time(1)?;
            in_order &= out.last().is_none_or(|prev| prev.at <= at);
            out.push(ReportInteraction { customer, at });
        }
        Ok((out, in_order))
    })?;
    crate::rows::fit(&mut rows);
    if !in_order {
        rows.sort_by_key(|i| i.at);
    }
    Ok(rows)
}

/// See [`solocrm_core::port::ReadTx::survey_scores`]: five columns of the answers that
/// are not voided and dated before `until`, by time then id (one pass in the table's
/// order, sorted here only if that is not already the time order); no comment or void
/// decoded.
pub(crate) fn survey_scores(conn: &Connection, until: DateTime<Utc>) -> Res<Vec<ScoredAnswer>> {
    let (s, ns) = ts(until);
    let mut out = query_all(conn, SURVEY_SCORES, params![s, ns], |row| {
        let c = Cols::new(row, "surveys");
        let kind = c.parse(4, SurveyKind::parse)?;
        let score = SurveyScore::new(kind, c.i64(5)?)
            .map_err(|e| corrupt(format!("surveys.score: {e}")))?;
        Ok(ScoredAnswer {
            id: c.id(0, SurveyId::new)?,
            customer: c.id(1, CustomerId::new)?,
            at: c.time(2)?,
            score,
        })
    })?;
    let key = |a: &ScoredAnswer| (a.at, a.id);
    if !out.is_sorted_by_key(key) {
        out.sort_unstable_by_key(key);
    }
    Ok(out)
}

/// The rows of [`survey_scores`], in id order.
const SURVEY_SCORES: &str = "SELECT id, customer_id, at, at_ns, kind, score FROM surveys \
     WHERE void_at IS NULL AND (at, at_ns) < (?1, ?2) ORDER BY id";

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
    Ok(Purchase::new(c.id(0, PurchaseId::new)?, fields).with_void(c.void(10)?))
}

/// An import needs at least this many purchases, and half the table's highest
/// purchase id before it (its size: purchases are never deleted), before the purchase
/// indexes are rebuilt at its end rather than maintained row by row.
///
/// One part of a streamed import (8,192 rows): a big import into a book of at most
/// 16,384 purchases switches at its first part. Until it switches, every row goes
/// through the triggers that keep `purchase_totals` (an upsert each) and through the
/// secondary indexes; a threshold of 50,000 sent the first six parts that way
/// (0.23–0.30 s of a 1 M-row import, medians of noisy rounds; ADR 0079).
pub(crate) const BULK_PURCHASES: usize = 8_192;

/// Creates the purchase indexes a bulk import dropped (`sqls`), each by one sort of
/// the table, with one helper thread and a small cache (4 MiB): SQLite then sorts
/// runs of that size and merges them, which for millions of rows takes half the
/// processor time of one sort in a large cache. Then the connection gets its cache
/// back: the usual one, or a private build's
/// ([`SqliteOptions::private_build`](crate::SqliteOptions::private_build)).
///
/// A private build's sorts run the same way: its statement journals are in memory
/// because its journal is, not because its temporary storage is (which would keep
/// the sorter on one thread and in one list of every key, whatever `PRAGMA threads`
/// says; ADR 0059). Those of any other bulk write are in memory because temporary
/// storage was at its `BEGIN` alone (ADR 0079), and its sorts run in files too.
pub(crate) fn rebuild_indexes(conn: &Connection, sqls: &[String], private_build: bool) -> Res<()> {
    let built = conn
        .execute_batch("PRAGMA threads = 1; PRAGMA cache_size = -4096")
        .and_then(|()| sqls.iter().try_for_each(|sql| conn.execute_batch(sql)));
    let cache = if private_build {
        crate::PRIVATE_BUILD_CACHE_KIB
    } else {
        crate::CACHE_KIB
    };
    let restored = conn.execute_batch(&format!("PRAGMA threads = 0; PRAGMA cache_size = -{cache}"));
    built?;
    Ok(restored?)
}

/// Drops the purchase indexes SQLite does not need for constraints and the triggers
/// that keep `purchase_totals`, and returns the statements that create them again
/// (with the refill of the totals between the two).
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
    // The triggers that keep `purchase_totals` (ADR 0046): one upsert per row costs
    // more than one grouped pass over the rebuilt index at the end.
    let mut stmt = conn.prepare(
        "SELECT name, sql FROM sqlite_schema \
         WHERE type = 'trigger' AND tbl_name = 'purchases' \
         AND name GLOB 'purchase_totals_*' AND sql IS NOT NULL ORDER BY name",
    )?;
    let triggers = stmt
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    for (name, _) in &triggers {
        conn.execute_batch(&format!("DROP TRIGGER \"{}\"", name.replace('"', "\"\"")))?;
    }
    // Rebuilt in this order: the indexes, then the totals from the customer index,
    // then the triggers.
    let mut rebuild: Vec<String> = found.into_iter().map(|(_, sql)| sql).collect();
    if !triggers.is_empty() {
        rebuild.push(crate::schema::FILL_PURCHASE_TOTALS.to_owned());
        rebuild.extend(triggers.into_iter().map(|(_, sql)| sql));
    }
    Ok(rebuild)
}

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
    )
    .with_void(c.void(8)?))
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
    )
    .with_void(c.void(7)?))
}

/// The dense index of each customer id in a purchase log.
enum DenseIndex {
    /// Ids without a gap, from `first`, `len` of them: the dense index is `id − first`,
    /// no memory read. A table of a million customers (4 MB) looked up in the purchases'
    /// order, which jumps between customers, missed the processor's caches on nearly
    /// every row: 1 s of a 10 M-row scan (issue 14's growth table).
    Run { first: i64, len: u32 },
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
        let first = customers.first().map_or(0, |c| key(c.get()));
        let run = customers
            .iter()
            .zip(first..)
            .all(|(c, want)| key(c.get()) == want);
        if run {
            return Ok(DenseIndex::Run {
                first,
                len: dense(customers.len())?,
            });
        }
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
            DenseIndex::Run { first, len } => id
                .checked_sub(*first)
                .and_then(|d| u32::try_from(d).ok())
                .filter(|d| d < len),
            DenseIndex::Table(t) => usize::try_from(id)
                .ok()
                .and_then(|i| t.get(i))
                .copied()
                .filter(|&d| d != u32::MAX),
            DenseIndex::Map(m) => m.get(&id).copied(),
        }
    }
}

/// Every customer's id, in order, from the narrow index `customers_light` (a test
/// holds the plan to it).
pub(crate) const CUSTOMER_IDS: &str = "SELECT id FROM customers ORDER BY id";

/// The rows of [`purchase_log_by_customer`], in customer order from the covering index
/// (a test holds the plan to it).
pub(crate) const PURCHASE_LOG_BY_CUSTOMER: &str =
    "SELECT customer_id, at, amount FROM purchases WHERE void_at IS NULL ORDER BY customer_id";

/// [`solocrm_core::port::ReadTx::purchase_log_by_customer`]: the purchases that are
/// not voided in customer order, from the covering index `purchases_by_customer`
/// (customer, second, nanoseconds, amount, void mark), which holds 2.4 times fewer
/// pages than the table; each row's dense index by a walk beside the ascending
/// customers instead of a look-up. Without the index (a bulk import drops it until its
/// end) SQLite sorts the table instead: the same rows.
pub(crate) fn purchase_log_by_customer(conn: &Connection, base: Currency) -> Res<PurchaseLog> {
    let (mut log, _) = empty_log(conn, base)?;
    let mut stmt = conn.prepare_cached(PURCHASE_LOG_BY_CUSTOMER)?;
    let mut rows = stmt.query([])?;
    // The dense index of the current row's customer, advanced as the ids ascend.
    let mut dense = 0usize;
    while let Some(row) = rows.next()? {
        let (customer, at, amount) = log_row(row)?;
        while log
            .customers
            .get(dense)
            .is_some_and(|id| key(id.get()) < customer)
        {
            dense += 1;
        }
        let known = log
            .customers
            .get(dense)
            .is_some_and(|id| key(id.get()) == customer);
        if !known {
            return Err(corrupt(format!("purchases: unknown customer {customer}")));
        }
        log.push(u32::try_from(dense).map_err(backend)?, at, amount);
    }
    Ok(log)
}

/// One row of a purchase log read: customer id, UTC second and amount in minor units,
/// all three integers.
fn log_row(row: &rusqlite::Row<'_>) -> Res<(i64, i64, i64)> {
    match (row.get_ref(0)?, row.get_ref(1)?, row.get_ref(2)?) {
        (
            rusqlite::types::ValueRef::Integer(c),
            rusqlite::types::ValueRef::Integer(t),
            rusqlite::types::ValueRef::Integer(a),
        ) => Ok((c, t, a)),
        _ => Err(corrupt("purchases: a non-integer column".to_owned())),
    }
}

/// A purchase log with every customer and no rows, room reserved for every purchase,
/// and that room.
fn empty_log(conn: &Connection, base: Currency) -> Res<(PurchaseLog, usize)> {
    let customers = query_all(conn, CUSTOMER_IDS, [], |row| {
        Cols::new(row, "customers").id(0, CustomerId::new)
    })?;
    let mut log = PurchaseLog::with_customers(base, customers);
    // Ids are dense, so the largest id is a close upper bound of the row count.
    let capacity = crate::rows::id_bound(conn, "purchases")?;
    log.customer.reserve_exact(capacity);
    log.at.reserve_exact(capacity);
    log.amount.reserve_exact(capacity);
    Ok((log, capacity))
}

pub(crate) fn purchase_log(conn: &Connection, base: Currency) -> Res<PurchaseLog> {
    let (mut log, _) = empty_log(conn, base)?;
    let index = DenseIndex::new(&log.customers)?;
    // One pass over the table in rowid (= id) order; no sort. `NOT INDEXED` keeps the
    // planner off the covering customer index, which holds the same columns in
    // customer order.
    let mut stmt = conn.prepare_cached(PURCHASE_LOG_SCAN)?;
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        let (customer, at, amount) = log_row(row)?;
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

    fn ids(raw: &[u64]) -> Vec<CustomerId> {
        raw.iter().copied().map(CustomerId::new).collect()
    }

    /// Each customer's place, and no place for any other id, whichever form the index
    /// takes: a run without gaps, a table for a few gaps, a map for sparse ids.
    #[test]
    fn the_dense_index_finds_each_customers_place_in_every_form() {
        let books: [(&[u64], &str); 5] = [
            (&[1, 2, 3, 4, 5], "run"),
            (&[7, 8, 9], "run"),
            (&[], "run"),
            (&[1, 2, 4, 5, 9], "table"),
            (&[3, 1_000_000, 5_000_000_000], "map"),
        ];
        for (raw, form) in books {
            let customers = ids(raw);
            let index = DenseIndex::new(&customers).expect("an index");
            let got_form = match index {
                DenseIndex::Run { .. } => "run",
                DenseIndex::Table(_) => "table",
                DenseIndex::Map(_) => "map",
            };
            assert_eq!(got_form, form, "{raw:?}");
            for (place, c) in customers.iter().enumerate() {
                assert_eq!(
                    index.get(key(c.get())),
                    u32::try_from(place).ok(),
                    "{raw:?}"
                );
            }
            let last = raw.last().copied().unwrap_or(0);
            for absent in [-1, 0, 3, 6, 10, key(last) + 1, i64::MAX, i64::MIN] {
                if !raw.contains(&u64::try_from(absent).unwrap_or(0)) {
                    assert_eq!(index.get(absent), None, "{raw:?} {absent}");
                }
            }
        }
    }
}
