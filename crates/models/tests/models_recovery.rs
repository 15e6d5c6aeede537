//! Parameter recovery: simulate customers from known parameters, fit, and check that
//! every parameter is recovered within 3 standard errors and that the fitted
//! log-likelihood is at least the log-likelihood at the true parameters.
//!
//! 10 k customers always run for every model, and 100 k for BG/NBD, MBG/NBD and
//! Gamma-Gamma (a few seconds in a debug build). The Pareto/NBD at 100 k takes about 20 s
//! in a debug build (each customer's likelihood is a quadrature) and runs only when
//! `SOLOCRM_RECOVERY_100K=1` is set; see docs/clv.md.

use solocrm_models::{
    BgNbd, CountData, FitOptions, Fitted, GammaGamma, MbgNbd, ParetoNbd, PurchaseModel,
    SimulatedCustomers, SpendData,
};

/// FHL 2005's CDNOW estimates, in weeks.
fn cdnow_bg() -> BgNbd {
    BgNbd::new(0.243, 4.414, 0.793, 2.426).expect("valid")
}

fn big_runs() -> bool {
    std::env::var("SOLOCRM_RECOVERY_100K").is_ok_and(|v| v == "1")
}

fn check_recovery<M: PurchaseModel + Copy>(
    name: &str,
    truth: &M,
    fit: &Fitted<M>,
    data: &CountData,
) {
    assert!(fit.converged, "{name}: not converged");
    let se = fit.standard_errors.as_ref().expect("standard errors");
    for ((p, want), (_, got)) in truth.params().iter().zip(fit.model.params()) {
        let s = se
            .params()
            .iter()
            .find(|(q, _)| q == p)
            .map(|(_, v)| *v)
            .expect("se");
        let z = (got - want) / s;
        eprintln!("{name} {p}: true {want}, fitted {got:.6}, se {s:.6}, z {z:.2}");
        assert!(
            z.abs() < 3.0,
            "{name} {p}: {got} vs {want} is {z:.2} standard errors off"
        );
    }
    let at_truth = truth.log_likelihood(data).expect("LL at truth");
    assert!(
        fit.log_likelihood >= at_truth,
        "{name}: fitted LL {} < LL at the true parameters {at_truth}",
        fit.log_likelihood
    );
}

fn recover_bg(n: usize, seed: u64) {
    let truth = cdnow_bg();
    let sim = SimulatedCustomers::simulate_uniform_t(&truth, n, 27.0, 39.0, seed);
    let data = sim.count_data().expect("data");
    let fit = BgNbd::fit(&data, &FitOptions::default()).expect("fit");
    check_recovery("BG/NBD", &truth, &fit, &data);
}

#[test]
fn bg_nbd_recovers_its_parameters_from_10k_customers() {
    recover_bg(10_000, 1);
}

#[test]
fn bg_nbd_recovers_its_parameters_from_100k_customers() {
    recover_bg(100_000, 2);
}

fn recover_mbg(n: usize, seed: u64) {
    let truth = MbgNbd::new(0.243, 4.414, 0.793, 2.426).expect("valid");
    let sim = SimulatedCustomers::simulate_uniform_t(&truth, n, 27.0, 39.0, seed);
    let data = sim.count_data().expect("data");
    let fit = MbgNbd::fit(&data, &FitOptions::default()).expect("fit");
    check_recovery("MBG/NBD", &truth, &fit, &data);
}

#[test]
fn mbg_nbd_recovers_its_parameters_from_10k_customers() {
    recover_mbg(10_000, 3);
}

#[test]
fn mbg_nbd_recovers_its_parameters_from_100k_customers() {
    recover_mbg(100_000, 4);
}

fn recover_pareto(n: usize, seed: u64) {
    // FHL's CDNOW Pareto/NBD estimates, in weeks.
    let truth = ParetoNbd::new(0.553, 10.578, 0.606, 11.669).expect("valid");
    let sim = SimulatedCustomers::simulate_uniform_t(&truth, n, 27.0, 39.0, seed);
    let data = sim.count_data().expect("data");
    let fit = ParetoNbd::fit(&data, &FitOptions::default()).expect("fit");
    check_recovery("Pareto/NBD", &truth, &fit, &data);
}

#[test]
fn pareto_nbd_recovers_its_parameters_from_10k_customers() {
    recover_pareto(10_000, 5);
}

#[test]
fn pareto_nbd_recovers_its_parameters_from_100k_customers() {
    // Opt-in (about 20 s in a debug build): SOLOCRM_RECOVERY_100K=1.
    if big_runs() {
        recover_pareto(100_000, 6);
    }
}

fn recover_gamma_gamma(n: usize, seed: u64) {
    // FHL 2005's CDNOW spend estimates.
    let truth = GammaGamma::new(6.25, 3.74, 15.44).expect("valid");
    let sim = SimulatedCustomers::simulate_uniform_t(&cdnow_bg(), n, 27.0, 39.0, seed)
        .with_spend(&truth, seed + 100);
    let data = SpendData::new(&sim.frequency, &sim.monetary).expect("data");
    let fit = GammaGamma::fit(&data, &FitOptions::default()).expect("fit");
    assert!(fit.converged);
    let se = fit.standard_errors.expect("standard errors");
    for (name, want, got, s) in [
        ("p", truth.p(), fit.model.p(), se.p()),
        ("q", truth.q(), fit.model.q(), se.q()),
        ("gamma", truth.gamma(), fit.model.gamma(), se.gamma()),
    ] {
        let z = (got - want) / s;
        eprintln!("Gamma-Gamma {name}: true {want}, fitted {got:.6}, se {s:.6}, z {z:.2}");
        assert!(
            z.abs() < 3.0,
            "{name}: {got} vs {want}: {z:.2} standard errors off"
        );
    }
    let at_truth: f64 = sim
        .frequency
        .iter()
        .zip(&sim.monetary)
        .filter(|(x, _)| **x > 0)
        .map(|(&x, &m)| truth.customer_log_likelihood(x, m).expect("LL"))
        .sum();
    assert!(fit.log_likelihood >= at_truth);
}

#[test]
fn gamma_gamma_recovers_its_parameters() {
    // 10 k customers give about 4 k repeat customers.
    recover_gamma_gamma(10_000, 7);
}

#[test]
fn gamma_gamma_recovers_its_parameters_from_100k_customers() {
    recover_gamma_gamma(100_000, 8);
}
