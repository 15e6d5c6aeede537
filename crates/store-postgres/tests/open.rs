//! Opening and creating books: the schema is made once and migrations are idempotent,
//! a tenant is created once and opened after, a missing tenant and a newer schema are
//! refused (the newer one untouched), and books keep their currency and book id.

mod common;

use solocrm_core::port::Storage;
use solocrm_core::{Currency, Store};
use solocrm_store_postgres::{OpenError, PgOptions, PgStore, SCHEMA_VERSION, TenantId};

fn tenant(n: i64) -> TenantId {
    TenantId::new(n).expect("a tenant")
}

#[test]
fn books_are_created_once_and_opened_after() {
    let Some(pg) = common::server() else { return };
    let options = PgOptions::new();
    let a = PgStore::create_with(pg.config(), tenant(3), Currency::JPY, &options).expect("created");
    assert_eq!(a.tenant(), tenant(3));
    let id = a.book_id().expect("a book id");
    assert_eq!(id.len(), 16);
    assert!(id.chars().all(|c| c.is_ascii_hexdigit()));
    let again = PgStore::create_with(pg.config(), tenant(3), Currency::EUR, &options);
    assert!(matches!(again, Err(OpenError::Tenant(_))), "{again:?}");
    let b = PgStore::open_with(pg.config(), tenant(3), &options).expect("opened");
    assert_eq!(b.base_currency(), Currency::JPY);
    assert_eq!(b.book_id().expect("its id"), id);
    let other = PgStore::create_with(pg.config(), tenant(4), Currency::EUR, &options)
        .expect("a second tenant");
    assert_ne!(other.book_id().expect("its id"), id);
    other.adopt_book_id(&id).expect("adopted");
    assert_eq!(other.book_id().expect("its id"), id);
    assert_eq!(
        b.book_id().expect("its id"),
        id,
        "the other tenant's is unchanged"
    );
    assert!(other.adopt_book_id("NOT-AN-ID").is_err());
    let missing = PgStore::open_with(pg.config(), tenant(5), &options);
    assert!(matches!(missing, Err(OpenError::Tenant(_))), "{missing:?}");
    let mut client = pg.client();
    let version: i32 = client
        .query_one("SELECT version FROM solocrm_schema", &[])
        .expect("the version")
        .get(0);
    assert_eq!(version, SCHEMA_VERSION);
    let rows: i64 = client
        .query_one("SELECT count(*) FROM solocrm_schema", &[])
        .expect("a count")
        .get(0);
    assert_eq!(rows, 1, "migrated once");
}

#[test]
fn a_newer_schema_is_refused_untouched() {
    let Some(pg) = common::server() else { return };
    let crm = solocrm_core::Crm::new(pg.store_of(1));
    assert_eq!(crm.count_customers().expect("a count"), 0);
    drop(crm);
    let mut client = pg.client();
    client
        .execute(
            "UPDATE solocrm_schema SET version = $1",
            &[&(SCHEMA_VERSION + 1)],
        )
        .expect("a newer version");
    let err =
        PgStore::open_with(pg.config(), tenant(1), &PgOptions::new()).expect_err("a newer schema");
    assert!(
        matches!(err, OpenError::NewerSchema { found, supported }
            if found == SCHEMA_VERSION + 1 && supported == SCHEMA_VERSION),
        "{err:?}"
    );
    let version: i32 = client
        .query_one("SELECT version FROM solocrm_schema", &[])
        .expect("the version")
        .get(0);
    assert_eq!(version, SCHEMA_VERSION + 1, "left as it was");
}

#[test]
fn a_bad_location_is_refused_before_connecting() {
    for bad in [
        "sqlite:books.db",
        "postgres://h/db?tenant=0",
        "postgres://h/db?tenant=x",
    ] {
        let err = PgStore::open(bad).expect_err("refused");
        assert!(matches!(err, OpenError::BadUrl(_)), "{bad}: {err:?}");
    }
    let err = PgStore::open("postgres://nobody@127.0.0.1:1/none?connect_timeout=2")
        .expect_err("nothing listens there");
    assert!(matches!(err, OpenError::Connect(_)), "{err:?}");
}

/// A segment whose stored condition does not decode is left out of the list and
/// named, with the reason, by `unreadable_segments`.
#[test]
fn an_unreadable_segment_is_left_out_and_named() {
    use solocrm_core::{Cmp, Comparison, Label, Predicate, Segment};
    let Some(pg) = common::server() else { return };
    let store = std::sync::Arc::new(pg.store_of(1));
    let crm = solocrm_core::Crm::from_shared(store.clone());
    for name in ["fine", "broken"] {
        crm.create_segment(Segment {
            name: Label::parse(name).expect("a label"),
            predicate: Predicate::PurchaseCount(Comparison {
                op: Cmp::Ge,
                value: 1,
            }),
        })
        .expect("saved");
    }
    assert!(store.unreadable_segments().expect("read").is_empty());
    pg.client()
        .execute(
            "UPDATE segments SET predicate = '{\"no\": 1}' WHERE name = 'broken'",
            &[],
        )
        .expect("broken by hand");
    let names: Vec<String> = crm
        .segments()
        .expect("the list")
        .into_iter()
        .map(|s| s.name.to_string())
        .collect();
    assert_eq!(names, ["fine"]);
    let bad = store.unreadable_segments().expect("read");
    assert_eq!(bad.len(), 1, "{bad:?}");
    assert_eq!(bad[0].0, "broken");
    assert!(bad[0].1.contains("segments.predicate"), "{bad:?}");
}

/// Books written under schema version 1 are migrated to the current version when
/// opened, and every row reads back as before: not voided, no deal notes or lost
/// reason, no task cancelled, no tiers, no costs.
#[test]
fn a_version_1_schema_is_migrated_and_its_rows_read_back_unchanged() {
    use solocrm_core::ActivityQuery;
    use solocrm_core::port::ReadTx;
    use solocrm_core::{CustomerId, DealId, InteractionId, PurchaseId, SurveyId, TaskId};

    let Some(pg) = common::server() else { return };
    let mut client = pg.client();
    client
        .batch_execute(include_str!("../migrations/0001_books.sql"))
        .expect("version 1");
    client
        .batch_execute(
            "INSERT INTO solocrm_schema (version) VALUES (1);
             INSERT INTO tenants (tenant_id, base_currency, book_id)
                 VALUES (7, 'EUR', '0123456789abcdef');
             INSERT INTO customers (tenant_id, id, name, notes, created_at, created_at_ns, stage)
                 VALUES (7, 1, 'Ada Lovelace', 'likes tea', 1700000000, 0, 'active');
             INSERT INTO purchases (tenant_id, id, customer_id, at, at_ns, amount)
                 VALUES (7, 1, 1, 1700000100, 0, 1250);
             INSERT INTO interactions (tenant_id, id, customer_id, channel, direction, at,
                 at_ns, summary) VALUES (7, 1, 1, 'email', 'inbound', 1700000200, 0, 'hello');
             INSERT INTO surveys (tenant_id, id, customer_id, at, at_ns, kind, score)
                 VALUES (7, 1, 1, 1700000300, 0, 'nps', 9);
             INSERT INTO deals (tenant_id, id, customer_id, title, value, created_at,
                 created_at_ns, initial_stage, stage)
                 VALUES (7, 1, 1, 'Tea', 5000, 1700000400, 0, 'contacted', 'contacted');
             INSERT INTO tasks (tenant_id, id, customer_id, kind, title, due, created_at,
                 created_at_ns, occurrence, done)
                 VALUES (7, 1, 1, 'follow_up', 'Call', '2023-12-01', 1700000500, 0, 0, false);",
        )
        .expect("version 1 rows");
    let store =
        PgStore::open_with(pg.config(), tenant(7), &PgOptions::new()).expect("opened, migrated");
    let version: i32 = client
        .query_one("SELECT version FROM solocrm_schema", &[])
        .expect("the version")
        .get(0);
    assert_eq!(version, SCHEMA_VERSION);
    store
        .read(&mut |tx: &dyn ReadTx| {
            let purchase = tx
                .purchase(PurchaseId::new(1))
                .expect("read")
                .expect("kept");
            assert!(!purchase.is_void());
            assert_eq!(
                tx.purchases(&ActivityQuery::EVERYTHING)
                    .expect("read")
                    .len(),
                1
            );
            let interaction = tx
                .interaction(InteractionId::new(1))
                .expect("read")
                .expect("kept");
            assert!(!interaction.is_void());
            let survey = tx.survey(SurveyId::new(1)).expect("read").expect("kept");
            assert!(!survey.is_void());
            let deal = tx.deal(DealId::new(1)).expect("read").expect("kept");
            assert!(deal.notes().is_empty() && deal.lost_reason().is_none());
            let task = tx.task(TaskId::new(1)).expect("read").expect("kept");
            assert!(task.cancelled_at().is_none());
            assert!(tx.points_tiers().expect("read").is_empty());
            assert!(tx.costs().expect("read").is_empty());
            let found = tx
                .search_customers(&solocrm_core::SearchText::parse("LOVE").expect("a text"))
                .expect("searched");
            assert_eq!(found, vec![CustomerId::new(1)]);
            Ok(())
        })
        .expect("read back");
}

/// Books of two tenants written under schema version 4 (purchases in one table) are
/// migrated to version 5 (purchases partitioned by tenant, ADR 0019): every purchase
/// is read back by its tenant only, each tenant with purchases has its partition with
/// the parent's keys and index, and the refunds' foreign key to purchases still holds.
#[test]
fn a_version_4_schema_is_migrated_to_purchases_partitioned_by_tenant() {
    use solocrm_core::ActivityQuery;
    use solocrm_core::PurchaseId;
    use solocrm_core::port::ReadTx;

    let Some(pg) = common::server() else { return };
    let mut client = pg.client();
    for sql in [
        include_str!("../migrations/0001_books.sql"),
        include_str!("../migrations/0002_ledger_voids_relations.sql"),
        include_str!("../migrations/0003_search_index.sql"),
        include_str!("../migrations/0004_rules.sql"),
    ] {
        client
            .batch_execute(sql)
            .expect("a migration of version 1 to 4");
    }
    client
        .batch_execute(
            "INSERT INTO solocrm_schema (version) VALUES (4);
             INSERT INTO tenants (tenant_id, base_currency, book_id)
                 VALUES (7, 'EUR', '0123456789abcdef'), (8, 'CNY', 'fedcba9876543210');
             INSERT INTO customers (tenant_id, id, name, notes, created_at, created_at_ns, stage)
                 VALUES (7, 1, 'Ada Lovelace', '', 1700000000, 0, 'active'),
                        (8, 1, '王芳', '', 1700000000, 0, 'active');
             INSERT INTO purchases (tenant_id, id, customer_id, at, at_ns, amount, external_ref)
                 VALUES (7, 1, 1, 1700000100, 0, 1250, 'A-1'), (7, 2, 1, 1700000200, 5, 990, NULL),
                        (8, 1, 1, 1700000300, 0, 88800, 'A-1');
             INSERT INTO refunds (tenant_id, id, purchase_id, customer_id, at, at_ns, amount)
                 VALUES (8, 1, 1, 1, 1700000400, 0, 800);",
        )
        .expect("version 4 rows");
    let store =
        PgStore::open_with(pg.config(), tenant(7), &PgOptions::new()).expect("opened, migrated");
    let version: i32 = client
        .query_one("SELECT version FROM solocrm_schema", &[])
        .expect("the version")
        .get(0);
    assert_eq!(version, SCHEMA_VERSION);
    store
        .read(&mut |tx: &dyn ReadTx| {
            let all = tx.purchases(&ActivityQuery::EVERYTHING).expect("read");
            assert_eq!(all.len(), 2);
            assert_eq!(
                tx.purchase(PurchaseId::new(2))
                    .expect("read")
                    .map(|p| p.at().timestamp_subsec_nanos()),
                Some(5)
            );
            assert_eq!(
                tx.purchase_by_external_ref(
                    &solocrm_core::ExternalRef::parse("A-1").expect("a ref")
                )
                .expect("read"),
                Some(PurchaseId::new(1))
            );
            Ok(())
        })
        .expect("read back");
    let kind: String = client
        .query_one(
            "SELECT relkind::text FROM pg_class WHERE oid = 'purchases'::regclass",
            &[],
        )
        .expect("the table")
        .get(0);
    assert_eq!(kind, "p", "purchases is partitioned");
    let parts: Vec<(String, i64, i64)> = client
        .query(
            "SELECT c.relname::text, \
             (SELECT count(*) FROM purchases p WHERE p.tableoid = c.oid), \
             (SELECT count(*) FROM pg_index x JOIN pg_inherits ii ON ii.inhrelid = x.indexrelid \
              WHERE x.indrelid = c.oid) \
             FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid \
             WHERE i.inhparent = 'purchases'::regclass ORDER BY 1",
            &[],
        )
        .expect("the partitions")
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    assert_eq!(
        parts,
        vec![
            ("purchases_t7".to_owned(), 2, 3),
            ("purchases_t8".to_owned(), 1, 3)
        ],
        "one partition per tenant with purchases, each with the key, the unique reference and the customer index"
    );
    let orphan = client.batch_execute(
        "INSERT INTO refunds (tenant_id, id, purchase_id, customer_id, at, at_ns, amount)
             VALUES (8, 2, 2, 1, 1700000500, 0, 100)",
    );
    assert!(
        orphan.is_err(),
        "a refund of a purchase that is not there is refused"
    );
    let clash = client.batch_execute(
        "INSERT INTO purchases (tenant_id, id, customer_id, at, at_ns, amount, external_ref)
             VALUES (8, 2, 1, 1700000600, 0, 1, 'A-1')",
    );
    assert!(clash.is_err(), "a tenant's references stay unique");
}

/// A bulk load into a tenant without purchases loads its partition unattached and
/// attaches it at the end: afterwards the partition has every key, index and foreign
/// key of the parent (attached to the parent's), and enforces them.
#[test]
fn a_bulk_load_into_a_new_tenant_attaches_a_keyed_and_indexed_partition() {
    use solocrm_core::{Crm, CustomerData, Money, NewCustomer, NewPurchase, PersonName};
    let Some(pg) = common::server() else { return };
    pg.set_bulk_from(1);
    let crm = Crm::new(pg.store_of(41));
    let at = |s: i64| chrono::DateTime::from_timestamp(1_700_000_000 + s, 0).expect("an instant");
    let who = crm
        .create_customer(NewCustomer::new(
            CustomerData::new(PersonName::parse("李娜").expect("a name")),
            at(0),
        ))
        .expect("a customer")
        .id();
    let batch: Vec<NewPurchase> = (0..50)
        .map(|i| NewPurchase::new(who, at(i + 1), Money::from_minor(100 + i, Currency::EUR)))
        .collect();
    let ids = crm.record_purchases(batch).expect("recorded");
    assert_eq!(ids.len(), 50);
    let mut client = pg.client();
    let row = client
        .query_one(
            "SELECT (SELECT count(*) FROM purchases_t41), \
             (SELECT count(*) FROM pg_index x JOIN pg_inherits ii ON ii.inhrelid = x.indexrelid \
              WHERE x.indrelid = 'purchases_t41'::regclass), \
             (SELECT count(*) FROM pg_constraint WHERE conrelid = 'purchases_t41'::regclass \
              AND contype = 'f' AND conparentid <> 0)",
            &[],
        )
        .expect("the partition");
    let (rows, indexes, fks): (i64, i64, i64) = (row.get(0), row.get(1), row.get(2));
    assert_eq!((rows, indexes, fks), (50, 3, 2));
    let orphan = client.batch_execute(
        "INSERT INTO purchases (tenant_id, id, customer_id, at, at_ns, amount)
             VALUES (41, 51, 999, 1700000600, 0, 1)",
    );
    assert!(orphan.is_err(), "the partition checks the customer");
}

/// A bulk load into a new tenant that fails after its staged partition received rows
/// (the row after the first 10 000-row `COPY` names no customer) leaves no table and
/// no purchase behind; the same load without that row then succeeds.
#[test]
fn a_failed_bulk_load_into_a_new_tenant_leaves_no_partition() {
    use solocrm_core::{
        Crm, CustomerData, CustomerId, Money, NewCustomer, NewPurchase, PersonName,
    };
    let Some(pg) = common::server() else { return };
    pg.set_bulk_from(1);
    let crm = Crm::new(pg.store_of(42));
    let at = |s: i64| chrono::DateTime::from_timestamp(1_700_000_000 + s, 0).expect("an instant");
    let who = crm
        .create_customer(NewCustomer::new(
            CustomerData::new(PersonName::parse("张伟").expect("a name")),
            at(0),
        ))
        .expect("a customer")
        .id();
    let mut batch: Vec<NewPurchase> = (0..10_050)
        .map(|i| NewPurchase::new(who, at(i + 1), Money::from_minor(100 + i, Currency::EUR)))
        .collect();
    batch[10_020].customer = CustomerId::new(999);
    assert!(
        crm.record_purchases(batch.clone()).is_err(),
        "an unknown customer"
    );
    let mut client = pg.client();
    let tables: i64 = client
        .query_one(
            "SELECT count(*) FROM pg_class WHERE relname = 'purchases_t42'",
            &[],
        )
        .expect("the catalog")
        .get(0);
    assert_eq!(tables, 0, "the staged table went with the rollback");
    batch[10_020].customer = who;
    assert_eq!(crm.record_purchases(batch).expect("recorded").len(), 10_050);
    let stored: i64 = client
        .query_one("SELECT count(*) FROM purchases WHERE tenant_id = 42", &[])
        .expect("the purchases")
        .get(0);
    assert_eq!(stored, 10_050);
}

/// A survey sheet written under schema version 14 (before sheets could be voided) is
/// migrated to version 15 (ADR 0050): it reads back as it was, not void, and can then
/// be voided.
#[test]
fn a_version_14_survey_sheet_is_migrated_and_reads_back_not_void() {
    use chrono::{TimeZone, Utc};
    use solocrm_core::questionnaire::{
        Answer, AnswerValue, Answering, CollectionMethod, Question, Scale, SurveySheet,
        SurveyTemplate,
    };
    use solocrm_core::{Crm, CustomerData, Label, NewCustomer, PersonName, Tag, Void};

    let Some(pg) = common::server() else { return };
    let at = |hour: u32| {
        Utc.with_ymd_and_hms(2026, 3, 2, hour, 0, 0)
            .single()
            .expect("valid")
    };
    let options = PgOptions::new();
    let crm = Crm::new(
        PgStore::create_with(pg.config(), tenant(7), Currency::CNY, &options).expect("created"),
    );
    let name = Tag::parse("老客回访").expect("a name");
    let template = SurveyTemplate::new(
        name.clone(),
        vec![Question {
            text: Label::parse("服务态度如何？").expect("a text"),
            dimension: Label::parse("服务质量").expect("a dimension"),
            answering: Answering::Score {
                scale: Scale::new(1, 5).expect("a scale"),
                role: None,
            },
        }],
    )
    .expect("a template");
    crm.add_survey_template(template).expect("added");
    let c = crm
        .create_customer(NewCustomer::new(
            CustomerData::new(PersonName::parse("王伟").expect("a name")),
            at(1),
        ))
        .expect("created");
    let sheet = crm
        .record_survey_sheet(SurveySheet {
            template: name,
            customer: c.id(),
            at: at(9),
            method: CollectionMethod::Phone,
            answers: vec![Answer {
                question: 1,
                value: AnswerValue::Score(4),
            }],
            void: None,
        })
        .expect("recorded");
    drop(crm);
    // Back to version 14: the sheet as that schema held it, without the void column.
    let mut client = pg.client();
    client
        .batch_execute(
            "ALTER TABLE survey_sheets DROP COLUMN voided;
             UPDATE solocrm_schema SET version = 14;",
        )
        .expect("version 14");
    let crm = Crm::new(PgStore::open_with(pg.config(), tenant(7), &options).expect("migrated"));
    let version: i32 = client
        .query_one("SELECT version FROM solocrm_schema", &[])
        .expect("the version")
        .get(0);
    assert_eq!(version, SCHEMA_VERSION);
    let read = crm.survey_sheets(None).expect("read");
    assert_eq!(
        read,
        vec![sheet.clone()],
        "a sheet of version 14 is not void"
    );
    assert!(!read[0].is_void());
    let voided = crm
        .void_survey_sheet(&sheet.key(), Void::at(at(10)))
        .expect("voided");
    assert!(voided.is_void());
    assert_eq!(crm.survey_sheets(None).expect("read"), vec![voided]);
}
