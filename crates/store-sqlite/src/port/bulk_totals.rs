//! The kept purchase totals of a bulk write, gathered as it appends.
//!
//! A bulk write drops the triggers that keep `purchase_totals` (ADR 0046) and, before
//! its commit, used to refill the whole table from the rebuilt customer index
//! ([`FILL_PURCHASE_TOTALS`](crate::schema::FILL_PURCHASE_TOTALS)): a grouped pass
//! over every purchase stored and two seeks per customer, about a tenth of a
//! million-row import. Before the drop the table was exact (the triggers kept it);
//! if all the write then does to purchases is insert new ones, the totals after it
//! are the totals before it merged with those of the inserted purchases. This
//! module gathers those as the rows are inserted and merges them in one upsert per
//! customer; any other write to purchases in the meantime (an update, a void of a
//! stored purchase, a rollback to a savepoint) makes the gathering useless, and the
//! write refills the table as before.

use std::collections::HashMap;

use rusqlite::Connection;
use solocrm_core::Purchase;

use crate::codec::{key, minor, ts};
use crate::error::Res;

/// Adds totals to the kept row of a customer, as the insert trigger does for one
/// purchase: counts and amounts summed, the earliest and the latest instants kept.
const MERGE_TOTALS: &str = "INSERT INTO purchase_totals \
     (customer_id, purchases, amount, first_at, first_at_ns, last_at, last_at_ns) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) \
     ON CONFLICT (customer_id) DO UPDATE SET \
     purchases = purchases + excluded.purchases, \
     amount = amount + excluded.amount, \
     first_at = CASE WHEN (excluded.first_at, excluded.first_at_ns) < (first_at, first_at_ns) \
         THEN excluded.first_at ELSE first_at END, \
     first_at_ns = CASE WHEN (excluded.first_at, excluded.first_at_ns) < (first_at, first_at_ns) \
         THEN excluded.first_at_ns ELSE first_at_ns END, \
     last_at = CASE WHEN (excluded.last_at, excluded.last_at_ns) > (last_at, last_at_ns) \
         THEN excluded.last_at ELSE last_at END, \
     last_at_ns = CASE WHEN (excluded.last_at, excluded.last_at_ns) > (last_at, last_at_ns) \
         THEN excluded.last_at_ns ELSE last_at_ns END";

/// One customer's totals of the purchases gathered: how many (0: none), their sum in
/// minor units, and the earliest and latest `(at, at_ns)`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Totals {
    purchases: u64,
    amount: i64,
    first: (i64, i64),
    last: (i64, i64),
}

impl Totals {
    /// Adds one purchase; `None` if the count or the sum would overflow.
    fn add(self, amount: i64, at: (i64, i64)) -> Option<Totals> {
        if self.purchases == 0 {
            return Some(Totals {
                purchases: 1,
                amount,
                first: at,
                last: at,
            });
        }
        Some(Totals {
            purchases: self.purchases.checked_add(1)?,
            amount: self.amount.checked_add(amount)?,
            first: self.first.min(at),
            last: self.last.max(at),
        })
    }
}

/// The totals of the purchases a bulk write inserted, by customer: a slot per id
/// for the ids a book assigns (dense from 1), a map beyond
/// [`DENSE`](Self::DENSE).
///
/// Purchases are added to a short list first and folded into the slots a few
/// thousand at a time: one row's slot is a random place in a table of megabytes
/// (a cache miss per row, a tenth of the insert's own time at 100 k customers, when
/// folded one at a time between the inserts), while a loop over many rows waits for
/// many slots at once.
#[derive(Debug, Default)]
pub(crate) struct AppendedTotals {
    dense: Vec<Totals>,
    beyond: HashMap<u64, Totals>,
    /// Added, not yet folded: customer, amount in minor units, `(at, at_ns)`.
    pending: Vec<(u64, i64, (i64, i64))>,
    /// A sum overflowed: the refill reports it as before.
    overflowed: bool,
}

impl AppendedTotals {
    /// Ids below this have a slot (40 bytes each, at most 160 MiB for a book of four
    /// million customers, one slot per customer it holds).
    const DENSE: u64 = 1 << 22;

    /// Purchases added before they are folded.
    const PENDING: usize = 4096;

    /// Adds `p`, which was just inserted, unless it is voided (a voided purchase
    /// counts in no total).
    pub(crate) fn add(&mut self, p: &Purchase) -> Res<()> {
        if p.is_void() || self.overflowed {
            return Ok(());
        }
        self.pending
            .push((p.customer().get(), minor(p.amount())?, ts(p.at())));
        if self.pending.len() >= Self::PENDING {
            self.fold();
        }
        Ok(())
    }

    /// Folds the pending purchases into the slots.
    fn fold(&mut self) {
        let top = self
            .pending
            .iter()
            .map(|&(id, _, _)| id)
            .filter(|&id| id < Self::DENSE)
            .max();
        if let Some(top) = top {
            let len = usize::try_from(top).unwrap_or(usize::MAX).saturating_add(1);
            if self.dense.len() < len {
                self.dense.resize(len, Totals::default());
            }
        }
        for (id, amount, at) in self.pending.drain(..) {
            let slot = match usize::try_from(id) {
                Ok(i) if id < Self::DENSE => &mut self.dense[i],
                _ => self.beyond.entry(id).or_default(),
            };
            match slot.add(amount, at) {
                Some(t) => *slot = t,
                None => self.overflowed = true,
            }
        }
    }

    /// Merges the totals gathered into `purchase_totals`, by ascending customer id,
    /// and says whether it did: false (nothing written) if a sum overflowed, which
    /// the caller's refill then reports.
    pub(crate) fn merge_into(&mut self, conn: &Connection) -> Res<bool> {
        self.fold();
        if self.overflowed {
            return Ok(false);
        }
        let mut beyond: Vec<(u64, Totals)> = self.beyond.iter().map(|(&k, &v)| (k, v)).collect();
        beyond.sort_unstable_by_key(|&(k, _)| k);
        let dense = (0u64..).zip(self.dense.iter().copied());
        let mut stmt = conn.prepare(MERGE_TOTALS)?;
        for (id, t) in dense.chain(beyond) {
            if t.purchases == 0 {
                continue;
            }
            stmt.execute(rusqlite::params![
                key(id),
                i64::try_from(t.purchases).unwrap_or(i64::MAX),
                t.amount,
                t.first.0,
                t.first.1,
                t.last.0,
                t.last.1,
            ])?;
        }
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn totals_keep_the_count_the_sum_and_both_ends_in_row_value_order() {
        let t = Totals::default()
            .add(500, (100, 7))
            .and_then(|t| t.add(250, (100, 3)))
            .and_then(|t| t.add(1, (99, 999)))
            .and_then(|t| t.add(9, (100, 8)));
        assert_eq!(
            t,
            Some(Totals {
                purchases: 4,
                amount: 760,
                first: (99, 999),
                last: (100, 8),
            })
        );
        let full = Totals {
            purchases: 1,
            amount: i64::MAX,
            first: (0, 0),
            last: (0, 0),
        };
        assert_eq!(full.add(1, (1, 0)), None, "an overflow is reported");
    }
}
