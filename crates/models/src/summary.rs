//! The customer summary (frequency, recency, T, monetary) and the weighted, collapsed data
//! the fitters work on.
//!
//! # The summary convention
//!
//! It is the convention of Fader, Hardie & Lee (2005) and of `lifetimes`'
//! `summary_data_from_transaction_data`, on the business-local calendar days of the
//! log's time zone ([`PurchaseLog::zone`], UTC for a log built by hand), like every
//! day-based figure of solocrm:
//!
//! - A purchase's **day** is its business-local calendar date (07:00 on 1 January in
//!   Beijing is 1 January, though it is 23:00 UTC on 31 December). Purchases on the
//!   same day merge into one *purchase day*.
//! - Only purchases on or before the **calibration end date** count (the end date is
//!   inclusive). Purchases after it are *held out*: they never change frequency, recency,
//!   T or monetary; with [`SummaryOptions::holdout_end`] they are counted separately in
//!   [`CustomerSummary::holdout_frequency`].
//! - **frequency** x = number of purchase days − 1 (repeat purchase days; the first is
//!   excluded).
//! - **recency** tₓ = last purchase day − first purchase day (0 when x = 0).
//! - **T** = calibration end date − first purchase day (a first purchase on the end date
//!   gives T = 0).
//! - **monetary** = the mean over repeat days of each day's total, the first day
//!   excluded: (total of the calibration purchases − total of the first day) / x, and 0
//!   when x = 0. Totals are summed exactly in minor units (`i128`); the division and the
//!   conversion to major units (÷ 10^digits of the currency, 2 digits when the log has
//!   no currency) are the only places where floating point enters. Amounts of 0 (free
//!   orders) are purchases and count.
//! - **Unit**: recency and T are measured in whole days between dates; in weeks they are
//!   days / 7 (fractional). See [`TimeUnit`].
//!
//! Customers with no purchase on or before the calibration end are not in the summary
//! (they have not been acquired yet). Rows come in ascending customer id order.
//!
//! Purchases dated outside the plausible calendar (1900-01-01 to 2199-12-31) or with an
//! amount beyond the storage bound are skipped and counted in
//! [`CustomerSummary::outliers`]; the calibration and hold-out end dates must lie in that
//! calendar too, so T is at most 300 years and every fit stays bounded.

use std::cmp::Ordering;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::{ModelError, TimeUnit};
use solocrm_core::ids::CustomerId;
use solocrm_core::metrics::Outliers;
use solocrm_core::money::Currency;
use solocrm_core::purchase::{Purchase, PurchaseLog};

/// How to summarise a purchase log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SummaryOptions {
    /// The last day of the calibration period (inclusive, a business-local date of the
    /// log's zone).
    pub calibration_end: NaiveDate,
    /// The unit of recency and T.
    pub unit: TimeUnit,
    /// If given, purchase days after the calibration end up to and including this date
    /// are counted in [`CustomerSummary::holdout_frequency`] (for validating predictions).
    pub holdout_end: Option<NaiveDate>,
}

impl SummaryOptions {
    /// Options with the given calibration end and unit, no hold-out count.
    pub fn new(calibration_end: NaiveDate, unit: TimeUnit) -> Self {
        SummaryOptions {
            calibration_end,
            unit,
            holdout_end: None,
        }
    }
}

/// Days since the Unix epoch of a date.
fn epoch_day(d: NaiveDate) -> i64 {
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or(NaiveDate::MIN);
    (d - epoch).num_days()
}

/// Frequency, recency, T and monetary value of every customer with a calibration
/// purchase, as columns (row `i` of every column is one customer). See the module docs
/// for the convention.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomerSummary {
    /// The unit of recency and T.
    pub unit: TimeUnit,
    /// The calibration end date.
    pub calibration_end: NaiveDate,
    /// The currency of the amounts, if the log had one.
    pub currency: Option<Currency>,
    /// The customer of each row, ascending.
    pub customers: Vec<CustomerId>,
    /// Repeat purchase days x.
    pub frequency: Vec<u32>,
    /// Days from the first to the last purchase day.
    pub recency_days: Vec<u32>,
    /// Days from the first purchase day to the calibration end date.
    pub t_days: Vec<u32>,
    /// Total of the repeat days' purchases, in minor units (exact).
    pub repeat_total_minor: Vec<i128>,
    /// Total of the first purchase day's purchases, in minor units (exact). Empty in a
    /// summary serialised before this column existed; [`CustomerSummary::total_spend`]
    /// then counts the repeat days only.
    #[serde(default)]
    pub first_total_minor: Vec<i128>,
    /// Purchase days in the hold-out period (empty unless a hold-out end was given).
    pub holdout_frequency: Vec<u32>,
    /// Purchases skipped because they are dated outside the plausible calendar or
    /// exceed the amount bound.
    #[serde(default)]
    pub outliers: Outliers,
}

impl CustomerSummary {
    /// Summarises a columnar purchase log, counting the days of its zone
    /// ([`PurchaseLog::zone`]).
    ///
    /// Runs in O(n) plus a sort of each customer's own purchase days. Rows are selected
    /// by comparing UTC seconds with the first instant after the calibration (or
    /// hold-out) end day; only the selected rows are converted to local days, through
    /// [`LocalDays`](solocrm_core::LocalDays), which costs nothing in UTC and two
    /// comparisons per row on a log in time order.
    ///
    /// # Errors
    ///
    /// [`ModelError::InvalidInput`] if the log's columns differ in length or a row points
    /// at a customer index outside `log.customers`; [`ModelError::InvalidOption`] if the
    /// hold-out end is before the calibration end, or either lies outside the plausible
    /// calendar ([`EARLIEST_DATE`](solocrm_core::time::EARLIEST_DATE) to
    /// [`LATEST_DATE`](solocrm_core::time::LATEST_DATE)).
    pub fn from_log(log: &PurchaseLog, opts: &SummaryOptions) -> Result<Self, ModelError> {
        let n = log.customer.len();
        if log.at.len() != n || log.amount.len() != n {
            return Err(ModelError::InvalidInput {
                reason: "the purchase log's columns differ in length".into(),
            });
        }
        let in_calendar = |d: NaiveDate| solocrm_core::time::check_date("", d).is_ok();
        if !in_calendar(opts.calibration_end) {
            return Err(ModelError::InvalidOption {
                name: "calibration_end",
                reason: "must be from 1900-01-01 to 2199-12-31",
            });
        }
        if opts.holdout_end.is_some_and(|h| !in_calendar(h)) {
            return Err(ModelError::InvalidOption {
                name: "holdout_end",
                reason: "must be from 1900-01-01 to 2199-12-31",
            });
        }
        let (log, outliers) = solocrm_core::metrics::screen::screen(log);
        let log = log.as_ref();
        let end = epoch_day(opts.calibration_end);
        let hold_end = match opts.holdout_end {
            Some(h) if h < opts.calibration_end => {
                return Err(ModelError::InvalidOption {
                    name: "holdout_end",
                    reason: "must not be before the calibration end",
                });
            }
            Some(h) => Some(epoch_day(h)),
            None => None,
        };
        // The first instants after the calibration and hold-out end days, in the log's
        // zone: a row is relevant when it is before one of them.
        let local = log.zone.days();
        let end_secs = local.start_of_day(end + 1);
        let hold_secs = hold_end.map(|h| local.start_of_day(h + 1));
        let relevant = |at: i64| at < end_secs || hold_secs.is_some_and(|h| at < h);
        let nc = log.customers.len();
        // Counting sort of the relevant rows by customer.
        let mut start = vec![0_u32; nc + 1];
        for (k, &c) in log.customer.iter().enumerate() {
            let c = c as usize;
            if c >= nc {
                return Err(ModelError::InvalidInput {
                    reason: format!(
                        "purchase row {k} points at customer index {c}, beyond the log's {nc} customers"
                    ),
                });
            }
            if relevant(log.at[k]) {
                start[c + 1] += 1;
            }
        }
        for i in 0..nc {
            start[i + 1] += start[i];
        }
        let total = start[nc] as usize;
        let mut fill: Vec<u32> = start[..nc].to_vec();
        let mut days = vec![0_i64; total];
        let mut amounts = vec![0_i64; total];
        for (k, &c) in log.customer.iter().enumerate() {
            let at = log.at[k];
            if relevant(at) {
                let slot = &mut fill[c as usize];
                days[*slot as usize] = local.day(at);
                amounts[*slot as usize] = log.amount[k];
                *slot += 1;
            }
        }
        let digits = log.currency.map_or(2, |c| c.minor_unit_digits());
        let mut out = CustomerSummary::empty(opts, log.currency, digits, hold_end.is_some());
        let mut pairs: Vec<(i64, i64)> = Vec::new();
        for c in 0..nc {
            let (lo, hi) = (start[c] as usize, start[c + 1] as usize);
            if lo == hi {
                continue;
            }
            let slice_days = &days[lo..hi];
            let slice_amounts = &amounts[lo..hi];
            pairs.clear();
            pairs.extend(
                slice_days
                    .iter()
                    .copied()
                    .zip(slice_amounts.iter().copied()),
            );
            out.push_customer(log.customers[c], &mut pairs, end, hold_end);
        }
        out.outliers = outliers;
        Ok(out)
    }

    /// Summarises a slice of purchases (in any order). The currency is that of the first
    /// purchase. The days are UTC days: for the books' days, summarise the store's
    /// purchase log with [`CustomerSummary::from_log`] (it carries the books' zone).
    ///
    /// # Errors
    ///
    /// [`ModelError::InvalidInput`] if the purchases are in more than one currency or an
    /// amount is not a whole number of minor units; as [`CustomerSummary::from_log`].
    pub fn from_purchases(
        purchases: &[Purchase],
        opts: &SummaryOptions,
    ) -> Result<Self, ModelError> {
        let currency = purchases.first().map(|p| p.amount().currency());
        let mut ids: Vec<CustomerId> = purchases.iter().map(Purchase::customer).collect();
        ids.sort_unstable();
        ids.dedup();
        let mut log = PurchaseLog {
            currency,
            customers: ids,
            ..PurchaseLog::default()
        };
        for p in purchases {
            let amount = p.amount();
            if Some(amount.currency()) != currency {
                return Err(ModelError::InvalidInput {
                    reason: format!(
                        "purchase {} is in {}, not {}",
                        p.id(),
                        amount.currency(),
                        currency.map_or("?".into(), |c| c.to_string())
                    ),
                });
            }
            let minor = amount
                .to_minor_units()
                .map_err(|e| ModelError::InvalidInput {
                    reason: format!("purchase {}: {e}", p.id()),
                })?;
            let idx = log
                .index_of(p.customer())
                .ok_or_else(|| ModelError::InvalidInput {
                    reason: "customer index".into(),
                })?;
            log.push(idx, p.at().timestamp(), minor);
        }
        CustomerSummary::from_log(&log, opts)
    }

    fn empty(
        opts: &SummaryOptions,
        currency: Option<Currency>,
        _digits: u32,
        holdout: bool,
    ) -> Self {
        let _ = holdout;
        CustomerSummary {
            unit: opts.unit,
            calibration_end: opts.calibration_end,
            currency,
            customers: Vec::new(),
            frequency: Vec::new(),
            recency_days: Vec::new(),
            t_days: Vec::new(),
            repeat_total_minor: Vec::new(),
            first_total_minor: Vec::new(),
            holdout_frequency: Vec::new(),
            outliers: Outliers::default(),
        }
    }

    /// Adds one customer from their (day, amount) pairs; `pairs` is reordered.
    fn push_customer(
        &mut self,
        id: CustomerId,
        pairs: &mut [(i64, i64)],
        end: i64,
        hold_end: Option<i64>,
    ) {
        if !pairs.windows(2).all(|w| w[0].0 <= w[1].0) {
            pairs.sort_unstable_by_key(|p| p.0);
        }
        let first = pairs[0].0;
        if first > end {
            // Acquired only in the hold-out period.
            return;
        }
        let mut x = 0_u32;
        let mut last = first;
        let mut total: i128 = 0;
        let mut first_day_total: i128 = 0;
        let mut holdout = 0_u32;
        let mut prev_hold = i64::MIN;
        for &(d, a) in pairs.iter() {
            if d <= end {
                total += i128::from(a);
                if d == first {
                    first_day_total += i128::from(a);
                } else if d != last {
                    x += 1;
                    last = d;
                }
            } else if hold_end.is_some() && d != prev_hold {
                holdout += 1;
                prev_hold = d;
            }
        }
        self.customers.push(id);
        self.frequency.push(x);
        self.recency_days
            .push(u32::try_from(last - first).unwrap_or(u32::MAX));
        self.t_days
            .push(u32::try_from(end - first).unwrap_or(u32::MAX));
        self.repeat_total_minor.push(total - first_day_total);
        self.first_total_minor.push(first_day_total);
        if hold_end.is_some() {
            self.holdout_frequency.push(holdout);
        }
    }

    /// The number of customers (rows).
    pub fn len(&self) -> usize {
        self.customers.len()
    }

    /// True if no customer had a calibration purchase.
    pub fn is_empty(&self) -> bool {
        self.customers.is_empty()
    }

    /// Recency of row `i` in the summary's unit.
    pub fn recency(&self, i: usize) -> f64 {
        self.unit.from_days(f64::from(self.recency_days[i]))
    }

    /// T of row `i` in the summary's unit.
    pub fn t(&self, i: usize) -> f64 {
        self.unit.from_days(f64::from(self.t_days[i]))
    }

    /// Monetary value of row `i` in major units of the currency (0 when x = 0).
    pub fn monetary(&self, i: usize) -> f64 {
        let x = self.frequency[i];
        if x == 0 {
            return 0.0;
        }
        let digits = self.currency.map_or(2, |c| c.minor_unit_digits());
        // i128 → f64 rounds to the nearest double: exact below 2⁵³ minor units.
        (self.repeat_total_minor[i] as f64) / f64::from(x) / 10_f64.powi(digits as i32)
    }

    /// Total calibration spend of row `i` (every purchase day, the first included) in
    /// major units of the currency. This is the customer's own history that the
    /// small-book guard ([`crate::guard`]) measures a CLV against.
    pub fn total_spend(&self, i: usize) -> f64 {
        let digits = self.currency.map_or(2, |c| c.minor_unit_digits());
        let first = self.first_total_minor.get(i).copied().unwrap_or(0);
        // i128 → f64 rounds to the nearest double: exact below 2⁵³ minor units.
        ((self.repeat_total_minor[i] + first) as f64) / 10_f64.powi(digits as i32)
    }

    /// Recency of every row in the summary's unit.
    pub fn recency_column(&self) -> Vec<f64> {
        (0..self.len()).map(|i| self.recency(i)).collect()
    }

    /// T of every row in the summary's unit.
    pub fn t_column(&self) -> Vec<f64> {
        (0..self.len()).map(|i| self.t(i)).collect()
    }

    /// Monetary value of every row (major units).
    pub fn monetary_column(&self) -> Vec<f64> {
        (0..self.len()).map(|i| self.monetary(i)).collect()
    }

    /// The collapsed (frequency, recency, T) data for the purchase-count models.
    ///
    /// # Errors
    ///
    /// [`ModelError::EmptyData`] if there are no customers.
    pub fn count_data(&self) -> Result<CountData, ModelError> {
        CountData::from_days(&self.frequency, &self.recency_days, &self.t_days, self.unit)
    }

    /// The repeat customers' (frequency, monetary) data for Gamma-Gamma.
    ///
    /// # Errors
    ///
    /// As [`SpendData::new`].
    pub fn spend_data(&self) -> Result<SpendData, ModelError> {
        SpendData::new(&self.frequency, &self.monetary_column())
    }
}

/// Customers' (frequency x, recency tₓ, T) collapsed into distinct weighted rows, sorted
/// by x, with the distinct values of T and tₓ tabulated so that the fitters evaluate
/// each logarithm once per distinct value rather than once per customer.
#[derive(Debug, Clone, PartialEq)]
pub struct CountData {
    pub(crate) x: Vec<u32>,
    pub(crate) t_idx: Vec<u32>,
    pub(crate) tx_idx: Vec<u32>,
    pub(crate) w: Vec<f64>,
    pub(crate) t_vals: Vec<f64>,
    pub(crate) tx_vals: Vec<f64>,
    /// (x, first row, end row) of each run of equal x.
    pub(crate) groups: Vec<(u32, usize, usize)>,
    pub(crate) total_weight: f64,
}

fn bad_row(i: usize, reason: &str) -> ModelError {
    ModelError::InvalidInput {
        reason: format!("customer row {i}: {reason}"),
    }
}

impl CountData {
    /// Collapses one row per customer. Each customer must have finite 0 ≤ tₓ ≤ T, and
    /// tₓ = 0 when x = 0.
    ///
    /// # Errors
    ///
    /// [`ModelError::EmptyData`] for no rows; [`ModelError::InvalidInput`] for columns of
    /// different lengths or an invalid row.
    pub fn new(frequency: &[u32], recency: &[f64], t: &[f64]) -> Result<Self, ModelError> {
        Self::weighted(frequency, recency, t, &vec![1.0; frequency.len()])
    }

    /// As [`CountData::new`], with a positive finite weight (a count of identical
    /// customers) per row.
    ///
    /// # Errors
    ///
    /// As [`CountData::new`], and for a weight that is not positive and finite.
    pub fn weighted(
        frequency: &[u32],
        recency: &[f64],
        t: &[f64],
        weights: &[f64],
    ) -> Result<Self, ModelError> {
        let n = frequency.len();
        if recency.len() != n || t.len() != n || weights.len() != n {
            return Err(ModelError::InvalidInput {
                reason: "frequency, recency, T and weight columns differ in length".into(),
            });
        }
        if n == 0 {
            return Err(ModelError::EmptyData);
        }
        for i in 0..n {
            let (x, tx, tt, w) = (frequency[i], recency[i], t[i], weights[i]);
            if !(tx.is_finite() && tt.is_finite()) {
                return Err(bad_row(i, "recency and T must be finite"));
            }
            if !(0.0 <= tx && tx <= tt) {
                return Err(bad_row(i, "needs 0 ≤ recency ≤ T"));
            }
            if x == 0 && tx != 0.0 {
                return Err(bad_row(i, "recency must be 0 when frequency is 0"));
            }
            if tt > super::MAX_TIME_UNITS {
                return Err(bad_row(i, "T must be at most 109575 (300 years in days)"));
            }
            if !(w.is_finite() && w > 0.0) {
                return Err(bad_row(i, "weight must be positive and finite"));
            }
        }
        let mut order: Vec<u32> = (0..n as u32).collect();
        let key = |i: u32| {
            let i = i as usize;
            (frequency[i], t[i].to_bits(), recency[i].to_bits())
        };
        order.sort_unstable_by_key(|&i| key(i));
        // Distinct value tables (non-negative doubles order like their bits).
        let table = |col: &[f64]| -> (Vec<f64>, Vec<u32>) {
            let mut vals: Vec<u64> = col.iter().map(|v| v.to_bits()).collect();
            vals.sort_unstable();
            vals.dedup();
            let idx = col
                .iter()
                .map(|v| vals.binary_search(&v.to_bits()).map_or(0, |k| k as u32))
                .collect();
            (vals.into_iter().map(f64::from_bits).collect(), idx)
        };
        let (t_vals, t_of) = table(t);
        let (tx_vals, tx_of) = table(recency);
        let mut out = CountData::with_tables(t_vals, tx_vals);
        let mut prev: Option<(u32, u64, u64)> = None;
        for &i in &order {
            let k = key(i);
            let iu = i as usize;
            if prev == Some(k) {
                if let Some(w) = out.w.last_mut() {
                    *w += weights[iu];
                }
            } else {
                out.push_row(frequency[iu], t_of[iu], tx_of[iu], weights[iu]);
                prev = Some(k);
            }
        }
        out.finish();
        Ok(out)
    }

    /// Collapses integer-day rows (from a summary) without sorting floating point.
    fn from_days(x: &[u32], rec: &[u32], t: &[u32], unit: TimeUnit) -> Result<Self, ModelError> {
        let n = x.len();
        if n == 0 {
            return Err(ModelError::EmptyData);
        }
        let max_t = t.iter().copied().max().unwrap_or(0);
        let mut keys: Vec<u128> = (0..n)
            .map(|i| (u128::from(x[i]) << 64) | (u128::from(t[i]) << 32) | u128::from(rec[i]))
            .collect();
        keys.sort_unstable();
        let vals: Vec<f64> = (0..=max_t).map(|d| unit.from_days(f64::from(d))).collect();
        let mut out = CountData::with_tables(vals.clone(), vals);
        let mut prev = None;
        for k in keys {
            if prev == Some(k) {
                if let Some(w) = out.w.last_mut() {
                    *w += 1.0;
                }
                continue;
            }
            prev = Some(k);
            let xi = (k >> 64) as u32;
            let ti = ((k >> 32) & 0xffff_ffff) as u32;
            let ri = (k & 0xffff_ffff) as u32;
            out.push_row(xi, ti, ri, 1.0);
        }
        out.finish();
        Ok(out)
    }

    fn with_tables(t_vals: Vec<f64>, tx_vals: Vec<f64>) -> Self {
        CountData {
            x: Vec::new(),
            t_idx: Vec::new(),
            tx_idx: Vec::new(),
            w: Vec::new(),
            t_vals,
            tx_vals,
            groups: Vec::new(),
            total_weight: 0.0,
        }
    }

    fn push_row(&mut self, x: u32, ti: u32, txi: u32, w: f64) {
        self.x.push(x);
        self.t_idx.push(ti);
        self.tx_idx.push(txi);
        self.w.push(w);
    }

    fn finish(&mut self) {
        self.total_weight = self.w.iter().sum();
        let mut start = 0;
        for i in 1..=self.x.len() {
            if i == self.x.len() || self.x[i] != self.x[start] {
                self.groups.push((self.x[start], start, i));
                start = i;
            }
        }
    }

    /// The number of distinct (x, tₓ, T) rows.
    pub fn rows(&self) -> usize {
        self.x.len()
    }

    /// The number of customers (the sum of the weights).
    pub fn customers(&self) -> f64 {
        self.total_weight
    }

    /// Row `i` as (x, tₓ, T, weight).
    pub fn row(&self, i: usize) -> (u32, f64, f64, f64) {
        (
            self.x[i],
            self.tx_vals[self.tx_idx[i] as usize],
            self.t_vals[self.t_idx[i] as usize],
            self.w[i],
        )
    }

    /// Iterates over the rows as (x, tₓ, T, weight).
    pub fn iter(&self) -> impl Iterator<Item = (u32, f64, f64, f64)> + '_ {
        (0..self.rows()).map(|i| self.row(i))
    }

    /// The mean of x and of T over customers (for starting values).
    /// Checks the data can identify a purchase-count model: some customer was watched
    /// for a while (T > 0) and some customer bought again (x > 0). Without either, the
    /// likelihood has no maximum inside the parameter space, and a fit would report a
    /// boundary value (α = 0.000000) as converged.
    ///
    /// # Errors
    ///
    /// [`ModelError::DegenerateData`] saying which.
    pub fn check_identifiable(&self) -> Result<(), ModelError> {
        if self.iter().all(|(_, _, t, _)| t <= 0.0) {
            return Err(ModelError::DegenerateData {
                reason: "every customer's first purchase is on the calibration end date, so no time was observed; choose a later calibration end",
            });
        }
        if self.iter().all(|(x, _, _, _)| x == 0) {
            return Err(ModelError::DegenerateData {
                reason: "no customer bought again before the calibration end, so the repeat-purchase rate cannot be estimated",
            });
        }
        Ok(())
    }

    pub(crate) fn means(&self) -> (f64, f64) {
        let (mut sx, mut st) = (0.0, 0.0);
        for (x, _, t, w) in self.iter() {
            sx += w * f64::from(x);
            st += w * t;
        }
        (sx / self.total_weight, st / self.total_weight)
    }
}

/// Repeat customers' (frequency x ≥ 1, mean spend m > 0) for the Gamma-Gamma model,
/// collapsed into weighted rows. Customers with x = 0 are ignored; repeat customers
/// whose mean spend is 0 or negative are left out and counted in
/// [`SpendData::excluded`].
#[derive(Debug, Clone, PartialEq)]
pub struct SpendData {
    pub(crate) x: Vec<u32>,
    pub(crate) m: Vec<f64>,
    pub(crate) w: Vec<f64>,
    pub(crate) total_weight: f64,
    excluded: usize,
}

impl SpendData {
    /// Collects the repeat customers (x ≥ 1) with positive mean spend.
    ///
    /// # Errors
    ///
    /// [`ModelError::InvalidInput`] for columns of different lengths or a non-finite
    /// mean spend of a repeat customer; [`ModelError::NoRepeatCustomers`] if no repeat
    /// customer with positive spend remains.
    pub fn new(frequency: &[u32], monetary: &[f64]) -> Result<Self, ModelError> {
        if frequency.len() != monetary.len() {
            return Err(ModelError::InvalidInput {
                reason: "frequency and monetary columns differ in length".into(),
            });
        }
        let mut excluded = 0;
        let mut rows: Vec<(u32, f64)> = Vec::new();
        for (i, (&x, &m)) in frequency.iter().zip(monetary).enumerate() {
            if x == 0 {
                continue;
            }
            if !m.is_finite() {
                return Err(bad_row(i, "monetary value must be finite"));
            }
            if m <= 0.0 {
                excluded += 1;
                continue;
            }
            rows.push((x, m));
        }
        if rows.is_empty() {
            return Err(ModelError::NoRepeatCustomers { excluded });
        }
        rows.sort_unstable_by(|a, b| {
            a.0.cmp(&b.0)
                .then(a.1.partial_cmp(&b.1).unwrap_or(Ordering::Equal))
        });
        let mut out = SpendData {
            x: Vec::new(),
            m: Vec::new(),
            w: Vec::new(),
            total_weight: 0.0,
            excluded,
        };
        for (x, m) in rows {
            if out.x.last() == Some(&x) && out.m.last() == Some(&m) {
                if let Some(w) = out.w.last_mut() {
                    *w += 1.0;
                }
            } else {
                out.x.push(x);
                out.m.push(m);
                out.w.push(1.0);
            }
        }
        out.total_weight = out.w.iter().sum();
        Ok(out)
    }

    /// The number of repeat customers in the fit.
    pub fn customers(&self) -> f64 {
        self.total_weight
    }

    /// Repeat customers left out because their mean spend was not positive.
    pub fn excluded(&self) -> usize {
        self.excluded
    }

    /// The number of distinct (x, m) rows.
    pub fn rows(&self) -> usize {
        self.x.len()
    }
}
