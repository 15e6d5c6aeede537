//! The automation inside the workspace (issue 16): rules run after each write made
//! through it and on the minute tick with the injected clock; the rules page and its
//! switches; the rule shown on the timeline; the calendar feed (parsed by the `ical`
//! crate, an independent parser), its token and its stable UIDs.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use chrono::{DateTime, NaiveDate, TimeZone as _, Utc};
use solocrm_app::{Books, Location, OpenOptions};
use solocrm_core::{
    BusinessZone, Currency, CustomerData, CustomerId, NewCustomer, NewTask, PersonName, Store as _,
    TaskKind, TaskQuery,
};
use solocrm_web::{Config, Feed, app, workspace};

mod common;

use common::{HOST, get, get_plain, post, post_from, send};

/// 02:00 UTC is 10:00 in Shanghai, the books' business time zone.
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

fn config(automation: bool, feed: Option<Arc<Feed>>) -> Config {
    Config {
        feed,
        ..common::config(now, automation)
    }
}

fn customer(books: &Books, name: &str, birthday: Option<NaiveDate>) -> CustomerId {
    let mut data = CustomerData::new(PersonName::parse(name).expect("name"));
    data.birthday = birthday;
    books
        .create_customer(NewCustomer::new(data, now() - chrono::Duration::days(30)))
        .expect("customer")
        .id()
}

fn open_tasks(books: &Books, id: CustomerId) -> Vec<String> {
    books
        .tasks(&TaskQuery {
            customer: Some(id),
            due_until: None,
            include_done: false,
        })
        .expect("tasks")
        .iter()
        .map(|t| t.title().to_string())
        .collect()
}

#[tokio::test]
async fn a_purchase_posted_in_the_browser_makes_the_rules_task_without_solocrm_run() {
    let books = books();
    let router = app(books.clone(), config(true, None));
    let id = customer(&books, "王小明", None);
    // Seen once before: the rules' audit kept for this page must not hide the next.
    let before = get(&router, &format!("/customers/{id}")).await;
    assert!(!before.body.contains("by rule"));
    let a = post(
        &router,
        &format!("/customers/{id}/purchases"),
        &[("amount", "199.00")],
    )
    .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
    assert_eq!(
        open_tasks(&books, id),
        ["Thank 王小明 for the first purchase"]
    );
    // The page the form redirects to shows the task, and which rule made it on which
    // trigger.
    let page = get(&router, &format!("/customers/{id}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("Thank 王小明 for the first purchase"),
        "{}",
        page.body
    );
    assert!(
        page.body
            .contains("by rule first-purchase-thanks (first_purchase, event:"),
        "{}",
        page.body
    );
    // Chinese page: the same line, in Chinese.
    let zh = get(&router, &format!("/customers/{id}?lang=zh-CN")).await;
    assert!(
        zh.body.contains("由规则 first-purchase-thanks 触发"),
        "{}",
        zh.body
    );
    // A second purchase is no first purchase: still one task.
    post(
        &router,
        &format!("/customers/{id}/purchases"),
        &[("amount", "20")],
    )
    .await;
    assert_eq!(open_tasks(&books, id).len(), 1);
}

#[tokio::test]
async fn a_stage_move_to_at_risk_in_the_browser_makes_the_win_back_task() {
    let books = books();
    let router = app(books.clone(), config(true, None));
    let id = customer(&books, "李娜", None);
    post(
        &router,
        &format!("/customers/{id}/purchases"),
        &[("amount", "10")],
    )
    .await;
    let moved = post(
        &router,
        &format!("/customers/{id}/stage"),
        &[("stage", "at_risk")],
    )
    .await;
    assert_eq!(moved.status, StatusCode::SEE_OTHER, "{}", moved.body);
    let titles = open_tasks(&books, id);
    assert!(titles.contains(&"Win back 李娜".to_owned()), "{titles:?}");
}

#[tokio::test]
async fn with_automation_off_a_write_fires_nothing() {
    let books = books();
    let router = app(books.clone(), config(false, None));
    let id = customer(&books, "张伟", None);
    let a = post(
        &router,
        &format!("/customers/{id}/purchases"),
        &[("amount", "199")],
    )
    .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER);
    assert!(open_tasks(&books, id).is_empty());
    let rules = get(&router, "/rules").await;
    assert!(rules.body.contains("--no-automation"), "{}", rules.body);
}

#[tokio::test]
async fn the_minute_tick_runs_the_time_rules_at_the_injected_clock() {
    let books = books();
    // The clock the test moves: seconds since the epoch.
    let clock = Arc::new(AtomicI64::new(now().timestamp()));
    let read = clock.clone();
    let mut cfg = config(true, None);
    cfg.clock = Arc::new(move || {
        DateTime::from_timestamp(read.load(Ordering::SeqCst), 0).expect("instant")
    });
    let (_router, runner) = workspace(books.clone(), cfg);
    // Born on 25 June: ten days after the first tick's day, in Shanghai.
    let id = customer(&books, "陈静", NaiveDate::from_ymd_opt(1990, 6, 25));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let ticker = tokio::spawn(runner.every(Duration::from_millis(20), async {
        let _ = stopped.await;
    }));
    // The first tick covers 15 June: no birthday in the next three days.
    wait_for(|| {
        books
            .crm()
            .read(|r| r.automation_cursor())
            .expect("cursor")
            .day
            .is_some()
    })
    .await;
    assert!(open_tasks(&books, id).is_empty());
    // Eight days later the birthday is two days off: the next tick fires the rule.
    clock.store(
        (now() + chrono::Duration::days(8)).timestamp(),
        Ordering::SeqCst,
    );
    wait_for(|| !open_tasks(&books, id).is_empty()).await;
    assert_eq!(open_tasks(&books, id), ["Birthday greeting for 陈静"]);
    let due = books
        .tasks(&TaskQuery {
            customer: Some(id),
            due_until: None,
            include_done: false,
        })
        .expect("tasks")[0]
        .due();
    // The tick caught up from 16 to 23 June: the rule fired on the first day its window
    // held (22 June, three days before the birthday, in Shanghai), due that day.
    assert_eq!(due, NaiveDate::from_ymd_opt(2026, 6, 22).expect("day"));
    // More ticks: still one task (once per birthday).
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(open_tasks(&books, id).len(), 1);
    stop.send(()).expect("ticker listening");
    ticker.await.expect("ticker stopped cleanly");
}

/// Waits (up to 20 s, polling) for `ready`; fails the test if it never is.
async fn wait_for(mut ready: impl FnMut() -> bool) {
    for _ in 0..2000 {
        if ready() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the condition never held");
}

#[tokio::test]
async fn the_rules_page_lists_switches_and_logs_the_rules() {
    let books = books();
    let router = app(books.clone(), config(true, None));
    let page = get(&router, "/rules").await;
    assert_eq!(page.status, StatusCode::OK);
    for name in [
        "detractor-follow-up",
        "complaint-response",
        "first-purchase-thanks",
        "birthday-care",
    ] {
        assert!(page.body.contains(&format!("id=\"rule-{name}\"")), "{name}");
    }
    assert!(page.body.contains("No rule has fired yet."));

    // Switched off, the rule does not fire on a first purchase.
    let off = post(
        &router,
        "/rules/first-purchase-thanks",
        &[("enabled", "off")],
    )
    .await;
    assert_eq!(off.status, StatusCode::SEE_OTHER);
    let page = get(&router, "/rules").await;
    assert!(
        page.body
            .contains("id=\"rule-first-purchase-thanks\" data-enabled=\"false\""),
        "{}",
        page.body
    );
    let a = customer(&books, "赵敏", None);
    post(
        &router,
        &format!("/customers/{a}/purchases"),
        &[("amount", "5")],
    )
    .await;
    assert!(open_tasks(&books, a).is_empty());

    // Back on, it fires for the next first purchase, and the log says so.
    post(
        &router,
        "/rules/first-purchase-thanks",
        &[("enabled", "on")],
    )
    .await;
    let b = customer(&books, "<b>Bold</b> 周", None);
    post(
        &router,
        &format!("/customers/{b}/purchases"),
        &[("amount", "5")],
    )
    .await;
    assert_eq!(open_tasks(&books, b).len(), 1);
    let page = get(&router, "/rules").await;
    assert!(page.body.contains("id=\"rule-log\""), "{}", page.body);
    assert!(
        page.body.contains("&lt;b&gt;Bold&lt;/b&gt; 周"),
        "{}",
        page.body
    );
    assert!(!page.body.contains("<b>Bold"));

    // Refusals: a bad value, an unknown rule, a cross-site switch.
    let bad = post(&router, "/rules/birthday-care", &[("enabled", "maybe")]).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("enabled=on or off"));
    let unknown = post(&router, "/rules/no-such-rule", &[("enabled", "off")]).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    let forged = post_from(
        &router,
        "/rules/birthday-care",
        &[("enabled", "off")],
        "cross-site",
    )
    .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let page = get(&router, "/rules").await;
    assert!(
        page.body
            .contains("id=\"rule-birthday-care\" data-enabled=\"true\"")
    );
    let zh = get(&router, "/rules?lang=zh-CN").await;
    assert!(zh.body.contains("自动化规则"));
}

/// The feed's events: UID → SUMMARY, as the `ical` crate reads them.
fn parse_feed(text: &str) -> std::collections::BTreeMap<String, String> {
    let mut out = std::collections::BTreeMap::new();
    let mut calendars = 0;
    for cal in ical::IcalParser::new(std::io::BufReader::new(text.as_bytes())) {
        let cal = cal.expect("the feed parses");
        calendars += 1;
        for e in cal.events {
            let prop = |name: &str| {
                e.properties
                    .iter()
                    .find(|p| p.name == name)
                    .and_then(|p| p.value.clone())
                    .unwrap_or_else(|| panic!("an event without {name}"))
            };
            let _ = prop("DTSTART");
            out.insert(prop("UID"), prop("SUMMARY"));
        }
    }
    assert_eq!(calendars, 1);
    out
}

#[tokio::test]
async fn the_calendar_feed_parses_keeps_its_uids_and_shows_new_tasks() {
    let dir = tempfile::tempdir().expect("dir");
    let feed = Arc::new(Feed::open(&dir.path().join("feed-token")).expect("feed"));
    let books = books();
    let router = app(books.clone(), config(true, Some(feed.clone())));
    let a = customer(&books, "王芳", NaiveDate::from_ymd_opt(1988, 2, 29));
    books
        .create_task(NewTask {
            customer: Some(a),
            kind: TaskKind::FollowUp,
            title: solocrm_core::Label::parse("Call about the 报价").expect("title"),
            due: NaiveDate::from_ymd_opt(2026, 6, 20).expect("day"),
            recurrence: None,
            created_at: now(),
        })
        .expect("task");
    let url = format!("/feed/{}/solocrm.ics", feed.token());

    // No cookie needed: a calendar app sends none.
    let first = get_plain(&router, &url).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    assert_eq!(
        first.headers.get(header::CONTENT_TYPE).expect("type"),
        "text/calendar; charset=utf-8"
    );
    let one = parse_feed(&first.body);
    assert_eq!(one.len(), 2, "{one:?}");
    assert!(one.values().any(|s| s == "Birthday: 王芳"), "{one:?}");
    assert!(
        one.values().any(|s| s.starts_with("Call about the 报价")),
        "{one:?}"
    );

    // Again, and after an unrelated write: the same UIDs.
    let again = parse_feed(&get_plain(&router, &url).await.body);
    assert_eq!(again, one);
    customer(&books, "No Birthday", None);
    let after = parse_feed(&get_plain(&router, &url).await.body);
    assert_eq!(after, one);

    // A purchase in the browser makes a rule's task: it is on the next fetch, and the
    // earlier events keep their UIDs.
    post(
        &router,
        &format!("/customers/{a}/purchases"),
        &[("amount", "9")],
    )
    .await;
    let grown = parse_feed(&get_plain(&router, &url).await.body);
    assert_eq!(grown.len(), 3, "{grown:?}");
    let before: BTreeSet<&String> = one.keys().collect();
    let now_keys: BTreeSet<&String> = grown.keys().collect();
    assert!(before.is_subset(&now_keys));
    assert!(
        grown
            .values()
            .any(|s| s.starts_with("Thank 王芳 for the first purchase"))
    );

    // A wrong token, no feed path token, a POST: nothing.
    let wrong = get_plain(&router, &format!("/feed/{}/solocrm.ics", "0".repeat(64))).await;
    assert_eq!(wrong.status, StatusCode::NOT_FOUND);
    assert!(!wrong.body.contains("BEGIN:VCALENDAR"));
    let forged = post(&router, &url, &[]).await;
    assert_ne!(forged.status, StatusCode::OK);
    // A foreign Host is refused before the token is looked at.
    let rebinding = send(
        &router,
        Request::get(&url)
            .header(header::HOST, "evil.example")
            .body(Body::empty())
            .expect("request"),
    )
    .await;
    assert_eq!(rebinding.status, StatusCode::MISDIRECTED_REQUEST);

    // The calendar page shows the address; a new one cuts the old one off.
    let page = get(&router, "/calendar").await;
    assert!(
        page.body.contains(&format!("http://{HOST}{url}")),
        "{}",
        page.body
    );
    let made = post(&router, "/calendar/regenerate", &[]).await;
    assert_eq!(made.status, StatusCode::SEE_OTHER);
    assert_eq!(get_plain(&router, &url).await.status, StatusCode::NOT_FOUND);
    let new_url = format!("/feed/{}/solocrm.ics", feed.token());
    assert_ne!(new_url, url);
    let renewed = parse_feed(&get_plain(&router, &new_url).await.body);
    assert_eq!(renewed, grown);
    let forged = post_from(&router, "/calendar/regenerate", &[], "cross-site").await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert!(get_plain(&router, &new_url).await.status == StatusCode::OK);
}

#[tokio::test]
async fn without_a_feed_the_calendar_page_says_so_and_feed_urls_are_404() {
    let router = app(books(), config(true, None));
    let page = get(&router, "/calendar").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("serves no calendar feed"));
    let f = get_plain(&router, &format!("/feed/{}/solocrm.ics", "a".repeat(64))).await;
    assert_eq!(f.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_calendar_feed_carries_the_holidays_kept_with_the_books() {
    let dir = tempfile::tempdir().expect("dir");
    let feed = Arc::new(Feed::open(&dir.path().join("feed-token")).expect("feed"));
    let books = books();
    books
        .write(|w| w.set_holiday_presets(&[solocrm_core::holiday::Preset::Cn]))
        .expect("the cn calendar");
    let router = app(books.clone(), config(false, Some(feed.clone())));
    let url = format!("/feed/{}/solocrm.ics", feed.token());
    let events = parse_feed(&get_plain(&router, &url).await.body);
    // From 2026-06-15 a year ahead: 中秋节 falls on 2026-09-25, 春节 on 2027-02-06.
    let uid = |key: &str, year: i32| {
        events
            .iter()
            .find(|(uid, _)| uid.starts_with(&format!("holiday-{key}-{year}@")))
            .map(|(_, summary)| summary.clone())
    };
    assert_eq!(
        uid("mid_autumn", 2026).as_deref(),
        Some("中秋节"),
        "{events:?}"
    );
    assert!(uid("spring_festival", 2027).is_some(), "{events:?}");
    assert!(
        uid("spring_festival", 2026).is_none(),
        "past holidays are left out: {events:?}"
    );
}

/// `serve` computes its dashboard after the automation's first run: `ran_once` waits
/// for a run to end, and does not wait when the automation is off.
#[tokio::test]
async fn ran_once_completes_after_a_run_and_at_once_when_the_automation_is_off() {
    let (_, runner) = workspace(books(), config(true, None));
    assert!(
        tokio::time::timeout(Duration::from_millis(100), runner.ran_once())
            .await
            .is_err(),
        "no run has ended yet"
    );
    runner.run_now().await;
    tokio::time::timeout(Duration::from_secs(10), runner.ran_once())
        .await
        .expect("a run ended");
    let (_, off) = workspace(books(), config(false, None));
    tokio::time::timeout(Duration::from_secs(10), off.ran_once())
        .await
        .expect("the automation is off: nothing to wait for");
}
