//! Product analytics and recommendations at the size: 10 M purchase lines of
//! 1 M customers over 10 k products (generated in memory, `solocrm_sample::lines`).
//!
//! Two layouts of the same lines: the generator's (each customer's purchases one after
//! the other) and `interleave`d (purchases shuffled across customers, as a book records
//! them over time). For each: every kernel alone through its free function (each groups
//! the log by customer itself), then the whole set that `product stats` and one
//! `recommend` need — sales by product and by category, products per customer, the
//! co-purchase index and one customer's recommendations — once with each kernel on its
//! own (`all_kernels_separately`) and once sharing one `ProductAnalytics`
//! (`all_kernels_shared`, what the CLI does).
//!
//! `SOLOCRM_BENCH_ROUNDS=N` instead: the shared set runs N times on each layout,
//! alternating, and each run prints its wall time and the CPU time of the thread
//! (`/proc/thread-self/schedstat`), stage by stage — the figure to read on a machine
//! shared with other work. Results: docs/performance.md.

#![allow(missing_docs)] // criterion_group! generates an undocumented function.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use solocrm_core::metrics::products::{
    CoPurchase, LineLog, ProductAnalytics, category_sales, product_sales, products_per_customer,
};
use solocrm_sample::lines::{LinesConfig, interleave, line_log};

/// The customer whose recommendations the whole set computes.
const CUSTOMER: usize = 12_345;

fn kernels(c: &mut Criterion, name: &str, log: &LineLog) {
    let mut g = c.benchmark_group(name);
    g.sample_size(10);
    g.bench_function("product_sales", |b| {
        b.iter(|| product_sales(black_box(log)))
    });
    g.bench_function("category_sales", |b| {
        b.iter(|| category_sales(black_box(log)))
    });
    g.bench_function("products_per_customer", |b| {
        b.iter(|| products_per_customer(black_box(log)))
    });
    g.bench_function("co_purchase_index", |b| {
        b.iter(|| CoPurchase::build(black_box(log)))
    });
    let index = CoPurchase::build(log);
    let n = log.customers.len();
    g.bench_function("recommend_one_customer_x1000", |b| {
        b.iter(|| {
            for i in 0..1_000 {
                black_box(index.recommend((i * 997) % n, 10));
            }
        })
    });
    drop(index);
    g.bench_function("all_kernels_separately", |b| {
        b.iter(|| {
            black_box(product_sales(log));
            black_box(category_sales(log));
            black_box(products_per_customer(log));
            let index = CoPurchase::build(log);
            black_box(index.recommend(CUSTOMER, 10))
        })
    });
    g.bench_function("all_kernels_shared", |b| {
        b.iter(|| {
            let analytics = ProductAnalytics::new(black_box(log));
            black_box(analytics.product_sales());
            black_box(analytics.category_sales());
            black_box(analytics.products_per_customer());
            let index = analytics.co_purchase();
            black_box(index.recommend(CUSTOMER, 10))
        })
    });
    g.finish();
}

/// The CPU time this thread has run, from the scheduler's statistics (Linux).
fn thread_cpu() -> Duration {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .map(Duration::from_nanos)
        .unwrap_or_default()
}

/// One run of the shared set: (stage, wall, CPU) for each stage, then the total.
fn timed_set(log: &LineLog) -> Vec<(&'static str, Duration, Duration)> {
    let mut out = Vec::new();
    let (t0, c0) = (Instant::now(), thread_cpu());
    let mut mark = (t0, c0);
    let mut stage = |name: &'static str, out: &mut Vec<_>| {
        let now = (Instant::now(), thread_cpu());
        out.push((name, now.0 - mark.0, now.1 - mark.1));
        mark = now;
    };
    let analytics = ProductAnalytics::new(log);
    stage("group", &mut out);
    black_box(analytics.product_sales());
    stage("product_sales", &mut out);
    black_box(analytics.category_sales());
    stage("category_sales", &mut out);
    black_box(analytics.products_per_customer());
    stage("products_per_customer", &mut out);
    let index = analytics.co_purchase();
    stage("co_purchase", &mut out);
    black_box(index.recommend(CUSTOMER, 10));
    stage("recommend", &mut out);
    drop(index);
    drop(analytics);
    stage("free", &mut out);
    out.push(("TOTAL", t0.elapsed(), thread_cpu() - c0));
    out
}

fn rounds(n: usize, layouts: &[(&str, &LineLog)]) {
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let mut totals: Vec<Vec<(f64, f64)>> = vec![Vec::new(); layouts.len()];
    for round in 0..n {
        for i in 0..layouts.len() {
            // Alternate which layout goes first.
            let i = (i + round) % layouts.len();
            let (name, log) = layouts[i];
            let set = timed_set(log);
            let stages: Vec<String> = set
                .iter()
                .map(|(s, w, c)| format!("{s} {:.0}/{:.0}", ms(*w), ms(*c)))
                .collect();
            eprintln!("round {round} {name} (wall/CPU ms): {}", stages.join(", "));
            if let Some((_, w, c)) = set.last() {
                totals[i].push((ms(*w), ms(*c)));
            }
        }
    }
    for (i, (name, _)) in layouts.iter().enumerate() {
        let mut wall: Vec<f64> = totals[i].iter().map(|t| t.0).collect();
        let mut cpu: Vec<f64> = totals[i].iter().map(|t| t.1).collect();
        wall.sort_by(f64::total_cmp);
        cpu.sort_by(f64::total_cmp);
        eprintln!(
            "{name}: all kernels shared, {n} runs: wall min {:.0} median {:.0} max {:.0} ms; \
             CPU min {:.0} median {:.0} max {:.0} ms",
            wall[0],
            wall[wall.len() / 2],
            wall[wall.len() - 1],
            cpu[0],
            cpu[cpu.len() / 2],
            cpu[cpu.len() - 1],
        );
    }
}

fn products(c: &mut Criterion) {
    let log = line_log(&LinesConfig::new(1_000_000, 10_000, 10_000_000, 42));
    let mixed = interleave(&log, 7);
    eprintln!(
        "{} lines, {} customers, {} products",
        log.len(),
        log.customers.len(),
        log.skus.len()
    );
    if let Some(n) = std::env::var("SOLOCRM_BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
        .filter(|&n| n > 0)
    {
        rounds(n, &[("by customer", &log), ("interleaved", &mixed)]);
        return;
    }
    kernels(c, "products_10m_lines", &log);
    kernels(c, "products_10m_lines_interleaved", &mixed);
}

criterion_group!(benches, products);
criterion_main!(benches);
