"""Signatures on deliveries from the bus to a remote.

The header follows the mock MOM server of the Magenerds project: `X-Signature: sha1=<hex>` where
<hex> is the HMAC-SHA1 of the raw body keyed with the remote's registered secret. Production MIB's
exact header is not publicly documented (mom-reference.md 1.5, [mock]).
"""

from __future__ import annotations

import hashlib
import hmac

HEADER = "X-Signature"


def sign(secret: str, body: bytes) -> str:
    return "sha1=" + hmac.new(secret.encode(), body, hashlib.sha1).hexdigest()


def verify(secret: str, body: bytes, header_value: str | None) -> bool:
    """Constant-time check of a signature header against the body."""
    if not header_value:
        return False
    return hmac.compare_digest(sign(secret, body).encode(), header_value.strip().encode())
