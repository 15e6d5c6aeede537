//! The conventions a command line is expected to have: shell completions, a manual page,
//! `--quiet`, closed lists of names that are usage errors and listed in `--help`, and
//! counts with the noun that agrees with them.

mod common;

use common::Env;

/// Runs a command that needs no database and must succeed; its standard output.
#[track_caller]
fn stdout_of(args: &[&str]) -> String {
    Env::new().ok(args)
}

#[test]
fn completions_are_printed_for_each_shell() {
    let bash = stdout_of(&["completions", "bash"]);
    assert!(bash.contains("_solocrm"), "{bash}");
    assert!(bash.contains("interaction"), "a subcommand is completed");
    assert!(bash.contains("at_risk"), "the stages are completed");

    let zsh = stdout_of(&["completions", "zsh"]);
    assert!(zsh.starts_with("#compdef solocrm"), "{zsh}");

    let fish = stdout_of(&["completions", "fish"]);
    assert!(fish.contains("complete -c solocrm"), "{fish}");
    assert!(fish.contains("wechat"), "the channels are completed");

    let powershell = stdout_of(&["completions", "powershell"]);
    assert!(powershell.contains("solocrm"), "{powershell}");

    // Not a shell clap knows: a usage error.
    let env = Env::new();
    let err = env.fails(&["completions", "tcsh"], 2);
    assert!(err.contains("bash") && err.contains("zsh"), "{err}");
}

#[test]
fn the_manual_page_is_roff_on_stdout() {
    let page = stdout_of(&["man"]);
    assert!(
        page.starts_with(".TH") || page.starts_with(".ie"),
        "{}",
        &page[..page.len().min(200)]
    );
    assert!(page.contains(".TH solocrm 1"), "the page is solocrm(1)");
    assert!(page.contains("customer"), "it lists the commands");
}

#[test]
fn completions_and_man_need_no_database() {
    let env = Env::new();
    env.ok(&["completions", "bash"]);
    env.ok(&["man"]);
    assert!(!env.db().exists(), "no database is created or needed");
}

#[test]
fn quiet_leaves_out_notes_and_confirmations_but_not_data_or_errors() {
    let env = Env::new();
    let out = env.run(&["-q", "init"]);
    assert!(out.status.success());
    assert!(out.stdout.is_empty() && out.stderr.is_empty(), "{out:?}");

    let csv = env.write_str(
        "customers.csv",
        b"name,email\nAda Lovelace,ada@example.com\nBob Byte,bob@example.com\n",
    );
    let out = env.run(&["import", "customers", &csv, "--quiet"]);
    assert!(out.status.success(), "{out:?}");
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let out = env.run(&["-q", "customer", "add", "Cy Clone"]);
    assert!(out.status.success());
    assert!(out.stdout.is_empty() && out.stderr.is_empty(), "{out:?}");

    // What was asked for still prints: a table, JSON.
    let listed = env.ok(&["-q", "customer", "list"]);
    assert!(listed.contains("Cy Clone"), "{listed}");
    let json = env.ok(&["-q", "--json", "customer", "add", "Di Data"]);
    assert!(json.contains("\"Di Data\""), "{json}");

    // An error still prints, with exit status 1.
    let err = env.fails(&["-q", "customer", "show", "nobody@example.com"], 1);
    assert!(err.contains("solocrm: error:"), "{err}");
    // And a usage error with 2.
    let err = env.fails(&["-q", "customer", "list", "--stage", "foo"], 2);
    assert!(err.contains("invalid value 'foo'"), "{err}");
}

#[test]
fn an_unknown_stage_is_a_usage_error_that_lists_the_stages() {
    let env = Env::new();
    env.init();
    let err = env.fails(&["customer", "list", "--stage", "foo"], 2);
    assert!(err.contains("invalid value 'foo'"), "{err}");
    assert!(err.contains("at_risk") && err.contains("won_back"), "{err}");

    let err = env.fails(&["customer", "add", "Ada", "--stage", "vip"], 2);
    assert!(err.contains("prospect"), "{err}");
}

#[test]
fn an_unknown_channel_is_a_usage_error_that_lists_wechat() {
    let env = Env::new();
    env.init();
    env.ok(&["customer", "add", "Ada", "--email", "ada@example.com"]);
    let err = env.fails(
        &[
            "interaction",
            "log",
            "ada@example.com",
            "hello",
            "--channel",
            "telegram",
        ],
        2,
    );
    assert!(err.contains("invalid value 'telegram'"), "{err}");
    assert!(err.contains("wechat") && err.contains("in_person"), "{err}");

    for (args, listed) in [
        (&["--direction", "sideways"][..], "inbound"),
        (&["--sentiment", "meh"][..], "positive"),
    ] {
        let mut all = vec!["interaction", "log", "ada@example.com", "hi"];
        all.extend_from_slice(&["--channel", "phone"]);
        all.extend_from_slice(args);
        let err = env.fails(&all, 2);
        assert!(err.contains(listed), "{args:?}: {err}");
    }
}

#[test]
fn the_other_closed_lists_are_usage_errors_too() {
    let env = Env::new();
    env.init();
    env.ok(&["customer", "add", "Ada", "--email", "ada@example.com"]);
    for (args, listed) in [
        (
            &[
                "deal",
                "add",
                "ada@example.com",
                "site",
                "100",
                "--stage",
                "x",
            ][..],
            "need_identified",
        ),
        (&["deal", "move", "1", "closed"][..], "negotiation"),
        (
            &["task", "add", "call", "--due", "2026-12-01", "--kind", "x"][..],
            "follow_up",
        ),
        (
            &[
                "task",
                "add",
                "call",
                "--due",
                "2026-12-01",
                "--every",
                "daily",
            ][..],
            "monthly",
        ),
        (
            &[
                "request",
                "open",
                "ada@example.com",
                "late",
                "--kind",
                "praise",
            ][..],
            "complaint",
        ),
        (&["stage", "set", "ada@example.com", "vip"][..], "loyal"),
    ] {
        let err = env.fails(args, 2);
        assert!(err.contains(listed), "{args:?}: {err}");
    }
}

#[test]
fn names_are_read_as_forgivingly_as_before() {
    let env = Env::new();
    env.init();
    env.ok(&["customer", "add", "Ada", "--email", "ada@example.com"]);
    // Case, `-` and a space for `_`: the core's reading, unchanged.
    env.ok(&["stage", "set", "ada@example.com", "LEAD"]);
    env.ok(&["customer", "add", "Bo", "--stage", "At-Risk"]);
    let listed = env.ok(&["customer", "list", "--stage", "at risk"]);
    assert!(listed.contains("Bo") && !listed.contains("Ada"), "{listed}");
    let listed = env.ok(&["customer", "list", "--stage", "Lead"]);
    assert!(listed.contains("Ada"), "{listed}");
    env.ok(&[
        "interaction",
        "log",
        "ada@example.com",
        "met",
        "--channel",
        "In-Person",
        "--direction",
        "INBOUND",
    ]);
    env.ok(&[
        "task",
        "add",
        "call",
        "--due",
        "2026-12-01",
        "--kind",
        "follow-up",
        "--every",
        "Monthly",
    ]);
    let deal = env.json(&[
        "deal",
        "add",
        "ada@example.com",
        "site",
        "100",
        "--stage",
        "Need Identified",
    ]);
    assert_eq!(deal["stage"], "need_identified", "{deal}");
}

#[test]
fn help_lists_the_names() {
    let help = stdout_of(&["stage", "set", "--help"]);
    for stage in [
        "prospect", "lead", "new", "active", "loyal", "at_risk", "churned", "won_back",
    ] {
        assert!(help.contains(stage), "{stage} missing from {help}");
    }
    let help = stdout_of(&["interaction", "log", "--help"]);
    assert!(
        help.contains("wechat") && help.contains("inbound") && help.contains("positive"),
        "{help}"
    );
    let help = stdout_of(&["--help"]);
    assert!(
        help.contains("--quiet") && help.contains("completions") && help.contains("man"),
        "{help}"
    );
}

#[test]
fn counts_agree_with_their_nouns() {
    let env = Env::new();
    env.init();
    env.ok(&["customer", "add", "Ada", "--tag", "vip"]);
    env.ok(&["segment", "add", "vips", "tag = vip"]);
    let one = env.ok(&["segment", "show", "vips"]);
    assert!(one.contains("1 customer as of"), "{one}");
    env.ok(&["customer", "add", "Bob", "--tag", "vip"]);
    let two = env.ok(&["segment", "show", "vips"]);
    assert!(two.contains("2 customers as of"), "{two}");

    let care = env.ok(&["care", "--days", "1"]);
    assert!(
        !care.contains("1 days"),
        "the next 1 day, not 1 days: {care}"
    );

    env.ok(&["points", "earn", "#1", "1"]);
    let balance = env.ok(&["points", "balance", "#1"]);
    assert!(balance.contains("has 1 point\n"), "{balance}");

    // JSON keeps its shape.
    let json = env.json(&["segment", "show", "vips"]);
    assert_eq!(
        json["customers"].as_array().map(Vec::len),
        Some(2),
        "{json}"
    );
}

#[test]
fn lists_show_the_newest_rows_a_screen_holds_and_say_what_they_left_out() {
    let env = Env::new();
    env.init();
    env.ok(&["customer", "add", "张伟"]);
    for (amount, day) in [
        ("10", "2026-01-01"),
        ("20", "2026-01-02"),
        ("30", "2026-01-03"),
    ] {
        env.ok(&["purchase", "add", "#1", amount, "--at", day]);
    }
    // Piped with no --limit: every row, newest first, a name beside each id.
    let all = env.ok(&["purchase", "list"]);
    let amounts: Vec<&str> = all
        .lines()
        .skip(1)
        .map(|l| l.split_whitespace().nth(4).expect("an amount"))
        .collect();
    assert_eq!(amounts, ["30.00", "20.00", "10.00"], "{all}");
    assert!(all.contains("张伟"), "{all}");
    assert!(!all.contains("--limit"), "{all}");

    let two = env.ok(&["purchase", "list", "--limit", "2"]);
    assert!(two.contains("30.00") && two.contains("20.00"), "{two}");
    assert!(!two.contains("10.00"), "{two}");
    assert!(two.contains("showing 2 of 3 purchases"), "{two}");

    // A screen of LINES rows holds LINES - 5 of them, never fewer than ten.
    let screen = env
        .command(&["purchase", "list"])
        .env("LINES", "12")
        .output()
        .expect("runs");
    let screen = String::from_utf8(screen.stdout).expect("UTF-8");
    assert!(
        screen.contains("10.00"),
        "ten rows hold all three: {screen}"
    );

    // JSON: every row in id order unless --limit says otherwise.
    let json = env.json(&["purchase", "list"]);
    assert_eq!(json.as_array().map(Vec::len), Some(3));
    let newest = env.json(&["purchase", "list", "--limit", "1"]);
    assert_eq!(newest[0]["amount"]["amount"], "30.00", "{newest}");
    env.fails(&["purchase", "list", "--limit", "x"], 2);
}
