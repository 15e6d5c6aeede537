//! The dashboard narrowed to one group, and as a series (issue 18): `GET /?segment=NAME`
//! or `?stage=STAGE` shows the group's dashboard as `solocrm report --segment/--stage`
//! computes it ([`load_overview`](solocrm_app::trends::load_overview), the figures of
//! `load_dashboard`), with the whole book's three charts drawn from the group's data
//! (pages.rs's `charts`), and `?by=month|quarter` adds the series `report --by` prints
//! ([`Trend::load`]), for the whole book or the group, in the same read
//! ([`load_overview_with_trend`]: the range's dashboard is computed once).
//!
//! These pages are computed on every request: only the whole book's plain dashboard is
//! kept (pages.rs). A bad query value (an unknown segment, a stage that does not parse,
//! both a segment and a stage, a `by` that is neither `month` nor `quarter`, a series
//! of more than [`MAX_PERIODS`](solocrm_app::trends::MAX_PERIODS) periods, a bad day)
//! is a 422 with the message beside its field and the typed values kept.

use solocrm_app::groups::GroupError;
use solocrm_app::trends::{Grain, GroupOverview, Trend, load_overview_with_trend};

use super::analytics::{Asked, group_line, segment_names};
use super::*;

/// True when the dashboard's query asks for a group or a series: the request is
/// this module's.
pub(super) fn asked(q: &HashMap<String, String>) -> bool {
    ["segment", "stage", "by"]
        .iter()
        .any(|k| non_empty(q, k).is_some())
}

/// What a grouped or series dashboard shows.
struct View {
    segments: Vec<Label>,
    /// The group's (or the whole book's) dashboard of the range, with its size and
    /// what its charts draw.
    shown: GroupOverview,
    /// The series, when `?by=` asked for one.
    trend: Option<Trend>,
}

/// A refusal of the query: the field it belongs to and why.
struct Refused {
    field: &'static str,
    message: String,
}

/// The report settings of the dashboard (those of the whole book's page).
fn config() -> ReportConfig {
    ReportConfig {
        include_rfm_table: false,
        ..ReportConfig::default()
    }
}

/// Reads `?by=`: `None` for no series.
fn grain(l: Lang, q: &HashMap<String, String>) -> Result<Option<Grain>, Refused> {
    match non_empty(q, "by").as_deref() {
        None => Ok(None),
        Some("month") => Ok(Some(Grain::Month)),
        Some("quarter") => Ok(Some(Grain::Quarter)),
        Some(other) => Err(Refused {
            field: "by",
            message: l.f("dash.bad_by", &[("by", &other)]),
        }),
    }
}

/// Reads the group: `Asked::read`'s refusal placed beside the field it names.
fn group(l: Lang, q: &HashMap<String, String>) -> Result<Asked, Refused> {
    Asked::read(l, q).map_err(|f| {
        let message = match f {
            Failure::Invalid(m) | Failure::NotFound(m) | Failure::Internal(m) => m,
            Failure::Busy => l.t("error.busy").to_owned(),
        };
        let field = if non_empty(q, "segment").is_some() {
            "segment"
        } else {
            "stage"
        };
        Refused { field, message }
    })
}

/// `GET /` with a group or a series (see the module's doc).
pub(super) async fn page(st: AppState, ctx: Ctx, q: HashMap<String, String>) -> Response {
    let l = ctx.lang;
    let title = l.t("dash.title");
    let mut refused: Option<Refused> = None;
    let mut day = |key: &'static str| match non_empty(&q, key) {
        None => None,
        Some(v) => match solocrm_app::values::date(&v) {
            Ok(d) => Some(d),
            Err(e) => {
                refused.get_or_insert(Refused {
                    field: key,
                    message: e.to_string(),
                });
                None
            }
        },
    };
    let (from, to) = (day("from"), day("to"));
    let asked = group(l, &q);
    let by = grain(l, &q);
    let (asked, by) = match (asked, by, refused) {
        (Ok(a), Ok(b), None) => (a, b),
        (a, b, r) => {
            let why = r.or(a.err()).or(b.err());
            return refusal(&st, &ctx, &q, why).await;
        }
    };
    let now = st.now();
    let inner = st.inner.clone();
    let chosen = asked.group.clone();
    let loaded = blocking(move || {
        let books = &inner.books;
        let zone = books.time_zone()?;
        let Some((start, end, _)) = crate::pages::dashboard_range(zone, from, to, now) else {
            return Ok(Err(Refused {
                field: "to",
                message: l.t("error.period_backwards").to_owned(),
            }));
        };
        let period = Period::new(start, end)?.in_zone(zone);
        let config = config();
        let segments = books.read(|r| segment_names(&r))?;
        let refuse = |e: GroupError| match e {
            GroupError::UnknownSegment(name) => Ok(Refused {
                field: "segment",
                message: l.f("group.unknown_segment", &[("name", &name.as_str())]),
            }),
            GroupError::TooManyPeriods { asked, max } => Ok(Refused {
                field: "by",
                message: l.f("dash.too_many_periods", &[("asked", &asked), ("max", &max)]),
            }),
            GroupError::Report(e) => Err(Failure::from(e)),
        };
        // The figures and charts; with `by`, the series as well, whose total is the
        // range's dashboard computed once.
        let (shown, trend) =
            match load_overview_with_trend(books, period, by, &config, chosen.as_ref(), now) {
                Ok(o) => o,
                Err(e) => return refuse(e).map(Err),
            };
        Ok(Ok(View {
            segments,
            shown,
            trend,
        }))
    })
    .await;
    match loaded {
        Ok(Ok(view)) => respond(StatusCode::OK, frame(&ctx, title, body(l, &asked, &view))),
        Ok(Err(why)) => refusal(&st, &ctx, &q, Some(why)).await,
        Err(f) => failure(&ctx, f),
    }
}

/// The 422 page: the message beside its field in the filter form, the typed values
/// kept.
async fn refusal(
    st: &AppState,
    ctx: &Ctx,
    q: &HashMap<String, String>,
    why: Option<Refused>,
) -> Response {
    // The select still lists the saved segments.
    let segments = segments(st).await;
    let l = ctx.lang;
    let state = why.map(|w| FormState::new("dash", w.field, w.message, q));
    let typed = |k: &str| non_empty(q, k).unwrap_or_default();
    respond(
        StatusCode::UNPROCESSABLE_ENTITY,
        frame(
            ctx,
            l.t("dash.title"),
            filter_form(
                l,
                "dash",
                state.as_ref(),
                &segments,
                [
                    typed("from"),
                    typed("to"),
                    typed("segment"),
                    typed("stage"),
                    typed("by"),
                ],
            ),
        ),
    )
}

/// The names of the saved segments for a refused filter's form; a failed read leaves
/// the select without them (the page itself still shows).
async fn segments(st: &AppState) -> Vec<Label> {
    let books = st.inner.books.clone();
    blocking(move || Ok(books.read(|r| segment_names(&r))?))
        .await
        .unwrap_or_default()
}

/// The filter of the whole book's dashboard: its range (the `period` form's fields,
/// where a bad day's message goes), no group, no series.
pub(super) fn plain_filter(
    l: Lang,
    state: Option<&FormState>,
    segments: &[Label],
    start: NaiveDate,
    last: NaiveDate,
) -> Markup {
    filter_form(
        l,
        "period",
        state,
        segments,
        [
            start.to_string(),
            last.to_string(),
            String::new(),
            String::new(),
            String::new(),
        ],
    )
}

/// A select of `options` (value, label) with `chosen` selected, its message beside it.
fn choice(
    state: Option<&FormState>,
    form: &str,
    name: &str,
    label: &str,
    options: &[(String, String)],
    chosen: &str,
) -> Markup {
    let id = format!("{form}-{name}");
    let error = error_for(state, form, name);
    html! {
        div.field {
            label for=(id) { (label) }
            select id=(id) name=(name)
                aria-invalid=[error.map(|_| "true")]
                aria-describedby=[error.map(|_| format!("{id}-error"))] {
                @for (value, text) in options {
                    @if value == chosen {
                        option value=(value) selected { (text) }
                    } @else {
                        option value=(value) { (text) }
                    }
                }
            }
            @if let Some(e) = error {
                span.error id=(format!("{id}-error")) role="alert" { (e) }
            }
        }
    }
}

/// The dashboard's filter: the range, the group, the series' grain. `values` are
/// from, to, segment, stage and by, as typed or shown; `form` names the fields' ids
/// and the form a [`FormState`] must name to put its message beside one.
fn filter_form(
    l: Lang,
    form: &str,
    state: Option<&FormState>,
    segments: &[Label],
    values: [String; 5],
) -> Markup {
    let [from, to, segment, stage, by] = values;
    let mut segment_options = vec![(String::new(), l.t("group.any_segment").to_owned())];
    segment_options.extend(
        segments
            .iter()
            .map(|s| (s.as_str().to_owned(), s.as_str().to_owned())),
    );
    // A typed name nobody saved stays selected, so the message beside it names it.
    if !segment.is_empty() && !segments.iter().any(|s| s.as_str() == segment) {
        segment_options.push((segment.clone(), segment.clone()));
    }
    let mut stage_options = vec![(String::new(), l.t("customers.any_stage").to_owned())];
    stage_options.extend(
        LifecycleStage::ALL
            .iter()
            .map(|s| (s.as_str().to_owned(), stage_label(l, *s).to_owned())),
    );
    if !stage.is_empty() && !LifecycleStage::ALL.iter().any(|s| s.as_str() == stage) {
        stage_options.push((stage.clone(), stage.clone()));
    }
    let mut by_options = vec![
        (String::new(), l.t("dash.by_none").to_owned()),
        ("month".to_owned(), l.t("dash.by_month").to_owned()),
        ("quarter".to_owned(), l.t("dash.by_quarter").to_owned()),
    ];
    if !by.is_empty() && by != "month" && by != "quarter" {
        by_options.push((by.clone(), by.clone()));
    }
    html! {
        form.inline.group method="get" action="/" {
            (field(state, form, "from", l.t("dash.from"), "date", &from))
            (field(state, form, "to", l.t("dash.to"), "date", &to))
            (choice(state, form, "segment", l.t("group.segment"), &segment_options, &segment))
            (choice(state, form, "stage", l.t("col.stage"), &stage_options, &stage))
            (choice(state, form, "by", l.t("dash.by"), &by_options, &by))
            button type="submit" { (l.t("dash.show")) }
        }
    }
}

/// One row of the series table: the cells `report --by` prints.
fn series_cells(d: &Dashboard) -> [String; 12] {
    let stats = &d.report.purchases.stats;
    let dash = || "–".to_owned();
    [
        stats.revenue.amount().to_string(),
        stats.orders.to_string(),
        stats.buyers.to_string(),
        d.report.retention.base.acquired.to_string(),
        percent(d.churn_rate),
        percent(d.retention_rate),
        d.nps.map_or_else(dash, |v| format!("{v:.2}")),
        percent(d.csat),
        d.ces.map_or_else(dash, |v| format!("{v:.2}")),
        percent(d.crr),
        percent(d.repeat_purchase_rate),
        d.net_revenue.clone(),
    ]
}

/// The series as a plain table with a caption, the partial periods marked, the range's
/// total in the footer.
fn series_table(l: Lang, t: &Trend) -> Markup {
    let caption = match t.by {
        Grain::Month => l.t("dash.series_month"),
        Grain::Quarter => l.t("dash.series_quarter"),
    };
    let heads = [
        "col.revenue",
        "col.orders",
        "dash.active",
        "dash.new",
        "dash.churn",
        "dash.retention",
        "dash.nps",
        "dash.csat",
        "dash.ces",
        "dash.crr",
        "dash.repeat",
        "dash.net_revenue",
    ];
    html! {
        table.data #trend {
            caption { (caption) " (" (t.total.report.currency) ")" }
            thead { tr {
                th scope="col" { (l.t("dash.period_col")) }
                @for h in heads { th scope="col" { (l.t(h)) } }
            } }
            tbody {
                @for p in &t.periods {
                    tr.partial[p.partial] {
                        th scope="row" {
                            (p.label)
                            @if p.partial { " " abbr title=(l.t("dash.partial")) { "*" } }
                        }
                        @for c in series_cells(&p.dashboard) { td { (c) } }
                    }
                }
            }
            tfoot { tr {
                th scope="row" { (l.t("dash.total")) }
                @for c in series_cells(&t.total) { td { (c) } }
            } }
        }
        @if t.periods.iter().any(|p| p.partial) {
            p.note { "* " (l.t("dash.partial")) }
        }
    }
}

/// The page of a group's dashboard or a series.
fn body(l: Lang, asked: &Asked, v: &View) -> Markup {
    let d = &v.shown.dashboard;
    let last_day = d.period.end.pred_opt().unwrap_or(d.period.end);
    let by = match v.trend.as_ref().map(|t| t.by) {
        None => String::new(),
        Some(Grain::Month) => "month".to_owned(),
        Some(Grain::Quarter) => "quarter".to_owned(),
    };
    html! {
        p.period { (l.f("dash.period", &[("start", &d.period.start), ("end", &last_day)])) }
        (filter_form(l, "dash", None, &v.segments, [
            d.period.start.to_string(), last_day.to_string(),
            asked.segment.clone(), asked.stage.clone(), by,
        ]))
        (group_line(l, asked.group.as_ref(), v.shown.members))
        (figures(l, d, "group-figures"))
        (charts(l, d, &v.shown.revenue_by_month, &v.shown.board))
        @if let Some(t) = &v.trend { (series_table(l, t)) }
    }
}
