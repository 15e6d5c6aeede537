//! The customer page's forms for survey answers, service requests, tasks and tags, and
//! the care page's done and snooze buttons: each writes and redirects (303), each bad
//! value is a 422 with the message beside its field, a cross-site post writes nothing,
//! and what a write triggers (a rule's task) is on the next page.

use axum::Router;
use axum::http::StatusCode;
use chrono::{DateTime, NaiveDate, TimeZone as _, Utc};
use solocrm_app::{Books, Location, OpenOptions};
use solocrm_core::{
    BusinessZone, Currency, CustomerData, CustomerId, NewCustomer, OpenQuery, PersonName,
    Store as _, Task, TaskQuery,
};
use solocrm_web::app;

mod common;

use common::{Answer, get, post, post_from};

/// 20:00 UTC on 14 June is 04:00 on 15 June in Shanghai.
fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 14, 20, 0, 0)
        .single()
        .expect("instant")
}

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("day")
}

fn setup() -> (Books, Router, CustomerId) {
    let books =
        Books::create(&Location::Memory, Currency::CNY, &OpenOptions::default()).expect("books");
    books
        .set_time_zone(BusinessZone::parse("Asia/Shanghai").expect("zone"))
        .expect("zone");
    let router = app(books.clone(), common::config(now, true));
    let id = books
        .create_customer(NewCustomer::new(
            CustomerData::new(PersonName::parse("刘洋").expect("name")),
            now() - chrono::Duration::days(10),
        ))
        .expect("customer")
        .id();
    (books, router, id)
}

/// The page refused the form with `message` beside the field `id`.
fn refused_beside(a: &Answer, id: &str, message: &str) {
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", a.body);
    let marker = format!("id=\"{id}-error\"");
    let at = a
        .body
        .find(&marker)
        .unwrap_or_else(|| panic!("no message beside {id}: {}", a.body));
    let tail = &a.body[at..];
    assert!(
        tail[..tail.find("</span>").expect("span end")].contains(message),
        "{id}: {tail}"
    );
}

fn tasks(books: &Books, id: CustomerId) -> Vec<Task> {
    books
        .tasks(&TaskQuery {
            customer: Some(id),
            due_until: None,
            include_done: false,
        })
        .expect("tasks")
}

#[tokio::test]
async fn a_low_survey_score_is_recorded_and_the_detractor_rule_answers() {
    let (books, r, id) = setup();
    let path = format!("/customers/{id}/surveys");
    let a = post(
        &r,
        &path,
        &[("kind", "nps"), ("score", "3"), ("comment", "太慢了")],
    )
    .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
    assert_eq!(a.location(), format!("/customers/{id}"));
    let titles: Vec<String> = tasks(&books, id)
        .iter()
        .map(|t| t.title().to_string())
        .collect();
    assert_eq!(titles, ["Follow up on the low score of 刘洋"]);
    let page = get(&r, &format!("/customers/{id}")).await;
    assert!(page.body.contains("nps 3 · 太慢了"), "{}", page.body);
    assert!(page.body.contains("by rule detractor-follow-up"));

    refused_beside(
        &post(&r, &path, &[("kind", "nps"), ("score", "11")]).await,
        "survey-score",
        "11",
    );
    refused_beside(
        &post(&r, &path, &[("kind", "csat"), ("score", "abc")]).await,
        "survey-score",
        "not a whole number",
    );
    refused_beside(
        &post(&r, &path, &[("kind", "stars"), ("score", "3")]).await,
        "survey-kind",
        "stars",
    );
    let forged = post_from(&r, &path, &[("kind", "nps"), ("score", "9")], "cross-site").await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let page = get(&r, &format!("/customers/{id}")).await;
    assert!(
        !page.body.contains("nps 9"),
        "the forged answer was written"
    );
    let missing = post(
        &r,
        "/customers/999/surveys",
        &[("kind", "nps"), ("score", "9")],
    )
    .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_complaint_opens_a_request_whose_steps_the_page_offers() {
    let (books, r, id) = setup();
    let path = format!("/customers/{id}/requests");
    let a = post(
        &r,
        &path,
        &[
            ("kind", "complaint"),
            ("subject", "快递破损"),
            ("description", ""),
        ],
    )
    .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
    let titles: Vec<String> = tasks(&books, id)
        .iter()
        .map(|t| t.title().to_string())
        .collect();
    assert_eq!(titles, ["Respond to the complaint of 刘洋"]);
    let open = books
        .requests(&OpenQuery {
            customer: Some(id),
            open_only: true,
        })
        .expect("requests");
    assert_eq!(open.len(), 1);
    let rid = open[0].id();
    let page = get(&r, &format!("/customers/{id}")).await;
    assert!(page.body.contains("id=\"open-requests\""));
    assert!(
        page.body
            .contains(&format!("action=\"/requests/{rid}/step\""))
    );

    refused_beside(
        &post(&r, &path, &[("kind", "complaint"), ("subject", "  ")]).await,
        "request-subject",
        "",
    );
    refused_beside(
        &post(&r, &path, &[("kind", "rant"), ("subject", "x")]).await,
        "request-kind",
        "rant",
    );
    let step = format!("/requests/{rid}/step");
    refused_beside(
        &post(&r, &step, &[("step", "flying")]).await,
        &format!("request-{rid}-step"),
        "flying",
    );
    let resolved = post(&r, &step, &[("step", "resolved")]).await;
    assert_eq!(resolved.status, StatusCode::SEE_OTHER, "{}", resolved.body);
    assert_eq!(resolved.location(), format!("/customers/{id}"));
    let page = get(&r, &format!("/customers/{id}")).await;
    assert!(!page.body.contains("id=\"open-requests\""));
    assert_eq!(
        post(&r, "/requests/999/step", &[("step", "resolved")])
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn tasks_are_added_done_and_snoozed_from_the_customer_and_care_pages() {
    let (books, r, id) = setup();
    let path = format!("/customers/{id}/tasks");
    let hostile = "<img src=x onerror=alert(1)> 回访";
    let a = post(
        &r,
        &path,
        &[("title", hostile), ("kind", "follow_up"), ("due", "")],
    )
    .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
    let open = tasks(&books, id);
    assert_eq!(open.len(), 1);
    // No due date: today in Shanghai (15 June), not the UTC day (14 June).
    assert_eq!(open[0].due(), day(2026, 6, 15));
    let page = get(&r, &format!("/customers/{id}")).await;
    assert!(
        page.body
            .contains("&lt;img src=x onerror=alert(1)&gt; 回访")
    );
    assert!(!page.body.contains("<img src=x"));

    refused_beside(
        &post(&r, &path, &[("title", ""), ("kind", "follow_up")]).await,
        "task-title",
        "",
    );
    refused_beside(
        &post(
            &r,
            &path,
            &[("title", "x"), ("kind", "follow_up"), ("due", "2026-13-01")],
        )
        .await,
        "task-due",
        "2026-13-01",
    );
    refused_beside(
        &post(&r, &path, &[("title", "x"), ("kind", "chore")]).await,
        "task-kind",
        "chore",
    );
    assert_eq!(tasks(&books, id).len(), 1, "a refused form wrote a task");

    // Snooze three days from the customer page.
    let t = open[0].id();
    let snoozed = post(&r, &format!("/tasks/{t}/snooze"), &[("days", "3")]).await;
    assert_eq!(snoozed.status, StatusCode::SEE_OTHER, "{}", snoozed.body);
    assert_eq!(snoozed.location(), format!("/customers/{id}"));
    assert_eq!(tasks(&books, id)[0].due(), day(2026, 6, 18));
    refused_beside(
        &post(&r, &format!("/tasks/{t}/snooze"), &[("days", "500")]).await,
        &format!("task-{t}-days"),
        "1 to 90 days",
    );

    // The care page lists it with its buttons; a refusal there stays there.
    let care = get(&r, "/care").await;
    assert!(
        care.body.contains(&format!("action=\"/tasks/{t}/done\"")),
        "{}",
        care.body
    );
    let bad = post(
        &r,
        &format!("/tasks/{t}/snooze"),
        &[("days", "zero"), ("back", "care")],
    )
    .await;
    refused_beside(&bad, &format!("task-{t}-days"), "zero");
    assert!(bad.body.contains("<table class=\"care\">"));
    let forged = post_from(
        &r,
        &format!("/tasks/{t}/done"),
        &[("back", "care")],
        "cross-site",
    )
    .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert_eq!(tasks(&books, id).len(), 1);
    let done = post(&r, &format!("/tasks/{t}/done"), &[("back", "care")]).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER);
    assert_eq!(done.location(), "/care");
    assert!(tasks(&books, id).is_empty());
    assert_eq!(
        post(&r, "/tasks/999/done", &[]).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn tags_are_added_and_removed() {
    let (books, r, id) = setup();
    let path = format!("/customers/{id}/tags");
    let a = post(&r, &path, &[("tag", "vip"), ("action", "add")]).await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
    let has = |t: &str| {
        books
            .read(|x| x.customer(id))
            .expect("customer")
            .tags()
            .iter()
            .any(|x| x.as_str() == t)
    };
    assert!(has("vip"));
    let page = get(&r, &format!("/customers/{id}?lang=zh-CN")).await;
    assert!(page.body.contains("移除标签 vip"), "{}", page.body);
    refused_beside(
        &post(&r, &path, &[("tag", ""), ("action", "add")]).await,
        "tags-tag",
        "",
    );
    refused_beside(
        &post(&r, &path, &[("tag", "vip"), ("action", "toggle")]).await,
        "tags-tag",
        "neither add nor remove",
    );
    assert!(has("vip"));
    let gone = post(&r, &path, &[("tag", "vip"), ("action", "remove")]).await;
    assert_eq!(gone.status, StatusCode::SEE_OTHER);
    assert!(!has("vip"));
}

#[tokio::test]
async fn the_new_forms_speak_chinese() {
    let (_books, r, id) = setup();
    let page = get(&r, &format!("/customers/{id}?lang=zh-CN")).await;
    for text in [
        "记录调查回答",
        "新建服务请求",
        "添加任务",
        "净推荐值 NPS（0–10）",
        "投诉",
    ] {
        assert!(page.body.contains(text), "{text}");
    }
}

#[tokio::test]
async fn points_are_posted_and_bad_entries_refused_beside_their_field() {
    let (books, r, id) = setup();
    let path = format!("/customers/{id}/points");
    let balance = || books.points_balance(id).expect("balance");
    let a = post(
        &r,
        &path,
        &[("kind", "earn"), ("points", "120"), ("reason", "生日礼")],
    )
    .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
    assert_eq!(balance(), 120);
    let a = post(&r, &path, &[("kind", "redeem"), ("points", "20")]).await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
    assert_eq!(balance(), 100);
    refused_beside(
        &post(&r, &path, &[("kind", "earn"), ("points", "-5")]).await,
        "points-points",
        "",
    );
    refused_beside(
        &post(&r, &path, &[("kind", "earn"), ("points", "lots")]).await,
        "points-points",
        "not a whole number",
    );
    refused_beside(
        &post(&r, &path, &[("kind", "adjust"), ("points", "-5")]).await,
        "points-reason",
        "An adjustment needs a reason.",
    );
    refused_beside(
        &post(&r, &path, &[("kind", "gift"), ("points", "5")]).await,
        "points-kind",
        "gift",
    );
    // More than the balance: the store refuses it, beside the points.
    let over = post(&r, &path, &[("kind", "redeem"), ("points", "1000")]).await;
    refused_beside(&over, "points-points", "");
    assert_eq!(balance(), 100, "a refused entry was posted");
    let forged = post_from(
        &r,
        &path,
        &[("kind", "earn"), ("points", "5")],
        "cross-site",
    )
    .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert_eq!(balance(), 100);
}

#[tokio::test]
async fn consent_decisions_are_recorded_and_the_latest_is_shown() {
    let (books, r, id) = setup();
    let path = format!("/customers/{id}/consent");
    let a = post(
        &r,
        &path,
        &[("purpose", "newsletter"), ("decision", "grant")],
    )
    .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
    let c = books.read(|x| x.customer(id)).expect("customer");
    let purpose = solocrm_core::Tag::parse("newsletter").expect("tag");
    assert!(c.has_consent(&purpose));
    assert_eq!(c.consents()[0].source.to_string(), "web");
    let page = get(&r, &format!("/customers/{id}")).await;
    assert!(page.body.contains("newsletter: granted"), "{}", page.body);
    refused_beside(
        &post(
            &r,
            &path,
            &[("purpose", "newsletter"), ("decision", "maybe")],
        )
        .await,
        "consent-decision",
        "maybe",
    );
    refused_beside(
        &post(&r, &path, &[("purpose", ""), ("decision", "grant")]).await,
        "consent-purpose",
        "",
    );
    let zh = get(&r, &format!("/customers/{id}?lang=zh-CN")).await;
    assert!(zh.body.contains("newsletter: 已同意"), "{}", zh.body);
}
