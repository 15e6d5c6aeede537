//! `report --by month|quarter` and `--segment` / `--stage` on the analytic commands
//! (issue 18), on books that count their days in Asia/Shanghai.

mod common;

use common::Env;

/// Two VIPs (tag 贵宾, saved as the segment 高价值客户) and one other customer.
fn books() -> Env {
    let env = Env::new();
    env.ok(&["init", "--currency", "CNY", "--timezone", "Asia/Shanghai"]);
    for (name, tag) in [
        ("王芳", Some("贵宾")),
        ("李雷", Some("贵宾")),
        ("韩梅梅", None),
    ] {
        let mut args = vec!["customer", "add", name, "--at", "2024-12-01"];
        if let Some(t) = tag {
            args.extend(["--tag", t]);
        }
        env.ok(&args);
    }
    for (who, amount, at) in [
        ("#1", "100", "2025-01-10"),
        // 2025-02-01 01:00 in Shanghai.
        ("#1", "50", "2025-01-31T17:00:00Z"),
        ("#2", "200", "2025-02-14"),
        ("#3", "300", "2025-01-05"),
        ("#3", "40", "2025-03-03"),
    ] {
        env.ok(&["purchase", "add", who, amount, "--at", at]);
    }
    env.ok(&["segment", "add", "高价值客户", "tag = \"贵宾\""]);
    env
}

fn revenues(doc: &serde_json::Value) -> Vec<(String, String, bool)> {
    doc["periods"]
        .as_array()
        .expect("periods")
        .iter()
        .map(|p| {
            (
                p["label"].as_str().expect("label").to_owned(),
                p["revenue"].as_str().expect("revenue").to_owned(),
                p["partial"].as_bool().expect("partial"),
            )
        })
        .collect()
}

#[test]
fn report_by_month_counts_days_in_the_books_zone_and_its_total_is_the_plain_report() {
    let env = books();
    let range = ["--from", "2025-01-01", "--to", "2025-03-15"];
    let mut args = vec!["report", "--by", "month"];
    args.extend(range);
    let doc = env.json(&args);
    assert_eq!(
        revenues(&doc),
        [
            ("2025-01".to_owned(), "400.00".to_owned(), false),
            ("2025-02".to_owned(), "250.00".to_owned(), false),
            ("2025-03".to_owned(), "40.00".to_owned(), true),
        ]
    );
    let mut plain = vec!["report"];
    plain.extend(range);
    assert_eq!(doc["total"], env.json(&plain));
    // One month's entry is that month's own report, with its label and mark beside.
    let mut february = doc["periods"][1].clone();
    let map = february.as_object_mut().expect("an object");
    assert_eq!(map.remove("label"), Some("2025-02".into()));
    assert_eq!(map.remove("partial"), Some(false.into()));
    assert_eq!(
        february,
        env.json(&["report", "--from", "2025-02-01", "--to", "2025-02-28"])
    );

    let quarters = env.json(&["report", "--by", "quarter", "--as-of", "2025-06-30"]);
    let labels: Vec<(String, String, bool)> = revenues(&quarters);
    assert_eq!(labels.len(), 4, "{labels:?}");
    assert_eq!(labels[0], ("2024-Q3".to_owned(), "0.00".to_owned(), false));
    assert_eq!(
        labels[2],
        ("2025-Q1".to_owned(), "690.00".to_owned(), false)
    );

    // The table: one row per period and the total, partial periods marked, within 80
    // columns even with Chinese headers.
    let mut table = vec!["report", "--by", "month"];
    table.extend(range);
    let text = env.ok(&table);
    assert!(text.contains("2025-03*"), "{text}");
    assert!(text.contains("* partial"), "{text}");
    let total = text
        .lines()
        .find(|l| l.starts_with("total"))
        .expect("a total row");
    assert!(total.contains("690.00"), "{text}");
    let mut zh = vec!["--lang", "zh-CN"];
    zh.extend(&table);
    let text = env.ok(&zh);
    assert!(text.contains("合计"), "{text}");
    for line in text.lines() {
        assert!(unicode_width(line) <= 80, "wider than 80 columns: {line:?}");
    }
}

/// The columns `line` takes on a terminal: two for a CJK character, one otherwise.
fn unicode_width(line: &str) -> usize {
    line.chars()
        .map(|c| if (c as u32) >= 0x1100 { 2 } else { 1 })
        .sum()
}

#[test]
fn a_segment_or_a_stage_narrows_every_analytic_command() {
    let env = books();
    let range = ["--from", "2025-01-01", "--to", "2025-03-31"];
    let mut args = vec!["report", "--segment", "高价值客户"];
    args.extend(range);
    let doc = env.json(&args);
    assert_eq!(doc["revenue"], "350.00");
    assert_eq!(doc["group"]["segment"], "高价值客户");
    assert_eq!(doc["members"], 2);
    let mut by = args.clone();
    by.extend(["--by", "month"]);
    let series = env.json(&by);
    let mut whole = doc.clone();
    let map = whole.as_object_mut().expect("an object");
    map.remove("group");
    map.remove("members");
    assert_eq!(
        series["total"], whole,
        "the series' total is the group's report"
    );
    assert_eq!(series["members"], 2);

    let rfm = env.json(&["rfm", "--segment", "高价值客户", "--as-of", "2025-04-01"]);
    let keys: Vec<&str> = rfm["customers"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| r["customer"].as_str().expect("key"))
        .collect();
    assert_eq!(keys, ["#1", "#2"]);

    let cohort = env.json(&["cohort", "--segment", "高价值客户", "--as-of", "2025-04-01"]);
    let sizes: u64 = cohort["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| r["size"].as_u64().expect("size"))
        .sum();
    assert_eq!(sizes, 2, "{cohort}");

    let risk = env.json(&["churn-risk", "--as-of", "2025-12-31"]);
    let everyone = risk.as_array().expect("list").len();
    let risk = env.json(&[
        "churn-risk",
        "--segment",
        "高价值客户",
        "--as-of",
        "2025-12-31",
    ]);
    let ids: Vec<u64> = risk
        .as_array()
        .expect("list")
        .iter()
        .map(|w| w["customer"].as_u64().expect("id"))
        .collect();
    assert!(ids.iter().all(|&id| id == 1 || id == 2), "{ids:?}");
    assert_eq!(everyone, ids.len() + 1, "韩梅梅 is left out");

    // A stage: every customer is in exactly one.
    let mut total = 0;
    for stage in [
        "prospect", "lead", "new", "active", "loyal", "at_risk", "churned", "won_back",
    ] {
        let mut args = vec!["report", "--stage", stage];
        args.extend(range);
        total += env.json(&args)["members"].as_u64().expect("members");
    }
    assert_eq!(total, 3);
    let pipeline = env.ok(&["pipeline", "--stage", "new", "--as-of", "2025-04-01"]);
    assert!(pipeline.contains("only stage new"), "{pipeline}");
}

#[test]
fn an_unknown_segment_or_stage_is_a_usage_error() {
    let env = books();
    for command in ["report", "rfm", "cohort", "pipeline", "churn-risk"] {
        let err = env.fails(&[command, "--segment", "不存在"], 2);
        assert!(
            err.contains("no saved segment is named '不存在'"),
            "{command}: {err}"
        );
    }
    let err = env.fails(
        &[
            "clv",
            "--calibration-end",
            "2025-03-01",
            "--segment",
            "不存在",
        ],
        2,
    );
    assert!(err.contains("不存在"), "{err}");
    let err = env.fails(&["--lang", "zh-CN", "report", "--segment", "不存在"], 2);
    assert!(err.contains("没有名为“不存在”的已保存分群"), "{err}");
    let err = env.fails(&["report", "--stage", "activ"], 2);
    assert!(err.contains("active"), "{err}");
    env.fails(&["report", "--segment", "高价值客户", "--stage", "new"], 2);
    env.fails(&["report", "--by", "week"], 2);
    let err = env.fails(
        &[
            "report",
            "--by",
            "month",
            "--from",
            "2000-01-01",
            "--to",
            "2025-12-31",
        ],
        1,
    );
    assert!(err.contains("at most 120 periods"), "{err}");
}
