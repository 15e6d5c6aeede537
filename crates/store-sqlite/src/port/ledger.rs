//! Costs and the customer search index.

use rusqlite::{Connection, Row, params};
use solocrm_core::search::{INDEXED_FROM, SearchFields, SearchMatch};
use solocrm_core::{
    Cost, CostCategory, CostId, CostVoid, Currency, CustomerId, FreeText, Label, NewCost,
    SearchText, Tag,
};

use crate::codec::{Cols, key, minor, opt_ts, ts};
use crate::error::Res;
use crate::rows::{corrupt, execute, query_all, query_one};

const COST_COLUMNS: &str =
    "id, at, at_ns, amount, category, channel, note, voided_at, voided_at_ns, void_reason";

pub(crate) fn cost(conn: &Connection, id: CostId, base: Currency) -> Res<Option<Cost>> {
    query_one(
        conn,
        &format!("SELECT {COST_COLUMNS} FROM costs WHERE id = ?1"),
        [key(id.get())],
        |row| cost_row(row, base),
    )
}

pub(crate) fn costs(conn: &Connection, base: Currency) -> Res<Vec<Cost>> {
    query_all(
        conn,
        &format!("SELECT {COST_COLUMNS} FROM costs ORDER BY at, at_ns, id"),
        [],
        |row| cost_row(row, base),
    )
}

const INSERT_COST: &str = "INSERT INTO costs (id, at, at_ns, amount, category, channel, note, \
     voided_at, voided_at_ns, void_reason) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)";
const UPDATE_COST: &str = "UPDATE costs SET at = ?2, at_ns = ?3, amount = ?4, category = ?5, \
     channel = ?6, note = ?7, voided_at = ?8, voided_at_ns = ?9, void_reason = ?10 WHERE id = ?1";

fn write_cost(conn: &Connection, sql: &str, c: &Cost) -> Res<usize> {
    let (at, at_ns) = ts(c.at());
    let (voided_at, voided_at_ns) = opt_ts(c.voided().map(|v| v.at));
    execute(
        conn,
        sql,
        params![
            key(c.id().get()),
            at,
            at_ns,
            minor(c.amount())?,
            c.category().as_str(),
            c.channel().map(Tag::as_str),
            c.note().map(FreeText::as_str),
            voided_at,
            voided_at_ns,
            c.voided().map(|v| v.reason.as_str()),
        ],
    )
}

pub(crate) fn insert_cost(conn: &Connection, c: &Cost) -> Res<()> {
    write_cost(conn, INSERT_COST, c).map(drop)
}

pub(crate) fn update_cost(conn: &Connection, c: &Cost) -> Res<()> {
    match write_cost(conn, UPDATE_COST, c)? {
        1 => Ok(()),
        _ => Err(corrupt(format!("cost {} to update is not stored", c.id()))),
    }
}

fn cost_row(row: &Row<'_>, base: Currency) -> Res<Cost> {
    let c = Cols::new(row, "costs");
    let amount = c.money(3, base)?;
    if amount.is_negative() || amount.is_zero() {
        return Err(corrupt(format!("costs.amount: {amount} is not positive")));
    }
    let voided = match c.opt_time(7)? {
        Some(at) => Some(CostVoid {
            at,
            reason: c.parse(9, Label::parse)?,
        }),
        None => None,
    };
    Ok(Cost::new(
        c.id(0, CostId::new)?,
        NewCost {
            at: c.time(1)?,
            amount,
            category: c.parse(4, CostCategory::parse)?,
            channel: c.opt_parse(5, Tag::parse)?,
            note: c.opt_parse(6, FreeText::parse)?,
        },
        voided,
    ))
}

/// The FTS5 query for `text`: one phrase, its quotes doubled, which the trigram
/// tokenizer answers as a substring (case-insensitively).
fn phrase(text: &str) -> String {
    format!("\"{}\"", text.replace('"', "\"\""))
}

/// `%text%` for `LIKE … ESCAPE '\'`.
fn like_pattern(text: &str) -> String {
    let mut p = String::from("%");
    for ch in text.chars() {
        if matches!(ch, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(ch);
    }
    p.push('%');
    p
}

/// True if SQLite's `LIKE` (case-insensitive for ASCII only) finds exactly what the
/// search's folding finds for this text: every character is ASCII or has no case.
fn like_is_exact(text: &str) -> bool {
    text.chars().all(|ch| {
        ch.is_ascii() || {
            let mut lower = ch.to_lowercase();
            let mut upper = ch.to_uppercase();
            lower.next() == Some(ch)
                && lower.next().is_none()
                && upper.next() == Some(ch)
                && upper.next().is_none()
        }
    })
}

const SEARCH_INDEX: &str =
    "SELECT rowid FROM customer_search WHERE customer_search MATCH ?1 ORDER BY rowid";
const SEARCH_LIKE: &str = "SELECT id FROM customers WHERE erased_at IS NULL AND (\
     name LIKE ?1 ESCAPE '\\' OR email LIKE ?1 ESCAPE '\\' OR company LIKE ?1 ESCAPE '\\' \
     OR json_extract(profile, '$.city') LIKE ?1 ESCAPE '\\' OR notes LIKE ?1 ESCAPE '\\') \
     ORDER BY id";
const SEARCH_ALL: &str = "SELECT id FROM customers WHERE erased_at IS NULL ORDER BY id";

/// The candidates for a search (see
/// [`ReadTx::search_customers`](solocrm_core::port::ReadTx::search_customers)): the
/// trigram index for a text of three characters or more; below that a `LIKE` scan of
/// the customers, or, for a short text with a cased letter beyond ASCII (which `LIKE`
/// would compare case-sensitively), every customer who is not erased, for the
/// operations layer to check.
pub(crate) fn search(conn: &Connection, text: &SearchText) -> Res<Vec<CustomerId>> {
    let id = |row: &Row<'_>| Cols::new(row, "customer_search").id(0, CustomerId::new);
    if text.len_chars() >= INDEXED_FROM {
        query_all(conn, SEARCH_INDEX, [phrase(text.as_str())], id)
    } else if like_is_exact(text.as_str()) {
        query_all(conn, SEARCH_LIKE, [like_pattern(text.as_str())], id)
    } else {
        query_all(conn, SEARCH_ALL, [], id)
    }
}

const FIELDS_INDEX: &str = "SELECT rowid, name, email, company, city, notes FROM customer_search \
     WHERE customer_search MATCH ?1 ORDER BY rowid";
const FIELDS_LIKE: &str = "SELECT rowid, name, email, company, city, notes FROM customer_search \
     WHERE name LIKE ?1 ESCAPE '\\' OR email LIKE ?1 ESCAPE '\\' OR company LIKE ?1 ESCAPE '\\' \
     OR city LIKE ?1 ESCAPE '\\' OR notes LIKE ?1 ESCAPE '\\' ORDER BY rowid";
/// Every row of the index's text, from its content table (see [`MATCHES_LIKE`]).
const FIELDS_ALL: &str = "SELECT id, c0, c1, c2, c3, c4 FROM customer_search_content ORDER BY id";

/// The searchable text of the candidates for a search (see
/// [`ReadTx::search_fields`](solocrm_core::port::ReadTx::search_fields)), read from
/// the search index's own copy of the text (`customer_search`, which holds exactly
/// the customers who are not erased): through the trigram index for a text of three
/// characters or more; below that a `LIKE` scan of that copy (narrower rows than
/// `customers`, and no JSON to open for the city), or, for a short text with a cased
/// letter beyond ASCII, every row of it, for the operations layer to check.
pub(crate) fn search_fields(conn: &Connection, text: &SearchText) -> Res<Vec<SearchFields>> {
    let row = fields_row;
    if text.len_chars() >= INDEXED_FROM {
        query_all(conn, FIELDS_INDEX, [phrase(text.as_str())], row)
    } else if like_is_exact(text.as_str()) {
        query_all(conn, FIELDS_LIKE, [like_pattern(text.as_str())], row)
    } else {
        query_all(conn, FIELDS_ALL, [], row)
    }
}

/// One row of the index's text: id, name, email, company, city, notes.
fn fields_row(row: &Row<'_>) -> Res<SearchFields> {
    let c = Cols::new(row, "customer_search");
    let owned = |s: Option<&str>| s.map(str::to_owned);
    Ok(SearchFields {
        id: c.id(0, CustomerId::new)?,
        name: c.str(1)?.to_owned(),
        email: owned(c.opt_str(2)?),
        company: owned(c.opt_str(3)?),
        city: owned(c.opt_str(4)?),
        notes: c.opt_str(5)?.unwrap_or_default().to_owned(),
    })
}

/// The searchable text of every customer who is not erased, by id (see
/// [`ReadTx::all_search_fields`](solocrm_core::port::ReadTx::all_search_fields)):
/// the rows of the search index's content table, which holds exactly those customers.
pub(crate) fn all_search_fields(conn: &Connection) -> Res<Vec<SearchFields>> {
    query_all(conn, FIELDS_ALL, [], fields_row)
}

/// The hits of a short text whose `LIKE` is exact: id and name. The `LIKE` scan reads
/// FTS5's own copy of the text, its content table (`customer_search_content`: `id` and
/// the columns `c0`…`c4` = name, email, company, city, notes, as the `check` rules read
/// it) as a plain table: the virtual table's full scan costs about twice the CPU for
/// the same rows.
const MATCHES_LIKE: &str = "SELECT id, c0 FROM customer_search_content \
     WHERE c0 LIKE ?1 ESCAPE '\\' OR c1 LIKE ?1 ESCAPE '\\' OR c2 LIKE ?1 ESCAPE '\\' \
     OR c3 LIKE ?1 ESCAPE '\\' OR c4 LIKE ?1 ESCAPE '\\' ORDER BY id";

/// The customers who match a search, with their names (see
/// [`ReadTx::search_matches`](solocrm_core::port::ReadTx::search_matches)). A text
/// shorter than the trigram index can look up, whose characters are ASCII or have no
/// case, is checked by the `LIKE` scan itself: `LIKE` then finds a field exactly when
/// the search's folding does (ASCII letters in any case, every other character as
/// it is), so each row it gives is a hit and only the id and name are read. Any other
/// text reads the candidates' text ([`search_fields`]) and checks it here.
pub(crate) fn search_matches(conn: &Connection, text: &SearchText) -> Res<Vec<SearchMatch>> {
    if text.len_chars() < INDEXED_FROM && like_is_exact(text.as_str()) {
        return query_all(conn, MATCHES_LIKE, [like_pattern(text.as_str())], |row| {
            let c = Cols::new(row, "customer_search");
            Ok(SearchMatch {
                id: c.id(0, CustomerId::new)?,
                name: c.str(1)?.to_owned(),
            })
        });
    }
    Ok(search_fields(conn, text)?
        .into_iter()
        .filter(|f| text.hit_fields(f).is_some())
        .map(|f| SearchMatch {
            id: f.id,
            name: f.name,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_escape_their_wildcards() {
        assert_eq!(like_pattern("5%_a\\"), "%5\\%\\_a\\\\%");
        assert_eq!(phrase("say \"hi\""), "\"say \"\"hi\"\"\"");
    }

    #[test]
    fn like_is_exact_for_ascii_and_caseless_scripts_only() {
        assert!(like_is_exact("ab"));
        assert!(like_is_exact("张伟"));
        assert!(!like_is_exact("Äb"));
        assert!(!like_is_exact("ω"));
    }
}
