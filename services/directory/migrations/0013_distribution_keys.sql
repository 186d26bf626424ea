-- Keys for a distributed PostgreSQL (issue 19, deploy/k8s/README.md "Past one
-- primary: Citus"): every primary key, unique key and foreign key of a tenant
-- table leads with organization_id, so that a cluster distributing the tenant
-- tables by it keeps each organization's rows, and the constraints on them, on
-- one node. On one primary they are the same constraints, one column wider.

-- Memberships refer to their group and member within the organization.
ALTER TABLE group_members
    DROP CONSTRAINT group_members_group_id_fkey,
    DROP CONSTRAINT group_members_member_id_fkey,
    DROP CONSTRAINT group_members_pkey;

ALTER TABLE members
    DROP CONSTRAINT members_pkey,
    ADD CONSTRAINT members_pkey PRIMARY KEY (organization_id, member_id),
    -- A random id nothing looks up: unique within its organization is enough.
    DROP CONSTRAINT members_registration_id_key,
    ADD CONSTRAINT members_registration_id_key UNIQUE (organization_id, registration_id);

ALTER TABLE groups
    DROP CONSTRAINT groups_pkey,
    ADD CONSTRAINT groups_pkey PRIMARY KEY (organization_id, group_id);

ALTER TABLE group_members
    ADD CONSTRAINT group_members_pkey PRIMARY KEY (organization_id, group_id, member_id),
    ADD CONSTRAINT group_members_group_fkey FOREIGN KEY (organization_id, group_id)
        REFERENCES groups (organization_id, group_id) ON DELETE CASCADE,
    ADD CONSTRAINT group_members_member_fkey FOREIGN KEY (organization_id, member_id)
        REFERENCES members (organization_id, member_id);
DROP INDEX group_members_member;
CREATE INDEX group_members_member ON group_members (organization_id, member_id);

-- The cross-organization jobs find their rows by the new keys.
CREATE OR REPLACE FUNCTION forget_deleted_members(retention interval, batch integer) RETURNS integer
    LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path FROM CURRENT
    AS $$
    WITH due AS (
        SELECT organization_id, member_id FROM members
        WHERE status = 'deleted' AND deleted_at < now() - retention AND scim_attributes <> '{}'::jsonb
        ORDER BY deleted_at LIMIT batch FOR UPDATE SKIP LOCKED
    ), forgotten AS (
        UPDATE members m SET user_name = m.member_id, external_id = NULL, email_address = '', name = '',
                             scim_attributes = '{}'::jsonb, undeclared_attributes = NULL,
                             custom_attributes = '{}'::jsonb
        FROM due WHERE m.organization_id = due.organization_id AND m.member_id = due.member_id
        RETURNING 1
    )
    SELECT count(*)::integer FROM forgotten
    $$;

-- The extension checks (0009, 0011) page through every organization's values
-- in key order, (organization_id, id), which the primary keys now serve.
DROP FUNCTION extension_values(text, text, integer);
CREATE FUNCTION extension_values(urn text, after_organization text, after_member text, batch integer)
    RETURNS TABLE (member_id text, organization_id text, value jsonb)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path FROM CURRENT
    AS $$
    SELECT m.member_id, m.organization_id, m.scim_attributes -> urn FROM members m
    WHERE (m.organization_id, m.member_id) > (after_organization, after_member)
      AND m.status <> 'deleted' AND m.scim_attributes ? urn
    ORDER BY m.organization_id, m.member_id LIMIT batch
    $$;
REVOKE ALL ON FUNCTION extension_values(text, text, text, integer) FROM PUBLIC;

DROP FUNCTION group_extension_values(text, text, integer);
CREATE FUNCTION group_extension_values(urn text, after_organization text, after_group text, batch integer)
    RETURNS TABLE (group_id text, organization_id text, value jsonb)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path FROM CURRENT
    AS $$
    SELECT g.group_id, g.organization_id, g.scim_attributes -> urn FROM groups g
    WHERE (g.organization_id, g.group_id) > (after_organization, after_group)
      AND g.status <> 'deleted' AND g.scim_attributes ? urn
    ORDER BY g.organization_id, g.group_id LIMIT batch
    $$;
REVOKE ALL ON FUNCTION group_extension_values(text, text, text, integer) FROM PUBLIC;
