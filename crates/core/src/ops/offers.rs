//! Offer operations: adding and ending coupons, a purchase with a coupon, offer
//! performance (see [`crate::offer`]).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::read::PredicateExtras;
use super::{Reader, Writer};
use crate::error::Conflict;
use crate::ids::CustomerId;
use crate::offer::{Offer, OfferCode, OfferStats, RedeemOutcome, Redemption, Refusal, offer_stats};
use crate::purchase::{NewPurchase, Purchase};
use crate::segment::Facts;
use crate::store::{Entity, StoreError, StoreResult};

/// `refusal` of the offer `code` as the store's error.
fn refused(code: &OfferCode, refusal: Refusal) -> StoreError {
    StoreError::Conflict(Conflict::OfferRefused {
        code: code.to_string(),
        refusal,
    })
}

impl Reader<'_> {
    /// The offer with this code.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`].
    pub fn offer(&self, code: &OfferCode) -> StoreResult<Offer> {
        self.tx
            .offer(code)?
            .ok_or_else(|| StoreError::not_found(Entity::Offer, code))
    }

    /// Every offer, by code.
    ///
    /// # Errors
    ///
    /// Only the backend's.
    pub fn offers(&self) -> StoreResult<Vec<Offer>> {
        self.tx.offers()
    }

    /// The redemptions of one offer (`None`: of all), by purchase id.
    ///
    /// # Errors
    ///
    /// Only the backend's.
    pub fn redemptions(&self, code: Option<&OfferCode>) -> StoreResult<Vec<Redemption>> {
        self.tx.redemptions(code)
    }

    /// The performance of the offer `code` ([`offer_stats`]), with incremental buyers
    /// counted over `lookback` business days. Reads the offer's redemptions, the
    /// purchases they were used on and the redeemers' purchases, nothing else.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`] for the offer; the backend's.
    pub fn offer_stats(&self, code: &OfferCode, lookback: u32) -> StoreResult<OfferStats> {
        self.offer_stats_where(code, lookback, &|_| true)
    }

    /// [`offer_stats`](Self::offer_stats) over the redemptions of the customers `keep`
    /// accepts only (a segment's or stage's, ADR 0026): their uses, the purchases they
    /// were used on and their own purchase history; the formula is the same.
    ///
    /// # Errors
    ///
    /// As [`offer_stats`](Self::offer_stats).
    pub fn offer_stats_where(
        &self,
        code: &OfferCode,
        lookback: u32,
        keep: &dyn Fn(CustomerId) -> bool,
    ) -> StoreResult<OfferStats> {
        self.offer(code)?;
        let mut redemptions = self.tx.redemptions(Some(code))?;
        redemptions.retain(|r| keep(r.customer));
        let mut paid = BTreeMap::new();
        let mut history: BTreeMap<CustomerId, Vec<DateTime<Utc>>> = BTreeMap::new();
        for r in &redemptions {
            if let Some(p) = self.tx.purchase(r.purchase)?
                && !p.is_void()
            {
                paid.insert(p.id(), p.amount());
            }
            if let std::collections::btree_map::Entry::Vacant(slot) = history.entry(r.customer) {
                slot.insert(
                    self.purchases_of(r.customer)?
                        .into_iter()
                        .filter(|p| !p.is_void())
                        .map(|p| p.at())
                        .collect(),
                );
            }
        }
        offer_stats(
            code,
            &redemptions,
            &paid,
            &history,
            lookback,
            self.tx.time_zone()?,
            self.currency(),
        )
        .map_err(|e| StoreError::Validation(crate::ValidationError::Config(e.to_string())))
    }
}

impl Writer<'_> {
    /// Adds an offer.
    ///
    /// # Errors
    ///
    /// [`StoreError::Validation`] (see [`Offer::checked`]);
    /// [`Conflict::DuplicateOfferCode`].
    pub fn add_offer(&mut self, offer: Offer) -> StoreResult<Offer> {
        self.atomic(|w| {
            let offer = offer.checked(w.tx.base_currency())?;
            if w.tx.offer(&offer.code)?.is_some() {
                return Err(Conflict::DuplicateOfferCode {
                    code: offer.code.to_string(),
                }
                .into());
            }
            w.tx.put_offer(&offer)?;
            Ok(offer)
        })
    }

    /// Ends an offer at `at`: it may no longer be used. An offer already ended stays
    /// as it was.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`].
    pub fn end_offer(&mut self, code: &OfferCode, at: DateTime<Utc>) -> StoreResult<Offer> {
        self.atomic(|w| {
            let mut offer =
                w.tx.offer(code)?
                    .ok_or_else(|| StoreError::not_found(Entity::Offer, code))?;
            if offer.ended_at.is_none() {
                offer.ended_at = Some(at);
                w.tx.put_offer(&offer)?;
            }
            Ok(offer)
        })
    }

    /// Records a purchase with the coupon `code`: `new.amount` is the total before
    /// the discount; the purchase stores the total less the offer's
    /// [discount](crate::offer::Benefit::discount_on), and the redemption links the
    /// offer, the customer and the purchase. The offer is checked on the purchase's
    /// business day, then against its audience (as of the purchase), then its limits,
    /// the last check and the redemption being one step of the store. All or nothing.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`] for the offer or the customer;
    /// [`Conflict::OfferRefused`] (ended, not yet valid, expired, not for this
    /// customer, used up in all or by this customer); the errors of
    /// [`record_purchase`](Self::record_purchase).
    pub fn record_purchase_with_offer(
        &mut self,
        new: NewPurchase,
        code: &OfferCode,
    ) -> StoreResult<(Purchase, Redemption)> {
        self.atomic(|w| {
            let offer =
                w.tx.offer(code)?
                    .ok_or_else(|| StoreError::not_found(Entity::Offer, code))?;
            let zone = w.tx.time_zone()?;
            offer
                .check_day(zone.date_of(new.at))
                .map_err(|r| refused(code, r))?;
            let customer =
                w.tx.customer(new.customer)?
                    .ok_or_else(|| StoreError::not_found(Entity::Customer, new.customer))?;
            if let Some(audience) = &offer.audience {
                let reader = w.reader();
                let summary = if audience.needs_purchases() {
                    reader.purchase_summary(new.customer, new.at)?
                } else {
                    crate::segment::PurchaseSummary::none(w.tx.base_currency())
                };
                let (tier, needs) =
                    PredicateExtras::read(&reader, audience)?.of(&reader, new.customer)?;
                let facts = Facts {
                    purchases: &summary,
                    tier: tier.as_ref(),
                    needs: &needs,
                };
                if !audience.matches(&customer, &facts, new.at, zone) {
                    return Err(refused(
                        code,
                        Refusal::NotForCustomer {
                            audience: audience.to_string(),
                        },
                    ));
                }
            }
            let total = new
                .amount
                .for_storage("purchase amount", w.tx.base_currency())?;
            let discount = offer.benefit.discount_on(total).map_err(|e| {
                StoreError::Validation(crate::ValidationError::Config(e.to_string()))
            })?;
            let net = total.checked_sub(discount).map_err(|e| {
                StoreError::Validation(crate::ValidationError::Config(e.to_string()))
            })?;
            let at = new.at;
            let customer_id = new.customer;
            let purchase = w.record_purchase(NewPurchase { amount: net, ..new })?;
            let redemption = Redemption {
                purchase: purchase.id(),
                code: offer.code.clone(),
                customer: customer_id,
                at,
                discount,
            };
            match w
                .tx
                .redeem_within_limits(&redemption, offer.per_customer, offer.total)?
            {
                RedeemOutcome::Redeemed => Ok((purchase, redemption)),
                RedeemOutcome::TotalUsedUp => Err(refused(
                    code,
                    Refusal::UsedUp {
                        limit: offer.total.unwrap_or(0),
                    },
                )),
                RedeemOutcome::CustomerUsedUp => Err(refused(
                    code,
                    Refusal::UsedUpByCustomer {
                        limit: offer.per_customer.unwrap_or(0),
                    },
                )),
            }
        })
    }
}
