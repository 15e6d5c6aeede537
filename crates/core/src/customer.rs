//! Customers: contact data, segmentation profile, consent, lifecycle stage.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::error::ValidationError;
use crate::ids::CustomerId;
use crate::lifecycle::{LifecycleStage, StageChange, StageReason, TransitionError};
use crate::money::Money;
use crate::names::named_enum;
use crate::text::{CountryCode, Email, ExternalRef, FreeText, Label, PersonName, Phone, Tag, Tags};

named_enum! {
    /// Age bands for demographic segmentation (the bands most marketing surveys use).
    pub enum AgeBand as "age band" {
        /// Under 18.
        Under18 = "under_18",
        /// 18 to 24.
        From18To24 = "18_24",
        /// 25 to 34.
        From25To34 = "25_34",
        /// 35 to 44.
        From35To44 = "35_44",
        /// 45 to 54.
        From45To54 = "45_54",
        /// 55 to 64.
        From55To64 = "55_64",
        /// 65 or older.
        From65 = "65_plus",
    }
}

impl AgeBand {
    /// The band of an age in whole years.
    pub fn of_age(years: u32) -> AgeBand {
        match years {
            0..=17 => AgeBand::Under18,
            18..=24 => AgeBand::From18To24,
            25..=34 => AgeBand::From25To34,
            35..=44 => AgeBand::From35To44,
            45..=54 => AgeBand::From45To54,
            55..=64 => AgeBand::From55To64,
            _ => AgeBand::From65,
        }
    }
}

named_enum! {
    /// Gender, if the customer chose to say.
    pub enum Gender as "gender" {
        /// Female.
        Female = "female",
        /// Male.
        Male = "male",
        /// Non-binary or another gender.
        Diverse = "diverse",
    }
}

named_enum! {
    /// A coarse income band.
    pub enum IncomeBand as "income band" {
        /// Low income.
        Low = "low",
        /// Lower-middle income.
        LowerMiddle = "lower_middle",
        /// Middle income.
        Middle = "middle",
        /// Upper-middle income.
        UpperMiddle = "upper_middle",
        /// High income.
        High = "high",
    }
}

/// A year of birth between 1900 and 2100, for customers whose full birthday is unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "i32", into = "i32")]
pub struct BirthYear(i32);

impl BirthYear {
    /// Checks a year of birth.
    ///
    /// # Errors
    ///
    /// [`ValidationError::OutOfRange`] outside 1900..=2100.
    pub fn new(year: i32) -> Result<Self, ValidationError> {
        if (1900..=2100).contains(&year) {
            Ok(BirthYear(year))
        } else {
            Err(ValidationError::OutOfRange {
                field: "birth year",
                value: year.into(),
                min: 1900,
                max: 2100,
            })
        }
    }

    /// The year.
    pub fn get(self) -> i32 {
        self.0
    }
}

impl TryFrom<i32> for BirthYear {
    type Error = ValidationError;
    fn try_from(y: i32) -> Result<Self, Self::Error> {
        BirthYear::new(y)
    }
}

impl From<BirthYear> for i32 {
    fn from(y: BirthYear) -> i32 {
        y.0
    }
}

/// Segmentation attributes: where the customer is (geographic), who they are
/// (demographic) and what they care about (psychographic). Behavioural attributes are
/// not stored here; they are computed from purchases and interactions.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    /// Country.
    pub country: Option<CountryCode>,
    /// Region, state or province.
    pub region: Option<Label>,
    /// City.
    pub city: Option<Label>,
    /// Year of birth, when the birthday is unknown.
    pub birth_year: Option<BirthYear>,
    /// Gender, if given.
    pub gender: Option<Gender>,
    /// Income band, if known.
    pub income_band: Option<IncomeBand>,
    /// Industry (for business customers) or profession.
    pub industry: Option<Label>,
    /// Interests (psychographic).
    pub interests: Tags,
    /// Lifestyle (psychographic).
    pub lifestyle: Tags,
    /// Values (psychographic).
    pub values: Tags,
    /// Custom attributes: anything else the business segments by.
    pub attributes: BTreeMap<Tag, Label>,
}

/// A purpose for which a customer may give or withdraw consent, e.g. `marketing-email`.
/// Same normalisation as a [`Tag`].
pub type ConsentPurpose = Tag;

/// One consent decision: granted or withdrawn, for a purpose, at a time, from a source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Consent {
    /// What the consent is for.
    pub purpose: ConsentPurpose,
    /// Granted (`true`) or withdrawn (`false`).
    pub granted: bool,
    /// When the decision was made.
    pub at: DateTime<Utc>,
    /// Where it was recorded: a web form, a signed contract, a phone call.
    pub source: Label,
}

/// Everything about a customer that a person edits. Every field holds an already
/// validated type, so any value of this struct is valid; uniqueness of email and
/// external reference is the store's to check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerData {
    /// Display name.
    pub name: PersonName,
    /// Email, unique per store ignoring case.
    pub email: Option<Email>,
    /// Phone.
    pub phone: Option<Phone>,
    /// Company.
    pub company: Option<Label>,
    /// Birthday (February 29 is allowed).
    pub birthday: Option<NaiveDate>,
    /// Tags.
    pub tags: Tags,
    /// Segmentation attributes.
    pub profile: Profile,
    /// How the customer found the business (`referral`, `google-ads`, `trade-fair`).
    pub acquisition_channel: Option<Tag>,
    /// What it cost to win this customer, in the store's base currency.
    pub acquisition_cost: Option<Money>,
    /// Reference in another system; unique per store.
    pub external_ref: Option<ExternalRef>,
    /// Free notes.
    pub notes: FreeText,
}

impl CustomerData {
    /// Data with only a name; every other field empty.
    pub fn new(name: PersonName) -> Self {
        CustomerData {
            name,
            email: None,
            phone: None,
            company: None,
            birthday: None,
            tags: Tags::new(),
            profile: Profile::default(),
            acquisition_channel: None,
            acquisition_cost: None,
            external_ref: None,
            notes: FreeText::empty(),
        }
    }

    /// Sets the email.
    #[must_use]
    pub fn with_email(mut self, email: Email) -> Self {
        self.email = Some(email);
        self
    }

    /// Sets the phone.
    #[must_use]
    pub fn with_phone(mut self, phone: Phone) -> Self {
        self.phone = Some(phone);
        self
    }

    /// Sets the birthday.
    #[must_use]
    pub fn with_birthday(mut self, birthday: NaiveDate) -> Self {
        self.birthday = Some(birthday);
        self
    }

    /// Adds a tag.
    #[must_use]
    pub fn with_tag(mut self, tag: Tag) -> Self {
        self.tags.insert(tag);
        self
    }

    /// Sets the acquisition channel and cost.
    #[must_use]
    pub fn with_acquisition(mut self, channel: Tag, cost: Option<Money>) -> Self {
        self.acquisition_channel = Some(channel);
        self.acquisition_cost = cost;
        self
    }

    /// Sets the external reference.
    #[must_use]
    pub fn with_external_ref(mut self, reference: ExternalRef) -> Self {
        self.external_ref = Some(reference);
        self
    }

    /// Sets the country.
    #[must_use]
    pub fn with_country(mut self, country: CountryCode) -> Self {
        self.profile.country = Some(country);
        self
    }

    /// Checks the money fields against the store's base currency and returns the data
    /// with amounts in their stored form (see [`Money::for_storage`]); checks the
    /// birthday lies in the calendar solocrm accepts ([`crate::time::check_date`]:
    /// no year 0000, no 2205).
    ///
    /// # Errors
    ///
    /// The acquisition cost's [`ValidationError`], [`ValidationError::NegativeAmount`],
    /// or [`ValidationError::DateOutOfRange`] for the birthday.
    pub fn for_storage(mut self, base: crate::Currency) -> Result<Self, ValidationError> {
        if let Some(birthday) = self.birthday {
            crate::time::check_date("birthday", birthday)?;
        }
        if let Some(cost) = self.acquisition_cost {
            let field = "acquisition cost";
            if cost.is_negative() {
                return Err(ValidationError::NegativeAmount {
                    field,
                    amount: cost,
                });
            }
            self.acquisition_cost = Some(cost.for_storage(field, base)?);
        }
        Ok(self)
    }
}

/// A customer to be created: their data, when they became known, and their first stage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewCustomer {
    /// The editable data.
    pub data: CustomerData,
    /// When the business first knew of them.
    pub created_at: DateTime<Utc>,
    /// The first stage; [`LifecycleStage::Prospect`] unless the customer is imported
    /// from an existing relationship.
    pub stage: LifecycleStage,
}

impl NewCustomer {
    /// A new prospect.
    pub fn new(data: CustomerData, created_at: DateTime<Utc>) -> Self {
        NewCustomer {
            data,
            created_at,
            stage: LifecycleStage::Prospect,
        }
    }

    /// Starts the customer at another stage.
    #[must_use]
    pub fn at_stage(mut self, stage: LifecycleStage) -> Self {
        self.stage = stage;
        self
    }
}

/// The placeholder name an erased customer carries: `erased customer 42`.
pub fn erased_name(id: CustomerId) -> PersonName {
    PersonName::placeholder(format!("erased customer {id}"))
}

/// A customer as the store knows them.
///
/// Deserialising checks what a store checks on the way in and what
/// [`Customer::erase`] leaves: the data passes [`CustomerData::for_storage`] (in the
/// acquisition cost's own currency), and an erased customer holds no personal data and
/// no consents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "CustomerRepr", into = "CustomerRepr")]
pub struct Customer {
    id: CustomerId,
    #[serde(flatten)]
    data: CustomerData,
    created_at: DateTime<Utc>,
    stage: LifecycleStage,
    consents: Vec<Consent>,
    erased_at: Option<DateTime<Utc>>,
}

impl Customer {
    /// A customer as created from `new` under `id`. For store implementations.
    pub fn create(id: CustomerId, new: NewCustomer) -> Self {
        Customer {
            id,
            data: new.data,
            created_at: new.created_at,
            stage: new.stage,
            consents: Vec::new(),
            erased_at: None,
        }
    }

    /// Rebuilds a stored customer from its parts. For store implementations that keep
    /// the parts in separate columns; every part is already a validated type.
    pub fn from_parts(
        id: CustomerId,
        data: CustomerData,
        created_at: DateTime<Utc>,
        stage: LifecycleStage,
        consents: Vec<Consent>,
        erased_at: Option<DateTime<Utc>>,
    ) -> Self {
        Customer {
            id,
            data,
            created_at,
            stage,
            consents,
            erased_at,
        }
    }

    /// The id.
    pub fn id(&self) -> CustomerId {
        self.id
    }
    /// The editable data.
    pub fn data(&self) -> &CustomerData {
        &self.data
    }
    /// The display name.
    pub fn name(&self) -> &PersonName {
        &self.data.name
    }
    /// The email.
    pub fn email(&self) -> Option<&Email> {
        self.data.email.as_ref()
    }
    /// The phone.
    pub fn phone(&self) -> Option<&Phone> {
        self.data.phone.as_ref()
    }
    /// The birthday.
    pub fn birthday(&self) -> Option<NaiveDate> {
        self.data.birthday
    }
    /// The tags.
    pub fn tags(&self) -> &Tags {
        &self.data.tags
    }
    /// The segmentation profile.
    pub fn profile(&self) -> &Profile {
        &self.data.profile
    }
    /// The external reference.
    pub fn external_ref(&self) -> Option<&ExternalRef> {
        self.data.external_ref.as_ref()
    }
    /// When the business first knew of them.
    pub fn created_at(&self) -> DateTime<Utc> {
        self.created_at
    }
    /// The current lifecycle stage.
    pub fn stage(&self) -> LifecycleStage {
        self.stage
    }
    /// Every consent decision, oldest first.
    pub fn consents(&self) -> &[Consent] {
        &self.consents
    }
    /// When the customer's personal data was erased, if it was.
    pub fn erased_at(&self) -> Option<DateTime<Utc>> {
        self.erased_at
    }
    /// True once erased.
    pub fn is_erased(&self) -> bool {
        self.erased_at.is_some()
    }

    /// Whether consent for `purpose` is in force: the latest decision for it (by time,
    /// then by order of recording) is a grant. No decision means no consent.
    pub fn has_consent(&self, purpose: &ConsentPurpose) -> bool {
        self.consents
            .iter()
            .enumerate()
            .filter(|(_, c)| &c.purpose == purpose)
            .max_by_key(|(i, c)| (c.at, *i))
            .is_some_and(|(_, c)| c.granted)
    }

    /// Whether consent for `purpose` was in force at `at`: like
    /// [`has_consent`](Customer::has_consent), counting only the decisions made at or
    /// before `at`.
    pub fn had_consent_at(&self, purpose: &ConsentPurpose, at: DateTime<Utc>) -> bool {
        consent_in_force(&self.consents, purpose, at)
    }

    /// The age in whole years on `on`: exact from the birthday, else from the birth
    /// year (which can be one year high before the birthday in that year).
    pub fn age_on(&self, on: NaiveDate) -> Option<u32> {
        age_from(self.data.birthday, self.data.profile.birth_year, on)
    }

    /// The age band on `on`, if the age is known.
    pub fn age_band_on(&self, on: NaiveDate) -> Option<AgeBand> {
        self.age_on(on).map(AgeBand::of_age)
    }

    /// Replaces the editable data (the caller has validated it for storage).
    pub fn set_data(&mut self, data: CustomerData) {
        self.data = data;
    }

    /// Adds a tag; returns false if it was already there.
    pub fn add_tag(&mut self, tag: Tag) -> bool {
        self.data.tags.insert(tag)
    }

    /// Removes a tag; returns false if it was not there.
    pub fn remove_tag(&mut self, tag: &Tag) -> bool {
        self.data.tags.remove(tag)
    }

    /// Records a consent decision.
    pub fn record_consent(&mut self, consent: Consent) {
        self.consents.push(consent);
    }

    /// Moves the customer to `to` if the lifecycle table allows it, and returns the
    /// record of the change.
    ///
    /// # Errors
    ///
    /// [`TransitionError::Lifecycle`] naming both stages.
    pub fn move_to(
        &mut self,
        to: LifecycleStage,
        at: DateTime<Utc>,
        reason: StageReason,
    ) -> Result<StageChange, TransitionError> {
        self.stage.check_move(to)?;
        let change = StageChange {
            customer: self.id,
            from: self.stage,
            to,
            at,
            reason,
        };
        self.stage = to;
        Ok(change)
    }

    /// Removes the personal data: the name becomes a placeholder; email, phone, company,
    /// birthday, tags, profile, external reference, notes and consents are cleared.
    /// The id, creation time, stage, acquisition channel and cost stay, so aggregates do
    /// not move.
    pub fn erase(&mut self, at: DateTime<Utc>) {
        let mut data = CustomerData::new(erased_name(self.id));
        data.acquisition_channel = self.data.acquisition_channel.take();
        data.acquisition_cost = self.data.acquisition_cost.take();
        self.data = data;
        self.consents.clear();
        self.erased_at = Some(at);
    }
}

/// The serialised form of a [`Customer`]: the same fields, checked on the way in.
#[derive(Serialize, Deserialize)]
struct CustomerRepr {
    id: CustomerId,
    #[serde(flatten)]
    data: CustomerData,
    created_at: DateTime<Utc>,
    stage: LifecycleStage,
    consents: Vec<Consent>,
    erased_at: Option<DateTime<Utc>>,
}

impl From<Customer> for CustomerRepr {
    fn from(c: Customer) -> Self {
        CustomerRepr {
            id: c.id,
            data: c.data,
            created_at: c.created_at,
            stage: c.stage,
            consents: c.consents,
            erased_at: c.erased_at,
        }
    }
}

impl TryFrom<CustomerRepr> for Customer {
    type Error = ValidationError;
    fn try_from(r: CustomerRepr) -> Result<Self, ValidationError> {
        let base = r
            .data
            .acquisition_cost
            .map_or(crate::Currency::EUR, |c| c.currency());
        // The checks a store ran; the data is kept as written.
        r.data.clone().for_storage(base)?;
        let customer =
            Customer::from_parts(r.id, r.data, r.created_at, r.stage, r.consents, r.erased_at);
        if let Some(at) = customer.erased_at {
            let mut erased = customer.clone();
            erased.erase(at);
            if erased != customer {
                return Err(ValidationError::Inconsistent {
                    record: format!("customer {}", customer.id),
                    detail:
                        "erased_at is set, but the customer still holds personal data or consents"
                            .into(),
                });
            }
        }
        Ok(customer)
    }
}

/// The age in whole years on `on` of someone with this birthday or, without one, this
/// birth year (see [`Customer::age_on`]).
pub(crate) fn age_from(
    birthday: Option<NaiveDate>,
    birth_year: Option<BirthYear>,
    on: NaiveDate,
) -> Option<u32> {
    if let Some(b) = birthday {
        return on.years_since(b);
    }
    let year = birth_year?.get();
    u32::try_from(on.year() - year).ok()
}

/// Whether the latest of `consents` for `purpose` at or before `at` (by time, then
/// by order) is a grant (see [`Customer::had_consent_at`]).
pub(crate) fn consent_in_force(
    consents: &[Consent],
    purpose: &ConsentPurpose,
    at: DateTime<Utc>,
) -> bool {
    consents
        .iter()
        .enumerate()
        .filter(|(_, c)| &c.purpose == purpose && c.at <= at)
        .max_by_key(|(i, c)| (c.at, *i))
        .is_some_and(|(_, c)| c.granted)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Year 0000 passed as a date; a birthday is now checked against the calendar.
    #[test]
    fn a_birthday_in_year_0000_or_2205_is_refused() {
        let name = PersonName::parse("Ada").expect("a name");
        for (y, ok) in [(0, false), (2205, false), (1990, true)] {
            let day = NaiveDate::from_ymd_opt(y, 6, 1).expect("a date");
            let data = CustomerData::new(name.clone()).with_birthday(day);
            let got = data.for_storage(crate::Currency::EUR);
            assert_eq!(got.is_ok(), ok, "{day}");
            if !ok {
                assert!(matches!(got, Err(ValidationError::DateOutOfRange { .. })));
            }
        }
    }
    use chrono::TimeZone;

    fn t(y: i32, m: u32, d: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, 12, 0, 0)
            .single()
            .expect("valid")
    }

    fn ada() -> Customer {
        let data = CustomerData::new(PersonName::parse("Ada").expect("valid"))
            .with_email(Email::parse("ada@example.com").expect("valid"))
            .with_birthday(NaiveDate::from_ymd_opt(2000, 2, 29).expect("valid"));
        Customer::create(CustomerId::new(7), NewCustomer::new(data, t(2026, 1, 1)))
    }

    #[test]
    fn a_leap_day_birthday_ages_on_march_first_in_common_years() {
        let c = ada();
        let feb28 = NaiveDate::from_ymd_opt(2026, 2, 28).expect("valid");
        let mar1 = NaiveDate::from_ymd_opt(2026, 3, 1).expect("valid");
        assert_eq!(c.age_on(feb28), Some(25));
        assert_eq!(c.age_on(mar1), Some(26));
        assert_eq!(c.age_band_on(mar1), Some(AgeBand::From25To34));
    }

    #[test]
    fn the_latest_consent_decision_wins() {
        let mut c = ada();
        let purpose = Tag::parse("marketing-email").expect("valid");
        let source = Label::parse("web form").expect("valid");
        assert!(!c.has_consent(&purpose));
        c.record_consent(Consent {
            purpose: purpose.clone(),
            granted: true,
            at: t(2026, 1, 2),
            source: source.clone(),
        });
        assert!(c.has_consent(&purpose));
        c.record_consent(Consent {
            purpose: purpose.clone(),
            granted: false,
            at: t(2026, 3, 1),
            source,
        });
        assert!(!c.has_consent(&purpose));
    }

    #[test]
    fn erasing_keeps_the_acquisition_but_drops_personal_data() {
        let mut c = ada();
        let mut data = c.data().clone();
        data.acquisition_channel = Some(Tag::parse("referral").expect("valid"));
        data.notes = FreeText::parse("likes tea").expect("valid");
        c.set_data(data);
        c.erase(t(2026, 5, 1));
        assert_eq!(c.name().as_str(), "erased customer 7");
        assert_eq!(c.email(), None);
        assert_eq!(c.birthday(), None);
        assert!(c.data().notes.is_empty());
        assert_eq!(
            c.data().acquisition_channel.as_ref().map(Tag::as_str),
            Some("referral")
        );
        assert!(c.is_erased());
    }

    #[test]
    fn a_customer_round_trips_through_json() {
        let c = ada();
        let json = serde_json::to_string(&c).expect("serializes");
        let back: Customer = serde_json::from_str(&json).expect("deserializes");
        assert_eq!(back, c);
    }
}
