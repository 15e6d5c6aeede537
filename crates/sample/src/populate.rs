//! Inserting a generated business into a store through the [`Store`] trait.

use solocrm_core::{CustomerId, DealId, PurchaseId, RequestId, Store, StoreResult, TaskId};

use super::GenConfig;
use super::business::{Business, business};

/// Purchases per [`Store::record_purchases`] call.
const PURCHASE_BATCH: usize = 10_000;

/// How many records of each kind there are (in a [`Business`]) or were created (by
/// [`populate`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Customers.
    pub customers: u64,
    /// Purchases.
    pub purchases: u64,
    /// Refunds.
    pub refunds: u64,
    /// Interactions.
    pub interactions: u64,
    /// Survey answers.
    pub surveys: u64,
    /// Deals.
    pub deals: u64,
    /// Moves of deals through the pipeline.
    pub deal_moves: u64,
    /// Service requests.
    pub requests: u64,
    /// Steps of service requests after opening.
    pub request_steps: u64,
    /// Tasks.
    pub tasks: u64,
    /// Task completions.
    pub task_completions: u64,
    /// Loyalty points entries.
    pub points_entries: u64,
    /// Lifecycle stage changes.
    pub stage_changes: u64,
    /// Consent decisions.
    pub consents: u64,
}

impl Business {
    /// How many records of each kind the business holds.
    pub fn counts(&self) -> Counts {
        let n = |len: usize| len as u64;
        Counts {
            customers: n(self.customers.len()),
            purchases: n(self.purchases.len()),
            refunds: n(self.refunds.len()),
            interactions: n(self.interactions.len()),
            surveys: n(self.surveys.len()),
            deals: n(self.deals.len()),
            deal_moves: n(self.deals.iter().map(|d| d.moves.len()).sum()),
            requests: n(self.requests.len()),
            request_steps: n(self.requests.iter().map(|r| r.steps.len()).sum()),
            tasks: n(self.tasks.len()),
            task_completions: n(self.tasks.iter().map(|t| t.completions.len()).sum()),
            points_entries: n(self.points.len()),
            stage_changes: n(self.stage_changes.len()),
            consents: n(self.consents.len()),
        }
    }
}

/// What [`populate`] created: the stored ids, each list in the index order of the
/// [`Business`] lists, and the counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Populated {
    /// The customers' ids, in index order.
    pub customers: Vec<CustomerId>,
    /// The purchases' ids, in index order.
    pub purchases: Vec<PurchaseId>,
    /// The deals' ids, in index order.
    pub deals: Vec<DealId>,
    /// The service requests' ids, in index order.
    pub requests: Vec<RequestId>,
    /// The tasks' ids, in index order.
    pub tasks: Vec<TaskId>,
    /// How many records of each kind were created.
    pub counts: Counts,
}

/// Inserts [`business(config)`](business) into `store` through the [`Store`] trait
/// (purchases via [`Store::record_purchases`] in batches) and returns what was created.
/// Succeeds on an empty store whose base currency is `config.currency`.
///
/// # Errors
///
/// The first error of the store, e.g. [`StoreError::Validation`](solocrm_core::StoreError::Validation)
/// when the store keeps its books in another currency; what was inserted before stays.
///
/// # Panics
///
/// As [`purchase_log`](super::purchase_log).
pub fn populate<S: Store + ?Sized>(store: &S, config: &GenConfig) -> StoreResult<Populated> {
    insert(store, &business(config))
}

/// Inserts a [`Business`] into `store`, in an order the store contract accepts:
/// customers, deals with their moves (so after-sales links find won deals), purchases
/// in batches, refunds, interactions, surveys, service requests with their steps,
/// tasks with their completions, points, stage changes, consents.
///
/// # Errors
///
/// As [`populate`].
pub fn insert<S: Store + ?Sized>(store: &S, business: &Business) -> StoreResult<Populated> {
    let mut counts = Counts::default();

    let mut customers = Vec::with_capacity(business.customers.len());
    for c in &business.customers {
        customers.push(store.create_customer(c.clone())?.id());
        counts.customers += 1;
    }

    let mut deals = Vec::with_capacity(business.deals.len());
    for d in &business.deals {
        let id = store.create_deal(d.to_new(customers[d.customer]))?.id();
        counts.deals += 1;
        for &(stage, at) in &d.moves {
            store.move_deal(id, stage, at)?;
            counts.deal_moves += 1;
        }
        deals.push(id);
    }

    let mut purchases = Vec::with_capacity(business.purchases.len());
    for chunk in business.purchases.chunks(PURCHASE_BATCH) {
        let batch = chunk
            .iter()
            .map(|p| p.to_new(customers[p.customer], p.deal.map(|d| deals[d])))
            .collect();
        let ids = store.record_purchases(batch)?;
        counts.purchases += ids.len() as u64;
        purchases.extend(ids);
    }

    for r in &business.refunds {
        store.record_refund(r.to_new(purchases[r.purchase]))?;
        counts.refunds += 1;
    }
    for x in &business.interactions {
        store.log_interaction(x.to_new(customers[x.customer]))?;
        counts.interactions += 1;
    }
    for s in &business.surveys {
        store.record_survey(s.to_new(customers[s.customer]))?;
        counts.surveys += 1;
    }

    let mut requests = Vec::with_capacity(business.requests.len());
    for r in &business.requests {
        let new = r.to_new(customers[r.customer], r.deal.map(|d| deals[d]));
        let id = store.open_request(new)?.id();
        counts.requests += 1;
        for &(step, at) in &r.steps {
            store.update_request(id, step, at)?;
            counts.request_steps += 1;
        }
        requests.push(id);
    }

    let mut tasks = Vec::with_capacity(business.tasks.len());
    for t in &business.tasks {
        let id = store
            .create_task(t.to_new(t.customer.map(|c| customers[c])))?
            .id();
        counts.tasks += 1;
        for &at in &t.completions {
            store.complete_task(id, at)?;
            counts.task_completions += 1;
        }
        tasks.push(id);
    }

    for p in &business.points {
        store.post_points(p.to_new(customers[p.customer]))?;
        counts.points_entries += 1;
    }
    for c in &business.stage_changes {
        store.change_stage(customers[c.customer], c.to, c.at, c.reason.clone())?;
        counts.stage_changes += 1;
    }
    for c in &business.consents {
        store.record_consent(customers[c.customer], c.consent.clone())?;
        counts.consents += 1;
    }

    Ok(Populated {
        customers,
        purchases,
        deals,
        requests,
        tasks,
        counts,
    })
}
