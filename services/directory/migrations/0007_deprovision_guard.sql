-- The mass-deprovision guard (services/directory/deprovision_guard.py).

-- What the member's identity provider last said of its status (active,
-- deactivated, deleted) when that is not in effect: a held deprovision, or a
-- rejected one. NULL: the same as status. Reads over SCIM show this one.
ALTER TABLE members ADD COLUMN scim_status text CHECK (scim_status IN ('active', 'deactivated', 'deleted'));

-- Every deprovision an IdP made (deactivating or deleting an active member),
-- applied at once or held, in commit order: the guard counts them within its
-- window, and approving applies the held ones in this order.
CREATE TABLE deprovisions (
    organization_id text NOT NULL,
    deprovision_id  bigserial NOT NULL,
    connection_id   text NOT NULL,
    member_id       text NOT NULL,
    change          text NOT NULL CHECK (change IN ('deactivate', 'delete')),
    state           text NOT NULL CHECK (state IN ('applied', 'held', 'approved', 'rejected', 'superseded')),
    created_at      timestamptz NOT NULL DEFAULT now(),
    resolved_at     timestamptz,
    PRIMARY KEY (organization_id, deprovision_id)
);
CREATE INDEX deprovisions_window ON deprovisions (organization_id, connection_id, created_at);
CREATE INDEX deprovisions_held ON deprovisions (organization_id, connection_id, deprovision_id) WHERE state = 'held';
CREATE INDEX deprovisions_of_member ON deprovisions (organization_id, member_id) WHERE state = 'held';

-- A connection's own guard; without a row the project default applies.
CREATE TABLE deprovision_guards (
    organization_id    text NOT NULL,
    connection_id      text NOT NULL,
    enabled            boolean NOT NULL,
    percent            integer NOT NULL,
    max_count          integer NOT NULL,
    window_seconds     integer NOT NULL,
    auto_apply_seconds integer NOT NULL,
    updated_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (organization_id, connection_id)
);

ALTER TABLE deprovisions ENABLE ROW LEVEL SECURITY;
ALTER TABLE deprovision_guards ENABLE ROW LEVEL SECURITY;
CREATE POLICY organization_scope ON deprovisions
    USING (organization_id = current_setting('scimd.organization_id', true))
    WITH CHECK (organization_id = current_setting('scimd.organization_id', true));
CREATE POLICY organization_scope ON deprovision_guards
    USING (organization_id = current_setting('scimd.organization_id', true))
    WITH CHECK (organization_id = current_setting('scimd.organization_id', true));

-- The connections with deprovisions held since before `held_before`, across
-- organizations (which row-level security would hide): the auto-apply job
-- then resolves each inside its own organization's scope.
CREATE FUNCTION connections_with_held_deprovisions(held_before timestamptz)
    RETURNS TABLE (organization_id text, connection_id text, first_held_at timestamptz)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path FROM CURRENT
    AS $$
    SELECT organization_id, connection_id, min(created_at) FROM deprovisions
    WHERE state = 'held' GROUP BY organization_id, connection_id HAVING min(created_at) < held_before
    $$;
REVOKE ALL ON FUNCTION connections_with_held_deprovisions(timestamptz) FROM PUBLIC;
