-- When the vendor changes or deletes a schema extension, every rule may
-- match other members (or, naming what is gone, none): the connections that
-- have rules, in every organization, which row-level security would hide.
CREATE FUNCTION connections_with_rules()
    RETURNS TABLE (organization_id text, connection_id text)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path FROM CURRENT
    AS $$
    SELECT DISTINCT r.organization_id, r.connection_id FROM rule_role_assignments r
    ORDER BY r.organization_id, r.connection_id
    $$;
REVOKE ALL ON FUNCTION connections_with_rules() FROM PUBLIC;
