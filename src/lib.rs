//! The `solocrm` facade: re-exports [`solocrm_core`] at the top level, the
//! probabilistic customer-base models as [`models`], and the stores behind features:
//! `memory` ([`memory::MemoryStore`]) and `sqlite` (the embedded default). Both are on
//! by default.
//!
#![doc = include_str!("../README.md")]
#![deny(missing_docs)]

pub use solocrm_core::*;

/// The probabilistic customer-base models (BG/NBD, MBG/NBD, Pareto/NBD, Gamma-Gamma)
/// and CLV: the `solocrm-models` crate.
pub mod models {
    pub use solocrm_models::*;
}

/// The in-memory store: the reference semantics, for tests and short-lived use.
#[cfg(feature = "memory")]
pub mod memory {
    pub use solocrm_store_memory::*;
}

/// The SQLite store: the embedded default for real use.
#[cfg(feature = "sqlite")]
pub mod sqlite {
    pub use solocrm_store_sqlite::*;
}
