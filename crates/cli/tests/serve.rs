//! `solocrm serve`, the real binary: the first line is the link, the server answers,
//! and Ctrl-C (SIGINT) stops it cleanly, on an SQLite file and on PostgreSQL books (the
//! PostgreSQL client must never be dropped on the server's runtime). The PostgreSQL case
//! needs `SOLOCRM_TEST_PG_URL` and skips without it unless `SOLOCRM_REQUIRE_PG=1`.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn solocrm(db: &str) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_solocrm"));
    c.arg("--db")
        .arg(db)
        .env_remove("SOLOCRM_DB")
        .env("LANG", "C");
    c
}

/// One HTTP/1.1 request over loopback; the whole response as text.
fn http(port: u16, request_line: &str, headers: &str) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    write!(
        s,
        "{request_line} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{headers}Connection: close\r\n\r\n"
    )
    .expect("send");
    let mut out = String::new();
    s.read_to_string(&mut out).expect("read");
    out
}

/// Starts `serve` on `db` with `extra` flags, with `data` as `XDG_DATA_HOME` (where the
/// feed token goes); returns the child, its link and port.
fn start(db: &str, data: &Path, extra: &[&str]) -> (Child, String, u16) {
    let mut child = solocrm(db)
        .env("XDG_DATA_HOME", data)
        .args(["serve", "--port", "0"])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("serve starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("the first line");
    let link = line.trim_end().to_owned();
    let rest = link
        .strip_prefix("http://127.0.0.1:")
        .unwrap_or_else(|| panic!("the first line is the link: {link:?}"));
    let (port, token) = rest.split_once("/?token=").expect("a token");
    assert_eq!(token.len(), 64, "{link}");
    assert!(token.bytes().all(|b| b.is_ascii_hexdigit()), "{link}");
    let port = port.parse().expect("a port");
    (child, link, port)
}

/// Sends SIGINT and waits; the exit status and standard error.
fn stop(mut child: Child) -> (std::process::ExitStatus, String) {
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        assert!(Instant::now() < deadline, "serve did not stop within 30 s");
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut err = String::new();
    child
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut err)
        .expect("stderr");
    (status, err)
}

/// Serves `db`, checks the health route, the login and a page, and stops.
fn serves_and_stops(db: &str, data: &Path) {
    let (child, link, port) = start(db, data, &[]);
    let health = http(port, "GET /health", "");
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    assert!(health.ends_with("ok"), "{health}");
    let token = link.split("token=").nth(1).expect("token");
    let login = http(port, &format!("GET /?token={token}"), "");
    assert!(login.starts_with("HTTP/1.1 303"), "{login}");
    let cookie = login
        .lines()
        .find_map(|l| l.strip_prefix("set-cookie: "))
        .and_then(|c| c.split(';').next())
        .expect("a session cookie")
        .to_owned();
    let page = http(port, "GET /customers", &format!("Cookie: {cookie}\r\n"));
    assert!(page.starts_with("HTTP/1.1 200"), "{page}");
    assert!(page.contains("Ada"), "{page}");
    let refused = http(port, "GET /customers", "");
    assert!(refused.starts_with("HTTP/1.1 401"), "{refused}");
    let (status, err) = stop(child);
    assert!(status.success(), "{status}: {err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn serve_prints_the_link_answers_and_stops_cleanly_on_a_file() {
    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("books.db");
    let db = db.to_str().expect("path");
    assert!(
        solocrm(db)
            .arg("init")
            .output()
            .expect("init")
            .status
            .success()
    );
    assert!(
        solocrm(db)
            .args(["customer", "add", "Ada"])
            .output()
            .expect("add")
            .status
            .success()
    );
    serves_and_stops(db, dir.path());
}

#[test]
fn serve_on_another_address_warns() {
    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("books.db");
    let db = db.to_str().expect("path");
    assert!(
        solocrm(db)
            .arg("init")
            .output()
            .expect("init")
            .status
            .success()
    );
    let (child, _, port) = start(db, dir.path(), &["--bind", "0.0.0.0"]);
    assert!(http(port, "GET /health", "").ends_with("ok"));
    let (status, err) = stop(child);
    assert!(status.success(), "{err}");
    assert!(err.contains("listening on 0.0.0.0"), "{err}");
}

#[test]
fn serve_stops_cleanly_on_postgres_books() {
    let required = std::env::var("SOLOCRM_REQUIRE_PG").is_ok_and(|v| v == "1");
    let Ok(url) = std::env::var("SOLOCRM_TEST_PG_URL") else {
        assert!(
            !required,
            "SOLOCRM_REQUIRE_PG=1 but SOLOCRM_TEST_PG_URL is not set"
        );
        eprintln!("skipped: set SOLOCRM_TEST_PG_URL to run the PostgreSQL test");
        return;
    };
    let schema = format!("solocrm_cli_serve_{}", std::process::id());
    let mut client = postgres::Client::connect(&url, postgres::NoTls).expect("the server answers");
    client
        .batch_execute(&format!(
            "DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}"
        ))
        .expect("a schema");
    let sep = if url.contains('?') { '&' } else { '?' };
    let db = format!("{url}{sep}options=-c%20search_path%3D{schema}&tenant=1");
    assert!(
        solocrm(&db)
            .arg("init")
            .output()
            .expect("init")
            .status
            .success()
    );
    assert!(
        solocrm(&db)
            .args(["customer", "add", "Ada"])
            .output()
            .expect("add")
            .status
            .success()
    );
    let data = tempfile::tempdir().expect("dir");
    serves_and_stops(&db, data.path());
    client
        .batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
        .expect("drop");
}

/// The session cookie for the link's token.
fn login(port: u16, link: &str) -> String {
    let token = link.split("token=").nth(1).expect("token");
    let login = http(port, &format!("GET /?token={token}"), "");
    login
        .lines()
        .find_map(|l| l.strip_prefix("set-cookie: "))
        .and_then(|c| c.split(';').next())
        .expect("a session cookie")
        .to_owned()
}

#[test]
fn serve_runs_the_time_rules_itself_and_serves_the_calendar_feed() {
    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("books.db");
    let db = db.to_str().expect("path");
    let ok = |args: &[&str]| {
        let out = solocrm(db).args(args).output().expect("runs");
        assert!(out.status.success(), "{args:?}: {out:?}");
        String::from_utf8(out.stdout).expect("utf-8")
    };
    ok(&["init", "--timezone", "UTC"]);
    // A birthday tomorrow: the built-in birthday rule (3 days ahead) fires today.
    let tomorrow = chrono::Utc::now().date_naive() + chrono::Days::new(1);
    let birthday = format!("1992-{}", tomorrow.format("%m-%d"));
    ok(&["customer", "add", "王小明", "--birthday", &birthday]);
    assert!(!ok(&["task", "list", "--json"]).contains("birthday-care"));

    let (child, link, port) = start(db, dir.path(), &[]);
    // Nobody runs `solocrm run`: the server's first tick does.
    let deadline = Instant::now() + Duration::from_secs(60);
    while !ok(&["task", "list", "--json"]).contains("birthday-care") {
        assert!(Instant::now() < deadline, "no birthday task within 60 s");
        std::thread::sleep(Duration::from_millis(200));
    }

    // The feed token: its own file, 0600, in the data directory.
    let tokens: Vec<_> = std::fs::read_dir(dir.path().join("solocrm"))
        .expect("the data directory")
        .map(|e| e.expect("entry").path())
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("feed-token-"))
        })
        .collect();
    assert_eq!(tokens.len(), 1, "{tokens:?}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&tokens[0])
            .expect("meta")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let token = std::fs::read_to_string(&tokens[0]).expect("token");
    let token = token.trim();
    let cookie = login(port, &link);
    let page = http(port, "GET /calendar", &format!("Cookie: {cookie}\r\n"));
    assert!(
        page.contains(&format!("/feed/{token}/solocrm.ics")),
        "{page}"
    );
    // The feed needs no cookie, only its token.
    let feed = http(port, &format!("GET /feed/{token}/solocrm.ics"), "");
    assert!(feed.starts_with("HTTP/1.1 200"), "{feed}");
    assert!(feed.contains("BEGIN:VCALENDAR"), "{feed}");
    assert!(feed.contains("Birthday greeting for 王小明"), "{feed}");
    let (status, err) = stop(child);
    assert!(status.success(), "{status}: {err}");
    assert!(!err.contains("panicked"), "{err}");

    // A restart keeps the feed's address.
    let (child, _, port) = start(db, dir.path(), &["--no-automation"]);
    let feed = http(port, &format!("GET /feed/{token}/solocrm.ics"), "");
    assert!(feed.starts_with("HTTP/1.1 200"), "{feed}");
    let (status, err) = stop(child);
    assert!(status.success(), "{status}: {err}");
}
