//! `?as_of=YYYY-MM-DD` on the analytic pages through the router (`oneshot`): the
//! page's numbers are the app's as of that day (the books as they stood at its end),
//! and a day that does not parse or is after today is a 422 with the message beside
//! the date field, never a 500.

mod common;

use axum::Router;
use chrono::{DateTime, NaiveDate, TimeZone as _, Utc};
use common::get;
use solocrm_app::history::read_as_of_day;
use solocrm_app::{Books, Location, OpenOptions};
use solocrm_core::metrics::{CohortGrain, RfmSegment, TieRule, cohort_matrix, rfm};
use solocrm_core::{
    Currency, CustomerData, Money, NewCustomer, NewPurchase, PersonName, Store as _,
};
use solocrm_web::app;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 20, 10, 0, 0)
        .single()
        .expect("instant")
}

fn at(m: u32, d: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, m, d, 4, 0, 0)
        .single()
        .expect("instant")
}

fn day(m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, m, d).expect("a day")
}

/// A buyer: name, (month, day) created, and purchases as ((month, day), yuan).
type Buyer = (&'static str, (u32, u32), &'static [((u32, u32), i64)]);

/// Three buyers who came one after the other: 张伟 in May, Ada in August, 李娜 in
/// September.
fn workspace() -> (Books, Router) {
    let books =
        Books::create(&Location::Memory, Currency::CNY, &OpenOptions::default()).expect("books");
    let yuan = |y: i64| Money::from_minor(y * 100, Currency::CNY);
    let buyers: [Buyer; 3] = [
        (
            "张伟",
            (5, 1),
            &[((5, 10), 100), ((6, 1), 200), ((10, 3), 50)],
        ),
        ("Ada Lovelace", (8, 1), &[((8, 15), 80), ((10, 1), 900)]),
        ("李娜", (9, 1), &[((9, 10), 30)]),
    ];
    for (name, created, buys) in buyers {
        let c = books
            .create_customer(NewCustomer::new(
                CustomerData::new(PersonName::parse(name).expect("a name")),
                at(created.0, created.1),
            ))
            .expect("a customer");
        for ((m, d), y) in buys {
            books
                .record_purchase(NewPurchase::new(c.id(), at(*m, *d), yuan(*y)))
                .expect("a purchase");
        }
    }
    let router = app(books.clone(), common::config(now, false));
    (books, router)
}

/// The count a page's `#rfm-segments` table gives segment `s`.
fn segment_count(page: &str, s: RfmSegment) -> usize {
    let row = page
        .split(&format!("data-segment=\"{}\"", s.as_str()))
        .nth(1)
        .expect("the segment's row");
    let cell = row.split("<td class=\"num\">").nth(1).expect("its count");
    cell.split('<')
        .next()
        .expect("a number")
        .parse()
        .expect("a count")
}

#[tokio::test]
async fn rfm_as_of_a_past_day_is_the_apps_rfm_of_that_day() {
    let (books, router) = workspace();
    for (asked, buyers) in [(day(7, 1), 1), (day(9, 30), 3), (day(11, 20), 3)] {
        let page = get(&router, &format!("/rfm?as_of={asked}")).await;
        assert_eq!(page.status, axum::http::StatusCode::OK, "{}", page.body);
        assert!(page.body.contains(&asked.to_string()));
        let table = read_as_of_day(&books, asked, now(), |r| {
            Ok(rfm(&r.purchase_log()?, asked, TieRule::Shared).expect("rfm"))
        })
        .expect("the app's view");
        let mut total = 0;
        for s in RfmSegment::ALL {
            let want = table.rows().filter(|r| r.segment == *s).count();
            assert_eq!(segment_count(&page.body, *s), want, "{asked} {s:?}");
            total += want;
        }
        assert_eq!(total, buyers, "{asked}");
    }
    // The day is in the filter form, and the pages' links keep it.
    let page = get(&router, "/rfm?as_of=2026-07-01").await;
    assert!(page.body.contains("id=\"group-as_of\""));
    assert!(page.body.contains("value=\"2026-07-01\""));
    assert!(
        page.body.contains("as_of=2026-07-01&amp;rfm="),
        "{}",
        page.body
    );
}

#[tokio::test]
async fn cohorts_as_of_a_past_day_are_the_apps_cohorts_of_that_day() {
    let (books, router) = workspace();
    let asked = day(8, 31);
    let page = get(&router, &format!("/cohorts?as_of={asked}")).await;
    assert_eq!(page.status, axum::http::StatusCode::OK, "{}", page.body);
    let m = read_as_of_day(&books, asked, now(), |r| {
        Ok(cohort_matrix(&r.purchase_log()?, CohortGrain::Month, asked).expect("cohorts"))
    })
    .expect("the app's view");
    // May to August, the months between without a new buyer included.
    assert_eq!(m.rows.first().map(|r| r.start), Some(day(5, 1)));
    assert_eq!(m.rows.last().map(|r| r.start), Some(day(8, 1)));
    assert_eq!(page.body.matches("<text x=\"2\"").count(), m.rows.len());
    for row in &m.rows {
        assert!(
            page.body.contains(&format!(">{}</text>", row.start)),
            "{}",
            row.start
        );
    }
    // Today has September's cohort too, and the months after.
    let today = get(&router, "/cohorts").await;
    let now_m = read_as_of_day(&books, day(11, 20), now(), |r| {
        Ok(cohort_matrix(&r.purchase_log()?, CohortGrain::Month, day(11, 20)).expect("cohorts"))
    })
    .expect("the app's view");
    assert!(now_m.rows.len() > m.rows.len());
    assert_eq!(
        today.body.matches("<text x=\"2\"").count(),
        now_m.rows.len()
    );
    assert!(today.body.contains(">2026-09-01</text>"));
    assert!(!page.body.contains(">2026-09-01</text>"));
}

#[tokio::test]
async fn churn_and_segments_take_the_day() {
    let (_, router) = workspace();
    let page = get(&router, "/churn?as_of=2026-07-01").await;
    assert_eq!(page.status, axum::http::StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("2026-07-01"));
    // Nobody who came later is listed.
    assert!(!page.body.contains("李娜") && !page.body.contains("Ada Lovelace"));
    let page = get(&router, "/segments?as_of=2026-07-01").await;
    assert_eq!(page.status, axum::http::StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("id=\"segments-as_of\""));
    assert!(page.body.contains("Members as of 2026-07-01"));
    let page = get(&router, "/clv?as_of=2026-10-31").await;
    assert_eq!(page.status, axum::http::StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("value=\"2026-10-31\""));
}

#[tokio::test]
async fn a_bad_or_future_day_is_a_422_beside_the_field() {
    let (_, router) = workspace();
    for (path, id) in [
        ("/rfm?as_of=2026-13-01", "group-as_of-error"),
        ("/churn?as_of=next+week", "group-as_of-error"),
        ("/cohorts?as_of=2026-11-21", "group-as_of-error"),
        ("/segments?as_of=2026-02-30", "segments-as_of-error"),
        ("/clv?as_of=2027-01-01", "clv-end-error"),
        ("/clv?end=yesterday", "clv-end-error"),
    ] {
        let page = get(&router, path).await;
        assert_eq!(
            page.status,
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            "{path}: {}",
            page.body
        );
        assert!(
            page.body.contains(&format!("id=\"{id}\"")),
            "{path}: {}",
            page.body
        );
    }
    let page = get(&router, "/cohorts?as_of=2026-11-21").await;
    assert!(
        page.body.contains("after today (2026-11-20)"),
        "{}",
        page.body
    );
    // Hostile text typed into the field comes back escaped.
    let page = get(&router, "/rfm?as_of=%3Cscript%3Ealert(1)%3C%2Fscript%3E").await;
    assert_eq!(page.status, axum::http::StatusCode::UNPROCESSABLE_ENTITY);
    assert!(!page.body.contains("<script>alert"));
}
