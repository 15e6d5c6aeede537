//! `solocrm product …` (the catalogue and product analytics) and `solocrm recommend`.

use anyhow::Result;
use serde::Serialize;
use solocrm_core::metrics::products::{LineLog, ProductAnalytics, SalesRow};
use solocrm_core::ops::ProductRemoval;
use solocrm_core::product::{Product, ProductEdit, PurchaseLine, Sku};
use solocrm_core::{Label, Money, Store};

use super::{BadValue, Ctx};
use crate::books::Books;
use crate::cli::ProductCmd;
use crate::output::{Table, opt};
use crate::parse;

/// Runs a `product` subcommand.
pub fn run(ctx: &mut Ctx, cmd: ProductCmd) -> Result<()> {
    let store = ctx.open()?;
    match cmd {
        ProductCmd::Add {
            sku,
            name,
            price,
            cost,
            category,
        } => {
            let mut p = Product::new(
                Sku::parse(&sku)?,
                Label::parse(&name)?,
                parse::money(&price, &store)?,
            );
            p.cost = cost.map(|c| parse::money(&c, &store)).transpose()?;
            p.category = category.as_deref().map(Label::parse).transpose()?;
            let p = store.add_product(p)?;
            if ctx.out.json {
                return ctx.out.json(&p);
            }
            ctx.say(t!("product.added", sku = p.sku, name = p.name))
        }
        ProductCmd::List { archived } => {
            let mut all = store.products()?;
            all.retain(|p| archived || !p.archived);
            if ctx.out.json {
                return ctx.out.json(&all);
            }
            if all.is_empty() {
                return ctx.say(t!("product.none"));
            }
            let mut head = vec!["SKU", "NAME", "CATEGORY", ">PRICE", ">COST"];
            if archived {
                head.push("ARCHIVED");
            }
            let mut t = Table::new(&head);
            for p in &all {
                let mut row = vec![
                    p.sku.to_string(),
                    p.name.to_string(),
                    opt(p.category.as_ref()),
                    p.price.to_string(),
                    opt(p.cost),
                ];
                if archived {
                    row.push(if p.archived {
                        t!("word.yes").to_owned()
                    } else {
                        String::new()
                    });
                }
                t.row(row);
            }
            ctx.out.table(&t)
        }
        ProductCmd::Show { sku } => {
            let p = store.product(&Sku::parse(&sku)?)?;
            if ctx.out.json {
                return ctx.out.json(&p);
            }
            show(ctx, &p)
        }
        ProductCmd::Edit {
            sku,
            name,
            price,
            cost,
            category,
            archive,
            restore,
            clear,
        } => {
            let cleared = |field: &str| clear.iter().any(|c| c == field);
            for (field, given) in [("cost", cost.is_some()), ("category", category.is_some())] {
                if given && cleared(field) {
                    anyhow::bail!(BadValue(t!("purchase.contradiction", field = field)));
                }
            }
            let edit = ProductEdit {
                name: name.as_deref().map(Label::parse).transpose()?,
                category: match category {
                    Some(c) => Some(Some(Label::parse(&c)?)),
                    None => cleared("category").then_some(None),
                },
                price: price.map(|m| parse::money(&m, &store)).transpose()?,
                cost: match cost {
                    Some(m) => Some(Some(parse::money(&m, &store)?)),
                    None => cleared("cost").then_some(None),
                },
                archived: if archive {
                    Some(true)
                } else if restore {
                    Some(false)
                } else {
                    None
                },
            };
            let p = store.edit_product(&Sku::parse(&sku)?, &edit)?;
            if ctx.out.json {
                return ctx.out.json(&p);
            }
            show(ctx, &p)
        }
        ProductCmd::Remove { sku } => {
            let sku = Sku::parse(&sku)?;
            let removal = store.remove_product(&sku)?;
            let archived = matches!(removal, ProductRemoval::Archived(_));
            if ctx.out.json {
                return ctx.out.json(&serde_json::json!({
                    "sku": sku,
                    "removed": if archived { "archived" } else { "deleted" },
                }));
            }
            if archived {
                ctx.say(t!("product.archived", sku = sku))
            } else {
                ctx.say(t!("product.deleted", sku = sku))
            }
        }
        ProductCmd::Stats { by } => stats(ctx, &store, &by),
    }
}

fn show(ctx: &mut Ctx, p: &Product) -> Result<()> {
    ctx.out.heading(t!("product.heading", sku = p.sku))?;
    super::fields(
        ctx,
        11,
        vec![
            (t!("field.name"), p.name.to_string()),
            (t!("field.category"), opt(p.category.as_ref())),
            (t!("field.price"), p.price.to_string()),
            (t!("field.cost"), opt(p.cost)),
            (
                t!("field.archived"),
                if p.archived {
                    t!("word.yes").to_owned()
                } else {
                    t!("word.no").to_owned()
                },
            ),
        ],
    )
}

/// One row of `product stats`, as JSON gives it.
#[derive(Serialize)]
struct StatsRow {
    /// The SKU or category (`null`: products without a category).
    key: Option<String>,
    /// The product's name, by product.
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    units: u64,
    revenue: Money,
    cost: Option<Money>,
    margin: Option<Money>,
    buyers: u64,
    repeat_buyers: u64,
    /// Repeat buyers ÷ buyers, as a fraction.
    repeat_rate: Option<rust_decimal::Decimal>,
}

fn stats(ctx: &mut Ctx, store: &Books, by: &str) -> Result<()> {
    let log: LineLog = store.read(|r| r.line_log())?;
    let currency = store.currency();
    let catalogue: Vec<Product> = store.products()?;
    // Names by SKU: one lookup a row, not a scan of the catalogue (10 k products).
    let names: std::collections::HashMap<&Sku, &Product> =
        catalogue.iter().map(|p| (&p.sku, p)).collect();
    let by_category = by == "category";
    // One grouping of the lines by customer, shared by the sales and the products
    // per customer.
    let analytics = ProductAnalytics::new(&log);
    let rows = if by_category {
        analytics.category_sales()
    } else {
        analytics.product_sales()
    };
    let money = |m: i64| Money::from_minor(m, currency);
    let out: Vec<StatsRow> = rows
        .iter()
        .map(|r: &SalesRow| {
            let (key, name) = match r.key {
                Some(k) if by_category => (
                    log.categories.get(k as usize).map(ToString::to_string),
                    None,
                ),
                Some(k) => {
                    let sku = log.skus.get(k as usize);
                    let name = sku.and_then(|s| names.get(s)).map(|p| p.name.to_string());
                    (sku.map(ToString::to_string), name)
                }
                None => (None, None),
            };
            StatsRow {
                key,
                name,
                units: r.units,
                revenue: money(r.revenue),
                cost: r.cost.map(money),
                margin: r.margin.map(money),
                buyers: r.buyers,
                repeat_buyers: r.repeat_buyers,
                repeat_rate: r.repeat_rate().map(|x| x.value()),
            }
        })
        .collect();
    let ppc = analytics.products_per_customer();
    if ctx.out.json {
        return ctx.out.json(&serde_json::json!({
            "by": by,
            "rows": out,
            "products_per_customer": {
                "customers": ppc.customers,
                "mean": ppc.mean(),
                "distribution": ppc.distribution,
            },
        }));
    }
    if out.is_empty() {
        return ctx.say(t!("product.no_sales"));
    }
    let first = if by_category { "CATEGORY" } else { "SKU" };
    let mut head = vec![first];
    if !by_category {
        head.push("NAME");
    }
    head.extend([">UNITS", ">REVENUE", ">MARGIN", ">BUYERS", ">REPEAT"]);
    let mut t = Table::new(&head);
    for r in &out {
        let mut row = vec![
            r.key
                .clone()
                .unwrap_or_else(|| t!("product.uncategorised").to_owned()),
        ];
        if !by_category {
            row.push(opt(r.name.as_ref()));
        }
        row.extend([
            r.units.to_string(),
            r.revenue.to_string(),
            opt(r.margin),
            r.buyers.to_string(),
            opt(r
                .repeat_rate
                .map(|x| format!("{:.2} %", x * rust_decimal::Decimal::ONE_HUNDRED))),
        ]);
        t.row(row);
    }
    ctx.out.table(&t)?;
    if let Some(mean) = ppc.mean() {
        ctx.out.line("")?;
        ctx.say(t!(
            "product.per_customer",
            mean = mean.round_dp(2),
            customers = ppc.customers
        ))?;
    }
    Ok(())
}

/// One recommended product, as `recommend --json` gives it.
#[derive(Serialize)]
struct Recommended {
    sku: String,
    name: String,
    category: Option<String>,
    price: Money,
    /// Σ cosine similarity with the customer's products (docs/formulas.md).
    score: f64,
    /// Co-purchases behind the score.
    together: u64,
    buyers: u64,
}

/// `recommend CUSTOMER`: products bought together with theirs (item-to-item cosine).
pub fn recommend(ctx: &mut Ctx, customer: &str, limit: usize) -> Result<()> {
    if limit == 0 {
        anyhow::bail!(BadValue(t!("recommend.bad_limit").to_owned()));
    }
    let store = ctx.open()?;
    let c = parse::customer(&store, customer)?;
    let log: LineLog = store.read(|r| r.line_log())?;
    let catalogue = store.products()?;
    let recs = match log.customer_index(c.id()) {
        // Every candidate: archived products (no new line may name them) are left
        // out before the list is cut to `limit`.
        Some(k) => ProductAnalytics::new(&log)
            .co_purchase()
            .recommend(k as usize, log.skus.len()),
        None => Vec::new(),
    };
    let out: Vec<Recommended> = recs
        .iter()
        .filter_map(|r| {
            let sku = log.skus.get(r.product as usize)?;
            let p = catalogue.iter().find(|p| &p.sku == sku && !p.archived)?;
            Some(Recommended {
                sku: sku.to_string(),
                name: p.name.to_string(),
                category: p.category.as_ref().map(ToString::to_string),
                price: p.price,
                score: r.score,
                together: r.together,
                buyers: r.buyers,
            })
        })
        .take(limit)
        .collect();
    if ctx.out.json {
        return ctx.out.json(&out);
    }
    if out.is_empty() {
        return ctx.say(t!("recommend.none", name = c.name()));
    }
    let mut t = Table::new(&["SKU", "NAME", "CATEGORY", ">PRICE", ">SCORE", ">TOGETHER"]);
    for r in &out {
        t.row(vec![
            r.sku.clone(),
            r.name.clone(),
            opt(r.category.as_ref()),
            r.price.to_string(),
            format!("{:.3}", r.score),
            r.together.to_string(),
        ]);
    }
    ctx.out.table(&t)
}

/// Parses `--line SKU:QTY[:UNIT_PRICE[:DISCOUNT]]` arguments; a missing unit price is
/// the catalogue's list price.
///
/// # Errors
///
/// A usage error naming the argument and what is wrong with it.
pub(super) fn parse_lines(store: &Books, args: &[String]) -> Result<Vec<PurchaseLine>> {
    let mut lines = Vec::with_capacity(args.len());
    for (i, arg) in args.iter().enumerate() {
        let bad = |why: String| BadValue(t!("purchase.bad_line", n = i + 1, line = arg, why = why));
        let parts: Vec<&str> = arg.split(':').collect();
        if !(2..=4).contains(&parts.len()) {
            return Err(bad(t!("purchase.line_shape").to_owned()).into());
        }
        let sku = Sku::parse(parts[0]).map_err(|e| bad(e.to_string()))?;
        let quantity: u32 = parts[1]
            .trim()
            .parse()
            .ok()
            .filter(|q| *q > 0)
            .ok_or_else(|| bad(t!("purchase.line_quantity", qty = parts[1])))?;
        let unit_price = match parts.get(2).filter(|s| !s.trim().is_empty()) {
            Some(p) => parse::money(p, store).map_err(|e| bad(e.to_string()))?,
            None => store.product(&sku).map_err(|e| bad(e.to_string()))?.price,
        };
        let discount = parts
            .get(3)
            .map(|d| parse::money(d, store))
            .transpose()
            .map_err(|e| bad(e.to_string()))?;
        lines.push(PurchaseLine {
            sku,
            quantity,
            unit_price,
            discount,
        });
    }
    Ok(lines)
}
