//! Survey templates with dimensions, and the answer sheets filled in against them.
//!
//! A [`SurveyTemplate`] is a named list of [`Question`]s. Each question belongs to a
//! dimension (产品满意度, 服务质量, 售后支持, …) and is answered either with a score on
//! its own [`Scale`] (1–5, 0–10, …) or with free text. One score question may carry a
//! [`SurveyKind`] role: the template's NPS question is what [`analysis`] uses to tell
//! promoters from detractors.
//!
//! A [`SurveySheet`] is one customer's answers to one template at one instant, taken by
//! one [`CollectionMethod`] (问卷, 电话, 在线, 面对面). A sheet is identified by its
//! template, customer and instant ([`SheetKey`]); a second sheet with the same key is
//! refused.
//!
//! Sheets are their own records: they do not feed the NPS, CSAT and CES of
//! [`crate::metrics`], which keep reading the one-score answers of
//! [`crate::survey`] exactly as before (see ADR 0030).

pub mod analysis;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::ValidationError;
use crate::ids::CustomerId;
use crate::names::named_enum;
use crate::survey::SurveyKind;
use crate::text::{FreeText, Label, Tag};

/// The most questions a template may have.
pub const MAX_QUESTIONS: usize = 100;
/// The highest score any scale may reach.
pub const MAX_SCALE: u8 = 100;

fn invalid(message: impl Into<String>) -> ValidationError {
    ValidationError::Survey(message.into())
}

/// An inclusive score range, `min` below `max`, both within 0 to [`MAX_SCALE`].
///
/// ```
/// use solocrm_core::questionnaire::Scale;
/// let s = Scale::new(1, 5)?;
/// assert_eq!((s.min(), s.max()), (1, 5));
/// assert!(Scale::new(5, 5).is_err());
/// assert_eq!(Scale::parse("0-10")?, Scale::new(0, 10)?);
/// # Ok::<(), solocrm_core::ValidationError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "RawScale", into = "RawScale")]
pub struct Scale {
    min: u8,
    max: u8,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScale {
    min: i64,
    max: i64,
}

impl TryFrom<RawScale> for Scale {
    type Error = ValidationError;
    fn try_from(raw: RawScale) -> Result<Self, Self::Error> {
        Scale::new(raw.min, raw.max)
    }
}

impl From<Scale> for RawScale {
    fn from(s: Scale) -> RawScale {
        RawScale {
            min: s.min.into(),
            max: s.max.into(),
        }
    }
}

impl Scale {
    /// A scale from `min` to `max`.
    ///
    /// # Errors
    ///
    /// [`ValidationError::Survey`] unless `0 <= min < max <= 100`.
    pub fn new(min: i64, max: i64) -> Result<Self, ValidationError> {
        let bound = i64::from(MAX_SCALE);
        if !(0..bound).contains(&min) || !(1..=bound).contains(&max) || min >= max {
            return Err(invalid(format!(
                "scale {min}-{max} is not accepted; expected MIN-MAX with 0 <= MIN < MAX <= {MAX_SCALE}"
            )));
        }
        Ok(Scale {
            min: min as u8,
            max: max as u8,
        })
    }

    /// Parses `MIN-MAX`, e.g. `1-5` or `0-10` (an en dash is accepted too).
    ///
    /// # Errors
    ///
    /// [`ValidationError::Survey`] for anything else.
    pub fn parse(input: &str) -> Result<Self, ValidationError> {
        let bad = || invalid(format!("scale '{input}' is not MIN-MAX, e.g. 1-5 or 0-10"));
        let (a, b) = input.trim().split_once(['-', '–']).ok_or_else(bad)?;
        let a: i64 = a.trim().parse().map_err(|_| bad())?;
        let b: i64 = b.trim().parse().map_err(|_| bad())?;
        Scale::new(a, b)
    }

    /// The lowest score.
    pub fn min(self) -> u8 {
        self.min
    }

    /// The highest score.
    pub fn max(self) -> u8 {
        self.max
    }

    /// True if `score` is on the scale.
    pub fn contains(self, score: i64) -> bool {
        (i64::from(self.min)..=i64::from(self.max)).contains(&score)
    }
}

impl std::fmt::Display for Scale {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-{}", self.min, self.max)
    }
}

/// How a question is answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Answering {
    /// A score on a scale.
    Score {
        /// The scale.
        scale: Scale,
        /// The standard measure this question is, if any: an NPS question (scale
        /// 0–10) tells promoters from detractors in [`analysis`].
        #[serde(default, skip_serializing_if = "Option::is_none")]
        role: Option<SurveyKind>,
    },
    /// Free text (a comment).
    Text,
}

/// One question of a template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Question {
    /// What is asked, e.g. 您对产品质量满意吗？
    pub text: Label,
    /// The dimension it measures, e.g. 产品满意度.
    pub dimension: Label,
    /// How it is answered.
    pub answering: Answering,
}

impl Question {
    /// The scale, for a score question.
    pub fn scale(&self) -> Option<Scale> {
        match self.answering {
            Answering::Score { scale, .. } => Some(scale),
            Answering::Text => None,
        }
    }

    /// The role, for a score question that has one.
    pub fn role(&self) -> Option<SurveyKind> {
        match self.answering {
            Answering::Score { role, .. } => role,
            Answering::Text => None,
        }
    }
}

/// A change to a survey template
/// ([`Writer::edit_survey_template`](crate::Writer::edit_survey_template)): each
/// field given replaces the stored one; `None` keeps it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SurveyTemplateEdit {
    /// A new name (its sheets follow it).
    pub name: Option<Tag>,
    /// New questions: only for a template no one has answered.
    pub questions: Option<Vec<Question>>,
}

/// A named survey template: its questions in the order asked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RawTemplate", into = "RawTemplate")]
pub struct SurveyTemplate {
    name: Tag,
    questions: Vec<Question>,
    archived: bool,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTemplate {
    name: Tag,
    questions: Vec<Question>,
    /// Absent in archives written before ADR 0045: not archived.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    archived: bool,
}

impl TryFrom<RawTemplate> for SurveyTemplate {
    type Error = ValidationError;
    fn try_from(raw: RawTemplate) -> Result<Self, Self::Error> {
        Ok(SurveyTemplate::new(raw.name, raw.questions)?.with_archived(raw.archived))
    }
}

impl From<SurveyTemplate> for RawTemplate {
    fn from(t: SurveyTemplate) -> RawTemplate {
        RawTemplate {
            name: t.name,
            questions: t.questions,
            archived: t.archived,
        }
    }
}

impl SurveyTemplate {
    /// A template of these questions.
    ///
    /// # Errors
    ///
    /// [`ValidationError::Survey`] for no questions or more than [`MAX_QUESTIONS`], a
    /// role given twice, or a role whose question is not on that kind's scale (NPS is
    /// 0–10, CSAT 1–5, CES 1–7).
    ///
    /// ```
    /// use solocrm_core::questionnaire::{Answering, Question, Scale, SurveyTemplate};
    /// use solocrm_core::{Label, SurveyKind, Tag};
    /// let q = |text: &str, dim: &str, answering| Question {
    ///     text: Label::parse(text).unwrap(),
    ///     dimension: Label::parse(dim).unwrap(),
    ///     answering,
    /// };
    /// let t = SurveyTemplate::new(
    ///     Tag::parse("季度回访")?,
    ///     vec![
    ///         q("推荐意愿", "总体", Answering::Score { scale: Scale::new(0, 10)?, role: Some(SurveyKind::Nps) }),
    ///         q("产品质量", "产品满意度", Answering::Score { scale: Scale::new(1, 5)?, role: None }),
    ///         q("其他建议", "产品满意度", Answering::Text),
    ///     ],
    /// )?;
    /// assert_eq!(t.dimensions().len(), 2);
    /// // An NPS question must be on 0–10.
    /// assert!(SurveyTemplate::new(
    ///     Tag::parse("bad")?,
    ///     vec![q("推荐", "总体", Answering::Score { scale: Scale::new(1, 5)?, role: Some(SurveyKind::Nps) })],
    /// ).is_err());
    /// # Ok::<(), solocrm_core::ValidationError>(())
    /// ```
    pub fn new(name: Tag, questions: Vec<Question>) -> Result<Self, ValidationError> {
        if questions.is_empty() {
            return Err(invalid(format!("template '{name}' has no questions")));
        }
        if questions.len() > MAX_QUESTIONS {
            return Err(invalid(format!(
                "template '{name}' has {} questions; the limit is {MAX_QUESTIONS}",
                questions.len()
            )));
        }
        for (i, q) in questions.iter().enumerate() {
            let Answering::Score {
                scale,
                role: Some(kind),
            } = q.answering
            else {
                continue;
            };
            let (min, max) = kind.range();
            if (scale.min(), scale.max()) != (min, max) {
                return Err(invalid(format!(
                    "question {} is the {} question but its scale is {scale}; a {} scale is {min}-{max}",
                    i + 1,
                    kind.as_str(),
                    kind.as_str()
                )));
            }
            if questions[..i].iter().any(|p| p.role() == Some(kind)) {
                return Err(invalid(format!(
                    "question {} is a second {} question; a template has at most one",
                    i + 1,
                    kind.as_str()
                )));
            }
        }
        Ok(SurveyTemplate {
            name,
            questions,
            archived: false,
        })
    }

    /// The same template, archived (`true`) or not (ADR 0045). An archived template
    /// takes no new answer sheets; its sheets, dimensions and exports stay.
    ///
    /// ```
    /// use solocrm_core::questionnaire::{Answering, Question, Scale, SurveyTemplate};
    /// use solocrm_core::{Label, Tag};
    /// let t = SurveyTemplate::new(
    ///     Tag::parse("旧问卷")?,
    ///     vec![Question {
    ///         text: Label::parse("服务态度")?,
    ///         dimension: Label::parse("服务质量")?,
    ///         answering: Answering::Score { scale: Scale::new(1, 5)?, role: None },
    ///     }],
    /// )?;
    /// assert!(!t.is_archived());
    /// assert!(t.clone().with_archived(true).is_archived());
    /// # Ok::<(), solocrm_core::ValidationError>(())
    /// ```
    #[must_use]
    pub fn with_archived(mut self, archived: bool) -> Self {
        self.archived = archived;
        self
    }

    /// True if the template is archived: it takes no new answer sheets.
    pub fn is_archived(&self) -> bool {
        self.archived
    }

    /// The name.
    pub fn name(&self) -> &Tag {
        &self.name
    }

    /// The questions, in the order asked (question 1 first).
    pub fn questions(&self) -> &[Question] {
        &self.questions
    }

    /// The question numbered `number` (1-based).
    pub fn question(&self, number: u16) -> Option<&Question> {
        usize::from(number)
            .checked_sub(1)
            .and_then(|i| self.questions.get(i))
    }

    /// The dimensions of its questions, each once, in first-asked order.
    pub fn dimensions(&self) -> Vec<&Label> {
        let mut out: Vec<&Label> = Vec::new();
        for q in &self.questions {
            if !out.contains(&&q.dimension) {
                out.push(&q.dimension);
            }
        }
        out
    }

    /// Checks `answers` against the questions: each names a question of the template
    /// (numbered from 1) at most once, a score is on its question's scale, text answers
    /// only text questions, and at least one question is answered. Unanswered
    /// questions are allowed (a respondent may skip one).
    ///
    /// # Errors
    ///
    /// [`ValidationError::Survey`] naming the first answer at fault.
    pub fn check(&self, answers: &[Answer]) -> Result<(), ValidationError> {
        if answers.is_empty() {
            return Err(invalid(format!(
                "no question of template '{}' is answered",
                self.name
            )));
        }
        for (i, a) in answers.iter().enumerate() {
            let n = a.question;
            let q = self.question(n).ok_or_else(|| {
                invalid(format!(
                    "template '{}' has no question {n}; its questions are 1 to {}",
                    self.name,
                    self.questions.len()
                ))
            })?;
            if answers[..i].iter().any(|b| b.question == n) {
                return Err(invalid(format!("question {n} is answered twice")));
            }
            match (&a.value, q.answering) {
                (AnswerValue::Score(s), Answering::Score { scale, .. }) => {
                    if !scale.contains(i64::from(*s)) {
                        return Err(invalid(format!(
                            "question {n} ({}) score {s} is out of range; expected {} to {}",
                            q.dimension,
                            scale.min(),
                            scale.max()
                        )));
                    }
                }
                (AnswerValue::Text(_), Answering::Text) => {}
                (AnswerValue::Score(_), Answering::Text) => {
                    return Err(invalid(format!(
                        "question {n} ({}) takes text, not a score",
                        q.dimension
                    )));
                }
                (AnswerValue::Text(_), Answering::Score { scale, .. }) => {
                    return Err(invalid(format!(
                        "question {n} ({}) takes a score from {} to {}, not text",
                        q.dimension,
                        scale.min(),
                        scale.max()
                    )));
                }
            }
        }
        Ok(())
    }
}

named_enum! {
    /// How a survey was taken. Each also parses from its Chinese name (问卷, 电话,
    /// 在线, 面对面), see [`CollectionMethod::parse_any`].
    pub enum CollectionMethod as "collection method" {
        /// A questionnaire on paper (问卷).
        Questionnaire = "questionnaire",
        /// By telephone (电话).
        Phone = "phone",
        /// Online, a web form or a messenger (在线).
        Online = "online",
        /// Face to face (面对面).
        InPerson = "in_person",
    }
}

impl CollectionMethod {
    /// The Chinese names, in the order of [`CollectionMethod::ALL`].
    pub const CHINESE: [&'static str; 4] = ["问卷", "电话", "在线", "面对面"];

    /// Parses the English key (`phone`) or the Chinese name (`电话`).
    ///
    /// ```
    /// use solocrm_core::questionnaire::CollectionMethod;
    /// assert_eq!(CollectionMethod::parse_any("电话")?, CollectionMethod::Phone);
    /// assert_eq!(CollectionMethod::parse_any("in-person")?, CollectionMethod::InPerson);
    /// assert!(CollectionMethod::parse_any("信鸽").is_err());
    /// # Ok::<(), solocrm_core::ValidationError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`ValidationError::UnknownName`] listing the English keys.
    pub fn parse_any(input: &str) -> Result<Self, ValidationError> {
        match Self::CHINESE.iter().position(|c| *c == input.trim()) {
            Some(i) => Ok(Self::ALL[i]),
            None => Self::parse(input),
        }
    }
}

/// The value of one answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AnswerValue {
    /// A score on the question's scale.
    Score(u8),
    /// Free text.
    Text(FreeText),
}

/// One answered question.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Answer {
    /// The question's number in its template, from 1.
    pub question: u16,
    /// The answer.
    pub value: AnswerValue,
}

/// What identifies a sheet: its template, its customer and when they answered.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SheetKey {
    /// When they answered (first, so keys sort by time).
    pub at: DateTime<Utc>,
    /// The customer.
    pub customer: CustomerId,
    /// The template.
    pub template: Tag,
}

/// One customer's answers to one template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SurveySheet {
    /// The template answered.
    pub template: Tag,
    /// The customer who answered.
    pub customer: CustomerId,
    /// When they answered.
    pub at: DateTime<Utc>,
    /// How the survey was taken.
    pub method: CollectionMethod,
    /// The answers, by question number.
    pub answers: Vec<Answer>,
    /// The void mark of a sheet recorded by mistake (ADR 0050): it stays in the books
    /// and the exports but counts in no dimension analysis. Absent in archives written
    /// before sheets could be voided.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub void: Option<crate::void::Void>,
}

impl SurveySheet {
    /// Its key.
    pub fn key(&self) -> SheetKey {
        SheetKey {
            at: self.at,
            customer: self.customer,
            template: self.template.clone(),
        }
    }

    /// Drops every free-text answer and the void's reason (privacy erase); the scores
    /// and the void's time stay.
    pub fn erase_text(&mut self) {
        self.answers
            .retain(|a| !matches!(a.value, AnswerValue::Text(_)));
        if let Some(v) = &mut self.void {
            v.erase_text();
        }
    }

    /// True if some answer is free text or the void has a reason.
    pub fn has_text(&self) -> bool {
        self.answers
            .iter()
            .any(|a| matches!(a.value, AnswerValue::Text(_)))
            || self.void.as_ref().is_some_and(|v| v.reason.is_some())
    }

    /// True if the sheet is voided (ADR 0050).
    pub fn is_void(&self) -> bool {
        self.void.is_some()
    }

    /// The answers sorted by question number, as stores keep them.
    #[must_use]
    pub fn normalized(mut self) -> Self {
        self.answers.sort_by_key(|a| a.question);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(dim: &str, answering: Answering) -> Question {
        Question {
            text: Label::parse("问题").expect("a label"),
            dimension: Label::parse(dim).expect("a label"),
            answering,
        }
    }

    fn template() -> SurveyTemplate {
        SurveyTemplate::new(
            Tag::parse("t").expect("a tag"),
            vec![
                q(
                    "服务质量",
                    Answering::Score {
                        scale: Scale::new(1, 5).expect("a scale"),
                        role: None,
                    },
                ),
                q("服务质量", Answering::Text),
            ],
        )
        .expect("a template")
    }

    #[test]
    fn answers_are_checked_against_their_questions() {
        let t = template();
        let score = |n, s| Answer {
            question: n,
            value: AnswerValue::Score(s),
        };
        let text = |n| Answer {
            question: n,
            value: AnswerValue::Text(FreeText::parse("很好").expect("text")),
        };
        assert!(t.check(&[score(1, 5), text(2)]).is_ok());
        assert!(t.check(&[text(2)]).is_ok());
        for bad in [
            vec![],
            vec![score(1, 6)],
            vec![score(1, 0)],
            vec![score(3, 1)],
            vec![score(0, 1)],
            vec![score(1, 2), score(1, 3)],
            vec![text(1)],
            vec![score(2, 3)],
        ] {
            assert!(
                matches!(t.check(&bad), Err(ValidationError::Survey(_))),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn a_template_round_trips_through_json_and_rejects_a_bad_one() {
        let t = template();
        let json = serde_json::to_string(&t).expect("json");
        assert_eq!(
            serde_json::from_str::<SurveyTemplate>(&json).expect("back"),
            t
        );
        let bad = json.replace("\"min\":1", "\"min\":7");
        assert!(serde_json::from_str::<SurveyTemplate>(&bad).is_err());
        let empty = r#"{"name":"x","questions":[]}"#;
        assert!(serde_json::from_str::<SurveyTemplate>(empty).is_err());
    }

    #[test]
    fn erasing_a_sheet_keeps_its_scores_only() {
        let mut s = SurveySheet {
            void: None,
            template: Tag::parse("t").expect("a tag"),
            customer: CustomerId::new(1),
            at: DateTime::from_timestamp(1_767_225_600, 0).expect("an instant"),
            method: CollectionMethod::Phone,
            answers: vec![
                Answer {
                    question: 2,
                    value: AnswerValue::Text(FreeText::parse("王先生说太慢").expect("text")),
                },
                Answer {
                    question: 1,
                    value: AnswerValue::Score(2),
                },
            ],
        };
        assert!(s.has_text());
        s.erase_text();
        assert!(!s.has_text());
        assert_eq!(s.answers.len(), 1);
    }

    #[test]
    fn the_archived_mark_round_trips_and_is_absent_from_old_json() {
        let plain = serde_json::to_value(template()).expect("json");
        assert!(plain.get("archived").is_none(), "{plain}");
        let back: SurveyTemplate = serde_json::from_value(plain).expect("an old template");
        assert!(!back.is_archived());
        let archived = template().with_archived(true);
        let json = serde_json::to_value(&archived).expect("json");
        assert_eq!(json["archived"], serde_json::json!(true));
        let back: SurveyTemplate = serde_json::from_value(json).expect("read back");
        assert_eq!(back, archived);
    }
}
