//! Campaign metrics: what each campaign (and each channel's campaigns together) cost in
//! a period, and what it won: customers, revenue, deals. See `docs/formulas.md`,
//! "Campaigns".

use std::collections::{BTreeMap, HashMap, HashSet};

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::error::{MetricError, MetricResult};
use super::period::Period;
use super::ratio::{minor_of, money_from_minor};
use super::report_rows::{ReportPurchase, ReportPurchases};
use super::value::{cac, roi};
use crate::campaign::{Attribution, AttributionSubject, Campaign};
use crate::cost::Cost;
use crate::deal::{Deal, DealStage};
use crate::ids::{CampaignId, CustomerId};
use crate::money::{Currency, Money};
use crate::purchase::Refund;

/// What one campaign, or one channel's campaigns together, cost and won in a period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CampaignFigures {
    /// The non-void costs attributed to it, dated in the period.
    pub cost: Money,
    /// Customers attributed to it whose first purchase is in the period.
    pub customers_acquired: u64,
    /// CAC = `cost / customers_acquired`, rounded to the minor unit; `None` when it
    /// acquired no one in the period.
    pub cac: Option<Money>,
    /// The period's purchases of every customer attributed to it, net of the period's
    /// refunds to them.
    pub revenue: Money,
    /// Deals attributed to it and won in the period.
    pub deals_won: u64,
    /// Their value.
    pub won_value: Money,
    /// ROI = `(revenue − cost) / cost`; `None` when the cost is zero.
    pub roi: Option<Decimal>,
}

/// One campaign's figures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CampaignStats {
    /// The campaign.
    pub campaign: CampaignId,
    /// Its name.
    pub name: String,
    /// Its channel.
    pub channel: String,
    /// Its budget (the plan, shown beside the actual cost, never summed).
    pub budget: Option<Money>,
    /// The figures.
    #[serde(flatten)]
    pub figures: CampaignFigures,
}

/// One channel's campaigns together.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CampaignChannelStats {
    /// The channel.
    pub channel: String,
    /// How many campaigns run on it.
    pub campaigns: u64,
    /// The figures of its campaigns summed (CAC and ROI from the sums).
    #[serde(flatten)]
    pub figures: CampaignFigures,
}

/// Every campaign's figures, by id, and every channel's, by name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CampaignSection {
    /// Per campaign, by id.
    pub campaigns: Vec<CampaignStats>,
    /// Per channel with at least one campaign, by name.
    pub channels: Vec<CampaignChannelStats>,
}

/// The records [`campaign_stats`] reads.
#[derive(Debug, Clone, Copy)]
pub struct CampaignInputs<'a> {
    /// The period (its days in the books' zone).
    pub period: Period,
    /// The books' currency.
    pub currency: Currency,
    /// Every campaign.
    pub campaigns: &'a [Campaign],
    /// Every attribution.
    pub attributions: &'a [Attribution],
    /// Every recorded cost (voided ones are skipped).
    pub costs: &'a [Cost],
    /// The non-void purchases up to the period's end, as a report reads them
    /// ([`ReportPurchases`], ADR 0062); earlier ones tell whether a customer's first
    /// purchase is in the period.
    pub purchases: &'a ReportPurchases,
    /// Refunds (those in the period count).
    pub refunds: &'a [Refund],
    /// Deals.
    pub deals: &'a [Deal],
}

/// Sums in minor units while they are being added up.
#[derive(Debug, Clone, Copy, Default)]
struct Sums {
    cost: i128,
    customers: u64,
    revenue: i128,
    deals: u64,
    won: i128,
}

impl Sums {
    fn add(&mut self, o: &Sums, metric: &'static str) -> MetricResult<()> {
        let over = || MetricError::Overflow { metric };
        self.cost = self.cost.checked_add(o.cost).ok_or_else(over)?;
        self.customers += o.customers;
        self.revenue = self.revenue.checked_add(o.revenue).ok_or_else(over)?;
        self.deals += o.deals;
        self.won = self.won.checked_add(o.won).ok_or_else(over)?;
        Ok(())
    }

    fn figures(&self, currency: Currency, metric: &'static str) -> MetricResult<CampaignFigures> {
        let cost = money_from_minor(self.cost, currency, metric)?;
        let revenue = money_from_minor(self.revenue, currency, metric)?;
        Ok(CampaignFigures {
            cost,
            customers_acquired: self.customers,
            // No cost recorded (or none in the data, as in a group's report): no
            // acquisition cost to divide, rather than a CAC of zero.
            cac: if self.cost == 0 {
                None
            } else {
                cac(cost, self.customers).ok().map(|c| c.cac)
            },
            revenue,
            deals_won: self.deals,
            won_value: money_from_minor(self.won, currency, metric)?,
            roi: roi(cost, revenue).ok().map(|r| r.roi),
        })
    }
}

/// Cost, customers acquired, CAC, revenue, won deals and ROI per campaign and per
/// channel over a period.
///
/// *Definition.* For a campaign *k* and a period *P*:
///
/// - cost(*k*) = Σ of the non-void costs attributed to *k* dated in *P* (the budget is
///   a plan and is never summed);
/// - acquired(*k*) = the customers attributed to *k* whose first non-void purchase is
///   in *P*;
/// - CAC(*k*) = cost(*k*) / acquired(*k*), to the minor unit (half to even);
/// - revenue(*k*) = Σ of the non-void purchases in *P* of every customer attributed to
///   *k*, minus Σ of the refunds in *P* to them (net, as the report's net revenue);
/// - won(*k*) = the deals attributed to *k* whose stage is won and that closed in *P*,
///   with the sum of their values;
/// - ROI(*k*) = (revenue(*k*) − cost(*k*)) / cost(*k*), a plain ratio (0.5 = 50 %).
///
/// A channel's figures are the sums over its campaigns, CAC and ROI computed from the
/// sums (never averaged).
///
/// *Source.* The founding brief §3.2 and §9.3 (投入产出比 = (收益 − 成本) / 成本); CAC as
/// in Farris et al., *Marketing Metrics* (2010), ch. 5 ([`cac`](super::cac)).
///
/// *Edge cases.* No customer acquired: CAC `None`. Cost zero (none recorded, or a
/// group's report, which holds no costs): CAC and ROI `None` (not zero, not
/// infinity). Refunds beyond purchases in the period make revenue and ROI negative. A
/// campaign with nothing attributed has zero figures. Attributions naming an unknown
/// campaign are skipped.
///
/// ```
/// use chrono::{NaiveDate, TimeZone, Utc};
/// use rust_decimal::Decimal;
/// use solocrm_core::campaign::{Attribution, AttributionSubject, Campaign, NewCampaign};
/// use solocrm_core::metrics::{CampaignInputs, Period, campaign_stats};
/// use solocrm_core::{
///     CampaignId, Cost, CostCategory, CostId, Currency, CustomerId, Label, Money, NewCost,
///     NewPurchase, Purchase, PurchaseId, ReportPurchases, Tag,
/// };
/// let cny = |yuan: i64| Money::from_minor(yuan * 100, Currency::CNY);
/// let at = |d| Utc.with_ymd_and_hms(2026, 11, d, 12, 0, 0).unwrap();
/// let id = CampaignId::new(1);
/// let live = Campaign::new(id, NewCampaign::new(
///     Label::parse("双十一直播")?, Tag::parse("douyin")?,
///     NaiveDate::from_ymd_opt(2026, 11, 1).unwrap(),
/// ));
/// let spend = Cost::new(CostId::new(1), NewCost {
///     at: at(1), amount: cny(1_000), category: CostCategory::Marketing,
///     channel: Some(Tag::parse("douyin")?), note: None,
/// }, None);
/// let (a, b) = (CustomerId::new(1), CustomerId::new(2));
/// let purchases = ReportPurchases::from_purchases(Currency::CNY, &[
///     Purchase::new(PurchaseId::new(1), NewPurchase::new(a, at(11), cny(900))),
///     Purchase::new(PurchaseId::new(2), NewPurchase::new(b, at(12), cny(600))),
/// ]);
/// let attributions = [
///     Attribution { subject: AttributionSubject::Customer(a), campaign: id },
///     Attribution { subject: AttributionSubject::Customer(b), campaign: id },
///     Attribution { subject: AttributionSubject::Cost(CostId::new(1)), campaign: id },
/// ];
/// let s = campaign_stats(CampaignInputs {
///     period: Period::month(2026, 11)?,
///     currency: Currency::CNY,
///     campaigns: &[live],
///     attributions: &attributions,
///     costs: &[spend],
///     purchases: &purchases,
///     refunds: &[],
///     deals: &[],
/// })?;
/// let f = &s.campaigns[0].figures;
/// assert_eq!(f.customers_acquired, 2);
/// assert_eq!(f.cac, Some(cny(500)));              // 1,000 / 2
/// assert_eq!(f.revenue, cny(1_500));
/// assert_eq!(f.roi, Some(Decimal::new(5, 1)));     // (1,500 − 1,000) / 1,000
/// assert_eq!(s.channels[0].channel, "douyin");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
///
/// [`MetricError::CurrencyMismatch`] for money in another currency,
/// [`MetricError::Overflow`].
pub fn campaign_stats(input: CampaignInputs<'_>) -> MetricResult<CampaignSection> {
    let rows = input.purchases.iter().copied();
    campaign_stats_over(input, input.purchases.currency, rows)
}

/// [`campaign_stats`] with the purchase rows given one by one, in `rows_currency`,
/// instead of `input.purchases` (a report's rows kept beside its log:
/// [`ReportData::purchase_rows`](super::ReportData::purchase_rows)).
pub(crate) fn campaign_stats_over(
    input: CampaignInputs<'_>,
    rows_currency: Option<Currency>,
    rows: impl Iterator<Item = ReportPurchase>,
) -> MetricResult<CampaignSection> {
    let metric = "campaign stats";
    let CampaignInputs {
        period, currency, ..
    } = input;
    let known: HashSet<CampaignId> = input.campaigns.iter().map(Campaign::id).collect();
    let mut customer_of: HashMap<CustomerId, CampaignId> = HashMap::new();
    let mut deal_of = HashMap::new();
    let mut cost_of = HashMap::new();
    for a in input
        .attributions
        .iter()
        .filter(|a| known.contains(&a.campaign))
    {
        match a.subject {
            AttributionSubject::Customer(c) => {
                customer_of.insert(c, a.campaign);
            }
            AttributionSubject::Deal(d) => {
                deal_of.insert(d, a.campaign);
            }
            AttributionSubject::Cost(c) => {
                cost_of.insert(c, a.campaign);
            }
        }
    }
    let mut sums: BTreeMap<CampaignId, Sums> = BTreeMap::new();
    let over = || MetricError::Overflow { metric };
    for c in input.costs.iter().filter(|c| !c.is_void()) {
        if let Some(k) = cost_of.get(&c.id())
            && period.contains_instant(c.at())
        {
            let e = sums.entry(*k).or_default();
            e.cost = e
                .cost
                .checked_add(minor_of(c.amount(), currency, metric)?)
                .ok_or_else(over)?;
        }
    }
    // Each attributed customer's first purchase (to tell who was acquired in the
    // period) and the period's revenue.
    let mut first: HashMap<CustomerId, i64> = HashMap::new();
    // Rows in another currency: an error once one of them would be summed.
    let other = rows_currency.filter(|c| *c != currency);
    // Without an attributed customer no row counts, so none is read.
    let rows = (!customer_of.is_empty())
        .then_some(rows)
        .into_iter()
        .flatten();
    for p in rows {
        let Some(k) = customer_of.get(&p.customer) else {
            continue;
        };
        let f = first.entry(p.customer).or_insert(p.at);
        if p.at < *f {
            *f = p.at;
        }
        if period.contains_secs(p.at) {
            if let Some(right) = other {
                return Err(MetricError::CurrencyMismatch {
                    metric,
                    left: currency,
                    right,
                });
            }
            let e = sums.entry(*k).or_default();
            e.revenue = e
                .revenue
                .checked_add(i128::from(p.amount))
                .ok_or_else(over)?;
        }
    }
    for (c, at) in &first {
        if period.contains_secs(*at)
            && let Some(k) = customer_of.get(c)
        {
            sums.entry(*k).or_default().customers += 1;
        }
    }
    for r in input.refunds {
        if let Some(k) = customer_of.get(&r.customer())
            && period.contains_instant(r.at())
        {
            let e = sums.entry(*k).or_default();
            e.revenue = e
                .revenue
                .checked_sub(minor_of(r.amount(), currency, metric)?)
                .ok_or_else(over)?;
        }
    }
    for d in input.deals {
        if let Some(k) = deal_of.get(&d.id())
            && d.stage() == DealStage::Won
            && d.closed_at().is_some_and(|at| period.contains_instant(at))
        {
            let e = sums.entry(*k).or_default();
            e.deals += 1;
            e.won = e
                .won
                .checked_add(minor_of(d.value(), currency, metric)?)
                .ok_or_else(over)?;
        }
    }
    let mut campaigns = Vec::with_capacity(input.campaigns.len());
    let mut by_channel: BTreeMap<&str, (u64, Sums)> = BTreeMap::new();
    let mut ordered: Vec<&Campaign> = input.campaigns.iter().collect();
    ordered.sort_by_key(|c| c.id());
    for c in ordered {
        let s = sums.get(&c.id()).copied().unwrap_or_default();
        let ch = by_channel.entry(c.channel().as_str()).or_default();
        ch.0 += 1;
        ch.1.add(&s, metric)?;
        campaigns.push(CampaignStats {
            campaign: c.id(),
            name: c.name().to_string(),
            channel: c.channel().to_string(),
            budget: c.budget(),
            figures: s.figures(currency, metric)?,
        });
    }
    let channels = by_channel
        .into_iter()
        .map(|(channel, (n, s))| {
            Ok(CampaignChannelStats {
                channel: channel.to_owned(),
                campaigns: n,
                figures: s.figures(currency, metric)?,
            })
        })
        .collect::<MetricResult<Vec<_>>>()?;
    Ok(CampaignSection {
        campaigns,
        channels,
    })
}

#[cfg(test)]
mod tests {
    use chrono::{NaiveDate, TimeZone, Utc};

    use super::*;
    use crate::campaign::NewCampaign;
    use crate::cost::{CostCategory, NewCost};
    use crate::deal::NewDeal;
    use crate::ids::{CostId, DealId, PurchaseId, RefundId};
    use crate::purchase::{NewPurchase, NewRefund, Purchase};
    use crate::text::{Label, Tag};

    fn cny(yuan: i64) -> Money {
        Money::from_minor(yuan * 100, Currency::CNY)
    }
    fn at(month: u32, d: u32) -> chrono::DateTime<chrono::Utc> {
        Utc.with_ymd_and_hms(2026, month, d, 12, 0, 0).unwrap()
    }
    fn campaign(id: u64, name: &str, channel: &str) -> Campaign {
        Campaign::new(
            CampaignId::new(id),
            NewCampaign::new(
                Label::parse(name).unwrap(),
                Tag::parse(channel).unwrap(),
                NaiveDate::from_ymd_opt(2026, 11, 1).unwrap(),
            ),
        )
    }
    fn cost(id: u64, month: u32, yuan: i64) -> Cost {
        Cost::new(
            CostId::new(id),
            NewCost {
                at: at(month, 2),
                amount: cny(yuan),
                category: CostCategory::Marketing,
                channel: None,
                note: None,
            },
            None,
        )
    }
    fn to(subject: AttributionSubject, k: u64) -> Attribution {
        Attribution {
            subject,
            campaign: CampaignId::new(k),
        }
    }

    /// Voided and out-of-period costs, customers who bought before the period,
    /// refunds, won deals and a campaign with nothing: every case of the definition.
    #[test]
    fn each_campaign_counts_only_its_own_records_in_the_period() {
        let (a, b, c) = (CustomerId::new(1), CustomerId::new(2), CustomerId::new(3));
        let purchase = |id, who, month, yuan| {
            Purchase::new(
                PurchaseId::new(id),
                NewPurchase::new(who, at(month, 5), cny(yuan)),
            )
        };
        let purchases = ReportPurchases::from_purchases(
            Currency::CNY,
            &[
                purchase(1, a, 10, 100), // a bought before November: not acquired in it
                purchase(2, a, 11, 300),
                purchase(3, b, 11, 500),
                purchase(4, c, 11, 700), // c is not attributed
            ],
        );
        let refunds = [Refund::new(
            RefundId::new(1),
            b,
            NewRefund {
                purchase: PurchaseId::new(3),
                at: at(11, 6),
                amount: cny(100),
                reason: None,
            },
        )];
        let mut won = Deal::create(
            DealId::new(1),
            NewDeal::new(b, Label::parse("年货礼盒").unwrap(), cny(2_000), at(11, 1)),
        );
        won.move_to(DealStage::Won, at(11, 20)).unwrap();
        let open = Deal::create(
            DealId::new(2),
            NewDeal::new(a, Label::parse("续约").unwrap(), cny(900), at(11, 1)),
        );
        let costs = [
            cost(1, 11, 400),
            cost(2, 11, 999).void(at(11, 3), Label::parse("录错").unwrap()),
            cost(3, 10, 50), // before the period
            cost(4, 11, 100),
        ];
        let attributions = [
            to(AttributionSubject::Customer(a), 1),
            to(AttributionSubject::Customer(b), 1),
            to(AttributionSubject::Deal(DealId::new(1)), 1),
            to(AttributionSubject::Deal(DealId::new(2)), 1),
            to(AttributionSubject::Cost(CostId::new(1)), 1),
            to(AttributionSubject::Cost(CostId::new(2)), 1),
            to(AttributionSubject::Cost(CostId::new(3)), 1),
            to(AttributionSubject::Cost(CostId::new(4)), 2),
            to(AttributionSubject::Customer(c), 9), // an unknown campaign: skipped
        ];
        let campaigns = [
            campaign(2, "朋友圈广告", "wechat"),
            campaign(1, "双十一直播", "douyin"),
            campaign(3, "抖音短视频", "douyin"),
        ];
        let s = campaign_stats(CampaignInputs {
            period: Period::month(2026, 11).unwrap(),
            currency: Currency::CNY,
            campaigns: &campaigns,
            attributions: &attributions,
            costs: &costs,
            purchases: &purchases,
            refunds: &refunds,
            deals: &[won.clone(), open.clone()],
        })
        .unwrap();
        let ids: Vec<u64> = s.campaigns.iter().map(|c| c.campaign.get()).collect();
        assert_eq!(ids, [1, 2, 3]);
        let live = &s.campaigns[0].figures;
        assert_eq!(live.cost, cny(400));
        assert_eq!(live.customers_acquired, 1);
        assert_eq!(live.cac, Some(cny(400)));
        assert_eq!(live.revenue, cny(700)); // 300 + 500 − 100
        assert_eq!((live.deals_won, live.won_value), (1, cny(2_000)));
        assert_eq!(live.roi, Some(Decimal::new(75, 2))); // (700 − 400) / 400
        let ads = &s.campaigns[1].figures;
        assert_eq!(ads.cost, cny(100));
        assert_eq!(ads.cac, None); // no one acquired
        assert_eq!(ads.roi, Some(Decimal::from(-1)));
        let idle = &s.campaigns[2].figures;
        assert_eq!((idle.cost, idle.roi, idle.cac), (cny(0), None, None));
        let channels: Vec<_> = s
            .channels
            .iter()
            .map(|c| (c.channel.as_str(), c.campaigns))
            .collect();
        assert_eq!(channels, [("douyin", 2), ("wechat", 1)]);
        assert_eq!(s.channels[0].figures, *live);
        // Without its costs (a group's report holds none) the live campaign still has
        // its customers and revenue, but no CAC or ROI rather than a CAC of zero.
        let costless = campaign_stats(CampaignInputs {
            period: Period::month(2026, 11).unwrap(),
            currency: Currency::CNY,
            campaigns: &campaigns,
            attributions: &attributions,
            costs: &[],
            purchases: &purchases,
            refunds: &refunds,
            deals: &[won, open],
        })
        .unwrap();
        let live = &costless.campaigns[0].figures;
        assert_eq!((live.customers_acquired, live.revenue), (1, cny(700)));
        assert_eq!((live.cost, live.cac, live.roi), (cny(0), None, None));
    }
}
