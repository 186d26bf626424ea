-- The delivery queue's statistics, kept current by the webhooks service (issue 20).
-- The plans of the claim and of the recording of successes depend on how many
-- deliveries the table holds. When ANALYZE last saw it empty (a new install,
-- every endpoint deleted), every plan took it for one row until autovacuum
-- analyzed it again, a minute or more later: the claim checked each candidate
-- against every pending delivery of its endpoint, and each batch of successes
-- hashed the whole queue (27 ms a batch, deliveries and writes fell to half).
-- Analyzing needs the table's owner, so this is a function owned by it; it
-- analyzes only when the table changed by more than it held when last analyzed,
-- which autovacuum's own threshold (a tenth) covers on a table of any size, and
-- only in one replica at a time (the others skip rather than analyze again).
CREATE FUNCTION analyze_deliveries_if_outgrown(at_least bigint) RETURNS boolean
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path FROM CURRENT
    AS $$
DECLARE
    changed bigint;
    counted real;
BEGIN
    IF NOT pg_try_advisory_xact_lock(hashtext('webhooks.analyze_deliveries')) THEN
        RETURN false;
    END IF;
    SELECT s.n_mod_since_analyze, c.reltuples INTO changed, counted
    FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid
    WHERE s.relid = 'deliveries'::regclass;
    IF changed IS NULL OR changed < greatest(at_least, counted) THEN
        RETURN false;
    END IF;
    ANALYZE deliveries;
    RETURN true;
END
$$;
REVOKE ALL ON FUNCTION analyze_deliveries_if_outgrown(bigint) FROM PUBLIC;
