-- The request log: every authenticated SCIM request of a connection, as its
-- gateway answered it, with the request body (redacted by the gateway), kept
-- SCIMD_REQUEST_LOG_RETENTION_DAYS. Bodies hold personal data: a tenant table.
CREATE TABLE request_log (
    organization_id text NOT NULL,
    record_id       bigserial NOT NULL,
    connection_id   text NOT NULL,
    token_id        text NOT NULL,
    request_id      text NOT NULL,
    method          text NOT NULL,
    path            text NOT NULL,
    query           text NOT NULL,
    status          integer NOT NULL,
    scim_type       text NOT NULL,
    detail          text NOT NULL,
    hint            text NOT NULL,
    latency_ms      real NOT NULL,
    resource_id     text NOT NULL,
    user_name       text NOT NULL,
    body            jsonb,
    created_at      timestamptz NOT NULL,
    PRIMARY KEY (organization_id, record_id)
);
CREATE INDEX request_log_recent ON request_log (organization_id, connection_id, record_id DESC);
CREATE INDEX request_log_resource ON request_log (organization_id, connection_id, resource_id, record_id DESC)
    WHERE resource_id <> '';
CREATE INDEX request_log_user_name ON request_log (organization_id, connection_id, lower(user_name), record_id DESC)
    WHERE user_name <> '';
-- Rows arrive in time order: a BRIN index finds the old ones for a fraction of a btree's upkeep.
CREATE INDEX request_log_age ON request_log USING brin (created_at);

ALTER TABLE request_log ENABLE ROW LEVEL SECURITY;
CREATE POLICY organization_scope ON request_log
    USING (organization_id = current_setting('scimd.organization_id', true))
    WITH CHECK (organization_id = current_setting('scimd.organization_id', true));

-- Forgets the entries older than the retention, across organizations (which
-- row-level security would hide), a batch at a time.
CREATE FUNCTION forget_old_requests(retention interval, batch integer) RETURNS integer
    LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path FROM CURRENT
    AS $$
    WITH due AS (
        SELECT organization_id, record_id FROM request_log WHERE created_at < now() - retention
        ORDER BY created_at LIMIT batch FOR UPDATE SKIP LOCKED
    ), gone AS (
        DELETE FROM request_log r USING due
        WHERE r.organization_id = due.organization_id AND r.record_id = due.record_id RETURNING 1
    )
    SELECT count(*)::integer FROM gone
    $$;
REVOKE ALL ON FUNCTION forget_old_requests(interval, integer) FROM PUBLIC;
