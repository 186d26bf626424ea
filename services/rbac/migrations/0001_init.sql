-- Roles of the vendor's app, defined once per project.
CREATE TABLE roles (
    role_id     text PRIMARY KEY,
    description text NOT NULL DEFAULT '',
    -- [{"resource_id": "...", "actions": ["..."]}]
    permissions jsonb NOT NULL DEFAULT '[]',
    version     bigint NOT NULL DEFAULT 1,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
