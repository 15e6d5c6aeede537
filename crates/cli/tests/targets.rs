//! `solocrm target ...` on the real binary: targets kept with the books, progress with
//! the run-rate forecast from the report's own figures, the targets in `report`, and
//! bad input refused with exit 2. The books keep Asia/Shanghai's days and Chinese
//! names.

mod common;

use common::Env;
use serde_json::{Value, json};

/// Two customers (王小明 since January, 李华 new in November) and their purchases:
/// 36 000 CNY in the first 12 days of November 2026.
fn books() -> Env {
    let env = Env::new();
    env.ok(&["init", "--currency", "CNY", "--timezone", "Asia/Shanghai"]);
    env.ok(&["customer", "add", "王小明", "--at", "2026-01-05"]);
    env.ok(&["customer", "add", "李华", "--at", "2026-11-02"]);
    env.ok(&["purchase", "add", "#1", "500", "--at", "2026-01-06"]);
    env.ok(&["purchase", "add", "#1", "12000", "--at", "2026-11-03"]);
    // 23:30 in Shanghai on the 12th is still the 12th there (15:30 UTC).
    env.ok(&[
        "purchase",
        "add",
        "#2",
        "24000",
        "--at",
        "2026-11-12T15:30:00Z",
        "--description",
        "年度会员",
    ]);
    env.ok(&[
        "target", "set", "--metric", "revenue", "--period", "2026-11", "90000",
    ]);
    env.ok(&[
        "target",
        "set",
        "--metric",
        "new_customers",
        "--period",
        "2026-Q4",
        "30",
    ]);
    env.ok(&[
        "target",
        "set",
        "--metric",
        "retention_rate",
        "--period",
        "2026",
        "85%",
    ]);
    env
}

fn row<'a>(v: &'a Value, metric: &str) -> &'a Value {
    v.as_array()
        .expect("a list")
        .iter()
        .find(|p| p["target"]["metric"] == metric)
        .unwrap_or_else(|| panic!("no {metric} in {v}"))
}

#[test]
fn targets_are_listed_by_period_then_replaced_and_removed() {
    let env = books();
    assert_eq!(
        env.json(&["target", "list"]),
        json!([
            {"metric": "retention_rate", "period": "2026", "value": "0.85"},
            {"metric": "new_customers", "period": "2026-Q4", "value": "30"},
            {"metric": "revenue", "period": "2026-11", "value": "90000"},
        ])
    );
    env.ok(&[
        "target", "set", "--metric", "revenue", "--period", "2026-11", "100000",
    ]);
    let list = env.json(&["target", "list"]);
    assert_eq!(list[2]["value"], "100000");
    assert_eq!(list.as_array().map(Vec::len), Some(3));
    let zh = env.ok(&["--lang", "zh-CN", "target", "list"]);
    assert!(zh.contains("销售额") && zh.contains("留存率"), "{zh}");
    env.ok(&[
        "target", "remove", "--metric", "revenue", "--period", "2026-11",
    ]);
    let err = env.fails(
        &[
            "target", "remove", "--metric", "revenue", "--period", "2026-11",
        ],
        1,
    );
    assert!(err.contains("2026-11"), "{err}");
    assert_eq!(
        env.json(&["target", "list"]).as_array().map(Vec::len),
        Some(2)
    );
}

#[test]
fn progress_is_the_report_figure_so_far_with_a_linear_run_rate() {
    let env = books();
    let v = env.json(&["target", "progress", "--as-of", "2026-11-12"]);
    let revenue = row(&v, "revenue");
    // 36 000 in 12 of 30 days: 40 %, forecast 36 000 × 30 / 12 = 90 000.
    assert_eq!(revenue["actual"], "36000");
    assert_eq!(revenue["share"], "0.4");
    assert_eq!(revenue["forecast"], "90000");
    assert_eq!(revenue["forecast_share"], "1");
    assert_eq!(
        (
            revenue["elapsed_days"].clone(),
            revenue["total_days"].clone()
        ),
        (json!(12), json!(30))
    );
    // 李华 is the quarter's one new customer in 43 of 92 days.
    let new = row(&v, "new_customers");
    assert_eq!(new["actual"], "1");
    assert_eq!(new["forecast"], "2.14");
    // Nobody was a customer on 1 January: no retention rate yet.
    assert_eq!(row(&v, "retention_rate")["actual"], Value::Null);
    // The day before: the 24 000 of the 12th (Shanghai) is not in yet.
    let v = env.json(&["target", "progress", "--as-of", "2026-11-11"]);
    assert_eq!(row(&v, "revenue")["actual"], "12000");
    // The first day of the month: one day elapsed, nothing sold yet.
    let v = env.json(&["target", "progress", "--as-of", "2026-11-01"]);
    assert_eq!(row(&v, "revenue")["forecast"], "0");
    assert_eq!(row(&v, "revenue")["elapsed_days"], 1);
    // With --period only the month's own targets and those containing it.
    let v = env.json(&[
        "target",
        "progress",
        "--period",
        "2026-10",
        "--as-of",
        "2026-11-12",
    ]);
    let metrics: Vec<&str> = v
        .as_array()
        .expect("a list")
        .iter()
        .map(|p| p["target"]["metric"].as_str().expect("a metric"))
        .collect();
    assert_eq!(metrics, ["retention_rate", "new_customers"]);
    let zh = env.ok(&[
        "--lang",
        "zh-CN",
        "target",
        "progress",
        "--as-of",
        "2026-11-12",
    ]);
    assert!(
        zh.contains("截至 2026-11-12") && zh.contains("40.0%"),
        "{zh}"
    );
}

#[test]
fn the_report_shows_the_targets_of_its_period() {
    let env = books();
    let report = env.json(&["report", "--from", "2026-11-01", "--to", "2026-11-12"]);
    let targets = &report["targets"];
    assert_eq!(row(targets, "revenue")["share"], "0.4");
    assert_eq!(row(targets, "revenue")["as_of"], "2026-11-12");
    let text = env.ok(&["report", "--from", "2026-11-01", "--to", "2026-11-12"]);
    assert!(
        text.contains("FORECAST") && text.contains("90000"),
        "{text}"
    );
    // A report of a period without targets has none.
    let report = env.json(&["report", "--from", "2025-03-01", "--to", "2025-03-31"]);
    assert_eq!(report.get("targets"), None);
}

#[test]
fn bad_targets_are_usage_errors_and_nothing_is_stored() {
    let env = books();
    let before = env.json(&["target", "list"]);
    for (args, needle) in [
        (
            vec!["--metric", "营收", "--period", "2026-11", "1"],
            "revenue",
        ),
        (
            vec!["--metric", "revenue", "--period", "2026-13", "1"],
            "2026-Q1",
        ),
        (
            vec!["--metric", "deals_won", "--period", "2026-11", "2.5"],
            "whole number",
        ),
        (
            vec!["--metric", "retention_rate", "--period", "2026", "120%"],
            "0 to 1",
        ),
        (
            vec!["--metric", "revenue", "--period", "2026", "五万"],
            "五万",
        ),
        (
            vec!["--metric", "revenue", "--period", "2026", "-5"],
            "zero or more",
        ),
    ] {
        let mut all = vec!["target", "set"];
        all.extend(args);
        let err = env.fails(&all, 2);
        assert!(err.contains(needle), "{all:?}: {err}");
    }
    assert_eq!(env.json(&["target", "list"]), before);
}
