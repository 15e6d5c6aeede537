//! P(alive) and expected purchases for every customer of a summary at once.
//!
//! E[Y(t) | x, tₓ, T] = P(alive | x, tₓ, T) × E[Y(t) | x, T, alive], and the second
//! factor (the expensive one, a ₂F₁ for BG/NBD and MBG/NBD) depends only on (x, T). A
//! summary measures T in whole days, so real customer bases have few distinct (x, T)
//! pairs: they are computed once each. P(alive) is computed per customer, on two threads
//! for large summaries (`std::thread::scope`; no I/O).

use super::summary::CustomerSummary;
use super::{ModelError, PurchaseModel};

/// Per-customer predictions, in the summary's row order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Predictions {
    /// P(alive at the calibration end).
    pub p_alive: Vec<f64>,
    /// Expected purchases in the horizon after the calibration end.
    pub expected_purchases: Vec<f64>,
}

/// Predicts P(alive) and expected purchases over `horizon` (in the summary's unit) for
/// every customer of `summary`. The model must have been fitted in the summary's unit.
///
/// # Errors
///
/// The errors of the model's predictions.
pub fn predict<M: PurchaseModel + Sync>(
    model: &M,
    summary: &CustomerSummary,
    horizon: f64,
) -> Result<Predictions, ModelError> {
    let n = summary.len();
    let max_x = summary.frequency.iter().copied().max().unwrap_or(0) as usize;
    let max_t = summary.t_days.iter().copied().max().unwrap_or(0) as usize;
    // E[Y | alive] for each (x, T) that occurs, in a dense table when it is small.
    let cells = (max_x + 1).saturating_mul(max_t + 1);
    let mut pairs: Vec<u64> = if cells <= 8_000_000 {
        let mut seen = vec![false; cells];
        let mut out = Vec::new();
        for i in 0..n {
            let c = summary.frequency[i] as usize * (max_t + 1) + summary.t_days[i] as usize;
            if !seen[c] {
                seen[c] = true;
                out.push((u64::from(summary.frequency[i]) << 32) | u64::from(summary.t_days[i]));
            }
        }
        out
    } else {
        let mut out: Vec<u64> = (0..n)
            .map(|i| (u64::from(summary.frequency[i]) << 32) | u64::from(summary.t_days[i]))
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    };
    pairs.sort_unstable();
    let mut if_alive = Vec::with_capacity(pairs.len());
    for &k in &pairs {
        let (x, td) = ((k >> 32) as u32, (k & 0xffff_ffff) as u32);
        if_alive.push(model.expected_purchases_if_alive(
            x,
            summary.unit.from_days(f64::from(td)),
            horizon,
        )?);
    }
    let dense: Option<Vec<f64>> = (cells <= 8_000_000).then(|| {
        let mut table = vec![0.0; cells];
        for (k, v) in pairs.iter().zip(&if_alive) {
            let (x, td) = ((k >> 32) as usize, (k & 0xffff_ffff) as usize);
            table[x * (max_t + 1) + td] = *v;
        }
        table
    });
    let lookup = |i: usize| -> f64 {
        let (x, td) = (summary.frequency[i], summary.t_days[i]);
        match &dense {
            Some(t) => t[x as usize * (max_t + 1) + td as usize],
            None => {
                let k = (u64::from(x) << 32) | u64::from(td);
                pairs.binary_search(&k).map_or(f64::NAN, |j| if_alive[j])
            }
        }
    };
    let work = |lo: usize, hi: usize| -> Result<(Vec<f64>, Vec<f64>), ModelError> {
        let mut pa = Vec::with_capacity(hi - lo);
        let mut ex = Vec::with_capacity(hi - lo);
        for i in lo..hi {
            let p = model.p_alive(summary.frequency[i], summary.recency(i), summary.t(i))?;
            pa.push(p);
            ex.push(p * lookup(i));
        }
        Ok((pa, ex))
    };
    let (first, second) = if n >= 100_000 {
        let mid = n / 2;
        std::thread::scope(|scope| {
            let handle = scope.spawn(|| work(mid, n));
            let first = work(0, mid);
            let second = handle.join().unwrap_or(Err(ModelError::NonFinite {
                what: "predictions",
            }));
            (first, second)
        })
    } else {
        (work(0, n), Ok((Vec::new(), Vec::new())))
    };
    let (mut p_alive, mut expected_purchases) = first?;
    let (p2, e2) = second?;
    p_alive.extend(p2);
    expected_purchases.extend(e2);
    Ok(Predictions {
        p_alive,
        expected_purchases,
    })
}
