-- Needs and pain points (issue 18, ADR 0035), per tenant: one entry of a customer, and
-- optionally of one of their deals, by id, with its kind, tag-like key, optional note,
-- recording instant and the optional instants of its resolution and void. Indexed by
-- customer for a segment's and a customer page's read.

CREATE TABLE needs (
    tenant_id   BIGINT NOT NULL,
    id          BIGINT NOT NULL CHECK (id >= 1),
    customer_id BIGINT NOT NULL,
    deal_id     BIGINT,
    kind        TEXT COLLATE "C" NOT NULL CHECK (kind IN ('need', 'pain_point')),
    key         TEXT COLLATE "C" NOT NULL CHECK (length(key) BETWEEN 1 AND 64),
    note        TEXT CHECK (octet_length(note) <= 1048576),
    at          BIGINT NOT NULL,
    at_ns       BIGINT NOT NULL CHECK (at_ns BETWEEN 0 AND 1999999999),
    resolved_at BIGINT,
    resolved_ns BIGINT CHECK (resolved_ns BETWEEN 0 AND 1999999999),
    voided_at   BIGINT,
    voided_ns   BIGINT CHECK (voided_ns BETWEEN 0 AND 1999999999),
    CHECK ((resolved_at IS NULL) = (resolved_ns IS NULL)),
    CHECK ((voided_at IS NULL) = (voided_ns IS NULL)),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, customer_id) REFERENCES customers (tenant_id, id),
    FOREIGN KEY (tenant_id, deal_id) REFERENCES deals (tenant_id, id)
);

CREATE INDEX needs_by_customer ON needs (tenant_id, customer_id, id);
