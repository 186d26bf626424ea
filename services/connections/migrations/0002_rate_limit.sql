-- Requests per second a connection may make on each gateway; 0 = the project default.
ALTER TABLE connections ADD COLUMN rate_limit_per_second integer NOT NULL DEFAULT 0
    CHECK (rate_limit_per_second >= 0);
