//! The as-of replay property: every analytic view of the books read through
//! [`AsOf`](solocrm_core::ops::history::AsOf) with a cutoff equals the same view of a copy
//! of the books holding only what had happened before the cutoff.
//!
//! [`check_as_of_replay`] generates random histories (customers created at various
//! instants, stage moves, purchases, refunds, survey answers, service requests and
//! their steps, interactions, deals and their moves, notes and lost reasons, tasks and
//! their completion and cancellation, points and consents), writes each in time order into a store, picks a day D, and
//! compares the store read as of the first instant after D (UTC) with a fresh store
//! into which only the records dated before that instant were written. Run it with
//! [`as_of_conformance!`](crate::as_of_conformance).
//!
//! Both stores get their records in the same order, so ids agree and every view is
//! compared whole, ids included. Erasure is not generated: an erased customer's data is
//! gone for good, so the as-of view shows their placeholder where the copy would show
//! the data (a documented limit of the replay).

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use solocrm_core::care::CareConfig;
use solocrm_core::metrics::{
    Activity, CohortGrain, ReportConfig, TieRule, WarningConfig, churn_warnings,
    churn_warnings_by_stage, cohort_matrix, rfm,
};
use solocrm_core::{
    ActivityQuery, Channel, Consent, Crm, Currency, CustomerData, CustomerQuery, DealEdit,
    DealStage, Direction, FreeText, Label, LifecyclePolicy, LifecycleStage, Money, NewCustomer,
    NewDeal, NewInteraction, NewPointsEntry, NewPurchase, NewRefund, NewServiceRequest,
    NewSurveyResponse, NewTask, OpenQuery, Period, PersonName, PointsKind, Predicate, Reader,
    Recurrence, RequestEventKind, RequestKind, RequestStatus, SegmentFilter, SharedReads,
    StageReason, StoreResult, SurveyKind, SurveyScore, Tag, TaskKind, TaskQuery, TimeRange,
};

/// How many random histories a run tries.
pub const CASES: u32 = 28;

/// The first instant of the generated histories: 2025-01-01 00:00 UTC.
fn epoch() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0)
        .single()
        .unwrap_or(DateTime::<Utc>::UNIX_EPOCH)
}

/// How many days a history spans.
const SPAN_DAYS: i64 = 150;

/// One thing that happens, at a minute of the history. Indices pick among the records
/// that exist when it happens (modulo their number); a step with nothing to pick is
/// skipped, the same way in both stores.
#[derive(Debug, Clone)]
enum Step {
    Customer {
        stage: u8,
        tag: bool,
    },
    Stage {
        customer: usize,
        to: usize,
    },
    Purchase {
        customer: usize,
        cents: u32,
    },
    Refund {
        purchase: usize,
        percent: u8,
    },
    Survey {
        customer: usize,
        kind: u8,
        value: u8,
    },
    Interaction {
        customer: usize,
        channel: u8,
    },
    Request {
        customer: usize,
    },
    RequestMove {
        request: usize,
        kind: u8,
    },
    Deal {
        customer: usize,
        cents: u32,
    },
    DealMove {
        deal: usize,
        to: usize,
    },
    Task {
        customer: usize,
        due_in: u8,
        recurring: bool,
    },
    DealNote {
        deal: usize,
    },
    Cancel {
        task: usize,
    },
    Complete {
        task: usize,
    },
    Points {
        customer: usize,
        points: u16,
        redeem: bool,
    },
    Consent {
        customer: usize,
        granted: bool,
    },
}

fn step() -> impl Strategy<Value = Step> {
    let ix = || 0usize..1000;
    prop_oneof![
        4 => (0u8..4, any::<bool>()).prop_map(|(stage, tag)| Step::Customer { stage, tag }),
        3 => (ix(), ix()).prop_map(|(customer, to)| Step::Stage { customer, to }),
        6 => (ix(), 100u32..50_000).prop_map(|(customer, cents)| Step::Purchase { customer, cents }),
        1 => (ix(), 1u8..=100).prop_map(|(purchase, percent)| Step::Refund { purchase, percent }),
        2 => (ix(), 0u8..3, 0u8..11).prop_map(|(customer, kind, value)| Step::Survey { customer, kind, value }),
        2 => (ix(), 0u8..4).prop_map(|(customer, channel)| Step::Interaction { customer, channel }),
        1 => ix().prop_map(|customer| Step::Request { customer }),
        2 => (ix(), 0u8..3).prop_map(|(request, kind)| Step::RequestMove { request, kind }),
        1 => (ix(), 1000u32..900_000).prop_map(|(customer, cents)| Step::Deal { customer, cents }),
        2 => (ix(), ix()).prop_map(|(deal, to)| Step::DealMove { deal, to }),
        1 => (ix(), 0u8..60, any::<bool>()).prop_map(|(customer, due_in, recurring)| Step::Task { customer, due_in, recurring }),
        1 => ix().prop_map(|task| Step::Complete { task }),
        1 => ix().prop_map(|deal| Step::DealNote { deal }),
        1 => ix().prop_map(|task| Step::Cancel { task }),
        1 => (ix(), 1u16..500, any::<bool>()).prop_map(|(customer, points, redeem)| Step::Points { customer, points, redeem }),
        1 => (ix(), any::<bool>()).prop_map(|(customer, granted)| Step::Consent { customer, granted }),
    ]
}

/// A history: steps at minutes from the epoch, in time order; the day D the books are
/// read as of; and whether the default lifecycle policy moves customers by itself.
#[derive(Debug, Clone)]
pub struct History {
    steps: Vec<(i64, Step)>,
    day: i64,
    policy: bool,
    /// The books' zone, an index into [`ZONES`].
    zone: usize,
}

/// The business time zones the histories are read in: days end at different instants
/// in each, and New York's change with summer time.
const ZONES: [&str; 3] = ["UTC", "Asia/Shanghai", "America/New_York"];

fn history() -> impl Strategy<Value = History> {
    let minutes = 0..SPAN_DAYS * 24 * 60;
    (
        prop::collection::vec((minutes, step()), 1..90),
        0..SPAN_DAYS + 10,
        any::<bool>(),
        0..ZONES.len(),
    )
        .prop_map(|(mut steps, day, policy, zone)| {
            steps.sort_by_key(|(t, _)| *t);
            History {
                steps,
                day,
                policy,
                zone,
            }
        })
}

fn at_minute(minute: i64) -> DateTime<Utc> {
    epoch() + Duration::minutes(minute)
}

fn pick<T: Copy>(items: &[T], i: usize) -> Option<T> {
    if items.is_empty() {
        None
    } else {
        items.get(i % items.len()).copied()
    }
}

fn text(s: &str) -> StoreResult<Label> {
    Ok(Label::parse(s)?)
}

/// What a replay has created so far, to pick from.
#[derive(Default)]
struct Made {
    customers: Vec<solocrm_core::CustomerId>,
    purchases: Vec<(solocrm_core::PurchaseId, i64)>,
    requests: Vec<solocrm_core::RequestId>,
    deals: Vec<solocrm_core::DealId>,
    tasks: Vec<solocrm_core::TaskId>,
}

/// Writes the steps dated before `cutoff` (all of them for `None`) into `crm`, each in
/// its own write. A write the rules refuse (a move the table forbids, a refund beyond
/// the purchase) is refused the same way in both stores, since both hold the same
/// records when it comes.
fn replay(crm: &Crm, h: &History, cutoff: Option<DateTime<Utc>>) {
    let eur = Currency::EUR;
    let mut made = Made::default();
    for (minute, step) in &h.steps {
        let at = at_minute(*minute);
        if cutoff.is_some_and(|c| at >= c) {
            break;
        }
        let _ = crm.write(|w| {
            match step {
                Step::Customer { stage, tag } => {
                    let name = PersonName::parse(&format!("customer {}", made.customers.len()))?;
                    let mut data = CustomerData::new(name);
                    if *tag {
                        data = data.with_tag(Tag::parse("vip")?);
                    }
                    let first = [
                        LifecycleStage::Prospect,
                        LifecycleStage::Lead,
                        LifecycleStage::New,
                        LifecycleStage::Active,
                    ][usize::from(*stage) % 4];
                    let c = w.create_customer(NewCustomer::new(data, at).at_stage(first))?;
                    made.customers.push(c.id());
                }
                Step::Stage { customer, to } => {
                    if let Some(id) = pick(&made.customers, *customer) {
                        let c = w.reader().customer(id)?;
                        if let Some(to) = pick(c.stage().successors(), *to) {
                            w.change_stage(id, to, at, StageReason::manual())?;
                        }
                    }
                }
                Step::Purchase { customer, cents } => {
                    if let Some(id) = pick(&made.customers, *customer) {
                        let cents = i64::from(*cents);
                        let amount = Money::from_minor(cents, eur);
                        let p = w.record_purchase(NewPurchase::new(id, at, amount))?;
                        made.purchases.push((p.id(), cents));
                    }
                }
                Step::Refund { purchase, percent } => {
                    if let Some((id, cents)) = pick(&made.purchases, *purchase) {
                        let minor = cents * i64::from(*percent) / 100;
                        if minor > 0 {
                            w.record_refund(NewRefund {
                                purchase: id,
                                at,
                                amount: Money::from_minor(minor, eur),
                                reason: None,
                            })?;
                        }
                    }
                }
                Step::Survey {
                    customer,
                    kind,
                    value,
                } => {
                    if let Some(id) = pick(&made.customers, *customer) {
                        let kind = [SurveyKind::Nps, SurveyKind::Csat, SurveyKind::Ces]
                            [usize::from(*kind) % 3];
                        let (lo, hi) = kind.range();
                        let value = lo + value % (hi - lo + 1);
                        w.record_survey(NewSurveyResponse {
                            customer: id,
                            at,
                            score: SurveyScore::new(kind, i64::from(value))?,
                            comment: None,
                        })?;
                    }
                }
                Step::Interaction { customer, channel } => {
                    if let Some(id) = pick(&made.customers, *customer) {
                        let channel = [
                            Channel::Email,
                            Channel::Phone,
                            Channel::InPerson,
                            Channel::Chat,
                        ][usize::from(*channel) % 4];
                        w.log_interaction(NewInteraction {
                            customer: id,
                            channel,
                            direction: Direction::Inbound,
                            at,
                            summary: FreeText::parse("a word")?,
                            sentiment: None,
                        })?;
                    }
                }
                Step::Request { customer } => {
                    if let Some(id) = pick(&made.customers, *customer) {
                        let r = w.open_request(NewServiceRequest {
                            customer: id,
                            kind: RequestKind::Question,
                            subject: text("a question")?,
                            description: FreeText::empty(),
                            opened_at: at,
                            deal: None,
                        })?;
                        made.requests.push(r.id());
                    }
                }
                Step::RequestMove { request, kind } => {
                    if let Some(id) = pick(&made.requests, *request) {
                        let status = w.reader().request(id)?.status();
                        let step = match (status, kind % 3) {
                            (RequestStatus::Resolved, _) => RequestEventKind::Reopened,
                            (_, 0) => RequestEventKind::Responded,
                            _ => RequestEventKind::Resolved,
                        };
                        w.update_request(id, step, at)?;
                    }
                }
                Step::Deal { customer, cents } => {
                    if let Some(id) = pick(&made.customers, *customer) {
                        let value = Money::from_minor(i64::from(*cents), eur);
                        let d = w.create_deal(NewDeal::new(id, text("a deal")?, value, at))?;
                        made.deals.push(d.id());
                    }
                }
                Step::DealMove { deal, to } => {
                    if let Some(id) = pick(&made.deals, *deal) {
                        let from = w.reader().deal(id)?.stage();
                        let allowed: Vec<DealStage> = DealStage::ALL
                            .iter()
                            .copied()
                            .filter(|s| from.check_move(*s).is_ok())
                            .collect();
                        if let Some(to) = pick(&allowed, *to) {
                            w.move_deal(id, to, at)?;
                            // A lost reason comes with the move (as `deal move ID lost
                            // --reason` records it), so it is as old as the move.
                            if to == DealStage::Lost {
                                w.edit_deal(
                                    id,
                                    &DealEdit {
                                        lost_reason: Some(text("too dear")?),
                                        ..DealEdit::default()
                                    },
                                )?;
                            }
                        }
                    }
                }
                Step::Task {
                    customer,
                    due_in,
                    recurring,
                } => {
                    let t = w.create_task(NewTask {
                        customer: pick(&made.customers, *customer),
                        kind: TaskKind::FollowUp,
                        title: text("call back")?,
                        due: at.date_naive() + Duration::days(i64::from(*due_in)),
                        recurrence: recurring.then_some(Recurrence::Monthly),
                        created_at: at,
                    })?;
                    made.tasks.push(t.id());
                }
                Step::DealNote { deal } => {
                    if let Some(id) = pick(&made.deals, *deal) {
                        w.edit_deal(
                            id,
                            &DealEdit {
                                note: Some((at, FreeText::parse("called")?)),
                                ..DealEdit::default()
                            },
                        )?;
                    }
                }
                Step::Cancel { task } => {
                    if let Some(id) = pick(&made.tasks, *task) {
                        w.cancel_task(id, at)?;
                    }
                }
                Step::Complete { task } => {
                    if let Some(id) = pick(&made.tasks, *task) {
                        // Completing a recurring task after the cutoff cannot be
                        // rewound (a task keeps only its latest completion): only
                        // one-off tasks are completed.
                        if w.reader().task(id)?.recurrence().is_none() {
                            w.complete_task(id, at)?;
                        }
                    }
                }
                Step::Points {
                    customer,
                    points,
                    redeem,
                } => {
                    if let Some(id) = pick(&made.customers, *customer) {
                        let kind = if *redeem {
                            PointsKind::Redeem
                        } else {
                            PointsKind::Earn
                        };
                        w.post_points(NewPointsEntry::new(id, at, kind, i64::from(*points))?)?;
                    }
                }
                Step::Consent { customer, granted } => {
                    if let Some(id) = pick(&made.customers, *customer) {
                        w.record_consent(
                            id,
                            Consent {
                                purpose: Tag::parse("newsletter")?,
                                granted: *granted,
                                at,
                                source: text("web form")?,
                            },
                        )?;
                    }
                }
            }
            Ok(())
        });
    }
}

/// The segments compared, in the syntax of
/// [`Predicate::parse`](solocrm_core::Predicate::parse).
const SEGMENTS: &[&str] = &[
    "stage = active or stage = loyal",
    "stage = at_risk",
    "tag = \"vip\" and purchase_count >= 2",
    "days_since_purchase > 30",
    "total_spend >= 200",
    "not stage = prospect and purchase_count = 0",
    "consent = \"newsletter\"",
];

/// Every view compared, as text (each view's `Debug` form: the views hold money,
/// ratios and errors, whose `Debug` is exact).
fn views(
    r: &Reader<'_>,
    day: NaiveDate,
    cutoff: DateTime<Utc>,
) -> StoreResult<BTreeMap<String, String>> {
    let mut v = BTreeMap::new();
    let mut put = |k: &str, x: String| {
        v.insert(k.to_owned(), x);
    };
    // The records themselves.
    let everyone = r.all_matching(&CustomerQuery {
        include_erased: true,
        ..CustomerQuery::default()
    })?;
    put("customers", format!("{everyone:#?}"));
    put("count", format!("{}", r.count_customers()?));
    put("keys", format!("{:?}", r.customer_keys()?));
    for c in &everyone {
        put(
            &format!("history {}", c.id()),
            format!("{:?}", r.stage_history(c.id())?),
        );
        put(
            &format!("points {}", c.id()),
            format!(
                "{:?} {}",
                r.points_ledger(c.id())?,
                r.points_balance(c.id())?
            ),
        );
    }
    put(
        "purchases",
        format!("{:?}", r.purchases(&ActivityQuery::ALL)?),
    );
    put("refunds", format!("{:?}", r.refunds(&ActivityQuery::ALL)?));
    put("surveys", format!("{:?}", r.surveys(&ActivityQuery::ALL)?));
    put(
        "interactions",
        format!("{:?}", r.interactions(&ActivityQuery::ALL)?),
    );
    put(
        "requests",
        format!("{:#?}", r.requests(&OpenQuery::default())?),
    );
    let open = OpenQuery {
        customer: None,
        open_only: true,
    };
    put("open requests", format!("{:?}", r.requests(&open)?));
    put("deals", format!("{:#?}", r.deals(&OpenQuery::default())?));
    put("open deals", format!("{:?}", r.deals(&open)?));
    for include_done in [false, true] {
        let q = TaskQuery {
            customer: None,
            due_until: None,
            include_done,
        };
        put(
            &format!("tasks {include_done}"),
            format!("{:?}", r.tasks(&q)?),
        );
    }
    let log = r.purchase_log()?;
    put("purchase log", format!("{log:?}"));

    // Stage counts (customers not erased), as the dashboard counts them.
    let live: Vec<_> = everyone.iter().filter(|c| !c.is_erased()).collect();
    for s in LifecycleStage::ALL {
        let n = live.iter().filter(|c| c.stage() == *s).count();
        put(&format!("stage {s}"), n.to_string());
    }

    // The report of the 90 days up to D, and its 365-day sibling.
    let end = day + Duration::days(1);
    for days in [90, 365] {
        if let Ok(period) = Period::new(end - Duration::days(days), end) {
            let report = r.metrics_report(period, &ReportConfig::default());
            put(&format!("report {days}"), format!("{report:#?}"));
        }
    }

    // The care list of the next 30 days, as of the last instant of D.
    let last = cutoff - Duration::nanoseconds(1);
    put(
        "care",
        format!("{:#?}", r.care_due(last, 30, &CareConfig::default())?),
    );

    // The churn early warning, read as the command line reads it.
    let customers = r.all_customers()?;
    let until = ActivityQuery {
        customer: None,
        range: TimeRange::until(cutoff),
        include_voided: false,
    };
    let surveys = r.surveys(&until)?;
    let requests = r.requests(&OpenQuery::default())?;
    let interactions = r.interactions(&until)?;
    let activity = Activity {
        customers: &customers,
        log: &log,
        surveys: &surveys,
        requests: &requests,
        interactions: &interactions,
    };
    let warnings = churn_warnings(
        &activity,
        &LifecyclePolicy::default(),
        &WarningConfig::default(),
        day,
    );
    put("churn risk", format!("{warnings:#?}"));
    // The same from the stages alone, as the command line reads it now.
    let stages = r.customer_stages()?;
    let by_stage = churn_warnings_by_stage(
        &stages,
        &Activity {
            customers: &[],
            ..activity
        },
        &LifecyclePolicy::default(),
        &WarningConfig::default(),
        day,
    );
    put("churn risk by stage", format!("{by_stage:#?}"));
    put("stages", format!("{stages:?}"));
    put("customer dates", format!("{:?}", r.customer_dates()?));
    // The narrow rows a report reads (the as-of view answers them from the store's
    // own, filtered), up to the cutoff, a day before it and past every record of the
    // history (nothing after the cutoff is in the view).
    put(
        "report customers",
        format!("{:?}", r.tx().report_customers()?),
    );
    for until in [
        cutoff,
        cutoff - Duration::days(1),
        cutoff + Duration::days(SPAN_DAYS + 20),
    ] {
        put(
            &format!("report purchases {until}"),
            format!("{:?}", r.tx().report_purchases(until)?),
        );
        put(
            &format!("report purchases and log {until}"),
            format!("{:?}", r.tx().report_purchases_and_log(until)?),
        );
        put(
            &format!("report interactions {until}"),
            format!("{:?}", r.tx().report_interactions(until)?),
        );
        put(
            &format!("survey scores {until}"),
            format!("{:?}", r.tx().survey_scores(until)?),
        );
    }

    // Segment membership as of the last instant of D.
    for expr in SEGMENTS {
        let predicate = Predicate::parse(expr)
            .map_err(|e| solocrm_core::StoreError::backend(std::io::Error::other(e.to_string())))?;
        let members: Vec<_> = r
            .all_matching(&CustomerQuery {
                segment: Some(SegmentFilter {
                    predicate,
                    as_of: last,
                }),
                ..CustomerQuery::default()
            })?
            .iter()
            .map(|c| c.id())
            .collect();
        put(&format!("segment {expr}"), format!("{members:?}"));
    }

    // RFM and cohorts over the purchase log.
    for tie in [TieRule::Shared, TieRule::Ordinal] {
        put(&format!("rfm {tie}"), format!("{:#?}", rfm(&log, day, tie)));
    }
    for grain in [CohortGrain::Month, CohortGrain::Week] {
        put(
            &format!("cohort {grain}"),
            format!("{:#?}", cohort_matrix(&log, grain, day)),
        );
    }
    Ok(v)
}

/// The property, over one history: the as-of view of the whole history equals the
/// view of the history cut at the cutoff.
fn one(make: &dyn Fn() -> Crm, h: &History) -> Result<(), TestCaseError> {
    let policy = h.policy.then(LifecyclePolicy::default);
    let day = epoch().date_naive() + Duration::days(h.day);
    let zone = solocrm_core::BusinessZone::parse(ZONES[h.zone])
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
    // The first instant after the business-local day.
    let cutoff = zone.end_of(day);
    let in_zone = |crm: &Crm| {
        crm.write(|w| w.set_time_zone(zone))
            .map_err(|e| TestCaseError::fail(format!("setting the zone: {e}")))
    };
    let full = make().with_lifecycle(policy.clone());
    in_zone(&full)?;
    replay(&full, h, None);
    let cut = make().with_lifecycle(policy);
    in_zone(&cut)?;
    replay(&cut, h, Some(cutoff));

    let then = full
        .read_as_of(cutoff, |r| views(&r, day, cutoff))
        .map_err(|e| TestCaseError::fail(format!("reading as of {cutoff}: {e}")))?;
    let copy = cut
        .read(|r| views(&r, day, cutoff))
        .map_err(|e| TestCaseError::fail(format!("reading the copy: {e}")))?;
    // The same views through reads shared with a view of a later day in the same
    // snapshot (a series' periods, ADR 0067): that view reads first, so the rows kept
    // run past this cutoff and this view takes the ones before it.
    let later_day = day + Duration::days(30);
    let later = zone.end_of(later_day);
    let shared = full
        .read(|r| {
            let shared = SharedReads::new(r.tx(), later);
            shared.as_of(later, |v| views(&v, later_day, later))?;
            shared.as_of(cutoff, |v| views(&v, day, cutoff))
        })
        .map_err(|e| TestCaseError::fail(format!("reading as of {cutoff}, shared: {e}")))?;
    for (how, then) in [
        ("as of the cutoff", &then),
        ("as of the cutoff, shared", &shared),
    ] {
        prop_assert_eq!(then.len(), copy.len(), "the same views");
        for (name, view) in &copy {
            let replayed = then.get(name).map_or("(missing)", String::as_str);
            prop_assert_eq!(
                replayed,
                view.as_str(),
                "view `{}` as of {} (left: the whole history read {}, right: a copy holding only the records before it)",
                name,
                day,
                how
            );
        }
    }
    // The outbox: every dated event before the cutoff, the same in both.
    let events = |crm: &Crm, as_of: bool| -> StoreResult<String> {
        let mut all = if as_of {
            crm.read_as_of(cutoff, |r| r.events(0, u32::MAX))?
        } else {
            crm.read(|r| r.events(0, u32::MAX))?
        };
        all.retain(|e| e.at.is_some());
        Ok(format!("{all:?}"))
    };
    let (a, b) = (events(&full, true), events(&cut, false));
    prop_assert_eq!(
        a.map_err(|e| TestCaseError::fail(e.to_string()))?,
        b.map_err(|e| TestCaseError::fail(e.to_string()))?,
        "events"
    );
    Ok(())
}

/// Checks the as-of replay property on `cases` random histories (or as many as the
/// `PROPTEST_CASES` environment variable says), each written into two fresh stores
/// made by `make` (empty, base currency EUR). Panics with the smallest failing history
/// found.
pub fn check_as_of_replay(make: &dyn Fn() -> Crm, cases: u32) {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(cases);
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    if let Err(e) = runner.run(&history(), |h| one(make, &h)) {
        panic!("the as-of replay differs from the cut history: {e}");
    }
}

/// A record entered by mistake, later voided: what kind, whose (an index among the
/// customers, modulo their number) and when (a minute of the history).
#[derive(Debug, Clone)]
enum Mistake {
    Purchase {
        customer: usize,
        cents: u32,
    },
    Survey {
        customer: usize,
        kind: u8,
        value: u8,
    },
    Interaction {
        customer: usize,
    },
}

fn mistakes() -> impl Strategy<Value = Vec<(i64, Mistake)>> {
    let ix = || 0usize..1000;
    let mistake = prop_oneof![
        3 => (ix(), 0u32..90_000).prop_map(|(customer, cents)| Mistake::Purchase { customer, cents }),
        1 => (ix(), 0u8..3, 0u8..11).prop_map(|(customer, kind, value)| Mistake::Survey { customer, kind, value }),
        1 => ix().prop_map(|customer| Mistake::Interaction { customer }),
    ];
    prop::collection::vec((0..SPAN_DAYS * 24 * 60, mistake), 1..12)
}

/// The void property, over one history: the books with `extra` records entered and
/// then voided equal, in every view, the books that never held them.
fn voided_is_never_recorded(
    make: &dyn Fn() -> Crm,
    h: &History,
    extra: &[(i64, Mistake)],
) -> Result<(), TestCaseError> {
    let policy = h.policy.then(LifecyclePolicy::default);
    let day = epoch().date_naive() + Duration::days(h.day);
    let cutoff = solocrm_core::BusinessZone::UTC.end_of(day);
    let clean = make().with_lifecycle(policy.clone());
    replay(&clean, h, None);
    let mistaken = make().with_lifecycle(policy);
    replay(&mistaken, h, None);
    // The mistakes come after the history, so every other record has the same id in
    // both books; they are entered without the lifecycle policy, whose moves at entry
    // stay in the stage history (which never goes back) by design.
    let plain = Crm::from_shared(mistaken.storage().clone());
    let customers: Vec<_> = plain
        .read(|r| r.all_customers())
        .map_err(|e| TestCaseError::fail(e.to_string()))?
        .iter()
        .map(|c| c.id())
        .collect();
    let eur = Currency::EUR;
    let void = solocrm_core::Void::at(at_minute(SPAN_DAYS * 24 * 60)).because(
        FreeText::parse("entered by mistake").map_err(|e| TestCaseError::fail(e.to_string()))?,
    );
    let mut entered = 0;
    for (minute, m) in extra {
        let at = at_minute(*minute);
        let done = plain.write(|w| {
            match m {
                Mistake::Purchase { customer, cents } => {
                    let Some(c) = pick(&customers, *customer) else {
                        return Ok(false);
                    };
                    let p = w.record_purchase(NewPurchase::new(
                        c,
                        at,
                        Money::from_minor(i64::from(*cents), eur),
                    ))?;
                    w.void_purchase(p.id(), void.clone())?;
                }
                Mistake::Survey {
                    customer,
                    kind,
                    value,
                } => {
                    let Some(c) = pick(&customers, *customer) else {
                        return Ok(false);
                    };
                    let kind = [SurveyKind::Nps, SurveyKind::Csat, SurveyKind::Ces]
                        [usize::from(*kind) % 3];
                    let (lo, hi) = kind.range();
                    let score = lo + value % (hi - lo + 1);
                    let s = w.record_survey(NewSurveyResponse {
                        customer: c,
                        at,
                        score: SurveyScore::new(kind, i64::from(score))?,
                        comment: None,
                    })?;
                    w.void_survey(s.id(), void.clone())?;
                }
                Mistake::Interaction { customer } => {
                    let Some(c) = pick(&customers, *customer) else {
                        return Ok(false);
                    };
                    let i = w.log_interaction(NewInteraction {
                        customer: c,
                        channel: Channel::Phone,
                        direction: Direction::Inbound,
                        at,
                        summary: FreeText::empty(),
                        sentiment: None,
                    })?;
                    w.void_interaction(i.id(), void.clone())?;
                }
            }
            Ok(true)
        });
        match done {
            Ok(true) => entered += 1,
            Ok(false) => {}
            Err(e) => return Err(TestCaseError::fail(format!("entering {m:?}: {e}"))),
        }
    }
    let a = mistaken
        .read(|r| views(&r, day, cutoff))
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
    let b = clean
        .read(|r| views(&r, day, cutoff))
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert_eq!(a.len(), b.len(), "the same views");
    for (name, view) in &b {
        let with = a.get(name).map_or("(missing)", String::as_str);
        prop_assert_eq!(
            with,
            view.as_str(),
            "view `{}` after {} voided records (left: with them, right: never entered)",
            name,
            entered
        );
    }
    Ok(())
}

/// Checks the void property on `cases` random histories (or `PROPTEST_CASES`): records
/// entered and then voided change no view of the books (records, purchase log,
/// reports, care list, churn warning, segments, RFM, cohorts). Panics with the
/// smallest failing case found.
pub fn check_voided_is_never_recorded(make: &dyn Fn() -> Crm, cases: u32) {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(cases);
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    if let Err(e) = runner.run(&(history(), mistakes()), |(h, extra)| {
        voided_is_never_recorded(make, &h, &extra)
    }) {
        panic!("voided records changed a view of the books: {e}");
    }
}

fn utc(y: i32, m: u32, d: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, 10, 0, 0)
        .single()
        .unwrap_or(DateTime::<Utc>::UNIX_EPOCH)
}

/// The first instant after day `y-m-d` (UTC).
fn after_day(y: i32, m: u32, d: u32) -> DateTime<Utc> {
    utc(y, m, d) + Duration::hours(14)
}

/// The cases of issue 12, on a fresh store made by `make` (empty, base currency EUR):
///
/// - the report as of 2025-03-01 counted a customer created in 2026 and a stage move
///   recorded later;
/// - the care list as of 2025-02-26 called a customer at risk who had bought 16 days
///   earlier (they were moved to `at_risk` only in June);
/// - a customer imported in 2026 with purchases dated 2024 is absent as of 2025, and
///   so are those purchases (the purchase log is renumbered without them);
/// - a request resolved after the cutoff is open at it, a deal won after it is open,
///   a one-off task completed after it is open, points posted after it are not in the
///   balance.
///
/// # Panics
///
/// On the first view that differs from what the books said then.
pub fn check_issue_cases(make: &dyn Fn() -> Crm) {
    let crm = make();
    let eur = Currency::EUR;
    let built = crm.write(|w| {
        let name = |s: &str| PersonName::parse(s);
        let ada = w.create_customer(NewCustomer::new(
            CustomerData::new(name("Ada")?),
            utc(2024, 12, 1),
        ))?;
        w.change_stage(
            ada.id(),
            LifecycleStage::New,
            utc(2025, 1, 5),
            StageReason::manual(),
        )?;
        w.change_stage(
            ada.id(),
            LifecycleStage::Active,
            utc(2025, 1, 20),
            StageReason::manual(),
        )?;
        w.record_purchase(NewPurchase::new(
            ada.id(),
            utc(2025, 1, 5),
            Money::from_minor(5_000, eur),
        ))?;
        w.record_purchase(NewPurchase::new(
            ada.id(),
            utc(2025, 2, 10),
            Money::from_minor(7_000, eur),
        ))?;
        // Later: at risk in June, points and a request resolved in March.
        w.change_stage(
            ada.id(),
            LifecycleStage::AtRisk,
            utc(2025, 6, 1),
            StageReason::manual(),
        )?;
        let request = w.open_request(NewServiceRequest {
            customer: ada.id(),
            kind: RequestKind::Complaint,
            subject: text("late parcel")?,
            description: FreeText::empty(),
            opened_at: utc(2025, 2, 20),
            deal: None,
        })?;
        w.update_request(request.id(), RequestEventKind::Resolved, utc(2025, 3, 10))?;
        let deal = w.create_deal(NewDeal::new(
            ada.id(),
            text("renewal")?,
            Money::from_minor(90_000, eur),
            utc(2025, 2, 1),
        ))?;
        w.move_deal(deal.id(), DealStage::Won, utc(2025, 4, 1))?;
        let task = w.create_task(NewTask {
            customer: Some(ada.id()),
            kind: TaskKind::FollowUp,
            title: text("call back")?,
            due: utc(2025, 2, 25).date_naive(),
            recurrence: None,
            created_at: utc(2025, 2, 1),
        })?;
        w.complete_task(task.id(), utc(2025, 3, 5))?;
        w.post_points(NewPointsEntry::new(
            ada.id(),
            utc(2025, 2, 10),
            PointsKind::Earn,
            70,
        )?)?;
        w.post_points(NewPointsEntry::new(
            ada.id(),
            utc(2025, 5, 1),
            PointsKind::Earn,
            30,
        )?)?;
        // Imported in 2026, with purchases from 2024.
        let bob = w.create_customer(
            NewCustomer::new(CustomerData::new(name("Bob")?), utc(2026, 1, 5))
                .at_stage(LifecycleStage::Active),
        )?;
        w.record_purchase(NewPurchase::new(
            bob.id(),
            utc(2024, 6, 1),
            Money::from_minor(9_900, eur),
        ))?;
        Ok((ada.id(), bob.id(), request.id(), deal.id(), task.id()))
    });
    let (ada, bob, request, deal, task) = match built {
        Ok(ids) => ids,
        Err(e) => panic!("writing the books of issue 12: {e}"),
    };

    let march = after_day(2025, 3, 1);
    let seen = crm.read_as_of(march, |r| {
        let everyone = r.all_matching(&CustomerQuery {
            include_erased: true,
            ..CustomerQuery::default()
        })?;
        let ids: Vec<_> = everyone.iter().map(|c| c.id()).collect();
        assert_eq!(ids, vec![ada], "only Ada existed on 2025-03-01");
        assert_eq!(r.count_customers()?, 1);
        assert!(r.tx().customer(bob)?.is_none(), "Bob came in 2026");
        assert_eq!(
            everyone[0].stage(),
            LifecycleStage::Active,
            "Ada's stage then"
        );
        assert_eq!(r.stage_history(ada)?.len(), 2, "the June move is hidden");
        let log = r.purchase_log()?;
        assert_eq!(log.customers, vec![ada], "the log has no Bob");
        assert_eq!(log.len(), 2, "Ada's two purchases, not Bob's backdated one");
        assert!(r.request(request)?.is_open(), "resolved only on March 10");
        assert_eq!(
            r.requests(&OpenQuery {
                customer: None,
                open_only: true
            })?
            .len(),
            1
        );
        assert_eq!(
            r.deal(deal)?.stage(),
            DealStage::NeedIdentified,
            "won only in April"
        );
        assert!(!r.task(task)?.is_done(), "done only on March 5");
        assert_eq!(
            r.points_balance(ada)?,
            70,
            "the May points are not there yet"
        );
        let period = Period::new(
            NaiveDate::from_ymd_opt(2024, 3, 2).unwrap_or(NaiveDate::MIN),
            march.date_naive(),
        );
        if let Ok(period) = period {
            let data = r.report_data(period)?;
            assert_eq!(data.customers.len(), 1, "the report counts only Ada");
            assert_eq!(data.purchase_rows().count(), 2, "and only her purchases");
        }
        Ok(())
    });
    if let Err(e) = seen {
        panic!("reading as of 2025-03-01: {e}");
    }

    let feb26 = after_day(2025, 2, 26);
    let care = crm.read_as_of(feb26, |r| {
        r.care_due(feb26 - Duration::nanoseconds(1), 14, &CareConfig::default())
    });
    match care {
        Ok(items) => assert!(
            !items
                .iter()
                .any(|i| i.customer == Some(ada) && i.reason == solocrm_core::CareReason::AtRisk),
            "Ada bought 16 days before 2025-02-26 and was active then: {items:#?}"
        ),
        Err(e) => panic!("the care list as of 2025-02-26: {e}"),
    }
}

/// Expands to three `#[test]`s: [`check_as_of_replay`] with [`CASES`] histories,
/// [`check_issue_cases`] and [`check_voided_is_never_recorded`], on fresh stores made by `$setup` (a closure returning a [`Crm`] over an empty
/// store whose base currency is EUR).
#[macro_export]
macro_rules! as_of_conformance {
    ($setup:expr) => {
        #[test]
        fn the_books_read_as_of_an_instant_equal_the_books_cut_there() {
            $crate::as_of::check_as_of_replay(&$setup, $crate::as_of::CASES);
        }

        #[test]
        fn the_books_as_of_a_day_of_issue_12_say_what_they_said_then() {
            $crate::as_of::check_issue_cases(&$setup);
        }

        #[test]
        fn records_entered_and_voided_change_no_view_of_the_books() {
            $crate::as_of::check_voided_is_never_recorded(&$setup, $crate::as_of::CASES);
        }
    };
}
