//! Tenancy: the schema keeps every key inside a tenant (so Citus can distribute it by
//! `tenant_id` unchanged), and two tenants in one database never see each other's
//! records, ids, events or segments; erasing in one leaves the other untouched and
//! no personal data in any row of the first.

mod common;

use chrono::{DateTime, Duration, TimeZone, Utc};
use solocrm_core::{
    ActivityQuery, Channel, Cmp, Comparison, Crm, Currency, CustomerData, CustomerQuery, Direction,
    Email, FreeText, Label, LifecycleStage, Money, NewCustomer, NewInteraction, NewPointsEntry,
    NewPurchase, PersonName, Phone, PointsKind, Predicate, Segment, StageReason, Store,
};
use solocrm_sample::{GenConfig, populate};
use solocrm_store_memory::MemoryStore;

/// `(table, constraint, kind, first key column, first referenced column)` of every
/// primary key, unique constraint and foreign key in the schema.
type Key = (String, String, String, String, Option<String>);

fn keys(client: &mut postgres::Client, schema: &str) -> Vec<Key> {
    client
        .query(
            "SELECT t.relname, c.conname, c.contype::text, a.attname, fa.attname \
             FROM pg_constraint c \
             JOIN pg_class t ON t.oid = c.conrelid \
             JOIN pg_namespace n ON n.oid = t.relnamespace \
             JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1] \
             LEFT JOIN pg_attribute fa ON fa.attrelid = c.confrelid AND fa.attnum = c.confkey[1] \
             WHERE n.nspname = $1 AND c.contype IN ('p', 'u', 'f') \
             ORDER BY 1, 2",
            &[&schema],
        )
        .expect("the catalog")
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4)))
        .collect()
}

/// Every primary key, unique constraint and foreign key starts with `tenant_id` (and
/// every foreign key refers to the other table's `tenant_id` first); every table but
/// the schema's version row has a primary key; no unique index stands outside a
/// constraint. What Citus requires of tables distributed by `tenant_id`.
#[test]
fn every_key_leads_with_the_tenant() {
    let Some(pg) = common::server() else { return };
    drop(pg.store());
    let mut client = pg.client();
    let keys = keys(&mut client, pg.schema());
    let bad: Vec<&Key> = keys
        .iter()
        .filter(|(_, _, kind, first, referenced)| {
            first != "tenant_id" || (kind == "f" && referenced.as_deref() != Some("tenant_id"))
        })
        .collect();
    assert!(bad.is_empty(), "keys without the tenant first: {bad:#?}");
    let tables: Vec<String> = client
        .query(
            "SELECT table_name::text FROM information_schema.tables \
             WHERE table_schema = $1 AND table_type = 'BASE TABLE' ORDER BY 1",
            &[&pg.schema()],
        )
        .expect("the tables")
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert!(tables.len() >= 18, "{tables:?}");
    for table in tables.iter().filter(|t| *t != "solocrm_schema") {
        assert!(
            keys.iter()
                .any(|(t, _, kind, _, _)| t == table && kind == "p"),
            "{table} has no primary key"
        );
        let first: String = client
            .query_one(
                "SELECT column_name::text FROM information_schema.columns \
                 WHERE table_schema = $1 AND table_name = $2 AND ordinal_position = 1",
                &[&pg.schema(), table],
            )
            .expect("a column")
            .get(0);
        assert_eq!(first, "tenant_id", "{table}'s first column");
    }
    let loose: Vec<String> = client
        .query(
            "SELECT i.relname::text FROM pg_index x \
             JOIN pg_class i ON i.oid = x.indexrelid \
             JOIN pg_namespace n ON n.oid = i.relnamespace \
             WHERE n.nspname = $1 AND x.indisunique \
             AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)",
            &[&pg.schema()],
        )
        .expect("the indexes")
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert!(
        loose.is_empty(),
        "unique indexes outside constraints: {loose:?}"
    );
    assert!(
        keys.iter().filter(|k| k.2 == "f").count() >= 18,
        "{keys:#?}"
    );
}

/// The lint above is not vacuous: a key without the tenant is found.
#[test]
fn the_key_lint_finds_a_key_without_the_tenant() {
    let Some(pg) = common::server() else { return };
    drop(pg.store());
    let mut client = pg.client();
    client
        .batch_execute("ALTER TABLE segments ADD CONSTRAINT name_alone UNIQUE (name)")
        .expect("a bad constraint");
    let keys = keys(&mut client, pg.schema());
    assert!(
        keys.iter()
            .any(|(t, c, _, first, _)| t == "segments" && c == "name_alone" && first == "name"),
        "{keys:#?}"
    );
}

fn at(hours: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0)
        .single()
        .expect("an instant")
        + Duration::hours(hours)
}

const SECRETS: [&str; 6] = [
    "Lovelace",
    "ada@secret.example",
    "+44 20 7946 0000",
    "told me about her illness",
    "bought the red bicycle",
    "moved after the divorce",
];

/// Ada, with personal data in her record, an interaction, a purchase, points and a
/// stage change; her id.
fn ada(crm: &Crm) -> solocrm_core::CustomerId {
    let mut data = CustomerData::new(PersonName::parse("Ada Lovelace").expect("a name"));
    data.email = Some(Email::parse(SECRETS[1]).expect("an email"));
    data.phone = Some(Phone::parse(SECRETS[2]).expect("a phone"));
    let id = crm
        .create_customer(NewCustomer::new(data, at(0)))
        .expect("created")
        .id();
    crm.log_interaction(NewInteraction {
        customer: id,
        channel: Channel::Phone,
        direction: Direction::Inbound,
        at: at(1),
        summary: FreeText::parse(SECRETS[3]).expect("text"),
        sentiment: None,
    })
    .expect("an interaction");
    let mut p = NewPurchase::new(id, at(2), Money::from_minor(5_000, Currency::EUR));
    p.description = Some(FreeText::parse(SECRETS[4]).expect("text"));
    crm.record_purchase(p).expect("a purchase");
    let mut points = NewPointsEntry::new(id, at(3), PointsKind::Earn, 10).expect("points");
    points.reason = Some(Label::parse("loyal since the bicycle").expect("a label"));
    crm.post_points(points).expect("posted");
    crm.change_stage(
        id,
        LifecycleStage::Lead,
        at(4),
        StageReason::Manual {
            note: Some(Label::parse(SECRETS[5]).expect("a label")),
        },
    )
    .expect("moved");
    id
}

/// How many text values in the rows of `tenant` contain `needle`, over every text
/// column of every table of the schema.
fn rows_containing(pg: &common::PgTest, tenant: i64, needle: &str) -> i64 {
    let mut client = pg.client();
    let columns: Vec<(String, String)> = client
        .query(
            "SELECT c.table_name::text, c.column_name::text FROM information_schema.columns c \
             WHERE c.table_schema = $1 AND c.data_type = 'text' \
             AND EXISTS (SELECT 1 FROM information_schema.columns k WHERE k.table_schema = $1 \
                         AND k.table_name = c.table_name AND k.column_name = 'tenant_id')",
            &[&pg.schema()],
        )
        .expect("the columns")
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert!(columns.len() > 40, "{columns:?}");
    let mut found = 0;
    for (table, column) in columns {
        // Names from the catalog, quoted as identifiers.
        let sql = format!(
            "SELECT count(*) FROM \"{table}\" WHERE tenant_id = $1 AND strpos(\"{column}\", $2) > 0"
        );
        let n: i64 = client
            .query_one(sql.as_str(), &[&tenant, &needle])
            .expect("a count")
            .get(0);
        found += n;
    }
    found
}

/// Two tenants in one schema, each given the same generated business and the same
/// person: each reads back exactly what a memory store given its operations holds
/// (ids from 1, events, segments), erasing the person in one leaves no trace of
/// her in that tenant's rows and the other tenant untouched.
#[test]
fn two_tenants_never_see_each_other() {
    let Some(pg) = common::server() else { return };
    let (a, b) = (Crm::new(pg.store_of(10)), Crm::new(pg.store_of(11)));
    let (ma, mb) = (
        Crm::new(MemoryStore::new(Currency::EUR)),
        Crm::new(MemoryStore::new(Currency::EUR)),
    );
    // Different businesses, interleaved, so ids of both tenants overlap.
    let ca = GenConfig::new(60, 1).with_purchases(400);
    let cb = GenConfig::new(40, 2).with_purchases(300);
    populate(&a, &ca).expect("a populated");
    populate(&b, &cb).expect("b populated");
    populate(&ma, &ca).expect("memory a");
    populate(&mb, &cb).expect("memory b");
    let segment = |n: u64| Segment {
        name: Label::parse("big spenders").expect("a label"),
        predicate: Predicate::PurchaseCount(Comparison {
            op: Cmp::Ge,
            value: n,
        }),
    };
    for (crm, n) in [(&a, 3), (&ma, 3), (&b, 5), (&mb, 5)] {
        crm.create_segment(segment(n)).expect("a segment");
    }
    let ada_a = ada(&a);
    let ada_b = ada(&b);
    assert_eq!(ada(&ma), ada_a);
    assert_eq!(ada(&mb), ada_b);
    assert_ne!(ada_a, ada_b, "each tenant counts its own ids");
    let same = |pg: &Crm, memory: &Crm, what: &str| {
        let all = CustomerQuery {
            include_erased: true,
            limit: 10_000,
            ..CustomerQuery::default()
        };
        assert_eq!(
            pg.list_customers(&all).ok(),
            memory.list_customers(&all).ok(),
            "{what}"
        );
        assert_eq!(
            pg.purchases(&ActivityQuery::ALL).ok(),
            memory.purchases(&ActivityQuery::ALL).ok(),
            "{what}"
        );
        assert_eq!(pg.segments().ok(), memory.segments().ok(), "{what}");
        assert_eq!(pg.audit_log().ok(), memory.audit_log().ok(), "{what}");
        assert_eq!(pg.purchase_log().ok(), memory.purchase_log().ok(), "{what}");
        assert_eq!(
            pg.read(|r| r.events(0, 1_000_000)).ok(),
            memory.read(|r| r.events(0, 1_000_000)).ok(),
            "{what}"
        );
    };
    same(&a, &ma, "tenant a");
    same(&b, &mb, "tenant b");
    for secret in SECRETS {
        assert!(
            rows_containing(&pg, 10, secret) > 0,
            "{secret} is stored in a"
        );
    }
    a.erase_customer(ada_a, at(10)).expect("erased in a");
    ma.erase_customer(ada_a, at(10))
        .expect("erased in memory a");
    same(&a, &ma, "tenant a after the erasure");
    same(&b, &mb, "tenant b after a's erasure");
    for secret in SECRETS {
        assert_eq!(rows_containing(&pg, 10, secret), 0, "{secret} is left in a");
        assert!(
            rows_containing(&pg, 11, secret) > 0,
            "{secret} is kept in b"
        );
    }
}

/// The holiday calendar is per tenant: one tenant's own holidays and presets are not
/// the other's, and removing in one leaves the other's.
#[test]
fn holiday_calendars_are_per_tenant() {
    use solocrm_core::Tag;
    use solocrm_core::holiday::{HolidayDef, HolidayRule, Preset};
    let Some(pg) = common::server() else { return };
    let (a, b) = (Crm::new(pg.store_of(20)), Crm::new(pg.store_of(21)));
    let def = |key: &str, name: &str, rule: HolidayRule| HolidayDef {
        key: Tag::parse(key).expect("a key"),
        name: Label::parse(name).expect("a name"),
        rule,
    };
    a.set_holiday_presets(&[Preset::Cn]).expect("a's presets");
    b.set_holiday_presets(&[Preset::Western, Preset::Cn])
        .expect("b's presets");
    a.put_holiday(def(
        "店庆",
        "店庆",
        HolidayRule::fixed(6, 18).expect("a day"),
    ))
    .expect("a's holiday");
    b.put_holiday(def(
        "店庆",
        "开业纪念日",
        HolidayRule::lunar(3, 3, false).expect("a lunar day"),
    ))
    .expect("b's holiday");
    let (ca, cb) = (
        a.holiday_calendar().expect("a's calendar"),
        b.holiday_calendar().expect("b's calendar"),
    );
    assert_eq!(ca.presets, vec![Preset::Cn]);
    assert_eq!(cb.presets, vec![Preset::Western, Preset::Cn]);
    assert_eq!(ca.own[0].name.as_str(), "店庆");
    assert_eq!(cb.own[0].name.as_str(), "开业纪念日");
    a.remove_holiday(&Tag::parse("店庆").expect("a key"))
        .expect("removed in a");
    assert!(a.holiday_calendar().expect("a").own.is_empty());
    assert_eq!(b.holiday_calendar().expect("b").own.len(), 1);
}
