//! The `CHECK` constraints during a bulk build of new books
//! ([`SqliteOptions::private_build`](crate::SqliteOptions::private_build)).
//!
//! SQLite evaluates a table's `CHECK` constraints for every row a statement writes,
//! and a constraint of the form `x IN ('a', 'b', 'c', …)` builds a small temporary
//! B-tree of its list each time the statement runs: one per enumerated column per
//! row (the channel and sentiment of an interaction, the stages, reason and rule of
//! a stage change, the kind of a points entry, the stage of a customer). In the
//! demo's build that is several million B-trees opened, filled and closed, each for
//! one look-up. The build therefore writes with `PRAGMA ignore_check_constraints`
//! on and, just before its commit, evaluates every table's constraints once over
//! the whole table ([`verify`]): one statement per table, in which each list is
//! built once. A row that breaks a constraint fails the build then, and the whole
//! transaction rolls back, as the row's own insert would have made it fail earlier.
//! The rows written are the same either way.

use rusqlite::{Connection, ffi};

use crate::error::Res;

/// Turns the per-row `CHECK` constraints off for the rest of the transaction (and
/// for the connection, until [`verify`] or [`restore`] turns them on again).
pub(crate) fn defer(conn: &Connection) -> Res<()> {
    conn.pragma_update(None, "ignore_check_constraints", true)?;
    Ok(())
}

/// Turns the per-row `CHECK` constraints on again (a connection's default). Cannot
/// fail in practice: the pragma only sets a flag of the connection.
pub(crate) fn restore(conn: &Connection) -> rusqlite::Result<()> {
    conn.pragma_update(None, "ignore_check_constraints", false)
}

/// Turns the per-row checks on again and evaluates the `CHECK` constraints of every
/// table over all its rows, as SQLite would have for each row written: a row breaks
/// a constraint when its expression is false (a null passes).
///
/// # Errors
///
/// A constraint failure (`SQLITE_CONSTRAINT_CHECK`, "CHECK constraint failed:
/// TABLE") for the first table with a row that breaks one; a driver error.
pub(crate) fn verify(conn: &Connection) -> Res<()> {
    restore(conn)?;
    for (name, query) in queries(conn)? {
        let broken = conn.prepare(&query)?.exists([])?;
        if broken {
            return Err(rusqlite::Error::SqliteFailure(
                ffi::Error::new(ffi::SQLITE_CONSTRAINT_CHECK),
                Some(format!("CHECK constraint failed: {name}")),
            )
            .into());
        }
    }
    Ok(())
}

/// Every table of the database with `CHECK` constraints, by name, with the query that
/// finds a row breaking one ([`violation_query`]).
pub(crate) fn queries(conn: &Connection) -> Res<Vec<(String, String)>> {
    let mut stmt = conn.prepare(
        "SELECT name, sql FROM sqlite_schema WHERE type = 'table' AND sql IS NOT NULL \
         AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name",
    )?;
    let tables = stmt
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(tables
        .into_iter()
        .filter_map(|(name, sql)| {
            let query = violation_query(&name, &sql)?;
            Some((name, query))
        })
        .collect())
}

/// The query that finds a row of table `name` (created by `sql`) breaking one of its
/// `CHECK` constraints, or `None` for a table without any (a virtual table's
/// constraints are its module's).
fn violation_query(name: &str, sql: &str) -> Option<String> {
    let head = sql.trim_start().get(..12)?;
    if !head.eq_ignore_ascii_case("CREATE TABLE") {
        return None;
    }
    let checks = check_expressions(sql);
    if checks.is_empty() {
        return None;
    }
    // Each expression ends its own line: a `--` comment at its end stays a comment.
    let failing: Vec<String> = checks.iter().map(|e| format!("NOT ({e}\n)")).collect();
    Some(format!(
        "SELECT 1 FROM \"{}\" WHERE {}",
        name.replace('"', "\"\""),
        failing.join("\nOR ")
    ))
}

/// The expressions of the `CHECK` constraints in a `CREATE TABLE` statement, column
/// constraints and table constraints alike, in order: the text inside the
/// parentheses after each `CHECK` keyword. Quoted strings and identifiers and
/// comments are skipped over, so a `CHECK` or a parenthesis inside them counts for
/// nothing.
fn check_expressions(sql: &str) -> Vec<&str> {
    let bytes = sql.as_bytes();
    let mut found = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if let Some(end) = skip_quoted(bytes, i) {
            i = end;
            continue;
        }
        let c = bytes[i];
        if is_word(c) {
            let start = i;
            while i < bytes.len() && is_word(bytes[i]) {
                i += 1;
            }
            if sql[start..i].eq_ignore_ascii_case("CHECK") {
                let mut j = i;
                loop {
                    while j < bytes.len() && bytes[j].is_ascii_whitespace() {
                        j += 1;
                    }
                    match skip_quoted(bytes, j) {
                        Some(end) if bytes[j] == b'-' || bytes[j] == b'/' => j = end,
                        _ => break,
                    }
                }
                if bytes.get(j) == Some(&b'(')
                    && let Some(close) = matching_paren(bytes, j)
                {
                    found.push(sql[j + 1..close].trim());
                    i = close + 1;
                }
            }
            continue;
        }
        i += 1;
    }
    found
}

/// A byte of an unquoted identifier or keyword.
fn is_word(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'$' || c >= 0x80
}

/// If a quoted string or identifier or a comment starts at `i`, the index just past
/// its end (or the end of `bytes` if it is not closed).
fn skip_quoted(bytes: &[u8], i: usize) -> Option<usize> {
    let c = *bytes.get(i)?;
    let close = match c {
        b'\'' | b'"' | b'`' => c,
        b'[' => b']',
        b'-' if bytes.get(i + 1) == Some(&b'-') => {
            let rest = &bytes[i..];
            return Some(
                rest.iter()
                    .position(|&b| b == b'\n')
                    .map_or(bytes.len(), |p| i + p + 1),
            );
        }
        b'/' if bytes.get(i + 1) == Some(&b'*') => {
            let rest = &bytes[i + 2..];
            return Some(
                rest.windows(2)
                    .position(|w| w == b"*/")
                    .map_or(bytes.len(), |p| i + 2 + p + 2),
            );
        }
        _ => return None,
    };
    let mut j = i + 1;
    while j < bytes.len() {
        if bytes[j] == close {
            // A doubled quote stands for itself (not in `[…]`).
            if close != b']' && bytes.get(j + 1) == Some(&close) {
                j += 2;
                continue;
            }
            return Some(j + 1);
        }
        j += 1;
    }
    Some(bytes.len())
}

/// The index of the parenthesis closing the one at `open`, skipping quoted text and
/// comments; `None` if it is never closed.
fn matching_paren(bytes: &[u8], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut i = open;
    while i < bytes.len() {
        if let Some(end) = skip_quoted(bytes, i) {
            i = end;
            continue;
        }
        match bytes[i] {
            b'(' => depth += 1,
            b')' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_check_expressions_of_a_table_are_found_around_quotes_and_comments() {
        let sql = "CREATE TABLE t (\n\
            a TEXT NOT NULL CHECK (a IN ('x', 'y)', 'check(')), -- CHECK (no)\n\
            \"check\" INTEGER check(\"check\" >= 0) /* CHECK (no) */,\n\
            checked INTEGER,\n\
            CHECK ((a = 'x') = (checked IS NULL))\n\
        ) STRICT";
        assert_eq!(
            check_expressions(sql),
            [
                "a IN ('x', 'y)', 'check(')",
                "\"check\" >= 0",
                "(a = 'x') = (checked IS NULL)"
            ]
        );
        assert!(check_expressions("CREATE TABLE u (checked INTEGER)").is_empty());
        assert_eq!(
            violation_query("u", "CREATE TABLE u (checked INTEGER)"),
            None
        );
        assert_eq!(
            violation_query("v", "CREATE VIRTUAL TABLE v USING fts5(check)"),
            None
        );
    }

    #[test]
    fn verify_finds_a_row_written_while_the_checks_were_off() {
        let conn = Connection::open_in_memory().expect("a database");
        conn.execute_batch(
            "CREATE TABLE t (id INTEGER PRIMARY KEY, \
             kind TEXT NOT NULL CHECK (kind IN ('earn', 'redeem', 'expire')), \
             n INTEGER CHECK (n <> 0 -- never zero\n)) STRICT; \
             INSERT INTO t (kind, n) VALUES ('earn', 1), ('redeem', NULL)",
        )
        .expect("the table");
        defer(&conn).expect("the checks off");
        verify(&conn).expect("every row passes (a null passes)");
        defer(&conn).expect("the checks off");
        conn.execute("INSERT INTO t (kind, n) VALUES ('gift', 2)", [])
            .expect("not checked while deferred");
        let err = verify(&conn).expect_err("the row breaks a constraint");
        let crate::error::Fail::Db(e) = err else {
            panic!("a driver error: {err:?}");
        };
        assert_eq!(
            e.sqlite_extended_error_code(),
            Some(ffi::SQLITE_CONSTRAINT_CHECK)
        );
        assert!(e.to_string().contains("CHECK constraint failed: t"), "{e}");
        // `verify` turned the per-row checks on again.
        let refused = conn.execute("INSERT INTO t (kind, n) VALUES ('gift', 3)", []);
        assert_eq!(
            refused
                .expect_err("checked again")
                .sqlite_extended_error_code(),
            Some(ffi::SQLITE_CONSTRAINT_CHECK)
        );
    }
}
