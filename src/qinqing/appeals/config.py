"""The appeals configuration as data: the 派单目录, time limits with their sources, reminders, ratings,
rankings and the Open311 identity. One YAML document (``data/appeals.yaml`` is the shipped default); a
revision stored with ``AppealService.load_config`` replaces it, and each appeal records the revision it
was dispatched under."""

from __future__ import annotations

import hashlib
from datetime import date
from functools import cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from qinqing.appeals.errors import ConfigError
from qinqing.appeals.workdays import WorkCalendar
from qinqing.errors import Place

DEFAULT_PATH = Path(__file__).parent / "data" / "appeals.yaml"

# 诉求类型 (GB/T 33358 事项内容; 广东 2022 sets a time limit per type).
KINDS = {"consultation": "咨询", "help": "求助", "suggestion": "建议", "complaint": "投诉", "report": "举报"}
CHANNELS = {"portal": "企业门户", "phone": "电话（12345）", "api": "接口", "open311": "Open311"}
CLOCKS = {"dispatch": "派单", "accept": "签收", "handle": "办理", "rehandle": "重办", "rectify": "整改",
          "rating": "评价", "review_return": "退单审核"}
DISPATCH_CLASSES = {"urgent": "紧急", "normal": "一般", "complex": "复杂（需协调）"}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Source(_Model):
    title: str
    note: str = ""
    url: str | None = None


class TimeLimit(_Model):
    clock: Literal["dispatch", "accept", "handle", "rehandle", "rectify", "rating", "review_return"]
    kind: str = "*"
    channel: str = "*"
    dispatch_class: str = "*"
    hours: float | None = Field(default=None, gt=0)
    working_days: int | None = Field(default=None, ge=0)
    source: str

    @model_validator(mode="after")
    def _one_unit(self) -> TimeLimit:
        if (self.hours is None) == (self.working_days is None):
            raise ValueError("a time limit has either hours or working_days")
        return self

    @property
    def specificity(self) -> int:
        return sum(value != "*" for value in (self.kind, self.channel, self.dispatch_class))

    @property
    def text(self) -> str:
        return f"{self.working_days} 个工作日" if self.working_days is not None else f"{self.hours:g} 小时"


class Reminders(_Model):
    warn_working_days_before: int = Field(default=1, ge=0)
    warn_fraction_of_hours: float = Field(default=0.25, ge=0, lt=1)
    escalate_after_working_days: tuple[int, ...] = (0, 5)
    source: str = "ju_rule"


class RatingSettings(_Model):
    levels: dict[int, str]
    dissatisfied_max: int = 2
    rehandle_limit: int = Field(default=1, ge=0)

    @model_validator(mode="after")
    def _five(self) -> RatingSettings:
        if sorted(self.levels) != [1, 2, 3, 4, 5]:
            raise ValueError("好差评 has five levels, 1 to 5")
        return self


class Category(_Model):
    code: str = Field(pattern=r"^[A-Za-z0-9_\-]{1,32}$")
    name: str
    group: str = ""
    description: str = ""
    keywords: tuple[str, ...] = ()
    lead: str
    assisting: tuple[str, ...] = ()
    needs_coordination: bool = False
    dispatch_class: Literal["urgent", "normal", "complex"] = "normal"
    open311_type: Literal["realtime", "batch"] = "realtime"


class Transfer(_Model):
    target: Literal["110", "119", "120", "122"]
    name: str
    keywords: tuple[str, ...] = ()


class LegalRoute(_Model):
    route: str
    name: str
    keywords: tuple[str, ...] = ()
    notice: str


class ClassifierSettings(_Model):
    threshold: float = Field(default=0.6, ge=0, le=1)
    min_training_items: int = Field(default=20, ge=2)


class DuplicateSettings(_Model):
    threshold: float = Field(default=0.5, gt=0, le=1)
    window_days: int = Field(default=90, ge=1)


class Open311Settings(_Model):
    jurisdiction_id: str = "qinqing.local"
    contact: str = ""
    key_service: str = ""
    default_region: str = "110000"


class RankingSettings(_Model):
    min_count: int = Field(default=20, ge=1)
    weights: dict[Literal["response", "resolution", "satisfaction"], float] = Field(
        default_factory=lambda: {"response": 1.0, "resolution": 1.0, "satisfaction": 1.0})
    basis: Literal["wilson", "raw"] = "wilson"
    month_starts_on: int = Field(default=1, ge=1, le=28)


class AppealsConfig(_Model):
    revision_note: str = ""
    dispatch_office: str
    sources: dict[str, Source]
    time_limits: tuple[TimeLimit, ...]
    reminders: Reminders = Reminders()
    rating: RatingSettings
    departments: dict[str, dict[str, str]] = {}
    categories: tuple[Category, ...]
    transfers: tuple[Transfer, ...] = ()
    legal_routes: tuple[LegalRoute, ...] = ()
    classifier: ClassifierSettings = ClassifierSettings()
    duplicates: DuplicateSettings = DuplicateSettings()
    open311: Open311Settings = Open311Settings()
    rankings: RankingSettings = RankingSettings()
    calendar_overrides: dict[date, bool] = {}

    @model_validator(mode="after")
    def _references(self) -> AppealsConfig:
        codes = [c.code for c in self.categories]
        if len(set(codes)) != len(codes):
            raise ValueError("category codes are unique")
        for limit in self.time_limits:
            if limit.source not in self.sources:
                raise ValueError(f"time limit {limit.clock} cites an unknown source {limit.source!r}")
            if limit.kind != "*" and limit.kind not in KINDS:
                raise ValueError(f"unknown kind {limit.kind!r} (one of {', '.join(KINDS)})")
            if limit.channel != "*" and limit.channel not in CHANNELS:
                raise ValueError(f"unknown channel {limit.channel!r} (one of {', '.join(CHANNELS)})")
        for function, by_region in self.departments.items():
            if "*" not in by_region:
                raise ValueError(f"departments.{function} needs a '*' fallback (the 属地 unit that 兜底)")
        for clock in CLOCKS:
            if not any(t.clock == clock for t in self.time_limits):
                raise ValueError(f"no time limit for the {clock} clock")
        for kind in KINDS:
            self.time_limit("handle", kind=kind)  # raises when a kind has no handling limit
        for dispatch_class in DISPATCH_CLASSES:
            self.time_limit("dispatch", dispatch_class=dispatch_class)
        return self

    # --- look-ups -------------------------------------------------------------------------------------

    @property
    def calendar(self) -> WorkCalendar:
        return WorkCalendar(dict(self.calendar_overrides))

    def category(self, code: str) -> Category | None:
        return next((c for c in self.categories if c.code == code), None)

    def time_limit(self, clock: str, *, kind: str = "*", channel: str = "*", dispatch_class: str = "*") -> TimeLimit:
        """The most specific rule for ``clock`` that fits (``"*"`` in a rule fits anything)."""
        wanted = {"kind": kind, "channel": channel, "dispatch_class": dispatch_class}
        fitting = [t for t in self.time_limits if t.clock == clock
                   and all(getattr(t, k) in ("*", v) for k, v in wanted.items())]
        if not fitting:
            raise ValueError(f"no {clock} time limit fits kind={kind} channel={channel} class={dispatch_class}")
        return max(fitting, key=lambda t: t.specificity)

    def department(self, name_or_function: str, region_code: str) -> str:
        """A department function resolved for the region (longest GB/T 2260 prefix), or a literal name."""
        by_region = self.departments.get(name_or_function)
        if by_region is None:
            return name_or_function
        best = max((p for p in by_region if p != "*" and region_code.startswith(p)), key=len, default="*")
        return by_region[best]

    def route(self, code: str, region_code: str) -> tuple[str, tuple[str, ...]]:
        """(主办, 协办…) for a category in a region."""
        category = self.category(code)
        if category is None:
            raise KeyError(code)
        lead = self.department(category.lead, region_code)
        assisting = tuple(d for d in (self.department(a, region_code) for a in category.assisting) if d != lead)
        return lead, assisting

    def all_departments(self) -> list[str]:
        names = {self.dispatch_office}
        for by_region in self.departments.values():
            names.update(by_region.values())
        return sorted(names)

    def source_text(self, key: str) -> str:
        return self.sources[key].title if key in self.sources else key


def parse_config(text: str, *, file: str = "appeals.yaml") -> AppealsConfig:
    """Validate a configuration document; a ``ConfigError`` names the key (and the line for YAML errors)."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        place = Place(file=file, line=mark.line + 1, column=mark.column + 1) if mark else Place(file=file)
        raise ConfigError(f"YAML 格式错误：{getattr(error, 'problem', error)}", place=place) from None
    if not isinstance(data, dict):
        raise ConfigError("配置应为一个 YAML 映射（键: 值）。", place=Place(file=file))
    try:
        return AppealsConfig.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ConfigError(f"配置项 {where or '（根）'} 有误：{first['msg']}", place=Place(file=file, field=where or None),
                          problems=[{"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]}
                                    for e in error.errors()]) from None


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@cache
def default_text() -> str:
    return DEFAULT_PATH.read_text(encoding="utf-8")


@cache
def default_config() -> AppealsConfig:
    return parse_config(default_text(), file=str(DEFAULT_PATH.name))
