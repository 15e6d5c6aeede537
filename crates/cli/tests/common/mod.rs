//! What the CLI test files share: a temporary directory with a database path, and the
//! real `solocrm` binary run on it.
#![allow(dead_code)] // each test file uses its own part

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A temporary directory holding `crm.db`, with the binary run against it.
pub struct Env {
    pub dir: tempfile::TempDir,
}

impl Env {
    /// A fresh temporary directory.
    pub fn new() -> Env {
        Env {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    pub fn db(&self) -> PathBuf {
        self.dir.path().join("crm.db")
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn write(&self, name: &str, content: &[u8]) -> PathBuf {
        let p = self.path(name);
        std::fs::write(&p, content).expect("write fixture");
        p
    }

    /// Writes a fixture and returns its path as text, for an argument.
    pub fn write_str(&self, name: &str, content: &[u8]) -> String {
        let p = self.write(name, content);
        p.to_str().expect("utf-8 path").to_owned()
    }

    pub fn run(&self, args: &[&str]) -> Output {
        run_on(&self.db(), args)
    }

    /// The binary set up to run `args` on this database (see [`command_on`]).
    pub fn command(&self, args: &[&str]) -> Command {
        command_on(self.db(), args)
    }

    #[track_caller]
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "{args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf-8 output")
    }

    /// Runs a command that must fail with `code`, and returns its stderr.
    #[track_caller]
    pub fn fails(&self, args: &[&str], code: i32) -> String {
        let out = self.run(args);
        assert_eq!(
            out.status.code(),
            Some(code),
            "{args:?}: stdout {} stderr {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stderr).expect("utf-8 errors")
    }

    pub fn json(&self, args: &[&str]) -> serde_json::Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        serde_json::from_str(&self.ok(&all)).expect("valid JSON")
    }

    pub fn count(&self, what: &str) -> usize {
        match what {
            "customers" => self.json(&["customer", "list", "--limit", "10000"])["items"]
                .as_array()
                .map_or(0, Vec::len),
            "purchases" => self
                .json(&["purchase", "list"])
                .as_array()
                .map_or(0, Vec::len),
            other => panic!("unknown count {other}"),
        }
    }

    pub fn init(&self) {
        self.ok(&["init", "--currency", "EUR"]);
    }
}

impl Env {
    /// The home directory the binary is given (see [`bare_command`]): `home` in the
    /// temporary directory, so the default database lands in
    /// `home/.local/share/solocrm/`, never in the real home.
    pub fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    /// The data directory the binary is given: `XDG_DATA_HOME`.
    pub fn data_home(&self) -> PathBuf {
        self.home().join(".local/share")
    }

    /// The binary set up to run `args` without `--db`, on the default database in
    /// this environment's [data directory](Env::data_home).
    pub fn command_default(&self, args: &[&str]) -> Command {
        let mut command = bare_command(&self.home());
        command.env("XDG_DATA_HOME", self.data_home()).args(args);
        command
    }
}

/// The binary with the environment every test runs it in: no `SOLOCRM_DB`, no
/// `COLUMNS`, `TZ=UTC`, `NO_COLOR`, and `HOME` set to `home` with no
/// `XDG_DATA_HOME`, so that nothing a test runs can reach the real home directory.
pub fn bare_command(home: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_solocrm"));
    command
        .env_remove("SOLOCRM_DB")
        .env_remove("SOLOCRM_TENANT")
        .env_remove("XDG_DATA_HOME")
        .env("HOME", home)
        // Tables are cut to COLUMNS when it is set: a test that wants that sets it.
        .env_remove("COLUMNS")
        // `init` without --timezone takes the zone TZ names: UTC, whatever the machine's.
        .env("TZ", "UTC")
        // The language follows the locale: tests read English unless they ask.
        .env_remove("LC_ALL")
        .env_remove("LC_MESSAGES")
        .env_remove("LANG")
        .env("NO_COLOR", "1");
    command
}

/// The binary set up to run `args` on the database `db`, for a test that needs to
/// start it differently (spawned, another working directory, a redirected output).
/// Its home is `home` beside the database (see [`bare_command`]).
pub fn command_on(db: impl AsRef<std::ffi::OsStr>, args: &[&str]) -> Command {
    let db = Path::new(db.as_ref());
    let home = db
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .join("home");
    let mut command = bare_command(&home);
    command.arg("--db").arg(db).args(args);
    command
}

/// Runs the binary on the database `db`.
pub fn run_on(db: &Path, args: &[&str]) -> Output {
    command_on(db, args).output().expect("the binary runs")
}
