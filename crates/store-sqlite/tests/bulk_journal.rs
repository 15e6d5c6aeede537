//! A bulk write keeps its statement journals in memory (ADR 0079): the drop of the
//! purchase indexes that a big import makes on a book with purchases journals every
//! page of them (`secure_delete` overwrites each freed page), which past 64 KiB SQLite
//! would otherwise move into a temporary file for the rest of the transaction.
//!
//! Alone in its test binary: it counts the process's open files that are deleted
//! (SQLite's temporary files), which another test running beside it could open.
//! Linux only (`/proc/self/fd`).
#![cfg(target_os = "linux")]

use chrono::{DateTime, TimeZone, Utc};
use solocrm_core::port::{IdKind, Storage, WriteKind, WriteTx};
use solocrm_core::{
    Currency, Customer, CustomerData, CustomerId, ExternalRef, Money, NewCustomer, NewPurchase,
    PersonName, Purchase, PurchaseId, StoreResult,
};
use solocrm_store_sqlite::SqliteStore;

fn at(minute: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0)
        .single()
        .expect("a valid instant")
        + chrono::Duration::minutes(minute)
}

/// Stores `n` purchases of customers 1..=100 with references `R-<id>`.
fn purchases(tx: &mut dyn WriteTx, n: u64) -> StoreResult<()> {
    let first = tx.next_id(IdKind::Purchase)?;
    for i in 0..n {
        let who = CustomerId::new(1 + (i * 7919) % 100);
        let minute = i64::try_from(first + i).expect("small");
        let mut p = NewPurchase::new(who, at(minute), Money::from_minor(100, Currency::EUR));
        p.external_ref = Some(ExternalRef::parse(&format!("R-{}", first + i)).expect("a ref"));
        tx.insert_purchase(&Purchase::new(PurchaseId::new(first + i), p))?;
    }
    Ok(())
}

/// The process's open files that have been deleted: on Linux, SQLite's temporary
/// files (statement journals, sorter runs) and nothing else of this test's.
fn deleted_files_open() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .expect("the process's files")
        .filter_map(|entry| std::fs::read_link(entry.ok()?.path()).ok())
        .filter(|target| target.to_string_lossy().ends_with(" (deleted)"))
        .count()
}

#[test]
fn a_big_import_onto_stored_purchases_keeps_its_statement_journal_in_memory() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let store = SqliteStore::create(dir.path().join("crm.db"), Currency::EUR).expect("a store");
    let stored = 20_000;
    store
        .write(&mut |tx| {
            for id in 1..=100 {
                let data = CustomerData::new(PersonName::parse("李娜").expect("a name"));
                tx.insert_customer(&Customer::create(
                    CustomerId::new(id),
                    NewCustomer::new(data, at(0)),
                ))?;
            }
            purchases(tx, stored)
        })
        .expect("the book");
    let mut seen = None;
    store
        .write_as(WriteKind::Bulk, &mut |tx| {
            let before = deleted_files_open();
            // As many as are stored: the purchase indexes are dropped (hundreds of
            // pages, each journalled) and rebuilt before the commit.
            tx.expect_purchases(stored)?;
            let after_drop = deleted_files_open();
            purchases(tx, stored)?;
            seen = Some((before, after_drop, deleted_files_open()));
            Ok(())
        })
        .expect("the import");
    let (before, after_drop, after_rows) = seen.expect("the write ran");
    assert_eq!(
        (after_drop, after_rows),
        (before, before),
        "no statement journal in a temporary file while the transaction runs"
    );
    drop(store);
    let conn = rusqlite::Connection::open(dir.path().join("crm.db")).expect("the file");
    let total: i64 = conn
        .query_row("SELECT count(*) FROM purchases", [], |r| r.get(0))
        .expect("a count");
    assert_eq!(u64::try_from(total).ok(), Some(2 * stored));
}
