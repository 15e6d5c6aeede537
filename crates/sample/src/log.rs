//! The fast path: plan every customer, allocate the purchases, place them in time, sort
//! them, price them. See the [module docs](super) for the model.

use std::num::NonZeroUsize;
use std::thread;

use chrono::DateTime;
use solocrm_core::{BusinessZone, CustomerId, PurchaseLog};

use super::GenConfig;
use super::rng::{Rng, exp, ln};

/// Stream kinds: every customer (or block of rows) draws from its own stream of each
/// kind, so the result does not depend on how work is split between threads.
pub(crate) const STREAM_PROFILE: u64 = 1;
const STREAM_TIMES: u64 = 2;
const STREAM_AMOUNTS: u64 = 3;
const STREAM_ALLOCATION: u64 = 4;

pub(crate) const DAY: f64 = 86_400.0;
const YEAR: f64 = 365.25 * DAY;

/// Share of customers who never buy (prospects and leads).
const NON_BUYER_SHARE: f64 = 0.08;
/// Share of buyers who buy exactly once.
const ONE_TIME_SHARE: f64 = 0.4;
/// Acquisitions per day at the end of the history over those at its start.
const GROWTH: f64 = 3.0;
/// Share of customers who buy at the moment they become known.
const INSTANT_CONVERSION: f64 = 0.35;
/// Mean days from first contact to first purchase for the others.
const CONVERSION_MEAN_DAYS: f64 = 5.0;
/// Mean days a customer stays active after their first purchase (exponential).
const LIFETIME_MEAN_DAYS: f64 = 540.0;
/// Share of lapsed customers who come back.
const COMEBACK_SHARE: f64 = 0.15;
/// A comeback happens this many days after lapsing, plus an exponential wait.
const COMEBACK_MIN_DAYS: f64 = 120.0;
const COMEBACK_MEAN_DAYS: f64 = 180.0;
/// Purchase rates of repeat buyers: Pareto from this many a year, with this exponent,
/// capped.
const RATE_MIN_PER_YEAR: f64 = 2.0;
const RATE_ALPHA: f64 = 1.5;
const RATE_CAP_PER_YEAR: f64 = 150.0;
/// The median customer's typical order in major units; customers' typical orders are
/// log-normal around it with this spread, and single orders around theirs with the
/// basket spread.
const SPEND_MEDIAN: f64 = 40.0;
const SPEND_SPREAD: f64 = 0.6;
const BASKET_SPREAD: f64 = 0.45;
/// Free orders per 10,000.
const FREE_PER_10K: u64 = 150;

/// Rows per amount stream: rows are priced in blocks of this many, each with its own
/// stream, so pricing parallelises without changing the result.
const AMOUNT_BLOCK: usize = 1 << 16;

/// Weights of the hour of day (in the shop's time zone, [`GenConfig::zone`]) of
/// purchases and first contacts, summing to 256.
const HOUR_WEIGHTS: [u8; 24] = [
    3, 1, 1, 1, 1, 3, 6, 10, 13, 14, 15, 15, 15, 14, 14, 14, 15, 16, 18, 19, 18, 14, 11, 5,
];

/// A byte → hour lookup with the distribution of [`HOUR_WEIGHTS`].
const HOUR_OF: [u8; 256] = {
    let mut table = [0u8; 256];
    let (mut h, mut i) = (0, 0);
    while h < 24 {
        let mut w = HOUR_WEIGHTS[h];
        while w > 0 {
            table[i] = h as u8;
            i += 1;
            w -= 1;
        }
        h += 1;
    }
    assert!(i == 256, "hour weights must sum to 256");
    table
};

/// No comeback.
pub(crate) const NEVER: u64 = u64::MAX;

/// What the generator decides about one customer before placing purchases. Times are
/// seconds after `config.start`.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Profile {
    /// When the business first knew them.
    pub acquired: u64,
    /// When they first buy (if they buy).
    pub first: u64,
    /// End of their first active period (exclusive): when they lapse, or the end.
    pub end: u64,
    /// Start of their second active period after a comeback, or [`NEVER`].
    pub back: u64,
    /// End of the second active period.
    pub back_end: u64,
    /// Expected number of repeat purchases, up to a common factor (0: at most one).
    pub weight: f64,
    /// Whether they buy at all.
    pub buyer: bool,
    /// Log of their typical order in major units.
    pub spend: f64,
}

/// The plan of a whole data set: every customer's profile and purchase count.
pub(crate) struct Plan {
    /// `config.start` in Unix seconds.
    pub start: i64,
    /// The shop's time zone, whose days the times of day are placed in.
    pub zone: BusinessZone,
    /// `as_of − start` in seconds.
    pub span: u64,
    /// One profile per customer index.
    pub profiles: Vec<Profile>,
    /// Purchases per customer index; they sum to `config.purchases`.
    pub counts: Vec<u64>,
}

/// Plans the data set.
///
/// # Panics
///
/// If purchases are asked for without customers or with an empty history.
pub(crate) fn plan(config: &GenConfig) -> Plan {
    let start = config.start.timestamp();
    let span = u64::try_from(config.as_of.timestamp().saturating_sub(start)).unwrap_or(0);
    assert!(
        config.purchases == 0 || (config.customers > 0 && span > 0),
        "cannot generate {} purchases for {} customers between {} and {}",
        config.purchases,
        config.customers,
        config.start,
        config.as_of
    );
    let mut profiles = vec![Profile::default(); config.customers as usize];
    par_for(&mut profiles, 1, |offset, part| {
        for (j, p) in part.iter_mut().enumerate() {
            *p = profile(config.seed, (offset + j) as u64, start, span, config.zone);
        }
    });
    let counts = allocate(config, &profiles);
    Plan {
        start,
        zone: config.zone,
        span,
        profiles,
        counts,
    }
}

fn profile(seed: u64, index: u64, start: i64, span: u64, zone: BusinessZone) -> Profile {
    let mut rng = Rng::stream(seed, STREAM_PROFILE, index);
    let last = span.saturating_sub(1);
    let t = span as f64;
    let at = |x: f64| -> u64 { if x >= t { last } else { x.max(0.0) as u64 } };
    // Acquisition density ∝ GROWTH^(x/t): inverse CDF.
    let u = rng.uniform();
    let raw = at(t * ln(1.0 + u * (GROWTH - 1.0)) / ln(GROWTH));
    let acquired = shape_time(&mut rng, raw, 0, last, start, zone);
    let buyer = rng.chance(1.0 - NON_BUYER_SHARE);
    let one_time = rng.chance(ONE_TIME_SHARE);
    let delay = if rng.chance(INSTANT_CONVERSION) {
        0.0
    } else {
        rng.exponential(CONVERSION_MEAN_DAYS * DAY)
    };
    let first = at(acquired as f64 + delay);
    let lapse = first as f64 + rng.exponential(LIFETIME_MEAN_DAYS * DAY);
    let (end, back, back_end) = if lapse >= t {
        (span, NEVER, 0)
    } else {
        let lapse = at(lapse).max(first);
        let comes_back = rng.chance(COMEBACK_SHARE);
        let back = lapse as f64 + (COMEBACK_MIN_DAYS + rng.exponential(COMEBACK_MEAN_DAYS)) * DAY;
        if comes_back && back < t - DAY {
            (lapse, at(back), span)
        } else {
            (lapse, NEVER, 0)
        }
    };
    // A power-law rate with exponential (Gamma(1)) heterogeneity on top, so that the
    // counts fall off smoothly from one purchase.
    let rate =
        (rng.pareto(RATE_MIN_PER_YEAR, RATE_ALPHA) * rng.exponential(1.0)).min(RATE_CAP_PER_YEAR);
    let active = (end - first) + if back == NEVER { 0 } else { back_end - back };
    let weight = if buyer && !one_time {
        rate * active as f64 / YEAR
    } else {
        0.0
    };
    let spend = ln(SPEND_MEDIAN) + SPEND_SPREAD * rng.normal();
    Profile {
        acquired,
        first,
        end,
        back,
        back_end,
        weight,
        buyer,
        spend,
    }
}

/// Moves `off` to a time of day drawn from [`HOUR_WEIGHTS`] on the same day in `zone`
/// (the day before if that would pass `hi`), clamped to `lo..=hi`. The offset in force
/// at `off` is used for the whole day (on a day the clocks change, a time may land an
/// hour off the table's).
fn shape_time(rng: &mut Rng, off: u64, lo: u64, hi: u64, start: i64, zone: BusinessZone) -> u64 {
    let x = rng.next_u64();
    let abs = start + off as i64;
    let shift = DateTime::from_timestamp(abs, 0).map_or(0, |t| i64::from(zone.offset_at(t)));
    let midnight = (abs + shift).div_euclid(86_400) * 86_400 - shift;
    let tod = i64::from(HOUR_OF[(x >> 56) as usize]) * 3600 + ((x & 0xFFFF_FFFF) % 3600) as i64;
    let mut new = midnight + tod - start;
    if new > hi as i64 {
        new -= 86_400;
    }
    new.clamp(lo as i64, hi as i64) as u64
}

/// Gives every buyer one purchase and spreads the rest in proportion to the weights, by
/// systematic sampling: each count is the floor or the ceiling of its expectation, and
/// the total is exact.
fn allocate(config: &GenConfig, profiles: &[Profile]) -> Vec<u64> {
    let mut counts = vec![0u64; profiles.len()];
    let total = config.purchases;
    if total == 0 || profiles.is_empty() {
        return counts;
    }
    let mut rng = Rng::stream(config.seed, STREAM_ALLOCATION, 0);
    let buyers = profiles.iter().filter(|p| p.buyer).count() as u64;
    let everyone = |_: &Profile| 1.0;
    let buyer_weight = |p: &Profile| if p.buyer { 1.0 } else { 0.0 };
    if buyers == 0 {
        systematic(total, profiles, everyone, &mut counts, &mut rng);
    } else if total <= buyers {
        systematic(total, profiles, buyer_weight, &mut counts, &mut rng);
    } else {
        for (c, p) in counts.iter_mut().zip(profiles) {
            *c = u64::from(p.buyer);
        }
        let rest = total - buyers;
        if profiles.iter().any(|p| p.weight > 0.0) {
            systematic(rest, profiles, |p| p.weight, &mut counts, &mut rng);
        } else {
            systematic(rest, profiles, buyer_weight, &mut counts, &mut rng);
        }
    }
    counts
}

/// Adds `total` to `counts` in proportion to `weight` (systematic sampling with one
/// random offset).
fn systematic(
    total: u64,
    profiles: &[Profile],
    weight: impl Fn(&Profile) -> f64,
    counts: &mut [u64],
    rng: &mut Rng,
) {
    let sum: f64 = profiles.iter().map(&weight).sum();
    if sum <= 0.0 {
        return;
    }
    let scale = total as f64 / sum;
    let u = rng.uniform();
    let (mut acc, mut given, mut last) = (0.0, 0u64, None);
    for (i, p) in profiles.iter().enumerate() {
        let w = weight(p);
        if w <= 0.0 {
            continue;
        }
        acc += w;
        let reached = ((acc * scale + u).floor() as u64).min(total);
        counts[i] += reached - given;
        given = reached;
        last = Some(i);
    }
    if let Some(i) = last {
        counts[i] += total - given;
    }
}

/// The purchase log of a plan: rows sorted by time, then customer index.
pub(crate) fn log(config: &GenConfig, plan: &Plan) -> PurchaseLog {
    let n = plan.profiles.len();
    let ids = (1..=u64::from(config.customers))
        .map(CustomerId::new)
        .collect();
    let mut out = PurchaseLog::with_customers(config.currency, ids);
    let rows: u64 = plan.counts.iter().sum();
    if rows == 0 {
        return out;
    }
    let rows = usize::try_from(rows).expect("the purchase log must fit in memory");
    // Sort keys: (seconds after start) << index_bits | customer index.
    let index_bits = u64::BITS - (n as u64 - 1).leading_zeros();
    let time_bits = u64::BITS - (plan.span - 1).leading_zeros();
    assert!(
        index_bits + time_bits <= 64,
        "history too long for this many customers"
    );
    let mut keys = vec![0u64; rows];
    place_all(config, plan, index_bits, &mut keys);
    radix_sort(&mut keys, index_bits + time_bits);

    let mask = (1u64 << index_bits) - 1;
    let scale = 10_i64.pow(config.currency.minor_unit_digits()) as f64;
    let two_digits = config.currency.minor_unit_digits() == 2;
    // Each customer's typical order in minor units, compact for random access.
    let typical: Vec<f64> = plan.profiles.iter().map(|p| exp(p.spend) * scale).collect();
    let factors = basket_factors();
    let mut amount = vec![0i64; rows];
    let (sorted, typical, factors) = (&keys, &typical, &factors);
    par_for(&mut amount, AMOUNT_BLOCK, |offset, part| {
        for (b, block) in part.chunks_mut(AMOUNT_BLOCK).enumerate() {
            let first_row = offset + b * AMOUNT_BLOCK;
            let block_index = (first_row / AMOUNT_BLOCK) as u64;
            let mut rng = Rng::stream(config.seed, STREAM_AMOUNTS, block_index);
            for (a, key) in block.iter_mut().zip(&sorted[first_row..]) {
                let typical = typical[(key & mask) as usize];
                *a = price(&mut rng, typical, factors, two_digits);
            }
        }
    });
    out.customer = keys.iter().map(|k| (k & mask) as u32).collect();
    out.amount = amount;
    out.at = keys
        .into_iter()
        .map(|k| plan.start + (k >> index_bits) as i64)
        .collect();
    out
}

/// Bits of the Irwin–Hall sum of [`Rng::normal_fast`] that select a basket factor.
const FACTOR_SHIFT: u32 = 6;

/// `exp(BASKET_SPREAD · z)` for the approximately normal `z` of [`Rng::normal_fast`],
/// tabulated over its 18-bit sum in steps of 2⁶ (a step moves a price by 0.08 %), so
/// that pricing a row costs no exponential.
fn basket_factors() -> Vec<f64> {
    let steps = ((4 * 0xFFFF_u64) >> FACTOR_SHIFT) + 1;
    (0..steps)
        .map(|i| {
            let sum = ((i << FACTOR_SHIFT) + (1 << (FACTOR_SHIFT - 1))) as f64;
            exp(BASKET_SPREAD * (sum - 131_070.0) * (3.0_f64.sqrt() / 65_536.0))
        })
        .collect()
}

/// One order's amount in minor units.
#[inline]
fn price(rng: &mut Rng, typical: f64, factors: &[f64], two_digits: bool) -> i64 {
    let x = rng.next_u64();
    if (x >> 32) % 10_000 < FREE_PER_10K {
        return 0;
    }
    let y = rng.next_u64();
    let sum = (y & 0xFFFF) + ((y >> 16) & 0xFFFF) + ((y >> 32) & 0xFFFF) + (y >> 48);
    let factor = factors
        .get((sum >> FACTOR_SHIFT) as usize)
        .copied()
        .unwrap_or(1.0);
    let mut minor = (typical * factor).round().clamp(1.0, 1e12) as i64;
    if two_digits && minor >= 200 {
        // Shop prices: a quarter end in .99, a sixth are whole.
        match x & 0xFF {
            0..64 => minor = minor - minor % 100 - 1,
            64..107 => minor -= minor % 100,
            _ => {}
        }
    }
    minor
}

/// Writes every customer's purchase keys, customers in index order, in parallel over
/// blocks of customers with about the same number of rows.
fn place_all(config: &GenConfig, plan: &Plan, index_bits: u32, keys: &mut [u64]) {
    let threads = threads_for(keys.len());
    let per_thread = keys.len().div_ceil(threads);
    thread::scope(|s| {
        let mut rest = keys;
        let mut customer = 0usize;
        while customer < plan.counts.len() {
            // Take customers until about `per_thread` rows.
            let from = customer;
            let mut rows = 0usize;
            while customer < plan.counts.len() && rows < per_thread {
                rows += plan.counts[customer] as usize;
                customer += 1;
            }
            let (part, tail) = std::mem::take(&mut rest).split_at_mut(rows);
            rest = tail;
            let to = customer;
            let mut work = move || {
                let mut gaps = Vec::new();
                let mut pos = 0;
                for i in from..to {
                    let n = plan.counts[i] as usize;
                    if n > 0 {
                        let out = &mut part[pos..pos + n];
                        place_customer(config.seed, plan, i, index_bits, out, &mut gaps);
                        pos += n;
                    }
                }
            };
            if customer < plan.counts.len() {
                s.spawn(work);
            } else {
                work();
            }
        }
    });
}

/// Places one customer's purchases: the first at their first purchase time, the rest
/// as a renewal process with Gamma(2) gaps conditioned on the count (the gaps,
/// including the one from the last purchase to the end of the active period, are
/// Dirichlet-distributed shares of that period).
fn place_customer(
    seed: u64,
    plan: &Plan,
    i: usize,
    index_bits: u32,
    out: &mut [u64],
    gaps: &mut Vec<f64>,
) {
    let p = &plan.profiles[i];
    let mut rng = Rng::stream(seed, STREAM_TIMES, i as u64);
    let n = out.len();
    let n1 = if p.back != NEVER && n >= 2 {
        let l1 = (p.end - p.first) as f64;
        let l2 = (p.back_end - p.back) as f64;
        let n1 = ((n as f64) * l1 / (l1 + l2).max(1.0)).round() as usize;
        n1.clamp(1, n - 1)
    } else {
        n
    };
    let (a, b) = out.split_at_mut(n1);
    let ctx = Placing {
        start: plan.start,
        zone: plan.zone,
        lo: p.acquired,
        hi: plan.span - 1,
        index: i as u64,
        index_bits,
    };
    ctx.period(&mut rng, p.first, p.end, a, gaps);
    ctx.period(&mut rng, p.back, p.back_end, b, gaps);
}

struct Placing {
    start: i64,
    zone: BusinessZone,
    lo: u64,
    hi: u64,
    index: u64,
    index_bits: u32,
}

impl Placing {
    fn period(&self, rng: &mut Rng, from: u64, to: u64, out: &mut [u64], gaps: &mut Vec<f64>) {
        let Some((head, rest)) = out.split_first_mut() else {
            return;
        };
        let key = |t: u64| (t << self.index_bits) | self.index;
        *head = key(shape_time(
            rng, from, self.lo, self.hi, self.start, self.zone,
        ));
        if rest.is_empty() {
            return;
        }
        gaps.clear();
        let mut total = 0.0;
        for _ in 0..=rest.len() {
            let g = -ln(rng.uniform_open() * rng.uniform_open());
            gaps.push(g);
            total += g;
        }
        let length = to.saturating_sub(from) as f64;
        let mut cum = 0.0;
        for (slot, g) in rest.iter_mut().zip(gaps.iter()) {
            cum += g;
            let t = from + (length * (cum / total)) as u64;
            *slot = key(shape_time(rng, t, self.lo, self.hi, self.start, self.zone));
        }
    }
}

/// Sorts keys that use the low `bits` bits. Large inputs: one most-significant-digit
/// pass splits the keys into 2¹¹ buckets, which are then sorted in parallel; small
/// ones: least-significant-digit passes.
fn radix_sort(keys: &mut Vec<u64>, bits: u32) {
    const DIGIT: u32 = 11;
    const BUCKETS: usize = 1 << DIGIT;
    let n = keys.len();
    let threads = threads_for(n);
    if threads <= 1 || bits <= DIGIT {
        lsd_sort(keys, bits, DIGIT, &mut Vec::new());
        return;
    }
    let shift = bits - DIGIT;
    let bucket = |k: u64| ((k >> shift) as usize) & (BUCKETS - 1);
    let mut counts = vec![0usize; BUCKETS];
    for &k in keys.iter() {
        counts[bucket(k)] += 1;
    }
    let mut offsets = vec![0usize; BUCKETS];
    let mut sum = 0;
    for (o, &c) in offsets.iter_mut().zip(&counts) {
        *o = sum;
        sum += c;
    }
    let mut buf = vec![0u64; n];
    for &k in keys.iter() {
        let b = bucket(k);
        buf[offsets[b]] = k;
        offsets[b] += 1;
    }
    let per_thread = n.div_ceil(threads);
    thread::scope(|s| {
        let mut rest: &mut [u64] = &mut buf;
        let mut b = 0;
        while b < BUCKETS {
            let mut sizes = Vec::new();
            let mut rows = 0;
            while b < BUCKETS && rows < per_thread {
                sizes.push(counts[b]);
                rows += counts[b];
                b += 1;
            }
            let (part, tail) = std::mem::take(&mut rest).split_at_mut(rows);
            rest = tail;
            s.spawn(move || {
                let mut scratch = Vec::new();
                let mut pos = 0;
                for size in sizes {
                    lsd_sort(&mut part[pos..pos + size], shift, 8, &mut scratch);
                    pos += size;
                }
            });
        }
    });
    *keys = buf;
}

/// LSD radix sort of keys that use the low `bits` bits, `digit` bits per pass; passes in
/// which every key has the same digit are skipped.
fn lsd_sort(keys: &mut [u64], bits: u32, digit: u32, scratch: &mut Vec<u64>) {
    let n = keys.len();
    let passes = bits.div_ceil(digit) as usize;
    if n < 2 || passes == 0 {
        return;
    }
    let buckets = 1usize << digit;
    let mask = buckets - 1;
    let mut hist = vec![0usize; passes * buckets];
    for &k in keys.iter() {
        for p in 0..passes {
            hist[p * buckets + ((k >> (p as u32 * digit)) as usize & mask)] += 1;
        }
    }
    scratch.clear();
    scratch.resize(n, 0);
    let mut in_scratch = false;
    let mut offsets = vec![0usize; buckets];
    for p in 0..passes {
        let h = &hist[p * buckets..(p + 1) * buckets];
        if h.contains(&n) {
            continue;
        }
        let mut sum = 0;
        for (o, &c) in offsets.iter_mut().zip(h) {
            *o = sum;
            sum += c;
        }
        let shift = p as u32 * digit;
        let (src, dst): (&[u64], &mut [u64]) = if in_scratch {
            (scratch, keys)
        } else {
            (keys, scratch)
        };
        for &k in src {
            let d = (k >> shift) as usize & mask;
            dst[offsets[d]] = k;
            offsets[d] += 1;
        }
        in_scratch = !in_scratch;
    }
    if in_scratch {
        keys.copy_from_slice(scratch);
    }
}

#[cfg(test)]
thread_local! {
    /// Forces the number of threads in tests (0: automatic).
    static FORCE_THREADS: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// The number of threads for `work` items: one for small jobs.
fn threads_for(work: usize) -> usize {
    #[cfg(test)]
    if let n @ 1.. = FORCE_THREADS.with(std::cell::Cell::get) {
        return n;
    }
    if work < 100_000 {
        1
    } else {
        thread::available_parallelism()
            .map_or(1, NonZeroUsize::get)
            .min(16)
    }
}

/// Runs `f(offset, part)` over contiguous parts of `data` in parallel; part boundaries
/// are multiples of `align`. The result must not depend on the split.
pub(crate) fn par_for<T: Send>(data: &mut [T], align: usize, f: impl Fn(usize, &mut [T]) + Sync) {
    let threads = threads_for(data.len());
    if threads <= 1 {
        f(0, data);
        return;
    }
    let per = data.len().div_ceil(threads).div_ceil(align) * align;
    thread::scope(|s| {
        let f = &f;
        for (k, part) in data.chunks_mut(per).enumerate() {
            s.spawn(move || f(k * per, part));
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn radix_sort_sorts() {
        let mut r = Rng::new(5);
        for threads in [1, 3] {
            FORCE_THREADS.with(|t| t.set(threads));
            for bits in [1, 11, 12, 19, 40, 64] {
                let mut v: Vec<u64> = (0..20_000).map(|_| r.next_u64() >> (64 - bits)).collect();
                let mut expected = v.clone();
                expected.sort_unstable();
                radix_sort(&mut v, bits);
                assert_eq!(v, expected, "{bits} bits, {threads} threads");
            }
            FORCE_THREADS.with(|t| t.set(0));
        }
    }

    #[test]
    fn systematic_allocation_is_exact_and_proportional() {
        let profiles: Vec<Profile> = (0..100)
            .map(|i| Profile {
                weight: f64::from(i % 7),
                ..Profile::default()
            })
            .collect();
        let mut counts = vec![0; 100];
        systematic(1001, &profiles, |p| p.weight, &mut counts, &mut Rng::new(1));
        assert_eq!(counts.iter().sum::<u64>(), 1001);
        let sum: f64 = profiles.iter().map(|p| p.weight).sum();
        for (c, p) in counts.iter().zip(&profiles) {
            let e = 1001.0 * p.weight / sum;
            assert!((*c as f64 - e).abs() < 1.0 + 1e-9, "{c} vs {e}");
        }
    }

    #[test]
    fn the_log_does_not_depend_on_the_number_of_threads() {
        let config = GenConfig::new(3_000, 11).with_purchases(150_000);
        let with = |threads| {
            FORCE_THREADS.with(|t| t.set(threads));
            let plan = plan(&config);
            let log = log(&config, &plan);
            FORCE_THREADS.with(|t| t.set(0));
            log
        };
        let one = with(1);
        assert_eq!(one, with(2));
        assert_eq!(one, with(7));
    }

    #[test]
    fn hours_follow_the_table() {
        assert_eq!(HOUR_OF[0], 0);
        assert_eq!(HOUR_OF[255], 23);
        assert!(HOUR_OF.windows(2).all(|w| w[0] <= w[1]));
    }
}
