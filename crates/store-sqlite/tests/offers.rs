//! Coupon limits on SQLite: two connections (two stores opened on one file) redeem
//! one offer from many threads at once and never go beyond its limits; generated
//! sequences of attempts agree with a plain count.

use proptest::prelude::*;
use solocrm_core::{Crm, Currency};
use solocrm_store_sqlite::SqliteStore;

#[test]
fn two_connections_never_redeem_beyond_the_limits() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("race.db");
    let a = Crm::new(SqliteStore::create(&path, Currency::CNY).expect("created"));
    let b = Crm::new(SqliteStore::open(&path).expect("opened again"));
    solocrm_store_tests::offers::race_two_handles(&a, &b);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]
    /// A coupon is never redeemed beyond its limits: every attempt's answer is the
    /// one a plain count gives.
    #[test]
    fn a_coupon_is_never_redeemed_beyond_its_limits(
        per_customer in proptest::option::of(1u32..4),
        total in proptest::option::of(1u32..8),
        attempts in proptest::collection::vec((0usize..4, 0i64..60), 0..16),
    ) {
        let crm = Crm::new(SqliteStore::open_in_memory(Currency::CNY).expect("a store"));
        solocrm_store_tests::offers::check_limits_model(&crm, per_customer, total, &attempts);
    }
}
