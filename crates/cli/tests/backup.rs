//! `solocrm backup FILE` and `solocrm check`: the copy is the same books, an existing
//! file is never replaced by accident, a write in progress in another program neither
//! blocks the backup nor leaks into it, and `check` tells good books from broken ones.

mod common;

use common::{Env, run_on};

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn a_backup_lists_the_same_customers_as_the_original() {
    let env = Env::new();
    env.ok(&["demo", "--customers", "30"]);
    let backup = env.path("backup.db");
    let file = backup.to_str().expect("utf-8");
    let out = env.ok(&["backup", file]);
    assert!(out.contains(file), "{out}");
    assert!(out.contains("30 customers"), "{out}");

    let list = |db: &std::path::Path| {
        let out = run_on(db, &["--json", "customer", "list", "--limit", "1000"]);
        assert!(out.status.success(), "{}", stderr(&out));
        serde_json::from_slice::<serde_json::Value>(&out.stdout).expect("json")
    };
    assert_eq!(list(&backup), list(&env.db()));
    let check = run_on(&backup, &["check"]);
    assert!(check.status.success(), "{}", stderr(&check));

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&backup)
            .expect("exists")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}

#[test]
fn backup_json_reports_the_file_and_what_it_holds() {
    let env = Env::new();
    env.ok(&["demo", "--customers", "12"]);
    let file = env.path("b.db");
    let json = env.json(&["backup", file.to_str().expect("utf-8")]);
    assert_eq!(json["customers"], 12);
    assert_eq!(
        json["purchases"].as_u64(),
        Some(env.count("purchases") as u64)
    );
    assert_eq!(
        json["bytes"].as_u64(),
        Some(std::fs::metadata(&file).expect("exists").len())
    );
    assert_eq!(json["backup"], file.to_str().expect("utf-8"));
}

#[test]
fn an_existing_file_is_refused_and_left_untouched_unless_forced() {
    let env = Env::new();
    env.ok(&["demo", "--customers", "5"]);
    let target = env.write("keep.db", b"not yours");
    let file = target.to_str().expect("utf-8");
    let err = env.fails(&["backup", file], 1);
    assert!(err.contains("already exists"), "{err}");
    assert_eq!(std::fs::read(&target).expect("read"), b"not yours");
    let stray: Vec<_> = std::fs::read_dir(env.dir.path())
        .expect("dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(stray.is_empty(), "{stray:?}");

    env.ok(&["backup", file, "--force"]);
    let out = run_on(&target, &["check"]);
    assert!(out.status.success(), "{}", stderr(&out));

    // Never the database itself, forced or not.
    let own = env.db();
    let err = env.fails(&["backup", own.to_str().expect("utf-8"), "--force"], 1);
    assert!(err.contains("database itself"), "{err}");
    assert!(env.ok(&["check"]).contains("ok"));
}

/// Another program in the middle of a write (its transaction open, rows written) does
/// not hold the backup up, and the backup holds none of that write.
#[test]
fn a_backup_runs_beside_a_write_in_progress_and_leaves_it_out() {
    let env = Env::new();
    env.ok(&["demo", "--customers", "8"]);
    let writer = rusqlite::Connection::open(env.db()).expect("another program");
    writer
        .execute_batch(
            "BEGIN IMMEDIATE;
             INSERT INTO customers (name, notes, created_at, created_at_ns, stage)
             VALUES ('Half Written', '', 0, 0, 'prospect');",
        )
        .expect("a write in progress");
    let file = env.path("during.db");
    let json = env.json(&[
        "--busy-timeout",
        "2",
        "backup",
        file.to_str().expect("utf-8"),
    ]);
    assert_eq!(json["customers"], 8, "the uncommitted customer stays out");
    writer.execute_batch("COMMIT").expect("the write ends");
    drop(writer);
    let out = run_on(&file, &["check"]);
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn check_passes_good_books_and_fails_broken_invariants() {
    let env = Env::new();
    env.ok(&["demo", "--customers", "20"]);
    let out = env.ok(&["check"]);
    assert!(out.contains("the books' own rules hold"), "{out}");

    // A customer's stage changed by hand, against their stage history.
    let conn = rusqlite::Connection::open(env.db()).expect("raw");
    let changed = conn
        .execute(
            "UPDATE customers SET stage = CASE stage WHEN 'churned' THEN 'loyal' ELSE 'churned' END
             WHERE id = (SELECT customer_id FROM stage_changes ORDER BY id LIMIT 1)",
            [],
        )
        .expect("changed by hand");
    assert_eq!(changed, 1);
    drop(conn);
    let out = env.run(&["check"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let printed = String::from_utf8_lossy(&out.stdout);
    assert!(printed.contains("but their last stage change"), "{printed}");
    let json = env.run(&["--json", "check"]);
    assert_eq!(json.status.code(), Some(1));
    let body: serde_json::Value = serde_json::from_slice(&json.stdout).expect("json");
    assert_eq!(body["problems"].as_array().map(Vec::len), Some(1), "{body}");
}
