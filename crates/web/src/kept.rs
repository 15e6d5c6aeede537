//! Views that read every record (the dashboard's report, the care list), kept between
//! requests while the books do not change.
//!
//! Every write appends an event to the outbox in its transaction, so a view computed in
//! a snapshot whose newest event is `seq` is still what a new computation would give
//! in a snapshot whose newest event is `seq` too: it holds event `seq` and
//! `reader.events(seq, 1)` comes back empty (two indexed look-ups). A request whose
//! snapshot is older than the kept view's computes its own rather than taking a view
//! of records it cannot see (a search hit created after its snapshot would not be
//! found). The key holds everything else the view depends on (its period, its day, the
//! time zone). A write made by another program (the CLI) shows on the next load like
//! one made here.
//!
//! [`Kept::forget`] drops every view and bumps a generation: a view computed from a
//! snapshot taken before the forgetting (a search that began before an erasure) is
//! answered to its own request but not kept.

use std::sync::{Arc, Mutex, PoisonError};

use solocrm_app::overview::newest_event;
use solocrm_core::{Crm, EventSeq, Reader, StoreError};

/// How many views of one kind are kept (the last ones asked for).
const KEPT: usize = 4;

/// Views of one kind, by key, each with the outbox position it was computed at, and
/// the number of times they were forgotten.
pub(crate) struct Kept<K, T> {
    slots: Mutex<Slots<K, T>>,
    /// Held while a view is computed: a request that misses waits for a computation in
    /// progress and takes its view if its snapshot is the same, rather than computing
    /// the same view beside it (a dashboard is seconds and hundreds of megabytes at
    /// 100 k customers; four store workers missing at once after a write would hold
    /// four).
    building: Mutex<()>,
}

/// What [`Kept`] guards: the views and the generation of the last [`Kept::forget`].
struct Slots<K, T> {
    views: Vec<(K, EventSeq, Arc<T>)>,
    generation: u64,
}

impl<K: PartialEq + Clone, T> Kept<K, T> {
    pub(crate) fn new() -> Self {
        Kept {
            slots: Mutex::new(Slots {
                views: Vec::new(),
                generation: 0,
            }),
            building: Mutex::new(()),
        }
    }

    /// Drops every kept view (after an erasure: no copy of the erased customer's data
    /// stays in memory until the next load would have replaced it).
    /// A view being computed from an earlier snapshot is not kept when it is done.
    pub(crate) fn forget(&self) {
        let mut slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
        slots.views.clear();
        slots.generation = slots.generation.wrapping_add(1);
    }

    /// True if no view is kept (none asked for since the start or the last forgetting).
    pub(crate) fn is_empty(&self) -> bool {
        self.slots
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .views
            .is_empty()
    }

    /// How many views are kept.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.slots
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .views
            .len()
    }

    /// The view of `key` in the reader's snapshot: the kept one if it was computed in a
    /// snapshot with the same newest event, else `compute`d now (and kept, unless the
    /// views were forgotten meanwhile).
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
        // Searched from the start: a position kept from a later snapshot than this one
        // would be past this snapshot's newest event.
        self.get_or_earlier(reader, key, false, compute)
            .map(|(view, _)| view)
    }

    /// The view of `key` as [`get`](Self::get) finds it, or, if it is out of date and
    /// `earlier_ok`, the view kept of an earlier snapshot as it is, with `true` (the
    /// caller says so and has it brought up to date elsewhere); computed only when none
    /// is kept.
    ///
    /// # Errors
    ///
    /// The backend's, or `compute`'s.
    pub(crate) fn get_or_earlier<E: From<StoreError>>(
        &self,
        reader: &Reader<'_>,
        key: &K,
        earlier_ok: bool,
        compute: impl FnOnce() -> Result<T, E>,
    ) -> Result<(Arc<T>, bool), E> {
        self.get_with(
            key,
            earlier_ok,
            || self.lookup(reader, key),
            || Ok((newest_event(reader, 0)?, compute()?)),
        )
    }

    /// The view of `key` as [`get`](Self::get) keeps it, but looked up in short reads
    /// of `crm` and, when out of date, `compute`d in a snapshot of its own (a read on
    /// two threads), outside any read of the caller: `compute` returns the view and the
    /// newest event of the snapshot it read, which the view is kept with. The view
    /// answered may thus be a moment older or newer than a snapshot the caller reads
    /// next; a later request takes it only if its own lookup sees the same newest
    /// event. With `earlier_ok`, the view kept of an earlier snapshot is answered as
    /// [`get_or_earlier`](Self::get_or_earlier) answers it.
    ///
    /// # Errors
    ///
    /// The backend's, or `compute`'s.
    pub(crate) fn get_apart_or_earlier<E: From<StoreError>>(
        &self,
        crm: &Crm,
        key: &K,
        earlier_ok: bool,
        compute: impl FnOnce() -> Result<(EventSeq, T), E>,
    ) -> Result<(Arc<T>, bool), E> {
        self.get_with(
            key,
            earlier_ok,
            || crm.read(|r| self.lookup(&r, key)),
            compute,
        )
    }

    /// The view of `key` found by `lookup`; or else, if `earlier_ok`, the one kept of an
    /// earlier snapshot (with `true`); or else `compute`d (with the newest event of the
    /// snapshot it read) and kept: one computation at a time, and the view of one that
    /// finished while this waited serves this request too if `lookup` finds it.
    fn get_with<E: From<StoreError>>(
        &self,
        key: &K,
        earlier_ok: bool,
        lookup: impl Fn() -> Result<(Option<Arc<T>>, u64), StoreError>,
        compute: impl FnOnce() -> Result<(EventSeq, T), E>,
    ) -> Result<(Arc<T>, bool), E> {
        if let (Some(view), _) = lookup()? {
            return Ok((view, false));
        }
        if earlier_ok {
            let slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some((_, _, view)) = slots.views.iter().find(|(k, _, _)| k == key) {
                return Ok((view.clone(), true));
            }
        }
        let _building = self.building.lock().unwrap_or_else(PoisonError::into_inner);
        let (found, generation) = lookup()?;
        if let Some(view) = found {
            return Ok((view, false));
        }
        let (seq, view) = compute()?;
        Ok((self.keep(key, seq, generation, view), false))
    }

    /// Keeps `view` of `key`, computed at `seq`, unless the views were forgotten since
    /// `generation`; returns it either way.
    fn keep(&self, key: &K, seq: EventSeq, generation: u64, view: T) -> Arc<T> {
        let view = Arc::new(view);
        let mut slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
        if slots.generation != generation {
            // Forgotten while this was computed, from a snapshot taken before.
            return view;
        }
        slots.views.retain(|(k, _, _)| k != key);
        if slots.views.len() >= KEPT {
            slots.views.remove(0);
        }
        slots.views.push((key.clone(), seq, view.clone()));
        view
    }

    /// The kept view of `key` if the reader's snapshot has its newest event, and the
    /// generation of the views now.
    fn lookup(&self, reader: &Reader<'_>, key: &K) -> Result<(Option<Arc<T>>, u64), StoreError> {
        let (found, generation) = {
            let slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
            let found = slots
                .views
                .iter()
                .find(|(k, _, _)| k == key)
                .map(|(_, seq, view)| (*seq, view.clone()));
            (found, slots.generation)
        };
        Ok(match found {
            Some((seq, view)) if newest_is(reader, seq)? => (Some(view), generation),
            _ => (None, generation),
        })
    }
}

/// True if `seq` is the newest event of the reader's snapshot: nothing after it, and
/// the event itself there (or `seq` 0, no event at all). A snapshot older than `seq`
/// fails the second half.
fn newest_is(reader: &Reader<'_>, seq: EventSeq) -> Result<bool, StoreError> {
    if !reader.events(seq, 1)?.is_empty() {
        return Ok(false);
    }
    Ok(match seq.checked_sub(1) {
        None => true,
        Some(before) => reader
            .events(before, 1)?
            .first()
            .is_some_and(|e| e.seq == seq),
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use std::sync::mpsc;

    use chrono::{TimeZone as _, Utc};
    use solocrm_app::{Books, Location, OpenOptions};
    use solocrm_core::{CustomerData, CustomerId, NewCustomer, PersonName, Store as _};

    use super::*;

    /// Books in memory, in CNY: what the web crate's unit tests start from.
    pub(crate) fn memory_books() -> Books {
        Books::create(
            &Location::Memory,
            solocrm_core::Currency::CNY,
            &OpenOptions::default(),
        )
        .expect("books")
    }

    /// Adds a customer named `name`, created 2026-01-01.
    pub(crate) fn add(books: &Books, name: &str) -> CustomerId {
        let at = Utc
            .with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
            .single()
            .expect("instant");
        books
            .create_customer(NewCustomer::new(
                CustomerData::new(PersonName::parse(name).expect("name")),
                at,
            ))
            .expect("customer")
            .id()
    }

    /// The number of customers the reader's snapshot holds: the view kept.
    fn count(kept: &Kept<(), usize>, r: &Reader<'_>) -> usize {
        *kept
            .get(r, &(), || r.count_customers().map(|n| n as usize))
            .expect("view")
    }

    #[test]
    fn a_view_from_a_newer_snapshot_is_not_served_to_an_older_one() {
        let dir = tempfile::tempdir().expect("dir");
        let books = Books::create(
            &Location::Path(dir.path().join("b.db")),
            solocrm_core::Currency::CNY,
            &OpenOptions::default(),
        )
        .expect("books");
        add(&books, "王芳");
        let kept: Arc<Kept<(), usize>> = Arc::new(Kept::new());
        let (opened_tx, opened_rx) = mpsc::channel::<()>();
        let (go_on_tx, go_on_rx) = mpsc::channel::<()>();
        let old = std::thread::scope(|s| {
            let (books, kept) = (&books, &kept);
            let reader = s.spawn(move || {
                books
                    .read(|r| {
                        // This snapshot holds one customer.
                        let _ = r.count_customers();
                        opened_tx.send(()).expect("send");
                        go_on_rx.recv().expect("recv");
                        Ok(count(kept, &r))
                    })
                    .expect("read")
            });
            opened_rx.recv().expect("opened");
            add(books, "李雷");
            // A newer snapshot computes and keeps its view: two customers.
            let newer = books.read(|r| Ok(count(kept, &r))).expect("read");
            assert_eq!(newer, 2);
            go_on_tx.send(()).expect("go on");
            reader.join().expect("reader")
        });
        assert_eq!(old, 1, "the older snapshot computes its own view");
        let again = books.read(|r| Ok(count(&kept, &r))).expect("read");
        assert_eq!(again, 2);
    }

    #[test]
    fn a_view_computed_across_a_forget_is_answered_but_not_kept() {
        let books = memory_books();
        add(&books, "王芳");
        let kept: Kept<(), usize> = Kept::new();
        let got = books
            .read(|r| {
                Ok(*kept
                    .get(&r, &(), || {
                        // An erasure's forgetting happens while this computes.
                        kept.forget();
                        Ok::<_, StoreError>(7)
                    })
                    .expect("view"))
            })
            .expect("read");
        assert_eq!(got, 7, "answered to its own request");
        // Not kept: the next request computes again.
        let next = books.read(|r| Ok(count(&kept, &r))).expect("read");
        assert_eq!(next, 1);
    }

    /// Requests that miss at once compute the view once: the others wait and take it
    /// (their snapshots have the same newest event).
    #[test]
    fn requests_that_miss_together_compute_once() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let books = memory_books();
        add(&books, "王芳");
        let kept: Kept<(), usize> = Kept::new();
        let computed = AtomicUsize::new(0);
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| {
                    books
                        .read(|r| {
                            let n = kept
                                .get(&r, &(), || {
                                    computed.fetch_add(1, Ordering::SeqCst);
                                    // Long enough for the others to miss meanwhile.
                                    std::thread::sleep(std::time::Duration::from_millis(200));
                                    r.count_customers().map(|n| n as usize)
                                })
                                .expect("view");
                            assert_eq!(*n, 1);
                            Ok(())
                        })
                        .expect("read");
                });
            }
        });
        assert_eq!(
            computed.load(Ordering::SeqCst),
            1,
            "one computation for four requests"
        );
    }
}
