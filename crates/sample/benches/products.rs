//! Product analytics and recommendations at the size: 10 M purchase lines of
//! 1 M customers over 10 k products (generated in memory, `solocrm_sample::lines`).
//! Each kernel alone, then all of them as `product stats` and one `recommend` run them
//! (sales by product and category, products per customer, the co-purchase index and
//! one customer's recommendations). Results: docs/performance.md.

#![allow(missing_docs)] // criterion_group! generates an undocumented function.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use solocrm_core::metrics::products::{
    CoPurchase, category_sales, product_sales, products_per_customer,
};
use solocrm_sample::lines::{LinesConfig, line_log};

fn products(c: &mut Criterion) {
    let log = line_log(&LinesConfig::new(1_000_000, 10_000, 10_000_000, 42));
    eprintln!(
        "{} lines, {} customers, {} products",
        log.len(),
        log.customers.len(),
        log.skus.len()
    );
    let mut g = c.benchmark_group("products_10m_lines");
    g.sample_size(10);
    g.bench_function("product_sales", |b| {
        b.iter(|| product_sales(black_box(&log)))
    });
    g.bench_function("category_sales", |b| {
        b.iter(|| category_sales(black_box(&log)))
    });
    g.bench_function("products_per_customer", |b| {
        b.iter(|| products_per_customer(black_box(&log)))
    });
    g.bench_function("co_purchase_index", |b| {
        b.iter(|| CoPurchase::build(black_box(&log)))
    });
    let index = CoPurchase::build(&log);
    let n = log.customers.len();
    g.bench_function("recommend_one_customer_x1000", |b| {
        b.iter(|| {
            for i in 0..1_000 {
                black_box(index.recommend((i * 997) % n, 10));
            }
        })
    });
    g.bench_function("stats_and_recommend_all_kernels", |b| {
        b.iter(|| {
            black_box(product_sales(&log));
            black_box(category_sales(&log));
            black_box(products_per_customer(&log));
            let index = CoPurchase::build(&log);
            black_box(index.recommend(12_345, 10))
        })
    });
    g.finish();
}

criterion_group!(benches, products);
criterion_main!(benches);
