//! `/customers?q=` over a SQLite book where thousands of customers match: the first
//! and the last page come in the ranked order (the exact name, then names containing
//! the text by name, then the customers matched by another field) with the full
//! count, although only one page of customers is decoded (issue 15, ADR 0042).

mod common;

use axum::http::StatusCode;
use chrono::{DateTime, TimeZone, Utc};
use common::{config, get};
use solocrm_app::{Books, Location, OpenOptions};
use solocrm_core::{Currency, CustomerData, Label, NewCustomer, PersonName, Store};

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 15, 10, 0, 0)
        .single()
        .expect("instant")
}

/// The customers' names in a page, in order: the text of each row's `<bdi>`.
fn names(body: &str) -> Vec<String> {
    body.split("<bdi>")
        .skip(1)
        .filter_map(|s| s.split_once("</bdi>").map(|(name, _)| name.to_owned()))
        .filter(|n| n.starts_with('王') || n.starts_with("李娜"))
        .collect()
}

#[tokio::test]
async fn a_text_with_thousands_of_hits_pages_them_in_rank_order_with_the_count() {
    let dir = tempfile::tempdir().expect("a directory");
    let books = Books::create(
        &Location::Path(dir.path().join("search.db")),
        Currency::EUR,
        &OpenOptions::default(),
    )
    .expect("books");
    const MANY: usize = 2_000;
    books
        .write(|w| {
            let person = |name: &str, city: Option<&str>| {
                let mut data = CustomerData::new(PersonName::parse(name).expect("a name"));
                data.profile.city = city.map(|c| Label::parse(c).expect("a city"));
                NewCustomer::new(data, now() - chrono::Duration::days(30))
            };
            // Created in an order unlike the names', so ranking by id would show.
            for i in 0..MANY {
                w.create_customer(person(&format!("王{:04}", (i * 7) % MANY), None))?;
            }
            // Matched by the city alone, created before the exact name.
            for i in (0..30).rev() {
                w.create_customer(person(&format!("李娜{i:02}"), Some("王府井")))?;
            }
            for i in 0..50 {
                w.create_customer(person(&format!("张伟{i:02}"), Some("北京")))?;
            }
            w.create_customer(person("王", None))?;
            Ok(())
        })
        .expect("the book");
    let r = solocrm_web::app(books.clone(), config(now, false));

    let first = get(&r, "/customers?q=%E7%8E%8B").await;
    assert_eq!(first.status, StatusCode::OK);
    let total = MANY + 30 + 1;
    assert!(
        first.body.contains(&format!("{total} found")),
        "the count of every hit: {}",
        first.body
    );
    let mut want = vec!["王".to_owned()];
    want.extend((0..49).map(|i| format!("王{i:04}")));
    assert_eq!(names(&first.body), want, "the exact name, then by name");
    assert!(first.body.contains("page=2"), "a link to the next page");

    // The last page: the rest of the names, then the city hits by name.
    let last_page = total.div_ceil(50);
    let last = get(&r, &format!("/customers?q=%E7%8E%8B&page={last_page}")).await;
    assert_eq!(last.status, StatusCode::OK);
    let shown = names(&last.body);
    let mut want: Vec<String> = (MANY - 1..MANY).map(|i| format!("王{i:04}")).collect();
    want.extend((0..30).map(|i| format!("李娜{i:02}")));
    assert_eq!(shown, want, "the names, then the other fields' hits");
    assert!(!last.body.contains(&format!("page={}", last_page + 1)));

    // Two characters through the same path; a text that matches nobody.
    let two = get(&r, "/customers?q=%E7%8E%8B1").await;
    assert!(two.body.contains("1000 found"), "{}", two.body);
    assert_eq!(names(&two.body).first().map(String::as_str), Some("王1000"));
    let none = get(&r, "/customers?q=%E8%B5%B5").await;
    assert!(none.body.contains("0 found"), "{}", none.body);
}

/// The search index the workspace keeps between searches (ADR 0053) follows the
/// books: a customer written after a search (here as the CLI would, outside the
/// workspace) is found by the next one, an edit that takes the text away hides them,
/// and an erased customer is found by nothing, not even their former name.
#[tokio::test]
async fn the_kept_search_index_follows_writes_edits_and_erasure() {
    let dir = tempfile::tempdir().expect("a directory");
    let books = Books::create(
        &Location::Path(dir.path().join("kept.db")),
        Currency::EUR,
        &OpenOptions::default(),
    )
    .expect("books");
    let person = |name: &str| {
        NewCustomer::new(
            CustomerData::new(PersonName::parse(name).expect("a name")),
            now() - chrono::Duration::days(3),
        )
    };
    books
        .write(|w| {
            w.create_customer(person("王芳"))?;
            Ok(())
        })
        .expect("the book");
    let r = solocrm_web::app(books.clone(), config(now, false));
    let zhao = "/customers?q=%E8%B5%B5%E6%95%8F";
    assert!(get(&r, zhao).await.body.contains("0 found"));
    assert!(
        get(&r, "/customers?q=%E7%8E%8B")
            .await
            .body
            .contains("1 found")
    );

    let id = books
        .write(|w| Ok(w.create_customer(person("赵敏"))?.id()))
        .expect("a new customer");
    let found = get(&r, zhao).await;
    assert!(found.body.contains("1 found"), "{}", found.body);
    assert!(found.body.contains("赵敏"));

    let mut data = books.crm().customer(id).expect("赵敏").data().clone();
    data.name = PersonName::parse("赵小敏").expect("a name");
    books.crm().update_customer(id, data).expect("an edit");
    assert!(get(&r, zhao).await.body.contains("0 found"));
    let renamed = "/customers?q=%E5%B0%8F%E6%95%8F";
    assert!(get(&r, renamed).await.body.contains("1 found"));

    books.crm().erase_customer(id, now()).expect("erased");
    let gone = get(&r, renamed).await;
    assert!(gone.body.contains("0 found"), "{}", gone.body);
    assert!(!gone.body.contains("赵小敏"));
    let stage = get(&r, "/customers?q=%E7%8E%8B&stage=prospect").await;
    assert_eq!(stage.status, StatusCode::OK);
    assert!(stage.body.contains("王芳"), "{}", stage.body);
    // A page far past the end (the largest number) is an empty page, not a failure.
    let far = get(&r, &format!("/customers?q=%E7%8E%8B&page={}", usize::MAX)).await;
    assert_eq!(far.status, StatusCode::OK);
    assert!(far.body.contains("1 found"), "{}", far.body);
}
