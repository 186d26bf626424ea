-- Sessions of members in the vendor's app. The session token is
-- `scimd_session_<token_id>_<secret>`; only the secret's SHA-256 is kept.
CREATE TABLE sessions (
    session_id       text PRIMARY KEY,
    organization_id  text NOT NULL,
    member_id        text NOT NULL,
    token_id         text NOT NULL UNIQUE,
    secret_hash      bytea NOT NULL,
    started_at       timestamptz NOT NULL,
    last_accessed_at timestamptz NOT NULL,
    expires_at       timestamptz NOT NULL,
    revoked_at       timestamptz,
    revoke_reason    text
);
CREATE INDEX sessions_of_member ON sessions (organization_id, member_id) WHERE revoked_at IS NULL;

ALTER TABLE sessions ENABLE ROW LEVEL SECURITY;
CREATE POLICY organization_scope ON sessions
    USING (organization_id = current_setting('scimd.organization_id', true))
    WITH CHECK (organization_id = current_setting('scimd.organization_id', true));

-- A session token names no organization: the token id finds its session
-- across organizations, and nothing else does. (The caller then checks the
-- secret, and works on the session bound to its organization.)
CREATE FUNCTION session_by_token_id(wanted_token_id text) RETURNS SETOF sessions
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path FROM CURRENT
    AS $$ SELECT * FROM sessions WHERE token_id = wanted_token_id $$;
REVOKE ALL ON FUNCTION session_by_token_id(text) FROM PUBLIC;

-- Keys that sign session JWTs (ES256). The newest key not retired signs;
-- every key stays published until the JWTs it signed have expired.
CREATE TABLE signing_keys (
    kid                text PRIMARY KEY,
    private_key_sealed bytea NOT NULL,
    public_jwk         jsonb NOT NULL,
    created_at         timestamptz NOT NULL DEFAULT now(),
    retired_at         timestamptz
);

-- For the metrics: how many sessions are live, across organizations.
CREATE FUNCTION live_session_count() RETURNS bigint
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path FROM CURRENT
    AS $$ SELECT count(*) FROM sessions WHERE revoked_at IS NULL AND expires_at > now() $$;
REVOKE ALL ON FUNCTION live_session_count() FROM PUBLIC;
