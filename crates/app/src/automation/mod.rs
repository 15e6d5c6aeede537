//! The automation runner: evaluates the books' rules ([`solocrm_core::automation`])
//! at an instant and runs what fires.
//!
//! [`run`] does, in order:
//!
//! 1. reads, in one snapshot, the rules in force, the runner's cursor, the outbox
//!    events after it, and (for the time rules) each customer's creation day and
//!    birthday, the contacts that can begin a silence the run's days see, open deals
//!    and open tasks (whole customers only for a firing's condition), and works out
//!    what fires ([`plan`], which writes nothing: it is
//!    also `rule test`'s dry run);
//! 2. runs each firing in **one write transaction**: it checks the firing's key
//!    (rule, customer, occurrence) is not stored yet, runs the rule's actions, stores
//!    the firing and, for an event, moves the event cursor up to the event before it
//!    — so a crash at any point leaves each firing whole or absent, and a rerun fires
//!    each occurrence exactly once;
//! 3. on the first run of a business day, posts the points lapses due by that day
//!    under the books' points validity ([`post_lapses`], after the time rules, so a
//!    `points_expiring:N` reminder a daily run would have made is made first);
//! 4. moves the cursor to the last event read and to the run's day.
//!
//! Events that the actions themselves write (a stage a rule changed) are read again,
//! up to [`MAX_ROUNDS`] rounds per run; what is left waits for the next run.
//!
//! **Days.** A time rule's condition holds on a window of business days
//! ([`Window`]); a run covers the days after the previous run's day up to its own
//! ([`Span`]), and fires each window on the first covered day it holds. So one run
//! after a week fires what seven daily runs would have, on the same days, with the
//! same due dates. The first run ever covers its own day only, and takes the events
//! already in the outbox that are dated before that day as history, not news.

pub mod draft;
pub mod file;

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use solocrm_core::automation::{
    Action, AutomationCursor, ConditionInput, EffectiveRule, Firing, Occurrence, Priority,
    RuleName, Span, Trigger, Window, add_business_days, birthday_windows, cadence_windows,
    expiry_windows, holiday_windows, idle_windows, overdue_window, silence_windows,
};
use solocrm_core::ops::{Reader, Writer};
use solocrm_core::port::CustomerFilter;
use solocrm_core::{
    BusinessZone, Channel, Crm, Customer, CustomerId, Direction, DomainEvent, Event, EventSeq,
    Facts, FreeText, Label, LifecyclePolicy, LifecycleStage, NewInteraction, NewPointsEntry,
    NewTask, OpenQuery, PointsEntryId, PointsKind, PointsLot, PointsTiers, Predicate,
    PurchaseSummary, StageChange, StageReason, StoreError, StoreResult, TaskId, TaskQuery,
};

/// How many rounds of events one run reads: the outbox as it was, then the events
/// its own actions wrote, and so on.
pub const MAX_ROUNDS: usize = 4;

/// How many events are read at a time.
const PAGE: u32 = 1000;

/// One firing a run would make: which rule, for whom, for what, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Planned {
    /// The rule.
    pub rule: RuleName,
    /// The customer.
    pub customer: CustomerId,
    /// What it fires for.
    pub occurrence: Occurrence,
    /// The business day it fires on.
    pub day: NaiveDate,
    /// Why, in words.
    pub why: String,
}

/// What one firing did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Fired {
    /// The firing.
    #[serde(flatten)]
    pub planned: Planned,
    /// The task it created, if any.
    pub task: Option<TaskId>,
    /// That task's title.
    pub title: Option<String>,
    /// That task's due date.
    pub due: Option<NaiveDate>,
    /// That task's priority.
    pub priority: Option<Priority>,
    /// The actions it skipped, and why (a stage move the lifecycle does not allow).
    pub skipped: Vec<String>,
}

/// What [`run`] did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RunReport {
    /// The firings it made, in the order it made them.
    pub fired: Vec<Fired>,
    /// Firings it found already made (by an earlier or a concurrent run).
    pub already: usize,
    /// How many outbox events it read.
    pub events: u64,
    /// The customers whose stage the lifecycle's catch-up moved (see [`run`]).
    pub moved: Vec<Moved>,
    /// The moves the catch-up found but could not make (the customer changed
    /// meanwhile), and why.
    pub not_moved: Vec<NotMoved>,
    /// The points lapses the run posted (see [`post_lapses`]).
    pub lapsed: Vec<Lapsed>,
    /// The cursor after the run.
    pub cursor: AutomationCursor,
}

/// A customer a run moved along the lifecycle, with every step it recorded (each
/// dated when its condition arose, see [`Writer::apply_suggestion`]).
///
/// [`Writer::apply_suggestion`]: solocrm_core::ops::Writer::apply_suggestion
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Moved {
    /// The customer.
    pub customer: CustomerId,
    /// The stage changes recorded, in order.
    pub changes: Vec<StageChange>,
}

/// Points that lapsed: the expiry entry [`post_lapses`] posted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Lapsed {
    /// The customer.
    pub customer: CustomerId,
    /// The lapse day (the entry is dated at its start in the business time zone).
    pub day: NaiveDate,
    /// How many points lapsed.
    pub points: i64,
    /// The expiry entry.
    pub entry: PointsEntryId,
    /// The balance after it.
    pub balance: i64,
}

/// Posts every points lapse due by the end of `as_of`'s business day under the books'
/// points validity ([`PointsExpiry`](solocrm_core::PointsExpiry)): one expiry entry
/// per customer and lapse day, dated on that day, each customer in its own write
/// transaction. Nothing without a validity. The due lapses are found in one read
/// snapshot first, so customers with nothing due cost no write; each write finds them
/// again ([`Writer::post_due_lapses`]), so a concurrent or repeated call never posts
/// one twice. Erased customers are left out.
///
/// [`Writer::post_due_lapses`]: solocrm_core::Writer::post_due_lapses
///
/// # Errors
///
/// The store's.
pub fn post_lapses(crm: &Crm, as_of: DateTime<Utc>) -> StoreResult<Vec<Lapsed>> {
    let (zone, due) = crm.read(|r| {
        let zone = r.time_zone()?;
        let today = zone.date_of(as_of);
        let due = match lapsing_lots(&r, today)? {
            Some(holders) => due_holders(&r, &holders, today)?,
            None => Vec::new(),
        };
        Ok((zone, due))
    })?;
    let mut lapsed = Vec::new();
    post_lapses_of(crm, zone, as_of, due, &mut lapsed)?;
    Ok(lapsed)
}

/// Points holders' open lots under the books' points validity, by customer id: the
/// lots that lapse by some day (see [`lapsing_lots`]). The one read of the lots a run
/// makes: the `points_expiring` windows and the lapses due are both taken from it.
type HolderLots = Vec<(CustomerId, Vec<PointsLot>)>;

/// The open lots that lapse by the end of `through` (their `lapses_on` set), of every
/// customer who has some; `None` without a validity. Since a later earn never lapses
/// earlier, these are the lots earned through
/// [`PointsExpiry::last_earned_lapsing_by`](solocrm_core::PointsExpiry::last_earned_lapsing_by),
/// which a store answers from its kept lots ([`ReadTx::points_lots_earned_through`],
/// ADR 0043) instead of replaying every holder's ledger.
///
/// [`ReadTx::points_lots_earned_through`]: solocrm_core::port::ReadTx::points_lots_earned_through
fn lapsing_lots(r: &Reader<'_>, through: NaiveDate) -> StoreResult<Option<HolderLots>> {
    let Some(expiry) = r.points_expiry()? else {
        return Ok(None);
    };
    let Some(earned) = expiry.last_earned_lapsing_by(through) else {
        return Ok(Some(Vec::new()));
    };
    let mut held = r.tx().points_lots_earned_through(earned)?;
    for (_, lots) in &mut held {
        for lot in lots.iter_mut() {
            lot.lapses_on = Some(expiry.lapse_day(lot.earned_on));
        }
    }
    Ok(Some(held))
}

/// The last day a `points_expiring` window of `rules` can need a lapse of, for a
/// span ending on `to`: a lapse later than `to` plus the longest reminder opens no
/// window in the span. `to` itself without such a rule (the lapses due).
fn lapses_needed_through(rules: &[EffectiveRule], to: NaiveDate) -> NaiveDate {
    let ahead = rules
        .iter()
        .filter_map(|x| match x.rule.trigger() {
            Trigger::PointsExpiring { days } => Some(days),
            _ => None,
        })
        .max()
        .unwrap_or(0);
    to.checked_add_days(chrono::Days::new(u64::from(ahead)))
        .unwrap_or(to)
}

/// The holders of `holders` with a lapse due by the end of `today`, leaving out
/// erased customers (their points stay in the ledger as amounts, but nothing is
/// posted for them any more).
fn due_holders(
    r: &Reader<'_>,
    holders: &HolderLots,
    today: NaiveDate,
) -> StoreResult<Vec<CustomerId>> {
    let mut due = Vec::new();
    for (customer, lots) in holders {
        if !solocrm_core::due_lapses(lots, today).is_empty()
            && r.tx().customer_erased(*customer)? == Some(false)
        {
            due.push(*customer);
        }
    }
    Ok(due)
}

/// Posts the lapses due by `as_of`'s day for each of `due` (found in an earlier read),
/// each customer in its own write transaction, which finds them again
/// ([`Writer::post_due_lapses`](solocrm_core::Writer::post_due_lapses)). Each
/// customer's lapses go to `out` as their transaction commits, so after a failure
/// `out` still holds every lapse that was posted.
fn post_lapses_of(
    crm: &Crm,
    zone: BusinessZone,
    as_of: DateTime<Utc>,
    due: Vec<CustomerId>,
    out: &mut Vec<Lapsed>,
) -> StoreResult<()> {
    let today = zone.date_of(as_of);
    for customer in due {
        let posted = match crm.write(|w| w.post_due_lapses(customer, today)) {
            Ok(posted) => posted,
            // Erased (or gone) since the read: nothing of theirs lapses.
            Err(
                StoreError::NotFound { .. }
                | StoreError::Conflict(solocrm_core::Conflict::CustomerErased { .. }),
            ) => continue,
            Err(e) => return Err(e),
        };
        out.extend(posted.into_iter().map(|e| Lapsed {
            customer,
            day: zone.date_of(e.at()),
            points: e.delta().saturating_neg(),
            entry: e.id(),
            balance: e.balance_after(),
        }));
    }
    Ok(())
}

/// A lifecycle move a run found but could not make.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NotMoved {
    /// The customer.
    pub customer: CustomerId,
    /// Why, in words (the store's refusal).
    pub error: String,
}

/// Which rules a plan looks at.
#[derive(Debug, Clone, Copy)]
pub enum Only<'a> {
    /// Every rule that is on.
    Enabled,
    /// This rule alone, on or off (what `rule test` asks).
    Rule(&'a RuleName),
}

/// What fires at `as_of`, from the stored cursor on, without writing anything: the
/// firings already stored are left out.
///
/// # Errors
///
/// The store's; [`StoreError::NotFound`] for an unknown rule in `only`.
pub fn plan(crm: &Crm, as_of: DateTime<Utc>, only: Only<'_>) -> StoreResult<Vec<Planned>> {
    crm.read(|r| {
        let cursor = r.automation_cursor()?;
        let rules = pick(&r, only)?;
        let mut out = Vec::new();
        let after = cursor.events;
        // A time rule alone reads no event.
        if rules.iter().any(|x| !x.rule.trigger().is_time()) {
            // One pass reads every page to the end of the outbox; nothing writes
            // during a plan, so there is no second round.
            let (planned, _, _) = plan_events(&r, &rules, cursor, after, as_of)?;
            out.extend(planned);
        }
        out.extend(plan_time(&r, &rules, cursor, as_of, None)?);
        Ok(out)
    })
}

/// A run that a store failure stopped part way ([`run`]'s error): what it had done
/// and committed before the failure, and the failure.
#[derive(Debug)]
pub struct Stopped {
    /// What the run did before it stopped: every stage move, firing and lapse in it
    /// is committed. Its `cursor` means nothing (it is the default one): the run may
    /// have moved the stored event cursor part way, but not to its day, so the next
    /// run covers the same days and goes on from there.
    pub done: Box<RunReport>,
    /// Why it stopped.
    pub error: StoreError,
}

impl std::fmt::Display for Stopped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.error.fmt(f)
    }
}

impl std::error::Error for Stopped {
    /// The failure's own source: `Display` already prints the failure, so a printer
    /// of the error chain does not print it twice.
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.error.source()
    }
}

impl From<Stopped> for StoreError {
    /// The failure alone, for a caller that has no use for what was done before it.
    fn from(stopped: Stopped) -> StoreError {
        stopped.error
    }
}

/// Runs the rules in force at `as_of`: see the [module docs](self).
///
/// # Errors
///
/// [`Stopped`], with the store's failure and what the run had done before it. A
/// firing that failed left nothing; the moves, firings and lapses before it stay (and
/// are in [`Stopped::done`]), and a rerun goes on from there.
pub fn run(crm: &Crm, as_of: DateTime<Utc>) -> Result<RunReport, Stopped> {
    let mut report = RunReport {
        fired: Vec::new(),
        already: 0,
        events: 0,
        moved: Vec::new(),
        not_moved: Vec::new(),
        lapsed: Vec::new(),
        cursor: AutomationCursor::default(),
    };
    match run_into(crm, as_of, &mut report) {
        Ok(()) => Ok(report),
        Err(error) => Err(Stopped {
            done: Box::new(report),
            error,
        }),
    }
}

/// [`run`]'s work, recording in `report` each thing as it commits.
fn run_into(crm: &Crm, as_of: DateTime<Utc>, report: &mut RunReport) -> StoreResult<()> {
    let (rules, start, zone) = crm.read(|r| {
        Ok((
            pick(&r, Only::Enabled)?,
            r.automation_cursor()?,
            r.time_zone()?,
        ))
    })?;
    let today = zone.date_of(as_of);
    let new_day = start.day.is_none_or(|day| day < today);
    if let Some(policy) = crm.lifecycle()
        && new_day
    {
        catch_up_stages(crm, policy, as_of, report)?;
    }
    let mut after = start.events;
    for _ in 0..MAX_ROUNDS {
        let (planned, last, read) = crm.read(|r| plan_events(&r, &rules, start, after, as_of))?;
        report.events += read;
        fire_all(crm, &rules, planned, as_of, report)?;
        if last == after {
            break;
        }
        crm.write(|w| {
            w.advance_automation_cursor(AutomationCursor {
                events: last,
                day: None,
            })
        })?;
        after = last;
    }
    // One read of the points ledgers serves both the `points_expiring` windows and the
    // lapses posted after the time firings. Those firings cannot change what is due
    // by today: a rule's points action is an earn dated at `as_of`, which opens a lot
    // lapsing after today and takes nothing from the older lots; each lapse's write
    // reads the customer's ledger again anyway.
    let (timed, due) = crm.read(|r| {
        let held = if new_day {
            lapsing_lots(&r, lapses_needed_through(&rules, today))?
        } else {
            None
        };
        let timed = plan_time(&r, &rules, start, as_of, held.as_ref())?;
        let due = match &held {
            Some(held) => due_holders(&r, held, today)?,
            None => Vec::new(),
        };
        Ok((timed, due))
    })?;
    fire_all(crm, &rules, timed, as_of, report)?;
    if new_day {
        post_lapses_of(crm, zone, as_of, due, &mut report.lapsed)?;
    }
    report.cursor = crm.write(|w| {
        w.advance_automation_cursor(AutomationCursor {
            events: after,
            day: Some(today),
        })
    })?;
    Ok(())
}

/// The lifecycle's catch-up, as `stage reassess --apply` makes it: every customer the
/// policy would move at `as_of` is moved, each all or nothing, a batch of customers
/// to a transaction ([`Crm::apply_suggestions`]), each step dated when its condition
/// arose (never before the customer's previous change), so a run after a week records
/// what daily runs would have. A move the store refuses (the customer moved or was
/// erased meanwhile) is reported, not fatal; a backend failure stops the run.
fn catch_up_stages(
    crm: &Crm,
    policy: &LifecyclePolicy,
    as_of: DateTime<Utc>,
    report: &mut RunReport,
) -> StoreResult<()> {
    let found = crm.reassess_all(policy, as_of)?;
    let applied = crm.apply_suggestions(&found.suggestions, policy, as_of, |_| ());
    for ((customer, _), answer) in found.suggestions.iter().zip(applied.answers) {
        match answer {
            Ok(changes) => report.moved.push(Moved {
                customer: *customer,
                changes,
            }),
            Err(e) => report.not_moved.push(NotMoved {
                customer: *customer,
                error: e.to_string(),
            }),
        }
    }
    applied.stopped.map_or(Ok(()), Err)
}

fn pick(r: &Reader<'_>, only: Only<'_>) -> StoreResult<Vec<EffectiveRule>> {
    Ok(match only {
        Only::Enabled => r.rules()?.into_iter().filter(|x| x.enabled).collect(),
        Only::Rule(name) => vec![r.rule(name)?],
    })
}

/// The facts a condition reads of a customer, looked up once per customer.
struct Lookup<'r, 't> {
    r: &'r Reader<'t>,
    as_of: DateTime<Utc>,
    zone: BusinessZone,
    tiers: Option<PointsTiers>,
    customers: HashMap<CustomerId, Option<Customer>>,
}

impl<'r, 't> Lookup<'r, 't> {
    fn new(r: &'r Reader<'t>, as_of: DateTime<Utc>, zone: BusinessZone) -> Self {
        Lookup {
            r,
            as_of,
            zone,
            tiers: None,
            customers: HashMap::new(),
        }
    }

    /// The customer, if they exist and are not erased.
    fn customer(&mut self, id: CustomerId) -> StoreResult<Option<Customer>> {
        if let Some(c) = self.customers.get(&id) {
            return Ok(c.clone());
        }
        let c = self.r.tx().customer(id)?.filter(|c| !c.is_erased());
        self.customers.insert(id, c.clone());
        Ok(c)
    }

    fn matches(&mut self, customer: &Customer, p: &Predicate) -> StoreResult<bool> {
        let purchases = if p.needs_purchases() {
            self.r.purchase_summary(customer.id(), self.as_of)?
        } else {
            PurchaseSummary::none(self.r.currency())
        };
        let tier = if p.needs_tier() {
            if self.tiers.is_none() {
                self.tiers = Some(self.r.points_tiers()?);
            }
            match &self.tiers {
                Some(t) => self.r.tier_of(customer.id(), t)?,
                None => None,
            }
        } else {
            None
        };
        let needs = if p.needs_need_entries() {
            self.r.needs(Some(customer.id()))?
        } else {
            Vec::new()
        };
        Ok(p.matches(
            customer,
            &Facts {
                purchases: &purchases,
                tier: tier.as_ref(),
                needs: &needs,
            },
            self.as_of,
            self.zone,
        ))
    }

    /// Whether `rule`'s condition holds for the customer `id` at a time window (no
    /// event); `None` if they do not exist or are erased. A condition that reads only
    /// the stage (the built-in `stage != churned`), or none, is answered from the
    /// stage column, without reading the customer whole: a run asks it of every
    /// customer whose window is open, churned ones included, every time.
    fn holds_for(&mut self, rule: &EffectiveRule, id: CustomerId) -> StoreResult<Option<bool>> {
        let condition = rule.rule.condition();
        let light = condition.is_none_or(|c| {
            c.predicates()
                .iter()
                .all(|p| by_stage(p, LifecycleStage::Active).is_some())
        });
        if !light {
            let Some(customer) = self.customer(id)? else {
                return Ok(None);
            };
            return self.holds(rule, &customer, None).map(Some);
        }
        let Some(known) = self.r.tx().customer_stage(id)?.filter(|k| !k.erased) else {
            return Ok(None);
        };
        let Some(condition) = condition else {
            return Ok(Some(true));
        };
        let points = self.points(condition, id)?;
        let ask = |p: &Predicate| by_stage(p, known.stage).unwrap_or(false);
        Ok(Some(condition.holds(&ConditionInput {
            event: None,
            customer: &ask,
            points,
        })))
    }

    /// Whether `rule`'s condition holds for `customer` (and `event`).
    fn holds(
        &mut self,
        rule: &EffectiveRule,
        customer: &Customer,
        event: Option<&DomainEvent>,
    ) -> StoreResult<bool> {
        let Some(condition) = rule.rule.condition() else {
            return Ok(true);
        };
        // Evaluate each segment comparison first (they may read the store), then the
        // condition over the answers.
        let mut answers: Vec<(Predicate, bool)> = Vec::new();
        for p in condition.predicates() {
            let yes = self.matches(customer, p)?;
            answers.push((p.clone(), yes));
        }
        let points = self.points(condition, customer.id())?;
        let ask = |p: &Predicate| answers.iter().any(|(q, yes)| q == p && *yes);
        Ok(condition.holds(&ConditionInput {
            event,
            customer: &ask,
            points,
        }))
    }

    /// The customer's points balance if `condition` reads it (the `points` field):
    /// the balance after their newest ledger entry, one indexed read.
    fn points(
        &self,
        condition: &solocrm_core::automation::Condition,
        id: CustomerId,
    ) -> StoreResult<Option<i64>> {
        if condition.reads_points() {
            self.r.tx().points_balance(id).map(Some)
        } else {
            Ok(None)
        }
    }
}

/// A segment comparison's answer from the customer's stage alone; `None` if it needs
/// more of the customer.
fn by_stage(p: &Predicate, stage: LifecycleStage) -> Option<bool> {
    match p {
        Predicate::Stage(s) => Some(stage == *s),
        Predicate::Not(q) => by_stage(q, stage).map(|yes| !yes),
        Predicate::All(qs) => {
            let mut all = true;
            for q in qs {
                all &= by_stage(q, stage)?;
            }
            Some(all)
        }
        Predicate::Any(qs) => {
            let mut any = false;
            for q in qs {
                any |= by_stage(q, stage)?;
            }
            Some(any)
        }
        _ => None,
    }
}

/// The event firings after `after`: returns them, the last sequence number read and
/// how many events were read.
fn plan_events(
    r: &Reader<'_>,
    rules: &[EffectiveRule],
    start: AutomationCursor,
    after: EventSeq,
    as_of: DateTime<Utc>,
) -> StoreResult<(Vec<Planned>, EventSeq, u64)> {
    let zone = r.time_zone()?;
    let today = zone.date_of(as_of);
    // Only a finished run stores a day, so a rerun after a failed first run is still
    // the first run.
    let first_run = start.day.is_none();
    let event_rules: Vec<&EffectiveRule> = rules
        .iter()
        .filter(|x| matches!(x.rule.trigger(), Trigger::Event(_)))
        .collect();
    let mut lookup = Lookup::new(r, as_of, zone);
    let mut out = Vec::new();
    let mut last = after;
    let mut read = 0u64;
    loop {
        let page = r.events(last, PAGE)?;
        let full = page.len() == PAGE as usize;
        for Event { seq, at, event } in page {
            last = seq;
            read += 1;
            // The first run takes what happened before its day as history.
            let day = at.map(|at| zone.date_of(at));
            if first_run && day.is_none_or(|d| d < today) {
                continue;
            }
            let Some(customer_id) = event.customer() else {
                continue;
            };
            for rule in &event_rules {
                let Trigger::Event(trigger) = rule.rule.trigger() else {
                    continue;
                };
                if !trigger.matches(&event) {
                    continue;
                }
                let occurrence = Occurrence::Event(seq);
                if r.has_fired(rule.rule.name(), customer_id, &occurrence)? {
                    continue;
                }
                let Some(customer) = lookup.customer(customer_id)? else {
                    continue;
                };
                if !lookup.holds(rule, &customer, Some(&event))? {
                    continue;
                }
                let why = match rule.rule.condition() {
                    Some(c) => format!("event {seq} {} and {c}", event.name()),
                    None => format!("event {seq} {}", event.name()),
                };
                out.push(Planned {
                    rule: rule.rule.name().clone(),
                    customer: customer_id,
                    occurrence,
                    day: day.unwrap_or(today),
                    why,
                });
            }
        }
        if !full {
            break;
        }
    }
    Ok((out, last, read))
}

/// The time firings of the days after the cursor's day up to `as_of`'s. `held`: the
/// points holders' lots if the caller has read them already (see [`lapsing_lots`]);
/// otherwise they are read here when a `points_expiring` rule needs them.
fn plan_time(
    r: &Reader<'_>,
    rules: &[EffectiveRule],
    start: AutomationCursor,
    as_of: DateTime<Utc>,
    held: Option<&HolderLots>,
) -> StoreResult<Vec<Planned>> {
    let zone = r.time_zone()?;
    let Some(span) = Span::after(start.day, zone.date_of(as_of)) else {
        return Ok(Vec::new());
    };
    let timed: Vec<&EffectiveRule> = rules
        .iter()
        .filter(|x| x.rule.trigger().is_time())
        .collect();
    if timed.is_empty() {
        return Ok(Vec::new());
    }
    // What the birthday and no-contact rules read of every customer: two dates, not
    // the whole profile.
    let dates = if needs_any(&timed, |t| {
        matches!(t, Trigger::Birthday { .. } | Trigger::NoContact { .. })
    }) {
        r.customer_dates()?
    } else {
        Vec::new()
    };
    let mut lookup = Lookup::new(r, as_of, zone);

    // (customer, window, why) for each rule.
    let mut out = Vec::new();
    let needs = |f: fn(&Trigger) -> bool| needs_any(&timed, f);
    let contacts = if needs(|t| matches!(t, Trigger::NoContact { .. })) {
        contacts(r, zone, span)?
    } else {
        HashMap::new()
    };
    let deals = if needs(|t| matches!(t, Trigger::DealIdle { .. })) {
        r.deals(&OpenQuery {
            customer: None,
            open_only: false,
        })?
    } else {
        Vec::new()
    };
    // The books' holidays from the span's first day to as far ahead as a `holiday:N`
    // rule looks, by key.
    let holidays: HashMap<solocrm_core::Tag, Vec<(NaiveDate, solocrm_core::Label)>> = {
        let ahead = timed
            .iter()
            .filter_map(|x| match x.rule.trigger() {
                Trigger::Holiday { days } => Some(days),
                _ => None,
            })
            .max();
        let mut by_key: HashMap<solocrm_core::Tag, Vec<(NaiveDate, solocrm_core::Label)>> =
            HashMap::new();
        if let Some(ahead) = ahead {
            let to = span
                .to
                .checked_add_days(chrono::Days::new(u64::from(ahead)))
                .unwrap_or(span.to);
            for o in r.holiday_calendar()?.occurrences_between(span.from, to) {
                by_key.entry(o.key).or_default().push((o.date, o.name));
            }
        }
        by_key
    };
    // "Tagged for" a holiday: a tag equal to its key. Each customer with such a tag
    // and their holidays in that span, read through the tag filter, not every
    // customer whole; keys in order, so a customer's holidays keep one order.
    let mut tagged: std::collections::BTreeMap<CustomerId, Vec<&(NaiveDate, solocrm_core::Label)>> =
        std::collections::BTreeMap::new();
    let mut keys: Vec<&solocrm_core::Tag> = holidays.keys().collect();
    keys.sort();
    for key in keys {
        let filter = CustomerFilter {
            tag: Some(key.clone()),
            ..CustomerFilter::default()
        };
        let mut after = None;
        loop {
            let page = r.tx().customers(&filter, after, PAGE)?;
            let Some(last) = page.last() else {
                break;
            };
            after = Some(last.id());
            for c in &page {
                tagged
                    .entry(c.id())
                    .or_default()
                    .extend(holidays.get(key).into_iter().flatten());
            }
        }
    }
    // Each points holder's lapses to come, under the books' validity.
    let lapses: Vec<(CustomerId, Vec<solocrm_core::Lapse>)> =
        if needs(|t| matches!(t, Trigger::PointsExpiring { .. })) {
            let read;
            let held = match held {
                Some(held) => Some(held),
                None => {
                    read = lapsing_lots(r, lapses_needed_through(rules, span.to))?;
                    read.as_ref()
                }
            };
            held.into_iter()
                .flatten()
                .filter_map(|(customer, lots)| {
                    let schedule = solocrm_core::lapse_schedule(lots);
                    (!schedule.is_empty()).then_some((*customer, schedule))
                })
                .collect()
        } else {
            Vec::new()
        };
    let tasks = if needs(|t| matches!(t, Trigger::TaskOverdue { .. })) {
        r.tasks(&TaskQuery {
            customer: None,
            due_until: None,
            include_done: false,
        })?
    } else {
        Vec::new()
    };
    for rule in timed {
        let mut windows: Vec<(CustomerId, Window, String)> = Vec::new();
        match rule.rule.trigger() {
            Trigger::Event(_) => {}
            Trigger::Birthday { days } => {
                for c in &dates {
                    if let Some(born) = c.birthday {
                        for w in birthday_windows(born, days, span) {
                            let why = format!(
                                "birthday on {} in {days} days or fewer",
                                w.last.unwrap_or(w.first)
                            );
                            windows.push((c.id, w, why));
                        }
                    }
                }
            }
            Trigger::NoContact { days, max } => {
                let none = Vec::new();
                for c in &dates {
                    let since = zone.date_of(c.created_at);
                    let seen = contacts.get(&c.id).unwrap_or(&none);
                    let found = match max {
                        None => silence_windows(since, seen, days, span),
                        Some(max) => cadence_windows(since, seen, days, max, span),
                    };
                    for w in found {
                        let why = match (w.occurrence, max) {
                            (Occurrence::Silence(from), _) => {
                                format!("no contact since {from}: {days} days on {}", w.first)
                            }
                            (Occurrence::SilenceMax(from), Some(max)) => format!(
                                "no contact since {from}: {max} days (the cadence's maximum) on {}",
                                w.first
                            ),
                            _ => continue,
                        };
                        windows.push((c.id, w, why));
                    }
                }
            }
            Trigger::DealIdle { days } => {
                for d in &deals {
                    let mut moves = vec![zone.date_of(d.created_at())];
                    moves.extend(d.history().iter().map(|m| zone.date_of(m.at)));
                    let closed = d.closed_at().map(|at| zone.date_of(at));
                    for w in idle_windows(d.id(), &moves, closed, days, span) {
                        let Occurrence::DealIdle(_, since) = w.occurrence else {
                            continue;
                        };
                        let why = format!("deal {} has not moved since {since}", d.id());
                        windows.push((d.customer(), w, why));
                    }
                }
            }
            Trigger::Holiday { days } => {
                for (&customer, mine) in &tagged {
                    let dates: Vec<NaiveDate> = mine.iter().map(|(d, _)| *d).collect();
                    for w in holiday_windows(&dates, days, span) {
                        let Occurrence::Holiday(on) = w.occurrence else {
                            continue;
                        };
                        let names: Vec<&str> = mine
                            .iter()
                            .filter(|(d, _)| *d == on)
                            .map(|(_, n)| n.as_str())
                            .collect();
                        let why = format!(
                            "holiday {} on {on} in {days} days or fewer",
                            names.join(", ")
                        );
                        windows.push((customer, w, why));
                    }
                }
            }
            Trigger::PointsExpiring { days } => {
                for (customer, schedule) in &lapses {
                    for w in expiry_windows(schedule, days, span) {
                        let Occurrence::PointsExpiring(on) = w.occurrence else {
                            continue;
                        };
                        let points = schedule
                            .iter()
                            .find(|l| l.day == on)
                            .map_or(0, |l| l.points);
                        let why = format!("{points} points lapse on {on}, in {days} days or fewer");
                        windows.push((*customer, w, why));
                    }
                }
            }
            Trigger::TaskOverdue { days } => {
                for t in &tasks {
                    let Some(customer) = t.customer() else {
                        continue;
                    };
                    if let Some(w) = overdue_window(t.id(), t.occurrence(), t.due(), days) {
                        let why = format!("task {} was due on {}", t.id(), t.due());
                        windows.push((customer, w, why));
                    }
                }
            }
        }
        for (customer_id, w, why) in windows {
            let Some(day) = w.fires_on(span) else {
                continue;
            };
            if r.has_fired(rule.rule.name(), customer_id, &w.occurrence)? {
                continue;
            }
            // Erased, or a deal of a customer that is gone: `None`.
            if lookup.holds_for(rule, customer_id)? != Some(true) {
                continue;
            }
            out.push(Planned {
                rule: rule.rule.name().clone(),
                customer: customer_id,
                occurrence: w.occurrence,
                day,
                why,
            });
        }
    }
    Ok(out)
}

/// Whether any of `rules` has a trigger `f` accepts.
fn needs_any(rules: &[&EffectiveRule], f: fn(&Trigger) -> bool) -> bool {
    rules.iter().any(|x| f(&x.rule.trigger()))
}

/// The business days of each customer's contacts (an interaction of any channel, a
/// purchase) that can start a silence a run covering `span` sees: the last one on or
/// before `span.from` and those after it up to `span.to`. An earlier contact starts
/// a silence that ends (at the next contact) before `span.from`, which
/// [`silence_windows`] would leave out anyway, so it is not read.
fn contacts(
    r: &Reader<'_>,
    zone: BusinessZone,
    span: Span,
) -> StoreResult<HashMap<CustomerId, Vec<NaiveDate>>> {
    let from = zone.end_of(span.from);
    let until = zone.end_of(span.to);
    let mut out: HashMap<CustomerId, Vec<NaiveDate>> = HashMap::new();
    for c in r.contact_times(from, until)? {
        let days = c
            .last_before
            .iter()
            .chain(&c.within)
            .map(|at| zone.date_of(*at))
            .collect();
        out.insert(c.customer, days);
    }
    Ok(out)
}

/// How many firings one write transaction of a run holds.
///
/// A run after a long pause fires tens of thousands of times (42,644 firings on the
/// 100 k-customer demo nine months behind); a transaction per firing committed, and
/// journalled its pages, as often. A batch of 256 keeps the writer's lock for tens of
/// milliseconds (that run made its 56,808 moves and 42,644 firings in about 9 s of
/// CPU).
const FIRINGS_PER_WRITE: usize = 256;

/// Runs the planned firings in order, [`FIRINGS_PER_WRITE`] to a transaction. A
/// batch that fails is rolled back whole and run again one firing to a transaction,
/// so that, as before, the firings ahead of the failing one stay and the run stops
/// with that firing's own error (the batch's is dropped; if every firing succeeds
/// alone, the run goes on). A batch that found the writer busy past the backend's
/// patience is not run again: the run stops with that error.
fn fire_all(
    crm: &Crm,
    rules: &[EffectiveRule],
    planned: Vec<Planned>,
    as_of: DateTime<Utc>,
    report: &mut RunReport,
) -> StoreResult<()> {
    // A firing of a rule no longer in force does nothing.
    let planned: Vec<(&EffectiveRule, Planned)> = planned
        .into_iter()
        .filter_map(|p| Some((rules.iter().find(|x| x.rule.name() == &p.rule)?, p)))
        .collect();
    for batch in planned.chunks(FIRINGS_PER_WRITE) {
        let outcomes = crm.write(|w| {
            batch
                .iter()
                .map(|(rule, p)| fire_in(w, rule, p, as_of))
                .collect::<StoreResult<Vec<_>>>()
        });
        let outcomes = match outcomes {
            Ok(outcomes) => outcomes,
            // A failed batch left nothing: its firings again one by one, each
            // recorded as it commits, so a failure keeps the firings made before it
            // in the report. A busy writer let no firing of the batch begin, and
            // trying each alone would only wait again.
            Err(e) if batch.len() > 1 && !matches!(e, StoreError::Busy { .. }) => {
                for (rule, p) in batch {
                    record(report, crm.write(|w| fire_in(w, rule, p, as_of))?);
                }
                continue;
            }
            Err(e) => return Err(e),
        };
        for outcome in outcomes {
            record(report, outcome);
        }
    }
    Ok(())
}

/// Adds one firing's outcome to the report: what it did, or that it was already made.
fn record(report: &mut RunReport, outcome: Option<Fired>) {
    match outcome {
        Some(f) => report.fired.push(f),
        None => report.already += 1,
    }
}

/// Fires `planned` of `rule` in `w`'s transaction: its actions, the firing's record
/// and, for an event, the cursor; `None` if it fired already or the customer is gone.
fn fire_in(
    w: &mut Writer<'_>,
    rule: &EffectiveRule,
    planned: &Planned,
    as_of: DateTime<Utc>,
) -> StoreResult<Option<Fired>> {
    if w.reader()
        .has_fired(&planned.rule, planned.customer, &planned.occurrence)?
    {
        return Ok(None);
    }
    let Some(customer) = w
        .reader()
        .tx()
        .customer(planned.customer)?
        .filter(|c| !c.is_erased())
    else {
        return Ok(None);
    };
    let name = customer.name().as_str().to_owned();
    let mut fired = Fired {
        planned: planned.clone(),
        task: None,
        title: None,
        due: None,
        priority: None,
        skipped: Vec::new(),
    };
    for action in rule.rule.actions() {
        match action {
            Action::Task(t) => {
                // A cadence's second reminder, at its maximum, is urgent.
                let priority = match planned.occurrence {
                    Occurrence::SilenceMax(_) => Priority::High,
                    _ => t.priority,
                };
                let title = t.title.render(&name);
                let due = add_business_days(planned.day, t.due_in);
                let task = w.create_task(NewTask {
                    customer: Some(customer.id()),
                    kind: t.kind,
                    title: title.clone(),
                    due,
                    recurrence: None,
                    created_at: as_of,
                })?;
                if fired.task.is_none() {
                    fired.task = Some(task.id());
                    fired.title = Some(title.as_str().to_owned());
                    fired.due = Some(due);
                    fired.priority = Some(priority);
                }
            }
            Action::Stage(to) => {
                let current = w.reader().customer(customer.id())?.stage();
                if current == *to {
                    fired.skipped.push(format!("stage: already {to}"));
                    continue;
                }
                let note = Label::parse(&format!("rule {}", planned.rule))?;
                match w.change_stage(
                    customer.id(),
                    *to,
                    as_of,
                    StageReason::Manual { note: Some(note) },
                ) {
                    Ok(_) => {}
                    Err(e @ (StoreError::InvalidTransition(_) | StoreError::Validation(_))) => {
                        fired.skipped.push(format!("stage: {e}"));
                    }
                    Err(e) => return Err(e),
                }
            }
            Action::Tag(tag) => {
                w.tag_customer(customer.id(), tag)?;
            }
            Action::Untag(tag) => {
                w.untag_customer(customer.id(), tag)?;
            }
            Action::Points(points) => {
                let mut entry = NewPointsEntry::new(
                    customer.id(),
                    as_of,
                    PointsKind::Earn,
                    i64::from(*points),
                )?;
                entry.reason = Some(Label::parse(&format!("rule {}", planned.rule))?);
                w.post_points(entry)?;
            }
            Action::Note(text) => {
                let summary = FreeText::parse(text.render(&name).as_str())?;
                w.log_interaction(NewInteraction {
                    customer: customer.id(),
                    channel: Channel::Other,
                    direction: Direction::Outbound,
                    at: as_of,
                    summary,
                    sentiment: None,
                })?;
            }
        }
    }
    w.record_firing(&Firing {
        rule: planned.rule.clone(),
        customer: planned.customer,
        occurrence: planned.occurrence,
        day: planned.day,
        at: as_of,
        task: fired.task,
        priority: fired.priority,
    })?;
    if let Occurrence::Event(seq) = planned.occurrence {
        // Every event before this one is done; this one may have more firings.
        w.advance_automation_cursor(AutomationCursor {
            events: seq.saturating_sub(1),
            day: None,
        })?;
    }
    Ok(Some(fired))
}
