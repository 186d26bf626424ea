-- The vendor's schema extensions of Group (issue 21 §1): a group's values
-- under them, keyed by schema URN, as a member's are in members.scim_attributes.
ALTER TABLE groups ADD COLUMN scim_attributes jsonb NOT NULL DEFAULT '{}'::jsonb;

-- As extension_values (0009) for groups: a change to a Group extension is
-- checked against every value stored under it, in every organization.
CREATE FUNCTION group_extension_values(urn text, after_group text, batch integer)
    RETURNS TABLE (group_id text, organization_id text, value jsonb)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path FROM CURRENT
    AS $$
    SELECT g.group_id, g.organization_id, g.scim_attributes -> urn FROM groups g
    WHERE g.group_id > after_group AND g.status <> 'deleted' AND g.scim_attributes ? urn
    ORDER BY g.group_id LIMIT batch
    $$;
REVOKE ALL ON FUNCTION group_extension_values(text, text, integer) FROM PUBLIC;
