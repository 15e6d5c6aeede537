//! The as-of replay property of `solocrm-store-tests` over the SQLite store (private
//! in-memory databases): the books read as of an instant equal a copy of the books
//! cut at that instant.

solocrm_store_tests::as_of_conformance!(|| solocrm_core::ops::Crm::new(
    solocrm_store_sqlite::SqliteStore::open_in_memory(solocrm_core::Currency::EUR)
        .expect("an in-memory database")
));
