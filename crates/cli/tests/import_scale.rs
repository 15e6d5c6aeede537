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

// ----- 3. the rejects file has the header's shape -----

/// A row of a purchases file (header `customer,date,amount,description`).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Made {
    Good,
    /// Three fields.
    Narrow,
    /// Six fields.
    Wide,
    /// `"x"y`: text after a closing quote.
    AfterQuote,
    /// `a"b`: a quote inside an unquoted field.
    StrayQuote,
    /// A byte that is not UTF-8.
    NotUtf8,
    /// Too wide, with a stray quote and an escape sequence.
    Everything,
}

/// The bytes of row `i` of kind `kind`, without its line break.
fn made(kind: Made, i: usize) -> Vec<u8> {
    let start = format!("C-1,2026-01-05,{}.00", i + 1).into_bytes();
    let tail: &[u8] = match kind {
        Made::Good => b",fine",
        Made::Narrow => b"",
        Made::Wide => b",d,e,f",
        Made::AfterQuote => b",\"x\"y",
        Made::StrayQuote => b",a\"b",
        Made::NotUtf8 => b",caf\xe9",
        Made::Everything => b",\"x\"y,\x1b[31mred,z",
    };
    [start.as_slice(), tail].concat()
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig {
        cases: 24,
        failure_persistence: None,
        ..proptest::prelude::ProptestConfig::default()
    })]

    /// Whatever mix of well-formed and broken rows a file has, and whatever its line
    /// breaks, its rejects file reads back with the strict reader: every row exactly
    /// as wide as the header plus `reason`, every reason in that column naming the
    /// row's real line, the record as read in the reason when its cells cannot show
    /// it, and the rejects file imports again without a structural fault.
    #[test]
    fn the_rejects_file_always_has_the_header_shape(
        kinds in proptest::collection::vec(
            proptest::sample::select(vec![
                Made::Good, Made::Narrow, Made::Wide, Made::AfterQuote,
                Made::StrayQuote, Made::NotUtf8, Made::Everything,
            ]),
            1..10,
        ),
        crlf in proptest::bool::ANY,
        bom in proptest::bool::ANY,
    ) {
        let env = Env::new();
        env.init();
        env.ok(&["customer", "add", "Ada", "--reference", "C-1"]);
        let eol: &[u8] = if crlf { b"\r\n" } else { b"\n" };
        let mut file = if bom { b"\xef\xbb\xbf".to_vec() } else { Vec::new() };
        file.extend(b"customer,date,amount,description");
        file.extend(eol);
        for (i, kind) in kinds.iter().enumerate() {
            file.extend(made(*kind, i));
            file.extend(eol);
        }
        let path = env.write_str("p.csv", &file);
        let rejects = env.path("rej.csv");
        let rejects = rejects.to_str().unwrap();
        env.ok(&["import", "purchases", &path, "--skip-invalid", "--rejects", rejects]);

        let mut reader = csv::ReaderBuilder::new().from_path(rejects).unwrap();
        let header = reader.headers().unwrap().clone();
        proptest::prop_assert_eq!(
            header.iter().collect::<Vec<_>>(),
            vec!["customer", "date", "amount", "description", "reason"]
        );
        let records: Vec<csv::StringRecord> =
            reader.records().collect::<Result<_, _>>().unwrap();
        let bad: Vec<(usize, Made)> = kinds
            .iter()
            .copied()
            .enumerate()
            .filter(|(_, k)| *k != Made::Good)
            .collect();
        proptest::prop_assert_eq!(records.len(), bad.len());
        for (record, (i, kind)) in records.iter().zip(&bad) {
            proptest::prop_assert_eq!(record.len(), 5);
            proptest::prop_assert_eq!(&record[0], "C-1");
            let amount = format!("{}.00", i + 1);
            proptest::prop_assert_eq!(&record[2], amount.as_str());
            let reason = &record[4];
            let line = format!("line {}: ", i + 2);
            proptest::prop_assert!(reason.starts_with(&line), "{reason}");
            let raw = String::from_utf8_lossy(&made(*kind, *i)).into_owned();
            let shown = matches!(
                kind,
                Made::Wide | Made::AfterQuote | Made::StrayQuote | Made::Everything
            );
            proptest::prop_assert_eq!(
                reason.ends_with(&format!("; as read: {raw}")),
                shown,
                "{}", reason
            );
        }

        // The rejects file imports again (its reason column ignored): no row of it is
        // malformed.
        let again = env.path("again.csv");
        let again = again.to_str().unwrap();
        env.ok(&[
            "import", "purchases", rejects, "--ignore-unknown", "--skip-invalid",
            "--rejects", again,
        ]);
        let second = std::fs::read_to_string(again).unwrap();
        for bad in ["fields but the header", "quote", "not valid UTF-8"] {
            proptest::prop_assert!(!second.contains(bad), "{second}");
        }
    }
}
