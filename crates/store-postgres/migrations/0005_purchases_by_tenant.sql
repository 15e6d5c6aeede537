-- solocrm PostgreSQL schema, version 5: purchases partitioned by tenant (ADR 0019).
--
-- `purchases` becomes a table partitioned by LIST (tenant_id) with one partition per
-- tenant that has purchases, named purchases_t<tenant id>. The store creates a
-- tenant's partition at its first purchase (CREATE TABLE, then ATTACH PARTITION, which
-- locks the parent in SHARE UPDATE EXCLUSIVE mode only: every other tenant keeps
-- reading and writing). A bulk load into a tenant without purchases fills a new table
-- with no index, builds its keys, indexes and foreign keys in one pass each, and
-- attaches it before its commit (docs/storage.md). Keys, unique constraint, index and
-- foreign keys are those of version 4, declared on the parent so that every partition
-- has them; tenant_id still leads every one.

ALTER TABLE refunds DROP CONSTRAINT refunds_tenant_id_purchase_id_fkey;
ALTER TABLE purchases RENAME TO purchases_v4;
ALTER INDEX purchases_pkey RENAME TO purchases_v4_pkey;
ALTER INDEX purchases_tenant_id_external_ref_key RENAME TO purchases_v4_tenant_id_external_ref_key;
ALTER INDEX purchases_by_customer RENAME TO purchases_v4_by_customer;

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
    void_at      BIGINT,
    void_at_ns   BIGINT CHECK (void_at_ns BETWEEN 0 AND 1999999999),
    void_by      TEXT CHECK (length(void_by) BETWEEN 1 AND 200),
    void_reason  TEXT CHECK (octet_length(void_reason) <= 1048576),
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, external_ref),
    FOREIGN KEY (tenant_id, customer_id) REFERENCES customers (tenant_id, id),
    FOREIGN KEY (tenant_id, deal_id) REFERENCES deals (tenant_id, id),
    CHECK ((void_at IS NULL) = (void_at_ns IS NULL)),
    CHECK (void_at IS NOT NULL OR (void_by IS NULL AND void_reason IS NULL))
) PARTITION BY LIST (tenant_id);
CREATE INDEX purchases_by_customer ON purchases (tenant_id, customer_id, at, at_ns, id);

-- A partition for every tenant with purchases, then the rows.
DO $$
DECLARE
    t BIGINT;
BEGIN
    FOR t IN SELECT DISTINCT tenant_id FROM purchases_v4 ORDER BY 1 LOOP
        EXECUTE format('CREATE TABLE %I (LIKE purchases INCLUDING DEFAULTS INCLUDING CONSTRAINTS)',
                       'purchases_t' || t);
        EXECUTE format('ALTER TABLE %I ADD CHECK (tenant_id = %s)', 'purchases_t' || t, t);
        EXECUTE format('ALTER TABLE purchases ATTACH PARTITION %I FOR VALUES IN (%s)',
                       'purchases_t' || t, t);
    END LOOP;
END
$$;
INSERT INTO purchases
    SELECT tenant_id, id, customer_id, at, at_ns, amount, cost, description, items,
           external_ref, deal_id, void_at, void_at_ns, void_by, void_reason
    FROM purchases_v4 ORDER BY tenant_id, id;
DROP TABLE purchases_v4;

ALTER TABLE refunds ADD CONSTRAINT refunds_tenant_id_purchase_id_fkey
    FOREIGN KEY (tenant_id, purchase_id) REFERENCES purchases (tenant_id, id);
