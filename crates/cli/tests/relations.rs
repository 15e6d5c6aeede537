//! Deals, tasks, requests, points and tiers, profile attributes and consent on the
//! command line (issue 13, the relations slice): every new command's happy path, its
//! errors, and that an error writes nothing.

mod common;

use common::Env;
use serde_json::Value;

/// Books with 王芳 (#1) and 李雷 (#2), days counted in Beijing.
fn books() -> Env {
    let env = Env::new();
    env.ok(&["init", "--currency", "CNY", "--timezone", "Asia/Shanghai"]);
    env.ok(&[
        "customer",
        "add",
        "王芳",
        "--city",
        "上海",
        "--at",
        "2026-01-01",
    ]);
    env.ok(&[
        "customer",
        "add",
        "李雷",
        "--city",
        "北京",
        "--at",
        "2026-01-01",
    ]);
    env
}

#[test]
fn a_deal_is_shown_edited_noted_and_lost_with_a_reason() {
    let env = books();
    env.ok(&[
        "deal",
        "add",
        "#1",
        "官网改版",
        "8000",
        "--at",
        "2026-02-01",
    ]);
    env.ok(&[
        "deal",
        "edit",
        "1",
        "--title",
        "官网改版二期",
        "--value",
        "12000.50",
        "--close",
        "2026-06-30",
    ]);
    env.ok(&["deal", "note", "1", "客户要先看报价", "--at", "2026-02-03"]);
    env.ok(&[
        "deal",
        "edit",
        "1",
        "--note",
        "第二次电话",
        "--at",
        "2026-02-05",
    ]);
    let shown = env.ok(&["deal", "show", "1"]);
    assert!(shown.contains("官网改版二期"), "{shown}");
    assert!(shown.contains("王芳 (1)"), "{shown}");
    assert!(shown.contains("12000.50"), "{shown}");
    assert!(shown.contains("2026-06-30"), "{shown}");
    assert!(shown.contains("2026-02-03  客户要先看报价"), "{shown}");
    assert!(shown.contains("第二次电话"), "{shown}");
    let out = env.ok(&[
        "deal",
        "move",
        "1",
        "lost",
        "--reason",
        "预算不足",
        "--at",
        "2026-03-01",
    ]);
    assert!(out.contains("deal 1 is now lost (预算不足)"), "{out}");
    let json = env.json(&["deal", "show", "1"]);
    assert_eq!(json["lost_reason"], "预算不足");
    assert_eq!(json["customer_name"], "王芳");
    assert_eq!(json["notes"].as_array().map(Vec::len), Some(2));
    assert_eq!(json["value"]["amount"], "12000.50");
    let shown = env.ok(&["deal", "show", "1"]);
    assert!(shown.contains("lost for  预算不足"), "{shown}");
    // A lost deal takes no other move; nothing changed.
    env.fails(&["deal", "move", "1", "won"], 1);
    assert_eq!(env.json(&["deal", "show", "1"]), json);
}

#[test]
fn a_lost_deal_may_go_without_a_reason_and_a_reason_needs_the_stage_lost() {
    let env = books();
    env.ok(&["deal", "add", "#2", "年度维护", "3000"]);
    let before = env.json(&["deal", "show", "1"]);
    let err = env.fails(&["deal", "move", "1", "won", "--reason", "价格合适"], 1);
    assert!(err.contains("--reason says why a deal was lost"), "{err}");
    assert_eq!(env.json(&["deal", "show", "1"]), before, "nothing written");
    env.ok(&["deal", "move", "1", "lost"]);
    let json = env.json(&["deal", "show", "1"]);
    assert_eq!(json["stage"], "lost");
    assert!(json["lost_reason"].is_null());
}

#[test]
fn deal_edit_errors_write_nothing() {
    let env = books();
    env.ok(&["deal", "add", "#1", "官网", "100"]);
    let before = env.json(&["deal", "show", "1"]);
    let err = env.fails(&["deal", "edit", "1"], 1);
    assert!(err.contains("nothing to change"), "{err}");
    let err = env.fails(
        &["deal", "edit", "1", "--value", "-5", "--note", "不该保存"],
        1,
    );
    assert!(err.contains("must not be negative"), "{err}");
    env.fails(&["deal", "edit", "1", "--value", "1.234"], 1);
    env.fails(&["deal", "edit", "1", "--close", "2026-02-30"], 1);
    env.fails(
        &["deal", "edit", "1", "--close", "2026-02-01", "--no-close"],
        2,
    );
    let err = env.fails(&["deal", "note", "1", "  "], 1);
    assert!(err.contains("empty"), "{err}");
    assert_eq!(env.json(&["deal", "show", "1"]), before);
    let err = env.fails(&["deal", "show", "9"], 1);
    assert!(err.contains("deal 9 not found"), "{err}");
    env.fails(&["deal", "note", "9", "x"], 1);
    env.ok(&["deal", "edit", "1", "--no-close"]);
}

#[test]
fn deal_list_has_names_and_pages_newest_first() {
    let env = books();
    for (who, title) in [("#1", "一"), ("#2", "二"), ("#1", "三")] {
        env.ok(&["deal", "add", who, title, "10"]);
    }
    let out = env.ok(&["deal", "list", "--limit", "2"]);
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].contains("NAME"), "{out}");
    assert!(
        lines[1].contains("王芳") && lines[1].contains("三"),
        "{out}"
    );
    assert!(
        lines[2].contains("李雷") && lines[2].contains("二"),
        "{out}"
    );
    assert!(
        out.contains("showing 2 of 3 deals; --limit 0 shows all"),
        "{out}"
    );
    let json = env.json(&["deal", "list", "--limit", "2"]);
    let ids: Vec<u64> = json
        .as_array()
        .expect("a list")
        .iter()
        .filter_map(|d| d["id"].as_u64())
        .collect();
    assert_eq!(ids, [2, 3]);
    env.fails(&["deal", "list", "--limit", "x"], 2);
}

#[test]
fn a_task_is_shown_edited_and_cancelled_and_kept() {
    let env = books();
    env.ok(&[
        "task",
        "add",
        "回访王芳",
        "--due",
        "2026-03-01",
        "--customer",
        "#1",
        "--at",
        "2026-01-15",
    ]);
    env.ok(&[
        "task",
        "edit",
        "1",
        "--title",
        "电话回访王芳",
        "--due",
        "2026-03-05",
        "--kind",
        "custom",
    ]);
    let shown = env.ok(&["task", "show", "1"]);
    assert!(shown.contains("电话回访王芳"), "{shown}");
    assert!(shown.contains("2026-03-05"), "{shown}");
    assert!(shown.contains("custom"), "{shown}");
    assert!(shown.contains("王芳 (1)"), "{shown}");
    let list = env.ok(&["task", "list"]);
    assert!(list.contains("王芳") && list.contains("open"), "{list}");
    let care = env.json(&["care", "--as-of", "2026-03-05"]).to_string();
    assert!(care.contains("电话回访王芳"), "{care}");
    env.ok(&["task", "cancel", "1", "--at", "2026-02-10"]);
    assert_eq!(env.json(&["task", "list"]), serde_json::json!([]));
    let all = env.ok(&["task", "list", "--all"]);
    assert!(all.contains("cancelled"), "{all}");
    let json = env.json(&["task", "show", "1"]);
    assert_eq!(json["cancelled_at"], "2026-02-09T16:00:00Z");
    // No reminder of a cancelled task.
    let care = env.json(&["care", "--as-of", "2026-03-05"]).to_string();
    assert!(!care.contains("电话回访王芳"), "{care}");
    // Closed: no more changes, and nothing written by the refusals.
    let err = env.fails(&["task", "done", "1"], 1);
    assert!(err.contains("task 1 was cancelled"), "{err}");
    env.fails(&["task", "cancel", "1"], 1);
    env.fails(&["task", "edit", "1", "--title", "x"], 1);
    assert_eq!(env.json(&["task", "show", "1"]), json);
}

#[test]
fn task_errors_are_clear_and_write_nothing() {
    let env = books();
    env.ok(&["task", "add", "对账", "--due", "2026-03-01"]);
    let before = env.json(&["task", "show", "1"]);
    let err = env.fails(&["task", "edit", "1"], 1);
    assert!(err.contains("nothing to change"), "{err}");
    env.fails(&["task", "edit", "1", "--kind", "party"], 2);
    env.fails(&["task", "edit", "1", "--due", "2026-13-01"], 1);
    env.fails(&["task", "show", "7"], 1);
    env.fails(&["task", "cancel", "7"], 1);
    assert_eq!(env.json(&["task", "show", "1"]), before);
    env.ok(&["task", "done", "1"]);
    let err = env.fails(&["task", "cancel", "1"], 1);
    assert!(err.contains("already done"), "{err}");
}

#[test]
fn task_list_pages_soonest_first_and_filters_by_customer() {
    let env = books();
    env.ok(&[
        "task",
        "add",
        "晚",
        "--due",
        "2026-05-01",
        "--customer",
        "#2",
    ]);
    env.ok(&[
        "task",
        "add",
        "早",
        "--due",
        "2026-04-01",
        "--customer",
        "#1",
    ]);
    env.ok(&["task", "add", "中", "--due", "2026-04-15"]);
    let out = env.ok(&["task", "list", "--limit", "2"]);
    let lines: Vec<&str> = out.lines().collect();
    assert!(
        lines[1].contains("早") && lines[1].contains("王芳"),
        "{out}"
    );
    assert!(lines[2].contains("中"), "{out}");
    assert!(out.contains("showing 2 of 3 tasks"), "{out}");
    let mine = env.json(&["task", "list", "--customer", "#2"]);
    assert_eq!(mine.as_array().map(Vec::len), Some(1));
}

#[test]
fn request_show_and_list_with_names_and_limit() {
    let env = books();
    env.ok(&[
        "request",
        "open",
        "#1",
        "发票抬头错了",
        "--kind",
        "complaint",
        "--description",
        "请重开发票",
    ]);
    env.ok(&["request", "open", "#2", "营业时间", "--at", "2026-02-01"]);
    env.ok(&["request", "respond", "1"]);
    let shown = env.ok(&["request", "show", "1"]);
    assert!(shown.contains("complaint 1: 发票抬头错了"), "{shown}");
    assert!(shown.contains("王芳 (1)"), "{shown}");
    assert!(shown.contains("请重开发票"), "{shown}");
    assert!(shown.contains("responded"), "{shown}");
    assert_eq!(env.json(&["request", "show", "2"])["customer_name"], "李雷");
    let list = env.ok(&["request", "list", "--limit", "1"]);
    assert!(list.contains("NAME") && list.contains("李雷"), "{list}");
    assert!(!list.contains("王芳"), "{list}");
    assert!(list.contains("showing 1 of 2 requests"), "{list}");
    env.fails(&["request", "show", "3"], 1);
}

#[test]
fn points_expire_adjust_and_history_never_go_negative() {
    let env = books();
    env.ok(&[
        "points",
        "earn",
        "#1",
        "500",
        "--reason",
        "开业活动",
        "--at",
        "2026-01-02",
    ]);
    env.ok(&[
        "points",
        "expire",
        "#1",
        "100",
        "--reason",
        "年底清零",
        "--at",
        "2026-01-03",
    ]);
    env.ok(&[
        "points",
        "adjust",
        "#1",
        "-50",
        "--reason",
        "重复积分",
        "--at",
        "2026-01-04",
    ]);
    env.ok(&[
        "points",
        "adjust",
        "#1",
        "+20",
        "--reason",
        "补录",
        "--at",
        "2026-01-05",
    ]);
    let json = env.json(&["points", "history", "#1"]);
    assert_eq!(json["balance"], 370);
    assert_eq!(json["lifetime"], 470);
    let entries = json["entries"].as_array().expect("entries");
    let after: Vec<i64> = entries
        .iter()
        .filter_map(|e| e["balance_after"].as_i64())
        .collect();
    assert_eq!(after, [500, 400, 350, 370]);
    let out = env.ok(&["points", "history", "#1", "--limit", "2"]);
    assert!(out.contains("balance 370 points, lifetime 470"), "{out}");
    let lines: Vec<&str> = out.lines().collect();
    assert!(
        lines[2].contains("补录") && lines[2].contains("+20"),
        "{out}"
    );
    assert!(out.contains("showing 2 of 4 entries"), "{out}");
    // Below zero is refused, clearly, and nothing is written.
    let err = env.fails(&["points", "expire", "#1", "371"], 1);
    assert!(err.contains("370"), "{err}");
    let err = env.fails(&["points", "adjust", "#1", "-371", "--reason", "x"], 1);
    assert!(err.contains("370"), "{err}");
    env.fails(&["points", "adjust", "#1", "10"], 2);
    let err = env.fails(&["points", "adjust", "#1", "0", "--reason", "x"], 1);
    assert!(err.contains("not zero"), "{err}");
    env.fails(&["points", "expire", "#1", "-5"], 1);
    assert_eq!(env.json(&["points", "history", "#1"]), json);
    let empty = env.ok(&["points", "history", "#2"]);
    assert!(empty.contains("no points entries"), "{empty}");
}

#[test]
fn tiers_are_stored_with_the_books_and_shown_and_segmented() {
    let env = books();
    let out = env.ok(&["points", "tier", "list"]);
    assert!(out.contains("no tiers"), "{out}");
    env.ok(&["points", "tier", "set", "bronze", "0"]);
    env.ok(&["points", "tier", "set", "金卡", "5000"]);
    env.ok(&["points", "tier", "set", "silver", "800"]);
    env.ok(&["points", "tier", "set", "silver", "1000"]);
    let tiers = env.json(&["points", "tier", "list"]);
    assert_eq!(
        tiers,
        serde_json::json!([
            {"name": "bronze", "min_points": 0},
            {"name": "silver", "min_points": 1000},
            {"name": "金卡", "min_points": 5000}
        ])
    );
    // Refused: a taken threshold, a negative one, an unknown name; nothing changes.
    let err = env.fails(&["points", "tier", "set", "gold", "5000"], 1);
    assert!(err.contains("both start at 5000"), "{err}");
    env.fails(&["points", "tier", "set", "gold", "-1"], 1);
    let err = env.fails(&["points", "tier", "remove", "platinum"], 1);
    assert!(err.contains("not found"), "{err}");
    assert_eq!(env.json(&["points", "tier", "list"]), tiers);
    // Lifetime points decide: redeeming does not demote.
    env.ok(&["points", "earn", "#1", "6000"]);
    env.ok(&["points", "redeem", "#1", "5500"]);
    env.ok(&["points", "earn", "#2", "1200"]);
    let page = env.json(&["customer", "show", "#1"]);
    assert_eq!(page["tier"], "金卡");
    assert_eq!(page["points_balance"], 500);
    assert_eq!(page["lifetime_points"], 6000);
    let shown = env.ok(&["customer", "show", "#2"]);
    assert!(shown.contains("tier       silver"), "{shown}");
    env.ok(&["segment", "add", "金卡会员", "tier = \"金卡\""]);
    let members = env.json(&["segment", "show", "金卡会员"]);
    assert_eq!(members["customers"], serde_json::json!([1]), "{members}");
    env.ok(&["points", "tier", "remove", "金卡"]);
    assert_eq!(env.json(&["customer", "show", "#1"])["tier"], "silver");
}

#[test]
fn profile_attributes_are_set_unset_and_found_by_segments() {
    let env = books();
    env.ok(&[
        "customer",
        "edit",
        "#1",
        "--set",
        "industry=餐饮",
        "--set",
        "gender=female",
        "--set",
        "Income Band=upper_middle",
        "--set",
        "interests=茶,旅行",
        "--set",
        "会员来源=展会",
    ]);
    let json = env.json(&["customer", "show", "#1"]);
    let profile = &json["customer"]["profile"];
    assert_eq!(profile["industry"], "餐饮", "{json}");
    assert_eq!(profile["gender"], "female");
    assert_eq!(profile["income_band"], "upper_middle");
    assert_eq!(profile["attributes"]["会员来源"], "展会");
    let shown = env.ok(&["customer", "show", "#1"]);
    assert!(shown.contains("industry   餐饮"), "{shown}");
    env.ok(&[
        "segment",
        "add",
        "餐饮客户",
        "industry = \"餐饮\" and interest = \"茶\"",
    ]);
    let members = env.json(&["segment", "show", "餐饮客户"]);
    assert_eq!(members["customers"], serde_json::json!([1]), "{members}");
    let table = env.ok(&["segment", "show", "餐饮客户"]);
    assert!(table.contains("王芳") && !table.contains("李雷"), "{table}");
    env.ok(&["segment", "add", "展会", "attribute.会员来源 = \"展会\""]);
    assert_eq!(
        env.json(&["segment", "show", "展会"])["customers"],
        serde_json::json!([1])
    );
    // Errors are clear and write nothing.
    let before = env.json(&["customer", "show", "#1"]);
    let err = env.fails(&["customer", "edit", "#1", "--set", "gender=robot"], 1);
    assert!(err.contains("gender"), "{err}");
    let err = env.fails(&["customer", "edit", "#1", "--set", "industry"], 1);
    assert!(err.contains("KEY=VALUE"), "{err}");
    env.fails(&["customer", "edit", "#1", "--set", "birth_year=1850"], 1);
    let err = env.fails(&["customer", "edit", "#1", "--unset", "shoe-size"], 1);
    assert!(err.contains("no attribute 'shoe-size'"), "{err}");
    env.fails(
        &[
            "customer",
            "edit",
            "#1",
            "--set",
            "city=北京",
            "--set",
            "gender=x",
        ],
        1,
    );
    assert_eq!(env.json(&["customer", "show", "#1"]), before);
    env.ok(&[
        "customer",
        "edit",
        "#1",
        "--unset",
        "industry",
        "--unset",
        "会员来源",
    ]);
    let after = env.json(&["customer", "show", "#1"]);
    assert!(after["customer"]["profile"]["industry"].is_null());
    assert!(
        after["customer"]["profile"]["attributes"]
            .get("会员来源")
            .is_none()
    );
    // City and country are profile fields here too, not custom attributes.
    env.ok(&[
        "customer",
        "edit",
        "#1",
        "--set",
        "city=杭州",
        "--set",
        "country=cn",
    ]);
    let moved = env.json(&["customer", "show", "#1"]);
    assert_eq!(moved["customer"]["profile"]["city"], "杭州");
    assert_eq!(moved["customer"]["profile"]["country"], "CN");
    assert!(
        moved["customer"]["profile"]["attributes"]
            .get("city")
            .is_none()
    );
    assert_eq!(
        env.json(&["segment", "show", "餐饮客户"])["customers"],
        serde_json::json!([])
    );
}

#[test]
fn clear_takes_a_closed_list_of_fields() {
    let env = books();
    env.ok(&["customer", "edit", "#1", "--clear", "city"]);
    let json = env.json(&["customer", "show", "#1"]);
    assert!(json["customer"]["profile"]["city"].is_null());
    let err = env.fails(&["customer", "edit", "#1", "--clear", "town"], 2);
    assert!(
        err.contains("possible values") && err.contains("reference"),
        "{err}"
    );
    let help = env.ok(&["customer", "edit", "--help"]);
    assert!(help.contains("notes"), "{help}");
}

#[test]
fn consent_list_and_the_consent_segment_field() {
    let env = books();
    env.ok(&[
        "consent",
        "grant",
        "#1",
        "marketing-email",
        "--source",
        "网页表单",
        "--at",
        "2026-01-05",
    ]);
    env.ok(&[
        "consent",
        "grant",
        "#2",
        "marketing-email",
        "--source",
        "门店",
        "--at",
        "2026-01-06",
    ]);
    env.ok(&[
        "consent",
        "revoke",
        "#2",
        "marketing-email",
        "--source",
        "电话",
        "--at",
        "2026-01-07",
    ]);
    let out = env.ok(&["consent", "list"]);
    let lines: Vec<&str> = out.lines().collect();
    assert!(
        lines[0].contains("NAME") && lines[0].contains("PURPOSE"),
        "{out}"
    );
    assert!(
        lines[1].contains("李雷") && lines[1].contains("revoked") && lines[1].contains("yes"),
        "{out}"
    );
    assert!(
        lines[2].contains("李雷") && lines[2].contains("granted") && lines[2].contains("no"),
        "{out}"
    );
    let mine = env.json(&["consent", "list", "#1"]);
    assert_eq!(mine.as_array().map(Vec::len), Some(1));
    assert_eq!(mine[0]["name"], "王芳");
    assert_eq!(mine[0]["granted"], true);
    let limited = env.ok(&["consent", "list", "--limit", "1"]);
    assert!(limited.contains("showing 1 of 3"), "{limited}");
    env.ok(&[
        "segment",
        "add",
        "可发邮件",
        "consent = \"marketing-email\"",
    ]);
    let members = env.json(&["segment", "show", "可发邮件"]);
    assert_eq!(members["customers"], serde_json::json!([1]), "{members}");
    let shown = env.ok(&["customer", "show", "#2"]);
    assert!(
        shown.contains("marketing-email") && shown.contains("revoked"),
        "{shown}"
    );
    env.fails(&["consent", "list", "#9"], 1);
    env.fails(&["consent", "list", "--purpose", "a,b"], 1);
}

#[test]
fn customer_show_has_open_deals_requests_tasks_and_consents() {
    let env = books();
    env.ok(&["deal", "add", "#1", "开放的单子", "100"]);
    env.ok(&["deal", "add", "#1", "赢下的单子", "100"]);
    env.ok(&["deal", "move", "2", "won"]);
    env.ok(&["request", "open", "#1", "还没回复的问题"]);
    env.ok(&[
        "task",
        "add",
        "给王芳打电话",
        "--due",
        "2026-12-01",
        "--customer",
        "#1",
    ]);
    env.ok(&[
        "task",
        "add",
        "已取消",
        "--due",
        "2026-12-02",
        "--customer",
        "#1",
    ]);
    env.ok(&["task", "cancel", "2"]);
    env.ok(&["consent", "grant", "#1", "sms", "--source", "门店"]);
    let shown = env.ok(&["customer", "show", "#1"]);
    for want in [
        "开放的单子",
        "还没回复的问题",
        "给王芳打电话",
        "sms",
        "granted",
    ] {
        assert!(shown.contains(want), "{want}: {shown}");
    }
    for not in ["赢下的单子", "已取消"] {
        assert!(!shown.contains(not), "{not}: {shown}");
    }
    let json: Value = env.json(&["customer", "show", "#1"]);
    assert_eq!(json["deals"].as_array().map(Vec::len), Some(2));
    assert_eq!(json["tasks"].as_array().map(Vec::len), Some(2));
    assert!(json["tier"].is_null());
}
