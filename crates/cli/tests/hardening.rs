//! Regression tests for what a hostile or careless user threw at the CLI (issue 10):
//! escape sequences in stored text and in arguments, implausible dates and bounds,
//! an interrupted `demo`, and a policy run that one bad customer must not stop.

mod common;

use chrono::{TimeZone, Utc};
use common::Env;
use solocrm_core::{Crm, LifecycleStage, StageReason, Store};
use solocrm_store_sqlite::SqliteStore;

/// ESC, BEL and the one-byte CSI: what a terminal would act on.
const RAW_CONTROLS: [u8; 2] = [0x1b, 0x07];

#[track_caller]
fn assert_no_raw_controls(what: &str, text: &str) {
    assert!(
        !text.bytes().any(|b| RAW_CONTROLS.contains(&b)),
        "{what} holds a raw control character: {text:?}"
    );
    assert!(!text.contains('\u{9b}'), "{what} holds a raw CSI: {text:?}");
}

#[test]
fn stored_text_with_escape_sequences_is_shown_escaped_never_obeyed() {
    let env = Env::new();
    env.init();
    let clipboard = "\u{1b}]52;c;Y3VybCBldmlsLnNoIHwgc2g=\u{7}";
    let clear = "\u{1b}[2J\u{1b}[Hall good\u{9b}31m";
    env.ok(&[
        "customer",
        "add",
        "Eve Mallory",
        "--email",
        "eve@example.com",
        "--notes",
        clear,
    ]);
    env.ok(&[
        "interaction",
        "log",
        "eve@example.com",
        clipboard,
        "--channel",
        "phone",
    ]);
    env.ok(&[
        "purchase",
        "add",
        "eve@example.com",
        "10",
        "--description",
        "line one\nline two\u{1b}[1A",
    ]);
    let show = env.ok(&["customer", "show", "eve@example.com"]);
    assert_no_raw_controls("customer show", &show);
    assert!(show.contains("\\x1b]52;c;"), "shown escaped: {show}");
    let list = env.ok(&["purchase", "list"]);
    assert_no_raw_controls("purchase list", &list);
    assert!(
        list.contains("line one\\nline two\\x1b[1A"),
        "a cell stays on one line: {list}"
    );
    // JSON keeps the text exactly; serde_json escapes the controls.
    let json = env.ok(&["--json", "customer", "show", "eve@example.com"]);
    assert_no_raw_controls("JSON", &json);
    assert!(json.contains("\\u001b[2J"), "{json}");
}

#[test]
fn errors_that_quote_input_escape_its_controls() {
    let env = Env::new();
    env.init();
    let err = env.fails(&["customer", "show", "x\u{1b}]52;c;aGk=\u{7}"], 1);
    assert_no_raw_controls("error", &err);
    assert!(err.contains("\\x1b]52"), "{err}");
    // A usage error quoting the argument.
    let err = env.fails(&["customer", "list", "--limit", "\u{1b}[2J9"], 2);
    assert_no_raw_controls("usage error", &err);
}

#[test]
fn a_cause_is_not_repeated_in_the_message() {
    let env = Env::new();
    std::fs::write(env.db(), b"this is not a database, just text").expect("write");
    let err = env.fails(&["customer", "list"], 1);
    for line in err.lines() {
        let parts: Vec<&str> = line.split(": ").collect();
        for (i, a) in parts.iter().enumerate() {
            for b in &parts[i + 1..] {
                assert!(a != b || a.len() < 8, "'{a}' repeats in {err}");
            }
        }
    }
}

#[test]
fn implausible_dates_are_refused_before_anything_is_written() {
    let env = Env::new();
    env.init();
    env.ok(&["customer", "add", "Ada", "--email", "a@example.com"]);
    for (args, why) in [
        (
            vec![
                "purchase",
                "add",
                "a@example.com",
                "20",
                "--at",
                "0205-03-01",
            ],
            "before 1900-01-01",
        ),
        (
            vec![
                "purchase",
                "add",
                "a@example.com",
                "20",
                "--at",
                "0000-01-01",
            ],
            "before 1900-01-01",
        ),
        (
            vec![
                "purchase",
                "add",
                "a@example.com",
                "20",
                "--at",
                "2025-06-30T23:59:60Z",
            ],
            "leap second",
        ),
        (
            vec![
                "stage",
                "set",
                "a@example.com",
                "won_back",
                "--at",
                "2205-01-01",
            ],
            "after 2199-12-31",
        ),
        (
            vec!["stage", "set", "a@example.com", "new", "--at", "2199-01-01"],
            "in the future",
        ),
        (
            vec!["churn-risk", "--as-of=+262142-12-31"],
            "after 2199-12-31",
        ),
        (vec!["report", "--from", "0001-01-01"], "before 1900-01-01"),
        (
            vec!["clv", "--calibration-end", "9999-12-31"],
            "after 2199-12-31",
        ),
    ] {
        let err = env.fails(&args, 1);
        assert!(err.contains(why), "{args:?}: {err}");
    }
    assert_eq!(env.count("purchases"), 0);
    let shown = env.json(&["customer", "show", "a@example.com"]);
    assert_eq!(shown["customer"]["stage"], "prospect", "{shown}");
    // Historic records are fine.
    env.ok(&[
        "purchase",
        "add",
        "a@example.com",
        "20",
        "--at",
        "1990-05-01",
    ]);
    env.ok(&["report"]);
    env.ok(&["cohort"]);
}

#[test]
fn clv_bounds_its_horizon_and_rates_with_a_message() {
    let env = Env::new();
    env.init();
    let err = env.fails(
        &[
            "clv",
            "--calibration-end",
            "2026-01-01",
            "--horizon-months",
            "4294967295",
        ],
        2,
    );
    assert!(err.contains("1..=1200"), "{err}");
    for (flag, value) in [
        ("--predict", "1e300"),
        ("--predict", "NaN"),
        ("--predict", "0"),
        ("--discount-monthly", "-1"),
        ("--margin", "2"),
    ] {
        let arg = format!("{flag}={value}");
        let err = env.fails(&["clv", "--calibration-end", "2026-01-01", &arg], 1);
        assert!(err.contains(flag), "{flag} {value}: {err}");
    }
}

#[test]
fn an_interrupted_demo_leaves_nothing_and_can_be_run_again() {
    let env = Env::new();
    let mut child = env
        .command(&["demo", "--customers", "200000"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("the binary runs");
    // Let it write for a while, then kill it as a power cut or Ctrl-\ would.
    std::thread::sleep(std::time::Duration::from_millis(1500));
    child.kill().expect("kill");
    let _ = child.wait();
    assert!(
        !env.db().exists(),
        "an interrupted demo left a half-built database"
    );
    let out = env.ok(&["demo", "--customers", "30"]);
    assert!(out.contains("solocrm dashboard"), "{out}");
    assert!(env.count("customers") > 0);
    let leftovers: Vec<_> = std::fs::read_dir(env.dir.path())
        .expect("read dir")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".solocrm-demo-"))
        .collect();
    // The killed run's work directory may remain (nothing can clean up after SIGKILL),
    // but the finished run removed its own.
    assert!(leftovers.len() <= 1, "{leftovers:?}");
}

#[test]
fn one_customer_that_cannot_move_does_not_stop_the_others() {
    let env = Env::new();
    env.init();
    for (name, email) in [
        ("Ada", "ada@example.com"),
        ("Bob", "bob@example.com"),
        ("Cy", "cy@example.com"),
    ] {
        env.ok(&[
            "customer",
            "add",
            name,
            "--email",
            email,
            "--at",
            "2026-01-02",
        ]);
        env.ok(&["purchase", "add", email, "30", "--at", "2026-01-05"]);
    }
    // A stage history dated far after today, as an old file or a library user may hold.
    {
        let store = Crm::new(SqliteStore::open(env.db()).expect("open"));
        let bob = store
            .customer_by_email(&solocrm_core::Email::parse("bob@example.com").expect("email"))
            .expect("query")
            .expect("bob");
        store
            .change_stage(
                bob.id(),
                LifecycleStage::Active,
                Utc.with_ymd_and_hms(2199, 1, 1, 0, 0, 0).unwrap(),
                StageReason::Manual { note: None },
            )
            .expect("a future-dated move");
    }
    // Each purchase made its buyer new; half a year of silence later the catch-up
    // moves Ada and Cy to at risk, whatever Bob's history holds.
    let out = env.run(&["stage", "reassess", "--as-of", "2026-08-01", "--apply"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    for email in ["ada@example.com", "cy@example.com"] {
        let shown = env.json(&["customer", "show", email]);
        assert_eq!(
            shown["customer"]["stage"], "at_risk",
            "{email} was not moved: {stdout} {stderr}"
        );
    }
    if !out.status.success() {
        assert!(stdout.contains("NOT MOVED"), "{stdout}");
        assert!(stderr.contains("could not be recorded"), "{stderr}");
    }
}

/// A purchases import reading from a pipe that the test keeps open: the import holds
/// its write transaction for as long as the file keeps coming, like a long import.
#[cfg(unix)]
#[test]
fn a_long_import_blocks_no_reader_and_a_second_writer_is_told_why() {
    use std::io::Write as _;
    use std::time::{Duration, Instant};

    let env = Env::new();
    env.init();
    env.ok(&["customer", "add", "Ada", "--email", "ada@example.com"]);
    let fifo = env.path("purchases.csv");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo runs");
    assert!(made.success());
    let import = env
        .command(&["import", "purchases"])
        .arg(&fifo)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the binary runs");
    let mut feed = std::fs::OpenOptions::new()
        .write(true)
        .open(&fifo)
        .expect("open the pipe");
    // More rows than one part (8,192), so the first part is written while the rest of
    // the file has not arrived yet.
    const ROWS: usize = 9_000;
    writeln!(feed, "customer,date,amount").expect("write");
    for i in 0..ROWS {
        writeln!(
            feed,
            "ada@example.com,2026-01-{:02}T10:00:00Z,10.00",
            1 + i % 28
        )
        .expect("write");
    }
    feed.flush().expect("flush");
    // Give the import time to open the database and start its transaction.
    std::thread::sleep(Duration::from_millis(700));

    let started = Instant::now();
    let list = env.ok(&["customer", "list"]);
    assert!(list.contains("Ada"), "{list}");
    env.ok(&["report"]);
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "readers waited for the import: {:?}",
        started.elapsed()
    );
    let err = env.fails(
        &[
            "--busy-timeout",
            "1",
            "customer",
            "add",
            "Bob",
            "--email",
            "bob@example.com",
        ],
        1,
    );
    assert!(err.contains("busy"), "{err}");
    assert!(!err.contains("database is locked"), "{err}");

    drop(feed);
    let done = import.wait_with_output().expect("the import ends");
    assert!(
        done.status.success(),
        "{} {}",
        String::from_utf8_lossy(&done.stdout),
        String::from_utf8_lossy(&done.stderr)
    );
    assert_eq!(env.count("purchases"), ROWS);
    assert_eq!(
        env.count("customers"),
        1,
        "the refused writer wrote nothing"
    );
}

/// True if `needle` occurs in the file at `path` (false if there is no such file).
fn file_holds(path: &std::path::Path, needle: &[u8]) -> bool {
    std::fs::read(path).is_ok_and(|bytes| bytes.windows(needle.len()).any(|w| w == needle))
}

#[test]
fn an_erase_held_up_by_a_reader_warns_and_checkpoint_finishes_the_scrub() {
    let env = Env::new();
    env.init();
    let name = "Zelda Quintessa Unique";
    env.ok(&["customer", "add", name, "--email", "zelda@example.com"]);
    let mut wal = env.db().into_os_string();
    wal.push("-wal");
    let wal = std::path::PathBuf::from(wal);

    let reader = rusqlite::Connection::open(env.db()).expect("open a reader");
    reader.execute_batch("BEGIN").expect("begin");
    let n: i64 = reader
        .query_row("SELECT count(*) FROM customers", [], |r| r.get(0))
        .expect("read");
    assert_eq!(n, 1);

    let out = env.run(&[
        "--busy-timeout",
        "1",
        "customer",
        "erase",
        "zelda@example.com",
        "--yes",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("solocrm: warning:"), "{stderr}");
    assert!(stderr.contains("solocrm checkpoint"), "{stderr}");
    assert!(
        file_holds(&env.db(), name.as_bytes()) || file_holds(&wal, name.as_bytes()),
        "the reader's snapshot keeps the old page somewhere; the warning was right"
    );
    let err = env.fails(&["--busy-timeout", "1", "checkpoint"], 1);
    assert!(err.contains("read transaction"), "{err}");

    reader.execute_batch("COMMIT").expect("end the read");
    drop(reader);
    let out = env.ok(&["checkpoint"]);
    assert!(out.contains("folded"), "{out}");
    assert!(!file_holds(&env.db(), name.as_bytes()), "name in the file");
    assert!(!file_holds(&wal, name.as_bytes()), "name in the log");
    let out = env.ok(&["check"]);
    assert!(out.contains("ok"), "{out}");
}

#[test]
fn check_reports_a_damaged_file() {
    let env = Env::new();
    env.ok(&["demo", "--customers", "40"]);
    assert!(env.ok(&["check"]).contains("integrity and foreign keys ok"));
    // Damage whole pages in the middle of the file, page headers included (not the
    // file header: it stays a database). Whichever tables live there, a b-tree page
    // with a garbage header is something the check must see.
    let mut bytes = std::fs::read(env.db()).expect("read");
    let page = 4096;
    let start = (bytes.len() / 2) / page * page;
    let end = (start + 4 * page).min(bytes.len());
    for b in &mut bytes[start..end] {
        *b = 0x5a;
    }
    std::fs::write(env.db(), &bytes).expect("write");
    let out = env.run(&["check"]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
}

#[test]
fn db_is_always_a_path_never_an_sqlite_uri() {
    let env = Env::new();
    let run = |db: &str, args: &[&str]| {
        common::command_on(db, args)
            .current_dir(env.dir.path())
            .output()
            .expect("the binary runs")
    };
    assert!(run("real.db", &["init"]).status.success());
    assert!(
        run("real.db", &["customer", "add", "Real"])
            .status
            .success()
    );
    // As a URI this would name real.db; as a path it names a file of its own.
    let out = run("file:real.db", &["customer", "list"]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("no database at file:real.db"));
    assert!(run("file:real.db?mode=memory", &["init"]).status.success());
    assert!(env.path("file:real.db?mode=memory").exists());
    let out = run("file:real.db?mode=memory", &["customer", "list"]);
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains("Real"),
        "opened real.db through a URI"
    );
}

#[test]
fn no_command_writes_its_output_into_the_database() {
    let env = Env::new();
    env.ok(&["demo", "--customers", "20"]);
    let before = std::fs::read(env.db()).expect("read");
    for args in [&["report"][..], &["customer", "list"], &["--json", "rfm"]] {
        let sink = std::fs::OpenOptions::new()
            .append(true)
            .open(env.db())
            .expect("open the database for appending");
        let out = env
            .command(args)
            .stdout(sink)
            .output()
            .expect("the binary runs");
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("standard output is the database itself"),
            "{err}"
        );
    }
    assert_eq!(std::fs::read(env.db()).expect("read"), before);
    assert!(env.ok(&["check"]).contains("ok"));
}

#[test]
fn a_json_export_keeps_text_exact_and_escapes_what_a_terminal_obeys() {
    let env = Env::new();
    env.init();
    env.ok(&["customer", "add", "Ada", "--email", "ada@example.com"]);
    let description = "gift\u{9b}2J \u{202e}txt.exe \u{7f}";
    env.ok(&[
        "purchase",
        "add",
        "ada@example.com",
        "10",
        "--description",
        description,
    ]);
    let out = env.ok(&["export", "purchases", "--format", "json"]);
    assert_no_raw_controls("JSON export", &out);
    assert!(
        !out.contains('\u{202e}') && !out.contains('\u{7f}'),
        "{out}"
    );
    let rows: serde_json::Value = serde_json::from_str(&out).expect("valid JSON");
    assert_eq!(rows[0]["description"], description);
}

#[test]
fn deep_segments_are_refused_and_an_unreadable_one_breaks_nothing() {
    let env = Env::new();
    env.init();
    env.ok(&["segment", "add", "vips", "tag = vip"]);
    // Too deep to save, and far too deep to overflow anything.
    let deep_not = format!("{}stage = active", "not ".repeat(127));
    let parens = format!("{}tag = vip{}", "(".repeat(20_000), ")".repeat(20_000));
    for expr in [&deep_not, &parens] {
        let err = env.fails(&["segment", "add", "deep", expr], 1);
        assert!(err.contains("deep"), "{err}");
    }
    // A row an older version saved.
    let deep_json = format!(
        "{}{{\"stage\":\"active\"}}{}",
        "{\"not\":".repeat(127),
        "}".repeat(127)
    );
    let conn = rusqlite::Connection::open(env.db()).expect("open");
    conn.execute(
        "INSERT INTO segments (name, predicate) VALUES ('old deep', ?1)",
        [deep_json.as_str()],
    )
    .expect("an old row");
    drop(conn);
    let out = env.run(&["segment", "list"]);
    assert!(out.status.success(), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("vips"));
    let warned = String::from_utf8_lossy(&out.stderr);
    assert!(
        warned.contains("segment 'old deep' cannot be read"),
        "{warned}"
    );
    let err = env.fails(&["segment", "show", "old deep"], 1);
    assert!(err.contains("segment delete"), "{err}");
    env.ok(&["segment", "delete", "old deep"]);
    let out = env.run(&["segment", "list"]);
    assert!(out.stderr.is_empty(), "{out:?}");
}

#[test]
fn a_line_break_or_an_invisible_character_cannot_fake_or_hide_output() {
    let env = Env::new();
    env.init();
    // A line break in a value quoted by an error would print a line of its own.
    let err = env.fails(
        &[
            "purchase",
            "list",
            "--customer",
            "x\nimported 500 purchases",
        ],
        1,
    );
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("x\\nimported"), "{err}");
    let bad = env.write(
        "nl.csv",
        b"customer,date,amount\n#1,2025-01-01,\"1\nimported 500 purchases\"\n",
    );
    let err = env.fails(&["import", "purchases", bad.to_str().expect("utf-8")], 1);
    assert_eq!(err.lines().count(), 1, "{err}");
    // Characters that show as nothing are shown as escapes.
    env.ok(&[
        "customer",
        "add",
        "Ada\u{200b}\u{202e}\u{feff}",
        "--email",
        "a@example.com",
    ]);
    let list = env.ok(&["customer", "list"]);
    assert!(list.contains("Ada\\u{200b}\\u{202e}\\u{feff}"), "{list}");
    let json = env.ok(&["--json", "customer", "list"]);
    assert!(json.contains("Ada\\u200b\\u202e\\ufeff"), "{json}");
    let back: serde_json::Value = serde_json::from_str(&json).expect("valid JSON");
    assert_eq!(
        back["items"][0]["name"], "Ada\u{200b}\u{202e}\u{feff}",
        "JSON keeps the text exact"
    );
}

#[test]
fn a_database_named_like_a_side_file_is_refused() {
    let env = Env::new();
    env.init();
    for suffix in ["-wal", "-shm", "-journal"] {
        let mut name = env.db().into_os_string();
        name.push(suffix);
        let out = common::command_on(&name, &["init"])
            .output()
            .expect("the binary runs");
        assert_eq!(out.status.code(), Some(1), "{suffix}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("side file"));
        assert!(!std::path::Path::new(&name).exists(), "{suffix} created");
    }
}

#[test]
fn clv_values_customers_over_long_horizons_within_its_bounds() {
    let env = Env::new();
    env.ok(&["demo", "--customers", "300", "--end", "2025-12-31"]);
    for args in [
        &["--horizon-months", "480"][..],
        &["--model", "mbg-nbd", "--horizon-months", "480"],
        &["--predict", "5217"],
    ] {
        let mut all = vec!["--json", "clv", "--calibration-end", "2025-06-30"];
        all.extend_from_slice(args);
        let v: serde_json::Value = serde_json::from_str(&env.ok(&all)).expect("JSON");
        let predictions = v["predictions"].as_array().expect("predictions");
        assert!(!predictions.is_empty(), "{args:?}");
        assert!(
            predictions
                .iter()
                .all(|p| p["expected_purchases"].as_f64().is_some_and(f64::is_finite)),
            "{args:?}"
        );
    }
    let err = env.fails(
        &[
            "clv",
            "--calibration-end",
            "2025-06-30",
            "--predict",
            "5218",
        ],
        1,
    );
    assert!(err.contains("at most 5217 units"), "{err}");
}

#[cfg(unix)]
#[test]
fn an_endless_or_huge_record_is_refused_in_bounded_memory() {
    let env = Env::new();
    env.init();
    for what in ["customers", "purchases", "surveys"] {
        let err = env.fails(&["import", what, "/dev/zero"], 1);
        assert!(err.contains("runs past 32 MiB"), "{what}: {err}");
    }
    let mut open_quote = b"name,email\nAda,\"".to_vec();
    open_quote.resize(open_quote.len() + 33 * 1024 * 1024, b'x');
    let file = env.write("huge.csv", &open_quote);
    let err = env.fails(&["import", "customers", file.to_str().expect("utf-8")], 1);
    assert!(err.contains("runs past 32 MiB"), "{err}");
    assert_eq!(env.count("customers"), 0);
}

#[test]
fn the_remaining_reproductions_of_the_issue_hold_at_the_command_line() {
    let env = Env::new();
    // Currencies: only real ISO 4217 codes; RMB points at CNY.
    for (code, why) in [
        ("BTC", "BTC"),
        ("XXX", "XXX"),
        ("XYZ", "XYZ"),
        ("RMB", "CNY"),
    ] {
        let err = env.fails(&["init", "--currency", code], 1);
        assert!(err.contains(why), "{code}: {err}");
        assert!(!env.db().exists());
    }
    env.ok(&["init", "--currency", "CNY"]);
    env.ok(&["customer", "add", "李雷", "--email", "li@example.com"]);
    // An amount no metric could sum is refused; the books stay readable.
    let err = env.fails(
        &["purchase", "add", "li@example.com", "92233720368547758.07"],
        1,
    );
    assert!(err.contains("amount"), "{err}");
    env.ok(&["purchase", "add", "li@example.com", "999999999999.99"]);
    env.ok(&["purchase", "add", "li@example.com", "999999999999.99"]);
    env.ok(&["report"]);
    env.ok(&["rfm"]);
    // The same email in NFC and NFD is one customer.
    env.ok(&[
        "customer",
        "add",
        "José",
        "--email",
        "jos\u{e9}@example.com",
    ]);
    let err = env.fails(
        &[
            "customer",
            "add",
            "José 2",
            "--email",
            "jose\u{301}@example.com",
        ],
        1,
    );
    assert!(err.contains("email"), "{err}");
    // Points at the largest balance: the real reason, not "cannot take away -1".
    env.ok(&["points", "earn", "li@example.com", &i64::MAX.to_string()]);
    let err = env.fails(&["points", "earn", "li@example.com", "1"], 1);
    assert!(err.contains("maximum"), "{err}");
    assert!(!err.contains("-1"), "{err}");
    // No personal text onto an erased customer.
    env.ok(&["customer", "erase", "li@example.com", "--yes"]);
    let err = env.fails(
        &["stage", "set", "#1", "new", "--reason", "李雷 called again"],
        1,
    );
    assert!(err.contains("erased"), "{err}");
    let show = env.ok(&["--json", "customer", "export", "#1"]);
    assert!(!show.contains("李雷"), "{show}");
}
