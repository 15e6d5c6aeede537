//! `--segment NAME` / `--stage STAGE` on the analytic commands added after ADR 0026
//! (`product stats`, `campaign stats`, `offer stats`, `survey dimensions`; issue 18):
//! two customers in different stages and segments, and each filter gives only its
//! member's figures; an unknown segment is a usage error (exit 2).

mod common;

use common::Env;
use serde_json::Value;

/// 王芳 (tag 贵宾, saved as the segment 高价值客户, stage loyal) and 李雷 (stage
/// at_risk), on books in Asia/Shanghai.
fn books() -> Env {
    let env = Env::new();
    env.ok(&["init", "--currency", "CNY", "--timezone", "Asia/Shanghai"]);
    env.ok(&[
        "customer",
        "add",
        "王芳",
        "--tag",
        "贵宾",
        "--stage",
        "loyal",
        "--at",
        "2026-01-05",
    ]);
    env.ok(&[
        "customer",
        "add",
        "李雷",
        "--stage",
        "at_risk",
        "--at",
        "2026-01-06",
    ]);
    env.ok(&["segment", "add", "高价值客户", "tag = \"贵宾\""]);
    env
}

/// An unknown segment is a usage error naming it, and the command prints nothing.
fn unknown_segment_fails(env: &Env, args: &[&str]) {
    let mut args = args.to_vec();
    args.extend(["--segment", "不存在"]);
    let err = env.fails(&args, 2);
    assert!(err.contains("不存在"), "{err}");
}

fn amount(v: &Value) -> &str {
    v["amount"]
        .as_str()
        .unwrap_or_else(|| panic!("no amount in {v}"))
}

#[test]
fn product_stats_of_a_group_counts_its_members_lines_only() {
    let env = books();
    env.ok(&[
        "product",
        "add",
        "TEA-LJ",
        "龙井茶",
        "--price",
        "88.00",
        "--category",
        "茶叶",
    ]);
    env.ok(&[
        "purchase",
        "add",
        "#1",
        "--line",
        "TEA-LJ:2",
        "--at",
        "2026-02-01",
    ]);
    env.ok(&[
        "purchase",
        "add",
        "#2",
        "--line",
        "TEA-LJ:1",
        "--at",
        "2026-02-02",
    ]);
    let all = env.json(&["product", "stats"]);
    assert_eq!(all["rows"][0]["units"], 3);
    assert_eq!(all["rows"][0]["buyers"], 2);
    let vip = env.json(&["product", "stats", "--segment", "高价值客户"]);
    assert_eq!(vip["rows"][0]["units"], 2);
    assert_eq!(amount(&vip["rows"][0]["revenue"]), "176.00");
    assert_eq!(vip["rows"][0]["buyers"], 1);
    assert_eq!(vip["products_per_customer"]["customers"], 1);
    assert_eq!(vip["members"], 1);
    let risky = env.json(&["product", "stats", "--stage", "at_risk", "--by", "category"]);
    assert_eq!(risky["rows"][0]["key"], "茶叶");
    assert_eq!(risky["rows"][0]["units"], 1);
    assert_eq!(amount(&risky["rows"][0]["revenue"]), "88.00");
    let text = env.ok(&["product", "stats", "--segment", "高价值客户"]);
    assert!(text.contains("高价值客户"), "{text}");
    unknown_segment_fails(&env, &["product", "stats"]);
}

#[test]
fn campaign_stats_of_a_group_has_its_members_figures_and_no_costs() {
    let env = books();
    env.ok(&[
        "campaign",
        "add",
        "双十一直播",
        "--channel",
        "douyin",
        "--start",
        "2026-11-01",
    ]);
    env.ok(&["customer", "edit", "#1", "--campaign", "双十一直播"]);
    env.ok(&["customer", "edit", "#2", "--campaign", "双十一直播"]);
    env.ok(&["purchase", "add", "#1", "1200", "--at", "2026-11-05"]);
    env.ok(&["purchase", "add", "#2", "800", "--at", "2026-11-06"]);
    env.ok(&[
        "cost",
        "add",
        "1000",
        "--category",
        "marketing",
        "--campaign",
        "双十一直播",
        "--at",
        "2026-11-01",
    ]);
    let all = env.json(&["campaign", "stats", "--period", "2026-11"]);
    assert_eq!(all["campaigns"][0]["customers_acquired"], 2);
    assert_eq!(amount(&all["campaigns"][0]["revenue"]), "2000.00");
    assert_eq!(amount(&all["campaigns"][0]["cost"]), "1000.00");
    let vip = env.json(&[
        "campaign",
        "stats",
        "--period",
        "2026-11",
        "--segment",
        "高价值客户",
    ]);
    let live = &vip["campaigns"][0];
    assert_eq!(live["customers_acquired"], 1);
    assert_eq!(amount(&live["revenue"]), "1200.00");
    // A group has no costs (ADR 0026): no cost, no CAC, no ROI.
    assert_eq!(amount(&live["cost"]), "0.00");
    assert_eq!(live["roi"], Value::Null);
    assert_eq!(vip["group"]["segment"], "高价值客户");
    assert_eq!(vip["members"], 1);
    let risky = env.json(&[
        "campaign",
        "stats",
        "--from",
        "2026-11-01",
        "--to",
        "2026-11-30",
        "--stage",
        "at_risk",
    ]);
    assert_eq!(risky["campaigns"][0]["customers_acquired"], 1);
    assert_eq!(amount(&risky["campaigns"][0]["revenue"]), "800.00");
    unknown_segment_fails(&env, &["campaign", "stats", "--period", "2026-11"]);
}

#[test]
fn campaign_stats_of_a_past_period_decide_the_group_as_the_books_stood_then() {
    let env = books();
    env.ok(&[
        "campaign",
        "add",
        "国庆促销",
        "--channel",
        "wechat",
        "--start",
        "2026-10-01",
    ]);
    env.ok(&["customer", "edit", "#1", "--campaign", "国庆促销"]);
    env.ok(&["customer", "edit", "#2", "--campaign", "国庆促销"]);
    env.ok(&["purchase", "add", "#1", "1200", "--at", "2026-10-05"]);
    env.ok(&["purchase", "add", "#2", "800", "--at", "2026-10-06"]);
    // 王芳 was loyal all October and became at risk in November: October's at-risk
    // group is 李雷 alone, as `report --period 2026-10 --stage at_risk` has it.
    env.ok(&["stage", "set", "#1", "at_risk", "--at", "2026-11-10"]);
    let october = env.json(&[
        "campaign", "stats", "--period", "2026-10", "--stage", "at_risk",
    ]);
    assert_eq!(october["members"], 1, "{october}");
    assert_eq!(october["campaigns"][0]["customers_acquired"], 1);
    assert_eq!(amount(&october["campaigns"][0]["revenue"]), "800.00");
}

#[test]
fn offer_stats_of_a_group_counts_its_members_redemptions_only() {
    let env = books();
    env.ok(&[
        "offer",
        "add",
        "spring10",
        "--kind",
        "percent",
        "--value",
        "10",
        "--from",
        "2026-03-01",
        "--until",
        "2026-03-31",
    ]);
    env.ok(&[
        "purchase",
        "add",
        "#1",
        "100",
        "--coupon",
        "spring10",
        "--at",
        "2026-03-05",
    ]);
    env.ok(&[
        "purchase",
        "add",
        "#2",
        "50",
        "--coupon",
        "spring10",
        "--at",
        "2026-03-06",
    ]);
    let all = env.json(&["offer", "stats"]);
    assert_eq!(all[0]["redemptions"], 2);
    let vip = env.json(&["offer", "stats", "--segment", "高价值客户"]);
    assert_eq!(vip[0]["code"], "SPRING10");
    assert_eq!(vip[0]["redemptions"], 1);
    assert_eq!(amount(&vip[0]["revenue"]), "90.00");
    assert_eq!(amount(&vip[0]["discount_cost"]), "10.00");
    let risky = env.json(&["offer", "stats", "SPRING10", "--stage", "at_risk"]);
    assert_eq!(risky[0]["redemptions"], 1);
    assert_eq!(amount(&risky[0]["revenue"]), "45.00");
    let text = env.ok(&["--lang", "zh-CN", "offer", "stats", "--stage", "loyal"]);
    assert!(text.contains("SPRING10"), "{text}");
    unknown_segment_fails(&env, &["offer", "stats"]);
}

#[test]
fn survey_dimensions_of_a_group_reads_its_members_sheets_only() {
    let env = books();
    env.ok(&[
        "survey",
        "template",
        "add",
        "回访",
        "--question",
        "推荐意愿|总体|0-10|nps",
        "--question",
        "服务态度如何？|服务质量|1-5",
    ]);
    for (who, nps, service) in [("#1", "1=10", "2=5"), ("#2", "1=2", "2=1")] {
        env.ok(&[
            "survey",
            "answer",
            "回访",
            who,
            "--method",
            "电话",
            "--answer",
            nps,
            "--answer",
            service,
            "--at",
            "2026-03-01",
        ]);
    }
    let all = env.json(&["survey", "dimensions"]);
    assert_eq!(
        (all["sheets"].clone(), all["promoters"].clone()),
        (2.into(), 1.into())
    );
    let vip = env.json(&["survey", "dimensions", "--segment", "高价值客户"]);
    assert_eq!(vip["sheets"], 1);
    assert_eq!(vip["promoters"], 1);
    assert_eq!(vip["detractors"], 0);
    let risky = env.json(&["survey", "dimensions", "--stage", "at_risk"]);
    assert_eq!(risky["sheets"], 1);
    assert_eq!(risky["promoters"], 0);
    assert_eq!(risky["detractors"], 1);
    let text = env.ok(&["survey", "dimensions", "--stage", "at_risk"]);
    assert!(text.contains("only stage"), "{text}");
    unknown_segment_fails(&env, &["survey", "dimensions"]);
}
