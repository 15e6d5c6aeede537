//! Runs the real `solocrm` binary on temporary databases: every command's happy path,
//! the error paths (exit code, message, and that nothing was written), and the
//! export → import → export round trip.

use std::path::Path;
use std::process::Command;

mod common;

use common::Env;

fn with_customers() -> Env {
    let env = Env::new();
    env.init();
    env.ok(&[
        "customer",
        "add",
        "Ada Lovelace",
        "--email",
        "ada@example.com",
        "--reference",
        "C-1",
        "--tag",
        "vip",
        "--at",
        "2026-01-02",
    ]);
    env.ok(&[
        "customer",
        "add",
        "Bob Builder",
        "--email",
        "bob@example.com",
        "--at",
        "2026-01-03",
    ]);
    env
}

#[test]
fn init_creates_a_database_and_refuses_to_overwrite_it() {
    let env = Env::new();
    assert!(env.ok(&["init"]).contains("created"));
    assert!(env.db().exists());
    let err = env.fails(&["init"], 1);
    assert!(err.starts_with("solocrm: error: "), "{err}");
    assert!(err.contains("already exists"), "{err}");
}

#[test]
fn a_command_on_a_missing_database_says_how_to_create_one() {
    let env = Env::new();
    let err = env.fails(&["customer", "list"], 1);
    assert!(err.contains("solocrm init"), "{err}");
    assert!(!env.db().exists());
}

#[test]
fn usage_errors_exit_with_2() {
    let env = Env::new();
    env.init();
    env.fails(&["customer", "frobnicate"], 2);
    env.fails(&["survey", "record", "#1", "--nps", "9", "--csat", "4"], 2);
}

#[test]
fn customers_are_added_listed_shown_edited_and_tagged() {
    let env = with_customers();
    let list = env.ok(&["customer", "list"]);
    assert!(
        list.contains("Ada Lovelace") && list.contains("Bob Builder"),
        "{list}"
    );
    let shown = env.ok(&["customer", "show", "ADA@example.com"]);
    assert!(shown.contains("Ada Lovelace (customer 1)"), "{shown}");
    assert!(
        env.ok(&["customer", "show", "C-1"])
            .contains("Ada Lovelace")
    );
    env.ok(&[
        "customer",
        "edit",
        "#2",
        "--phone",
        "+49 30 1234",
        "--city",
        "Berlin",
    ]);
    let bob = env.json(&["customer", "show", "#2"]);
    assert_eq!(bob["customer"]["phone"], "+49 30 1234");
    env.ok(&["customer", "tag", "#2", "Trade Fair", "b2b"]);
    env.ok(&["customer", "untag", "#2", "b2b"]);
    let bob = env.json(&["customer", "show", "#2"]);
    assert_eq!(bob["customer"]["tags"], serde_json::json!(["trade-fair"]));
    let vips = env.json(&["customer", "list", "--tag", "vip"]);
    assert_eq!(vips["items"].as_array().map(Vec::len), Some(1));
}

#[test]
fn a_duplicate_email_is_refused_and_nothing_is_added() {
    let env = with_customers();
    let err = env.fails(
        &["customer", "add", "Ada Again", "--email", "ADA@EXAMPLE.COM"],
        1,
    );
    assert!(err.contains("already belongs to customer 1"), "{err}");
    assert_eq!(env.count("customers"), 2);
}

#[test]
fn activity_is_recorded_through_every_command() {
    let env = with_customers();
    env.ok(&[
        "interaction",
        "log",
        "#1",
        "called about the invoice",
        "--channel",
        "phone",
        "--direction",
        "inbound",
        "--at",
        "2026-02-01",
    ]);
    env.ok(&[
        "purchase",
        "add",
        "#1",
        "49.90",
        "--at",
        "2026-02-02",
        "--reference",
        "INV-1",
    ]);
    env.ok(&[
        "survey",
        "record",
        "#1",
        "--nps",
        "10",
        "--at",
        "2026-02-03",
    ]);
    env.ok(&["survey", "record", "ada@example.com", "--csat", "5"]);
    env.ok(&[
        "request",
        "open",
        "#2",
        "late delivery",
        "--kind",
        "complaint",
        "--at",
        "2026-02-04",
    ]);
    env.ok(&["request", "respond", "1", "--at", "2026-02-05"]);
    assert!(
        env.ok(&["request", "resolve", "1", "--at", "2026-02-06"])
            .contains("resolved")
    );
    env.ok(&["deal", "add", "#2", "website", "2500", "--at", "2026-02-01"]);
    env.ok(&["deal", "move", "1", "proposal", "--at", "2026-02-03"]);
    assert!(
        env.ok(&["deal", "move", "1", "won", "--at", "2026-02-10"])
            .contains("won")
    );
    env.ok(&[
        "purchase",
        "add",
        "#2",
        "2500",
        "--deal",
        "1",
        "--at",
        "2026-02-11",
    ]);
    env.ok(&[
        "task",
        "add",
        "call Bob",
        "--due",
        "2026-03-01",
        "--customer",
        "#2",
    ]);
    env.ok(&[
        "task",
        "add",
        "monthly newsletter",
        "--due",
        "2026-01-31",
        "--kind",
        "custom",
        "--every",
        "monthly",
    ]);
    assert!(
        env.ok(&["task", "done", "2"])
            .contains("next due 2026-02-28")
    );
    env.ok(&["points", "earn", "#1", "100", "--reason", "welcome"]);
    env.ok(&["points", "redeem", "#1", "30"]);
    assert!(env.ok(&["points", "balance", "#1"]).contains("70 points"));
    env.ok(&[
        "consent",
        "grant",
        "#1",
        "marketing-email",
        "--source",
        "web form",
    ]);
    assert!(
        env.ok(&[
            "consent",
            "revoke",
            "#1",
            "marketing-email",
            "--source",
            "email"
        ])
        .contains("not granted")
    );
    assert_eq!(env.count("purchases"), 2);
}

#[test]
fn error_paths_exit_with_1_and_write_nothing() {
    let env = with_customers();
    let cases: &[(&[&str], &str)] = &[
        (
            &["purchase", "add", "#1", "10", "--at", "22.11.2026"],
            "is not a date",
        ),
        (
            &["purchase", "add", "nobody@example.com", "10"],
            "no customer with email",
        ),
        (&["purchase", "add", "#1", "-5"], "must not be negative"),
        (
            &["purchase", "add", "#1", "1,000.00"],
            "is not a decimal number",
        ),
        (
            &["survey", "record", "#1", "--nps", "11"],
            "NPS score 11 is out of range; expected 0 to 10",
        ),
        (
            &["survey", "record", "#1", "--csat", "0"],
            "CSAT score 0 is out of range",
        ),
        (
            &["points", "redeem", "#1", "5"],
            "has 0 points; cannot take away 5",
        ),
        (
            &["stage", "set", "#1", "churned"],
            "cannot move a customer from prospect to churned",
        ),
        (&["customer", "erase", "#1"], "--yes"),
    ];
    for (args, message) in cases {
        let err = env.fails(args, 1);
        assert!(err.contains(message), "{args:?}: {err}");
    }
    assert_eq!(env.count("purchases"), 0);
    assert!(
        env.json(&["customer", "show", "#1"])["surveys"]
            .as_array()
            .is_some_and(Vec::is_empty)
    );
}

#[test]
fn stages_move_by_hand_and_by_policy() {
    let env = with_customers();
    env.ok(&[
        "stage",
        "set",
        "#2",
        "lead",
        "--reason",
        "asked for a quote",
        "--at",
        "2026-01-04",
    ]);
    let stage = |key: &str| env.json(&["customer", "show", key])["customer"]["stage"].clone();
    let history = |key: &str| -> Vec<(String, String, String)> {
        env.json(&["customer", "show", key])["stage_history"]
            .as_array()
            .expect("a history")
            .iter()
            .map(|h| {
                (
                    h["to"].as_str().unwrap_or("").to_owned(),
                    h["at"].as_str().unwrap_or("").to_owned(),
                    h["reason"]["rule"].as_str().unwrap_or("manual").to_owned(),
                )
            })
            .collect()
    };
    // A prospect who buys is new at once, for the first purchase; a second purchase
    // day makes them active. Each step names its own rule.
    env.ok(&["purchase", "add", "#1", "20", "--at", "2026-01-10"]);
    assert_eq!(stage("#1"), "new");
    for day in ["2026-02-10", "2026-03-10"] {
        env.ok(&["purchase", "add", "#1", "20", "--at", day]);
    }
    assert_eq!(stage("#1"), "active");
    // Silence moves no one until a catch-up runs; the step is dated when the
    // overdue threshold passed (last purchase + 58 days + 1), not at the run.
    let dry = env.ok(&["stage", "reassess", "--as-of", "2026-08-01"]);
    assert!(dry.contains("would move"), "{dry}");
    assert_eq!(stage("#1"), "active");
    env.ok(&["stage", "reassess", "--as-of", "2026-08-01", "--apply"]);
    assert_eq!(stage("#1"), "at_risk");
    let to = |h: &[(String, String, String)]| -> Vec<String> {
        h.iter()
            .map(|(to, at, rule)| format!("{to} {} {rule}", &at[..10]))
            .collect()
    };
    assert_eq!(
        to(&history("#1")),
        [
            "new 2026-01-10 first_purchase",
            "active 2026-02-10 repeat_purchase",
            "at_risk 2026-05-08 overdue",
        ]
    );
    // The lead moved by hand stays a lead: a purchase-less customer has no policy.
    assert_eq!(stage("#2"), "lead");
    // A churned customer who buys again is won back.
    let cy = "C-3";
    env.ok(&[
        "customer",
        "add",
        "Cy Churn",
        "--reference",
        cy,
        "--at",
        "2024-05-01",
    ]);
    env.ok(&["purchase", "add", cy, "30", "--at", "2024-06-01"]);
    env.ok(&["stage", "reassess", "--as-of", "2025-08-01", "--apply"]);
    assert_eq!(stage(cy), "churned");
    env.ok(&["purchase", "add", cy, "30", "--at", "2025-09-01"]);
    assert_eq!(stage(cy), "won_back");
    // A year's silence passed the overdue mark (180 days after a single purchase)
    // first: the catch-up records the at-risk step when it arose, as daily
    // reassessments would have.
    assert_eq!(
        to(&history(cy)),
        [
            "new 2024-06-01 first_purchase",
            "at_risk 2024-11-29 overdue",
            "churned 2025-06-02 silent",
            "won_back 2025-09-01 purchase_after_churn",
        ]
    );
}

#[test]
fn care_lists_birthdays_follow_ups_and_holidays_with_reasons() {
    let env = with_customers();
    env.ok(&["customer", "edit", "#1", "--birthday", "1990-06-12"]);
    env.ok(&[
        "task",
        "add",
        "call Bob",
        "--due",
        "2026-06-10",
        "--customer",
        "#2",
        // Created before the day the care list is read as of (a view of a past day
        // does not see tasks created later).
        "--at",
        "2026-06-01",
    ]);
    let care = env.ok(&[
        "care",
        "--as-of",
        "2026-06-09",
        "--days",
        "14",
        "--holiday",
        "Midsummer=06-19",
    ]);
    assert!(care.contains("birthday (turns 36)"), "{care}");
    assert!(care.contains("follow_up: call Bob"), "{care}");
    assert!(care.contains("holiday: Midsummer"), "{care}");
}

#[test]
fn segments_parse_save_and_select_and_syntax_errors_point_at_the_column() {
    let env = with_customers();
    env.ok(&["purchase", "add", "#1", "20", "--at", "2026-01-10"]);
    env.ok(&[
        "segment",
        "add",
        "lapsed-vips",
        "tag = vip and days_since_purchase > 60",
    ]);
    let shown = env.ok(&["segment", "show", "lapsed-vips", "--as-of", "2026-05-01"]);
    assert!(
        shown.contains("Ada Lovelace") && shown.contains("1 customer as of"),
        "{shown}"
    );
    let listed = env.json(&[
        "customer",
        "list",
        "--segment",
        "lapsed-vips",
        "--as-of",
        "2026-01-20",
    ]);
    assert_eq!(listed["items"].as_array().map(Vec::len), Some(0));
    let err = env.fails(&["segment", "add", "bad", "stage = activ"], 1);
    assert!(err.contains("column 9"), "{err}");
}

#[test]
fn erase_removes_personal_data_and_export_shows_it() {
    let env = with_customers();
    env.ok(&["purchase", "add", "#1", "20", "--description", "blue scarf"]);
    env.ok(&["customer", "erase", "#1", "--yes"]);
    let export = env.json(&["customer", "export", "#1"]);
    assert_eq!(export["customer"]["name"], "erased customer 1");
    assert!(export["customer"]["email"].is_null());
    assert_eq!(export["purchases"][0]["amount"]["amount"], "20.00");
    assert!(export["purchases"][0]["description"].is_null());
}

const PURCHASES_CSV: &str = "Customer,Date,Amount,Reference\nC-1,2026-01-05,19.99,INV-1\nbob@example.com,2026-01-06T10:30:00Z,5,INV-2\n";

#[test]
fn purchases_import_matches_columns_by_name_in_any_order() {
    let env = with_customers();
    let file = env.write("p.csv", b"amount,CUSTOMER ,date\n10.00,C-1,2026-01-05\n");
    assert!(
        env.ok(&["import", "purchases", file.to_str().expect("utf-8 path")])
            .contains("1 purchases")
    );
    let file = env.write("p2.csv", PURCHASES_CSV.as_bytes());
    env.ok(&["import", "purchases", file.to_str().expect("utf-8 path")]);
    assert_eq!(env.count("purchases"), 3);
}

#[track_caller]
fn import_fails(env: &Env, kind: &str, name: &str, content: &[u8], message: &str) {
    let file = env.write(name, content);
    let before = env.count("purchases");
    let customers = env.count("customers");
    let err = env.fails(&["import", kind, file.to_str().expect("utf-8 path")], 1);
    assert!(err.contains(message), "{name}: {err}");
    assert_eq!(
        env.count("purchases"),
        before,
        "{name}: purchases were written"
    );
    assert_eq!(
        env.count("customers"),
        customers,
        "{name}: customers were written"
    );
}

#[test]
fn malformed_csv_is_refused_with_file_line_and_column_and_nothing_is_written() {
    let env = with_customers();
    import_fails(
        &env,
        "purchases",
        "count.csv",
        b"customer,date,amount\nC-1,2026-01-05,1\nC-1,2026-01-06\n",
        "count.csv:3: this row has 2 fields but the header has 3",
    );
    import_fails(
        &env,
        "purchases",
        "number.csv",
        b"customer,date,amount\nC-1,2026-01-05,1\nC-1,2026-01-06,12,50\n",
        "number.csv:3:",
    );
    import_fails(
        &env,
        "purchases",
        "amount.csv",
        b"customer,date,amount\nC-1,2026-01-05,1\nC-1,2026-01-06,abc\n",
        "amount.csv:3: column 'amount': amount 'abc' is not a decimal number",
    );
    import_fails(
        &env,
        "purchases",
        "utf8.csv",
        b"customer,date,amount\nC-1,2026-01-05,1\n\xff\xfe,2026-01-06,1\n",
        "not valid UTF-8",
    );
    import_fails(&env, "purchases", "empty.csv", b"", "the file is empty");
    import_fails(
        &env,
        "purchases",
        "unknown.csv",
        b"customer,date,amount,colour\nC-1,2026-01-05,1,red\n",
        "unknown column 'colour'",
    );
    import_fails(
        &env,
        "purchases",
        "missing.csv",
        b"customer,date\nC-1,2026-01-05\n",
        "the required column 'amount' is missing",
    );
    import_fails(
        &env,
        "purchases",
        "who.csv",
        b"customer,date,amount\nC-1,2026-01-05,1\nC-9,2026-01-05,1\n",
        "who.csv:3: column 'customer': no customer with reference 'C-9'",
    );
    import_fails(
        &env,
        "purchases",
        "dup.csv",
        b"customer,date,amount,reference\nC-1,2026-01-05,1,X\nC-1,2026-01-05,1,X\n",
        "dup.csv:3: column 'reference'",
    );
    import_fails(
        &env,
        "purchases",
        "date.csv",
        b"customer,date,amount\nC-1,05/01/2026,1\n",
        "date.csv:2: column 'date'",
    );
    import_fails(
        &env,
        "surveys",
        "score.csv",
        b"customer,date,kind,score\nC-1,2026-01-05,nps,11\n",
        "score.csv:2: column 'score': NPS score 11 is out of range",
    );
}

/// A purchases file of `rows` rows for the customers of [`with_customers`], with
/// references `R-<line>`; `edit` may change the row on a line.
fn big_purchases(rows: usize, edit: impl Fn(usize, String) -> String) -> Vec<u8> {
    let mut text = String::from("customer,date,amount,reference\n");
    for line in 2..rows + 2 {
        let who = if line % 2 == 0 {
            "C-1"
        } else {
            "ada@example.com"
        };
        let row = format!(
            "{who},2026-01-05T10:00:00Z,{}.{:02},R-{line}",
            line % 97,
            line % 100
        );
        text.push_str(&edit(line, row));
        text.push('\n');
    }
    text.into_bytes()
}

/// Imports bigger than one part (they stream in parts of 8 192 rows) still stop at
/// the first bad row, name its line, and write nothing: a row the reader refuses late
/// in the file, and a row the store refuses in a later part. With --skip-invalid the
/// store's refusal is set aside, and new customers are created once across parts.
#[test]
fn a_big_import_streams_in_parts_and_a_late_failure_writes_nothing() {
    let env = with_customers();
    let seed = env.write(
        "seed.csv",
        b"customer,date,amount,reference\nC-1,2026-01-01,1,OLD-1\n",
    );
    env.ok(&["import", "purchases", seed.to_str().expect("utf-8")]);
    let late_amount = big_purchases(20_000, |line, row| {
        if line == 15_000 {
            "C-1,2026-01-05,12.345,X".to_owned()
        } else {
            row
        }
    });
    import_fails(
        &env,
        "purchases",
        "amount.csv",
        &late_amount,
        "amount.csv:15000: column 'amount'",
    );
    let stored_ref = |line: usize, row: String| {
        if line == 19_001 {
            "C-1,2026-01-05,1,OLD-1".to_owned()
        } else {
            row
        }
    };
    import_fails(
        &env,
        "purchases",
        "stored.csv",
        &big_purchases(20_000, stored_ref),
        "stored.csv:19001: column 'reference'",
    );
    // In one part, a row the store refuses and a later row the reader refuses: the
    // first is reported.
    let both = big_purchases(20_000, |line, row| match line {
        9_000 => "C-1,2026-01-05,1,OLD-1".to_owned(),
        9_500 => "C-1,not a date,1,Y".to_owned(),
        _ => row,
    });
    import_fails(
        &env,
        "purchases",
        "first.csv",
        &both,
        "first.csv:9000: column 'reference'",
    );
    let file = env.write("skip.csv", &big_purchases(20_000, stored_ref));
    let rejects = env.path("rejects.csv");
    let out = env.ok(&[
        "import",
        "purchases",
        file.to_str().expect("utf-8"),
        "--skip-invalid",
        "--rejects",
        rejects.to_str().expect("utf-8"),
    ]);
    assert!(
        out.contains("19999 purchases") && out.contains("1 rejected"),
        "{out}"
    );
    let text = std::fs::read_to_string(&rejects).expect("rejects written");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(
        lines[1].starts_with("C-1,2026-01-05,1,OLD-1,") && lines[1].contains("line 19001"),
        "{text}"
    );
    assert_eq!(env.count("purchases"), 20_000);
    // The same file again: every row's reference is stored, so every row is rejected
    // while reading (not one more run of the import per row).
    let out = env.ok(&[
        "import",
        "purchases",
        file.to_str().expect("utf-8"),
        "--skip-invalid",
        "--rejects",
        rejects.to_str().expect("utf-8"),
    ]);
    assert!(
        out.contains("0 purchases") && out.contains("20000 rejected"),
        "{out}"
    );
    let text = std::fs::read_to_string(&rejects).expect("rejects written");
    assert!(
        text.lines()
            .nth(1)
            .is_some_and(|l| l.contains("line 2: column 'reference'")),
        "{}",
        text.lines().take(3).collect::<Vec<_>>().join("\n")
    );
    assert_eq!(env.count("purchases"), 20_000);
    let new_twice = big_purchases(20_000, |line, row| match line {
        2 | 18_000 => format!("NEW-1,2026-01-05,1,N-{line}"),
        _ => row.replace("R-", "S-"),
    });
    let file = env.write("new.csv", &new_twice);
    let out = env.ok(&[
        "import",
        "purchases",
        file.to_str().expect("utf-8"),
        "--create-missing",
    ]);
    assert!(
        out.contains("20000 purchases") && out.contains("1 new customers"),
        "{out}"
    );
    assert_eq!(env.count("customers"), 3);
}

/// An erased customer (found by id: erasure removes their email and reference) takes
/// no new purchases or survey answers; the row is refused, and with --skip-invalid
/// rejected.
#[test]
fn rows_for_an_erased_customer_are_refused() {
    let env = with_customers();
    let bob = env.json(&["customer", "show", "bob@example.com"])["customer"]["id"]
        .as_u64()
        .expect("an id");
    let bob = format!("#{bob}");
    env.ok(&["customer", "erase", &bob, "--yes"]);
    let purchases = format!("customer,date,amount\nC-1,2026-01-05,1\n{bob},2026-01-05,1\n");
    import_fails(
        &env,
        "purchases",
        "erased.csv",
        purchases.as_bytes(),
        "erased.csv:3: column 'customer': customer",
    );
    let surveys = format!("customer,date,kind,score\n{bob},2026-01-05,nps,9\n");
    import_fails(
        &env,
        "surveys",
        "erased-s.csv",
        surveys.as_bytes(),
        "erased-s.csv:2: column 'customer'",
    );
    let file = env.write("erased.csv", purchases.as_bytes());
    let rejects = env.path("rejects.csv");
    let out = env.ok(&[
        "import",
        "purchases",
        file.to_str().expect("utf-8"),
        "--skip-invalid",
        "--rejects",
        rejects.to_str().expect("utf-8"),
    ]);
    assert!(
        out.contains("1 purchases") && out.contains("1 rejected"),
        "{out}"
    );
}

#[test]
fn unknown_columns_can_be_ignored_and_missing_customers_created() {
    let env = with_customers();
    let file = env.write(
        "p.csv",
        b"customer,date,amount,colour\nNEW-7,2026-01-05,1,red\nNEW-7,2026-01-09,2,blue\n",
    );
    let path = file.to_str().expect("utf-8 path");
    env.fails(&["import", "purchases", path, "--ignore-unknown"], 1);
    let out = env.ok(&[
        "import",
        "purchases",
        path,
        "--ignore-unknown",
        "--create-missing",
    ]);
    assert!(
        out.contains("2 purchases") && out.contains("1 new customers"),
        "{out}"
    );
    assert!(env.ok(&["customer", "show", "NEW-7"]).contains("NEW-7"));
}

#[test]
fn skip_invalid_imports_the_good_rows_and_writes_rejects_with_reasons() {
    let env = with_customers();
    let file = env.write("p.csv", b"customer,date,amount,reference\nC-1,2026-01-05,1,A\nC-1,2026-01-05,-1,B\nC-1,2026-01-06,2,A\nC-1,2026-01-07,3,C\n");
    let rejects = env.path("rejects.csv");
    let out = env.ok(&[
        "import",
        "purchases",
        file.to_str().expect("utf-8"),
        "--skip-invalid",
        "--rejects",
        rejects.to_str().expect("utf-8"),
    ]);
    assert!(
        out.contains("2 purchases") && out.contains("2 rejected"),
        "{out}"
    );
    let text = std::fs::read_to_string(&rejects).expect("rejects written");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "customer,date,amount,reference,reason");
    assert!(
        lines[1].starts_with("C-1,2026-01-05,-1,B,") && lines[1].contains("line 3"),
        "{text}"
    );
    assert!(
        lines[2].starts_with("C-1,2026-01-06,2,A,") && lines[2].contains("line 4"),
        "{text}"
    );
}

#[test]
fn reimporting_customers_updates_rather_than_duplicates() {
    let env = Env::new();
    env.init();
    let file = env.write("c.csv", "name,email,tags,reference,country\nAda,ada@example.com,vip;b2b,C-1,DE\nBob,bob@example.com,,,FR\n".as_bytes());
    let path = file.to_str().expect("utf-8");
    assert!(
        env.ok(&["import", "customers", path])
            .contains("2 created, 0 updated, 0 unchanged")
    );
    assert!(
        env.ok(&["import", "customers", path])
            .contains("0 created, 0 updated, 2 unchanged")
    );
    let file = env.write(
        "c2.csv",
        "name,email,reference\nAda Lovelace,ada@example.com,C-1\nBOB,BOB@example.com,\nCleo,,C-3\n"
            .as_bytes(),
    );
    let out = env.ok(&["import", "customers", file.to_str().expect("utf-8")]);
    assert!(out.contains("1 created, 2 updated, 0 unchanged"), "{out}");
    assert_eq!(env.count("customers"), 3);
}

fn export_all(env: &Env, dir: &Path) -> Vec<(String, String)> {
    ["customers", "purchases", "surveys"]
        .iter()
        .map(|what| {
            let out = dir.join(format!("{what}.csv"));
            env.ok(&["export", what, "--out", out.to_str().expect("utf-8")]);
            (
                what.to_string(),
                std::fs::read_to_string(&out).expect("exported"),
            )
        })
        .collect()
}

#[test]
fn export_then_import_into_a_fresh_database_then_export_gives_identical_files() {
    let a = with_customers();
    a.ok(&[
        "customer",
        "edit",
        "#2",
        "--birthday",
        "2000-02-29",
        "--country",
        "fr",
        "--channel",
        "Trade Fair",
    ]);
    a.ok(&[
        "customer",
        "add",
        "Cleo \"CJ\" Fischer, Jr.",
        "--reference",
        "C-3",
        "--tag",
        "b2b",
        "--tag",
        "vip",
    ]);
    a.ok(&[
        "purchase",
        "add",
        "#1",
        "19.99",
        "--at",
        "2026-01-05T09:15:00Z",
        "--reference",
        "INV-1",
        "--description",
        "scarf, blue\nsize M",
    ]);
    a.ok(&["purchase", "add", "#2", "0", "--at", "2026-01-06"]);
    a.ok(&["purchase", "add", "C-3", "1200.50", "--at", "2026-02-01"]);
    a.ok(&[
        "survey",
        "record",
        "#1",
        "--nps",
        "9",
        "--comment",
        "great, thanks",
        "--at",
        "2026-01-07",
    ]);
    a.ok(&[
        "survey",
        "record",
        "#2",
        "--csat",
        "3",
        "--at",
        "2026-01-08",
    ]);
    let first = export_all(&a, a.dir.path());

    let b = Env::new();
    b.init();
    for (what, _) in &first {
        let file = a.dir.path().join(format!("{what}.csv"));
        b.ok(&["import", what, file.to_str().expect("utf-8")]);
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let second = export_all(&b, dir.path());
    assert_eq!(first, second);
    assert!(first[1].1.contains("INV-1"));
}

#[test]
fn json_export_has_the_csv_columns() {
    let env = with_customers();
    env.ok(&["purchase", "add", "#1", "5", "--at", "2026-01-05"]);
    let out = env.ok(&["export", "purchases", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&out).expect("valid JSON");
    assert_eq!(v[0]["customer"], "C-1");
    assert_eq!(v[0]["amount"], "5.00");
    assert_eq!(v[0]["date"], "2026-01-05T00:00:00Z");
}

#[test]
fn a_closed_pipe_ends_quietly() {
    use std::io::Read;
    use std::process::Stdio;
    let env = with_customers();
    let mut csv = String::from("customer,date,amount\n");
    for i in 0..5000 {
        csv.push_str(&format!("C-1,2026-01-05,{i}\n"));
    }
    let file = env.write("many.csv", csv.as_bytes());
    env.ok(&["import", "purchases", file.to_str().expect("utf-8")]);
    let mut child = Command::new(env!("CARGO_BIN_EXE_solocrm"))
        .arg("--db")
        .arg(env.db())
        .args(["purchase", "list"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawns");
    let mut stdout = child.stdout.take().expect("piped");
    let mut first = [0u8; 16];
    stdout.read_exact(&mut first).expect("some output");
    drop(stdout);
    let out = child.wait_with_output().expect("finishes");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn clv_prints_the_contracted_json_shape() {
    let env = Env::new();
    // Its calibration end is in the 2025 history of this fixed end.
    env.ok(&[
        "demo",
        "--customers",
        "400",
        "--seed",
        "7",
        "--end",
        "2025-12-31",
    ]);
    for (model, params) in [
        ("bg-nbd", ["r", "alpha", "a", "b"]),
        ("pareto-nbd", ["r", "alpha", "s", "beta"]),
    ] {
        let v = env.json(&[
            "clv",
            "--model",
            model,
            "--calibration-end",
            "2025-06-30",
            "--unit",
            "week",
            "--predict",
            "26",
        ]);
        assert_eq!(v["model"], model);
        assert_eq!(v["unit"], "week");
        assert_eq!(v["calibration_end"], "2025-06-30");
        // Pareto/NBD may legitimately not converge on a small sample (its likelihood can
        // peak at the boundary s, beta -> infinity); the field must still be a boolean.
        assert!(v["converged"].is_boolean());
        if model == "bg-nbd" {
            assert_eq!(v["converged"], true);
        }
        for p in params {
            assert!(
                v["params"][p].as_f64().is_some_and(|x| x > 0.0),
                "{model} {p}: {v}"
            );
        }
        assert!(v["log_likelihood"].as_f64().is_some_and(|x| x < 0.0));
        for k in ["p", "q", "gamma", "log_likelihood"] {
            assert!(v["gamma_gamma"][k].is_number(), "{k}");
        }
        for k in ["customers", "excluded"] {
            assert!(v["gamma_gamma"][k].is_u64(), "{k} is a whole number");
        }
        let rows = v["predictions"].as_array().expect("predictions");
        assert_eq!(rows.len() as u64, v["customers"].as_u64().expect("count"));
        for r in rows {
            let p_alive = r["p_alive"].as_f64().expect("p_alive");
            assert!((0.0..=1.0).contains(&p_alive));
            assert!(r["expected_purchases"].as_f64().is_some_and(|x| x >= 0.0));
            assert!(r["clv"].as_f64().is_some_and(|x| x >= 0.0));
            for k in ["customer", "frequency", "recency", "T", "monetary"] {
                assert!(!r[k].is_null(), "{k}");
            }
        }
    }
    let err = env.fails(&["clv", "--calibration-end", "2020-01-01"], 1);
    assert!(err.contains("nothing to fit"), "{err}");
}

#[test]
fn the_report_and_rfm_print_their_contracted_json() {
    let env = Env::new();
    env.ok(&[
        "demo",
        "--customers",
        "300",
        "--seed",
        "3",
        "--end",
        "2025-12-31",
    ]);
    let r = env.json(&["report", "--as-of", "2025-12-31"]);
    for k in [
        "nps",
        "csat",
        "churn_rate",
        "retention_rate",
        "repeat_purchase_rate",
        "loyalty_index",
    ] {
        let v = r[k]
            .as_f64()
            .unwrap_or_else(|| panic!("{k} is a number: {r}"));
        assert!((-100.0..=100.0).contains(&v), "{k} = {v}");
    }
    let churn = r["churn_rate"].as_f64().expect("number");
    let retention = r["retention_rate"].as_f64().expect("number");
    assert!(
        (churn + retention - 100.0).abs() < 0.011,
        "{churn} + {retention}"
    );
    let stages = r["customers_by_stage"].as_object().expect("object");
    let total: u64 = stages.values().filter_map(serde_json::Value::as_u64).sum();
    assert_eq!(total, 300);
    assert!(
        r["revenue"].as_str().is_some_and(|s| s.contains('.')),
        "money is a decimal string"
    );

    let rfm = env.json(&["rfm", "--as-of", "2025-12-31", "--ties", "ordinal"]);
    assert_eq!(rfm["as_of"], "2025-12-31");
    let rows = rfm["customers"].as_array().expect("customers");
    assert!(!rows.is_empty());
    for row in rows {
        for k in ["r", "f", "m"] {
            assert!(
                row[k].as_u64().is_some_and(|s| (1..=5).contains(&s)),
                "{k}: {row}"
            );
        }
        assert!(
            row["monetary"].is_string()
                && row["segment"].is_string()
                && row["customer"].is_string()
        );
        assert!(row["recency_days"].is_u64() && row["frequency"].is_u64());
    }
    // Ordinal ties give quintiles whose sizes differ by at most one.
    let mut sizes = [0usize; 5];
    for row in rows {
        sizes[row["r"].as_u64().expect("score") as usize - 1] += 1;
    }
    assert!(
        sizes.iter().max().expect("five") - sizes.iter().min().expect("five") <= 1,
        "{sizes:?}"
    );

    for args in [
        &["cohort", "--as-of", "2025-12-31"][..],
        &["pipeline", "--as-of", "2025-12-31"],
        &["churn-risk", "--as-of", "2025-12-31"],
    ] {
        env.json(args);
        assert!(!env.ok(args).is_empty());
    }
}

/// `solocrm export … | head -1`: the reader goes away after one line; the export stops
/// quietly with status 0, in both formats (the pipelines hand the CLI the I/O error
/// itself, so it can tell a closed pipe from a failure).
#[test]
fn an_export_into_a_closed_pipe_ends_quietly() {
    use std::io::{BufRead as _, BufReader};
    use std::process::Stdio;
    let env = Env::new();
    env.ok(&["demo", "--customers", "300", "--seed", "3"]);
    for format in ["csv", "json"] {
        let mut child = env
            .command(&["export", "purchases", "--format", format])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        let mut lines = BufReader::new(child.stdout.take().expect("stdout"));
        let mut first = String::new();
        lines.read_line(&mut first).expect("a first line");
        assert!(!first.is_empty(), "{format}");
        drop(lines);
        let out = child.wait_with_output().expect("wait");
        assert_eq!(
            out.status.code(),
            Some(0),
            "{format}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            out.stderr.is_empty(),
            "{format}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// Re-importing a customers file whose cells are empty keeps every stored field; a
/// `(clear)` cell clears one; `--dry-run` says so field by field and writes nothing.
#[test]
fn a_customers_import_merges_and_a_dry_run_writes_nothing() {
    let env = Env::new();
    env.init();
    let full = env.write_str(
        "full.csv",
        "name,email,phone,birthday,country,tags,channel,reference\n\
         张伟,zhang@example.cn,+86 138 0013 8000,1988-02-14,CN,vip;上海,wechat,C-1\n"
            .as_bytes(),
    );
    env.ok(&["import", "customers", &full]);
    let before = env.json(&["customer", "show", "C-1"])["customer"].clone();
    let sparse = env.write_str(
        "sparse.csv",
        "name,email,phone,birthday,country,tags,channel,reference\n\
         张伟,zhang@example.cn,,,,,,C-1\n"
            .as_bytes(),
    );
    let said = env.ok(&["import", "customers", &sparse]);
    assert!(said.contains("0 updated, 1 unchanged"), "{said}");
    assert_eq!(env.json(&["customer", "show", "C-1"])["customer"], before);

    let clear = env.write_str(
        "clear.csv",
        "name,phone,tags,reference,email\n张伟,(clear),(clear),C-1,\n".as_bytes(),
    );
    let plan = env.json(&["import", "customers", &clear, "--dry-run"]);
    assert_eq!(plan["dry_run"], true);
    assert_eq!(plan["plan"][0]["action"], "update");
    let changes = plan["plan"][0]["changes"].as_array().expect("changes");
    let fields: Vec<&str> = changes.iter().filter_map(|c| c["field"].as_str()).collect();
    assert_eq!(fields, ["phone", "tags"], "{plan}");
    assert_eq!(changes[0]["from"], "+86 138 0013 8000");
    assert_eq!(changes[0]["to"], "");
    let text = env.ok(&["import", "customers", &clear, "--dry-run"]);
    assert!(
        text.contains(
            "line 2: update 张伟: phone '+86 138 0013 8000' -> ''; tags 'vip;上海' -> ''"
        ),
        "{text}"
    );
    assert_eq!(
        env.json(&["customer", "show", "C-1"])["customer"],
        before,
        "a dry run writes nothing"
    );
    env.ok(&["import", "customers", &clear]);
    let after = env.json(&["customer", "show", "C-1"])["customer"].clone();
    assert_eq!(after["phone"], serde_json::Value::Null);
    assert_eq!(after["tags"], serde_json::json!([]));
    assert_eq!(after["birthday"], before["birthday"]);
    assert_eq!(after["email"], before["email"]);
}

/// Country codes come from ISO 3166-1 (with a hint for the usual mistakes), and a
/// birthday cannot lie after the day it is entered, on the command line and in a file.
#[test]
fn bad_countries_and_future_birthdays_are_refused() {
    let env = Env::new();
    env.init();
    let err = env.fails(&["customer", "add", "Q", "--country", "QQ"], 1);
    assert!(err.contains("not an assigned ISO 3166-1"), "{err}");
    let err = env.fails(&["customer", "add", "U", "--country", "uk"], 1);
    assert!(err.contains("use GB"), "{err}");
    let err = env.fails(&["customer", "add", "B", "--birthday", "2199-01-01"], 1);
    assert!(err.contains("cannot be in the future"), "{err}");
    env.ok(&[
        "customer",
        "add",
        "王芳",
        "--country",
        "cn",
        "--birthday",
        "1990-02-03",
    ]);
    let file = env.write_str(
        "c.csv",
        "name,birthday,country\n李娜,2199-05-01,CN\n".as_bytes(),
    );
    let err = env.fails(&["import", "customers", &file], 1);
    assert!(
        err.contains(":2: column 'birthday'") && err.contains("cannot be in the future"),
        "{err}"
    );
}

/// `--top N` means the same on every ranked command: the first N of its ranking, in
/// the table and in JSON; without it the table shows 20 and JSON everything.
#[test]
fn top_means_the_same_in_tables_and_json() {
    let env = Env::new();
    let demo = env.ok(&[
        "demo",
        "--customers",
        "300",
        "--seed",
        "3",
        "--end",
        "2025-12-31",
    ]);
    let asof = ["--as-of", "2025-12-31"];
    // The dashboard says the early-warning count and the at-risk stage apart.
    let report = env.json(&["report", asof[0], asof[1]]);
    let in_stage = report["customers_by_stage"]["at_risk"]
        .as_u64()
        .expect("a count");
    assert!(
        demo.contains(&format!("; {in_stage} are in the at-risk stage")),
        "{demo}"
    );
    assert!(demo.contains("show an early-warning signal"), "{demo}");
    let len = |v: &serde_json::Value| v.as_array().map_or(0, Vec::len);
    let all = env.json(&["churn-risk", asof[0], asof[1]]);
    // The dashboard's early-warning table names the customer beside the id.
    let first = all[0]["customer"].as_u64().expect("an id");
    let name = env.json(&["customer", "show", &format!("#{first}")])["customer"]["name"]
        .as_str()
        .expect("a name")
        .to_owned();
    let row = demo
        .lines()
        .find(|l| l.trim_start().starts_with(&format!("{first} ")))
        .unwrap_or_else(|| panic!("customer {first} in the warning table: {demo}"));
    assert!(row.contains(&name), "{row}");
    assert!(len(&all) > 20, "JSON has every warning: {}", len(&all));
    let three = env.json(&["churn-risk", asof[0], asof[1], "--top", "3"]);
    assert_eq!(
        three.as_array().map(|a| a.to_vec()),
        all.as_array().map(|a| a[..3].to_vec())
    );
    let table = env.ok(&["churn-risk", asof[0], asof[1]]);
    assert!(
        table.contains(&format!("20 of {} customers at risk", len(&all))),
        "{table}"
    );
    let rfm = env.json(&["rfm", asof[0], asof[1]]);
    assert!(len(&rfm["customers"]) > 20);
    let rfm2 = env.json(&["rfm", asof[0], asof[1], "--top", "2"]);
    assert_eq!(len(&rfm2["customers"]), 2);
    let first = &rfm2["customers"][0];
    let best = rfm["customers"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|c| {
            c["r"].as_u64().unwrap_or(0) * 100
                + c["f"].as_u64().unwrap_or(0) * 10
                + c["m"].as_u64().unwrap_or(0)
        })
        .max();
    let code = first["r"].as_u64().unwrap_or(0) * 100
        + first["f"].as_u64().unwrap_or(0) * 10
        + first["m"].as_u64().unwrap_or(0);
    assert_eq!(Some(code), best, "--top keeps the best first");
}

/// A list longer than 2,000 rows reads every buyer's kept summary at once; a shorter
/// one reads one summary per row: both show the same last purchase and amount spent
/// for the same customer (a voided purchase counts in neither).
#[test]
fn a_long_customer_list_shows_each_summary_as_a_short_one_does() {
    let env = Env::new();
    env.ok(&["-q", "demo", "--customers", "2100", "--end", "2025-12-31"]);
    let added = env.json(&["purchase", "add", "#1", "77.70", "--at", "2025-12-30"]);
    let id = added["id"].as_u64().expect("the purchase id").to_string();
    env.ok(&["-q", "purchase", "add", "#2", "12.34", "--at", "2025-12-31"]);
    env.ok(&["-q", "purchase", "void", &id, "--reason", "entered twice"]);
    // Column widths follow the rows shown: compare the cells.
    let cells = |text: &str, n: usize| -> Vec<String> {
        text.lines()
            .take(n + 1)
            .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
            .collect()
    };
    let long = env.ok(&["customer", "list", "--limit", "0"]);
    assert!(long.lines().count() > 2_000, "{}", long.lines().count());
    let short = env.ok(&["customer", "list", "--limit", "40"]);
    assert_eq!(cells(&long, 40), cells(&short, 40));
    assert!(
        cells(&long, 3)[2].contains("2025-12-31"),
        "customer 2's last purchase: {:?}",
        cells(&long, 3)
    );
}
