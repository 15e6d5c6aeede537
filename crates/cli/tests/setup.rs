//! `demo` through the bulk path, the default database in the data directory, and
//! progress kept off standard error when it is not a terminal.

mod common;

use std::path::{Path, PathBuf};

use common::{Env, bare_command, command_on};
use solocrm_app::{Books, Location};
use solocrm_sample::{GenConfig, Locale, populate};
use solocrm_store_sqlite::SqliteStore;

/// The tables in which FTS5 keeps the segments of the customer search index: how
/// it lays out its entries depends on how they were written (row by row, or all at
/// once), not on what they are. [`dump`] lists the entries themselves instead.
const SEARCH_SEGMENTS: [&str; 2] = ["customer_search_data", "customer_search_idx"];

/// Every row of every table of the SQLite file `db`, by table, as text; the book id
/// (random for every new file) left out. The search index is compared by its
/// entries (term, customer, column, position), read through `fts5vocab`, rather
/// than by the segments that hold them ([`SEARCH_SEGMENTS`]); and the schema.
fn dump(db: &Path) -> Vec<(String, Vec<String>)> {
    let conn = rusqlite::Connection::open(db).expect("open the dump");
    conn.execute_batch(
        "CREATE VIRTUAL TABLE temp.search_entries \
         USING fts5vocab(main, customer_search, instance)",
    )
    .expect("the index's entries");
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .expect("tables")
        .query_map([], |r| r.get(0))
        .expect("tables")
        .collect::<Result<_, _>>()
        .expect("tables");
    let mut out = Vec::new();
    for table in tables {
        let mut stmt = conn
            .prepare(&format!("SELECT * FROM \"{table}\""))
            .expect("select");
        let names: Vec<String> = stmt.column_names().map(str::to_owned).collect();
        let mut rows: Vec<String> = stmt
            .query_map([], |r| {
                let mut cells = Vec::new();
                for (i, name) in names.iter().enumerate() {
                    let v: rusqlite::types::Value = r.get(i)?;
                    if table == "store_info" && name == "book_id" {
                        continue;
                    }
                    cells.push(format!("{name}={v:?}"));
                }
                Ok(cells.join("|"))
            })
            .expect("rows")
            .collect::<Result<_, _>>()
            .expect("rows");
        rows.sort();
        out.push((table, rows));
    }
    out.retain(|(table, _)| !SEARCH_SEGMENTS.contains(&table.as_str()));
    let mut entries: Vec<String> = conn
        .prepare("SELECT term, doc, col, offset FROM temp.search_entries")
        .expect("entries")
        .query_map([], |r| {
            let cells: [rusqlite::types::Value; 4] = [r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?];
            Ok(format!("{cells:?}"))
        })
        .expect("entries")
        .collect::<Result<_, _>>()
        .expect("entries");
    entries.sort();
    out.push(("customer_search (entries)".to_owned(), entries));
    // The schema too: the indexes and triggers a bulk build drops for a while are
    // back, as they were.
    let mut schema: Vec<String> = conn
        .prepare("SELECT type, name, tbl_name, sql FROM main.sqlite_schema")
        .expect("the schema")
        .query_map([], |r| {
            let cells: [Option<String>; 4] = [r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?];
            Ok(format!("{cells:?}"))
        })
        .expect("the schema")
        .collect::<Result<_, _>>()
        .expect("the schema");
    schema.sort();
    out.push(("(schema)".to_owned(), schema));
    out
}

/// FTS5's own check of the search index against the customers it holds: every
/// entry of every row there, and nothing else.
#[track_caller]
fn assert_search_index_sound(db: &Path) {
    let conn = rusqlite::Connection::open(db).expect("open");
    conn.execute(
        "INSERT INTO customer_search (customer_search, rank) VALUES ('integrity-check', 1)",
        [],
    )
    .expect("the search index matches its rows");
}

/// The generator's configuration `demo` uses for `locale`, its history ending on
/// `end` (`YYYY-MM-DD`).
fn demo_config(customers: u32, seed: u64, end: &str, locale: Locale) -> GenConfig {
    let end = chrono::NaiveDate::parse_from_str(end, "%Y-%m-%d").expect("date");
    GenConfig::new(customers, seed)
        .with_zone(locale.zone())
        .with_end(end)
        .with_locale(locale)
        .with_currency(locale.currency())
}

/// The books `demo` built before the bulk path: the same file, time zone and
/// lifecycle-free replay, every record its own transaction.
fn demo_the_old_way(db: &Path, customers: u32, seed: u64, end: &str, locale: Locale) {
    let config = demo_config(customers, seed, end, locale);
    let zone = config.zone;
    let store = SqliteStore::create(db, config.currency).expect("create");
    let books = Books::from_sqlite(store, Location::Path(db.to_owned()));
    books.set_time_zone(zone).expect("zone");
    let replay = books.crm().clone().with_lifecycle(None);
    populate(&replay, &config).expect("populate");
}

#[test]
fn a_demo_built_in_one_transaction_equals_one_built_record_by_record() {
    for (locale, code, customers, seed) in
        [(Locale::En, "en", 60, 11), (Locale::ZhCn, "zh-CN", 45, 3)]
    {
        let env = Env::new();
        let old = env.path("old.db");
        demo_the_old_way(&old, customers, seed, "2025-06-30", locale);
        let shown = env.json(&[
            "demo",
            "--customers",
            &customers.to_string(),
            "--seed",
            &seed.to_string(),
            "--end",
            "2025-06-30",
            "--locale",
            code,
        ]);
        // The dashboard `demo` prints from the books as they are (nothing in them is
        // dated after its period) is the one `report` gives of the same period by
        // rewinding the books to the end of its last day.
        assert!(shown["customers_by_stage"].is_object(), "{shown}");
        assert_eq!(
            shown,
            env.json(&["report", "--as-of", "2025-06-30"]),
            "{code}: the demo's dashboard"
        );
        let (old_rows, new_rows) = (dump(&old), dump(&env.db()));
        let rows = |d: &[(String, Vec<String>)], t: &str| {
            d.iter().find(|(n, _)| n == t).map_or(0, |(_, r)| r.len())
        };
        assert_eq!(rows(&new_rows, "customers"), customers as usize);
        assert!(rows(&new_rows, "purchases") > 0 && rows(&new_rows, "stage_changes") > 0);
        assert_eq!(rows(&new_rows, "customer_search"), customers as usize);
        assert!(rows(&new_rows, "customer_search (entries)") > customers as usize * 10);
        assert_search_index_sound(&old);
        assert_search_index_sound(&env.db());
        let (old, new) = (old_rows, new_rows);
        assert_eq!(old.len(), new.len(), "the same tables");
        for ((t_old, r_old), (t_new, r_new)) in old.iter().zip(&new) {
            assert_eq!(t_old, t_new);
            assert_eq!(r_old, r_new, "{code}: table {t_old} differs");
        }
        // The index filled at the end of the build finds the demo's customers, and
        // the file passes the integrity command.
        let conn = rusqlite::Connection::open(env.db()).expect("open");
        // The shortcuts of the build are exercised: a customer with several points
        // entries (the balance the build keeps for each posting), consents (appended
        // without a look-up), and the rows of every table whose indexes it deferred.
        let count = |sql: &str| -> i64 { conn.query_row(sql, [], |r| r.get(0)).expect(sql) };
        assert!(
            count(
                "SELECT count(*) FROM (SELECT customer_id FROM points_entries \
                 GROUP BY customer_id HAVING count(*) > 1)"
            ) > 0,
            "{code}: no customer with several points entries"
        );
        for table in ["interactions", "stage_changes", "consents", "surveys"] {
            assert!(
                count(&format!("SELECT count(*) FROM {table}")) > 0,
                "{code}: no {table}"
            );
        }
        let (name, email): (String, String) = conn
            .query_row(
                "SELECT name, email FROM customers WHERE email IS NOT NULL ORDER BY id DESC",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .expect("a customer with an email");
        drop(conn);
        let found = env.json(&["customer", "search", &email]);
        let items = found["items"].as_array().expect("items");
        assert!(
            items.iter().any(|c| c["name"] == name.as_str()),
            "{code}: {email}: {found}"
        );
        env.ok(&["check"]);
    }
}

/// What `demo` computes its dashboard from while it writes the books (ADR 0059): the
/// generated business's own `report_data` is what the report reads back from the new
/// books written as `demo` writes them (a bulk transaction of a private build), record
/// for record, and so is the dashboard computed from it; for both locales.
#[test]
fn the_report_data_of_a_business_is_what_its_new_books_read_back() {
    use solocrm_core::metrics::Period;
    use solocrm_sample::{business, insert_bulk};
    use solocrm_store_sqlite::SqliteOptions;
    for (locale, end, customers, seed) in [
        (Locale::En, "2025-12-31", 400, 42),
        (Locale::ZhCn, "2026-03-06", 300, 7),
    ] {
        let config = demo_config(customers, seed, end, locale);
        let zone = config.zone;
        let dir = tempfile::tempdir().expect("a directory");
        let db = dir.path().join("demo.db");
        let options = SqliteOptions::default().private_build(true);
        let store = SqliteStore::create_with(&db, config.currency, &options).expect("create");
        let books = Books::from_sqlite(store, Location::Path(db.clone()));
        books.set_time_zone(zone).expect("zone");
        let generated = business(&config);
        let replay = books.crm().clone().with_lifecycle(None);
        let populated = insert_bulk(&replay, &generated, &mut |_| {}).expect("the build");
        assert!(populated.numbered_from_one(), "{locale:?}");
        // The dashboard's period (the year up to the day after the history) and a
        // period that ends inside the history, which leaves records out.
        // `last` is the day after the history's end: 100 days before that end.
        let last = zone.date_of(config.as_of);
        let inside = last - chrono::Days::new(101);
        for (from, to) in [
            (last - chrono::Months::new(12), last),
            (inside - chrono::Months::new(12), inside),
        ] {
            let period = Period::new(from, to).expect("a period").in_zone(zone);
            let read = books
                .crm()
                .read(|r| r.report_data(period))
                .expect("the read");
            let computed = generated
                .report_data(config.currency, zone, period)
                .expect("computed");
            assert!(read.purchase_rows().next().is_some() && !read.deals.is_empty());
            assert!(read.log_costs.is_some(), "the rows beside the log");
            assert!(!read.refunds.is_empty() && !read.requests.is_empty());
            assert_eq!(computed.customers, read.customers, "{locale:?} {to}");
            assert_eq!(computed.log, read.log, "{locale:?} {to}");
            assert_eq!(computed.purchases, read.purchases, "{locale:?} {to}");
            assert_eq!(computed.log_costs, read.log_costs, "{locale:?} {to}");
            assert_eq!(computed.refunds, read.refunds, "{locale:?} {to}");
            assert_eq!(computed.surveys, read.surveys, "{locale:?} {to}");
            assert_eq!(computed.interactions, read.interactions, "{locale:?} {to}");
            assert_eq!(computed.deals, read.deals, "{locale:?} {to}");
            assert_eq!(computed.requests, read.requests, "{locale:?} {to}");
            assert_eq!(computed, read, "{locale:?} {to}");
            // Equal values could still print differently (a decimal's scale): the
            // reports serialise the same.
            let config = solocrm_core::metrics::ReportConfig::default();
            let report = |data| {
                serde_json::to_string(
                    &solocrm_core::MetricsReport::compute(data, period, &config).expect("a report"),
                )
                .expect("json")
            };
            assert_eq!(report(&computed), report(&read), "{locale:?} {to}");
        }
    }
}

/// Runs a command that must succeed and returns its stdout.
#[track_caller]
fn ok(mut command: std::process::Command) -> String {
    let out = command.output().expect("the binary runs");
    assert!(
        out.status.success(),
        "failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

/// Runs a command that must fail with `code` and returns its stderr.
#[track_caller]
fn fails(mut command: std::process::Command, code: i32) -> String {
    let out = command.output().expect("the binary runs");
    assert_eq!(
        out.status.code(),
        Some(code),
        "stdout {} stderr {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stderr).expect("utf-8")
}

fn solocrm_dir(env: &Env) -> PathBuf {
    env.data_home().join("solocrm")
}

#[test]
fn init_without_db_creates_the_books_in_the_data_directory() {
    let env = Env::new();
    let out = ok(env.command_default(&["init", "--currency", "CNY"]));
    let books = solocrm_dir(&env).join("books.db");
    assert!(books.is_file(), "{out}");
    assert!(
        out.contains(&books.display().to_string()),
        "says where: {out}"
    );
    assert!(out.contains("default database"), "{out}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = |p: &Path| std::fs::metadata(p).expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode(&solocrm_dir(&env)), 0o700);
        assert_eq!(mode(&books), 0o600);
    }
    // Every command finds it without --db.
    ok(env.command_default(&["customer", "add", "王芳", "--email", "wang.fang@example.cn"]));
    let listed = ok(env.command_default(&["customer", "list"]));
    assert!(listed.contains("王芳"), "{listed}");
    // A second init is refused, and leaves the books as they were.
    let before = std::fs::read(&books).expect("read");
    let err = fails(env.command_default(&["init", "--currency", "EUR"]), 1);
    assert!(err.contains("already exists"), "{err}");
    assert_eq!(std::fs::read(&books).expect("read"), before);
    // Nothing else in the temporary directory: no ./solocrm.db, nothing in the home
    // but the data directory.
    assert!(!env.path("solocrm.db").exists());
}

#[test]
fn without_xdg_data_home_the_books_are_under_home_local_share() {
    let env = Env::new();
    let mut init = bare_command(&env.home());
    init.args(["init", "--currency", "EUR"]);
    ok(init);
    assert!(env.home().join(".local/share/solocrm/books.db").is_file());
}

#[test]
fn db_and_solocrm_db_override_the_data_directory() {
    let env = Env::new();
    let named = env.path("李雷的店.db");
    let mut init = env.command_default(&["init", "--currency", "CNY"]);
    init.env("SOLOCRM_DB", &named);
    ok(init);
    assert!(named.is_file());
    ok(env.command_default(&[
        "--db",
        named.to_str().expect("utf-8"),
        "customer",
        "add",
        "李雷",
    ]));
    assert!(
        !solocrm_dir(&env).exists(),
        "the data directory is not touched"
    );
}

#[test]
fn a_missing_default_database_says_how_to_make_one_and_points_at_an_old_one() {
    let env = Env::new();
    let err = fails(env.command_default(&["customer", "list"]), 1);
    assert!(err.contains("no database at"), "{err}");
    assert!(err.contains("books.db"), "{err}");
    assert!(err.contains("solocrm init"), "{err}");
    assert!(!solocrm_dir(&env).exists(), "reading creates nothing");
    // The old default, ./solocrm.db, in the working directory.
    ok(command_on(
        env.path("solocrm.db"),
        &["init", "--currency", "EUR"],
    ));
    let mut list = env.command_default(&["customer", "list"]);
    list.current_dir(env.dir.path());
    let err = fails(list, 1);
    assert!(err.contains("--db solocrm.db"), "{err}");
}

#[test]
fn db_and_completions_need_no_home() {
    // Without HOME the data directory would come from the password database, the
    // real home: only commands that never look for it run here.
    let env = Env::new();
    let homeless = |args: &[&str]| {
        let mut c = bare_command(&env.home());
        c.env_remove("HOME").args(args);
        c
    };
    let db = env.db();
    ok(homeless(&[
        "--db",
        db.to_str().expect("utf-8"),
        "init",
        "--currency",
        "EUR",
    ]));
    assert!(db.is_file());
    assert!(ok(homeless(&["completions", "bash"])).contains("solocrm"));
    assert!(ok(homeless(&["man"])).contains("solocrm"));
}

#[test]
fn demo_without_db_builds_its_own_sample_and_never_touches_the_books() {
    let env = Env::new();
    ok(env.command_default(&["init", "--currency", "CNY"]));
    ok(env.command_default(&["customer", "add", "张伟"]));
    let books = solocrm_dir(&env).join("books.db");
    let before = std::fs::read(&books).expect("read");
    let demo = || env.command_default(&["demo", "--customers", "30", "--end", "2025-06-30"]);
    let out = ok(demo());
    let sample = solocrm_dir(&env).join("demo.db");
    assert!(sample.is_file());
    assert!(out.contains("solocrm dashboard"), "{out}");
    assert!(
        out.contains(&format!("the sample books are in {}", sample.display())),
        "says where: {out}"
    );
    assert_eq!(
        std::fs::read(&books).expect("read"),
        before,
        "the books stay"
    );
    // The sample is a database of its own, with 30 customers.
    let listed = common::run_on(&sample, &["--json", "customer", "list", "--limit", "10000"]);
    let json: serde_json::Value = serde_json::from_slice(&listed.stdout).expect("json");
    assert_eq!(json["items"].as_array().map_or(0, Vec::len), 30);
    // A second demo rebuilds the sample (another seed, so other customers).
    let first = dump(&sample);
    ok(env.command_default(&[
        "demo",
        "--customers",
        "30",
        "--end",
        "2025-06-30",
        "--seed",
        "99",
    ]));
    assert_ne!(dump(&sample), first, "rebuilt");
    assert_eq!(
        std::fs::read(&books).expect("read"),
        before,
        "the books stay"
    );
    // No work directory is left behind.
    let left: Vec<_> = std::fs::read_dir(solocrm_dir(&env))
        .expect("list")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert!(
        left.iter()
            .all(|n| !n.to_string_lossy().starts_with(".solocrm-demo")),
        "{left:?}"
    );
}

#[test]
fn demo_refuses_a_sample_in_use_and_a_named_file_that_exists() {
    let env = Env::new();
    let demo = |extra: &[&str]| {
        let mut args = vec!["demo", "--customers", "5", "--end", "2025-06-30"];
        args.extend_from_slice(extra);
        env.command_default(&args)
    };
    ok(demo(&[]));
    let sample = solocrm_dir(&env).join("demo.db");
    let wal = PathBuf::from(format!("{}-wal", sample.display()));
    std::fs::write(&wal, b"").expect("wal");
    let before = std::fs::read(&sample).expect("read");
    let err = fails(demo(&[]), 1);
    assert!(err.contains("in use"), "{err}");
    assert_eq!(std::fs::read(&sample).expect("read"), before);
    std::fs::remove_file(&wal).expect("rm");
    // A file named with --db (or SOLOCRM_DB) is never replaced.
    let named = env.path("shop.db");
    ok(command_on(&named, &["init", "--currency", "EUR"]));
    ok(command_on(&named, &["customer", "add", "陈静"]));
    let before = std::fs::read(&named).expect("read");
    let err = fails(demo(&["--db", named.to_str().expect("utf-8")]), 1);
    assert!(err.contains("already exists"), "{err}");
    let mut via_env = demo(&[]);
    via_env.env("SOLOCRM_DB", &named);
    let err = fails(via_env, 1);
    assert!(err.contains("already exists"), "{err}");
    assert_eq!(std::fs::read(&named).expect("read"), before);
}

#[test]
fn no_progress_is_drawn_when_standard_error_is_not_a_terminal() {
    let env = Env::new();
    let out = env
        .command(&["demo", "--customers", "40", "--end", "2025-06-30"])
        .output()
        .expect("runs");
    assert!(out.status.success());
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let file = env.path("c.csv");
    std::fs::write(
        &file,
        "customer,date,amount\n#1,2025-01-05,12.50\n#2,2025-01-06,8\n",
    )
    .expect("write");
    for args in [
        vec!["import", "purchases", file.to_str().expect("utf-8")],
        vec!["export", "purchases", "--out", "x.csv"],
        vec!["stage", "reassess", "--apply"],
    ] {
        let out = env
            .command(&args)
            .current_dir(env.dir.path())
            .output()
            .expect("runs");
        assert!(out.status.success(), "{args:?}");
        assert!(
            out.stderr.is_empty(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
