//! Segments and the audit log.

use rusqlite::{Connection, Row, TransactionBehavior, params};
use solocrm_core::{
    AuditAction, AuditEntry, AuditId, CustomerId, Label, Predicate, Segment, StoreError,
    StoreResult,
};

use crate::SqliteStore;
use crate::codec::{Cols, key, ts};
use crate::error::{Corrupt, Fail, Res};
use crate::rows::{corrupt, execute, query_all, query_one};

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
