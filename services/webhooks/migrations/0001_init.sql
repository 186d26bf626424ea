CREATE TABLE endpoints (
    endpoint_id      text PRIMARY KEY,
    url              text NOT NULL,
    -- Empty means every event type.
    event_types      text[] NOT NULL DEFAULT '{}',
    enabled          boolean NOT NULL DEFAULT true,
    -- The signing secret, AES-GCM encrypted with SCIMD_ENCRYPTION_KEY: it
    -- must be usable to sign, so it cannot be a hash.
    secret_sealed    bytea NOT NULL,
    version          bigint NOT NULL DEFAULT 1,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX endpoints_page ON endpoints (created_at, endpoint_id);

-- Every event received from JetStream, with the exact body that is signed and sent.
CREATE TABLE events (
    event_id        text PRIMARY KEY,
    type            text NOT NULL,
    organization_id text NOT NULL,
    -- The request that caused the event, for logs along the whole path.
    request_id      text NOT NULL DEFAULT '',
    body            text NOT NULL,
    occurred_at     timestamptz NOT NULL,
    received_at     timestamptz NOT NULL DEFAULT now()
);

-- One row per event and endpoint; the worker claims due rows.
CREATE TABLE deliveries (
    event_id         text NOT NULL REFERENCES events ON DELETE CASCADE,
    endpoint_id      text NOT NULL REFERENCES endpoints ON DELETE CASCADE,
    status           text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'succeeded', 'failed')),
    attempts         integer NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    last_status_code integer,
    last_error       text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (event_id, endpoint_id)
);
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE status = 'pending';
