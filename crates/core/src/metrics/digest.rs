//! The report's one pass over the purchase log: what its customer base, the trailing
//! year's base, RFM and LTV to CAC read of each customer's purchases, gathered at once.
//!
//! The log is in time order, so each row updates a customer at random: at a million
//! customers their state does not fit the processor's cache, and four separate passes
//! (one per metric) waited for a miss on nearly every row, four times over. One pass
//! that keeps the four metrics' fields of a customer side by side (32 bytes) waits once
//! a row. The metrics read from it give the same values as their own passes:
//! `base_flags` (`flags_of` over the same three instants), `rfm` (`rfm_of_aggregates`
//! over the same aggregates) and the spend per customer up to the end (exact `i128`
//! sums).

use super::period::Period;
use super::retention::{BaseCuts, BaseFlags, Seen, flags_of};
use super::rfm::Agg;
use crate::policy::LifecyclePolicy;
use crate::purchase::PurchaseLog;

/// What the report reads of one customer's purchases before the period's end: 32
/// bytes, two to a cache line.
#[derive(Clone, Copy)]
pub(super) struct Digest {
    /// The spend in minor units, wrapped if it left `i64` (then `overflowed`).
    sum: i64,
    /// The last purchase, Unix seconds; `i64::MIN` for none.
    last: i64,
    /// The first purchase, Unix seconds; `i64::MAX` for none.
    first: i64,
    /// The number of purchases.
    count: u32,
    /// The spend left `i64` on the way.
    overflowed: bool,
    /// In the base at the start of the period and of the trailing year
    /// ([`BaseCuts::at_start`]).
    at_start: [bool; 2],
}

impl Digest {
    /// RFM's aggregate of the same purchases.
    pub(super) fn agg(&self) -> Agg {
        Agg::of_parts(self.sum, self.last, self.count, self.overflowed)
    }
}

/// The digests of every customer of a log, in dense order.
pub(super) struct Digests {
    /// One per dense customer of the log.
    pub(super) rows: Vec<Digest>,
    /// The earliest purchase before the end, Unix seconds; `i64::MAX` for none.
    pub(super) earliest: i64,
    /// The first instant after the period, Unix seconds.
    end: i64,
    /// The base's cuts of the period and of the trailing year.
    cuts: [BaseCuts; 2],
}

/// Which start a base is measured from.
#[derive(Clone, Copy)]
pub(super) enum Start {
    /// The report's period.
    Period = 0,
    /// The trailing year ending with it.
    Year = 1,
}

impl Digests {
    /// One pass over `log` (checked and screened) for the purchases before the end of
    /// `period` and `year` (read in the log's zone; the year ends with the period),
    /// with the customer base's cuts of each under `policy`.
    pub(super) fn of(
        log: &PurchaseLog,
        period: Period,
        year: Period,
        policy: &LifecyclePolicy,
    ) -> Digests {
        debug_assert_eq!(period.end_secs(), year.end_secs());
        let end = period.end_secs();
        let cuts = [BaseCuts::of(period, policy), BaseCuts::of(year, policy)];
        let none = Digest {
            sum: 0,
            last: i64::MIN,
            first: i64::MAX,
            count: 0,
            overflowed: false,
            at_start: [false; 2],
        };
        let mut rows = vec![none; log.customers.len()];
        let mut earliest = i64::MAX;
        for ((&c, &at), &amount) in log.customer.iter().zip(&log.at).zip(&log.amount) {
            if at >= end {
                continue;
            }
            earliest = earliest.min(at);
            // Checked by `check_log`: every index is below the number of customers.
            let d = &mut rows[c as usize];
            let (sum, o) = d.sum.overflowing_add(amount);
            d.sum = sum;
            d.overflowed |= o;
            d.count += 1;
            d.last = d.last.max(at);
            d.first = d.first.min(at);
            d.at_start[0] |= cuts[0].at_start(at);
            d.at_start[1] |= cuts[1].at_start(at);
        }
        Digests {
            rows,
            earliest,
            end,
            cuts,
        }
    }

    /// The customer base of the period or the trailing year (`period`, the one `start`
    /// names), as `base_flags` measures it.
    pub(super) fn base(&self, period: Period, start: Start) -> BaseFlags {
        let i = start as usize;
        flags_of(
            self.rows.iter().map(|d| Seen {
                first: d.first,
                last: d.last,
                at_start: d.at_start[i],
            }),
            period,
            self.cuts[i],
        )
    }

    /// The spend of dense customer `i` before the end, in minor units: the digest's
    /// when it stayed within `i64`, else summed again from `log` as an `i128` (which
    /// cannot overflow for fewer than 2^64 rows).
    pub(super) fn spend(&self, log: &PurchaseLog, i: u32) -> i128 {
        let Some(d) = self.rows.get(i as usize) else {
            return 0;
        };
        if !d.overflowed {
            return i128::from(d.sum);
        }
        log.customer
            .iter()
            .zip(&log.at)
            .zip(&log.amount)
            .filter(|((c, at), _)| **c == i && **at < self.end)
            .map(|(_, &a)| i128::from(a))
            .sum()
    }
}
