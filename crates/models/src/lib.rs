//! # solocrm-models
//!
//! Probabilistic customer-base models: who is still a customer, how much they will buy,
//! and what they are worth.
//!
//! The "buy till you die" family, fitted by maximum likelihood and matching Python's
//! `lifetimes` 0.11.3:
//!
//! | model | parameters | purchases while alive | dropout | module |
//! | --- | --- | --- | --- | --- |
//! | BG/NBD | r, α, a, b | Poisson(λ), λ ~ Gamma(r, α) | after each *repeat* purchase with p ~ Beta(a, b) | [`bg_nbd`] |
//! | MBG/NBD | r, α, a, b | as BG/NBD | after *every* purchase, the first included | [`mbg_nbd`] |
//! | Pareto/NBD | r, α, s, β | as BG/NBD | at an Exp(μ) time, μ ~ Gamma(s, β) | [`pareto_nbd`] |
//! | Gamma-Gamma | p, q, γ | spend per purchase ~ Gamma(p, ν), ν ~ Gamma(q, γ) | — | [`gamma_gamma`] |
//!
//! (Gamma(shape, rate) throughout.) The sources: Fader, Hardie & Lee (2005), "Counting
//! your customers the easy way: an alternative to the Pareto/NBD model", *Marketing
//! Science* 24(2) — BG/NBD; Batislam, Denizel & Filiztekin (2007), "Empirical validation
//! and comparison of models for customer base analysis", *IJRM* 24(3) — MBG/NBD;
//! Schmittlein, Morrison & Colombo (1987), "Counting your customers: who are they and
//! what will they do next?", *Management Science* 33(1), with Fader & Hardie's notes "A
//! note on deriving the Pareto/NBD model and related expressions" (2005) — Pareto/NBD;
//! Fader, Hardie & Lee (2005), "RFM and CLV: using iso-value curves for customer base
//! analysis", *JMR* 42(4), with Fader & Hardie's note "The Gamma-Gamma model of monetary
//! value" (2013) — Gamma-Gamma.
//!
//! # Workflow
//!
//! 1. [`CustomerSummary::from_log`] (or [`CustomerSummary::from_purchases`]) turns
//!    purchases into frequency, recency, T and monetary value under the convention
//!    documented in [`summary`]; purchases after the calibration end are held out.
//! 2. [`CustomerSummary::count_data`] collapses identical (x, tₓ, T) into weighted rows;
//!    [`BgNbd::fit`], [`MbgNbd::fit`] or [`ParetoNbd::fit`] estimate the parameters.
//! 3. [`CustomerSummary::spend_data`] and [`GammaGamma::fit`] estimate the spend model.
//! 4. [`PurchaseModel`] predicts, per customer: P(alive), expected purchases in
//!    (T, T + t]; for a new customer: E[X(t)] and P(X(t) = n); and [`clv()`] values a
//!    customer over a horizon.
//! 5. On a small book, [`guarded_clv`] does steps 2–4 with the checks, the penaliser,
//!    the historic fallback and the per-customer bound of [`guard`], and never fails
//!    for too little data.
//!
//! # Numbers
//!
//! Model parameters, likelihoods and predictions are `f64`: they are statistical
//! estimates, not money, and nothing is ever booked from them. Money enters exactly —
//! the summary adds amounts in integer minor units — and is converted to `f64` major
//! units (÷ 10^digits) once, for the monetary value; the CLV comes back as `f64` in major
//! units, and [`clv_money`] rounds it to a [`Money`](solocrm_core::Money) for display. Bad
//! input is a typed [`ModelError`], never a NaN and never a panic.
//!
//! # Fitting
//!
//! Each fitter maximises the log-likelihood on the log-parameters (so that every
//! parameter stays positive) with BFGS and analytic gradients, followed by a Newton
//! polish on a finite-difference Hessian of the analytic gradient ([`optimize`]). The
//! reported log-likelihood is the full sum over customers on the published scale (the
//! scale of the papers and of `lifetimes`' `_negative_log_likelihood` × −n). Standard
//! errors come from the inverse Hessian where it is positive definite.

#![deny(missing_docs)]

pub mod bg_nbd;
pub mod clv;
pub mod gamma_gamma;
pub mod guard;
pub mod mbg_nbd;
pub mod optimize;
pub mod pareto_nbd;
pub mod predict;
pub mod simulate;
pub mod special;
pub mod summary;

use serde::{Deserialize, Serialize};
use thiserror::Error;

pub use bg_nbd::BgNbd;
pub use clv::{ClvOptions, clv, clv_money};
pub use gamma_gamma::GammaGamma;
pub use guard::{
    CustomerValue, GuardOptions, GuardedClv, ValueMethod, calibration_length, guarded_clv,
};
pub use mbg_nbd::MbgNbd;
pub use optimize::FitOptions;
pub use pareto_nbd::ParetoNbd;
pub use predict::{Predictions, predict};
pub use simulate::{Rng, Simulate, SimulatedCustomers, simulate_purchase_log};
pub use summary::{CountData, CustomerSummary, SpendData, SummaryOptions};

/// Why a model could not be fitted or evaluated.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum ModelError {
    /// There is no customer to fit.
    #[error("no customers to fit")]
    EmptyData,
    /// The input data are malformed.
    #[error("invalid input: {reason}")]
    InvalidInput {
        /// What is wrong.
        reason: String,
    },
    /// A model parameter is not a positive finite number.
    #[error("parameter {name} = {value} must be a positive finite number")]
    InvalidParameter {
        /// The parameter, e.g. `"alpha"`.
        name: &'static str,
        /// The rejected value.
        value: f64,
    },
    /// An option is out of range.
    #[error("option {name} {reason}")]
    InvalidOption {
        /// The option, e.g. `"penalizer"`.
        name: &'static str,
        /// What is wrong.
        reason: &'static str,
    },
    /// The Gamma-Gamma model needs repeat customers with positive mean spend.
    #[error("no repeat customer with a positive mean spend ({excluded} repeat customers had none)")]
    NoRepeatCustomers {
        /// Repeat customers left out for a non-positive mean spend.
        excluded: usize,
    },
    /// A computation did not give a finite number.
    #[error("{what} is not a finite number")]
    NonFinite {
        /// What was being computed.
        what: &'static str,
    },
    /// The data cannot identify the model: fitting would run a parameter to the edge
    /// of its range and call that an estimate.
    #[error("the data cannot identify the model: {reason}")]
    DegenerateData {
        /// What is missing from the data.
        reason: &'static str,
    },
    /// A prediction over this horizon loses its precision (a special function does not
    /// give a finite number); a shorter horizon may work.
    #[error(
        "the model cannot extrapolate {horizon} time units ahead from this data; use a shorter horizon"
    )]
    CannotExtrapolate {
        /// The horizon asked for, in the model's time unit.
        horizon: f64,
    },
    /// The prediction is undefined for these parameters.
    #[error("{what} is undefined: {reason}")]
    Undefined {
        /// The quantity.
        what: &'static str,
        /// Why.
        reason: &'static str,
    },
}

/// The time unit of recency, T and prediction horizons.
///
/// A summary counts whole days between dates; in weeks those are days / 7. Rate-like
/// parameters scale with the unit (α and β are 7 times larger in days than in weeks);
/// shape parameters (r, a, b, s) do not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TimeUnit {
    /// Days.
    Day,
    /// Weeks of 7 days.
    Week,
}

impl TimeUnit {
    /// Days per unit: 1 or 7.
    pub fn days(self) -> f64 {
        match self {
            TimeUnit::Day => 1.0,
            TimeUnit::Week => 7.0,
        }
    }

    /// A number of days in this unit.
    pub fn from_days(self, days: f64) -> f64 {
        match self {
            TimeUnit::Day => days,
            TimeUnit::Week => days / 7.0,
        }
    }

    /// Units per month for the CLV's monthly steps: 30 days, or 4.345 weeks (the
    /// constants of `lifetimes`).
    pub fn per_month(self) -> f64 {
        match self {
            TimeUnit::Day => 30.0,
            TimeUnit::Week => 4.345,
        }
    }

    /// `"day"` or `"week"`.
    pub fn as_str(self) -> &'static str {
        match self {
            TimeUnit::Day => "day",
            TimeUnit::Week => "week",
        }
    }
}

/// The outcome of a maximum-likelihood fit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fitted<M> {
    /// The fitted model.
    pub model: M,
    /// Standard errors of the parameters (in the model's own fields), from the inverse
    /// Hessian; `None` where the Hessian was not positive definite, or where they were
    /// not asked for
    /// ([`FitOptions::standard_errors`](crate::FitOptions::standard_errors) false, as
    /// [`guarded_clv`] fits).
    pub standard_errors: Option<M>,
    /// The log-likelihood at the estimate: the full sum over customers, without the
    /// penalty.
    pub log_likelihood: f64,
    /// True if the gradient criterion of [`FitOptions`] was met.
    pub converged: bool,
    /// BFGS iterations used.
    pub iterations: u32,
    /// Customers in the fit (the sum of the weights).
    pub customers: f64,
    /// Customers left out of the fit: for Gamma-Gamma, repeat customers whose mean
    /// spend was not positive; 0 for the count models.
    pub excluded: usize,
    /// Why the estimate is not a proper maximum, when a parameter ran to the edge of
    /// its range (below 10⁻⁶ or above 10⁶: the data cannot pin it down). Then
    /// `converged` is false, whatever the gradient says.
    #[serde(default)]
    pub degenerate: Option<String>,
}

/// A fitted purchase-count model (BG/NBD, MBG/NBD or Pareto/NBD): its predictions.
///
/// x is the frequency, `recency` tₓ and `t` T of a customer, in the unit the model was
/// fitted in; horizons `t` are in the same unit.
pub trait PurchaseModel {
    /// The model's name: `"bg-nbd"`, `"mbg-nbd"` or `"pareto-nbd"`.
    fn name(&self) -> &'static str;
    /// The parameters as (name, value) pairs in the published order.
    fn params(&self) -> Vec<(&'static str, f64)>;
    /// The log-likelihood of one customer (published scale).
    fn customer_log_likelihood(&self, x: u32, recency: f64, t: f64) -> Result<f64, ModelError>;
    /// The log-likelihood of all customers: Σ weight × customer log-likelihood.
    fn log_likelihood(&self, data: &CountData) -> Result<f64, ModelError> {
        let mut sum = 0.0;
        for (x, tx, t, w) in data.iter() {
            sum += w * self.customer_log_likelihood(x, tx, t)?;
        }
        Ok(sum)
    }
    /// The probability that the customer is still alive at T.
    fn p_alive(&self, x: u32, recency: f64, t: f64) -> Result<f64, ModelError>;
    /// Expected purchases in (T, T + horizon] of a customer with this history:
    /// P(alive) × [`expected_purchases_if_alive`](PurchaseModel::expected_purchases_if_alive).
    fn expected_purchases(
        &self,
        x: u32,
        recency: f64,
        t: f64,
        horizon: f64,
    ) -> Result<f64, ModelError> {
        let alive = self.p_alive(x, recency, t)?;
        Ok(alive * self.expected_purchases_if_alive(x, t, horizon)?)
    }
    /// Expected purchases in (T, T + horizon] of a customer with x repeat purchases who
    /// is alive at T. In all three models it does not depend on the recency, which is
    /// what lets [`predict`](predict::predict) share it between customers.
    fn expected_purchases_if_alive(&self, x: u32, t: f64, horizon: f64) -> Result<f64, ModelError>;
    /// Expected repeat purchases E[X(t)] in (0, t] of a new customer (one who has just
    /// made a first purchase).
    fn expected_purchases_new(&self, t: f64) -> Result<f64, ModelError>;
    /// P(X(t) = n): the probability that a new customer makes exactly n repeat purchases
    /// in (0, t].
    fn probability_of_purchases(&self, n: u32, t: f64) -> Result<f64, ModelError>;
    /// Expected purchases in the population: `customers` new customers (each at the start
    /// of their life) over (0, t].
    fn expected_purchases_population(&self, customers: f64, t: f64) -> Result<f64, ModelError> {
        Ok(customers * self.expected_purchases_new(t)?)
    }
}

/// Checks that a parameter is a positive finite number.
pub(crate) fn positive(name: &'static str, value: f64) -> Result<f64, ModelError> {
    if value.is_finite() && value > 0.0 {
        Ok(value)
    } else {
        Err(ModelError::InvalidParameter { name, value })
    }
}

/// The longest CLV horizon, in months: 100 years.
pub const MAX_HORIZON_MONTHS: u32 = 1200;

/// The longest time a model measures, in its time unit: 300 years in days (109,575),
/// the span of the plausible calendar ([`solocrm_core::time`]). T, recency and prediction
/// horizons beyond it are refused: no purchase history is that long, and the special
/// functions would spend their time on numbers that mean nothing.
pub const MAX_TIME_UNITS: f64 = 109_575.0;

/// Checks a customer's history.
pub(crate) fn check_history(x: u32, recency: f64, t: f64) -> Result<(), ModelError> {
    if !(recency.is_finite() && t.is_finite() && 0.0 <= recency && recency <= t) {
        return Err(ModelError::InvalidInput {
            reason: format!("a history needs finite 0 ≤ recency ≤ T, got recency {recency}, T {t}"),
        });
    }
    if t > MAX_TIME_UNITS {
        return Err(ModelError::InvalidInput {
            reason: format!("T is {t}; at most {MAX_TIME_UNITS} (300 years in days) is measured"),
        });
    }
    if x == 0 && recency != 0.0 {
        return Err(ModelError::InvalidInput {
            reason: "recency must be 0 when frequency is 0".into(),
        });
    }
    Ok(())
}

/// Checks a prediction horizon.
pub(crate) fn check_horizon(t: f64) -> Result<(), ModelError> {
    if t.is_finite() && (0.0..=MAX_TIME_UNITS).contains(&t) {
        Ok(())
    } else {
        Err(ModelError::InvalidInput {
            reason: format!(
                "a horizon must be from 0 to {MAX_TIME_UNITS} (300 years in days), got {t}"
            ),
        })
    }
}

/// Returns the value if finite, else a typed error.
pub(crate) fn finite(what: &'static str, v: f64) -> Result<f64, ModelError> {
    if v.is_finite() {
        Ok(v)
    } else {
        Err(ModelError::NonFinite { what })
    }
}
