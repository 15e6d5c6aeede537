//! A customer's needs and pain points on their page (issue 18, ADR 0035): the open
//! entries with a button to resolve each, and a form to record one. A refused form
//! comes back with 422 and its message; a write answers 303 back to the page.

use solocrm_core::need::{NeedKind, NewNeed};
use solocrm_core::{DealId, NeedId};

use super::*;

/// The form that records an entry.
const ADD: &str = "need";

/// The form that resolves entry `id`.
fn resolve_form(id: NeedId) -> String {
    format!("need-{id}")
}

/// The needs section of a customer's page (nothing to add for an erased customer).
pub(super) fn section(
    l: Lang,
    page: &CustomerPage,
    zone: BusinessZone,
    state: Option<&FormState>,
) -> Markup {
    let c = &page.export.customer;
    let id = c.id();
    let open: Vec<&solocrm_core::need::Need> =
        page.export.needs.iter().filter(|n| n.is_open()).collect();
    let kinds: Vec<(&'static str, &'static str)> = NeedKind::ALL
        .iter()
        .map(|k| (k.as_str(), l.label("nkind", k.as_str())))
        .collect();
    let optional = |label: &str| format!("{} {}", l.t(label), l.t("field.optional"));
    html! {
        section #needs {
            h2 { (l.t("needs.title")) }
            // A refused resolve: its entry may no longer be listed as open.
            @if let Some(s) = state.filter(|s| s.form.starts_with("need-") && s.field == "resolve") {
                p.error role="alert" { (s.message) }
            }
            @if open.is_empty() {
                p.empty { (l.t("needs.none_open")) }
            } @else {
                table #open-needs {
                    tbody {
                        @for n in &open {
                            tr data-need=(n.id) data-kind=(n.kind.as_str()) {
                                td { (day_of(zone, n.at)) }
                                td { (l.label("nkind", n.kind.as_str())) }
                                td { bdi { (n.key) } }
                                td { @if let Some(d) = n.deal { (l.f("needs.of_deal", &[("deal", &d)])) } }
                                td { @if let Some(note) = &n.note { bdi { (note) } } }
                                td {
                                    form.inline method="post" action=(format!("/customers/{id}/needs/{}/resolve", n.id)) {
                                        button type="submit" { (l.t("needs.resolve")) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            // A refusal with the form hidden (the customer was erased meanwhile).
            @if c.is_erased() {
                @if let Some(s) = state.filter(|s| s.form == ADD) {
                    p.error role="alert" { (s.message) }
                }
            }
            @if !c.is_erased() {
                form #form-need method="post" action=(format!("/customers/{id}/needs")) {
                    h3 { (l.t("needs.add")) }
                    (select(state, ADD, "kind", l.t("needs.kind"), &kinds))
                    (field(state, ADD, "key", l.t("needs.key"), "text", ""))
                    (field(state, ADD, "deal", &optional("needs.deal"), "text", ""))
                    (field(state, ADD, "note", &optional("form.note"), "text", ""))
                    button type="submit" { (l.t("form.add")) }
                }
            }
        }
    }
}

/// `POST /customers/{id}/needs` (`kind`, `key`, optional `deal` and `note`).
pub async fn add_need(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(raw): Path<String>,
    Form(values): Form<HashMap<String, String>>,
) -> Response {
    let Some(id) = parse_id(&raw) else {
        return show_customer(&st, &ctx, &raw, StatusCode::NOT_FOUND, None).await;
    };
    let fields = Fields::new(ADD, &values);
    let parsed = (|| {
        Ok::<_, FormState>((
            fields.required("kind", NeedKind::parse_any)?,
            fields.required("key", Tag::parse)?,
            fields.optional("deal", |s| s.parse::<DealId>())?,
            fields.optional("note", FreeText::parse)?,
        ))
    })();
    let (kind, key, deal, note) = match parsed {
        Ok(p) => p,
        Err(state) => return refused(&st, &ctx, &raw, state).await,
    };
    let now = st.now();
    let books = st.inner.books.clone();
    let result = blocking(move || {
        Ok(books
            .write(|w| {
                w.record_need(NewNeed {
                    customer: CustomerId::new(id),
                    deal,
                    kind,
                    key: key.clone(),
                    note: note.clone(),
                    at: now,
                })
            })
            .map(|_| ()))
    })
    .await;
    // A deal number that names no deal, or another customer's deal, is the deal
    // field's fault: the form comes back with the message beside it (422).
    if let Ok(Err(
        e @ StoreError::NotFound {
            entity: solocrm_core::Entity::Deal,
            ..
        },
    ))
    | Ok(Err(e @ StoreError::Conflict(solocrm_core::Conflict::DealOfAnotherCustomer { .. }))) =
        &result
    {
        let state = FormState::new(ADD, "deal", e.to_string(), &values);
        return refused(&st, &ctx, &raw, state).await;
    }
    after_customer_form(&st, &ctx, &raw, ADD, "key", &values, result).await
}

/// `POST /customers/{id}/needs/{need}/resolve`: resolved now. An entry of another
/// customer is not found; one resolved or voided already comes back with 422.
pub async fn resolve_need(
    State(st): State<AppState>,
    ctx: Ctx,
    Path((raw, need)): Path<(String, String)>,
    Form(values): Form<HashMap<String, String>>,
) -> Response {
    let (Some(id), Some(need)) = (parse_id(&raw), parse_id(&need)) else {
        return show_customer(&st, &ctx, &raw, StatusCode::NOT_FOUND, None).await;
    };
    let need = NeedId::new(need);
    let form = resolve_form(need);
    let now = st.now();
    let books = st.inner.books.clone();
    let result = blocking(move || {
        Ok(books
            .write(|w| {
                let n = w.reader().need(need)?;
                if n.customer != CustomerId::new(id) {
                    return Err(StoreError::not_found(solocrm_core::Entity::Need, need));
                }
                w.resolve_need(need, now)
            })
            .map(|_| ()))
    })
    .await;
    match result {
        Ok(Ok(())) => {
            st.after_write().await;
            Redirect::to(&format!("/customers/{raw}")).into_response()
        }
        Ok(Err(e)) => match Failure::from(e) {
            Failure::Invalid(m) => {
                let state = FormState::new(&form, "resolve", m, &values);
                show_customer(
                    &st,
                    &ctx,
                    &raw,
                    StatusCode::UNPROCESSABLE_ENTITY,
                    Some(&state),
                )
                .await
            }
            Failure::NotFound(_) => {
                show_customer(&st, &ctx, &raw, StatusCode::NOT_FOUND, None).await
            }
            f => failure(&ctx, f),
        },
        Err(f) => failure(&ctx, f),
    }
}
