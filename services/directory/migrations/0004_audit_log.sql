-- One row per mutating SCIM request: who (connection and token), what
-- (operation, resource, the names of the attributes changed), the request id,
-- and the result. Written in the transaction of the change it records.
CREATE TABLE audit_log (
    audit_id           bigserial NOT NULL,
    organization_id    text NOT NULL,
    connection_id      text NOT NULL,
    token_id           text NOT NULL,
    request_id         text NOT NULL,
    operation          text NOT NULL,
    resource_type      text NOT NULL,
    resource_id        text NOT NULL,
    changed_attributes text[] NOT NULL,
    result             text NOT NULL,
    detail             text NOT NULL DEFAULT '',
    created_at         timestamptz NOT NULL DEFAULT now(),
    -- One index serves both identity and the organization's listing, newest first.
    PRIMARY KEY (organization_id, audit_id)
);
