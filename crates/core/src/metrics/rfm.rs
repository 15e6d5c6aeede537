//! RFM: recency, frequency and monetary value per customer, quintile scores, the RFM
//! code and named segments, computed over the columnar [`PurchaseLog`].
//!
//! # Definitions
//!
//! For every customer with at least one purchase on or before the `as_of` date:
//!
//! - **recency**: whole days from the business-local date of the last purchase to
//!   `as_of` (0 for a purchase on `as_of` itself). Fewer is better.
//! - **frequency**: the number of purchases. More is better. (Unlike the lifecycle
//!   policy, two orders on one day count twice here: RFM counts orders, as the common
//!   recipes do.)
//! - **monetary**: the sum of the purchases' amounts, gross: refunds are not in the
//!   purchase log and are not netted out. More is better.
//!
//! Purchases after `as_of` are ignored, and customers without purchases up to `as_of`
//! have no RFM row (they have no recency).
//!
//! Days are those of the log's business time zone ([`PurchaseLog::zone`]): `as_of`
//! ends at the first instant of the next local day, and a purchase at 07:00 in Beijing
//! on 1 January (23:00 UTC on 31 December) is a purchase of 1 January.
//!
//! # Quintile scores
//!
//! For each of the three measures separately, order the `n` customers from worst to best
//! (most days since the last purchase is worst; least frequency or money is worst), rank
//! them `1..=n` and score
//!
//! ```text
//! score = floor((rank − 1) × 5 / n) + 1        (1 = worst fifth, 5 = best fifth)
//! ```
//!
//! Ties get ranks by one of two rules ([`TieRule`]):
//!
//! - [`TieRule::Ordinal`]: tied customers are ranked by customer id ascending, so the
//!   ranks are `1..=n` without gaps and every bucket holds ⌊n/5⌋ or ⌈n/5⌉ customers,
//!   at the price of giving identical customers different scores. This is the tie
//!   rule of the common pandas recipe `qcut(x.rank(method="first"), 5)` on a frame
//!   sorted by id (pandas' `qcut` places its bin edges by linear interpolation, so on
//!   some `n` that are not multiples of 5 it moves single ranks to the neighbouring
//!   bucket; solocrm uses the formula above exactly).
//! - [`TieRule::Shared`] (the default): every tied customer gets the rank of the first of
//!   its group, so identical customers always share a score. Buckets can then differ in
//!   size by up to the size of the largest tie group less one — with frequency, where
//!   most customers of a young business have bought once, by a lot.
//!
//! # Segments
//!
//! The RFM code is the three digits `RFM` (`"543"`). Segments are read off R and the
//! combined score `FM = ⌈(F + M) / 2⌉` (the mean of F and M rounded half up) from this
//! map, after the eleven segment names popularised by Putler's RFM guide and the common
//! R × F grid of the pandas recipes; the grid is solocrm's own, total (every score has
//! exactly one segment) and shown here in full:
//!
//! | R \ FM | 1              | 2                  | 3                  | 4               | 5               |
//! |--------|----------------|--------------------|--------------------|-----------------|-----------------|
//! | 5      | New            | Potential loyalist | Potential loyalist | Champions       | Champions       |
//! | 4      | Promising      | Potential loyalist | Potential loyalist | Loyal           | Loyal           |
//! | 3      | About to sleep | About to sleep     | Need attention     | Loyal           | Loyal           |
//! | 2      | Hibernating    | Hibernating        | At risk            | At risk         | Can't lose them |
//! | 1      | Lost           | Lost               | At risk            | At risk         | Can't lose them |
//!
//! *Source.* Hughes, A. M., *Strategic Database Marketing* (1994) for RFM and quintile
//! scoring; Bult, J. R. & Wansbeek, T., "Optimal selection for direct mail", *Marketing
//! Science* 14(4), 1995, for the scoring's use in selection.
//!
//! # Speed
//!
//! One pass over the log aggregates into per-customer arrays (24 bytes per customer,
//! integer minor units, no `Decimal` and no allocation per row), in UTC seconds: the
//! end of `as_of` is one second to compare with, and only each customer's last
//! purchase is converted to a local day (through a per-half-day offset table, so the
//! zone costs one lookup per customer, not one per purchase); ranks come from a
//! counting sort when the values span a small range (recency in days, frequency) and
//! from a least-significant-digit radix sort of packed `u64` keys otherwise (money).
//! Memory beyond the log is O(customers). See `docs/performance.md`.

use std::fmt;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::behaviour::log_currency;
use super::error::{MetricError, MetricResult};
use super::period::{DayTable, epoch_day};
use super::retention::check_log;
use super::screen::{Outliers, screen};
use crate::ids::CustomerId;
use crate::money::{Currency, Money};
use crate::names::named_enum;
use crate::purchase::PurchaseLog;
use crate::segment::PurchaseSummary;
use crate::time::{AFTER_LATEST_SECS, EARLIEST_SECS};
use crate::zone::BusinessZone;

named_enum! {
    /// How customers with equal values are ranked for the quintile scores.
    #[derive(Default)]
    pub enum TieRule as "tie rule" {
        /// Every tied customer gets the rank of the first of its group: identical
        /// customers share a score. The default.
        #[default]
        Shared = "shared",
        /// Ties are broken by customer id ascending: equal-sized buckets.
        Ordinal = "ordinal",
    }
}

/// The three quintile scores of a customer, each 1 (worst fifth) to 5 (best fifth).
///
/// Serialised as the RFM code, a number such as `543`.
///
/// ```
/// use solocrm_core::metrics::{RfmScore, RfmSegment};
/// let s = RfmScore::new(5, 4, 3)?;
/// assert_eq!(s.to_string(), "543");
/// assert_eq!(s.code(), 543);
/// assert_eq!(s.fm(), 4); // ⌈(4 + 3) / 2⌉
/// assert_eq!(s.segment(), RfmSegment::Champions);
/// assert!(RfmScore::new(0, 1, 1).is_err());
/// # Ok::<(), solocrm_core::metrics::MetricError>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "u16", into = "u16")]
pub struct RfmScore {
    r: u8,
    f: u8,
    m: u8,
}

impl RfmScore {
    /// Checks each score is 1 to 5.
    ///
    /// # Errors
    ///
    /// [`MetricError::InvalidInput`] otherwise.
    pub fn new(r: u8, f: u8, m: u8) -> MetricResult<RfmScore> {
        if [r, f, m].iter().all(|s| (1..=5).contains(s)) {
            Ok(RfmScore { r, f, m })
        } else {
            Err(MetricError::InvalidInput {
                metric: "rfm",
                what: "a score",
                expected: "1 to 5",
                value: format!("{r}{f}{m}"),
            })
        }
    }

    /// Recency score.
    pub fn r(self) -> u8 {
        self.r
    }
    /// Frequency score.
    pub fn f(self) -> u8 {
        self.f
    }
    /// Monetary score.
    pub fn m(self) -> u8 {
        self.m
    }
    /// The combined frequency-monetary score ⌈(F + M) / 2⌉, 1 to 5.
    pub fn fm(self) -> u8 {
        (self.f + self.m).div_ceil(2)
    }
    /// The RFM code as a number: `100 R + 10 F + M`.
    pub fn code(self) -> u16 {
        u16::from(self.r) * 100 + u16::from(self.f) * 10 + u16::from(self.m)
    }
    /// The segment of this score (see the [module docs](self)).
    pub fn segment(self) -> RfmSegment {
        RfmSegment::of(self)
    }
}

impl fmt::Display for RfmScore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}{}", self.r, self.f, self.m)
    }
}

impl fmt::Debug for RfmScore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RfmScore({self})")
    }
}

impl TryFrom<u16> for RfmScore {
    type Error = MetricError;
    fn try_from(code: u16) -> MetricResult<RfmScore> {
        let digit = |x: u16| u8::try_from(x % 10).unwrap_or(0);
        if code > 999 {
            return Err(MetricError::InvalidInput {
                metric: "rfm",
                what: "an rfm code",
                expected: "three digits from 1 to 5",
                value: code.to_string(),
            });
        }
        RfmScore::new(digit(code / 100), digit(code / 10), digit(code))
    }
}

impl From<RfmScore> for u16 {
    fn from(s: RfmScore) -> u16 {
        s.code()
    }
}

named_enum! {
    /// A named RFM segment.
    pub enum RfmSegment as "rfm segment" {
        /// Bought recently, often and for much.
        Champions = "champions",
        /// Buy often and for much; recent enough.
        Loyal = "loyal",
        /// Recent buyers with average frequency and spend.
        PotentialLoyalist = "potential_loyalist",
        /// Bought very recently, once or for little.
        New = "new",
        /// Bought recently, once or for little.
        Promising = "promising",
        /// Average on all three.
        NeedAttention = "need_attention",
        /// Average recency, low frequency and spend.
        AboutToSleep = "about_to_sleep",
        /// Bought often or for much, but long ago.
        AtRisk = "at_risk",
        /// Were the best customers, long ago.
        CantLoseThem = "cant_lose_them",
        /// Long ago, rarely, little.
        Hibernating = "hibernating",
        /// The longest ago, rarely, little.
        Lost = "lost",
    }
}

use RfmSegment as S;

/// The score map, `[R − 1][FM − 1]`.
const SEGMENT_MAP: [[RfmSegment; 5]; 5] = [
    [S::Lost, S::Lost, S::AtRisk, S::AtRisk, S::CantLoseThem],
    [
        S::Hibernating,
        S::Hibernating,
        S::AtRisk,
        S::AtRisk,
        S::CantLoseThem,
    ],
    [
        S::AboutToSleep,
        S::AboutToSleep,
        S::NeedAttention,
        S::Loyal,
        S::Loyal,
    ],
    [
        S::Promising,
        S::PotentialLoyalist,
        S::PotentialLoyalist,
        S::Loyal,
        S::Loyal,
    ],
    [
        S::New,
        S::PotentialLoyalist,
        S::PotentialLoyalist,
        S::Champions,
        S::Champions,
    ],
];

impl RfmSegment {
    /// The segment of a score, from the map in the [module docs](self).
    pub fn of(score: RfmScore) -> RfmSegment {
        let r = usize::from(score.r.clamp(1, 5) - 1);
        let fm = usize::from(score.fm().clamp(1, 5) - 1);
        SEGMENT_MAP[r][fm]
    }

    /// The name as a person writes it: `Can't lose them`.
    pub fn label(self) -> &'static str {
        match self {
            S::Champions => "Champions",
            S::Loyal => "Loyal",
            S::PotentialLoyalist => "Potential loyalist",
            S::New => "New",
            S::Promising => "Promising",
            S::NeedAttention => "Need attention",
            S::AboutToSleep => "About to sleep",
            S::AtRisk => "At risk",
            S::CantLoseThem => "Can't lose them",
            S::Hibernating => "Hibernating",
            S::Lost => "Lost",
        }
    }
}

/// One customer's RFM values, scores and segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RfmRow {
    /// The customer.
    pub customer: CustomerId,
    /// Whole days since the last purchase.
    pub recency_days: u32,
    /// Number of purchases.
    pub frequency: u32,
    /// Total spend (gross).
    pub monetary: Money,
    /// The scores.
    pub score: RfmScore,
    /// The segment.
    pub segment: RfmSegment,
}

/// The number of customers in one RFM segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SegmentCount {
    /// The segment.
    pub segment: RfmSegment,
    /// Its customers.
    pub customers: u64,
}

/// RFM of every customer who bought up to `as_of`, column by column, ascending by
/// customer id. Built by [`rfm`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RfmTable {
    as_of: NaiveDate,
    tie_rule: TieRule,
    currency: Currency,
    customers: Vec<CustomerId>,
    recency_days: Vec<u32>,
    frequency: Vec<u32>,
    monetary_minor: Vec<i64>,
    scores: Vec<RfmScore>,
    segments: Vec<RfmSegment>,
    #[serde(default)]
    outliers: Outliers,
}

impl RfmTable {
    /// The purchases and customers left out because they cannot be measured (see
    /// [`Outliers`]).
    pub fn outliers(&self) -> Outliers {
        self.outliers
    }
    /// The date the table is as of.
    pub fn as_of(&self) -> NaiveDate {
        self.as_of
    }
    /// The tie rule of the scores.
    pub fn tie_rule(&self) -> TieRule {
        self.tie_rule
    }
    /// The currency of the monetary values.
    pub fn currency(&self) -> Currency {
        self.currency
    }
    /// The number of customers scored.
    pub fn len(&self) -> usize {
        self.customers.len()
    }
    /// True if nobody bought up to `as_of`.
    pub fn is_empty(&self) -> bool {
        self.customers.is_empty()
    }
    /// The customers, ascending.
    pub fn customers(&self) -> &[CustomerId] {
        &self.customers
    }
    /// Recency in days, per customer.
    pub fn recency_days(&self) -> &[u32] {
        &self.recency_days
    }
    /// Frequency, per customer.
    pub fn frequency(&self) -> &[u32] {
        &self.frequency
    }
    /// Monetary value in minor units, per customer.
    pub fn monetary_minor(&self) -> &[i64] {
        &self.monetary_minor
    }
    /// Scores, per customer.
    pub fn scores(&self) -> &[RfmScore] {
        &self.scores
    }
    /// Segments, per customer.
    pub fn segments(&self) -> &[RfmSegment] {
        &self.segments
    }

    /// Row `i` (0-based, in customer order).
    pub fn row(&self, i: usize) -> Option<RfmRow> {
        Some(RfmRow {
            customer: *self.customers.get(i)?,
            recency_days: *self.recency_days.get(i)?,
            frequency: *self.frequency.get(i)?,
            monetary: Money::from_minor(*self.monetary_minor.get(i)?, self.currency),
            score: *self.scores.get(i)?,
            segment: *self.segments.get(i)?,
        })
    }

    /// The row of `customer`, if they bought up to `as_of`.
    pub fn find(&self, customer: CustomerId) -> Option<RfmRow> {
        self.customers
            .binary_search(&customer)
            .ok()
            .and_then(|i| self.row(i))
    }

    /// Every row, in customer order.
    pub fn rows(&self) -> impl Iterator<Item = RfmRow> + '_ {
        (0..self.len()).filter_map(|i| self.row(i))
    }

    /// How many customers are in each segment, in the order of [`RfmSegment::ALL`].
    pub fn segment_counts(&self) -> Vec<SegmentCount> {
        let mut counts = [0u64; 11];
        for s in &self.segments {
            counts[*s as usize] += 1;
        }
        RfmSegment::ALL
            .iter()
            .map(|s| SegmentCount {
                segment: *s,
                customers: counts[*s as usize],
            })
            .collect()
    }
}

/// One customer's purchases as RFM reads them: step 1 of [`rfm`].
#[derive(Clone, Copy)]
pub(crate) struct Agg {
    sum: i64,
    /// The last purchase, Unix seconds.
    last_at: i64,
    count: u32,
    /// The spend left `i64` on the way (the customer is left out and counted).
    overflowed: bool,
}

impl Agg {
    /// No purchase.
    pub(crate) const NONE: Agg = Agg {
        sum: 0,
        last_at: i64::MIN,
        count: 0,
        overflowed: false,
    };

    /// Counts one purchase at `at` (Unix seconds) of `amount` minor units.
    #[inline]
    fn add(&mut self, at: i64, amount: i64) {
        let (sum, o) = self.sum.overflowing_add(amount);
        self.sum = sum;
        self.overflowed |= o;
        self.count += 1;
        self.last_at = self.last_at.max(at);
    }

    /// The aggregate of `count` purchases whose last is at `last_at` (Unix seconds) and
    /// whose spend is `sum` minor units, wrapped if it `overflowed` `i64` on the way.
    pub(crate) fn of_parts(sum: i64, last_at: i64, count: u32, overflowed: bool) -> Agg {
        Agg {
            sum,
            last_at,
            count,
            overflowed,
        }
    }
}

/// RFM values, quintile scores, codes and segments of every customer who bought on or
/// before `as_of`. See the [module docs](self) for the definitions.
///
/// ```
/// use chrono::{NaiveDate, TimeZone, Utc};
/// use solocrm_core::{Currency, CustomerId, PurchaseLog};
/// use solocrm_core::metrics::{rfm, RfmSegment, TieRule};
/// let ts = |m, d| Utc.with_ymd_and_hms(2026, m, d, 12, 0, 0).unwrap().timestamp();
/// let ids = (1..=6).map(CustomerId::new).collect();
/// let mut log = PurchaseLog::with_customers(Currency::EUR, ids);
/// log.push(0, ts(1, 5), 1_000);                                      // 1: long ago, once, little
/// for d in [1, 8, 15, 22, 29] { log.push(1, ts(5, d), 20_000); }     // 2: yesterday, 5 ×, much
/// for d in [1, 30] { log.push(2, ts(4, d), 5_000); }                 // 3
/// for d in [1, 8, 16] { log.push(3, ts(5, d), 8_000); }              // 4
/// for d in [1, 10, 20, 30] { log.push(4, ts(3, d), 3_000); }         // 5
///                                                                    // 6: never bought
/// let t = rfm(&log, NaiveDate::from_ymd_opt(2026, 5, 30).unwrap(), TieRule::Shared)?;
/// assert_eq!(t.len(), 5);
/// // n = 5: ranks 1..=5 score floor((rank − 1) × 5 / 5) + 1 = rank.
/// let code = |id| t.find(CustomerId::new(id)).map(|r| (r.score.to_string(), r.segment));
/// assert_eq!(code(2), Some(("555".into(), RfmSegment::Champions)));
/// assert_eq!(code(4), Some(("434".into(), RfmSegment::Loyal)));
/// assert_eq!(code(3), Some(("322".into(), RfmSegment::AboutToSleep)));
/// assert_eq!(code(5), Some(("243".into(), RfmSegment::AtRisk)));
/// assert_eq!(code(1), Some(("111".into(), RfmSegment::Lost)));
/// assert_eq!(code(6), None);
/// let two = t.find(CustomerId::new(2)).unwrap();
/// assert_eq!((two.recency_days, two.frequency), (1, 5));
/// # Ok::<(), solocrm_core::metrics::MetricError>(())
/// ```
///
/// # Errors
///
/// [`MetricError::InvalidInput`] for a malformed log or one without a currency;
/// [`MetricError::Overflow`] if the log has more than 2^32 rows. Never for one record:
/// purchases outside the plausible calendar or beyond the amount bound are skipped, and
/// a customer whose spend reaches 2^63 minor units is left out; both are counted in
/// [`RfmTable::outliers`].
pub fn rfm(log: &PurchaseLog, as_of: NaiveDate, tie_rule: TieRule) -> MetricResult<RfmTable> {
    let metric = "rfm";
    check_log(log, metric)?;
    let currency = log_currency(log, metric)?;
    let (log, outliers) = screen(log);
    let log = log.as_ref();
    if u32::try_from(log.len()).is_err() {
        return Err(MetricError::Overflow { metric });
    }
    let end_secs = end_of(log.zone, as_of);

    // 1. Aggregate in one pass.
    let mut agg = vec![Agg::NONE; log.customers.len()];
    let mut earliest = i64::MAX;
    for ((&c, &at), &amount) in log.customer.iter().zip(&log.at).zip(&log.amount) {
        if at >= end_secs {
            continue;
        }
        earliest = earliest.min(at);
        // Checked by `check_log`: every index is below the number of customers.
        agg[c as usize].add(at, amount);
    }
    let unscored = rfm_of_aggregates(
        &log.customers,
        agg.iter().copied(),
        earliest,
        Basis {
            as_of,
            tie_rule,
            currency,
            zone: log.zone,
            outliers,
        },
    )?;
    drop(agg);
    Ok(unscored.score())
}

/// The first instant after `as_of` in `zone`, Unix seconds: purchases before it count.
pub(crate) fn end_of(zone: BusinessZone, as_of: NaiveDate) -> i64 {
    zone.days().start_of_day(epoch_day(as_of) + 1)
}

/// Step 2 of [`rfm`] from the aggregates of step 1: one per customer of `customers`, in
/// order, over their purchases before the end of `as_of`, the earliest of which is
/// `earliest` (`i64::MAX` for none). [`Unscored::score`] takes steps 3 and 4; the
/// aggregates need not outlive this call.
pub(crate) fn rfm_of_aggregates(
    customers: &[CustomerId],
    agg: impl Iterator<Item = Agg> + Clone,
    earliest: i64,
    mut basis: Basis,
) -> MetricResult<Unscored> {
    let metric = "rfm";
    let as_of_day = epoch_day(basis.as_of);
    // The earliest day whose recency fits a u32, and its first instant.
    let min_day = (as_of_day - i64::from(u32::MAX)).max(i64::from(i32::MIN) + 1);
    if earliest < basis.zone.days().start_of_day(min_day) {
        return Err(MetricError::DateOutOfRange { metric });
    }
    // 2. The population: customers with a purchase, in id order; a customer whose
    // spend overflowed is left out and counted.
    let mut n = 0;
    for a in agg.clone() {
        if a.overflowed {
            basis.outliers.customers_too_large += 1;
        } else if a.count > 0 {
            n += 1;
        }
    }
    let mut buyers = Buyers::with_capacity(n);
    for (a, id) in agg.zip(customers) {
        if a.count > 0 && !a.overflowed {
            buyers.push(*id, a.last_at, a.count, a.sum);
        }
    }
    Ok(Unscored { basis, buyers })
}

/// The population of an RFM table, not yet scored.
pub(crate) struct Unscored {
    basis: Basis,
    buyers: Buyers,
}

impl Unscored {
    /// Steps 3 and 4 of [`rfm`]: recency, scores and segments.
    pub(crate) fn score(self) -> RfmTable {
        score(self.basis, self.buyers)
    }
}

/// What a table is of, beside its customers.
pub(crate) struct Basis {
    pub(crate) as_of: NaiveDate,
    pub(crate) tie_rule: TieRule,
    pub(crate) currency: Currency,
    pub(crate) zone: BusinessZone,
    pub(crate) outliers: Outliers,
}

/// The customers to score, in id order, with their last purchase (Unix seconds, before
/// the end of `as_of` and not earlier than its recency can count), frequency and spend.
struct Buyers {
    customers: Vec<CustomerId>,
    last_at: Vec<i64>,
    frequency: Vec<u32>,
    monetary_minor: Vec<i64>,
}

impl Buyers {
    fn with_capacity(n: usize) -> Buyers {
        Buyers {
            customers: Vec::with_capacity(n),
            last_at: Vec::with_capacity(n),
            frequency: Vec::with_capacity(n),
            monetary_minor: Vec::with_capacity(n),
        }
    }

    fn push(&mut self, id: CustomerId, last_at: i64, count: u32, sum: i64) {
        self.customers.push(id);
        self.last_at.push(last_at);
        self.frequency.push(count);
        self.monetary_minor.push(sum);
    }
}

/// Recency, scores and segments of `buyers` (steps 2 to 4 of [`rfm`], shared with
/// [`rfm_of_summaries`]).
fn score(basis: Basis, buyers: Buyers) -> RfmTable {
    let Buyers {
        customers,
        last_at,
        frequency,
        monetary_minor,
    } = buyers;
    let n = customers.len();
    let as_of_day = epoch_day(basis.as_of);
    let end_secs = basis.zone.days().start_of_day(as_of_day + 1);
    let earliest = last_at.iter().copied().min().unwrap_or(end_secs);
    // Local days of the last purchases: one lookup per customer.
    let table = DayTable::new(basis.zone, earliest, end_secs.saturating_sub(1));
    // 0 ≤ as_of − last ≤ u32::MAX by the callers' checks.
    let recency_days: Vec<u32> = last_at
        .iter()
        .map(|&at| u32::try_from(as_of_day - table.day(at)).unwrap_or(u32::MAX))
        .collect();
    drop(last_at);

    // 3. Quintile scores, measure by measure. Keys grow with goodness.
    let tie_rule = basis.tie_rule;
    let mut ranker = Ranker::default();
    let mut r = vec![0u8; n];
    let mut f = vec![0u8; n];
    let mut m = vec![0u8; n];
    ranker.keys.clear();
    ranker
        .keys
        .extend(recency_days.iter().map(|&d| u64::from(u32::MAX - d)));
    ranker.score(tie_rule, &mut r);
    ranker.keys.clear();
    ranker.keys.extend(frequency.iter().map(|&c| u64::from(c)));
    ranker.score(tie_rule, &mut f);
    ranker.keys.clear();
    ranker
        .keys
        .extend(monetary_minor.iter().map(|&s| (s as u64) ^ (1 << 63)));
    ranker.score(tie_rule, &mut m);

    // 4. Codes and segments.
    let mut scores = Vec::with_capacity(n);
    let mut segments = Vec::with_capacity(n);
    for i in 0..n {
        let s = RfmScore {
            r: r[i],
            f: f[i],
            m: m[i],
        };
        scores.push(s);
        segments.push(RfmSegment::of(s));
    }
    RfmTable {
        as_of: basis.as_of,
        tie_rule,
        currency: basis.currency,
        customers,
        recency_days,
        frequency,
        monetary_minor,
        scores,
        segments,
        outliers: basis.outliers,
    }
}

/// [`rfm`] from what the stores keep per customer instead of the purchase log: each
/// buyer's [`PurchaseSummary`] of the purchases (voided ones left out) at or before the
/// last instant of `as_of` in `zone` (what
/// [`ReadTx::purchase_summaries`](crate::port::ReadTx::purchase_summaries) answers for
/// the instant one nanosecond before [`BusinessZone::end_of`] `as_of`), by ascending
/// customer id, all in `currency`. Summaries with no purchase are skipped.
///
/// The table is the one [`rfm`] gives over the log of the same purchases in `zone` and
/// `currency` — same customers, values, scores, segments and [`Outliers`] — when the
/// amounts are not negative (every store refuses a negative amount). A summary cannot
/// show every record [`rfm`] screens out, so the answer is `Ok(None)`, and the caller
/// reads the log instead, when some summary may hold one: a first purchase before
/// 1900, a last one after 2199, a negative total, or a total that reaches the storage
/// bound of one amount ([`Currency::max_stored_minor`]; a spend that overflows
/// [`rfm`]'s 64-bit sum reaches it first). The outliers [`rfm`] counts among the
/// purchases *after* `as_of` are not in the summaries; a log read through the as-of
/// view (as the `rfm` command does for a past day) holds none.
///
/// ```
/// use chrono::{NaiveDate, TimeZone, Utc};
/// use solocrm_core::{BusinessZone, Currency, CustomerId, Money, PurchaseLog};
/// use solocrm_core::metrics::{rfm, rfm_of_summaries, TieRule};
/// use solocrm_core::segment::PurchaseSummary;
/// let at = |d| Utc.with_ymd_and_hms(2026, 5, d, 12, 0, 0).unwrap();
/// let mut log = PurchaseLog::with_customers(Currency::EUR, vec![CustomerId::new(7)]);
/// let mut summary = PurchaseSummary::none(Currency::EUR);
/// for d in [1, 9] {
///     log.push(0, at(d).timestamp(), 2_500);
///     summary.add(at(d), Money::from_minor(2_500, Currency::EUR))?;
/// }
/// let day = NaiveDate::from_ymd_opt(2026, 5, 10).unwrap();
/// let kept = [(CustomerId::new(7), summary)];
/// let t = rfm_of_summaries(&kept, Currency::EUR, BusinessZone::UTC, day, TieRule::Shared)?;
/// assert_eq!(t, Some(rfm(&log, day, TieRule::Shared)?));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
///
/// [`MetricError::InvalidInput`] for summaries out of customer order, in another
/// currency, or with a purchase after `as_of`; [`MetricError::Overflow`] for more than
/// 2^32 purchases in all. A total finer than the currency's minor units is no error:
/// the answer is `Ok(None)`, and the log decides.
pub fn rfm_of_summaries(
    summaries: &[(CustomerId, PurchaseSummary)],
    currency: Currency,
    zone: BusinessZone,
    as_of: NaiveDate,
    tie_rule: TieRule,
) -> MetricResult<Option<RfmTable>> {
    let metric = "rfm";
    let invalid =
        |what: &'static str, expected: &'static str, value: String| MetricError::InvalidInput {
            metric,
            what,
            expected,
            value,
        };
    let days = zone.days();
    let as_of_day = epoch_day(as_of);
    let end_secs = days.start_of_day(as_of_day + 1);
    // As in `rfm`: the earliest day whose recency fits a u32.
    let min_day = (as_of_day - i64::from(u32::MAX)).max(i64::from(i32::MIN) + 1);
    let min_secs = days.start_of_day(min_day);
    let max_minor = i128::from(currency.max_stored_minor());
    let scale = currency.minor_unit_digits();
    let mut total: u64 = 0;
    let mut prev: Option<CustomerId> = None;
    let mut out_of_range = false;
    let mut buyers = Buyers::with_capacity(summaries.len());
    for (id, s) in summaries {
        if prev.is_some_and(|p| p >= *id) {
            return Err(invalid(
                "the purchase summaries",
                "ascending customer ids",
                id.to_string(),
            ));
        }
        prev = Some(*id);
        if s.count == 0 {
            continue;
        }
        if s.total.currency() != currency {
            return Err(invalid(
                "a purchase summary",
                "the currency of the books",
                s.total.currency().to_string(),
            ));
        }
        let (Some(first), Some(last)) = (s.first_at, s.last_at) else {
            return Err(invalid(
                "a purchase summary",
                "a first and last purchase",
                id.to_string(),
            ));
        };
        let (first, last) = (first.timestamp(), last.timestamp());
        if last >= end_secs {
            return Err(invalid(
                "a purchase summary",
                "purchases up to the day asked",
                id.to_string(),
            ));
        }
        if first < EARLIEST_SECS || last >= AFTER_LATEST_SECS {
            return Ok(None);
        }
        // Trailing zeros (an amount kept as written, `25.500`) are not finer units.
        let amount = s.total.amount().normalize();
        if amount.scale() > scale {
            // Finer than the currency's units: the log says what `rfm` makes of it.
            return Ok(None);
        }
        let minor = amount.mantissa() * 10_i128.pow(scale - amount.scale());
        if minor < 0 || minor >= max_minor {
            return Ok(None);
        }
        let (Ok(sum), Ok(count)) = (i64::try_from(minor), u32::try_from(s.count)) else {
            return Ok(None);
        };
        total = total.saturating_add(s.count);
        out_of_range |= last < min_secs;
        buyers.push(*id, last, count, sum);
    }
    if u32::try_from(total).is_err() {
        return Err(MetricError::Overflow { metric });
    }
    if out_of_range {
        return Err(MetricError::DateOutOfRange { metric });
    }
    Ok(Some(score(
        Basis {
            as_of,
            tie_rule,
            currency,
            zone,
            outliers: Outliers::default(),
        },
        buyers,
    )))
}

/// Quintile scoring of one measure, with reusable buffers.
#[derive(Default)]
pub(crate) struct Ranker {
    /// The keys, in customer-id order; larger is better.
    pub(crate) keys: Vec<u64>,
    packed: Vec<u64>,
    tmp: Vec<u64>,
    counts: Vec<u32>,
}

#[inline]
fn quintile(rank0: usize, n: usize) -> u8 {
    // rank0 < n ≤ 2^32, so the product fits a u64 and the quotient is below 5.
    ((rank0 as u64 * 5) / n as u64) as u8 + 1
}

fn bits(x: u64) -> u32 {
    64 - x.leading_zeros()
}

impl Ranker {
    /// Writes the score 1..=5 of each key into `out` (same order as the keys).
    pub(crate) fn score(&mut self, tie: TieRule, out: &mut [u8]) {
        let n = self.keys.len();
        let (Some(&min), Some(&max)) = (self.keys.iter().min(), self.keys.iter().max()) else {
            return;
        };
        let span = max - min;
        if span < n.max(1 << 16) as u64 {
            self.by_counting(min, span as usize, tie, out);
            return;
        }
        let ibits = bits(n as u64 - 1);
        let vbits = bits(span);
        if ibits + vbits <= 64 {
            self.packed.clear();
            self.packed.extend(
                self.keys
                    .iter()
                    .enumerate()
                    .map(|(i, &k)| ((k - min) << ibits) | i as u64),
            );
            radix_sort(&mut self.packed, &mut self.tmp, ibits, ibits + vbits);
            let mask = if ibits == 0 {
                0
            } else {
                u64::MAX >> (64 - ibits)
            };
            walk_sorted(
                self.packed
                    .iter()
                    .map(|&x| (x >> ibits, (x & mask) as usize)),
                n,
                tie,
                out,
            );
        } else {
            // More than 2^64 distinct value-index combinations: sort pairs.
            let mut pairs: Vec<(u64, u32)> = self
                .keys
                .iter()
                .enumerate()
                .map(|(i, &k)| (k, i as u32))
                .collect();
            pairs.sort_unstable();
            walk_sorted(pairs.into_iter().map(|(k, i)| (k, i as usize)), n, tie, out);
        }
    }

    /// Counting sort: the rank of a key is the number of smaller keys (plus, for
    /// ordinal ties, the number of equal keys before it in id order).
    fn by_counting(&mut self, min: u64, span: usize, tie: TieRule, out: &mut [u8]) {
        let n = self.keys.len();
        self.counts.clear();
        self.counts.resize(span + 1, 0);
        for &k in &self.keys {
            self.counts[(k - min) as usize] += 1;
        }
        let mut below = 0u32;
        for c in &mut self.counts {
            let here = *c;
            *c = below;
            below += here;
        }
        match tie {
            TieRule::Shared => {
                for (o, &k) in out.iter_mut().zip(&self.keys) {
                    *o = quintile(self.counts[(k - min) as usize] as usize, n);
                }
            }
            TieRule::Ordinal => {
                for (o, &k) in out.iter_mut().zip(&self.keys) {
                    let slot = &mut self.counts[(k - min) as usize];
                    *o = quintile(*slot as usize, n);
                    *slot += 1;
                }
            }
        }
    }
}

/// Assigns scores from `(key, index)` pairs sorted by key, ties in index order.
fn walk_sorted(sorted: impl Iterator<Item = (u64, usize)>, n: usize, tie: TieRule, out: &mut [u8]) {
    let mut run_start = 0usize;
    let mut prev = None;
    for (pos, (key, i)) in sorted.enumerate() {
        if prev != Some(key) {
            run_start = pos;
            prev = Some(key);
        }
        let rank0 = match tie {
            TieRule::Ordinal => pos,
            TieRule::Shared => run_start,
        };
        if let Some(o) = out.get_mut(i) {
            *o = quintile(rank0, n);
        }
    }
}

/// Stable least-significant-digit radix sort of `data` by bits `lo..hi`, 11 bits per
/// pass; passes where every key has the same digit are skipped. Bits below `lo` keep
/// their input order (stability).
pub(crate) fn radix_sort(data: &mut Vec<u64>, tmp: &mut Vec<u64>, lo: u32, hi: u32) {
    const DIGIT: u32 = 11;
    const BUCKETS: usize = 1 << DIGIT;
    if hi <= lo || data.len() < 2 {
        return;
    }
    let passes = (hi - lo).div_ceil(DIGIT) as usize;
    let mut hist = vec![[0usize; BUCKETS]; passes];
    let mask = (BUCKETS - 1) as u64;
    for &x in data.iter() {
        for (p, h) in hist.iter_mut().enumerate() {
            h[((x >> (lo + p as u32 * DIGIT)) & mask) as usize] += 1;
        }
    }
    tmp.clear();
    tmp.resize(data.len(), 0);
    for (p, h) in hist.iter_mut().enumerate() {
        if h.contains(&data.len()) {
            continue;
        }
        let mut sum = 0usize;
        for c in h.iter_mut() {
            let here = *c;
            *c = sum;
            sum += here;
        }
        let shift = lo + p as u32 * DIGIT;
        for &x in data.iter() {
            let slot = &mut h[((x >> shift) & mask) as usize];
            tmp[*slot] = x;
            *slot += 1;
        }
        std::mem::swap(data, tmp);
    }
}
