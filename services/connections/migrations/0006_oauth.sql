-- OAuth 2.0 for SCIM connections. A connection's client id is its connection
-- id; its client secrets rotate like bearer tokens ('current', and 'next'
-- while a rotation is in progress). Only SHA-256 hashes of secrets are kept.
CREATE TABLE oauth_client_secrets (
    secret_id       text PRIMARY KEY,
    connection_id   text NOT NULL REFERENCES connections ON DELETE CASCADE,
    organization_id text NOT NULL,
    slot            text NOT NULL CHECK (slot IN ('current', 'next')),
    secret_hash     bytea NOT NULL,
    last_four       text NOT NULL,
    last_used_at    timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (connection_id, slot)
);

-- Short-lived access tokens issued by the token endpoint, and what they were
-- issued for: 'client_secret:<secret id>' or 'assertion:<issuer>'.
CREATE TABLE access_tokens (
    token_id        text PRIMARY KEY,
    connection_id   text NOT NULL REFERENCES connections ON DELETE CASCADE,
    organization_id text NOT NULL,
    secret_hash     bytea NOT NULL,
    credential      text NOT NULL,
    expires_at      timestamptz NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX access_tokens_of_connection ON access_tokens (connection_id, credential);
CREATE INDEX access_tokens_expiry ON access_tokens (expires_at);

-- Whether the connection's static bearer token is accepted (OAuth may replace it).
ALTER TABLE connections ADD COLUMN bearer_token_enabled boolean NOT NULL DEFAULT true;

-- Secretless OAuth (RFC 7523): the connection trusts JWT client assertions
-- signed by the issuer's published keys, for this subject and audience.
CREATE TABLE assertion_trusts (
    connection_id   text PRIMARY KEY REFERENCES connections ON DELETE CASCADE,
    organization_id text NOT NULL,
    issuer          text NOT NULL,
    subject         text NOT NULL,
    audience        text NOT NULL,
    jwks_url        text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now()
);

-- Assertions already exchanged, until they expire: a replay is refused.
-- replay_key is 'jti:<jti>', or for an assertion without one 'sha256:<digest of it>'.
CREATE TABLE used_assertions (
    issuer     text NOT NULL,
    replay_key text NOT NULL,
    expires_at timestamptz NOT NULL,
    PRIMARY KEY (issuer, replay_key)
);
CREATE INDEX used_assertions_expiry ON used_assertions (expires_at);
