//! The conformance suite of `solocrm-store-tests`, run against the in-memory store: one
//! `#[test]` per check, each on a fresh store keeping its books in EUR.

solocrm_store_tests::store_conformance!(|| solocrm_store_memory::MemoryStore::new(
    solocrm_core::Currency::EUR
));
