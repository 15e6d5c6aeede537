//! Helpers shared by the checks: fixed timestamps, money, validated text and small
//! builders. Nothing here reads the clock.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use rust_decimal::Decimal;
use solocrm_core::{
    Currency, Customer, CustomerData, CustomerId, Deal, DealStage, Email, ExternalRef, FreeText,
    Label, Money, NewCustomer, NewDeal, NewPurchase, PersonName, Purchase, Store, Tag,
};

/// Asserts that `result` is an error matching `pattern` (with an optional guard), and
/// says what it got otherwise.
macro_rules! assert_err {
    ($result:expr, $pattern:pat $(if $guard:expr)? $(,)?) => {
        match $result {
            Err(e) => {
                let shown = format!("{e:?}");
                assert!(
                    matches!(e, $pattern $(if $guard)?),
                    "expected {}, got the error {}",
                    stringify!($pattern),
                    shown
                );
            }
            Ok(v) => panic!("expected {}, got Ok({:?})", stringify!($pattern), v),
        }
    };
}
pub(crate) use assert_err;

/// 2026-01-01 09:00 UTC plus `day` days.
pub(crate) fn at(day: u32) -> DateTime<Utc> {
    at_hour(day, 9)
}

/// 2026-01-01 plus `day` days, at `hour` UTC.
pub(crate) fn at_hour(day: u32, hour: u32) -> DateTime<Utc> {
    let start = Utc
        .with_ymd_and_hms(2026, 1, 1, hour, 0, 0)
        .single()
        .expect("a valid fixed timestamp");
    start + Duration::days(i64::from(day))
}

/// 2026-01-01 plus `day` days, as a date.
pub(crate) fn date(day: u32) -> NaiveDate {
    at(day).date_naive()
}

/// `minor` cents in euros, the base currency of every store under test.
pub(crate) fn eur(minor: i64) -> Money {
    Money::from_minor(minor, Currency::EUR)
}

/// `minor` cents in US dollars, a foreign currency.
pub(crate) fn usd(minor: i64) -> Money {
    Money::from_minor(minor, Currency::USD)
}

/// Euros with `scale` decimal places: `eur_scaled(1234, 3)` is 1.234 EUR.
pub(crate) fn eur_scaled(mantissa: i64, scale: u32) -> Money {
    Money::new(Decimal::new(mantissa, scale), Currency::EUR)
}

pub(crate) fn name(s: &str) -> PersonName {
    PersonName::parse(s).expect("a valid name")
}

pub(crate) fn label(s: &str) -> Label {
    Label::parse(s).expect("a valid label")
}

pub(crate) fn tag(s: &str) -> Tag {
    Tag::parse(s).expect("a valid tag")
}

pub(crate) fn email(s: &str) -> Email {
    Email::parse(s).expect("a valid email")
}

pub(crate) fn ext(s: &str) -> ExternalRef {
    ExternalRef::parse(s).expect("a valid external reference")
}

pub(crate) fn text(s: &str) -> FreeText {
    FreeText::parse(s).expect("a valid free text")
}

/// Creates a prospect named `who`, known since day 0.
pub(crate) fn customer(store: &dyn Store, who: &str) -> Customer {
    create(store, CustomerData::new(name(who)))
}

/// Creates a prospect with `data`, known since day 0.
pub(crate) fn create(store: &dyn Store, data: CustomerData) -> Customer {
    store
        .create_customer(NewCustomer::new(data, at(0)))
        .expect("creating a valid customer should work")
}

/// Creates `n` customers named `c0`, `c1`, ... and returns them in creation order.
pub(crate) fn customers(store: &dyn Store, n: usize) -> Vec<Customer> {
    (0..n).map(|i| customer(store, &format!("c{i}"))).collect()
}

/// The ids of `customers`.
pub(crate) fn ids(customers: &[Customer]) -> Vec<CustomerId> {
    customers.iter().map(Customer::id).collect()
}

/// Records a purchase of `minor` cents by `customer` on `day`.
pub(crate) fn buy(store: &dyn Store, customer: CustomerId, day: u32, minor: i64) -> Purchase {
    store
        .record_purchase(NewPurchase::new(customer, at(day), eur(minor)))
        .expect("recording a valid purchase should work")
}

/// Creates an open deal worth `minor` cents for `customer` on day 1.
pub(crate) fn open_deal(store: &dyn Store, customer: CustomerId, minor: i64) -> Deal {
    store
        .create_deal(NewDeal::new(customer, label("website"), eur(minor), at(1)))
        .expect("creating a valid deal should work")
}

/// Creates a deal for `customer` and wins it on day 2.
pub(crate) fn won_deal(store: &dyn Store, customer: CustomerId) -> Deal {
    let deal = open_deal(store, customer, 100_000);
    store
        .move_deal(deal.id(), DealStage::Won, at(2))
        .expect("winning an open deal should work")
}
