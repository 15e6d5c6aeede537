//! Segments: named, serialisable predicates over a customer and their purchases.
//!
//! A [`Predicate`] combines demographic (age band, gender, income), geographic
//! (country, region, city), psychographic (interests, lifestyle, values), behavioural
//! (days since the last purchase, purchase count, total spend) and administrative
//! (stage, tags, acquisition channel, custom attributes, consent, loyalty tier)
//! conditions with `all`, `any` and `not`.
//!
//! Conventions:
//! - Text comparisons of labels (region, city, industry, attribute values) ignore case.
//! - A customer who never bought has no "days since the last purchase": every
//!   comparison on it is false (and `not` of it is true). Select them with
//!   `purchase_count = 0`.
//! - Age is computed on the `as_of` date ([`Customer::age_on`]); unknown age matches no
//!   band.
//! - `all` of nothing is true, `any` of nothing is false.
//! - A consent condition holds when the customer's latest decision for the purpose at
//!   or before `as_of` is a grant ([`Customer::had_consent_at`]).
//! - A tier condition compares the customer's tier of the points program
//!   ([`PointsTiers`](crate::PointsTiers), by lifetime points), which the caller works
//!   out and passes in [`Facts`]; a customer in no tier matches no tier.
//! - A need or pain point condition (`need = "fast-delivery"`, `pain_point = "价格敏感"`)
//!   holds when the customer has an entry of that kind and key, on them or on one of
//!   their deals, that is open at `as_of` ([`Need::is_open_at`](crate::need::Need::is_open_at):
//!   recorded by then, not resolved by then, not voided). The caller passes the
//!   customer's entries in [`Facts`].
//! - A predicate nests at most [`MAX_PREDICATE_DEPTH`] (32) levels deep: a comparison
//!   is one level, and each `all`, `any` and `not` around it adds one. The text parser
//!   and deserialisation refuse anything deeper with a message, so every predicate that
//!   is read or written stays far inside the recursion limits of the code and of the
//!   stored (JSON) form: what is saved reads back.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::customer::{AgeBand, Consent, Customer, Gender, IncomeBand, Profile};
use crate::error::ValidationError;
use crate::ids::CustomerId;
use crate::lifecycle::LifecycleStage;
use crate::money::Money;
use crate::names::named_enum;
use crate::text::{CountryCode, Label, Tag, Tags};
use crate::zone::BusinessZone;

named_enum! {
    /// A comparison operator.
    pub enum Cmp as "comparison" {
        /// `<`
        Lt = "lt",
        /// `<=`
        Le = "le",
        /// `=`
        Eq = "eq",
        /// `!=`
        Ne = "ne",
        /// `>=`
        Ge = "ge",
        /// `>`
        Gt = "gt",
    }
}

impl Cmp {
    /// `left OP right`.
    pub fn holds<T: PartialOrd>(self, left: &T, right: &T) -> bool {
        match self {
            Cmp::Lt => left < right,
            Cmp::Le => left <= right,
            Cmp::Eq => left == right,
            Cmp::Ne => left != right,
            Cmp::Ge => left >= right,
            Cmp::Gt => left > right,
        }
    }

    /// The operator as written in the segment syntax: `<`, `<=`, `=`, `!=`, `>=`, `>`.
    pub fn symbol(self) -> &'static str {
        match self {
            Cmp::Lt => "<",
            Cmp::Le => "<=",
            Cmp::Eq => "=",
            Cmp::Ne => "!=",
            Cmp::Ge => ">=",
            Cmp::Gt => ">",
        }
    }
}

/// A comparison against a fixed value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Comparison<T> {
    /// The operator.
    pub op: Cmp,
    /// The right-hand side.
    pub value: T,
}

impl<T: PartialOrd> Comparison<T> {
    /// `left OP self.value`.
    pub fn holds(&self, left: &T) -> bool {
        self.op.holds(left, &self.value)
    }
}

/// A condition on a customer and their purchases.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", try_from = "repr::PredicateRepr")]
pub enum Predicate {
    /// Every condition holds.
    All(Vec<Predicate>),
    /// At least one condition holds.
    Any(Vec<Predicate>),
    /// The condition does not hold.
    Not(Box<Predicate>),
    /// The lifecycle stage is this one.
    Stage(LifecycleStage),
    /// The customer has this tag.
    Tag(Tag),
    /// The country is this one.
    Country(CountryCode),
    /// The region is this one (ignoring case).
    Region(Label),
    /// The city is this one (ignoring case).
    City(Label),
    /// The age on `as_of` falls into this band.
    AgeBand(AgeBand),
    /// The gender is this one.
    Gender(Gender),
    /// The income band is this one.
    IncomeBand(IncomeBand),
    /// The industry is this one (ignoring case).
    Industry(Label),
    /// One of the interests is this one.
    Interest(Tag),
    /// One of the lifestyle tags is this one.
    Lifestyle(Tag),
    /// One of the values is this one.
    Value(Tag),
    /// The acquisition channel is this one.
    AcquisitionChannel(Tag),
    /// The custom attribute `key` has this value (ignoring case).
    Attribute {
        /// The attribute's key.
        key: Tag,
        /// The expected value.
        value: Label,
    },
    /// Consent for this purpose is in force on `as_of`.
    Consent(Tag),
    /// The customer's tier of the points program is this one.
    Tier(Tag),
    /// The customer (or one of their deals) has an open need with this key.
    Need(Tag),
    /// The customer (or one of their deals) has an open pain point with this key.
    PainPoint(Tag),
    /// Whole days from the last purchase's UTC date to the `as_of` date.
    DaysSinceLastPurchase(Comparison<i64>),
    /// The number of purchases up to `as_of`.
    PurchaseCount(Comparison<u64>),
    /// The total spent up to `as_of`, in the base currency's major units.
    TotalSpend(Comparison<Decimal>),
}

/// What a segment needs to know of a customer's purchases up to `as_of`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PurchaseSummary {
    /// Number of purchases.
    pub count: u64,
    /// Sum of their amounts.
    pub total: Money,
    /// Time of the first purchase.
    pub first_at: Option<DateTime<Utc>>,
    /// Time of the last purchase.
    pub last_at: Option<DateTime<Utc>>,
}

impl PurchaseSummary {
    /// No purchases.
    pub fn none(currency: crate::Currency) -> Self {
        PurchaseSummary {
            count: 0,
            total: Money::zero(currency),
            first_at: None,
            last_at: None,
        }
    }

    /// Adds one purchase.
    ///
    /// # Errors
    ///
    /// [`MoneyError`](crate::MoneyError) on a currency mismatch or overflow.
    pub fn add(&mut self, at: DateTime<Utc>, amount: Money) -> Result<(), crate::MoneyError> {
        self.total = self.total.checked_add(amount)?;
        self.count += 1;
        self.first_at = Some(self.first_at.map_or(at, |f| f.min(at)));
        self.last_at = Some(self.last_at.map_or(at, |l| l.max(at)));
        Ok(())
    }

    /// Whole days from the last purchase's business-local date to `as_of`'s, both
    /// in `zone`.
    pub fn days_since_last(&self, as_of: DateTime<Utc>, zone: BusinessZone) -> Option<i64> {
        self.last_at
            .map(|l| (zone.date_of(as_of) - zone.date_of(l)).num_days())
    }
}

/// What a [`Predicate`] needs to know about a customer beyond the customer record:
/// their purchases up to `as_of`, their tier of the points program, and their needs and
/// pain points.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Facts<'a> {
    /// The purchases up to `as_of` (see [`Predicate::needs_purchases`]).
    pub purchases: &'a PurchaseSummary,
    /// The tier (see [`Predicate::needs_tier`]); `None` for no tier.
    pub tier: Option<&'a Tag>,
    /// The customer's needs and pain points, on them and on their deals, in any state
    /// (the predicate looks for one open at `as_of`; see
    /// [`Predicate::needs_need_entries`]).
    pub needs: &'a [crate::need::Need],
}

impl<'a> Facts<'a> {
    /// Facts with these purchases, no tier and no needs.
    pub fn purchases(purchases: &'a PurchaseSummary) -> Self {
        Facts {
            purchases,
            tier: None,
            needs: &[],
        }
    }
}

/// Which parts of a customer record a [`Predicate`] reads
/// ([`Predicate::fields`]): what a [`SegmentRow`] must hold for the predicate to give
/// the same answer over it as over the whole customer. The id and the stage are always
/// there.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct SegmentFields {
    /// The tags.
    pub tags: bool,
    /// The segmentation profile (place, demographics, interests, attributes).
    pub profile: bool,
    /// The birthday (an age band reads it, and the profile's birth year).
    pub birthday: bool,
    /// The acquisition channel.
    pub acquisition_channel: bool,
    /// The consent decisions.
    pub consents: bool,
}

impl SegmentFields {
    /// Every field.
    pub const ALL: SegmentFields = SegmentFields {
        tags: true,
        profile: true,
        birthday: true,
        acquisition_channel: true,
        consents: true,
    };
}

/// What a segment reads of one customer: the id, the stage and erasure, and those
/// parts of the record that [`SegmentFields`] asks for; the others are empty
/// (no tags, no profile, no birthday, channel or consents). The answer of
/// [`ReadTx::segment_rows`](crate::port::ReadTx::segment_rows), far lighter than a
/// whole [`Customer`] when a predicate names few fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentRow {
    /// The customer.
    pub id: CustomerId,
    /// Their lifecycle stage.
    pub stage: LifecycleStage,
    /// True once erased.
    pub erased: bool,
    /// Their tags, if asked for.
    pub tags: Tags,
    /// Their profile, if asked for and not empty: `None` stands for the default
    /// [`Profile`] (boxed so that a row without one, as most segments read them,
    /// takes 8 bytes for it, not a whole profile's 208; the row is 96 bytes, not
    /// 296). [`SegmentRow::profile`] gives it either way.
    pub profile: Option<Box<Profile>>,
    /// Their birthday, if asked for.
    pub birthday: Option<NaiveDate>,
    /// Their acquisition channel, if asked for.
    pub acquisition_channel: Option<Tag>,
    /// Their consent decisions, oldest first, if asked for.
    pub consents: Vec<Consent>,
}

impl SegmentRow {
    /// The `fields` of a whole customer, the others left empty.
    pub fn of(c: &Customer, fields: SegmentFields) -> SegmentRow {
        SegmentRow {
            id: c.id(),
            stage: c.stage(),
            erased: c.is_erased(),
            tags: if fields.tags {
                c.tags().clone()
            } else {
                Tags::new()
            },
            profile: if fields.profile {
                SegmentRow::boxed(c.profile().clone())
            } else {
                None
            },
            birthday: if fields.birthday { c.birthday() } else { None },
            acquisition_channel: if fields.acquisition_channel {
                c.data().acquisition_channel.clone()
            } else {
                None
            },
            consents: if fields.consents {
                c.consents().to_vec()
            } else {
                Vec::new()
            },
        }
    }

    /// `profile` as a row holds it: `None` if it is the default.
    pub fn boxed(profile: Profile) -> Option<Box<Profile>> {
        (profile != Profile::default()).then(|| Box::new(profile))
    }

    /// The profile: the default one if the row holds none.
    pub fn profile(&self) -> &Profile {
        static EMPTY: std::sync::LazyLock<Profile> = std::sync::LazyLock::new(Profile::default);
        self.profile.as_deref().unwrap_or(&EMPTY)
    }
}

/// What [`Predicate`] evaluation reads of a customer, whole or narrow.
trait Subject {
    fn stage(&self) -> LifecycleStage;
    fn tags(&self) -> &Tags;
    fn profile(&self) -> &Profile;
    fn age_band_on(&self, on: NaiveDate) -> Option<AgeBand>;
    fn acquisition_channel(&self) -> Option<&Tag>;
    fn had_consent_at(&self, purpose: &Tag, at: DateTime<Utc>) -> bool;
}

impl Subject for Customer {
    fn stage(&self) -> LifecycleStage {
        Customer::stage(self)
    }
    fn tags(&self) -> &Tags {
        Customer::tags(self)
    }
    fn profile(&self) -> &Profile {
        Customer::profile(self)
    }
    fn age_band_on(&self, on: NaiveDate) -> Option<AgeBand> {
        Customer::age_band_on(self, on)
    }
    fn acquisition_channel(&self) -> Option<&Tag> {
        self.data().acquisition_channel.as_ref()
    }
    fn had_consent_at(&self, purpose: &Tag, at: DateTime<Utc>) -> bool {
        Customer::had_consent_at(self, purpose, at)
    }
}

impl Subject for SegmentRow {
    fn stage(&self) -> LifecycleStage {
        self.stage
    }
    fn tags(&self) -> &Tags {
        &self.tags
    }
    fn profile(&self) -> &Profile {
        SegmentRow::profile(self)
    }
    fn age_band_on(&self, on: NaiveDate) -> Option<AgeBand> {
        crate::customer::age_from(self.birthday, SegmentRow::profile(self).birth_year, on)
            .map(AgeBand::of_age)
    }
    fn acquisition_channel(&self) -> Option<&Tag> {
        self.acquisition_channel.as_ref()
    }
    fn had_consent_at(&self, purpose: &Tag, at: DateTime<Utc>) -> bool {
        crate::customer::consent_in_force(&self.consents, purpose, at)
    }
}

/// The deepest a [`Predicate`] may nest (see the [module docs](self)). Deep enough for
/// any real segment; shallow enough that evaluating, printing, parsing and storing it
/// never come near a recursion limit (serde_json's is 128 levels).
pub const MAX_PREDICATE_DEPTH: usize = 32;

/// The same shape as [`Predicate`], for deserialising: children arrive as checked
/// predicates, and the conversion checks the depth of the result.
mod repr {
    use rust_decimal::Decimal;
    use serde::Deserialize;

    use super::{Comparison, Predicate};
    use crate::customer::{AgeBand, Gender, IncomeBand};
    use crate::error::ValidationError;
    use crate::lifecycle::LifecycleStage;
    use crate::text::{CountryCode, Label, Tag};

    #[derive(Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub(super) enum PredicateRepr {
        All(Vec<Predicate>),
        Any(Vec<Predicate>),
        Not(Box<Predicate>),
        Stage(LifecycleStage),
        Tag(Tag),
        Country(CountryCode),
        Region(Label),
        City(Label),
        AgeBand(AgeBand),
        Gender(Gender),
        IncomeBand(IncomeBand),
        Industry(Label),
        Interest(Tag),
        Lifestyle(Tag),
        Value(Tag),
        AcquisitionChannel(Tag),
        Attribute { key: Tag, value: Label },
        Consent(Tag),
        Tier(Tag),
        Need(Tag),
        PainPoint(Tag),
        DaysSinceLastPurchase(Comparison<i64>),
        PurchaseCount(Comparison<u64>),
        TotalSpend(Comparison<Decimal>),
    }

    impl TryFrom<PredicateRepr> for Predicate {
        type Error = ValidationError;
        fn try_from(r: PredicateRepr) -> Result<Predicate, ValidationError> {
            use PredicateRepr as R;
            let p = match r {
                R::All(ps) => Predicate::All(ps),
                R::Any(ps) => Predicate::Any(ps),
                R::Not(p) => Predicate::Not(p),
                R::Stage(v) => Predicate::Stage(v),
                R::Tag(v) => Predicate::Tag(v),
                R::Country(v) => Predicate::Country(v),
                R::Region(v) => Predicate::Region(v),
                R::City(v) => Predicate::City(v),
                R::AgeBand(v) => Predicate::AgeBand(v),
                R::Gender(v) => Predicate::Gender(v),
                R::IncomeBand(v) => Predicate::IncomeBand(v),
                R::Industry(v) => Predicate::Industry(v),
                R::Interest(v) => Predicate::Interest(v),
                R::Lifestyle(v) => Predicate::Lifestyle(v),
                R::Value(v) => Predicate::Value(v),
                R::AcquisitionChannel(v) => Predicate::AcquisitionChannel(v),
                R::Attribute { key, value } => Predicate::Attribute { key, value },
                R::Consent(v) => Predicate::Consent(v),
                R::Tier(v) => Predicate::Tier(v),
                R::Need(v) => Predicate::Need(v),
                R::PainPoint(v) => Predicate::PainPoint(v),
                R::DaysSinceLastPurchase(c) => Predicate::DaysSinceLastPurchase(c),
                R::PurchaseCount(c) => Predicate::PurchaseCount(c),
                R::TotalSpend(c) => Predicate::TotalSpend(c),
            };
            // The children are checked already, so this looks at most 33 levels down.
            p.check_depth()?;
            Ok(p)
        }
    }
}

fn same_text(a: &Label, b: &Label) -> bool {
    a.as_str().to_lowercase() == b.as_str().to_lowercase()
}

fn same_opt(a: Option<&Label>, b: &Label) -> bool {
    a.is_some_and(|a| same_text(a, b))
}

impl Predicate {
    /// Shorthand for `Not`.
    #[allow(clippy::should_implement_trait)]
    pub fn not(p: Predicate) -> Predicate {
        Predicate::Not(Box::new(p))
    }

    /// How many levels the predicate nests: 1 for a comparison (and for an empty
    /// `all`/`any`), plus one for each `all`, `any` and `not` around it. Computed
    /// without recursion, so it is safe on a predicate of any depth.
    ///
    /// ```
    /// use solocrm_core::{LifecycleStage, Predicate};
    /// let stage = Predicate::Stage(LifecycleStage::Active);
    /// assert_eq!(stage.depth(), 1);
    /// assert_eq!(Predicate::not(Predicate::All(vec![stage])).depth(), 3);
    /// ```
    pub fn depth(&self) -> usize {
        let mut deepest = 0;
        let mut stack = vec![(self, 1usize)];
        while let Some((p, d)) = stack.pop() {
            deepest = deepest.max(d);
            match p {
                Predicate::All(ps) | Predicate::Any(ps) => {
                    stack.extend(ps.iter().map(|q| (q, d + 1)));
                }
                Predicate::Not(q) => stack.push((q, d + 1)),
                _ => {}
            }
        }
        deepest
    }

    /// Checks the predicate nests at most [`MAX_PREDICATE_DEPTH`] levels.
    ///
    /// # Errors
    ///
    /// [`ValidationError::TooDeep`].
    pub fn check_depth(&self) -> Result<(), ValidationError> {
        let depth = self.depth();
        if depth > MAX_PREDICATE_DEPTH {
            return Err(ValidationError::TooDeep {
                field: "segment condition",
                depth,
                max: MAX_PREDICATE_DEPTH,
            });
        }
        Ok(())
    }

    /// Whether `customer`, with the `facts` (purchases up to `as_of`, tier), satisfies
    /// the predicate. Days (since the last purchase, of age) are business-local days in
    /// `zone`.
    pub fn matches(
        &self,
        customer: &Customer,
        facts: &Facts<'_>,
        as_of: DateTime<Utc>,
        zone: BusinessZone,
    ) -> bool {
        self.holds_for(customer, facts, as_of, zone)
    }

    /// [`matches`](Predicate::matches) over a narrow row: the same answer as over the
    /// whole customer the row was read from, provided the row holds the
    /// [`fields`](Predicate::fields) of this predicate (a field left out reads as
    /// empty).
    pub fn matches_row(
        &self,
        row: &SegmentRow,
        facts: &Facts<'_>,
        as_of: DateTime<Utc>,
        zone: BusinessZone,
    ) -> bool {
        self.holds_for(row, facts, as_of, zone)
    }

    fn holds_for<S: Subject>(
        &self,
        customer: &S,
        facts: &Facts<'_>,
        as_of: DateTime<Utc>,
        zone: BusinessZone,
    ) -> bool {
        let p = customer.profile();
        let purchases = facts.purchases;
        match self {
            Predicate::All(ps) => ps.iter().all(|q| q.holds_for(customer, facts, as_of, zone)),
            Predicate::Any(ps) => ps.iter().any(|q| q.holds_for(customer, facts, as_of, zone)),
            Predicate::Not(q) => !q.holds_for(customer, facts, as_of, zone),
            Predicate::Stage(s) => customer.stage() == *s,
            Predicate::Tag(t) => customer.tags().contains(t),
            Predicate::Country(c) => p.country.as_ref() == Some(c),
            Predicate::Region(r) => same_opt(p.region.as_ref(), r),
            Predicate::City(c) => same_opt(p.city.as_ref(), c),
            Predicate::AgeBand(b) => customer.age_band_on(zone.date_of(as_of)) == Some(*b),
            Predicate::Gender(g) => p.gender == Some(*g),
            Predicate::IncomeBand(i) => p.income_band == Some(*i),
            Predicate::Industry(i) => same_opt(p.industry.as_ref(), i),
            Predicate::Interest(t) => p.interests.contains(t),
            Predicate::Lifestyle(t) => p.lifestyle.contains(t),
            Predicate::Value(t) => p.values.contains(t),
            Predicate::AcquisitionChannel(t) => customer.acquisition_channel() == Some(t),
            Predicate::Attribute { key, value } => same_opt(p.attributes.get(key), value),
            Predicate::Consent(purpose) => customer.had_consent_at(purpose, as_of),
            Predicate::Tier(t) => facts.tier == Some(t),
            Predicate::Need(k) => {
                crate::need::has_open(facts.needs, crate::need::NeedKind::Need, k, as_of)
            }
            Predicate::PainPoint(k) => {
                crate::need::has_open(facts.needs, crate::need::NeedKind::PainPoint, k, as_of)
            }
            Predicate::DaysSinceLastPurchase(c) => purchases
                .days_since_last(as_of, zone)
                .is_some_and(|d| c.holds(&d)),
            Predicate::PurchaseCount(c) => c.holds(&purchases.count),
            Predicate::TotalSpend(c) => c.holds(&purchases.total.amount()),
        }
    }

    /// Which parts of a customer record the predicate reads (the purchases, tier and
    /// needs come apart, in [`Facts`]).
    pub fn fields(&self) -> SegmentFields {
        let mut f = SegmentFields::default();
        let mut stack = vec![self];
        while let Some(p) = stack.pop() {
            match p {
                Predicate::All(ps) | Predicate::Any(ps) => stack.extend(ps.iter()),
                Predicate::Not(q) => stack.push(q),
                Predicate::Tag(_) => f.tags = true,
                Predicate::AgeBand(_) => {
                    f.birthday = true;
                    f.profile = true;
                }
                Predicate::Country(_)
                | Predicate::Region(_)
                | Predicate::City(_)
                | Predicate::Gender(_)
                | Predicate::IncomeBand(_)
                | Predicate::Industry(_)
                | Predicate::Interest(_)
                | Predicate::Lifestyle(_)
                | Predicate::Value(_)
                | Predicate::Attribute { .. } => f.profile = true,
                Predicate::AcquisitionChannel(_) => f.acquisition_channel = true,
                Predicate::Consent(_) => f.consents = true,
                Predicate::Stage(_)
                | Predicate::Tier(_)
                | Predicate::Need(_)
                | Predicate::PainPoint(_)
                | Predicate::DaysSinceLastPurchase(_)
                | Predicate::PurchaseCount(_)
                | Predicate::TotalSpend(_) => {}
            }
        }
        f
    }

    /// True if evaluating the predicate needs the customer's purchases.
    pub fn needs_purchases(&self) -> bool {
        match self {
            Predicate::All(ps) | Predicate::Any(ps) => ps.iter().any(Predicate::needs_purchases),
            Predicate::Not(q) => q.needs_purchases(),
            Predicate::DaysSinceLastPurchase(_)
            | Predicate::PurchaseCount(_)
            | Predicate::TotalSpend(_) => true,
            _ => false,
        }
    }

    /// True if evaluating the predicate needs the customer's tier.
    pub fn needs_tier(&self) -> bool {
        match self {
            Predicate::All(ps) | Predicate::Any(ps) => ps.iter().any(Predicate::needs_tier),
            Predicate::Not(q) => q.needs_tier(),
            Predicate::Tier(_) => true,
            _ => false,
        }
    }

    /// True if evaluating the predicate needs the customer's needs and pain points.
    pub fn needs_need_entries(&self) -> bool {
        match self {
            Predicate::All(ps) | Predicate::Any(ps) => ps.iter().any(Predicate::needs_need_entries),
            Predicate::Not(q) => q.needs_need_entries(),
            Predicate::Need(_) | Predicate::PainPoint(_) => true,
            _ => false,
        }
    }
}

/// A named predicate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Segment {
    /// The segment's name, unique per store.
    pub name: Label,
    /// Who belongs to it.
    pub predicate: Predicate,
}

impl Segment {
    /// Checks the segment can be stored and read back: its predicate nests at most
    /// [`MAX_PREDICATE_DEPTH`] levels. Stores call it before saving; a predicate from
    /// [`Predicate::parse`] or from deserialisation always passes.
    ///
    /// # Errors
    ///
    /// [`ValidationError::TooDeep`].
    pub fn validate(&self) -> Result<(), ValidationError> {
        self.predicate.check_depth()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::customer::{CustomerData, NewCustomer};
    use crate::ids::CustomerId;
    use crate::money::Currency;
    use crate::text::PersonName;
    use chrono::{Duration, TimeZone};
    use proptest::prelude::*;

    fn as_of() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 6, 1, 12, 0, 0)
            .single()
            .expect("valid")
    }

    fn customer(stage: LifecycleStage, tags: &[&str], country: Option<&str>) -> Customer {
        let mut data = CustomerData::new(PersonName::parse("x").expect("valid"));
        for t in tags {
            data.tags.insert(Tag::parse(t).expect("valid"));
        }
        data.profile.country = country.map(|c| CountryCode::parse(c).expect("valid"));
        Customer::create(
            CustomerId::new(1),
            NewCustomer::new(data, as_of()).at_stage(stage),
        )
    }

    #[test]
    fn the_issue_example_selects_active_vips_overdue_outside_china() {
        let pred = Predicate::All(vec![
            Predicate::Stage(LifecycleStage::Active),
            Predicate::Tag(Tag::parse("vip").expect("valid")),
            Predicate::DaysSinceLastPurchase(Comparison {
                op: Cmp::Gt,
                value: 60,
            }),
            Predicate::not(Predicate::Country(CountryCode::parse("CN").expect("valid"))),
        ]);
        let mut bought = PurchaseSummary::none(Currency::EUR);
        bought
            .add(
                as_of() - Duration::days(61),
                Money::from_minor(100, Currency::EUR),
            )
            .expect("same currency");
        let vip_de = customer(LifecycleStage::Active, &["vip"], Some("DE"));
        let vip_cn = customer(LifecycleStage::Active, &["vip"], Some("CN"));
        assert!(pred.matches(
            &vip_de,
            &Facts::purchases(&bought),
            as_of(),
            BusinessZone::UTC
        ));
        assert!(!pred.matches(
            &vip_cn,
            &Facts::purchases(&bought),
            as_of(),
            BusinessZone::UTC
        ));
        // Never bought: the recency comparison is false.
        assert!(!pred.matches(
            &vip_de,
            &Facts::purchases(&PurchaseSummary::none(Currency::EUR)),
            as_of(),
            BusinessZone::UTC
        ));
    }

    #[test]
    fn a_row_with_the_fields_a_predicate_names_answers_as_the_whole_customer() {
        let mut c = customer(LifecycleStage::Active, &["vip"], Some("DE"));
        let mut data = c.data().clone();
        data.birthday = chrono::NaiveDate::from_ymd_opt(1990, 6, 2);
        data.profile.city = Some(Label::parse("Köln").expect("valid"));
        data.acquisition_channel = Some(Tag::parse("fair").expect("valid"));
        c.set_data(data);
        c.record_consent(crate::customer::Consent {
            purpose: Tag::parse("newsletter").expect("valid"),
            granted: true,
            at: as_of() - Duration::days(1),
            source: Label::parse("form").expect("valid"),
        });
        let none = PurchaseSummary::none(Currency::EUR);
        let facts = Facts::purchases(&none);
        let predicates = [
            Predicate::Tag(Tag::parse("vip").expect("valid")),
            Predicate::Country(CountryCode::parse("DE").expect("valid")),
            Predicate::City(Label::parse("KÖLN").expect("valid")),
            Predicate::AgeBand(AgeBand::of_age(35)),
            Predicate::AgeBand(AgeBand::of_age(70)),
            Predicate::AcquisitionChannel(Tag::parse("fair").expect("valid")),
            Predicate::Consent(Tag::parse("newsletter").expect("valid")),
            Predicate::not(Predicate::Stage(LifecycleStage::Active)),
        ];
        let mut held = 0;
        for p in &predicates {
            let whole = p.matches(&c, &facts, as_of(), BusinessZone::UTC);
            let row = SegmentRow::of(&c, p.fields());
            assert_eq!(
                p.matches_row(&row, &facts, as_of(), BusinessZone::UTC),
                whole,
                "{p:?}"
            );
            held += usize::from(whole);
            // Without the fields it names, the row reads as empty.
            if p.fields() != SegmentFields::default() {
                let bare = SegmentRow::of(&c, SegmentFields::default());
                assert!(
                    !p.matches_row(&bare, &facts, as_of(), BusinessZone::UTC),
                    "{p:?}"
                );
            }
        }
        assert_eq!(held, 6);
        assert_eq!(
            Predicate::All(predicates.to_vec()).fields(),
            SegmentFields::ALL
        );
    }

    #[test]
    fn consent_counts_decisions_up_to_as_of_and_tier_comes_from_the_facts() {
        let mut c = customer(LifecycleStage::Active, &[], None);
        let purpose = Tag::parse("marketing-email").expect("valid");
        c.record_consent(crate::customer::Consent {
            purpose: purpose.clone(),
            granted: true,
            at: as_of() - Duration::days(10),
            source: Label::parse("网页表单").expect("valid"),
        });
        c.record_consent(crate::customer::Consent {
            purpose: purpose.clone(),
            granted: false,
            at: as_of() + Duration::days(1),
            source: Label::parse("电话").expect("valid"),
        });
        let none = PurchaseSummary::none(Currency::EUR);
        let facts = Facts::purchases(&none);
        let consent = Predicate::Consent(purpose);
        assert!(consent.matches(&c, &facts, as_of(), BusinessZone::UTC));
        assert!(!consent.matches(&c, &facts, as_of() + Duration::days(2), BusinessZone::UTC));
        let gold = Tag::parse("gold").expect("valid");
        let tier = Predicate::Tier(gold.clone());
        assert!(tier.needs_tier() && !consent.needs_tier());
        assert!(!tier.matches(&c, &facts, as_of(), BusinessZone::UTC));
        let facts = Facts {
            purchases: &none,
            tier: Some(&gold),
            needs: &[],
        };
        assert!(tier.matches(&c, &facts, as_of(), BusinessZone::UTC));
    }

    #[test]
    fn predicates_serialise_readably() {
        let pred = Predicate::All(vec![
            Predicate::Tag(Tag::parse("vip").expect("valid")),
            Predicate::PurchaseCount(Comparison {
                op: Cmp::Ge,
                value: 2,
            }),
        ]);
        let json = serde_json::to_string(&pred).expect("serializes");
        assert_eq!(
            json,
            r#"{"all":[{"tag":"vip"},{"purchase_count":{"op":"ge","value":2}}]}"#
        );
        assert_eq!(
            serde_json::from_str::<Predicate>(&json).expect("parses"),
            pred
        );
    }

    // Property: the evaluator agrees with a naive re-evaluation that first rewrites the
    // predicate into negation normal form (De Morgan) and computes the purchase summary
    // from the raw purchase list.

    #[derive(Debug, Clone)]
    struct World {
        customer: Customer,
        purchases: Vec<(i64, i64)>, // (days before as_of, minor units)
        needs: Vec<crate::need::Need>,
    }

    const NEED_KEYS: [&str; 3] = ["fast-delivery", "价格敏感", "售后"];

    /// A need or pain point recorded some days before (or after) `as_of`, maybe
    /// resolved some days after it was recorded, maybe voided.
    fn need_entry() -> impl Strategy<Value = crate::need::Need> {
        (
            prop::sample::select(crate::need::NeedKind::ALL),
            prop::sample::select(NEED_KEYS.to_vec()),
            -5i64..60,
            prop::option::of(0i64..60),
            any::<bool>(),
        )
            .prop_map(|(kind, key, before, resolved_after, voided)| {
                let at = as_of() - Duration::days(before);
                let mut n = crate::need::Need::new(
                    crate::ids::NeedId::new(1),
                    crate::need::NewNeed {
                        customer: CustomerId::new(1),
                        deal: None,
                        kind,
                        key: Tag::parse(key).expect("valid"),
                        note: None,
                        at,
                    },
                );
                n.resolved_at = resolved_after.map(|d| at + Duration::days(d));
                n.voided_at = voided.then_some(at);
                n
            })
    }

    fn leaf() -> impl Strategy<Value = Predicate> {
        prop_oneof![
            prop::sample::select(LifecycleStage::ALL).prop_map(Predicate::Stage),
            prop::sample::select(vec!["vip", "b2b", "x"])
                .prop_map(|t| Predicate::Tag(Tag::parse(t).expect("valid"))),
            prop::sample::select(vec!["DE", "CN"])
                .prop_map(|c| Predicate::Country(CountryCode::parse(c).expect("valid"))),
            (prop::sample::select(Cmp::ALL), 0i64..400)
                .prop_map(|(op, value)| Predicate::DaysSinceLastPurchase(Comparison { op, value })),
            prop::sample::select(NEED_KEYS.to_vec())
                .prop_map(|k| Predicate::Need(Tag::parse(k).expect("valid"))),
            prop::sample::select(NEED_KEYS.to_vec())
                .prop_map(|k| Predicate::PainPoint(Tag::parse(k).expect("valid"))),
            (prop::sample::select(Cmp::ALL), 0u64..6)
                .prop_map(|(op, value)| Predicate::PurchaseCount(Comparison { op, value })),
            (prop::sample::select(Cmp::ALL), 0i64..50_000).prop_map(|(op, v)| {
                Predicate::TotalSpend(Comparison {
                    op,
                    value: Decimal::new(v, 2),
                })
            }),
        ]
    }

    fn predicate() -> impl Strategy<Value = Predicate> {
        leaf().prop_recursive(4, 32, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Predicate::All),
                prop::collection::vec(inner.clone(), 0..4).prop_map(Predicate::Any),
                inner.prop_map(Predicate::not),
            ]
        })
    }

    fn world() -> impl Strategy<Value = World> {
        (
            prop::sample::select(LifecycleStage::ALL),
            prop::sample::subsequence(vec!["vip", "b2b"], 0..=2),
            prop::option::of(prop::sample::select(vec!["DE", "CN", "FR"])),
            prop::collection::vec((0i64..400, 0i64..20_000), 0..6),
            prop::collection::vec(need_entry(), 0..5),
        )
            .prop_map(|(stage, tags, country, purchases, needs)| World {
                customer: customer(stage, &tags, country),
                purchases,
                needs,
            })
    }

    /// Negation normal form: `not` pushed down to the leaves.
    fn nnf(p: &Predicate, negate: bool) -> Predicate {
        match (p, negate) {
            (Predicate::All(ps), false) => {
                Predicate::All(ps.iter().map(|q| nnf(q, false)).collect())
            }
            (Predicate::All(ps), true) => Predicate::Any(ps.iter().map(|q| nnf(q, true)).collect()),
            (Predicate::Any(ps), false) => {
                Predicate::Any(ps.iter().map(|q| nnf(q, false)).collect())
            }
            (Predicate::Any(ps), true) => Predicate::All(ps.iter().map(|q| nnf(q, true)).collect()),
            (Predicate::Not(q), n) => nnf(q, !n),
            (leaf, false) => leaf.clone(),
            (leaf, true) => Predicate::not(leaf.clone()),
        }
    }

    fn naive(p: &Predicate, w: &World) -> bool {
        let as_of = as_of();
        let days: Vec<i64> = w.purchases.iter().map(|(d, _)| *d).collect();
        let total: i64 = w.purchases.iter().map(|(_, m)| *m).sum();
        match p {
            Predicate::All(ps) => ps.iter().all(|q| naive(q, w)),
            Predicate::Any(ps) => ps.iter().any(|q| naive(q, w)),
            Predicate::Not(q) => !naive(q, w),
            Predicate::DaysSinceLastPurchase(c) => days.iter().min().is_some_and(|d| c.holds(d)),
            Predicate::PurchaseCount(c) => c.holds(&(days.len() as u64)),
            Predicate::TotalSpend(c) => c.holds(&Decimal::new(total, 2)),
            // Open at as_of, spelled out: recorded by then, not resolved by then, not void.
            Predicate::Need(k) | Predicate::PainPoint(k) => {
                let kind = if matches!(p, Predicate::Need(_)) {
                    crate::need::NeedKind::Need
                } else {
                    crate::need::NeedKind::PainPoint
                };
                w.needs.iter().any(|n| {
                    n.kind == kind
                        && n.key == *k
                        && n.voided_at.is_none()
                        && n.at <= as_of
                        && n.resolved_at.is_none_or(|r| as_of < r)
                })
            }
            other => {
                let summary = PurchaseSummary::none(Currency::EUR);
                other.matches(
                    &w.customer,
                    &Facts::purchases(&summary),
                    as_of,
                    BusinessZone::UTC,
                )
            }
        }
    }

    proptest! {
        #[test]
        fn predicates_agree_with_a_naive_re_evaluation(p in predicate(), w in world()) {
            let mut summary = PurchaseSummary::none(Currency::EUR);
            for (d, m) in &w.purchases {
                summary.add(as_of() - Duration::days(*d), Money::from_minor(*m, Currency::EUR)).expect("same currency");
            }
            let facts = Facts { needs: &w.needs, ..Facts::purchases(&summary) };
            let fast = p.matches(&w.customer, &facts, as_of(), BusinessZone::UTC);
            prop_assert_eq!(fast, naive(&p, &w));
            prop_assert_eq!(fast, nnf(&p, false).matches(&w.customer, &facts, as_of(), BusinessZone::UTC));
            prop_assert_eq!(!fast, nnf(&p, true).matches(&w.customer, &facts, as_of(), BusinessZone::UTC));
        }
    }
}
