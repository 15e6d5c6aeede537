//! Needs and pain points (table `needs`): one row per entry, by id.

use rusqlite::{Connection, params};
use solocrm_core::need::{Need, NeedKind};
use solocrm_core::{CustomerId, DealId, FreeText, NeedId, Tag};

use crate::codec::{Cols, key, opt_ts, ts};
use crate::error::Res;
use crate::rows::{corrupt, execute, query_all, query_one};

const COLUMNS: &str = "id, customer_id, deal_id, kind, key, note, at, at_ns, \
                       resolved_at, resolved_ns, voided_at, voided_ns";

fn need_row(row: &rusqlite::Row<'_>) -> Res<Need> {
    let c = Cols::new(row, "needs");
    Ok(Need {
        id: c.id(0, NeedId::new)?,
        customer: c.id(1, CustomerId::new)?,
        deal: c.opt_id(2, DealId::new)?,
        kind: c.parse(3, NeedKind::parse)?,
        key: c.parse(4, Tag::parse)?,
        note: c.opt_parse(5, FreeText::parse)?,
        at: c.time(6)?,
        resolved_at: c.opt_time(8)?,
        voided_at: c.opt_time(10)?,
    })
}

pub(crate) fn needs(conn: &Connection, customer: Option<CustomerId>) -> Res<Vec<Need>> {
    match customer {
        None => query_all(
            conn,
            &format!("SELECT {COLUMNS} FROM needs ORDER BY id"),
            [],
            need_row,
        ),
        Some(id) => query_all(
            conn,
            &format!("SELECT {COLUMNS} FROM needs WHERE customer_id = ?1 ORDER BY id"),
            [key(id.get())],
            need_row,
        ),
    }
}

pub(crate) fn need(conn: &Connection, id: NeedId) -> Res<Option<Need>> {
    query_one(
        conn,
        &format!("SELECT {COLUMNS} FROM needs WHERE id = ?1"),
        [key(id.get())],
        need_row,
    )
}

pub(crate) fn insert_need(conn: &Connection, n: &Need) -> Res<()> {
    let (at, ns) = ts(n.at);
    let (r, rns) = opt_ts(n.resolved_at);
    let (v, vns) = opt_ts(n.voided_at);
    execute(
        conn,
        &format!(
            "INSERT INTO needs ({COLUMNS}) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"
        ),
        params![
            key(n.id.get()),
            key(n.customer.get()),
            n.deal.map(|d| key(d.get())),
            n.kind.as_str(),
            n.key.as_str(),
            n.note.as_ref().map(|t| t.as_str()),
            at,
            ns,
            r,
            rns,
            v,
            vns
        ],
    )?;
    Ok(())
}

pub(crate) fn update_need(conn: &Connection, n: &Need) -> Res<()> {
    let (r, rns) = opt_ts(n.resolved_at);
    let (v, vns) = opt_ts(n.voided_at);
    let changed = execute(
        conn,
        "UPDATE needs SET note = ?2, resolved_at = ?3, resolved_ns = ?4, \
         voided_at = ?5, voided_ns = ?6 WHERE id = ?1",
        params![
            key(n.id.get()),
            n.note.as_ref().map(|t| t.as_str()),
            r,
            rns,
            v,
            vns
        ],
    )?;
    if changed == 0 {
        return Err(corrupt(format!("no need {} to update", n.id)));
    }
    Ok(())
}
