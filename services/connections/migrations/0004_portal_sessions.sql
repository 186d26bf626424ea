-- A used portal link names the portal session it opened. The session's end (the
-- admin left the portal) is kept here, so every gateway replica refuses its cookie.
ALTER TABLE portal_links ADD COLUMN session_ended_at timestamptz;
