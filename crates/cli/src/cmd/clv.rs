//! `solocrm clv`: fit a buy-till-you-die model and value every customer.
//!
//! The JSON shape is a fixed contract (docs/cli.md): `model`, `unit`,
//! `calibration_end`, `customers`, `params`, `log_likelihood`, `converged`,
//! `degenerate` (`null`, or why a parameter ran to the edge of its range),
//! `gamma_gamma` (`null` when there are no repeat customers to fit it on, and then every
//! `clv` is `null` too) and `predictions`, one per customer with a purchase on or
//! before the calibration end.

use anyhow::{Context as _, Result, bail};
use chrono::NaiveDate;
use serde_json::{Map, Value, json};
use solocrm_core::Store;
use solocrm_models::{
    BgNbd, ClvOptions, CustomerSummary, FitOptions, Fitted, GammaGamma, MbgNbd, ParetoNbd,
    PurchaseModel, SummaryOptions, TimeUnit, clv, predict,
};

use super::Ctx;
use crate::cli::{ClvArgs, ClvModel, ClvUnit};
use crate::output::Table;
use crate::parse;

pub fn run(ctx: &mut Ctx, args: &ClvArgs) -> Result<()> {
    let store = ctx.open()?;
    let end = parse::date(&args.calibration_end)?;
    let unit = match args.unit {
        ClvUnit::Day => TimeUnit::Day,
        ClvUnit::Week => TimeUnit::Week,
    };
    check_bounds(args, unit)?;
    let log = store.purchase_log()?;
    let summary = CustomerSummary::from_log(&log, &SummaryOptions::new(end, unit))
        .context("summarising the purchases")?;
    if summary.is_empty() {
        bail!("no customer bought on or before {end}; nothing to fit");
    }
    let counts = summary.count_data()?;
    let opts = FitOptions::default();
    match args.model {
        ClvModel::BgNbd => report(
            ctx,
            &store,
            args,
            end,
            &summary,
            BgNbd::fit(&counts, &opts)?,
        ),
        ClvModel::MbgNbd => report(
            ctx,
            &store,
            args,
            end,
            &summary,
            MbgNbd::fit(&counts, &opts)?,
        ),
        ClvModel::ParetoNbd => report(
            ctx,
            &store,
            args,
            end,
            &summary,
            ParetoNbd::fit(&counts, &opts)?,
        ),
    }
}

/// Refuses numbers that would make the computation meaningless or endless: a
/// prediction span that is not a positive number of at most 100 years, a discount rate
/// or a margin outside 0 to 1.
fn check_bounds(args: &ClvArgs, unit: TimeUnit) -> Result<()> {
    if let Some(p) = args.predict {
        // Whole units, so that the bound printed is the bound applied.
        let max = unit.from_days(100.0 * 365.25).floor();
        if !(p.is_finite() && p > 0.0 && p <= max) {
            bail!("--predict must be more than 0 and at most {max} units (100 years), got {p}");
        }
    }
    if !(0.0..=1.0).contains(&args.discount_monthly) {
        bail!(
            "--discount-monthly must be between 0 and 1, got {}",
            args.discount_monthly
        );
    }
    if !(0.0..=1.0).contains(&args.margin) {
        bail!("--margin must be between 0 and 1, got {}", args.margin);
    }
    Ok(())
}

/// The calibration length in `unit`: from the earliest first purchase to the end.
fn calibration_length(summary: &CustomerSummary) -> f64 {
    let days = summary.t_days.iter().copied().max().unwrap_or(0);
    summary.unit.from_days(f64::from(days))
}

fn report<M: PurchaseModel + Sync>(
    ctx: &mut Ctx,
    store: &solocrm_core::Crm,
    args: &ClvArgs,
    end: NaiveDate,
    summary: &CustomerSummary,
    fitted: Fitted<M>,
) -> Result<()> {
    let horizon = args.predict.unwrap_or_else(|| calibration_length(summary));
    if !(horizon.is_finite() && horizon >= 0.0) {
        bail!(
            "--predict must be a number of {}s, zero or more",
            summary.unit.as_str()
        );
    }
    let predictions = predict(&fitted.model, summary, horizon)?;
    let spend = summary
        .spend_data()
        .ok()
        .and_then(|d| GammaGamma::fit(&d, &FitOptions::default()).ok());
    let clv_opts = ClvOptions {
        horizon_months: args.horizon_months,
        discount_monthly: args.discount_monthly,
        margin: args.margin,
        unit: summary.unit,
    };
    let keys = super::analytics::keys(store)?;
    let mut rows = Vec::with_capacity(summary.len());
    for i in 0..summary.len() {
        let (x, recency, t, m) = (
            summary.frequency[i],
            summary.recency(i),
            summary.t(i),
            summary.monetary(i),
        );
        let value = match &spend {
            Some(gg) => Some(clv(&fitted.model, &gg.model, x, recency, t, m, &clv_opts)?),
            None => None,
        };
        let id = summary.customers[i];
        rows.push(Row {
            customer: keys.get(&id).cloned().unwrap_or_else(|| id.to_string()),
            frequency: x,
            recency,
            t,
            monetary: m,
            p_alive: predictions.p_alive[i],
            expected: predictions.expected_purchases[i],
            clv: value,
        });
    }
    let params: Map<String, Value> = fitted
        .model
        .params()
        .into_iter()
        .map(|(k, v)| (k.to_owned(), json!(v)))
        .collect();
    if ctx.out.json {
        let gamma_gamma = spend.as_ref().map(|gg| {
            json!({
                "p": gg.model.p(), "q": gg.model.q(), "gamma": gg.model.gamma(),
                "log_likelihood": gg.log_likelihood, "customers": whole(gg.customers), "excluded": gg.excluded,
            })
        });
        let predictions: Vec<Value> = rows
            .iter()
            .map(|r| {
                json!({
                    "customer": r.customer, "frequency": r.frequency, "recency": r.recency, "T": r.t,
                    "monetary": r.monetary, "p_alive": r.p_alive, "expected_purchases": r.expected, "clv": r.clv,
                })
            })
            .collect();
        return ctx.out.json(&json!({
            "model": fitted.model.name(),
            "unit": summary.unit.as_str(),
            "calibration_end": end,
            "customers": summary.len(),
            "params": params,
            "log_likelihood": fitted.log_likelihood,
            "converged": fitted.converged,
            "degenerate": fitted.degenerate,
            "gamma_gamma": gamma_gamma,
            "predictions": predictions,
        }));
    }
    let shown: Vec<String> = fitted
        .model
        .params()
        .iter()
        .map(|(k, v)| format!("{k} = {v:.6}"))
        .collect();
    ctx.out.heading(format!(
        "{} fitted on {} customers up to {end} ({}s): {}",
        fitted.model.name(),
        summary.len(),
        summary.unit.as_str(),
        shown.join(", ")
    ))?;
    ctx.out.line(format!(
        "log-likelihood {:.4}, {} after {} iterations",
        fitted.log_likelihood,
        if fitted.converged {
            "converged"
        } else {
            "NOT converged"
        },
        fitted.iterations
    ))?;
    if let Some(why) = &fitted.degenerate {
        ctx.out.line(format!(
            "the data cannot pin the model down ({why}): read these predictions as rough at best"
        ))?;
    }
    if spend.is_none() {
        ctx.out.line(
            "no repeat customers with positive spend: the spend model cannot be fitted, so no CLV",
        )?;
    }
    rows.sort_by(|a, b| {
        b.clv
            .unwrap_or(0.0)
            .total_cmp(&a.clv.unwrap_or(0.0))
            .then(b.expected.total_cmp(&a.expected))
    });
    let currency = store.base_currency();
    let mut t = Table::new(&["CUSTOMER", ">BUYS", ">P(ALIVE)", ">EXPECTED", ">CLV"]);
    for r in rows.iter().take(args.top) {
        t.row(vec![
            r.customer.clone(),
            (r.frequency + 1).to_string(),
            format!("{:.3}", r.p_alive),
            format!("{:.2}", r.expected),
            r.clv
                .map_or_else(|| "-".into(), |v| format!("{v:.2} {currency}")),
        ]);
    }
    ctx.out.table(&t)?;
    ctx.out.line(format!(
        "expected purchases over the next {horizon:.1} {}s; CLV over {} months at {}% a month, margin {}",
        summary.unit.as_str(),
        args.horizon_months,
        args.discount_monthly * 100.0,
        args.margin
    ))
}

/// A count the fit keeps as a weighted sum of whole customers, as a JSON integer.
fn whole(count: f64) -> Value {
    // Weights are whole numbers of customers, so the sum is integral.
    json!(count.round() as u64)
}

struct Row {
    customer: String,
    frequency: u32,
    recency: f64,
    t: f64,
    monetary: f64,
    p_alive: f64,
    expected: f64,
    clv: Option<f64>,
}
