//! # solocrm-store-tests
//!
//! [`conformance`]: the checks every [`Store`](solocrm_core::Store) implementation
//! must pass, as plain functions, and the [`store_conformance!`] macro that expands
//! to one named `#[test]` per check; and [`transactions`]: the checks of the
//! transactional port (atomic multi-operation writes, snapshots, the event outbox) with
//! [`port_conformance!`]; and [`as_of`]: the property that the books read as of an
//! instant equal the books cut there, with [`as_of_conformance!`]. Use it as a
//! dev-dependency; the seeded synthetic data lives in `solocrm-sample`.
//!
//! The conformance checks are not a stable API: they change whenever the contract of
//! the store trait is sharpened.
#![deny(missing_docs)]

pub mod as_of;
pub mod automation;
pub mod conformance;
pub mod offers;
pub mod points_lots;
pub mod purchase_totals;
pub mod transactions;
