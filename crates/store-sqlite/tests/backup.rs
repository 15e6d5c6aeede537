//! `SqliteStore::backup_to`: a copy that opens as the same books, is private, never
//! replaces a file by accident, and is consistent while an import runs; and the store's
//! own invariants in `SqliteStore::check`, on good books and on books changed by hand.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Barrier, mpsc};

use chrono::{DateTime, TimeZone, Utc};
use rusqlite::Connection;
use solocrm_core::{
    Crm, Currency, CustomerData, CustomerId, CustomerQuery, Money, NewCustomer, NewPurchase,
    NewRefund, PersonName, Store,
};
use solocrm_sample::{GenConfig, populate};
use solocrm_store_sqlite::{BackupError, SqliteStore};

fn at(i: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
        .single()
        .expect("valid")
        + chrono::Duration::seconds(i)
}

fn temp() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("crm.db");
    (dir, path)
}

/// A store on a new file holding a small sample business (purchases, refunds, points,
/// deals, requests, erasures), shared so the test can reach the file's own methods.
fn sample(path: &Path) -> (Arc<SqliteStore>, Crm) {
    let file = Arc::new(SqliteStore::create(path, Currency::EUR).expect("created"));
    let crm = Crm::from_shared(file.clone()).with_lifecycle(None);
    populate(&crm, &GenConfig::new(60, 7)).expect("the sample business");
    // And an erasure, whose traces the invariants follow.
    crm.erase_customer(CustomerId::new(2), at(100_000_000))
        .expect("erased");
    (file, crm)
}

fn customers(store: &Crm) -> Vec<String> {
    store
        .list_customers(&CustomerQuery {
            include_erased: true,
            ..CustomerQuery::default()
        })
        .expect("customers")
        .items
        .iter()
        .map(|c| serde_json::to_string(c).expect("json"))
        .collect()
}

fn count(path: &Path, table: &str) -> i64 {
    Connection::open(path)
        .and_then(|c| c.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0)))
        .expect("a count")
}

#[test]
fn a_backup_opens_as_the_same_books_and_passes_the_check() {
    let (dir, path) = temp();
    let (file, crm) = sample(&path);
    assert_eq!(file.check().expect("check"), Vec::<String>::new());
    let dest = dir.path().join("copy.db");
    let report = file.backup_to(&dest).expect("backed up");
    assert_eq!(report.path, dest);
    assert_eq!(report.customers, 60);
    assert_eq!(
        report.purchases,
        u64::try_from(count(&path, "purchases")).expect("a count")
    );
    assert_eq!(
        report.bytes,
        std::fs::metadata(&dest).expect("exists").len()
    );
    assert!(
        !dest.with_file_name("copy.db-wal").exists()
            && !dest.with_file_name("copy.db-journal").exists(),
        "the copy stands alone"
    );
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .expect("the directory")
        .map(|e| e.expect("an entry").file_name())
        .filter(|n| n.to_string_lossy().contains(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");

    let copy = Arc::new(SqliteStore::open(&dest).expect("the copy opens"));
    assert_eq!(copy.check().expect("check"), Vec::<String>::new());
    assert_eq!(copy.book_id().expect("id"), file.book_id().expect("id"));
    assert_eq!(copy.schema_version().expect("v"), report.schema_version);
    let copied = Crm::from_shared(copy.clone());
    assert_eq!(customers(&copied), customers(&crm));
    for table in [
        "purchases",
        "refunds",
        "points_entries",
        "stage_changes",
        "deals",
    ] {
        assert_eq!(count(&dest, table), count(&path, table), "{table}");
    }
}

#[cfg(unix)]
#[test]
fn a_backup_is_readable_by_its_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let (dir, path) = temp();
    let (file, _crm) = sample(&path);
    let dest = dir.path().join("copy.db");
    file.backup_to(&dest).expect("backed up");
    let mode = std::fs::metadata(&dest)
        .expect("exists")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    // Replacing a world-readable file gives a private one.
    std::fs::set_permissions(&dest, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    file.backup_replacing(&dest).expect("replaced");
    let mode = std::fs::metadata(&dest)
        .expect("exists")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
}

#[test]
fn an_existing_file_is_refused_unless_replacing_and_the_database_always() {
    let (dir, path) = temp();
    let (file, _crm) = sample(&path);
    let dest = dir.path().join("precious.txt");
    std::fs::write(&dest, b"keep me").expect("write");
    let err = file.backup_to(&dest).expect_err("refused");
    assert!(matches!(err, BackupError::Exists { .. }), "{err}");
    assert_eq!(std::fs::read(&dest).expect("read"), b"keep me");
    file.backup_replacing(&dest).expect("replaced on purpose");
    assert!(SqliteStore::open(&dest).is_ok());

    for own in [path.clone(), dir.path().join("crm.db-wal")] {
        let err = file.backup_replacing(&own).expect_err("refused");
        assert!(matches!(err, BackupError::Refused { .. }), "{err}");
    }
    assert_eq!(file.check().expect("check"), Vec::<String>::new());
    let missing = dir.path().join("no such dir").join("copy.db");
    let err = file.backup_to(&missing).expect_err("no directory");
    assert!(matches!(err, BackupError::Io(_)), "{err}");
}

#[test]
fn an_in_memory_store_backs_up_too() {
    let (dir, _) = temp();
    let store = Arc::new(SqliteStore::open_in_memory(Currency::EUR).expect("a store"));
    let crm = Crm::from_shared(store.clone());
    crm.create_customer(NewCustomer::new(
        CustomerData::new(PersonName::parse("Ada").expect("valid")),
        at(0),
    ))
    .expect("created");
    let dest = dir.path().join("copy.db");
    let report = store.backup_to(&dest).expect("backed up");
    assert_eq!(report.customers, 1);
    let copy = SqliteStore::open(&dest).expect("opens");
    assert_eq!(copy.check().expect("check"), Vec::<String>::new());
}

const IMPORT: usize = 20_000;

/// One customer and the batch of purchases an import records for them.
fn the_import(crm: &Crm) -> Vec<NewPurchase> {
    let c = crm
        .create_customer(NewCustomer::new(
            CustomerData::new(PersonName::parse("Importer").expect("valid")),
            at(0),
        ))
        .expect("created");
    (0..IMPORT)
        .map(|i| {
            NewPurchase::new(
                c.id(),
                at(i64::try_from(i).expect("small")),
                Money::from_minor(100, Currency::EUR),
            )
        })
        .collect()
}

/// A backup taken from another thread while the import's transaction is open (all its
/// rows written, not yet committed) holds none of them; one taken after holds all.
#[test]
fn a_backup_during_an_import_holds_none_of_it_and_after_it_all() {
    let (dir, path) = temp();
    let (file, crm) = sample(&path);
    let before = count(&path, "purchases");
    let batch = the_import(&crm);
    let (written_tx, written_rx) = mpsc::channel::<()>();
    let (backed_tx, backed_rx) = mpsc::channel::<()>();
    let during = dir.path().join("during.db");
    let backer = {
        let file = file.clone();
        let during = during.clone();
        std::thread::spawn(move || {
            written_rx.recv().expect("the import wrote its rows");
            let report = file
                .backup_to(&during)
                .expect("backed up during the import");
            backed_tx.send(()).expect("the import waits");
            report
        })
    };
    let ids = crm
        .write_bulk(|w| {
            let ids = w.record_purchases(batch.clone())?;
            // Every row is written in the open transaction: let the backup run now,
            // and commit only once it is done.
            written_tx.send(()).expect("the backup waits");
            backed_rx.recv().expect("the backup finished");
            Ok(ids)
        })
        .expect("the import");
    assert_eq!(ids.len(), IMPORT);
    let report = backer.join().expect("the backup thread");
    assert_eq!(
        i64::try_from(report.purchases).expect("small"),
        before,
        "the backup holds none of the import"
    );
    let copy = SqliteStore::open(&during).expect("opens");
    assert_eq!(copy.check().expect("check"), Vec::<String>::new());
    drop(copy);

    let after = dir.path().join("after.db");
    let report = file.backup_to(&after).expect("backed up after");
    assert_eq!(
        i64::try_from(report.purchases).expect("small"),
        before + i64::try_from(IMPORT).expect("small")
    );
}

/// A backup racing an import (no synchronisation but a common start) holds either none
/// or all of it, never a part, and passes the check.
#[test]
fn a_backup_racing_an_import_holds_none_or_all_of_it() {
    let (dir, path) = temp();
    let (file, crm) = sample(&path);
    let before = u64::try_from(count(&path, "purchases")).expect("a count");
    let batch = the_import(&crm);
    let start = Arc::new(Barrier::new(2));
    let backer = {
        let (file, start) = (file.clone(), start.clone());
        let dest = dir.path().join("race.db");
        std::thread::spawn(move || {
            start.wait();
            // Several backups while the import runs: each one is whole.
            (0..5)
                .map(|i| {
                    let dest = dest.with_file_name(format!("race-{i}.db"));
                    let report = file.backup_to(&dest).expect("backed up");
                    let copy = SqliteStore::open(&dest).expect("opens");
                    assert_eq!(copy.check().expect("check"), Vec::<String>::new());
                    report.purchases
                })
                .collect::<Vec<_>>()
        })
    };
    start.wait();
    crm.record_purchases(batch).expect("the import");
    let seen = backer.join().expect("the backup thread");
    let all = before + u64::try_from(IMPORT).expect("small");
    for n in seen {
        assert!(
            n == before || n == all,
            "a backup holds {n} purchases, not {before} or {all}"
        );
    }
}

/// Changes made by hand (SQL that bypasses the store) that break the store's own
/// invariants, and what `check` says about each.
#[test]
fn check_reports_broken_invariants() {
    let (dir, path) = temp();
    let (file, crm) = sample(&path);
    assert_eq!(file.check().expect("check"), Vec::<String>::new());
    // Give someone a refund and a points entry to break.
    let someone = crm
        .list_customers(&CustomerQuery::default())
        .expect("customers")
        .items
        .first()
        .expect("a live customer")
        .id();
    let p = crm
        .record_purchase(NewPurchase::new(
            someone,
            at(9_000_000),
            Money::from_minor(500, Currency::EUR),
        ))
        .expect("a purchase");
    crm.record_refund(NewRefund {
        purchase: p.id(),
        at: at(9_000_001),
        amount: Money::from_minor(200, Currency::EUR),
        reason: None,
    })
    .expect("a refund");
    assert_eq!(file.check().expect("check"), Vec::<String>::new());

    let cases: &[(&str, &str)] = &[
        (
            "UPDATE customers SET stage = CASE stage WHEN 'churned' THEN 'loyal' ELSE 'churned' END
             WHERE id = (SELECT customer_id FROM stage_changes ORDER BY id LIMIT 1)",
            "but their last stage change",
        ),
        (
            "UPDATE stage_changes SET from_stage = (SELECT v FROM (SELECT 'prospect' AS v
                 UNION ALL SELECT 'lead' UNION ALL SELECT 'new') WHERE v <> from_stage
                 AND v <> to_stage LIMIT 1)
             WHERE id = (SELECT s.id FROM stage_changes s WHERE EXISTS (SELECT 1 FROM
                 stage_changes e WHERE e.customer_id = s.customer_id AND e.id < s.id)
                 ORDER BY s.id LIMIT 1)",
            "but the change before it went to",
        ),
        (
            "UPDATE refunds SET amount = 900 WHERE id = (SELECT max(id) FROM refunds)",
            "refunded",
        ),
        (
            "UPDATE points_entries SET balance_after = balance_after + 7
             WHERE id = (SELECT min(id) FROM points_entries)",
            "leaves a balance of",
        ),
        (
            "UPDATE points_lots SET points = points + 1
             WHERE (customer_id, earned_day, entry_id) = (SELECT customer_id, earned_day,
                 entry_id FROM points_lots ORDER BY customer_id, earned_day, entry_id LIMIT 1)",
            "(points_lots)",
        ),
        (
            "UPDATE purchase_totals SET amount = amount + 1
             WHERE customer_id = (SELECT min(customer_id) FROM purchase_totals)",
            "(purchase_totals)",
        ),
        (
            "UPDATE customers SET email_key = 'someone@else.example'
             WHERE id = (SELECT min(id) FROM customers WHERE email IS NOT NULL)",
            "look-up key",
        ),
        (
            "UPDATE purchases SET void_at = 0, void_at_ns = 0
             WHERE id = (SELECT purchase_id FROM refunds ORDER BY id DESC LIMIT 1)",
            "is voided but refund",
        ),
        (
            "UPDATE customers SET name = 'Back Again'
             WHERE id = (SELECT min(id) FROM customers WHERE erased_at IS NOT NULL)",
            "is still named",
        ),
        (
            "INSERT INTO customer_tags (customer_id, tag)
             SELECT min(id), 'vip' FROM customers WHERE erased_at IS NOT NULL",
            "tag(s)",
        ),
        (
            "UPDATE deals SET stage = CASE stage WHEN 'lost' THEN 'won' ELSE 'lost' END
             WHERE id = (SELECT min(id) FROM deals)",
            "but its history ends at",
        ),
    ];
    for (i, (sql, says)) in cases.iter().enumerate() {
        let copy = dir.path().join(format!("broken-{i}.db"));
        file.backup_to(&copy).expect("a copy");
        let conn = Connection::open(&copy).expect("raw");
        let changed = conn.execute(sql, []).expect("the change by hand");
        assert_eq!(changed, 1, "{sql}");
        drop(conn);
        let broken = SqliteStore::open(&copy).expect("opens");
        let problems = broken.check().expect("check");
        assert!(
            problems.iter().any(|p| p.contains(says)),
            "{sql}: {problems:?}"
        );
    }
}

/// An erased customer's survey sheets keep their scores and the void's time but no
/// text answer and no void reason; the check passes after such an erasure and says
/// so when text is put back by hand, in the answers or in the void.
#[test]
fn the_check_follows_the_survey_sheets_of_an_erased_customer() {
    use solocrm_core::questionnaire::{
        Answer, AnswerValue, Answering, CollectionMethod, Question, Scale, SurveySheet,
        SurveyTemplate,
    };
    use solocrm_core::{FreeText, Label, Tag, Void};
    let (dir, path) = temp();
    let file = Arc::new(SqliteStore::create(&path, Currency::EUR).expect("created"));
    let crm = Crm::from_shared(file.clone()).with_lifecycle(None);
    let name = Tag::parse("follow-up").expect("a name");
    let question = |text: &str, answering| Question {
        text: Label::parse(text).expect("a text"),
        dimension: Label::parse("service").expect("a dimension"),
        answering,
    };
    let template = SurveyTemplate::new(
        name.clone(),
        vec![
            question(
                "How was it?",
                Answering::Score {
                    scale: Scale::new(1, 5).expect("a scale"),
                    role: None,
                },
            ),
            question("Anything else?", Answering::Text),
        ],
    )
    .expect("a template");
    crm.add_survey_template(template).expect("added");
    let c = crm
        .create_customer(NewCustomer::new(
            CustomerData::new(PersonName::parse("Ada Lovelace").expect("a name")),
            at(0),
        ))
        .expect("created");
    let sheet = crm
        .record_survey_sheet(SurveySheet {
            template: name,
            customer: c.id(),
            at: at(60),
            method: CollectionMethod::Phone,
            answers: vec![
                Answer {
                    question: 1,
                    value: AnswerValue::Score(4),
                },
                Answer {
                    question: 2,
                    value: AnswerValue::Text(FreeText::parse("call me at home").expect("text")),
                },
            ],
            void: None,
        })
        .expect("recorded");
    crm.void_survey_sheet(
        &sheet.key(),
        Void::at(at(120)).because(FreeText::parse("wrong customer").expect("text")),
    )
    .expect("voided");
    crm.erase_customer(c.id(), at(180)).expect("erased");
    assert_eq!(file.check().expect("check"), Vec::<String>::new());
    let sheets = crm.survey_sheets(None).expect("read");
    assert_eq!(sheets.len(), 1);
    assert!(sheets[0].is_void() && !sheets[0].has_text(), "{sheets:?}");
    for (i, sql) in [
        r#"UPDATE survey_sheets SET answers = json_insert(answers, '$[#]',
               json('{"question":2,"value":{"text":"back again"}}'))"#,
        r#"UPDATE survey_sheets SET voided = json_set(voided, '$.reason', 'back again')"#,
    ]
    .iter()
    .enumerate()
    {
        let copy = dir.path().join(format!("sheet-{i}.db"));
        file.backup_to(&copy).expect("a copy");
        let conn = Connection::open(&copy).expect("raw");
        assert_eq!(
            conn.execute(sql, []).expect("the change by hand"),
            1,
            "{sql}"
        );
        drop(conn);
        let broken = SqliteStore::open(&copy).expect("opens");
        let problems = broken.check().expect("check");
        assert!(
            problems
                .iter()
                .any(|p| p.contains("still has text in 1 row(s) of survey_sheets")),
            "{sql}: {problems:?}"
        );
    }
}
