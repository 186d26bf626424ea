-- The state every organization's events add up to, kept in the transaction
-- that stores the events: a snapshot read here in one transaction is exactly
-- the events up to the highest stored seq, the Events API cursor it returns.
-- Tenant tables, keyed by organization first; values are json (kept as sent,
-- key order included: nothing queries inside them).

-- When the projection began: organizations created earlier had events it never saw.
CREATE TABLE snapshot_epoch (
    started_at timestamptz NOT NULL
);
INSERT INTO snapshot_epoch (started_at) VALUES (now());

-- An organization's events in order (the Events API's organization filter,
-- and "has any event of it been stored yet?").
CREATE INDEX events_of_organization ON events (organization_id, seq);

-- Organizations whose every event the projection has seen (from organization.create on).
CREATE TABLE snapshot_organizations (
    organization_id text PRIMARY KEY,
    since_seq       bigint NOT NULL
);

-- The member of the last directory event about it (data.member, without roles).
CREATE TABLE snapshot_members (
    organization_id text NOT NULL,
    member_id       text NOT NULL,
    member          json NOT NULL,
    PRIMARY KEY (organization_id, member_id)
);

-- The roles of the last rbac event about the member (data.member.roles). Kept
-- apart from the member: rbac's events carry the member as rbac last read it,
-- which may be older or newer than the directory's last event.
CREATE TABLE snapshot_member_roles (
    organization_id text NOT NULL,
    member_id       text NOT NULL,
    roles           json NOT NULL,
    PRIMARY KEY (organization_id, member_id)
);

CREATE TABLE snapshot_groups (
    organization_id text NOT NULL,
    group_id        text NOT NULL,
    idp_group       json NOT NULL,
    PRIMARY KEY (organization_id, group_id)
);

CREATE TABLE snapshot_memberships (
    organization_id text NOT NULL,
    group_id        text NOT NULL,
    member_id       text NOT NULL,
    PRIMARY KEY (organization_id, group_id, member_id)
);
