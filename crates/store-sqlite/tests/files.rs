//! The store on real files: creating and opening, permissions, durability settings,
//! the conformance suite on files, hostile input, erasure that leaves no trace, and
//! corrupt rows.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc};
use rusqlite::Connection;
use solocrm_core::text::MAX_FREE_TEXT_BYTES;
use solocrm_core::{
    ActivityQuery, Channel, Crm, Currency, CustomerData, CustomerId, CustomerQuery, DealStage,
    Direction, Email, ExternalRef, FreeText, Label, Money, NewCustomer, NewDeal, NewInteraction,
    NewPointsEntry, NewPurchase, NewRefund, NewServiceRequest, NewSurveyResponse, NewTask,
    PersonName, Phone, PointsKind, Predicate, RequestKind, Segment, StageReason, Store,
    StoreErrorKind, SurveyKind, SurveyScore, Tag, TaskKind, ValidationError,
};
use solocrm_store_sqlite::{OpenError, SqliteOptions, SqliteStore, Synchronous};

fn at(day: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 2, day, 10, 0, 0)
        .single()
        .expect("valid")
}

fn eur(minor: i64) -> Money {
    Money::from_minor(minor, Currency::EUR)
}

fn temp() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("crm.db");
    (dir, path)
}

fn person(name: &str) -> CustomerData {
    CustomerData::new(PersonName::parse(name).expect("a valid name"))
}

fn sidecar(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

// ----- creating and opening -----

#[cfg(unix)]
#[test]
fn a_new_database_and_its_log_are_readable_by_the_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let (_dir, path) = temp();
    let store = Crm::new(SqliteStore::create(&path, Currency::EUR).expect("created"));
    store
        .create_customer(NewCustomer::new(person("Ada"), at(1)))
        .expect("a write, so the log exists");
    for p in [path.clone(), sidecar(&path, "-wal"), sidecar(&path, "-shm")] {
        let mode = std::fs::metadata(&p)
            .expect("the file exists")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{}", p.display());
    }
}

/// The log and shared-memory files SQLite creates when a closed database is opened
/// again (by `open`, or by a migration's write) are 0600 like the database itself.
#[cfg(unix)]
#[test]
fn a_reopened_database_makes_its_log_readable_by_the_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let (dir, path) = temp();
    let old = dir.path().join("old.db");
    drop(SqliteStore::create(&path, Currency::EUR).expect("created"));
    solocrm_store_sqlite::create_at_schema_version(&old, Currency::EUR, 1).expect("an old file");
    for db in [&path, &old] {
        for suffix in ["-wal", "-shm"] {
            assert!(
                !sidecar(db, suffix).exists(),
                "closing removed {suffix} of {}",
                db.display()
            );
        }
        let store = Crm::new(SqliteStore::open(db).expect("opens (and migrates)"));
        store
            .create_customer(NewCustomer::new(person("Ada"), at(1)))
            .expect("a write, so the log exists");
        for p in [db.to_path_buf(), sidecar(db, "-wal"), sidecar(db, "-shm")] {
            let mode = std::fs::metadata(&p)
                .expect("the file exists")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "{}", p.display());
        }
    }
}

#[test]
fn creating_over_an_existing_file_is_refused_and_leaves_it_alone() {
    let (_dir, path) = temp();
    std::fs::write(&path, b"precious").expect("a file");
    let err = SqliteStore::create(&path, Currency::EUR).expect_err("refused");
    assert!(matches!(err, OpenError::AlreadyExists { .. }), "{err:?}");
    assert!(
        err.to_string()
            .ends_with("already exists; open it instead of creating it")
    );
    assert_eq!(std::fs::read(&path).expect("still there"), b"precious");
}

#[test]
fn opening_a_missing_file_is_refused_and_creates_nothing() {
    let (_dir, path) = temp();
    let err = SqliteStore::open(&path).expect_err("refused");
    assert!(matches!(err, OpenError::NotFound { .. }), "{err:?}");
    assert!(!path.exists());
}

#[test]
fn a_file_that_is_not_a_solocrm_database_is_refused_untouched() {
    let (dir, path) = temp();
    std::fs::write(&path, vec![0x42_u8; 8192]).expect("junk");
    assert!(matches!(
        SqliteStore::open(&path),
        Err(OpenError::NotSolocrm)
    ));
    assert_eq!(std::fs::read(&path).expect("junk"), vec![0x42_u8; 8192]);

    let empty = dir.path().join("empty.db");
    std::fs::write(&empty, b"").expect("an empty file");
    assert!(matches!(
        SqliteStore::open(&empty),
        Err(OpenError::NotSolocrm)
    ));

    let foreign = dir.path().join("other-app.db");
    Connection::open(&foreign)
        .and_then(|c| c.execute_batch("CREATE TABLE notes (body TEXT); PRAGMA user_version = 1;"))
        .expect("another application's database");
    let before = std::fs::read(&foreign).expect("bytes");
    let err = SqliteStore::open(&foreign).expect_err("refused");
    assert_eq!(err.to_string(), "the file is not a solocrm database");
    assert_eq!(std::fs::read(&foreign).expect("bytes"), before);
}

#[test]
fn a_reopened_database_has_its_data_and_currency() {
    let (_dir, path) = temp();
    let store = Crm::new(SqliteStore::create(&path, Currency::JPY).expect("created"));
    let ada = store
        .create_customer(NewCustomer::new(person("Ada"), at(1)))
        .expect("Ada");
    store
        .record_purchase(NewPurchase::new(
            ada.id(),
            at(2),
            Money::from_minor(1500, Currency::JPY),
        ))
        .expect("a purchase");
    drop(store);
    let file = Arc::new(SqliteStore::open(&path).expect("reopened"));
    let store = Crm::from_shared(file.clone());
    assert_eq!(store.base_currency(), Currency::JPY);
    assert_eq!(file.path(), Some(path.as_path()));
    assert_eq!(store.customer(ada.id()).expect("Ada"), ada);
    let p = store.purchases(&ActivityQuery::ALL).expect("purchases");
    assert_eq!(p[0].amount().to_string(), "1500 JPY");
}

/// A book created when any three letters passed as a currency (before `Currency::parse`
/// took only active ISO 4217 codes) still opens, with its currency, instead of being
/// called corrupt.
#[test]
fn a_book_in_a_currency_no_longer_accepted_still_opens() {
    let (_dir, path) = temp();
    let store = Crm::new(SqliteStore::create(&path, Currency::EUR).expect("created"));
    let ada = store
        .create_customer(NewCustomer::new(person("Ada"), at(1)))
        .expect("Ada");
    store
        .record_purchase(NewPurchase::new(ada.id(), at(2), eur(1250)))
        .expect("a purchase");
    drop(store);
    let conn = Connection::open(&path).expect("raw connection");
    conn.execute(
        "UPDATE store_info SET base_currency = 'XYZ' WHERE id = 1",
        [],
    )
    .expect("an old currency");
    drop(conn);
    assert!(
        Currency::parse("XYZ").is_err(),
        "XYZ is not an ISO 4217 code"
    );

    let store = Crm::new(SqliteStore::open(&path).expect("an XYZ book opens"));
    assert_eq!(store.base_currency().as_str(), "XYZ");
    let customers = store
        .list_customers(&CustomerQuery::default())
        .expect("its customers")
        .items;
    assert_eq!(customers.len(), 1);
    assert_eq!(customers[0].name().as_str(), "Ada");
    let purchases = store.purchases(&ActivityQuery::ALL).expect("its purchases");
    assert_eq!(purchases[0].amount().to_string(), "12.50 XYZ");
}

#[test]
fn full_synchronous_mode_and_a_busy_timeout_can_be_chosen() {
    let (_dir, path) = temp();
    let options = SqliteOptions::new()
        .synchronous(Synchronous::Full)
        .busy_timeout(std::time::Duration::from_millis(250));
    let store =
        Crm::new(SqliteStore::create_with(&path, Currency::EUR, &options).expect("created"));
    store
        .create_customer(NewCustomer::new(person("Ada"), at(1)))
        .expect("a write");
    drop(store);
    let file = Arc::new(SqliteStore::open_with(&path, &options).expect("reopened"));
    let store = Crm::from_shared(file.clone());
    assert_eq!(store.count_customers().expect("count"), 1);
    file.checkpoint().expect("a checkpoint");
    assert_eq!(
        std::fs::metadata(sidecar(&path, "-wal"))
            .map(|m| m.len())
            .unwrap_or(0),
        0,
        "the checkpoint empties the log"
    );
}

// ----- hostile input -----

#[test]
fn hostile_text_round_trips_byte_for_byte_through_a_file() {
    let (_dir, path) = temp();
    let store = Crm::new(SqliteStore::create(&path, Currency::EUR).expect("created"));
    let names = [
        "O'Brien",
        "'); DROP TABLE customers; --",
        "Robert\"; DELETE FROM purchases WHERE 1=1; --",
        "山田 太郎 🎉",
        "Zoë 👩‍👩‍👧 Ådne",
        "%_\\ LIKE wildcards",
    ];
    let notes = [
        "  leading and trailing whitespace  ",
        "\n\ttabs and\r\nline breaks\n",
        "'; DROP TABLE customers; --",
        "🎉😀 emoji, 中文, العربية, עברית",
    ];
    let mut ids = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let mut data = person(name);
        data.notes = FreeText::parse(notes[i % notes.len()]).expect("valid notes");
        data.external_ref = Some(ExternalRef::parse(name).expect("a valid reference"));
        data.company = Some(Label::parse(name).expect("a valid label"));
        let c = store
            .create_customer(NewCustomer::new(data, at(1)))
            .expect("created");
        ids.push(c.id());
    }
    // A note of exactly the limit, 1 MiB.
    let mut big = person("Big Notes");
    let mb = "ü".repeat(MAX_FREE_TEXT_BYTES / 2);
    big.notes = FreeText::parse(&mb).expect("1 MiB is allowed");
    let big = store
        .create_customer(NewCustomer::new(big, at(1)))
        .expect("created");
    drop(store);

    let file = Arc::new(SqliteStore::open(&path).expect("reopened"));
    let store = Crm::from_shared(file.clone());
    for (i, (id, name)) in ids.iter().zip(names).enumerate() {
        let c = store.customer(*id).expect("read back");
        assert_eq!(c.name().as_str(), name);
        assert_eq!(c.data().notes.as_str(), notes[i % notes.len()]);
        assert_eq!(c.data().company.as_ref().map(Label::as_str), Some(name));
        let by_ref = store
            .customer_by_external_ref(&ExternalRef::parse(name).expect("valid"))
            .expect("look-up");
        assert_eq!(by_ref.map(|c| c.id()), Some(*id));
    }
    let big = store.customer(big.id()).expect("read back");
    assert_eq!(big.data().notes.as_str().len(), MAX_FREE_TEXT_BYTES);
    assert_eq!(big.data().notes.as_str(), mb);
    assert_eq!(
        store.count_customers().expect("count"),
        names.len() as u64 + 1,
        "no statement was injected"
    );
    assert_eq!(file.integrity_check().expect("check"), Vec::<String>::new());
}

#[test]
fn nul_bytes_and_oversized_text_are_refused_by_the_domain_before_the_store() {
    assert!(matches!(
        PersonName::parse("Ada\0Lovelace"),
        Err(ValidationError::ForbiddenCharacter { .. })
    ));
    assert!(matches!(
        FreeText::parse("notes\0with a NUL"),
        Err(ValidationError::ForbiddenCharacter { .. })
    ));
    assert!(matches!(
        FreeText::parse(&"x".repeat(MAX_FREE_TEXT_BYTES + 1)),
        Err(ValidationError::TooLong { .. })
    ));
    assert!(Tag::parse("a'; DROP TABLE customer_tags; --").is_err());
}

#[test]
fn an_email_with_a_quote_is_stored_and_found_ignoring_case() {
    let store = Crm::new(SqliteStore::open_in_memory(Currency::EUR).expect("opened"));
    let email = Email::parse("o'brien+'--@Example.com").expect("a quote is allowed");
    let c = store
        .create_customer(NewCustomer::new(person("O'Brien").with_email(email), at(1)))
        .expect("created");
    let found = store
        .customer_by_email(&Email::parse("O'BRIEN+'--@example.COM").expect("valid"))
        .expect("look-up");
    assert_eq!(found, Some(c));
}

// ----- erasure -----

fn contains(haystack: &[u8], needle: &str) -> bool {
    let needle = needle.as_bytes();
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// The bytes of the database and of whatever lies beside it.
fn file_bytes(path: &Path) -> Vec<u8> {
    let mut all = Vec::new();
    for p in [
        path.to_owned(),
        sidecar(path, "-wal"),
        sidecar(path, "-shm"),
    ] {
        if let Ok(b) = std::fs::read(&p) {
            all.extend(b);
        }
    }
    all
}

#[test]
fn an_erased_customer_leaves_no_trace_in_the_file() {
    let (_dir, path) = temp();
    let file = Arc::new(SqliteStore::create(&path, Currency::EUR).expect("created"));
    let store = Crm::from_shared(file.clone());
    let name = "Zebedee Quaxwell";
    let email = "zebedee.quaxwell@example.com";
    let phone = "+49 170 5550199";
    let secrets = [name, email, phone, "ZEBEDEE.QUAXWELL", "Quaxhausen"];

    let keep = store
        .create_customer(NewCustomer::new(
            person("Keeper Control").with_email(Email::parse("keeper@example.com").expect("ok")),
            at(1),
        ))
        .expect("another customer");
    let mut data = person(name)
        .with_email(Email::parse(&email.to_uppercase()).expect("valid"))
        .with_phone(Phone::parse(phone).expect("valid"))
        .with_tag(Tag::parse("quaxhausen").expect("valid"))
        .with_external_ref(ExternalRef::parse("Quaxhausen-7").expect("valid"));
    data.company = Some(Label::parse("Quaxhausen GmbH").expect("valid"));
    data.profile.city = Some(Label::parse("Quaxhausen").expect("valid"));
    // Long notes go to overflow pages.
    data.notes = FreeText::parse(&format!("{name} {email} {phone}\n").repeat(5000)).expect("ok");
    let z = store
        .create_customer(NewCustomer::new(data, at(1)))
        .expect("created");
    let text = |s: &str| FreeText::parse(s).expect("valid");
    let label = |s: &str| Label::parse(s).expect("valid");
    store
        .record_consent(
            z.id(),
            solocrm_core::Consent {
                purpose: Tag::parse("newsletter").expect("valid"),
                granted: true,
                at: at(1),
                source: label(&format!("call with {name}")),
            },
        )
        .expect("consent");
    store
        .change_stage(
            z.id(),
            solocrm_core::LifecycleStage::Lead,
            at(2),
            StageReason::Manual {
                note: Some(label(&format!("{name} called"))),
            },
        )
        .expect("a stage change");
    store
        .log_interaction(NewInteraction {
            customer: z.id(),
            channel: Channel::Phone,
            direction: Direction::Inbound,
            at: at(2),
            summary: text(&format!("{name} at {phone}")),
            sentiment: None,
        })
        .expect("interaction");
    let mut p = NewPurchase::new(z.id(), at(3), eur(5000));
    p.description = Some(text(&format!("gift for {name}")));
    let p = store.record_purchase(p).expect("purchase");
    store
        .record_refund(NewRefund {
            purchase: p.id(),
            at: at(4),
            amount: eur(100),
            reason: Some(text(&format!("{email} complained"))),
        })
        .expect("refund");
    store
        .record_survey(NewSurveyResponse {
            customer: z.id(),
            at: at(4),
            score: SurveyScore::new(SurveyKind::Nps, 7).expect("valid"),
            comment: Some(text(&format!("signed, {name}"))),
        })
        .expect("survey");
    let deal = store
        .create_deal(NewDeal::new(
            z.id(),
            label(&format!("{name} project")),
            eur(90_000),
            at(2),
        ))
        .expect("deal");
    store
        .edit_deal(
            deal.id(),
            &solocrm_core::DealEdit {
                note: Some((at(2), text(&format!("{name} asked for {email}, {phone}")))),
                ..solocrm_core::DealEdit::default()
            },
        )
        .expect("a deal note");
    store
        .move_deal(deal.id(), DealStage::Won, at(3))
        .expect("won");
    let lost = store
        .create_deal(NewDeal::new(z.id(), label("second"), eur(1_000), at(2)))
        .expect("deal");
    store
        .move_deal(lost.id(), DealStage::Lost, at(3))
        .expect("lost");
    store
        .edit_deal(
            lost.id(),
            &solocrm_core::DealEdit {
                lost_reason: Some(label(&format!("{name} went elsewhere"))),
                ..solocrm_core::DealEdit::default()
            },
        )
        .expect("a lost reason");
    store
        .open_request(NewServiceRequest {
            customer: z.id(),
            kind: RequestKind::Complaint,
            subject: label(&format!("{name} complains")),
            description: text(&format!("call {phone}")),
            opened_at: at(5),
            deal: Some(deal.id()),
        })
        .expect("request");
    store
        .create_task(NewTask {
            customer: Some(z.id()),
            kind: TaskKind::FollowUp,
            title: label(&format!("call {name}")),
            due: at(6).date_naive(),
            recurrence: None,
            created_at: at(5),
        })
        .expect("task");
    store
        .post_points(
            NewPointsEntry::new(z.id(), at(5), PointsKind::Earn, 50)
                .expect("valid")
                .with_reason(label(&format!("welcome {name}"))),
        )
        .expect("points");
    file.checkpoint().expect("checkpoint");
    let before = file_bytes(&path);
    for s in [name, email, phone] {
        assert!(
            contains(&before, s),
            "the file holds '{s}' before the erasure"
        );
    }

    store.erase_customer(z.id(), at(7)).expect("erased");
    file.checkpoint().expect("checkpoint");
    let after = file_bytes(&path);
    for s in secrets {
        assert!(!contains(&after, s), "the file still holds '{s}'");
        assert!(
            !contains(&after, &s.to_lowercase()),
            "the file still holds '{s}'"
        );
    }
    // Only the erased customer's data is gone.
    assert!(contains(&after, "Keeper Control"));
    assert_eq!(store.customer(keep.id()).expect("kept"), keep);
    assert!(store.customer(z.id()).expect("erased").is_erased());
    assert_eq!(file.integrity_check().expect("check"), Vec::<String>::new());
    drop(store);
    // Reopening (which replays nothing: the log is empty) brings nothing back.
    let store = Crm::new(SqliteStore::open(&path).expect("reopened"));
    let export = store.export_customer(z.id()).expect("export");
    assert_eq!(
        export.customer.name().as_str(),
        format!("erased customer {}", z.id())
    );
    drop(store);
    let reopened = file_bytes(&path);
    for s in secrets {
        assert!(
            !contains(&reopened, s),
            "the file holds '{s}' after reopening"
        );
    }
}

// ----- corrupt rows -----

#[test]
fn a_corrupt_row_is_a_backend_error_not_a_panic() {
    let (_dir, path) = temp();
    let store = Crm::new(SqliteStore::create(&path, Currency::EUR).expect("created"));
    let ada = store
        .create_customer(NewCustomer::new(person("Ada"), at(1)))
        .expect("Ada");
    let bob = store
        .create_customer(NewCustomer::new(person("Bob"), at(1)))
        .expect("Bob");
    store
        .record_purchase(NewPurchase::new(bob.id(), at(2), eur(100)))
        .expect("purchase");
    drop(store);
    // Damage rows behind the store's back, past the CHECK constraints.
    let conn = Connection::open(&path).expect("raw connection");
    conn.execute_batch(&format!(
        "PRAGMA ignore_check_constraints = ON;
         UPDATE customers SET name = 'line
break' WHERE id = {};
         UPDATE customers SET stage = 'vip' WHERE id = {};
         UPDATE purchases SET at_ns = 3000000000;",
        ada.id(),
        bob.id()
    ))
    .expect("damage");
    drop(conn);
    let store = Crm::new(SqliteStore::open(&path).expect("opens"));
    for result in [
        store.customer(ada.id()).map(drop),
        store.customer(bob.id()).map(drop),
        store.list_customers(&CustomerQuery::default()).map(drop),
        store.export_customer(ada.id()).map(drop),
        store.purchases(&ActivityQuery::ALL).map(drop),
    ] {
        let err = result.expect_err("a corrupt row is an error");
        assert_eq!(err.kind(), StoreErrorKind::Backend, "{err}");
        assert!(err.to_string().contains("corrupt data"), "{err}");
    }
    // What does not touch the damaged rows still works.
    assert_eq!(store.count_customers().expect("count"), 2);
    assert!(
        store
            .customer(CustomerId::new(99))
            .is_err_and(|e| e.kind() == StoreErrorKind::NotFound)
    );
}

/// A segment saved by an older version with 127 nested `not`s (deeper than this
/// version reads) and one whose row was edited outside solocrm: the list shows the
/// readable segments and names the others, loading one of them says which and how to
/// delete it, and deleting it works.
#[test]
fn an_unreadable_segment_is_named_and_does_not_break_the_others() {
    let (_dir, path) = temp();
    let store = Crm::new(SqliteStore::create(&path, Currency::EUR).expect("created"));
    let vips = Segment {
        name: Label::parse("vips").expect("a name"),
        predicate: Predicate::Tag(Tag::parse("vip").expect("a tag")),
    };
    store.create_segment(vips.clone()).expect("a segment");
    drop(store);
    let deep = format!(
        "{}{{\"stage\":\"active\"}}{}",
        "{\"not\":".repeat(127),
        "}".repeat(127)
    );
    let conn = Connection::open(&path).expect("raw connection");
    conn.execute(
        "INSERT INTO segments (name, predicate) VALUES ('too deep', ?1), ('edited', ?2)",
        [deep.as_str(), r#"{"stage":"vip"}"#],
    )
    .expect("old rows");
    drop(conn);

    let file = Arc::new(SqliteStore::open(&path).expect("opens"));
    let store = Crm::from_shared(file.clone());
    assert_eq!(
        store.segments().expect("the readable segments"),
        std::slice::from_ref(&vips)
    );
    let unreadable = file.unreadable_segments().expect("the others");
    let names: Vec<&str> = unreadable.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["edited", "too deep"]);
    for (name, why) in &unreadable {
        assert!(
            why.starts_with("its condition does not decode"),
            "{name}: {why}"
        );
    }
    assert_eq!(
        store.segment(&vips.name).expect("a readable one loads"),
        vips
    );

    let err = store
        .segment(&Label::parse("too deep").expect("a name"))
        .expect_err("unreadable");
    assert_eq!(err.kind(), StoreErrorKind::Backend);
    let shown = err.to_string();
    assert!(
        shown.contains(
            "segment 'too deep' cannot be read: its condition does not decode: it nests \
             more than 32 levels deep"
        ),
        "{shown}"
    );
    assert!(
        shown.ends_with("; delete it with `solocrm segment delete 'too deep'`"),
        "{shown}"
    );
    let err = store
        .segment(&Label::parse("edited").expect("a name"))
        .expect_err("unreadable");
    assert!(
        err.to_string()
            .ends_with("delete it with `solocrm segment delete edited`"),
        "{err}"
    );

    for name in ["too deep", "edited"] {
        store
            .delete_segment(&Label::parse(name).expect("a name"))
            .expect("an unreadable segment can be deleted");
    }
    assert!(file.unreadable_segments().expect("none left").is_empty());
    assert_eq!(store.segments().expect("segments"), [vips]);
}

// ----- the erase checkpoint -----

/// A store on a new file (with `timeout` as its busy timeout) holding one customer
/// whose name is only in the write-ahead log, not yet in the main file.
fn customer_in_the_log(
    path: &Path,
    name: &str,
    timeout: std::time::Duration,
) -> (Arc<SqliteStore>, Crm, CustomerId) {
    drop(SqliteStore::create(path, Currency::EUR).expect("created"));
    let options = SqliteOptions::new().busy_timeout(timeout);
    let file = Arc::new(SqliteStore::open_with(path, &options).expect("opens"));
    let store = Crm::from_shared(file.clone());
    assert!(
        file.checkpoint().expect("a checkpoint"),
        "nothing in the way"
    );
    let id = store
        .create_customer(NewCustomer::new(person(name), at(1)))
        .expect("created")
        .id();
    assert!(contains(
        &std::fs::read(sidecar(path, "-wal")).expect("the log"),
        name
    ));
    (file, store, id)
}

#[test]
fn checkpoint_reports_a_reader_that_keeps_erased_text_in_the_log() {
    let (_dir, path) = temp();
    let name = "Ximena Wolfcastle";
    let timeout = std::time::Duration::from_millis(400);
    let (file, store, id) = customer_in_the_log(&path, name, timeout);
    let reader = Connection::open(&path).expect("another program");
    reader
        .execute_batch("BEGIN; SELECT count(*) FROM customers;")
        .expect("a read transaction on the snapshot that holds the name");

    store.erase_customer(id, at(2)).expect("erased");
    let start = std::time::Instant::now();
    assert!(
        !file.checkpoint().expect("the checkpoint runs"),
        "the reader kept the log busy"
    );
    assert!(
        start.elapsed() >= timeout.mul_f64(0.9),
        "it tried for the busy timeout, not {:?}",
        start.elapsed()
    );
    let log = std::fs::read(sidecar(&path, "-wal")).expect("the log");
    assert!(contains(&log, name), "the erased name is still in the -wal");

    reader.execute_batch("COMMIT").expect("the reader ends");
    drop(reader);
    assert!(
        file.checkpoint().expect("a checkpoint"),
        "nothing in the way now"
    );
    assert_eq!(
        std::fs::metadata(sidecar(&path, "-wal"))
            .map(|m| m.len())
            .unwrap_or(0),
        0,
        "the log is truncated"
    );
    let all = file_bytes(&path);
    assert!(!contains(&all, name), "the name is gone from every file");
    assert!(file.check().expect("check").is_empty());
}

#[test]
fn an_erasure_waits_for_a_short_reader_and_scrubs_the_log_itself() {
    let (_dir, path) = temp();
    let name = "Yolanda Quimby";
    let (_file, store, id) = customer_in_the_log(&path, name, std::time::Duration::from_secs(5));
    let reader = Connection::open(&path).expect("another program");
    reader
        .execute_batch("BEGIN; SELECT count(*) FROM customers;")
        .expect("a read transaction");
    let done = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(300));
        reader.execute_batch("COMMIT").expect("the reader ends");
    });
    store.erase_customer(id, at(2)).expect("erased");
    done.join().expect("the reader thread");
    // No explicit checkpoint: the erasure forced one, waiting for the reader.
    let all = file_bytes(&path);
    assert!(!contains(&all, name), "the erasure left the name in a file");
}

#[test]
fn check_reports_a_broken_reference() {
    let (_dir, path) = temp();
    let file = SqliteStore::create(&path, Currency::EUR).expect("created");
    assert_eq!(file.check().expect("check"), Vec::<String>::new());
    Connection::open(&path)
        .and_then(|c| {
            c.execute_batch(
                "PRAGMA foreign_keys = OFF;
                 INSERT INTO purchases (customer_id, at, at_ns, amount) VALUES (99, 0, 0, 100);",
            )
        })
        .expect("a purchase of nobody, written by hand");
    let problems = file.check().expect("check");
    assert_eq!(
        problems,
        ["row 1 of purchases refers to a missing row of customers"]
    );
}

/// A copy restored from `sqlite3 .dump` has solocrm's tables but not its header: the
/// error says so and how to adopt the file, which then opens.
#[test]
fn a_copy_restored_from_an_sql_dump_is_recognised_and_can_be_adopted() {
    let (_dir, path) = temp();
    drop(SqliteStore::create(&path, Currency::EUR).expect("created"));
    let conn = Connection::open(&path).expect("raw connection");
    let (app, version): (i64, i64) = conn
        .query_row(
            "SELECT * FROM pragma_application_id, pragma_user_version",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("the header");
    conn.execute_batch("PRAGMA application_id = 0; PRAGMA user_version = 0;")
        .expect("what a dump loses");
    let err = refused(&path);
    assert!(err.contains("sqlite3 .dump"), "{err}");
    assert!(err.contains(&format!("application_id = {app}")), "{err}");
    conn.execute_batch(&format!(
        "PRAGMA application_id = {app}; PRAGMA user_version = {version};"
    ))
    .expect("adopted");
    drop(conn);
    let file = SqliteStore::open(&path).expect("opens once adopted");
    assert!(file.check().expect("check").is_empty());
    // Any other file without the header is still simply not a solocrm database.
    let other = path.with_file_name("other.db");
    Connection::open(&other)
        .and_then(|c| c.execute_batch("CREATE TABLE t (x)"))
        .expect("a foreign file");
    let err = refused(&other);
    assert!(err.contains("not a solocrm database"), "{err}");
}

/// The message of opening `path`, which must fail.
fn refused(path: &Path) -> String {
    match SqliteStore::open(path) {
        Ok(_) => panic!("{} opened", path.display()),
        Err(e) => e.to_string(),
    }
}
