-- Whether the connection refuses SCIM writes naming attributes no schema
-- declares (issue 21); by default they are kept on the member as sent.
ALTER TABLE connections ADD COLUMN strict_attributes boolean NOT NULL DEFAULT false;
