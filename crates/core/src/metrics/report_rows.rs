//! The narrow rows a metrics report reads of purchases and interactions (ADR 0062):
//! only the facts a metric uses, so that a report over a million purchases does not
//! hold a million whole [`Purchase`] values.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::CustomerId;
use crate::interaction::Interaction;
use crate::money::{Currency, Money};
use crate::purchase::{Purchase, PurchaseLog};

/// The stored marker of "no recorded cost". No metric can measure a cost this large
/// (it is far beyond every currency's storage bound), so a cost of exactly this many
/// minor units is kept as the next one up, which no metric measures either.
const NO_COST: i64 = i64::MIN;

/// What a metrics report reads of one purchase that is not voided: its customer, its
/// time, its amount and its cost. 32 bytes, against about 150 for a whole [`Purchase`].
///
/// The amounts are in minor units of the [`ReportPurchases`]' currency, the time in
/// whole seconds: every metric compares a purchase's time with the first instant of a
/// day, a whole second, and `t < b` holds of an instant exactly when it holds of its
/// whole seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "ReportPurchaseRepr", into = "ReportPurchaseRepr")]
pub struct ReportPurchase {
    /// The buyer.
    pub customer: CustomerId,
    /// When, in whole seconds since the Unix epoch (UTC).
    pub at: i64,
    /// The amount, in minor units.
    pub amount: i64,
    /// The cost in minor units, or [`NO_COST`].
    cost: i64,
}

/// The serde form of [`ReportPurchase`]: the cost as an option.
#[derive(Serialize, Deserialize)]
struct ReportPurchaseRepr {
    customer: CustomerId,
    at: i64,
    amount: i64,
    cost: Option<i64>,
}

impl From<ReportPurchaseRepr> for ReportPurchase {
    fn from(r: ReportPurchaseRepr) -> Self {
        ReportPurchase::new(r.customer, r.at, r.amount, r.cost)
    }
}

impl From<ReportPurchase> for ReportPurchaseRepr {
    fn from(p: ReportPurchase) -> Self {
        ReportPurchaseRepr {
            customer: p.customer,
            at: p.at,
            amount: p.amount,
            cost: p.cost(),
        }
    }
}

impl ReportPurchase {
    /// A purchase of `customer` at `at` (whole seconds) for `amount` minor units, with
    /// its cost in minor units if recorded. A cost of `i64::MIN` minor units, beyond
    /// every storage bound, is kept as `i64::MIN + 1`, as far beyond it.
    pub fn new(customer: CustomerId, at: i64, amount: i64, cost: Option<i64>) -> Self {
        ReportPurchase {
            customer,
            at,
            amount,
            cost: cost.map_or(NO_COST, |c| c.max(NO_COST + 1)),
        }
    }

    /// What a report reads of `p`, in minor units of `currency`; `None` if its amount
    /// or its cost is in another currency or not a whole number of minor units (no
    /// metric can measure it: a report leaves it out).
    pub fn of(p: &Purchase, currency: Currency) -> Option<ReportPurchase> {
        let minor = |m: Money| {
            (m.currency() == currency)
                .then(|| m.to_minor_units().ok())
                .flatten()
        };
        let amount = minor(p.amount())?;
        let cost = match p.cost() {
            Some(c) => Some(minor(c)?),
            None => None,
        };
        Some(ReportPurchase::new(
            p.customer(),
            p.at().timestamp(),
            amount,
            cost,
        ))
    }

    /// The cost in minor units, if recorded.
    pub fn cost(&self) -> Option<i64> {
        (self.cost != NO_COST).then_some(self.cost)
    }
}

/// What a metrics report reads of purchases: the narrow rows of every purchase that is
/// not voided up to the period's end, in one currency
/// ([`ReadTx::report_purchases`](crate::port::ReadTx::report_purchases)).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ReportPurchases {
    /// The currency of every amount; `None` only in an empty, default value. Rows in
    /// another currency than the report's are measured by no metric.
    pub currency: Option<Currency>,
    /// The purchases, by ascending purchase id when read from a store.
    pub rows: Vec<ReportPurchase>,
}

impl ReportPurchases {
    /// No purchases, in `currency`.
    pub fn new(currency: Currency) -> Self {
        ReportPurchases {
            currency: Some(currency),
            rows: Vec::new(),
        }
    }

    /// The narrow rows of `purchases` in `currency`, in their order, voided ones and
    /// those no metric can measure left out (see [`ReportPurchase::of`]).
    pub fn from_purchases<'a>(
        currency: Currency,
        purchases: impl IntoIterator<Item = &'a Purchase>,
    ) -> Self {
        ReportPurchases {
            currency: Some(currency),
            rows: purchases
                .into_iter()
                .filter(|p| !p.is_void())
                .filter_map(|p| ReportPurchase::of(p, currency))
                .collect(),
        }
    }

    /// The number of purchases.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// True if there are none.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The purchases, in their order.
    pub fn iter(&self) -> std::slice::Iter<'_, ReportPurchase> {
        self.rows.iter()
    }
}

impl<'a> IntoIterator for &'a ReportPurchases {
    type Item = &'a ReportPurchase;
    type IntoIter = std::slice::Iter<'a, ReportPurchase>;

    fn into_iter(self) -> Self::IntoIter {
        self.rows.iter()
    }
}

/// The report rows of a purchase log's purchases kept beside the log instead of
/// copying their customers, times and amounts a second time (ADR 0076): which of the
/// log's purchases are rows, in the log's order, and the cost of each. 8 bytes and a
/// bit per purchase, against 32 for a [`ReportPurchase`]; a report of a million
/// purchases holds 24 MB less.
///
/// Made by [`LogCosts::of`] only from rows that it finds in the log, so that
/// [`LogCosts::rows`] gives back the same rows in the same order.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct LogCosts {
    /// One bit per purchase of the log, by its place: set if it is a row.
    member: Vec<u64>,
    /// The cost of each row in order, in minor units, or [`NO_COST`].
    cost: Vec<i64>,
    /// The log's purchases accounted for: those [`push_row`](Self::push_row) and
    /// [`push_other`](Self::push_other) were told of.
    #[serde(default)]
    places: usize,
}

impl LogCosts {
    /// `rows` as costs beside `log`, when each row is, in order, a purchase of the log
    /// with the same customer, time and amount (the rows of a store's one pass are the
    /// log's purchases before a bound) and the two share a currency; `None` otherwise,
    /// and then the rows are kept as they are. Of purchases alike in all three, the
    /// first one not yet matched is taken: the rows given back are the same either way.
    pub fn of(rows: &ReportPurchases, log: &PurchaseLog) -> Option<LogCosts> {
        if rows.currency.is_none() || rows.currency != log.currency {
            return None;
        }
        let mut member = vec![0u64; log.len().div_ceil(64)];
        let mut cost = Vec::with_capacity(rows.len());
        let mut next = rows.iter();
        let mut want = next.next();
        for (i, ((&c, &at), &amount)) in log
            .customer
            .iter()
            .zip(&log.at)
            .zip(&log.amount)
            .enumerate()
        {
            let Some(row) = want else { break };
            if row.at == at
                && row.amount == amount
                && log.customers.get(c as usize) == Some(&row.customer)
            {
                member[i / 64] |= 1 << (i % 64);
                cost.push(row.cost);
                want = next.next();
            }
        }
        want.is_none().then_some(LogCosts {
            member,
            cost,
            places: log.len(),
        })
    }

    /// Costs for a log being read, made as its purchases are read (a store's one
    /// pass, [`ReadTx::report_purchase_read`](crate::port::ReadTx::report_purchase_read)):
    /// room for `places` purchases of which `rows` are rows. The reader tells of each
    /// purchase it adds to the log, in order, with [`push_row`](Self::push_row) or
    /// [`push_other`](Self::push_other).
    pub fn with_capacity(places: usize, rows: usize) -> LogCosts {
        LogCosts {
            member: Vec::with_capacity(places.div_ceil(64)),
            cost: Vec::with_capacity(rows),
            places: 0,
        }
    }

    /// The log's next purchase is a row, with `cost` in minor units (`None`: no
    /// recorded cost).
    pub fn push_row(&mut self, cost: Option<i64>) {
        self.push_place(true);
        self.cost.push(cost.unwrap_or(NO_COST));
    }

    /// The log's next purchase is not a row (dated at or after the rows' bound).
    pub fn push_other(&mut self) {
        self.push_place(false);
    }

    fn push_place(&mut self, row: bool) {
        let (word, bit) = (self.places / 64, self.places % 64);
        if word == self.member.len() {
            self.member.push(0);
        }
        if row {
            self.member[word] |= 1 << bit;
        }
        self.places += 1;
    }

    /// Gives back room reserved beyond what was pushed.
    pub fn shrink_to_fit(&mut self) {
        self.member.shrink_to_fit();
        self.cost.shrink_to_fit();
    }

    /// The number of rows.
    pub fn len(&self) -> usize {
        self.cost.len()
    }

    /// True if there are none.
    pub fn is_empty(&self) -> bool {
        self.cost.is_empty()
    }

    /// The rows, in order, from `log`: the one these costs were made beside
    /// ([`ReportData::purchase_rows`](crate::metrics::ReportData::purchase_rows)).
    pub fn rows<'a>(&'a self, log: &'a PurchaseLog) -> impl Iterator<Item = ReportPurchase> + 'a {
        let places = self.member.iter().enumerate().flat_map(|(w, &bits)| {
            let mut bits = bits;
            std::iter::from_fn(move || {
                (bits != 0).then(|| {
                    let b = bits.trailing_zeros() as usize;
                    bits &= bits - 1;
                    w * 64 + b
                })
            })
        });
        // Ids numbered without a gap (a book that erased no row) are `first + index`:
        // a million customers' ids do not fit the core's cache, and each row read its
        // id at random. Checked once, in one pass over the ids.
        let ids = &log.customers;
        let first = ids.first().map(|f| f.get());
        let gapless = ids
            .windows(2)
            .all(|w| w[0].get().checked_add(1) == Some(w[1].get()));
        let id_of = move |c: u32| match first {
            Some(f) if gapless => {
                ((c as usize) < ids.len()).then(|| CustomerId::new(f + u64::from(c)))
            }
            _ => ids.get(c as usize).copied(),
        };
        // A place not in `log` (costs paired with another log than their own) is
        // skipped rather than a panic.
        places.zip(&self.cost).filter_map(move |(i, &cost)| {
            Some(ReportPurchase {
                customer: id_of(*log.customer.get(i)?)?,
                at: *log.at.get(i)?,
                amount: *log.amount.get(i)?,
                cost,
            })
        })
    }
}

/// What a metrics report reads of one interaction that is not voided: who and when
/// ([`ReadTx::report_interactions`](crate::port::ReadTx::report_interactions)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ReportInteraction {
    /// The customer.
    pub customer: CustomerId,
    /// When.
    pub at: DateTime<Utc>,
}

impl ReportInteraction {
    /// What a report reads of `i`.
    pub fn of(i: &Interaction) -> ReportInteraction {
        ReportInteraction {
            customer: i.customer(),
            at: i.at(),
        }
    }
}
