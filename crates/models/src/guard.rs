//! CLV that behaves on small books: the guard around the fits.
//!
//! A one-person company has tens of customers, not thousands. On such a book the
//! maximum-likelihood fits of [`bg_nbd`](super::bg_nbd), [`mbg_nbd`](super::mbg_nbd),
//! [`pareto_nbd`](super::pareto_nbd) and [`gamma_gamma`](super::gamma_gamma) often have
//! no interior maximum: a parameter runs to the edge of its range (a ≈ 2·10⁹, γ ≈
//! 3·10⁸), and the predictions either overflow or value a 200 EUR customer at a few
//! cents. [`guarded_clv`] fits, checks and values every customer anyway:
//!
//! 1. **Penaliser.** The fits minimise −LL/n + λ Σ θᵢ² (`lifetimes`' `penalizer_coef`).
//!    λ is the caller's ([`check_penalizer`]: finite, 0 ≤ λ ≤ [`MAX_PENALIZER`]) or, when
//!    none is given, [`auto_penalizer`]: [`SMALL_BOOK_PENALIZER`] for a small book
//!    (fewer than [`SMALL_BOOK_REPEAT_CUSTOMERS`] repeat customers), 0 otherwise.
//! 2. **Detection** ([`diagnose_book`], [`diagnose_fit`]): few repeat customers; a fit that
//!    fails or ends at the edge of a parameter's range ([`Fitted::degenerate`]); a
//!    prediction or CLV that is not a finite number. Each becomes a warning (a sentence
//!    that says what to do), never an error.
//! 3. **Fallback** ([`historic_value`]): where the model cannot be trusted, a customer's
//!    value is their own history projected forward, labelled [`ValueMethod::Historic`].
//! 4. **Bound** ([`clv_bound`]): no value exceeds [`BOUND_MULTIPLE`] × the customer's
//!    historic spend rate × the horizon; a model value above it is clipped and labelled
//!    [`ValueMethod::ModelCapped`].
//!
//! # Definitions
//!
//! With S the customer's total calibration spend (every purchase day, the first
//! included; [`CustomerSummary::total_spend`]), x their repeat purchase days, tₓ and T
//! their recency and age in the model's unit, k the units per month
//! ([`TimeUnit::per_month`]), H the horizon in months, d the monthly discount and m the
//! margin:
//!
//! - observed months M = max(T / k, 1) (a customer seen for less than a month counts as
//!   one month, so that a first purchase yesterday is not a rate of S per day);
//! - historic spend rate s = S / M per month;
//! - **bound** B = [`BOUND_MULTIPLE`] × s × H (undiscounted, before the margin);
//! - historic purchase rate λ = x / (M k) per unit for a repeat customer; for a one-time
//!   buyer the book's pooled repeat rate λ̄ = Σx / Σ max(T, k) (they have no rate of
//!   their own);
//! - historic activity p = exp(−λ (T − tₓ)): the chance, at their own pace, of a silence
//!   as long as the one since their last purchase (a score, not a model's P(alive); 1
//!   when λ = 0);
//! - average order value v = S / (x + 1);
//! - **historic value** = min(B, m × v × λ k × p × Σᵢ₌₁..H (1 + d)^−i), and its expected
//!   purchases over a horizon t are p λ t.
//!
//! Edge cases: S = 0 (only free or refunded purchases) gives B = 0 and a value of 0; a
//! book where nobody repeated gives λ̄ = 0, so every one-time buyer is worth 0 and p = 1.
//! Every number is finite: S, T and x are finite by construction of the summary.

use serde::{Deserialize, Serialize};

use super::clv::ClvOptions;
use super::gamma_gamma::GammaGamma;
use super::optimize::FitOptions;
use super::summary::{CountData, CustomerSummary};
use super::{Fitted, ModelError, PurchaseModel, TimeUnit, check_horizon, finite};

/// The largest penaliser accepted. λ Σ θ² at λ = 10 outweighs any mean log-likelihood
/// and pins every parameter near 0; `lifetimes` users work between 0.001 and 0.1.
pub const MAX_PENALIZER: f64 = 10.0;

/// A book with fewer repeat customers than this is small: the fits are unstable there,
/// so the automatic penaliser is [`SMALL_BOOK_PENALIZER`] and a warning says so.
pub const SMALL_BOOK_REPEAT_CUSTOMERS: usize = 30;

/// The automatic penaliser of a small book: λ = 0.01, enough to keep the parameters of
/// a 20-customer book finite while moving a well-identified fit very little.
pub const SMALL_BOOK_PENALIZER: f64 = 0.01;

/// The bound's multiple K of a customer's historic spend rate: a 12-month CLV above
/// three times what the customer spent per month so far, times 12, is absurd.
pub const BOUND_MULTIPLE: f64 = 3.0;

/// Checks a penaliser given by the user.
///
/// # Errors
///
/// [`ModelError::InvalidOption`] unless the value is finite and 0 ≤ λ ≤ [`MAX_PENALIZER`].
///
/// ```
/// use solocrm_models::guard::check_penalizer;
/// assert_eq!(check_penalizer(0.01)?, 0.01);
/// assert!(check_penalizer(-1.0).is_err());
/// assert!(check_penalizer(f64::NAN).is_err());
/// assert!(check_penalizer(11.0).is_err());
/// # Ok::<(), solocrm_models::ModelError>(())
/// ```
pub fn check_penalizer(value: f64) -> Result<f64, ModelError> {
    if value.is_finite() && (0.0..=MAX_PENALIZER).contains(&value) {
        Ok(value)
    } else {
        Err(ModelError::InvalidOption {
            name: "penalizer",
            reason: "must be a finite number from 0 to 10",
        })
    }
}

/// The penaliser used when none is given: [`SMALL_BOOK_PENALIZER`] when fewer than
/// [`SMALL_BOOK_REPEAT_CUSTOMERS`] customers bought again, else 0 (plain maximum
/// likelihood, as `lifetimes` by default, so that large books keep their published fits).
///
/// ```
/// use solocrm_models::guard::auto_penalizer;
/// assert_eq!(auto_penalizer(5), 0.01);
/// assert_eq!(auto_penalizer(30), 0.0);
/// ```
pub fn auto_penalizer(repeat_customers: usize) -> f64 {
    if repeat_customers < SMALL_BOOK_REPEAT_CUSTOMERS {
        SMALL_BOOK_PENALIZER
    } else {
        0.0
    }
}

/// How a customer's value was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ValueMethod {
    /// The fitted count model (and spend model): [`clv`](super::clv()).
    Model,
    /// The model's value exceeded the customer's [`clv_bound`] and was clipped to it.
    ModelCapped,
    /// The model could not be trusted for this customer: [`historic_value`].
    Historic,
}

impl ValueMethod {
    /// `"model"`, `"model-capped"` or `"historic"`.
    pub fn as_str(self) -> &'static str {
        match self {
            ValueMethod::Model => "model",
            ValueMethod::ModelCapped => "model-capped",
            ValueMethod::Historic => "historic",
        }
    }
}

/// Observed months M = max(T / k, 1).
fn observed_months(t: f64, unit: TimeUnit) -> f64 {
    (t / unit.per_month()).max(1.0)
}

/// The bound B = [`BOUND_MULTIPLE`] × S / max(T / k, 1) × H on a customer's CLV over
/// `horizon_months` (see the module docs): S the total calibration spend in major units,
/// T the customer's age in `unit`. A negative or non-finite S gives 0.
///
/// ```
/// use solocrm_models::{TimeUnit, guard::clv_bound};
/// // 600 EUR over 2 years (104.28 weeks ≈ 24 months): 25 EUR a month; 3 × 25 × 12.
/// let b = clv_bound(600.0, 24.0 * 4.345, TimeUnit::Week, 12);
/// assert!((b - 900.0).abs() < 1e-9);
/// // A first purchase today counts as one month: 3 × 50 × 12.
/// assert!((clv_bound(50.0, 0.0, TimeUnit::Day, 12) - 1_800.0).abs() < 1e-9);
/// ```
pub fn clv_bound(total_spend: f64, t: f64, unit: TimeUnit, horizon_months: u32) -> f64 {
    if !(total_spend.is_finite() && total_spend > 0.0 && t.is_finite()) {
        return 0.0;
    }
    BOUND_MULTIPLE * total_spend / observed_months(t, unit) * f64::from(horizon_months)
}

/// One customer's history, as the fallback and the bound read it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct History {
    /// Repeat purchase days x.
    pub frequency: u32,
    /// Recency tₓ in the model's unit.
    pub recency: f64,
    /// Age T in the model's unit.
    pub t: f64,
    /// Total calibration spend S in major units (first day included).
    pub total_spend: f64,
}

/// A customer's historic estimate: (activity p, expected purchases over `horizon`
/// units, value over the CLV horizon), as defined in the module docs. `pooled_rate` is
/// the book's λ̄ per unit, used for one-time buyers.
///
/// ```
/// use solocrm_models::{ClvOptions, TimeUnit, guard::{History, historic_value}};
/// // 4 repeat purchases over 52 weeks, the last this week, 500 EUR in all.
/// let h = History { frequency: 4, recency: 52.0, t: 52.0, total_spend: 500.0 };
/// let opts = ClvOptions { discount_monthly: 0.0, unit: TimeUnit::Week, ..ClvOptions::default() };
/// let (p, expected, value) = historic_value(&h, 0.0, 52.0, &opts);
/// assert_eq!(p, 1.0);
/// // λ = 4 / 52 a week: 4 purchases over the next 52 weeks.
/// assert!((expected - 4.0).abs() < 1e-9);
/// // v = 100 EUR, 4 / 11.97 purchases a month for 12 months.
/// assert!((value - 100.0 * 4.0 / (52.0 / 4.345) * 12.0).abs() < 1e-9);
/// ```
pub fn historic_value(
    h: &History,
    pooled_rate: f64,
    horizon: f64,
    opts: &ClvOptions,
) -> (f64, f64, f64) {
    let k = opts.unit.per_month();
    let months = observed_months(h.t, opts.unit);
    let rate = if h.frequency > 0 {
        f64::from(h.frequency) / (months * k)
    } else if pooled_rate.is_finite() && pooled_rate > 0.0 {
        pooled_rate
    } else {
        0.0
    };
    let silence = (h.t - h.recency).max(0.0);
    let p = (-rate * silence).exp();
    let expected = p * rate * horizon.max(0.0);
    let spend = if h.total_spend.is_finite() && h.total_spend > 0.0 {
        h.total_spend
    } else {
        0.0
    };
    let order = spend / f64::from(h.frequency.saturating_add(1));
    let mut discount = 0.0;
    let mut factor = 1.0;
    for _ in 0..opts.horizon_months {
        factor /= 1.0 + opts.discount_monthly;
        discount += factor;
    }
    let value = opts.margin * order * rate * k * p * discount;
    let bound = clv_bound(spend, h.t, opts.unit, opts.horizon_months);
    let clean = |v: f64| if v.is_finite() { v.max(0.0) } else { 0.0 };
    (clean(p), clean(expected), clean(value).min(bound))
}

/// The book's pooled repeat rate λ̄ = Σx / Σ max(T, k) per unit (0 for an empty book).
pub fn pooled_rate(summary: &CustomerSummary) -> f64 {
    let k = summary.unit.per_month();
    let (mut x, mut t) = (0.0, 0.0);
    for i in 0..summary.len() {
        x += f64::from(summary.frequency[i]);
        t += summary.t(i).max(k);
    }
    if t > 0.0 { x / t } else { 0.0 }
}

/// Warnings about the book itself: fewer than [`SMALL_BOOK_REPEAT_CUSTOMERS`] repeat
/// customers. `penalizer` is the penaliser in use, `automatic` whether it was chosen by
/// [`auto_penalizer`].
///
/// ```
/// use solocrm_models::guard::diagnose_book;
/// assert_eq!(diagnose_book(100, 40, 0.0, false), Vec::<String>::new());
/// assert_eq!(diagnose_book(20, 7, 0.01, true).len(), 1);
/// ```
pub fn diagnose_book(
    customers: usize,
    repeat_customers: usize,
    penalizer: f64,
    automatic: bool,
) -> Vec<String> {
    if repeat_customers >= SMALL_BOOK_REPEAT_CUSTOMERS {
        return Vec::new();
    }
    let how = if automatic {
        format!("an automatic penalizer of {penalizer} is applied (set --penalizer to change it)")
    } else {
        format!("the penalizer is {penalizer}")
    };
    vec![format!(
        "small book: only {repeat_customers} of {customers} customers bought more than once \
         (the models need about {SMALL_BOOK_REPEAT_CUSTOMERS}); {how}; read the values as rough \
         and compare them with the historic estimates"
    )]
}

/// Why a fit cannot be trusted, if it cannot: it ended at the edge of a parameter's
/// range ([`Fitted::degenerate`]), or its log-likelihood is not finite. A fit that merely
/// did not meet the gradient tolerance is usable and gets a separate warning from
/// [`guarded_clv`].
///
/// ```
/// use solocrm_models::{BgNbd, Fitted, guard::diagnose_fit};
/// let fit = Fitted {
///     model: BgNbd::new(0.2, 4.0, 0.8, 2.4)?, standard_errors: None, log_likelihood: -10.0,
///     converged: true, iterations: 20, customers: 100.0, excluded: 0, degenerate: None,
/// };
/// assert_eq!(diagnose_fit(&fit), None);
/// let edge = Fitted { degenerate: Some("a = 2e9 ran to the edge".into()), ..fit };
/// assert!(diagnose_fit(&edge).is_some());
/// # Ok::<(), solocrm_models::ModelError>(())
/// ```
pub fn diagnose_fit<M>(fitted: &Fitted<M>) -> Option<String> {
    if let Some(why) = &fitted.degenerate {
        return Some(why.clone());
    }
    if !fitted.log_likelihood.is_finite() {
        return Some("the log-likelihood at the estimate is not finite".into());
    }
    None
}

/// The automatic penalisers tried, in order, when a fit with the automatic penaliser
/// ends at the edge of a parameter's range: the first above the automatic one whose fit
/// is not degenerate is used. A penaliser given by the user is never changed.
pub const PENALIZER_LADDER: [f64; 3] = [0.001, 0.01, 0.1];

/// The penaliser before any raise: the user's, or [`auto_penalizer`].
fn penalizer_asked(opts: &GuardOptions, summary: &CustomerSummary) -> f64 {
    opts.penalizer
        .unwrap_or_else(|| auto_penalizer(summary.frequency.iter().filter(|&&x| x > 0).count()))
}

/// Fits with `base`; if that fit is degenerate and the penaliser is automatic, refits with
/// each larger penaliser of [`PENALIZER_LADDER`] and keeps the first that is not. Returns
/// the fit kept (the one with `base` when none helps) and its penaliser.
fn fit_escalating<M>(
    fit: impl Fn(&FitOptions) -> Result<Fitted<M>, ModelError>,
    base: f64,
    automatic: bool,
) -> (Result<Fitted<M>, ModelError>, f64) {
    // No standard errors: nothing of the guard's result reads them, and they cost a
    // Hessian (2k gradients) at the end of every fit (ADR 0064).
    let with = |penalizer: f64| {
        fit(&FitOptions {
            penalizer,
            standard_errors: false,
            ..FitOptions::default()
        })
    };
    let first = with(base);
    let usable =
        |f: &Result<Fitted<M>, ModelError>| matches!(f, Ok(f) if diagnose_fit(f).is_none());
    if !automatic || !matches!(&first, Ok(f) if diagnose_fit(f).is_some()) {
        return (first, base);
    }
    for &p in PENALIZER_LADDER.iter().filter(|&&p| p > base) {
        let next = with(p);
        if usable(&next) {
            return (next, p);
        }
    }
    (first, base)
}

/// Settings of [`guarded_clv`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GuardOptions {
    /// The penaliser for every fit; `None` chooses [`auto_penalizer`].
    pub penalizer: Option<f64>,
    /// Expected purchases are predicted over this many units after T.
    pub horizon: f64,
    /// The CLV settings (horizon in months, discount, margin, unit).
    pub clv: ClvOptions,
}

impl GuardOptions {
    /// The settings `solocrm clv` and the web workspace's `/clv` use unless told
    /// otherwise: the automatic penaliser, expected purchases over the calibration
    /// length (from the earliest first purchase to the end, in the summary's unit), and
    /// the default [`ClvOptions`] (12 months, 1 % monthly discount, margin 1) in the
    /// summary's unit.
    #[must_use]
    pub fn standard(summary: &CustomerSummary) -> Self {
        GuardOptions {
            penalizer: None,
            horizon: calibration_length(summary),
            clv: ClvOptions {
                unit: summary.unit,
                ..ClvOptions::default()
            },
        }
    }
}

/// The calibration length of `summary` in its unit: from the earliest first purchase
/// (the largest `T`) to the end; 0 for a summary without customers.
#[must_use]
pub fn calibration_length(summary: &CustomerSummary) -> f64 {
    let days = summary.t_days.iter().copied().max().unwrap_or(0);
    summary.unit.from_days(f64::from(days))
}

/// One customer's guarded prediction.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CustomerValue {
    /// P(alive) from the model, or the historic activity p for a historic value.
    pub p_alive: f64,
    /// Expected purchases over [`GuardOptions::horizon`].
    pub expected_purchases: f64,
    /// CLV over the horizon in major units (an estimate), never above `bound`.
    pub clv: f64,
    /// The customer's bound [`clv_bound`].
    pub bound: f64,
    /// How `clv` (and `p_alive`, `expected_purchases`) were obtained.
    pub method: ValueMethod,
    /// True when the spend per purchase is the Gamma-Gamma's, false when it is the
    /// customer's historic average order value.
    pub spend_model: bool,
}

/// The outcome of [`guarded_clv`]: what was fitted, every customer's value, and the
/// warnings (empty when the models could be trusted throughout).
#[derive(Debug, Clone, PartialEq)]
pub struct GuardedClv<M> {
    /// The count model's fit, or why it failed (then every value is historic). Its
    /// `standard_errors` are `None`: the guard fits without them (ADR 0064); fit the
    /// model directly for them.
    pub fitted: Result<Fitted<M>, ModelError>,
    /// The Gamma-Gamma fit, `None` when it failed or was degenerate; without standard
    /// errors, as `fitted`.
    pub spend: Option<Fitted<GammaGamma>>,
    /// The penaliser used for the count model's fit.
    pub penalizer: f64,
    /// The penaliser used for the Gamma-Gamma fit (differs from `penalizer` only when an
    /// automatic one was raised, see [`PENALIZER_LADDER`]).
    pub spend_penalizer: f64,
    /// One per summary row.
    pub values: Vec<CustomerValue>,
    /// Actionable sentences, in the order found.
    pub warnings: Vec<String>,
}

/// Fits the count model with `fit` and Gamma-Gamma on `summary`, then values every
/// customer, falling back and clipping as the module docs describe. Every number in the
/// result is finite.
///
/// The two fits run at the same time, Gamma-Gamma on a second thread, and neither
/// computes standard errors (ADR 0064): the numbers are those of the fits run one after
/// the other.
///
/// # Errors
///
/// Only for bad options: [`ModelError::InvalidOption`] for the penaliser or the CLV
/// settings, [`ModelError::InvalidInput`] for the horizon. Too little data is a warning.
pub fn guarded_clv<M: PurchaseModel + Sync>(
    summary: &CustomerSummary,
    fit: impl Fn(&CountData, &FitOptions) -> Result<Fitted<M>, ModelError>,
    opts: &GuardOptions,
) -> Result<GuardedClv<M>, ModelError> {
    if let Some(p) = opts.penalizer {
        check_penalizer(p)?;
    }
    let penalizer = penalizer_asked(opts, summary);
    opts.clv.check()?;
    check_horizon(opts.horizon)?;
    let repeaters = summary.frequency.iter().filter(|&&x| x > 0).count();
    let mut warnings = diagnose_book(
        summary.len(),
        repeaters,
        penalizer,
        opts.penalizer.is_none(),
    );
    let automatic = opts.penalizer.is_none();
    let base = penalizer_asked(opts, summary);
    // The two fits share nothing: the spend model is fitted on a second thread while
    // this one fits the count model (each is the same computation as alone, so the
    // same numbers; the warnings below keep their order).
    // If the system refuses a thread, the spend model is fitted here after the count
    // model: the same numbers.
    let spend_fit = || match summary.spend_data() {
        Ok(d) => fit_escalating(|o| GammaGamma::fit(&d, o), base, automatic),
        Err(e) => (Err(e), base),
    };
    let ((fitted, penalizer), (spend, spend_penalizer)) = std::thread::scope(|scope| {
        let spend = std::thread::Builder::new().spawn_scoped(scope, spend_fit);
        let count = match summary.count_data() {
            Ok(d) => fit_escalating(|o| fit(&d, o), penalizer, automatic),
            Err(e) => (Err(e), penalizer),
        };
        let spend = match spend {
            Ok(h) => h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)),
            Err(_) => spend_fit(),
        };
        (count, spend)
    });
    let model = match &fitted {
        Ok(f) => match diagnose_fit(f) {
            None => {
                if penalizer != penalizer_asked(opts, summary) {
                    warnings.push(format!(
                        "the {} fit ran to the edge of a parameter's range, so the automatic \
                         penalizer was raised to {penalizer} (set --penalizer to choose it)",
                        f.model.name()
                    ));
                }
                if !f.converged {
                    warnings.push(format!(
                        "the {} fit did not fully converge after {} iterations; try a larger \
                         --penalizer (e.g. 0.1) if the values look odd",
                        f.model.name(),
                        f.iterations
                    ));
                }
                Some(&f.model)
            }
            Some(why) => {
                warnings.push(format!(
                    "the {} fit cannot be trusted ({why}); every value is the historic estimate \
                     (\"method\": \"historic\"); add more history or try another --penalizer \
                     (e.g. 0.001 or 0.1)",
                    f.model.name()
                ));
                None
            }
        },
        Err(e) => {
            warnings.push(format!(
                "the purchase model could not be fitted ({e}); every value is the historic \
                 estimate (\"method\": \"historic\")"
            ));
            None
        }
    };
    let spend = match spend {
        Ok(s) => match diagnose_fit(&s) {
            None => {
                if spend_penalizer != base {
                    warnings.push(format!(
                        "the Gamma-Gamma spend fit ran to the edge of a parameter's range, so \
                         its automatic penalizer was raised to {spend_penalizer}"
                    ));
                }
                Some(s)
            }
            Some(why) => {
                warnings.push(format!(
                    "the Gamma-Gamma spend fit cannot be trusted ({why}); each customer's own \
                     average order value is used as their spend per purchase"
                ));
                None
            }
        },
        Err(e) => {
            warnings.push(format!(
                "the Gamma-Gamma spend model could not be fitted ({e}); each customer's own \
                 average order value is used as their spend per purchase"
            ));
            None
        }
    };
    let pooled = pooled_rate(summary);
    let (mut failed, mut capped, mut nothing_spent) = (0_usize, 0_usize, 0_usize);
    let mut values = Vec::with_capacity(summary.len());
    let from_models = match model {
        Some(m) => model_values(m, spend.as_ref().map(|s| &s.model), summary, opts),
        None => vec![None; summary.len()],
    };
    for (i, from_model) in from_models.into_iter().enumerate() {
        let h = History {
            frequency: summary.frequency[i],
            recency: summary.recency(i),
            t: summary.t(i),
            total_spend: summary.total_spend(i),
        };
        let bound = clv_bound(h.total_spend, h.t, opts.clv.unit, opts.clv.horizon_months);
        let value = match from_model {
            Some((p, e, v, spend_model)) => {
                let (clv, method) = if v > bound {
                    if bound > 0.0 {
                        capped += 1;
                    } else {
                        nothing_spent += 1;
                    }
                    (bound, ValueMethod::ModelCapped)
                } else {
                    (v, ValueMethod::Model)
                };
                CustomerValue {
                    p_alive: p,
                    expected_purchases: e,
                    clv,
                    bound,
                    method,
                    spend_model,
                }
            }
            None => {
                if model.is_some() {
                    failed += 1;
                }
                let (p, e, v) = historic_value(&h, pooled, opts.horizon, &opts.clv);
                CustomerValue {
                    p_alive: p,
                    expected_purchases: e,
                    clv: v,
                    bound,
                    method: ValueMethod::Historic,
                    spend_model: false,
                }
            }
        };
        values.push(value);
    }
    if failed > 0 {
        warnings.push(format!(
            "the model gave no finite prediction for {failed} customer(s) (\"method\": \
             \"historic\"); a shorter --predict or --horizon-months, or a larger --penalizer, \
             may help"
        ));
    }
    if capped > 0 {
        warnings.push(format!(
            "{capped} customer(s) had a model CLV above {BOUND_MULTIPLE} times their own \
             historic spend rate over the horizon and were clipped to that bound (\"method\": \
             \"model-capped\"); the model overstates them"
        ));
    }
    if nothing_spent > 0 {
        warnings.push(format!(
            "{nothing_spent} customer(s) have spent nothing so far (free or fully refunded \
             purchases), so their bound and their CLV are 0 (\"method\": \"model-capped\")"
        ));
    }
    Ok(GuardedClv {
        fitted,
        spend,
        penalizer,
        spend_penalizer,
        values,
        warnings,
    })
}

/// [`model_value`] of every row of `summary` (`None` where it fails), with each model
/// prediction computed once per distinct history instead of once per customer and month.
///
/// # Method
///
/// In all three models E[Y(t) | x, tₓ, T] = P(alive | x, tₓ, T) × E[Y(t) | alive, x, T]
/// ([`PurchaseModel::expected_purchases`]), and the second factor does not depend on tₓ.
/// The rows are therefore visited in (x, T, tₓ) order: for each distinct (x, T) the
/// alive-curve E[Y(· ) | alive] is evaluated once at the prediction horizon and at the
/// end of each CLV month, for each distinct tₓ within it P(alive) once, and each
/// customer's numbers are then the same products and the same discounted sum, in the same
/// order of operations, as the per-customer evaluation — so the results are identical
/// to the last bit (a test checks this), at a fraction of the cost: a book's purchase
/// days give few distinct histories (CDNOW: 23,570 customers, 979 distinct (x, tₓ, T)),
/// and a 12-month CLV needed 13 ₂F₁ evaluations and 13 P(alive) per customer before.
///
/// Memory: the order and the runs (one index per row at most), one curve of H + 1
/// numbers per thread, and each value with its row before it is put in place.
fn model_values<M: PurchaseModel + Sync>(
    model: &M,
    spend: Option<&GammaGamma>,
    summary: &CustomerSummary,
    opts: &GuardOptions,
) -> Vec<Option<ModelValue>> {
    let n = summary.len();
    let key = |i: usize| {
        (
            summary.frequency[i],
            summary.t_days[i],
            summary.recency_days[i],
        )
    };
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_unstable_by_key(|&i| key(i));
    // The runs of equal (x, T): each is valued whole by one thread.
    let mut runs = Vec::new();
    let mut start = 0;
    while start < n {
        let (x, t_days, _) = key(order[start]);
        let end = start
            + order[start..]
                .iter()
                .take_while(|&&i| summary.frequency[i] == x && summary.t_days[i] == t_days)
                .count();
        runs.push((start, end));
        start = end;
    }
    // From PARALLEL_VALUES rows on, every second run is valued on a second thread
    // (alternate runs, as a run's cost grows with x and the runs are in x order). Each
    // customer's numbers are computed alone, so they are the same on either thread.
    let parallel = n >= PARALLEL_VALUES;
    let value = |parity: usize| {
        let chosen = runs
            .iter()
            .enumerate()
            .filter(|(k, _)| !parallel || k % 2 == parity)
            .map(|(_, &r)| r);
        values_of_runs(model, spend, summary, opts, &order, chosen)
    };
    let (mine, theirs) = std::thread::scope(|scope| {
        // If the system refuses a thread, this one values the other runs afterwards.
        let second = parallel.then(|| std::thread::Builder::new().spawn_scoped(scope, || value(1)));
        let mine = value(0);
        let theirs = match second {
            Some(Ok(h)) => h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)),
            Some(Err(_)) => value(1),
            None => Vec::new(),
        };
        (mine, theirs)
    });
    let mut out = vec![None; n];
    for (i, v) in mine.into_iter().chain(theirs) {
        out[i] = v;
    }
    out
}

/// From this many customers on, [`model_values`] values every second run on a second
/// thread (a 100 k-customer book took 0.15 s on one).
const PARALLEL_VALUES: usize = 16_384;

/// A customer's (P(alive), expected purchases, CLV, spend from Gamma-Gamma) from the
/// models.
type ModelValue = (f64, f64, f64, bool);

/// The values of the rows of the `runs` of `order` (`(start, end)` positions in it, each
/// a whole run of equal (x, T) of rows sorted by (x, T, tₓ), see [`model_values`]), each
/// with its row.
fn values_of_runs<M: PurchaseModel>(
    model: &M,
    spend: Option<&GammaGamma>,
    summary: &CustomerSummary,
    opts: &GuardOptions,
    order: &[usize],
    runs: impl Iterator<Item = (usize, usize)>,
) -> Vec<(usize, Option<ModelValue>)> {
    let mut out = Vec::new();
    let k = opts.clv.unit.per_month();
    let months = opts.clv.horizon_months;
    // curve[0] = E[Y(horizon) | alive], curve[i] = E[Y(i·k) | alive] for month i.
    let mut curve = Vec::with_capacity(months as usize + 1);
    for (start, end) in runs {
        let first = order[start];
        let x = summary.frequency[first];
        let t = summary.t(first);
        curve.clear();
        let curve_ok = (|| {
            curve.push(model.expected_purchases_if_alive(x, t, opts.horizon)?);
            for i in 1..=months {
                curve.push(model.expected_purchases_if_alive(x, t, f64::from(i) * k)?);
            }
            Ok::<(), ModelError>(())
        })()
        .is_ok();
        let mut from = start;
        while from < end {
            let recency_days = summary.recency_days[order[from]];
            let to = from
                + order[from..end]
                    .iter()
                    .take_while(|&&i| summary.recency_days[i] == recency_days)
                    .count();
            let p = model.p_alive(x, summary.recency(order[from]), t);
            for &i in &order[from..to] {
                out.push((
                    i,
                    match (&p, curve_ok) {
                        (Ok(p), true) => value_on_curve(*p, &curve, spend, summary, i, opts).ok(),
                        _ => None,
                    },
                ));
            }
            from = to;
        }
    }
    out
}

/// Row `i`'s (P(alive), expected purchases, CLV, spend from Gamma-Gamma) from its P(alive)
/// `p` and its alive-curve (see [`model_values`]): the arithmetic of [`model_value`]
/// step for step.
fn value_on_curve(
    p: f64,
    curve: &[f64],
    spend: Option<&GammaGamma>,
    summary: &CustomerSummary,
    i: usize,
    opts: &GuardOptions,
) -> Result<(f64, f64, f64, bool), ModelError> {
    let e = p * curve[0];
    let (per_purchase, spend_model) = spend_per_purchase(spend, summary, i);
    let mut total = 0.0;
    let mut prev = 0.0;
    let mut factor = 1.0;
    for &alive in &curve[1..] {
        let cum = p * alive;
        factor /= 1.0 + opts.clv.discount_monthly;
        total += per_purchase * (cum - prev) * factor;
        prev = cum;
    }
    let v = finite("CLV", opts.clv.margin * total)?;
    for n in [p, e, v] {
        if !n.is_finite() {
            return Err(ModelError::NonFinite { what: "prediction" });
        }
    }
    Ok((p.clamp(0.0, 1.0), e.max(0.0), v.max(0.0), spend_model))
}

/// Row `i`'s spend per purchase: the Gamma-Gamma's conditional expectation when it is a
/// finite number ≥ 0 (then `true`), else the customer's own average order value.
fn spend_per_purchase(
    spend: Option<&GammaGamma>,
    summary: &CustomerSummary,
    i: usize,
) -> (f64, bool) {
    let x = summary.frequency[i];
    let own = || {
        let total = summary.total_spend(i);
        if total > 0.0 {
            total / f64::from(x.saturating_add(1))
        } else {
            0.0
        }
    };
    match spend.map(|s| s.conditional_expected_spend(x, summary.monetary(i))) {
        Some(Ok(v)) if v.is_finite() && v >= 0.0 => (v, true),
        _ => (own(), false),
    }
}

/// The model's (P(alive), expected purchases, CLV, spend from Gamma-Gamma) for row `i`,
/// or an error when any of them is not a finite number: the per-customer evaluation,
/// kept to check [`model_values`] against.
#[cfg(test)]
fn model_value<M: PurchaseModel>(
    model: &M,
    spend: Option<&GammaGamma>,
    summary: &CustomerSummary,
    i: usize,
    h: &History,
    opts: &GuardOptions,
) -> Result<(f64, f64, f64, bool), ModelError> {
    let p = model.p_alive(h.frequency, h.recency, h.t)?;
    let e = model.expected_purchases(h.frequency, h.recency, h.t, opts.horizon)?;
    let own = || {
        if h.total_spend > 0.0 {
            h.total_spend / f64::from(h.frequency.saturating_add(1))
        } else {
            0.0
        }
    };
    let (per_purchase, spend_model) =
        match spend.map(|s| s.conditional_expected_spend(h.frequency, summary.monetary(i))) {
            Some(Ok(v)) if v.is_finite() && v >= 0.0 => (v, true),
            _ => (own(), false),
        };
    let v =
        super::clv::clv_with_spend(model, per_purchase, h.frequency, h.recency, h.t, &opts.clv)?;
    for n in [p, e, v] {
        if !n.is_finite() {
            return Err(ModelError::NonFinite { what: "prediction" });
        }
    }
    Ok((p.clamp(0.0, 1.0), e.max(0.0), v.max(0.0), spend_model))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_penalizer_is_checked() {
        assert!(check_penalizer(0.0).is_ok());
        assert!(check_penalizer(MAX_PENALIZER).is_ok());
        for bad in [-0.001, f64::INFINITY, f64::NAN, 10.5] {
            assert!(check_penalizer(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_small_book_gets_a_penalty_and_a_warning_a_large_one_neither() {
        assert_eq!(auto_penalizer(0), SMALL_BOOK_PENALIZER);
        assert_eq!(auto_penalizer(29), SMALL_BOOK_PENALIZER);
        assert_eq!(auto_penalizer(30), 0.0);
        let w = diagnose_book(20, 7, 0.01, true);
        assert_eq!(w.len(), 1);
        assert!(w[0].contains("7 of 20"), "{w:?}");
        assert!(w[0].contains("--penalizer"), "{w:?}");
        assert!(diagnose_book(20, 30, 0.0, true).is_empty());
    }

    #[test]
    fn a_fit_at_the_edge_or_with_a_non_finite_likelihood_is_not_trusted() {
        let fit = Fitted {
            model: GammaGamma::new(2.0, 3.0, 10.0).expect("valid"),
            standard_errors: None,
            log_likelihood: -5.0,
            converged: false,
            iterations: 500,
            customers: 10.0,
            excluded: 0,
            degenerate: None,
        };
        // Not converged is a warning of its own, not a reason to distrust.
        assert_eq!(diagnose_fit(&fit), None);
        let inf = Fitted {
            log_likelihood: f64::NEG_INFINITY,
            ..fit.clone()
        };
        assert!(diagnose_fit(&inf).is_some());
        let edge = Fitted {
            degenerate: Some("q = 3e9 ran to the edge".into()),
            ..fit
        };
        assert_eq!(
            diagnose_fit(&edge).as_deref(),
            Some("q = 3e9 ran to the edge")
        );
    }

    #[test]
    fn the_bound_and_the_historic_value_follow_their_definitions() {
        let opts = ClvOptions::default();
        assert_eq!(clv_bound(0.0, 10.0, TimeUnit::Week, 12), 0.0);
        assert_eq!(clv_bound(f64::NAN, 10.0, TimeUnit::Week, 12), 0.0);
        // A one-time buyer takes the pooled rate; silent for T they fade.
        let h = History {
            frequency: 0,
            recency: 0.0,
            t: 100.0,
            total_spend: 200.0,
        };
        let (p, e, v) = historic_value(&h, 0.05, 10.0, &opts);
        assert!((p - (-5.0_f64).exp()).abs() < 1e-12);
        assert!((e - p * 0.5).abs() < 1e-12);
        assert!(v > 0.0 && v <= clv_bound(200.0, 100.0, TimeUnit::Week, 12));
        // Nobody repeated: the one-time buyer is worth 0 and counts as active.
        assert_eq!(historic_value(&h, 0.0, 10.0, &opts), (1.0, 0.0, 0.0));
        // A repeat buyer who just bought keeps their pace.
        let h = History {
            frequency: 3,
            recency: 30.0,
            t: 30.0,
            total_spend: 400.0,
        };
        let (p, _, v) = historic_value(&h, 0.0, 10.0, &opts);
        assert_eq!(p, 1.0);
        assert!(v > 0.0 && v <= clv_bound(400.0, 30.0, TimeUnit::Week, 12));
    }

    /// A count model whose expectations are |`rate`| × horizon; a negative rate fails
    /// for x = 2.
    struct Stub {
        rate: f64,
    }

    impl PurchaseModel for Stub {
        fn name(&self) -> &'static str {
            "stub"
        }
        fn params(&self) -> Vec<(&'static str, f64)> {
            vec![("rate", self.rate)]
        }
        fn customer_log_likelihood(&self, _: u32, _: f64, _: f64) -> Result<f64, ModelError> {
            Ok(-1.0)
        }
        fn p_alive(&self, _: u32, _: f64, _: f64) -> Result<f64, ModelError> {
            Ok(1.0)
        }
        fn expected_purchases_if_alive(&self, x: u32, _: f64, h: f64) -> Result<f64, ModelError> {
            // A negative rate: |rate| × horizon, but no prediction for x = 2.
            if self.rate < 0.0 && x == 2 {
                return Err(ModelError::NonFinite { what: "stub" });
            }
            Ok(self.rate.abs() * h)
        }
        fn expected_purchases_new(&self, t: f64) -> Result<f64, ModelError> {
            Ok(self.rate * t)
        }
        fn probability_of_purchases(&self, _: u32, _: f64) -> Result<f64, ModelError> {
            Ok(0.0)
        }
    }

    /// Two repeat customers: 300 and 90 EUR over 20 weeks.
    fn book() -> CustomerSummary {
        use solocrm_core::ids::CustomerId;
        CustomerSummary {
            unit: TimeUnit::Week,
            calibration_end: chrono::NaiveDate::from_ymd_opt(2025, 12, 31).expect("valid"),
            currency: None,
            customers: vec![CustomerId::new(1), CustomerId::new(2)],
            frequency: vec![2, 1],
            recency_days: vec![140, 70],
            t_days: vec![140, 140],
            repeat_total_minor: vec![20_000, 4_000],
            first_total_minor: vec![10_000, 5_000],
            holdout_frequency: Vec::new(),
            outliers: Default::default(),
        }
    }

    /// A book of `n` customers in days from the CDNOW BG/NBD (FHL 2005, α per day),
    /// first purchases over 12 weeks, so that many customers share a history.
    fn simulated_book(n: usize, seed: u64) -> CustomerSummary {
        use crate::SimulatedCustomers;
        use solocrm_core::ids::CustomerId;
        let truth = crate::BgNbd::new(0.243, 4.414 * 7.0, 0.793, 2.426).expect("valid");
        let spend = GammaGamma::new(6.25, 3.74, 15.44).expect("valid");
        let s = SimulatedCustomers::simulate_uniform_t(&truth, n, 189.0, 273.0, seed)
            .with_spend(&spend, seed + 1);
        let t_days: Vec<u32> = s.t.iter().map(|t| t.floor() as u32).collect();
        let recency_days: Vec<u32> = s.recency.iter().map(|r| r.floor() as u32).collect();
        CustomerSummary {
            unit: TimeUnit::Week,
            calibration_end: chrono::NaiveDate::from_ymd_opt(1997, 9, 30).expect("valid"),
            currency: None,
            customers: (1..=n as u64).map(CustomerId::new).collect(),
            repeat_total_minor: (0..n)
                .map(|i| (s.monetary[i] * 100.0).round() as i128 * i128::from(s.frequency[i]))
                .collect(),
            first_total_minor: (0..n).map(|i| 1_000 + (i % 7) as i128 * 250).collect(),
            frequency: s.frequency,
            recency_days,
            t_days,
            holdout_frequency: Vec::new(),
            outliers: Default::default(),
        }
    }

    /// The grouped evaluation against the per-customer one, row by row, to the bit.
    fn grouped_equals_per_customer<M: PurchaseModel + Sync>(
        model: &M,
        summary: &CustomerSummary,
        opts: &GuardOptions,
    ) {
        let spend = GammaGamma::new(6.25, 3.74, 15.44).expect("valid");
        for spend in [Some(&spend), None] {
            let grouped = model_values(model, spend, summary, opts);
            let mut distinct = std::collections::HashSet::new();
            for (i, got) in grouped.iter().enumerate() {
                let h = History {
                    frequency: summary.frequency[i],
                    recency: summary.recency(i),
                    t: summary.t(i),
                    total_spend: summary.total_spend(i),
                };
                distinct.insert((h.frequency, summary.recency_days[i], summary.t_days[i]));
                let want = model_value(model, spend, summary, i, &h, opts).ok();
                assert_eq!(*got, want, "{} row {i} {h:?}", model.name());
                assert!(want.is_some(), "{} row {i}", model.name());
            }
            // The test exercises groups, not only singletons.
            assert!(distinct.len() < summary.len() / 2, "{}", distinct.len());
        }
    }

    #[test]
    fn values_grouped_by_history_equal_the_per_customer_values_exactly() {
        let summary = simulated_book(3_000, 14);
        for months in [1, 12, 121] {
            let opts = GuardOptions {
                penalizer: None,
                horizon: 39.0,
                clv: ClvOptions {
                    horizon_months: months,
                    ..ClvOptions::default()
                },
            };
            let bg = crate::BgNbd::new(0.243, 4.414, 0.793, 2.426).expect("valid");
            let mbg = crate::MbgNbd::new(0.525, 6.18, 0.89, 1.61).expect("valid");
            let pareto = crate::ParetoNbd::new(0.553, 10.58, 0.606, 11.67).expect("valid");
            grouped_equals_per_customer(&bg, &summary, &opts);
            grouped_equals_per_customer(&mbg, &summary, &opts);
            grouped_equals_per_customer(&pareto, &summary, &opts);
        }
    }

    #[test]
    fn values_split_between_two_threads_equal_the_per_customer_values_exactly() {
        // Past PARALLEL_VALUES every second run is valued on a second thread.
        let summary = simulated_book(PARALLEL_VALUES + 3_000, 15);
        let opts = GuardOptions {
            penalizer: None,
            horizon: 39.0,
            clv: ClvOptions::default(),
        };
        let bg = crate::BgNbd::new(0.243, 4.414, 0.793, 2.426).expect("valid");
        grouped_equals_per_customer(&bg, &summary, &opts);
    }

    #[test]
    fn a_group_whose_prediction_fails_falls_back_alone() {
        // The stub fails for x = 2 only (see `Stub`); the other customer keeps its value.
        let g = guarded_clv(&book(), |_, _| stub_fit(-0.05), &opts()).expect("guarded");
        assert_eq!(g.values[0].method, ValueMethod::Historic);
        assert_eq!(g.values[1].method, ValueMethod::Model);
    }

    fn stub_fit(rate: f64) -> Result<Fitted<Stub>, ModelError> {
        Ok(Fitted {
            model: Stub { rate },
            standard_errors: None,
            log_likelihood: -2.0,
            converged: true,
            iterations: 1,
            customers: 2.0,
            excluded: 0,
            degenerate: None,
        })
    }

    fn opts() -> GuardOptions {
        GuardOptions {
            penalizer: Some(0.0),
            horizon: 52.0,
            clv: ClvOptions::default(),
        }
    }

    #[test]
    fn an_absurd_model_value_is_clipped_to_the_bound_and_said() {
        let g = guarded_clv(&book(), |_, _| stub_fit(1_000.0), &opts()).expect("guarded");
        // 300 EUR over 140/7/4.345 = 4.60 months: 3 × 65.18 × 12.
        let bound = 3.0 * 300.0 / (20.0 / 4.345) * 12.0;
        assert!((g.values[0].bound - bound).abs() < 1e-9);
        for v in &g.values {
            assert_eq!(v.method, ValueMethod::ModelCapped);
            assert_eq!(v.clv, v.bound);
        }
        assert!(
            g.warnings
                .iter()
                .any(|w| w.contains("2 customer(s)") && w.contains("clipped")),
            "{:?}",
            g.warnings
        );
    }

    #[test]
    fn a_plausible_model_value_is_kept() {
        let g = guarded_clv(&book(), |_, _| stub_fit(0.05), &opts()).expect("guarded");
        for v in &g.values {
            assert_eq!(v.method, ValueMethod::Model);
            assert!(v.clv > 0.0 && v.clv < v.bound);
        }
    }

    #[test]
    fn a_non_finite_prediction_falls_back_to_the_history_with_a_warning() {
        let g = guarded_clv(&book(), |_, _| stub_fit(f64::NAN), &opts()).expect("guarded");
        for v in &g.values {
            assert_eq!(v.method, ValueMethod::Historic);
            assert!(v.clv.is_finite() && v.clv > 0.0);
        }
        assert!(
            g.warnings
                .iter()
                .any(|w| w.contains("no finite prediction for 2")),
            "{:?}",
            g.warnings
        );
    }

    #[test]
    fn a_degenerate_fit_is_not_used() {
        let edge = |_: &CountData, _: &FitOptions| {
            stub_fit(1_000.0).map(|f| Fitted {
                degenerate: Some("a = 2e9 ran to the edge of its range".into()),
                ..f
            })
        };
        let g = guarded_clv(&book(), edge, &opts()).expect("guarded");
        assert!(g.values.iter().all(|v| v.method == ValueMethod::Historic));
        assert!(
            g.warnings
                .iter()
                .any(|w| w.contains("cannot be trusted (a = 2e9")),
            "{:?}",
            g.warnings
        );
    }
}
