//! The harness's contract with CI: without `SOLOCRM_TEST_PG_URL` a test prints that it
//! skipped and passes; with `SOLOCRM_REQUIRE_PG=1` a missing variable or an
//! unreachable server fails it. Checked by running this test binary again with the
//! environment changed.

mod common;

use std::process::Command;

/// What the other test runs: asks for a server and, if it gets one, uses it.
#[test]
fn probe() {
    if let Some(pg) = common::server() {
        drop(pg.store());
    }
}

/// Runs `probe` alone with `env` set (and the test URL removed unless given).
fn run_probe(env: &[(&str, &str)]) -> (bool, String) {
    let exe = std::env::current_exe().expect("this test binary");
    let mut cmd = Command::new(exe);
    cmd.args(["--exact", "probe", "--nocapture", "--test-threads", "1"])
        .env_remove("SOLOCRM_TEST_PG_URL")
        .env_remove("SOLOCRM_REQUIRE_PG");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("the probe runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[test]
fn without_a_server_the_tests_skip_unless_one_is_required() {
    let (ok, text) = run_probe(&[]);
    assert!(ok, "{text}");
    assert!(text.contains("skipped: set SOLOCRM_TEST_PG_URL"), "{text}");

    let (ok, text) = run_probe(&[("SOLOCRM_REQUIRE_PG", "1")]);
    assert!(!ok, "{text}");
    assert!(text.contains("SOLOCRM_TEST_PG_URL is not set"), "{text}");

    // Nothing listens on port 1 of the loopback address.
    let nowhere = "postgres://nobody@127.0.0.1:1/none?connect_timeout=2";
    let (ok, text) = run_probe(&[("SOLOCRM_TEST_PG_URL", nowhere)]);
    assert!(ok, "{text}");
    assert!(text.contains("cannot be reached"), "{text}");

    let (ok, text) = run_probe(&[
        ("SOLOCRM_TEST_PG_URL", nowhere),
        ("SOLOCRM_REQUIRE_PG", "1"),
    ]);
    assert!(!ok, "{text}");
    assert!(text.contains("cannot be reached"), "{text}");
}
