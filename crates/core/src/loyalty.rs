//! The loyalty program: membership tiers by rolling 12-month spend, and a points ledger
//! whose balance never goes below zero.
//!
//! Points are whole numbers. The ledger is append-only; each entry carries the balance
//! after it, and entries apply in the order they are recorded (not by their time), so
//! the balance check is the one the store made when the entry was posted.

use chrono::{DateTime, Months, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{Conflict, ValidationError};
use crate::ids::{CustomerId, PointsEntryId};
use crate::money::{Currency, Money};
use crate::names::named_enum;
use crate::text::{Label, Tag};

named_enum! {
    /// What a ledger entry does.
    pub enum PointsKind as "points kind" {
        /// Points earned (positive).
        Earn = "earn",
        /// Points spent on a reward (negative).
        Redeem = "redeem",
        /// Points that lapsed (negative).
        Expire = "expire",
        /// A correction either way (not zero).
        Adjust = "adjust",
    }
}

/// The largest points balance a customer can have: `i64::MAX`.
pub const MAX_POINTS_BALANCE: i64 = i64::MAX;

/// A ledger entry to be posted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewPointsEntry {
    /// The customer.
    pub customer: CustomerId,
    /// When.
    pub at: DateTime<Utc>,
    /// What it does.
    pub kind: PointsKind,
    /// The signed change of the balance.
    pub delta: i64,
    /// Why.
    pub reason: Option<Label>,
}

impl NewPointsEntry {
    /// Builds an entry of `kind` that moves the balance by `points`: earning adds
    /// `points`, redeeming and expiring take `points` away, adjusting adds a signed
    /// `points`.
    ///
    /// ```
    /// use chrono::{TimeZone, Utc};
    /// use solocrm_core::{CustomerId, NewPointsEntry, PointsKind};
    /// let at = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
    /// let redeem = NewPointsEntry::new(CustomerId::new(1), at, PointsKind::Redeem, 50)?;
    /// assert_eq!(redeem.delta, -50);
    /// assert!(NewPointsEntry::new(CustomerId::new(1), at, PointsKind::Earn, -5).is_err());
    /// # Ok::<(), solocrm_core::ValidationError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`ValidationError::PointsSign`] when `points` is zero, or negative for earn,
    /// redeem or expire.
    pub fn new(
        customer: CustomerId,
        at: DateTime<Utc>,
        kind: PointsKind,
        points: i64,
    ) -> Result<Self, ValidationError> {
        let sign_err = |expected| ValidationError::PointsSign {
            kind: kind.as_str(),
            expected,
            points,
        };
        let delta = match kind {
            PointsKind::Adjust if points == 0 => return Err(sign_err("not zero")),
            PointsKind::Adjust => points,
            _ if points <= 0 => return Err(sign_err("more than zero")),
            PointsKind::Earn => points,
            PointsKind::Redeem | PointsKind::Expire => -points,
        };
        Ok(NewPointsEntry {
            customer,
            at,
            kind,
            delta,
            reason: None,
        })
    }

    /// Adds a reason.
    #[must_use]
    pub fn with_reason(mut self, reason: Label) -> Self {
        self.reason = Some(reason);
        self
    }

    /// The balance after this entry, given the balance before.
    ///
    /// ```
    /// use chrono::{TimeZone, Utc};
    /// use solocrm_core::{CustomerId, NewPointsEntry, PointsKind};
    /// let at = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
    /// let earn = NewPointsEntry::new(CustomerId::new(1), at, PointsKind::Earn, 1)?;
    /// assert_eq!(earn.apply_to(41), Ok(42));
    /// let full = earn.apply_to(i64::MAX).unwrap_err().to_string();
    /// assert_eq!(
    ///     full,
    ///     "customer 1 has 9223372036854775807 points; adding 1 would exceed the maximum balance of 9223372036854775807 points"
    /// );
    /// # Ok::<(), solocrm_core::ValidationError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`Conflict::InsufficientPoints`] if it would go below zero;
    /// [`Conflict::PointsBalanceTooLarge`] if it would exceed [`MAX_POINTS_BALANCE`].
    pub fn apply_to(&self, balance: i64) -> Result<i64, Conflict> {
        match balance.checked_add(self.delta) {
            Some(after) if after >= 0 => Ok(after),
            None if self.delta > 0 => Err(Conflict::PointsBalanceTooLarge {
                customer: self.customer,
                balance,
                adding: self.delta,
                max: MAX_POINTS_BALANCE,
            }),
            _ => Err(Conflict::InsufficientPoints {
                customer: self.customer,
                balance,
                requested: self.delta.saturating_neg(),
            }),
        }
    }
}

/// A posted ledger entry.
///
/// Deserialising checks what [`NewPointsEntry::new`] and
/// [`NewPointsEntry::apply_to`] guarantee: the change has the sign of its kind and the
/// balance after it is not negative.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "PointsEntryRepr", into = "PointsEntryRepr")]
pub struct PointsEntry {
    id: PointsEntryId,
    #[serde(flatten)]
    fields: NewPointsEntry,
    balance_after: i64,
}

impl PointsEntry {
    /// An entry posted under `id` leaving `balance_after`. For store implementations,
    /// which compute the balance with [`NewPointsEntry::apply_to`].
    pub fn new(id: PointsEntryId, fields: NewPointsEntry, balance_after: i64) -> Self {
        PointsEntry {
            id,
            fields,
            balance_after,
        }
    }
    /// The id.
    pub fn id(&self) -> PointsEntryId {
        self.id
    }
    /// The customer.
    pub fn customer(&self) -> CustomerId {
        self.fields.customer
    }
    /// When.
    pub fn at(&self) -> DateTime<Utc> {
        self.fields.at
    }
    /// What it does.
    pub fn kind(&self) -> PointsKind {
        self.fields.kind
    }
    /// The signed change.
    pub fn delta(&self) -> i64 {
        self.fields.delta
    }
    /// Why.
    pub fn reason(&self) -> Option<&Label> {
        self.fields.reason.as_ref()
    }
    /// The balance after this entry.
    pub fn balance_after(&self) -> i64 {
        self.balance_after
    }
    /// Drops the reason (privacy erase).
    pub fn erase_text(&mut self) {
        self.fields.reason = None;
    }
}

/// The serialised form of a [`PointsEntry`]: the same fields, checked on the way in.
#[derive(Serialize, Deserialize)]
struct PointsEntryRepr {
    id: PointsEntryId,
    #[serde(flatten)]
    fields: NewPointsEntry,
    balance_after: i64,
}

impl From<PointsEntry> for PointsEntryRepr {
    fn from(e: PointsEntry) -> Self {
        PointsEntryRepr {
            id: e.id,
            fields: e.fields,
            balance_after: e.balance_after,
        }
    }
}

impl TryFrom<PointsEntryRepr> for PointsEntry {
    type Error = ValidationError;
    fn try_from(r: PointsEntryRepr) -> Result<Self, ValidationError> {
        let f = &r.fields;
        // The points as NewPointsEntry::new takes them: what redeeming or expiring takes
        // away is positive there.
        let points = match f.kind {
            PointsKind::Redeem | PointsKind::Expire => f.delta.saturating_neg(),
            PointsKind::Earn | PointsKind::Adjust => f.delta,
        };
        let checked = NewPointsEntry::new(f.customer, f.at, f.kind, points)?;
        if checked.delta != f.delta {
            // Only i64::MIN, which has no positive counterpart, gets here.
            return Err(ValidationError::PointsSign {
                kind: f.kind.as_str(),
                expected: "more than zero",
                points,
            });
        }
        if r.balance_after < 0 {
            return Err(ValidationError::OutOfRange {
                field: "points balance after the entry",
                value: r.balance_after,
                min: 0,
                max: MAX_POINTS_BALANCE,
            });
        }
        Ok(PointsEntry::new(r.id, r.fields, r.balance_after))
    }
}

/// One tier of the points program, stored with the books (`points tier set`): its
/// name and the lifetime points from which it applies (see [`lifetime_points`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PointsTier {
    /// The tier's name, e.g. `gold` or `金卡`.
    pub name: Tag,
    /// The least lifetime points for this tier, zero or more.
    pub min_points: i64,
}

/// The points program's tiers, lowest first: each customer is in the highest tier
/// whose threshold their lifetime points reach, or in none (with no tiers, or below
/// the lowest). Names and thresholds are each distinct.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PointsTiers {
    tiers: Vec<PointsTier>,
}

impl PointsTiers {
    /// The tiers in any order, sorted by threshold.
    ///
    /// # Errors
    ///
    /// [`ValidationError::Config`] for a negative threshold, or two tiers with one name
    /// or one threshold.
    pub fn new(mut tiers: Vec<PointsTier>) -> Result<Self, ValidationError> {
        tiers.sort_by(|a, b| a.min_points.cmp(&b.min_points).then(a.name.cmp(&b.name)));
        if let Some(t) = tiers.iter().find(|t| t.min_points < 0) {
            return Err(ValidationError::Config(format!(
                "tier '{}' must start at zero points or more, not {}",
                t.name, t.min_points
            )));
        }
        for pair in tiers.windows(2) {
            if pair[0].min_points == pair[1].min_points {
                return Err(ValidationError::Config(format!(
                    "tiers '{}' and '{}' both start at {} points; each tier needs its own threshold",
                    pair[0].name, pair[1].name, pair[0].min_points
                )));
            }
        }
        for (i, t) in tiers.iter().enumerate() {
            if tiers[..i].iter().any(|u| u.name == t.name) {
                return Err(ValidationError::Config(format!(
                    "tier '{}' is listed twice",
                    t.name
                )));
            }
        }
        Ok(PointsTiers { tiers })
    }

    /// The tiers, lowest threshold first.
    pub fn tiers(&self) -> &[PointsTier] {
        &self.tiers
    }

    /// True if there are no tiers.
    pub fn is_empty(&self) -> bool {
        self.tiers.is_empty()
    }

    /// The tier of a customer with `lifetime` points: the highest whose threshold it
    /// reaches; `None` below the lowest (or with no tiers).
    ///
    /// ```
    /// use solocrm_core::{PointsTier, PointsTiers, Tag};
    /// let tier = |name: &str, min_points| PointsTier { name: Tag::parse(name).unwrap(), min_points };
    /// let tiers = PointsTiers::new(vec![tier("gold", 5000), tier("bronze", 0), tier("silver", 1000)])?;
    /// assert_eq!(tiers.tier_for(999).map(|t| t.name.as_str()), Some("bronze"));
    /// assert_eq!(tiers.tier_for(1000).map(|t| t.name.as_str()), Some("silver"));
    /// assert_eq!(tiers.tier_for(70_000).map(|t| t.name.as_str()), Some("gold"));
    /// assert!(PointsTiers::default().tier_for(70_000).is_none());
    /// # Ok::<(), solocrm_core::ValidationError>(())
    /// ```
    pub fn tier_for(&self, lifetime: i64) -> Option<&PointsTier> {
        self.tiers.iter().rev().find(|t| lifetime >= t.min_points)
    }
}

/// A customer's lifetime points, what their tier is reckoned by: every point earned,
/// plus or minus every adjustment (a correction of what was earned), never below zero.
/// Redeeming and expiring do not lower it, so spending points never costs a tier.
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use solocrm_core::{CustomerId, NewPointsEntry, PointsEntry, PointsEntryId, PointsKind, lifetime_points};
/// let at = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
/// let entry = |id, kind, n, after| {
///     PointsEntry::new(PointsEntryId::new(id), NewPointsEntry::new(CustomerId::new(1), at, kind, n).unwrap(), after)
/// };
/// let ledger = [
///     entry(1, PointsKind::Earn, 1200, 1200),
///     entry(2, PointsKind::Redeem, 1000, 200),
///     entry(3, PointsKind::Adjust, -100, 100),
///     entry(4, PointsKind::Expire, 100, 0),
/// ];
/// assert_eq!(lifetime_points(&ledger), 1100);
/// ```
pub fn lifetime_points(ledger: &[PointsEntry]) -> i64 {
    ledger
        .iter()
        .filter(|e| matches!(e.kind(), PointsKind::Earn | PointsKind::Adjust))
        .fold(0_i64, |sum, e| sum.saturating_add(e.delta()))
        .max(0)
}

/// One membership tier: its name and the rolling 12-month spend from which it applies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tier {
    /// The tier's name.
    pub name: Label,
    /// The least rolling 12-month spend for this tier.
    pub min_spend: Money,
}

/// Membership tiers by rolling 12-month spend.
///
/// ```
/// use solocrm_core::{Currency, Money, TierRules};
/// let rules = TierRules::default_for(Currency::EUR);
/// let tier = rules.tier_for(Money::from_minor(60_000, Currency::EUR))?;
/// assert_eq!(tier.name.as_str(), "silver");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// Deserialising checks the tiers like [`TierRules::new`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "TierRulesRepr", into = "TierRulesRepr")]
pub struct TierRules {
    tiers: Vec<Tier>,
}

/// The serialised form of [`TierRules`].
#[derive(Serialize, Deserialize)]
struct TierRulesRepr {
    tiers: Vec<Tier>,
}

impl TryFrom<TierRulesRepr> for TierRules {
    type Error = ValidationError;
    fn try_from(r: TierRulesRepr) -> Result<Self, ValidationError> {
        TierRules::new(r.tiers)
    }
}

impl From<TierRules> for TierRulesRepr {
    fn from(t: TierRules) -> Self {
        TierRulesRepr { tiers: t.tiers }
    }
}

impl TierRules {
    /// Tiers from lowest to highest. The first must start at zero and the thresholds
    /// must rise strictly, all in one currency.
    ///
    /// # Errors
    ///
    /// [`ValidationError::Config`] otherwise.
    pub fn new(tiers: Vec<Tier>) -> Result<Self, ValidationError> {
        let first = tiers
            .first()
            .ok_or_else(|| ValidationError::Config("a tier list needs at least one tier".into()))?;
        if !first.min_spend.is_zero() {
            return Err(ValidationError::Config(format!(
                "the first tier '{}' must start at zero spend",
                first.name
            )));
        }
        for pair in tiers.windows(2) {
            let (lo, hi) = (&pair[0], &pair[1]);
            let rises = hi
                .min_spend
                .checked_sub(lo.min_spend)
                .is_ok_and(|d| !d.is_negative() && !d.is_zero());
            if !rises {
                return Err(ValidationError::Config(format!(
                    "tier '{}' must start above tier '{}', in the same currency",
                    hi.name, lo.name
                )));
            }
        }
        Ok(TierRules { tiers })
    }

    /// Bronze from 0, silver from 500, gold from 2,000 (in `currency`'s major units).
    pub fn default_for(currency: Currency) -> Self {
        let tier = |name: &'static str, major: i64| Tier {
            name: Label::placeholder(name),
            min_spend: Money::new(major.into(), currency),
        };
        TierRules {
            tiers: vec![tier("bronze", 0), tier("silver", 500), tier("gold", 2000)],
        }
    }

    /// The tiers, lowest first.
    pub fn tiers(&self) -> &[Tier] {
        &self.tiers
    }

    /// The highest tier whose threshold `spend` reaches.
    ///
    /// # Errors
    ///
    /// [`ValidationError::CurrencyMismatch`] if `spend` is in another currency.
    pub fn tier_for(&self, spend: Money) -> Result<&Tier, ValidationError> {
        let mut best = &self.tiers[0];
        for t in &self.tiers {
            let reached =
                spend
                    .checked_sub(t.min_spend)
                    .map_err(|_| ValidationError::CurrencyMismatch {
                        field: "spend",
                        expected: t.min_spend.currency(),
                        found: spend.currency(),
                    })?;
            if !reached.is_negative() {
                best = t;
            }
        }
        Ok(best)
    }
}

/// The rolling 12-month window ending at `as_of`: `(as_of − 12 months, as_of]`.
pub fn rolling_year(as_of: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
    let start = as_of
        .checked_sub_months(Months::new(12))
        .unwrap_or(DateTime::<Utc>::MIN_UTC);
    (start, as_of)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn a_redeem_beyond_the_balance_is_refused_with_both_numbers() {
        let at = Utc
            .with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
            .single()
            .expect("valid");
        let e = NewPointsEntry::new(CustomerId::new(3), at, PointsKind::Redeem, 80).expect("valid");
        assert_eq!(e.apply_to(100), Ok(20));
        let err = e.apply_to(50).unwrap_err();
        assert_eq!(
            err.to_string(),
            "customer 3 has 50 points; cannot take away 80"
        );
    }

    /// `points earn` at the maximum balance said "cannot take away -1".
    #[test]
    fn earning_beyond_the_maximum_balance_says_so() {
        let at = Utc
            .with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
            .single()
            .expect("valid");
        for (kind, points) in [(PointsKind::Earn, 1), (PointsKind::Adjust, i64::MAX)] {
            let e = NewPointsEntry::new(CustomerId::new(3), at, kind, points).expect("valid");
            let err = e.apply_to(MAX_POINTS_BALANCE).unwrap_err();
            assert!(matches!(err, Conflict::PointsBalanceTooLarge { .. }));
            let msg = err.to_string();
            assert!(msg.contains("would exceed the maximum balance"), "{msg}");
            assert!(!msg.contains("take away"), "{msg}");
        }
        let down = NewPointsEntry::new(CustomerId::new(3), at, PointsKind::Adjust, i64::MIN)
            .expect("valid");
        assert!(matches!(
            down.apply_to(0),
            Err(Conflict::InsufficientPoints { .. })
        ));
    }

    #[test]
    fn tier_rules_reject_unsorted_thresholds() {
        let t = |n: &str, m: i64| Tier {
            name: Label::parse(n).expect("valid"),
            min_spend: Money::from_minor(m, Currency::EUR),
        };
        assert!(TierRules::new(vec![t("a", 0), t("b", 100)]).is_ok());
        assert!(TierRules::new(vec![t("a", 0), t("b", 100), t("c", 100)]).is_err());
        assert!(TierRules::new(vec![t("a", 5)]).is_err());
        assert!(TierRules::new(vec![]).is_err());
    }

    proptest::proptest! {
        /// Posting random entries through `apply_to`, keeping only accepted ones, never
        /// drives the balance below zero, and the balance is the sum of accepted deltas.
        #[test]
        fn the_points_balance_never_goes_negative(
            ops in proptest::collection::vec((0usize..4, -1_000i64..1_000), 0..200),
        ) {
            let at = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).single().expect("valid");
            let mut balance = 0i64;
            let mut accepted = 0i64;
            for (kind, points) in ops {
                let kind = PointsKind::ALL[kind];
                let Ok(entry) = NewPointsEntry::new(CustomerId::new(1), at, kind, points) else {
                    continue;
                };
                match entry.apply_to(balance) {
                    Ok(after) => {
                        proptest::prop_assert_eq!(after, balance + entry.delta);
                        balance = after;
                        accepted += entry.delta;
                    }
                    Err(Conflict::InsufficientPoints { balance: b, .. }) => {
                        proptest::prop_assert_eq!(b, balance);
                        proptest::prop_assert!(balance + entry.delta < 0);
                    }
                    Err(other) => proptest::prop_assert!(false, "unexpected {other}"),
                }
                proptest::prop_assert!(balance >= 0);
            }
            proptest::prop_assert_eq!(balance, accepted);
        }
    }

    #[test]
    fn default_tiers_are_valid() {
        let d = TierRules::default_for(Currency::EUR);
        assert_eq!(TierRules::new(d.tiers().to_vec()), Ok(d));
    }
}
