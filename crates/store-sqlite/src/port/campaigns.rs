//! Campaigns and attributions (migration 20's `campaigns` and `attributions`).

use rusqlite::{Connection, params};
use solocrm_core::campaign::{Attribution, AttributionSubject, Campaign, NewCampaign};
use solocrm_core::{CampaignId, Currency, FreeText, Label, Tag};

use crate::codec::{Cols, date, key, minor};
use crate::error::Res;
use crate::rows::{corrupt, execute, query_all, query_one};

pub(crate) fn campaigns(conn: &Connection, base: Currency) -> Res<Vec<Campaign>> {
    query_all(
        conn,
        "SELECT id, name, channel, start_day, end_day, budget, note FROM campaigns ORDER BY id",
        [],
        |row| {
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
        },
    )
}

pub(crate) fn put_campaign(conn: &Connection, c: &Campaign) -> Res<()> {
    let budget = c.budget().map(minor).transpose()?;
    execute(
        conn,
        "INSERT INTO campaigns (id, name, name_key, channel, start_day, end_day, budget, note) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) \
         ON CONFLICT (id) DO UPDATE SET name = excluded.name, name_key = excluded.name_key, \
         channel = excluded.channel, start_day = excluded.start_day, \
         end_day = excluded.end_day, budget = excluded.budget, note = excluded.note",
        params![
            key(c.id().get()),
            c.name().as_str(),
            c.name_key(),
            c.channel().as_str(),
            date(c.start()),
            c.end().map(date),
            budget,
            c.note().map(FreeText::as_str),
        ],
    )?;
    Ok(())
}

pub(crate) fn attributions(conn: &Connection) -> Res<Vec<Attribution>> {
    query_all(
        conn,
        "SELECT kind, subject_id, campaign_id FROM attributions ORDER BY \
         CASE kind WHEN 'customer' THEN 0 WHEN 'deal' THEN 1 ELSE 2 END, subject_id",
        [],
        |row| {
            let c = Cols::new(row, "attributions");
            let id = c.id(1, |i| i)?;
            let subject = AttributionSubject::from_parts(c.str(0)?, id)
                .map_err(|e| corrupt(format!("attributions: {e}")))?;
            Ok(Attribution {
                subject,
                campaign: c.id(2, CampaignId::new)?,
            })
        },
    )
}

/// The campaign of one subject: a primary-key lookup.
pub(crate) fn attribution(conn: &Connection, s: AttributionSubject) -> Res<Option<CampaignId>> {
    query_one(
        conn,
        "SELECT campaign_id FROM attributions WHERE kind = ?1 AND subject_id = ?2",
        params![s.kind(), key(s.raw_id())],
        |row| Cols::new(row, "attributions").id(0, CampaignId::new),
    )
}

pub(crate) fn put_attribution(conn: &Connection, a: &Attribution) -> Res<()> {
    execute(
        conn,
        "INSERT INTO attributions (kind, subject_id, campaign_id) VALUES (?1, ?2, ?3) \
         ON CONFLICT (kind, subject_id) DO UPDATE SET campaign_id = excluded.campaign_id",
        params![
            a.subject.kind(),
            key(a.subject.raw_id()),
            key(a.campaign.get())
        ],
    )?;
    Ok(())
}

pub(crate) fn delete_attribution(conn: &Connection, s: AttributionSubject) -> Res<bool> {
    Ok(execute(
        conn,
        "DELETE FROM attributions WHERE kind = ?1 AND subject_id = ?2",
        params![s.kind(), key(s.raw_id())],
    )? > 0)
}
