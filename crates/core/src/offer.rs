//! Offers: coupon codes for a percentage or an amount off a purchase, or a gift, and
//! the redemptions that record each use on a purchase.
//!
//! An [`Offer`] is keyed by its [`OfferCode`] (unique per book, compared ignoring
//! case: codes are kept in upper case). It is valid from one business day to another,
//! both included, counted in the book's time zone; it may be limited in how often one
//! customer and all customers together may use it, and to an audience (a segment
//! expression, e.g. `tier = "gold"`). Ending an offer closes it for good; its
//! redemptions stay.
//!
//! A [`Redemption`] links an offer, a customer and the purchase it was used on (at
//! most one offer per purchase). The limit check and the insert are one step of the
//! storage port ([`WriteTx::redeem_within_limits`](crate::port::WriteTx::redeem_within_limits)),
//! so two redemptions racing for the last use cannot both succeed.
//!
//! Performance ([`OfferStats`]) counts redemptions, the revenue of the purchases they
//! were used on, the discount given and the *incremental buyers*, defined in
//! [`offer_stats`].

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::ids::{CustomerId, PurchaseId};
use crate::money::{Currency, Money, MoneyError};
use crate::segment::Predicate;
use crate::text::Label;
use crate::validation::ValidationError;
use crate::zone::BusinessZone;

/// The longest coupon code, in characters.
pub const MAX_CODE_LEN: usize = 32;

/// A coupon code: 1 to 32 ASCII letters, digits, `-` or `_`, kept in upper case so
/// that `spring-10` and `SPRING-10` are the same code.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct OfferCode(String);

impl OfferCode {
    /// Parses a code, trimming surrounding spaces and folding to upper case.
    ///
    /// ```
    /// use solocrm_core::offer::OfferCode;
    /// assert_eq!(OfferCode::parse(" spring-10 ")?.as_str(), "SPRING-10");
    /// assert!(OfferCode::parse("春节").is_err());
    /// # Ok::<(), solocrm_core::ValidationError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`ValidationError::Empty`], [`ValidationError::TooLong`] or
    /// [`ValidationError::ForbiddenCharacter`].
    pub fn parse(input: &str) -> Result<Self, ValidationError> {
        let t = input.trim();
        if t.is_empty() {
            return Err(ValidationError::Empty {
                field: "coupon code",
            });
        }
        let len = t.chars().count();
        if len > MAX_CODE_LEN {
            return Err(ValidationError::TooLong {
                field: "coupon code",
                len,
                max: MAX_CODE_LEN,
                unit: "characters",
            });
        }
        if let Some(bad) = t
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_'))
        {
            return Err(ValidationError::ForbiddenCharacter {
                field: "coupon code",
                what: format!("'{bad}' (only letters A-Z, digits, '-' and '_')"),
            });
        }
        Ok(OfferCode(t.to_ascii_uppercase()))
    }

    /// The code, in upper case.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for OfferCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for OfferCode {
    type Error = ValidationError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        OfferCode::parse(&s)
    }
}

impl From<OfferCode> for String {
    fn from(c: OfferCode) -> String {
        c.0
    }
}

/// What an offer gives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "value")]
pub enum Benefit {
    /// This percentage off the purchase total, more than 0 and at most 100.
    Percent(Decimal),
    /// This amount off the purchase total (never below zero), in the base currency.
    Amount(Money),
    /// A gift handed over with the purchase; nothing off the total.
    Gift(Label),
}

impl Benefit {
    /// The kind's name: `percent`, `amount` or `gift`.
    pub fn kind(&self) -> &'static str {
        match self {
            Benefit::Percent(_) => "percent",
            Benefit::Amount(_) => "amount",
            Benefit::Gift(_) => "gift",
        }
    }

    /// Checks the value: a percentage in (0, 100], an amount above zero in `base` in
    /// whole minor units. Returns the benefit in stored form.
    ///
    /// # Errors
    ///
    /// [`ValidationError::Config`] for a percentage out of range or an amount of
    /// zero; the errors of [`Money::for_storage`] for an amount.
    pub fn checked(self, base: Currency) -> Result<Benefit, ValidationError> {
        match self {
            Benefit::Percent(p) => {
                if p <= Decimal::ZERO || p > Decimal::ONE_HUNDRED {
                    return Err(ValidationError::Config(format!(
                        "a percentage off must be more than 0 and at most 100, got {p}"
                    )));
                }
                Ok(Benefit::Percent(p.normalize()))
            }
            Benefit::Amount(m) => {
                let m = m.for_storage("offer amount", base)?;
                if m.amount() <= Decimal::ZERO {
                    return Err(ValidationError::Config(format!(
                        "an amount off must be more than zero, got {m}"
                    )));
                }
                Ok(Benefit::Amount(m))
            }
            gift @ Benefit::Gift(_) => Ok(gift),
        }
    }

    /// The discount on a purchase of `total` (before the discount), in whole minor
    /// units and never more than the total:
    ///
    /// - percent `p`: `total × p / 100`, rounded to the minor unit, halves away from
    ///   zero;
    /// - amount `a`: `min(a, total)`;
    /// - gift: zero.
    ///
    /// The purchase records `total − discount`, so the two add up to the total
    /// exactly.
    ///
    /// ```
    /// use rust_decimal::Decimal;
    /// use solocrm_core::offer::Benefit;
    /// use solocrm_core::{Currency, Money};
    /// let total = Money::parse("99.99", Currency::CNY)?;
    /// let ten = Benefit::Percent(Decimal::TEN);
    /// // 9.999 rounds to 10.00
    /// assert_eq!(ten.discount_on(total)?, Money::parse("10.00", Currency::CNY)?);
    /// let big = Benefit::Amount(Money::parse("150", Currency::CNY)?);
    /// assert_eq!(big.discount_on(total)?, total);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`MoneyError`] if the arithmetic overflows or the currencies differ.
    pub fn discount_on(&self, total: Money) -> Result<Money, MoneyError> {
        let zero = Money::zero(total.currency());
        if total.amount() <= Decimal::ZERO {
            return Ok(zero);
        }
        let off = match self {
            Benefit::Percent(p) => total.checked_mul(*p / Decimal::ONE_HUNDRED)?.round(
                total.currency().minor_unit_digits(),
                RoundingStrategy::MidpointAwayFromZero,
            ),
            Benefit::Amount(a) => {
                // Same currency or an error.
                total.checked_sub(*a)?;
                *a
            }
            Benefit::Gift(_) => zero,
        };
        Ok(if off.amount() > total.amount() {
            total
        } else {
            off
        })
    }
}

/// A coupon or offer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Offer {
    /// The code customers give; unique per book.
    pub code: OfferCode,
    /// What it gives.
    pub benefit: Benefit,
    /// The first business day it may be used.
    pub valid_from: NaiveDate,
    /// The last business day it may be used (included).
    pub valid_until: NaiveDate,
    /// How often one customer may use it (`None`: no limit).
    pub per_customer: Option<u32>,
    /// How often it may be used in all (`None`: no limit).
    pub total: Option<u32>,
    /// Who may use it (`None`: everyone), e.g. `tier = "gold"`.
    pub audience: Option<Predicate>,
    /// When it was added.
    pub created_at: DateTime<Utc>,
    /// When it was ended (then it may no longer be used).
    pub ended_at: Option<DateTime<Utc>>,
}

impl Offer {
    /// Checks the offer can be stored: the window does not end before it starts, the
    /// limits are at least 1, the benefit is valid for `base`, the audience nests
    /// within bounds. Returns it in stored form.
    ///
    /// # Errors
    ///
    /// A [`ValidationError`] naming the field.
    pub fn checked(mut self, base: Currency) -> Result<Offer, ValidationError> {
        if self.valid_until < self.valid_from {
            return Err(ValidationError::Config(format!(
                "the offer ends ({}) before it starts ({})",
                self.valid_until, self.valid_from
            )));
        }
        crate::time::check_date("offer start", self.valid_from)?;
        crate::time::check_date("offer end", self.valid_until)?;
        for (field, limit) in [
            ("per-customer limit", self.per_customer),
            ("total limit", self.total),
        ] {
            if limit == Some(0) {
                return Err(ValidationError::OutOfRange {
                    field,
                    value: 0,
                    min: 1,
                    max: i64::from(u32::MAX),
                });
            }
        }
        if let Some(a) = &self.audience {
            a.check_depth()?;
        }
        self.benefit = self.benefit.checked(base)?;
        Ok(self)
    }

    /// Whether the offer may be used on business day `day` (ignoring limits and
    /// audience); the refusal otherwise.
    ///
    /// # Errors
    ///
    /// [`Refusal::Ended`], [`Refusal::NotYetValid`] or [`Refusal::Expired`].
    pub fn check_day(&self, day: NaiveDate) -> Result<(), Refusal> {
        if let Some(at) = self.ended_at {
            return Err(Refusal::Ended { at });
        }
        if day < self.valid_from {
            return Err(Refusal::NotYetValid {
                from: self.valid_from,
            });
        }
        if day > self.valid_until {
            return Err(Refusal::Expired {
                until: self.valid_until,
            });
        }
        Ok(())
    }
}

/// One use of an offer on a purchase.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Redemption {
    /// The purchase it was used on (at most one offer per purchase).
    pub purchase: PurchaseId,
    /// The offer.
    pub code: OfferCode,
    /// The buyer.
    pub customer: CustomerId,
    /// When (the purchase's instant).
    pub at: DateTime<Utc>,
    /// The discount given: the purchase's total before it minus what was paid.
    pub discount: Money,
}

/// What [`WriteTx::redeem_within_limits`](crate::port::WriteTx::redeem_within_limits)
/// did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RedeemOutcome {
    /// The redemption is stored.
    Redeemed,
    /// Nothing stored: the offer has been used its total number of times.
    TotalUsedUp,
    /// Nothing stored: this customer has used it as often as one customer may.
    CustomerUsedUp,
}

/// Why an offer cannot be used on a purchase.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum Refusal {
    /// The offer was ended.
    #[error("it was ended at {at}")]
    Ended {
        /// When.
        at: DateTime<Utc>,
    },
    /// The purchase's day is before the first valid day.
    #[error("it is valid only from {from}")]
    NotYetValid {
        /// The first valid day.
        from: NaiveDate,
    },
    /// The purchase's day is after the last valid day.
    #[error("it expired after {until}")]
    Expired {
        /// The last valid day.
        until: NaiveDate,
    },
    /// Used its total number of times.
    #[error("it is used up ({limit} of {limit} uses)")]
    UsedUp {
        /// The total limit.
        limit: u32,
    },
    /// This customer has used it as often as one customer may.
    #[error("this customer has already used it {limit} time(s), the most one customer may")]
    UsedUpByCustomer {
        /// The per-customer limit.
        limit: u32,
    },
    /// The customer is not in the offer's audience.
    #[error("it is only for customers where {audience}")]
    NotForCustomer {
        /// The audience, as a segment expression.
        audience: String,
    },
}

/// The performance of one offer; see [`offer_stats`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfferStats {
    /// The offer.
    pub code: OfferCode,
    /// How many times it was used.
    pub redemptions: u64,
    /// How many distinct customers used it.
    pub redeemers: u64,
    /// What the purchases it was used on brought in (after the discount).
    pub revenue: Money,
    /// The discount given in all.
    pub discount_cost: Money,
    /// Redeemers with no other purchase in the `lookback_days` business days before
    /// their first redemption.
    pub incremental_buyers: u64,
    /// The look-back window, in business days.
    pub lookback_days: u32,
}

/// Performance of an offer from its redemptions, the amounts paid on the redeemed
/// purchases and every redeemer's purchase instants.
///
/// - **redemptions**: the number of redemptions;
/// - **redeemers**: distinct customers among them;
/// - **revenue**: Σ amount paid on the redeemed purchases (after the discount);
/// - **discount cost**: Σ discount of the redemptions;
/// - **incremental buyers**: redeemers who bought nothing else in the `lookback`
///   business days before the day of their first redemption (`day − lookback ≤ d <
///   day`, days in `zone`). A purchase the same day as the first redemption does
///   not count against it. This is a *descriptive* count of who came (back) with the
///   coupon, not a causal estimate: some of them would have bought without it, and
///   there is no control group.
///
/// `paid` maps a redeemed purchase to its amount; `history` maps a redeemer to the
/// instants of their purchases that are not voided (redeemed ones may be included;
/// they are skipped). A redemption whose purchase is missing from `paid` adds no
/// revenue.
///
/// Source: the issue's "offer performance"; the look-back rule is the usual
/// "new or lapsed buyer" reading of coupon reports.
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use std::collections::BTreeMap;
/// use solocrm_core::offer::{OfferCode, Redemption, offer_stats};
/// use solocrm_core::{BusinessZone, Currency, CustomerId, Money, PurchaseId};
/// let cny = |s: &str| Money::parse(s, Currency::CNY).unwrap();
/// let code = OfferCode::parse("SPRING")?;
/// let day = |d| Utc.with_ymd_and_hms(2026, 3, d, 10, 0, 0).unwrap();
/// let r = |p, c, d, off: &str| Redemption {
///     purchase: PurchaseId::new(p), code: code.clone(), customer: CustomerId::new(c),
///     at: day(d), discount: cny(off),
/// };
/// // 王芳 (1) redeems twice; 李雷 (2) once, but bought on 1 March, 9 days before.
/// let reds = [r(10, 1, 10, "5.00"), r(11, 1, 12, "5.00"), r(12, 2, 10, "8.00")];
/// let paid = BTreeMap::from([
///     (PurchaseId::new(10), cny("45.00")),
///     (PurchaseId::new(11), cny("45.00")),
///     (PurchaseId::new(12), cny("72.00")),
/// ]);
/// let history = BTreeMap::from([
///     (CustomerId::new(1), vec![day(10), day(12)]),
///     (CustomerId::new(2), vec![day(1), day(10)]),
/// ]);
/// let s = offer_stats(&code, &reds, &paid, &history, 30, BusinessZone::UTC, Currency::CNY)?;
/// assert_eq!((s.redemptions, s.redeemers, s.incremental_buyers), (3, 2, 1));
/// assert_eq!(s.revenue, cny("162.00"));
/// assert_eq!(s.discount_cost, cny("18.00"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
///
/// [`MoneyError`] if a sum overflows or a currency differs from `currency`.
pub fn offer_stats(
    code: &OfferCode,
    redemptions: &[Redemption],
    paid: &BTreeMap<PurchaseId, Money>,
    history: &BTreeMap<CustomerId, Vec<DateTime<Utc>>>,
    lookback: u32,
    zone: BusinessZone,
    currency: Currency,
) -> Result<OfferStats, MoneyError> {
    let mut revenue = Money::zero(currency);
    let mut discount = Money::zero(currency);
    let mut first: BTreeMap<CustomerId, DateTime<Utc>> = BTreeMap::new();
    let mut redeemed: BTreeSet<PurchaseId> = BTreeSet::new();
    for r in redemptions {
        discount = discount.checked_add(r.discount)?;
        if let Some(p) = paid.get(&r.purchase) {
            revenue = revenue.checked_add(*p)?;
        }
        redeemed.insert(r.purchase);
        let e = first.entry(r.customer).or_insert(r.at);
        *e = (*e).min(r.at);
    }
    let incremental = first
        .iter()
        .filter(|(customer, at)| {
            let day = zone.date_of(**at);
            let start = day - chrono::Days::new(u64::from(lookback));
            let before = history.get(customer).map_or(&[][..], Vec::as_slice);
            !before.iter().any(|t| {
                let d = zone.date_of(*t);
                d >= start && d < day
            })
        })
        .count();
    Ok(OfferStats {
        code: code.clone(),
        redemptions: redemptions.len() as u64,
        redeemers: first.len() as u64,
        revenue,
        discount_cost: discount,
        incremental_buyers: incremental as u64,
        lookback_days: lookback,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// The discount is never negative nor above the total, and total − discount
        /// is what is left, exactly.
        #[test]
        fn discount_is_within_the_total(minor in 0i64..10_000_000, pct in 1u32..=100, off in 1i64..20_000_000) {
            let total = Money::from_minor(minor, Currency::CNY);
            for b in [Benefit::Percent(Decimal::from(pct)), Benefit::Amount(Money::from_minor(off, Currency::CNY))] {
                let d = b.discount_on(total).unwrap();
                prop_assert!(d.amount() >= Decimal::ZERO);
                prop_assert!(d.amount() <= total.amount());
                prop_assert_eq!(d.to_minor_units().unwrap() + total.checked_sub(d).unwrap().to_minor_units().unwrap(), minor);
            }
        }
    }

    #[test]
    fn codes_fold_case_and_refuse_spaces() {
        assert_eq!(OfferCode::parse("vip_2026").unwrap().as_str(), "VIP_2026");
        assert!(OfferCode::parse("a b").is_err());
        assert!(OfferCode::parse(&"x".repeat(33)).is_err());
    }
}
