//! The analytic commands: the dashboard.

use anyhow::Result;
use chrono::{DateTime, Utc};
use solocrm_core::store::all_customers;
use solocrm_core::{LifecycleStage, Money, Store};
use solocrm_store_tests::generate::Populated;

use super::Ctx;
use crate::output::Table;

/// Prints the dashboard of a store as of `as_of`.
pub fn dashboard(
    ctx: &mut Ctx,
    store: &dyn Store,
    as_of: DateTime<Utc>,
    _from: Option<DateTime<Utc>>,
    populated: Option<&Populated>,
) -> Result<()> {
    let customers = all_customers(store)?;
    let log = store.purchase_log()?;
    let revenue: i64 = log.amount.iter().sum();
    if ctx.out.json {
        let by_stage: Vec<_> = LifecycleStage::ALL
            .iter()
            .map(|s| {
                (
                    s.as_str(),
                    customers.iter().filter(|c| c.stage() == *s).count(),
                )
            })
            .collect();
        return ctx
            .out
            .json(&serde_json::json!({ "as_of": as_of, "customers_by_stage": by_stage }));
    }
    if populated.is_some() {
        ctx.out
            .line(format!("sample business created in {}", ctx.db.display()))?;
    }
    ctx.out
        .heading(format!("solocrm dashboard, as of {}", as_of.date_naive()))?;
    let mut t = Table::new(&["STAGE", ">CUSTOMERS"]);
    for s in LifecycleStage::ALL {
        t.row(vec![
            s.to_string(),
            customers
                .iter()
                .filter(|c| c.stage() == *s)
                .count()
                .to_string(),
        ]);
    }
    ctx.out.table(&t)?;
    ctx.out.line(format!(
        "{} purchases, {} in all",
        log.len(),
        Money::from_minor(revenue, store.base_currency())
    ))
}
