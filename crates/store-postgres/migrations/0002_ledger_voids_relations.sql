-- solocrm PostgreSQL schema, version 2: what the SQLite store gained in its versions
-- 9 to 11 (costs; void markers on purchases, interactions and survey answers; deal
-- notes and lost reasons, cancelled tasks, the tiers of the points program). All
-- additions: existing rows read back unchanged (not voided, no notes, no reason, not
-- cancelled, no tiers). tenant_id leads every new key, as in version 1.
--
-- Customer search needs no index of its own: candidates are found by a substring
-- match on the customers' own columns (an erased customer's are cleared), so an
-- erasure leaves no searchable text behind anywhere.

CREATE TABLE costs (
    tenant_id    BIGINT NOT NULL,
    id           BIGINT NOT NULL CHECK (id >= 1),
    at           BIGINT NOT NULL,
    at_ns        BIGINT NOT NULL CHECK (at_ns BETWEEN 0 AND 1999999999),
    amount       BIGINT NOT NULL CHECK (amount > 0),
    category     TEXT NOT NULL CHECK (category IN ('marketing','tools','other')),
    channel      TEXT CHECK (length(channel) BETWEEN 1 AND 64 AND channel = lower(channel)),
    note         TEXT CHECK (octet_length(note) <= 1048576),
    voided_at    BIGINT,
    voided_at_ns BIGINT CHECK (voided_at_ns BETWEEN 0 AND 1999999999),
    void_reason  TEXT CHECK (length(void_reason) BETWEEN 1 AND 200),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id) REFERENCES tenants (tenant_id),
    CHECK ((voided_at IS NULL) = (voided_at_ns IS NULL)),
    CHECK ((voided_at IS NULL) = (void_reason IS NULL))
);
CREATE INDEX costs_by_time ON costs (tenant_id, at, at_ns, id);

ALTER TABLE purchases
    ADD COLUMN void_at BIGINT,
    ADD COLUMN void_at_ns BIGINT CHECK (void_at_ns BETWEEN 0 AND 1999999999),
    ADD COLUMN void_by TEXT CHECK (length(void_by) BETWEEN 1 AND 200),
    ADD COLUMN void_reason TEXT CHECK (octet_length(void_reason) <= 1048576),
    ADD CHECK ((void_at IS NULL) = (void_at_ns IS NULL)),
    ADD CHECK (void_at IS NOT NULL OR (void_by IS NULL AND void_reason IS NULL));

ALTER TABLE interactions
    ADD COLUMN void_at BIGINT,
    ADD COLUMN void_at_ns BIGINT CHECK (void_at_ns BETWEEN 0 AND 1999999999),
    ADD COLUMN void_by TEXT CHECK (length(void_by) BETWEEN 1 AND 200),
    ADD COLUMN void_reason TEXT CHECK (octet_length(void_reason) <= 1048576),
    ADD CHECK ((void_at IS NULL) = (void_at_ns IS NULL)),
    ADD CHECK (void_at IS NOT NULL OR (void_by IS NULL AND void_reason IS NULL));

ALTER TABLE surveys
    ADD COLUMN void_at BIGINT,
    ADD COLUMN void_at_ns BIGINT CHECK (void_at_ns BETWEEN 0 AND 1999999999),
    ADD COLUMN void_by TEXT CHECK (length(void_by) BETWEEN 1 AND 200),
    ADD COLUMN void_reason TEXT CHECK (octet_length(void_reason) <= 1048576),
    ADD CHECK ((void_at IS NULL) = (void_at_ns IS NULL)),
    ADD CHECK (void_at IS NOT NULL OR (void_by IS NULL AND void_reason IS NULL));

ALTER TABLE deals
    ADD COLUMN lost_reason TEXT
        CHECK (lost_reason IS NULL OR (length(lost_reason) BETWEEN 1 AND 200 AND stage = 'lost'));

CREATE TABLE deal_notes (
    tenant_id BIGINT NOT NULL,
    deal_id   BIGINT NOT NULL,
    seq       BIGINT NOT NULL CHECK (seq >= 1),
    at        BIGINT NOT NULL,
    at_ns     BIGINT NOT NULL CHECK (at_ns BETWEEN 0 AND 1999999999),
    text      TEXT NOT NULL CHECK (octet_length(text) <= 1048576),
    PRIMARY KEY (tenant_id, deal_id, seq),
    FOREIGN KEY (tenant_id, deal_id) REFERENCES deals (tenant_id, id)
);

ALTER TABLE tasks
    ADD COLUMN cancelled_at BIGINT,
    ADD COLUMN cancelled_at_ns BIGINT CHECK (cancelled_at_ns BETWEEN 0 AND 1999999999),
    ADD CHECK ((cancelled_at IS NULL) = (cancelled_at_ns IS NULL));

CREATE TABLE points_tiers (
    tenant_id  BIGINT NOT NULL,
    name       TEXT COLLATE "C" NOT NULL CHECK (length(name) BETWEEN 1 AND 64),
    min_points BIGINT NOT NULL CHECK (min_points >= 0),
    PRIMARY KEY (tenant_id, name),
    UNIQUE (tenant_id, min_points),
    FOREIGN KEY (tenant_id) REFERENCES tenants (tenant_id)
);
