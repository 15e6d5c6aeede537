//! The business time zone (issue 12): chosen at `init`, shown and changed with
//! `settings`, and used for every day the CLI reads or shows. Instants stay UTC.
//!
//! The tests marked "needs the zone-aware core" check day-based rules computed in the
//! core (report counts, care windows); the rest check what the CLI itself reads and
//! shows.

mod common;

use std::path::Path;

use common::Env;

/// Books in `zone`, with one customer `#1` who joined in 2025.
fn books_in(zone: &str) -> Env {
    let env = Env::new();
    env.ok(&["init", "--currency", "CNY", "--timezone", zone]);
    env.ok(&["customer", "add", "Li Lei", "--at", "2025-06-01"]);
    env
}

/// The DATE column of `purchase list`, one per purchase, as the table lists them
/// (newest first): the one cell of a row that reads as a date.
fn listed_dates(env: &Env) -> Vec<String> {
    env.ok(&["purchase", "list"])
        .lines()
        .skip(1)
        .filter_map(|l| {
            l.split_whitespace()
                .find(|w| chrono::NaiveDate::parse_from_str(w, "%Y-%m-%d").is_ok())
                .map(str::to_owned)
        })
        .collect()
}

#[test]
fn init_stores_the_zone_and_settings_show_it() {
    let env = Env::new();
    let out = env.ok(&["init", "--currency", "CNY", "--timezone", "Asia/Shanghai"]);
    assert!(out.contains("Asia/Shanghai"), "{out}");
    let settings = env.json(&["settings", "show"]);
    assert_eq!(settings["timezone"], "Asia/Shanghai", "{settings}");
    assert_eq!(settings["currency"], "CNY", "{settings}");
    assert!(
        settings["book_id"]
            .as_str()
            .is_some_and(|id| id.len() == 16)
    );
    let shown = env.ok(&["settings", "show"]);
    assert!(shown.contains("timezone   Asia/Shanghai"), "{shown}");
}

#[test]
fn init_without_a_zone_takes_tz_else_the_system_zone() {
    let env = Env::new();
    let out = env
        .command(&["--json", "init"])
        .env("TZ", "Asia/Tokyo")
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let created: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(created["timezone"], "Asia/Tokyo");
    assert_eq!(env.json(&["settings", "show"])["timezone"], "Asia/Tokyo");
}

#[test]
fn an_unknown_zone_is_a_usage_error_with_a_hint() {
    let env = Env::new();
    let err = env.fails(&["init", "--timezone", "Mars/Olympus"], 2);
    assert!(err.contains("Mars/Olympus"), "{err}");
    assert!(err.contains("IANA name such as Asia/Shanghai"), "{err}");
    assert!(!env.db().exists(), "nothing was created");
    let err = env.fails(&["init", "--timezone", "Beijing"], 2);
    assert!(err.contains("use Asia/Shanghai"), "{err}");
    let env = books_in("UTC");
    let err = env.fails(&["settings", "set", "--timezone", "UTC+8"], 2);
    assert!(err.contains("Etc/GMT-8"), "{err}");
    assert_eq!(env.json(&["settings", "show"])["timezone"], "UTC");
}

#[test]
fn a_beijing_new_year_sale_at_seven_is_on_the_first_of_january() {
    let env = books_in("Asia/Shanghai");
    env.ok(&["purchase", "add", "#1", "88", "--at", "2026-01-01 07:00"]);
    assert_eq!(listed_dates(&env), ["2026-01-01"]);
    // The instant itself stays UTC in the JSON: 23:00 on New Year's Eve.
    let list = env.json(&["purchase", "list"]);
    assert_eq!(list[0]["at"], "2025-12-31T23:00:00Z", "{list}");
}

#[test]
fn a_beijing_new_year_sale_counts_in_the_new_years_report() {
    // Needs the zone-aware core: the report's purchase kernels count local days.
    let env = books_in("Asia/Shanghai");
    env.ok(&["purchase", "add", "#1", "88", "--at", "2026-01-01 07:00"]);
    let january = env.json(&["report", "--from", "2026-01-01", "--to", "2026-01-31"]);
    assert_eq!(
        january["report"]["purchases"]["stats"]["orders"], 1,
        "{}",
        january["report"]["purchases"]["stats"]
    );
    let december = env.json(&["report", "--from", "2025-12-01", "--to", "2025-12-31"]);
    assert_eq!(
        december["report"]["purchases"]["stats"]["orders"], 0,
        "{}",
        december["report"]["purchases"]["stats"]
    );
}

#[test]
fn a_singles_day_order_at_half_past_seven_lands_on_the_eleventh() {
    let env = books_in("Asia/Shanghai");
    env.ok(&["purchase", "add", "#1", "11.11", "--at", "2026-11-11 07:30"]);
    env.ok(&[
        "purchase",
        "add",
        "#1",
        "9.90",
        "--at",
        "2026-11-11T07:30:00Z",
    ]);
    // The second has an explicit offset: 15:30 in Beijing, the same day.
    assert_eq!(listed_dates(&env), ["2026-11-11", "2026-11-11"]);
    let list = env.json(&["purchase", "list"]);
    assert_eq!(list[0]["at"], "2026-11-10T23:30:00Z", "{list}");
    assert_eq!(list[1]["at"], "2026-11-11T07:30:00Z", "{list}");
    let shown = env.ok(&["customer", "show", "#1"]);
    assert!(
        shown.contains("2026-11-11") && !shown.contains("2026-11-10"),
        "{shown}"
    );
}

#[test]
fn typed_times_in_a_dst_gap_move_forward_and_in_an_overlap_take_the_earlier() {
    let env = books_in("America/New_York");
    env.ok(&["purchase", "add", "#1", "1", "--at", "2026-03-08 02:30"]);
    env.ok(&["purchase", "add", "#1", "1", "--at", "2026-11-01 01:30"]);
    let list = env.json(&["purchase", "list"]);
    assert_eq!(list[0]["at"], "2026-03-08T07:30:00Z", "03:30 EDT: {list}");
    assert_eq!(list[1]["at"], "2026-11-01T05:30:00Z", "01:30 EDT: {list}");
    // The table lists the newest first.
    assert_eq!(listed_dates(&env), ["2026-11-01", "2026-03-08"]);
}

#[test]
fn a_birthday_on_the_dst_gap_day_is_due_on_that_local_day() {
    // Needs the zone-aware core: care counts its window in local days.
    let env = Env::new();
    env.ok(&["init", "--timezone", "America/New_York"]);
    env.ok(&[
        "customer",
        "add",
        "Ann",
        "--birthday",
        "1990-03-08",
        "--at",
        "2025-06-01",
    ]);
    // Recent contact, so that only the birthday is due.
    env.ok(&[
        "interaction",
        "log",
        "#1",
        "hi",
        "--channel",
        "phone",
        "--at",
        "2026-03-01",
    ]);
    let birthdays = |as_of: &str, days: &str| -> Vec<String> {
        let items = env.json(&["care", "--as-of", as_of, "--days", days]);
        items
            .as_array()
            .expect("a list")
            .iter()
            .filter(|i| i["reason"]["kind"] == "birthday")
            .map(|i| i["date"].as_str().expect("a date").to_owned())
            .collect()
    };
    // 8 March 2026 is 23 hours long in New York; the birthday is on it all the same.
    assert_eq!(birthdays("2026-03-07", "1"), ["2026-03-08"]);
    assert_eq!(birthdays("2026-03-08", "0"), ["2026-03-08"]);
    assert!(
        birthdays("2026-03-07", "0").is_empty(),
        "not the day before"
    );
    assert!(birthdays("2026-03-09", "3").is_empty(), "not the day after");
    let table = env.ok(&["care", "--as-of", "2026-03-07", "--days", "1"]);
    assert!(table.contains("2026-03-08"), "{table}");
}

#[test]
fn changing_the_zone_keeps_instants_and_recounts_days() {
    let env = books_in("UTC");
    env.ok(&["purchase", "add", "#1", "5", "--at", "2026-03-01 22:00"]);
    assert_eq!(listed_dates(&env), ["2026-03-01"]);
    let out = env.ok(&["settings", "set", "--timezone", "Asia/Shanghai"]);
    assert!(out.contains("UTC -> Asia/Shanghai"), "{out}");
    assert!(out.contains("exact instants"), "{out}");
    // 22:00 UTC is 06:00 the next morning in Beijing.
    assert_eq!(listed_dates(&env), ["2026-03-02"]);
    assert_eq!(
        env.json(&["purchase", "list"])[0]["at"],
        "2026-03-01T22:00:00Z"
    );
    assert_eq!(env.json(&["settings", "show"])["timezone"], "Asia/Shanghai");
    let back = env.json(&["settings", "set", "--timezone", "America/New_York"]);
    assert_eq!(back["previous_timezone"], "Asia/Shanghai", "{back}");
    assert_eq!(back["timezone"], "America/New_York", "{back}");
    // 17:00 the same day in New York.
    assert_eq!(listed_dates(&env), ["2026-03-01"]);
    // Typed dates follow the new zone at once.
    env.ok(&["purchase", "add", "#1", "5", "--at", "2026-03-01 22:00"]);
    assert_eq!(
        env.json(&["purchase", "list"])[1]["at"],
        "2026-03-02T03:00:00Z"
    );
}

#[test]
fn books_from_before_the_zone_count_utc_days() {
    let env = Env::new();
    let fixture =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/schema-v5/books.sqlite");
    std::fs::copy(fixture, env.db()).expect("the fixture copies");
    let settings = env.json(&["settings", "show"]);
    assert_eq!(settings["timezone"], "UTC", "{settings}");
    let shown = env.ok(&["settings", "show"]);
    assert!(shown.contains("timezone   UTC"), "{shown}");
}

#[test]
fn as_of_and_to_cannot_be_given_together() {
    let env = books_in("UTC");
    let err = env.fails(
        &["report", "--to", "2026-01-31", "--as-of", "2026-01-15"],
        2,
    );
    assert!(err.contains("cannot be used with"), "{err}");
    env.fails(
        &["pipeline", "--to", "2026-01-31", "--as-of", "2026-01-15"],
        2,
    );
    // Each alone is fine.
    env.ok(&["report", "--as-of", "2026-01-15"]);
    env.ok(&["report", "--to", "2026-01-31"]);
}

#[test]
fn the_as_of_day_of_a_report_is_the_books_local_day() {
    let env = books_in("Asia/Shanghai");
    let report = env.json(&["report", "--as-of", "2026-01-15T20:00:00Z"]);
    // 20:00 UTC is 04:00 on the 16th in Beijing.
    assert_eq!(report["period"]["end"], "2026-01-17", "{report}");
}

#[test]
fn a_chinese_demo_is_a_beijing_shop() {
    let env = Env::new();
    env.ok(&[
        "demo",
        "--locale",
        "zh-CN",
        "--customers",
        "60",
        "--end",
        "2026-06-30",
    ]);
    assert_eq!(env.json(&["settings", "show"])["timezone"], "Asia/Shanghai");
    let list = env.json(&["purchase", "list"]);
    let hours: Vec<u32> = list
        .as_array()
        .expect("purchases")
        .iter()
        .map(|p| {
            let at = chrono::DateTime::parse_from_rfc3339(p["at"].as_str().expect("at"))
                .expect("RFC 3339");
            let beijing = at.with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).expect("+08"));
            chrono::Timelike::hour(&beijing)
        })
        .collect();
    assert!(hours.len() > 100, "{}", hours.len());
    let night = hours.iter().filter(|&&h| (1..=5).contains(&h)).count();
    assert!(
        night * 10 < hours.len(),
        "a Beijing shop sells little between 01:00 and 06:00: {night} of {}",
        hours.len()
    );
    // The history ends with 30 June in Beijing.
    let last = list
        .as_array()
        .and_then(|l| l.iter().filter_map(|p| p["at"].as_str()).max())
        .expect("a last purchase");
    assert!(last < "2026-06-30T16:00:00Z", "{last}");
}

#[test]
fn the_english_demo_keeps_utc() {
    let env = Env::new();
    env.ok(&["demo", "--customers", "20", "--end", "2025-12-31"]);
    assert_eq!(env.json(&["settings", "show"])["timezone"], "UTC");
}
