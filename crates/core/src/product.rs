//! The product catalogue and the lines of a purchase.
//!
//! A [`Product`] is one thing the business sells, known by its [`Sku`] (unique within
//! a book and never changed once given), with a name, an optional category, a list
//! price and an optional unit cost. A product that some purchase line names is never
//! deleted: removing it archives it (see [`crate::ops::Writer::remove_product`]), so
//! the lines keep pointing at a product and the analytics keep their names.
//!
//! A [`PurchaseLine`] is one row of a purchase: which product, how many whole units, at
//! what unit price, less a line discount. A purchase recorded with lines has an amount
//! equal to the sum of its line totals **exactly** ([`check_lines`]): the amount stays
//! the one figure every metric reads, and the lines explain it. The unit price of a
//! line is what was charged, not the catalogue price, which may have changed since.
//!
//! Products and lines hold no personal data: erasing a customer leaves the lines of
//! their purchases as they are, as it leaves the purchases' amounts and dates (see
//! [`crate::privacy`]).

use serde::{Deserialize, Serialize};

use crate::error::ValidationError;
use crate::money::{Currency, Money};
use crate::text::Label;

/// The most characters a [`Sku`] may have.
pub const MAX_SKU_CHARS: usize = 64;

/// A stock-keeping unit: the code a product is known by, unique within a book. Trimmed,
/// 1 to 64 characters, no whitespace, no control characters, no `:` (which separates
/// the fields of a `--line` argument); compared exactly (case-sensitively).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Sku(String);

impl Sku {
    /// Parses a SKU.
    ///
    /// # Errors
    ///
    /// [`ValidationError::Empty`], [`ValidationError::TooLong`] or
    /// [`ValidationError::ForbiddenCharacter`] (whitespace, a control character or `:`).
    ///
    /// ```
    /// use solocrm_core::product::Sku;
    /// assert_eq!(Sku::parse(" TEA-001 ")?.as_str(), "TEA-001");
    /// assert!(Sku::parse("TEA 001").is_err());
    /// assert!(Sku::parse("A:B").is_err());
    /// # Ok::<(), solocrm_core::ValidationError>(())
    /// ```
    pub fn parse(input: &str) -> Result<Self, ValidationError> {
        let field = "SKU";
        let s = input.trim();
        if s.is_empty() {
            return Err(ValidationError::Empty { field });
        }
        if let Some(c) = s
            .chars()
            .find(|c| c.is_whitespace() || c.is_control() || *c == ':')
        {
            let what = if c == ':' {
                "a colon".to_owned()
            } else if c.is_whitespace() {
                "whitespace".to_owned()
            } else {
                format!("the control character U+{:04X}", u32::from(c))
            };
            return Err(ValidationError::ForbiddenCharacter { field, what });
        }
        let len = s.chars().count();
        if len > MAX_SKU_CHARS {
            return Err(ValidationError::TooLong {
                field,
                len,
                max: MAX_SKU_CHARS,
                unit: "characters",
            });
        }
        Ok(Sku(s.to_owned()))
    }

    /// The code.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Sku {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for Sku {
    type Error = ValidationError;
    fn try_from(s: String) -> Result<Self, ValidationError> {
        Sku::parse(&s)
    }
}

impl From<Sku> for String {
    fn from(s: Sku) -> String {
        s.0
    }
}

impl std::str::FromStr for Sku {
    type Err = ValidationError;
    fn from_str(s: &str) -> Result<Self, ValidationError> {
        Sku::parse(s)
    }
}

/// A product of the catalogue.
///
/// Deserialising checks what [`Product::for_storage`] checks, in the price's own
/// currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "ProductRepr", into = "ProductRepr")]
pub struct Product {
    /// The code it is known by, unique within the book.
    pub sku: Sku,
    /// Its name, e.g. `龙井茶 250g`.
    pub name: Label,
    /// Its category, e.g. `茶叶`, if any.
    pub category: Option<Label>,
    /// The list price of one unit.
    pub price: Money,
    /// What one unit costs the business, if known (for margins).
    pub cost: Option<Money>,
    /// True once removed while purchase lines name it: it stays for them, and new
    /// lines may not name it.
    pub archived: bool,
}

impl Product {
    /// A product that is not archived.
    pub fn new(sku: Sku, name: Label, price: Money) -> Self {
        Product {
            sku,
            name,
            category: None,
            price,
            cost: None,
            archived: false,
        }
    }

    /// Checks the money fields (not negative, `base` currency, whole minor units) and
    /// returns the product with them in stored form.
    ///
    /// # Errors
    ///
    /// [`ValidationError::NegativeAmount`] and the errors of [`Money::for_storage`].
    pub fn for_storage(mut self, base: Currency) -> Result<Self, ValidationError> {
        self.price = non_negative("product price", self.price, base)?;
        if let Some(c) = self.cost {
            self.cost = Some(non_negative("product cost", c, base)?);
        }
        Ok(self)
    }
}

/// What removing a product did
/// ([`Writer::remove_product`](crate::ops::Writer::remove_product)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProductRemoval {
    /// No line named it: it is gone.
    Deleted,
    /// Lines name it: it stays, archived.
    Archived(Product),
}

/// A change to a product: each field given replaces the stored one; `None` keeps it.
/// The SKU never changes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductEdit {
    /// A new name.
    pub name: Option<Label>,
    /// A new category, or `Some(None)` to clear it.
    pub category: Option<Option<Label>>,
    /// A new list price.
    pub price: Option<Money>,
    /// A new unit cost, or `Some(None)` to forget it.
    pub cost: Option<Option<Money>>,
    /// Archive (`Some(true)`) or bring back (`Some(false)`).
    pub archived: Option<bool>,
}

impl ProductEdit {
    /// True if the edit changes nothing.
    pub fn is_empty(&self) -> bool {
        *self == ProductEdit::default()
    }

    /// `p` with the edit applied (unchecked: see [`Product::for_storage`]).
    pub fn apply(&self, mut p: Product) -> Product {
        if let Some(n) = &self.name {
            p.name = n.clone();
        }
        if let Some(c) = &self.category {
            p.category.clone_from(c);
        }
        if let Some(m) = self.price {
            p.price = m;
        }
        if let Some(c) = self.cost {
            p.cost = c;
        }
        if let Some(a) = self.archived {
            p.archived = a;
        }
        p
    }
}

fn non_negative(field: &'static str, m: Money, base: Currency) -> Result<Money, ValidationError> {
    if m.is_negative() {
        return Err(ValidationError::NegativeAmount { field, amount: m });
    }
    m.for_storage(field, base)
}

/// One line of a purchase: `quantity` units of the product `sku` at `unit_price` each,
/// less `discount` on the line as a whole.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PurchaseLine {
    /// The product.
    pub sku: Sku,
    /// How many whole units: at least 1.
    pub quantity: u32,
    /// What one unit was sold for (not negative).
    pub unit_price: Money,
    /// Taken off the line (not negative, at most `quantity × unit_price`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discount: Option<Money>,
}

impl PurchaseLine {
    /// A line without discount.
    pub fn new(sku: Sku, quantity: u32, unit_price: Money) -> Self {
        PurchaseLine {
            sku,
            quantity,
            unit_price,
            discount: None,
        }
    }

    /// Checks the line (quantity at least 1; prices in `base`, whole minor units, not
    /// negative; the discount at most the line's gross) and returns it in stored form.
    ///
    /// # Errors
    ///
    /// [`ValidationError::OutOfRange`] for a quantity of 0,
    /// [`ValidationError::LineDiscount`] for a discount above the gross, and the
    /// errors of [`Money::for_storage`].
    pub fn for_storage(mut self, base: Currency) -> Result<Self, ValidationError> {
        if self.quantity == 0 {
            return Err(ValidationError::OutOfRange {
                field: "line quantity",
                value: 0,
                min: 1,
                max: i64::from(u32::MAX),
            });
        }
        self.unit_price = non_negative("line unit price", self.unit_price, base)?;
        self.discount = match self.discount {
            Some(d) => Some(non_negative("line discount", d, base)?),
            None => None,
        };
        self.total()?;
        Ok(self)
    }

    /// `quantity × unit_price`, before the discount.
    ///
    /// # Errors
    ///
    /// [`ValidationError::AmountOutOfRange`] if it does not fit the stored bound.
    pub fn gross(&self) -> Result<Money, ValidationError> {
        let currency = self.unit_price.currency();
        let unit = minor_of("line unit price", self.unit_price)?;
        let gross = i128::from(unit) * i128::from(self.quantity);
        bounded("line gross", gross, currency)
    }

    /// The line's total: `quantity × unit_price − discount`, exact.
    ///
    /// # Errors
    ///
    /// [`ValidationError::LineDiscount`] if the discount is above the gross;
    /// [`ValidationError::AmountOutOfRange`] if the gross does not fit.
    ///
    /// ```
    /// use solocrm_core::product::{PurchaseLine, Sku};
    /// use solocrm_core::{Currency, Money};
    /// let cny = Currency::parse("CNY")?;
    /// let mut line = PurchaseLine::new(Sku::parse("TEA-001")?, 3, Money::parse("19.90", cny)?);
    /// line.discount = Some(Money::parse("5.00", cny)?);
    /// // 3 × 19.90 − 5.00 = 54.70
    /// assert_eq!(line.total()?, Money::parse("54.70", cny)?);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn total(&self) -> Result<Money, ValidationError> {
        let gross = self.gross()?;
        let Some(discount) = self.discount else {
            return Ok(gross);
        };
        let g = minor_of("line gross", gross)?;
        let d = minor_of("line discount", discount)?;
        if d > g {
            return Err(ValidationError::LineDiscount {
                sku: self.sku.to_string(),
                discount,
                gross,
            });
        }
        Ok(Money::from_minor(g - d, gross.currency()))
    }
}

fn minor_of(field: &'static str, m: Money) -> Result<i64, ValidationError> {
    m.to_minor_units()
        .map_err(|_| ValidationError::AmountOutOfRange {
            field,
            amount: m.amount(),
            currency: m.currency(),
        })
}

fn bounded(field: &'static str, minor: i128, currency: Currency) -> Result<Money, ValidationError> {
    let max = i128::from(currency.max_stored_minor());
    match i64::try_from(minor) {
        Ok(m) if minor.abs() < max => Ok(Money::from_minor(m, currency)),
        _ => Err(ValidationError::AmountOutOfRange {
            field,
            amount: rust_decimal::Decimal::from_i128_with_scale(
                minor,
                currency.minor_unit_digits(),
            ),
            currency,
        }),
    }
}

/// The sum of the lines' totals, `Σ (quantity × unit_price − discount)`, computed in
/// whole minor units and so exact; zero in `currency` for no lines.
///
/// # Errors
///
/// The errors of [`PurchaseLine::total`]; [`ValidationError::CurrencyMismatch`] for a
/// line in another currency; [`ValidationError::AmountOutOfRange`] if the sum does not
/// fit the stored bound.
///
/// ```
/// use solocrm_core::product::{PurchaseLine, Sku, lines_total};
/// use solocrm_core::{Currency, Money};
/// let cny = Currency::parse("CNY")?;
/// let tea = PurchaseLine::new(Sku::parse("TEA")?, 2, Money::parse("30.00", cny)?);
/// let mut cup = PurchaseLine::new(Sku::parse("CUP")?, 1, Money::parse("12.50", cny)?);
/// cup.discount = Some(Money::parse("2.50", cny)?);
/// // 2 × 30.00 + (1 × 12.50 − 2.50) = 70.00
/// assert_eq!(lines_total(&[tea, cup], cny)?, Money::parse("70.00", cny)?);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn lines_total(lines: &[PurchaseLine], currency: Currency) -> Result<Money, ValidationError> {
    let mut sum: i128 = 0;
    for line in lines {
        for m in [Some(line.unit_price), line.discount].into_iter().flatten() {
            if m.currency() != currency {
                return Err(ValidationError::CurrencyMismatch {
                    field: "line amount",
                    expected: currency,
                    found: m.currency(),
                });
            }
        }
        sum += i128::from(minor_of("line total", line.total()?)?);
    }
    bounded("sum of the lines", sum, currency)
}

/// Checks that a purchase of `amount` is exactly the sum of its `lines`
/// ([`lines_total`]). No lines: nothing to check.
///
/// # Errors
///
/// [`ValidationError::LinesTotal`] when they differ; the errors of [`lines_total`].
///
/// ```
/// use solocrm_core::product::{PurchaseLine, Sku, check_lines};
/// use solocrm_core::{Currency, Money};
/// let cny = Currency::parse("CNY")?;
/// let lines = [PurchaseLine::new(Sku::parse("TEA")?, 2, Money::parse("30.00", cny)?)];
/// assert!(check_lines(Money::parse("60.00", cny)?, &lines).is_ok());
/// assert!(check_lines(Money::parse("59.99", cny)?, &lines).is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn check_lines(amount: Money, lines: &[PurchaseLine]) -> Result<(), ValidationError> {
    if lines.is_empty() {
        return Ok(());
    }
    let total = lines_total(lines, amount.currency())?;
    if total != amount {
        return Err(ValidationError::LinesTotal {
            amount,
            lines: total,
        });
    }
    Ok(())
}

/// The serialised form of a [`Product`]: the same fields, checked on the way in.
#[derive(Serialize, Deserialize)]
struct ProductRepr {
    sku: Sku,
    name: Label,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    category: Option<Label>,
    price: Money,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    cost: Option<Money>,
    #[serde(default)]
    archived: bool,
}

impl From<Product> for ProductRepr {
    fn from(p: Product) -> Self {
        ProductRepr {
            sku: p.sku,
            name: p.name,
            category: p.category,
            price: p.price,
            cost: p.cost,
            archived: p.archived,
        }
    }
}

impl TryFrom<ProductRepr> for Product {
    type Error = ValidationError;
    fn try_from(r: ProductRepr) -> Result<Self, ValidationError> {
        let p = Product {
            sku: r.sku,
            name: r.name,
            category: r.category,
            price: r.price,
            cost: r.cost,
            archived: r.archived,
        };
        p.clone().for_storage(p.price.currency())?;
        Ok(p)
    }
}
