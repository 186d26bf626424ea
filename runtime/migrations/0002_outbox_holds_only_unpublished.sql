-- The relay deletes the rows it published (after the PubAck) instead of
-- marking them: each event lives on in JetStream and in the webhooks service's
-- events table. Marking rewrote every row with its indexes, and a cleanup
-- deleted it an hour later: two more writes per event. Rows that a relay of
-- the previous version marks during a rolling upgrade are skipped by the read
-- (published_at IS NULL) and deleted by the relay's cleanup.
DELETE FROM outbox WHERE published_at IS NOT NULL;
DROP INDEX outbox_published_at;
DROP INDEX outbox_unpublished;
