-- Endpoints: an organization filter, why and when one was disabled, since
-- when it fails without a success in between, and the secret a rotation
-- replaced, still signed with until its grace period ends.
ALTER TABLE endpoints
    ADD COLUMN organization_ids           text[] NOT NULL DEFAULT '{}',
    ADD COLUMN disabled_reason            text NOT NULL DEFAULT '',
    ADD COLUMN disabled_at                timestamptz,
    ADD COLUMN failing_since              timestamptz,
    ADD COLUMN previous_secret_sealed     bytea,
    ADD COLUMN previous_secret_expires_at timestamptz;

-- Events: the order they arrived in (JetStream's, which follows the commit
-- order of each resource) and the resource they are about.
ALTER TABLE events
    ADD COLUMN seq       bigserial,
    ADD COLUMN object_id text NOT NULL DEFAULT '';
CREATE UNIQUE INDEX events_seq ON events (seq);
CREATE INDEX events_occurred ON events (occurred_at, event_id);

-- Deliveries copy both, so "is an earlier delivery of this resource to this
-- endpoint still pending?" is one index probe.
ALTER TABLE deliveries
    ADD COLUMN seq       bigint NOT NULL DEFAULT 0,
    ADD COLUMN object_id text NOT NULL DEFAULT '';
UPDATE deliveries d SET seq = e.seq, object_id = e.object_id FROM events e WHERE e.event_id = d.event_id;
CREATE INDEX deliveries_pending_per_resource ON deliveries (endpoint_id, object_id, seq) WHERE status = 'pending';
CREATE INDEX deliveries_of_endpoint ON deliveries (endpoint_id, seq);

-- Every attempt of every delivery, for the delivery log.
CREATE TABLE attempts (
    attempt_id       bigserial PRIMARY KEY,
    event_id         text NOT NULL,
    endpoint_id      text NOT NULL,
    attempted_at     timestamptz NOT NULL,
    -- NULL when no HTTP response came (timeout, refused connection, SSRF guard).
    status_code      integer,
    latency_ms       double precision NOT NULL,
    -- The first bytes of the response body, or the error.
    response_snippet text NOT NULL DEFAULT '',
    error            text NOT NULL DEFAULT '',
    -- 'succeeded', 'retrying' (next_attempt_at set) or 'failed' (no more attempts).
    outcome          text NOT NULL CHECK (outcome IN ('succeeded', 'retrying', 'failed')),
    next_attempt_at  timestamptz,
    FOREIGN KEY (event_id, endpoint_id) REFERENCES deliveries ON DELETE CASCADE
);
CREATE INDEX attempts_of_endpoint ON attempts (endpoint_id, attempt_id);
CREATE INDEX attempts_of_event ON attempts (event_id, attempt_id);
