//! `solocrm campaign ...` on the real binary: campaigns with Chinese names, costs,
//! customers and deals attributed to them, their figures in `campaign stats` and in
//! `report`, and bad input refused (exit 2 for usage, 1 for what the books refuse)
//! with nothing written.

mod common;

use common::Env;
use serde_json::Value;

/// 双十一直播 (douyin, budget 5000) and 朋友圈广告 (wechat); 王小明 won by the first,
/// 李华 by the second; a 1000 CNY cost and a won 3000 CNY deal on the first.
fn books() -> Env {
    let env = Env::new();
    env.ok(&["init", "--currency", "CNY", "--timezone", "Asia/Shanghai"]);
    env.ok(&[
        "campaign",
        "add",
        "双十一直播",
        "--channel",
        "douyin",
        "--start",
        "2026-11-01",
        "--end",
        "2026-11-11",
        "--budget",
        "5000",
        "--note",
        "三场直播",
    ]);
    env.ok(&[
        "campaign",
        "add",
        "朋友圈广告",
        "--channel",
        "wechat",
        "--start",
        "2026-10-01",
    ]);
    env.ok(&[
        "customer",
        "add",
        "王小明",
        "--campaign",
        "双十一直播",
        "--at",
        "2026-11-02",
    ]);
    env.ok(&["customer", "add", "李华", "--at", "2026-11-03"]);
    env.ok(&["customer", "edit", "#2", "--campaign", "2"]);
    env.ok(&["purchase", "add", "#1", "1200", "--at", "2026-11-05"]);
    env.ok(&["purchase", "add", "#2", "800", "--at", "2026-11-06"]);
    env.ok(&[
        "cost",
        "add",
        "1000",
        "--category",
        "marketing",
        "--channel",
        "douyin",
        "--campaign",
        "双十一直播",
        "--at",
        "2026-11-01",
    ]);
    env.ok(&[
        "deal",
        "add",
        "#1",
        "年货礼盒",
        "3000",
        "--campaign",
        "双十一直播",
        "--at",
        "2026-11-02",
    ]);
    env.ok(&["deal", "move", "1", "won", "--at", "2026-11-10"]);
    env
}

fn money(v: &Value) -> &str {
    v["amount"]
        .as_str()
        .unwrap_or_else(|| panic!("no amount in {v}"))
}

#[test]
fn campaign_stats_set_cost_against_customers_revenue_and_deals() {
    let env = books();
    let s = env.json(&["campaign", "stats", "--period", "2026-11"]);
    let live = &s["campaigns"][0];
    assert_eq!(live["name"], "双十一直播");
    assert_eq!(money(&live["cost"]), "1000.00");
    assert_eq!(money(&live["budget"]), "5000.00");
    assert_eq!(live["customers_acquired"], 1);
    assert_eq!(money(&live["cac"]), "1000.00");
    assert_eq!(money(&live["revenue"]), "1200.00");
    assert_eq!(live["deals_won"], 1);
    assert_eq!(money(&live["won_value"]), "3000.00");
    assert_eq!(live["roi"], "0.2");
    let ads = &s["campaigns"][1];
    assert_eq!(money(&ads["revenue"]), "800.00");
    assert_eq!(ads["roi"], Value::Null, "no cost, no ROI");
    let channels: Vec<&str> = s["channels"]
        .as_array()
        .expect("channels")
        .iter()
        .filter_map(|c| c["channel"].as_str())
        .collect();
    assert_eq!(channels, ["douyin", "wechat"]);
    // October: the cost and purchases are outside; nothing acquired, no ROI.
    let oct = env.json(&[
        "campaign",
        "stats",
        "--from",
        "2026-10-01",
        "--to",
        "2026-10-31",
    ]);
    assert_eq!(oct["campaigns"][0]["customers_acquired"], 0);
    assert_eq!(oct["campaigns"][0]["cac"], Value::Null);
    let zh = env.ok(&[
        "--lang", "zh-CN", "campaign", "stats", "--period", "2026-11",
    ]);
    assert!(zh.contains("双十一直播") && zh.contains("获客成本"), "{zh}");
    let text = env.ok(&["campaign", "show", "双十一直播"]);
    assert!(text.contains("1 customers, 1 deals, 1 costs"), "{text}");
    assert!(text.contains("20.0 %"), "{text}");
}

#[test]
fn the_report_and_the_customer_export_carry_the_campaigns() {
    let env = books();
    let r = env.json(&["report", "--from", "2026-11-01", "--to", "2026-11-30"]);
    assert_eq!(
        r["report"]["campaigns"]["campaigns"][0]["name"],
        "双十一直播"
    );
    assert_eq!(r["report"]["campaigns"]["campaigns"][0]["deals_won"], 1);
    let text = env.ok(&["report", "--from", "2026-11-01", "--to", "2026-11-30"]);
    assert!(
        text.contains("CAMPAIGN") && text.contains("朋友圈广告"),
        "{text}"
    );
    let export = env.json(&["customer", "export", "#1"]);
    assert_eq!(export["campaign"], 1);
    env.ok(&["customer", "erase", "#1", "--yes"]);
    let s = env.json(&["campaign", "stats", "--period", "2026-11"]);
    assert_eq!(
        s["campaigns"][0]["customers_acquired"], 0,
        "the attribution went"
    );
    assert_eq!(
        env.json(&["customer", "export", "#1"])["campaign"],
        Value::Null
    );
}

#[test]
fn campaigns_are_edited_ended_and_listed() {
    let env = books();
    env.ok(&[
        "campaign",
        "edit",
        "朋友圈广告",
        "--budget",
        "300",
        "--note",
        "朋友圈",
    ]);
    env.ok(&["campaign", "end", "朋友圈广告", "--on", "2026-10-31"]);
    let list = env.json(&["campaign", "list"]);
    assert_eq!(list[1]["end"], "2026-10-31");
    assert_eq!(money(&list[1]["budget"]), "300.00");
    env.ok(&["campaign", "edit", "2", "--clear", "budget"]);
    assert_eq!(env.json(&["campaign", "list"])[1]["budget"], Value::Null);
    env.ok(&["deal", "edit", "1", "--no-campaign"]);
    let s = env.json(&["campaign", "stats", "--period", "2026-11"]);
    assert_eq!(s["campaigns"][0]["deals_won"], 0);
}

#[test]
fn bad_input_is_refused_and_nothing_is_written() {
    let env = books();
    let before = env.json(&["campaign", "list"]);
    // Usage errors: exit 2.
    let err = env.fails(
        &[
            "cost",
            "add",
            "5",
            "--category",
            "marketing",
            "--campaign",
            "没有的活动",
        ],
        2,
    );
    assert!(err.contains("没有的活动"), "{err}");
    env.fails(&["customer", "add", "赵六", "--campaign", "没有的活动"], 2);
    env.fails(&["deal", "add", "#2", "茶叶", "100", "--campaign", "99"], 2);
    env.fails(&["campaign", "add", "缺渠道"], 2);
    env.fails(&["campaign", "stats", "--period", "2026-13"], 2);
    env.fails(&["campaign", "show", "没有的活动"], 2);
    env.fails(&["campaign", "edit", "2"], 2);
    // What the books refuse: exit 1.
    let err = env.fails(&["campaign", "add", "双十一直播", "--channel", "x"], 1);
    assert!(err.contains("already exists"), "{err}");
    env.fails(
        &[
            "campaign",
            "add",
            "倒序",
            "--channel",
            "x",
            "--start",
            "2026-11-02",
            "--end",
            "2026-11-01",
        ],
        1,
    );
    env.fails(&["campaign", "end", "朋友圈广告", "--on", "2026-09-01"], 1);
    env.fails(
        &[
            "campaign",
            "add",
            "负预算",
            "--channel",
            "x",
            "--budget",
            "-1",
        ],
        1,
    );
    assert_eq!(env.json(&["campaign", "list"]), before);
    assert_eq!(
        env.json(&["cost", "list"]).as_array().map(Vec::len),
        Some(1)
    );
    assert_eq!(env.count("customers"), 2);
    let zh = env.fails(&["--lang", "zh-CN", "campaign", "show", "没有的活动"], 2);
    assert!(zh.contains("没有编号或名称为"), "{zh}");
}

#[test]
fn a_campaign_is_found_by_name_before_id_and_its_costs_take_its_channel() {
    let env = Env::new();
    env.ok(&["init", "--currency", "CNY", "--timezone", "Asia/Shanghai"]);
    env.ok(&[
        "campaign",
        "add",
        "双十一直播",
        "--channel",
        "douyin",
        "--start",
        "2026-11-01",
    ]);
    // Campaign 2 is named "1": the name wins over campaign 1's id; `#1` is the id.
    env.ok(&[
        "campaign",
        "add",
        "1",
        "--channel",
        "wechat",
        "--start",
        "2026-11-01",
    ]);
    let by_name = env.json(&["campaign", "show", "1"]);
    assert_eq!(by_name["campaign"]["name"], "1", "{by_name}");
    let by_id = env.json(&["campaign", "show", "#1"]);
    assert_eq!(by_id["campaign"]["name"], "双十一直播", "{by_id}");
    // A cost on a campaign without --channel is spent on the campaign's channel.
    let cost = env.json(&[
        "cost",
        "add",
        "500",
        "--category",
        "marketing",
        "--campaign",
        "双十一直播",
        "--at",
        "2026-11-02",
    ]);
    assert_eq!(cost["channel"], "douyin", "{cost}");
}
