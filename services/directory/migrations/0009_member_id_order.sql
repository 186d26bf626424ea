-- Reconciliation walks an organization's live members in id order, as byte
-- strings (the "C" collation), whatever the database's collation.
CREATE INDEX members_in_id_order ON members (organization_id, (member_id COLLATE "C")) WHERE status <> 'deleted';
