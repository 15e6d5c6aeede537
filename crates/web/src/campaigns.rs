//! `/campaigns`: every campaign with its figures over a period (read-only): cost,
//! budget beside it, customers acquired, CAC, revenue net of refunds, won deals and
//! ROI, then the same per channel. `?period=2026-11` (a month, quarter `2026-Q4` or
//! year `2026`) chooses the period; by default the calendar year of today.
//! `?segment=NAME` or `?stage=STAGE` narrows the figures to that group's customers, as
//! `campaign stats --segment/--stage` does: the group is decided as the books stood at
//! the end of the period (now for a period not yet over), and a group's figures hold
//! no costs (so no CAC and no ROI, ADR 0026). A bad value is a 422 that names it.

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use maud::{Markup, html};
use solocrm_core::metrics::{CampaignFigures, CampaignSection, Period};
use solocrm_core::target::TargetPeriod;

use super::analytics::{self, Asked};
use super::{Ctx, Failure, blocking, failure, frame, respond};
use crate::AppState;
use crate::i18n::Lang;

/// The campaigns page.
pub async fn campaigns_page(
    State(st): State<AppState>,
    ctx: Ctx,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let l = ctx.lang;
    let group = match Asked::read(l, &q) {
        Ok(a) => a,
        Err(f) => return analytics::analytic_failure(&ctx, l.t("campaigns.title"), f),
    };
    let asked = q
        .get("period")
        .map(|p| p.trim())
        .filter(|p| !p.is_empty())
        .map(|p| {
            TargetPeriod::parse(p)
                .map_err(|_| Failure::Invalid(l.f("campaigns.bad_period", &[("period", &p)])))
        })
        .transpose();
    let asked = match asked {
        Ok(a) => a,
        Err(f) => return failure(&ctx, f),
    };
    let now = st.now();
    let inner = st.inner.clone();
    let wanted = group.group.clone();
    let loaded = blocking(move || {
        let books = &inner.books;
        let zone = books.time_zone()?;
        let chosen = match asked {
            Some(p) => p,
            None => {
                let year = chrono::Datelike::year(&zone.date_of(now));
                TargetPeriod::parse(&year.to_string())
                    .map_err(|e| Failure::Internal(e.to_string()))?
            }
        };
        let period = Period::new(chosen.start(), chosen.end())
            .map_err(|e| Failure::Invalid(e.to_string()))?
            .in_zone(zone);
        let at = zone.end_of(period.last_day()).min(now);
        let (stats, segments, members) = books
            .read(|r| {
                Ok((|| {
                    let segments = analytics::segment_names(&r)?;
                    // The group as the books stood at the end of the period (as
                    // `campaign stats` decides it); the figures are the books' now.
                    let cutoff = zone.end_of(period.last_day());
                    let members = if wanted.is_some() && cutoff <= now {
                        r.as_of(cutoff, |v| {
                            analytics::members_of(l, &v, wanted.as_ref(), at)
                        })?
                    } else {
                        analytics::members_of(l, &r, wanted.as_ref(), at)?
                    };
                    let stats = match &members {
                        None => r.campaign_stats(period)?,
                        Some(m) => {
                            let keep = |c| m.contains(c);
                            r.campaign_stats_of(period, Some(&keep))?
                        }
                    };
                    Ok::<_, Failure>((stats, segments, members.map(|m| m.len())))
                })())
            })
            .map_err(Failure::from)??;
        Ok((chosen, stats, segments, members))
    })
    .await;
    let title = l.t("campaigns.title");
    match loaded {
        Ok((chosen, stats, segments, members)) => {
            let shown = Shown {
                chosen: &chosen,
                segments: &segments,
                members,
                asked: &group,
            };
            respond(StatusCode::OK, frame(&ctx, title, body(l, &shown, &stats)))
        }
        Err(f @ Failure::Invalid(_)) => analytics::analytic_failure(&ctx, title, f),
        Err(f) => failure(&ctx, f),
    }
}

fn or_dash<T: ToString>(v: Option<T>) -> String {
    v.map_or_else(|| "–".to_owned(), |v| v.to_string())
}

fn roi(f: &CampaignFigures) -> String {
    or_dash(
        f.roi
            .map(|r| format!("{} %", (r * rust_decimal::Decimal::ONE_HUNDRED).round_dp(1))),
    )
}

/// What the page was asked and the filter's choices.
struct Shown<'a> {
    chosen: &'a TargetPeriod,
    segments: &'a [solocrm_core::Label],
    members: Option<usize>,
    asked: &'a Asked,
}

fn body(l: Lang, shown: &Shown<'_>, s: &CampaignSection) -> Markup {
    let chosen = shown.chosen;
    let period = chosen.to_string();
    html! {
        h1 { (l.t("campaigns.title")) }
        form.filters method="get" action="/campaigns" {
            label { (l.t("campaigns.period")) " "
                input type="text" name="period" value=(period) size="8";
            }
            @if !shown.asked.segment.is_empty() { input type="hidden" name="segment" value=(shown.asked.segment); }
            @if !shown.asked.stage.is_empty() { input type="hidden" name="stage" value=(shown.asked.stage); }
            " " button type="submit" { (l.t("campaigns.show")) }
        }
        (analytics::group_form(l, "/campaigns", shown.segments, shown.asked, &[("period", &period)], false))
        (analytics::group_line(l, shown.asked.group.as_ref(), shown.members))
        p.note { (l.t("campaigns.explain")) }
        @if s.campaigns.is_empty() {
            p.empty { (l.t("campaigns.none")) }
        } @else {
            table #campaigns {
                thead { tr {
                    th { (l.t("campaigns.name")) } th { (l.t("campaigns.channel")) }
                    th.num { (l.t("campaigns.budget")) } th.num { (l.t("campaigns.cost")) }
                    th.num { (l.t("campaigns.acquired")) } th.num { "CAC" }
                    th.num { (l.t("campaigns.revenue")) } th.num { (l.t("campaigns.won")) }
                    th.num { "ROI" }
                } }
                tbody {
                    @for c in &s.campaigns {
                        tr {
                            td { (c.name) } td { (c.channel) }
                            td.num { (or_dash(c.budget)) }
                            (figures(&c.figures))
                        }
                    }
                }
            }
            h2 { (l.t("campaigns.by_channel")) }
            table #campaign-channels {
                thead { tr {
                    th { (l.t("campaigns.channel")) } th.num { (l.t("campaigns.count")) }
                    th.num { (l.t("campaigns.cost")) } th.num { (l.t("campaigns.acquired")) }
                    th.num { "CAC" } th.num { (l.t("campaigns.revenue")) }
                    th.num { (l.t("campaigns.won")) } th.num { "ROI" }
                } }
                tbody {
                    @for c in &s.channels {
                        tr {
                            td { (c.channel) } td.num { (c.campaigns) }
                            (figures(&c.figures))
                        }
                    }
                }
            }
        }
    }
}

/// The figure cells of a row: cost to ROI.
fn figures(f: &CampaignFigures) -> Markup {
    html! {
        td.num { (f.cost) }
        td.num { (f.customers_acquired) }
        td.num { (or_dash(f.cac)) }
        td.num { (f.revenue) }
        td.num { (f.deals_won) " (" (f.won_value) ")" }
        td.num { (roi(f)) }
    }
}
