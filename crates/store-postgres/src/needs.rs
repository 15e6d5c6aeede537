//! Needs and pain points (migration 0012's `needs`), each statement binding the tenant
//! as `$1`. [`crate::tx`] forwards the port's methods here.

use solocrm_core::need::{Need, NeedKind};
use solocrm_core::{CustomerId, DealId, FreeText, NeedId, Tag};

use crate::codec::{Cols, key, opt_ts, ts};
use crate::error::{Res, corrupt};
use crate::pool::Conn;

/// The columns of a need, in [`need_row`]'s order (a macro, so the statements stay
/// `'static` text).
macro_rules! columns {
    () => {
        "id, customer_id, deal_id, kind, key, note, at, at_ns, \
         resolved_at, resolved_ns, voided_at, voided_ns"
    };
}

fn need_row(row: &postgres::Row) -> Res<Need> {
    let c = Cols::new(row, "needs");
    Ok(Need {
        id: c.id(0, NeedId::new)?,
        customer: c.id(1, CustomerId::new)?,
        deal: c.opt_id(2, DealId::new)?,
        kind: c.parse(3, NeedKind::parse)?,
        key: c.parse(4, Tag::parse)?,
        note: c.opt_parse(5, FreeText::parse)?,
        at: c.time(6)?,
        resolved_at: c.opt_time(8)?,
        voided_at: c.opt_time(10)?,
    })
}

/// The tenant's needs, of one customer or all, by id.
pub(crate) fn needs(c: &mut Conn, t: i64, customer: Option<CustomerId>) -> Res<Vec<Need>> {
    let rows = match customer {
        None => c.query(
            concat!(
                "SELECT ",
                columns!(),
                " FROM needs WHERE tenant_id = $1 ORDER BY id"
            ),
            &[&t],
        )?,
        Some(id) => c.query(
            concat!(
                "SELECT ",
                columns!(),
                " FROM needs WHERE tenant_id = $1 AND customer_id = $2 ORDER BY id"
            ),
            &[&t, &key(id.get())],
        )?,
    };
    rows.iter().map(need_row).collect()
}

/// One need of the tenant.
pub(crate) fn need(c: &mut Conn, t: i64, id: NeedId) -> Res<Option<Need>> {
    c.query(
        concat!(
            "SELECT ",
            columns!(),
            " FROM needs WHERE tenant_id = $1 AND id = $2"
        ),
        &[&t, &key(id.get())],
    )?
    .first()
    .map(need_row)
    .transpose()
}

/// Stores a new need.
pub(crate) fn insert_need(c: &mut Conn, t: i64, n: &Need) -> Res<()> {
    let (at, ns) = ts(n.at);
    let (r, rns) = opt_ts(n.resolved_at);
    let (v, vns) = opt_ts(n.voided_at);
    c.execute(
        concat!(
            "INSERT INTO needs (tenant_id, ",
            columns!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
        ),
        &[
            &t,
            &key(n.id.get()),
            &key(n.customer.get()),
            &n.deal.map(|d| key(d.get())),
            &n.kind.as_str(),
            &n.key.as_str(),
            &n.note.as_ref().map(|x| x.as_str()),
            &at,
            &ns,
            &r,
            &rns,
            &v,
            &vns,
        ],
    )?;
    Ok(())
}

/// Replaces the note, resolution and void of the need with `n`'s id.
pub(crate) fn update_need(c: &mut Conn, t: i64, n: &Need) -> Res<()> {
    let (r, rns) = opt_ts(n.resolved_at);
    let (v, vns) = opt_ts(n.voided_at);
    let changed = c.execute(
        "UPDATE needs SET note = $3, resolved_at = $4, resolved_ns = $5, voided_at = $6, \
         voided_ns = $7 WHERE tenant_id = $1 AND id = $2",
        &[
            &t,
            &key(n.id.get()),
            &n.note.as_ref().map(|x| x.as_str()),
            &r,
            &rns,
            &v,
            &vns,
        ],
    )?;
    if changed == 0 {
        return Err(corrupt(format!("no need {} to update", n.id)));
    }
    Ok(())
}
