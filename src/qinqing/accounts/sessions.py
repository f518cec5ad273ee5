"""Signed session cookies and the CSRF tokens bound to them.

A session is a small signed value ``{"u": user_id or None, "e": auth epoch, "n": nonce}``. Every
visitor gets one, so the login form is CSRF-protected too; logging in rotates the nonce. The CSRF token
is an HMAC of the nonce, so it needs no server-side storage and dies with the session.

The epoch is the user's ``auth_epoch`` at login. Logout, a password change or reset and deactivation
raise the stored epoch, so every cookie signed before stops working at once (``AccountService.for_session``
compares the two on every request): revocation on the server although the cookie is stateless.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeTimedSerializer

SESSION_MAX_AGE = 12 * 3600  # seconds: one working day


@dataclass(frozen=True)
class Session:
    user_id: int | None
    nonce: str
    epoch: int | None = None

    @staticmethod
    def anonymous() -> Session:
        return Session(user_id=None, nonce=secrets.token_urlsafe(18))

    def logged_in(self, user_id: int, epoch: int = 0) -> Session:
        # A fresh nonce on login defeats session fixation.
        return Session(user_id=user_id, nonce=secrets.token_urlsafe(18), epoch=epoch)


class SessionCodec:
    def __init__(self, secret_key: str, max_age: int = SESSION_MAX_AGE) -> None:
        if not secret_key:
            raise ValueError("secret_key must not be empty")
        self._serializer = URLSafeTimedSerializer(secret_key, salt="qinqing.session")
        self._csrf_key = hashlib.sha256(("qinqing.csrf:" + secret_key).encode()).digest()
        self.max_age = max_age

    def encode(self, session: Session) -> str:
        return self._serializer.dumps({"u": session.user_id, "e": session.epoch, "n": session.nonce})

    def decode(self, value: str | None) -> Session | None:
        """The session in a cookie value; None if absent, tampered with or expired."""
        if not value:
            return None
        try:
            data = self._serializer.loads(value, max_age=self.max_age)
        except BadSignature:
            return None
        if not isinstance(data, dict) or not isinstance(data.get("n"), str):
            return None
        user_id, epoch = data.get("u"), data.get("e")
        if not isinstance(user_id, int) or isinstance(user_id, bool) or not isinstance(epoch, int):
            # Anonymous, or signed before epochs existed: such a cookie names no user.
            return Session(user_id=None, nonce=data["n"])
        return Session(user_id=user_id, nonce=data["n"], epoch=epoch)

    def csrf_token(self, session: Session) -> str:
        return hmac.new(self._csrf_key, session.nonce.encode(), hashlib.sha256).hexdigest()

    def csrf_valid(self, session: Session, token: str | None) -> bool:
        return bool(token) and hmac.compare_digest(self.csrf_token(session), token)
