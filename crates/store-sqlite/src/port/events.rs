//! The outbox of domain events (migration 6's `events` table).

use rusqlite::{Connection, Statement, params};
use solocrm_core::{DomainEvent, Event, EventSeq, StoreError};

use crate::codec::{Cols, key, opt_ts};
use crate::error::{Fail, Res};
use crate::rows::query_all;

/// The insert of one event, for [`append`].
pub(crate) const APPEND: &str = "INSERT INTO events (seq, at, at_ns, type, customer_id, payload) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6)";

/// Appends `event` under its sequence number with `insert` ([`APPEND`] prepared);
/// the payload is its JSON.
pub(crate) fn append(insert: &mut Statement<'_>, event: &Event) -> Res<()> {
    let payload =
        serde_json::to_string(&event.event).map_err(|e| Fail::Store(StoreError::backend(e)))?;
    let (s, ns) = opt_ts(event.at);
    insert.execute(params![
        key(event.seq),
        s,
        ns,
        event.event.name(),
        event.event.customer().map(|c| key(c.get())),
        payload
    ])?;
    Ok(())
}

/// Up to `limit` events after `after`, in sequence order.
pub(crate) fn list(conn: &Connection, after: EventSeq, limit: u32) -> Res<Vec<Event>> {
    let Ok(after) = i64::try_from(after) else {
        return Ok(Vec::new());
    };
    query_all(
        conn,
        "SELECT seq, at, at_ns, payload FROM events WHERE seq > ?1 ORDER BY seq LIMIT ?2",
        params![after, i64::from(limit)],
        |row| {
            let c = Cols::new(row, "events");
            Ok(Event {
                seq: c.id(0, |s| s)?,
                at: c.opt_time(1)?,
                event: c.parse(3, |s| serde_json::from_str::<DomainEvent>(s))?,
            })
        },
    )
}
