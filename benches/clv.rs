//! CLV model benchmarks: summary + BG/NBD fit of 1 M customers, and predictions for all
//! of them. `cargo bench -p solocrm --bench clv`. Numbers and machine: docs/performance.md.
#![allow(missing_docs)] // criterion_group! generates an undocumented function.

use std::hint::black_box;
use std::time::Duration;

use chrono::NaiveDate;
use criterion::{Criterion, criterion_group, criterion_main};
use solocrm::Currency;
use solocrm::models::{
    BgNbd, CustomerSummary, FitOptions, ParetoNbd, SimulatedCustomers, SummaryOptions, TimeUnit,
    predict, simulate_purchase_log,
};

fn cdnow_days() -> BgNbd {
    // FHL 2005's CDNOW estimates, α converted from weeks to days.
    BgNbd::new(0.243, 4.414 * 7.0, 0.793, 2.426).expect("valid")
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("clv");
    g.sample_size(10)
        .measurement_time(Duration::from_secs(8))
        .warm_up_time(Duration::from_secs(2));

    // 1 M customers acquired uniformly over 12 weeks, observed until 27 weeks after the
    // last acquisition day (T from 27 to 39 weeks, as in the fixture), purchase times in
    // days from the CDNOW BG/NBD, in a columnar purchase log.
    let acquired_by = NaiveDate::from_ymd_opt(2026, 1, 1).expect("date");
    let log = simulate_purchase_log(
        &cdnow_days(),
        None,
        1_000_000,
        acquired_by,
        84,
        189,
        Currency::EUR,
        7,
    );
    let opts_late = SummaryOptions::new(acquired_by + chrono::Days::new(189), TimeUnit::Week);
    eprintln!(
        "purchase log: {} purchases of {} customers",
        log.len(),
        log.customers.len()
    );
    let summary = CustomerSummary::from_log(&log, &opts_late).expect("summary");
    let data = summary.count_data().expect("data");
    eprintln!("distinct (x, recency, T) rows: {}", data.rows());

    g.bench_function("summary_1m", |b| {
        b.iter(|| CustomerSummary::from_log(black_box(&log), &opts_late).expect("summary"))
    });
    g.bench_function("summary_collapse_fit_bgnbd_1m", |b| {
        b.iter(|| {
            let s = CustomerSummary::from_log(black_box(&log), &opts_late).expect("summary");
            let d = s.count_data().expect("data");
            BgNbd::fit(&d, &FitOptions::default()).expect("fit")
        })
    });
    let fit = BgNbd::fit(&data, &FitOptions::default()).expect("fit");
    let model = fit.model;
    g.bench_function("predict_p_alive_and_expected_1m", |b| {
        b.iter(|| predict(black_box(&model), &summary, 39.0).expect("predictions"))
    });

    // The continuous-time case of `lifetimes`' benchmark: 1 M simulated (x, tₓ, T)
    // without a day grid, so hardly any two customers collapse.
    let sim = SimulatedCustomers::simulate_uniform_t(
        &BgNbd::new(0.243, 4.414, 0.793, 2.426).expect("valid"),
        1_000_000,
        27.0,
        39.0,
        3,
    );
    g.bench_function("collapse_fit_bgnbd_1m_continuous", |b| {
        b.iter(|| {
            let d = sim.count_data().expect("data");
            BgNbd::fit(&d, &FitOptions::default()).expect("fit")
        })
    });
    let sim10k = SimulatedCustomers::simulate_uniform_t(
        &ParetoNbd::new(0.553, 10.578, 0.606, 11.669).expect("valid"),
        10_000,
        27.0,
        39.0,
        5,
    );
    let d10k = sim10k.count_data().expect("data");
    g.bench_function("fit_paretonbd_10k_continuous", |b| {
        b.iter(|| ParetoNbd::fit(&d10k, &FitOptions::default()).expect("fit"))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
