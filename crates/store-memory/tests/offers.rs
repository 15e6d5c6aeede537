//! Coupon limits on the reference store: generated sequences of redemption attempts
//! agree with a plain count, and threads racing on one offer stay within its limits.

use proptest::prelude::*;
use solocrm_core::{Crm, Currency};
use solocrm_store_memory::MemoryStore;

#[test]
fn threads_never_redeem_beyond_the_limits() {
    let crm = Crm::new(MemoryStore::new(Currency::CNY));
    solocrm_store_tests::offers::race_two_handles(&crm, &crm.clone());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    /// A coupon is never redeemed beyond its limits: every attempt's answer is the
    /// one a plain count gives.
    #[test]
    fn a_coupon_is_never_redeemed_beyond_its_limits(
        per_customer in proptest::option::of(1u32..4),
        total in proptest::option::of(1u32..8),
        attempts in proptest::collection::vec((0usize..4, 0i64..60), 0..24),
    ) {
        let crm = Crm::new(MemoryStore::new(Currency::CNY));
        solocrm_store_tests::offers::check_limits_model(&crm, per_customer, total, &attempts);
    }
}
