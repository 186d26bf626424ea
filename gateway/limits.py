"""Limits of what the gateway reads from a client."""

MAX_BODY_BYTES = 1024 * 1024
