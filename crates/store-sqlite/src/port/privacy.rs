//! Segments and the audit log.

use rusqlite::{Connection, params};
use solocrm_core::{AuditAction, AuditEntry, Label, Segment, StoreError};

use crate::codec::{key, ts};
use crate::error::{Corrupt, Fail, Res};
use crate::rows::{UnreadableSegment, audit_row, execute, query_all, query_one, segment_row};

/// The segment of that name; one stored that cannot be read is an error naming it.
pub(crate) fn segment(conn: &Connection, name: &Label) -> Res<Option<Segment>> {
    match query_one(
        conn,
        "SELECT name, predicate FROM segments WHERE name = ?1",
        [name.as_str()],
        segment_row,
    )? {
        Some(Ok(segment)) => Ok(Some(segment)),
        Some(Err((name, why))) => Err(Fail::Store(StoreError::backend(UnreadableSegment {
            name,
            why,
        }))),
        None => Ok(None),
    }
}

pub(crate) fn insert_segment(conn: &Connection, segment: &Segment) -> Res<()> {
    let json = serde_json::to_string(&segment.predicate)
        .map_err(|e| Fail::Store(StoreError::backend(e)))?;
    execute(
        conn,
        "INSERT INTO segments (name, predicate) VALUES (?1, ?2)",
        params![segment.name.as_str(), json],
    )?;
    Ok(())
}

pub(crate) fn delete_segment(conn: &Connection, name: &Label) -> Res<bool> {
    let n = execute(
        conn,
        "DELETE FROM segments WHERE name = ?1",
        [name.as_str()],
    )?;
    Ok(n > 0)
}

pub(crate) fn audit_log(conn: &Connection) -> Res<Vec<AuditEntry>> {
    query_all(
        conn,
        "SELECT id, at, at_ns, action, customer_id FROM audit_log ORDER BY id",
        [],
        audit_row,
    )
}

pub(crate) fn insert_audit(conn: &Connection, entry: &AuditEntry) -> Res<()> {
    let customer = match &entry.action {
        AuditAction::CustomerErased { customer } => *customer,
        #[allow(unreachable_patterns)]
        other => {
            return Err(Fail::Corrupt(Corrupt(format!(
                "audit_log: no column form for {other:?}"
            ))));
        }
    };
    let (s, ns) = ts(entry.at);
    execute(
        conn,
        "INSERT INTO audit_log (id, at, at_ns, action, customer_id) \
         VALUES (?1, ?2, ?3, 'customer_erased', ?4)",
        params![key(entry.id.get()), s, ns, key(customer.get())],
    )?;
    Ok(())
}
