//! Satisfaction: CSAT and the Net Promoter Score.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::error::{MetricError, MetricResult};
use super::ratio::{Ratio, exact_div};
use crate::survey::{SurveyKind, SurveyResponse};

/// The default least CSAT score that counts as satisfied: 4 on the 1–5 scale.
pub const CSAT_SATISFIED_FROM: u8 = 4;

/// Customer satisfaction (CSAT): the share of respondents who are satisfied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Csat {
    /// Answers at or above the threshold.
    pub satisfied: u64,
    /// All answers.
    pub respondents: u64,
    /// The least score counted as satisfied.
    pub satisfied_from: u8,
    /// `satisfied / respondents`.
    pub share: Ratio,
}

impl Csat {
    /// The CSAT in percent, 0–100.
    pub fn percent(&self) -> Decimal {
        self.share.percent()
    }
}

/// CSAT = satisfied respondents / all respondents × 100 %, from raw 1–5 scores.
///
/// *Definition.* Every answer counts once (a customer who answers twice counts twice,
/// as every survey tool does); an answer is satisfied when its score is at least
/// `satisfied_from` (4 by convention, [`CSAT_SATISFIED_FROM`]: "satisfied" and "very
/// satisfied").
///
/// *Source.* Farris, Bendle, Pfeifer, Reibstein, *Marketing Metrics* (2nd ed., 2010),
/// §2.7 "Customer Satisfaction and Willingness to Recommend": the top-two-box share.
///
/// *Edge cases.* No answers: [`MetricError::EmptyPopulation`]; a score outside 1–5 or
/// a threshold outside 1–5: [`MetricError::InvalidInput`].
///
/// ```
/// use rust_decimal::Decimal;
/// use solocrm_core::metrics::{csat_from_scores, CSAT_SATISFIED_FROM};
/// // 8 answers, 6 of them 4 or 5: CSAT 75 %.
/// let c = csat_from_scores(&[5, 4, 4, 3, 5, 2, 4, 5], CSAT_SATISFIED_FROM)?;
/// assert_eq!((c.satisfied, c.respondents), (6, 8));
/// assert_eq!(c.percent(), Decimal::from(75));
/// // With only "very satisfied" counting: 3 of 8 = 37.5 %.
/// assert_eq!(csat_from_scores(&[5, 4, 4, 3, 5, 2, 4, 5], 5)?.percent(), Decimal::new(375, 1));
/// assert!(csat_from_scores(&[], 4).is_err());
/// # Ok::<(), solocrm_core::metrics::MetricError>(())
/// ```
///
/// # Errors
///
/// See above.
pub fn csat_from_scores(scores: &[u8], satisfied_from: u8) -> MetricResult<Csat> {
    let (min, max) = SurveyKind::Csat.range();
    check_score(
        "csat",
        "the satisfaction threshold",
        satisfied_from,
        min,
        max,
    )?;
    let mut satisfied = 0u64;
    for &s in scores {
        check_score("csat", "a csat score", s, min, max)?;
        satisfied += u64::from(s >= satisfied_from);
    }
    let respondents = scores.len() as u64;
    Ok(Csat {
        satisfied,
        respondents,
        satisfied_from,
        share: Ratio::of(satisfied, respondents, "csat", "no csat responses")?,
    })
}

/// [`csat_from_scores`] over the CSAT answers among `responses` (answers to other
/// survey kinds are ignored). Filter the responses to the period first; the store's
/// [`surveys`](crate::Store::surveys) query does that.
///
/// ```
/// # use solocrm_core::metrics::csat;
/// assert!(csat(&[], 4).is_err());
/// ```
///
/// # Errors
///
/// As [`csat_from_scores`].
pub fn csat(responses: &[SurveyResponse], satisfied_from: u8) -> MetricResult<Csat> {
    let scores = scores_of(responses, SurveyKind::Csat);
    csat_from_scores(&scores, satisfied_from)
}

/// The Net Promoter Score with the counts behind it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Nps {
    /// Answers 9–10.
    pub promoters: u64,
    /// Answers 7–8.
    pub passives: u64,
    /// Answers 0–6.
    pub detractors: u64,
    /// `(promoters − detractors) / respondents × 100`, in `[−100, 100]`.
    pub score: Decimal,
}

impl Nps {
    /// All answers.
    pub fn respondents(&self) -> u64 {
        self.promoters + self.passives + self.detractors
    }

    /// The share of promoters: the "recommendation willingness" of the loyalty index.
    ///
    /// # Errors
    ///
    /// Never for an `Nps` built by [`nps`]; [`MetricError::EmptyPopulation`] for a
    /// hand-made one without respondents.
    pub fn promoter_share(&self) -> MetricResult<Ratio> {
        Ratio::of(
            self.promoters,
            self.respondents(),
            "recommendation willingness",
            "no nps responses",
        )
    }
}

/// NPS = (promoters − detractors) / respondents × 100, from raw 0–10 scores.
///
/// *Definition.* Promoters answer 9 or 10 to "how likely are you to recommend us", passives
/// 7 or 8, detractors 0 to 6. The score runs from −100 (all detractors) to +100 (all
/// promoters); it is exact (a `Decimal`, not rounded), e.g. 100/3 for one promoter and
/// two passives.
///
/// *Source.* Reichheld, F. F., "The One Number You Need to Grow", *Harvard Business
/// Review* 81(12), December 2003.
///
/// *Edge cases.* No answers: [`MetricError::EmptyPopulation`]; a score above 10:
/// [`MetricError::InvalidInput`].
///
/// ```
/// use rust_decimal::Decimal;
/// use solocrm_core::metrics::nps_from_scores;
/// // 5 promoters, 3 passives, 2 detractors: (5 − 2) / 10 × 100 = 30.
/// let n = nps_from_scores(&[10, 9, 9, 10, 9, 8, 7, 7, 6, 0])?;
/// assert_eq!((n.promoters, n.passives, n.detractors), (5, 3, 2));
/// assert_eq!(n.score, Decimal::from(30));
/// // All promoters: +100.
/// assert_eq!(nps_from_scores(&[10, 9])?.score, Decimal::ONE_HUNDRED);
/// # Ok::<(), solocrm_core::metrics::MetricError>(())
/// ```
///
/// # Errors
///
/// See above.
pub fn nps_from_scores(scores: &[u8]) -> MetricResult<Nps> {
    let (min, max) = SurveyKind::Nps.range();
    let (mut promoters, mut passives, mut detractors) = (0u64, 0u64, 0u64);
    for &s in scores {
        check_score("nps", "an nps score", s, min, max)?;
        match s {
            9.. => promoters += 1,
            7..=8 => passives += 1,
            _ => detractors += 1,
        }
    }
    let n = promoters + passives + detractors;
    if n == 0 {
        return Err(MetricError::EmptyPopulation {
            metric: "nps",
            population: "no nps responses",
        });
    }
    let diff = i128::from(promoters) - i128::from(detractors);
    let score = exact_div(diff * 100, i128::from(n), "nps")?;
    Ok(Nps {
        promoters,
        passives,
        detractors,
        score,
    })
}

/// [`nps_from_scores`] over the NPS answers among `responses` (other kinds ignored).
/// Filter the responses to the period first.
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use rust_decimal::Decimal;
/// use solocrm_core::{CustomerId, NewSurveyResponse, SurveyId, SurveyKind, SurveyResponse, SurveyScore};
/// use solocrm_core::metrics::nps;
/// let answer = |id, kind, score| SurveyResponse::new(SurveyId::new(id), NewSurveyResponse {
///     customer: CustomerId::new(id),
///     at: Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).unwrap(),
///     score: SurveyScore::new(kind, score).unwrap(),
///     comment: None,
/// });
/// let answers = [answer(1, SurveyKind::Nps, 10), answer(2, SurveyKind::Nps, 4), answer(3, SurveyKind::Csat, 5)];
/// let n = nps(&answers)?;
/// assert_eq!((n.promoters, n.detractors, n.score), (1, 1, Decimal::ZERO));
/// # Ok::<(), solocrm_core::metrics::MetricError>(())
/// ```
///
/// # Errors
///
/// As [`nps_from_scores`].
pub fn nps(responses: &[SurveyResponse]) -> MetricResult<Nps> {
    nps_from_scores(&scores_of(responses, SurveyKind::Nps))
}

/// Each customer's latest answer of `kind` among `responses` (the latest time, a tie
/// going to the larger survey id), in ascending customer order.
pub fn latest_per_customer(responses: &[SurveyResponse], kind: SurveyKind) -> Vec<&SurveyResponse> {
    let mut latest: std::collections::BTreeMap<crate::CustomerId, &SurveyResponse> =
        std::collections::BTreeMap::new();
    for r in responses.iter().filter(|r| r.score().kind() == kind) {
        let e = latest.entry(r.customer()).or_insert(r);
        if (r.at(), r.id()) > (e.at(), e.id()) {
            *e = r;
        }
    }
    latest.into_values().collect()
}

/// CSAT per customer: [`csat_from_scores`] over each customer's **latest** CSAT answer
/// among `responses` ([`latest_per_customer`]), so that a customer who answers three
/// times weighs once.
///
/// *Definition.* Satisfied customers / customers who answered × 100 %, a customer's
/// satisfaction being their latest answer in the responses given (filter them to the
/// period first). [`csat`] is the per-answer figure survey tools report; this one is
/// the share of *customers* who are satisfied now, which a handful of repeat answerers
/// cannot move.
///
/// *Source.* The top-two-box share of Farris et al., *Marketing Metrics* (2nd ed.,
/// 2010), §2.7, counted over respondents (customers) rather than responses, as the
/// NPS is in Reichheld (2003).
///
/// *Edge cases.* As [`csat_from_scores`]: no answers is
/// [`MetricError::EmptyPopulation`].
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use rust_decimal::Decimal;
/// use solocrm_core::{CustomerId, NewSurveyResponse, SurveyId, SurveyKind, SurveyResponse, SurveyScore};
/// use solocrm_core::metrics::{csat, csat_per_customer};
/// let answer = |id, customer, day, score| SurveyResponse::new(SurveyId::new(id), NewSurveyResponse {
///     customer: CustomerId::new(customer),
///     at: Utc.with_ymd_and_hms(2026, 3, day, 9, 0, 0).unwrap(),
///     score: SurveyScore::new(SurveyKind::Csat, score).unwrap(),
///     comment: None,
/// });
/// // Customer 1 answers 5 three times; customer 2 answered 5, then 2.
/// let answers = [answer(1, 1, 1, 5), answer(2, 1, 2, 5), answer(3, 1, 3, 5),
///                answer(4, 2, 1, 5), answer(5, 2, 4, 2)];
/// assert_eq!(csat(&answers, 4)?.percent(), Decimal::from(80)); // 4 of 5 answers
/// let c = csat_per_customer(&answers, 4)?;
/// assert_eq!((c.satisfied, c.respondents), (1, 2));             // 1 of 2 customers
/// assert_eq!(c.percent(), Decimal::from(50));
/// # Ok::<(), solocrm_core::metrics::MetricError>(())
/// ```
///
/// # Errors
///
/// As [`csat_from_scores`].
pub fn csat_per_customer(responses: &[SurveyResponse], satisfied_from: u8) -> MetricResult<Csat> {
    let scores: Vec<u8> = latest_per_customer(responses, SurveyKind::Csat)
        .iter()
        .map(|r| r.score().value())
        .collect();
    csat_from_scores(&scores, satisfied_from)
}

/// NPS per customer: [`nps_from_scores`] over each customer's **latest** NPS answer
/// among `responses` ([`latest_per_customer`]).
///
/// *Definition.* (promoters − detractors) / customers who answered × 100, each
/// customer classified by their latest answer in the responses given. Reichheld's NPS
/// counts *customers*; a survey tool's export counts answers ([`nps`]), which a
/// customer answering every month would dominate.
///
/// *Source.* Reichheld, F. F., "The One Number You Need to Grow", *Harvard Business
/// Review* 81(12), December 2003.
///
/// *Edge cases.* As [`nps_from_scores`].
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use rust_decimal::Decimal;
/// use solocrm_core::{CustomerId, NewSurveyResponse, SurveyId, SurveyKind, SurveyResponse, SurveyScore};
/// use solocrm_core::metrics::{nps, nps_per_customer};
/// let answer = |id, customer, score| SurveyResponse::new(SurveyId::new(id), NewSurveyResponse {
///     customer: CustomerId::new(customer),
///     at: Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, id as u32).unwrap(),
///     score: SurveyScore::new(SurveyKind::Nps, score).unwrap(),
///     comment: None,
/// });
/// // A fan answers 10 four times; two other customers answer 3 once each.
/// let answers = [answer(1, 1, 10), answer(2, 1, 10), answer(3, 1, 10), answer(4, 1, 10),
///                answer(5, 2, 3), answer(6, 3, 3)];
/// assert_eq!(nps(&answers)?.score.round_dp(2), Decimal::new(3333, 2)); // (4 − 2) / 6 × 100
/// let n = nps_per_customer(&answers)?;
/// assert_eq!((n.promoters, n.detractors), (1, 2));
/// assert_eq!(n.score.round_dp(2), Decimal::new(-3333, 2)); // (1 − 2) / 3 × 100
/// # Ok::<(), solocrm_core::metrics::MetricError>(())
/// ```
///
/// # Errors
///
/// As [`nps_from_scores`].
pub fn nps_per_customer(responses: &[SurveyResponse]) -> MetricResult<Nps> {
    let scores: Vec<u8> = latest_per_customer(responses, SurveyKind::Nps)
        .iter()
        .map(|r| r.score().value())
        .collect();
    nps_from_scores(&scores)
}

/// The customer effort score of a set of answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ces {
    /// All answers.
    pub respondents: u64,
    /// The mean score on the 1 (very easy) to 7 (very difficult) scale: lower is better.
    pub average: Decimal,
    /// Answers of at most [`CES_LOW_EFFORT_UP_TO`] (easy).
    pub low_effort: u64,
    /// `low_effort / respondents`.
    pub low_effort_share: Ratio,
}

/// The largest CES score that counts as low effort: 1–3, the "easy" side of the
/// midpoint 4 on the 1–7 scale.
pub const CES_LOW_EFFORT_UP_TO: u8 = 3;

/// CES = the mean effort score, with the share of low-effort answers, from raw 1–7
/// scores.
///
/// *Definition.* Customers rate how much effort it took to get what they needed, from 1
/// (very easy) to 7 (very difficult). The score is the exact mean of the answers (lower
/// is better); the share of answers from 1 to [`CES_LOW_EFFORT_UP_TO`] is reported
/// beside it, as the mean hides a split between very easy and very hard.
///
/// *Source.* Dixon, M., Freeman, K. and Toman, N., "Stop Trying to Delight Your
/// Customers", *Harvard Business Review* 88(7/8), July–August 2010 (the effort
/// question; solocrm keeps its direction — a higher score is more effort — on the
/// seven-point scale of the later CES 2.0).
///
/// *Edge cases.* No answers: [`MetricError::EmptyPopulation`]; a score outside 1–7:
/// [`MetricError::InvalidInput`].
///
/// ```
/// use rust_decimal::Decimal;
/// use solocrm_core::metrics::ces_from_scores;
/// // 1, 2, 2, 4, 7: mean 16 / 5 = 3.2; three of five are 1–3 (60 %).
/// let c = ces_from_scores(&[1, 2, 2, 4, 7])?;
/// assert_eq!(c.average, Decimal::new(32, 1));
/// assert_eq!((c.low_effort, c.respondents), (3, 5));
/// assert_eq!(c.low_effort_share.percent(), Decimal::from(60));
/// assert!(ces_from_scores(&[]).is_err());
/// assert!(ces_from_scores(&[8]).is_err());
/// # Ok::<(), solocrm_core::metrics::MetricError>(())
/// ```
///
/// # Errors
///
/// See above.
pub fn ces_from_scores(scores: &[u8]) -> MetricResult<Ces> {
    let (min, max) = SurveyKind::Ces.range();
    let mut sum = 0i128;
    let mut low = 0u64;
    for &s in scores {
        check_score("ces", "a ces score", s, min, max)?;
        sum += i128::from(s);
        low += u64::from(s <= CES_LOW_EFFORT_UP_TO);
    }
    let n = scores.len() as u64;
    let low_effort_share = Ratio::of(low, n, "ces", "no ces responses")?;
    Ok(Ces {
        respondents: n,
        average: exact_div(sum, i128::from(n), "ces")?,
        low_effort: low,
        low_effort_share,
    })
}

/// [`ces_from_scores`] over the CES answers among `responses` (other kinds ignored).
/// Filter the responses to the period first.
///
/// # Errors
///
/// As [`ces_from_scores`].
pub fn ces(responses: &[SurveyResponse]) -> MetricResult<Ces> {
    ces_from_scores(&scores_of(responses, SurveyKind::Ces))
}

fn scores_of(responses: &[SurveyResponse], kind: SurveyKind) -> Vec<u8> {
    responses
        .iter()
        .map(SurveyResponse::score)
        .filter(|s| s.kind() == kind)
        .map(|s| s.value())
        .collect()
}

fn check_score(
    metric: &'static str,
    what: &'static str,
    s: u8,
    min: u8,
    max: u8,
) -> MetricResult<()> {
    if (min..=max).contains(&s) {
        Ok(())
    } else {
        Err(MetricError::InvalidInput {
            metric,
            what,
            expected: if max == 5 { "1 to 5" } else { "0 to 10" },
            value: s.to_string(),
        })
    }
}
