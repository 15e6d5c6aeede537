//! Purchase lines written by hand, `SKU:QTY[:UNIT_PRICE[:DISCOUNT]]`: read here so the
//! CLI (`purchase add --line …`) and the web workspace's purchase form accept the same
//! text and refuse it for the same reasons (issue 18, ADR 0039).
//!
//! A missing (or blank) unit price is the catalogue's list price; the discount is
//! taken off the line as a whole. Whether the purchase's amount equals the lines' sum
//! is the store's check ([`solocrm_core::product::check_lines`]), not this module's.

use solocrm_core::product::{PurchaseLine, Sku};
use solocrm_core::{Money, Store as _, StoreError};

use crate::Books;

/// Why a written line was refused. The frontends word the first two themselves (in
/// their own language); the others carry the message of the value or lookup at fault.
#[derive(Debug)]
pub enum LineProblem {
    /// Not two to four `:`-separated parts.
    Shape,
    /// The quantity (as typed) is not a whole number of at least 1.
    Quantity(String),
    /// The SKU does not parse.
    Sku(String),
    /// The unit price does not parse as money of the books' currency.
    Price(String),
    /// The discount does not parse as money of the books' currency.
    Discount(String),
    /// No unit price was written and the SKU is not in the catalogue (with the
    /// store's message).
    UnknownProduct(Sku, String),
    /// No unit price was written and reading the catalogue failed.
    Lookup(StoreError),
}

impl std::fmt::Display for LineProblem {
    /// The message in English, for a frontend that has no words of its own for it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LineProblem::Shape => f.write_str("expected SKU:QTY[:UNIT_PRICE[:DISCOUNT]]"),
            LineProblem::Quantity(q) => {
                write!(f, "quantity {q} is not a whole number of at least 1")
            }
            LineProblem::Sku(m) | LineProblem::Price(m) | LineProblem::Discount(m) => {
                f.write_str(m)
            }
            LineProblem::UnknownProduct(_, m) => f.write_str(m),
            LineProblem::Lookup(e) => write!(f, "{e}"),
        }
    }
}

/// A refused line: its number (1-based, as the caller counts them), its text, and why.
#[derive(Debug)]
pub struct LineError {
    /// The line's number: the n-th `--line`, or the n-th line of a text box.
    pub n: usize,
    /// The line as written.
    pub line: String,
    /// What is wrong with it.
    pub problem: LineProblem,
}

impl std::fmt::Display for LineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {} ({}): {}", self.n, self.line, self.problem)
    }
}

impl std::error::Error for LineError {}

/// Reads one line `SKU:QTY[:UNIT_PRICE[:DISCOUNT]]` numbered `n`; `list_price` gives
/// the catalogue's price of a SKU when no unit price is written (called only then).
///
/// ```
/// use solocrm_app::lines::{LineProblem, parse_line};
/// use solocrm_core::{Currency, Money};
/// let cny = Currency::CNY;
/// let list = |_: &solocrm_core::product::Sku| Ok(Money::parse("30.00", cny).unwrap());
/// let l = parse_line(1, "龙井-01:2::5", cny, list).unwrap();
/// assert_eq!(l.quantity, 2);
/// assert_eq!(l.unit_price, Money::parse("30.00", cny).unwrap());
/// assert_eq!(l.discount, Some(Money::parse("5", cny).unwrap()));
/// let e = parse_line(2, "TEA:0", cny, list).unwrap_err();
/// assert!(matches!(e.problem, LineProblem::Quantity(_)));
/// assert_eq!(e.n, 2);
/// ```
///
/// # Errors
///
/// A [`LineError`] naming the line and the first part at fault.
pub fn parse_line(
    n: usize,
    text: &str,
    currency: solocrm_core::Currency,
    list_price: impl FnOnce(&Sku) -> Result<Money, LineProblem>,
) -> Result<PurchaseLine, LineError> {
    let bad = |problem: LineProblem| LineError {
        n,
        line: text.to_owned(),
        problem,
    };
    let parts: Vec<&str> = text.split(':').collect();
    if !(2..=4).contains(&parts.len()) {
        return Err(bad(LineProblem::Shape));
    }
    let sku = Sku::parse(parts[0]).map_err(|e| bad(LineProblem::Sku(e.to_string())))?;
    let quantity: u32 = parts[1]
        .trim()
        .parse()
        .ok()
        .filter(|q| *q > 0)
        .ok_or_else(|| bad(LineProblem::Quantity(parts[1].to_owned())))?;
    let unit_price = match parts.get(2).filter(|s| !s.trim().is_empty()) {
        Some(p) => Money::parse(p, currency).map_err(|e| bad(LineProblem::Price(e.to_string())))?,
        None => list_price(&sku).map_err(bad)?,
    };
    let discount = parts
        .get(3)
        .map(|d| Money::parse(d, currency))
        .transpose()
        .map_err(|e| bad(LineProblem::Discount(e.to_string())))?;
    Ok(PurchaseLine {
        sku,
        quantity,
        unit_price,
        discount,
    })
}

/// Reads numbered lines against the books: money in their base currency, a missing
/// unit price the catalogue's list price.
///
/// # Errors
///
/// The first line's [`LineError`].
pub fn parse_lines<'a>(
    books: &Books,
    lines: impl IntoIterator<Item = (usize, &'a str)>,
) -> Result<Vec<PurchaseLine>, LineError> {
    let currency = books.base_currency();
    lines
        .into_iter()
        .map(|(n, text)| {
            parse_line(n, text, currency, |sku| match books.product(sku) {
                Ok(p) => Ok(p.price),
                Err(e @ StoreError::NotFound { .. }) => {
                    Err(LineProblem::UnknownProduct(sku.clone(), e.to_string()))
                }
                Err(e) => Err(LineProblem::Lookup(e)),
            })
        })
        .collect()
}

/// The lines of a text box, one per row: blank rows skipped, each kept with its row
/// number (1-based) so a refusal names the row the user sees.
///
/// ```
/// use solocrm_app::lines::rows;
/// let r: Vec<_> = rows("TEA:1\n\n  CUP:2 \r\n").collect();
/// assert_eq!(r, vec![(1, "TEA:1"), (3, "CUP:2")]);
/// ```
pub fn rows(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim()))
        .filter(|(_, l)| !l.is_empty())
}
