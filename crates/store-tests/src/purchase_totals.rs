//! The per-customer purchase totals a store may keep (ADR 0046) answer
//! [`ReadTx::purchase_summaries`], [`ReadTx::purchase_summary`] and
//! [`ReadTx::contact_times`] exactly as a scan of the records does, at every bound
//! that matters, after inserts (one by one and in batches), voids, refunds, an
//! erasure and a failed write; and RFM computed from the summaries
//! ([`rfm_of_summaries`]) is RFM over the
//! purchase log, on every day of the history.
//!
//! [`kept_purchase_totals_answer_as_the_scan`] is a fixed history (one of the
//! [`AUTOMATION_CHECKS`](crate::automation::AUTOMATION_CHECKS));
//! [`kept_purchase_totals_after_a_bulk_import`] imports enough purchases at once for
//! a backend's bulk path.
//!
//! [`ReadTx::purchase_summaries`]: solocrm_core::port::ReadTx::purchase_summaries
//! [`ReadTx::purchase_summary`]: solocrm_core::port::ReadTx::purchase_summary
//! [`ReadTx::contact_times`]: solocrm_core::port::ReadTx::contact_times

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use solocrm_core::metrics::{RfmTable, TieRule, rfm, rfm_of_summaries};
use solocrm_core::port::{CustomerFilter, contact_times_from_records};
use solocrm_core::{
    ActivityQuery, Crm, Currency, CustomerData, CustomerId, Money, NewCustomer, NewPurchase,
    NewRefund, PersonName, PurchaseSummary, Reader, StoreError, StoreResult, Void,
};

const STEP: &str = "the check's step";

fn at(day: u32, hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, day, hour, 0, 0)
        .single()
        .expect(STEP)
}

fn eur(minor: i64) -> Money {
    Money::from_minor(minor, Currency::EUR)
}

fn person(crm: &Crm, who: &str) -> CustomerId {
    crm.write(|w| {
        w.create_customer(NewCustomer::new(
            CustomerData::new(PersonName::parse(who)?),
            at(1, 0),
        ))
    })
    .expect(STEP)
    .id()
}

/// What a scan of every purchase says of each customer at `as_of`.
fn scanned(crm: &Crm, as_of: DateTime<Utc>) -> Vec<(CustomerId, PurchaseSummary)> {
    crm.read(|r| {
        let mut by: BTreeMap<CustomerId, PurchaseSummary> = BTreeMap::new();
        for p in r.tx().purchases(&ActivityQuery::ALL)? {
            if p.at() <= as_of {
                by.entry(p.customer())
                    .or_insert(PurchaseSummary::none(Currency::EUR))
                    .add(p.at(), p.amount())
                    .map_err(StoreError::backend)?;
            }
        }
        Ok(by.into_iter().collect())
    })
    .expect(STEP)
}

/// Every instant that matters: each purchase's (voided ones too), a nanosecond on
/// either side, its whole second and the next, and both ends of time.
fn bounds(crm: &Crm) -> Vec<DateTime<Utc>> {
    let mut out = vec![DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MAX_UTC];
    let all = crm
        .read(|r| r.tx().purchases(&ActivityQuery::EVERYTHING))
        .expect(STEP);
    for p in all {
        let t = p.at();
        let second = DateTime::from_timestamp(t.timestamp(), 0).expect(STEP);
        out.extend([
            t,
            t - Duration::nanoseconds(1),
            t + Duration::nanoseconds(1),
            second,
            second + Duration::seconds(1),
        ]);
    }
    out.sort();
    out.dedup();
    out
}

/// The first difference between the store's reads and the scan, if any.
fn differs(crm: &Crm) -> Option<String> {
    let customers: Vec<CustomerId> = crm
        .read(|r| {
            r.tx().customers(
                &CustomerFilter {
                    include_erased: true,
                    ..CustomerFilter::default()
                },
                None,
                u32::MAX,
            )
        })
        .expect(STEP)
        .iter()
        .map(|c| c.id())
        .collect();
    // One by one: the first quiet customer and everyone after the quiet ones.
    let customers: Vec<CustomerId> = customers
        .iter()
        .take(1)
        .chain(customers.iter().skip(40))
        .copied()
        .collect();
    let bounds = bounds(crm);
    for &as_of in &bounds {
        let scan = scanned(crm, as_of);
        let kept = crm.read(|r| r.tx().purchase_summaries(as_of)).expect(STEP);
        if kept != scan {
            return Some(format!(
                "purchase_summaries({as_of}): kept {kept:?}, scanned {scan:?}"
            ));
        }
        for &c in &customers {
            let one = crm.read(|r| r.tx().purchase_summary(c, as_of)).expect(STEP);
            let want = scan
                .iter()
                .find(|(id, _)| *id == c)
                .map_or(PurchaseSummary::none(Currency::EUR), |(_, s)| *s);
            if one != want {
                return Some(format!(
                    "purchase_summary({c}, {as_of}): kept {one:?}, scanned {want:?}"
                ));
            }
        }
    }
    for &from in &bounds {
        // `until` before `from` too: the as-of view passes `until.min(cutoff)`.
        for until in [
            from.checked_add_signed(Duration::seconds(1))
                .unwrap_or(from),
            from.checked_sub_signed(Duration::hours(30)).unwrap_or(from),
            DateTime::<Utc>::MAX_UTC,
        ] {
            let (kept, scan) = crm
                .read(|r| {
                    Ok((
                        r.tx().contact_times(from, until)?,
                        contact_times_from_records(r.tx(), from, until)?,
                    ))
                })
                .expect(STEP);
            if kept != scan {
                return Some(format!(
                    "contact_times({from}, {until}): kept {kept:?}, scanned {scan:?}"
                ));
            }
        }
    }
    None
}

/// The first day whose RFM from the kept summaries
/// ([`rfm_of_summaries`](solocrm_core::metrics::rfm_of_summaries), ADR 0057) differs
/// from RFM over the purchase log, read as the books are and through the as-of view of
/// the day's end, if any.
fn rfm_differs(crm: &Crm) -> Option<String> {
    let first = NaiveDate::from_ymd_opt(2026, 2, 27).expect(STEP);
    for day in first.iter_days().take(35) {
        for tie in [TieRule::Shared, TieRule::Ordinal] {
            let (now, past) = crm
                .read(|r| {
                    let end = r.time_zone()?.end_of(day);
                    Ok((
                        rfm_both(&r, day, tie)?,
                        r.as_of(end, |v| rfm_both(&v, day, tie))?,
                    ))
                })
                .expect(STEP);
            for (view, (kept, log)) in [("the books", now), ("the as-of view", past)] {
                if kept.as_ref() != Some(&log) {
                    return Some(format!(
                        "rfm of {day} ({tie:?}) through {view}: kept {kept:?}, log {log:?}"
                    ));
                }
            }
        }
    }
    None
}

/// RFM of `day` from the summaries up to its last instant, and from the log.
fn rfm_both(
    r: &Reader<'_>,
    day: NaiveDate,
    tie: TieRule,
) -> StoreResult<(Option<RfmTable>, RfmTable)> {
    let zone = r.time_zone()?;
    let last = zone.end_of(day) - Duration::nanoseconds(1);
    let summaries = r.purchase_summaries(last)?;
    let kept = rfm_of_summaries(&summaries, r.currency(), zone, day, tie).expect(STEP);
    let log = rfm(&r.purchase_log()?, day, tie).expect(STEP);
    Ok((kept, log))
}

fn agree(crm: &Crm, after: &str) {
    if let Some(d) = differs(crm) {
        panic!("after {after}: {d}");
    }
    if let Some(d) = rfm_differs(crm) {
        panic!("after {after}: {d}");
    }
}

/// A fixed history, checked against the scan after each kind of write. Forty quiet
/// customers bought once long ago (at one instant), so that the few whose purchases straddle a bound
/// are read one by one (a backend reads them all when they are many).
pub fn kept_purchase_totals_answer_as_the_scan(crm: &Crm) {
    let quiet: Vec<CustomerId> = (0..40).map(|i| person(crm, &format!("顾客{i}"))).collect();
    crm.write(|w| {
        w.record_purchases(
            quiet
                .iter()
                .enumerate()
                .map(|(i, &c)| NewPurchase::new(c, at(1, 1), eur(100 + i as i64)))
                .collect(),
        )
    })
    .expect(STEP);
    agree(crm, "a batch");

    let wang = person(crm, "王芳");
    let li = person(crm, "李娜");
    let chen = person(crm, "陈静");
    let buy = |who: CustomerId, when: DateTime<Utc>, minor: i64| {
        crm.write(|w| w.record_purchase(NewPurchase::new(who, when, eur(minor))))
            .expect(STEP)
            .id()
    };
    let sub = at(5, 9) + Duration::milliseconds(700);
    buy(wang, at(5, 9), 1_250);
    buy(wang, sub, 999);
    // Back-dated: a new first purchase.
    let first = buy(wang, at(2, 9), 3_000);
    let last = buy(wang, at(20, 9), 4_500);
    buy(li, at(3, 9), 1_000);
    buy(li, at(3, 9) + Duration::nanoseconds(5), 2_000);
    buy(chen, at(4, 9), 700);
    buy(chen, at(6, 9), 800);
    agree(crm, "single purchases");

    // Voiding the first and the last moves both ends; a refund changes nothing.
    crm.write(|w| w.void_purchase(first, Void::at(at(21, 9))))
        .expect(STEP);
    crm.write(|w| w.void_purchase(last, Void::at(at(21, 10))))
        .expect(STEP);
    let refunded = buy(li, at(7, 9), 5_000);
    crm.write(|w| {
        w.record_refund(NewRefund {
            purchase: refunded,
            at: at(8, 9),
            amount: eur(2_000),
            reason: None,
        })
    })
    .expect(STEP);
    agree(crm, "voids and a refund");

    // A customer whose every purchase is voided has no totals.
    let zhao = person(crm, "赵敏");
    let only = buy(zhao, at(9, 9), 300);
    crm.write(|w| w.void_purchase(only, Void::at(at(9, 10))))
        .expect(STEP);
    agree(crm, "a customer's only purchase voided");

    // A failed write (the second purchase names nobody) leaves the totals as they were.
    let failed = crm.write(|w| {
        w.record_purchase(NewPurchase::new(wang, at(10, 9), eur(10)))?;
        w.record_purchase(NewPurchase::new(
            CustomerId::new(999_999),
            at(10, 9),
            eur(10),
        ))
    });
    assert!(failed.is_err(), "a purchase of nobody is refused");
    agree(crm, "a failed write");

    crm.write(|w| w.erase_customer(chen, at(22, 9)))
        .expect(STEP);
    agree(crm, "an erasure");
}

/// `n` purchases imported in one batch (a backend's bulk path from 50,000 on), then a
/// void and a single purchase: the totals follow each.
pub fn kept_purchase_totals_after_a_bulk_import(crm: &Crm, n: usize) {
    let people: Vec<CustomerId> = (0..50).map(|i| person(crm, &format!("顾客{i}"))).collect();
    let batch: Vec<NewPurchase> = (0..n)
        .map(|i| {
            let who = people[i % people.len()];
            let when = at(1, 0) + Duration::seconds((i * 37 % 86_400 * 20) as i64);
            NewPurchase::new(who, when, eur(1 + (i % 1_000) as i64))
        })
        .collect();
    let ids = crm
        .write(|w| w.record_purchases(batch.clone()))
        .expect(STEP);
    let Some(&some) = ids.get(n / 2) else {
        panic!("the batch stored {} purchases, not {n}", ids.len());
    };
    let agree_at_ends = |after: &str| {
        for as_of in [DateTime::<Utc>::MAX_UTC, at(10, 0)] {
            let kept = crm.read(|r| r.tx().purchase_summaries(as_of)).expect(STEP);
            assert_eq!(kept, scanned(crm, as_of), "after {after}, at {as_of}");
        }
    };
    agree_at_ends("the bulk import");
    crm.write(|w| w.void_purchase(some, Void::at(at(28, 0))))
        .expect(STEP);
    crm.write(|w| w.record_purchase(NewPurchase::new(people[0], at(28, 1), eur(5))))
        .expect(STEP);
    agree_at_ends("a void and a purchase after it");
}

/// A bulk write onto purchases already stored: the kept totals after it equal the
/// scan, whether the write only inserted (a backend may then merge the totals of
/// what it inserted into those kept) or also changed a stored purchase or rolled an
/// operation back (the totals of the inserts alone are then wrong, and a backend
/// must not merge them). Instants to the nanosecond, before, between and after the
/// stored ones, several in one second.
pub fn kept_purchase_totals_after_bulk_writes_onto_stored_purchases(crm: &Crm, n: usize) {
    let people: Vec<CustomerId> = (0..40).map(|i| person(crm, &format!("客户{i}"))).collect();
    let nanos = |day: u32, hour: u32, ns: i64| at(day, hour) + Duration::nanoseconds(ns);
    // Stored first, one by one: every other customer has purchases on days 10-12.
    let mut stored = Vec::new();
    for (k, &who) in people.iter().enumerate().step_by(2) {
        for (day, ns) in [(10, 500), (12, 0), (11, 999_999_999)] {
            let p = crm
                .write(|w| w.record_purchase(NewPurchase::new(who, nanos(day, 3, ns), eur(100))))
                .expect(STEP);
            stored.push(p.id());
        }
        if k % 4 == 0 {
            // A voided one, earlier than all: it must count nowhere.
            let p = crm
                .write(|w| w.record_purchase(NewPurchase::new(who, at(2, 0), eur(7))))
                .expect(STEP);
            crm.write(|w| w.void_purchase(p.id(), Void::at(at(20, 0))))
                .expect(STEP);
        }
    }
    // A backend may take its bulk path only for a batch as big as half the purchases
    // stored: each batch here is.
    let batch = |shift: i64, count: usize| -> Vec<NewPurchase> {
        (0..count)
            .map(|i| {
                let who = people[i % people.len()];
                // Days 9 to 13, so before, among and after the stored ones; the
                // same second as a stored purchase for some, a nanosecond apart.
                let when = match i % 7 {
                    0 => nanos(10, 3, 499 + shift),
                    1 => nanos(12, 3, 1 + shift),
                    _ => {
                        at(9, 0)
                            + Duration::seconds((i * 53 % 345_600) as i64)
                            + Duration::nanoseconds((i % 1_000) as i64 + shift)
                    }
                };
                NewPurchase::new(who, when, eur(1 + (i % 997) as i64))
            })
            .collect()
    };
    let agree = |after: &str| {
        for as_of in [DateTime::<Utc>::MAX_UTC, nanos(10, 3, 499), nanos(12, 3, 0)] {
            let kept = crm.read(|r| r.tx().purchase_summaries(as_of)).expect(STEP);
            assert_eq!(kept, scanned(crm, as_of), "after {after}, at {as_of}");
        }
    };
    // Only inserts.
    crm.write(|w| w.record_purchases(batch(0, n))).expect(STEP);
    agree("a bulk insert onto stored purchases");
    // Inserts, then an operation that fails and is rolled back to its savepoint,
    // then more inserts: the rolled-back rows count nowhere.
    crm.write(|w| {
        w.record_purchases(batch(4, n))?;
        let refused = w.record_purchases(vec![
            NewPurchase::new(people[1], at(25, 0), eur(9)),
            NewPurchase::new(people[2], at(25, 1), Money::from_minor(9, Currency::USD)),
        ]);
        assert!(refused.is_err(), "a dollar amount in euro books is refused");
        w.record_purchase(NewPurchase::new(people[3], at(26, 0), eur(11)))
            .map(drop)
    })
    .expect(STEP);
    agree("a bulk insert, a rolled-back batch and one more purchase");
    // Inserts, then a void of a purchase stored before, in the same transaction.
    let first = stored[0];
    crm.write(|w| {
        w.record_purchases(batch(2, 2 * n))?;
        w.void_purchase(first, Void::at(at(21, 0)))
    })
    .expect(STEP);
    agree("a bulk insert and a void in one transaction");
}
