//! Imports at scale and under races (issue 10, red-team pass): the bookkeeping after a
//! customers import is linear in the rows, a `--skip-invalid` purchases import whose
//! references appear in the store meanwhile needs few passes, and the rejects file
//! always has the header's shape. Each runs the real `solocrm` binary.

use std::fmt::Write as _;

mod common;

use common::Env;

/// The count of `what` in an import's JSON summary (`counts` is a list of pairs).
fn count(summary: &serde_json::Value, what: &str) -> u64 {
    summary["counts"]
        .as_array()
        .and_then(|pairs| {
            pairs
                .iter()
                .find(|p| p[0].as_str() == Some(what))
                .and_then(|p| p[1].as_u64())
        })
        .unwrap_or_else(|| panic!("no count '{what}' in {summary}"))
}

// ----- 1. the summary of a large customers import -----

#[test]
fn a_large_customers_import_counts_every_row_once() {
    let env = Env::new();
    env.init();
    // 10,000 customers already in the store, by reference.
    let mut first = String::from("name,reference\n");
    for i in 0..10_000 {
        writeln!(first, "Name {i},R{i}").unwrap();
    }
    let first = env.write_str("first.csv", first.as_bytes());
    let summary = env.json(&["import", "customers", &first]);
    assert_eq!(count(&summary, "created"), 10_000, "{summary}");

    // 30,000 rows: 5,000 unchanged, 5,000 renamed, 20,000 new, and two bad rows.
    let mut second = String::from("name,reference\n");
    for i in 0..30_000 {
        if i < 5_000 {
            writeln!(second, "Name {i},R{i}").unwrap();
        } else {
            writeln!(second, "Renamed {i},R{i}").unwrap();
        }
        if i == 12_345 || i == 23_456 {
            second.push_str(",BAD\n");
        }
    }
    let second = env.write_str("second.csv", second.as_bytes());
    let rejects = env.path("rejects.csv");
    let summary = env.json(&[
        "import",
        "customers",
        &second,
        "--skip-invalid",
        "--rejects",
        rejects.to_str().unwrap(),
    ]);
    assert_eq!(count(&summary, "created"), 20_000, "{summary}");
    assert_eq!(count(&summary, "updated"), 5_000, "{summary}");
    assert_eq!(count(&summary, "unchanged"), 5_000, "{summary}");
    assert_eq!(summary["rejected"].as_u64(), Some(2), "{summary}");
    assert_eq!(summary["rows"].as_u64(), Some(30_002), "{summary}");
}
