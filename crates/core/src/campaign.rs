//! Campaigns: a marketing push on one acquisition channel over a period of days
//! (`双十一直播`, a trade fair, an ads flight), with an optional budget. Costs,
//! customers and deals can be *attributed* to a campaign, and the campaign metrics
//! ([`crate::metrics::campaign_stats`]) set what it cost against what it won.
//!
//! A campaign's actual cost is the sum of the non-void costs attributed to it; the
//! budget is only the plan, shown beside (ADR 0034). A campaign holds no personal
//! data: erasing a customer removes their attribution, never the campaign.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::error::ValidationError;
use crate::ids::{CampaignId, CostId, CustomerId, DealId};
use crate::money::{Currency, Money};
use crate::text::{FreeText, Label, Tag};

/// A campaign to record, or the new fields of one. [`NewCampaign::for_storage`]
/// checks the days and the budget.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewCampaign {
    /// The name, unique in the books (compared ignoring case).
    pub name: Label,
    /// The acquisition channel it runs on, spelled like a customer's
    /// [`acquisition_channel`](crate::CustomerData::acquisition_channel) and a cost's
    /// channel.
    pub channel: Tag,
    /// Its first day (in the business time zone).
    pub start: NaiveDate,
    /// Its last day, inclusive; `None` while it runs with no end set.
    pub end: Option<NaiveDate>,
    /// The planned spend: a plan shown beside the recorded costs, never summed.
    pub budget: Option<Money>,
    /// A note.
    pub note: Option<FreeText>,
}

impl NewCampaign {
    /// A campaign with only the required fields: open-ended, no budget, no note.
    pub fn new(name: Label, channel: Tag, start: NaiveDate) -> Self {
        NewCampaign {
            name,
            channel,
            start,
            end: None,
            budget: None,
            note: None,
        }
    }

    /// Checks the days (within the calendar solocrm measures, the end not before the
    /// start) and the budget (not negative, in `base`, whole minor units).
    ///
    /// # Errors
    ///
    /// [`ValidationError::DateOutOfRange`], [`ValidationError::Inconsistent`] for an
    /// end before the start, [`ValidationError::NegativeAmount`] and the errors of
    /// [`Money::for_storage`].
    pub fn for_storage(mut self, base: Currency) -> Result<Self, ValidationError> {
        crate::time::check_date("campaign start", self.start)?;
        if let Some(end) = self.end {
            crate::time::check_date("campaign end", end)?;
            if end < self.start {
                return Err(ValidationError::Inconsistent {
                    record: format!("campaign '{}'", self.name),
                    detail: format!("it ends on {end}, before it starts on {}", self.start),
                });
            }
        }
        if let Some(b) = self.budget {
            let field = "campaign budget";
            if b.is_negative() {
                return Err(ValidationError::NegativeAmount { field, amount: b });
            }
            self.budget = Some(b.for_storage(field, base)?);
        }
        Ok(self)
    }
}

/// A stored campaign.
///
/// Deserialising checks what [`NewCampaign::for_storage`] checks, in the budget's own
/// currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "CampaignRepr", into = "CampaignRepr")]
pub struct Campaign {
    id: CampaignId,
    fields: NewCampaign,
}

impl Campaign {
    /// The campaign `fields` stored under `id`. For store implementations and the
    /// operations layer, which check the fields first.
    pub fn new(id: CampaignId, fields: NewCampaign) -> Self {
        Campaign { id, fields }
    }
    /// The id.
    pub fn id(&self) -> CampaignId {
        self.id
    }
    /// The name.
    pub fn name(&self) -> &Label {
        &self.fields.name
    }
    /// The case-folded name, for uniqueness and look-ups.
    pub fn name_key(&self) -> String {
        name_key(self.fields.name.as_str())
    }
    /// The acquisition channel.
    pub fn channel(&self) -> &Tag {
        &self.fields.channel
    }
    /// The first day.
    pub fn start(&self) -> NaiveDate {
        self.fields.start
    }
    /// The last day, if set.
    pub fn end(&self) -> Option<NaiveDate> {
        self.fields.end
    }
    /// The planned spend.
    pub fn budget(&self) -> Option<Money> {
        self.fields.budget
    }
    /// The note.
    pub fn note(&self) -> Option<&FreeText> {
        self.fields.note.as_ref()
    }
    /// The fields.
    pub fn fields(&self) -> &NewCampaign {
        &self.fields
    }
    /// True if the campaign has ended by `day`: its end is set and before `day`.
    pub fn has_ended(&self, day: NaiveDate) -> bool {
        self.fields.end.is_some_and(|e| e < day)
    }
}

/// The case-folded form of a campaign name, as [`Campaign::name_key`] compares it.
pub fn name_key(name: &str) -> String {
    name.trim().to_lowercase()
}

/// Changes to a campaign's fields; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CampaignEdit {
    /// A new name.
    pub name: Option<Label>,
    /// A new channel.
    pub channel: Option<Tag>,
    /// A new first day.
    pub start: Option<NaiveDate>,
    /// A new last day, or `Some(None)` to clear it.
    pub end: Option<Option<NaiveDate>>,
    /// A new budget, or `Some(None)` to clear it.
    pub budget: Option<Option<Money>>,
    /// A new note, or `Some(None)` to clear it.
    pub note: Option<Option<FreeText>>,
}

impl CampaignEdit {
    /// True if the edit changes nothing.
    pub fn is_empty(&self) -> bool {
        *self == CampaignEdit::default()
    }
    /// The fields with the edit applied (not yet checked).
    pub fn apply(&self, mut f: NewCampaign) -> NewCampaign {
        if let Some(n) = &self.name {
            f.name = n.clone();
        }
        if let Some(c) = &self.channel {
            f.channel = c.clone();
        }
        if let Some(s) = self.start {
            f.start = s;
        }
        if let Some(e) = self.end {
            f.end = e;
        }
        if let Some(b) = self.budget {
            f.budget = b;
        }
        if let Some(n) = &self.note {
            f.note = n.clone();
        }
        f
    }
}

/// The serialised form of a [`Campaign`]: the same fields, checked on the way in.
#[derive(Serialize, Deserialize)]
struct CampaignRepr {
    id: CampaignId,
    #[serde(flatten)]
    fields: NewCampaign,
}

impl From<Campaign> for CampaignRepr {
    fn from(c: Campaign) -> Self {
        CampaignRepr {
            id: c.id,
            fields: c.fields,
        }
    }
}

impl TryFrom<CampaignRepr> for Campaign {
    type Error = ValidationError;
    fn try_from(r: CampaignRepr) -> Result<Self, ValidationError> {
        let base = r.fields.budget.map_or(Currency::EUR, |b| b.currency());
        let fields = r.fields.for_storage(base)?;
        Ok(Campaign::new(r.id, fields))
    }
}

/// What is attributed to a campaign: a customer it acquired, a deal it brought, or a
/// cost spent on it. Each has at most one campaign.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum AttributionSubject {
    /// A customer, by the campaign that acquired them.
    Customer(CustomerId),
    /// A deal, by the campaign that brought it.
    Deal(DealId),
    /// A cost, by the campaign it was spent on.
    Cost(CostId),
}

impl AttributionSubject {
    /// The kind's name as stored: `customer`, `deal` or `cost`.
    pub fn kind(self) -> &'static str {
        match self {
            AttributionSubject::Customer(_) => "customer",
            AttributionSubject::Deal(_) => "deal",
            AttributionSubject::Cost(_) => "cost",
        }
    }
    /// The subject's raw id.
    pub fn raw_id(self) -> u64 {
        match self {
            AttributionSubject::Customer(i) => i.get(),
            AttributionSubject::Deal(i) => i.get(),
            AttributionSubject::Cost(i) => i.get(),
        }
    }
    /// The subject from its stored kind and raw id.
    ///
    /// # Errors
    ///
    /// [`ValidationError::UnknownName`] for another kind.
    pub fn from_parts(kind: &str, id: u64) -> Result<Self, ValidationError> {
        match kind {
            "customer" => Ok(AttributionSubject::Customer(CustomerId::new(id))),
            "deal" => Ok(AttributionSubject::Deal(DealId::new(id))),
            "cost" => Ok(AttributionSubject::Cost(CostId::new(id))),
            _ => Err(ValidationError::UnknownName {
                field: "attribution kind",
                input: kind.to_owned(),
                expected: crate::names::NameList(&["customer", "deal", "cost"]),
            }),
        }
    }
}

/// One attribution: `subject` belongs to `campaign`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Attribution {
    /// What is attributed.
    pub subject: AttributionSubject,
    /// To which campaign.
    pub campaign: CampaignId,
}

impl Attribution {
    /// Whether a group's data keeps this attribution (ADR 0026): a member customer's,
    /// a kept deal's, never a cost's, since a group holds no costs. The one rule of
    /// the group report and of `campaign stats --segment/--stage`.
    pub fn kept_in_group(
        &self,
        member: impl Fn(CustomerId) -> bool,
        kept_deal: impl Fn(DealId) -> bool,
    ) -> bool {
        match self.subject {
            AttributionSubject::Customer(c) => member(c),
            AttributionSubject::Deal(d) => kept_deal(d),
            AttributionSubject::Cost(_) => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, d).expect("a day")
    }

    fn new() -> NewCampaign {
        NewCampaign::new(
            Label::parse("双十一直播").expect("a name"),
            Tag::parse("douyin").expect("a channel"),
            day(1),
        )
    }

    #[test]
    fn the_end_is_not_before_the_start_and_the_budget_not_negative() {
        let mut c = new();
        c.end = Some(day(11));
        c.budget = Some(Money::from_minor(500_000, Currency::CNY));
        assert!(c.clone().for_storage(Currency::CNY).is_ok());
        assert!(c.clone().for_storage(Currency::EUR).is_err());
        let mut early = c.clone();
        early.start = day(12);
        assert!(early.for_storage(Currency::CNY).is_err());
        c.budget = Some(Money::from_minor(-1, Currency::CNY));
        assert!(c.for_storage(Currency::CNY).is_err());
    }

    #[test]
    fn a_campaign_round_trips_through_serde_and_is_checked_on_the_way_in() {
        let mut f = new();
        f.end = Some(day(11));
        f.note = Some(FreeText::parse("抖音直播间").expect("a note"));
        let c = Campaign::new(CampaignId::new(3), f);
        let json = serde_json::to_string(&c).expect("serialised");
        assert_eq!(serde_json::from_str::<Campaign>(&json).expect("read"), c);
        let bad = json.replace("2026-11-11", "2026-10-11");
        assert_ne!(bad, json);
        assert!(serde_json::from_str::<Campaign>(&bad).is_err());
    }

    #[test]
    fn subjects_round_trip_through_their_parts() {
        for s in [
            AttributionSubject::Customer(CustomerId::new(1)),
            AttributionSubject::Deal(DealId::new(2)),
            AttributionSubject::Cost(CostId::new(3)),
        ] {
            assert_eq!(AttributionSubject::from_parts(s.kind(), s.raw_id()), Ok(s));
        }
        assert!(AttributionSubject::from_parts("task", 1).is_err());
    }

    #[test]
    fn edits_change_only_what_they_name() {
        let e = CampaignEdit {
            end: Some(Some(day(20))),
            ..CampaignEdit::default()
        };
        let f = e.apply(new());
        assert_eq!(f.end, Some(day(20)));
        assert_eq!(f.name.as_str(), "双十一直播");
        assert!(CampaignEdit::default().is_empty());
    }
}
