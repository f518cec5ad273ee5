"""Accounts: users and roles, password hashing, sessions, CSRF, API tokens, login rate limit, authorisation."""

from qinqing.accounts.authz import Principal, Role
from qinqing.accounts.service import AccountService

__all__ = ["AccountService", "Principal", "Role"]
