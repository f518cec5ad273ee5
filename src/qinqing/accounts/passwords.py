"""Password hashing with argon2id (argon2-cffi's current defaults), the password rules, and the gate that
bounds how many hashes a process computes at once (each takes 64 MiB)."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from qinqing.accounts.errors import InvalidAccount, LoginBusy

_hasher = PasswordHasher()

MIN_PASSWORD_LENGTH = 8
# Bounds the argon2 input and what a form may make the server hash.
MAX_PASSWORD_LENGTH = 128
MIN_CHARACTER_CLASSES = 2
COMMON_PASSWORDS_FILE = Path(__file__).with_name("common_passwords.txt")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """True if ``password`` matches; never raises for a wrong password or a malformed hash."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


@cache
def dummy_hash() -> str:
    """A hash of a random password with the real parameters: an unknown username is verified against it,
    so that it costs as long as a known one (no enumeration by timing)."""
    return hash_password(secrets.token_urlsafe(24))


@cache
def common_passwords() -> frozenset[str]:
    lines = COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().casefold() for line in lines if line.strip() and not line.startswith("#"))


def _character_classes(password: str) -> int:
    return sum((
        any(c.islower() for c in password),
        any(c.isupper() for c in password),
        any(c.isdigit() for c in password),
        any(not c.isalnum() and not c.isspace() for c in password),
    ))


def check_password(password: str, username: str = "") -> None:
    """Raise InvalidAccount (with a Chinese message) unless ``password`` may be set."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidAccount(f"密码至少 {MIN_PASSWORD_LENGTH} 位。", field="password")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise InvalidAccount(f"密码最多 {MAX_PASSWORD_LENGTH} 位。", field="password")
    if not password.strip():
        raise InvalidAccount("密码不能全是空格等空白字符。", field="password")
    if _character_classes(password) < MIN_CHARACTER_CLASSES:
        raise InvalidAccount("密码须至少包含小写字母、大写字母、数字、符号中的两类。", field="password")
    folded = password.strip().casefold()
    if username and folded == username.casefold():
        raise InvalidAccount("密码不能与用户名相同。", field="password")
    if folded in common_passwords():
        raise InvalidAccount("密码过于常见，容易被猜中，请换一个。", field="password")


class PasswordGate:
    """At most ``slots`` argon2 computations at once in this process; a caller waits up to ``wait``
    seconds for a slot and then gets LoginBusy (429) instead of adding another 64 MiB."""

    def __init__(self, slots: int = 4, wait: float = 3.0) -> None:
        if slots < 1:
            raise ValueError("slots must be at least 1")
        self.slots = slots
        self.wait = wait
        self._semaphore = threading.BoundedSemaphore(slots)

    @contextmanager
    def slot(self) -> Iterator[None]:
        if not self._semaphore.acquire(timeout=self.wait):
            raise LoginBusy(retry_after_seconds=max(1, round(self.wait)))
        try:
            yield
        finally:
            self._semaphore.release()
