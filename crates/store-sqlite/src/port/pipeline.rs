//! Service requests with their steps, deals with their moves, and tasks.

use rusqlite::{Connection, Row, params};
use solocrm_core::{
    Currency, CustomerId, Deal, DealId, DealNote, DealStage, DealStageChange, FreeText, Label,
    NewDeal, NewServiceRequest, NewTask, OpenQuery, Recurrence, RequestEvent, RequestEventKind,
    RequestId, RequestKind, ServiceRequest, Task, TaskId, TaskKind, TaskQuery,
};

use crate::codec::{Cols, date, key, minor, opt_ts, ts};
use crate::error::{Fail, Res};
use crate::rows::{corrupt, execute, query_all, query_one};

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
     created_at_ns, initial_stage, expected_close, stage, lost_reason) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)";
const UPDATE_DEAL: &str = "UPDATE deals SET customer_id = ?2, title = ?3, value = ?4, \
     created_at = ?5, created_at_ns = ?6, initial_stage = ?7, expected_close = ?8, stage = ?9, \
     lost_reason = ?10 WHERE id = ?1";

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
            d.stage().as_str(),
            d.lost_reason().map(Label::as_str)
        ],
    )?;
    Ok(())
}

/// Writes the deal's notes anew (they are few, and erasing drops them).
fn write_notes(conn: &Connection, d: &Deal) -> Res<()> {
    execute(
        conn,
        "DELETE FROM deal_notes WHERE deal_id = ?1",
        [key(d.id().get())],
    )?;
    for (i, n) in d.notes().iter().enumerate() {
        let (s, ns) = ts(n.at);
        execute(
            conn,
            "INSERT INTO deal_notes (deal_id, seq, at, at_ns, text) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![key(d.id().get()), seq(i)?, s, ns, n.text.as_str()],
        )?;
    }
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
    insert_moves(conn, d, 0)?;
    write_notes(conn, d)
}

/// Replaces the deal; its moves are a log, so the stored ones are kept and the new
/// ones appended (a history that is not an extension is written anew).
pub(crate) fn update_deal(conn: &Connection, d: &Deal) -> Res<()> {
    // The moves first: the stored stage must be lost before a lost reason is.
    let stored = stored_moves(conn, d.id())?;
    if d.history().starts_with(&stored) {
        insert_moves(conn, d, stored.len())?;
    } else {
        execute(
            conn,
            "DELETE FROM deal_moves WHERE deal_id = ?1",
            [key(d.id().get())],
        )?;
        insert_moves(conn, d, 0)?;
    }
    write_deal(conn, UPDATE_DEAL, d)?;
    write_notes(conn, d)
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
     created_at, created_at_ns, occurrence, done, last_done_at, last_done_at_ns, \
     cancelled_at, cancelled_at_ns) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)";
const UPDATE_TASK: &str = "UPDATE tasks SET customer_id = ?2, kind = ?3, title = ?4, due = ?5, \
     recurrence = ?6, created_at = ?7, created_at_ns = ?8, occurrence = ?9, done = ?10, \
     last_done_at = ?11, last_done_at_ns = ?12, cancelled_at = ?13, cancelled_at_ns = ?14 \
     WHERE id = ?1";

fn write_task(conn: &Connection, sql: &str, t: &Task) -> Res<()> {
    let (at, at_ns) = ts(t.created_at());
    let (done_at, done_at_ns) = opt_ts(t.last_done_at());
    let (cancelled_at, cancelled_at_ns) = opt_ts(t.cancelled_at());
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
            done_at_ns,
            cancelled_at,
            cancelled_at_ns
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

pub(crate) const REQUEST_EVENTS: &str =
    "SELECT kind, at, at_ns FROM request_events WHERE request_id = ?1 ORDER BY seq";

pub(crate) const DEAL_NOTES: &str =
    "SELECT at, at_ns, text FROM deal_notes WHERE deal_id = ?1 ORDER BY seq";

pub(crate) const DEAL_MOVES: &str =
    "SELECT from_stage, to_stage, at, at_ns FROM deal_moves WHERE deal_id = ?1 ORDER BY seq";

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
    lost_reason: Option<Label>,
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
        lost_reason: c.opt_parse(9, Label::parse)?,
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
    let notes = query_all(conn, DEAL_NOTES, [key(r.id.get())], |row| {
        let c = Cols::new(row, "deal_notes");
        Ok(DealNote {
            at: c.time(0)?,
            text: c.parse(2, FreeText::parse)?,
        })
    })?;
    deal.with_extras(notes, r.lost_reason)
        .map_err(|e| corrupt(format!("deal {}: {e}", r.id)))
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
    let cancelled_at = c.opt_time(12)?;
    if done && cancelled_at.is_some() {
        return Err(corrupt("tasks: a done task is also cancelled".to_owned()));
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
                " FROM tasks t WHERE (?1 OR (t.done = 0 AND t.cancelled_at IS NULL))"
            ),
            [q.include_done],
            task_row,
        )?,
        Some(c) => query_all(
            conn,
            concat!(
                "SELECT ",
                task_cols!(),
                " FROM tasks t WHERE t.customer_id = ?2 \
                 AND (?1 OR (t.done = 0 AND t.cancelled_at IS NULL))"
            ),
            params![q.include_done, key(c.get())],
            task_row,
        )?,
    };
    tasks.retain(|t| q.due_until.is_none_or(|d| t.due() <= d));
    tasks.sort_by_key(|t| (t.due(), t.id()));
    Ok(tasks)
}
