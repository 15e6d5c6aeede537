//! Every route through the whole router (guard included), with `oneshot`: statuses,
//! the security checks, escaping, the 422 of each invalid form, languages.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use chrono::{DateTime, TimeZone as _, Utc};
use http_body_util::BodyExt as _;
use solocrm_app::{Books, Location, OpenOptions};
use solocrm_core::{
    Currency, CustomerId, DealStage, Label, Money, NewCustomer, NewDeal, PersonName, Store as _,
};
use solocrm_web::{Config, app};
use tower::ServiceExt as _;

const HOST: &str = "127.0.0.1:8765";
const ORIGIN: &str = "http://127.0.0.1:8765";
const TOKEN: &str = "0123456789abcdef";
const SESSION: &str = "fedcba9876543210";
/// A name that tries everything: markup, an attribute break-out, a right-to-left
/// override, and Chinese.
const HOSTILE: &str = "<script>alert(1)</script>\"onmouseover=alert(2) \u{202E}evil 王小明";

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 15, 10, 0, 0)
        .single()
        .expect("instant")
}

fn books() -> Books {
    Books::create(&Location::Memory, Currency::EUR, &OpenOptions::default()).expect("books")
}

fn router(books: &Books) -> Router {
    app(
        books.clone(),
        Config {
            token: TOKEN.to_owned(),
            session: SESSION.to_owned(),
            extra_host: None,
            clock: Arc::new(now),
            automation: true,
            feed: None,
        },
    )
}

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

impl Answer {
    fn location(&self) -> &str {
        self.headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
}

async fn send(router: &Router, request: Request<Body>) -> Answer {
    let response = router.clone().oneshot(request).await.expect("response");
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    Answer {
        status,
        headers,
        body: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

/// A signed-in GET.
async fn get(router: &Router, path: &str) -> Answer {
    get_with(router, path, &[]).await
}

async fn get_with(router: &Router, path: &str, extra: &[(&str, &str)]) -> Answer {
    let mut b = Request::get(path)
        .header(header::HOST, HOST)
        .header(header::COOKIE, format!("solocrm_session={SESSION}"));
    for (k, v) in extra {
        b = b.header(*k, *v);
    }
    send(router, b.body(Body::empty()).expect("request")).await
}

fn form_body(fields: &[(&str, &str)]) -> String {
    serde_urlencoded_like(fields)
}

/// `application/x-www-form-urlencoded`, percent-encoding every byte but the unreserved.
fn serde_urlencoded_like(fields: &[(&str, &str)]) -> String {
    let enc = |s: &str| {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                    (b as char).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect::<String>()
    };
    fields
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// A signed-in, same-origin form POST, as a browser sends it.
async fn post(router: &Router, path: &str, fields: &[(&str, &str)]) -> Answer {
    let request = Request::post(path)
        .header(header::HOST, HOST)
        .header(header::COOKIE, format!("solocrm_session={SESSION}"))
        .header(header::ORIGIN, ORIGIN)
        .header("sec-fetch-site", "same-origin")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(form_body(fields)))
        .expect("request");
    send(router, request).await
}

fn customer(books: &Books, name: &str) -> CustomerId {
    books
        .create_customer(NewCustomer::new(
            solocrm_core::CustomerData::new(PersonName::parse(name).expect("name")),
            now() - chrono::Duration::days(30),
        ))
        .expect("customer")
        .id()
}

fn deal(books: &Books, customer: CustomerId, title: &str) -> solocrm_core::DealId {
    books
        .create_deal(NewDeal::new(
            customer,
            Label::parse(title).expect("title"),
            Money::parse("1200", Currency::EUR).expect("money"),
            now() - chrono::Duration::days(10),
        ))
        .expect("deal")
        .id()
}

/// The message shown beside field `id` (`<span class="error" id="{id}-error">`).
fn message_beside(body: &str, id: &str) -> Option<String> {
    let marker = format!("id=\"{id}-error\"");
    let start = body.find(&marker)?;
    let rest = &body[start..];
    let open = rest.find('>')? + 1;
    let close = rest[open..].find('<')?;
    Some(rest[open..open + close].to_owned())
}

#[tokio::test]
async fn every_page_answers_with_the_security_headers() {
    let books = books();
    let id = customer(&books, "Ada");
    deal(&books, id, "Website");
    let r = router(&books);
    for path in [
        "/".to_owned(),
        "/customers".to_owned(),
        "/customers?q=Ada".to_owned(),
        format!("/customers/{id}"),
        "/care".to_owned(),
        "/pipeline".to_owned(),
        "/rules".to_owned(),
        "/calendar".to_owned(),
        "/holidays".to_owned(),
        "/assets/app.css".to_owned(),
        "/health".to_owned(),
    ] {
        let a = get(&r, &path).await;
        assert_eq!(a.status, StatusCode::OK, "{path}: {}", a.body);
        let csp = a.headers[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .expect("csp");
        assert!(csp.contains("default-src 'none'"), "{path}: {csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert!(!csp.contains("unsafe-inline"), "{path}: {csp}");
        assert_eq!(
            a.headers[header::X_CONTENT_TYPE_OPTIONS],
            "nosniff",
            "{path}"
        );
        if path.starts_with("/customers")
            || [
                "/",
                "/care",
                "/pipeline",
                "/rules",
                "/calendar",
                "/holidays",
            ]
            .contains(&path.as_str())
        {
            assert!(
                a.body.starts_with("<!DOCTYPE html>"),
                "{path}: {}",
                &a.body[..80.min(a.body.len())]
            );
            assert!(!a.body.contains("<script"), "{path} has a script");
            assert!(!a.body.contains(" style="), "{path} has inline style");
        }
    }
    assert_eq!(
        get(&r, "/assets/app.css").await.headers[header::CONTENT_TYPE],
        "text/css; charset=utf-8"
    );
}

#[tokio::test]
async fn health_needs_no_token_and_pages_do() {
    let books = books();
    let r = router(&books);
    let health = send(
        &r,
        Request::get("/health")
            .header(header::HOST, HOST)
            .body(Body::empty())
            .expect("request"),
    )
    .await;
    assert_eq!(
        (health.status, health.body.as_str()),
        (StatusCode::OK, "ok")
    );
    for path in [
        "/",
        "/customers",
        "/customers/1",
        "/care",
        "/pipeline",
        "/rules",
        "/calendar",
        "/holidays",
    ] {
        let a = send(
            &r,
            Request::get(path)
                .header(header::HOST, HOST)
                .body(Body::empty())
                .expect("request"),
        )
        .await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{path}");
        assert!(a.body.contains("?token="), "{path}: {}", a.body);
        // A wrong cookie is no better.
        let a = send(
            &r,
            Request::get(path)
                .header(header::HOST, HOST)
                .header(header::COOKIE, "solocrm_session=guess")
                .body(Body::empty())
                .expect("request"),
        )
        .await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{path}");
    }
    // A form without the cookie writes nothing.
    let a = send(
        &r,
        Request::post("/customers")
            .header(header::HOST, HOST)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from("name=Eve"))
            .expect("request"),
    )
    .await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    assert_eq!(books.count_customers().expect("count"), 0);
}

#[tokio::test]
async fn the_token_becomes_a_strict_cookie_and_leaves_the_url() {
    let books = books();
    let r = router(&books);
    let a = send(
        &r,
        Request::get(format!("/customers?q=x&token={TOKEN}"))
            .header(header::HOST, HOST)
            .body(Body::empty())
            .expect("request"),
    )
    .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER);
    assert_eq!(a.location(), "/customers?q=x");
    let cookie = a.headers[header::SET_COOKIE].to_str().expect("cookie");
    assert!(
        cookie.starts_with(&format!("solocrm_session={SESSION};")),
        "{cookie}"
    );
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Strict"), "{cookie}");
    assert!(!cookie.contains(TOKEN), "{cookie}");
    let wrong = send(
        &r,
        Request::get("/?token=0123456789abcdee")
            .header(header::HOST, HOST)
            .body(Body::empty())
            .expect("request"),
    )
    .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(wrong.headers.get(header::SET_COOKIE).is_none());
}

#[tokio::test]
async fn a_foreign_host_is_misdirected() {
    let books = books();
    let r = router(&books);
    for host in ["evil.example", "evil.example:8765", "192.168.1.20:8765"] {
        let a = send(
            &r,
            Request::get("/")
                .header(header::HOST, host)
                .header(header::COOKIE, format!("solocrm_session={SESSION}"))
                .body(Body::empty())
                .expect("request"),
        )
        .await;
        assert_eq!(a.status, StatusCode::MISDIRECTED_REQUEST, "{host}");
        assert!(a.headers.contains_key(header::CONTENT_SECURITY_POLICY));
    }
    // Not even /health or the token login answer to another host.
    let a = send(
        &r,
        Request::get(format!("/?token={TOKEN}"))
            .header(header::HOST, "evil.example")
            .body(Body::empty())
            .expect("request"),
    )
    .await;
    assert_eq!(a.status, StatusCode::MISDIRECTED_REQUEST);
    for host in ["localhost:8765", "[::1]:8765", "127.0.0.1"] {
        let a = send(
            &r,
            Request::get("/health")
                .header(header::HOST, host)
                .body(Body::empty())
                .expect("request"),
        )
        .await;
        assert_eq!(a.status, StatusCode::OK, "{host}");
    }
}

#[tokio::test]
async fn a_cross_site_post_is_refused_and_writes_nothing() {
    let books = books();
    let r = router(&books);
    let attempts: [&[(&str, &str)]; 4] = [
        &[("sec-fetch-site", "cross-site")],
        &[("sec-fetch-site", "same-site")],
        &[("origin", "http://evil.example")],
        &[("origin", "null")],
    ];
    for headers in attempts {
        let mut b = Request::post("/customers")
            .header(header::HOST, HOST)
            .header(header::COOKIE, format!("solocrm_session={SESSION}"))
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        let a = send(&r, b.body(Body::from("name=Mallory")).expect("request")).await;
        assert_eq!(a.status, StatusCode::FORBIDDEN, "{headers:?}");
    }
    assert_eq!(books.count_customers().expect("count"), 0);
    // The same form from the page itself goes through.
    let a = post(&r, "/customers", &[("name", "Mallory")]).await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
}

#[tokio::test]
async fn a_hostile_name_is_text_everywhere() {
    let books = books();
    let r = router(&books);
    let a = post(&r, "/customers", &[("name", HOSTILE), ("email", "")]).await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
    assert_eq!(a.location(), "/customers/1");
    let id = CustomerId::new(1);
    deal(&books, id, "<b>big</b> deal");
    let pages = [
        get(&r, "/customers/1").await,
        get(&r, "/customers").await,
        get(&r, "/customers?q=%E7%8E%8B%E5%B0%8F%E6%98%8E").await,
        get(&r, "/pipeline").await,
    ];
    for page in &pages {
        assert_eq!(page.status, StatusCode::OK);
        let b = &page.body;
        assert!(!b.contains("<script>"), "{b}");
        assert!(!b.contains("<b>big"), "{b}");
        assert!(!b.contains("\"onmouseover"), "{b}");
        // Wherever the right-to-left override is shown as text, it is inside an
        // isolate; inside a tag it is an attribute value.
        assert!(b.contains('\u{202E}'), "the name is shown");
        let text_body = &b[b.find("<body>").expect("body")..];
        for (at, _) in text_body.match_indices('\u{202E}') {
            let before = &text_body[..at];
            let in_tag = before.rfind('<') > before.rfind('>');
            if in_tag {
                continue;
            }
            let open = before.rfind("<bdi>");
            let close = before.rfind("</bdi>");
            assert!(
                open.is_some() && close.is_none_or(|c| Some(c) < open),
                "an override outside an isolate: …{}",
                &before[before.len().saturating_sub(120)..]
            );
        }
    }
    assert!(
        pages[0]
            .body
            .contains("&lt;script&gt;alert(1)&lt;/script&gt;")
    );
    assert!(pages[0].body.contains("&quot;onmouseover=alert(2)"));
    assert!(pages[0].body.contains("王小明"));
    assert!(
        pages[2].body.contains("王小明"),
        "the Chinese substring finds them"
    );
    assert!(pages[3].body.contains("&lt;b&gt;big&lt;/b&gt; deal"));
}

#[tokio::test]
async fn adding_a_customer_refuses_bad_fields_with_422_beside_the_field() {
    let books = books();
    let r = router(&books);
    let a = post(&r, "/customers", &[("name", "  "), ("email", "")]).await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        message_beside(&a.body, "add-name").is_some_and(|m| m.contains("name")),
        "{}",
        a.body
    );
    let a = post(&r, "/customers", &[("name", "Bo"), ("email", "bo@")]).await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY);
    let m = message_beside(&a.body, "add-email").expect("message");
    assert!(m.contains("bo@"), "{m}");
    // What was typed stays in the form.
    assert!(a.body.contains("value=\"bo@\""), "{}", a.body);
    assert_eq!(books.count_customers().expect("count"), 0);
    let ok = post(
        &r,
        "/customers",
        &[("name", "Bo"), ("email", "bo@example.org")],
    )
    .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER);
    let twice = post(
        &r,
        "/customers",
        &[("name", "Bo 2"), ("email", "BO@example.org")],
    )
    .await;
    assert_eq!(twice.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        message_beside(&twice.body, "add-email").is_some(),
        "{}",
        twice.body
    );
    assert_eq!(books.count_customers().expect("count"), 1);
}

/// A form case: the route under the customer, the fields, the field the message is
/// beside.
type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a str);

#[tokio::test]
async fn customer_forms_refuse_bad_input_with_422_and_accept_good_input() {
    let books = books();
    let id = customer(&books, "Chen");
    let r = router(&books);
    let page = format!("/customers/{id}");
    let cases: [Case<'_>; 8] = [
        (
            "interactions",
            &[
                ("channel", "fax"),
                ("direction", "inbound"),
                ("summary", "hi"),
            ],
            "interaction-channel",
        ),
        (
            "interactions",
            &[
                ("channel", "phone"),
                ("direction", "inbound"),
                ("summary", " "),
            ],
            "interaction-summary",
        ),
        (
            "purchases",
            &[("amount", "abc"), ("description", ""), ("date", "")],
            "purchase-amount",
        ),
        (
            "purchases",
            &[("amount", "12.345"), ("description", ""), ("date", "")],
            "purchase-amount",
        ),
        (
            "purchases",
            &[
                ("amount", "10"),
                ("description", ""),
                ("date", "2026-13-01"),
            ],
            "purchase-date",
        ),
        ("stage", &[("stage", "bogus"), ("note", "")], "stage-stage"),
        // prospect → active is not an allowed move.
        ("stage", &[("stage", "active"), ("note", "")], "stage-stage"),
        (
            "edit",
            &[("name", ""), ("email", ""), ("version", "x")],
            "edit-name",
        ),
    ];
    for (route, fields, field) in cases {
        let a = post(&r, &format!("{page}/{route}"), fields).await;
        assert_eq!(
            a.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{route} {fields:?}: {}",
            a.body
        );
        assert!(
            message_beside(&a.body, field).is_some_and(|m| !m.is_empty()),
            "{route} {fields:?}: no message beside {field}"
        );
        assert!(
            a.body.contains("data-stage=\"prospect\""),
            "the page is shown again"
        );
    }
    let stored = books
        .crm()
        .read(|r| solocrm_app::views::CustomerPage::load(&r, id))
        .expect("page");
    assert!(stored.export.interactions.is_empty() && stored.export.purchases.is_empty());
    // Good input: 303 back to the page, which shows it.
    let a = post(
        &r,
        &format!("{page}/interactions"),
        &[
            ("channel", "wechat"),
            ("direction", "inbound"),
            ("summary", "问了价格"),
        ],
    )
    .await;
    assert_eq!(
        (a.status, a.location()),
        (StatusCode::SEE_OTHER, page.as_str())
    );
    let a = post(
        &r,
        &format!("{page}/purchases"),
        &[("amount", "99.50"), ("description", "茶叶"), ("date", "")],
    )
    .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
    let shown = get(&r, &page).await;
    assert!(shown.body.contains("问了价格") && shown.body.contains("茶叶"));
    assert!(shown.body.contains("99.50"));
    // The first purchase moved them to new, by the lifecycle policy.
    assert!(
        shown.body.contains("id=\"stage\" data-stage=\"new\""),
        "{}",
        shown.body
    );
    let a = post(
        &r,
        &format!("{page}/stage"),
        &[("stage", "active"), ("note", "回头客")],
    )
    .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
    assert!(get(&r, &page).await.body.contains("data-stage=\"active\""));
}

#[tokio::test]
async fn an_edit_made_on_an_older_page_is_a_conflict() {
    let books = books();
    let id = customer(&books, "Lin");
    let r = router(&books);
    let page = format!("/customers/{id}");
    let body = get(&r, &page).await.body;
    let marker = "name=\"version\" value=\"";
    let start = body.find(marker).expect("version") + marker.len();
    let version = body[start..start + 16].to_owned();
    // Another tab saves first.
    let a = post(
        &r,
        &format!("{page}/edit"),
        &[("version", &version), ("name", "Lin Two"), ("email", "")],
    )
    .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
    // This tab's save, on the page it loaded before, is refused.
    let a = post(
        &r,
        &format!("{page}/edit"),
        &[("version", &version), ("name", "Lin Three"), ("email", "")],
    )
    .await;
    assert_eq!(a.status, StatusCode::CONFLICT);
    assert!(a.body.contains("changed in another tab"), "{}", a.body);
    assert!(
        a.body.contains("value=\"Lin Three\""),
        "what was typed is kept"
    );
    let c = books.customer(id).expect("customer");
    assert_eq!(c.name().to_string(), "Lin Two");
}

#[tokio::test]
async fn unknown_customers_and_paths_are_404() {
    let books = books();
    let r = router(&books);
    for path in ["/customers/999", "/customers/abc", "/nowhere"] {
        let a = get(&r, path).await;
        assert_eq!(a.status, StatusCode::NOT_FOUND, "{path}");
        assert!(a.body.starts_with("<!DOCTYPE html>"));
    }
    let a = post(&r, "/customers/999/purchases", &[("amount", "5")]).await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    let a = post(&r, "/customers/999/stage", &[("stage", "lead")]).await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_board_moves_deals_by_the_pipeline_rules() {
    let books = books();
    let id = customer(&books, "Zhou");
    let d = deal(&books, id, "Tea shop");
    let r = router(&books);
    let board = get(&r, "/pipeline").await;
    assert!(board.body.contains(&format!("data-deal=\"{d}\"")));
    let a = post(&r, &format!("/deals/{d}/move"), &[("to", "bogus")]).await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        message_beside(&a.body, &format!("deal-{d}-to")).is_some(),
        "{}",
        a.body
    );
    let a = post(&r, &format!("/deals/{d}/move"), &[("to", "proposal")]).await;
    assert_eq!(
        (a.status, a.location()),
        (StatusCode::SEE_OTHER, "/pipeline")
    );
    let stored = books.deal(d).expect("deal");
    assert_eq!(stored.stage(), DealStage::Proposal);
    let a = post(&r, &format!("/deals/{d}/move"), &[("to", "won")]).await;
    assert_eq!(a.status, StatusCode::SEE_OTHER);
    // Won is final.
    let a = post(&r, &format!("/deals/{d}/move"), &[("to", "demo")]).await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", a.body);
    assert_eq!(books.deal(d).expect("deal").stage(), DealStage::Won);
    assert!(
        !a.body.contains(&format!("data-deal=\"{d}\"")),
        "a won deal leaves the board"
    );
    assert!(
        a.body.contains("<p class=\"message\" role=\"alert\">"),
        "{}",
        a.body
    );
    let a = post(&r, "/deals/999/move", &[("to", "demo")]).await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_dashboard_draws_its_bars_and_refuses_bad_periods() {
    let books = books();
    let id = customer(&books, "Wu");
    deal(&books, id, "A");
    let r = router(&books);
    let a = get(&r, "/?from=2026-01-01&to=2026-06-14").await;
    assert_eq!(a.status, StatusCode::OK);
    // 8 stages + 6 months of revenue + 6 of satisfaction + 11 RFM segments + 5 open
    // deal stages; nobody has bought, so the cohort heatmap says so instead of drawing.
    assert_eq!(
        a.body.matches("<rect class=\"bar\"").count(),
        8 + 6 + 6 + 11 + 5
    );
    assert_eq!(a.body.matches("<table class=\"data\">").count(), 5);
    assert_eq!(a.body.matches("role=\"img\"").count(), 5);
    assert!(a.body.contains("id=\"cohort-heatmap\""));
    let a = get(&r, "/?from=2026-02-30").await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        message_beside(&a.body, "period-from").is_some(),
        "{}",
        a.body
    );
    let a = get(&r, "/?from=2026-06-01&to=2026-01-01").await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn customers_are_searched_filtered_and_paged() {
    let books = books();
    for i in 0..120 {
        customer(&books, &format!("客户{i:03}"));
    }
    customer(&books, "王小明");
    let r = router(&books);
    let first = get(&r, "/customers").await;
    assert_eq!(first.body.matches("<td data-stage=").count(), 50);
    assert!(
        first.body.contains("href=\"/customers?after=50\""),
        "{}",
        first.body
    );
    let third = get(&r, "/customers?after=100").await;
    assert_eq!(third.body.matches("<td data-stage=").count(), 21);
    let hit = get(&r, "/customers?q=%E5%B0%8F%E6%98%8E").await;
    assert_eq!(hit.body.matches("<td data-stage=").count(), 1);
    assert!(hit.body.contains("王小明"));
    let none = get(&r, "/customers?stage=loyal").await;
    assert!(none.body.matches("<td data-stage=").count() == 0);
    let bad = get(&r, "/customers?stage=vip").await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    let paged = get(&r, "/customers?q=%E5%AE%A2%E6%88%B7&page=3").await;
    assert_eq!(
        paged.body.matches("<td data-stage=").count(),
        20,
        "{}",
        paged.body
    );
}

#[tokio::test]
async fn the_language_follows_the_browser_and_the_switch() {
    let books = books();
    let r = router(&books);
    let zh = get_with(&r, "/", &[("accept-language", "zh-CN,zh;q=0.9,en;q=0.8")]).await;
    assert!(zh.body.contains("<html lang=\"zh-CN\">"));
    assert!(zh.body.contains("仪表盘"));
    let en = get_with(&r, "/", &[("accept-language", "en-US,en;q=0.9")]).await;
    assert!(en.body.contains("<html lang=\"en\">"));
    assert!(en.body.contains("Dashboard"));
    let switched = get_with(&r, "/care?lang=zh-CN", &[("accept-language", "en")]).await;
    assert!(switched.body.contains("<html lang=\"zh-CN\">"));
    let cookie = switched.headers[header::SET_COOKIE]
        .to_str()
        .expect("cookie");
    assert!(cookie.starts_with("solocrm_lang=zh-CN;"), "{cookie}");
    let cookie_wins = get_with(
        &r,
        "/pipeline",
        &[
            ("accept-language", "en"),
            (
                "cookie",
                &format!("solocrm_session={SESSION}; solocrm_lang=zh-CN"),
            ),
        ],
    )
    .await;
    assert!(
        cookie_wins.body.contains("销售管道"),
        "{}",
        cookie_wins.body
    );
}

/// The number in the dashboard's "Customers" figure.
fn customers_figure(body: &str) -> String {
    let marker = "<dt>Customers</dt><dd>";
    let start = body.find(marker).expect("the figure") + marker.len();
    body[start..].split('<').next().unwrap_or("").to_owned()
}

#[tokio::test]
async fn the_dashboard_shows_a_write_made_elsewhere_on_the_next_load() {
    let books = books();
    customer(&books, "One");
    let r = router(&books);
    let first = get(&r, "/").await;
    assert_eq!(customers_figure(&first.body), "1");
    // Unchanged books: the same page (from the kept report).
    assert_eq!(customers_figure(&get(&r, "/").await.body), "1");
    // Another program (the CLI) writes; the next load shows it.
    customer(&books, "Two");
    assert_eq!(customers_figure(&get(&r, "/").await.body), "2");
    let id = customer(&books, "Three");
    books
        .record_purchase(solocrm_core::NewPurchase::new(
            id,
            now() - chrono::Duration::days(1),
            Money::parse("10", Currency::EUR).expect("money"),
        ))
        .expect("purchase");
    let body = get(&r, "/").await.body;
    assert_eq!(customers_figure(&body), "3");
    assert!(body.contains("10.00 EUR"), "the revenue moved");
    // Another period is its own report.
    let other = get(&r, "/?from=2026-06-01").await;
    assert_eq!(customers_figure(&other.body), "3");
    assert_eq!(customers_figure(&get(&r, "/").await.body), "3");
}

#[tokio::test]
async fn the_care_list_shows_a_contact_made_elsewhere_on_the_next_load() {
    let books = books();
    let quiet = books
        .create_customer(
            NewCustomer::new(
                solocrm_core::CustomerData::new(PersonName::parse("Quiet Qian").expect("name")),
                now() - chrono::Duration::days(120),
            )
            .at_stage(solocrm_core::LifecycleStage::Lead),
        )
        .expect("customer")
        .id();
    let r = router(&books);
    for path in ["/care", "/"] {
        let before = get(&r, path).await.body;
        assert!(before.contains("Quiet Qian"), "{path}: {before}");
        assert!(
            get(&r, path).await.body.contains("Quiet Qian"),
            "{path} again"
        );
    }
    books
        .log_interaction(solocrm_core::NewInteraction {
            customer: quiet,
            channel: solocrm_core::Channel::Phone,
            direction: solocrm_core::Direction::Outbound,
            at: now() - chrono::Duration::hours(1),
            summary: solocrm_core::FreeText::parse("called").expect("text"),
            sentiment: None,
        })
        .expect("interaction");
    for path in ["/care", "/"] {
        let after = get(&r, path).await.body;
        assert!(!after.contains("Quiet Qian"), "{path}: {after}");
    }
}

/// `count` leads created 120 days ago and never contacted: each a care reminder.
fn quiet_leads(books: &Books, count: usize) {
    books
        .write(|w| {
            for i in 0..count {
                let name = PersonName::parse(&format!("Quiet {i:03}")).expect("name");
                w.create_customer(
                    NewCustomer::new(
                        solocrm_core::CustomerData::new(name),
                        now() - chrono::Duration::days(120),
                    )
                    .at_stage(solocrm_core::LifecycleStage::Lead),
                )?;
            }
            Ok(())
        })
        .expect("customers");
}

/// The rows of the body's care table (its header row left out).
fn care_rows(body: &str) -> usize {
    let table = body
        .split("<table class=\"care\">")
        .nth(1)
        .and_then(|t| t.split("</table>").next())
        .expect("a care table");
    table.matches("<tr>").count() - 1
}

#[tokio::test]
async fn the_dashboard_lists_the_first_care_reminders_and_the_care_page_pages_through_all() {
    let books = books();
    quiet_leads(&books, 130);
    let r = router(&books);

    let dash = get(&r, "/").await;
    assert_eq!(dash.status, StatusCode::OK);
    assert_eq!(
        care_rows(&dash.body),
        20,
        "the dashboard lists the first 20"
    );
    assert!(
        dash.body.contains("The first 20 of 130 reminders."),
        "{}",
        dash.body
    );
    assert!(dash.body.contains("href=\"/care?days=7\""));

    let first = get(&r, "/care").await;
    assert_eq!(care_rows(&first.body), 100);
    assert!(first.body.contains("Reminders 1–100 of 130"));
    assert!(
        first
            .body
            .contains("rel=\"next\" href=\"/care?days=14&amp;page=2\"")
    );
    assert!(!first.body.contains("rel=\"prev\""));
    assert!(first.body.contains("Quiet 000") && !first.body.contains("Quiet 129"));

    let second = get(&r, "/care?days=14&page=2").await;
    assert_eq!(care_rows(&second.body), 30);
    assert!(second.body.contains("Reminders 101–130 of 130"));
    assert!(
        second
            .body
            .contains("rel=\"prev\" href=\"/care?days=14&amp;page=1\"")
    );
    assert!(!second.body.contains("rel=\"next\""));
    assert!(second.body.contains("Quiet 129") && !second.body.contains("Quiet 000"));

    // A page past the last shows the last; a page that is not a number, the first.
    assert_eq!(care_rows(&get(&r, "/care?page=9").await.body), 30);
    assert_eq!(care_rows(&get(&r, "/care?page=x").await.body), 100);

    let zh = get(&r, "/?lang=zh-CN").await;
    assert!(
        zh.body.contains("共 130 条提醒，此处列出前 20 条。"),
        "{}",
        zh.body
    );
}

#[tokio::test]
async fn a_short_care_list_has_no_pages() {
    let books = books();
    quiet_leads(&books, 3);
    let r = router(&books);
    let care = get(&r, "/care").await;
    assert_eq!(care_rows(&care.body), 3);
    assert!(!care.body.contains("Reminders 1–"));
    assert!(!care.body.contains("rel=\"next\""));
    let dash = get(&r, "/").await.body;
    assert_eq!(care_rows(&dash), 3);
    assert!(!dash.contains("reminders."));
}
