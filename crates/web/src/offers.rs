//! Offers (issue 18): `/offers` lists every coupon with its window, limits, status
//! today and performance (redemptions, customers, revenue, discount given, new
//! buyers over [`LOOKBACK`] days, as `offer stats` counts them), a button to end the
//! ones still usable, and a form to add one. A purchase uses a coupon through the
//! customer page's purchase form.

use solocrm_app::groups::CustomerGroup;
use solocrm_app::offers::{OfferStatus, limits, status, value_of};
use solocrm_core::offer::{Offer, OfferCode, OfferStats};

use super::*;

/// The look-back of new (incremental) buyers, in business days: `offer stats`'s
/// default.
const LOOKBACK: u32 = 90;
/// The form that adds an offer.
const ADD: &str = "offer-add";

/// An offer with how it did.
struct Row {
    offer: Offer,
    stats: OfferStats,
}

/// What `/offers` shows.
struct Listed {
    rows: Vec<Row>,
    zone: BusinessZone,
    /// The saved segments' names, for the group filter.
    segments: Vec<Label>,
    /// How many customers the asked group has (none without a group).
    members: Option<usize>,
}

/// Every offer with its figures, of every customer or of `group`'s only (as `offer
/// stats --segment/--stage` counts them: the group decided now, every coupon's figures
/// from the same snapshot); an unknown segment is `Failure::Invalid`.
async fn load_offers(
    st: &AppState,
    l: Lang,
    group: Option<CustomerGroup>,
) -> Result<Listed, Failure> {
    let books = st.inner.books.clone();
    let now = st.now();
    blocking(move || {
        let zone = books.time_zone()?;
        let at = zone.end_of(zone.date_of(now)).min(now);
        let (rows, segments, members) = books
            .crm()
            .read(|r| {
                Ok((|| {
                    let segments = analytics::segment_names(&r)?;
                    let members = analytics::members_of(l, &r, group.as_ref(), at)?;
                    let keep = |c| members.as_ref().is_none_or(|m| m.contains(c));
                    let mut rows = Vec::new();
                    for offer in r.offers()? {
                        let stats = r.offer_stats_where(&offer.code, LOOKBACK, &keep)?;
                        rows.push(Row { offer, stats });
                    }
                    Ok::<_, Failure>((rows, segments, members))
                })())
            })
            .map_err(Failure::from)??;
        Ok(Listed {
            rows,
            zone,
            segments,
            members: members.map(|m| m.len()),
        })
    })
    .await
}

/// `GET /offers` (`?segment=NAME` or `?stage=STAGE` counts the performance of that
/// group's customers only, 422 for a bad one).
pub async fn offers(
    State(st): State<AppState>,
    ctx: Ctx,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let asked = match analytics::Asked::read(ctx.lang, &q) {
        Ok(a) => a,
        Err(f) => return analytics::analytic_failure(&ctx, ctx.lang.t("offers.title"), f),
    };
    show_offers(&st, &ctx, StatusCode::OK, None, &asked).await
}

async fn show_offers(
    st: &AppState,
    ctx: &Ctx,
    code: StatusCode,
    state: Option<&FormState>,
    asked: &analytics::Asked,
) -> Response {
    match load_offers(st, ctx.lang, asked.group.clone()).await {
        Ok(listed) => {
            let today = listed.zone.date_of(st.now());
            respond(code, offers_page(ctx, &listed, today, state, asked))
        }
        Err(f) => analytics::analytic_failure(ctx, ctx.lang.t("offers.title"), f),
    }
}

fn status_label(l: Lang, s: OfferStatus) -> &'static str {
    l.label("ostatus", s.as_str())
}

fn offers_page(
    ctx: &Ctx,
    listed: &Listed,
    today: NaiveDate,
    state: Option<&FormState>,
    asked: &analytics::Asked,
) -> Markup {
    let l = ctx.lang;
    let rows = &listed.rows;
    let kinds: Vec<(&'static str, &'static str)> = solocrm_app::offers::KINDS
        .iter()
        .map(|k| (*k, l.label("okind", k)))
        .collect();
    let body = html! {
        (analytics::group_form(l, "/offers", &listed.segments, asked, &[], false))
        (analytics::group_line(l, asked.group.as_ref(), listed.members))
        @if rows.is_empty() {
            p.empty #no-offers { (l.t("offers.none")) }
        } @else {
            table #offers {
                thead { tr {
                    th { (l.t("offers.code")) } th { (l.t("col.kind")) } th { (l.t("offers.value")) }
                    th { (l.t("offers.valid")) } th { (l.t("offers.limits")) } th { (l.t("offers.status")) }
                    th.num { (l.t("offers.used")) } th.num { (l.t("offers.customers")) }
                    th.num { (l.t("products.revenue")) } th.num { (l.t("offers.discount")) }
                    th.num { (l.t("offers.new_buyers")) } th {}
                } }
                tbody {
                    @for r in rows {
                        @let o = &r.offer;
                        @let s = status(o, today);
                        tr data-code=(o.code) data-status=(s.as_str()) {
                            td { (o.code) }
                            td { (l.label("okind", o.benefit.kind())) }
                            td { bdi { (value_of(&o.benefit)) } }
                            td { (o.valid_from) " – " (o.valid_until) }
                            td { (limits(o)) }
                            td { (status_label(l, s)) }
                            td.num { (r.stats.redemptions) }
                            td.num { (r.stats.redeemers) }
                            td.num { (r.stats.revenue) }
                            td.num { (r.stats.discount_cost) }
                            td.num { (r.stats.incremental_buyers) }
                            td {
                                @if matches!(s, OfferStatus::Active | OfferStatus::Upcoming) {
                                    form.inline method="post" action=(format!("/offers/{}/end", o.code)) {
                                        button type="submit" { (l.t("offers.end")) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            p.hint { (l.f("offers.new_means", &[("days", &LOOKBACK)])) }
        }
        h2 #add-offer { (l.t("offers.add_title")) }
        form #(ADD) method="post" action="/offers" {
            (field(state, ADD, "code", l.t("offers.code"), "text", ""))
            (choose(state, ADD, "kind", l.t("col.kind"), &kinds, "percent"))
            (field(state, ADD, "value", l.t("offers.value_hint"), "text", ""))
            (field(state, ADD, "from", &format!("{} {}", l.t("offers.from"), l.t("offers.today_if_blank")), "date", ""))
            (field(state, ADD, "until", l.t("offers.until"), "date", ""))
            (field(state, ADD, "per_customer", &format!("{} {}", l.t("offers.per_customer"), l.t("field.optional")), "number", ""))
            (field(state, ADD, "total", &format!("{} {}", l.t("offers.total"), l.t("field.optional")), "number", ""))
            (field(state, ADD, "segment", &format!("{} {}", l.t("offers.segment"), l.t("field.optional")), "text", ""))
            (field(state, ADD, "tier", &format!("{} {}", l.t("offers.tier"), l.t("field.optional")), "text", ""))
            button type="submit" { (l.t("form.add")) }
        }
    };
    frame(ctx, l.t("offers.title"), body)
}

/// Reads the add form into an offer created `now`; `today` is the first day when
/// none is typed.
fn offer_of(
    l: Lang,
    fields: &Fields<'_>,
    values: &HashMap<String, String>,
    currency: Currency,
    today: NaiveDate,
    now: DateTime<Utc>,
) -> Result<Offer, FormState> {
    let code = fields.required("code", OfferCode::parse)?;
    let kind = values.get("kind").map_or("", |k| k.trim());
    if !solocrm_app::offers::KINDS.contains(&kind) {
        return Err(fields.refuse("kind", l.f("offers.bad_kind", &[("kind", &kind)])));
    }
    let benefit = fields.required("value", |v| solocrm_app::offers::benefit(kind, v, currency))?;
    let valid_from = fields
        .optional("from", solocrm_app::values::date)?
        .unwrap_or(today);
    let valid_until = fields.required("until", solocrm_app::values::date)?;
    let limit = |field: &'static str| {
        fields.optional(field, |v| {
            v.parse::<u32>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| l.f("offers.bad_limit", &[("value", &v)]))
        })
    };
    let per_customer = limit("per_customer")?;
    let total = limit("total")?;
    let segment = non_empty(values, "segment");
    let tier = non_empty(values, "tier");
    let audience = solocrm_app::offers::audience(segment.as_deref(), tier.as_deref())
        .map_err(|e| fields.refuse(if segment.is_some() { "segment" } else { "tier" }, e.0))?;
    let offer = Offer {
        code,
        benefit,
        valid_from,
        valid_until,
        per_customer,
        total,
        audience,
        created_at: now,
        ended_at: None,
    };
    if valid_until < valid_from {
        return Err(fields.refuse(
            "until",
            l.f(
                "offers.ends_before",
                &[("until", &valid_until), ("from", &valid_from)],
            ),
        ));
    }
    // The core's own checks (a percentage's range, the dates' span), beside the value.
    offer
        .clone()
        .checked(currency)
        .map_err(|e| fields.refuse("value", e.to_string()))?;
    Ok(offer)
}

/// `POST /offers` (`code`, `kind`, `value`, `from`, `until`, `per_customer`,
/// `total`, `segment` or `tier`): 303 to the list, or 422 with the list and the
/// message beside the field (a code taken too).
pub async fn add_offer(
    State(st): State<AppState>,
    ctx: Ctx,
    Form(values): Form<HashMap<String, String>>,
) -> Response {
    let books = st.inner.books.clone();
    let currency = books.base_currency();
    let zone = {
        let books = books.clone();
        match blocking(move || Ok(books.time_zone()?)).await {
            Ok(z) => z,
            Err(f) => return failure(&ctx, f),
        }
    };
    let now = st.now();
    let fields = Fields::new(ADD, &values);
    let offer = match offer_of(ctx.lang, &fields, &values, currency, zone.date_of(now), now) {
        Ok(o) => o,
        Err(state) => {
            return show_offers(
                &st,
                &ctx,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(&state),
                &analytics::Asked::all(),
            )
            .await;
        }
    };
    let done = blocking(move || Ok(books.add_offer(offer))).await;
    match done {
        Ok(Ok(_)) => Redirect::to("/offers").into_response(),
        Ok(Err(e)) => {
            let at = if e.kind() == StoreErrorKind::Conflict {
                "code"
            } else {
                "value"
            };
            match Failure::from(e) {
                Failure::Invalid(m) => {
                    let state = fields.refuse(at, m);
                    show_offers(
                        &st,
                        &ctx,
                        StatusCode::UNPROCESSABLE_ENTITY,
                        Some(&state),
                        &analytics::Asked::all(),
                    )
                    .await
                }
                f => failure(&ctx, f),
            }
        }
        Err(f) => failure(&ctx, f),
    }
}

/// `POST /offers/{code}/end`: ends the offer now (one already ended stays as it
/// was); 303 to the list, 404 for an unknown code.
pub async fn end_offer(State(st): State<AppState>, ctx: Ctx, Path(raw): Path<String>) -> Response {
    let unknown = || Failure::NotFound(ctx.lang.f("offers.unknown", &[("code", &raw)]));
    let Ok(code) = OfferCode::parse(&raw) else {
        return failure(&ctx, unknown());
    };
    let books = st.inner.books.clone();
    let now = st.now();
    match blocking(move || Ok(books.end_offer(&code, now)?)).await {
        Ok(_) => Redirect::to("/offers").into_response(),
        Err(Failure::NotFound(_)) => failure(&ctx, unknown()),
        Err(f) => failure(&ctx, f),
    }
}
