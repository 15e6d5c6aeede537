//! The Pareto/NBD model (Schmittlein, Morrison & Colombo 1987; formulas as in Fader &
//! Hardie, "A note on deriving the Pareto/NBD model and related expressions", 2005).
//!
//! While alive a customer buys at Poisson rate λ, λ ~ Gamma(r, α); they die at an
//! exponential time of rate μ, μ ~ Gamma(s, β) (shape, rate).
//!
//! # Likelihood
//!
//! For a customer with history (x, tₓ, T) (Fader & Hardie 2005, eq. 19–22):
//!
//! L = Γ(r + x) αʳ βˢ / Γ(r) · [ 1 / ((α + T)^(r+x) (β + T)ˢ) + s/(r + s + x) · A₀ ],
//!
//! where A₀ is a difference of two Gauss hypergeometric functions,
//! A₀ = ₂F₁(r+s+x, b'; r+s+x+1; z(tₓ)) / (M + tₓ)^(r+s+x) − (the same at T), with
//! M = max(α, β), z(τ) = |α − β| / (M + τ), b' = s + 1 if α ≥ β else r + x. The
//! series of these ₂F₁ converge slowly as z → 1 (one of α, β much larger than the other
//! and tₓ small), which is where `lifetimes`' and `BTYD`'s implementations lose
//! precision.
//!
//! This implementation uses the **integral form** that the ₂F₁ expression is the closed
//! form of: A₀ · s/(r + s + x) = s · I with
//!
//! I = ∫ from tₓ to T of (α + τ)^−(r+x) (β + τ)^−(s+1) dτ
//!
//! (the customer died at τ ∈ (tₓ, T]: E[λˣ e^(−λτ)] E[μ e^(−μτ)] over the two Gamma
//! mixing distributions). I is evaluated by 16-point Gauss–Legendre quadrature in the
//! variable u = ln(min(α, β) + τ): the integrand is analytic in the strip |Im u| < π
//! (its singularities τ = −α, −β map to Im u = π), so panels of width ≤ 1 converge to
//! machine precision; panels shrink where the integrand decays fast (width ≤ 6 / decay
//! rate), and the integration stops once the remaining tail is below 10⁻¹⁷ of the sum
//! (the log-integrand is concave in u, so the tail is bounded by value / rate). The
//! gradient differentiates under the integral sign with the same nodes — the
//! derivatives of ₂F₁ in its parameters are not elementary. A test checks I against
//! the ₂F₁ closed form computed with [`hyp2f1`](super::special::hyp2f1) to 10⁻¹².
//!
//! # Predictions
//!
//! - P(alive | x, tₓ, T) = 1 / (1 + s I (α + T)^(r+x) (β + T)ˢ) (eq. 18 with A₀ as
//!   above).
//! - E[X(t)] = rβ / (α (s − 1)) · [1 − (β/(β + t))^(s−1)] (eq. 17); the limit
//!   (rβ/α) ln(1 + t/β) at s = 1 is taken without cancellation.
//! - E[Y(t) | x, tₓ, T] = (r + x)(β + T) / ((α + T)(s − 1)) · [1 − ((β + T)/(β + T +
//!   t))^(s−1)] · P(alive) (eq. 23), same treatment of s = 1.
//! - P(X(t) = n) = NBD(n; t) (β/(β + t))ˢ + s βˢ αʳ Γ(r + n)/(Γ(r) n!) ∫₀ᵗ yⁿ
//!   (α + y)^−(r+n) (β + y)^−(s+1) dy, the exact one-dimensional integral over the time
//!   of death, by the same quadrature.

// Reference values in the tests carry all the digits of their source.
#![allow(clippy::excessive_precision)]

use serde::{Deserialize, Serialize};

use super::optimize::{self, FitOptions, Objective};
use super::special::{digamma, gl16_nodes, ln_gamma, log_add_exp, one_minus_exp_over};
use super::summary::CountData;
use super::{Fitted, ModelError, PurchaseModel, check_history, check_horizon, finite, positive};

/// Pareto/NBD parameters: purchase-rate Gamma(r, α), death-rate Gamma(s, β).
///
/// Deserialising checks the parameters like [`ParetoNbd::new`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "ParetoNbdRepr", into = "ParetoNbdRepr")]
pub struct ParetoNbd {
    r: f64,
    alpha: f64,
    s: f64,
    beta: f64,
}

/// The serialised form of [`ParetoNbd`].
#[derive(Serialize, Deserialize)]
struct ParetoNbdRepr {
    r: f64,
    alpha: f64,
    s: f64,
    beta: f64,
}

impl TryFrom<ParetoNbdRepr> for ParetoNbd {
    type Error = ModelError;
    fn try_from(r: ParetoNbdRepr) -> Result<Self, ModelError> {
        ParetoNbd::new(r.r, r.alpha, r.s, r.beta)
    }
}

impl From<ParetoNbd> for ParetoNbdRepr {
    fn from(m: ParetoNbd) -> Self {
        ParetoNbdRepr {
            r: m.r,
            alpha: m.alpha,
            s: m.s,
            beta: m.beta,
        }
    }
}

/// ln I and d ln I / d(k, α, σ, β) for I = ∫_{t0}^{t1} (α+τ)^−k (β+τ)^−σ dτ.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Integral {
    pub ln: f64,
    pub dln: [f64; 4],
}

/// The dropout integral (see the module documentation). `ln` is −∞ when t0 = t1.
pub(crate) fn dropout_integral(
    k: f64,
    alpha: f64,
    sigma: f64,
    beta: f64,
    t0: f64,
    t1: f64,
) -> Integral {
    if t1 <= t0 {
        return Integral {
            ln: f64::NEG_INFINITY,
            dln: [0.0; 4],
        };
    }
    let m = alpha.min(beta);
    let (da, db) = (alpha - m, beta - m);
    let u0 = (m + t0).ln();
    let u1 = (m + t1).ln();
    // ln(α+τ), ln(β+τ) at u = ln(m+τ), without forming τ.
    let logs = |u: f64| -> (f64, f64) {
        let e = u.exp();
        let la = if da == 0.0 { u } else { (e + da).ln() };
        let lb = if db == 0.0 { u } else { (e + db).ln() };
        (la, lb)
    };
    // Decay rate −d/du ln h of the integrand h(u) = (α+τ)^−k (β+τ)^−σ (m+τ).
    let rate = |u: f64| -> f64 {
        let e = u.exp();
        k * e / (e + da) + sigma * e / (e + db) - 1.0
    };
    let (la0, lb0) = logs(u0);
    let reference = -k * la0 - sigma * lb0 + u0;
    let mut acc = 0.0;
    let mut g = [0.0; 4];
    let mut u = u0;
    let mut panels = 0;
    while u < u1 && panels < 100_000 {
        panels += 1;
        let mut w = (u1 - u).min(1.0);
        let r0 = rate(u).abs();
        if r0 * w > 6.0 {
            w = 6.0 / r0;
        }
        let re = rate(u + w).abs();
        if re * w > 8.0 {
            w = 6.0 / re;
        }
        let hi = if u1 - (u + w) < 1e-12 * w { u1 } else { u + w };
        for (node, weight) in gl16_nodes(u, hi) {
            let (la, lb) = logs(node);
            let v = weight * (-k * la - sigma * lb + node - reference).exp();
            acc += v;
            g[0] -= la * v;
            g[1] -= k * v * (-la).exp();
            g[2] -= lb * v;
            g[3] -= sigma * v * (-lb).exp();
        }
        u = hi;
        if u < u1 {
            let rho = rate(u);
            if rho > 0.0 {
                let (la, lb) = logs(u);
                let h = (-k * la - sigma * lb + u - reference).exp();
                if h / rho < 1e-17 * acc {
                    break;
                }
            }
        }
    }
    Integral {
        ln: reference + acc.ln(),
        dln: [g[0] / acc, g[1] / acc, g[2] / acc, g[3] / acc],
    }
}

/// ln ∫₀ᵗ yⁿ (α+y)^−k (β+y)^−σ dy by the same log-variable Gauss–Legendre panels.
fn ln_count_integral(n: u32, k: f64, alpha: f64, sigma: f64, beta: f64, t: f64) -> f64 {
    let m = alpha.min(beta);
    let (u0, u1) = (m.ln(), (m + t).ln());
    let nf = f64::from(n);
    let panels = ((u1 - u0) / 0.25).ceil().clamp(1.0, 4_000.0);
    let width = (u1 - u0) / panels;
    let mut vals: Vec<(f64, f64)> = Vec::with_capacity(16 * panels as usize);
    for p in 0..panels as usize {
        let lo = u0 + width * p as f64;
        let hi = if p + 1 == panels as usize {
            u1
        } else {
            lo + width
        };
        for (node, weight) in gl16_nodes(lo, hi) {
            let e = node.exp();
            let y = e - m;
            if y <= 0.0 {
                continue;
            }
            let lf = nf * y.ln() - k * (e + alpha - m).ln() - sigma * (e + beta - m).ln() + node;
            vals.push((lf, weight));
        }
    }
    let max = vals.iter().fold(f64::NEG_INFINITY, |a, v| a.max(v.0));
    if !max.is_finite() {
        return f64::NEG_INFINITY;
    }
    let sum: f64 = vals.iter().map(|(lf, w)| w * (lf - max).exp()).sum();
    max + sum.ln()
}

impl ParetoNbd {
    /// A model with the given parameters.
    ///
    /// # Errors
    ///
    /// [`ModelError::InvalidParameter`] unless every parameter is positive and finite.
    pub fn new(r: f64, alpha: f64, s: f64, beta: f64) -> Result<Self, ModelError> {
        Ok(ParetoNbd {
            r: positive("r", r)?,
            alpha: positive("alpha", alpha)?,
            s: positive("s", s)?,
            beta: positive("beta", beta)?,
        })
    }

    /// Shape r of the purchase-rate distribution.
    pub fn r(&self) -> f64 {
        self.r
    }
    /// Rate α of the purchase-rate distribution.
    pub fn alpha(&self) -> f64 {
        self.alpha
    }
    /// Shape s of the death-rate distribution.
    pub fn s(&self) -> f64 {
        self.s
    }
    /// Rate β of the death-rate distribution.
    pub fn beta(&self) -> f64 {
        self.beta
    }

    /// Fits the model by maximum likelihood.
    ///
    /// # Errors
    ///
    /// [`ModelError::InvalidOption`] for bad options; [`ModelError::NonFinite`] if the
    /// likelihood cannot be evaluated at the start.
    pub fn fit(data: &CountData, opts: &FitOptions) -> Result<Fitted<ParetoNbd>, ModelError> {
        opts.check()?;
        data.check_identifiable()?;
        let obj = ParetoObjective {
            data,
            penalizer: opts.penalizer,
        };
        let (mean_x, mean_t) = data.means();
        let rate = mean_x.max(0.05) / mean_t.max(1e-9);
        let y0 = [0.0, (1.0 / rate).ln(), 0.0, mean_t.max(1e-9).ln()];
        let min = optimize::minimize(&obj, &y0, opts)?;
        optimize::finish(
            &min,
            opts,
            data.total_weight,
            |th| obj.ll_and_grad([th[0], th[1], th[2], th[3]]).0,
            &[("r", true), ("alpha", true), ("s", true), ("beta", true)],
            |v| ParetoNbd {
                r: v[0],
                alpha: v[1],
                s: v[2],
                beta: v[3],
            },
        )
    }

    /// ln of the two terms of the bracket of the likelihood: (alive at T, died in
    /// (tₓ, T]), the second as ln(s I).
    fn ln_terms(&self, x: u32, tx: f64, t: f64) -> (f64, f64, Integral) {
        let (r, alpha, s, beta) = (self.r, self.alpha, self.s, self.beta);
        let k = r + f64::from(x);
        let alive = -k * (alpha + t).ln() - s * (beta + t).ln();
        let integral = dropout_integral(k, alpha, s + 1.0, beta, tx, t);
        (alive, s.ln() + integral.ln, integral)
    }

    /// ln A₀ of Fader & Hardie's closed form, with ₂F₁ (for tests and comparison).
    #[cfg(test)]
    pub(crate) fn ln_a0_closed_form(&self, x: u32, tx: f64, t: f64) -> f64 {
        use super::special::{hyp2f1, log_sub_exp};
        let (r, alpha, s, beta) = (self.r, self.alpha, self.s, self.beta);
        let xf = f64::from(x);
        let a = r + s + xf;
        let (big, b2) = if alpha >= beta {
            (alpha, s + 1.0)
        } else {
            (beta, r + xf)
        };
        let diff = (alpha - beta).abs();
        // ln ₂F₁(a, b2; a + 1; z) via Euler: (1 − z)^(1 − b2) ₂F₁(1, a + 1 − b2; a + 1; z).
        let ln_f = |tau: f64| {
            let z = diff / (big + tau);
            (1.0 - b2) * (-z).ln_1p() + hyp2f1(1.0, a + 1.0 - b2, a + 1.0, z).ln()
        };
        let p1 = ln_f(tx) - a * (big + tx).ln();
        let p2 = ln_f(t) - a * (big + t).ln();
        log_sub_exp(p1, p2)
    }
}

impl PurchaseModel for ParetoNbd {
    fn name(&self) -> &'static str {
        "pareto-nbd"
    }
    fn params(&self) -> Vec<(&'static str, f64)> {
        vec![
            ("r", self.r),
            ("alpha", self.alpha),
            ("s", self.s),
            ("beta", self.beta),
        ]
    }
    fn customer_log_likelihood(&self, x: u32, recency: f64, t: f64) -> Result<f64, ModelError> {
        check_history(x, recency, t)?;
        let (r, alpha, s, beta) = (self.r, self.alpha, self.s, self.beta);
        let xf = f64::from(x);
        let (l1, l2, _) = self.ln_terms(x, recency, t);
        let ll =
            ln_gamma(r + xf) - ln_gamma(r) + r * alpha.ln() + s * beta.ln() + log_add_exp(l1, l2);
        finite("log-likelihood", ll)
    }
    fn p_alive(&self, x: u32, recency: f64, t: f64) -> Result<f64, ModelError> {
        check_history(x, recency, t)?;
        let (l1, l2, _) = self.ln_terms(x, recency, t);
        finite("P(alive)", (l1 - log_add_exp(l1, l2)).exp())
    }
    fn expected_purchases_if_alive(&self, x: u32, t: f64, horizon: f64) -> Result<f64, ModelError> {
        check_horizon(horizon)?;
        check_horizon(t)?;
        let (r, alpha, s, beta) = (self.r, self.alpha, self.s, self.beta);
        let l = ((beta + t + horizon) / (beta + t)).ln();
        let v = (r + f64::from(x)) * (beta + t) / (alpha + t) * one_minus_exp_over(s - 1.0, l);
        finite("expected purchases", v)
    }
    fn expected_purchases_new(&self, t: f64) -> Result<f64, ModelError> {
        check_horizon(t)?;
        let (r, alpha, s, beta) = (self.r, self.alpha, self.s, self.beta);
        let l = (t / beta).ln_1p();
        finite(
            "expected purchases",
            r * beta / alpha * one_minus_exp_over(s - 1.0, l),
        )
    }
    fn probability_of_purchases(&self, n: u32, t: f64) -> Result<f64, ModelError> {
        check_horizon(t)?;
        if t == 0.0 {
            return Ok(if n == 0 { 1.0 } else { 0.0 });
        }
        let (r, alpha, s, beta) = (self.r, self.alpha, self.s, self.beta);
        let nf = f64::from(n);
        let k = r + nf;
        let ln_coef = ln_gamma(k) - ln_gamma(r) - ln_gamma(nf + 1.0);
        let alive = ln_coef
            + r * (alpha / (alpha + t)).ln()
            + nf * (t / (alpha + t)).ln()
            + s * (beta / (beta + t)).ln();
        let died = s.ln()
            + s * beta.ln()
            + r * alpha.ln()
            + ln_coef
            + ln_count_integral(n, k, alpha, s + 1.0, beta, t);
        finite("P(X(t) = n)", log_add_exp(alive, died).exp()).map(|p| p.clamp(0.0, 1.0))
    }
}

/// The mean negative log-likelihood of the Pareto/NBD over log-parameters.
pub(crate) struct ParetoObjective<'a> {
    pub data: &'a CountData,
    pub penalizer: f64,
}

impl ParetoObjective<'_> {
    /// Full log-likelihood and its gradient with respect to (r, α, s, β).
    pub(crate) fn ll_and_grad(&self, th: [f64; 4]) -> (f64, [f64; 4]) {
        let [r, alpha, s, beta] = th;
        let d = self.data;
        let (ln_alpha, ln_beta, ln_s) = (alpha.ln(), beta.ln(), s.ln());
        let (lg_r, psi_r) = (ln_gamma(r), digamma(r));
        let mut ll = 0.0;
        let mut g = [0.0; 4];
        for &(x, lo, hi) in &d.groups {
            let xf = f64::from(x);
            let k = r + xf;
            let (mut wsum, mut s_ll) = (0.0, 0.0);
            let mut sg = [0.0; 4];
            for i in lo..hi {
                let w = d.w[i];
                let t = d.t_vals[d.t_idx[i] as usize];
                let tx = d.tx_vals[d.tx_idx[i] as usize];
                let (lat, lbt) = ((alpha + t).ln(), (beta + t).ln());
                let l1 = -k * lat - s * lbt;
                let int = dropout_integral(k, alpha, s + 1.0, beta, tx, t);
                let l2 = ln_s + int.ln;
                let lse = log_add_exp(l1, l2);
                let p = (l2 - lse).exp();
                let q = 1.0 - p;
                wsum += w;
                s_ll += w * lse;
                sg[0] += w * (q * -lat + p * int.dln[0]);
                sg[1] += w * (q * -k / (alpha + t) + p * int.dln[1]);
                sg[2] += w * (q * -lbt + p * (1.0 / s + int.dln[2]));
                sg[3] += w * (q * -s / (beta + t) + p * int.dln[3]);
            }
            ll += wsum * (ln_gamma(k) - lg_r + r * ln_alpha + s * ln_beta) + s_ll;
            g[0] += wsum * (digamma(k) - psi_r + ln_alpha) + sg[0];
            g[1] += wsum * r / alpha + sg[1];
            g[2] += wsum * ln_beta + sg[2];
            g[3] += wsum * s / beta + sg[3];
        }
        (ll, g)
    }
}

impl Objective for ParetoObjective<'_> {
    fn dim(&self) -> usize {
        4
    }
    fn eval(&self, y: &[f64], grad: &mut [f64]) -> f64 {
        let th = [y[0].exp(), y[1].exp(), y[2].exp(), y[3].exp()];
        let (ll, g) = self.ll_and_grad(th);
        let n = self.data.total_weight;
        let mut f = -ll / n;
        for i in 0..4 {
            f += self.penalizer * th[i] * th[i];
            grad[i] = th[i] * (-g[i] / n + 2.0 * self.penalizer * th[i]);
        }
        f
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data() -> CountData {
        CountData::new(
            &[0, 1, 2, 0, 5, 1, 3, 12],
            &[0.0, 3.5, 10.0, 0.0, 30.0, 1.0, 20.0, 38.9],
            &[12.0, 20.0, 30.0, 38.0, 39.0, 5.0, 25.0, 39.0],
        )
        .expect("valid")
    }

    #[test]
    fn integral_matches_the_hypergeometric_closed_form() {
        // α > β, α < β, α = β, and extreme ratios where the ₂F₁ argument is near 1.
        let cases = [
            (0.55, 10.6, 0.61, 11.7),
            (0.55, 11.7, 0.61, 10.6),
            (1.2, 5.0, 0.8, 5.0),
            (0.3, 1000.0, 0.4, 0.01),
            (0.3, 0.01, 0.4, 1000.0),
            (2.5, 3.0, 1.0, 2.0),
        ];
        for (r, alpha, s, beta) in cases {
            let m = ParetoNbd::new(r, alpha, s, beta).expect("valid");
            for (x, tx, t) in [
                (0, 0.0, 30.0),
                (3, 10.0, 39.0),
                (20, 1.0, 300.0),
                (1, 0.5, 0.6),
            ] {
                let k = r + f64::from(x);
                let int = dropout_integral(k, alpha, s + 1.0, beta, tx, t);
                // A₀ = (r + s + x) I. The closed form itself loses digits to the
                // difference of two ₂F₁ near z = 1, hence 10⁻¹⁰ here and the mpmath
                // check below.
                let closed = m.ln_a0_closed_form(x, tx, t) - (r + s + f64::from(x)).ln();
                assert!(
                    (int.ln - closed).abs() < 1e-10 * closed.abs().max(1.0),
                    "{r} {alpha} {s} {beta} x={x}: {} vs {closed}",
                    int.ln
                );
            }
        }
    }

    #[test]
    fn integral_matches_mpmath_quadrature() {
        // (r, α, s, β, x, tₓ, T, ln I) from mpmath (its hyp2f1 closed form at 50 digits).
        let cases = [
            (
                0.3,
                1000.0,
                0.4,
                0.01,
                0,
                0.0,
                30.0,
                0.644_282_236_475_822_99,
            ),
            (
                0.3,
                1000.0,
                0.4,
                0.01,
                20,
                1.0,
                300.0,
                -139.670_318_468_072_95,
            ),
            (
                0.3,
                0.01,
                0.4,
                1000.0,
                0,
                0.0,
                30.0,
                -6.953_909_892_183_560_3,
            ),
            (
                0.3,
                0.01,
                0.4,
                1000.0,
                20,
                1.0,
                300.0,
                -12.824_480_355_163_273,
            ),
            (0.55, 10.6, 0.61, 11.7, 0, 0.0, 30.0, -3.226_581_801_568_527),
            (
                0.55,
                10.6,
                0.61,
                11.7,
                20,
                1.0,
                300.0,
                -55.054_906_544_497_72,
            ),
        ];
        for (r, alpha, s, beta, x, tx, t, want) in cases {
            let k = r + f64::from(x);
            let got = dropout_integral(k, alpha, s + 1.0, beta, tx, t).ln;
            assert!(
                (got - want).abs() < 1e-13 * want.abs().max(1.0),
                "{got} vs {want}"
            );
        }
    }

    #[test]
    fn gradient_matches_finite_differences() {
        let d = data();
        for penalizer in [0.0, 0.05] {
            let obj = ParetoObjective {
                data: &d,
                penalizer,
            };
            for y in [
                [-0.6, 2.3, -0.5, 2.4],
                [0.3, 0.2, 1.1, -0.5],
                [-1.0, 4.0, -2.0, -3.0],
            ] {
                let err = optimize::gradient_check(&obj, &y);
                assert!(err < 1e-6, "{y:?}: {err}");
            }
        }
    }

    #[test]
    fn fast_likelihood_equals_the_per_customer_formula() {
        let d = data();
        let m = ParetoNbd::new(0.55, 10.6, 0.61, 11.7).expect("valid");
        let slow: f64 = d
            .iter()
            .map(|(x, tx, t, w)| w * m.customer_log_likelihood(x, tx, t).expect("finite"))
            .sum();
        let obj = ParetoObjective {
            data: &d,
            penalizer: 0.0,
        };
        let (fast, _) = obj.ll_and_grad([0.55, 10.6, 0.61, 11.7]);
        assert!((fast - slow).abs() < 1e-12 * slow.abs());
    }

    #[test]
    fn count_probabilities_sum_to_one_and_match_the_mean() {
        let m = ParetoNbd::new(0.55, 10.6, 0.61, 11.7).expect("valid");
        let t = 39.0;
        let probs: Vec<f64> = (0..200)
            .map(|n| m.probability_of_purchases(n, t).expect("p"))
            .collect();
        let total: f64 = probs.iter().sum();
        let mean: f64 = probs.iter().enumerate().map(|(n, p)| n as f64 * p).sum();
        assert!((total - 1.0).abs() < 1e-10, "{total}");
        let want = m.expected_purchases_new(t).expect("mean");
        assert!((mean - want).abs() < 1e-9 * want, "{mean} {want}");
    }
}
