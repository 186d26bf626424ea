-- Values of a member's SCIM `roles` or `entitlements` that a SCIM connection
-- maps to a role. Values are compared without case; the service keeps one
-- row per value so compared, in the spelling first given.
CREATE TABLE attribute_role_assignments (
    organization_id text NOT NULL,
    connection_id   text NOT NULL,
    attribute       text NOT NULL CHECK (attribute IN ('roles', 'entitlements')),
    value           text NOT NULL,
    role_id         text NOT NULL REFERENCES roles (role_id) ON DELETE CASCADE,
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (organization_id, connection_id, attribute, value, role_id)
);

-- Rules of a SCIM connection: members whose SCIM attributes match the filter
-- hold the role. A filter may be longer than an index entry allows, so the
-- rules are numbered; the service keeps (filter, role_id) distinct.
CREATE TABLE rule_role_assignments (
    organization_id text NOT NULL,
    connection_id   text NOT NULL,
    position        integer NOT NULL,
    filter          text NOT NULL,
    role_id         text NOT NULL REFERENCES roles (role_id) ON DELETE CASCADE,
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (organization_id, connection_id, position)
);
-- A deleted role's rules go with it (ON DELETE CASCADE).
CREATE INDEX rule_role_assignments_role ON rule_role_assignments (role_id);
CREATE INDEX attribute_role_assignments_role ON attribute_role_assignments (role_id);

ALTER TABLE attribute_role_assignments ENABLE ROW LEVEL SECURITY;
ALTER TABLE rule_role_assignments ENABLE ROW LEVEL SECURITY;

CREATE POLICY organization_scope ON attribute_role_assignments
    USING (organization_id = current_setting('scimd.organization_id', true))
    WITH CHECK (organization_id = current_setting('scimd.organization_id', true));
CREATE POLICY organization_scope ON rule_role_assignments
    USING (organization_id = current_setting('scimd.organization_id', true))
    WITH CHECK (organization_id = current_setting('scimd.organization_id', true));
