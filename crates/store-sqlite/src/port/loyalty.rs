//! The points ledger.

use chrono::NaiveDate;
use rusqlite::{Connection, Row, params};
use solocrm_core::{
    BusinessZone, CustomerId, Label, NewPointsEntry, PointsEntry, PointsEntryId, PointsExpiry,
    PointsKind, PointsLot, PointsTier, Tag,
};

use crate::codec::{Cols, date, key, ts};
use crate::error::Res;
use crate::rows::{Exec, corrupt, execute, query_all, query_one};

const INSERT_POINTS: &str = "INSERT INTO points_entries (id, customer_id, at, at_ns, kind, \
     delta, reason, balance_after) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";
const UPDATE_POINTS: &str = "UPDATE points_entries SET customer_id = ?2, at = ?3, at_ns = ?4, \
     kind = ?5, delta = ?6, reason = ?7, balance_after = ?8 WHERE id = ?1";

fn write_points(db: &mut impl Exec, sql: &'static str, e: &PointsEntry) -> Res<()> {
    let (at, at_ns) = ts(e.at());
    db.exec(
        sql,
        params![
            key(e.id().get()),
            key(e.customer().get()),
            at,
            at_ns,
            e.kind().as_str(),
            e.delta(),
            e.reason().map(Label::as_str),
            e.balance_after()
        ],
    )?;
    Ok(())
}

pub(crate) fn insert_points(db: &mut impl Exec, e: &PointsEntry) -> Res<()> {
    write_points(db, INSERT_POINTS, e)
}

pub(crate) fn update_points(mut conn: &Connection, e: &PointsEntry) -> Res<()> {
    write_points(&mut conn, UPDATE_POINTS, e)
}

pub(crate) const POINTS_BALANCE: &str =
    "SELECT balance_after FROM points_entries WHERE customer_id = ?1 ORDER BY id DESC LIMIT 1";

pub(crate) const POINTS_LEDGER: &str = concat!(
    "SELECT ",
    points_cols!(),
    " FROM points_entries e WHERE e.customer_id = ?1 ORDER BY e.id"
);

pub(crate) fn points_row(row: &Row<'_>) -> Res<PointsEntry> {
    let c = Cols::new(row, "points_entries");
    let kind = c.parse(4, PointsKind::parse)?;
    let delta = c.i64(5)?;
    let points = match kind {
        PointsKind::Earn | PointsKind::Adjust => delta,
        PointsKind::Redeem | PointsKind::Expire => delta.saturating_neg(),
    };
    let mut entry = NewPointsEntry::new(c.id(1, CustomerId::new)?, c.time(2)?, kind, points)
        .map_err(|e| corrupt(format!("points_entries: {e}")))?;
    if entry.delta != delta {
        return Err(corrupt(format!("points_entries: delta {delta} for {kind}")));
    }
    if let Some(reason) = c.opt_parse(6, Label::parse)? {
        entry = entry.with_reason(reason);
    }
    let balance_after = c.i64(7)?;
    if balance_after < 0 {
        return Err(corrupt(format!(
            "points_entries: negative balance {balance_after}"
        )));
    }
    Ok(PointsEntry::new(
        c.id(0, PointsEntryId::new)?,
        entry,
        balance_after,
    ))
}

pub(crate) fn points_balance(conn: &Connection, customer: CustomerId) -> Res<i64> {
    let b = query_one(conn, POINTS_BALANCE, [key(customer.get())], |row| {
        Cols::new(row, "points_entries").i64(0)
    })?;
    Ok(b.unwrap_or(0))
}

pub(crate) fn points_ledger(conn: &Connection, customer: CustomerId) -> Res<Vec<PointsEntry>> {
    query_all(conn, POINTS_LEDGER, [key(customer.get())], points_row)
}

pub(crate) fn points_tiers(conn: &Connection) -> Res<Vec<PointsTier>> {
    query_all(
        conn,
        "SELECT name, min_points FROM points_tiers ORDER BY min_points, name",
        [],
        |row| {
            let c = Cols::new(row, "points_tiers");
            let min_points = c.i64(1)?;
            if min_points < 0 {
                return Err(corrupt(format!(
                    "points_tiers: negative threshold {min_points}"
                )));
            }
            Ok(PointsTier {
                name: c.parse(0, Tag::parse)?,
                min_points,
            })
        },
    )
}

pub(crate) fn put_points_tier(conn: &Connection, tier: &PointsTier) -> Res<()> {
    execute(
        conn,
        "INSERT INTO points_tiers (name, min_points) VALUES (?1, ?2) \
         ON CONFLICT (name) DO UPDATE SET min_points = excluded.min_points",
        params![tier.name.as_str(), tier.min_points],
    )?;
    Ok(())
}

pub(crate) fn delete_points_tier(conn: &Connection, name: &Tag) -> Res<bool> {
    let n = execute(
        conn,
        "DELETE FROM points_tiers WHERE name = ?1",
        [name.as_str()],
    )?;
    Ok(n > 0)
}

/// The id of each customer's newest points entry: one pass over the
/// `points_entries_by_customer` index (a subquery per entry instead, `id = (SELECT
/// max(id) … WHERE customer_id = e.customer_id)`, took seven times as long at 340 k
/// entries).
macro_rules! newest_points_entries {
    () => {
        "SELECT max(l.id) FROM points_entries l GROUP BY l.customer_id"
    };
}

/// The customers whose newest ledger entry leaves a balance above zero, by id.
pub(crate) fn points_holders(conn: &Connection) -> Res<Vec<CustomerId>> {
    query_all(
        conn,
        concat!(
            "SELECT e.customer_id FROM points_entries e WHERE e.id IN (",
            newest_points_entries!(),
            ") AND e.balance_after > 0 ORDER BY e.customer_id"
        ),
        [],
        |row| Cols::new(row, "points_entries").id(0, CustomerId::new),
    )
}

/// Every points holder with their whole ledger: the holders from [`points_holders`]
/// (one pass over the customer index), then one pass over the table in rowid (= id)
/// order that decodes only their entries. Looking the entries up through the customer
/// index instead (`customer_id IN (…) ORDER BY customer_id, id`) costs a table seek
/// per entry: 0.53 s user + 0.27 s system against 0.15 s for the whole scan in the
/// `sqlite3` shell, on 341 k entries of which 262 k are holders'.
pub(crate) fn points_holder_ledgers(conn: &Connection) -> Res<Vec<(CustomerId, Vec<PointsEntry>)>> {
    let holders = points_holders(conn)?;
    if holders.is_empty() {
        return Ok(Vec::new());
    }
    let mut ledgers: Vec<Vec<PointsEntry>> = vec![Vec::new(); holders.len()];
    let mut stmt = conn.prepare_cached(POINTS_IN_ID_ORDER)?;
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        let customer = Cols::new(row, "points_entries").id(1, CustomerId::new)?;
        if let Ok(at) = holders.binary_search(&customer)
            && let Some(ledger) = ledgers.get_mut(at)
        {
            ledger.push(points_row(row)?);
        }
    }
    Ok(holders.into_iter().zip(ledgers).collect())
}

/// Every entry in id order, read straight off the table (`NOT INDEXED` keeps the
/// planner off the customer index).
const POINTS_IN_ID_ORDER: &str = concat!(
    "SELECT ",
    points_cols!(),
    " FROM points_entries e NOT INDEXED ORDER BY e.id"
);

/// The points validity kept in `store_info`.
pub(crate) fn points_expiry(conn: &Connection) -> Res<Option<PointsExpiry>> {
    let found = query_one(
        conn,
        "SELECT points_valid_months, points_valid_from FROM store_info WHERE id = 1",
        [],
        |row| {
            let c = Cols::new(row, "store_info");
            let months = c.opt_int::<u32>(0)?;
            let from = c.opt_date(1)?;
            match (months, from) {
                (None, None) => Ok(None),
                (Some(m), Some(f)) => PointsExpiry::new(m, f)
                    .map(Some)
                    .map_err(|e| corrupt(format!("store_info: {e}"))),
                _ => Err(corrupt(
                    "store_info: points_valid_months and points_valid_from must be set together"
                        .to_owned(),
                )),
            }
        },
    )?;
    found.ok_or_else(|| corrupt("the database has no store_info row".to_owned()))
}

/// Sets the points validity in `store_info`.
pub(crate) fn set_points_expiry(conn: &Connection, expiry: Option<&PointsExpiry>) -> Res<()> {
    let n = execute(
        conn,
        "UPDATE store_info SET points_valid_months = ?1, points_valid_from = ?2 WHERE id = 1",
        params![
            expiry.map(|e| i64::from(e.months())),
            expiry.map(|e| date(e.from()))
        ],
    )?;
    if n == 1 {
        Ok(())
    } else {
        Err(corrupt("the database has no store_info row".to_owned()))
    }
}

// ----- the kept open lots (migration 21, ADR 0043) -----

/// The largest id of the customer's points entries; 0 for none.
pub(crate) fn last_points_id(conn: &Connection, customer: CustomerId) -> Res<u64> {
    let found: Option<i64> = conn
        .prepare_cached("SELECT max(id) FROM points_entries WHERE customer_id = ?1")?
        .query_row([key(customer.get())], |r| r.get(0))?;
    Ok(found.and_then(|n| u64::try_from(n).ok()).unwrap_or(0))
}

/// Applies one new ledger entry to the customer's kept open lots, as
/// [`open_lots`](solocrm_core::open_lots) replays it: a credit opens a lot on its
/// business day in `zone`; a debit takes from the lots in `(earned_day, entry_id)`
/// order, the oldest first, deleting the ones it empties. Only for an entry recorded
/// after every other entry of the customer (the caller rebuilds otherwise).
pub(crate) fn track_lot(conn: &Connection, e: &PointsEntry, zone: BusinessZone) -> Res<()> {
    let delta = e.delta();
    if delta > 0 {
        conn.prepare_cached(
            "INSERT INTO points_lots (customer_id, earned_day, entry_id, points) \
             VALUES (?1, ?2, ?3, ?4)",
        )?
        .execute(params![
            key(e.customer().get()),
            date(zone.date_of(e.at())),
            key(e.id().get()),
            delta
        ])?;
        return Ok(());
    }
    let mut owed = delta.saturating_neg();
    if owed == 0 {
        return Ok(());
    }
    let lots = query_all(
        conn,
        "SELECT earned_day, entry_id, points FROM points_lots WHERE customer_id = ?1 \
         ORDER BY earned_day, entry_id",
        [key(e.customer().get())],
        |row| {
            let c = Cols::new(row, "points_lots");
            Ok((c.date(0)?, c.i64(1)?, c.i64(2)?))
        },
    )?;
    for (day, entry, points) in lots {
        if owed == 0 {
            break;
        }
        let take = points.min(owed);
        owed -= take;
        if take == points {
            conn.prepare_cached(
                "DELETE FROM points_lots WHERE customer_id = ?1 AND earned_day = ?2 \
                 AND entry_id = ?3",
            )?
            .execute(params![key(e.customer().get()), date(day), entry])?;
        } else {
            conn.prepare_cached(
                "UPDATE points_lots SET points = ?4 WHERE customer_id = ?1 AND earned_day = ?2 \
                 AND entry_id = ?3",
            )?
            .execute(params![
                key(e.customer().get()),
                date(day),
                entry,
                points - take
            ])?;
        }
    }
    Ok(())
}

/// Stores `lots` (from [`open_lots`](solocrm_core::open_lots)) as the customer's
/// kept lots, whose rows the caller deleted.
fn store_lots(conn: &Connection, customer: CustomerId, lots: &[PointsLot]) -> Res<()> {
    let mut stmt = conn.prepare_cached(
        "INSERT INTO points_lots (customer_id, earned_day, entry_id, points) \
         VALUES (?1, ?2, ?3, ?4)",
    )?;
    for lot in lots {
        stmt.execute(params![
            key(customer.get()),
            date(lot.earned_on),
            key(lot.entry.get()),
            lot.points
        ])?;
    }
    Ok(())
}

/// Rebuilds one customer's kept lots from their ledger (an entry stored out of id
/// order).
pub(crate) fn rebuild_lots_of(
    conn: &Connection,
    customer: CustomerId,
    zone: BusinessZone,
) -> Res<()> {
    conn.prepare_cached("DELETE FROM points_lots WHERE customer_id = ?1")?
        .execute([key(customer.get())])?;
    let ledger = points_ledger(conn, customer)?;
    store_lots(
        conn,
        customer,
        &solocrm_core::open_lots(&ledger, zone, None),
    )
}

/// Rewrites a ledger entry ([`update_points`]) and, if its customer, instant or
/// amount changed (never by the operations: erasure rewrites only the reason),
/// rebuilds the kept lots of the customers concerned.
pub(crate) fn update_points_keeping_lots(
    conn: &Connection,
    e: &PointsEntry,
    zone: BusinessZone,
) -> Res<()> {
    let (at, at_ns) = ts(e.at());
    let now = (key(e.customer().get()), at, at_ns, e.delta());
    let before = query_one(
        conn,
        "SELECT customer_id, at, at_ns, delta FROM points_entries WHERE id = ?1",
        [key(e.id().get())],
        |row| {
            let c = Cols::new(row, "points_entries");
            Ok((c.i64(0)?, c.i64(1)?, c.i64(2)?, c.i64(3)?))
        },
    )?;
    update_points(conn, e)?;
    match before {
        Some(b) if b == now => Ok(()),
        Some((old, ..)) => {
            rebuild_lots_of(conn, e.customer(), zone)?;
            match u64::try_from(old) {
                Ok(old) if old != e.customer().get() => {
                    rebuild_lots_of(conn, CustomerId::new(old), zone)
                }
                _ => Ok(()),
            }
        }
        None => rebuild_lots_of(conn, e.customer(), zone),
    }
}

/// Rebuilds every customer's kept lots from the ledgers in `zone` (the migration
/// that adds them, and a change of the business time zone, which can move a lot to
/// another day): one pass over the table in id order.
pub(crate) fn rebuild_lots(conn: &Connection, zone: BusinessZone) -> Res<()> {
    conn.execute("DELETE FROM points_lots", [])?;
    let mut ledgers: std::collections::BTreeMap<CustomerId, Vec<PointsEntry>> =
        std::collections::BTreeMap::new();
    {
        let mut stmt = conn.prepare(POINTS_IN_ID_ORDER)?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            let e = points_row(row)?;
            ledgers.entry(e.customer()).or_default().push(e);
        }
    }
    for (customer, ledger) in ledgers {
        store_lots(
            conn,
            customer,
            &solocrm_core::open_lots(&ledger, zone, None),
        )?;
    }
    Ok(())
}

/// The kept open lots earned on or before `through`, of every customer who has some,
/// by customer id then `(earned_day, entry_id)`: a range of the by-day index (the
/// lots lapsing within a reminder's days of today are a few thousand of hundreds of
/// thousands), then sorted.
pub(crate) fn lots_earned_through(
    conn: &Connection,
    through: NaiveDate,
) -> Res<Vec<(CustomerId, Vec<PointsLot>)>> {
    let mut rows = query_all(
        conn,
        "SELECT customer_id, earned_day, entry_id, points FROM points_lots \
         INDEXED BY points_lots_by_day WHERE earned_day <= ?1",
        [date(through)],
        |row| {
            let c = Cols::new(row, "points_lots");
            let points = c.i64(3)?;
            if points <= 0 {
                return Err(corrupt(format!("points_lots: a lot of {points} points")));
            }
            Ok((
                c.id(0, CustomerId::new)?,
                PointsLot {
                    entry: c.id(2, PointsEntryId::new)?,
                    earned_on: c.date(1)?,
                    points,
                    lapses_on: None,
                },
            ))
        },
    )?;
    rows.sort_by_key(|(customer, lot)| (*customer, lot.earned_on, lot.entry));
    let mut out: Vec<(CustomerId, Vec<PointsLot>)> = Vec::new();
    for (customer, lot) in rows {
        match out.last_mut() {
            Some((c, lots)) if *c == customer => lots.push(lot),
            _ => out.push((customer, vec![lot])),
        }
    }
    Ok(out)
}
