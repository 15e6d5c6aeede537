//! The product catalogue and purchase lines (migration 18's `products` and
//! `purchase_lines`).

use rusqlite::{Connection, Row, params};
use solocrm_core::product::{Product, PurchaseLine, Sku};
use solocrm_core::{Currency, Label, PurchaseId};

use crate::codec::{Cols, key, minor};
use crate::error::Res;
use crate::rows::{corrupt, execute, query_all, query_one};

const PRODUCT_COLUMNS: &str = "sku, name, category, price, cost, archived";

fn product_row(row: &Row<'_>, base: Currency) -> Res<Product> {
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

pub(crate) fn products(conn: &Connection, base: Currency) -> Res<Vec<Product>> {
    query_all(
        conn,
        &format!("SELECT {PRODUCT_COLUMNS} FROM products ORDER BY sku"),
        [],
        |row| product_row(row, base),
    )
}

pub(crate) fn product(conn: &Connection, sku: &Sku, base: Currency) -> Res<Option<Product>> {
    query_one(
        conn,
        &format!("SELECT {PRODUCT_COLUMNS} FROM products WHERE sku = ?1"),
        [sku.as_str()],
        |row| product_row(row, base),
    )
}

pub(crate) fn product_has_lines(conn: &Connection, sku: &Sku) -> Res<bool> {
    Ok(query_one(
        conn,
        "SELECT 1 FROM purchase_lines WHERE sku = ?1 LIMIT 1",
        [sku.as_str()],
        |_| Ok(()),
    )?
    .is_some())
}

pub(crate) fn put_product(conn: &Connection, p: &Product) -> Res<()> {
    execute(
        conn,
        "INSERT INTO products (sku, name, category, price, cost, archived) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
         ON CONFLICT (sku) DO UPDATE SET name = excluded.name, category = excluded.category, \
         price = excluded.price, cost = excluded.cost, archived = excluded.archived",
        params![
            p.sku.as_str(),
            p.name.as_str(),
            p.category.as_ref().map(Label::as_str),
            minor(p.price)?,
            p.cost.map(minor).transpose()?,
            p.archived,
        ],
    )?;
    Ok(())
}

pub(crate) fn delete_product(conn: &Connection, sku: &Sku) -> Res<bool> {
    Ok(execute(conn, "DELETE FROM products WHERE sku = ?1", [sku.as_str()])? > 0)
}

fn line_row(row: &Row<'_>, base: Currency) -> Res<(PurchaseId, PurchaseLine)> {
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

const LINE_COLUMNS: &str = "purchase_id, sku, quantity, unit_price, discount";

pub(crate) fn purchase_lines(
    conn: &Connection,
    purchase: PurchaseId,
    base: Currency,
) -> Res<Vec<PurchaseLine>> {
    Ok(query_all(
        conn,
        &format!(
            "SELECT {LINE_COLUMNS} FROM purchase_lines WHERE purchase_id = ?1 ORDER BY position"
        ),
        [key(purchase.get())],
        |row| line_row(row, base),
    )?
    .into_iter()
    .map(|(_, l)| l)
    .collect())
}

pub(crate) fn all_purchase_lines(
    conn: &Connection,
    base: Currency,
) -> Res<Vec<(PurchaseId, PurchaseLine)>> {
    query_all(
        conn,
        &format!("SELECT {LINE_COLUMNS} FROM purchase_lines ORDER BY purchase_id, position"),
        [],
        |row| line_row(row, base),
    )
}

pub(crate) fn insert_purchase_lines(
    conn: &Connection,
    purchase: PurchaseId,
    lines: &[PurchaseLine],
) -> Res<()> {
    if query_one(
        conn,
        "SELECT 1 FROM purchase_lines WHERE purchase_id = ?1 LIMIT 1",
        [key(purchase.get())],
        |_| Ok(()),
    )?
    .is_some()
    {
        return Err(corrupt(format!("purchase {purchase} has lines already")));
    }
    let mut stmt = conn.prepare_cached(
        "INSERT INTO purchase_lines (purchase_id, position, sku, quantity, unit_price, \
             discount) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    for (i, l) in lines.iter().enumerate() {
        stmt.execute(params![
            key(purchase.get()),
            i64::try_from(i).unwrap_or(i64::MAX),
            l.sku.as_str(),
            i64::from(l.quantity),
            minor(l.unit_price)?,
            l.discount.map(minor).transpose()?,
        ])?;
    }
    Ok(())
}
