//! Tasks and reminders: follow-ups, birthdays, holidays, anything else, once or
//! recurring.
//!
//! A recurring task keeps its first due date as an anchor and counts occurrences, so a
//! monthly task anchored on January 31 falls due on February 28 (29 in leap years),
//! March 31, April 30: the month-end is clamped each time without drifting. Completing
//! a recurring task moves it to its next occurrence; completing a one-off task marks it
//! done.

use chrono::{DateTime, Days, Months, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{Conflict, ValidationError};
use crate::ids::{CustomerId, TaskId};
use crate::names::named_enum;
use crate::text::{ERASED_LABEL, Label};

named_enum! {
    /// What a task is for.
    pub enum TaskKind as "task kind" {
        /// Follow up with a customer.
        FollowUp = "follow_up",
        /// Greet a customer on their birthday.
        Birthday = "birthday",
        /// Greet for a holiday.
        Holiday = "holiday",
        /// Anything else.
        Custom = "custom",
    }
}

named_enum! {
    /// How often a task comes back.
    pub enum Recurrence as "recurrence" {
        /// Every 7 days.
        Weekly = "weekly",
        /// Every calendar month, clamped to the month's last day.
        Monthly = "monthly",
        /// Every year (February 29 falls on February 28 in common years).
        Yearly = "yearly",
    }
}

impl Recurrence {
    /// The `n`th occurrence after `anchor` (`n = 0` is the anchor itself), or `None`
    /// beyond the calendar's range.
    pub fn nth(self, anchor: NaiveDate, n: u32) -> Option<NaiveDate> {
        match self {
            Recurrence::Weekly => anchor.checked_add_days(Days::new(7 * u64::from(n))),
            Recurrence::Monthly => anchor.checked_add_months(Months::new(n)),
            Recurrence::Yearly => anchor.checked_add_months(Months::new(n.checked_mul(12)?)),
        }
    }
}

/// A task to be created.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewTask {
    /// The customer it concerns, if any.
    pub customer: Option<CustomerId>,
    /// What it is for.
    pub kind: TaskKind,
    /// What to do.
    pub title: Label,
    /// When it is (first) due.
    pub due: NaiveDate,
    /// How often it comes back; `None` for once.
    pub recurrence: Option<Recurrence>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
}

/// A task.
///
/// Deserialising checks that the completion state is one [`Task::complete`] can reach:
/// a recurring task is never done, a one-off task has no occurrences, and a completion
/// time is there exactly when the task was completed at least once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "TaskRepr", into = "TaskRepr")]
pub struct Task {
    id: TaskId,
    #[serde(flatten)]
    fields: NewTask,
    occurrence: u32,
    done: bool,
    last_done_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    cancelled_at: Option<DateTime<Utc>>,
}

impl Task {
    /// A new task stored under `id`. For store implementations.
    pub fn create(id: TaskId, fields: NewTask) -> Self {
        Task {
            id,
            fields,
            occurrence: 0,
            done: false,
            last_done_at: None,
            cancelled_at: None,
        }
    }

    /// Rebuilds a stored task. For store implementations.
    pub fn from_parts(
        id: TaskId,
        fields: NewTask,
        occurrence: u32,
        done: bool,
        last_done_at: Option<DateTime<Utc>>,
    ) -> Self {
        Task {
            id,
            fields,
            occurrence,
            done,
            last_done_at,
            cancelled_at: None,
        }
    }

    /// The same task, cancelled at `at` (or not, with `None`). For store
    /// implementations rebuilding a stored task.
    #[must_use]
    pub fn cancelled(mut self, at: Option<DateTime<Utc>>) -> Self {
        self.cancelled_at = at;
        self
    }

    /// The id.
    pub fn id(&self) -> TaskId {
        self.id
    }
    /// The customer.
    pub fn customer(&self) -> Option<CustomerId> {
        self.fields.customer
    }
    /// What it is for.
    pub fn kind(&self) -> TaskKind {
        self.fields.kind
    }
    /// What to do.
    pub fn title(&self) -> &Label {
        &self.fields.title
    }
    /// How often it comes back.
    pub fn recurrence(&self) -> Option<Recurrence> {
        self.fields.recurrence
    }
    /// The first due date.
    pub fn anchor(&self) -> NaiveDate {
        self.fields.due
    }
    /// How many occurrences were completed (recurring tasks).
    pub fn occurrence(&self) -> u32 {
        self.occurrence
    }
    /// When it was created.
    pub fn created_at(&self) -> DateTime<Utc> {
        self.fields.created_at
    }
    /// True once a one-off task is done; a recurring task is never done.
    pub fn is_done(&self) -> bool {
        self.done
    }
    /// When it was last completed.
    pub fn last_done_at(&self) -> Option<DateTime<Utc>> {
        self.last_done_at
    }
    /// When it was cancelled, if it was.
    pub fn cancelled_at(&self) -> Option<DateTime<Utc>> {
        self.cancelled_at
    }
    /// True while it still asks for something: neither done nor cancelled.
    pub fn is_open(&self) -> bool {
        !self.done && self.cancelled_at.is_none()
    }

    /// Refuses any change to a cancelled task.
    fn check_not_cancelled(&self) -> Result<(), Conflict> {
        match self.cancelled_at {
            Some(_) => Err(Conflict::TaskCancelled { task: self.id }),
            None => Ok(()),
        }
    }

    /// Cancels the task at `at`: it stays stored (with its history) but is no longer
    /// open, listed or reminded of.
    ///
    /// # Errors
    ///
    /// [`Conflict::TaskAlreadyDone`] for a done one-off task,
    /// [`Conflict::TaskCancelled`] for a cancelled one.
    pub fn cancel(&mut self, at: DateTime<Utc>) -> Result<(), Conflict> {
        self.check_not_cancelled()?;
        if self.done {
            return Err(Conflict::TaskAlreadyDone { task: self.id });
        }
        self.cancelled_at = Some(at);
        Ok(())
    }

    /// Changes what the task says: title, kind, and the date it is next due. For a
    /// recurring task a new due date becomes its new anchor (the occurrences count
    /// from it afresh; the last completion is kept).
    ///
    /// # Errors
    ///
    /// [`Conflict::TaskCancelled`] for a cancelled task, [`Conflict::TaskAlreadyDone`]
    /// for a done one.
    pub fn edit(
        &mut self,
        title: Option<Label>,
        kind: Option<TaskKind>,
        due: Option<NaiveDate>,
    ) -> Result<(), Conflict> {
        self.check_not_cancelled()?;
        if self.done {
            return Err(Conflict::TaskAlreadyDone { task: self.id });
        }
        if let Some(t) = title {
            self.fields.title = t;
        }
        if let Some(k) = kind {
            self.fields.kind = k;
        }
        if let Some(d) = due {
            self.fields.due = d;
            self.occurrence = 0;
        }
        Ok(())
    }

    /// The date it is due next: the anchor for a one-off task, the current occurrence
    /// for a recurring one (the last representable date if the calendar runs out).
    pub fn due(&self) -> NaiveDate {
        match self.fields.recurrence {
            None => self.fields.due,
            Some(r) => r
                .nth(self.fields.due, self.occurrence)
                .unwrap_or(NaiveDate::MAX),
        }
    }

    /// Completes the task at `at`: a recurring task moves to its next occurrence, a
    /// one-off task is marked done.
    ///
    /// # Errors
    ///
    /// [`Conflict::TaskAlreadyDone`] for a one-off task that is done,
    /// [`Conflict::TaskCancelled`] for a cancelled one.
    pub fn complete(&mut self, at: DateTime<Utc>) -> Result<(), Conflict> {
        self.check_not_cancelled()?;
        if self.done {
            return Err(Conflict::TaskAlreadyDone { task: self.id });
        }
        match self.fields.recurrence {
            None => self.done = true,
            Some(_) => self.occurrence = self.occurrence.saturating_add(1),
        }
        self.last_done_at = Some(at);
        Ok(())
    }

    /// Replaces the title with a placeholder (privacy erase).
    pub fn erase_text(&mut self) {
        self.fields.title = Label::placeholder(ERASED_LABEL);
    }
}

/// The serialised form of a [`Task`]: the same fields, checked on the way in.
#[derive(Serialize, Deserialize)]
struct TaskRepr {
    id: TaskId,
    #[serde(flatten)]
    fields: NewTask,
    occurrence: u32,
    done: bool,
    last_done_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    cancelled_at: Option<DateTime<Utc>>,
}

impl From<Task> for TaskRepr {
    fn from(t: Task) -> Self {
        TaskRepr {
            id: t.id,
            fields: t.fields,
            occurrence: t.occurrence,
            done: t.done,
            last_done_at: t.last_done_at,
            cancelled_at: t.cancelled_at,
        }
    }
}

impl TryFrom<TaskRepr> for Task {
    type Error = ValidationError;
    fn try_from(r: TaskRepr) -> Result<Self, ValidationError> {
        let inconsistent = |detail: String| ValidationError::Inconsistent {
            record: format!("task {}", r.id),
            detail,
        };
        let recurring = r.fields.recurrence.is_some();
        if recurring && r.done {
            return Err(inconsistent(
                "done is true, but a recurring task is never done".into(),
            ));
        }
        if !recurring && r.occurrence != 0 {
            return Err(inconsistent(format!(
                "occurrence is {}, but a one-off task has none",
                r.occurrence
            )));
        }
        // A recurring task whose due date was edited counts its occurrences afresh
        // and keeps its last completion; so a completion time without occurrences is
        // allowed for it.
        let completed = r.done || r.occurrence > 0;
        if completed && r.last_done_at.is_none() {
            return Err(inconsistent(
                "last_done_at is missing, but the task was completed".into(),
            ));
        }
        if !recurring && !r.done && r.last_done_at.is_some() {
            return Err(inconsistent(
                "last_done_at is set, but the task was never completed".into(),
            ));
        }
        if r.done && r.cancelled_at.is_some() {
            return Err(inconsistent("a done task cannot be cancelled".into()));
        }
        Ok(
            Task::from_parts(r.id, r.fields, r.occurrence, r.done, r.last_done_at)
                .cancelled(r.cancelled_at),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("valid")
    }

    #[test]
    fn a_monthly_task_on_the_31st_clamps_without_drifting() {
        let mut t = Task::create(
            TaskId::new(1),
            NewTask {
                customer: None,
                kind: TaskKind::Custom,
                title: Label::parse("invoice run").expect("valid"),
                due: d(2026, 1, 31),
                recurrence: Some(Recurrence::Monthly),
                created_at: Utc
                    .with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
                    .single()
                    .expect("valid"),
            },
        );
        let at = Utc
            .with_ymd_and_hms(2026, 1, 31, 9, 0, 0)
            .single()
            .expect("valid");
        let mut dues = vec![t.due()];
        for _ in 0..3 {
            t.complete(at).expect("recurring tasks never finish");
            dues.push(t.due());
        }
        assert_eq!(
            dues,
            [
                d(2026, 1, 31),
                d(2026, 2, 28),
                d(2026, 3, 31),
                d(2026, 4, 30)
            ]
        );
        assert!(!t.is_done());
    }

    #[test]
    fn a_cancelled_task_is_closed_and_an_edited_due_date_re_anchors() {
        let at = Utc
            .with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
            .single()
            .expect("valid");
        let mut t = Task::create(
            TaskId::new(1),
            NewTask {
                customer: None,
                kind: TaskKind::FollowUp,
                title: Label::parse("回访王芳").expect("valid"),
                due: d(2026, 1, 5),
                recurrence: Some(Recurrence::Weekly),
                created_at: at,
            },
        );
        t.complete(at).expect("open");
        t.edit(None, Some(TaskKind::Custom), Some(d(2026, 3, 1)))
            .expect("open");
        assert_eq!((t.due(), t.kind()), (d(2026, 3, 1), TaskKind::Custom));
        let json = serde_json::to_string(&t).expect("serialises");
        assert_eq!(serde_json::from_str::<Task>(&json).expect("reads back"), t);
        t.cancel(at).expect("open");
        assert!(!t.is_open());
        assert_eq!(
            t.complete(at),
            Err(Conflict::TaskCancelled { task: t.id() })
        );
        assert_eq!(t.cancel(at), Err(Conflict::TaskCancelled { task: t.id() }));
        let json = serde_json::to_string(&t).expect("serialises");
        assert_eq!(serde_json::from_str::<Task>(&json).expect("reads back"), t);
    }

    #[test]
    fn a_yearly_leap_day_task_falls_on_february_28_in_common_years() {
        assert_eq!(
            Recurrence::Yearly.nth(d(2024, 2, 29), 1),
            Some(d(2025, 2, 28))
        );
        assert_eq!(
            Recurrence::Yearly.nth(d(2024, 2, 29), 4),
            Some(d(2028, 2, 29))
        );
    }
}
