-- Offers (coupons) and their redemptions (issue 18, ADR 0031), per tenant. A
-- redemption is keyed by its purchase (one offer per purchase at most); a new one is
-- inserted only after the offer's row is locked (SELECT … FOR UPDATE) and its uses
-- counted, so two writers cannot both take the last use.

CREATE TABLE offers (
    tenant_id     BIGINT NOT NULL,
    code          TEXT COLLATE "C" NOT NULL CHECK (length(code) BETWEEN 1 AND 32),
    kind          TEXT NOT NULL CHECK (kind IN ('percent', 'amount', 'gift')),
    percent       TEXT CHECK ((percent IS NOT NULL) = (kind = 'percent')),
    amount        BIGINT CHECK ((amount IS NOT NULL) = (kind = 'amount') AND (amount IS NULL OR amount > 0)),
    gift          TEXT CHECK ((gift IS NOT NULL) = (kind = 'gift') AND (gift IS NULL OR length(gift) BETWEEN 1 AND 200)),
    valid_from    TEXT NOT NULL,
    valid_until   TEXT NOT NULL CHECK (valid_until >= valid_from),
    per_customer  BIGINT CHECK (per_customer BETWEEN 1 AND 4294967295),
    total_limit   BIGINT CHECK (total_limit BETWEEN 1 AND 4294967295),
    audience      TEXT,
    created_at    BIGINT NOT NULL,
    created_at_ns BIGINT NOT NULL CHECK (created_at_ns BETWEEN 0 AND 1999999999),
    ended_at      BIGINT,
    ended_at_ns   BIGINT CHECK ((ended_at IS NULL) = (ended_at_ns IS NULL)),
    PRIMARY KEY (tenant_id, code),
    FOREIGN KEY (tenant_id) REFERENCES tenants (tenant_id)
);

CREATE TABLE offer_redemptions (
    tenant_id   BIGINT NOT NULL,
    purchase_id BIGINT NOT NULL CHECK (purchase_id >= 1),
    code        TEXT COLLATE "C" NOT NULL,
    customer_id BIGINT NOT NULL,
    at          BIGINT NOT NULL,
    at_ns       BIGINT NOT NULL CHECK (at_ns BETWEEN 0 AND 1999999999),
    discount    BIGINT NOT NULL CHECK (discount >= 0),
    PRIMARY KEY (tenant_id, purchase_id),
    FOREIGN KEY (tenant_id, code) REFERENCES offers (tenant_id, code),
    FOREIGN KEY (tenant_id, customer_id) REFERENCES customers (tenant_id, id)
);
CREATE INDEX offer_redemptions_by_code ON offer_redemptions (tenant_id, code, customer_id);
