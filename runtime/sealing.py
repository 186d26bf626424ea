"""Encryption at rest of secrets that must be usable again (webhook signing
secrets, session signing keys): AES-256-GCM under SCIMD_ENCRYPTION_KEY."""

from __future__ import annotations

import base64
import binascii
import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from runtime.settings import SettingsError

_NONCE_BYTES = 12


class SecretBox:
    def __init__(self, key_b64: str):
        try:
            key = base64.b64decode(key_b64, validate=True)
        except (binascii.Error, ValueError):
            key = b""
        if len(key) != 32:
            raise SettingsError("SCIMD_ENCRYPTION_KEY must be 32 bytes, base64-encoded")
        self._aead = AESGCM(key)

    def seal(self, plaintext: str) -> bytes:
        nonce = os.urandom(_NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, plaintext.encode(), None)

    def open(self, sealed: bytes) -> str:
        return self._aead.decrypt(sealed[:_NONCE_BYTES], sealed[_NONCE_BYTES:], None).decode()
