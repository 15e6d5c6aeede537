//! Generated purchase lines with co-purchase structure, as a [`LineLog`] for the
//! product analytics (the benchmark at 10 M lines and the recommender's hold-out check).
//!
//! The catalogue is split into **themes** of related products (a category each, e.g.
//! 茶叶 with its cups and trays). Each customer has one or two favourite themes; each of
//! their purchases draws a theme (a favourite with probability `loyalty`, else any) and
//! one to three products from it, the popular ones more often (weights 1/rank within
//! the theme). So products of a theme are bought together far more often than chance,
//! which is the structure an item-to-item recommender should find and a popularity
//! ranking cannot.

use solocrm_core::metrics::products::LineLog;
use solocrm_core::product::Sku;
use solocrm_core::{Currency, CustomerId, Label};

use crate::rng::Rng;

/// What [`line_log`] generates.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LinesConfig {
    /// Customers (all of them buy).
    pub customers: u32,
    /// Products in the catalogue.
    pub products: u32,
    /// Products per theme.
    pub theme_size: u32,
    /// Lines in all, about (each customer gets `lines / customers` on average).
    pub lines: u64,
    /// The chance that a purchase draws from a favourite theme.
    pub loyalty: f64,
    /// The seed: the same config gives the same log.
    pub seed: u64,
}

impl LinesConfig {
    /// `lines` lines of `customers` customers over `products` products, themes of 20,
    /// loyalty 0.8.
    pub fn new(customers: u32, products: u32, lines: u64, seed: u64) -> Self {
        LinesConfig {
            customers,
            products,
            theme_size: 20,
            lines,
            loyalty: 0.8,
            seed,
        }
    }
}

/// A product of `theme` by weight 1/rank: rank r (0-based) with probability
/// ∝ 1/(r + 1), drawn through the harmonic table `cumulative`.
fn pick_in_theme(rng: &mut Rng, cumulative: &[f64]) -> usize {
    let total = cumulative.last().copied().unwrap_or(1.0);
    let x = rng.uniform() * total;
    cumulative
        .partition_point(|&c| c <= x)
        .min(cumulative.len() - 1)
}

/// Generates the log: products `P00000`… in themes (category `theme N`), unit costs
/// 40 % of a price from 5.00 to 500.00, and the lines of every customer by purchase.
pub fn line_log(config: &LinesConfig) -> LineLog {
    let products = config.products.max(1);
    let theme_size = config.theme_size.clamp(1, products);
    let themes = products.div_ceil(theme_size);
    let mut rng = Rng::new(config.seed);
    let mut log = LineLog {
        currency: Some(Currency::CNY),
        ..LineLog::default()
    };
    let mut price = Vec::with_capacity(products as usize);
    for p in 0..products {
        log.skus
            .push(Sku::parse(&format!("P{p:05}")).unwrap_or_else(|_| unreachable_sku()));
        log.product_category.push(Some(p / theme_size));
        let minor = rng.between(500, 50_000);
        price.push(minor);
        log.unit_cost.push(Some(minor * 2 / 5));
    }
    log.categories = (0..themes)
        .map(|t| Label::parse(&format!("theme {t:04}")).unwrap_or_else(|_| unreachable_label()))
        .collect();
    log.customers = (1..=u64::from(config.customers))
        .map(CustomerId::new)
        .collect();
    let cumulative: Vec<f64> = (0..theme_size)
        .scan(0.0, |acc, r| {
            *acc += 1.0 / f64::from(r + 1);
            Some(*acc)
        })
        .collect();
    let per_customer = config.lines as f64 / f64::from(config.customers.max(1));
    let capacity = usize::try_from(config.lines).unwrap_or(0) + 16;
    log.customer.reserve(capacity);
    log.purchase.reserve(capacity);
    log.product.reserve(capacity);
    log.quantity.reserve(capacity);
    log.revenue.reserve(capacity);
    let mut purchase = 0u64;
    for c in 0..config.customers {
        let favourites = [
            rng.below(u64::from(themes)) as u32,
            rng.below(u64::from(themes)) as u32,
        ];
        // Between half and one and a half times the average number of lines.
        let want = (per_customer * (0.5 + rng.uniform())).round().max(1.0) as u64;
        let mut written = 0;
        while written < want {
            purchase += 1;
            let theme = if rng.uniform() < config.loyalty {
                favourites[rng.below(2) as usize]
            } else {
                rng.below(u64::from(themes)) as u32
            };
            let first = theme * theme_size;
            let size = theme_size.min(products - first) as usize;
            let n = 1 + rng.below(3);
            for _ in 0..n.min(want - written) {
                let p = first + pick_in_theme(&mut rng, &cumulative[..size]) as u32;
                let q = 1 + rng.below(3) as u32;
                log.customer.push(c);
                log.purchase.push(purchase);
                log.product.push(p);
                log.quantity.push(q);
                log.revenue.push(price[p as usize] * i64::from(q));
                written += 1;
            }
        }
    }
    log
}

#[cold]
fn unreachable_sku() -> Sku {
    // `P` and five digits always parse; a fixed fallback keeps this panic-free.
    Sku::parse("P").unwrap_or_else(|_| unreachable_sku())
}

#[cold]
fn unreachable_label() -> Label {
    Label::parse("theme").unwrap_or_else(|_| unreachable_label())
}

/// Splits off each customer's last line for a hold-out check: the log without those
/// lines, and (customer, product) for each held-out line whose product the customer
/// did not also buy earlier (a repeat would be excluded from their recommendations).
pub fn hold_out_last(log: &LineLog) -> (LineLog, Vec<(u32, u32)>) {
    let mut last = vec![usize::MAX; log.customers.len()];
    for (r, &c) in log.customer.iter().enumerate() {
        last[c as usize] = r;
    }
    let mut times: std::collections::HashMap<(u32, u32), u32> = std::collections::HashMap::new();
    for (&c, &p) in log.customer.iter().zip(&log.product) {
        *times.entry((c, p)).or_insert(0) += 1;
    }
    let mut keep = vec![true; log.len()];
    let mut held = Vec::new();
    for &r in &last {
        if r == usize::MAX {
            continue;
        }
        keep[r] = false;
        let pair = (log.customer[r], log.product[r]);
        if times.get(&pair) == Some(&1) {
            held.push(pair);
        }
    }
    let mut train = LineLog {
        currency: log.currency,
        skus: log.skus.clone(),
        product_category: log.product_category.clone(),
        unit_cost: log.unit_cost.clone(),
        categories: log.categories.clone(),
        customers: log.customers.clone(),
        ..LineLog::default()
    };
    for (r, k) in keep.iter().enumerate() {
        if *k {
            train.customer.push(log.customer[r]);
            train.purchase.push(log.purchase[r]);
            train.product.push(log.product[r]);
            train.quantity.push(log.quantity[r]);
            train.revenue.push(log.revenue[r]);
        }
    }
    (train, held)
}

/// The same lines with the purchases in a shuffled order, renumbered `1, 2, …` in that
/// order: customers interleaved, as a book records purchases over time, instead of each
/// customer's purchases one after the other as [`line_log`] writes them. Each purchase
/// keeps its lines together and in their order, so every figure of the product analytics
/// is the same; only the memory layout the kernels meet changes.
pub fn interleave(log: &LineLog, seed: u64) -> LineLog {
    // Each purchase's rows (a run of equal purchase ids), then a seeded Fisher–Yates
    // shuffle of the runs.
    let starts: Vec<usize> = (0..log.len())
        .filter(|&r| r == 0 || log.purchase[r] != log.purchase[r - 1])
        .collect();
    let mut runs: Vec<(usize, usize)> = starts
        .iter()
        .enumerate()
        .map(|(i, &s)| (s, starts.get(i + 1).copied().unwrap_or(log.len())))
        .collect();
    let mut rng = Rng::new(seed);
    for i in (1..runs.len()).rev() {
        let j = rng.below(i as u64 + 1) as usize;
        runs.swap(i, j);
    }
    let mut out = LineLog {
        currency: log.currency,
        skus: log.skus.clone(),
        product_category: log.product_category.clone(),
        unit_cost: log.unit_cost.clone(),
        categories: log.categories.clone(),
        customers: log.customers.clone(),
        ..LineLog::default()
    };
    out.customer.reserve(log.len());
    out.purchase.reserve(log.len());
    out.product.reserve(log.len());
    out.quantity.reserve(log.len());
    out.revenue.reserve(log.len());
    for (n, &(from, to)) in runs.iter().enumerate() {
        for r in from..to {
            out.customer.push(log.customer[r]);
            out.purchase.push(n as u64 + 1);
            out.product.push(log.product[r]);
            out.quantity.push(log.quantity[r]);
            out.revenue.push(log.revenue[r]);
        }
    }
    out
}
