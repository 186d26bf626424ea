-- The retention jobs work one organization at a time (issue 19): a locking
-- read across organizations would be a multi-shard FOR UPDATE, which a
-- distributed PostgreSQL refuses. First the organizations with something due
-- (a plain read), then batches within each, as before.

CREATE FUNCTION organizations_with_deleted_members_due(retention interval) RETURNS SETOF text
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path FROM CURRENT
    AS $$
    SELECT DISTINCT organization_id FROM members
    WHERE status = 'deleted' AND deleted_at < now() - retention AND scim_attributes <> '{}'::jsonb
    $$;
REVOKE ALL ON FUNCTION organizations_with_deleted_members_due(interval) FROM PUBLIC;

DROP FUNCTION forget_deleted_members(interval, integer);
CREATE FUNCTION forget_deleted_members(organization text, retention interval, batch integer) RETURNS integer
    LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path FROM CURRENT
    AS $$
    WITH due AS (
        SELECT organization_id, member_id FROM members
        WHERE organization_id = organization AND status = 'deleted' AND deleted_at < now() - retention
          AND scim_attributes <> '{}'::jsonb
        ORDER BY deleted_at LIMIT batch FOR UPDATE SKIP LOCKED
    ), forgotten AS (
        UPDATE members m SET user_name = m.member_id, external_id = NULL, email_address = '', name = '',
                             scim_attributes = '{}'::jsonb, undeclared_attributes = NULL,
                             custom_attributes = '{}'::jsonb
        FROM due WHERE m.organization_id = organization AND m.member_id = due.member_id
        RETURNING 1
    )
    SELECT count(*)::integer FROM forgotten
    $$;
REVOKE ALL ON FUNCTION forget_deleted_members(text, interval, integer) FROM PUBLIC;

CREATE FUNCTION organizations_with_old_requests(retention interval) RETURNS SETOF text
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path FROM CURRENT
    AS $$
    SELECT DISTINCT organization_id FROM request_log WHERE created_at < now() - retention
    $$;
REVOKE ALL ON FUNCTION organizations_with_old_requests(interval) FROM PUBLIC;

DROP FUNCTION forget_old_requests(interval, integer);
CREATE FUNCTION forget_old_requests(organization text, retention interval, batch integer) RETURNS integer
    LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path FROM CURRENT
    AS $$
    WITH due AS (
        SELECT record_id FROM request_log WHERE organization_id = organization AND created_at < now() - retention
        ORDER BY created_at LIMIT batch FOR UPDATE SKIP LOCKED
    ), gone AS (
        DELETE FROM request_log r USING due
        WHERE r.organization_id = organization AND r.record_id = due.record_id RETURNING 1
    )
    SELECT count(*)::integer FROM gone
    $$;
REVOKE ALL ON FUNCTION forget_old_requests(text, interval, integer) FROM PUBLIC;
