-- Attribute mapping (issue 21 §3): the vendor's custom member fields, each
-- connection's mapping of attribute paths onto them, and the custom
-- attributes every member carries, computed with that mapping.

-- The vendor's fields: project-wide, the same for every organization, so no
-- row-level security (for Citus, a reference table).
CREATE TABLE custom_fields (
    key         text PRIMARY KEY,
    type        text NOT NULL CHECK (type IN ('string', 'number', 'boolean', 'string_list')),
    description text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE attribute_mappings (
    organization_id   text NOT NULL,
    connection_id     text NOT NULL,
    -- [{field, sources, transforms, default}] (services/directory/attribute_mapping.py).
    definition        jsonb NOT NULL,
    version           bigint NOT NULL DEFAULT 1,
    updated_at        timestamptz NOT NULL DEFAULT now(),
    -- The background apply: done once applied_version = version. Its counters
    -- describe the apply of `version` (apply_total NULL: not counted yet).
    applied_version   bigint NOT NULL DEFAULT 0,
    apply_total       bigint,
    apply_done        bigint NOT NULL DEFAULT 0,
    apply_changed     bigint NOT NULL DEFAULT 0,
    -- Which process applies it, until when (renewed with every batch): one at
    -- a time, and another process resumes it once a crashed one's lease ends.
    apply_owner       text,
    apply_lease_until timestamptz,
    PRIMARY KEY (organization_id, connection_id)
);
ALTER TABLE attribute_mappings ENABLE ROW LEVEL SECURITY;
CREATE POLICY organization_scope ON attribute_mappings
    USING (organization_id = current_setting('scimd.organization_id', true))
    WITH CHECK (organization_id = current_setting('scimd.organization_id', true));

-- custom_attributes_version: the mapping version they were computed with (0:
-- none), so that the apply finds the members an older mapping computed,
-- whoever wrote them.
ALTER TABLE members
    ADD COLUMN custom_attributes jsonb NOT NULL DEFAULT '{}'::jsonb,
    ADD COLUMN custom_attributes_version bigint NOT NULL DEFAULT 0;

-- The applies due, across organizations (which row-level security would
-- hide): each is then run inside its own organization's scope.
CREATE FUNCTION attribute_mappings_to_apply()
    RETURNS TABLE (organization_id text, connection_id text)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path FROM CURRENT
    AS $$
    SELECT organization_id, connection_id FROM attribute_mappings
    WHERE applied_version < version AND (apply_lease_until IS NULL OR apply_lease_until < now())
    $$;
REVOKE ALL ON FUNCTION attribute_mappings_to_apply() FROM PUBLIC;

-- How many connections, in any organization, map a custom field: one in use
-- keeps its type and is not deleted.
CREATE FUNCTION custom_field_mappings(field_key text) RETURNS bigint
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path FROM CURRENT
    AS $$
    SELECT count(*) FROM attribute_mappings
    WHERE definition @> jsonb_build_array(jsonb_build_object('field', field_key))
    $$;
REVOKE ALL ON FUNCTION custom_field_mappings(text) FROM PUBLIC;

-- Forgetting a deleted member's personal data forgets its custom attributes too.
CREATE OR REPLACE FUNCTION forget_deleted_members(retention interval, batch integer) RETURNS integer
    LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path FROM CURRENT
    AS $$
    WITH due AS (
        SELECT member_id FROM members
        WHERE status = 'deleted' AND deleted_at < now() - retention AND scim_attributes <> '{}'::jsonb
        ORDER BY deleted_at LIMIT batch FOR UPDATE SKIP LOCKED
    ), forgotten AS (
        UPDATE members m SET user_name = m.member_id, external_id = NULL, email_address = '', name = '',
                             scim_attributes = '{}'::jsonb, undeclared_attributes = NULL,
                             custom_attributes = '{}'::jsonb
        FROM due WHERE m.member_id = due.member_id
        RETURNING 1
    )
    SELECT count(*)::integer FROM forgotten
    $$;
