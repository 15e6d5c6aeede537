//! The money value types, [`Currency`] and [`Money`], with their arithmetic and
//! formatting but without input validation.
//!
//! They sit below [`ValidationError`](crate::ValidationError), which names a currency or
//! an amount in its messages; the constructors that check input and return that error
//! (`Currency::parse`, `Money::parse`, `Money::for_storage`, …) are in
//! [`crate::money`], which re-exports everything here. Keeping the two apart keeps the
//! modules free of cycles.

use std::fmt;

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// An ISO 4217 alphabetic currency code such as `EUR`, stored upper-case.
///
/// Only codes of currencies a business can keep its books in are accepted: the active
/// codes of ISO 4217 List One (as published for 2026-01-01), including the fund codes
/// (`CLF`, `CHE`, `CHW`, `UYI`, … — units that contracts and invoices are written in),
/// plus the codes withdrawn since 2021 (`ANG`, `BGN`, `CUC`, `HRK`, `SLL`, `ZWL`) so that
/// books started before the change keep working. Refused, each with the reason:
/// `XXX` (no currency), `XTS` (testing), the precious metals `XAU`, `XAG`, `XPT`,
/// `XPD`, and the units of account no customer pays in (`XDR`, `XUA`, `XSU`, `XAD`,
/// `XBA`–`XBD`); any other three letters (`XYZ`, `BTC`) are not ISO 4217 codes, and
/// common non-ISO abbreviations get a hint (`RMB` → use `CNY`).
///
/// The number of minor-unit digits comes from ISO 4217 too (2 for most, 0 for `JPY`,
/// 3 for `KWD`, 4 for `CLF`).
///
/// ```
/// use solocrm_core::Currency;
/// let eur = Currency::parse("eur")?;
/// assert_eq!(eur.as_str(), "EUR");
/// assert_eq!(eur.minor_unit_digits(), 2);
/// assert_eq!(Currency::parse("JPY")?.minor_unit_digits(), 0);
/// assert_eq!(Currency::parse("cny")?, Currency::CNY);
/// assert!(Currency::parse("EURO").is_err());
/// for not_iso in ["XYZ", "BTC", "XXX", "XAU"] {
///     assert!(Currency::parse(not_iso).is_err(), "{not_iso}");
/// }
/// let rmb = Currency::parse("RMB").unwrap_err().to_string();
/// assert!(rmb.contains("use CNY"), "{rmb}");
/// # Ok::<(), solocrm_core::ValidationError>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Currency(pub(crate) [u8; 3]);

/// The accepted codes, sorted (see [`Currency`]).
pub(crate) const CODES: [[u8; 3]; 170] = [
    *b"AED", *b"AFN", *b"ALL", *b"AMD", *b"ANG", *b"AOA", *b"ARS", *b"AUD", *b"AWG", *b"AZN",
    *b"BAM", *b"BBD", *b"BDT", *b"BGN", *b"BHD", *b"BIF", *b"BMD", *b"BND", *b"BOB", *b"BOV",
    *b"BRL", *b"BSD", *b"BTN", *b"BWP", *b"BYN", *b"BZD", *b"CAD", *b"CDF", *b"CHE", *b"CHF",
    *b"CHW", *b"CLF", *b"CLP", *b"CNY", *b"COP", *b"COU", *b"CRC", *b"CUC", *b"CUP", *b"CVE",
    *b"CZK", *b"DJF", *b"DKK", *b"DOP", *b"DZD", *b"EGP", *b"ERN", *b"ETB", *b"EUR", *b"FJD",
    *b"FKP", *b"GBP", *b"GEL", *b"GHS", *b"GIP", *b"GMD", *b"GNF", *b"GTQ", *b"GYD", *b"HKD",
    *b"HNL", *b"HRK", *b"HTG", *b"HUF", *b"IDR", *b"ILS", *b"INR", *b"IQD", *b"IRR", *b"ISK",
    *b"JMD", *b"JOD", *b"JPY", *b"KES", *b"KGS", *b"KHR", *b"KMF", *b"KPW", *b"KRW", *b"KWD",
    *b"KYD", *b"KZT", *b"LAK", *b"LBP", *b"LKR", *b"LRD", *b"LSL", *b"LYD", *b"MAD", *b"MDL",
    *b"MGA", *b"MKD", *b"MMK", *b"MNT", *b"MOP", *b"MRU", *b"MUR", *b"MVR", *b"MWK", *b"MXN",
    *b"MXV", *b"MYR", *b"MZN", *b"NAD", *b"NGN", *b"NIO", *b"NOK", *b"NPR", *b"NZD", *b"OMR",
    *b"PAB", *b"PEN", *b"PGK", *b"PHP", *b"PKR", *b"PLN", *b"PYG", *b"QAR", *b"RON", *b"RSD",
    *b"RUB", *b"RWF", *b"SAR", *b"SBD", *b"SCR", *b"SDG", *b"SEK", *b"SGD", *b"SHP", *b"SLE",
    *b"SLL", *b"SOS", *b"SRD", *b"SSP", *b"STN", *b"SVC", *b"SYP", *b"SZL", *b"THB", *b"TJS",
    *b"TMT", *b"TND", *b"TOP", *b"TRY", *b"TTD", *b"TWD", *b"TZS", *b"UAH", *b"UGX", *b"USD",
    *b"USN", *b"UYI", *b"UYU", *b"UYW", *b"UZS", *b"VED", *b"VES", *b"VND", *b"VUV", *b"WST",
    *b"XAF", *b"XCD", *b"XCG", *b"XOF", *b"XPF", *b"YER", *b"ZAR", *b"ZMW", *b"ZWG", *b"ZWL",
];

impl Currency {
    /// Euro.
    pub const EUR: Currency = Currency(*b"EUR");
    /// United States dollar.
    pub const USD: Currency = Currency(*b"USD");
    /// Pound sterling.
    pub const GBP: Currency = Currency(*b"GBP");
    /// Swiss franc.
    pub const CHF: Currency = Currency(*b"CHF");
    /// Japanese yen (no minor unit).
    pub const JPY: Currency = Currency(*b"JPY");
    /// Chinese yuan renminbi (人民币). Not `RMB`, which is the name, not the code.
    pub const CNY: Currency = Currency(*b"CNY");
    /// Hong Kong dollar (港元).
    pub const HKD: Currency = Currency(*b"HKD");
    /// New Taiwan dollar (新臺幣).
    pub const TWD: Currency = Currency(*b"TWD");
    /// Macanese pataca (澳門元).
    pub const MOP: Currency = Currency(*b"MOP");
    /// Singapore dollar (新加坡元).
    pub const SGD: Currency = Currency(*b"SGD");
    /// Malaysian ringgit (马来西亚令吉).
    pub const MYR: Currency = Currency(*b"MYR");
    /// South Korean won (no minor unit).
    pub const KRW: Currency = Currency(*b"KRW");
    /// Australian dollar.
    pub const AUD: Currency = Currency(*b"AUD");
    /// Canadian dollar.
    pub const CAD: Currency = Currency(*b"CAD");

    /// True if the code is one [`Currency::parse`] accepts.
    pub fn is_iso(&self) -> bool {
        CODES.binary_search(&self.0).is_ok()
    }

    /// The code, e.g. `"EUR"`.
    pub fn as_str(&self) -> &str {
        // Only ASCII letters are ever stored.
        std::str::from_utf8(&self.0).unwrap_or("XXX")
    }

    /// The number of decimal places of the currency's minor unit (2 for EUR cents, 0 for
    /// JPY, 3 for KWD, 4 for CLF), from ISO 4217. Codes read with
    /// [`Currency::from_stored`] that ISO 4217 does not list get 2.
    pub fn minor_unit_digits(&self) -> u32 {
        match &self.0 {
            b"BIF" | b"CLP" | b"DJF" | b"GNF" | b"ISK" | b"JPY" | b"KMF" | b"KRW" | b"PYG"
            | b"RWF" | b"UGX" | b"UYI" | b"VND" | b"VUV" | b"XAF" | b"XOF" | b"XPF" => 0,
            b"BHD" | b"IQD" | b"JOD" | b"KWD" | b"LYD" | b"OMR" | b"TND" => 3,
            b"CLF" | b"UYW" => 4,
            _ => 2,
        }
    }

    /// The smallest number of minor units that is too large to store:
    /// [`MAX_STORED_MAJOR`] × 10^digits (10^14 cents for EUR, 10^12 for JPY). Every
    /// stored amount lies strictly between its negative and itself.
    ///
    /// ```
    /// use solocrm_core::Currency;
    /// assert_eq!(Currency::EUR.max_stored_minor(), 100_000_000_000_000);
    /// assert_eq!(Currency::JPY.max_stored_minor(), 1_000_000_000_000);
    /// ```
    pub fn max_stored_minor(&self) -> i64 {
        // At most 4 minor-unit digits: 10^16 fits an i64 with room to spare.
        MAX_STORED_MAJOR * 10_i64.pow(self.minor_unit_digits())
    }
}

/// The bound on every stored amount, in major units, exclusive: `|amount| < 10^12`, so
/// an amount has at most 12 integer digits (999 999 999 999.99 EUR is the largest).
///
/// Why this bound: metrics sum amounts over many records. A billion (10^9) records at
/// the bound sum to less than 10^21 major units, which is less than 10^25 minor units
/// for every currency (at most 4 minor-unit digits): exact in an `i128` of minor units
/// (±1.7 × 10^38) and in a [`Decimal`] (±7.9 × 10^28). Per customer, 92 233 purchases
/// at the bound still fit the `i64` of minor units the RFM table keeps (a customer
/// beyond that is reported as an outlier, never a wrong sum). No real one-person
/// business books a single sale of a trillion: an amount that large is a typo or a
/// unit mistake, and refusing it at the edge keeps it from poisoning every report.
pub const MAX_STORED_MAJOR: i64 = 1_000_000_000_000;

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<Currency> for String {
    fn from(c: Currency) -> String {
        c.as_str().to_owned()
    }
}

/// Why a money computation failed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum MoneyError {
    /// The two operands are in different currencies.
    #[error("cannot combine {left} with {right}: different currencies")]
    CurrencyMismatch {
        /// The left operand's currency.
        left: Currency,
        /// The right operand's currency.
        right: Currency,
    },
    /// The result does not fit into a [`Decimal`] (about ±7.9 × 10^28).
    #[error("money {op} overflowed")]
    Overflow {
        /// The operation, e.g. `"addition"`.
        op: &'static str,
    },
    /// Division by zero.
    #[error("money divided by zero")]
    DivisionByZero,
    /// The amount is not a whole number of minor units, or does not fit into an `i64` of
    /// them.
    #[error("{amount} {currency} is not a whole number of minor units that fits in 64 bits")]
    NotMinorUnits {
        /// The amount.
        amount: Decimal,
        /// Its currency.
        currency: Currency,
    },
}

/// An exact amount of money in one currency.
///
/// Two values are equal when their currencies match and their amounts are numerically
/// equal (`12.5 EUR == 12.50 EUR`).
///
/// ```
/// use rust_decimal::Decimal;
/// use solocrm_core::{Currency, Money};
///
/// let price = Money::parse("19.99", Currency::EUR)?;
/// let shipping = Money::from_minor(490, Currency::EUR);
/// let total = price.checked_add(shipping)?;
/// assert_eq!(total.to_string(), "24.89 EUR");
///
/// // A third of it, rounded to cents with banker's rounding.
/// let third = total.checked_div(Decimal::from(3))?.round_to_minor_units();
/// assert_eq!(third.to_string(), "8.30 EUR");
///
/// // Currencies never mix silently.
/// let dollars = Money::from_minor(100, Currency::USD);
/// assert!(total.checked_add(dollars).is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Money {
    amount: Decimal,
    currency: Currency,
}

impl Money {
    /// Money of `amount` in `currency`, exactly as given (no rounding).
    pub fn new(amount: Decimal, currency: Currency) -> Self {
        Money { amount, currency }
    }

    /// Zero in `currency`, at the currency's scale (`0.00 EUR`).
    pub fn zero(currency: Currency) -> Self {
        Money::from_minor(0, currency)
    }

    /// Money from a whole number of minor units: `from_minor(1999, EUR)` is 19.99 EUR.
    pub fn from_minor(minor: i64, currency: Currency) -> Self {
        Money {
            amount: Decimal::new(minor, currency.minor_unit_digits()),
            currency,
        }
    }

    /// The amount.
    pub fn amount(&self) -> Decimal {
        self.amount
    }

    /// The currency.
    pub fn currency(&self) -> Currency {
        self.currency
    }

    /// True if the amount is below zero.
    pub fn is_negative(&self) -> bool {
        self.amount.is_sign_negative() && !self.amount.is_zero()
    }

    /// True if the amount is zero.
    pub fn is_zero(&self) -> bool {
        self.amount.is_zero()
    }

    fn same_currency(&self, other: &Money) -> Result<(), MoneyError> {
        if self.currency == other.currency {
            Ok(())
        } else {
            Err(MoneyError::CurrencyMismatch {
                left: self.currency,
                right: other.currency,
            })
        }
    }

    /// `self + rhs`.
    ///
    /// # Errors
    ///
    /// [`MoneyError::CurrencyMismatch`] or [`MoneyError::Overflow`].
    pub fn checked_add(self, rhs: Money) -> Result<Money, MoneyError> {
        self.same_currency(&rhs)?;
        let amount = self
            .amount
            .checked_add(rhs.amount)
            .ok_or(MoneyError::Overflow { op: "addition" })?;
        Ok(Money { amount, ..self })
    }

    /// `self - rhs`.
    ///
    /// # Errors
    ///
    /// [`MoneyError::CurrencyMismatch`] or [`MoneyError::Overflow`].
    pub fn checked_sub(self, rhs: Money) -> Result<Money, MoneyError> {
        self.same_currency(&rhs)?;
        let amount = self
            .amount
            .checked_sub(rhs.amount)
            .ok_or(MoneyError::Overflow { op: "subtraction" })?;
        Ok(Money { amount, ..self })
    }

    /// `self × factor`, unrounded.
    ///
    /// # Errors
    ///
    /// [`MoneyError::Overflow`].
    pub fn checked_mul(self, factor: Decimal) -> Result<Money, MoneyError> {
        let amount = self
            .amount
            .checked_mul(factor)
            .ok_or(MoneyError::Overflow {
                op: "multiplication",
            })?;
        Ok(Money { amount, ..self })
    }

    /// `self ÷ divisor`, to the 28 significant digits a [`Decimal`] holds; round the
    /// result explicitly with [`Money::round_to_minor_units`] when it is to be shown or
    /// stored.
    ///
    /// # Errors
    ///
    /// [`MoneyError::DivisionByZero`] or [`MoneyError::Overflow`].
    pub fn checked_div(self, divisor: Decimal) -> Result<Money, MoneyError> {
        if divisor.is_zero() {
            return Err(MoneyError::DivisionByZero);
        }
        let amount = self
            .amount
            .checked_div(divisor)
            .ok_or(MoneyError::Overflow { op: "division" })?;
        Ok(Money { amount, ..self })
    }

    /// Rounds to the currency's minor unit with banker's rounding (half to even):
    /// 0.125 EUR → 0.12 EUR, 0.135 EUR → 0.14 EUR.
    pub fn round_to_minor_units(self) -> Money {
        self.round(
            self.currency.minor_unit_digits(),
            RoundingStrategy::MidpointNearestEven,
        )
    }

    /// Rounds to `decimal_places` with an explicit strategy. The result always has
    /// exactly `decimal_places` digits after the point.
    pub fn round(self, decimal_places: u32, strategy: RoundingStrategy) -> Money {
        let mut amount = self.amount.round_dp_with_strategy(decimal_places, strategy);
        amount.rescale(decimal_places);
        Money { amount, ..self }
    }

    /// The amount as a whole number of minor units (cents for EUR).
    ///
    /// # Errors
    ///
    /// [`MoneyError::NotMinorUnits`] if the amount has more decimal places than the
    /// currency's minor unit, or does not fit into an `i64`.
    pub fn to_minor_units(&self) -> Result<i64, MoneyError> {
        let digits = self.currency.minor_unit_digits();
        let err = || MoneyError::NotMinorUnits {
            amount: self.amount,
            currency: self.currency,
        };
        let scale = self.amount.scale();
        if scale <= digits {
            // Exact and cheap: the amount is mantissa × 10^-scale, and a mantissa (96
            // bits) times at most 10^digits fits an i128.
            return self
                .amount
                .mantissa()
                .checked_mul(10_i128.pow(digits - scale))
                .and_then(|m| i64::try_from(m).ok())
                .ok_or_else(err);
        }
        let scaled = self
            .amount
            .checked_mul(Decimal::from(10_i64.pow(digits)))
            .ok_or_else(err)?;
        if scaled.fract() != Decimal::ZERO {
            return Err(err());
        }
        i64::try_from(scaled.trunc()).map_err(|_| err())
    }
}

impl fmt::Display for Money {
    /// `12.50 EUR`: at least the currency's minor-unit digits, more if the amount has them.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut amount = self.amount;
        let digits = self.currency.minor_unit_digits();
        if amount.scale() < digits {
            amount.rescale(digits);
        }
        write!(f, "{} {}", amount, self.currency)
    }
}

impl fmt::Debug for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}
