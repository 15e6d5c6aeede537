//! Voids: a record that was entered by mistake stays in the books, marked void.
//!
//! A purchase, an interaction or a survey answer is never deleted: the books keep what
//! was entered, and a [`Void`] marker says who voided it, when and why. A voided
//! record counts nowhere: not in the purchase log or a purchase summary, not in any
//! metric, RFM score, CLV, cohort, report, lifecycle rule or export of purchases. The
//! store lists it only when asked to ([`ActivityQuery::include_voided`]), for the audit
//! trail. A void cannot be undone (enter the record again instead). See ADR 0011.
//!
//! [`ActivityQuery::include_voided`]: crate::store::ActivityQuery::include_voided

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::text::{FreeText, Label};

/// The marker of a voided record: who voided it, when and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Void {
    /// When the record was voided (not when it happened).
    pub at: DateTime<Utc>,
    /// Who voided it (an operator's name), if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<Label>,
    /// Why. Text about the record, so erasing its customer removes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<FreeText>,
}

impl Void {
    /// A void at `at` with neither author nor reason.
    pub fn at(at: DateTime<Utc>) -> Self {
        Void {
            at,
            by: None,
            reason: None,
        }
    }

    /// The same void, with this reason.
    #[must_use]
    pub fn because(mut self, reason: FreeText) -> Self {
        self.reason = Some(reason);
        self
    }

    /// The same void, by this person.
    #[must_use]
    pub fn by(mut self, by: Label) -> Self {
        self.by = Some(by);
        self
    }

    /// Drops the reason (privacy erase of the record's customer); who and when stay.
    pub fn erase_text(&mut self) {
        self.reason = None;
    }
}
