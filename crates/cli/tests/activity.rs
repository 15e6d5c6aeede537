//! Interactions, purchases, refunds and survey answers from the command line: list,
//! show, edit, void and refund, with names beside customer ids, `--limit` paging and
//! `--json`; every error path exits with its code and writes nothing.

mod common;

use common::Env;
use serde_json::Value;

/// A shop in Shanghai with two customers, 王芳 (#1) and 张伟 (#2).
fn shop() -> Env {
    let env = Env::new();
    env.ok(&["init", "--currency", "CNY", "--timezone", "Asia/Shanghai"]);
    env.ok(&[
        "customer",
        "add",
        "王芳",
        "--email",
        "wangfang@qq.com",
        "--city",
        "上海",
        "--at",
        "2024-12-01",
    ]);
    env.ok(&[
        "customer",
        "add",
        "张伟",
        "--email",
        "zhangwei@163.com",
        "--city",
        "杭州",
        "--at",
        "2024-12-01",
    ]);
    env
}

/// Everything the activity commands can change, voided records and refunds included.
fn state(env: &Env) -> Value {
    serde_json::json!({
        "purchases": env.json(&["purchase", "list", "--voided"]),
        "refunds": env.json(&["purchase", "refunds"]),
        "interactions": env.json(&["interaction", "list", "--voided"]),
        "surveys": env.json(&["survey", "list", "--voided"]),
    })
}

/// Runs a command that must fail with `code` and change nothing; returns its stderr.
#[track_caller]
fn refused(env: &Env, args: &[&str], code: i32) -> String {
    let before = state(env);
    let err = env.fails(args, code);
    assert_eq!(state(env), before, "{args:?} wrote something");
    err
}

fn ids(v: &Value) -> Vec<u64> {
    v.as_array()
        .expect("a list")
        .iter()
        .map(|r| r["id"].as_u64().expect("an id"))
        .collect()
}

fn amount(v: &Value) -> &str {
    v["amount"].as_str().expect("a decimal string")
}

#[test]
fn purchase_add_keeps_its_cost_and_show_prints_it_with_the_margin() {
    let env = shop();
    let out = env.ok(&[
        "purchase",
        "add",
        "wangfang@qq.com",
        "199.00",
        "--cost",
        "80.00",
        "--description",
        "龙井茶",
        "--at",
        "2026-11-01 10:00",
    ]);
    assert!(
        out.contains("recorded purchase 1 of 199.00 CNY by 王芳"),
        "{out}"
    );
    let p = env.json(&["purchase", "show", "1"]);
    assert_eq!(amount(&p["purchase"]["cost"]), "80.00");
    assert_eq!(amount(&p["refunded"]), "0.00");
    assert_eq!(amount(&p["refundable"]), "199.00");
    let show = env.ok(&["purchase", "show", "1"]);
    assert!(show.contains("1 (王芳)"), "{show}");
    assert!(show.contains("2026-11-01 10:00:00 Asia/Shanghai"), "{show}");
    assert!(show.contains("119.00 CNY"), "the margin: {show}");
    assert!(show.contains("龙井茶"), "{show}");
    let list = env.ok(&["purchase", "list"]);
    assert!(
        list.contains("COST") && list.contains("80.00 CNY"),
        "{list}"
    );
}

#[test]
fn purchase_add_refuses_a_bad_cost_and_writes_nothing() {
    let env = shop();
    let err = refused(
        &env,
        &["purchase", "add", "#1", "10.00", "--cost", "-1.00"],
        1,
    );
    assert!(err.contains("purchase cost"), "{err}");
    let err = refused(
        &env,
        &["purchase", "add", "#1", "10.00", "--cost", "1.001"],
        1,
    );
    assert!(err.contains("cost"), "{err}");
    refused(
        &env,
        &["purchase", "add", "#1", "10.00", "--cost", "abc"],
        1,
    );
}

#[test]
fn costs_give_the_report_its_clv_and_a_voided_purchase_leaves_it() {
    let env = shop();
    env.ok(&["customer", "add", "王强", "--at", "2024-12-01"]);
    env.ok(&["customer", "add", "刘洋", "--at", "2024-12-01"]);
    let report = |env: &Env| env.json(&["report", "--from", "2026-01-01", "--to", "2026-06-30"]);
    let value = |r: &Value, key: &str| r["report"]["value"][key].clone();
    // Two years of purchases, half of the customers lost in the second.
    let buy = |c: &str, amount: &str, at: &str| {
        env.ok(&["purchase", "add", c, amount, "--at", at]);
    };
    for (c, day) in [("#1", "01"), ("#2", "02"), ("#3", "03"), ("#4", "04")] {
        buy(c, "100.00", &format!("2025-02-{day}"));
        buy(c, "100.00", &format!("2025-05-{day}"));
    }
    buy("#1", "120.00", "2026-02-01");
    buy("#2", "120.00", "2026-02-02");
    let without = report(&env);
    assert!(
        value(&without, "average_clv").get("undefined").is_some(),
        "no cost, no CLV: {without}"
    );
    assert!(value(&without, "retention_clv").get("undefined").is_some());
    let table = env.ok(&["report", "--from", "2026-01-01", "--to", "2026-06-30"]);
    assert!(
        table
            .lines()
            .any(|l| l.starts_with("average CLV") && l.trim_end().ends_with('-'))
    );

    // The same business with the costs: both CLVs have values.
    for id in 1..=10 {
        env.ok(&["purchase", "edit", &id.to_string(), "--cost", "40.00"]);
    }
    // The trailing year holds the two purchases of 120.00 (cost 40.00 each): a margin
    // of 80.00 a year, a lifespan of 2 years (2 of 4 customers lost).
    let with = report(&env);
    assert_eq!(amount(&value(&with, "average_clv")["value"]), "160.00");
    let retention = value(&with, "retention_clv");
    assert!(retention.get("value").is_some(), "{retention}");
    let table = env.ok(&["report", "--from", "2026-01-01", "--to", "2026-06-30"]);
    assert!(
        table
            .lines()
            .any(|l| l.starts_with("average CLV") && l.contains("160.00 CNY")),
        "{table}"
    );

    // A mistaken purchase moves the numbers; voided, it is as if never entered.
    env.ok(&[
        "purchase",
        "add",
        "#1",
        "5000.00",
        "--cost",
        "100.00",
        "--at",
        "2026-03-01",
    ]);
    assert_ne!(report(&env)["report"]["value"], with["report"]["value"]);
    env.ok(&["purchase", "void", "11", "--reason", "录错了"]);
    assert_eq!(report(&env)["report"]["value"], with["report"]["value"]);
}

#[test]
fn purchase_list_pages_newest_first_with_names_and_hides_voided_ones() {
    let env = shop();
    for (c, day) in [("#1", "01"), ("#2", "02"), ("#1", "03")] {
        env.ok(&[
            "purchase",
            "add",
            c,
            "10.00",
            "--at",
            &format!("2026-11-{day}"),
        ]);
    }
    let out = env.ok(&["purchase", "list", "--limit", "2"]);
    let rows: Vec<&str> = out.lines().collect();
    assert!(
        rows[1].trim_start().starts_with('3') && rows[1].contains("王芳"),
        "{out}"
    );
    assert!(
        rows[2].trim_start().starts_with('2') && rows[2].contains("张伟"),
        "{out}"
    );
    assert!(
        out.contains("showing 2 of 3 purchases; --limit 0 shows all"),
        "{out}"
    );
    assert_eq!(
        ids(&env.json(&["purchase", "list", "--limit", "2"])),
        [2, 3]
    );

    env.ok(&["purchase", "void", "2", "--reason", "重复", "--by", "老板"]);
    assert_eq!(ids(&env.json(&["purchase", "list"])), [1, 3]);
    assert_eq!(ids(&env.json(&["purchase", "list", "--voided"])), [1, 2, 3]);
    let out = env.ok(&["purchase", "list", "--voided"]);
    assert!(out.contains("VOIDED"), "{out}");
    assert_eq!(
        ids(&env.json(&["purchase", "list", "--customer", "zhangwei@163.com"])),
        Vec::<u64>::new()
    );
}

#[test]
fn purchase_void_keeps_the_record_with_who_when_and_why() {
    let env = shop();
    env.ok(&["purchase", "add", "#1", "99.00", "--reference", "INV-7"]);
    let out = env.ok(&[
        "purchase",
        "void",
        "1",
        "--reason",
        "重复录入",
        "--by",
        "老板",
    ]);
    assert!(out.contains("voided purchase 1"), "{out}");
    let p = env.json(&["purchase", "show", "1"]);
    assert_eq!(p["purchase"]["void"]["by"], "老板");
    assert_eq!(p["purchase"]["void"]["reason"], "重复录入");
    assert!(p["purchase"]["void"]["at"].is_string());
    assert_eq!(amount(&p["refundable"]), "0.00");
    let show = env.ok(&["purchase", "show", "1"]);
    assert!(show.contains("VOIDED") && show.contains("老板") && show.contains("重复录入"));
    // Voided purchases are out of the customer's page and the purchase export.
    let export = env.ok(&["export", "purchases"]);
    assert!(!export.contains("INV-7"), "{export}");

    // Voided once is enough; a voided purchase takes no refund and no edit.
    let err = refused(&env, &["purchase", "void", "1", "--reason", "again"], 1);
    assert!(err.contains("purchase 1 is void"), "{err}");
    let err = refused(&env, &["purchase", "refund", "1", "1.00"], 1);
    assert!(err.contains("purchase 1 is void"), "{err}");
    let err = refused(&env, &["purchase", "edit", "1", "--amount", "1.00"], 1);
    assert!(err.contains("purchase 1 is void"), "{err}");
    // Its reference stays taken: the books keep it.
    refused(
        &env,
        &["purchase", "add", "#1", "1.00", "--reference", "INV-7"],
        1,
    );
}

#[test]
fn purchase_void_needs_a_reason_and_an_existing_unrefunded_purchase() {
    let env = shop();
    env.ok(&["purchase", "add", "#1", "99.00", "--at", "2026-11-01"]);
    env.ok(&["purchase", "refund", "1", "9.00", "--at", "2026-11-02"]);
    refused(&env, &["purchase", "void", "1"], 2);
    let err = refused(&env, &["purchase", "void", "1", "--reason", "x"], 1);
    assert!(err.contains("refunded purchase cannot be voided"), "{err}");
    let err = refused(&env, &["purchase", "void", "9", "--reason", "x"], 1);
    assert!(err.contains("purchase") && err.contains('9'), "{err}");
    refused(&env, &["purchase", "void", "abc", "--reason", "x"], 2);
}

#[test]
fn purchase_edit_changes_only_the_given_fields() {
    let env = shop();
    env.ok(&[
        "purchase",
        "add",
        "#1",
        "100.00",
        "--cost",
        "30.00",
        "--description",
        "茶具",
        "--reference",
        "INV-1",
        "--at",
        "2026-11-01",
    ]);
    let out = env.ok(&[
        "purchase",
        "edit",
        "1",
        "--amount",
        "120.00",
        "--reference",
        "INV-2",
    ]);
    assert!(out.contains("updated purchase 1 (120.00 CNY)"), "{out}");
    let p = env.json(&["purchase", "show", "1"]);
    assert_eq!(amount(&p["purchase"]["amount"]), "120.00");
    assert_eq!(amount(&p["purchase"]["cost"]), "30.00");
    assert_eq!(p["purchase"]["description"], "茶具");
    assert_eq!(p["purchase"]["external_ref"], "INV-2");
    env.ok(&[
        "purchase",
        "edit",
        "1",
        "--clear",
        "cost",
        "--clear",
        "description",
    ]);
    let p = env.json(&["purchase", "show", "1"]);
    assert!(p["purchase"]["cost"].is_null() && p["purchase"]["description"].is_null());
    env.ok(&["purchase", "edit", "1", "--at", "2026-10-01 09:30"]);
    let p = env.json(&["purchase", "show", "1"]);
    assert_eq!(p["purchase"]["at"], "2026-10-01T01:30:00Z");
    // The old reference is free again.
    env.ok(&["purchase", "add", "#2", "5.00", "--reference", "INV-1"]);
}

#[test]
fn purchase_edit_errors_write_nothing() {
    let env = shop();
    env.ok(&[
        "purchase",
        "add",
        "#1",
        "100.00",
        "--reference",
        "A",
        "--at",
        "2026-11-01",
    ]);
    env.ok(&[
        "purchase",
        "add",
        "#1",
        "50.00",
        "--reference",
        "B",
        "--at",
        "2026-11-01",
    ]);
    env.ok(&["purchase", "refund", "1", "60.00", "--at", "2026-11-03"]);
    let err = refused(&env, &["purchase", "edit", "1"], 2);
    assert!(err.contains("--amount"), "{err}");
    let err = refused(&env, &["purchase", "edit", "1", "--amount", "59.99"], 1);
    assert!(err.contains("60.00 CNY refunded"), "{err}");
    let err = refused(&env, &["purchase", "edit", "1", "--at", "2026-11-04"], 1);
    assert!(err.contains("first refund"), "{err}");
    let err = refused(&env, &["purchase", "edit", "2", "--reference", "A"], 1);
    assert!(err.contains("'A'") || err.contains("A"), "{err}");
    refused(&env, &["purchase", "edit", "2", "--amount", "-1"], 1);
    refused(
        &env,
        &["purchase", "edit", "2", "--cost", "1", "--clear", "cost"],
        1,
    );
    refused(&env, &["purchase", "edit", "2", "--clear", "amount"], 2);
    refused(&env, &["purchase", "edit", "7", "--amount", "1"], 1);
    // The amount may go down to exactly what was refunded.
    env.ok(&["purchase", "edit", "1", "--amount", "60.00"]);
}

#[test]
fn purchase_refund_refuses_more_than_is_left_and_lists_refunds_with_names() {
    let env = shop();
    env.ok(&["purchase", "add", "#1", "100.00", "--at", "2026-11-01"]);
    env.ok(&["purchase", "add", "#2", "80.00", "--at", "2026-11-01"]);
    let out = env.ok(&[
        "purchase",
        "refund",
        "1",
        "30.00",
        "--reason",
        "破损",
        "--at",
        "2026-11-02",
    ]);
    assert!(
        out.contains("refunded 30.00 CNY of purchase 1 (refund 1)"),
        "{out}"
    );
    env.ok(&["purchase", "refund", "2", "80.00", "--at", "2026-11-03"]);
    let err = refused(&env, &["purchase", "refund", "1", "70.01"], 1);
    assert!(err.contains("70.00 CNY left to refund"), "{err}");
    refused(&env, &["purchase", "refund", "1", "0"], 1);
    refused(
        &env,
        &["purchase", "refund", "1", "5", "--at", "2026-10-01"],
        1,
    );
    refused(&env, &["purchase", "refund", "8", "5"], 1);
    refused(&env, &["purchase", "refund", "1"], 2);
    env.ok(&["purchase", "refund", "1", "70.00", "--at", "2026-11-04"]);

    let out = env.ok(&["purchase", "refunds"]);
    let rows: Vec<&str> = out.lines().collect();
    assert!(
        rows[0].contains("NAME") && rows[0].contains("REASON"),
        "{out}"
    );
    assert!(
        rows[1].contains("王芳") && rows[1].contains("70.00 CNY"),
        "newest first: {out}"
    );
    assert!(rows[2].contains("张伟"), "{out}");
    assert!(rows[3].contains("破损"), "{out}");
    assert_eq!(
        ids(&env.json(&["purchase", "refunds", "--limit", "2"])),
        [2, 3]
    );
    assert_eq!(
        ids(&env.json(&["purchase", "refunds", "--customer", "#2"])),
        [2]
    );
    let out = env.ok(&["purchase", "refunds", "--limit", "1"]);
    assert!(out.contains("showing 1 of 3 refunds"), "{out}");
    let show = env.json(&["purchase", "show", "1"]);
    assert_eq!(amount(&show["refunded"]), "100.00");
    assert_eq!(ids(&show["refunds"]), [1, 3]);
}

#[test]
fn interactions_list_show_edit_and_void() {
    let env = shop();
    env.ok(&[
        "interaction",
        "log",
        "#1",
        "问龙井的价格",
        "--channel",
        "wechat",
        "--direction",
        "inbound",
        "--at",
        "2026-11-01",
    ]);
    env.ok(&[
        "interaction",
        "log",
        "#2",
        "回访",
        "--channel",
        "phone",
        "--at",
        "2026-11-02",
    ]);
    env.ok(&[
        "interaction",
        "log",
        "#1",
        "寄样品",
        "--channel",
        "email",
        "--at",
        "2026-11-03",
    ]);
    let out = env.ok(&["interaction", "list"]);
    let rows: Vec<&str> = out.lines().collect();
    assert!(
        rows[0].contains("NAME") && rows[0].contains("CHANNEL"),
        "{out}"
    );
    assert!(
        rows[1].contains("寄样品") && rows[1].contains("王芳"),
        "{out}"
    );
    assert!(rows[2].contains("张伟"), "{out}");
    assert_eq!(
        ids(&env.json(&["interaction", "list", "--channel", "wechat"])),
        [1]
    );
    assert_eq!(
        ids(&env.json(&["interaction", "list", "--customer", "#1"])),
        [1, 3]
    );
    assert_eq!(
        ids(&env.json(&["interaction", "list", "--limit", "1"])),
        [3]
    );
    let out = env.ok(&["interaction", "list", "--limit", "1"]);
    assert!(out.contains("showing 1 of 3 interactions"), "{out}");

    let out = env.ok(&["interaction", "show", "1"]);
    assert!(out.contains("1 (王芳)") && out.contains("wechat") && out.contains("问龙井的价格"));
    env.ok(&[
        "interaction",
        "edit",
        "1",
        "--summary",
        "问龙井和碧螺春的价格",
        "--sentiment",
        "positive",
    ]);
    let i = env.json(&["interaction", "show", "1"]);
    assert_eq!(i["summary"], "问龙井和碧螺春的价格");
    assert_eq!(i["sentiment"], "positive");
    assert_eq!(i["channel"], "wechat");
    env.ok(&[
        "interaction",
        "edit",
        "1",
        "--clear-sentiment",
        "--at",
        "2026-11-01 20:00",
    ]);
    let i = env.json(&["interaction", "show", "1"]);
    assert!(i["sentiment"].is_null());
    assert_eq!(i["at"], "2026-11-01T12:00:00Z");

    env.ok(&[
        "interaction",
        "void",
        "2",
        "--reason",
        "记错客户",
        "--by",
        "老板",
    ]);
    assert_eq!(ids(&env.json(&["interaction", "list"])), [1, 3]);
    assert_eq!(
        ids(&env.json(&["interaction", "list", "--voided"])),
        [1, 2, 3]
    );
    let i = env.json(&["interaction", "show", "2"]);
    assert_eq!(i["void"]["reason"], "记错客户");
    assert!(env.ok(&["interaction", "show", "2"]).contains("VOIDED"));
}

#[test]
fn interaction_errors_write_nothing() {
    let env = shop();
    env.ok(&["interaction", "log", "#1", "你好", "--channel", "chat"]);
    refused(&env, &["interaction", "edit", "1"], 2);
    refused(
        &env,
        &["interaction", "edit", "1", "--channel", "telegram"],
        2,
    );
    refused(
        &env,
        &[
            "interaction",
            "edit",
            "1",
            "--sentiment",
            "positive",
            "--clear-sentiment",
        ],
        2,
    );
    refused(&env, &["interaction", "edit", "1", "--at", "2205-01-01"], 1);
    refused(&env, &["interaction", "edit", "9", "--summary", "x"], 1);
    refused(&env, &["interaction", "show", "9"], 1);
    refused(&env, &["interaction", "void", "1"], 2);
    refused(&env, &["interaction", "list", "--channel", "telegram"], 2);
    env.ok(&["interaction", "void", "1", "--reason", "测试"]);
    let err = refused(&env, &["interaction", "void", "1", "--reason", "again"], 1);
    assert!(err.contains("interaction 1 is void"), "{err}");
    let err = refused(&env, &["interaction", "edit", "1", "--summary", "x"], 1);
    assert!(err.contains("interaction 1 is void"), "{err}");
}

#[test]
fn surveys_list_show_and_a_voided_answer_leaves_the_nps() {
    let env = shop();
    env.ok(&[
        "survey",
        "record",
        "#1",
        "--nps",
        "10",
        "--comment",
        "很好",
        "--at",
        "2026-03-01",
    ]);
    env.ok(&["survey", "record", "#2", "--nps", "0", "--at", "2026-03-02"]);
    env.ok(&[
        "survey",
        "record",
        "#2",
        "--csat",
        "4",
        "--at",
        "2026-03-03",
    ]);
    let out = env.ok(&["survey", "list"]);
    let rows: Vec<&str> = out.lines().collect();
    assert!(
        rows[0].contains("NAME") && rows[0].contains("SCORE"),
        "{out}"
    );
    assert!(
        rows[1].contains("csat") && rows[1].contains("张伟"),
        "{out}"
    );
    assert!(
        rows[3].contains("很好") && rows[3].contains("王芳"),
        "{out}"
    );
    assert_eq!(ids(&env.json(&["survey", "list", "--kind", "nps"])), [1, 2]);
    assert_eq!(
        ids(&env.json(&["survey", "list", "--customer", "#2"])),
        [2, 3]
    );
    assert_eq!(ids(&env.json(&["survey", "list", "--limit", "1"])), [3]);
    assert!(env.ok(&["survey", "show", "1"]).contains("1 (王芳)"));

    let nps = |env: &Env| {
        env.json(&["report", "--from", "2026-01-01", "--to", "2026-06-30"])["report"]
            ["satisfaction"]["nps"]
            .clone()
    };
    let before = nps(&env);
    env.ok(&["survey", "void", "2", "--reason", "客户点错了"]);
    let after = nps(&env);
    assert_ne!(before, after, "{before} {after}");
    assert_eq!(after["value"]["score"], "100", "{after}");
    assert_eq!(ids(&env.json(&["survey", "list", "--kind", "nps"])), [1]);
    assert_eq!(ids(&env.json(&["survey", "list", "--voided"])), [1, 2, 3]);
    assert_eq!(
        env.json(&["survey", "show", "2"])["void"]["reason"],
        "客户点错了"
    );
}

#[test]
fn survey_errors_write_nothing() {
    let env = shop();
    env.ok(&["survey", "record", "#1", "--csat", "5"]);
    refused(&env, &["survey", "void", "1"], 2);
    refused(&env, &["survey", "void", "4", "--reason", "x"], 1);
    refused(&env, &["survey", "show", "4"], 1);
    refused(&env, &["survey", "list", "--kind", "ces2"], 2);
    env.ok(&["survey", "void", "1", "--reason", "x"]);
    let err = refused(&env, &["survey", "void", "1", "--reason", "x"], 1);
    assert!(err.contains("survey 1 is void"), "{err}");
}

#[test]
fn an_erased_customer_keeps_no_void_reason_and_takes_no_new_text() {
    let env = shop();
    env.ok(&["purchase", "add", "#1", "10.00", "--description", "茶"]);
    env.ok(&["purchase", "add", "#1", "20.00"]);
    env.ok(&["purchase", "void", "1", "--reason", "王芳说买错了"]);
    env.ok(&["customer", "erase", "#1", "--yes"]);
    let p = env.json(&["purchase", "show", "1"]);
    assert!(p["purchase"]["void"]["at"].is_string());
    assert!(p["purchase"]["void"]["reason"].is_null(), "{p}");
    assert!(p["purchase"]["description"].is_null());
    let err = refused(&env, &["purchase", "void", "2", "--reason", "x"], 1);
    assert!(err.contains("erased"), "{err}");
    refused(&env, &["purchase", "edit", "2", "--description", "x"], 1);
    // Amounts stay correctable.
    env.ok(&["purchase", "edit", "2", "--amount", "25.00"]);
}

#[test]
fn an_import_cannot_reuse_the_reference_of_a_voided_purchase() {
    let env = shop();
    env.ok(&["purchase", "add", "#1", "10.00", "--reference", "INV-9"]);
    env.ok(&["purchase", "void", "1", "--reason", "重复"]);
    let file = env.write_str(
        "p.csv",
        "customer,date,amount,reference\nwangfang@qq.com,2026-11-01,20.00,INV-9\n".as_bytes(),
    );
    let before = state(&env);
    let out = env.run(&["import", "purchases", &file]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("INV-9"), "{err}");
    assert_eq!(state(&env), before);
}

#[test]
fn customer_show_leaves_voided_records_out_of_its_tables_and_export_keeps_them() {
    let env = shop();
    env.ok(&["purchase", "add", "#1", "12.34", "--at", "2026-11-01"]);
    env.ok(&["purchase", "add", "#1", "56.78", "--at", "2026-11-02"]);
    env.ok(&["interaction", "log", "#1", "打错电话", "--channel", "phone"]);
    env.ok(&[
        "survey",
        "record",
        "#1",
        "--ces",
        "7",
        "--comment",
        "点错了",
    ]);
    env.ok(&["purchase", "void", "2", "--reason", "重复"]);
    env.ok(&["interaction", "void", "1", "--reason", "x"]);
    env.ok(&["survey", "void", "1", "--reason", "x"]);
    let shown = env.ok(&["customer", "show", "#1"]);
    assert!(shown.contains("12.34"), "{shown}");
    assert!(!shown.contains("56.78"), "{shown}");
    assert!(
        !shown.contains("打错电话") && !shown.contains("点错了"),
        "{shown}"
    );
    let export = env.json(&["customer", "export", "#1"]);
    assert_eq!(export["purchases"].as_array().map(Vec::len), Some(2));
    assert_eq!(export["purchases"][1]["void"]["reason"], "重复");
    assert!(export["interactions"][0]["void"].is_object());
    assert!(export["surveys"][0]["void"].is_object());
}
