//! How many requests work on the store at once.
//!
//! Every page's store work runs on tokio's blocking pool, which grows to hundreds of
//! threads. Under many concurrent readers (the load test: 50) each thread's
//! read opened its own SQLite connection beyond the few the store keeps idle
//! (`READERS` = 4 in `solocrm-store-sqlite`), paid the opening (schema, prepared
//! statements) and filled a fresh page cache of up to 64 MiB, then closed it: more
//! memory and more CPU on a small machine, and the slowest request waited behind
//! all the others at once. A fair semaphore lets [`STORE_WORKERS`] requests work at a
//! time and queues the rest in arrival order (ADR 0042), so the kept connections stay
//! warm and are reused.

use tokio::sync::Semaphore;

/// The number of requests that work on the store at once: the number of read
/// connections a SQLite store keeps idle.
pub(crate) const STORE_WORKERS: usize = 4;

/// The permits; a request holds one while its store work runs.
pub(crate) static STORE_WORK: Semaphore = Semaphore::const_new(STORE_WORKERS);
