//! Sales targets (issue 18): `/targets` shows the progress of the targets whose
//! period holds the day asked about (today unless `?as_of=`): the actual figure, its
//! share of the target, the run-rate forecast for the whole period and its share,
//! and the days gone — the figures `target progress` prints
//! ([`solocrm_app::targets::progress`]). Below, every target with a button to remove
//! it, and a form to set one (a month, quarter or year; it replaces the target of the
//! same metric and period).

use solocrm_core::target::{Target, TargetMetric, TargetPeriod, TargetProgress};

use super::*;

/// The form that sets a target.
const SET: &str = "target-set";
/// The form that picks the day.
const DAY: &str = "target-day";

fn metric_label(l: Lang, m: TargetMetric) -> &'static str {
    l.label("tmetric", m.as_str())
}

/// A share as a percentage with one decimal, `–` without one.
fn share(v: Option<Decimal>) -> String {
    v.map_or_else(
        || "–".to_owned(),
        |v| format!("{:.1} %", v * Decimal::ONE_HUNDRED),
    )
}

fn value(m: TargetMetric, v: Option<Decimal>) -> String {
    v.map_or_else(
        || "–".to_owned(),
        |v| solocrm_app::targets::shown_value(m, v),
    )
}

/// What `/targets` shows.
struct Shown {
    day: NaiveDate,
    progress: Vec<TargetProgress>,
    all: Vec<Target>,
}

/// `GET /targets` (`?as_of=YYYY-MM-DD`, today if none).
pub async fn targets(
    State(st): State<AppState>,
    ctx: Ctx,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    show_targets(&st, &ctx, &q, StatusCode::OK, None).await
}

async fn show_targets(
    st: &AppState,
    ctx: &Ctx,
    q: &HashMap<String, String>,
    status: StatusCode,
    state: Option<&FormState>,
) -> Response {
    let books = st.inner.books.clone();
    let zone = match blocking(move || Ok(books.time_zone()?)).await {
        Ok(z) => z,
        Err(f) => return failure(ctx, f),
    };
    let now = st.now();
    let typed = non_empty(q, "as_of");
    let (day, status, day_state) = match typed.as_deref().map(solocrm_app::values::date) {
        None => (zone.date_of(now), status, None),
        Some(Ok(d)) => (d, status, None),
        Some(Err(e)) => (
            zone.date_of(now),
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(FormState::new(DAY, "as_of", e.to_string(), q)),
        ),
    };
    let books = st.inner.books.clone();
    let loaded = blocking(move || {
        let all = books.targets()?;
        let chosen: Vec<Target> = all
            .iter()
            .filter(|t| t.period().start() <= day && day < t.period().end())
            .cloned()
            .collect();
        let config = ReportConfig {
            include_rfm_table: false,
            ..ReportConfig::default()
        };
        // Store errors map as on the other report pages (a busy store is a 503).
        let progress = solocrm_app::targets::progress(books.crm(), &chosen, day, &config, now)
            .map_err(Failure::from)?;
        Ok(Shown { day, progress, all })
    })
    .await;
    match loaded {
        Ok(shown) => respond(
            status,
            targets_page(ctx, &shown, state.or(day_state.as_ref())),
        ),
        Err(f) => failure(ctx, f),
    }
}

fn targets_page(ctx: &Ctx, s: &Shown, state: Option<&FormState>) -> Markup {
    let l = ctx.lang;
    let metrics: Vec<(&'static str, &'static str)> = TargetMetric::ALL
        .iter()
        .map(|m| (m.as_str(), metric_label(l, *m)))
        .collect();
    let body = html! {
        form #(DAY) method="get" action="/targets" {
            (field(state, DAY, "as_of", l.t("targets.as_of"), "date", &s.day.to_string()))
            button type="submit" { (l.t("form.show")) }
        }
        h2 { (l.f("targets.progress_on", &[("day", &s.day)])) }
        @if s.progress.is_empty() {
            p.empty #no-progress { (l.t("targets.none_for_day")) }
        } @else {
            table #progress {
                thead { tr {
                    th { (l.t("targets.period")) } th { (l.t("targets.metric")) }
                    th.num { (l.t("targets.target")) } th.num { (l.t("targets.actual")) }
                    th.num { (l.t("targets.share")) } th.num { (l.t("targets.forecast")) }
                    th.num { (l.t("targets.forecast_share")) } th.num { (l.t("targets.days")) }
                } }
                tbody {
                    @for p in &s.progress {
                        @let m = p.target.metric();
                        tr data-metric=(m.as_str()) {
                            td { (p.target.period()) }
                            td { (metric_label(l, m)) }
                            td.num { (value(m, Some(p.target.value()))) }
                            td.num { (value(m, p.actual)) }
                            td.num { (share(p.share)) }
                            td.num { (value(m, p.forecast)) }
                            td.num { (share(p.forecast_share)) }
                            td.num { (p.elapsed_days) "/" (p.total_days) }
                        }
                    }
                }
            }
            p.hint { (l.t("targets.footer")) }
        }
        h2 { (l.t("targets.all")) }
        @if s.all.is_empty() {
            p.empty #no-targets { (l.t("targets.none")) }
        } @else {
            table #targets {
                thead { tr {
                    th { (l.t("targets.period")) } th { (l.t("targets.metric")) }
                    th.num { (l.t("targets.target")) } th {}
                } }
                tbody {
                    @for t in &s.all {
                        tr {
                            td { (t.period()) }
                            td { (metric_label(l, t.metric())) }
                            td.num { (value(t.metric(), Some(t.value()))) }
                            td {
                                form.inline method="post" action="/targets/remove" {
                                    input type="hidden" name="metric" value=(t.metric().as_str());
                                    input type="hidden" name="period" value=(t.period());
                                    button type="submit" { (l.t("targets.remove")) }
                                }
                            }
                        }
                    }
                }
            }
        }
        h2 #set-target { (l.t("targets.set_title")) }
        form #(SET) method="post" action="/targets" {
            (choose(state, SET, "metric", l.t("targets.metric"), &metrics, "revenue"))
            (field(state, SET, "period", l.t("targets.period_hint"), "text", ""))
            (field(state, SET, "value", l.t("targets.value_hint"), "text", ""))
            button type="submit" { (l.t("targets.set")) }
        }
    };
    frame(ctx, l.t("targets.title"), body)
}

/// `POST /targets` (`metric`, `period`, `value`): sets (or replaces) the target; 303
/// to the page, or 422 with the message beside the field.
pub async fn set_target(
    State(st): State<AppState>,
    ctx: Ctx,
    Form(values): Form<HashMap<String, String>>,
) -> Response {
    let l = ctx.lang;
    let fields = Fields::new(SET, &values);
    let parsed = (|| {
        let metric = fields.required("metric", TargetMetric::parse)?;
        let period = fields.required("period", TargetPeriod::parse)?;
        let value = fields.required("value", |v| {
            solocrm_app::targets::parse_value(metric, v).ok_or_else(|| {
                l.f(
                    "targets.bad_value",
                    &[("value", &v), ("metric", &metric_label(l, metric))],
                )
            })
        })?;
        Target::new(metric, period, value).map_err(|e| fields.refuse("value", e.to_string()))
    })();
    let target = match parsed {
        Ok(t) => t,
        Err(state) => {
            return show_targets(
                &st,
                &ctx,
                &HashMap::new(),
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(&state),
            )
            .await;
        }
    };
    let books = st.inner.books.clone();
    match blocking(move || Ok(books.set_target(target))).await {
        Ok(Ok(_)) => Redirect::to("/targets").into_response(),
        Ok(Err(e)) => match Failure::from(e) {
            Failure::Invalid(m) => {
                let state = fields.refuse("value", m);
                show_targets(
                    &st,
                    &ctx,
                    &HashMap::new(),
                    StatusCode::UNPROCESSABLE_ENTITY,
                    Some(&state),
                )
                .await
            }
            f => failure(&ctx, f),
        },
        Err(f) => failure(&ctx, f),
    }
}

/// `POST /targets/remove` (`metric`, `period`): removes that target; 303 to the
/// page, 404 for a target not set, 422 for a metric or period that does not parse.
pub async fn remove_target(
    State(st): State<AppState>,
    ctx: Ctx,
    Form(values): Form<HashMap<String, String>>,
) -> Response {
    let metric = values.get("metric").map_or("", |v| v.trim());
    let period = values.get("period").map_or("", |v| v.trim());
    let (m, p) = match (TargetMetric::parse(metric), TargetPeriod::parse(period)) {
        (Ok(m), Ok(p)) => (m, p),
        (Err(e), _) | (_, Err(e)) => return failure(&ctx, Failure::Invalid(e.to_string())),
    };
    let books = st.inner.books.clone();
    match blocking(move || Ok(books.remove_target(m, p)?)).await {
        Ok(_) => Redirect::to("/targets").into_response(),
        Err(Failure::NotFound(_)) => failure(
            &ctx,
            Failure::NotFound(ctx.lang.f(
                "targets.unknown",
                &[("metric", &metric_label(ctx.lang, m)), ("period", &p)],
            )),
        ),
        Err(f) => failure(&ctx, f),
    }
}
