//! `demo --end` and `demo --locale` (issue 12): a history that ends on a given day
//! (today by default), and a Chinese shop in CNY.

mod common;

use chrono::{Days, NaiveDate, Utc};
use common::Env;

fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(&s[..10], "%Y-%m-%d").expect("a date")
}

fn is_cjk(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
}

#[test]
fn a_chinese_demo_shop_in_cny_ends_on_its_end_date() {
    let env = Env::new();
    let out = env.ok(&[
        "demo",
        "--locale",
        "zh-CN",
        "--customers",
        "50",
        "--end",
        "2026-06-30",
    ]);
    assert!(out.contains("solocrm dashboard"), "{out}");
    assert!(out.contains("CNY"), "{out}");
    // The lunar holidays after the end, and the command that keeps the calendar.
    assert!(out.contains("中秋节 2026-09-25, 春节 2027-02-06"), "{out}");
    assert!(out.contains("solocrm holiday use cn"), "{out}");

    let list = env.json(&["customer", "list", "--limit", "50"]);
    let customers = list["items"].as_array().expect("items");
    assert_eq!(customers.len(), 50);
    let names: Vec<&str> = customers
        .iter()
        .filter_map(|c| c["name"].as_str())
        .collect();
    assert!(names.iter().all(|n| is_cjk(n)), "{names:?}");
    for c in customers {
        if let Some(phone) = c["phone"].as_str() {
            assert!(phone.starts_with("+86 1"), "{phone}");
        }
        if let Some(city) = c["profile"]["city"].as_str() {
            assert!(is_cjk(city), "{city}");
        }
        if let Some(cost) = c["acquisition_cost"]["currency"].as_str() {
            assert_eq!(cost, "CNY");
        }
    }
    assert!(
        customers
            .iter()
            .any(|c| c["acquisition_channel"] == "wechat"),
        "WeChat is among the acquisition channels"
    );

    let report = env.json(&["report", "--as-of", "2026-06-30"]);
    assert_eq!(report["as_of"], "2026-06-30");
    let text = report.to_string();
    assert!(
        text.contains("\"CNY\"") && !text.contains("\"EUR\""),
        "{text}"
    );

    let purchases: serde_json::Value =
        serde_json::from_str(&env.ok(&["export", "purchases", "--format", "json"])).expect("JSON");
    let rows = purchases.as_array().expect("rows");
    assert!(!rows.is_empty());
    assert!(rows.iter().all(|p| p["currency"] == "CNY"));
    let end = date("2026-06-30");
    let last = rows
        .iter()
        .filter_map(|p| p["date"].as_str())
        .map(date)
        .max()
        .expect("a last purchase");
    assert!(last <= end, "{last} after the end");
    assert!(
        last >= end - Days::new(2 * 365),
        "{last} long before the end"
    );
    let first = rows
        .iter()
        .filter_map(|p| p["date"].as_str())
        .map(date)
        .min()
        .expect("a first purchase");
    assert!(first >= date("2023-07-01"), "{first} before the history");
}

/// `text` with every `@` and 16 hexadecimal digits (a book id) taken out.
fn without_book_ids(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('@') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let hex = after.bytes().take(16).filter(u8::is_ascii_hexdigit).count();
        if hex == 16 {
            rest = &after[16..];
        } else {
            out.push('@');
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

#[test]
fn the_same_end_and_seed_give_the_same_shop() {
    let (a, b) = (Env::new(), Env::new());
    for env in [&a, &b] {
        env.ok(&[
            "demo",
            "--locale",
            "zh-CN",
            "--customers",
            "30",
            "--seed",
            "9",
            "--end",
            "2025-03-31",
        ]);
    }
    // Each database has its own book id, which customer keys without an email or
    // reference carry (`#12@<book>`); everything else is the same.
    let export =
        |env: &Env| without_book_ids(&env.ok(&["export", "purchases", "--format", "json"]));
    assert_eq!(export(&a), export(&b));
    let list = |env: &Env| env.json(&["customer", "list"]);
    assert_eq!(list(&a), list(&b));
}

#[test]
fn right_after_the_default_demo_care_is_not_a_year_of_silence() {
    let env = Env::new();
    env.ok(&["demo", "--customers", "300"]);
    let today = Utc::now().date_naive();
    // The history ends today: the latest purchase is recent.
    let purchases: serde_json::Value =
        serde_json::from_str(&env.ok(&["export", "purchases", "--format", "json"])).expect("JSON");
    let last = purchases
        .as_array()
        .expect("rows")
        .iter()
        .filter_map(|p| p["date"].as_str())
        .map(date)
        .max()
        .expect("a last purchase");
    assert!(last <= today && last >= today - Days::new(31), "{last}");
    // A history ending in 2025 makes every silence at least the days since then, and
    // most far more (282 items, 177 of "no contact for 333+ days" on 2026-11-29).
    let care = env.json(&["care"]);
    let items = care.as_array().expect("items");
    let mut silences: Vec<u64> = items
        .iter()
        .filter(|i| i["reason"]["kind"] == "no_contact")
        .filter_map(|i| i["reason"]["days"].as_u64())
        .collect();
    silences.sort_unstable();
    assert!(!silences.is_empty());
    assert!(
        silences.iter().any(|&d| d < 180),
        "no recent silence: {silences:?}"
    );
    let median = silences[silences.len() / 2];
    assert!(median < 365, "median silence {median} days: {silences:?}");
    assert!(items.len() < 200, "{} care items", items.len());
}

#[test]
fn the_demo_refuses_an_end_in_the_future_or_long_ago_and_an_unknown_locale() {
    let env = Env::new();
    let later = (Utc::now().date_naive() + Days::new(2)).to_string();
    let err = env.fails(&["demo", "--customers", "5", "--end", &later], 1);
    assert!(err.contains("is in the future"), "{err}");
    let err = env.fails(&["demo", "--customers", "5", "--end", "2009-12-31"], 1);
    assert!(err.contains("too early"), "{err}");
    let err = env.fails(&["demo", "--customers", "5", "--end", "31.12.2025"], 1);
    assert!(err.contains("YYYY-MM-DD"), "{err}");
    let out = env.run(&["demo", "--locale", "fr"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(!env.db().exists());
}
