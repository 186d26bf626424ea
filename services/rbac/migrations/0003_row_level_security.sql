-- Row-level security backs up the organization scope of every query (see
-- the directory's 0005). Roles belong to the project, not to an organization.
ALTER TABLE group_role_assignments ENABLE ROW LEVEL SECURITY;
ALTER TABLE direct_role_assignments ENABLE ROW LEVEL SECURITY;
ALTER TABLE member_roles ENABLE ROW LEVEL SECURITY;

CREATE POLICY organization_scope ON group_role_assignments
    USING (organization_id = current_setting('scimd.organization_id', true))
    WITH CHECK (organization_id = current_setting('scimd.organization_id', true));
CREATE POLICY organization_scope ON direct_role_assignments
    USING (organization_id = current_setting('scimd.organization_id', true))
    WITH CHECK (organization_id = current_setting('scimd.organization_id', true));
CREATE POLICY organization_scope ON member_roles
    USING (organization_id = current_setting('scimd.organization_id', true))
    WITH CHECK (organization_id = current_setting('scimd.organization_id', true));

-- Deleting a role is the one project-wide change to these tables: it must
-- find every organization holding the role, and nothing more. The function
-- runs as the tables' owner, whom the policies do not restrict.
CREATE FUNCTION organizations_holding_role(wanted_role_id text) RETURNS text[]
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path FROM CURRENT
    AS $$
        SELECT coalesce(array_agg(DISTINCT organization_id ORDER BY organization_id), '{}')
        FROM member_roles WHERE roles @> jsonb_build_array(jsonb_build_object('role_id', wanted_role_id))
    $$;
REVOKE ALL ON FUNCTION organizations_holding_role(text) FROM PUBLIC;
