//! The customer search index (`customer_search`, schema version 9) during a bulk
//! build of new books ([`SqliteOptions::private_build`](crate::SqliteOptions::private_build)).
//!
//! Its triggers keep it in step with `customers` row by row; FTS5 then flushes its
//! pending terms into a new segment at every statement (a statement that writes a
//! virtual table opens a savepoint, and FTS5 flushes at each) and merges the
//! segments as they pile up: a sixth of building a large demo. A bulk write that
//! starts with no customer drops the triggers instead, and just before its commit
//! creates them again from their stored SQL and fills the index from the customers
//! then stored, in one statement: the same index entries, written once. The drop is
//! part of the transaction, so a write that fails keeps the triggers.
//!
//! The same build drops the read indexes by customer of the tables its operations
//! append to most ([`DEFERRED_TABLES`]: interactions, stage changes, points entries,
//! consents, survey answers) and creates them again, each by one sort, before its
//! commit: hundreds of thousands of rows each went into them at random places. The
//! operations of such a build do not read through them (the build answers the
//! narrow look-ups it needs itself); a read that would scans the table instead.

use rusqlite::Connection;

use crate::error::Res;

/// The statement that fills the index from `customers`: the rows the insert trigger
/// would have added (and the update and delete triggers kept), the same as the
/// migration that created the index writes for the customers already stored.
const FILL: &str = "INSERT INTO customer_search (rowid, name, email, company, city, notes) \
     SELECT id, name, email, company, json_extract(profile, '$.city'), notes \
     FROM customers WHERE erased_at IS NULL ORDER BY id";

/// The tables whose indexes a build of new books drops and creates again at its end.
/// None of them is read through an index by the operations of the demo's build; the
/// constraints' own indexes (`UNIQUE`, primary keys) are never dropped.
const DEFERRED_TABLES: &str = "'interactions', 'stage_changes', 'points_entries', 'consents', \
     'surveys'";

/// The search triggers and read indexes dropped for a bulk write, to be created again
/// at its end.
#[derive(Debug)]
pub(crate) struct Deferred {
    /// The `CREATE TRIGGER` statements, as `sqlite_schema` keeps them.
    triggers: Vec<String>,
    /// The `CREATE INDEX` statements, as `sqlite_schema` keeps them.
    indexes: Vec<String>,
}

/// If no customer is stored (so the index is empty too), drops the search triggers
/// and returns what [`Deferred::finish`] needs to put them back; otherwise changes
/// nothing.
pub(crate) fn defer(conn: &Connection) -> Res<Option<Deferred>> {
    let empty: bool = conn.query_row(
        "SELECT NOT EXISTS (SELECT 1 FROM customers) AND NOT EXISTS (SELECT 1 FROM customer_search)",
        [],
        |r| r.get(0),
    )?;
    if !empty {
        return Ok(None);
    }
    let mut stmt = conn.prepare(
        "SELECT name, sql FROM sqlite_schema WHERE type = 'trigger' AND tbl_name = 'customers' \
         AND name GLOB 'customer_search_*' AND sql IS NOT NULL ORDER BY name",
    )?;
    let found = stmt
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    for (name, _) in &found {
        // The name comes from the schema, not from input; quoted as an identifier.
        conn.execute_batch(&format!("DROP TRIGGER \"{}\"", name.replace('"', "\"\"")))?;
    }
    // Only indexes that were created by a statement (`sql` not null): the automatic
    // indexes of constraints stay.
    let mut stmt = conn.prepare(&format!(
        "SELECT name, sql FROM sqlite_schema WHERE type = 'index' \
         AND tbl_name IN ({DEFERRED_TABLES}) AND sql IS NOT NULL ORDER BY name"
    ))?;
    let indexes = stmt
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    for (name, _) in &indexes {
        conn.execute_batch(&format!("DROP INDEX \"{}\"", name.replace('"', "\"\"")))?;
    }
    Ok(Some(Deferred {
        triggers: found.into_iter().map(|(_, sql)| sql).collect(),
        indexes: indexes.into_iter().map(|(_, sql)| sql).collect(),
    }))
}

impl Deferred {
    /// Creates the dropped read indexes again (sorted, as a bulk import's purchase
    /// indexes are), then the triggers, and fills the search index from every
    /// customer stored.
    pub(crate) fn finish(self, conn: &Connection) -> Res<()> {
        if !self.indexes.is_empty() {
            super::activity::rebuild_indexes(conn, &self.indexes, true)?;
        }
        for sql in &self.triggers {
            conn.execute_batch(sql)?;
        }
        conn.execute_batch(FILL)?;
        Ok(())
    }
}

/// The search index's insert trigger, dropped while a bulk write (an import) creates
/// customers, and the ids it created since: FTS5 flushed a segment per created
/// customer (one statement each) and merged them, half of an import that creates
/// 92 k customers. Before the commit the trigger is created again and the index's
/// entries for those ids are written from the customers then stored, in one
/// statement.
///
/// The refill deletes the entries of the whole range of ids and writes them again,
/// so it is right whatever else happened to those customers in between (an update
/// fires the update trigger, which was not dropped; a rollback to a savepoint may
/// have undone the drop, or created customers, or both). While deferred, the index
/// lacks the customers created since, which no write operation searches for.
#[derive(Debug)]
pub(crate) struct DeferredInserts {
    /// The `CREATE TRIGGER` statement of `customer_search_insert`.
    trigger: String,
    /// The smallest and largest id created since (`lo > hi`: none).
    lo: u64,
    hi: u64,
}

/// The index's insert trigger.
const INSERT_TRIGGER: &str = "customer_search_insert";

/// Fills the entries of the customers with ids in `?1..=?2`.
const FILL_RANGE: &str = "INSERT INTO customer_search (rowid, name, email, company, city, notes) \
     SELECT id, name, email, company, json_extract(profile, '$.city'), notes \
     FROM customers WHERE erased_at IS NULL AND id BETWEEN ?1 AND ?2 ORDER BY id";

/// Drops the index's insert trigger for a bulk write that creates customers, if it
/// exists; `None` if it does not (nothing to defer).
pub(crate) fn defer_inserts(conn: &Connection) -> Res<Option<DeferredInserts>> {
    let sql = crate::rows::query_one(
        conn,
        "SELECT sql FROM sqlite_schema WHERE type = 'trigger' AND name = ?1",
        [INSERT_TRIGGER],
        |r| Ok(r.get::<_, String>(0)?),
    )?;
    let Some(trigger) = sql else {
        return Ok(None);
    };
    conn.execute_batch(&format!("DROP TRIGGER {INSERT_TRIGGER}"))?;
    Ok(Some(DeferredInserts {
        trigger,
        lo: u64::MAX,
        hi: 0,
    }))
}

impl DeferredInserts {
    /// Notes a customer created while deferred.
    pub(crate) fn created(&mut self, id: u64) {
        self.lo = self.lo.min(id);
        self.hi = self.hi.max(id);
    }

    /// Creates the trigger again (unless a rollback already did) and writes the
    /// entries of the ids created since it was dropped.
    pub(crate) fn finish(self, conn: &Connection) -> Res<()> {
        let present: bool = conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM sqlite_schema WHERE type = 'trigger' AND name = ?1)",
            [INSERT_TRIGGER],
            |r| r.get(0),
        )?;
        if !present {
            conn.execute_batch(&self.trigger)?;
        }
        if self.lo <= self.hi {
            let (lo, hi) = (crate::codec::key(self.lo), crate::codec::key(self.hi));
            conn.execute(
                "DELETE FROM customer_search WHERE rowid BETWEEN ?1 AND ?2",
                [lo, hi],
            )?;
            conn.execute(FILL_RANGE, [lo, hi])?;
        }
        Ok(())
    }
}
