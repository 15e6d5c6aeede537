//! `rfm --json` and `clv --json` on a fixed book against snapshots made before the
//! speed work of issue 14 (`fixtures/analytics-snapshot/make_snapshots.sh`, run with
//! the binary of fb60b0f): the output must not change.
//!
//! The book: 240 customers with Chinese and Latin references, 3,705 purchases over two
//! years (`make_purchases.py`), a CNY book in Asia/Shanghai with purchases at 23:30
//! local time, one customer erased (shown by bare id). RFM is exact (integers and
//! decimal strings), so its text must be identical; the CLV numbers are floating point
//! from `ln`/`exp` of the platform's library, so they are compared to 1e-9 relative
//! and everything else exactly.

mod common;

use common::Env;
use serde_json::Value;

const DIR: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/analytics-snapshot/"
);

fn book() -> Env {
    let env = Env::new();
    env.ok(&[
        "-q",
        "init",
        "--currency",
        "CNY",
        "--timezone",
        "Asia/Shanghai",
    ]);
    let csv = format!("{DIR}purchases.csv");
    env.ok(&["-q", "import", "purchases", &csv, "--create-missing"]);
    env.ok(&["-q", "customer", "erase", "张洋-072", "--yes"]);
    env
}

fn expected(name: &str) -> String {
    std::fs::read_to_string(format!("{DIR}{name}")).expect("snapshot")
}

/// `got` equals `want` with every number within 1e-9 relative (absolute near 0).
fn assert_close(got: &Value, want: &Value, path: &str) {
    match (got, want) {
        (Value::Number(g), Value::Number(w)) => {
            let (g, w) = (g.as_f64().expect("number"), w.as_f64().expect("number"));
            assert!(
                (g - w).abs() <= 1e-9 * w.abs().max(1e-6),
                "{path}: {g} vs {w}"
            );
        }
        (Value::Array(g), Value::Array(w)) => {
            assert_eq!(g.len(), w.len(), "{path}: length");
            for (i, (g, w)) in g.iter().zip(w).enumerate() {
                assert_close(g, w, &format!("{path}[{i}]"));
            }
        }
        (Value::Object(g), Value::Object(w)) => {
            let keys = |o: &serde_json::Map<String, Value>| o.keys().cloned().collect::<Vec<_>>();
            assert_eq!(keys(g), keys(w), "{path}: keys");
            for (k, w) in w {
                assert_close(&g[k], w, &format!("{path}.{k}"));
            }
        }
        _ => assert_eq!(got, want, "{path}"),
    }
}

#[test]
fn rfm_json_is_unchanged() {
    let env = book();
    let got = env.ok(&["rfm", "--json", "--as-of", "2025-12-31"]);
    assert!(got.contains("\"customer\": \"169\""), "the erased customer");
    assert!(got.contains("王伟-010"));
    assert_eq!(got, expected("rfm.json"));
    let got = env.ok(&[
        "rfm",
        "--json",
        "--as-of",
        "2025-06-30",
        "--ties",
        "ordinal",
        "--top",
        "25",
    ]);
    assert_eq!(got, expected("rfm-top.json"));
}

#[test]
fn clv_json_is_unchanged() {
    let env = book();
    for (file, args) in [
        ("clv-bg-nbd.json", &[][..]),
        (
            "clv-pareto-nbd.json",
            &[
                "--model",
                "pareto-nbd",
                "--unit",
                "day",
                "--horizon-months",
                "36",
            ][..],
        ),
    ] {
        let mut all = vec!["clv", "--json", "--calibration-end", "2025-06-30"];
        all.extend_from_slice(args);
        let got: Value = serde_json::from_str(&env.ok(&all)).expect("json");
        let want: Value = serde_json::from_str(&expected(file)).expect("json");
        assert_eq!(got["predictions"].as_array().map(Vec::len), Some(240));
        assert_close(&got, &want, file);
    }
}
