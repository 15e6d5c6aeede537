//! The holiday calendar on the web (issue 18): `/holidays` lists a year with each
//! holiday's date, name, key and kind; the presets are chosen, own holidays added and
//! removed as `solocrm holiday` does; every bad input is a 422 beside its field with
//! nothing written; cross-site posts are refused; the care list sees a change at once.

use axum::http::StatusCode;
use chrono::{DateTime, TimeZone as _, Utc};
use solocrm_app::{Books, Location, OpenOptions};
use solocrm_core::holiday::{HolidayCalendar, HolidayDef, HolidayRule, Preset};
use solocrm_core::{BusinessZone, Currency, Label, Store as _, Tag};
use solocrm_web::app;

mod common;

use common::{get, post, post_from};

/// 2026-06-15 10:00 in Shanghai.
fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 15, 2, 0, 0)
        .single()
        .expect("instant")
}

fn books() -> Books {
    let b =
        Books::create(&Location::Memory, Currency::CNY, &OpenOptions::default()).expect("books");
    b.set_time_zone(BusinessZone::parse("Asia/Shanghai").expect("zone"))
        .expect("zone set");
    b
}

fn calendar(books: &Books) -> HolidayCalendar {
    books.holiday_calendar().expect("calendar")
}

/// The row of `key` in the year's table, from its `<tr>` to its `</tr>`.
fn row<'a>(body: &'a str, key: &str) -> &'a str {
    let start = body
        .find(&format!("<tr data-key=\"{key}\""))
        .unwrap_or_else(|| panic!("no row {key} in {body}"));
    let end = body[start..].find("</tr>").expect("row end");
    &body[start..start + end]
}

#[tokio::test]
async fn the_page_lists_this_year_of_the_chosen_presets() {
    let books = books();
    let router = app(books.clone(), common::config(now, false));
    let empty = get(&router, "/holidays").await;
    assert_eq!(empty.status, StatusCode::OK, "{}", empty.body);
    assert!(empty.body.contains("id=\"no-holidays\""));
    assert!(
        empty
            .body
            .contains("href=\"/holidays\" aria-current=\"page\"")
    );

    let chosen = post(&router, "/holidays/presets", &[("presets", "cn")]).await;
    assert_eq!(chosen.status, StatusCode::SEE_OTHER, "{}", chosen.body);
    assert_eq!(chosen.location(), "/holidays");
    assert_eq!(calendar(&books).presets, vec![Preset::Cn]);

    // This year in the books' zone: 2026, 春节 on February 17, a lunar date.
    let page = get(&router, "/holidays").await;
    assert!(page.body.contains("Holidays of 2026"), "{}", page.body);
    let spring = row(&page.body, "spring_festival");
    assert!(spring.contains("2026-02-17") && spring.contains("春节"));
    assert!(spring.contains("data-kind=\"lunar\""));
    assert!(row(&page.body, "national_day").contains("data-kind=\"fixed\""));
    assert!(row(&page.body, "qingming").contains("data-kind=\"computed\""));
    // The chosen presets are the form's selection.
    assert!(page.body.contains("<option value=\"cn\" selected>"));

    // Another year, in Chinese: 中秋节 of 2025 is October 6.
    let other = get(&router, "/holidays?year=2025&lang=zh-CN").await;
    assert_eq!(other.status, StatusCode::OK);
    assert!(other.body.contains("2025 年的节日"));
    let mid = row(&other.body, "mid_autumn");
    assert!(mid.contains("2025-10-06") && mid.contains("中秋节") && mid.contains("农历"));

    // The order of `holiday use` is kept; `none` chooses no preset.
    let both = post(&router, "/holidays/presets", &[("presets", "western,cn")]).await;
    assert_eq!(both.status, StatusCode::SEE_OTHER);
    assert_eq!(calendar(&books).presets, vec![Preset::Western, Preset::Cn]);
    let page = get(&router, "/holidays").await;
    // Both calendars have new_year: the first one's name is kept.
    assert!(row(&page.body, "new_year").contains("New Year"));
    let none = post(&router, "/holidays/presets", &[("presets", "none")]).await;
    assert_eq!(none.status, StatusCode::SEE_OTHER);
    assert!(calendar(&books).presets.is_empty());
}

#[tokio::test]
async fn bad_years_and_presets_are_422_beside_the_field() {
    let books = books();
    books.set_holiday_presets(&[Preset::Cn]).expect("presets");
    let router = app(books.clone(), common::config(now, false));
    for (year, says) in [
        ("1899", "outside the calendar's range 1900-2100"),
        ("2101", "outside the calendar's range 1900-2100"),
        ("next", "is not a year"),
    ] {
        let page = get(&router, &format!("/holidays?year={year}")).await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY, "{year}");
        assert!(
            page.body.contains("id=\"holiday-year-year-error\""),
            "{year}"
        );
        assert!(page.body.contains(says), "{year}: {}", page.body);
    }
    for year in ["1900", "2100"] {
        let page = get(&router, &format!("/holidays?year={year}")).await;
        assert_eq!(page.status, StatusCode::OK, "{year}");
        assert!(page.body.contains(&format!("Holidays of {year}")));
    }

    let bad = post(&router, "/holidays/presets", &[("presets", "cn,<mars>")]).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("id=\"holiday-presets-presets-error\""));
    assert!(bad.body.contains("unknown holiday calendar"));
    assert!(bad.body.contains("&lt;mars&gt;") && !bad.body.contains("<mars>"));
    assert_eq!(calendar(&books).presets, vec![Preset::Cn]);

    let forged = post_from(
        &router,
        "/holidays/presets",
        &[("presets", "none")],
        "cross-site",
    )
    .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert_eq!(calendar(&books).presets, vec![Preset::Cn]);
}

#[tokio::test]
async fn own_holidays_are_added_shown_in_care_and_removed() {
    let books = books();
    let router = app(books.clone(), common::config(now, false));
    // The care list is kept between requests: a holiday added must still show.
    let care = get(&router, "/care").await;
    assert_eq!(care.status, StatusCode::OK);
    assert!(!care.body.contains("店庆"));

    let added = post(
        &router,
        "/holidays",
        &[
            ("name", "店庆"),
            ("key", ""),
            ("kind", "fixed"),
            ("day", "06-18"),
        ],
    )
    .await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.body);
    let own = calendar(&books).own;
    assert_eq!(own.len(), 1);
    assert_eq!(own[0].key.as_str(), "店庆");
    assert_eq!(own[0].rule, HolidayRule::Fixed { month: 6, day: 18 });
    let care = get(&router, "/care").await;
    assert!(care.body.contains("店庆"), "{}", care.body);

    // A lunar holiday in a leap month, with a hostile name.
    let lunar = post(
        &router,
        "/holidays",
        &[
            ("name", "<script>alert(1)</script>"),
            ("key", "grandma"),
            ("kind", "lunar"),
            ("day", "4-5"),
            ("leap", "1"),
        ],
    )
    .await;
    assert_eq!(lunar.status, StatusCode::SEE_OTHER, "{}", lunar.body);
    let page = get(&router, "/holidays?year=2025").await;
    assert!(!page.body.contains("<script>alert"));
    assert!(page.body.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(row(&page.body, "店庆").contains("2025-06-18"));
    assert!(row(&page.body, "店庆").contains("data-kind=\"fixed\""));
    assert!(row(&page.body, "grandma").contains("data-kind=\"lunar\""));
    assert!(page.body.contains("lunar leap 4-5"));
    assert_eq!(
        calendar(&books).own[0].rule,
        HolidayRule::Lunar {
            month: 4,
            day: 5,
            leap: true
        }
    );

    let removed = post(&router, "/holidays/remove", &[("key", "店庆")]).await;
    assert_eq!(removed.status, StatusCode::SEE_OTHER, "{}", removed.body);
    assert_eq!(calendar(&books).own.len(), 1);
    let again = post(&router, "/holidays/remove", &[("key", "店庆")]).await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
    assert!(again.body.contains("店庆"));
    let blank = post(&router, "/holidays/remove", &[("key", " ")]).await;
    assert_eq!(blank.status, StatusCode::UNPROCESSABLE_ENTITY);
    let forged = post_from(
        &router,
        "/holidays/remove",
        &[("key", "grandma")],
        "cross-site",
    )
    .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert_eq!(calendar(&books).own.len(), 1);
}

/// A refused form: its fields, the field the message is beside, and what it says.
type Case = (
    &'static [(&'static str, &'static str)],
    &'static str,
    &'static str,
);

#[tokio::test]
async fn a_bad_holiday_is_422_beside_its_field_with_nothing_written() {
    let books = books();
    let router = app(books.clone(), common::config(now, false));
    let cases: [Case; 8] = [
        (
            &[("name", ""), ("kind", "fixed"), ("day", "06-18")],
            "name",
            "must not be empty",
        ),
        (
            &[
                ("name", "中秋节"),
                ("key", "a,b"),
                ("kind", "fixed"),
                ("day", "06-18"),
            ],
            "key",
            "not allowed",
        ),
        (
            &[("name", "中秋节"), ("kind", "solar"), ("day", "8-15")],
            "kind",
            "Unknown kind",
        ),
        (
            &[("name", "中秋节"), ("kind", "lunar"), ("day", "mid autumn")],
            "day",
            "expected M-D",
        ),
        (
            &[("name", "店庆"), ("kind", "fixed"), ("day", "June 18")],
            "day",
            "expected MM-DD",
        ),
        (
            &[("name", "店庆"), ("kind", "fixed"), ("day", "02-30")],
            "day",
            "is not a day of the year",
        ),
        (
            &[("name", "中秋节"), ("kind", "lunar"), ("day", "13-15")],
            "day",
            "is not a lunar day",
        ),
        (
            &[
                ("name", "店庆"),
                ("kind", "fixed"),
                ("day", "06-18"),
                ("leap", "1"),
            ],
            "leap",
            "Only a lunar date has a leap month",
        ),
    ];
    for (fields, field, says) in cases {
        let refused = post(&router, "/holidays", fields).await;
        assert_eq!(
            refused.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{fields:?}: {}",
            refused.body
        );
        assert!(
            refused
                .body
                .contains(&format!("id=\"holiday-add-{field}-error\"")),
            "{fields:?}: {}",
            refused.body
        );
        assert!(refused.body.contains(says), "{fields:?}: {}", refused.body);
    }
    assert!(calendar(&books).own.is_empty());
    // What was typed is shown again.
    let refused = post(
        &router,
        "/holidays",
        &[("name", "中秋节"), ("kind", "lunar"), ("day", "8-32")],
    )
    .await;
    assert!(refused.body.contains("value=\"中秋节\""));
    assert!(refused.body.contains("<option value=\"lunar\" selected>"));
    let forged = post_from(
        &router,
        "/holidays",
        &[("name", "店庆"), ("kind", "fixed"), ("day", "06-18")],
        "cross-site",
    )
    .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert!(calendar(&books).own.is_empty());
}

#[tokio::test]
async fn a_holiday_added_by_another_program_shows_on_the_next_care_load() {
    let books = books();
    let router = app(books.clone(), common::config(now, false));
    let care = get(&router, "/care").await;
    assert_eq!(care.status, StatusCode::OK);
    assert!(!care.body.contains("店庆"));
    let dashboard = get(&router, "/").await;
    assert!(!dashboard.body.contains("店庆"));
    // Written past the workspace, as `solocrm holiday add` does while it runs: a
    // calendar write adds no outbox event, so the kept care list must notice it.
    books
        .put_holiday(HolidayDef {
            key: Tag::parse("店庆").expect("key"),
            name: Label::parse("店庆").expect("name"),
            rule: HolidayRule::Fixed { month: 6, day: 18 },
        })
        .expect("holiday added");
    let care = get(&router, "/care").await;
    assert!(care.body.contains("店庆"), "{}", care.body);
    let dashboard = get(&router, "/").await;
    assert!(dashboard.body.contains("店庆"), "{}", dashboard.body);
}
