//! `solocrm offer ...`: coupons and discounts (percent or amount off, or a gift), their
//! redemptions and their performance. A purchase uses a coupon with
//! `solocrm purchase add … --coupon CODE`.

use anyhow::{Result, bail};
use clap::Subcommand;
use solocrm_core::Store;
use solocrm_core::offer::{Offer, OfferCode, OfferStats};

use super::{BadValue, Ctx};
use crate::output::Table;

/// The look-back of incremental buyers unless `--lookback` says otherwise, in days.
pub const DEFAULT_LOOKBACK: u32 = 90;

/// `solocrm offer ...`
#[derive(Debug, Subcommand)]
pub enum OfferCmd {
    /// Add a coupon: CODE (letters, digits, - and _; case is ignored), its kind and
    /// value, and the business days it is valid.
    Add {
        /// The code customers give, e.g. SPRING10.
        code: String,
        /// What it gives: percent, amount or gift.
        #[arg(long, value_name = "percent|amount|gift")]
        kind: String,
        /// The percentage (0 < p ≤ 100), the amount off (base currency) or the gift's
        /// description.
        #[arg(long)]
        value: String,
        /// The first business day it may be used (YYYY-MM-DD); today if not given.
        #[arg(long, value_name = "DATE")]
        from: Option<String>,
        /// The last business day it may be used (YYYY-MM-DD, included).
        #[arg(long, value_name = "DATE")]
        until: String,
        /// How often one customer may use it.
        #[arg(long, value_name = "N")]
        per_customer: Option<u32>,
        /// How often it may be used in all.
        #[arg(long, value_name = "N")]
        total: Option<u32>,
        /// Only for customers matching this segment expression, e.g. 'stage = loyal'.
        #[arg(long, value_name = "EXPR", conflicts_with = "tier")]
        segment: Option<String>,
        /// Only for customers of this tier of the points program.
        #[arg(long)]
        tier: Option<String>,
    },
    /// List every coupon, by code, with how often it was used.
    List,
    /// Show one coupon and its redemptions.
    Show {
        /// The code.
        code: String,
    },
    /// End a coupon now: it may no longer be used.
    End {
        /// The code.
        code: String,
    },
    /// Performance: redemptions, revenue, discount given, incremental buyers.
    Stats {
        /// Only this coupon.
        code: Option<String>,
        /// Incremental buyers are redeemers with no other purchase in this many
        /// business days before their first redemption.
        #[arg(long, value_name = "DAYS", default_value_t = DEFAULT_LOOKBACK)]
        lookback: u32,
        /// Only the redemptions of this segment's or stage's customers (decided now).
        #[command(flatten)]
        group: crate::cli::Group,
    },
}

pub fn run(ctx: &mut Ctx, cmd: OfferCmd) -> Result<()> {
    match cmd {
        OfferCmd::Add {
            code,
            kind,
            value,
            from,
            until,
            per_customer,
            total,
            segment,
            tier,
        } => {
            let code = OfferCode::parse(&code)?;
            let store = ctx.open()?;
            // An unknown kind is a usage error; a value that does not parse as the
            // kind's is the value's error, as before.
            let known = solocrm_app::offers::KINDS.contains(&kind.trim());
            let benefit = solocrm_app::offers::benefit(&kind, &value, store.base_currency())
                .map_err(|e| -> anyhow::Error {
                    if known {
                        anyhow::anyhow!(e.0)
                    } else {
                        BadValue(e.0).into()
                    }
                })?;
            let audience = match (segment.as_deref(), tier.as_deref()) {
                (Some(expr), _) => solocrm_app::offers::audience(Some(expr), None)
                    .map_err(|e| BadValue(format!("--segment {}", e.0)))?,
                (None, t) => solocrm_app::offers::audience(None, t).map_err(|e| BadValue(e.0))?,
            };
            let valid_from = match from {
                Some(d) => crate::parse::date(&d)?,
                None => ctx.today(),
            };
            let offer = store.add_offer(Offer {
                code,
                benefit,
                valid_from,
                valid_until: crate::parse::date(&until)?,
                per_customer,
                total,
                audience,
                created_at: ctx.now,
                ended_at: None,
            })?;
            if ctx.out.json {
                return ctx.out.json(&offer);
            }
            ctx.say(t!(
                "offer.added",
                code = offer.code,
                value = value_of(&offer.benefit),
                from = offer.valid_from,
                until = offer.valid_until
            ))
        }
        OfferCmd::List => {
            let store = ctx.open()?;
            let offers = store.offers()?;
            let redemptions = store.redemptions(None)?;
            let used = |o: &Offer| redemptions.iter().filter(|r| r.code == o.code).count();
            if ctx.out.json {
                let rows: Vec<_> = offers
                    .iter()
                    .map(|o| serde_json::json!({ "offer": o, "redemptions": used(o) }))
                    .collect();
                return ctx.out.json(&rows);
            }
            if offers.is_empty() {
                return ctx.say(t!("offer.none"));
            }
            let mut t = Table::new(&[
                "CODE", "KIND", "VALUE", "FROM", "TO", "LIMITS", ">USED", "STATUS",
            ]);
            for o in &offers {
                t.row(vec![
                    o.code.to_string(),
                    o.benefit.kind().to_owned(),
                    value_of(&o.benefit),
                    o.valid_from.to_string(),
                    o.valid_until.to_string(),
                    limits(o),
                    used(o).to_string(),
                    status(ctx, o),
                ]);
            }
            ctx.out.table(&t)
        }
        OfferCmd::Show { code } => {
            let code = OfferCode::parse(&code)?;
            let store = ctx.open()?;
            let offer = store.offer(&code)?;
            let reds = store.redemptions(Some(&code))?;
            if ctx.out.json {
                return ctx
                    .out
                    .json(&serde_json::json!({ "offer": offer, "redemptions": reds }));
            }
            let mut rows = vec![
                (t!("field.code"), offer.code.to_string()),
                (t!("field.kind"), offer.benefit.kind().to_owned()),
                (t!("field.value"), value_of(&offer.benefit)),
                (
                    t!("field.valid"),
                    format!("{} – {}", offer.valid_from, offer.valid_until),
                ),
                (t!("field.limits"), limits(&offer)),
                (t!("field.status"), status(ctx, &offer)),
            ];
            if let Some(a) = &offer.audience {
                rows.push((t!("field.audience"), a.to_string()));
            }
            super::fields(ctx, 10, rows)?;
            if reds.is_empty() {
                return Ok(());
            }
            let mut t = Table::new(&[">PURCHASE", ">CUSTOMER", "DATE", ">DISCOUNT"]);
            for r in &reds {
                t.row(vec![
                    r.purchase.to_string(),
                    r.customer.to_string(),
                    ctx.day(r.at).to_string(),
                    r.discount.to_string(),
                ]);
            }
            ctx.out.table(&t)
        }
        OfferCmd::End { code } => {
            let code = OfferCode::parse(&code)?;
            let store = ctx.open()?;
            let offer = store.end_offer(&code, ctx.now)?;
            if ctx.out.json {
                return ctx.out.json(&offer);
            }
            ctx.say(t!("offer.ended", code = offer.code))
        }
        OfferCmd::Stats {
            code,
            lookback,
            group,
        } => {
            let store = ctx.open()?;
            let codes = match code {
                Some(c) => vec![OfferCode::parse(&c)?],
                None => store.offers()?.into_iter().map(|o| o.code).collect(),
            };
            let group = super::analytics::chosen(&group);
            let at = super::analytics::group_instant(ctx, ctx.as_of_day(None)?);
            // The group and every coupon's figures from one snapshot.
            let (stats, members) = store
                .read(|r| {
                    let members = match super::analytics::members_in(&r, group.as_ref(), at) {
                        Ok(m) => m,
                        Err(e) => return Ok(Err(e)),
                    };
                    let keep = |c| members.as_ref().is_none_or(|m| m.contains(c));
                    let stats = codes
                        .iter()
                        .map(|c| r.offer_stats_where(c, lookback, &keep))
                        .collect::<Result<Vec<OfferStats>, _>>()?;
                    Ok(Ok((stats, members)))
                })?
                .map_err(super::analytics::group_failed)?;
            if ctx.out.json {
                return ctx.out.json(&stats);
            }
            if let (Some(g), Some(m)) = (&group, &members) {
                ctx.out.line(super::analytics::group_line(g, m.len()))?;
            }
            if stats.is_empty() {
                return ctx.say(t!("offer.none"));
            }
            let mut t = Table::new(&[
                "CODE",
                ">USED",
                ">CUSTOMERS",
                ">REVENUE",
                ">DISCOUNT",
                ">NEW",
            ]);
            for s in &stats {
                t.row(vec![
                    s.code.to_string(),
                    s.redemptions.to_string(),
                    s.redeemers.to_string(),
                    s.revenue.to_string(),
                    s.discount_cost.to_string(),
                    s.incremental_buyers.to_string(),
                ]);
            }
            ctx.out.table(&t)?;
            ctx.say(t!("offer.new_means", days = lookback))
        }
    }
}

use solocrm_app::offers::{limits, value_of};

/// ended, upcoming, expired or active, on today's business day.
fn status(ctx: &Ctx, o: &Offer) -> String {
    use solocrm_app::offers::OfferStatus;
    let key = match solocrm_app::offers::status(o, ctx.today()) {
        OfferStatus::Ended => t!("offer.status_ended"),
        OfferStatus::Upcoming => t!("offer.status_upcoming"),
        OfferStatus::Expired => t!("offer.status_expired"),
        OfferStatus::Active => t!("offer.status_active"),
    };
    key.to_string()
}

/// The code `purchase add --coupon` names.
pub fn coupon(code: &str) -> Result<OfferCode> {
    match OfferCode::parse(code) {
        Ok(c) => Ok(c),
        Err(e) => bail!("--coupon: {e}"),
    }
}
