//! What the port's modules (`crate::port::*`) share: the column lists of every table
//! and the small query helpers. The statements and row codecs of each kind of record
//! live with its primitives (`port/customers.rs`, `port/activity.rs`, …); the test
//! below checks that each statement uses the index `docs/storage.md` gives it.

use rusqlite::types::ToSql;
use rusqlite::{CachedStatement, Connection, Row};
use solocrm_core::StoreError;

use crate::error::{Corrupt, Fail, Res};

// ----- column lists (static SQL only; values are always bound) -----

macro_rules! customer_cols {
    () => {
        "c.id, c.name, c.email, c.phone, c.company, c.birthday, c.profile, \
         c.acquisition_channel, c.acquisition_cost, c.external_ref, c.notes, \
         c.created_at, c.created_at_ns, c.stage, c.erased_at, c.erased_at_ns"
    };
}

macro_rules! purchase_cols {
    () => {
        "p.id, p.customer_id, p.at, p.at_ns, p.amount, p.cost, p.description, p.items, \
         p.external_ref, p.deal_id, p.void_at, p.void_at_ns, p.void_by, p.void_reason"
    };
}

macro_rules! interaction_cols {
    () => {
        "i.id, i.customer_id, i.channel, i.direction, i.at, i.at_ns, i.summary, i.sentiment, \
         i.void_at, i.void_at_ns, i.void_by, i.void_reason"
    };
}

macro_rules! refund_cols {
    () => {
        "r.id, r.customer_id, r.purchase_id, r.at, r.at_ns, r.amount, r.reason"
    };
}

macro_rules! survey_cols {
    () => {
        "s.id, s.customer_id, s.at, s.at_ns, s.kind, s.score, s.comment, s.void_at, \
         s.void_at_ns, s.void_by, s.void_reason"
    };
}

macro_rules! request_cols {
    () => {
        "r.id, r.customer_id, r.kind, r.subject, r.description, r.deal_id, r.opened_at, \
         r.opened_at_ns, r.status"
    };
}

macro_rules! deal_cols {
    () => {
        "d.id, d.customer_id, d.title, d.value, d.created_at, d.created_at_ns, \
         d.initial_stage, d.expected_close, d.stage, d.lost_reason"
    };
}

macro_rules! task_cols {
    () => {
        "t.id, t.customer_id, t.kind, t.title, t.due, t.recurrence, t.created_at, \
         t.created_at_ns, t.occurrence, t.done, t.last_done_at, t.last_done_at_ns, \
         t.cancelled_at, t.cancelled_at_ns"
    };
}

macro_rules! points_cols {
    () => {
        "e.id, e.customer_id, e.at, e.at_ns, e.kind, e.delta, e.reason, e.balance_after"
    };
}

// ----- small helpers -----

pub(crate) fn backend(e: impl std::error::Error + Send + Sync + 'static) -> Fail {
    Fail::Store(StoreError::backend(e))
}

pub(crate) fn corrupt(what: String) -> Fail {
    Fail::Corrupt(Corrupt(what))
}

/// Runs `sql` with `params` and decodes every row.
pub(crate) fn query_all<T, P: rusqlite::Params>(
    conn: &Connection,
    sql: &str,
    params: P,
    decode: impl FnMut(&Row<'_>) -> Res<T>,
) -> Res<Vec<T>> {
    query_all_into(conn, sql, params, Vec::new(), decode)
}

/// [`query_all`] with room for `capacity` rows made first: for a read of a whole
/// table whose size is known closely (an id bound, [`id_bound`]), which then grows no
/// vector by doubling (a doubled vector holds up to twice the room it needs, and each
/// step copies it).
pub(crate) fn query_all_sized<T, P: rusqlite::Params>(
    conn: &Connection,
    sql: &str,
    params: P,
    capacity: usize,
    decode: impl FnMut(&Row<'_>) -> Res<T>,
) -> Res<Vec<T>> {
    query_all_into(conn, sql, params, Vec::with_capacity(capacity), decode)
}

fn query_all_into<T, P: rusqlite::Params>(
    conn: &Connection,
    sql: &str,
    params: P,
    mut out: Vec<T>,
    mut decode: impl FnMut(&Row<'_>) -> Res<T>,
) -> Res<Vec<T>> {
    let mut stmt = conn.prepare_cached(sql)?;
    let mut rows = stmt.query(params)?;
    while let Some(row) = rows.next()? {
        out.push(decode(row)?);
    }
    fit(&mut out);
    Ok(out)
}

/// Gives back the room a vector of rows does not use when that room is large (64 KiB
/// or more, and more than an eighth of the rows): a read of 278 k interactions grown
/// by doubling held 12.6 MB for 6.7 MB of rows through the whole report (issue 14).
/// Small and nearly full vectors are left as they are (no copy for them).
pub(crate) fn fit<T>(rows: &mut Vec<T>) {
    let spare = rows.capacity() - rows.len();
    if spare.saturating_mul(size_of::<T>()) >= 1 << 16 && spare > rows.len() / 8 {
        rows.shrink_to_fit();
    }
}

/// An upper bound of the rows of `table` from its largest id (ids are assigned
/// densely and rows are never deleted but by erasure), capped at 2²⁸: room to reserve
/// before reading the whole table. `table` is one of the crate's own names.
pub(crate) fn id_bound(conn: &Connection, table: &'static str) -> Res<usize> {
    let rows: i64 = conn
        .prepare_cached(&format!("SELECT coalesce(max(id), 0) FROM {table}"))?
        .query_row([], |r| r.get(0))?;
    Ok(usize::try_from(rows).unwrap_or(0).min(1 << 28))
}

/// Runs `sql` with `params` and decodes the first row, if any.
pub(crate) fn query_one<T, P: rusqlite::Params>(
    conn: &Connection,
    sql: &str,
    params: P,
    decode: impl FnOnce(&Row<'_>) -> Res<T>,
) -> Res<Option<T>> {
    let mut stmt = conn.prepare_cached(sql)?;
    let mut rows = stmt.query(params)?;
    match rows.next()? {
        Some(row) => decode(row).map(Some),
        None => Ok(None),
    }
}

pub(crate) fn execute<P: rusqlite::Params>(conn: &Connection, sql: &str, params: P) -> Res<usize> {
    Ok(conn.prepare_cached(sql)?.execute(params)?)
}

/// Where a write statement runs: a connection (through its statement cache), or a
/// transaction's [`Kept`] statements. The statements are this crate's own, `'static`
/// text; the values are always bound.
pub(crate) trait Exec {
    /// Runs `sql` with `params` and returns how many rows it changed.
    fn exec(&mut self, sql: &'static str, params: &[&dyn ToSql]) -> Res<usize>;
}

impl Exec for &Connection {
    fn exec(&mut self, sql: &'static str, params: &[&dyn ToSql]) -> Res<usize> {
        execute(self, sql, params)
    }
}

/// The write statements a transaction runs, each prepared at its first use and kept
/// for the whole transaction, instead of taken from the connection's statement cache
/// and given back at every call (which hashes the SQL text twice and resets the
/// statement each time): an operation of a bulk write runs several, and a demo build
/// millions. Found by the address of their text, so a handful of statements cost a
/// few pointer comparisons.
pub(crate) struct Kept<'c> {
    conn: &'c Connection,
    stmts: Vec<(&'static str, CachedStatement<'c>)>,
}

impl<'c> Kept<'c> {
    /// None kept yet.
    pub(crate) fn new(conn: &'c Connection) -> Self {
        Kept {
            conn,
            stmts: Vec::new(),
        }
    }
}

impl Exec for Kept<'_> {
    fn exec(&mut self, sql: &'static str, params: &[&dyn ToSql]) -> Res<usize> {
        let found = self
            .stmts
            .iter()
            .position(|(s, _)| std::ptr::eq(s.as_ptr(), sql.as_ptr()) && s.len() == sql.len());
        let at = match found {
            Some(at) => at,
            None => {
                self.stmts.push((sql, self.conn.prepare_cached(sql)?));
                self.stmts.len() - 1
            }
        };
        let (_, stmt) = &mut self.stmts[at];
        Ok(stmt.execute(params)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    use crate::SqliteStore;
    use crate::port::activity::{
        BULK_PURCHASES, INTERACTIONS_ALL, INTERACTIONS_OF, PURCHASE_LOG_SCAN, PURCHASE_REF_OWNER,
        PURCHASE_SUMMARY, PURCHASES_ALL, PURCHASES_OF, REFUNDS_ALL, REFUNDS_OF, SURVEYS_ALL,
        SURVEYS_OF,
    };
    use crate::port::customers::{
        CONSENTS_BETWEEN, CONSENTS_OF, CUSTOMER_BY_ID, CUSTOMER_REF_OWNER, EMAIL_OWNER, LIST_ALL,
        LIST_TAG, LIST_TAG_STAGE, STAGE_HISTORY, TAGS_BETWEEN, TAGS_OF,
    };
    use crate::port::loyalty::{POINTS_BALANCE, POINTS_LEDGER};
    use crate::port::pipeline::{
        DEAL_MOVES, DEALS_OF, DEALS_OPEN, REQUEST_EVENTS, REQUESTS_OF, REQUESTS_OPEN,
    };
    use solocrm_core::{ActivityQuery, Currency, CustomerId, ExternalRef};

    use solocrm_core::{
        Conflict, Crm, CustomerData, CustomerRef, ImportBatch, Money, NewCustomer, NewPurchase,
        PersonName, Store, StoreErrorKind,
    };

    /// The query plan of `sql`, one line per step.
    fn plan(conn: &Connection, sql: &str) -> String {
        let mut stmt = conn
            .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
            .expect("explain");
        let n = stmt.parameter_count();
        let params: Vec<rusqlite::types::Value> = vec![rusqlite::types::Value::Integer(1); n];
        let rows = stmt
            .query_map(rusqlite::params_from_iter(params), |r| {
                r.get::<_, String>(3)
            })
            .expect("the plan");
        rows.map(|r| r.expect("a plan step"))
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Each index serves the query `docs/storage.md` says it serves, and the purchase
    /// log is one scan of the table in id order without a sort.
    #[test]
    fn the_queries_use_their_indexes() {
        let store = SqliteStore::open_in_memory(Currency::EUR).expect("a store");
        let conn = store.lock();
        let uses = |sql: &str, wanted: &str| {
            let p = plan(&conn, sql);
            assert!(p.contains(wanted), "{sql}\nwants {wanted}, plan:\n{p}");
            // A sort of the rows that tie on the index's order is fine (purchases of
            // one customer at one instant, by id); a sort of the whole result is not.
            assert!(
                !p.contains("TEMP B-TREE FOR ORDER BY"),
                "{sql}\nsorts:\n{p}"
            );
        };
        uses(CUSTOMER_BY_ID, "USING INTEGER PRIMARY KEY");
        uses(EMAIL_OWNER, "sqlite_autoindex_customers_1");
        uses(CUSTOMER_REF_OWNER, "sqlite_autoindex_customers_2");
        uses(TAGS_OF, "USING PRIMARY KEY (customer_id=?)");
        uses(CONSENTS_OF, "consents_by_customer");
        uses(LIST_ALL, "USING INTEGER PRIMARY KEY (rowid>?)");
        uses(
            LIST_TAG,
            "USING COVERING INDEX customer_tags_by_tag (tag=? AND customer_id>?)",
        );
        uses(LIST_TAG_STAGE, "customer_tags_by_tag");
        uses(STAGE_HISTORY, "stage_changes_by_customer");
        uses(INTERACTIONS_OF, "interactions_by_customer");
        uses(PURCHASES_OF, "purchases_by_customer");
        uses(
            crate::port::activity::PURCHASE_LOG_BY_CUSTOMER,
            "USING COVERING INDEX purchases_by_customer",
        );
        uses(
            PURCHASE_SUMMARY,
            "USING COVERING INDEX purchases_by_customer (customer_id=? AND",
        );
        uses(PURCHASE_REF_OWNER, "sqlite_autoindex_purchases_1");
        uses(
            crate::port::activity::REFUNDS_OF_PURCHASE,
            "refunds_by_purchase",
        );
        uses(REFUNDS_OF, "refunds_by_customer");
        uses(SURVEYS_OF, "surveys_by_customer");
        uses(DEALS_OF, "deals_by_customer");
        uses(DEALS_OPEN, "deals_open");
        uses(DEAL_MOVES, "USING PRIMARY KEY (deal_id=?)");
        uses(REQUESTS_OF, "service_requests_by_customer");
        uses(REQUESTS_OPEN, "service_requests_open");
        uses(REQUEST_EVENTS, "USING PRIMARY KEY (request_id=?)");
        uses(POINTS_BALANCE, "points_entries_by_customer");
        uses(POINTS_LEDGER, "points_entries_by_customer");
        for all in [INTERACTIONS_ALL, PURCHASES_ALL, REFUNDS_ALL, SURVEYS_ALL] {
            let p = plan(&conn, all);
            assert!(
                p.starts_with("SCAN") && !p.contains("TEMP B-TREE"),
                "{all}\n{p}"
            );
        }
        uses(
            TAGS_BETWEEN,
            "USING PRIMARY KEY (customer_id>? AND customer_id<?)",
        );
        uses(
            CONSENTS_BETWEEN,
            "consents_by_customer (customer_id>? AND customer_id<?)",
        );
        let log = plan(&conn, PURCHASE_LOG_SCAN);
        assert_eq!(log, "SCAN purchases", "one pass, no index, no sort");
        // The reads of every customer walk the narrow index, not the table (ADR 0069).
        for light in [
            crate::port::activity::CUSTOMER_IDS,
            crate::port::customers::CUSTOMER_STAGES,
            crate::port::customers::REPORT_CUSTOMERS,
            crate::port::customers::NAMES_SCAN,
            crate::port::customers::CHURNED_CUSTOMERS,
            crate::port::automation::CUSTOMER_DATES,
            crate::port::customers::KEYS,
            crate::port::customers::KEYS_CREATED,
        ] {
            uses(light, "SCAN customers USING COVERING INDEX customers_light");
        }
        uses(
            crate::port::customers::CHURN_CHANGES,
            "USING COVERING INDEX stage_changes_churned",
        );
        uses(
            crate::port::customers::STAGE_CHANGES_FROM,
            "stage_changes_by_time ((at,at_ns)>(?,?))",
        );
        for contacts in [
            crate::port::automation::INTERACTION_CONTACTS,
            crate::port::automation::LAST_INTERACTIONS,
        ] {
            uses(
                contacts,
                "SCAN interactions USING COVERING INDEX interactions_by_customer",
            );
        }
    }
    /// The schema's purchase indexes, as `sqlite_schema` records them.
    fn purchase_indexes(store: &SqliteStore) -> Vec<(String, Option<String>)> {
        let conn = store.lock();
        let mut stmt = conn
            .prepare(
                "SELECT name, sql FROM sqlite_schema WHERE type = 'index' \
                 AND tbl_name = 'purchases' ORDER BY name",
            )
            .expect("the schema query");
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .expect("the schema")
            .collect::<rusqlite::Result<_>>()
            .expect("schema rows")
    }

    /// SQLite's schema cookie, which every `CREATE` and `DROP` increments.
    fn schema_version(store: &SqliteStore) -> i64 {
        store
            .lock()
            .pragma_query_value(None, "schema_version", |r| r.get(0))
            .expect("the pragma")
    }

    fn foreign_keys_on(store: &SqliteStore) -> bool {
        store
            .lock()
            .pragma_query_value(None, "foreign_keys", |r| r.get(0))
            .expect("the pragma")
    }

    /// A part of `n` purchases spread over `customers`, the first `refs` of them with
    /// references `R-{offset + i}`.
    fn purchases_part(customers: &[CustomerId], n: usize, offset: usize) -> ImportBatch {
        let t0 = chrono::DateTime::from_timestamp(1_767_225_600, 0).expect("an instant");
        let purchases = (0..n)
            .map(|i| {
                let k = offset + i;
                // Customers in a scrambled order, as in a real file.
                let who = customers[(k * 7919) % customers.len()];
                let mut p = NewPurchase::new(
                    who,
                    t0 + chrono::Duration::minutes(i64::try_from(k).expect("small")),
                    Money::from_minor(i64::try_from(k % 5_000).expect("small") + 1, Currency::EUR),
                );
                p.external_ref = Some(ExternalRef::parse(&format!("R-{k}")).expect("a reference"));
                (CustomerRef::Existing(who), p)
            })
            .collect();
        ImportBatch {
            purchases,
            ..ImportBatch::default()
        }
    }

    fn some_customers(crm: &Crm, n: usize) -> Vec<CustomerId> {
        let t0 = chrono::DateTime::from_timestamp(1_767_225_600, 0).expect("an instant");
        let batch = ImportBatch {
            create_customers: (0..n)
                .map(|i| {
                    let name = PersonName::parse(&format!("Customer {i}")).expect("a name");
                    NewCustomer::new(CustomerData::new(name), t0)
                })
                .collect(),
            ..ImportBatch::default()
        };
        crm.import(batch).expect("customers").created_customers
    }

    /// An import big enough to rebuild the purchase indexes leaves them as the schema
    /// defines them, the file sound, the foreign-key checks back on, and every row
    /// findable through the index.
    #[test]
    fn a_bulk_import_rebuilds_the_purchase_indexes_in_its_transaction() {
        let store = Arc::new(SqliteStore::open_in_memory(Currency::EUR).expect("a store"));
        let crm = Crm::from_shared(store.clone());
        let customers = some_customers(&crm, 500);
        let indexes = purchase_indexes(&store);
        assert!(
            indexes.iter().any(|(n, _)| n == "purchases_by_customer"),
            "{indexes:?}"
        );
        let small = purchases_part(&customers, 10, 1_000_000);
        let version = schema_version(&store);
        crm.import(small).expect("a small import");
        assert_eq!(
            schema_version(&store),
            version,
            "a small import keeps its index"
        );
        let half = BULK_PURCHASES / 2 + 1;
        let mut parts = vec![
            Ok(purchases_part(&customers, half, 0)),
            Ok(purchases_part(&customers, half, half)),
        ]
        .into_iter();
        let receipt = crm.import_parts(&mut parts).expect("the import");
        assert_eq!(receipt.purchases.len(), 2 * half);
        assert!(
            schema_version(&store) > version,
            "a big import drops and rebuilds the index"
        );
        assert_eq!(purchase_indexes(&store), indexes);
        assert!(foreign_keys_on(&store));
        assert_eq!(
            store.integrity_check().expect("the check"),
            Vec::<String>::new()
        );
        let conn = store.lock();
        let p = plan(&conn, PURCHASES_OF);
        assert!(p.contains("purchases_by_customer"), "{p}");
        drop(conn);
        let mut total = 0;
        for c in &customers {
            total += crm
                .purchases(&ActivityQuery::customer(*c))
                .expect("a customer's purchases")
                .len();
        }
        assert_eq!(total, 2 * half + 10);
    }

    /// A bulk import refused by its last record, or aborted by its source after the
    /// indexes were dropped, writes nothing and leaves the indexes in place.
    #[test]
    fn a_refused_bulk_import_leaves_the_indexes_and_writes_nothing() {
        let store = Arc::new(SqliteStore::open_in_memory(Currency::EUR).expect("a store"));
        let crm = Crm::from_shared(store.clone());
        let customers = some_customers(&crm, 100);
        let indexes = purchase_indexes(&store);
        let mut big = purchases_part(&customers, BULK_PURCHASES, 0);
        let repeat = big.purchases[0].clone();
        big.purchases.push(repeat);
        let err = crm.import(big).expect_err("a repeated reference");
        assert!(
            matches!(
                &err,
                StoreError::Import { index, error, .. }
                    if *index == BULK_PURCHASES
                        && matches!(**error, StoreError::Conflict(Conflict::DuplicateRefInBatch { .. }))
            ),
            "{err:?}"
        );
        let mut parts = vec![
            Ok(purchases_part(&customers, BULK_PURCHASES, 0)),
            Err("the source gave up".into()),
        ]
        .into_iter();
        let err = crm.import_parts(&mut parts).expect_err("aborted");
        assert_eq!(err.kind(), StoreErrorKind::Aborted);
        assert_eq!(purchase_indexes(&store), indexes);
        assert!(foreign_keys_on(&store));
        assert!(
            crm.purchases(&ActivityQuery::ALL)
                .expect("listing")
                .is_empty()
        );
    }

    #[test]
    fn fit_gives_back_large_spare_room_and_leaves_small_or_full_vectors() {
        // 278 k rows of 24 bytes grown to 512 k rows of room: the room is given back.
        let mut grown: Vec<[u64; 3]> = Vec::with_capacity(1 << 19);
        grown.resize(278_000, [0; 3]);
        fit(&mut grown);
        assert!(grown.capacity() < 300_000, "{}", grown.capacity());
        assert_eq!(grown.len(), 278_000);
        // Less than 64 KiB to give back: left as it is.
        let mut small: Vec<u64> = Vec::with_capacity(1_000);
        small.resize(10, 7);
        fit(&mut small);
        assert_eq!(small.capacity(), 1_000);
        // Nearly full (spare under an eighth of the rows), though the spare is large.
        let mut full: Vec<[u64; 8]> = Vec::with_capacity(100_000);
        full.resize(95_000, [1; 8]);
        fit(&mut full);
        assert_eq!(full.capacity(), 100_000);
        assert!(full.iter().all(|r| r == &[1; 8]));
    }
}
