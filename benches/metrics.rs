//! Benchmarks of the columnar metrics over generated purchase logs: RFM (aggregate +
//! quintile scoring + segment) and the cohort matrix, at 10 M purchases over 1 M
//! customers and 1 M over 100 k.
//!
//! Run: `cargo bench -p solocrm --bench metrics`. Results and the comparison with
//! DuckDB, polars and pandas are in `docs/performance.md`.
// criterion's macros generate undocumented public functions.
#![allow(missing_docs)]

use std::hint::black_box;
use std::time::Duration;

use chrono::NaiveDate;
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use solocrm::metrics::{CohortGrain, Period, TieRule, cohort_matrix, purchase_stats, rfm};
use solocrm::{LifecyclePolicy, PurchaseLog};
use solocrm_store_tests::generate::{GenConfig, purchase_log};

/// The shapes of the issue: (purchases, customers).
const SHAPES: [(u64, u32); 2] = [(1_000_000, 100_000), (10_000_000, 1_000_000)];

fn as_of() -> NaiveDate {
    // The generator's history ends just before 2026-01-01.
    NaiveDate::from_ymd_opt(2025, 12, 31).expect("a valid date")
}

fn logs() -> Vec<(String, PurchaseLog)> {
    SHAPES
        .iter()
        .map(|&(purchases, customers)| {
            let log = purchase_log(&GenConfig::new(customers, 42).with_purchases(purchases));
            (
                format!("{}M_{}k", purchases / 1_000_000, customers / 1_000),
                log,
            )
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let logs = logs();
    let mut g = c.benchmark_group("metrics");
    g.sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(6));
    for (name, log) in &logs {
        for tie in [TieRule::Shared, TieRule::Ordinal] {
            g.bench_with_input(
                BenchmarkId::new(format!("rfm_{tie}"), name),
                log,
                |b, log| b.iter(|| rfm(black_box(log), as_of(), tie).expect("rfm")),
            );
        }
        for grain in [CohortGrain::Month, CohortGrain::Week] {
            g.bench_with_input(
                BenchmarkId::new(format!("cohort_{grain}"), name),
                log,
                |b, log| b.iter(|| cohort_matrix(black_box(log), grain, as_of()).expect("cohorts")),
            );
        }
        let year = Period::year(2025).expect("a valid year");
        g.bench_with_input(
            BenchmarkId::new("purchase_stats_year", name),
            log,
            |b, log| b.iter(|| purchase_stats(black_box(log), year).expect("stats")),
        );
        let policy = LifecyclePolicy::default();
        g.bench_with_input(
            BenchmarkId::new("customer_base_year", name),
            log,
            |b, log| {
                b.iter(|| {
                    solocrm::metrics::customer_base(black_box(log), year, &policy).expect("base")
                })
            },
        );
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
