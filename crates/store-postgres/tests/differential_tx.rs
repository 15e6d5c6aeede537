//! Differential test of transactions: random write transactions of one to five
//! operations — valid and invalid, some abandoned by the caller, some continuing after
//! a refused operation — run through `Crm` over the memory store and over PostgreSQL
//! (each case on a new tenant of one fresh schema). Every operation's answer, every
//! transaction's outcome, the books at the end and the whole event outbox must be the
//! same. The generators are the SQLite store's (`crates/store-sqlite/tests/differential_tx.rs`).
//!
//! 128 cases by default; `PROPTEST_CASES` for more.

mod common;

use std::fmt::Debug;

use chrono::{DateTime, Duration, TimeZone, Utc};
use proptest::prelude::*;
use solocrm_core::store::{CustomerRef, ImportBatch};
use solocrm_core::{
    ActivityQuery, Crm, Currency, CustomerData, CustomerId, CustomerQuery, DealId, DealStage,
    Email, LifecycleStage, Money, NewCustomer, NewDeal, NewPointsEntry, NewPurchase, NewRefund,
    NewTask, OpenQuery, PersonName, PointsKind, PurchaseId, StageReason, Store, StoreError, TaskId,
    TaskKind, TaskQuery, Writer,
};
use solocrm_store_memory::MemoryStore;

fn at(hours: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
        .single()
        .expect("valid")
        + Duration::hours(hours)
}

fn eur(minor: i64) -> Money {
    Money::from_minor(minor, Currency::EUR)
}

/// One write operation.
#[derive(Debug, Clone)]
enum W {
    Create(u8, Option<u8>),
    Buy(u64, i64, i64, Option<u8>),
    Batch(Vec<(u64, i64, i64, Option<u8>)>),
    Import(Vec<(u64, i64)>, u8),
    Refund(u64, i64, i64),
    Stage(u64, LifecycleStage, i64),
    Deal(u64, i64),
    MoveDeal(u64, DealStage, i64),
    Task(Option<u64>, i64),
    Complete(u64, i64),
    Points(u64, PointsKind, i64, i64),
    Erase(u64, i64),
}

/// A write transaction: its operations, whether the caller abandons it at the end, and
/// whether it stops at the first refused operation (else it carries on).
#[derive(Debug, Clone)]
struct Txn {
    ops: Vec<W>,
    abandon: bool,
    stop_on_error: bool,
}

fn customer() -> BoxedStrategy<u64> {
    prop_oneof![9 => 1u64..=6, 1 => 7u64..=9].boxed()
}

fn hours() -> BoxedStrategy<i64> {
    (0i64..2_000).boxed()
}

fn reference() -> BoxedStrategy<Option<u8>> {
    prop::option::weighted(0.4, 0u8..6).boxed()
}

fn write_op() -> BoxedStrategy<W> {
    prop_oneof![
        4 => (0u8..40, prop::option::weighted(0.5, 0u8..8)).prop_map(|(n, e)| W::Create(n, e)),
        6 => (customer(), hours(), -10i64..50_000, reference())
            .prop_map(|(c, h, a, r)| W::Buy(c, h, a, r)),
        2 => prop::collection::vec((customer(), hours(), -10i64..50_000, reference()), 0..4)
            .prop_map(W::Batch),
        2 => (prop::collection::vec((customer(), hours()), 0..4), 0u8..3)
            .prop_map(|(rows, new)| W::Import(rows, new)),
        2 => (1u64..=8, hours(), 0i64..60_000).prop_map(|(p, h, a)| W::Refund(p, h, a)),
        3 => (customer(), prop::sample::select(LifecycleStage::ALL.to_vec()), hours())
            .prop_map(|(c, s, h)| W::Stage(c, s, h)),
        2 => (customer(), hours()).prop_map(|(c, h)| W::Deal(c, h)),
        2 => (1u64..=4, prop::sample::select(DealStage::ALL.to_vec()), hours())
            .prop_map(|(d, s, h)| W::MoveDeal(d, s, h)),
        2 => (prop::option::of(customer()), hours()).prop_map(|(c, h)| W::Task(c, h)),
        1 => (1u64..=4, hours()).prop_map(|(t, h)| W::Complete(t, h)),
        2 => (customer(), prop::sample::select(PointsKind::ALL.to_vec()), -50i64..200, hours())
            .prop_map(|(c, k, p, h)| W::Points(c, k, p, h)),
        1 => (customer(), hours()).prop_map(|(c, h)| W::Erase(c, h)),
    ]
    .boxed()
}

fn txn() -> BoxedStrategy<Txn> {
    (
        prop::collection::vec(write_op(), 1..=5),
        prop::bool::weighted(0.15),
        any::<bool>(),
    )
        .prop_map(|(ops, abandon, stop_on_error)| Txn {
            ops,
            abandon,
            stop_on_error,
        })
        .boxed()
}

fn purchase(c: u64, h: i64, minor: i64, r: Option<u8>) -> NewPurchase {
    let mut p = NewPurchase::new(CustomerId::new(c), at(h), eur(minor));
    p.external_ref = r
        .map(|r| solocrm_core::ExternalRef::parse(&format!("INV-{r}")).expect("a valid reference"));
    p
}

/// Runs one operation; its answer as text (a value's `Debug`, or the error's kind and
/// message), which both stores must give alike.
fn run(w: &mut Writer<'_>, op: &W) -> Result<String, String> {
    fn show<T: Debug>(r: Result<T, StoreError>) -> Result<String, String> {
        r.map(|v| format!("{v:?}"))
            .map_err(|e| format!("{:?}: {e}", e.kind()))
    }
    match op.clone() {
        W::Create(n, e) => {
            let mut data =
                CustomerData::new(PersonName::parse(&format!("客户 {n}")).expect("name"));
            data.email = e.map(|e| Email::parse(&format!("c{e}@example.cn")).expect("email"));
            show(w.create_customer(NewCustomer::new(data, at(0))))
        }
        W::Buy(c, h, a, r) => show(w.record_purchase(purchase(c, h, a, r))),
        W::Batch(rows) => show(
            w.record_purchases(
                rows.into_iter()
                    .map(|(c, h, a, r)| purchase(c, h, a, r))
                    .collect(),
            ),
        ),
        W::Import(rows, new) => {
            let batch = ImportBatch {
                create_customers: (0..new)
                    .map(|i| {
                        NewCustomer::new(
                            CustomerData::new(
                                PersonName::parse(&format!("导入 {i}")).expect("name"),
                            ),
                            at(0),
                        )
                    })
                    .collect(),
                purchases: rows
                    .into_iter()
                    .map(|(c, h)| {
                        let who = if c > 6 {
                            CustomerRef::New(usize::try_from(c - 7).unwrap_or(0))
                        } else {
                            CustomerRef::Existing(CustomerId::new(c))
                        };
                        (who, purchase(c, h, 1_000, None))
                    })
                    .collect(),
                ..ImportBatch::default()
            };
            show(w.import_parts(&mut std::iter::once(Ok(batch))))
        }
        W::Refund(p, h, a) => show(w.record_refund(NewRefund {
            purchase: PurchaseId::new(p),
            at: at(h),
            amount: eur(a),
            reason: None,
        })),
        W::Stage(c, s, h) => {
            show(w.change_stage(CustomerId::new(c), s, at(h), StageReason::manual()))
        }
        W::Deal(c, h) => show(w.create_deal(NewDeal::new(
            CustomerId::new(c),
            solocrm_core::Label::parse("website").expect("label"),
            eur(90_000),
            at(h),
        ))),
        W::MoveDeal(d, s, h) => show(w.move_deal(DealId::new(d), s, at(h))),
        W::Task(c, h) => show(w.create_task(NewTask {
            customer: c.map(CustomerId::new),
            kind: TaskKind::FollowUp,
            title: solocrm_core::Label::parse("回访").expect("label"),
            due: at(h).date_naive(),
            recurrence: None,
            created_at: at(h),
        })),
        W::Complete(t, h) => show(w.complete_task(TaskId::new(t), at(h))),
        W::Points(c, k, p, h) => match NewPointsEntry::new(CustomerId::new(c), at(h), k, p) {
            Ok(e) => show(w.post_points(e)),
            Err(e) => Err(format!("invalid entry: {e}")),
        },
        W::Erase(c, h) => show(w.erase_customer(CustomerId::new(c), at(h))),
    }
}

/// Runs a transaction; the answers of its operations and its own outcome.
fn transact(crm: &Crm, t: &Txn) -> (Vec<Result<String, String>>, Result<(), String>) {
    let mut answers = Vec::new();
    let outcome = crm.write(|w| {
        answers.clear();
        for op in &t.ops {
            let answer = run(w, op);
            let failed = answer.is_err();
            answers.push(answer);
            if failed && t.stop_on_error {
                return Err(StoreError::Aborted("stopped at a refused operation".into()));
            }
        }
        if t.abandon {
            return Err(StoreError::Aborted("abandoned by the caller".into()));
        }
        Ok(())
    });
    (answers, outcome.map_err(|e| e.to_string()))
}

/// Everything the books hold, as text.
fn books(crm: &Crm) -> String {
    let customers = crm.list_customers(&CustomerQuery {
        include_erased: true,
        limit: 10_000,
        ..CustomerQuery::default()
    });
    let all = OpenQuery::default();
    let tasks = TaskQuery {
        include_done: true,
        ..TaskQuery::default()
    };
    let ledgers: Vec<_> = (1..=12)
        .map(|c| crm.points_ledger(CustomerId::new(c)).ok())
        .collect();
    let stages: Vec<_> = (1..=12)
        .map(|c| crm.stage_history(CustomerId::new(c)).ok())
        .collect();
    format!(
        "{customers:?}\n{:?}\n{:?}\n{:?}\n{:?}\n{ledgers:?}\n{stages:?}\n{:?}\n{:?}\n{:?}",
        crm.purchases(&ActivityQuery::ALL),
        crm.refunds(&ActivityQuery::ALL),
        crm.deals(&all),
        crm.tasks(&tasks),
        crm.audit_log(),
        crm.purchase_log(),
        crm.read(|r| r.events(0, 100_000)),
    )
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(128)
}

#[test]
fn transactions_answer_alike_on_both_stores() {
    use proptest::test_runner::{Config, TestRunner};
    let Some(pg) = common::server() else { return };
    // Every other case sends each announced load of purchases with COPY.
    let case = std::sync::atomic::AtomicU64::new(0);
    let mut runner = TestRunner::new(Config {
        cases: cases(),
        failure_persistence: None,
        ..Config::default()
    });
    let result = runner.run(&prop::collection::vec(txn(), 1..12), |txns| {
        let memory = Crm::new(MemoryStore::new(Currency::EUR));
        let n = case.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        pg.set_bulk_from(if n.is_multiple_of(2) { 1 } else { 256 });
        let postgres = pg.crm();
        for (i, t) in txns.iter().enumerate() {
            let m = transact(&memory, t);
            let s = transact(&postgres, t);
            prop_assert_eq!(&m, &s, "transaction {} {:?}", i, t);
        }
        prop_assert_eq!(books(&memory), books(&postgres));
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}
