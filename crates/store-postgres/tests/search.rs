//! Customer search on PostgreSQL: the trigram index of migration 0003 is made where
//! pg_trgm can be, answers the search statement, and changes no result; a role that
//! may not create the extension gets no index and the same results from a scan. Both
//! are compared with the memory store, search text by search text.

mod common;

use std::str::FromStr;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeZone, Utc};
use postgres::{Client, NoTls};
use solocrm_core::{
    Crm, Currency, CustomerData, CustomerId, FreeText, Label, NewCustomer, PersonName, Profile,
    SearchText, Store,
};
use solocrm_sample::{GenConfig, Locale, business};
use solocrm_store_memory::MemoryStore;
use solocrm_store_postgres::{PgOptions, PgStore, TenantId};

fn at() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0)
        .single()
        .expect("an instant")
}

/// Generated customers of both locales, and some whose text tests the edges: the
/// Kelvin sign, cased letters beyond ASCII, a line break, `%` and `_`.
fn people() -> Vec<NewCustomer> {
    let mut all = business(&GenConfig::new(300, 7)).customers;
    // The second business numbers its references from 1 too.
    all.extend(
        business(&GenConfig::new(300, 8).with_locale(Locale::ZhCn))
            .customers
            .into_iter()
            .map(|mut c| {
                c.data.external_ref = None;
                c
            }),
    );
    let edge = |name: &str, notes: &str, city: Option<&str>, company: Option<&str>| {
        let mut data = CustomerData::new(PersonName::parse(name).expect("a name"));
        data.notes = FreeText::parse(notes).expect("notes");
        data.company = company.map(|c| Label::parse(c).expect("a company"));
        if let Some(city) = city {
            data.profile = Profile {
                city: Some(Label::parse(city).expect("a city")),
                ..Profile::default()
            };
        }
        NewCustomer::new(data, at())
    };
    all.extend([
        edge("\u{212A}elvin Sign", "degrees \u{212A}", None, None),
        edge("Ölaf Ångström", "line one\nline two", Some("Malmö"), None),
        edge(
            "Σωκράτης",
            "ΦΙΛΟΣΟΦΟΣ",
            Some("Αθήνα"),
            Some("100% pure_ideas"),
        ),
        edge("Zoë Lin", "", Some("上海"), Some("Ünited 50%")),
    ]);
    all
}

/// The texts to search for: pieces of the customers' own text in changed case, and
/// fixed ones of one to many characters.
fn texts(people: &[NewCustomer]) -> Vec<String> {
    let mut out: Vec<String> = [
        "a",
        "Zz",
        "li",
        "ing",
        "ANN",
        "@",
        ".com",
        "%",
        "_",
        "50%",
        "e_i",
        "\n",
        "one\nline",
        "二",
        "上海",
        "北京市",
        "\u{212A}",
        "k",
        "kELVIN",
        "ö",
        "ÅNG",
        "σωκ",
        "ΣΩΚ",
        "φιλο",
        "Ü",
        "MALMÖ",
        "nobody-at-all",
        "Αθ",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    for c in people.iter().step_by(23) {
        let name: Vec<char> = c.data.name.as_str().chars().collect();
        let from = name.len() / 3;
        let piece: String = name.iter().skip(from).take(4).collect();
        out.push(piece.to_uppercase());
        out.push(piece.to_lowercase());
        if let Some(e) = &c.data.email {
            out.push(
                e.as_str()
                    .chars()
                    .skip(2)
                    .take(5)
                    .collect::<String>()
                    .to_uppercase(),
            );
        }
        if let Some(city) = &c.data.profile.city {
            out.push(city.as_str().to_lowercase());
        }
    }
    out.retain(|t| SearchText::parse(t).is_ok());
    out
}

fn write_all(crm: &Crm, people: &[NewCustomer]) {
    crm.write(|w| {
        for p in people {
            w.create_customer(p.clone())?;
        }
        Ok(())
    })
    .expect("customers written");
    // And an erased one: a former name is found nowhere.
    let c = crm
        .create_customer(NewCustomer::new(
            CustomerData::new(PersonName::parse("Erasmus Gone").expect("a name")),
            at(),
        ))
        .expect("created");
    crm.erase_customer(c.id(), at()).expect("erased");
}

/// The ids and count each text finds.
fn results(crm: &Crm, texts: &[String]) -> Vec<(String, Vec<CustomerId>, usize)> {
    texts
        .iter()
        .map(|t| {
            let text = SearchText::parse(t).expect("a search text");
            let (hits, total) = crm.search_customers(&text, None).expect("a search");
            (t.clone(), hits.iter().map(|c| c.id()).collect(), total)
        })
        .collect()
}

/// Asserts that PostgreSQL finds, for each text, what the memory store finds.
#[track_caller]
fn same_as_memory(pg: &Crm, people: &[NewCustomer]) {
    let memory = Crm::new(MemoryStore::new(Currency::EUR));
    write_all(&memory, people);
    let texts = texts(people);
    assert!(texts.len() > 60, "{} texts", texts.len());
    let expected = results(&memory, &texts);
    assert!(
        expected
            .iter()
            .filter(|(_, ids, _)| !ids.is_empty())
            .count()
            > 40,
        "most texts find someone"
    );
    let got = results(pg, &texts);
    for (e, g) in expected.iter().zip(&got) {
        assert_eq!(e, g, "search for {:?}", e.0);
    }
}

fn has_search_index(client: &mut Client, schema: &str) -> bool {
    client
        .query_one(
            "SELECT count(*) FROM pg_indexes WHERE schemaname = $1 AND indexname = 'customers_search'",
            &[&schema],
        )
        .and_then(|r| r.try_get::<_, i64>(0))
        .expect("the catalog")
        == 1
}

/// With rights to pg_trgm (the test server's superuser), migration 0003 makes the
/// index, the search statement uses it, and every search finds what the memory store
/// finds.
#[test]
fn the_trigram_index_answers_the_search_and_changes_no_result() {
    let Some(pg) = common::server() else { return };
    let mut client = pg.client();
    let people = people();
    let crm = pg.crm();
    assert!(
        has_search_index(&mut client, pg.schema()),
        "with pg_trgm available, migration 0003 makes the index"
    );
    write_all(&crm, &people);
    same_as_memory(&crm, &people);
    // The index is what answers a search: its scan count goes up once a search has
    // run on a connection that has since closed (a backend reports its statistics
    // when it ends). Enough rows that a scan would cost more than the index.
    let bulk = pg.crm();
    bulk.write(|w| {
        for i in 0..4000 {
            let mut data = CustomerData::new(
                PersonName::parse(&format!("Filler Person {i}")).expect("a name"),
            );
            data.notes = FreeText::parse(&format!("generated row number {i}")).expect("notes");
            w.create_customer(NewCustomer::new(data, at()))?;
        }
        Ok(())
    })
    .expect("many customers");
    // What autovacuum does on its own: the new rows move from the index's pending
    // list into its tree, and the planner learns the table's size.
    client
        .batch_execute("VACUUM ANALYZE customers")
        .expect("vacuum");
    let scans = |client: &mut Client| -> i64 {
        client
            .query_one(
                "SELECT coalesce(sum(idx_scan), 0)::bigint FROM pg_stat_user_indexes \
                 WHERE schemaname = $1 AND indexrelname = 'customers_search'",
                &[&pg.schema()],
            )
            .and_then(|r| r.try_get(0))
            .expect("index statistics")
    };
    let before = scans(&mut client);
    let (hits, _) = bulk
        .search_customers(&SearchText::parse("row number 3217").expect("a text"), None)
        .expect("a search");
    assert_eq!(hits.len(), 1);
    drop(bulk);
    drop(crm);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        // A new transaction sees the statistics as they are now.
        if scans(&mut client) > before {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the search never used the trigram index"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// A role that may not create pg_trgm (no CREATE on the database) migrates without
/// the index, and search finds the same as with it.
#[test]
fn without_rights_to_pg_trgm_search_scans_and_finds_the_same() {
    let Some(pg) = common::server() else { return };
    let url = std::env::var("SOLOCRM_TEST_PG_URL").expect("the server() above read it");
    let mut admin = Client::connect(&url, NoTls).expect("the test server");
    let id = std::process::id();
    let (db, role) = (
        format!("solocrm_notrgm_{id}"),
        format!("solocrm_plain_{id}"),
    );
    let _ = admin.batch_execute(&format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"));
    let _ = admin.batch_execute(&format!("DROP ROLE IF EXISTS {role}"));
    admin
        .batch_execute(&format!("CREATE ROLE {role} LOGIN NOSUPERUSER NOCREATEDB"))
        .expect("a role without rights");
    admin
        .batch_execute(&format!("CREATE DATABASE {db}"))
        .expect("a database without pg_trgm");
    struct Cleanup(String, String, String);
    impl Drop for Cleanup {
        fn drop(&mut self) {
            if let Ok(mut admin) = Client::connect(&self.0, NoTls) {
                let _ = admin
                    .batch_execute(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.1));
                let _ = admin.batch_execute(&format!("DROP ROLE IF EXISTS {}", self.2));
            }
        }
    }
    let _cleanup = Cleanup(url.clone(), db.clone(), role.clone());
    let mut in_db = postgres::Config::from_str(&url).expect("the test URL");
    in_db.dbname(&db);
    let mut owner = in_db.connect(NoTls).expect("the new database");
    owner
        .batch_execute(&format!("CREATE SCHEMA books AUTHORIZATION {role}"))
        .expect("a schema the role owns");
    let mut as_role = in_db.clone();
    as_role.user(&role).options("-c search_path=books");
    let store = PgStore::create_with(
        as_role,
        TenantId::new(1).expect("a tenant"),
        Currency::EUR,
        &PgOptions::new().pool_size(2),
    )
    .expect("the role migrates and creates books without pg_trgm");
    assert!(!has_search_index(&mut owner, "books"), "no index");
    let trgm: i64 = owner
        .query_one(
            "SELECT count(*) FROM pg_extension WHERE extname = 'pg_trgm'",
            &[],
        )
        .and_then(|r| r.try_get(0))
        .expect("the catalog");
    assert_eq!(trgm, 0, "the role could not create the extension");
    let crm = Crm::new(store);
    let people = people();
    write_all(&crm, &people);
    same_as_memory(&crm, &people);
    drop(crm);
    drop(pg);
}
