//! `/import` through the router (`oneshot`): a file uploaded as multipart goes through
//! the CLI's import pipeline — imported (303, then the counts), checked only (200,
//! nothing written), or refused (422 listing every bad row with its line and column,
//! nothing written); GB18030 with Chinese headers; an oversize upload (413); a
//! cross-site upload (403); hostile text escaped.

mod common;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use chrono::{DateTime, TimeZone as _, Utc};
use common::{Answer, HOST, ORIGIN, SESSION, get, send};
use solocrm_app::{Books, Location, OpenOptions};
use solocrm_core::{ActivityQuery, Currency, Store as _};
use solocrm_web::app;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 20, 10, 0, 0)
        .single()
        .expect("instant")
}

fn workspace() -> (Books, Router) {
    let books =
        Books::create(&Location::Memory, Currency::CNY, &OpenOptions::default()).expect("books");
    let router = app(books.clone(), common::config(now, false));
    (books, router)
}

const BOUNDARY: &str = "----solocrm-test-boundary-7d1f";

/// A multipart body: the text fields, then the file.
fn multipart(fields: &[(&str, &str)], file_name: &str, file: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    body.extend_from_slice(
        format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\nContent-Type: text/csv\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(file);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    body
}

async fn upload_from(router: &Router, body: Vec<u8>, site: &str) -> Answer {
    let request = Request::post("/import")
        .header(header::HOST, HOST)
        .header(header::COOKIE, format!("solocrm_session={SESSION}"))
        .header(header::ORIGIN, ORIGIN)
        .header("sec-fetch-site", site)
        .header(
            header::CONTENT_TYPE,
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body(Body::from(body))
        .expect("request");
    send(router, request).await
}

async fn upload(router: &Router, fields: &[(&str, &str)], name: &str, file: &[u8]) -> Answer {
    upload_from(router, multipart(fields, name, file), "same-origin").await
}

fn purchases(books: &Books) -> usize {
    books
        .purchases(&ActivityQuery::EVERYTHING)
        .expect("purchases")
        .len()
}

#[tokio::test]
async fn the_page_has_a_form_per_kind_and_is_in_the_nav() {
    let (_, router) = workspace();
    let page = get(&router, "/import").await;
    assert_eq!(page.status, StatusCode::OK);
    for form in ["import-customers", "import-purchases", "import-surveys"] {
        assert!(page.body.contains(&format!("id=\"{form}\"")), "{form}");
    }
    assert!(page.body.contains("enctype=\"multipart/form-data\""));
    assert!(page.body.contains("name=\"create_missing\""));
    assert!(page.body.contains("value=\"check\""));
    let home = get(&router, "/").await;
    assert!(home.body.contains("href=\"/import\""));
}

#[tokio::test]
async fn customers_then_purchases_are_imported_and_seen_by_the_dashboard() {
    let (books, router) = workspace();
    let before = get(&router, "/").await;
    assert_eq!(before.status, StatusCode::OK);
    let customers = "name,email,reference,tags\n张伟,zhang.wei@example.cn,C-1,vip;上海\nAda Lovelace,ada@example.com,C-2,\n";
    let done = upload(
        &router,
        &[("kind", "customers"), ("action", "import")],
        "客户.csv",
        customers.as_bytes(),
    )
    .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert!(
        done.location().starts_with("/import?"),
        "{}",
        done.location()
    );
    assert!(done.location().contains("created=2"), "{}", done.location());
    assert_eq!(books.count_customers().expect("count"), 2);
    let shown = get(&router, done.location()).await;
    assert_eq!(shown.status, StatusCode::OK);
    assert!(shown.body.contains("id=\"import-done\""));
    assert!(shown.body.contains("2 created"), "{}", shown.body);

    let file =
        "customer,date,amount,reference\nC-1,2026-11-02,199.00,P-1\nC-2,2026-11-03,88.50,P-2\n";
    let done = upload(
        &router,
        &[("kind", "purchases"), ("action", "import")],
        "p.csv",
        file.as_bytes(),
    )
    .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert!(
        done.location().contains("purchases=2"),
        "{}",
        done.location()
    );
    assert_eq!(purchases(&books), 2);
    // The dashboard kept before the import is not what it shows now.
    let after = get(&router, "/").await;
    assert_eq!(after.status, StatusCode::OK);
    assert_ne!(before.body, after.body);
    assert!(
        after.body.contains("287.50") || after.body.contains("287.5"),
        "the revenue shows"
    );
}

#[tokio::test]
async fn a_file_with_bad_rows_lists_every_one_and_writes_nothing() {
    let (books, router) = workspace();
    let good = "name,email\n王芳,wang.fang@example.cn\n";
    let done = upload(
        &router,
        &[("kind", "customers"), ("action", "import")],
        "a.csv",
        good.as_bytes(),
    )
    .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER);
    let before = books.count_customers().expect("count");
    let file = "name,email,birthday\n李雷,li.lei@example.cn,\n韩梅梅,not-an-email,\n赵六,zhao@example.cn,2026-13-45\n";
    let refused = upload(
        &router,
        &[("kind", "customers"), ("action", "import")],
        "bad.csv",
        file.as_bytes(),
    )
    .await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.body
    );
    assert_eq!(
        books.count_customers().expect("count"),
        before,
        "nothing written"
    );
    assert!(refused.body.contains("id=\"import-problems\""));
    // Both bad rows, each with its line and column.
    let problems = refused
        .body
        .split("id=\"import-problems\"")
        .nth(1)
        .expect("table");
    assert!(problems.contains("<td class=\"num\">3</td>"), "{problems}");
    assert!(problems.contains("<td class=\"num\">4</td>"), "{problems}");
    assert!(problems.contains("<bdi>email</bdi>"), "{problems}");
    assert!(problems.contains("<bdi>birthday</bdi>"), "{problems}");
    // The message is beside the file field of the customers form.
    assert!(refused.body.contains("id=\"import-customers-file-error\""));

    // A purchase for a customer nobody has: refused, and nothing written either.
    let file = "customer,date,amount\nwang.fang@example.cn,2026-11-02,10\nnobody@example.cn,2026-11-03,20\n";
    let refused = upload(
        &router,
        &[("kind", "purchases"), ("action", "import")],
        "p.csv",
        file.as_bytes(),
    )
    .await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.body
    );
    assert!(
        refused.body.contains("<td class=\"num\">3</td>"),
        "{}",
        refused.body
    );
    assert_eq!(purchases(&books), 0);
}

#[tokio::test]
async fn check_only_writes_nothing_and_shows_the_plan() {
    let (books, router) = workspace();
    let file = "name,email\n张伟,zhang.wei@example.cn\n";
    let checked = upload(
        &router,
        &[("kind", "customers"), ("action", "check")],
        "c.csv",
        file.as_bytes(),
    )
    .await;
    assert_eq!(checked.status, StatusCode::OK, "{}", checked.body);
    assert!(checked.body.contains("id=\"import-plan\""));
    assert!(checked.body.contains("张伟"));
    assert_eq!(books.count_customers().expect("count"), 0);
}

#[tokio::test]
async fn a_gb18030_file_with_chinese_headers_is_read() {
    let (books, router) = workspace();
    let text = "姓名,邮箱\n张伟,zhang.wei@example.cn\n李娜,li.na@example.cn\n";
    let (bytes, _, bad) = encoding_rs::GB18030.encode(text);
    assert!(!bad);
    assert!(std::str::from_utf8(&bytes).is_err(), "not UTF-8");
    let done = upload(
        &router,
        &[("kind", "customers"), ("action", "import")],
        "gb.csv",
        &bytes,
    )
    .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(books.count_customers().expect("count"), 2);
    let list = get(&router, "/customers").await;
    assert!(list.body.contains("张伟") && list.body.contains("李娜"));
}

#[tokio::test]
async fn options_are_the_clis() {
    let (books, router) = workspace();
    // An unknown column is refused, unless told to ignore it.
    let file = "name,favourite_colour\n张伟,red\n";
    let refused = upload(
        &router,
        &[("kind", "customers"), ("action", "import")],
        "c.csv",
        file.as_bytes(),
    )
    .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("favourite_colour"));
    assert_eq!(books.count_customers().expect("count"), 0);
    let done = upload(
        &router,
        &[
            ("kind", "customers"),
            ("ignore_unknown", "1"),
            ("action", "import"),
        ],
        "c.csv",
        file.as_bytes(),
    )
    .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(books.count_customers().expect("count"), 1);
    // --create-missing: a purchase for an unknown reference makes its customer.
    let file = "customer,date,amount\nREF-9,2026-11-02,10\n";
    let done = upload(
        &router,
        &[
            ("kind", "purchases"),
            ("create_missing", "1"),
            ("action", "import"),
        ],
        "p.csv",
        file.as_bytes(),
    )
    .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert!(
        done.location().contains("new+customers=1"),
        "{}",
        done.location()
    );
    assert_eq!(books.count_customers().expect("count"), 2);
    // A preset for a kind that has none is a 422 beside the format.
    let refused = upload(
        &router,
        &[
            ("kind", "purchases"),
            ("format", "vcard"),
            ("action", "import"),
        ],
        "p.csv",
        file.as_bytes(),
    )
    .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    // No file at all.
    let refused = upload(
        &router,
        &[("kind", "customers"), ("action", "import")],
        "",
        b"",
    )
    .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("Choose a file"));
}

#[tokio::test]
async fn an_oversize_upload_is_refused_with_413_and_nothing_written() {
    let (books, router) = workspace();
    let mut file = b"name\n".to_vec();
    while file.len() <= solocrm_web_limit() {
        file.extend_from_slice("张伟\n".repeat(4096).as_bytes());
    }
    let refused = upload(
        &router,
        &[("kind", "customers"), ("action", "import")],
        "big.csv",
        &file,
    )
    .await;
    assert_eq!(
        refused.status,
        StatusCode::PAYLOAD_TOO_LARGE,
        "{}",
        &refused.body[..refused.body.len().min(500)]
    );
    assert!(
        refused.body.contains("larger than 32 MiB"),
        "{}",
        refused.body
    );
    assert_eq!(books.count_customers().expect("count"), 0);
}

/// The upload limit the page states.
fn solocrm_web_limit() -> usize {
    32 * 1024 * 1024
}

#[tokio::test]
async fn a_cross_site_upload_is_refused() {
    let (books, router) = workspace();
    let file = "name\n张伟\n";
    let refused = upload_from(
        &router,
        multipart(
            &[("kind", "customers"), ("action", "import")],
            "c.csv",
            file.as_bytes(),
        ),
        "cross-site",
    )
    .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(books.count_customers().expect("count"), 0);
}

#[tokio::test]
async fn hostile_text_in_the_file_and_its_name_is_escaped() {
    let (books, router) = workspace();
    let file = "name,email\n<script>alert(1)</script>,\"<img src=x onerror=alert(1)>\"\n";
    let refused = upload(
        &router,
        &[("kind", "customers"), ("action", "import")],
        "<b>x</b>.csv",
        file.as_bytes(),
    )
    .await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.body
    );
    assert!(!refused.body.contains("<img src=x"), "{}", refused.body);
    assert!(!refused.body.contains("<script>alert"));
    assert!(refused.body.contains("&lt;img"), "{}", refused.body);
    assert_eq!(books.count_customers().expect("count"), 0);
    // The check of a good file shows its name and rows escaped.
    let file = "name\n<script>alert(1)</script>\n";
    let checked = upload(
        &router,
        &[("kind", "customers"), ("action", "check")],
        "<b>x</b>.csv",
        file.as_bytes(),
    )
    .await;
    assert_eq!(checked.status, StatusCode::OK);
    assert!(!checked.body.contains("<script>alert"));
    assert!(!checked.body.contains("<b>x</b>"));
    assert!(
        checked
            .body
            .contains("&lt;script&gt;alert(1)&lt;/script&gt;")
    );
}

#[tokio::test]
async fn the_page_speaks_chinese() {
    let (_, router) = workspace();
    let request = Request::get("/import")
        .header(header::HOST, HOST)
        .header(header::COOKIE, format!("solocrm_session={SESSION}"))
        .header(header::ACCEPT_LANGUAGE, "zh-CN")
        .body(Body::empty())
        .expect("request");
    let page = send(&router, request).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("仅检查"));
    assert!(page.body.contains("购买记录"));
}
