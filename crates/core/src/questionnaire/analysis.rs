//! Per-dimension analysis of survey sheets: means, the dimension that best separates
//! detractors from promoters, and the comments grouped by dimension.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::{AnswerValue, Answering, Scale, SurveySheet, SurveyTemplate};
use crate::ids::CustomerId;
use crate::survey::SurveyKind;
use crate::text::{FreeText, Label, Tag};

/// Decimal places the means and gaps are rounded to.
pub const DECIMALS: u32 = 4;

/// One dimension's figures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DimensionStat {
    /// The dimension.
    pub dimension: Label,
    /// How many score answers it has.
    pub answers: u64,
    /// The mean score as a share of its scale, 0 (every answer at the bottom) to 1
    /// (every answer at the top); `None` without score answers (a dimension of text
    /// questions only).
    pub mean_share: Option<Decimal>,
    /// The scale, when every score answer of the dimension is on the same one.
    pub scale: Option<Scale>,
    /// The mean raw score on that scale (only with [`scale`](Self::scale)).
    pub mean_score: Option<Decimal>,
    /// The mean share among the answers of promoters (NPS 9–10 on the same sheet).
    pub promoter_mean: Option<Decimal>,
    /// The mean share among the answers of detractors (NPS 0–6 on the same sheet).
    pub detractor_mean: Option<Decimal>,
    /// `promoter_mean − detractor_mean`, when both exist.
    pub gap: Option<Decimal>,
}

/// A free-text answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Comment {
    /// The customer who wrote it.
    pub customer: CustomerId,
    /// When.
    pub at: DateTime<Utc>,
    /// On which template.
    pub template: Tag,
    /// The question's number.
    pub question: u16,
    /// The text.
    pub text: FreeText,
}

/// The comments of one dimension, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DimensionComments {
    /// The dimension.
    pub dimension: Label,
    /// Its comments.
    pub comments: Vec<Comment>,
}

/// The result of [`analyse_dimensions`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DimensionAnalysis {
    /// Sheets analysed.
    pub sheets: u64,
    /// Sheets whose NPS question says promoter (9–10).
    pub promoters: u64,
    /// Sheets whose NPS question says detractor (0–6).
    pub detractors: u64,
    /// Every dimension with a question on the templates analysed, by name.
    pub dimensions: Vec<DimensionStat>,
    /// The dimension with the largest positive [`gap`](DimensionStat::gap); `None`
    /// when no dimension has one.
    pub separating: Option<Label>,
    /// The free-text answers, by dimension name, each dimension's oldest first.
    pub comments: Vec<DimensionComments>,
}

#[derive(Default)]
struct Acc {
    answers: u64,
    share_sum: Decimal,
    score_sum: Decimal,
    scales: Vec<Scale>,
    promoters: (u64, Decimal),
    detractors: (u64, Decimal),
    comments: Vec<Comment>,
}

fn mean(sum: Decimal, n: u64) -> Option<Decimal> {
    (n > 0).then(|| (sum / Decimal::from(n)).round_dp(DECIMALS))
}

/// Analyses survey sheets by dimension.
///
/// *Definition.* Every score answer is put on a common footing as its **share of the
/// scale**, `(score − min) / (max − min)`: 0 at the bottom of its scale, 1 at the top,
/// so a 1–5 question and a 0–10 question of one dimension can be averaged together.
/// For each dimension:
/// - **mean** = the mean share of its score answers (each answer counts once, so a
///   respondent who answered two questions of a dimension counts twice); the mean raw
///   score is given as well when all its answers share one scale;
/// - **promoter mean** and **detractor mean** = the same mean over the answers on
///   sheets whose NPS question (the template's question with the NPS role) is 9–10,
///   respectively 0–6; passives (7–8) and sheets without an NPS answer are in the
///   mean but in neither group;
/// - **gap** = promoter mean − detractor mean.
///
/// The dimension that **best separates** detractors from promoters is the one with the
/// largest positive gap: where detractors rate lowest compared with promoters, so the
/// likeliest driver of low satisfaction. The NPS question itself is left out of every
/// gap (it separates the groups by definition) but counts in its dimension's mean.
///
/// *Source.* The difference of group means is the numerator of the point-biserial
/// correlation (Tate, 1954) between a 0/1 promoter flag and the score; it is used
/// without the division by the pooled spread so that it stays readable as "promoters
/// rate this dimension N points of its scale higher". NPS groups as in Reichheld
/// (2003).
///
/// *Edge cases.* A dimension with no promoter answer or no detractor answer has no
/// gap; if no dimension has a positive gap, none is named. Ties go to the first
/// dimension by name. Sheets of templates not passed in are left out (that is how a
/// caller restricts the analysis to one template), as are answers to question numbers
/// the template does not have. Means and gaps are rounded to [`DECIMALS`] places.
/// Free-text answers are grouped under their question's dimension, oldest first.
///
/// ```
/// use chrono::DateTime;
/// use rust_decimal::Decimal;
/// use solocrm_core::questionnaire::analysis::analyse_dimensions;
/// use solocrm_core::questionnaire::*;
/// use solocrm_core::{CustomerId, FreeText, Label, SurveyKind, Tag};
///
/// let q = |dim: &str, answering| Question {
///     text: Label::parse("问题").unwrap(),
///     dimension: Label::parse(dim).unwrap(),
///     answering,
/// };
/// let five = Answering::Score { scale: Scale::new(1, 5)?, role: None };
/// let nps = Answering::Score { scale: Scale::new(0, 10)?, role: Some(SurveyKind::Nps) };
/// let t = SurveyTemplate::new(
///     Tag::parse("回访")?,
///     vec![q("总体", nps), q("产品满意度", five), q("服务质量", five), q("服务质量", Answering::Text)],
/// )?;
/// let sheet = |c: u64, n: u8, product: u8, service: u8| SurveySheet {
///     void: None,
///     template: Tag::parse("回访").unwrap(),
///     customer: CustomerId::new(c),
///     at: DateTime::from_timestamp(1_767_225_600 + c as i64, 0).unwrap(),
///     method: CollectionMethod::Phone,
///     answers: vec![
///         Answer { question: 1, value: AnswerValue::Score(n) },
///         Answer { question: 2, value: AnswerValue::Score(product) },
///         Answer { question: 3, value: AnswerValue::Score(service) },
///     ],
/// };
/// // A promoter rates product 5 and service 5; a detractor product 4, service 1.
/// let mut detractor = sheet(2, 3, 4, 1);
/// detractor.answers.push(Answer { question: 4, value: AnswerValue::Text(FreeText::parse("回复太慢")?) });
/// let a = analyse_dimensions(&[t], &[sheet(1, 10, 5, 5), detractor]);
/// assert_eq!((a.promoters, a.detractors), (1, 1));
/// let service = a.dimensions.iter().find(|d| d.dimension.as_str() == "服务质量").unwrap();
/// // Shares 1 and 0 → mean 0.5; raw scores 5 and 1 → mean 3; gap 1 − 0 = 1.
/// assert_eq!(service.mean_share, Some(Decimal::new(5, 1)));
/// assert_eq!(service.mean_score, Some(Decimal::from(3)));
/// assert_eq!(service.gap, Some(Decimal::ONE));
/// // Product: shares 1 and 0.75, gap 0.25; so service separates best.
/// assert_eq!(a.separating.unwrap().as_str(), "服务质量");
/// assert_eq!(a.comments[0].dimension.as_str(), "服务质量");
/// assert_eq!(a.comments[0].comments[0].text.as_str(), "回复太慢");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn analyse_dimensions(
    templates: &[SurveyTemplate],
    sheets: &[SurveySheet],
) -> DimensionAnalysis {
    let by_name: BTreeMap<&Tag, &SurveyTemplate> =
        templates.iter().map(|t| (t.name(), t)).collect();
    let mut dims: BTreeMap<Label, Acc> = BTreeMap::new();
    for t in templates {
        for q in t.questions() {
            dims.entry(q.dimension.clone()).or_default();
        }
    }
    let (mut count, mut promoters, mut detractors) = (0u64, 0u64, 0u64);
    for sheet in sheets {
        // A voided sheet was recorded by mistake: it counts nowhere (ADR 0050).
        if sheet.is_void() {
            continue;
        }
        let Some(t) = by_name.get(&sheet.template) else {
            continue;
        };
        count += 1;
        // The respondent's NPS group from the same sheet.
        let nps = sheet
            .answers
            .iter()
            .find_map(|a| match (&a.value, t.question(a.question)) {
                (AnswerValue::Score(s), Some(q)) if q.role() == Some(SurveyKind::Nps) => Some(*s),
                _ => None,
            });
        let group = match nps {
            Some(9..=10) => {
                promoters += 1;
                Some(true)
            }
            Some(0..=6) => {
                detractors += 1;
                Some(false)
            }
            _ => None,
        };
        for a in &sheet.answers {
            let Some(q) = t.question(a.question) else {
                continue;
            };
            let acc = dims.entry(q.dimension.clone()).or_default();
            match (&a.value, q.answering) {
                (AnswerValue::Score(s), Answering::Score { scale, role }) => {
                    let share = Decimal::from(s.saturating_sub(scale.min()))
                        / Decimal::from(scale.max() - scale.min());
                    acc.answers += 1;
                    acc.share_sum += share;
                    acc.score_sum += Decimal::from(*s);
                    if !acc.scales.contains(&scale) {
                        acc.scales.push(scale);
                    }
                    if role != Some(SurveyKind::Nps) {
                        match group {
                            Some(true) => {
                                acc.promoters.0 += 1;
                                acc.promoters.1 += share;
                            }
                            Some(false) => {
                                acc.detractors.0 += 1;
                                acc.detractors.1 += share;
                            }
                            None => {}
                        }
                    }
                }
                (AnswerValue::Text(text), _) => acc.comments.push(Comment {
                    customer: sheet.customer,
                    at: sheet.at,
                    template: sheet.template.clone(),
                    question: a.question,
                    text: text.clone(),
                }),
                // A score on a text question cannot be stored (the writer checks).
                (AnswerValue::Score(_), Answering::Text) => {}
            }
        }
    }
    let mut dimensions = Vec::with_capacity(dims.len());
    let mut comments = Vec::new();
    let mut separating: Option<(Decimal, Label)> = None;
    for (dimension, mut acc) in dims {
        let single = (acc.scales.len() == 1).then(|| acc.scales[0]);
        let promoter_mean = mean(acc.promoters.1, acc.promoters.0);
        let detractor_mean = mean(acc.detractors.1, acc.detractors.0);
        let gap = promoter_mean.zip(detractor_mean).map(|(p, d)| p - d);
        if let Some(g) = gap
            && g > Decimal::ZERO
            && separating.as_ref().is_none_or(|(best, _)| g > *best)
        {
            separating = Some((g, dimension.clone()));
        }
        if !acc.comments.is_empty() {
            acc.comments.sort_by_key(|c| (c.at, c.customer));
            comments.push(DimensionComments {
                dimension: dimension.clone(),
                comments: acc.comments,
            });
        }
        dimensions.push(DimensionStat {
            dimension,
            answers: acc.answers,
            mean_share: mean(acc.share_sum, acc.answers),
            scale: single,
            mean_score: single.and_then(|_| mean(acc.score_sum, acc.answers)),
            promoter_mean,
            detractor_mean,
            gap,
        });
    }
    DimensionAnalysis {
        sheets: count,
        promoters,
        detractors,
        dimensions,
        separating: separating.map(|(_, d)| d),
        comments,
    }
}
