//! Purchase lines on the customer page (issue 18, ADR 0039): the purchase form's text
//! box of lines, one `SKU:QTY[:UNIT_PRICE[:DISCOUNT]]` per row, read by
//! [`solocrm_app::lines`] as `purchase add --line` reads its flags; and the table of
//! the customer's purchases with their lines.

use solocrm_app::lines::{LineError, LineProblem};
use solocrm_core::product::{PurchaseLine, lines_total};
use solocrm_core::{ActivityQuery, Purchase, ValidationError};

use super::*;

/// The purchase form.
pub(super) const FORM: &str = "purchase";

/// The words of a refused line, naming its row.
pub(super) fn line_message(l: Lang, e: &LineError) -> String {
    let why = match &e.problem {
        LineProblem::Shape => l.t("lines.shape").to_owned(),
        LineProblem::Quantity(q) => l.f("lines.quantity", &[("qty", q)]),
        LineProblem::UnknownProduct(sku, _) => l.f("lines.unknown_product", &[("sku", sku)]),
        other => other.to_string(),
    };
    l.f(
        "lines.bad",
        &[("n", &e.n), ("line", &e.line), ("why", &why)],
    )
}

/// The lines' text box, with its message and what was typed.
pub(super) fn lines_box(l: Lang, state: Option<&FormState>) -> Markup {
    let id = format!("{FORM}-lines");
    let error = error_for(state, FORM, "lines");
    let shown = typed(state, FORM, "lines");
    let hint_id = format!("{id}-hint");
    html! {
        div.field {
            label for=(id) { (l.t("lines.label")) " " (l.t("field.optional")) }
            @if let Some(e) = error {
                textarea id=(id) name="lines" rows="3" aria-invalid="true"
                    aria-describedby=(format!("{id}-error {hint_id}")) { (shown) }
                span.error id=(format!("{id}-error")) role="alert" { (e) }
            } @else {
                textarea id=(id) name="lines" rows="3" aria-describedby=(hint_id) { (shown) }
            }
            small.hint id=(hint_id) { (l.t("lines.hint")) }
        }
    }
}

/// What the purchase form asks the books to record.
pub(super) enum Recording {
    /// A purchase without lines, with a coupon or not.
    Plain,
    /// A purchase with the lines of the text box; the amount, if typed, must be their
    /// exact sum.
    Lines(String),
}

/// A refusal beside a field, or the store's error.
pub(super) type Refusal = Result<(&'static str, String), StoreError>;

/// Reads and checks the text box's lines against the books, then records the purchase
/// with them: the amount is the lines' sum when none was typed. A bad row is refused
/// beside the lines naming the row; an amount other than the sum beside the amount.
pub(super) fn record_with_lines(
    books: &solocrm_app::Books,
    l: Lang,
    text: &str,
    amount: Option<Money>,
    new: impl FnOnce(Money) -> NewPurchase,
) -> Result<(), Refusal> {
    let currency = books.base_currency();
    let rows: Vec<(usize, &str)> = solocrm_app::lines::rows(text).collect();
    let lines = solocrm_app::lines::parse_lines(books, rows.iter().copied())
        .map_err(|e| Ok(("lines", line_message(l, &e))))?;
    // Each line's own checks (whole minor units, a discount within the gross), here so
    // the message names the row.
    for ((n, row), line) in rows.iter().zip(&lines) {
        if let Err(e) = line.clone().for_storage(currency) {
            let e = LineError {
                n: *n,
                line: (*row).to_owned(),
                problem: LineProblem::Price(e.to_string()),
            };
            return Err(Ok(("lines", line_message(l, &e))));
        }
    }
    let amount = match amount {
        Some(a) => a,
        None => lines_total(&lines, currency).map_err(|e| Ok(("lines", e.to_string())))?,
    };
    match books.record_purchase_with_lines(new(amount), lines) {
        Ok(_) => Ok(()),
        Err(StoreError::Validation(e @ ValidationError::LinesTotal { .. })) => {
            Err(Ok(("amount", e.to_string())))
        }
        Err(
            e @ (StoreError::NotFound {
                entity: solocrm_core::Entity::Product,
                ..
            }
            | StoreError::Validation(_)),
        ) => Err(Ok(("lines", e.to_string()))),
        Err(e) if e.kind() == StoreErrorKind::Conflict => Err(Ok(("lines", e.to_string()))),
        Err(e) => Err(Err(e)),
    }
}

/// What the purchase form records: lines if the text box has any.
pub(super) fn recording(values: &HashMap<String, String>) -> Recording {
    match values.get("lines") {
        Some(t) if solocrm_app::lines::rows(t).next().is_some() => Recording::Lines(t.clone()),
        _ => Recording::Plain,
    }
}

/// The customer's purchases that have lines, newest first, each with its lines.
pub(super) fn load(
    books: &solocrm_app::Books,
    customer: CustomerId,
) -> Result<Vec<(Purchase, Vec<PurchaseLine>)>, StoreError> {
    let query = ActivityQuery {
        customer: Some(customer),
        ..ActivityQuery::ALL
    };
    let mut out = Vec::new();
    for p in books.purchases(&query)?.into_iter().rev() {
        let lines = books.purchase_lines(p.id())?;
        if !lines.is_empty() {
            out.push((p, lines));
        }
    }
    Ok(out)
}

/// The table of the customer's purchases with lines: one row per line, the purchase's
/// date, id and amount on its first.
pub(super) fn section(
    l: Lang,
    zone: BusinessZone,
    rows: &[(Purchase, Vec<PurchaseLine>)],
) -> Markup {
    html! {
        @if !rows.is_empty() {
            section.purchase-lines {
                h2 { (l.t("lines.title")) }
                table #purchase-lines {
                    thead { tr {
                        th { (l.t("col.date")) } th { (l.t("lines.purchase")) }
                        th { "SKU" } th.num { (l.t("lines.quantity_col")) }
                        th.num { (l.t("lines.unit_price")) } th.num { (l.t("lines.discount")) }
                        th.num { (l.t("lines.total")) }
                    } }
                    tbody {
                        @for (p, lines) in rows {
                            @for (i, line) in lines.iter().enumerate() {
                                tr data-purchase=(p.id()) {
                                    @if i == 0 {
                                        td { (day_of(zone, p.at())) }
                                        td { "#" (p.id()) " · " (p.amount()) }
                                    } @else {
                                        td {} td {}
                                    }
                                    td { bdi {
                                        a href=(format!("/products/{}", catalogue::segment(line.sku.as_str()))) { (line.sku) }
                                    } }
                                    td.num { (line.quantity) }
                                    td.num { (line.unit_price) }
                                    td.num { (line.discount.map(|d| d.to_string()).unwrap_or_default()) }
                                    td.num { (line.total().map(|t| t.to_string()).unwrap_or_default()) }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
