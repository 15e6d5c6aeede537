//! `solocrm participation add|list` and `report --engagement`: participations as
//! records, and the loyalty index measuring engagement by them when asked.

mod common;

use common::Env;
use serde_json::{Value, json};

fn setup() -> Env {
    let env = Env::new();
    env.ok(&["init", "--currency", "CNY", "--timezone", "Asia/Shanghai"]);
    for name in ["王伟", "李娜", "张敏", "刘洋"] {
        env.ok(&["customer", "add", name, "--at", "2026-01-05"]);
    }
    // Every customer buys in March, so all four are in the base at its end.
    for i in 1..=4 {
        let (key, day) = (format!("#{i}"), format!("2026-03-0{i}"));
        env.ok(&["purchase", "add", &key, "100", "--at", &day]);
    }
    // One NPS answer, so the loyalty index's willingness component is defined.
    env.ok(&["survey", "record", "#1", "--nps", "9", "--at", "2026-03-15"]);
    env
}

fn loyalty(v: &Value) -> &Value {
    &v["report"]["loyalty"]["value"]
}

#[test]
fn participations_are_recorded_listed_and_refused_when_bad() {
    let env = setup();
    let p = env.json(&[
        "participation",
        "add",
        "#1",
        "--kind",
        "活动",
        "--note",
        "新品品鉴会",
        "--at",
        "2026-03-10",
    ]);
    assert_eq!(
        p,
        json!({"customer": 1, "at": "2026-03-09T16:00:00Z", "kind": "event", "note": "新品品鉴会"})
    );
    env.ok(&[
        "participation",
        "add",
        "#2",
        "--kind",
        "review",
        "--at",
        "2026-03-11",
    ]);
    let all = env.json(&["participation", "list"]);
    assert_eq!(all.as_array().map(Vec::len), Some(2));
    let wang = env.json(&["participation", "list", "--customer", "#1"]);
    assert_eq!(wang[0]["kind"], "event");
    let table = env.ok(&["--lang", "zh-CN", "participation", "list"]);
    assert!(table.contains("新品品鉴会"), "{table}");
    // Bad input: a usage error with the closed list; a duplicate is refused.
    let err = env.fails(&["participation", "add", "#1", "--kind", "聚餐"], 2);
    assert!(
        err.contains("event (活动)") && err.contains("review (评价)"),
        "{err}"
    );
    let err = env.fails(
        &[
            "participation",
            "add",
            "#2",
            "--kind",
            "评价",
            "--at",
            "2026-03-11",
        ],
        1,
    );
    assert!(err.contains("review"), "{err}");
    assert_eq!(
        env.json(&["participation", "list"])
            .as_array()
            .map(Vec::len),
        Some(2)
    );
    // An erasure drops the note.
    env.ok(&["customer", "erase", "#1", "--yes"]);
    let after = env.json(&["participation", "list", "--customer", "#1"]);
    assert_eq!(after[0].get("note"), None);
}

#[test]
fn the_report_measures_engagement_by_participation_when_asked_and_says_so() {
    let env = setup();
    // One of four customers took part in March; nobody logged an interaction.
    env.ok(&[
        "participation",
        "add",
        "#3",
        "--kind",
        "建议",
        "--at",
        "2026-03-20",
    ]);
    let month = ["--from", "2026-03-01", "--to", "2026-03-31"];
    let mut old = vec!["report"];
    old.extend(month);
    let proxy = env.json(&old);
    assert_eq!(loyalty(&proxy)["engagement_rate"], "0");
    assert_eq!(loyalty(&proxy).get("engagement_basis"), None, "the default");
    let mut new = old.clone();
    new.extend(["--engagement", "participation_rate"]);
    let by_participation = env.json(&new);
    assert_eq!(loyalty(&by_participation)["engagement_rate"], "0.25");
    assert_eq!(
        loyalty(&by_participation)["engagement_basis"],
        "participation_rate"
    );
    // The repeat and willingness components are the same either way.
    assert_eq!(
        loyalty(&by_participation)["repeat_purchase_rate"],
        loyalty(&proxy)["repeat_purchase_rate"]
    );
    let mut text = vec!["--lang", "zh-CN"];
    text.extend(new.iter().copied());
    let out = env.ok(&text);
    assert!(out.contains("参与度按参与率"), "{out}");
    let mut text = vec!["--lang", "zh-CN"];
    text.extend(old.iter().copied());
    assert!(env.ok(&text).contains("参与度按互动率"));
    let mut bad = old.clone();
    bad.extend(["--engagement", "vibes"]);
    let err = env.fails(&bad, 2);
    assert!(
        err.contains("interaction_rate") && err.contains("participation_rate"),
        "{err}"
    );
}
