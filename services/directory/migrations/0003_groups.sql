-- Groups provisioned by identity providers. Membership lives in its own
-- table, so adding or removing members never rewrites the group.
CREATE TABLE groups (
    group_id        text PRIMARY KEY,
    organization_id text NOT NULL,
    connection_id   text NOT NULL,
    display_name    text NOT NULL,
    external_id     text,
    member_count    bigint NOT NULL DEFAULT 0,
    status          text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'deleted')),
    version         bigint NOT NULL DEFAULT 1,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    deleted_at      timestamptz
);
-- displayName is unique per connection ignoring case, among groups not deleted.
CREATE UNIQUE INDEX groups_display_name ON groups (organization_id, connection_id, lower(display_name))
    WHERE status <> 'deleted';
CREATE INDEX groups_page ON groups (organization_id, connection_id, created_at, group_id) INCLUDE (status);
CREATE INDEX groups_external_id ON groups (organization_id, connection_id, external_id);

CREATE TABLE group_members (
    group_id  text NOT NULL REFERENCES groups ON DELETE CASCADE,
    member_id text NOT NULL REFERENCES members,
    added_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (group_id, member_id)
);
CREATE INDEX group_members_member ON group_members (member_id);
