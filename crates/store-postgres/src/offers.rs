//! Offers and their redemptions (migration 0010), each statement binding the tenant
//! as `$1`. A redemption locks its offer's row before counting its uses, so the limit
//! check and the insert cannot be come between by another writer.

use solocrm_core::offer::{Benefit, Offer, OfferCode, RedeemOutcome, Redemption};
use solocrm_core::text::Label;
use solocrm_core::{Currency, CustomerId, Money, Predicate, PurchaseId};

use crate::codec::{Cols, date, key, minor, opt_ts, ts};
use crate::error::{Res, corrupt};
use crate::pool::Conn;

macro_rules! offer_cols {
    () => {
        "code, kind, percent, amount, gift, valid_from, valid_until, per_customer, \
         total_limit, audience, created_at, created_at_ns, ended_at, ended_at_ns"
    };
}

fn offer_row(row: &postgres::Row, base: Currency) -> Res<Offer> {
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

/// The offer with `code`.
pub(crate) fn offer(c: &mut Conn, t: i64, code: &OfferCode, base: Currency) -> Res<Option<Offer>> {
    c.query_opt(
        concat!(
            "SELECT ",
            offer_cols!(),
            " FROM offers WHERE tenant_id = $1 AND code = $2"
        ),
        &[&t, &code.as_str()],
    )?
    .map(|r| offer_row(&r, base))
    .transpose()
}

/// Every offer, by code.
pub(crate) fn offers(c: &mut Conn, t: i64, base: Currency) -> Res<Vec<Offer>> {
    c.query(
        concat!(
            "SELECT ",
            offer_cols!(),
            " FROM offers WHERE tenant_id = $1 ORDER BY code"
        ),
        &[&t],
    )?
    .iter()
    .map(|r| offer_row(r, base))
    .collect()
}

/// Stores `o`, replacing the offer with its code.
pub(crate) fn put_offer(c: &mut Conn, t: i64, o: &Offer) -> Res<()> {
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
    c.execute(
        concat!(
            "INSERT INTO offers (tenant_id, ",
            offer_cols!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) \
             ON CONFLICT (tenant_id, code) DO UPDATE SET kind = excluded.kind, \
             percent = excluded.percent, amount = excluded.amount, gift = excluded.gift, \
             valid_from = excluded.valid_from, valid_until = excluded.valid_until, \
             per_customer = excluded.per_customer, total_limit = excluded.total_limit, \
             audience = excluded.audience, created_at = excluded.created_at, \
             created_at_ns = excluded.created_at_ns, ended_at = excluded.ended_at, \
             ended_at_ns = excluded.ended_at_ns"
        ),
        &[
            &t,
            &o.code.as_str(),
            &o.benefit.kind(),
            &percent,
            &amount,
            &gift,
            &date(o.valid_from),
            &date(o.valid_until),
            &o.per_customer.map(i64::from),
            &o.total.map(i64::from),
            &audience,
            &at,
            &at_ns,
            &end,
            &end_ns,
        ],
    )?;
    Ok(())
}

/// The redemptions of `code` (or of every offer), by purchase id.
pub(crate) fn redemptions(
    c: &mut Conn,
    t: i64,
    code: Option<&OfferCode>,
    base: Currency,
) -> Res<Vec<Redemption>> {
    c.query(
        "SELECT purchase_id, code, customer_id, at, at_ns, discount FROM offer_redemptions \
         WHERE tenant_id = $1 AND ($2::TEXT IS NULL OR code = $2) ORDER BY purchase_id",
        &[&t, &code.map(OfferCode::as_str)],
    )?
    .iter()
    .map(|row| {
        let c = Cols::new(row, "offer_redemptions");
        Ok(Redemption {
            purchase: c.id(0, PurchaseId::new)?,
            code: c.parse(1, OfferCode::parse)?,
            customer: c.id(2, CustomerId::new)?,
            at: c.time(3)?,
            discount: c.money(5, base)?,
        })
    })
    .collect()
}

/// Locks the offer's row, counts its uses and inserts `r` if both limits allow.
pub(crate) fn redeem(
    c: &mut Conn,
    t: i64,
    r: &Redemption,
    per_customer: Option<u32>,
    total: Option<u32>,
) -> Res<RedeemOutcome> {
    let locked = c.query_opt(
        "SELECT code FROM offers WHERE tenant_id = $1 AND code = $2 FOR UPDATE",
        &[&t, &r.code.as_str()],
    )?;
    if locked.is_none() {
        return Err(corrupt(format!("redemption of unknown offer {}", r.code)));
    }
    let customer = key(r.customer.get());
    let row = c
        .query_opt(
            "SELECT count(*), count(*) FILTER (WHERE customer_id = $3) FROM offer_redemptions \
             WHERE tenant_id = $1 AND code = $2",
            &[&t, &r.code.as_str(), &customer],
        )?
        .ok_or_else(|| corrupt("offer_redemptions: no count"))?;
    let all: i64 = row.try_get(0)?;
    let theirs: i64 = row.try_get(1)?;
    if total.is_some_and(|n| all >= i64::from(n)) {
        return Ok(RedeemOutcome::TotalUsedUp);
    }
    if per_customer.is_some_and(|n| theirs >= i64::from(n)) {
        return Ok(RedeemOutcome::CustomerUsedUp);
    }
    let (at, at_ns) = ts(r.at);
    c.execute(
        "INSERT INTO offer_redemptions (tenant_id, purchase_id, code, customer_id, at, at_ns, \
         discount) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        &[
            &t,
            &key(r.purchase.get()),
            &r.code.as_str(),
            &customer,
            &at,
            &at_ns,
            &minor(r.discount)?,
        ],
    )?;
    Ok(RedeemOutcome::Redeemed)
}
