//! # solocrm
//!
//! Customer relationships for a one-person company, as a library: the customer
//! lifecycle, interactions, purchases in exact money, a sales pipeline, satisfaction
//! surveys, service requests, care reminders, loyalty, segmentation and privacy, with
//! metric formulas over all of it.
//!
//! This facade re-exports [`solocrm_core`] (everything at the top level) and the stores
//! behind features: [`memory::MemoryStore`] (feature `memory`) and
//! [`sqlite::SqliteStore`] (feature `sqlite`, the embedded default). Both are on by
//! default.
#![deny(missing_docs)]

pub use solocrm_core::*;

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
