-- The organization's lock and the check of which connections grant roles on
-- SCIM attributes, as functions, so that the directory follower does both in
-- one statement for the batches that ask nothing else (nearly every batch of
-- member creations): BEGIN, the lock, the check and COMMIT were four round
-- trips per batch (issue 20).
CREATE FUNCTION lock_organization_roles(organization text) RETURNS void
    LANGUAGE sql VOLATILE
    AS $$
    SELECT pg_advisory_xact_lock_shared(hashtext('scimd.rbac.roles')),
           pg_advisory_xact_lock(hashtext('scimd.rbac.organization'), hashtext(organization));
    $$;

CREATE FUNCTION connections_granting(organization text, connections text[]) RETURNS SETOF text
    LANGUAGE sql STABLE
    AS $$
    SELECT c FROM unnest(connections) AS c WHERE
        EXISTS (SELECT 1 FROM attribute_role_assignments a WHERE a.organization_id = organization AND a.connection_id = c)
        OR EXISTS (SELECT 1 FROM rule_role_assignments r WHERE r.organization_id = organization AND r.connection_id = c)
    $$;

-- The check under the lock: a VOLATILE function's each query takes a new
-- snapshot, so the check sees every mapping committed before the lock was
-- granted, as a check in the lock's transaction would.
CREATE FUNCTION connections_granting_under_lock(organization text, connections text[]) RETURNS SETOF text
    LANGUAGE plpgsql VOLATILE
    AS $$
BEGIN
    PERFORM lock_organization_roles(organization);
    RETURN QUERY SELECT c FROM connections_granting(organization, connections) AS c;
END
$$;
