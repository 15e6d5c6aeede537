//! The open points lots a store keeps ([`ReadTx::points_lots_earned_through`], ADR
//! 0043) equal the lots replayed from the ledgers
//! ([`open_lots`]) after any sequence of points writes:
//! earns (back-dated too), redemptions, adjustments up and down, expiries by hand,
//! posted lapses, erasures, a change of the business time zone, and a failed write.
//!
//! [`kept_points_lots_equal_the_replayed_ledgers`] is a fixed history (one of the
//! [`AUTOMATION_CHECKS`](crate::automation::AUTOMATION_CHECKS));
//! [`check_kept_lots_replay`] draws random ones.
//!
//! [`ReadTx::points_lots_earned_through`]: solocrm_core::port::ReadTx::points_lots_earned_through

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use solocrm_core::{
    BusinessZone, Crm, CustomerData, CustomerId, Entity, NewCustomer, NewPointsEntry, PersonName,
    PointsExpiry, PointsKind, PointsLot, StoreError, StoreResult, open_lots,
};

type Lots = Vec<(CustomerId, Vec<PointsLot>)>;

/// The lots of every ledger replayed in the books' zone, earned through `through`:
/// what the port's default answers.
fn replayed(crm: &Crm, through: NaiveDate) -> Lots {
    crm.read(|r| {
        let zone = r.time_zone()?;
        Ok(r.tx()
            .points_holder_ledgers()?
            .into_iter()
            .filter_map(|(customer, ledger)| {
                let mut lots = open_lots(&ledger, zone, None);
                lots.truncate(lots.partition_point(|l| l.earned_on <= through));
                (!lots.is_empty()).then_some((customer, lots))
            })
            .collect())
    })
    .expect("the replay")
}

fn kept(crm: &Crm, through: NaiveDate) -> Lots {
    crm.read(|r| r.tx().points_lots_earned_through(through))
        .expect("the kept lots")
}

/// Every bound that matters: far ahead, and each day a lot was earned on (and the
/// day before it), so a range that cuts between two lots is checked too.
fn bounds(crm: &Crm) -> Vec<NaiveDate> {
    let far = NaiveDate::from_ymd_opt(2200, 1, 1).expect("a day");
    let mut out = vec![far];
    for (_, lots) in replayed(crm, far) {
        for l in lots {
            out.push(l.earned_on);
            out.extend(l.earned_on.pred_opt());
        }
    }
    out.sort();
    out.dedup();
    out
}

fn differs(crm: &Crm) -> Option<String> {
    for through in bounds(crm) {
        let (k, r) = (kept(crm, through), replayed(crm, through));
        if k != r {
            return Some(format!("through {through}: kept {k:?}, replayed {r:?}"));
        }
    }
    None
}

fn person(crm: &Crm, who: &str, at: DateTime<Utc>) -> CustomerId {
    crm.write(|w| {
        w.create_customer(NewCustomer::new(
            CustomerData::new(PersonName::parse(who)?),
            at,
        ))
    })
    .expect("the check's step")
    .id()
}

fn post(crm: &Crm, who: CustomerId, at: DateTime<Utc>, kind: PointsKind, n: i64) {
    crm.write(|w| w.post_points(NewPointsEntry::new(who, at, kind, n)?))
        .expect("the check's step");
}

fn day(s: &str) -> NaiveDate {
    s.parse().expect("the check's date")
}

/// A fixed history in the Asia/Shanghai zone: back-dated earns that land before a
/// redemption's lots, a lot earned on a day another lot already has, adjustments
/// both ways, an expiry by hand, the lapses posted under a one-month validity, a
/// write that fails and leaves nothing, an erasure, and a change of zone that moves
/// an earn made at 17:00 UTC from one business day to the day before. After each,
/// the kept lots equal the replayed ones for every bound.
pub fn kept_points_lots_equal_the_replayed_ledgers(crm: &Crm) {
    let shanghai = BusinessZone::parse("Asia/Shanghai").expect("a zone");
    crm.write(|w| w.set_time_zone(shanghai)).expect("the zone");
    let t = |d: &str, h: u32| {
        let d = day(d);
        Utc.from_utc_datetime(&d.and_hms_opt(h, 0, 0).expect("an hour"))
    };
    let wang = person(crm, "王小明", t("2025-01-01", 1));
    let li = person(crm, "李四", t("2025-01-01", 1));
    let check = |step: &str| {
        if let Some(d) = differs(crm) {
            panic!("after {step}: {d}");
        }
    };
    check("nothing");
    post(crm, wang, t("2025-01-10", 17), PointsKind::Earn, 100); // Jan 11 in Beijing
    post(crm, wang, t("2025-01-11", 2), PointsKind::Earn, 40); // the same Beijing day
    post(crm, li, t("2025-02-01", 9), PointsKind::Earn, 300);
    check("three earns");
    post(crm, wang, t("2025-02-01", 9), PointsKind::Redeem, 120);
    check("a redemption across two lots");
    post(crm, wang, t("2024-12-01", 9), PointsKind::Earn, 50); // back-dated
    post(crm, wang, t("2025-02-02", 9), PointsKind::Redeem, 30);
    check("a back-dated earn, then a redemption that takes it first");
    post(crm, li, t("2025-02-03", 9), PointsKind::Adjust, -250);
    post(crm, li, t("2025-02-03", 10), PointsKind::Adjust, 25);
    post(crm, li, t("2025-02-04", 9), PointsKind::Expire, 10);
    check("adjustments and an expiry by hand");
    let failed = crm.write(|w| {
        w.post_points(NewPointsEntry::new(
            li,
            t("2025-02-05", 9),
            PointsKind::Redeem,
            20,
        )?)?;
        Err::<(), _>(StoreError::not_found(Entity::Customer, 404))
    });
    assert!(failed.is_err());
    check("a failed write");
    let month = PointsExpiry::new(1, day("2025-01-01")).expect("valid");
    crm.write(|w| w.set_points_expiry(Some(month)))
        .expect("the validity");
    for who in [wang, li] {
        crm.write(|w| w.post_due_lapses(who, day("2025-03-05")))
            .expect("the lapses");
    }
    check("the lapses posted");
    post(crm, li, t("2025-03-06", 9), PointsKind::Earn, 60);
    crm.write(|w| w.erase_customer(li, t("2025-03-07", 9)))
        .expect("erased");
    check("an erasure");
    let utc = BusinessZone::parse("UTC").expect("a zone");
    post(crm, wang, t("2025-03-08", 17), PointsKind::Earn, 5);
    post(crm, wang, t("2025-03-09", 1), PointsKind::Earn, 6);
    crm.write(|w| w.set_time_zone(utc)).expect("the zone");
    check("a change of zone");
    post(crm, wang, t("2025-03-09", 3), PointsKind::Redeem, 8);
    check("a redemption in the new zone");
}

/// One step of a random points history of one customer.
#[derive(Debug, Clone)]
enum Step {
    /// Earn `points`, dated `back` days before the step's instant.
    Earn { back: u16, points: i64 },
    /// Redeem `pct` percent of the balance (at least 1 point).
    Redeem { pct: u8 },
    /// Adjust by `points` (down: at most the balance).
    Adjust { points: i64 },
    /// Expire `pct` percent of the balance by hand.
    Expire { pct: u8 },
    /// Post the lapses due by the step's day.
    Lapse,
    /// Change the business time zone to one of three.
    Zone { which: u8 },
    /// Erase the customer (later writes to them are refused).
    Erase,
}

fn steps() -> impl Strategy<Value = Vec<Step>> {
    let step = prop_oneof![
        5 => (0u16..400, 1i64..500).prop_map(|(back, points)| Step::Earn { back, points }),
        3 => (1u8..=100).prop_map(|pct| Step::Redeem { pct }),
        2 => (-300i64..300).prop_map(|points| Step::Adjust { points }),
        1 => (1u8..=100).prop_map(|pct| Step::Expire { pct }),
        2 => Just(Step::Lapse),
        1 => (0u8..3).prop_map(|which| Step::Zone { which }),
        1 => Just(Step::Erase),
    ];
    prop::collection::vec(step, 1..24)
}

fn share(balance: i64, pct: u8) -> i64 {
    (balance * i64::from(pct) / 100).max(1)
}

/// Runs `steps` on a new customer (number `case`) of `crm`, a step every 20 hours from
/// 2025-06-01, under a three-month validity.
fn history(crm: &Crm, case: usize, steps: &[Step]) -> StoreResult<()> {
    let zones = ["Asia/Shanghai", "UTC", "America/Los_Angeles"];
    let start = Utc
        .with_ymd_and_hms(2025, 6, 1, 0, 0, 0)
        .single()
        .expect("valid");
    let who = crm.write(|w| {
        w.create_customer(NewCustomer::new(
            CustomerData::new(PersonName::parse(&format!("客户{case}"))?),
            start,
        ))
    })?;
    let who = who.id();
    let validity = PointsExpiry::new(3, day("2025-01-01")).expect("valid");
    crm.write(|w| w.set_points_expiry(Some(validity)))?;
    let mut erased = false;
    for (i, step) in steps.iter().enumerate() {
        let at = start + Duration::hours(20 * (i as i64 + 1));
        let balance = crm.read(|r| r.tx().points_balance(who))?;
        let entry = |kind, n| NewPointsEntry::new(who, at, kind, n);
        let new = match step {
            Step::Earn { back, points } => Some(NewPointsEntry::new(
                who,
                at - Duration::days(i64::from(*back)),
                PointsKind::Earn,
                *points,
            )?),
            Step::Redeem { pct } if balance > 0 => {
                Some(entry(PointsKind::Redeem, share(balance, *pct))?)
            }
            Step::Expire { pct } if balance > 0 => {
                Some(entry(PointsKind::Expire, share(balance, *pct))?)
            }
            Step::Adjust { points } if (*points).max(-balance) != 0 => {
                Some(entry(PointsKind::Adjust, (*points).max(-balance))?)
            }
            Step::Lapse if !erased => {
                let zone = crm.read(|r| r.time_zone())?;
                crm.write(|w| w.post_due_lapses(who, zone.date_of(at)))?;
                None
            }
            Step::Zone { which } => {
                let zone =
                    BusinessZone::parse(zones[usize::from(*which) % zones.len()]).expect("a zone");
                crm.write(|w| w.set_time_zone(zone))?;
                None
            }
            Step::Erase if !erased => {
                crm.write(|w| w.erase_customer(who, at))?;
                erased = true;
                None
            }
            _ => None,
        };
        if let Some(new) = new
            && !erased
        {
            crm.write(|w| w.post_points(new.clone()))?;
        }
    }
    Ok(())
}

/// Checks on `cases` random histories (or as many as `PROPTEST_CASES` says), each in
/// a fresh store made by `make` (empty, base currency EUR): after the history, the
/// kept lots equal the replayed ones for every bound.
/// Panics with the smallest failing history found.
pub fn check_kept_lots_replay(make: &dyn Fn() -> Crm, cases: u32) {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(cases);
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    let outcome = runner.run(&steps(), |steps| {
        let crm = make();
        history(&crm, 1, &steps)
            .map_err(|e| TestCaseError::fail(format!("the history failed: {e}")))?;
        match differs(&crm) {
            Some(d) => Err(TestCaseError::fail(d)),
            None => Ok(()),
        }
    });
    if let Err(e) = outcome {
        panic!("the kept points lots differ from the replayed ledgers: {e}");
    }
}
