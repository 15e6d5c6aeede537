-- Automation (issue 16): rules, their firings and the runner's cursor, per tenant.
-- A firing's (tenant, rule, customer, occurrence) is its primary key: a rule fires
-- at most once per occurrence, whatever the runner does.

CREATE TABLE automation_rules (
    tenant_id BIGINT NOT NULL,
    name      TEXT COLLATE "C" NOT NULL CHECK (length(name) BETWEEN 1 AND 64),
    enabled   BOOLEAN NOT NULL,
    body      TEXT CHECK (body IS NULL OR octet_length(body) <= 1048576),
    PRIMARY KEY (tenant_id, name),
    FOREIGN KEY (tenant_id) REFERENCES tenants (tenant_id)
);

CREATE TABLE automation_firings (
    tenant_id   BIGINT NOT NULL,
    rule        TEXT COLLATE "C" NOT NULL CHECK (length(rule) BETWEEN 1 AND 64),
    customer_id BIGINT NOT NULL,
    occurrence  TEXT COLLATE "C" NOT NULL CHECK (length(occurrence) BETWEEN 1 AND 64),
    day         TEXT NOT NULL CHECK (length(day) >= 10),
    at          BIGINT NOT NULL,
    at_ns       BIGINT NOT NULL CHECK (at_ns BETWEEN 0 AND 1999999999),
    task_id     BIGINT,
    priority    TEXT CHECK (priority IS NULL OR priority IN ('low', 'normal', 'high')),
    PRIMARY KEY (tenant_id, rule, customer_id, occurrence),
    FOREIGN KEY (tenant_id, customer_id) REFERENCES customers (tenant_id, id),
    FOREIGN KEY (tenant_id, task_id) REFERENCES tasks (tenant_id, id)
);
CREATE INDEX automation_firings_by_customer ON automation_firings (tenant_id, customer_id);

CREATE TABLE automation_cursor (
    tenant_id BIGINT NOT NULL,
    events    BIGINT NOT NULL CHECK (events >= 0),
    day       TEXT CHECK (day IS NULL OR length(day) >= 10),
    PRIMARY KEY (tenant_id),
    FOREIGN KEY (tenant_id) REFERENCES tenants (tenant_id)
);
