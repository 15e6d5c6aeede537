//! The participation rate: the measured engagement the loyalty index may use instead
//! of the interaction-rate proxy.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::error::MetricResult;
use super::period::Period;
use super::ratio::Ratio;
use crate::ids::CustomerId;
use crate::names::named_enum;
use crate::participation::Participation;

named_enum! {
    #[derive(Default)]
    /// What the engagement component of the loyalty index
    /// ([`loyalty_index`](crate::metrics::loyalty_index)) measures.
    pub enum EngagementBasis as "engagement basis" {
        /// Customers of the base with an interaction in the period: the original proxy
        /// ([`engagement`](crate::metrics::engagement)), the default.
        #[default]
        InteractionRate = "interaction_rate",
        /// Customers of the base with a participation (event, community, suggestion,
        /// review) in the period ([`participation_engagement`]).
        ParticipationRate = "participation_rate",
    }
}

impl EngagementBasis {
    /// True for the default, [`EngagementBasis::InteractionRate`].
    pub fn is_default(&self) -> bool {
        *self == EngagementBasis::InteractionRate
    }
}

/// The participation of a population in a period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParticipationEngagement {
    /// Customers in the population.
    pub population: u64,
    /// Of those, customers with at least one participation in the period.
    pub engaged: u64,
    /// Participations of the population in the period.
    pub participations: u64,
    /// `engaged / population`.
    pub participation_rate: Ratio,
}

/// Participation rate of `population` in `period`.
///
/// *Definition.* Participation rate = customers of the population with at least one
/// recorded participation (an event, a community activity, a suggestion or a review)
/// in the period / customers in the population. Participations of customers outside
/// the population are ignored, so the rate stays in [0, 1]. The report uses the
/// customer base at the end of the period, as for [`engagement`](crate::metrics::engagement),
/// and, when chosen ([`EngagementBasis::ParticipationRate`]), this rate as the
/// engagement component of the loyalty index.
///
/// *Source.* The mission's §6.1 item 4 (参与度: events, community, suggestions and
/// reviews as the measure of engagement); Kumar & Reinartz (2012) on engagement
/// beyond purchases.
///
/// *Edge cases.* Empty population: [`MetricError::EmptyPopulation`](crate::metrics::MetricError::EmptyPopulation).
/// Duplicate ids in the population count once; several participations of one
/// customer make them engaged once (and all count in `participations`).
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use rust_decimal::Decimal;
/// use solocrm_core::CustomerId;
/// use solocrm_core::metrics::{participation_engagement, Period};
/// use solocrm_core::participation::{Participation, ParticipationKind};
/// let p = |customer, kind| Participation {
///     customer: CustomerId::new(customer),
///     at: Utc.with_ymd_and_hms(2026, 3, 10, 9, 0, 0).unwrap(),
///     kind,
///     note: None,
/// };
/// let population: Vec<_> = (1..=4).map(CustomerId::new).collect();
/// let log = [
///     p(1, ParticipationKind::Event),
///     p(1, ParticipationKind::Review),
///     p(3, ParticipationKind::Suggestion),
///     p(9, ParticipationKind::Community), // not in the population
/// ];
/// let e = participation_engagement(&population, &log, Period::month(2026, 3)?)?;
/// assert_eq!((e.engaged, e.participations), (2, 3));
/// assert_eq!(e.participation_rate.percent(), Decimal::from(50)); // customers 1 and 3 of 4
/// # Ok::<(), solocrm_core::metrics::MetricError>(())
/// ```
///
/// # Errors
///
/// See above.
pub fn participation_engagement(
    population: &[CustomerId],
    participations: &[Participation],
    period: Period,
) -> MetricResult<ParticipationEngagement> {
    let members: BTreeSet<CustomerId> = population.iter().copied().collect();
    let mut engaged = BTreeSet::new();
    let mut count = 0u64;
    for p in participations {
        if period.contains_instant(p.at) && members.contains(&p.customer) {
            count += 1;
            engaged.insert(p.customer);
        }
    }
    let n = members.len() as u64;
    let rate = Ratio::of(
        engaged.len() as u64,
        n,
        "participation rate",
        "no customers in the population",
    )?;
    Ok(ParticipationEngagement {
        population: n,
        engaged: engaged.len() as u64,
        participations: count,
        participation_rate: rate,
    })
}
