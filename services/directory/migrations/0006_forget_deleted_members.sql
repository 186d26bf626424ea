-- A deleted member's personal data is forgotten after the retention period:
-- its names, emails and every SCIM attribute. The row stays (its id may be
-- referenced by events and the audit log, which hold no personal data), with
-- its userName replaced by its own id. Runs across organizations, which
-- row-level security would hide, so it is a function owned by the schema's owner.
CREATE FUNCTION forget_deleted_members(retention interval, batch integer) RETURNS integer
    LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path FROM CURRENT
    AS $$
    WITH due AS (
        SELECT member_id FROM members
        WHERE status = 'deleted' AND deleted_at < now() - retention AND scim_attributes <> '{}'::jsonb
        ORDER BY deleted_at LIMIT batch FOR UPDATE SKIP LOCKED
    ), forgotten AS (
        UPDATE members m SET user_name = m.member_id, external_id = NULL, email_address = '', name = '',
                             scim_attributes = '{}'::jsonb
        FROM due WHERE m.member_id = due.member_id
        RETURNING 1
    )
    SELECT count(*)::integer FROM forgotten
    $$;
REVOKE ALL ON FUNCTION forget_deleted_members(interval, integer) FROM PUBLIC;
CREATE INDEX members_deleted ON members (deleted_at) WHERE status = 'deleted' AND scim_attributes <> '{}'::jsonb;
