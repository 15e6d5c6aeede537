//! Tables align by display width, not characters: Chinese names, emoji and combining
//! marks (issue 13). For every data row of `customer list`, `care`, `churn-risk` and
//! `stage reassess`, each column starts at the terminal column its header starts at;
//! control characters are shown escaped and measured as shown; `COLUMNS` cuts long
//! cells with `…` to fit.

mod common;

use common::Env;
use unicode_segmentation::UnicodeSegmentation;
use unicode_width::UnicodeWidthStr;

/// A long Latin name that a narrow table has to cut.
const LONG: &str = "Maximiliana Theodora Featherstonehaugh-Cholmondeley";

/// The names, as given (each must be found in the tables as stored: NFC).
const NAMES: [&str; 6] = [
    "王芳",
    "李雷雷",
    // NFC makes this the one character ë; the next keeps its combining tilde, as Q
    // with a tilde has no precomposed form.
    "Zoe\u{308}",
    "Q\u{303}uentin",
    "Ana 😀",
    LONG,
];

/// The names as the tables show them (NFC).
fn shown() -> Vec<&'static str> {
    vec![
        "王芳",
        "李雷雷",
        "Zo\u{eb}",
        "Q\u{303}uentin",
        "Ana 😀",
        LONG,
    ]
}

/// One cell of a printed line: where it starts and ends, in terminal columns, and its
/// text. Cells are separated by two or more spaces (no cell here holds two spaces in
/// a row).
#[derive(Debug)]
struct Cell {
    start: usize,
    end: usize,
    text: String,
}

fn cells(line: &str) -> Vec<Cell> {
    let mut out: Vec<Cell> = Vec::new();
    let mut col = 0;
    let mut spaces = 2;
    let mut current: Option<Cell> = None;
    for g in line.graphemes(true) {
        let w = g.width();
        if g == " " {
            spaces += 1;
        } else {
            if spaces >= 2 {
                out.extend(current.take());
                current = Some(Cell {
                    start: col,
                    end: col,
                    text: String::new(),
                });
            }
            spaces = 0;
        }
        // A single space inside a cell is part of it.
        if let Some(c) = &mut current
            && spaces == 0
        {
            if c.end < col {
                c.text.push(' ');
            }
            c.text.push_str(g);
            c.end = col + w;
        }
        col += w;
    }
    out.extend(current);
    out
}

/// Checks that `table` (a command's output starting with its header) is aligned by
/// display width: `columns` names the header's columns, a leading `>` marking the
/// right-aligned ones. Every line holding one of `names` is a data row: each of its
/// left-aligned cells starts where its header starts, each right-aligned cell ends
/// where its header ends. Returns the rows' cells, to check their text.
#[track_caller]
fn assert_aligned(table: &str, columns: &[&str], names: &[&str]) -> Vec<Vec<Cell>> {
    let mut lines = table.lines();
    let header = cells(lines.next().expect("a header"));
    let heads: Vec<&str> = header.iter().map(|c| c.text.as_str()).collect();
    let want: Vec<&str> = columns.iter().map(|c| c.trim_start_matches('>')).collect();
    assert_eq!(heads, want, "{table}");
    let rows: Vec<Vec<Cell>> = lines
        .filter(|l| names.iter().any(|n| l.contains(n)))
        .map(cells)
        .collect();
    for row in &rows {
        assert_eq!(row.len(), header.len(), "{row:?}\n{table}");
        for ((cell, head), spec) in row.iter().zip(&header).zip(columns) {
            if spec.starts_with('>') {
                assert_eq!(
                    cell.end, head.end,
                    "{spec} ends at {}: {row:?}\n{table}",
                    head.end
                );
            } else {
                assert_eq!(
                    cell.start, head.start,
                    "{spec} starts at {}: {row:?}\n{table}",
                    head.start
                );
            }
        }
    }
    rows
}

/// The texts of column `i` in `rows`.
fn column(rows: &[Vec<Cell>], i: usize) -> Vec<&str> {
    rows.iter().map(|r| r[i].text.as_str()).collect()
}

/// The books: the six customers, each born in mid-June, each buying three months in a
/// row in early 2025 and then falling silent.
fn books() -> Env {
    let env = Env::new();
    env.init();
    for (i, name) in NAMES.iter().enumerate() {
        let email = format!("c{i}@example.com");
        let birthday = format!("1990-06-{:02}", 10 + i);
        env.ok(&[
            "customer",
            "add",
            name,
            "--email",
            &email,
            "--birthday",
            &birthday,
            "--tag",
            "vip",
            "--at",
            "2024-12-01",
        ]);
        for month in ["01", "02", "03"] {
            let at = format!("2025-{month}-{:02}", 5 + i);
            env.ok(&["purchase", "add", &email, "20", "--at", &at]);
        }
    }
    env
}

#[test]
fn customer_list_aligns_chinese_emoji_and_combining_marks() {
    let env = books();
    let names = shown();
    let list = env.ok(&["customer", "list"]);
    let columns = [
        ">ID",
        "NAME",
        "STAGE",
        "LAST PURCHASE",
        ">SPENT",
        "EMAIL",
        "TAGS",
        "SINCE",
    ];
    let rows = assert_aligned(&list, &columns, &names);
    assert_eq!(rows.len(), names.len(), "{list}");
    let mut got = column(&rows, 1);
    got.sort_unstable();
    let mut want = names.clone();
    want.sort_unstable();
    assert_eq!(got, want, "nothing is cut on a pipe: {list}");
    // The combining tilde survived NFC and takes no column.
    assert!(list.contains("Q\u{303}uentin"), "{list}");
}

#[test]
fn care_aligns_by_display_width() {
    let env = books();
    let names = shown();
    // A birthday each, and a year of silence each.
    let care = env.ok(&["care", "--as-of", "2026-06-08", "--days", "14"]);
    let rows = assert_aligned(&care, &["DATE", ">CUSTOMER", "NAME", "WHY"], &names);
    assert_eq!(rows.len(), 2 * names.len(), "{care}");
    let why = column(&rows, 3);
    let birthdays = why.iter().filter(|w| w.starts_with("birthday")).count();
    assert_eq!(birthdays, names.len(), "{care}");
    let mut got = column(&rows, 2);
    got.sort_unstable();
    got.dedup();
    let mut want = names.clone();
    want.sort_unstable();
    assert_eq!(got, want, "{care}");
}

#[test]
fn churn_risk_aligns_by_display_width() {
    let env = books();
    let names = shown();
    let risk = env.ok(&["churn-risk", "--as-of", "2025-05-20"]);
    let rows = assert_aligned(
        &risk,
        &[">CUSTOMER", "NAME", "STAGE", ">RISK", "WHY"],
        &names,
    );
    assert_eq!(rows.len(), names.len(), "everyone went quiet: {risk}");
}

#[test]
fn stage_reassess_aligns_by_display_width() {
    let env = books();
    let names = shown();
    let dry = env.ok(&["stage", "reassess", "--as-of", "2025-08-01"]);
    assert!(dry.contains("would move"), "{dry}");
    let rows = assert_aligned(&dry, &[">CUSTOMER", "NAME", "FROM", "TO", "WHY"], &names);
    assert_eq!(rows.len(), names.len(), "{dry}");
}

#[test]
fn controls_in_names_are_shown_escaped_and_measured_as_shown() {
    let env = Env::new();
    env.init();
    // Names refuse C0 controls but hold the invisible ones, which are shown escaped.
    for (name, email) in [
        ("王\u{202e}芳\u{200b}", "w@example.com"),
        ("Ana 😀", "a@example.com"),
    ] {
        env.ok(&["customer", "add", name, "--email", email, "--tag", "vip"]);
    }
    env.ok(&[
        "purchase",
        "add",
        "a@example.com",
        "10",
        "--description",
        "li\u{1b}[2Jne\nnext",
    ]);
    env.ok(&[
        "purchase",
        "add",
        "w@example.com",
        "10",
        "--description",
        "李雷",
    ]);
    let shown = "王\\u{202e}芳\\u{200b}";
    let list = env.ok(&["customer", "list"]);
    assert!(
        !list.contains('\u{202e}') && !list.contains('\u{200b}'),
        "{list}"
    );
    let rows = assert_aligned(
        &list,
        &[
            ">ID",
            "NAME",
            "STAGE",
            "LAST PURCHASE",
            ">SPENT",
            "EMAIL",
            "TAGS",
            "SINCE",
        ],
        &[shown, "Ana 😀"],
    );
    assert_eq!(rows.len(), 2, "{list}");
    assert!(column(&rows, 1).contains(&shown), "{list}");
    let purchases = env.ok(&["purchase", "list"]);
    assert!(!purchases.contains('\u{1b}'), "{purchases}");
    let header = purchases.lines().next().expect("a header").to_owned();
    let rows: Vec<&str> = purchases.lines().skip(1).collect();
    let at = |line: &str, text: &str| line.find(text).map(|i| line[..i].width());
    let desc = at(&header, "DESCRIPTION").expect("a description column");
    assert!(
        rows.iter()
            .any(|r| at(r, "li\\x1b[2Jne\\nnext") == Some(desc)),
        "{purchases}"
    );
    assert!(
        rows.iter().any(|r| at(r, "李雷") == Some(desc)),
        "{purchases}"
    );
}

#[test]
fn columns_cuts_long_cells_with_an_ellipsis() {
    let env = books();
    let run = |columns: &str, args: &[&str]| -> String {
        let out = env
            .command(args)
            .env("COLUMNS", columns)
            .output()
            .expect("the binary runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf-8")
    };
    let care = run("40", &["care", "--as-of", "2026-06-08", "--days", "14"]);
    for line in care.lines() {
        assert!(
            line.width() <= 40,
            "{} columns: {line}\n{care}",
            line.width()
        );
    }
    assert!(!care.contains(LONG), "{care}");
    // What is cut still lines up. The long text columns give 8 columns each, the
    // dates stay whole, and the wide names fit whole in 8 columns.
    let names = shown();
    let names = names
        .iter()
        .map(|n| if *n == LONG { "Maximil…" } else { n });
    let names: Vec<&str> = names.collect();
    let rows = assert_aligned(&care, &["DATE", ">CUSTOMER", "NAME", "WHY"], &names);
    assert_eq!(rows.len(), 2 * names.len(), "{care}");
    let mut got = column(&rows, 2);
    got.sort_unstable();
    got.dedup();
    let mut want = names.clone();
    want.sort_unstable();
    assert_eq!(got, want, "{care}");
    assert!(column(&rows, 3).iter().all(|w| w.ends_with('…')), "{care}");
    assert!(column(&rows, 0).iter().all(|d| d.len() == 10), "{care}");

    // A wider table gives up its widest text column first.
    // (80 columns: the list also shows the last purchase and what was spent.)
    let list = run("80", &["customer", "list"]);
    for line in list.lines() {
        assert!(
            line.width() <= 80,
            "{} columns: {line}\n{list}",
            line.width()
        );
    }
    let columns = [
        ">ID",
        "NAME",
        "STAGE",
        "LAST PURCHASE",
        ">SPENT",
        "EMAIL",
        "TAGS",
        "SINCE",
    ];
    let rows = assert_aligned(&list, &columns, &["Maxim", "王芳"]);
    let long = rows
        .iter()
        .map(|r| r[1].text.as_str())
        .find(|n| n.starts_with("Maxim"))
        .expect("the long name");
    assert!(long.ends_with('…'), "{list}");
    assert!(list.contains("2024-12-01"), "dates are whole: {list}");

    // Without COLUMNS a pipe gets everything.
    assert!(env.ok(&["customer", "list"]).contains(LONG));
}
