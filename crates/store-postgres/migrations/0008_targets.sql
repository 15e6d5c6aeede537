-- Sales targets (issue 18), per tenant: one goal per metric and calendar period
-- (`2026-03`, `2026-Q1`, `2026`), with the period's first day and span (0 month,
-- 1 quarter, 2 year) kept beside it for the listing order. The value is a plain
-- decimal kept as text, exactly as set.

CREATE TABLE targets (
    tenant_id    BIGINT NOT NULL,
    metric       TEXT COLLATE "C" NOT NULL
                 CHECK (metric IN ('revenue', 'new_customers', 'deals_won', 'retention_rate')),
    period       TEXT COLLATE "C" NOT NULL CHECK (length(period) BETWEEN 4 AND 7),
    period_start TEXT COLLATE "C" NOT NULL CHECK (length(period_start) = 10),
    span         SMALLINT NOT NULL CHECK (span IN (0, 1, 2)),
    value        TEXT NOT NULL CHECK (length(value) BETWEEN 1 AND 40),
    PRIMARY KEY (tenant_id, metric, period),
    FOREIGN KEY (tenant_id) REFERENCES tenants (tenant_id)
);
