//! `solocrm init`, `solocrm demo`, and the care of the file: `check`, `backup`,
//! `checkpoint`.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, bail};
use chrono::{Datelike as _, Months, NaiveDate};
use solocrm_app::settings::default_zone;
use solocrm_core::metrics::Period;
use solocrm_core::{BusinessZone, Currency};
use solocrm_sample::{GenConfig, Locale, business, insert_bulk};
use solocrm_store_sqlite::{SqliteOptions, SqliteStore};

use crate::books::File as _;
use crate::cli::DemoLocale;
use crate::output::Unit;

use super::Ctx;

fn refuse_existing(db: &Path) -> Result<()> {
    if db.exists() || db.is_symlink() {
        bail!(t!("setup.exists", db = db.display()));
    }
    Ok(())
}

/// Creates the data directory (0700) when the database is the default one in it;
/// a path the user named must be in a directory that exists.
fn make_home(ctx: &Ctx) -> Result<()> {
    if ctx.db_given {
        return Ok(());
    }
    match ctx.db.parent() {
        Some(dir) => crate::paths::create_private_dir(dir),
        None => Ok(()),
    }
}

fn create(ctx: &Ctx, currency: Currency) -> Result<SqliteStore> {
    refuse_existing(&ctx.db)?;
    make_home(ctx)?;
    SqliteStore::create(&ctx.db, currency)
        .with_context(|| t!("setup.cannot_create", db = ctx.db.display()))
}

/// `solocrm init`: empty books in `currency`, counting their days in `zone` (default:
/// [`default_zone`]).
pub fn init(ctx: &mut Ctx, currency: &str, zone: Option<BusinessZone>) -> Result<()> {
    let currency = Currency::parse(currency)?;
    let (zone, chosen) = match zone {
        Some(z) => (z, t!("init.zone_given")),
        None => (default_zone(), t!("init.zone_default")),
    };
    let books = match ctx.postgres_url() {
        Some(url) => {
            let location = solocrm_app::Location::Postgres(url.to_owned());
            crate::books::Books::create(&location, currency, &ctx.open_options())
                .with_context(|| t!("setup.cannot_create", db = ctx.db_shown()))?
        }
        None => crate::books::of_file(create(ctx, currency)?, &ctx.db),
    };
    books
        .set_time_zone(zone)
        .with_context(|| t!("setup.cannot_store_zone", db = ctx.db_shown()))?;
    drop(books);
    if ctx.out.json {
        let db = match ctx.postgres_url() {
            Some(_) => serde_json::json!(ctx.db_shown()),
            None => serde_json::json!(ctx.db),
        };
        return ctx
            .out
            .json(&serde_json::json!({ "db": db, "currency": currency, "timezone": zone }));
    }
    ctx.say(t!(
        "init.created",
        db = ctx.db_shown(),
        currency = currency,
        zone = zone,
        chosen = chosen
    ))?;
    if !ctx.db_given {
        ctx.say(t!("init.default_db"))?;
    }
    Ok(())
}

/// The most customers `demo` builds; beyond that the sample is slow and large rather
/// than instructive.
const MAX_DEMO_CUSTOMERS: u32 = 1_000_000;

/// The earliest last day of a demo history: its three years then start in 2007, after
/// every generated birthday.
const EARLIEST_DEMO_END: (i32, u32, u32) = (2010, 1, 1);

/// The last day of the demo's history: `--end`, or today (in the shop's `zone`) as the
/// command read the clock. Refused before 2010 or after today: a history that ends in
/// the future would hold purchases that have not happened.
fn demo_end(ctx: &Ctx, end: Option<&str>, zone: BusinessZone) -> Result<NaiveDate> {
    let today = zone.date_of(ctx.now);
    let Some(input) = end else {
        return Ok(today);
    };
    let end = crate::parse::date(input)?;
    let (y, m, d) = EARLIEST_DEMO_END;
    let earliest = NaiveDate::from_ymd_opt(y, m, d).unwrap_or(NaiveDate::MIN);
    if end < earliest {
        bail!(t!("demo.end_too_early", end = end, earliest = earliest));
    }
    if end > today {
        bail!(t!("demo.end_in_future", end = end, today = today));
    }
    Ok(end)
}

/// `solocrm demo`: a sample business of `customers` customers (seed `seed`, history
/// ending `end`, in `locale`), built in one bulk transaction in a private work file
/// and moved into place when complete, then its dashboard.
///
/// Without `--db`/`SOLOCRM_DB` the sample goes to its own file, `demo.db` in the data
/// directory, never the user's books, and a second `demo` rebuilds it; a database the
/// user named is refused if it exists.
pub fn demo(
    ctx: &mut Ctx,
    customers: u32,
    seed: u64,
    end: Option<&str>,
    locale: DemoLocale,
) -> Result<()> {
    if !(1..=MAX_DEMO_CUSTOMERS).contains(&customers) {
        bail!(t!(
            "demo.bad_customers",
            max = MAX_DEMO_CUSTOMERS,
            got = customers
        ));
    }
    let locale = match locale {
        DemoLocale::En => Locale::En,
        DemoLocale::ZhCn => Locale::ZhCn,
    };
    let zone = locale.zone();
    let end = demo_end(ctx, end, zone)?;
    let config = GenConfig::new(customers, seed)
        .with_zone(zone)
        .with_end(end)
        .with_locale(locale)
        .with_currency(locale.currency());
    if ctx.postgres_url().is_some() {
        bail!(t!("demo.needs_file", db = ctx.db_shown()));
    }
    // The default sample book is the demo's own and is rebuilt; a named file is the
    // user's and is never replaced.
    let replace = !ctx.db_given;
    if replace {
        refuse_open_sample(&ctx.db)?;
    } else {
        refuse_existing(&ctx.db)?;
    }
    make_home(ctx)?;
    // All or nothing: the sample is built in a private directory beside the target and
    // moved into place only when complete, so an interrupted demo leaves no
    // half-built database behind (and a second `demo` is not refused because of one).
    let parent = match ctx.db.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    };
    let work = tempfile::Builder::new()
        .prefix(".solocrm-demo-")
        .tempdir_in(&parent)
        .with_context(|| t!("demo.cannot_create_work", dir = parent.display()))?;
    let building = work.path().join("demo.db");
    // The work file is private until it is complete: it is built without the
    // write-ahead log, every page written once (`SqliteOptions::private_build`).
    let options = SqliteOptions::default().private_build(true);
    let store = SqliteStore::create_with(&building, config.currency, &options)
        .map(|store| crate::books::of_file(store, &building))
        .with_context(|| t!("setup.cannot_create", db = building.display()))?;
    store
        .set_time_zone(zone)
        .with_context(|| t!("setup.cannot_store_zone", db = building.display()))?;
    let generating = ctx.progress_in(t!("demo.generating"), 0, Unit::Time);
    let business = business(&config);
    if let Some(p) = generating {
        p.finish();
    }
    let mut progress = ctx.progress(t!("demo.writing"), business.counts().total());
    // The generated history ends just before `as_of`: report the year up to then.
    let last = zone.date_of(config.as_of);
    let period = Period::new(
        last.checked_sub_months(Months::new(12)).unwrap_or(last),
        last,
    )
    .map(|p| p.in_zone(zone));
    let report_config = super::analytics::default_report_config();
    // The generator replays a whole history, stage moves included: the books must
    // not move anyone by themselves while it does. Everything is written in one bulk
    // transaction (the same operations, in the same order, as one per record).
    let replay = store.crm().clone().with_lifecycle(None);
    // Meanwhile a second thread computes the dashboard from the business itself: what
    // the report would read of the new books is known before they are written
    // (ADR 0059).
    let (populated, computed) = std::thread::scope(|s| {
        let computing = s.spawn(|| {
            let period = period.as_ref().ok()?;
            computed_dashboard(&business, &config, *period, &report_config)
        });
        let populated = insert_bulk(&replay, &business, &mut |done| {
            if let Some(p) = &mut progress {
                p.set(done);
            }
        });
        let computed = computing
            .join()
            .unwrap_or_else(|e| std::panic::resume_unwind(e));
        (populated, computed)
    });
    let populated = populated.context(t!("demo.building"))?;
    drop(replay);
    // Only if the books numbered the records as the computation assumed (new books
    // do); otherwise the dashboard is read from them.
    let computed =
        computed.filter(|_| populated.numbered_from_one() && populated.counts == business.counts());
    // Freeing the generated business (millions of small allocations) takes a moment of
    // its own: another thread does it while the books are closed and the dashboard is
    // printed.
    let freeing = std::thread::spawn(move || drop(business));
    if let Some(p) = &mut progress {
        p.stage(t!("demo.closing"));
    }
    // Closing checkpoints the log into the file, which then stands alone.
    drop(store);
    if let Some(p) = progress {
        p.finish();
    }
    publish(&building, &ctx.db, replace)?;
    drop(work);
    let store = ctx.open()?;
    let period = period?;
    super::analytics::dashboard(
        ctx,
        &store,
        period,
        Some((computed, config.as_of)),
        None,
        &report_config,
    )?;
    // The thread only frees memory; it cannot fail in a way the demo could report.
    let _ = freeing.join();
    if !ctx.out.json {
        if let Some(hint) = holiday_hint(locale, end) {
            ctx.say(hint)?;
        }
        ctx.say(where_it_is(&ctx.db, ctx.db_given))?;
    }
    Ok(())
}

/// The whole book's dashboard of `period` for new books holding `business` exactly
/// (see [`solocrm_sample::Business::report_data`]), computed without reading them;
/// `None` if the business holds a record the books would refuse (the build then fails
/// anyway) or the report cannot be computed (reading the books gives the same error).
fn computed_dashboard(
    business: &solocrm_sample::Business,
    config: &GenConfig,
    period: Period,
    report_config: &solocrm_core::metrics::ReportConfig,
) -> Option<solocrm_app::views::Dashboard> {
    let data = business
        .report_data(config.currency, config.zone, period)
        .ok()?;
    let report = solocrm_core::MetricsReport::compute(&data, period, report_config).ok()?;
    Some(solocrm_app::views::Dashboard::new(
        period,
        &data.customers,
        report,
    ))
}

/// The line `demo` ends with: where the sample books are, and how to look at them.
fn where_it_is(db: &Path, given: bool) -> String {
    if given {
        t!("demo.where_named", db = db.display())
    } else {
        t!("demo.where_default", db = db.display())
    }
}

/// Refuses to rebuild the default sample book while SQLite may be using it: its
/// write-ahead log or rollback journal would be taken for the new file's.
fn refuse_open_sample(db: &Path) -> Result<()> {
    for suffix in ["-wal", "-journal"] {
        let side = crate::paths::side_file(db, suffix);
        if side.exists() || side.is_symlink() {
            bail!(t!(
                "demo.sample_in_use",
                db = db.display(),
                side = side.display()
            ));
        }
    }
    if db.is_symlink() || db.exists() && !db.is_file() {
        bail!(t!("demo.sample_not_file", db = db.display()));
    }
    Ok(())
}

/// For a shop whose holidays move with the lunar calendar: the next ones after `end`,
/// and the command that keeps the `cn` calendar with the books, so that `care` and the
/// automation find them every year without dates typed on each run.
fn holiday_hint(locale: Locale, end: NaiveDate) -> Option<String> {
    if locale != Locale::ZhCn {
        return None;
    }
    let upcoming: Vec<(&str, NaiveDate)> = (end.year()..=end.year() + 1)
        .flat_map(|y| locale.holidays(y))
        .filter(|(_, d)| *d > end)
        .take(2)
        .collect();
    if upcoming.is_empty() {
        return None;
    }
    let dates: Vec<String> = upcoming
        .iter()
        .map(|(name, d)| format!("{name} {d}"))
        .collect();
    Some(t!("demo.holiday_hint", dates = dates.join(", ")))
}

/// Moves the finished database `from` to `to`. Unless `replace`, never over a file at
/// `to`: a hard link is created only if `to` does not exist (atomically), then `from`
/// goes; where hard links are not supported, a rename after a last check. With
/// `replace` (the default sample book), a rename, which replaces `to` atomically.
fn publish(from: &Path, to: &Path, replace: bool) -> Result<()> {
    for suffix in ["-wal", "-shm"] {
        let side = crate::paths::side_file(from, suffix);
        if side.exists() {
            bail!(t!(
                "demo.not_closed",
                side = side.display(),
                db = to.display()
            ));
        }
    }
    if replace {
        std::fs::rename(from, to)
            .with_context(|| format!("cannot move the sample database to {}", to.display()))?;
        // A shared-memory file of the old sample describes a log that is gone.
        let _ = std::fs::remove_file(crate::paths::side_file(to, "-shm"));
        return Ok(());
    }
    match std::fs::hard_link(from, to) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => refuse_existing(to)?,
        Err(_) => {
            refuse_existing(to)?;
            std::fs::rename(from, to).with_context(|| t!("demo.cannot_move", db = to.display()))?;
        }
    }
    Ok(())
}

/// `solocrm check`: the file's integrity and foreign keys and the books' own invariants
/// (`SqliteStore::check`), then a checkpoint, so that the answer covers the whole file
/// and nothing waits in the log.
pub fn check(ctx: &mut Ctx) -> Result<()> {
    let store = ctx.open()?;
    let problems = store.file()?.check().context(t!("check.checking"))?;
    let folded = store
        .file()?
        .checkpoint()
        .context(t!("check.checkpointing"))?;
    if ctx.out.json {
        ctx.out.json(&serde_json::json!({
            "db": ctx.db, "problems": problems, "log_folded": folded,
        }))?;
    } else {
        for p in &problems {
            ctx.out.line(t!("check.problem", problem = p))?;
        }
        if problems.is_empty() {
            ctx.say(t!("check.ok", db = ctx.db.display()))?;
        }
        if folded {
            ctx.say(t!("check.folded"))?;
        }
    }
    if !problems.is_empty() {
        bail!(t!(
            "check.problems",
            db = ctx.db.display(),
            problems = tn!("count.problem", problems.len())
        ));
    }
    if !folded {
        bail!(t!("check.not_folded", db = ctx.db.display()));
    }
    Ok(())
}

/// `solocrm backup FILE [--force]`: a consistent copy of the books in a new 0600 file,
/// made with SQLite's online backup API from one snapshot, so it can be taken while
/// another program writes (see `SqliteStore::backup_to`). Prints the file, its size and
/// what it holds, as read back from the copy.
pub fn backup(ctx: &mut Ctx, file: &Path, force: bool) -> Result<()> {
    // Not the database, nor a file SQLite keeps beside it, however spelled.
    crate::paths::Protected::database(&ctx.db).check("backup", file)?;
    let store = ctx.open()?;
    let sqlite = store.file()?;
    let made = if force {
        sqlite.backup_replacing(file)
    } else {
        sqlite.backup_to(file)
    };
    let report = made.with_context(|| t!("backup.backing_up", db = ctx.db.display()))?;
    if ctx.out.json {
        return ctx.out.json(&serde_json::json!({
            "db": ctx.db,
            "backup": report.path,
            "bytes": report.bytes,
            "schema_version": report.schema_version,
            "customers": report.customers,
            "purchases": report.purchases,
        }));
    }
    ctx.say(t!(
        "backup.done",
        db = ctx.db.display(),
        backup = report.path.display(),
        bytes = tn!("count.byte", report.bytes),
        customers = tn!("count.customer", report.customers),
        purchases = tn!("count.purchase", report.purchases),
    ))
}

/// `solocrm checkpoint`: fold the write-ahead log into the file and empty it.
pub fn checkpoint(ctx: &mut Ctx) -> Result<()> {
    let store = ctx.open()?;
    if !store
        .file()?
        .checkpoint()
        .context(t!("check.checkpointing"))?
    {
        bail!(t!("checkpoint.busy", db = ctx.db.display()));
    }
    if ctx.out.json {
        return ctx
            .out
            .json(&serde_json::json!({ "db": ctx.db, "log_folded": true }));
    }
    ctx.say(t!("checkpoint.done", db = ctx.db.display()))
}

/// `solocrm migrate --from SRC --to DST`: the whole book at `from` copied into a new
/// book at `to` through the lossless archive (ADR 0009) in one transaction, then both
/// read again and compared record for record.
pub fn migrate(ctx: &mut Ctx, from: &str, to: &str) -> Result<()> {
    use solocrm_app::exchange::archive::{import_archive, read_archive};
    use solocrm_app::{Books, Location};
    let source = Location::parse(from)?;
    let target = Location::parse(to)?;
    if source == target {
        bail!(t!("migrate.same", db = target));
    }
    let options = ctx.open_options();
    if let Location::Path(path) = &source
        && !path.exists()
    {
        bail!(t!("db.missing", db = source));
    }
    let books =
        Books::open(&source, &options).with_context(|| t!("db.cannot_open", db = source))?;
    let archive = read_archive(&books).with_context(|| t!("migrate.cannot_read", db = source))?;
    if let Location::Path(path) = &target {
        refuse_existing(path)?;
    }
    let copy = Books::create(&target, archive.currency, &options)
        .with_context(|| t!("setup.cannot_create", db = target))?;
    if let Err(e) = import_archive(&copy, &archive) {
        // Nothing was written (one transaction); a file made for the copy goes too,
        // so the same command can run again.
        drop(copy);
        if let Location::Path(path) = &target {
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(crate::paths::side_file(path, suffix));
            }
        }
        return Err(e).with_context(|| t!("migrate.cannot_write", db = target));
    }
    // The verification pass: both books read again, each in one snapshot.
    let again = read_archive(&copy).with_context(|| t!("migrate.cannot_read", db = target))?;
    let now = read_archive(&books).with_context(|| t!("migrate.cannot_read", db = source))?;
    if again != now {
        bail!(t!("migrate.differs", from = source, to = target));
    }
    let counts = archive.counts();
    if ctx.out.json {
        let counts: serde_json::Map<String, serde_json::Value> = counts
            .iter()
            .map(|(k, n)| ((*k).to_owned(), (*n).into()))
            .collect();
        return ctx.out.json(&serde_json::json!({
            "from": source.to_string(),
            "to": target.to_string(),
            "book_id": archive.book_id,
            "verified": true,
            "records": counts,
        }));
    }
    let total: usize = counts.iter().map(|(_, n)| n).sum();
    ctx.say(t!(
        "migrate.done",
        from = source,
        to = target,
        records = total
    ))
}
