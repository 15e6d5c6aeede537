//! Survey templates archived and brought back from the web (ADR 0045): the button on
//! the template's page posts and redirects, the customer page's chooser leaves an
//! archived template out, and a sheet of it is a 422 with nothing written.

use axum::http::StatusCode;
use chrono::{DateTime, TimeZone as _, Utc};
use solocrm_app::{Books, Location, OpenOptions};
use solocrm_core::questionnaire::SurveyTemplate;
use solocrm_core::{
    BusinessZone, Currency, CustomerData, CustomerId, NewCustomer, PersonName, Store as _, Tag,
};
use solocrm_web::app;

mod common;

use common::{get, post};

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

fn customer(books: &Books, name: &str) -> CustomerId {
    books
        .create_customer(NewCustomer::new(
            CustomerData::new(PersonName::parse(name).expect("name")),
            now() - chrono::Duration::days(60),
        ))
        .expect("customer")
        .id()
}

/// 旧版回访: one 1–5 service question.
fn old_template(books: &Books) -> Tag {
    let name = Tag::parse("旧版回访").expect("tag");
    let q = solocrm_app::questionnaire::question_from_flag("服务态度如何？|服务质量|1-5")
        .expect("question");
    books
        .add_survey_template(SurveyTemplate::new(name.clone(), vec![q]).expect("template"))
        .expect("added");
    name
}

const HREF: &str = "/surveys/templates/%E6%97%A7%E7%89%88%E5%9B%9E%E8%AE%BF";

#[tokio::test]
async fn a_template_is_archived_and_unarchived_from_its_page() {
    let books = books();
    let who = customer(&books, "王芳");
    let name = old_template(&books);
    let router = app(books.clone(), common::config(now, false));

    let page = get(&router, HREF).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("id=\"form-template-archive\""));
    assert!(page.body.contains("value=\"true\""));
    let customer_page = get(&router, &format!("/customers/{who}")).await;
    assert!(customer_page.body.contains("id=\"form-sheet-choose\""));

    let done = post(&router, &format!("{HREF}/archive"), &[("archived", "true")]).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(done.location(), HREF);
    assert!(books.survey_templates().expect("listed")[0].is_archived());
    let page = get(&router, HREF).await;
    assert!(page.body.contains("id=\"archived\""));
    assert!(page.body.contains("value=\"false\""));

    // The chooser leaves it out (it was the only template: no chooser at all).
    let customer_page = get(&router, &format!("/customers/{who}")).await;
    assert!(!customer_page.body.contains("id=\"form-sheet-choose\""));
    // A sheet posted anyway is a 422 with the reason, nothing written.
    let refused = post(
        &router,
        &format!("/customers/{who}/sheet"),
        &[("template", "旧版回访"), ("method", "phone"), ("q1", "4")],
    )
    .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("旧版回访"));
    assert!(books.survey_sheets(None).expect("sheets").is_empty());

    // A bad value is a 422 on the page; unknown templates are 404s.
    let bad = post(
        &router,
        &format!("{HREF}/archive"),
        &[("archived", "maybe")],
    )
    .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    let unknown = post(
        &router,
        "/surveys/templates/nope/archive",
        &[("archived", "true")],
    )
    .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);

    let back = post(
        &router,
        &format!("{HREF}/archive"),
        &[("archived", "false")],
    )
    .await;
    assert_eq!(back.status, StatusCode::SEE_OTHER, "{}", back.body);
    assert!(!books.survey_templates().expect("listed")[0].is_archived());
    let answered = post(
        &router,
        &format!("/customers/{who}/sheet"),
        &[("template", "旧版回访"), ("method", "phone"), ("q1", "4")],
    )
    .await;
    assert_eq!(answered.status, StatusCode::SEE_OTHER, "{}", answered.body);
    assert_eq!(books.survey_sheets(None).expect("sheets")[0].template, name);
}
