//! The `CHECK` constraints: deferred during a bulk build of new books
//! ([`SqliteOptions::private_build`](crate::SqliteOptions::private_build)), and the
//! rewrite of their lists that migration 27 made ([`spell_out_lists`], ADR 0081).
//!
//! SQLite evaluates a table's `CHECK` constraints for every row a statement writes.
//! Before migration 27, a constraint of the form `x IN ('a', 'b', 'c', …)` also built
//! a small temporary B-tree of its list each time the statement ran: one per
//! enumerated column per row (the channel and sentiment of an interaction, the
//! stages, reason and rule of a stage change, the kind of a points entry, the stage
//! of a customer). Migration 27 spells those lists out as equalities, which cost a
//! few comparisons. The build of new books still writes with `PRAGMA
//! ignore_check_constraints` on and, just before its commit, evaluates every
//! table's constraints once over the whole table ([`verify`]): one statement per
//! table. A row that breaks a constraint fails the build then, and the whole
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

/// The `CREATE TABLE` statement `sql` with each `CHECK` list of three or more
/// literals spelled out as equalities, or `None` if it has no such list:
/// `stage IN ('new', 'active', 'lost')` becomes
/// `(stage = 'new' OR stage = 'active' OR stage = 'lost')` (ADR 0081).
///
/// The two mean the same for every value, a null included (both are null, which
/// passes a `CHECK`), but SQLite evaluates them differently: a list of more than two
/// constants becomes a temporary B-tree built each time the statement that checks it
/// runs, one per enumerated column for every single-row `INSERT` or `UPDATE`, while
/// the equalities are a few comparisons.
///
/// Only the plain form is rewritten: a bare column name that starts an operand (see
/// [`operand_openers`]), then `IN`, then a list of string or unsigned integer
/// literals. Anything else (`NOT IN`, a collation, an expression on the left, a
/// subquery) is left as it is, which is always correct, only slower.
pub(crate) fn spell_out_lists(sql: &str) -> Option<String> {
    let base = sql.as_ptr() as usize;
    let mut edits: Vec<(usize, usize, String)> = Vec::new();
    for expr in check_expressions(sql) {
        let at = expr.as_ptr() as usize - base;
        for (start, end, text) in lists_in(expr) {
            edits.push((at + start, at + end, text));
        }
    }
    if edits.is_empty() {
        return None;
    }
    let mut out = String::with_capacity(sql.len() + 64 * edits.len());
    let mut done = 0;
    for (start, end, text) in edits {
        out.push_str(&sql[done..start]);
        out.push_str(&text);
        done = end;
    }
    out.push_str(&sql[done..]);
    Some(out)
}

/// A plain `column IN (literal, …)` found in a `CHECK` expression.
struct PlainList<'a> {
    /// The column name's byte range, where the rewrite starts.
    column: (usize, usize),
    /// The literals as written.
    items: Vec<&'a str>,
    /// The token index of the closing parenthesis.
    last: usize,
    /// The byte just past the closing parenthesis, where the rewrite ends.
    end: usize,
}

/// The plain list of three or more literals whose `IN` is token `k` of `expr`, if
/// it is one.
fn plain_list<'a>(
    expr: &'a str,
    toks: &[Token],
    opens: &[bool],
    k: usize,
) -> Option<PlainList<'a>> {
    let is = |i: usize, s: &str| {
        toks.get(i)
            .is_some_and(|t| t.text(expr).eq_ignore_ascii_case(s))
    };
    let keyword = |s: &str| {
        ["NOT", "AND", "OR", "IN"]
            .iter()
            .any(|kw| s.eq_ignore_ascii_case(kw))
    };
    let Token::Word(cs, ce) = *toks.get(k.checked_sub(1)?)? else {
        return None;
    };
    let opens_operand = k < 2 || opens[k - 2];
    if !opens_operand || keyword(&expr[cs..ce]) || !is(k, "IN") || !is(k + 1, "(") {
        return None;
    }
    // The literals, separated by commas, up to the closing parenthesis.
    let mut items = Vec::new();
    let mut j = k + 2;
    loop {
        let literal = match *toks.get(j)? {
            Token::Text(a, b) => &expr[a..b],
            Token::Word(a, b) if expr[a..b].bytes().all(|c| c.is_ascii_digit()) => &expr[a..b],
            _ => return None,
        };
        items.push(literal);
        match *toks.get(j + 1)? {
            Token::Other(_, end) if is(j + 1, ")") => {
                return (items.len() >= 3).then_some(PlainList {
                    column: (cs, ce),
                    items,
                    last: j + 1,
                    end,
                });
            }
            _ if is(j + 1, ",") => j += 2,
            _ => return None,
        }
    }
}

/// For each token of `expr`, whether an operand of `AND`, `OR` or `NOT` (or a
/// parenthesis) starts after it, so that `column IN (…)` right after it is a whole
/// operand: `(`, `OR`, an `AND` that is not a `BETWEEN`'s (`a BETWEEN 1 AND x IN (…)`
/// compares `a BETWEEN 1 AND x`), and a `NOT` that is not part of `IS NOT` (`a IS NOT
/// x IN (…)` compares `a IS NOT x`).
fn operand_openers(expr: &str, toks: &[Token]) -> Vec<bool> {
    let word =
        |t: &Token, kw: &str| matches!(t, Token::Word(..)) && t.text(expr).eq_ignore_ascii_case(kw);
    let other = |t: &Token, c: &str| matches!(t, Token::Other(..)) && t.text(expr) == c;
    // The `BETWEEN`s still waiting for their `AND`, per parenthesis depth.
    let mut pending: Vec<u32> = vec![0];
    let mut opens = Vec::with_capacity(toks.len());
    for (i, t) in toks.iter().enumerate() {
        let depth = pending.len() - 1;
        let opener = if other(t, "(") {
            pending.push(0);
            true
        } else if other(t, ")") {
            if pending.len() > 1 {
                pending.pop();
            }
            false
        } else if word(t, "BETWEEN") {
            pending[depth] += 1;
            false
        } else if word(t, "AND") {
            if pending[depth] > 0 {
                pending[depth] -= 1;
                false
            } else {
                true
            }
        } else if word(t, "NOT") {
            !(i > 0 && word(&toks[i - 1], "IS"))
        } else {
            word(t, "OR")
        };
        opens.push(opener);
    }
    opens
}

/// A token of a `CHECK` expression: its byte range; comments and white space are
/// not tokens.
#[derive(Clone, Copy)]
enum Token {
    /// An unquoted identifier, keyword or number.
    Word(usize, usize),
    /// A single-quoted string literal, quotes included.
    Text(usize, usize),
    /// Anything else: a double-quoted identifier, an operator, a parenthesis.
    Other(usize, usize),
}

impl Token {
    /// The token's text in `expr`.
    fn text(self, expr: &str) -> &str {
        let (Token::Word(a, b) | Token::Text(a, b) | Token::Other(a, b)) = self;
        &expr[a..b]
    }
}

fn tokens(expr: &str) -> Vec<Token> {
    let bytes = expr.as_bytes();
    let mut found = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if let Some(end) = skip_quoted(bytes, i) {
            match c {
                b'\'' => found.push(Token::Text(i, end)),
                b'-' | b'/' => {}
                _ => found.push(Token::Other(i, end)),
            }
            i = end;
        } else if is_word(c) {
            let start = i;
            while i < bytes.len() && is_word(bytes[i]) {
                i += 1;
            }
            found.push(Token::Word(start, i));
        } else {
            if !c.is_ascii_whitespace() {
                found.push(Token::Other(i, i + 1));
            }
            i += 1;
        }
    }
    found
}

/// The plain `column IN (literal, …)` lists of three or more literals in `expr`, as
/// (start, end, replacement) in `expr`'s bytes, in order.
fn lists_in(expr: &str) -> Vec<(usize, usize, String)> {
    let toks = tokens(expr);
    let opens = operand_openers(expr, &toks);
    let mut found = Vec::new();
    let mut k = 1;
    while k < toks.len() {
        match plain_list(expr, &toks, &opens, k) {
            Some(list) => {
                let (start, stop) = list.column;
                let terms: Vec<String> = list
                    .items
                    .iter()
                    .map(|v| format!("{} = {v}", &expr[start..stop]))
                    .collect();
                found.push((start, list.end, format!("({})", terms.join(" OR "))));
                k = list.last + 1;
            }
            None => k += 1,
        }
    }
    found
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

    #[test]
    fn lists_of_three_or_more_literals_are_spelled_out_and_nothing_else_is() {
        let sql = "CREATE TABLE t (\n\
            stage TEXT NOT NULL CHECK (stage IN\n    ('new','active', 'it''s')),\n\
            priority TEXT CHECK (priority IS NULL OR priority IN ('low', 'normal', 'high')),\n\
            span INTEGER CHECK (span in (0, 1, 2) AND NOT kind IN ('a', 'b', 'c')),\n\
            two INTEGER CHECK (two IN (0, 1)),\n\
            neg INTEGER CHECK (neg IN (-1, 0, 1)),\n\
            not_in TEXT CHECK (not_in NOT IN ('x', 'y', 'z')),\n\
            nocase TEXT CHECK (nocase COLLATE NOCASE IN ('x', 'y', 'z')),\n\
            sub TEXT CHECK (sub IN (SELECT 'x') AND length(sub) IN (1, 2, 3)),\n\
            quoted TEXT DEFAULT 'q IN (''x'', ''y'', ''z'')', -- kind IN ('a', 'b', 'c')\n\
            b INTEGER CHECK (b BETWEEN 0 AND b IN (0, 1, 2) OR b IS NOT b IN (3, 4, 5)),\n\
            c INTEGER CHECK (c BETWEEN 0 AND 9 AND c IN (0, 1, 2))\n\
        ) STRICT";
        let out = spell_out_lists(sql).expect("five lists to rewrite");
        let expected = sql
            .replace(
                "stage IN\n    ('new','active', 'it''s')",
                "(stage = 'new' OR stage = 'active' OR stage = 'it''s')",
            )
            .replace(
                "priority IN ('low', 'normal', 'high')",
                "(priority = 'low' OR priority = 'normal' OR priority = 'high')",
            )
            .replace("span in (0, 1, 2)", "(span = 0 OR span = 1 OR span = 2)")
            .replace(
                "NOT kind IN ('a', 'b', 'c')",
                "NOT (kind = 'a' OR kind = 'b' OR kind = 'c')",
            )
            .replace("c IN (0, 1, 2)", "(c = 0 OR c = 1 OR c = 2)");
        assert_eq!(out, expected);
        assert_eq!(spell_out_lists(&out), None, "nothing left to rewrite");
        assert_eq!(
            spell_out_lists("CREATE TABLE u (k TEXT CHECK (k IN ('a', 'b')))"),
            None
        );
        assert_eq!(
            spell_out_lists("CREATE VIRTUAL TABLE v USING fts5(k)"),
            None
        );
    }

    /// The table `t` with one column `v` (of no type, so that texts, integers and
    /// reals all reach the constraint as they are) checked by `check`.
    fn accepts(conn: &Connection, check: &str, value: &rusqlite::types::Value) -> bool {
        conn.execute_batch(&format!(
            "DROP TABLE IF EXISTS t; CREATE TABLE t (v CHECK ({check}))"
        ))
        .expect("the table");
        match conn.execute("INSERT INTO t (v) VALUES (?1)", [value]) {
            Ok(_) => true,
            Err(e) if e.sqlite_extended_error_code() == Some(ffi::SQLITE_CONSTRAINT_CHECK) => false,
            Err(e) => panic!("{check}: {e}"),
        }
    }

    proptest::proptest! {
        /// A rewritten constraint accepts exactly the values the list accepts: each
        /// listed value, nothing else but a null, whatever its type.
        #[test]
        fn a_spelled_out_list_accepts_what_the_list_accepts(
            listed in proptest::collection::vec("[a-c']{0,3}|[0-9]{1,2}", 3..6),
            others in proptest::collection::vec("[a-dA-C' ]{0,3}|-?[0-9]{1,2}(\\.[05])?", 0..6),
        ) {
            let literal = |v: &String| if !v.is_empty() && v.bytes().all(|c| c.is_ascii_digit()) {
                v.clone()
            } else {
                format!("'{}'", v.replace('\'', "''"))
            };
            let list: Vec<String> = listed.iter().map(literal).collect();
            let check = format!("v IN ({})", list.join(", "));
            let table = format!("CREATE TABLE t (v CHECK ({check}))");
            let spelled = spell_out_lists(&table).expect("a list of three or more");
            let rewritten = check_expressions(&spelled)[0].to_owned();
            proptest::prop_assert!(!rewritten.contains(" IN "), "{rewritten}");
            let conn = Connection::open_in_memory().expect("a database");
            use rusqlite::types::Value;
            let mut values = vec![Value::Null];
            for v in listed.iter().chain(&others) {
                values.push(Value::Text(v.clone()));
                if let Ok(n) = v.parse::<i64>() {
                    values.push(Value::Integer(n));
                }
                if let Ok(x) = v.parse::<f64>() {
                    values.push(Value::Real(x));
                }
            }
            for value in &values {
                proptest::prop_assert_eq!(
                    accepts(&conn, &check, value),
                    accepts(&conn, &rewritten, value),
                    "{:?} against {} and {}", value, check, rewritten
                );
            }
        }
    }
}
