//! Automation rules: a trigger, an optional condition and actions, kept with the books
//! as data (issue 16; [ADR 0017](../../../docs/adr/0017-automation-rules.md)).
//!
//! This module is pure: it says what a rule is, which occurrences of a time trigger
//! fall in a run's days ([`Window`], [`Span`]) and how a rule's task is titled and
//! dated. Running rules (reading the outbox from a cursor, evaluating triggers,
//! committing each firing with its actions) is the application crate's runner; the
//! storage of rules, firings and the runner's cursor is part of the port
//! ([`crate::port::ReadTx::rules`] and the methods beside it).
//!
//! - A [`Trigger`] is an event of the outbox ([`EventTrigger`]) or a time condition
//!   that holds on a span of days ([`Trigger::Birthday`], [`Trigger::NoContact`],
//!   [`Trigger::DealIdle`], [`Trigger::TaskOverdue`]).
//! - A [`Condition`] filters with the segment syntax plus the event's fields.
//! - [`Action`]s: create a task, change the stage, tag, untag, log a note.
//! - **Exactly once.** A rule fires at most once per (rule, customer, [`Occurrence`]):
//!   an event (its sequence number), a birthday (its year), a silence (the day it
//!   began), an idle deal (since when), an overdue task (its occurrence). The store
//!   keeps that key unique with the [`Firing`] record.
//! - **Days.** Every day is a business-local day; a task's due date is its firing day
//!   plus [`CreateTask::due_in`] business days (Monday to Friday, [`add_business_days`]).
//! - **Built-ins** ([`builtin_rules`]) have stable names and are on unless a stored
//!   [`RuleRecord`] turns one off.

mod condition;

pub use condition::{Condition, ConditionInput};

use std::fmt;

use chrono::{Datelike, Days, NaiveDate, Weekday};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::care::anniversary_in;
use crate::event::{DomainEvent, EventSeq};
use crate::ids::{CustomerId, DealId, TaskId};
use crate::lifecycle::LifecycleStage;
use crate::names::named_enum;
use crate::segment_syntax::SyntaxError;
use crate::task::TaskKind;
use crate::text::{Label, MAX_LINE_CHARS, Tag};

/// A rule that cannot be made as given.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum RuleError {
    /// The name is not a rule name.
    #[error(
        "rule name '{input}' is not valid: use 1 to 64 lowercase letters, digits and '-', starting with a letter"
    )]
    InvalidName {
        /// What was given.
        input: String,
    },
    /// The trigger is not one the runner knows.
    #[error("trigger '{input}' is not known: {reason}")]
    InvalidTrigger {
        /// What was given.
        input: String,
        /// Why.
        reason: String,
    },
    /// The condition does not parse.
    #[error("condition: {0}")]
    Condition(#[from] SyntaxError),
    /// A points action gives none, or more than one action may.
    #[error("a rule gives 1 to {max} points per action, not {points}")]
    InvalidPoints {
        /// What was given.
        points: u32,
        /// The most allowed.
        max: u32,
    },
    /// A task title template is wrong.
    #[error("task title '{input}': {reason}")]
    InvalidTitle {
        /// What was given.
        input: String,
        /// Why.
        reason: String,
    },
    /// The rule has no action, or too many.
    #[error("a rule needs 1 to {max} actions, this one has {count}")]
    ActionCount {
        /// How many it has.
        count: usize,
        /// The most allowed.
        max: usize,
    },
    /// A number is out of its range.
    #[error("{field} must be between {min} and {max}, got {value}")]
    OutOfRange {
        /// Which number.
        field: &'static str,
        /// The least allowed.
        min: u32,
        /// The most allowed.
        max: u32,
        /// What was given.
        value: u32,
    },
    /// A user rule may not take a built-in rule's name.
    #[error("'{name}' is the name of a built-in rule; choose another")]
    BuiltinName {
        /// The name.
        name: String,
    },
    /// A rule's task or stage action cannot apply to this trigger.
    #[error("{0}")]
    Unsupported(String),
}

/// The most actions one rule may have.
pub const MAX_ACTIONS: usize = 8;
/// The most days a time trigger or a due offset may count.
pub const MAX_DAYS: u32 = 3660;

/// A rule's stable name: 1 to 64 lowercase ASCII letters, digits and `-`, starting
/// with a letter (`detractor-follow-up`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RuleName(String);

impl RuleName {
    /// Parses a rule name (upper-case letters are lowered).
    ///
    /// # Errors
    ///
    /// [`RuleError::InvalidName`].
    pub fn parse(input: &str) -> Result<RuleName, RuleError> {
        let s = input.trim().to_ascii_lowercase();
        let ok = !s.is_empty()
            && s.len() <= 64
            && s.starts_with(|c: char| c.is_ascii_lowercase())
            && s.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if ok {
            Ok(RuleName(s))
        } else {
            Err(RuleError::InvalidName {
                input: input.to_owned(),
            })
        }
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RuleName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for RuleName {
    type Error = RuleError;
    fn try_from(s: String) -> Result<Self, RuleError> {
        RuleName::parse(&s)
    }
}

impl From<RuleName> for String {
    fn from(n: RuleName) -> String {
        n.0
    }
}

named_enum! {
    /// An event of the outbox that can trigger a rule.
    pub enum EventTrigger as "event trigger" {
        /// A customer was created.
        CustomerCreated = "customer_created",
        /// A purchase was recorded (one at a time; an import is history, not news).
        PurchaseRecorded = "purchase_recorded",
        /// A customer's first purchase was recorded.
        FirstPurchase = "first_purchase",
        /// A survey was answered.
        SurveyAnswered = "survey_answered",
        /// A service request was opened.
        RequestOpened = "request_opened",
        /// A customer's lifecycle stage changed.
        StageChanged = "stage_changed",
        /// A deal moved along the pipeline.
        DealMoved = "deal_moved",
        /// A deal was won.
        DealWon = "deal_won",
        /// An interaction was logged.
        InteractionLogged = "interaction_logged",
    }
}

impl EventTrigger {
    /// Whether `event` is one this trigger fires on.
    pub fn matches(self, event: &DomainEvent) -> bool {
        use DomainEvent as E;
        match (self, event) {
            (EventTrigger::CustomerCreated, E::CustomerCreated { .. })
            | (EventTrigger::PurchaseRecorded, E::PurchaseRecorded { .. })
            | (EventTrigger::SurveyAnswered, E::SurveyAnswered { .. })
            | (EventTrigger::RequestOpened, E::RequestOpened { .. })
            | (EventTrigger::StageChanged, E::StageChanged { .. })
            | (EventTrigger::DealMoved, E::DealMoved { .. })
            | (EventTrigger::InteractionLogged, E::InteractionLogged { .. }) => true,
            (EventTrigger::FirstPurchase, E::PurchaseRecorded { first, .. }) => *first,
            (EventTrigger::DealWon, E::DealMoved { to, .. }) => *to == crate::deal::DealStage::Won,
            _ => false,
        }
    }
}

/// What makes a rule fire.
///
/// Written as text: an [`EventTrigger`] name (`survey_answered`), or
/// `birthday:N` (N days before a birthday), `no_contact:N` (N days after the last
/// contact: an interaction of any channel or a purchase; for a customer never in
/// contact, after their creation), `no_contact:IDEAL:MAX` (a stay-in-touch cadence:
/// once at the ideal interval and once more, with a high priority, at the maximum;
/// see [`cadence_windows`]), `deal_idle:N` (an open deal N days after its last
/// move), `task_overdue:N` (an open task N days after its due date), `holiday:N` (N
/// days before a holiday of the books' calendar, for customers tagged with its key),
/// `points_expiring:N` (points of a customer lapse in N days or fewer, see
/// [`expiry_windows`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Trigger {
    /// An event of the outbox.
    Event(EventTrigger),
    /// A birthday in `days` days (0: on the day).
    Birthday {
        /// How many days before.
        days: u32,
    },
    /// No contact for `days` days; with `max`, a cadence: again at `max` days.
    NoContact {
        /// How many days of silence (the ideal interval of a cadence).
        days: u32,
        /// The maximum interval of a cadence (more than `days`), if the rule is one.
        max: Option<u32>,
    },
    /// An open deal has not moved for `days` days.
    DealIdle {
        /// How many idle days.
        days: u32,
    },
    /// An open task is `days` days past its due date.
    TaskOverdue {
        /// How many days late.
        days: u32,
    },
    /// A holiday of the books' calendar in `days` days (0: on the day), for the
    /// customers tagged for it: with a tag equal to the holiday's key
    /// (`spring_festival`, or an own holiday's key).
    Holiday {
        /// How many days before.
        days: u32,
    },
    /// Points of the customer lapse within `days` days (the books' points validity,
    /// [`PointsExpiry`](crate::PointsExpiry)): once per lapse day.
    PointsExpiring {
        /// How many days before the lapse day.
        days: u32,
    },
}

impl Trigger {
    /// Parses the text form (see [`Trigger`]).
    ///
    /// # Errors
    ///
    /// [`RuleError::InvalidTrigger`] or [`RuleError::OutOfRange`].
    pub fn parse(input: &str) -> Result<Trigger, RuleError> {
        let s = input.trim();
        let invalid = |reason: &str| RuleError::InvalidTrigger {
            input: input.to_owned(),
            reason: reason.to_owned(),
        };
        if let Some((kind, days)) = s.split_once(':') {
            // A cadence: no_contact:IDEAL:MAX.
            if let Some((ideal, max)) = days.split_once(':') {
                if crate::names::canonical(kind) != "no_contact" {
                    return Err(invalid("only no_contact takes two numbers (IDEAL:MAX)"));
                }
                let number = |x: &str| {
                    x.trim()
                        .parse::<u32>()
                        .map_err(|_| invalid("the days after ':' must be whole numbers"))
                };
                let (ideal, max) = (number(ideal)?, number(max)?);
                if !(1..=MAX_DAYS).contains(&ideal) {
                    return Err(RuleError::OutOfRange {
                        field: "trigger days",
                        min: 1,
                        max: MAX_DAYS,
                        value: ideal,
                    });
                }
                if max <= ideal || max > MAX_DAYS {
                    return Err(RuleError::OutOfRange {
                        field: "cadence maximum",
                        min: ideal.saturating_add(1),
                        max: MAX_DAYS,
                        value: max,
                    });
                }
                return Ok(Trigger::NoContact {
                    days: ideal,
                    max: Some(max),
                });
            }
            let days: u32 = days
                .trim()
                .parse()
                .map_err(|_| invalid("the days after ':' must be a whole number"))?;
            let (trigger, min) = match crate::names::canonical(kind).as_str() {
                "birthday" => (Trigger::Birthday { days }, 0),
                "no_contact" => (Trigger::NoContact { days, max: None }, 1),
                "deal_idle" => (Trigger::DealIdle { days }, 1),
                "task_overdue" => (Trigger::TaskOverdue { days }, 1),
                "holiday" => (Trigger::Holiday { days }, 0),
                "points_expiring" => (Trigger::PointsExpiring { days }, 1),
                _ => {
                    return Err(invalid(
                        "a time trigger is birthday:N, no_contact:N, deal_idle:N, task_overdue:N, holiday:N or points_expiring:N",
                    ));
                }
            };
            let max = if matches!(
                trigger,
                Trigger::Birthday { .. } | Trigger::Holiday { .. } | Trigger::PointsExpiring { .. }
            ) {
                300
            } else {
                MAX_DAYS
            };
            if days < min || days > max {
                return Err(RuleError::OutOfRange {
                    field: "trigger days",
                    min,
                    max,
                    value: days,
                });
            }
            return Ok(trigger);
        }
        EventTrigger::parse(s).map(Trigger::Event).map_err(|_| {
            invalid(&format!(
                "expected one of {}, or birthday:N, no_contact:N, no_contact:IDEAL:MAX, \
                 deal_idle:N, task_overdue:N, holiday:N, points_expiring:N",
                EventTrigger::NAMES
            ))
        })
    }

    /// True for a time trigger (evaluated on days, not on events).
    pub fn is_time(&self) -> bool {
        !matches!(self, Trigger::Event(_))
    }
}

impl fmt::Display for Trigger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Trigger::Event(e) => f.write_str(e.as_str()),
            Trigger::Birthday { days } => write!(f, "birthday:{days}"),
            Trigger::NoContact { days, max: None } => write!(f, "no_contact:{days}"),
            Trigger::NoContact {
                days,
                max: Some(max),
            } => write!(f, "no_contact:{days}:{max}"),
            Trigger::DealIdle { days } => write!(f, "deal_idle:{days}"),
            Trigger::TaskOverdue { days } => write!(f, "task_overdue:{days}"),
            Trigger::Holiday { days } => write!(f, "holiday:{days}"),
            Trigger::PointsExpiring { days } => write!(f, "points_expiring:{days}"),
        }
    }
}

impl TryFrom<String> for Trigger {
    type Error = RuleError;
    fn try_from(s: String) -> Result<Self, RuleError> {
        Trigger::parse(&s)
    }
}

impl From<Trigger> for String {
    fn from(t: Trigger) -> String {
        t.to_string()
    }
}

named_enum! {
    /// How urgent a rule's task is.
    pub enum Priority as "priority" {
        /// Whenever there is time.
        Low = "low",
        /// The usual.
        Normal = "normal",
        /// Before anything else.
        High = "high",
    }
}

/// A text with `{name}` standing for the customer's name: a task title or a note.
///
/// One line of at most 200 characters; `{name}` is the only placeholder, and `{{`/`}}`
/// write a literal brace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Template(Label);

impl Template {
    /// Parses a template.
    ///
    /// # Errors
    ///
    /// [`RuleError::InvalidTitle`] for an unknown placeholder, an unmatched brace, an
    /// empty or too long text or a control character.
    pub fn parse(input: &str) -> Result<Template, RuleError> {
        let invalid = |reason: String| RuleError::InvalidTitle {
            input: input.to_owned(),
            reason,
        };
        let label = Label::parse(input).map_err(|e| invalid(e.to_string()))?;
        let mut rest = label.as_str();
        while let Some(i) = rest.find(['{', '}']) {
            let tail = &rest[i..];
            if tail.starts_with("{{") || tail.starts_with("}}") {
                rest = &tail[2..];
            } else if let Some(after) = tail.strip_prefix("{name}") {
                rest = after;
            } else if tail.starts_with('{') {
                return Err(invalid(
                    "the only placeholder is {name}; write {{ for a brace".to_owned(),
                ));
            } else {
                return Err(invalid("unmatched '}'; write }} for a brace".to_owned()));
            }
        }
        Ok(Template(label))
    }

    /// The template as written.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// The text for a customer called `name`, cut to 200 characters if the name makes
    /// it longer.
    pub fn render(&self, name: &str) -> Label {
        let mut out = String::new();
        let mut rest = self.0.as_str();
        while let Some(i) = rest.find(['{', '}']) {
            out.push_str(&rest[..i]);
            let tail = &rest[i..];
            if let Some(after) = tail.strip_prefix("{name}") {
                out.push_str(name);
                rest = after;
            } else {
                out.push_str(&tail[..1]);
                rest = &tail[2.min(tail.len())..];
            }
        }
        out.push_str(rest);
        let cut: String = out.chars().take(MAX_LINE_CHARS).collect();
        // The template is a valid label and a name is one line, so the text is one
        // too; should it not be, the template itself stands in.
        Label::parse(&cut).unwrap_or_else(|_| self.0.clone())
    }
}

impl fmt::Display for Template {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.as_str())
    }
}

impl TryFrom<String> for Template {
    type Error = RuleError;
    fn try_from(s: String) -> Result<Self, RuleError> {
        Template::parse(&s)
    }
}

impl From<Template> for String {
    fn from(t: Template) -> String {
        t.0.as_str().to_owned()
    }
}

/// The task a rule creates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, try_from = "CreateTaskRepr")]
pub struct CreateTask {
    /// Its title; `{name}` is the customer's name.
    pub title: Template,
    /// What it is for.
    #[serde(default = "follow_up")]
    pub kind: TaskKind,
    /// Business days from the firing day to the due date (0: the firing day).
    #[serde(default)]
    pub due_in: u32,
    /// How urgent it is.
    #[serde(default = "normal")]
    pub priority: Priority,
}

fn follow_up() -> TaskKind {
    TaskKind::FollowUp
}

fn normal() -> Priority {
    Priority::Normal
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateTaskRepr {
    title: Template,
    #[serde(default = "follow_up")]
    kind: TaskKind,
    #[serde(default)]
    due_in: u32,
    #[serde(default = "normal")]
    priority: Priority,
}

impl TryFrom<CreateTaskRepr> for CreateTask {
    type Error = RuleError;
    fn try_from(r: CreateTaskRepr) -> Result<Self, RuleError> {
        CreateTask::new(r.title, r.kind, r.due_in, r.priority)
    }
}

impl CreateTask {
    /// A task action.
    ///
    /// # Errors
    ///
    /// [`RuleError::OutOfRange`] for a `due_in` above [`MAX_DAYS`].
    pub fn new(
        title: Template,
        kind: TaskKind,
        due_in: u32,
        priority: Priority,
    ) -> Result<CreateTask, RuleError> {
        if due_in > MAX_DAYS {
            return Err(RuleError::OutOfRange {
                field: "due_in",
                min: 0,
                max: MAX_DAYS,
                value: due_in,
            });
        }
        Ok(CreateTask {
            title,
            kind,
            due_in,
            priority,
        })
    }
}

/// What a rule does when it fires. All actions of one firing commit together with the
/// firing's record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Action {
    /// Create a task about the customer.
    Task(CreateTask),
    /// Move the customer to this stage, if the lifecycle allows the move from where
    /// they are; otherwise the action is skipped (the firing says so).
    Stage(LifecycleStage),
    /// Give the customer this tag.
    Tag(Tag),
    /// Take this tag from the customer.
    Untag(Tag),
    /// Log a note (an interaction of channel `other`, outbound) about the customer.
    Note(Template),
    /// Give the customer this many loyalty points: an `earn` entry of the points
    /// ledger whose reason names the rule (1 to [`MAX_RULE_POINTS`]).
    Points(u32),
}

/// The most points one action of a rule may give.
pub const MAX_RULE_POINTS: u32 = 1_000_000;

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Action::Task(t) => write!(
                f,
                "task \"{}\" ({}, due in {} business days, {})",
                t.title, t.kind, t.due_in, t.priority
            ),
            Action::Stage(s) => write!(f, "stage → {s}"),
            Action::Tag(t) => write!(f, "tag {t}"),
            Action::Untag(t) => write!(f, "untag {t}"),
            Action::Note(n) => write!(f, "note \"{n}\""),
            Action::Points(n) => write!(f, "points +{n}"),
        }
    }
}

/// A rule: when its trigger fires for a customer and its condition holds, its actions
/// run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RuleRepr")]
pub struct Rule {
    name: RuleName,
    trigger: Trigger,
    #[serde(skip_serializing_if = "Option::is_none")]
    condition: Option<Condition>,
    actions: Vec<Action>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleRepr {
    name: RuleName,
    trigger: Trigger,
    #[serde(default)]
    condition: Option<Condition>,
    actions: Vec<Action>,
}

impl TryFrom<RuleRepr> for Rule {
    type Error = RuleError;
    fn try_from(r: RuleRepr) -> Result<Self, RuleError> {
        Rule::new(r.name, r.trigger, r.condition, r.actions)
    }
}

impl Rule {
    /// A rule.
    ///
    /// # Errors
    ///
    /// [`RuleError::ActionCount`] for no action or more than [`MAX_ACTIONS`].
    pub fn new(
        name: RuleName,
        trigger: Trigger,
        condition: Option<Condition>,
        actions: Vec<Action>,
    ) -> Result<Rule, RuleError> {
        if actions.is_empty() || actions.len() > MAX_ACTIONS {
            return Err(RuleError::ActionCount {
                count: actions.len(),
                max: MAX_ACTIONS,
            });
        }
        for a in &actions {
            if let Action::Points(points) = *a
                && !(1..=MAX_RULE_POINTS).contains(&points)
            {
                return Err(RuleError::InvalidPoints {
                    points,
                    max: MAX_RULE_POINTS,
                });
            }
        }
        Ok(Rule {
            name,
            trigger,
            condition,
            actions,
        })
    }

    /// Its name.
    pub fn name(&self) -> &RuleName {
        &self.name
    }

    /// Its trigger.
    pub fn trigger(&self) -> Trigger {
        self.trigger
    }

    /// Its condition, if any.
    pub fn condition(&self) -> Option<&Condition> {
        self.condition.as_ref()
    }

    /// Its actions, in the order they run.
    pub fn actions(&self) -> &[Action] {
        &self.actions
    }
}

/// What the store keeps of a rule: a built-in's switch (`rule` is `None`), or a
/// user's rule and its switch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleRecord {
    /// The rule's name.
    pub name: RuleName,
    /// Whether it runs.
    pub enabled: bool,
    /// The rule, for a user's rule; `None` for a built-in's switch.
    pub rule: Option<Rule>,
}

/// A rule as the runner sees it: the stored records merged over the built-ins.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EffectiveRule {
    /// The rule.
    pub rule: Rule,
    /// Whether it runs.
    pub enabled: bool,
    /// True for a built-in.
    pub builtin: bool,
}

/// The built-in rules, by stable name, each on unless switched off:
///
/// | name | trigger | condition | task (due in business days) |
/// |---|---|---|---|
/// | `detractor-follow-up` | `survey_answered` | NPS ≤ 6 or CSAT ≤ 2 | follow up, 2, high |
/// | `complaint-response` | `request_opened` | `kind = complaint` | respond, 1, high |
/// | `at-risk-win-back` | `stage_changed` | `to = at_risk` | win back, 3 |
/// | `first-purchase-thanks` | `first_purchase` | | thank, 2 |
/// | `birthday-care` | `birthday:3` | | birthday greeting, 0 (kind birthday) |
/// | `stay-in-touch` | `no_contact:90` | not churned, not erased | get in touch, 5 |
/// | `won-deal-check-in` | `deal_won` | | after-sales check-in, 10 (two weeks) |
/// | `holiday-care` | `holiday:7` | | holiday greeting, 0 (kind holiday) |
///
/// `holiday-care` fires only for customers tagged with a holiday's key (see
/// [`Trigger::Holiday`]), so it does nothing until someone is tagged.
pub fn builtin_rules() -> Vec<Rule> {
    fn task(title: &str, kind: TaskKind, due_in: u32, priority: Priority) -> Action {
        Action::Task(CreateTask {
            title: Template::parse(title).expect("a built-in title is a valid template"),
            kind,
            due_in,
            priority,
        })
    }
    fn rule(name: &str, trigger: Trigger, condition: Option<&str>, action: Action) -> Rule {
        Rule {
            name: RuleName(name.to_owned()),
            trigger,
            condition: condition.map(|c| Condition::parse(c).expect("a built-in condition parses")),
            actions: vec![action],
        }
    }
    use Priority::{High, Normal};
    use TaskKind::{Birthday, FollowUp, Holiday};
    vec![
        rule(
            "detractor-follow-up",
            Trigger::Event(EventTrigger::SurveyAnswered),
            Some("(kind = nps and score <= 6) or (kind = csat and score <= 2)"),
            task("Follow up on the low score of {name}", FollowUp, 2, High),
        ),
        rule(
            "complaint-response",
            Trigger::Event(EventTrigger::RequestOpened),
            Some("kind = complaint"),
            task("Respond to the complaint of {name}", FollowUp, 1, High),
        ),
        rule(
            "at-risk-win-back",
            Trigger::Event(EventTrigger::StageChanged),
            Some("to = at_risk"),
            task("Win back {name}", FollowUp, 3, Normal),
        ),
        rule(
            "first-purchase-thanks",
            Trigger::Event(EventTrigger::FirstPurchase),
            None,
            task("Thank {name} for the first purchase", FollowUp, 2, Normal),
        ),
        rule(
            "birthday-care",
            Trigger::Birthday { days: 3 },
            None,
            task("Birthday greeting for {name}", Birthday, 0, Normal),
        ),
        rule(
            "stay-in-touch",
            Trigger::NoContact {
                days: 90,
                max: None,
            },
            Some("stage != churned"),
            task("Get in touch with {name}", FollowUp, 5, Normal),
        ),
        rule(
            "won-deal-check-in",
            Trigger::Event(EventTrigger::DealWon),
            None,
            task("After-sales check-in with {name}", FollowUp, 10, Normal),
        ),
        rule(
            "holiday-care",
            Trigger::Holiday { days: 7 },
            None,
            task("Holiday greeting for {name}", Holiday, 0, Normal),
        ),
    ]
}

/// True if `name` is a built-in rule's.
pub fn is_builtin(name: &RuleName) -> bool {
    builtin_rules().iter().any(|r| r.name() == name)
}

/// The rules in force: the built-ins with their stored switches, then the user's
/// rules, each group by name.
pub fn effective_rules(records: &[RuleRecord]) -> Vec<EffectiveRule> {
    let mut out: Vec<EffectiveRule> = builtin_rules()
        .into_iter()
        .map(|rule| {
            let enabled = records
                .iter()
                .find(|r| r.name == rule.name && r.rule.is_none())
                .is_none_or(|r| r.enabled);
            EffectiveRule {
                rule,
                enabled,
                builtin: true,
            }
        })
        .collect();
    out.sort_by(|a, b| a.rule.name.cmp(&b.rule.name));
    let mut user: Vec<EffectiveRule> = records
        .iter()
        .filter_map(|r| {
            r.rule.clone().map(|rule| EffectiveRule {
                rule,
                enabled: r.enabled,
                builtin: false,
            })
        })
        .collect();
    user.sort_by(|a, b| a.rule.name.cmp(&b.rule.name));
    out.extend(user);
    out
}

/// What one firing is about, besides its rule and customer: the key that makes a rule
/// fire at most once for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Occurrence {
    /// The event with this sequence number.
    Event(EventSeq),
    /// The birthday of this year.
    Birthday(i32),
    /// The silence that began on this day (the last contact, or the creation).
    Silence(NaiveDate),
    /// The same silence reaching a cadence's maximum interval.
    SilenceMax(NaiveDate),
    /// This deal, idle since this day.
    DealIdle(DealId, NaiveDate),
    /// This task's occurrence (0 for a one-off task).
    TaskOverdue(TaskId, u32),
    /// The holidays on this day: a customer tagged for two holidays of one day is
    /// greeted once.
    Holiday(NaiveDate),
    /// The customer's points lapsing on this day.
    PointsExpiring(NaiveDate),
}

impl Occurrence {
    /// The stored key: `event:42`, `birthday:2026`, `silence:2026-01-05`,
    /// `silence_max:2026-01-05`,
    /// `deal_idle:7:2026-01-05`, `task_overdue:9:0`, `holiday:2026-02-17`,
    /// `points_expiring:2026-03-01`.
    pub fn key(&self) -> String {
        match self {
            Occurrence::Event(seq) => format!("event:{seq}"),
            Occurrence::Birthday(year) => format!("birthday:{year}"),
            Occurrence::Silence(day) => format!("silence:{day}"),
            Occurrence::SilenceMax(day) => format!("silence_max:{day}"),
            Occurrence::DealIdle(deal, day) => format!("deal_idle:{}:{day}", deal.get()),
            Occurrence::TaskOverdue(task, n) => format!("task_overdue:{}:{n}", task.get()),
            Occurrence::Holiday(day) => format!("holiday:{day}"),
            Occurrence::PointsExpiring(day) => format!("points_expiring:{day}"),
        }
    }

    /// Reads a stored key back.
    ///
    /// # Errors
    ///
    /// A message naming the key, if it is not one [`key`](Self::key) writes.
    pub fn parse_key(key: &str) -> Result<Occurrence, String> {
        let bad = || format!("'{key}' is not an occurrence key");
        let mut parts = key.split(':');
        let kind = parts.next().ok_or_else(bad)?;
        let a = parts.next().ok_or_else(bad)?;
        let b = parts.next();
        if parts.next().is_some() {
            return Err(bad());
        }
        let day = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| bad());
        let num = |s: &str| s.parse::<u64>().map_err(|_| bad());
        Ok(match (kind, b) {
            ("event", None) => Occurrence::Event(num(a)?),
            ("birthday", None) => Occurrence::Birthday(a.parse().map_err(|_| bad())?),
            ("silence", None) => Occurrence::Silence(day(a)?),
            ("silence_max", None) => Occurrence::SilenceMax(day(a)?),
            ("holiday", None) => Occurrence::Holiday(day(a)?),
            ("points_expiring", None) => Occurrence::PointsExpiring(day(a)?),
            ("deal_idle", Some(b)) => Occurrence::DealIdle(DealId::new(num(a)?), day(b)?),
            ("task_overdue", Some(b)) => {
                Occurrence::TaskOverdue(TaskId::new(num(a)?), b.parse().map_err(|_| bad())?)
            }
            _ => return Err(bad()),
        })
    }
}

impl fmt::Display for Occurrence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.key())
    }
}

impl TryFrom<String> for Occurrence {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        Occurrence::parse_key(&s)
    }
}

impl From<Occurrence> for String {
    fn from(o: Occurrence) -> String {
        o.key()
    }
}

/// A rule fired for a customer: the record that makes it fire only once per
/// occurrence, stored in the same transaction as its actions. It links the task the
/// firing created to the rule, which is how a task list shows a task's rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Firing {
    /// The rule.
    pub rule: RuleName,
    /// The customer.
    pub customer: CustomerId,
    /// What it fired for.
    pub occurrence: Occurrence,
    /// The business day it fired on (the event's day, or the first day of the run in
    /// which the time condition held).
    pub day: NaiveDate,
    /// The instant of the run that fired it (its `as_of`).
    pub at: chrono::DateTime<chrono::Utc>,
    /// The task it created, if it created one.
    pub task: Option<TaskId>,
    /// That task's priority.
    pub priority: Option<Priority>,
}

/// Where the runner has got to: the last event it has processed and the last day its
/// time rules covered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AutomationCursor {
    /// The sequence number of the last event processed (0: none).
    pub events: EventSeq,
    /// The last business day the time rules covered; `None` before the first run.
    pub day: Option<NaiveDate>,
}

/// `day` plus `n` business days (Monday to Friday): 0 is `day` itself, whatever its
/// weekday; 1 from a Friday, Saturday or Sunday is the next Monday.
///
/// ```
/// use chrono::NaiveDate;
/// use solocrm_core::automation::add_business_days;
/// let fri = NaiveDate::from_ymd_opt(2026, 3, 6).unwrap();
/// assert_eq!(add_business_days(fri, 0), fri);
/// assert_eq!(add_business_days(fri, 1), NaiveDate::from_ymd_opt(2026, 3, 9).unwrap());
/// assert_eq!(add_business_days(fri, 10), NaiveDate::from_ymd_opt(2026, 3, 20).unwrap());
/// ```
pub fn add_business_days(day: NaiveDate, n: u32) -> NaiveDate {
    let mut d = day;
    let mut left = n;
    while left > 0 {
        let Some(next) = d.checked_add_days(Days::new(1)) else {
            return d;
        };
        d = next;
        if !matches!(d.weekday(), Weekday::Sat | Weekday::Sun) {
            left -= 1;
        }
    }
    d
}

/// The business days a run covers, both ends included: from the day after the
/// previous run's last day (or the run's own day, for the first run) to the run's day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    /// The first day.
    pub from: NaiveDate,
    /// The last day.
    pub to: NaiveDate,
}

impl Span {
    /// The span of a run on `today` after a run that covered up to `last` (if any);
    /// `None` if `today` is not after `last` (nothing new to cover).
    pub fn after(last: Option<NaiveDate>, today: NaiveDate) -> Option<Span> {
        match last {
            None => Some(Span {
                from: today,
                to: today,
            }),
            Some(last) if last < today => Some(Span {
                from: last.succ_opt()?,
                to: today,
            }),
            Some(_) => None,
        }
    }
}

/// The days a time condition holds for one occurrence: from `first` to `last` (`None`:
/// still holding).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// What it is.
    pub occurrence: Occurrence,
    /// The first day it holds.
    pub first: NaiveDate,
    /// The last day it holds, if it has stopped.
    pub last: Option<NaiveDate>,
}

impl Window {
    /// The day a run covering `span` fires it on: the first covered day it holds, if
    /// any. So a run every day and one run at the end fire the same occurrences on
    /// the same days.
    pub fn fires_on(&self, span: Span) -> Option<NaiveDate> {
        let start = self.first.max(span.from);
        let holds = start <= span.to && self.last.is_none_or(|l| l >= start);
        holds.then_some(start)
    }
}

fn minus_days(d: NaiveDate, n: u32) -> Option<NaiveDate> {
    d.checked_sub_days(Days::new(u64::from(n)))
}

fn plus_days(d: NaiveDate, n: u32) -> Option<NaiveDate> {
    d.checked_add_days(Days::new(u64::from(n)))
}

/// The windows of a `birthday:days` trigger for someone born on `birthday` that a
/// run covering `span` may fire: the `days` days before each birthday and the day
/// itself, one occurrence per year (February 29 falls on March 1 in common years).
pub fn birthday_windows(birthday: NaiveDate, days: u32, span: Span) -> Vec<Window> {
    (span.from.year()..=span.to.year().saturating_add(1))
        .filter_map(|year| {
            let day = anniversary_in(birthday.month(), birthday.day(), year)?;
            Some(Window {
                occurrence: Occurrence::Birthday(year),
                first: minus_days(day, days)?,
                last: Some(day),
            })
        })
        .filter(|w| w.fires_on(span).is_some())
        .collect()
}

/// The windows of a `holiday:days` trigger for a customer tagged for holidays on the
/// days `dates` (any order, repeats allowed): the `days` days before each and the day
/// itself, one occurrence per day.
///
/// ```
/// use chrono::NaiveDate;
/// use solocrm_core::automation::{Occurrence, Span, holiday_windows};
/// let d = |s: &str| s.parse::<NaiveDate>().unwrap();
/// let span = Span { from: d("2026-02-10"), to: d("2026-02-10") };
/// // 春节 2026 is February 17: seven days before, the window opens on the 10th.
/// let w = holiday_windows(&[d("2026-02-17")], 7, span);
/// assert_eq!(w.len(), 1);
/// assert_eq!(w[0].occurrence, Occurrence::Holiday(d("2026-02-17")));
/// assert_eq!(w[0].fires_on(span), Some(d("2026-02-10")));
/// assert!(holiday_windows(&[d("2026-02-18")], 7, span).is_empty());
/// ```
pub fn holiday_windows(dates: &[NaiveDate], days: u32, span: Span) -> Vec<Window> {
    let mut dates = dates.to_vec();
    dates.sort_unstable();
    dates.dedup();
    dates
        .into_iter()
        .filter_map(|day| {
            Some(Window {
                occurrence: Occurrence::Holiday(day),
                first: minus_days(day, days)?,
                last: Some(day),
            })
        })
        .filter(|w| w.fires_on(span).is_some())
        .collect()
}

/// The windows of a `points_expiring:days` trigger for a customer whose points
/// lapse as `lapses` says ([`lapse_schedule`](crate::lapse_schedule) of their open
/// lots): for each lapse day, the `days` days before it, up to the day before (on
/// the lapse day the points are gone); one occurrence per lapse day.
///
/// ```
/// use chrono::NaiveDate;
/// use solocrm_core::Lapse;
/// use solocrm_core::automation::{Occurrence, Span, expiry_windows};
/// let d = |s: &str| s.parse::<NaiveDate>().unwrap();
/// // 80 points lapse on 2025-03-01; a 14-day reminder opens on February 15.
/// let lapses = [Lapse { day: d("2025-03-01"), points: 80 }];
/// let span = Span { from: d("2025-02-15"), to: d("2025-02-15") };
/// let w = expiry_windows(&lapses, 14, span);
/// assert_eq!(w[0].occurrence, Occurrence::PointsExpiring(d("2025-03-01")));
/// assert_eq!((w[0].first, w[0].last), (d("2025-02-15"), Some(d("2025-02-28"))));
/// // On the lapse day itself it no longer holds.
/// let on = Span { from: d("2025-03-01"), to: d("2025-03-01") };
/// assert!(expiry_windows(&lapses, 14, on).is_empty());
/// ```
pub fn expiry_windows(lapses: &[crate::Lapse], days: u32, span: Span) -> Vec<Window> {
    lapses
        .iter()
        .filter_map(|l| {
            Some(Window {
                occurrence: Occurrence::PointsExpiring(l.day),
                first: minus_days(l.day, days)?,
                last: Some(l.day.pred_opt()?),
            })
        })
        .filter(|w| w.fires_on(span).is_some())
        .collect()
}

/// The windows of a `no_contact:days` trigger: `since` is the day the customer was
/// created, `contacts` the days of their contacts (any order, repeats allowed). Each
/// contact (and the creation) begins a silence, which holds from `days` days after
/// it until the day before the next contact; contacts after `span.to` are not known
/// yet and are left out.
pub fn silence_windows(
    since: NaiveDate,
    contacts: &[NaiveDate],
    days: u32,
    span: Span,
) -> Vec<Window> {
    let starts = silence_starts(since, contacts, span);
    let mut out = Vec::new();
    for (i, start) in starts.iter().enumerate() {
        let Some(first) = plus_days(*start, days) else {
            continue;
        };
        let last = starts.get(i + 1).and_then(|next| next.pred_opt());
        push_window(&mut out, Occurrence::Silence(*start), first, last, span);
    }
    out
}

/// The days that begin a silence: each contact up to `span.to`, and the creation.
fn silence_starts(since: NaiveDate, contacts: &[NaiveDate], span: Span) -> Vec<NaiveDate> {
    let mut starts: Vec<NaiveDate> = contacts.iter().copied().filter(|d| *d <= span.to).collect();
    starts.push(since.min(span.to));
    starts.sort_unstable();
    starts.dedup();
    starts
}

/// Adds the window from `first` to `last` if it holds on a day and a run covering
/// `span` fires it.
fn push_window(
    out: &mut Vec<Window>,
    occurrence: Occurrence,
    first: NaiveDate,
    last: Option<NaiveDate>,
    span: Span,
) {
    let w = Window {
        occurrence,
        first,
        last,
    };
    if last.is_none_or(|l| l >= first) && w.fires_on(span).is_some() {
        out.push(w);
    }
}

/// The windows of a stay-in-touch cadence, `no_contact:ideal:max` (`ideal < max`):
/// each silence (begun by a contact or the creation, as in [`silence_windows`]) has
/// two. The **ideal** window ([`Occurrence::Silence`]) holds from `ideal` days after
/// the silence began to the day before `max` days (or the day before the next
/// contact, if sooner); the **maximum** window ([`Occurrence::SilenceMax`]) holds from
/// `max` days on until the day before the next contact. So a customer who is
/// contacted between the two gets one reminder, one who is not gets a second (the
/// runner makes it high priority), and a first run that finds the maximum already
/// passed fires only the second. Each window fires once, on its first covered day.
///
/// ```
/// use chrono::NaiveDate;
/// use solocrm_core::automation::{Occurrence, Span, cadence_windows};
/// let d = |m, day| NaiveDate::from_ymd_opt(2026, m, day).unwrap();
/// // Last contact on January 1; a 30-day ideal and a 45-day maximum.
/// let windows = |on| cadence_windows(d(1, 1), &[], 30, 45, Span { from: on, to: on });
/// assert_eq!(windows(d(1, 31))[0].occurrence, Occurrence::Silence(d(1, 1)));
/// assert_eq!(windows(d(2, 14))[0].occurrence, Occurrence::Silence(d(1, 1)));
/// assert_eq!(windows(d(2, 15))[0].occurrence, Occurrence::SilenceMax(d(1, 1)));
/// assert_eq!(windows(d(2, 15)).len(), 1);
/// // A contact on February 10 ends the silence: nothing on the 15th.
/// let later = cadence_windows(d(1, 1), &[d(2, 10)], 30, 45, Span { from: d(2, 15), to: d(2, 15) });
/// assert!(later.is_empty());
/// ```
pub fn cadence_windows(
    since: NaiveDate,
    contacts: &[NaiveDate],
    ideal: u32,
    max: u32,
    span: Span,
) -> Vec<Window> {
    let starts = silence_starts(since, contacts, span);
    let mut out = Vec::new();
    for (i, start) in starts.iter().enumerate() {
        let (Some(first), Some(at_max)) = (plus_days(*start, ideal), plus_days(*start, max)) else {
            continue;
        };
        let before_next = starts.get(i + 1).and_then(|next| next.pred_opt());
        let ideal_last = at_max
            .pred_opt()
            .map(|l| before_next.map_or(l, |n| n.min(l)));
        push_window(
            &mut out,
            Occurrence::Silence(*start),
            first,
            ideal_last,
            span,
        );
        push_window(
            &mut out,
            Occurrence::SilenceMax(*start),
            at_max,
            before_next,
            span,
        );
    }
    out
}

/// The windows of a `deal_idle:days` trigger for `deal`, created or moved on the days
/// `moves` (any order) and closed on `closed` if it is won or lost: each move begins
/// an idleness that holds from `days` days after it until the day before the next
/// move (or the close).
pub fn idle_windows(
    deal: DealId,
    moves: &[NaiveDate],
    closed: Option<NaiveDate>,
    days: u32,
    span: Span,
) -> Vec<Window> {
    let mut starts: Vec<NaiveDate> = moves.iter().copied().filter(|d| *d <= span.to).collect();
    starts.sort_unstable();
    starts.dedup();
    let mut out = Vec::new();
    for (i, start) in starts.iter().enumerate() {
        if closed.is_some_and(|c| c <= *start) {
            break;
        }
        let Some(first) = plus_days(*start, days) else {
            continue;
        };
        let next = starts.get(i + 1).copied();
        let end = match (next, closed.filter(|c| *c <= span.to)) {
            (Some(n), Some(c)) => Some(n.min(c)),
            (n, c) => n.or(c),
        };
        let last = end.and_then(|e| e.pred_opt());
        let w = Window {
            occurrence: Occurrence::DealIdle(deal, *start),
            first,
            last,
        };
        if last.is_none_or(|l| l >= first) && w.fires_on(span).is_some() {
            out.push(w);
        }
    }
    out
}

/// The window of a `task_overdue:days` trigger for an open task's current occurrence
/// (`occurrence`, due on `due`): from `days` days after the due date, while open.
pub fn overdue_window(task: TaskId, occurrence: u32, due: NaiveDate, days: u32) -> Option<Window> {
    Some(Window {
        occurrence: Occurrence::TaskOverdue(task, occurrence),
        first: plus_days(due, days)?,
        last: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn rule_names_are_checked() {
        assert_eq!(RuleName::parse("VIP-Care").unwrap().as_str(), "vip-care");
        for bad in ["", "9lives", "with space", "下单", &"a".repeat(65)] {
            assert!(RuleName::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn triggers_round_trip_as_text() {
        for t in [
            "survey_answered",
            "birthday:3",
            "no_contact:90",
            "no_contact:30:45",
            "deal_idle:14",
            "task_overdue:1",
            "holiday:7",
            "holiday:0",
            "points_expiring:14",
            "points_expiring:300",
        ] {
            assert_eq!(Trigger::parse(t).unwrap().to_string(), t);
        }
        assert!(Trigger::parse("holiday:301").is_err());
        assert!(Trigger::parse("points_expiring:0").is_err());
        assert!(Trigger::parse("points_expiring:301").is_err());
        assert_eq!(
            Trigger::parse("Points-Expiring:7").unwrap(),
            Trigger::PointsExpiring { days: 7 }
        );
        assert_eq!(
            Trigger::parse("no-contact: 30 : 45").unwrap(),
            Trigger::NoContact {
                days: 30,
                max: Some(45)
            }
        );
        // A cadence's maximum is after its ideal; only no_contact takes two numbers.
        for bad in [
            "no_contact:45:30",
            "no_contact:30:30",
            "no_contact:0:30",
            "no_contact:30:x",
            "no_contact:30:99999",
            "birthday:3:5",
            "no_contact:1:2:3",
        ] {
            assert!(Trigger::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            Trigger::parse("first-purchase").unwrap(),
            Trigger::Event(EventTrigger::FirstPurchase)
        );
        assert!(Trigger::parse("no_contact:0").is_err());
        assert!(Trigger::parse("no_contact:x").is_err());
        assert!(Trigger::parse("lunar:3").is_err());
        assert!(Trigger::parse("bought").is_err());
    }

    #[test]
    fn templates_render_the_name_and_reject_unknown_placeholders() {
        let t = Template::parse("致电 {name}（{{VIP}}）").unwrap();
        assert_eq!(t.render("王芳").as_str(), "致电 王芳（{VIP}）");
        assert!(Template::parse("Call {nme}").is_err());
        assert!(Template::parse("Call }").is_err());
        assert!(Template::parse("").is_err());
        let long = Template::parse(&format!("{} {{name}}", "x".repeat(190))).unwrap();
        assert_eq!(
            long.render(&"名".repeat(50)).as_str().chars().count(),
            MAX_LINE_CHARS
        );
    }

    #[test]
    fn builtins_have_stable_names_and_valid_conditions() {
        let names: Vec<String> = builtin_rules()
            .iter()
            .map(|r| r.name().to_string())
            .collect();
        assert_eq!(
            names,
            [
                "detractor-follow-up",
                "complaint-response",
                "at-risk-win-back",
                "first-purchase-thanks",
                "birthday-care",
                "stay-in-touch",
                "won-deal-check-in",
                "holiday-care"
            ]
        );
        for r in builtin_rules() {
            // Every built-in's template and condition survive a round trip.
            let json = serde_json::to_string(&r).unwrap();
            let back: Rule = serde_json::from_str(&json).unwrap();
            assert_eq!(back, r);
        }
        assert_eq!(
            builtin_rules()[0].condition().unwrap().as_str(),
            "(kind = nps and score <= 6) or (kind = csat and score <= 2)"
        );
    }

    #[test]
    fn switches_override_builtins() {
        let off = RuleRecord {
            name: RuleName::parse("stay-in-touch").unwrap(),
            enabled: false,
            rule: None,
        };
        let rules = effective_rules(&[off]);
        assert_eq!(rules.len(), 8);
        for r in &rules {
            assert_eq!(r.enabled, r.rule.name().as_str() != "stay-in-touch");
        }
    }

    #[test]
    fn occurrence_keys_round_trip() {
        for o in [
            Occurrence::Event(42),
            Occurrence::Birthday(2026),
            Occurrence::Silence(d(2026, 1, 5)),
            Occurrence::SilenceMax(d(2026, 1, 5)),
            Occurrence::DealIdle(DealId::new(7), d(2026, 1, 5)),
            Occurrence::TaskOverdue(TaskId::new(9), 0),
            Occurrence::Holiday(d(2026, 2, 17)),
            Occurrence::PointsExpiring(d(2028, 2, 29)),
        ] {
            assert_eq!(Occurrence::parse_key(&o.key()).unwrap(), o);
        }
        assert!(Occurrence::parse_key("event:x").is_err());
        assert!(Occurrence::parse_key("silence").is_err());
    }

    /// A weekly run and daily runs fire a lapse's reminder on the same day, once; a
    /// run that starts after the window (on or past the lapse day) fires nothing.
    #[test]
    fn an_expiry_reminder_fires_on_its_first_covered_day_before_the_lapse() {
        let lapses = [
            crate::Lapse {
                day: d(2028, 2, 29),
                points: 30,
            },
            crate::Lapse {
                day: d(2028, 3, 31),
                points: 5,
            },
        ];
        let week = Span {
            from: d(2028, 2, 20),
            to: d(2028, 2, 26),
        };
        let w = expiry_windows(&lapses, 7, week);
        assert_eq!(w.len(), 1);
        assert_eq!(w[0].occurrence, Occurrence::PointsExpiring(d(2028, 2, 29)));
        assert_eq!(w[0].fires_on(week), Some(d(2028, 2, 22)));
        let mut daily = Vec::new();
        let mut day = d(2028, 2, 20);
        while day <= d(2028, 3, 31) {
            let span = Span { from: day, to: day };
            for w in expiry_windows(&lapses, 7, span) {
                daily.push((w.occurrence, w.fires_on(span)));
            }
            day = day.succ_opt().unwrap();
        }
        // Daily runs see the window on each of its seven days; the runner's firing
        // key keeps the first: the same day the weekly run fires on.
        assert_eq!(
            daily.first(),
            Some(&(
                Occurrence::PointsExpiring(d(2028, 2, 29)),
                Some(d(2028, 2, 22))
            ))
        );
        assert_eq!(
            daily
                .iter()
                .filter(|(o, _)| *o == Occurrence::PointsExpiring(d(2028, 3, 31)))
                .count(),
            7
        );
        let late = Span {
            from: d(2028, 3, 31),
            to: d(2028, 4, 2),
        };
        assert!(expiry_windows(&lapses, 7, late).is_empty());
    }

    #[test]
    fn business_days_skip_weekends() {
        let sat = d(2026, 3, 7);
        assert_eq!(add_business_days(sat, 1), d(2026, 3, 9));
        assert_eq!(add_business_days(d(2026, 3, 9), 4), d(2026, 3, 13));
        assert_eq!(add_business_days(d(2026, 3, 9), 5), d(2026, 3, 16));
    }

    #[test]
    fn a_birthday_window_fires_once_in_a_covering_span() {
        let born = d(1990, 3, 10);
        let span = Span::after(Some(d(2026, 3, 1)), d(2026, 3, 8)).unwrap();
        let w = birthday_windows(born, 3, span);
        assert_eq!(w.len(), 1);
        assert_eq!(w[0].occurrence, Occurrence::Birthday(2026));
        assert_eq!(w[0].fires_on(span), Some(d(2026, 3, 7)));
        // A span after the birthday fires nothing more.
        let later = Span::after(Some(d(2026, 3, 10)), d(2026, 3, 20)).unwrap();
        assert!(birthday_windows(born, 3, later).is_empty());
        // A leap-day birthday falls on March 1 in 2027.
        let leap = d(2000, 2, 29);
        let span = Span::after(None, d(2027, 3, 1)).unwrap();
        assert_eq!(
            birthday_windows(leap, 0, span)[0].occurrence,
            Occurrence::Birthday(2027)
        );
    }

    #[test]
    fn silences_begin_at_each_contact_and_end_at_the_next() {
        let span = Span::after(Some(d(2026, 1, 1)), d(2026, 6, 30)).unwrap();
        let created = d(2025, 6, 1);
        let contacts = [d(2026, 1, 10), d(2026, 2, 1), d(2026, 3, 1)];
        let w = silence_windows(created, &contacts, 30, span);
        // 2025-06-01 → 2025-07-01 … 2026-01-09 holds into the span; 01-10 → 02-01 is
        // only 21 days; 02-01 → 03-01 is 28 days; 03-01 → open from 03-31.
        let occ: Vec<_> = w.iter().map(|w| w.occurrence).collect();
        assert_eq!(
            occ,
            [
                Occurrence::Silence(created),
                Occurrence::Silence(d(2026, 3, 1))
            ]
        );
        assert_eq!(w[0].fires_on(span), Some(d(2026, 1, 2)));
        assert_eq!(w[1].fires_on(span), Some(d(2026, 3, 31)));
        // Contacts after the span's end are not known yet.
        let early = Span::after(Some(d(2026, 1, 1)), d(2026, 1, 5)).unwrap();
        assert_eq!(silence_windows(created, &contacts, 30, early).len(), 1);
    }

    #[test]
    fn an_idle_deal_stops_at_its_next_move_or_close() {
        let span = Span::after(None, d(2026, 5, 1)).unwrap();
        let deal = DealId::new(1);
        let w = idle_windows(deal, &[d(2026, 1, 1)], None, 14, span);
        assert_eq!(w.len(), 1);
        let closed = idle_windows(deal, &[d(2026, 1, 1)], Some(d(2026, 1, 10)), 14, span);
        assert!(closed.is_empty());
    }
}
