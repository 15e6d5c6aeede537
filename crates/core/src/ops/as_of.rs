//! Reads of the books as they stood at an instant: a [`Reader`] over
//! [`AsOf`].
//!
//! Every read operation and view of a [`Reader`] (reports, the care list, segments,
//! stage counts, the purchase log for RFM and cohorts) works unchanged over the
//! rewound transaction; see [`super::history`] for what is rewound and what cannot be.

use chrono::{DateTime, Utc};

use super::history::AsOf;
use super::{Crm, Reader};
use crate::store::StoreResult;

impl Crm {
    /// Runs `f` over one consistent snapshot of the books as they stood strictly
    /// before `cutoff` (see [`super::history`]). To see the end of a day D, pass the
    /// first instant of the next day in the business's time zone.
    ///
    /// # Errors
    ///
    /// What `f` returns, or the backend's error opening the snapshot.
    pub fn read_as_of<T>(
        &self,
        cutoff: DateTime<Utc>,
        f: impl FnOnce(Reader<'_>) -> StoreResult<T>,
    ) -> StoreResult<T> {
        self.read(|r| r.as_of(cutoff, f))
    }
}

impl Reader<'_> {
    /// Runs `f` with a reader over the same snapshot as it stood strictly before
    /// `cutoff` (see [`super::history`]), and returns what `f` returns.
    ///
    /// ```
    /// # use chrono::{TimeZone, Utc};
    /// # use solocrm_core::{Crm, StoreResult};
    /// # fn stages(crm: &Crm) -> StoreResult<()> {
    /// let cutoff = Utc.with_ymd_and_hms(2025, 3, 2, 0, 0, 0).unwrap();
    /// // Everyone as they stood at the end of 2025-03-01 (UTC).
    /// let customers = crm.read(|r| r.as_of(cutoff, |then| then.all_customers()))?;
    /// # Ok(()) }
    /// ```
    pub fn as_of<T>(&self, cutoff: DateTime<Utc>, f: impl FnOnce(Reader<'_>) -> T) -> T {
        let view = AsOf::new(self.tx, cutoff);
        f(Reader::new(&view))
    }
}
