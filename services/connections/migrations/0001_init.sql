CREATE TABLE organizations (
    organization_id   text PRIMARY KEY,
    organization_name text NOT NULL,
    organization_slug text NOT NULL UNIQUE,
    version           bigint NOT NULL DEFAULT 1,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX organizations_page ON organizations (created_at, organization_id);

CREATE TABLE connections (
    connection_id     text PRIMARY KEY,
    -- One SCIM connection per organization, as in Stytch's API.
    organization_id   text NOT NULL UNIQUE REFERENCES organizations ON DELETE CASCADE,
    status            text NOT NULL DEFAULT 'active',
    display_name      text NOT NULL,
    identity_provider text NOT NULL,
    version           bigint NOT NULL DEFAULT 1,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX connections_page ON connections (created_at, connection_id);

-- Only a SHA-256 of each token's secret part is stored. `slot` is 'current',
-- or 'next' while a rotation is in progress.
CREATE TABLE bearer_tokens (
    token_id        text PRIMARY KEY,
    connection_id   text NOT NULL REFERENCES connections ON DELETE CASCADE,
    organization_id text NOT NULL,
    slot            text NOT NULL CHECK (slot IN ('current', 'next')),
    secret_hash     bytea NOT NULL,
    last_four       text NOT NULL,
    expires_at      timestamptz NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (connection_id, slot)
);
