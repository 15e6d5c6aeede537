//! File formats (issue 13): imports read UTF-8 (with or without a byte order mark),
//! UTF-16 and GB18030 (what Chinese Excel writes), with Chinese headers; `-` is
//! standard input for an import and standard output for `export --out`; exported
//! files are private to their owner. Each runs the real `solocrm` binary.

use std::io::Write as _;
use std::process::Stdio;

mod common;

use common::Env;

/// A customers file with Chinese headers.
const CUSTOMERS: &str = "姓名,邮箱,电话,生日\n\
                         张伟,zhang.wei@example.cn,+86 138 0000 0001,1990-01-02\n\
                         李娜,li.na@example.cn,,\n";

/// A purchases file with Chinese headers, for the customers above.
const PURCHASES: &str = "客户,下单时间,金额,订单号,商品\n\
                         zhang.wei@example.cn,2026-01-05,128.50,D-1,绿茶\n\
                         li.na@example.cn,2026-01-06 14:30,66,D-2,乌龙茶\n";

fn gb18030(text: &str) -> Vec<u8> {
    let (bytes, _, unmappable) = encoding_rs::GB18030.encode(text);
    assert!(!unmappable, "{text}");
    bytes.into_owned()
}

fn utf16le_with_mark(text: &str) -> Vec<u8> {
    std::iter::once(0xFEFF_u16)
        .chain(text.encode_utf16())
        .flat_map(u16::to_le_bytes)
        .collect()
}

fn fresh() -> Env {
    let env = Env::new();
    env.init();
    env
}

/// The customers' names, sorted.
fn names(env: &Env) -> Vec<String> {
    let list = env.json(&["customer", "list", "--limit", "10000"]);
    let mut names: Vec<String> = list["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|c| c["name"].as_str().expect("name").to_owned())
        .collect();
    names.sort();
    names
}

fn imports_the_chinese_customers(bytes: &[u8]) {
    let env = fresh();
    let file = env.write_str("customers.csv", bytes);
    let out = env.ok(&["import", "customers", &file]);
    assert!(out.contains("2 created"), "{out}");
    assert_eq!(names(&env), ["张伟", "李娜"]);
    let list = env.json(&["customer", "list"]);
    let zhang = list["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|c| c["name"] == "张伟")
        .expect("张伟");
    assert_eq!(zhang["email"], "zhang.wei@example.cn");
    assert_eq!(zhang["birthday"], "1990-01-02");
    assert!(zhang["phone"].as_str().is_some_and(|p| p.contains("138")));
}

#[test]
fn a_gb18030_file_with_chinese_headers_imports() {
    let bytes = gb18030(CUSTOMERS);
    assert!(std::str::from_utf8(&bytes).is_err(), "not UTF-8");
    imports_the_chinese_customers(&bytes);
}

#[test]
fn a_utf16_file_with_chinese_headers_imports() {
    imports_the_chinese_customers(&utf16le_with_mark(CUSTOMERS));
}

#[test]
fn utf8_with_a_byte_order_mark_imports() {
    imports_the_chinese_customers(&[b"\xEF\xBB\xBF", CUSTOMERS.as_bytes()].concat());
}

#[test]
fn a_gb18030_purchases_file_with_chinese_headers_imports() {
    let env = fresh();
    let customers = env.write_str("c.csv", CUSTOMERS.as_bytes());
    env.ok(&["import", "customers", &customers]);
    let purchases = env.write_str("p.csv", &gb18030(PURCHASES));
    let out = env.ok(&["import", "purchases", &purchases]);
    assert!(out.contains("2 purchases"), "{out}");
    let export = env.ok(&["export", "purchases"]);
    assert!(
        export.contains("128.50") && export.contains("D-1"),
        "{export}"
    );
    assert!(export.contains("乌龙茶"), "{export}");
}

#[test]
fn a_header_naming_a_column_twice_names_both() {
    let env = fresh();
    let file = env.write_str(
        "twice.csv",
        "姓名,email,邮箱\n张伟,a@x.cn,b@x.cn\n".as_bytes(),
    );
    let err = env.fails(&["import", "customers", &file], 1);
    assert!(
        err.contains("twice.csv:1:") && err.contains("'email' and '邮箱'"),
        "{err}"
    );
    assert_eq!(env.count("customers"), 0);
}

#[test]
fn dash_imports_standard_input_in_any_encoding() {
    let env = fresh();
    let mut child = env
        .command(&["import", "customers", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(&gb18030(CUSTOMERS))
        .expect("write stdin");
    let out = child.wait_with_output().expect("wait");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).expect("utf-8");
    assert!(stdout.contains("standard input: 2 created"), "{stdout}");
    assert_eq!(names(&env), ["张伟", "李娜"]);
}

#[test]
fn export_out_dash_writes_standard_output() {
    let env = fresh();
    let file = env.write_str("c.csv", CUSTOMERS.as_bytes());
    env.ok(&["import", "customers", &file]);
    let out = env
        .command(&["export", "customers", "--out", "-"])
        .current_dir(env.dir.path())
        .output()
        .expect("run");
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).expect("utf-8");
    assert!(text.starts_with("name,email,"), "{text}");
    assert!(text.contains("张伟,zhang.wei@example.cn"), "{text}");
    assert!(!env.path("-").exists(), "no file named '-'");
}

#[cfg(unix)]
#[test]
fn an_exported_file_is_private() {
    use std::os::unix::fs::PermissionsExt as _;
    let env = fresh();
    let out = env.path("out.csv");
    let out_text = out.to_str().expect("utf-8 path");
    let mode = || {
        std::fs::metadata(&out)
            .expect("exists")
            .permissions()
            .mode()
            & 0o777
    };
    env.ok(&["export", "customers", "--out", out_text]);
    assert_eq!(mode(), 0o600);
    std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    env.ok(&["export", "purchases", "--out", out_text]);
    assert_eq!(mode(), 0o600);
}

#[test]
fn a_file_in_no_known_encoding_is_refused_and_nothing_imported() {
    let env = fresh();
    let file = env.write_str("c.csv", CUSTOMERS.as_bytes());
    env.ok(&["import", "customers", &file]);
    // Bytes that are UTF-8 nowhere, UTF-16 nowhere and GB18030 nowhere (0xFF leads
    // nothing in any of them), in the header.
    let bad = env.write_str("bad.csv", b"name\xFF\xFF,email\n\xFF\xFEx,y@x.cn\n");
    let err = env.fails(&["import", "customers", &bad], 1);
    assert!(
        err.contains("bad.csv: byte 4: not UTF-8, UTF-16 or GB18030; save it as UTF-8"),
        "{err}"
    );
    // A spreadsheet itself, not its CSV: a zip file, NUL bytes and all.
    let xlsx = env.write_str(
        "book.xlsx",
        b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00\xFF\x9A\x0b\xe1\n\x00\x00",
    );
    let err = env.fails(&["import", "customers", &xlsx], 1);
    assert!(
        err.contains("book.xlsx: byte") && err.contains("save it as UTF-8"),
        "{err}"
    );
    assert_eq!(env.count("customers"), 2);
}

/// ASCII rows enough to fill the start that the encoding is first told from.
fn ascii_rows(n: usize, row: impl Fn(usize) -> String) -> String {
    (0..n).map(row).collect()
}

#[test]
fn gb18030_found_only_after_a_long_ascii_start_still_imports() {
    let env = fresh();
    let mut text = "name,email\n".to_owned();
    text += &ascii_rows(3_000, |i| format!("Customer {i},c{i}@example.com\n"));
    text += "张伟,zhang.wei@example.cn\n";
    assert!(text.len() > 64 * 1024);
    let file = env.write_str("late.csv", &gb18030(&text));
    let out = env.ok(&["import", "customers", &file]);
    assert!(out.contains("3001 created"), "{out}");
    assert!(names(&env).contains(&"张伟".to_owned()));

    // Purchases stream: the pass that met the Chinese row is rolled back and made
    // again in GB18030.
    let mut text = "客户,日期,金额,描述\n".to_owned();
    text += &ascii_rows(9_000, |i| {
        format!(
            "c{}@example.com,2026-01-05,{}.00,tea\n",
            i % 3_000,
            1 + i % 50
        )
    });
    text += "zhang.wei@example.cn,2026-01-06,12.00,绿茶\n";
    let purchases = env.write_str("late-p.csv", &gb18030(&text));
    let out = env.ok(&["import", "purchases", &purchases]);
    assert!(out.contains("9001 purchases"), "{out}");
    let export = env.ok(&["export", "purchases"]);
    assert!(export.contains("绿茶"), "{export}");
}

#[test]
fn a_stray_byte_late_in_a_long_utf8_file_stays_a_bad_row() {
    let env = fresh();
    let mut text = b"name,email\n".to_vec();
    text.extend(ascii_rows(3_000, |i| format!("Customer {i},c{i}@example.com\n")).bytes());
    text.extend(b"Caf\xe9,cafe@example.com\n");
    let file = env.write_str("stray.csv", &text);
    let err = env.fails(&["import", "customers", &file], 1);
    assert!(
        err.contains("stray.csv:3002:") && err.contains("not valid UTF-8"),
        "{err}"
    );
    assert_eq!(env.count("customers"), 0);
}
