//! Needs and pain points: structured, tag-like entries on a customer or one of their
//! deals (what they need, what hurts them), usable in segments (`need = "…"`,
//! `pain_point = "…"`).
//!
//! A [`Need`] has a kind ([`NeedKind`]), a key ([`Tag`], e.g. `fast-delivery` or
//! `价格敏感`), the customer, optionally the deal it belongs to, optionally a note (free
//! text about the customer, dropped by an erasure), the instant it was recorded and,
//! once dealt with, the instant it was resolved. A resolved entry stays in the books
//! (its history matters: when did the pain stop) but no longer matches a segment. An
//! entry recorded by mistake is voided (ADR 0011): it stays, and counts nowhere.
//!
//! An entry is **open at** an instant `t` when it was recorded at or before `t`, is not
//! resolved at or before `t`, and is not voided ([`Need::is_open_at`]).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::{CustomerId, DealId};
use crate::names::named_enum;
use crate::text::{FreeText, Tag};

pub use crate::ids::NeedId;

named_enum! {
    /// Whether an entry is something the customer needs or something that hurts them.
    /// Each also parses from its Chinese name (需求, 痛点) and `pain-point`, see
    /// [`NeedKind::parse_any`].
    pub enum NeedKind as "need kind" {
        /// Something the customer needs or wants (需求).
        Need = "need",
        /// Something that hurts the customer, a problem to solve (痛点).
        PainPoint = "pain_point",
    }
}

impl NeedKind {
    /// The Chinese names, in the order of [`NeedKind::ALL`].
    pub const CHINESE: [&'static str; 2] = ["需求", "痛点"];

    /// Parses the English key (`pain_point`, also `pain-point`) or the Chinese name
    /// (`痛点`).
    ///
    /// ```
    /// use solocrm_core::need::NeedKind;
    /// assert_eq!(NeedKind::parse_any("痛点")?, NeedKind::PainPoint);
    /// assert_eq!(NeedKind::parse_any("pain-point")?, NeedKind::PainPoint);
    /// assert_eq!(NeedKind::parse_any("need")?, NeedKind::Need);
    /// assert!(NeedKind::parse_any("wish").is_err());
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

/// What is needed to record a need or pain point; the store assigns the id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewNeed {
    /// The customer.
    pub customer: CustomerId,
    /// The deal it belongs to, if any (a deal of the same customer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deal: Option<DealId>,
    /// Need or pain point.
    pub kind: NeedKind,
    /// What: a tag-like key (`fast-delivery`, `价格敏感`).
    pub key: Tag,
    /// A note: free text about the customer, dropped by an erasure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<FreeText>,
    /// When it was recorded (learned).
    pub at: DateTime<Utc>,
}

/// A need or pain point of a customer, or of one of their deals.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Need {
    /// Its id.
    pub id: NeedId,
    /// The customer.
    pub customer: CustomerId,
    /// The deal it belongs to, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deal: Option<DealId>,
    /// Need or pain point.
    pub kind: NeedKind,
    /// What: a tag-like key.
    pub key: Tag,
    /// A note (free text about the customer, dropped by an erasure).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<FreeText>,
    /// When it was recorded.
    pub at: DateTime<Utc>,
    /// When it was resolved (met, solved); `None` while open.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolved_at: Option<DateTime<Utc>>,
    /// When it was voided as a mistake; a voided entry counts nowhere.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voided_at: Option<DateTime<Utc>>,
}

impl Need {
    /// A new, open entry with this id.
    pub fn new(id: NeedId, new: NewNeed) -> Self {
        Need {
            id,
            customer: new.customer,
            deal: new.deal,
            kind: new.kind,
            key: new.key,
            note: new.note,
            at: new.at,
            resolved_at: None,
            voided_at: None,
        }
    }

    /// Whether the entry is open at `t`: recorded at or before `t`, not resolved at or
    /// before `t`, not voided (a void corrects a mistake whenever it was made).
    ///
    /// ```
    /// use chrono::{Duration, TimeZone, Utc};
    /// use solocrm_core::need::{Need, NeedId, NeedKind, NewNeed};
    /// use solocrm_core::{CustomerId, Tag};
    /// let at = Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).unwrap();
    /// let mut n = Need::new(NeedId::new(1), NewNeed {
    ///     customer: CustomerId::new(7),
    ///     deal: None,
    ///     kind: NeedKind::PainPoint,
    ///     key: Tag::parse("价格敏感")?,
    ///     note: None,
    ///     at,
    /// });
    /// assert!(!n.is_open_at(at - Duration::seconds(1)));
    /// assert!(n.is_open_at(at));
    /// n.resolved_at = Some(at + Duration::days(10));
    /// assert!(n.is_open_at(at + Duration::days(9)));
    /// assert!(!n.is_open_at(at + Duration::days(10)));
    /// # Ok::<(), solocrm_core::ValidationError>(())
    /// ```
    pub fn is_open_at(&self, t: DateTime<Utc>) -> bool {
        self.voided_at.is_none() && self.at <= t && self.resolved_at.is_none_or(|r| r > t)
    }

    /// Whether the entry is open now (not resolved, not voided), whatever its time.
    pub fn is_open(&self) -> bool {
        self.voided_at.is_none() && self.resolved_at.is_none()
    }

    /// Drops the note (privacy erase); kind, key, deal and times stay.
    pub fn erase_text(&mut self) {
        self.note = None;
    }
}

/// Whether one of `needs` of `kind` with `key` is open at `t` (what the segment fields
/// `need = "…"` and `pain_point = "…"` ask).
pub fn has_open(needs: &[Need], kind: NeedKind, key: &Tag, t: DateTime<Utc>) -> bool {
    needs
        .iter()
        .any(|n| n.kind == kind && &n.key == key && n.is_open_at(t))
}

/// One row of [`open_counts`]: how many open entries of a kind and key there are, and
/// for how many distinct customers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NeedCount {
    /// Need or pain point.
    pub kind: NeedKind,
    /// The key.
    pub key: Tag,
    /// Open entries.
    pub entries: u64,
    /// Distinct customers with at least one of them.
    pub customers: u64,
}

/// Counts the entries open at `t` by kind and key: "what hurts our customers most".
/// Sorted by customers (most first), then entries (most first), then kind and key.
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use solocrm_core::need::{Need, NeedId, NeedKind, NewNeed, open_counts};
/// use solocrm_core::{CustomerId, Tag};
/// let at = Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).unwrap();
/// let entry = |id, customer, key: &str| Need::new(NeedId::new(id), NewNeed {
///     customer: CustomerId::new(customer),
///     deal: None,
///     kind: NeedKind::PainPoint,
///     key: Tag::parse(key).unwrap(),
///     note: None,
///     at,
/// });
/// let needs = [entry(1, 1, "慢发货"), entry(2, 1, "慢发货"), entry(3, 2, "慢发货"), entry(4, 2, "price")];
/// let counts = open_counts(&needs, at);
/// assert_eq!((counts[0].key.as_str(), counts[0].entries, counts[0].customers), ("慢发货", 3, 2));
/// assert_eq!((counts[1].key.as_str(), counts[1].entries, counts[1].customers), ("price", 1, 1));
/// ```
pub fn open_counts(needs: &[Need], t: DateTime<Utc>) -> Vec<NeedCount> {
    use std::collections::{BTreeMap, BTreeSet};
    let mut by: BTreeMap<(NeedKind, &Tag), (u64, BTreeSet<CustomerId>)> = BTreeMap::new();
    for n in needs.iter().filter(|n| n.is_open_at(t)) {
        let e = by.entry((n.kind, &n.key)).or_default();
        e.0 += 1;
        e.1.insert(n.customer);
    }
    let mut out: Vec<NeedCount> = by
        .into_iter()
        .map(|((kind, key), (entries, customers))| NeedCount {
            kind,
            key: key.clone(),
            entries,
            customers: customers.len() as u64,
        })
        .collect();
    out.sort_by(|a, b| {
        b.customers
            .cmp(&a.customers)
            .then(b.entries.cmp(&a.entries))
            .then(a.kind.cmp(&b.kind))
            .then(a.key.cmp(&b.key))
    });
    out
}
