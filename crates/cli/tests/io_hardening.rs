//! Regression tests for the import and export hardening (issue 10): output paths that
//! would clobber the database or an input, strict CSV structure, `--skip-invalid` on
//! structurally bad rows, one customer-key order, and formula injection. Each runs the
//! real `solocrm` binary, as `tests/cli.rs` does.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

struct Env {
    dir: tempfile::TempDir,
}

impl Env {
    /// A fresh database in EUR with Ada (reference C-1, ada@example.com) and Bob
    /// (bob@example.com, no reference).
    fn new() -> Env {
        let env = Env {
            dir: tempfile::tempdir().expect("temp dir"),
        };
        env.ok(&["init", "--currency", "EUR"]);
        env.ok(&[
            "customer",
            "add",
            "Ada Lovelace",
            "--email",
            "ada@example.com",
            "--reference",
            "C-1",
        ]);
        env.ok(&[
            "customer",
            "add",
            "Bob Builder",
            "--email",
            "bob@example.com",
        ]);
        env
    }

    fn db(&self) -> PathBuf {
        self.path("crm.db")
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn write(&self, name: &str, content: &[u8]) -> String {
        let p = self.path(name);
        std::fs::write(&p, content).expect("write fixture");
        text(&p)
    }

    fn run(&self, args: &[&str]) -> Output {
        run_on(&self.db(), args)
    }

    #[track_caller]
    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "{args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Runs a command that must fail with exit code 1, and returns its stderr.
    #[track_caller]
    fn fails(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert_eq!(
            out.status.code(),
            Some(1),
            "{args:?}: stdout {} stderr {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stderr).into_owned()
    }

    /// How many records `list` shows (`customer` or `purchase`).
    fn count(&self, what: &str) -> usize {
        let args: &[&str] = match what {
            "customer" => &["--json", "customer", "list", "--limit", "10000"],
            _ => &["--json", "purchase", "list"],
        };
        let v: serde_json::Value = serde_json::from_str(&self.ok(args)).expect("JSON");
        v.get("items").unwrap_or(&v).as_array().map_or(0, Vec::len)
    }
}

fn run_on(db: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_solocrm"))
        .arg("--db")
        .arg(db)
        .args(args)
        .env_remove("SOLOCRM_DB")
        .env("NO_COLOR", "1")
        .output()
        .expect("the binary runs")
}

fn text(p: &Path) -> String {
    p.to_str().expect("utf-8 path").to_owned()
}

fn read(p: &Path) -> Vec<u8> {
    std::fs::read(p).expect("readable")
}

// ----- 1. output paths never clobber the database or an input -----

#[test]
fn an_export_onto_the_database_or_its_links_is_refused_and_writes_nothing() {
    let env = Env::new();
    let db = env.db();
    let before = read(&db);
    let err = env.fails(&["export", "customers", "--out", &text(&db)]);
    assert!(
        err.contains("is the database itself; choose another file"),
        "{err}"
    );
    #[cfg(unix)]
    {
        let link = env.path("link.csv");
        std::os::unix::fs::symlink(&db, &link).expect("symlink");
        let hard = env.path("hard.csv");
        std::fs::hard_link(&db, &hard).expect("hard link");
        for out in [&link, &hard] {
            let err = env.fails(&["export", "purchases", "--out", &text(out)]);
            assert!(err.contains("the database itself"), "{err}");
        }
    }
    for suffix in ["-wal", "-shm", "-journal"] {
        let out = format!("{}{suffix}", text(&db));
        let err = env.fails(&["export", "customers", "--format", "json", "--out", &out]);
        assert!(err.contains("choose another file"), "{suffix}: {err}");
        assert!(!Path::new(&out).exists(), "{suffix} was created");
    }
    assert_eq!(read(&db), before, "the database changed");
    assert_eq!(env.count("customer"), 2);
}

#[test]
fn rejects_onto_the_database_or_the_input_are_refused_before_importing() {
    let env = Env::new();
    let input = env.write(
        "p.csv",
        b"customer,date,amount\nC-1,2026-01-05,1\nC-1,2026-01-06,-1\n",
    );
    let db = env.db();
    let before = read(&db);
    let err = env.fails(&[
        "import",
        "purchases",
        &input,
        "--skip-invalid",
        "--rejects",
        &text(&db),
    ]);
    assert!(err.contains("--rejects"), "{err}");
    assert!(err.contains("the database itself"), "{err}");
    assert_eq!(read(&db), before);
    let original = read(Path::new(&input));
    let err = env.fails(&[
        "import",
        "purchases",
        &input,
        "--skip-invalid",
        "--rejects",
        &input,
    ]);
    assert!(err.contains("the file being imported"), "{err}");
    assert_eq!(read(Path::new(&input)), original, "the input changed");
    assert_eq!(env.count("purchase"), 0);
}

#[cfg(unix)]
#[test]
fn exports_and_rejects_are_private_to_the_owner() {
    use std::os::unix::fs::PermissionsExt as _;
    let env = Env::new();
    let mode = |p: &Path| std::fs::metadata(p).expect("exists").permissions().mode() & 0o777;
    let out = env.path("c.csv");
    env.ok(&["export", "customers", "--out", &text(&out)]);
    assert_eq!(mode(&out), 0o600);
    // An existing, wider file is replaced by a private one.
    std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    env.ok(&["export", "customers", "--out", &text(&out)]);
    assert_eq!(mode(&out), 0o600);
    let input = env.write("p.csv", b"customer,date,amount\nC-9,2026-01-05,1\n");
    let rejects = env.path("rej.csv");
    env.ok(&[
        "import",
        "purchases",
        &input,
        "--skip-invalid",
        "--rejects",
        &text(&rejects),
    ]);
    assert_eq!(mode(&rejects), 0o600);
}

#[test]
fn an_unwritable_rejects_path_fails_before_anything_is_imported() {
    let env = Env::new();
    let input = env.write(
        "p.csv",
        b"customer,date,amount\nC-1,2026-01-05,1\nC-1,2026-01-06,-1\n",
    );
    let missing = env.path("missing/rej.csv");
    let err = env.fails(&[
        "import",
        "purchases",
        &input,
        "--skip-invalid",
        "--rejects",
        &text(&missing),
    ]);
    assert!(err.contains("missing/rej.csv"), "{err}");
    assert_eq!(env.count("purchase"), 0, "the import ran");
}

#[cfg(target_os = "linux")]
#[test]
fn rejects_that_cannot_be_written_after_the_commit_say_the_import_was_committed() {
    let env = Env::new();
    let input = env.write(
        "p.csv",
        b"customer,date,amount\nC-1,2026-01-05,1\nC-1,2026-01-06,-1\n",
    );
    let err = env.fails(&[
        "import",
        "purchases",
        &input,
        "--skip-invalid",
        "--rejects",
        "/dev/full",
    ]);
    assert!(err.contains("/dev/full"), "{err}");
    assert!(
        err.contains("the import was committed with 1 rows"),
        "{err}"
    );
    assert_eq!(env.count("purchase"), 1);
}
