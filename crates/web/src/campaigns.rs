//! `/campaigns`: every campaign with its figures over a period (read-only): cost,
//! budget beside it, customers acquired, CAC, revenue net of refunds, won deals and
//! ROI, then the same per channel. `?period=2026-11` (a month, quarter `2026-Q4` or
//! year `2026`) chooses the period; by default the calendar year of today.

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use maud::{Markup, html};
use solocrm_core::metrics::{CampaignFigures, CampaignSection, Period};
use solocrm_core::target::TargetPeriod;

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
        let stats = books
            .read(|r| Ok(r.campaign_stats(period)))
            .map_err(Failure::from)?
            .map_err(Failure::from)?;
        Ok((chosen, stats))
    })
    .await;
    let title = l.t("campaigns.title");
    match loaded {
        Ok((chosen, stats)) => {
            respond(StatusCode::OK, frame(&ctx, title, body(l, &chosen, &stats)))
        }
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

fn body(l: Lang, chosen: &TargetPeriod, s: &CampaignSection) -> Markup {
    html! {
        h1 { (l.t("campaigns.title")) }
        form.filters method="get" action="/campaigns" {
            label { (l.t("campaigns.period")) " "
                input type="text" name="period" value=(chosen.to_string()) size="8";
            }
            " " button type="submit" { (l.t("campaigns.show")) }
        }
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
