-- Row-level security backs up the organization scope of every query: the
-- service role sees and writes only the rows of the organization its
-- connection is bound to (runtime/tenant_scope.py), and nothing at
-- all when bound to none. The owner running migrations is not subject to it.

-- Memberships carry their organization too, so their policy needs no join.
-- Writers need not name it: it defaults to the bound organization, and the
-- policy refuses any other.
ALTER TABLE group_members ADD COLUMN organization_id text;
UPDATE group_members gm SET organization_id = g.organization_id FROM groups g WHERE g.group_id = gm.group_id;
ALTER TABLE group_members
    ALTER COLUMN organization_id SET NOT NULL,
    ALTER COLUMN organization_id SET DEFAULT current_setting('scimd.organization_id');

-- Under a policy, a condition on lower(column) may only be checked after the
-- policy's own (lower() is not leakproof), so it can no longer pick an index:
-- the case-insensitive names are kept lowercased in columns of their own,
-- which filters compare bare (filter_sql.Column.folded).
ALTER TABLE members ADD COLUMN user_name_lower text GENERATED ALWAYS AS (lower(user_name)) STORED;
DROP INDEX members_user_name;
CREATE UNIQUE INDEX members_user_name ON members (organization_id, connection_id, user_name_lower)
    WHERE status <> 'deleted';
ALTER TABLE groups ADD COLUMN display_name_lower text GENERATED ALWAYS AS (lower(display_name)) STORED;
DROP INDEX groups_display_name;
CREATE UNIQUE INDEX groups_display_name ON groups (organization_id, connection_id, display_name_lower)
    WHERE status <> 'deleted';

ALTER TABLE members ENABLE ROW LEVEL SECURITY;
ALTER TABLE groups ENABLE ROW LEVEL SECURITY;
ALTER TABLE group_members ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_log ENABLE ROW LEVEL SECURITY;

CREATE POLICY organization_scope ON members
    USING (organization_id = current_setting('scimd.organization_id', true))
    WITH CHECK (organization_id = current_setting('scimd.organization_id', true));
CREATE POLICY organization_scope ON groups
    USING (organization_id = current_setting('scimd.organization_id', true))
    WITH CHECK (organization_id = current_setting('scimd.organization_id', true));
CREATE POLICY organization_scope ON group_members
    USING (organization_id = current_setting('scimd.organization_id', true))
    WITH CHECK (organization_id = current_setting('scimd.organization_id', true));
CREATE POLICY organization_scope ON audit_log
    USING (organization_id = current_setting('scimd.organization_id', true))
    WITH CHECK (organization_id = current_setting('scimd.organization_id', true));
