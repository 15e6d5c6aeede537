//! Voiding a survey answer from the customer page, as `solocrm survey void ID
//! --reason` does: the answer stays in the books with its void mark (when, why), counts
//! in no NPS, CSAT or CES from then on, and shows in the timeline marked voided.
//!
//! The customer page lists the customer's answers with a form beside each live one
//! (`POST /customers/{id}/surveys/{survey}/void`, `reason`); the core's
//! `void_survey` does the write. A template's answer sheets are listed the same way,
//! each live one with its own form (`POST /customers/{id}/sheets/void`, `template`,
//! `at`, `reason`), voided by the core's `void_survey_sheet` (ADR 0050).

use solocrm_core::questionnaire::{SheetKey, SurveySheet};
use solocrm_core::{SurveyId, SurveyResponse, Tag, Void};

use super::*;

/// The form id of the void form of answer `id`.
fn form_id(id: SurveyId) -> String {
    format!("void-survey-{id}")
}

/// The customer page's list of survey answers, newest first, each live one with its
/// void form (none for an erased customer).
pub(super) fn answers(
    l: Lang,
    zone: BusinessZone,
    page: &CustomerPage,
    state: Option<&FormState>,
) -> Markup {
    let c = &page.export.customer;
    let mut surveys: Vec<&SurveyResponse> = page.export.surveys.iter().collect();
    surveys.sort_by_key(|s| std::cmp::Reverse((s.at(), s.id())));
    html! {
        @if !surveys.is_empty() {
            section #survey-answers {
                h2 { (l.t("void.answers_title")) }
                table {
                    thead { tr {
                        th { (l.t("col.date")) } th { (l.t("form.survey_kind")) }
                        th.num { (l.t("form.score")) } th { (l.t("form.comment")) } th {}
                    } }
                    tbody {
                        @for s in &surveys {
                            @let fid = form_id(s.id());
                            tr #(format!("survey-{}", s.id())) data-voided=(s.is_void()) {
                                td { (day_of(zone, s.at())) }
                                td { (s.score().kind()) }
                                td.num { (s.score().value()) }
                                td { bdi { (s.comment().map(ToString::to_string).unwrap_or_default()) } }
                                td {
                                    @if let Some(v) = s.void() {
                                        (l.f("void.voided_on", &[("day", &day_of(zone, v.at))]))
                                        @if let Some(r) = &v.reason { " · " bdi { (r.as_str()) } }
                                    }
                                    @if s.void().is_none() && !c.is_erased() {
                                        form.inline #(fid) method="post"
                                            action=(format!("/customers/{}/surveys/{}/void", c.id(), s.id())) {
                                            (field(state, &fid, "reason", l.t("void.reason"), "text", ""))
                                            button type="submit" { (l.t("void.button")) }
                                        }
                                    } @else {
                                        (refusal(state, &fid))
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// `POST /customers/{id}/surveys/{survey}/void` (`reason`): voids the answer now;
/// 303 to the customer, 422 beside the reason for a blank one or an answer voided
/// already, 404 for an answer of another customer or none.
pub async fn void_survey(
    State(st): State<AppState>,
    ctx: Ctx,
    Path((raw, survey)): Path<(String, String)>,
    Form(values): Form<HashMap<String, String>>,
) -> Response {
    let (Some(id), Some(sid)) = (parse_id(&raw), parse_id(&survey)) else {
        return show_customer(&st, &ctx, &raw, StatusCode::NOT_FOUND, None).await;
    };
    let l = ctx.lang;
    let customer = CustomerId::new(id);
    let sid = SurveyId::new(sid);
    let form = form_id(sid);
    let fields = Fields::new(&form, &values);
    let reason = match void_reason(l, &fields) {
        Ok(r) => r,
        Err(state) => return refused(&st, &ctx, &raw, state).await,
    };
    let void = Void::at(st.now()).because(reason);
    let books = st.inner.books.clone();
    let result = blocking(move || {
        let s = books.survey(sid)?;
        if s.customer() != customer {
            return Err(Failure::NotFound(String::new()));
        }
        Ok(books
            .write(|w| w.void_survey(sid, void.clone()))
            .map(|_| ()))
    })
    .await;
    voided(&st, &ctx, &raw, &fields, result).await
}

/// The form id of the void form of a sheet: its instant (seconds and nanoseconds) and
/// template, which with the customer name it.
fn sheet_form_id(at: DateTime<Utc>, template: &Tag) -> String {
    format!(
        "void-sheet-{}-{}-{}",
        at.timestamp(),
        at.timestamp_subsec_nanos(),
        template
    )
}

/// The customer page's list of answer sheets, newest first, each live one with its
/// void form (none for an erased customer).
pub(super) fn sheets(
    l: Lang,
    zone: BusinessZone,
    page: &CustomerPage,
    state: Option<&FormState>,
) -> Markup {
    let c = &page.export.customer;
    let mut sheets: Vec<&SurveySheet> = page.export.survey_sheets.iter().collect();
    sheets.sort_by_key(|s| std::cmp::Reverse(s.key()));
    html! {
        @if !sheets.is_empty() {
            section #survey-sheets {
                h2 { (l.t("void.sheets_title")) }
                table {
                    thead { tr {
                        th { (l.t("col.date")) } th { (l.t("sheet.template")) }
                        th.num { (l.t("void.sheet_answers")) } th {}
                    } }
                    tbody {
                        @for s in &sheets {
                            @let fid = sheet_form_id(s.at, &s.template);
                            tr #(format!("{fid}-row")) data-voided=(s.is_void()) {
                                td { (day_of(zone, s.at)) }
                                td { bdi { (s.template.as_str()) } }
                                td.num { (s.answers.len()) }
                                td {
                                    @if let Some(v) = &s.void {
                                        (l.f("void.voided_on", &[("day", &day_of(zone, v.at))]))
                                        @if let Some(r) = &v.reason { " · " bdi { (r.as_str()) } }
                                    }
                                    @if s.void.is_none() && !c.is_erased() {
                                        form.inline #(fid) method="post"
                                            action=(format!("/customers/{}/sheets/void", c.id())) {
                                            input type="hidden" name="template" value=(s.template.as_str());
                                            input type="hidden" name="at" value=(s.at.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true));
                                            (field(state, &fid, "reason", l.t("void.reason"), "text", ""))
                                            button type="submit" { (l.t("void.button")) }
                                        }
                                    } @else {
                                        (refusal(state, &fid))
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Why a void was refused where no form is left to hold the message: an answer or
/// sheet voided already (a second void, from another tab), or a customer erased
/// meanwhile. Nothing when there is no refusal.
fn refusal(state: Option<&FormState>, fid: &str) -> Markup {
    html! {
        @if let Some(e) = error_for(state, fid, "reason") {
            " " span.error id=(format!("{fid}-reason-error")) role="alert" { (e) }
        }
    }
}

/// `POST /customers/{id}/sheets/void` (`template`, `at`, `reason`): voids the sheet
/// now; 303 to the customer, 422 beside the reason for a blank one or a sheet voided
/// already, 404 for no such sheet of this customer.
pub async fn void_sheet(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(raw): Path<String>,
    Form(values): Form<HashMap<String, String>>,
) -> Response {
    let Some(id) = parse_id(&raw) else {
        return show_customer(&st, &ctx, &raw, StatusCode::NOT_FOUND, None).await;
    };
    let key = values
        .get("template")
        .and_then(|t| Tag::parse(t).ok())
        .zip(
            values
                .get("at")
                .and_then(|a| DateTime::parse_from_rfc3339(a).ok()),
        )
        .map(|(template, at)| SheetKey {
            at: at.with_timezone(&Utc),
            customer: CustomerId::new(id),
            template,
        });
    let Some(key) = key else {
        return show_customer(&st, &ctx, &raw, StatusCode::NOT_FOUND, None).await;
    };
    let l = ctx.lang;
    let form = sheet_form_id(key.at, &key.template);
    let fields = Fields::new(&form, &values);
    let reason = match void_reason(l, &fields) {
        Ok(r) => r,
        Err(state) => return refused(&st, &ctx, &raw, state).await,
    };
    let void = Void::at(st.now()).because(reason);
    let books = st.inner.books.clone();
    let result = blocking(move || {
        Ok(books
            .write(|w| w.void_survey_sheet(&key, void.clone()))
            .map(|_| ()))
    })
    .await;
    voided(&st, &ctx, &raw, &fields, result).await
}

/// The void form's reason: required, and not blank.
fn void_reason(l: Lang, fields: &Fields<'_>) -> Result<FreeText, FormState> {
    fields.required("reason", |r| match FreeText::parse(r) {
        Ok(t) if t.as_str().trim().is_empty() => Err(l.t("void.no_reason").to_owned()),
        Ok(t) => Ok(t),
        Err(e) => Err(e.to_string()),
    })
}

/// The answer to a void form once the write was tried: 303 to the customer, 422
/// beside the reason for a refusal, 404 for no such answer or sheet of theirs.
async fn voided(
    st: &AppState,
    ctx: &Ctx,
    raw: &str,
    fields: &Fields<'_>,
    result: Result<Result<(), StoreError>, Failure>,
) -> Response {
    match result {
        Ok(Ok(())) => {
            st.after_write().await;
            Redirect::to(&format!("/customers/{raw}")).into_response()
        }
        Ok(Err(e)) => match Failure::from(e) {
            Failure::Invalid(m) => refused(st, ctx, raw, fields.refuse("reason", m)).await,
            Failure::NotFound(_) => show_customer(st, ctx, raw, StatusCode::NOT_FOUND, None).await,
            f => failure(ctx, f),
        },
        Err(Failure::NotFound(_)) => show_customer(st, ctx, raw, StatusCode::NOT_FOUND, None).await,
        Err(f) => failure(ctx, f),
    }
}
