-- Filters on extension attributes that can use an index (issue 21 §1).
-- Row-level security lets an index serve a condition only when every function
-- applied to a column in it is leakproof, and the jsonb accessors are not,
-- so `(scim_attributes -> urn) ->> attribute = $1` scanned the connection's
-- members. These wrappers read the same value and cannot fail on any input
-- (a missing key or a non-object is NULL), so they are declared LEAKPROOF
-- where the migrating user may (a superuser); elsewhere they still work,
-- without the index. Not SQL functions: the planner would inline those and
-- see the accessors again.
CREATE FUNCTION scim_text(doc jsonb, urn text, attribute text) RETURNS text
    LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ BEGIN RETURN (doc -> urn) ->> attribute; END $$;
CREATE FUNCTION scim_folded_text(doc jsonb, urn text, attribute text) RETURNS text
    LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ BEGIN RETURN lower((doc -> urn) ->> attribute); END $$;
DO $$
BEGIN
    IF (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
        ALTER FUNCTION scim_text(jsonb, text, text) LEAKPROOF;
        ALTER FUNCTION scim_folded_text(jsonb, text, text) LEAKPROOF;
    END IF;
END $$;

-- Entra's common matching attribute besides userName and email (caseExact false).
CREATE INDEX members_employee_number ON members (organization_id, connection_id,
    scim_folded_text(scim_attributes, 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User', 'employeeNumber'));
