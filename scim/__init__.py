"""Pure SCIM 2.0 rules (RFC 7643/7644), free of I/O, shared by the gateway
and the services: schemas and attribute paths, filters, PATCH, projection."""
