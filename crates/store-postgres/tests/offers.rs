//! Coupon limits on PostgreSQL: two handles with pools of their own on one tenant
//! redeem one offer from many threads at once and never go beyond its limits;
//! generated sequences of attempts agree with a plain count.

mod common;

use proptest::prelude::*;
use solocrm_core::Crm;

#[test]
fn two_pools_never_redeem_beyond_the_limits() {
    let Some(pg) = common::server() else { return };
    let a = Crm::new(pg.store_of(1));
    let b = Crm::new(
        solocrm_store_postgres::PgStore::open_with(
            pg.config(),
            solocrm_store_postgres::TenantId::new(1).expect("a tenant"),
            &solocrm_store_postgres::PgOptions::new().pool_size(2),
        )
        .expect("a second handle"),
    );
    solocrm_store_tests::offers::race_two_handles(&a, &b);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(8))]
    /// A coupon is never redeemed beyond its limits: every attempt's answer is the
    /// one a plain count gives.
    #[test]
    fn a_coupon_is_never_redeemed_beyond_its_limits(
        per_customer in proptest::option::of(1u32..4),
        total in proptest::option::of(1u32..8),
        attempts in proptest::collection::vec((0usize..4, 0i64..60), 0..12),
    ) {
        let Some(pg) = common::server() else { return Ok(()) };
        solocrm_store_tests::offers::check_limits_model(&pg.crm(), per_customer, total, &attempts);
    }
}
