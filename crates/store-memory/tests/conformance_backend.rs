//! The conformance suite of `solocrm-store-tests`, run through the operations layer
//! ([`Crm`](solocrm_core::ops::Crm)) over the in-memory backend: one `#[test]` per
//! check, each on a fresh backend keeping its books in EUR.

solocrm_store_tests::store_conformance!(|| solocrm_core::ops::Crm::new(
    solocrm_store_memory::MemoryBackend::new(solocrm_core::Currency::EUR)
));
