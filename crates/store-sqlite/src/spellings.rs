//! The Rust step of migration 5: look-up keys in Unicode NFC.
//!
//! The core keeps emails, references, tags and one-line names in Unicode
//! Normalization Form C, so `josé` typed as `e` + a combining accent and as `é` is one
//! text. A file written before stored them as typed, and the store finds rows by these
//! columns in SQL (`email_key = ?`, `external_ref = ?`, `tag = ?`, `name = ?`), so a
//! look-up by the other spelling missed the row and a duplicate could be created.
//!
//! [`unify`] rewrites every stored key that is not pure ASCII (ASCII text is already in
//! NFC) with the core's own parser, inside the migration's transaction. If two rows
//! would then hold one unique key, it refuses with an error naming both, and the
//! migration rolls back. A value the parser refuses (a row changed outside solocrm) is
//! left as it is: reading it reports it.

use rusqlite::{Connection, OptionalExtension, params};
use solocrm_core::{Email, ExternalRef, Label, Tag};

use crate::error::{OpenError, is_unique_violation};

/// The schema version whose migration runs this step.
const VERSION: u32 = 5;

/// What to do about a collision, appended to each message.
const ADVICE: &str = "change or remove one of them with the solocrm version that wrote \
                      this file, then open it with this version again";

fn db(e: rusqlite::Error) -> OpenError {
    OpenError::db(e)
}

fn refuse(reason: String) -> OpenError {
    OpenError::Migration {
        version: VERSION,
        reason,
    }
}

/// Rewrites the stored look-up keys that are not ASCII into the core's normal form.
pub(crate) fn unify(conn: &Connection) -> Result<(), OpenError> {
    emails(conn)?;
    references(conn, "customers", "customer")?;
    references(conn, "purchases", "purchase")?;
    tags(conn)?;
    segment_names(conn)?;
    Ok(())
}

/// `WHERE` condition: `column` holds a character beyond ASCII (its length in bytes
/// differs from its length in characters).
fn non_ascii(column: &str) -> String {
    format!("{column} IS NOT NULL AND length(CAST({column} AS BLOB)) <> length({column})")
}

/// Rows `(id, text)` of `table` whose `column` is not ASCII.
fn rows(conn: &Connection, table: &str, column: &str) -> Result<Vec<(i64, String)>, OpenError> {
    let sql = format!(
        "SELECT id, {column} FROM {table} WHERE {} ORDER BY id",
        non_ascii(column)
    );
    let mut stmt = conn.prepare(&sql).map_err(db)?;
    let found = stmt
        .query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))
        .map_err(db)?
        .collect::<rusqlite::Result<Vec<_>>>()
        .map_err(db)?;
    Ok(found)
}

/// Customers' emails and their keys (`Email::key`, the unique look-up column).
fn emails(conn: &Connection) -> Result<(), OpenError> {
    for (id, stored) in rows(conn, "customers", "email")? {
        let Ok(email) = Email::parse(&stored) else {
            continue;
        };
        let key = email.key();
        let changed = conn
            .execute(
                "UPDATE customers SET email = ?2, email_key = ?3 \
                 WHERE id = ?1 AND (email <> ?2 OR email_key <> ?3)",
                params![id, email.as_str(), key],
            )
            .map(drop);
        if let Err(e) = changed {
            if !is_unique_violation(&e) {
                return Err(db(e));
            }
            let other = holder(conn, "SELECT id FROM customers WHERE email_key = ?1", &key)?;
            return Err(refuse(format!(
                "customers {} and {id} have the same email, {email}, once its Unicode \
                 spellings (accents typed as one character or as two) are treated as one; \
                 {ADVICE}",
                other.map_or_else(|| "?".to_owned(), |o| o.to_string()),
            )));
        }
    }
    Ok(())
}

/// The `external_ref` column of `table` (unique), whose rows are `what`s.
fn references(conn: &Connection, table: &str, what: &str) -> Result<(), OpenError> {
    for (id, stored) in rows(conn, table, "external_ref")? {
        let Ok(reference) = ExternalRef::parse(&stored) else {
            continue;
        };
        if reference.as_str() == stored {
            continue;
        }
        let changed = conn
            .execute(
                &format!("UPDATE {table} SET external_ref = ?2 WHERE id = ?1"),
                params![id, reference.as_str()],
            )
            .map(drop);
        if let Err(e) = changed {
            if !is_unique_violation(&e) {
                return Err(db(e));
            }
            let other = holder(
                conn,
                &format!("SELECT id FROM {table} WHERE external_ref = ?1"),
                reference.as_str(),
            )?;
            return Err(refuse(format!(
                "{what}s {} and {id} have the same reference, {reference}, once its Unicode \
                 spellings (accents typed as one character or as two) are treated as one; \
                 {ADVICE}",
                other.map_or_else(|| "?".to_owned(), |o| o.to_string()),
            )));
        }
    }
    Ok(())
}

/// The id of the row `sql` finds for `key`.
fn holder(conn: &Connection, sql: &str, key: &str) -> Result<Option<i64>, OpenError> {
    conn.query_row(sql, [key], |r| r.get(0))
        .optional()
        .map_err(db)
}

/// Customers' tags. A customer's tags are a set, so two spellings of one tag on one
/// customer become that one tag (nothing is lost).
fn tags(conn: &Connection) -> Result<(), OpenError> {
    let sql = format!(
        "SELECT customer_id, tag FROM customer_tags WHERE {}",
        non_ascii("tag")
    );
    let found = {
        let mut stmt = conn.prepare(&sql).map_err(db)?;
        stmt.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))
            .map_err(db)?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(db)?
    };
    for (customer, stored) in found {
        let Ok(tag) = Tag::parse(&stored) else {
            continue;
        };
        if tag.as_str() == stored {
            continue;
        }
        conn.execute(
            "INSERT OR IGNORE INTO customer_tags (customer_id, tag) VALUES (?1, ?2)",
            params![customer, tag.as_str()],
        )
        .map_err(db)?;
        conn.execute(
            "DELETE FROM customer_tags WHERE customer_id = ?1 AND tag = ?2",
            params![customer, stored],
        )
        .map_err(db)?;
    }
    Ok(())
}

/// Segment names (the table's key).
fn segment_names(conn: &Connection) -> Result<(), OpenError> {
    let sql = format!("SELECT name FROM segments WHERE {}", non_ascii("name"));
    let found = {
        let mut stmt = conn.prepare(&sql).map_err(db)?;
        stmt.query_map([], |r| r.get::<_, String>(0))
            .map_err(db)?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(db)?
    };
    for stored in found {
        let Ok(name) = Label::parse(&stored) else {
            continue;
        };
        if name.as_str() == stored {
            continue;
        }
        let taken = holder(
            conn,
            "SELECT 1 FROM segments WHERE name = ?1",
            name.as_str(),
        )?;
        if taken.is_some() {
            return Err(refuse(format!(
                "two segments are named '{name}' once Unicode spellings (accents typed as \
                 one character or as two) are treated as one; delete one of them with the \
                 solocrm version that wrote this file, then open it with this version again"
            )));
        }
        conn.execute(
            "UPDATE segments SET name = ?2 WHERE name = ?1",
            params![stored, name.as_str()],
        )
        .map_err(db)?;
    }
    Ok(())
}
