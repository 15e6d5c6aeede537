-- The holiday calendar stored with the books (issue 18), per tenant: the founder's
-- own holidays (a fixed or a lunar date) by key, and the chosen preset calendars in
-- the order chosen.

CREATE TABLE holidays (
    tenant_id BIGINT NOT NULL,
    key       TEXT COLLATE "C" NOT NULL CHECK (length(key) BETWEEN 1 AND 64),
    name      TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    kind      TEXT NOT NULL CHECK (kind IN ('fixed', 'lunar')),
    month     BIGINT NOT NULL CHECK (month BETWEEN 1 AND 12),
    day       BIGINT NOT NULL CHECK (day BETWEEN 1 AND 31),
    leap      BOOLEAN NOT NULL CHECK (NOT leap OR kind = 'lunar'),
    PRIMARY KEY (tenant_id, key),
    FOREIGN KEY (tenant_id) REFERENCES tenants (tenant_id)
);

CREATE TABLE holiday_presets (
    tenant_id BIGINT NOT NULL,
    preset    TEXT COLLATE "C" NOT NULL CHECK (preset IN ('cn', 'western')),
    position  BIGINT NOT NULL CHECK (position >= 0),
    PRIMARY KEY (tenant_id, preset),
    UNIQUE (tenant_id, position),
    FOREIGN KEY (tenant_id) REFERENCES tenants (tenant_id)
);
