-- Campaigns and attribution (issue 18, ADR 0034), per tenant: campaigns (a channel, a
-- period of days, an optional budget in minor units, a note), and one attribution row
-- per customer, deal or cost attributed to a campaign, so that no existing table
-- widens. The subject is not a foreign key: its table depends on its kind.

CREATE TABLE campaigns (
    tenant_id BIGINT NOT NULL,
    id        BIGINT NOT NULL CHECK (id >= 1),
    name      TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    name_key  TEXT COLLATE "C" NOT NULL,
    channel   TEXT COLLATE "C" NOT NULL CHECK (length(channel) BETWEEN 1 AND 200),
    start_day TEXT COLLATE "C" NOT NULL CHECK (length(start_day) = 10),
    end_day   TEXT COLLATE "C" CHECK (end_day IS NULL OR (length(end_day) = 10 AND end_day >= start_day)),
    budget    BIGINT CHECK (budget >= 0),
    note      TEXT,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, name_key),
    FOREIGN KEY (tenant_id) REFERENCES tenants (tenant_id)
);

CREATE TABLE attributions (
    tenant_id   BIGINT NOT NULL,
    kind        TEXT COLLATE "C" NOT NULL CHECK (kind IN ('customer', 'deal', 'cost')),
    subject_id  BIGINT NOT NULL CHECK (subject_id >= 1),
    campaign_id BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, kind, subject_id),
    FOREIGN KEY (tenant_id, campaign_id) REFERENCES campaigns (tenant_id, id)
);
