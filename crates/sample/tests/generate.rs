//! Tests of the synthetic-data generator: determinism, exact counts, time bounds, the
//! purchase log's invariants, the skew of the model, the store contract of the
//! generated business, and populating the in-memory store.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Datelike, TimeZone, Utc};
use solocrm_core::store::{apply_stage_change, check_after_sales_link, check_refund};
use solocrm_core::{
    Currency, Customer, CustomerId, Deal, DealId, DealStage, Money, NewPointsEntry, Purchase,
    PurchaseId, PurchaseLog, RequestEvent, RequestEventKind, RequestId, RequestKind,
    ServiceRequest, Store, StoreErrorKind, SurveyKind,
};
use solocrm_sample::{Business, GenConfig, business, populate, purchase_log};

fn at(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, 0, 0)
        .single()
        .expect("valid date")
}

/// FNV-1a over the log's columns: a fingerprint that is the same on every platform.
fn fingerprint(log: &PurchaseLog) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |x: u64| {
        for b in x.to_le_bytes() {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    };
    for id in &log.customers {
        eat(id.get());
    }
    for k in 0..log.len() {
        eat(u64::from(log.customer[k]));
        eat(log.at[k] as u64);
        eat(log.amount[k] as u64);
    }
    h
}

fn check_log(config: &GenConfig, log: &PurchaseLog) {
    assert_eq!(log.currency, Some(config.currency));
    assert_eq!(log.len() as u64, config.purchases, "exact purchase count");
    assert_eq!((log.at.len(), log.amount.len()), (log.len(), log.len()));
    let ids: Vec<CustomerId> = (1..=u64::from(config.customers))
        .map(CustomerId::new)
        .collect();
    assert_eq!(log.customers, ids, "ids 1..=customers, ascending");
    let (start, end) = (config.start.timestamp(), config.as_of.timestamp());
    for k in 0..log.len() {
        assert!((log.customer[k] as usize) < log.customers.len());
        assert!(
            (start..end).contains(&log.at[k]),
            "row {k} at {} outside [start, as_of)",
            log.at[k]
        );
        assert!(log.amount[k] >= 0);
        if k > 0 {
            let prev = (log.at[k - 1], log.customer[k - 1]);
            assert!(prev <= (log.at[k], log.customer[k]), "row {k} out of order");
        }
    }
}

#[test]
fn the_same_seed_gives_the_same_data_and_another_seed_other_data() {
    let config = GenConfig::new(2_000, 42);
    let a = purchase_log(&config);
    assert_eq!(a, purchase_log(&config));
    let b = purchase_log(&GenConfig::new(2_000, 43));
    assert_ne!(a, b);
    assert_ne!(a.at, b.at);
    assert_ne!(a.amount, b.amount);
    let small = GenConfig::new(300, 42);
    assert_eq!(business(&small), business(&small));
    assert_ne!(business(&small), business(&GenConfig::new(300, 43)));
}

#[test]
fn the_stream_is_pinned() {
    // If this fails, the generated data changed: every benchmark baseline and demo
    // with it. Update the value only when changing the model on purpose.
    let log = purchase_log(&GenConfig::new(1_000, 7));
    assert_eq!(fingerprint(&log), PINNED_FINGERPRINT);
}

const PINNED_FINGERPRINT: u64 = 11_088_148_640_883_884_735;

#[test]
fn the_purchase_count_is_exact_and_the_log_well_formed_for_any_size() {
    for (customers, purchases) in [
        (0, 0),
        (1, 0),
        (1, 1),
        (1, 500),
        (3, 2),
        (10, 3),
        (100, 100),
        (100, 92),
        (1_000, 1_000_000),
        (5_000, 50_000),
    ] {
        let config = GenConfig::new(customers, 9).with_purchases(purchases);
        check_log(&config, &purchase_log(&config));
    }
}

#[test]
fn times_stay_within_any_history_and_currency() {
    let config = GenConfig::new(500, 3)
        .with_purchases(5_000)
        .with_history(at(2024, 2, 29, 13), at(2024, 3, 2, 7))
        .with_currency(Currency::JPY);
    check_log(&config, &purchase_log(&config));
    let config = GenConfig::new(2_000, 4)
        .with_history(at(1999, 12, 31, 23), at(2031, 6, 30, 12))
        .with_currency(Currency::USD);
    check_log(&config, &purchase_log(&config));
}

#[test]
#[should_panic(expected = "cannot generate")]
fn purchases_without_customers_are_refused() {
    purchase_log(&GenConfig::new(0, 1).with_purchases(5));
}

#[test]
fn most_customers_buy_once_or_twice_and_a_heavy_tail_buys_often() {
    let config = GenConfig::new(20_000, 5);
    let log = purchase_log(&config);
    let mut counts = vec![0u64; log.customers.len()];
    for &c in &log.customer {
        counts[c as usize] += 1;
    }
    counts.sort_unstable();
    let n = counts.len();
    let median = counts[n / 2];
    let max = counts[n - 1];
    let once_or_twice = counts.iter().filter(|&&c| c == 1 || c == 2).count();
    let never = counts.iter().filter(|&&c| c == 0).count();
    assert!(median <= 2, "median {median}");
    assert!(max >= 100, "max {max}");
    assert!(
        once_or_twice * 2 > n,
        "{once_or_twice} of {n} buy once or twice"
    );
    assert!((n / 20..n / 8).contains(&never), "{never} never buy");
    // Counts fall off from one purchase.
    let share = |k| counts.iter().filter(|&&c| c == k).count();
    assert!(share(1) > share(2) && share(2) > share(3) && share(3) > share(5));

    // Amounts: log-normal-ish around 40 EUR, some free orders, whole cents.
    let free = log.amount.iter().filter(|&&a| a == 0).count();
    assert!(
        (log.len() / 200..log.len() / 25).contains(&free),
        "{free} free orders"
    );
    let mut amounts = log.amount.clone();
    amounts.sort_unstable();
    let median = amounts[amounts.len() / 2];
    assert!((2_500..6_000).contains(&median), "median amount {median}");
    let charm = amounts.iter().filter(|&&a| a % 100 == 99).count();
    assert!(charm * 6 > amounts.len(), "{charm} prices end in .99");

    // Growth: more purchases in the last year than in the first.
    let year = |y| {
        log.at
            .iter()
            .filter(|&&t| DateTime::from_timestamp(t, 0).is_some_and(|d| d.year() == y))
            .count()
    };
    assert!(year(2025) > 2 * year(2023));
}

#[test]
fn the_business_purchases_are_the_log() {
    let config = GenConfig::new(1_500, 21);
    let b = business(&config);
    let log = purchase_log(&config);
    assert_eq!(b.customers.len(), 1_500);
    assert_eq!(b.purchases.len(), log.len());
    for (k, p) in b.purchases.iter().enumerate() {
        assert_eq!(p.customer, log.customer[k] as usize);
        assert_eq!(p.at.timestamp(), log.at[k]);
        assert_eq!(p.amount, Money::from_minor(log.amount[k], config.currency));
    }
}

/// Replays a generated business against the rules the store enforces, with the core's
/// own checks, without a store.
fn check_contract(config: &GenConfig, b: &Business) {
    let base = config.currency;
    let in_history = |t: DateTime<Utc>| config.start <= t && t < config.as_of;
    let id = |i: usize| CustomerId::new(i as u64 + 1);

    // Customers: unique emails (ignoring case) and external references; valid money.
    let mut emails = BTreeSet::new();
    let mut refs = BTreeSet::new();
    for c in &b.customers {
        assert!(in_history(c.created_at));
        assert!(c.data.clone().for_storage(base).is_ok());
        if let Some(e) = &c.data.email {
            assert!(emails.insert(e.key()), "duplicate email {e}");
        }
        if let Some(r) = &c.data.external_ref {
            assert!(refs.insert(r.clone()), "duplicate reference {r}");
        }
    }

    // Deals: valid, moves allowed and in time order.
    let mut deals = Vec::new();
    for (d, gd) in b.deals.iter().enumerate() {
        assert!(in_history(gd.created_at));
        assert!(gd.created_at >= b.customers[gd.customer].created_at);
        let new = gd
            .to_new(id(gd.customer))
            .for_storage(base)
            .expect("valid deal");
        let moves = gd.moves.iter().map(|&(to, at)| {
            assert!(in_history(at));
            solocrm_core::DealStageChange {
                from: DealStage::NeedIdentified,
                to,
                at,
            }
        });
        deals.push(Deal::replay(DealId::new(d as u64 + 1), new, moves).expect("allowed moves"));
    }

    // Purchases: valid, unique invoice numbers, after-sales links to won deals of the
    // same customer that closed before.
    let mut invoices = BTreeSet::new();
    let mut purchases = Vec::new();
    for (k, p) in b.purchases.iter().enumerate() {
        let deal = p.deal.map(|d| DealId::new(d as u64 + 1));
        let new = p
            .to_new(id(p.customer), deal)
            .for_storage(base)
            .expect("valid purchase");
        if let Some(r) = &p.external_ref {
            assert!(invoices.insert(r.clone()), "duplicate invoice {r}");
        }
        if let Some(d) = p.deal {
            check_after_sales_link(&deals[d], id(p.customer)).expect("linked to a won deal");
            assert!(deals[d].closed_at().is_some_and(|c| c <= p.at));
        }
        assert!(p.at >= b.customers[p.customer].created_at);
        purchases.push(Purchase::new(PurchaseId::new(k as u64 + 1), new));
    }

    // Refunds: within what is left, not before the purchase.
    let mut refunded: BTreeMap<usize, Money> = BTreeMap::new();
    for r in &b.refunds {
        assert!(in_history(r.at));
        let already = refunded
            .get(&r.purchase)
            .copied()
            .unwrap_or(Money::zero(base));
        let new = r.to_new(purchases[r.purchase].id());
        check_refund(new, &purchases[r.purchase], already, base).expect("refund allowed");
        refunded.insert(
            r.purchase,
            already.checked_add(r.amount).expect("same currency"),
        );
    }

    for x in &b.interactions {
        assert!(in_history(x.at));
    }
    for s in &b.surveys {
        assert!(in_history(s.at));
    }

    // Requests: steps allowed and in time order; deal links to won deals.
    for (r, gr) in b.requests.iter().enumerate() {
        assert!(in_history(gr.opened_at));
        let deal = gr.deal.map(|d| DealId::new(d as u64 + 1));
        if let Some(d) = gr.deal {
            check_after_sales_link(&deals[d], id(gr.customer)).expect("linked to a won deal");
        }
        let events = gr.steps.iter().map(|&(kind, at)| {
            assert!(in_history(at));
            RequestEvent { kind, at }
        });
        ServiceRequest::replay(
            RequestId::new(r as u64 + 1),
            gr.to_new(id(gr.customer), deal),
            events,
        )
        .expect("allowed steps");
    }

    // Tasks: completions after creation, a one-off task at most once.
    for t in &b.tasks {
        assert!(in_history(t.created_at));
        assert!(t.recurrence.is_some() || t.completions.len() <= 1);
        for c in &t.completions {
            assert!(in_history(*c) && *c >= t.created_at);
        }
    }

    // Points: no balance ever below zero, in posting order.
    let mut balances = vec![0i64; b.customers.len()];
    for p in &b.points {
        assert!(in_history(p.at));
        let entry: NewPointsEntry = p.to_new(id(p.customer));
        balances[p.customer] = entry
            .apply_to(balances[p.customer])
            .expect("balance stays >= 0");
    }

    // Stage changes: allowed by the table, never before the previous one.
    let mut customers: Vec<Customer> = b
        .customers
        .iter()
        .enumerate()
        .map(|(i, c)| Customer::create(id(i), c.clone()))
        .collect();
    let mut last = vec![None; customers.len()];
    for c in &b.stage_changes {
        assert!(in_history(c.at));
        apply_stage_change(
            &mut customers[c.customer],
            last[c.customer],
            c.to,
            c.at,
            c.reason.clone(),
        )
        .expect("allowed stage change");
        last[c.customer] = Some(c.at);
    }

    for c in &b.consents {
        assert!(in_history(c.consent.at));
        assert!(c.consent.at >= b.customers[c.customer].created_at);
    }
}

#[test]
fn the_business_keeps_the_store_contract() {
    for (customers, seed) in [(4_000, 1), (200, 2), (1, 3)] {
        let config = GenConfig::new(customers, seed);
        check_contract(&config, &business(&config));
    }
    let config = GenConfig::new(500, 4)
        .with_purchases(20)
        .with_history(at(2025, 12, 1, 0), at(2025, 12, 24, 18));
    check_contract(&config, &business(&config));
}

#[test]
fn the_business_is_realistic() {
    let config = GenConfig::new(5_000, 8);
    let b = business(&config);
    let c = b.counts();
    let data = b.customers.iter().map(|c| &c.data);

    let with_email = data.clone().filter(|d| d.email.is_some()).count();
    assert!((3_000..4_500).contains(&with_email), "{with_email} emails");
    assert!(data.clone().filter(|d| d.phone.is_some()).count() > 2_000);
    let leap_days = data
        .clone()
        .filter(|d| d.birthday.is_some_and(|b| b.month() == 2 && b.day() == 29))
        .count();
    assert!(leap_days >= 5, "{leap_days} February 29 birthdays");
    assert!(data.clone().filter(|d| d.profile.country.is_some()).count() > 4_000);
    assert!(data.clone().filter(|d| d.profile.city.is_some()).count() > 4_000);
    assert!(data.clone().filter(|d| !d.tags.is_empty()).count() > 1_000);
    assert!(
        data.clone()
            .filter(|d| d.acquisition_cost.is_some())
            .count()
            > 1_000
    );
    assert!(
        data.clone()
            .filter(|d| d.acquisition_channel.is_some())
            .count()
            > 3_500
    );
    assert!(data.clone().filter(|d| d.external_ref.is_some()).count() > 500);
    assert!(
        data.clone()
            .filter(|d| d.tags.iter().any(|t| t.as_str() == "vip"))
            .count()
            > 50
    );

    assert!(c.refunds > 100, "{c:?}");
    assert!(c.interactions > 5_000, "{c:?}");
    let channels: BTreeSet<_> = b.interactions.iter().map(|x| x.channel).collect();
    assert_eq!(channels.len(), 6);
    let directions: BTreeSet<_> = b.interactions.iter().map(|x| x.direction).collect();
    assert_eq!(directions.len(), 2);
    assert!(b.interactions.iter().any(|x| x.sentiment.is_some()));

    let nps: Vec<u8> = b
        .surveys
        .iter()
        .filter(|s| s.score.kind() == SurveyKind::Nps)
        .map(|s| s.score.value())
        .collect();
    let promoters = nps.iter().filter(|&&s| s >= 9).count();
    let detractors = nps.iter().filter(|&&s| s <= 6).count();
    assert!(nps.len() > 300 && promoters > 2 * detractors && detractors > 0);
    assert!(b.surveys.iter().any(|s| s.score.kind() == SurveyKind::Csat));
    let ces = b
        .surveys
        .iter()
        .filter(|s| s.score.kind() == SurveyKind::Ces)
        .count();
    assert!((1..nps.len() / 4).contains(&ces), "{ces} CES answers");

    let outcome = |s| b.deals.iter().filter(|d| d.final_stage() == s).count();
    assert!(outcome(DealStage::Won) > 10 && outcome(DealStage::Lost) > 10);
    assert!(b.deals.iter().any(|d| !d.final_stage().is_closed()));
    assert!(b.purchases.iter().filter(|p| p.deal.is_some()).count() == outcome(DealStage::Won));

    assert!(b.requests.iter().any(|r| r.kind == RequestKind::Complaint));
    assert!(
        b.requests
            .iter()
            .any(|r| r.steps.iter().any(|s| s.0 == RequestEventKind::Reopened))
    );
    assert!(b.requests.iter().any(|r| r.steps.is_empty()));
    assert!(
        b.requests
            .iter()
            .any(|r| r.steps.iter().any(|s| s.0 == RequestEventKind::Resolved))
    );

    assert!(
        b.tasks
            .iter()
            .any(|t| t.recurrence.is_some() && t.completions.len() > 5)
    );
    assert!(
        b.tasks
            .iter()
            .any(|t| t.recurrence.is_none() && t.completions.is_empty())
    );
    assert!(
        b.tasks
            .iter()
            .any(|t| t.recurrence.is_none() && t.completions.len() == 1)
    );

    assert!(b.points.iter().any(|p| p.delta < 0) && b.points.iter().any(|p| p.delta > 0));
    let stages: BTreeSet<_> = b.stage_changes.iter().map(|c| c.to).collect();
    assert_eq!(
        stages.len(),
        7,
        "every stage but prospect is reached: {stages:?}"
    );
    assert!(c.consents > 1_000 && b.consents.iter().any(|c| !c.consent.granted));
}

#[test]
fn populate_fills_a_memory_store_that_agrees_with_the_generator() {
    let config = GenConfig::new(1_200, 17);
    let expected = business(&config).counts();
    let store = solocrm_core::Crm::new(solocrm_store_memory::MemoryStore::new(Currency::EUR));
    let created = populate(&store, &config).expect("populates an empty store");
    assert_eq!(created.counts, expected);
    assert_eq!(created.customers.len(), 1_200);
    assert_eq!(store.count_customers().expect("counts"), 1_200);
    // The store's own log is the generator's, up to the ids the store assigned.
    let mut log = purchase_log(&config);
    log.customers = created.customers.clone();
    assert_eq!(store.purchase_log().expect("log"), log);
}

#[test]
fn populate_refuses_a_store_in_another_currency() {
    let config = GenConfig::new(50, 1);
    let store = solocrm_core::Crm::new(solocrm_store_memory::MemoryStore::new(Currency::USD));
    let err = populate(&store, &config).expect_err("EUR amounts in a USD store");
    assert_eq!(err.kind(), StoreErrorKind::Validation);
}

/// A Chinese shop: deterministic by seed, Chinese names and places, `+86` mobile
/// numbers, CNY, WeChat among the acquisition channels, the same purchases as the
/// European shop, and a business the store contract accepts.
#[test]
fn the_chinese_shop_is_chinese_and_deterministic() {
    use solocrm_sample::Locale;
    let config = GenConfig::new(800, 5)
        .with_locale(Locale::ZhCn)
        .with_currency(Locale::ZhCn.currency());
    let b = business(&config);
    assert_eq!(b, business(&config), "the same seed gives the same shop");
    assert_ne!(
        b,
        business(&GenConfig {
            seed: 6,
            ..config.clone()
        })
    );
    let cjk = |s: &str| !s.is_empty() && s.chars().all(|c| ('\u{4e00}'..='\u{9fff}').contains(&c));
    for c in &b.customers {
        let d = &c.data;
        let name = d.name.as_str();
        assert!(
            cjk(name) && (2..=4).contains(&name.chars().count()),
            "{name}"
        );
        if let Some(phone) = &d.phone {
            let digits: String = phone
                .as_str()
                .chars()
                .filter(char::is_ascii_digit)
                .collect();
            assert!(phone.as_str().starts_with("+86 1"), "{}", phone.as_str());
            assert_eq!(digits.len(), 13, "{}", phone.as_str());
        }
        if let Some(city) = &d.profile.city {
            assert!(cjk(city.as_str()), "{}", city.as_str());
        }
        if let Some(country) = &d.profile.country {
            assert_eq!(country.as_str(), "CN");
        }
    }
    let channels: BTreeSet<&str> = b
        .customers
        .iter()
        .filter_map(|c| c.data.acquisition_channel.as_ref().map(|t| t.as_str()))
        .collect();
    assert!(channels.contains("wechat"), "{channels:?}");
    // Its chats are on WeChat, not a generic chat.
    let talk: BTreeSet<_> = b.interactions.iter().map(|x| x.channel).collect();
    assert!(talk.contains(&solocrm_core::Channel::WeChat), "{talk:?}");
    assert!(!talk.contains(&solocrm_core::Channel::Chat), "{talk:?}");
    assert!(
        b.purchases
            .iter()
            .all(|p| p.amount.currency() == Currency::CNY)
    );
    assert!(
        b.purchases
            .iter()
            .filter_map(|p| p.description.as_ref())
            .any(|d| d
                .as_str()
                .chars()
                .any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)))
    );
    check_contract(&config, &b);

    // The words change, the purchases do not.
    let en = GenConfig::new(800, 5);
    let (zh_log, en_log) = (purchase_log(&config), purchase_log(&en));
    assert_eq!(zh_log.at, en_log.at);
    assert_eq!(zh_log.amount, en_log.amount);

    let store = solocrm_core::Crm::new(solocrm_store_memory::MemoryStore::new(Currency::CNY));
    let created = populate(&store, &config).expect("populates a CNY store");
    assert_eq!(created.counts, b.counts());
}

#[test]
fn a_history_ends_on_the_day_it_is_told() {
    let end = chrono::NaiveDate::from_ymd_opt(2025, 12, 31).expect("date");
    assert_eq!(
        GenConfig::new(300, 42).with_end(end),
        GenConfig::new(300, 42)
    );
    let end = chrono::NaiveDate::from_ymd_opt(2026, 6, 30).expect("date");
    let config = GenConfig::new(300, 42).with_end(end);
    assert_eq!(config.as_of, at(2026, 7, 1, 0));
    assert_eq!(config.start, at(2023, 7, 1, 0));
    let b = business(&config);
    assert_eq!(b, business(&config));
    let last = b.purchases.iter().map(|p| p.at).max().expect("purchases");
    assert!(last < config.as_of && last >= at(2026, 6, 1, 0), "{last}");
    check_contract(&config, &b);
}

#[test]
fn the_chinese_care_dates_are_known_for_the_demo_years() {
    use solocrm_sample::Locale;
    let d = |y, m, d| chrono::NaiveDate::from_ymd_opt(y, m, d).expect("date");
    assert_eq!(
        Locale::ZhCn.holidays(2026),
        [("春节", d(2026, 2, 17)), ("中秋节", d(2026, 9, 25))]
    );
    for year in 1900..=2100 {
        let h = Locale::ZhCn.holidays(year);
        assert_eq!(h.len(), 2, "{year}");
        // 春节 falls between 21 January and 20 February, 中秋节 between 7 September and
        // 8 October.
        assert!(
            h[0].1 >= d(year, 1, 21) && h[0].1 <= d(year, 2, 20),
            "{h:?}"
        );
        assert!(h[1].1 >= d(year, 9, 7) && h[1].1 <= d(year, 10, 8), "{h:?}");
    }
    // The lunar calendar answers for 1900-2100 and for nothing outside.
    assert_eq!(Locale::ZhCn.holidays(2019).len(), 2);
    assert!(Locale::ZhCn.holidays(1899).is_empty());
    assert!(Locale::ZhCn.holidays(2101).is_empty());
    assert_eq!(Locale::En.holidays(2026), [("Christmas", d(2026, 12, 25))]);
}
