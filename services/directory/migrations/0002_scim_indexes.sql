-- SCIM reads within one connection: lookups by externalId, and listing in
-- creation order. The listing index holds both tenant columns and the order,
-- so its plan needs no sort even before the table has statistics (an IdP's
-- first import can add thousands of users within a minute); INCLUDE (status)
-- lets counts skip the table.
CREATE INDEX members_external_id ON members (organization_id, connection_id, external_id);
CREATE INDEX members_connection_page ON members (organization_id, connection_id, created_at, member_id) INCLUDE (status);
