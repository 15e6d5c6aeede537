//! How fast the seeded generator builds the columnar purchase log the metric benches
//! run on: 1 M purchases over 100 k customers, and 10 M over 1 M.
//!
//! `cargo bench -p solocrm-sample --bench generate`
#![allow(missing_docs)] // criterion_group! generates an undocumented function.

use criterion::{Criterion, criterion_group, criterion_main};
use solocrm_sample::{GenConfig, purchase_log};

fn generate(c: &mut Criterion) {
    let mut group = c.benchmark_group("generate");
    group.sample_size(10);
    for (customers, purchases) in [(100_000u32, 1_000_000u64), (1_000_000, 10_000_000)] {
        let config = GenConfig::new(customers, 42).with_purchases(purchases);
        group.bench_function(format!("purchase_log/{purchases}x{customers}"), |b| {
            b.iter(|| purchase_log(&config))
        });
    }
    group.finish();
}

criterion_group!(benches, generate);
criterion_main!(benches);
