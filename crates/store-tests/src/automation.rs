//! The conformance checks of automation's storage: rules and built-in switches,
//! firings unique per (rule, customer, occurrence), the runner's cursor, and erasure
//! removing a customer's firings. The runner itself is tested in the application
//! crate, over every store.
//!
//! Each check is a plain `fn(&Crm)` that expects a **fresh, empty store whose base
//! currency is EUR**, and panics on the first violation. Run them with
//! [`automation_conformance!`](crate::automation_conformance), or loop over
//! [`AUTOMATION_CHECKS`].

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use solocrm_core::automation::{
    Action, AutomationCursor, Condition, CreateTask, Firing, Occurrence, Priority, Rule, RuleName,
    Template, Trigger,
};
use solocrm_core::{
    Conflict, Crm, CustomerData, CustomerId, Entity, Label, NewCustomer, NewPointsEntry, NewTask,
    PersonName, PointsKind, StoreError, TaskKind,
};

/// One check, as data.
#[derive(Debug, Clone, Copy)]
pub struct AutomationCheck {
    /// The check's name, a sentence in snake case.
    pub name: &'static str,
    /// The check; it wants a fresh store with base currency EUR.
    pub run: fn(&Crm),
}

/// Every check, in the order of [`automation_conformance!`](crate::automation_conformance).
pub const AUTOMATION_CHECKS: &[AutomationCheck] = &[
    AutomationCheck {
        name: "the_kept_purchase_totals_answer_as_the_scan",
        run: crate::purchase_totals::kept_purchase_totals_answer_as_the_scan,
    },
    AutomationCheck {
        name: "the_churned_at_read_answers_from_the_histories",
        run: the_churned_at_read_answers_from_the_histories,
    },
    AutomationCheck {
        name: "the_purchase_log_by_customer_holds_the_logs_rows_grouped",
        run: the_purchase_log_by_customer_holds_the_logs_rows_grouped,
    },
    AutomationCheck {
        name: "rules_and_switches_are_stored_and_read_back",
        run: rules_and_switches_are_stored_and_read_back,
    },
    AutomationCheck {
        name: "a_firing_is_stored_once_per_occurrence",
        run: a_firing_is_stored_once_per_occurrence,
    },
    AutomationCheck {
        name: "the_cursor_is_stored_and_never_goes_back",
        run: the_cursor_is_stored_and_never_goes_back,
    },
    AutomationCheck {
        name: "erasure_removes_the_customers_firings",
        run: erasure_removes_the_customers_firings,
    },
    AutomationCheck {
        name: "a_failed_write_stores_no_firing",
        run: a_failed_write_stores_no_firing,
    },
    AutomationCheck {
        name: "the_keys_with_creation_instants_answer_from_the_records",
        run: the_keys_with_creation_instants_answer_from_the_records,
    },
    AutomationCheck {
        name: "the_time_rules_light_reads_answer_from_the_records",
        run: the_time_rules_light_reads_answer_from_the_records,
    },
    AutomationCheck {
        name: "the_stages_read_answers_from_the_records",
        run: the_stages_read_answers_from_the_records,
    },
    AutomationCheck {
        name: "the_names_read_answers_from_the_records",
        run: the_names_read_answers_from_the_records,
    },
    AutomationCheck {
        name: "the_report_customers_read_answers_from_the_records",
        run: the_report_customers_read_answers_from_the_records,
    },
    AutomationCheck {
        name: "the_segment_rows_read_answers_from_the_records",
        run: the_segment_rows_read_answers_from_the_records,
    },
    AutomationCheck {
        name: "the_report_purchases_read_answers_from_the_records",
        run: the_report_purchases_read_answers_from_the_records,
    },
    AutomationCheck {
        name: "the_report_interactions_read_answers_from_the_records",
        run: the_report_interactions_read_answers_from_the_records,
    },
    AutomationCheck {
        name: "the_survey_scores_read_answers_from_the_records",
        run: the_survey_scores_read_answers_from_the_records,
    },
    AutomationCheck {
        name: "the_last_interactions_read_answers_from_the_records",
        run: the_last_interactions_read_answers_from_the_records,
    },
    AutomationCheck {
        name: "the_points_validity_is_stored_and_cleared",
        run: the_points_validity_is_stored_and_cleared,
    },
    AutomationCheck {
        name: "points_holders_are_the_customers_with_a_balance",
        run: points_holders_are_the_customers_with_a_balance,
    },
    AutomationCheck {
        name: "due_lapses_are_posted_once_on_their_business_day",
        run: due_lapses_are_posted_once_on_their_business_day,
    },
    AutomationCheck {
        name: "kept_points_lots_equal_the_replayed_ledgers",
        run: crate::points_lots::kept_points_lots_equal_the_replayed_ledgers,
    },
    AutomationCheck {
        name: "the_view_reads_answer_from_the_records",
        run: the_view_reads_answer_from_the_records,
    },
];

/// Expands to one `#[test]` per check of [`AUTOMATION_CHECKS`], each on a fresh store
/// made by `$setup` (a closure returning a [`Crm`]).
#[macro_export]
macro_rules! automation_conformance {
    ($setup:expr) => {
        mod automation_conformance {
            #[allow(unused_imports)]
            use super::*;
            #[test]
            fn every_automation_check_passes() {
                let mut failed = Vec::new();
                for check in $crate::automation::AUTOMATION_CHECKS {
                    let crm: solocrm_core::Crm = ($setup)();
                    let run = check.run;
                    let outcome =
                        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run(&crm)));
                    if outcome.is_err() {
                        failed.push(check.name);
                    }
                }
                assert!(failed.is_empty(), "failed: {failed:?}");
            }
        }
    };
}

fn at(day: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, day, 9, 0, 0)
        .single()
        .expect("a plain UTC instant")
}

fn date(day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 3, day).expect("the check's step")
}

fn name(s: &str) -> RuleName {
    RuleName::parse(s).expect("the check's step")
}

fn customer(crm: &Crm, who: &str) -> CustomerId {
    crm.write(|w| {
        w.create_customer(NewCustomer::new(
            CustomerData::new(PersonName::parse(who)?),
            at(1),
        ))
    })
    .expect("the check's step")
    .id()
}

fn vip_rule() -> Rule {
    Rule::new(
        name("vip-complaint"),
        Trigger::parse("request_opened").expect("the check's step"),
        Some(Condition::parse("kind = complaint and tag = vip").expect("the check's step")),
        vec![
            Action::Task(CreateTask {
                title: Template::parse("致电 {name}").expect("the check's step"),
                kind: TaskKind::FollowUp,
                due_in: 1,
                priority: Priority::High,
            }),
            Action::Tag(solocrm_core::Tag::parse("complained").expect("the check's step")),
        ],
    )
    .expect("the check's step")
}

fn firing(rule: &str, customer: CustomerId, occurrence: Occurrence, day: u32) -> Firing {
    Firing {
        rule: name(rule),
        customer,
        occurrence,
        day: date(day),
        at: at(day),
        task: None,
        priority: None,
    }
}

/// A user's rule reads back equal, built-ins are listed by their stable names and
/// switch off and on, and the operations refuse what the rules say they refuse.
pub fn rules_and_switches_are_stored_and_read_back(crm: &Crm) {
    let rules = crm.read(|r| r.rules()).expect("the check's step");
    assert_eq!(rules.len(), 8, "the built-ins, all on");
    assert!(rules.iter().all(|r| r.builtin && r.enabled));

    crm.write(|w| w.add_rule(vip_rule(), true))
        .expect("the check's step");
    let stored = crm
        .read(|r| r.rule(&name("vip-complaint")))
        .expect("the check's step");
    assert_eq!(stored.rule, vip_rule());
    assert!(stored.enabled && !stored.builtin);

    let twice = crm
        .write(|w| w.add_rule(vip_rule(), true))
        .expect_err("refused");
    assert!(
        matches!(twice, StoreError::Conflict(Conflict::DuplicateRule { .. })),
        "{twice}"
    );
    let mut builtin_named = vip_rule();
    builtin_named = Rule::new(
        name("stay-in-touch"),
        builtin_named.trigger(),
        builtin_named.condition().cloned(),
        builtin_named.actions().to_vec(),
    )
    .expect("the check's step");
    let clash = crm
        .write(|w| w.add_rule(builtin_named.clone(), true))
        .expect_err("refused");
    assert!(
        matches!(clash, StoreError::Conflict(Conflict::DuplicateRule { .. })),
        "{clash}"
    );

    crm.write(|w| w.set_rule_enabled(&name("stay-in-touch"), false))
        .expect("the check's step");
    crm.write(|w| w.set_rule_enabled(&name("vip-complaint"), false))
        .expect("the check's step");
    let rules = crm.read(|r| r.rules()).expect("the check's step");
    assert_eq!(rules.len(), 9);
    for r in &rules {
        let off = ["stay-in-touch", "vip-complaint"].contains(&r.rule.name().as_str());
        assert_eq!(r.enabled, !off, "{}", r.rule.name());
    }
    // The user's rule kept its definition when switched off.
    assert_eq!(
        crm.read(|r| r.rule(&name("vip-complaint")))
            .expect("the check's step")
            .rule,
        vip_rule()
    );
    crm.write(|w| w.set_rule_enabled(&name("stay-in-touch"), true))
        .expect("the check's step");
    assert!(
        crm.read(|r| r.rule(&name("stay-in-touch")))
            .expect("the check's step")
            .enabled
    );

    let missing = crm
        .write(|w| w.set_rule_enabled(&name("nothing-here"), true))
        .expect_err("refused");
    assert!(
        matches!(
            missing,
            StoreError::NotFound {
                entity: Entity::Rule,
                ..
            }
        ),
        "{missing}"
    );
    let builtin = crm
        .write(|w| w.remove_rule(&name("birthday-care")))
        .expect_err("refused");
    assert!(
        matches!(builtin, StoreError::Conflict(Conflict::BuiltinRule { .. })),
        "{builtin}"
    );

    crm.write(|w| w.remove_rule(&name("vip-complaint")))
        .expect("the check's step");
    assert_eq!(crm.read(|r| r.rules()).expect("the check's step").len(), 8);
    let gone = crm
        .write(|w| w.remove_rule(&name("vip-complaint")))
        .expect_err("refused");
    assert!(matches!(gone, StoreError::NotFound { .. }), "{gone}");
}

/// The second firing of one (rule, customer, occurrence) is not stored, through the
/// operation (which says so) or the port (which fails); other occurrences are, and
/// firings read back equal, in their documented order.
pub fn a_firing_is_stored_once_per_occurrence(crm: &Crm) {
    let wang = customer(crm, "王芳");
    let li = customer(crm, "李娜");
    let task = crm
        .write(|w| {
            w.create_task(NewTask {
                customer: Some(wang),
                kind: TaskKind::FollowUp,
                title: Label::parse("回访")?,
                due: date(3),
                recurrence: None,
                created_at: at(2),
            })
        })
        .expect("the check's step");
    let mut first = firing("detractor-follow-up", wang, Occurrence::Event(3), 2);
    first.task = Some(task.id());
    first.priority = Some(Priority::High);
    assert!(
        crm.write(|w| w.record_firing(&first))
            .expect("the check's step")
    );
    let mut again = first.clone();
    again.day = date(9);
    assert!(
        !crm.write(|w| w.record_firing(&again))
            .expect("the check's step"),
        "one per occurrence"
    );
    let raw = crm.storage().write(&mut |tx| tx.insert_firing(&again));
    assert!(
        matches!(raw, Err(StoreError::Backend(_))),
        "the store's key refuses it"
    );

    let others = [
        firing("detractor-follow-up", li, Occurrence::Event(3), 1),
        firing("birthday-care", wang, Occurrence::Birthday(2026), 2),
        firing("stay-in-touch", wang, Occurrence::Silence(date(1)), 1),
        firing(
            "deal-stuck",
            li,
            Occurrence::DealIdle(solocrm_core::DealId::new(4), date(1)),
            4,
        ),
        firing(
            "late",
            wang,
            Occurrence::TaskOverdue(solocrm_core::TaskId::new(1), 2),
            4,
        ),
    ];
    for f in &others {
        assert!(crm.write(|w| w.record_firing(f)).expect("the check's step"));
    }
    let stored = crm.read(|r| r.firings()).expect("the check's step");
    let mut expected: Vec<Firing> = others.to_vec();
    expected.push(first.clone());
    expected.sort_by(|a, b| {
        (a.day, &a.rule, a.customer, a.occurrence.key()).cmp(&(
            b.day,
            &b.rule,
            b.customer,
            b.occurrence.key(),
        ))
    });
    assert_eq!(stored, expected);
    assert!(
        crm.read(|r| r.has_fired(&first.rule, wang, &Occurrence::Event(3)))
            .expect("the check's step")
    );
    assert!(
        !crm.read(|r| r.has_fired(&first.rule, wang, &Occurrence::Event(4)))
            .expect("the check's step")
    );
}

/// The cursor starts at nothing, reads back what was stored, and the operation never
/// moves it back.
pub fn the_cursor_is_stored_and_never_goes_back(crm: &Crm) {
    assert_eq!(
        crm.read(|r| r.automation_cursor())
            .expect("the check's step"),
        AutomationCursor::default()
    );
    let c = AutomationCursor {
        events: 12,
        day: Some(date(5)),
    };
    crm.write(|w| w.advance_automation_cursor(c))
        .expect("the check's step");
    assert_eq!(
        crm.read(|r| r.automation_cursor())
            .expect("the check's step"),
        c
    );
    let back = AutomationCursor {
        events: 3,
        day: Some(date(9)),
    };
    let now = crm
        .write(|w| w.advance_automation_cursor(back))
        .expect("the check's step");
    assert_eq!(
        now,
        AutomationCursor {
            events: 12,
            day: Some(date(9))
        }
    );
    assert_eq!(
        crm.read(|r| r.automation_cursor())
            .expect("the check's step"),
        now
    );
}

/// Erasing a customer removes every firing about them and no one else's.
pub fn erasure_removes_the_customers_firings(crm: &Crm) {
    let wang = customer(crm, "王芳");
    let li = customer(crm, "李娜");
    for f in [
        firing("birthday-care", wang, Occurrence::Birthday(2026), 2),
        firing("stay-in-touch", wang, Occurrence::Silence(date(1)), 3),
        firing("birthday-care", li, Occurrence::Birthday(2026), 2),
    ] {
        crm.write(|w| w.record_firing(&f))
            .expect("the check's step");
    }
    crm.write(|w| w.erase_customer(wang, at(6)))
        .expect("the check's step");
    let left = crm.read(|r| r.firings()).expect("the check's step");
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].customer, li);
}

/// A firing recorded in a write that then fails is not stored, and neither is the
/// cursor it moved.
pub fn a_failed_write_stores_no_firing(crm: &Crm) {
    let wang = customer(crm, "王芳");
    let f = firing("birthday-care", wang, Occurrence::Birthday(2026), 2);
    let failed: Result<(), StoreError> = crm.write(|w| {
        w.record_firing(&f)?;
        w.advance_automation_cursor(AutomationCursor {
            events: 7,
            day: Some(date(2)),
        })?;
        Err(StoreError::not_found(Entity::Rule, "injected failure"))
    });
    assert!(failed.is_err());
    assert!(
        crm.read(|r| r.firings())
            .expect("the check's step")
            .is_empty()
    );
    assert_eq!(
        crm.read(|r| r.automation_cursor())
            .expect("the check's step"),
        AutomationCursor::default()
    );
    assert!(
        crm.write(|w| w.record_firing(&f))
            .expect("the check's step"),
        "it can fire after all"
    );
}

/// Every customer's keys as
/// [`ReadTx::for_each_customer_key`](solocrm_core::port::ReadTx::for_each_customer_key)
/// hands them over, one at a time.
fn streamed_keys(crm: &Crm) -> Vec<solocrm_core::CustomerKeys> {
    crm.read(|r| {
        let mut all = Vec::new();
        r.for_each_customer_key(|k| {
            all.push(k);
            Ok(())
        })?;
        Ok(all)
    })
    .expect("the keys, streamed")
}

/// [`ReadTx::customer_keys_created`](solocrm_core::port::ReadTx::customer_keys_created)
/// gives every customer's keys (erased ones included, by id) with the instant each was
/// created, as the keys and the whole customers say; through the view of an earlier
/// instant ([`AsOf`](solocrm_core::AsOf)), only those created before it, and the
/// view's keys are theirs (ADR 0061); [`customers_created_from`] names the others.
/// [`for_each_customer_key`] hands over the same keys one at a time, and stops at the
/// first error of its callback.
///
/// [`customers_created_from`]: solocrm_core::port::ReadTx::customers_created_from
/// [`for_each_customer_key`]: solocrm_core::port::ReadTx::for_each_customer_key
pub fn the_keys_with_creation_instants_answer_from_the_records(crm: &Crm) {
    use solocrm_core::port::ReadTx as _;
    use solocrm_core::{AsOf, Email, ExternalRef};
    let step = "the check's step";
    assert!(
        crm.read(|r| r.tx().customer_keys_created())
            .expect(step)
            .is_empty()
    );
    let subsecond = at(3) + chrono::Duration::milliseconds(250);
    let make = |who: &str, data: fn(CustomerData) -> CustomerData, when: DateTime<Utc>| {
        crm.write(|w| {
            w.create_customer(NewCustomer::new(
                data(CustomerData::new(PersonName::parse(who)?)),
                when,
            ))
        })
        .expect(step)
        .id()
    };
    let ada = make(
        "Ada",
        |d| {
            d.with_email(Email::parse("Ada@Example.com").expect("an email"))
                .with_external_ref(ExternalRef::parse("C-1").expect("a reference"))
        },
        at(2),
    );
    let bob = make("Bob", |d| d, subsecond);
    let cy = make(
        "Cy",
        |d| d.with_email(Email::parse("cy@example.com").expect("an email")),
        at(4),
    );
    let dee = make("Dee", |d| d, at(6));
    crm.write(|w| w.erase_customer(cy, at(5))).expect(step);
    crm.write(|w| w.erase_customer(dee, at(7))).expect(step);

    let got = crm.read(|r| r.tx().customer_keys_created()).expect(step);
    let keys = crm.read(|r| r.customer_keys()).expect(step);
    let mut expected = Vec::new();
    for k in keys {
        let c = crm.read(|r| r.customer(k.id)).expect(step);
        expected.push((k, c.created_at()));
    }
    assert_eq!(got, expected);
    assert_eq!(
        got.iter().map(|(k, _)| k.id).collect::<Vec<_>>(),
        vec![ada, bob, cy, dee]
    );
    // Streamed one at a time: the same keys, and the first error of `f` stops it.
    let keys: Vec<_> = expected.iter().map(|(k, _)| k.clone()).collect();
    assert_eq!(streamed_keys(crm), keys);
    let mut seen = 0;
    let stopped = crm.read(|r| {
        r.for_each_customer_key(|_| {
            seen += 1;
            if seen == 2 {
                return Err(solocrm_core::StoreError::backend(std::fmt::Error));
            }
            Ok(())
        })
    });
    assert!(stopped.is_err());
    assert_eq!(seen, 2, "no key after the error");
    assert_eq!(got[1].1, subsecond, "to the nanosecond");
    assert!(got[2].0.erased && got[2].0.email.is_none());

    let nano = chrono::Duration::nanoseconds(1);
    for cutoff in [
        at(1),
        at(2),
        at(2) + nano,
        subsecond,
        subsecond + nano,
        at(4),
        at(5),
        at(7),
    ] {
        crm.read(|r| {
            // The ids created at or after the cutoff, and a fresh view that answers
            // who it shows from them alone (its keys not read yet).
            let late: Vec<_> = expected
                .iter()
                .filter(|(_, created)| *created >= cutoff)
                .map(|(k, _)| k.id)
                .collect();
            assert_eq!(r.tx().customers_created_from(cutoff)?, late, "{cutoff}");
            let fresh = AsOf::new(r.tx(), cutoff);
            for (k, created) in &expected {
                let seen = fresh.customer(k.id)?.is_some();
                assert_eq!(seen, *created < cutoff, "{} at {cutoff}, fresh", k.id);
            }
            let view = AsOf::new(r.tx(), cutoff);
            let before: Vec<_> = expected
                .iter()
                .filter(|(_, created)| *created < cutoff)
                .cloned()
                .collect();
            assert_eq!(view.customer_keys_created()?, before, "{cutoff}");
            let keys: Vec<_> = before.into_iter().map(|(k, _)| k).collect();
            assert_eq!(view.customer_keys()?, keys, "{cutoff}");
            let mut streamed = Vec::new();
            view.for_each_customer_key(&mut |k| {
                streamed.push(k);
                Ok(())
            })?;
            assert_eq!(streamed, keys, "{cutoff}, streamed");
            for (k, created) in &expected {
                let seen = view.customer(k.id)?.is_some();
                assert_eq!(seen, *created < cutoff, "{} at {cutoff}", k.id);
            }
            Ok(())
        })
        .expect(step);
    }
}

/// What the time rules read without reading customers whole:
/// [`customer_dates`](solocrm_core::port::ReadTx::customer_dates) gives every customer
/// who is not erased with their creation and birthday, and
/// [`contact_times`](solocrm_core::port::ReadTx::contact_times) each customer's last
/// contact before a range and their contacts within it, in whole seconds, voided
/// records left out, repeats kept.
pub fn the_time_rules_light_reads_answer_from_the_records(crm: &Crm) {
    use solocrm_core::{
        Channel, ContactTimes, Currency, CustomerDates, Direction, FreeText, Money, NewInteraction,
        NewPurchase, Void,
    };
    let step = "the check's step";
    let born = NaiveDate::from_ymd_opt(1990, 2, 28).expect(step);
    let wang = crm
        .write(|w| {
            w.create_customer(NewCustomer::new(
                CustomerData::new(PersonName::parse("王芳")?).with_birthday(born),
                at(1),
            ))
        })
        .expect(step)
        .id();
    let li = customer(crm, "李娜");
    let zhang = customer(crm, "张伟");
    let chen = customer(crm, "陈静");
    let zhao = customer(crm, "赵敏");
    let buy = |who: CustomerId, when: DateTime<Utc>| {
        crm.write(|w| {
            w.record_purchase(NewPurchase::new(
                who,
                when,
                Money::parse("12.50", Currency::EUR)?,
            ))
        })
        .expect(step)
    };
    let talk = |who: CustomerId, when: DateTime<Utc>| {
        crm.write(|w| {
            w.log_interaction(NewInteraction {
                customer: who,
                channel: Channel::Phone,
                direction: Direction::Outbound,
                at: when,
                summary: FreeText::parse("问候")?,
                sentiment: None,
            })
        })
        .expect(step)
    };
    let subsecond = at(5) + chrono::Duration::milliseconds(700);
    buy(wang, at(2));
    talk(wang, at(4));
    buy(wang, subsecond);
    talk(wang, at(8));
    let voided = buy(wang, at(6)).id();
    crm.write(|w| w.void_purchase(voided, Void::at(at(7))))
        .expect(step);
    let voided = talk(wang, at(3)).id();
    crm.write(|w| w.void_interaction(voided, Void::at(at(7))))
        .expect(step);
    buy(wang, at(10));
    talk(li, at(3));
    buy(li, at(3));
    buy(li, at(20));
    buy(zhao, at(12));
    buy(chen, at(2));
    crm.write(|w| w.erase_customer(chen, at(6))).expect(step);

    let dates = crm.read(|r| r.customer_dates()).expect(step);
    let plain = |id| CustomerDates {
        id,
        created_at: at(1),
        birthday: None,
    };
    assert_eq!(
        dates,
        vec![
            CustomerDates {
                birthday: Some(born),
                ..plain(wang)
            },
            plain(li),
            plain(zhang),
            plain(zhao),
        ]
    );

    // From the 5th at 09:00:00.4 (a whole second of 09:00:00) to the 9th.
    let from = at(5) + chrono::Duration::milliseconds(400);
    let got = crm.read(|r| r.contact_times(from, at(9))).expect(step);
    // The erased customer's purchase may be kept or not; the others are exact.
    let got: Vec<ContactTimes> = got.into_iter().filter(|c| c.customer != chen).collect();
    assert_eq!(
        got,
        vec![
            ContactTimes {
                customer: wang,
                last_before: Some(at(4)),
                within: vec![at(5), at(8)],
            },
            ContactTimes {
                customer: li,
                last_before: Some(at(3)),
                within: vec![],
            },
        ]
    );
    // A range after everything: only last contacts; one before everything: nothing.
    let late = Utc
        .with_ymd_and_hms(2026, 4, 1, 0, 0, 0)
        .single()
        .expect(step);
    let got = crm.read(|r| r.contact_times(late, late)).expect(step);
    let got: Vec<(CustomerId, Option<DateTime<Utc>>, usize)> = got
        .into_iter()
        .filter(|c| c.customer != chen)
        .map(|c| (c.customer, c.last_before, c.within.len()))
        .collect();
    assert_eq!(
        got,
        vec![
            (wang, Some(at(10)), 0),
            (li, Some(at(20)), 0),
            (zhao, Some(at(12)), 0)
        ]
    );
    let early = Utc
        .with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
        .single()
        .expect(step);
    assert_eq!(
        crm.read(|r| r.contact_times(early, early)).expect(step),
        vec![]
    );
}

/// [`ReadTx::customer_stages`](solocrm_core::port::ReadTx::customer_stages), what the
/// runner's lifecycle catch-up reads: every customer who is not erased, by id, with
/// the stage their last change left them in — the same as reading them whole.
pub fn the_stages_read_answers_from_the_records(crm: &Crm) {
    use solocrm_core::{LifecycleStage, StageReason};
    let step = "the check's step";
    let wang = customer(crm, "王芳");
    let li = customer(crm, "李娜");
    let zhang = customer(crm, "张伟");
    let chen = customer(crm, "陈静");
    for (who, to, day) in [
        (wang, LifecycleStage::Lead, 2),
        (wang, LifecycleStage::New, 3),
        (li, LifecycleStage::Lead, 2),
        (chen, LifecycleStage::Lead, 4),
    ] {
        crm.write(|w| w.change_stage(who, to, at(day), StageReason::manual()))
            .expect(step);
    }
    crm.write(|w| w.erase_customer(chen, at(6))).expect(step);
    let stages = crm.read(|r| r.tx().customer_stages()).expect(step);
    let whole: Vec<(CustomerId, LifecycleStage)> = crm
        .read(|r| r.all_customers())
        .expect(step)
        .iter()
        .filter(|c| !c.is_erased())
        .map(|c| (c.id(), c.stage()))
        .collect();
    assert_eq!(stages, whole);
    assert_eq!(
        stages,
        vec![
            (wang, LifecycleStage::New),
            (li, LifecycleStage::Lead),
            (zhang, LifecycleStage::Prospect),
        ]
    );
}

/// [`ReadTx::report_customers`](solocrm_core::port::ReadTx::report_customers), what a
/// metrics report reads of every customer: erased ones included, by id, each as the
/// customer read whole gives it (stage, creation, erasure, acquisition channel and
/// cost).
pub fn the_report_customers_read_answers_from_the_records(crm: &Crm) {
    use solocrm_core::{LifecycleStage, Money, ReportCustomer, StageReason, Tag};
    let step = "the check's step";
    let wang = customer(crm, "王芳");
    let li = customer(crm, "李娜");
    let chen = customer(crm, "陈静");
    let mut data = crm.read(|r| r.customer(li)).expect(step).data().clone();
    data.acquisition_channel = Some(Tag::parse("referral").expect(step));
    data.acquisition_cost = Some(Money::from_minor(4_250, crm.currency()));
    crm.write(|w| {
        w.update_customer(li, data.clone())?;
        w.change_stage(wang, LifecycleStage::Lead, at(2), StageReason::manual())?;
        w.erase_customer(chen, at(6))
    })
    .expect(step);
    let read = crm.read(|r| r.tx().report_customers()).expect(step);
    let whole: Vec<ReportCustomer> = crm
        .read(|r| {
            r.all_matching(&solocrm_core::CustomerQuery {
                include_erased: true,
                ..solocrm_core::CustomerQuery::default()
            })
        })
        .expect(step)
        .iter()
        .map(ReportCustomer::of)
        .collect();
    assert_eq!(read, whole);
    let facts: Vec<_> = read
        .iter()
        .map(|c| (c.id, c.stage, c.erased, c.acquisition_cost.is_some()))
        .collect();
    assert_eq!(
        facts,
        vec![
            (wang, LifecycleStage::Lead, false, false),
            (li, LifecycleStage::Prospect, false, true),
            (chen, LifecycleStage::Prospect, true, false),
        ]
    );
}

/// [`ReadTx::segment_rows`](solocrm_core::port::ReadTx::segment_rows), what a segment
/// over the whole book reads of each customer: for every filter and every choice of
/// fields, the rows the whole customers give (erased ones only when asked for, tags,
/// profile, birthday, channel and consents only when asked for); and
/// [`Reader::segment_members`](solocrm_core::Reader::segment_members) selects the
/// customers [`Reader::all_matching`](solocrm_core::Reader::all_matching) selects, for
/// predicates on each of those fields, on purchases and on tiers.
pub fn the_segment_rows_read_answers_from_the_records(crm: &Crm) {
    use solocrm_core::customer::{AgeBand, Consent};
    use solocrm_core::port::CustomerFilter;
    use solocrm_core::{
        Cmp, Comparison, CountryCode, CustomerQuery, LifecycleStage, Money, NewPurchase, Predicate,
        SegmentFields, SegmentFilter, SegmentRow, StageReason, Tag,
    };
    let step = "the check's step";
    let tag = |t: &str| Tag::parse(t).expect(step);
    let wang = customer(crm, "王芳");
    let li = customer(crm, "李娜");
    let chen = customer(crm, "陈静");
    let zhao = customer(crm, "赵磊");
    let mut data = crm.read(|r| r.customer(wang)).expect(step).data().clone();
    data.tags.insert(tag("vip"));
    data.profile.country = Some(CountryCode::parse("CN").expect(step));
    data.profile.city = Some(Label::parse("Hangzhou").expect(step));
    data.profile
        .attributes
        .insert(tag("tea"), Label::parse("Longjing").expect(step));
    data.birthday = NaiveDate::from_ymd_opt(1986, 5, 4);
    data.acquisition_channel = Some(tag("referral"));
    let mut chen_data = data.clone();
    chen_data.name = PersonName::parse("陈静").expect(step);
    // Tags on several customers, two on one, and on customers a filter leaves out.
    let mut li_data = crm.read(|r| r.customer(li)).expect(step).data().clone();
    li_data.tags.insert(tag("vip"));
    li_data.tags.insert(tag("wholesale"));
    let mut zhao_data = crm.read(|r| r.customer(zhao)).expect(step).data().clone();
    zhao_data.tags.insert(tag("wholesale"));
    let consent = |granted: bool, day: u32| Consent {
        purpose: tag("marketing-email"),
        granted,
        at: at(day),
        source: Label::parse("网页表单").expect(step),
    };
    crm.write(|w| {
        w.update_customer(wang, data.clone())?;
        w.update_customer(chen, chen_data.clone())?;
        w.update_customer(li, li_data.clone())?;
        w.update_customer(zhao, zhao_data.clone())?;
        w.record_consent(li, consent(true, 2))?;
        w.record_consent(li, consent(false, 4))?;
        w.record_consent(wang, consent(true, 3))?;
        w.record_consent(chen, consent(true, 3))?;
        w.change_stage(zhao, LifecycleStage::Lead, at(2), StageReason::manual())?;
        w.record_purchase(NewPurchase::new(
            wang,
            at(3),
            Money::from_minor(150_000, crm.currency()),
        ))?;
        w.record_purchase(NewPurchase::new(
            zhao,
            at(5),
            Money::from_minor(2_000, crm.currency()),
        ))?;
        w.erase_customer(chen, at(6))
    })
    .expect(step);
    let filters = [
        CustomerFilter::default(),
        CustomerFilter {
            include_erased: true,
            ..CustomerFilter::default()
        },
        CustomerFilter {
            stage: Some(LifecycleStage::Lead),
            ..CustomerFilter::default()
        },
        CustomerFilter {
            tag: Some(tag("vip")),
            include_erased: true,
            ..CustomerFilter::default()
        },
    ];
    let none = SegmentFields::default();
    let choices = [
        none,
        SegmentFields::ALL,
        SegmentFields { tags: true, ..none },
        SegmentFields {
            profile: true,
            ..none
        },
        SegmentFields {
            birthday: true,
            ..none
        },
        SegmentFields {
            acquisition_channel: true,
            ..none
        },
        SegmentFields {
            consents: true,
            ..none
        },
    ];
    for filter in &filters {
        let whole = crm
            .read(|r| r.tx().customers(filter, None, 1000))
            .expect(step);
        for fields in choices {
            let read = crm
                .read(|r| r.tx().segment_rows(filter, fields))
                .expect(step);
            let expected: Vec<SegmentRow> =
                whole.iter().map(|c| SegmentRow::of(c, fields)).collect();
            assert_eq!(read, expected, "{filter:?} {fields:?}");
        }
    }
    let all = crm
        .read(|r| r.tx().segment_rows(&filters[1], SegmentFields::ALL))
        .expect(step);
    let ids: Vec<CustomerId> = all.iter().map(|r| r.id).collect();
    assert_eq!(ids, vec![wang, li, chen, zhao]);
    let erased = &all[2];
    assert!(erased.erased && erased.profile == Default::default() && erased.birthday.is_none());
    assert!(all[0].tags.contains(&tag("vip")) && all[1].consents.len() == 2);
    assert_eq!((all[1].tags.len(), all[3].tags.len()), (2, 1));

    let predicates = [
        Predicate::Tag(tag("vip")),
        Predicate::Country(CountryCode::parse("CN").expect(step)),
        Predicate::City(Label::parse("hangzhou").expect(step)),
        Predicate::Attribute {
            key: tag("tea"),
            value: Label::parse("LONGJING").expect(step),
        },
        Predicate::AgeBand(AgeBand::of_age(39)),
        Predicate::AcquisitionChannel(tag("referral")),
        Predicate::Consent(tag("marketing-email")),
        Predicate::not(Predicate::Consent(tag("marketing-email"))),
        Predicate::Stage(LifecycleStage::Lead),
        Predicate::Tier(tag("gold")),
        Predicate::not(Predicate::Tier(tag("gold"))),
        Predicate::TotalSpend(Comparison {
            op: Cmp::Ge,
            value: 1000.into(),
        }),
        Predicate::All(vec![
            Predicate::Tag(tag("vip")),
            Predicate::PurchaseCount(Comparison {
                op: Cmp::Ge,
                value: 1,
            }),
        ]),
        Predicate::DaysSinceLastPurchase(Comparison {
            op: Cmp::Lt,
            value: 2,
        }),
    ];
    for predicate in predicates {
        for as_of in [at(3), at(9)] {
            let segment = SegmentFilter {
                predicate: predicate.clone(),
                as_of,
            };
            let narrow: Vec<CustomerId> = crm
                .read(|r| r.segment_members(&segment))
                .expect(step)
                .iter()
                .map(|r| r.id)
                .collect();
            let whole: Vec<CustomerId> = crm
                .read(|r| {
                    r.all_matching(&CustomerQuery {
                        segment: Some(segment.clone()),
                        ..CustomerQuery::default()
                    })
                })
                .expect(step)
                .iter()
                .map(|c| c.id())
                .collect();
            assert_eq!(narrow, whole, "{predicate:?} at {as_of}");
        }
    }
    // The narrow members of a few of them, spelled out.
    let members = |p: Predicate| -> Vec<CustomerId> {
        crm.read(|r| {
            r.segment_members(&SegmentFilter {
                predicate: p,
                as_of: at(9),
            })
        })
        .expect(step)
        .iter()
        .map(|r| r.id)
        .collect()
    };
    assert_eq!(members(Predicate::Tag(tag("vip"))), vec![wang, li]);
    assert_eq!(members(Predicate::Tag(tag("wholesale"))), vec![li, zhao]);
    assert_eq!(
        members(Predicate::Consent(tag("marketing-email"))),
        vec![wang]
    );
    assert_eq!(members(Predicate::Stage(LifecycleStage::Lead)), vec![zhao]);
}

/// [`ReadTx::report_purchases`](solocrm_core::port::ReadTx::report_purchases), what a
/// metrics report reads of purchases: those not voided and dated before the bound (a
/// millisecond before it counts), by id, each the narrow row of the purchase read
/// whole (customer, whole seconds, amount and cost in minor units; ADR 0062).
pub fn the_report_purchases_read_answers_from_the_records(crm: &Crm) {
    use solocrm_core::{
        ActivityQuery, ExternalRef, FreeText, Money, NewPurchase, Purchase, ReportPurchases, Void,
    };
    let step = "the check's step";
    let wang = customer(crm, "王芳");
    let li = customer(crm, "李娜");
    let cny = |minor: i64| Money::from_minor(minor, crm.currency());
    let buy = |who: CustomerId, when: DateTime<Utc>, minor: i64, text: bool| {
        let mut p = NewPurchase::new(who, when, cny(minor));
        if text {
            p.cost = Some(cny(minor / 2));
            p.items = Some(3);
            p.description = Some(FreeText::parse("茶叶礼盒").expect(step));
            p.external_ref = Some(ExternalRef::parse(&format!("INV-{minor}")).expect(step));
        }
        crm.write(|w| w.record_purchase(p.clone()))
            .expect(step)
            .id()
    };
    let bound = at(5) + chrono::Duration::milliseconds(700);
    // Recorded out of time order, so id order is not time order.
    buy(li, at(4), 1_000, true);
    buy(wang, at(2), 2_000, false);
    buy(wang, bound, 3_000, true);
    buy(wang, bound - chrono::Duration::milliseconds(1), 4_000, true);
    let voided = buy(li, at(3), 5_000, true);
    crm.write(|w| w.void_purchase(voided, Void::at(at(7))))
        .expect(step);
    buy(li, at(1), 6_000, true);
    let read = crm.read(|r| r.tx().report_purchases(bound)).expect(step);
    let mut whole: Vec<Purchase> = crm
        .read(|r| r.purchases(&ActivityQuery::ALL))
        .expect(step)
        .into_iter()
        .filter(|p| p.at() < bound)
        .collect();
    whole.sort_by_key(Purchase::id);
    assert_eq!(
        read,
        ReportPurchases::from_purchases(crm.currency(), &whole)
    );
    assert_eq!(read.currency, Some(crm.currency()));
    let amounts: Vec<i64> = read.iter().map(|p| p.amount).collect();
    assert_eq!(amounts, vec![1_000, 2_000, 4_000, 6_000]);
    let costs: Vec<Option<i64>> = read.iter().map(|p| p.cost()).collect();
    assert_eq!(costs, vec![Some(500), None, Some(2_000), Some(3_000)]);
    // Whole seconds: the purchase a millisecond before the bound is in its second.
    assert_eq!(
        read.rows[2].at,
        (bound - chrono::Duration::milliseconds(1)).timestamp()
    );
    assert_eq!(read.rows[0].customer, li);
    // Read together with the purchase log (a report's one pass), both answers are the
    // ones read apart, whatever the bound: before, inside and after the purchases.
    for until in [at(1) - chrono::Duration::days(1), at(2), bound, at(9)] {
        let together = crm
            .read(|r| r.tx().report_purchases_and_log(until))
            .expect(step);
        let apart = crm
            .read(|r| Ok((r.tx().report_purchases(until)?, r.tx().purchase_log()?)))
            .expect(step);
        assert_eq!(together, apart, "purchases before {until}");
        // As a report keeps them (ADR 0076): the same log, and the same rows whether
        // the backend gives them as rows or as their costs beside the log.
        let kept = crm
            .read(|r| r.tx().report_purchase_read(until))
            .expect(step);
        assert_eq!(kept.log, apart.1, "the log before {until}");
        assert_eq!(kept.purchases.currency, apart.0.currency, "{until}");
        let rows: Vec<_> = match &kept.log_costs {
            Some(costs) => {
                assert!(kept.purchases.is_empty(), "rows kept once, before {until}");
                costs.rows(&kept.log).collect()
            }
            None => kept.purchases.rows.clone(),
        };
        assert_eq!(rows, apart.0.rows, "report rows before {until}");
    }
}

/// [`ReadTx::survey_scores`](solocrm_core::port::ReadTx::survey_scores), what the
/// lifecycle policy reads of satisfaction: who, when and the score of the answers not
/// voided and dated before the bound (a millisecond before it counts), by time then
/// id, the same as the answers read whole; answers recorded out of time order, one
/// voided, two at one instant.
pub fn the_survey_scores_read_answers_from_the_records(crm: &Crm) {
    use solocrm_core::{
        ActivityQuery, FreeText, NewSurveyResponse, ScoredAnswer, SurveyKind, SurveyScore, Void,
    };
    let step = "the check's step";
    let wang = customer(crm, "王芳");
    let li = customer(crm, "李娜");
    let answer = |who: CustomerId, when: DateTime<Utc>, kind: SurveyKind, value: i64| {
        let score = SurveyScore::new(kind, value).expect(step);
        crm.write(|w| {
            w.record_survey(NewSurveyResponse {
                customer: who,
                at: when,
                score,
                comment: Some(FreeText::parse("服务很好").expect(step)),
            })
        })
        .expect(step)
        .id()
    };
    let bound = at(5) + chrono::Duration::milliseconds(700);
    answer(li, at(4), SurveyKind::Nps, 9);
    answer(wang, at(2), SurveyKind::Csat, 4);
    answer(wang, bound, SurveyKind::Nps, 10);
    answer(
        wang,
        bound - chrono::Duration::milliseconds(1),
        SurveyKind::Ces,
        3,
    );
    let voided = answer(li, at(3), SurveyKind::Csat, 1);
    crm.write(|w| w.void_survey(voided, Void::at(at(7))))
        .expect(step);
    answer(li, at(2), SurveyKind::Nps, 6);
    for until in [at(1), at(2) + chrono::Duration::seconds(1), bound, at(9)] {
        let read = crm.read(|r| r.tx().survey_scores(until)).expect(step);
        let whole: Vec<ScoredAnswer> = crm
            .read(|r| r.surveys(&ActivityQuery::ALL))
            .expect(step)
            .iter()
            .filter(|s| s.at() < until)
            .map(ScoredAnswer::of)
            .collect();
        assert_eq!(read, whole, "answers before {until}");
    }
    let read = crm.read(|r| r.tx().survey_scores(bound)).expect(step);
    let values: Vec<u8> = read.iter().map(|a| a.score.value()).collect();
    assert_eq!(
        values,
        vec![4, 6, 9, 3],
        "by time then id, the voided one left out"
    );
    assert_eq!(read[0].customer, wang);
}

/// [`ReadTx::report_interactions`](solocrm_core::port::ReadTx::report_interactions),
/// what a metrics report reads of interactions: who and when of those not voided and
/// dated before the bound (a millisecond before it counts), by time then id, the same
/// as the interactions read whole (ADR 0062).
pub fn the_report_interactions_read_answers_from_the_records(crm: &Crm) {
    use solocrm_core::{
        ActivityQuery, Channel, Direction, FreeText, NewInteraction, ReportInteraction, TimeRange,
        Void,
    };
    let step = "the check's step";
    let wang = customer(crm, "王芳");
    let li = customer(crm, "李娜");
    let talk = |who: CustomerId, when: DateTime<Utc>| {
        crm.write(|w| {
            w.log_interaction(NewInteraction {
                customer: who,
                channel: Channel::Email,
                direction: Direction::Inbound,
                at: when,
                summary: FreeText::parse("询价：茶叶礼盒")?,
                sentiment: None,
            })
        })
        .expect(step)
        .id()
    };
    let bound = at(5) + chrono::Duration::milliseconds(700);
    // Logged out of time order, two at the same instant.
    talk(li, at(4));
    talk(wang, bound);
    talk(wang, bound - chrono::Duration::milliseconds(1));
    talk(wang, at(2));
    talk(li, at(2));
    let voided = talk(li, at(3));
    crm.write(|w| w.void_interaction(voided, Void::at(at(7))))
        .expect(step);
    let read = crm.read(|r| r.tx().report_interactions(bound)).expect(step);
    let whole: Vec<ReportInteraction> = crm
        .read(|r| {
            r.interactions(&ActivityQuery {
                customer: None,
                range: TimeRange::until(bound),
                include_voided: false,
            })
        })
        .expect(step)
        .iter()
        .map(ReportInteraction::of)
        .collect();
    assert_eq!(read, whole);
    let expected = vec![
        (wang, at(2)),
        (li, at(2)),
        (li, at(4)),
        (wang, bound - chrono::Duration::milliseconds(1)),
    ];
    let got: Vec<_> = read.iter().map(|i| (i.customer, i.at)).collect();
    assert_eq!(got, expected);
}

/// The names read answers, in the order asked, each id's name as the customer read
/// whole has it (an erased customer's is the one erasure left, an id asked twice is
/// answered twice), and leaves an unknown id out.
pub fn the_names_read_answers_from_the_records(crm: &Crm) {
    let step = "the check's step";
    let wang = customer(crm, "王芳");
    let ada = customer(crm, "Ada Lovelace");
    let chen = customer(crm, "陈静");
    crm.write(|w| w.erase_customer(chen, at(6))).expect(step);
    let unknown = CustomerId::new(9_999);
    let asked = [chen, unknown, wang, ada, wang];
    let names = crm.read(|r| r.tx().customer_names(&asked)).expect(step);
    let mut whole = Vec::new();
    for id in [chen, wang, ada, wang] {
        whole.push((id, crm.read(|r| r.customer(id)).expect(step).name().clone()));
    }
    assert_eq!(names, whole);
    // A list naming many customers (a backend may read its table once for it): the
    // same answers, repeats and order kept, the unknown id left out.
    let many: Vec<CustomerId> = asked.iter().copied().cycle().take(5 * 300).collect();
    let answered = crm.read(|r| r.tx().customer_names(&many)).expect(step);
    let expected: Vec<_> = whole.iter().cloned().cycle().take(4 * 300).collect();
    assert_eq!(answered, expected);
    assert_eq!(names[1].1.as_str(), "王芳");
    assert_ne!(names[0].1.as_str(), "陈静", "erasure left the name behind");
    assert!(
        crm.read(|r| r.tx().customer_names(&[]))
            .expect(step)
            .is_empty()
    );
}

/// The last-interactions read gives each customer's latest interaction strictly
/// before its bound, to the nanosecond, voided ones left out: the same as folding the
/// interactions listed up to that bound.
pub fn the_last_interactions_read_answers_from_the_records(crm: &Crm) {
    use solocrm_core::{
        ActivityQuery, Channel, Direction, FreeText, NewInteraction, TimeRange, Void,
    };
    let step = "the check's step";
    let wang = customer(crm, "王芳");
    let li = customer(crm, "李娜");
    let chen = customer(crm, "陈静");
    let talk = |who: CustomerId, when: DateTime<Utc>| {
        crm.write(|w| {
            w.log_interaction(NewInteraction {
                customer: who,
                channel: Channel::Phone,
                direction: Direction::Outbound,
                at: when,
                summary: FreeText::parse("回访")?,
                sentiment: None,
            })
        })
        .expect(step)
    };
    let half = at(5) + chrono::Duration::milliseconds(500);
    talk(wang, at(2));
    talk(wang, half);
    talk(wang, at(4));
    let voided = talk(wang, at(9)).id();
    crm.write(|w| w.void_interaction(voided, Void::at(at(10))))
        .expect(step);
    talk(li, at(7));
    talk(chen, at(3));
    crm.write(|w| w.erase_customer(chen, at(6))).expect(step);
    let folded = |until: DateTime<Utc>| {
        let query = ActivityQuery {
            customer: None,
            range: TimeRange::until(until),
            include_voided: false,
        };
        let mut by = std::collections::BTreeMap::new();
        for i in crm.read(|r| r.interactions(&query)).expect(step) {
            let e = by.entry(i.customer()).or_insert(i.at());
            *e = (*e).max(i.at());
        }
        by.into_iter().collect::<Vec<_>>()
    };
    // The erased customer's interactions may be kept or not; the others are exact.
    let read = |until: DateTime<Utc>| {
        crm.read(|r| r.tx().last_interactions(until))
            .expect(step)
            .into_iter()
            .filter(|(id, _)| *id != chen)
            .collect::<Vec<_>>()
    };
    let without_chen = |v: Vec<(CustomerId, DateTime<Utc>)>| {
        v.into_iter()
            .filter(|(id, _)| *id != chen)
            .collect::<Vec<_>>()
    };
    let just_after_half = half + chrono::Duration::nanoseconds(1);
    for until in [at(1), at(3), at(5), half, just_after_half, at(8), at(20)] {
        assert_eq!(read(until), without_chen(folded(until)), "until {until}");
    }
    assert_eq!(read(half), vec![(wang, at(4))]);
    assert_eq!(read(just_after_half), vec![(wang, half)]);
    assert_eq!(read(at(20)), vec![(wang, half), (li, at(7))]);
    assert_eq!(read(at(1)), vec![]);
}

fn validity(months: u32, from: &str) -> solocrm_core::PointsExpiry {
    solocrm_core::PointsExpiry::new(months, from.parse().expect("the check's date"))
        .expect("the check's step")
}

fn earn(crm: &Crm, who: CustomerId, at: DateTime<Utc>, kind: PointsKind, points: i64) {
    crm.write(|w| w.post_points(NewPointsEntry::new(who, at, kind, points)?))
        .expect("the check's step");
}

/// The points validity starts unset, is read back as set, survives nothing of a
/// failed write, and is cleared again.
pub fn the_points_validity_is_stored_and_cleared(crm: &Crm) {
    assert_eq!(crm.read(|r| r.points_expiry()).expect("read"), None);
    let year = validity(12, "2026-03-01");
    crm.write(|w| w.set_points_expiry(Some(year))).expect("set");
    assert_eq!(crm.read(|r| r.points_expiry()).expect("read"), Some(year));
    let failed = crm.write(|w| {
        w.set_points_expiry(Some(validity(6, "2028-02-29")))?;
        Err::<(), _>(StoreError::not_found(Entity::Customer, 404))
    });
    assert!(failed.is_err());
    assert_eq!(crm.read(|r| r.points_expiry()).expect("read"), Some(year));
    crm.write(|w| w.set_points_expiry(None)).expect("clear");
    assert_eq!(crm.read(|r| r.points_expiry()).expect("read"), None);
}

/// `points_holders` lists the customers whose newest entry leaves points, by id;
/// `points_holder_ledgers` gives the same customers with their whole ledgers.
pub fn points_holders_are_the_customers_with_a_balance(crm: &Crm) {
    let wang = customer(crm, "王芳");
    let li = customer(crm, "李雷");
    let zhao = customer(crm, "赵敏");
    let _nobody = customer(crm, "陈静");
    earn(crm, zhao, at(2), PointsKind::Earn, 10);
    earn(crm, wang, at(2), PointsKind::Earn, 100);
    earn(crm, li, at(2), PointsKind::Earn, 50);
    earn(crm, li, at(3), PointsKind::Redeem, 50);
    let holders = crm.read(|r| r.tx().points_holders()).expect("read");
    assert_eq!(holders, vec![wang, zhao]);
    earn(crm, li, at(4), PointsKind::Adjust, 5);
    earn(crm, zhao, at(4), PointsKind::Expire, 10);
    let holders = crm.read(|r| r.tx().points_holders()).expect("read");
    assert_eq!(holders, vec![wang, li]);
    // The one-read form: the same holders, each with exactly their own ledger.
    let ledgers = crm.read(|r| r.tx().points_holder_ledgers()).expect("read");
    let expected: Vec<_> = [wang, li]
        .into_iter()
        .map(|c| (c, crm.read(|r| r.tx().points_ledger(c)).expect("read")))
        .collect();
    assert_eq!(ledgers, expected);
    assert_eq!(ledgers[1].1.len(), 3, "李雷's earn, redeem and adjust");
}

/// In the Asia/Shanghai business zone, across a leap day and month ends: the lapses
/// due are posted as expiry entries dated at the start of their Beijing day, each
/// once; a second call posts nothing; without a validity nothing lapses.
pub fn due_lapses_are_posted_once_on_their_business_day(crm: &Crm) {
    let zone = solocrm_core::BusinessZone::parse("Asia/Shanghai").expect("a zone");
    crm.write(|w| w.set_time_zone(zone)).expect("the zone");
    let zhang = customer(crm, "张伟");
    let day = |s: &str| s.parse::<NaiveDate>().expect("the check's date");
    // January 31 in Beijing; and 2024-02-29 17:00 UTC, already March 1 in Beijing.
    earn(
        crm,
        zhang,
        zone.start_of(day("2024-01-31")),
        PointsKind::Earn,
        30,
    );
    let late = Utc
        .with_ymd_and_hms(2024, 2, 29, 17, 0, 0)
        .single()
        .expect("valid");
    earn(crm, zhang, late, PointsKind::Earn, 100);
    let post = |through: &str| {
        crm.write(|w| w.post_due_lapses(zhang, day(through)))
            .expect("the check's step")
    };
    assert!(post("2024-03-31").is_empty(), "no validity: nothing lapses");
    crm.write(|w| w.set_points_expiry(Some(validity(1, "2024-01-01"))))
        .expect("set");
    assert!(post("2024-02-28").is_empty());
    let first = post("2024-02-29");
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].kind(), PointsKind::Expire);
    assert_eq!(first[0].delta(), -30);
    assert_eq!(first[0].at(), zone.start_of(day("2024-02-29")));
    assert_eq!(
        first[0].at(),
        Utc.with_ymd_and_hms(2024, 2, 28, 16, 0, 0)
            .single()
            .expect("valid")
    );
    assert_eq!(first[0].balance_after(), 100);
    assert!(post("2024-02-29").is_empty(), "posted once");
    assert!(post("2024-03-31").is_empty());
    let second = post("2024-04-01");
    assert_eq!(second.len(), 1);
    assert_eq!(second[0].delta(), -100);
    assert_eq!(zone.date_of(second[0].at()), day("2024-04-01"));
    assert!(post("2030-01-01").is_empty());
    let ledger = crm.read(|r| r.points_ledger(zhang)).expect("read");
    assert_eq!(ledger.len(), 4);
    assert_eq!(crm.read(|r| r.points_balance(zhang)).expect("read"), 0);
    assert!(
        crm.read(|r| r.tx().points_holders())
            .expect("read")
            .is_empty()
    );
}

/// The reads of the analytic views (issue 14), each against the records it sums up:
/// [`stage_changes_from`](solocrm_core::port::ReadTx::stage_changes_from) gives the
/// whole history of exactly the customers (erased ones included) with a change at or
/// after the instant; [`purchase_summaries`](solocrm_core::port::ReadTx::purchase_summaries)
/// equals [`purchase_summary`](solocrm_core::port::ReadTx::purchase_summary) of every
/// customer with a purchase up to the instant (voided ones left out, a purchase at the
/// instant itself counted); [`for_each_purchase`](solocrm_core::port::ReadTx::for_each_purchase)
/// gives what [`purchases`](solocrm_core::port::ReadTx::purchases) lists, in its order,
/// whether the ids follow the times or not, and stops at the first error.
pub fn the_view_reads_answer_from_the_records(crm: &Crm) {
    use solocrm_core::{
        ActivityQuery, Currency, LifecycleStage, Money, NewPurchase, Purchase, StageReason,
        TimeRange, Void,
    };
    let step = "the check's step";
    let wang = customer(crm, "王芳");
    let li = customer(crm, "李娜");
    let zhang = customer(crm, "张伟");
    let chen = customer(crm, "陈静");
    for (who, to, day) in [
        (wang, LifecycleStage::Lead, 2),
        (wang, LifecycleStage::New, 6),
        (li, LifecycleStage::Lead, 3),
        (chen, LifecycleStage::Lead, 4),
        (chen, LifecycleStage::New, 7),
    ] {
        crm.write(|w| w.change_stage(who, to, at(day), StageReason::manual()))
            .expect(step);
    }
    // Bought out of time order (ids do not follow the times), one voided, one within
    // a second of the summaries' instant.
    let buy = |who: CustomerId, when: DateTime<Utc>, amount: &str| {
        crm.write(|w| {
            w.record_purchase(NewPurchase::new(
                who,
                when,
                Money::parse(amount, Currency::EUR)?,
            ))
        })
        .expect(step)
    };
    buy(wang, at(5), "10.00");
    buy(li, at(3), "7.25");
    buy(wang, at(2), "0.99");
    let voided = buy(li, at(4), "100.00").id();
    crm.write(|w| w.void_purchase(voided, Void::at(at(8))))
        .expect(step);
    let cut = at(6);
    buy(zhang, cut, "3.00");
    buy(zhang, cut + chrono::Duration::milliseconds(1), "4.00");
    buy(chen, at(2), "5.00");
    crm.write(|w| w.erase_customer(chen, at(9))).expect(step);

    // Stage changes from the 6th: Wang (moved on the 6th) with the whole history, and
    // the erased Chen (the 7th) as far as the store keeps an erased history; Li's only
    // change is before.
    let got = crm.read(|r| r.tx().stage_changes_from(cut)).expect(step);
    let whole = |who| crm.read(|r| r.tx().stage_history(who)).expect(step);
    let mut want = Vec::new();
    for who in [wang, li, zhang, chen] {
        let history = whole(who);
        if history.iter().any(|h| h.at >= cut) {
            want.extend(history);
        }
    }
    assert_eq!(
        got[..2].iter().map(|h| h.customer).collect::<Vec<_>>(),
        [wang, wang]
    );
    assert_eq!(got, want);
    let after_all = at(20);
    assert!(
        crm.read(|r| r.tx().stage_changes_from(after_all))
            .expect(step)
            .is_empty()
    );

    // Summaries at the 6th, 09:00:00 exactly: Zhang's purchase at that instant counts,
    // the one a millisecond later does not; Li's voided one is left out.
    let got = crm.read(|r| r.tx().purchase_summaries(cut)).expect(step);
    let ids: Vec<CustomerId> = got.iter().map(|(id, _)| *id).collect();
    assert_eq!(ids.len(), 4, "{ids:?}");
    for (id, summary) in &got {
        let one = crm.read(|r| r.tx().purchase_summary(*id, cut)).expect(step);
        assert_eq!(summary, &one, "customer {id}");
    }
    let zhangs = got.iter().find(|(id, _)| *id == zhang).expect(step).1;
    assert_eq!(
        (zhangs.count, zhangs.total.amount().to_string()),
        (1, "3.00".to_owned())
    );
    let early = crm.read(|r| r.tx().purchase_summaries(at(1))).expect(step);
    assert!(early.is_empty());

    // Streamed purchases: what the list gives, in its order, voided ones on request.
    for query in [
        ActivityQuery::ALL,
        ActivityQuery::EVERYTHING,
        ActivityQuery::customer(wang),
        ActivityQuery {
            customer: None,
            range: TimeRange::between(at(3), cut),
            include_voided: false,
        },
    ] {
        let listed = crm.read(|r| r.tx().purchases(&query)).expect(step);
        let mut streamed: Vec<Purchase> = Vec::new();
        crm.read(|r| {
            r.tx().for_each_purchase(&query, &mut |p| {
                streamed.push(p);
                Ok(())
            })
        })
        .expect(step);
        assert_eq!(streamed, listed, "{query:?}");
    }
    let all = crm
        .read(|r| r.tx().purchases(&ActivityQuery::ALL))
        .expect(step);
    let times: Vec<DateTime<Utc>> = all.iter().map(Purchase::at).collect();
    assert!(times.is_sorted(), "by time: {times:?}");
    // The first error stops the walk and is returned.
    let mut seen = 0;
    let stopped = crm.read(|r| {
        r.tx().for_each_purchase(&ActivityQuery::ALL, &mut |_| {
            seen += 1;
            Err(StoreError::Validation(
                solocrm_core::ValidationError::Empty { field: "stop" },
            ))
        })
    });
    assert!(stopped.is_err());
    assert_eq!(seen, 1);
}

/// [`ReadTx::purchase_log_by_customer`](solocrm_core::port::ReadTx::purchase_log_by_customer),
/// what `stage reassess`, `churn-risk` and the lifecycle catch-up read: the same
/// customers and the same rows as the purchase log, grouped by ascending dense
/// customer index — purchases recorded out of customer and time order, a batch, two in
/// one second, a void, a customer who never bought and an erased customer — and the
/// same through the as-of view of a past instant.
pub fn the_purchase_log_by_customer_holds_the_logs_rows_grouped(crm: &Crm) {
    use solocrm_core::{Currency, Money, NewPurchase, PurchaseLog, Void};
    let step = "the check's step";
    // Each customer's rows, sorted: the order within a customer is the backend's.
    fn rows(log: &PurchaseLog) -> Vec<(u32, i64, i64)> {
        let mut out: Vec<(u32, i64, i64)> = (0..log.len())
            .map(|k| (log.customer[k], log.at[k], log.amount[k]))
            .collect();
        out.sort_unstable();
        out
    }
    let agree = |when: &str| {
        let (log, grouped) = crm
            .read(|r| Ok((r.tx().purchase_log()?, r.tx().purchase_log_by_customer()?)))
            .expect(step);
        assert_eq!(grouped.customers, log.customers, "{when}: the customers");
        assert_eq!(grouped.currency, log.currency, "{when}: the currency");
        assert!(grouped.customer.is_sorted(), "{when}: grouped by customer");
        assert_eq!(grouped.at.len(), grouped.len(), "{when}: the times");
        assert_eq!(grouped.amount.len(), grouped.len(), "{when}: the amounts");
        assert_eq!(rows(&grouped), rows(&log), "{when}: the rows");
        log
    };
    let empty = agree("no customer");
    assert!(empty.is_empty());
    let wang = customer(crm, "王芳");
    let li = customer(crm, "李娜");
    let never = customer(crm, "张伟");
    let chen = customer(crm, "陈静");
    agree("nobody bought");
    let eur = |m: &str| Money::parse(m, Currency::EUR).expect(step);
    let buy = |who: CustomerId, when: DateTime<Utc>, m: &str| {
        crm.write(|w| w.record_purchase(NewPurchase::new(who, when, eur(m))))
            .expect(step)
    };
    buy(chen, at(9), "3.00");
    buy(li, at(7), "20.00");
    buy(wang, at(8), "1.00");
    buy(li, at(2), "5.50");
    let voided = buy(wang, at(3), "9.99");
    let half = at(4) + chrono::Duration::milliseconds(500);
    buy(wang, half, "2.00");
    buy(wang, at(4), "2.00");
    crm.write(|w| {
        w.record_purchases(vec![
            NewPurchase::new(chen, at(1), eur("7.00")),
            NewPurchase::new(li, at(6), eur("0.00")),
            NewPurchase::new(wang, at(10), eur("4.25")),
        ])
    })
    .expect(step);
    let log = agree("purchases out of order");
    assert_eq!(log.len(), 10);
    crm.write(|w| w.void_purchase(voided.id(), Void::at(at(11))))
        .expect(step);
    let log = agree("a void");
    assert_eq!(log.len(), 9);
    crm.write(|w| w.erase_customer(chen, at(12))).expect(step);
    let log = agree("an erasure");
    assert!(log.index_of(never).is_some());
    // Through the as-of view of a past instant: rows of later seconds and customers
    // created later are left out, the rest grouped.
    let cutoff = at(5);
    let (log, grouped) = crm
        .read_as_of(cutoff, |r| {
            Ok((r.tx().purchase_log()?, r.tx().purchase_log_by_customer()?))
        })
        .expect(step);
    assert!(grouped.customer.is_sorted());
    assert_eq!(grouped.customers, log.customers);
    assert_eq!(rows(&grouped), rows(&log));
    assert!(log.at.iter().all(|&t| t < cutoff.timestamp()));
}

/// [`ReadTx::churned_at`](solocrm_core::port::ReadTx::churned_at), what the lifecycle
/// catch-up reads of the churned customers: each churned customer who is not erased,
/// by id, with the instant of their last move to `Churned` — the same as each one's
/// history says, after a churn, a win-back and a second churn, a customer who never
/// churned, and the erasure of a churned customer.
pub fn the_churned_at_read_answers_from_the_histories(crm: &Crm) {
    use solocrm_core::{LifecycleStage, StageReason};
    let step = "the check's step";
    let wang = customer(crm, "王芳");
    let li = customer(crm, "李娜");
    let zhang = customer(crm, "张伟");
    let chen = customer(crm, "陈静");
    let walk = |who: CustomerId, to: LifecycleStage, day: u32| {
        let from = crm.read(|r| r.customer(who)).expect(step).stage();
        let path = from.path_to(to).expect(step);
        crm.write(|w| {
            for stage in &path {
                w.change_stage(who, *stage, at(day), StageReason::manual())?;
            }
            Ok(())
        })
        .expect(step);
    };
    // Nobody churned yet: nothing to answer.
    assert_eq!(crm.read(|r| r.tx().churned_at()).expect(step), vec![]);
    walk(wang, LifecycleStage::Churned, 2);
    walk(li, LifecycleStage::Churned, 3);
    walk(li, LifecycleStage::WonBack, 5);
    walk(li, LifecycleStage::Churned, 7);
    walk(zhang, LifecycleStage::Active, 4);
    walk(chen, LifecycleStage::Churned, 4);
    crm.write(|w| w.erase_customer(chen, at(8))).expect(step);
    let read = crm.read(|r| r.tx().churned_at()).expect(step);
    // The same from each customer's history.
    let from_histories: Vec<(CustomerId, Option<DateTime<Utc>>)> = crm
        .read(|r| {
            let mut out = Vec::new();
            for (id, stage) in r.tx().customer_stages()? {
                if stage == LifecycleStage::Churned {
                    let at = r
                        .tx()
                        .stage_history(id)?
                        .iter()
                        .rev()
                        .find(|h| h.to == LifecycleStage::Churned)
                        .map(|h| h.at);
                    out.push((id, at));
                }
            }
            Ok(out)
        })
        .expect(step);
    assert_eq!(read, from_histories);
    assert_eq!(read, vec![(wang, Some(at(2))), (li, Some(at(7)))]);
}
