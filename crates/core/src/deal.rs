//! The sales pipeline: deals moving from a need identified to a contract won or lost.
//!
//! Open stages, in order: need identified → contacted → demo → proposal → negotiation.
//! A deal may move between open stages in either direction (skipping a demo, or going
//! back from negotiation to a revised proposal), and from any open stage to won or lost.
//! Won and lost are final. Every move is recorded with its time, which never goes back.
//!
//! After-sales is not a stage: a won deal is linked from the purchases and service
//! requests that follow it ([`NewPurchase::deal`](crate::NewPurchase::deal),
//! [`NewServiceRequest::deal`](crate::NewServiceRequest::deal)).

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::error::{Conflict, DomainError, ValidationError};
use crate::ids::{CustomerId, DealId};
use crate::lifecycle::TransitionError;
use crate::money::{Currency, Money};
use crate::text::{ERASED_LABEL, FreeText, Label};

pub use crate::stages::DealStage;

/// The pipeline's rule: a deal moves from any open stage to any other stage; won and
/// lost are final.
impl DealStage {
    /// Checks the move `self → to`.
    ///
    /// # Errors
    ///
    /// [`TransitionError::Deal`] when the deal is closed or already at `to`.
    pub fn check_move(self, to: DealStage) -> Result<(), TransitionError> {
        let why = if self.is_closed() {
            "the deal is closed"
        } else if self == to {
            "the deal is already there"
        } else {
            return Ok(());
        };
        Err(TransitionError::Deal {
            from: self,
            to,
            why,
        })
    }
}

/// The probability of winning a deal at each open stage, for the weighted pipeline
/// value. Won counts as 1 and lost as 0.
///
/// The defaults (10 %, 20 %, 40 %, 60 %, 80 %) are the common starting point in sales
/// handbooks; a business should replace them with its own win rates per stage once it
/// has a few dozen closed deals.
///
/// Deserialising checks each probability like [`StageProbabilities::new`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "StageProbabilitiesRepr", into = "StageProbabilitiesRepr")]
pub struct StageProbabilities {
    open: [Decimal; 5],
}

/// The serialised form of [`StageProbabilities`].
#[derive(Serialize, Deserialize)]
struct StageProbabilitiesRepr {
    open: [Decimal; 5],
}

impl TryFrom<StageProbabilitiesRepr> for StageProbabilities {
    type Error = ValidationError;
    fn try_from(r: StageProbabilitiesRepr) -> Result<Self, ValidationError> {
        StageProbabilities::new(r.open)
    }
}

impl From<StageProbabilities> for StageProbabilitiesRepr {
    fn from(p: StageProbabilities) -> Self {
        StageProbabilitiesRepr { open: p.open }
    }
}

impl Default for StageProbabilities {
    fn default() -> Self {
        StageProbabilities {
            open: [
                Decimal::new(10, 2),
                Decimal::new(20, 2),
                Decimal::new(40, 2),
                Decimal::new(60, 2),
                Decimal::new(80, 2),
            ],
        }
    }
}

impl StageProbabilities {
    /// Probabilities for the open stages in pipeline order, each in `[0, 1]`.
    ///
    /// # Errors
    ///
    /// [`ValidationError::Config`] if one is outside `[0, 1]`.
    pub fn new(open: [Decimal; 5]) -> Result<Self, ValidationError> {
        if let Some((stage, p)) = DealStage::OPEN
            .iter()
            .zip(open)
            .find(|(_, p)| *p < Decimal::ZERO || *p > Decimal::ONE)
        {
            return Err(ValidationError::Config(format!(
                "the probability of deal stage {stage} must be between 0 and 1, got {p}"
            )));
        }
        Ok(StageProbabilities { open })
    }

    /// The probability at `stage`.
    pub fn of(&self, stage: DealStage) -> Decimal {
        match stage {
            DealStage::Won => Decimal::ONE,
            DealStage::Lost => Decimal::ZERO,
            open => DealStage::OPEN
                .iter()
                .position(|s| *s == open)
                .map_or(Decimal::ZERO, |i| self.open[i]),
        }
    }
}

/// A deal to be created.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewDeal {
    /// The customer.
    pub customer: CustomerId,
    /// What the deal is about.
    pub title: Label,
    /// Its value, zero or more, in the base currency.
    pub value: Money,
    /// When it entered the pipeline.
    pub created_at: DateTime<Utc>,
    /// The first stage; must be open.
    pub stage: DealStage,
    /// When it is expected to close.
    pub expected_close: Option<NaiveDate>,
}

impl NewDeal {
    /// A deal at [`DealStage::NeedIdentified`].
    pub fn new(
        customer: CustomerId,
        title: Label,
        value: Money,
        created_at: DateTime<Utc>,
    ) -> Self {
        NewDeal {
            customer,
            title,
            value,
            created_at,
            stage: DealStage::NeedIdentified,
            expected_close: None,
        }
    }

    /// Checks the value and the first stage.
    ///
    /// # Errors
    ///
    /// [`ValidationError::NegativeAmount`], the errors of [`Money::for_storage`], or
    /// [`ValidationError::UnknownName`] if the first stage is closed.
    pub fn for_storage(mut self, base: Currency) -> Result<Self, ValidationError> {
        let field = "deal value";
        if self.value.is_negative() {
            return Err(ValidationError::NegativeAmount {
                field,
                amount: self.value,
            });
        }
        self.value = self.value.for_storage(field, base)?;
        if self.stage.is_closed() {
            return Err(ValidationError::UnknownName {
                field: "first deal stage",
                input: self.stage.to_string(),
                expected: crate::names::NameList(&[
                    "need_identified",
                    "contacted",
                    "demo",
                    "proposal",
                    "negotiation",
                ]),
            });
        }
        Ok(self)
    }
}

/// One recorded move of a deal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DealStageChange {
    /// The stage before.
    pub from: DealStage,
    /// The stage after.
    pub to: DealStage,
    /// When.
    pub at: DateTime<Utc>,
}

/// A dated note on a deal (`deal note`): what was said, agreed or learned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DealNote {
    /// When it was written.
    pub at: DateTime<Utc>,
    /// The note.
    pub text: FreeText,
}

/// A deal in the pipeline, with its history, its notes and, once lost, why.
///
/// Deserialising replays the history through the rules ([`Deal::replay`]): the value
/// must be in stored form and not negative, the first stage open, every move allowed
/// and in time order, and the stage must be where the history ends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "DealRepr", into = "DealRepr")]
pub struct Deal {
    id: DealId,
    customer: CustomerId,
    title: Label,
    value: Money,
    created_at: DateTime<Utc>,
    initial_stage: DealStage,
    stage: DealStage,
    expected_close: Option<NaiveDate>,
    history: Vec<DealStageChange>,
    notes: Vec<DealNote>,
    lost_reason: Option<Label>,
}

impl Deal {
    /// A new deal stored under `id`. For store implementations, which have checked
    /// `new` with [`NewDeal::for_storage`].
    pub fn create(id: DealId, new: NewDeal) -> Self {
        Deal {
            id,
            customer: new.customer,
            title: new.title,
            value: new.value,
            created_at: new.created_at,
            initial_stage: new.stage,
            stage: new.stage,
            expected_close: new.expected_close,
            history: Vec::new(),
            notes: Vec::new(),
            lost_reason: None,
        }
    }

    /// Rebuilds a deal from its creation and its recorded moves, replaying each move
    /// through the rules. For store implementations.
    ///
    /// # Errors
    ///
    /// The first move the rules refuse.
    pub fn replay(
        id: DealId,
        new: NewDeal,
        moves: impl IntoIterator<Item = DealStageChange>,
    ) -> Result<Self, DomainError> {
        let mut deal = Deal::create(id, new);
        for m in moves {
            deal.move_to(m.to, m.at)?;
        }
        Ok(deal)
    }

    /// The id.
    pub fn id(&self) -> DealId {
        self.id
    }
    /// The customer.
    pub fn customer(&self) -> CustomerId {
        self.customer
    }
    /// The title.
    pub fn title(&self) -> &Label {
        &self.title
    }
    /// The value.
    pub fn value(&self) -> Money {
        self.value
    }
    /// When it entered the pipeline.
    pub fn created_at(&self) -> DateTime<Utc> {
        self.created_at
    }
    /// The stage it entered the pipeline at.
    pub fn initial_stage(&self) -> DealStage {
        self.initial_stage
    }
    /// The current stage.
    pub fn stage(&self) -> DealStage {
        self.stage
    }
    /// When it is expected to close.
    pub fn expected_close(&self) -> Option<NaiveDate> {
        self.expected_close
    }
    /// Every move, oldest first.
    pub fn history(&self) -> &[DealStageChange] {
        &self.history
    }
    /// When it was won or lost.
    pub fn closed_at(&self) -> Option<DateTime<Utc>> {
        if self.stage.is_closed() {
            self.history.last().map(|c| c.at)
        } else {
            None
        }
    }
    /// The time of the last change (or of creation).
    pub fn last_change_at(&self) -> DateTime<Utc> {
        self.history.last().map_or(self.created_at, |c| c.at)
    }
    /// The notes, in the order they were added.
    pub fn notes(&self) -> &[DealNote] {
        &self.notes
    }
    /// Why it was lost, if said (only a lost deal has one).
    pub fn lost_reason(&self) -> Option<&Label> {
        self.lost_reason.as_ref()
    }

    /// The title, notes and lost reason with personal detail removed (privacy erase):
    /// the notes are dropped, a lost reason becomes a placeholder.
    pub fn erase_text(&mut self) {
        self.title = Label::placeholder(ERASED_LABEL);
        self.notes.clear();
        if self.lost_reason.is_some() {
            self.lost_reason = Some(Label::placeholder(ERASED_LABEL));
        }
    }

    /// Renames the deal (a typo, a sharper title).
    pub fn set_title(&mut self, title: Label) {
        self.title = title;
    }

    /// Changes the value, checked like a new deal's ([`NewDeal::for_storage`]).
    ///
    /// # Errors
    ///
    /// [`ValidationError::NegativeAmount`] or the errors of [`Money::for_storage`].
    pub fn set_value(&mut self, value: Money, base: Currency) -> Result<(), ValidationError> {
        let field = "deal value";
        if value.is_negative() {
            return Err(ValidationError::NegativeAmount {
                field,
                amount: value,
            });
        }
        self.value = value.for_storage(field, base)?;
        Ok(())
    }

    /// Changes (or clears) the expected close date.
    pub fn set_expected_close(&mut self, close: Option<NaiveDate>) {
        self.expected_close = close;
    }

    /// Appends a dated note. Notes may be added whatever the stage: a lost deal's
    /// post-mortem is a note too.
    pub fn add_note(&mut self, at: DateTime<Utc>, text: FreeText) {
        self.notes.push(DealNote { at, text });
    }

    /// Records why a lost deal was lost.
    ///
    /// # Errors
    ///
    /// [`Conflict::DealNotLost`] if the deal is not lost.
    pub fn set_lost_reason(&mut self, reason: Label) -> Result<(), Conflict> {
        if self.stage != DealStage::Lost {
            return Err(Conflict::DealNotLost {
                deal: self.id,
                stage: self.stage,
            });
        }
        self.lost_reason = Some(reason);
        Ok(())
    }

    /// The same deal with `notes` and `lost_reason` (as stored beside it). For store
    /// implementations and the as-of view.
    ///
    /// # Errors
    ///
    /// [`Conflict::DealNotLost`] for a lost reason on a deal that is not lost.
    pub fn with_extras(
        mut self,
        notes: Vec<DealNote>,
        lost_reason: Option<Label>,
    ) -> Result<Self, Conflict> {
        self.notes = notes;
        if let Some(reason) = lost_reason {
            self.set_lost_reason(reason)?;
        }
        Ok(self)
    }

    /// Moves the deal to `to` at `at` and records the move.
    ///
    /// # Errors
    ///
    /// [`TransitionError::Deal`] from a closed deal or to the same stage;
    /// [`ValidationError::TimeOrder`] if `at` is before the previous change.
    pub fn move_to(
        &mut self,
        to: DealStage,
        at: DateTime<Utc>,
    ) -> Result<DealStageChange, DomainError> {
        self.stage.check_move(to)?;
        let last = self.last_change_at();
        if at < last {
            return Err(ValidationError::TimeOrder {
                field: "deal move",
                at,
                earlier_field: "the previous change",
                earlier: last,
            }
            .into());
        }
        let change = DealStageChange {
            from: self.stage,
            to,
            at,
        };
        self.history.push(change.clone());
        self.stage = to;
        Ok(change)
    }
}

/// The serialised form of a [`Deal`]: the same fields, checked on the way in.
#[derive(Serialize, Deserialize)]
struct DealRepr {
    id: DealId,
    customer: CustomerId,
    title: Label,
    value: Money,
    created_at: DateTime<Utc>,
    initial_stage: DealStage,
    stage: DealStage,
    expected_close: Option<NaiveDate>,
    history: Vec<DealStageChange>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    notes: Vec<DealNote>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    lost_reason: Option<Label>,
}

impl From<Deal> for DealRepr {
    fn from(d: Deal) -> DealRepr {
        DealRepr {
            id: d.id,
            customer: d.customer,
            title: d.title,
            value: d.value,
            created_at: d.created_at,
            initial_stage: d.initial_stage,
            stage: d.stage,
            expected_close: d.expected_close,
            history: d.history,
            notes: d.notes,
            lost_reason: d.lost_reason,
        }
    }
}

impl TryFrom<DealRepr> for Deal {
    type Error = DomainError;
    fn try_from(r: DealRepr) -> Result<Self, DomainError> {
        let new = NewDeal {
            customer: r.customer,
            title: r.title,
            value: r.value,
            created_at: r.created_at,
            stage: r.initial_stage,
            expected_close: r.expected_close,
        };
        // The checks a store ran when the deal was created, in the value's own currency;
        // the value is kept as written.
        new.clone().for_storage(r.value.currency())?;
        let inconsistent = |detail: String| ValidationError::Inconsistent {
            record: format!("deal {}", r.id),
            detail,
        };
        let mut deal = Deal::create(r.id, new);
        for (i, change) in r.history.into_iter().enumerate() {
            if change.from != deal.stage {
                return Err(inconsistent(format!(
                    "history move {} starts at {} but the deal was at {}",
                    i + 1,
                    change.from,
                    deal.stage
                ))
                .into());
            }
            deal.move_to(change.to, change.at)?;
        }
        if deal.stage != r.stage {
            return Err(inconsistent(format!(
                "stage is {} but the history ends at {}",
                r.stage, deal.stage
            ))
            .into());
        }
        Ok(deal.with_extras(r.notes, r.lost_reason)?)
    }
}

/// What an edit of a deal (`Writer::edit_deal`, `Store::edit_deal`) changes; `None`
/// leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DealEdit {
    /// A new title.
    pub title: Option<Label>,
    /// A new value.
    pub value: Option<Money>,
    /// A new expected close date (`Some(None)` clears it).
    pub expected_close: Option<Option<NaiveDate>>,
    /// A note to append, with its time.
    pub note: Option<(DateTime<Utc>, FreeText)>,
    /// Why the (lost) deal was lost.
    pub lost_reason: Option<Label>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn deal() -> Deal {
        let at = Utc
            .with_ymd_and_hms(2026, 1, 1, 9, 0, 0)
            .single()
            .expect("valid");
        let new = NewDeal::new(
            CustomerId::new(1),
            Label::parse("website").expect("valid"),
            Money::from_minor(100_000, Currency::EUR),
            at,
        );
        Deal::create(DealId::new(1), new)
    }

    #[test]
    fn a_deal_moves_through_the_pipeline_and_closes() {
        let mut d = deal();
        let t = |h| {
            Utc.with_ymd_and_hms(2026, 1, 2, h, 0, 0)
                .single()
                .expect("valid")
        };
        for (i, s) in [DealStage::Contacted, DealStage::Proposal, DealStage::Won]
            .into_iter()
            .enumerate()
        {
            d.move_to(s, t(9 + i as u32)).expect("allowed");
        }
        assert_eq!(d.stage(), DealStage::Won);
        assert_eq!(d.history().len(), 3);
        assert_eq!(d.closed_at(), Some(t(11)));
        assert!(matches!(
            d.move_to(DealStage::Lost, t(12)),
            Err(DomainError::Transition(TransitionError::Deal { .. }))
        ));
    }

    #[test]
    fn a_deal_cannot_move_back_in_time() {
        let mut d = deal();
        let before = Utc
            .with_ymd_and_hms(2025, 12, 31, 0, 0, 0)
            .single()
            .expect("valid");
        assert!(matches!(
            d.move_to(DealStage::Contacted, before),
            Err(DomainError::Validation(ValidationError::TimeOrder { .. }))
        ));
    }

    #[test]
    fn only_a_lost_deal_has_a_lost_reason_and_erasing_drops_the_notes() {
        let mut d = deal();
        let at = d.created_at();
        let reason = Label::parse("预算不足").expect("valid");
        assert!(d.set_lost_reason(reason.clone()).is_err());
        d.add_note(at, FreeText::parse("客户想要折扣").expect("valid"));
        d.move_to(DealStage::Lost, at).expect("allowed");
        d.set_lost_reason(reason.clone()).expect("lost");
        assert_eq!(d.lost_reason(), Some(&reason));
        let json = serde_json::to_string(&d).expect("serialises");
        assert_eq!(serde_json::from_str::<Deal>(&json).expect("reads back"), d);
        d.erase_text();
        assert!(d.notes().is_empty());
        assert_ne!(d.lost_reason(), Some(&reason));
    }

    #[test]
    fn probabilities_default_and_validate() {
        let p = StageProbabilities::default();
        assert_eq!(p.of(DealStage::Demo), Decimal::new(4, 1));
        assert_eq!(p.of(DealStage::Won), Decimal::ONE);
        assert!(StageProbabilities::new([Decimal::TWO; 5]).is_err());
    }
}
