//! `--as-of` replays history (issue 12): a view as of a past day shows the books as
//! they stood at the end of that day — customers created later are absent, stages come
//! from their history, and later purchases and moves are not seen.

mod common;

use common::Env;

/// Books in UTC with Ada, a monthly buyer in early 2025 who was moved to at-risk
/// in June, and Bo, who joined in 2026.
fn books() -> Env {
    let env = Env::new();
    env.ok(&["init", "--currency", "EUR", "--timezone", "UTC"]);
    env.ok(&[
        "customer",
        "add",
        "Ada",
        "--email",
        "ada@example.com",
        "--at",
        "2025-01-05",
    ]);
    for day in ["2025-01-10", "2025-02-10"] {
        env.ok(&["purchase", "add", "ada@example.com", "40", "--at", day]);
    }
    env.ok(&[
        "stage",
        "set",
        "ada@example.com",
        "at_risk",
        "--at",
        "2025-06-01",
    ]);
    env.ok(&[
        "customer",
        "add",
        "Bo",
        "--email",
        "bo@example.com",
        "--at",
        "2026-02-01",
    ]);
    env.ok(&[
        "purchase",
        "add",
        "bo@example.com",
        "90",
        "--at",
        "2026-02-02",
    ]);
    env
}

#[test]
fn a_report_as_of_a_past_day_counts_the_customers_and_stages_of_that_day() {
    let env = books();
    let then = env.json(&["report", "--as-of", "2025-03-01"]);
    let stages = &then["customers_by_stage"];
    assert_eq!(
        stages["active"], 1,
        "Ada was active on 1 March 2025: {stages}"
    );
    assert_eq!(
        stages["at_risk"], 0,
        "her move to at-risk came in June: {stages}"
    );
    let total: u64 = stages
        .as_object()
        .expect("stages by name")
        .values()
        .filter_map(serde_json::Value::as_u64)
        .sum();
    assert_eq!(total, 1, "Bo joined in 2026: {stages}");
    assert_eq!(
        then["report"]["purchases"]["stats"]["orders"], 2,
        "{}",
        then["report"]["purchases"]
    );

    let now = env.json(&["report"]);
    assert_eq!(
        now["customers_by_stage"]["at_risk"], 1,
        "{}",
        now["customers_by_stage"]
    );
}

#[test]
fn care_as_of_a_past_day_does_not_call_a_customer_at_risk_before_she_was() {
    let env = books();
    let then = env.json(&["care", "--as-of", "2025-02-26"]);
    let reasons: Vec<&str> = then
        .as_array()
        .expect("a list")
        .iter()
        .filter_map(|i| i["reason"]["kind"].as_str())
        .collect();
    assert!(
        !reasons.contains(&"at_risk"),
        "she bought 16 days earlier: {then}"
    );
    assert!(!reasons.contains(&"no_contact"), "{then}");
    // Today she is at risk.
    let now = env.json(&["care"]);
    assert!(
        now.as_array()
            .expect("a list")
            .iter()
            .any(|i| i["reason"]["kind"] == "at_risk"),
        "{now}"
    );
}

#[test]
fn rfm_cohorts_churn_risk_and_segments_as_of_a_past_day_leave_out_later_customers() {
    let env = books();
    let rfm = env.json(&["rfm", "--as-of", "2025-03-01"]);
    let customers = rfm["customers"].as_array().expect("rows");
    assert_eq!(customers.len(), 1, "{rfm}");
    assert_eq!(customers[0]["customer"], "ada@example.com");
    assert_eq!(customers[0]["recency_days"], 19, "{rfm}");

    let cohorts = env.json(&["cohort", "--as-of", "2025-03-01"]);
    let sizes: u64 = cohorts["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .filter_map(|r| r["size"].as_u64())
        .sum();
    assert_eq!(sizes, 1, "{cohorts}");

    let risk = env.json(&["churn-risk", "--as-of", "2025-03-01"]);
    assert!(
        risk.as_array()
            .expect("a list")
            .iter()
            .all(|w| w["stage"] != "at_risk"),
        "{risk}"
    );

    env.ok(&["segment", "add", "buyers", "purchase_count >= 1"]);
    let members = env.json(&["segment", "show", "buyers", "--as-of", "2025-03-01"]);
    assert_eq!(
        members["customers"].as_array().map(Vec::len),
        Some(1),
        "{members}"
    );
    let members = env.json(&["segment", "show", "buyers"]);
    assert_eq!(
        members["customers"].as_array().map(Vec::len),
        Some(2),
        "{members}"
    );
    // A segment by stage sees the stage of the day.
    env.ok(&["segment", "add", "risky", "stage = at_risk"]);
    let then = env.json(&["segment", "show", "risky", "--as-of", "2025-03-01"]);
    assert_eq!(
        then["customers"].as_array().map(Vec::len),
        Some(0),
        "{then}"
    );
    let now = env.json(&["segment", "show", "risky"]);
    assert_eq!(now["customers"].as_array().map(Vec::len), Some(1), "{now}");
}
