//! Survey answers on the web (issue 18): a template's sheet dated as `survey answer
//! --at` dates it (in the books' zone; a bad or future time a 422 beside the field,
//! nothing written), and a plain answer voided from the customer page as `survey void
//! --reason` voids it — kept with its mark, shown voided on the timeline, counted in
//! no NPS.

use axum::http::StatusCode;
use chrono::{DateTime, TimeZone as _, Utc};
use solocrm_app::{Books, Location, OpenOptions};
use solocrm_core::questionnaire::SurveyTemplate;
use solocrm_core::{
    ActivityQuery, BusinessZone, Currency, CustomerData, CustomerId, FreeText, NewCustomer,
    NewSurveyResponse, PersonName, Store as _, SurveyId, SurveyKind, SurveyScore, Tag,
};
use solocrm_web::app;

mod common;

use common::{get, post, post_from};

/// 2026-06-15 10:00 in Shanghai.
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

/// 中秋回访: one 1–5 service question.
fn template(books: &Books) {
    let name = Tag::parse("中秋回访").expect("tag");
    let q = solocrm_app::questionnaire::question_from_flag("服务态度如何？|服务质量|1-5")
        .expect("question");
    books
        .add_survey_template(SurveyTemplate::new(name, vec![q]).expect("template"))
        .expect("added");
}

fn nps(books: &Books, who: CustomerId, score: i64, comment: &str) -> SurveyId {
    books
        .write(|w| {
            w.record_survey(NewSurveyResponse {
                customer: who,
                at: now() - chrono::Duration::days(3),
                score: SurveyScore::new(SurveyKind::Nps, score).expect("score"),
                comment: Some(FreeText::parse(comment).expect("comment")),
            })
        })
        .expect("survey")
        .id()
}

#[tokio::test]
async fn a_sheet_takes_its_time_in_the_books_zone() {
    let books = books();
    let who = customer(&books, "王芳");
    template(&books);
    let router = app(books.clone(), common::config(now, false));
    let form = get(
        &router,
        &format!("/customers/{who}/sheet?template=%E4%B8%AD%E7%A7%8B%E5%9B%9E%E8%AE%BF"),
    )
    .await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    assert!(form.body.contains("id=\"sheet-at\""));

    let path = format!("/customers/{who}/sheet");
    let base = [("template", "中秋回访"), ("method", "phone"), ("q1", "4")];
    for (at, says) in [
        ("2026-06-20", "is in the future"),
        ("2026-06-17 09:00", "is in the future"),
        ("last tuesday", "last tuesday"),
        ("2026-13-01", "2026-13-01"),
    ] {
        let mut fields = base.to_vec();
        fields.push(("at", at));
        let refused = post(&router, &path, &fields).await;
        assert_eq!(
            refused.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{at}: {}",
            refused.body
        );
        assert!(refused.body.contains("id=\"sheet-at-error\""), "{at}");
        assert!(refused.body.contains(says), "{at}: {}", refused.body);
        // What was typed is kept.
        assert!(refused.body.contains(&format!("value=\"{at}\"")), "{at}");
    }
    assert!(books.survey_sheets(None).expect("sheets").is_empty());

    // A local time in Shanghai: 14:30 on June 10 is 06:30 UTC.
    let mut fields = base.to_vec();
    fields.push(("at", "2026-06-10 14:30"));
    let done = post(&router, &path, &fields).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let at = Utc.with_ymd_and_hms(2026, 6, 10, 6, 30, 0).single();
    assert_eq!(Some(books.survey_sheets(None).expect("sheets")[0].at), at);
    // Within the day's slack, as --at allows; blank is now.
    let mut fields = base.to_vec();
    fields.push(("at", "2026-06-16"));
    let done = post(&router, &path, &fields).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let mut fields = base.to_vec();
    fields.push(("at", " "));
    let done = post(&router, &path, &fields).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let sheets = books.survey_sheets(None).expect("sheets");
    assert_eq!(sheets.len(), 3);
    assert!(sheets.iter().any(|s| s.at == now()));
}

#[tokio::test]
async fn an_answer_is_voided_from_the_customer_page() {
    let books = books();
    let who = customer(&books, "王芳");
    let other = customer(&books, "李雷");
    let id = nps(&books, who, 2, "<b>太慢</b>");
    let kept = nps(&books, who, 10, "很好");
    let theirs = nps(&books, other, 9, "ok");
    let router = app(books.clone(), common::config(now, false));
    let page = get(&router, &format!("/customers/{who}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains(&format!("id=\"void-survey-{id}\"")));
    assert!(page.body.contains("&lt;b&gt;太慢&lt;/b&gt;") && !page.body.contains("<b>太慢"));
    let path = format!("/customers/{who}/surveys/{id}/void");

    // Refusals: no reason (422 beside it), another customer's answer (404), a
    // cross-site post (403); nothing voided.
    let blank = post(&router, &path, &[("reason", "  ")]).await;
    assert_eq!(blank.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        blank
            .body
            .contains(&format!("id=\"void-survey-{id}-reason-error\""))
    );
    assert!(blank.body.contains("Say why"));
    let foreign = post(
        &router,
        &format!("/customers/{who}/surveys/{theirs}/void"),
        &[("reason", "录错了")],
    )
    .await;
    assert_eq!(foreign.status, StatusCode::NOT_FOUND);
    let unknown = post(
        &router,
        &format!("/customers/{who}/surveys/999/void"),
        &[("reason", "录错了")],
    )
    .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    let forged = post_from(&router, &path, &[("reason", "录错了")], "cross-site").await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert!(books.survey(id).expect("survey").void().is_none());
    assert!(books.survey(theirs).expect("survey").void().is_none());

    let done = post(&router, &path, &[("reason", "录错了 <i>")]).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(done.location(), format!("/customers/{who}"));
    let voided = books.survey(id).expect("survey");
    let mark = voided.void().expect("voided");
    assert_eq!(mark.at, now());
    assert_eq!(mark.reason.as_ref().map(|r| r.as_str()), Some("录错了 <i>"));
    assert!(books.survey(kept).expect("survey").void().is_none());
    // It counts no more: the live answers are the other two.
    let live = books.surveys(&ActivityQuery::default()).expect("surveys");
    assert_eq!(live.len(), 2);
    assert!(live.iter().all(|s| s.id() != id));

    // The page marks it voided, in the list and on the timeline, without a form.
    let page = get(&router, &format!("/customers/{who}?lang=zh-CN")).await;
    assert!(!page.body.contains(&format!("id=\"void-survey-{id}\"")));
    assert!(page.body.contains(&format!("id=\"void-survey-{kept}\"")));
    assert!(page.body.contains("已于 2026-06-15 作废"), "{}", page.body);
    assert!(page.body.contains("录错了 &lt;i&gt;"));
    assert!(page.body.contains("· 已作废"));

    // A second void is refused beside the reason.
    let again = post(&router, &path, &[("reason", "再来一次")]).await;
    assert_eq!(
        again.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        again.body
    );
    assert!(
        again
            .body
            .contains(&format!("id=\"void-survey-{id}-reason-error\"")),
        "{}",
        again.body
    );
}

#[tokio::test]
async fn a_sheet_is_voided_from_the_customer_page_and_leaves_the_analysis() {
    use solocrm_core::questionnaire::{Answer, AnswerValue, CollectionMethod, SurveySheet};
    let books = books();
    let who = customer(&books, "王芳");
    let other = customer(&books, "李雷");
    template(&books);
    let record = |c: CustomerId, score: u8, days: i64| {
        books
            .record_survey_sheet(SurveySheet {
                template: Tag::parse("中秋回访").expect("tag"),
                customer: c,
                at: now() - chrono::Duration::days(days),
                method: CollectionMethod::Phone,
                answers: vec![Answer {
                    question: 1,
                    value: AnswerValue::Score(score),
                }],
                void: None,
            })
            .expect("sheet")
    };
    let sheet = record(who, 1, 2);
    let theirs = record(other, 5, 1);
    let fid = format!(
        "void-sheet-{}-{}-中秋回访",
        sheet.at.timestamp(),
        sheet.at.timestamp_subsec_nanos()
    );
    let router = app(books.clone(), common::config(now, false));
    let page = get(&router, &format!("/customers/{who}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains(&format!("id=\"{fid}\"")),
        "{}",
        page.body
    );
    let path = format!("/customers/{who}/sheets/void");
    let at = sheet
        .at
        .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true);
    let fields = |reason: &'static str| -> Vec<(&'static str, String)> {
        vec![
            ("template", "中秋回访".to_owned()),
            ("at", at.clone()),
            ("reason", reason.to_owned()),
        ]
    };
    let as_refs = |v: &[(&'static str, String)]| -> Vec<(&'static str, String)> { v.to_vec() };
    async fn send(
        router: &axum::Router,
        path: &str,
        fields: Vec<(&'static str, String)>,
        origin: Option<&str>,
    ) -> common::Answer {
        let f: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        match origin {
            Some(o) => post_from(router, path, &f, o).await,
            None => post(router, path, &f).await,
        }
    }

    // Refusals: no reason (422 beside it), no such sheet of this customer (404), a
    // cross-site post (403); nothing voided.
    let blank = send(&router, &path, fields("  "), None).await;
    assert_eq!(
        blank.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        blank.body
    );
    assert!(blank.body.contains(&format!("id=\"{fid}-reason-error\"")));
    let mut later = as_refs(&fields("录错了"));
    later[1].1 = "2026-06-01T00:00:00Z".to_owned();
    let unknown = send(&router, &path, later, None).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    // Another customer's sheet, named under this customer: none of theirs.
    let mut foreign = as_refs(&fields("录错了"));
    foreign[1].1 = theirs
        .at
        .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true);
    let foreign = send(&router, &path, foreign, None).await;
    assert_eq!(foreign.status, StatusCode::NOT_FOUND);
    assert!(!books.survey_sheets(Some(other)).expect("sheets")[0].is_void());
    let forged = send(&router, &path, fields("录错了"), Some("cross-site")).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert!(!books.survey_sheets(Some(who)).expect("sheets")[0].is_void());

    let done = send(&router, &path, fields("录错了 <i>"), None).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(done.location(), format!("/customers/{who}"));
    let voided = &books.survey_sheets(Some(who)).expect("sheets")[0];
    let mark = voided.void.as_ref().expect("voided");
    assert_eq!(mark.at, now());
    assert_eq!(mark.reason.as_ref().map(|r| r.as_str()), Some("录错了 <i>"));
    // Only 李雷's sheet counts now.
    assert_eq!(books.survey_dimensions(None).expect("analysis").sheets, 1);

    let page = get(&router, &format!("/customers/{who}?lang=zh-CN")).await;
    assert!(!page.body.contains(&format!("id=\"{fid}\"")));
    assert!(page.body.contains("已于 2026-06-15 作废"), "{}", page.body);
    assert!(page.body.contains("录错了 &lt;i&gt;"));
    assert!(page.body.contains("中秋回访 · 已作废"), "{}", page.body);

    let again = send(&router, &path, fields("再来一次"), None).await;
    assert_eq!(
        again.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        again.body
    );
    assert!(again.body.contains(&format!("id=\"{fid}-reason-error\"")));
}

#[tokio::test]
async fn a_void_for_a_customer_erased_meanwhile_is_refused_with_words() {
    let books = books();
    let who = customer(&books, "王芳");
    let id = nps(&books, who, 3, "慢");
    let router = app(books.clone(), common::config(now, false));
    // The page was opened in one tab; another tab erased the customer.
    books
        .write(|w| w.erase_customer(who, now()))
        .expect("erased");
    let refused = post(
        &router,
        &format!("/customers/{who}/surveys/{id}/void"),
        &[("reason", "录错了")],
    )
    .await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.body
    );
    // No form is left on an erased customer's page, but the refusal says why.
    assert!(!refused.body.contains(&format!("id=\"void-survey-{id}\"")));
    assert!(
        refused
            .body
            .contains(&format!("id=\"void-survey-{id}-reason-error\"")),
        "{}",
        refused.body
    );
    assert!(refused.body.contains("has been erased"), "{}", refused.body);
    assert!(books.survey(id).expect("survey").void().is_none());
}
