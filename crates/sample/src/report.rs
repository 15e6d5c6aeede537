//! What a report reads of new books that hold a generated business, computed from
//! the business itself: `solocrm demo` computes its dashboard from it while the books
//! are written (ADR 0059), instead of reading the books back afterwards.

use chrono::{DateTime, Utc};
use solocrm_core::{
    BusinessZone, Currency, CustomerId, Deal, DealId, DomainError, LifecycleStage, NewPurchase,
    Period, PurchaseId, PurchaseLog, Refund, RefundId, ReportCustomer, ReportData,
    ReportInteraction, ReportPurchase, ReportPurchaseRead, ReportPurchases, RequestId,
    ServiceRequest, SurveyId, SurveyResponse, TaskId,
};

use super::{Business, Populated};

/// The id new books give the record at `index` of its list: each kind is numbered
/// from 1, in the order written.
fn id(index: usize) -> u64 {
    index as u64 + 1
}

fn customer_id(index: usize) -> CustomerId {
    CustomerId::new(id(index))
}

impl Business {
    /// What [`Reader::report_data`](solocrm_core::Reader::report_data) of `period`
    /// reads from new, empty books kept in `currency` and counting their days in
    /// `zone`, once [`insert`](super::insert) or [`insert_bulk`](super::insert_bulk)
    /// has written this business into them — without reading the books.
    ///
    /// New books number every kind of record from 1 in the order it is written, and
    /// the insertion writes each list of the business in its order, so the ids are
    /// known in advance; [`Populated::numbered_from_one`] tells whether the books the
    /// business went into did so. The records are built by the same constructors and
    /// checks the write operations use (a deal replays its moves, a request its
    /// steps); the customers' stages are their last stage change's. A test holds the
    /// result equal to the read of the written books.
    ///
    /// # Errors
    ///
    /// The first record the operations would refuse (money in another currency, a
    /// deal move or request step out of order): the books refuse it too.
    pub fn report_data(
        &self,
        currency: Currency,
        zone: BusinessZone,
        period: Period,
    ) -> Result<ReportData, DomainError> {
        let period = period.in_zone(zone);
        let until = period.time_range().to;
        let before = |at: DateTime<Utc>| until.is_none_or(|t| at < t);

        let mut stages: Vec<LifecycleStage> = self.customers.iter().map(|c| c.stage).collect();
        for change in &self.stage_changes {
            if let Some(stage) = stages.get_mut(change.customer) {
                *stage = change.to;
            }
        }
        let customers = self
            .customers
            .iter()
            .zip(stages)
            .enumerate()
            .map(|(i, (c, stage))| {
                let cost = match c.data.acquisition_cost {
                    Some(cost) if cost.is_negative() => {
                        return Err(solocrm_core::ValidationError::NegativeAmount {
                            field: "acquisition cost",
                            amount: cost,
                        });
                    }
                    Some(cost) => Some(cost.for_storage("acquisition cost", currency)?),
                    None => None,
                };
                Ok(ReportCustomer {
                    id: customer_id(i),
                    created_at: c.created_at,
                    stage,
                    erased: false,
                    acquisition_channel: c.data.acquisition_channel.clone(),
                    acquisition_cost: cost,
                })
            })
            .collect::<Result<Vec<_>, _>>()?;

        let mut log = PurchaseLog::with_customers(
            currency,
            (0..self.customers.len()).map(customer_id).collect(),
        )
        .in_zone(zone);
        log.customer.reserve_exact(self.purchases.len());
        log.at.reserve_exact(self.purchases.len());
        log.amount.reserve_exact(self.purchases.len());
        let mut purchases = ReportPurchases::new(currency);
        purchases.rows.reserve_exact(self.purchases.len());
        for (k, p) in self.purchases.iter().enumerate() {
            let new = NewPurchase {
                customer: customer_id(p.customer),
                at: p.at,
                amount: p.amount,
                cost: p.cost,
                description: None,
                items: p.items,
                external_ref: None,
                deal: p.deal.map(|d| DealId::new(id(d))),
            }
            .for_storage(currency)?;
            let minor_of = |m: solocrm_core::Money| {
                m.to_minor_units()
                    .map_err(|e| solocrm_core::ValidationError::Inconsistent {
                        record: format!("purchase {}", id(k)),
                        detail: e.to_string(),
                    })
            };
            let minor = minor_of(new.amount)?;
            let dense = u32::try_from(p.customer).map_err(|_| {
                solocrm_core::ValidationError::Inconsistent {
                    record: format!("purchase {}", id(k)),
                    detail: "more customers than a purchase log holds".to_owned(),
                }
            })?;
            log.push(dense, new.at.timestamp(), minor);
            if before(new.at) {
                let cost = new.cost.map(minor_of).transpose()?;
                purchases.rows.push(ReportPurchase::new(
                    new.customer,
                    new.at.timestamp(),
                    minor,
                    cost,
                ));
            }
        }

        // By time, then id, as the books list them (the business's lists are by time,
        // each customer's records in the order written).
        let mut refunds = Vec::new();
        for (r, refund) in self.refunds.iter().enumerate() {
            let Some(p) = self.purchases.get(refund.purchase) else {
                continue;
            };
            let new = refund
                .to_new(PurchaseId::new(id(refund.purchase)))
                .for_storage(currency)?;
            if before(new.at) {
                refunds.push(Refund::new(
                    RefundId::new(id(r)),
                    customer_id(p.customer),
                    new,
                ));
            }
        }
        refunds.sort_by_key(|r| (r.at(), r.id()));
        let mut interactions: Vec<(ReportInteraction, usize)> = self
            .interactions
            .iter()
            .enumerate()
            .filter(|(_, x)| before(x.at))
            .map(|(k, x)| {
                let customer = customer_id(x.customer);
                (ReportInteraction { customer, at: x.at }, k)
            })
            .collect();
        interactions.sort_by_key(|(x, k)| (x.at, *k));
        let interactions: Vec<ReportInteraction> =
            interactions.into_iter().map(|(x, _)| x).collect();
        let mut surveys: Vec<SurveyResponse> = self
            .surveys
            .iter()
            .enumerate()
            .filter(|(_, s)| before(s.at))
            .map(|(k, s)| {
                SurveyResponse::new(SurveyId::new(id(k)), s.to_new(customer_id(s.customer)))
            })
            .collect();
        surveys.sort_by_key(|s| (s.at(), s.id()));

        // Every deal and request, by id, with its moves and steps replayed.
        let mut deals = Vec::with_capacity(self.deals.len());
        for (d, deal) in self.deals.iter().enumerate() {
            let new = deal
                .to_new(customer_id(deal.customer))
                .for_storage(currency)?;
            let mut stored = Deal::create(DealId::new(id(d)), new);
            for &(stage, at) in &deal.moves {
                stored.move_to(stage, at)?;
            }
            deals.push(stored);
        }
        let mut requests = Vec::with_capacity(self.requests.len());
        for (r, request) in self.requests.iter().enumerate() {
            let new = request.to_new(
                customer_id(request.customer),
                request.deal.map(|d| DealId::new(id(d))),
            );
            let mut stored = ServiceRequest::open(RequestId::new(id(r)), new);
            for &(step, at) in &request.steps {
                stored.apply(step, at)?;
            }
            requests.push(stored);
        }

        // The rows beside the log, as a store's read keeps them.
        let read = ReportPurchaseRead::beside(purchases, log);
        Ok(ReportData {
            customers,
            log: read.log,
            purchases: read.purchases,
            log_costs: read.log_costs,
            refunds,
            surveys,
            interactions,
            deals,
            requests,
            costs: Vec::new(),
            participations: Vec::new(),
            campaigns: Vec::new(),
            attributions: Vec::new(),
        })
    }
}

impl Populated {
    /// True if the books numbered the customers, purchases, deals, requests and tasks
    /// they were given from 1, in the order of the business's lists, as new books do
    /// (see [`Business::report_data`]).
    pub fn numbered_from_one(&self) -> bool {
        fn dense<T: Copy>(ids: &[T], get: impl Fn(T) -> u64) -> bool {
            ids.iter().enumerate().all(|(k, &x)| get(x) == id(k))
        }
        dense(&self.customers, CustomerId::get)
            && dense(&self.purchases, PurchaseId::get)
            && dense(&self.deals, DealId::get)
            && dense(&self.requests, RequestId::get)
            && dense(&self.tasks, TaskId::get)
    }
}
