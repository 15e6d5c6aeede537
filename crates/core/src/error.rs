//! Validation errors: what is wrong with a piece of input, said so a person can fix it.

use rust_decimal::Decimal;
use thiserror::Error;

use crate::money::{Currency, Money};
pub use crate::names::NameList;

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
    /// A country code is not two ASCII letters.
    #[error("country '{input}' is not an ISO 3166-1 alpha-2 code (two letters, e.g. DE)")]
    InvalidCountry {
        /// The rejected input.
        input: String,
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
}

/// A well-formed request that contradicts what the store already holds.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum Conflict {
    /// Another customer already has this email (compared ignoring case).
    #[error("email '{email}' already belongs to customer {existing}")]
    DuplicateEmail {
        /// The email, as given.
        email: String,
        /// The customer who has it.
        existing: crate::CustomerId,
    },
    /// Another customer already has this external reference.
    #[error("external reference '{reference}' already belongs to customer {existing}")]
    DuplicateExternalRef {
        /// The reference.
        reference: String,
        /// The customer who has it.
        existing: crate::CustomerId,
    },
    /// Another purchase already has this external reference.
    #[error("purchase reference '{reference}' is already recorded (purchase {existing})")]
    DuplicatePurchaseRef {
        /// The reference.
        reference: String,
        /// The purchase that has it.
        existing: crate::PurchaseId,
    },
    /// The same reference appears twice within one batch.
    #[error("purchase reference '{reference}' appears twice in the batch")]
    DuplicateRefInBatch {
        /// The reference.
        reference: String,
    },
    /// A segment with this name exists.
    #[error("a segment named '{name}' already exists")]
    DuplicateSegment {
        /// The name.
        name: String,
    },
    /// The customer's personal data has been erased; their record only keeps anonymous
    /// amounts and dates and accepts no new personal data.
    #[error("customer {customer} has been erased")]
    CustomerErased {
        /// The customer.
        customer: crate::CustomerId,
    },
    /// Redeeming, expiring or adjusting would take the balance below zero.
    #[error("customer {customer} has {balance} points; cannot take away {requested}")]
    InsufficientPoints {
        /// The customer.
        customer: crate::CustomerId,
        /// The balance before.
        balance: i64,
        /// The points that were to be taken away.
        requested: i64,
    },
    /// Earning or adjusting would take the balance beyond
    /// [`MAX_POINTS_BALANCE`](crate::loyalty::MAX_POINTS_BALANCE).
    #[error(
        "customer {customer} has {balance} points; adding {adding} would exceed the maximum balance of {max} points"
    )]
    PointsBalanceTooLarge {
        /// The customer.
        customer: crate::CustomerId,
        /// The balance before.
        balance: i64,
        /// The points that were to be added.
        adding: i64,
        /// The largest balance.
        max: i64,
    },
    /// A refund would exceed what is left of its purchase.
    #[error("purchase {purchase} has {refundable} left to refund; cannot refund {requested}")]
    RefundExceedsPurchase {
        /// The purchase.
        purchase: crate::PurchaseId,
        /// What can still be refunded.
        refundable: Money,
        /// The requested refund.
        requested: Money,
    },
    /// A record refers to a deal of another customer.
    #[error("deal {deal} belongs to customer {owner}, not to customer {customer}")]
    DealOfAnotherCustomer {
        /// The deal.
        deal: crate::DealId,
        /// Its customer.
        owner: crate::CustomerId,
        /// The customer of the record.
        customer: crate::CustomerId,
    },
    /// After-sales records (purchases, service requests) can only link to a won deal.
    #[error("deal {deal} is {stage}; only a won deal can be linked to after-sales records")]
    DealNotWon {
        /// The deal.
        deal: crate::DealId,
        /// Its stage.
        stage: crate::DealStage,
    },
    /// A one-off task that is already done.
    #[error("task {task} is already done")]
    TaskAlreadyDone {
        /// The task.
        task: crate::TaskId,
    },
    /// Erasing a customer that is already erased.
    #[error("customer {customer} was already erased")]
    AlreadyErased {
        /// The customer.
        customer: crate::CustomerId,
    },
}

/// A domain rule refused a change: bad input, a forbidden move, or a clash with state.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum DomainError {
    /// Bad input.
    #[error(transparent)]
    Validation(#[from] ValidationError),
    /// A forbidden move of a state machine.
    #[error(transparent)]
    Transition(#[from] crate::TransitionError),
    /// A clash with state.
    #[error(transparent)]
    Conflict(#[from] Conflict),
}
