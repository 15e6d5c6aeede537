//! `solocrm holiday ...` on the real binary: the fixed JSON of `holiday list`, presets
//! and own holidays (fixed and lunar) stored with the books, and `care` and the
//! calendar export picking them up. The books keep Asia/Shanghai's days.

mod common;

use common::Env;
use serde_json::{Value, json};

fn days(v: &Value) -> Vec<(String, String, String)> {
    v.as_array()
        .expect("a list")
        .iter()
        .map(|o| {
            (
                o["date"].as_str().expect("date").to_owned(),
                o["key"].as_str().expect("key").to_owned(),
                o["name"].as_str().expect("name").to_owned(),
            )
        })
        .collect()
}

#[test]
fn the_cn_preset_lists_the_lunar_holidays_of_a_year_as_fixed_json() {
    let env = Env::new();
    // With --calendar and --year no books are needed.
    let v = env.json(&["holiday", "list", "--year", "2025", "--calendar", "cn"]);
    let got = days(&v);
    let want: Vec<(String, String, String)> = [
        ("2025-01-01", "new_year", "元旦"),
        ("2025-01-28", "new_years_eve_lunar", "除夕"),
        ("2025-01-29", "spring_festival", "春节"),
        ("2025-02-12", "lantern_festival", "元宵节"),
        ("2025-04-04", "qingming", "清明节"),
        ("2025-05-01", "labour_day", "劳动节"),
        ("2025-05-31", "dragon_boat", "端午节"),
        ("2025-08-29", "qixi", "七夕"),
        ("2025-10-01", "national_day", "国庆节"),
        ("2025-10-06", "mid_autumn", "中秋节"),
        ("2025-10-29", "double_ninth", "重阳节"),
    ]
    .iter()
    .map(|(a, b, c)| ((*a).to_owned(), (*b).to_owned(), (*c).to_owned()))
    .collect();
    assert_eq!(got, want);
    // Exactly the three fields, in that shape.
    assert_eq!(
        v[2],
        json!({"date": "2025-01-29", "key": "spring_festival", "name": "春节"})
    );
    let err = env.fails(
        &["holiday", "list", "--year", "2101", "--calendar", "cn"],
        1,
    );
    assert!(err.contains("2101"), "{err}");
    let err = env.fails(
        &["holiday", "list", "--year", "2025", "--calendar", "mars"],
        1,
    );
    assert!(err.contains("mars"), "{err}");
}

#[test]
fn own_holidays_and_presets_are_kept_with_the_books_and_reach_care_and_the_calendar() {
    let env = Env::new();
    env.ok(&["init", "--currency", "CNY", "--timezone", "Asia/Shanghai"]);
    assert_eq!(env.json(&["holiday", "list", "--year", "2026"]), json!([]));
    env.ok(&["holiday", "use", "cn"]);
    env.ok(&["holiday", "add", "店庆", "--date", "06-18"]);
    env.ok(&[
        "holiday",
        "add",
        "妈妈生日",
        "--lunar",
        "4-28",
        "--key",
        "mum",
    ]);
    let year = days(&env.json(&["holiday", "list", "--year", "2026"]));
    assert_eq!(year.len(), 13, "{year:?}");
    assert!(year.contains(&("2026-06-18".into(), "店庆".into(), "店庆".into())));
    // Lunar 4-28 of 2026 is June 13.
    assert!(year.contains(&("2026-06-13".into(), "mum".into(), "妈妈生日".into())));
    // Bad input: a clear error, nothing stored.
    let err = env.fails(&["holiday", "add", "x", "--date", "02-30"], 1);
    assert!(err.contains("02-30"), "{err}");
    let err = env.fails(&["holiday", "add", "x", "--lunar", "13-1"], 1);
    assert!(err.contains("13-1"), "{err}");
    env.fails(&["holiday", "add", "x"], 2);
    assert_eq!(
        days(&env.json(&["holiday", "list", "--year", "2026"])).len(),
        13
    );
    // care sees 中秋节 (2026-09-25) from the books, beside a --holiday day.
    let care = env.json(&[
        "care",
        "--as-of",
        "2026-09-20",
        "--days",
        "7",
        "--holiday",
        "周年=09-22",
    ]);
    let holidays: Vec<(String, String)> = care
        .as_array()
        .expect("items")
        .iter()
        .filter(|i| i["reason"]["kind"] == "holiday")
        .map(|i| {
            (
                i["date"].as_str().expect("date").to_owned(),
                i["reason"]["name"].as_str().expect("name").to_owned(),
            )
        })
        .collect();
    assert_eq!(
        holidays,
        vec![
            ("2026-09-22".into(), "周年".into()),
            ("2026-09-25".into(), "中秋节".into())
        ]
    );
    // The calendar export has them as dated events with stable UIDs.
    let ics = env.ok(&["export", "calendar"]);
    let again = env.ok(&["export", "calendar"]);
    let uids = |s: &str| -> Vec<String> {
        s.lines()
            .filter(|l| l.starts_with("UID:holiday-"))
            .map(str::to_owned)
            .collect()
    };
    assert!(!uids(&ics).is_empty());
    assert_eq!(uids(&ics), uids(&again));
    // Removing: the key goes, a second removal is not found.
    env.ok(&["holiday", "remove", "店庆"]);
    env.fails(&["holiday", "remove", "店庆"], 1);
    env.ok(&["holiday", "use"]);
    let left = days(&env.json(&["holiday", "list", "--year", "2026"]));
    assert_eq!(
        left,
        vec![("2026-06-13".into(), "mum".into(), "妈妈生日".into())]
    );
}
