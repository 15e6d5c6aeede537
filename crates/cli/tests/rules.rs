//! `solocrm rule ...` and `solocrm run` (issue 16) on the real binary: the built-ins
//! by their stable names, switching, adding from flags and TOML, importing a rules
//! file (errors name file:line:column, and a refused file adds nothing), the dry run,
//! the rule's name on the tasks it made, and exactly-once across reruns — also after
//! the runner is killed with SIGKILL in the middle of a run.

mod common;

use common::Env;
use serde_json::Value;

const BUILTINS: [&str; 8] = [
    "at-risk-win-back",
    "birthday-care",
    "complaint-response",
    "detractor-follow-up",
    "first-purchase-thanks",
    "holiday-care",
    "stay-in-touch",
    "won-deal-check-in",
];

fn shop() -> Env {
    let env = Env::new();
    env.ok(&["init", "--currency", "CNY", "--timezone", "Asia/Shanghai"]);
    env.ok(&["customer", "add", "王芳", "--at", "2026-03-01"]);
    env.ok(&[
        "customer",
        "add",
        "张伟",
        "--at",
        "2026-03-01",
        "--tag",
        "vip",
    ]);
    env
}

fn names(list: &Value) -> Vec<String> {
    list.as_array()
        .expect("a list")
        .iter()
        .map(|r| r["name"].as_str().expect("a name").to_owned())
        .collect()
}

#[test]
fn rule_list_names_the_built_ins_and_switches_them() {
    let env = shop();
    let list = env.json(&["rule", "list"]);
    assert_eq!(names(&list), BUILTINS);
    for r in list.as_array().expect("list") {
        assert_eq!(r["enabled"], true);
        assert_eq!(r["builtin"], true);
    }
    let detractor = &list[3];
    assert_eq!(detractor["trigger"], "survey_answered");
    assert_eq!(
        detractor["condition"],
        "(kind = nps and score <= 6) or (kind = csat and score <= 2)"
    );
    env.ok(&["rule", "disable", "stay-in-touch"]);
    let list = env.json(&["rule", "list"]);
    let off: Vec<_> = list
        .as_array()
        .expect("list")
        .iter()
        .filter(|r| r["enabled"] == false)
        .map(|r| r["name"].clone())
        .collect();
    assert_eq!(off, ["stay-in-touch"]);
    env.ok(&["rule", "enable", "stay-in-touch"]);
    assert!(
        env.json(&["rule", "list"])
            .as_array()
            .expect("list")
            .iter()
            .all(|r| r["enabled"] == true)
    );
    let err = env.fails(&["rule", "disable", "no-such-rule"], 1);
    assert!(err.contains("rule no-such-rule not found"), "{err}");
    let err = env.fails(&["rule", "remove", "birthday-care"], 1);
    assert!(err.contains("built-in rule"), "{err}");
    let zh = env.ok(&["--lang", "zh-CN", "rule", "list"]);
    assert!(zh.contains("启用") && zh.contains("是"), "{zh}");
}

#[test]
fn rules_are_added_from_flags_or_toml_and_removed() {
    let env = shop();
    env.ok(&[
        "rule",
        "add",
        "vip-complaint",
        "--trigger",
        "request_opened",
        "--condition",
        "kind = complaint and tag = vip",
        "--task",
        "老板亲自致电 {name}",
        "--due-in",
        "0",
        "--priority",
        "high",
        "--tag",
        "投诉",
        "--points",
        "20",
    ]);
    env.ok(&[
        "rule",
        "add",
        "--toml",
        "name = \"quiet-vip\"\ntrigger = \"no_contact:30\"\ncondition = \"tag = vip\"\nactions = [{ note = \"{name} 很久没联系了\" }]",
    ]);
    let list = env.json(&["rule", "list"]);
    let all = names(&list);
    assert_eq!(&all[BUILTINS.len()..], ["quiet-vip", "vip-complaint"]);
    assert_eq!(list[BUILTINS.len() + 1]["builtin"], false);
    assert_eq!(
        list[BUILTINS.len() + 1]["actions"][0]["task"]["priority"],
        "high"
    );
    assert_eq!(list[BUILTINS.len() + 1]["actions"][2]["points"], 20);

    let err = env.fails(
        &[
            "rule",
            "add",
            "bad",
            "--trigger",
            "request_opened",
            "--condition",
            "kind = complaint and score <= lots",
            "--tag",
            "x",
        ],
        1,
    );
    assert!(err.contains("column 31"), "{err}");
    let err = env.fails(&["rule", "add", "empty", "--trigger", "request_opened"], 1);
    assert!(err.contains("1 to 8 actions"), "{err}");
    let err = env.fails(
        &[
            "rule",
            "add",
            "x",
            "--trigger",
            "lunar_new_year",
            "--tag",
            "x",
        ],
        1,
    );
    assert!(err.contains("trigger 'lunar_new_year'"), "{err}");
    let err = env.fails(
        &[
            "rule",
            "add",
            "--toml",
            "name = \"y\"\ntrigger = \"bought\"\nactions = []",
        ],
        1,
    );
    assert!(
        err.contains("at 2:11:"),
        "the snippet's line and column: {err}"
    );
    let err = env.fails(
        &[
            "rule",
            "add",
            "vip-complaint",
            "--trigger",
            "request_opened",
            "--tag",
            "x",
        ],
        1,
    );
    assert!(err.contains("already exists"), "{err}");

    env.ok(&["rule", "remove", "quiet-vip"]);
    assert_eq!(
        names(&env.json(&["rule", "list"])).len(),
        BUILTINS.len() + 1
    );
}

/// `rule edit` changes a rule in place: the flags change what they name, the name,
/// switch and firings stay (an occurrence fired before the edit does not fire again),
/// bad input is refused like `rule add` and leaves the rule as it was, and a built-in
/// is not edited.
#[test]
fn rule_edit_changes_a_rule_in_place_and_keeps_its_history() {
    let env = shop();
    env.ok(&[
        "rule",
        "add",
        "vip-quiet",
        "--trigger",
        "no_contact:3",
        "--condition",
        "tag = vip",
        "--task",
        "问候 {name}",
        "--due-in",
        "1",
        "--tag",
        "quiet",
    ]);
    env.ok(&["rule", "disable", "stay-in-touch"]);
    let first = env.json(&["run", "--as-of", "2026-03-04"]);
    assert_eq!(
        first["fired"].as_array().expect("fired").len(),
        1,
        "{first}"
    );
    assert_eq!(first["fired"][0]["customer"], 2, "张伟 is the vip: {first}");

    // A cadence, a new title and priority; the tag action stays.
    let edited = env.json(&[
        "rule",
        "edit",
        "vip-quiet",
        "--trigger",
        "no_contact:3:6",
        "--task",
        "致电 {name}",
        "--priority",
        "low",
    ]);
    assert_eq!(edited["name"], "vip-quiet");
    assert_eq!(edited["enabled"], true);
    assert_eq!(edited["trigger"], "no_contact:3:6");
    assert_eq!(edited["condition"], "tag = vip");
    assert_eq!(edited["actions"][0]["task"]["title"], "致电 {name}");
    assert_eq!(edited["actions"][0]["task"]["priority"], "low");
    assert_eq!(edited["actions"][0]["task"]["due_in"], 1);
    assert_eq!(edited["actions"][1]["tag"], "quiet");
    // The silence that fired before the edit does not fire again; its maximum does,
    // urgently.
    let later = env.json(&["run", "--as-of", "2026-03-07"]);
    let fired = later["fired"].as_array().expect("fired");
    assert_eq!(fired.len(), 1, "{later}");
    assert_eq!(fired[0]["occurrence"], "silence_max:2026-03-01");
    assert_eq!(fired[0]["priority"], "high");
    assert_eq!(fired[0]["title"], "致电 张伟");
    assert_eq!(
        env.json(&["rule", "log", "--rule", "vip-quiet"])
            .as_array()
            .expect("log")
            .len(),
        2
    );

    // Dropping the condition, and the whole rule from TOML.
    let edited = env.json(&["rule", "edit", "vip-quiet", "--no-condition"]);
    assert!(edited["condition"].is_null(), "{edited}");
    env.ok(&[
        "rule",
        "edit",
        "vip-quiet",
        "--toml",
        "name = \"vip-quiet\"\ntrigger = \"no_contact:10\"\nactions = [{ note = \"{name}\" }]",
    ]);
    let list = env.json(&["rule", "list"]);
    let r = list
        .as_array()
        .expect("list")
        .iter()
        .find(|r| r["name"] == "vip-quiet")
        .expect("the rule");
    assert_eq!(r["trigger"], "no_contact:10");
    assert_eq!(r["actions"].as_array().expect("actions").len(), 1);

    // Refusals leave the rule as it was.
    let err = env.fails(
        &["rule", "edit", "vip-quiet", "--condition", "score <= lots"],
        1,
    );
    assert!(err.contains("column 10"), "{err}");
    let err = env.fails(
        &["rule", "edit", "vip-quiet", "--trigger", "no_contact:9:5"],
        1,
    );
    assert!(err.contains("cadence maximum"), "{err}");
    let err = env.fails(&["rule", "edit", "vip-quiet", "--priority", "high"], 1);
    assert!(err.contains("creates no task"), "{err}");
    let err = env.fails(
        &[
            "rule",
            "edit",
            "vip-quiet",
            "--toml",
            "name = \"other\"\ntrigger = \"no_contact:10\"\nactions = [{ tag = \"x\" }]",
        ],
        1,
    );
    assert!(err.contains("keeps its name"), "{err}");
    let err = env.fails(&["rule", "edit", "no-such-rule", "--no-condition"], 1);
    assert!(err.contains("no-such-rule"), "{err}");
    let err = env.fails(
        &["rule", "edit", "birthday-care", "--trigger", "birthday:7"],
        1,
    );
    assert!(err.contains("built-in"), "{err}");
    let after = env.json(&["rule", "list"]);
    assert_eq!(after, list, "nothing changed");

    // `customer show` says which rule did what for the customer, and why.
    let show = env.ok(&["customer", "show", "#2"]);
    assert!(show.contains("vip-quiet"), "{show}");
    assert!(show.contains("silence_max:2026-03-01"), "{show}");
    assert!(show.contains("silence:2026-03-01"), "{show}");
}

#[test]
fn a_rules_file_is_imported_whole_or_not_at_all_and_its_errors_name_the_place() {
    let env = shop();
    let good = env.write_str(
        "rules.toml",
        "# 我的规则\n[[rule]]\nname = \"vip-complaint\"\ntrigger = \"request_opened\"\ncondition = \"kind = complaint and tag = vip\"\nactions = [\n  { task = { title = \"致电 {name}\", priority = \"high\" } },\n]\n\n[[rule]]\nname = \"late-task\"\ntrigger = \"task_overdue:2\"\nenabled = false\nactions = [{ tag = \"拖延\" }]\n".as_bytes(),
    );
    let out = env.ok(&["rule", "import", &good]);
    assert!(out.contains("imported 2 rules"), "{out}");
    let list = env.json(&["rule", "list"]);
    assert_eq!(
        &names(&list)[BUILTINS.len()..],
        ["late-task", "vip-complaint"]
    );
    assert_eq!(list[BUILTINS.len()]["enabled"], false);

    // Again: the names are taken, unless --replace.
    let err = env.fails(&["rule", "import", &good], 1);
    assert!(err.contains("rules.toml:2:1:"), "{err}");
    assert!(err.contains("already exists"), "{err}");
    env.ok(&["rule", "import", &good, "--replace"]);

    let bad = env.write_str(
        "bad.toml",
        b"[[rule]]\nname = \"fine\"\ntrigger = \"request_opened\"\nactions = [{ tag = \"a\" }]\n\n[[rule]]\nname = \"broken\"\ntrigger = \"survey_answered\"\ncondition = \"score <= six\"\nactions = [{ tag = \"b\" }]\n",
    );
    let err = env.fails(&["rule", "import", &bad], 1);
    assert!(err.contains("bad.toml:9:13:"), "{err}");
    assert!(err.contains("column 10"), "{err}");
    assert_eq!(
        names(&env.json(&["rule", "list"])).len(),
        BUILTINS.len() + 2,
        "nothing of bad.toml"
    );

    // A clash in the second rule: the first is not kept either.
    let clash = env.write_str(
        "clash.toml",
        b"[[rule]]\nname = \"fine\"\ntrigger = \"request_opened\"\nactions = [{ tag = \"a\" }]\n\n[[rule]]\nname = \"birthday-care\"\ntrigger = \"birthday:1\"\nactions = [{ tag = \"b\" }]\n",
    );
    let err = env.fails(&["rule", "import", &clash], 1);
    assert!(err.contains("clash.toml:6:1:"), "{err}");
    assert_eq!(
        names(&env.json(&["rule", "list"])).len(),
        BUILTINS.len() + 2,
        "all or nothing"
    );
}

#[test]
fn rule_test_dry_runs_and_run_fires_once_with_the_rule_on_the_task() {
    let env = shop();
    env.ok(&[
        "survey",
        "record",
        "#1",
        "--nps",
        "3",
        "--at",
        "2026-03-06 09:00",
    ]);
    env.ok(&[
        "request",
        "open",
        "#2",
        "快递破损",
        "--kind",
        "complaint",
        "--at",
        "2026-03-06 10:00",
    ]);
    let planned = env.json(&[
        "rule",
        "test",
        "detractor-follow-up",
        "--as-of",
        "2026-03-06",
    ]);
    assert_eq!(planned.as_array().expect("list").len(), 1);
    assert_eq!(planned[0]["customer_name"], "王芳");
    assert!(
        planned[0]["why"]
            .as_str()
            .expect("why")
            .contains("score <= 6")
    );
    let table = env.ok(&[
        "rule",
        "test",
        "detractor-follow-up",
        "--as-of",
        "2026-03-06",
    ]);
    assert!(table.contains("1 firing would be made"), "{table}");
    assert_eq!(
        env.json(&["task", "list"]).as_array().expect("tasks").len(),
        0,
        "a dry run writes nothing"
    );

    let report = env.json(&["run", "--as-of", "2026-03-06"]);
    assert_eq!(
        report["fired"].as_array().expect("fired").len(),
        2,
        "{report}"
    );
    let tasks = env.json(&["task", "list"]);
    let tasks = tasks.as_array().expect("tasks");
    assert_eq!(tasks.len(), 2);
    let detractor = tasks
        .iter()
        .find(|t| t["rule"] == "detractor-follow-up")
        .expect("the detractor's task names its rule");
    assert_eq!(detractor["title"], "Follow up on the low score of 王芳");
    assert_eq!(detractor["due"], "2026-03-10", "Friday + 2 business days");
    assert_eq!(detractor["priority"], "high");
    let complaint = tasks
        .iter()
        .find(|t| t["rule"] == "complaint-response")
        .expect("complaint");
    assert_eq!(complaint["due"], "2026-03-09");
    // The table names the rule too; a task made by hand shows "-".
    env.ok(&["task", "add", "call back", "--due", "2026-03-12"]);
    let table = env.ok(&["task", "list"]);
    let row = |needle: &str| {
        table
            .lines()
            .find(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("no row with {needle}: {table}"))
            .to_owned()
    };
    assert!(
        row("low score of 王芳").contains("detractor-follow-up"),
        "{table}"
    );
    assert!(!row("call back").contains("-follow-up"), "{table}");

    let again = env.json(&["run", "--as-of", "2026-03-06"]);
    assert_eq!(again["fired"].as_array().expect("fired").len(), 0);
    let digest = env.ok(&["run", "--as-of", "2026-03-10", "--notify"]);
    assert!(digest.contains("solocrm digest for 2026-03-10"), "{digest}");
    assert!(
        digest.contains("2 open tasks due by today, 1 of them overdue"),
        "{digest}"
    );
    let log = env.json(&["rule", "log"]);
    assert_eq!(log.as_array().expect("log").len(), 2);
    assert_eq!(
        env.json(&["rule", "log", "--rule", "complaint-response"])
            .as_array()
            .expect("log")
            .len(),
        1
    );
}

#[cfg(unix)]
#[test]
fn a_runner_killed_mid_run_and_run_again_fires_each_occurrence_once() {
    use std::time::Duration;
    let env = Env::new();
    // A Chinese shop whose history ends on 2026-03-06: many silent customers for the
    // stay-in-touch rule, one transaction each.
    env.ok(&[
        "demo",
        "--customers",
        "400",
        "--end",
        "2026-03-06",
        "--locale",
        "zh-CN",
    ]);
    let tasks_before = env
        .json(&["task", "list", "--all", "--limit", "0"])
        .as_array()
        .expect("tasks")
        .len();
    let mut killed_mid_run = false;
    for delay_ms in [60u64, 150, 300] {
        let mut child = env
            .command(&["run", "--as-of", "2026-03-06"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("the runner starts");
        std::thread::sleep(Duration::from_millis(delay_ms));
        let finished = child.try_wait().expect("status").is_some();
        let _ = child.kill(); // SIGKILL on unix
        let _ = child.wait();
        let fired_so_far = env
            .json(&["rule", "log", "--limit", "0"])
            .as_array()
            .expect("log")
            .len();
        if !finished && fired_so_far > 0 {
            killed_mid_run = true;
        }
    }
    env.ok(&["run", "--as-of", "2026-03-06"]);
    let again = env.json(&["run", "--as-of", "2026-03-06"]);
    assert_eq!(again["fired"].as_array().expect("fired").len(), 0);
    let log = env.json(&["rule", "log", "--limit", "0"]);
    let log = log.as_array().expect("log");
    assert!(!log.is_empty(), "the demo has silent customers");
    let mut keys: Vec<String> = log
        .iter()
        .map(|f| format!("{} {} {}", f["rule"], f["customer"], f["occurrence"]))
        .collect();
    keys.sort();
    let n = keys.len();
    keys.dedup();
    assert_eq!(keys.len(), n, "one firing per occurrence");
    let with_task = log.iter().filter(|f| !f["task"].is_null()).count();
    let tasks = env.json(&["task", "list", "--all", "--limit", "0"]);
    let tasks = tasks.as_array().expect("tasks");
    assert_eq!(
        tasks.len(),
        tasks_before + with_task,
        "no task without its firing, none twice"
    );
    assert_eq!(
        tasks.iter().filter(|t| t.get("rule").is_some()).count(),
        with_task
    );
    eprintln!("killed mid-run: {killed_mid_run}; {n} firings");
}
