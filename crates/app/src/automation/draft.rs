//! A rule built from its parts as a person types them: the flags of `solocrm rule
//! add` and the rule form of the web workspace both fill a [`RuleDraft`] and call
//! [`RuleDraft::build`], so both read the parts with the core's own parsers
//! ([`Trigger::parse`], [`Condition::parse`], [`Template::parse`] …) and refuse the
//! same input with the same message.
//!
//! The actions a draft can hold are the ones a form shows: at most one task, tags,
//! untags, at most one stage move, at most one note and at most one points action,
//! built in that order. A rule with more (two tasks, from a rules file) has no draft
//! ([`RuleDraft::of`] gives `None`) and is edited as TOML instead.

use solocrm_core::automation::{
    Action, Condition, CreateTask, Priority, Rule, RuleError, RuleName, Template, Trigger,
};
use solocrm_core::{LifecycleStage, Tag, TaskKind};
use thiserror::Error;

/// The task part of a [`RuleDraft`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskDraft {
    /// The title template (`{name}` is the customer's name).
    pub title: String,
    /// What the task is for.
    pub kind: TaskKind,
    /// Business days from the firing day to the due date.
    pub due_in: u32,
    /// `low`, `normal` or `high`.
    pub priority: String,
}

/// A rule as typed: text where a person types text, read by [`RuleDraft::build`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RuleDraft {
    /// The rule's name.
    pub name: String,
    /// The trigger, e.g. `request_opened` or `birthday:3`.
    pub trigger: String,
    /// The condition in the segment syntax plus event fields; `None` or blank for
    /// none.
    pub condition: Option<String>,
    /// The task to create, if any.
    pub task: Option<TaskDraft>,
    /// Tags to give.
    pub tags: Vec<String>,
    /// Tags to take away.
    pub untags: Vec<String>,
    /// The stage to move the customer to, if any.
    pub stage: Option<LifecycleStage>,
    /// The note template to log, if any (blank for none).
    pub note: Option<String>,
    /// Points to give, if any.
    pub points: Option<u32>,
}

/// Which part of a draft a refusal is about: where a form shows the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// The name.
    Name,
    /// The trigger.
    Trigger,
    /// The condition.
    Condition,
    /// The task's title.
    TaskTitle,
    /// The task's due offset.
    TaskDueIn,
    /// The task's priority.
    TaskPriority,
    /// A tag to give.
    Tag,
    /// A tag to take away.
    Untag,
    /// The note.
    Note,
    /// The points.
    Points,
    /// The actions as a whole (none, too many, or one the trigger cannot take).
    Actions,
}

/// Why a draft is not a rule: which part, where in it (the condition parser's column,
/// 1-based, in characters), and the parser's message.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{message}")]
pub struct DraftError {
    /// The part that is wrong.
    pub part: Part,
    /// The column of the problem in that part, when the parser gives one.
    pub column: Option<usize>,
    /// What is wrong.
    pub message: String,
}

impl DraftError {
    fn new(part: Part, e: impl std::fmt::Display) -> DraftError {
        DraftError {
            part,
            column: None,
            message: e.to_string(),
        }
    }
}

/// Splits a list of tags typed in one field: by commas (ASCII or full-width), which
/// no tag may hold; blanks are dropped.
///
/// ```
/// use solocrm_app::automation::draft::split_tags;
/// assert_eq!(split_tags("vip, 老客户，trade fair,"), ["vip", "老客户", "trade fair"]);
/// ```
pub fn split_tags(input: &str) -> Vec<String> {
    input
        .split([',', '，'])
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .collect()
}

impl RuleDraft {
    /// The rule this draft describes.
    ///
    /// # Errors
    ///
    /// [`DraftError`] for the first part that does not parse, in the order name,
    /// trigger, condition, task, tags, untags, note, then what [`Rule::new`] refuses
    /// (no action, too many, points out of range, a built-in's name).
    pub fn build(&self) -> Result<Rule, DraftError> {
        let name = RuleName::parse(self.name.trim()).map_err(|e| DraftError::new(Part::Name, e))?;
        let trigger =
            Trigger::parse(&self.trigger).map_err(|e| DraftError::new(Part::Trigger, e))?;
        let condition = match self.condition.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(text) => Some(Condition::parse(text).map_err(|e| DraftError {
                part: Part::Condition,
                column: Some(e.column),
                message: e.to_string(),
            })?),
        };
        let mut actions = Vec::new();
        if let Some(t) = &self.task {
            let title =
                Template::parse(&t.title).map_err(|e| DraftError::new(Part::TaskTitle, e))?;
            let priority = Priority::parse(t.priority.trim())
                .map_err(|e| DraftError::new(Part::TaskPriority, e))?;
            let task = CreateTask::new(title, t.kind, t.due_in, priority)
                .map_err(|e| DraftError::new(Part::TaskDueIn, e))?;
            actions.push(Action::Task(task));
        }
        for t in &self.tags {
            actions.push(Action::Tag(
                Tag::parse(t).map_err(|e| DraftError::new(Part::Tag, e))?,
            ));
        }
        for t in &self.untags {
            actions.push(Action::Untag(
                Tag::parse(t).map_err(|e| DraftError::new(Part::Untag, e))?,
            ));
        }
        if let Some(s) = self.stage {
            actions.push(Action::Stage(s));
        }
        if let Some(n) = self.note.as_deref().filter(|n| !n.trim().is_empty()) {
            actions.push(Action::Note(
                Template::parse(n).map_err(|e| DraftError::new(Part::Note, e))?,
            ));
        }
        if let Some(n) = self.points {
            actions.push(Action::Points(n));
        }
        Rule::new(name, trigger, condition, actions).map_err(|e| {
            let part = match e {
                RuleError::InvalidName { .. } | RuleError::BuiltinName { .. } => Part::Name,
                RuleError::InvalidPoints { .. } => Part::Points,
                _ => Part::Actions,
            };
            DraftError::new(part, e)
        })
    }

    /// The draft of `rule`, to fill a form with: `None` when the rule has actions a
    /// draft cannot hold (more than one task, stage move, note or points action).
    /// The draft builds the same rule, with its actions in the draft's order.
    pub fn of(rule: &Rule) -> Option<RuleDraft> {
        let mut d = RuleDraft {
            name: rule.name().to_string(),
            trigger: rule.trigger().to_string(),
            condition: rule.condition().map(|c| c.as_str().to_owned()),
            ..RuleDraft::default()
        };
        for a in rule.actions() {
            match a {
                Action::Task(t) if d.task.is_none() => {
                    d.task = Some(TaskDraft {
                        title: t.title.as_str().to_owned(),
                        kind: t.kind,
                        due_in: t.due_in,
                        priority: t.priority.as_str().to_owned(),
                    });
                }
                Action::Tag(t) => d.tags.push(t.as_str().to_owned()),
                Action::Untag(t) => d.untags.push(t.as_str().to_owned()),
                Action::Stage(s) if d.stage.is_none() => d.stage = Some(*s),
                Action::Note(n) if d.note.is_none() => d.note = Some(n.as_str().to_owned()),
                Action::Points(n) if d.points.is_none() => d.points = Some(*n),
                _ => return None,
            }
        }
        Some(d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use solocrm_core::automation::builtin_rules;

    fn draft() -> RuleDraft {
        RuleDraft {
            name: "vip-complaint".into(),
            trigger: "request_opened".into(),
            condition: Some("kind = complaint and tag = vip".into()),
            task: Some(TaskDraft {
                title: "致电 {name}".into(),
                kind: TaskKind::FollowUp,
                due_in: 1,
                priority: "high".into(),
            }),
            tags: vec!["投诉".into()],
            untags: vec!["happy".into()],
            stage: Some(LifecycleStage::AtRisk),
            note: Some("{name} 投诉了".into()),
            points: Some(20),
        }
    }

    #[test]
    fn a_draft_builds_its_rule_and_a_rule_gives_its_draft_back() {
        let rule = draft().build().unwrap();
        assert_eq!(rule.name().as_str(), "vip-complaint");
        assert_eq!(rule.actions().len(), 6);
        assert_eq!(RuleDraft::of(&rule), Some(draft()));
    }

    #[test]
    fn each_bad_part_is_named_and_a_condition_has_its_column() {
        let refuse = |f: fn(&mut RuleDraft), part: Part| {
            let mut d = draft();
            f(&mut d);
            let e = d.build().unwrap_err();
            assert_eq!(e.part, part, "{e}");
            e
        };
        refuse(|d| d.name = "Bad Name".into(), Part::Name);
        let e = refuse(|d| d.trigger = "lunar_new_year".into(), Part::Trigger);
        assert!(e.message.contains("lunar_new_year"), "{e}");
        let e = refuse(
            |d| d.condition = Some("kind = complaint and score <= lots".into()),
            Part::Condition,
        );
        assert_eq!(e.column, Some(31), "{e}");
        refuse(
            |d| d.task.as_mut().unwrap().title = "{nom}".into(),
            Part::TaskTitle,
        );
        refuse(
            |d| d.task.as_mut().unwrap().priority = "urgent".into(),
            Part::TaskPriority,
        );
        refuse(
            |d| d.task.as_mut().unwrap().due_in = 99_999,
            Part::TaskDueIn,
        );
        refuse(|d| d.tags = vec!["a;b".into()], Part::Tag);
        refuse(|d| d.untags = vec![String::new()], Part::Untag);
        refuse(|d| d.note = Some("{".into()), Part::Note);
        refuse(|d| d.points = Some(0), Part::Points);
        let e = refuse(
            |d| {
                *d = RuleDraft {
                    name: "empty".into(),
                    trigger: "request_opened".into(),
                    ..RuleDraft::default()
                }
            },
            Part::Actions,
        );
        assert!(e.message.contains("1 to 8 actions"), "{e}");
    }

    #[test]
    fn a_blank_condition_or_note_is_none() {
        let mut d = draft();
        d.condition = Some("  ".into());
        d.note = Some(" ".into());
        let rule = d.build().unwrap();
        assert!(rule.condition().is_none());
        assert_eq!(rule.actions().len(), 5);
    }

    #[test]
    fn built_in_rules_have_drafts_that_give_them_back_but_for_the_name() {
        for rule in builtin_rules() {
            let mut d = RuleDraft::of(&rule).expect("a built-in fits a draft");
            // A built-in's own name is refused to a user rule.
            d.name = format!("my-{}", rule.name());
            let again = d.build().unwrap();
            assert_eq!(again.trigger(), rule.trigger());
            assert_eq!(again.condition(), rule.condition());
            assert_eq!(again.actions(), rule.actions());
        }
    }

    #[test]
    fn a_rule_with_two_tasks_has_no_draft() {
        let task = Action::Task(
            CreateTask::new(
                Template::parse("a").unwrap(),
                TaskKind::FollowUp,
                0,
                Priority::Normal,
            )
            .unwrap(),
        );
        let rule = Rule::new(
            RuleName::parse("two").unwrap(),
            Trigger::parse("first_purchase").unwrap(),
            None,
            vec![task.clone(), task],
        )
        .unwrap();
        assert_eq!(RuleDraft::of(&rule), None);
    }

    proptest! {
        /// Any draft that builds gives itself back through the rule (tags as the
        /// core normalises them), so an edit form shows what is stored.
        #[test]
        fn built_drafts_round_trip(
            due_in in 0u32..5000,
            tags in proptest::collection::vec("[a-z\u{4e00}-\u{4e10}]{1,6}", 0..3),
            stage in proptest::option::of(0usize..3),
            points in proptest::option::of(0u32..2_000_000),
            note in proptest::option::of("[a-z 客户]{0,10}"),
        ) {
            let stages = [LifecycleStage::Active, LifecycleStage::AtRisk, LifecycleStage::Churned];
            let d = RuleDraft {
                name: "p".into(),
                trigger: "birthday:3".into(),
                condition: None,
                task: Some(TaskDraft {
                    title: "t {name}".into(),
                    kind: TaskKind::FollowUp,
                    due_in,
                    priority: "low".into(),
                }),
                tags,
                untags: Vec::new(),
                stage: stage.map(|i| stages[i]),
                note,
                points,
            };
            match d.build() {
                Ok(rule) => {
                    let back = RuleDraft::of(&rule).expect("a draft");
                    prop_assert_eq!(back.build().expect("builds"), rule);
                }
                Err(e) => {
                    let bad_due = due_in > solocrm_core::automation::MAX_DAYS;
                    let bad_points = points.is_some_and(|p| p == 0 || p > solocrm_core::automation::MAX_RULE_POINTS);
                    prop_assert!(bad_due || bad_points, "{}", e);
                }
            }
        }
    }
}
