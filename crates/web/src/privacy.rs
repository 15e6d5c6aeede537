//! A customer's personal data from their page (issue 15): the download of everything
//! kept about them, the JSON `solocrm customer export` prints, and the erasure, after
//! the customer's number is typed to confirm it, through the same store call as
//! `solocrm customer erase --yes` (then the SQLite log is folded into the file, so no
//! old copy stays behind).

use super::*;

/// The form of the erasure.
const ERASE: &str = "erase";

/// The privacy section of a customer's page: the download link, and the erase form
/// unless they are erased already.
pub(super) fn section(l: Lang, c: &Customer, state: Option<&FormState>) -> Markup {
    let id = c.id();
    html! {
        section #privacy {
            h2 { (l.t("privacy.title")) }
            p { a #export-json href=(format!("/customers/{id}/export.json")) download { (l.t("privacy.export")) } }
            @if !c.is_erased() {
                p { a #export-vcard href=(format!("/customers/{id}/vcard.vcf")) download { (l.t("privacy.vcard")) } }
            }
            @if c.is_erased() {
                @if let Some(m) = error_for(state, ERASE, "confirm") { p.error role="alert" { (m) } }
            } @else {
                form #form-erase method="post" action=(format!("/customers/{id}/erase")) {
                    p { (l.t("privacy.erase_explain")) }
                    (field(state, ERASE, "confirm", &l.f("privacy.erase_confirm", &[("id", &id)]), "text", ""))
                    button type="submit" { (l.t("privacy.erase_button")) }
                }
            }
        }
    }
}

/// `GET /customers/{id}/export.json`: everything kept about the customer, as
/// `solocrm customer export` prints it, as a download; 404 for an unknown customer.
pub async fn export_customer(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(raw): Path<String>,
) -> Response {
    let missing = || Failure::NotFound(ctx.lang.f("error.no_customer", &[("id", &raw)]));
    let Some(id) = parse_id(&raw) else {
        return failure(&ctx, missing());
    };
    let books = st.inner.books.clone();
    let found = blocking(move || {
        let export = books.read(|r| r.export_customer(CustomerId::new(id)))?;
        serde_json::to_vec_pretty(&export)
            .map_err(|e| Failure::Internal(format!("customer {id}'s export: {e}")))
    })
    .await;
    match found {
        Ok(mut body) => {
            body.push(b'\n');
            (
                [
                    (
                        header::CONTENT_TYPE,
                        "application/json; charset=utf-8".to_owned(),
                    ),
                    (
                        header::CONTENT_DISPOSITION,
                        format!("attachment; filename=\"customer-{id}.json\""),
                    ),
                ],
                body,
            )
                .into_response()
        }
        Err(Failure::NotFound(_)) => failure(&ctx, missing()),
        Err(f) => failure(&ctx, f),
    }
}

/// `GET /customers/{id}/vcard.vcf`: the customer's contact card (vCard 4.0, as
/// `export customers --format vcard` writes it, with the same stable UID); 404 for an
/// unknown or erased customer (an erased customer has no card).
pub async fn vcard(State(st): State<AppState>, ctx: Ctx, Path(raw): Path<String>) -> Response {
    let missing = || Failure::NotFound(ctx.lang.f("error.no_customer", &[("id", &raw)]));
    let Some(id) = parse_id(&raw) else {
        return failure(&ctx, missing());
    };
    let books = st.inner.books.clone();
    let found = blocking(move || {
        let customer = books
            .read(|r| r.tx().customer(CustomerId::new(id)))?
            .filter(|c| !c.is_erased());
        match customer {
            Some(c) => Ok(Some(solocrm_app::exchange::vcard::write_vcards(
                &[c],
                &books.book_id()?,
            ))),
            None => Ok(None),
        }
    })
    .await;
    match found {
        Ok(Some(card)) => (
            [
                (header::CONTENT_TYPE, "text/vcard; charset=utf-8".to_owned()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"customer-{id}.vcf\""),
                ),
            ],
            card,
        )
            .into_response(),
        Ok(None) => failure(&ctx, missing()),
        Err(f) => failure(&ctx, f),
    }
}

/// `POST /customers/{id}/erase` (`confirm`: the customer's number, typed): erases the
/// customer's personal data as `customer erase --yes` does, then folds the SQLite log
/// into the file; 303 to their (now anonymous) page. Without the right number: 422
/// beside the field, nothing erased. If another program held the books open and the
/// log kept an old copy, a page says so and how to finish.
pub async fn erase_customer(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(raw): Path<String>,
    Form(values): Form<HashMap<String, String>>,
) -> Response {
    let l = ctx.lang;
    let Some(id) = parse_id(&raw) else {
        return show_customer(&st, &ctx, &raw, StatusCode::NOT_FOUND, None).await;
    };
    if values.get("confirm").map(|v| v.trim()) != Some(id.to_string().as_str()) {
        let m = l.f("privacy.unconfirmed", &[("id", &id)]);
        return refused(
            &st,
            &ctx,
            &raw,
            FormState::new(ERASE, "confirm", m, &values),
        )
        .await;
    }
    let now = st.now();
    let books = st.inner.books.clone();
    let done = blocking(move || {
        Ok(books
            .write(|w| w.erase_customer(CustomerId::new(id), now))
            .map(|_| {
                // Fold the log into the file: the old pages go with it.
                books
                    .sqlite()
                    .is_none_or(|s| s.checkpoint().unwrap_or(false))
            }))
    })
    .await;
    match done {
        Ok(Ok(true)) => {
            st.forget_kept_views();
            st.after_write().await;
            Redirect::to(&format!("/customers/{id}")).into_response()
        }
        Ok(Ok(false)) => {
            st.forget_kept_views();
            st.after_write().await;
            let body = html! {
                p.message role="alert" { (l.t("privacy.not_scrubbed")) }
                p { a href=(format!("/customers/{id}")) { (l.t("privacy.back")) } }
            };
            respond(
                StatusCode::OK,
                frame(&ctx, &l.f("privacy.erased_title", &[("id", &id)]), body),
            )
        }
        Ok(Err(e)) => {
            after_customer_form(&st, &ctx, &raw, ERASE, "confirm", &values, Ok(Err(e))).await
        }
        Err(f) => failure(&ctx, f),
    }
}
