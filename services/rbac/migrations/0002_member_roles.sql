-- IdP groups of a SCIM connection that imply a role for their members.
CREATE TABLE group_role_assignments (
    organization_id text NOT NULL,
    connection_id   text NOT NULL,
    group_id        text NOT NULL,
    role_id         text NOT NULL REFERENCES roles (role_id) ON DELETE CASCADE,
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (organization_id, connection_id, group_id, role_id)
);
CREATE INDEX group_role_assignments_group ON group_role_assignments (organization_id, group_id);

-- Roles assigned to a member explicitly through the management API.
CREATE TABLE direct_role_assignments (
    organization_id text NOT NULL,
    member_id       text NOT NULL,
    role_id         text NOT NULL REFERENCES roles (role_id) ON DELETE CASCADE,
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (organization_id, member_id, role_id)
);

-- Each member's effective roles, materialised so a read is one row:
-- [{"role_id": "...", "sources": [{"type": "...", "details": {...}}]}].
-- Members without roles have no row.
CREATE TABLE member_roles (
    organization_id text NOT NULL,
    member_id       text NOT NULL,
    roles           jsonb NOT NULL,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (organization_id, member_id)
);
-- Finds the holders of a role, or of roles granted through a group.
CREATE INDEX member_roles_roles ON member_roles USING gin (roles jsonb_path_ops);
