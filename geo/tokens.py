"""Bearer tokens (kiosk links, sessions, ingest API tokens): made random, stored only as a hash."""

from __future__ import annotations

import hashlib
import secrets


def new_token() -> str:
    """A new random token (32 bytes, URL-safe text); shown once, never stored as such."""
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """The stored form of a token (SHA-256, hex); the token itself is never stored."""
    return hashlib.sha256(token.encode()).hexdigest()
