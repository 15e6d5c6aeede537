//! `solocrm clv`: fit a buy-till-you-die model and value every customer.
//!
//! The JSON shape is a fixed contract (docs/cli.md): `model`, `unit`,
//! `calibration_end`, `customers`, `params` (empty when the model could not be fitted),
//! `log_likelihood` (`null` then), `converged`, `degenerate` (`null`, or why a parameter
//! ran to the edge of its range or the fit failed), `gamma_gamma` (`null` when the spend
//! model could not be fitted or cannot be trusted) and `predictions`, one per customer
//! with a purchase on or before the calibration end. Added for small books (issue 12,
//! docs/clv.md "Small books"): a top-level `warnings` array of strings (always present,
//! empty when the models could be trusted throughout) and `penalizer` (the one used), and
//! per customer `method` (`model`, `model-capped` or `historic`), `spend` (`gamma-gamma`
//! or `historic`) and `clv_bound` (a decimal string, the bound the CLV is kept under); `gamma_gamma`
//! gains its own `penalizer` (an automatic one may be raised per fit).
//! Every `clv` is a finite number.

use anyhow::{Context as _, Result, bail};
use chrono::NaiveDate;
use serde_json::{Map, Value, json};
use solocrm_core::Store;
use solocrm_models::{
    BgNbd, ClvOptions, CountData, CustomerSummary, FitOptions, Fitted, GuardOptions, GuardedClv,
    MbgNbd, ModelError, ParetoNbd, PurchaseModel, SummaryOptions, TimeUnit, ValueMethod, clv_money,
    guard, guarded_clv,
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
    // The customers' keys are read on a second thread while this one reads the
    // purchase log, in the same snapshot (issue 14).
    let (mut log, keys) = store.read_beside(
        |r| r.purchase_log(),
        |r| Ok(super::analytics::key_table(r.customer_keys()?)),
    )?;
    // A group's model is fitted on its buyers alone, the group decided at the end of the
    // calibration day.
    let group = super::analytics::chosen(&args.group);
    if group.is_some() {
        let at = super::analytics::group_instant(ctx, end);
        let members = solocrm_app::history::read_as_of_day(&store, end, ctx.now, |r| {
            Ok(super::analytics::members_in(&r, group.as_ref(), at))
        })?
        .map_err(super::analytics::group_failed)?;
        if let (Some(g), Some(m)) = (&group, &members) {
            log = solocrm_app::groups::only_members_log(&log, m);
            if !ctx.out.json {
                ctx.say(super::analytics::group_line(g, m.len()))?;
            }
        }
    }
    let summary = CustomerSummary::from_log(&log, &SummaryOptions::new(end, unit))
        .context("summarising the purchases")?;
    if summary.is_empty() {
        bail!(t!("clv.nobody", end = end));
    }
    drop(log);
    let currency = store.base_currency();
    let given = Given {
        end,
        summary: &summary,
        keys: &keys,
        currency,
    };
    match args.model {
        ClvModel::BgNbd => report(ctx, args, &given, BgNbd::fit),
        ClvModel::MbgNbd => report(ctx, args, &given, MbgNbd::fit),
        ClvModel::ParetoNbd => report(ctx, args, &given, ParetoNbd::fit),
    }
}

/// Refuses numbers that would make the computation meaningless or endless: a
/// prediction span that is not a positive number of at most 100 years, a discount rate
/// or a margin outside 0 to 1, a penaliser outside 0 to [`guard::MAX_PENALIZER`].
fn check_bounds(args: &ClvArgs, unit: TimeUnit) -> Result<()> {
    if let Some(p) = args.predict {
        // Whole units, so that the bound printed is the bound applied.
        let max = unit.from_days(100.0 * 365.25).floor();
        if !(p.is_finite() && p > 0.0 && p <= max) {
            bail!(t!("clv.bad_predict", max = max, got = p));
        }
    }
    if !(0.0..=1.0).contains(&args.discount_monthly) {
        bail!(t!("clv.bad_discount", got = args.discount_monthly));
    }
    if !(0.0..=1.0).contains(&args.margin) {
        bail!(t!("clv.bad_margin", got = args.margin));
    }
    if let Some(p) = args.penalizer
        && guard::check_penalizer(p).is_err()
    {
        bail!(t!("clv.bad_penalizer", max = guard::MAX_PENALIZER, got = p));
    }
    Ok(())
}

/// What [`report`] values: the summary up to the calibration end `end`, the customers'
/// keys and the books' currency.
struct Given<'a> {
    end: NaiveDate,
    summary: &'a CustomerSummary,
    keys: &'a super::analytics::KeyTable,
    currency: solocrm_core::Currency,
}

fn report<M: PurchaseModel + Sync>(
    ctx: &mut Ctx,
    args: &ClvArgs,
    given: &Given<'_>,
    fit: fn(&CountData, &FitOptions) -> Result<Fitted<M>, ModelError>,
) -> Result<()> {
    let &Given {
        end,
        summary,
        keys,
        currency,
    } = given;
    let horizon = args
        .predict
        .unwrap_or_else(|| solocrm_models::calibration_length(summary));
    if !(horizon.is_finite() && horizon >= 0.0) {
        bail!(t!("clv.bad_horizon", unit = unit_name(summary.unit)));
    }
    let opts = GuardOptions {
        penalizer: args.penalizer,
        horizon,
        clv: ClvOptions {
            horizon_months: args.horizon_months,
            discount_monthly: args.discount_monthly,
            margin: args.margin,
            unit: summary.unit,
        },
    };
    let guarded: GuardedClv<M> = guarded_clv(summary, fit, &opts)?;
    let mut rows = Vec::with_capacity(summary.len());
    for (i, v) in guarded.values.iter().enumerate() {
        let id = summary.customers[i];
        rows.push(Row {
            customer: keys
                .get(id)
                .unwrap_or_else(|| std::borrow::Cow::Owned(id.to_string())),
            frequency: summary.frequency[i],
            recency: summary.recency(i),
            t: summary.t(i),
            monetary: summary.monetary(i),
            p_alive: v.p_alive,
            expected: v.expected_purchases,
            clv: v.clv,
            bound: v.bound,
            method: v.method,
            spend_model: v.spend_model,
        });
    }
    let fitted = guarded.fitted.as_ref().ok();
    let params: Map<String, Value> = fitted
        .map(|f| f.model.params())
        .unwrap_or_default()
        .into_iter()
        .map(|(k, v)| (k.to_owned(), json!(v)))
        .collect();
    let degenerate = match &guarded.fitted {
        Ok(f) => f.degenerate.clone(),
        Err(e) => Some(e.to_string()),
    };
    let name = model_name(args.model);
    if ctx.out.json {
        let gamma_gamma = guarded.spend.as_ref().map(|gg| {
            json!({
                "p": gg.model.p(), "q": gg.model.q(), "gamma": gg.model.gamma(),
                "log_likelihood": gg.log_likelihood, "customers": whole(gg.customers), "excluded": gg.excluded,
                "penalizer": guarded.spend_penalizer,
            })
        });
        let mut predictions = Vec::with_capacity(rows.len());
        // Everything unless --top asks for the N highest values (then by CLV).
        let mut chosen: Vec<&_> = rows.iter().collect();
        if let Some(n) = args.top {
            chosen.sort_by(|a, b| {
                b.clv
                    .total_cmp(&a.clv)
                    .then(b.expected.total_cmp(&a.expected))
            });
            chosen.truncate(n);
        }
        for r in chosen {
            predictions.push(Prediction {
                t: r.t,
                clv: r.clv,
                clv_bound: clv_money(r.bound, currency)?.amount(),
                customer: &r.customer,
                expected_purchases: r.expected,
                frequency: r.frequency,
                method: r.method.as_str(),
                monetary: r.monetary,
                p_alive: r.p_alive,
                recency: r.recency,
                spend: if r.spend_model {
                    "gamma-gamma"
                } else {
                    "historic"
                },
            });
        }
        // The fields in the order serde_json's sorted maps gave them before, so the
        // text is the same (`tests/analytics_snapshot.rs`); the predictions laid out on
        // two threads (issue 14).
        let mut doc = ctx.out.json_fields()?;
        doc.field("calibration_end", &end)?;
        doc.field("converged", &fitted.is_some_and(|f| f.converged))?;
        doc.field("customers", &summary.len())?;
        doc.field("degenerate", &degenerate)?;
        doc.field("gamma_gamma", &gamma_gamma)?;
        doc.field("log_likelihood", &fitted.map(|f| f.log_likelihood))?;
        doc.field("model", name)?;
        doc.field("params", &params)?;
        doc.field("penalizer", &guarded.penalizer)?;
        doc.rows_written("predictions", &predictions, |p| *p)?;
        doc.field("unit", summary.unit.as_str())?;
        doc.field("warnings", &guarded.warnings)?;
        return Ok(doc.end()?);
    }
    for w in &guarded.warnings {
        crate::output::to_stderr(t!("warning.prefix"), w);
    }
    match fitted {
        Some(f) => {
            let shown: Vec<String> = f
                .model
                .params()
                .iter()
                .map(|(k, v)| format!("{k} = {v:.6}"))
                .collect();
            ctx.out.heading(t!(
                "clv.fitted",
                model = name,
                customers = tn!("count.customer", summary.len()),
                end = end,
                unit = unit_name(summary.unit),
                penalizer = guarded.penalizer,
                params = shown.join(", ")
            ))?;
            ctx.out.line(t!(
                "clv.likelihood",
                log_likelihood = format!("{:.4}", f.log_likelihood),
                converged = if f.converged {
                    t!("clv.converged")
                } else {
                    t!("clv.not_converged")
                },
                iterations = f.iterations
            ))?;
        }
        None => ctx.out.heading(t!(
            "clv.not_fitted",
            model = name,
            customers = tn!("count.customer", summary.len()),
            end = end
        ))?,
    }
    rows.sort_by(|a, b| {
        b.clv
            .total_cmp(&a.clv)
            .then(b.expected.total_cmp(&a.expected))
    });
    let mut t = Table::new(&[
        "CUSTOMER",
        ">BUYS",
        ">P(ALIVE)",
        ">EXPECTED",
        ">CLV",
        "METHOD",
    ]);
    for r in rows
        .iter()
        .take(args.top.unwrap_or(super::analytics::TABLE_TOP))
    {
        t.row(vec![
            r.customer.to_string(),
            (r.frequency + 1).to_string(),
            format!("{:.3}", r.p_alive),
            format!("{:.2}", r.expected),
            clv_money(r.clv, currency)?.to_string(),
            r.method.as_str().to_owned(),
        ]);
    }
    ctx.out.table(&t)?;
    ctx.out.line(t!(
        "clv.footer",
        horizon = format!("{horizon:.1}"),
        unit = unit_name(summary.unit),
        months = tn!("count.month", args.horizon_months),
        discount = args.discount_monthly * 100.0,
        margin = args.margin
    ))
}

/// The plural name of a time unit, in the run's language (`weeks`, `周`).
fn unit_name(unit: TimeUnit) -> &'static str {
    match unit {
        TimeUnit::Day => t!("unit.days"),
        TimeUnit::Week => t!("unit.weeks"),
    }
}

/// The model's name as the JSON gives it, also when it could not be fitted.
fn model_name(model: ClvModel) -> &'static str {
    match model {
        ClvModel::BgNbd => "bg-nbd",
        ClvModel::MbgNbd => "mbg-nbd",
        ClvModel::ParetoNbd => "pareto-nbd",
    }
}

/// A count the fit keeps as a weighted sum of whole customers, as a JSON integer.
fn whole(count: f64) -> Value {
    // Weights are whole numbers of customers, so the sum is integral.
    json!(count.round() as u64)
}

struct Row<'k> {
    customer: std::borrow::Cow<'k, str>,
    frequency: u32,
    recency: f64,
    t: f64,
    monetary: f64,
    p_alive: f64,
    expected: f64,
    clv: f64,
    bound: f64,
    method: ValueMethod,
    spend_model: bool,
}

/// One customer of the `--json` document's predictions, its fields in sorted order
/// (`T` sorts first); the key borrowed and the bound written from its digits (no
/// `String` per customer); written by itself ([`WrittenRow`](crate::output::WrittenRow)),
/// the floats through `serde_json`.
#[derive(Clone, Copy)]
struct Prediction<'a> {
    t: f64,
    clv: f64,
    clv_bound: rust_decimal::Decimal,
    customer: &'a str,
    expected_purchases: f64,
    frequency: u32,
    method: &'static str,
    monetary: f64,
    p_alive: f64,
    recency: f64,
    spend: &'static str,
}

impl crate::output::WrittenRow for Prediction<'_> {
    fn write_fields<W: std::io::Write + ?Sized>(
        &self,
        out: &mut crate::output::RowFields<'_, W>,
    ) -> std::io::Result<()> {
        out.value("T", &self.t)?;
        out.value("clv", &self.clv)?;
        out.decimal("clv_bound", &self.clv_bound)?;
        out.value("customer", self.customer)?;
        out.value("expected_purchases", &self.expected_purchases)?;
        out.int("frequency", self.frequency)?;
        out.value("method", self.method)?;
        out.value("monetary", &self.monetary)?;
        out.value("p_alive", &self.p_alive)?;
        out.value("recency", &self.recency)?;
        out.value("spend", self.spend)
    }
}
