//! The customer page's participation form: a participation (an event, a community
//! activity, a suggestion, a review) is recorded now and listed; a bad kind or a
//! second one of that kind at the same instant is a 422 beside the field and writes
//! nothing; a cross-site post is refused.

use axum::http::StatusCode;
use chrono::{DateTime, TimeZone as _, Utc};
use solocrm_app::{Books, Location, OpenOptions};
use solocrm_core::participation::ParticipationKind;
use solocrm_core::{BusinessZone, Currency, CustomerData, NewCustomer, PersonName, Store as _};
use solocrm_web::app;

mod common;

use common::{get, post, post_from};

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 14, 20, 0, 0)
        .single()
        .expect("instant")
}

#[tokio::test]
async fn a_participation_is_recorded_listed_and_bad_ones_are_refused_beside_the_field() {
    let books =
        Books::create(&Location::Memory, Currency::CNY, &OpenOptions::default()).expect("books");
    books
        .set_time_zone(BusinessZone::parse("Asia/Shanghai").expect("zone"))
        .expect("zone");
    let r = app(books.clone(), common::config(now, true));
    let id = books
        .create_customer(NewCustomer::new(
            CustomerData::new(PersonName::parse("周芳").expect("name")),
            now() - chrono::Duration::days(3),
        ))
        .expect("customer")
        .id();
    let path = format!("/customers/{id}/participations");

    // The Chinese name of a kind is read too; the note is kept as typed.
    let ok = post(&r, &path, &[("kind", "活动"), ("note", "<b>品茶会</b>")]).await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
    assert_eq!(ok.location(), format!("/customers/{id}"));
    let stored = books.participations(Some(id)).expect("participations");
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].kind, ParticipationKind::Event);
    assert_eq!(stored[0].at, now());
    assert_eq!(
        stored[0].note.as_ref().map(ToString::to_string).as_deref(),
        Some("<b>品茶会</b>")
    );
    let page = get(&r, &format!("/customers/{id}?lang=zh-CN")).await;
    assert!(page.body.contains("data-kind=\"event\""), "{}", page.body);
    assert!(page.body.contains("&lt;b&gt;品茶会&lt;/b&gt;"), "escaped");
    assert!(page.body.contains("id=\"form-participation\""));

    // An unknown kind, and a second event at the same instant: 422 beside the kind.
    for kind in ["party", "event"] {
        let bad = post(&r, &path, &[("kind", kind)]).await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{kind}");
        assert!(
            bad.body.contains("id=\"participation-kind-error\""),
            "{kind}: {}",
            bad.body
        );
    }
    let forged = post_from(&r, &path, &[("kind", "review")], "cross-site").await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert_eq!(books.participations(Some(id)).expect("read").len(), 1);

    // After an erasure the form is gone; a post from a stale page is refused with
    // its message shown, and writes nothing.
    books.erase_customer(id, now()).expect("erased");
    let stale = post(&r, &path, &[("kind", "review"), ("note", "晚到的评价")]).await;
    assert_eq!(stale.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(!stale.body.contains("id=\"form-participation\""));
    assert!(
        stale
            .body
            .contains(&format!("customer {id} has been erased")),
        "{}",
        stale.body
    );
    assert_eq!(books.participations(Some(id)).expect("read").len(), 1);

    // An unknown customer is a 404.
    let missing = post(&r, "/customers/999/participations", &[("kind", "review")]).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}
