"""Secrets we hand out once and keep only as SHA-256 hashes (API tokens, invitations)."""

from __future__ import annotations

import hashlib
import secrets

TOKEN_PREFIX = "tp_"  # noqa: S105 - a prefix, not a secret


def secret_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def api_token_generate() -> tuple[str, str]:
    """Return ``(token, display_prefix)``; the token is ``tp_`` + 40 url-safe characters."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(30)
    return token, token[:10]


def invitation_token_generate() -> str:
    return secrets.token_urlsafe(24)
