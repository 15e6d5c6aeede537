//! Purchase lines and survey templates entered from the web (ADR 0039): a purchase
//! with lines (amount derived, or checked against their sum), a templated survey
//! sheet on the customer page, and templates added, edited and removed from
//! `/surveys` — each success a 303 with the data in the books, each refusal a 422
//! beside its field with nothing written and what was typed kept, hostile names
//! escaped, Chinese names throughout.

use axum::http::StatusCode;
use chrono::{DateTime, TimeZone as _, Utc};
use solocrm_app::{Books, Location, OpenOptions};
use solocrm_core::product::{Product, Sku};
use solocrm_core::questionnaire::{
    Answer, AnswerValue, CollectionMethod, SurveySheet, SurveyTemplate,
};
use solocrm_core::{
    ActivityQuery, BusinessZone, Currency, CustomerData, CustomerId, Label, Money, NewCustomer,
    PersonName, Store as _, Tag,
};
use solocrm_web::app;

mod common;

use common::{get, post};

/// 02:00 UTC is 10:00 in Shanghai, the books' business time zone.
fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 15, 2, 0, 0)
        .single()
        .expect("instant")
}

const HOSTILE: &str = "<script>alert(1)</script>";

fn books() -> Books {
    let b =
        Books::create(&Location::Memory, Currency::CNY, &OpenOptions::default()).expect("books");
    b.set_time_zone(BusinessZone::parse("Asia/Shanghai").expect("zone"))
        .expect("zone set");
    b
}

fn router(books: &Books) -> axum::Router {
    app(books.clone(), common::config(now, false))
}

fn cny(s: &str) -> Money {
    Money::parse(s, Currency::CNY).expect("money")
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

fn product(books: &Books, sku: &str, name: &str, price: &str) {
    books
        .add_product(Product::new(
            Sku::parse(sku).expect("sku"),
            Label::parse(name).expect("name"),
            cny(price),
        ))
        .expect("product");
}

fn purchases(books: &Books, who: CustomerId) -> Vec<solocrm_core::Purchase> {
    books
        .purchases(&ActivityQuery {
            customer: Some(who),
            ..ActivityQuery::ALL
        })
        .expect("purchases")
}

/// The tea shop: 龙井 at 30.00, a cup at 12.50, and 王小明.
fn shop() -> (Books, CustomerId) {
    let b = books();
    product(&b, "TEA-LJ", "西湖龙井", "30.00");
    product(&b, "CUP-01", "白瓷杯", "12.50");
    let c = customer(&b, "王小明");
    (b, c)
}

#[tokio::test]
async fn a_purchase_with_lines_derives_its_amount_and_shows_its_lines() {
    let (books, who) = shop();
    let router = router(&books);
    let path = format!("/customers/{who}/purchases");
    let done = post(
        &router,
        &path,
        &[
            ("amount", ""),
            ("lines", "TEA-LJ:2\r\n\r\nCUP-01:1:12.50:2.50\r\n"),
            ("description", "春茶礼盒"),
        ],
    )
    .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(done.location(), format!("/customers/{who}"));
    let bought = purchases(&books, who);
    assert_eq!(bought.len(), 1);
    // 2 × 30.00 + (12.50 − 2.50) = 70.00
    assert_eq!(bought[0].amount(), cny("70.00"));
    let lines = books.purchase_lines(bought[0].id()).expect("lines");
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0].sku.as_str(), "TEA-LJ");
    assert_eq!(lines[0].quantity, 2);
    assert_eq!(lines[0].unit_price, cny("30.00"));
    assert_eq!(lines[1].discount, Some(cny("2.50")));

    // An amount that is exactly the sum is taken too.
    let done = post(
        &router,
        &path,
        &[("amount", "30.00"), ("lines", "TEA-LJ:1")],
    )
    .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(purchases(&books, who).len(), 2);

    let page = get(&router, &format!("/customers/{who}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("id=\"purchase-lines\""), "{}", page.body);
    assert!(page.body.contains("CUP-01"));
    assert!(page.body.contains("70.00"));
    assert!(page.body.contains("id=\"purchase-lines\""));
    // The form has the lines' text box.
    assert!(page.body.contains("name=\"lines\""));

    // A plain purchase still needs its amount and records no lines.
    let plain = post(&router, &path, &[("amount", "88.00"), ("lines", "  \n")]).await;
    assert_eq!(plain.status, StatusCode::SEE_OTHER, "{}", plain.body);
    let last = purchases(&books, who).into_iter().last().expect("one");
    assert!(books.purchase_lines(last.id()).expect("lines").is_empty());
}

#[tokio::test]
async fn every_bad_line_is_a_422_naming_its_row_with_what_was_typed_kept() {
    let (books, who) = shop();
    let router = router(&books);
    let path = format!("/customers/{who}/purchases");
    let cases: [(&str, &str, &str, &str); 7] = [
        // (amount, lines, field at fault, a word of the message)
        ("", "TEA-LJ:1\nCUP-01", "lines", "Line 2"),
        ("", "TEA-LJ:0", "lines", "quantity 0"),
        ("", "TEA-LJ:1\n\nTEA-LJ:1:abc", "lines", "Line 3"),
        ("", "NOPE-1:1", "lines", "NOPE-1"),
        ("", "TEA-LJ:1:30.00:40.00", "lines", "Line 1"),
        ("", "TEA-LJ:1:30.001", "lines", "Line 1"),
        ("59.99", "TEA-LJ:2", "amount", "59.99"),
    ];
    for (amount, lines, field, word) in cases {
        let answer = post(
            &router,
            &path,
            &[
                ("amount", amount),
                ("lines", lines),
                ("description", "礼盒"),
            ],
        )
        .await;
        assert_eq!(
            answer.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{lines}: {}",
            answer.body
        );
        let error = format!("id=\"purchase-{field}-error\"");
        assert!(answer.body.contains(&error), "{lines}: no {error}");
        assert!(answer.body.contains(word), "{lines}: no {word}");
        // What was typed is shown again.
        let kept = lines.split('\n').next().expect("a row");
        assert!(answer.body.contains(kept), "{lines}: not kept");
        assert!(
            answer.body.contains("value=\"礼盒\""),
            "{lines}: description lost"
        );
    }
    // A coupon with lines is refused beside the coupon.
    let answer = post(
        &router,
        &path,
        &[("lines", "TEA-LJ:1"), ("coupon", "SPRING10")],
    )
    .await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(answer.body.contains("id=\"purchase-coupon-error\""));
    // No lines and no amount: the amount is required.
    let answer = post(&router, &path, &[("amount", ""), ("lines", "")]).await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(answer.body.contains("id=\"purchase-amount-error\""));
    // Chinese messages.
    let zh = post(
        &router,
        &format!("{path}?lang=zh-CN"),
        &[("lines", "TEA-LJ:x")],
    )
    .await;
    assert_eq!(zh.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(zh.body.contains("第 1 行"), "{}", zh.body);
    // Nothing was written.
    assert!(purchases(&books, who).is_empty());
}

#[tokio::test]
async fn a_hostile_product_name_and_sku_text_are_escaped() {
    let books = books();
    product(&books, "EVIL-1", HOSTILE, "1.00");
    let who = customer(&books, "李四");
    let router = router(&books);
    let path = format!("/customers/{who}/purchases");
    let done = post(&router, &path, &[("lines", "EVIL-1:1")]).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER);
    let refused = post(&router, &path, &[("lines", HOSTILE)]).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(!refused.body.contains(HOSTILE));
    assert!(refused.body.contains("&lt;script&gt;"));
    let page = get(&router, &format!("/customers/{who}")).await;
    assert!(!page.body.contains(HOSTILE));
}

/// 售后回访: an NPS question, a 1–5 service question and a comment.
fn visit_template(books: &Books) -> Tag {
    let name = Tag::parse("售后回访").expect("tag");
    let questions = [
        "您向朋友推荐我们的可能性有多大？|总体|0-10|nps",
        "服务态度如何？|服务质量|1-5",
        "还有什么建议？|售后支持|text",
    ]
    .iter()
    .map(|f| solocrm_app::questionnaire::question_from_flag(f).expect("question"))
    .collect();
    books
        .add_survey_template(SurveyTemplate::new(name.clone(), questions).expect("template"))
        .expect("added");
    name
}

#[tokio::test]
async fn a_survey_sheet_is_answered_from_the_customer_page() {
    let books = books();
    let who = customer(&books, "张三");
    let name = visit_template(&books);
    let router = router(&books);
    let page = get(&router, &format!("/customers/{who}")).await;
    assert!(page.body.contains("id=\"form-sheet-choose\""));
    assert!(page.body.contains("售后回访"));

    let sheet_path =
        format!("/customers/{who}/sheet?template=%E5%94%AE%E5%90%8E%E5%9B%9E%E8%AE%BF");
    let form = get(&router, &sheet_path).await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    assert!(form.body.contains("name=\"q1\""));
    assert!(form.body.contains("max=\"10\""));
    assert!(form.body.contains("服务质量"));
    assert!(form.body.contains("<textarea id=\"sheet-q3\""));

    let path = format!("/customers/{who}/sheet");
    let done = post(
        &router,
        &path,
        &[
            ("template", "售后回访"),
            ("method", "phone"),
            ("q1", "9"),
            ("q2", "4"),
            ("q3", "包装很好，希望送货更快"),
        ],
    )
    .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(done.location(), format!("/customers/{who}"));
    let sheets = books.survey_sheets(Some(who)).expect("sheets");
    assert_eq!(sheets.len(), 1);
    assert_eq!(sheets[0].template, name);
    assert_eq!(sheets[0].method, CollectionMethod::Phone);
    assert_eq!(sheets[0].at, now());
    assert_eq!(
        sheets[0].answers,
        vec![
            Answer {
                question: 1,
                value: AnswerValue::Score(9)
            },
            Answer {
                question: 2,
                value: AnswerValue::Score(4)
            },
            Answer {
                question: 3,
                value: AnswerValue::Text(
                    solocrm_core::FreeText::parse("包装很好，希望送货更快").expect("text")
                ),
            },
        ]
    );
}

#[tokio::test]
async fn a_bad_sheet_is_a_422_beside_the_question_and_writes_nothing() {
    let books = books();
    let who = customer(&books, "张三");
    visit_template(&books);
    let router = router(&books);
    let path = format!("/customers/{who}/sheet");
    let cases: [(&[(&str, &str)], &str); 5] = [
        (&[("q1", "11"), ("q2", "3")], "sheet-q1-error"),
        (&[("q1", "8"), ("q2", "0")], "sheet-q2-error"),
        (&[("q2", "很好")], "sheet-q2-error"),
        (&[("q1", ""), ("q2", ""), ("q3", "")], "sheet-q1-error"),
        (&[("method", "信鸽"), ("q1", "8")], "sheet-method-error"),
    ];
    for (fields, error) in cases {
        let mut all: Vec<(&str, &str)> = vec![("template", "售后回访")];
        if !fields.iter().any(|(k, _)| *k == "method") {
            all.push(("method", "在线"));
        }
        all.extend_from_slice(fields);
        let answer = post(&router, &path, &all).await;
        assert_eq!(
            answer.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{fields:?}: {}",
            answer.body
        );
        assert!(answer.body.contains(error), "{fields:?}: no {error}");
        // The typed values are kept.
        for (k, v) in fields
            .iter()
            .filter(|(k, v)| k.starts_with('q') && !v.is_empty())
        {
            assert!(
                answer.body.contains(&format!("value=\"{v}\"")),
                "{k}={v} not kept"
            );
        }
    }
    // An unknown template is a 404.
    let answer = post(&router, &path, &[("template", "没有"), ("q1", "1")]).await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
    let answer = get(&router, &format!("{path}?template=nope")).await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
    assert!(books.survey_sheets(Some(who)).expect("sheets").is_empty());
}

#[tokio::test]
async fn templates_are_added_edited_and_removed_from_the_surveys_page() {
    let books = books();
    let router = router(&books);
    let page = get(&router, "/surveys").await;
    assert!(page.body.contains("id=\"form-template-add\""));
    assert!(page.body.contains("id=\"answering\""));

    let done = post(
        &router,
        "/surveys/templates",
        &[
            ("name", "满意度调查"),
            (
                "questions",
                "产品质量如何？|产品满意度|1-5\n\n响应速度如何？|响应速度|1-5|csat\n意见|服务态度|text",
            ),
        ],
    )
    .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let name = Tag::parse("满意度调查").expect("tag");
    let t = books.read(|r| r.survey_template(&name)).expect("stored");
    assert_eq!(t.questions().len(), 3);
    assert_eq!(t.questions()[1].dimension.as_str(), "响应速度");

    let href = "/surveys/templates/%E6%BB%A1%E6%84%8F%E5%BA%A6%E8%B0%83%E6%9F%A5";
    let list = get(&router, "/surveys").await;
    assert!(list.body.contains(href), "{}", list.body);
    let shown = get(&router, href).await;
    assert_eq!(shown.status, StatusCode::OK, "{}", shown.body);
    assert!(shown.body.contains("产品质量如何？|产品满意度|1-5"));
    assert!(shown.body.contains("id=\"form-template-remove\""));

    // Unanswered: the questions can change.
    let edited = post(
        &router,
        &format!("{href}/edit"),
        &[
            ("name", "满意度调查"),
            ("questions", "产品质量如何？|产品满意度|1-10"),
        ],
    )
    .await;
    assert_eq!(edited.status, StatusCode::SEE_OTHER, "{}", edited.body);
    let t = books.read(|r| r.survey_template(&name)).expect("stored");
    assert_eq!(t.questions().len(), 1);

    // Answered: a rename passes, new questions and removal are refused.
    let who = customer(&books, "赵六");
    books
        .record_survey_sheet(SurveySheet {
            void: None,
            template: name.clone(),
            customer: who,
            at: now(),
            method: CollectionMethod::Online,
            answers: vec![Answer {
                question: 1,
                value: AnswerValue::Score(7),
            }],
        })
        .expect("sheet");
    let refused = post(
        &router,
        &format!("{href}/edit"),
        &[
            ("name", "满意度调查"),
            ("questions", "别的问题|产品满意度|1-5"),
        ],
    )
    .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused
            .body
            .contains("id=\"template-edit-questions-error\"")
    );
    assert!(refused.body.contains("别的问题"), "typed questions lost");
    let removed = post(&router, &format!("{href}/remove"), &[]).await;
    assert_eq!(removed.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(books.read(|r| r.survey_template(&name)).is_ok());
    let renamed = post(&router, &format!("{href}/edit"), &[("name", "年度满意度")]).await;
    assert_eq!(renamed.status, StatusCode::SEE_OTHER, "{}", renamed.body);
    let new_name = Tag::parse("年度满意度").expect("tag");
    assert_eq!(
        books
            .read(|r| r.survey_template(&new_name))
            .expect("renamed")
            .questions()
            .len(),
        1
    );

    // An unanswered one is removed.
    visit_template(&books);
    let gone = post(
        &router,
        "/surveys/templates/%E5%94%AE%E5%90%8E%E5%9B%9E%E8%AE%BF/remove",
        &[],
    )
    .await;
    assert_eq!(gone.status, StatusCode::SEE_OTHER, "{}", gone.body);
    assert_eq!(books.survey_templates().expect("templates").len(), 1);
    assert_eq!(
        get(&router, "/surveys/templates/nope").await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn bad_template_forms_are_422s_beside_their_field_and_hostile_names_escaped() {
    let books = books();
    visit_template(&books);
    let router = router(&books);
    let cases: [(&str, &str, &str, &str); 5] = [
        ("", "题|维度|1-5", "template-add-name-error", ""),
        ("问卷", "", "template-add-questions-error", ""),
        (
            "问卷",
            "好|维度|1-5\n只有两段|维度",
            "template-add-questions-error",
            "Row 2",
        ),
        (
            "问卷",
            "好|维度|很多",
            "template-add-questions-error",
            "Row 1",
        ),
        (
            "售后回访",
            "好|维度|1-5",
            "template-add-name-error",
            "售后回访",
        ),
    ];
    for (name, questions, error, word) in cases {
        let answer = post(
            &router,
            "/surveys/templates",
            &[("name", name), ("questions", questions)],
        )
        .await;
        assert_eq!(
            answer.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{name} {questions}: {}",
            answer.body
        );
        assert!(
            answer.body.contains(error),
            "{name} {questions}: no {error}"
        );
        assert!(answer.body.contains(word), "{name} {questions}: no {word}");
        if let Some(first) = questions.lines().next().filter(|q| !q.is_empty()) {
            assert!(answer.body.contains(first), "typed questions lost");
        }
    }
    assert_eq!(books.survey_templates().expect("templates").len(), 1);

    // A hostile question and dimension are stored as text and shown escaped.
    let hostile = format!("{HOSTILE}|{HOSTILE}|1-5");
    let done = post(
        &router,
        "/surveys/templates",
        &[("name", "evil"), ("questions", &hostile)],
    )
    .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    for path in ["/surveys", "/surveys/templates/evil"] {
        let page = get(&router, path).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(!page.body.contains(HOSTILE), "{path}");
        assert!(page.body.contains("&lt;script&gt;"), "{path}");
    }
    let who = customer(&books, "钱七");
    let sheet = get(&router, &format!("/customers/{who}/sheet?template=evil")).await;
    assert_eq!(sheet.status, StatusCode::OK);
    assert!(!sheet.body.contains(HOSTILE));
    // A hostile template name is refused as a name, and escaped in the message.
    let answer = post(
        &router,
        "/surveys/templates",
        &[("name", HOSTILE), ("questions", "好|维度|1-5")],
    )
    .await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(!answer.body.contains(HOSTILE));
}
