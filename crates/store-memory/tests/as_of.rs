//! The as-of replay property of `solocrm-store-tests` over the in-memory store: the
//! books read as of an instant equal a copy of the books cut at that instant.

solocrm_store_tests::as_of_conformance!(|| solocrm_core::ops::Crm::new(
    solocrm_store_memory::MemoryStore::new(solocrm_core::Currency::EUR)
));
