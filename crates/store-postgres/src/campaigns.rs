//! Campaigns and attributions (migration 0013's `campaigns` and `attributions`), each
//! statement binding the tenant as `$1`. [`crate::tx`] forwards the port's methods
//! here.

use solocrm_core::campaign::{Attribution, AttributionSubject, Campaign, NewCampaign};
use solocrm_core::{CampaignId, Currency, FreeText, Label, Tag};

use crate::codec::{Cols, date, key, minor};
use crate::error::{Res, corrupt};
use crate::pool::Conn;

/// The tenant's campaigns by id.
pub(crate) fn campaigns(c: &mut Conn, t: i64, base: Currency) -> Res<Vec<Campaign>> {
    c.query(
        "SELECT id, name, channel, start_day, end_day, budget, note FROM campaigns \
         WHERE tenant_id = $1 ORDER BY id",
        &[&t],
    )?
    .iter()
    .map(|row| {
        let c = Cols::new(row, "campaigns");
        let fields = NewCampaign {
            name: c.parse(1, Label::parse)?,
            channel: c.parse(2, Tag::parse)?,
            start: c.date(3)?,
            end: c.opt_date(4)?,
            budget: c.opt_money(5, base)?,
            note: c.opt_parse(6, FreeText::parse)?,
        }
        .for_storage(base)
        .map_err(|e| corrupt(format!("campaigns: {e}")))?;
        Ok(Campaign::new(c.id(0, CampaignId::new)?, fields))
    })
    .collect()
}

/// Stores `campaign`, replacing the one with its id.
pub(crate) fn put_campaign(c: &mut Conn, t: i64, campaign: &Campaign) -> Res<()> {
    let budget = campaign.budget().map(minor).transpose()?;
    c.execute(
        "INSERT INTO campaigns (tenant_id, id, name, name_key, channel, start_day, end_day, budget, note) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
         ON CONFLICT (tenant_id, id) DO UPDATE SET name = excluded.name, \
         name_key = excluded.name_key, channel = excluded.channel, \
         start_day = excluded.start_day, end_day = excluded.end_day, \
         budget = excluded.budget, note = excluded.note",
        &[
            &t,
            &key(campaign.id().get()),
            &campaign.name().as_str(),
            &campaign.name_key(),
            &campaign.channel().as_str(),
            &date(campaign.start()),
            &campaign.end().map(date),
            &budget,
            &campaign.note().map(FreeText::as_str),
        ],
    )?;
    Ok(())
}

/// The tenant's attributions: customers, then deals, then costs, each by id.
pub(crate) fn attributions(c: &mut Conn, t: i64) -> Res<Vec<Attribution>> {
    c.query(
        "SELECT kind, subject_id, campaign_id FROM attributions WHERE tenant_id = $1 \
         ORDER BY CASE kind WHEN 'customer' THEN 0 WHEN 'deal' THEN 1 ELSE 2 END, subject_id",
        &[&t],
    )?
    .iter()
    .map(|row| {
        let c = Cols::new(row, "attributions");
        let id = c.id(1, |i| i)?;
        let subject = AttributionSubject::from_parts(c.str(0)?, id)
            .map_err(|e| corrupt(format!("attributions: {e}")))?;
        Ok(Attribution {
            subject,
            campaign: c.id(2, CampaignId::new)?,
        })
    })
    .collect()
}

/// The campaign of one subject: a primary-key lookup.
pub(crate) fn attribution(c: &mut Conn, t: i64, s: AttributionSubject) -> Res<Option<CampaignId>> {
    c.query_opt(
        "SELECT campaign_id FROM attributions \
         WHERE tenant_id = $1 AND kind = $2 AND subject_id = $3",
        &[&t, &s.kind(), &key(s.raw_id())],
    )?
    .map(|row| Cols::new(&row, "attributions").id(0, CampaignId::new))
    .transpose()
}

/// Stores an attribution, replacing the subject's earlier one.
pub(crate) fn put_attribution(c: &mut Conn, t: i64, a: &Attribution) -> Res<()> {
    c.execute(
        "INSERT INTO attributions (tenant_id, kind, subject_id, campaign_id) \
         VALUES ($1, $2, $3, $4) \
         ON CONFLICT (tenant_id, kind, subject_id) DO UPDATE SET campaign_id = excluded.campaign_id",
        &[
            &t,
            &a.subject.kind(),
            &key(a.subject.raw_id()),
            &key(a.campaign.get()),
        ],
    )?;
    Ok(())
}

/// Deletes the subject's attribution; false if there was none.
pub(crate) fn delete_attribution(c: &mut Conn, t: i64, s: AttributionSubject) -> Res<bool> {
    Ok(c.execute(
        "DELETE FROM attributions WHERE tenant_id = $1 AND kind = $2 AND subject_id = $3",
        &[&t, &s.kind(), &key(s.raw_id())],
    )? > 0)
}
