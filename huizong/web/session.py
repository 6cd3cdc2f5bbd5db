"""Signed session cookies (HttpOnly, SameSite=Strict) and a CSRF token for every form.

The cookie holds the account's name and the session's CSRF token, signed with a key kept in
`<warehouse>/web_secret` (made on first use, mode 0600): it cannot be forged or changed, and it
expires after SESSION_SECONDS. The account is looked up again on each request, so a disabled
account's session ends at once."""
from __future__ import annotations

import hmac
import os
import secrets
from pathlib import Path

from itsdangerous import BadSignature, URLSafeTimedSerializer

COOKIE = "huizong_session"
SESSION_SECONDS = 8 * 3600
SECRET_FILE = "web_secret"


def secret_key(warehouse: Path) -> str:
    path = Path(warehouse) / SECRET_FILE
    try:
        return path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        key = secrets.token_hex(32)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(key)
        return key


class Sessions:
    def __init__(self, warehouse: Path) -> None:
        self.signer = URLSafeTimedSerializer(secret_key(warehouse), salt="huizong-session")

    def make(self, name: str) -> tuple[str, str]:
        """A new session's cookie value and its CSRF token."""
        csrf = secrets.token_urlsafe(24)
        return self.signer.dumps({"name": name, "csrf": csrf}), csrf

    def read(self, cookie: str | None) -> dict | None:
        if not cookie:
            return None
        try:
            data = self.signer.loads(cookie, max_age=SESSION_SECONDS)
        except BadSignature:
            return None
        return data if isinstance(data, dict) and "name" in data and "csrf" in data else None


def csrf_ok(session: dict, token: str | None) -> bool:
    return bool(token) and hmac.compare_digest(session["csrf"], token)
