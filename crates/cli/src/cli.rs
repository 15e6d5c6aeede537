//! The command line, as clap types. Every command is documented in `docs/cli.md`.

use solocrm_models::ClvOptions;
use std::path::PathBuf;

use std::ffi::OsStr;

use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
use clap::{Args, Parser, Subcommand, ValueEnum};
use solocrm_core::target::{TargetMetric, TargetPeriod};
use solocrm_core::{
    BusinessZone, Channel, CostCategory, DealStage, Direction, Label, LifecycleStage, NameList,
    Recurrence, RequestKind, Sentiment, SurveyKind, TaskKind, ValidationError,
};

/// A `--timezone` value: an IANA name, refused as a usage error with a hint (the name
/// to use for a city, a Chinese city name, an offset or an abbreviation).
fn zone(input: &str) -> Result<BusinessZone, String> {
    BusinessZone::parse(input).map_err(|e| e.to_string())
}

/// A value parser for a target's period: `2026-03`, `2026-Q1` or `2026`.
fn target_period(input: &str) -> Result<TargetPeriod, String> {
    TargetPeriod::parse(input).map_err(|e| e.to_string())
}

/// A value parser for one of the core's closed sets of names (stages, channels, kinds).
///
/// The names clap lists (in `--help`, in a usage error, in shell completions) are the
/// core's own `NAMES`, so they cannot drift from what the core accepts. Parsing is the
/// core's `parse`, as forgiving as before (`At-Risk`, `at risk` and `at_risk` are one
/// stage); a value it refuses is a usage error (exit 2) that lists the names.
#[derive(Clone, Copy)]
pub struct Names<T> {
    names: NameList,
    parse: fn(&str) -> Result<T, ValidationError>,
}

/// The [`Names`] parser of the set `names`, read with `parse`.
const fn names<T>(names: NameList, parse: fn(&str) -> Result<T, ValidationError>) -> Names<T> {
    Names { names, parse }
}

impl<T: Clone + Send + Sync + 'static> TypedValueParser for Names<T> {
    type Value = T;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &OsStr,
    ) -> Result<T, clap::Error> {
        if let Some(parsed) = value.to_str().and_then(|text| (self.parse)(text).ok()) {
            return Ok(parsed);
        }
        // Refused: clap's own parser of the exact names words the usage error (the
        // value, the argument, the valid names, a "did you mean").
        let exact = PossibleValuesParser::new(self.names.0.iter().copied());
        let name = exact.parse_ref(cmd, arg, value)?;
        (self.parse)(&name).map_err(|e| clap::Error::raw(clap::error::ErrorKind::InvalidValue, e))
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        Some(Box::new(
            self.names.0.iter().map(|n| PossibleValue::new(*n)),
        ))
    }
}

/// Run the customer relationships of a one-person company from the terminal.
///
/// Dates are YYYY-MM-DD, a local time YYYY-MM-DD HH:MM[:SS], or RFC 3339
/// (2026-11-22T09:30:00Z, 2026-11-22T09:30:00+08:00), between 1900 and 2199. Dates and
/// times without an offset are in the books' time zone (`settings show`). A CUSTOMER is #ID (the number `customer list` shows), an email address, or an
/// external reference (anything else, bare digits included).
#[derive(Debug, Parser)]
#[command(
    name = "solocrm",
    version,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    /// The database file [default: books.db in the data directory, e.g.
    /// ~/.local/share/solocrm/books.db; `demo` builds demo.db there instead].
    #[arg(long, global = true, env = "SOLOCRM_DB", value_name = "PATH")]
    pub db: Option<PathBuf>,

    /// The books of which tenant (business) of a PostgreSQL database --db names: the
    /// same as ?tenant=N in the URL (which must then agree). Not for an SQLite file.
    #[arg(
        long,
        global = true,
        env = "SOLOCRM_TENANT",
        value_name = "N",
        value_parser = clap::value_parser!(i64).range(1..)
    )]
    pub tenant: Option<i64>,

    /// Print data as JSON (the shapes are documented in docs/cli.md).
    #[arg(long, global = true)]
    pub json: bool,

    /// How long a command waits for another program writing to the database (an
    /// import, say) before giving up with a message, in seconds. Reading never waits.
    #[arg(
        long,
        global = true,
        env = "SOLOCRM_BUSY_TIMEOUT",
        default_value_t = 10,
        value_name = "SECS",
        value_parser = clap::value_parser!(u32).range(0..=3600)
    )]
    pub busy_timeout: u32,

    /// Print only what was asked for: no progress, no notes, no confirmation of what was
    /// recorded. Tables, JSON, warnings and errors still print.
    #[arg(long, short, global = true)]
    pub quiet: bool,

    /// The language of tables, labels and messages: en or zh-CN. Without it, the locale
    /// (LC_ALL, LC_MESSAGES, LANG) decides; zh_CN, zh_SG and zh give Chinese, anything
    /// else English. JSON and this help stay the same in every language.
    #[arg(
        long,
        global = true,
        value_enum,
        ignore_case = true,
        value_name = "LANG"
    )]
    pub lang: Option<crate::i18n::Lang>,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
// Parsed once per run: a large variant costs nothing worth boxing for.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a new, empty database.
    Init {
        /// The currency the books are kept in (ISO 4217).
        #[arg(long, default_value = "EUR")]
        currency: String,
        /// The business time zone, an IANA name such as Asia/Shanghai or Europe/Berlin:
        /// every day (recency, birthdays, due dates, report periods, typed dates) is
        /// counted in it. Default: the zone TZ names, else the system's, else UTC.
        #[arg(long, value_name = "NAME", value_parser = zone)]
        timezone: Option<BusinessZone>,
    },
    /// The books' settings: currency, business time zone, book id.
    #[command(subcommand)]
    Settings(SettingsCmd),
    /// Create a realistic sample business and show its dashboard.
    Demo {
        /// How many customers.
        #[arg(long, default_value_t = 300)]
        customers: u32,
        /// The seed of the generator: the same seed with the same --end and --locale
        /// gives the same business.
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// The last day of the generated history, YYYY-MM-DD (default: today in the
        /// shop's time zone); the history covers the three years up to it. 2025-12-31
        /// gives the demo of earlier versions.
        #[arg(long, value_name = "DATE")]
        end: Option<String>,
        /// The kind of shop: en (a European shop in EUR, days counted in UTC) or zh-CN
        /// (a Chinese shop in CNY and Asia/Shanghai, with Chinese names, cities and
        /// products and WeChat as a channel).
        #[arg(long, value_enum, ignore_case = true, default_value_t = DemoLocale::En)]
        locale: DemoLocale,
    },
    /// Check the database file: SQLite's integrity and foreign-key checks, and whether
    /// the write-ahead log has been folded into the file.
    Check,
    /// Copy the books to a new file (0600), consistent even while another program
    /// writes: a running import is in the copy entirely or not at all.
    Backup {
        /// The backup file to create.
        #[arg(value_name = "FILE")]
        file: PathBuf,
        /// Replace FILE if it exists (atomically, once the copy is complete).
        #[arg(long)]
        force: bool,
    },
    /// Fold the write-ahead log into the database file and empty it (after an erase
    /// that another program's open connection held up, or before copying the file).
    Checkpoint,
    /// Copy a whole book to a new one, records, ids, history and book id included:
    /// from an SQLite file to a PostgreSQL database or back (or file to file), then
    /// read both again and compare them. The target must not exist yet (a new file,
    /// or a tenant without books). --db and --tenant are not used.
    Migrate {
        /// The book to copy: a file, sqlite:PATH, or postgres://…?tenant=N.
        #[arg(long, value_name = "LOCATION")]
        from: String,
        /// The new book: a file, sqlite:PATH, or postgres://…?tenant=N.
        #[arg(long, value_name = "LOCATION")]
        to: String,
    },
    /// Customers: add, list, show, edit, tag, erase, export.
    #[command(subcommand)]
    Customer(CustomerCmd),
    /// Interactions with customers.
    #[command(subcommand)]
    Interaction(InteractionCmd),
    /// Purchases.
    #[command(subcommand)]
    Purchase(PurchaseCmd),
    /// The product catalogue and product analytics.
    #[command(subcommand)]
    Product(ProductCmd),
    /// Products a customer may like: bought together with theirs by other customers.
    Recommend {
        /// The customer.
        customer: String,
        /// How many products, at most.
        #[arg(long, default_value_t = 5)]
        limit: usize,
    },
    /// Satisfaction surveys.
    #[command(subcommand)]
    Survey(SurveyCmd),
    /// Participation: events, community activities, suggestions and reviews.
    #[command(subcommand)]
    Participation(ParticipationCmd),
    /// Needs and pain points of customers and deals (segment fields need, pain_point).
    #[command(subcommand)]
    Need(NeedCmd),
    /// Service requests: feedback, questions, complaints.
    #[command(subcommand)]
    Request(RequestCmd),
    /// The sales pipeline.
    #[command(subcommand)]
    Deal(DealCmd),
    /// Tasks and reminders.
    #[command(subcommand)]
    Task(TaskCmd),
    /// Loyalty points.
    #[command(subcommand)]
    Points(PointsCmd),
    /// Consent per purpose.
    #[command(subcommand)]
    Consent(ConsentCmd),
    /// Lifecycle stages.
    #[command(subcommand)]
    Stage(StageCmd),
    /// Who needs care: birthdays, holidays, follow-ups, silence, at-risk customers.
    Care {
        #[command(flatten)]
        as_of: AsOf,
        /// How many days ahead to look.
        #[arg(long, default_value_t = 7)]
        days: u32,
        /// No contact for this many days puts a customer on the list.
        #[arg(long, default_value_t = 90)]
        silent_days: u32,
        /// A yearly holiday to remind of, as NAME=MM-DD (repeatable).
        #[arg(long = "holiday", value_name = "NAME=MM-DD")]
        holidays: Vec<String>,
    },
    /// The holiday calendar kept with the books: preset calendars (cn, western), your
    /// own fixed-date or lunar holidays, and the holidays of a year.
    #[command(subcommand)]
    Holiday(HolidayCmd),
    /// Coupons and discounts (percent or amount off, or a gift): add, list, show, end,
    /// and their performance. A purchase uses one with `purchase add --coupon CODE`.
    #[command(subcommand)]
    Offer(crate::cmd::offer::OfferCmd),
    /// Campaigns: a channel, a period of days and a budget; costs, customers and deals
    /// attributed to them; cost, CAC, revenue and ROI per campaign and channel.
    #[command(subcommand)]
    Campaign(crate::cmd::campaign::CampaignCmd),
    /// Named segments of customers.
    #[command(subcommand)]
    Segment(SegmentCmd),
    /// The audit trail: every recorded change (the outbox of events) and every
    /// erasure, newest first, with the customer's name. Holds no erased personal data.
    Audit {
        /// Only what concerns this customer.
        #[arg(long)]
        customer: Option<String>,
        /// Only what happened on or after this day (undated changes, such as edits of
        /// a customer's data, are left out).
        #[arg(long, value_name = "DATE")]
        since: Option<String>,
        #[command(flatten)]
        page: Page,
    },
    /// Costs: marketing, tools and other spend, for ROI and CAC in the report.
    #[command(subcommand)]
    Cost(CostCmd),
    /// Sales targets per calendar month, quarter or year: revenue, new customers,
    /// deals won, retention rate; progress and run-rate forecast.
    #[command(subcommand)]
    Target(TargetCmd),
    /// Import customers, purchases or survey answers from CSV.
    #[command(subcommand)]
    Import(ImportCmd),
    /// The dashboard: every metric of a period; with --by, each metric by month or
    /// quarter.
    Report {
        #[command(flatten)]
        range: Range,
        /// A series: the report of every calendar month or quarter of the period.
        #[arg(long, value_enum)]
        by: Option<TrendBy>,
        #[command(flatten)]
        group: Group,
        /// What the loyalty index's engagement measures: interaction_rate (customers
        /// with an interaction, the default) or participation_rate (customers with an
        /// event, community activity, suggestion or review).
        #[arg(long, value_name = "BASIS")]
        engagement: Option<String>,
    },
    /// Recency, frequency and monetary scores and segments of every buyer.
    Rfm {
        #[command(flatten)]
        as_of: AsOf,
        /// How ties are ranked: shared (identical customers, identical scores) or
        /// ordinal (by customer id, equal-sized quintiles).
        #[arg(long, value_enum, default_value_t = Ties::Shared)]
        ties: Ties,
        /// Keep only the first N in the command's ranking; default: 20 in the table,
        /// everything in --json.
        #[arg(long)]
        top: Option<usize>,
        #[command(flatten)]
        group: Group,
    },
    /// Cohort retention: who keeps buying, by month or week of acquisition.
    Cohort {
        /// Cohorts by month or by week.
        #[arg(long, value_enum, default_value_t = CohortBy::Month)]
        by: CohortBy,
        #[command(flatten)]
        as_of: AsOf,
        /// Show revenue instead of the share of buyers.
        #[arg(long)]
        revenue: bool,
        #[command(flatten)]
        group: Group,
    },
    /// Pipeline conversion, win rate, cycle time, weighted value, velocity.
    Pipeline {
        #[command(flatten)]
        range: Range,
        #[command(flatten)]
        group: Group,
    },
    /// Customers at risk of churning, riskiest first, with reasons.
    ChurnRisk {
        #[command(flatten)]
        as_of: AsOf,
        /// Keep only the first N in the command's ranking; default: 20 in the table,
        /// everything in --json.
        #[arg(long)]
        top: Option<usize>,
        #[command(flatten)]
        group: Group,
    },
    /// Fit a buy-till-you-die model (BG/NBD, MBG/NBD, Pareto/NBD) with Gamma-Gamma
    /// spend, and value every customer.
    Clv(ClvArgs),
    /// Export customers, purchases or survey answers; the care calendar; or the whole
    /// book as a lossless archive (`export all`, read back by `import all`).
    Export {
        /// What to export.
        what: ExportWhat,
        /// The format: customers csv (default), json or vcard; purchases and surveys
        /// csv or json; calendar ics; all json.
        #[arg(long, value_enum)]
        format: Option<Format>,
        /// Write to this file instead of standard output (`-` is standard output).
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// For `export calendar`: a yearly holiday, as NAME=MM-DD (repeatable), as
        /// `care --holiday` takes it.
        #[arg(long = "holiday", value_name = "NAME=MM-DD")]
        holidays: Vec<String>,
    },
    /// Automation rules: the built-ins by their stable names and your own; switch them,
    /// add, remove, import from TOML, dry-run, and see what they did.
    #[command(subcommand)]
    Rule(RuleCmd),
    /// Run the automation (what a cron job or a systemd timer calls): the rules' events
    /// since the last run, and the time rules for every day since then up to --as-of.
    /// Each occurrence fires once, however often it runs.
    Run {
        #[command(flatten)]
        as_of: AsOf,
        /// Print a digest for the founder (what fired, what is due), suitable for a
        /// cron e-mail.
        #[arg(long)]
        notify: bool,
    },
    /// Open the books in the local web workspace: a dashboard with charts, customers,
    /// care and the pipeline board, in the browser. Prints the link to open (with its
    /// login token) as the first line and serves until Ctrl-C.
    Serve {
        /// The port; 0 picks a free one.
        #[arg(long, default_value_t = 8765)]
        port: u16,
        /// The address to listen on [default: 127.0.0.1]. Any other address makes the
        /// books reachable from other machines: a warning says so.
        #[arg(long, value_name = "ADDR")]
        bind: Option<std::net::IpAddr>,
        /// Open the link in the default browser.
        #[arg(long)]
        open: bool,
        /// Do not run the automation inside the server (it otherwise runs every minute
        /// and after each write made in the browser): for books whose rules a cron job
        /// runs with `solocrm run`.
        #[arg(long)]
        no_automation: bool,
    },
    /// Print a shell completion script on standard output, e.g. `solocrm completions
    /// bash > ~/.local/share/bash-completion/completions/solocrm` (docs/cli.md says where
    /// each shell looks).
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff) on standard output, e.g. `solocrm man >
    /// ~/.local/share/man/man1/solocrm.1`, or read it with `solocrm man | man -l -`.
    Man,
}

/// `solocrm rule ...`
#[derive(Debug, Subcommand)]
pub enum RuleCmd {
    /// List the rules: the built-ins by their stable names, then your own, with
    /// whether each is on.
    List,
    /// Switch a rule on.
    Enable {
        /// The rule's name.
        name: String,
    },
    /// Switch a rule off: it fires on nothing until switched on again (what happened
    /// meanwhile is not caught up).
    Disable {
        /// The rule's name.
        name: String,
    },
    /// Add a rule, from flags or from a TOML snippet (--toml, as `rule import` reads
    /// one `[[rule]]`).
    Add {
        /// The rule's name: lowercase letters, digits and '-'.
        #[arg(required_unless_present = "toml")]
        name: Option<String>,
        /// What makes it fire: an event (survey_answered, request_opened,
        /// first_purchase, purchase_recorded, stage_changed, deal_moved, deal_won,
        /// customer_created, interaction_logged) or birthday:N, no_contact:N,
        /// no_contact:IDEAL:MAX, deal_idle:N, task_overdue:N, holiday:N,
        /// points_expiring:N (points lapse within N days).
        #[arg(long, required_unless_present = "toml")]
        trigger: Option<String>,
        /// A condition in the segment syntax plus event fields, e.g. "kind = complaint
        /// and tag = vip" or "score <= 6".
        #[arg(long)]
        condition: Option<String>,
        /// Create a task with this title ({name} is the customer's name).
        #[arg(long, value_name = "TITLE")]
        task: Option<String>,
        /// The task's due date: this many business days after the firing day.
        #[arg(long, default_value_t = 0, value_name = "DAYS")]
        due_in: u32,
        /// The task's priority: low, normal or high.
        #[arg(long, default_value = "normal")]
        priority: String,
        /// The task's kind.
        #[arg(long, default_value = "follow_up", value_parser = names(TaskKind::NAMES, TaskKind::parse))]
        kind: TaskKind,
        /// Tag the customer (repeatable).
        #[arg(long)]
        tag: Vec<String>,
        /// Untag the customer (repeatable).
        #[arg(long)]
        untag: Vec<String>,
        /// Move the customer to this stage (skipped when the lifecycle does not allow
        /// the move).
        #[arg(long, value_parser = names(LifecycleStage::NAMES, LifecycleStage::parse))]
        stage: Option<LifecycleStage>,
        /// Log a note about the customer ({name} is their name).
        #[arg(long)]
        note: Option<String>,
        /// Give the customer this many loyalty points (an earn entry naming the rule).
        #[arg(long, value_name = "N")]
        points: Option<u32>,
        /// Add it switched off.
        #[arg(long)]
        disabled: bool,
        /// The rule as a TOML snippet instead of flags.
        #[arg(long, conflicts_with_all = ["name", "trigger", "condition", "task", "tag", "untag", "stage", "note", "points"])]
        toml: Option<String>,
    },
    /// Change one of your rules in place: its name, switch and history stay, so an
    /// occurrence it already fired for does not fire again. Each flag changes what it
    /// names and keeps the rest; --toml replaces the whole rule. A built-in is not
    /// edited: disable it and add your own.
    Edit {
        /// The rule's name.
        name: String,
        /// A new trigger, e.g. no_contact:60 (see `rule add --help`).
        #[arg(long)]
        trigger: Option<String>,
        /// A new condition.
        #[arg(long, conflicts_with = "no_condition")]
        condition: Option<String>,
        /// Drop the condition: fire on every occurrence of the trigger.
        #[arg(long)]
        no_condition: bool,
        /// The task's new title ({name} is the customer's name); adds a task to a
        /// rule that made none.
        #[arg(long, value_name = "TITLE")]
        task: Option<String>,
        /// The task's new due date, in business days after the firing day.
        #[arg(long, value_name = "DAYS")]
        due_in: Option<u32>,
        /// The task's new priority: low, normal or high.
        #[arg(long)]
        priority: Option<String>,
        /// The task's new kind.
        #[arg(long, value_parser = names(TaskKind::NAMES, TaskKind::parse))]
        kind: Option<TaskKind>,
        /// The whole rule as a TOML snippet (as `rule add --toml`); its name must be
        /// the rule's.
        #[arg(long, conflicts_with_all = ["trigger", "condition", "no_condition", "task", "due_in", "priority", "kind"])]
        toml: Option<String>,
    },
    /// Remove one of your rules (a built-in can only be disabled). What it did stays
    /// in `rule log`.
    Remove {
        /// The rule's name.
        name: String,
    },
    /// Dry run: what the rule would fire at --as-of, for whom and why. Writes nothing.
    Test {
        /// The rule's name (on or off).
        name: String,
        #[command(flatten)]
        as_of: AsOf,
    },
    /// What the rules did: each firing, oldest first, with the task it created.
    Log {
        /// Only this rule's firings.
        #[arg(long)]
        rule: Option<String>,
        #[command(flatten)]
        page: Page,
    },
    /// Add the rules of a TOML file (`[[rule]]` tables); errors name file:line:column.
    /// All of them or none.
    Import {
        /// The rules file.
        file: PathBuf,
        /// Replace your rules of the same names instead of refusing them.
        #[arg(long)]
        replace: bool,
    },
}

/// `solocrm cost ...`
#[derive(Debug, Subcommand)]
pub enum CostCmd {
    /// Record a cost.
    Add {
        /// How much, in the books' currency (more than zero).
        amount: String,
        /// What for.
        #[arg(long, value_parser = names(CostCategory::NAMES, CostCategory::parse))]
        category: CostCategory,
        /// The acquisition channel it paid for (e.g. wechat, google-ads), spelled like
        /// customers' --channel.
        #[arg(long)]
        channel: Option<String>,
        /// A note.
        #[arg(long)]
        note: Option<String>,
        /// The campaign it was spent on: its id or name.
        #[arg(long, value_name = "CAMPAIGN")]
        campaign: Option<String>,
        #[command(flatten)]
        at: At,
    },
    /// List costs, newest first.
    List {
        /// First day.
        #[arg(long, value_name = "DATE")]
        from: Option<String>,
        /// Last day, included.
        #[arg(long, value_name = "DATE")]
        to: Option<String>,
        #[command(flatten)]
        page: Page,
    },
    /// Void a cost recorded by mistake: it stays listed, counts nowhere.
    Void {
        /// The cost's id.
        id: u64,
        /// Why.
        #[arg(long)]
        reason: String,
        #[command(flatten)]
        at: At,
    },
}

/// `solocrm target ...`
#[derive(Debug, Subcommand)]
pub enum TargetCmd {
    /// Set the target of a metric for a calendar month, quarter or year (replacing
    /// the one already set for them).
    Set {
        /// What it measures.
        #[arg(long, value_parser = names(TargetMetric::NAMES, TargetMetric::parse))]
        metric: TargetMetric,
        /// The period: a month (2026-03), a quarter (2026-Q1) or a year (2026), in the
        /// books' time zone.
        #[arg(long, value_parser = target_period)]
        period: TargetPeriod,
        /// The goal: an amount in the books' currency for revenue, a whole number for
        /// new customers and deals won, a percentage (85%) or a fraction (0.85) for
        /// the retention rate.
        #[arg(allow_negative_numbers = true)]
        value: String,
    },
    /// List the targets, by period then metric.
    List,
    /// Remove the target of a metric for a period.
    Remove {
        /// What it measures.
        #[arg(long, value_parser = names(TargetMetric::NAMES, TargetMetric::parse))]
        metric: TargetMetric,
        /// The period (2026-03, 2026-Q1 or 2026).
        #[arg(long, value_parser = target_period)]
        period: TargetPeriod,
    },
    /// Progress against the targets: the figure so far, the share of the target and
    /// the run-rate forecast for the period's end.
    Progress {
        /// The targets of this period and of the periods containing it or inside it
        /// (default: the targets whose period contains the --as-of day).
        #[arg(long, value_parser = target_period)]
        period: Option<TargetPeriod>,
        /// The day to measure up to (default: today).
        #[command(flatten)]
        as_of: AsOf,
    },
}

/// `solocrm settings ...`
#[derive(Debug, Subcommand)]
pub enum SettingsCmd {
    /// Show the settings: location, book id, currency, time zone, points validity,
    /// schema version.
    Show,
    /// Change a setting: the time zone, the points validity, or both.
    #[command(group(
        clap::ArgGroup::new("setting")
            .required(true)
            .multiple(true)
            .args(["timezone", "points_validity"])
    ))]
    Set {
        /// The new business time zone (an IANA name such as Asia/Shanghai). Stored
        /// instants stay as they are; their days are counted in the new zone.
        #[arg(long, value_name = "NAME", value_parser = zone)]
        timezone: Option<BusinessZone>,
        /// How long earned points stay valid: a number of months (1-120) from the
        /// day they were earned, or `never` (the default: points never expire).
        #[arg(long, value_name = "MONTHS|never")]
        points_validity: Option<String>,
        /// The validity's first day: points earned before it count as earned on it
        /// (default: today when expiry is switched on, else the day already set).
        #[arg(long, value_name = "DATE", requires = "points_validity")]
        points_validity_from: Option<String>,
    },
}

/// `--as-of`, shared by the analytic commands.
#[derive(Debug, Args, Clone)]
pub struct AsOf {
    /// The moment to compute as of (default: now). A bare date means the end of that day
    /// in the books' time zone.
    #[arg(long = "as-of", value_name = "DATE")]
    pub as_of: Option<String>,
}

/// The period of a report: `--from` and `--to` (both inclusive days of the books' time
/// zone), or the year that ends with `--as-of`. `--to` and `--as-of` both name the last
/// day, so only one of them may be given.
#[derive(Debug, Args, Clone)]
pub struct Range {
    /// First day (default: a year before the last).
    #[arg(long, value_name = "DATE")]
    pub from: Option<String>,
    /// Last day, included (default: the --as-of day).
    #[arg(long, value_name = "DATE")]
    pub to: Option<String>,
    /// The last day of the period when --to is not given (default: today); not with --to.
    #[arg(long = "as-of", value_name = "DATE", conflicts_with = "to")]
    pub as_of: Option<String>,
}

/// The kinds of demo shop (`demo --locale`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DemoLocale {
    /// A European shop in EUR.
    #[value(name = "en")]
    En,
    /// A Chinese shop in CNY.
    #[value(name = "zh-CN")]
    ZhCn,
}

/// RFM tie rules.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Ties {
    /// Identical customers share a score.
    Shared,
    /// Ties broken by customer id.
    Ordinal,
}

/// `--segment NAME` or `--stage STAGE`: narrows an analytic command to one group of
/// customers (docs/cli.md, "Groups").
#[derive(Debug, Args, Clone, Default)]
pub struct Group {
    /// Only the customers of this saved segment (its conditions evaluated at the end
    /// of the period or the --as-of moment).
    #[arg(long, value_name = "NAME", value_parser = segment_name, conflicts_with = "stage")]
    pub segment: Option<Label>,
    /// Only the customers in this lifecycle stage (at the end of the period or the
    /// --as-of moment).
    #[arg(long, value_parser = names(LifecycleStage::NAMES, LifecycleStage::parse))]
    pub stage: Option<LifecycleStage>,
}

/// A segment name as the segment commands accept it; a usage error (exit 2) otherwise.
fn segment_name(text: &str) -> Result<Label, String> {
    Label::parse(text).map_err(|e| e.to_string())
}

/// The periods of `report --by`.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum TrendBy {
    /// Calendar months.
    Month,
    /// Calendar quarters.
    Quarter,
}

/// Cohort grains.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum CohortBy {
    /// Calendar months.
    Month,
    /// ISO weeks.
    Week,
}

/// `--at`, shared by the commands that record something.
#[derive(Debug, Args, Clone)]
pub struct At {
    /// When it happened (default: now): YYYY-MM-DD (the start of that day), YYYY-MM-DD
    /// HH:MM in the books' time zone, or RFC 3339 with an offset.
    #[arg(long, value_name = "DATE")]
    pub at: Option<String>,
}

/// Customer fields shared by `add` and `edit`.
#[derive(Debug, Args, Clone, Default)]
pub struct CustomerFields {
    /// Email address.
    #[arg(long)]
    pub email: Option<String>,
    /// Phone number.
    #[arg(long)]
    pub phone: Option<String>,
    /// Company.
    #[arg(long)]
    pub company: Option<String>,
    /// Birthday, YYYY-MM-DD.
    #[arg(long)]
    pub birthday: Option<String>,
    /// Country, ISO 3166-1 alpha-2 (DE, FR, US, ...).
    #[arg(long)]
    pub country: Option<String>,
    /// City.
    #[arg(long)]
    pub city: Option<String>,
    /// How they found the business (e.g. referral).
    #[arg(long)]
    pub channel: Option<String>,
    /// What winning them cost, in the base currency.
    #[arg(long)]
    pub cost: Option<String>,
    /// Reference in another system.
    #[arg(long)]
    pub reference: Option<String>,
    /// Notes.
    #[arg(long)]
    pub notes: Option<String>,
}

/// The fields `customer edit --clear` clears.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ClearField {
    /// The email address.
    Email,
    /// The phone number.
    Phone,
    /// The company.
    Company,
    /// The birthday.
    Birthday,
    /// The country.
    Country,
    /// The city.
    City,
    /// The acquisition channel.
    Channel,
    /// The acquisition cost.
    Cost,
    /// The external reference.
    Reference,
    /// The notes.
    Notes,
}

/// How much of a list to print (`--limit`), shared by every list command.
#[derive(Debug, Clone, Copy, Args)]
pub struct Page {
    /// Print at most this many rows; 0 prints all. Default: a screenful on a terminal
    /// (`LINES` or its height), all when the output is piped or `--json`.
    #[arg(long, value_name = "N")]
    pub limit: Option<usize>,
}

/// `solocrm customer ...`
#[derive(Debug, Subcommand)]
pub enum CustomerCmd {
    /// Add a customer.
    Add {
        /// Display name.
        name: String,
        #[command(flatten)]
        fields: CustomerFields,
        /// A tag (repeatable).
        #[arg(long = "tag")]
        tags: Vec<String>,
        /// First stage (default: prospect).
        #[arg(long, value_parser = names(LifecycleStage::NAMES, LifecycleStage::parse))]
        stage: Option<LifecycleStage>,
        /// The campaign that acquired them: its id or name.
        #[arg(long, value_name = "CAMPAIGN")]
        campaign: Option<String>,
        #[command(flatten)]
        at: At,
    },
    /// List customers by id, with stage, last purchase and total spent.
    List {
        /// Only this stage.
        #[arg(long, value_parser = names(LifecycleStage::NAMES, LifecycleStage::parse))]
        stage: Option<LifecycleStage>,
        /// Only this tag.
        #[arg(long)]
        tag: Option<String>,
        /// Only this saved segment.
        #[arg(long)]
        segment: Option<String>,
        #[command(flatten)]
        page: Page,
        /// Start after this customer id (the next page: the last line of a cut list
        /// says which).
        #[arg(long)]
        after: Option<u64>,
        #[command(flatten)]
        as_of: AsOf,
    },
    /// Find customers by a part of their name, email, company, city or notes
    /// (any case; Chinese from one character).
    Search {
        /// The text to look for.
        text: String,
        #[command(flatten)]
        page: Page,
    },
    /// Show one customer with their history.
    Show {
        /// The customer.
        customer: String,
    },
    /// Change a customer's data (only the given fields).
    Edit {
        /// The customer.
        customer: String,
        /// New display name.
        #[arg(long)]
        name: Option<String>,
        #[command(flatten)]
        fields: CustomerFields,
        /// Clear a field; repeatable.
        #[arg(long = "clear", value_name = "FIELD", value_enum)]
        clear: Vec<ClearField>,
        /// Set a profile attribute, KEY=VALUE; repeatable. KEY is country, region,
        /// city, gender (female, male, diverse), income_band (low, lower_middle,
        /// middle, upper_middle, high), industry, birth_year, interests, lifestyle or values
        /// (comma-separated tags, replacing the list), or any other name for a custom
        /// attribute (what `attribute.KEY` finds in a segment).
        #[arg(long = "set", value_name = "KEY=VALUE")]
        set: Vec<String>,
        /// Remove a profile attribute (a KEY as for --set); repeatable.
        #[arg(long = "unset", value_name = "KEY")]
        unset: Vec<String>,
        /// The campaign that acquired them: its id or name.
        #[arg(long, conflicts_with = "no_campaign", value_name = "CAMPAIGN")]
        campaign: Option<String>,
        /// Remove their campaign attribution.
        #[arg(long)]
        no_campaign: bool,
    },
    /// Add tags.
    Tag {
        /// The customer.
        customer: String,
        /// Tags to add.
        #[arg(required = true)]
        tags: Vec<String>,
    },
    /// Remove tags.
    Untag {
        /// The customer.
        customer: String,
        /// Tags to remove.
        #[arg(required = true)]
        tags: Vec<String>,
    },
    /// Erase a customer's personal data (keeps anonymous amounts and dates).
    Erase {
        /// The customer.
        customer: String,
        /// Confirm: erasing cannot be undone.
        #[arg(long)]
        yes: bool,
        #[command(flatten)]
        at: At,
    },
    /// Print everything known about a customer as JSON.
    Export {
        /// The customer.
        customer: String,
    },
}

/// `solocrm interaction ...`
#[derive(Debug, Subcommand)]
pub enum InteractionCmd {
    /// Log an interaction.
    Log {
        /// The customer.
        customer: String,
        /// What was said or done.
        summary: String,
        /// How it happened.
        #[arg(long, value_parser = names(Channel::NAMES, Channel::parse))]
        channel: Channel,
        /// Who started it.
        #[arg(long, default_value = "outbound", value_parser = names(Direction::NAMES, Direction::parse))]
        direction: Direction,
        /// How it went.
        #[arg(long, value_parser = names(Sentiment::NAMES, Sentiment::parse))]
        sentiment: Option<Sentiment>,
        #[command(flatten)]
        at: At,
    },
    /// List interactions, newest first (voided ones only with --voided).
    List {
        /// Only this customer's.
        #[arg(long)]
        customer: Option<String>,
        /// Only this channel.
        #[arg(long, value_parser = names(Channel::NAMES, Channel::parse))]
        channel: Option<Channel>,
        #[command(flatten)]
        voided: Voided,
        #[command(flatten)]
        page: Page,
    },
    /// Show one interaction.
    Show {
        /// The interaction's id.
        id: u64,
    },
    /// Change an interaction (only the given fields).
    #[command(group(clap::ArgGroup::new("change").required(true).multiple(true)
        .args(["summary", "channel", "direction", "sentiment", "clear_sentiment", "at"])))]
    Edit {
        /// The interaction's id.
        id: u64,
        /// New summary.
        #[arg(long)]
        summary: Option<String>,
        /// New channel.
        #[arg(long, value_parser = names(Channel::NAMES, Channel::parse))]
        channel: Option<Channel>,
        /// New direction.
        #[arg(long, value_parser = names(Direction::NAMES, Direction::parse))]
        direction: Option<Direction>,
        /// New sentiment.
        #[arg(long, value_parser = names(Sentiment::NAMES, Sentiment::parse), conflicts_with = "clear_sentiment")]
        sentiment: Option<Sentiment>,
        /// Forget the sentiment.
        #[arg(long)]
        clear_sentiment: bool,
        /// New time: YYYY-MM-DD, YYYY-MM-DD HH:MM in the books' time zone, or RFC 3339.
        #[arg(long, value_name = "DATE")]
        at: Option<String>,
    },
    /// Void an interaction logged by mistake: it stays, marked void, and counts nowhere.
    Void {
        /// The interaction's id.
        id: u64,
        #[command(flatten)]
        void: VoidArgs,
    },
}

/// `--voided`, shared by the lists of records that can be voided.
#[derive(Debug, Clone, Copy, Args)]
pub struct Voided {
    /// Also list voided records (marked in a VOIDED column).
    #[arg(long)]
    pub voided: bool,
}

/// `--reason` and `--by`, shared by the void commands.
#[derive(Debug, Clone, Args)]
pub struct VoidArgs {
    /// Why it is voided (kept with the record).
    #[arg(long)]
    pub reason: String,
    /// Who voids it (default: the USER environment variable, if set).
    #[arg(long)]
    pub by: Option<String>,
}

/// `solocrm purchase ...`
#[derive(Debug, Subcommand)]
pub enum PurchaseCmd {
    /// Record a purchase.
    Add {
        /// The customer.
        customer: String,
        /// The amount, e.g. 49.90 (base currency); with --line, the sum of the lines
        /// when left out (and it must equal that sum when given).
        #[arg(allow_negative_numbers = true, required_unless_present = "lines")]
        amount: Option<String>,
        /// A line: product SKU, quantity, unit price (default: the catalogue price)
        /// and line discount (default: none) (repeatable).
        #[arg(long = "line", value_name = "SKU:QTY[:UNIT_PRICE[:DISCOUNT]]")]
        lines: Vec<String>,
        /// What the goods sold cost the business (for margins and CLV).
        #[arg(long, allow_negative_numbers = true)]
        cost: Option<String>,
        /// What was bought.
        #[arg(long)]
        description: Option<String>,
        /// Invoice number or other reference (unique).
        #[arg(long)]
        reference: Option<String>,
        /// The won deal it follows from.
        #[arg(long)]
        deal: Option<u64>,
        /// A coupon code: AMOUNT is the total before its discount, and the purchase
        /// records the total less the discount. Not with --line: a purchase's lines
        /// add up to its amount exactly, and a coupon's discount is not a line's.
        #[arg(long, value_name = "CODE", conflicts_with = "lines")]
        coupon: Option<String>,
        #[command(flatten)]
        at: At,
    },
    /// List purchases, newest first (voided ones only with --voided).
    List {
        /// Only this customer's.
        #[arg(long)]
        customer: Option<String>,
        #[command(flatten)]
        voided: Voided,
        #[command(flatten)]
        page: Page,
    },
    /// Show one purchase with its refunds.
    Show {
        /// The purchase's id.
        id: u64,
    },
    /// Change a purchase (only the given fields).
    #[command(group(clap::ArgGroup::new("change").required(true).multiple(true)
        .args(["amount", "cost", "description", "reference", "at", "clear"])))]
    Edit {
        /// The purchase's id.
        id: u64,
        /// New amount (not below what was refunded).
        #[arg(long, allow_negative_numbers = true)]
        amount: Option<String>,
        /// New cost of the goods sold.
        #[arg(long, allow_negative_numbers = true)]
        cost: Option<String>,
        /// New description.
        #[arg(long)]
        description: Option<String>,
        /// New reference (unique).
        #[arg(long)]
        reference: Option<String>,
        /// New time (not after its first refund): YYYY-MM-DD, YYYY-MM-DD HH:MM in the
        /// books' time zone, or RFC 3339.
        #[arg(long, value_name = "DATE")]
        at: Option<String>,
        /// Clear these fields (cost, description, reference); repeatable.
        #[arg(long = "clear", value_name = "FIELD", value_parser = ["cost", "description", "reference"])]
        clear: Vec<String>,
    },
    /// Void a purchase entered by mistake: it stays, marked void, and counts nowhere.
    /// A refunded purchase cannot be voided.
    Void {
        /// The purchase's id.
        id: u64,
        #[command(flatten)]
        void: VoidArgs,
    },
    /// Refund (part of) a purchase: at most what is left of it.
    Refund {
        /// The purchase's id.
        id: u64,
        /// The amount to give back, e.g. 10.00.
        #[arg(allow_negative_numbers = true)]
        amount: String,
        /// Why.
        #[arg(long)]
        reason: Option<String>,
        #[command(flatten)]
        at: At,
    },
    /// List refunds, newest first.
    Refunds {
        /// Only this customer's.
        #[arg(long)]
        customer: Option<String>,
        #[command(flatten)]
        page: Page,
    },
}

/// `solocrm survey ...`
#[derive(Debug, Subcommand)]
pub enum SurveyCmd {
    /// Record a survey answer: exactly one of --nps, --csat, --ces.
    Record {
        /// The customer.
        customer: String,
        /// Net Promoter answer, 0-10.
        #[arg(long, group = "score", allow_negative_numbers = true)]
        nps: Option<i64>,
        /// Satisfaction, 1-5.
        #[arg(long, group = "score", allow_negative_numbers = true)]
        csat: Option<i64>,
        /// Effort, 1-7.
        #[arg(long, group = "score", allow_negative_numbers = true)]
        ces: Option<i64>,
        /// Their comment.
        #[arg(long)]
        comment: Option<String>,
        #[command(flatten)]
        at: At,
    },
    /// List survey answers, newest first (voided ones only with --voided).
    List {
        /// Only this customer's.
        #[arg(long)]
        customer: Option<String>,
        /// Only this kind.
        #[arg(long, value_parser = names(SurveyKind::NAMES, SurveyKind::parse))]
        kind: Option<SurveyKind>,
        #[command(flatten)]
        voided: Voided,
        #[command(flatten)]
        page: Page,
    },
    /// Show one survey answer.
    Show {
        /// The answer's id.
        id: u64,
    },
    /// Void an answer recorded by mistake: it stays, marked void, and counts in no
    /// NPS, CSAT or CES and drives no lifecycle rule.
    Void {
        /// The answer's id.
        id: u64,
        #[command(flatten)]
        void: VoidArgs,
    },
    /// Survey templates: questions by dimension, each a score on a scale or free text.
    #[command(subcommand)]
    Template(SurveyTemplateCmd),
    /// Record a customer's answers to a template.
    Answer {
        /// The template's name.
        template: String,
        /// The customer.
        customer: String,
        /// How the survey was taken: questionnaire (问卷), phone (电话), online (在线)
        /// or in_person (面对面).
        #[arg(long)]
        method: String,
        /// One answer, N=VALUE: question N (from 1) gets a score, or the text for a
        /// free-text question. Repeat for each question answered.
        #[arg(long = "answer", value_name = "N=VALUE", required = true)]
        answers: Vec<String>,
        #[command(flatten)]
        at: At,
    },
    /// Answer sheets (recorded with `survey answer`): list them, void one.
    #[command(subcommand)]
    Sheet(SurveySheetCmd),
    /// Per-dimension means, the dimension that best separates detractors from
    /// promoters, and the comments grouped by dimension (voided sheets left out).
    Dimensions {
        /// Only this template's sheets.
        #[arg(long)]
        template: Option<String>,
        /// Only the sheets of this segment's or stage's customers (decided now).
        #[command(flatten)]
        group: Group,
    },
}

/// `solocrm survey sheet ...`
#[derive(Debug, Subcommand)]
pub enum SurveySheetCmd {
    /// List answer sheets, newest first (voided ones only with --voided), with the
    /// exact time that names a sheet for `survey sheet void`.
    List {
        /// Only this customer's.
        #[arg(long)]
        customer: Option<String>,
        /// Only this template's.
        #[arg(long)]
        template: Option<String>,
        #[command(flatten)]
        voided: Voided,
        #[command(flatten)]
        page: Page,
    },
    /// Void a sheet recorded by mistake: it stays, marked void, in the exports and the
    /// archive, and counts in no dimension analysis. It cannot be undone.
    Void {
        /// The template's name.
        template: String,
        /// The customer.
        customer: String,
        /// When they answered, as `survey sheet list` shows it: YYYY-MM-DD, YYYY-MM-DD
        /// HH:MM in the books' time zone, or RFC 3339 with an offset.
        #[arg(long, value_name = "DATE")]
        at: String,
        #[command(flatten)]
        void: VoidArgs,
    },
}

/// `solocrm participation ...`
#[derive(Debug, Subcommand)]
pub enum ParticipationCmd {
    /// Record that a customer took part in an event or the community, or gave a
    /// suggestion or a review.
    Add {
        /// The customer.
        customer: String,
        /// event (活动), community (社区), suggestion (建议) or review (评价).
        #[arg(long)]
        kind: String,
        /// A note: the event, the suggestion, what the review said.
        #[arg(long)]
        note: Option<String>,
        #[command(flatten)]
        at: At,
    },
    /// List participations, newest first.
    List {
        /// Only this customer's.
        #[arg(long)]
        customer: Option<String>,
        #[command(flatten)]
        page: Page,
    },
}

/// `solocrm need ...`
#[derive(Debug, Subcommand)]
pub enum NeedCmd {
    /// Record a need or pain point of a customer, or of one of their deals.
    Add {
        /// The customer.
        customer: String,
        /// What: a tag-like key, e.g. fast-delivery or 价格敏感.
        key: String,
        /// need (需求, the default) or pain-point (痛点).
        #[arg(long, default_value = "need")]
        kind: String,
        /// The deal it belongs to (a deal of the same customer).
        #[arg(long, value_name = "ID")]
        deal: Option<u64>,
        /// A note: what exactly they said or need.
        #[arg(long)]
        note: Option<String>,
        #[command(flatten)]
        at: At,
    },
    /// List needs and pain points, newest first.
    List {
        /// Only this customer's.
        customer: Option<String>,
        /// Only the open ones (not resolved, not voided).
        #[arg(long)]
        open: bool,
        #[command(flatten)]
        page: Page,
    },
    /// Mark a need met or a pain point solved: it stops matching segments.
    Resolve {
        /// The need's id.
        id: u64,
        #[command(flatten)]
        at: At,
    },
    /// Void an entry recorded by mistake: it stays in the books and counts nowhere.
    Void {
        /// The need's id.
        id: u64,
        #[command(flatten)]
        at: At,
    },
    /// Open needs and pain points by key: what customers need and what hurts them
    /// most, by the number of customers.
    Stats,
}

/// `solocrm survey template ...`
#[derive(Debug, Subcommand)]
pub enum SurveyTemplateCmd {
    /// Add a template, from a TOML file (--from) or from --question flags.
    Add {
        /// Its name.
        name: String,
        /// A TOML file of [[question]] entries (text, dimension, answer, role).
        #[arg(long, value_name = "FILE", conflicts_with = "questions")]
        from: Option<std::path::PathBuf>,
        /// A question TEXT|DIMENSION|ANSWER[|ROLE]: ANSWER a scale MIN-MAX or
        /// `text`, ROLE nps, csat or ces. Repeat in the order asked.
        #[arg(long = "question", value_name = "SPEC")]
        questions: Vec<String>,
    },
    /// List the templates (archived ones only with --archived).
    List {
        /// Include archived templates, marked in an ARCHIVED column.
        #[arg(long)]
        archived: bool,
    },
    /// Show a template's questions.
    Show {
        /// Its name.
        name: String,
    },
    /// Rename a template (its answers follow), or replace its questions while no
    /// one has answered it.
    Edit {
        /// Its name.
        name: String,
        /// A new name.
        #[arg(long = "name", value_name = "NEW")]
        rename: Option<String>,
        /// New questions from a TOML file of [[question]] entries (unanswered
        /// templates only).
        #[arg(long, value_name = "FILE", conflicts_with = "questions")]
        from: Option<std::path::PathBuf>,
        /// New questions TEXT|DIMENSION|ANSWER[|ROLE], replacing all of them
        /// (unanswered templates only).
        #[arg(long = "question", value_name = "SPEC")]
        questions: Vec<String>,
    },
    /// Remove a template no one has answered (an answered one stays).
    Remove {
        /// Its name.
        name: String,
    },
    /// Archive a template: it takes no new answers; its answers stay in the
    /// analysis and the exports.
    Archive {
        /// Its name.
        name: String,
    },
    /// Bring an archived template back, to be answered again.
    Unarchive {
        /// Its name.
        name: String,
    },
}

/// `solocrm request ...`
#[derive(Debug, Subcommand)]
pub enum RequestCmd {
    /// Open a service request.
    Open {
        /// The customer.
        customer: String,
        /// One-line subject.
        subject: String,
        /// What kind of request.
        #[arg(long, default_value = "question", value_parser = names(RequestKind::NAMES, RequestKind::parse))]
        kind: RequestKind,
        /// The full text.
        #[arg(long, default_value = "")]
        description: String,
        /// The won deal it follows from.
        #[arg(long)]
        deal: Option<u64>,
        #[command(flatten)]
        at: At,
    },
    /// Record a response.
    Respond {
        /// The request id.
        id: u64,
        #[command(flatten)]
        at: At,
    },
    /// Resolve a request.
    Resolve {
        /// The request id.
        id: u64,
        #[command(flatten)]
        at: At,
    },
    /// Reopen a resolved request.
    Reopen {
        /// The request id.
        id: u64,
        #[command(flatten)]
        at: At,
    },
    /// Show a request with its steps.
    Show {
        /// The request id.
        id: u64,
    },
    /// List requests, newest first.
    List {
        /// Only unresolved ones.
        #[arg(long)]
        open: bool,
        /// Only this customer's.
        #[arg(long)]
        customer: Option<String>,
        #[command(flatten)]
        page: Page,
    },
}

/// `solocrm deal ...`
#[derive(Debug, Subcommand)]
pub enum DealCmd {
    /// Add a deal to the pipeline.
    Add {
        /// The customer.
        customer: String,
        /// What it is about.
        title: String,
        /// Its value, e.g. 2500 (base currency).
        #[arg(allow_negative_numbers = true)]
        value: String,
        /// First stage (default: need_identified).
        #[arg(long, value_parser = names(DealStage::NAMES, DealStage::parse))]
        stage: Option<DealStage>,
        /// Expected close date.
        #[arg(long)]
        close: Option<String>,
        /// The campaign that brought it: its id or name.
        #[arg(long, value_name = "CAMPAIGN")]
        campaign: Option<String>,
        #[command(flatten)]
        at: At,
    },
    /// Move a deal to another stage.
    Move {
        /// The deal id.
        id: u64,
        /// The new stage.
        #[arg(value_parser = names(DealStage::NAMES, DealStage::parse))]
        stage: DealStage,
        /// Why it was lost (only with the stage lost; optional).
        #[arg(long)]
        reason: Option<String>,
        #[command(flatten)]
        at: At,
    },
    /// Show a deal with its moves and notes.
    Show {
        /// The deal id.
        id: u64,
    },
    /// Correct a deal: its title, value or expected close date, and add a note.
    Edit {
        /// The deal id.
        id: u64,
        /// A new title.
        #[arg(long)]
        title: Option<String>,
        /// A new value, e.g. 2500 (base currency).
        #[arg(long, allow_negative_numbers = true)]
        value: Option<String>,
        /// A new expected close date.
        #[arg(long, conflicts_with = "no_close")]
        close: Option<String>,
        /// Forget the expected close date.
        #[arg(long)]
        no_close: bool,
        /// A note to add.
        #[arg(long)]
        note: Option<String>,
        /// The campaign that brought it: its id or name.
        #[arg(long, value_name = "CAMPAIGN", conflicts_with = "no_campaign")]
        campaign: Option<String>,
        /// Remove its campaign attribution.
        #[arg(long)]
        no_campaign: bool,
        #[command(flatten)]
        at: At,
    },
    /// Add a dated note to a deal.
    Note {
        /// The deal id.
        id: u64,
        /// The note.
        text: String,
        #[command(flatten)]
        at: At,
    },
    /// List deals, newest first.
    List {
        /// Only open deals.
        #[arg(long)]
        open: bool,
        /// Only this customer's.
        #[arg(long)]
        customer: Option<String>,
        #[command(flatten)]
        page: Page,
    },
}

/// `solocrm task ...`
#[derive(Debug, Subcommand)]
pub enum TaskCmd {
    /// Add a task.
    Add {
        /// What to do.
        title: String,
        /// When it is due.
        #[arg(long)]
        due: String,
        /// The customer it concerns.
        #[arg(long)]
        customer: Option<String>,
        /// What kind of task.
        #[arg(long, default_value = "follow_up", value_parser = names(TaskKind::NAMES, TaskKind::parse))]
        kind: TaskKind,
        /// Repeat it this often.
        #[arg(long, value_parser = names(Recurrence::NAMES, Recurrence::parse))]
        every: Option<Recurrence>,
        #[command(flatten)]
        at: At,
    },
    /// Mark a task done (a recurring task moves to its next date).
    Done {
        /// The task id.
        id: u64,
        #[command(flatten)]
        at: At,
    },
    /// Show a task.
    Show {
        /// The task id.
        id: u64,
    },
    /// Correct an open task: its title, due date or kind.
    Edit {
        /// The task id.
        id: u64,
        /// A new title.
        #[arg(long)]
        title: Option<String>,
        /// A new due date (a recurring task then repeats from it).
        #[arg(long)]
        due: Option<String>,
        /// A new kind.
        #[arg(long, value_parser = names(TaskKind::NAMES, TaskKind::parse))]
        kind: Option<TaskKind>,
    },
    /// Cancel an open task: it is kept, with the time, but no longer listed or
    /// reminded of (`task list --all` shows it).
    Cancel {
        /// The task id.
        id: u64,
        #[command(flatten)]
        at: At,
    },
    /// List open tasks, soonest due first.
    List {
        /// Only tasks due on or before this date.
        #[arg(long)]
        until: Option<String>,
        /// Only this customer's.
        #[arg(long)]
        customer: Option<String>,
        /// Include done and cancelled tasks.
        #[arg(long)]
        all: bool,
        #[command(flatten)]
        page: Page,
    },
}

/// `solocrm product ...`
#[derive(Debug, Subcommand)]
pub enum ProductCmd {
    /// Add a product to the catalogue.
    Add {
        /// Its SKU: the code it is known by (unique; no spaces or colons).
        sku: String,
        /// Its name, e.g. "龙井茶 250g".
        name: String,
        /// The list price of one unit, e.g. 88.00.
        #[arg(long, allow_negative_numbers = true)]
        price: String,
        /// What one unit costs the business (for margins).
        #[arg(long, allow_negative_numbers = true)]
        cost: Option<String>,
        /// Its category, e.g. 茶叶.
        #[arg(long)]
        category: Option<String>,
    },
    /// List the catalogue by SKU (archived products only with --archived).
    List {
        /// Include archived products.
        #[arg(long)]
        archived: bool,
    },
    /// Show one product.
    Show {
        /// The SKU.
        sku: String,
    },
    /// Change a product (only the given fields; the SKU stays).
    #[command(group(clap::ArgGroup::new("change").required(true).multiple(true)
        .args(["name", "price", "cost", "category", "archive", "restore", "clear"])))]
    Edit {
        /// The SKU.
        sku: String,
        /// A new name.
        #[arg(long)]
        name: Option<String>,
        /// A new list price.
        #[arg(long, allow_negative_numbers = true)]
        price: Option<String>,
        /// A new unit cost.
        #[arg(long, allow_negative_numbers = true)]
        cost: Option<String>,
        /// A new category.
        #[arg(long)]
        category: Option<String>,
        /// Archive it: kept for the lines that name it, refused on new lines.
        #[arg(long, conflicts_with = "restore")]
        archive: bool,
        /// Bring an archived product back.
        #[arg(long)]
        restore: bool,
        /// Clear a field: cost or category (repeatable).
        #[arg(long, value_name = "FIELD", value_parser = ["cost", "category"])]
        clear: Vec<String>,
    },
    /// Remove a product: deleted if no purchase line names it, archived otherwise.
    Remove {
        /// The SKU.
        sku: String,
    },
    /// Sales by product or category: units, revenue, cost, margin, buyers, repeat
    /// rate; and how many products customers buy.
    Stats {
        /// Rows by product or by category.
        #[arg(long, value_parser = ["product", "category"], default_value = "product")]
        by: String,
        /// Only the purchase lines of this segment's or stage's customers (decided
        /// now).
        #[command(flatten)]
        group: Group,
    },
}

/// `solocrm holiday ...`
#[derive(Debug, Subcommand)]
pub enum HolidayCmd {
    /// The holidays of a year, by date: the books' calendar (chosen presets and your own
    /// holidays), or with --calendar only the named presets.
    List {
        /// The Gregorian year, 1900-2100 (default: this year in the books' time zone).
        #[arg(long)]
        year: Option<i32>,
        /// A preset calendar to list instead of the books' calendar: cn or western
        /// (repeatable).
        #[arg(long = "calendar", value_name = "NAME")]
        calendars: Vec<String>,
    },
    /// Add one of your own holidays (or replace the one with its key): a fixed date
    /// with --date MM-DD, or a Chinese lunar date with --lunar M-D (--leap for the leap
    /// month of that number; in years without one the regular month is used).
    Add {
        /// The holiday's name, e.g. 店庆 or "Shop birthday".
        name: String,
        /// Its key (default: the name as a tag); customers tagged with the key are
        /// tagged for the holiday.
        #[arg(long)]
        key: Option<String>,
        /// A fixed day each year, MM-DD.
        #[arg(
            long,
            value_name = "MM-DD",
            conflicts_with = "lunar",
            required_unless_present = "lunar"
        )]
        date: Option<String>,
        /// A day of the Chinese lunar calendar, M-D (e.g. 8-15).
        #[arg(long, value_name = "M-D")]
        lunar: Option<String>,
        /// The leap month of the --lunar month.
        #[arg(long, requires = "lunar")]
        leap: bool,
    },
    /// Remove one of your own holidays, by key.
    Remove {
        /// The holiday's key.
        key: String,
    },
    /// Choose the preset calendars the books use (cn, western; none to use only your
    /// own holidays).
    Use {
        /// The presets, in order.
        #[arg(value_name = "PRESET")]
        presets: Vec<String>,
    },
}

/// `solocrm points ...`
#[derive(Debug, Subcommand)]
pub enum PointsCmd {
    /// Add points.
    Earn {
        /// The customer.
        customer: String,
        /// How many.
        #[arg(allow_negative_numbers = true)]
        points: i64,
        /// Why.
        #[arg(long)]
        reason: Option<String>,
        #[command(flatten)]
        at: At,
    },
    /// Spend points.
    Redeem {
        /// The customer.
        customer: String,
        /// How many.
        #[arg(allow_negative_numbers = true)]
        points: i64,
        /// Why.
        #[arg(long)]
        reason: Option<String>,
        #[command(flatten)]
        at: At,
    },
    /// Let points lapse: a number of a customer's points, or with --due every lapse
    /// due under the points validity (`settings set --points-validity`).
    Expire {
        /// The customer (not with --due).
        #[arg(required_unless_present = "due", conflicts_with = "due")]
        customer: Option<String>,
        /// How many (not with --due).
        #[arg(
            allow_negative_numbers = true,
            required_unless_present = "due",
            conflicts_with = "due"
        )]
        points: Option<i64>,
        /// Why.
        #[arg(long, conflicts_with = "due")]
        reason: Option<String>,
        #[command(flatten)]
        at: At,
        /// Post every customer's lapses due by the --as-of day, each dated on its
        /// lapse day; a rerun posts nothing more.
        #[arg(long)]
        due: bool,
        /// The last day whose lapses are posted (default: today); with --due only.
        #[arg(long = "as-of", value_name = "DATE", requires = "due")]
        as_of: Option<String>,
    },
    /// Correct a balance by a signed number of points (+50 or -50).
    Adjust {
        /// The customer.
        customer: String,
        /// How many, with a sign for a reduction (-50).
        #[arg(allow_negative_numbers = true)]
        points: i64,
        /// Why (required: a correction is always explained).
        #[arg(long)]
        reason: String,
        #[command(flatten)]
        at: At,
    },
    /// Show the balance and the ledger.
    Balance {
        /// The customer.
        customer: String,
    },
    /// The ledger, newest first, with the balance after each entry.
    History {
        /// The customer.
        customer: String,
        #[command(flatten)]
        page: Page,
    },
    /// The tiers of the points program, stored with the books.
    #[command(subcommand)]
    Tier(TierCmd),
}

/// `solocrm points tier ...`
#[derive(Debug, Subcommand)]
pub enum TierCmd {
    /// List the tiers, lowest first.
    List,
    /// Add a tier, or move the threshold of an existing one.
    Set {
        /// Its name, e.g. gold or 金卡.
        name: String,
        /// The lifetime points from which it applies (earned plus adjustments).
        #[arg(allow_negative_numbers = true)]
        min: i64,
    },
    /// Remove a tier.
    Remove {
        /// Its name.
        name: String,
    },
}

/// `solocrm consent ...`
#[derive(Debug, Subcommand)]
pub enum ConsentCmd {
    /// Record that the customer granted consent.
    Grant {
        /// The customer.
        customer: String,
        /// What for, e.g. marketing-email.
        purpose: String,
        /// Where it was given (a web form, a signed contract).
        #[arg(long)]
        source: String,
        #[command(flatten)]
        at: At,
    },
    /// Record that the customer withdrew consent.
    Revoke {
        /// The customer.
        customer: String,
        /// What for, e.g. marketing-email.
        purpose: String,
        /// Where it was withdrawn.
        #[arg(long)]
        source: String,
        #[command(flatten)]
        at: At,
    },
    /// List consent decisions, newest first: everyone's, or one customer's.
    List {
        /// Only this customer's.
        customer: Option<String>,
        /// Only this purpose.
        #[arg(long)]
        purpose: Option<String>,
        #[command(flatten)]
        page: Page,
    },
}

/// `solocrm stage ...`
#[derive(Debug, Subcommand)]
pub enum StageCmd {
    /// Move a customer to a stage by hand.
    Set {
        /// The customer.
        customer: String,
        /// The stage.
        #[arg(value_parser = names(LifecycleStage::NAMES, LifecycleStage::parse))]
        stage: LifecycleStage,
        /// Why.
        #[arg(long)]
        reason: Option<String>,
        #[command(flatten)]
        at: At,
    },
    /// List who should move according to the lifecycle policy; apply with --apply.
    Reassess {
        #[command(flatten)]
        as_of: AsOf,
        /// Record the moves.
        #[arg(long)]
        apply: bool,
    },
}

/// `solocrm segment ...`
#[derive(Debug, Subcommand)]
pub enum SegmentCmd {
    /// Save a segment, e.g. `segment add lapsed-vips 'tag = vip and days_since_purchase > 60'`.
    Add {
        /// Its name.
        name: String,
        /// The condition (see docs/cli.md for the syntax).
        expr: String,
    },
    /// List saved segments.
    List,
    /// Show a segment's condition and its customers.
    Show {
        /// Its name.
        name: String,
        #[command(flatten)]
        as_of: AsOf,
    },
    /// Delete a segment.
    Delete {
        /// Its name.
        name: String,
    },
}

/// `solocrm import ...`
#[derive(Debug, Subcommand)]
pub enum ImportCmd {
    /// Customers (upsert on reference, else on email), from a customers CSV, a
    /// vCard file, or another program's contacts export (--from).
    Customers {
        #[command(flatten)]
        opts: ImportOpts,
        /// The file is another program's contacts export: its columns are mapped to
        /// the customer fields (docs/cli.md lists them).
        #[arg(long, value_enum, value_name = "PROGRAM")]
        from: Option<ImportFrom>,
        /// The file's format; by default vcard for a .vcf or .vcard file, else csv.
        #[arg(long, value_enum)]
        format: Option<ImportFormat>,
    },
    /// Purchases.
    Purchases {
        #[command(flatten)]
        opts: ImportOpts,
        /// Create a customer for an unknown reference.
        #[arg(long)]
        create_missing: bool,
    },
    /// Survey answers.
    Surveys(ImportOpts),
    /// A whole book from an archive of `export all`, into a new, empty book (ids,
    /// times and history exactly as they were).
    All {
        /// The archive; `-` reads standard input.
        file: PathBuf,
    },
}

/// Programs whose contacts exports `import customers --from` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ImportFrom {
    /// A HubSpot contacts export (CSV).
    Hubspot,
    /// A Google Contacts export (Google CSV).
    GoogleContacts,
}

/// What `import customers` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ImportFormat {
    /// A customers CSV file.
    Csv,
    /// vCard 3.0 or 4.0.
    Vcard,
}

/// Options of every import.
#[derive(Debug, Args, Clone)]
pub struct ImportOpts {
    /// The CSV file (with a header row), in UTF-8, UTF-16 or GB18030; `-` reads
    /// standard input.
    pub file: PathBuf,
    /// Ignore columns the import does not know instead of refusing the file.
    #[arg(long)]
    pub ignore_unknown: bool,
    /// Import the valid rows and write the invalid ones to --rejects.
    #[arg(long, requires = "rejects")]
    pub skip_invalid: bool,
    /// Where --skip-invalid writes the refused rows, with a reason column.
    #[arg(long, value_name = "FILE", requires = "skip_invalid")]
    pub rejects: Option<PathBuf>,
    /// Check everything and say what the import would do, writing nothing (not even
    /// the rejects); for customers, row by row and field by field.
    #[arg(long)]
    pub dry_run: bool,
}

/// What `export` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportWhat {
    /// Customers.
    Customers,
    /// Purchases.
    Purchases,
    /// Survey answers.
    Surveys,
    /// Birthdays, holidays and open tasks as calendar events.
    Calendar,
    /// Every record of the book: the lossless archive `import all` reads.
    All,
}

impl ExportWhat {
    /// The formats it can be written in, the default first.
    pub fn formats(self) -> &'static [Format] {
        match self {
            ExportWhat::Customers => &[Format::Csv, Format::Json, Format::Vcard],
            ExportWhat::Purchases | ExportWhat::Surveys => &[Format::Csv, Format::Json],
            ExportWhat::Calendar => &[Format::Ics],
            ExportWhat::All => &[Format::Json],
        }
    }
}

/// Export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// CSV with the import columns.
    Csv,
    /// JSON.
    Json,
    /// vCard 4.0 (customers).
    Vcard,
    /// iCalendar (the calendar).
    Ics,
}

impl Cli {
    /// The checks of argument combinations clap cannot express; an error is a usage
    /// error (exit 2).
    ///
    /// # Errors
    ///
    /// The usage error.
    pub fn check(&self) -> Result<(), clap::Error> {
        let usage = |message: String| {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            Err(cmd.error(clap::error::ErrorKind::ArgumentConflict, message))
        };
        match &self.command {
            Command::Export {
                what,
                format: Some(format),
                ..
            } if !what.formats().contains(format) => {
                fn name(v: &impl ValueEnum) -> String {
                    v.to_possible_value()
                        .map(|p| p.get_name().to_owned())
                        .unwrap_or_default()
                }
                let allowed: Vec<String> = what.formats().iter().map(name).collect();
                usage(format!(
                    "export {} cannot be written as {}; its formats: {}",
                    name(what),
                    name(format),
                    allowed.join(", ")
                ))
            }
            Command::Export { what, holidays, .. }
                if !holidays.is_empty() && *what != ExportWhat::Calendar =>
            {
                usage("--holiday is for export calendar".to_owned())
            }
            Command::Import(ImportCmd::Customers {
                from: Some(_),
                format: Some(ImportFormat::Vcard),
                ..
            }) => usage(
                "--from reads the program's CSV export; it does not take --format vcard".to_owned(),
            ),
            _ => Ok(()),
        }
    }
}

/// `solocrm clv`
#[derive(Debug, Args, Clone)]
pub struct ClvArgs {
    /// The purchase-count model.
    #[arg(long, value_enum, default_value_t = ClvModel::BgNbd)]
    pub model: ClvModel,
    /// The last day of the calibration period; later purchases are held out.
    #[arg(long, value_name = "DATE")]
    pub calibration_end: String,
    /// The time unit of the model.
    #[arg(long, value_enum, default_value_t = ClvUnit::Week)]
    pub unit: ClvUnit,
    /// Expected purchases over this many units after the calibration end (default: the
    /// calibration length); more than 0, at most 100 years.
    #[arg(long, value_name = "N")]
    pub predict: Option<f64>,
    /// CLV horizon in months, 1 to 1200 (100 years).
    #[arg(long, default_value_t = ClvOptions::default().horizon_months, value_parser = clap::value_parser!(u32).range(1..=1200))]
    pub horizon_months: u32,
    /// Monthly discount rate, 0 to 1.
    #[arg(long, default_value_t = ClvOptions::default().discount_monthly)]
    pub discount_monthly: f64,
    /// Profit margin applied to the spend, 0 to 1.
    #[arg(long, default_value_t = ClvOptions::default().margin)]
    pub margin: f64,
    /// Keep only the first N customers by CLV; default: 20 in the table, everything
    /// in --json.
    #[arg(long)]
    pub top: Option<usize>,
    /// L2 penalty on the parameters of every fit (lifetimes' penalizer_coef), 0 to 10;
    /// default: 0.01 when fewer than 30 customers bought again, else 0 (docs/clv.md).
    #[arg(long, value_name = "X")]
    pub penalizer: Option<f64>,
    #[command(flatten)]
    pub group: Group,
}

/// The purchase-count models.
#[derive(Debug, Clone, Copy, ValueEnum)]
#[allow(clippy::enum_variant_names)] // the models' own names: bg-nbd, mbg-nbd, pareto-nbd
pub enum ClvModel {
    /// BG/NBD (Fader, Hardie & Lee 2005).
    BgNbd,
    /// MBG/NBD (Batislam, Denizel & Filiztekin 2007).
    MbgNbd,
    /// Pareto/NBD (Schmittlein, Morrison & Colombo 1987).
    ParetoNbd,
}

/// Time units.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ClvUnit {
    /// Days.
    Day,
    /// Weeks (7 days).
    Week,
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory as _;

    use super::*;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn every_listed_name_parses_to_itself_and_others_are_usage_errors() {
        let parser = names(LifecycleStage::NAMES, LifecycleStage::parse);
        let cmd = clap::Command::new("t");
        for stage in LifecycleStage::ALL {
            let parsed = parser
                .parse_ref(&cmd, None, OsStr::new(stage.as_str()))
                .expect("a listed name");
            assert_eq!(parsed, *stage);
        }
        let listed: Vec<String> = parser
            .possible_values()
            .into_iter()
            .flatten()
            .map(|v| v.get_name().to_owned())
            .collect();
        assert_eq!(listed, LifecycleStage::NAMES.0);
        assert_eq!(
            parser.parse_ref(&cmd, None, OsStr::new("At Risk")).ok(),
            Some(LifecycleStage::AtRisk)
        );
        let err = parser
            .parse_ref(&cmd, None, OsStr::new("foo"))
            .expect_err("not a stage");
        assert_eq!(err.kind(), clap::error::ErrorKind::InvalidValue);
        assert!(err.to_string().contains("won_back"), "{err}");
    }
}
