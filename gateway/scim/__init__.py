"""SCIM 2.0 (RFC 7643/7644): pure rules in users.py, HTTP handlers in routes.py."""
