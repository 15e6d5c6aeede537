//! The ledger slice of issue 13: `audit`, `cost add|list|void` and the report's ROI and
//! CAC per channel, `customer search`, and `customer list` paging with purchase
//! summaries.

mod common;

use common::Env;
use serde_json::Value;

/// Books in CNY (Asia/Shanghai) with three customers and two purchases:
/// `#1` 张伟 (上海, notes, wechat), `#2` 王芳 (a company, douyin), `#3` Ada Lovelace.
fn shop() -> Env {
    let env = Env::new();
    env.ok(&["init", "--currency", "CNY", "--timezone", "Asia/Shanghai"]);
    env.ok(&[
        "customer",
        "add",
        "张伟",
        "--city",
        "上海",
        "--notes",
        "喜欢绿茶，常买礼盒",
        "--channel",
        "wechat",
        "--email",
        "zhang.wei@qq.com",
        "--at",
        "2026-01-05",
    ]);
    env.ok(&[
        "customer",
        "add",
        "王芳",
        "--company",
        "杭州丝绸有限公司",
        "--channel",
        "douyin",
        "--at",
        "2026-02-01",
    ]);
    env.ok(&[
        "customer",
        "add",
        "Ada Lovelace",
        "--email",
        "ada@example.com",
        "--at",
        "2026-02-01",
    ]);
    env.ok(&["purchase", "add", "#1", "100", "--at", "2026-03-01"]);
    env.ok(&["purchase", "add", "#2", "300", "--at", "2026-03-02"]);
    env
}

fn names(v: &Value) -> Vec<String> {
    v["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|c| c["name"].as_str().expect("a name").to_owned())
        .collect()
}

// ----- customer search -----

#[test]
fn search_finds_chinese_from_one_character_and_latin_in_any_case() {
    let env = shop();
    let search = |text: &str| names(&env.json(&["customer", "search", text]));
    assert_eq!(search("伟"), ["张伟"], "one character");
    assert_eq!(search("上海"), ["张伟"], "two characters: the city");
    assert_eq!(search("绿茶"), ["张伟"], "two characters: the notes");
    assert_eq!(search("常买礼盒"), ["张伟"], "the trigram index");
    assert_eq!(search("丝绸有限"), ["王芳"], "the company");
    assert_eq!(search("LOVELACE"), ["Ada Lovelace"]);
    assert_eq!(search("QQ.COM"), ["张伟"], "the email");
    assert_eq!(search("a"), ["Ada Lovelace", "张伟"], "one Latin letter");
    let table = env.ok(&["customer", "search", "绿茶"]);
    assert!(table.contains("张伟") && table.contains("上海"), "{table}");
    let none = env.ok(&["customer", "search", "nobody"]);
    assert!(none.contains("no customer matches 'nobody'"), "{none}");
    assert_eq!(env.ok(&["-q", "customer", "search", "nobody"]), "");
}

#[test]
fn search_ranks_the_exact_name_first_and_pages_with_limit() {
    let env = shop();
    env.ok(&["customer", "add", "王芳芳"]);
    env.ok(&["customer", "add", "李娜", "--notes", "王芳 介绍的"]);
    let all = env.json(&["customer", "search", "王芳"]);
    assert_eq!(names(&all), ["王芳", "王芳芳", "李娜"]);
    assert_eq!(all["total"], 3);
    assert_eq!(all["query"], "王芳");
    let one = env.json(&["customer", "search", "王芳", "--limit", "1"]);
    assert_eq!(names(&one), ["王芳"]);
    assert_eq!(one["total"], 3);
    let table = env.ok(&["customer", "search", "王芳", "--limit", "2"]);
    assert!(
        table.contains("showing 2 of 3 customers; --limit 0 shows all"),
        "{table}"
    );
}

#[test]
fn a_bad_search_text_is_refused() {
    let env = shop();
    let err = env.fails(&["customer", "search", "   "], 1);
    assert!(err.contains("search text must not be empty"), "{err}");
    let err = env.fails(&["customer", "search", "a\u{7}b"], 1);
    assert!(err.contains("control character"), "{err}");
    env.fails(&["customer", "search"], 2);
    env.fails(&["customer", "search", "x", "--limit", "many"], 2);
}

#[test]
fn a_customer_written_by_another_program_is_found() {
    let env = shop();
    let conn = rusqlite::Connection::open(env.db()).expect("the file");
    conn.execute(
        "INSERT INTO customers (id, name, notes, created_at, created_at_ns, stage) \
         VALUES (40, '赵敏', '北京 大客户', 1767225600, 0, 'lead')",
        [],
    )
    .expect("a row from the sqlite3 shell");
    drop(conn);
    assert_eq!(names(&env.json(&["customer", "search", "赵敏"])), ["赵敏"]);
    assert_eq!(
        names(&env.json(&["customer", "search", "北京 大客户"])),
        ["赵敏"]
    );
}

/// The index's shadow tables: every row of content, and whether any segment of the
/// index holds `bytes`.
fn index_holds(env: &Env, bytes: &[u8]) -> (i64, bool) {
    let conn = rusqlite::Connection::open(env.db()).expect("the file");
    let rows: i64 = conn
        .query_row("SELECT count(*) FROM customer_search_content", [], |r| {
            r.get(0)
        })
        .expect("the content");
    let mut stmt = conn
        .prepare("SELECT block FROM customer_search_data")
        .expect("the segments");
    let blobs: Vec<Vec<u8>> = stmt
        .query_map([], |r| r.get(0))
        .expect("blocks")
        .collect::<Result<_, _>>()
        .expect("blocks");
    let found = blobs
        .iter()
        .any(|b| b.windows(bytes.len()).any(|w| w == bytes));
    (rows, found)
}

#[test]
fn erase_leaves_nothing_in_the_search_index() {
    let env = shop();
    env.ok(&[
        "customer",
        "edit",
        "#3",
        "--notes",
        "Zqxv met at the 广交会",
    ]);
    let (rows, found) = index_holds(&env, b"zqx");
    assert_eq!(rows, 3);
    assert!(found, "the trigram is in the index before the erase");
    assert_eq!(
        names(&env.json(&["customer", "search", "zqxv"])),
        ["Ada Lovelace"]
    );
    env.ok(&["customer", "erase", "#3", "--yes"]);
    let (rows, found) = index_holds(&env, b"zqx");
    assert_eq!(rows, 2, "the erased customer's row left the index");
    assert!(!found, "no segment of the index holds their former text");
    for text in ["zqxv", "Lovelace", "ada@", "广交会", "交会"] {
        assert!(
            names(&env.json(&["customer", "search", text])).is_empty(),
            "{text}"
        );
    }
    let check = env.ok(&["check"]);
    assert!(check.contains("integrity and foreign keys ok"), "{check}");
}

// ----- customer list -----

#[test]
fn customer_list_shows_stage_last_purchase_and_spend_and_pages() {
    let env = shop();
    let table = env.ok(&["customer", "list"]);
    let line = table
        .lines()
        .find(|l| l.contains("王芳"))
        .expect("王芳's row");
    assert!(
        line.contains("new") && line.contains("2026-03-02") && line.contains("300.00 CNY"),
        "{table}"
    );
    let ada = table.lines().find(|l| l.contains("Ada")).expect("Ada");
    assert!(
        ada.contains("prospect") && ada.contains("0.00 CNY"),
        "{table}"
    );
    let first = env.ok(&["customer", "list", "--limit", "2"]);
    assert!(first.contains("张伟") && first.contains("王芳") && !first.contains("Ada"));
    assert!(
        first.contains("showing 2 customers; the next: --after 2; --limit 0 shows all"),
        "{first}"
    );
    let next = env.ok(&["customer", "list", "--limit", "2", "--after", "2"]);
    assert!(next.contains("Ada") && !next.contains("张伟"), "{next}");
    assert!(!next.contains("the next"), "{next}");
    let quiet = env.ok(&["-q", "customer", "list", "--limit", "2"]);
    assert!(!quiet.contains("showing"), "{quiet}");
    let json = env.json(&["customer", "list", "--limit", "1"]);
    assert_eq!(names(&json), ["张伟"]);
    assert_eq!(json["next"], 1);
    let all = env.json(&["customer", "list", "--limit", "0"]);
    assert_eq!(names(&all).len(), 3);
    assert_eq!(all["next"], Value::Null);
    env.fails(&["customer", "list", "--limit", "-1"], 2);
}

// ----- costs -----

#[test]
fn costs_are_added_listed_and_voided() {
    let env = shop();
    let out = env.ok(&[
        "cost",
        "add",
        "500",
        "--category",
        "marketing",
        "--channel",
        "WeChat",
        "--at",
        "2026-02-10",
        "--note",
        "朋友圈广告",
    ]);
    assert!(
        out.contains("recorded cost 1 of 500.00 CNY for marketing (wechat)"),
        "{out}"
    );
    let tools = env.json(&[
        "cost",
        "add",
        "120",
        "--category",
        "Tools",
        "--at",
        "2026-02-11",
    ]);
    assert_eq!(tools["id"], 2);
    assert_eq!(tools["category"], "tools");
    env.ok(&[
        "cost",
        "add",
        "99.5",
        "--category",
        "other",
        "--at",
        "2026-04-01",
    ]);
    let list = env.ok(&["cost", "list"]);
    let ids: Vec<&str> = list
        .lines()
        .skip(1)
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert_eq!(ids, ["3", "2", "1"], "newest first: {list}");
    assert!(
        list.contains("朋友圈广告") && list.contains("wechat"),
        "{list}"
    );
    let feb = env.json(&["cost", "list", "--from", "2026-02-01", "--to", "2026-02-28"]);
    assert_eq!(feb.as_array().map(Vec::len), Some(2));
    let last = env.json(&["cost", "list", "--limit", "1"]);
    assert_eq!(last[0]["id"], 3);
    let cut = env.ok(&["cost", "list", "--limit", "1"]);
    assert!(cut.contains("showing 1 of 3 costs"), "{cut}");

    assert_eq!(
        env.ok(&[
            "-q",
            "cost",
            "add",
            "1",
            "--category",
            "other",
            "--at",
            "2026-05-01"
        ]),
        "",
        "a confirmation only"
    );
    let void = env.ok(&[
        "cost",
        "void",
        "2",
        "--reason",
        "重复录入",
        "--at",
        "2026-02-12",
    ]);
    assert!(void.contains("cost 2 of 120.00 CNY is void"), "{void}");
    let list = env.json(&["cost", "list"]);
    assert_eq!(list[1]["voided"]["reason"], "重复录入");
    assert_eq!(list.as_array().map(Vec::len), Some(4));
    let listed = env.ok(&["cost", "list"]);
    assert!(listed.contains("2026-02-12: 重复录入"), "{listed}");
}

#[test]
fn a_refused_cost_writes_nothing() {
    let env = shop();
    let events = |env: &Env| env.json(&["audit"]).as_array().map_or(0, Vec::len);
    let before = events(&env);
    let err = env.fails(&["cost", "add", "0", "--category", "marketing"], 1);
    assert!(err.contains("cost amount must be more than zero"), "{err}");
    let err = env.fails(&["cost", "add", "--category", "marketing", "--", "-5"], 1);
    assert!(err.contains("error"), "{err}");
    let err = env.fails(&["cost", "add", "1.234", "--category", "tools"], 1);
    assert!(err.contains("decimals") || err.contains("decimal"), "{err}");
    let err = env.fails(&["cost", "add", "10", "--category", "rent"], 2);
    assert!(err.contains("marketing, tools, other"), "{err}");
    env.fails(&["cost", "add", "10"], 2);
    let err = env.fails(
        &[
            "cost",
            "add",
            "10",
            "--category",
            "tools",
            "--channel",
            "a b,c",
        ],
        1,
    );
    assert!(err.contains("error"), "{err}");
    let err = env.fails(
        &[
            "cost",
            "add",
            "10",
            "--category",
            "tools",
            "--at",
            "2026-13-01",
        ],
        1,
    );
    assert!(err.contains("2026-13-01"), "{err}");
    assert_eq!(env.json(&["cost", "list"]), serde_json::json!([]));
    assert_eq!(events(&env), before, "no event either");

    env.ok(&["cost", "add", "10", "--category", "tools"]);
    env.ok(&["cost", "void", "1", "--reason", "typo"]);
    let err = env.fails(&["cost", "void", "1", "--reason", "again"], 1);
    assert!(err.contains("cost 1 is already void"), "{err}");
    let err = env.fails(&["cost", "void", "9", "--reason", "x"], 1);
    assert!(err.contains("cost") && err.contains('9'), "{err}");
    let err = env.fails(&["cost", "void", "1", "--reason", "  "], 1);
    assert!(err.contains("must not be empty"), "{err}");
    env.fails(&["cost", "void", "1"], 2);
    let list = env.json(&["cost", "list"]);
    assert_eq!(list[0]["voided"]["reason"], "typo");
    let err = env.fails(
        &["cost", "list", "--from", "2026-03-01", "--to", "2026-02-01"],
        1,
    );
    assert!(
        err.contains("--from 2026-03-01 is after --to 2026-02-01"),
        "{err}"
    );
}

#[test]
fn the_report_sets_costs_against_revenue_and_new_customers_per_channel() {
    let env = shop();
    env.ok(&[
        "cost",
        "add",
        "500",
        "--category",
        "marketing",
        "--channel",
        "wechat",
        "--at",
        "2026-02-10",
    ]);
    env.ok(&[
        "cost",
        "add",
        "100",
        "--category",
        "marketing",
        "--channel",
        "douyin",
        "--at",
        "2026-02-12",
    ]);
    env.ok(&[
        "cost",
        "add",
        "100",
        "--category",
        "tools",
        "--at",
        "2026-02-11",
    ]);
    // Voided, and outside the period: neither counts.
    env.ok(&[
        "cost",
        "add",
        "1000",
        "--category",
        "marketing",
        "--channel",
        "douyin",
        "--at",
        "2026-02-13",
    ]);
    env.ok(&["cost", "void", "4", "--reason", "wrong amount"]);
    env.ok(&[
        "cost",
        "add",
        "777",
        "--category",
        "other",
        "--at",
        "2025-06-01",
    ]);
    let range = ["--from", "2026-01-01", "--to", "2026-06-30"];
    let mut args = vec!["report"];
    args.extend(range);
    let r = env.json(&args);
    // The old fields are all there.
    for field in [
        "nps",
        "revenue",
        "net_revenue",
        "customers_by_stage",
        "report",
    ] {
        assert!(r.get(field).is_some(), "{field}");
    }
    assert_eq!(r["revenue"], "400.00");
    assert_eq!(r["costs"], "700.00");
    // ROI = (400 − 700) / 700 = −42.86 %.
    assert_eq!(r["roi"], -42.86);
    assert_eq!(r["roi_gross_margin"], Value::Null, "no purchase has a cost");
    let spend = &r["report"]["spend"];
    assert_eq!(spend["voided"], 1);
    assert_eq!(spend["by_category"][0]["spend"]["amount"], "600.00");
    assert_eq!(spend["by_category"][1]["spend"]["amount"], "100.00");
    assert_eq!(spend["by_category"][2]["spend"]["amount"], "0.00");
    let channels = spend["channels"].as_array().expect("channels");
    let douyin = &channels[0];
    assert_eq!(douyin["channel"], "douyin");
    assert_eq!(douyin["new_customers"], 1);
    assert_eq!(douyin["cac"]["value"]["amount"], "100.00");
    assert_eq!(douyin["revenue"]["amount"], "300.00");
    assert_eq!(douyin["roi"]["value"]["roi"], "2");
    let wechat = &channels[1];
    assert_eq!(wechat["channel"], "wechat");
    assert_eq!(wechat["cac"]["value"]["amount"], "500.00");
    assert_eq!(wechat["revenue"]["amount"], "100.00");
    assert_eq!(wechat["roi"]["value"]["roi"], "-0.8");
    assert_eq!(spend["cac"]["overall"]["value"]["cac"]["amount"], "300.00");

    let mut text = vec!["report"];
    text.extend(range);
    let out = env.ok(&text);
    assert!(out.contains("costs") && out.contains("700.00 CNY"), "{out}");
    assert!(out.contains("-42.9 %"), "{out}");
    assert!(out.contains("douyin") && out.contains("wechat"), "{out}");
}

#[test]
fn a_report_without_costs_says_so_and_keeps_its_shape() {
    let env = shop();
    let r = env.json(&["report", "--from", "2026-01-01", "--to", "2026-06-30"]);
    assert_eq!(r["costs"], "0.00");
    assert_eq!(r["roi"], Value::Null);
    assert!(
        r["report"]["spend"]["roi_on_revenue"]["undefined"]
            .as_str()
            .is_some_and(|s| s.contains("roi")),
        "{}",
        r["report"]["spend"]
    );
}

// ----- audit -----

#[test]
fn audit_lists_changes_newest_first_with_names_and_filters() {
    let env = shop();
    env.ok(&[
        "cost",
        "add",
        "50",
        "--category",
        "tools",
        "--at",
        "2026-03-05",
    ]);
    let table = env.ok(&["audit"]);
    let actions: Vec<&str> = table
        .lines()
        .skip(1)
        .filter_map(|l| l.split_whitespace().nth(2))
        .collect();
    assert_eq!(actions.first(), Some(&"cost_recorded"), "{table}");
    assert_eq!(actions.last(), Some(&"customer_created"), "{table}");
    assert!(
        table.contains("王芳") && table.contains("purchase_recorded"),
        "{table}"
    );

    let json = env.json(&["audit"]);
    let rows = json.as_array().expect("rows");
    assert_eq!(
        rows[0]["action"], "customer_created",
        "JSON is oldest first"
    );
    assert_eq!(rows[0]["name"], "张伟");
    assert_eq!(rows[0]["customer"], 1);
    let seqs: Vec<u64> = rows.iter().filter_map(|r| r["seq"].as_u64()).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");

    let wang = env.json(&["audit", "--customer", "#2"]);
    let wang = wang.as_array().expect("rows");
    assert!(!wang.is_empty());
    assert!(wang.iter().all(|r| r["customer"] == 2), "{wang:?}");

    let since = env.json(&["audit", "--since", "2026-03-02"]);
    let since = since.as_array().expect("rows");
    assert!(
        since.iter().all(|r| r["at"]
            .as_str()
            .is_some_and(|at| at >= "2026-03-01T16:00:00Z")),
        "{since:?}"
    );
    assert!(since.iter().any(|r| r["action"] == "cost_recorded"));
    assert!(!since.iter().any(|r| r["action"] == "customer_created"));

    let last = env.json(&["audit", "--limit", "1"]);
    assert_eq!(last.as_array().map(Vec::len), Some(1));
    assert_eq!(last[0]["action"], "cost_recorded", "the newest");
    let cut = env.ok(&["audit", "--limit", "2"]);
    assert!(cut.contains("showing 2 of"), "{cut}");

    let err = env.fails(&["audit", "--customer", "nobody"], 1);
    assert!(err.contains("nobody"), "{err}");
    let err = env.fails(&["audit", "--since", "yesterday"], 1);
    assert!(err.contains("yesterday"), "{err}");
    env.fails(&["audit", "--limit", "x"], 2);
}

#[test]
fn after_an_erase_the_audit_reveals_no_personal_data() {
    let env = shop();
    env.ok(&[
        "interaction",
        "log",
        "#1",
        "问了绿茶礼盒的价格",
        "--channel",
        "wechat",
    ]);
    env.ok(&["customer", "erase", "#1", "--yes"]);
    let json = env.ok(&["--json", "audit"]);
    let table = env.ok(&["audit"]);
    for secret in ["张伟", "zhang.wei", "上海", "绿茶", "礼盒"] {
        assert!(!json.contains(secret), "{secret} in {json}");
        assert!(!table.contains(secret), "{secret} in {table}");
    }
    let rows: Value = serde_json::from_str(&json).expect("JSON");
    let erased = rows
        .as_array()
        .expect("rows")
        .iter()
        .find(|r| r["action"] == "customer_erased")
        .expect("the erasure is in the audit");
    assert_eq!(erased["customer"], 1);
    assert_eq!(erased["name"], "erased customer 1");
    assert!(table.contains("erased customer 1"), "{table}");
}

#[test]
fn check_finds_a_search_index_out_of_step() {
    let env = shop();
    assert!(env.ok(&["check"]).contains("the books' own rules hold"));
    let conn = rusqlite::Connection::open(env.db()).expect("the file");
    conn.execute_batch(
        "DELETE FROM customer_search WHERE rowid = 2;
         UPDATE customer_search SET notes = 'something else' WHERE rowid = 1;",
    )
    .expect("an index changed by hand");
    drop(conn);
    let out = env.run(&["check"]);
    assert_eq!(out.status.code(), Some(1));
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(
        text.contains("customer 2 is missing from the search index"),
        "{text}"
    );
    assert!(
        text.contains("customer 1 is in the search index with other text than their row"),
        "{text}"
    );
}

/// The version 5 fixture (before the outbox and the search index) migrates: its
/// customers are searchable and its erasure is in the audit trail.
#[test]
fn an_old_file_is_searchable_and_its_erasure_is_audited() {
    let env = Env::new();
    let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/schema-v5/books.sqlite");
    std::fs::copy(&fixture, env.db()).expect("a copy of the old file");
    assert_eq!(
        names(&env.json(&["customer", "search", "MÜLLER", "--limit", "1"])),
        ["Olivia Müller"]
    );
    let audit = env.json(&["audit"]);
    let rows = audit.as_array().expect("rows");
    assert_eq!(rows.len(), 1, "{audit}");
    assert_eq!(rows[0]["seq"], Value::Null);
    assert_eq!(rows[0]["action"], "customer_erased");
    assert_eq!(rows[0]["name"], "erased customer 5");
    assert!(env.ok(&["check"]).contains("the books' own rules hold"));
}

#[test]
fn a_search_text_longer_than_a_line_is_refused() {
    let env = shop();
    let long = "王".repeat(201);
    let err = env.fails(&["customer", "search", &long], 1);
    assert!(
        err.contains("201 characters long; the limit is 200"),
        "{err}"
    );
}

#[test]
fn a_blank_void_reason_is_a_usage_error_and_voids_nothing() {
    let env = shop();
    env.ok(&["interaction", "log", "#1", "回访", "--channel", "phone"]);
    env.ok(&["survey", "record", "#1", "--nps", "9"]);
    for (what, reason) in [("purchase", " "), ("interaction", "\t"), ("survey", "  \n")] {
        let err = env.fails(&[what, "void", "1", "--reason", reason], 2);
        assert!(
            err.contains("give a reason for voiding it (--reason)"),
            "{what}: {err}"
        );
    }
    for what in ["purchase", "interaction", "survey"] {
        let list = env.json(&[what, "list", "--voided"]);
        let rows = list.as_array().expect("a list");
        assert!(!rows.is_empty(), "{what}: {list}");
        assert!(
            rows.iter().all(|r| r["void"].is_null()),
            "{what} voided: {list}"
        );
    }
    env.ok(&["purchase", "void", "1", "--reason", "typo"]);
    assert_eq!(
        env.json(&["purchase", "list", "--voided"])[0]["void"]["reason"],
        "typo"
    );
}
