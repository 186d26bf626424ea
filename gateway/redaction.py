"""What the request log may keep of a SCIM request body: everything but
secrets. Passwords (and whatever attributes the vendor names in
SCIMD_REQUEST_LOG_REDACT) are replaced by "[redacted]" wherever they appear:
as an attribute at any depth, under an extension's URN, as a URN-qualified
name, or as the value of a PATCH operation whose path names one."""

from __future__ import annotations

from typing import Any, Iterable

REDACTED = "[redacted]"
ALWAYS = ("password",)


class Redactor:
    def __init__(self, sensitive: Iterable[str] = ()):
        self._names = frozenset(name.strip().lower() for name in (*ALWAYS, *sensitive) if name.strip())

    def is_sensitive(self, name: str) -> bool:
        """`name` is an attribute name, a URN-qualified one, or a PATCH path
        (`password`, `urn:…:User:costCenter`, `emails[type eq "work"].value`)."""
        lowered = name.strip().lower()
        if lowered in self._names:
            return True
        leaf = lowered.split("[", 1)[0].rsplit(":", 1)[-1]
        return leaf in self._names or leaf.split(".", 1)[0] in self._names

    def redact(self, value: Any) -> Any:
        """A copy of `value` with every sensitive attribute's value replaced."""
        if isinstance(value, list):
            return [self.redact(item) for item in value]
        if not isinstance(value, dict):
            return value
        lowered = {str(k).lower(): k for k in value}
        path = value.get(lowered["path"]) if "path" in lowered else None
        result = {}
        for key, item in value.items():
            if isinstance(key, str) and self.is_sensitive(key):
                result[key] = REDACTED
            elif isinstance(key, str) and key.lower() == "value" and isinstance(path, str) and self.is_sensitive(path):
                result[key] = REDACTED  # a PATCH operation that sets a sensitive attribute
            else:
                result[key] = self.redact(item)
        return result
