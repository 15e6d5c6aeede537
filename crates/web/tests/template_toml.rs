//! A survey template from TOML on the web (issue 18), as `survey template add NAME
//! --from FILE.toml` and `edit --from` read it: the same parser
//! (`solocrm_app::questionnaire::template_from_toml`), a TOML error a 422 naming its
//! line and column beside the field, nothing written.

use axum::http::StatusCode;
use chrono::{DateTime, TimeZone as _, Utc};
use solocrm_app::{Books, Location, OpenOptions};
use solocrm_core::questionnaire::{Answer, AnswerValue, CollectionMethod, SurveySheet};
use solocrm_core::{
    BusinessZone, Currency, CustomerData, NewCustomer, PersonName, Store as _, SurveyKind, Tag,
};
use solocrm_web::app;

mod common;

use common::{get, post, post_from};

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

const TOML: &str = "[[question]]\ntext = \"您向朋友推荐我们的可能性有多大？\"\ndimension = \"总体\"\nanswer = \"0-10\"\nrole = \"nps\"\n\n[[question]]\ntext = \"月饼的口味如何？\"\ndimension = \"产品满意度\"\nanswer = \"1-5\"\n";

/// 中秋回访, percent-encoded.
const HREF: &str = "/surveys/templates/%E4%B8%AD%E7%A7%8B%E5%9B%9E%E8%AE%BF";

#[tokio::test]
async fn a_template_is_added_and_edited_from_toml() {
    let books = books();
    let router = app(books.clone(), common::config(now, false));
    let page = get(&router, "/surveys").await;
    assert!(page.body.contains("id=\"template-add-toml\""));

    let added = post(
        &router,
        "/surveys/templates",
        &[("name", "中秋回访"), ("questions", ""), ("toml", TOML)],
    )
    .await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.body);
    let t = &books.survey_templates().expect("templates")[0];
    assert_eq!(t.name().as_str(), "中秋回访");
    assert_eq!(t.questions().len(), 2);
    assert_eq!(t.questions()[0].role(), Some(SurveyKind::Nps));
    assert_eq!(t.questions()[1].dimension.as_str(), "产品满意度");

    // Edit --from: the TOML replaces the prefilled rows.
    let page = get(&router, HREF).await;
    assert!(page.body.contains("id=\"template-edit-toml\""));
    let one =
        "[[question]]\ntext = \"服务态度如何？\"\ndimension = \"服务质量\"\nanswer = \"1-5\"\n";
    let edited = post(
        &router,
        &format!("{HREF}/edit"),
        &[
            ("name", "中秋回访"),
            ("questions", "旧题|总体|0-10|nps"),
            ("toml", one),
        ],
    )
    .await;
    assert_eq!(edited.status, StatusCode::SEE_OTHER, "{}", edited.body);
    let t = &books.survey_templates().expect("templates")[0];
    assert_eq!(t.questions().len(), 1);
    assert_eq!(t.questions()[0].text.as_str(), "服务态度如何？");

    // Once answered, new questions from TOML are refused beside the TOML.
    let who = books
        .create_customer(NewCustomer::new(
            CustomerData::new(PersonName::parse("王芳").expect("name")),
            now() - chrono::Duration::days(3),
        ))
        .expect("customer")
        .id();
    books
        .record_survey_sheet(SurveySheet {
            void: None,
            template: Tag::parse("中秋回访").expect("tag"),
            customer: who,
            at: now() - chrono::Duration::days(1),
            method: CollectionMethod::Phone,
            answers: vec![Answer {
                question: 1,
                value: AnswerValue::Score(4),
            }],
        })
        .expect("sheet");
    let refused = post(
        &router,
        &format!("{HREF}/edit"),
        &[("name", "中秋回访"), ("toml", TOML)],
    )
    .await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.body
    );
    assert!(
        refused.body.contains("id=\"template-edit-toml-error\""),
        "{}",
        refused.body
    );
    assert_eq!(books.survey_templates().expect("t")[0].questions().len(), 1);

    let forged = post_from(
        &router,
        "/surveys/templates",
        &[("name", "别的"), ("toml", TOML)],
        "cross-site",
    )
    .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert_eq!(books.survey_templates().expect("t").len(), 1);
}

#[tokio::test]
async fn bad_toml_is_a_422_beside_the_field_naming_where() {
    let books = books();
    let router = app(books.clone(), common::config(now, false));
    let cases: [(&str, &str, &str); 5] = [
        // An unterminated string on line 3.
        (
            "[[question]]\ntext = \"推荐\"\ndimension = \"<script>alert(1)</script>\nanswer = \"0-10\"\n",
            "toml",
            "line 3",
        ),
        (
            "[[question]]\ntext = \"推荐\"\ndimension = \"总体\"\nanswer = \"很多\"\n",
            "toml",
            "question 1: answer:",
        ),
        (
            "[[question]]\ntext = \"<script>alert(1)</script>\"\ndimension = \"总体\"\nanswer = \"1-5\"\ncolour = \"red\"\n",
            "toml",
            "colour",
        ),
        (
            "[[question]]\ntext = \"推荐\"\ndimension = \"总体\"\nanswer = \"1-5\"\nrole = \"nps\"\n",
            "toml",
            "nps",
        ),
        ("title = \"空\"\n", "toml", "question"),
    ];
    for (toml, field, says) in cases {
        let refused = post(
            &router,
            "/surveys/templates",
            &[("name", "中秋回访"), ("toml", toml)],
        )
        .await;
        assert_eq!(
            refused.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{toml}: {}",
            refused.body
        );
        assert!(
            refused
                .body
                .contains(&format!("id=\"template-add-{field}-error\"")),
            "{toml}: {}",
            refused.body
        );
        assert!(refused.body.contains(says), "{toml}: {}", refused.body);
        assert!(!refused.body.contains("<script>alert"), "{toml}");
    }
    // The parser's snippet of the hostile line is shown, escaped.
    let refused = post(
        &router,
        "/surveys/templates",
        &[("name", "中秋回访"), ("toml", cases[0].0)],
    )
    .await;
    assert!(refused.body.contains("&lt;script&gt;"), "{}", refused.body);
    let both = post(
        &router,
        "/surveys/templates",
        &[
            ("name", "中秋回访"),
            ("questions", "推荐|总体|0-10|nps"),
            ("toml", TOML),
        ],
    )
    .await;
    assert_eq!(both.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(both.body.contains("id=\"template-add-toml-error\""));
    assert!(both.body.contains("not both"));
    assert!(books.survey_templates().expect("t").is_empty());
}
