-- A SCIM listing of a connection's users (the IdP's view: neither status nor
-- scim_status 'deleted') finds its window and its total on this index alone.
-- It carried status but not scim_status, so each page read every earlier
-- row of the connection from the table and sorted them, and the count read
-- them all again: an index-only scan instead of a heap scan and a sort.
DROP INDEX members_connection_page;
CREATE INDEX members_connection_page ON members (organization_id, connection_id, created_at, member_id)
    INCLUDE (status, scim_status);
