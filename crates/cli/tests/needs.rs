//! `solocrm need add|list|resolve|void|stats`: needs and pain points of customers and
//! deals, shown on `customer show` and `deal show`, and selected by the segment fields
//! `need` and `pain_point` while open.

mod common;

use common::Env;

fn setup() -> Env {
    let env = Env::new();
    env.ok(&["init", "--currency", "CNY", "--timezone", "Asia/Shanghai"]);
    for name in ["王伟", "李娜", "张敏"] {
        env.ok(&["customer", "add", name, "--at", "2026-01-05"]);
    }
    env.ok(&[
        "deal",
        "add",
        "#2",
        "年度维护",
        "3000",
        "--at",
        "2026-02-01",
    ]);
    env
}

#[test]
fn needs_are_recorded_listed_resolved_voided_and_counted() {
    let env = setup();
    let n = env.json(&[
        "need",
        "add",
        "#1",
        "价格敏感",
        "--kind",
        "痛点",
        "--note",
        "觉得运费太贵",
        "--at",
        "2026-03-10",
    ]);
    assert_eq!(n["id"], 1);
    assert_eq!(n["kind"], "pain_point");
    assert_eq!(n["key"], "价格敏感");
    assert_eq!(n["at"], "2026-03-09T16:00:00Z");
    assert_eq!(n.get("resolved_at"), None);
    env.ok(&[
        "need",
        "add",
        "#2",
        "价格敏感",
        "--kind",
        "pain-point",
        "--deal",
        "1",
        "--at",
        "2026-03-11",
    ]);
    env.ok(&["need", "add", "#2", "fast-delivery", "--at", "2026-03-12"]);
    assert_eq!(
        env.json(&["need", "list"]).as_array().map(Vec::len),
        Some(3)
    );
    assert_eq!(
        env.json(&["need", "list", "#2"]).as_array().map(Vec::len),
        Some(2)
    );
    let table = env.ok(&["--lang", "zh-CN", "need", "list"]);
    assert!(
        table.contains("觉得运费太贵") && table.contains("痛点") && table.contains("需求"),
        "{table}"
    );
    // What hurts most: two customers with the same pain point.
    let stats = env.json(&["need", "stats"]);
    assert_eq!(stats[0]["key"], "价格敏感");
    assert_eq!(stats[0]["customers"], 2);
    assert_eq!(stats[0]["entries"], 2);
    // Resolved: no longer open, no longer counted; resolving again is refused.
    let r = env.json(&["need", "resolve", "1", "--at", "2026-03-20"]);
    assert_eq!(r["resolved_at"], "2026-03-19T16:00:00Z");
    env.fails(&["need", "resolve", "1"], 1);
    assert_eq!(
        env.json(&["need", "list", "--open"])
            .as_array()
            .map(Vec::len),
        Some(2)
    );
    assert_eq!(env.json(&["need", "stats"])[0]["customers"], 1);
    // Voided: stays listed with its marker, counts nowhere.
    let v = env.json(&["need", "void", "3"]);
    assert!(v["voided_at"].is_string(), "{v}");
    assert_eq!(
        env.json(&["need", "list", "--open"])
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    let table = env.ok(&["need", "list"]);
    assert!(
        table.contains("void") && table.contains("resolved"),
        "{table}"
    );
}

#[test]
fn bad_needs_are_refused_with_a_clear_message_and_nothing_written() {
    let env = setup();
    let err = env.fails(&["need", "add", "#1", "x", "--kind", "愿望"], 2);
    assert!(
        err.contains("need (需求)") && err.contains("pain-point (痛点)"),
        "{err}"
    );
    let err = env.fails(&["need", "add", "#1", "   "], 2);
    assert!(err.contains("tag"), "{err}");
    // Li's deal is not Wang's.
    let err = env.fails(&["need", "add", "#1", "x", "--deal", "1"], 1);
    assert!(err.contains("deal 1 belongs to customer 2"), "{err}");
    env.fails(&["need", "add", "#1", "x", "--deal", "99"], 1);
    env.fails(&["need", "resolve", "42"], 1);
    env.ok(&["need", "add", "#1", "x", "--at", "2026-03-10"]);
    let err = env.fails(&["need", "resolve", "1", "--at", "2026-03-01"], 1);
    assert!(err.contains("must not be before"), "{err}");
    assert_eq!(
        env.json(&["need", "list"]).as_array().map(Vec::len),
        Some(1)
    );
}

#[test]
fn customer_and_deal_show_list_open_needs_and_segments_select_them() {
    let env = setup();
    env.ok(&[
        "need",
        "add",
        "#2",
        "售后",
        "--kind",
        "痛点",
        "--deal",
        "1",
        "--note",
        "上门太慢",
        "--at",
        "2026-03-01",
    ]);
    env.ok(&["need", "add", "#1", "fast-delivery", "--at", "2026-03-02"]);
    let shown = env.ok(&["customer", "show", "#2"]);
    assert!(
        shown.contains("售后") && shown.contains("上门太慢"),
        "{shown}"
    );
    let json = env.json(&["customer", "show", "#2"]);
    assert_eq!(json["needs"][0]["key"], "售后");
    let deal = env.json(&["deal", "show", "1"]);
    assert_eq!(deal["needs"][0]["key"], "售后");
    assert!(env.ok(&["deal", "show", "1"]).contains("售后"));

    env.ok(&["segment", "add", "售后有痛点", "pain_point = \"售后\""]);
    let listed = env.json(&["customer", "list", "--segment", "售后有痛点"]);
    let items = listed["items"].as_array().expect("items");
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["id"], 2);
    let needing = env.json(&[
        "customer",
        "list",
        "--segment",
        "售后有痛点",
        "--as-of",
        "2026-02-20",
    ]);
    assert_eq!(needing["items"].as_array().map(Vec::len), Some(0));
    env.ok(&["need", "resolve", "1"]);
    let after = env.json(&["customer", "list", "--segment", "售后有痛点"]);
    assert_eq!(after["items"].as_array().map(Vec::len), Some(0));
    // The erasure keeps the entry and drops the note.
    env.ok(&["customer", "erase", "#2", "--yes"]);
    let erased = env.json(&["need", "list", "#2"]);
    assert_eq!(erased[0].get("note"), None);
    assert_eq!(erased[0]["key"], "售后");
}
