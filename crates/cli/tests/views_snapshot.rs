//! `care`, `churn-risk`, `stage reassess`, `segment show`, `customer list --segment`
//! and `export purchases` on a fixed book against snapshots made before the speed work
//! of issue 14 on those commands (`fixtures/views-snapshot/make_snapshots.sh`, run with
//! the binary of ad067b1): their output must not change, byte for byte.
//!
//! The book is the archive of a 120-customer zh-CN demo (CNY, Asia/Shanghai, history up
//! to 2026-06-30) with interactions, surveys, requests, deals, tasks and stage
//! histories; one customer is erased and three segments are saved. Every command runs
//! with a fixed `--as-of`, so nothing depends on the clock: 2026-12-31 reads the books as
//! they are while that day is still ahead (the snapshots were made on 2026-11-30), the
//! earlier days read them through the as-of view, whose answers equal the books' own
//! when nothing lies after the cutoff (the as-of property tests), so the snapshots hold
//! after that day too.

mod common;

use common::Env;

const DIR: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/views-snapshot/"
);

/// Each snapshot file with the command that makes it (as in `make_snapshots.sh`).
const COMMANDS: &[(&str, &[&str])] = &[
    (
        "care.json",
        &["care", "--json", "--as-of", "2026-12-31", "--days", "30"],
    ),
    (
        "care-past.json",
        &[
            "care",
            "--json",
            "--as-of",
            "2025-12-31",
            "--days",
            "14",
            "--silent-days",
            "60",
            "--holiday",
            "店庆=01-08",
        ],
    ),
    (
        "care.txt",
        &["care", "--as-of", "2026-12-31", "--days", "30"],
    ),
    (
        "churn.json",
        &["churn-risk", "--json", "--as-of", "2026-12-31"],
    ),
    (
        "churn-past.json",
        &[
            "churn-risk",
            "--json",
            "--as-of",
            "2026-06-30",
            "--top",
            "15",
        ],
    ),
    ("churn.txt", &["churn-risk", "--as-of", "2026-12-31"]),
    (
        "reassess.json",
        &["stage", "reassess", "--json", "--as-of", "2026-12-31"],
    ),
    (
        "reassess-past.json",
        &["stage", "reassess", "--json", "--as-of", "2025-09-30"],
    ),
    (
        "reassess.txt",
        &["stage", "reassess", "--as-of", "2026-12-31"],
    ),
    (
        "segment-lapsed.json",
        &[
            "segment",
            "show",
            "lapsed",
            "--json",
            "--as-of",
            "2026-12-31",
        ],
    ),
    (
        "segment-big.json",
        &[
            "segment",
            "show",
            "big-spenders",
            "--json",
            "--as-of",
            "2026-12-31",
        ],
    ),
    (
        "segment-mail.json",
        &[
            "segment",
            "show",
            "mail-cn",
            "--json",
            "--as-of",
            "2025-06-30",
        ],
    ),
    (
        "segment-lapsed.txt",
        &["segment", "show", "lapsed", "--as-of", "2026-06-30"],
    ),
    (
        "list-lapsed.json",
        &[
            "customer",
            "list",
            "--json",
            "--segment",
            "lapsed",
            "--as-of",
            "2026-12-31",
            "--limit",
            "10",
        ],
    ),
    (
        "list-big-after.json",
        &[
            "customer",
            "list",
            "--json",
            "--segment",
            "big-spenders",
            "--as-of",
            "2026-06-30",
            "--limit",
            "5",
            "--after",
            "40",
        ],
    ),
    ("purchases.csv", &["export", "purchases"]),
    (
        "purchases.json",
        &["export", "purchases", "--format", "json"],
    ),
];

fn book() -> Env {
    let env = Env::new();
    env.ok(&[
        "-q",
        "init",
        "--currency",
        "CNY",
        "--timezone",
        "Asia/Shanghai",
    ]);
    env.ok(&["-q", "import", "all", &format!("{DIR}book.json")]);
    env.ok(&["-q", "customer", "erase", "#7", "--yes"]);
    for (name, expr) in [
        ("lapsed", "days_since_purchase > 90 and purchase_count >= 2"),
        (
            "big-spenders",
            r#"(tag = "vip" or total_spend >= 3000) and not stage = churned"#,
        ),
        (
            "mail-cn",
            r#"consent = "marketing-email" and country = "CN" and stage != prospect"#,
        ),
    ] {
        env.ok(&["-q", "segment", "add", name, expr]);
    }
    env
}

#[test]
fn views_and_export_are_unchanged() {
    let env = book();
    let mut differ = Vec::new();
    for (file, args) in COMMANDS {
        let mut all = vec!["--lang", "en"];
        all.extend_from_slice(args);
        let got = env.ok(&all);
        let want = std::fs::read_to_string(format!("{DIR}{file}")).expect("snapshot");
        // Each snapshot has something in it, so an empty answer cannot pass.
        assert!(want.len() > 100, "{file} is a real snapshot");
        if got != want {
            differ.push(format!("{file}: `{}`", args.join(" ")));
        }
    }
    assert!(differ.is_empty(), "output changed: {differ:#?}");
}

/// `report` on the same book, against snapshots made by 699d41a (the commit before the
/// report read only what its metrics need, issue 14): the whole book's dashboard of a
/// half year (JSON and text), a past period read through the as-of view, the year
/// 2026 (which reads the books as they are while its last day is ahead, as the views
/// above), and a quarterly series.
const REPORTS: &[(&str, &[&str])] = &[
    (
        "report.json",
        &[
            "report",
            "--json",
            "--from",
            "2026-01-01",
            "--to",
            "2026-06-30",
        ],
    ),
    (
        "report-past.json",
        &["report", "--json", "--as-of", "2025-09-30"],
    ),
    (
        "report-now.json",
        &[
            "report",
            "--json",
            "--from",
            "2026-01-01",
            "--to",
            "2026-12-31",
        ],
    ),
    (
        "report-now.txt",
        &["report", "--from", "2026-01-01", "--to", "2026-12-31"],
    ),
    (
        "report.txt",
        &["report", "--from", "2026-01-01", "--to", "2026-06-30"],
    ),
    (
        "report-quarters.json",
        &[
            "report",
            "--json",
            "--by",
            "quarter",
            "--from",
            "2025-07-01",
            "--to",
            "2026-06-30",
        ],
    ),
];

#[test]
fn reports_are_unchanged() {
    let env = book();
    let mut differ = Vec::new();
    for (file, args) in REPORTS {
        let mut all = vec!["--lang", "en"];
        all.extend_from_slice(args);
        let got = env.ok(&all);
        let want = std::fs::read_to_string(format!("{DIR}{file}")).expect("snapshot");
        assert!(want.len() > 1000, "{file} is a real snapshot");
        if got != want {
            differ.push(format!("{file}: `{}`", args.join(" ")));
        }
    }
    assert!(differ.is_empty(), "output changed: {differ:#?}");
}
