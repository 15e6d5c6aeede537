//! Deserialising goes through the constructors: a JSON value that the constructors
//! would refuse is refused with the constructor's error, and every valid value survives
//! a round trip through JSON unchanged (same value, same bytes).

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use proptest::prelude::*;
use rust_decimal::Decimal;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use solocrm_core::{
    Currency, Customer, CustomerData, CustomerId, Deal, DealId, DealStage, Email, Label, Money,
    NewCustomer, NewDeal, NewPointsEntry, NewPurchase, NewRefund, NewServiceRequest, NewTask,
    PersonName, PointsEntry, PointsEntryId, PointsKind, Purchase, PurchaseId, Recurrence, Refund,
    RefundId, RequestEventKind, RequestId, RequestKind, ServiceRequest, StageProbabilities, Task,
    TaskId, TaskKind, Tier, TierRules,
};

fn at(day: u32, hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, day, hour, 0, 0)
        .single()
        .expect("valid")
}

fn eur(minor: i64) -> Money {
    Money::from_minor(minor, Currency::EUR)
}

/// Serialises `v` to a JSON value, lets `edit` break it, and returns the error of
/// reading it back, which must fail.
fn refused<T: Serialize + DeserializeOwned + std::fmt::Debug>(
    v: &T,
    edit: impl FnOnce(&mut Value),
) -> String {
    let mut json = serde_json::to_value(v).expect("serializes");
    edit(&mut json);
    match serde_json::from_value::<T>(json.clone()) {
        Ok(back) => panic!("{json} was accepted as {back:?}"),
        Err(e) => e.to_string(),
    }
}

/// Asserts `v` survives JSON: the same value, and the same bytes when written again.
fn round_trips<T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(v: &T) {
    let text = serde_json::to_string(v).expect("serializes");
    let back: T =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{text} does not read back: {e}"));
    assert_eq!(&back, v, "{text}");
    assert_eq!(serde_json::to_string(&back).expect("serializes"), text);
}

fn deal() -> Deal {
    Deal::create(
        DealId::new(1),
        NewDeal::new(
            CustomerId::new(7),
            Label::parse("website").expect("valid"),
            eur(100_000),
            at(1, 9),
        ),
    )
}

fn request() -> ServiceRequest {
    ServiceRequest::open(
        RequestId::new(4),
        NewServiceRequest {
            customer: CustomerId::new(7),
            kind: RequestKind::Complaint,
            subject: Label::parse("late delivery").expect("valid"),
            description: solocrm_core::FreeText::parse("the parcel came a week late")
                .expect("valid"),
            opened_at: at(2, 9),
            deal: None,
        },
    )
}

fn task(recurrence: Option<Recurrence>) -> Task {
    Task::create(
        TaskId::new(9),
        NewTask {
            customer: Some(CustomerId::new(7)),
            kind: TaskKind::FollowUp,
            title: Label::parse("call back").expect("valid"),
            due: NaiveDate::from_ymd_opt(2026, 3, 31).expect("valid"),
            recurrence,
            created_at: at(1, 9),
        },
    )
}

fn points(kind: PointsKind, points: i64, balance_after: i64) -> PointsEntry {
    let new = NewPointsEntry::new(CustomerId::new(7), at(3, 9), kind, points).expect("valid");
    PointsEntry::new(PointsEntryId::new(2), new, balance_after)
}

fn customer() -> Customer {
    let data = CustomerData::new(PersonName::parse("Ada").expect("valid"))
        .with_email(Email::parse("ada@example.com").expect("valid"))
        .with_acquisition(
            solocrm_core::Tag::parse("referral").expect("valid"),
            Some(eur(2_500)),
        );
    Customer::create(CustomerId::new(7), NewCustomer::new(data, at(1, 9)))
}

// The three probes of the issue.

#[test]
fn tier_rules_without_tiers_are_refused_instead_of_panicking_later() {
    let err = serde_json::from_str::<TierRules>(r#"{"tiers":[]}"#).unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid configuration: a tier list needs at least one tier"
    );
}

#[test]
fn a_stage_probability_of_5_is_refused() {
    let err = refused(&StageProbabilities::default(), |j| {
        j["open"][2] = json!("5")
    });
    assert_eq!(
        err,
        "invalid configuration: the probability of deal stage demo must be between 0 and 1, got 5"
    );
}

#[test]
fn a_won_deal_without_history_is_refused() {
    let err = refused(&deal(), |j| j["stage"] = json!("won"));
    assert_eq!(
        err,
        "inconsistent deal 1: stage is won but the history ends at need_identified"
    );
}

// One per type with an invariant.

#[test]
fn tier_rules_must_start_at_zero_and_rise() {
    let rules = TierRules::default_for(Currency::EUR);
    let err = refused(&rules, |j| {
        j["tiers"][0]["min_spend"]["amount"] = json!("1")
    });
    assert_eq!(
        err,
        "invalid configuration: the first tier 'bronze' must start at zero spend"
    );
    let err = refused(&rules, |j| {
        j["tiers"][2]["min_spend"]["amount"] = json!("500")
    });
    assert_eq!(
        err,
        "invalid configuration: tier 'gold' must start above tier 'silver', in the same currency"
    );
}

#[test]
fn a_deal_history_must_be_a_path_the_rules_allow() {
    let mut won = deal();
    won.move_to(DealStage::Proposal, at(2, 9)).expect("allowed");
    won.move_to(DealStage::Won, at(3, 9)).expect("allowed");
    // A move that does not start where the deal was.
    let err = refused(&won, |j| j["history"][1]["from"] = json!("demo"));
    assert_eq!(
        err,
        "inconsistent deal 1: history move 2 starts at demo but the deal was at proposal"
    );
    // A move out of a closed deal.
    let err = refused(&won, |j| {
        let extra = json!({"from": "won", "to": "lost", "at": "2026-03-04T09:00:00Z"});
        j["history"].as_array_mut().expect("array").push(extra);
        j["stage"] = json!("lost");
    });
    assert_eq!(
        err,
        "cannot move a deal from won to lost: the deal is closed"
    );
    // Moves out of time order.
    let err = refused(&won, |j| {
        j["history"][1]["at"] = json!("2026-03-01T09:00:00Z")
    });
    assert!(
        err.starts_with(
            "deal move (2026-03-01 09:00:00 UTC) must not be before the previous change"
        ),
        "{err}"
    );
    // A deal cannot enter the pipeline closed, nor be worth less than nothing.
    let err = refused(&deal(), |j| {
        j["initial_stage"] = json!("won");
        j["stage"] = json!("won");
    });
    assert!(err.starts_with("unknown first deal stage 'won'"), "{err}");
    let err = refused(&deal(), |j| j["value"]["amount"] = json!("-1"));
    assert_eq!(err, "deal value must not be negative, got -1.00 EUR");
}

#[test]
fn a_service_request_status_must_follow_from_its_events() {
    let mut resolved = request();
    resolved
        .apply(RequestEventKind::Responded, at(2, 10))
        .expect("allowed");
    resolved
        .apply(RequestEventKind::Resolved, at(2, 11))
        .expect("allowed");
    let err = refused(&request(), |j| j["status"] = json!("resolved"));
    assert_eq!(
        err,
        "inconsistent service request 4: status is resolved but the events leave it open"
    );
    let err = refused(&resolved, |j| j["resolved_at"] = Value::Null);
    assert_eq!(
        err,
        "inconsistent service request 4: resolution time is none but the events give 2026-03-02 11:00:00 UTC"
    );
    let err = refused(&resolved, |j| {
        j["first_response_at"] = json!("2026-03-02T11:00:00Z")
    });
    assert!(
        err.starts_with(
            "inconsistent service request 4: first response time is 2026-03-02 11:00:00 UTC"
        ),
        "{err}"
    );
    let err = refused(&request(), |j| j["events"] = json!([]));
    assert_eq!(
        err,
        "inconsistent service request 4: events must start with opened at 2026-03-02 09:00:00 UTC, the opening time"
    );
    // A step the rules forbid: reopening a request that is open.
    let err = refused(&request(), |j| {
        let reopen = json!({"kind": "reopened", "at": "2026-03-02T10:00:00Z"});
        j["events"].as_array_mut().expect("array").push(reopen);
    });
    assert_eq!(err, "cannot reopen a service request that is open");
}

#[test]
fn a_task_completion_state_must_be_reachable() {
    let err = refused(&task(Some(Recurrence::Weekly)), |j| {
        j["done"] = json!(true);
        j["last_done_at"] = json!("2026-03-04T09:00:00Z");
    });
    assert_eq!(
        err,
        "inconsistent task 9: done is true, but a recurring task is never done"
    );
    let err = refused(&task(None), |j| {
        j["occurrence"] = json!(3);
        j["last_done_at"] = json!("2026-03-04T09:00:00Z");
    });
    assert_eq!(
        err,
        "inconsistent task 9: occurrence is 3, but a one-off task has none"
    );
    let err = refused(&task(None), |j| j["done"] = json!(true));
    assert_eq!(
        err,
        "inconsistent task 9: last_done_at is missing, but the task was completed"
    );
    let err = refused(&task(None), |j| {
        j["last_done_at"] = json!("2026-03-04T09:00:00Z")
    });
    assert_eq!(
        err,
        "inconsistent task 9: last_done_at is set, but the task was never completed"
    );
}

#[test]
fn a_points_entry_has_the_sign_of_its_kind_and_no_negative_balance() {
    let err = refused(&points(PointsKind::Redeem, 50, 10), |j| {
        j["delta"] = json!(50)
    });
    assert_eq!(err, "redeem points must be more than zero, got -50");
    let err = refused(&points(PointsKind::Earn, 5, 5), |j| j["delta"] = json!(-5));
    assert_eq!(err, "earn points must be more than zero, got -5");
    let err = refused(&points(PointsKind::Adjust, 5, 5), |j| j["delta"] = json!(0));
    assert_eq!(err, "adjust points must be not zero, got 0");
    let err = refused(&points(PointsKind::Expire, 5, 0), |j| {
        j["delta"] = json!(i64::MIN);
    });
    assert_eq!(
        err,
        format!("expire points must be more than zero, got {}", i64::MAX)
    );
    let err = refused(&points(PointsKind::Earn, 5, 5), |j| {
        j["balance_after"] = json!(-1)
    });
    assert_eq!(
        err,
        format!(
            "points balance after the entry -1 is out of range; expected 0 to {}",
            i64::MAX
        )
    );
}

#[test]
fn purchases_and_refunds_hold_stored_amounts() {
    let purchase = Purchase::new(
        PurchaseId::new(3),
        NewPurchase::new(CustomerId::new(7), at(3, 9), eur(4_990)),
    );
    let err = refused(&purchase, |j| j["amount"]["amount"] = json!("-1"));
    assert_eq!(err, "purchase amount must not be negative, got -1.00 EUR");
    let err = refused(&purchase, |j| j["amount"]["amount"] = json!("1.005"));
    assert_eq!(
        err,
        "purchase amount 1.005 EUR has more decimal places than EUR allows (2)"
    );
    let err = refused(&purchase, |j| {
        j["cost"] = json!({"amount": "1.00", "currency": "USD"});
    });
    assert_eq!(
        err,
        "purchase cost is in USD, but this store keeps its books in EUR (multi-currency is not supported)"
    );
    let refund = Refund::new(
        RefundId::new(5),
        CustomerId::new(7),
        NewRefund {
            purchase: PurchaseId::new(3),
            at: at(4, 9),
            amount: eur(990),
            reason: None,
        },
    );
    let err = refused(&refund, |j| j["amount"]["amount"] = json!("0"));
    assert_eq!(err, "refund amount must be more than zero, got 0.00 EUR");
}

#[test]
fn a_customer_holds_stored_data_and_an_erased_one_holds_none() {
    let err = refused(&customer(), |j| {
        j["acquisition_cost"]["amount"] = json!("-3")
    });
    assert_eq!(err, "acquisition cost must not be negative, got -3.00 EUR");
    let err = refused(&customer(), |j| j["birthday"] = json!("0000-06-01"));
    assert!(err.starts_with("birthday 0000-06-01 is before"), "{err}");
    let mut erased = customer();
    erased.erase(at(5, 9));
    round_trips(&erased);
    let err = refused(&erased, |j| j["email"] = json!("ada@example.com"));
    assert_eq!(
        err,
        "inconsistent customer 7: erased_at is set, but the customer still holds personal data or consents"
    );
}

// Valid values survive unchanged.

#[test]
fn the_json_form_of_a_deal_is_unchanged() {
    let mut d = deal();
    d.move_to(DealStage::Won, at(2, 9)).expect("allowed");
    assert_eq!(
        serde_json::to_string(&d).expect("serializes"),
        concat!(
            r#"{"id":1,"customer":7,"title":"website","value":{"amount":"1000.00","currency":"EUR"},"#,
            r#""created_at":"2026-03-01T09:00:00Z","initial_stage":"need_identified","stage":"won","#,
            r#""expected_close":null,"history":[{"from":"need_identified","to":"won","at":"2026-03-02T09:00:00Z"}]}"#
        )
    );
}

#[test]
fn valid_values_of_every_checked_type_round_trip() {
    round_trips(&TierRules::default_for(Currency::EUR));
    round_trips(
        &TierRules::new(vec![Tier {
            name: Label::parse("all").expect("valid"),
            min_spend: Money::zero(Currency::JPY),
        }])
        .expect("valid"),
    );
    round_trips(&StageProbabilities::default());
    round_trips(
        &StageProbabilities::new([
            Decimal::ZERO,
            Decimal::ONE,
            Decimal::ONE,
            Decimal::ZERO,
            Decimal::new(5, 1),
        ])
        .expect("valid"),
    );
    round_trips(&deal());
    round_trips(&request());
    let mut once = task(None);
    round_trips(&once);
    once.complete(at(4, 9)).expect("open");
    round_trips(&once);
    let mut weekly = task(Some(Recurrence::Weekly));
    weekly.complete(at(4, 9)).expect("open");
    weekly.complete(at(11, 9)).expect("open");
    round_trips(&weekly);
    for (kind, n, balance) in [
        (PointsKind::Earn, 10, 10),
        (PointsKind::Redeem, 4, 6),
        (PointsKind::Expire, 6, 0),
        (PointsKind::Adjust, -1, 0),
        (PointsKind::Earn, i64::MAX, i64::MAX),
    ] {
        round_trips(&points(kind, n, balance));
    }
    let mut purchase = NewPurchase::new(CustomerId::new(7), at(3, 9), Money::zero(Currency::EUR));
    purchase.cost = Some(eur(1));
    round_trips(&Purchase::new(PurchaseId::new(3), purchase));
    round_trips(&Purchase::new(
        PurchaseId::new(4),
        NewPurchase::new(
            CustomerId::new(7),
            at(3, 9),
            Money::from_minor(99_999_999_999_999, Currency::EUR),
        ),
    ));
    round_trips(&Refund::new(
        RefundId::new(5),
        CustomerId::new(7),
        NewRefund {
            purchase: PurchaseId::new(3),
            at: at(4, 9),
            amount: Money::from_minor(1, Currency::JPY),
            reason: None,
        },
    ));
    round_trips(&customer());
}

fn any_deal_stage() -> impl Strategy<Value = DealStage> {
    prop::sample::select(DealStage::ALL)
}

fn any_request_step() -> impl Strategy<Value = RequestEventKind> {
    prop::sample::select(RequestEventKind::ALL)
}

proptest! {
    /// Any deal built through the rules, with any moves they allow, reads back as
    /// itself.
    #[test]
    fn deals_built_by_the_rules_round_trip(
        start in prop::sample::select(DealStage::OPEN.to_vec()),
        moves in prop::collection::vec((any_deal_stage(), 0_u32..48), 0..12),
        value in 0_i64..1_000_000_000,
    ) {
        let mut new = NewDeal::new(
            CustomerId::new(7),
            Label::parse("deal").expect("valid"),
            eur(value),
            at(1, 0),
        );
        new.stage = start;
        let mut d = Deal::create(DealId::new(1), new);
        let mut t = at(1, 0);
        for (to, hours) in moves {
            t += chrono::Duration::hours(i64::from(hours));
            let _refused_or_moved = d.move_to(to, t);
        }
        round_trips(&d);
    }

    /// Any service request driven through the rules reads back as itself.
    #[test]
    fn service_requests_built_by_the_rules_round_trip(
        steps in prop::collection::vec((any_request_step(), 0_u32..48), 0..12),
    ) {
        let mut r = request();
        let mut t = at(2, 9);
        for (kind, hours) in steps {
            t += chrono::Duration::hours(i64::from(hours));
            let _refused_or_applied = r.apply(kind, t);
        }
        round_trips(&r);
    }

    /// Any task completed any number of times reads back as itself.
    #[test]
    fn tasks_completed_by_the_rules_round_trip(
        recurrence in prop::option::of(prop::sample::select(Recurrence::ALL)),
        completions in 0_usize..5,
    ) {
        let mut t = task(recurrence);
        for i in 0..completions {
            let _done_or_refused = t.complete(at(4 + u32::try_from(i).expect("small"), 9));
        }
        round_trips(&t);
    }
}

#[test]
fn config_types_deserialise_through_their_checks() {
    use solocrm_core::care::Holiday;
    use solocrm_core::{LifecyclePolicy, ReportConfig};

    let policy = LifecyclePolicy::default();
    let err = refused(&policy, |j| j["loyal_min_purchases"] = json!(1));
    assert!(
        err.contains("loyalty needs at least two purchases"),
        "{err}"
    );
    let err = refused(&policy, |j| j["churn_after_days"] = json!(10));
    assert!(err.contains("below the churn horizon"), "{err}");

    let config = ReportConfig::default();
    let err = refused(&config, |j| j["csat_satisfied_from"] = json!(9));
    assert!(err.contains("between 1 and 5, got 9"), "{err}");
    let err = refused(&config, |j| j["discount_rate"] = json!("-0.5"));
    assert!(err.contains("must not be negative"), "{err}");
    // The nested policy is checked too.
    let err = refused(&config, |j| j["policy"]["min_overdue_days"] = json!(0));
    assert!(err.contains("above zero"), "{err}");

    let spring = Holiday::new(Label::parse("春节").expect("label"), 2, 10).expect("a day");
    let err = refused(&spring, |j| j["day"] = json!(30));
    assert!(err.contains("02-30 is not a day of the year"), "{err}");

    // Valid values round-trip unchanged: same value, same bytes.
    let text = serde_json::to_string(&policy).expect("policy");
    let back: LifecyclePolicy = serde_json::from_str(&text).expect("de");
    assert_eq!(
        (serde_json::to_string(&back).expect("ser"), back),
        (text, policy)
    );
    let text = serde_json::to_string(&config).expect("config");
    let back: ReportConfig = serde_json::from_str(&text).expect("de");
    assert_eq!(
        (serde_json::to_string(&back).expect("ser"), back),
        (text, config)
    );
    let back: Holiday =
        serde_json::from_str(&serde_json::to_string(&spring).expect("ser")).expect("de");
    assert_eq!(back, spring);
}
