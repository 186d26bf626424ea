-- Keys for a distributed PostgreSQL (issue 19; see the directory's 0013):
-- sessions are keyed within their organization like every other tenant table.
ALTER TABLE sessions
    DROP CONSTRAINT sessions_pkey,
    ADD CONSTRAINT sessions_pkey PRIMARY KEY (organization_id, session_id),
    DROP CONSTRAINT sessions_token_id_key,
    ADD CONSTRAINT sessions_token_id_key UNIQUE (organization_id, token_id);

-- A session token names no organization, so its lookup (session_by_token_id)
-- still goes by the token id alone: across organizations, through this
-- index. Token ids are 64 random bits, no longer unique by constraint: the
-- caller keeps the session whose secret matches.
CREATE INDEX sessions_by_token ON sessions (token_id);
