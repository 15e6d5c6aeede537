//! The CLI speaks Chinese when asked (issue 13): `--lang zh-CN`, or a Chinese locale
//! (`LANG=zh_CN.UTF-8`, with `LC_ALL` and `LC_MESSAGES` before it), gives Chinese
//! headings, table headers, stage and channel labels and messages, with the tables still
//! aligned by display width; English stays the default; `--lang` takes `en` or `zh-CN`
//! only (exit 2 otherwise); JSON is the same in every language. The record commands
//! (customer, purchase, deal, task, request, points, consent, cost, import …) confirm,
//! show and refuse in Chinese too, and read in English as they always did.

mod common;

use std::process::Output;

use common::Env;
use unicode_segmentation::UnicodeSegmentation;
use unicode_width::UnicodeWidthStr;

/// Runs `args` on the env's database with the environment variables `vars` set.
fn run_with(env: &Env, vars: &[(&str, &str)], args: &[&str]) -> Output {
    let mut command = env.command(args);
    for (k, v) in vars {
        command.env(k, v);
    }
    command.output().expect("the binary runs")
}

/// Standard output of a run that must succeed.
#[track_caller]
fn ok_with(env: &Env, vars: &[(&str, &str)], args: &[&str]) -> String {
    let out = run_with(env, vars, args);
    assert!(
        out.status.success(),
        "{args:?} with {vars:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 output")
}

/// Standard error of a run that must fail with `code`.
#[track_caller]
fn fails_with(env: &Env, vars: &[(&str, &str)], args: &[&str], code: i32) -> String {
    let out = run_with(env, vars, args);
    assert_eq!(
        out.status.code(),
        Some(code),
        "{args:?} with {vars:?}: stdout {} stderr {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stderr).expect("utf-8 errors")
}

/// A small Chinese shop, the same every time.
fn shop() -> Env {
    let env = Env::new();
    env.ok(&[
        "demo",
        "--customers",
        "40",
        "--seed",
        "7",
        "--end",
        "2025-12-31",
        "--locale",
        "zh-CN",
    ]);
    env
}

const ZH: &[(&str, &str)] = &[("LANG", "zh_CN.UTF-8")];

/// The cells of a table line: (first column, one past the last column, text), in
/// terminal columns; cells are separated by two or more spaces.
fn cells(line: &str) -> Vec<(usize, usize, String)> {
    let mut out: Vec<(usize, usize, String)> = Vec::new();
    let mut col = 0;
    let mut spaces = 2;
    for g in line.graphemes(true) {
        if g == " " {
            spaces += 1;
        } else {
            if spaces >= 2 {
                out.push((col, col, String::new()));
            } else if spaces == 1 {
                let last = out.last_mut().expect("a cell");
                last.2.push(' ');
            }
            let last = out.last_mut().expect("a cell");
            last.2.push_str(g);
            last.1 = col + g.width();
            spaces = 0;
        }
        col += g.width();
    }
    out
}

/// The lines of the table whose header line is `header` (up to the first empty line
/// or the end).
fn table<'a>(text: &'a str, header: &str) -> Vec<&'a str> {
    let lines: Vec<&str> = text.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.starts_with(header))
        .unwrap_or_else(|| panic!("no table {header:?} in\n{text}"));
    lines[at..]
        .iter()
        .take_while(|l| !l.is_empty() && !l.starts_with('('))
        .copied()
        .collect()
}

/// Asserts that in every row, the columns `left` start where their header starts and
/// the columns `right` end where their header ends.
#[track_caller]
fn assert_aligned(lines: &[&str], left: &[usize], right: &[usize]) {
    let header = cells(lines[0]);
    assert!(lines.len() > 1, "an empty table: {lines:?}");
    for line in &lines[1..] {
        let row = cells(line);
        for &i in left {
            assert_eq!(
                row[i].0, header[i].0,
                "column {i} of {line:?} under {lines:?}"
            );
        }
        for &i in right {
            assert_eq!(
                row[i].1, header[i].1,
                "column {i} of {line:?} under {lines:?}"
            );
        }
    }
}

#[test]
fn report_speaks_chinese_with_the_flag_and_with_the_locale() {
    let env = shop();
    let flag = env.ok(&["--lang", "zh-CN", "report", "--as-of", "2025-12-31"]);
    assert!(
        flag.contains("solocrm 仪表盘：2025-01-01 至 2025-12-31"),
        "{flag}"
    );
    assert!(flag.contains("指标"), "{flag}");
    assert!(flag.contains("流失率"), "{flag}");
    assert!(!flag.contains("churn rate"), "{flag}");
    let stages = table(&flag, "阶段");
    let labels: Vec<String> = stages[1..].iter().map(|l| cells(l)[0].2.clone()).collect();
    assert_eq!(
        labels,
        [
            "潜在客户",
            "线索",
            "新客户",
            "活跃",
            "忠诚",
            "有流失风险",
            "已流失",
            "已挽回"
        ],
        "{flag}"
    );
    // The counts stay right-aligned under their header, by display width.
    assert_aligned(&stages, &[0], &[1]);
    assert_aligned(&table(&flag, "指标"), &[0, 1], &[]);
    assert_aligned(&table(&flag, "RFM 分群"), &[0], &[1]);
    // The locale says the same as the flag.
    let locale = ok_with(&env, ZH, &["report", "--as-of", "2025-12-31"]);
    assert_eq!(locale, flag);
    for vars in [
        &[("LC_ALL", "zh_CN.UTF-8")][..],
        &[("LC_MESSAGES", "zh_CN"), ("LANG", "en_US.UTF-8")][..],
        &[("LANG", "zh_SG.UTF-8")][..],
        &[("LANG", "zh-CN")][..],
    ] {
        assert_eq!(
            ok_with(&env, vars, &["report", "--as-of", "2025-12-31"]),
            flag,
            "{vars:?}"
        );
    }
}

#[test]
fn english_is_the_default_and_what_c_and_traditional_locales_get() {
    let env = shop();
    let english = env.ok(&["report", "--as-of", "2025-12-31"]);
    assert!(
        english.contains("solocrm dashboard: 2025-01-01 to 2025-12-31"),
        "{english}"
    );
    assert!(english.contains("STAGE"), "{english}");
    assert!(english.contains("at_risk"), "{english}");
    assert!(!english.contains("有流失风险"), "{english}");
    for vars in [
        &[("LANG", "C")][..],
        &[("LANG", "POSIX")][..],
        &[("LANG", "en_US.UTF-8")][..],
        // LC_ALL comes first, then LC_MESSAGES, then LANG.
        &[("LC_ALL", "C"), ("LANG", "zh_CN.UTF-8")][..],
        &[("LC_MESSAGES", "C"), ("LANG", "zh_CN.UTF-8")][..],
        // No traditional catalogue: English, not simplified characters.
        &[("LANG", "zh_TW.UTF-8")][..],
        &[("LANG", "zh_HK.UTF-8")][..],
    ] {
        assert_eq!(
            ok_with(&env, vars, &["report", "--as-of", "2025-12-31"]),
            english,
            "{vars:?}"
        );
    }
    // The flag wins over the locale, both ways; its value ignores case.
    assert_eq!(
        ok_with(
            &env,
            ZH,
            &["--lang", "en", "report", "--as-of", "2025-12-31"]
        ),
        english
    );
    let zh = ok_with(
        &env,
        &[("LC_ALL", "C")],
        &["report", "--lang", "ZH-cn", "--as-of", "2025-12-31"],
    );
    assert!(zh.contains("仪表盘"), "{zh}");
}

#[test]
fn an_unknown_language_is_a_usage_error() {
    let env = Env::new();
    env.init();
    for lang in ["xx", "zh", "zh-TW", "fr", ""] {
        let err = env.fails(&["--lang", lang, "settings", "show"], 2);
        assert!(err.contains("--lang"), "{lang}: {err}");
        assert!(err.contains("zh-CN"), "{lang}: {err}");
    }
    // Not even a database is opened, let alone created.
    let fresh = Env::new();
    fresh.fails(&["--lang", "xx", "init"], 2);
    assert!(!fresh.db().exists());
}

#[test]
fn care_and_customer_list_show_chinese_headers_and_labels_aligned() {
    let env = shop();
    let care = ok_with(&env, ZH, &["care", "--as-of", "2025-12-31"]);
    let lines = table(&care, "日期");
    assert_eq!(
        cells(lines[0])
            .iter()
            .map(|c| c.2.as_str())
            .collect::<Vec<_>>(),
        ["日期", "客户", "姓名", "原因"]
    );
    assert_aligned(&lines, &[0, 2, 3], &[1]);
    assert!(care.contains("有流失风险"), "{care}");
    assert!(!care.contains("at risk of churning"), "{care}");

    let list = ok_with(&env, ZH, &["customer", "list", "--limit", "100"]);
    let lines = table(&list, "编号");
    let header: Vec<String> = cells(lines[0]).into_iter().map(|c| c.2).collect();
    assert_eq!(header[..3], ["编号", "姓名", "阶段"]);
    // ID, NAME and STAGE are always there (later cells may be empty).
    assert_aligned(&lines, &[1, 2], &[0]);
    let stages: Vec<String> = lines[1..].iter().map(|l| cells(l)[2].2.clone()).collect();
    let known = [
        "潜在客户",
        "线索",
        "新客户",
        "活跃",
        "忠诚",
        "有流失风险",
        "已流失",
        "已挽回",
    ];
    for s in &stages {
        assert!(known.contains(&s.as_str()), "{s} in\n{list}");
    }
    // And the same list in English shows the names a user types.
    let english = env.ok(&["customer", "list", "--limit", "100"]);
    assert!(english.starts_with("ID  NAME"), "{english}");
    assert_eq!(english.lines().count(), list.lines().count());
}

#[test]
fn churn_risk_and_reassess_word_their_reasons_in_chinese() {
    let env = shop();
    let risk = ok_with(&env, ZH, &["churn-risk", "--as-of", "2025-12-31"]);
    let lines = table(&risk, "客户");
    let header: Vec<String> = cells(lines[0]).into_iter().map(|c| c.2).collect();
    assert_eq!(header, ["客户", "姓名", "阶段", "风险", "原因"]);
    assert_aligned(&lines[..lines.len() - 1], &[1, 2, 4], &[0, 3]);
    assert!(risk.contains("逾期："), "{risk}");
    assert!(!risk.contains("overdue"), "{risk}");
    let english = env.ok(&["churn-risk", "--as-of", "2025-12-31"]);
    assert!(english.contains("overdue: "), "{english}");

    let moves = ok_with(&env, ZH, &["stage", "reassess", "--as-of", "2025-12-31"]);
    let lines = table(&moves, "客户");
    let header: Vec<String> = cells(lines[0]).into_iter().map(|c| c.2).collect();
    assert_eq!(header, ["客户", "姓名", "原阶段", "新阶段", "原因"]);
    assert_aligned(&lines[..lines.len() - 1], &[1, 2, 3, 4], &[0]);
    assert!(
        moves.contains("的阶段将会变更（加 --apply 运行以记录）"),
        "{moves}"
    );
    // Nothing was applied: the same suggestions stand.
    assert_eq!(
        ok_with(&env, ZH, &["stage", "reassess", "--as-of", "2025-12-31"]),
        moves
    );
}

#[test]
fn a_cut_list_says_so_in_chinese() {
    let env = shop();
    let total = env
        .json(&["purchase", "list"])
        .as_array()
        .map_or(0, Vec::len);
    assert!(total > 2, "{total}");
    let list = ok_with(&env, ZH, &["purchase", "list", "--limit", "2"]);
    let last = list.lines().last().unwrap_or_default();
    assert_eq!(
        last,
        format!("显示 {total} 笔购买中的 2 条；--limit 0 显示全部"),
        "{list}"
    );
    let english = env.ok(&["purchase", "list", "--limit", "2"]);
    assert!(
        english.ends_with(&format!(
            "showing 2 of {total} purchases; --limit 0 shows all\n"
        )),
        "{english}"
    );
}

#[test]
fn json_is_the_same_in_every_language() {
    let env = shop();
    for args in [
        &["report", "--as-of", "2025-12-31"][..],
        &["care", "--as-of", "2025-12-31"][..],
        &["customer", "list", "--limit", "100"][..],
        &["rfm", "--as-of", "2025-12-31"][..],
        &["churn-risk", "--as-of", "2025-12-31"][..],
        &["pipeline", "--as-of", "2025-12-31"][..],
        &["settings", "show"][..],
        &["stage", "reassess", "--as-of", "2025-12-31"][..],
    ] {
        let mut json = vec!["--json"];
        json.extend_from_slice(args);
        let english = env.ok(&json);
        let mut zh = vec!["--lang", "zh-CN"];
        zh.extend_from_slice(&json);
        assert_eq!(env.ok(&zh), english, "{args:?}");
        assert_eq!(ok_with(&env, ZH, &json), english, "{args:?}");
        assert!(
            !english.contains("有流失风险") && !english.contains("客户数"),
            "{args:?}"
        );
    }
}

#[test]
fn errors_and_set_up_messages_speak_chinese() {
    let env = Env::new();
    // No database yet: the top-level error, with its prefix, in Chinese.
    let err = fails_with(&env, ZH, &["report"], 1);
    assert!(err.starts_with("solocrm: 错误: "), "{err}");
    assert!(err.contains("没有数据库"), "{err}");
    let err = env.fails(&["report"], 1);
    assert!(err.starts_with("solocrm: error: no database at"), "{err}");

    let created = ok_with(
        &env,
        ZH,
        &["init", "--currency", "CNY", "--timezone", "Asia/Shanghai"],
    );
    assert!(created.starts_with("已创建 "), "{created}");
    assert!(
        created.contains("CNY") && created.contains("Asia/Shanghai"),
        "{created}"
    );
    // A second init is refused in Chinese, and the file is left as it was.
    let before = std::fs::read(env.db()).expect("db");
    let err = fails_with(&env, ZH, &["init", "--currency", "EUR"], 1);
    assert!(err.starts_with("solocrm: 错误: "), "{err}");
    assert!(err.contains("已存在"), "{err}");
    assert_eq!(std::fs::read(env.db()).expect("db"), before);

    let settings = ok_with(&env, ZH, &["settings", "show"]);
    let rows: Vec<Vec<(usize, usize, String)>> = settings.lines().map(cells).collect();
    let labels: Vec<&str> = rows.iter().map(|r| r[0].2.as_str()).collect();
    assert_eq!(
        labels,
        ["位置", "账本编号", "货币", "时区", "积分", "结构版本"]
    );
    // The values start in one column, whatever the width of the labels.
    assert!(rows.iter().all(|r| r[1].0 == rows[0][1].0), "{settings}");
    let changed = ok_with(
        &env,
        ZH,
        &["settings", "set", "--timezone", "Asia/Chongqing"],
    );
    assert!(
        changed.starts_with("时区: Asia/Shanghai -> Asia/Chongqing"),
        "{changed}"
    );
    assert!(changed.contains("注意: "), "{changed}");
    let same = ok_with(
        &env,
        ZH,
        &["settings", "set", "--timezone", "Asia/Chongqing"],
    );
    assert!(same.contains("时区已经是 Asia/Chongqing"), "{same}");

    let checked = ok_with(&env, ZH, &["check"]);
    assert!(checked.contains("完整性与外键正常"), "{checked}");
    let backup = env.path("备份.db");
    let backup = backup.to_str().expect("utf-8 path");
    let done = ok_with(&env, ZH, &["backup", backup]);
    assert!(done.starts_with("已将 "), "{done}");
    assert!(
        done.contains("0 位客户") && done.contains("0 笔购买"),
        "{done}"
    );
    // Backing up onto an existing file is refused, in Chinese, and changes nothing.
    let before = std::fs::read(backup).expect("backup");
    let err = fails_with(&env, ZH, &["backup", backup], 1);
    assert!(err.starts_with("solocrm: 错误: "), "{err}");
    assert_eq!(std::fs::read(backup).expect("backup"), before);
    let done = ok_with(&env, ZH, &["checkpoint"]);
    assert!(done.contains("预写日志已并入数据文件并清空"), "{done}");
}

#[test]
fn stage_moves_show_labels_and_counts_need_no_plural() {
    let env = Env::new();
    env.init();
    env.ok(&["customer", "add", "王芳", "--email", "fang@example.cn"]);
    let moved = ok_with(&env, ZH, &["stage", "set", "fang@example.cn", "lead"]);
    assert_eq!(moved.trim(), "王芳: 潜在客户 -> 线索");
    let english = env.ok(&["stage", "set", "fang@example.cn", "new"]);
    assert_eq!(english.trim(), "王芳: lead -> new");
    // A count in Chinese has no plural: `7 天`, as `1 天`.
    let care = ok_with(&env, ZH, &["care", "--silent-days", "10000"]);
    assert!(care.contains("起的 7 天内没有需要关怀的客户"), "{care}");
    let care = ok_with(&env, ZH, &["care", "--silent-days", "10000", "--days", "1"]);
    assert!(care.contains("起的 1 天内没有需要关怀的客户"), "{care}");
    let care = env.ok(&["care", "--silent-days", "10000", "--days", "1"]);
    assert!(care.contains("and the next 1 day"), "{care}");
}

#[test]
fn help_stays_english() {
    let env = Env::new();
    let help = ok_with(&env, ZH, &["--help"]);
    assert!(help.contains("Usage:"), "{help}");
    assert!(help.contains("--lang <LANG>"), "{help}");
    assert_eq!(env.ok(&["--help"]), help);
}

/// The record commands, run in the same order on two books: each step's Chinese
/// confirmation (on one) and its English one (on the other, as it always read).
const RECORDS: &[(&[&str], &str, &str)] = &[
    (
        &[
            "customer",
            "add",
            "王芳",
            "--email",
            "fang@example.cn",
            "--at",
            "2025-03-01",
        ],
        "已添加客户 1（王芳）",
        "added customer 1 (王芳)",
    ),
    (
        &[
            "customer",
            "edit",
            "fang@example.cn",
            "--city",
            "杭州",
            "--set",
            "industry=餐饮",
        ],
        "已更新客户 1（王芳）",
        "updated customer 1 (王芳)",
    ),
    (
        &["customer", "tag", "fang@example.cn", "老客户"],
        "客户 1 的标签：老客户",
        "customer 1 tags: 老客户",
    ),
    (
        &[
            "purchase",
            "add",
            "fang@example.cn",
            "49.90",
            "--description",
            "龙井茶",
            "--at",
            "2025-03-02",
        ],
        "已记录 王芳 的购买 1，金额 49.90 CNY",
        "recorded purchase 1 of 49.90 CNY by 王芳",
    ),
    (
        &[
            "purchase",
            "refund",
            "1",
            "10",
            "--reason",
            "包装破损",
            "--at",
            "2025-03-03",
        ],
        "已为购买 1 退款 10.00 CNY（退款 1）",
        "refunded 10.00 CNY of purchase 1 (refund 1)",
    ),
    (
        &[
            "interaction",
            "log",
            "fang@example.cn",
            "电话回访",
            "--channel",
            "wechat",
            "--direction",
            "outbound",
            "--at",
            "2025-03-03",
        ],
        "已记录与 王芳 的互动 1",
        "logged interaction 1 with 王芳",
    ),
    (
        &[
            "survey",
            "record",
            "fang@example.cn",
            "--nps",
            "9",
            "--comment",
            "很满意",
            "--at",
            "2025-03-04",
        ],
        "已记录 王芳 的 nps 评分：9",
        "recorded nps 9 from 王芳",
    ),
    (
        &[
            "deal",
            "add",
            "fang@example.cn",
            "年度合同",
            "5000",
            "--at",
            "2025-03-05",
        ],
        "已添加商机 1（年度合同，5000.00 CNY），阶段：需求确认",
        "added deal 1 (年度合同, 5000.00 CNY) at need_identified",
    ),
    (
        &["deal", "move", "1", "won", "--at", "2025-03-06"],
        "商机 1 现在的阶段：赢单",
        "deal 1 is now won",
    ),
    (
        &["deal", "note", "1", "已签约", "--at", "2025-03-06"],
        "已为商机 1 添加备注（共 1 条备注）",
        "noted on deal 1 (1 note)",
    ),
    (
        &[
            "task",
            "add",
            "回访王芳",
            "--due",
            "2025-04-01",
            "--customer",
            "fang@example.cn",
            "--at",
            "2025-03-06",
        ],
        "已添加任务 1，到期日 2025-04-01",
        "added task 1 due 2025-04-01",
    ),
    (
        &["task", "done", "1", "--at", "2025-03-07"],
        "任务 1 已完成",
        "task 1 is done",
    ),
    (
        &[
            "request",
            "open",
            "fang@example.cn",
            "包装破损",
            "--kind",
            "complaint",
            "--description",
            "盒子坏了",
            "--at",
            "2025-03-07",
        ],
        "已为 王芳 创建投诉 1",
        "opened complaint 1 for 王芳",
    ),
    (
        &["request", "resolve", "1", "--at", "2025-03-08"],
        "服务请求 1 现在的状态：已解决",
        "request 1 is now resolved",
    ),
    (
        &[
            "points",
            "earn",
            "fang@example.cn",
            "120",
            "--reason",
            "消费",
            "--at",
            "2025-03-08",
        ],
        "王芳 现有 120 积分",
        "王芳 now has 120 points",
    ),
    (
        &[
            "consent",
            "grant",
            "fang@example.cn",
            "marketing",
            "--source",
            "门店",
            "--at",
            "2025-03-08",
        ],
        "王芳：对 marketing 的同意状态为已同意",
        "王芳: consent for marketing is granted",
    ),
    (
        &[
            "cost",
            "add",
            "300",
            "--category",
            "marketing",
            "--channel",
            "wechat",
            "--at",
            "2025-03-08",
        ],
        "已记录成本 1：300.00 CNY，用于营销（wechat）",
        "recorded cost 1 of 300.00 CNY for marketing (wechat)",
    ),
];

/// Two books in CNY, one filled in English and one in Chinese by [`RECORDS`], each
/// confirmation checked as it is printed.
fn recorded() -> (Env, Env) {
    let (en, zh) = (Env::new(), Env::new());
    for env in [&en, &zh] {
        env.ok(&["init", "--currency", "CNY", "--timezone", "Asia/Shanghai"]);
    }
    for (args, chinese, english) in RECORDS {
        let said = ok_with(&zh, ZH, args);
        assert_eq!(said.trim_end(), *chinese, "{args:?}");
        let said = en.ok(args);
        assert_eq!(said.trim_end(), *english, "{args:?}");
    }
    (en, zh)
}

#[test]
fn record_commands_confirm_in_chinese_and_english_reads_as_before() {
    let (en, zh) = recorded();
    // The show commands: headings, field labels and the names of the closed lists.
    let show = ok_with(&zh, ZH, &["customer", "show", "fang@example.cn"]);
    for line in [
        "王芳（客户 1）",
        "  阶段       新客户",
        "  城市       杭州",
        "  标签       老客户",
        "  积分       120",
        "  行业       餐饮",
    ] {
        assert!(show.lines().any(|l| l == line), "{line:?} in\n{show}");
    }
    assert!(show.contains("规则："), "{show}");
    assert!(
        !show.contains("  stage") && !show.contains("(customer 1)"),
        "{show}"
    );
    let english = en.ok(&["customer", "show", "fang@example.cn"]);
    assert!(english.starts_with("王芳 (customer 1)"), "{english}");
    assert!(
        english.lines().any(|l| l == "  stage      new"),
        "{english}"
    );
    assert!(
        english.lines().any(|l| l == "  industry   餐饮"),
        "{english}"
    );

    let deal = ok_with(&zh, ZH, &["deal", "show", "1"]);
    assert!(deal.starts_with("商机 1：年度合同"), "{deal}");
    assert!(deal.lines().any(|l| l == "  阶段      赢单"), "{deal}");
    assert!(deal.lines().any(|l| l == "  客户      王芳（1）"), "{deal}");
    assert!(deal.contains("需求确认") && !deal.contains("won"), "{deal}");
    let english = en.ok(&["deal", "show", "1"]);
    assert!(english.lines().any(|l| l == "  stage     won"), "{english}");

    let request = ok_with(&zh, ZH, &["request", "show", "1"]);
    assert!(request.starts_with("投诉 1：包装破损"), "{request}");
    assert!(
        request.lines().any(|l| l == "  状态      已解决"),
        "{request}"
    );
    assert!(!request.contains("resolved"), "{request}");
    let task = ok_with(&zh, ZH, &["task", "show", "1"]);
    assert!(task.lines().any(|l| l == "  状态      已完成"), "{task}");
    assert!(task.lines().any(|l| l == "  类型      跟进"), "{task}");
    let interaction = ok_with(&zh, ZH, &["interaction", "show", "1"]);
    assert!(
        interaction.lines().any(|l| l == "  渠道        微信"),
        "{interaction}"
    );
    assert!(
        interaction.lines().any(|l| l == "  方向        主动联系"),
        "{interaction}"
    );
    let purchase = ok_with(&zh, ZH, &["purchase", "show", "1"]);
    assert!(purchase.starts_with("购买 1"), "{purchase}");
    assert!(
        purchase.lines().any(|l| l == "  已退款      10.00 CNY"),
        "{purchase}"
    );
    let english = en.ok(&["purchase", "show", "1"]);
    assert!(
        english.lines().any(|l| l == "  refunded    10.00 CNY"),
        "{english}"
    );

    // Lists: the labels of the new columns, and counts without a plural.
    let consents = ok_with(&zh, ZH, &["consent", "list"]);
    assert!(
        consents.contains("已同意") && !consents.contains("granted"),
        "{consents}"
    );
    let costs = ok_with(&zh, ZH, &["cost", "list"]);
    assert!(
        costs.contains("营销") && !costs.contains("marketing"),
        "{costs}"
    );
    let points = ok_with(&zh, ZH, &["points", "balance", "fang@example.cn"]);
    assert!(points.starts_with("王芳 现有 120 积分"), "{points}");
    let tier = ok_with(&zh, ZH, &["points", "tier", "set", "金卡", "1"]);
    assert!(tier.starts_with("等级 金卡 从 1 积分起"), "{tier}");
    let tier = en.ok(&["points", "tier", "set", "金卡", "1"]);
    assert!(tier.starts_with("tier 金卡 starts at 1 point\n"), "{tier}");

    // The audit trail names its actions in the run's language.
    let audit = ok_with(&zh, ZH, &["audit"]);
    assert!(
        audit.contains("记录购买") && audit.contains("添加客户"),
        "{audit}"
    );
    assert!(!audit.contains("purchase_recorded"), "{audit}");
    let english = en.ok(&["audit"]);
    assert!(english.contains("purchase_recorded"), "{english}");

    // Voiding says so in the run's language.
    let voided = ok_with(&zh, ZH, &["interaction", "void", "1", "--reason", "记错了"]);
    assert!(voided.starts_with("已作废互动 1；"), "{voided}");
    let shown = ok_with(&zh, ZH, &["interaction", "show", "1"]);
    assert!(
        shown.contains("  已作废      ") && shown.contains("原因：记错了"),
        "{shown}"
    );

    // Errors the CLI words itself.
    let err = fails_with(&zh, ZH, &["customer", "erase", "fang@example.cn"], 1);
    assert!(
        err.starts_with("solocrm: 错误: 清除客户 1（王芳）"),
        "{err}"
    );
    let err = en.fails(&["customer", "erase", "fang@example.cn"], 1);
    assert!(err.contains("erasing customer 1 (王芳) removes"), "{err}");
    let err = fails_with(&zh, ZH, &["deal", "edit", "1"], 1);
    assert!(err.contains("没有要修改的内容"), "{err}");
    let none = ok_with(&zh, ZH, &["customer", "search", "李雷"]);
    assert_eq!(none.trim_end(), "没有与 '李雷' 匹配的客户");
}

#[test]
fn record_commands_write_the_same_json_in_every_language() {
    let (_, zh) = recorded();
    for args in [
        &["customer", "show", "fang@example.cn"][..],
        &["customer", "search", "王芳"][..],
        &["purchase", "show", "1"][..],
        &["purchase", "list"][..],
        &["purchase", "refunds"][..],
        &["interaction", "show", "1"][..],
        &["interaction", "list"][..],
        &["survey", "show", "1"][..],
        &["survey", "list"][..],
        &["deal", "show", "1"][..],
        &["deal", "list"][..],
        &["task", "show", "1"][..],
        &["task", "list", "--all"][..],
        &["request", "show", "1"][..],
        &["request", "list"][..],
        &["points", "balance", "fang@example.cn"][..],
        &["points", "history", "fang@example.cn"][..],
        &["points", "tier", "list"][..],
        &["consent", "list"][..],
        &["cost", "list"][..],
        &["audit"][..],
    ] {
        let mut json = vec!["--json"];
        json.extend_from_slice(args);
        let english = zh.ok(&json);
        assert_eq!(ok_with(&zh, ZH, &json), english, "{args:?}");
        assert!(
            !["已解决", "已同意", "赢单", "新客户", "营销"]
                .iter()
                .any(|label| english.contains(label)),
            "{args:?}"
        );
    }
    // A write prints the same JSON in both languages: the same steps on two books.
    let (a, b) = (Env::new(), Env::new());
    for env in [&a, &b] {
        env.ok(&["init", "--currency", "CNY", "--timezone", "Asia/Shanghai"]);
    }
    for (args, _, _) in RECORDS {
        let mut json = vec!["--json"];
        json.extend_from_slice(args);
        let english = a.ok(&json);
        let chinese = ok_with(&b, ZH, &json);
        assert_eq!(chinese, english, "{args:?}");
    }
}

#[test]
fn an_import_and_its_dry_run_count_in_chinese() {
    let env = Env::new();
    env.ok(&["init", "--currency", "CNY", "--timezone", "Asia/Shanghai"]);
    let file = env.write_str(
        "客户.csv",
        "name,email\n王芳,fang@example.cn\n李雷,lei@example.cn\n".as_bytes(),
    );
    let dry = ok_with(&env, ZH, &["import", "customers", &file, "--dry-run"]);
    assert!(
        dry.contains("：将导入 新建 2，更新 0，未变 0；未写入任何内容"),
        "{dry}"
    );
    assert!(dry.contains("第 2 行：新建 王芳"), "{dry}");
    let english = env.ok(&["import", "customers", &file, "--dry-run"]);
    assert!(
        english.contains(": would import 2 created, 0 updated, 0 unchanged; nothing was written"),
        "{english}"
    );
    assert!(english.contains("line 2: create 王芳"), "{english}");
    let done = ok_with(&env, ZH, &["import", "customers", &file]);
    assert!(
        done.starts_with("已导入 ") && done.contains("新建 2"),
        "{done}"
    );
    let again = env.ok(&["import", "customers", &file]);
    assert!(
        again.contains(": 0 created, 0 updated, 2 unchanged"),
        "{again}"
    );
}
