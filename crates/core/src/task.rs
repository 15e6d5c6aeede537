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
        }
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
    /// [`Conflict::TaskAlreadyDone`] for a one-off task that is done.
    pub fn complete(&mut self, at: DateTime<Utc>) -> Result<(), Conflict> {
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
}

impl From<Task> for TaskRepr {
    fn from(t: Task) -> Self {
        TaskRepr {
            id: t.id,
            fields: t.fields,
            occurrence: t.occurrence,
            done: t.done,
            last_done_at: t.last_done_at,
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
        let completed = r.done || r.occurrence > 0;
        if completed != r.last_done_at.is_some() {
            return Err(inconsistent(if completed {
                "last_done_at is missing, but the task was completed".into()
            } else {
                "last_done_at is set, but the task was never completed".into()
            }));
        }
        Ok(Task::from_parts(
            r.id,
            r.fields,
            r.occurrence,
            r.done,
            r.last_done_at,
        ))
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
