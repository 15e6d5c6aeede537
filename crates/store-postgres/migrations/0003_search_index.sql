-- solocrm PostgreSQL schema, version 3: a trigram index for customer search.
--
-- Customer search asks for the customers whose name, email, company, notes or
-- profile city contain a text, ignoring case (ADR 0010). Without an index that is a
-- scan of the tenant's customers. pg_trgm's GIN index answers `ILIKE '%text%'` from
-- the trigrams of one expression, the search document below, which the search
-- statement repeats word for word (crates/store-postgres/src/records.rs, SEARCH_ILIKE).
-- The document joins the fields with a line break: a text can match across two
-- fields only where it has a line break itself, and every candidate is checked again
-- by the operations layer, so that over-approximation never shows.
--
-- pg_trgm is an extension: it is used if the database has it, else created in the
-- `public` schema (or, failing that, this one) if the role may; a role that may not
-- gets no index and the same results from the scan (docs/storage.md says how a
-- database owner adds it later). Creating the extension needs CREATE on the database
-- (pg_trgm is a trusted extension since PostgreSQL 13).

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN
        BEGIN
            CREATE EXTENSION pg_trgm WITH SCHEMA public;
        EXCEPTION WHEN OTHERS THEN
            BEGIN
                CREATE EXTENSION pg_trgm;
            EXCEPTION WHEN OTHERS THEN
                RAISE NOTICE 'solocrm: pg_trgm is not available (%); customer search scans', SQLERRM;
            END;
        END;
    END IF;
END $$;

DO $$
DECLARE
    trgm name;
BEGIN
    SELECT n.nspname INTO trgm
      FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
     WHERE e.extname = 'pg_trgm';
    IF trgm IS NOT NULL THEN
        BEGIN
            EXECUTE format(
                'CREATE INDEX customers_search ON customers USING gin ('
                || '(translate(name || chr(10) || coalesce(email, '''') || chr(10) '
                || '|| coalesce(company, '''') || chr(10) || notes || chr(10) '
                || '|| coalesce(profile::jsonb ->> ''city'', ''''), chr(8490), ''k'')) '
                || '%I.gin_trgm_ops)',
                trgm);
        EXCEPTION WHEN insufficient_privilege THEN
            RAISE NOTICE 'solocrm: pg_trgm in schema % cannot be used (%); customer search scans',
                trgm, SQLERRM;
        END;
    END IF;
END $$;
