//! The commands, one module per group, and the context they share.

mod analytics;
mod audit;
pub(crate) mod campaign;
mod clv;
mod consent;
mod cost;
mod customer;
mod deal;
mod holiday;
mod import;
mod interaction;
mod io;
mod lifecycle;
mod need;
pub(crate) mod offer;
mod points;
mod product;
mod purchase;
mod questionnaire;
mod request;
mod rule;
mod serve;
mod settings;
mod setup;
mod survey;
mod target;
mod task;

use std::cell::Cell;
use std::collections::HashMap;
use std::io::Write as _;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::{Context as _, Result, bail};
use chrono::{DateTime, NaiveDate, Utc};
use solocrm_core::{BusinessZone, CustomerId, Store as _};
use solocrm_store_sqlite::{SqliteOptions, SqliteStore};
use unicode_width::UnicodeWidthStr as _;

use crate::books::Books;
use crate::cli::{Cli, Command, Page};
use crate::output::{Out, Progress, Unit};

/// `--quiet`, set once by [`run`] before any command runs; read by [`note`] and
/// [`Ctx::say`].
static QUIET: AtomicBool = AtomicBool::new(false);

/// True under `--quiet`: progress, notes and confirmations are left out.
pub fn quiet() -> bool {
    QUIET.load(Ordering::Relaxed)
}

/// What every command gets: the database path, the time, the books' time zone, and the
/// output.
pub struct Ctx {
    /// The database file.
    pub db: PathBuf,
    /// True if the user named the database (`--db`, `SOLOCRM_DB`); false for the
    /// default in the data directory ([`crate::paths::data_dir`]).
    pub db_given: bool,
    /// How long a write waits for another writer.
    pub busy_timeout: Duration,
    /// The time the command runs, read once.
    pub now: DateTime<Utc>,
    /// Standard output.
    pub out: Out,
    /// The business time zone of the books [`Ctx::open`] opened last (UTC before):
    /// every date the user types is read in it, and every day shown is counted in it.
    zone: Cell<BusinessZone>,
}

impl Ctx {
    /// The `postgres://` (or `postgresql://`) URL `--db` names, if it names one.
    pub fn postgres_url(&self) -> Option<&str> {
        self.db
            .to_str()
            .filter(|s| s.starts_with("postgres://") || s.starts_with("postgresql://"))
    }

    /// `--db` as messages show it: a path as given, a URL without its password.
    pub fn db_shown(&self) -> String {
        match self.postgres_url() {
            Some(url) => solocrm_app::Location::Postgres(url.to_owned()).to_string(),
            None => self.db.display().to_string(),
        }
    }

    /// How the CLI opens books: the busy timeout of `--busy-timeout`.
    pub fn open_options(&self) -> solocrm_app::OpenOptions {
        solocrm_app::OpenOptions::new().busy_timeout(self.busy_timeout)
    }

    /// Opens the existing database, or says how to create one.
    pub fn open(&self) -> Result<Books> {
        if let Some(url) = self.postgres_url() {
            let location = solocrm_app::Location::Postgres(url.to_owned());
            let books = Books::open(&location, &self.open_options())
                .with_context(|| t!("db.cannot_open", db = self.db_shown()))?;
            self.zone.set(
                books
                    .time_zone()
                    .with_context(|| t!("db.cannot_read_zone", db = self.db_shown()))?,
            );
            return Ok(books);
        }
        if !self.db.exists() {
            // Before the data directory, the default was ./solocrm.db.
            let old = std::path::Path::new("solocrm.db");
            let hint = if !self.db_given && old.is_file() {
                t!("db.old_default")
            } else {
                ""
            };
            bail!("{}{hint}", t!("db.missing", db = self.db.display()));
        }
        let options = SqliteOptions::default().busy_timeout(self.busy_timeout);
        let books = SqliteStore::open_with(&self.db, &options)
            .map(|store| crate::books::of_file(store, &self.db))
            .with_context(|| t!("db.cannot_open", db = self.db.display()))?;
        self.zone.set(
            books
                .time_zone()
                .with_context(|| t!("db.cannot_read_zone", db = self.db.display()))?,
        );
        Ok(books)
    }

    /// The business time zone of the books.
    pub fn zone(&self) -> BusinessZone {
        self.zone.get()
    }

    /// Today in the books' zone.
    pub fn today(&self) -> NaiveDate {
        self.zone().date_of(self.now)
    }

    /// The business-local day of an instant, for showing it.
    pub fn day(&self, at: DateTime<Utc>) -> NaiveDate {
        self.zone().date_of(at)
    }

    /// An `--at` value in the books' zone ([`crate::parse::at`]); none is now.
    pub fn at(&self, input: Option<&str>) -> Result<DateTime<Utc>> {
        crate::parse::at(input, self.now, self.zone())
    }

    /// An `--as-of` value in the books' zone ([`crate::parse::as_of`]); none is now.
    pub fn as_of(&self, input: Option<&str>) -> Result<DateTime<Utc>> {
        crate::parse::as_of(input, self.now, self.zone())
    }

    /// An `--as-of` for a command that writes what falls due by that day (`run`,
    /// `points expire --due`): a day after today is refused (a usage error), so no
    /// lapse, move or task is written ahead of time.
    pub fn as_of_not_after_today(&self, input: Option<&str>) -> Result<DateTime<Utc>> {
        let as_of = self.as_of(input)?;
        let (day, today) = (self.zone().date_of(as_of), self.zone().date_of(self.now));
        if day > today {
            return Err(BadValue(format!(
                "--as-of {day} is after today ({today} in {}): this command writes what falls due by that day, never ahead of time",
                self.zone()
            ))
            .into());
        }
        Ok(as_of)
    }

    /// Prints a line that only confirms or comments (`added customer 7`, a count under
    /// a table, a hint), left out under `--quiet`. What the command was asked to show
    /// goes through [`Out`] itself.
    pub fn say(&mut self, text: impl AsRef<str>) -> Result<()> {
        if quiet() {
            return Ok(());
        }
        self.out.line(text)
    }

    /// A progress bar of `total` records on standard error (shown on a terminal only;
    /// a spinner if `total` is 0), none under `--quiet`.
    pub fn progress(&self, label: &'static str, total: u64) -> Option<Progress> {
        self.progress_in(label, total, Unit::Records)
    }

    /// [`Ctx::progress`] counting in `unit`.
    pub fn progress_in(&self, label: &'static str, total: u64, unit: Unit) -> Option<Progress> {
        (!quiet()).then(|| Progress::new(label, total, unit))
    }

    /// How many rows of a list to print: `--limit N` (0 for all), else a screenful
    /// on a terminal and all otherwise ([`Out::default_rows`]).
    pub fn rows(&self, page: Page) -> Option<usize> {
        match page.limit {
            Some(0) => None,
            Some(n) => Some(n),
            None => self.out.default_rows(),
        }
    }

    /// Cuts `rows` (oldest first) to the newest [`Ctx::rows`] of them and returns how
    /// many there were, for [`Ctx::more`].
    pub fn keep_newest<T>(&self, rows: &mut Vec<T>, page: Page) -> usize {
        let total = rows.len();
        if let Some(n) = self.rows(page) {
            rows.drain(..total.saturating_sub(n));
        }
        total
    }

    /// The note under a list cut by [`Ctx::rows`]: `showing 20 of 3001 purchases;
    /// --limit 0 shows all`. Nothing when the whole list was shown.
    pub fn more(&mut self, shown: usize, total: usize, many: &str) -> Result<()> {
        if shown >= total {
            return Ok(());
        }
        // The noun of the list in the run's language, when the catalogue knows it.
        let many = crate::i18n::lookup(&format!("noun.{many}")).unwrap_or(many);
        self.say(t!("list.more", shown = shown, total = total, many = many))
    }

    /// The local day of an `--as-of` value ([`crate::parse::as_of_day`]); none is
    /// today.
    pub fn as_of_day(&self, input: Option<&str>) -> Result<NaiveDate> {
        crate::parse::as_of_day(input, self.now, self.zone())
    }
}

/// Customers' display names for the rows of a list, each read once: lists show a
/// name beside every customer id.
///
/// The names read ahead for a whole list are kept by id in a vector when the ids are
/// dense (as the books give them): a list in id order then looks them up one after the
/// other in memory instead of at random places of a hash table (a seventh of `care`'s
/// table time at 100 k customers, issue 14).
#[derive(Default)]
pub struct CustomerNames {
    /// `by_id[id]`: the name of `id`, for the ids below its length.
    by_id: Vec<Option<String>>,
    /// The names of other ids.
    other: HashMap<CustomerId, String, foldhash::fast::RandomState>,
}

impl CustomerNames {
    /// Runs `f` on this thread while the names of every customer who is not erased
    /// are read on a second one, in a read of their own (as [`load`](Self::load)'s
    /// is): for a long list whose customers are known only once `f` has answered.
    /// [`of`](Self::of) then looks each up, and reads one it lacks (a customer created
    /// or erased meanwhile) itself. If the system refuses a thread, `f` runs alone and
    /// no name is read ahead.
    pub fn all_while<T>(
        store: &Books,
        f: impl FnOnce() -> Result<T>,
    ) -> Result<(T, CustomerNames)> {
        let read = || -> Result<CustomerNames> {
            let names = store.read(|r| {
                let ids: Vec<CustomerId> =
                    r.customer_stages()?.into_iter().map(|(id, _)| id).collect();
                r.tx().customer_names(&ids)
            })?;
            let mut all = CustomerNames::default();
            all.reserve(names.iter().map(|(id, _)| *id), names.len());
            for (id, name) in names {
                all.insert(id, name.to_string());
            }
            Ok(all)
        };
        std::thread::scope(|scope| {
            let reading = std::thread::Builder::new().spawn_scoped(scope, read);
            let out = f()?;
            let names = match reading {
                Ok(h) => h.join().unwrap_or_else(|p| std::panic::resume_unwind(p))?,
                Err(_) => CustomerNames::default(),
            };
            Ok((out, names))
        })
    }

    /// Reads the names of `ids` at once, in one read of their name column (each
    /// [`of`](Self::of) afterwards is a look-up): what a long list calls first.
    pub fn load(&mut self, store: &Books, ids: &[CustomerId]) -> Result<()> {
        let wanted: Vec<CustomerId> = ids
            .iter()
            .copied()
            .filter(|&id| self.get(id).is_none())
            .collect();
        if wanted.is_empty() {
            return Ok(());
        }
        self.reserve(wanted.iter().copied(), wanted.len());
        for (id, name) in store.read(|r| r.tx().customer_names(&wanted))? {
            self.insert(id, name.to_string());
        }
        Ok(())
    }

    /// Makes room by id for `count` names of the ids `ids` when they are dense
    /// enough: at most eight slots a name (a segment of an eighth of the book), and
    /// some room. A slot costs 24 bytes (24 MB for a million ids), a table entry about
    /// 33 bytes and its share of empty buckets; sparser ids stay in the table. Names
    /// already kept in the table for ids the slots now cover move into them.
    fn reserve(&mut self, ids: impl Iterator<Item = CustomerId>, count: usize) {
        let top = ids.map(CustomerId::get).max().unwrap_or(0);
        let dense = top <= 8 * count as u64 + 1_024;
        let Ok(len) = usize::try_from(top + 1) else {
            return;
        };
        if !dense || len <= self.by_id.len() {
            return;
        }
        self.by_id.resize(len, None);
        let covered: Vec<CustomerId> = self
            .other
            .keys()
            .copied()
            .filter(|&id| Self::slot(id) < len)
            .collect();
        for id in covered {
            if let Some(name) = self.other.remove(&id) {
                self.by_id[Self::slot(id)] = Some(name);
            }
        }
    }

    /// The kept name of `id`.
    fn get(&self, id: CustomerId) -> Option<&String> {
        match self.by_id.get(Self::slot(id)) {
            Some(kept) => kept.as_ref(),
            None => self.other.get(&id),
        }
    }

    /// Keeps `name` as the name of `id`.
    fn insert(&mut self, id: CustomerId, name: String) {
        match self.by_id.get_mut(Self::slot(id)) {
            Some(kept) => *kept = Some(name),
            None => {
                self.other.insert(id, name);
            }
        }
    }

    /// The position of `id` in `by_id` (beyond it when the id is too large for one).
    fn slot(id: CustomerId) -> usize {
        usize::try_from(id.get()).unwrap_or(usize::MAX)
    }

    /// The display name of `id` (`[erased]` once erased).
    pub fn of(&mut self, store: &Books, id: CustomerId) -> Result<String> {
        if let Some(name) = self.get(id) {
            return Ok(name.clone());
        }
        let name = store.customer(id)?.name().to_string();
        self.insert(id, name.clone());
        Ok(name)
    }

    /// [`of`](Self::of) for a list that names each customer once (a reassessment, a
    /// segment's members): the name is moved out, not copied. A customer named again
    /// is read again (the same name, one more read).
    pub fn take(&mut self, store: &Books, id: CustomerId) -> Result<String> {
        let kept = match self.by_id.get_mut(Self::slot(id)) {
            Some(kept) => kept.take(),
            None => self.other.remove(&id),
        };
        match kept {
            Some(name) => Ok(name),
            None => Ok(store.customer(id)?.name().to_string()),
        }
    }
}

/// A record's JSON with `customer_name` beside its customer id: what the `show`
/// commands print with `--json`.
pub fn with_name(record: &impl serde::Serialize, name: &str) -> Result<serde_json::Value> {
    let mut value = serde_json::to_value(record)?;
    if let Some(map) = value.as_object_mut() {
        map.insert("customer_name".into(), name.into());
    }
    Ok(value)
}

/// Prints a note on standard error (what the command is waiting for), escaped; nothing
/// under `--quiet`.
pub fn note(message: &str) {
    if !quiet() {
        crate::output::to_stderr("", message);
    }
}

/// Prints the `label value` lines of a `show` (`  stage      new`): each label, a
/// catalogue text, padded to `width` terminal columns (a Chinese character takes two),
/// then one space and the value.
pub fn fields(ctx: &mut Ctx, width: usize, rows: Vec<(&str, String)>) -> Result<()> {
    for (label, value) in rows {
        ctx.out.line(field(width, label, &value))?;
    }
    Ok(())
}

/// One line of [`fields`].
pub fn field(width: usize, label: &str, value: &str) -> String {
    let pad = " ".repeat(width.saturating_sub(label.width()) + 1);
    format!("  {label}{pad}{value}")
}

/// `one` if `n` is 1, else `many`: the verb (or other word) that agrees with a count.
/// (The dashboard's sentence now takes its agreement from the catalogue's counts.)
#[allow(dead_code)]
pub fn agree<'a, N>(n: N, one: &'a str, many: &'a str) -> &'a str
where
    N: PartialEq + From<u8>,
{
    if n == N::from(1) { one } else { many }
}

/// A value on the command line that names nothing in the books (an unknown segment):
/// refused like a usage error, with exit code 2, though only the books can tell.
#[derive(Debug)]
pub struct BadValue(pub String);

impl std::fmt::Display for BadValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for BadValue {}

/// Prints a warning on standard error, with its controls escaped.
pub fn warn(message: &str) {
    crate::output::to_stderr(t!("warning.prefix"), message);
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> Result<()> {
    QUIET.store(cli.quiet, Ordering::Relaxed);
    // These two need no database.
    match cli.command {
        Command::Completions { shell } => return completions(shell),
        Command::Man => return man(),
        _ => {}
    }
    let db_given = cli.db.is_some();
    let db = match cli.db {
        Some(db) => db,
        None => {
            let name = if matches!(cli.command, Command::Demo { .. }) {
                crate::paths::DEMO_FILE
            } else {
                crate::paths::BOOKS_FILE
            };
            crate::paths::data_dir()?.join(name)
        }
    };
    // `migrate` names its books in full and uses neither --db nor --tenant.
    let db = if matches!(cli.command, Command::Migrate { .. }) {
        db
    } else {
        crate::books::with_tenant(db, cli.tenant)?
    };
    let mut ctx = Ctx {
        db,
        db_given,
        busy_timeout: Duration::from_secs(u64::from(cli.busy_timeout)),
        now: Utc::now(),
        out: Out::new(cli.json),
        zone: Cell::new(BusinessZone::UTC),
    };
    if ctx.postgres_url().is_none() {
        crate::paths::refuse_side_file_name(&ctx.db)?;
        // Whatever the command, its output must not land in the database (`>> x.db`):
        // SQLite would find a corrupt file, or worse, a valid one with text appended.
        crate::paths::Protected::database(&ctx.db).check_stdout()?;
    }
    match cli.command {
        Command::Init { currency, timezone } => setup::init(&mut ctx, &currency, timezone)?,
        Command::Settings(c) => settings::run(&mut ctx, c)?,
        Command::Demo {
            customers,
            seed,
            end,
            locale,
        } => setup::demo(&mut ctx, customers, seed, end.as_deref(), locale)?,
        Command::Check => setup::check(&mut ctx)?,
        Command::Backup { file, force } => setup::backup(&mut ctx, &file, force)?,
        Command::Checkpoint => setup::checkpoint(&mut ctx)?,
        Command::Migrate { from, to } => setup::migrate(&mut ctx, &from, &to)?,
        Command::Customer(c) => customer::run(&mut ctx, c)?,
        Command::Interaction(c) => interaction::run(&mut ctx, c)?,
        Command::Purchase(c) => purchase::run(&mut ctx, c)?,
        Command::Product(c) => product::run(&mut ctx, c)?,
        Command::Recommend { customer, limit } => product::recommend(&mut ctx, &customer, limit)?,
        Command::Survey(c) => survey::run(&mut ctx, c)?,
        Command::Participation(c) => questionnaire::participation(&mut ctx, c)?,
        Command::Need(c) => need::run(&mut ctx, c)?,
        Command::Request(c) => request::run(&mut ctx, c)?,
        Command::Deal(c) => deal::run(&mut ctx, c)?,
        Command::Task(c) => task::run(&mut ctx, c)?,
        Command::Points(c) => points::run(&mut ctx, c)?,
        Command::Holiday(c) => holiday::run(&mut ctx, c)?,
        Command::Target(c) => target::run(&mut ctx, c)?,
        Command::Offer(c) => offer::run(&mut ctx, c)?,
        Command::Campaign(c) => campaign::run(&mut ctx, c)?,
        Command::Consent(c) => consent::run(&mut ctx, c)?,
        Command::Stage(c) => lifecycle::stage(&mut ctx, c)?,
        Command::Care {
            as_of,
            days,
            silent_days,
            holidays,
        } => {
            lifecycle::care(
                &mut ctx,
                as_of.as_of.as_deref(),
                days,
                silent_days,
                &holidays,
            )?;
        }
        Command::Segment(c) => lifecycle::segment(&mut ctx, c)?,
        Command::Audit {
            customer,
            since,
            page,
        } => audit::run(&mut ctx, customer.as_deref(), since.as_deref(), page)?,
        Command::Cost(c) => cost::run(&mut ctx, c)?,
        Command::Import(c) => import::import(&mut ctx, c)?,
        Command::Report {
            range,
            by,
            group,
            engagement,
        } => analytics::report(&mut ctx, &range, by, &group, engagement.as_deref())?,
        Command::Rfm {
            as_of,
            ties,
            top,
            group,
        } => analytics::rfm_cmd(&mut ctx, as_of.as_of.as_deref(), ties, top, &group)?,
        Command::Cohort {
            by,
            as_of,
            revenue,
            group,
        } => analytics::cohort(&mut ctx, by, as_of.as_of.as_deref(), revenue, &group)?,
        Command::Pipeline { range, group } => analytics::pipeline(&mut ctx, &range, &group)?,
        Command::ChurnRisk { as_of, top, group } => {
            analytics::churn_risk(&mut ctx, as_of.as_of.as_deref(), top, &group)?
        }
        Command::Clv(args) => clv::run(&mut ctx, &args)?,
        Command::Export {
            what,
            format,
            out,
            holidays,
        } => io::export(&mut ctx, what, format, out.as_deref(), &holidays)?,
        Command::Rule(c) => rule::run(&mut ctx, c)?,
        Command::Run { as_of, notify } => rule::run_now(&mut ctx, as_of.as_of.as_deref(), notify)?,
        Command::Serve {
            port,
            bind,
            open,
            no_automation,
        } => serve::run(&mut ctx, port, bind, open, !no_automation)?,
        Command::Completions { .. } | Command::Man => {}
    }
    ctx.out.finish()
}

/// `solocrm completions SHELL`: the shell's completion script, from the same clap
/// definition the program parses with (commands, flags, the names of stages and kinds).
fn completions(shell: clap_complete::Shell) -> Result<()> {
    let mut script = Vec::new();
    let mut command = <Cli as clap::CommandFactory>::command();
    clap_complete::generate(shell, &mut command, "solocrm", &mut script);
    // Written as generated: a script is code for the shell, not text to escape. A
    // closed pipe is the plain I/O error, which `main` ends quietly on.
    std::io::stdout().lock().write_all(&script)?;
    Ok(())
}

/// `solocrm man`: the manual page of the program, in roff.
fn man() -> Result<()> {
    let mut page = Vec::new();
    clap_mangen::Man::new(<Cli as clap::CommandFactory>::command()).render(&mut page)?;
    std::io::stdout().lock().write_all(&page)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{CustomerNames, agree, field};
    use solocrm_core::CustomerId;

    /// Names kept by id in slots once the ids are dense enough, in the table
    /// otherwise; a name kept in the table before the slots cover its id is found
    /// in its slot afterwards.
    #[test]
    fn names_move_into_slots_when_the_ids_are_dense() {
        let id = CustomerId::new;
        let mut names = CustomerNames::default();
        names.insert(id(10), "王芳".into());
        names.insert(id(5_000_000), "李娜".into());
        names.reserve([id(3), id(900_000)].into_iter(), 2);
        assert!(
            names.by_id.is_empty(),
            "two names of ids up to 900,000 are sparse"
        );
        names.reserve((1..=100).map(id), 100);
        assert_eq!(names.by_id.len(), 101);
        assert_eq!(
            names.by_id[10].as_deref(),
            Some("王芳"),
            "moved into its slot"
        );
        assert_eq!(names.other.len(), 1);
        names.insert(id(42), "张伟".into());
        assert_eq!(names.get(id(42)).map(String::as_str), Some("张伟"));
        assert_eq!(names.get(id(10)).map(String::as_str), Some("王芳"));
        assert_eq!(names.get(id(5_000_000)).map(String::as_str), Some("李娜"));
        assert_eq!(names.get(id(11)), None);
        names.reserve((1..=50).map(id), 50);
        assert_eq!(names.by_id.len(), 101, "never shrinks");
    }

    #[test]
    fn words_agree_and_fields_line_up_by_display_width() {
        assert_eq!(field(10, "stage", "new"), "  stage      new");
        assert_eq!(field(10, "阶段", "新客户"), "  阶段       新客户");
        assert_eq!(field(4, "reference", "x"), "  reference x");
        assert_eq!(agree(1_usize, "is", "are"), "is");
        assert_eq!(agree(3_usize, "is", "are"), "are");
    }
}
