//! The rule forms of `/rules` (issue 16): add, edit, remove and the dry run, each
//! refusal (a bad trigger, a bad condition with its column, a name taken, a built-in,
//! a forged or logged-out POST) with nothing written, and the output escaped.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use chrono::{DateTime, NaiveDate, TimeZone as _, Utc};
use solocrm_app::{Books, Location, OpenOptions};
use solocrm_core::automation::{Action, EffectiveRule, RuleName};
use solocrm_core::{
    BusinessZone, Currency, CustomerData, CustomerId, NewCustomer, PersonName, Store as _,
    TaskQuery,
};
use solocrm_web::app;

mod common;

use common::{HOST, encode, get, post, post_from, send};

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

fn router(books: &Books) -> axum::Router {
    app(books.clone(), common::config(now, true))
}

fn customer(books: &Books, name: &str, birthday: Option<NaiveDate>) -> CustomerId {
    let mut data = CustomerData::new(PersonName::parse(name).expect("name"));
    data.birthday = birthday;
    books
        .create_customer(NewCustomer::new(data, now() - chrono::Duration::days(30)))
        .expect("customer")
        .id()
}

/// The own (not built-in) rules as stored.
fn own(books: &Books) -> Vec<EffectiveRule> {
    books
        .crm()
        .read(|r| r.rules())
        .expect("rules")
        .into_iter()
        .filter(|r| !r.builtin)
        .collect()
}

fn stored(books: &Books, name: &str) -> Option<EffectiveRule> {
    own(books)
        .into_iter()
        .find(|r| r.rule.name().as_str() == name)
}

const TITLE: &str = "<script>alert(1)</script> 致电 {name}";

/// The form of a rule that tags, calls and gives points on a complaint.
fn complaint_form(name: &str) -> Vec<(&str, &str)> {
    vec![
        ("name", name),
        ("trigger", "request_opened"),
        ("condition", "kind = complaint"),
        ("task_title", TITLE),
        ("task_kind", "follow_up"),
        ("task_due_in", "1"),
        ("task_priority", "high"),
        ("stage", ""),
        ("tags", "投诉, vip"),
        ("untags", ""),
        ("note", ""),
        ("points", "20"),
        ("enabled", "on"),
    ]
}

/// `fields` with `key` set to `value`.
fn with<'a>(
    mut fields: Vec<(&'a str, &'a str)>,
    key: &str,
    value: &'a str,
) -> Vec<(&'a str, &'a str)> {
    for f in &mut fields {
        if f.0 == key {
            f.1 = value;
        }
    }
    fields
}

#[tokio::test]
async fn a_rule_added_in_the_form_is_stored_listed_escaped_and_fires() {
    let books = books();
    let router = router(&books);
    let page = get(&router, "/rules").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("id=\"rule-add\""), "{}", page.body);
    // The hints name the event triggers the core knows.
    assert!(page.body.contains("request_opened"));

    let added = post(&router, "/rules", &complaint_form("vip-complaint")).await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.body);
    assert_eq!(added.location(), "/rules");
    let rule = stored(&books, "vip-complaint").expect("stored");
    assert!(rule.enabled);
    assert_eq!(rule.rule.trigger().to_string(), "request_opened");
    assert_eq!(
        rule.rule.condition().map(|c| c.as_str()),
        Some("kind = complaint")
    );
    let actions = rule.rule.actions();
    assert_eq!(actions.len(), 4, "{actions:?}");
    match &actions[0] {
        Action::Task(t) => {
            assert_eq!(t.title.as_str(), TITLE);
            assert_eq!(t.due_in, 1);
            assert_eq!(t.priority.as_str(), "high");
        }
        other => panic!("a task first, not {other:?}"),
    }
    assert_eq!(
        actions[1],
        Action::Tag(solocrm_core::Tag::parse("投诉").expect("tag"))
    );
    assert_eq!(actions[3], Action::Points(20));

    let page = get(&router, "/rules").await;
    assert!(page.body.contains("id=\"rule-vip-complaint\""));
    assert!(
        page.body
            .contains("&lt;script&gt;alert(1)&lt;/script&gt; 致电"),
        "{}",
        page.body
    );
    assert!(!page.body.contains("<script>"));
    assert!(page.body.contains("href=\"/rules/vip-complaint/edit\""));
    assert!(page.body.contains("href=\"/rules/vip-complaint/remove\""));
    // A built-in has a test link but no edit or remove link.
    assert!(page.body.contains("href=\"/rules/birthday-care/test\""));
    assert!(!page.body.contains("href=\"/rules/birthday-care/edit\""));

    // It fires on a complaint opened in the workspace.
    let id = customer(&books, "李雷", None);
    let opened = post(
        &router,
        &format!("/customers/{id}/requests"),
        &[
            ("kind", "complaint"),
            ("subject", "太慢了"),
            ("description", ""),
        ],
    )
    .await;
    assert_eq!(opened.status, StatusCode::SEE_OTHER, "{}", opened.body);
    let tasks = books
        .tasks(&TaskQuery {
            customer: Some(id),
            due_until: None,
            include_done: false,
        })
        .expect("tasks");
    assert!(
        tasks
            .iter()
            .any(|t| t.title().as_str() == "<script>alert(1)</script> 致电 李雷"),
        "{tasks:?}"
    );
    let shown = get(&router, &format!("/customers/{id}")).await;
    assert!(!shown.body.contains("<script>alert"));

    // Added switched off, it is stored off.
    let off = with(complaint_form("quiet-one"), "enabled", "off");
    let added = post(&router, "/rules", &off).await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.body);
    assert!(!stored(&books, "quiet-one").expect("stored").enabled);
}

/// Posts `fields` to `/rules` and checks the 422: the message, the typed values
/// kept, and no rule written.
async fn refused(
    router: &axum::Router,
    books: &Books,
    fields: &[(&str, &str)],
    says: &str,
) -> String {
    let before = own(books);
    let answer = post(router, "/rules", fields).await;
    assert_eq!(
        answer.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        answer.body
    );
    assert!(answer.body.contains(says), "{says} not in {}", answer.body);
    // What was typed is there again, escaped.
    assert!(
        answer
            .body
            .contains("value=\"&lt;script&gt;alert(1)&lt;/script&gt; 致电 {name}\""),
        "{}",
        answer.body
    );
    assert!(!answer.body.contains("<script>"));
    assert_eq!(own(books), before, "nothing written");
    answer.body
}

#[tokio::test]
async fn a_refused_add_shows_why_beside_the_field_keeps_the_values_and_writes_nothing() {
    let books = books();
    let router = router(&books);
    let form = complaint_form("bad-one");

    let body = refused(
        &router,
        &books,
        &with(form.clone(), "trigger", "lunar_new_year"),
        "is not known",
    )
    .await;
    assert!(body.contains("id=\"rule-add-trigger-error\""), "{body}");
    assert!(body.contains("value=\"lunar_new_year\""));

    // The condition parser's column, in the message and marked in the text.
    let body = refused(
        &router,
        &books,
        &with(
            form.clone(),
            "condition",
            "kind = complaint and score <= lots",
        ),
        "At column 31",
    )
    .await;
    assert!(body.contains("id=\"rule-add-condition-error\""), "{body}");
    assert!(body.contains("<mark>l</mark>ots"), "{body}");

    refused(
        &router,
        &books,
        &with(form.clone(), "name", "Bad Name"),
        "rule name",
    )
    .await;
    refused(
        &router,
        &books,
        &with(form.clone(), "points", "lots"),
        "lots is not a whole number",
    )
    .await;
    refused(
        &router,
        &books,
        &with(form.clone(), "task_due_in", "-1"),
        "-1 is not a whole number",
    )
    .await;
    refused(
        &router,
        &books,
        &with(form.clone(), "stage", "famous"),
        "famous",
    )
    .await;
    refused(&router, &books, &with(form.clone(), "tags", "a;b"), "tag").await;

    // No action at all.
    let none = post(
        &router,
        "/rules",
        &[
            ("name", "empty"),
            ("trigger", "request_opened"),
            ("task_title", ""),
        ],
    )
    .await;
    assert_eq!(none.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(none.body.contains("1 to 8 actions"), "{}", none.body);

    // A name taken: by an own rule, and by a built-in.
    let first = post(&router, "/rules", &complaint_form("taken")).await;
    assert_eq!(first.status, StatusCode::SEE_OTHER);
    let body = refused(&router, &books, &complaint_form("taken"), "already exists").await;
    assert!(body.contains("id=\"rule-add-name-error\""), "{body}");
    refused(
        &router,
        &books,
        &complaint_form("birthday-care"),
        "already exists",
    )
    .await;

    // In Chinese the page and the hints are Chinese; the parser's message stays.
    let zh = {
        let fields = with(form.clone(), "condition", "score <= lots");
        post(&router, "/rules?lang=zh-CN", &fields).await
    };
    assert_eq!(zh.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(zh.body.contains("第 10 列"), "{}", zh.body);
    assert!(zh.body.contains("添加规则"));
}

#[tokio::test]
async fn a_forged_or_logged_out_rule_post_is_refused_and_writes_nothing() {
    let books = books();
    let router = router(&books);
    let form = complaint_form("forged");
    let forged = post_from(&router, "/rules", &form, "cross-site").await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert!(own(&books).is_empty());

    // No session cookie: refused before any handler runs.
    let body: Vec<String> = form
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect();
    let request = Request::post("/rules")
        .header(header::HOST, HOST)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(body.join("&")))
        .expect("request");
    let anonymous = send(&router, request).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    assert!(own(&books).is_empty());

    // Edit and remove of a stored rule, forged: refused, the rule as it was.
    let added = post(&router, "/rules", &complaint_form("kept")).await;
    assert_eq!(added.status, StatusCode::SEE_OTHER);
    let before = own(&books);
    let edit = with(complaint_form("kept"), "trigger", "birthday:3");
    let forged = post_from(&router, "/rules/kept/edit", &edit, "cross-site").await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let forged = post_from(
        &router,
        "/rules/kept/remove",
        &[("confirm", "yes")],
        "cross-site",
    )
    .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert_eq!(own(&books), before);
}

#[tokio::test]
async fn an_edit_changes_the_rule_and_keeps_its_name_switch_and_firings() {
    let books = books();
    let router = router(&books);
    let form = vec![
        ("name", "thanks-vip"),
        ("trigger", "first_purchase"),
        ("condition", ""),
        ("task_title", ""),
        ("tags", "首购"),
        ("enabled", "on"),
    ];
    assert_eq!(
        post(&router, "/rules", &form).await.status,
        StatusCode::SEE_OTHER
    );
    let id = customer(&books, "韩梅梅", None);
    let bought = post(
        &router,
        &format!("/customers/{id}/purchases"),
        &[("amount", "88")],
    )
    .await;
    assert_eq!(bought.status, StatusCode::SEE_OTHER, "{}", bought.body);
    let fired = |books: &Books| {
        books
            .crm()
            .read(|r| r.firings())
            .expect("firings")
            .into_iter()
            .filter(|f| f.rule.as_str() == "thanks-vip")
            .count()
    };
    assert_eq!(fired(&books), 1);
    // Switched off before the edit: it stays off after it.
    assert_eq!(
        post(&router, "/rules/thanks-vip", &[("enabled", "off")])
            .await
            .status,
        StatusCode::SEE_OTHER
    );

    // The edit form is filled with the rule.
    let page = get(&router, "/rules/thanks-vip/edit").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("value=\"first_purchase\""),
        "{}",
        page.body
    );
    assert!(page.body.contains("value=\"首购\""));

    let edit = [
        ("trigger", "purchase_recorded"),
        ("condition", "amount >= 1000"),
        ("task_title", "感谢 {name} 的大单"),
        ("task_kind", "custom"),
        ("task_due_in", "2"),
        ("task_priority", "low"),
        ("stage", ""),
        ("tags", "大单"),
        ("untags", ""),
        ("note", ""),
        ("points", ""),
    ];
    let saved = post(&router, "/rules/thanks-vip/edit", &edit).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let rule = stored(&books, "thanks-vip").expect("kept");
    assert!(!rule.enabled, "the switch stays");
    assert_eq!(rule.rule.trigger().to_string(), "purchase_recorded");
    assert_eq!(
        rule.rule.condition().map(|c| c.as_str()),
        Some("amount >= 1000")
    );
    assert_eq!(rule.rule.actions().len(), 2);
    assert_eq!(fired(&books), 1, "the firings stay");

    // A refused edit: the message beside the field, the values kept, nothing changed.
    let bad: Vec<(&str, &str)> = edit
        .iter()
        .map(|&(k, v)| {
            if k == "condition" {
                (k, "amount >= ")
            } else {
                (k, v)
            }
        })
        .collect();
    let refused = post(&router, "/rules/thanks-vip/edit", &bad).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused.body.contains("id=\"rule-edit-condition-error\""),
        "{}",
        refused.body
    );
    assert!(refused.body.contains("value=\"感谢 {name} 的大单\""));
    assert_eq!(stored(&books, "thanks-vip").expect("kept"), rule);

    // A built-in is refused, its form and its post; an unknown rule is a 404.
    let builtin = get(&router, "/rules/birthday-care/edit").await;
    assert_eq!(builtin.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(builtin.body.contains("built-in"), "{}", builtin.body);
    let before = books
        .crm()
        .read(|r| r.rule(&RuleName::parse("birthday-care").expect("name")))
        .expect("rule");
    let builtin = post(&router, "/rules/birthday-care/edit", &edit).await;
    assert_eq!(builtin.status, StatusCode::UNPROCESSABLE_ENTITY);
    let after = books
        .crm()
        .read(|r| r.rule(&RuleName::parse("birthday-care").expect("name")))
        .expect("rule");
    assert_eq!(before, after);
    assert_eq!(
        get(&router, "/rules/no-such/edit").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        post(&router, "/rules/no-such/edit", &edit).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        get(&router, "/rules/NOT%20A%20NAME/edit").await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn a_rule_is_removed_only_after_the_confirmation_and_its_log_stays() {
    let books = books();
    let router = router(&books);
    let form = [
        ("name", "tag-buyers"),
        ("trigger", "first_purchase"),
        ("tags", "buyer"),
    ];
    assert_eq!(
        post(&router, "/rules", &form).await.status,
        StatusCode::SEE_OTHER
    );
    let id = customer(&books, "王芳", None);
    post(
        &router,
        &format!("/customers/{id}/purchases"),
        &[("amount", "5")],
    )
    .await;

    let confirm = get(&router, "/rules/tag-buyers/remove").await;
    assert_eq!(confirm.status, StatusCode::OK);
    assert!(
        confirm.body.contains("id=\"rule-remove\""),
        "{}",
        confirm.body
    );
    assert!(confirm.body.contains("name=\"confirm\" value=\"yes\""));

    let unconfirmed = post(&router, "/rules/tag-buyers/remove", &[]).await;
    assert_eq!(unconfirmed.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(stored(&books, "tag-buyers").is_some());

    let removed = post(&router, "/rules/tag-buyers/remove", &[("confirm", "yes")]).await;
    assert_eq!(removed.status, StatusCode::SEE_OTHER);
    assert!(stored(&books, "tag-buyers").is_none());
    let log = get(&router, "/rules").await;
    assert!(
        log.body.contains("<code>tag-buyers</code>"),
        "the log stays: {}",
        log.body
    );
    assert!(!log.body.contains("id=\"rule-tag-buyers\""));

    let builtin = post(
        &router,
        "/rules/birthday-care/remove",
        &[("confirm", "yes")],
    )
    .await;
    assert_eq!(builtin.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        get(&router, "/rules/birthday-care/remove").await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        post(&router, "/rules/tag-buyers/remove", &[("confirm", "yes")])
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn the_dry_run_shows_what_would_fire_and_writes_nothing() {
    let books = books();
    let router = router(&books);
    let form = [
        ("name", "birthday-soon"),
        ("trigger", "birthday:3"),
        ("task_title", "给 {name} 准备生日礼物"),
        ("enabled", "off"),
    ];
    assert_eq!(
        post(&router, "/rules", &form).await.status,
        StatusCode::SEE_OTHER
    );
    let born = NaiveDate::from_ymd_opt(1990, 6, 17).expect("date");
    customer(&books, "<i>周</i>杰", Some(born));
    customer(&books, "没有生日", None);
    let firings = || books.crm().read(|r| r.firings()).expect("firings").len();
    let before = firings();

    let page = get(&router, "/rules/birthday-soon/test?as_of=2026-06-15").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("Would fire 1 times."), "{}", page.body);
    assert!(page.body.contains("&lt;i&gt;周&lt;/i&gt;杰"));
    assert!(!page.body.contains("<i>周"));
    assert!(page.body.contains("birthday on"));
    assert!(page.body.contains("value=\"2026-06-15\""));
    assert_eq!(firings(), before, "a dry run writes nothing");

    // Without a day: today in the business time zone.
    let today = get(&router, "/rules/birthday-soon/test").await;
    assert!(
        today.body.contains("value=\"2026-06-15\""),
        "{}",
        today.body
    );

    let bad = get(&router, "/rules/birthday-soon/test?as_of=2026-13-40").await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        bad.body.contains("id=\"rule-test-as_of-error\""),
        "{}",
        bad.body
    );
    assert!(bad.body.contains("value=\"2026-13-40\""));
    assert_eq!(
        get(&router, "/rules/no-such/test").await.status,
        StatusCode::NOT_FOUND
    );

    // Built-ins are tested too; in Chinese.
    let zh = get(
        &router,
        "/rules/birthday-care/test?as_of=2026-06-15&lang=zh-CN",
    )
    .await;
    assert_eq!(zh.status, StatusCode::OK);
    assert!(zh.body.contains("将触发 1 次。"), "{}", zh.body);
}

/// A rule with two actions of one kind (only a rules file can make one) is refused by
/// the edit form's POST as by its GET, and keeps both actions: a stale tab or a
/// hand-made POST cannot drop one.
#[tokio::test]
async fn an_edit_post_refuses_a_rule_the_form_cannot_show_and_changes_nothing() {
    let books = books();
    let router = router(&books);
    let file = solocrm_app::automation::file::parse(
        "[[rule]]\nname = \"two-notes\"\ntrigger = \"request_opened\"\n\
         actions = [{ note = \"第一条\" }, { note = \"second\" }]\n",
    )
    .expect("the rules file");
    let rule = file.into_iter().next().expect("one rule").rule;
    books
        .crm()
        .write(|w| w.add_rule(rule.clone(), true))
        .expect("rule added");
    let before = stored(&books, "two-notes").expect("stored");
    let shown = get(&router, "/rules/two-notes/edit").await;
    assert_eq!(
        shown.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        shown.body
    );
    let posted = post(
        &router,
        "/rules/two-notes/edit",
        &[
            ("trigger", "request_opened"),
            ("condition", ""),
            ("note", "only one"),
            ("enabled", "on"),
        ],
    )
    .await;
    assert_eq!(
        posted.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        posted.body
    );
    assert!(posted.body.contains("--toml"), "{}", posted.body);
    assert_eq!(stored(&books, "two-notes"), Some(before), "unchanged");
}
