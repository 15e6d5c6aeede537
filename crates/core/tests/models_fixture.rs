//! The 10 k-customer BG/NBD fixture against Python `lifetimes` 0.11.3.
//!
//! `fixtures/bgnbd_sim_10k.csv` holds (frequency, recency, T) in weeks of 10 000
//! customers simulated from known BG/NBD parameters; `bgnbd_sim_10k_truth.json` holds
//! the true parameters, the estimate `lifetimes` finds on the same file and the full
//! log-likelihood (sum over customers, published scale) at both.
#![allow(clippy::float_cmp)]

use solocrm_core::models::{BgNbd, CountData, FitOptions, PurchaseModel};

fn fixture() -> (Vec<u32>, Vec<f64>, Vec<f64>) {
    let text = include_str!("fixtures/bgnbd_sim_10k.csv");
    let mut x = Vec::new();
    let mut rec = Vec::new();
    let mut t = Vec::new();
    for line in text.lines().skip(1) {
        let cols: Vec<&str> = line.split(',').collect();
        x.push(cols[1].parse::<u32>().expect("frequency"));
        rec.push(cols[2].parse::<f64>().expect("recency"));
        t.push(cols[3].parse::<f64>().expect("T"));
    }
    (x, rec, t)
}

fn truth() -> serde_json::Value {
    serde_json::from_str(include_str!("fixtures/bgnbd_sim_10k_truth.json")).expect("json")
}

fn params(v: &serde_json::Value) -> [f64; 4] {
    ["r", "alpha", "a", "b"].map(|k| v[k].as_f64().expect("number"))
}

#[test]
fn bg_nbd_reproduces_lifetimes_on_the_fixture() {
    let (x, rec, t) = fixture();
    assert_eq!(x.len(), 10_000);
    let data = CountData::new(&x, &rec, &t).expect("valid data");
    let fit = BgNbd::fit(&data, &FitOptions::default()).expect("fits");
    let truth = truth();
    let want = params(&truth["lifetimes_mle"]);
    let got = [
        fit.model.r(),
        fit.model.alpha(),
        fit.model.a(),
        fit.model.b(),
    ];
    eprintln!(
        "got {got:?}\nwant {want:?}\nLL {} vs {}",
        fit.log_likelihood, truth["log_likelihood_at_lifetimes_mle"]
    );
    eprintln!("se {:?} iters {}", fit.standard_errors, fit.iterations);
    for (g, w) in got.iter().zip(&want) {
        assert!(((g - w) / w).abs() < 1e-4, "{g} vs {w}");
    }
    let ll = truth["log_likelihood_at_lifetimes_mle"]
        .as_f64()
        .expect("LL");
    assert!((fit.log_likelihood - ll).abs() < 1e-6 * ll.abs());
    assert!(fit.converged);
}
