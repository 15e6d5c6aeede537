//! Tasks: one-off and recurring completion, and the task query's filters and order.

use chrono::NaiveDate;
use solocrm_core::{
    Conflict, CustomerId, Entity, NewTask, Recurrence, Store, StoreError, Task, TaskId, TaskKind,
    TaskQuery,
};

use super::support::{assert_err, at, customer, label};

fn new_task(customer: Option<CustomerId>, title: &str, due: NaiveDate) -> NewTask {
    NewTask {
        customer,
        kind: TaskKind::FollowUp,
        title: label(title),
        due,
        recurrence: None,
        created_at: at(0),
    }
}

fn create(store: &dyn Store, new: NewTask) -> Task {
    store
        .create_task(new)
        .expect("creating a valid task should work")
}

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("a valid date")
}

/// Every task, done or not.
const ALL: TaskQuery = TaskQuery {
    customer: None,
    due_until: None,
    include_done: true,
};

/// A one-off task completes once: it is then done, and completing it again is
/// [`Conflict::TaskAlreadyDone`] and changes nothing.
pub fn a_one_off_task_completes_once_then_is_already_done(store: &dyn Store) {
    let ada = customer(store, "Ada");
    let task = create(
        store,
        new_task(Some(ada.id()), "call back", day(2026, 1, 10)),
    );
    assert!(!task.is_done());
    assert_eq!(task.last_done_at(), None);
    assert_eq!(store.task(task.id()).expect("found"), task);
    let done = store
        .complete_task(task.id(), at(8))
        .expect("completing an open task");
    assert!(done.is_done());
    assert_eq!(done.last_done_at(), Some(at(8)));
    assert_eq!(done.due(), day(2026, 1, 10));
    assert_err!(
        store.complete_task(task.id(), at(9)),
        StoreError::Conflict(Conflict::TaskAlreadyDone { task: t }) if t == task.id()
    );
    assert_eq!(store.task(task.id()).expect("found"), done);
}

/// Completing a recurring task moves it to its next occurrence (a monthly task on the
/// 31st clamps to the month's end) and never marks it done.
pub fn a_recurring_task_advances_its_due_date_when_completed(store: &dyn Store) {
    let mut new = new_task(None, "invoice run", day(2026, 1, 31));
    new.recurrence = Some(Recurrence::Monthly);
    let task = create(store, new);
    assert_eq!(task.due(), day(2026, 1, 31));
    let mut dues = Vec::new();
    for d in [30, 58, 89] {
        let t = store
            .complete_task(task.id(), at(d))
            .expect("recurring tasks never finish");
        assert!(!t.is_done());
        assert_eq!(t.last_done_at(), Some(at(d)));
        dues.push(t.due());
    }
    assert_eq!(dues, [day(2026, 2, 28), day(2026, 3, 31), day(2026, 4, 30)]);
    let stored = store.task(task.id()).expect("found");
    assert_eq!(stored.occurrence(), 3);
    assert_eq!(stored.anchor(), day(2026, 1, 31));
    assert_eq!(stored.due(), day(2026, 4, 30));
}

/// A task need not concern a customer.
pub fn a_task_may_concern_no_customer(store: &dyn Store) {
    let task = create(store, new_task(None, "file taxes", day(2026, 5, 31)));
    assert_eq!(task.customer(), None);
    assert_eq!(task.kind(), TaskKind::FollowUp);
    assert_eq!(task.title().as_str(), "file taxes");
    assert_eq!(task.created_at(), at(0));
    assert_eq!(store.task(task.id()).expect("found"), task);
}

/// A task about a customer that does not exist is [`StoreError::NotFound`] for a
/// customer.
pub fn a_task_of_an_unknown_customer_is_not_found(store: &dyn Store) {
    assert_err!(
        store.create_task(new_task(Some(CustomerId::new(17)), "x", day(2026, 1, 1))),
        StoreError::NotFound {
            entity: Entity::Customer,
            ..
        }
    );
    assert!(store.tasks(&ALL).expect("listing").is_empty());
}

/// Reading or completing a task that does not exist is [`StoreError::NotFound`] for a
/// task.
pub fn an_unknown_task_is_not_found(store: &dyn Store) {
    assert_err!(
        store.task(TaskId::new(21)),
        StoreError::NotFound {
            entity: Entity::Task,
            ref key
        } if key == "21"
    );
    assert_err!(
        store.complete_task(TaskId::new(21), at(1)),
        StoreError::NotFound {
            entity: Entity::Task,
            ..
        }
    );
}

/// Tasks come by due date, then id.
pub fn tasks_are_ordered_by_due_date_then_id(store: &dyn Store) {
    let late = create(store, new_task(None, "late", day(2026, 3, 1)));
    let tie_a = create(store, new_task(None, "tie a", day(2026, 2, 1)));
    let early = create(store, new_task(None, "early", day(2026, 1, 1)));
    let tie_b = create(store, new_task(None, "tie b", day(2026, 2, 1)));
    let listed = store.tasks(&ALL).expect("listing tasks");
    assert_eq!(listed, [early, tie_a, tie_b, late]);
}

/// `customer` selects tasks about one customer, `due_until` those due on or before a
/// date, and done one-off tasks are left out unless `include_done`.
pub fn tasks_are_filtered_by_customer_due_date_and_done(store: &dyn Store) {
    let ada = customer(store, "Ada");
    let bob = customer(store, "Bob");
    let a1 = create(store, new_task(Some(ada.id()), "a1", day(2026, 1, 5)));
    let b1 = create(store, new_task(Some(bob.id()), "b1", day(2026, 1, 6)));
    let none = create(store, new_task(None, "none", day(2026, 1, 7)));
    let a2 = create(store, new_task(Some(ada.id()), "a2", day(2026, 1, 8)));
    let a1 = store.complete_task(a1.id(), at(4)).expect("completing");
    let list = |query: TaskQuery| store.tasks(&query).expect("listing tasks");
    assert_eq!(
        list(TaskQuery::default()),
        [b1.clone(), none.clone(), a2.clone()]
    );
    assert_eq!(
        list(TaskQuery {
            include_done: true,
            ..TaskQuery::default()
        }),
        [a1.clone(), b1.clone(), none.clone(), a2.clone()]
    );
    assert_eq!(
        list(TaskQuery {
            customer: Some(ada.id()),
            due_until: None,
            include_done: true,
        }),
        [a1, a2.clone()]
    );
    assert_eq!(
        list(TaskQuery {
            customer: Some(ada.id()),
            ..TaskQuery::default()
        }),
        [a2]
    );
    assert_eq!(
        list(TaskQuery {
            due_until: Some(day(2026, 1, 7)),
            ..TaskQuery::default()
        }),
        [b1, none],
        "due_until is inclusive"
    );
    assert!(
        list(TaskQuery {
            due_until: Some(day(2026, 1, 4)),
            include_done: true,
            ..TaskQuery::default()
        })
        .is_empty()
    );
}

/// `due_until` looks at a recurring task's current occurrence, not its first due date.
pub fn a_recurring_task_is_filtered_by_its_current_due_date(store: &dyn Store) {
    let mut new = new_task(None, "weekly review", day(2026, 1, 5));
    new.recurrence = Some(Recurrence::Weekly);
    let task = create(store, new);
    let until = |d: NaiveDate| {
        store
            .tasks(&TaskQuery {
                due_until: Some(d),
                ..TaskQuery::default()
            })
            .expect("listing tasks")
    };
    assert_eq!(until(day(2026, 1, 5)), std::slice::from_ref(&task));
    let advanced = store
        .complete_task(task.id(), at(4))
        .expect("completing a recurring task");
    assert_eq!(advanced.due(), day(2026, 1, 12));
    assert!(until(day(2026, 1, 11)).is_empty());
    assert_eq!(until(day(2026, 1, 12)), [advanced]);
}
