//! The schema and its migrations.
//!
//! The schema version lives in `PRAGMA user_version`; `PRAGMA application_id` marks the
//! file as a solocrm database. Migration `n` takes a database from version `n - 1` to
//! `n` and runs in one transaction together with the `user_version` bump, so a crash
//! leaves the file at one version or the next, never between. A migration's SQL never
//! changes once released: later changes are new migrations.
//!
//! Conventions (see `docs/storage.md`):
//! - every table is `STRICT`; every enum column has a `CHECK` listing its names;
//! - instants are two integer columns, `x` (whole seconds since the Unix epoch, UTC,
//!   rounded down) and `x_ns` (the nanoseconds within that second; up to
//!   1 999 999 999 for a leap second), so every `DateTime<Utc>` round-trips exactly
//!   and `(x, x_ns)` sorts like the instant;
//! - money is an integer of minor units of the store's one base currency;
//! - calendar dates are ISO 8601 text (`2026-02-28`).

use rusqlite::{Connection, OptionalExtension, TransactionBehavior};

use crate::error::OpenError;

/// `PRAGMA application_id` of a solocrm database: `SOLO` in ASCII.
pub(crate) const APPLICATION_ID: i32 = 0x534F_4C4F;

/// One migration: the SQL that takes the schema from `version - 1` to `version`.
pub(crate) struct Migration {
    pub(crate) version: u32,
    pub(crate) sql: &'static str,
    /// The migration rebuilds tables (create a new one, copy, drop the old one,
    /// rename): it runs with foreign-key enforcement off, which SQLite only allows
    /// outside a transaction, and checks every foreign key before it commits.
    pub(crate) rebuilds: bool,
    /// A step in Rust that runs after `sql`, in the same transaction: for changes that
    /// need the domain's rules (say its Unicode normalisation), which SQL lacks. An
    /// error rolls the whole migration back.
    pub(crate) step: Option<Step>,
}

/// A migration's Rust step: runs inside the migration's transaction.
pub(crate) type Step = fn(&Connection) -> Result<(), OpenError>;

/// Version 1: one table per aggregate.
const V1: &str = r#"
CREATE TABLE store_info (
    id            INTEGER PRIMARY KEY CHECK (id = 1),
    base_currency TEXT NOT NULL CHECK (base_currency GLOB '[A-Z][A-Z][A-Z]')
) STRICT;

CREATE TABLE customers (
    id                  INTEGER PRIMARY KEY,
    name                TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200 AND name = trim(name)),
    email               TEXT CHECK (length(email) BETWEEN 3 AND 254),
    email_key           TEXT UNIQUE,
    phone               TEXT CHECK (length(phone) >= 3),
    company             TEXT CHECK (length(company) BETWEEN 1 AND 200),
    birthday            TEXT CHECK (length(birthday) >= 10),
    profile             TEXT CHECK (json_valid(profile)),
    acquisition_channel TEXT CHECK (length(acquisition_channel) BETWEEN 1 AND 64),
    acquisition_cost    INTEGER CHECK (acquisition_cost >= 0),
    external_ref        TEXT UNIQUE CHECK (length(external_ref) BETWEEN 1 AND 200),
    notes               TEXT NOT NULL CHECK (octet_length(notes) <= 1048576),
    created_at          INTEGER NOT NULL,
    created_at_ns       INTEGER NOT NULL CHECK (created_at_ns BETWEEN 0 AND 1999999999),
    stage               TEXT NOT NULL CHECK (stage IN
                            ('prospect','lead','new','active','loyal','at_risk','churned','won_back')),
    erased_at           INTEGER,
    erased_at_ns        INTEGER CHECK (erased_at_ns BETWEEN 0 AND 1999999999),
    CHECK ((email IS NULL) = (email_key IS NULL)),
    CHECK ((erased_at IS NULL) = (erased_at_ns IS NULL)),
    CHECK (erased_at IS NULL OR (email IS NULL AND phone IS NULL AND company IS NULL
        AND birthday IS NULL AND profile IS NULL AND external_ref IS NULL AND notes = ''))
) STRICT;

CREATE TABLE customer_tags (
    customer_id INTEGER NOT NULL REFERENCES customers (id),
    tag         TEXT NOT NULL CHECK (length(tag) BETWEEN 1 AND 64 AND tag = lower(tag)),
    PRIMARY KEY (customer_id, tag)
) STRICT, WITHOUT ROWID;
CREATE INDEX customer_tags_by_tag ON customer_tags (tag, customer_id);

CREATE TABLE consents (
    id          INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers (id),
    purpose     TEXT NOT NULL CHECK (length(purpose) BETWEEN 1 AND 64),
    granted     INTEGER NOT NULL CHECK (granted IN (0, 1)),
    at          INTEGER NOT NULL,
    at_ns       INTEGER NOT NULL CHECK (at_ns BETWEEN 0 AND 1999999999),
    source      TEXT NOT NULL CHECK (length(source) BETWEEN 1 AND 200)
) STRICT;
CREATE INDEX consents_by_customer ON consents (customer_id);

CREATE TABLE stage_changes (
    id          INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers (id),
    from_stage  TEXT NOT NULL CHECK (from_stage IN
                    ('prospect','lead','new','active','loyal','at_risk','churned','won_back')),
    to_stage    TEXT NOT NULL CHECK (to_stage IN
                    ('prospect','lead','new','active','loyal','at_risk','churned','won_back')),
    at          INTEGER NOT NULL,
    at_ns       INTEGER NOT NULL CHECK (at_ns BETWEEN 0 AND 1999999999),
    reason      TEXT NOT NULL CHECK (reason IN ('manual', 'rule')),
    note        TEXT CHECK (length(note) BETWEEN 1 AND 200),
    rule        TEXT CHECK (rule IN ('first_purchase','repeat_purchase','loyal_behaviour',
                    'overdue','silent','purchase_after_churn')),
    CHECK (from_stage <> to_stage),
    CHECK ((reason = 'rule') = (rule IS NOT NULL)),
    CHECK (reason = 'manual' OR note IS NULL)
) STRICT;
CREATE INDEX stage_changes_by_customer ON stage_changes (customer_id);

CREATE TABLE interactions (
    id          INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers (id),
    channel     TEXT NOT NULL CHECK (channel IN ('phone','email','social','chat','in_person','other')),
    direction   TEXT NOT NULL CHECK (direction IN ('inbound','outbound')),
    at          INTEGER NOT NULL,
    at_ns       INTEGER NOT NULL CHECK (at_ns BETWEEN 0 AND 1999999999),
    summary     TEXT NOT NULL CHECK (octet_length(summary) <= 1048576),
    sentiment   TEXT CHECK (sentiment IN ('negative','neutral','positive'))
) STRICT;
CREATE INDEX interactions_by_customer ON interactions (customer_id, at, at_ns);

CREATE TABLE deals (
    id             INTEGER PRIMARY KEY,
    customer_id    INTEGER NOT NULL REFERENCES customers (id),
    title          TEXT NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    value          INTEGER NOT NULL CHECK (value >= 0),
    created_at     INTEGER NOT NULL,
    created_at_ns  INTEGER NOT NULL CHECK (created_at_ns BETWEEN 0 AND 1999999999),
    initial_stage  TEXT NOT NULL CHECK (initial_stage IN
                       ('need_identified','contacted','demo','proposal','negotiation')),
    expected_close TEXT CHECK (length(expected_close) >= 10)
) STRICT;
CREATE INDEX deals_by_customer ON deals (customer_id);

CREATE TABLE deal_moves (
    deal_id    INTEGER NOT NULL REFERENCES deals (id),
    seq        INTEGER NOT NULL CHECK (seq >= 1),
    from_stage TEXT NOT NULL CHECK (from_stage IN
                   ('need_identified','contacted','demo','proposal','negotiation')),
    to_stage   TEXT NOT NULL CHECK (to_stage IN
                   ('need_identified','contacted','demo','proposal','negotiation','won','lost')),
    at         INTEGER NOT NULL,
    at_ns      INTEGER NOT NULL CHECK (at_ns BETWEEN 0 AND 1999999999),
    CHECK (from_stage <> to_stage),
    PRIMARY KEY (deal_id, seq)
) STRICT, WITHOUT ROWID;

CREATE TABLE purchases (
    id           INTEGER PRIMARY KEY,
    customer_id  INTEGER NOT NULL REFERENCES customers (id),
    at           INTEGER NOT NULL,
    at_ns        INTEGER NOT NULL CHECK (at_ns BETWEEN 0 AND 1999999999),
    amount       INTEGER NOT NULL CHECK (amount >= 0),
    cost         INTEGER CHECK (cost >= 0),
    description  TEXT CHECK (octet_length(description) <= 1048576),
    items        INTEGER CHECK (items BETWEEN 0 AND 4294967295),
    external_ref TEXT UNIQUE CHECK (length(external_ref) BETWEEN 1 AND 200),
    deal_id      INTEGER REFERENCES deals (id)
) STRICT;
CREATE INDEX purchases_by_customer ON purchases (customer_id, at, at_ns, amount);

CREATE TABLE refunds (
    id          INTEGER PRIMARY KEY,
    purchase_id INTEGER NOT NULL REFERENCES purchases (id),
    customer_id INTEGER NOT NULL REFERENCES customers (id),
    at          INTEGER NOT NULL,
    at_ns       INTEGER NOT NULL CHECK (at_ns BETWEEN 0 AND 1999999999),
    amount      INTEGER NOT NULL CHECK (amount > 0),
    reason      TEXT CHECK (octet_length(reason) <= 1048576)
) STRICT;
CREATE INDEX refunds_by_purchase ON refunds (purchase_id);
CREATE INDEX refunds_by_customer ON refunds (customer_id, at, at_ns);

CREATE TABLE surveys (
    id          INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers (id),
    at          INTEGER NOT NULL,
    at_ns       INTEGER NOT NULL CHECK (at_ns BETWEEN 0 AND 1999999999),
    kind        TEXT NOT NULL CHECK (kind IN ('csat','nps','ces')),
    score       INTEGER NOT NULL,
    comment     TEXT CHECK (octet_length(comment) <= 1048576),
    CHECK ((kind = 'csat' AND score BETWEEN 1 AND 5)
        OR (kind = 'nps' AND score BETWEEN 0 AND 10)
        OR (kind = 'ces' AND score BETWEEN 1 AND 7))
) STRICT;
CREATE INDEX surveys_by_customer ON surveys (customer_id, at, at_ns);

CREATE TABLE service_requests (
    id           INTEGER PRIMARY KEY,
    customer_id  INTEGER NOT NULL REFERENCES customers (id),
    kind         TEXT NOT NULL CHECK (kind IN ('feedback','question','complaint')),
    subject      TEXT NOT NULL CHECK (length(subject) BETWEEN 1 AND 200),
    description  TEXT NOT NULL CHECK (octet_length(description) <= 1048576),
    deal_id      INTEGER REFERENCES deals (id),
    opened_at    INTEGER NOT NULL,
    opened_at_ns INTEGER NOT NULL CHECK (opened_at_ns BETWEEN 0 AND 1999999999)
) STRICT;
CREATE INDEX service_requests_by_customer ON service_requests (customer_id);

CREATE TABLE request_events (
    request_id INTEGER NOT NULL REFERENCES service_requests (id),
    seq        INTEGER NOT NULL CHECK (seq >= 1),
    kind       TEXT NOT NULL CHECK (kind IN ('responded','resolved','reopened')),
    at         INTEGER NOT NULL,
    at_ns      INTEGER NOT NULL CHECK (at_ns BETWEEN 0 AND 1999999999),
    PRIMARY KEY (request_id, seq)
) STRICT, WITHOUT ROWID;

CREATE TABLE tasks (
    id              INTEGER PRIMARY KEY,
    customer_id     INTEGER REFERENCES customers (id),
    kind            TEXT NOT NULL CHECK (kind IN ('follow_up','birthday','holiday','custom')),
    title           TEXT NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    due             TEXT NOT NULL CHECK (length(due) >= 10),
    recurrence      TEXT CHECK (recurrence IN ('weekly','monthly','yearly')),
    created_at      INTEGER NOT NULL,
    created_at_ns   INTEGER NOT NULL CHECK (created_at_ns BETWEEN 0 AND 1999999999),
    occurrence      INTEGER NOT NULL DEFAULT 0 CHECK (occurrence BETWEEN 0 AND 4294967295),
    done            INTEGER NOT NULL DEFAULT 0 CHECK (done IN (0, 1)),
    last_done_at    INTEGER,
    last_done_at_ns INTEGER CHECK (last_done_at_ns BETWEEN 0 AND 1999999999),
    CHECK (done = 0 OR recurrence IS NULL),
    CHECK (occurrence = 0 OR recurrence IS NOT NULL),
    CHECK ((last_done_at IS NULL) = (last_done_at_ns IS NULL)),
    CHECK (last_done_at IS NOT NULL OR (done = 0 AND occurrence = 0))
) STRICT;
CREATE INDEX tasks_by_customer ON tasks (customer_id);

CREATE TABLE points_entries (
    id            INTEGER PRIMARY KEY,
    customer_id   INTEGER NOT NULL REFERENCES customers (id),
    at            INTEGER NOT NULL,
    at_ns         INTEGER NOT NULL CHECK (at_ns BETWEEN 0 AND 1999999999),
    kind          TEXT NOT NULL CHECK (kind IN ('earn','redeem','expire','adjust')),
    delta         INTEGER NOT NULL CHECK (delta <> 0),
    reason        TEXT CHECK (length(reason) BETWEEN 1 AND 200),
    balance_after INTEGER NOT NULL CHECK (balance_after >= 0),
    CHECK ((kind = 'earn' AND delta > 0) OR (kind IN ('redeem','expire') AND delta < 0)
        OR kind = 'adjust')
) STRICT;
CREATE INDEX points_entries_by_customer ON points_entries (customer_id);

CREATE TABLE segments (
    name      TEXT PRIMARY KEY CHECK (length(name) BETWEEN 1 AND 200),
    predicate TEXT NOT NULL CHECK (json_valid(predicate))
) STRICT, WITHOUT ROWID;

CREATE TABLE audit_log (
    id          INTEGER PRIMARY KEY,
    at          INTEGER NOT NULL,
    at_ns       INTEGER NOT NULL CHECK (at_ns BETWEEN 0 AND 1999999999),
    action      TEXT NOT NULL CHECK (action IN ('customer_erased')),
    customer_id INTEGER NOT NULL REFERENCES customers (id)
) STRICT;
"#;

/// Version 2: the current state of deals and service requests as columns (replayed
/// from their histories for existing rows), so that "open only" lists filter in SQL
/// through partial indexes instead of replaying every history.
const V2: &str = r#"
ALTER TABLE deals ADD COLUMN stage TEXT NOT NULL DEFAULT 'need_identified'
    CHECK (stage IN ('need_identified','contacted','demo','proposal','negotiation','won','lost'));
UPDATE deals SET stage = coalesce(
    (SELECT m.to_stage FROM deal_moves m WHERE m.deal_id = deals.id ORDER BY m.seq DESC LIMIT 1),
    initial_stage);
CREATE INDEX deals_open ON deals (id) WHERE stage NOT IN ('won', 'lost');

ALTER TABLE service_requests ADD COLUMN status TEXT NOT NULL DEFAULT 'open'
    CHECK (status IN ('open','responded','resolved'));
UPDATE service_requests SET status = coalesce(
    (SELECT CASE e.kind WHEN 'responded' THEN 'responded' WHEN 'resolved' THEN 'resolved'
                        ELSE 'open' END
       FROM request_events e WHERE e.request_id = service_requests.id
      ORDER BY e.seq DESC LIMIT 1),
    'open');
CREATE INDEX service_requests_open ON service_requests (id) WHERE status <> 'resolved';
"#;

/// Version 3: the book id, a random identity of this database (16 lowercase hex
/// characters), so that exports can mark ids that only mean something in this file.
/// New files get theirs here too (migration 1 inserted the `store_info` row).
const V3: &str = r#"
ALTER TABLE store_info ADD COLUMN book_id TEXT
    CHECK (book_id IS NULL OR (length(book_id) = 16 AND book_id NOT GLOB '*[^0-9a-f]*'));
UPDATE store_info SET book_id = lower(hex(randomblob(8))) WHERE book_id IS NULL;
"#;

/// Version 4: the schema works on SQLite 3.37 and later (Debian 12's `sqlite3` is
/// 3.40), so a user can check, vacuum, dump, restore and write the file with the tools
/// they have. `octet_length(x)` (3.43+) becomes `length(CAST(x AS BLOB))` (the same byte
/// count), and `CHECK (json_valid(profile))`, which fails on `NULL` before 3.45, becomes
/// `CHECK (profile IS NULL OR json_valid(profile))`. SQLite cannot alter a `CHECK`, so
/// the six tables concerned are rebuilt with their data, ids and indexes, in one
/// transaction (see [`Migration::rebuilds`]).
const V4: &str = r#"
CREATE TABLE new_customers (
    id                  INTEGER PRIMARY KEY,
    name                TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200 AND name = trim(name)),
    email               TEXT CHECK (length(email) BETWEEN 3 AND 254),
    email_key           TEXT UNIQUE,
    phone               TEXT CHECK (length(phone) >= 3),
    company             TEXT CHECK (length(company) BETWEEN 1 AND 200),
    birthday            TEXT CHECK (length(birthday) >= 10),
    profile             TEXT CHECK (profile IS NULL OR json_valid(profile)),
    acquisition_channel TEXT CHECK (length(acquisition_channel) BETWEEN 1 AND 64),
    acquisition_cost    INTEGER CHECK (acquisition_cost >= 0),
    external_ref        TEXT UNIQUE CHECK (length(external_ref) BETWEEN 1 AND 200),
    notes               TEXT NOT NULL CHECK (length(CAST(notes AS BLOB)) <= 1048576),
    created_at          INTEGER NOT NULL,
    created_at_ns       INTEGER NOT NULL CHECK (created_at_ns BETWEEN 0 AND 1999999999),
    stage               TEXT NOT NULL CHECK (stage IN
                            ('prospect','lead','new','active','loyal','at_risk','churned','won_back')),
    erased_at           INTEGER,
    erased_at_ns        INTEGER CHECK (erased_at_ns BETWEEN 0 AND 1999999999),
    CHECK ((email IS NULL) = (email_key IS NULL)),
    CHECK ((erased_at IS NULL) = (erased_at_ns IS NULL)),
    CHECK (erased_at IS NULL OR (email IS NULL AND phone IS NULL AND company IS NULL
        AND birthday IS NULL AND profile IS NULL AND external_ref IS NULL AND notes = ''))
) STRICT;
INSERT INTO new_customers SELECT * FROM customers;
DROP TABLE customers;
ALTER TABLE new_customers RENAME TO customers;

CREATE TABLE new_interactions (
    id          INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers (id),
    channel     TEXT NOT NULL CHECK (channel IN ('phone','email','social','chat','in_person','other')),
    direction   TEXT NOT NULL CHECK (direction IN ('inbound','outbound')),
    at          INTEGER NOT NULL,
    at_ns       INTEGER NOT NULL CHECK (at_ns BETWEEN 0 AND 1999999999),
    summary     TEXT NOT NULL CHECK (length(CAST(summary AS BLOB)) <= 1048576),
    sentiment   TEXT CHECK (sentiment IN ('negative','neutral','positive'))
) STRICT;
INSERT INTO new_interactions SELECT * FROM interactions;
DROP TABLE interactions;
ALTER TABLE new_interactions RENAME TO interactions;
CREATE INDEX interactions_by_customer ON interactions (customer_id, at, at_ns);

CREATE TABLE new_purchases (
    id           INTEGER PRIMARY KEY,
    customer_id  INTEGER NOT NULL REFERENCES customers (id),
    at           INTEGER NOT NULL,
    at_ns        INTEGER NOT NULL CHECK (at_ns BETWEEN 0 AND 1999999999),
    amount       INTEGER NOT NULL CHECK (amount >= 0),
    cost         INTEGER CHECK (cost >= 0),
    description  TEXT CHECK (length(CAST(description AS BLOB)) <= 1048576),
    items        INTEGER CHECK (items BETWEEN 0 AND 4294967295),
    external_ref TEXT UNIQUE CHECK (length(external_ref) BETWEEN 1 AND 200),
    deal_id      INTEGER REFERENCES deals (id)
) STRICT;
INSERT INTO new_purchases SELECT * FROM purchases;
DROP TABLE purchases;
ALTER TABLE new_purchases RENAME TO purchases;
CREATE INDEX purchases_by_customer ON purchases (customer_id, at, at_ns, amount);

CREATE TABLE new_refunds (
    id          INTEGER PRIMARY KEY,
    purchase_id INTEGER NOT NULL REFERENCES purchases (id),
    customer_id INTEGER NOT NULL REFERENCES customers (id),
    at          INTEGER NOT NULL,
    at_ns       INTEGER NOT NULL CHECK (at_ns BETWEEN 0 AND 1999999999),
    amount      INTEGER NOT NULL CHECK (amount > 0),
    reason      TEXT CHECK (length(CAST(reason AS BLOB)) <= 1048576)
) STRICT;
INSERT INTO new_refunds SELECT * FROM refunds;
DROP TABLE refunds;
ALTER TABLE new_refunds RENAME TO refunds;
CREATE INDEX refunds_by_purchase ON refunds (purchase_id);
CREATE INDEX refunds_by_customer ON refunds (customer_id, at, at_ns);

CREATE TABLE new_surveys (
    id          INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers (id),
    at          INTEGER NOT NULL,
    at_ns       INTEGER NOT NULL CHECK (at_ns BETWEEN 0 AND 1999999999),
    kind        TEXT NOT NULL CHECK (kind IN ('csat','nps','ces')),
    score       INTEGER NOT NULL,
    comment     TEXT CHECK (length(CAST(comment AS BLOB)) <= 1048576),
    CHECK ((kind = 'csat' AND score BETWEEN 1 AND 5)
        OR (kind = 'nps' AND score BETWEEN 0 AND 10)
        OR (kind = 'ces' AND score BETWEEN 1 AND 7))
) STRICT;
INSERT INTO new_surveys SELECT * FROM surveys;
DROP TABLE surveys;
ALTER TABLE new_surveys RENAME TO surveys;
CREATE INDEX surveys_by_customer ON surveys (customer_id, at, at_ns);

CREATE TABLE new_service_requests (
    id           INTEGER PRIMARY KEY,
    customer_id  INTEGER NOT NULL REFERENCES customers (id),
    kind         TEXT NOT NULL CHECK (kind IN ('feedback','question','complaint')),
    subject      TEXT NOT NULL CHECK (length(subject) BETWEEN 1 AND 200),
    description  TEXT NOT NULL CHECK (length(CAST(description AS BLOB)) <= 1048576),
    deal_id      INTEGER REFERENCES deals (id),
    opened_at    INTEGER NOT NULL,
    opened_at_ns INTEGER NOT NULL CHECK (opened_at_ns BETWEEN 0 AND 1999999999),
    status       TEXT NOT NULL DEFAULT 'open'
                     CHECK (status IN ('open','responded','resolved'))
) STRICT;
INSERT INTO new_service_requests SELECT * FROM service_requests;
DROP TABLE service_requests;
ALTER TABLE new_service_requests RENAME TO service_requests;
CREATE INDEX service_requests_by_customer ON service_requests (customer_id);
CREATE INDEX service_requests_open ON service_requests (id) WHERE status <> 'resolved';
"#;

/// Version 5: look-up keys in Unicode NFC. The core now keeps emails, references, tags
/// and names in NFC, so `josé` typed with a combining accent and without are one text;
/// a file written before holds keys of the spelling as typed, which a look-up by the
/// other spelling misses. No SQL: the Rust step [`crate::spellings::unify`] rewrites
/// the stored keys that are not ASCII (the email and its key, customer and purchase
/// references, tags, segment names) with the core's parsers, and refuses (rolling the
/// migration back) if two rows would then hold one key.
const V5: &str = "";

/// Version 6: the outbox of domain events (`solocrm_core::event`), appended in the
/// same transaction as the change they describe and read back in `seq` order. The
/// payload is the event's JSON (its `type` tag included); `type` and `customer_id`
/// repeat what it says, for looking at the table with the `sqlite3` tool. `at` is null
/// for an event of an operation that takes no time (an edit of a customer's data). The type
/// `CHECK` admits any snake_case name rather than listing them, so that a new kind of
/// event needs no migration. No foreign key: an event only names a record.
const V6: &str = r#"
CREATE TABLE events (
    seq         INTEGER PRIMARY KEY CHECK (seq >= 1),
    at          INTEGER,
    at_ns       INTEGER CHECK (at_ns BETWEEN 0 AND 1999999999),
    type        TEXT NOT NULL CHECK (length(type) BETWEEN 1 AND 64
                    AND type NOT GLOB '*[^a-z_]*'),
    customer_id INTEGER CHECK (customer_id >= 1),
    payload     TEXT NOT NULL CHECK (json_valid(payload)),
    CHECK ((at IS NULL) = (at_ns IS NULL))
) STRICT;
"#;

/// Version 7: `wechat` joins the interaction channels (微信, where much of a Chinese
/// business talks to its customers). SQLite cannot alter a `CHECK`, so `interactions`
/// is rebuilt with its rows, ids and index, as in version 4.
const V7: &str = r#"
CREATE TABLE new_interactions (
    id          INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers (id),
    channel     TEXT NOT NULL CHECK (channel IN
                    ('phone','email','social','chat','wechat','in_person','other')),
    direction   TEXT NOT NULL CHECK (direction IN ('inbound','outbound')),
    at          INTEGER NOT NULL,
    at_ns       INTEGER NOT NULL CHECK (at_ns BETWEEN 0 AND 1999999999),
    summary     TEXT NOT NULL CHECK (length(CAST(summary AS BLOB)) <= 1048576),
    sentiment   TEXT CHECK (sentiment IN ('negative','neutral','positive'))
) STRICT;
INSERT INTO new_interactions SELECT * FROM interactions;
DROP TABLE interactions;
ALTER TABLE new_interactions RENAME TO interactions;
CREATE INDEX interactions_by_customer ON interactions (customer_id, at, at_ns);
"#;

/// Version 8: the business time zone, an IANA name such as `Asia/Shanghai`. Books
/// created before it count their days in UTC, as they always did.
const V8: &str = r#"
ALTER TABLE store_info ADD COLUMN time_zone TEXT NOT NULL DEFAULT 'UTC'
    CHECK (length(time_zone) BETWEEN 1 AND 64 AND time_zone NOT GLOB '*[^A-Za-z0-9/_+-]*');
"#;

/// Version 9: costs, and the customer search index.
///
/// `costs` holds what the business spends (marketing, tools, other), money in minor
/// units like every amount; a voided cost keeps its row with `voided_at` and
/// `void_reason` set.
///
/// `customer_search` is an FTS5 table with the `trigram` tokenizer (case-insensitive,
/// so Latin text matches in any case and a Chinese substring of three characters or
/// more is found through the index) over the searchable text of every customer who is
/// not erased: name, email, company, city (from the profile JSON) and notes, under the
/// customer's id as its rowid. Triggers keep it in step with `customers`, so a row
/// written by another program (the `sqlite3` shell) is found too; the index is built
/// here for the customers already stored. When a customer is erased their row leaves
/// the index and the index is rewritten (`optimize`), so no trigram of their former
/// text stays in its segments (a plain delete only marks it deleted). FTS5's trigram
/// tokenizer exists since SQLite 3.34, so the file still opens in 3.37.
const V9: &str = r#"
CREATE TABLE costs (
    id          INTEGER PRIMARY KEY,
    at          INTEGER NOT NULL,
    at_ns       INTEGER NOT NULL CHECK (at_ns BETWEEN 0 AND 1999999999),
    amount      INTEGER NOT NULL CHECK (amount > 0),
    category    TEXT NOT NULL CHECK (category IN ('marketing','tools','other')),
    channel     TEXT CHECK (length(channel) BETWEEN 1 AND 64 AND channel = lower(channel)),
    note        TEXT CHECK (length(CAST(note AS BLOB)) <= 1048576),
    voided_at    INTEGER,
    voided_at_ns INTEGER CHECK (voided_at_ns BETWEEN 0 AND 1999999999),
    void_reason TEXT CHECK (length(void_reason) BETWEEN 1 AND 200),
    CHECK ((voided_at IS NULL) = (voided_at_ns IS NULL)),
    CHECK ((voided_at IS NULL) = (void_reason IS NULL))
) STRICT;
CREATE INDEX costs_by_time ON costs (at, at_ns, id);

CREATE VIRTUAL TABLE customer_search USING fts5 (
    name, email, company, city, notes,
    tokenize = 'trigram'
);
INSERT INTO customer_search (rowid, name, email, company, city, notes)
    SELECT id, name, email, company, json_extract(profile, '$.city'), notes
    FROM customers WHERE erased_at IS NULL;

CREATE TRIGGER customer_search_insert AFTER INSERT ON customers
WHEN new.erased_at IS NULL
BEGIN
    INSERT INTO customer_search (rowid, name, email, company, city, notes)
    VALUES (new.id, new.name, new.email, new.company,
            json_extract(new.profile, '$.city'), new.notes);
END;

CREATE TRIGGER customer_search_delete AFTER DELETE ON customers
BEGIN
    DELETE FROM customer_search WHERE rowid = old.id;
END;

CREATE TRIGGER customer_search_update AFTER UPDATE ON customers
WHEN old.name IS NOT new.name OR old.email IS NOT new.email
    OR old.company IS NOT new.company OR old.profile IS NOT new.profile
    OR old.notes IS NOT new.notes OR old.erased_at IS NOT new.erased_at
    OR old.id IS NOT new.id
BEGIN
    DELETE FROM customer_search WHERE rowid = old.id;
    INSERT INTO customer_search (rowid, name, email, company, city, notes)
    SELECT new.id, new.name, new.email, new.company,
           json_extract(new.profile, '$.city'), new.notes
    WHERE new.erased_at IS NULL;
    INSERT INTO customer_search (customer_search)
    SELECT 'optimize' WHERE old.erased_at IS NULL AND new.erased_at IS NOT NULL;
END;
"#;

/// Version 10: voided records (`solocrm_core::void`). A purchase, an interaction or a
/// survey answer entered by mistake stays, marked void: `void_at` / `void_at_ns` say
/// when (both null for a record that is not voided), `void_by` who and `void_reason`
/// why. Added columns only, so existing rows are untouched and read as not voided.
/// The customer index of purchases gains `void_at`, so a purchase summary, which
/// leaves voided purchases out, still reads the index alone.
const V10: &str = r#"
ALTER TABLE purchases ADD COLUMN void_at INTEGER;
ALTER TABLE purchases ADD COLUMN void_at_ns INTEGER
    CHECK ((void_at IS NULL) = (void_at_ns IS NULL)
        AND (void_at_ns IS NULL OR void_at_ns BETWEEN 0 AND 1999999999));
ALTER TABLE purchases ADD COLUMN void_by TEXT
    CHECK (void_by IS NULL OR (void_at IS NOT NULL AND length(void_by) BETWEEN 1 AND 200));
ALTER TABLE purchases ADD COLUMN void_reason TEXT
    CHECK (void_reason IS NULL
        OR (void_at IS NOT NULL AND length(CAST(void_reason AS BLOB)) <= 1048576));
DROP INDEX purchases_by_customer;
CREATE INDEX purchases_by_customer ON purchases (customer_id, at, at_ns, amount, void_at);

ALTER TABLE interactions ADD COLUMN void_at INTEGER;
ALTER TABLE interactions ADD COLUMN void_at_ns INTEGER
    CHECK ((void_at IS NULL) = (void_at_ns IS NULL)
        AND (void_at_ns IS NULL OR void_at_ns BETWEEN 0 AND 1999999999));
ALTER TABLE interactions ADD COLUMN void_by TEXT
    CHECK (void_by IS NULL OR (void_at IS NOT NULL AND length(void_by) BETWEEN 1 AND 200));
ALTER TABLE interactions ADD COLUMN void_reason TEXT
    CHECK (void_reason IS NULL
        OR (void_at IS NOT NULL AND length(CAST(void_reason AS BLOB)) <= 1048576));

ALTER TABLE surveys ADD COLUMN void_at INTEGER;
ALTER TABLE surveys ADD COLUMN void_at_ns INTEGER
    CHECK ((void_at IS NULL) = (void_at_ns IS NULL)
        AND (void_at_ns IS NULL OR void_at_ns BETWEEN 0 AND 1999999999));
ALTER TABLE surveys ADD COLUMN void_by TEXT
    CHECK (void_by IS NULL OR (void_at IS NOT NULL AND length(void_by) BETWEEN 1 AND 200));
ALTER TABLE surveys ADD COLUMN void_reason TEXT
    CHECK (void_reason IS NULL
        OR (void_at IS NOT NULL AND length(CAST(void_reason AS BLOB)) <= 1048576));
"#;

/// Version 11: what deals, tasks and the points program gained with the `deal`,
/// `task` and `points tier` commands, all additions (no rebuild):
/// - `deals.lost_reason`: why a lost deal was lost (null if not said; only on a lost
///   deal);
/// - `deal_notes`: a deal's dated notes, in the order they were added;
/// - `tasks.cancelled_at`: when a task was cancelled (null while it is not), an
///   instant in two columns like every other;
/// - `points_tiers`: the tiers of the points program, each a name and the lifetime
///   points from which it applies.
const V11: &str = r#"
ALTER TABLE deals ADD COLUMN lost_reason TEXT
    CHECK (lost_reason IS NULL OR (length(lost_reason) BETWEEN 1 AND 200 AND stage = 'lost'));
CREATE TABLE deal_notes (
    deal_id INTEGER NOT NULL REFERENCES deals (id),
    seq     INTEGER NOT NULL CHECK (seq >= 1),
    at      INTEGER NOT NULL,
    at_ns   INTEGER NOT NULL CHECK (at_ns BETWEEN 0 AND 1999999999),
    text    TEXT NOT NULL CHECK (length(CAST(text AS BLOB)) <= 1048576),
    PRIMARY KEY (deal_id, seq)
) STRICT, WITHOUT ROWID;
ALTER TABLE tasks ADD COLUMN cancelled_at INTEGER;
ALTER TABLE tasks ADD COLUMN cancelled_at_ns INTEGER
    CHECK (cancelled_at_ns BETWEEN 0 AND 1999999999);
CREATE TABLE points_tiers (
    name       TEXT PRIMARY KEY CHECK (length(name) BETWEEN 1 AND 64),
    min_points INTEGER NOT NULL UNIQUE CHECK (min_points >= 0)
) STRICT, WITHOUT ROWID;
"#;

/// Version 12: automation (issue 16), all additions:
/// - `automation_rules`: a user's rule as its JSON (`body`), or a built-in's switch
///   (`body` null), by name;
/// - `automation_firings`: what each rule did, one row per (rule, customer,
///   occurrence) — the primary key is what makes a rule fire once per occurrence —
///   with the business day it fired on, the run's instant and the task it created;
/// - `automation_cursor`: one row, the last event the runner processed and the last
///   day its time rules covered.
const V12: &str = r#"
CREATE TABLE automation_rules (
    name    TEXT PRIMARY KEY CHECK (length(name) BETWEEN 1 AND 64),
    enabled INTEGER NOT NULL CHECK (enabled IN (0, 1)),
    body    TEXT CHECK (body IS NULL OR length(CAST(body AS BLOB)) <= 1048576)
) STRICT, WITHOUT ROWID;
CREATE TABLE automation_firings (
    rule        TEXT NOT NULL CHECK (length(rule) BETWEEN 1 AND 64),
    customer_id INTEGER NOT NULL REFERENCES customers (id),
    occurrence  TEXT NOT NULL CHECK (length(occurrence) BETWEEN 1 AND 64),
    day         TEXT NOT NULL CHECK (length(day) >= 10),
    at          INTEGER NOT NULL,
    at_ns       INTEGER NOT NULL CHECK (at_ns BETWEEN 0 AND 1999999999),
    task_id     INTEGER REFERENCES tasks (id),
    priority    TEXT CHECK (priority IS NULL OR priority IN ('low', 'normal', 'high')),
    PRIMARY KEY (rule, customer_id, occurrence)
) STRICT, WITHOUT ROWID;
CREATE INDEX automation_firings_by_customer ON automation_firings (customer_id);
CREATE TABLE automation_cursor (
    id     INTEGER PRIMARY KEY CHECK (id = 1),
    events INTEGER NOT NULL CHECK (events >= 0),
    day    TEXT CHECK (day IS NULL OR length(day) >= 10)
) STRICT;
"#;

/// Version 13: the holiday calendar stored with the books (issue 18), all additions:
/// - `holidays`: the founder's own holidays by key, each a name and a fixed
///   (`month`/`day`) or lunar (`month`/`day`/`leap`) date;
/// - `holiday_presets`: the chosen preset calendars (`cn`, `western`) and their order.
const V13: &str = r#"
CREATE TABLE holidays (
    key   TEXT PRIMARY KEY CHECK (length(key) BETWEEN 1 AND 64),
    name  TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    kind  TEXT NOT NULL CHECK (kind IN ('fixed', 'lunar')),
    month INTEGER NOT NULL CHECK (month BETWEEN 1 AND 12),
    day   INTEGER NOT NULL CHECK (day BETWEEN 1 AND 31),
    leap  INTEGER NOT NULL CHECK (leap IN (0, 1) AND (leap = 0 OR kind = 'lunar'))
) STRICT, WITHOUT ROWID;
CREATE TABLE holiday_presets (
    preset   TEXT PRIMARY KEY CHECK (preset IN ('cn', 'western')),
    position INTEGER NOT NULL UNIQUE CHECK (position >= 0)
) STRICT, WITHOUT ROWID;
"#;

/// Version 14: the points validity (issue 16), an addition to `store_info`: points
/// are valid `points_valid_months` months from the day they were earned, counted from
/// `points_valid_from` for points earned before it; both null (every book before it):
/// points never expire.
const V14: &str = r#"
ALTER TABLE store_info ADD COLUMN points_valid_months INTEGER
    CHECK (points_valid_months IS NULL OR points_valid_months BETWEEN 1 AND 120);
ALTER TABLE store_info ADD COLUMN points_valid_from TEXT
    CHECK (points_valid_from IS NULL OR length(points_valid_from) = 10);
"#;

/// Version 15: sales targets (issue 18), an addition: `targets`, one goal per metric
/// and calendar period (`2026-03`, `2026-Q1`, `2026`), with the period's first day and
/// span (0 month, 1 quarter, 2 year) kept beside it for the listing order.
const V15: &str = r#"
CREATE TABLE targets (
    metric       TEXT NOT NULL
                 CHECK (metric IN ('revenue', 'new_customers', 'deals_won', 'retention_rate')),
    period       TEXT NOT NULL CHECK (length(period) BETWEEN 4 AND 7),
    period_start TEXT NOT NULL CHECK (length(period_start) = 10),
    span         INTEGER NOT NULL CHECK (span IN (0, 1, 2)),
    value        TEXT NOT NULL CHECK (length(value) BETWEEN 1 AND 40),
    PRIMARY KEY (metric, period)
) STRICT, WITHOUT ROWID;
"#;

/// Version 16: survey templates with dimensions and the sheets answered against them,
/// and participations (issue 18), all additions:
/// - `survey_templates`: a template's name and its questions (text, dimension, scale
///   or free text, role) as JSON text;
/// - `survey_sheets`: one customer's answers to one template at one instant, keyed by
///   (customer, instant, template), with the collection method and the answers by
///   question number as JSON text;
/// - `participations`: a customer's event, community activity, suggestion or review,
///   keyed by (customer, instant, kind), with an optional note.
const V16: &str = r#"
CREATE TABLE survey_templates (
    name      TEXT PRIMARY KEY CHECK (length(name) BETWEEN 1 AND 64),
    questions TEXT NOT NULL CHECK (length(questions) > 0)
) STRICT, WITHOUT ROWID;
CREATE TABLE survey_sheets (
    template    TEXT NOT NULL REFERENCES survey_templates (name),
    customer_id INTEGER NOT NULL REFERENCES customers (id),
    at          INTEGER NOT NULL,
    at_ns       INTEGER NOT NULL CHECK (at_ns BETWEEN 0 AND 1999999999),
    method      TEXT NOT NULL
        CHECK (method IN ('questionnaire', 'phone', 'online', 'in_person')),
    answers     TEXT NOT NULL CHECK (length(answers) > 0),
    PRIMARY KEY (customer_id, at, at_ns, template)
) STRICT, WITHOUT ROWID;
CREATE INDEX survey_sheets_by_time ON survey_sheets (at, at_ns, customer_id, template);
CREATE TABLE participations (
    customer_id INTEGER NOT NULL REFERENCES customers (id),
    at          INTEGER NOT NULL,
    at_ns       INTEGER NOT NULL CHECK (at_ns BETWEEN 0 AND 1999999999),
    kind        TEXT NOT NULL CHECK (kind IN ('event', 'community', 'suggestion', 'review')),
    note        TEXT CHECK (length(CAST(note AS BLOB)) <= 1048576),
    PRIMARY KEY (customer_id, at, at_ns, kind)
) STRICT, WITHOUT ROWID;
CREATE INDEX participations_by_time ON participations (at, at_ns, customer_id, kind);
"#;

/// Version 17: offers (coupons) and their redemptions (issue 18), all additions:
/// - `offers`: by code, the benefit (`percent` as decimal text, `amount` in minor
///   units, or a `gift` description), the validity window in business days, the
///   limits and the audience (a segment condition, stored as JSON like a segment's);
/// - `offer_redemptions`: one per purchase at most (the key), with the offer, the
///   customer and the discount given; counted per offer and per customer when a new
///   one is inserted conditionally.
const V17: &str = r#"
CREATE TABLE offers (
    code          TEXT PRIMARY KEY CHECK (length(code) BETWEEN 1 AND 32),
    kind          TEXT NOT NULL CHECK (kind IN ('percent', 'amount', 'gift')),
    percent       TEXT CHECK ((percent IS NOT NULL) = (kind = 'percent')),
    amount        INTEGER CHECK ((amount IS NOT NULL) = (kind = 'amount') AND (amount IS NULL OR amount > 0)),
    gift          TEXT CHECK ((gift IS NOT NULL) = (kind = 'gift') AND (gift IS NULL OR length(gift) BETWEEN 1 AND 200)),
    valid_from    TEXT NOT NULL,
    valid_until   TEXT NOT NULL CHECK (valid_until >= valid_from),
    per_customer  INTEGER CHECK (per_customer BETWEEN 1 AND 4294967295),
    total_limit   INTEGER CHECK (total_limit BETWEEN 1 AND 4294967295),
    audience      TEXT,
    created_at    INTEGER NOT NULL,
    created_at_ns INTEGER NOT NULL CHECK (created_at_ns BETWEEN 0 AND 1999999999),
    ended_at      INTEGER,
    ended_at_ns   INTEGER CHECK ((ended_at IS NULL) = (ended_at_ns IS NULL))
) STRICT, WITHOUT ROWID;
CREATE TABLE offer_redemptions (
    purchase_id INTEGER PRIMARY KEY REFERENCES purchases (id),
    code        TEXT NOT NULL REFERENCES offers (code),
    customer_id INTEGER NOT NULL REFERENCES customers (id),
    at          INTEGER NOT NULL,
    at_ns       INTEGER NOT NULL CHECK (at_ns BETWEEN 0 AND 1999999999),
    discount    INTEGER NOT NULL CHECK (discount >= 0)
) STRICT;
CREATE INDEX offer_redemptions_by_code ON offer_redemptions (code, customer_id);
"#;

/// Version 18: the product catalogue and purchase lines (issue 18), all additions:
/// - `products`: by SKU, a name, an optional category, the list price and unit cost in
///   minor units, and whether it is archived (kept for the lines that name it);
/// - `purchase_lines`: the lines of a purchase in order (`position` from 0), each a
///   product, a whole quantity, the unit price charged and an optional line discount,
///   in minor units; indexed by SKU for "does a line name this product".
const V18: &str = r#"
CREATE TABLE products (
    sku      TEXT PRIMARY KEY CHECK (length(sku) BETWEEN 1 AND 64),
    name     TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    category TEXT CHECK (length(category) BETWEEN 1 AND 200),
    price    INTEGER NOT NULL CHECK (price >= 0),
    cost     INTEGER CHECK (cost >= 0),
    archived INTEGER NOT NULL CHECK (archived IN (0, 1))
) STRICT, WITHOUT ROWID;
CREATE TABLE purchase_lines (
    purchase_id INTEGER NOT NULL REFERENCES purchases (id),
    position    INTEGER NOT NULL CHECK (position >= 0),
    sku         TEXT NOT NULL REFERENCES products (sku),
    quantity    INTEGER NOT NULL CHECK (quantity BETWEEN 1 AND 4294967295),
    unit_price  INTEGER NOT NULL CHECK (unit_price >= 0),
    discount    INTEGER CHECK (discount >= 0),
    PRIMARY KEY (purchase_id, position)
) STRICT, WITHOUT ROWID;
CREATE INDEX purchase_lines_by_sku ON purchase_lines (sku);
"#;

/// Version 19: needs and pain points (issue 18), an addition: `needs`, one entry of a
/// customer (and optionally one of their deals) by id, with its kind, tag-like key,
/// optional note, recording instant and the optional instants of its resolution and
/// void; indexed by customer for a segment's and a customer page's read.
const V19: &str = r#"
CREATE TABLE needs (
    id          INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers (id),
    deal_id     INTEGER REFERENCES deals (id),
    kind        TEXT NOT NULL CHECK (kind IN ('need', 'pain_point')),
    key         TEXT NOT NULL CHECK (length(key) BETWEEN 1 AND 64),
    note        TEXT CHECK (length(CAST(note AS BLOB)) <= 1048576),
    at          INTEGER NOT NULL,
    at_ns       INTEGER NOT NULL CHECK (at_ns BETWEEN 0 AND 1999999999),
    resolved_at INTEGER,
    resolved_ns INTEGER CHECK (resolved_ns BETWEEN 0 AND 1999999999),
    voided_at   INTEGER,
    voided_ns   INTEGER CHECK (voided_ns BETWEEN 0 AND 1999999999),
    CHECK ((resolved_at IS NULL) = (resolved_ns IS NULL)),
    CHECK ((voided_at IS NULL) = (voided_ns IS NULL))
) STRICT;
CREATE INDEX needs_by_customer ON needs (customer_id, id);
"#;

/// Version 20: campaigns and attribution (issue 18, ADR 0034), an addition:
/// `campaigns` (a channel, a period of days, an optional budget in minor units) and
/// `attributions`, one row per customer, deal or cost attributed to a campaign, so
/// that no existing table widens.
const V20: &str = r#"
CREATE TABLE campaigns (
    id        INTEGER PRIMARY KEY CHECK (id > 0),
    name      TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    name_key  TEXT NOT NULL UNIQUE,
    channel   TEXT NOT NULL CHECK (length(channel) BETWEEN 1 AND 200),
    start_day TEXT NOT NULL CHECK (length(start_day) = 10),
    end_day   TEXT CHECK (end_day IS NULL OR (length(end_day) = 10 AND end_day >= start_day)),
    budget    INTEGER CHECK (budget >= 0),
    note      TEXT
) STRICT;
CREATE TABLE attributions (
    kind        TEXT NOT NULL CHECK (kind IN ('customer', 'deal', 'cost')),
    subject_id  INTEGER NOT NULL,
    campaign_id INTEGER NOT NULL REFERENCES campaigns (id),
    PRIMARY KEY (kind, subject_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX attributions_by_campaign ON attributions (campaign_id);
"#;

/// Version 21: the open points lots kept by each points write (ADR 0043), an
/// addition: `points_lots`, what is left of each credit of a customer's ledger under
/// first in, first out ([`solocrm_core::open_lots`] in the business time zone),
/// keyed in the order the debits take them, and indexed by the day earned, so that
/// the daily run reads the lots lapsing soon from an index range instead of
/// replaying every holder's ledger. Filled from the ledgers by the migration's step.
const V21: &str = r#"
CREATE TABLE points_lots (
    customer_id INTEGER NOT NULL,
    earned_day  TEXT NOT NULL CHECK (length(earned_day) = 10),
    entry_id    INTEGER NOT NULL,
    points      INTEGER NOT NULL CHECK (points > 0),
    PRIMARY KEY (customer_id, earned_day, entry_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX points_lots_by_day ON points_lots (earned_day);
"#;

/// Version 22: an archived mark on survey templates (ADR 0045), a column with a
/// default, so every template already stored is not archived. Plain `ADD COLUMN`
/// (SQLite 3.37 has it, with a `CHECK` and a constant default).
const V22: &str = r#"
ALTER TABLE survey_templates ADD COLUMN archived INTEGER NOT NULL DEFAULT 0 CHECK (archived IN (0, 1));
"#;

/// Version 23: every customer's purchase totals kept by the writes (ADR 0046), an
/// addition: `purchase_totals`, one row per customer with a purchase that is not
/// voided (their count, exact sum in minor units, first and last instant), kept by
/// three triggers on `purchases` in the same statement as each write (an insert adds
/// to the row; an update that moves a purchase's customer, instant, amount or void
/// mark, and a delete, recount the customers concerned from their index range). A
/// customer's sum past the 64-bit range (about 9.2e18 minor units) fails the write,
/// which the store reports as a validation error
/// ([`PurchaseTotalOutOfRange`](solocrm_core::ValidationError::PurchaseTotalOutOfRange));
/// the memory store, which sums in `Decimal`, would accept it. A bulk import drops
/// the triggers with the purchase indexes and refills the table once at its end
/// ([`FILL_PURCHASE_TOTALS`]); so does this migration's step.
/// Plain SQL of SQLite 3.24 (an upsert in a trigger) and 3.15 (row values).
const V23: &str = r#"
CREATE TABLE purchase_totals (
    customer_id INTEGER PRIMARY KEY,
    purchases   INTEGER NOT NULL CHECK (purchases > 0),
    amount      INTEGER NOT NULL CHECK (amount >= 0),
    first_at    INTEGER NOT NULL,
    first_at_ns INTEGER NOT NULL,
    last_at     INTEGER NOT NULL,
    last_at_ns  INTEGER NOT NULL
) STRICT;
CREATE TRIGGER purchase_totals_insert AFTER INSERT ON purchases
WHEN NEW.void_at IS NULL BEGIN
    INSERT INTO purchase_totals
        (customer_id, purchases, amount, first_at, first_at_ns, last_at, last_at_ns)
    VALUES (NEW.customer_id, 1, NEW.amount, NEW.at, NEW.at_ns, NEW.at, NEW.at_ns)
    ON CONFLICT (customer_id) DO UPDATE SET
        purchases = purchases + 1,
        amount = amount + excluded.amount,
        first_at = CASE WHEN (excluded.first_at, excluded.first_at_ns) < (first_at, first_at_ns)
            THEN excluded.first_at ELSE first_at END,
        first_at_ns = CASE WHEN (excluded.first_at, excluded.first_at_ns) < (first_at, first_at_ns)
            THEN excluded.first_at_ns ELSE first_at_ns END,
        last_at = CASE WHEN (excluded.last_at, excluded.last_at_ns) > (last_at, last_at_ns)
            THEN excluded.last_at ELSE last_at END,
        last_at_ns = CASE WHEN (excluded.last_at, excluded.last_at_ns) > (last_at, last_at_ns)
            THEN excluded.last_at_ns ELSE last_at_ns END;
END;
CREATE TRIGGER purchase_totals_update AFTER UPDATE OF customer_id, at, at_ns, amount, void_at
ON purchases
WHEN OLD.customer_id IS NOT NEW.customer_id OR OLD.at IS NOT NEW.at
    OR OLD.at_ns IS NOT NEW.at_ns OR OLD.amount IS NOT NEW.amount
    OR (OLD.void_at IS NULL) IS NOT (NEW.void_at IS NULL) BEGIN
    DELETE FROM purchase_totals WHERE customer_id IN (OLD.customer_id, NEW.customer_id);
    INSERT INTO purchase_totals
        (customer_id, purchases, amount, first_at, first_at_ns, last_at, last_at_ns)
    SELECT c.id, a.n, a.total, f.at, f.at_ns, l.at, l.at_ns
    FROM (SELECT OLD.customer_id AS id UNION SELECT NEW.customer_id) AS c
    JOIN (SELECT customer_id, count(*) AS n, sum(amount) AS total FROM purchases
          WHERE customer_id IN (OLD.customer_id, NEW.customer_id) AND void_at IS NULL
          GROUP BY customer_id) AS a ON a.customer_id = c.id
    JOIN purchases AS f ON f.id = (SELECT p.id FROM purchases AS p
          WHERE p.customer_id = c.id AND p.void_at IS NULL ORDER BY p.at, p.at_ns LIMIT 1)
    JOIN purchases AS l ON l.id = (SELECT p.id FROM purchases AS p
          WHERE p.customer_id = c.id AND p.void_at IS NULL
          ORDER BY p.at DESC, p.at_ns DESC LIMIT 1);
END;
CREATE TRIGGER purchase_totals_delete AFTER DELETE ON purchases
WHEN OLD.void_at IS NULL BEGIN
    DELETE FROM purchase_totals WHERE customer_id = OLD.customer_id;
    INSERT INTO purchase_totals
        (customer_id, purchases, amount, first_at, first_at_ns, last_at, last_at_ns)
    SELECT a.customer_id, a.n, a.total, f.at, f.at_ns, l.at, l.at_ns
    FROM (SELECT customer_id, count(*) AS n, sum(amount) AS total FROM purchases
          WHERE customer_id = OLD.customer_id AND void_at IS NULL GROUP BY customer_id) AS a
    JOIN purchases AS f ON f.id = (SELECT p.id FROM purchases AS p
          WHERE p.customer_id = a.customer_id AND p.void_at IS NULL
          ORDER BY p.at, p.at_ns LIMIT 1)
    JOIN purchases AS l ON l.id = (SELECT p.id FROM purchases AS p
          WHERE p.customer_id = a.customer_id AND p.void_at IS NULL
          ORDER BY p.at DESC, p.at_ns DESC LIMIT 1);
END;
"#;

/// Refills `purchase_totals` from the purchases: one grouped pass over the covering
/// customer index, then the nanoseconds of each customer's first and last second
/// from two seeks. Migration 23's step, and the end of a bulk import.
pub(crate) const FILL_PURCHASE_TOTALS: &str = r#"
DELETE FROM purchase_totals;
INSERT INTO purchase_totals
    (customer_id, purchases, amount, first_at, first_at_ns, last_at, last_at_ns)
SELECT customer_id, count(*), sum(amount), min(at), 0, max(at), 0
FROM purchases WHERE void_at IS NULL GROUP BY customer_id;
UPDATE purchase_totals SET
    first_at_ns = (SELECT min(p.at_ns) FROM purchases AS p WHERE p.customer_id = purchase_totals.customer_id AND p.void_at IS NULL AND p.at = purchase_totals.first_at),
    last_at_ns = (SELECT max(p.at_ns) FROM purchases AS p WHERE p.customer_id = purchase_totals.customer_id AND p.void_at IS NULL AND p.at = purchase_totals.last_at);
"#;

/// Version 24: a void mark on survey sheets (ADR 0050), the [`Void`] as JSON text
/// (when, who, why), like the sheet's answers; absent on every sheet already stored.
/// Plain `ADD COLUMN` of a nullable column with a `CHECK` (SQLite 3.37 has it).
///
/// [`Void`]: solocrm_core::Void
const V24: &str = r#"
ALTER TABLE survey_sheets ADD COLUMN voided TEXT CHECK (voided IS NULL OR length(voided) > 0);
"#;

/// Version 25: narrow indexes for the reads that visit every customer or every
/// contact (ADR 0069), additions only, no row changed:
/// - `customers_light`: the id, stage, erasure, name, creation, birthday and
///   acquisition columns of every customer, in id order. The light reads (ids,
///   stages, dates, names, a report's columns, the churned customers) scan it instead
///   of the table, whose rows also carry profiles, notes and contact details (a sixth
///   of the pages on the demo's book).
/// - `stage_changes_by_time`: the changes dated at or after an instant (the ones that
///   block a move, an as-of view's rewind) by a range, not a scan of the history.
/// - `stage_changes_churned`: the changes to `churned`, partial, covering what
///   `churned_at` reads.
/// - `interactions_by_customer` again with the void mark, so that each customer's
///   last contact is read from the index rather than from the table with its
///   summaries.
///
/// Plain SQL of SQLite 3.8 (partial indexes).
const V25: &str = r#"
CREATE INDEX customers_light ON customers (id, stage, erased_at, name, created_at,
    created_at_ns, birthday, acquisition_channel, acquisition_cost);
CREATE INDEX stage_changes_by_time ON stage_changes (at, at_ns);
CREATE INDEX stage_changes_churned ON stage_changes (customer_id, at, at_ns)
    WHERE to_stage = 'churned';
DROP INDEX interactions_by_customer;
CREATE INDEX interactions_by_customer ON interactions (customer_id, at, at_ns, void_at);
"#;

/// Version 26: `customers_light` also holds each customer's external reference and
/// email (ADR 0069, amended), so that the keys analytic output prints (`rfm --json`,
/// `clv`, `segment show`) are read from the narrow index, not the table: the reads
/// of every customer's keys were a scan of the whole table (a quarter of `rfm
/// --json`'s time). The index is made again; no row changed. Plain SQL of SQLite 3.8.
const V26: &str = r#"
DROP INDEX customers_light;
CREATE INDEX customers_light ON customers (id, stage, erased_at, name, created_at,
    created_at_ns, birthday, acquisition_channel, acquisition_cost, external_ref, email);
"#;

/// Version 27: every `CHECK` list of three or more names spelled out as equalities
/// (ADR 0081): `stage IN ('prospect', …)` becomes `(stage = 'prospect' OR …)`, the
/// same constraint, which SQLite evaluates with a few comparisons instead of building
/// a temporary B-tree of the list each time a single-row `INSERT` or `UPDATE` runs.
/// Only the tables' text in `sqlite_schema` changes (no row is read or written), in
/// the Rust step; the SQL is empty.
const V27: &str = "";

/// Migration 27's step: the `CREATE TABLE` text of each table with such a list
/// replaced by its rewrite, by SQLite's documented way to change a constraint that
/// every stored row already meets (`writable_schema`, then the schema version one up,
/// so that every connection, this one included, reads the schema again).
fn spell_out_check_lists(conn: &Connection) -> Result<(), OpenError> {
    let mut stmt = conn
        .prepare(
            "SELECT name, sql FROM sqlite_schema WHERE type = 'table' AND sql IS NOT NULL \
             ORDER BY name",
        )
        .map_err(OpenError::db)?;
    let tables = stmt
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
        .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
        .map_err(OpenError::db)?;
    let changed: Vec<(String, String)> = tables
        .into_iter()
        .filter_map(|(name, sql)| Some((name, crate::port::checks::spell_out_lists(&sql)?)))
        .collect();
    if changed.is_empty() {
        return Ok(());
    }
    let version: i64 = conn
        .pragma_query_value(None, "schema_version", |r| r.get(0))
        .map_err(OpenError::db)?;
    conn.pragma_update(None, "writable_schema", true)
        .map_err(OpenError::db)?;
    let written = changed
        .iter()
        .try_for_each(|(name, sql)| {
            conn.execute(
                "UPDATE sqlite_schema SET sql = ?1 WHERE type = 'table' AND name = ?2",
                [sql, name],
            )
            .map(drop)
        })
        .and_then(|()| conn.pragma_update(None, "schema_version", version + 1));
    let off = conn.pragma_update(None, "writable_schema", false);
    written.map_err(OpenError::db)?;
    off.map_err(OpenError::db)?;
    // A read of a table makes this connection notice the new version and read the
    // schema again now, rather than in the first statement after the migration (which
    // SQLite would then prepare a second time).
    conn.query_row("SELECT count(*) FROM store_info", [], |_| Ok(()))
        .map_err(OpenError::db)
}

/// Migration 21's step: the kept lots of the ledgers already stored.
fn fill_points_lots(conn: &Connection) -> Result<(), OpenError> {
    let failed = |e: crate::error::Fail| match e {
        crate::error::Fail::Db(e) => OpenError::db(e),
        crate::error::Fail::Corrupt(c) => OpenError::corrupt(c.0),
        crate::error::Fail::Store(e) => OpenError::Migration {
            version: 21,
            reason: e.to_string(),
        },
    };
    let zone = time_zone(conn).map_err(failed)?;
    crate::port::loyalty::rebuild_lots(conn, zone).map_err(failed)
}

/// Migration 23's step: the totals of the purchases already stored.
fn fill_purchase_totals(conn: &Connection) -> Result<(), OpenError> {
    conn.execute_batch(FILL_PURCHASE_TOTALS)
        .map_err(OpenError::db)
}

/// Every migration, in order. The last one's version is [`SCHEMA_VERSION`].
pub(crate) const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        sql: V1,
        rebuilds: false,
        step: None,
    },
    Migration {
        version: 2,
        sql: V2,
        rebuilds: false,
        step: None,
    },
    Migration {
        version: 3,
        sql: V3,
        rebuilds: false,
        step: None,
    },
    Migration {
        version: 4,
        sql: V4,
        rebuilds: true,
        step: None,
    },
    Migration {
        version: 5,
        sql: V5,
        rebuilds: false,
        step: Some(crate::spellings::unify),
    },
    Migration {
        version: 6,
        sql: V6,
        rebuilds: false,
        step: None,
    },
    Migration {
        version: 7,
        sql: V7,
        rebuilds: true,
        step: None,
    },
    Migration {
        version: 8,
        sql: V8,
        rebuilds: false,
        step: None,
    },
    Migration {
        version: 9,
        sql: V9,
        rebuilds: false,
        step: None,
    },
    Migration {
        version: 10,
        sql: V10,
        rebuilds: false,
        step: None,
    },
    Migration {
        version: 11,
        sql: V11,
        rebuilds: false,
        step: None,
    },
    Migration {
        version: 12,
        sql: V12,
        rebuilds: false,
        step: None,
    },
    Migration {
        version: 13,
        sql: V13,
        rebuilds: false,
        step: None,
    },
    Migration {
        version: 14,
        sql: V14,
        rebuilds: false,
        step: None,
    },
    Migration {
        version: 15,
        sql: V15,
        rebuilds: false,
        step: None,
    },
    Migration {
        version: 16,
        sql: V16,
        rebuilds: false,
        step: None,
    },
    Migration {
        version: 17,
        sql: V17,
        rebuilds: false,
        step: None,
    },
    Migration {
        version: 18,
        sql: V18,
        rebuilds: false,
        step: None,
    },
    Migration {
        version: 19,
        sql: V19,
        rebuilds: false,
        step: None,
    },
    Migration {
        version: 20,
        sql: V20,
        rebuilds: false,
        step: None,
    },
    Migration {
        version: 21,
        sql: V21,
        rebuilds: false,
        step: Some(fill_points_lots),
    },
    Migration {
        version: 22,
        sql: V22,
        rebuilds: false,
        step: None,
    },
    Migration {
        version: 23,
        sql: V23,
        rebuilds: false,
        step: Some(fill_purchase_totals),
    },
    Migration {
        version: 24,
        sql: V24,
        rebuilds: false,
        step: None,
    },
    Migration {
        version: 25,
        sql: V25,
        rebuilds: false,
        step: None,
    },
    Migration {
        version: 26,
        sql: V26,
        rebuilds: false,
        step: None,
    },
    Migration {
        version: 27,
        sql: V27,
        rebuilds: false,
        step: Some(spell_out_check_lists),
    },
];

/// The schema version this build writes and reads.
pub const SCHEMA_VERSION: u32 = 27;

pub(crate) fn user_version(conn: &Connection) -> rusqlite::Result<i64> {
    conn.pragma_query_value(None, "user_version", |r| r.get(0))
}

fn application_id(conn: &Connection) -> rusqlite::Result<i64> {
    conn.pragma_query_value(None, "application_id", |r| r.get(0))
}

/// Brings the schema up to `target`, one transaction per migration. With `create`,
/// the file must be empty and migration 1 also records the base currency (in the same
/// transaction), so a new file is either complete or empty.
pub(crate) fn migrate(
    conn: &mut Connection,
    target: u32,
    create: Option<&str>,
) -> Result<(), OpenError> {
    for m in MIGRATIONS.iter().filter(|m| m.version <= target) {
        // A plain read first: a database that is already current is opened without
        // the write lock, so opening never waits for another program's long write
        // (an import). The write lock is taken only when a migration is due.
        if user_version(conn).map_err(OpenError::db)? >= i64::from(m.version) {
            continue;
        }
        if m.rebuilds {
            // Off for the rebuild (dropping a table that others refer to would fail
            // otherwise), back to what it was afterwards, whatever happens.
            let enforced: bool = conn
                .pragma_query_value(None, "foreign_keys", |r| r.get(0))
                .map_err(OpenError::db)?;
            conn.pragma_update(None, "foreign_keys", false)
                .map_err(OpenError::db)?;
            let done = apply(conn, m, create);
            let restored = conn
                .pragma_update(None, "foreign_keys", enforced)
                .map_err(OpenError::db);
            done?;
            restored?;
        } else {
            apply(conn, m, create)?;
        }
    }
    Ok(())
}

/// Applies migration `m` in one write transaction, unless another connection already
/// did.
fn apply(conn: &mut Connection, m: &Migration, create: Option<&str>) -> Result<(), OpenError> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(OpenError::db)?;
    // Read the version inside the write transaction, so that two processes
    // opening the same old file do not both migrate it.
    let current = user_version(&tx).map_err(OpenError::db)?;
    if current >= i64::from(m.version) {
        return Ok(());
    }
    if current != i64::from(m.version) - 1 {
        return Err(OpenError::corrupt(format!(
            "schema version {current} cannot be migrated by migration {}",
            m.version
        )));
    }
    if m.version == 1 {
        match create {
            Some(currency) => {
                let has_tables: bool = tx
                    .query_row("SELECT count(*) > 0 FROM sqlite_schema", [], |r| r.get(0))
                    .map_err(OpenError::db)?;
                if has_tables {
                    return Err(OpenError::NotSolocrm);
                }
                tx.pragma_update(None, "application_id", APPLICATION_ID)
                    .map_err(OpenError::db)?;
                tx.execute_batch(m.sql).map_err(OpenError::db)?;
                tx.execute(
                    "INSERT INTO store_info (id, base_currency) VALUES (1, ?1)",
                    [currency],
                )
                .map_err(OpenError::db)?;
            }
            None => return Err(OpenError::NotSolocrm),
        }
    } else {
        tx.execute_batch(m.sql).map_err(OpenError::db)?;
    }
    if let Some(step) = m.step {
        step(&tx)?;
    }
    if m.rebuilds {
        // The rebuilt tables kept every id, so every reference still holds; if one does
        // not (a file edited by hand), nothing is changed.
        let broken: i64 = tx
            .query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| {
                r.get(0)
            })
            .map_err(OpenError::db)?;
        if broken > 0 {
            return Err(OpenError::corrupt(format!(
                "{broken} rows refer to rows that do not exist; migration {} needs every \
                 reference to hold",
                m.version
            )));
        }
    }
    tx.pragma_update(None, "user_version", m.version)
        .map_err(OpenError::db)?;
    tx.commit().map_err(OpenError::db)?;
    Ok(())
}

/// Checks that an existing file is a solocrm database this build can read, and
/// returns its schema version.
pub(crate) fn check_existing(conn: &Connection) -> Result<u32, OpenError> {
    let version = user_version(conn).map_err(OpenError::db)?;
    let app = application_id(conn).map_err(OpenError::db)?;
    if app != i64::from(APPLICATION_ID) || version < 1 {
        let restored_from_dump = app == 0
            && version == 0
            && conn
                .query_row(
                    "SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'store_info'",
                    [],
                    |_| Ok(()),
                )
                .optional()
                .map_err(OpenError::db)?
                .is_some();
        return Err(if restored_from_dump {
            OpenError::HeaderLost
        } else {
            OpenError::NotSolocrm
        });
    }
    let version = u32::try_from(version).map_err(|_| OpenError::NotSolocrm)?;
    if version > SCHEMA_VERSION {
        return Err(OpenError::NewerSchema {
            found: version,
            supported: SCHEMA_VERSION,
        });
    }
    Ok(version)
}

/// The base currency recorded when the store was created.
pub(crate) fn base_currency(conn: &Connection) -> Result<String, OpenError> {
    conn.query_row(
        "SELECT base_currency FROM store_info WHERE id = 1",
        [],
        |r| r.get::<_, String>(0),
    )
    .optional()
    .map_err(OpenError::db)?
    .ok_or_else(|| OpenError::corrupt("the database records no base currency".to_owned()))
}

/// The book id: the random identity the database got when it was created (or
/// migrated to version 3).
pub(crate) fn book_id(conn: &Connection) -> rusqlite::Result<Option<String>> {
    conn.query_row("SELECT book_id FROM store_info WHERE id = 1", [], |r| {
        r.get::<_, Option<String>>(0)
    })
    .optional()
    .map(Option::flatten)
}

/// The business time zone of the books.
pub(crate) fn time_zone(conn: &Connection) -> crate::error::Res<solocrm_core::BusinessZone> {
    let name: String = conn
        .prepare_cached("SELECT time_zone FROM store_info WHERE id = 1")?
        .query_row([], |r| r.get(0))?;
    solocrm_core::BusinessZone::from_stored(&name)
        .map_err(|e| crate::error::Corrupt(format!("time zone: {e}")).into())
}

/// Sets the business time zone of the books.
pub(crate) fn set_time_zone(
    conn: &Connection,
    zone: solocrm_core::BusinessZone,
) -> crate::error::Res<()> {
    let changed = conn
        .prepare_cached("UPDATE store_info SET time_zone = ?1 WHERE id = 1")?
        .execute([zone.name()])?;
    if changed == 1 {
        Ok(())
    } else {
        Err(crate::error::Corrupt("the database has no store_info row".to_owned()).into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_are_numbered_one_by_one_up_to_the_schema_version() {
        for (i, m) in MIGRATIONS.iter().enumerate() {
            assert_eq!(m.version as usize, i + 1);
        }
        assert_eq!(MIGRATIONS.last().map(|m| m.version), Some(SCHEMA_VERSION));
    }

    /// SQL functions and syntax newer than SQLite 3.37 (Debian 12 ships 3.40, Python
    /// 3.11 bundles similar): a schema that used one could not be checked, dumped or
    /// written by those tools.
    const NEWER_THAN_3_37: &[&str] = &[
        "octet_length(",
        "unixepoch(",
        "->",
        "concat(",
        "concat_ws(",
        "format(",
        "timediff(",
        "string_agg(",
        "unhex(",
        "jsonb",
        "json_pretty(",
        "median(",
        "percentile",
        " if(",
        "(if(",
    ];

    /// The (name, text) pairs `query` reads from the schema.
    fn names_and_sql(conn: &Connection, query: &str) -> Vec<(String, String)> {
        let mut stmt = conn.prepare(query).expect("the schema query");
        stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
            .expect("rows")
            .collect::<rusqlite::Result<Vec<_>>>()
            .expect("the schema")
    }

    #[test]
    fn a_fresh_schema_uses_nothing_newer_than_sqlite_3_37() {
        let mut conn = Connection::open_in_memory().expect("a connection");
        migrate(&mut conn, SCHEMA_VERSION, Some("EUR")).expect("the schema");
        let rows = names_and_sql(
            &conn,
            "SELECT name, lower(sql) FROM sqlite_schema WHERE sql IS NOT NULL",
        );
        assert!(rows.len() > 20, "{} schema entries", rows.len());
        for (name, sql) in &rows {
            let compact: String = sql.split_whitespace().collect::<Vec<_>>().join(" ");
            for bad in NEWER_THAN_3_37 {
                assert!(!compact.contains(bad), "{name} uses {bad}: {sql}");
            }
            // json_valid(NULL) fails a CHECK before 3.45: nullable JSON says so.
            assert!(
                !compact.contains("check (json_valid(profile))"),
                "{name}: {sql}"
            );
        }
    }

    /// Migration 27 leaves no `CHECK` list SQLite would build a B-tree for, the
    /// connection that ran it uses the new text at once, and the constraints still
    /// refuse what they refused.
    #[test]
    fn no_table_keeps_a_check_list_of_three_or_more_literals() {
        let mut conn = Connection::open_in_memory().expect("a connection");
        migrate(&mut conn, 26, Some("EUR")).expect("the schema before");
        let before: String = conn
            .query_row(
                "SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = 'customers'",
                [],
                |r| r.get(0),
            )
            .expect("the customers table");
        assert!(crate::port::checks::spell_out_lists(&before).is_some());
        migrate(&mut conn, SCHEMA_VERSION, None).expect("the schema");
        let tables = names_and_sql(
            &conn,
            "SELECT name, sql FROM sqlite_schema WHERE type = 'table' AND sql IS NOT NULL",
        );
        for (name, sql) in &tables {
            assert_eq!(crate::port::checks::spell_out_lists(sql), None, "{name}");
        }
        let insert = "INSERT INTO customers (id, name, notes, created_at, created_at_ns, stage) \
                      VALUES (1, 'Li Wei', '', 0, 0, ?1)";
        let plan: Vec<String> = conn
            .prepare(&format!("EXPLAIN {insert}"))
            .and_then(|mut s| {
                s.query_map(["new"], |r| r.get::<_, String>(1))?
                    .collect::<rusqlite::Result<Vec<_>>>()
            })
            .expect("the plan");
        assert!(plan.iter().any(|op| op == "Insert"), "{plan:?}");
        assert!(!plan.iter().any(|op| op == "OpenEphemeral"), "{plan:?}");
        let refused = conn.execute(insert, ["gone"]).expect_err("not a stage");
        assert_eq!(
            refused.sqlite_extended_error_code(),
            Some(rusqlite::ffi::SQLITE_CONSTRAINT_CHECK)
        );
        conn.execute(insert, ["won_back"]).expect("a stage");
        let check: String = conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .expect("the check");
        assert_eq!(check, "ok");
    }
}
