//! Automation rules, their firings and the runner's cursor (migration 12's
//! `automation_rules`, `automation_firings` and `automation_cursor` tables).
//!
//! A rule is kept as its JSON (`body`, null for a built-in's switch); a firing's
//! (rule, customer, occurrence) is its primary key, so a second firing of one
//! occurrence cannot be stored.

use rusqlite::types::ValueRef;
use rusqlite::{Connection, OptionalExtension, params};
use solocrm_core::automation::{
    AutomationCursor, Firing, Occurrence, Priority, Rule, RuleName, RuleRecord,
};
use solocrm_core::port::{ContactTimes, CustomerDates};
use solocrm_core::{CustomerId, StoreError, TaskId};

use crate::codec::{Cols, date, key, ts};
use crate::error::{Fail, Res};
use crate::rows::{backend, corrupt, execute, query_all};

/// Every rule record, by name.
pub(crate) fn rules(conn: &Connection) -> Res<Vec<RuleRecord>> {
    query_all(
        conn,
        "SELECT name, enabled, body FROM automation_rules ORDER BY name",
        [],
        |row| {
            let c = Cols::new(row, "automation_rules");
            Ok(RuleRecord {
                name: c.parse(0, RuleName::parse)?,
                enabled: c.bool(1)?,
                rule: c.opt_parse(2, |s| serde_json::from_str::<Rule>(s))?,
            })
        },
    )
}

/// Stores `rule`, replacing the record with its name.
pub(crate) fn put_rule(conn: &Connection, rule: &RuleRecord) -> Res<()> {
    let body = rule
        .rule
        .as_ref()
        .map(serde_json::to_string)
        .transpose()
        .map_err(|e| Fail::Store(StoreError::backend(e)))?;
    execute(
        conn,
        "INSERT INTO automation_rules (name, enabled, body) VALUES (?1, ?2, ?3) \
         ON CONFLICT (name) DO UPDATE SET enabled = excluded.enabled, body = excluded.body",
        params![rule.name.as_str(), rule.enabled, body],
    )?;
    Ok(())
}

/// Deletes the rule record named `name`; false if there was none.
pub(crate) fn delete_rule(conn: &Connection, name: &RuleName) -> Res<bool> {
    Ok(execute(
        conn,
        "DELETE FROM automation_rules WHERE name = ?1",
        params![name.as_str()],
    )? > 0)
}

/// See [`customer_dates`]: from `customers_light`.
pub(crate) const CUSTOMER_DATES: &str = "SELECT id, created_at, created_at_ns, birthday \
     FROM customers WHERE erased_at IS NULL ORDER BY id";

/// The creation instant and birthday of every customer who is not erased, by id:
/// three columns of one scan of the narrow customer index.
pub(crate) fn customer_dates(conn: &Connection) -> Res<Vec<CustomerDates>> {
    query_all(conn, CUSTOMER_DATES, [], |row| {
        let c = Cols::new(row, "customers");
        Ok(CustomerDates {
            id: c.id(0, CustomerId::new)?,
            created_at: c.time(1)?,
            birthday: c.opt_date(3)?,
        })
    })
}

/// The contacts before `until`: purchases and interactions each from their covering
/// customer index (which holds the void mark), in customer order, no sort. The answer
/// is folded here rather than by `GROUP BY`, which costs more than the scan.
const PURCHASE_CONTACTS: &str = "SELECT customer_id, at FROM purchases \
     WHERE void_at IS NULL AND at < ?1 ORDER BY customer_id";
pub(crate) const INTERACTION_CONTACTS: &str = "SELECT customer_id, at FROM interactions \
     WHERE void_at IS NULL AND at < ?1 ORDER BY customer_id";

/// Each customer's interactions before an instant, from the covering customer index.
pub(crate) const LAST_INTERACTIONS: &str = "SELECT customer_id, at, at_ns FROM interactions \
     WHERE void_at IS NULL AND (at, at_ns) < (?1, ?2) ORDER BY customer_id";

/// The largest customer id [`last_interactions`] folds into a table by id (one slot
/// per id, 24 bytes each); past it, into a map.
const LAST_INTERACTIONS_TABLE_MAX: i64 = 1 << 24;

/// See [`solocrm_core::port::ReadTx::last_interactions`]: one pass over three integer
/// columns of the covering customer index, folded here into a slot per customer id
/// when the ids are dense (the largest at most four times the number of customers,
/// plus 1024, and at most [`LAST_INTERACTIONS_TABLE_MAX`]), else into a map; answered
/// by ascending id.
pub(crate) fn last_interactions(
    conn: &Connection,
    until: chrono::DateTime<chrono::Utc>,
) -> Res<Vec<(CustomerId, chrono::DateTime<chrono::Utc>)>> {
    let (s, ns) = ts(until);
    let (max, count): (i64, i64) = conn
        .prepare_cached("SELECT coalesce(max(id), 0), count(*) FROM customers")?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    // A table only for dense ids: a copied book may hold few customers under large
    // ids, and a slot per id up to the largest would then cost far more than a map.
    let dense = max <= count.saturating_mul(4).saturating_add(1024);
    let mut table: Vec<Option<(i64, i64)>> =
        if dense && (0..=LAST_INTERACTIONS_TABLE_MAX).contains(&max) {
            vec![None; usize::try_from(max).map_err(backend)?.saturating_add(1)]
        } else {
            Vec::new()
        };
    let mut latest: std::collections::BTreeMap<i64, (i64, i64)> = std::collections::BTreeMap::new();
    let mut stmt = conn.prepare_cached(LAST_INTERACTIONS)?;
    let mut rows = stmt.query(params![s, ns])?;
    while let Some(row) = rows.next()? {
        match (row.get_ref(0)?, row.get_ref(1)?, row.get_ref(2)?) {
            (ValueRef::Integer(c), ValueRef::Integer(at), ValueRef::Integer(at_ns)) => {
                let slot = usize::try_from(c).ok().and_then(|i| table.get_mut(i));
                let e = match slot {
                    Some(e) => e.get_or_insert((at, at_ns)),
                    // An id past the table (or a map for a sparse book).
                    None => latest.entry(c).or_insert((at, at_ns)),
                };
                *e = (*e).max((at, at_ns));
            }
            _ => return Err(corrupt("interactions: a non-integer column".to_owned())),
        }
    }
    // By ascending id: the map's negative ids (corrupt, refused below), the table's,
    // then the map's others (all past the table's when it has any).
    let rest = latest.split_off(&0);
    let from_table = table
        .into_iter()
        .enumerate()
        .filter_map(|(c, e)| Some((i64::try_from(c).ok()?, e?)));
    latest
        .into_iter()
        .chain(from_table)
        .chain(rest)
        .map(|(c, (at, at_ns))| {
            let id = u64::try_from(c)
                .map_err(|_| corrupt(format!("a customer id out of range: {c}")))?;
            let at = u32::try_from(at_ns)
                .ok()
                .and_then(|n| chrono::DateTime::from_timestamp(at, n))
                .ok_or_else(|| corrupt(format!("an instant out of range: {at}.{at_ns}")))?;
            Ok((CustomerId::new(id), at))
        })
        .collect()
}

/// Reads `(customer, second)` pairs with a statement.
type ReadContacts<'a> = dyn Fn(&str) -> Res<Vec<(i64, i64)>> + 'a;

/// Each customer's first and last purchase second, from the kept totals (ADR 0046).
const PURCHASE_TOTAL_SECONDS: &str =
    "SELECT customer_id, first_at, last_at FROM purchase_totals ORDER BY customer_id";
/// One customer's purchases before a second, from their index range.
const PURCHASE_CONTACTS_OF: &str = "SELECT customer_id, at FROM purchases \
     WHERE customer_id = ?1 AND void_at IS NULL AND at < ?2 ORDER BY at";

/// The purchase contacts [`contact_times`] folds, `(customer, second)` in customer
/// order: for a customer whose last purchase is before `from`, that one alone (the
/// earlier ones change nothing of the fold); for one whose first purchase is at or
/// after `until`, nothing; for the others, their purchases before `until` from their
/// index range. When those others are many (a `from` well in the past), or when the
/// totals are not `kept` up to date (a bulk write dropped their triggers), every
/// purchase from one walk (`read_all`).
fn purchase_contacts(
    conn: &Connection,
    from: i64,
    until: i64,
    kept: bool,
    read_all: &ReadContacts<'_>,
) -> Res<Vec<(i64, i64)>> {
    if !kept {
        return read_all(PURCHASE_CONTACTS);
    }
    let mut totals: Vec<(i64, i64, i64)> = Vec::new();
    let mut stmt = conn.prepare_cached(PURCHASE_TOTAL_SECONDS)?;
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        match (row.get_ref(0)?, row.get_ref(1)?, row.get_ref(2)?) {
            (ValueRef::Integer(c), ValueRef::Integer(first), ValueRef::Integer(last)) => {
                totals.push((c, first, last));
            }
            _ => return Err(corrupt("purchase_totals: a non-integer column".to_owned())),
        }
    }
    let straddling = |&&(_, first, last): &&(i64, i64, i64)| last >= from && first < until;
    if totals.iter().filter(straddling).count() > totals.len() / 16 {
        return read_all(PURCHASE_CONTACTS);
    }
    // A last purchase before `from` stands for the customer's contacts only when it
    // is also before `until` (with `until < from`, one in `[until, from)` is not).
    let from = from.min(until);
    let mut out = Vec::with_capacity(totals.len());
    let mut of = conn.prepare_cached(PURCHASE_CONTACTS_OF)?;
    for (c, first, last) in totals {
        if first >= until {
            continue;
        }
        if last < from {
            out.push((c, last));
            continue;
        }
        let mut rows = of.query(params![c, until])?;
        while let Some(row) = rows.next()? {
            match row.get_ref(1)? {
                ValueRef::Integer(at) => out.push((c, at)),
                _ => return Err(corrupt("purchases: a non-integer column".to_owned())),
            }
        }
    }
    Ok(out)
}

/// See [`solocrm_core::port::ReadTx::contact_times`]: instants in whole seconds, as
/// the `at` columns hold them. `kept`: whether `purchase_totals` is up to date (not
/// while a bulk write has dropped its triggers).
pub(crate) fn contact_times(
    conn: &Connection,
    from: i64,
    until: i64,
    kept: bool,
) -> Res<Vec<ContactTimes>> {
    let read = |sql: &str| -> Res<Vec<(i64, i64)>> {
        let mut out = Vec::new();
        let mut stmt = conn.prepare_cached(sql)?;
        let mut rows = stmt.query(params![until])?;
        while let Some(row) = rows.next()? {
            match (row.get_ref(0)?, row.get_ref(1)?) {
                (ValueRef::Integer(c), ValueRef::Integer(t)) => out.push((c, t)),
                _ => return Err(corrupt("contacts: a non-integer column".to_owned())),
            }
        }
        Ok(out)
    };
    // Both come in customer order.
    let purchases = purchase_contacts(conn, from, until, kept, &read)?;
    let interactions = read(INTERACTION_CONTACTS)?;
    let instant = |secs: i64| {
        chrono::DateTime::from_timestamp(secs, 0)
            .ok_or_else(|| corrupt(format!("an instant out of range: {secs}")))
    };
    let mut out: Vec<ContactTimes> = Vec::new();
    let mut last: Option<i64> = None;
    let (mut p, mut i) = (purchases.iter().peekable(), interactions.iter().peekable());
    // Merge the two lists by customer: each contact goes to the customer's entry.
    loop {
        let next = match (p.peek(), i.peek()) {
            (Some(a), Some(b)) if a.0 <= b.0 => p.next(),
            (Some(_), Some(_)) | (None, Some(_)) => i.next(),
            (Some(_), None) => p.next(),
            (None, None) => break,
        };
        let Some(&(customer, at)) = next else {
            break;
        };
        if last != Some(customer) {
            last = Some(customer);
            out.push(ContactTimes {
                customer: CustomerId::new(
                    u64::try_from(customer)
                        .map_err(|_| corrupt(format!("a customer id out of range: {customer}")))?,
                ),
                last_before: None,
                within: Vec::new(),
            });
        }
        let Some(entry) = out.last_mut() else {
            break;
        };
        let at = instant(at)?;
        if at.timestamp() < from {
            entry.last_before = entry.last_before.max(Some(at));
        } else {
            entry.within.push(at);
        }
    }
    for c in &mut out {
        c.within.sort_unstable();
    }
    Ok(out)
}

/// Whether the firing of `rule` for `customer` and `occurrence` is stored.
pub(crate) fn firing_exists(
    conn: &Connection,
    rule: &RuleName,
    customer: CustomerId,
    occurrence: &Occurrence,
) -> Res<bool> {
    Ok(conn
        .prepare_cached(
            "SELECT 1 FROM automation_firings \
             WHERE rule = ?1 AND customer_id = ?2 AND occurrence = ?3",
        )?
        .query_row(
            params![rule.as_str(), key(customer.get()), occurrence.key()],
            |_| Ok(()),
        )
        .optional()?
        .is_some())
}

/// Every firing, by day, rule, customer and occurrence.
pub(crate) fn firings(conn: &Connection) -> Res<Vec<Firing>> {
    query_all(
        conn,
        "SELECT rule, customer_id, occurrence, day, at, at_ns, task_id, priority \
         FROM automation_firings ORDER BY day, rule, customer_id, occurrence",
        [],
        |row| {
            let c = Cols::new(row, "automation_firings");
            Ok(Firing {
                rule: c.parse(0, RuleName::parse)?,
                customer: c.id(1, CustomerId::new)?,
                occurrence: c.parse(2, Occurrence::parse_key)?,
                day: c.date(3)?,
                at: c.time(4)?,
                task: c.opt_id(6, TaskId::new)?,
                priority: c.opt_parse(7, Priority::parse)?,
            })
        },
    )
}

/// Stores `firing`; a stored one with its key is a primary-key violation.
pub(crate) fn insert_firing(conn: &Connection, firing: &Firing) -> Res<()> {
    let (s, ns) = ts(firing.at);
    execute(
        conn,
        "INSERT INTO automation_firings \
         (rule, customer_id, occurrence, day, at, at_ns, task_id, priority) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            firing.rule.as_str(),
            key(firing.customer.get()),
            firing.occurrence.key(),
            date(firing.day),
            s,
            ns,
            firing.task.map(|t| key(t.get())),
            firing.priority.map(Priority::as_str),
        ],
    )?;
    Ok(())
}

/// Deletes every firing of `customer`.
pub(crate) fn delete_firings_of(conn: &Connection, customer: CustomerId) -> Res<u64> {
    let n = execute(
        conn,
        "DELETE FROM automation_firings WHERE customer_id = ?1",
        params![key(customer.get())],
    )?;
    Ok(n as u64)
}

/// The runner's cursor; the default before its first run.
pub(crate) fn cursor(conn: &Connection) -> Res<AutomationCursor> {
    let row = crate::rows::query_one(
        conn,
        "SELECT events, day FROM automation_cursor WHERE id = 1",
        [],
        |row| {
            let c = Cols::new(row, "automation_cursor");
            Ok(AutomationCursor {
                events: c.id(0, |s| s)?,
                day: c.opt_date(1)?,
            })
        },
    )?;
    Ok(row.unwrap_or_default())
}

/// Stores the runner's cursor.
pub(crate) fn set_cursor(conn: &Connection, cursor: &AutomationCursor) -> Res<()> {
    execute(
        conn,
        "INSERT INTO automation_cursor (id, events, day) VALUES (1, ?1, ?2) \
         ON CONFLICT (id) DO UPDATE SET events = excluded.events, day = excluded.day",
        params![key(cursor.events), cursor.day.map(date)],
    )?;
    Ok(())
}
