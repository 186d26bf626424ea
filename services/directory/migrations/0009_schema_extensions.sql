-- Custom attributes (issue 21): the vendor's schema extensions, what an
-- identity provider sends that no schema declares, and which attribute paths
-- each connection's identity provider has sent.

-- The vendor's SCIM schema extensions: project-wide, the same for every
-- organization, so no row-level security (for Citus, a reference table).
CREATE TABLE schema_extensions (
    schema_id     text PRIMARY KEY,
    resource_type text NOT NULL CHECK (resource_type IN ('User', 'Group')),
    definition    jsonb NOT NULL,
    version       bigint NOT NULL DEFAULT 1,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);

-- Attributes and schema extensions no schema declares, kept as sent (NULL: none).
ALTER TABLE members ADD COLUMN undeclared_attributes jsonb;

-- The attribute paths a connection's identity provider has sent, never their
-- values: what an admin maps and a vendor may declare. Written at most once a
-- minute per path by each directory process.
CREATE TABLE seen_attributes (
    organization_id text NOT NULL,
    connection_id   text NOT NULL,
    path            text NOT NULL,
    -- Where the path's values are: a jsonpath over {"declared": scim_attributes,
    -- "undeclared": undeclared_attributes}, so that members carrying it can be counted.
    locator         jsonpath NOT NULL,
    json_type       text NOT NULL,
    last_seen_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (organization_id, connection_id, path)
);
ALTER TABLE seen_attributes ENABLE ROW LEVEL SECURITY;
CREATE POLICY organization_scope ON seen_attributes
    USING (organization_id = current_setting('scimd.organization_id', true))
    WITH CHECK (organization_id = current_setting('scimd.organization_id', true));

-- A change to an extension is checked against every value stored under it,
-- in every organization, which row-level security would hide: only through
-- this function, which reads that extension's values alone, in member id order.
CREATE FUNCTION extension_values(urn text, after_member text, batch integer)
    RETURNS TABLE (member_id text, organization_id text, value jsonb)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path FROM CURRENT
    AS $$
    SELECT m.member_id, m.organization_id, m.scim_attributes -> urn FROM members m
    WHERE m.member_id > after_member AND m.status <> 'deleted' AND m.scim_attributes ? urn
    ORDER BY m.member_id LIMIT batch
    $$;
REVOKE ALL ON FUNCTION extension_values(text, text, integer) FROM PUBLIC;

-- Forgetting a deleted member's personal data forgets its undeclared attributes too.
CREATE OR REPLACE FUNCTION forget_deleted_members(retention interval, batch integer) RETURNS integer
    LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path FROM CURRENT
    AS $$
    WITH due AS (
        SELECT member_id FROM members
        WHERE status = 'deleted' AND deleted_at < now() - retention AND scim_attributes <> '{}'::jsonb
        ORDER BY deleted_at LIMIT batch FOR UPDATE SKIP LOCKED
    ), forgotten AS (
        UPDATE members m SET user_name = m.member_id, external_id = NULL, email_address = '', name = '',
                             scim_attributes = '{}'::jsonb, undeclared_attributes = NULL
        FROM due WHERE m.member_id = due.member_id
        RETURNING 1
    )
    SELECT count(*)::integer FROM forgotten
    $$;
