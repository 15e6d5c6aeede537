//! # solocrm-store-tests
//!
//! Two things every solocrm store and benchmark needs:
//!
//! - [`conformance`]: the checks every [`Store`](solocrm_core::Store) implementation
//!   must pass, as plain functions, and the [`store_conformance!`] macro that expands
//!   to one named `#[test]` per check;
//! - [`generate`]: a deterministic, seeded generator of a realistic one-person
//!   business, for tests, the demo and the benchmarks.
//!
//! The conformance checks are not a stable API: they change whenever the contract of
//! the store trait is sharpened.
#![deny(missing_docs)]

pub mod conformance;
pub mod generate;
pub mod transactions;
