//! The write operations: every check, in its order, then the write and its events.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};

use super::{Misuse, Writer};
use crate::cost::{Cost, NewCost};
use crate::customer::{Consent, Customer, CustomerData, NewCustomer};
use crate::deal::{Deal, DealEdit, DealStage, NewDeal};
use crate::error::Conflict;
use crate::event::DomainEvent;
use crate::ids::{
    AuditId, CostId, CustomerId, DealId, InteractionId, PointsEntryId, PurchaseId, RefundId,
    RequestId, SurveyId, TaskId,
};
use crate::interaction::{Interaction, InteractionEdit, NewInteraction};
use crate::lifecycle::{LifecycleStage, StageChange, StageReason};
use crate::loyalty::{NewPointsEntry, PointsEntry, PointsTier, PointsTiers};
use crate::money::Money;
use crate::port::IdKind;
use crate::privacy::{AuditAction, AuditEntry};
use crate::purchase::{NewPurchase, NewRefund, Purchase, PurchaseEdit, Refund};
use crate::segment::Segment;
use crate::service::{NewServiceRequest, RequestEventKind, ServiceRequest};
use crate::store::{
    ActivityQuery, Entity, ImportPart, ImportReceipt, ImportSection, OpenQuery, StoreError,
    StoreResult, TaskQuery, batch_error, check_after_sales_link, check_not_erased, check_refund,
    check_stage_change, import_error, resolve_ref,
};
use crate::survey::{NewSurveyResponse, SurveyResponse};
use crate::task::{NewTask, Task};
use crate::text::{ExternalRef, Label, Tag};
use crate::void::Void;

impl Writer<'_> {
    /// Sets the business time zone. Instants stay as they are; from now on every day
    /// (recency, birthdays, due dates, cohorts, report periods) is counted in `zone`.
    ///
    /// # Errors
    ///
    /// Only the backend's.
    pub fn set_time_zone(&mut self, zone: crate::zone::BusinessZone) -> StoreResult<()> {
        self.tx.set_time_zone(zone)
    }

    /// Runs one operation inside a savepoint: if it fails, nothing it wrote stays,
    /// even when the surrounding write goes on and commits other operations. After
    /// [`all_or_nothing`](Self::all_or_nothing), without one: a failure spoils the
    /// transaction instead.
    pub(super) fn atomic<T>(
        &mut self,
        f: impl FnOnce(&mut Self) -> StoreResult<T>,
    ) -> StoreResult<T> {
        if !self.savepoints {
            let out = f(self);
            if out.is_err() {
                self.spoiled = true;
            }
            return out;
        }
        self.tx.savepoint()?;
        match f(self) {
            Ok(v) => {
                self.tx.release_savepoint()?;
                Ok(v)
            }
            Err(e) => {
                // The operation's own error is what the caller needs; a failure to
                // roll back is the backend's, and is reported instead only if the
                // transaction can no longer be trusted.
                self.tx.rollback_to_savepoint()?;
                Err(e)
            }
        }
    }

    /// The next id of `kind`.
    fn next(&mut self, kind: IdKind) -> StoreResult<u64> {
        self.tx.next_id(kind)
    }

    /// The customer, who must exist.
    fn load_customer(&self, id: CustomerId) -> StoreResult<Customer> {
        self.reader().customer(id)
    }

    /// The customer, who must exist and not be erased, for a new record.
    fn live_customer(&self, id: CustomerId) -> StoreResult<Customer> {
        let c = self.load_customer(id)?;
        check_not_erased(&c)?;
        Ok(c)
    }

    /// Checks that the customer exists and is not erased, for a new record that only
    /// names them: the same errors as [`live_customer`](Self::live_customer), without
    /// reading the customer whole.
    pub(super) fn check_live(&self, id: CustomerId) -> StoreResult<()> {
        match self.tx.customer_erased(id)? {
            None => Err(StoreError::not_found(Entity::Customer, id)),
            Some(true) => Err(Conflict::CustomerErased { customer: id }.into()),
            Some(false) => Ok(()),
        }
    }

    /// Refuses an email or reference that another customer has.
    fn check_unique(&self, data: &CustomerData, own: Option<CustomerId>) -> StoreResult<()> {
        if let Some(email) = &data.email
            && let Some(existing) = self.tx.customer_by_email(email)?
            && Some(existing) != own
        {
            return Err(Conflict::DuplicateEmail {
                email: email.to_string(),
                existing,
            }
            .into());
        }
        if let Some(reference) = &data.external_ref
            && let Some(existing) = self.tx.customer_by_external_ref(reference)?
            && Some(existing) != own
        {
            return Err(Conflict::DuplicateExternalRef {
                reference: reference.to_string(),
                existing,
            }
            .into());
        }
        Ok(())
    }

    /// Creates a customer.
    ///
    /// # Errors
    ///
    /// [`StoreError::Validation`] for money in a foreign currency;
    /// [`Conflict::DuplicateEmail`], [`Conflict::DuplicateExternalRef`].
    pub fn create_customer(&mut self, new: NewCustomer) -> StoreResult<Customer> {
        self.atomic(|w| {
            let c = w.insert_new_customer(new)?;
            w.emit(
                Some(c.created_at()),
                DomainEvent::CustomerCreated {
                    customer: c.id(),
                    stage: c.stage(),
                },
            )?;
            Ok(c)
        })
    }

    fn insert_new_customer(&mut self, new: NewCustomer) -> StoreResult<Customer> {
        let data = new.data.clone().for_storage(self.currency())?;
        self.check_unique(&data, None)?;
        let id = CustomerId::new(self.next(IdKind::Customer)?);
        let c = Customer::create(id, NewCustomer { data, ..new });
        self.tx.insert_customer(&c)?;
        Ok(c)
    }

    /// Replaces a customer's data (name, contact details, profile …).
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`]; [`Conflict::CustomerErased`]; the errors of
    /// [`create_customer`](Self::create_customer).
    pub fn update_customer(&mut self, id: CustomerId, data: CustomerData) -> StoreResult<Customer> {
        self.atomic(|w| {
            let c = w.replace_data(id, data)?;
            w.emit(None, DomainEvent::CustomerUpdated { customer: id })?;
            Ok(c)
        })
    }

    fn replace_data(&mut self, id: CustomerId, data: CustomerData) -> StoreResult<Customer> {
        let data = data.for_storage(self.currency())?;
        let mut c = self.live_customer(id)?;
        self.check_unique(&data, Some(id))?;
        c.set_data(data);
        self.tx.update_customer(&c)?;
        Ok(c)
    }

    /// Adds a tag; false if the customer had it already.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`]; [`Conflict::CustomerErased`].
    pub fn tag_customer(&mut self, id: CustomerId, tag: &Tag) -> StoreResult<bool> {
        self.atomic(|w| {
            let mut c = w.live_customer(id)?;
            let changed = c.add_tag(tag.clone());
            if changed {
                w.tx.update_customer(&c)?;
                w.emit(None, DomainEvent::CustomerUpdated { customer: id })?;
            }
            Ok(changed)
        })
    }

    /// Removes a tag; false if the customer did not have it.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`]; [`Conflict::CustomerErased`].
    pub fn untag_customer(&mut self, id: CustomerId, tag: &Tag) -> StoreResult<bool> {
        self.atomic(|w| {
            let mut c = w.live_customer(id)?;
            let changed = c.remove_tag(tag);
            if changed {
                w.tx.update_customer(&c)?;
                w.emit(None, DomainEvent::CustomerUpdated { customer: id })?;
            }
            Ok(changed)
        })
    }

    /// Records a consent decision.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`]; [`Conflict::CustomerErased`].
    pub fn record_consent(&mut self, id: CustomerId, consent: Consent) -> StoreResult<Customer> {
        self.atomic(|w| {
            let mut c = w.live_customer(id)?;
            w.write_consent(id, &consent)?;
            c.record_consent(consent);
            Ok(c)
        })
    }

    /// [`record_consent`](Self::record_consent) without reading the customer: the
    /// same checks, errors and writes (the consent, its event), for a caller that does
    /// not need the customer back — a bulk load. Loading a customer whole reads their
    /// consents, which in a build of new books (whose consent index is deferred to its
    /// end) scans every consent stored so far.
    ///
    /// # Errors
    ///
    /// As [`record_consent`](Self::record_consent).
    pub fn append_consent(&mut self, id: CustomerId, consent: &Consent) -> StoreResult<()> {
        self.atomic(|w| {
            w.check_live(id)?;
            w.write_consent(id, consent)
        })
    }

    /// The writes of a consent decision: the consent alone (the rest of the customer
    /// is unchanged) and its event.
    fn write_consent(&mut self, id: CustomerId, consent: &Consent) -> StoreResult<()> {
        self.tx.append_consent(id, consent)?;
        self.emit(
            Some(consent.at),
            DomainEvent::CustomerUpdated { customer: id },
        )
    }

    /// Moves a customer to another lifecycle stage.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`]; [`StoreError::InvalidTransition`] for a move the
    /// lifecycle does not allow; [`StoreError::Validation`] for a time before the
    /// previous change; [`Conflict::CustomerErased`] for a note about an erased
    /// customer.
    pub fn change_stage(
        &mut self,
        id: CustomerId,
        to: LifecycleStage,
        at: DateTime<Utc>,
        reason: StageReason,
    ) -> StoreResult<StageChange> {
        self.atomic(|w| {
            // The stage and erasure alone: the change writes nothing else of the
            // customer.
            let current =
                w.tx.customer_stage(id)?
                    .ok_or_else(|| StoreError::not_found(Entity::Customer, id))?;
            // A note is text about the customer: an erased one takes none.
            if matches!(reason, StageReason::Manual { note: Some(_) }) && current.erased {
                return Err(Conflict::CustomerErased { customer: id }.into());
            }
            let last = w.tx.last_stage_change_at(id)?;
            let manual = matches!(reason, StageReason::Manual { .. });
            check_stage_change(current.stage, last, to, at)?;
            let change = StageChange {
                customer: id,
                from: current.stage,
                to,
                at,
                reason,
            };
            w.tx.set_customer_stage(id, to)?;
            w.tx.push_stage_change(&change)?;
            w.emit(
                Some(at),
                DomainEvent::StageChanged {
                    customer: id,
                    from: change.from,
                    to: change.to,
                    manual,
                },
            )?;
            Ok(change)
        })
    }

    /// Logs an interaction.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`]; [`Conflict::CustomerErased`].
    pub fn log_interaction(&mut self, new: NewInteraction) -> StoreResult<Interaction> {
        self.atomic(|w| {
            w.check_live(new.customer)?;
            let id = InteractionId::new(w.next(IdKind::Interaction)?);
            let i = Interaction::new(id, new);
            w.tx.insert_interaction(&i)?;
            w.emit(
                Some(i.at()),
                DomainEvent::InteractionLogged {
                    customer: i.customer(),
                    interaction: id,
                    channel: i.channel(),
                },
            )?;
            Ok(i)
        })
    }

    /// Records a purchase.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`] for the customer or the linked deal;
    /// [`Conflict::CustomerErased`]; [`StoreError::Validation`] for money in a foreign
    /// currency; [`Conflict::DuplicatePurchaseRef`]; the after-sales link conflicts.
    pub fn record_purchase(&mut self, new: NewPurchase) -> StoreResult<Purchase> {
        self.atomic(|w| {
            let mut checker = PurchaseChecker::default();
            let new = checker.check(w, new)?;
            let first =
                w.tx.purchase_summary(new.customer, DateTime::<Utc>::MAX_UTC)?
                    .count
                    == 0;
            let p = Purchase::new(PurchaseId::new(w.next(IdKind::Purchase)?), new);
            w.tx.insert_purchase(&p)?;
            w.emit(
                Some(p.at()),
                DomainEvent::PurchaseRecorded {
                    customer: p.customer(),
                    purchase: p.id(),
                    amount: p.amount(),
                    first,
                },
            )?;
            w.follow_behaviour(p.customer(), p.at())?;
            Ok(p)
        })
    }

    /// Records many purchases: all or none.
    ///
    /// # Errors
    ///
    /// [`StoreError::Batch`] naming the first refused row and why (the errors of
    /// [`record_purchase`](Self::record_purchase), or
    /// [`Conflict::DuplicateRefInBatch`]).
    pub fn record_purchases(&mut self, batch: Vec<NewPurchase>) -> StoreResult<Vec<PurchaseId>> {
        self.atomic(|w| {
            let mut checker = PurchaseChecker::default();
            let mut ids = Vec::with_capacity(batch.len());
            let mut next = None;
            w.tx.expect_purchases(batch.len() as u64)?;
            for (index, new) in batch.into_iter().enumerate() {
                let id = checker
                    .check_and_queue(w, &mut next, new, false, index)
                    .map_err(|(i, e)| batch_error(i, e))?;
                ids.push(id);
            }
            checker
                .flush(w, false)
                .map_err(|(i, e)| batch_error(i, e))?;
            w.emit(
                None,
                DomainEvent::Imported {
                    customers: None,
                    updated_customers: 0,
                    purchases: range(&ids),
                    surveys: None,
                },
            )?;
            Ok(ids)
        })
    }

    /// Applies a streamed import: every part, or nothing. See
    /// [`Store::import_parts`](crate::Store::import_parts).
    ///
    /// The transaction cannot be retried (the parts are read once): a backend that
    /// runs the closure again gets [`StoreError::Aborted`].
    ///
    /// # Errors
    ///
    /// [`StoreError::Import`] naming the first refused record;
    /// [`StoreError::Aborted`] if a part is an error.
    pub fn import_parts(
        &mut self,
        parts: &mut dyn Iterator<Item = ImportPart>,
    ) -> StoreResult<ImportReceipt> {
        self.atomic(|w| {
            use ImportSection as S;
            let mut receipt = ImportReceipt::default();
            let mut updated = 0u64;
            let mut attributed = 0usize;
            // Campaigns are never deleted: one found stays found for the import.
            let mut campaigns: HashSet<crate::ids::CampaignId> = HashSet::new();
            let mut checker = PurchaseChecker::default();
            for part in parts {
                let batch = part.map_err(StoreError::Aborted)?;
                for new in batch.create_customers {
                    let i = receipt.created_customers.len();
                    let c = w
                        .insert_new_customer(new)
                        .map_err(|e| import_error(S::CreateCustomers, i, e))?;
                    // Created live in this transaction: its purchases need no look-up.
                    checker.live.insert(c.id());
                    receipt.created_customers.push(c.id());
                }
                for (id, data) in batch.update_customers {
                    let i = usize::try_from(updated).unwrap_or(usize::MAX);
                    w.replace_data(id, data)
                        .map_err(|e| import_error(S::UpdateCustomers, i, e))?;
                    updated += 1;
                }
                for (who, campaign) in batch.attributions {
                    let i = attributed;
                    attributed += 1;
                    let fail = |e| import_error(S::Attributions, i, e);
                    let customer = resolve_ref(who, &receipt.created_customers).map_err(fail)?;
                    w.attribute_imported(customer, campaign, &mut campaigns)
                        .map_err(fail)?;
                }
                if !batch.purchases.is_empty() {
                    let total = receipt.purchases.len() + batch.purchases.len();
                    w.tx.expect_purchases(total as u64)?;
                }
                let mut next = None;
                receipt.purchases.reserve(batch.purchases.len());
                let mut lines = batch.purchase_lines.into_iter().peekable();
                for (k, (who, mut new)) in batch.purchases.into_iter().enumerate() {
                    let i = receipt.purchases.len();
                    let fail = |e| import_error(S::Purchases, i, e);
                    // Lines are checked before the purchase is written, as
                    // `record_purchase_with_lines` does; a batch without lines costs
                    // one comparison per purchase.
                    let pre = resolve_ref(who, &receipt.created_customers).and_then(|c| {
                        new.customer = c;
                        match lines.peek() {
                            Some((at, _)) if *at == k => match lines.next() {
                                Some((_, l)) => w.check_purchase_lines(new.amount, l).map(Some),
                                None => Ok(None),
                            },
                            _ => Ok(None),
                        }
                    });
                    let own = match pre {
                        Ok(own) => own,
                        Err(e) => {
                            // The rows queued before it are stored first: one of them
                            // may be refused first, as row by row.
                            checker
                                .flush(w, true)
                                .map_err(|(i, e)| import_error(S::Purchases, i, e))?;
                            return Err(fail(e));
                        }
                    };
                    let id = checker
                        .check_and_queue(w, &mut next, new, true, i)
                        .map_err(|(i, e)| import_error(S::Purchases, i, e))?;
                    if let Some(l) = own.filter(|l| !l.is_empty()) {
                        // The lines name the purchase: it is stored first.
                        checker
                            .flush(w, true)
                            .map_err(|(i, e)| import_error(S::Purchases, i, e))?;
                        w.tx.insert_purchase_lines(id, &l).map_err(fail)?;
                    }
                    receipt.purchases.push(id);
                }
                checker
                    .flush(w, true)
                    .map_err(|(i, e)| import_error(S::Purchases, i, e))?;
                if let Some((at, _)) = lines.next() {
                    let i = receipt.purchases.len();
                    return Err(import_error(
                        S::Purchases,
                        i,
                        StoreError::Validation(crate::ValidationError::Inconsistent {
                            record: format!("import part, lines of purchase {at}"),
                            detail: "no such purchase in the part, or its lines are out of \
                                     order"
                                .to_owned(),
                        }),
                    ));
                }
                for (who, mut new) in batch.surveys {
                    let i = receipt.surveys.len();
                    let fail = |e| import_error(S::Surveys, i, e);
                    new.customer = resolve_ref(who, &receipt.created_customers).map_err(fail)?;
                    let s = w.insert_survey(new).map_err(fail)?;
                    receipt.surveys.push(s.id());
                }
            }
            w.emit(
                None,
                DomainEvent::Imported {
                    customers: range(&receipt.created_customers),
                    updated_customers: updated,
                    purchases: range(&receipt.purchases),
                    surveys: range(&receipt.surveys),
                },
            )?;
            Ok(receipt)
        })
    }

    /// Sets or removes an imported customer's campaign with the checks
    /// [`attribute`](Self::attribute) makes (a live customer, a campaign that exists),
    /// without reading the earlier attribution; `known` holds the campaigns already
    /// found, so each is looked up once per import.
    fn attribute_imported(
        &mut self,
        customer: CustomerId,
        campaign: Option<crate::ids::CampaignId>,
        known: &mut HashSet<crate::ids::CampaignId>,
    ) -> StoreResult<()> {
        self.check_live(customer)?;
        let subject = crate::campaign::AttributionSubject::Customer(customer);
        match campaign {
            Some(campaign) => {
                if !known.contains(&campaign) {
                    self.reader().campaign(campaign)?;
                    known.insert(campaign);
                }
                self.tx
                    .put_attribution(&crate::campaign::Attribution { subject, campaign })
            }
            None => self.tx.delete_attribution(subject).map(|_| ()),
        }
    }

    /// Records a refund of (part of) a purchase.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`] for the purchase; [`Conflict::CustomerErased`] for a
    /// reason about an erased customer; the errors of [`check_refund`].
    pub fn record_refund(&mut self, new: NewRefund) -> StoreResult<Refund> {
        self.atomic(|w| {
            let purchase = w.reader().purchase(new.purchase)?;
            // A voided purchase counts nowhere: there is nothing to refund.
            refuse_voided(Entity::Purchase, purchase.id().get(), purchase.void())?;
            // A reason is text about the customer: an erased one takes none.
            if new.reason.is_some() {
                w.check_live(purchase.customer())?;
            }
            let currency = w.currency();
            let refunded = w.refunded(purchase.id())?;
            let new = check_refund(new, &purchase, refunded, currency)?;
            let id = RefundId::new(w.next(IdKind::Refund)?);
            let r = Refund::new(id, purchase.customer(), new);
            w.tx.insert_refund(&r)?;
            w.emit(
                Some(r.at()),
                DomainEvent::RefundRecorded {
                    customer: r.customer(),
                    purchase: r.purchase(),
                    refund: id,
                    amount: r.amount(),
                },
            )?;
            Ok(r)
        })
    }

    /// Records a cost (marketing, tools, other spend).
    ///
    /// # Errors
    ///
    /// The errors of [`NewCost::for_storage`] (an amount of zero or less, in another
    /// currency, with too many decimals or beyond the bound).
    pub fn record_cost(&mut self, new: NewCost) -> StoreResult<Cost> {
        self.atomic(|w| {
            let new = new.for_storage(w.currency())?;
            let id = CostId::new(w.next(IdKind::Cost)?);
            let c = Cost::new(id, new, None);
            w.tx.insert_cost(&c)?;
            w.emit(
                Some(c.at()),
                DomainEvent::CostRecorded {
                    cost: id,
                    category: c.category(),
                    amount: c.amount(),
                    channel: c.channel().map(|t| t.as_str().to_owned()),
                },
            )?;
            Ok(c)
        })
    }

    /// Voids a cost: it stays in the books, with when and why, and counts in no
    /// metric.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`]; [`Conflict::CostAlreadyVoid`].
    pub fn void_cost(&mut self, id: CostId, at: DateTime<Utc>, reason: Label) -> StoreResult<Cost> {
        self.atomic(|w| {
            let c =
                w.tx.cost(id)?
                    .ok_or_else(|| StoreError::not_found(Entity::Cost, id))?;
            if c.is_void() {
                return Err(Conflict::CostAlreadyVoid { cost: id }.into());
            }
            let c = c.void(at, reason.clone());
            w.tx.update_cost(&c)?;
            w.emit(Some(at), DomainEvent::CostVoided { cost: id })?;
            Ok(c)
        })
    }

    /// What was refunded of a purchase so far.
    fn refunded(&self, purchase: PurchaseId) -> StoreResult<Money> {
        self.tx
            .refunds_of(purchase)?
            .iter()
            .try_fold(Money::zero(self.currency()), |acc, r| {
                acc.checked_add(r.amount())
            })
            .map_err(StoreError::backend)
    }

    /// Changes a recorded purchase: its amount, cost, description, reference or time.
    /// The customer and the deal link stay. Refunds stay consistent: the amount may
    /// not go below what was refunded, nor the time after the first refund.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`]; [`Conflict::Voided`]; [`Conflict::CustomerErased`]
    /// for a description of an erased customer; [`StoreError::Validation`] for money
    /// in a foreign currency, a negative amount or a time after a refund;
    /// [`Conflict::AmountBelowRefunded`]; [`Conflict::DuplicatePurchaseRef`];
    /// [`Conflict::PurchaseRedeemed`] for a new time or amount on a purchase that used
    /// a coupon.
    pub fn edit_purchase(&mut self, id: PurchaseId, edit: &PurchaseEdit) -> StoreResult<Purchase> {
        self.atomic(|w| {
            let p = w.reader().purchase(id)?;
            refuse_voided(Entity::Purchase, id.get(), p.void())?;
            if edit.writes_text() {
                w.check_live(p.customer())?;
            }
            let fields = edit.apply(p.fields().clone()).for_storage(w.currency())?;
            // A purchase with lines keeps the amount they add up to.
            crate::product::check_lines(fields.amount, &w.tx.purchase_lines(id)?)?;
            // A purchase that used a coupon keeps the time and amount it was redeemed at.
            if (fields.at != p.at() || fields.amount != p.amount())
                && let Some(r) =
                    w.tx.redemptions(None)?
                        .into_iter()
                        .find(|r| r.purchase == id)
            {
                return Err(Conflict::PurchaseRedeemed {
                    purchase: id,
                    code: r.code.to_string(),
                }
                .into());
            }
            let refunds = w.tx.refunds_of(id)?;
            let refunded = w.refunded(id)?;
            if fields
                .amount
                .checked_sub(refunded)
                .is_ok_and(|left| left.is_negative())
            {
                return Err(Conflict::AmountBelowRefunded {
                    purchase: id,
                    refunded,
                    requested: fields.amount,
                }
                .into());
            }
            if let Some(first) = refunds.iter().map(Refund::at).min()
                && fields.at > first
            {
                return Err(crate::ValidationError::TimeOrder {
                    field: "its first refund",
                    at: first,
                    earlier_field: "the purchase",
                    earlier: fields.at,
                }
                .into());
            }
            if let Some(reference) = &fields.external_ref
                && let Some(existing) = w.tx.purchase_by_external_ref(reference)?
                && existing != id
            {
                return Err(Conflict::DuplicatePurchaseRef {
                    reference: reference.to_string(),
                    existing,
                }
                .into());
            }
            let p = Purchase::new(id, fields).with_void(None);
            w.tx.update_purchase(&p)?;
            w.emit(
                None,
                DomainEvent::PurchaseEdited {
                    customer: p.customer(),
                    purchase: id,
                    amount: p.amount(),
                },
            )?;
            Ok(p)
        })
    }

    /// Voids a purchase entered by mistake: it stays in the books with `void` (who,
    /// when, why) and counts nowhere from now on (see [`crate::void`]). A purchase
    /// with refunds cannot be voided (the money that went back was real), and a
    /// voided purchase cannot be refunded. Stage changes the purchase caused stay in
    /// the stage history, which never goes back.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`]; [`Conflict::Voided`] if it is void already;
    /// [`Conflict::VoidRefunded`]; [`Conflict::CustomerErased`] for a reason about an
    /// erased customer.
    pub fn void_purchase(&mut self, id: PurchaseId, void: Void) -> StoreResult<Purchase> {
        self.atomic(|w| {
            let p = w.reader().purchase(id)?;
            refuse_voided(Entity::Purchase, id.get(), p.void())?;
            let refunded = w.refunded(id)?;
            if !refunded.is_zero() {
                return Err(Conflict::VoidRefunded {
                    purchase: id,
                    refunded,
                }
                .into());
            }
            if void.reason.is_some() {
                w.check_live(p.customer())?;
            }
            let at = void.at;
            let p = p.with_void(Some(void.clone()));
            w.tx.update_purchase(&p)?;
            w.emit(
                Some(at),
                DomainEvent::PurchaseVoided {
                    customer: p.customer(),
                    purchase: id,
                    amount: p.amount(),
                },
            )?;
            Ok(p)
        })
    }

    /// Changes a logged interaction: its summary, channel, direction, sentiment or
    /// time.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`]; [`Conflict::Voided`]; [`Conflict::CustomerErased`]
    /// for a summary of an erased customer.
    pub fn edit_interaction(
        &mut self,
        id: InteractionId,
        edit: &InteractionEdit,
    ) -> StoreResult<Interaction> {
        self.atomic(|w| {
            let i = w.reader().interaction(id)?;
            refuse_voided(Entity::Interaction, id.get(), i.void())?;
            if edit.summary.is_some() {
                w.check_live(i.customer())?;
            }
            let i = Interaction::new(id, edit.apply(i.fields().clone()));
            w.tx.update_interaction(&i)?;
            w.emit(
                None,
                DomainEvent::InteractionEdited {
                    customer: i.customer(),
                    interaction: id,
                },
            )?;
            Ok(i)
        })
    }

    /// Voids an interaction logged by mistake: it stays in the books with `void` and
    /// counts nowhere from now on (see [`crate::void`]).
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`]; [`Conflict::Voided`] if it is void already;
    /// [`Conflict::CustomerErased`] for a reason about an erased customer.
    pub fn void_interaction(&mut self, id: InteractionId, void: Void) -> StoreResult<Interaction> {
        self.atomic(|w| {
            let i = w.reader().interaction(id)?;
            refuse_voided(Entity::Interaction, id.get(), i.void())?;
            if void.reason.is_some() {
                w.check_live(i.customer())?;
            }
            let at = void.at;
            let i = i.with_void(Some(void.clone()));
            w.tx.update_interaction(&i)?;
            w.emit(
                Some(at),
                DomainEvent::InteractionVoided {
                    customer: i.customer(),
                    interaction: id,
                },
            )?;
            Ok(i)
        })
    }

    /// Voids a survey answer recorded by mistake: it stays in the books with `void`
    /// and counts in no NPS, CSAT or CES and drives no lifecycle rule from now on.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`]; [`Conflict::Voided`] if it is void already;
    /// [`Conflict::CustomerErased`] for a reason about an erased customer.
    pub fn void_survey(&mut self, id: SurveyId, void: Void) -> StoreResult<SurveyResponse> {
        self.atomic(|w| {
            let s = w.reader().survey(id)?;
            refuse_voided(Entity::Survey, id.get(), s.void())?;
            if void.reason.is_some() {
                w.check_live(s.customer())?;
            }
            let at = void.at;
            let s = s.with_void(Some(void.clone()));
            w.tx.update_survey(&s)?;
            w.emit(
                Some(at),
                DomainEvent::SurveyVoided {
                    customer: s.customer(),
                    survey: id,
                    kind: s.score().kind(),
                },
            )?;
            Ok(s)
        })
    }

    /// Records a survey answer.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`]; [`Conflict::CustomerErased`].
    pub fn record_survey(&mut self, new: NewSurveyResponse) -> StoreResult<SurveyResponse> {
        self.atomic(|w| {
            let s = w.insert_survey(new)?;
            w.emit(
                Some(s.at()),
                DomainEvent::SurveyAnswered {
                    customer: s.customer(),
                    survey: s.id(),
                    kind: s.score().kind(),
                    score: s.score().value(),
                },
            )?;
            w.follow_behaviour(s.customer(), s.at())?;
            Ok(s)
        })
    }

    fn insert_survey(&mut self, new: NewSurveyResponse) -> StoreResult<SurveyResponse> {
        self.check_live(new.customer)?;
        let id = SurveyId::new(self.next(IdKind::Survey)?);
        let s = SurveyResponse::new(id, new);
        self.tx.insert_survey(&s)?;
        Ok(s)
    }

    /// Opens a service request.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`] for the customer or the linked deal;
    /// [`Conflict::CustomerErased`]; the after-sales link conflicts.
    pub fn open_request(&mut self, new: NewServiceRequest) -> StoreResult<ServiceRequest> {
        self.atomic(|w| {
            w.check_live(new.customer)?;
            if let Some(deal) = new.deal {
                check_after_sales_link(&w.reader().deal(deal)?, new.customer)?;
            }
            let id = RequestId::new(w.next(IdKind::Request)?);
            let r = ServiceRequest::open(id, new);
            w.tx.insert_request(&r)?;
            w.emit(
                Some(r.opened_at()),
                DomainEvent::RequestOpened {
                    customer: r.customer(),
                    request: id,
                    kind: r.kind(),
                },
            )?;
            Ok(r)
        })
    }

    /// Takes a step on a service request.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`]; [`StoreError::InvalidTransition`] or
    /// [`StoreError::Validation`] for a step the request does not allow.
    pub fn update_request(
        &mut self,
        id: RequestId,
        step: RequestEventKind,
        at: DateTime<Utc>,
    ) -> StoreResult<ServiceRequest> {
        self.atomic(|w| {
            let mut r = w.reader().request(id)?;
            r.apply(step, at)?;
            w.tx.update_request(&r)?;
            w.emit(
                Some(at),
                DomainEvent::RequestUpdated {
                    customer: r.customer(),
                    request: id,
                    status: r.status(),
                },
            )?;
            Ok(r)
        })
    }

    /// Creates a deal.
    ///
    /// # Errors
    ///
    /// [`StoreError::Validation`] for a value in a foreign currency;
    /// [`StoreError::NotFound`]; [`Conflict::CustomerErased`].
    pub fn create_deal(&mut self, new: NewDeal) -> StoreResult<Deal> {
        self.atomic(|w| {
            let new = new.for_storage(w.currency())?;
            w.check_live(new.customer)?;
            let id = DealId::new(w.next(IdKind::Deal)?);
            let d = Deal::create(id, new);
            w.tx.insert_deal(&d)?;
            w.emit(
                Some(d.created_at()),
                DomainEvent::DealCreated {
                    customer: d.customer(),
                    deal: id,
                    stage: d.stage(),
                },
            )?;
            Ok(d)
        })
    }

    /// Moves a deal along the pipeline.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`]; [`StoreError::InvalidTransition`] or
    /// [`StoreError::Validation`] for a move the pipeline does not allow.
    pub fn move_deal(&mut self, id: DealId, to: DealStage, at: DateTime<Utc>) -> StoreResult<Deal> {
        self.atomic(|w| {
            let mut d = w.reader().deal(id)?;
            let from = d.stage();
            d.move_to(to, at)?;
            w.tx.update_deal(&d)?;
            w.emit(
                Some(at),
                DomainEvent::DealMoved {
                    customer: d.customer(),
                    deal: id,
                    from,
                    to: d.stage(),
                },
            )?;
            Ok(d)
        })
    }

    /// Changes a deal: its title, value or expected close date (`None`: unchanged),
    /// adds a dated note, and records why a lost deal was lost.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`]; [`Conflict::CustomerErased`]; [`StoreError::Validation`]
    /// for a bad value; [`Conflict::DealNotLost`] for a lost reason on a deal that is
    /// not lost.
    pub fn edit_deal(&mut self, id: DealId, edit: &DealEdit) -> StoreResult<Deal> {
        self.atomic(|w| {
            let mut d = w.reader().deal(id)?;
            w.check_live(d.customer())?;
            if let Some(t) = &edit.title {
                d.set_title(t.clone());
            }
            if let Some(v) = edit.value {
                d.set_value(v, w.currency())?;
            }
            if let Some(c) = edit.expected_close {
                d.set_expected_close(c);
            }
            if let Some(r) = &edit.lost_reason {
                d.set_lost_reason(r.clone())?;
            }
            if let Some((at, text)) = &edit.note {
                d.add_note(*at, text.clone());
            }
            w.tx.update_deal(&d)?;
            w.emit(
                edit.note.as_ref().map(|(at, _)| *at),
                DomainEvent::DealEdited {
                    customer: d.customer(),
                    deal: id,
                },
            )?;
            Ok(d)
        })
    }

    /// Changes a task's title, kind or due date (see [`Task::edit`]).
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`]; [`Conflict::TaskCancelled`] or
    /// [`Conflict::TaskAlreadyDone`] for a closed task; [`Conflict::CustomerErased`]
    /// for a new title on the task of an erased customer.
    pub fn edit_task(
        &mut self,
        id: TaskId,
        title: Option<Label>,
        kind: Option<crate::task::TaskKind>,
        due: Option<chrono::NaiveDate>,
    ) -> StoreResult<Task> {
        self.atomic(|w| {
            let mut t = w.reader().task(id)?;
            // A new title is text: not on the task of an erased customer.
            if let (Some(_), Some(c)) = (&title, t.customer()) {
                w.check_live(c)?;
            }
            t.edit(title.clone(), kind, due)?;
            w.tx.update_task(&t)?;
            w.emit(
                None,
                DomainEvent::TaskEdited {
                    task: id,
                    customer: t.customer(),
                },
            )?;
            Ok(t)
        })
    }

    /// Cancels a task (see [`Task::cancel`]): it is kept, closed, with the time.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`]; [`Conflict::TaskCancelled`] or
    /// [`Conflict::TaskAlreadyDone`] for a closed task.
    pub fn cancel_task(&mut self, id: TaskId, at: DateTime<Utc>) -> StoreResult<Task> {
        self.atomic(|w| {
            let mut t = w.reader().task(id)?;
            t.cancel(at)?;
            w.tx.update_task(&t)?;
            w.emit(
                Some(at),
                DomainEvent::TaskCancelled {
                    task: id,
                    customer: t.customer(),
                },
            )?;
            Ok(t)
        })
    }

    /// Sets a tier of the points program: adds it, or moves the threshold of the tier
    /// with its name.
    ///
    /// # Errors
    ///
    /// [`StoreError::Validation`] for a negative threshold or one another tier has.
    pub fn set_points_tier(&mut self, tier: PointsTier) -> StoreResult<PointsTiers> {
        self.atomic(|w| {
            let mut tiers = w.tx.points_tiers()?;
            tiers.retain(|t| t.name != tier.name);
            tiers.push(tier.clone());
            let checked = PointsTiers::new(tiers)?;
            w.tx.put_points_tier(&tier)?;
            Ok(checked)
        })
    }

    /// Adds one of the founder's own holidays, or replaces the one with its key.
    ///
    /// # Errors
    ///
    /// [`StoreError::Validation`] unless the rule is a fixed or lunar date
    /// ([`HolidayRule::is_storable`](crate::holiday::HolidayRule::is_storable)).
    pub fn put_holiday(
        &mut self,
        holiday: crate::holiday::HolidayDef,
    ) -> StoreResult<crate::holiday::HolidayCalendar> {
        if !holiday.rule.is_storable() {
            return Err(StoreError::Validation(crate::ValidationError::Config(
                "an own holiday is a fixed date (MM-DD) or a lunar date (M-D)".to_owned(),
            )));
        }
        self.atomic(|w| {
            w.tx.put_holiday(&holiday)?;
            w.tx.holiday_calendar()
        })
    }

    /// Removes one of the founder's own holidays.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`] if there is none by that key.
    pub fn remove_holiday(&mut self, key: &Tag) -> StoreResult<crate::holiday::HolidayCalendar> {
        self.atomic(|w| {
            if !w.tx.delete_holiday(key)? {
                return Err(StoreError::NotFound {
                    entity: Entity::Holiday,
                    key: key.to_string(),
                });
            }
            w.tx.holiday_calendar()
        })
    }

    /// Chooses the preset calendars, in this order; repeats are dropped (the first
    /// kept).
    ///
    /// # Errors
    ///
    /// Only the backend's.
    pub fn set_holiday_presets(
        &mut self,
        presets: &[crate::holiday::Preset],
    ) -> StoreResult<crate::holiday::HolidayCalendar> {
        let mut unique: Vec<crate::holiday::Preset> = Vec::new();
        for p in presets {
            if !unique.contains(p) {
                unique.push(*p);
            }
        }
        self.atomic(|w| {
            w.tx.set_holiday_presets(&unique)?;
            w.tx.holiday_calendar()
        })
    }

    /// Sets a sales target, replacing the one for its metric and period.
    ///
    /// # Errors
    ///
    /// [`StoreError::Validation`] for a revenue target with more decimals than the
    /// base currency has.
    pub fn set_target(
        &mut self,
        target: crate::target::Target,
    ) -> StoreResult<crate::target::Target> {
        if target.metric() == crate::target::TargetMetric::Revenue {
            let currency = self.currency();
            crate::Money::new(target.value(), currency).for_storage("revenue target", currency)?;
        }
        self.atomic(|w| {
            w.tx.put_target(&target)?;
            Ok(target.clone())
        })
    }

    /// Removes the target for this metric and period, returning it.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`] if there is none.
    pub fn remove_target(
        &mut self,
        metric: crate::target::TargetMetric,
        period: crate::target::TargetPeriod,
    ) -> StoreResult<crate::target::Target> {
        self.atomic(|w| {
            let old =
                w.tx.targets()?
                    .into_iter()
                    .find(|t| t.metric() == metric && t.period() == period);
            match old {
                Some(t) if w.tx.delete_target(metric, period)? => Ok(t),
                _ => Err(StoreError::NotFound {
                    entity: Entity::Target,
                    key: format!("{metric} {period}"),
                }),
            }
        })
    }

    /// Removes a tier of the points program.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`] if there is no tier by that name.
    pub fn remove_points_tier(&mut self, name: &Tag) -> StoreResult<PointsTiers> {
        self.atomic(|w| {
            if !w.tx.delete_points_tier(name)? {
                return Err(StoreError::NotFound {
                    entity: Entity::PointsTier,
                    key: name.to_string(),
                });
            }
            Ok(PointsTiers::new(w.tx.points_tiers()?)?)
        })
    }

    /// Creates a task.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`] or [`Conflict::CustomerErased`] for its customer.
    pub fn create_task(&mut self, new: NewTask) -> StoreResult<Task> {
        self.atomic(|w| {
            if let Some(c) = new.customer {
                w.check_live(c)?;
            }
            let id = TaskId::new(w.next(IdKind::Task)?);
            let t = Task::create(id, new);
            w.tx.insert_task(&t)?;
            w.emit(
                Some(t.created_at()),
                DomainEvent::TaskCreated {
                    task: id,
                    customer: t.customer(),
                },
            )?;
            Ok(t)
        })
    }

    /// Completes a task (a recurring one: its current occurrence).
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`]; [`Conflict`] if it is done already.
    pub fn complete_task(&mut self, id: TaskId, at: DateTime<Utc>) -> StoreResult<Task> {
        self.atomic(|w| {
            let mut t = w.reader().task(id)?;
            t.complete(at)?;
            w.tx.update_task(&t)?;
            w.emit(
                Some(at),
                DomainEvent::TaskCompleted {
                    task: id,
                    customer: t.customer(),
                },
            )?;
            Ok(t)
        })
    }

    /// Posts points to a customer's ledger.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`]; [`Conflict::CustomerErased`]; [`Conflict`] for a
    /// balance that would go negative or overflow.
    pub fn post_points(&mut self, entry: NewPointsEntry) -> StoreResult<PointsEntry> {
        self.atomic(|w| {
            w.check_live(entry.customer)?;
            let balance = w.tx.points_balance(entry.customer)?;
            let after = entry.apply_to(balance)?;
            let id = PointsEntryId::new(w.next(IdKind::Points)?);
            let e = PointsEntry::new(id, entry, after);
            w.tx.insert_points(&e)?;
            w.emit(
                Some(e.at()),
                DomainEvent::PointsPosted {
                    customer: e.customer(),
                    entry: id,
                    delta: e.delta(),
                    balance: after,
                },
            )?;
            Ok(e)
        })
    }

    /// Posts the lapses of a customer's points due by the end of the business day
    /// `through` ([`due_lapses`](crate::loyalty::due_lapses) under the books'
    /// validity): one expiry entry per lapse day, dated at the start of that day in
    /// the business time zone, oldest first. Nothing without a validity, or with
    /// nothing due — so a second call for the same day posts nothing.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`]; [`Conflict::CustomerErased`].
    pub fn post_due_lapses(
        &mut self,
        customer: CustomerId,
        through: chrono::NaiveDate,
    ) -> StoreResult<Vec<PointsEntry>> {
        let Some(expiry) = self.tx.points_expiry()? else {
            return Ok(Vec::new());
        };
        self.check_live(customer)?;
        let zone = self.tx.time_zone()?;
        let ledger = self.tx.points_ledger(customer)?;
        let lots = crate::loyalty::open_lots(&ledger, zone, Some(&expiry));
        let reason = crate::text::Label::parse(&format!(
            "lapsed: points are valid {} months",
            expiry.months()
        ))?;
        let mut posted = Vec::new();
        for lapse in crate::loyalty::due_lapses(&lots, through) {
            let entry = NewPointsEntry::new(
                customer,
                zone.start_of(lapse.day),
                crate::loyalty::PointsKind::Expire,
                lapse.points,
            )?
            .with_reason(reason.clone());
            posted.push(self.post_points(entry)?);
        }
        Ok(posted)
    }

    /// Sets the books' points validity (`None`: points never expire).
    ///
    /// # Errors
    ///
    /// Only the backend's.
    pub fn set_points_expiry(
        &mut self,
        expiry: Option<crate::loyalty::PointsExpiry>,
    ) -> StoreResult<()> {
        self.tx.set_points_expiry(expiry.as_ref())
    }

    /// Saves a segment under its name.
    ///
    /// # Errors
    ///
    /// [`StoreError::Validation`] for a predicate nested too deep;
    /// [`Conflict::DuplicateSegment`].
    pub fn create_segment(&mut self, segment: Segment) -> StoreResult<()> {
        self.atomic(|w| {
            segment.validate()?;
            if w.tx.segment(&segment.name)?.is_some() {
                return Err(Conflict::DuplicateSegment {
                    name: segment.name.to_string(),
                }
                .into());
            }
            w.tx.insert_segment(&segment)?;
            w.emit(
                None,
                DomainEvent::SegmentCreated {
                    name: segment.name.to_string(),
                },
            )
        })
    }

    /// Deletes a segment.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`].
    pub fn delete_segment(&mut self, name: &Label) -> StoreResult<()> {
        self.atomic(|w| {
            if !w.tx.delete_segment(name)? {
                return Err(StoreError::not_found(Entity::Segment, name));
            }
            w.emit(
                None,
                DomainEvent::SegmentDeleted {
                    name: name.to_string(),
                },
            )
        })
    }

    /// Erases a customer's personal data: their name becomes a placeholder, contact
    /// details, profile, tags and consents go, and the text of every record about
    /// them is removed. Amounts, dates and stages stay, so the metrics stay right.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`]; [`Conflict::AlreadyErased`].
    pub fn erase_customer(&mut self, id: CustomerId, at: DateTime<Utc>) -> StoreResult<AuditEntry> {
        self.atomic(|w| {
            let mut c = w.load_customer(id)?;
            if c.is_erased() {
                return Err(Conflict::AlreadyErased { customer: id }.into());
            }
            c.erase(at);
            w.tx.update_customer(&c)?;
            w.scrub_records(id)?;
            // Which campaign won them is about them: it goes too.
            w.tx.delete_attribution(crate::campaign::AttributionSubject::Customer(id))?;
            // What the automation did about them goes too (the tasks stay, scrubbed).
            w.tx.delete_firings_of(id)?;
            let entry = AuditEntry {
                id: AuditId::new(w.next(IdKind::Audit)?),
                at,
                action: AuditAction::CustomerErased { customer: id },
            };
            w.tx.insert_audit(&entry)?;
            w.emit(Some(at), DomainEvent::CustomerErased { customer: id })?;
            w.tx.purge_after_commit()?;
            Ok(entry)
        })
    }

    /// Removes the text of every record about the customer.
    fn scrub_records(&mut self, id: CustomerId) -> StoreResult<()> {
        // Voided records too: their text (and the void's reason) is about the customer.
        let of = ActivityQuery::customer(id).with_voided();
        for mut i in self.tx.interactions(&of)? {
            i.erase_text();
            self.tx.update_interaction(&i)?;
        }
        for mut p in self.tx.purchases(&of)? {
            p.erase_text();
            self.tx.update_purchase(&p)?;
        }
        for mut r in self.tx.refunds(&of)? {
            r.erase_text();
            self.tx.update_refund(&r)?;
        }
        for mut s in self.tx.surveys(&of)? {
            s.erase_text();
            self.tx.update_survey(&s)?;
        }
        for mut p in self.tx.participations(Some(id))? {
            if p.note.is_some() {
                p.erase_text();
                self.tx.update_participation(&p)?;
            }
        }
        for mut n in self.tx.needs(Some(id))? {
            if n.note.is_some() {
                n.erase_text();
                self.tx.update_need(&n)?;
            }
        }
        for mut s in self.tx.survey_sheets(Some(id))? {
            if s.has_text() {
                s.erase_text();
                self.tx.update_survey_sheet(&s)?;
            }
        }
        let by_customer = OpenQuery {
            customer: Some(id),
            open_only: false,
        };
        for mut r in self.tx.requests(&by_customer)? {
            r.erase_text();
            self.tx.update_request(&r)?;
        }
        for mut d in self.tx.deals(&by_customer)? {
            d.erase_text();
            self.tx.update_deal(&d)?;
        }
        let tasks = TaskQuery {
            customer: Some(id),
            due_until: None,
            include_done: true,
        };
        for mut t in self.tx.tasks(&tasks)? {
            t.erase_text();
            self.tx.update_task(&t)?;
        }
        for mut e in self.tx.points_ledger(id)? {
            e.erase_text();
            self.tx.update_points(&e)?;
        }
        let mut history = self.tx.stage_history(id)?;
        if history
            .iter()
            .any(|c| matches!(c.reason, StageReason::Manual { note: Some(_) }))
        {
            for change in &mut history {
                if let StageReason::Manual { note } = &mut change.reason {
                    *note = None;
                }
            }
            self.tx.rewrite_stage_history(id, &history)?;
        }
        Ok(())
    }
}

/// Checks purchases against the store, remembering what it has checked within one
/// batch (live customers and after-sales deals), so a million rows do not read a
/// customer each.
///
/// A repeated reference within the batch needs no set of its own: the rows of the
/// batch are inserted as they are checked (in one transaction), so a reference whose
/// stored purchase has an id from `first` on is a repeat within the batch.
#[derive(Default)]
struct PurchaseChecker {
    live: LiveCustomers,
    /// How many customers were looked up one by one, and the book's number of
    /// customers once asked (see [`check_customer`](Self::check_customer)).
    looked_up: u64,
    book: Option<u64>,
    /// Checked purchases not yet handed to the store, with their row numbers (see
    /// [`check_and_queue`](Self::check_and_queue)).
    queued: Vec<Purchase>,
    queued_rows: Vec<usize>,
    deals: HashMap<DealId, Deal>,
    /// The id of the batch's first purchase, once known.
    first: Option<PurchaseId>,
}

impl PurchaseChecker {
    /// Checks one purchase against the store and returns it in stored form, in the
    /// contract's order: the customer, the money, a stored reference, the deal link.
    fn check(&mut self, w: &Writer<'_>, new: NewPurchase) -> StoreResult<NewPurchase> {
        self.check_customer(w, new.customer)?;
        let new = new.for_storage(w.currency())?;
        let owner = match &new.external_ref {
            Some(r) => w.tx.purchase_by_external_ref(r)?,
            None => None,
        };
        let deal = match new.deal {
            Some(id) => self.check_deal(w, id, new.customer),
            None => Ok(()),
        };
        self.ref_error(new.external_ref.as_ref(), owner, false, deal)?;
        Ok(new)
    }

    /// Checks one row of a bulk load (an import, a batch) and inserts it, reporting
    /// the same error, in the same order of checks, as [`check`](Self::check) then
    /// [`insert`](Self::insert) would, but learning of a taken reference from the
    /// insert itself (see [`WriteTx::insert_purchase_unless_ref_taken`]) instead of a
    /// look-up per row. A row that fails may have been inserted; the operation then
    /// fails, and its savepoint takes the row back.
    ///
    /// [`WriteTx::insert_purchase_unless_ref_taken`]: crate::port::WriteTx::insert_purchase_unless_ref_taken
    fn check_and_insert(
        &mut self,
        w: &mut Writer<'_>,
        next: &mut Option<u64>,
        mut new: NewPurchase,
        repeat_first: bool,
    ) -> StoreResult<PurchaseId> {
        // The reference is set aside while the money is checked, so a row that fails
        // before its insert can still be looked up for a repeat (no copy per row).
        let reference = new.external_ref.take();
        if let Err(e) = self.check_customer(w, new.customer) {
            return Err(self.repeat_or(w, reference.as_ref(), repeat_first, e)?);
        }
        let mut new = match new.for_storage(w.currency()) {
            Ok(new) => new,
            Err(e) => return Err(self.repeat_or(w, reference.as_ref(), repeat_first, e.into())?),
        };
        new.external_ref = reference;
        let deal = match new.deal {
            Some(id) => self.check_deal(w, id, new.customer),
            None => Ok(()),
        };
        if deal.is_err() {
            // Not inserted: a row naming a missing deal would break the foreign key of
            // an ordinary write. The reference is looked up instead (rare).
            let owner = match &new.external_ref {
                Some(r) => w.tx.purchase_by_external_ref(r)?,
                None => None,
            };
            self.ref_error(new.external_ref.as_ref(), owner, repeat_first, deal)?;
        }
        let id = match *next {
            Some(id) => id,
            None => w.next(IdKind::Purchase)?,
        };
        let p = Purchase::new(PurchaseId::new(id), new);
        let taken = w.tx.insert_purchase_unless_ref_taken(&p)?;
        if taken.is_none() {
            self.first.get_or_insert(p.id());
            *next = Some(id + 1);
        }
        self.ref_error(p.external_ref(), taken, repeat_first, Ok(()))?;
        Ok(p.id())
    }

    /// Rows handed to the store at once by [`check_and_queue`](Self::check_and_queue).
    const QUEUE: usize = 64;

    /// [`check_and_insert`](Self::check_and_insert) for row `row` of a bulk load,
    /// queueing the checked purchase and handing the queue to the store
    /// ([`WriteTx::insert_purchases_unless_ref_taken`]) every [`QUEUE`](Self::QUEUE)
    /// rows, so that a backend can store them in one statement. The errors and their
    /// rows are those of `check_and_insert` row by row: a row refused by a check
    /// first hands over the rows queued before it (one of which may be refused
    /// first), and a row linked to a deal goes through `check_and_insert` itself. The
    /// caller calls [`flush`](Self::flush) after its last row and before anything
    /// that reads the purchases it queued. Errors come with their row.
    ///
    /// [`WriteTx::insert_purchases_unless_ref_taken`]: crate::port::WriteTx::insert_purchases_unless_ref_taken
    fn check_and_queue(
        &mut self,
        w: &mut Writer<'_>,
        next: &mut Option<u64>,
        mut new: NewPurchase,
        repeat_first: bool,
        row: usize,
    ) -> Result<PurchaseId, (usize, StoreError)> {
        if new.deal.is_some() {
            self.flush(w, repeat_first)?;
            return self
                .check_and_insert(w, next, new, repeat_first)
                .map_err(|e| (row, e));
        }
        let reference = new.external_ref.take();
        let checked = match self.check_customer(w, new.customer) {
            Ok(()) => new.for_storage(w.currency()).map_err(StoreError::from),
            Err(e) => Err(e),
        };
        let mut new = match checked {
            Ok(new) => new,
            Err(e) => {
                // As `check_and_insert`, once the rows before it are stored.
                self.flush(w, repeat_first)?;
                let e = self
                    .repeat_or(w, reference.as_ref(), repeat_first, e)
                    .unwrap_or_else(|e| e);
                return Err((row, e));
            }
        };
        new.external_ref = reference;
        let id = match *next {
            Some(id) => id,
            None => w.next(IdKind::Purchase).map_err(|e| (row, e))?,
        };
        let p = Purchase::new(PurchaseId::new(id), new);
        *next = Some(id + 1);
        self.queued.push(p);
        self.queued_rows.push(row);
        if self.queued.len() >= Self::QUEUE {
            self.flush(w, repeat_first)?;
        }
        Ok(PurchaseId::new(id))
    }

    /// Hands the queued purchases to the store; the error of the first one it
    /// refuses, with its row. A store error without a row (the backend's own) comes
    /// with the first queued row.
    fn flush(&mut self, w: &mut Writer<'_>, repeat_first: bool) -> Result<(), (usize, StoreError)> {
        let Some(&first_row) = self.queued_rows.first() else {
            return Ok(());
        };
        let queued = std::mem::take(&mut self.queued);
        let rows = std::mem::take(&mut self.queued_rows);
        let taken =
            w.tx.insert_purchases_unless_ref_taken(&queued)
                .map_err(|e| (first_row, e))?;
        let stored = taken.map_or(queued.len(), |(k, _)| k);
        if let Some(p) = queued.get(..stored).and_then(<[Purchase]>::first) {
            self.first.get_or_insert(p.id());
        }
        let Some((k, owner)) = taken else {
            return Ok(());
        };
        let (Some(p), Some(&row)) = (queued.get(k), rows.get(k)) else {
            return Err((
                first_row,
                StoreError::backend(Misuse("the store named a purchase it was not given")),
            ));
        };
        let e = match self.ref_error(p.external_ref(), Some(owner), repeat_first, Ok(())) {
            Err(e) => e,
            Ok(()) => StoreError::backend(Misuse("a taken reference gave no error")),
        };
        Err((row, e))
    }

    /// The error of a row whose reference `owner` already has (if any), in the
    /// contract's order around `later`, the outcome of the checks that come after the
    /// stored-reference check (the deal link): a repeat within the batch first if
    /// `repeat_first`, a stored duplicate, then `later`, then a repeat within the batch.
    fn ref_error(
        &self,
        reference: Option<&ExternalRef>,
        owner: Option<PurchaseId>,
        repeat_first: bool,
        later: StoreResult<()>,
    ) -> StoreResult<()> {
        let repeat = owner.is_some_and(|o| self.first.is_some_and(|first| o >= first));
        let name = || reference.map(ToString::to_string).unwrap_or_default();
        let in_batch =
            || -> StoreError { Conflict::DuplicateRefInBatch { reference: name() }.into() };
        if repeat && repeat_first {
            return Err(in_batch());
        }
        if let Some(existing) = owner
            && !repeat
        {
            return Err(Conflict::DuplicatePurchaseRef {
                reference: name(),
                existing,
            }
            .into());
        }
        later?;
        if repeat {
            return Err(in_batch());
        }
        Ok(())
    }

    /// The error of a row refused before its insert: a repeat within the batch when
    /// that is named first and the row's reference is one, else `error`.
    fn repeat_or(
        &self,
        w: &Writer<'_>,
        reference: Option<&ExternalRef>,
        repeat_first: bool,
        error: StoreError,
    ) -> StoreResult<StoreError> {
        if repeat_first
            && let Some(r) = reference
            && let Some(owner) = w.tx.purchase_by_external_ref(r)?
            && self.first.is_some_and(|first| owner >= first)
        {
            return Ok(Conflict::DuplicateRefInBatch {
                reference: r.to_string(),
            }
            .into());
        }
        Ok(error)
    }

    /// Look-ups one by one before the checker asks how big the book is.
    const LOOK_UPS_BEFORE_ALL: u64 = 4096;

    /// The customer exists and is not erased (remembered for the batch).
    ///
    /// A large batch names most of the book: once the customers looked up one by
    /// one reach [`LOOK_UPS_BEFORE_ALL`](Self::LOOK_UPS_BEFORE_ALL) and a sixteenth
    /// of the book, every live customer is read at once instead (one scan of two
    /// columns, about the cost of those look-ups, against a B-tree seek per customer
    /// for the rest). A customer not among them is still looked up, for its error.
    fn check_customer(&mut self, w: &Writer<'_>, customer: CustomerId) -> StoreResult<()> {
        if self.live.contains(customer) {
            return Ok(());
        }
        self.looked_up += 1;
        if self.looked_up >= Self::LOOK_UPS_BEFORE_ALL {
            let book = match self.book {
                Some(n) => n,
                None => *self.book.insert(w.tx.count_customers()?),
            };
            if self.looked_up.saturating_mul(16) >= book {
                // Once: the count can never be reached again.
                self.book = Some(u64::MAX);
                for (id, _) in w.tx.customer_stages()? {
                    self.live.insert(id);
                }
                if self.live.contains(customer) {
                    return Ok(());
                }
            }
        }
        match w.tx.customer_erased(customer)? {
            None => Err(StoreError::not_found(Entity::Customer, customer)),
            Some(true) => Err(Conflict::CustomerErased { customer }.into()),
            Some(false) => {
                self.live.insert(customer);
                Ok(())
            }
        }
    }

    /// The deal exists and may carry an after-sales purchase of `customer`.
    fn check_deal(&mut self, w: &Writer<'_>, id: DealId, customer: CustomerId) -> StoreResult<()> {
        let deal = match self.deals.get(&id) {
            Some(d) => d,
            None => {
                let d = w.reader().deal(id)?;
                self.deals.entry(id).or_insert(d)
            }
        };
        Ok(check_after_sales_link(deal, customer)?)
    }
}

/// The customers a batch found live, as a bit per id for the ids a book assigns
/// (counted from 1, so dense) and a set for any beyond: a look-up per row of a
/// million-row import costs a bit test, not a hash of the id.
#[derive(Default)]
struct LiveCustomers {
    bits: Vec<u64>,
    beyond: HashSet<CustomerId>,
}

impl LiveCustomers {
    /// Ids below this are kept as bits (at most 2 MiB of them).
    const DENSE: u64 = 1 << 24;

    fn contains(&self, id: CustomerId) -> bool {
        let n = id.get();
        if n < Self::DENSE {
            let word = usize::try_from(n / 64).unwrap_or(usize::MAX);
            self.bits
                .get(word)
                .is_some_and(|w| w & (1 << (n % 64)) != 0)
        } else {
            self.beyond.contains(&id)
        }
    }

    fn insert(&mut self, id: CustomerId) {
        let n = id.get();
        if n < Self::DENSE {
            let word = usize::try_from(n / 64).unwrap_or(0);
            if self.bits.len() <= word {
                self.bits.resize(word + 1, 0);
            }
            self.bits[word] |= 1 << (n % 64);
        } else {
            self.beyond.insert(id);
        }
    }
}

/// Refuses a change to a voided record.
fn refuse_voided(entity: Entity, id: u64, void: Option<&Void>) -> StoreResult<()> {
    match void {
        Some(v) => Err(Conflict::Voided {
            entity: entity.as_str(),
            id,
            at: v.at,
        }
        .into()),
        None => Ok(()),
    }
}

/// The first and last of consecutive ids, if any.
fn range<T: Copy>(ids: &[T]) -> Option<(T, T)> {
    Some((*ids.first()?, *ids.last()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// The bits and the set beyond them answer as one set of ids would.
        #[test]
        fn live_customers_is_a_set(
            ids in proptest::collection::vec(
                proptest::prop_oneof![0u64..300, (1u64 << 24) - 2..(1u64 << 24) + 2, proptest::num::u64::ANY],
                0..60,
            ),
            probes in proptest::collection::vec(0u64..400, 0..40),
        ) {
            let mut live = LiveCustomers::default();
            let mut model = HashSet::new();
            for &n in &ids {
                live.insert(CustomerId::new(n));
                model.insert(n);
            }
            for n in ids.iter().chain(&probes).copied().chain([1 << 24, u64::MAX]) {
                proptest::prop_assert_eq!(live.contains(CustomerId::new(n)), model.contains(&n), "{}", n);
            }
        }
    }
}
