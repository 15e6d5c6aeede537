//! The conformance suites of `solocrm-store-tests`, run through the operations layer
//! ([`Crm`](solocrm_core::ops::Crm)) over the in-memory store: one `#[test]` per
//! check, each on a fresh backend keeping its books in EUR. The store suite holds the
//! pair to the `Store` contract; the port suite to the transactional one (atomic
//! multi-operation writes, snapshots, readers beside a writer, the event outbox).

solocrm_store_tests::store_conformance!(|| solocrm_core::ops::Crm::new(
    solocrm_store_memory::MemoryStore::new(solocrm_core::Currency::EUR)
));

solocrm_store_tests::port_conformance!(|| solocrm_core::ops::Crm::new(
    solocrm_store_memory::MemoryStore::new(solocrm_core::Currency::EUR)
));

solocrm_store_tests::automation_conformance!(|| solocrm_core::ops::Crm::new(
    solocrm_store_memory::MemoryStore::new(solocrm_core::Currency::EUR)
));

/// The port's default lots read agrees with the replay after random points histories.
#[test]
fn the_points_lots_read_equals_the_replayed_ledgers_after_any_history() {
    solocrm_store_tests::points_lots::check_kept_lots_replay(
        &|| {
            solocrm_core::ops::Crm::new(solocrm_store_memory::MemoryStore::new(
                solocrm_core::Currency::EUR,
            ))
        },
        16,
    );
}
