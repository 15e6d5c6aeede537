//! The MBG/NBD model (Batislam, Denizel & Filiztekin 2007, "Empirical validation and
//! comparison of models for customer base analysis", IJRM 24(3)).
//!
//! As BG/NBD, but a customer can also drop out right after the *first* purchase: the
//! dropout coin is tossed after every purchase. Non-repeaters are therefore not certainly
//! alive.
//!
//! # Formulas
//!
//! - Likelihood: L = B(a, b + x + 1)/B(a, b) · Γ(r + x) αʳ / (Γ(r) (α + T)^(r+x))
//!   \+ B(a + 1, b + x)/B(a, b) · Γ(r + x) αʳ / (Γ(r) (α + tₓ)^(r+x)), for every x
//!   (`lifetimes`' `ModifiedBetaGeoFitter`).
//! - P(alive) = 1 / (1 + a/(b + x) ((α + T)/(α + tₓ))^(r+x)).
//! - E[X(t)] = b/(a − 1) · [1 − (α/(α + t))ʳ ₂F₁(r, b + 1; a + b; t/(α + t))].
//! - E[Y(t) | x, tₓ, T] = (a + b + x)/(a − 1) · [1 − ((α + T)/(α + T + t))^(r+x)
//!   ₂F₁(r + x, b + x + 1; a + b + x; t/(α + T + t))] · P(alive).
//! - P(X(t) = n) = B(a, b + n + 1)/B(a, b) NBD(n) + B(a + 1, b + n)/B(a, b)
//!   (1 − Σ_{j<n} NBD(j)), NBD(j) = Γ(r + j)/(Γ(r) j!) (α/(α + t))ʳ (t/(α + t))ʲ.
//!
//! The expectations share the BG/NBD evaluation (see [`super::bg_nbd`], "Long
//! horizons"): finite and non-decreasing in t up to
//! [`MAX_TIME_UNITS`](super::MAX_TIME_UNITS), else [`ModelError::CannotExtrapolate`].
//!
//! ```
//! use solocrm_models::{MbgNbd, PurchaseModel};
//! // 263 repeat purchases, 40 years ahead in weeks: 2266.99 if alive (mpmath).
//! let m = MbgNbd::new(0.21529, 1.020125, 0.424164, 13.711726)?;
//! let e = m.expected_purchases_if_alive(263, 100.0, 480.0 * 4.345)?;
//! assert!((e - 2_266.988_062_154_862).abs() < 1e-8 * e);
//! # Ok::<(), solocrm_models::ModelError>(())
//! ```

use serde::{Deserialize, Serialize};

use super::bg_nbd::{Family, Variant, fit_family};
use super::optimize::FitOptions;
use super::summary::CountData;
use super::{Fitted, ModelError, PurchaseModel, positive};

/// MBG/NBD parameters: purchase-rate shape r and rate α, dropout Beta(a, b).
///
/// Deserialising checks the parameters like [`MbgNbd::new`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "MbgNbdRepr", into = "MbgNbdRepr")]
pub struct MbgNbd {
    r: f64,
    alpha: f64,
    a: f64,
    b: f64,
}

/// The serialised form of [`MbgNbd`].
#[derive(Serialize, Deserialize)]
struct MbgNbdRepr {
    r: f64,
    alpha: f64,
    a: f64,
    b: f64,
}

impl TryFrom<MbgNbdRepr> for MbgNbd {
    type Error = ModelError;
    fn try_from(r: MbgNbdRepr) -> Result<Self, ModelError> {
        MbgNbd::new(r.r, r.alpha, r.a, r.b)
    }
}

impl From<MbgNbd> for MbgNbdRepr {
    fn from(m: MbgNbd) -> Self {
        MbgNbdRepr {
            r: m.r,
            alpha: m.alpha,
            a: m.a,
            b: m.b,
        }
    }
}

impl MbgNbd {
    /// A model with the given parameters.
    ///
    /// # Errors
    ///
    /// [`ModelError::InvalidParameter`] unless every parameter is positive and finite.
    pub fn new(r: f64, alpha: f64, a: f64, b: f64) -> Result<Self, ModelError> {
        Ok(MbgNbd {
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
    /// As [`BgNbd::fit`](super::BgNbd::fit).
    pub fn fit(data: &CountData, opts: &FitOptions) -> Result<Fitted<MbgNbd>, ModelError> {
        fit_family(data, opts, Variant::Mbg, |v| MbgNbd {
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
            variant: Variant::Mbg,
        }
    }
}

impl PurchaseModel for MbgNbd {
    fn name(&self) -> &'static str {
        "mbg-nbd"
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
