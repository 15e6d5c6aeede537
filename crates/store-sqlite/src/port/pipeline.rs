//! Service requests with their steps, deals with their moves, and tasks.

use rusqlite::{Connection, params};
use solocrm_core::{
    Deal, DealId, DealStage, DealStageChange, Recurrence, RequestEvent, RequestEventKind,
    RequestId, ServiceRequest, Task, TaskId,
};

use crate::codec::{Cols, date, key, minor, opt_ts, ts};
use crate::error::{Fail, Res};
use crate::rows::{
    DEAL_MOVES, REQUEST_EVENTS, execute, finish_request, query_all, query_one, request_row,
    task_row,
};

pub(crate) fn request(conn: &Connection, id: RequestId) -> Res<Option<ServiceRequest>> {
    let row = query_one(
        conn,
        concat!(
            "SELECT ",
            request_cols!(),
            " FROM service_requests r WHERE r.id = ?1"
        ),
        [key(id.get())],
        request_row,
    )?;
    row.map(|r| finish_request(conn, r)).transpose()
}

const INSERT_REQUEST: &str = "INSERT INTO service_requests (id, customer_id, kind, subject, \
     description, deal_id, opened_at, opened_at_ns, status) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)";
const UPDATE_REQUEST: &str = "UPDATE service_requests SET customer_id = ?2, kind = ?3, \
     subject = ?4, description = ?5, deal_id = ?6, opened_at = ?7, opened_at_ns = ?8, \
     status = ?9 WHERE id = ?1";

/// A position in a child table's `seq` column (1, 2, 3 …).
fn seq(i: usize) -> Res<i64> {
    i64::try_from(i + 1).map_err(|e| Fail::Store(solocrm_core::StoreError::backend(e)))
}

fn write_request(conn: &Connection, sql: &str, r: &ServiceRequest) -> Res<()> {
    let (at, at_ns) = ts(r.opened_at());
    execute(
        conn,
        sql,
        params![
            key(r.id().get()),
            key(r.customer().get()),
            r.kind().as_str(),
            r.subject().as_str(),
            r.description().as_str(),
            r.deal().map(|d| key(d.get())),
            at,
            at_ns,
            r.status().as_str()
        ],
    )?;
    Ok(())
}

/// The steps of a request that are stored: every event after the opening (which the
/// request's own row records), `seq` 1 for the first.
fn steps(r: &ServiceRequest) -> &[RequestEvent] {
    r.events().get(1..).unwrap_or_default()
}

/// Stores the request's steps from position `from` (0-based) on.
fn insert_steps(conn: &Connection, r: &ServiceRequest, from: usize) -> Res<()> {
    for (i, e) in steps(r).iter().enumerate().skip(from) {
        let (s, ns) = ts(e.at);
        execute(
            conn,
            "INSERT INTO request_events (request_id, seq, kind, at, at_ns) \
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![key(r.id().get()), seq(i)?, e.kind.as_str(), s, ns],
        )?;
    }
    Ok(())
}

fn stored_steps(conn: &Connection, id: RequestId) -> Res<Vec<RequestEvent>> {
    query_all(conn, REQUEST_EVENTS, [key(id.get())], |row| {
        let c = Cols::new(row, "request_events");
        Ok(RequestEvent {
            kind: c.parse(0, RequestEventKind::parse)?,
            at: c.time(1)?,
        })
    })
}

fn stored_moves(conn: &Connection, id: DealId) -> Res<Vec<DealStageChange>> {
    query_all(conn, DEAL_MOVES, [key(id.get())], |row| {
        let c = Cols::new(row, "deal_moves");
        Ok(DealStageChange {
            from: c.parse(0, DealStage::parse)?,
            to: c.parse(1, DealStage::parse)?,
            at: c.time(2)?,
        })
    })
}

pub(crate) fn insert_request(conn: &Connection, r: &ServiceRequest) -> Res<()> {
    write_request(conn, INSERT_REQUEST, r)?;
    insert_steps(conn, r, 0)
}

/// Replaces the request; its steps are a log, so the stored ones are kept and the
/// new ones appended (a history that is not an extension is written anew).
pub(crate) fn update_request(conn: &Connection, r: &ServiceRequest) -> Res<()> {
    write_request(conn, UPDATE_REQUEST, r)?;
    let stored = stored_steps(conn, r.id())?;
    if steps(r).starts_with(&stored) {
        insert_steps(conn, r, stored.len())
    } else {
        execute(
            conn,
            "DELETE FROM request_events WHERE request_id = ?1",
            [key(r.id().get())],
        )?;
        insert_steps(conn, r, 0)
    }
}

const INSERT_DEAL: &str = "INSERT INTO deals (id, customer_id, title, value, created_at, \
     created_at_ns, initial_stage, expected_close, stage) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)";
const UPDATE_DEAL: &str = "UPDATE deals SET customer_id = ?2, title = ?3, value = ?4, \
     created_at = ?5, created_at_ns = ?6, initial_stage = ?7, expected_close = ?8, stage = ?9 \
     WHERE id = ?1";

fn write_deal(conn: &Connection, sql: &str, d: &Deal) -> Res<()> {
    let (at, at_ns) = ts(d.created_at());
    execute(
        conn,
        sql,
        params![
            key(d.id().get()),
            key(d.customer().get()),
            d.title().as_str(),
            minor(d.value())?,
            at,
            at_ns,
            d.initial_stage().as_str(),
            d.expected_close().map(date),
            d.stage().as_str()
        ],
    )?;
    Ok(())
}

fn insert_moves(conn: &Connection, d: &Deal, from: usize) -> Res<()> {
    for (i, m) in d.history().iter().enumerate().skip(from) {
        let (s, ns) = ts(m.at);
        execute(
            conn,
            "INSERT INTO deal_moves (deal_id, seq, from_stage, to_stage, at, at_ns) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                key(d.id().get()),
                seq(i)?,
                m.from.as_str(),
                m.to.as_str(),
                s,
                ns
            ],
        )?;
    }
    Ok(())
}

pub(crate) fn insert_deal(conn: &Connection, d: &Deal) -> Res<()> {
    write_deal(conn, INSERT_DEAL, d)?;
    insert_moves(conn, d, 0)
}

/// Replaces the deal; its moves are a log, so the stored ones are kept and the new
/// ones appended (a history that is not an extension is written anew).
pub(crate) fn update_deal(conn: &Connection, d: &Deal) -> Res<()> {
    write_deal(conn, UPDATE_DEAL, d)?;
    let stored = stored_moves(conn, d.id())?;
    if d.history().starts_with(&stored) {
        insert_moves(conn, d, stored.len())
    } else {
        execute(
            conn,
            "DELETE FROM deal_moves WHERE deal_id = ?1",
            [key(d.id().get())],
        )?;
        insert_moves(conn, d, 0)
    }
}

pub(crate) fn task(conn: &Connection, id: TaskId) -> Res<Option<Task>> {
    query_one(
        conn,
        concat!("SELECT ", task_cols!(), " FROM tasks t WHERE t.id = ?1"),
        [key(id.get())],
        task_row,
    )
}

const INSERT_TASK: &str = "INSERT INTO tasks (id, customer_id, kind, title, due, recurrence, \
     created_at, created_at_ns, occurrence, done, last_done_at, last_done_at_ns) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)";
const UPDATE_TASK: &str = "UPDATE tasks SET customer_id = ?2, kind = ?3, title = ?4, due = ?5, \
     recurrence = ?6, created_at = ?7, created_at_ns = ?8, occurrence = ?9, done = ?10, \
     last_done_at = ?11, last_done_at_ns = ?12 WHERE id = ?1";

fn write_task(conn: &Connection, sql: &str, t: &Task) -> Res<()> {
    let (at, at_ns) = ts(t.created_at());
    let (done_at, done_at_ns) = opt_ts(t.last_done_at());
    execute(
        conn,
        sql,
        params![
            key(t.id().get()),
            t.customer().map(|c| key(c.get())),
            t.kind().as_str(),
            t.title().as_str(),
            date(t.anchor()),
            t.recurrence().map(Recurrence::as_str),
            at,
            at_ns,
            t.occurrence(),
            t.is_done(),
            done_at,
            done_at_ns
        ],
    )?;
    Ok(())
}

pub(crate) fn insert_task(conn: &Connection, t: &Task) -> Res<()> {
    write_task(conn, INSERT_TASK, t)
}

pub(crate) fn update_task(conn: &Connection, t: &Task) -> Res<()> {
    write_task(conn, UPDATE_TASK, t)
}
