//! Customer lifetime value over a horizon.
//!
//! CLV = margin × Σ over months i = 1..H of
//! spend × (E[Y(i·k)] − E[Y((i − 1)·k)]) / (1 + d)^i,
//!
//! where E[Y(t)] is the customer's expected purchases in (T, T + t] under the count
//! model ([`PurchaseModel::expected_purchases`]), spend the Gamma-Gamma conditional
//! expected spend per purchase ([`GammaGamma::conditional_expected_spend`], major
//! units), d the monthly discount rate, k the time units per month
//! ([`TimeUnit::per_month`]: 30 days or 4.345 weeks) and the margin the share of spend
//! that is profit (1 = revenue). Month i's purchases are discounted by a full month i,
//! as in `lifetimes`' `customer_lifetime_value`. The result is an `f64` estimate in
//! major units; [`clv_money`] rounds it to money for display.

use rust_decimal::Decimal;

use super::gamma_gamma::GammaGamma;
use super::{MAX_HORIZON_MONTHS, ModelError, PurchaseModel, TimeUnit, finite};
use crate::money::{Currency, Money};

/// CLV settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClvOptions {
    /// The horizon in months (default 12), at most [`MAX_HORIZON_MONTHS`] (1200).
    pub horizon_months: u32,
    /// Monthly discount rate d ≥ 0 (default 0.01).
    pub discount_monthly: f64,
    /// Profit share of spend, 0..=1 (default 1: revenue).
    pub margin: f64,
    /// The time unit the count model was fitted in (default weeks).
    pub unit: TimeUnit,
}

impl Default for ClvOptions {
    fn default() -> Self {
        ClvOptions {
            horizon_months: 12,
            discount_monthly: 0.01,
            margin: 1.0,
            unit: TimeUnit::Week,
        }
    }
}

impl ClvOptions {
    fn check(&self) -> Result<(), ModelError> {
        if self.horizon_months > MAX_HORIZON_MONTHS {
            return Err(ModelError::InvalidOption {
                name: "horizon_months",
                reason: "must be at most 1200 (100 years)",
            });
        }
        if !(self.discount_monthly.is_finite() && self.discount_monthly >= 0.0) {
            return Err(ModelError::InvalidOption {
                name: "discount_monthly",
                reason: "must be a finite number ≥ 0",
            });
        }
        if !(self.margin.is_finite() && (0.0..=1.0).contains(&self.margin)) {
            return Err(ModelError::InvalidOption {
                name: "margin",
                reason: "must be between 0 and 1",
            });
        }
        Ok(())
    }
}

/// The CLV of a customer with history (x, recency, T) and mean spend m̄ (major units),
/// under a count model and a spend model.
///
/// # Errors
///
/// [`ModelError::InvalidOption`] for bad options (a horizon beyond
/// [`MAX_HORIZON_MONTHS`], a negative discount, a margin outside 0..=1) and the errors
/// of the predictions.
pub fn clv<M: PurchaseModel + ?Sized>(
    model: &M,
    spend: &GammaGamma,
    x: u32,
    recency: f64,
    t: f64,
    mean_spend: f64,
    opts: &ClvOptions,
) -> Result<f64, ModelError> {
    opts.check()?;
    let per_purchase = spend.conditional_expected_spend(x, mean_spend)?;
    let k = opts.unit.per_month();
    let mut total = 0.0;
    let mut prev = 0.0;
    let mut factor = 1.0;
    for i in 1..=opts.horizon_months {
        let cum = model.expected_purchases(x, recency, t, f64::from(i) * k)?;
        factor /= 1.0 + opts.discount_monthly;
        total += per_purchase * (cum - prev) * factor;
        prev = cum;
    }
    finite("CLV", opts.margin * total)
}

/// A CLV rounded to the currency's minor units (banker's rounding), for display.
///
/// # Errors
///
/// [`ModelError::NonFinite`] if the value is not finite or too large for a
/// [`Decimal`].
pub fn clv_money(value: f64, currency: Currency) -> Result<Money, ModelError> {
    let d = Decimal::try_from(value).map_err(|_| ModelError::NonFinite { what: "CLV" })?;
    Ok(Money::new(d, currency).round_to_minor_units())
}
