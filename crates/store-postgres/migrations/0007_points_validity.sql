-- The points validity (issue 16, ADR 0024), per tenant: points are valid
-- points_valid_months months from the day they were earned, counted from
-- points_valid_from for points earned before it; both null (every tenant before
-- this migration): points never expire.

ALTER TABLE tenants
    ADD COLUMN points_valid_months BIGINT
        CHECK (points_valid_months IS NULL OR points_valid_months BETWEEN 1 AND 120),
    ADD COLUMN points_valid_from TEXT
        CHECK (points_valid_from IS NULL OR points_valid_from ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$'),
    ADD CONSTRAINT tenants_points_validity_whole
        CHECK ((points_valid_months IS NULL) = (points_valid_from IS NULL));
