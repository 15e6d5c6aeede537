//! `solocrm clv` on the book a one-person company has (issue 12): with 20 customers
//! every model exits 0, prints finite numbers within each customer's bound, labels
//! fallbacks, and says in `"warnings"` why the values are rough. `--penalizer` is
//! checked.

mod common;

use common::Env;
use serde_json::Value;

/// Every number anywhere in `v` (serde_json cannot hold NaN or infinity, so a
/// non-finite value would have become `null` where a number belongs).
fn assert_numbers_finite(v: &Value, path: &str) {
    match v {
        Value::Number(n) => {
            let f = n.as_f64().expect("a number");
            assert!(f.is_finite(), "{path} = {f}");
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                assert_numbers_finite(x, &format!("{path}[{i}]"));
            }
        }
        Value::Object(o) => {
            for (k, x) in o {
                assert_numbers_finite(x, &format!("{path}.{k}"));
            }
        }
        _ => {}
    }
}

fn twenty() -> Env {
    let env = Env::new();
    env.ok(&["demo", "--customers", "20", "--seed", "1"]);
    env
}

/// The calibration end: today, so that every demo purchase (however the demo dates its
/// history) is in the calibration period.
fn today() -> String {
    chrono::Local::now().date_naive().to_string()
}

#[test]
fn a_twenty_customer_demo_is_valued_by_every_model_with_warnings() {
    let env = twenty();
    let end = today();
    for model in ["bg-nbd", "mbg-nbd", "pareto-nbd"] {
        let v = env.json(&["clv", "--model", model, "--calibration-end", &end]);
        assert_eq!(v["model"], model);
        assert_numbers_finite(&v, model);
        let warnings = v["warnings"].as_array().expect("warnings is an array");
        assert!(
            !warnings.is_empty(),
            "{model}: a 20-customer book is warned about"
        );
        assert!(
            warnings
                .iter()
                .all(|w| w.as_str().is_some_and(|s| !s.is_empty()))
        );
        assert!(
            warnings
                .iter()
                .any(|w| w.as_str().is_some_and(|s| s.starts_with("small book"))),
            "{model}: {warnings:?}"
        );
        assert!(v["penalizer"].as_f64().is_some_and(|p| p > 0.0), "{v}");
        let rows = v["predictions"].as_array().expect("predictions");
        assert_eq!(rows.len() as u64, v["customers"].as_u64().expect("count"));
        assert!(!rows.is_empty());
        for r in rows {
            let clv = r["clv"]
                .as_f64()
                .unwrap_or_else(|| panic!("{model}: clv is a number: {r}"));
            let bound: f64 = r["clv_bound"]
                .as_str()
                .and_then(|s| s.parse().ok())
                .unwrap_or_else(|| panic!("clv_bound is a decimal string: {r}"));
            assert!(clv >= 0.0, "{r}");
            // The bound is printed rounded to cents.
            assert!(clv <= bound + 0.005, "{model}: {clv} above {bound}: {r}");
            assert!(
                r["p_alive"]
                    .as_f64()
                    .is_some_and(|p| (0.0..=1.0).contains(&p)),
                "{r}"
            );
            assert!(
                r["expected_purchases"].as_f64().is_some_and(|e| e >= 0.0),
                "{r}"
            );
            assert!(
                matches!(
                    r["method"].as_str(),
                    Some("model" | "model-capped" | "historic")
                ),
                "{r}"
            );
            assert!(
                matches!(r["spend"].as_str(), Some("gamma-gamma" | "historic")),
                "{r}"
            );
        }
        // The text output exits 0 too and says the warnings on standard error.
        let out = env.run(&["clv", "--model", model, "--calibration-end", &end]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("warning: small book"), "{stderr}");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(stdout.contains("METHOD"), "{stdout}");
        assert!(
            !stdout.contains("NaN") && !stdout.contains("inf"),
            "{stdout}"
        );
    }
}

#[test]
fn a_book_without_repeat_purchases_is_valued_from_history_not_refused() {
    let env = twenty();
    // The first day of the demo's history: nobody has bought twice yet.
    let first = env.json(&["purchase", "list"]);
    let day = first
        .as_array()
        .expect("purchases")
        .iter()
        .filter_map(|p| p["at"].as_str().map(|s| s[..10].to_owned()))
        .min()
        .expect("a first purchase with a date");
    let v = env.json(&["clv", "--model", "bg-nbd", "--calibration-end", &day]);
    assert_numbers_finite(&v, "bg-nbd");
    assert!(
        v["params"]
            .as_object()
            .is_some_and(serde_json::Map::is_empty),
        "{v}"
    );
    assert!(v["log_likelihood"].is_null());
    assert_eq!(v["converged"], false);
    let warnings = v["warnings"].as_array().expect("warnings");
    assert!(
        warnings.iter().any(|w| w
            .as_str()
            .is_some_and(|s| s.contains("could not be fitted"))),
        "{warnings:?}"
    );
    for r in v["predictions"].as_array().expect("predictions") {
        assert_eq!(r["method"], "historic", "{r}");
        assert!(r["clv"].as_f64().is_some_and(f64::is_finite), "{r}");
    }
}

#[test]
fn the_penalizer_is_used_and_checked() {
    let env = twenty();
    let end = today();
    let v = env.json(&[
        "clv",
        "--model",
        "mbg-nbd",
        "--calibration-end",
        &end,
        "--penalizer",
        "0.1",
    ]);
    assert_eq!(v["penalizer"].as_f64(), Some(0.1));
    assert_numbers_finite(&v, "mbg-nbd");
    let zero = env.json(&[
        "clv",
        "--model",
        "bg-nbd",
        "--calibration-end",
        &end,
        "--penalizer",
        "0",
    ]);
    assert_eq!(zero["penalizer"].as_f64(), Some(0.0));
    assert_numbers_finite(&zero, "bg-nbd");
    for bad in [
        "--penalizer=-0.5",
        "--penalizer=NaN",
        "--penalizer=inf",
        "--penalizer=11",
    ] {
        let err = env.fails(&["clv", "--calibration-end", &end, bad], 1);
        assert!(
            err.contains("--penalizer must be a number from 0 to 10"),
            "{bad}: {err}"
        );
    }
}

#[test]
fn a_large_book_has_an_empty_warnings_array_and_no_penalty() {
    let env = Env::new();
    env.ok(&["demo", "--customers", "400", "--seed", "7"]);
    let v = env.json(&[
        "clv",
        "--model",
        "bg-nbd",
        "--calibration-end",
        "2025-06-30",
        "--predict",
        "26",
    ]);
    assert_eq!(v["penalizer"].as_f64(), Some(0.0));
    let warnings = v["warnings"]
        .as_array()
        .expect("warnings is always present");
    // The only thing said about this book is about customers who spent nothing.
    for w in warnings {
        assert!(
            w.as_str().is_some_and(|s| s.contains("spent nothing")),
            "{w}"
        );
    }
    assert!(
        v["predictions"]
            .as_array()
            .expect("predictions")
            .iter()
            .all(|r| r["method"] != "historic")
    );
}
