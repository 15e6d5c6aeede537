//! Erasure leaves no old version behind: after an erasure commits, the store runs
//! `VACUUM` on the tables it touched, so no tuple of any table (dead or alive, TOAST
//! included) and no entry of any B-tree index holds the erased text. The tuples are
//! read from the table pages themselves (`pageinspect`), which also shows the dead
//! versions an erasure leaves when the vacuum is off.
//!
//! It works in a database of its own: `VACUUM` keeps every version that a snapshot
//! of another session of the same database may still see, and other tests (of other
//! checkouts, too) share the test database.

mod common;

use std::str::FromStr;

use chrono::{DateTime, Duration, TimeZone, Utc};
use postgres::{Client, NoTls};
use solocrm_core::{
    Channel, Crm, Currency, CustomerData, CustomerId, Direction, Email, FreeText, Label,
    LifecycleStage, Money, NewCustomer, NewInteraction, NewPointsEntry, NewPurchase, PersonName,
    Phone, PointsKind, StageReason, Store, Tag,
};
use solocrm_store_postgres::{PgOptions, PgStore, TenantId};

fn at(hours: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0)
        .single()
        .expect("an instant")
        + Duration::hours(hours)
}

/// A person with personal text in her record and in every kind of record an erasure
/// scrubs; her id. Every secret starts with `who`.
fn person(crm: &Crm, who: &str) -> (CustomerId, Vec<String>) {
    let secrets: Vec<String> = [
        "Nightingale",
        "@secret.example",
        "told me about her illness",
        "bought the red bicycle",
        "moved after the divorce",
        "loyal since the bicycle",
        "Secret Company Ltd",
    ]
    .iter()
    .map(|s| format!("{who}{s}"))
    .collect();
    let mut data =
        CustomerData::new(PersonName::parse(&format!("Flo {}", secrets[0])).expect("a name"));
    data.email = Some(Email::parse(&format!("flo{}", secrets[1])).expect("an email"));
    data.phone = Some(Phone::parse("+44 20 7946 0000").expect("a phone"));
    data.company = Some(Label::parse(&secrets[6]).expect("a company"));
    data.tags.insert(Tag::parse("vip").expect("a tag"));
    let id = crm
        .create_customer(NewCustomer::new(data, at(0)))
        .expect("created")
        .id();
    crm.log_interaction(NewInteraction {
        customer: id,
        channel: Channel::Phone,
        direction: Direction::Inbound,
        at: at(1),
        summary: FreeText::parse(&secrets[2]).expect("text"),
        sentiment: None,
    })
    .expect("an interaction");
    let mut p = NewPurchase::new(id, at(2), Money::from_minor(5_000, Currency::EUR));
    p.description = Some(FreeText::parse(&secrets[3]).expect("text"));
    crm.record_purchase(p).expect("a purchase");
    let mut points = NewPointsEntry::new(id, at(3), PointsKind::Earn, 10).expect("points");
    points.reason = Some(Label::parse(&secrets[5]).expect("a label"));
    crm.post_points(points).expect("posted");
    crm.change_stage(
        id,
        LifecycleStage::Lead,
        at(4),
        StageReason::Manual {
            note: Some(Label::parse(&secrets[4]).expect("a label")),
        },
    )
    .expect("moved");
    (id, secrets)
}

/// How many tuples (live or dead, in any table of `schema` or its TOAST table)
/// contain `needle`, and how many pages of its B-tree indexes do.
fn stored_copies(client: &mut Client, schema: &str, needle: &str) -> (i64, i64) {
    let tuples: i64 = client
        .query_one(
            "SELECT count(*)::bigint FROM pg_class c \
             CROSS JOIN LATERAL generate_series(0, \
                 (pg_relation_size(c.oid) / current_setting('block_size')::bigint)::int - 1) p \
             CROSS JOIN LATERAL public.heap_page_items(public.get_raw_page(c.oid::regclass::text, p)) i \
             WHERE (c.relnamespace = $1::text::regnamespace AND c.relkind = 'r' \
                    OR c.oid IN (SELECT reltoastrelid FROM pg_class \
                                 WHERE relnamespace = $1::text::regnamespace AND relkind = 'r')) \
             AND i.t_data IS NOT NULL AND position(convert_to($2, 'UTF8') IN i.t_data) > 0",
            &[&schema, &needle],
        )
        .and_then(|r| r.try_get(0))
        .expect("the table pages");
    let index_pages: i64 = client
        .query_one(
            "SELECT count(*)::bigint FROM pg_class c JOIN pg_am a ON a.oid = c.relam \
             CROSS JOIN LATERAL generate_series(1, \
                 (pg_relation_size(c.oid) / current_setting('block_size')::bigint)::int - 1) p \
             WHERE c.relnamespace = $1::text::regnamespace AND c.relkind = 'i' AND a.amname = 'btree' \
             AND position(convert_to($2, 'UTF8') IN public.get_raw_page(c.oid::regclass::text, p)) > 0",
            &[&schema, &needle],
        )
        .and_then(|r| r.try_get(0))
        .expect("the index pages");
    (tuples, index_pages)
}

#[test]
fn an_erasure_leaves_no_old_version_in_any_table_or_index() {
    let Some(_pg) = common::server() else { return };
    let url = std::env::var("SOLOCRM_TEST_PG_URL").expect("the server() above read it");
    let mut admin = Client::connect(&url, NoTls).expect("the test server");
    let db = format!("solocrm_erase_{}", std::process::id());
    let _ = admin.batch_execute(&format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"));
    admin
        .batch_execute(&format!("CREATE DATABASE {db}"))
        .expect("a database of its own");
    struct Cleanup(String, String);
    impl Drop for Cleanup {
        fn drop(&mut self) {
            if let Ok(mut admin) = Client::connect(&self.0, NoTls) {
                let _ = admin
                    .batch_execute(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.1));
            }
        }
    }
    let _cleanup = Cleanup(url.clone(), db.clone());
    let mut config = postgres::Config::from_str(&url).expect("the test URL");
    config.dbname(&db);
    let mut client = config.connect(NoTls).expect("the database");
    if let Err(e) = client.batch_execute(
        "CREATE EXTENSION IF NOT EXISTS pageinspect WITH SCHEMA public; CREATE SCHEMA books",
    ) {
        assert!(
            std::env::var("SOLOCRM_REQUIRE_PG").as_deref() != Ok("1"),
            "SOLOCRM_REQUIRE_PG=1 but pageinspect cannot be created (a superuser is needed): {e:?}"
        );
        eprintln!("skipped: pageinspect cannot be created on the test server: {e:?}");
        return;
    }
    config.options("-c search_path=books");
    let open = |tenant: i64, vacuum: bool| {
        let options = PgOptions::new().pool_size(2).vacuum_after_erase(vacuum);
        let tenant = TenantId::new(tenant).expect("a tenant");
        PgStore::create_with(config.clone(), tenant, Currency::EUR, &options).expect("books")
    };

    // With the vacuum off, the erased text stays in dead versions: the probe sees
    // them. Run by hand, the vacuum takes them away.
    let store = std::sync::Arc::new(open(1, false));
    let crm = Crm::new(std::sync::Arc::clone(&store));
    let (ada, secrets) = person(&crm, "Ada");
    crm.erase_customer(ada, at(5)).expect("erased");
    for s in &secrets {
        assert!(
            stored_copies(&mut client, "books", s).0 > 0,
            "{s} is in a dead version before the vacuum"
        );
    }
    store.vacuum_books().expect("vacuumed");
    for s in secrets.iter().flat_map(|s| [s.clone(), s.to_lowercase()]) {
        assert_eq!(stored_copies(&mut client, "books", &s), (0, 0), "{s}");
    }

    // With the default options the erasure vacuums by itself; another tenant's
    // person, not erased, is still there.
    let crm = Crm::new(open(2, true));
    let (grace, secrets) = person(&crm, "Grace");
    let (_, kept) = person(&crm, "Kept");
    crm.erase_customer(grace, at(5)).expect("erased");
    for s in secrets.iter().flat_map(|s| [s.clone(), s.to_lowercase()]) {
        assert_eq!(stored_copies(&mut client, "books", &s), (0, 0), "{s}");
    }
    for s in &kept {
        assert!(stored_copies(&mut client, "books", s).0 > 0, "{s} is kept");
    }
    assert!(
        stored_copies(
            &mut client,
            "books",
            &format!("flo{}", kept[1]).to_lowercase()
        )
        .1 > 0,
        "the probe reads the email index (the email's key, in lower case)"
    );
}
