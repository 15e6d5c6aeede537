//! Benchmarks of the columnar metrics over generated purchase logs: RFM (aggregate +
//! quintile scoring + segment) and the cohort matrix, at 10 M purchases over 1 M
//! customers and 1 M over 100 k.
//!
//! The `zones` group runs RFM and the cohort matrix with the log counting its days in
//! UTC, Asia/Shanghai and America/New_York, for the cost of the business time zone
//! (issue 12: at most 10 % over UTC at 10 M purchases).
//!
//! Run: `cargo bench -p solocrm --bench metrics` (only the zones:
//! `cargo bench -p solocrm --bench metrics -- zones/`). On a shared machine, where
//! criterion's medians move by tens of percent from run to run, set
//! `SOLOCRM_BENCH_INTERLEAVE=N` instead: every kernel in every zone then runs once per
//! round for `N` rounds, in turn (each round starting with another zone), on the
//! largest log, and the minimum and median of
//! each are printed (a slow moment hits every variant alike); criterion does not run. Results and the comparison
//! with DuckDB, polars and pandas are in `docs/performance.md`.
// criterion's macros generate undocumented public functions.
#![allow(missing_docs)]

use std::hint::black_box;
use std::time::Duration;

use chrono::NaiveDate;
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use solocrm::metrics::{
    CohortGrain, MetricsReport, Period, ReportConfig, TieRule, cohort_matrix, purchase_stats, rfm,
};
use solocrm::{BusinessZone, LifecyclePolicy, PurchaseLog};
use solocrm_sample::{GenConfig, populate, purchase_log};

/// The zones of the `zones` group: UTC (the fast path), a fixed offset east of UTC and
/// one with summer time.
const ZONES: [&str; 3] = ["UTC", "Asia/Shanghai", "America/New_York"];

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

/// With `SOLOCRM_BENCH_EXPORT=DIR`, writes each log as raw little-endian columns and
/// solocrm's RFM codes and monthly cohort cells into `DIR/<shape>/`, for the pandas,
/// polars and DuckDB comparison script in `docs/performance.md`.
fn export(logs: &[(String, PurchaseLog)]) {
    let Some(dir) = std::env::var_os("SOLOCRM_BENCH_EXPORT") else {
        return;
    };
    for (name, log) in logs {
        let dir = std::path::Path::new(&dir).join(name);
        std::fs::create_dir_all(&dir).expect("export directory");
        let write = |file: &str, bytes: Vec<u8>| {
            std::fs::write(dir.join(file), bytes).expect("export file");
        };
        write(
            "customer.u32",
            log.customer.iter().flat_map(|x| x.to_le_bytes()).collect(),
        );
        write(
            "at.i64",
            log.at.iter().flat_map(|x| x.to_le_bytes()).collect(),
        );
        write(
            "amount.i64",
            log.amount.iter().flat_map(|x| x.to_le_bytes()).collect(),
        );
        write(
            "ids.u64",
            log.customers
                .iter()
                .flat_map(|x| x.get().to_le_bytes())
                .collect(),
        );
        for tie in [TieRule::Shared, TieRule::Ordinal] {
            let t = rfm(log, as_of(), tie).expect("rfm");
            write(
                &format!("rfm_{tie}.u16"),
                t.scores()
                    .iter()
                    .flat_map(|s| s.code().to_le_bytes())
                    .collect(),
            );
            write(
                &format!("rfm_ids_{tie}.u64"),
                t.customers()
                    .iter()
                    .flat_map(|x| x.get().to_le_bytes())
                    .collect(),
            );
        }
        let m = cohort_matrix(log, CohortGrain::Month, as_of()).expect("cohorts");
        let mut csv = String::new();
        for r in &m.rows {
            for (j, (c, rev)) in r.customers.iter().zip(&r.revenue).enumerate() {
                csv.push_str(&format!("{},{j},{c},{}\n", r.start, rev.amount()));
            }
        }
        write("cohort_month.csv", csv.into_bytes());
    }
}

/// With `SOLOCRM_BENCH_INTERLEAVE=N`: RFM and the cohort matrices in each zone on the
/// largest log, round-robin for `N` rounds; prints the minimum and median milliseconds
/// and returns true.
fn interleaved(logs: &[(String, PurchaseLog)]) -> bool {
    let Some(rounds) = std::env::var("SOLOCRM_BENCH_INTERLEAVE")
        .ok()
        .and_then(|n| n.parse::<usize>().ok())
    else {
        return false;
    };
    let Some((name, log)) = logs.last() else {
        return false;
    };
    // One copy of the log whose zone is set before each run: the variants differ in
    // the zone only, not in where their rows lie in memory.
    let zones: Vec<BusinessZone> = ZONES
        .iter()
        .map(|z| BusinessZone::parse(z).expect("a known zone"))
        .collect();
    let mut zoned = log.clone();
    let kernels = ["rfm_shared", "cohort_month", "cohort_week"];
    let run = |kernel: &str, log: &PurchaseLog| match kernel {
        "rfm_shared" => {
            black_box(rfm(black_box(log), as_of(), TieRule::Shared).expect("rfm"));
        }
        "cohort_month" => {
            black_box(cohort_matrix(black_box(log), CohortGrain::Month, as_of()).expect("cohorts"));
        }
        _ => {
            black_box(cohort_matrix(black_box(log), CohortGrain::Week, as_of()).expect("cohorts"));
        }
    };
    let mut times = vec![Vec::with_capacity(rounds); kernels.len() * zones.len()];
    for round in 0..rounds {
        for (k, kernel) in kernels.iter().enumerate() {
            // Each round starts with another zone, so that none is always first.
            for i in 0..zones.len() {
                let z = (round + i) % zones.len();
                zoned.zone = zones[z];
                let t = std::time::Instant::now();
                run(kernel, &zoned);
                times[k * zones.len() + z].push(t.elapsed().as_secs_f64() * 1e3);
            }
        }
    }
    println!("interleaved, {rounds} rounds, {name}: kernel zone min_ms median_ms");
    for (k, kernel) in kernels.iter().enumerate() {
        for (z, zone) in zones.iter().enumerate() {
            let t = &mut times[k * zones.len() + z];
            t.sort_by(f64::total_cmp);
            println!("{kernel} {} {:.1} {:.1}", zone.name(), t[0], t[t.len() / 2]);
        }
    }
    true
}

fn bench(c: &mut Criterion) {
    let logs = logs();
    export(&logs);
    if interleaved(&logs) {
        return;
    }
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

    // The same kernels counting the days of a business time zone.
    let mut g = c.benchmark_group("zones");
    g.sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(6));
    for (name, log) in &logs {
        // One copy whose zone changes, so that the variants differ in the zone only.
        let mut log = log.clone();
        for zone in ZONES {
            let zone = BusinessZone::parse(zone).expect("a known zone");
            log.zone = zone;
            let label = zone.name().replace('/', "_");
            g.bench_with_input(
                BenchmarkId::new(format!("rfm_shared/{label}"), name),
                &log,
                |b, log| b.iter(|| rfm(black_box(log), as_of(), TieRule::Shared).expect("rfm")),
            );
            for grain in [CohortGrain::Month, CohortGrain::Week] {
                g.bench_with_input(
                    BenchmarkId::new(format!("cohort_{grain}/{label}"), name),
                    &log,
                    |b, log| {
                        b.iter(|| cohort_matrix(black_box(log), grain, as_of()).expect("cohorts"))
                    },
                );
            }
        }
    }
    g.finish();

    // The whole report, read in one snapshot through the operations layer and
    // computed, on a populated memory store.
    let store = solocrm::Crm::new(solocrm::memory::MemoryStore::new(solocrm::Currency::EUR));
    populate(&store, &GenConfig::new(2_000, 7)).expect("populate");
    let december = Period::month(2025, 12).expect("a valid month");
    let config = ReportConfig::default();
    let build = |store: &solocrm::Crm| -> MetricsReport {
        store.metrics_report(december, &config).expect("report")
    };
    let report = build(&store);
    assert!(report.satisfaction.nps.is_defined() && report.retention.churn.is_defined());
    let mut g = c.benchmark_group("report");
    g.sample_size(10).measurement_time(Duration::from_secs(5));
    g.bench_function("build_memory_2k_customers", |b| {
        b.iter(|| build(black_box(&store)))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
