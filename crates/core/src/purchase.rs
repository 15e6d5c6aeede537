//! Purchases, refunds, and the columnar purchase log used by the metrics.
//!
//! A purchase's amount is zero or more: a zero amount is a free order and still counts
//! as a purchase. Money going back to the customer is a [`Refund`], a record of its own
//! that points at the purchase it refunds, rather than a negative purchase: a negative
//! purchase would count as a purchase in frequency and repeat-rate metrics, and it could
//! not be checked against what was paid. The store refuses refunds that exceed what is
//! left of their purchase.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::ValidationError;
use crate::ids::{CustomerId, DealId, PurchaseId, RefundId};
use crate::money::{Currency, Money};
use crate::text::{ExternalRef, FreeText};
use crate::void::Void;

/// A purchase to be recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewPurchase {
    /// The buyer.
    pub customer: CustomerId,
    /// When they bought.
    pub at: DateTime<Utc>,
    /// What they paid: zero or more, in the store's base currency, in whole minor units.
    pub amount: Money,
    /// What the sale cost the business, if known (for margins).
    pub cost: Option<Money>,
    /// What was bought.
    pub description: Option<FreeText>,
    /// How many items.
    pub items: Option<u32>,
    /// Reference in another system (an invoice number); unique per store.
    pub external_ref: Option<ExternalRef>,
    /// The won deal this purchase follows from (after-sales).
    pub deal: Option<DealId>,
}

impl NewPurchase {
    /// A purchase of `amount` by `customer` at `at`, with no optional fields.
    pub fn new(customer: CustomerId, at: DateTime<Utc>, amount: Money) -> Self {
        NewPurchase {
            customer,
            at,
            amount,
            cost: None,
            description: None,
            items: None,
            external_ref: None,
            deal: None,
        }
    }

    /// Checks the money fields (not negative, base currency, whole minor units) and
    /// returns the purchase with amounts in stored form.
    ///
    /// # Errors
    ///
    /// [`ValidationError::NegativeAmount`], [`ValidationError::CurrencyMismatch`],
    /// [`ValidationError::TooManyDecimals`] or [`ValidationError::AmountOutOfRange`].
    pub fn for_storage(mut self, base: Currency) -> Result<Self, ValidationError> {
        self.amount = non_negative("purchase amount", self.amount, base)?;
        if let Some(cost) = self.cost {
            self.cost = Some(non_negative("purchase cost", cost, base)?);
        }
        Ok(self)
    }
}

fn non_negative(field: &'static str, m: Money, base: Currency) -> Result<Money, ValidationError> {
    if m.is_negative() {
        return Err(ValidationError::NegativeAmount { field, amount: m });
    }
    m.for_storage(field, base)
}

/// A recorded purchase.
///
/// Deserialising checks what [`NewPurchase::for_storage`] checks, in the amount's own
/// currency: amount and cost are not negative, in one currency, whole minor units and
/// within [`MAX_STORED_MAJOR`](crate::money::MAX_STORED_MAJOR).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "PurchaseRepr", into = "PurchaseRepr")]
pub struct Purchase {
    id: PurchaseId,
    #[serde(flatten)]
    fields: NewPurchase,
    /// Boxed: few purchases are voided, and an inline marker (time, author, reason)
    /// would be a quarter of every purchase a report holds (issue 14).
    void: Option<Box<Void>>,
}

impl Purchase {
    /// The purchase `fields` stored under `id`. For store implementations, which have
    /// checked the fields with [`NewPurchase::for_storage`].
    pub fn new(id: PurchaseId, fields: NewPurchase) -> Self {
        Purchase {
            id,
            fields,
            void: None,
        }
    }
    /// The same purchase with this void marker (none: not voided). For store
    /// implementations reading a stored purchase back.
    #[must_use]
    pub fn with_void(mut self, void: Option<Void>) -> Self {
        self.void = void.map(Box::new);
        self
    }
    /// The void marker, if the purchase was voided.
    pub fn void(&self) -> Option<&Void> {
        self.void.as_deref()
    }
    /// True if the purchase was voided: it stays in the books but counts nowhere.
    pub fn is_void(&self) -> bool {
        self.void.is_some()
    }
    /// The id.
    pub fn id(&self) -> PurchaseId {
        self.id
    }
    /// The buyer.
    pub fn customer(&self) -> CustomerId {
        self.fields.customer
    }
    /// When they bought.
    pub fn at(&self) -> DateTime<Utc> {
        self.fields.at
    }
    /// What they paid.
    pub fn amount(&self) -> Money {
        self.fields.amount
    }
    /// What it cost the business.
    pub fn cost(&self) -> Option<Money> {
        self.fields.cost
    }
    /// Amount minus cost, when the cost is known.
    pub fn margin(&self) -> Option<Money> {
        self.fields
            .cost
            .and_then(|c| self.fields.amount.checked_sub(c).ok())
    }
    /// What was bought.
    pub fn description(&self) -> Option<&FreeText> {
        self.fields.description.as_ref()
    }
    /// How many items.
    pub fn items(&self) -> Option<u32> {
        self.fields.items
    }
    /// The external reference.
    pub fn external_ref(&self) -> Option<&ExternalRef> {
        self.fields.external_ref.as_ref()
    }
    /// The deal it follows from.
    pub fn deal(&self) -> Option<DealId> {
        self.fields.deal
    }
    /// All fields.
    pub fn fields(&self) -> &NewPurchase {
        &self.fields
    }
    /// The same purchase without its free text (description and external reference),
    /// which no metric reads; its void marker is kept.
    #[must_use]
    pub fn without_text(mut self) -> Purchase {
        self.fields.description = None;
        self.fields.external_ref = None;
        self
    }
    /// Drops the free-text description and a void's reason (privacy erase); amounts
    /// and dates stay.
    pub fn erase_text(&mut self) {
        self.fields.description = None;
        if let Some(v) = &mut self.void {
            v.erase_text();
        }
    }
}

/// A change to a recorded purchase: each field given replaces the stored one; `None`
/// keeps it. The optional fields take `Some(None)` to clear them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PurchaseEdit {
    /// A new amount (not below what was already refunded).
    pub amount: Option<Money>,
    /// A new cost of goods, or `Some(None)` to forget it.
    pub cost: Option<Option<Money>>,
    /// A new description, or `Some(None)` to clear it.
    pub description: Option<Option<FreeText>>,
    /// A new external reference, or `Some(None)` to clear it.
    pub external_ref: Option<Option<ExternalRef>>,
    /// A new time (not after the purchase's first refund).
    pub at: Option<DateTime<Utc>>,
}

impl PurchaseEdit {
    /// True if the edit changes nothing.
    pub fn is_empty(&self) -> bool {
        *self == PurchaseEdit::default()
    }

    /// True if the edit writes free text (a description).
    pub fn writes_text(&self) -> bool {
        matches!(self.description, Some(Some(_)))
    }

    /// `fields` with the edit applied (unchecked: see [`NewPurchase::for_storage`]).
    pub fn apply(&self, mut fields: NewPurchase) -> NewPurchase {
        if let Some(a) = self.amount {
            fields.amount = a;
        }
        if let Some(c) = self.cost {
            fields.cost = c;
        }
        if let Some(d) = &self.description {
            fields.description.clone_from(d);
        }
        if let Some(r) = &self.external_ref {
            fields.external_ref.clone_from(r);
        }
        if let Some(at) = self.at {
            fields.at = at;
        }
        fields
    }
}

/// A refund to be recorded: money back on one purchase.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewRefund {
    /// The purchase refunded.
    pub purchase: PurchaseId,
    /// When.
    pub at: DateTime<Utc>,
    /// How much: more than zero, at most what is left of the purchase.
    pub amount: Money,
    /// Why.
    pub reason: Option<FreeText>,
}

impl NewRefund {
    /// Checks the amount (more than zero, base currency, whole minor units).
    ///
    /// # Errors
    ///
    /// [`ValidationError::NonPositiveAmount`] and the errors of [`Money::for_storage`].
    pub fn for_storage(mut self, base: Currency) -> Result<Self, ValidationError> {
        let field = "refund amount";
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

/// A recorded refund.
///
/// Deserialising checks what [`NewRefund::for_storage`] checks, in the amount's own
/// currency: the amount is more than zero, whole minor units and within bounds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RefundRepr", into = "RefundRepr")]
pub struct Refund {
    id: RefundId,
    customer: CustomerId,
    #[serde(flatten)]
    fields: NewRefund,
}

impl Refund {
    /// The refund `fields` of `customer`'s purchase, stored under `id`. For store
    /// implementations.
    pub fn new(id: RefundId, customer: CustomerId, fields: NewRefund) -> Self {
        Refund {
            id,
            customer,
            fields,
        }
    }
    /// The id.
    pub fn id(&self) -> RefundId {
        self.id
    }
    /// The customer of the refunded purchase.
    pub fn customer(&self) -> CustomerId {
        self.customer
    }
    /// The refunded purchase.
    pub fn purchase(&self) -> PurchaseId {
        self.fields.purchase
    }
    /// When.
    pub fn at(&self) -> DateTime<Utc> {
        self.fields.at
    }
    /// How much.
    pub fn amount(&self) -> Money {
        self.fields.amount
    }
    /// Why.
    pub fn reason(&self) -> Option<&FreeText> {
        self.fields.reason.as_ref()
    }
    /// Drops the free-text reason (privacy erase).
    pub fn erase_text(&mut self) {
        self.fields.reason = None;
    }
}

/// The serialised form of a [`Purchase`]: the same fields, checked on the way in.
#[derive(Serialize, Deserialize)]
struct PurchaseRepr {
    id: PurchaseId,
    #[serde(flatten)]
    fields: NewPurchase,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    void: Option<Void>,
}

impl From<Purchase> for PurchaseRepr {
    fn from(p: Purchase) -> Self {
        PurchaseRepr {
            id: p.id,
            fields: p.fields,
            void: p.void.map(|v| *v),
        }
    }
}

impl TryFrom<PurchaseRepr> for Purchase {
    type Error = ValidationError;
    fn try_from(r: PurchaseRepr) -> Result<Self, ValidationError> {
        // The checks a store ran when recording it; the amounts are kept as written.
        r.fields.clone().for_storage(r.fields.amount.currency())?;
        Ok(Purchase::new(r.id, r.fields).with_void(r.void))
    }
}

/// The serialised form of a [`Refund`]: the same fields, checked on the way in.
#[derive(Serialize, Deserialize)]
struct RefundRepr {
    id: RefundId,
    customer: CustomerId,
    #[serde(flatten)]
    fields: NewRefund,
}

impl From<Refund> for RefundRepr {
    fn from(r: Refund) -> Self {
        RefundRepr {
            id: r.id,
            customer: r.customer,
            fields: r.fields,
        }
    }
}

impl TryFrom<RefundRepr> for Refund {
    type Error = ValidationError;
    fn try_from(r: RefundRepr) -> Result<Self, ValidationError> {
        r.fields.clone().for_storage(r.fields.amount.currency())?;
        Ok(Refund::new(r.id, r.customer, r.fields))
    }
}

/// All purchases of a store as a struct of arrays, for analytics over millions of rows.
///
/// Customers are numbered densely: `customers[i]` is the id of dense index `i`, sorted
/// ascending, and includes every customer of the store, also those without purchases
/// (they matter for "never bought" and population counts). Row `k` is one purchase:
/// `customer[k]` (dense index), `at[k]` (UTC seconds since the Unix epoch), `amount[k]`
/// (whole minor units of `currency`). Rows come in purchase-id order, or grouped by
/// customer in a log from
/// [`ReadTx::purchase_log_by_customer`](crate::port::ReadTx::purchase_log_by_customer)
/// ([`PurchaseLog::group_by_customer`]); voided purchases are left out. Refunds are
/// not in the log; metrics that net them out say so.
///
/// `zone` is the business time zone whose days the metrics count (recency, cohorts,
/// the end of an `as_of` day); a log read from a store carries the store's zone, one
/// built by hand counts UTC days unless given another.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PurchaseLog {
    /// The business time zone whose days the metrics count.
    #[serde(default)]
    pub zone: crate::zone::BusinessZone,
    /// The currency of every amount.
    pub currency: Option<Currency>,
    /// Dense index → customer id, ascending.
    pub customers: Vec<CustomerId>,
    /// Dense customer index of each purchase.
    pub customer: Vec<u32>,
    /// Time of each purchase, seconds since the Unix epoch (UTC).
    pub at: Vec<i64>,
    /// Amount of each purchase, in minor units.
    pub amount: Vec<i64>,
}

impl PurchaseLog {
    /// An empty log for a store with the given customers (ascending ids).
    pub fn with_customers(currency: Currency, customers: Vec<CustomerId>) -> Self {
        PurchaseLog {
            currency: Some(currency),
            customers,
            ..PurchaseLog::default()
        }
    }

    /// The same log, counting its days in `zone`.
    #[must_use]
    pub fn in_zone(mut self, zone: crate::zone::BusinessZone) -> Self {
        self.zone = zone;
        self
    }

    /// The number of purchases.
    pub fn len(&self) -> usize {
        self.customer.len()
    }

    /// True if there are no purchases.
    pub fn is_empty(&self) -> bool {
        self.customer.is_empty()
    }

    /// The dense index of `id`, if the customer is in the log. Ids without a gap (a
    /// book numbered from one that erased no row) are found by arithmetic, `id −
    /// first`, checked against the table; others by binary search. A million
    /// customers' ids do not fit the processor's cache, so a binary search of each
    /// missed it on most of its steps.
    pub fn index_of(&self, id: CustomerId) -> Option<u32> {
        let first = self.customers.first()?.get();
        let guess = id
            .get()
            .checked_sub(first)
            .and_then(|i| usize::try_from(i).ok())
            .filter(|&i| self.customers.get(i) == Some(&id));
        guess
            .or_else(|| self.customers.binary_search(&id).ok())
            .and_then(|i| u32::try_from(i).ok())
    }

    /// Appends one purchase of the customer with dense index `customer`.
    pub fn push(&mut self, customer: u32, at: i64, amount_minor: i64) {
        self.customer.push(customer);
        self.at.push(at);
        self.amount.push(amount_minor);
    }

    /// Orders the rows by ascending dense customer index, keeping the order of each
    /// customer's rows (a stable counting sort, linear in the rows). A ragged log (its
    /// columns of unequal length) is cut to its shortest column first; a row whose
    /// customer index is past the customers keeps its place after every grouped row.
    pub fn group_by_customer(&mut self) {
        let n = self
            .customer
            .len()
            .min(self.at.len())
            .min(self.amount.len());
        self.customer.truncate(n);
        self.at.truncate(n);
        self.amount.truncate(n);
        if self.customer.is_sorted() {
            return;
        }
        let groups = self.customers.len();
        // start[c] = the first row of customer c; the last slot takes the strays.
        let mut start = vec![0usize; groups + 2];
        for &c in &self.customer {
            start[(c as usize).min(groups) + 1] += 1;
        }
        for i in 0..=groups {
            start[i + 1] += start[i];
        }
        let mut customer = vec![0u32; n];
        let mut at = vec![0i64; n];
        let mut amount = vec![0i64; n];
        for k in 0..n {
            let c = self.customer[k];
            let slot = &mut start[(c as usize).min(groups)];
            customer[*slot] = c;
            at[*slot] = self.at[k];
            amount[*slot] = self.amount[k];
            *slot += 1;
        }
        self.customer = customer;
        self.at = at;
        self.amount = amount;
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        /// Grouping orders the rows by customer, keeps each customer's rows in the
        /// order they had, and loses or adds none.
        #[test]
        fn grouping_by_customer_keeps_each_customers_rows_in_order(
            rows in proptest::collection::vec((0u32..6, -5i64..5, 0i64..1_000), 0..60),
        ) {
            let mut log = PurchaseLog::with_customers(
                Currency::EUR,
                (1..=6).map(CustomerId::new).collect(),
            );
            for &(c, at, amount) in &rows {
                log.push(c, at, amount);
            }
            let before = log.clone();
            log.group_by_customer();
            prop_assert!(log.customer.is_sorted());
            prop_assert_eq!(log.len(), before.len());
            for c in 0..6u32 {
                let of = |l: &PurchaseLog| -> Vec<(i64, i64)> {
                    (0..l.len())
                        .filter(|&k| l.customer[k] == c)
                        .map(|k| (l.at[k], l.amount[k]))
                        .collect()
                };
                prop_assert_eq!(of(&log), of(&before));
            }
            prop_assert_eq!(&log.customers, &before.customers);
        }

        /// Every customer's dense index is found, ids with gaps or without, and an id
        /// not in the log is not.
        #[test]
        fn each_customers_dense_index_is_found(
            ids in proptest::collection::btree_set(1u64..200, 0..80),
            from in prop_oneof![Just(0u64), 1u64..5],
            dense in any::<bool>(),
        ) {
            let ids: Vec<CustomerId> = if dense {
                (from + 1..=from + ids.len() as u64).map(CustomerId::new).collect()
            } else {
                ids.into_iter().map(CustomerId::new).collect()
            };
            let log = PurchaseLog::with_customers(Currency::EUR, ids.clone());
            for probe in 0..220 {
                let id = CustomerId::new(probe);
                let want = ids.iter().position(|&c| c == id).map(|i| i as u32);
                prop_assert_eq!(log.index_of(id), want);
            }
        }
    }
}
