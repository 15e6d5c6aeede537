//! Interactions, purchases, refunds and survey answers, and the bulk-import hint.

use rusqlite::{Connection, Statement, params};
use solocrm_core::{
    Currency, ExternalRef, FreeText, Interaction, Purchase, PurchaseId, Refund, Sentiment,
    SurveyResponse,
};

use crate::codec::{key, minor, ts};
use crate::error::Res;
use crate::rows::{
    BULK_PURCHASES, drop_purchase_indexes, execute, purchase_row, query_all, query_one, refund_row,
};

pub(crate) fn insert_interaction(conn: &Connection, i: &Interaction) -> Res<()> {
    let (at, at_ns) = ts(i.at());
    execute(
        conn,
        "INSERT INTO interactions (id, customer_id, channel, direction, at, at_ns, summary, \
         sentiment) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            key(i.id().get()),
            key(i.customer().get()),
            i.channel().as_str(),
            i.direction().as_str(),
            at,
            at_ns,
            i.summary().as_str(),
            i.sentiment().map(Sentiment::as_str)
        ],
    )?;
    Ok(())
}

pub(crate) fn update_interaction(conn: &Connection, i: &Interaction) -> Res<()> {
    let (at, at_ns) = ts(i.at());
    execute(
        conn,
        "UPDATE interactions SET customer_id = ?2, channel = ?3, direction = ?4, at = ?5, \
         at_ns = ?6, summary = ?7, sentiment = ?8 WHERE id = ?1",
        params![
            key(i.id().get()),
            key(i.customer().get()),
            i.channel().as_str(),
            i.direction().as_str(),
            at,
            at_ns,
            i.summary().as_str(),
            i.sentiment().map(Sentiment::as_str)
        ],
    )?;
    Ok(())
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

pub(crate) const INSERT_PURCHASE: &str = "INSERT INTO purchases (id, customer_id, at, at_ns, amount, cost, \
     description, items, external_ref, deal_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)";
const UPDATE_PURCHASE: &str = "UPDATE purchases SET customer_id = ?2, at = ?3, at_ns = ?4, \
     amount = ?5, cost = ?6, description = ?7, items = ?8, external_ref = ?9, deal_id = ?10 \
     WHERE id = ?1";

fn write_purchase(conn: &Connection, sql: &str, p: &Purchase) -> Res<()> {
    let mut stmt = conn.prepare_cached(sql)?;
    run_purchase(&mut stmt, p)
}

/// Runs the insert or update statement `stmt` for `p`.
pub(crate) fn run_purchase(stmt: &mut Statement<'_>, p: &Purchase) -> Res<()> {
    let (at, at_ns) = ts(p.at());
    stmt.execute(params![
        key(p.id().get()),
        key(p.customer().get()),
        at,
        at_ns,
        minor(p.amount())?,
        p.cost().map(minor).transpose()?,
        p.description().map(FreeText::as_str),
        p.items(),
        p.external_ref().map(ExternalRef::as_str),
        p.deal().map(|d| key(d.get())),
    ])?;
    Ok(())
}

pub(crate) fn update_purchase(conn: &Connection, p: &Purchase) -> Res<()> {
    write_purchase(conn, UPDATE_PURCHASE, p)
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
     comment) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
const UPDATE_SURVEY: &str = "UPDATE surveys SET customer_id = ?2, at = ?3, at_ns = ?4, \
     kind = ?5, score = ?6, comment = ?7 WHERE id = ?1";

fn write_survey(conn: &Connection, sql: &str, s: &SurveyResponse) -> Res<()> {
    let (at, at_ns) = ts(s.at());
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
            s.comment().map(FreeText::as_str)
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
