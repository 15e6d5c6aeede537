//! The product catalogue (issue 18): `/products` lists the products with their sales
//! (units, revenue, margin, buyers, repeat rate) and the sales by category, with a
//! form to add one; `/products/{sku}` shows one product's figures, how many
//! customers bought it and what its buyers also bought, with forms to edit it and to
//! remove it (archived once sold, as `product remove` does). The customer page shows
//! the products recommended for the customer ([`recommended`]).
//!
//! The figures are [`solocrm_app::catalogue`]'s, the ones `product stats` and
//! `recommend` print.

use solocrm_app::catalogue::{ProductView, Recommended, SalesLine, product_view, sales_of};
use solocrm_app::groups::CustomerGroup;
use solocrm_core::ValidationError;
use solocrm_core::ops::ProductRemoval;
use solocrm_core::product::{Product, ProductEdit, Sku};

use super::*;

/// The form that adds a product.
const ADD: &str = "product-add";
/// The form that edits a product.
const EDIT: &str = "product-edit";
/// Products bought together a product page lists.
const TOGETHER: usize = 10;
/// Products recommended on a customer's page.
pub(super) const RECOMMENDED: usize = 5;

/// A path segment, percent-encoded (a SKU may hold `/`, `?`, `#` or Chinese).
pub(super) fn segment(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// An amount as typed, in the books' currency and storable (its minor units), so a
/// refusal lands beside its own field.
fn amount(
    field: &'static str,
    currency: Currency,
) -> impl Fn(&str) -> Result<Money, ValidationError> {
    move |v| Money::parse(v, currency)?.for_storage(field, currency)
}

/// A product's page.
fn product_href(sku: &str) -> String {
    format!("/products/{}", segment(sku))
}

/// What `/products` shows.
struct Listed {
    catalogue: Vec<Product>,
    by_product: Vec<SalesLine>,
    by_category: Vec<SalesLine>,
    per_customer: Option<Decimal>,
    buyers: u64,
    currency: Currency,
    /// The saved segments' names, for the group filter.
    segments: Vec<Label>,
    /// How many customers the asked group has (none without a group).
    members: Option<usize>,
}

/// The catalogue and its sales, of every customer or of `group`'s only (as
/// `product stats --segment/--stage` computes them: the group decided now, its
/// members' purchase lines from the same snapshot); an unknown segment is
/// `Failure::Invalid`.
async fn load_products(
    st: &AppState,
    l: Lang,
    group: Option<CustomerGroup>,
) -> Result<Listed, Failure> {
    let books = st.inner.books.clone();
    let now = st.now();
    blocking(move || {
        let catalogue = books.products()?;
        let zone = books.time_zone()?;
        let at = zone.end_of(zone.date_of(now)).min(now);
        let (log, segments, members) = books
            .crm()
            .read(|r| {
                Ok((|| {
                    let segments = analytics::segment_names(&r)?;
                    let members = analytics::members_of(l, &r, group.as_ref(), at)?;
                    Ok::<_, Failure>((r.line_log()?, segments, members))
                })())
            })
            .map_err(Failure::from)??;
        let log = match &members {
            Some(m) => solocrm_app::groups::only_members_lines(&log, m),
            None => log,
        };
        let currency = books.base_currency();
        let by_product = sales_of(&log, &catalogue, currency, false);
        let by_category = sales_of(&log, &catalogue, currency, true);
        Ok(Listed {
            per_customer: by_product.per_customer.mean(),
            buyers: by_product.per_customer.customers,
            by_product: by_product.rows,
            by_category: by_category.rows,
            catalogue,
            currency,
            segments,
            members: members.map(|m| m.len()),
        })
    })
    .await
}

/// `GET /products` (`?archived=1` lists archived products too; `?segment=NAME` or
/// `?stage=STAGE` counts the sales of that group's customers only, 422 for a bad one).
pub async fn products(
    State(st): State<AppState>,
    ctx: Ctx,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let archived = q.get("archived").is_some_and(|v| v == "1");
    let asked = match analytics::Asked::read(ctx.lang, &q) {
        Ok(a) => a,
        Err(f) => return analytics::analytic_failure(&ctx, ctx.lang.t("products.title"), f),
    };
    show_products(&st, &ctx, archived, StatusCode::OK, None, Some(&asked)).await
}

async fn show_products(
    st: &AppState,
    ctx: &Ctx,
    archived: bool,
    status: StatusCode,
    state: Option<&FormState>,
    asked: Option<&analytics::Asked>,
) -> Response {
    let group = asked.and_then(|a| a.group.clone());
    match load_products(st, ctx.lang, group).await {
        Ok(listed) => respond(status, products_page(ctx, &listed, archived, state, asked)),
        Err(f) => analytics::analytic_failure(ctx, ctx.lang.t("products.title"), f),
    }
}

/// A share as a percentage with one decimal, `–` without one.
fn share(v: Option<Decimal>) -> String {
    v.map_or_else(
        || "–".to_owned(),
        |v| format!("{:.1} %", v * Decimal::ONE_HUNDRED),
    )
}

fn or_dash<T: std::fmt::Display>(v: Option<T>) -> String {
    v.map_or_else(|| "–".to_owned(), |v| v.to_string())
}

fn products_page(
    ctx: &Ctx,
    p: &Listed,
    archived: bool,
    state: Option<&FormState>,
    asked: Option<&analytics::Asked>,
) -> Markup {
    let l = ctx.lang;
    let keep = if archived {
        vec![("archived", "1")]
    } else {
        Vec::new()
    };
    let filter = asked.map(|a| {
        html! {
            (analytics::group_form(l, "/products", &p.segments, a, &keep, false))
            (analytics::group_line(l, a.group.as_ref(), p.members))
        }
    });
    let shown: Vec<&Product> = p
        .catalogue
        .iter()
        .filter(|x| archived || !x.archived)
        .collect();
    // Each row's sales by SKU: one lookup a row, not a scan (10 k products).
    let sales_of: std::collections::HashMap<&str, &SalesLine> = p
        .by_product
        .iter()
        .filter_map(|r| r.key.as_deref().map(|k| (k, r)))
        .collect();
    let body = html! {
        @if let Some(f) = filter { (f) }
        p {
            @if archived {
                a href="/products" { (l.t("products.hide_archived")) }
            } @else {
                a href="/products?archived=1" { (l.t("products.show_archived")) }
            }
        }
        @if shown.is_empty() {
            p.empty #no-products { (l.t("products.none")) }
        } @else {
            table #products {
                thead { tr {
                    th { "SKU" } th { (l.t("products.name")) } th { (l.t("products.category")) }
                    th.num { (l.t("products.price")) } th.num { (l.t("products.cost")) }
                    th.num { (l.t("products.units")) } th.num { (l.t("products.revenue")) }
                    th.num { (l.t("products.margin")) } th.num { (l.t("products.buyers")) }
                    th.num { (l.t("products.repeat")) }
                    @if archived { th { (l.t("products.state")) } }
                } }
                tbody {
                    @for x in &shown {
                        @let s = sales_of.get(x.sku.as_str()).copied();
                        tr data-sku=(x.sku) {
                            td { a href=(product_href(x.sku.as_str())) { bdi { (x.sku) } } }
                            td { bdi { (x.name) } }
                            td { bdi { (or_dash(x.category.as_ref())) } }
                            td.num { (x.price) }
                            td.num { (or_dash(x.cost)) }
                            td.num { (s.map_or(0, |s| s.units)) }
                            td.num { (s.map_or_else(|| Money::zero(p.currency).to_string(), |s| s.revenue.to_string())) }
                            td.num { (or_dash(s.and_then(|s| s.margin))) }
                            td.num { (s.map_or(0, |s| s.buyers)) }
                            td.num { (share(s.and_then(|s| s.repeat_rate))) }
                            @if archived {
                                td { @if x.archived { (l.t("products.archived")) } @else { (l.t("products.active")) } }
                            }
                        }
                    }
                }
            }
        }
        @if let Some(mean) = p.per_customer {
            p #per-customer { (l.f("products.per_customer", &[("mean", &mean.round_dp(2)), ("customers", &p.buyers)])) }
        }
        @if !p.by_category.is_empty() {
            h2 { (l.t("products.by_category")) }
            table #categories {
                thead { tr {
                    th { (l.t("products.category")) } th.num { (l.t("products.units")) }
                    th.num { (l.t("products.revenue")) } th.num { (l.t("products.margin")) }
                    th.num { (l.t("products.buyers")) } th.num { (l.t("products.repeat")) }
                } }
                tbody {
                    @for r in &p.by_category {
                        tr {
                            td { bdi { (r.key.clone().unwrap_or_else(|| l.t("products.uncategorised").to_owned())) } }
                            td.num { (r.units) }
                            td.num { (r.revenue) }
                            td.num { (or_dash(r.margin)) }
                            td.num { (r.buyers) }
                            td.num { (share(r.repeat_rate)) }
                        }
                    }
                }
            }
        }
        h2 #add-product { (l.t("products.add_title")) }
        form #(ADD) method="post" action="/products" {
            (field(state, ADD, "sku", "SKU", "text", ""))
            (field(state, ADD, "name", l.t("products.name"), "text", ""))
            (field(state, ADD, "price", &format!("{} ({})", l.t("products.price"), p.currency), "text", ""))
            (field(state, ADD, "cost", &format!("{} {}", l.t("products.cost"), l.t("field.optional")), "text", ""))
            (field(state, ADD, "category", &format!("{} {}", l.t("products.category"), l.t("field.optional")), "text", ""))
            button type="submit" { (l.t("form.add")) }
        }
    };
    frame(ctx, l.t("products.title"), body)
}

/// The field a store's refusal of a product belongs beside.
fn product_field(e: &StoreError) -> &'static str {
    match e.kind() {
        StoreErrorKind::Conflict => "sku",
        _ => "price",
    }
}

/// `POST /products` (`sku`, `name`, `price`, `cost`, `category`): 303 to the
/// product's page, or 422 with the list and the message beside the field (a SKU
/// taken too).
pub async fn add_product(
    State(st): State<AppState>,
    ctx: Ctx,
    Form(values): Form<HashMap<String, String>>,
) -> Response {
    let books = st.inner.books.clone();
    let currency = books.base_currency();
    let fields = Fields::new(ADD, &values);
    let parsed = (|| {
        let sku = fields.required("sku", Sku::parse)?;
        let name = fields.required("name", Label::parse)?;
        let price = fields.required("price", amount("price", currency))?;
        let mut p = Product::new(sku, name, price);
        p.cost = fields.optional("cost", amount("cost", currency))?;
        p.category = fields.optional("category", Label::parse)?;
        Ok::<_, FormState>(p)
    })();
    let product = match parsed {
        Ok(p) => p,
        Err(state) => {
            return show_products(
                &st,
                &ctx,
                false,
                UNPROCESSABLE,
                Some(&state),
                Some(&analytics::Asked::all()),
            )
            .await;
        }
    };
    let done = blocking(move || Ok(books.add_product(product))).await;
    match done {
        Ok(Ok(p)) => Redirect::to(&product_href(p.sku.as_str())).into_response(),
        Ok(Err(e)) => {
            let at = product_field(&e);
            match Failure::from(e) {
                Failure::Invalid(m) => {
                    let state = fields.refuse(at, m);
                    show_products(
                        &st,
                        &ctx,
                        false,
                        UNPROCESSABLE,
                        Some(&state),
                        Some(&analytics::Asked::all()),
                    )
                    .await
                }
                f => failure(&ctx, f),
            }
        }
        Err(f) => failure(&ctx, f),
    }
}

const UNPROCESSABLE: StatusCode = StatusCode::UNPROCESSABLE_ENTITY;

/// The SKU of a path, or the 404 of an unknown product.
fn sku_of(ctx: &Ctx, raw: &str) -> Result<Sku, Failure> {
    Sku::parse(raw).map_err(|_| unknown(ctx, raw))
}

fn unknown(ctx: &Ctx, raw: &str) -> Failure {
    Failure::NotFound(ctx.lang.f("products.unknown", &[("sku", &raw)]))
}

async fn show_product(
    st: &AppState,
    ctx: &Ctx,
    raw: &str,
    status: StatusCode,
    state: Option<&FormState>,
) -> Response {
    let sku = match sku_of(ctx, raw) {
        Ok(s) => s,
        Err(f) => return failure(ctx, f),
    };
    let books = st.inner.books.clone();
    let loaded = blocking(move || {
        let currency = books.base_currency();
        Ok((product_view(books.crm(), &sku, TOGETHER)?, currency))
    })
    .await;
    match loaded {
        Ok((view, currency)) => respond(status, product_page(ctx, &view, currency, state)),
        Err(Failure::NotFound(_)) => failure(ctx, unknown(ctx, raw)),
        Err(f) => failure(ctx, f),
    }
}

/// `GET /products/{sku}`.
pub async fn product(State(st): State<AppState>, ctx: Ctx, Path(raw): Path<String>) -> Response {
    show_product(&st, &ctx, &raw, StatusCode::OK, None).await
}

fn product_page(
    ctx: &Ctx,
    v: &ProductView,
    currency: Currency,
    state: Option<&FormState>,
) -> Markup {
    let l = ctx.lang;
    let p = &v.product;
    let href = product_href(p.sku.as_str());
    let states = [
        ("active", l.t("products.active")),
        ("archived", l.t("products.archived")),
    ];
    let body = html! {
        p { a href="/products" { (l.t("products.back")) } }
        section.profile {
            dl #product {
                div { dt { "SKU" } dd { bdi { (p.sku) } } }
                div { dt { (l.t("products.category")) } dd { bdi { (or_dash(p.category.as_ref())) } } }
                div { dt { (l.t("products.price")) } dd { (p.price) } }
                div { dt { (l.t("products.cost")) } dd { (or_dash(p.cost)) } }
                div { dt { (l.t("products.state")) } dd #state {
                    @if p.archived { (l.t("products.archived")) } @else { (l.t("products.active")) }
                } }
            }
        }
        section {
            h2 { (l.t("products.sales")) }
            @match &v.sales {
                None => p.empty #no-sales { (l.t("products.no_sales")) },
                Some(s) => dl #sales {
                    div { dt { (l.t("products.units")) } dd { (s.units) } }
                    div { dt { (l.t("products.revenue")) } dd { (s.revenue) } }
                    div { dt { (l.t("products.margin")) } dd { (or_dash(s.margin)) } }
                    div { dt { (l.t("products.buyers")) } dd #buyers { (s.buyers) } }
                    div { dt { (l.t("products.repeat")) } dd { (share(s.repeat_rate)) } }
                },
            }
        }
        section {
            h2 { (l.t("products.together")) }
            @if v.bought_with.is_empty() {
                p.empty { (l.t("customer.nothing_yet")) }
            } @else {
                table #bought-with {
                    thead { tr { th { "SKU" } th { (l.t("products.name")) } th.num { (l.t("products.both")) } } }
                    tbody {
                        @for b in &v.bought_with {
                            tr {
                                td { a href=(product_href(&b.sku)) { bdi { (b.sku) } } }
                                td { bdi { (or_dash(b.name.as_ref())) } }
                                td.num { (b.customers) }
                            }
                        }
                    }
                }
            }
        }
        div.forms {
            form #(EDIT) method="post" action=(format!("{href}/edit")) {
                h2 { (l.t("products.edit_title")) }
                (field(state, EDIT, "name", l.t("products.name"), "text", p.name.as_str()))
                (field(state, EDIT, "price", &format!("{} ({})", l.t("products.price"), currency), "text", &p.price.amount().to_string()))
                (field(state, EDIT, "cost", &format!("{} {}", l.t("products.cost"), l.t("products.blank_clears")), "text", &p.cost.map(|c| c.amount().to_string()).unwrap_or_default()))
                (field(state, EDIT, "category", &format!("{} {}", l.t("products.category"), l.t("products.blank_clears")), "text", p.category.as_ref().map_or("", |c| c.as_str())))
                (choose(state, EDIT, "state", l.t("products.state"), &states, if p.archived { "archived" } else { "active" }))
                button type="submit" { (l.t("customer.save")) }
            }
            form #product-remove method="post" action=(format!("{href}/remove")) {
                h2 { (l.t("products.remove_title")) }
                p.hint { (l.t("products.remove_explain")) }
                button type="submit" { (l.t("products.remove")) }
            }
        }
    };
    frame(ctx, &l.f("products.heading", &[("name", &p.name)]), body)
}

/// `POST /products/{sku}/edit` (`name`, `price`, `cost` and `category` — blank
/// clears them —, `state` active or archived): 303 to the product's page, 422 with
/// the message beside the field, 404 for an unknown product.
pub async fn edit_product(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(raw): Path<String>,
    Form(values): Form<HashMap<String, String>>,
) -> Response {
    let sku = match sku_of(&ctx, &raw) {
        Ok(s) => s,
        Err(f) => return failure(&ctx, f),
    };
    let books = st.inner.books.clone();
    let currency = books.base_currency();
    let l = ctx.lang;
    let fields = Fields::new(EDIT, &values);
    let parsed = (|| {
        Ok::<_, FormState>(ProductEdit {
            name: Some(fields.required("name", Label::parse)?),
            price: Some(fields.required("price", amount("price", currency))?),
            cost: Some(fields.optional("cost", amount("cost", currency))?),
            category: Some(fields.optional("category", Label::parse)?),
            archived: Some(fields.required("state", |v| match v {
                "active" => Ok(false),
                "archived" => Ok(true),
                _ => Err(l.t("products.bad_state")),
            })?),
        })
    })();
    let edit = match parsed {
        Ok(e) => e,
        Err(state) => return show_product(&st, &ctx, &raw, UNPROCESSABLE, Some(&state)).await,
    };
    let done = blocking(move || Ok(books.edit_product(&sku, &edit))).await;
    match done {
        Ok(Ok(p)) => Redirect::to(&product_href(p.sku.as_str())).into_response(),
        Ok(Err(e)) => match Failure::from(e) {
            Failure::Invalid(m) => {
                let state = fields.refuse("price", m);
                show_product(&st, &ctx, &raw, UNPROCESSABLE, Some(&state)).await
            }
            Failure::NotFound(_) => failure(&ctx, unknown(&ctx, &raw)),
            f => failure(&ctx, f),
        },
        Err(f) => failure(&ctx, f),
    }
}

/// `POST /products/{sku}/remove`: deletes a product never sold, archives one that
/// was (its lines stay exact); 303 to the list, 404 for an unknown product.
pub async fn remove_product(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(raw): Path<String>,
) -> Response {
    let sku = match sku_of(&ctx, &raw) {
        Ok(s) => s,
        Err(f) => return failure(&ctx, f),
    };
    let books = st.inner.books.clone();
    let done = blocking(move || Ok(books.remove_product(&sku)?)).await;
    match done {
        Ok(ProductRemoval::Archived(_)) => Redirect::to("/products?archived=1").into_response(),
        Ok(_) => Redirect::to("/products").into_response(),
        Err(Failure::NotFound(_)) => failure(&ctx, unknown(&ctx, &raw)),
        Err(f) => failure(&ctx, f),
    }
}

/// The customer page's section of the products recommended for them.
pub(super) fn recommended(l: Lang, recs: &[Recommended]) -> Markup {
    html! {
        section.recommended {
            h2 { (l.t("products.recommended")) }
            @if recs.is_empty() {
                p.empty #no-recommendations { (l.t("products.no_recommendations")) }
            } @else {
                table #recommended {
                    thead { tr {
                        th { "SKU" } th { (l.t("products.name")) } th.num { (l.t("products.price")) }
                        th.num { (l.t("products.score")) }
                    } }
                    tbody {
                        @for r in recs {
                            tr {
                                td { a href=(product_href(&r.sku)) { bdi { (r.sku) } } }
                                td { bdi { (r.name) } }
                                td.num { (r.price) }
                                td.num { (format!("{:.3}", r.score)) }
                            }
                        }
                    }
                }
            }
        }
    }
}
