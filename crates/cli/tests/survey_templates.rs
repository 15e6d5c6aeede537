//! `solocrm survey template …`, `survey answer` and `survey dimensions` on the real
//! binary, with Chinese templates, answers and comments.

mod common;

use common::Env;
use serde_json::{Value, json};

const TEMPLATE: &str = r#"
[[question]]
text = "您向朋友推荐我们的可能性有多大？"
dimension = "总体"
answer = "0-10"
role = "nps"

[[question]]
text = "产品质量如何？"
dimension = "产品满意度"
answer = "1-5"

[[question]]
text = "服务态度如何？"
dimension = "服务质量"
answer = "1-5"

[[question]]
text = "售后还有什么建议？"
dimension = "售后支持"
answer = "text"
"#;

fn setup() -> Env {
    let env = Env::new();
    env.ok(&["init", "--currency", "CNY", "--timezone", "Asia/Shanghai"]);
    env.ok(&["customer", "add", "王伟"]);
    env.ok(&["customer", "add", "李娜"]);
    let file = env.write_str("回访.toml", TEMPLATE.as_bytes());
    env.ok(&["survey", "template", "add", "回访", "--from", &file]);
    env
}

fn dimension<'v>(v: &'v Value, name: &str) -> &'v Value {
    v["dimensions"]
        .as_array()
        .expect("dimensions")
        .iter()
        .find(|d| d["dimension"] == name)
        .expect("the dimension")
}

#[test]
fn a_template_from_a_file_or_flags_is_listed_and_shown() {
    let env = setup();
    env.ok(&[
        "survey",
        "template",
        "add",
        "快速",
        "--question",
        "响应速度快吗？|响应速度|1-7",
        "--question",
        "推荐意愿|总体|0-10|nps",
    ]);
    let list = env.json(&["survey", "template", "list"]);
    let names: Vec<&str> = list
        .as_array()
        .expect("a list")
        .iter()
        .map(|t| t["name"].as_str().expect("a name"))
        .collect();
    assert_eq!(names, ["回访", "快速"]);
    let shown = env.json(&["survey", "template", "show", "回访"]);
    assert_eq!(shown["questions"].as_array().expect("questions").len(), 4);
    assert_eq!(
        shown["questions"][0]["answering"],
        json!({"type": "score", "scale": {"min": 0, "max": 10}, "role": "nps"})
    );
    assert_eq!(shown["questions"][3]["answering"], json!({"type": "text"}));
    let table = env.ok(&["--lang", "zh-CN", "survey", "template", "show", "回访"]);
    assert!(
        table.contains("售后支持") && table.contains("维度"),
        "{table}"
    );
    // Bad input: usage errors (exit 2) naming what is wrong; nothing stored.
    let err = env.fails(
        &[
            "survey",
            "template",
            "add",
            "坏",
            "--question",
            "只有两段|总体",
        ],
        2,
    );
    assert!(err.contains("TEXT|DIMENSION|ANSWER"), "{err}");
    let err = env.fails(
        &[
            "survey",
            "template",
            "add",
            "坏",
            "--question",
            "推荐|总体|1-5|nps",
        ],
        2,
    );
    assert!(err.contains("nps"), "{err}");
    let err = env.fails(&["survey", "template", "add", "坏"], 2);
    assert!(err.contains("--question"), "{err}");
    let err = env.fails(
        &[
            "survey",
            "template",
            "add",
            "回访",
            "--question",
            "再来|总体|1-5",
        ],
        1,
    );
    assert!(err.contains("回访"), "{err}");
    env.fails(&["survey", "template", "show", "没有"], 2);
    assert_eq!(
        env.json(&["survey", "template", "list"])
            .as_array()
            .map(Vec::len),
        Some(2)
    );
}

#[test]
fn answers_are_recorded_by_method_and_analysed_by_dimension() {
    let env = setup();
    let sheet = env.json(&[
        "survey",
        "answer",
        "回访",
        "#1",
        "--method",
        "电话",
        "--answer",
        "1=10",
        "--answer",
        "2=5",
        "--answer",
        "3=5",
        "--at",
        "2026-03-01",
    ]);
    assert_eq!(sheet["method"], "phone");
    env.ok(&[
        "survey",
        "answer",
        "回访",
        "#2",
        "--method",
        "面对面",
        "--answer",
        "1=3",
        "--answer",
        "2=4",
        "--answer",
        "3=1",
        "--answer",
        "4=客服回复太慢，退货流程复杂",
        "--at",
        "2026-03-02",
    ]);
    let a = env.json(&["survey", "dimensions"]);
    assert_eq!(
        (
            a["sheets"].clone(),
            a["promoters"].clone(),
            a["detractors"].clone()
        ),
        (json!(2), json!(1), json!(1))
    );
    assert_eq!(a["separating"], "服务质量");
    let service = dimension(&a, "服务质量");
    assert_eq!(service["mean_score"], "3");
    assert_eq!(service["gap"], "1");
    let product = dimension(&a, "产品满意度");
    assert_eq!(product["gap"], "0.25");
    assert_eq!(a["comments"][0]["dimension"], "售后支持");
    assert_eq!(
        a["comments"][0]["comments"][0]["text"],
        "客服回复太慢，退货流程复杂"
    );
    // The text report names the separating dimension and groups the comment.
    let text = env.ok(&[
        "--lang",
        "zh-CN",
        "survey",
        "dimensions",
        "--template",
        "回访",
    ]);
    assert!(
        text.contains("最能区分贬损者与推荐者的维度：服务质量"),
        "{text}"
    );
    assert!(text.contains("售后支持 的意见"), "{text}");
    // The one-score surveys and their NPS are untouched by the sheets.
    assert_eq!(env.json(&["survey", "list"]), json!([]));
    // Bad input: usage errors, nothing recorded.
    for (args, needle) in [
        (vec!["--method", "信鸽", "--answer", "1=9"], "电话"),
        (vec!["--method", "在线", "--answer", "1=11"], "0-10"),
        (vec!["--method", "在线", "--answer", "9=1"], "1 to 4"),
        (vec!["--method", "在线", "--answer", "1"], "N=VALUE"),
        (vec!["--method", "在线", "--answer", "2=很好"], "很好"),
    ] {
        let mut full = vec!["survey", "answer", "回访", "#1"];
        full.extend(args);
        let err = env.fails(&full, 2);
        assert!(err.contains(needle), "{err}");
    }
    env.fails(
        &[
            "survey", "answer", "没有", "#1", "--method", "在线", "--answer", "1=9",
        ],
        2,
    );
    env.fails(&["survey", "dimensions", "--template", "没有"], 2);
    assert_eq!(env.json(&["survey", "dimensions"])["sheets"], 2);
}

#[test]
fn erasing_a_customer_drops_their_comments_from_the_analysis() {
    let env = setup();
    env.ok(&[
        "survey",
        "answer",
        "回访",
        "#2",
        "--method",
        "在线",
        "--answer",
        "1=2",
        "--answer",
        "4=我的电话是13800000000",
    ]);
    assert_eq!(
        env.json(&["survey", "dimensions"])["comments"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    env.ok(&["customer", "erase", "#2", "--yes"]);
    let a = env.json(&["survey", "dimensions"]);
    assert_eq!(a["comments"], json!([]));
    assert_eq!(a["sheets"], 1);
}

#[test]
fn a_template_is_edited_and_removed_while_unanswered_and_only_renamed_once_answered() {
    let env = setup();
    // Unanswered: new questions replace the old ones.
    let edited = env.json(&[
        "survey",
        "template",
        "edit",
        "回访",
        "--question",
        "推荐意愿|总体|0-10|nps",
        "--question",
        "物流快吗？|物流|1-5",
    ]);
    assert_eq!(edited["questions"].as_array().map(Vec::len), Some(2));
    let said = env.ok(&[
        "--lang",
        "zh-CN",
        "survey",
        "template",
        "edit",
        "回访",
        "--question",
        "推荐意愿|总体|0-10|nps",
    ]);
    assert!(said.contains("问卷模板 回访 现有 1 道题"), "{said}");
    env.fails(&["survey", "template", "edit", "回访"], 2);
    env.fails(&["survey", "template", "edit", "没有", "--name", "新"], 2);

    env.ok(&[
        "survey", "answer", "回访", "#1", "--method", "电话", "--answer", "1=9",
    ]);
    // Answered: the questions stay, with a clear error; nothing changes.
    let err = env.fails(
        &[
            "survey",
            "template",
            "edit",
            "回访",
            "--question",
            "别的问题|总体|1-5",
        ],
        1,
    );
    assert!(
        err.contains("回访") && err.contains("1 answer sheet") && err.contains("cannot change"),
        "{err}"
    );
    let err = env.fails(&["survey", "template", "remove", "回访"], 1);
    assert!(err.contains("cannot be removed"), "{err}");
    // A rename goes through; the answers follow the template.
    let said = env.ok(&["survey", "template", "edit", "回访", "--name", "季度回访"]);
    assert!(said.contains("季度回访"), "{said}");
    let dims = env.json(&["survey", "dimensions", "--template", "季度回访"]);
    assert!(dims.to_string().contains("总体"), "{dims}");
    env.fails(&["survey", "template", "show", "回访"], 2);

    // An unanswered template is removed.
    env.ok(&[
        "survey",
        "template",
        "add",
        "临时",
        "--question",
        "好吗？|总体|1-5",
    ]);
    let said = env.ok(&["--lang", "zh-CN", "survey", "template", "remove", "临时"]);
    assert!(said.contains("已删除问卷模板 临时"), "{said}");
    let names: Vec<String> = env
        .json(&["survey", "template", "list"])
        .as_array()
        .expect("a list")
        .iter()
        .map(|t| t["name"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(names, ["季度回访"]);
}

#[test]
fn an_archived_template_is_listed_with_archived_and_takes_no_answers() {
    let env = setup();
    env.ok(&[
        "survey", "answer", "回访", "#1", "--method", "电话", "--answer", "1=9",
    ]);
    let out = env.ok(&["survey", "template", "archive", "回访"]);
    assert!(out.contains("回访"), "{out}");
    let shown = env.json(&["survey", "template", "show", "回访"]);
    assert_eq!(shown["archived"], json!(true));
    // Left out of the plain list, shown with --archived and its mark.
    assert_eq!(env.json(&["survey", "template", "list"]), json!([]));
    let all = env.json(&["survey", "template", "list", "--archived"]);
    assert_eq!(all.as_array().expect("a list").len(), 1);
    let table = env.ok(&["survey", "template", "list", "--archived"]);
    assert!(table.contains("ARCHIVED"), "{table}");
    // No new answers; the old one stays in the analysis.
    let out = env.run(&[
        "survey", "answer", "回访", "#2", "--method", "在线", "--answer", "1=3",
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("archived"), "{err}");
    let dims = env.json(&["survey", "dimensions", "--template", "回访"]);
    assert_eq!(dims["sheets"], json!(1), "{dims}");
    // Back again, --json like its siblings.
    let back = env.json(&["survey", "template", "unarchive", "回访"]);
    assert_eq!(back["name"], json!("回访"));
    assert!(back.get("archived").is_none(), "{back}");
    env.ok(&[
        "survey", "answer", "回访", "#2", "--method", "在线", "--answer", "1=3",
    ]);
    env.fails(&["survey", "template", "archive", "没有"], 2);
}

#[test]
fn a_sheet_is_listed_and_voided_once_and_leaves_the_analysis() {
    let env = setup();
    for (c, nps, day) in [
        ("#1", "1=10", "2026-03-01 10:00"),
        ("#2", "1=2", "2026-03-02 11:30"),
    ] {
        env.ok(&[
            "survey", "answer", "回访", c, "--method", "电话", "--answer", nps, "--at", day,
        ]);
    }
    let listed = env.json(&["survey", "sheet", "list", "--customer", "#2"]);
    assert_eq!(listed.as_array().map(Vec::len), Some(1), "{listed}");
    let at = listed[0]["at"].as_str().expect("a time").to_owned();
    let table = env.ok(&["survey", "sheet", "list"]);
    assert!(table.contains("2026-03-02T03:30:00Z"), "{table}");
    let before = env.json(&["survey", "dimensions"]);
    assert_eq!(
        (&before["sheets"], &before["detractors"]),
        (&json!(2), &json!(1))
    );

    // Error paths: nothing written.
    let sheets = env.json(&["survey", "sheet", "list", "--voided"]);
    for (args, code) in [
        // Blank reason.
        (vec!["回访", "#2", "--at", &at, "--reason", " "], 2),
        // No sheet at that time, of that template, of that customer.
        (
            vec!["回访", "#2", "--at", "2026-03-03", "--reason", "录错了"],
            1,
        ),
        (vec!["没有", "#2", "--at", &at, "--reason", "录错了"], 1),
        (vec!["回访", "#1", "--at", &at, "--reason", "录错了"], 1),
        (vec!["回访", "#9", "--at", &at, "--reason", "录错了"], 1),
        // A time that is no time (exit 1, as every --at).
        (vec!["回访", "#2", "--at", "昨天", "--reason", "录错了"], 1),
    ] {
        let mut full = vec!["survey", "sheet", "void"];
        full.extend(args.iter().copied());
        let out = env.run(&full);
        assert_eq!(out.status.code(), Some(code), "{full:?}: {out:?}");
    }
    assert_eq!(env.json(&["survey", "sheet", "list", "--voided"]), sheets);

    let said = env.ok(&[
        "--lang",
        "zh-CN",
        "survey",
        "sheet",
        "void",
        "回访",
        "#2",
        "--at",
        &at,
        "--reason",
        "录错了客户",
    ]);
    assert!(said.contains("已作废 李娜 的问卷 回访"), "{said}");
    // Hidden from the plain list, shown with --voided (and in JSON with its mark).
    assert_eq!(
        env.json(&["survey", "sheet", "list", "--customer", "#2"]),
        json!([])
    );
    let all = env.json(&["survey", "sheet", "list", "--voided", "--customer", "#2"]);
    assert_eq!(all[0]["void"]["reason"], "录错了客户");
    let after = env.json(&["survey", "dimensions"]);
    assert_eq!(
        (&after["sheets"], &after["detractors"]),
        (&json!(1), &json!(0))
    );
    // Twice: a conflict, nothing changes.
    let err = env.fails(
        &[
            "survey", "sheet", "void", "回访", "#2", "--at", &at, "--reason", "再来",
        ],
        1,
    );
    assert!(err.contains("void"), "{err}");
    assert_eq!(
        env.json(&["survey", "sheet", "list", "--voided", "--customer", "#2"]),
        all
    );
    // Still an answer: the template keeps its questions.
    env.fails(&["survey", "template", "remove", "回访"], 1);
    // Erased customer: refused.
    env.ok(&["customer", "erase", "#1", "--yes"]);
    let first = env.json(&["survey", "sheet", "list", "--customer", "#1"]);
    let at1 = first[0]["at"].as_str().expect("a time").to_owned();
    env.fails(
        &[
            "survey", "sheet", "void", "回访", "#1", "--at", &at1, "--reason", "x",
        ],
        1,
    );
}
