//! The conformance suite of `solocrm-store-tests`, run against the SQLite store: one
//! `#[test]` per check, each on a fresh private in-memory database keeping its books in
//! EUR. (`files.rs` runs a selection of the same checks on database files.)

fn setup() -> solocrm_store_sqlite::SqliteStore {
    solocrm_store_sqlite::SqliteStore::open_in_memory(solocrm_core::Currency::EUR)
        .expect("an in-memory database opens")
}

solocrm_store_tests::store_conformance!(setup);
