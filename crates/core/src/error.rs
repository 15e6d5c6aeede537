//! Validation errors: what is wrong with a piece of input, said so a person can fix it.
//!
//! [`ValidationError`] and [`NameList`] are defined in a leaf module below every other
//! (so that text, ids, money and time can return them without a module cycle) and
//! re-exported here; [`Conflict`] and [`DomainError`], which name ids, money and state
//! machines, are defined here.

use thiserror::Error;

use crate::money::Money;
pub use crate::validation::{NameList, ValidationError};

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
    /// An offer with this code exists.
    #[error("an offer with code '{code}' already exists")]
    DuplicateOfferCode {
        /// The code.
        code: String,
    },
    /// The offer cannot be used on this purchase.
    #[error("coupon '{code}' cannot be used: {refusal}")]
    OfferRefused {
        /// The code.
        code: String,
        /// Why.
        refusal: crate::offer::Refusal,
    },
    /// The purchase used a coupon: its time and amount are what the redemption was
    /// checked and counted against, so they do not change (void it and record it
    /// again instead).
    #[error(
        "purchase {purchase} used coupon '{code}': its time and amount stay as redeemed (void it and record it again)"
    )]
    PurchaseRedeemed {
        /// The purchase.
        purchase: crate::PurchaseId,
        /// The coupon's code.
        code: String,
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
    /// Changing, refunding or voiding a record that was voided.
    #[error(
        "{entity} {id} is void (voided at {at}); a void cannot be undone, enter it again instead"
    )]
    Voided {
        /// What kind of record: `purchase`, `interaction` or `survey`.
        entity: &'static str,
        /// Its id.
        id: u64,
        /// When it was voided.
        at: chrono::DateTime<chrono::Utc>,
    },
    /// Voiding a purchase that has refunds: the money that went back is real.
    #[error(
        "purchase {purchase} has {refunded} refunded; a refunded purchase cannot be voided (edit it instead)"
    )]
    VoidRefunded {
        /// The purchase.
        purchase: crate::PurchaseId,
        /// What was refunded.
        refunded: Money,
    },
    /// Lowering a purchase's amount below what was already refunded.
    #[error(
        "purchase {purchase} has {refunded} refunded; its amount cannot be lowered to {requested}"
    )]
    AmountBelowRefunded {
        /// The purchase.
        purchase: crate::PurchaseId,
        /// What was refunded.
        refunded: Money,
        /// The amount asked for.
        requested: Money,
    },
    /// A task that was cancelled: it can be neither done nor changed.
    #[error("task {task} was cancelled")]
    TaskCancelled {
        /// The task.
        task: crate::TaskId,
    },
    /// A lost reason for a deal that is not lost.
    #[error("deal {deal} is {stage}; only a lost deal has a lost reason")]
    DealNotLost {
        /// The deal.
        deal: crate::DealId,
        /// Its stage.
        stage: crate::DealStage,
    },
    /// Erasing a customer that is already erased.
    #[error("customer {customer} was already erased")]
    AlreadyErased {
        /// The customer.
        customer: crate::CustomerId,
    },
    /// The cost was voided already; a cost is voided once.
    #[error("cost {cost} is already void")]
    CostAlreadyVoid {
        /// The cost.
        cost: crate::CostId,
    },
    /// A rule by this name exists already (a built-in's name is always taken).
    #[error("a rule named '{name}' already exists")]
    DuplicateRule {
        /// The name.
        name: String,
    },
    /// A built-in rule cannot be removed or replaced, only switched off.
    #[error("'{name}' is a built-in rule: disable it instead")]
    BuiltinRule {
        /// The name.
        name: String,
    },
    /// A survey template with this name exists.
    #[error("a survey template named '{name}' already exists")]
    DuplicateSurveyTemplate {
        /// The name.
        name: String,
    },
    /// A survey template has answer sheets: its questions give the stored answers
    /// their meaning, so they cannot change, and it cannot be removed.
    #[error(
        "survey template '{name}' has {sheets} answer sheet(s): its questions cannot change \
         and it cannot be removed, because they give the stored answers their meaning; \
         rename it if you like, and add a new template for new questions"
    )]
    SurveyTemplateAnswered {
        /// The template's name.
        name: String,
        /// How many sheets answer it.
        sheets: usize,
    },
    /// The survey template is archived: it takes no new answer sheets (ADR 0045).
    #[error(
        "survey template '{name}' is archived and takes no new answers; unarchive it first \
         (solocrm survey template unarchive)"
    )]
    SurveyTemplateArchived {
        /// The template's name.
        name: String,
    },
    /// The customer already has a sheet of this template at this instant.
    #[error("customer {customer} already answered template '{template}' at {at}")]
    DuplicateSurveySheet {
        /// The template.
        template: String,
        /// The customer.
        customer: crate::CustomerId,
        /// The instant.
        at: chrono::DateTime<chrono::Utc>,
    },
    /// Voiding a survey sheet that is void already (ADR 0050); a void cannot be
    /// undone.
    #[error(
        "the sheet of template '{template}' by customer {customer} at {at} is void (voided at \
         {voided_at}); a void cannot be undone, record it again instead"
    )]
    SurveySheetVoided {
        /// The template.
        template: String,
        /// The customer.
        customer: crate::CustomerId,
        /// When they answered.
        at: chrono::DateTime<chrono::Utc>,
        /// When it was voided.
        voided_at: chrono::DateTime<chrono::Utc>,
    },
    /// Resolving a need or pain point that is resolved already.
    #[error("need {need} is resolved already (at {at})")]
    NeedResolved {
        /// The need.
        need: crate::NeedId,
        /// When it was resolved.
        at: chrono::DateTime<chrono::Utc>,
    },
    /// The customer already has a participation of this kind at this instant.
    #[error("customer {customer} already has a {kind} participation at {at}")]
    DuplicateParticipation {
        /// The customer.
        customer: crate::CustomerId,
        /// The kind (`event`, `community`, `suggestion` or `review`).
        kind: String,
        /// The instant.
        at: chrono::DateTime<chrono::Utc>,
    },
    /// Another product has this SKU.
    #[error("a product with SKU '{sku}' already exists")]
    DuplicateSku {
        /// The SKU.
        sku: String,
    },
    /// Another campaign has this name (compared ignoring case).
    #[error("a campaign named '{name}' already exists")]
    DuplicateCampaign {
        /// The name.
        name: String,
    },
    /// A new purchase line names an archived product.
    #[error("product '{sku}' is archived; new purchase lines cannot name it")]
    ProductArchived {
        /// The SKU.
        sku: String,
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
