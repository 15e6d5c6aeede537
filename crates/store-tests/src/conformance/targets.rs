//! Sales targets stored with the books (issue 18): one per metric and calendar period,
//! a second set replaces, listed by period then metric, removed by metric and period.

use rust_decimal::Decimal;
use solocrm_core::target::{Target, TargetMetric, TargetPeriod};
use solocrm_core::{Entity, Store, StoreError};

use super::support::assert_err;

fn target(metric: TargetMetric, period: &str, value: Decimal) -> Target {
    let period = TargetPeriod::parse(period).expect("a period");
    Target::new(metric, period, value).expect("a target")
}

/// Targets read back exactly, in listing order (period start, month before quarter
/// before year, then metric name); setting the same metric and period replaces the
/// value; a removed target is gone and a second removal is not found.
pub fn targets_are_set_replaced_listed_and_removed(store: &dyn Store) {
    assert!(store.targets().expect("none yet").is_empty());
    let year = target(TargetMetric::Revenue, "2026", Decimal::new(120_000_000, 2));
    let q1_deals = target(TargetMetric::DealsWon, "2026-Q1", Decimal::new(12, 0));
    let jan_new = target(TargetMetric::NewCustomers, "2026-01", Decimal::new(30, 0));
    let jan_rev = target(TargetMetric::Revenue, "2026-01", Decimal::new(950_050, 2));
    let feb_ret = target(TargetMetric::RetentionRate, "2026-02", Decimal::new(85, 2));
    for t in [&year, &feb_ret, &q1_deals, &jan_rev, &jan_new] {
        assert_eq!(&store.set_target(t.clone()).expect("set"), t);
    }
    assert_eq!(
        store.targets().expect("listed"),
        vec![
            jan_new.clone(),
            jan_rev.clone(),
            q1_deals.clone(),
            year.clone(),
            feb_ret.clone()
        ]
    );
    let raised = target(TargetMetric::Revenue, "2026-01", Decimal::new(10_000, 0));
    store.set_target(raised.clone()).expect("replaced");
    let listed = store.targets().expect("listed");
    assert_eq!(listed.len(), 5);
    assert_eq!(listed[1], raised);
    let period = TargetPeriod::parse("2026-Q1").expect("a period");
    assert_eq!(
        store
            .remove_target(TargetMetric::DealsWon, period)
            .expect("removed"),
        q1_deals
    );
    assert_err!(
        store.remove_target(TargetMetric::DealsWon, period),
        StoreError::NotFound {
            entity: Entity::Target,
            ..
        }
    );
    assert_eq!(
        store.targets().expect("listed"),
        vec![jan_new, raised, year, feb_ret]
    );
}

/// A revenue target finer than the base currency's cents is refused and nothing is
/// stored; an exact zero target is kept.
pub fn a_revenue_target_in_fractions_of_a_cent_is_refused(store: &dyn Store) {
    assert_err!(
        store.set_target(target(
            TargetMetric::Revenue,
            "2026-03",
            Decimal::new(10_005, 3)
        )),
        StoreError::Validation(_)
    );
    assert!(store.targets().expect("listed").is_empty());
    let zero = target(TargetMetric::DealsWon, "2026-03", Decimal::ZERO);
    store.set_target(zero.clone()).expect("a zero target");
    assert_eq!(store.targets().expect("listed"), vec![zero]);
}
