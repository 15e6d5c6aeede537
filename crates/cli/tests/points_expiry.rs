//! Points that expire (issue 16, ADR 0024) on the real binary: the points validity in
//! `settings`, `points expire --due` posting each lapse once on its Beijing day, and a
//! `points_expiring:N` rule made with `rule add` that the run fires once per lapse.

mod common;

use common::Env;

/// Books kept in CNY on Beijing time, with 王芳 (`#1`) who earned 100 points on
/// 2024-01-31 and 50 at 01:00 on 2024-03-01 Beijing time (still February 29 in UTC).
fn books() -> Env {
    let env = Env::new();
    env.ok(&["init", "--currency", "CNY", "--timezone", "Asia/Shanghai"]);
    env.ok(&["customer", "add", "王芳", "--at", "2024-01-10"]);
    env.ok(&["points", "earn", "#1", "100", "--at", "2024-01-31"]);
    env.ok(&["points", "earn", "#1", "50", "--at", "2024-03-01 01:00"]);
    env
}

#[test]
fn the_points_validity_is_a_setting_shown_changed_and_refused_when_bad() {
    let env = books();
    let shown = env.json(&["settings", "show"]);
    assert_eq!(shown["points_validity"], serde_json::Value::Null, "{shown}");
    assert!(env.ok(&["settings", "show"]).contains("never expire"));

    let set = env.json(&[
        "settings",
        "set",
        "--points-validity",
        "12",
        "--points-validity-from",
        "2024-01-01",
    ]);
    assert_eq!(
        set["points_validity"],
        serde_json::json!({"months": 12, "from": "2024-01-01"})
    );
    assert_eq!(set["previous_points_validity"], serde_json::Value::Null);
    // Changing the months keeps the first day.
    let out = env.ok(&["settings", "set", "--points-validity", "6"]);
    assert!(
        out.contains(
            "valid 12 months from the day earned (counted from 2024-01-01) -> valid 6 months"
        ),
        "{out}"
    );
    let shown = env.json(&["settings", "show"]);
    assert_eq!(
        shown["points_validity"],
        serde_json::json!({"months": 6, "from": "2024-01-01"})
    );

    // Bad values: a clear error, nothing changed, the time zone included.
    let err = env.fails(&["settings", "set", "--points-validity", "0"], 1);
    assert!(err.contains("points validity in months"), "{err}");
    let err = env.fails(&["settings", "set", "--points-validity", "121"], 1);
    assert!(err.contains("120"), "{err}");
    let err = env.fails(
        &[
            "settings",
            "set",
            "--timezone",
            "Europe/Berlin",
            "--points-validity",
            "a year",
        ],
        1,
    );
    assert!(
        err.contains("--points-validity takes a number of months (1-120) or never, not 'a year'"),
        "{err}"
    );
    let err = env.fails(
        &[
            "settings",
            "set",
            "--points-validity",
            "12",
            "--points-validity-from",
            "someday",
        ],
        1,
    );
    assert!(err.contains("someday"), "{err}");
    let after = env.json(&["settings", "show"]);
    assert_eq!(after["timezone"], "Asia/Shanghai");
    assert_eq!(after["points_validity"], shown["points_validity"]);
    env.fails(&["settings", "set"], 2);
    env.fails(
        &["settings", "set", "--points-validity-from", "2024-01-01"],
        2,
    );

    let zh = env.ok(&["--lang", "zh-CN", "settings", "show"]);
    assert!(zh.contains("自获得之日起 6 个月内有效"), "{zh}");
    let off = env.json(&["settings", "set", "--points-validity", "never"]);
    assert_eq!(off["points_validity"], serde_json::Value::Null);
    let zh = env.ok(&["--lang", "zh-CN", "settings", "show"]);
    assert!(zh.contains("永不过期"), "{zh}");
}

#[test]
fn points_expire_due_posts_each_lapse_once_dated_on_its_beijing_day() {
    let env = books();
    // A day after today is refused: nothing is posted ahead of time.
    let err = env.fails(&["points", "expire", "--due", "--as-of", "2099-01-01"], 2);
    assert!(err.contains("after today"), "{err}");
    let err = env.fails(&["run", "--as-of", "2099-01-01"], 2);
    assert!(err.contains("after today"), "{err}");
    // Without a validity: nothing lapses, and it says why.
    let out = env.ok(&["points", "expire", "--due", "--as-of", "2026-01-01"]);
    assert!(out.contains("points never expire in these books"), "{out}");
    assert_eq!(
        env.json(&["points", "balance", "#1"])["balance"],
        150,
        "nothing lapsed"
    );

    env.ok(&[
        "settings",
        "set",
        "--points-validity",
        "1",
        "--points-validity-from",
        "2024-01-01",
    ]);
    let none = env.json(&["points", "expire", "--due", "--as-of", "2024-02-28"]);
    assert_eq!(none["lapsed"], serde_json::json!([]), "{none}");
    // January 31 + 1 month = February 29 (2024 is a leap year).
    let first = env.json(&["points", "expire", "--due", "--as-of", "2024-02-29"]);
    let lapsed = first["lapsed"].as_array().expect("a list");
    assert_eq!(lapsed.len(), 1, "{first}");
    assert_eq!(lapsed[0]["customer"], 1);
    assert_eq!(lapsed[0]["day"], "2024-02-29");
    assert_eq!(lapsed[0]["points"], 100);
    assert_eq!(lapsed[0]["balance"], 50);
    let again = env.json(&["points", "expire", "--due", "--as-of", "2024-02-29"]);
    assert_eq!(
        again["lapsed"],
        serde_json::json!([]),
        "a rerun posts nothing"
    );

    // The 50 points count on March 1 in Beijing: they lapse on April 1.
    let out = env.ok(&["points", "expire", "--due", "--as-of", "2024-03-31"]);
    assert!(
        out.contains("no points due to lapse by 2024-03-31"),
        "{out}"
    );
    let out = env.ok(&["points", "expire", "--due", "--as-of", "2024-04-01"]);
    assert!(out.contains("王芳"), "{out}");
    assert!(out.contains("2024-04-01"), "{out}");
    assert!(out.contains("-50"), "{out}");
    assert!(out.contains("1 lapse posted"), "{out}");

    let history = env.json(&["points", "history", "#1"]);
    let entries = history["entries"].as_array().expect("entries");
    let expiries: Vec<(&str, i64, &str)> = entries
        .iter()
        .filter(|e| e["kind"] == "expire")
        .map(|e| {
            (
                e["at"].as_str().unwrap_or_default(),
                e["delta"].as_i64().unwrap_or_default(),
                e["reason"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        expiries,
        vec![
            (
                "2024-02-28T16:00:00Z",
                -100,
                "lapsed: points are valid 1 months"
            ),
            (
                "2024-03-31T16:00:00Z",
                -50,
                "lapsed: points are valid 1 months"
            ),
        ]
    );
    assert_eq!(history["balance"], 0);

    // --due stands alone.
    env.fails(&["points", "expire", "--due", "#1", "5"], 2);
    env.fails(&["points", "expire", "#1"], 2);
    env.fails(&["points", "expire", "--as-of", "2024-04-01"], 2);
    let err = env.fails(&["points", "expire", "--due", "--at", "2024-04-01"], 1);
    assert!(err.contains("takes no --at"), "{err}");
    let zh = env.ok(&[
        "--lang",
        "zh-CN",
        "points",
        "expire",
        "--due",
        "--as-of",
        "2024-05-01",
    ]);
    assert!(zh.contains("截至 2024-05-01 没有到期的积分"), "{zh}");
}

#[test]
fn a_points_expiring_rule_from_rule_add_fires_once_per_lapse() {
    let env = books();
    env.ok(&[
        "settings",
        "set",
        "--points-validity",
        "1",
        "--points-validity-from",
        "2024-01-01",
    ]);
    let err = env.fails(
        &[
            "rule",
            "add",
            "x",
            "--trigger",
            "points_expiring:0",
            "--task",
            "x",
        ],
        1,
    );
    assert!(err.contains("trigger days"), "{err}");
    env.ok(&[
        "rule",
        "add",
        "points-reminder",
        "--trigger",
        "points_expiring:7",
        "--task",
        "提醒 {name} 积分即将过期",
        "--due-in",
        "0",
    ]);
    let listed = env.ok(&["rule", "list"]);
    assert!(listed.contains("points_expiring:7"), "{listed}");
    for name in [
        "detractor-follow-up",
        "complaint-response",
        "at-risk-win-back",
        "first-purchase-thanks",
        "birthday-care",
        "stay-in-touch",
        "won-deal-check-in",
        "holiday-care",
    ] {
        env.ok(&["rule", "disable", name]);
    }
    env.ok(&["run", "--as-of", "2024-02-20"]);
    let week = env.json(&["run", "--as-of", "2024-02-27"]);
    let fired = week["fired"].as_array().expect("fired");
    assert_eq!(fired.len(), 1, "{week}");
    assert_eq!(fired[0]["rule"], "points-reminder");
    assert_eq!(fired[0]["occurrence"], "points_expiring:2024-02-29");
    assert_eq!(fired[0]["day"], "2024-02-22");
    assert_eq!(fired[0]["title"], "提醒 王芳 积分即将过期");
    assert_eq!(week["lapsed"], serde_json::json!([]));
    let lapse_day = env.json(&["run", "--as-of", "2024-02-29"]);
    assert_eq!(lapse_day["fired"], serde_json::json!([]), "{lapse_day}");
    let lapsed = lapse_day["lapsed"].as_array().expect("lapsed");
    assert_eq!(lapsed.len(), 1, "{lapse_day}");
    assert_eq!(lapsed[0]["points"], 100);
    let rerun = env.json(&["run", "--as-of", "2024-02-29"]);
    assert_eq!(rerun["lapsed"], serde_json::json!([]));
    assert_eq!(rerun["fired"], serde_json::json!([]));
    assert_eq!(env.json(&["points", "balance", "#1"])["balance"], 50);
}

/// `export all` carries the validity and `import all` restores it; an archive of books
/// whose points never expire leaves the field out and restores "never".
#[test]
fn the_archive_carries_the_points_validity() {
    let env = books();
    let plain = env.ok(&["export", "all"]);
    assert!(!plain.contains("points_validity"), "left out when unset");
    env.ok(&[
        "settings",
        "set",
        "--points-validity",
        "18",
        "--points-validity-from",
        "2024-02-29",
    ]);
    let text = env.ok(&["export", "all"]);
    let doc: serde_json::Value = serde_json::from_str(&text).expect("json");
    assert_eq!(
        doc["points_validity"],
        serde_json::json!({"months": 18, "from": "2024-02-29"})
    );
    let archive = env.write_str("archive.json", text.as_bytes());
    let fresh = env.path("fresh.db");
    let init = common::run_on(&fresh, &["init", "--currency", "CNY"]);
    assert!(init.status.success());
    let out = common::run_on(&fresh, &["import", "all", &archive]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let shown = common::run_on(&fresh, &["--json", "settings", "show"]);
    let shown: serde_json::Value = serde_json::from_slice(&shown.stdout).expect("json");
    assert_eq!(shown["points_validity"], doc["points_validity"]);
    assert_eq!(shown["timezone"], "Asia/Shanghai");
    let again = common::run_on(&fresh, &["export", "all"]);
    assert_eq!(String::from_utf8_lossy(&again.stdout), text, "lossless");

    let old = env.write_str("old.json", plain.as_bytes());
    let third = env.path("third.db");
    assert!(
        common::run_on(&third, &["init", "--currency", "CNY"])
            .status
            .success()
    );
    assert!(
        common::run_on(&third, &["import", "all", &old])
            .status
            .success()
    );
    let shown = common::run_on(&third, &["--json", "settings", "show"]);
    let shown: serde_json::Value = serde_json::from_slice(&shown.stdout).expect("json");
    assert_eq!(shown["points_validity"], serde_json::Value::Null);
}
