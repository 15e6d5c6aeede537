//! Views that read every record (the dashboard's report, the care list), kept between
//! requests while the books do not change.
//!
//! Every write appends an event to the outbox in its transaction, so a view computed in
//! a snapshot whose newest event is `seq` is still what a new computation would give
//! while `reader.events(seq, 1)` comes back empty (one indexed look-up). The key holds
//! everything else the view depends on (its period, its day, the time zone). A write
//! made by another program (the CLI) shows on the next load like one made here.

use std::sync::{Arc, Mutex, PoisonError};

use solocrm_app::overview::newest_event;
use solocrm_core::{EventSeq, Reader, StoreError};

/// How many views of one kind are kept (the last ones asked for).
const KEPT: usize = 4;

/// Views of one kind, by key, each with the outbox position it was computed at.
pub(crate) struct Kept<K, T> {
    slots: Mutex<Vec<(K, EventSeq, Arc<T>)>>,
}

impl<K: PartialEq + Clone, T> Kept<K, T> {
    pub(crate) fn new() -> Self {
        Kept {
            slots: Mutex::new(Vec::new()),
        }
    }

    /// Drops every kept view (after an erasure: no copy of the erased customer's data
    /// stays in memory until the next load would have replaced it).
    pub(crate) fn forget(&self) {
        self.slots
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }

    /// The view of `key` in the reader's snapshot: the kept one if the outbox has no
    /// event after it, else `compute`d now (and kept).
    ///
    /// # Errors
    ///
    /// The backend's, or `compute`'s.
    pub(crate) fn get<E: From<StoreError>>(
        &self,
        reader: &Reader<'_>,
        key: &K,
        compute: impl FnOnce() -> Result<T, E>,
    ) -> Result<Arc<T>, E> {
        let found = self
            .slots
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .find(|(k, _, _)| k == key)
            .map(|(_, seq, view)| (*seq, view.clone()));
        if let Some((seq, view)) = found
            && reader.events(seq, 1)?.is_empty()
        {
            return Ok(view);
        }
        // Searched from the start: a position kept from a later snapshot than this one
        // would be past this snapshot's newest event.
        let seq = newest_event(reader, 0)?;
        let view = Arc::new(compute()?);
        let mut slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
        slots.retain(|(k, _, _)| k != key);
        if slots.len() >= KEPT {
            slots.remove(0);
        }
        slots.push((key.clone(), seq, view.clone()));
        Ok(view)
    }
}
