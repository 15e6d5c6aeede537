//! Survey templates from the web (issue 18, ADR 0039): answering a template for a
//! customer (one field per question), and adding, editing and removing templates from
//! `/surveys` — through the same core checks and store writes as `solocrm survey
//! answer` and `solocrm survey template …`.
//!
//! - `GET /customers/{id}/sheet?template=NAME`: the sheet of that template, one field
//!   per question (a number on its scale, or free text), and how it was taken;
//!   `POST /customers/{id}/sheet` records it. A question may be skipped (as the CLI
//!   allows) but not every one; a score off its scale or not a number, text that is
//!   too long, or an unknown method is a 422 beside its field, with what was typed.
//!   The sheet's time (`at`, empty for now) is read in the books' zone as `--at` is
//!   ([`solocrm_app::values::event_at`]); one that does not parse or lies more than a
//!   day ahead is a 422 beside it.
//! - `POST /surveys/templates` (`name`, `questions`: one `TEXT|DIMENSION|ANSWER[|ROLE]`
//!   per row, as `--question` reads them) adds a template; `GET
//!   /surveys/templates/{name}` shows one with its edit and remove forms; `POST
//!   /surveys/templates/{name}/edit` (`name`, `questions`) renames it and/or replaces
//!   its questions (only while no one answered it); `POST
//!   /surveys/templates/{name}/remove` removes one no one answered.

use solocrm_core::questionnaire::{
    Answer, AnswerValue, Answering, CollectionMethod, Question, SurveySheet, SurveyTemplate,
    SurveyTemplateEdit,
};

use solocrm_app::values::EventTimeError;

use super::*;

/// The add-a-template form on `/surveys`.
pub(super) const ADD: &str = "template-add";
/// The edit form of a template's page.
const EDIT: &str = "template-edit";
/// The remove form of a template's page.
const REMOVE: &str = "template-remove";

/// A path segment, percent-encoded.
fn seg(s: &str) -> String {
    catalogue::segment(s)
}

/// A template's page.
pub(super) fn template_href(name: &Tag) -> String {
    format!("/surveys/templates/{}", seg(name.as_str()))
}

/// A question as a `--question` flag writes it: `TEXT|DIMENSION|ANSWER[|ROLE]`.
fn as_flag(q: &Question) -> String {
    match q.answering {
        Answering::Text => format!("{}|{}|text", q.text, q.dimension),
        Answering::Score { scale, role: None } => format!("{}|{}|{scale}", q.text, q.dimension),
        Answering::Score {
            scale,
            role: Some(r),
        } => format!("{}|{}|{scale}|{}", q.text, q.dimension, r.as_str()),
    }
}

/// How a question is answered, in words.
fn answering_words(l: Lang, q: &Question) -> String {
    match q.answering {
        Answering::Text => l.t("sheet.free_text").to_owned(),
        Answering::Score { scale, role } => match role {
            Some(r) => format!("{scale} · {}", r.as_str()),
            None => scale.to_string(),
        },
    }
}

/// A text box with its label, hint, message and what was typed (`value` otherwise).
fn text_box(
    state: Option<&FormState>,
    form: &str,
    name: &str,
    label: &str,
    hint: &str,
    value: &str,
) -> Markup {
    let id = format!("{form}-{name}");
    let hint_id = format!("{id}-hint");
    let error = error_for(state, form, name);
    let shown = if state.is_some_and(|s| s.form == form) {
        typed(state, form, name)
    } else {
        value
    };
    html! {
        div.field {
            label for=(id) { (label) }
            @if let Some(e) = error {
                textarea id=(id) name=(name) rows="5" aria-invalid="true"
                    aria-describedby=(format!("{id}-error {hint_id}")) { (shown) }
                span.error id=(format!("{id}-error")) role="alert" { (e) }
            } @else {
                textarea id=(id) name=(name) rows="5" aria-describedby=(hint_id) { (shown) }
            }
            small.hint id=(hint_id) { (hint) }
        }
    }
}

// ---------------------------------------------------------------------------------
// The customer page's chooser and the sheet

/// The customer page's form that opens a template's sheet (nothing without templates
/// or for an erased customer). Archived templates take no answers and are left out
/// (ADR 0045).
pub(super) fn chooser(
    l: Lang,
    customer: CustomerId,
    templates: &[SurveyTemplate],
    erased: bool,
) -> Markup {
    let templates: Vec<&SurveyTemplate> = templates.iter().filter(|t| !t.is_archived()).collect();
    html! {
        @if !erased && !templates.is_empty() {
            form #form-sheet-choose method="get" action=(format!("/customers/{customer}/sheet")) {
                h2 { (l.t("sheet.answer_template")) }
                div.field {
                    label for="sheet-choose-template" { (l.t("sheet.template")) }
                    select id="sheet-choose-template" name="template" {
                        @for t in templates {
                            option value=(t.name()) { (t.name()) }
                        }
                    }
                }
                button type="submit" { (l.t("sheet.open")) }
            }
        }
    }
}

/// What a refused sheet shows: a message per field, and what was typed.
#[derive(Default)]
struct SheetState {
    errors: HashMap<String, String>,
    values: HashMap<String, String>,
    /// A refusal of the sheet as a whole (the store's), above the form.
    message: Option<String>,
}

/// `GET /customers/{id}/sheet?template=NAME`: 404 for an unknown customer or template.
pub async fn sheet_form(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(raw): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let name = non_empty(&q, "template").unwrap_or_default();
    show_sheet(
        &st,
        &ctx,
        &raw,
        &name,
        StatusCode::OK,
        &SheetState::default(),
    )
    .await
}

async fn show_sheet(
    st: &AppState,
    ctx: &Ctx,
    raw: &str,
    name: &str,
    status: StatusCode,
    state: &SheetState,
) -> Response {
    let l = ctx.lang;
    let Some(id) = parse_id(raw) else {
        return failure(
            ctx,
            Failure::NotFound(l.f("error.no_customer", &[("id", &raw)])),
        );
    };
    let unknown = || Failure::NotFound(l.f("surveys.unknown", &[("name", &name)]));
    let Ok(tag) = Tag::parse(name) else {
        return failure(ctx, unknown());
    };
    let books = st.inner.books.clone();
    let loaded = blocking(move || {
        let c = books.customer_by_id(CustomerId::new(id))?;
        let t = match books.read(|r| r.survey_template(&tag)) {
            Ok(t) => Some(t),
            Err(StoreError::NotFound { .. }) => None,
            Err(e) => return Err(e.into()),
        };
        Ok((c, t))
    })
    .await;
    match loaded {
        Ok((Some(c), Some(t))) if !c.is_erased() => respond(status, sheet_page(ctx, &c, &t, state)),
        Ok((_, Some(_))) => failure(
            ctx,
            Failure::NotFound(l.f("error.no_customer", &[("id", &raw)])),
        ),
        Ok((_, None)) => failure(ctx, unknown()),
        Err(Failure::NotFound(_)) => failure(
            ctx,
            Failure::NotFound(l.f("error.no_customer", &[("id", &raw)])),
        ),
        Err(f) => failure(ctx, f),
    }
}

fn sheet_page(ctx: &Ctx, c: &Customer, t: &SurveyTemplate, state: &SheetState) -> Markup {
    let l = ctx.lang;
    let id = c.id();
    let typed = |name: &str| state.values.get(name).map_or("", String::as_str);
    let chosen_method = typed("method");
    let title = l.f("sheet.title", &[("template", t.name()), ("name", c.name())]);
    let body = html! {
        p { a href=(format!("/customers/{id}")) { (l.t("sheet.back")) } }
        @if let Some(m) = &state.message {
            p.message role="alert" { (m) }
        }
        form #form-sheet method="post" action=(format!("/customers/{id}/sheet")) {
            input type="hidden" name="template" value=(t.name());
            div.field {
                label for="sheet-at" { (l.t("sheet.at")) }
                @if let Some(e) = state.errors.get("at") {
                    input id="sheet-at" name="at" type="text" value=(typed("at"))
                        aria-invalid="true" aria-describedby="sheet-at-error sheet-at-hint";
                    span.error id="sheet-at-error" role="alert" { (e) }
                } @else {
                    input id="sheet-at" name="at" type="text" value=(typed("at"))
                        aria-describedby="sheet-at-hint";
                }
                small.hint id="sheet-at-hint" { (l.t("sheet.at_hint")) }
            }
            div.field {
                label for="sheet-method" { (l.t("sheet.method")) }
                select id="sheet-method" name="method" {
                    @for m in CollectionMethod::ALL {
                        @if m.as_str() == chosen_method {
                            option value=(m.as_str()) selected { (l.label("method", m.as_str())) }
                        } @else {
                            option value=(m.as_str()) { (l.label("method", m.as_str())) }
                        }
                    }
                }
                @if let Some(e) = state.errors.get("method") {
                    span.error id="sheet-method-error" role="alert" { (e) }
                }
            }
            @for (i, q) in t.questions().iter().enumerate() {
                @let name = format!("q{}", i + 1);
                @let fid = format!("sheet-{name}");
                @let error = state.errors.get(&name);
                div.field.question data-dimension=(q.dimension) {
                    label for=(fid) {
                        (i + 1) ". " bdi { (q.text) } " "
                        small { "(" bdi { (q.dimension) } " · " (answering_words(l, q)) ")" }
                    }
                    @match (q.answering, error) {
                        (Answering::Score { scale, .. }, None) => {
                            input id=(fid) name=(name) type="number" min=(scale.min()) max=(scale.max()) step="1" value=(typed(&name));
                        }
                        (Answering::Score { scale, .. }, Some(e)) => {
                            input id=(fid) name=(name) type="number" min=(scale.min()) max=(scale.max()) step="1" value=(typed(&name))
                                aria-invalid="true" aria-describedby=(format!("{fid}-error"));
                            span.error id=(format!("{fid}-error")) role="alert" { (e) }
                        }
                        (Answering::Text, None) => {
                            textarea id=(fid) name=(name) rows="2" { (typed(&name)) }
                        }
                        (Answering::Text, Some(e)) => {
                            textarea id=(fid) name=(name) rows="2" aria-invalid="true"
                                aria-describedby=(format!("{fid}-error")) { (typed(&name)) }
                            span.error id=(format!("{fid}-error")) role="alert" { (e) }
                        }
                    }
                }
            }
            p.hint { (l.t("sheet.skip_hint")) }
            button type="submit" { (l.t("form.record")) }
        }
    };
    frame(ctx, &title, body)
}

/// Reads the typed answers against the template: a message per field at fault.
fn read_answers(
    l: Lang,
    t: &SurveyTemplate,
    values: &HashMap<String, String>,
) -> Result<Vec<Answer>, HashMap<String, String>> {
    let mut errors = HashMap::new();
    let mut answers = Vec::new();
    for (i, q) in t.questions().iter().enumerate() {
        let n = i + 1;
        let name = format!("q{n}");
        let Some(v) = non_empty(values, &name) else {
            continue;
        };
        let question = u16::try_from(n).unwrap_or(u16::MAX);
        let value = match q.answering {
            Answering::Score { scale, .. } => match v.parse::<i64>() {
                Ok(s) if scale.contains(s) => u8::try_from(s).ok().map(AnswerValue::Score),
                _ => None,
            }
            .ok_or_else(|| {
                l.f(
                    "sheet.not_a_score",
                    &[("n", &n), ("value", &v), ("scale", &scale)],
                )
            }),
            // A free text is kept as typed (only its blankness is judged trimmed),
            // as the CLI keeps it.
            Answering::Text => {
                FreeText::parse(values.get(&name).map_or(v.as_str(), String::as_str))
                    .map(AnswerValue::Text)
                    .map_err(|e| e.to_string())
            }
        };
        match value {
            Ok(value) => answers.push(Answer { question, value }),
            Err(m) => {
                errors.insert(name, m);
            }
        }
    }
    if errors.is_empty() && answers.is_empty() {
        errors.insert("q1".to_owned(), l.t("sheet.none_answered").to_owned());
    }
    if errors.is_empty() {
        Ok(answers)
    } else {
        Err(errors)
    }
}

/// `POST /customers/{id}/sheet` (`template`, `method`, `q1` … `qN`): recorded now,
/// then 303 to the customer's page.
pub async fn answer_sheet(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(raw): Path<String>,
    Form(values): Form<HashMap<String, String>>,
) -> Response {
    let l = ctx.lang;
    let name = non_empty(&values, "template").unwrap_or_default();
    let (Some(id), Ok(tag)) = (parse_id(&raw), Tag::parse(&name)) else {
        return show_sheet(
            &st,
            &ctx,
            &raw,
            &name,
            StatusCode::NOT_FOUND,
            &SheetState::default(),
        )
        .await;
    };
    let books = st.inner.books.clone();
    let loaded =
        blocking(move || Ok((books.read(|r| r.survey_template(&tag))?, books.time_zone()?)));
    let (template, zone) = match loaded.await {
        Ok(t) => t,
        Err(Failure::NotFound(_)) => {
            return failure(
                &ctx,
                Failure::NotFound(l.f("surveys.unknown", &[("name", &name)])),
            );
        }
        Err(f) => return failure(&ctx, f),
    };
    let mut state = SheetState {
        values: values.clone(),
        ..SheetState::default()
    };
    if template.is_archived() {
        state.message = Some(l.f("sheet.archived", &[("name", template.name())]));
        return show_sheet(
            &st,
            &ctx,
            &raw,
            &name,
            StatusCode::UNPROCESSABLE_ENTITY,
            &state,
        )
        .await;
    }
    let method = values.get("method").map(|m| CollectionMethod::parse_any(m));
    let method = match method {
        Some(Ok(m)) => Some(m),
        _ => {
            state
                .errors
                .insert("method".to_owned(), l.t("sheet.bad_method").to_owned());
            None
        }
    };
    let typed_at = non_empty(&values, "at");
    let at = match solocrm_app::values::event_at(typed_at.as_deref(), st.now(), zone) {
        Ok(t) => Some(t),
        Err(EventTimeError::Future { input, today, zone }) => {
            let m = l.f(
                "sheet.future",
                &[("at", &input), ("today", &today), ("zone", &zone)],
            );
            state.errors.insert("at".to_owned(), m);
            None
        }
        Err(EventTimeError::Value(e)) => {
            state.errors.insert("at".to_owned(), e.to_string());
            None
        }
    };
    let answers = match read_answers(l, &template, &values) {
        Ok(a) => Some(a),
        Err(errors) => {
            state.errors.extend(errors);
            None
        }
    };
    let (Some(method), Some(answers), Some(at)) = (method, answers, at) else {
        return show_sheet(
            &st,
            &ctx,
            &raw,
            &name,
            StatusCode::UNPROCESSABLE_ENTITY,
            &state,
        )
        .await;
    };
    let sheet = SurveySheet {
        void: None,
        template: template.name().clone(),
        customer: CustomerId::new(id),
        at,
        method,
        answers,
    };
    let books = st.inner.books.clone();
    match blocking(move || Ok(books.record_survey_sheet(sheet))).await {
        Ok(Ok(_)) => {
            st.after_write().await;
            Redirect::to(&format!("/customers/{raw}")).into_response()
        }
        Ok(Err(e)) => match Failure::from(e) {
            Failure::Invalid(m) => {
                state.message = Some(m);
                show_sheet(
                    &st,
                    &ctx,
                    &raw,
                    &name,
                    StatusCode::UNPROCESSABLE_ENTITY,
                    &state,
                )
                .await
            }
            f @ Failure::NotFound(_) => failure(&ctx, f),
            f => failure(&ctx, f),
        },
        Err(f) => failure(&ctx, f),
    }
}

// ---------------------------------------------------------------------------------
// Templates

/// The questions of a text box, one flag per row; the message names the row at fault.
fn read_questions(l: Lang, text: &str) -> Result<Vec<Question>, String> {
    let mut out = Vec::new();
    for (n, row) in solocrm_app::lines::rows(text) {
        let q = solocrm_app::questionnaire::question_from_flag(row)
            .map_err(|why| l.f("templates.bad_row", &[("n", &n), ("why", &why)]))?;
        out.push(q);
    }
    if out.is_empty() {
        return Err(l.t("templates.no_questions").to_owned());
    }
    Ok(out)
}

/// The questions of a template's TOML text, read by the CLI's `--from FILE` parser
/// ([`solocrm_app::questionnaire::template_from_toml`]); its message names the line
/// and column of a TOML error, or the question at fault.
fn read_toml(text: &str) -> Result<Vec<Question>, String> {
    // The text is read as a template's; only its questions are kept, as the CLI does.
    let name = Tag::parse("file").map_err(|e| e.to_string())?;
    solocrm_app::questionnaire::template_from_toml(name, text).map(|t| t.questions().to_vec())
}

/// The questions a form gives, and the field they came from: the `toml` text when
/// it is not blank, else the `questions` rows (`None` when both are blank).
/// `both_refused`: the rows and the TOML may not both be given (the add form; the
/// edit form's rows are prefilled, and a TOML text replaces them).
fn form_questions(
    l: Lang,
    fields: &Fields<'_>,
    both_refused: bool,
) -> Result<Option<(Vec<Question>, &'static str)>, FormState> {
    let toml = non_empty(fields.values, "toml");
    if let Some(text) = toml {
        if both_refused && non_empty(fields.values, "questions").is_some() {
            return Err(fields.refuse("toml", l.t("templates.both")));
        }
        // Kept as typed: TOML's line and column count the untrimmed text.
        let raw = fields
            .values
            .get("toml")
            .map_or(text.as_str(), String::as_str);
        return read_toml(raw)
            .map(|q| Some((q, "toml")))
            .map_err(|e| fields.refuse("toml", e));
    }
    Ok(fields
        .optional("questions", |t| read_questions(l, t))?
        .map(|q| (q, "questions")))
}

/// `/surveys`' form that adds a template.
pub(super) fn add_form(l: Lang, state: Option<&FormState>) -> Markup {
    html! {
        form #form-template-add method="post" action="/surveys/templates" {
            h2 { (l.t("templates.add")) }
            (field(state, ADD, "name", l.t("surveys.name"), "text", ""))
            (text_box(state, ADD, "questions", l.t("templates.questions"), l.t("templates.hint"), ""))
            (text_box(state, ADD, "toml", l.t("templates.toml"), l.t("templates.toml_hint"), ""))
            button type="submit" { (l.t("form.add")) }
        }
    }
}

/// `POST /surveys/templates` (`name`, `questions`): 303 to `/surveys`; a bad name or
/// question, or a name taken, is a 422 beside its field.
pub async fn add_template(
    State(st): State<AppState>,
    ctx: Ctx,
    Form(values): Form<HashMap<String, String>>,
) -> Response {
    let l = ctx.lang;
    let fields = Fields::new(ADD, &values);
    let parsed = (|| {
        let name = fields.required("name", Tag::parse)?;
        let (questions, from) = match form_questions(l, &fields, true)? {
            Some(q) => q,
            None => return Err(fields.refuse("questions", l.t("templates.no_questions"))),
        };
        SurveyTemplate::new(name, questions).map_err(|e| fields.refuse(from, e.to_string()))
    })();
    let template = match parsed {
        Ok(t) => t,
        Err(state) => {
            return surveys::show(&st, &ctx, StatusCode::UNPROCESSABLE_ENTITY, Some(&state)).await;
        }
    };
    let books = st.inner.books.clone();
    match blocking(move || Ok(books.add_survey_template(template))).await {
        Ok(Ok(_)) => {
            st.after_write().await;
            Redirect::to("/surveys").into_response()
        }
        Ok(Err(e)) => match Failure::from(e) {
            Failure::Invalid(m) => {
                let state = fields.refuse("name", m);
                surveys::show(&st, &ctx, StatusCode::UNPROCESSABLE_ENTITY, Some(&state)).await
            }
            f => failure(&ctx, f),
        },
        Err(f) => failure(&ctx, f),
    }
}

/// `GET /surveys/templates/{name}`: its questions, and the forms that edit and
/// remove it; 404 for an unknown one.
pub async fn template(State(st): State<AppState>, ctx: Ctx, Path(name): Path<String>) -> Response {
    show_template(&st, &ctx, &name, StatusCode::OK, None).await
}

async fn show_template(
    st: &AppState,
    ctx: &Ctx,
    name: &str,
    status: StatusCode,
    state: Option<&FormState>,
) -> Response {
    let l = ctx.lang;
    let unknown = || Failure::NotFound(l.f("surveys.unknown", &[("name", &name)]));
    let Ok(tag) = Tag::parse(name) else {
        return failure(ctx, unknown());
    };
    let books = st.inner.books.clone();
    let loaded = blocking(move || {
        Ok(books.read(|r| {
            let t = r.survey_template(&tag)?;
            let sheets = r
                .survey_sheets(None)?
                .iter()
                .filter(|s| s.template == tag)
                .count();
            Ok((t, sheets))
        })?)
    })
    .await;
    match loaded {
        Ok((t, sheets)) => respond(status, template_page(ctx, &t, sheets, state)),
        Err(Failure::NotFound(_)) => failure(ctx, unknown()),
        Err(f) => failure(ctx, f),
    }
}

fn template_page(
    ctx: &Ctx,
    t: &SurveyTemplate,
    sheets: usize,
    state: Option<&FormState>,
) -> Markup {
    let l = ctx.lang;
    let href = template_href(t.name());
    let flags: Vec<String> = t.questions().iter().map(as_flag).collect();
    let body = html! {
        p { a href="/surveys" { (l.t("surveys.all_templates")) } }
        table #questions {
            thead { tr {
                th.num { "#" } th { (l.t("templates.question")) } th { (l.t("surveys.dimension")) }
                th { (l.t("templates.answer")) }
            } }
            tbody {
                @for (i, q) in t.questions().iter().enumerate() {
                    tr {
                        td.num { (i + 1) }
                        td { bdi { (q.text) } }
                        td { bdi { (q.dimension) } }
                        td { (answering_words(l, q)) }
                    }
                }
            }
        }
        p #sheets { (l.f("templates.sheets", &[("n", &sheets)])) }
        @if t.is_archived() {
            p #archived.hint { (l.t("templates.archived_hint")) }
        }
        @if let Some(s) = state.filter(|s| s.form == REMOVE) {
            p.message role="alert" { (s.message) }
        }
        form #form-template-edit method="post" action=(format!("{href}/edit")) {
            h2 { (l.t("templates.edit")) }
            (field(state, EDIT, "name", l.t("surveys.name"), "text", t.name().as_str()))
            // Shown while unanswered, and again beside a refusal of new questions.
            @if sheets == 0 || error_for(state, EDIT, "questions").is_some() || error_for(state, EDIT, "toml").is_some() {
                (text_box(state, EDIT, "questions", l.t("templates.questions"), l.t("templates.hint"), &flags.join("\n")))
                (text_box(state, EDIT, "toml", l.t("templates.toml"), l.t("templates.toml_edit_hint"), ""))
            } @else {
                p.hint { (l.t("templates.answered_hint")) }
            }
            button type="submit" { (l.t("customer.save")) }
        }
        form #form-template-archive method="post" action=(format!("{href}/archive")) {
            input type="hidden" name="archived" value=(if t.is_archived() { "false" } else { "true" });
            button type="submit" {
                (if t.is_archived() { l.t("templates.unarchive") } else { l.t("templates.archive") })
            }
        }
        @if sheets == 0 {
            form #form-template-remove method="post" action=(format!("{href}/remove")) {
                button type="submit" { (l.t("templates.remove")) }
            }
        }
    };
    frame(ctx, &l.f("templates.title", &[("name", t.name())]), body)
}

/// `POST /surveys/templates/{name}/edit` (`name`; `questions` while unanswered): 303
/// to the template's (new) page; a bad value, a name taken or new questions for an
/// answered template is a 422 beside its field.
pub async fn edit_template(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(name): Path<String>,
    Form(values): Form<HashMap<String, String>>,
) -> Response {
    let l = ctx.lang;
    let Ok(current) = Tag::parse(&name) else {
        return show_template(&st, &ctx, &name, StatusCode::NOT_FOUND, None).await;
    };
    let fields = Fields::new(EDIT, &values);
    let parsed = (|| {
        let rename = fields.required("name", Tag::parse)?;
        let questions = form_questions(l, &fields, false)?;
        Ok::<_, FormState>((rename, questions))
    })();
    let (rename, given) = match parsed {
        Ok(p) => p,
        Err(state) => {
            return show_template(
                &st,
                &ctx,
                &name,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(&state),
            )
            .await;
        }
    };
    let from = given.as_ref().map_or("questions", |(_, from)| *from);
    let questions = given.map(|(q, _)| q);
    let books = st.inner.books.clone();
    let wanted = current.clone();
    let result = blocking(move || {
        let t = books.read(|r| r.survey_template(&wanted))?;
        let edit = SurveyTemplateEdit {
            name: (rename != *t.name()).then_some(rename),
            // Unchanged questions are no change: a rename of an answered template.
            questions: questions.filter(|q| q.as_slice() != t.questions()),
        };
        if edit == SurveyTemplateEdit::default() {
            return Ok(Ok(t));
        }
        Ok(books.edit_survey_template(&wanted, edit))
    })
    .await;
    match result {
        Ok(Ok(t)) => {
            st.after_write().await;
            Redirect::to(&template_href(t.name())).into_response()
        }
        Ok(Err(e)) => {
            let field = match &e {
                StoreError::Conflict(solocrm_core::Conflict::DuplicateSurveyTemplate {
                    ..
                }) => "name",
                _ => from,
            };
            match Failure::from(e) {
                Failure::Invalid(m) => {
                    let state = fields.refuse(field, m);
                    show_template(
                        &st,
                        &ctx,
                        &name,
                        StatusCode::UNPROCESSABLE_ENTITY,
                        Some(&state),
                    )
                    .await
                }
                Failure::NotFound(_) => {
                    show_template(&st, &ctx, &name, StatusCode::NOT_FOUND, None).await
                }
                f => failure(&ctx, f),
            }
        }
        Err(Failure::NotFound(_)) => {
            show_template(&st, &ctx, &name, StatusCode::NOT_FOUND, None).await
        }
        Err(f) => failure(&ctx, f),
    }
}

/// `POST /surveys/templates/{name}/remove`: 303 to `/surveys`; a template someone
/// answered is a 422 with the reason on its page.
pub async fn remove_template(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(name): Path<String>,
) -> Response {
    let Ok(tag) = Tag::parse(&name) else {
        return show_template(&st, &ctx, &name, StatusCode::NOT_FOUND, None).await;
    };
    let books = st.inner.books.clone();
    match blocking(move || Ok(books.remove_survey_template(&tag))).await {
        Ok(Ok(_)) => {
            st.after_write().await;
            Redirect::to("/surveys").into_response()
        }
        Ok(Err(e)) => match Failure::from(e) {
            Failure::Invalid(m) => {
                let state = FormState::new(REMOVE, "name", m, &HashMap::new());
                show_template(
                    &st,
                    &ctx,
                    &name,
                    StatusCode::UNPROCESSABLE_ENTITY,
                    Some(&state),
                )
                .await
            }
            Failure::NotFound(_) => {
                show_template(&st, &ctx, &name, StatusCode::NOT_FOUND, None).await
            }
            f => failure(&ctx, f),
        },
        Err(f) => failure(&ctx, f),
    }
}

/// `POST /surveys/templates/{name}/archive` (`archived` = `true` or `false`): archives
/// the template or brings it back (ADR 0045), then 303 to its page; 404 for an
/// unknown template, 422 on its page for any other value of `archived`.
pub async fn archive_template(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(name): Path<String>,
    Form(values): Form<HashMap<String, String>>,
) -> Response {
    let Ok(tag) = Tag::parse(&name) else {
        return show_template(&st, &ctx, &name, StatusCode::NOT_FOUND, None).await;
    };
    let archived = match values.get("archived").map(String::as_str) {
        Some("true") => true,
        Some("false") => false,
        _ => {
            let state = FormState::new(
                REMOVE,
                "archived",
                ctx.lang.t("templates.bad_archived").to_owned(),
                &HashMap::new(),
            );
            return show_template(
                &st,
                &ctx,
                &name,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(&state),
            )
            .await;
        }
    };
    let books = st.inner.books.clone();
    match blocking(move || Ok(books.set_survey_template_archived(&tag, archived))).await {
        Ok(Ok(t)) => {
            st.after_write().await;
            Redirect::to(&template_href(t.name())).into_response()
        }
        Ok(Err(e)) => match Failure::from(e) {
            Failure::NotFound(_) => {
                show_template(&st, &ctx, &name, StatusCode::NOT_FOUND, None).await
            }
            f => failure(&ctx, f),
        },
        Err(Failure::NotFound(_)) => {
            show_template(&st, &ctx, &name, StatusCode::NOT_FOUND, None).await
        }
        Err(f) => failure(&ctx, f),
    }
}
