//! Campaigns and what is attributed to them: the checks, then the writes.

use super::{Reader, Writer};
use crate::campaign::{Attribution, AttributionSubject, Campaign, CampaignEdit, NewCampaign};
use crate::cost::{Cost, NewCost};
use crate::error::Conflict;
use crate::ids::CampaignId;
use crate::store::{Entity, StoreError, StoreResult};

impl Reader<'_> {
    /// Every campaign, by id.
    ///
    /// # Errors
    ///
    /// Only the backend's.
    pub fn campaigns(&self) -> StoreResult<Vec<Campaign>> {
        self.tx.campaigns()
    }

    /// The campaign with this id.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`] if there is none.
    pub fn campaign(&self, id: CampaignId) -> StoreResult<Campaign> {
        self.tx
            .campaigns()?
            .into_iter()
            .find(|c| c.id() == id)
            .ok_or_else(|| StoreError::not_found(Entity::Campaign, id))
    }

    /// Every attribution, customers first, then deals, then costs, each by id.
    ///
    /// # Errors
    ///
    /// Only the backend's.
    pub fn attributions(&self) -> StoreResult<Vec<Attribution>> {
        self.tx.attributions()
    }
}

impl Writer<'_> {
    /// Refuses `fields` if another campaign than `except` has the same name.
    fn check_unique_name(
        &self,
        fields: &NewCampaign,
        except: Option<CampaignId>,
    ) -> StoreResult<()> {
        let key = crate::campaign::name_key(fields.name.as_str());
        let clash = self
            .tx
            .campaigns()?
            .into_iter()
            .any(|c| Some(c.id()) != except && c.name_key() == key);
        if clash {
            return Err(Conflict::DuplicateCampaign {
                name: fields.name.to_string(),
            }
            .into());
        }
        Ok(())
    }

    /// Adds a campaign, its id one more than the largest so far (campaigns are never
    /// deleted, so an id is never given twice).
    ///
    /// # Errors
    ///
    /// [`StoreError::Validation`]; [`Conflict::DuplicateCampaign`].
    pub fn add_campaign(&mut self, new: NewCampaign) -> StoreResult<Campaign> {
        let fields = new.for_storage(self.currency())?;
        self.atomic(|w| {
            w.check_unique_name(&fields, None)?;
            let next =
                w.tx.campaigns()?
                    .iter()
                    .map(|c| c.id().get())
                    .max()
                    .unwrap_or(0)
                    + 1;
            let c = Campaign::new(CampaignId::new(next), fields);
            w.tx.put_campaign(&c)?;
            Ok(c)
        })
    }

    /// Changes a campaign's fields.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`]; as [`add_campaign`](Self::add_campaign).
    pub fn edit_campaign(&mut self, id: CampaignId, edit: &CampaignEdit) -> StoreResult<Campaign> {
        let currency = self.currency();
        self.atomic(|w| {
            let old = w.reader().campaign(id)?;
            let fields = edit.apply(old.fields().clone()).for_storage(currency)?;
            w.check_unique_name(&fields, Some(id))?;
            let c = Campaign::new(id, fields);
            w.tx.put_campaign(&c)?;
            Ok(c)
        })
    }

    /// Attributes `subject` to `campaign` (or removes its attribution with `None`);
    /// returns its earlier campaign.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`] for an unknown subject or campaign;
    /// [`Conflict::CustomerErased`] for an erased customer.
    pub fn attribute(
        &mut self,
        subject: AttributionSubject,
        campaign: Option<CampaignId>,
    ) -> StoreResult<Option<CampaignId>> {
        self.atomic(|w| {
            match subject {
                AttributionSubject::Customer(c) => w.check_live(c)?,
                AttributionSubject::Deal(d) => {
                    w.reader().deal(d)?;
                }
                AttributionSubject::Cost(c) => {
                    w.reader().cost(c)?;
                }
            }
            let before = w.tx.attribution(subject)?;
            match campaign {
                Some(campaign) => {
                    w.reader().campaign(campaign)?;
                    w.tx.put_attribution(&Attribution { subject, campaign })?;
                }
                None => {
                    w.tx.delete_attribution(subject)?;
                }
            }
            Ok(before)
        })
    }

    /// Records a cost spent on `campaign`: the cost and its attribution together.
    ///
    /// # Errors
    ///
    /// As [`record_cost`](Self::record_cost); [`StoreError::NotFound`] for an unknown
    /// campaign.
    pub fn record_campaign_cost(
        &mut self,
        new: NewCost,
        campaign: CampaignId,
    ) -> StoreResult<Cost> {
        self.atomic(|w| {
            w.reader().campaign(campaign)?;
            let c = w.record_cost(new)?;
            w.tx.put_attribution(&Attribution {
                subject: AttributionSubject::Cost(c.id()),
                campaign,
            })?;
            Ok(c)
        })
    }
}

impl Reader<'_> {
    /// The campaign figures of `period` ([`campaign_stats`](crate::metrics::campaign_stats))
    /// from one snapshot: campaigns, attributions, costs, the purchases up to the
    /// period's end (not voided), refunds and deals. The period's days are counted in
    /// the books' zone.
    ///
    /// # Errors
    ///
    /// [`ReportError::Store`](super::ReportError::Store) if reading fails,
    /// [`ReportError::Metric`](super::ReportError::Metric) for an overflow or money in
    /// another currency.
    pub fn campaign_stats(
        &self,
        period: crate::metrics::Period,
    ) -> Result<crate::metrics::CampaignSection, super::ReportError> {
        self.campaign_stats_of(period, None)
    }

    /// [`campaign_stats`](Self::campaign_stats) of the customers `keep` accepts only (a
    /// segment's or stage's, ADR 0026; `None`: everyone): their attributions,
    /// purchases, refunds and deals. Recorded costs are not attributed to customers,
    /// so a group's figures hold none, as a group's report (`only_members`): cost
    /// zero, no CAC and no ROI. The formula is the same.
    ///
    /// # Errors
    ///
    /// As [`campaign_stats`](Self::campaign_stats).
    pub fn campaign_stats_of(
        &self,
        period: crate::metrics::Period,
        keep: Option<&dyn Fn(crate::CustomerId) -> bool>,
    ) -> Result<crate::metrics::CampaignSection, super::ReportError> {
        let period = period.in_zone(self.time_zone()?);
        let until = crate::store::ActivityQuery {
            customer: None,
            range: crate::time::TimeRange {
                from: None,
                to: period.time_range().to,
            },
            include_voided: false,
        };
        let campaigns = self.campaigns()?;
        let mut attributions = self.attributions()?;
        let mut costs = self.costs()?;
        // The narrow rows a report reads (ADR 0062): every stored purchase is in the
        // books' currency, in whole minor units.
        let mut purchases = self.tx.report_purchases(period.end_instant())?;
        let mut refunds = self.refunds(&until)?;
        let mut deals = self.deals(&crate::store::OpenQuery::default())?;
        if let Some(keep) = keep {
            deals.retain(|d| keep(d.customer()));
            let kept_deals: std::collections::HashSet<_> = deals.iter().map(|d| d.id()).collect();
            attributions.retain(|a| a.kept_in_group(keep, |d| kept_deals.contains(&d)));
            costs.clear();
            purchases.rows.retain(|p| keep(p.customer));
            refunds.retain(|r| keep(r.customer()));
        }
        Ok(crate::metrics::campaign_stats(
            crate::metrics::CampaignInputs {
                period,
                currency: self.tx.base_currency(),
                campaigns: &campaigns,
                attributions: &attributions,
                costs: &costs,
                purchases: &purchases,
                refunds: &refunds,
                deals: &deals,
            },
        )?)
    }
}
