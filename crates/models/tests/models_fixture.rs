//! The 10 k-customer BG/NBD fixture against Python `lifetimes` 0.11.3.
//!
//! `fixtures/bgnbd_sim_10k.csv` holds (frequency, recency, T) in weeks of 10 000
//! customers simulated from known BG/NBD parameters; `bgnbd_sim_10k_truth.json` holds
//! the true parameters, the estimate `lifetimes` finds on the same file and the full
//! log-likelihood (sum over customers, published scale) at both.
#![allow(clippy::float_cmp)]

use solocrm_models::{BgNbd, CountData, FitOptions, PurchaseModel};

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

    for (g, w) in got.iter().zip(&want) {
        assert!(((g - w) / w).abs() < 1e-4, "{g} vs {w}");
    }
    let ll = truth["log_likelihood_at_lifetimes_mle"]
        .as_f64()
        .expect("LL");
    assert!((fit.log_likelihood - ll).abs() < 1e-6 * ll.abs());
    assert!(fit.converged);
}

#[test]
fn log_likelihood_at_the_true_parameters_matches_lifetimes() {
    let (x, rec, t) = fixture();
    let data = CountData::new(&x, &rec, &t).expect("valid data");
    let truth = truth();
    let [r, alpha, a, b] = params(&truth["true_params"]);
    let model = BgNbd::new(r, alpha, a, b).expect("valid");
    let want = truth["log_likelihood_at_true_params"].as_f64().expect("LL");
    let got = model.log_likelihood(&data).expect("LL");
    assert!((got - want).abs() < 1e-6, "{got} vs {want}");
    // And at lifetimes' estimate.
    let [r, alpha, a, b] = params(&truth["lifetimes_mle"]);
    let at_mle = BgNbd::new(r, alpha, a, b)
        .expect("valid")
        .log_likelihood(&data)
        .expect("LL");
    let want = truth["log_likelihood_at_lifetimes_mle"]
        .as_f64()
        .expect("LL");
    assert!((at_mle - want).abs() < 1e-6, "{at_mle} vs {want}");
}

#[test]
fn standard_errors_match_lifetimes() {
    let (x, rec, t) = fixture();
    let data = CountData::new(&x, &rec, &t).expect("valid data");
    let fit = BgNbd::fit(&data, &FitOptions::default()).expect("fits");
    let se = fit.standard_errors.expect("standard errors");
    let want = params(&truth()["lifetimes_standard_errors"]);
    let got = [se.r(), se.alpha(), se.a(), se.b()];
    for (g, w) in got.iter().zip(&want) {
        assert!(((g - w) / w).abs() < 1e-3, "{g} vs {w}");
    }
}

/// ln of the closed-form BG/NBD likelihood (FHL 2005 eq. 6) with Γ written out.
#[test]
fn tiny_case_equals_the_closed_form() {
    // r = 2, α = 3, a = 1, b = 2: Γ(r + x)/Γ(r) = (x + 1)!, B(a, b + x)/B(a, b) =
    // 2/(x + 2), B(a + 1, b + x − 1)/B(a, b) = 2/((x + 1)(x + 2)).
    let model = BgNbd::new(2.0, 3.0, 1.0, 2.0).expect("valid");
    let cases = [(0_u32, 0.0, 5.0), (1, 2.0, 5.0), (3, 4.5, 6.0)];
    let mut total = 0.0;
    for &(x, tx, t) in &cases {
        let xf = f64::from(x);
        let fact: f64 = (1..=x + 1).map(f64::from).product();
        let nbd = |time: f64| fact * 9.0 / (3.0 + time).powf(2.0 + xf);
        let mut l = 2.0 / (xf + 2.0) * nbd(t);
        if x > 0 {
            l += 2.0 / ((xf + 1.0) * (xf + 2.0)) * nbd(tx);
        }
        let got = model.customer_log_likelihood(x, tx, t).expect("LL");
        assert!(
            (got - l.ln()).abs() < 1e-12 * l.ln().abs(),
            "{got} vs {}",
            l.ln()
        );
        total += l.ln();
    }
    let data = CountData::new(&[0, 1, 3], &[0.0, 2.0, 4.5], &[5.0, 5.0, 6.0]).expect("valid");
    let got = model.log_likelihood(&data).expect("LL");
    assert!((got - total).abs() < 1e-12 * total.abs());
}
