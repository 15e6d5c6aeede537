//! The transactional port (`solocrm_core::port::Storage`) of the PostgreSQL store: what
//! a write commits or leaves (also when its closure panics), what a read sees while
//! others write, a writer held up by another past the busy timeout, ids, the outbox,
//! and every record kind stored, updated and read back exactly. Adapted from the
//! SQLite store's `tests/port.rs`; each test on new books in a fresh schema.

mod common;

use std::sync::mpsc;
use std::sync::{Arc, Barrier};
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
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
use solocrm_store_postgres::{PgOptions, PgStore, TenantId};

fn at(day: u32, hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, day, hour, 0, 0)
        .single()
        .expect("a valid instant")
}

fn eur(minor: i64) -> Money {
    Money::from_minor(minor, Currency::EUR)
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
    let Some(pg) = common::server() else { return };
    let store = pg.store();
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
    let Some(pg) = common::server() else { return };
    // One connection, so the write after the panic runs on the connection the
    // panicking one left: its transaction must have been rolled back.
    let store = PgStore::create_with(
        pg.config(),
        TenantId::new(1).expect("a tenant"),
        Currency::EUR,
        &PgOptions::new().pool_size(1),
    )
    .expect("new books");
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
    let Some(pg) = common::server() else { return };
    let store = Arc::new(pg.store());
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
    let Some(pg) = common::server() else { return };
    let store = Arc::new(pg.store());
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
fn a_write_is_busy_while_another_connection_holds_the_tenants_lock() {
    let Some(pg) = common::server() else { return };
    drop(pg.store_of(1));
    let timeout = Duration::from_millis(200);
    let store = PgStore::open_with(
        pg.config(),
        TenantId::new(1).expect("a tenant"),
        &PgOptions::new().busy_timeout(timeout),
    )
    .expect("opens");
    let other_tenant = pg.store_of(2);
    let mut other = pg.client();
    other
        .batch_execute("BEGIN; SELECT 1 FROM tenants WHERE tenant_id = 1 FOR UPDATE")
        .expect("another connection takes the tenant's lock");
    let err = store
        .write(&mut |tx| tx.insert_customer(&customer(1, "Ada")))
        .expect_err("busy");
    assert!(
        matches!(err, StoreError::Busy { waited } if waited == timeout),
        "{err:?}"
    );
    assert_eq!(err.kind(), StoreErrorKind::Busy);
    // Reads do not wait for the lock, nor does another tenant's write.
    assert_eq!(count(&store), 0);
    write(&other_tenant, |tx| {
        tx.insert_customer(&customer(1, "Grace"))
    });
    other.batch_execute("ROLLBACK").expect("released");
    write(&store, |tx| tx.insert_customer(&customer(1, "Ada")));
    assert_eq!(count(&store), 1);
}

#[test]
fn next_id_is_one_more_than_the_largest_stored() {
    let Some(pg) = common::server() else { return };
    let store = pg.store();
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
    let Some(pg) = common::server() else { return };
    let store = pg.store();
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
fn the_events_survive_reopening() {
    let Some(pg) = common::server() else { return };
    let all = events(4);
    {
        let store = pg.store_of(1);
        write(&store, |tx| all.iter().try_for_each(|e| tx.append_event(e)));
    }
    let store = PgStore::open_with(
        pg.config(),
        TenantId::new(1).expect("a tenant"),
        &PgOptions::new(),
    )
    .expect("reopens");
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
    let Some(pg) = common::server() else { return };
    for store in [pg.store(), pg.store()] {
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
    let Some(pg) = common::server() else { return };
    let store = pg.store();
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
    let Some(pg) = common::server() else { return };
    let store = pg.store();
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

/// Customer search: the candidates are every live customer whose name, email,
/// company, city or notes hold the text in any case (the Kelvin sign folding to `k`,
/// as the search folds it), and never an erased one.
#[test]
fn search_finds_live_customers_by_their_text_in_any_case() {
    let Some(pg) = common::server() else { return };
    let store = pg.store();
    let kelvin = customer(1, "\u{212A}elvin Smith");
    let ada = customer(2, "Ada Lovelace");
    let gone = customer(3, "Ada Gone");
    write(&store, |tx| {
        tx.insert_customer(&kelvin)?;
        tx.insert_customer(&ada)?;
        tx.insert_customer(&gone)
    });
    let mut erased = gone.clone();
    erased.erase(at(2, 9));
    write(&store, |tx| tx.update_customer(&erased));
    let search = |text: &str| {
        let text = solocrm_core::SearchText::parse(text).expect("a text");
        read(&store, |tx| tx.search_customers(&text))
    };
    assert_eq!(search("kelvin"), vec![CustomerId::new(1)]);
    assert_eq!(search("ADA"), vec![CustomerId::new(2)]);
    assert_eq!(search("love"), vec![CustomerId::new(2)]);
    assert_eq!(search("50%"), Vec::<CustomerId>::new());
    assert_eq!(search("Gone"), Vec::<CustomerId>::new());
    assert_eq!(search("erased"), Vec::<CustomerId>::new());
}
