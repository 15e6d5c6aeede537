-- The product catalogue and purchase lines (issue 18, ADR 0028), per tenant: products
-- by SKU (name, optional category, list price and unit cost in minor units, archived
-- flag), and the lines of a purchase in order (position from 0): a product, a whole
-- quantity, the unit price charged and an optional line discount, in minor units.
-- A line's purchase is not a foreign key: a bulk load fills a tenant's first purchase
-- partition detached (0005), and the operations layer writes lines only for stored
-- purchases.

CREATE TABLE products (
    tenant_id BIGINT NOT NULL,
    sku       TEXT COLLATE "C" NOT NULL CHECK (length(sku) BETWEEN 1 AND 64),
    name      TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    category  TEXT CHECK (length(category) BETWEEN 1 AND 200),
    price     BIGINT NOT NULL CHECK (price >= 0),
    cost      BIGINT CHECK (cost >= 0),
    archived  BOOLEAN NOT NULL,
    PRIMARY KEY (tenant_id, sku),
    FOREIGN KEY (tenant_id) REFERENCES tenants (tenant_id)
);

CREATE TABLE purchase_lines (
    tenant_id   BIGINT NOT NULL,
    purchase_id BIGINT NOT NULL CHECK (purchase_id >= 1),
    position    BIGINT NOT NULL CHECK (position >= 0),
    sku         TEXT COLLATE "C" NOT NULL,
    quantity    BIGINT NOT NULL CHECK (quantity BETWEEN 1 AND 4294967295),
    unit_price  BIGINT NOT NULL CHECK (unit_price >= 0),
    discount    BIGINT CHECK (discount >= 0),
    PRIMARY KEY (tenant_id, purchase_id, position),
    FOREIGN KEY (tenant_id, sku) REFERENCES products (tenant_id, sku)
);
CREATE INDEX purchase_lines_by_sku ON purchase_lines (tenant_id, sku);
