//! The product catalogue's views, shared by `solocrm product stats`, `solocrm
//! recommend` and the web workspace's `/products` pages (issue 18): sales by product
//! or category with the products' names, item-to-item recommendations for a customer
//! with archived products left out, and what was bought together with one product.
//!
//! The figures are [`solocrm_core::metrics::products`]'s; this module only reads the
//! books and names the rows.

use rust_decimal::Decimal;
use serde::Serialize;
use std::collections::HashMap;

use solocrm_core::metrics::products::{LineLog, ProductAnalytics, ProductsPerCustomer, SalesRow};
use solocrm_core::product::{Product, Sku};
use solocrm_core::{Crm, CustomerId, Money, Store as _, StoreResult};

/// One row of the sales by product or by category, named.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SalesLine {
    /// The SKU or category (`null`: products without a category).
    pub key: Option<String>,
    /// The product's name, by product.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Units sold.
    pub units: u64,
    /// Revenue of the lines (after line discounts).
    pub revenue: Money,
    /// Cost of the units, when every product of the row has a cost.
    pub cost: Option<Money>,
    /// Revenue minus cost, when the cost is known.
    pub margin: Option<Money>,
    /// Customers who bought it.
    pub buyers: u64,
    /// Customers who bought it in more than one purchase.
    pub repeat_buyers: u64,
    /// Repeat buyers ÷ buyers, as a fraction.
    pub repeat_rate: Option<Decimal>,
}

/// The sales of the books by product (`by_category` false) or by category, and the
/// distribution of distinct products per customer.
pub struct Sales {
    /// The rows, as [`ProductAnalytics::product_sales`] or
    /// [`ProductAnalytics::category_sales`] order them.
    pub rows: Vec<SalesLine>,
    /// Distinct products per buying customer.
    pub per_customer: ProductsPerCustomer,
}

/// Reads the purchase lines and sums them by product or by category.
///
/// # Errors
///
/// Reading errors of the store.
pub fn sales(crm: &Crm, by_category: bool) -> StoreResult<Sales> {
    let log: LineLog = crm.read(|r| r.line_log())?;
    let catalogue: Vec<Product> = crm.products()?;
    Ok(sales_of(&log, &catalogue, crm.currency(), by_category))
}

/// [`sales`] over a line log and catalogue already read.
pub fn sales_of(
    log: &LineLog,
    catalogue: &[Product],
    currency: solocrm_core::Currency,
    by_category: bool,
) -> Sales {
    // One grouping of the lines by customer, shared by the sales and the products
    // per customer (ADR 0037).
    let analytics = ProductAnalytics::new(log);
    let rows = if by_category {
        analytics.category_sales()
    } else {
        analytics.product_sales()
    };
    // Names by SKU: one lookup a row, not a scan of the catalogue (10 k products).
    let names: HashMap<&Sku, &Product> = catalogue.iter().map(|p| (&p.sku, p)).collect();
    let money = |m: i64| Money::from_minor(m, currency);
    let rows = rows
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
            SalesLine {
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
    Sales {
        rows,
        per_customer: analytics.products_per_customer(),
    }
}

/// One product recommended to a customer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Recommended {
    /// Its SKU.
    pub sku: String,
    /// Its name.
    pub name: String,
    /// Its category.
    pub category: Option<String>,
    /// Its list price.
    pub price: Money,
    /// Σ cosine similarity with the customer's products (docs/formulas.md).
    pub score: f64,
    /// Co-purchases behind the score.
    pub together: u64,
    /// Customers who bought it.
    pub buyers: u64,
}

/// Up to `limit` products for `customer`: the item-to-item cosine recommendations of
/// [`CoPurchase::recommend`](solocrm_core::metrics::products::CoPurchase::recommend) over every candidate, with archived products (no new
/// line may name them) left out before the list is cut to `limit`. Empty for a
/// customer without purchase lines.
///
/// # Errors
///
/// Reading errors of the store.
pub fn recommend(crm: &Crm, customer: CustomerId, limit: usize) -> StoreResult<Vec<Recommended>> {
    let (index, catalogue) = crm.read(|r| Ok((RecommendIndex::build(&r)?, r.products()?)))?;
    Ok(index.recommend(&catalogue, customer, limit))
}

/// The co-purchase (bought-together) index of the whole book: what [`recommend`]
/// builds from every purchase line on each call, for a caller that keeps it between
/// calls while no purchase is written (the web workspace keeps one per position of
/// the outbox, ADR 0040). The catalogue is not in it (catalogue edits write no outbox
/// event): [`RecommendIndex::recommend`] takes it as it stands. It holds customer
/// ids and product indexes, no personal text.
#[derive(Debug, Clone)]
pub struct RecommendIndex {
    /// The customers with lines, ascending ([`LineLog::customers`]).
    customers: Vec<CustomerId>,
    /// The SKU of each dense product index ([`LineLog::skus`]).
    skus: Vec<Sku>,
    /// Who bought what, both ways.
    co: solocrm_core::metrics::products::CoPurchase,
}

impl RecommendIndex {
    /// Builds the index from the purchase lines of the reader's snapshot.
    ///
    /// # Errors
    ///
    /// Reading errors of the store.
    pub fn build(reader: &solocrm_core::Reader<'_>) -> StoreResult<RecommendIndex> {
        let log: LineLog = reader.line_log()?;
        let co = ProductAnalytics::new(&log).co_purchase();
        Ok(RecommendIndex {
            customers: log.customers,
            skus: log.skus,
            co,
        })
    }

    /// Up to `limit` products for `customer`, as [`recommend`] gives them: products
    /// archived in (or missing from) `catalogue` left out before the cut; empty for a
    /// customer without purchase lines.
    pub fn recommend(
        &self,
        catalogue: &[Product],
        customer: CustomerId,
        limit: usize,
    ) -> Vec<Recommended> {
        let Ok(k) = self.customers.binary_search(&customer) else {
            return Vec::new();
        };
        let active: HashMap<&Sku, &Product> = catalogue
            .iter()
            .filter(|p| !p.archived)
            .map(|p| (&p.sku, p))
            .collect();
        self.co
            .recommend(k, self.skus.len())
            .iter()
            .filter_map(|r| {
                let sku = self.skus.get(r.product as usize)?;
                let p = active.get(sku)?;
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
            .collect()
    }
}

/// Another product bought by the buyers of one product.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BoughtWith {
    /// Its SKU.
    pub sku: String,
    /// Its name, if it is still in the catalogue.
    pub name: Option<String>,
    /// How many customers bought both.
    pub customers: u64,
}

/// One product with its sales and what its buyers also bought.
pub struct ProductView {
    /// The product.
    pub product: Product,
    /// Its sales row; `None` if it never sold.
    pub sales: Option<SalesLine>,
    /// The other products its buyers bought, most shared customers first (then by
    /// SKU), at most `limit` of them.
    pub bought_with: Vec<BoughtWith>,
}

/// The view of product `sku`, with up to `limit` products bought together with it.
///
/// # Errors
///
/// [`solocrm_core::StoreError::NotFound`] for an unknown SKU; reading errors.
pub fn product_view(crm: &Crm, sku: &Sku, limit: usize) -> StoreResult<ProductView> {
    let product = crm.read(|r| r.product(sku))?;
    let log: LineLog = crm.read(|r| r.line_log())?;
    let catalogue = crm.products()?;
    let sales = sales_of(&log, &catalogue, crm.currency(), false)
        .rows
        .into_iter()
        .find(|r| r.key.as_deref() == Some(sku.as_str()));
    let bought_with = match log.skus.iter().position(|s| s == sku) {
        Some(p) => bought_with(&log, &catalogue, p, limit),
        None => Vec::new(),
    };
    Ok(ProductView {
        product,
        sales,
        bought_with,
    })
}

/// The products the buyers of product index `p` bought too, by how many of them did.
fn bought_with(log: &LineLog, catalogue: &[Product], p: usize, limit: usize) -> Vec<BoughtWith> {
    let co = ProductAnalytics::new(log).co_purchase();
    let mut counts: std::collections::BTreeMap<u32, u64> = std::collections::BTreeMap::new();
    for &k in co.buyers_of(p) {
        for &q in co.products_of(k as usize) {
            if q as usize != p {
                *counts.entry(q).or_default() += 1;
            }
        }
    }
    let names: HashMap<&Sku, &Product> = catalogue.iter().map(|x| (&x.sku, x)).collect();
    let mut out: Vec<BoughtWith> = counts
        .into_iter()
        .filter_map(|(q, n)| {
            let sku = log.skus.get(q as usize)?;
            Some(BoughtWith {
                sku: sku.to_string(),
                name: names.get(sku).map(|x| x.name.to_string()),
                customers: n,
            })
        })
        .collect();
    out.sort_by(|a, b| b.customers.cmp(&a.customers).then(a.sku.cmp(&b.sku)));
    out.truncate(limit);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use solocrm_core::product::PurchaseLine;
    use solocrm_core::{CustomerData, Label, NewCustomer, NewPurchase, PersonName};

    #[test]
    fn a_product_view_counts_the_customers_who_bought_another_product_too() {
        let crm = Crm::new(solocrm_store_memory::MemoryStore::new(
            solocrm_core::Currency::CNY,
        ));
        let at = chrono::DateTime::from_timestamp(1_780_000_000, 0).expect("instant");
        let cny = |s: &str| Money::parse(s, solocrm_core::Currency::CNY).expect("money");
        for (sku, name) in [("TEA", "龙井茶"), ("CUP", "茶杯"), ("POT", "茶壶")] {
            crm.add_product(Product::new(
                Sku::parse(sku).expect("sku"),
                Label::parse(name).expect("name"),
                cny("10"),
            ))
            .expect("product");
        }
        let baskets: [&[&str]; 3] = [&["TEA", "CUP"], &["TEA", "CUP", "POT"], &["POT"]];
        for (i, basket) in baskets.iter().enumerate() {
            let c = crm
                .create_customer(NewCustomer::new(
                    CustomerData::new(PersonName::parse(&format!("客户{i}")).expect("name")),
                    at,
                ))
                .expect("customer");
            let lines: Vec<PurchaseLine> = basket
                .iter()
                .map(|s| PurchaseLine::new(Sku::parse(s).expect("sku"), 1, cny("10")))
                .collect();
            let total = cny(&(10 * basket.len()).to_string());
            crm.record_purchase_with_lines(NewPurchase::new(c.id(), at, total), lines)
                .expect("purchase");
        }
        let v = product_view(&crm, &Sku::parse("TEA").expect("sku"), 5).expect("view");
        assert_eq!(v.sales.as_ref().map(|s| s.buyers), Some(2));
        let with: Vec<(&str, u64)> = v
            .bought_with
            .iter()
            .map(|b| (b.sku.as_str(), b.customers))
            .collect();
        assert_eq!(with, [("CUP", 2), ("POT", 1)]);
        assert_eq!(v.bought_with[0].name.as_deref(), Some("茶杯"));
        // The third customer bought only the pot: tea and cup come recommended.
        let third = crm
            .read(|r| r.line_log())
            .expect("log")
            .customers
            .get(2)
            .copied()
            .expect("third");
        let recs = recommend(&crm, third, 3).expect("recommend");
        assert_eq!(recs.len(), 2);
    }
}
