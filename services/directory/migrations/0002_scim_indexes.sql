-- SCIM reads within one connection: lookups by externalId and listing in creation order.
CREATE INDEX members_external_id ON members (connection_id, external_id);
CREATE INDEX members_connection_page ON members (connection_id, created_at, member_id);
