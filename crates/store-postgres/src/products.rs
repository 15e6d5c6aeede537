//! The product catalogue and purchase lines (migration 0011's `products` and
//! `purchase_lines`), each statement binding the tenant as `$1`. [`crate::tx`]
//! forwards the port's methods here.

use postgres::Row;
use solocrm_core::product::{Product, PurchaseLine, Sku};
use solocrm_core::{Currency, Label, PurchaseId};

use crate::codec::{Cols, key, minor};
use crate::error::{Res, corrupt};
use crate::pool::Conn;

fn product_row(row: &Row, base: Currency) -> Res<Product> {
    let c = Cols::new(row, "products");
    Ok(Product {
        sku: c.parse(0, Sku::parse)?,
        name: c.parse(1, Label::parse)?,
        category: c.opt_parse(2, Label::parse)?,
        price: c.money(3, base)?,
        cost: c.opt_money(4, base)?,
        archived: c.bool(5)?,
    })
}

fn line_row(row: &Row, base: Currency) -> Res<(PurchaseId, PurchaseLine)> {
    let c = Cols::new(row, "purchase_lines");
    Ok((
        c.id(0, PurchaseId::new)?,
        PurchaseLine {
            sku: c.parse(1, Sku::parse)?,
            quantity: c.int(2)?,
            unit_price: c.money(3, base)?,
            discount: c.opt_money(4, base)?,
        },
    ))
}

/// The tenant's products by SKU.
pub(crate) fn products(c: &mut Conn, t: i64, base: Currency) -> Res<Vec<Product>> {
    c.query(
        "SELECT sku, name, category, price, cost, archived FROM products WHERE tenant_id = $1 ORDER BY sku",
        &[&t],
    )?
    .iter()
    .map(|row| product_row(row, base))
    .collect()
}

/// The product with `sku`.
pub(crate) fn product(c: &mut Conn, t: i64, base: Currency, sku: &Sku) -> Res<Option<Product>> {
    c.query_opt(
        "SELECT sku, name, category, price, cost, archived FROM products WHERE tenant_id = $1 AND sku = $2",
        &[&t, &sku.as_str()],
    )?
    .map(|row| product_row(&row, base))
    .transpose()
}

/// True if a line names `sku`.
pub(crate) fn product_has_lines(c: &mut Conn, t: i64, sku: &Sku) -> Res<bool> {
    Ok(c.query_opt(
        "SELECT 1 FROM purchase_lines WHERE tenant_id = $1 AND sku = $2 LIMIT 1",
        &[&t, &sku.as_str()],
    )?
    .is_some())
}

/// Stores `p`, replacing the product with its SKU.
pub(crate) fn put_product(c: &mut Conn, t: i64, p: &Product) -> Res<()> {
    c.execute(
        "INSERT INTO products (tenant_id, sku, name, category, price, cost, archived) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) \
         ON CONFLICT (tenant_id, sku) DO UPDATE SET name = excluded.name, \
         category = excluded.category, price = excluded.price, cost = excluded.cost, \
         archived = excluded.archived",
        &[
            &t,
            &p.sku.as_str(),
            &p.name.as_str(),
            &p.category.as_ref().map(Label::as_str),
            &minor(p.price)?,
            &p.cost.map(minor).transpose()?,
            &p.archived,
        ],
    )?;
    Ok(())
}

/// Deletes the product with `sku`; false if there was none.
pub(crate) fn delete_product(c: &mut Conn, t: i64, sku: &Sku) -> Res<bool> {
    Ok(c.execute(
        "DELETE FROM products WHERE tenant_id = $1 AND sku = $2",
        &[&t, &sku.as_str()],
    )? > 0)
}

/// The lines of one purchase, in order.
pub(crate) fn purchase_lines(
    c: &mut Conn,
    t: i64,
    base: Currency,
    purchase: PurchaseId,
) -> Res<Vec<PurchaseLine>> {
    c.query(
        "SELECT purchase_id, sku, quantity, unit_price, discount FROM purchase_lines WHERE tenant_id = $1 \
         AND purchase_id = $2 ORDER BY position",
        &[&t, &key(purchase.get())],
    )?
    .iter()
    .map(|row| line_row(row, base).map(|(_, l)| l))
    .collect()
}

/// Every line of the tenant, by purchase and position.
pub(crate) fn all_purchase_lines(
    c: &mut Conn,
    t: i64,
    base: Currency,
) -> Res<Vec<(PurchaseId, PurchaseLine)>> {
    c.query(
        "SELECT purchase_id, sku, quantity, unit_price, discount FROM purchase_lines WHERE tenant_id = $1 \
         ORDER BY purchase_id, position",
        &[&t],
    )?
    .iter()
    .map(|row| line_row(row, base))
    .collect()
}

/// Stores the lines of a purchase that has none.
pub(crate) fn insert_purchase_lines(
    c: &mut Conn,
    t: i64,
    purchase: PurchaseId,
    lines: &[PurchaseLine],
) -> Res<()> {
    let id = key(purchase.get());
    if c.query_opt(
        "SELECT 1 FROM purchase_lines WHERE tenant_id = $1 AND purchase_id = $2 LIMIT 1",
        &[&t, &id],
    )?
    .is_some()
    {
        return Err(corrupt(format!("purchase {purchase} has lines already")));
    }
    for (i, l) in lines.iter().enumerate() {
        c.execute(
            "INSERT INTO purchase_lines (tenant_id, purchase_id, position, sku, quantity, \
             unit_price, discount) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            &[
                &t,
                &id,
                &i64::try_from(i).unwrap_or(i64::MAX),
                &l.sku.as_str(),
                &i64::from(l.quantity),
                &minor(l.unit_price)?,
                &l.discount.map(minor).transpose()?,
            ],
        )?;
    }
    Ok(())
}
