//! The BG/NBD model (Fader, Hardie & Lee 2005, "Counting your customers the easy way").
//!
//! While alive a customer buys at Poisson rate λ, λ ~ Gamma(r, α) (shape r, rate α);
//! after each *repeat* purchase they drop out with probability p, p ~ Beta(a, b).
//!
//! # Formulas (equation numbers of FHL 2005)
//!
//! - Likelihood (eq. 6), per customer with history (x, tₓ, T):
//!   L = B(a, b + x)/B(a, b) · Γ(r + x) αʳ / (Γ(r) (α + T)^(r+x))
//!   \+ δ(x>0) B(a + 1, b + x − 1)/B(a, b) · Γ(r + x) αʳ / (Γ(r) (α + tₓ)^(r+x)),
//!   evaluated in logs as `lifetimes` does (A₁ + A₂ + ln(e^A₃ + δ e^A₄)).
//! - E[X(t)] for a new customer (eq. 9):
//!   (a + b − 1)/(a − 1) · [1 − (α/(α + t))ʳ ₂F₁(r, b; a + b − 1; t/(α + t))].
//! - P(X(t) = n) (eq. 8).
//! - E[Y(t) | x, tₓ, T], purchases in (T, T + t] (eq. 10):
//!   (a + b + x − 1)/(a − 1) · [1 − ((α + T)/(α + T + t))^(r+x)
//!   ₂F₁(r + x, b + x; a + b + x − 1; t/(α + T + t))] · P(alive).
//! - P(alive | x, tₓ, T) (FHL 2008 note "Computing P(alive) using the BG/NBD model"):
//!   1 / (1 + δ(x>0) a/(b + x − 1) ((α + T)/(α + tₓ))^(r+x)); it is 1 for x = 0.
//!
//! Where a formula divides by a − 1 and a is within 10⁻⁶ of 1, the prediction is the
//! mean of the values at 1 ± 10⁻⁶ (the function is smooth there; the error is ~10⁻¹²).
//!
//! # Long horizons
//!
//! The bracket 1 − (1 − z)^A ₂F₁(A, B; C; z) of E[X(t)] and E[Y(t)] is evaluated with
//! Euler's transformation when its ₂F₁ would grow like (1 − z)^(C − A − B) (for E[Y(t)]
//! whenever x > a − 1 − r), so that the ₂F₁ evaluated is bounded; see
//! `one_minus_power_hyp2f1` in the source. Written as published it overflowed, or
//! silently lost every digit, for customers with many purchases over long horizons.
//! Expected purchases are finite, non-negative and non-decreasing in t up to
//! [`MAX_TIME_UNITS`](super::MAX_TIME_UNITS) (about 10⁻¹² relative to mpmath, fewer
//! digits when a is within 10⁻⁴ of 1); a value that still cannot be computed, or falls
//! outside 0..=(r + x) t/(α + T) (the expectation without dropout), is
//! [`ModelError::CannotExtrapolate`].
//!
//! ```
//! use solocrm_models::{BgNbd, PurchaseModel};
//! // The demo database's fit (weeks) and its customer with 263 repeat purchases, 40
//! // years (480 months of 4.345 weeks) ahead: 2264.24 purchases if alive (mpmath).
//! let m = BgNbd::new(0.21529, 1.020125, 0.424164, 13.711726)?;
//! let e = m.expected_purchases_if_alive(263, 100.0, 480.0 * 4.345)?;
//! assert!((e - 2_264.241_265_080_249).abs() < 1e-8 * e);
//! // Monotone up to the longest horizon the models accept (300 years in days).
//! let far = m.expected_purchases_if_alive(263, 100.0, solocrm_models::MAX_TIME_UNITS)?;
//! assert!(far.is_finite() && far > e);
//! # Ok::<(), solocrm_models::ModelError>(())
//! ```

use serde::{Deserialize, Serialize};

use super::optimize::{self, FitOptions, Objective};
#[cfg(test)]
use super::special::hyp2f1;
use super::special::{
    digamma, hyp2f1_series_within, hyp2f1_short_steps, ln_beta, ln_gamma, log1p_exp,
};
use super::summary::CountData;
use super::{Fitted, ModelError, PurchaseModel, check_history, check_horizon, finite, positive};

/// BG/NBD parameters: purchase-rate shape r and rate α, dropout Beta(a, b).
///
/// Deserialising checks the parameters like [`BgNbd::new`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "BgNbdRepr", into = "BgNbdRepr")]
pub struct BgNbd {
    r: f64,
    alpha: f64,
    a: f64,
    b: f64,
}

/// The serialised form of [`BgNbd`].
#[derive(Serialize, Deserialize)]
struct BgNbdRepr {
    r: f64,
    alpha: f64,
    a: f64,
    b: f64,
}

impl TryFrom<BgNbdRepr> for BgNbd {
    type Error = ModelError;
    fn try_from(r: BgNbdRepr) -> Result<Self, ModelError> {
        BgNbd::new(r.r, r.alpha, r.a, r.b)
    }
}

impl From<BgNbd> for BgNbdRepr {
    fn from(m: BgNbd) -> Self {
        BgNbdRepr {
            r: m.r,
            alpha: m.alpha,
            a: m.a,
            b: m.b,
        }
    }
}

impl BgNbd {
    /// A model with the given parameters.
    ///
    /// # Errors
    ///
    /// [`ModelError::InvalidParameter`] unless every parameter is positive and finite.
    pub fn new(r: f64, alpha: f64, a: f64, b: f64) -> Result<Self, ModelError> {
        Ok(BgNbd {
            r: positive("r", r)?,
            alpha: positive("alpha", alpha)?,
            a: positive("a", a)?,
            b: positive("b", b)?,
        })
    }

    /// Shape r of the purchase-rate distribution.
    pub fn r(&self) -> f64 {
        self.r
    }
    /// Rate α of the purchase-rate distribution (in 1 / time unit).
    pub fn alpha(&self) -> f64 {
        self.alpha
    }
    /// Beta parameter a of the dropout probability.
    pub fn a(&self) -> f64 {
        self.a
    }
    /// Beta parameter b of the dropout probability.
    pub fn b(&self) -> f64 {
        self.b
    }

    /// Fits the model by maximum likelihood.
    ///
    /// # Errors
    ///
    /// [`ModelError::InvalidOption`] for bad options; [`ModelError::NonFinite`] if the
    /// likelihood cannot be evaluated at the start.
    pub fn fit(data: &CountData, opts: &FitOptions) -> Result<Fitted<BgNbd>, ModelError> {
        fit_family(data, opts, Variant::Bg, |v| BgNbd {
            r: v[0],
            alpha: v[1],
            a: v[2],
            b: v[3],
        })
    }

    /// The shared BG/MBG machinery with these parameters.
    pub(crate) fn as_family(&self) -> Family {
        Family {
            r: self.r,
            alpha: self.alpha,
            a: self.a,
            b: self.b,
            variant: Variant::Bg,
        }
    }
}

impl PurchaseModel for BgNbd {
    fn name(&self) -> &'static str {
        "bg-nbd"
    }
    fn params(&self) -> Vec<(&'static str, f64)> {
        vec![
            ("r", self.r),
            ("alpha", self.alpha),
            ("a", self.a),
            ("b", self.b),
        ]
    }
    fn customer_log_likelihood(&self, x: u32, recency: f64, t: f64) -> Result<f64, ModelError> {
        self.as_family().customer_ll(x, recency, t)
    }
    fn p_alive(&self, x: u32, recency: f64, t: f64) -> Result<f64, ModelError> {
        self.as_family().p_alive(x, recency, t)
    }
    fn expected_purchases_if_alive(&self, x: u32, t: f64, horizon: f64) -> Result<f64, ModelError> {
        self.as_family().expected_if_alive(x, t, horizon)
    }
    fn expected_purchases_new(&self, t: f64) -> Result<f64, ModelError> {
        self.as_family().expected_new(t)
    }
    fn probability_of_purchases(&self, n: u32, t: f64) -> Result<f64, ModelError> {
        self.as_family().probability(n, t)
    }
}

/// BG/NBD or MBG/NBD: they differ only in whether the first purchase can be followed
/// by dropout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Variant {
    /// BG/NBD: dropout after repeat purchases only.
    Bg,
    /// MBG/NBD: dropout after every purchase.
    Mbg,
}

impl Variant {
    /// The shift of x in the Beta terms: 0 for BG/NBD, 1 for MBG/NBD.
    fn shift(self) -> f64 {
        match self {
            Variant::Bg => 0.0,
            Variant::Mbg => 1.0,
        }
    }
    /// Whether a customer with this x has the "dropped out after the last purchase"
    /// likelihood term.
    fn has_dropout_term(self, x: u32) -> bool {
        self == Variant::Mbg || x > 0
    }
}

/// Parameters of either variant, with the shared formulas.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Family {
    pub r: f64,
    pub alpha: f64,
    pub a: f64,
    pub b: f64,
    pub variant: Variant,
}

impl Family {
    /// b + x − 1 (BG/NBD) or b + x (MBG/NBD): the denominator of the dropout term.
    fn bx(&self, x: u32) -> f64 {
        self.b + f64::from(x) - 1.0 + self.variant.shift()
    }

    pub(crate) fn customer_ll(&self, x: u32, tx: f64, t: f64) -> Result<f64, ModelError> {
        check_history(x, tx, t)?;
        let (r, alpha, a, b) = (self.r, self.alpha, self.a, self.b);
        let xf = f64::from(x);
        let xs = xf + self.variant.shift();
        let a1 = ln_gamma(r + xf) - ln_gamma(r) + r * alpha.ln();
        let a2 = ln_gamma(a + b) + ln_gamma(b + xs) - ln_gamma(b) - ln_gamma(a + b + xs);
        let a3 = -(r + xf) * (alpha + t).ln();
        let ll = if self.variant.has_dropout_term(x) {
            let a4 = a.ln() - self.bx(x).ln() - (r + xf) * (alpha + tx).ln();
            a1 + a2 + super::special::log_add_exp(a3, a4)
        } else {
            a1 + a2 + a3
        };
        finite("log-likelihood", ll)
    }

    pub(crate) fn p_alive(&self, x: u32, tx: f64, t: f64) -> Result<f64, ModelError> {
        check_history(x, tx, t)?;
        if !self.variant.has_dropout_term(x) {
            return Ok(1.0);
        }
        let xf = f64::from(x);
        let d = self.a.ln() - self.bx(x).ln()
            + (self.r + xf) * ((self.alpha + t).ln() - (self.alpha + tx).ln());
        // 1 / (1 + e^d).
        finite("P(alive)", (-log1p_exp(d)).exp())
    }

    /// Evaluates `f(a)`, or the mean of f(1 ± 10⁻⁶) when a is within 10⁻⁶ of 1.
    fn around_a_one(&self, f: impl Fn(f64) -> f64) -> f64 {
        const H: f64 = 1e-6;
        if (self.a - 1.0).abs() < H {
            0.5 * (f(1.0 - H) + f(1.0 + H))
        } else {
            f(self.a)
        }
    }

    /// E[Y(t) | alive at T]: the conditional expectation without the P(alive) factor;
    /// it depends on x and T only.
    pub(crate) fn expected_if_alive(
        &self,
        x: u32,
        t: f64,
        horizon: f64,
    ) -> Result<f64, ModelError> {
        check_horizon(horizon)?;
        if !(t.is_finite() && t >= 0.0) {
            return Err(ModelError::InvalidInput {
                reason: format!("T must be finite and ≥ 0, got {t}"),
            });
        }
        if horizon == 0.0 {
            return Ok(0.0);
        }
        let (r, alpha, b) = (self.r, self.alpha, self.b);
        let xf = f64::from(x);
        let sh = self.variant.shift();
        let z = horizon / (alpha + t + horizon);
        let ln_1mz = (alpha + t).ln() - (alpha + t + horizon).ln();
        let v = self.around_a_one(|a| {
            let c = a + b + xf - 1.0 + sh;
            c / (a - 1.0) * one_minus_power_hyp2f1(r + xf, b + xf + sh, c, z, ln_1mz)
        });
        // Without dropout an alive customer would buy (r + x) t / (α + T) on average.
        extrapolated(v, horizon, (r + xf) * horizon / (alpha + t))
    }

    /// The pre-2026-11 evaluation of [`Family::expected_if_alive`]: the published
    /// formula as written, (1 − z)^(r+x) times ₂F₁(r + x, b + x; a + b + x − 1; z). Its
    /// ₂F₁ grows like (1 − z)^(a − 1 − r − x) and overflows for long horizons; kept to
    /// check the new evaluation against where it is finite.
    #[cfg(test)]
    pub(crate) fn expected_if_alive_direct(&self, x: u32, t: f64, horizon: f64) -> f64 {
        let (r, alpha, b) = (self.r, self.alpha, self.b);
        let xf = f64::from(x);
        let sh = self.variant.shift();
        let z = horizon / (alpha + t + horizon);
        let ln_q = (r + xf) * ((alpha + t).ln() - (alpha + t + horizon).ln());
        self.around_a_one(|a| {
            let h = hyp2f1(r + xf, b + xf + sh, a + b + xf - 1.0 + sh, z);
            (a + b + xf - 1.0 + sh) / (a - 1.0) * (1.0 - ln_q.exp() * h)
        })
        .max(0.0)
    }

    pub(crate) fn expected_new(&self, t: f64) -> Result<f64, ModelError> {
        check_horizon(t)?;
        if t == 0.0 {
            return Ok(0.0);
        }
        let (r, alpha, b) = (self.r, self.alpha, self.b);
        let z = t / (alpha + t);
        let ln_1mz = alpha.ln() - (alpha + t).ln();
        let v = match self.variant {
            Variant::Bg => self.around_a_one(|a| {
                (a + b - 1.0) / (a - 1.0) * one_minus_power_hyp2f1(r, b, a + b - 1.0, z, ln_1mz)
            }),
            Variant::Mbg => self.around_a_one(|a| {
                b / (a - 1.0) * one_minus_power_hyp2f1(r, b + 1.0, a + b, z, ln_1mz)
            }),
        };
        extrapolated(v, t, r * t / alpha)
    }

    pub(crate) fn probability(&self, n: u32, t: f64) -> Result<f64, ModelError> {
        check_horizon(t)?;
        let (r, alpha, a, b) = (self.r, self.alpha, self.a, self.b);
        let nf = f64::from(n);
        let sh = self.variant.shift();
        if t == 0.0 {
            return Ok(if n == 0 { 1.0 } else { 0.0 });
        }
        let ln_p0 = alpha.ln() - (alpha + t).ln(); // ln(α/(α+t))
        let ln_p1 = t.ln() - (alpha + t).ln(); // ln(t/(α+t))
        let lb = ln_beta(a, b);
        // NBD(j) = Γ(r+j)/(Γ(r) j!) (α/(α+t))^r (t/(α+t))^j.
        let ln_nbd =
            |j: f64| ln_gamma(r + j) - ln_gamma(r) - ln_gamma(j + 1.0) + r * ln_p0 + j * ln_p1;
        let first = (ln_beta(a, b + nf + sh) - lb + ln_nbd(nf)).exp();
        let second = if self.variant.has_dropout_term(n) {
            // P(NBD ≥ n) = 1 − Σ_{j<n} NBD(j).
            let cdf: f64 = (0..n).map(|j| ln_nbd(f64::from(j)).exp()).sum();
            let tail = (1.0 - cdf).max(0.0);
            (ln_beta(a + 1.0, b + nf - 1.0 + sh) - lb).exp() * tail
        } else {
            0.0
        };
        finite("P(X(t) = n)", first + second).map(|p| p.clamp(0.0, 1.0))
    }
}

/// 1 − (1 − z)^A ₂F₁(A, B; C; z), the bracket of the BG/NBD and MBG/NBD expectations
/// (FHL 2005 eq. 9 and 10; Batislam et al. 2007), given z ∈ [0, 1) and ln(1 − z)
/// computed without cancellation.
///
/// # Method
///
/// Written as published, the ₂F₁ behaves like (1 − z)^(C − A − B) near z = 1. In the
/// conditional expectation C − A − B = a − 1 − r − x, so for a customer with many
/// purchases the ₂F₁ grows beyond 10³⁰⁸ long before (1 − z)^A could shrink it again: a
/// BG/NBD fit with r = 0.22, α = 1.0, a = 0.42, b = 13.7 and x = 263 overflowed at a
/// horizon of 40 years. When C − A − B ≤ 0 the product is therefore evaluated with
/// Euler's transformation (Abramowitz & Stegun 15.3.3, DLMF 15.8.1)
///
/// (1 − z)^A ₂F₁(A, B; C; z) = (1 − z)^(C − B) ₂F₁(C − A, C − B; C; z),
///
/// whose ₂F₁ has the parameter excess A + B − C ≥ 0 and so stays bounded (it tends to
/// Γ(C) Γ(A + B − C) / (Γ(A) Γ(B)) as z → 1, or grows only logarithmically when the
/// excess is 0). In the models C − B = a − 1, so the power is (1 − z)^(a − 1) and the
/// expectation grows like t^(1 − a) for a < 1 and tends to its limit for a > 1, as it
/// should. When C − A − B > 0 the published form is already bounded and is used
/// unchanged. Both forms are the same function; where the published one was finite
/// they agree to about 10⁻¹² relative.
///
/// # Edge cases
///
/// z = 0 gives 0. NaN comes back only when ₂F₁ itself fails (see
/// [`hyp2f1_short_steps`]); the callers turn it into [`ModelError::CannotExtrapolate`].
fn one_minus_power_hyp2f1(a: f64, b: f64, c: f64, z: f64, ln_1mz: f64) -> f64 {
    if z == 0.0 {
        return 0.0;
    }
    if c - a - b > 0.0 {
        1.0 - (a * ln_1mz).exp() * hyp2f1_short_steps(a, b, c, z)
    } else {
        // The series' terms fall like n^−(a+b−c+1) zⁿ: with a small excess a + b − c
        // they cannot reach 10⁻¹⁶ within SERIES_TERMS terms near z = 1.
        let g = (a + b - c >= SERIES_MIN_EXCESS)
            .then(|| hyp2f1_series_within(c - a, c - b, c, z, SERIES_TERMS))
            .flatten()
            .unwrap_or_else(|| hyp2f1_short_steps(c - a, c - b, c, z));
        1.0 - ((c - b) * ln_1mz).exp() * g
    }
}

/// How many terms of the Gauss series [`one_minus_power_hyp2f1`] sums before it falls
/// back to the continuation of [`hyp2f1_short_steps`].
const SERIES_TERMS: u32 = 200;
/// The smallest parameter excess for which [`one_minus_power_hyp2f1`] tries the series.
const SERIES_MIN_EXCESS: f64 = 6.0;

/// An expected number of purchases over `horizon`, or the error that says the model
/// cannot be extrapolated that far: a result that is not a finite number, or one outside
/// 0..=`upper` (the expectation without dropout, which bounds it) by more than rounding.
/// Slightly negative values from rounding near t = 0 become 0.
fn extrapolated(v: f64, horizon: f64, upper: f64) -> Result<f64, ModelError> {
    let slack = 1e-9 * upper.max(1.0);
    if v.is_finite() && v >= -slack && v <= upper + slack {
        Ok(v.clamp(0.0, upper.max(0.0)))
    } else {
        Err(ModelError::CannotExtrapolate { horizon })
    }
}

/// The mean negative log-likelihood of the BG/NBD family over log-parameters.
pub(crate) struct FamilyObjective<'a> {
    pub data: &'a CountData,
    pub penalizer: f64,
    pub variant: Variant,
}

impl FamilyObjective<'_> {
    /// Full log-likelihood and its gradient with respect to (r, α, a, b).
    pub(crate) fn ll_and_grad(&self, th: [f64; 4]) -> (f64, [f64; 4]) {
        let n = self.data.w.len();
        self.ll_and_grad_split(th, if n < PARALLEL_ROWS { n } else { n / 2 })
    }

    /// [`FamilyObjective::ll_and_grad`] with the rows from `mid` on (if any) computed
    /// on a second thread: the same numbers for every `mid`.
    fn ll_and_grad_split(&self, th: [f64; 4], mid: usize) -> (f64, [f64; 4]) {
        let [r, alpha, a, b] = th;
        let d = self.data;
        let sh = self.variant.shift();
        // Tables over distinct T and tₓ.
        let lt: Vec<(f64, f64)> = d
            .t_vals
            .iter()
            .map(|&v| ((alpha + v).ln(), 1.0 / (alpha + v)))
            .collect();
        let ltx: Vec<(f64, f64)> = d
            .tx_vals
            .iter()
            .map(|&v| ((alpha + v).ln(), 1.0 / (alpha + v)))
            .collect();
        let ln_a = a.ln();
        let n = d.w.len();
        let mid = mid.min(n);
        // From `mid` on, the rows' (ln(e^u + e^v), p) come from a second thread (or
        // from this one, after the first half, if the system refuses a thread: the same
        // numbers either way).
        let lt = &lt;
        let ltx = &ltx;
        let tail_rows = || {
            let mut out = vec![(0.0, 0.0); n - mid];
            for &(x, lo, hi) in &d.groups {
                if hi <= mid || !self.variant.has_dropout_term(x) {
                    continue;
                }
                let rx = r + f64::from(x);
                let c = ln_a - (b + f64::from(x) - 1.0 + sh).ln();
                for i in lo.max(mid)..hi {
                    let lnt = lt[d.t_idx[i] as usize].0;
                    let lntx = ltx[d.tx_idx[i] as usize].0;
                    out[i - mid] = dropout_row(-rx * lnt, c - rx * lntx);
                }
            }
            out
        };
        std::thread::scope(|scope| {
            let mut tail =
                (mid < n).then(|| std::thread::Builder::new().spawn_scoped(scope, tail_rows));
            let mut join = || match tail.take() {
                Some(Ok(h)) => h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)),
                Some(Err(_)) => tail_rows(),
                None => Vec::new(),
            };
            self.sum_groups(&th, lt, ltx, mid, &mut join)
        })
    }

    /// The sums of [`FamilyObjective::ll_and_grad`] over the groups in row order, given
    /// the tables of ln(α + T), 1/(α + T) and ln(α + tₓ), 1/(α + tₓ); rows from `mid` on
    /// take their (ln(e^u + e^v), p) from `tail()` (row `mid` first), called once when
    /// the first of them is reached.
    fn sum_groups(
        &self,
        th: &[f64; 4],
        lt: &[(f64, f64)],
        ltx: &[(f64, f64)],
        mid: usize,
        tail: &mut dyn FnMut() -> Vec<(f64, f64)>,
    ) -> (f64, [f64; 4]) {
        let [r, alpha, a, b] = *th;
        let d = self.data;
        let sh = self.variant.shift();
        let ln_alpha = alpha.ln();
        let (psi_r, psi_ab, psi_b, lg_r, lg_ab, lg_b) = (
            digamma(r),
            digamma(a + b),
            digamma(b),
            ln_gamma(r),
            ln_gamma(a + b),
            ln_gamma(b),
        );
        let ln_a = a.ln();
        let mut ll = 0.0;
        let mut g = [0.0; 4];
        let mut from_tail: Option<Vec<(f64, f64)>> = None;
        for &(x, lo, hi) in &d.groups {
            let xf = f64::from(x);
            let xs = xf + sh;
            let rx = r + xf;
            let k = lg_ab + ln_gamma(b + xs) - lg_b - ln_gamma(a + b + xs) + ln_gamma(rx) - lg_r
                + r * ln_alpha;
            let (mut wsum, mut s_ll, mut s_l, mut s_i, mut s_p) = (0.0, 0.0, 0.0, 0.0, 0.0);
            if self.variant.has_dropout_term(x) {
                let bx = b + xf - 1.0 + sh;
                let c = ln_a - bx.ln();
                for i in lo..hi {
                    let w = d.w[i];
                    let (lnt, it) = lt[d.t_idx[i] as usize];
                    let (lntx, itx) = ltx[d.tx_idx[i] as usize];
                    let (row, p) = if i < mid {
                        dropout_row(-rx * lnt, c - rx * lntx)
                    } else {
                        from_tail.get_or_insert_with(&mut *tail)[i - mid]
                    };
                    wsum += w;
                    s_ll += w * row;
                    s_l += w * (lnt + p * (lntx - lnt));
                    s_i += w * (it + p * (itx - it));
                    s_p += w * p;
                }
                g[2] += s_p / a;
                g[3] -= s_p / bx;
            } else {
                for i in lo..hi {
                    let w = d.w[i];
                    let (lnt, it) = lt[d.t_idx[i] as usize];
                    wsum += w;
                    s_l += w * lnt;
                    s_i += w * it;
                }
                s_ll = -rx * s_l;
            }
            ll += wsum * k + s_ll;
            g[0] += wsum * (digamma(rx) - psi_r + ln_alpha) - s_l;
            g[1] += wsum * r / alpha - rx * s_i;
            let psi_abx = digamma(a + b + xs);
            g[2] += wsum * (psi_ab - psi_abx);
            g[3] += wsum * (psi_ab + digamma(b + xs) - psi_b - psi_abx);
        }
        (ll, g)
    }
}

/// ln(e^u + e^v) and p = e^v / (e^u + e^v) of one row of the BG/NBD family's likelihood.
#[inline]
fn dropout_row(u: f64, v: f64) -> (f64, f64) {
    let (m, dlt) = if v > u { (v, u - v) } else { (u, v - u) };
    let e = dlt.exp();
    let row = m + e.ln_1p();
    let p = if v > u {
        1.0 / (1.0 + e)
    } else {
        e / (1.0 + e)
    };
    (row, p)
}

/// From this many distinct (x, tₓ, T) rows on, an evaluation of [`FamilyObjective`]
/// computes the second half's exponentials and logarithms on a second thread (about
/// 2 ms of work at this size, against tens of µs to start the thread).
const PARALLEL_ROWS: usize = 16_384;

impl Objective for FamilyObjective<'_> {
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

/// Result of a family fit: (LL, standard errors, converged, iterations).
/// Fits either variant by maximum likelihood; `make` builds the model from its
/// natural parameters (r, α, a, b).
pub(crate) fn fit_family<M>(
    data: &CountData,
    opts: &FitOptions,
    variant: Variant,
    make: impl Fn(&[f64]) -> M,
) -> Result<Fitted<M>, ModelError> {
    opts.check()?;
    data.check_identifiable()?;
    let obj = FamilyObjective {
        data,
        penalizer: opts.penalizer,
        variant,
    };
    let (mean_x, mean_t) = data.means();
    // Start: r = 1, α so that E[λ] = r/α matches the observed repeat rate, a = 1, b = 3.
    let rate = (mean_x.max(0.05)) / mean_t.max(1e-9);
    let y0 = [0.0, (1.0 / rate).ln(), 0.0, 3.0_f64.ln()];
    let min = optimize::minimize(&obj, &y0, opts)?;
    optimize::finish(
        &min,
        opts,
        data.total_weight,
        |th| obj.ll_and_grad([th[0], th[1], th[2], th[3]]).0,
        &[("r", true), ("alpha", true), ("a", true), ("b", true)],
        make,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data() -> CountData {
        CountData::new(
            &[0, 1, 2, 0, 5, 1, 3],
            &[0.0, 3.5, 10.0, 0.0, 30.0, 1.0, 20.0],
            &[12.0, 20.0, 30.0, 38.0, 39.0, 5.0, 25.0],
        )
        .expect("valid")
    }

    #[test]
    fn the_second_thread_changes_no_bit_of_the_likelihood() {
        let bg = BgNbd::new(0.243, 4.414, 0.793, 2.426).expect("valid");
        let s = crate::SimulatedCustomers::simulate_uniform_t(&bg, 3_000, 27.0, 39.0, 5);
        let d = CountData::new(&s.frequency, &s.recency, &s.t).expect("valid");
        let n = d.w.len();
        assert!(n > 1_000, "distinct rows: {n}");
        for variant in [Variant::Bg, Variant::Mbg] {
            let obj = FamilyObjective {
                data: &d,
                penalizer: 0.0,
                variant,
            };
            for th in [[0.243, 4.414, 0.793, 2.426], [2.0, 0.5, 5.0, 0.2]] {
                let one = obj.ll_and_grad_split(th, n);
                for mid in [0, 1, n / 3, n / 2, n - 1] {
                    assert_eq!(obj.ll_and_grad_split(th, mid), one, "{variant:?} {mid}");
                }
            }
        }
        // The default split of a large book.
        let s = crate::SimulatedCustomers::simulate_uniform_t(&bg, 40_000, 27.0, 39.0, 6);
        let d = CountData::new(&s.frequency, &s.recency, &s.t).expect("valid");
        assert!(d.w.len() >= PARALLEL_ROWS, "{}", d.w.len());
        let obj = FamilyObjective {
            data: &d,
            penalizer: 0.0,
            variant: Variant::Bg,
        };
        let th = [0.243, 4.414, 0.793, 2.426];
        assert_eq!(obj.ll_and_grad(th), obj.ll_and_grad_split(th, d.w.len()));
    }

    #[test]
    fn gradient_matches_finite_differences() {
        let d = data();
        for variant in [Variant::Bg, Variant::Mbg] {
            for penalizer in [0.0, 0.1] {
                let obj = FamilyObjective {
                    data: &d,
                    penalizer,
                    variant,
                };
                for y in [[-1.0, 1.5, -0.3, 0.8], [0.3, 0.2, 1.1, -0.5]] {
                    let err = optimize::gradient_check(&obj, &y);
                    assert!(err < 1e-6, "{variant:?} {y:?}: {err}");
                }
            }
        }
    }

    #[test]
    fn fast_likelihood_equals_the_per_customer_formula() {
        let d = data();
        for variant in [Variant::Bg, Variant::Mbg] {
            let fam = Family {
                r: 0.7,
                alpha: 3.0,
                a: 0.8,
                b: 2.5,
                variant,
            };
            let slow: f64 = d
                .iter()
                .map(|(x, tx, t, w)| w * fam.customer_ll(x, tx, t).expect("finite"))
                .sum();
            let obj = FamilyObjective {
                data: &d,
                penalizer: 0.0,
                variant,
            };
            let (fast, _) = obj.ll_and_grad([0.7, 3.0, 0.8, 2.5]);
            assert!((fast - slow).abs() < 1e-12 * slow.abs(), "{fast} {slow}");
        }
    }

    /// E[Y(t) | alive] = C/(a − 1) [1 − (1 − z)^A ₂F₁(A, B; C; z)] from mpmath at 50
    /// digits: (r, α, a, b, variant, x, T, t, value).
    // mpmath's digits, as printed.
    #[allow(
        clippy::type_complexity,
        clippy::excessive_precision,
        clippy::unreadable_literal
    )]
    const LONG: &[(f64, f64, f64, f64, Variant, u32, f64, f64, f64)] = &[
        (
            0.21529,
            1.020125,
            0.424164,
            13.711726,
            Variant::Bg,
            263,
            100.0,
            2085.6,
            2264.2412650802489749,
        ),
        (
            0.21529,
            1.020125,
            0.424164,
            13.711726,
            Variant::Bg,
            263,
            10.0,
            5214.0,
            15728.735400834145327,
        ),
        (
            0.21529,
            1.020125,
            0.424164,
            13.711726,
            Variant::Mbg,
            263,
            100.0,
            2085.6,
            2266.9880621548623411,
        ),
        (
            0.21529,
            1.020125,
            0.424164,
            13.711726,
            Variant::Bg,
            0,
            30.0,
            5214.0,
            19.08655495156306542,
        ),
        (
            0.21529,
            1.020125,
            0.424164,
            13.711726,
            Variant::Bg,
            17,
            60.0,
            109575.0,
            2776.4236269773938691,
        ),
        (
            0.243,
            4.414,
            0.793,
            2.426,
            Variant::Bg,
            2,
            30.0,
            109575.0,
            72.894950892990079315,
        ),
        (
            0.243,
            4.414,
            0.793,
            2.426,
            Variant::Mbg,
            40,
            30.0,
            52140.0,
            728.00493319882740401,
        ),
        (
            1.5,
            30.0,
            2.5,
            4.0,
            Variant::Bg,
            1000,
            200.0,
            109575.0,
            670.26868700661887819,
        ),
        (
            0.6,
            7.0,
            0.3,
            40.0,
            Variant::Mbg,
            5000,
            500.0,
            109575.0,
            302299.99549978273511,
        ),
        // Random parameters where the published form returned 0 or 783 times the value.
        (
            1.2616794484458946,
            2.278395617174122,
            0.028159108703927342,
            1423.5988724045612,
            Variant::Bg,
            1,
            464.15622181660456,
            69030.43102039743,
            333.3155596574761185,
        ),
        (
            17.685268536445076,
            0.11004361624863684,
            3.7111097862905744,
            845.6160041914749,
            Variant::Mbg,
            3,
            307.49760726746854,
            31569.22377166473,
            302.4221808621751546,
        ),
        (
            0.11543333836645156,
            0.4775731741985399,
            0.04012586768348284,
            0.025968091381827894,
            Variant::Bg,
            3000,
            413.5047524093251,
            105560.91481633321,
            637356.56289144643262,
        ),
        (
            8.89436900029725,
            0.8222976233147155,
            4.704102440730077,
            127.92631449764528,
            Variant::Bg,
            3,
            218.05905800751296,
            3552.439194119589,
            34.658980024729338107,
        ),
    ];

    #[test]
    fn long_horizon_expectations_match_mpmath() {
        for &(r, alpha, a, b, variant, x, t, h, want) in LONG {
            let f = Family {
                r,
                alpha,
                a,
                b,
                variant,
            };
            let got = f.expected_if_alive(x, t, h).expect("finite");
            assert!(
                ((got - want) / want).abs() < 1e-10,
                "{variant:?} x = {x}, T = {t}, t = {h}: {got}, want {want}"
            );
        }
    }

    #[test]
    fn the_demo_fit_extrapolates_a_heavy_buyer_for_forty_years() {
        // The demo database's BG/NBD fit (weeks) and its customer with 263 repeat
        // purchases: the published form's ₂F₁ overflowed from about 40 years on and gave
        // 0 (clamped from garbage) already at 10 years.
        let f = Family {
            r: 0.21529,
            alpha: 1.020125,
            a: 0.424164,
            b: 13.711726,
            variant: Variant::Bg,
        };
        let h = 480.0 * 4.345;
        assert!(!f.expected_if_alive_direct(263, 100.0, h).is_normal());
        let v = f.expected_if_alive(263, 100.0, h).expect("finite");
        assert!((v - 2_264.241_265_080_249).abs() < 1e-8 * v, "{v}");
    }

    #[test]
    fn a_result_out_of_bounds_is_an_honest_error() {
        assert!(extrapolated(f64::NAN, 10.0, 5.0).is_err());
        assert!(extrapolated(6.0, 10.0, 5.0).is_err());
        assert!(extrapolated(-1.0, 10.0, 5.0).is_err());
        let e = extrapolated(f64::INFINITY, 2085.6, 5.0).expect_err("infinite");
        assert!(e.to_string().contains("cannot extrapolate 2085.6"), "{e}");
        assert_eq!(extrapolated(-1e-12, 10.0, 5.0), Ok(0.0));
    }

    fn family() -> impl Strategy<Value = Family> {
        (
            0.01_f64..30.0,
            0.01_f64..2000.0,
            0.01_f64..30.0,
            0.01_f64..2000.0,
            any::<bool>(),
        )
            .prop_map(|(r, alpha, a, b, m)| Family {
                r,
                alpha,
                a,
                b,
                variant: if m { Variant::Mbg } else { Variant::Bg },
            })
    }

    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]
        #[test]
        fn expectations_are_finite_and_non_decreasing_up_to_the_maximum(
            f in family(),
            x in prop_oneof![0_u32..20, 0_u32..3_000, 0_u32..100_000],
            t in prop_oneof![0.0_f64..600.0, 0.0_f64..=super::super::MAX_TIME_UNITS],
            mut hs in proptest::collection::vec(0.0_f64..=super::super::MAX_TIME_UNITS, 1..12),
        ) {
            hs.push(super::super::MAX_TIME_UNITS);
            hs.sort_by(f64::total_cmp);
            let mut prev = 0.0_f64;
            for &h in &hs {
                let v = f.expected_if_alive(x, t, h);
                prop_assert!(v.is_ok(), "{f:?} x = {x} T = {t} t = {h}: {v:?}");
                let v = v.unwrap_or_default();
                prop_assert!(v.is_finite() && v >= 0.0);
                prop_assert!(v >= prev * (1.0 - 1e-12), "{f:?} x = {x} T = {t}: {prev} then {v} at {h}");
                let old = f.expected_if_alive_direct(x, t, h);
                // The published form where it was right: finite, positive, and from
                // moderate ₂F₁ parameters (larger ones lost digits in its continuation).
                // Near a = 1 both forms divide a difference of nearly equal numbers by
                // a − 1 and lose about log10(1/|a − 1|) digits (the new one fewer: at
                // a = 1 − 1.7e-5 it is 6e-11 from mpmath, the old one 1e-9).
                let tol = 1e-9 / (1e4 * (f.a - 1.0).abs()).min(1.0);
                if old.is_finite() && old > 1e-6 && f.r + f64::from(x) + f.b < 60.0 {
                    prop_assert!(((v - old) / old).abs() < tol, "{f:?} x = {x} T = {t} t = {h}: {v} vs {old}");
                }
                prev = v;
            }
            let mut prev = 0.0_f64;
            for &h in &hs {
                let v = f.expected_new(h);
                prop_assert!(v.is_ok(), "{f:?} new, t = {h}: {v:?}");
                let v = v.unwrap_or_default();
                prop_assert!(v >= prev * (1.0 - 1e-12));
                prev = v;
            }
        }
    }
}
