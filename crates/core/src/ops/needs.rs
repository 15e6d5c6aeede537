//! Needs and pain points ([`crate::need`]): the checks a write makes before the port
//! stores them, and the reads.

use chrono::{DateTime, Utc};

use super::{Reader, Writer};
use crate::CustomerId;
use crate::error::Conflict;
use crate::ids::NeedId;
use crate::need::{Need, NewNeed};
use crate::port::IdKind;
use crate::store::{Entity, StoreError, StoreResult};

impl Reader<'_> {
    /// The needs and pain points of `customer` (everyone's with `None`), by id,
    /// resolved and voided ones included.
    ///
    /// # Errors
    ///
    /// Only the backend's.
    pub fn needs(&self, customer: Option<CustomerId>) -> StoreResult<Vec<Need>> {
        self.tx.needs(customer)
    }

    /// One need or pain point.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`] for an unknown id.
    pub fn need(&self, id: NeedId) -> StoreResult<Need> {
        self.tx
            .need(id)?
            .ok_or_else(|| StoreError::not_found(Entity::Need, id))
    }
}

impl Writer<'_> {
    /// Records a need or pain point of a customer, or of one of their deals.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`] for an unknown customer or deal;
    /// [`Conflict::CustomerErased`]; [`Conflict::DealOfAnotherCustomer`] for a deal of
    /// someone else; [`StoreError::Validation`] for a time outside the accepted dates.
    pub fn record_need(&mut self, new: NewNeed) -> StoreResult<Need> {
        crate::time::check_instant("need time", new.at).map_err(StoreError::Validation)?;
        self.atomic(|w| {
            w.check_live(new.customer)?;
            if let Some(deal) = new.deal {
                let d =
                    w.tx.deal(deal)?
                        .ok_or_else(|| StoreError::not_found(Entity::Deal, deal))?;
                if d.customer() != new.customer {
                    return Err(Conflict::DealOfAnotherCustomer {
                        deal,
                        owner: d.customer(),
                        customer: new.customer,
                    }
                    .into());
                }
            }
            let id = NeedId::new(w.tx.next_id(IdKind::Need)?);
            let need = Need::new(id, new.clone());
            w.tx.insert_need(&need)?;
            Ok(need)
        })
    }

    /// Marks a need or pain point resolved at `at`: from then on it matches no segment.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`] for an unknown id; [`Conflict::Voided`] for a voided
    /// one; [`Conflict::NeedResolved`] if it is resolved already;
    /// [`StoreError::Validation`] for a time before it was recorded or outside the
    /// accepted dates.
    pub fn resolve_need(&mut self, id: NeedId, at: DateTime<Utc>) -> StoreResult<Need> {
        crate::time::check_instant("resolution time", at).map_err(StoreError::Validation)?;
        self.atomic(|w| {
            let mut need = w.reader().need(id)?;
            if let Some(v) = need.voided_at {
                return Err(Conflict::Voided {
                    entity: "need",
                    id: id.get(),
                    at: v,
                }
                .into());
            }
            if let Some(r) = need.resolved_at {
                return Err(Conflict::NeedResolved { need: id, at: r }.into());
            }
            if at < need.at {
                return Err(StoreError::Validation(crate::ValidationError::TimeOrder {
                    field: "resolution time",
                    at,
                    earlier_field: "the need's time",
                    earlier: need.at,
                }));
            }
            need.resolved_at = Some(at);
            w.tx.update_need(&need)?;
            Ok(need)
        })
    }

    /// Voids a need or pain point recorded by mistake: it stays in the books and
    /// counts nowhere (ADR 0011).
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`] for an unknown id; [`Conflict::Voided`] if it is void
    /// already; [`StoreError::Validation`] for a time outside the accepted dates.
    pub fn void_need(&mut self, id: NeedId, at: DateTime<Utc>) -> StoreResult<Need> {
        crate::time::check_instant("void time", at).map_err(StoreError::Validation)?;
        self.atomic(|w| {
            let mut need = w.reader().need(id)?;
            if let Some(v) = need.voided_at {
                return Err(Conflict::Voided {
                    entity: "need",
                    id: id.get(),
                    at: v,
                }
                .into());
            }
            need.voided_at = Some(at);
            w.tx.update_need(&need)?;
            Ok(need)
        })
    }
}
