//! Survey templates and participation (issue 18): `/surveys` lists the templates
//! (questions and dimensions) and the per-dimension analysis of the sheets answered
//! against them — of all templates, or of one (`?template=`): answers, the mean as a
//! share of the scale and on it, the promoters' and detractors' means and their gap,
//! and the driver dimension (the one that separates promoters from detractors most),
//! as `survey dimensions` prints them; `?segment=NAME` or `?stage=STAGE` analyses the
//! sheets of that group's customers only, as `survey dimensions --segment/--stage`
//! (the group decided now; 422 for a bad value). The customer page lists the customer's
//! participations ([`participations`]) with a form to record one ([`add_participation`]).

use solocrm_core::participation::{Participation, ParticipationKind};
use solocrm_core::questionnaire::SurveyTemplate;
use solocrm_core::questionnaire::analysis::DimensionAnalysis;

use super::*;

/// A share of the scale as a percentage with one decimal, `–` without one.
fn share(v: Option<Decimal>) -> String {
    v.map_or_else(
        || "–".to_owned(),
        |v| format!("{:.1} %", v * Decimal::ONE_HUNDRED),
    )
}

/// `GET /surveys` (`?template=NAME` for one template's analysis, `?segment=` or
/// `?stage=` for one group's): 404 for an unknown template, 422 for a bad group.
pub async fn surveys(
    State(st): State<AppState>,
    ctx: Ctx,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let l = ctx.lang;
    let asked = match analytics::Asked::read(l, &q) {
        Ok(a) => a,
        Err(f) => return analytics::analytic_failure(&ctx, l.t("surveys.title"), f),
    };
    let typed = non_empty(&q, "template");
    show_with(&st, &ctx, typed, asked, StatusCode::OK, None).await
}

/// `/surveys` of every template with `status` and a refused template form's `state`.
pub(super) async fn show(
    st: &AppState,
    ctx: &Ctx,
    status: StatusCode,
    state: Option<&FormState>,
) -> Response {
    show_with(st, ctx, None, analytics::Asked::all(), status, state).await
}

async fn show_with(
    st: &AppState,
    ctx: &Ctx,
    typed: Option<String>,
    asked: analytics::Asked,
    status: StatusCode,
    state: Option<&FormState>,
) -> Response {
    let l = ctx.lang;
    let unknown = |name: &str| Failure::NotFound(l.f("surveys.unknown", &[("name", &name)]));
    let chosen = match typed.as_deref().map(Tag::parse) {
        None => None,
        Some(Ok(t)) => Some(t),
        Some(Err(_)) => return failure(ctx, unknown(typed.as_deref().unwrap_or_default())),
    };
    let books = st.inner.books.clone();
    let wanted = chosen.clone();
    let group = asked.group.clone();
    let now = st.now();
    let loaded = blocking(move || {
        let zone = books.time_zone()?;
        let at = zone.end_of(zone.date_of(now)).min(now);
        // The group and the sheets from one snapshot.
        books
            .crm()
            .read(|r| {
                Ok((|| {
                    let segments = analytics::segment_names(&r)?;
                    let members = analytics::members_of(l, &r, group.as_ref(), at)?;
                    let keep = |c| members.as_ref().is_none_or(|m| m.contains(c));
                    let templates = r.survey_templates()?;
                    let analysis = r.survey_dimensions_where(wanted.as_ref(), &keep)?;
                    let members = members.map(|m| m.len());
                    Ok::<_, Failure>((templates, analysis, segments, members))
                })())
            })
            .map_err(Failure::from)?
    })
    .await;
    match loaded {
        Ok((templates, analysis, segments, members)) => {
            let filter = Filter {
                asked: &asked,
                segments: &segments,
                members,
            };
            respond(
                status,
                surveys_page(ctx, &templates, chosen.as_ref(), &analysis, &filter, state),
            )
        }
        Err(Failure::NotFound(_)) => failure(ctx, unknown(typed.as_deref().unwrap_or_default())),
        Err(f) => analytics::analytic_failure(ctx, l.t("surveys.title"), f),
    }
}

/// The group filter of `/surveys`: what was asked, the saved segments, the group's size.
struct Filter<'a> {
    asked: &'a analytics::Asked,
    segments: &'a [Label],
    members: Option<usize>,
}

fn surveys_page(
    ctx: &Ctx,
    templates: &[SurveyTemplate],
    chosen: Option<&Tag>,
    a: &DimensionAnalysis,
    filter: &Filter<'_>,
    state: Option<&FormState>,
) -> Markup {
    let l = ctx.lang;
    let keep: Vec<(&str, &str)> = chosen
        .map(|t| vec![("template", t.as_str())])
        .unwrap_or_default();
    let body = html! {
        h2 { (l.t("surveys.templates")) }
        @if templates.is_empty() {
            p.empty #no-templates { (l.t("surveys.no_templates")) }
        } @else {
            table #templates {
                thead { tr {
                    th { (l.t("surveys.name")) } th.num { (l.t("surveys.questions")) }
                    th { (l.t("surveys.dimensions")) } th { (l.t("templates.manage")) }
                } }
                tbody {
                    @for t in templates {
                        @let dims: Vec<&str> = t.dimensions().iter().map(|d| d.as_str()).collect();
                        tr {
                            td {
                                a href=(filter.asked.link("/surveys", &[("template", t.name().as_str().to_owned())])) { bdi { (t.name()) } }
                            }
                            td.num { (t.questions().len()) }
                            td { bdi { (dims.join("、")) } }
                            td { a href=(survey_forms::template_href(t.name())) { (l.t("templates.edit")) } }
                        }
                    }
                }
            }
        }
        p.hint #answering { (l.t("templates.answering_hint")) }
        (survey_forms::add_form(l, state))
        h2 #analysis {
            @match chosen {
                Some(t) => (l.f("surveys.analysis_of", &[("name", t)])),
                None => (l.t("surveys.analysis_all")),
            }
        }
        @if chosen.is_some() {
            p { a href=(filter.asked.link("/surveys", &[])) { (l.t("surveys.all_templates")) } }
        }
        (analytics::group_form(l, "/surveys", filter.segments, filter.asked, &keep, false))
        (analytics::group_line(l, filter.asked.group.as_ref(), filter.members))
        @if a.dimensions.is_empty() {
            p.empty #no-answers { (l.t("surveys.no_answers")) }
        } @else {
            table #dimensions {
                thead { tr {
                    th { (l.t("surveys.dimension")) } th.num { (l.t("surveys.answers")) }
                    th.num { (l.t("surveys.mean")) } th.num { (l.t("surveys.score")) }
                    th.num { (l.t("surveys.promoters")) } th.num { (l.t("surveys.detractors")) }
                    th.num { (l.t("surveys.gap")) }
                } }
                tbody {
                    @for d in &a.dimensions {
                        tr {
                            td { bdi { (d.dimension) } }
                            td.num { (d.answers) }
                            td.num { (share(d.mean_share)) }
                            td.num { @match (d.mean_score, d.scale) {
                                (Some(m), Some(s)) => (format!("{} / {s}", m.round_dp(2))),
                                _ => "–",
                            } }
                            td.num { (share(d.promoter_mean)) }
                            td.num { (share(d.detractor_mean)) }
                            td.num { (share(d.gap)) }
                        }
                    }
                }
            }
        }
        p #summary { (l.f("surveys.summary", &[("sheets", &a.sheets), ("promoters", &a.promoters), ("detractors", &a.detractors)])) }
        p #driver {
            @match &a.separating {
                Some(d) => (l.f("surveys.driver", &[("dimension", d)])),
                None => (l.t("surveys.no_driver")),
            }
        }
    };
    frame(ctx, l.t("surveys.title"), body)
}

/// The customer page's list of the customer's participations, newest first.
/// The form that records a participation.
const PARTICIPATE: &str = "participation";

/// The customer's participations, newest first, and (unless the customer is erased) the
/// form that records one now.
pub(super) fn participations(
    l: Lang,
    zone: BusinessZone,
    rows: &[Participation],
    customer: CustomerId,
    erased: bool,
    state: Option<&FormState>,
) -> Markup {
    let kinds: Vec<(&'static str, &'static str)> = ParticipationKind::ALL
        .iter()
        .map(|k| (k.as_str(), l.label("partkind", k.as_str())))
        .collect();
    let note = format!("{} {}", l.t("form.note"), l.t("field.optional"));
    html! {
        section.participation #participations {
            h2 { (l.t("surveys.participation")) }
            @if rows.is_empty() {
                p.empty #no-participation { (l.t("customer.nothing_yet")) }
            } @else {
                table #participation {
                    thead { tr { th { (l.t("col.date")) } th { (l.t("col.kind")) } th { (l.t("form.note")) } } }
                    tbody {
                        @for p in rows.iter().rev() {
                            tr data-kind=(p.kind.as_str()) {
                                td { (day_of(zone, p.at)) }
                                td { (l.label("partkind", p.kind.as_str())) }
                                td { bdi { (p.note.as_ref().map(ToString::to_string).unwrap_or_default()) } }
                            }
                        }
                    }
                }
            }
            // A refusal with the form hidden (the customer was erased meanwhile): the
            // message stands above where the form would be.
            @if erased {
                @if let Some(s) = state.filter(|s| s.form == PARTICIPATE) {
                    p.error role="alert" { (s.message) }
                }
            }
            @if !erased {
                form #form-participation method="post" action=(format!("/customers/{customer}/participations")) {
                    h3 { (l.t("participation.add")) }
                    (select(state, PARTICIPATE, "kind", l.t("col.kind"), &kinds))
                    (field(state, PARTICIPATE, "note", &note, "text", ""))
                    button type="submit" { (l.t("form.add")) }
                }
            }
        }
    }
}

/// `POST /customers/{id}/participations` (`kind`: event, community, suggestion,
/// review — 活动, 社区, 建议, 评价 also read; optional `note`): recorded now. A bad kind
/// or note is a 422 beside its field; one of that kind at this very instant already
/// a 422 too; nothing is written on a refusal.
pub async fn add_participation(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(raw): Path<String>,
    Form(values): Form<HashMap<String, String>>,
) -> Response {
    let Some(id) = parse_id(&raw) else {
        return show_customer(&st, &ctx, &raw, StatusCode::NOT_FOUND, None).await;
    };
    let fields = Fields::new(PARTICIPATE, &values);
    let parsed = (|| {
        Ok::<_, FormState>((
            fields.required("kind", ParticipationKind::parse_any)?,
            fields.optional("note", FreeText::parse)?,
        ))
    })();
    let (kind, note) = match parsed {
        Ok(p) => p,
        Err(state) => return refused(&st, &ctx, &raw, state).await,
    };
    let participation = Participation {
        customer: CustomerId::new(id),
        at: st.now(),
        kind,
        note,
    };
    let books = st.inner.books.clone();
    let result = blocking(move || {
        Ok(books
            .write(|w| w.record_participation(participation.clone()))
            .map(|_| ()))
    })
    .await;
    after_customer_form(&st, &ctx, &raw, PARTICIPATE, "kind", &values, result).await
}
