//! The automation runner over every store (memory, SQLite, and PostgreSQL when
//! `SOLOCRM_TEST_PG_URL` names a server): each built-in rule fires on its trigger with
//! the right task, conditions filter, a rule never fires twice for one occurrence —
//! also when a write fails halfway through a run and the run is repeated — a disabled
//! rule does not fire, and running the time rules every day equals running them once
//! at the end. Days are counted in Asia/Shanghai, names are Chinese.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use proptest::prelude::*;
use solocrm_app::automation::{Only, RunReport, plan, run};
use solocrm_core::automation::{
    Action, Condition, CreateTask, Firing, Occurrence, Priority, Rule, RuleName, Template, Trigger,
};
use solocrm_core::port::{ReadTx, Storage, WriteTx};
use solocrm_core::{
    BusinessZone, Channel, Crm, Currency, CustomerData, CustomerId, DealStage, Direction, FreeText,
    Label, LifecyclePolicy, LifecycleStage, Money, NewCustomer, NewDeal, NewInteraction,
    NewPurchase, NewServiceRequest, NewSurveyResponse, PersonName, RequestKind, StageReason,
    StoreError, StoreResult, SurveyKind, SurveyScore, Tag, Task, TaskKind, TaskQuery,
};
use solocrm_store_memory::MemoryStore;
use solocrm_store_sqlite::SqliteStore;

fn zone() -> BusinessZone {
    BusinessZone::parse("Asia/Shanghai").expect("a zone")
}

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("a date")
}

/// `hour` o'clock on `d` in Shanghai.
fn local(d: NaiveDate, hour: u32) -> DateTime<Utc> {
    zone().instant(d.and_hms_opt(hour, 0, 0).expect("a time"))
}

/// The day of the story: Friday 2026-03-06, 10:00 in Shanghai (02:00 UTC).
fn today() -> NaiveDate {
    day(2026, 3, 6)
}

fn name(s: &str) -> RuleName {
    RuleName::parse(s).expect("a rule name")
}

fn eur(minor: i64) -> Money {
    Money::from_minor(minor, Currency::EUR)
}

/// A fresh store of each kind, in Shanghai's zone.
fn stores() -> Vec<(&'static str, Crm)> {
    let mut out = vec![
        ("memory", Crm::new(MemoryStore::new(Currency::EUR))),
        (
            "sqlite",
            Crm::new(SqliteStore::open_in_memory(Currency::EUR).expect("in-memory database")),
        ),
    ];
    if let Some(pg) = pg::books() {
        out.push(("postgres", pg));
    }
    for (_, crm) in &out {
        crm.write(|w| w.set_time_zone(zone())).expect("zone");
    }
    out
}

mod pg {
    use std::sync::atomic::{AtomicI64, Ordering};

    use solocrm_app::{Books, Location, OpenOptions};
    use solocrm_core::{Crm, Currency};

    static TENANT: AtomicI64 = AtomicI64::new(1);
    /// The schema is made once; tests on other threads wait for it.
    static SCHEMA: std::sync::Once = std::sync::Once::new();

    /// New books in a schema of this process on the test server, or `None`.
    pub fn books() -> Option<Crm> {
        let required = std::env::var("SOLOCRM_REQUIRE_PG").is_ok_and(|v| v == "1");
        let Ok(url) = std::env::var("SOLOCRM_TEST_PG_URL") else {
            assert!(
                !required,
                "SOLOCRM_REQUIRE_PG=1 but SOLOCRM_TEST_PG_URL is not set"
            );
            return None;
        };
        let schema = format!("solocrm_automation_{}", std::process::id());
        let tenant = TENANT.fetch_add(1, Ordering::SeqCst);
        SCHEMA.call_once(|| {
            let mut client =
                postgres::Client::connect(&url, postgres::NoTls).expect("the server answers");
            // The schemas of earlier runs whose process is gone (a schema cannot be
            // dropped while this process's pools still use it, so each run sweeps up
            // after the ones before).
            let old = client
                .query(
                    "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'solocrm_automation_%'",
                    &[],
                )
                .expect("schemas");
            for row in old {
                let name: String = row.get(0);
                let pid = name.trim_start_matches("solocrm_automation_");
                if name != schema && !std::path::Path::new(&format!("/proc/{pid}")).exists() {
                    let _ = client.batch_execute(&format!("DROP SCHEMA IF EXISTS {name} CASCADE"));
                }
            }
            client
                .batch_execute(&format!(
                    "DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}"
                ))
                .expect("a schema");
        });
        let sep = if url.contains('?') { '&' } else { '?' };
        let location = Location::parse(&format!(
            "{url}{sep}options=-c%20search_path%3D{schema}&tenant={tenant}"
        ))
        .expect("a location");
        let books =
            Books::create(&location, Currency::EUR, &OpenOptions::default()).expect("books");
        Some(books.crm().clone())
    }
}

fn person(crm: &Crm, who: &str, created: NaiveDate, stage: LifecycleStage) -> CustomerId {
    crm.write(|w| {
        w.create_customer(
            NewCustomer::new(
                CustomerData::new(PersonName::parse(who)?),
                local(created, 9),
            )
            .at_stage(stage),
        )
    })
    .expect("a customer")
    .id()
}

fn survey(crm: &Crm, who: CustomerId, kind: SurveyKind, score: u8, on: NaiveDate) {
    crm.write(|w| {
        w.record_survey(NewSurveyResponse {
            customer: who,
            at: local(on, 9),
            score: SurveyScore::new(kind, i64::from(score))?,
            comment: None,
        })
    })
    .expect("a survey");
}

fn request(crm: &Crm, who: CustomerId, kind: RequestKind, on: NaiveDate) {
    crm.write(|w| {
        w.open_request(NewServiceRequest {
            customer: who,
            kind,
            subject: Label::parse("快递破损")?,
            description: FreeText::parse("包裹到了是破的")?,
            opened_at: local(on, 9),
            deal: None,
        })
    })
    .expect("a request");
}

/// The customers of the story, one for each built-in rule and two that no rule
/// should touch.
struct Story {
    wang: CustomerId,
    li: CustomerId,
    zhang: CustomerId,
    liu: CustomerId,
    chen: CustomerId,
    yang: CustomerId,
    zhao: CustomerId,
    sun: CustomerId,
}

fn story(crm: &Crm) -> Story {
    let t = today();
    let new_day = day(2026, 3, 1);
    let active = LifecycleStage::Active;
    let wang = person(crm, "王芳", new_day, active);
    let li = person(crm, "李娜", new_day, active);
    let zhang = person(crm, "张伟", new_day, active);
    let liu = person(crm, "刘洋", new_day, active);
    let chen = person(crm, "陈静", new_day, LifecycleStage::Prospect);
    let yang = crm
        .write(|w| {
            w.create_customer(
                NewCustomer::new(
                    CustomerData::new(PersonName::parse("杨洋")?).with_birthday(day(1990, 3, 9)),
                    local(new_day, 9),
                )
                .at_stage(active),
            )
        })
        .expect("yang")
        .id();
    let zhao = person(crm, "赵磊", new_day, active);
    let sun = person(crm, "孙丽", day(2025, 6, 1), active);
    crm.write(|w| {
        w.log_interaction(NewInteraction {
            customer: sun,
            channel: Channel::WeChat,
            direction: Direction::Outbound,
            at: local(day(2025, 12, 1), 15),
            summary: FreeText::parse("问候")?,
            sentiment: None,
        })
    })
    .expect("a contact");

    survey(crm, wang, SurveyKind::Nps, 3, t);
    survey(crm, li, SurveyKind::Nps, 9, t);
    // Before the first run's day: history, not news.
    survey(crm, li, SurveyKind::Nps, 2, day(2026, 3, 5));
    survey(crm, li, SurveyKind::Csat, 4, t);
    request(crm, zhang, RequestKind::Complaint, t);
    request(crm, li, RequestKind::Question, t);
    crm.write(|w| {
        w.change_stage(
            liu,
            LifecycleStage::AtRisk,
            local(t, 8),
            StageReason::manual(),
        )
    })
    .expect("at risk");
    crm.write(|w| w.record_purchase(NewPurchase::new(chen, local(t, 9), eur(8800))))
        .expect("a purchase");
    let deal = crm
        .write(|w| {
            w.create_deal(NewDeal::new(
                zhao,
                Label::parse("年度服务")?,
                eur(100_000),
                local(new_day, 9),
            ))
        })
        .expect("a deal");
    crm.write(|w| w.move_deal(deal.id(), DealStage::Won, local(t, 9)))
        .expect("won");
    Story {
        wang,
        li,
        zhang,
        liu,
        chen,
        yang,
        zhao,
        sun,
    }
}

fn tasks(crm: &Crm) -> Vec<Task> {
    crm.read(|r| {
        r.tasks(&TaskQuery {
            customer: None,
            due_until: None,
            include_done: true,
        })
    })
    .expect("tasks")
}

fn firings(crm: &Crm) -> Vec<Firing> {
    crm.read(|r| r.firings()).expect("firings")
}

fn at_ten(d: NaiveDate) -> DateTime<Utc> {
    local(d, 10)
}

/// (rule, customer, title, due, kind, priority) of every task a rule made.
fn made(
    crm: &Crm,
) -> Vec<(
    String,
    CustomerId,
    String,
    NaiveDate,
    TaskKind,
    Option<Priority>,
)> {
    let tasks = tasks(crm);
    let mut out: Vec<_> = firings(crm)
        .into_iter()
        .filter_map(|f| {
            let t = tasks.iter().find(|t| Some(t.id()) == f.task)?;
            Some((
                f.rule.to_string(),
                f.customer,
                t.title().as_str().to_owned(),
                t.due(),
                t.kind(),
                f.priority,
            ))
        })
        .collect();
    out.sort();
    out
}

#[test]
fn each_built_in_rule_fires_on_its_trigger_with_the_right_task() {
    for (kind, crm) in stores() {
        let s = story(&crm);
        let report = run(&crm, at_ten(today())).expect("run");
        assert_eq!(report.fired.len(), 7, "{kind}: {report:#?}");
        use Priority::{High, Normal};
        let mut expected = vec![
            (
                "detractor-follow-up".to_owned(),
                s.wang,
                "Follow up on the low score of 王芳".to_owned(),
                day(2026, 3, 10), // Friday + 2 business days
                TaskKind::FollowUp,
                Some(High),
            ),
            (
                "complaint-response".to_owned(),
                s.zhang,
                "Respond to the complaint of 张伟".to_owned(),
                day(2026, 3, 9),
                TaskKind::FollowUp,
                Some(High),
            ),
            (
                "at-risk-win-back".to_owned(),
                s.liu,
                "Win back 刘洋".to_owned(),
                day(2026, 3, 11),
                TaskKind::FollowUp,
                Some(Normal),
            ),
            (
                "first-purchase-thanks".to_owned(),
                s.chen,
                "Thank 陈静 for the first purchase".to_owned(),
                day(2026, 3, 10),
                TaskKind::FollowUp,
                Some(Normal),
            ),
            (
                "birthday-care".to_owned(),
                s.yang,
                "Birthday greeting for 杨洋".to_owned(),
                today(),
                TaskKind::Birthday,
                Some(Normal),
            ),
            (
                "won-deal-check-in".to_owned(),
                s.zhao,
                "After-sales check-in with 赵磊".to_owned(),
                day(2026, 3, 20),
                TaskKind::FollowUp,
                Some(Normal),
            ),
            (
                "stay-in-touch".to_owned(),
                s.sun,
                "Get in touch with 孙丽".to_owned(),
                day(2026, 3, 13),
                TaskKind::FollowUp,
                Some(Normal),
            ),
        ];
        expected.sort();
        assert_eq!(made(&crm), expected, "{kind}");
        assert!(
            !firings(&crm).iter().any(|f| f.customer == s.li),
            "{kind}: NPS 9, CSAT 4 and a question fire nothing"
        );
        assert_eq!(tasks(&crm).len(), 7, "{kind}: no task without its firing");
    }
}

#[test]
fn a_second_run_fires_nothing_again() {
    for (kind, crm) in stores() {
        story(&crm);
        let first = run(&crm, at_ten(today())).expect("run");
        assert_eq!(first.fired.len(), 7);
        let again = run(&crm, at_ten(today())).expect("run again");
        assert!(again.fired.is_empty(), "{kind}: {again:#?}");
        let later = run(&crm, local(today(), 23)).expect("later the same day");
        assert!(later.fired.is_empty(), "{kind}: {later:#?}");
        assert_eq!(tasks(&crm).len(), 7, "{kind}");
        assert!(
            plan(&crm, at_ten(today()), Only::Enabled)
                .expect("plan")
                .is_empty()
        );
    }
}

#[test]
fn a_disabled_rule_does_not_fire_and_misses_what_happened_meanwhile() {
    for (kind, crm) in stores() {
        let s = story(&crm);
        crm.write(|w| w.set_rule_enabled(&name("detractor-follow-up"), false))
            .expect("off");
        run(&crm, at_ten(today())).expect("run");
        assert!(
            !firings(&crm)
                .iter()
                .any(|f| f.rule.as_str() == "detractor-follow-up"),
            "{kind}"
        );
        crm.write(|w| w.set_rule_enabled(&name("detractor-follow-up"), true))
            .expect("on");
        let next = day(2026, 3, 9);
        survey(&crm, s.li, SurveyKind::Csat, 1, next);
        let report = run(&crm, at_ten(next)).expect("run");
        let detractors: Vec<_> = report
            .fired
            .iter()
            .filter(|f| f.planned.rule.as_str() == "detractor-follow-up")
            .collect();
        assert_eq!(detractors.len(), 1, "{kind}: only the new answer");
        assert_eq!(detractors[0].planned.customer, s.li);
    }
}

fn rule(text: &str) -> Rule {
    serde_json::from_str(text).expect("a rule")
}

#[test]
fn a_user_rule_filters_on_the_customer_and_runs_all_its_actions() {
    for (kind, crm) in stores() {
        let s = story(&crm);
        run(&crm, at_ten(today())).expect("first run");
        let vip = rule(
            r#"{"name": "vip-complaint", "trigger": "request_opened",
                "condition": "kind = complaint and tag = vip",
                "actions": [{"tag": "投诉"}, {"note": "VIP {name} 投诉了"},
                            {"task": {"title": "老板亲自致电 {name}", "due_in": 0, "priority": "high"}},
                            {"stage": "lead"}]}"#,
        );
        crm.write(|w| w.add_rule(vip.clone(), true)).expect("added");
        let vip_tag = Tag::parse("vip").expect("tag");
        crm.write(|w| w.tag_customer(s.wang, &vip_tag))
            .expect("tagged");
        let next = day(2026, 3, 9);
        request(&crm, s.wang, RequestKind::Complaint, next);
        request(&crm, s.zhang, RequestKind::Complaint, next);
        let report = run(&crm, at_ten(next)).expect("run");
        let fired: Vec<(&str, CustomerId)> = report
            .fired
            .iter()
            .map(|f| (f.planned.rule.as_str(), f.planned.customer))
            .collect();
        assert!(
            fired.contains(&("vip-complaint", s.wang)),
            "{kind}: {fired:?}"
        );
        assert!(
            !fired.contains(&("vip-complaint", s.zhang)),
            "{kind}: not a vip"
        );
        let vip_fired = report
            .fired
            .iter()
            .find(|f| f.planned.rule.as_str() == "vip-complaint")
            .expect("fired");
        assert_eq!(vip_fired.title.as_deref(), Some("老板亲自致电 王芳"));
        assert_eq!(vip_fired.due, Some(next));
        assert_eq!(
            vip_fired.skipped.len(),
            1,
            "{kind}: active → lead is not allowed"
        );
        let wang = crm.read(|r| r.customer(s.wang)).expect("wang");
        assert!(wang.tags().contains(&Tag::parse("投诉").expect("tag")));
        assert_eq!(wang.stage(), LifecycleStage::Active);
        let notes = crm
            .read(|r| r.interactions(&solocrm_core::ActivityQuery::customer(s.wang)))
            .expect("notes");
        assert!(
            notes
                .iter()
                .any(|i| i.summary().as_str() == "VIP 王芳 投诉了"),
            "{kind}"
        );
    }
}

/// A condition may name an open pain point (`pain_point = "…"`, the segment field):
/// the rule fires for the customer who has it and not for one whose pain point was
/// resolved before the event.
#[test]
fn a_rule_condition_selects_customers_by_an_open_pain_point() {
    use solocrm_core::need::{NeedKind, NewNeed};
    for (kind, crm) in stores() {
        let s = story(&crm);
        run(&crm, at_ten(today())).expect("first run");
        let after_sales = rule(
            r#"{"name": "after-sales-pain", "trigger": "request_opened",
                "condition": "kind = complaint and pain_point = \"售后\"",
                "actions": [{"tag": "售后跟进"}]}"#,
        );
        crm.write(|w| w.add_rule(after_sales.clone(), true))
            .expect("added");
        let key = Tag::parse("售后").expect("key");
        for who in [s.wang, s.zhang] {
            crm.write(|w| {
                w.record_need(NewNeed {
                    customer: who,
                    deal: None,
                    kind: NeedKind::PainPoint,
                    key: key.clone(),
                    note: None,
                    at: at_ten(today()),
                })
            })
            .expect("recorded");
        }
        let zhangs = crm
            .read(|r| r.needs(Some(s.zhang)))
            .expect("needs")
            .pop()
            .expect("one");
        let next = day(2026, 3, 9);
        crm.write(|w| w.resolve_need(zhangs.id, at_ten(day(2026, 3, 7))))
            .expect("resolved");
        request(&crm, s.wang, RequestKind::Complaint, next);
        request(&crm, s.zhang, RequestKind::Complaint, next);
        let report = run(&crm, at_ten(next)).expect("run");
        let fired: Vec<(&str, CustomerId)> = report
            .fired
            .iter()
            .map(|f| (f.planned.rule.as_str(), f.planned.customer))
            .collect();
        assert!(
            fired.contains(&("after-sales-pain", s.wang)),
            "{kind}: {fired:?}"
        );
        assert!(
            !fired.contains(&("after-sales-pain", s.zhang)),
            "{kind}: resolved before the complaint"
        );
    }
}

/// A store that fails a chosen write transaction after its closure ran (the actions
/// and the firings were written, then the commit failed), and with `sticky` every
/// write after it too (a backend that broke halfway).
struct Flaky {
    inner: Arc<dyn Storage>,
    writes: AtomicUsize,
    fail_at: usize,
    sticky: bool,
}

#[derive(Debug)]
struct Injected;

impl std::fmt::Display for Injected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("injected failure before the commit")
    }
}

impl std::error::Error for Injected {}

impl Storage for Flaky {
    fn base_currency(&self) -> Currency {
        self.inner.base_currency()
    }
    fn read(&self, f: &mut dyn FnMut(&dyn ReadTx) -> StoreResult<()>) -> StoreResult<()> {
        self.inner.read(f)
    }
    fn write(&self, f: &mut dyn FnMut(&mut dyn WriteTx) -> StoreResult<()>) -> StoreResult<()> {
        let n = self.writes.fetch_add(1, Ordering::SeqCst) + 1;
        if n == self.fail_at || (self.sticky && n > self.fail_at) {
            self.inner.write(&mut |tx| {
                f(tx)?;
                Err(StoreError::backend(Injected))
            })
        } else {
            self.inner.write(f)
        }
    }
}

fn summary(report: &RunReport) -> Vec<(String, CustomerId, Occurrence)> {
    let mut v: Vec<_> = report
        .fired
        .iter()
        .map(|f| {
            (
                f.planned.rule.to_string(),
                f.planned.customer,
                f.planned.occurrence,
            )
        })
        .collect();
    v.sort();
    v
}

#[test]
fn a_run_that_fails_halfway_and_runs_again_fires_each_occurrence_once() {
    // The firings and tasks of an undisturbed run, to compare with.
    // Two rules fire on one event, so a failure between their firings shows whether
    // the cursor skipped the second.
    let tag_detractors = rule(
        r#"{"name": "tag-detractors", "trigger": "survey_answered", "condition": "score <= 6",
            "actions": [{"tag": "detractor"}, {"task": {"title": "Read the answer of {name}"}}]}"#,
    );
    let (_, clean) = stores().remove(0);
    clean
        .write(|w| w.add_rule(tag_detractors.clone(), true))
        .expect("rule");
    story(&clean);
    // The run's own writes, counted by a store that never fails.
    let counted = Flaky {
        inner: Arc::clone(clean.storage()),
        writes: AtomicUsize::new(0),
        fail_at: usize::MAX,
        sticky: false,
    };
    let counted = Arc::new(counted);
    let want = run(
        &Crm::from_shared(Arc::clone(&counted) as Arc<dyn Storage>),
        at_ten(today()),
    )
    .expect("clean run");
    let want_made = made(&clean);
    let writes = counted.writes.load(Ordering::SeqCst);
    assert!(writes >= 3, "the run writes: {writes}");
    // A write that fails once (its batch of firings is run again one by one, and the
    // run may end well), and a backend that breaks at a write and stays broken (the
    // run fails; what it wrote before stays).
    let mut recovered = 0;
    for (fail_at, sticky) in (1..=writes).flat_map(|n| [(n, false), (n, true)]) {
        for (kind, base) in [
            (
                "memory",
                Arc::new(MemoryStore::new(Currency::EUR)) as Arc<dyn Storage>,
            ),
            (
                "sqlite",
                Arc::new(SqliteStore::open_in_memory(Currency::EUR).expect("db"))
                    as Arc<dyn Storage>,
            ),
        ] {
            let crm = Crm::from_shared(Arc::clone(&base));
            crm.write(|w| w.set_time_zone(zone())).expect("zone");
            crm.write(|w| w.add_rule(tag_detractors.clone(), true))
                .expect("rule");
            story(&crm);
            let flaky = Crm::from_shared(Arc::new(Flaky {
                inner: Arc::clone(&base),
                writes: AtomicUsize::new(0),
                fail_at,
                sticky,
            }));
            let first = run(&flaky, at_ten(today()));
            if sticky {
                assert!(
                    first.is_err(),
                    "{kind}: a broken write {fail_at} fails the run"
                );
            } else if let Ok(first) = &first {
                // The failed batch was run again one firing at a time: each counted
                // once.
                assert_eq!(summary(first), summary(&want), "{kind} at {fail_at}");
                assert_eq!(first.already, want.already, "{kind} at {fail_at}");
                recovered += 1;
            }
            let second = run(&crm, at_ten(today())).expect("the rerun");
            let third = run(&crm, at_ten(today())).expect("once more");
            assert!(third.fired.is_empty(), "{kind} at {fail_at}");
            assert_eq!(made(&crm), want_made, "{kind}: failure at write {fail_at}");
            assert_eq!(tasks(&crm).len(), want_made.len(), "{kind}: at {fail_at}");
            // What the stopped run reports it made and what the rerun made are the
            // undisturbed run's firings, each once: none lost from the report.
            let mut together = match &first {
                Ok(report) => summary(report),
                Err(stopped) => summary(&stopped.done),
            };
            together.extend(summary(&second));
            together.sort();
            assert_eq!(
                together,
                summary(&want),
                "{kind}: failure at write {fail_at}"
            );
        }
    }
    assert!(
        recovered > 0,
        "a batch that failed once was run again one by one"
    );
    // 王芳's NPS 3 fires two rules on one event; 李娜's CSAT 4 fires the second.
    let fired = summary(&want);
    assert_eq!(fired.len(), 9, "{want:#?}");
    let on_wang: Vec<_> = fired.iter().filter(|f| f.1 == CustomerId::new(1)).collect();
    assert_eq!(on_wang.len(), 2);
    assert_eq!(on_wang[0].2, on_wang[1].2, "one event, two rules");
}

#[test]
fn erasing_a_customer_removes_what_the_rules_recorded_of_them() {
    for (kind, crm) in stores() {
        let s = story(&crm);
        run(&crm, at_ten(today())).expect("run");
        crm.write(|w| w.erase_customer(s.wang, local(day(2026, 3, 7), 9)))
            .expect("erased");
        assert!(
            !firings(&crm).iter().any(|f| f.customer == s.wang),
            "{kind}"
        );
        assert_eq!(firings(&crm).len(), 6, "{kind}");
    }
}

#[test]
fn a_dry_run_says_what_would_fire_and_why_and_writes_nothing() {
    for (kind, crm) in stores() {
        let s = story(&crm);
        let before = crm.read(|r| r.events(0, 10_000)).expect("events").len();
        let planned = plan(
            &crm,
            at_ten(today()),
            Only::Rule(&name("detractor-follow-up")),
        )
        .expect("plan");
        assert_eq!(planned.len(), 1, "{kind}");
        assert_eq!(planned[0].customer, s.wang);
        assert!(
            planned[0].why.contains("survey_answered"),
            "{}",
            planned[0].why
        );
        assert!(planned[0].why.contains("score <= 6"), "{}", planned[0].why);
        let birthdays =
            plan(&crm, at_ten(today()), Only::Rule(&name("birthday-care"))).expect("plan");
        assert_eq!(birthdays.len(), 1);
        assert!(
            birthdays[0].why.contains("2026-03-09"),
            "{}",
            birthdays[0].why
        );
        assert!(firings(&crm).is_empty(), "{kind}");
        assert!(tasks(&crm).is_empty(), "{kind}");
        let after = crm.read(|r| r.events(0, 10_000)).expect("events").len();
        assert_eq!(before, after, "{kind}: no event written");
        let unknown = plan(&crm, at_ten(today()), Only::Rule(&name("no-such-rule")));
        assert!(matches!(unknown, Err(StoreError::NotFound { .. })));
    }
}

/// Switches every built-in off, so a test sees only its own rules.
fn builtins_off(crm: &Crm) {
    let names: Vec<RuleName> = crm
        .read(|r| r.rules())
        .expect("rules")
        .into_iter()
        .filter(|r| r.builtin)
        .map(|r| r.rule.name().clone())
        .collect();
    for n in names {
        crm.write(|w| w.set_rule_enabled(&n, false)).expect("off");
    }
}

/// A stay-in-touch cadence for a tag: a normal task at the ideal interval, a high one
/// at the maximum, each once per silence; a contact in between ends the silence, and
/// the next silence starts its own pair. Customers without the tag are left alone.
#[test]
fn a_cadence_fires_at_the_ideal_and_again_urgently_at_the_maximum() {
    for (kind, crm) in stores() {
        builtins_off(&crm);
        let vip = rule(
            r#"{"name": "vip-cadence", "trigger": "no_contact:20:30",
                "condition": "tag = vip",
                "actions": [{"task": {"title": "联系 {name}", "kind": "follow_up", "due_in": 1,
                                      "priority": "normal"}}]}"#,
        );
        crm.write(|w| w.add_rule(vip.clone(), true)).expect("rule");
        let start = day(2026, 3, 2);
        let wang = person(&crm, "王芳", start, LifecycleStage::Active);
        let li = person(&crm, "李娜", start, LifecycleStage::Active);
        let zhang = person(&crm, "张伟", start, LifecycleStage::Active);
        for who in [wang, li] {
            crm.write(|w| w.tag_customer(who, &Tag::parse("vip")?))
                .expect("tag");
        }
        // 李娜 is called on day 25 of the silence: after the ideal, before the maximum.
        let call = start + chrono::Days::new(25);
        crm.write(|w| {
            w.log_interaction(NewInteraction {
                customer: li,
                channel: Channel::Phone,
                direction: Direction::Outbound,
                at: local(call, 23),
                summary: FreeText::parse("回访")?,
                sentiment: None,
            })
        })
        .expect("call");
        let mut fired = Vec::new();
        let mut d = start;
        let end = start + chrono::Days::new(70);
        while d <= end {
            for f in run(&crm, at_ten(d)).expect("run").fired {
                fired.push((
                    f.planned.customer,
                    f.planned.occurrence,
                    f.planned.day,
                    f.priority,
                ));
            }
            d = d + chrono::Days::new(1);
        }
        let on = |n: u64| start + chrono::Days::new(n);
        let high = Some(Priority::High);
        let normal = Some(Priority::Normal);
        assert_eq!(
            fired,
            vec![
                (wang, Occurrence::Silence(start), on(20), normal),
                (li, Occurrence::Silence(start), on(20), normal),
                (wang, Occurrence::SilenceMax(start), on(30), high),
                (li, Occurrence::Silence(call), on(45), normal),
                (li, Occurrence::SilenceMax(call), on(55), high),
            ],
            "{kind}"
        );
        assert!(!fired.iter().any(|f| f.0 == zhang), "{kind}");
        // Running again over the same days fires nothing more.
        assert!(run(&crm, at_ten(end)).expect("again").fired.is_empty());
    }
}

#[test]
fn conditions_with_errors_name_their_column() {
    let e = Condition::parse("kind = complaint and score <= lots").expect_err("bad");
    assert_eq!(e.column, 31);
    let bad = serde_json::from_str::<Rule>(
        r#"{"name": "x", "trigger": "request_opened", "actions": []}"#,
    );
    assert!(bad.is_err());
    let r = Rule::new(
        name("x"),
        Trigger::parse("no_contact:30").expect("trigger"),
        None,
        vec![Action::Task(CreateTask {
            title: Template::parse("致电 {name}").expect("title"),
            kind: TaskKind::FollowUp,
            due_in: 1,
            priority: Priority::Low,
        })],
    );
    assert!(r.is_ok());
}

/// A customer of the catch-up property: created some days before D1, perhaps with a
/// birthday and contacts, all before D1.
#[derive(Debug, Clone)]
struct Someone {
    created_before: u32,
    birthday: Option<(u32, u32)>,
    contacts_before: Vec<u32>,
    /// Purchases this many days after D1 (known to every run: entered ahead).
    buys_after: Vec<u32>,
    /// A holiday key they are tagged with (the books keep the cn preset and an own
    /// lunar holiday).
    holiday: Option<&'static str>,
}

fn someone() -> impl Strategy<Value = Someone> {
    (
        1u32..400,
        proptest::option::of((1u32..=12, 1u32..=28)),
        proptest::collection::vec(0u32..300, 0..4),
        proptest::collection::vec(0u32..60, 0..3),
        proptest::option::of(proptest::sample::select(vec![
            "lantern_festival",
            "qingming",
            "labour_day",
            "店庆",
        ])),
    )
        .prop_map(
            |(created_before, birthday, contacts, buys_after, holiday)| Someone {
                created_before,
                birthday,
                holiday,
                contacts_before: contacts
                    .into_iter()
                    .filter(|c| *c < created_before)
                    .collect(),
                buys_after,
            },
        )
}

const NAMES: [&str; 6] = ["王芳", "李娜", "张伟", "刘洋", "陈静", "杨洋"];

fn catch_up_books(people: &[Someone], d1: NaiveDate) -> Crm {
    let crm = Crm::new(MemoryStore::new(Currency::EUR));
    crm.write(|w| w.set_time_zone(zone())).expect("zone");
    crm.write(|w| {
        w.set_holiday_presets(&[solocrm_core::holiday::Preset::Cn])?;
        // Lunar 2-10 of 2026 is March 28.
        w.put_holiday(solocrm_core::holiday::HolidayDef {
            key: Tag::parse("店庆")?,
            name: Label::parse("店庆")?,
            rule: solocrm_core::holiday::HolidayRule::lunar(2, 10, false)?,
        })
    })
    .expect("a holiday calendar");
    for (i, p) in people.iter().enumerate() {
        let created = d1 - chrono::Days::new(u64::from(p.created_before));
        let mut data = CustomerData::new(PersonName::parse(NAMES[i % NAMES.len()]).expect("name"));
        if let Some((m, d)) = p.birthday {
            data = data.with_birthday(day(1985, m, d));
        }
        let id = crm
            .write(|w| {
                w.create_customer(
                    NewCustomer::new(data.clone(), local(created, 9))
                        .at_stage(LifecycleStage::Active),
                )
            })
            .expect("customer")
            .id();
        if let Some(h) = p.holiday {
            crm.write(|w| w.tag_customer(id, &Tag::parse(h)?))
                .expect("tagged");
        }
        for c in &p.contacts_before {
            let on = d1 - chrono::Days::new(u64::from(*c));
            // 23:30 in Shanghai is 15:30 UTC: the business day, not the UTC one.
            let at = zone().instant(on.and_hms_opt(23, 30, 0).expect("time"));
            crm.write(|w| {
                w.log_interaction(NewInteraction {
                    customer: id,
                    channel: Channel::Phone,
                    direction: Direction::Inbound,
                    at,
                    summary: FreeText::parse("来电")?,
                    sentiment: None,
                })
            })
            .expect("contact");
        }
        for b in &p.buys_after {
            let on = d1 + chrono::Days::new(u64::from(*b));
            crm.write(|w| w.record_purchase(NewPurchase::new(id, local(on, 12), eur(990))))
                .expect("purchase");
        }
    }
    // A stay-in-touch cadence beside the built-ins.
    let cadence = rule(
        r#"{"name": "cadence", "trigger": "no_contact:20:35",
            "actions": [{"task": {"title": "问候 {name}", "kind": "follow_up", "due_in": 2,
                                  "priority": "low"}}]}"#,
    );
    crm.write(|w| w.add_rule(cadence.clone(), true))
        .expect("rule");
    crm
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Running the time rules at every day from D1 to D2 makes the same tasks, due on
    /// the same business days, as running at D1 and then once at D2.
    #[test]
    fn running_every_day_equals_running_once_at_the_end(
        people in proptest::collection::vec(someone(), 1..6),
        days in 1u32..60,
        hour in 0u32..24,
    ) {
        let d1 = day(2026, 2, 20);
        let d2 = d1 + chrono::Days::new(u64::from(days));
        let daily = catch_up_books(&people, d1);
        let once = catch_up_books(&people, d1);
        let mut d = d1;
        while d <= d2 {
            run(&daily, local(d, hour)).expect("daily run");
            d = d + chrono::Days::new(1);
        }
        run(&once, local(d1, hour)).expect("first run");
        run(&once, local(d2, hour)).expect("catch-up run");
        let a = made(&daily);
        let b = made(&once);
        prop_assert_eq!(&a, &b);
        let fa: Vec<_> = firings(&daily).into_iter().map(|f| (f.rule, f.customer, f.occurrence, f.day)).collect();
        let fb: Vec<_> = firings(&once).into_iter().map(|f| (f.rule, f.customer, f.occurrence, f.day)).collect();
        prop_assert_eq!(fa, fb);
    }
}

/// Every store of [`stores`], with the default lifecycle policy, as the books have it.
fn stores_with_lifecycle() -> Vec<(&'static str, Crm)> {
    stores()
        .into_iter()
        .map(|(kind, crm)| (kind, crm.with_lifecycle(Some(LifecyclePolicy::default()))))
        .collect()
}

/// 王芳, active since 2025-01-01, bought on 1 May and 1 June 2025 (a 31-day gap, so
/// she is overdue after max(30, 2 × 31) = 62 days: at risk from 2 August, churned a
/// year after her last purchase).
fn wang_fang(crm: &Crm) -> CustomerId {
    let who = person(crm, "王芳", day(2025, 1, 1), LifecycleStage::Active);
    for on in [day(2025, 5, 1), day(2025, 6, 1)] {
        crm.write(|w| w.record_purchase(NewPurchase::new(who, local(on, 9), eur(5000))))
            .expect("a purchase");
    }
    who
}

/// (from, to, day in Shanghai, reason) of a customer's stage changes.
fn stage_days(
    crm: &Crm,
    who: CustomerId,
) -> Vec<(LifecycleStage, LifecycleStage, NaiveDate, StageReason)> {
    crm.read(|r| r.stage_history(who))
        .expect("a history")
        .into_iter()
        .map(|h| (h.from, h.to, zone().date_of(h.at), h.reason))
        .collect()
}

#[test]
fn the_runner_moves_silent_customers_along_the_lifecycle_dated_when_due() {
    for (kind, crm) in stores_with_lifecycle() {
        let who = wang_fang(&crm);
        let first = run(&crm, at_ten(day(2025, 6, 10))).expect("the first run");
        assert!(first.moved.is_empty(), "{kind}: nobody is due in June");
        let before = stage_days(&crm, who);

        let later = run(&crm, at_ten(day(2025, 9, 1))).expect("a run in September");
        assert_eq!(later.moved.len(), 1, "{kind}: {later:?}");
        assert_eq!(later.moved[0].customer, who, "{kind}");
        assert!(later.not_moved.is_empty(), "{kind}: {later:?}");
        let after = stage_days(&crm, who);
        assert_eq!(after.len(), before.len() + 1, "{kind}: {after:?}");
        let (from, to, on, reason) = after.last().cloned().expect("the new change");
        assert_eq!(
            (from, to),
            (LifecycleStage::Active, LifecycleStage::AtRisk),
            "{kind}"
        );
        assert!(
            on > day(2025, 6, 10) && on < day(2025, 9, 1),
            "{kind}: the move is dated when it became due, not at the run: {on}"
        );
        assert!(
            matches!(reason, StageReason::Rule { .. }),
            "{kind}: {reason:?}"
        );
        // The move is news for the event rules of the same run.
        assert!(
            later
                .fired
                .iter()
                .any(|f| f.planned.rule.to_string() == "at-risk-win-back"
                    && f.planned.customer == who),
            "{kind}: the win-back rule fires on the catch-up's move: {later:?}"
        );

        let again = run(&crm, at_ten(day(2025, 9, 1))).expect("a rerun");
        assert!(
            again.moved.is_empty() && again.fired.is_empty(),
            "{kind}: {again:?}"
        );
        assert_eq!(stage_days(&crm, who), after, "{kind}: a rerun moves no one");
    }
}

#[test]
fn daily_runs_move_the_lifecycle_as_one_run_at_the_end_does() {
    for (kind, daily) in stores_with_lifecycle() {
        let (_, once) = stores_with_lifecycle()
            .into_iter()
            .find(|(k, _)| *k == kind)
            .expect("the same kind of store");
        let who = wang_fang(&daily);
        assert_eq!(wang_fang(&once), who, "{kind}");
        let start = day(2025, 6, 10);
        let end = day(2026, 7, 1);
        run(&daily, at_ten(start)).expect("the first run");
        run(&once, at_ten(start)).expect("the first run");
        let mut d = start;
        while d < end {
            d = d.succ_opt().expect("a next day");
            run(&daily, at_ten(d)).expect("a daily run");
        }
        run(&once, at_ten(end)).expect("one run at the end");
        let moves = stage_days(&daily, who);
        assert_eq!(moves, stage_days(&once, who), "{kind}");
        let path: Vec<_> = moves.iter().map(|m| m.1).collect();
        assert!(
            path.ends_with(&[LifecycleStage::AtRisk, LifecycleStage::Churned]),
            "{kind}: silent for a year, she is churned: {moves:?}"
        );
    }
}

/// `holiday-care` (`holiday:7`): a greeting task for each customer tagged with a
/// holiday's key, on the first day of the seven before it, once per holiday day;
/// untagged customers get nothing, and a rerun fires nothing again.
#[test]
fn holiday_care_greets_the_customers_tagged_for_a_holiday_once() {
    for (kind, crm) in stores() {
        let wang = person(&crm, "王芳", day(2025, 1, 5), LifecycleStage::Active);
        let li = person(&crm, "李娜", day(2025, 1, 5), LifecycleStage::Active);
        let zhang = person(&crm, "张伟", day(2025, 1, 5), LifecycleStage::Active);
        crm.write(|w| {
            w.set_holiday_presets(&[solocrm_core::holiday::Preset::Cn])?;
            w.put_holiday(solocrm_core::holiday::HolidayDef {
                key: Tag::parse("店庆")?,
                name: Label::parse("店庆")?,
                rule: solocrm_core::holiday::HolidayRule::fixed(2, 20)?,
            })?;
            w.tag_customer(wang, &Tag::parse("spring_festival")?)?;
            w.tag_customer(li, &Tag::parse("店庆")?)?;
            Ok(())
        })
        .expect("calendar and tags");
        let rule = name("holiday-care");
        // 2026-02-09 is eight days before 春节 (2026-02-17): nothing yet.
        assert!(
            plan(&crm, at_ten(day(2026, 2, 9)), Only::Rule(&rule))
                .expect("plan")
                .is_empty()
        );
        // From 02-10 to 02-14: 春节 is in 7 days or fewer for 王芳, 店庆 (02-20) from
        // 02-13 for 李娜. One catch-up run on 02-14 fires both, each on its first day.
        run(&crm, at_ten(day(2026, 2, 9))).expect("first run");
        let report = run(&crm, at_ten(day(2026, 2, 14))).expect("catch-up run");
        let mut got: Vec<(CustomerId, Occurrence, NaiveDate)> = firings(&crm)
            .into_iter()
            .filter(|f| f.rule.as_str() == "holiday-care")
            .map(|f| (f.customer, f.occurrence, f.day))
            .collect();
        got.sort();
        let mut want = vec![
            (
                wang,
                Occurrence::Holiday(day(2026, 2, 17)),
                day(2026, 2, 10),
            ),
            (li, Occurrence::Holiday(day(2026, 2, 20)), day(2026, 2, 13)),
        ];
        want.sort();
        assert_eq!(got, want, "{kind}: {report:#?}");
        assert!(
            !firings(&crm)
                .iter()
                .any(|f| f.customer == zhang && f.rule.as_str() == "holiday-care"),
            "{kind}: an untagged customer is not greeted"
        );
        let greetings: Vec<_> = made(&crm)
            .into_iter()
            .filter(|m| m.0 == "holiday-care")
            .map(|m| (m.2, m.4))
            .collect();
        assert!(
            greetings.contains(&("Holiday greeting for 王芳".to_owned(), TaskKind::Holiday)),
            "{kind}: {greetings:?}"
        );
        let again = run(&crm, at_ten(day(2026, 2, 16))).expect("again");
        assert!(
            !again
                .fired
                .iter()
                .any(|f| f.planned.rule.as_str() == "holiday-care"),
            "{kind}: {again:#?}"
        );
    }
}

#[test]
fn a_points_action_posts_an_earn_entry_naming_the_rule_once_per_occurrence() {
    for (kind, crm) in stores() {
        let s = story(&crm);
        run(&crm, at_ten(today())).expect("first run");
        let survey_bonus = rule(
            r#"{"name": "survey-bonus", "trigger": "survey_answered",
                "actions": [{"points": 50}]}"#,
        );
        crm.write(|w| w.add_rule(survey_bonus.clone(), true))
            .expect("added");
        let before = crm.read(|r| r.points_balance(s.li)).expect("balance");
        let next = day(2026, 3, 9);
        survey(&crm, s.li, SurveyKind::Nps, 10, next);
        run(&crm, at_ten(next)).expect("run");
        run(&crm, at_ten(next)).expect("a rerun");
        assert_eq!(
            crm.read(|r| r.points_balance(s.li)).expect("balance"),
            before + 50,
            "{kind}: fifty points, once"
        );
        let ledger = crm.read(|r| r.points_ledger(s.li)).expect("ledger");
        let last = ledger.last().expect("an entry");
        assert_eq!(last.kind(), solocrm_core::PointsKind::Earn, "{kind}");
        assert_eq!(last.delta(), 50, "{kind}");
        assert_eq!(
            last.reason().map(|r| r.as_str()),
            Some("rule survey-bonus"),
            "{kind}"
        );
    }
    // A points action gives 1 to MAX_RULE_POINTS points.
    for bad in ["0", "1000001"] {
        let text = format!(
            r#"{{"name": "x", "trigger": "survey_answered", "actions": [{{"points": {bad}}}]}}"#
        );
        let err = serde_json::from_str::<Rule>(&text).expect_err("refused");
        assert!(err.to_string().contains("points"), "{err}");
    }
}

/// Points valid one month, in Shanghai's days: 王芳's 100 points of January 31 lapse
/// on February 29 (2024 is a leap year), her 50 points earned at 01:00 on March 1
/// Beijing time (still February 29 in UTC) lapse on April 1. A `points_expiring:7`
/// rule reminds once per lapse, on the first day of its window, whether the runs are
/// daily or a week apart; the runs post each lapse once, dated on its day.
#[test]
fn points_lapse_once_on_their_day_and_the_reminder_fires_once_per_lapse() {
    for (kind, crm) in stores() {
        builtins_off(&crm);
        let wang = person(&crm, "王芳", day(2024, 1, 10), LifecycleStage::Active);
        let li = person(&crm, "李雷", day(2024, 1, 10), LifecycleStage::Active);
        let earn = |who, at, n| {
            crm.write(|w| {
                w.post_points(solocrm_core::NewPointsEntry::new(
                    who,
                    at,
                    solocrm_core::PointsKind::Earn,
                    n,
                )?)
            })
            .expect("earned");
        };
        earn(wang, local(day(2024, 1, 31), 10), 100);
        earn(
            wang,
            Utc.with_ymd_and_hms(2024, 2, 29, 17, 0, 0)
                .single()
                .expect("valid"),
            50,
        );
        // 李雷's points are spent before they lapse: nothing to remind or lapse.
        earn(li, local(day(2024, 1, 31), 10), 20);
        crm.write(|w| {
            w.post_points(solocrm_core::NewPointsEntry::new(
                li,
                local(day(2024, 2, 2), 10),
                solocrm_core::PointsKind::Redeem,
                20,
            )?)
        })
        .expect("redeemed");
        let validity = solocrm_core::PointsExpiry::new(1, day(2024, 1, 1)).expect("a validity");
        crm.write(|w| w.set_points_expiry(Some(validity)))
            .expect("set");
        let reminder = rule(
            r#"{"name": "points-reminder", "trigger": "points_expiring:7",
                "actions": [{"task": {"title": "提醒 {name} 积分即将过期", "kind": "follow_up",
                                      "due_in": 0, "priority": "normal"}}]}"#,
        );
        crm.write(|w| w.add_rule(reminder.clone(), true))
            .expect("added");
        // Daily runs from February 20 to March 2, each day twice.
        let mut lapsed = Vec::new();
        let mut d = day(2024, 2, 20);
        while d <= day(2024, 3, 2) {
            for _ in 0..2 {
                let report = run(&crm, at_ten(d)).expect("a run");
                lapsed.extend(report.lapsed);
            }
            d = d.succ_opt().expect("a day");
        }
        assert_eq!(lapsed.len(), 1, "{kind}: {lapsed:#?}");
        assert_eq!(
            (
                lapsed[0].customer,
                lapsed[0].day,
                lapsed[0].points,
                lapsed[0].balance
            ),
            (wang, day(2024, 2, 29), 100, 50),
            "{kind}"
        );
        // Then one run a week and a half later: the April lapse's window opens on
        // March 25, so the catch-up fires it on that day; a run after April 1 lapses it.
        run(&crm, at_ten(day(2024, 3, 28))).expect("a later run");
        let report = run(&crm, at_ten(day(2024, 4, 3))).expect("after the lapse");
        assert_eq!(report.lapsed.len(), 1, "{kind}: {report:#?}");
        assert_eq!(report.lapsed[0].day, day(2024, 4, 1), "{kind}");
        assert_eq!(report.lapsed[0].points, 50, "{kind}");
        let again = run(&crm, at_ten(day(2024, 4, 4))).expect("the next day");
        assert!(again.lapsed.is_empty(), "{kind}: {again:#?}");
        let got: Vec<(CustomerId, Occurrence, NaiveDate)> = firings(&crm)
            .into_iter()
            .map(|f| (f.customer, f.occurrence, f.day))
            .collect();
        assert_eq!(
            got,
            vec![
                (
                    wang,
                    Occurrence::PointsExpiring(day(2024, 2, 29)),
                    day(2024, 2, 22)
                ),
                (
                    wang,
                    Occurrence::PointsExpiring(day(2024, 4, 1)),
                    day(2024, 3, 25)
                ),
            ],
            "{kind}"
        );
        let reminders: Vec<_> = made(&crm).into_iter().map(|m| (m.1, m.2, m.3)).collect();
        assert_eq!(
            reminders,
            vec![
                (wang, "提醒 王芳 积分即将过期".to_owned(), day(2024, 2, 22)),
                (wang, "提醒 王芳 积分即将过期".to_owned(), day(2024, 3, 25)),
            ],
            "{kind}"
        );
        let ledger = crm.read(|r| r.points_ledger(wang)).expect("ledger");
        let expiries: Vec<(i64, NaiveDate)> = ledger
            .iter()
            .filter(|e| e.kind() == solocrm_core::PointsKind::Expire)
            .map(|e| (e.delta(), zone().date_of(e.at())))
            .collect();
        assert_eq!(
            expiries,
            vec![(-100, day(2024, 2, 29)), (-50, day(2024, 4, 1))],
            "{kind}"
        );
        assert_eq!(
            ledger[2].at(),
            zone().start_of(day(2024, 2, 29)),
            "{kind}: dated at the start of the Beijing day"
        );
        assert_eq!(crm.read(|r| r.points_balance(wang)).expect("balance"), 0);
        assert_eq!(crm.read(|r| r.points_ledger(li)).expect("ledger").len(), 2);
    }
}

/// Without a points validity (the default), the same ledger and rule: no run posts a
/// lapse and the reminder never fires.
#[test]
fn without_a_points_validity_nothing_lapses_and_no_reminder_fires() {
    for (kind, crm) in stores() {
        builtins_off(&crm);
        let zhao = person(&crm, "赵敏", day(2024, 1, 10), LifecycleStage::Active);
        crm.write(|w| {
            w.post_points(solocrm_core::NewPointsEntry::new(
                zhao,
                local(day(2024, 1, 31), 10),
                solocrm_core::PointsKind::Earn,
                100,
            )?)
        })
        .expect("earned");
        crm.write(|w| {
            w.add_rule(
                rule(
                    r#"{"name": "points-reminder", "trigger": "points_expiring:30",
                        "actions": [{"task": {"title": "提醒 {name}", "kind": "follow_up",
                                              "due_in": 0, "priority": "normal"}}]}"#,
                ),
                true,
            )
        })
        .expect("added");
        run(&crm, at_ten(day(2024, 2, 1))).expect("first run");
        let report = run(&crm, at_ten(day(2030, 1, 1))).expect("years later");
        assert!(report.lapsed.is_empty(), "{kind}: {report:#?}");
        assert!(report.fired.is_empty(), "{kind}: {report:#?}");
        assert!(firings(&crm).is_empty(), "{kind}");
        assert_eq!(crm.read(|r| r.points_balance(zhao)).expect("balance"), 100);
        assert!(
            solocrm_app::automation::post_lapses(&crm, at_ten(day(2031, 1, 1)))
                .expect("none")
                .is_empty()
        );
    }
}

/// One run both fires a `points_expiring` rule whose action gives points and posts the
/// lapse the reminder was about: the run reads the ledgers once, before its firings,
/// and the rule's earn (dated at the run, so lapsing a month later and taking nothing
/// from the older lot) changes neither what lapses nor when. 韩梅梅's 100 points of
/// January 31 lapse on February 29; the run on February 29 covers the reminder's
/// window (February 26–28, fired on the first covered day, the 27th) and the lapse
/// day.
#[test]
fn a_rules_points_in_the_same_run_leave_the_due_lapse_as_it_was() {
    for (kind, crm) in stores() {
        builtins_off(&crm);
        let han = person(&crm, "韩梅梅", day(2024, 1, 10), LifecycleStage::Active);
        crm.write(|w| {
            w.post_points(solocrm_core::NewPointsEntry::new(
                han,
                local(day(2024, 1, 31), 10),
                solocrm_core::PointsKind::Earn,
                100,
            )?)
        })
        .expect("earned");
        let validity = solocrm_core::PointsExpiry::new(1, day(2024, 1, 1)).expect("a validity");
        crm.write(|w| w.set_points_expiry(Some(validity)))
            .expect("set");
        run(&crm, at_ten(day(2024, 2, 26))).expect("first run");
        crm.write(|w| {
            w.add_rule(
                rule(
                    r#"{"name": "points-bonus", "trigger": "points_expiring:3",
                        "actions": [{"points": 30}]}"#,
                ),
                true,
            )
        })
        .expect("added");
        let report = run(&crm, at_ten(day(2024, 2, 29))).expect("a run");
        assert_eq!(report.fired.len(), 1, "{kind}: {report:#?}");
        assert_eq!(report.fired[0].planned.day, day(2024, 2, 27), "{kind}");
        let lapsed: Vec<(CustomerId, NaiveDate, i64, i64)> = report
            .lapsed
            .iter()
            .map(|l| (l.customer, l.day, l.points, l.balance))
            .collect();
        assert_eq!(lapsed, vec![(han, day(2024, 2, 29), 100, 30)], "{kind}");
        let again = run(&crm, at_ten(day(2024, 3, 1))).expect("the next day");
        assert!(again.lapsed.is_empty(), "{kind}: {again:#?}");
        let ledger: Vec<(solocrm_core::PointsKind, i64)> = crm
            .read(|r| r.points_ledger(han))
            .expect("ledger")
            .iter()
            .map(|e| (e.kind(), e.delta()))
            .collect();
        assert_eq!(
            ledger,
            vec![
                (solocrm_core::PointsKind::Earn, 100),
                (solocrm_core::PointsKind::Earn, 30),
                (solocrm_core::PointsKind::Expire, -100),
            ],
            "{kind}"
        );
    }
}

/// A catch-up that a broken backend stops at its second transaction keeps the first
/// transaction's moves and says which they are: one answer per customer of the first
/// batch, then the failure; a second catch-up moves the rest.
/// A memory and a SQLite backend, each empty, for the tests that wrap one.
fn backends() -> [(&'static str, Arc<dyn Storage>); 2] {
    [
        (
            "memory",
            Arc::new(MemoryStore::new(Currency::EUR)) as Arc<dyn Storage>,
        ),
        (
            "sqlite",
            Arc::new(SqliteStore::open_in_memory(Currency::EUR).expect("db")) as Arc<dyn Storage>,
        ),
    ]
}

/// `n` customers named `NAME i`, each created on 2024-01-01 with one purchase the next
/// day, recorded through `crm` (without a lifecycle policy: all left behind).
fn buyers_left_behind(crm: &Crm, n: usize, name: &str) {
    for i in 0..n {
        let data = CustomerData::new(PersonName::parse(&format!("{name} {i}")).expect("a name"));
        let id = crm
            .write(|w| w.create_customer(NewCustomer::new(data.clone(), local(day(2024, 1, 1), 9))))
            .expect("create")
            .id();
        crm.write(|w| {
            w.record_purchase(NewPurchase::new(id, local(day(2024, 1, 2), 9), eur(1_000)))
        })
        .expect("purchase");
    }
}

#[test]
fn a_catch_up_stopped_by_the_backend_returns_the_moves_it_made() {
    use solocrm_core::ops::MOVES_PER_WRITE;
    let n = MOVES_PER_WRITE + 3;
    for (kind, base) in backends() {
        let crm = Crm::from_shared(Arc::clone(&base));
        buyers_left_behind(&crm, n, "客户");
        let policy = LifecyclePolicy::default();
        let as_of = at_ten(today());
        let found = crm
            .read(|r| r.reassess_all(&policy, as_of))
            .expect("reassess");
        assert_eq!(
            found.suggestions.len(),
            n,
            "{kind}: every customer is behind"
        );
        let broken = Crm::from_shared(Arc::new(Flaky {
            inner: Arc::clone(&base),
            writes: AtomicUsize::new(0),
            fail_at: 2,
            sticky: true,
        }));
        let mut told = Vec::new();
        let applied = broken.apply_suggestions(&found.suggestions, &policy, as_of, |k| {
            told.push(k);
        });
        assert_eq!(told, [MOVES_PER_WRITE], "{kind}: one transaction committed");
        assert_eq!(applied.answers.len(), MOVES_PER_WRITE, "{kind}");
        assert!(
            applied.answers.iter().all(Result::is_ok),
            "{kind}: {:?}",
            applied.answers.iter().find(|a| a.is_err())
        );
        assert!(
            matches!(applied.stopped, Some(StoreError::Backend(_))),
            "{kind}: {:?}",
            applied.stopped
        );
        for (i, (id, _)) in found.suggestions.iter().enumerate() {
            let history = crm.read(|r| r.stage_history(*id)).expect("history");
            let moved = !history.is_empty();
            assert_eq!(moved, i < MOVES_PER_WRITE, "{kind}: customer {i}");
        }
        let rest = crm
            .read(|r| r.reassess_all(&policy, as_of))
            .expect("reassess");
        assert_eq!(
            rest.suggestions.len(),
            3,
            "{kind}: the rest are still behind"
        );
        let done = crm.apply_suggestions(&rest.suggestions, &policy, as_of, |_| ());
        assert!(done.stopped.is_none(), "{kind}");
        assert!(done.answers.iter().all(Result::is_ok), "{kind}");
    }
}

/// A run that the backend stops part way reports what it committed before the
/// failure (here the catch-up's first batch of moves), and the next run goes on from
/// there.
#[test]
fn a_run_stopped_by_the_backend_reports_what_it_committed() {
    use solocrm_core::ops::MOVES_PER_WRITE;
    let n = MOVES_PER_WRITE + 3;
    for (kind, base) in backends() {
        // Recorded without a lifecycle policy: every customer is left behind.
        let plain = Crm::from_shared(Arc::clone(&base));
        buyers_left_behind(&plain, n, "顾客");
        let policy = Some(LifecyclePolicy::default());
        let broken = Crm::from_shared(Arc::new(Flaky {
            inner: Arc::clone(&base),
            writes: AtomicUsize::new(0),
            fail_at: 2,
            sticky: true,
        }))
        .with_lifecycle(policy.clone());
        let stopped = run(&broken, at_ten(today())).expect_err("the second write fails");
        assert!(
            matches!(stopped.error, StoreError::Backend(_)),
            "{kind}: {:?}",
            stopped.error
        );
        assert_eq!(
            stopped.done.moved.len(),
            MOVES_PER_WRITE,
            "{kind}: the first batch of moves committed and is reported"
        );
        for m in &stopped.done.moved {
            let history = plain
                .read(|r| r.stage_history(m.customer))
                .expect("history");
            assert_eq!(history, m.changes, "{kind}: customer {}", m.customer);
        }
        assert!(stopped.done.fired.is_empty(), "{kind}");
        assert_eq!(
            stopped.to_string(),
            stopped.error.to_string(),
            "{kind}: it reads as its failure"
        );
        let healthy = plain.with_lifecycle(policy);
        let rest = run(&healthy, at_ten(today())).expect("the next run");
        assert_eq!(
            rest.moved.len(),
            3,
            "{kind}: the next run moves the rest, and only them"
        );
    }
}
