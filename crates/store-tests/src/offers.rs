//! Coupon limits under pressure: [`race_two_handles`] has two handles on the same
//! books (two SQLite connections, two PostgreSQL pools) redeem one offer from several
//! threads at once; [`check_limits_model`] replays a sequence of redemption attempts
//! and compares every answer with a plain count (what the property tests of each
//! store feed with generated sequences).

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use rust_decimal::Decimal;
use solocrm_core::offer::{Benefit, Offer, OfferCode, Refusal};
use solocrm_core::{
    Conflict, Crm, CustomerData, CustomerId, Money, NewCustomer, NewPurchase, PersonName, Store,
    StoreError,
};

fn at(day: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 4, 1, 10, 0, 0)
        .single()
        .expect("an instant")
        + Duration::days(day)
}

fn day(d: i64) -> NaiveDate {
    at(d).date_naive()
}

/// Adds an offer `code` of 10% valid on days 0 to 60 with these limits, to `crm`.
///
/// # Panics
///
/// If the offer cannot be added.
pub fn add_limited_offer(crm: &Crm, code: &str, per_customer: Option<u32>, total: Option<u32>) {
    crm.add_offer(Offer {
        code: OfferCode::parse(code).expect("a code"),
        benefit: Benefit::Percent(Decimal::TEN),
        valid_from: day(0),
        valid_until: day(60),
        per_customer,
        total,
        audience: None,
        created_at: at(0),
        ended_at: None,
    })
    .expect("the offer is added");
}

/// Creates `n` customers named 顾客0, 顾客1, … in `crm`.
///
/// # Panics
///
/// If one cannot be created.
pub fn customers(crm: &Crm, n: usize) -> Vec<CustomerId> {
    (0..n)
        .map(|i| {
            crm.create_customer(NewCustomer::new(
                CustomerData::new(PersonName::parse(&format!("顾客{i}")).expect("a name")),
                at(0),
            ))
            .expect("created")
            .id()
        })
        .collect()
}

/// One attempt to redeem `code` for `who` with a purchase of 10.00 on `day`: true if
/// it was redeemed, false if refused as used up; any other answer is a failure of
/// the test (a busy store is retried).
///
/// # Panics
///
/// On any error but a limit refusal.
pub fn attempt(crm: &Crm, who: CustomerId, code: &str, day: i64) -> bool {
    let code = OfferCode::parse(code).expect("a code");
    loop {
        let new = NewPurchase::new(who, at(day), Money::from_minor(1000, crm.currency()));
        match crm.record_purchase_with_offer(new, &code) {
            Ok(_) => return true,
            Err(StoreError::Conflict(Conflict::OfferRefused {
                refusal: Refusal::UsedUp { .. } | Refusal::UsedUpByCustomer { .. },
                ..
            })) => return false,
            Err(StoreError::Busy { .. }) => std::thread::yield_now(),
            Err(e) => panic!("unexpected error: {e}"),
        }
    }
}

/// Two handles on one book, six threads each (three per handle would do; more makes
/// the race likelier), each thread trying every one of four customers twice against
/// an offer with at most 2 uses per customer and 5 in all: exactly 5 succeed, no
/// customer more than twice, and each success left exactly one purchase.
///
/// # Panics
///
/// If a limit is exceeded or an attempt fails otherwise.
pub fn race_two_handles(a: &Crm, b: &Crm) {
    let people = customers(a, 4);
    add_limited_offer(a, "RACE", Some(2), Some(5));
    let won = std::sync::atomic::AtomicU32::new(0);
    std::thread::scope(|s| {
        for t in 0..12usize {
            let crm = if t % 2 == 0 { a } else { b };
            let people = &people;
            let won = &won;
            s.spawn(move || {
                for round in 0..2 {
                    for k in 0..people.len() {
                        let who = people[(k + t) % people.len()];
                        if attempt(crm, who, "RACE", 1 + round) {
                            won.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        }
                    }
                }
            });
        }
    });
    let code = OfferCode::parse("RACE").expect("a code");
    for crm in [a, b] {
        let reds = crm.redemptions(Some(&code)).expect("read");
        assert_eq!(reds.len(), 5, "{reds:#?}");
        for who in &people {
            let theirs = reds.iter().filter(|r| r.customer == *who).count();
            assert!(theirs <= 2, "customer {who} redeemed {theirs} times");
            let bought = crm
                .purchases(&solocrm_core::ActivityQuery::customer(*who))
                .expect("read")
                .len();
            assert_eq!(bought, theirs, "one purchase per redemption");
        }
    }
    assert_eq!(won.into_inner(), 5);
}

/// Replays `attempts` (customer index, day) against an offer with these limits on
/// `crm`, checking each answer against a plain count: an attempt succeeds exactly
/// when neither the total nor the customer's count has reached its limit. Ends
/// with the stored redemptions equal to the count.
///
/// # Panics
///
/// On the first answer that differs from the count.
pub fn check_limits_model(
    crm: &Crm,
    per_customer: Option<u32>,
    total: Option<u32>,
    attempts: &[(usize, i64)],
) {
    let people = customers(crm, 4);
    add_limited_offer(crm, "MODEL", per_customer, total);
    let mut all = 0u32;
    let mut each = [0u32; 4];
    for &(k, d) in attempts {
        let k = k % people.len();
        let allowed = total.is_none_or(|t| all < t) && per_customer.is_none_or(|p| each[k] < p);
        let got = attempt(crm, people[k], "MODEL", d.rem_euclid(60));
        assert_eq!(got, allowed, "attempt by customer {k} after {all} uses");
        if got {
            all += 1;
            each[k] += 1;
        }
    }
    let code = OfferCode::parse("MODEL").expect("a code");
    let reds = crm.redemptions(Some(&code)).expect("read");
    assert_eq!(reds.len(), all as usize);
    assert!(total.is_none_or(|t| all <= t));
}
