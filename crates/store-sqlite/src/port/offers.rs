//! Offers and their redemptions. The limit check and the insert of a redemption are
//! one conditional `INSERT … SELECT … WHERE count < limit` statement, inside the write
//! transaction that already holds SQLite's write lock (`BEGIN IMMEDIATE`).

use rusqlite::{Connection, params};
use solocrm_core::offer::{Benefit, Offer, OfferCode, RedeemOutcome, Redemption};
use solocrm_core::text::Label;
use solocrm_core::{Currency, Money, Predicate};

use crate::codec::{Cols, date, key, minor, opt_ts, ts};
use crate::error::Res;
use crate::rows::{corrupt, execute, query_all, query_one};

const OFFER_COLS: &str = "code, kind, percent, amount, gift, valid_from, valid_until, \
     per_customer, total_limit, audience, created_at, created_at_ns, ended_at, ended_at_ns";

fn offer_row(row: &rusqlite::Row<'_>, base: Currency) -> Res<Offer> {
    let c = Cols::new(row, "offers");
    let benefit = match c.str(1)? {
        "percent" => Benefit::Percent(c.parse(2, solocrm_core::money::parse_plain_decimal)?),
        "amount" => Benefit::Amount(Money::from_minor(c.i64(3)?, base)),
        "gift" => Benefit::Gift(c.parse(4, Label::parse)?),
        other => return Err(corrupt(format!("offers: unknown kind {other:?}"))),
    };
    Ok(Offer {
        code: c.parse(0, OfferCode::parse)?,
        benefit,
        valid_from: c.date(5)?,
        valid_until: c.date(6)?,
        per_customer: c.opt_int(7)?,
        total: c.opt_int(8)?,
        audience: c.opt_parse(9, |s| serde_json::from_str::<Predicate>(s))?,
        created_at: c.time(10)?,
        ended_at: c.opt_time(12)?,
    })
}

pub(crate) fn offer(conn: &Connection, code: &OfferCode, base: Currency) -> Res<Option<Offer>> {
    query_one(
        conn,
        &format!("SELECT {OFFER_COLS} FROM offers WHERE code = ?1"),
        [code.as_str()],
        |r| offer_row(r, base),
    )
}

pub(crate) fn offers(conn: &Connection, base: Currency) -> Res<Vec<Offer>> {
    query_all(
        conn,
        &format!("SELECT {OFFER_COLS} FROM offers ORDER BY code"),
        [],
        |r| offer_row(r, base),
    )
}

pub(crate) fn put_offer(conn: &Connection, o: &Offer) -> Res<()> {
    let (percent, amount, gift) = match &o.benefit {
        Benefit::Percent(p) => (Some(p.to_string()), None, None),
        Benefit::Amount(m) => (None, Some(minor(*m)?), None),
        Benefit::Gift(g) => (None, None, Some(g.as_str())),
    };
    let audience = o
        .audience
        .as_ref()
        .map(serde_json::to_string)
        .transpose()
        .map_err(|e| corrupt(format!("offers.audience: {e}")))?;
    let (at, at_ns) = ts(o.created_at);
    let (end, end_ns) = opt_ts(o.ended_at);
    execute(
        conn,
        &format!(
            "INSERT INTO offers ({OFFER_COLS}) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14) \
             ON CONFLICT (code) DO UPDATE SET kind = excluded.kind, \
             percent = excluded.percent, amount = excluded.amount, gift = excluded.gift, \
             valid_from = excluded.valid_from, valid_until = excluded.valid_until, \
             per_customer = excluded.per_customer, total_limit = excluded.total_limit, \
             audience = excluded.audience, created_at = excluded.created_at, \
             created_at_ns = excluded.created_at_ns, ended_at = excluded.ended_at, \
             ended_at_ns = excluded.ended_at_ns"
        ),
        params![
            o.code.as_str(),
            o.benefit.kind(),
            percent,
            amount,
            gift,
            date(o.valid_from),
            date(o.valid_until),
            o.per_customer,
            o.total,
            audience,
            at,
            at_ns,
            end,
            end_ns
        ],
    )?;
    Ok(())
}

pub(crate) fn redemptions(
    conn: &Connection,
    code: Option<&OfferCode>,
    base: Currency,
) -> Res<Vec<Redemption>> {
    query_all(
        conn,
        "SELECT purchase_id, code, customer_id, at, at_ns, discount FROM offer_redemptions \
         WHERE ?1 IS NULL OR code = ?1 ORDER BY purchase_id",
        [code.map(OfferCode::as_str)],
        |row| {
            let c = Cols::new(row, "offer_redemptions");
            Ok(Redemption {
                purchase: c.id(0, solocrm_core::PurchaseId::new)?,
                code: c.parse(1, OfferCode::parse)?,
                customer: c.id(2, solocrm_core::CustomerId::new)?,
                at: c.time(3)?,
                discount: c.money(5, base)?,
            })
        },
    )
}

pub(crate) fn redeem(
    conn: &Connection,
    r: &Redemption,
    per_customer: Option<u32>,
    total: Option<u32>,
) -> Res<RedeemOutcome> {
    let (at, at_ns) = ts(r.at);
    let customer = key(r.customer.get());
    let inserted = execute(
        conn,
        "INSERT INTO offer_redemptions (purchase_id, code, customer_id, at, at_ns, discount) \
         SELECT ?1, ?2, ?3, ?4, ?5, ?6 \
         WHERE (?7 IS NULL OR (SELECT count(*) FROM offer_redemptions WHERE code = ?2) < ?7) \
         AND (?8 IS NULL OR (SELECT count(*) FROM offer_redemptions \
                             WHERE code = ?2 AND customer_id = ?3) < ?8)",
        params![
            key(r.purchase.get()),
            r.code.as_str(),
            customer,
            at,
            at_ns,
            minor(r.discount)?,
            total,
            per_customer
        ],
    )?;
    if inserted == 1 {
        return Ok(RedeemOutcome::Redeemed);
    }
    // Nothing inserted: say which limit held it back (same transaction, same counts).
    let all: i64 = conn.query_row(
        "SELECT count(*) FROM offer_redemptions WHERE code = ?1",
        [r.code.as_str()],
        |row| row.get(0),
    )?;
    if total.is_some_and(|t| all >= i64::from(t)) {
        Ok(RedeemOutcome::TotalUsedUp)
    } else {
        Ok(RedeemOutcome::CustomerUsedUp)
    }
}
