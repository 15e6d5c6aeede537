//! `solocrm init` and `solocrm demo`.

use anyhow::{Context as _, Result, bail};
use chrono::Months;
use solocrm_core::Currency;
use solocrm_core::metrics::Period;
use solocrm_store_sqlite::SqliteStore;
use solocrm_store_tests::generate::{GenConfig, populate};

use super::Ctx;
use crate::output::Progress;

fn create(ctx: &Ctx, currency: Currency) -> Result<SqliteStore> {
    if ctx.db.exists() {
        bail!(
            "{} already exists; choose another path with --db, or remove the file if you mean to start over",
            ctx.db.display()
        );
    }
    SqliteStore::create(&ctx.db, currency)
        .with_context(|| format!("cannot create {}", ctx.db.display()))
}

pub fn init(ctx: &mut Ctx, currency: &str) -> Result<()> {
    let currency = Currency::parse(currency)?;
    create(ctx, currency)?;
    if ctx.out.json {
        return ctx
            .out
            .json(&serde_json::json!({ "db": ctx.db, "currency": currency }));
    }
    ctx.out.line(format!(
        "created {} (books in {currency})",
        ctx.db.display()
    ))
}

/// The most customers `demo` builds; beyond that the sample is slow and large rather
/// than instructive.
const MAX_DEMO_CUSTOMERS: u32 = 1_000_000;

pub fn demo(ctx: &mut Ctx, customers: u32, seed: u64) -> Result<()> {
    if !(1..=MAX_DEMO_CUSTOMERS).contains(&customers) {
        bail!("--customers must be between 1 and {MAX_DEMO_CUSTOMERS}, got {customers}");
    }
    let config = GenConfig::new(customers, seed);
    let store = create(ctx, config.currency)?;
    let progress = Progress::new("building the sample business", 1);
    let populated = populate(&store, &config).context("building the sample business")?;
    progress.finish();
    // The generated history ends just before `as_of`: report the year up to then.
    let last = config.as_of.date_naive();
    let period = Period::new(
        last.checked_sub_months(Months::new(12)).unwrap_or(last),
        last,
    )?;
    super::analytics::dashboard(ctx, &store, period, Some(&populated))
}
