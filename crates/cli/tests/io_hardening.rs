//! Regression tests for the import and export hardening (issue 10): output paths that
//! would clobber the database or an input, strict CSV structure, `--skip-invalid` on
//! structurally bad rows, one customer-key order, and formula injection. Each runs the
//! real `solocrm` binary, as `tests/cli.rs` does.

use std::path::Path;

mod common;

use common::Env;

/// A fresh database in EUR with Ada (reference C-1, ada@example.com) and Bob
/// (bob@example.com, no reference).
fn seeded() -> Env {
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

fn text(p: &Path) -> String {
    p.to_str().expect("utf-8 path").to_owned()
}

fn read(p: &Path) -> Vec<u8> {
    std::fs::read(p).expect("readable")
}

// ----- 1. output paths never clobber the database or an input -----

#[test]
fn an_export_onto_the_database_or_its_links_is_refused_and_writes_nothing() {
    let env = seeded();
    let db = env.db();
    let before = read(&db);
    let err = env.fails(&["export", "customers", "--out", &text(&db)], 1);
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
            let err = env.fails(&["export", "purchases", "--out", &text(out)], 1);
            assert!(err.contains("the database itself"), "{err}");
        }
    }
    for suffix in ["-wal", "-shm", "-journal"] {
        let out = format!("{}{suffix}", text(&db));
        let err = env.fails(
            &["export", "customers", "--format", "json", "--out", &out],
            1,
        );
        assert!(err.contains("choose another file"), "{suffix}: {err}");
        assert!(!Path::new(&out).exists(), "{suffix} was created");
    }
    assert_eq!(read(&db), before, "the database changed");
    assert_eq!(env.count("customers"), 2);
}

#[test]
fn an_export_to_standard_output_appending_to_the_database_is_refused() {
    let env = seeded();
    let db = env.db();
    let before = read(&db);
    let append = std::fs::OpenOptions::new()
        .append(true)
        .open(&db)
        .expect("open the database");
    let out = env
        .command(&["export", "customers"])
        .stdout(append)
        .output()
        .expect("the binary runs");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("standard output is the database itself"),
        "{err}"
    );
    assert_eq!(read(&db), before);
}

#[test]
fn rejects_onto_the_database_or_the_input_are_refused_before_importing() {
    let env = seeded();
    let input = env.write_str(
        "p.csv",
        b"customer,date,amount\nC-1,2026-01-05,1\nC-1,2026-01-06,-1\n",
    );
    let db = env.db();
    let before = read(&db);
    let err = env.fails(
        &[
            "import",
            "purchases",
            &input,
            "--skip-invalid",
            "--rejects",
            &text(&db),
        ],
        1,
    );
    assert!(err.contains("--rejects"), "{err}");
    assert!(err.contains("the database itself"), "{err}");
    assert_eq!(read(&db), before);
    let original = read(Path::new(&input));
    let err = env.fails(
        &[
            "import",
            "purchases",
            &input,
            "--skip-invalid",
            "--rejects",
            &input,
        ],
        1,
    );
    assert!(err.contains("the file being imported"), "{err}");
    assert_eq!(read(Path::new(&input)), original, "the input changed");
    assert_eq!(env.count("purchases"), 0);
}

#[cfg(unix)]
#[test]
fn exports_and_rejects_are_private_to_the_owner() {
    use std::os::unix::fs::PermissionsExt as _;
    let env = seeded();
    let mode = |p: &Path| std::fs::metadata(p).expect("exists").permissions().mode() & 0o777;
    let out = env.path("c.csv");
    env.ok(&["export", "customers", "--out", &text(&out)]);
    assert_eq!(mode(&out), 0o600);
    // An existing, wider file is replaced by a private one.
    std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    env.ok(&["export", "customers", "--out", &text(&out)]);
    assert_eq!(mode(&out), 0o600);
    let input = env.write_str("p.csv", b"customer,date,amount\nC-9,2026-01-05,1\n");
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
    let env = seeded();
    let input = env.write_str(
        "p.csv",
        b"customer,date,amount\nC-1,2026-01-05,1\nC-1,2026-01-06,-1\n",
    );
    let missing = env.path("missing/rej.csv");
    let err = env.fails(
        &[
            "import",
            "purchases",
            &input,
            "--skip-invalid",
            "--rejects",
            &text(&missing),
        ],
        1,
    );
    assert!(err.contains("missing/rej.csv"), "{err}");
    assert_eq!(env.count("purchases"), 0, "the import ran");
}

#[cfg(target_os = "linux")]
#[test]
fn rejects_that_cannot_be_written_after_the_commit_say_the_import_was_committed() {
    let env = seeded();
    let input = env.write_str(
        "p.csv",
        b"customer,date,amount\nC-1,2026-01-05,1\nC-1,2026-01-06,-1\n",
    );
    let err = env.fails(
        &[
            "import",
            "purchases",
            &input,
            "--skip-invalid",
            "--rejects",
            "/dev/full",
        ],
        1,
    );
    assert!(err.contains("/dev/full"), "{err}");
    assert!(
        err.contains("the import was committed with 1 rows"),
        "{err}"
    );
    assert_eq!(env.count("purchases"), 1);
}

// ----- 2. strict CSV structure -----

/// A purchases file for Ada: a header, then `rows` good rows, with `first` as the
/// first row.
fn purchases_with_first(first: &str, rows: usize) -> Vec<u8> {
    let mut s = format!("customer,date,amount,description\n{first}\n");
    for i in 0..rows {
        s.push_str(&format!("C-1,2026-02-01,{i},row {i}\n"));
    }
    s.into_bytes()
}

#[test]
fn a_quote_open_at_the_end_of_the_file_is_an_error_where_it_began() {
    let env = seeded();
    let file = env.write_str(
        "open.csv",
        &purchases_with_first("C-1,2026-01-05,1,\"unterminated", 99),
    );
    let err = env.fails(&["import", "purchases", &file], 1);
    assert!(
        err.contains("open.csv:2: a quoted field opened here is never closed"),
        "{err}"
    );
    // Not a row to skip: it swallows the rest of the file.
    let rejects = text(&env.path("rej.csv"));
    let err = env.fails(
        &[
            "import",
            "purchases",
            &file,
            "--skip-invalid",
            "--rejects",
            &rejects,
        ],
        1,
    );
    assert!(err.contains("open.csv:2: a quoted field"), "{err}");
    assert!(!Path::new(&rejects).exists());
    assert_eq!(env.count("purchases"), 0);
    // The same in a customers file, after a quoted field that spans lines.
    let file = env.write_str(
        "c.csv",
        b"name,email\n\"Cleo\nFischer\",cleo@example.com\nDan,\"dan@example.com\n",
    );
    let err = env.fails(&["import", "customers", &file], 1);
    assert!(err.contains("c.csv:4: a quoted field opened here"), "{err}");
    assert_eq!(env.count("customers"), 2);
}

#[test]
fn stray_quotes_and_wrong_widths_are_structural_errors() {
    let env = seeded();
    for (name, row, message) in [
        (
            "mid.csv",
            "C-1,2026-01-05,1,ab\"c",
            "mid.csv:3: a quote inside a field that does not start with one",
        ),
        (
            "after.csv",
            "C-1,2026-01-05,1,\"ab\"c",
            "after.csv:3: text after the closing quote",
        ),
        (
            "wide.csv",
            "C-1,2026-01-05,1,a,b",
            "wide.csv:3: this row has 5 fields but the header has 4",
        ),
    ] {
        let file = env.write_str(
            name,
            format!(
                "customer,date,amount,description\n\"C-1\",2026-01-04,1,\"a \"\"b\"\"\"\n{row}\n"
            )
            .as_bytes(),
        );
        let err = env.fails(&["import", "purchases", &file], 1);
        assert!(err.contains(message), "{name}: {err}");
    }
    assert_eq!(env.count("purchases"), 0);
    // A field spanning lines keeps the line numbers right.
    let file = env.write_str(
        "lines.csv",
        b"customer,date,amount,description\nC-1,2026-01-04,1,\"two\nlines\"\nC-1,2026-01-05,1,x\"y\n",
    );
    let err = env.fails(&["import", "purchases", &file], 1);
    assert!(err.contains("lines.csv:4: a quote inside"), "{err}");
}

// ----- 3. --skip-invalid rejects structurally bad rows -----

#[test]
fn skip_invalid_rejects_malformed_rows_with_their_reason() {
    let env = seeded();
    let file = env.write_str(
        "p.csv",
        b"customer,date,amount,description\nC-1,2026-01-05,1,ok\nC-1,2026-01-06,2\nC-1,2026-01-07,3,caf\xe9\nC-1,2026-01-08,4,a\"b\nC-1,2026-01-09,5,ok too\n",
    );
    let rejects = env.path("rej.csv");
    let out = env.ok(&[
        "import",
        "purchases",
        &file,
        "--skip-invalid",
        "--rejects",
        &text(&rejects),
    ]);
    assert!(
        out.contains("2 purchases") && out.contains("3 rejected"),
        "{out}"
    );
    let written = std::fs::read_to_string(&rejects).expect("rejects are UTF-8");
    let lines: Vec<&str> = written.lines().collect();
    assert_eq!(lines.len(), 4, "{written}");
    assert!(
        lines[1].contains("line 3: this row has 3 fields but the header has 4"),
        "{written}"
    );
    assert!(
        lines[2].contains("caf\u{FFFD}") && lines[2].contains("not valid UTF-8"),
        "{written}"
    );
    assert!(lines[3].contains("line 5: a quote inside"), "{written}");
    // The same for customers, which are read whole.
    let file = env.write_str(
        "c.csv",
        b"name,email\nCleo,cleo@example.com\nD\xe4n,dan@example.com,extra\n",
    );
    let rejects = env.path("crej.csv");
    let out = env.ok(&[
        "import",
        "customers",
        &file,
        "--skip-invalid",
        "--rejects",
        &text(&rejects),
    ]);
    assert!(
        out.contains("1 created") && out.contains("1 rejected"),
        "{out}"
    );
    let written = std::fs::read_to_string(&rejects).expect("rejects");
    assert!(
        written.contains("line 3: this row has 3 fields")
            && written.contains("D\u{FFFD}n")
            && written.contains("not valid UTF-8"),
        "{written}"
    );
}

// ----- 6. other import and export defects -----

#[test]
fn a_header_only_file_and_an_empty_export_import_nothing_successfully() {
    let env = seeded();
    let file = env.write_str("h.csv", b"customer,date,amount\n");
    let out = env.ok(&["import", "purchases", &file]);
    assert!(out.contains("nothing to import"), "{out}");
    for what in ["purchases", "surveys"] {
        let out = env.path(&format!("{what}.csv"));
        env.ok(&["export", what, "--out", &text(&out)]);
        assert!(
            read(&out).starts_with(b"customer,date,"),
            "{what}: no header"
        );
        let said = env.ok(&["import", what, &text(&out)]);
        assert!(said.contains("nothing to import"), "{said}");
    }
    let other = Env::new();
    other.ok(&["init", "--currency", "EUR"]);
    let out = other.path("c.csv");
    other.ok(&["export", "customers", "--out", &text(&out)]);
    assert!(
        env.ok(&["import", "customers", &text(&out)])
            .contains("nothing to import")
    );
}

// ----- 5. CSV formula injection -----

#[test]
fn csv_exports_guard_formulas_and_reimport_the_original_text() {
    let env = seeded();
    env.ok(&[
        "customer",
        "add",
        "=HYPERLINK(\"http://evil\",\"x\")",
        "--phone",
        "+49 30 1234567",
        "--reference",
        "@ref",
        "--tag",
        "vip",
    ]);
    env.ok(&[
        "purchase",
        "add",
        "@ref",
        "10",
        "--at",
        "2026-01-05",
        "--description=-2+3",
    ]);
    env.ok(&[
        "survey",
        "record",
        "@ref",
        "--nps",
        "9",
        "--comment=+cmd|' /C calc'!A0",
        "--at",
        "2026-01-06",
    ]);
    let dir = tempfile::tempdir().expect("temp dir");
    let export = |env: &Env, what: &str| {
        let out = dir.path().join(format!("{what}.csv"));
        env.ok(&["export", what, "--out", &text(&out)]);
        String::from_utf8(read(&out)).expect("utf-8")
    };
    let first: Vec<String> = ["customers", "purchases", "surveys"]
        .iter()
        .map(|w| export(&env, w))
        .collect();
    for file in &first {
        for cell in file.lines().flat_map(|l| l.split(',')) {
            let cell = cell.trim_start_matches('"');
            assert!(
                !cell.starts_with(['=', '+', '-', '@']),
                "a formula cell: {cell} in\n{file}"
            );
        }
    }
    assert!(first[0].contains("'=HYPERLINK") && first[0].contains("'+49 30 1234567"));
    assert!(first[1].contains("'@ref") && first[1].contains("'-2+3"));
    assert!(first[2].contains("'+cmd|"));
    // Into a fresh database: the original text comes back, and exports the same.
    let other = Env::new();
    other.ok(&["init", "--currency", "EUR"]);
    for what in ["customers", "purchases", "surveys"] {
        other.ok(&[
            "import",
            what,
            &text(&dir.path().join(format!("{what}.csv"))),
        ]);
    }
    let shown = other.ok(&["--json", "customer", "show", "@ref"]);
    assert!(shown.contains("=HYPERLINK"), "{shown}");
    assert!(!shown.contains("'=HYPERLINK"), "{shown}");
    let second: Vec<String> = ["customers", "purchases", "surveys"]
        .iter()
        .map(|w| export(&other, w))
        .collect();
    assert_eq!(first, second);
}

#[test]
fn a_duplicate_email_in_one_customers_file_names_both_lines() {
    let env = seeded();
    let file = env.write_str(
        "c.csv",
        b"name,email,reference\nCleo,cleo@example.com,C-3\nDan,CLEO@example.com,C-4\n",
    );
    let err = env.fails(&["import", "customers", &file], 1);
    assert!(
        err.contains("c.csv:3: column 'email': 'CLEO@example.com' is also on line 2 of this file"),
        "{err}"
    );
    let file = env.write_str(
        "r.csv",
        b"name,email,reference\nCleo,cleo@example.com,C-3\nCleo F,,C-3\n",
    );
    let err = env.fails(&["import", "customers", &file], 1);
    assert!(
        err.contains("r.csv:3: column 'reference': 'C-3' is also on line 2"),
        "{err}"
    );
    assert_eq!(env.count("customers"), 2);
}

// ----- 4. one customer-key order everywhere -----

/// The name of the customer a key shows on the command line.
fn name_of(env: &Env, key: &str) -> String {
    let v: serde_json::Value =
        serde_json::from_str(&env.ok(&["--json", "customer", "show", key])).expect("JSON");
    v["customer"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[test]
fn bare_digits_are_a_reference_and_hash_digits_an_id_on_the_command_line_and_in_imports() {
    let env = seeded();
    env.ok(&["customer", "add", "Cleo Two", "--reference", "2"]);
    assert_eq!(name_of(&env, "2"), "Cleo Two");
    assert_eq!(name_of(&env, "#2"), "Bob Builder");
    assert_eq!(name_of(&env, "BOB@example.com"), "Bob Builder");
    let err = env.fails(&["customer", "show", "9"], 1);
    assert!(
        err.contains("no customer with reference '9'; for the customer with id 9 write #9"),
        "{err}"
    );
    let err = env.fails(&["customer", "show", "#9"], 1);
    assert!(err.contains("no customer with id 9"), "{err}");
    // An import reads its keys the same way.
    let file = env.write_str(
        "p.csv",
        b"customer,date,amount\n2,2026-01-05,1\n#2,2026-01-06,2\n",
    );
    env.ok(&["import", "purchases", &file]);
    let count = |key: &str| {
        let v: serde_json::Value =
            serde_json::from_str(&env.ok(&["--json", "purchase", "list", "--customer", key]))
                .expect("JSON");
        v.as_array().map_or(0, Vec::len)
    };
    assert_eq!((count("2"), count("#2")), (1, 1));
    let file = env.write_str("q.csv", b"customer,date,amount\n9,2026-01-05,1\n");
    let err = env.fails(&["import", "purchases", &file], 1);
    assert!(
        err.contains("q.csv:2: column 'customer': no customer with reference '9'; for the customer with id 9 write #9"),
        "{err}"
    );
}

#[test]
fn a_keyless_customer_is_exported_with_a_key_bound_to_its_database() {
    let env = seeded();
    // Dan has neither email nor reference; his id is 3 here.
    env.ok(&["customer", "add", "Dan Keyless"]);
    env.ok(&["purchase", "add", "#3", "10", "--at", "2026-01-05"]);
    let out = env.path("p.csv");
    env.ok(&["export", "purchases", "--out", &text(&out)]);
    let exported = String::from_utf8(read(&out)).expect("utf-8");
    let key = exported
        .lines()
        .nth(1)
        .and_then(|l| l.split(',').next())
        .expect("a row")
        .to_owned();
    assert!(key.starts_with("#3@") && key.len() > 3, "{exported}");
    assert_eq!(name_of(&env, &key), "Dan Keyless");
    // Into the same database: the same customer.
    env.ok(&["import", "purchases", &text(&out)]);
    let v: serde_json::Value =
        serde_json::from_str(&env.ok(&["--json", "purchase", "list", "--customer", "#3"]))
            .expect("JSON");
    assert_eq!(v.as_array().map_or(0, Vec::len), 2);
    // Into another database, where id 3 is someone else: refused, not misattributed.
    let other = seeded();
    other.ok(&["customer", "add", "Someone Else", "--reference", "X-3"]);
    let err = other.fails(&["import", "purchases", &text(&out)], 1);
    assert!(
        err.contains("p.csv:2: column 'customer': customer #3 of another database (book "),
        "{err}"
    );
    assert!(
        err.contains("export its customers with an email or reference"),
        "{err}"
    );
    assert_eq!(other.count("purchases"), 0);
    let err = other.fails(&["customer", "show", &key], 1);
    assert!(err.contains("of another database"), "{err}");
    // The customers export carries the key too, in CSV and JSON: a re-import into
    // the same database updates Dan instead of creating him again.
    let customers = env.path("c.csv");
    env.ok(&["export", "customers", "--out", &text(&customers)]);
    let said = env.ok(&["import", "customers", &text(&customers)]);
    assert!(said.contains("0 created, 0 updated, 3 unchanged"), "{said}");
    let json: serde_json::Value =
        serde_json::from_str(&env.ok(&["export", "customers", "--format", "json"])).expect("JSON");
    assert_eq!(json[2]["customer"].as_str(), Some(key.as_str()));
    assert_eq!(json[0]["customer"].as_str(), Some("C-1"));
    // Into another database he is someone new.
    let said = other.ok(&["import", "customers", &text(&customers)]);
    assert!(said.contains("1 created, 0 updated, 2 unchanged"), "{said}");
}

#[test]
fn a_reference_that_reads_as_another_key_is_not_exported_as_the_key() {
    let env = seeded();
    env.ok(&[
        "customer",
        "add",
        "Eve Hash",
        "--email",
        "eve@example.com",
        "--reference",
        "#1",
    ]);
    env.ok(&[
        "purchase",
        "add",
        "eve@example.com",
        "10",
        "--at",
        "2026-01-05",
    ]);
    let out = env.ok(&["export", "purchases"]);
    assert!(out.contains("\neve@example.com,2026-01-05"), "{out}");
    let other = seeded();
    other.ok(&[
        "customer",
        "add",
        "Eve Hash",
        "--email",
        "eve@example.com",
        "--reference",
        "#1",
    ]);
    let file = other.write_str("p.csv", out.as_bytes());
    other.ok(&["import", "purchases", &file]);
    assert_eq!(name_of(&other, "eve@example.com"), "Eve Hash");
    let v: serde_json::Value = serde_json::from_str(&other.ok(&[
        "--json",
        "purchase",
        "list",
        "--customer",
        "eve@example.com",
    ]))
    .expect("JSON");
    assert_eq!(v.as_array().map_or(0, Vec::len), 1);
}

// ----- 7. whatever a purchases file holds -----

/// One row of a generated purchases file: valid, or broken in one of the ways the
/// strict reader refuses.
#[derive(Debug, Clone, Copy)]
enum Made {
    Good,
    StrayQuote,
    AfterQuote,
    Narrow,
    Wide,
    NotUtf8,
}

fn make_row(kind: Made, i: usize) -> Vec<u8> {
    let row = match kind {
        Made::Good => format!("C-1,2026-01-05,{i},\"a, \"\"quoted\"\"\nline\"\n"),
        Made::StrayQuote => format!("C-1,2026-01-05,{i},ab\"c\n"),
        Made::AfterQuote => format!("C-1,2026-01-05,{i},\"ab\"c\n"),
        Made::Narrow => format!("C-1,2026-01-05,{i}\n"),
        Made::Wide => format!("C-1,2026-01-05,{i},x,y\n"),
        Made::NotUtf8 => {
            let mut row = format!("C-1,2026-01-05,{i},caf").into_bytes();
            row.extend(b"\xe9\n");
            return row;
        }
    };
    row.into_bytes()
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig {
        cases: 48,
        failure_persistence: None,
        ..proptest::prelude::ProptestConfig::default()
    })]

    /// A file of good and broken rows, perhaps ending inside a quoted field: the
    /// import never crashes; a quote open at the end, or (without --skip-invalid) any
    /// broken row, imports nothing; with --skip-invalid exactly the good rows are
    /// imported and the broken ones rejected.
    #[test]
    fn a_purchases_file_imports_exactly_its_well_formed_rows(
        kinds in proptest::collection::vec(
            proptest::sample::select(vec![
                Made::Good, Made::Good, Made::Good, Made::StrayQuote,
                Made::AfterQuote, Made::Narrow, Made::Wide, Made::NotUtf8,
            ]),
            0..12,
        ),
        open_at_end in proptest::bool::ANY,
    ) {
        let env = seeded();
        let mut file = b"customer,date,amount,description\n".to_vec();
        for (i, kind) in kinds.iter().enumerate() {
            file.extend(make_row(*kind, i));
        }
        if open_at_end {
            file.extend(b"C-1,2026-01-05,1,\"never closed\nC-1,2026-01-05,2,x\n");
        }
        let path = env.write_str("p.csv", &file);
        let good = kinds.iter().filter(|k| matches!(k, Made::Good)).count();
        let bad = kinds.len() - good;
        let plain = env.run(&["import", "purchases", &path]);
        let rejects = text(&env.path("rej.csv"));
        let skipping = env.run(&[
            "import", "purchases", &path, "--skip-invalid", "--rejects", &rejects,
        ]);
        for out in [&plain, &skipping] {
            let err = String::from_utf8_lossy(&out.stderr);
            proptest::prop_assert!(!err.contains("panicked"), "{err}");
        }
        if open_at_end {
            proptest::prop_assert_eq!(plain.status.code(), Some(1));
            proptest::prop_assert_eq!(skipping.status.code(), Some(1));
            proptest::prop_assert_eq!(env.count("purchases"), 0);
        } else {
            proptest::prop_assert_eq!(plain.status.code(), Some(if bad > 0 { 1 } else { 0 }));
            proptest::prop_assert_eq!(skipping.status.code(), Some(0));
            let imported_before = if bad > 0 { 0 } else { good };
            proptest::prop_assert_eq!(env.count("purchases"), imported_before + good);
            let rejected = csv::ReaderBuilder::new()
                .flexible(true)
                .from_path(&rejects)
                .expect("rejects written")
                .byte_records()
                .count();
            proptest::prop_assert_eq!(rejected, bad);
        }
    }
}
