//! The pages and forms. Every handler reads or writes the books on the blocking pool,
//! renders with maud (which escapes every value), and answers a form with 303 to the
//! page to show, or 422 with the same page and the message beside the field.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Form, FromRequestParts, Path, Query, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse as _, Redirect, Response};
use chrono::{DateTime, Days, Months, NaiveDate, Utc};
use maud::{DOCTYPE, Markup, html};
use rust_decimal::Decimal;
use solocrm_app::exchange::calendar::{Calendar, write_calendar};
use solocrm_app::overview::{
    CustomerRow, MonthFigures, Overview, customer_rows, dashboard_with_months_apart,
};
use solocrm_app::views::{CareList, CustomerPage, Dashboard, PipelineBoard};
use solocrm_core::automation::{EffectiveRule, Firing, RuleName};
use solocrm_core::care::{CareConfig, CareReason};
use solocrm_core::holiday::HolidayCalendar;
use solocrm_core::metrics::{MetricError, Period, ReportConfig};
use solocrm_core::{
    BusinessZone, Channel, Consent, Currency, Customer, CustomerData, CustomerId, CustomerQuery,
    DealId, DealStage, Direction, Email, FreeText, Label, LifecycleStage, Money, NewCustomer,
    NewInteraction, NewPointsEntry, NewPurchase, NewServiceRequest, NewSurveyResponse, NewTask,
    PersonName, PointsKind, ReportError, RequestEventKind, RequestId, RequestKind, SearchText,
    StageReason, Store as _, StoreError, StoreErrorKind, SurveyKind, SurveyScore, Tag, TaskId,
    TaskKind, TaskQuery,
};

use crate::AppState;
use crate::charts::{Bar, ChartText, bar_chart};
use crate::i18n::Lang;
use crate::security::lang_of;

#[path = "analytics.rs"]
mod analytics;
#[path = "campaigns.rs"]
mod campaigns;
#[path = "catalogue.rs"]
mod catalogue;
#[path = "dashboard_groups.rs"]
mod dashboard_groups;
#[path = "holidays.rs"]
mod holidays;
#[path = "import.rs"]
mod import;
#[path = "needs.rs"]
mod needs;
#[path = "offers.rs"]
mod offers;
#[path = "privacy.rs"]
mod privacy;
#[path = "purchase_lines.rs"]
mod purchase_lines;
#[path = "rule_forms.rs"]
mod rule_forms;
#[path = "survey_forms.rs"]
mod survey_forms;
#[path = "survey_void.rs"]
mod survey_void;
#[path = "surveys.rs"]
mod surveys;
#[path = "targets.rs"]
mod targets;
pub use analytics::{churn_page, clv_page, cohorts_page, rfm_page, segment_members, segments_page};
pub use campaigns::campaigns_page;
pub use catalogue::{add_product, edit_product, product, products, remove_product};
pub use holidays::{add_holiday, holidays, remove_holiday, use_presets};
pub use import::{UPLOAD_LIMIT, import_page, import_upload};
pub use needs::{add_need, resolve_need};
pub use offers::{add_offer, end_offer, offers};
pub use privacy::{erase_customer, export_customer, vcard};
pub use rule_forms::{
    add_rule, edit_rule, edit_rule_form, remove_rule, remove_rule_form, test_rule,
};
pub use survey_forms::{
    add_template, answer_sheet, archive_template, edit_template, remove_template, sheet_form,
    template,
};
pub use survey_void::{void_sheet, void_survey};
pub use surveys::{add_participation, surveys};
pub use targets::{remove_target, set_target, targets};

/// Rows per page of the customer list.
const PAGE: usize = 50;
/// Days of care the dashboard shows.
const DASHBOARD_CARE_DAYS: u32 = 7;
/// How many of those reminders the dashboard lists (the first by day); the rest are a
/// link away, on `/care`.
const DASHBOARD_CARE_SHOWN: usize = 20;
/// How many reminders one page of `/care` lists.
const CARE_PAGE: usize = 100;
/// Days of care the care page shows unless asked.
const CARE_DAYS: u32 = 14;

/// What every page needs from the request: its language and path.
pub struct Ctx {
    lang: Lang,
    path: String,
}

impl<S: Send + Sync> FromRequestParts<S> for Ctx {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Ctx {
            lang: lang_of(&parts.headers, parts.uri.query()),
            path: parts.uri.path().to_owned(),
        })
    }
}

/// Why a request failed, before it is rendered.
#[derive(Debug)]
enum Failure {
    NotFound(String),
    Invalid(String),
    Busy,
    Internal(String),
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Self {
        if e.is_retryable() {
            return Failure::Busy;
        }
        match e.kind() {
            StoreErrorKind::NotFound => Failure::NotFound(e.to_string()),
            StoreErrorKind::Validation
            | StoreErrorKind::Conflict
            | StoreErrorKind::InvalidTransition => Failure::Invalid(e.to_string()),
            _ => Failure::Internal(e.to_string()),
        }
    }
}

impl From<ReportError> for Failure {
    fn from(e: ReportError) -> Self {
        match e {
            ReportError::Store(e) => e.into(),
            ReportError::Metric(e) => Failure::Internal(e.to_string()),
            other => Failure::Internal(other.to_string()),
        }
    }
}

impl From<MetricError> for Failure {
    fn from(e: MetricError) -> Self {
        Failure::Invalid(e.to_string())
    }
}

/// Runs `f` on the blocking pool, once one of the [`STORE_WORK`](crate::store_work::STORE_WORK) permits is free.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, Failure> + Send + 'static,
) -> Result<T, Failure> {
    let permit = crate::store_work::STORE_WORK
        .acquire()
        .await
        .map_err(|e| Failure::Internal(format!("the store's queue closed: {e}")))?;
    // The permit moves into the blocking task: a client that goes away drops this
    // future, but the work already started keeps its place until it ends.
    tokio::task::spawn_blocking(move || {
        let _permit = permit;
        f()
    })
    .await
    .map_err(|e| Failure::Internal(format!("a request's work stopped: {e}")))?
}

/// The frame of every page: header with navigation and the language switch.
fn frame(ctx: &Ctx, title: &str, body: Markup) -> Markup {
    frame_with(ctx, title, body, None)
}

/// [`frame`] of a page that loads itself again after `seconds` (a `refresh` meta
/// element: no script).
fn frame_reloading(ctx: &Ctx, title: &str, body: Markup, seconds: u32) -> Markup {
    frame_with(ctx, title, body, Some(seconds))
}

fn frame_with(ctx: &Ctx, title: &str, body: Markup, reload: Option<u32>) -> Markup {
    let l = ctx.lang;
    let nav = [
        ("/", "nav.dashboard"),
        ("/customers", "nav.customers"),
        ("/care", "nav.care"),
        ("/pipeline", "nav.pipeline"),
        ("/rfm", "nav.rfm"),
        ("/churn", "nav.churn"),
        ("/cohorts", "nav.cohorts"),
        ("/clv", "nav.clv"),
        ("/segments", "nav.segments"),
        ("/products", "nav.products"),
        ("/offers", "nav.offers"),
        ("/targets", "nav.targets"),
        ("/surveys", "nav.surveys"),
        ("/campaigns", "nav.campaigns"),
        ("/import", "nav.import"),
        ("/rules", "nav.rules"),
        ("/calendar", "nav.calendar"),
        ("/holidays", "nav.holidays"),
    ];
    html! {
        (DOCTYPE)
        html lang=(l.tag()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                @if let Some(seconds) = reload {
                    meta http-equiv="refresh" content=(seconds);
                }
                title { (title) " · solocrm" }
                link rel="stylesheet" href=(crate::CSS_PATH);
            }
            body {
                header.top {
                    a.brand href="/" { (l.t("app.name")) }
                    nav {
                        @for (href, key) in nav {
                            @if ctx.path == href {
                                a href=(href) aria-current="page" { (l.t(key)) }
                            } @else {
                                a href=(href) { (l.t(key)) }
                            }
                        }
                    }
                    nav.lang aria-label=(l.t("nav.language")) {
                        a #lang-en href=(format!("{}?lang=en", ctx.path)) lang="en" hreflang="en" { "English" }
                        a #lang-zh href=(format!("{}?lang=zh-CN", ctx.path)) lang="zh-CN" hreflang="zh-CN" { "中文" }
                    }
                }
                main { h1 { bdi { (title) } } (body) }
            }
        }
    }
}

fn respond(status: StatusCode, markup: Markup) -> Response {
    (status, markup).into_response()
}

/// The page of a failure.
fn failure(ctx: &Ctx, f: Failure) -> Response {
    let l = ctx.lang;
    let (status, title, message) = match f {
        Failure::NotFound(m) => (StatusCode::NOT_FOUND, l.t("error.not_found"), m),
        Failure::Invalid(m) => (StatusCode::UNPROCESSABLE_ENTITY, l.t("error.title"), m),
        Failure::Busy => (
            StatusCode::SERVICE_UNAVAILABLE,
            l.t("error.title"),
            l.t("error.busy").to_owned(),
        ),
        Failure::Internal(detail) => {
            eprintln!("solocrm serve: {detail}");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                l.t("error.title"),
                l.t("error.internal").to_owned(),
            )
        }
    };
    respond(
        status,
        frame(ctx, title, html! { p.message role="alert" { (message) } }),
    )
}

/// The fallback: 404 for every path no route serves.
pub async fn not_found(ctx: Ctx) -> Response {
    let m = ctx.lang.t("error.no_page").to_owned();
    failure(&ctx, Failure::NotFound(m))
}

/// A form's message beside its field, and what was typed.
#[derive(Debug, Default)]
struct FormState {
    /// Which form (`add`, `edit`, `interaction`, `purchase`, `stage`, `deal-N`).
    form: String,
    /// Which field the message belongs to.
    field: &'static str,
    message: String,
    values: HashMap<String, String>,
    /// Where in the field the problem is (1-based, in characters), when the parser
    /// says (a `u32` keeps the state small).
    column: Option<u32>,
}

impl FormState {
    fn new(
        form: &str,
        field: &'static str,
        message: impl Into<String>,
        values: &HashMap<String, String>,
    ) -> Self {
        FormState {
            form: form.to_owned(),
            field,
            message: message.into(),
            values: values.clone(),
            column: None,
        }
    }
}

/// A submitted form read field by field: each parse that fails becomes the
/// [`FormState`] of a 422, with the message beside that field.
struct Fields<'a> {
    form: &'a str,
    values: &'a HashMap<String, String>,
}

impl<'a> Fields<'a> {
    fn new(form: &'a str, values: &'a HashMap<String, String>) -> Self {
        Fields { form, values }
    }

    /// The refusal of `field` with `message`.
    fn refuse(&self, field: &'static str, message: impl Into<String>) -> FormState {
        FormState::new(self.form, field, message, self.values)
    }

    /// A required field, trimmed (an absent one reads as empty), parsed by `parse`.
    fn required<T, E: std::fmt::Display>(
        &self,
        field: &'static str,
        parse: impl FnOnce(&str) -> Result<T, E>,
    ) -> Result<T, FormState> {
        parse(self.values.get(field).map_or("", |v| v.trim()))
            .map_err(|e| self.refuse(field, e.to_string()))
    }

    /// An optional field: `None` when absent or blank, else parsed by `parse`.
    fn optional<T, E: std::fmt::Display>(
        &self,
        field: &'static str,
        parse: impl FnOnce(&str) -> Result<T, E>,
    ) -> Result<Option<T>, FormState> {
        non_empty(self.values, field)
            .map(|v| parse(&v).map_err(|e| self.refuse(field, e.to_string())))
            .transpose()
    }
}

/// The message for `field` of `form`, if the failed form was that one.
fn error_for<'a>(state: Option<&'a FormState>, form: &str, field: &str) -> Option<&'a str> {
    state
        .filter(|s| s.form == form && s.field == field)
        .map(|s| s.message.as_str())
}

/// What was typed into `field` of `form`, to show it again.
fn typed<'a>(state: Option<&'a FormState>, form: &str, field: &str) -> &'a str {
    state
        .filter(|s| s.form == form)
        .and_then(|s| s.values.get(field))
        .map_or("", String::as_str)
}

/// A labelled input with its message.
fn field(
    state: Option<&FormState>,
    form: &str,
    name: &str,
    label: &str,
    kind: &str,
    value: &str,
) -> Markup {
    let id = format!("{form}-{name}");
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
                input id=(id) name=(name) type=(kind) value=(shown) aria-invalid="true"
                    aria-describedby=(format!("{id}-error"));
                span.error id=(format!("{id}-error")) role="alert" { (e) }
            } @else {
                input id=(id) name=(name) type=(kind) value=(shown);
            }
        }
    }
}

/// A select of names with their labels, the first (or the typed) one selected.
fn select(
    state: Option<&FormState>,
    form: &str,
    name: &str,
    label: &str,
    options: &[(&'static str, &'static str)],
) -> Markup {
    choose(state, form, name, label, options, "")
}

/// A select whose chosen option is what was typed, else `default`.
fn choose(
    state: Option<&FormState>,
    form: &str,
    name: &str,
    label: &str,
    options: &[(&'static str, &'static str)],
    default: &str,
) -> Markup {
    let id = format!("{form}-{name}");
    let chosen = match state.filter(|s| s.form == form) {
        Some(s) => s.values.get(name).map_or("", String::as_str),
        None => default,
    };
    let error = error_for(state, form, name);
    html! {
        div.field {
            label for=(id) { (label) }
            select id=(id) name=(name) {
                @for (value, text) in options {
                    @if *value == chosen {
                        option value=(value) selected { (text) }
                    } @else {
                        option value=(value) { (text) }
                    }
                }
            }
            @if let Some(e) = error { span.error id=(format!("{id}-error")) role="alert" { (e) } }
        }
    }
}

fn day_of(zone: BusinessZone, at: DateTime<Utc>) -> NaiveDate {
    zone.date_of(at)
}

fn percent(v: Option<f64>) -> String {
    v.map_or_else(|| "–".to_owned(), |v| format!("{v:.2} %"))
}

fn stage_label(l: Lang, s: LifecycleStage) -> &'static str {
    l.label("stage", s.as_str())
}

fn deal_label(l: Lang, s: DealStage) -> &'static str {
    l.label("deal", s.as_str())
}

fn non_empty(map: &HashMap<String, String>, key: &str) -> Option<String> {
    map.get(key)
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

// ---------------------------------------------------------------------------------
// Dashboard

/// A kept dashboard report: by period and time zone.
pub(crate) type ReportKey = (NaiveDate, NaiveDate, &'static str);
/// A kept care list: by first day, days ahead, time zone and holiday calendar. The
/// calendar is part of the key because its writes add no outbox event: a change made
/// by the CLI while the workspace runs must still show on the next load.
pub(crate) type CareKey = (NaiveDate, u32, &'static str, HolidayCalendar);

/// What the dashboard shows.
struct Shown {
    part: Arc<(Dashboard, Vec<MonthFigures>)>,
    board: PipelineBoard,
    care: Arc<CareList>,
    /// The saved segments, for the filter.
    segments: Vec<Label>,
    /// The report or the care list is the one kept of a moment ago, from before the
    /// latest writes, which the refresh is counting (ADR 0072).
    earlier: bool,
}

/// How many seconds a dashboard of a moment ago waits before it loads itself again.
const EARLIER_RELOAD_SECONDS: u32 = 2;

/// `GET /`: the metrics of a period (default: the year up to today), its charts
/// ([`charts`]) and the care of the next days.
pub async fn dashboard(
    State(st): State<AppState>,
    ctx: Ctx,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if dashboard_groups::asked(&q) {
        // A group or a series: computed each time (dashboard_groups.rs).
        return dashboard_groups::page(st, ctx, q).await;
    }
    let l = ctx.lang;
    let mut form_error = None;
    let mut parse = |key: &'static str| match non_empty(&q, key) {
        None => None,
        Some(v) => match solocrm_app::values::date(&v) {
            Ok(d) => Some(d),
            Err(e) => {
                form_error = Some(FormState::new("period", key, e.to_string(), &q));
                None
            }
        },
    };
    let (from, to) = (parse("from"), parse("to"));
    let now = st.now();
    let inner = st.inner.clone();
    // The default period is the one the refresh keeps up to date.
    let earlier_ok = from.is_none()
        && to.is_none()
        && inner.refreshing.load(std::sync::atomic::Ordering::Acquire);
    let loaded = blocking(move || load_dashboard(&inner, from, to, now, earlier_ok)).await;
    let shown = match loaded {
        Ok(Ok(v)) => v,
        Ok(Err(())) => {
            let state = FormState::new("period", "to", l.t("error.period_backwards"), &q);
            return respond(
                StatusCode::UNPROCESSABLE_ENTITY,
                frame(
                    &ctx,
                    l.t("dash.title"),
                    period_form(l, Some(&state), None, None),
                ),
            );
        }
        Err(f) => return failure(&ctx, f),
    };
    let status = if form_error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let body = dashboard_body(l, &shown, form_error.as_ref());
    let page = if shown.earlier {
        frame_reloading(&ctx, l.t("dash.title"), body, EARLIER_RELOAD_SECONDS)
    } else {
        frame(&ctx, l.t("dash.title"), body)
    };
    respond(status, page)
}

/// The first day, the day after the last and the last day of a dashboard's range:
/// `to` (default: today in `zone`) and `from` (default: a year before the day after
/// `to`); `None` if the range runs backwards. The whole book's page and a group's
/// read it alike.
pub(crate) fn dashboard_range(
    zone: solocrm_core::BusinessZone,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    now: DateTime<Utc>,
) -> Option<(NaiveDate, NaiveDate, NaiveDate)> {
    let last_day = to.unwrap_or_else(|| zone.date_of(now));
    let end = last_day.checked_add_days(Days::new(1)).unwrap_or(last_day);
    let start = from.unwrap_or_else(|| end.checked_sub_months(Months::new(12)).unwrap_or(end));
    (start < end).then_some((start, end, last_day))
}

/// What `/` shows of the period from `from` (default: a year before `to`) to `to`
/// (default: today), or `Err(())` if the period runs backwards. A period that runs to
/// today keeps its report and its care list between loads ([`crate::kept`]); a past
/// one is computed each time. With `earlier_ok`, a kept report or care list that the
/// books have moved past is shown as it is rather than computed, unless the moves
/// hold an erasure (ADR 0072).
fn load_dashboard(
    inner: &crate::Inner,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    now: DateTime<Utc>,
    earlier_ok: bool,
) -> Result<Result<Shown, ()>, Failure> {
    let books = &inner.books;
    let zone = books.time_zone()?;
    let Some((start, end, last_day)) = dashboard_range(zone, from, to, now) else {
        return Ok(Err(()));
    };
    let period = Period::new(start, end)?.in_zone(zone);
    let config = ReportConfig {
        include_rfm_table: false,
        ..ReportConfig::default()
    };
    let as_of = (zone.end_of(last_day) - chrono::Duration::seconds(1)).min(now);
    if zone.end_of(last_day) <= now {
        // A past period: the books as they stood at its end, computed each time.
        let o = solocrm_app::history::read_as_of_day(books, last_day, now, |r| {
            Ok(Overview::load(
                &r,
                period,
                &config,
                as_of,
                DASHBOARD_CARE_DAYS,
                &CareConfig::default(),
            ))
        })??;
        return Ok(Ok(Shown {
            part: Arc::new((o.dashboard, o.revenue_by_month)),
            board: o.board,
            care: Arc::new(o.care),
            segments: books.read(|r| analytics::segment_names(&r))?,
            earlier: false,
        }));
    }
    if earlier_ok {
        // An erasure made elsewhere since the last look drops every kept view first:
        // no view of a moment ago shows an erased customer.
        inner.sweep()?;
    }
    // The period runs to today: its report and care list are kept while the outbox
    // shows no new event; the board (which moves with the clock) is read anew.
    let key = (period.start(), period.end(), zone.name());
    // Out of date, the report is computed in a snapshot of its own, its purchases read on a second thread
    // (ADR 0070), before and apart from the page's read (no read nested in
    // another: a pooled backend could run short of connections).
    let (part, earlier_part) =
        inner
            .reports
            .get_apart_or_earlier(books, &key, earlier_ok, || {
                dashboard_with_months_apart(books, period, &config)
                    .map(|(seq, dashboard, months)| (seq, (dashboard, months)))
            })?;
    let shown = books.read(|r| {
        let care_key = (
            zone.date_of(as_of),
            DASHBOARD_CARE_DAYS,
            zone.name(),
            r.holiday_calendar()?,
        );
        let (care, earlier_care) = inner.care.get_or_earlier(&r, &care_key, earlier_ok, || {
            CareList::load(&r, as_of, DASHBOARD_CARE_DAYS, &CareConfig::default())
        })?;
        Ok(Shown {
            part,
            board: PipelineBoard::load(&r, as_of, &config.stage_probabilities)?,
            care,
            // In the same job as the rest: one place in the store's queue per load.
            segments: analytics::segment_names(&r)?,
            earlier: earlier_part || earlier_care,
        })
    })?;
    Ok(Ok(shown))
}

/// Brings the kept dashboard of `/` (the default period, up to today) and the kept
/// search index up to date with the books if the outbox has moved, or the day has,
/// since the last look — each if it has been asked for since the server started (or
/// the views were last forgotten), the dashboard also when `warm` (the refresher's
/// first look computes it before anyone asks): so a load of `/` or a search after a
/// write, made here or by another program (the CLI), finds its view computed rather
/// than computing it (ADR 0071), and a load of `/` made while this computes shows the
/// dashboard of a moment ago (ADR 0072). Looks for erasures made elsewhere first
/// ([`crate::Inner::sweep`]). Returns whether it computed. Holds a place in the store's
/// queue like a request.
///
/// # Errors
///
/// A message for the log: the backend's error or a stopped task.
pub(crate) async fn refresh_kept(st: &AppState, warm: bool) -> Result<bool, String> {
    let now = st.now();
    let inner = st.inner.clone();
    blocking(move || {
        inner.sweep()?;
        let dashboard = warm || !inner.reports.is_empty();
        let search = !inner.search.is_empty();
        if !dashboard && !search {
            return Ok(false);
        }
        let books = &inner.books;
        let today = books.time_zone()?.date_of(now);
        let mut seen = inner
            .kept_seen
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let known = seen.map_or(0, |(seq, _)| seq);
        let newest = books.read(|r| solocrm_app::overview::newest_event(&r, known))?;
        if *seen == Some((newest, today)) {
            return Ok(false);
        }
        // Computed in a snapshot at least as new as `newest`: the next look finds the
        // views current, or computes newer ones.
        if dashboard {
            let _ = load_dashboard(&inner, None, None, now, false)?;
        }
        if search {
            books.read(|r| inner.search.get(&r, &(), || r.search_index()).map(|_| ()))?;
        }
        *seen = Some((newest, today));
        Ok(true)
    })
    .await
    .map_err(|f| match f {
        Failure::NotFound(m) | Failure::Invalid(m) | Failure::Internal(m) => m,
        Failure::Busy => "the books were busy".to_owned(),
    })
}

fn period_form(
    l: Lang,
    state: Option<&FormState>,
    start: Option<NaiveDate>,
    last: Option<NaiveDate>,
) -> Markup {
    let s = start.map(|d| d.to_string()).unwrap_or_default();
    let e = last.map(|d| d.to_string()).unwrap_or_default();
    html! {
        form.inline method="get" action="/" {
            (field(state, "period", "from", l.t("dash.from"), "date", &s))
            (field(state, "period", "to", l.t("dash.to"), "date", &e))
            button type="submit" { (l.t("dash.show")) }
        }
    }
}

fn dashboard_body(l: Lang, o: &Shown, state: Option<&FormState>) -> Markup {
    let (d, months) = (&o.part.0, &o.part.1);
    let last_day = d.period.end.pred_opt().unwrap_or(d.period.end);
    html! {
        @if o.earlier {
            p.note role="status" { (l.t("dash.earlier")) }
        }
        p.period { (l.f("dash.period", &[("start", &d.period.start), ("end", &last_day)])) }
        (dashboard_groups::plain_filter(l, state, &o.segments, d.period.start, last_day))
        (figures(l, d, "figures"))
        (charts(l, d, months, &o.board))
        h2 { (l.f("dash.care", &[("days", &o.care.days)])) }
        @let entries = &o.care.entries;
        (care_table(l, &entries[..entries.len().min(DASHBOARD_CARE_SHOWN)], false, None))
        @if entries.len() > DASHBOARD_CARE_SHOWN {
            p.more {
                (l.f("care.more", &[("shown", &DASHBOARD_CARE_SHOWN), ("total", &entries.len())]))
                " "
                a href=(format!("/care?days={}", o.care.days)) { (l.t("care.all")) }
            }
        }
    }
}

/// The figures of one dashboard, the whole book's or a group's (`id` names the list).
fn figures(l: Lang, d: &Dashboard, id: &str) -> Markup {
    let currency = d.report.currency;
    let money = |s: &str| format!("{s} {currency}");
    let live: usize = d.stages.iter().map(|(_, n)| n).sum();
    let stats = &d.report.purchases.stats;
    let rows = [
        ("dash.customers", live.to_string()),
        ("dash.revenue", money(&d.revenue)),
        ("col.orders", stats.orders.to_string()),
        ("dash.active", stats.buyers.to_string()),
        ("dash.new", d.report.retention.base.acquired.to_string()),
        ("dash.net_revenue", money(&d.net_revenue)),
        ("dash.costs", money(&d.costs)),
        (
            "dash.nps",
            d.nps.map_or_else(|| "–".to_owned(), |v| format!("{v:.2}")),
        ),
        ("dash.csat", percent(d.csat)),
        ("dash.churn", percent(d.churn_rate)),
        ("dash.retention", percent(d.retention_rate)),
        ("dash.repeat", percent(d.repeat_purchase_rate)),
    ];
    html! {
        dl.figures id=(id) {
            @for (key, value) in &rows {
                div { dt { (l.t(key)) } dd { (value) } }
            }
        }
    }
}

/// The dashboard's charts, each with its title and data table: customers by stage,
/// revenue (and orders) by month, satisfaction by month (CSAT, with NPS in the table),
/// customers by RFM segment, the open pipeline by stage (with deals and weighted
/// value), and the heatmap of the cohorts acquired in the period — of the whole book
/// or of a group, from the data given.
fn charts(l: Lang, d: &Dashboard, months: &[MonthFigures], board: &PipelineBoard) -> Markup {
    let stage_bars: Vec<Bar> = d
        .stages
        .iter()
        .map(|(s, n)| Bar {
            label: stage_label(l, *s).to_owned(),
            value: Decimal::from(*n),
            shown: n.to_string(),
        })
        .collect();
    let month_bars: Vec<Bar> = months
        .iter()
        .map(|m| Bar {
            label: m.month.format("%Y-%m").to_string(),
            value: m.revenue.amount(),
            shown: m.revenue.amount().to_string(),
        })
        .collect();
    let orders: Vec<String> = months.iter().map(|m| m.orders.to_string()).collect();
    let pipeline_bars: Vec<Bar> = board
        .columns
        .iter()
        .map(|c| Bar {
            label: deal_label(l, c.stage).to_owned(),
            value: c.total.amount(),
            shown: c.total.amount().to_string(),
        })
        .collect();
    let deals: Vec<String> = board
        .columns
        .iter()
        .map(|c| c.cards.len().to_string())
        .collect();
    let weighted: Vec<String> = board
        .columns
        .iter()
        .map(|c| c.weighted.amount().to_string())
        .collect();
    // A month without a CSAT answer has no bar and a dash in the table; NPS, which
    // runs from −100 to 100, is a column of that table.
    let none = || "–".to_owned();
    let satisfaction_bars: Vec<Bar> = months
        .iter()
        .map(|m| Bar {
            label: m.month.format("%Y-%m").to_string(),
            value: m.csat.unwrap_or_default(),
            shown: m.csat.map_or_else(none, |c| c.to_string()),
        })
        .collect();
    let nps: Vec<String> = months
        .iter()
        .map(|m| m.nps.map_or_else(none, |n| n.to_string()))
        .collect();
    let rfm_bars: Vec<Bar> = d
        .report
        .rfm
        .segments
        .iter()
        .map(|c| Bar {
            label: l.label("rfm", c.segment.as_str()).to_owned(),
            value: Decimal::from(c.customers),
            shown: c.customers.to_string(),
        })
        .collect();
    // The cohorts acquired in the period (the report's matrix reaches years back;
    // `/cohorts` shows them all).
    let mut cohorts = d.report.cohorts.clone();
    let first_month = chrono::Datelike::with_day(&d.period.start, 1).unwrap_or(d.period.start);
    cohorts.rows.retain(|r| r.start >= first_month);
    html! {
        div.charts {
            (bar_chart(ChartText { id: "chart-stages", title: l.t("chart.stages"),
                label_header: l.t("col.stage"), value_header: l.t("col.customers") },
                &stage_bars, &[]))
            (bar_chart(ChartText { id: "chart-revenue", title: l.t("chart.revenue"),
                label_header: l.t("col.month"), value_header: l.t("col.revenue") },
                &month_bars, &[(l.t("col.orders"), orders)]))
            (bar_chart(ChartText { id: "chart-satisfaction", title: l.t("chart.satisfaction"),
                label_header: l.t("col.month"), value_header: l.t("col.csat") },
                &satisfaction_bars, &[(l.t("col.nps"), nps)]))
            (bar_chart(ChartText { id: "chart-rfm", title: l.t("chart.rfm"),
                label_header: l.t("col.segment"), value_header: l.t("col.customers") },
                &rfm_bars, &[]))
            (bar_chart(ChartText { id: "chart-pipeline", title: l.t("chart.pipeline"),
                label_header: l.t("col.stage"), value_header: l.t("col.value") },
                &pipeline_bars, &[(l.t("col.deals"), deals), (l.t("col.weighted"), weighted)]))
        }
        p.more { a href="/rfm" { (l.t("chart.rfm_grid")) } }
        (analytics::cohort_heatmap(l, &cohorts))
    }
}

/// The care list; with `actions`, a task's row has its done and snooze buttons.
fn care_table(
    l: Lang,
    entries: &[solocrm_app::views::CareEntry],
    actions: bool,
    state: Option<&FormState>,
) -> Markup {
    html! {
        @if entries.is_empty() {
            p.empty { (l.t("care.nobody")) }
        } @else {
            table.care {
                thead { tr {
                    th { (l.t("col.date")) } th { (l.t("col.customer")) } th { (l.t("col.reason")) }
                    @if actions { th {} }
                } }
                tbody {
                    @for e in entries {
                        tr {
                            td { (e.item.date) }
                            td {
                                @match (e.item.customer, &e.customer_name) {
                                    (Some(id), Some(name)) => a href=(format!("/customers/{id}")) { bdi { (name) } },
                                    _ => (l.t("care.everyone")),
                                }
                            }
                            td { (l.care_reason(&e.item.reason)) }
                            @if actions {
                                td { @if let CareReason::Task { task, .. } = &e.item.reason {
                                    (task_buttons(l, *task, true, state))
                                } }
                            }
                        }
                    }
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------
// Customers

struct ListView {
    rows: Vec<CustomerRow>,
    /// The next page's link, if there is one.
    next: Option<String>,
    previous: Option<String>,
    total: Option<usize>,
}

/// The customers of a list request: a search (`q`, ranked, by page numbers) or the
/// list by id (`after` cursor), filtered by `stage`.
async fn load_list(st: &AppState, q: &HashMap<String, String>) -> Result<ListView, Failure> {
    let stage = match non_empty(q, "stage") {
        Some(s) => Some(LifecycleStage::parse(&s).map_err(|e| Failure::Invalid(e.to_string()))?),
        None => None,
    };
    let text = match non_empty(q, "q") {
        Some(t) => Some(SearchText::parse(&t).map_err(|e| Failure::Invalid(e.to_string()))?),
        None => None,
    };
    let page: usize = non_empty(q, "page")
        .and_then(|p| p.parse().ok())
        .filter(|p| *p >= 1)
        .unwrap_or(1);
    let after: Option<u64> = non_empty(q, "after").and_then(|a| a.parse().ok());
    let now = st.now();
    let books = st.inner.books.clone();
    let inner = st.inner.clone();
    let keep = |extra: &[(&str, String)]| {
        let mut pairs: Vec<(&str, String)> = Vec::new();
        if let Some(t) = non_empty(q, "q") {
            pairs.push(("q", t));
        }
        if let Some(s) = non_empty(q, "stage") {
            pairs.push(("stage", s));
        }
        pairs.extend(extra.iter().cloned());
        format!(
            "/customers?{}",
            serde_urlencoded::to_string(&pairs).unwrap_or_default()
        )
    };
    match text {
        Some(text) => {
            let (rows, total) = blocking(move || {
                Ok(books.read(|r| {
                    // Without a stage filter only the hits up to this page are needed:
                    // the kept index (rebuilt after a write) ranks them in memory, and
                    // only the customers up to this page are read.
                    let (hits, matched) = if stage.is_none() {
                        let index = inner.search.get(&r, &(), || r.search_index())?;
                        let (ids, matched) = index.search(&text, Some(page.saturating_mul(PAGE)));
                        let hits = ids
                            .into_iter()
                            .skip((page - 1).saturating_mul(PAGE))
                            .map(|id| r.customer(id))
                            .collect::<Result<Vec<Customer>, _>>()?;
                        (hits, matched)
                    } else {
                        r.search_customers(&text, None)?
                    };
                    let hits: Vec<Customer> = hits
                        .into_iter()
                        .filter(|c| stage.is_none_or(|s| c.stage() == s))
                        .collect();
                    let total = if stage.is_none() { matched } else { hits.len() };
                    // The index's hits start at this page already.
                    let skip = if stage.is_none() {
                        0
                    } else {
                        (page - 1).saturating_mul(PAGE)
                    };
                    let page_items: Vec<Customer> =
                        hits.into_iter().skip(skip).take(PAGE).collect();
                    Ok((customer_rows(&r, page_items, now)?, total))
                })?)
            })
            .await?;
            let next = (page.saturating_mul(PAGE) < total)
                .then(|| keep(&[("page", (page + 1).to_string())]));
            let previous = (page > 1).then(|| keep(&[("page", (page - 1).to_string())]));
            Ok(ListView {
                rows,
                next,
                previous,
                total: Some(total),
            })
        }
        None => {
            let (rows, next_id) = blocking(move || {
                Ok(books.read(|r| {
                    let found = r.list_customers(&CustomerQuery {
                        stage,
                        after: after.map(CustomerId::new),
                        limit: u32::try_from(PAGE).unwrap_or(50),
                        ..CustomerQuery::default()
                    })?;
                    Ok((customer_rows(&r, found.items, now)?, found.next))
                })?)
            })
            .await?;
            let next = next_id.map(|n| keep(&[("after", n.to_string())]));
            let previous = after.is_some().then(|| keep(&[]));
            Ok(ListView {
                rows,
                next,
                previous,
                total: None,
            })
        }
    }
}

/// `GET /customers`.
pub async fn customers(
    State(st): State<AppState>,
    ctx: Ctx,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    match load_list(&st, &q).await {
        Ok(list) => respond(StatusCode::OK, customers_page(&ctx, &q, &list, None)),
        Err(Failure::Invalid(m)) => {
            let state = FormState::new("search", "q", m, &q);
            let empty = ListView {
                rows: Vec::new(),
                next: None,
                previous: None,
                total: Some(0),
            };
            respond(
                StatusCode::UNPROCESSABLE_ENTITY,
                customers_page(&ctx, &q, &empty, Some(&state)),
            )
        }
        Err(f) => failure(&ctx, f),
    }
}

fn customers_page(
    ctx: &Ctx,
    q: &HashMap<String, String>,
    list: &ListView,
    state: Option<&FormState>,
) -> Markup {
    let l = ctx.lang;
    let mut stages: Vec<(&'static str, &'static str)> = vec![("", l.t("customers.any_stage"))];
    stages.extend(
        LifecycleStage::ALL
            .iter()
            .map(|s| (s.as_str(), stage_label(l, *s))),
    );
    let search_state = state.filter(|s| s.form == "search");
    let add_state = state.filter(|s| s.form == "add");
    let q_value = q.get("q").map_or("", String::as_str);
    let stage_value = q.get("stage").map_or("", String::as_str);
    let body = html! {
        form.inline.search method="get" action="/customers" role="search" {
            div.field {
                label for="search-q" { (l.t("customers.search")) }
                input #search-q type="search" name="q" value=(q_value)
                    placeholder=(l.t("customers.search_hint"));
                @if let Some(e) = error_for(search_state, "search", "q") {
                    span.error role="alert" { (e) }
                }
            }
            div.field {
                label for="search-stage" { (l.t("col.stage")) }
                select #search-stage name="stage" {
                    @for (value, text) in &stages {
                        @if *value == stage_value {
                            option value=(value) selected { (text) }
                        } @else {
                            option value=(value) { (text) }
                        }
                    }
                }
            }
            button type="submit" { (l.t("customers.search")) }
        }
        @if let Some(total) = list.total {
            p.count { (l.f("customers.found", &[("n", &total)])) }
        }
        @if list.rows.is_empty() {
            p.empty { (l.t("customers.none")) }
        } @else {
            table.customers {
                thead { tr {
                    th { (l.t("col.name")) } th { (l.t("col.stage")) }
                    th { (l.t("col.last_purchase")) } th.num { (l.t("col.spent")) }
                } }
                tbody {
                    @for row in &list.rows {
                        @let c = &row.customer;
                        tr {
                            td { a href=(format!("/customers/{}", c.id())) { bdi { (c.name()) } } }
                            td data-stage=(c.stage().as_str()) { (stage_label(l, c.stage())) }
                            td { (row.last_purchase.map(|d| d.to_string()).unwrap_or_default()) }
                            td.num { (row.spent) }
                        }
                    }
                }
            }
        }
        nav.pages {
            @if let Some(p) = &list.previous { a rel="prev" href=(p) { (l.t("customers.previous")) } }
            @if let Some(n) = &list.next { a rel="next" href=(n) { (l.t("customers.next")) } }
        }
        section.add {
            h2 { (l.t("customers.add")) }
            form #add-customer method="post" action="/customers" {
                (field(add_state, "add", "name", l.t("field.name"), "text", ""))
                (field(add_state, "add", "email", &format!("{} {}", l.t("field.email"), l.t("field.optional")), "email", ""))
                button type="submit" { (l.t("customers.add_button")) }
            }
        }
    };
    frame(ctx, l.t("customers.title"), body)
}

/// The data of a new or edited customer from a form: `name` and `email`.
fn customer_fields(
    form: &str,
    values: &HashMap<String, String>,
    base: Option<CustomerData>,
) -> Result<CustomerData, FormState> {
    let fields = Fields::new(form, values);
    let name = fields.required("name", PersonName::parse)?;
    let email = fields.optional("email", Email::parse)?;
    let mut data = base.unwrap_or_else(|| CustomerData::new(name.clone()));
    data.name = name;
    data.email = email;
    Ok(data)
}

/// The field a store's refusal of a customer's data belongs to.
fn customer_error_field(e: &StoreError) -> &'static str {
    let text = e.to_string();
    if text.contains("email") {
        "email"
    } else {
        "name"
    }
}

/// `POST /customers` (`name`, `email`): 303 to the new customer's page.
pub async fn add_customer(
    State(st): State<AppState>,
    ctx: Ctx,
    Form(values): Form<HashMap<String, String>>,
) -> Response {
    let data = match customer_fields("add", &values, None) {
        Ok(d) => d,
        Err(state) => return add_refused(&st, &ctx, state).await,
    };
    let now = st.now();
    let books = st.inner.books.clone();
    let created = blocking(move || Ok(books.create_customer(NewCustomer::new(data, now)))).await;
    match created {
        Ok(Ok(c)) => {
            st.after_write().await;
            Redirect::to(&format!("/customers/{}", c.id())).into_response()
        }
        Ok(Err(e)) => {
            let field = customer_error_field(&e);
            let text = e.to_string();
            match Failure::from(e) {
                Failure::Invalid(_) => {
                    add_refused(&st, &ctx, FormState::new("add", field, text, &values)).await
                }
                f => failure(&ctx, f),
            }
        }
        Err(f) => failure(&ctx, f),
    }
}

/// The customer list with the add form's message: 422.
async fn add_refused(st: &AppState, ctx: &Ctx, state: FormState) -> Response {
    let q = HashMap::new();
    match load_list(st, &q).await {
        Ok(list) => respond(
            StatusCode::UNPROCESSABLE_ENTITY,
            customers_page(ctx, &q, &list, Some(&state)),
        ),
        Err(f) => failure(ctx, f),
    }
}

// ---------------------------------------------------------------------------------
// One customer

/// A version of a customer's stored record: what the edit form was filled from. A save
/// whose version is not the stored one's was made on an older page.
fn version_of(c: &Customer) -> String {
    use std::hash::{Hash as _, Hasher as _};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    format!("{c:?}").hash(&mut h);
    format!("{:016x}", h.finish())
}

fn parse_id(raw: &str) -> Option<u64> {
    raw.strip_prefix('#').unwrap_or(raw).parse().ok()
}

/// What an automation rule did for a customer: the audit line of the timeline.
pub(crate) struct Audit {
    at: DateTime<Utc>,
    rule: String,
    trigger: String,
    occurrence: String,
    task: Option<TaskId>,
}

/// The rules' firings by customer, as the timeline shows them.
pub(crate) type AuditBook = HashMap<CustomerId, Vec<Audit>>;

/// A customer's page as loaded: the page, the zone and currency, and the rules'
/// firings (by customer).
type Loaded = (
    CustomerPage,
    BusinessZone,
    Currency,
    Arc<AuditBook>,
    CustomerId,
    Extra,
);

/// The customer page's sections of other modules: the products recommended for the
/// customer, their purchases with lines, their participations and the survey
/// templates to answer.
struct Extra {
    recs: Vec<solocrm_app::catalogue::Recommended>,
    participations: Vec<solocrm_core::participation::Participation>,
    lines: Vec<(
        solocrm_core::Purchase,
        Vec<solocrm_core::product::PurchaseLine>,
    )>,
    templates: Vec<solocrm_core::questionnaire::SurveyTemplate>,
}

/// Every firing, by customer. The port has no per-customer look-up of firings, so all
/// are read; the result is kept while the outbox has no new event ([`crate::kept`]).
fn audit_book(r: &solocrm_core::Reader<'_>) -> Result<AuditBook, StoreError> {
    let triggers: HashMap<RuleName, String> = r
        .rules()?
        .into_iter()
        .map(|x| (x.rule.name().clone(), x.rule.trigger().to_string()))
        .collect();
    let mut book: AuditBook = HashMap::new();
    for f in r.firings()? {
        book.entry(f.customer).or_default().push(Audit {
            at: f.at,
            trigger: triggers.get(&f.rule).cloned().unwrap_or_default(),
            rule: f.rule.to_string(),
            occurrence: f.occurrence.to_string(),
            task: f.task,
        });
    }
    Ok(book)
}

/// The customer page and its other modules' sections, in one job on the store (one
/// place in its queue per load).
async fn load_customer(st: &AppState, id: u64) -> Result<Loaded, Failure> {
    let inner = st.inner.clone();
    blocking(move || {
        let customer = CustomerId::new(id);
        let (page, zone, currency, audit) = inner.books.read(|r| {
            let page = CustomerPage::load(&r, customer)?;
            let audit = inner.audit.get(&r, &(), || audit_book(&r))?;
            Ok((page, r.time_zone()?, r.currency(), audit))
        })?;
        let extra = load_extra(&inner, customer)?;
        Ok((page, zone, currency, audit, customer, extra))
    })
    .await
}

/// `GET /customers/{id}`.
pub async fn customer(State(st): State<AppState>, ctx: Ctx, Path(raw): Path<String>) -> Response {
    show_customer(&st, &ctx, &raw, StatusCode::OK, None).await
}

async fn show_customer(
    st: &AppState,
    ctx: &Ctx,
    raw: &str,
    status: StatusCode,
    state: Option<&FormState>,
) -> Response {
    let missing = || Failure::NotFound(ctx.lang.f("error.no_customer", &[("id", &raw.to_owned())]));
    let Some(id) = parse_id(raw) else {
        return failure(ctx, missing());
    };
    match load_customer(st, id).await {
        Ok((page, zone, currency, audit, customer, extra)) => {
            let audit = audit.get(&customer).map_or(&[][..], Vec::as_slice);
            let erased = page.export.customer.is_erased();
            let extra = extra_sections(ctx.lang, customer, zone, erased, state, &extra);
            respond(
                status,
                customer_page(ctx, &page, audit, zone, currency, state, &extra),
            )
        }
        Err(Failure::NotFound(_)) => failure(ctx, missing()),
        Err(f) => failure(ctx, f),
    }
}

/// Reads the customer page's [`Extra`] sections. The bought-together index is kept
/// until the next write ([`crate::kept`]); the catalogue is read as it stands.
fn load_extra(inner: &crate::Inner, customer: CustomerId) -> Result<Extra, Failure> {
    let books = &inner.books;
    let (index, products) = books.crm().read(|r| {
        let index = inner.co_purchase.get(&r, &(), || {
            solocrm_app::catalogue::RecommendIndex::build(&r)
        })?;
        Ok((index, r.products()?))
    })?;
    Ok(Extra {
        recs: index.recommend(&products, customer, catalogue::RECOMMENDED),
        participations: books.participations(Some(customer))?,
        lines: purchase_lines::load(books, customer)?,
        templates: books.survey_templates()?,
    })
}

/// The customer page's sections of other modules, with the form that records a
/// participation.
fn extra_sections(
    l: Lang,
    customer: CustomerId,
    zone: BusinessZone,
    erased: bool,
    state: Option<&FormState>,
    extra: &Extra,
) -> Markup {
    html! {
        (purchase_lines::section(l, zone, &extra.lines))
        (catalogue::recommended(l, &extra.recs))
        (surveys::participations(l, zone, &extra.participations, customer, erased, state))
        (survey_forms::chooser(l, customer, &extra.templates, erased))
    }
}

/// One line of the timeline.
struct Event {
    at: DateTime<Utc>,
    kind: &'static str,
    what: String,
    amount: Option<Money>,
}

/// Which rule, on which trigger and occurrence, in words.
fn audit_words(l: Lang, a: &Audit) -> String {
    let args: [(&str, &dyn std::fmt::Display); 3] = [
        ("rule", &a.rule),
        ("trigger", &a.trigger),
        ("occurrence", &a.occurrence),
    ];
    l.f("timeline.by_rule", &args)
}

fn timeline(l: Lang, page: &CustomerPage, audit: &[Audit]) -> Vec<Event> {
    let e = &page.export;
    let by_task: HashMap<TaskId, &Audit> = audit
        .iter()
        .filter_map(|a| a.task.map(|t| (t, a)))
        .collect();
    let mut events = Vec::new();
    for i in e.interactions.iter().filter(|i| !i.is_void()) {
        events.push(Event {
            at: i.at(),
            kind: "kind.interaction",
            what: format!(
                "{} · {} · {}",
                l.label("channel", i.channel().as_str()),
                l.label("direction", i.direction().as_str()),
                i.summary()
            ),
            amount: None,
        });
    }
    for p in e.purchases.iter().filter(|p| !p.is_void()) {
        events.push(Event {
            at: p.at(),
            kind: "kind.purchase",
            what: p.description().map(ToString::to_string).unwrap_or_default(),
            amount: Some(p.amount()),
        });
    }
    for r in &e.refunds {
        events.push(Event {
            at: r.at(),
            kind: "kind.refund",
            what: r.reason().map(ToString::to_string).unwrap_or_default(),
            amount: Some(r.amount()),
        });
    }
    // A voided answer stays on the timeline, marked (it counts in no score).
    for s in &e.surveys {
        events.push(Event {
            at: s.at(),
            kind: "kind.survey",
            what: format!(
                "{} {}{}{}",
                s.score().kind(),
                s.score().value(),
                s.comment().map(|c| format!(" · {c}")).unwrap_or_default(),
                if s.is_void() {
                    format!(" · {}", l.t("void.mark"))
                } else {
                    String::new()
                }
            ),
            amount: None,
        });
    }
    // A voided sheet stays on the timeline too, marked (ADR 0050).
    for s in &e.survey_sheets {
        events.push(Event {
            at: s.at,
            kind: "kind.sheet",
            what: format!(
                "{}{}",
                s.template,
                if s.is_void() {
                    format!(" · {}", l.t("void.mark"))
                } else {
                    String::new()
                }
            ),
            amount: None,
        });
    }
    for r in &e.requests {
        events.push(Event {
            at: r.opened_at(),
            kind: "kind.request",
            what: format!("{} · {} · {}", r.kind(), r.subject(), r.status()),
            amount: None,
        });
    }
    for d in &e.deals {
        events.push(Event {
            at: d.created_at(),
            kind: "kind.deal",
            what: format!("{} · {}", d.title(), deal_label(l, d.stage())),
            amount: Some(d.value()),
        });
    }
    for t in &e.tasks {
        let by = by_task
            .get(&t.id())
            .map(|a| format!(" · {}", audit_words(l, a)))
            .unwrap_or_default();
        events.push(Event {
            at: t.created_at(),
            kind: "kind.task",
            what: format!(
                "{} · {} · {}{by}",
                l.label("task", t.kind().as_str()),
                t.title(),
                t.due()
            ),
            amount: None,
        });
    }
    // A firing that made no task (a stage move, a tag, a note) has a line of its own.
    for a in audit.iter().filter(|a| a.task.is_none()) {
        events.push(Event {
            at: a.at,
            kind: "kind.automation",
            what: audit_words(l, a),
            amount: None,
        });
    }
    for s in &e.stage_history {
        events.push(Event {
            at: s.at,
            kind: "kind.stage",
            what: format!("{} → {}", stage_label(l, s.from), stage_label(l, s.to)),
            amount: None,
        });
    }
    events.sort_by_key(|e| std::cmp::Reverse(e.at));
    events
}

fn customer_page(
    ctx: &Ctx,
    page: &CustomerPage,
    audit: &[Audit],
    zone: BusinessZone,
    currency: Currency,
    state: Option<&FormState>,
    extra: &Markup,
) -> Markup {
    let l = ctx.lang;
    let c = &page.export.customer;
    let id = c.id();
    let d = c.data();
    let title = c.name().to_string();
    let tags: Vec<String> = c.tags().iter().map(|t| t.as_str().to_owned()).collect();
    let channels: Vec<(&'static str, &'static str)> = Channel::ALL
        .iter()
        .map(|ch| (ch.as_str(), l.label("channel", ch.as_str())))
        .collect();
    let directions: Vec<(&'static str, &'static str)> = Direction::ALL
        .iter()
        .map(|x| (x.as_str(), l.label("direction", x.as_str())))
        .collect();
    let moves: Vec<(&'static str, &'static str)> = c
        .stage()
        .successors()
        .iter()
        .map(|s| (s.as_str(), stage_label(l, *s)))
        .collect();
    let events = timeline(l, page, audit);
    let open_tasks: Vec<&solocrm_core::Task> =
        page.export.tasks.iter().filter(|t| !t.is_done()).collect();
    let open_requests: Vec<&solocrm_core::ServiceRequest> = page
        .export
        .requests
        .iter()
        .filter(|r| r.is_open())
        .collect();
    let steps: Vec<(&'static str, &'static str)> =
        [RequestEventKind::Responded, RequestEventKind::Resolved]
            .iter()
            .map(|k| (k.as_str(), l.label("rstep", k.as_str())))
            .collect();
    let survey_kinds: Vec<(&'static str, &'static str)> = SurveyKind::ALL
        .iter()
        .map(|k| (k.as_str(), l.label("skind", k.as_str())))
        .collect();
    let request_kinds: Vec<(&'static str, &'static str)> = RequestKind::ALL
        .iter()
        .map(|k| (k.as_str(), l.label("rkind", k.as_str())))
        .collect();
    let points_kinds: Vec<(&'static str, &'static str)> = PointsKind::ALL
        .iter()
        .map(|k| (k.as_str(), l.label("pkind", k.as_str())))
        .collect();
    let decisions = [
        ("grant", l.t("consent.grant")),
        ("revoke", l.t("consent.revoke")),
    ];
    let task_kinds: Vec<(&'static str, &'static str)> = TaskKind::ALL
        .iter()
        .map(|k| (k.as_str(), l.label("task", k.as_str())))
        .collect();
    let conflict = state.filter(|s| s.form == "edit" && s.field == "version");
    let body = html! {
        @if let Some(s) = conflict {
            p.message.conflict role="alert" { (s.message) }
        }
        section.profile {
            h2 { (l.t("customer.profile")) }
            dl {
                div { dt { (l.t("customer.stage")) } dd #stage data-stage=(c.stage().as_str()) { (stage_label(l, c.stage())) } }
                @if let Some(e) = c.email() { div { dt { (l.t("field.email")) } dd { (e) } } }
                @if let Some(p) = c.phone() { div { dt { (l.t("customer.phone")) } dd { (p) } } }
                @if let Some(co) = &d.company { div { dt { (l.t("customer.company")) } dd { (co) } } }
                @if let Some(city) = &c.profile().city { div { dt { (l.t("customer.city")) } dd { (city) } } }
                div { dt { (l.t("customer.since")) } dd { (day_of(zone, c.created_at())) } }
                div { dt { (l.t("customer.points")) } dd { (page.points_balance) } }
                div { dt { (l.t("customer.consent")) } dd #consents {
                    @for (purpose, granted, at) in consents(c) {
                        span.consent data-granted=(granted) {
                            (purpose) ": "
                            @if granted { (l.t("consent.granted")) } @else { (l.t("consent.revoked")) }
                            " (" (day_of(zone, at)) ")"
                        }
                        " "
                    }
                } }
                div { dt { (l.t("customer.tags")) } dd.tags {
                    @for t in &tags {
                        form.inline.tag method="post" action=(format!("/customers/{id}/tags")) {
                            span.tag { (t) }
                            input type="hidden" name="tag" value=(t);
                            input type="hidden" name="action" value="remove";
                            button type="submit" aria-label=(l.f("form.untag", &[("tag", t)])) { "×" }
                        }
                        " "
                    }
                } }
            }
            form #form-tags method="post" action=(format!("/customers/{id}/tags")) {
                (field(state, "tags", "tag", l.t("form.tag"), "text", ""))
                input type="hidden" name="action" value="add";
                button type="submit" { (l.t("form.add_tag")) }
            }
        }
        section.open-work {
            h2 { (l.t("customer.open_tasks")) }
            @if open_tasks.is_empty() {
                p.empty { (l.t("customer.nothing_yet")) }
            } @else {
                table #open-tasks {
                    tbody {
                        @for t in &open_tasks {
                            tr {
                                td { (t.due()) }
                                td { bdi { (t.title()) } }
                                td { (task_buttons(l, t.id(), false, state)) }
                            }
                        }
                    }
                }
            }
            h2 { (l.t("customer.open_requests")) }
            @if open_requests.is_empty() {
                p.empty { (l.t("customer.nothing_yet")) }
            } @else {
                table #open-requests {
                    tbody {
                        @for r in &open_requests {
                            @let form = format!("request-{}", r.id());
                            tr {
                                td { (day_of(zone, r.opened_at())) }
                                td { (l.label("rkind", r.kind().as_str())) }
                                td { bdi { (r.subject()) } }
                                td { (r.status()) }
                                td {
                                    form #(form) method="post" action=(format!("/requests/{}/step", r.id())) {
                                        (select(state, &form, "step", l.t("form.step"), &steps))
                                        button type="submit" { (l.t("form.change")) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        section.history {
            h2 { (l.t("customer.history")) }
            @if page.export.stage_history.is_empty() {
                p.empty { (l.t("customer.nothing_yet")) }
            } @else {
                table {
                    thead { tr { th { (l.t("col.date")) } th { (l.t("col.from")) } th { (l.t("col.to")) } th { (l.t("col.why")) } } }
                    tbody {
                        @for s in page.export.stage_history.iter().rev() {
                            tr {
                                td { (day_of(zone, s.at)) }
                                td { (stage_label(l, s.from)) }
                                td { (stage_label(l, s.to)) }
                                td { @match &s.reason {
                                    StageReason::Manual { note: Some(n) } => (n),
                                    StageReason::Manual { note: None } => (l.t("customer.manual")),
                                    StageReason::Rule { rule } => (l.f("customer.saved_by_policy", &[("rule", rule)])),
                                } }
                            }
                        }
                    }
                }
            }
        }
        section.timeline {
            h2 { (l.t("customer.timeline")) }
            @if events.is_empty() {
                p.empty { (l.t("customer.nothing_yet")) }
            } @else {
                table #timeline {
                    thead { tr { th { (l.t("col.date")) } th { (l.t("col.kind")) } th { (l.t("col.what")) } th.num { (l.t("col.amount")) } } }
                    tbody {
                        @for e in &events {
                            tr data-kind=(e.kind.trim_start_matches("kind.")) {
                                td { (day_of(zone, e.at)) }
                                td { (l.t(e.kind)) }
                                td { bdi { (e.what) } }
                                td.num { (e.amount.map(|m| m.to_string()).unwrap_or_default()) }
                            }
                        }
                    }
                }
            }
        }
        (survey_void::answers(l, zone, page, state))
        (survey_void::sheets(l, zone, page, state))
        (extra)
        div.forms {
            form #form-interaction method="post" action=(format!("/customers/{id}/interactions")) {
                h2 { (l.t("form.interaction")) }
                (select(state, "interaction", "channel", l.t("form.channel"), &channels))
                (select(state, "interaction", "direction", l.t("form.direction"), &directions))
                (field(state, "interaction", "summary", l.t("form.summary"), "text", ""))
                button type="submit" { (l.t("form.log")) }
            }
            form #form-purchase method="post" action=(format!("/customers/{id}/purchases")) {
                h2 { (l.t("form.purchase")) }
                (field(state, "purchase", "amount", &format!("{} ({}) {}", l.t("form.amount"), currency, l.t("lines.amount_hint")), "text", ""))
                (purchase_lines::lines_box(l, state))
                (field(state, "purchase", "description", &format!("{} {}", l.t("form.description"), l.t("field.optional")), "text", ""))
                (field(state, "purchase", "date", &format!("{} ({})", l.t("form.date"), l.t("form.date_hint")), "date", ""))
                (field(state, "purchase", "coupon", &format!("{} {}", l.t("form.coupon"), l.t("field.optional")), "text", ""))
                button type="submit" { (l.t("form.record")) }
            }
            form #form-survey method="post" action=(format!("/customers/{id}/surveys")) {
                h2 { (l.t("form.survey")) }
                (select(state, "survey", "kind", l.t("form.survey_kind"), &survey_kinds))
                (field(state, "survey", "score", l.t("form.score"), "number", ""))
                (field(state, "survey", "comment", &format!("{} {}", l.t("form.comment"), l.t("field.optional")), "text", ""))
                button type="submit" { (l.t("form.record")) }
            }
            form #form-request method="post" action=(format!("/customers/{id}/requests")) {
                h2 { (l.t("form.request")) }
                (select(state, "request", "kind", l.t("form.request_kind"), &request_kinds))
                (field(state, "request", "subject", l.t("form.subject"), "text", ""))
                (field(state, "request", "description", &format!("{} {}", l.t("form.description"), l.t("field.optional")), "text", ""))
                button type="submit" { (l.t("form.open")) }
            }
            form #form-points method="post" action=(format!("/customers/{id}/points")) {
                h2 { (l.t("form.points")) }
                (select(state, "points", "kind", l.t("form.points_kind"), &points_kinds))
                (field(state, "points", "points", l.t("form.points_count"), "number", ""))
                (field(state, "points", "reason", &format!("{} ({})", l.t("form.reason"), l.t("form.reason_hint")), "text", ""))
                button type="submit" { (l.t("form.post")) }
            }
            form #form-consent method="post" action=(format!("/customers/{id}/consent")) {
                h2 { (l.t("form.consent")) }
                (field(state, "consent", "purpose", l.t("form.purpose"), "text", ""))
                (select(state, "consent", "decision", l.t("form.decision"), &decisions))
                (field(state, "consent", "source", &format!("{} {}", l.t("form.source"), l.t("field.optional")), "text", ""))
                button type="submit" { (l.t("form.record")) }
            }
            form #form-task method="post" action=(format!("/customers/{id}/tasks")) {
                h2 { (l.t("form.task")) }
                (field(state, "task", "title", l.t("form.title"), "text", ""))
                (select(state, "task", "kind", l.t("form.task_kind"), &task_kinds))
                (field(state, "task", "due", &format!("{} ({})", l.t("form.due"), l.t("form.date_hint")), "date", ""))
                button type="submit" { (l.t("form.add")) }
            }
            form #form-stage method="post" action=(format!("/customers/{id}/stage")) {
                h2 { (l.t("form.stage")) }
                @if moves.is_empty() {
                    p.empty { (l.t("form.no_moves")) }
                } @else {
                    (select(state, "stage", "stage", l.t("form.to_stage"), &moves))
                    (field(state, "stage", "note", &format!("{} {}", l.t("form.note"), l.t("field.optional")), "text", ""))
                    button type="submit" { (l.t("form.change")) }
                }
            }
            form #form-edit method="post" action=(format!("/customers/{id}/edit")) {
                h2 { (l.t("customer.edit")) }
                input type="hidden" name="version" value=(version_of(c));
                (field(state, "edit", "name", l.t("field.name"), "text", c.name().as_ref()))
                (field(state, "edit", "email", &format!("{} {}", l.t("field.email"), l.t("field.optional")), "email", &c.email().map(ToString::to_string).unwrap_or_default()))
                button type="submit" { (l.t("customer.save")) }
            }
        }
        (needs::section(l, page, zone, state))
        (privacy::section(l, c, state))
    };
    frame(ctx, &title, body)
}

/// A customer form's outcome: 303 back to the page, or 422 with the page and message.
async fn after_customer_form(
    st: &AppState,
    ctx: &Ctx,
    raw: &str,
    form: &'static str,
    field_of_store_error: &'static str,
    values: &HashMap<String, String>,
    result: Result<Result<(), StoreError>, Failure>,
) -> Response {
    match result {
        Ok(Ok(())) => {
            st.after_write().await;
            Redirect::to(&format!("/customers/{raw}")).into_response()
        }
        Ok(Err(e)) => match Failure::from(e) {
            Failure::Invalid(m) => {
                let state = FormState::new(form, field_of_store_error, m, values);
                show_customer(st, ctx, raw, StatusCode::UNPROCESSABLE_ENTITY, Some(&state)).await
            }
            Failure::NotFound(_) => show_customer(st, ctx, raw, StatusCode::NOT_FOUND, None).await,
            f => failure(ctx, f),
        },
        Err(f) => failure(ctx, f),
    }
}

/// The 422 of a form whose field did not parse.
async fn refused(st: &AppState, ctx: &Ctx, raw: &str, state: FormState) -> Response {
    show_customer(st, ctx, raw, StatusCode::UNPROCESSABLE_ENTITY, Some(&state)).await
}

/// `POST /customers/{id}/interactions` (`channel`, `direction`, `summary`).
pub async fn log_interaction(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(raw): Path<String>,
    Form(values): Form<HashMap<String, String>>,
) -> Response {
    let Some(id) = parse_id(&raw) else {
        return show_customer(&st, &ctx, &raw, StatusCode::NOT_FOUND, None).await;
    };
    let f = "interaction";
    let fields = Fields::new(f, &values);
    let parsed = (|| {
        Ok::<_, FormState>((
            fields.required("channel", Channel::parse)?,
            fields.required("direction", Direction::parse)?,
            fields.required("summary", |s| match FreeText::parse(s) {
                Ok(t) if t.as_str().is_empty() => Err("the summary is empty".to_owned()),
                Ok(t) => Ok(t),
                Err(e) => Err(e.to_string()),
            })?,
        ))
    })();
    let (channel, direction, summary) = match parsed {
        Ok(p) => p,
        Err(state) => return refused(&st, &ctx, &raw, state).await,
    };
    let now = st.now();
    let books = st.inner.books.clone();
    let result = blocking(move || {
        Ok(books
            .log_interaction(NewInteraction {
                customer: CustomerId::new(id),
                channel,
                direction,
                at: now,
                summary,
                sentiment: None,
            })
            .map(|_| ()))
    })
    .await;
    after_customer_form(&st, &ctx, &raw, f, "summary", &values, result).await
}

/// `POST /customers/{id}/purchases` (`amount`, `description`, `date`, `coupon`). With
/// a coupon the amount is the total before the discount, and the purchase is
/// recorded with the offer redeemed, all or nothing (`purchase add --coupon`); an
/// unknown or refused coupon is a 422 beside the field.
pub async fn record_purchase(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(raw): Path<String>,
    Form(values): Form<HashMap<String, String>>,
) -> Response {
    use solocrm_core::offer::OfferCode;
    let Some(id) = parse_id(&raw) else {
        return show_customer(&st, &ctx, &raw, StatusCode::NOT_FOUND, None).await;
    };
    let f = "purchase";
    let books = st.inner.books.clone();
    let currency = books.base_currency();
    let fields = Fields::new(f, &values);
    let recording = purchase_lines::recording(&values);
    let with_lines = matches!(recording, purchase_lines::Recording::Lines(_));
    let parsed = (|| {
        let amount = if with_lines {
            fields.optional("amount", |a| Money::parse(a, currency))?
        } else {
            Some(fields.required("amount", |a| Money::parse(a, currency))?)
        };
        let coupon = fields.optional("coupon", OfferCode::parse)?;
        if with_lines && coupon.is_some() {
            return Err(fields.refuse("coupon", ctx.lang.t("lines.no_coupon")));
        }
        Ok::<_, FormState>((
            amount,
            fields.optional("description", FreeText::parse)?,
            coupon,
        ))
    })();
    let (amount, description, coupon) = match parsed {
        Ok(p) => p,
        Err(state) => return refused(&st, &ctx, &raw, state).await,
    };
    let date = non_empty(&values, "date");
    let now = st.now();
    let l = ctx.lang;
    // The inner `Err` is a refusal beside a field: the date, or the coupon.
    let result = blocking(move || {
        let zone = books.time_zone()?;
        let at = match date {
            None => now,
            Some(d) => match solocrm_app::values::date(&d) {
                Ok(day) if day == zone.date_of(now) => now,
                Ok(day) => zone.start_of(day) + chrono::Duration::hours(12),
                Err(e) => return Ok(Err(Err(("date", e.to_string())))),
            },
        };
        let new_purchase = move |amount| {
            let mut new = NewPurchase::new(CustomerId::new(id), at, amount);
            new.description = description;
            new
        };
        let (new, code) = match (recording, amount, coupon) {
            (purchase_lines::Recording::Lines(text), amount, _) => {
                return Ok(purchase_lines::record_with_lines(
                    &books,
                    l,
                    &text,
                    amount,
                    new_purchase,
                )
                .map_err(|r| match r {
                    Ok(beside) => Err(beside),
                    Err(e) => Ok(e),
                }));
            }
            (purchase_lines::Recording::Plain, Some(amount), coupon) => {
                (new_purchase(amount), coupon)
            }
            (purchase_lines::Recording::Plain, None, _) => {
                return Err(Failure::Internal("a purchase without its amount".into()));
            }
        };
        let Some(code) = code else {
            return Ok(books.record_purchase(new).map(|_| ()).map_err(Ok));
        };
        match books.record_purchase_with_offer(new, &code) {
            Ok(_) => Ok(Ok(())),
            Err(StoreError::NotFound {
                entity: solocrm_core::Entity::Offer,
                ..
            }) => Ok(Err(Err((
                "coupon",
                l.f("offers.unknown", &[("code", &code)]),
            )))),
            Err(e) if e.kind() == StoreErrorKind::Conflict => {
                Ok(Err(Err(("coupon", e.to_string()))))
            }
            Err(e) => Ok(Err(Ok(e))),
        }
    })
    .await;
    let result = match result {
        Ok(Err(Err((field, message)))) => {
            return refused(&st, &ctx, &raw, fields.refuse(field, message)).await;
        }
        Ok(Err(Ok(e))) => Ok(Err(e)),
        Ok(Ok(())) => Ok(Ok(())),
        Err(e) => Err(e),
    };
    after_customer_form(&st, &ctx, &raw, f, "amount", &values, result).await
}

/// `POST /customers/{id}/stage` (`stage`, `note`): allowed moves only.
pub async fn change_stage(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(raw): Path<String>,
    Form(values): Form<HashMap<String, String>>,
) -> Response {
    let Some(id) = parse_id(&raw) else {
        return show_customer(&st, &ctx, &raw, StatusCode::NOT_FOUND, None).await;
    };
    let f = "stage";
    let fields = Fields::new(f, &values);
    let parsed = (|| {
        Ok::<_, FormState>((
            fields.required("stage", LifecycleStage::parse)?,
            fields.optional("note", Label::parse)?,
        ))
    })();
    let (to, note) = match parsed {
        Ok(p) => p,
        Err(state) => return refused(&st, &ctx, &raw, state).await,
    };
    let now = st.now();
    let books = st.inner.books.clone();
    let result = blocking(move || {
        Ok(books
            .change_stage(CustomerId::new(id), to, now, StageReason::Manual { note })
            .map(|_| ()))
    })
    .await;
    after_customer_form(&st, &ctx, &raw, f, "stage", &values, result).await
}

/// The refusal of an edit made on an older version of the customer.
#[derive(Debug, thiserror::Error)]
#[error("the customer changed since the form was loaded")]
struct Stale;

/// `POST /customers/{id}/edit` (`version`, `name`, `email`): refused with a conflict
/// message if the customer changed since the form was loaded.
pub async fn edit_customer(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(raw): Path<String>,
    Form(values): Form<HashMap<String, String>>,
) -> Response {
    let Some(id) = parse_id(&raw) else {
        return show_customer(&st, &ctx, &raw, StatusCode::NOT_FOUND, None).await;
    };
    let version = values.get("version").cloned().unwrap_or_default();
    let parsed = match customer_fields("edit", &values, None) {
        Ok(d) => d,
        Err(state) => return refused(&st, &ctx, &raw, state).await,
    };
    let books = st.inner.books.clone();
    let result = blocking(move || {
        Ok(books.write(|w| {
            let c = w.reader().customer(CustomerId::new(id))?;
            if version_of(&c) != version {
                return Err(StoreError::Aborted(Box::new(Stale)));
            }
            let mut data = c.data().clone();
            data.name = parsed.name.clone();
            data.email = parsed.email.clone();
            w.update_customer(c.id(), data).map(|_| ())
        }))
    })
    .await;
    if let Ok(Err(StoreError::Aborted(e))) = &result
        && e.is::<Stale>()
    {
        let state = FormState::new("edit", "version", ctx.lang.t("error.conflict"), &values);
        return show_customer(&st, &ctx, &raw, StatusCode::CONFLICT, Some(&state)).await;
    }
    let field = match &result {
        Ok(Err(e)) => customer_error_field(e),
        _ => "name",
    };
    after_customer_form(&st, &ctx, &raw, "edit", field, &values, result).await
}

// ---------------------------------------------------------------------------------
// Care and pipeline

/// `GET /care` (`days`, default 14, at most 366).
pub async fn care(
    State(st): State<AppState>,
    ctx: Ctx,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let days: u32 = non_empty(&q, "days")
        .and_then(|d| d.parse().ok())
        .filter(|d| (1..=366).contains(d))
        .unwrap_or(CARE_DAYS);
    let page: usize = non_empty(&q, "page")
        .and_then(|p| p.parse().ok())
        .filter(|p| *p >= 1)
        .unwrap_or(1);
    show_care(&st, &ctx, days, page, StatusCode::OK, None).await
}

/// Page `page` (from 1; one past the last shows the last) of the care reminders of
/// the next `days` days, [`CARE_PAGE`] to a page; `state` is a refused task button's.
async fn show_care(
    st: &AppState,
    ctx: &Ctx,
    days: u32,
    page: usize,
    status: StatusCode,
    state: Option<&FormState>,
) -> Response {
    let l = ctx.lang;
    let now = st.now();
    let inner = st.inner.clone();
    let loaded = blocking(move || {
        Ok(inner.books.read(|r| {
            let zone = r.time_zone()?;
            let key = (zone.date_of(now), days, zone.name(), r.holiday_calendar()?);
            inner.care.get(&r, &key, || {
                CareList::load(&r, now, days, &CareConfig::default())
            })
        })?)
    })
    .await;
    let list = match loaded {
        Ok(v) => v,
        Err(f) => return failure(ctx, f),
    };
    let body = html! {
        p { (l.f("care.window", &[("days", &list.days), ("day", &list.as_of)])) }
        form.inline method="get" action="/care" {
            div.field {
                label for="care-days" { (l.t("care.days")) }
                input #care-days type="number" name="days" min="1" max="366" value=(days);
            }
            button type="submit" { (l.t("dash.show")) }
        }
        @let total = list.entries.len();
        @let pages = total.div_ceil(CARE_PAGE).max(1);
        // A refused task button's message shows beside its task: on that task's page.
        @let page = state
            .and_then(|s| list.entries.iter().position(|e| matches!(
                &e.item.reason,
                CareReason::Task { task, .. } if task_form(*task) == s.form
            )))
            .map_or(page, |i| i / CARE_PAGE + 1)
            .min(pages);
        @let first = (page - 1) * CARE_PAGE;
        @let shown = &list.entries[first..total.min(first + CARE_PAGE)];
        @if pages > 1 {
            p.range { (l.f("care.range", &[
                ("first", &(first + 1)),
                ("last", &(first + shown.len())),
                ("total", &total),
            ])) }
        }
        (care_table(l, shown, true, state))
        @if pages > 1 {
            nav.pages {
                @if page > 1 {
                    a rel="prev" href=(format!("/care?days={days}&page={}", page - 1)) { (l.t("customers.previous")) }
                }
                @if page < pages {
                    a rel="next" href=(format!("/care?days={days}&page={}", page + 1)) { (l.t("customers.next")) }
                }
            }
        }
    };
    respond(status, frame(ctx, l.t("care.title"), body))
}

async fn load_board(st: &AppState) -> Result<PipelineBoard, Failure> {
    let now = st.now();
    let books = st.inner.books.clone();
    blocking(move || {
        Ok(books
            .read(|r| PipelineBoard::load(&r, now, &ReportConfig::default().stage_probabilities))?)
    })
    .await
}

/// `GET /pipeline`: the board of open deals.
pub async fn pipeline(State(st): State<AppState>, ctx: Ctx) -> Response {
    match load_board(&st).await {
        Ok(board) => respond(StatusCode::OK, pipeline_page(&ctx, &board, None)),
        Err(f) => failure(&ctx, f),
    }
}

fn pipeline_page(ctx: &Ctx, board: &PipelineBoard, state: Option<&FormState>) -> Markup {
    let l = ctx.lang;
    let empty = board.columns.iter().all(|c| c.cards.is_empty());
    let body = html! {
        p { (l.f("pipeline.as_of", &[("day", &board.as_of)])) }
        @if let Some(s) = state.filter(|s| !on_board(board, &s.form)) {
            p.message role="alert" { (s.message) }
        }
        @if empty { p.empty { (l.t("pipeline.empty")) } }
        div.board {
            @for col in &board.columns {
                section.column data-stage=(col.stage.as_str()) {
                    h2 { (deal_label(l, col.stage)) }
                    p.totals { (l.f("pipeline.column", &[
                        ("deals", &col.cards.len()),
                        ("total", &col.total),
                        ("weighted", &col.weighted),
                        ("probability", &(col.probability * Decimal::ONE_HUNDRED).normalize()),
                    ])) }
                    @for card in &col.cards {
                        @let form = format!("deal-{}", card.deal);
                        @let targets: Vec<(&'static str, &'static str)> = DealStage::ALL.iter()
                            .filter(|s| **s != col.stage)
                            .map(|s| (s.as_str(), deal_label(l, *s)))
                            .collect();
                        article.card #(form) data-deal=(card.deal) {
                            h3 { bdi { (card.title) } }
                            p { a href=(format!("/customers/{}", card.customer)) { bdi { (card.customer_name) } } }
                            p.value { (card.value) }
                            p.age { (l.f("pipeline.days", &[("n", &card.days_in_stage)])) }
                            form method="post" action=(format!("/deals/{}/move", card.deal)) {
                                (select(state, &form, "to", l.t("pipeline.move_to"), &targets))
                                button type="submit" { (l.t("pipeline.move")) }
                            }
                        }
                    }
                }
            }
        }
    };
    frame(ctx, l.t("pipeline.title"), body)
}

/// True if the card of form `form` (`deal-N`) is on the board.
fn on_board(board: &PipelineBoard, form: &str) -> bool {
    board
        .columns
        .iter()
        .flat_map(|c| &c.cards)
        .any(|card| format!("deal-{}", card.deal) == form)
}

/// `POST /deals/{id}/move` (`to`): 303 to the board, or 422 with the message on the
/// deal's card.
pub async fn move_deal(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(raw): Path<String>,
    Form(values): Form<HashMap<String, String>>,
) -> Response {
    let Some(id) = parse_id(&raw) else {
        return failure(&ctx, Failure::NotFound(format!("deal {raw} not found")));
    };
    let form = format!("deal-{id}");
    let to = DealStage::parse(values.get("to").map_or("", String::as_str));
    let outcome = match to {
        Err(e) => Err(Failure::Invalid(e.to_string())),
        Ok(to) => {
            let now = st.now();
            let books = st.inner.books.clone();
            match blocking(move || Ok(books.move_deal(DealId::new(id), to, now))).await {
                Ok(Ok(_)) => Ok(()),
                Ok(Err(e)) => Err(e.into()),
                Err(f) => Err(f),
            }
        }
    };
    match outcome {
        Ok(()) => {
            st.after_write().await;
            Redirect::to("/pipeline").into_response()
        }
        Err(Failure::Invalid(m)) => {
            let state = FormState::new(&form, "to", m, &values);
            match load_board(&st).await {
                Ok(board) => respond(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    pipeline_page(&ctx, &board, Some(&state)),
                ),
                Err(f) => failure(&ctx, f),
            }
        }
        Err(f) => failure(&ctx, f),
    }
}

// ---------------------------------------------------------------------------------
// Rules

/// Lines of the rule log a page shows, newest first.
const LOG_ROWS: usize = 100;

/// The rules page's content.
struct RulesView {
    rules: Vec<EffectiveRule>,
    /// The newest firings with the customer's name (`None` once erased or gone).
    log: Vec<(Firing, Option<String>)>,
    /// How many firings there are in all.
    total: usize,
}

async fn load_rules(st: &AppState) -> Result<RulesView, Failure> {
    let books = st.inner.books.clone();
    blocking(move || {
        Ok(books.read(|r| {
            let rules = r.rules()?;
            let mut firings = r.firings()?;
            let total = firings.len();
            firings.sort_by_key(|f| std::cmp::Reverse(f.at));
            firings.truncate(LOG_ROWS);
            let mut names: HashMap<CustomerId, Option<String>> = HashMap::new();
            let mut log = Vec::with_capacity(firings.len());
            for f in firings {
                let name = match names.get(&f.customer) {
                    Some(n) => n.clone(),
                    None => {
                        let n = r
                            .tx()
                            .customer(f.customer)?
                            .filter(|c| !c.is_erased())
                            .map(|c| c.name().to_string());
                        names.insert(f.customer, n.clone());
                        n
                    }
                };
                log.push((f, name));
            }
            Ok(RulesView { rules, log, total })
        })?)
    })
    .await
}

/// `GET /rules`: the rules, built-in and own, each with its on/off switch, and the log
/// of what they did (which rule, for whom, when, on which event or date).
pub async fn rules(State(st): State<AppState>, ctx: Ctx) -> Response {
    show_rules(&st, &ctx, StatusCode::OK, None).await
}

async fn show_rules(
    st: &AppState,
    ctx: &Ctx,
    status: StatusCode,
    message: Option<String>,
) -> Response {
    show_rules_page(st, ctx, status, message, None).await
}

/// The rules page again after its add form was refused (422), or as it is.
async fn show_rules_with(st: &AppState, ctx: &Ctx, state: Option<FormState>) -> Response {
    let status = if state.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    show_rules_page(st, ctx, status, None, state.as_ref()).await
}

async fn show_rules_page(
    st: &AppState,
    ctx: &Ctx,
    status: StatusCode,
    message: Option<String>,
    state: Option<&FormState>,
) -> Response {
    let view = match load_rules(st).await {
        Ok(v) => v,
        Err(f) => return failure(ctx, f),
    };
    let zone = match blocking({
        let books = st.inner.books.clone();
        move || Ok(books.time_zone()?)
    })
    .await
    {
        Ok(z) => z,
        Err(f) => return failure(ctx, f),
    };
    respond(
        status,
        rules_page(ctx, st, &view, zone, message.as_deref(), state),
    )
}

fn rules_page(
    ctx: &Ctx,
    st: &AppState,
    view: &RulesView,
    zone: BusinessZone,
    message: Option<&str>,
    state: Option<&FormState>,
) -> Markup {
    let l = ctx.lang;
    let yes = |b: bool| if b { l.t("rules.yes") } else { l.t("rules.no") };
    let body = html! {
        @if let Some(m) = message { p.message role="alert" { (m) } }
        @if !st.inner.runner.is_on() { p.message { (l.t("rules.runner_off")) } }
        table #rules {
            thead { tr {
                th { (l.t("rules.name")) } th { (l.t("rules.on")) } th { (l.t("rules.builtin")) }
                th { (l.t("rules.trigger")) } th { (l.t("rules.condition")) } th { (l.t("rules.actions")) } th {} th {}
            } }
            tbody {
                @for r in &view.rules {
                    @let name = r.rule.name().to_string();
                    @let actions: Vec<String> = r.rule.actions().iter().map(ToString::to_string).collect();
                    tr #(format!("rule-{name}")) data-enabled=(r.enabled) {
                        td { code { (name) } }
                        td { (yes(r.enabled)) }
                        td { (yes(r.builtin)) }
                        td { code { (r.rule.trigger()) } }
                        td { @if let Some(c) = r.rule.condition() { code { (c) } } }
                        td { (actions.join("; ")) }
                        td {
                            form method="post" action=(format!("/rules/{name}")) {
                                @if r.enabled {
                                    input type="hidden" name="enabled" value="off";
                                    button type="submit" { (l.t("rules.turn_off")) }
                                } @else {
                                    input type="hidden" name="enabled" value="on";
                                    button type="submit" { (l.t("rules.turn_on")) }
                                }
                            }
                        }
                        td.links { (rule_forms::row_links(l, r)) }
                    }
                }
            }
        }
        (rule_forms::add_form(l, state))
        h2 { (l.t("rules.log")) }
        @if view.log.is_empty() {
            p.empty { (l.t("rules.log_empty")) }
        } @else {
            p { (l.f("rules.log_shown", &[("shown", &view.log.len()), ("total", &view.total)])) }
            table #rule-log {
                thead { tr {
                    th { (l.t("col.date")) } th { (l.t("rules.name")) } th { (l.t("col.customer")) }
                    th { (l.t("rules.occurrence")) } th { (l.t("rules.task")) }
                } }
                tbody {
                    @for (f, name) in &view.log {
                        tr {
                            td { (day_of(zone, f.at)) }
                            td { code { (f.rule) } }
                            td { @match name {
                                Some(n) => a href=(format!("/customers/{}", f.customer)) { bdi { (n) } },
                                None => (f.customer),
                            } }
                            td { (f.occurrence) }
                            td { @if let Some(t) = f.task { (t) } }
                        }
                    }
                }
            }
        }
    };
    frame(ctx, l.t("rules.title"), body)
}

/// `POST /rules/{name}` (`enabled` = `on` | `off`): switches a rule; 303 to the rules
/// page, 404 for an unknown rule, 422 for a value that is neither.
pub async fn switch_rule(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(raw): Path<String>,
    Form(values): Form<HashMap<String, String>>,
) -> Response {
    let unknown = || Failure::NotFound(ctx.lang.f("rules.unknown", &[("name", &raw)]));
    let Ok(name) = RuleName::parse(&raw) else {
        return failure(&ctx, unknown());
    };
    let on = match values.get("enabled").map(|v| v.trim()) {
        Some("on") => true,
        Some("off") => false,
        _ => {
            let m = ctx.lang.t("rules.bad_switch").to_owned();
            return show_rules(&st, &ctx, StatusCode::UNPROCESSABLE_ENTITY, Some(m)).await;
        }
    };
    let books = st.inner.books.clone();
    let done = blocking(move || Ok(books.write(|w| w.set_rule_enabled(&name, on)))).await;
    match done {
        Ok(Ok(_)) => Redirect::to("/rules").into_response(),
        Ok(Err(e)) => match Failure::from(e) {
            Failure::NotFound(_) => failure(&ctx, unknown()),
            f => failure(&ctx, f),
        },
        Err(f) => failure(&ctx, f),
    }
}

// ---------------------------------------------------------------------------------
// The calendar feed

/// The feed's address as the browser reaches this server.
fn feed_url(headers: &HeaderMap, token: &str) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1");
    format!("http://{host}{}{token}/solocrm.ics", crate::FEED_PREFIX)
}

/// `GET /calendar`: the feed's address to subscribe to, and a button for a new one.
pub async fn calendar(State(st): State<AppState>, ctx: Ctx, headers: HeaderMap) -> Response {
    let l = ctx.lang;
    let body = match &st.inner.feed {
        None => html! { p.empty { (l.t("calendar.off")) } },
        Some(feed) => {
            let url = feed_url(&headers, &feed.token());
            html! {
                p { (l.t("calendar.explain")) }
                p { a #feed-url href=(url) { code { (url) } } }
                p { (l.t("calendar.private")) }
                form #form-feed method="post" action="/calendar/regenerate" {
                    button type="submit" { (l.t("calendar.regenerate")) }
                }
            }
        }
    };
    respond(StatusCode::OK, frame(&ctx, l.t("calendar.title"), body))
}

/// `POST /calendar/regenerate`: a new feed token; the old address stops working.
pub async fn regenerate_feed(State(st): State<AppState>, ctx: Ctx) -> Response {
    let Some(feed) = st.inner.feed.clone() else {
        return failure(
            &ctx,
            Failure::NotFound(ctx.lang.t("calendar.off").to_owned()),
        );
    };
    match blocking(move || {
        feed.regenerate()
            .map_err(|e| Failure::Internal(e.to_string()))
    })
    .await
    {
        Ok(_) => Redirect::to("/calendar").into_response(),
        Err(f) => failure(&ctx, f),
    }
}

/// `GET /feed/{token}/solocrm.ics`: the open tasks and the birthdays as iCalendar
/// (the `.ics` export's writer, so its UIDs are the export's: stable across
/// fetches). A wrong or absent token, or no feed, is 404 and reads nothing.
pub async fn feed(State(st): State<AppState>, Path(token): Path<String>) -> Response {
    let admitted = st.inner.feed.as_ref().is_some_and(|f| f.admits(&token));
    if !admitted {
        return (StatusCode::NOT_FOUND, "not found").into_response();
    }
    let now = st.now();
    let books = st.inner.books.clone();
    let text = blocking(move || {
        let book = books.book_id()?;
        Ok(books.read(|r| {
            let customers = r.all_customers()?;
            let tasks = r.tx().tasks(&TaskQuery {
                customer: None,
                due_until: None,
                include_done: false,
            })?;
            let today = r.time_zone()?.date_of(now);
            // The holidays kept with the books, dated, from today to a year ahead (as
            // `export calendar` gives them).
            let dated = r.holiday_calendar()?.occurrences_between(
                today,
                today
                    .checked_add_days(chrono::Days::new(365))
                    .unwrap_or(today),
            );
            Ok(write_calendar(&Calendar {
                book: &book,
                customers: &customers,
                tasks: &tasks,
                holidays: &[],
                dated_holidays: &dated,
                now,
                today,
            }))
        })?)
    })
    .await;
    match text {
        Ok(text) => (
            [(header::CONTENT_TYPE, "text/calendar; charset=utf-8")],
            text,
        )
            .into_response(),
        Err(Failure::Busy) => (StatusCode::SERVICE_UNAVAILABLE, "busy").into_response(),
        Err(f) => {
            if let Failure::Internal(detail) = &f {
                eprintln!("solocrm serve: calendar feed: {detail}");
            }
            (StatusCode::INTERNAL_SERVER_ERROR, "error").into_response()
        }
    }
}

// ---------------------------------------------------------------------------------
// More forms of the customer page: survey answers, service requests, tasks, tags

/// Where a task's button came from, to go back there: the care page or the customer's.
fn back_to_care(values: &HashMap<String, String>) -> bool {
    values.get("back").is_some_and(|b| b == "care")
}

/// `POST /customers/{id}/surveys` (`kind` = nps | csat | ces, `score`, `comment`).
pub async fn record_survey(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(raw): Path<String>,
    Form(values): Form<HashMap<String, String>>,
) -> Response {
    let Some(id) = parse_id(&raw) else {
        return show_customer(&st, &ctx, &raw, StatusCode::NOT_FOUND, None).await;
    };
    let f = "survey";
    let fields = Fields::new(f, &values);
    let parsed = (|| {
        let kind = fields.required("kind", SurveyKind::parse)?;
        let score = fields.required("score", |s| {
            let n: i64 = s
                .parse()
                .map_err(|_| format!("the score {s:?} is not a whole number"))?;
            SurveyScore::new(kind, n).map_err(|e| e.to_string())
        })?;
        Ok::<_, FormState>((score, fields.optional("comment", FreeText::parse)?))
    })();
    let (score, comment) = match parsed {
        Ok(p) => p,
        Err(state) => return refused(&st, &ctx, &raw, state).await,
    };
    let now = st.now();
    let books = st.inner.books.clone();
    let result = blocking(move || {
        Ok(books
            .write(|w| {
                w.record_survey(NewSurveyResponse {
                    customer: CustomerId::new(id),
                    at: now,
                    score,
                    comment: comment.clone(),
                })
            })
            .map(|_| ()))
    })
    .await;
    after_customer_form(&st, &ctx, &raw, f, "score", &values, result).await
}

/// `POST /customers/{id}/requests` (`kind`, `subject`, `description`): opens a
/// service request.
pub async fn open_request(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(raw): Path<String>,
    Form(values): Form<HashMap<String, String>>,
) -> Response {
    let Some(id) = parse_id(&raw) else {
        return show_customer(&st, &ctx, &raw, StatusCode::NOT_FOUND, None).await;
    };
    let f = "request";
    let fields = Fields::new(f, &values);
    let parsed = (|| {
        Ok::<_, FormState>((
            fields.required("kind", RequestKind::parse)?,
            fields.required("subject", Label::parse)?,
            fields.required("description", FreeText::parse)?,
        ))
    })();
    let (kind, subject, description) = match parsed {
        Ok(p) => p,
        Err(state) => return refused(&st, &ctx, &raw, state).await,
    };
    let now = st.now();
    let books = st.inner.books.clone();
    let result = blocking(move || {
        Ok(books
            .write(|w| {
                w.open_request(NewServiceRequest {
                    customer: CustomerId::new(id),
                    kind,
                    subject: subject.clone(),
                    description: description.clone(),
                    opened_at: now,
                    deal: None,
                })
            })
            .map(|_| ()))
    })
    .await;
    after_customer_form(&st, &ctx, &raw, f, "subject", &values, result).await
}

/// `POST /requests/{id}/step` (`step` = responded | resolved | reopened): 303 to the
/// customer's page, or 422 there with the message beside the request's step.
pub async fn step_request(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(raw): Path<String>,
    Form(values): Form<HashMap<String, String>>,
) -> Response {
    let Some(id) = parse_id(&raw) else {
        return failure(
            &ctx,
            Failure::NotFound(ctx.lang.t("error.no_page").to_owned()),
        );
    };
    let books = st.inner.books.clone();
    let owner = blocking(move || Ok(books.read(|r| r.request(RequestId::new(id)))?)).await;
    let customer = match owner {
        Ok(r) => r.customer().to_string(),
        Err(f) => return failure(&ctx, f),
    };
    let form = format!("request-{id}");
    let step = match Fields::new(&form, &values).required("step", RequestEventKind::parse) {
        Ok(s) => s,
        Err(state) => return refused(&st, &ctx, &customer, state).await,
    };
    let now = st.now();
    let books = st.inner.books.clone();
    let result = blocking(move || {
        Ok(books
            .write(|w| w.update_request(RequestId::new(id), step, now))
            .map(|_| ()))
    })
    .await;
    after_record_form(&st, &ctx, &customer, false, &form, "step", &values, result).await
}

/// The outcome of a form about one record (a request, a task) of `customer`: 303 to
/// the customer's page (or the care page), or 422 there with the message.
#[allow(clippy::too_many_arguments)]
async fn after_record_form(
    st: &AppState,
    ctx: &Ctx,
    customer: &str,
    care: bool,
    form: &str,
    field: &'static str,
    values: &HashMap<String, String>,
    result: Result<Result<(), StoreError>, Failure>,
) -> Response {
    match result {
        Ok(Ok(())) => {
            st.after_write().await;
            let to = if care {
                "/care".to_owned()
            } else {
                format!("/customers/{customer}")
            };
            Redirect::to(&to).into_response()
        }
        Ok(Err(e)) => match Failure::from(e) {
            Failure::Invalid(m) => {
                let state = FormState::new(form, field, m, values);
                refuse_record(st, ctx, customer, care, state).await
            }
            f => failure(ctx, f),
        },
        Err(f) => failure(ctx, f),
    }
}

/// The 422 of a form about one record: on the care page or the customer's.
async fn refuse_record(
    st: &AppState,
    ctx: &Ctx,
    customer: &str,
    care: bool,
    state: FormState,
) -> Response {
    if care {
        show_care(
            st,
            ctx,
            CARE_DAYS,
            1,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(&state),
        )
        .await
    } else {
        refused(st, ctx, customer, state).await
    }
}

/// `POST /customers/{id}/tasks` (`title`, `due` (today if empty), `kind`).
pub async fn add_task(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(raw): Path<String>,
    Form(values): Form<HashMap<String, String>>,
) -> Response {
    let Some(id) = parse_id(&raw) else {
        return show_customer(&st, &ctx, &raw, StatusCode::NOT_FOUND, None).await;
    };
    let f = "task";
    let fields = Fields::new(f, &values);
    let parsed = (|| {
        Ok::<_, FormState>((
            fields.required("title", Label::parse)?,
            fields.required("kind", TaskKind::parse)?,
            fields.optional("due", solocrm_app::values::date)?,
        ))
    })();
    let (title, kind, due) = match parsed {
        Ok(p) => p,
        Err(state) => return refused(&st, &ctx, &raw, state).await,
    };
    let now = st.now();
    let books = st.inner.books.clone();
    let result = blocking(move || {
        Ok(books
            .write(|w| {
                let due = match due {
                    Some(d) => d,
                    None => w.reader().time_zone()?.date_of(now),
                };
                w.create_task(NewTask {
                    customer: Some(CustomerId::new(id)),
                    kind,
                    title: title.clone(),
                    due,
                    recurrence: None,
                    created_at: now,
                })
            })
            .map(|_| ()))
    })
    .await;
    after_customer_form(&st, &ctx, &raw, f, "title", &values, result).await
}

/// The customer a task concerns (empty for none), read before acting on it.
async fn task_owner(st: &AppState, id: u64) -> Result<String, Failure> {
    let books = st.inner.books.clone();
    let task = blocking(move || Ok(books.read(|r| r.task(TaskId::new(id)))?)).await?;
    Ok(task.customer().map_or_else(String::new, |c| c.to_string()))
}

/// `POST /tasks/{id}/done` (`back` = care to return to the care page): marks a task
/// done (a recurring one moves to its next occurrence).
pub async fn task_done(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(raw): Path<String>,
    Form(values): Form<HashMap<String, String>>,
) -> Response {
    task_step(st, ctx, raw, values, None).await
}

/// `POST /tasks/{id}/snooze` (`days`: 1 to 90, `back`): moves the task's due date
/// to `days` after today.
pub async fn task_snooze(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(raw): Path<String>,
    Form(values): Form<HashMap<String, String>>,
) -> Response {
    let days = values.get("days").cloned().unwrap_or_default();
    task_step(st, ctx, raw, values, Some(days)).await
}

async fn task_step(
    st: AppState,
    ctx: Ctx,
    raw: String,
    values: HashMap<String, String>,
    snooze: Option<String>,
) -> Response {
    let missing = || Failure::NotFound(ctx.lang.t("error.no_page").to_owned());
    let Some(id) = parse_id(&raw) else {
        return failure(&ctx, missing());
    };
    let customer = match task_owner(&st, id).await {
        Ok(c) => c,
        Err(f) => return failure(&ctx, f),
    };
    // A task of no customer has no customer page to go back to.
    let care = back_to_care(&values) || customer.is_empty();
    let form = format!("task-{id}");
    let days = match snooze {
        None => None,
        Some(d) => match d.trim().parse::<u32>() {
            Ok(n) if (1..=90).contains(&n) => Some(n),
            _ => {
                let message = ctx.lang.f("task.bad_days", &[("days", &d)]);
                let state = FormState::new(&form, "days", message, &values);
                return refuse_record(&st, &ctx, &customer, care, state).await;
            }
        },
    };
    let now = st.now();
    let books = st.inner.books.clone();
    let result = blocking(move || {
        Ok(books
            .write(|w| match days {
                None => w.complete_task(TaskId::new(id), now),
                Some(n) => {
                    let today = w.reader().time_zone()?.date_of(now);
                    let due = today + Days::new(u64::from(n));
                    w.edit_task(TaskId::new(id), None, None, Some(due))
                }
            })
            .map(|_| ()))
    })
    .await;
    let field = if days.is_some() { "days" } else { "done" };
    after_record_form(&st, &ctx, &customer, care, &form, field, &values, result).await
}

/// `POST /customers/{id}/tags` (`tag`, `action` = add | remove).
pub async fn change_tags(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(raw): Path<String>,
    Form(values): Form<HashMap<String, String>>,
) -> Response {
    let Some(id) = parse_id(&raw) else {
        return show_customer(&st, &ctx, &raw, StatusCode::NOT_FOUND, None).await;
    };
    let f = "tags";
    let fields = Fields::new(f, &values);
    let tag = match fields.required("tag", Tag::parse) {
        Ok(t) => t,
        Err(state) => return refused(&st, &ctx, &raw, state).await,
    };
    let add = match values.get("action").map(|a| a.trim()) {
        Some("add") => true,
        Some("remove") => false,
        other => {
            let message = format!(
                "the tag action {:?} is neither add nor remove",
                other.unwrap_or("")
            );
            return refused(&st, &ctx, &raw, fields.refuse("tag", message)).await;
        }
    };
    let books = st.inner.books.clone();
    let result = blocking(move || {
        Ok(books
            .write(|w| {
                if add {
                    w.tag_customer(CustomerId::new(id), &tag)
                } else {
                    w.untag_customer(CustomerId::new(id), &tag)
                }
            })
            .map(|_| ()))
    })
    .await;
    after_customer_form(&st, &ctx, &raw, f, "tag", &values, result).await
}

/// Snooze lengths offered, in days.
const SNOOZE_DAYS: [(&str, &str); 3] = [("1", "1"), ("3", "3"), ("7", "7")];

/// A task's done and snooze buttons; `care` returns to the care page.
/// The id of a task's buttons, which a refused button's [`FormState`] names.
fn task_form(task: TaskId) -> String {
    format!("task-{task}")
}

fn task_buttons(l: Lang, task: TaskId, care: bool, state: Option<&FormState>) -> Markup {
    let form = task_form(task);
    html! {
        div.task-actions #(form) {
            form method="post" action=(format!("/tasks/{task}/done")) {
                @if care { input type="hidden" name="back" value="care"; }
                button type="submit" { (l.t("task.done")) }
            }
            form method="post" action=(format!("/tasks/{task}/snooze")) {
                @if care { input type="hidden" name="back" value="care"; }
                (select(state, &form, "days", l.t("task.snooze_days"), &SNOOZE_DAYS))
                button type="submit" { (l.t("task.snooze")) }
            }
            @if let Some(m) = error_for(state, &form, "done") { span.error role="alert" { (m) } }
        }
    }
}

/// `POST /customers/{id}/points` (`kind` = earn | redeem | expire | adjust, `points`,
/// `reason`, which an adjustment needs).
pub async fn post_points(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(raw): Path<String>,
    Form(values): Form<HashMap<String, String>>,
) -> Response {
    let Some(id) = parse_id(&raw) else {
        return show_customer(&st, &ctx, &raw, StatusCode::NOT_FOUND, None).await;
    };
    let f = "points";
    let fields = Fields::new(f, &values);
    let now = st.now();
    let parsed = (|| {
        let kind = fields.required("kind", PointsKind::parse)?;
        let reason = fields.optional("reason", Label::parse)?;
        if kind == PointsKind::Adjust && reason.is_none() {
            return Err(fields.refuse("reason", ctx.lang.t("points.adjust_needs_reason")));
        }
        let entry = fields.required("points", |p| {
            let n: i64 = p
                .parse()
                .map_err(|_| format!("the points {p:?} are not a whole number"))?;
            NewPointsEntry::new(CustomerId::new(id), now, kind, n).map_err(|e| e.to_string())
        })?;
        Ok(match reason {
            Some(r) => entry.with_reason(r),
            None => entry,
        })
    })();
    let entry = match parsed {
        Ok(e) => e,
        Err(state) => return refused(&st, &ctx, &raw, state).await,
    };
    let books = st.inner.books.clone();
    let result =
        blocking(move || Ok(books.write(|w| w.post_points(entry.clone())).map(|_| ()))).await;
    after_customer_form(&st, &ctx, &raw, f, "points", &values, result).await
}

/// `POST /customers/{id}/consent` (`purpose`, `decision` = grant | revoke, `source`,
/// "web" if empty): records a consent decision, kept with its date and source.
pub async fn record_consent(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(raw): Path<String>,
    Form(values): Form<HashMap<String, String>>,
) -> Response {
    let Some(id) = parse_id(&raw) else {
        return show_customer(&st, &ctx, &raw, StatusCode::NOT_FOUND, None).await;
    };
    let f = "consent";
    let fields = Fields::new(f, &values);
    let parsed = (|| {
        let purpose = fields.required("purpose", Tag::parse)?;
        let granted = fields.required("decision", |d| match d {
            "grant" => Ok(true),
            "revoke" => Ok(false),
            other => Err(format!(
                "the decision {other:?} is neither grant nor revoke"
            )),
        })?;
        let source = fields
            .optional("source", Label::parse)?
            .map_or_else(|| Label::parse("web"), Ok)
            .map_err(|e| fields.refuse("source", e.to_string()))?;
        Ok::<_, FormState>((purpose, granted, source))
    })();
    let (purpose, granted, source) = match parsed {
        Ok(p) => p,
        Err(state) => return refused(&st, &ctx, &raw, state).await,
    };
    let now = st.now();
    let books = st.inner.books.clone();
    let result = blocking(move || {
        Ok(books
            .write(|w| {
                w.record_consent(
                    CustomerId::new(id),
                    Consent {
                        purpose: purpose.clone(),
                        granted,
                        at: now,
                        source: source.clone(),
                    },
                )
            })
            .map(|_| ()))
    })
    .await;
    after_customer_form(&st, &ctx, &raw, f, "purpose", &values, result).await
}

/// The consent in force for each purpose: the latest decision, by purpose.
fn consents(c: &Customer) -> Vec<(String, bool, DateTime<Utc>)> {
    let mut latest: std::collections::BTreeMap<String, (bool, DateTime<Utc>)> =
        std::collections::BTreeMap::new();
    for d in c.consents() {
        let slot = latest
            .entry(d.purpose.as_str().to_owned())
            .or_insert((d.granted, d.at));
        if d.at >= slot.1 {
            *slot = (d.granted, d.at);
        }
    }
    latest.into_iter().map(|(p, (g, at))| (p, g, at)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kept::tests::{add, memory_books};

    /// The customers the dashboard's report counts.
    fn counted(d: &Dashboard) -> usize {
        d.stages.iter().map(|(_, n)| n).sum()
    }

    /// Books in memory holding 王芳, the workspace over them (its router and state) and a
    /// current-thread runtime for the async parts of a test.
    struct Served {
        books: solocrm_app::Books,
        router: axum::Router,
        state: AppState,
        session: String,
        runtime: tokio::runtime::Runtime,
    }

    impl Served {
        fn new() -> Served {
            let books = memory_books();
            add(&books, "王芳");
            let config = crate::Config::new().expect("config");
            let session = config.session.clone();
            let (router, _, state) = crate::parts(books.clone(), config);
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            Served {
                books,
                router,
                state,
                session,
                runtime,
            }
        }

        /// One look of the refresher; whether it computed.
        fn refresh(&self, warm: bool) -> bool {
            self.runtime
                .block_on(refresh_kept(&self.state, warm))
                .expect("refresh")
        }

        /// The report kept for `/`, which must be current (taking it computes nothing).
        fn kept_report(&self) -> Arc<(Dashboard, Vec<MonthFigures>)> {
            let zone = self.books.time_zone().expect("zone");
            let (start, end, _) =
                dashboard_range(zone, None, None, self.state.now()).expect("a range");
            let (kept, earlier) = self
                .state
                .inner
                .reports
                .get_apart_or_earlier(&self.books, &(start, end, zone.name()), false, || {
                    Err::<_, StoreError>(StoreError::Backend("computed again".into()))
                })
                .expect("kept and current");
            assert!(!earlier);
            kept
        }
    }

    #[test]
    fn the_refresh_brings_the_kept_dashboard_up_to_date_with_a_write_made_elsewhere() {
        let served = Served::new();
        let (books, state) = (&served.books, &served.state);
        let refresh = || served.refresh(false);
        assert!(
            !refresh(),
            "no dashboard asked for: nothing to keep up to date"
        );
        assert!(state.inner.reports.is_empty());

        let now = state.now();
        let shown = load_dashboard(&state.inner, None, None, now, false)
            .expect("loaded")
            .expect("a period");
        assert_eq!(counted(&shown.part.0), 1);
        assert!(refresh(), "the first look brings it up to date");
        assert!(!refresh(), "nothing new since");

        // Another program (the CLI) adds a customer while the workspace serves.
        add(books, "李雷");
        assert!(refresh(), "the outbox moved");
        assert_eq!(counted(&served.kept_report().0), 2);
        assert!(!refresh(), "nothing new since");
    }

    #[test]
    fn the_refreshers_first_look_computes_the_dashboard_before_anyone_asks() {
        let served = Served::new();
        assert!(served.state.inner.reports.is_empty());
        assert!(served.refresh(true));
        assert_eq!(counted(&served.kept_report().0), 1);
    }

    #[test]
    fn the_refresh_rebuilds_a_kept_search_index_after_a_write_made_elsewhere() {
        let served = Served::new();
        let (books, state) = (&served.books, &served.state);
        let refresh = || served.refresh(false);
        // The index as a search keeps it: the customers it holds.
        let kept = |compute: bool| {
            books
                .read(|r| {
                    state.inner.search.get(&r, &(), || {
                        if compute {
                            r.search_index()
                        } else {
                            Err(StoreError::Backend("computed again".into()))
                        }
                    })
                })
                .map(|index| index.len())
        };
        assert_eq!(kept(true).expect("built"), 1);
        assert!(refresh(), "the first look brings it up to date");
        add(books, "李雷");
        assert!(kept(false).is_err(), "out of date after the write");
        assert!(refresh(), "the outbox moved");
        assert_eq!(kept(false).expect("rebuilt by the refresh"), 2);
        assert!(!refresh(), "nothing new since");
    }

    /// `GET /` with the session cookie; the status and the page.
    fn get_dashboard(served: &Served) -> (StatusCode, String) {
        use http_body_util::BodyExt as _;
        use tower::ServiceExt as _;
        let request = axum::http::Request::get("/")
            .header(axum::http::header::HOST, "127.0.0.1:8765")
            .header(
                axum::http::header::COOKIE,
                format!("solocrm_session={}", served.session),
            )
            .body(axum::body::Body::empty())
            .expect("request");
        served.runtime.block_on(async {
            let response = served
                .router
                .clone()
                .oneshot(request)
                .await
                .expect("response");
            let status = response.status();
            let bytes = response
                .into_body()
                .collect()
                .await
                .expect("body")
                .to_bytes();
            (status, String::from_utf8_lossy(&bytes).into_owned())
        })
    }

    #[test]
    fn while_the_refresh_counts_a_write_the_dashboard_of_a_moment_ago_is_shown_marked() {
        let served = Served::new();
        let (books, state) = (&served.books, &served.state);
        let refresh = || served.refresh(false);
        let load = |earlier_ok| {
            load_dashboard(&state.inner, None, None, state.now(), earlier_ok)
                .expect("loaded")
                .expect("a period")
        };
        let reloads = r#"<meta http-equiv="refresh" content="2">"#;
        let note = Lang::En.t("dash.earlier");
        let _ = load(false);
        assert!(refresh());
        state
            .inner
            .refreshing
            .store(true, std::sync::atomic::Ordering::Release);

        // The CLI adds a customer; the refresh has not looked yet.
        let li = add(books, "李雷");
        let shown = load(true);
        assert!(shown.earlier, "the kept dashboard, from before the write");
        assert_eq!(counted(&shown.part.0), 1);
        let (status, page) = get_dashboard(&served);
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains(reloads), "the page reloads itself: {page}");
        assert!(page.contains(&html_escape(note)), "and says why");
        // Asked for the current one (the refresh does), it is computed.
        let current = load(false);
        assert!(!current.earlier);
        assert_eq!(counted(&current.part.0), 2);

        assert!(refresh(), "the refresh counts the write");
        let (_, page) = get_dashboard(&served);
        assert!(!page.contains(reloads), "current: no reload");
        assert!(!page.contains(&html_escape(note)));

        // An erasure made elsewhere: no view of a moment ago shows 李雷 (the sweep
        // drops them), the current dashboard is computed.
        books
            .write(|w| w.erase_customer(li, state.now()))
            .expect("erased");
        let shown = load(true);
        assert!(
            !shown.earlier,
            "computed after the erasure, not the kept one"
        );

        // Without a refresher, nothing would bring a kept view up to date: `/`
        // computes the current dashboard.
        state
            .inner
            .refreshing
            .store(false, std::sync::atomic::Ordering::Release);
        add(books, "韩梅梅");
        let (_, page) = get_dashboard(&served);
        assert!(!page.contains(reloads));
        assert!(!page.contains(&html_escape(note)));
    }

    /// `text` as the page escapes it.
    fn html_escape(text: &str) -> String {
        maud::html! { (text) }.into_string()
    }
}
