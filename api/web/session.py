"""The web pages' session: an encrypted cookie, a CSRF synchronizer token, the security headers.

The cookie holds the API token the person pasted at sign-in, the session's CSRF token and a
one-shot notice for the next page. It is encrypted and authenticated (Fernet: AES-128-CBC with
HMAC-SHA256, under a key derived from the session secret with HKDF), so the token cannot be read
out of a copied cookie or a browser's storage, and a cookie changed in any way is no session at
all. Fernet's timestamp bounds a session to `SESSION_MAX_AGE`. The cookie is HttpOnly,
SameSite=Lax, and Secure when served over https.
The token is authenticated again on every request, so revoking or expiring it ends the session
at once, and roles changed by an admin apply on the next page.

Every state-changing form carries the session's CSRF token in a hidden field; a POST whose
field does not match (or that comes from another origin) is refused with a 403 page.
"""

import base64
import contextlib
import hmac
import json
import secrets
from dataclasses import dataclass, field
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from starlette.requests import Request
from starlette.responses import Response

COOKIE_NAME = "lifecycle_session"
SESSION_MAX_AGE = 12 * 60 * 60  # seconds
CSRF_FIELD = "csrf_token"

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


def add_security_headers(response: Response, *, private: bool = True) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers[name] = value
    if private:
        response.headers.setdefault("Cache-Control", "no-store")
    return response


@dataclass
class WebSession:
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    token: str | None = None
    notice: str | None = None
    changed: bool = False

    def csrf_matches(self, sent: object) -> bool:
        return isinstance(sent, str) and hmac.compare_digest(sent.encode(), self.csrf.encode())

    def take_notice(self) -> str | None:
        notice, self.notice = self.notice, None
        if notice is not None:
            self.changed = True
        return notice

    def say(self, notice: str) -> None:
        self.notice, self.changed = notice, True


def session_key(secret: str) -> bytes:
    """The cookie's Fernet key, derived from the configured secret (which may be any string)
    for this one use, so the same secret used elsewhere never yields this key."""
    derived = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"lifecycle.web.session.v1"
    ).derive(secret.encode())
    return base64.urlsafe_b64encode(derived)


class SessionCodec:
    def __init__(self, secret: str) -> None:
        self._fernet = Fernet(session_key(secret))
        # Set when the pages are served at an https public origin through a proxy that
        # speaks plain http to us: the request's own scheme would say "not TLS".
        self.always_secure = False

    def _secure(self, request: Request) -> bool:
        return self.always_secure or request.url.scheme == "https"

    def read(self, request: Request) -> WebSession:
        """The request's session, or a fresh anonymous one (marked changed, so it is sent)."""
        raw = request.cookies.get(COOKIE_NAME)
        if raw:
            data: Any = None
            # forged, changed, expired or from another secret: no session
            with contextlib.suppress(InvalidToken, ValueError):
                data = json.loads(self._fernet.decrypt(raw, ttl=SESSION_MAX_AGE))
            if isinstance(data, dict) and isinstance(data.get("c"), str):
                token, notice = data.get("t"), data.get("n")
                return WebSession(
                    csrf=data["c"],
                    token=token if isinstance(token, str) else None,
                    notice=notice if isinstance(notice, str) else None,
                )
        return WebSession(changed=True)

    def write(self, request: Request, response: Response, session: WebSession) -> None:
        payload = {"c": session.csrf, "t": session.token, "n": session.notice}
        value = self._fernet.encrypt(json.dumps(payload).encode()).decode()
        response.set_cookie(
            COOKIE_NAME,
            value,
            max_age=SESSION_MAX_AGE,
            path="/",
            httponly=True,
            samesite="lax",
            secure=self._secure(request),
        )

    def clear(self, request: Request, response: Response) -> None:
        response.delete_cookie(
            COOKIE_NAME,
            path="/",
            httponly=True,
            samesite="lax",
            secure=self._secure(request),
        )
