//! Costs: what the business spends on marketing, tools and the rest, kept with the
//! books so that the report can set revenue against spend (ROI) and, per acquisition
//! channel, spend against the customers it won (CAC).
//!
//! A cost is never edited or deleted: a wrong entry is *voided* with a reason, which
//! keeps it in the books (and in the outbox) but leaves it out of every metric.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::ValidationError;
use crate::ids::CostId;
use crate::money::{Currency, Money};
use crate::names::named_enum;
use crate::text::{FreeText, Label, Tag};

named_enum! {
    /// What a cost was for. A closed list: the report sums marketing spend per
    /// acquisition channel and sets all of it against revenue.
    pub enum CostCategory as "cost category" {
        /// Advertising, fairs, campaigns, referral rewards: spend to win customers.
        Marketing = "marketing",
        /// Software and services the business runs on (the CRM itself, mail, shop).
        Tools = "tools",
        /// Anything else.
        Other = "other",
    }
}

/// A cost to record. Every field is already validated; [`NewCost::for_storage`]
/// checks the amount against the books.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewCost {
    /// When the money was spent (its day counts for the report's period).
    pub at: DateTime<Utc>,
    /// How much: more than zero, in the books' currency.
    pub amount: Money,
    /// What for.
    pub category: CostCategory,
    /// The acquisition channel it paid for (`wechat`, `google-ads`), spelled like a
    /// customer's [`acquisition_channel`](crate::CustomerData::acquisition_channel).
    pub channel: Option<Tag>,
    /// A note.
    pub note: Option<FreeText>,
}

impl NewCost {
    /// Checks the amount: more than zero, the base currency, whole minor units, within
    /// the storage bound.
    ///
    /// # Errors
    ///
    /// [`ValidationError::NonPositiveAmount`] and the errors of [`Money::for_storage`].
    pub fn for_storage(mut self, base: Currency) -> Result<Self, ValidationError> {
        let field = "cost amount";
        if self.amount.is_negative() || self.amount.is_zero() {
            return Err(ValidationError::NonPositiveAmount {
                field,
                amount: self.amount,
            });
        }
        self.amount = self.amount.for_storage(field, base)?;
        Ok(self)
    }
}

/// Why and when a cost was voided.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CostVoid {
    /// When it was voided.
    pub at: DateTime<Utc>,
    /// Why.
    pub reason: Label,
}

/// A recorded cost.
///
/// Deserialising checks what [`NewCost::for_storage`] checks, in the amount's own
/// currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "CostRepr", into = "CostRepr")]
pub struct Cost {
    id: CostId,
    fields: NewCost,
    voided: Option<CostVoid>,
}

impl Cost {
    /// The cost `fields` stored under `id`, voided or not. For store implementations
    /// and the operations layer.
    pub fn new(id: CostId, fields: NewCost, voided: Option<CostVoid>) -> Self {
        Cost { id, fields, voided }
    }
    /// The id.
    pub fn id(&self) -> CostId {
        self.id
    }
    /// When the money was spent.
    pub fn at(&self) -> DateTime<Utc> {
        self.fields.at
    }
    /// How much.
    pub fn amount(&self) -> Money {
        self.fields.amount
    }
    /// What for.
    pub fn category(&self) -> CostCategory {
        self.fields.category
    }
    /// The acquisition channel it paid for.
    pub fn channel(&self) -> Option<&Tag> {
        self.fields.channel.as_ref()
    }
    /// The note.
    pub fn note(&self) -> Option<&FreeText> {
        self.fields.note.as_ref()
    }
    /// The voiding, if it was voided.
    pub fn voided(&self) -> Option<&CostVoid> {
        self.voided.as_ref()
    }
    /// True once voided: the cost counts in no metric.
    pub fn is_void(&self) -> bool {
        self.voided.is_some()
    }
    /// The same cost, voided. The operations layer refuses to void twice.
    #[must_use]
    pub fn void(mut self, at: DateTime<Utc>, reason: Label) -> Self {
        self.voided = Some(CostVoid { at, reason });
        self
    }
}

/// The serialised form of a [`Cost`]: the same fields, checked on the way in.
#[derive(Serialize, Deserialize)]
struct CostRepr {
    id: CostId,
    #[serde(flatten)]
    fields: NewCost,
    voided: Option<CostVoid>,
}

impl From<Cost> for CostRepr {
    fn from(c: Cost) -> Self {
        CostRepr {
            id: c.id,
            fields: c.fields,
            voided: c.voided,
        }
    }
}

impl TryFrom<CostRepr> for Cost {
    type Error = ValidationError;
    fn try_from(r: CostRepr) -> Result<Self, ValidationError> {
        r.fields.clone().for_storage(r.fields.amount.currency())?;
        Ok(Cost::new(r.id, r.fields, r.voided))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn cny(minor: i64) -> Money {
        Money::from_minor(minor, Currency::CNY)
    }

    fn new(amount: Money) -> NewCost {
        NewCost {
            at: Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap(),
            amount,
            category: CostCategory::Marketing,
            channel: Some(Tag::parse("wechat").unwrap()),
            note: Some(FreeText::parse("朋友圈广告").unwrap()),
        }
    }

    #[test]
    fn a_cost_is_more_than_zero_in_the_books_currency() {
        assert!(new(cny(0)).for_storage(Currency::CNY).is_err());
        assert!(new(cny(-1)).for_storage(Currency::CNY).is_err());
        assert!(new(cny(1)).for_storage(Currency::EUR).is_err());
        assert!(new(cny(1)).for_storage(Currency::CNY).is_ok());
    }

    #[test]
    fn categories_are_a_closed_list() {
        assert_eq!(
            CostCategory::parse("Marketing"),
            Ok(CostCategory::Marketing)
        );
        assert!(CostCategory::parse("rent").is_err());
    }

    #[test]
    fn a_cost_round_trips_through_serde_and_is_checked_on_the_way_in() {
        let c = Cost::new(CostId::new(1), new(cny(50_000)), None).void(
            Utc.with_ymd_and_hms(2026, 3, 2, 0, 0, 0).unwrap(),
            Label::parse("重复录入").unwrap(),
        );
        let json = serde_json::to_string(&c).unwrap();
        assert_eq!(serde_json::from_str::<Cost>(&json).unwrap(), c);
        let bad = json.replace("\"500.00\"", "\"-5\"");
        assert_ne!(bad, json);
        assert!(serde_json::from_str::<Cost>(&bad).is_err());
    }
}
