-- Admin Portal links: each opens its organization's portal once, within minutes.
-- The link is `scimd_portal_<link_id>_<secret>`; only the secret's SHA-256 is kept.
CREATE TABLE portal_links (
    link_id         text PRIMARY KEY,
    organization_id text NOT NULL REFERENCES organizations ON DELETE CASCADE,
    secret_hash     bytea NOT NULL,
    expires_at      timestamptz NOT NULL,
    used_at         timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now()
);
