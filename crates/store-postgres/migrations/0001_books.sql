-- solocrm PostgreSQL schema, version 1.
--
-- Every table but solocrm_schema is keyed by tenant_id (one business's books), and
-- tenant_id leads every primary key, unique constraint and foreign key, so that Citus
-- can distribute the tables by it unchanged (docs/storage.md). Money is BIGINT minor
-- units of the tenant's base currency; an instant is two BIGINTs, whole seconds since
-- the Unix epoch (rounded down) and the nanoseconds within that second (up to
-- 1 999 999 999 for a leap second), because timestamptz keeps microseconds only.
-- Ids are per tenant: one more than the largest stored, taken while the tenant row
-- is locked (FOR UPDATE), so they are gap-free and never shared between tenants.

CREATE TABLE solocrm_schema (
    version INTEGER NOT NULL CHECK (version >= 1)
);

CREATE TABLE tenants (
    tenant_id     BIGINT NOT NULL CHECK (tenant_id >= 1),
    base_currency TEXT NOT NULL CHECK (base_currency ~ '^[A-Z]{3}$'),
    book_id       TEXT NOT NULL CHECK (book_id ~ '^[0-9a-f]{16}$'),
    time_zone     TEXT NOT NULL DEFAULT 'UTC'
                      CHECK (length(time_zone) BETWEEN 1 AND 64
                             AND time_zone ~ '^[A-Za-z0-9/_+-]+$'),
    PRIMARY KEY (tenant_id)
);

CREATE TABLE customers (
    tenant_id           BIGINT NOT NULL,
    id                  BIGINT NOT NULL CHECK (id >= 1),
    name                TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    email               TEXT CHECK (length(email) BETWEEN 3 AND 254),
    email_key           TEXT,
    phone               TEXT CHECK (length(phone) >= 3),
    company             TEXT CHECK (length(company) BETWEEN 1 AND 200),
    birthday            TEXT CHECK (length(birthday) >= 10),
    profile             TEXT,
    acquisition_channel TEXT CHECK (length(acquisition_channel) BETWEEN 1 AND 64),
    acquisition_cost    BIGINT CHECK (acquisition_cost >= 0),
    external_ref        TEXT CHECK (length(external_ref) BETWEEN 1 AND 200),
    notes               TEXT NOT NULL CHECK (octet_length(notes) <= 1048576),
    created_at          BIGINT NOT NULL,
    created_at_ns       BIGINT NOT NULL CHECK (created_at_ns BETWEEN 0 AND 1999999999),
    stage               TEXT NOT NULL CHECK (stage IN
                            ('prospect','lead','new','active','loyal','at_risk','churned','won_back')),
    erased_at           BIGINT,
    erased_at_ns        BIGINT CHECK (erased_at_ns BETWEEN 0 AND 1999999999),
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, email_key),
    UNIQUE (tenant_id, external_ref),
    FOREIGN KEY (tenant_id) REFERENCES tenants (tenant_id),
    CHECK ((email IS NULL) = (email_key IS NULL)),
    CHECK ((erased_at IS NULL) = (erased_at_ns IS NULL)),
    CHECK (erased_at IS NULL OR (email IS NULL AND phone IS NULL AND company IS NULL
        AND birthday IS NULL AND profile IS NULL AND external_ref IS NULL AND notes = ''))
);

CREATE TABLE customer_tags (
    tenant_id   BIGINT NOT NULL,
    customer_id BIGINT NOT NULL,
    tag         TEXT COLLATE "C" NOT NULL CHECK (length(tag) BETWEEN 1 AND 64),
    PRIMARY KEY (tenant_id, customer_id, tag),
    FOREIGN KEY (tenant_id, customer_id) REFERENCES customers (tenant_id, id)
);
CREATE INDEX customer_tags_by_tag ON customer_tags (tenant_id, tag, customer_id);

CREATE TABLE consents (
    tenant_id   BIGINT NOT NULL,
    customer_id BIGINT NOT NULL,
    seq         BIGINT NOT NULL CHECK (seq >= 1),
    purpose     TEXT NOT NULL CHECK (length(purpose) BETWEEN 1 AND 64),
    granted     BOOLEAN NOT NULL,
    at          BIGINT NOT NULL,
    at_ns       BIGINT NOT NULL CHECK (at_ns BETWEEN 0 AND 1999999999),
    source      TEXT NOT NULL CHECK (length(source) BETWEEN 1 AND 200),
    PRIMARY KEY (tenant_id, customer_id, seq),
    FOREIGN KEY (tenant_id, customer_id) REFERENCES customers (tenant_id, id)
);

CREATE TABLE stage_changes (
    tenant_id   BIGINT NOT NULL,
    customer_id BIGINT NOT NULL,
    seq         BIGINT NOT NULL CHECK (seq >= 1),
    from_stage  TEXT NOT NULL CHECK (from_stage IN
                    ('prospect','lead','new','active','loyal','at_risk','churned','won_back')),
    to_stage    TEXT NOT NULL CHECK (to_stage IN
                    ('prospect','lead','new','active','loyal','at_risk','churned','won_back')),
    at          BIGINT NOT NULL,
    at_ns       BIGINT NOT NULL CHECK (at_ns BETWEEN 0 AND 1999999999),
    reason      TEXT NOT NULL CHECK (reason IN ('manual', 'rule')),
    note        TEXT CHECK (length(note) BETWEEN 1 AND 200),
    rule        TEXT CHECK (rule IN ('first_purchase','repeat_purchase','loyal_behaviour',
                    'overdue','silent','purchase_after_churn')),
    PRIMARY KEY (tenant_id, customer_id, seq),
    FOREIGN KEY (tenant_id, customer_id) REFERENCES customers (tenant_id, id),
    CHECK (from_stage <> to_stage),
    CHECK ((reason = 'rule') = (rule IS NOT NULL)),
    CHECK (reason = 'manual' OR note IS NULL)
);

CREATE TABLE interactions (
    tenant_id   BIGINT NOT NULL,
    id          BIGINT NOT NULL CHECK (id >= 1),
    customer_id BIGINT NOT NULL,
    channel     TEXT NOT NULL CHECK (channel IN
                    ('phone','email','social','chat','wechat','in_person','other')),
    direction   TEXT NOT NULL CHECK (direction IN ('inbound','outbound')),
    at          BIGINT NOT NULL,
    at_ns       BIGINT NOT NULL CHECK (at_ns BETWEEN 0 AND 1999999999),
    summary     TEXT NOT NULL CHECK (octet_length(summary) <= 1048576),
    sentiment   TEXT CHECK (sentiment IN ('negative','neutral','positive')),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, customer_id) REFERENCES customers (tenant_id, id)
);
CREATE INDEX interactions_by_customer ON interactions (tenant_id, customer_id, at, at_ns, id);

CREATE TABLE deals (
    tenant_id      BIGINT NOT NULL,
    id             BIGINT NOT NULL CHECK (id >= 1),
    customer_id    BIGINT NOT NULL,
    title          TEXT NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    value          BIGINT NOT NULL CHECK (value >= 0),
    created_at     BIGINT NOT NULL,
    created_at_ns  BIGINT NOT NULL CHECK (created_at_ns BETWEEN 0 AND 1999999999),
    initial_stage  TEXT NOT NULL CHECK (initial_stage IN
                       ('need_identified','contacted','demo','proposal','negotiation')),
    expected_close TEXT CHECK (length(expected_close) >= 10),
    stage          TEXT NOT NULL CHECK (stage IN
                       ('need_identified','contacted','demo','proposal','negotiation','won','lost')),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, customer_id) REFERENCES customers (tenant_id, id)
);
CREATE INDEX deals_by_customer ON deals (tenant_id, customer_id, id);
CREATE INDEX deals_open ON deals (tenant_id, id) WHERE stage NOT IN ('won', 'lost');

CREATE TABLE deal_moves (
    tenant_id  BIGINT NOT NULL,
    deal_id    BIGINT NOT NULL,
    seq        BIGINT NOT NULL CHECK (seq >= 1),
    from_stage TEXT NOT NULL CHECK (from_stage IN
                   ('need_identified','contacted','demo','proposal','negotiation')),
    to_stage   TEXT NOT NULL CHECK (to_stage IN
                   ('need_identified','contacted','demo','proposal','negotiation','won','lost')),
    at         BIGINT NOT NULL,
    at_ns      BIGINT NOT NULL CHECK (at_ns BETWEEN 0 AND 1999999999),
    PRIMARY KEY (tenant_id, deal_id, seq),
    FOREIGN KEY (tenant_id, deal_id) REFERENCES deals (tenant_id, id),
    CHECK (from_stage <> to_stage)
);

CREATE TABLE purchases (
    tenant_id    BIGINT NOT NULL,
    id           BIGINT NOT NULL CHECK (id >= 1),
    customer_id  BIGINT NOT NULL,
    at           BIGINT NOT NULL,
    at_ns        BIGINT NOT NULL CHECK (at_ns BETWEEN 0 AND 1999999999),
    amount       BIGINT NOT NULL CHECK (amount >= 0),
    cost         BIGINT CHECK (cost >= 0),
    description  TEXT CHECK (octet_length(description) <= 1048576),
    items        BIGINT CHECK (items BETWEEN 0 AND 4294967295),
    external_ref TEXT CHECK (length(external_ref) BETWEEN 1 AND 200),
    deal_id      BIGINT,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, external_ref),
    FOREIGN KEY (tenant_id, customer_id) REFERENCES customers (tenant_id, id),
    FOREIGN KEY (tenant_id, deal_id) REFERENCES deals (tenant_id, id)
);
CREATE INDEX purchases_by_customer ON purchases (tenant_id, customer_id, at, at_ns, id);

CREATE TABLE refunds (
    tenant_id   BIGINT NOT NULL,
    id          BIGINT NOT NULL CHECK (id >= 1),
    purchase_id BIGINT NOT NULL,
    customer_id BIGINT NOT NULL,
    at          BIGINT NOT NULL,
    at_ns       BIGINT NOT NULL CHECK (at_ns BETWEEN 0 AND 1999999999),
    amount      BIGINT NOT NULL CHECK (amount > 0),
    reason      TEXT CHECK (octet_length(reason) <= 1048576),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, purchase_id) REFERENCES purchases (tenant_id, id),
    FOREIGN KEY (tenant_id, customer_id) REFERENCES customers (tenant_id, id)
);
CREATE INDEX refunds_by_purchase ON refunds (tenant_id, purchase_id, id);
CREATE INDEX refunds_by_customer ON refunds (tenant_id, customer_id, at, at_ns, id);

CREATE TABLE surveys (
    tenant_id   BIGINT NOT NULL,
    id          BIGINT NOT NULL CHECK (id >= 1),
    customer_id BIGINT NOT NULL,
    at          BIGINT NOT NULL,
    at_ns       BIGINT NOT NULL CHECK (at_ns BETWEEN 0 AND 1999999999),
    kind        TEXT NOT NULL CHECK (kind IN ('csat','nps','ces')),
    score       BIGINT NOT NULL,
    comment     TEXT CHECK (octet_length(comment) <= 1048576),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, customer_id) REFERENCES customers (tenant_id, id),
    CHECK ((kind = 'csat' AND score BETWEEN 1 AND 5)
        OR (kind = 'nps' AND score BETWEEN 0 AND 10)
        OR (kind = 'ces' AND score BETWEEN 1 AND 7))
);
CREATE INDEX surveys_by_customer ON surveys (tenant_id, customer_id, at, at_ns, id);

CREATE TABLE service_requests (
    tenant_id    BIGINT NOT NULL,
    id           BIGINT NOT NULL CHECK (id >= 1),
    customer_id  BIGINT NOT NULL,
    kind         TEXT NOT NULL CHECK (kind IN ('feedback','question','complaint')),
    subject      TEXT NOT NULL CHECK (length(subject) BETWEEN 1 AND 200),
    description  TEXT NOT NULL CHECK (octet_length(description) <= 1048576),
    deal_id      BIGINT,
    opened_at    BIGINT NOT NULL,
    opened_at_ns BIGINT NOT NULL CHECK (opened_at_ns BETWEEN 0 AND 1999999999),
    status       TEXT NOT NULL CHECK (status IN ('open','responded','resolved')),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, customer_id) REFERENCES customers (tenant_id, id),
    FOREIGN KEY (tenant_id, deal_id) REFERENCES deals (tenant_id, id)
);
CREATE INDEX service_requests_by_customer ON service_requests (tenant_id, customer_id, id);
CREATE INDEX service_requests_open ON service_requests (tenant_id, id) WHERE status <> 'resolved';

CREATE TABLE request_events (
    tenant_id  BIGINT NOT NULL,
    request_id BIGINT NOT NULL,
    seq        BIGINT NOT NULL CHECK (seq >= 1),
    kind       TEXT NOT NULL CHECK (kind IN ('responded','resolved','reopened')),
    at         BIGINT NOT NULL,
    at_ns      BIGINT NOT NULL CHECK (at_ns BETWEEN 0 AND 1999999999),
    PRIMARY KEY (tenant_id, request_id, seq),
    FOREIGN KEY (tenant_id, request_id) REFERENCES service_requests (tenant_id, id)
);

CREATE TABLE tasks (
    tenant_id       BIGINT NOT NULL,
    id              BIGINT NOT NULL CHECK (id >= 1),
    customer_id     BIGINT,
    kind            TEXT NOT NULL CHECK (kind IN ('follow_up','birthday','holiday','custom')),
    title           TEXT NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    due             TEXT NOT NULL CHECK (length(due) >= 10),
    recurrence      TEXT CHECK (recurrence IN ('weekly','monthly','yearly')),
    created_at      BIGINT NOT NULL,
    created_at_ns   BIGINT NOT NULL CHECK (created_at_ns BETWEEN 0 AND 1999999999),
    occurrence      BIGINT NOT NULL CHECK (occurrence BETWEEN 0 AND 4294967295),
    done            BOOLEAN NOT NULL,
    last_done_at    BIGINT,
    last_done_at_ns BIGINT CHECK (last_done_at_ns BETWEEN 0 AND 1999999999),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, customer_id) REFERENCES customers (tenant_id, id),
    CHECK (NOT done OR recurrence IS NULL),
    CHECK (occurrence = 0 OR recurrence IS NOT NULL),
    CHECK ((last_done_at IS NULL) = (last_done_at_ns IS NULL)),
    CHECK (last_done_at IS NOT NULL OR (NOT done AND occurrence = 0))
);
CREATE INDEX tasks_by_customer ON tasks (tenant_id, customer_id, id);

CREATE TABLE points_entries (
    tenant_id     BIGINT NOT NULL,
    id            BIGINT NOT NULL CHECK (id >= 1),
    customer_id   BIGINT NOT NULL,
    at            BIGINT NOT NULL,
    at_ns         BIGINT NOT NULL CHECK (at_ns BETWEEN 0 AND 1999999999),
    kind          TEXT NOT NULL CHECK (kind IN ('earn','redeem','expire','adjust')),
    delta         BIGINT NOT NULL CHECK (delta <> 0),
    reason        TEXT CHECK (length(reason) BETWEEN 1 AND 200),
    balance_after BIGINT NOT NULL CHECK (balance_after >= 0),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, customer_id) REFERENCES customers (tenant_id, id),
    CHECK ((kind = 'earn' AND delta > 0) OR (kind IN ('redeem','expire') AND delta < 0)
        OR kind = 'adjust')
);
CREATE INDEX points_entries_by_customer ON points_entries (tenant_id, customer_id, id);

CREATE TABLE segments (
    tenant_id BIGINT NOT NULL,
    name      TEXT COLLATE "C" NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    predicate TEXT NOT NULL,
    PRIMARY KEY (tenant_id, name),
    FOREIGN KEY (tenant_id) REFERENCES tenants (tenant_id)
);

CREATE TABLE audit_log (
    tenant_id   BIGINT NOT NULL,
    id          BIGINT NOT NULL CHECK (id >= 1),
    at          BIGINT NOT NULL,
    at_ns       BIGINT NOT NULL CHECK (at_ns BETWEEN 0 AND 1999999999),
    action      TEXT NOT NULL CHECK (action IN ('customer_erased')),
    customer_id BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, customer_id) REFERENCES customers (tenant_id, id)
);

CREATE TABLE events (
    tenant_id   BIGINT NOT NULL,
    seq         BIGINT NOT NULL CHECK (seq >= 1),
    at          BIGINT,
    at_ns       BIGINT CHECK (at_ns BETWEEN 0 AND 1999999999),
    type        TEXT NOT NULL CHECK (length(type) BETWEEN 1 AND 64 AND type ~ '^[a-z_]+$'),
    customer_id BIGINT CHECK (customer_id >= 1),
    payload     TEXT NOT NULL,
    PRIMARY KEY (tenant_id, seq),
    FOREIGN KEY (tenant_id) REFERENCES tenants (tenant_id),
    CHECK ((at IS NULL) = (at_ns IS NULL))
);
