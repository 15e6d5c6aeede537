//! [`ValidationError`], why a value was rejected, and [`NameList`], the names a closed
//! set accepts.
//!
//! This module sits at the bottom of the crate: it depends only on the money value types,
//! so that every module that validates input (text, ids, money, time, the named enums)
//! can use it without a cycle. Its items are re-exported from [`crate::error`].

use std::fmt;

use rust_decimal::Decimal;
use thiserror::Error;

use crate::money_value::{Currency, Money};

/// The accepted names of a closed set, for error messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NameList(pub &'static [&'static str]);

impl fmt::Display for NameList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.join(", "))
    }
}

/// Why a value was rejected at construction.
///
/// Every variant names the field or the input so that the message can be shown to a
/// person as it is. Messages are lowercase and carry no trailing punctuation, as the Rust
/// API guidelines ask (C-GOOD-ERR).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ValidationError {
    /// A required text was empty, or only whitespace.
    #[error("{field} must not be empty")]
    Empty {
        /// The field, e.g. `"name"`.
        field: &'static str,
    },
    /// A text was longer than its limit.
    #[error("{field} is {len} {unit} long; the limit is {max}")]
    TooLong {
        /// The field, e.g. `"name"`.
        field: &'static str,
        /// The measured length.
        len: usize,
        /// The limit.
        max: usize,
        /// `"characters"` or `"bytes"`.
        unit: &'static str,
    },
    /// A text held a character that is not allowed there (a NUL byte, a line break in a
    /// one-line field, a separator in a tag).
    #[error("{field} contains {what}, which is not allowed there")]
    ForbiddenCharacter {
        /// The field, e.g. `"tag"`.
        field: &'static str,
        /// A description of the character, e.g. `"a NUL byte"`.
        what: String,
    },
    /// An email address did not parse.
    #[error("email '{input}' is not a valid address: {reason}")]
    InvalidEmail {
        /// The rejected input.
        input: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A phone number did not parse.
    #[error("phone '{input}' is not a valid number: {reason}")]
    InvalidPhone {
        /// The rejected input.
        input: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A currency code is not three ASCII letters.
    #[error("currency '{input}' is not an ISO 4217 code (three letters, e.g. EUR)")]
    InvalidCurrency {
        /// The rejected input.
        input: String,
    },
    /// Three letters that are not a currency solocrm keeps books in (see
    /// [`Currency`]): not in ISO 4217, or a code such as `XXX`.
    #[error("currency '{input}' is not accepted: {reason}")]
    UnsupportedCurrency {
        /// The rejected input.
        input: String,
        /// Why, or which code to use instead.
        reason: &'static str,
    },
    /// A country code is not an assigned ISO 3166-1 alpha-2 code.
    #[error("country '{input}' is not accepted: {reason}")]
    InvalidCountry {
        /// The rejected input.
        input: String,
        /// Why, or which code to use instead.
        reason: &'static str,
    },
    /// A time-zone name is not in the IANA time-zone database.
    #[error("time zone '{input}' is not known: {reason}")]
    InvalidTimeZone {
        /// The rejected input.
        input: String,
        /// Why, or which name to use instead.
        reason: String,
    },
    /// A decimal amount did not parse.
    #[error(
        "amount '{input}' is not a decimal number (use '.' as the decimal point, no thousands separator)"
    )]
    InvalidAmount {
        /// The rejected input.
        input: String,
    },
    /// An amount that must be zero or more was negative.
    #[error("{field} must not be negative, got {amount}")]
    NegativeAmount {
        /// The field, e.g. `"purchase amount"`.
        field: &'static str,
        /// The rejected amount.
        amount: Money,
    },
    /// An amount that must be more than zero was zero or negative.
    #[error("{field} must be more than zero, got {amount}")]
    NonPositiveAmount {
        /// The field, e.g. `"refund amount"`.
        field: &'static str,
        /// The rejected amount.
        amount: Money,
    },
    /// An amount had more decimal places than its currency's minor unit.
    #[error(
        "{field} {amount} {currency} has more decimal places than {currency} allows ({max_scale})"
    )]
    TooManyDecimals {
        /// The field, e.g. `"purchase amount"`.
        field: &'static str,
        /// The rejected amount.
        amount: Decimal,
        /// Its currency.
        currency: Currency,
        /// The currency's number of minor-unit digits.
        max_scale: u32,
    },
    /// An amount is not less than [`MAX_STORED_MAJOR`](crate::money::MAX_STORED_MAJOR)
    /// (10^12) major units in absolute value, the bound that keeps every metric's sums
    /// exact.
    #[error(
        "{field} {amount} {currency} is too large: amounts may have at most 12 digits before the decimal point (less than 1000000000000 {currency})"
    )]
    AmountOutOfRange {
        /// The field, e.g. `"purchase amount"`.
        field: &'static str,
        /// The rejected amount.
        amount: Decimal,
        /// Its currency.
        currency: Currency,
    },
    /// Money in a currency other than the store's base currency.
    #[error(
        "{field} is in {found}, but this store keeps its books in {expected} (multi-currency is not supported)"
    )]
    CurrencyMismatch {
        /// The field, e.g. `"purchase amount"`.
        field: &'static str,
        /// The store's base currency.
        expected: Currency,
        /// The currency that was given.
        found: Currency,
    },
    /// A survey score outside its scale.
    #[error("{kind} score {score} is out of range; expected {min} to {max}")]
    ScoreOutOfRange {
        /// The survey kind, e.g. `"NPS"`.
        kind: &'static str,
        /// The rejected score.
        score: i64,
        /// The lowest valid score.
        min: u8,
        /// The highest valid score.
        max: u8,
    },
    /// A value is not one of a fixed set of names.
    #[error("unknown {field} '{input}'; expected one of: {expected}")]
    UnknownName {
        /// The field, e.g. `"channel"`.
        field: &'static str,
        /// The rejected input.
        input: String,
        /// The accepted names.
        expected: NameList,
    },
    /// A number is outside its accepted range.
    #[error("{field} {value} is out of range; expected {min} to {max}")]
    OutOfRange {
        /// The field, e.g. `"limit"`.
        field: &'static str,
        /// The rejected value.
        value: i64,
        /// The lowest valid value.
        min: i64,
        /// The highest valid value.
        max: i64,
    },
    /// A write would take one customer's total of purchases past what a store keeps
    /// exactly: SQLite keeps each customer's sum in a 64-bit integer of minor units
    /// (ADR 0046), at most `max`, about 9.2e18.
    #[error(
        "the purchases of one customer would add up to more than {max} minor units, the most this store can total"
    )]
    PurchaseTotalOutOfRange {
        /// The largest total the store keeps, in minor units.
        max: i64,
    },
    /// A points movement had the wrong sign for its kind, or was zero.
    #[error("{kind} points must be {expected}, got {points}")]
    PointsSign {
        /// The entry kind, e.g. `"earn"`.
        kind: &'static str,
        /// `"more than zero"`, `"less than zero"` or `"not zero"`.
        expected: &'static str,
        /// The rejected number of points.
        points: i64,
    },
    /// A time that must not come before another did.
    #[error("{field} ({at}) must not be before {earlier_field} ({earlier})")]
    TimeOrder {
        /// The later field, e.g. `"first response"`.
        field: &'static str,
        /// Its value.
        at: chrono::DateTime<chrono::Utc>,
        /// The earlier field, e.g. `"opened"`.
        earlier_field: &'static str,
        /// Its value.
        earlier: chrono::DateTime<chrono::Utc>,
    },
    /// A date outside the calendar solocrm measures
    /// ([`EARLIEST_DATE`](crate::time::EARLIEST_DATE) to
    /// [`LATEST_DATE`](crate::time::LATEST_DATE)); see [`crate::time::check_date`].
    #[error("{field} {date} is {relation} {bound}, the {which} date solocrm accepts")]
    DateOutOfRange {
        /// The field, e.g. `"purchase date"`.
        field: &'static str,
        /// The rejected date.
        date: chrono::NaiveDate,
        /// `"before"` or `"after"`.
        relation: &'static str,
        /// The bound crossed.
        bound: chrono::NaiveDate,
        /// `"earliest"` or `"latest"`.
        which: &'static str,
    },
    /// A nested structure (a segment condition) nests deeper than its limit.
    #[error("{field} nests {depth} levels deep; the limit is {max}")]
    TooDeep {
        /// The structure, e.g. `"segment condition"`.
        field: &'static str,
        /// Its depth.
        depth: usize,
        /// The limit.
        max: usize,
    },
    /// A configuration is inconsistent.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// A stored record contradicts itself: a field does not agree with another, e.g. a
    /// deal whose stage is won but whose history never reached won. Seen when reading a
    /// record (deserialising) that was not built through its constructors.
    #[error("inconsistent {record}: {detail}")]
    Inconsistent {
        /// The record, e.g. `"deal 3"`.
        record: String,
        /// Which fields disagree and how.
        detail: String,
    },
    /// A survey template or a survey sheet is not well formed (the message says
    /// which question and why).
    #[error("{0}")]
    Survey(String),
    /// A purchase line's discount is more than the line's gross (quantity × unit
    /// price).
    #[error("the discount {discount} on line {sku} is more than its gross {gross}")]
    LineDiscount {
        /// The line's product.
        sku: String,
        /// The discount.
        discount: crate::money::Money,
        /// Quantity × unit price.
        gross: crate::money::Money,
    },
    /// A purchase's amount is not the sum of its lines.
    #[error("the purchase amount {amount} is not the sum of its lines, {lines}")]
    LinesTotal {
        /// The purchase amount.
        amount: crate::money::Money,
        /// Σ (quantity × unit price − discount).
        lines: crate::money::Money,
    },
}
