//! What deals, tasks and the points program gained for the `deal`, `task` and
//! `points tier` commands: deal edits, notes and lost reasons; task edits and
//! cancellation; tiers stored with the books; tier and consent segments.

use solocrm_core::{
    Cmp, Comparison, Conflict, Consent, CustomerQuery, DealEdit, DealStage, Entity, NewPointsEntry,
    NewTask, PointsKind, PointsTier, Predicate, Segment, SegmentFilter, Store, StoreError,
    TaskKind, TaskQuery,
};

use super::support::{assert_err, at, customer, date, eur, label, open_deal, tag, text};

fn tier(name: &str, min_points: i64) -> PointsTier {
    PointsTier {
        name: tag(name),
        min_points,
    }
}

/// A deal's title, value and close date change; notes append in order; a lost deal
/// keeps why it was lost; everything reads back exactly.
pub fn a_deal_is_edited_and_noted_and_keeps_its_lost_reason(store: &dyn Store) {
    let wang = customer(store, "王芳");
    let deal = open_deal(store, wang.id(), 100_000);
    let edited = store
        .edit_deal(
            deal.id(),
            &DealEdit {
                title: Some(label("官网改版")),
                value: Some(eur(250_000)),
                expected_close: Some(Some(date(40))),
                note: Some((at(3), text("客户要求先看报价"))),
                lost_reason: None,
            },
        )
        .expect("editing an open deal");
    assert_eq!(edited.title(), &label("官网改版"));
    assert_eq!(edited.value(), eur(250_000));
    assert_eq!(edited.expected_close(), Some(date(40)));
    assert_eq!(store.deal(deal.id()).expect("found"), edited);
    store
        .edit_deal(
            deal.id(),
            &DealEdit {
                note: Some((at(4), text("第二次电话"))),
                ..DealEdit::default()
            },
        )
        .expect("a second note");
    store
        .move_deal(deal.id(), DealStage::Lost, at(5))
        .expect("losing an open deal");
    let lost = store
        .edit_deal(
            deal.id(),
            &DealEdit {
                lost_reason: Some(label("预算不足")),
                ..DealEdit::default()
            },
        )
        .expect("a lost deal takes a reason");
    assert_eq!(lost.lost_reason(), Some(&label("预算不足")));
    let notes: Vec<_> = lost.notes().iter().map(|n| n.text.as_str()).collect();
    assert_eq!(notes, ["客户要求先看报价", "第二次电话"]);
    assert_eq!(store.deal(deal.id()).expect("found"), lost);
    assert_eq!(
        store.deals(&Default::default()).expect("listed"),
        std::slice::from_ref(&lost)
    );
    // Erasing the customer drops the notes and blanks the reason; the deal stays lost.
    store.erase_customer(wang.id(), at(6)).expect("erased");
    let erased = store.deal(deal.id()).expect("found");
    assert!(erased.notes().is_empty());
    assert_eq!(erased.lost_reason().map(|r| r.as_str()), Some("erased"));
    assert_eq!(erased.stage(), DealStage::Lost);
    // And no new text reaches it.
    assert_err!(
        store.edit_deal(
            deal.id(),
            &DealEdit {
                note: Some((at(7), text("王芳的新电话"))),
                ..DealEdit::default()
            },
        ),
        StoreError::Conflict(Conflict::CustomerErased { .. })
    );
    assert_eq!(store.deal(deal.id()).expect("found"), erased);
}

/// A lost reason on a deal that is not lost is [`Conflict::DealNotLost`], a negative
/// value is refused, and neither changes anything (not even the note given with it).
pub fn a_refused_deal_edit_changes_nothing(store: &dyn Store) {
    let li = customer(store, "李娜");
    let deal = open_deal(store, li.id(), 100_000);
    assert_err!(
        store.edit_deal(
            deal.id(),
            &DealEdit {
                note: Some((at(3), text("不会保存"))),
                lost_reason: Some(label("太贵")),
                ..DealEdit::default()
            },
        ),
        StoreError::Conflict(Conflict::DealNotLost { deal: d, .. }) if d == deal.id()
    );
    assert_err!(
        store.edit_deal(
            deal.id(),
            &DealEdit {
                value: Some(eur(-1)),
                ..DealEdit::default()
            },
        ),
        StoreError::Validation(_)
    );
    assert_eq!(store.deal(deal.id()).expect("found"), deal);
}

/// A cancelled task is kept with its time, left out of the open tasks, and can be
/// neither completed, edited nor cancelled again.
pub fn a_cancelled_task_is_kept_closed_and_left_out_of_open_lists(store: &dyn Store) {
    let zhang = customer(store, "张伟");
    let task = store
        .create_task(NewTask {
            customer: Some(zhang.id()),
            kind: TaskKind::FollowUp,
            title: label("回访张伟"),
            due: date(10),
            recurrence: None,
            created_at: at(0),
        })
        .expect("a task");
    let cancelled = store.cancel_task(task.id(), at(2)).expect("cancelling");
    assert_eq!(cancelled.cancelled_at(), Some(at(2)));
    assert!(!cancelled.is_open());
    assert_eq!(store.task(task.id()).expect("found"), cancelled);
    let open = TaskQuery {
        customer: None,
        due_until: None,
        include_done: false,
    };
    assert!(store.tasks(&open).expect("listed").is_empty());
    let all = TaskQuery {
        include_done: true,
        ..open
    };
    assert_eq!(
        store.tasks(&all).expect("listed"),
        std::slice::from_ref(&cancelled)
    );
    assert_err!(
        store.complete_task(task.id(), at(3)),
        StoreError::Conflict(Conflict::TaskCancelled { .. })
    );
    assert_err!(
        store.cancel_task(task.id(), at(3)),
        StoreError::Conflict(Conflict::TaskCancelled { .. })
    );
    assert_err!(
        store.edit_task(task.id(), Some(label("x")), None, None),
        StoreError::Conflict(Conflict::TaskCancelled { .. })
    );
    assert_eq!(store.task(task.id()).expect("found"), cancelled);
}

/// An edited task reads back with its new title, kind and due date; an unknown task
/// is not found.
pub fn an_edited_task_reads_back_with_its_new_fields(store: &dyn Store) {
    let task = store
        .create_task(NewTask {
            customer: None,
            kind: TaskKind::Custom,
            title: label("对账"),
            due: date(10),
            recurrence: None,
            created_at: at(0),
        })
        .expect("a task");
    let edited = store
        .edit_task(
            task.id(),
            Some(label("月底对账")),
            Some(TaskKind::FollowUp),
            Some(date(20)),
        )
        .expect("editing an open task");
    assert_eq!(
        (edited.title(), edited.kind(), edited.due()),
        (&label("月底对账"), TaskKind::FollowUp, date(20))
    );
    assert_eq!(store.task(task.id()).expect("found"), edited);
    assert_err!(
        store.cancel_task(solocrm_core::TaskId::new(99), at(1)),
        StoreError::NotFound {
            entity: Entity::Task,
            ..
        }
    );
}

/// Tiers are stored with the books, listed by threshold, moved by name and removed;
/// a threshold another tier has, or a negative one, is refused and changes nothing.
pub fn points_tiers_are_stored_moved_and_removed(store: &dyn Store) {
    assert!(store.points_tiers().expect("none yet").is_empty());
    store.set_points_tier(tier("gold", 5000)).expect("gold");
    store.set_points_tier(tier("bronze", 0)).expect("bronze");
    store.set_points_tier(tier("silver", 500)).expect("silver");
    let tiers = store.set_points_tier(tier("silver", 1000)).expect("moved");
    assert_eq!(
        tiers.tiers(),
        [tier("bronze", 0), tier("silver", 1000), tier("gold", 5000)]
    );
    assert_eq!(store.points_tiers().expect("listed"), tiers);
    assert_err!(
        store.set_points_tier(tier("金卡", 5000)),
        StoreError::Validation(_)
    );
    assert_err!(
        store.set_points_tier(tier("铜卡", -1)),
        StoreError::Validation(_)
    );
    assert_eq!(store.points_tiers().expect("listed"), tiers);
    let after = store.remove_points_tier(&tag("silver")).expect("removed");
    assert_eq!(after.tiers(), [tier("bronze", 0), tier("gold", 5000)]);
    assert_err!(
        store.remove_points_tier(&tag("silver")),
        StoreError::NotFound {
            entity: Entity::PointsTier,
            ..
        }
    );
    assert_eq!(store.points_tiers().expect("listed"), after);
}

/// A `tier` condition selects by lifetime points (redeeming does not demote); a
/// `consent` condition by the latest decision up to `as_of`.
pub fn tier_and_consent_segments_select_the_right_customers(store: &dyn Store) {
    store.set_points_tier(tier("bronze", 0)).expect("bronze");
    store.set_points_tier(tier("gold", 1000)).expect("gold");
    let a = customer(store, "赵敏");
    let b = customer(store, "钱进");
    let post = |c, kind, n| {
        store
            .post_points(NewPointsEntry::new(c, at(1), kind, n).expect("valid"))
            .expect("posted");
    };
    post(a.id(), PointsKind::Earn, 1200);
    post(a.id(), PointsKind::Redeem, 1100);
    post(b.id(), PointsKind::Earn, 999);
    store
        .record_consent(
            b.id(),
            Consent {
                purpose: tag("marketing-email"),
                granted: true,
                at: at(1),
                source: label("网页表单"),
            },
        )
        .expect("consent");
    let who = |predicate: Predicate| {
        store
            .list_customers(&CustomerQuery {
                segment: Some(SegmentFilter {
                    predicate,
                    as_of: at(10),
                }),
                ..CustomerQuery::default()
            })
            .expect("listed")
            .items
            .iter()
            .map(|c| c.id())
            .collect::<Vec<_>>()
    };
    assert_eq!(who(Predicate::Tier(tag("gold"))), [a.id()]);
    assert_eq!(who(Predicate::Tier(tag("bronze"))), [b.id()]);
    assert_eq!(who(Predicate::Consent(tag("marketing-email"))), [b.id()]);
    let both = Predicate::All(vec![
        Predicate::Tier(tag("bronze")),
        Predicate::Consent(tag("marketing-email")),
        Predicate::not(Predicate::PurchaseCount(Comparison {
            op: Cmp::Gt,
            value: 0,
        })),
    ]);
    assert_eq!(who(both.clone()), [b.id()]);
    let s = Segment {
        name: label("金卡候选"),
        predicate: both,
    };
    store.create_segment(s.clone()).expect("saved");
    assert_eq!(store.segment(&label("金卡候选")).expect("found"), s);
}
