//! The Gamma-Gamma model of spend per purchase (Fader, Hardie & Lee 2005, "RFM and CLV:
//! using iso-value curves for customer base analysis", JMR 42(4); Fader & Hardie, "The
//! Gamma-Gamma model of monetary value", 2013).
//!
//! A customer's purchases have Gamma(p, ν) values (shape p, rate ν); across customers
//! ν ~ Gamma(q, γ). Spend is assumed independent of the purchase process, so it combines
//! with any of the count models for CLV.
//!
//! # Formulas
//!
//! - Likelihood of a repeat customer's mean spend m̄ over x repeat purchases (the density
//!   of the mean, as `lifetimes`' `GammaGammaFitter`):
//!   ln L = ln Γ(px + q) − ln Γ(px) − ln Γ(q) + q ln γ + (px − 1) ln m̄ + px ln x
//!   − (px + q) ln(γ + x m̄).
//! - Conditional expected spend per purchase (FHL 2005, eq. 5):
//!   E[M | m̄, x] = p (γ + x m̄) / (px + q − 1), a weighted mean of the population mean
//!   pγ/(q − 1) and the customer's own m̄. For x = 0 it is the population mean.
//!
//! Only repeat customers (x ≥ 1) enter the fit, with m̄ the mean of the repeat days'
//! totals (see [`summary`](super::summary)); a repeat customer whose m̄ is 0 or negative
//! cannot be Gamma distributed and is left out and counted
//! ([`SpendData::excluded`], [`Fitted::excluded`]). Spends are in major units of the
//! currency, so γ is too.

use serde::{Deserialize, Serialize};

use super::optimize::{self, FitOptions, Objective};
use super::simulate::Rng;
use super::special::{digamma, ln_gamma};
use super::summary::SpendData;
use super::{Fitted, ModelError, finite, positive};

/// Gamma-Gamma parameters: purchase-value shape p, and Gamma(q, γ) for its rate.
///
/// Deserialising checks the parameters like [`GammaGamma::new`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "GammaGammaRepr", into = "GammaGammaRepr")]
pub struct GammaGamma {
    p: f64,
    q: f64,
    gamma: f64,
}

/// The serialised form of [`GammaGamma`].
#[derive(Serialize, Deserialize)]
struct GammaGammaRepr {
    p: f64,
    q: f64,
    gamma: f64,
}

impl TryFrom<GammaGammaRepr> for GammaGamma {
    type Error = ModelError;
    fn try_from(r: GammaGammaRepr) -> Result<Self, ModelError> {
        GammaGamma::new(r.p, r.q, r.gamma)
    }
}

impl From<GammaGamma> for GammaGammaRepr {
    fn from(m: GammaGamma) -> Self {
        GammaGammaRepr {
            p: m.p,
            q: m.q,
            gamma: m.gamma,
        }
    }
}

impl GammaGamma {
    /// A model with the given parameters.
    ///
    /// # Errors
    ///
    /// [`ModelError::InvalidParameter`] unless every parameter is positive and finite.
    pub fn new(p: f64, q: f64, gamma: f64) -> Result<Self, ModelError> {
        Ok(GammaGamma {
            p: positive("p", p)?,
            q: positive("q", q)?,
            gamma: positive("gamma", gamma)?,
        })
    }

    /// Shape p of a purchase's value.
    pub fn p(&self) -> f64 {
        self.p
    }
    /// Shape q of the rate ν.
    pub fn q(&self) -> f64 {
        self.q
    }
    /// Rate γ of the rate ν (in major currency units).
    pub fn gamma(&self) -> f64 {
        self.gamma
    }

    /// Fits the model by maximum likelihood on the repeat customers.
    ///
    /// # Errors
    ///
    /// [`ModelError::InvalidOption`] for bad options; [`ModelError::NonFinite`] if the
    /// likelihood cannot be evaluated.
    pub fn fit(data: &SpendData, opts: &FitOptions) -> Result<Fitted<GammaGamma>, ModelError> {
        opts.check()?;
        let obj = SpendObjective::new(data, opts.penalizer);
        // Start: p = 1, q = 2, γ from the mean spend (E[M] = pγ/(q − 1)).
        let mean: f64 =
            data.m.iter().zip(&data.w).map(|(m, w)| m * w).sum::<f64>() / data.total_weight;
        let y0 = [0.0, 2.0_f64.ln(), mean.ln()];
        let min = optimize::minimize(&obj, &y0, opts)?;
        let mut fitted = optimize::finish(
            &min,
            opts,
            data.total_weight,
            |th| obj.ll_and_grad([th[0], th[1], th[2]]).0,
            // γ is a scale in money: any size is proper.
            &[("p", true), ("q", true), ("gamma", false)],
            |v| GammaGamma {
                p: v[0],
                q: v[1],
                gamma: v[2],
            },
        )?;
        fitted.excluded = data.excluded();
        Ok(fitted)
    }

    /// The log-likelihood of one repeat customer's mean spend.
    ///
    /// # Errors
    ///
    /// [`ModelError::InvalidInput`] unless x ≥ 1 and m̄ > 0 is finite.
    pub fn customer_log_likelihood(&self, x: u32, mean_spend: f64) -> Result<f64, ModelError> {
        if x == 0 || !(mean_spend.is_finite() && mean_spend > 0.0) {
            return Err(ModelError::InvalidInput {
                reason: "the Gamma-Gamma likelihood needs x ≥ 1 and a positive mean spend".into(),
            });
        }
        let (p, q, g) = (self.p, self.q, self.gamma);
        let xf = f64::from(x);
        let px = p * xf;
        let ll = ln_gamma(px + q) - ln_gamma(px) - ln_gamma(q)
            + q * g.ln()
            + (px - 1.0) * mean_spend.ln()
            + px * xf.ln()
            - (px + q) * (g + xf * mean_spend).ln();
        finite("log-likelihood", ll)
    }

    /// The population mean spend per purchase, pγ / (q − 1).
    ///
    /// # Errors
    ///
    /// [`ModelError::Undefined`] when q ≤ 1 (the mean is infinite).
    pub fn mean_spend(&self) -> Result<f64, ModelError> {
        if self.q <= 1.0 {
            return Err(ModelError::Undefined {
                what: "the population mean spend",
                reason: "q ≤ 1",
            });
        }
        finite("mean spend", self.p * self.gamma / (self.q - 1.0))
    }

    /// E[spend per purchase | x, m̄]: p (γ + x m̄) / (px + q − 1); the population mean
    /// for x = 0 (m̄ is then ignored).
    ///
    /// # Errors
    ///
    /// [`ModelError::Undefined`] when px + q ≤ 1 (or q ≤ 1 for x = 0);
    /// [`ModelError::InvalidInput`] for a non-finite m̄.
    pub fn conditional_expected_spend(&self, x: u32, mean_spend: f64) -> Result<f64, ModelError> {
        if x == 0 {
            return self.mean_spend();
        }
        if !mean_spend.is_finite() {
            return Err(ModelError::InvalidInput {
                reason: "mean spend must be finite".into(),
            });
        }
        let xf = f64::from(x);
        let den = self.p * xf + self.q - 1.0;
        if den <= 0.0 {
            return Err(ModelError::Undefined {
                what: "the conditional expected spend",
                reason: "px + q ≤ 1",
            });
        }
        finite(
            "expected spend",
            self.p * (self.gamma + xf * mean_spend) / den,
        )
    }

    /// Draws a customer's mean spend over x purchases (0 for x = 0).
    pub(crate) fn simulate_mean_spend(&self, rng: &mut Rng, x: u32) -> f64 {
        if x == 0 {
            return 0.0;
        }
        let nu = rng.gamma(self.q, self.gamma);
        (0..x).map(|_| rng.gamma(self.p, nu)).sum::<f64>() / f64::from(x)
    }
}

/// The mean negative log-likelihood of the Gamma-Gamma over log-parameters.
///
/// The terms that depend on a customer's x alone (ln Γ(px + q), ln Γ(px), ψ(px + q),
/// ψ(px), ln x) are computed once per distinct x and evaluation, and ln m̄ once per
/// customer: a book has few distinct purchase counts, and these special functions were
/// most of the cost of a `clv` at 100 k customers (issue 14). Each customer's terms are
/// the same numbers, summed in the same order, so the likelihood is unchanged to the bit.
pub(crate) struct SpendObjective<'a> {
    pub data: &'a SpendData,
    pub penalizer: f64,
    /// The distinct x of the data.
    xs: Vec<u32>,
    /// Per row: the index of its x in `xs`.
    slot: Vec<u32>,
    /// Per row: ln m̄.
    ln_m: Vec<f64>,
}

impl<'a> SpendObjective<'a> {
    /// The objective of `data` with an L2 penalty of `penalizer` on (p, q, γ).
    pub(crate) fn new(data: &'a SpendData, penalizer: f64) -> Self {
        let mut index = std::collections::HashMap::new();
        let mut xs = Vec::new();
        let slot = data
            .x
            .iter()
            .map(|&x| {
                *index.entry(x).or_insert_with(|| {
                    xs.push(x);
                    (xs.len() - 1) as u32
                })
            })
            .collect();
        SpendObjective {
            data,
            penalizer,
            xs,
            slot,
            ln_m: data.m.iter().map(|m| m.ln()).collect(),
        }
    }

    /// Full log-likelihood and its gradient with respect to (p, q, γ).
    pub(crate) fn ll_and_grad(&self, th: [f64; 3]) -> (f64, [f64; 3]) {
        let [p, q, g] = th;
        let d = self.data;
        let (lg_q, psi_q, ln_g) = (ln_gamma(q), digamma(q), g.ln());
        // Per distinct x: (ln Γ(px + q), ln Γ(px), ψ(px + q), ψ(px), ln x).
        let per_x: Vec<[f64; 5]> = self
            .xs
            .iter()
            .map(|&x| {
                let xf = f64::from(x);
                let px = p * xf;
                [
                    ln_gamma(px + q),
                    ln_gamma(px),
                    digamma(px + q),
                    digamma(px),
                    xf.ln(),
                ]
            })
            .collect();
        let at = Point {
            p,
            q,
            g,
            lg_q,
            psi_q,
            ln_g,
            per_x: &per_x,
        };
        let n = d.x.len();
        let mut ll = 0.0;
        let mut gr = [0.0; 3];
        let mut add = |t: [f64; 4]| {
            ll += t[0];
            gr[0] += t[1];
            gr[1] += t[2];
            gr[2] += t[3];
        };
        if n < PARALLEL_ROWS {
            (0..n).for_each(|i| add(self.row(i, &at)));
        } else {
            // The second half's terms on a second thread while this one sums the first;
            // then its terms are added in row order: the same additions as one thread.
            let mid = n / 2;
            // If the system refuses a thread, this one computes them after the first
            // half: the same numbers.
            let tail_rows = || (mid..n).map(|i| self.row(i, &at)).collect::<Vec<_>>();
            std::thread::scope(|scope| {
                let tail = std::thread::Builder::new().spawn_scoped(scope, tail_rows);
                (0..mid).for_each(|i| add(self.row(i, &at)));
                let tail = match tail {
                    Ok(h) => h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)),
                    Err(_) => tail_rows(),
                };
                tail.into_iter().for_each(&mut add);
            });
        }
        (ll, gr)
    }

    /// Row `i`'s terms of the log-likelihood and of its gradient with respect to
    /// (p, q, γ), each already times the row's weight.
    #[inline]
    fn row(&self, i: usize, at: &Point<'_>) -> [f64; 4] {
        let d = self.data;
        let &Point {
            p,
            q,
            g,
            lg_q,
            psi_q,
            ln_g,
            per_x,
        } = at;
        let (xf, m, w) = (f64::from(d.x[i]), d.m[i], d.w[i]);
        let px = p * xf;
        let [lg_pxq, lg_px, psi_pxq, psi_px, ln_x] = per_x[self.slot[i] as usize];
        let (ln_m, ln_den) = (self.ln_m[i], (g + xf * m).ln());
        [
            w * (lg_pxq - lg_px - lg_q + q * ln_g + (px - 1.0) * ln_m + px * ln_x
                - (px + q) * ln_den),
            w * xf * (psi_pxq - psi_px + ln_m + ln_x - ln_den),
            w * (psi_pxq - psi_q + ln_g - ln_den),
            w * (q / g - (px + q) / (g + xf * m)),
        ]
    }
}

/// From this many repeat customers on, an evaluation of [`SpendObjective`] computes half
/// of the rows' terms on a second thread (about 2 ms of work at this size, against tens
/// of µs to start the thread).
const PARALLEL_ROWS: usize = 16_384;

/// The parameters of one evaluation and the terms shared by its rows.
struct Point<'t> {
    p: f64,
    q: f64,
    g: f64,
    lg_q: f64,
    psi_q: f64,
    ln_g: f64,
    /// Per distinct x: (ln Γ(px + q), ln Γ(px), ψ(px + q), ψ(px), ln x).
    per_x: &'t [[f64; 5]],
}

impl Objective for SpendObjective<'_> {
    fn dim(&self) -> usize {
        3
    }
    fn eval(&self, y: &[f64], grad: &mut [f64]) -> f64 {
        let th = [y[0].exp(), y[1].exp(), y[2].exp()];
        let (ll, g) = self.ll_and_grad(th);
        let n = self.data.total_weight;
        let mut f = -ll / n;
        for i in 0..3 {
            f += self.penalizer * th[i] * th[i];
            grad[i] = th[i] * (-g[i] / n + 2.0 * self.penalizer * th[i]);
        }
        f
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The likelihood and gradient as they were summed before the per-x table.
    fn ll_and_grad_per_row(d: &SpendData, th: [f64; 3]) -> (f64, [f64; 3]) {
        let [p, q, g] = th;
        let (lg_q, psi_q, ln_g) = (ln_gamma(q), digamma(q), g.ln());
        let mut ll = 0.0;
        let mut gr = [0.0; 3];
        for i in 0..d.x.len() {
            let (xf, m, w) = (f64::from(d.x[i]), d.m[i], d.w[i]);
            let px = p * xf;
            let (ln_m, ln_x, ln_den) = (m.ln(), xf.ln(), (g + xf * m).ln());
            let psi_pxq = digamma(px + q);
            ll += w
                * (ln_gamma(px + q) - ln_gamma(px) - lg_q
                    + q * ln_g
                    + (px - 1.0) * ln_m
                    + px * ln_x
                    - (px + q) * ln_den);
            gr[0] += w * xf * (psi_pxq - digamma(px) + ln_m + ln_x - ln_den);
            gr[1] += w * (psi_pxq - psi_q + ln_g - ln_den);
            gr[2] += w * (q / g - (px + q) / (g + xf * m));
        }
        (ll, gr)
    }

    #[test]
    fn the_per_x_table_changes_no_bit_of_the_likelihood() {
        let truth = GammaGamma::new(6.25, 3.74, 15.44).expect("valid");
        let bg = crate::BgNbd::new(0.243, 4.414, 0.793, 2.426).expect("valid");
        let s = crate::SimulatedCustomers::simulate_uniform_t(&bg, 5_000, 27.0, 39.0, 7)
            .with_spend(&truth, 8);
        let d = SpendData::new(&s.frequency, &s.monetary).expect("repeat customers");
        let obj = SpendObjective::new(&d, 0.0);
        assert!(obj.xs.len() < 60, "few distinct x: {}", obj.xs.len());
        for th in [[6.25, 3.74, 15.44], [0.5, 1.2, 300.0], [40.0, 0.9, 0.01]] {
            assert_eq!(obj.ll_and_grad(th), ll_and_grad_per_row(&d, th), "{th:?}");
        }
    }

    #[test]
    fn the_second_thread_changes_no_bit_of_the_likelihood() {
        let truth = GammaGamma::new(6.25, 3.74, 15.44).expect("valid");
        let bg = crate::BgNbd::new(0.243, 4.414, 0.793, 2.426).expect("valid");
        let s = crate::SimulatedCustomers::simulate_uniform_t(&bg, 80_000, 27.0, 39.0, 11)
            .with_spend(&truth, 12);
        let d = SpendData::new(&s.frequency, &s.monetary).expect("repeat customers");
        assert!(d.x.len() >= PARALLEL_ROWS, "two threads: {}", d.x.len());
        let obj = SpendObjective::new(&d, 0.0);
        for th in [[6.25, 3.74, 15.44], [0.5, 1.2, 300.0], [40.0, 0.9, 0.01]] {
            assert_eq!(obj.ll_and_grad(th), ll_and_grad_per_row(&d, th), "{th:?}");
        }
    }

    #[test]
    fn gradient_matches_finite_differences() {
        let d = SpendData::new(&[1, 2, 5, 0, 3, 1], &[10.0, 35.5, 20.0, 0.0, 7.25, 100.0])
            .expect("valid");
        for penalizer in [0.0, 0.01] {
            let obj = SpendObjective::new(&d, penalizer);
            for y in [[0.5, 1.0, 2.0], [1.8, 0.2, 3.5]] {
                let err = optimize::gradient_check(&obj, &y);
                assert!(err < 1e-6, "{y:?}: {err}");
            }
        }
    }
}
