//! The customer page's recommendations come from a bought-together index the workspace
//! keeps between loads (rebuilt only after a write): a new purchase, made by the
//! library as the CLI makes it, and an archived product show on the next load, and
//! the page always equals `solocrm recommend` for the books as they stand.

use axum::http::StatusCode;
use chrono::{DateTime, TimeZone as _, Utc};
use solocrm_app::catalogue::recommend;
use solocrm_app::{Books, Location, OpenOptions};
use solocrm_core::product::{Product, ProductEdit, PurchaseLine, Sku};
use solocrm_core::{
    BusinessZone, Currency, CustomerData, CustomerId, Label, Money, NewCustomer, NewPurchase,
    PersonName, Store as _,
};
use solocrm_web::app;

mod common;

use common::get;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 15, 2, 0, 0)
        .single()
        .expect("instant")
}

fn cny(s: &str) -> Money {
    Money::parse(s, Currency::CNY).expect("money")
}

fn buy(books: &Books, who: CustomerId, skus: &[&str]) {
    let lines: Vec<PurchaseLine> = skus
        .iter()
        .map(|s| PurchaseLine::new(Sku::parse(s).expect("sku"), 1, cny("10")))
        .collect();
    books
        .record_purchase_with_lines(
            NewPurchase::new(
                who,
                now() - chrono::Duration::days(3),
                cny(&(10 * skus.len()).to_string()),
            ),
            lines,
        )
        .expect("purchase");
}

/// The SKUs in the page's recommendation table, in order.
fn recommended(body: &str) -> Vec<String> {
    let Some(table) = body.split("id=\"recommended\"").nth(1) else {
        return Vec::new();
    };
    let table = table.split("</table>").next().unwrap_or_default();
    table
        .split("<tr><td><a href=\"/products/")
        .skip(1)
        .filter_map(|r| r.split("<bdi>").nth(1))
        .filter_map(|r| r.split("</bdi>").next())
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn a_new_purchase_or_an_archived_product_changes_the_recommendations_on_the_next_load() {
    let books =
        Books::create(&Location::Memory, Currency::CNY, &OpenOptions::default()).expect("books");
    books
        .set_time_zone(BusinessZone::parse("Asia/Shanghai").expect("zone"))
        .expect("zone set");
    for (sku, name) in [("TEA", "龙井茶"), ("CUP", "茶杯"), ("POT", "紫砂壶")] {
        books
            .add_product(Product::new(
                Sku::parse(sku).expect("sku"),
                Label::parse(name).expect("name"),
                cny("10"),
            ))
            .expect("product");
    }
    let customer = |name: &str| {
        books
            .create_customer(NewCustomer::new(
                CustomerData::new(PersonName::parse(name).expect("name")),
                now() - chrono::Duration::days(30),
            ))
            .expect("customer")
            .id()
    };
    let li = customer("李雷");
    let han = customer("韩梅梅");
    buy(&books, li, &["TEA", "CUP"]);
    buy(&books, han, &["TEA"]);
    let router = app(books.clone(), common::config(now, false));
    let path = format!("/customers/{han}");
    let expected = |books: &Books| -> Vec<String> {
        recommend(books.crm(), han, 5)
            .expect("recommend")
            .into_iter()
            .map(|r| r.sku)
            .collect()
    };

    let first = get(&router, &path).await;
    assert_eq!(first.status, StatusCode::OK);
    assert_eq!(recommended(&first.body), ["CUP"], "{}", first.body);
    // Another load with no write in between: the kept index, the same list.
    let again = get(&router, &path).await;
    assert_eq!(recommended(&again.body), recommended(&first.body));

    // 李雷 also buys the pot (written by the library, as the CLI writes it): the next
    // load recommends it too.
    buy(&books, li, &["TEA", "POT"]);
    let after = get(&router, &path).await;
    assert_eq!(recommended(&after.body), expected(&books));
    assert!(
        recommended(&after.body).contains(&"POT".to_owned()),
        "{}",
        after.body
    );
    assert!(after.body.contains("紫砂壶"));

    // Archiving the cup (a catalogue write) drops it on the next load.
    books
        .edit_product(
            &Sku::parse("CUP").expect("sku"),
            &ProductEdit {
                archived: Some(true),
                ..ProductEdit::default()
            },
        )
        .expect("archived");
    let archived = get(&router, &path).await;
    assert_eq!(recommended(&archived.body), ["POT"], "{}", archived.body);
    assert_eq!(recommended(&archived.body), expected(&books));
}
