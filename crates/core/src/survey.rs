//! Satisfaction surveys: CSAT (1–5), NPS (0–10) and CES (1–7) answers.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::ValidationError;
use crate::ids::{CustomerId, SurveyId};
use crate::names::named_enum;
use crate::text::FreeText;
use crate::void::Void;

named_enum! {
    /// The kind of survey question.
    pub enum SurveyKind as "survey kind" {
        /// Customer satisfaction, 1 (very unsatisfied) to 5 (very satisfied).
        Csat = "csat",
        /// Net Promoter Score question, 0 (not at all likely to recommend) to 10.
        Nps = "nps",
        /// Customer effort score, 1 (very easy) to 7 (very difficult).
        Ces = "ces",
    }
}

impl SurveyKind {
    /// The valid score range, inclusive.
    pub fn range(self) -> (u8, u8) {
        match self {
            SurveyKind::Csat => (1, 5),
            SurveyKind::Nps => (0, 10),
            SurveyKind::Ces => (1, 7),
        }
    }

    fn label(self) -> &'static str {
        match self {
            SurveyKind::Csat => "CSAT",
            SurveyKind::Nps => "NPS",
            SurveyKind::Ces => "CES",
        }
    }
}

/// A score on the scale of its survey kind.
///
/// ```
/// use solocrm_core::{SurveyKind, SurveyScore};
/// let s = SurveyScore::new(SurveyKind::Nps, 9)?;
/// assert_eq!(s.value(), 9);
/// assert!(SurveyScore::new(SurveyKind::Csat, 0).is_err());
/// # Ok::<(), solocrm_core::ValidationError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "RawScore", into = "RawScore")]
pub struct SurveyScore {
    kind: SurveyKind,
    value: u8,
}

impl SurveyScore {
    /// Checks `value` against the scale of `kind`.
    ///
    /// # Errors
    ///
    /// [`ValidationError::ScoreOutOfRange`].
    pub fn new(kind: SurveyKind, value: i64) -> Result<Self, ValidationError> {
        let (min, max) = kind.range();
        match u8::try_from(value) {
            Ok(v) if (min..=max).contains(&v) => Ok(SurveyScore { kind, value: v }),
            _ => Err(ValidationError::ScoreOutOfRange {
                kind: kind.label(),
                score: value,
                min,
                max,
            }),
        }
    }

    /// The survey kind.
    pub fn kind(&self) -> SurveyKind {
        self.kind
    }

    /// The score.
    pub fn value(&self) -> u8 {
        self.value
    }
}

#[derive(Serialize, Deserialize)]
struct RawScore {
    kind: SurveyKind,
    score: i64,
}

impl TryFrom<RawScore> for SurveyScore {
    type Error = ValidationError;
    fn try_from(raw: RawScore) -> Result<Self, Self::Error> {
        SurveyScore::new(raw.kind, raw.score)
    }
}

impl From<SurveyScore> for RawScore {
    fn from(s: SurveyScore) -> RawScore {
        RawScore {
            kind: s.kind,
            score: s.value.into(),
        }
    }
}

/// A survey answer to be recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewSurveyResponse {
    /// The customer who answered.
    pub customer: CustomerId,
    /// When they answered.
    pub at: DateTime<Utc>,
    /// The score.
    pub score: SurveyScore,
    /// Their comment.
    pub comment: Option<FreeText>,
}

/// A recorded survey answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SurveyResponse {
    id: SurveyId,
    #[serde(flatten)]
    fields: NewSurveyResponse,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    void: Option<Void>,
}

/// What the lifecycle policy reads of one survey answer that is not voided: who, when
/// and the score ([`ReadTx::survey_scores`](crate::port::ReadTx::survey_scores)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ScoredAnswer {
    /// The answer's id.
    pub id: SurveyId,
    /// The customer.
    pub customer: CustomerId,
    /// When.
    pub at: DateTime<Utc>,
    /// The score.
    pub score: SurveyScore,
}

impl ScoredAnswer {
    /// What the policy reads of `s`.
    pub fn of(s: &SurveyResponse) -> ScoredAnswer {
        ScoredAnswer {
            id: s.id(),
            customer: s.customer(),
            at: s.at(),
            score: s.score(),
        }
    }
}

impl SurveyResponse {
    /// The answer `fields` stored under `id`. For store implementations.
    pub fn new(id: SurveyId, fields: NewSurveyResponse) -> Self {
        SurveyResponse {
            id,
            fields,
            void: None,
        }
    }
    /// The same answer with this void marker (none: not voided). For store
    /// implementations reading a stored answer back.
    #[must_use]
    pub fn with_void(mut self, void: Option<Void>) -> Self {
        self.void = void;
        self
    }
    /// The void marker, if the answer was voided.
    pub fn void(&self) -> Option<&Void> {
        self.void.as_ref()
    }
    /// True if the answer was voided: it stays in the books but counts in no NPS,
    /// CSAT or CES and drives no lifecycle rule.
    pub fn is_void(&self) -> bool {
        self.void.is_some()
    }
    /// The id.
    pub fn id(&self) -> SurveyId {
        self.id
    }
    /// The customer.
    pub fn customer(&self) -> CustomerId {
        self.fields.customer
    }
    /// When they answered.
    pub fn at(&self) -> DateTime<Utc> {
        self.fields.at
    }
    /// The score.
    pub fn score(&self) -> SurveyScore {
        self.fields.score
    }
    /// The comment.
    pub fn comment(&self) -> Option<&FreeText> {
        self.fields.comment.as_ref()
    }
    /// Drops the comment (privacy erase); the score and time stay.
    pub fn erase_text(&mut self) {
        self.fields.comment = None;
        if let Some(v) = &mut self.void {
            v.erase_text();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_outside_their_scale_are_rejected_with_the_scale() {
        for (kind, bad) in [
            (SurveyKind::Csat, 0),
            (SurveyKind::Csat, 6),
            (SurveyKind::Nps, -1),
            (SurveyKind::Nps, 11),
            (SurveyKind::Ces, 8),
            (SurveyKind::Nps, 256),
        ] {
            assert!(
                matches!(
                    SurveyScore::new(kind, bad),
                    Err(ValidationError::ScoreOutOfRange { .. })
                ),
                "{kind} {bad}"
            );
        }
        let msg = SurveyScore::new(SurveyKind::Nps, 11)
            .unwrap_err()
            .to_string();
        assert_eq!(msg, "NPS score 11 is out of range; expected 0 to 10");
    }

    #[test]
    fn a_score_serializes_with_its_kind_and_rejects_bad_json() {
        let s = SurveyScore::new(SurveyKind::Csat, 4).expect("valid");
        let json = serde_json::to_string(&s).expect("serializes");
        assert_eq!(json, r#"{"kind":"csat","score":4}"#);
        assert!(serde_json::from_str::<SurveyScore>(r#"{"kind":"csat","score":9}"#).is_err());
    }
}
