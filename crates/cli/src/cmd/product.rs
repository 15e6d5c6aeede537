//! `solocrm product …` (the catalogue and product analytics) and `solocrm recommend`.

use anyhow::Result;
use solocrm_app::catalogue::SalesLine;
use solocrm_core::ops::ProductRemoval;
use solocrm_core::product::{Product, ProductEdit, PurchaseLine, Sku};
use solocrm_core::{Label, Store};

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
        ProductCmd::Stats { by, group } => stats(ctx, &store, &by, &group),
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

fn stats(ctx: &mut Ctx, store: &Books, by: &str, group: &crate::cli::Group) -> Result<()> {
    let by_category = by == "category";
    let group = super::analytics::chosen(group);
    let (sales, members) = match &group {
        None => (solocrm_app::catalogue::sales(store, by_category)?, None),
        Some(g) => {
            // The group and its purchase lines from one snapshot, decided now.
            let at = super::analytics::group_instant(ctx, ctx.as_of_day(None)?);
            let (log, members) = store.read(|r| Ok((r.line_log()?, g.members(&r, at))))?;
            let members = members.map_err(super::analytics::group_failed)?;
            let log = solocrm_app::groups::only_members_lines(&log, &members);
            let sales = solocrm_app::catalogue::sales_of(
                &log,
                &store.products()?,
                store.currency(),
                by_category,
            );
            (sales, Some(members.len()))
        }
    };
    let out: Vec<SalesLine> = sales.rows;
    let ppc = sales.per_customer;
    if ctx.out.json {
        let mut doc = serde_json::json!({
            "by": by,
            "rows": out,
            "products_per_customer": {
                "customers": ppc.customers,
                "mean": ppc.mean(),
                "distribution": ppc.distribution,
            },
        });
        if let (Some(g), Some(n), Some(map)) = (&group, members, doc.as_object_mut()) {
            map.insert("group".into(), serde_json::to_value(g)?);
            map.insert("members".into(), n.into());
        }
        return ctx.out.json(&doc);
    }
    if let (Some(g), Some(n)) = (&group, members) {
        ctx.out.line(super::analytics::group_line(g, n))?;
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

/// `recommend CUSTOMER`: products bought together with theirs (item-to-item cosine).
pub fn recommend(ctx: &mut Ctx, customer: &str, limit: usize) -> Result<()> {
    if limit == 0 {
        anyhow::bail!(BadValue(t!("recommend.bad_limit").to_owned()));
    }
    let store = ctx.open()?;
    let c = parse::customer(&store, customer)?;
    let out = solocrm_app::catalogue::recommend(&store, c.id(), limit)?;
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

/// Parses `--line SKU:QTY[:UNIT_PRICE[:DISCOUNT]]` arguments
/// ([`solocrm_app::lines::parse_lines`]); a missing unit price is the catalogue's list
/// price.
///
/// # Errors
///
/// A usage error naming the argument and what is wrong with it.
pub(super) fn parse_lines(store: &Books, args: &[String]) -> Result<Vec<PurchaseLine>> {
    use solocrm_app::lines::LineProblem;
    let numbered = args.iter().enumerate().map(|(i, a)| (i + 1, a.as_str()));
    solocrm_app::lines::parse_lines(store, numbered).map_err(|e| {
        let why = match &e.problem {
            LineProblem::Shape => t!("purchase.line_shape").to_owned(),
            LineProblem::Quantity(q) => t!("purchase.line_quantity", qty = q),
            other => other.to_string(),
        };
        BadValue(t!("purchase.bad_line", n = e.n, line = e.line, why = why)).into()
    })
}
