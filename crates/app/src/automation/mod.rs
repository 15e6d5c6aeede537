//! The automation runner: evaluates the books' rules ([`solocrm_core::automation`])
//! at an instant and runs what fires.
//!
//! [`run`] does, in order:
//!
//! 1. reads, in one snapshot, the rules in force, the runner's cursor, the outbox
//!    events after it, and (for the time rules) the customers, contacts, open deals
//!    and open tasks, and works out what fires ([`plan`], which writes nothing: it is
//!    also `rule test`'s dry run);
//! 2. runs each firing in **one write transaction**: it checks the firing's key
//!    (rule, customer, occurrence) is not stored yet, runs the rule's actions, stores
//!    the firing and, for an event, moves the event cursor up to the event before it
//!    — so a crash at any point leaves each firing whole or absent, and a rerun fires
//!    each occurrence exactly once;
//! 3. moves the cursor to the last event read and to the run's day.
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

pub mod file;

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use solocrm_core::automation::{
    Action, AutomationCursor, ConditionInput, EffectiveRule, Firing, Occurrence, Priority,
    RuleName, Span, Trigger, Window, add_business_days, birthday_windows, holiday_windows,
    idle_windows, overdue_window, silence_windows,
};
use solocrm_core::ops::Reader;
use solocrm_core::{
    ActivityQuery, BusinessZone, Channel, Crm, Customer, CustomerId, Direction, DomainEvent, Event,
    EventSeq, Facts, FreeText, Label, NewInteraction, NewTask, OpenQuery, PointsTiers, Predicate,
    PurchaseSummary, StageReason, StoreError, StoreResult, TaskId, TaskQuery,
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
    /// The cursor after the run.
    pub cursor: AutomationCursor,
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
        out.extend(plan_time(&r, &rules, cursor, as_of)?);
        Ok(out)
    })
}

/// Runs the rules in force at `as_of`: see the [module docs](self).
///
/// # Errors
///
/// The store's. A firing that failed left nothing; the ones before it stay, and a
/// rerun goes on from there.
pub fn run(crm: &Crm, as_of: DateTime<Utc>) -> StoreResult<RunReport> {
    let mut report = RunReport {
        fired: Vec::new(),
        already: 0,
        events: 0,
        cursor: AutomationCursor::default(),
    };
    let (rules, start) = crm.read(|r| Ok((pick(&r, Only::Enabled)?, r.automation_cursor()?)))?;
    let mut after = start.events;
    for _ in 0..MAX_ROUNDS {
        let (planned, last, read) = crm.read(|r| plan_events(&r, &rules, start, after, as_of))?;
        report.events += read;
        for p in planned {
            fire(crm, &rules, p, as_of, &mut report)?;
        }
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
    let timed = crm.read(|r| plan_time(&r, &rules, start, as_of))?;
    for p in timed {
        fire(crm, &rules, p, as_of, &mut report)?;
    }
    let zone = crm.read(|r| r.time_zone())?;
    report.cursor = crm.write(|w| {
        w.advance_automation_cursor(AutomationCursor {
            events: after,
            day: Some(zone.date_of(as_of)),
        })
    })?;
    Ok(report)
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
        Ok(p.matches(
            customer,
            &Facts {
                purchases: &purchases,
                tier: tier.as_ref(),
            },
            self.as_of,
            self.zone,
        ))
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
        let ask = |p: &Predicate| answers.iter().any(|(q, yes)| q == p && *yes);
        Ok(condition.holds(&ConditionInput {
            event,
            customer: &ask,
        }))
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

/// The time firings of the days after the cursor's day up to `as_of`'s.
fn plan_time(
    r: &Reader<'_>,
    rules: &[EffectiveRule],
    start: AutomationCursor,
    as_of: DateTime<Utc>,
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
    let customers = r.all_customers()?;
    let mut lookup = Lookup::new(r, as_of, zone);
    for c in &customers {
        lookup.customers.insert(c.id(), Some(c.clone()));
    }
    let by_id: BTreeMap<CustomerId, &Customer> = customers.iter().map(|c| (c.id(), c)).collect();
    // What has fired, read once rather than asked per window.
    let fired: HashSet<(RuleName, CustomerId, Occurrence)> = r
        .firings()?
        .into_iter()
        .map(|f| (f.rule, f.customer, f.occurrence))
        .collect();

    // (customer, window, why) for each rule.
    let mut out = Vec::new();
    let needs = |f: fn(&Trigger) -> bool| timed.iter().any(|x| f(&x.rule.trigger()));
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
                for c in &customers {
                    if let Some(born) = c.birthday() {
                        for w in birthday_windows(born, days, span) {
                            let why = format!(
                                "birthday on {} in {days} days or fewer",
                                w.last.unwrap_or(w.first)
                            );
                            windows.push((c.id(), w, why));
                        }
                    }
                }
            }
            Trigger::NoContact { days } => {
                let none = Vec::new();
                for c in &customers {
                    let since = zone.date_of(c.created_at());
                    let seen = contacts.get(&c.id()).unwrap_or(&none);
                    for w in silence_windows(since, seen, days, span) {
                        let Occurrence::Silence(from) = w.occurrence else {
                            continue;
                        };
                        let why = format!("no contact since {from}: {days} days on {}", w.first);
                        windows.push((c.id(), w, why));
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
                for c in &customers {
                    // "Tagged for" a holiday: a tag equal to its key.
                    let mine: Vec<&(NaiveDate, solocrm_core::Label)> = c
                        .tags()
                        .iter()
                        .filter_map(|t| holidays.get(t))
                        .flatten()
                        .collect();
                    if mine.is_empty() {
                        continue;
                    }
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
                        windows.push((c.id(), w, why));
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
            let Some(customer) = by_id.get(&customer_id).copied() else {
                continue; // erased, or a deal of a customer that is gone
            };
            if fired.contains(&(rule.rule.name().clone(), customer_id, w.occurrence)) {
                continue;
            }
            if !lookup.holds(rule, customer, None)? {
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

/// The business days each customer was in contact (an interaction of any channel, a
/// purchase), up to the span's end.
fn contacts(
    r: &Reader<'_>,
    zone: BusinessZone,
    span: Span,
) -> StoreResult<HashMap<CustomerId, Vec<NaiveDate>>> {
    let mut out: HashMap<CustomerId, Vec<NaiveDate>> = HashMap::new();
    let log = r.purchase_log()?;
    let days = zone.days();
    for (k, secs) in log.at.iter().enumerate() {
        let (Some(idx), Some(day)) = (log.customer.get(k), days.date(*secs)) else {
            continue;
        };
        if day > span.to {
            continue;
        }
        if let Some(id) = log.customers.get(*idx as usize) {
            out.entry(*id).or_default().push(day);
        }
    }
    for i in r.interactions(&ActivityQuery::ALL)? {
        let day = zone.date_of(i.at());
        if day <= span.to {
            out.entry(i.customer()).or_default().push(day);
        }
    }
    Ok(out)
}

/// Runs one firing in one write transaction.
fn fire(
    crm: &Crm,
    rules: &[EffectiveRule],
    planned: Planned,
    as_of: DateTime<Utc>,
    report: &mut RunReport,
) -> StoreResult<()> {
    let Some(rule) = rules.iter().find(|x| x.rule.name() == &planned.rule) else {
        return Ok(());
    };
    let outcome = crm.write(|w| {
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
                        fired.priority = Some(t.priority);
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
    })?;
    match outcome {
        Some(f) => report.fired.push(f),
        None => report.already += 1,
    }
    Ok(())
}
