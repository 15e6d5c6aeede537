-- Survey templates with dimensions and the sheets answered against them (issue 18,
-- ADR 0030), per tenant. The questions and the answers are JSON text, checked again
-- by the library when read.

CREATE TABLE survey_templates (
    tenant_id BIGINT NOT NULL,
    name      TEXT COLLATE "C" NOT NULL CHECK (length(name) BETWEEN 1 AND 64),
    questions TEXT NOT NULL CHECK (length(questions) > 0),
    PRIMARY KEY (tenant_id, name),
    FOREIGN KEY (tenant_id) REFERENCES tenants (tenant_id)
);

CREATE TABLE survey_sheets (
    tenant_id   BIGINT NOT NULL,
    template    TEXT COLLATE "C" NOT NULL,
    customer_id BIGINT NOT NULL,
    at          BIGINT NOT NULL,
    at_ns       BIGINT NOT NULL CHECK (at_ns BETWEEN 0 AND 1999999999),
    method      TEXT NOT NULL
        CHECK (method IN ('questionnaire', 'phone', 'online', 'in_person')),
    answers     TEXT NOT NULL CHECK (length(answers) > 0),
    PRIMARY KEY (tenant_id, customer_id, at, at_ns, template),
    FOREIGN KEY (tenant_id, customer_id) REFERENCES customers (tenant_id, id),
    FOREIGN KEY (tenant_id, template) REFERENCES survey_templates (tenant_id, name)
);

CREATE INDEX survey_sheets_by_time ON survey_sheets (tenant_id, at, at_ns, customer_id, template);

-- Participations (issue 18): a customer's event, community activity, suggestion or
-- review, keyed by (customer, instant, kind); the note is personal free text.
CREATE TABLE participations (
    tenant_id   BIGINT NOT NULL,
    customer_id BIGINT NOT NULL,
    at          BIGINT NOT NULL,
    at_ns       BIGINT NOT NULL CHECK (at_ns BETWEEN 0 AND 1999999999),
    kind        TEXT COLLATE "C" NOT NULL
        CHECK (kind IN ('event', 'community', 'suggestion', 'review')),
    note        TEXT CHECK (octet_length(note) <= 1048576),
    PRIMARY KEY (tenant_id, customer_id, at, at_ns, kind),
    FOREIGN KEY (tenant_id, customer_id) REFERENCES customers (tenant_id, id)
);

CREATE INDEX participations_by_time ON participations (tenant_id, at, at_ns, customer_id, kind);
