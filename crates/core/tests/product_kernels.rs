//! The product kernels of `solocrm_core::metrics::products` (one grouping by customer
//! shared by all of them, dense arrays, one pass each) against naive references written
//! from the definitions with maps and sets, on random small logs: lines in any order,
//! purchases not sorted, customers and products without lines, unknown costs, products
//! without a category, and amounts large enough to overflow.

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;
use solocrm_core::metrics::products::{
    CoPurchase, LineLog, ProductAnalytics, ProductsPerCustomer, Recommendation, SalesRow,
    category_sales, product_sales, products_per_customer,
};
use solocrm_core::product::Sku;
use solocrm_core::{Currency, CustomerId, Label};

/// One random line: (customer, purchase, product, quantity, revenue).
type Line = (u32, u64, u32, u32, i64);

/// A random log: up to `customers` customers, `products` products (SKUs in Chinese),
/// `categories` categories. Either lines in random order with purchase ids shared
/// across customers, or each purchase one customer's run of lines in ascending purchase
/// id, as a store gives them (the kernels take a shorter path for those).
fn log_strategy() -> impl Strategy<Value = LineLog> {
    (
        1usize..12,
        1usize..10,
        0usize..4,
        any::<bool>(),
        any::<bool>(),
    )
        .prop_flat_map(|(customers, products, categories, huge, as_stored)| {
            let amount = if huge {
                (i64::MAX / 4 - 1_000)..(i64::MAX / 4)
            } else {
                0i64..100_000
            };
            let category = prop::option::of(0..categories.max(1) as u32)
                .prop_map(move |c| c.filter(|_| categories > 0));
            (
                prop::collection::vec(category, products),
                prop::collection::vec(prop::option::of(amount.clone()), products),
                prop::collection::vec(
                    (
                        0..customers as u32,
                        1u64..8,
                        0..products as u32,
                        1u32..4,
                        amount,
                    ),
                    0..60,
                ),
            )
                .prop_map(move |(product_category, unit_cost, mut lines)| {
                    if as_stored {
                        for l in &mut lines {
                            l.1 += u64::from(l.0) * 8;
                        }
                        lines.sort_by_key(|l| l.1);
                    }
                    make_log(customers, categories, product_category, unit_cost, &lines)
                })
        })
}

fn make_log(
    customers: usize,
    categories: usize,
    product_category: Vec<Option<u32>>,
    unit_cost: Vec<Option<i64>>,
    lines: &[Line],
) -> LineLog {
    let products = product_category.len();
    LineLog {
        currency: Some(Currency::CNY),
        skus: (0..products)
            .map(|p| Sku::parse(&format!("茶{p:02}")).expect("a SKU"))
            .collect(),
        product_category,
        unit_cost,
        categories: (0..categories)
            .map(|c| Label::parse(&format!("类别{c}")).expect("a label"))
            .collect(),
        customers: (1..=customers as u64).map(CustomerId::new).collect(),
        customer: lines.iter().map(|l| l.0).collect(),
        purchase: lines.iter().map(|l| l.1).collect(),
        product: lines.iter().map(|l| l.2).collect(),
        quantity: lines.iter().map(|l| l.3).collect(),
        revenue: lines.iter().map(|l| l.4).collect(),
    }
}

/// Sales by `group(product)` straight from the definitions: sums in `i128`, saturated
/// (revenue) or dropped (cost) past `i64`, buyers and their purchases as sets.
fn naive_sales(log: &LineLog, group: impl Fn(u32) -> Option<u32>) -> Vec<SalesRow> {
    #[derive(Default)]
    struct Acc {
        units: u64,
        revenue: i128,
        cost: Option<i128>,
        purchases: BTreeMap<u32, BTreeSet<u64>>,
    }
    let mut by: BTreeMap<(bool, Option<u32>), Acc> = BTreeMap::new();
    for r in 0..log.len() {
        let p = log.product[r];
        let key = group(p);
        // Groups come by index, the one without a group last.
        let acc = by.entry((key.is_none(), key)).or_insert_with(|| Acc {
            cost: Some(0),
            ..Acc::default()
        });
        let q = log.quantity[r];
        acc.units += u64::from(q);
        acc.revenue += i128::from(log.revenue[r]);
        acc.cost = match (acc.cost, log.unit_cost[p as usize]) {
            (Some(sum), Some(unit)) => Some(sum + i128::from(unit) * i128::from(q)),
            _ => None,
        };
        acc.purchases
            .entry(log.customer[r])
            .or_default()
            .insert(log.purchase[r]);
    }
    by.into_iter()
        .filter(|(_, a)| a.units > 0)
        .map(|((_, key), a)| {
            let revenue = i64::try_from(a.revenue).unwrap_or(i64::MAX);
            let cost = a.cost.and_then(|c| i64::try_from(c).ok());
            SalesRow {
                key,
                units: a.units,
                revenue,
                cost,
                margin: cost.map(|c| revenue - c),
                buyers: a.purchases.len() as u64,
                repeat_buyers: a.purchases.values().filter(|s| s.len() >= 2).count() as u64,
            }
        })
        .collect()
}

/// Each customer's distinct products.
fn naive_products(log: &LineLog) -> Vec<BTreeSet<u32>> {
    let mut mine = vec![BTreeSet::new(); log.customers.len()];
    for r in 0..log.len() {
        mine[log.customer[r] as usize].insert(log.product[r]);
    }
    mine
}

fn naive_products_per_customer(log: &LineLog) -> ProductsPerCustomer {
    let mine = naive_products(log);
    let mut distribution = BTreeMap::new();
    for s in mine.iter().filter(|s| !s.is_empty()) {
        *distribution.entry(s.len() as u32).or_insert(0) += 1;
    }
    ProductsPerCustomer {
        customers: mine.iter().filter(|s| !s.is_empty()).count() as u64,
        pairs: mine.iter().map(|s| s.len() as u64).sum(),
        distribution,
    }
}

/// The recommendations of customer `k` by the definition: for each product *j* they did
/// not buy, C(i, j) over the other customers and Σ C(i, j) / √(N(i) · N(j)).
fn naive_recommend(log: &LineLog, k: usize) -> BTreeMap<u32, (f64, u64, u64)> {
    let mine = naive_products(log);
    let buyers = |p: u32| mine.iter().filter(|s| s.contains(&p)).count() as u64;
    let mut out = BTreeMap::new();
    for j in 0..log.skus.len() as u32 {
        if mine[k].contains(&j) {
            continue;
        }
        let mut together = 0u64;
        let mut score = 0.0f64;
        for &i in &mine[k] {
            let both = mine
                .iter()
                .enumerate()
                .filter(|&(v, s)| v != k && s.contains(&i) && s.contains(&j))
                .count() as u64;
            together += both;
            score += both as f64 / ((buyers(i) * buyers(j)) as f64).sqrt();
        }
        if together > 0 {
            out.insert(j, (score, together, buyers(j)));
        }
    }
    out
}

/// The recommender as it was written before the dense accumulators (a hash map of
/// candidates), over the same index: the scores must be the same to the last bit.
fn hashed_recommend(index: &CoPurchase, k: usize) -> Vec<Recommendation> {
    let mine = index.products_of(k);
    let mut acc: std::collections::HashMap<u32, (f64, u64)> = std::collections::HashMap::new();
    for &i in mine {
        let buyers_i = index.buyers_of(i as usize);
        let weight = 1.0 / (buyers_i.len() as f64).sqrt();
        for &v in buyers_i {
            if v as usize == k {
                continue;
            }
            for &j in index.products_of(v as usize) {
                let e = acc.entry(j).or_insert((0.0, 0));
                e.0 += weight;
                e.1 += 1;
            }
        }
    }
    let mut out: Vec<Recommendation> = acc
        .into_iter()
        .filter(|(j, _)| mine.binary_search(j).is_err())
        .map(|(j, (w, together))| {
            let buyers = index.buyers_of(j as usize).len() as u64;
            Recommendation {
                product: j,
                score: w / (buyers as f64).sqrt(),
                together,
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
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    /// Sales by product and by category, products per customer, the co-purchase index
    /// and every customer's recommendations equal the naive references, whether each
    /// kernel groups the log itself or they share one `ProductAnalytics`.
    #[test]
    fn the_product_kernels_equal_the_naive_references(log in log_strategy()) {
        let analytics = ProductAnalytics::new(&log);
        let products = naive_sales(&log, Some);
        prop_assert_eq!(&product_sales(&log), &products);
        prop_assert_eq!(&analytics.product_sales(), &products);
        let categories = naive_sales(&log, |p| log.product_category[p as usize]);
        prop_assert_eq!(&category_sales(&log), &categories);
        prop_assert_eq!(&analytics.category_sales(), &categories);
        let ppc = naive_products_per_customer(&log);
        prop_assert_eq!(&products_per_customer(&log), &ppc);
        prop_assert_eq!(&analytics.products_per_customer(), &ppc);

        let index = analytics.co_purchase();
        prop_assert_eq!(&index, &CoPurchase::build(&log));
        let mine = naive_products(&log);
        for (k, set) in mine.iter().enumerate() {
            prop_assert_eq!(index.products_of(k), set.iter().copied().collect::<Vec<_>>());
        }
        for p in 0..log.skus.len() {
            let buyers: Vec<u32> = (0..mine.len() as u32)
                .filter(|&k| mine[k as usize].contains(&(p as u32)))
                .collect();
            prop_assert_eq!(index.buyers_of(p), buyers);
        }

        for k in 0..log.customers.len() {
            let all = index.recommend(k, usize::MAX);
            prop_assert_eq!(&all, &hashed_recommend(&index, k));
            let naive = naive_recommend(&log, k);
            prop_assert_eq!(
                all.iter().map(|r| r.product).collect::<BTreeSet<_>>(),
                naive.keys().copied().collect::<BTreeSet<_>>()
            );
            for r in &all {
                let (score, together, buyers) = naive[&r.product];
                prop_assert_eq!((r.together, r.buyers), (together, buyers));
                prop_assert!((r.score - score).abs() <= 1e-12 * score.max(1.0));
            }
            for pair in all.windows(2) {
                let (a, b) = (&pair[0], &pair[1]);
                prop_assert!(
                    a.score > b.score
                        || (a.score == b.score
                            && (a.buyers, std::cmp::Reverse(a.product))
                                > (b.buyers, std::cmp::Reverse(b.product)))
                );
            }
            let limit = 1 + k % 3;
            prop_assert_eq!(&index.recommend(k, limit)[..], &all[..all.len().min(limit)]);
        }
    }
}

/// The same lines in another order (purchases interleaved across customers, as a book
/// records them over time) give the same figures.
#[test]
fn the_order_of_the_lines_does_not_change_the_figures() {
    let lines: Vec<Line> = (0..200u32)
        .map(|i| {
            (
                i % 7,
                u64::from(i / 3),
                (i * 7 + i / 5) % 11,
                1 + i % 3,
                100 + i64::from(i),
            )
        })
        .collect();
    let categories: Vec<Option<u32>> = (0..11).map(|p| (p % 4 != 3).then_some(p % 3)).collect();
    let costs: Vec<Option<i64>> = (0..11).map(|p| (p != 5).then_some(40 + p)).collect();
    let a = make_log(8, 3, categories.clone(), costs.clone(), &lines);
    let mut reversed = lines.clone();
    reversed.reverse();
    let b = make_log(8, 3, categories, costs, &reversed);
    let (x, y) = (ProductAnalytics::new(&a), ProductAnalytics::new(&b));
    assert_eq!(x.product_sales(), y.product_sales());
    assert_eq!(x.category_sales(), y.category_sales());
    assert_eq!(x.products_per_customer(), y.products_per_customer());
    assert_eq!(x.co_purchase(), y.co_purchase());
    assert_eq!(x.product_sales(), naive_sales(&a, Some));
    // Customer 7 has no lines: no recommendations, and not counted per customer.
    assert!(x.co_purchase().recommend(7, 10).is_empty());
    assert_eq!(x.products_per_customer().customers, 7);
}

/// A malformed log (a line naming a customer or product outside the tables, columns of
/// different lengths) gives figures for the rest instead of a panic.
#[test]
fn lines_outside_the_tables_are_left_out() {
    let good: Vec<Line> = vec![(0, 1, 0, 2, 500), (1, 2, 0, 1, 250), (1, 3, 1, 1, 90)];
    let mut bad = good.clone();
    bad.push((9, 4, 0, 1, 1_000)); // no customer 9
    bad.push((0, 5, 9, 1, 1_000)); // no product 9
    let mut log = make_log(2, 1, vec![Some(0), Some(7)], vec![Some(100), None], &bad);
    log.revenue.push(77); // a column longer than the others
    let reference = make_log(2, 1, vec![Some(0), None], vec![Some(100), None], &good);
    let analytics = ProductAnalytics::new(&log);
    assert_eq!(analytics.product_sales(), product_sales(&reference));
    // Category 7 does not exist: the product counts as one without a category.
    assert_eq!(analytics.category_sales(), category_sales(&reference));
    assert_eq!(
        analytics.products_per_customer(),
        products_per_customer(&reference)
    );
    assert_eq!(analytics.co_purchase(), CoPurchase::build(&reference));
}
