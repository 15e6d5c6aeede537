//! The in-memory backend of the transactional port, [`MemoryStore`], tested through
//! the [`Storage`] trait: transactions (all or nothing, snapshots, readers that never
//! wait for a writer, serialised writes), ids, and the order and content of every list.

use std::error::Error;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use solocrm_core::port::{CustomerFilter, IdKind, ReadTx, Storage, WriteTx};
use solocrm_core::{
    ActivityQuery, AuditAction, AuditEntry, AuditId, Channel, Conflict, Currency, Customer,
    CustomerData, CustomerId, Deal, DealId, DealStage, Direction, DomainEvent, Email, Event,
    ExternalRef, FreeText, Interaction, InteractionId, Label, LifecycleStage, Money, NewCustomer,
    NewDeal, NewInteraction, NewPointsEntry, NewPurchase, NewRefund, NewServiceRequest,
    NewSurveyResponse, NewTask, OpenQuery, PersonName, PointsEntry, PointsEntryId, PointsKind,
    Predicate, Purchase, PurchaseId, Refund, RefundId, RequestEventKind, RequestId, RequestKind,
    Segment, ServiceRequest, StageChange, StageReason, StoreError, StoreErrorKind, StoreResult,
    SurveyId, SurveyKind, SurveyResponse, SurveyScore, Tag, Task, TaskId, TaskKind, TaskQuery,
    TimeRange,
};
use solocrm_store_memory::MemoryStore;

type TestResult = Result<(), Box<dyn Error>>;

/// How long a test thread waits for a signal from another before calling it a hang.
/// Only a safety net, so a broken lock fails the test instead of hanging it; no
/// assertion depends on timing.
const HANG: Duration = Duration::from_secs(30);

fn backend() -> MemoryStore {
    MemoryStore::new(Currency::EUR)
}

/// 2026-01-`day` at `hour`:00 UTC.
fn at(day: u32, hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, day, hour, 0, 0)
        .single()
        .expect("a valid instant")
}

fn date(day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 2, day).expect("a valid date")
}

fn eur(s: &str) -> Money {
    Money::parse(s, Currency::EUR).expect("an amount")
}

fn label(s: &str) -> Label {
    Label::parse(s).expect("a label")
}

fn customer(id: u64, name: &str) -> Customer {
    let data = CustomerData::new(PersonName::parse(name).expect("a name"));
    Customer::create(CustomerId::new(id), NewCustomer::new(data, at(1, 9)))
}

fn customer_with(id: u64, name: &str, email: Option<&str>, reference: Option<&str>) -> Customer {
    let mut data = CustomerData::new(PersonName::parse(name).expect("a name"));
    if let Some(e) = email {
        data = data.with_email(Email::parse(e).expect("an email"));
    }
    if let Some(r) = reference {
        data = data.with_external_ref(ExternalRef::parse(r).expect("a reference"));
    }
    Customer::create(CustomerId::new(id), NewCustomer::new(data, at(1, 9)))
}

fn interaction(id: u64, customer: u64, when: DateTime<Utc>) -> Interaction {
    Interaction::new(
        InteractionId::new(id),
        NewInteraction {
            customer: CustomerId::new(customer),
            channel: Channel::Email,
            direction: Direction::Inbound,
            at: when,
            summary: FreeText::parse("asked about prices").expect("text"),
            sentiment: None,
        },
    )
}

fn purchase(id: u64, customer: u64, when: DateTime<Utc>, amount: &str) -> Purchase {
    Purchase::new(
        PurchaseId::new(id),
        NewPurchase::new(CustomerId::new(customer), when, eur(amount)),
    )
}

fn refund(id: u64, customer: u64, purchase: u64, when: DateTime<Utc>) -> Refund {
    Refund::new(
        RefundId::new(id),
        CustomerId::new(customer),
        NewRefund {
            purchase: PurchaseId::new(purchase),
            at: when,
            amount: eur("1.00"),
            reason: None,
        },
    )
}

fn survey(id: u64, customer: u64, when: DateTime<Utc>) -> SurveyResponse {
    SurveyResponse::new(
        SurveyId::new(id),
        NewSurveyResponse {
            customer: CustomerId::new(customer),
            at: when,
            score: SurveyScore::new(SurveyKind::Nps, 9).expect("a score"),
            comment: None,
        },
    )
}

fn request(id: u64, customer: u64) -> ServiceRequest {
    ServiceRequest::open(
        RequestId::new(id),
        NewServiceRequest {
            customer: CustomerId::new(customer),
            kind: RequestKind::Question,
            subject: label("invoice"),
            description: FreeText::parse("where is my invoice").expect("text"),
            opened_at: at(2, 9),
            deal: None,
        },
    )
}

fn deal(id: u64, customer: u64) -> Deal {
    Deal::create(
        DealId::new(id),
        NewDeal::new(
            CustomerId::new(customer),
            label("website"),
            eur("100"),
            at(2, 9),
        ),
    )
}

fn task(id: u64, customer: Option<u64>, due: NaiveDate) -> Task {
    Task::create(
        TaskId::new(id),
        NewTask {
            customer: customer.map(CustomerId::new),
            kind: TaskKind::FollowUp,
            title: label("call back"),
            due,
            recurrence: None,
            created_at: at(1, 9),
        },
    )
}

fn points(id: u64, customer: u64, delta: i64, balance_after: i64) -> PointsEntry {
    // Adjust takes the signed delta as it is.
    let new = NewPointsEntry::new(
        CustomerId::new(customer),
        at(3, 9),
        PointsKind::Adjust,
        delta,
    )
    .expect("an entry");
    PointsEntry::new(PointsEntryId::new(id), new, balance_after)
}

fn segment(name: &str) -> Segment {
    Segment {
        name: label(name),
        predicate: Predicate::Stage(LifecycleStage::Lead),
    }
}

fn event(seq: u64, customer: u64) -> Event {
    Event {
        seq,
        at: Some(at(4, 9)),
        event: DomainEvent::CustomerUpdated {
            customer: CustomerId::new(customer),
        },
    }
}

/// Runs `f` in a write transaction through the [`Storage`] trait.
fn write(
    store: &dyn Storage,
    mut f: impl FnMut(&mut dyn WriteTx) -> StoreResult<()>,
) -> StoreResult<()> {
    store.write(&mut f)
}

/// Runs `f` in a read transaction through the [`Storage`] trait and returns its value.
fn read<T>(store: &dyn Storage, f: impl Fn(&dyn ReadTx) -> StoreResult<T>) -> StoreResult<T> {
    let mut out = None;
    store.read(&mut |tx| {
        out = Some(f(tx)?);
        Ok(())
    })?;
    Ok(out.expect("the read ran its closure"))
}

/// The ids of `rows`, as plain numbers.
fn ids<T, I: Into<u64>>(rows: &[T], id: impl Fn(&T) -> I) -> Vec<u64> {
    rows.iter().map(|r| id(r).into()).collect()
}

/// An error a closure returns to make its write fail.
fn refusal() -> StoreError {
    Conflict::AlreadyErased {
        customer: CustomerId::new(1),
    }
    .into()
}

// ----- transactions -----

#[test]
fn a_write_whose_closure_fails_leaves_nothing() -> TestResult {
    let store = backend();
    write(&store, |tx| tx.insert_customer(&customer(1, "Ada")))?;

    let got = write(&store, |tx| {
        tx.insert_customer(&customer_with(
            2,
            "Bea",
            Some("bea@example.com"),
            Some("B-2"),
        ))?;
        tx.insert_purchase(&purchase(1, 2, at(2, 9), "10.00"))?;
        tx.insert_points(&points(1, 2, 5, 5))?;
        tx.insert_segment(&segment("leads"))?;
        tx.append_event(&event(1, 2))?;
        let mut ada = customer(1, "Ada");
        ada.add_tag(Tag::parse("vip").expect("a tag"));
        tx.update_customer(&ada)?;
        // The transaction sees its own writes before it fails.
        assert_eq!(tx.count_customers()?, 2);
        assert_eq!(tx.next_id(IdKind::Customer)?, 3);
        Err(refusal())
    });

    let err = got.expect_err("the closure's error comes back");
    assert!(
        matches!(err, StoreError::Conflict(Conflict::AlreadyErased { .. })),
        "{err:?}"
    );
    read(&store, |tx| {
        assert_eq!(tx.count_customers()?, 1);
        assert_eq!(tx.customer(CustomerId::new(2))?, None);
        let email = Email::parse("bea@example.com").expect("an email");
        assert_eq!(tx.customer_by_email(&email)?, None);
        let reference = ExternalRef::parse("B-2").expect("a reference");
        assert_eq!(tx.customer_by_external_ref(&reference)?, None);
        assert_eq!(tx.purchase(PurchaseId::new(1))?, None);
        assert!(tx.purchases(&ActivityQuery::ALL)?.is_empty());
        assert_eq!(tx.points_balance(CustomerId::new(2))?, 0);
        assert!(tx.segments()?.is_empty());
        assert!(tx.events(0, 100)?.is_empty());
        let ada = tx.customer(CustomerId::new(1))?.expect("Ada stays");
        assert!(ada.tags().is_empty(), "the update was dropped too");
        Ok(())
    })?;
    // Nor did it move the ids on.
    write(&store, |tx| {
        assert_eq!(tx.next_id(IdKind::Customer)?, 2);
        assert_eq!(tx.next_id(IdKind::Purchase)?, 1);
        assert_eq!(tx.next_id(IdKind::Event)?, 1);
        Ok(())
    })?;
    Ok(())
}

#[test]
fn a_write_that_panics_leaves_nothing_and_the_backend_still_works() -> TestResult {
    let store = backend();
    let panicked = catch_unwind(AssertUnwindSafe(|| {
        let _ = write(&store, |tx| {
            tx.insert_customer(&customer(1, "Ada"))?;
            panic!("the closure gives up halfway");
        });
    }));
    assert!(panicked.is_err(), "the panic reaches the caller");

    assert_eq!(read(&store, |tx| tx.count_customers())?, 0);
    // The writer lock was poisoned by the panic; the next write goes through.
    write(&store, |tx| tx.insert_customer(&customer(1, "Ada")))?;
    assert_eq!(read(&store, |tx| tx.count_customers())?, 1);
    Ok(())
}

#[test]
fn a_read_keeps_its_snapshot_while_a_writer_commits() -> TestResult {
    let store = backend();
    write(&store, |tx| tx.insert_customer(&customer(1, "Ada")))?;

    let (started_tx, started) = mpsc::channel::<()>();
    let (committed_tx, committed) = mpsc::channel::<()>();
    let store = &store;
    thread::scope(|s| -> TestResult {
        let reader = s.spawn(move || {
            read(&store, |tx| {
                let before = (tx.count_customers()?, tx.customer(CustomerId::new(2))?);
                started_tx.send(()).expect("the main thread listens");
                committed
                    .recv_timeout(HANG)
                    .expect("the writer commits while this read is open");
                let after = (tx.count_customers()?, tx.customer(CustomerId::new(2))?);
                let ada = tx.customer(CustomerId::new(1))?;
                Ok((before, after, ada))
            })
        });
        started.recv_timeout(HANG)?;
        write(&store, |tx| {
            tx.insert_customer(&customer(2, "Bea"))?;
            let mut ada = customer(1, "Ada");
            ada.add_tag(Tag::parse("vip").expect("a tag"));
            tx.update_customer(&ada)
        })?;
        committed_tx.send(())?;

        let (before, after, ada) = reader.join().expect("the reader does not panic")?;
        assert_eq!(before, (1, None));
        assert_eq!(after, (1, None), "the open read saw the later commit");
        assert!(
            ada.expect("Ada").tags().is_empty(),
            "the open read saw the update"
        );
        Ok(())
    })?;

    // A read that starts after the commit sees it.
    read(&store, |tx| {
        assert_eq!(tx.count_customers()?, 2);
        let ada = tx.customer(CustomerId::new(1))?.expect("Ada");
        assert_eq!(ada.tags().len(), 1);
        Ok(())
    })?;
    Ok(())
}

#[test]
fn a_reader_proceeds_while_a_writer_holds_its_transaction_open() -> TestResult {
    let store = backend();
    let (inside_tx, inside) = mpsc::channel::<()>();
    let (read_done_tx, read_done) = mpsc::channel::<()>();
    let store = &store;
    thread::scope(|s| -> TestResult {
        let writer = s.spawn(move || {
            write(&store, |tx| {
                tx.insert_customer(&customer(1, "Ada"))?;
                inside_tx.send(()).expect("the main thread listens");
                // Hold the transaction open until the reader has finished. If the read
                // waited for this writer, it would never finish: the timeout turns that
                // deadlock into a failure.
                read_done.recv_timeout(HANG).map_err(StoreError::backend)?;
                Ok(())
            })
        });
        inside.recv_timeout(HANG)?;
        let seen = read(&store, |tx| {
            Ok((tx.count_customers()?, tx.customer(CustomerId::new(1))?))
        })?;
        read_done_tx.send(())?;
        writer.join().expect("the writer does not panic")?;
        assert_eq!(seen, (0, None), "the reader saw uncommitted work");
        Ok(())
    })?;
    assert_eq!(read(&store, |tx| tx.count_customers())?, 1);
    Ok(())
}

#[test]
fn a_read_opened_inside_a_write_sees_the_last_commit_not_the_draft() -> TestResult {
    let store = backend();
    write(&store, |tx| tx.insert_customer(&customer(1, "Ada")))?;
    let mut seen = None;
    write(&store, |tx| {
        tx.insert_customer(&customer(2, "Bea"))?;
        // Does not wait for this writer (it would wait forever), nor see its draft.
        seen = Some(read(&store, |r| r.count_customers())?);
        Ok(())
    })?;
    assert_eq!(seen, Some(1));
    assert_eq!(read(&store, |tx| tx.count_customers())?, 2);
    Ok(())
}

#[test]
fn writes_are_serialised() -> TestResult {
    const THREADS: u64 = 4;
    const EACH: u64 = 50;
    let store = backend();
    thread::scope(|s| {
        let workers: Vec<_> = (0..THREADS)
            .map(|_| {
                s.spawn(|| -> StoreResult<()> {
                    for _ in 0..EACH {
                        // Read the next id and use it in one transaction: if two writes
                        // overlapped, both would take the same id and one would fail.
                        write(&store, |tx| {
                            let id = tx.next_id(IdKind::Customer)?;
                            tx.insert_customer(&customer(id, "Ada"))
                        })?;
                    }
                    Ok(())
                })
            })
            .collect();
        for w in workers {
            w.join().expect("a worker does not panic")?;
        }
        Ok::<(), StoreError>(())
    })?;
    let keys = read(&store, |tx| tx.customer_keys())?;
    let got: Vec<u64> = keys.iter().map(|k| k.id.get()).collect();
    let want: Vec<u64> = (1..=THREADS * EACH).collect();
    assert_eq!(got, want);
    Ok(())
}

#[test]
fn the_backend_is_send_sync_and_debug_and_works_behind_dyn_storage() -> TestResult {
    fn shareable<T: Send + Sync + std::fmt::Debug>(_: &T) {}
    let store = backend();
    shareable(&store);
    let shared: std::sync::Arc<dyn Storage> = std::sync::Arc::new(store);
    assert_eq!(shared.base_currency(), Currency::EUR);
    write(&shared, |tx| tx.insert_customer(&customer(1, "Ada")))?;
    assert_eq!(read(&shared, |tx| Ok(tx.base_currency()))?, Currency::EUR);
    assert_eq!(read(&shared, |tx| tx.count_customers())?, 1);
    let debug = format!("{:?}", backend());
    assert!(debug.starts_with("MemoryStore"), "{debug}");
    Ok(())
}

// ----- ids -----

#[test]
fn next_id_is_one_more_than_the_largest_id_stored() -> TestResult {
    let store = backend();
    write(&store, |tx| {
        for kind in IdKind::ALL {
            assert_eq!(tx.next_id(kind)?, 1, "{kind:?} in an empty store");
        }
        Ok(())
    })?;
    write(&store, |tx| {
        tx.insert_customer(&customer(1, "Ada"))?;
        tx.insert_customer(&customer(5, "Bea"))?;
        // The transaction sees its own inserts.
        assert_eq!(tx.next_id(IdKind::Customer)?, 6);
        tx.insert_customer(&customer(3, "Cy"))?;
        assert_eq!(
            tx.next_id(IdKind::Customer)?,
            6,
            "the largest, not the last"
        );
        // Asking does not reserve.
        assert_eq!(tx.next_id(IdKind::Customer)?, 6);
        tx.insert_interaction(&interaction(2, 1, at(2, 9)))?;
        tx.insert_purchase(&purchase(7, 1, at(2, 9), "1.00"))?;
        tx.insert_refund(&refund(4, 1, 7, at(3, 9)))?;
        tx.insert_survey(&survey(9, 1, at(2, 9)))?;
        tx.insert_request(&request(3, 1))?;
        tx.insert_deal(&deal(8, 1))?;
        tx.insert_task(&task(6, None, date(1)))?;
        tx.insert_points(&points(11, 1, 5, 5))?;
        tx.insert_audit(&AuditEntry {
            id: AuditId::new(2),
            at: at(5, 9),
            action: AuditAction::CustomerErased {
                customer: CustomerId::new(3),
            },
        })?;
        tx.insert_cost(&solocrm_core::Cost::new(
            solocrm_core::CostId::new(14),
            solocrm_core::NewCost {
                at: at(5, 9),
                amount: Money::from_minor(100, Currency::EUR),
                category: solocrm_core::CostCategory::Tools,
                channel: None,
                note: None,
            },
            None,
        ))?;
        tx.insert_need(&solocrm_core::need::Need::new(
            solocrm_core::NeedId::new(16),
            solocrm_core::need::NewNeed {
                customer: CustomerId::new(1),
                deal: Some(solocrm_core::DealId::new(8)),
                kind: solocrm_core::need::NeedKind::PainPoint,
                key: solocrm_core::Tag::parse("价格敏感").expect("a key"),
                note: None,
                at: at(5, 9),
            },
        ))?;
        tx.append_event(&event(12, 1))
    })?;
    write(&store, |tx| {
        let next: Vec<(IdKind, u64)> = IdKind::ALL
            .iter()
            .map(|&k| tx.next_id(k).map(|n| (k, n)))
            .collect::<StoreResult<_>>()?;
        assert_eq!(
            next,
            vec![
                (IdKind::Customer, 6),
                (IdKind::Interaction, 3),
                (IdKind::Purchase, 8),
                (IdKind::Refund, 5),
                (IdKind::Survey, 10),
                (IdKind::Request, 4),
                (IdKind::Deal, 9),
                (IdKind::Task, 7),
                (IdKind::Points, 12),
                (IdKind::Audit, 3),
                (IdKind::Event, 13),
                (IdKind::Cost, 15),
                (IdKind::Need, 17),
            ]
        );
        Ok(())
    })?;
    Ok(())
}

#[test]
fn a_taken_id_or_key_or_a_missing_record_is_a_backend_error() -> TestResult {
    let store = backend();
    write(&store, |tx| {
        tx.insert_customer(&customer_with(
            1,
            "Ada",
            Some("ada@example.com"),
            Some("A-1"),
        ))?;
        tx.insert_purchase(&purchase(1, 1, at(2, 9), "1.00"))?;
        tx.insert_segment(&segment("leads"))?;
        tx.append_event(&event(1, 1))
    })?;
    let attempts: Vec<(&str, StoreResult<()>)> = vec![
        (
            "same customer id",
            write(&store, |tx| tx.insert_customer(&customer(1, "Bea"))),
        ),
        (
            "same email key",
            write(&store, |tx| {
                tx.insert_customer(&customer_with(2, "Bea", Some("ADA@example.com"), None))
            }),
        ),
        (
            "same customer reference",
            write(&store, |tx| {
                tx.insert_customer(&customer_with(2, "Bea", None, Some("A-1")))
            }),
        ),
        (
            "same purchase id",
            write(&store, |tx| {
                tx.insert_purchase(&purchase(1, 1, at(3, 9), "2.00"))
            }),
        ),
        (
            "same segment name",
            write(&store, |tx| tx.insert_segment(&segment("leads"))),
        ),
        (
            "same event seq",
            write(&store, |tx| tx.append_event(&event(1, 1))),
        ),
        (
            "update of a missing customer",
            write(&store, |tx| tx.update_customer(&customer(9, "Nobody"))),
        ),
        (
            "update of a missing deal",
            write(&store, |tx| tx.update_deal(&deal(9, 1))),
        ),
    ];
    for (what, got) in attempts {
        let err = got.expect_err(what);
        assert_eq!(err.kind(), StoreErrorKind::Backend, "{what}: {err}");
    }
    // None of them changed anything.
    read(&store, |tx| {
        assert_eq!(tx.count_customers()?, 1);
        assert_eq!(
            tx.purchase(PurchaseId::new(1))?.map(|p| p.amount()),
            Some(eur("1.00"))
        );
        assert_eq!(tx.events(0, 10)?.len(), 1);
        Ok(())
    })?;
    Ok(())
}

// ----- stored exactly -----

#[test]
fn records_read_back_exactly_as_written() -> TestResult {
    let store = backend();
    let when = Utc
        .timestamp_opt(1_767_225_600, 123_456_789)
        .single()
        .expect("an instant");
    let p = purchase(1, 1, when, "12.34");
    let i = interaction(1, 1, when);
    write(&store, |tx| {
        tx.insert_customer(&customer(1, "Ada"))?;
        tx.insert_purchase(&p)?;
        tx.insert_interaction(&i)
    })?;
    read(&store, |tx| {
        assert_eq!(tx.purchase(PurchaseId::new(1))?.as_ref(), Some(&p));
        assert_eq!(tx.interactions(&ActivityQuery::ALL)?, vec![i.clone()]);
        assert_eq!(
            tx.purchase(PurchaseId::new(1))?
                .map(|p| p.at().timestamp_subsec_nanos()),
            Some(123_456_789)
        );
        Ok(())
    })?;
    Ok(())
}

// ----- orders and queries -----

#[test]
fn activities_come_by_time_then_id_and_honour_the_query() -> TestResult {
    let store = backend();
    // Ids 1..=4 at times that put them in the order 2, 4, 1, 3; customer 2 owns 3 and 4.
    let plan = [
        (1, 1, at(3, 9)),
        (2, 1, at(2, 9)),
        (3, 2, at(3, 9)),
        (4, 2, at(2, 9)),
    ];
    write(&store, |tx| {
        tx.insert_customer(&customer(1, "Ada"))?;
        tx.insert_customer(&customer(2, "Bea"))?;
        // Inserted out of id order on purpose.
        for &(id, c, when) in plan.iter().rev() {
            tx.insert_interaction(&interaction(id, c, when))?;
            tx.insert_purchase(&purchase(id, c, when, "1.00"))?;
            tx.insert_survey(&survey(id, c, when))?;
        }
        for &(id, c, when) in plan.iter().rev() {
            tx.insert_refund(&refund(id, c, id, when))?;
        }
        Ok(())
    })?;
    let queries = [
        (ActivityQuery::ALL, vec![2, 4, 1, 3]),
        (ActivityQuery::customer(CustomerId::new(2)), vec![4, 3]),
        (ActivityQuery::customer(CustomerId::new(7)), vec![]),
        (
            ActivityQuery {
                customer: None,
                range: TimeRange::since(at(3, 0)),
                include_voided: false,
            },
            vec![1, 3],
        ),
        (
            ActivityQuery {
                customer: Some(CustomerId::new(1)),
                range: TimeRange::until(at(3, 9)), // the end is exclusive
                include_voided: false,
            },
            vec![2],
        ),
    ];
    read(&store, |tx| {
        for (q, want) in &queries {
            assert_eq!(&ids(&tx.interactions(q)?, Interaction::id), want, "{q:?}");
            assert_eq!(&ids(&tx.purchases(q)?, Purchase::id), want, "{q:?}");
            assert_eq!(&ids(&tx.refunds(q)?, Refund::id), want, "{q:?}");
            assert_eq!(&ids(&tx.surveys(q)?, SurveyResponse::id), want, "{q:?}");
        }
        Ok(())
    })?;
    Ok(())
}

#[test]
fn requests_and_deals_come_by_id_and_honour_the_query() -> TestResult {
    let store = backend();
    write(&store, |tx| {
        for (id, c) in [(3, 1), (1, 2), (2, 1), (4, 1)] {
            tx.insert_request(&request(id, c))?;
            tx.insert_deal(&deal(id, c))?;
        }
        // Close request 2 and deal 2, then open nothing else.
        let mut r = tx.request(RequestId::new(2))?.expect("request 2");
        r.apply(RequestEventKind::Resolved, at(3, 9))?;
        tx.update_request(&r)?;
        let mut d = tx.deal(DealId::new(2))?.expect("deal 2");
        d.move_to(DealStage::Won, at(3, 9))?;
        tx.update_deal(&d)
    })?;
    let queries = [
        (OpenQuery::default(), vec![1, 2, 3, 4]),
        (
            OpenQuery {
                customer: Some(CustomerId::new(1)),
                open_only: false,
            },
            vec![2, 3, 4],
        ),
        (
            OpenQuery {
                customer: None,
                open_only: true,
            },
            vec![1, 3, 4],
        ),
        (
            OpenQuery {
                customer: Some(CustomerId::new(1)),
                open_only: true,
            },
            vec![3, 4],
        ),
    ];
    read(&store, |tx| {
        for (q, want) in &queries {
            assert_eq!(&ids(&tx.requests(q)?, ServiceRequest::id), want, "{q:?}");
            assert_eq!(&ids(&tx.deals(q)?, Deal::id), want, "{q:?}");
        }
        assert_eq!(
            tx.deal(DealId::new(2))?.map(|d| d.stage()),
            Some(DealStage::Won)
        );
        assert_eq!(tx.request(RequestId::new(9))?, None);
        Ok(())
    })?;
    Ok(())
}

#[test]
fn tasks_come_by_due_date_then_id_and_honour_the_query() -> TestResult {
    let store = backend();
    write(&store, |tx| {
        // Order by (due, id): 2, 4, 1, 3, 5.
        tx.insert_task(&task(1, Some(1), date(5)))?;
        tx.insert_task(&task(2, None, date(3)))?;
        tx.insert_task(&task(3, Some(2), date(5)))?;
        tx.insert_task(&task(4, Some(1), date(3)))?;
        tx.insert_task(&task(5, Some(1), date(9)))?;
        let mut done = tx.task(TaskId::new(4))?.expect("task 4");
        done.complete(at(4, 9))?;
        tx.update_task(&done)
    })?;
    let q = |customer: Option<u64>, due_until: Option<u32>, include_done: bool| TaskQuery {
        customer: customer.map(CustomerId::new),
        due_until: due_until.map(date),
        include_done,
    };
    let queries = [
        (q(None, None, true), vec![2, 4, 1, 3, 5]),
        (q(None, None, false), vec![2, 1, 3, 5]),
        (q(Some(1), None, true), vec![4, 1, 5]),
        (q(None, Some(5), true), vec![2, 4, 1, 3]),
        (q(Some(1), Some(5), false), vec![1]),
    ];
    read(&store, |tx| {
        for (query, want) in &queries {
            assert_eq!(&ids(&tx.tasks(query)?, Task::id), want, "{query:?}");
        }
        Ok(())
    })?;
    Ok(())
}

#[test]
fn customers_come_by_ascending_id_through_the_filter() -> TestResult {
    let store = backend();
    write(&store, |tx| {
        for id in [4, 1, 3, 2, 5] {
            let mut c = customer(id, "Ada");
            if id % 2 == 0 {
                c.add_tag(Tag::parse("vip").expect("a tag"));
            }
            tx.insert_customer(&c)?;
        }
        let mut erased = tx.customer(CustomerId::new(3))?.expect("customer 3");
        erased.erase(at(5, 9));
        tx.update_customer(&erased)
    })?;
    let live = CustomerFilter::default();
    let everyone = CustomerFilter {
        include_erased: true,
        ..CustomerFilter::default()
    };
    let vip = CustomerFilter {
        tag: Some(Tag::parse("vip").expect("a tag")),
        ..CustomerFilter::default()
    };
    let leads = CustomerFilter {
        stage: Some(LifecycleStage::Lead),
        ..CustomerFilter::default()
    };
    let cid = |n: u64| Some(CustomerId::new(n));
    read(&store, |tx| {
        let list = |f: &CustomerFilter, after, limit| -> StoreResult<Vec<u64>> {
            Ok(ids(&tx.customers(f, after, limit)?, Customer::id))
        };
        assert_eq!(list(&live, None, 100)?, vec![1, 2, 4, 5]);
        assert_eq!(list(&everyone, None, 100)?, vec![1, 2, 3, 4, 5]);
        assert_eq!(list(&everyone, cid(2), 2)?, vec![3, 4]);
        assert_eq!(list(&live, cid(2), 2)?, vec![4, 5]);
        assert_eq!(list(&live, cid(5), 100)?, Vec::<u64>::new());
        assert_eq!(list(&live, cid(u64::MAX), 100)?, Vec::<u64>::new());
        assert_eq!(list(&live, None, 0)?, Vec::<u64>::new());
        assert_eq!(list(&vip, None, 100)?, vec![2, 4]);
        assert_eq!(list(&leads, None, 100)?, Vec::<u64>::new());
        assert_eq!(tx.count_customers()?, 5, "erased customers count");
        let keys = tx.customer_keys()?;
        assert_eq!(ids(&keys, |k| k.id), vec![1, 2, 3, 4, 5]);
        assert_eq!(
            keys.iter().map(|k| k.erased).collect::<Vec<_>>(),
            vec![false, false, true, false, false]
        );
        Ok(())
    })?;
    Ok(())
}

#[test]
fn look_ups_follow_email_keys_and_references_through_updates_and_erasure() -> TestResult {
    let store = backend();
    let email = |s: &str| Email::parse(s).expect("an email");
    let reference = |s: &str| ExternalRef::parse(s).expect("a reference");
    write(&store, |tx| {
        tx.insert_customer(&customer_with(
            1,
            "Ada",
            Some("Ada@Example.com"),
            Some("A-1"),
        ))?;
        tx.insert_customer(&customer_with(2, "Bea", Some("bea@example.com"), None))
    })?;
    read(&store, |tx| {
        // The look-up goes by the key (case folded), whichever way it is written.
        assert_eq!(
            tx.customer_by_email(&email("ada@example.com"))?,
            Some(CustomerId::new(1))
        );
        assert_eq!(
            tx.customer_by_email(&email("ADA@EXAMPLE.COM"))?,
            Some(CustomerId::new(1))
        );
        assert_eq!(
            tx.customer_by_external_ref(&reference("A-1"))?,
            Some(CustomerId::new(1))
        );
        assert_eq!(
            tx.customer_by_external_ref(&reference("a-1"))?,
            None,
            "exact"
        );
        Ok(())
    })?;

    // Ada moves to a new address and reference: the old ones free up at once, in the
    // same transaction, so Bea can take Ada's old address there too.
    write(&store, |tx| {
        let moved = customer_with(1, "Ada", Some("ada@new.example"), Some("A-2"));
        tx.update_customer(&moved)?;
        let bea = customer_with(2, "Bea", Some("ada@example.com"), Some("A-1"));
        tx.update_customer(&bea)
    })?;
    read(&store, |tx| {
        assert_eq!(
            tx.customer_by_email(&email("ada@new.example"))?,
            Some(CustomerId::new(1))
        );
        assert_eq!(
            tx.customer_by_email(&email("ada@example.com"))?,
            Some(CustomerId::new(2))
        );
        assert_eq!(tx.customer_by_email(&email("bea@example.com"))?, None);
        assert_eq!(
            tx.customer_by_external_ref(&reference("A-2"))?,
            Some(CustomerId::new(1))
        );
        assert_eq!(
            tx.customer_by_external_ref(&reference("A-1"))?,
            Some(CustomerId::new(2))
        );
        Ok(())
    })?;

    // An erased customer is found by neither, and their keys are free for others.
    write(&store, |tx| {
        let mut ada = tx.customer(CustomerId::new(1))?.expect("Ada");
        ada.erase(at(6, 9));
        tx.update_customer(&ada)?;
        tx.insert_customer(&customer_with(
            3,
            "Cy",
            Some("ada@new.example"),
            Some("A-2"),
        ))
    })?;
    read(&store, |tx| {
        assert_eq!(
            tx.customer_by_email(&email("ada@new.example"))?,
            Some(CustomerId::new(3))
        );
        assert_eq!(
            tx.customer_by_external_ref(&reference("A-2"))?,
            Some(CustomerId::new(3))
        );
        let keys = tx.customer_keys()?;
        assert_eq!(keys[0].email, None);
        assert_eq!(keys[0].external_ref, None);
        assert!(keys[0].erased);
        Ok(())
    })?;
    Ok(())
}

#[test]
fn purchases_are_found_by_reference_and_summed_up_to_as_of() -> TestResult {
    let store = backend();
    write(&store, |tx| {
        tx.insert_customer(&customer(1, "Ada"))?;
        tx.insert_customer(&customer(2, "Bea"))?;
        tx.insert_customer(&customer(3, "Cy"))?;
        let mut with_ref = NewPurchase::new(CustomerId::new(1), at(5, 9), eur("2.50"));
        with_ref.external_ref = Some(ExternalRef::parse("ORD-9").expect("a reference"));
        tx.insert_purchase(&Purchase::new(PurchaseId::new(1), with_ref))?;
        tx.insert_purchase(&purchase(2, 1, at(2, 9), "10.00"))?;
        tx.insert_purchase(&purchase(3, 2, at(3, 9), "7.00"))?;
        tx.insert_purchase(&purchase(4, 1, at(9, 9), "100.00"))
    })?;
    read(&store, |tx| {
        let ord9 = ExternalRef::parse("ORD-9").expect("a reference");
        assert_eq!(
            tx.purchase_by_external_ref(&ord9)?,
            Some(PurchaseId::new(1))
        );

        let s = tx.purchase_summary(CustomerId::new(1), at(5, 9))?;
        assert_eq!(s.count, 2, "at or before as_of");
        assert_eq!(s.total, eur("12.50"));
        assert_eq!(s.first_at, Some(at(2, 9)));
        assert_eq!(s.last_at, Some(at(5, 9)));
        let none = tx.purchase_summary(CustomerId::new(3), at(30, 9))?;
        assert_eq!((none.count, none.first_at, none.last_at), (0, None, None));
        assert!(none.total.is_zero());
        assert_eq!(none.total.currency(), Currency::EUR);

        let log = tx.purchase_log()?;
        assert_eq!(log.currency, Some(Currency::EUR));
        assert_eq!(ids(&log.customers, |c| *c), vec![1, 2, 3], "Cy too");
        // By purchase id: 1, 2 and 4 are Ada's (index 0), 3 is Bea's (index 1).
        assert_eq!(log.customer, vec![0, 0, 1, 0]);
        assert_eq!(log.amount, vec![250, 1000, 700, 10000]);
        assert_eq!(log.at[1], at(2, 9).timestamp());
        Ok(())
    })?;
    Ok(())
}

#[test]
fn refunds_of_a_purchase_come_by_id() -> TestResult {
    let store = backend();
    write(&store, |tx| {
        tx.insert_purchase(&purchase(1, 1, at(2, 9), "10.00"))?;
        tx.insert_purchase(&purchase(2, 1, at(2, 9), "10.00"))?;
        tx.insert_refund(&refund(3, 1, 1, at(3, 9)))?;
        tx.insert_refund(&refund(1, 1, 1, at(5, 9)))?;
        tx.insert_refund(&refund(2, 1, 2, at(4, 9)))
    })?;
    read(&store, |tx| {
        assert_eq!(
            ids(&tx.refunds_of(PurchaseId::new(1))?, Refund::id),
            vec![1, 3]
        );
        assert_eq!(
            ids(&tx.refunds_of(PurchaseId::new(2))?, Refund::id),
            vec![2]
        );
        assert!(tx.refunds_of(PurchaseId::new(3))?.is_empty());
        Ok(())
    })?;
    Ok(())
}

#[test]
fn the_points_balance_is_the_one_after_the_latest_entry() -> TestResult {
    let store = backend();
    write(&store, |tx| {
        tx.insert_points(&points(1, 1, 10, 10))?;
        tx.insert_points(&points(2, 2, 7, 7))?;
        tx.insert_points(&points(3, 1, -6, 4))
    })?;
    read(&store, |tx| {
        assert_eq!(tx.points_balance(CustomerId::new(1))?, 4);
        assert_eq!(tx.points_balance(CustomerId::new(2))?, 7);
        assert_eq!(tx.points_balance(CustomerId::new(3))?, 0, "no entries");
        let ledger = tx.points_ledger(CustomerId::new(1))?;
        assert_eq!(ids(&ledger, PointsEntry::id), vec![1, 3]);
        assert_eq!(
            ledger.iter().map(|e| e.delta()).collect::<Vec<_>>(),
            vec![10, -6]
        );
        Ok(())
    })?;
    // The balance follows an updated entry (the backend stores, it does not add up).
    write(&store, |tx| tx.update_points(&points(3, 1, -6, 40)))?;
    assert_eq!(
        read(&store, |tx| tx.points_balance(CustomerId::new(1)))?,
        40
    );
    Ok(())
}

#[test]
fn segments_come_by_name_and_deleting_says_whether_there_was_one() -> TestResult {
    let store = backend();
    write(&store, |tx| {
        for name in ["zeta", "alpha", "Mid"] {
            tx.insert_segment(&segment(name))?;
        }
        Ok(())
    })?;
    let names = |segments: Vec<Segment>| -> Vec<String> {
        segments.into_iter().map(|s| s.name.to_string()).collect()
    };
    assert_eq!(
        names(read(&store, |tx| tx.segments())?),
        ["Mid", "alpha", "zeta"]
    );
    assert_eq!(
        read(&store, |tx| tx.segment(&label("alpha")))?,
        Some(segment("alpha"))
    );
    let mut deleted = Vec::new();
    write(&store, |tx| {
        deleted.push(tx.delete_segment(&label("alpha"))?);
        deleted.push(tx.delete_segment(&label("alpha"))?);
        deleted.push(tx.delete_segment(&label("nothing"))?);
        Ok(())
    })?;
    assert_eq!(deleted, [true, false, false]);
    assert_eq!(names(read(&store, |tx| tx.segments())?), ["Mid", "zeta"]);
    // A deleted name can be used again.
    write(&store, |tx| tx.insert_segment(&segment("alpha")))?;
    assert_eq!(read(&store, |tx| tx.segments())?.len(), 3);
    Ok(())
}

#[test]
fn events_come_back_in_order_after_a_cursor() -> TestResult {
    let store = backend();
    write(&store, |tx| {
        for seq in [3, 1, 2] {
            tx.append_event(&event(seq, seq))?;
        }
        Ok(())
    })?;
    write(&store, |tx| {
        for seq in [5, 4] {
            tx.append_event(&event(seq, seq))?;
        }
        Ok(())
    })?;
    let seqs = |after, limit| -> StoreResult<Vec<u64>> {
        let events = read(&store, |tx| tx.events(after, limit))?;
        Ok(events.iter().map(|e| e.seq).collect())
    };
    assert_eq!(seqs(0, 100)?, vec![1, 2, 3, 4, 5]);
    assert_eq!(seqs(2, 2)?, vec![3, 4]);
    assert_eq!(seqs(4, 100)?, vec![5]);
    assert_eq!(seqs(5, 100)?, Vec::<u64>::new());
    assert_eq!(seqs(u64::MAX, 100)?, Vec::<u64>::new());
    assert_eq!(seqs(0, 0)?, Vec::<u64>::new());
    // Each event comes back whole.
    let third = read(&store, |tx| tx.events(2, 1))?;
    assert_eq!(third, vec![event(3, 3)]);
    Ok(())
}

#[test]
fn the_audit_log_comes_oldest_first() -> TestResult {
    let store = backend();
    let entry = |id: u64, day: u32| AuditEntry {
        id: AuditId::new(id),
        at: at(day, 9),
        action: AuditAction::CustomerErased {
            customer: CustomerId::new(id),
        },
    };
    write(&store, |tx| tx.insert_audit(&entry(1, 2)))?;
    write(&store, |tx| tx.insert_audit(&entry(2, 3)))?;
    assert_eq!(
        read(&store, |tx| tx.audit_log())?,
        vec![entry(1, 2), entry(2, 3)]
    );
    Ok(())
}

#[test]
fn stage_history_keeps_push_order_and_rewrites_in_place() -> TestResult {
    let store = backend();
    let change = |from, to, day, note: Option<&str>| StageChange {
        customer: CustomerId::new(1),
        from,
        to,
        at: at(day, 9),
        reason: StageReason::Manual {
            note: note.map(label),
        },
    };
    use LifecycleStage as L;
    let first = change(L::Prospect, L::Lead, 2, Some("met at the fair"));
    let second = change(L::Lead, L::New, 3, None);
    write(&store, |tx| {
        tx.push_stage_change(&first)?;
        tx.push_stage_change(&second)
    })?;
    let history = |c: u64| read(&store, move |tx| tx.stage_history(CustomerId::new(c)));
    assert_eq!(history(1)?, vec![first.clone(), second.clone()]);
    assert!(history(2)?.is_empty());

    let scrubbed = change(L::Prospect, L::Lead, 2, None);
    write(&store, |tx| {
        tx.rewrite_stage_history(CustomerId::new(1), &[scrubbed.clone(), second.clone()])
    })?;
    assert_eq!(history(1)?, vec![scrubbed.clone(), second.clone()]);

    // A rewrite of another length is not a rewrite: refused, nothing changes.
    let err = write(&store, |tx| {
        tx.rewrite_stage_history(CustomerId::new(1), std::slice::from_ref(&second))
    })
    .expect_err("a shorter history");
    assert_eq!(err.kind(), StoreErrorKind::Backend);
    assert_eq!(history(1)?, vec![scrubbed, second]);
    Ok(())
}
