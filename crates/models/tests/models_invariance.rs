//! Invariances of the fits and predictions.

use solocrm_models::{
    BgNbd, ClvOptions, CountData, FitOptions, GammaGamma, MAX_HORIZON_MONTHS, MAX_TIME_UNITS,
    MbgNbd, ModelError, ParetoNbd, PurchaseModel, SimulatedCustomers, clv,
};

fn rel(a: f64, b: f64) -> f64 {
    ((a - b) / b).abs()
}

fn sim(n: usize, seed: u64) -> SimulatedCustomers {
    let truth = BgNbd::new(0.243, 4.414, 0.793, 2.426).expect("valid");
    SimulatedCustomers::simulate_uniform_t(&truth, n, 27.0, 39.0, seed)
}

#[test]
fn days_instead_of_weeks_scale_only_alpha_and_beta() {
    let s = sim(3_000, 11);
    let weeks = s.count_data().expect("data");
    let rec: Vec<f64> = s.recency.iter().map(|v| v * 7.0).collect();
    let t: Vec<f64> = s.t.iter().map(|v| v * 7.0).collect();
    let days = CountData::new(&s.frequency, &rec, &t).expect("data");
    let opts = FitOptions::default();

    let (w, d) = (
        BgNbd::fit(&weeks, &opts).expect("fit"),
        BgNbd::fit(&days, &opts).expect("fit"),
    );
    assert!(rel(d.model.r(), w.model.r()) < 1e-6);
    assert!(rel(d.model.a(), w.model.a()) < 1e-6);
    assert!(rel(d.model.b(), w.model.b()) < 1e-6);
    assert!(rel(d.model.alpha(), 7.0 * w.model.alpha()) < 1e-6);
    // Predictions in days for the same horizon agree with those in weeks.
    let p_w = w
        .model
        .expected_purchases(2, 20.0, 30.0, 10.0)
        .expect("pred");
    let p_d = d
        .model
        .expected_purchases(2, 140.0, 210.0, 70.0)
        .expect("pred");
    assert!(rel(p_d, p_w) < 1e-5);

    let (w, d) = (
        MbgNbd::fit(&weeks, &opts).expect("fit"),
        MbgNbd::fit(&days, &opts).expect("fit"),
    );
    assert!(rel(d.model.r(), w.model.r()) < 1e-6 && rel(d.model.b(), w.model.b()) < 1e-6);
    assert!(rel(d.model.alpha(), 7.0 * w.model.alpha()) < 1e-6);

    let (w, d) = (
        ParetoNbd::fit(&weeks, &opts).expect("fit"),
        ParetoNbd::fit(&days, &opts).expect("fit"),
    );
    assert!(rel(d.model.r(), w.model.r()) < 1e-6 && rel(d.model.s(), w.model.s()) < 1e-6);
    assert!(rel(d.model.alpha(), 7.0 * w.model.alpha()) < 1e-6);
    assert!(rel(d.model.beta(), 7.0 * w.model.beta()) < 1e-6);
}

#[test]
fn duplicating_every_customer_leaves_the_estimate_unchanged() {
    let s = sim(2_000, 12);
    let once = s.count_data().expect("data");
    let twice = CountData::new(
        &[s.frequency.clone(), s.frequency.clone()].concat(),
        &[s.recency.clone(), s.recency.clone()].concat(),
        &[s.t.clone(), s.t.clone()].concat(),
    )
    .expect("data");
    assert_eq!(twice.customers(), 2.0 * once.customers());
    assert_eq!(twice.rows(), once.rows());
    let opts = FitOptions::default();
    let (a, b) = (
        BgNbd::fit(&once, &opts).expect("fit"),
        BgNbd::fit(&twice, &opts).expect("fit"),
    );
    for ((_, x), (_, y)) in a.model.params().iter().zip(b.model.params()) {
        assert!(rel(y, *x) < 1e-9, "{x} {y}");
    }
    assert!(rel(b.log_likelihood, 2.0 * a.log_likelihood) < 1e-12);
    let (a, b) = (
        ParetoNbd::fit(&once, &opts).expect("fit"),
        ParetoNbd::fit(&twice, &opts).expect("fit"),
    );
    for ((_, x), (_, y)) in a.model.params().iter().zip(b.model.params()) {
        assert!(rel(y, *x) < 1e-9, "{x} {y}");
    }
}

#[test]
fn p_alive_is_a_probability_and_one_for_bg_nbd_non_repeaters() {
    let bg = BgNbd::new(0.243, 4.414, 0.793, 2.426).expect("valid");
    let mbg = MbgNbd::new(0.243, 4.414, 0.793, 2.426).expect("valid");
    let pareto = ParetoNbd::new(0.553, 10.578, 0.606, 11.669).expect("valid");
    for t in [0.0, 1.0, 39.0, 500.0] {
        assert_eq!(bg.p_alive(0, 0.0, t).expect("p"), 1.0);
    }
    let models: [&dyn PurchaseModel; 3] = [&bg, &mbg, &pareto];
    for m in models {
        for x in [0_u32, 1, 2, 10, 100] {
            for t in [0.0, 5.0, 39.0, 200.0] {
                for frac in [0.0, 0.3, 1.0] {
                    let tx = if x == 0 { 0.0 } else { frac * t };
                    let p = m.p_alive(x, tx, t).expect("p");
                    assert!((0.0..=1.0).contains(&p), "{} {x} {tx} {t}: {p}", m.name());
                }
            }
        }
        // A customer who bought recently is more likely alive than one who did not.
        assert!(m.p_alive(5, 38.0, 39.0).expect("p") > m.p_alive(5, 5.0, 39.0).expect("p"));
    }
}

#[test]
fn predictions_are_consistent_with_each_other() {
    let bg = BgNbd::new(0.243, 4.414, 0.793, 2.426).expect("valid");
    let mbg = MbgNbd::new(0.243, 4.414, 0.793, 2.426).expect("valid");
    let pareto = ParetoNbd::new(0.553, 10.578, 0.606, 11.669).expect("valid");
    let models: [&dyn PurchaseModel; 3] = [&bg, &mbg, &pareto];
    for m in models {
        let t = 39.0;
        // Σ n P(X(t) = n) = E[X(t)] and Σ P = 1.
        let probs: Vec<f64> = (0..400)
            .map(|n| m.probability_of_purchases(n, t).expect("p"))
            .collect();
        let total: f64 = probs.iter().sum();
        let mean: f64 = probs.iter().enumerate().map(|(n, p)| n as f64 * p).sum();
        let want = m.expected_purchases_new(t).expect("E");
        assert!((total - 1.0).abs() < 1e-9, "{}: Σ P = {total}", m.name());
        assert!(rel(mean, want) < 1e-8, "{}: {mean} vs {want}", m.name());
        // A new customer's conditional expectation at T = 0 is E[X(t)] (x = 0, T = 0).
        let cond = m.expected_purchases(0, 0.0, 0.0, t).expect("E");
        assert!(rel(cond, want) < 1e-10, "{}: {cond} vs {want}", m.name());
        // Expected purchases grow with the horizon.
        let e1 = m.expected_purchases(3, 20.0, 39.0, 10.0).expect("E");
        let e2 = m.expected_purchases(3, 20.0, 39.0, 20.0).expect("E");
        assert!(0.0 < e1 && e1 < e2);
        let pop = m.expected_purchases_population(1000.0, t).expect("E");
        assert!(rel(pop, 1000.0 * want) < 1e-15);
    }
}

#[test]
fn predictions_match_simulation() {
    // The conditional expectation against the simulated future of customers with a
    // given past is a heavy test; check the unconditional E[X(t)] against the mean of
    // 100 k simulated customers instead (standard error about 0.5 %).
    let bg = BgNbd::new(0.243, 4.414, 0.793, 2.426).expect("valid");
    let n = 100_000;
    let sim = SimulatedCustomers::simulate(&bg, &vec![39.0; n], 99);
    let mean = sim.frequency.iter().map(|&x| f64::from(x)).sum::<f64>() / n as f64;
    let want = bg.expected_purchases_new(39.0).expect("E");
    assert!(rel(mean, want) < 0.02, "{mean} vs {want}");
}

#[test]
fn bad_input_is_a_typed_error_not_a_panic() {
    assert!(matches!(
        BgNbd::new(-1.0, 1.0, 1.0, 1.0),
        Err(ModelError::InvalidParameter { name: "r", .. })
    ));
    assert!(matches!(
        BgNbd::new(1.0, f64::NAN, 1.0, 1.0),
        Err(ModelError::InvalidParameter { .. })
    ));
    assert!(matches!(
        CountData::new(&[], &[], &[]),
        Err(ModelError::EmptyData)
    ));
    assert!(matches!(
        CountData::new(&[1], &[5.0], &[4.0]),
        Err(ModelError::InvalidInput { .. })
    ));
    assert!(matches!(
        CountData::new(&[0], &[1.0], &[4.0]),
        Err(ModelError::InvalidInput { .. })
    ));
    assert!(matches!(
        CountData::new(&[1], &[f64::INFINITY], &[4.0]),
        Err(ModelError::InvalidInput { .. })
    ));
    let bg = BgNbd::new(0.243, 4.414, 0.793, 2.426).expect("valid");
    assert!(bg.p_alive(1, 5.0, 4.0).is_err());
    assert!(bg.expected_purchases(1, 1.0, 4.0, -1.0).is_err());
    let opts = FitOptions {
        penalizer: -1.0,
        ..FitOptions::default()
    };
    let data = CountData::new(&[0, 1], &[0.0, 1.0], &[2.0, 3.0]).expect("data");
    assert!(matches!(
        BgNbd::fit(&data, &opts),
        Err(ModelError::InvalidOption { .. })
    ));
    // All non-repeaters: the data cannot identify the model, and the fit says so
    // instead of reporting a boundary value (alpha = 0.000000) as converged.
    let data = CountData::new(&[0, 0, 0], &[0.0, 0.0, 0.0], &[2.0, 3.0, 4.0]).expect("data");
    assert!(matches!(
        BgNbd::fit(&data, &FitOptions::default()),
        Err(ModelError::DegenerateData { .. })
    ));
}

/// `clv` on degenerate data printed `alpha = 0.000000 … converged`.
#[test]
fn degenerate_data_and_boundary_estimates_are_not_reported_as_converged() {
    let degenerate =
        |m: Result<(), ModelError>| matches!(m, Err(ModelError::DegenerateData { .. }));
    // Everyone bought first on the calibration end date: no time observed.
    let no_time = CountData::new(&[0, 0], &[0.0, 0.0], &[0.0, 0.0]).expect("data");
    assert!(degenerate(
        BgNbd::fit(&no_time, &FitOptions::default()).map(|_| ())
    ));
    assert!(degenerate(
        MbgNbd::fit(&no_time, &FitOptions::default()).map(|_| ())
    ));
    assert!(degenerate(
        ParetoNbd::fit(&no_time, &FitOptions::default()).map(|_| ())
    ));
    // Nobody bought again.
    let once = CountData::new(&[0; 5], &[0.0; 5], &[10.0, 20.0, 30.0, 40.0, 50.0]).expect("data");
    let e = ParetoNbd::fit(&once, &FitOptions::default())
        .map(|_| ())
        .unwrap_err();
    assert!(e.to_string().contains("no customer bought again"), "{e}");
    // Repeat buyers whose repeats all fall on their first day: the rate runs off to
    // infinity; the fit returns, but not as converged, and says which parameter.
    let same_day = CountData::new(&[3, 3], &[0.0, 0.0], &[10.0, 10.0]).expect("data");
    for fit in [
        BgNbd::fit(&same_day, &FitOptions::default()).map(|f| (f.converged, f.degenerate)),
        ParetoNbd::fit(&same_day, &FitOptions::default()).map(|f| (f.converged, f.degenerate)),
    ] {
        let (converged, why) = fit.expect("returns");
        assert!(!converged);
        assert!(why.is_some_and(|w| w.contains("edge of its range")));
    }
    // A proper fit is converged and not degenerate.
    let s = sim(2_000, 3);
    let fit = BgNbd::fit(&s.count_data().expect("data"), &FitOptions::default()).expect("fit");
    assert!(fit.converged && fit.degenerate.is_none());
}

/// `clv --horizon-months 4294967295` never finished; extreme T and horizons are refused.
#[test]
fn horizons_and_times_are_bounded() {
    let bg = BgNbd::new(0.243, 4.414, 0.793, 2.426).expect("valid");
    let gg = GammaGamma::new(6.25, 3.74, 15.44).expect("valid");
    let opts = ClvOptions {
        horizon_months: u32::MAX,
        ..ClvOptions::default()
    };
    let started = std::time::Instant::now();
    assert!(matches!(
        clv(&bg, &gg, 2, 30.0, 38.0, 35.0, &opts),
        Err(ModelError::InvalidOption {
            name: "horizon_months",
            ..
        })
    ));
    assert!(started.elapsed() < std::time::Duration::from_secs(1));
    let longest = ClvOptions {
        horizon_months: MAX_HORIZON_MONTHS,
        ..ClvOptions::default()
    };
    assert!(clv(&bg, &gg, 2, 30.0, 38.0, 35.0, &longest).is_ok());
    assert!(bg.expected_purchases(2, 30.0, 38.0, 1e12).is_err());
    assert!(bg.p_alive(2, 30.0, 1e9).is_err());
    assert!(CountData::new(&[1], &[5.0], &[1e9]).is_err());
    assert!(bg.expected_purchases(2, 30.0, 38.0, MAX_TIME_UNITS).is_ok());
}

#[test]
fn a_penalty_shrinks_the_parameters() {
    let s = sim(3_000, 13);
    let data = s.count_data().expect("data");
    let plain = BgNbd::fit(&data, &FitOptions::default()).expect("fit");
    let opts = FitOptions {
        penalizer: 0.1,
        ..FitOptions::default()
    };
    let pen = BgNbd::fit(&data, &opts).expect("fit");
    let norm = |m: &BgNbd| m.params().iter().map(|(_, v)| v * v).sum::<f64>();
    assert!(norm(&pen.model) < norm(&plain.model));
    // The reported LL is the unpenalised one, so it can only be lower.
    assert!(pen.log_likelihood <= plain.log_likelihood);
}
