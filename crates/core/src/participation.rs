//! Participation: a customer taking part in an event or the community, or giving a
//! suggestion or a review — the 参与度 input of the loyalty index.
//!
//! The participation rate the loyalty index may use is
//! [`participation_engagement`](crate::metrics::participation_engagement).
//!
//! A [`Participation`] is identified by its customer, instant and kind
//! ([`ParticipationKey`]); a second one with the same key is refused.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::CustomerId;
use crate::names::named_enum;
use crate::text::FreeText;

named_enum! {
    /// What the customer took part in. Each also parses from its Chinese name (活动,
    /// 社区, 建议, 评价), see [`ParticipationKind::parse_any`].
    pub enum ParticipationKind as "participation kind" {
        /// An event: a workshop, a tasting, a launch (活动).
        Event = "event",
        /// A community activity: a user group, a forum, a WeChat group (社区).
        Community = "community",
        /// A suggestion for the business (建议).
        Suggestion = "suggestion",
        /// A review, public or private (评价).
        Review = "review",
    }
}

impl ParticipationKind {
    /// The Chinese names, in the order of [`ParticipationKind::ALL`].
    pub const CHINESE: [&'static str; 4] = ["活动", "社区", "建议", "评价"];

    /// Parses the English key (`review`) or the Chinese name (`评价`).
    ///
    /// ```
    /// use solocrm_core::participation::ParticipationKind;
    /// assert_eq!(ParticipationKind::parse_any("建议")?, ParticipationKind::Suggestion);
    /// assert_eq!(ParticipationKind::parse_any("Event")?, ParticipationKind::Event);
    /// assert!(ParticipationKind::parse_any("聚餐").is_err());
    /// # Ok::<(), solocrm_core::ValidationError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`crate::ValidationError::UnknownName`] listing the English keys.
    pub fn parse_any(input: &str) -> Result<Self, crate::ValidationError> {
        match Self::CHINESE.iter().position(|c| *c == input.trim()) {
            Some(i) => Ok(Self::ALL[i]),
            None => Self::parse(input),
        }
    }
}

/// What identifies a participation: when, who, what kind. Keys sort by time, then
/// customer, then the kind's *name* (`community` < `event` < `review` <
/// `suggestion`), the order in which the SQL stores sort the kind column, so every
/// store lists participations alike and an archive of any store imports again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ParticipationKey {
    /// When (first, so keys sort by time).
    pub at: DateTime<Utc>,
    /// The customer.
    pub customer: CustomerId,
    /// The kind.
    pub kind: ParticipationKind,
}

impl Ord for ParticipationKey {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.at, self.customer, self.kind.as_str()).cmp(&(
            other.at,
            other.customer,
            other.kind.as_str(),
        ))
    }
}

impl PartialOrd for ParticipationKey {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// A customer's participation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Participation {
    /// The customer.
    pub customer: CustomerId,
    /// When.
    pub at: DateTime<Utc>,
    /// What kind.
    pub kind: ParticipationKind,
    /// A note: the event, what they suggested, what the review said (free text about
    /// the customer, dropped by an erasure).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<FreeText>,
}

impl Participation {
    /// Its key.
    pub fn key(&self) -> ParticipationKey {
        ParticipationKey {
            at: self.at,
            customer: self.customer,
            kind: self.kind,
        }
    }

    /// Drops the note (privacy erase); kind and time stay.
    pub fn erase_text(&mut self) {
        self.note = None;
    }
}

#[cfg(test)]
mod key_order_tests {
    use super::*;

    /// The key orders kinds by name, as `ORDER BY kind` does in SQLite and PostgreSQL.
    #[test]
    fn kinds_of_one_instant_sort_by_name() {
        let at = DateTime::<Utc>::from_timestamp(1_700_000_000, 0).expect("an instant");
        let customer = CustomerId::new(1);
        let mut keys: Vec<ParticipationKey> = ParticipationKind::ALL
            .iter()
            .map(|&kind| ParticipationKey { at, customer, kind })
            .collect();
        keys.sort();
        let names: Vec<&str> = keys.iter().map(|k| k.kind.as_str()).collect();
        assert_eq!(names, ["community", "event", "review", "suggestion"]);
    }
}
