//! A group of customers every analytic view can be narrowed to: the members of a saved
//! segment, or the customers in one lifecycle stage (issue 18, ADR 0026).
//!
//! The filter works on the data, not on the formulas: [`only_members`] keeps the
//! records of the group's customers and drops the rest, and the report is then computed
//! by the same code as the whole book's. So a group's report equals the report of a book
//! that holds only the group's customers (and no costs, see [`only_members`]).
//!
//! Membership is decided once, at one instant (the end of the report's last day, or the
//! `as_of` of a point-in-time view), and the same set of customers is used for every
//! period of a series.

use std::collections::HashSet;
use std::fmt;

use chrono::{DateTime, Utc};
use serde::Serialize;
use solocrm_core::metrics::ReportData;
use solocrm_core::{
    CustomerId, CustomerQuery, Label, LifecycleStage, PurchaseLog, Reader, ReportError,
    SegmentFilter, StoreError,
};

/// A group of customers: whom a filtered view measures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CustomerGroup {
    /// The members of the saved segment with this name, its conditions evaluated at
    /// the instant membership is decided.
    Segment(Label),
    /// The customers in this lifecycle stage at that instant.
    Stage(LifecycleStage),
}

impl fmt::Display for CustomerGroup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CustomerGroup::Segment(name) => write!(f, "segment {name}"),
            CustomerGroup::Stage(stage) => write!(f, "stage {}", stage.as_str()),
        }
    }
}

/// Why a group's view could not be computed.
#[derive(Debug, thiserror::Error)]
pub enum GroupError {
    /// No saved segment has this name.
    #[error("no saved segment is named '{0}'")]
    UnknownSegment(Label),
    /// A period series asked for more periods than [`crate::trends::MAX_PERIODS`].
    #[error("a series has at most {max} periods; this one would have {asked}")]
    TooManyPeriods {
        /// The periods the range holds.
        asked: usize,
        /// The most allowed.
        max: usize,
    },
    /// Reading or measuring failed.
    #[error(transparent)]
    Report(#[from] ReportError),
}

impl From<StoreError> for GroupError {
    fn from(e: StoreError) -> Self {
        GroupError::Report(ReportError::Store(e))
    }
}

/// The customers of a group, by id.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Members {
    ids: HashSet<CustomerId>,
}

impl Members {
    /// A group of exactly these customers.
    pub fn of(ids: impl IntoIterator<Item = CustomerId>) -> Members {
        Members {
            ids: ids.into_iter().collect(),
        }
    }

    /// True if the customer belongs to the group.
    pub fn contains(&self, id: CustomerId) -> bool {
        self.ids.contains(&id)
    }

    /// How many customers the group has.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// True if the group has nobody.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }
}

impl CustomerGroup {
    /// The group's customers in the reader's snapshot, its conditions evaluated at
    /// `as_of`. Erased customers belong to no group.
    ///
    /// # Errors
    ///
    /// [`GroupError::UnknownSegment`] for a segment name nobody saved; the backend's.
    pub fn members(
        &self,
        reader: &Reader<'_>,
        as_of: DateTime<Utc>,
    ) -> Result<Members, GroupError> {
        let query = match self {
            CustomerGroup::Segment(name) => {
                let Some(segment) = reader.segments()?.into_iter().find(|s| &s.name == name) else {
                    return Err(GroupError::UnknownSegment(name.clone()));
                };
                CustomerQuery {
                    segment: Some(SegmentFilter {
                        predicate: segment.predicate,
                        as_of,
                    }),
                    ..CustomerQuery::default()
                }
            }
            CustomerGroup::Stage(stage) => CustomerQuery {
                stage: Some(*stage),
                ..CustomerQuery::default()
            },
        };
        Ok(Members::of(
            reader.all_matching(&query)?.iter().map(|c| c.id()),
        ))
    }
}

/// The purchase log of the group's customers only: its customer index keeps the
/// members (still ascending), its rows their purchases, in the same order.
pub fn only_members_log(log: &PurchaseLog, members: &Members) -> PurchaseLog {
    let mut index = Vec::with_capacity(log.customers.len());
    let mut customers = Vec::new();
    for &id in &log.customers {
        if members.contains(id) {
            index.push(u32::try_from(customers.len()).ok());
            customers.push(id);
        } else {
            index.push(None);
        }
    }
    let mut out = PurchaseLog {
        zone: log.zone,
        currency: log.currency,
        customers,
        ..PurchaseLog::default()
    };
    for ((&c, &at), &amount) in log.customer.iter().zip(&log.at).zip(&log.amount) {
        let kept = usize::try_from(c)
            .ok()
            .and_then(|i| index.get(i).copied().flatten());
        if let Some(new) = kept {
            out.push(new, at, amount);
        }
    }
    out
}

/// The purchase lines of the group's customers only (`product stats` of a group): the
/// catalogue's indexes (products, categories, costs) stay whole, the customer index
/// keeps the members (still ascending), the lines theirs, in the same order.
pub fn only_members_lines(
    log: &solocrm_core::metrics::products::LineLog,
    members: &Members,
) -> solocrm_core::metrics::products::LineLog {
    let mut index = Vec::with_capacity(log.customers.len());
    let mut customers = Vec::new();
    for &id in &log.customers {
        if members.contains(id) {
            index.push(u32::try_from(customers.len()).ok());
            customers.push(id);
        } else {
            index.push(None);
        }
    }
    let mut out = solocrm_core::metrics::products::LineLog {
        currency: log.currency,
        skus: log.skus.clone(),
        product_category: log.product_category.clone(),
        unit_cost: log.unit_cost.clone(),
        categories: log.categories.clone(),
        customers,
        ..Default::default()
    };
    for (i, &c) in log.customer.iter().enumerate() {
        let kept = usize::try_from(c)
            .ok()
            .and_then(|c| index.get(c).copied().flatten());
        if let (Some(new), Some(&purchase), Some(&product), Some(&quantity), Some(&revenue)) = (
            kept,
            log.purchase.get(i),
            log.product.get(i),
            log.quantity.get(i),
            log.revenue.get(i),
        ) {
            out.customer.push(new);
            out.purchase.push(purchase);
            out.product.push(product);
            out.quantity.push(quantity);
            out.revenue.push(revenue);
        }
    }
    out
}

/// The report data of the group's customers only: their customer records, purchases,
/// refunds, answers, interactions, deals and service requests.
///
/// Recorded costs are not attributed to customers, so a group's data holds none: its
/// report shows no costs and no ROI (the CAC from customers' own acquisition costs is
/// kept, over the group's customers).
pub fn only_members(data: &ReportData, members: &Members) -> ReportData {
    let keep = |id: CustomerId| members.contains(id);
    // The members' deals, once: an attribution is kept by a set lookup, not a scan.
    let member_deals: HashSet<solocrm_core::DealId> = data
        .deals
        .iter()
        .filter(|d| keep(d.customer()))
        .map(|d| d.id())
        .collect();
    ReportData {
        // Campaigns hold no customer; the group's attributions are its customers'
        // (costs are not in a group's data: its campaign costs are zero, and their CAC
        // and ROI are left empty).
        campaigns: data.campaigns.clone(),
        attributions: data
            .attributions
            .iter()
            .filter(|a| a.kept_in_group(keep, |d| member_deals.contains(&d)))
            .copied()
            .collect(),
        participations: data
            .participations
            .iter()
            .filter(|p| keep(p.customer))
            .cloned()
            .collect(),
        customers: data
            .customers
            .iter()
            .filter(|c| keep(c.id))
            .cloned()
            .collect(),
        log: only_members_log(&data.log, members),
        // The members' rows, as rows: wherever the whole book's were kept.
        purchases: solocrm_core::ReportPurchases {
            currency: data.purchases.currency,
            rows: data.purchase_rows().filter(|p| keep(p.customer)).collect(),
        },
        log_costs: None,
        refunds: data
            .refunds
            .iter()
            .filter(|r| keep(r.customer()))
            .cloned()
            .collect(),
        surveys: data
            .surveys
            .iter()
            .filter(|s| keep(s.customer()))
            .cloned()
            .collect(),
        interactions: data
            .interactions
            .iter()
            .filter(|i| keep(i.customer))
            .copied()
            .collect(),
        deals: data
            .deals
            .iter()
            .filter(|d| keep(d.customer()))
            .cloned()
            .collect(),
        requests: data
            .requests
            .iter()
            .filter(|r| keep(r.customer()))
            .cloned()
            .collect(),
        costs: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use solocrm_core::Currency;

    #[test]
    fn the_log_of_members_keeps_their_rows_and_renumbers_the_index() {
        let ids: Vec<CustomerId> = (1..=4).map(CustomerId::new).collect();
        let mut log = PurchaseLog::with_customers(Currency::CNY, ids.clone());
        for (c, at, amount) in [
            (0, 10, 100),
            (1, 20, 200),
            (2, 30, 300),
            (1, 40, 400),
            (3, 50, 500),
        ] {
            log.push(c, at, amount);
        }
        let members = Members::of([ids[1], ids[3]]);
        let only = only_members_log(&log, &members);
        assert_eq!(only.customers, vec![ids[1], ids[3]]);
        assert_eq!(only.customer, vec![0, 0, 1]);
        assert_eq!(only.at, vec![20, 40, 50]);
        assert_eq!(only.amount, vec![200, 400, 500]);
        assert_eq!(only.currency, Some(Currency::CNY));
        let nobody = only_members_log(&log, &Members::default());
        assert!(nobody.is_empty() && nobody.customers.is_empty());
    }

    #[test]
    fn the_lines_of_members_keep_their_rows_and_the_catalogue() {
        use solocrm_core::metrics::products::LineLog;
        let ids: Vec<CustomerId> = (1..=3).map(CustomerId::new).collect();
        let log = LineLog {
            currency: Some(Currency::CNY),
            skus: vec![solocrm_core::product::Sku::parse("TEA-LJ").expect("a SKU")],
            product_category: vec![Some(0)],
            unit_cost: vec![Some(4_000)],
            categories: vec![solocrm_core::Label::parse("茶叶").expect("a label")],
            customers: ids.clone(),
            customer: vec![0, 1, 2, 1],
            purchase: vec![1, 2, 3, 4],
            product: vec![0, 0, 0, 0],
            quantity: vec![1, 2, 3, 4],
            revenue: vec![8_800, 17_600, 26_400, 35_200],
        };
        let only = only_members_lines(&log, &Members::of([ids[1], ids[2]]));
        assert_eq!(only.customers, vec![ids[1], ids[2]]);
        assert_eq!(only.customer, vec![0, 1, 0]);
        assert_eq!(only.purchase, vec![2, 3, 4]);
        assert_eq!(only.quantity, vec![2, 3, 4]);
        assert_eq!(only.revenue, vec![17_600, 26_400, 35_200]);
        assert_eq!(
            (only.skus, only.categories, only.unit_cost),
            (
                log.skus.clone(),
                log.categories.clone(),
                log.unit_cost.clone()
            )
        );
        let nobody = only_members_lines(&log, &Members::default());
        assert!(nobody.customer.is_empty() && nobody.customers.is_empty());
    }
}
