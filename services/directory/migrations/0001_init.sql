-- Members: the people of an organization, as provisioned over SCIM.
CREATE TABLE members (
    member_id       text PRIMARY KEY,
    organization_id text NOT NULL,
    connection_id   text NOT NULL,
    registration_id text NOT NULL UNIQUE,
    user_name       text NOT NULL,
    external_id     text,
    email_address   text NOT NULL DEFAULT '',
    name            text NOT NULL DEFAULT '',
    status          text NOT NULL CHECK (status IN ('active', 'deactivated', 'deleted')),
    scim_attributes jsonb NOT NULL,
    version         bigint NOT NULL DEFAULT 1,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    deleted_at      timestamptz
);
-- userName is unique per connection ignoring case, among members not deleted.
-- (organization_id leads so that, with the tenant columns every query names,
-- this index wins over the listing index even before statistics exist.)
CREATE UNIQUE INDEX members_user_name ON members (organization_id, connection_id, lower(user_name)) WHERE status <> 'deleted';
CREATE INDEX members_page ON members (organization_id, created_at, member_id);
