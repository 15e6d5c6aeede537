//! The transactional port (`solocrm_core::port::Storage`) of the SQLite store: what a
//! write commits or leaves, what a read sees while others write, ids, the outbox, and
//! every record kind stored and read back exactly.

use std::path::Path;
use std::sync::mpsc;
use std::sync::{Arc, Barrier};
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use rusqlite::Connection;
use solocrm_core::port::{CustomerFilter, IdKind, ReadTx, Storage, WriteTx};
use solocrm_core::{
    ActivityQuery, AuditAction, AuditEntry, AuditId, Channel, Consent, Currency, Customer,
    CustomerData, CustomerId, Deal, DealId, DealStage, Direction, DomainEvent, Email, Event,
    ExternalRef, FreeText, Interaction, InteractionId, Label, LifecycleStage, Money, NewCustomer,
    NewDeal, NewInteraction, NewPointsEntry, NewPurchase, NewRefund, NewServiceRequest,
    NewSurveyResponse, NewTask, OpenQuery, PersonName, PointsEntry, PointsEntryId, PointsKind,
    PolicyRule, Predicate, Purchase, PurchaseId, Recurrence, Refund, RefundId, RequestEventKind,
    RequestId, RequestKind, Segment, Sentiment, ServiceRequest, StageChange, StageReason,
    StoreError, StoreErrorKind, StoreResult, SurveyId, SurveyKind, SurveyResponse, SurveyScore,
    Tag, Task, TaskId, TaskKind, TaskQuery,
};
use solocrm_store_sqlite::{SqliteOptions, SqliteStore};

fn at(day: u32, hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, day, hour, 0, 0)
        .single()
        .expect("a valid instant")
}

fn eur(minor: i64) -> Money {
    Money::from_minor(minor, Currency::EUR)
}

fn memory() -> SqliteStore {
    SqliteStore::open_in_memory(Currency::EUR).expect("an in-memory database")
}

fn file(dir: &Path) -> SqliteStore {
    SqliteStore::create(dir.join("crm.db"), Currency::EUR).expect("a database file")
}

fn customer(id: u64, name: &str) -> Customer {
    Customer::create(
        CustomerId::new(id),
        NewCustomer::new(
            CustomerData::new(PersonName::parse(name).expect("a name")),
            at(1, 9),
        ),
    )
}

/// Reads `f`'s answer out of one snapshot.
fn read<T>(store: &impl Storage, mut f: impl FnMut(&dyn ReadTx) -> StoreResult<T>) -> T {
    let mut out = None;
    store
        .read(&mut |tx| {
            out = Some(f(tx)?);
            Ok(())
        })
        .expect("a read");
    out.expect("the closure ran")
}

/// Runs `f` in one write transaction, which must commit.
fn write(store: &impl Storage, mut f: impl FnMut(&mut dyn WriteTx) -> StoreResult<()>) {
    store.write(&mut f).expect("a write");
}

fn count(store: &impl Storage) -> u64 {
    read(store, |tx| tx.count_customers())
}

fn stop() -> StoreError {
    StoreError::backend(std::io::Error::other("the closure gives up"))
}

#[test]
fn a_write_whose_closure_errs_after_inserting_leaves_nothing() {
    let store = memory();
    let err = store
        .write(&mut |tx| {
            tx.insert_customer(&customer(1, "Ada"))?;
            tx.append_event(&Event {
                seq: 1,
                at: Some(at(1, 9)),
                event: DomainEvent::CustomerCreated {
                    customer: CustomerId::new(1),
                    stage: LifecycleStage::Prospect,
                },
            })?;
            assert_eq!(tx.count_customers()?, 1, "a write sees its own writes");
            Err(stop())
        })
        .expect_err("the closure's error");
    assert_eq!(err.to_string(), stop().to_string());
    assert_eq!(count(&store), 0);
    assert!(read(&store, |tx| tx.events(0, 10)).is_empty());
    write(&store, |tx| {
        assert_eq!(tx.next_id(IdKind::Customer)?, 1);
        assert_eq!(tx.next_id(IdKind::Event)?, 1);
        Ok(())
    });
}

#[test]
fn a_write_whose_closure_panics_leaves_nothing_and_the_store_usable() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let store = file(dir.path());
    let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _ = store.write(&mut |tx| {
            tx.insert_customer(&customer(1, "Ada"))?;
            panic!("the closure panics");
        });
    }));
    assert!(panicked.is_err());
    assert_eq!(count(&store), 0);
    write(&store, |tx| tx.insert_customer(&customer(1, "Ada")));
    assert_eq!(count(&store), 1);
}

#[test]
fn a_read_snapshot_stays_fixed_while_another_thread_commits() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let store = Arc::new(file(dir.path()));
    write(&*store, |tx| tx.insert_customer(&customer(1, "Ada")));
    let (to_writer, writer_rx) = mpsc::channel::<()>();
    let (to_reader, reader_rx) = mpsc::channel::<()>();
    let writer = {
        let store = Arc::clone(&store);
        std::thread::spawn(move || {
            writer_rx.recv().expect("the reader has its snapshot");
            write(&*store, |tx| tx.insert_customer(&customer(2, "Grace")));
            to_reader.send(()).expect("the reader waits");
        })
    };
    let (before, after) = read(&*store, |tx| {
        let before = tx.count_customers()?;
        to_writer.send(()).expect("the writer waits");
        reader_rx.recv().expect("the writer committed");
        let after = (tx.count_customers()?, tx.customer(CustomerId::new(2))?);
        Ok((before, after))
    });
    writer.join().expect("the writer");
    assert_eq!(before, 1);
    assert_eq!(after, (1, None), "the snapshot does not move");
    assert_eq!(count(&*store), 2, "a new read sees the commit");
}

#[test]
fn a_reader_proceeds_while_a_writer_holds_its_transaction_open() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let store = Arc::new(file(dir.path()));
    write(&*store, |tx| tx.insert_customer(&customer(1, "Ada")));
    let (to_main, in_tx) = mpsc::channel::<()>();
    let (to_writer, reader_done) = mpsc::channel::<()>();
    let writer = {
        let store = Arc::clone(&store);
        std::thread::spawn(move || {
            write(&*store, |tx| {
                tx.insert_customer(&customer(2, "Grace"))?;
                to_main.send(()).expect("the reader waits");
                reader_done.recv().expect("the reader finished");
                Ok(())
            });
        })
    };
    in_tx.recv().expect("the writer is in its transaction");
    // Two reads at once, each on its own connection, both while the write is open.
    let barrier = Barrier::new(2);
    let seen = std::thread::scope(|s| {
        let other = s.spawn(|| {
            read(&*store, |tx| {
                barrier.wait();
                tx.count_customers()
            })
        });
        let mine = read(&*store, |tx| {
            barrier.wait();
            tx.count_customers()
        });
        (mine, other.join().expect("the other reader"))
    });
    assert_eq!(seen, (1, 1), "the open write is not visible");
    to_writer.send(()).expect("the writer waits");
    writer.join().expect("the writer");
    assert_eq!(count(&*store), 2);
}

#[test]
fn a_write_is_busy_while_another_connection_holds_the_write_lock() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    drop(file(dir.path()));
    let path = dir.path().join("crm.db");
    let timeout = Duration::from_millis(50);
    let store =
        SqliteStore::open_with(&path, &SqliteOptions::new().busy_timeout(timeout)).expect("opens");
    let other = Connection::open(&path).expect("another connection");
    other
        .execute_batch("BEGIN IMMEDIATE")
        .expect("the other takes the write lock");
    let err = store
        .write(&mut |tx| tx.insert_customer(&customer(1, "Ada")))
        .expect_err("busy");
    assert!(
        matches!(err, StoreError::Busy { waited } if waited == timeout),
        "{err:?}"
    );
    assert_eq!(err.kind(), StoreErrorKind::Busy);
    // Reads do not wait for the lock.
    assert_eq!(count(&store), 0);
    other.execute_batch("ROLLBACK").expect("released");
    write(&store, |tx| tx.insert_customer(&customer(1, "Ada")));
    assert_eq!(count(&store), 1);
}

/// `read_beside` over `store`: each side's thread and customer count.
fn beside(store: &SqliteStore) -> ((std::thread::ThreadId, u64), (std::thread::ThreadId, u64)) {
    let (mut here, mut there) = (None, None);
    store
        .read_beside(
            &mut |tx| {
                here = Some((std::thread::current().id(), tx.count_customers()?));
                Ok(())
            },
            &mut |tx| {
                there = Some((std::thread::current().id(), tx.count_customers()?));
                Ok(())
            },
        )
        .expect("both reads");
    (here.expect("here ran"), there.expect("there ran"))
}

/// Two reads of one snapshot run on two threads when the store can hold the write lock
/// for the instant both begin, and one after the other on this thread, without
/// waiting, when another connection holds it (or the database is in memory).
#[test]
fn reads_beside_run_on_two_threads_unless_a_writer_is_in_the_way() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    drop(file(dir.path()));
    let path = dir.path().join("crm.db");
    // A long busy timeout: a fence that waited for the other writer would not come
    // back before the deadline below.
    let store = Arc::new(
        SqliteStore::open_with(
            &path,
            &SqliteOptions::new().busy_timeout(Duration::from_secs(600)),
        )
        .expect("opens"),
    );
    write(&*store, |tx| tx.insert_customer(&customer(1, "王芳")));
    let me = std::thread::current().id();
    let ((a, n), (b, m)) = beside(&store);
    assert_eq!((a, n, m), (me, 1, 1));
    assert_ne!(b, me, "the second read ran on a thread of its own");

    let other = Connection::open(&path).expect("another connection");
    other
        .execute_batch("BEGIN IMMEDIATE")
        .expect("the other takes the write lock");
    let (done, wait) = mpsc::channel();
    let reading = {
        let store = Arc::clone(&store);
        std::thread::spawn(move || {
            let seen = beside(&store);
            let _ = done.send((std::thread::current().id(), seen));
        })
    };
    let (reader, ((a, n), (b, m))) = wait
        .recv_timeout(Duration::from_secs(60))
        .expect("the reads did not wait for the other writer");
    reading.join().expect("the reading thread");
    assert_eq!((a, b, n, m), (reader, reader, 1, 1));
    other.execute_batch("ROLLBACK").expect("released");

    // The writer's own settings are as they were: it writes, and the reads go on.
    write(&*store, |tx| tx.insert_customer(&customer(2, "李娜")));
    let ((_, n), (b, m)) = beside(&store);
    assert_eq!((n, m), (2, 2));
    assert_ne!(b, me);

    let in_memory = memory();
    write(&in_memory, |tx| tx.insert_customer(&customer(1, "Ada")));
    let ((a, n), (b, m)) = beside(&in_memory);
    assert_eq!((a, b, n, m), (me, me, 1, 1));
}

#[test]
fn next_id_is_one_more_than_the_largest_stored() {
    let store = memory();
    write(&store, |tx| {
        for kind in IdKind::ALL {
            assert_eq!(tx.next_id(kind)?, 1, "{kind:?}");
        }
        tx.insert_customer(&customer(1, "Ada"))?;
        assert_eq!(tx.next_id(IdKind::Customer)?, 2);
        tx.insert_customer(&customer(7, "Grace"))?;
        assert_eq!(tx.next_id(IdKind::Customer)?, 8);
        assert_eq!(tx.next_id(IdKind::Purchase)?, 1, "per kind");
        let p = Purchase::new(
            PurchaseId::new(3),
            NewPurchase::new(CustomerId::new(1), at(2, 9), eur(100)),
        );
        tx.insert_purchase(&p)?;
        assert_eq!(tx.next_id(IdKind::Purchase)?, 4);
        Ok(())
    });
    write(&store, |tx| {
        assert_eq!(tx.next_id(IdKind::Customer)?, 8, "after the commit too");
        Ok(())
    });
}

fn events(n: u64) -> Vec<Event> {
    (1..=n)
        .map(|seq| Event {
            seq,
            // Every third event takes no time.
            at: (seq % 3 != 0).then(|| at(2, u32::try_from(seq % 24).expect("an hour"))),
            event: if seq % 2 == 0 {
                DomainEvent::SegmentCreated {
                    name: format!("segment {seq}"),
                }
            } else {
                DomainEvent::PointsPosted {
                    customer: CustomerId::new(seq),
                    entry: PointsEntryId::new(seq),
                    delta: -5,
                    balance: 10,
                }
            },
        })
        .collect()
}

#[test]
fn events_come_back_in_order_from_a_cursor() {
    let store = memory();
    let all = events(7);
    // Appended in two transactions.
    write(&store, |tx| {
        all[..3].iter().try_for_each(|e| tx.append_event(e))
    });
    write(&store, |tx| {
        assert_eq!(tx.next_id(IdKind::Event)?, 4);
        all[3..].iter().try_for_each(|e| tx.append_event(e))
    });
    assert_eq!(read(&store, |tx| tx.events(0, 100)), all);
    assert_eq!(read(&store, |tx| tx.events(2, 3)), all[2..5]);
    assert_eq!(read(&store, |tx| tx.events(6, 3)), all[6..]);
    assert!(read(&store, |tx| tx.events(7, 3)).is_empty());
    assert!(read(&store, |tx| tx.events(u64::MAX, 3)).is_empty());
    assert!(read(&store, |tx| tx.events(0, 0)).is_empty());
}

#[test]
fn the_events_table_survives_reopening() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let all = events(4);
    {
        let store = file(dir.path());
        write(&store, |tx| all.iter().try_for_each(|e| tx.append_event(e)));
    }
    let store = SqliteStore::open(dir.path().join("crm.db")).expect("reopens");
    assert_eq!(read(&store, |tx| tx.events(0, 10)), all);
    write(&store, |tx| {
        assert_eq!(tx.next_id(IdKind::Event)?, 5);
        Ok(())
    });
}

/// One of every record, all of customer 1 (with deal 1 won, so the purchase and the
/// request may follow from it).
struct Book {
    ada: Customer,
    change: StageChange,
    interaction: Interaction,
    deal: Deal,
    purchase: Purchase,
    refund: Refund,
    survey: SurveyResponse,
    request: ServiceRequest,
    task: Task,
    points: PointsEntry,
    segment: Segment,
    audit: AuditEntry,
}

fn book() -> Book {
    let c1 = CustomerId::new(1);
    let mut data = CustomerData::new(PersonName::parse("Ada Lovelace").expect("a name"))
        .with_email(Email::parse("Ada@Example.com").expect("an email"))
        .with_tag(Tag::parse("vip").expect("a tag"))
        .with_external_ref(ExternalRef::parse("A-1").expect("a reference"));
    data.notes = FreeText::parse("likes engines").expect("notes");
    data.acquisition_cost = Some(eur(1_234));
    let mut ada = Customer::create(
        c1,
        NewCustomer::new(data, at(1, 9)).at_stage(LifecycleStage::Lead),
    );
    ada.record_consent(Consent {
        purpose: Tag::parse("newsletter").expect("a purpose"),
        granted: true,
        at: at(1, 10),
        source: Label::parse("web form").expect("a source"),
    });
    let change = StageChange {
        customer: c1,
        from: LifecycleStage::Lead,
        to: LifecycleStage::New,
        at: at(2, 9) + chrono::Duration::nanoseconds(123_456_789),
        reason: StageReason::Rule {
            rule: PolicyRule::FirstPurchase,
        },
    };
    let interaction = Interaction::new(
        InteractionId::new(1),
        NewInteraction {
            customer: c1,
            channel: Channel::Email,
            direction: Direction::Inbound,
            at: at(2, 8),
            summary: FreeText::parse("asked about prices").expect("a summary"),
            sentiment: Some(Sentiment::Positive),
        },
    );
    let mut deal = Deal::create(
        DealId::new(1),
        NewDeal::new(
            c1,
            Label::parse("engine").expect("a title"),
            eur(50_000),
            at(1, 12),
        ),
    );
    deal.move_to(DealStage::Proposal, at(1, 13))
        .expect("a move");
    deal.move_to(DealStage::Won, at(1, 14)).expect("won");
    let mut bought = NewPurchase::new(c1, at(2, 9), eur(50_000));
    bought.cost = Some(eur(20_000));
    bought.description = Some(FreeText::parse("one engine").expect("a description"));
    bought.items = Some(1);
    bought.external_ref = Some(ExternalRef::parse("P-1").expect("a reference"));
    bought.deal = Some(DealId::new(1));
    let purchase = Purchase::new(PurchaseId::new(1), bought);
    let refund = Refund::new(
        RefundId::new(1),
        c1,
        NewRefund {
            purchase: PurchaseId::new(1),
            at: at(3, 9),
            amount: eur(1_000),
            reason: Some(FreeText::parse("a scratch").expect("a reason")),
        },
    );
    let survey = SurveyResponse::new(
        SurveyId::new(1),
        NewSurveyResponse {
            customer: c1,
            at: at(3, 10),
            score: SurveyScore::new(SurveyKind::Nps, 9).expect("a score"),
            comment: Some(FreeText::parse("great").expect("a comment")),
        },
    );
    let mut request = ServiceRequest::open(
        RequestId::new(1),
        NewServiceRequest {
            customer: c1,
            kind: RequestKind::Question,
            subject: Label::parse("oil").expect("a subject"),
            description: FreeText::parse("which oil?").expect("a description"),
            opened_at: at(4, 9),
            deal: Some(DealId::new(1)),
        },
    );
    request
        .apply(RequestEventKind::Responded, at(4, 10))
        .expect("a response");
    let mut task = Task::create(
        TaskId::new(1),
        NewTask {
            customer: Some(c1),
            kind: TaskKind::FollowUp,
            title: Label::parse("call back").expect("a title"),
            due: at(5, 9).date_naive(),
            recurrence: Some(Recurrence::Monthly),
            created_at: at(4, 11),
        },
    );
    task.complete(at(5, 10)).expect("an occurrence done");
    let points = PointsEntry::new(
        PointsEntryId::new(1),
        NewPointsEntry::new(c1, at(2, 9), PointsKind::Earn, 500)
            .expect("points")
            .with_reason(Label::parse("first purchase").expect("a reason")),
        500,
    );
    let segment = Segment {
        name: Label::parse("vips").expect("a name"),
        predicate: Predicate::Tag(Tag::parse("vip").expect("a tag")),
    };
    let audit = AuditEntry {
        id: AuditId::new(1),
        at: at(6, 9),
        action: AuditAction::CustomerErased {
            customer: CustomerId::new(2),
        },
    };
    Book {
        ada,
        change,
        interaction,
        deal,
        purchase,
        refund,
        survey,
        request,
        task,
        points,
        segment,
        audit,
    }
}

fn store_book(tx: &mut dyn WriteTx, b: &Book) -> StoreResult<()> {
    tx.insert_customer(&b.ada)?;
    tx.insert_customer(&customer(2, "Grace"))?;
    tx.push_stage_change(&b.change)?;
    tx.insert_interaction(&b.interaction)?;
    tx.insert_deal(&b.deal)?;
    tx.insert_purchase(&b.purchase)?;
    tx.insert_refund(&b.refund)?;
    tx.insert_survey(&b.survey)?;
    tx.insert_request(&b.request)?;
    tx.insert_task(&b.task)?;
    tx.insert_points(&b.points)?;
    tx.insert_segment(&b.segment)?;
    tx.insert_audit(&b.audit)
}

#[test]
fn every_record_reads_back_exactly_as_stored() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    for store in [memory(), file(dir.path())] {
        let b = book();
        write(&store, |tx| store_book(tx, &b));
        read(&store, |tx| {
            let c1 = CustomerId::new(1);
            let of = ActivityQuery::customer(c1);
            assert_eq!(tx.customer(c1)?.as_ref(), Some(&b.ada));
            assert_eq!(
                tx.customer_by_email(&Email::parse("ada@example.COM").expect("an email"))?,
                Some(c1)
            );
            assert_eq!(
                tx.customer_by_external_ref(&ExternalRef::parse("A-1").expect("a reference"))?,
                Some(c1)
            );
            assert_eq!(tx.stage_history(c1)?, std::slice::from_ref(&b.change));
            assert_eq!(tx.interactions(&of)?, std::slice::from_ref(&b.interaction));
            assert_eq!(tx.deal(DealId::new(1))?.as_ref(), Some(&b.deal));
            assert_eq!(
                tx.deals(&OpenQuery::default())?,
                std::slice::from_ref(&b.deal)
            );
            assert_eq!(tx.purchase(PurchaseId::new(1))?.as_ref(), Some(&b.purchase));
            assert_eq!(
                tx.purchase_by_external_ref(&ExternalRef::parse("P-1").expect("a reference"))?,
                Some(PurchaseId::new(1))
            );
            assert_eq!(
                tx.purchases(&ActivityQuery::ALL)?,
                std::slice::from_ref(&b.purchase)
            );
            let summary = tx.purchase_summary(c1, at(10, 0))?;
            assert_eq!(summary.count, 1);
            assert_eq!(tx.purchase_summary(c1, at(1, 0))?.count, 0);
            assert_eq!(tx.purchase_log()?.at.len(), 1);
            assert_eq!(tx.refunds(&of)?, std::slice::from_ref(&b.refund));
            assert_eq!(
                tx.refunds_of(PurchaseId::new(1))?,
                std::slice::from_ref(&b.refund)
            );
            assert!(tx.refunds_of(PurchaseId::new(2))?.is_empty());
            assert_eq!(tx.surveys(&of)?, std::slice::from_ref(&b.survey));
            assert_eq!(tx.request(RequestId::new(1))?.as_ref(), Some(&b.request));
            assert_eq!(
                tx.requests(&OpenQuery::default())?,
                std::slice::from_ref(&b.request)
            );
            assert_eq!(tx.task(TaskId::new(1))?.as_ref(), Some(&b.task));
            assert_eq!(
                tx.tasks(&TaskQuery {
                    customer: Some(c1),
                    due_until: None,
                    include_done: true,
                })?,
                std::slice::from_ref(&b.task)
            );
            assert_eq!(tx.points_ledger(c1)?, std::slice::from_ref(&b.points));
            assert_eq!(tx.points_balance(c1)?, 500);
            assert_eq!(tx.points_balance(CustomerId::new(2))?, 0);
            assert_eq!(tx.segments()?, std::slice::from_ref(&b.segment));
            assert_eq!(tx.audit_log()?, std::slice::from_ref(&b.audit));
            assert_eq!(tx.count_customers()?, 2);
            assert_eq!(tx.customer_keys()?.len(), 2);
            // Missing records are none, not errors.
            assert_eq!(tx.customer(CustomerId::new(9))?, None);
            assert_eq!(tx.purchase(PurchaseId::new(9))?, None);
            assert_eq!(tx.deal(DealId::new(9))?, None);
            assert_eq!(tx.request(RequestId::new(9))?, None);
            assert_eq!(tx.task(TaskId::new(9))?, None);
            assert_eq!(tx.segment(&Label::parse("none").expect("a name"))?, None);
            Ok(())
        });
    }
}

#[test]
fn updates_replace_records_and_their_child_rows() {
    let store = memory();
    let b = book();
    write(&store, |tx| store_book(tx, &b));
    // What an erasure does, written through the primitives.
    let mut ada = b.ada.clone();
    ada.erase(at(7, 9));
    let mut interaction = b.interaction.clone();
    interaction.erase_text();
    let mut purchase = b.purchase.clone();
    purchase.erase_text();
    let mut refund = b.refund.clone();
    refund.erase_text();
    let mut survey = b.survey.clone();
    survey.erase_text();
    let mut deal = b.deal.clone();
    deal.erase_text();
    let mut request = b.request.clone();
    request
        .apply(RequestEventKind::Resolved, at(7, 8))
        .expect("resolved");
    request.erase_text();
    let mut task = b.task.clone();
    task.erase_text();
    task.complete(at(7, 8)).expect("another occurrence");
    let mut points = b.points.clone();
    points.erase_text();
    let history = vec![StageChange {
        reason: StageReason::Manual { note: None },
        ..b.change.clone()
    }];
    write(&store, |tx| {
        tx.update_customer(&ada)?;
        tx.rewrite_stage_history(ada.id(), &history)?;
        tx.update_interaction(&interaction)?;
        tx.update_purchase(&purchase)?;
        tx.update_refund(&refund)?;
        tx.update_survey(&survey)?;
        tx.update_deal(&deal)?;
        tx.update_request(&request)?;
        tx.update_task(&task)?;
        tx.update_points(&points)?;
        assert!(tx.delete_segment(&b.segment.name)?);
        assert!(!tx.delete_segment(&b.segment.name)?);
        tx.purge_after_commit()
    });
    read(&store, |tx| {
        let c1 = CustomerId::new(1);
        let of = ActivityQuery::customer(c1);
        assert_eq!(tx.customer(c1)?.as_ref(), Some(&ada));
        assert!(ada.tags().is_empty() && ada.consents().is_empty());
        assert_eq!(
            tx.customer_by_email(&Email::parse("ada@example.com").expect("e"))?,
            None
        );
        assert_eq!(tx.stage_history(c1)?, history);
        assert_eq!(tx.interactions(&of)?, std::slice::from_ref(&interaction));
        assert_eq!(tx.purchase(PurchaseId::new(1))?.as_ref(), Some(&purchase));
        assert_eq!(
            tx.refunds_of(PurchaseId::new(1))?,
            std::slice::from_ref(&refund)
        );
        assert_eq!(tx.surveys(&of)?, std::slice::from_ref(&survey));
        assert_eq!(tx.deal(DealId::new(1))?.as_ref(), Some(&deal));
        assert_eq!(tx.request(RequestId::new(1))?.as_ref(), Some(&request));
        assert_eq!(tx.task(TaskId::new(1))?.as_ref(), Some(&task));
        assert_eq!(tx.points_ledger(c1)?, std::slice::from_ref(&points));
        assert!(tx.segments()?.is_empty());
        assert!(
            tx.customers(&CustomerFilter::default(), None, 10)?
                .iter()
                .all(|c| c.id() != c1),
            "an erased customer is left out by default"
        );
        Ok(())
    });
}

#[test]
fn customers_list_by_filter_after_a_cursor_in_id_order() {
    let store = memory();
    let vip = Tag::parse("vip").expect("a tag");
    write(&store, |tx| {
        for id in 1..=9 {
            let mut c = customer(id, &format!("Customer {id}"));
            if id % 3 == 0 {
                c.add_tag(vip.clone());
            }
            if id == 6 {
                c.erase(at(2, 9));
            }
            tx.insert_customer(&c)?;
        }
        Ok(())
    });
    let ids = |filter: CustomerFilter, after: Option<u64>, limit: u32| -> Vec<u64> {
        read(&store, |tx| {
            tx.customers(&filter, after.map(CustomerId::new), limit)
        })
        .iter()
        .map(|c| c.id().get())
        .collect()
    };
    assert_eq!(ids(CustomerFilter::default(), None, 4), [1, 2, 3, 4]);
    assert_eq!(ids(CustomerFilter::default(), Some(4), 3), [5, 7, 8]);
    let all = CustomerFilter {
        include_erased: true,
        ..CustomerFilter::default()
    };
    assert_eq!(ids(all.clone(), Some(4), 3), [5, 6, 7]);
    let tagged = CustomerFilter {
        tag: Some(vip.clone()),
        ..CustomerFilter::default()
    };
    assert_eq!(ids(tagged, None, 10), [3, 9]);
    let tagged_prospects = CustomerFilter {
        stage: Some(LifecycleStage::Prospect),
        tag: Some(vip),
        include_erased: true,
    };
    // An erasure took customer 6's tags.
    assert_eq!(ids(tagged_prospects, Some(3), 10), [9]);
    let prospects = CustomerFilter {
        stage: Some(LifecycleStage::Prospect),
        tag: None,
        include_erased: true,
    };
    assert_eq!(ids(prospects, Some(4), 2), [5, 6]);
    let leads = CustomerFilter {
        stage: Some(LifecycleStage::Lead),
        ..CustomerFilter::default()
    };
    assert!(ids(leads, None, 10).is_empty());
    assert!(ids(all, Some(u64::MAX), 10).is_empty());
}

/// SQLite's schema cookie (every `CREATE` and `DROP` bumps it) and the purchase
/// indexes, read on a connection of our own.
fn schema(path: &Path) -> (i64, Vec<String>) {
    let conn = Connection::open(path).expect("a connection");
    let cookie = conn
        .pragma_query_value(None, "schema_version", |r| r.get(0))
        .expect("the cookie");
    let mut stmt = conn
        .prepare(
            "SELECT name || ': ' || coalesce(sql, '') FROM sqlite_schema \
             WHERE type = 'index' AND tbl_name = 'purchases' ORDER BY name",
        )
        .expect("the schema query");
    let indexes = stmt
        .query_map([], |r| r.get(0))
        .expect("rows")
        .collect::<rusqlite::Result<_>>()
        .expect("the indexes");
    (cookie, indexes)
}

/// As many purchases as make an import "big" (`BULK_PURCHASES` in
/// `port/activity.rs`).
const BULK: u64 = 8_192;

fn purchases_of(tx: &mut dyn WriteTx, n: u64, customers: u64) -> StoreResult<()> {
    let first = tx.next_id(IdKind::Purchase)?;
    for i in 0..n {
        let who = CustomerId::new(1 + (i * 7919) % customers);
        let mut p = NewPurchase::new(
            who,
            at(2, 9) + chrono::Duration::minutes(i64::try_from(i).expect("small")),
            eur(i64::try_from(i % 5_000).expect("small") + 1),
        );
        p.external_ref = Some(ExternalRef::parse(&format!("R-{}", first + i)).expect("a ref"));
        tx.insert_purchase(&Purchase::new(PurchaseId::new(first + i), p))?;
    }
    Ok(())
}

#[test]
fn a_big_import_rebuilds_the_purchase_indexes_before_its_commit() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let store = file(dir.path());
    let path = dir.path().join("crm.db");
    write(&store, |tx| {
        (1..=100).try_for_each(|id| tx.insert_customer(&customer(id, "Someone")))
    });
    let (cookie, indexes) = schema(&path);
    assert!(
        indexes
            .iter()
            .any(|i| i.starts_with("purchases_by_customer")),
        "{indexes:?}"
    );
    // A small import keeps its indexes: the hint is below the bulk size.
    write(&store, |tx| {
        tx.expect_purchases(10)?;
        purchases_of(tx, 10, 100)
    });
    assert_eq!(schema(&path), (cookie, indexes.clone()));
    // A big one refused by its last row: nothing written, the indexes as they were.
    let err = store
        .write(&mut |tx| {
            tx.expect_purchases(BULK)?;
            purchases_of(tx, BULK, 100)?;
            Err(stop())
        })
        .expect_err("refused");
    assert_eq!(err.kind(), StoreErrorKind::Backend);
    assert_eq!(schema(&path).1, indexes);
    assert_eq!(
        read(&store, |tx| tx.purchases(&ActivityQuery::ALL)).len(),
        10
    );
    // A big one that commits: dropped and rebuilt within the transaction.
    write(&store, |tx| {
        tx.expect_purchases(BULK)?;
        tx.expect_purchases(BULK)?;
        purchases_of(tx, BULK, 100)
    });
    let (after, rebuilt) = schema(&path);
    assert!(after > cookie, "the indexes were dropped and rebuilt");
    assert_eq!(rebuilt, indexes);
    assert_eq!(
        store.integrity_check().expect("the check"),
        Vec::<String>::new()
    );
    let total: usize = (1..=100)
        .map(|c| {
            read(&store, |tx| {
                tx.purchases(&ActivityQuery::customer(CustomerId::new(c)))
            })
            .len()
        })
        .sum();
    assert_eq!(total, 10 + usize::try_from(BULK).expect("small"));
}

#[test]
fn purge_after_commit_checkpoints_the_log() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let store = file(dir.path());
    let wal = dir.path().join("crm.db-wal");
    write(&store, |tx| tx.insert_customer(&customer(1, "Ada")));
    assert!(std::fs::metadata(&wal).expect("a log").len() > 0);
    let mut ada = customer(1, "Ada");
    ada.erase(at(2, 9));
    write(&store, |tx| {
        tx.update_customer(&ada)?;
        tx.purge_after_commit()
    });
    assert_eq!(
        std::fs::metadata(&wal).expect("a log").len(),
        0,
        "checkpointed and truncated"
    );
    assert_eq!(
        read(&store, |tx| tx.customer(CustomerId::new(1))),
        Some(ada)
    );
}

/// An import through the operations layer, in parts whose running total passes the
/// bulk size only in the second part, drops and rebuilds the indexes once, and
/// leaves every purchase findable.
#[test]
fn an_import_in_parts_through_the_operations_layer_takes_the_bulk_path() {
    use solocrm_core::Store;
    use solocrm_core::ops::Crm;
    use solocrm_core::store::{CustomerRef, ImportBatch};
    let dir = tempfile::tempdir().expect("a temporary directory");
    let store = file(dir.path());
    let path = dir.path().join("crm.db");
    write(&store, |tx| {
        (1..=100).try_for_each(|id| tx.insert_customer(&customer(id, "Someone")))
    });
    let (cookie, indexes) = schema(&path);
    let crm = Crm::new(store);
    let half = BULK / 2 + 1;
    let part = |offset: u64| {
        let purchases = (0..half)
            .map(|i| {
                let k = offset + i;
                let who = CustomerId::new(1 + (k * 7919) % 100);
                let mut p = NewPurchase::new(who, at(2, 9), eur(100));
                p.external_ref = Some(ExternalRef::parse(&format!("R-{k}")).expect("a ref"));
                (CustomerRef::Existing(who), p)
            })
            .collect();
        Ok(ImportBatch {
            purchases,
            ..ImportBatch::default()
        })
    };
    let mut parts = vec![part(0), part(half)].into_iter();
    let receipt = crm.import_parts(&mut parts).expect("the import");
    assert_eq!(receipt.purchases.len() as u64, 2 * half);
    let (after, rebuilt) = schema(&path);
    assert!(after > cookie, "the indexes were dropped and rebuilt");
    assert_eq!(rebuilt, indexes);
    let found: usize = (1..=100)
        .map(|c| {
            crm.purchases(&ActivityQuery::customer(CustomerId::new(c)))
                .expect("a customer's purchases")
                .len()
        })
        .sum();
    assert_eq!(found as u64, 2 * half);
}

/// Reads on their own connections do not change what closing the store leaves: the
/// writer closes last, checkpoints the log and deletes it, so the file alone holds
/// every commit (a copy of it is complete).
#[test]
fn closing_a_store_after_port_reads_leaves_no_log_behind() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let store = file(dir.path());
    write(&store, |tx| tx.insert_customer(&customer(1, "Ada")));
    assert_eq!(count(&store), 1);
    let (a, b) = std::thread::scope(|s| {
        let other = s.spawn(|| count(&store));
        (count(&store), other.join().expect("a reader"))
    });
    assert_eq!((a, b), (1, 1));
    drop(store);
    for side in ["crm.db-wal", "crm.db-shm"] {
        assert!(!dir.path().join(side).exists(), "{side} is left behind");
    }
    let store = SqliteStore::open(dir.path().join("crm.db")).expect("reopens");
    assert_eq!(count(&store), 1);
}

/// A bulk `record_purchases` drops the triggers that keep `purchase_totals` until its
/// commit (ADR 0046); the reads of the same write that would take the kept totals
/// (`purchase_summary`, `purchase_summaries`, `contact_times`) scan the purchases
/// meanwhile, so they see the batch.
#[test]
fn reads_after_a_bulk_import_in_the_same_write_see_the_imported_purchases() {
    use solocrm_core::Store;
    use solocrm_core::port::contact_times_from_records;
    let crm = solocrm_core::Crm::new(memory());
    let person = |name: &str| {
        crm.create_customer(NewCustomer::new(
            CustomerData::new(PersonName::parse(name).expect("a name")),
            at(1, 0),
        ))
        .expect("created")
        .id()
    };
    let (a, b) = (person("Ada Lovelace"), person("Grace Hopper"));
    crm.record_purchase(NewPurchase::new(a, at(1, 9), eur(100)))
        .expect("recorded");
    let many = 50_000;
    let batch: Vec<NewPurchase> = std::iter::once(NewPurchase::new(a, at(3, 9), eur(7)))
        .chain(
            (0..many).map(|i| NewPurchase::new(b, at(2, 0) + chrono::Duration::seconds(i), eur(1))),
        )
        .collect();
    let (one, all, contacts, scanned) = crm
        .write(|w| {
            w.record_purchases(batch.clone())?;
            let r = w.reader();
            let tx = r.tx();
            Ok((
                tx.purchase_summary(a, DateTime::<Utc>::MAX_UTC)?,
                tx.purchase_summaries(DateTime::<Utc>::MAX_UTC)?,
                tx.contact_times(at(2, 12), DateTime::<Utc>::MAX_UTC)?,
                contact_times_from_records(tx, at(2, 12), DateTime::<Utc>::MAX_UTC)?,
            ))
        })
        .expect("written");
    assert_eq!((one.count, one.total), (2, eur(107)), "{one:?}");
    assert_eq!(one.last_at, Some(at(3, 9)));
    let counts: Vec<(CustomerId, u64)> = all.iter().map(|(c, s)| (*c, s.count)).collect();
    assert_eq!(counts, [(a, 2), (b, many as u64)]);
    assert_eq!(contacts, scanned);
    // After the commit, the rebuilt totals say the same.
    let after = crm
        .read(|r| r.tx().purchase_summaries(DateTime::<Utc>::MAX_UTC))
        .expect("read");
    assert_eq!(after, all);
}

/// One customer's purchases past the 64-bit sum of `purchase_totals` (ADR 0046):
/// the write that would get there fails as a validation error and leaves nothing,
/// whether the insert trigger adds to the row or a bulk import's refill sums it.
#[test]
fn a_customer_total_past_the_kept_range_is_refused_as_invalid() {
    use solocrm_core::{Store, ValidationError};
    let crm = solocrm_core::Crm::new(memory());
    let c = crm
        .create_customer(NewCustomer::new(
            CustomerData::new(PersonName::parse("Ada Lovelace").expect("a name")),
            at(1, 0),
        ))
        .expect("created")
        .id();
    // The largest amount a purchase may have: 10^14 - 1 minor units.
    let largest = eur(99_999_999_999_999);
    let batch = |n: i64| -> Vec<NewPurchase> {
        (0..n)
            .map(|i| NewPurchase::new(c, at(2, 0) + chrono::Duration::seconds(i), largest))
            .collect()
    };
    // A batch names the row that went past (the one-by-one path) or not (the refill).
    let refused = |e: StoreError| {
        let cause = match &e {
            StoreError::Batch { error, .. } => error.as_ref(),
            other => other,
        };
        assert!(
            matches!(
                cause,
                StoreError::Validation(ValidationError::PurchaseTotalOutOfRange { .. })
            ),
            "{e:?}"
        );
        assert!(e.to_string().contains("minor units"), "{e}");
    };
    let purchases = |crm: &solocrm_core::Crm| {
        crm.read(|r| r.tx().purchases(&ActivityQuery::ALL))
            .expect("read")
            .len()
    };
    // 92,234 such purchases pass i64::MAX; a bulk import sums them at its end.
    refused(
        crm.record_purchases(batch(92_300))
            .expect_err("past the range"),
    );
    assert_eq!(purchases(&crm), 0, "nothing half-written");
    // Below the bulk size, the insert trigger adds one by one.
    let half = 46_200;
    crm.record_purchases(batch(half)).expect("within the range");
    refused(
        crm.record_purchases(batch(half))
            .expect_err("past the range"),
    );
    assert_eq!(purchases(&crm), half as usize);
    let total = crm
        .read(|r| r.tx().purchase_summary(c, DateTime::<Utc>::MAX_UTC))
        .expect("read");
    assert_eq!(total.count, half as u64);
}
