//! The loyalty program: membership tiers by rolling 12-month spend, and a points ledger
//! whose balance never goes below zero.
//!
//! Points are whole numbers. The ledger is append-only; each entry carries the balance
//! after it, and entries apply in the order they are recorded (not by their time), so
//! the balance check is the one the store made when the entry was posted.

use std::fmt;

use chrono::{DateTime, Datelike, Months, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{Conflict, ValidationError};
use crate::ids::{CustomerId, PointsEntryId};
use crate::money::{Currency, Money};
use crate::names::named_enum;
use crate::text::{Label, Tag};
use crate::zone::BusinessZone;

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

/// The longest validity a points program may set: ten years, in months.
pub const MAX_VALID_MONTHS: u32 = 120;

/// How long earned points stay valid, a setting of the books (`settings set
/// --points-validity`): `months` months from the business day they were earned. Points
/// earned before the policy's first day `from` count as earned on `from`, so switching
/// expiry on never takes points away retroactively. Books without it (the default)
/// keep points forever.
///
/// Deserialising checks the months like [`PointsExpiry::new`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "PointsExpiryRepr", into = "PointsExpiryRepr")]
pub struct PointsExpiry {
    months: u32,
    from: NaiveDate,
}

/// The serialised form of [`PointsExpiry`].
#[derive(Serialize, Deserialize)]
struct PointsExpiryRepr {
    months: u32,
    from: NaiveDate,
}

impl TryFrom<PointsExpiryRepr> for PointsExpiry {
    type Error = ValidationError;
    fn try_from(r: PointsExpiryRepr) -> Result<Self, ValidationError> {
        PointsExpiry::new(r.months, r.from)
    }
}

impl From<PointsExpiry> for PointsExpiryRepr {
    fn from(e: PointsExpiry) -> Self {
        PointsExpiryRepr {
            months: e.months,
            from: e.from,
        }
    }
}

impl PointsExpiry {
    /// Points valid for `months` months (1 to [`MAX_VALID_MONTHS`]), counted for
    /// points earned before `from` as if earned on `from`.
    ///
    /// # Errors
    ///
    /// [`ValidationError::OutOfRange`] for months outside 1 to [`MAX_VALID_MONTHS`],
    /// or a first day outside the years 1 to 9999.
    pub fn new(months: u32, from: NaiveDate) -> Result<Self, ValidationError> {
        if !(1..=MAX_VALID_MONTHS).contains(&months) {
            return Err(ValidationError::OutOfRange {
                field: "points validity in months",
                value: i64::from(months),
                min: 1,
                max: i64::from(MAX_VALID_MONTHS),
            });
        }
        if !(1..=9999).contains(&from.year()) {
            return Err(ValidationError::OutOfRange {
                field: "year of the points validity's first day",
                value: i64::from(from.year()),
                min: 1,
                max: 9999,
            });
        }
        Ok(PointsExpiry { months, from })
    }

    /// How many months points stay valid.
    pub fn months(&self) -> u32 {
        self.months
    }

    /// The policy's first day: earlier points count as earned on it.
    pub fn from(&self) -> NaiveDate {
        self.from
    }

    /// The lapse day of points earned on the business day `earned_on`: the day
    /// [`months`](Self::months) months after `max(earned_on, from)`, on the same day of
    /// the month, or on the month's last day when it is shorter (earned on January 31,
    /// one month: February 28, or 29 in a leap year). The points can be used through
    /// the day before and lapse when the lapse day begins in the business time zone.
    ///
    /// ```
    /// use chrono::NaiveDate;
    /// use solocrm_core::PointsExpiry;
    /// let d = |s: &str| s.parse::<NaiveDate>().unwrap();
    /// let year = PointsExpiry::new(12, d("2020-01-01"))?;
    /// // Earned on a leap day: the next year has no February 29.
    /// assert_eq!(year.lapse_day(d("2024-02-29")), d("2025-02-28"));
    /// let month = PointsExpiry::new(1, d("2020-01-01"))?;
    /// assert_eq!(month.lapse_day(d("2028-01-31")), d("2028-02-29"));
    /// // Earned before the policy began: counted from its first day.
    /// let late = PointsExpiry::new(6, d("2026-03-15"))?;
    /// assert_eq!(late.lapse_day(d("2019-07-01")), d("2026-09-15"));
    /// # Ok::<(), solocrm_core::ValidationError>(())
    /// ```
    pub fn lapse_day(&self, earned_on: NaiveDate) -> NaiveDate {
        earned_on
            .max(self.from)
            .checked_add_months(Months::new(self.months))
            .unwrap_or(NaiveDate::MAX)
    }

    /// The last business day whose points lapse by `through`: every lot earned on it
    /// or before has a [`lapse_day`](Self::lapse_day) on or before `through`, every
    /// lot earned after it a later one; `None` if no lot lapses by then.
    ///
    /// **Definition.** The largest `d` with `lapse_day(d) <= through`. It exists
    /// because the lapse day never decreases with the day earned (a later earn never
    /// lapses earlier), which is also why the lots lapsing by a day are always the
    /// oldest ones: a read of the lots earned through this day (an index range) finds
    /// exactly the lots that lapse by `through`.
    ///
    /// **Edge cases.** Before [`from`](Self::from) every day has the lapse day of
    /// `from`, so when that is on or before `through` the answer is at least `from`,
    /// and when it is after `through` there is none. Month ends: with one month,
    /// January 29, 30 and 31 all lapse on February 28 (29 in a leap year), so
    /// `through` = February 28 gives January 31.
    ///
    /// ```
    /// use chrono::NaiveDate;
    /// use solocrm_core::PointsExpiry;
    /// let d = |s: &str| s.parse::<NaiveDate>().unwrap();
    /// let month = PointsExpiry::new(1, d("2020-01-01"))?;
    /// assert_eq!(month.last_earned_lapsing_by(d("2027-02-28")), Some(d("2027-01-31")));
    /// assert_eq!(month.last_earned_lapsing_by(d("2027-03-15")), Some(d("2027-02-15")));
    /// // Nothing lapses before the policy's first day plus its months.
    /// assert_eq!(month.last_earned_lapsing_by(d("2020-01-31")), None);
    /// assert_eq!(month.last_earned_lapsing_by(d("2020-02-01")), Some(d("2020-01-01")));
    /// # Ok::<(), solocrm_core::ValidationError>(())
    /// ```
    pub fn last_earned_lapsing_by(&self, through: NaiveDate) -> Option<NaiveDate> {
        if self.lapse_day(self.from) > through {
            return None;
        }
        // A guess within a few days of the answer, then steps to it: `lapse_day` is
        // monotone, and months shift a day by at most three days at month ends.
        let mut d = through
            .checked_sub_months(Months::new(self.months))
            .unwrap_or(NaiveDate::MIN)
            .max(self.from);
        // (Bounded: near the calendar's ends `lapse_day` saturates.)
        for _ in 0..31 {
            if d > self.from && self.lapse_day(d) > through {
                d = d.pred_opt()?;
            }
        }
        for _ in 0..31 {
            match d.succ_opt() {
                Some(next) if self.lapse_day(next) <= through => d = next,
                _ => break,
            }
        }
        Some(d)
    }
}

impl fmt::Display for PointsExpiry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} months (from {})", self.months, self.from)
    }
}

/// What is left of the points one credit (an earn entry, or an adjustment up) added:
/// an open lot of the first-in-first-out ledger (see [`open_lots`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PointsLot {
    /// The entry that added the points.
    pub entry: PointsEntryId,
    /// The business day it was dated on.
    pub earned_on: NaiveDate,
    /// The points of it not yet spent, expired or corrected away (more than zero).
    pub points: i64,
    /// The day they lapse ([`PointsExpiry::lapse_day`]); `None` when points do not
    /// expire.
    pub lapses_on: Option<NaiveDate>,
}

/// Points that lapse together: every open lot with one lapse day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Lapse {
    /// The lapse day.
    pub day: NaiveDate,
    /// How many points lapse on it.
    pub points: i64,
}

/// The open lots of a customer's points ledger, oldest first, with their lapse days.
///
/// **Definition.** Every credit — an earn entry, or an adjustment up — opens a lot
/// dated on its business day in `zone`. Every debit — a redemption, an expiry (a
/// lapse this function computed and the runner posted, or one recorded by hand), an
/// adjustment down — takes its points from the open lots first in, first out: the lot
/// with the earliest day first, among lots of one day the one recorded first. Entries
/// apply in the order they were recorded (`ledger` in id order, as the store keeps
/// it), the order the store checked the balance in. A lot's lapse day is
/// [`PointsExpiry::lapse_day`] of its day, or `None` without `expiry`.
///
/// Because the lapse day only grows with the day earned, the lots due to lapse are
/// always the first ones, and an expiry entry of the due points takes exactly them:
/// after it, nothing is due any more, which is what makes posting the lapses
/// idempotent (see [`due_lapses`]).
///
/// **Edge cases.** An empty ledger has no lots. A debit recorded after a lot's lapse
/// day but before its lapse was posted still takes that lot first (the founder
/// honoured the points). A debit beyond every open lot (impossible for a ledger the
/// store checked) empties them and the rest is ignored. The sum of the lots is the
/// balance after the last entry.
///
/// **Source.** First-in-first-out consumption with a fixed validity per earning is
/// the usual rule of retail loyalty programmes (airline and retailer terms: "points
/// expire N months after they were earned; the oldest points are used first").
///
/// ```
/// use chrono::{NaiveDate, TimeZone, Utc};
/// use solocrm_core::{
///     BusinessZone, CustomerId, NewPointsEntry, PointsEntry, PointsEntryId, PointsExpiry,
///     PointsKind, due_lapses, open_lots,
/// };
/// let zone = BusinessZone::parse("Asia/Shanghai")?;
/// let d = |s: &str| s.parse::<NaiveDate>().unwrap();
/// // 李雷 earns 100 on 2024-02-29 (Beijing time), 50 on 2024-03-10, redeems 120.
/// let at = |day: &str| zone.start_of(d(day));
/// let mut balance = 0;
/// let mut ledger = Vec::new();
/// for (id, (day, kind, n)) in [
///     ("2024-02-29", PointsKind::Earn, 100),
///     ("2024-03-10", PointsKind::Earn, 50),
///     ("2024-06-01", PointsKind::Redeem, 120),
/// ]
/// .into_iter()
/// .enumerate()
/// {
///     let e = NewPointsEntry::new(CustomerId::new(1), at(day), kind, n)?;
///     balance = e.apply_to(balance)?;
///     ledger.push(PointsEntry::new(PointsEntryId::new(id as u64 + 1), e, balance));
/// }
/// let expiry = PointsExpiry::new(12, d("2024-01-01"))?;
/// let lots = open_lots(&ledger, zone, Some(&expiry));
/// // The redemption used all of the oldest lot and 20 of the next one.
/// assert_eq!(lots.len(), 1);
/// assert_eq!((lots[0].earned_on, lots[0].points), (d("2024-03-10"), 30));
/// assert_eq!(lots[0].lapses_on, Some(d("2025-03-10")));
/// // On 2025-03-09 nothing is due; on 2025-03-10 the 30 points lapse.
/// assert!(due_lapses(&lots, d("2025-03-09")).is_empty());
/// let due = due_lapses(&lots, d("2025-03-10"));
/// assert_eq!((due[0].day, due[0].points), (d("2025-03-10"), 30));
/// // Without an expiry the same lot never lapses.
/// assert_eq!(open_lots(&ledger, zone, None)[0].lapses_on, None);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn open_lots(
    ledger: &[PointsEntry],
    zone: BusinessZone,
    expiry: Option<&PointsExpiry>,
) -> Vec<PointsLot> {
    let mut lots: Vec<PointsLot> = Vec::new();
    for e in ledger {
        let delta = e.delta();
        if delta > 0 {
            let earned_on = zone.date_of(e.at());
            let lot = PointsLot {
                entry: e.id(),
                earned_on,
                points: delta,
                lapses_on: expiry.map(|x| x.lapse_day(earned_on)),
            };
            // After every lot of the same day or earlier: one day keeps record order.
            let at = lots.partition_point(|l| l.earned_on <= earned_on);
            lots.insert(at, lot);
        } else {
            let mut owed = delta.saturating_neg();
            let mut used = 0;
            for lot in &mut lots {
                if owed == 0 {
                    break;
                }
                let take = lot.points.min(owed);
                lot.points -= take;
                owed -= take;
                if lot.points == 0 {
                    used += 1;
                }
            }
            lots.drain(..used);
        }
    }
    lots
}

/// Every future and past lapse of `lots` (from [`open_lots`]), one per lapse day,
/// earliest first; lots without a lapse day are left out.
pub fn lapse_schedule(lots: &[PointsLot]) -> Vec<Lapse> {
    let mut out: Vec<Lapse> = Vec::new();
    for lot in lots {
        let Some(day) = lot.lapses_on else { continue };
        match out.iter_mut().find(|l| l.day == day) {
            Some(l) => l.points = l.points.saturating_add(lot.points),
            None => out.push(Lapse {
                day,
                points: lot.points,
            }),
        }
    }
    out.sort_by_key(|l| l.day);
    out
}

/// The lapses of `lots` due by the end of `through`: lapse day on or before it, one
/// per day, earliest first. Posting each as an expiry entry dated on its day (in that
/// order) leaves no lapse due, so running it again finds nothing.
pub fn due_lapses(lots: &[PointsLot], through: NaiveDate) -> Vec<Lapse> {
    lapse_schedule(lots)
        .into_iter()
        .filter(|l| l.day <= through)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    /// Against the definition, day by day: across month ends, a leap year and the
    /// policy's first day, for 1, 3 and 12 months.
    #[test]
    fn the_last_day_earned_lapsing_by_a_day_is_the_largest_such_day() {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).expect("a day");
        for months in [1, 3, 12] {
            let expiry = PointsExpiry::new(months, d(2024, 1, 15)).expect("valid");
            let mut through = d(2024, 1, 1);
            while through < d(2026, 6, 1) {
                // The largest earned day in a wide range whose lapse is by `through`.
                let mut expected = None;
                let mut e = d(2023, 6, 1);
                while e <= through {
                    if expiry.lapse_day(e) <= through {
                        expected = Some(e);
                    }
                    e = e.succ_opt().expect("a day");
                }
                assert_eq!(
                    expiry.last_earned_lapsing_by(through),
                    expected,
                    "{months} months, through {through}"
                );
                through = through.succ_opt().expect("a day");
            }
        }
    }

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

    fn shanghai() -> BusinessZone {
        BusinessZone::parse("Asia/Shanghai").expect("a zone")
    }

    fn day(s: &str) -> NaiveDate {
        s.parse().expect("a date")
    }

    /// Posts `kind` of `points` at `at` if the balance allows, as a store would.
    fn post(
        ledger: &mut Vec<PointsEntry>,
        at: DateTime<Utc>,
        kind: PointsKind,
        points: i64,
    ) -> bool {
        let Ok(e) = NewPointsEntry::new(CustomerId::new(1), at, kind, points) else {
            return false;
        };
        let balance = ledger.last().map_or(0, PointsEntry::balance_after);
        let Ok(after) = e.apply_to(balance) else {
            return false;
        };
        let id = PointsEntryId::new(ledger.len() as u64 + 1);
        ledger.push(PointsEntry::new(id, e, after));
        true
    }

    #[test]
    fn points_lapse_on_the_business_day_across_a_leap_day_and_month_ends() {
        let zone = shanghai();
        let mut ledger = Vec::new();
        // 2024-02-29 17:00 UTC is already March 1 in Beijing.
        let late = Utc
            .with_ymd_and_hms(2024, 2, 29, 17, 0, 0)
            .single()
            .expect("valid");
        assert!(post(&mut ledger, late, PointsKind::Earn, 80));
        // 2024-02-29 08:00 UTC is the leap day itself in Beijing.
        let leap = Utc
            .with_ymd_and_hms(2024, 2, 29, 8, 0, 0)
            .single()
            .expect("valid");
        assert!(post(&mut ledger, leap, PointsKind::Earn, 30));
        // Earned on January 31: one month later is February's last day.
        let jan = zone.start_of(day("2024-01-31"));
        assert!(post(&mut ledger, jan, PointsKind::Earn, 5));
        let year = PointsExpiry::new(12, day("2023-01-01")).expect("valid");
        let lots = open_lots(&ledger, zone, Some(&year));
        let got: Vec<_> = lots
            .iter()
            .map(|l| (l.earned_on, l.points, l.lapses_on))
            .collect();
        assert_eq!(
            got,
            vec![
                (day("2024-01-31"), 5, Some(day("2025-01-31"))),
                (day("2024-02-29"), 30, Some(day("2025-02-28"))),
                (day("2024-03-01"), 80, Some(day("2025-03-01"))),
            ]
        );
        let month = PointsExpiry::new(1, day("2023-01-01")).expect("valid");
        let lots = open_lots(&ledger, zone, Some(&month));
        assert_eq!(lots[0].lapses_on, Some(day("2024-02-29")));
        assert_eq!(lots[1].lapses_on, Some(day("2024-03-29")));
        // A redemption of 20 takes the 5 of January and 15 of the leap day.
        assert!(post(&mut ledger, leap, PointsKind::Redeem, 20));
        let lots = open_lots(&ledger, zone, Some(&year));
        assert_eq!(lots.len(), 2);
        assert_eq!((lots[0].earned_on, lots[0].points), (day("2024-02-29"), 15));
        assert_eq!(
            due_lapses(&lots, day("2025-03-01")),
            vec![
                Lapse {
                    day: day("2025-02-28"),
                    points: 15
                },
                Lapse {
                    day: day("2025-03-01"),
                    points: 80
                },
            ]
        );
        assert!(due_lapses(&lots, day("2025-02-27")).is_empty());
    }

    #[test]
    fn a_validity_is_one_to_a_hundred_and_twenty_months() {
        assert!(PointsExpiry::new(0, day("2026-01-01")).is_err());
        assert!(PointsExpiry::new(121, day("2026-01-01")).is_err());
        let ok = PointsExpiry::new(120, day("2026-01-01")).expect("valid");
        let json = serde_json::to_string(&ok).expect("json");
        assert_eq!(json, r#"{"months":120,"from":"2026-01-01"}"#);
        assert_eq!(
            serde_json::from_str::<PointsExpiry>(&json).expect("back"),
            ok
        );
        assert!(
            serde_json::from_str::<PointsExpiry>(r#"{"months":0,"from":"2026-01-01"}"#).is_err()
        );
    }

    proptest::proptest! {
        /// A customer's ledger over three years (through the leap day of 2024), with a
        /// runner that posts the due lapses on each day something happens: the balance
        /// never goes negative; the open lots are oldest first, every lot but the
        /// first whole (first in, first out), and sum to the balance once the due
        /// lapses are posted; the lapsing points never exceed the balance; a second
        /// pass on the same day finds nothing due; without an expiry nothing lapses.
        #[test]
        fn fifo_lots_sum_to_the_balance_and_lapse_once(
            months in proptest::option::of(1u32..=24),
            ops in proptest::collection::vec((0u64..45, 0usize..4, 1i64..500), 0..60),
        ) {
            let zone = shanghai();
            let start = day("2023-12-20");
            let expiry = months.map(|m| PointsExpiry::new(m, start).expect("valid"));
            let mut ledger: Vec<PointsEntry> = Vec::new();
            let mut today = start;
            for (step, kind, points) in ops {
                today = today.checked_add_days(chrono::Days::new(step)).expect("a day");
                // The runner of `today`.
                let lots = open_lots(&ledger, zone, expiry.as_ref());
                let balance = ledger.last().map_or(0, PointsEntry::balance_after);
                proptest::prop_assert_eq!(lots.iter().map(|l| l.points).sum::<i64>(), balance);
                let due = due_lapses(&lots, today);
                proptest::prop_assert!(due.iter().map(|l| l.points).sum::<i64>() <= balance);
                for lapse in &due {
                    proptest::prop_assert!(lapse.day <= today && lapse.points > 0);
                    let posted = post(&mut ledger, zone.start_of(lapse.day), PointsKind::Expire, lapse.points);
                    proptest::prop_assert!(posted);
                }
                let lots = open_lots(&ledger, zone, expiry.as_ref());
                proptest::prop_assert!(due_lapses(&lots, today).is_empty());
                let balance = ledger.last().map_or(0, PointsEntry::balance_after);
                proptest::prop_assert_eq!(lots.iter().map(|l| l.points).sum::<i64>(), balance);
                proptest::prop_assert!(lots.windows(2).all(|w| w[0].earned_on <= w[1].earned_on));
                for lot in lots.iter().skip(1) {
                    let credit = ledger.iter().find(|e| e.id() == lot.entry).expect("its entry");
                    proptest::prop_assert_eq!(credit.delta(), lot.points);
                }
                // The day's own entry, at noon Beijing time.
                let at = zone.start_of(today) + chrono::Duration::hours(12);
                let (kind, points) = match kind {
                    0 => (PointsKind::Earn, points),
                    1 => (PointsKind::Redeem, points.min(balance.max(1))),
                    2 => (PointsKind::Adjust, points),
                    _ => (PointsKind::Adjust, -points),
                };
                post(&mut ledger, at, kind, points);
                proptest::prop_assert!(ledger.last().map_or(0, PointsEntry::balance_after) >= 0);
            }
            if expiry.is_none() {
                proptest::prop_assert!(ledger.iter().all(|e| e.kind() != PointsKind::Expire));
            }
        }
    }

    #[test]
    fn default_tiers_are_valid() {
        let d = TierRules::default_for(Currency::EUR);
        assert_eq!(TierRules::new(d.tiers().to_vec()), Ok(d));
    }
}
