-- When each bearer token last authenticated a SCIM request (gateways report it in batches).
ALTER TABLE bearer_tokens ADD COLUMN last_used_at timestamptz;
