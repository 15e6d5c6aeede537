//! Product analytics over purchase lines: revenue and margin by product and category,
//! products per customer, repeat rate per product, and "bought together"
//! recommendations (item-to-item cosine similarity over who bought what).
//!
//! Everything here is a pure function over a [`LineLog`], the purchase lines of a book
//! as a struct of arrays (see [`LineLog::from_records`]); money is counted in whole
//! minor units (`i64`), exact. Voided purchases are not in the log; refunds are not
//! netted out (a refund names a purchase, not a line), which the figures' names say:
//! they are *sales* figures.

use std::cell::OnceCell;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::error::{MetricError, MetricResult};
use super::ratio::Ratio;
use crate::ids::{CustomerId, PurchaseId};
use crate::money::Currency;
use crate::product::{Product, PurchaseLine, Sku};
use crate::purchase::Purchase;
use crate::text::Label;

/// The purchase lines of a book as a struct of arrays, for analytics over millions of
/// lines.
///
/// Products are numbered densely by SKU (`skus[p]`), categories by name
/// (`categories[c]`), customers by id (`customers[k]`, only those with lines). Row `r`
/// is one line of a purchase that is not void: `customer[r]` and `product[r]` are dense
/// indexes, `purchase[r]` the purchase id, `quantity[r]` the units and `revenue[r]` the
/// line total (quantity × unit price − discount) in minor units of `currency`. Rows come
/// by purchase id, then in each purchase's order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineLog {
    /// The currency of every amount.
    pub currency: Option<Currency>,
    /// Dense product index → SKU, ascending.
    pub skus: Vec<Sku>,
    /// Each product's category (an index into `categories`), if it has one.
    pub product_category: Vec<Option<u32>>,
    /// Each product's unit cost from the catalogue, in minor units, if known.
    pub unit_cost: Vec<Option<i64>>,
    /// Dense category index → name, ascending.
    pub categories: Vec<Label>,
    /// Dense customer index → id, ascending.
    pub customers: Vec<CustomerId>,
    /// Customer of each line.
    pub customer: Vec<u32>,
    /// Purchase id of each line.
    pub purchase: Vec<u64>,
    /// Product of each line.
    pub product: Vec<u32>,
    /// Units of each line.
    pub quantity: Vec<u32>,
    /// Total of each line, in minor units.
    pub revenue: Vec<i64>,
}

impl LineLog {
    /// Builds the log from the catalogue, the purchases and their lines (as
    /// [`ReadTx::all_purchase_lines`](crate::port::ReadTx::all_purchase_lines) gives
    /// them, by purchase id). Lines of void or unknown purchases and lines naming a
    /// product not in `products` are left out.
    ///
    /// # Errors
    ///
    /// [`MetricError::InconsistentCounts`] if a line's total does not fit.
    pub fn from_records(
        currency: Currency,
        products: &[Product],
        purchases: &[Purchase],
        lines: &[(PurchaseId, PurchaseLine)],
    ) -> MetricResult<LineLog> {
        let mut buyers: Vec<(PurchaseId, CustomerId)> = purchases
            .iter()
            .filter(|p| !p.is_void())
            .map(|p| (p.id(), p.customer()))
            .collect();
        buyers.sort_unstable();
        LineLog::from_buyers(currency, products, &buyers, lines)
    }

    /// Builds the log as [`from_records`](Self::from_records) does, from only the
    /// buyer of each purchase that is not void (`buyers`, by ascending purchase id)
    /// rather than whole purchases: what a reader needs to hold of a million
    /// purchases is then sixteen bytes each (issue 15).
    ///
    /// # Errors
    ///
    /// [`MetricError::InconsistentCounts`] if a line's total does not fit.
    pub fn from_buyers(
        currency: Currency,
        products: &[Product],
        buyers: &[(PurchaseId, CustomerId)],
        lines: &[(PurchaseId, PurchaseLine)],
    ) -> MetricResult<LineLog> {
        debug_assert!(
            buyers.is_sorted_by_key(|&(p, _)| p),
            "buyers by ascending purchase id"
        );
        let buyer = |purchase: &PurchaseId| -> Option<CustomerId> {
            buyers
                .binary_search_by_key(purchase, |&(p, _)| p)
                .ok()
                .map(|i| buyers[i].1)
        };
        let mut catalogue: Vec<&Product> = products.iter().collect();
        catalogue.sort_by(|a, b| a.sku.cmp(&b.sku));
        let mut categories: Vec<Label> = catalogue
            .iter()
            .filter_map(|p| p.category.clone())
            .collect();
        categories.sort();
        categories.dedup();
        let mut log = LineLog {
            currency: Some(currency),
            ..LineLog::default()
        };
        for p in &catalogue {
            log.skus.push(p.sku.clone());
            log.product_category.push(p.category.as_ref().and_then(|c| {
                categories
                    .binary_search(c)
                    .ok()
                    .and_then(|i| u32::try_from(i).ok())
            }));
            log.unit_cost
                .push(p.cost.and_then(|c| c.to_minor_units().ok()));
        }
        log.categories = categories;
        let mut customers: Vec<CustomerId> = lines.iter().filter_map(|(p, _)| buyer(p)).collect();
        customers.sort_unstable();
        customers.dedup();
        for (purchase, line) in lines {
            let Some(who) = buyer(purchase) else {
                continue;
            };
            let Ok(product) = log.skus.binary_search(&line.sku) else {
                continue;
            };
            let total = line
                .total()
                .ok()
                .and_then(|t| t.to_minor_units().ok())
                .ok_or_else(|| MetricError::InconsistentCounts {
                    metric: "product sales",
                    detail: format!("the total of a line of purchase {purchase} does not fit"),
                })?;
            let k = customers.binary_search(&who).unwrap_or_default();
            log.customer.push(u32::try_from(k).unwrap_or(u32::MAX));
            log.purchase.push(purchase.get());
            log.product.push(u32::try_from(product).unwrap_or(u32::MAX));
            log.quantity.push(line.quantity);
            log.revenue.push(total);
        }
        log.customers = customers;
        Ok(log)
    }

    /// The number of lines.
    pub fn len(&self) -> usize {
        self.product.len()
    }

    /// True if there are no lines.
    pub fn is_empty(&self) -> bool {
        self.product.is_empty()
    }

    /// The dense index of a customer, if they have lines.
    pub fn customer_index(&self, id: CustomerId) -> Option<u32> {
        self.customers
            .binary_search(&id)
            .ok()
            .and_then(|i| u32::try_from(i).ok())
    }
}

/// Sales of one product or one category ([`product_sales`], [`category_sales`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SalesRow {
    /// The product (dense index into [`LineLog::skus`]) or category (into
    /// [`LineLog::categories`]; `None` for products without a category).
    pub key: Option<u32>,
    /// Units sold.
    pub units: u64,
    /// Σ line totals, in minor units.
    pub revenue: i64,
    /// Σ units × unit cost, in minor units, when every unit's cost is known.
    pub cost: Option<i64>,
    /// `revenue − cost`, when the cost is known.
    pub margin: Option<i64>,
    /// Distinct customers who bought it.
    pub buyers: u64,
    /// Buyers who bought it in at least two different purchases.
    pub repeat_buyers: u64,
}

impl SalesRow {
    /// The repeat rate: `repeat_buyers / buyers`, `None` without buyers.
    pub fn repeat_rate(&self) -> Option<Ratio> {
        Ratio::of(self.repeat_buyers, self.buyers, "repeat rate", "buyers").ok()
    }
}

/// The lines of a [`LineLog`] grouped by customer once and shared by every product
/// kernel: sales by product and by category, products per customer and the
/// [`CoPurchase`] index behind the recommendations.
///
/// Building it is one counting sort of the lines by customer (a pass to count, two to
/// place by blocks of customers then by customer; no comparison sort, no allocation per
/// line): each customer's lines, in log order, as
/// one dense column of products. When each purchase is one run of lines of one
/// customer, in ascending purchase id (as [`LineLog::from_records`] and every store give
/// them), the top bit of a grouped product marks the first line of a purchase, which is
/// all the repeat-buyer counts need (4 bytes a line); any other log gets a second column
/// with the purchase id of each line, grouped the same way when first needed. Each
/// kernel is then one pass over those columns with arrays indexed by the dense product,
/// category or customer index. Units, revenue and cost per product come from one pass
/// over the log in its own order, made the first time a kernel needs them and shared
/// by the sales of products and of categories.
///
/// The free functions [`product_sales`], [`category_sales`], [`products_per_customer`]
/// and [`CoPurchase::build`] give exactly the same figures, each grouping the log on
/// its own; a caller that needs several of them (`product stats`, `recommend`) builds
/// one `ProductAnalytics` and asks it.
///
/// Rows whose customer or product index is outside the log's tables (`customers`,
/// `skus`) are left out, and so is the tail of any column longer than the others; a
/// category index outside `categories` counts as no category. A log from
/// [`LineLog::from_records`] has none of these.
///
/// ```
/// use solocrm_core::metrics::products::{LineLog, ProductAnalytics, product_sales};
/// use solocrm_core::product::Sku;
/// use solocrm_core::{CustomerId, Currency, Label};
/// // 王芳 (customer 0) buys 龙井 in two purchases; 李雷 (customer 1) 龙井 and a cup.
/// let log = LineLog {
///     currency: Some(Currency::CNY),
///     skus: vec![Sku::parse("龙井")?, Sku::parse("茶杯")?],
///     product_category: vec![Some(0), Some(1)],
///     unit_cost: vec![Some(4_000), None],
///     categories: vec![Label::parse("茶叶")?, Label::parse("茶具")?],
///     customers: vec![CustomerId::new(1), CustomerId::new(2)],
///     customer: vec![0, 1, 1, 0],
///     purchase: vec![1, 2, 2, 3],
///     product: vec![0, 0, 1, 0],
///     quantity: vec![1, 2, 1, 1],
///     revenue: vec![8_800, 17_600, 3_500, 8_800],
/// };
/// let analytics = ProductAnalytics::new(&log);
/// let by_product = analytics.product_sales();
/// assert_eq!(by_product, product_sales(&log));
/// // 龙井: 4 units, 352.00 revenue, 160.00 cost, two buyers, one of them a repeat buyer.
/// assert_eq!(
///     (by_product[0].units, by_product[0].revenue, by_product[0].cost),
///     (4, 35_200, Some(16_000))
/// );
/// assert_eq!((by_product[0].buyers, by_product[0].repeat_buyers), (2, 1));
/// assert_eq!(analytics.products_per_customer().pairs, 3);
/// let index = analytics.co_purchase();
/// assert_eq!(index.recommend(0, 5)[0].product, 1); // the cup, bought with 龙井
/// # Ok::<(), solocrm_core::ValidationError>(())
/// ```
#[derive(Debug, Clone)]
pub struct ProductAnalytics<'a> {
    log: &'a LineLog,
    /// The rows every column has.
    rows: usize,
    /// Customer `k`'s lines are `start[k]..start[k + 1]` of `product` and `purchase`.
    start: Vec<usize>,
    /// The product of each line, by customer; with [`NEW_PURCHASE`] set on the first
    /// line of each purchase when `marked`.
    product: Vec<u32>,
    /// The log's purchases are runs of one customer's lines in ascending purchase id
    /// (as a store gives them), so `product` marks where each purchase starts and
    /// `purchase` is not needed.
    marked: bool,
    /// The purchase of each line, by customer, for a log that is not `marked` (grouped
    /// when first needed).
    purchase: OnceCell<Vec<u64>>,
    /// Units, revenue and cost per product (summed when first needed).
    totals: OnceCell<ProductTotals>,
}

/// Units, revenue and cost per product, from one pass over the log in its order.
#[derive(Debug, Clone)]
struct ProductTotals {
    /// The product has at least one line.
    sold: Vec<bool>,
    units: Vec<u64>,
    revenue: Vec<i64>,
    /// Σ units × unit cost; meaningful only where `cost_known`.
    cost: Vec<i64>,
    /// The unit cost is known and the sum did not overflow.
    cost_known: Vec<bool>,
}

/// The bit of a grouped product that marks the first line of a purchase.
const NEW_PURCHASE: u32 = 1 << 31;

/// One group's state in [`ProductAnalytics::buyers`]: its counts and the last customer
/// and purchase seen, kept together so a line touches one cache line.
#[derive(Debug, Clone, Copy)]
struct BuyerSlot {
    last_purchase: u64,
    buyers: u64,
    repeat: u64,
    last_customer: u32,
    /// The last customer bought the group in two purchases or more.
    repeated: bool,
}

impl<'a> ProductAnalytics<'a> {
    /// Groups the lines of `log` by customer: one pass to count each customer's lines,
    /// two to place each line's product (a log that is not in purchase runs has its
    /// purchases placed the first time a kernel needs them).
    pub fn new(log: &'a LineLog) -> ProductAnalytics<'a> {
        let rows = log
            .customer
            .len()
            .min(log.product.len())
            .min(log.purchase.len())
            .min(log.quantity.len())
            .min(log.revenue.len());
        let customers = log.customers.len();
        let products = log.skus.len();
        let customer = &log.customer[..rows];
        let product = &log.product[..rows];
        let purchase = &log.purchase[..rows];
        let valid = |c: u32, p: u32| (c as usize) < customers && (p as usize) < products;
        // Count each customer's lines, and check (on the same pass) that each purchase
        // is one run of lines of one customer, in ascending purchase id.
        let mut start = vec![0usize; customers + 1];
        let mut marked = products <= NEW_PURCHASE as usize;
        let mut previous: Option<(u64, u32)> = None;
        for ((&c, &p), &u) in customer.iter().zip(product).zip(purchase) {
            if valid(c, p) {
                start[c as usize + 1] += 1;
                if let Some((pu, pc)) = previous {
                    marked &= u > pu || (u == pu && c == pc);
                }
                previous = Some((u, c));
            }
        }
        for k in 0..customers {
            start[k + 1] += start[k];
        }
        // Place the lines in two passes that each write to few places at once (a
        // direct scatter to a million customers misses the cache and the TLB on every
        // line of an interleaved log): first by blocks of 2^BLOCK customers, keeping
        // log order in each block, then each block's lines to their customers, within
        // a window that stays in cache. Both keep each customer's lines in log order.
        const BLOCK: u32 = 10;
        let blocks = (customers >> BLOCK) + 1;
        let mut block_next: Vec<usize> = (0..blocks)
            .map(|b| start[(b << BLOCK).min(customers)])
            .collect();
        let mut staged = vec![(0u32, 0u32); start[customers]];
        let mut previous = None;
        for ((&c, &p), &u) in customer.iter().zip(product).zip(purchase) {
            if valid(c, p) {
                let x = if marked && previous != Some(u) {
                    p | NEW_PURCHASE
                } else {
                    p
                };
                previous = Some(u);
                let slot = &mut block_next[(c >> BLOCK) as usize];
                staged[*slot] = (c, x);
                *slot += 1;
            }
        }
        let mut next = start[..customers].to_vec();
        let mut grouped = vec![0u32; staged.len()];
        for &(c, x) in &staged {
            let slot = &mut next[c as usize];
            grouped[*slot] = x;
            *slot += 1;
        }
        drop(staged);
        ProductAnalytics {
            log,
            rows,
            start,
            product: grouped,
            marked,
            purchase: OnceCell::new(),
            totals: OnceCell::new(),
        }
    }

    /// The number of customers (the log's `customers`, with lines or not).
    fn customers(&self) -> usize {
        self.start.len() - 1
    }

    /// What to `&` a grouped product with to get its index: the purchase bit off when
    /// `marked`, everything kept otherwise.
    fn mask(&self) -> u32 {
        if self.marked { !NEW_PURCHASE } else { u32::MAX }
    }

    /// The purchase of each line, by customer: the same counting sort as the products.
    fn purchases(&self) -> &[u64] {
        self.purchase.get_or_init(|| {
            let log = self.log;
            let customers = self.customers();
            let products = log.skus.len();
            let mut next = self.start[..customers].to_vec();
            let mut grouped = vec![0u64; self.product.len()];
            for ((&c, &p), &u) in log.customer[..self.rows]
                .iter()
                .zip(&log.product[..self.rows])
                .zip(&log.purchase[..self.rows])
            {
                if (c as usize) < customers && (p as usize) < products {
                    let slot = &mut next[c as usize];
                    grouped[*slot] = u;
                    *slot += 1;
                }
            }
            grouped
        })
    }

    /// Units, revenue and cost per product, summed in log order (the kernels before
    /// ADR 0037 summed in customer order). The cost of a line is quantity × unit cost
    /// (saturating), added with an overflow check as before: every line of a product
    /// has the same unit cost, so the terms have one sign and whether the sum overflows
    /// does not depend on the order. Revenue saturates; with amounts of one sign (all a
    /// store holds: line totals are never negative) that does not depend on it either.
    fn totals(&self) -> &ProductTotals {
        self.totals.get_or_init(|| {
            let log = self.log;
            let products = log.skus.len();
            let customers = self.customers();
            let unit: Vec<i64> = (0..products)
                .map(|p| log.unit_cost.get(p).copied().flatten().unwrap_or(0))
                .collect();
            let mut t = ProductTotals {
                sold: vec![false; products],
                units: vec![0; products],
                revenue: vec![0; products],
                cost: vec![0; products],
                cost_known: (0..products)
                    .map(|p| matches!(log.unit_cost.get(p), Some(Some(_))))
                    .collect(),
            };
            let n = self.rows;
            for (((&c, &p), &q), &r) in log.customer[..n]
                .iter()
                .zip(&log.product[..n])
                .zip(&log.quantity[..n])
                .zip(&log.revenue[..n])
            {
                let p = p as usize;
                if c as usize >= customers || p >= products {
                    continue;
                }
                t.sold[p] = true;
                t.units[p] += u64::from(q);
                t.revenue[p] = t.revenue[p].saturating_add(r);
                if t.cost_known[p] {
                    match t.cost[p].checked_add(unit[p].saturating_mul(i64::from(q))) {
                        Some(sum) => t.cost[p] = sum,
                        None => t.cost_known[p] = false,
                    }
                }
            }
            t
        })
    }

    /// Buyers and repeat buyers of each group, the groups given by `slot(product)` in
    /// `0..groups`: one pass over the lines by customer. A customer is a buyer of a
    /// group if they have a line of it, a repeat buyer if those lines are in at least
    /// two different purchases.
    fn buyers(&self, groups: usize, slot: impl Fn(u32) -> usize) -> Vec<BuyerSlot> {
        let mut state = vec![
            BuyerSlot {
                last_purchase: 0,
                buyers: 0,
                repeat: 0,
                last_customer: u32::MAX,
                repeated: false,
            };
            groups
        ];
        let line = |s: &mut BuyerSlot, k: u32, u: u64| {
            if s.last_customer != k {
                s.last_customer = k;
                s.last_purchase = u;
                s.repeated = false;
                s.buyers += 1;
            } else if !s.repeated && s.last_purchase != u {
                s.repeated = true;
                s.repeat += 1;
            }
        };
        let purchases: &[u64] = if self.marked { &[] } else { self.purchases() };
        for k in 0..self.customers() {
            let kk = u32::try_from(k).unwrap_or(u32::MAX);
            let (a, b) = (self.start[k], self.start[k + 1]);
            if self.marked {
                // The purchases of one customer, numbered by their first lines.
                let mut ordinal = 0u64;
                for &x in &self.product[a..b] {
                    ordinal += u64::from(x >> 31);
                    line(&mut state[slot(x & !NEW_PURCHASE)], kk, ordinal);
                }
            } else {
                for (&p, &u) in self.product[a..b].iter().zip(&purchases[a..b]) {
                    line(&mut state[slot(p)], kk, u);
                }
            }
        }
        state
    }

    /// Sales by product, as [`product_sales`] defines them.
    pub fn product_sales(&self) -> Vec<SalesRow> {
        let t = self.totals();
        let products = self.log.skus.len();
        let buyers = self.buyers(products, |p| p as usize);
        (0..products)
            .filter(|&p| t.units[p] > 0)
            .map(|p| {
                let cost = t.cost_known[p].then_some(t.cost[p]);
                SalesRow {
                    key: Some(u32::try_from(p).unwrap_or(u32::MAX)),
                    units: t.units[p],
                    revenue: t.revenue[p],
                    cost,
                    margin: cost.map(|c| t.revenue[p].saturating_sub(c)),
                    buyers: buyers[p].buyers,
                    repeat_buyers: buyers[p].repeat,
                }
            })
            .collect()
    }

    /// Sales by category, as [`category_sales`] defines them: units, revenue and cost
    /// summed from the products' totals, buyers counted per category.
    pub fn category_sales(&self) -> Vec<SalesRow> {
        let log = self.log;
        let t = self.totals();
        let groups = log.categories.len();
        // Each product's category slot; `groups` for none.
        let slots: Vec<usize> = (0..log.skus.len())
            .map(|p| match log.product_category.get(p).copied().flatten() {
                Some(c) if (c as usize) < groups => c as usize,
                _ => groups,
            })
            .collect();
        let n = groups + 1;
        let mut units = vec![0u64; n];
        let mut revenue = vec![0i64; n];
        let mut cost = vec![Some(0i64); n];
        for (p, &g) in slots.iter().enumerate() {
            if !t.sold[p] {
                continue;
            }
            units[g] += t.units[p];
            revenue[g] = revenue[g].saturating_add(t.revenue[p]);
            cost[g] = match cost[g] {
                Some(sum) if t.cost_known[p] => sum.checked_add(t.cost[p]),
                _ => None,
            };
        }
        let buyers = self.buyers(n, |p| slots[p as usize]);
        (0..n)
            .filter(|&g| units[g] > 0)
            .map(|g| SalesRow {
                key: (g < groups).then(|| u32::try_from(g).unwrap_or(u32::MAX)),
                units: units[g],
                revenue: revenue[g],
                cost: cost[g],
                margin: cost[g].map(|c| revenue[g].saturating_sub(c)),
                buyers: buyers[g].buyers,
                repeat_buyers: buyers[g].repeat,
            })
            .collect()
    }

    /// Products per customer, as [`products_per_customer`] defines them: one pass,
    /// each product marked with the last customer who had it.
    pub fn products_per_customer(&self) -> ProductsPerCustomer {
        let mask = self.mask();
        let mut last = vec![u32::MAX; self.log.skus.len()];
        let mut counts: Vec<u64> = Vec::new();
        let mut pairs = 0u64;
        let mut customers = 0u64;
        for k in 0..self.customers() {
            let kk = u32::try_from(k).unwrap_or(u32::MAX);
            let mut distinct = 0usize;
            for &x in &self.product[self.start[k]..self.start[k + 1]] {
                let mark = &mut last[(x & mask) as usize];
                if *mark != kk {
                    *mark = kk;
                    distinct += 1;
                }
            }
            if distinct == 0 {
                continue;
            }
            customers += 1;
            pairs += distinct as u64;
            if counts.len() <= distinct {
                counts.resize(distinct + 1, 0);
            }
            counts[distinct] += 1;
        }
        let distribution = counts
            .iter()
            .enumerate()
            .filter(|&(_, &n)| n > 0)
            .map(|(d, &n)| (u32::try_from(d).unwrap_or(u32::MAX), n))
            .collect();
        ProductsPerCustomer {
            customers,
            pairs,
            distribution,
        }
    }

    /// The co-purchase index ([`CoPurchase`]): each customer's products sorted and
    /// deduplicated in place, then one counting sort of those pairs by product.
    pub fn co_purchase(&self) -> CoPurchase {
        let customers = self.customers();
        let products = self.log.skus.len();
        let mut by_customer_start = Vec::with_capacity(customers + 1);
        let mut by_customer = Vec::with_capacity(self.product.len());
        // Each product's buyers, counted while the customer's products are in cache.
        let mut by_product_start = vec![0usize; products + 1];
        let mask = self.mask();
        by_customer_start.push(0);
        for k in 0..customers {
            let from = by_customer.len();
            by_customer.extend(
                self.product[self.start[k]..self.start[k + 1]]
                    .iter()
                    .map(|&x| x & mask),
            );
            let mine = &mut by_customer[from..];
            mine.sort_unstable();
            let mut w = 0;
            for i in 0..mine.len() {
                if i == 0 || mine[i] != mine[w - 1] {
                    mine[w] = mine[i];
                    w += 1;
                }
            }
            for &p in &mine[..w] {
                by_product_start[p as usize + 1] += 1;
            }
            by_customer.truncate(from + w);
            by_customer_start.push(by_customer.len());
        }
        for p in 0..products {
            by_product_start[p + 1] += by_product_start[p];
        }
        let mut next = by_product_start[..products].to_vec();
        let mut by_product = vec![0u32; by_customer.len()];
        for k in 0..customers {
            let kk = u32::try_from(k).unwrap_or(u32::MAX);
            for &p in &by_customer[by_customer_start[k]..by_customer_start[k + 1]] {
                let slot = &mut next[p as usize];
                by_product[*slot] = kk;
                *slot += 1;
            }
        }
        CoPurchase {
            by_customer_start,
            by_customer,
            by_product_start,
            by_product,
        }
    }
}

/// Sales by product: units, revenue (Σ line totals), cost (units × the catalogue's
/// unit cost, when known), margin (revenue − cost), buyers and repeat buyers.
///
/// **Definition.** For product *p*: revenue = Σ over its lines of (quantity × unit
/// price − line discount); cost = Σ quantity × unit cost of *p* (the catalogue's
/// current unit cost; unknown cost → no cost and no margin); margin = revenue − cost;
/// buyers = distinct customers with a line of *p*; repeat buyers = those with lines of
/// *p* in at least two different purchases; the **repeat rate** ([`SalesRow::repeat_rate`])
/// = repeat buyers ÷ buyers.
///
/// **Source.** Standard retail product reporting (sales, gross margin, repeat purchase
/// rate per item).
///
/// **Edge cases.** Products without lines have no row; voided purchases are not in the
/// log; refunds are not netted out; rows come by SKU.
///
/// ```
/// use solocrm_core::metrics::products::{LineLog, product_sales};
/// use solocrm_core::product::Sku;
/// use solocrm_core::{CustomerId, Currency};
/// let log = LineLog {
///     currency: Some(Currency::CNY),
///     skus: vec![Sku::parse("CUP")?, Sku::parse("TEA")?],
///     product_category: vec![None, None],
///     unit_cost: vec![None, Some(4_000)],
///     categories: vec![],
///     customers: vec![CustomerId::new(1), CustomerId::new(2)],
///     // Customer 0 buys tea in purchases 1 and 2, customer 1 tea and a cup in 3.
///     customer: vec![0, 0, 1, 1],
///     purchase: vec![1, 2, 3, 3],
///     product: vec![1, 1, 1, 0],
///     quantity: vec![2, 1, 1, 1],
///     revenue: vec![17_000, 8_800, 8_800, 3_500],
/// };
/// let rows = product_sales(&log);
/// let tea = &rows[1];
/// assert_eq!((tea.units, tea.revenue), (4, 34_600));
/// // 4 units × 40.00 = 160.00 cost; 346.00 − 160.00 = 186.00 margin.
/// assert_eq!((tea.cost, tea.margin), (Some(16_000), Some(18_600)));
/// // Two buyers, one of whom bought tea in two purchases: a repeat rate of 50 %.
/// assert_eq!((tea.buyers, tea.repeat_buyers), (2, 1));
/// assert_eq!(tea.repeat_rate().map(|r| r.to_string()), Some("50.00 %".to_owned()));
/// assert_eq!(rows[0].margin, None); // the cup's cost is unknown
/// # Ok::<(), solocrm_core::ValidationError>(())
/// ```
pub fn product_sales(log: &LineLog) -> Vec<SalesRow> {
    ProductAnalytics::new(log).product_sales()
}

/// Sales by category: the figures of [`product_sales`] summed over the products of
/// each category (buyers and repeat buyers counted per category: a customer who bought
/// two teas in two purchases is a repeat buyer of the category). A last row with key
/// `None` holds the products without a category, if they sold.
///
/// ```
/// use solocrm_core::metrics::products::{LineLog, category_sales};
/// use solocrm_core::product::Sku;
/// use solocrm_core::{CustomerId, Currency, Label};
/// let log = LineLog {
///     currency: Some(Currency::CNY),
///     skus: vec![Sku::parse("LJ")?, Sku::parse("PE")?],
///     product_category: vec![Some(0), Some(0)],
///     unit_cost: vec![Some(4_000), Some(6_000)],
///     categories: vec![Label::parse("茶叶")?],
///     customers: vec![CustomerId::new(7)],
///     customer: vec![0, 0],
///     purchase: vec![1, 2],
///     product: vec![0, 1],
///     quantity: vec![1, 1],
///     revenue: vec![8_800, 12_000],
/// };
/// let rows = category_sales(&log);
/// assert_eq!(rows.len(), 1);
/// // 88.00 + 120.00 revenue, 40.00 + 60.00 cost: 108.00 margin; one repeat buyer.
/// assert_eq!((rows[0].revenue, rows[0].margin, rows[0].repeat_buyers), (20_800, Some(10_800), 1));
/// # Ok::<(), solocrm_core::ValidationError>(())
/// ```
pub fn category_sales(log: &LineLog) -> Vec<SalesRow> {
    ProductAnalytics::new(log).category_sales()
}

/// How many distinct products each customer bought: the number of customers with
/// lines, the mean, and the distribution.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductsPerCustomer {
    /// Customers with at least one line.
    pub customers: u64,
    /// Σ distinct products over those customers.
    pub pairs: u64,
    /// Distinct products → how many customers bought that many, ascending.
    pub distribution: BTreeMap<u32, u64>,
}

impl ProductsPerCustomer {
    /// The mean number of distinct products per customer with lines, `pairs ÷
    /// customers`, exact to 28 digits, without trailing zeros; `None` without customers.
    pub fn mean(&self) -> Option<rust_decimal::Decimal> {
        (self.customers > 0).then(|| {
            (rust_decimal::Decimal::from(self.pairs) / rust_decimal::Decimal::from(self.customers))
                .normalize()
        })
    }
}

/// Products per customer: for each customer with lines, the number of distinct
/// products they bought (over all their purchases); the mean over those customers and
/// the distribution. Customers without lines are not counted.
///
/// ```
/// use solocrm_core::metrics::products::{LineLog, products_per_customer};
/// use solocrm_core::product::Sku;
/// use solocrm_core::{CustomerId, Currency};
/// let log = LineLog {
///     currency: Some(Currency::CNY),
///     skus: vec![Sku::parse("A")?, Sku::parse("B")?, Sku::parse("C")?],
///     product_category: vec![None; 3],
///     unit_cost: vec![None; 3],
///     categories: vec![],
///     customers: vec![CustomerId::new(1), CustomerId::new(2)],
///     // Customer 0: A, B, A again; customer 1: C.
///     customer: vec![0, 0, 0, 1],
///     purchase: vec![1, 1, 2, 3],
///     product: vec![0, 1, 0, 2],
///     quantity: vec![1; 4],
///     revenue: vec![100; 4],
/// };
/// let ppc = products_per_customer(&log);
/// // (2 + 1) / 2 = 1.5 distinct products per customer.
/// assert_eq!(ppc.mean().map(|m| m.to_string()), Some("1.5".to_owned()));
/// assert_eq!(ppc.distribution.get(&2), Some(&1));
/// # Ok::<(), solocrm_core::ValidationError>(())
/// ```
pub fn products_per_customer(log: &LineLog) -> ProductsPerCustomer {
    ProductAnalytics::new(log).products_per_customer()
}

/// Who bought what, both ways, for item-to-item recommendations: each customer's
/// distinct products and each product's distinct buyers (compressed rows).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoPurchase {
    by_customer_start: Vec<usize>,
    by_customer: Vec<u32>,
    by_product_start: Vec<usize>,
    by_product: Vec<u32>,
}

/// One recommended product ([`CoPurchase::recommend`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Recommendation {
    /// The product (dense index into [`LineLog::skus`]).
    pub product: u32,
    /// Σ over the customer's products *i* of cosine(*i*, product); see
    /// [`CoPurchase::recommend`].
    pub score: f64,
    /// Σ over the customer's products *i* of the customers who bought both *i* and
    /// this product.
    pub together: u64,
    /// How many customers bought this product.
    pub buyers: u64,
}

impl CoPurchase {
    /// Indexes `log`: its lines grouped by customer ([`ProductAnalytics::new`]), each
    /// customer's products sorted and deduplicated, then grouped by product. A caller
    /// that has a [`ProductAnalytics`] uses [`ProductAnalytics::co_purchase`] instead.
    pub fn build(log: &LineLog) -> CoPurchase {
        ProductAnalytics::new(log).co_purchase()
    }

    /// The distinct products of customer `k`, ascending.
    pub fn products_of(&self, k: usize) -> &[u32] {
        match (
            self.by_customer_start.get(k),
            self.by_customer_start.get(k + 1),
        ) {
            (Some(&a), Some(&b)) => &self.by_customer[a..b],
            _ => &[],
        }
    }

    /// The distinct buyers of product `p`, ascending.
    pub fn buyers_of(&self, p: usize) -> &[u32] {
        match (
            self.by_product_start.get(p),
            self.by_product_start.get(p + 1),
        ) {
            (Some(&a), Some(&b)) => &self.by_product[a..b],
            _ => &[],
        }
    }

    /// "Bought together" recommendations for customer `k`: the `limit` products they
    /// have not bought with the highest score, best first.
    ///
    /// **Score.** Item-to-item **cosine similarity** over buyers: for products *i* and
    /// *j*, cos(*i*, *j*) = *C*(*i*, *j*) ÷ √(*N*(*i*) · *N*(*j*)), where *N*(*x*) is the
    /// number of customers who bought *x* and *C*(*i*, *j*) the number who bought both
    /// (each customer counted once, however often they bought). A candidate *j*'s
    /// score for the customer is Σ over the products *i* the customer bought of
    /// cos(*i*, *j*). Cosine, rather than raw co-occurrence counts, keeps a product
    /// everybody buys from topping every list; rather than lift, it does not
    /// overrate a product with one or two buyers.
    ///
    /// **Source.** Item-based collaborative filtering (Sarwar et al., 2001; Linden,
    /// Smith and York, 2003, "Amazon.com recommendations: item-to-item collaborative
    /// filtering").
    ///
    /// **Edge cases.** The customer's own products are never recommended; the customer
    /// is left out of the co-purchase counts; a product no one bought with theirs is
    /// not listed (so the list may be shorter than `limit`, or empty for a customer
    /// without lines); ties go to the product with more buyers, then the lower SKU.
    ///
    /// ```
    /// use solocrm_core::metrics::products::{CoPurchase, LineLog};
    /// use solocrm_core::product::Sku;
    /// use solocrm_core::{CustomerId, Currency};
    /// // Products: 0 茶叶, 1 茶杯, 2 茶盘. Customers 0 and 1 bought tea and a cup,
    /// // customer 2 tea and a tray, customer 3 only tea.
    /// let log = LineLog {
    ///     currency: Some(Currency::CNY),
    ///     skus: vec![Sku::parse("茶叶")?, Sku::parse("茶杯")?, Sku::parse("茶盘")?],
    ///     product_category: vec![None; 3],
    ///     unit_cost: vec![None; 3],
    ///     categories: vec![],
    ///     customers: (1..=4).map(CustomerId::new).collect(),
    ///     customer: vec![0, 0, 1, 1, 2, 2, 3],
    ///     purchase: vec![1, 1, 2, 2, 3, 3, 4],
    ///     product: vec![0, 1, 0, 1, 0, 2, 0],
    ///     quantity: vec![1; 7],
    ///     revenue: vec![100; 7],
    /// };
    /// let index = CoPurchase::build(&log);
    /// let recs = index.recommend(3, 5);
    /// // cos(tea, cup) = 2 / √(4 · 2) ≈ 0.707; cos(tea, tray) = 1 / √(4 · 1) = 0.5.
    /// assert_eq!(recs.iter().map(|r| r.product).collect::<Vec<_>>(), vec![1, 2]);
    /// assert!((recs[0].score - 2.0 / 8f64.sqrt()).abs() < 1e-12);
    /// assert_eq!((recs[1].score, recs[1].together), (0.5, 1));
    /// # Ok::<(), solocrm_core::ValidationError>(())
    /// ```
    pub fn recommend(&self, k: usize, limit: usize) -> Vec<Recommendation> {
        let mine = self.products_of(k);
        if mine.is_empty() || limit == 0 {
            return Vec::new();
        }
        // Dense accumulators by product: Σ 1/√N(i) and the co-purchase count of each
        // candidate, added in the same order as the definition reads (the customer's
        // products ascending, their buyers ascending, those buyers' products
        // ascending), so every score is the same to the last bit whatever the layout.
        let products = self.by_product_start.len().saturating_sub(1);
        let mut weight = vec![0.0f64; products];
        let mut together = vec![0u64; products];
        let mut candidates: Vec<u32> = Vec::new();
        for &i in mine {
            let buyers_i = self.buyers_of(i as usize);
            let w_i = 1.0 / (buyers_i.len() as f64).sqrt();
            for &v in buyers_i {
                if v as usize == k {
                    continue;
                }
                for &j in self.products_of(v as usize) {
                    let ju = j as usize;
                    if together[ju] == 0 {
                        candidates.push(j);
                    }
                    weight[ju] += w_i;
                    together[ju] += 1;
                }
            }
        }
        let mut out: Vec<Recommendation> = candidates
            .into_iter()
            .filter(|j| mine.binary_search(j).is_err())
            .map(|j| {
                let buyers = self.buyers_of(j as usize).len() as u64;
                Recommendation {
                    product: j,
                    score: weight[j as usize] / (buyers as f64).sqrt(),
                    together: together[j as usize],
                    buyers,
                }
            })
            .collect();
        out.sort_by(|a, b| {
            b.score
                .total_cmp(&a.score)
                .then(b.buyers.cmp(&a.buyers))
                .then(a.product.cmp(&b.product))
        });
        out.truncate(limit);
        out
    }

    /// The popularity baseline: the `limit` products with the most buyers that
    /// customer `k` has not bought, most buyers first (ties: lower SKU first).
    pub fn popular(&self, k: usize, limit: usize) -> Vec<u32> {
        let mine = self.products_of(k);
        let mut all: Vec<(usize, u32)> = (0..self.by_product_start.len().saturating_sub(1))
            .map(|p| {
                (
                    self.buyers_of(p).len(),
                    u32::try_from(p).unwrap_or(u32::MAX),
                )
            })
            .filter(|&(n, p)| n > 0 && mine.binary_search(&p).is_err())
            .collect();
        all.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        all.into_iter().take(limit).map(|(_, p)| p).collect()
    }
}

/// A hold-out hit rate: the share of `held_out` pairs (customer, product) whose product
/// is among the customer's top `k` by `recommend` — the share of hidden purchases the
/// recommender would have shown. `None` without pairs.
///
/// ```
/// use solocrm_core::metrics::products::hit_rate;
/// let held_out = [(0u32, 5u32), (1, 6)];
/// let r = hit_rate(&held_out, 3, |c, _| if c == 0 { vec![5, 1] } else { vec![2] });
/// assert_eq!(r.map(|r| r.to_string()), Some("50.00 %".to_owned()));
/// ```
pub fn hit_rate(
    held_out: &[(u32, u32)],
    k: usize,
    recommend: impl Fn(u32, usize) -> Vec<u32>,
) -> Option<Ratio> {
    let hits = held_out
        .iter()
        .filter(|&&(c, p)| recommend(c, k).into_iter().take(k).any(|q| q == p))
        .count();
    Ratio::of(
        hits as u64,
        held_out.len() as u64,
        "hit rate",
        "held-out purchases",
    )
    .ok()
}
