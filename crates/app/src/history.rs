//! Reading the books as they stood at the end of a past day, for every `--as-of` view.
//!
//! A view computed as of a business-local day D that is over equals the same view of a
//! copy of the books holding only what was true at the end of D: customers created
//! later are absent, stages come from their history, and later purchases, answers,
//! requests, deals and tasks are not seen ([`solocrm_core::ops::history`] lists what
//! can and cannot be rewound). A view of today, or of a day still to come, reads the
//! books as they are, without the cost of rewinding.

use chrono::{DateTime, NaiveDate, Utc};
use solocrm_core::{Crm, Reader, StoreResult};

/// Runs `f` in one snapshot of the books as they stood at the end of the
/// business-local day `day` when that end is not after `now`; otherwise on the books
/// as they are.
///
/// # Errors
///
/// The backend's, and `f`'s.
pub fn read_as_of_day<T>(
    crm: &Crm,
    day: NaiveDate,
    now: DateTime<Utc>,
    f: impl FnOnce(Reader<'_>) -> StoreResult<T>,
) -> StoreResult<T> {
    crm.read(|r| on_day(r, day, now, f))
}

/// Runs `f` on `r` rewound to the end of `day` when that end is not after `now`, else
/// on `r` as it is: the one choice every reader of a day makes.
fn on_day<T>(
    r: Reader<'_>,
    day: NaiveDate,
    now: DateTime<Utc>,
    f: impl FnOnce(Reader<'_>) -> StoreResult<T>,
) -> StoreResult<T> {
    let cutoff = r.time_zone()?.end_of(day);
    if cutoff <= now {
        r.as_of(cutoff, f)
    } else {
        f(r)
    }
}

/// [`read_as_of_day`] on two threads: `here` on this one and `there` on a second,
/// both over one snapshot of the books as they stood at the end of `day` (or as they
/// are), through [`Crm::read_beside`] (one after the other on a backend that cannot).
///
/// # Errors
///
/// The backend's, and either closure's (`here`'s first).
pub fn read_as_of_day_beside<A, B: Send>(
    crm: &Crm,
    day: NaiveDate,
    now: DateTime<Utc>,
    here: impl FnOnce(Reader<'_>) -> StoreResult<A>,
    there: impl FnOnce(Reader<'_>) -> StoreResult<B> + Send,
) -> StoreResult<(A, B)> {
    crm.read_beside(
        |r| on_day(r, day, now, here),
        |r| on_day(r, day, now, there),
    )
}
