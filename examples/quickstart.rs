//! A tour of solocrm in one run: create a store, add customers, log interactions and
//! purchases, move a deal through the pipeline, record survey answers, let the
//! lifecycle policy say who should move, and print who needs care today.
//!
//! Run it with `cargo run --example quickstart`. It uses the in-memory store, so it
//! leaves nothing behind.

use chrono::{DateTime, NaiveDate, Utc};
use solocrm::care::{CareConfig, Holiday};
use solocrm::memory::MemoryStore;
use solocrm::{
    BusinessZone, Channel, Crm, Currency, CustomerData, DealStage, Direction, Email, FreeText,
    Label, LifecyclePolicy, Money, NewCustomer, NewDeal, NewInteraction, NewPurchase,
    NewSurveyResponse, NewTask, PersonName, Sentiment, Store, SurveyKind, SurveyScore, Tag,
    TaskKind,
};

/// The shop's time zone: its days start and end in Berlin.
fn zone() -> BusinessZone {
    BusinessZone::parse("Europe/Berlin").unwrap_or(BusinessZone::UTC)
}

/// 10:00 in the shop on `date`.
fn at(date: &str) -> Result<DateTime<Utc>, Box<dyn std::error::Error>> {
    let day: NaiveDate = date.parse()?;
    Ok(zone().instant(day.and_hms_opt(10, 0, 0).ok_or("bad time")?))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let store = Crm::new(MemoryStore::new(Currency::EUR));
    // Days (recency, birthdays, due dates, report periods) are counted in the shop's zone.
    store.write(|w| w.set_time_zone(zone()))?;
    let eur = |cents| Money::from_minor(cents, Currency::EUR);

    // Customers: a regular, a monthly buyer who went quiet, and a prospect.
    let ada = store.create_customer(NewCustomer::new(
        CustomerData::new(PersonName::parse("Ada Lovelace")?)
            .with_email(Email::parse("ada@example.com")?)
            .with_birthday("1990-06-12".parse()?)
            .with_tag(Tag::parse("VIP")?)
            .with_acquisition(Tag::parse("referral")?, Some(eur(5_000))),
        at("2026-01-05")?,
    ))?;
    let bob = store.create_customer(NewCustomer::new(
        CustomerData::new(PersonName::parse("Bob Builder")?)
            .with_email(Email::parse("bob@example.com")?),
        at("2026-02-01")?,
    ))?;
    let cleo = store.create_customer(NewCustomer::new(
        CustomerData::new(PersonName::parse("Cleo Fischer")?),
        at("2026-05-20")?,
    ))?;

    // Interactions and purchases.
    store.log_interaction(NewInteraction {
        customer: ada.id(),
        channel: Channel::Phone,
        direction: Direction::Inbound,
        at: at("2026-01-06")?,
        summary: FreeText::parse("asked about the yearly plan")?,
        sentiment: Some(Sentiment::Positive),
    })?;
    for (day, cents) in [
        ("2026-02-10", 12_000),
        ("2026-03-12", 8_550),
        ("2026-04-11", 9_900),
        ("2026-05-12", 9_900),
        ("2026-06-10", 10_450),
    ] {
        store.record_purchase(NewPurchase::new(ada.id(), at(day)?, eur(cents)))?;
    }
    for day in ["2026-02-03", "2026-03-05", "2026-04-04"] {
        store.record_purchase(NewPurchase::new(bob.id(), at(day)?, eur(4_900)))?;
    }

    // A deal for Cleo moves through the pipeline and is won.
    let deal = store.create_deal(NewDeal::new(
        cleo.id(),
        Label::parse("website redesign")?,
        eur(250_000),
        at("2026-05-20")?,
    ))?;
    for (stage, day) in [
        (DealStage::Contacted, "2026-05-21"),
        (DealStage::Demo, "2026-05-28"),
        (DealStage::Proposal, "2026-06-02"),
        (DealStage::Negotiation, "2026-06-05"),
        (DealStage::Won, "2026-06-09"),
    ] {
        store.move_deal(deal.id(), stage, at(day)?)?;
    }
    let mut first_invoice = NewPurchase::new(cleo.id(), at("2026-06-10")?, eur(250_000));
    first_invoice.deal = Some(deal.id());
    store.record_purchase(first_invoice)?;

    // Survey answers.
    for (who, kind, score, day) in [
        (ada.id(), SurveyKind::Nps, 10, "2026-05-13"),
        (ada.id(), SurveyKind::Csat, 5, "2026-05-13"),
        (bob.id(), SurveyKind::Nps, 6, "2026-02-04"),
        (cleo.id(), SurveyKind::Csat, 4, "2026-06-11"),
    ] {
        store.record_survey(NewSurveyResponse {
            customer: who,
            at: at(day)?,
            score: SurveyScore::new(kind, score)?,
            comment: None,
        })?;
    }

    // A follow-up for Bob.
    store.create_task(NewTask {
        customer: Some(bob.id()),
        kind: TaskKind::FollowUp,
        title: Label::parse("ask how the first order went")?,
        due: "2026-06-10".parse()?,
        recurrence: None,
        created_at: at("2026-02-03")?,
    })?;

    // The lifecycle policy says who should move, as of today (read in one snapshot);
    // apply its suggestions, each customer's path in one transaction.
    let today = at("2026-06-12")?;
    let policy = LifecyclePolicy::default();
    println!("Lifecycle, as of {}:", zone().date_of(today));
    let found = store.read(|r| r.reassess_all(&policy, today))?;
    for (id, suggestion) in found.suggestions {
        let name = store.customer(id)?.name().clone();
        store.write(|w| w.apply_suggestion(id, &suggestion, &policy, today))?;
        println!(
            "  {name}: {} -> {} ({})",
            suggestion.from,
            suggestion.assessment.target,
            suggestion.reason()
        );
    }

    // Who needs care in the coming week?
    let config = CareConfig {
        holidays: vec![Holiday::new(Label::parse("Midsummer")?, 6, 19)?],
        no_contact_days: 90,
    };
    println!("\nCare for the week from {}:", zone().date_of(today));
    for item in store.read(|r| r.care_due(today, 7, &config))? {
        let who = match item.customer {
            Some(id) => store.customer(id)?.name().to_string(),
            None => "everyone".to_owned(),
        };
        println!("  {}  {who}: {}", item.date, item.reason);
    }
    Ok(())
}
