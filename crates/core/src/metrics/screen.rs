//! Screening: the records no metric can measure are set aside and counted, so that one
//! bad record never breaks a report for good.
//!
//! A purchase is an *outlier* when its date lies outside the plausible calendar
//! ([`EARLIEST_DATE`](crate::time::EARLIEST_DATE) to
//! [`LATEST_DATE`](crate::time::LATEST_DATE)) or its amount is not below the storage
//! bound ([`MAX_STORED_MAJOR`](crate::money::MAX_STORED_MAJOR) major units in absolute
//! value). The stores refuse such amounts today, and the command line refuses such dates,
//! but a library user, an older file or another tool may have written them. Every
//! columnar metric screens its log first; the result carries the [`Outliers`] it skipped.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use crate::purchase::PurchaseLog;
use crate::time::{AFTER_LATEST_SECS, EARLIEST_SECS};

/// The records a metric skipped because it cannot measure them: purchases dated outside
/// the plausible calendar ([`EARLIEST_DATE`](crate::time::EARLIEST_DATE) to
/// [`LATEST_DATE`](crate::time::LATEST_DATE)) or with an amount not below the storage
/// bound. All zero for clean data.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(default)]
pub struct Outliers {
    /// Records dated before 1900-01-01.
    pub dated_before_earliest: u64,
    /// Records dated after 2199-12-31.
    pub dated_after_latest: u64,
    /// Records whose amount is 10^12 major units or more in absolute value.
    pub amount_too_large: u64,
    /// Customers whose total does not fit the metric's exact number type (in RFM, a
    /// spend of 2^63 minor units or more); they are left out of the metric.
    pub customers_too_large: u64,
}

impl Outliers {
    /// The number of records and customers skipped.
    pub fn total(&self) -> u64 {
        self.dated_before_earliest
            .saturating_add(self.dated_after_latest)
            .saturating_add(self.amount_too_large)
            .saturating_add(self.customers_too_large)
    }

    /// True if nothing was skipped.
    pub fn is_empty(&self) -> bool {
        self.total() == 0
    }

    /// Adds another count to this one.
    pub fn add(&mut self, other: &Outliers) {
        self.dated_before_earliest = self
            .dated_before_earliest
            .saturating_add(other.dated_before_earliest);
        self.dated_after_latest = self
            .dated_after_latest
            .saturating_add(other.dated_after_latest);
        self.amount_too_large = self.amount_too_large.saturating_add(other.amount_too_large);
        self.customers_too_large = self
            .customers_too_large
            .saturating_add(other.customers_too_large);
    }

    /// Counts one record at Unix second `at` with `minor` units of an amount bounded by
    /// `max_minor` (exclusive); true if it is an outlier.
    pub(crate) fn count(&mut self, at: i64, minor: i64, max_minor: u64) -> bool {
        if at < EARLIEST_SECS {
            self.dated_before_earliest += 1;
        } else if at >= AFTER_LATEST_SECS {
            self.dated_after_latest += 1;
        } else if minor.unsigned_abs() >= max_minor {
            self.amount_too_large += 1;
        } else {
            return false;
        }
        true
    }
}

/// The bound of the log's amounts in minor units (2 digits when it has no currency).
fn max_minor(log: &PurchaseLog) -> u64 {
    log.currency
        .map_or(crate::money::MAX_STORED_MAJOR as u64 * 100, |c| {
            c.max_stored_minor().unsigned_abs()
        })
}

/// The log without its outliers, and their count. Borrows the log when it is clean
/// (the common case costs one pass and no copy). Rows whose columns are missing (a
/// ragged log) are left to the metric's own check.
///
/// Outliers are purchases dated outside the plausible calendar ([`crate::time`]) or with
/// amounts beyond the storage bound; every metric and model leaves them out the same way.
pub fn screen(log: &PurchaseLog) -> (Cow<'_, PurchaseLog>, Outliers) {
    let max = max_minor(log);
    let mut outliers = Outliers::default();
    for (&at, &amount) in log.at.iter().zip(&log.amount) {
        outliers.count(at, amount, max);
    }
    if outliers.is_empty() {
        return (Cow::Borrowed(log), outliers);
    }
    let mut clean = PurchaseLog {
        zone: log.zone,
        currency: log.currency,
        customers: log.customers.clone(),
        ..PurchaseLog::default()
    };
    let mut ignore = Outliers::default();
    for ((&c, &at), &amount) in log.customer.iter().zip(&log.at).zip(&log.amount) {
        if !ignore.count(at, amount, max) {
            clean.push(c, at, amount);
        }
    }
    (Cow::Owned(clean), outliers)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Currency, CustomerId};

    #[test]
    fn a_clean_log_is_borrowed_and_outliers_are_counted_by_kind() {
        let mut log = PurchaseLog::with_customers(Currency::EUR, vec![CustomerId::new(1)]);
        log.push(0, 1_700_000_000, 1_000);
        let (same, none) = screen(&log);
        assert!(matches!(same, Cow::Borrowed(_)));
        assert!(none.is_empty());
        log.push(0, EARLIEST_SECS - 1, 5);
        log.push(0, AFTER_LATEST_SECS, 5);
        log.push(0, 1_700_000_000, Currency::EUR.max_stored_minor());
        log.push(0, 1_700_000_000, -Currency::EUR.max_stored_minor());
        log.push(0, EARLIEST_SECS, Currency::EUR.max_stored_minor() - 1);
        let (clean, o) = screen(&log);
        assert_eq!(clean.len(), 2);
        assert_eq!(
            (
                o.dated_before_earliest,
                o.dated_after_latest,
                o.amount_too_large
            ),
            (1, 1, 2)
        );
        assert_eq!(o.total(), 4);
    }
}
