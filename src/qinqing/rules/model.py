"""The policy model: what a policy file says once it is loaded and validated."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

IMPLICIT_IDS = ("region", "industries")
NATIONAL_REGION = "100000"
# Longest title and clause a policy may have (characters; also maxLength in policy.schema.json). Real titles
# run to about 60 characters and clauses to a few hundred; limits keep pages and exports readable.
TITLE_MAX_LENGTH = 200
CLAUSE_MAX_LENGTH = 2000


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Source(_Model):
    url: str
    publisher: str
    retrieved: date


class Condition(_Model):
    id: str
    clause: str = Field(max_length=CLAUSE_MAX_LENGTH)
    expr: str
    note: str | None = None
    materials: tuple[str, ...] = ()  # the entries of the policy's ``materials`` that prove it when data cannot


class Review(_Model):
    """How applications are reviewed and paid (workflow); every key optional, docs/policy-format.md § review."""

    departments: tuple[str, ...] = ()  # two or more: 联审 (joint review); none: the owner department alone
    steps: int = Field(default=1, ge=1, le=5)  # sequential approvals of a single review
    time_limit_days: int | None = Field(default=None, ge=1, le=365)  # working days from 受理 to a decision
    payment_days: int | None = Field(default=None, ge=1, le=365)  # working days from approval to payment
    correction_days: int | None = Field(default=None, ge=1, le=365)  # working days allowed for 补正
    objection_days: int | None = Field(default=None, ge=1, le=365)  # 免申即享 名单公示 window, working days
    confirm_days: int | None = Field(default=None, ge=1, le=365)  # 免申即享 confirmation window, working days


class Rounding(_Model):
    digits: int = Field(default=4, ge=0, le=4)
    mode: Literal["half_up"] = "half_up"


class Benefit(_Model):
    clause: str = Field(max_length=CLAUSE_MAX_LENGTH)
    expr: str
    cap: Decimal | None = None
    rounding: Rounding = Rounding()
    note: str | None = None


class Policy(_Model):
    id: str
    title: str = Field(max_length=TITLE_MAX_LENGTH)
    issuer: str
    document: str
    level: Literal["国家", "省", "市", "区县"]
    region: str
    industries: tuple[str, ...] = ()
    support_type: str
    mode: Literal["免申即享", "即申即享", "申报", "遴选"]
    valid_from: date
    valid_to: date | None = None
    budget: Decimal | None = None
    source: Source
    conditions: tuple[Condition, ...]
    benefit: Benefit | None = None
    materials: tuple[str, ...] = ()
    review: Review | None = None
    exclusion_group: str | None = None  # 从高从优、不重复享受: at most one award of the group per enterprise and year
    notes: str | None = None
    path: str | None = Field(default=None, exclude=True, description="The file it was loaded from.")

    def valid_on(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)
