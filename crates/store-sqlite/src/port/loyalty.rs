//! The points ledger.

use rusqlite::{Connection, params};
use solocrm_core::{Label, PointsEntry};

use crate::codec::{key, ts};
use crate::error::Res;
use crate::rows::execute;

const INSERT_POINTS: &str = "INSERT INTO points_entries (id, customer_id, at, at_ns, kind, \
     delta, reason, balance_after) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";
const UPDATE_POINTS: &str = "UPDATE points_entries SET customer_id = ?2, at = ?3, at_ns = ?4, \
     kind = ?5, delta = ?6, reason = ?7, balance_after = ?8 WHERE id = ?1";

fn write_points(conn: &Connection, sql: &str, e: &PointsEntry) -> Res<()> {
    let (at, at_ns) = ts(e.at());
    execute(
        conn,
        sql,
        params![
            key(e.id().get()),
            key(e.customer().get()),
            at,
            at_ns,
            e.kind().as_str(),
            e.delta(),
            e.reason().map(Label::as_str),
            e.balance_after()
        ],
    )?;
    Ok(())
}

pub(crate) fn insert_points(conn: &Connection, e: &PointsEntry) -> Res<()> {
    write_points(conn, INSERT_POINTS, e)
}

pub(crate) fn update_points(conn: &Connection, e: &PointsEntry) -> Res<()> {
    write_points(conn, UPDATE_POINTS, e)
}
