//! A customer's personal data from their page (issue 15): the JSON download is the
//! export `customer export` prints, and the erasure needs the customer's number typed,
//! is refused cross-site, and leaves no trace of them in the SQLite file or its log.

use std::path::{Path, PathBuf};

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use chrono::{DateTime, TimeZone as _, Utc};
use solocrm_app::{Books, Location, OpenOptions};
use solocrm_core::{
    BusinessZone, Currency, CustomerData, CustomerId, Email, NewCustomer, PersonName, Store as _,
};
use solocrm_web::app;

mod common;

use common::{HOST, get, post, post_from, send};

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 15, 2, 0, 0)
        .single()
        .expect("instant")
}

const NAME: &str = "Zqxv <script>alert(1)</script> 独特名字";
const NOTE: &str = "qwzj secret note 秘密笔记";

/// SQLite books in `dir` with one customer who has an email, a note and a purchase
/// description, all typed in the workspace.
async fn shop(dir: &Path) -> (Books, axum::Router, CustomerId, PathBuf) {
    let db = dir.join("books.db");
    let books = Books::create(
        &Location::Path(db.clone()),
        Currency::CNY,
        &OpenOptions::default(),
    )
    .expect("books");
    books
        .set_time_zone(BusinessZone::parse("Asia/Shanghai").expect("zone"))
        .expect("zone set");
    let mut data = CustomerData::new(PersonName::parse(NAME).expect("name"));
    data.email = Some(Email::parse("zqxv@example.com").expect("email"));
    let id = books
        .create_customer(NewCustomer::new(data, now() - chrono::Duration::days(30)))
        .expect("customer")
        .id();
    let router = app(books.clone(), common::config(now, true));
    let logged = post(
        &router,
        &format!("/customers/{id}/interactions"),
        &[
            ("channel", "wechat"),
            ("direction", "inbound"),
            ("summary", NOTE),
        ],
    )
    .await;
    assert_eq!(logged.status, StatusCode::SEE_OTHER, "{}", logged.body);
    let bought = post(
        &router,
        &format!("/customers/{id}/purchases"),
        &[("amount", "88"), ("description", "qwzj 丝巾")],
    )
    .await;
    assert_eq!(bought.status, StatusCode::SEE_OTHER, "{}", bought.body);
    (books, router, id, db)
}

fn holds(path: &Path, needle: &str) -> bool {
    let Ok(bytes) = std::fs::read(path) else {
        return false;
    };
    let needle = needle.as_bytes();
    bytes.windows(needle.len()).any(|w| w == needle)
}

fn export_of(books: &Books, id: CustomerId) -> serde_json::Value {
    let export = books.crm().read(|r| r.export_customer(id)).expect("export");
    serde_json::to_value(&export).expect("json")
}

#[tokio::test]
async fn the_download_is_the_customer_export_as_json() {
    let dir = tempfile::tempdir().expect("dir");
    let (books, router, id, _) = shop(dir.path()).await;

    let page = get(&router, &format!("/customers/{id}")).await;
    assert!(
        page.body
            .contains(&format!("href=\"/customers/{id}/export.json\"")),
        "{}",
        page.body
    );
    assert!(page.body.contains("id=\"form-erase\""));

    let download = get(&router, &format!("/customers/{id}/export.json")).await;
    assert_eq!(download.status, StatusCode::OK);
    assert_eq!(
        download
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok()),
        Some("application/json; charset=utf-8")
    );
    let disposition = download
        .headers
        .get(header::CONTENT_DISPOSITION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    assert_eq!(
        disposition,
        format!("attachment; filename=\"customer-{id}.json\"")
    );
    let json: serde_json::Value = serde_json::from_str(&download.body).expect("JSON");
    assert_eq!(json, export_of(&books, id));
    assert_eq!(json["customer"]["name"], NAME);
    assert!(download.body.contains("秘密笔记"));

    // The contact card, as `export customers --format vcard` writes it.
    let card = get(&router, &format!("/customers/{id}/vcard.vcf")).await;
    assert_eq!(card.status, StatusCode::OK);
    assert_eq!(
        card.headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok()),
        Some("text/vcard; charset=utf-8")
    );
    let customer = books.customer_by_id(id).expect("read").expect("customer");
    let book = books.book_id().expect("book id");
    assert_eq!(
        card.body,
        solocrm_app::exchange::vcard::write_vcards(&[customer], &book)
    );
    assert!(card.body.contains("zqxv@example.com"), "{}", card.body);

    assert_eq!(
        get(&router, "/customers/999/export.json").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        get(&router, "/customers/x/export.json").await.status,
        StatusCode::NOT_FOUND
    );
    // Without the session, nothing.
    let request = Request::get(format!("/customers/{id}/export.json"))
        .header(header::HOST, HOST)
        .body(Body::empty())
        .expect("request");
    let anonymous = send(&router, request).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    assert!(!anonymous.body.contains("Zqxv"));
}

#[tokio::test]
async fn the_erasure_needs_the_number_typed_and_leaves_nothing_behind() {
    let dir = tempfile::tempdir().expect("dir");
    let (books, router, id, db) = shop(dir.path()).await;
    let wal = PathBuf::from(format!("{}-wal", db.display()));
    let before = export_of(&books, id);
    let path = format!("/customers/{id}/erase");

    // Without the number, with another number, cross-site: nothing erased.
    let refused = post(&router, &path, &[("confirm", "")]).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused.body.contains("id=\"erase-confirm-error\""),
        "{}",
        refused.body
    );
    assert!(refused.body.contains("nothing was erased"));
    let wrong = post(&router, &path, &[("confirm", "9999")]).await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(wrong.body.contains("value=\"9999\""));
    let zh = post(&router, &format!("{path}?lang=zh-CN"), &[("confirm", "no")]).await;
    assert_eq!(zh.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(zh.body.contains("未删除任何数据"), "{}", zh.body);
    let forged = post_from(
        &router,
        &path,
        &[("confirm", &id.to_string())],
        "cross-site",
    )
    .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert_eq!(export_of(&books, id), before);

    for there in ["Zqxv", "秘密笔记", "丝巾"] {
        assert!(
            holds(&db, there) || holds(&wal, there),
            "{there} is on disk before the erasure, so its absence after means something"
        );
    }

    // Typed: erased, back to their anonymous page.
    let erased = post(&router, &path, &[("confirm", &format!(" {id} "))]).await;
    assert_eq!(erased.status, StatusCode::SEE_OTHER, "{}", erased.body);
    assert_eq!(erased.location(), format!("/customers/{id}"));
    let after = export_of(&books, id);
    assert_eq!(after["customer"]["name"], format!("erased customer {id}"));
    assert!(after["customer"]["email"].is_null());
    let page = get(&router, &format!("/customers/{id}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.body.contains("Zqxv") && !page.body.contains("秘密笔记"));
    assert!(
        !page.body.contains("id=\"form-erase\""),
        "no second erasure offered"
    );
    assert_eq!(
        get(&router, &format!("/customers/{id}/vcard.vcf"))
            .await
            .status,
        StatusCode::NOT_FOUND,
        "an erased customer has no card"
    );
    let download = get(&router, &format!("/customers/{id}/export.json")).await;
    for gone in ["Zqxv", "独特名字", "zqxv@", "qwzj", "秘密笔记", "丝巾"] {
        assert!(!download.body.contains(gone), "{gone} in the export");
        assert!(!holds(&db, gone), "{gone} in the file");
        assert!(!holds(&wal, gone), "{gone} in the log");
    }
    let problems = books.sqlite().expect("sqlite").check().expect("check");
    assert!(problems.is_empty(), "{problems:?}");

    // Twice is refused beside the field.
    let again = post(&router, &path, &[("confirm", &id.to_string())]).await;
    assert_eq!(
        again.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        again.body
    );
    assert!(
        again.body.contains("p class=\"error\" role=\"alert\""),
        "{}",
        again.body
    );
    assert_eq!(
        post(&router, "/customers/999/erase", &[("confirm", "999")])
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}
