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
use solocrm_core::money::{Currency, Money};

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
    pub(crate) fn check(&self) -> Result<(), ModelError> {
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
/// of the predictions — [`ModelError::CannotExtrapolate`] if the count model cannot be
/// evaluated that far ahead for this customer (not expected for fitted BG/NBD and
/// MBG/NBD parameters up to [`MAX_HORIZON_MONTHS`] since the long-horizon fix; the
/// message asks for a shorter horizon).
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
    clv_with_spend(model, per_purchase, x, recency, t, opts)
}

/// [`clv()`] with a given spend per purchase (major units) instead of the Gamma-Gamma's;
/// the small-book guard uses the customer's own average order value when the spend
/// model cannot be trusted. `opts` must have been checked.
pub(crate) fn clv_with_spend<M: PurchaseModel + ?Sized>(
    model: &M,
    per_purchase: f64,
    x: u32,
    recency: f64,
    t: f64,
    opts: &ClvOptions,
) -> Result<f64, ModelError> {
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
    let digits = currency.minor_unit_digits();
    if let Some(minor) = plain_minor_units(value, digits) {
        return Ok(Money::new(Decimal::new(minor, digits), currency));
    }
    let d = Decimal::try_from(value).map_err(|_| ModelError::NonFinite { what: "CLV" })?;
    Ok(Money::new(d, currency).round_to_minor_units())
}

/// `value` in whole minor units (`digits` after the point), when no rounding rule can
/// matter: a non-negative value below 2³² minor units whose scaled fraction is more
/// than 10⁻⁴ away from one half. Then the nearest whole number of the scaled double
/// (off by at most 2⁻²⁰ from the exact product) is the one banker's rounding of any
/// close decimal of `value` gives, and this avoids [`Decimal::try_from`]'s exact
/// binary-to-decimal conversion (a sixth of `clv --json`'s output time at 100 k
/// customers). `None` sends every other value, ties and negatives included, the exact
/// way; a property test compares both.
fn plain_minor_units(value: f64, digits: u32) -> Option<i64> {
    if digits > 4 || value.is_sign_negative() {
        return None;
    }
    let scaled = value * 10_f64.powi(digits as i32);
    if scaled.is_nan() || scaled >= 4_294_967_296.0 {
        return None;
    }
    let fraction = scaled - scaled.floor();
    if (fraction - 0.5).abs() <= 1e-4 {
        return None;
    }
    Some(scaled.round() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The exact conversion [`clv_money`] replaces where it can.
    fn exact_money(value: f64, currency: Currency) -> Option<Money> {
        let d = Decimal::try_from(value).ok()?;
        Some(Money::new(d, currency).round_to_minor_units())
    }

    fn same_as_exact(value: f64) {
        for currency in [
            Currency::EUR,
            Currency::JPY,
            Currency::parse("KWD").expect("iso"),
        ] {
            let fast = clv_money(value, currency).ok();
            let exact = exact_money(value, currency);
            assert_eq!(fast, exact, "{value} {currency}");
            assert_eq!(
                fast.map(|m| m.amount().to_string()),
                exact.map(|m| m.amount().to_string()),
                "{value} {currency}"
            );
        }
    }

    #[test]
    fn money_of_ties_edges_and_negatives_is_the_exact_conversions() {
        for v in [
            0.0,
            -0.0,
            0.005,
            0.015,
            0.025,
            2.675,
            1.005,
            90.56,
            0.4999,
            0.5,
            1.5,
            2.5,
            42_949_672.95,
            42_949_672.96,
            1e12,
            -3.25,
            -0.004,
            1e-300,
            f64::MIN_POSITIVE,
            f64::NAN,
            f64::INFINITY,
            123_456.785,
            7.0005,
            7.0015,
        ] {
            same_as_exact(v);
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]
        #[test]
        fn money_of_any_value_is_the_exact_conversions(
            cents in 0_i64..5_000_000_000,
            offset in -0.02_f64..0.02,
            wide in proptest::num::f64::POSITIVE | proptest::num::f64::NEGATIVE,
        ) {
            // Near every kind of cent, half-cent and mill, and anywhere at all.
            let near = cents as f64 / 1_000.0 + offset / 1_000.0;
            same_as_exact(near);
            same_as_exact(cents as f64 / 1_000.0);
            same_as_exact(cents as f64 / 1_000.0 + 0.000_5);
            same_as_exact(wide);
        }
    }
    use crate::{BgNbd, FitOptions, MbgNbd, SimulatedCustomers};

    /// A demo-like store: the demo database's BG/NBD fit (weeks) as the truth, customers
    /// watched 1 to 150 weeks, plus its heaviest buyer (263 repeat purchases).
    fn demo_like() -> SimulatedCustomers {
        let truth = BgNbd::new(0.21529, 1.020125, 0.424164, 13.711726).expect("valid");
        let mut s = SimulatedCustomers::simulate_uniform_t(&truth, 60, 1.0, 150.0, 2025);
        s.frequency.push(263);
        s.recency.push(99.0);
        s.t.push(100.0);
        s
    }

    fn every_clv_is_finite<M: PurchaseModel>(model: &M, s: &SimulatedCustomers, months: u32) {
        let spend = GammaGamma::new(6.0, 4.0, 15.0).expect("valid");
        let opts = ClvOptions {
            horizon_months: months,
            ..ClvOptions::default()
        };
        for i in 0..s.len() {
            let (x, rec, t) = (s.frequency[i], s.recency[i], s.t[i]);
            let v = clv(model, &spend, x, rec, t, 30.0, &opts);
            assert!(
                matches!(v, Ok(v) if v.is_finite() && v >= 0.0),
                "{} x = {x}, recency = {rec}, T = {t}, {months} months: {v:?}",
                model.name()
            );
        }
    }

    #[test]
    fn a_fitted_demo_like_store_has_a_clv_over_480_and_1200_months() {
        // `solocrm clv --horizon-months 480` failed on the demo database with "expected
        // purchases is not a finite number" for every horizon from 480 months on.
        let s = demo_like();
        let data = s.count_data().expect("data");
        let bg = BgNbd::fit(&data, &FitOptions::default())
            .expect("fit")
            .model;
        let mbg = MbgNbd::fit(&data, &FitOptions::default())
            .expect("fit")
            .model;
        every_clv_is_finite(&bg, &s, 480);
        every_clv_is_finite(&bg, &s, MAX_HORIZON_MONTHS);
        every_clv_is_finite(&mbg, &s, MAX_HORIZON_MONTHS);
        // The heavy buyer's value grows with the horizon and is not absurd: at most the
        // spend of a customer who never drops out, (r + x)/(α + T) purchases a week.
        let spend = GammaGamma::new(6.0, 4.0, 15.0).expect("valid");
        let at = |months| {
            let opts = ClvOptions {
                horizon_months: months,
                discount_monthly: 0.0,
                ..ClvOptions::default()
            };
            clv(&bg, &spend, 263, 99.0, 100.0, 30.0, &opts).expect("finite")
        };
        let (v480, v1200) = (at(480), at(MAX_HORIZON_MONTHS));
        let per_purchase = spend.conditional_expected_spend(263, 30.0).expect("spend");
        let cap = per_purchase * (bg.r() + 263.0) / (bg.alpha() + 100.0) * 1200.0 * 4.345;
        assert!(
            0.0 < v480 && v480 < v1200 && v1200 < cap,
            "{v480} {v1200} {cap}"
        );
    }
}
