"""Indicator systems as configuration: the pydantic model of one YAML file and its JSON Schema.

An indicator system is a tree of any depth. A node with ``children`` aggregates them (its ``weights`` and
``aggregate`` say how); a node with ``source`` is an indicator (its ``direction``, ``unit``,
``denominator``, ``period`` and ``normalise`` say what it is and how it is scaled). ``docs/indices.md``
documents every key; ``indicator-system.schema.json`` beside this file is ``system_schema()`` written out
(a test keeps the two equal).
"""

from __future__ import annotations

import json
from itertools import pairwise
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

SCHEMA_FILE = Path(__file__).with_name("indicator-system.schema.json")

Identifier = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,63}$",
                                  description="lower-case letters, digits and _, starting with a letter")]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --- normalisation -------------------------------------------------------------------------------------

class PowerTransform(_Model):
    """``s ↦ s**power`` on the 0–1 goalpost score (DB2015–2020 used such a curve for the total tax rate)."""

    kind: Literal["power"] = "power"
    power: float = Field(gt=0)


class PiecewiseLinearTransform(_Model):
    """Linear interpolation through ``points`` [[x, y], …]: x on the 0–1 goalpost score (``on: score``) or
    on the raw value (``on: value``); y is the 0–1 score that results."""

    kind: Literal["piecewise_linear"] = "piecewise_linear"
    on: Literal["score", "value"] = "score"
    points: list[tuple[float, float]] = Field(min_length=2)

    @model_validator(mode="after")
    def _increasing(self) -> PiecewiseLinearTransform:
        xs = [x for x, _ in self.points]
        if any(b <= a for a, b in pairwise(xs)):
            raise ValueError("points 的 x 必须严格递增")
        return self


Transform = Annotated[PowerTransform | PiecewiseLinearTransform, Field(discriminator="kind")]


class Normalise(_Model):
    """How an indicator's raw values become comparable scores.

    - ``minmax``: (x − min)/(max − min) × scale over the units of the period;
    - ``zscore``: (x − mean)/sd (sample sd), then × ``sd_to`` + ``mean_to``;
    - ``rank``: average rank, 1 for the worst unit … n for the best;
    - ``percentile``: (rank − 1)/(n − 1) × scale;
    - ``goalposts``: distance to frontier with fixed ``best`` and ``worst``: x capped into [best, worst],
      (worst − x)/(worst − best), an optional ``transform``, × scale.

    ``direction`` of the indicator is applied first (a lower-is-better indicator is mirrored), except for
    goalposts, where ``best`` and ``worst`` already say which way is better.
    """

    method: Literal["minmax", "zscore", "rank", "percentile", "goalposts"] = "minmax"
    scale: float = Field(default=100.0, gt=0)
    mean_to: float = 0.0
    sd_to: float = Field(default=1.0, gt=0)
    best: float | None = None
    worst: float | None = None
    transform: Transform | None = None

    @model_validator(mode="after")
    def _goalposts(self) -> Normalise:
        if self.method == "goalposts":
            if self.best is None or self.worst is None:
                raise ValueError("goalposts 需要 best 与 worst")
            if self.best == self.worst:
                raise ValueError("goalposts 的 best 与 worst 不能相等")
        elif self.transform is not None:
            raise ValueError("transform 只用于 goalposts")
        return self


# --- weighting -----------------------------------------------------------------------------------------

class Weights(_Model):
    """How a node weights its children.

    - ``equal``; ``expert``: ``values`` {child id: weight}, rescaled to sum to 1;
    - ``ahp``: ``matrix``, the pairwise comparison matrix (rows and columns in ``order``, default the
      children's order), weights = principal eigenvector; refused when the consistency ratio exceeds
      ``max_cr`` (default 0.1, Saaty);
    - ``entropy``, ``critic``, ``pca``: from the children's scores of the period (data-driven).
    """

    method: Literal["equal", "expert", "ahp", "entropy", "critic", "pca"] = "equal"
    values: dict[str, float] | None = None
    matrix: list[list[float]] | None = None
    order: list[str] | None = None
    max_cr: float = Field(default=0.1, gt=0)
    min_eigenvalue: float = Field(default=1.0, gt=0, description="pca: keep components with eigenvalue ≥ this")
    rotation: Literal["varimax", "none"] = "varimax"

    @model_validator(mode="after")
    def _parameters(self) -> Weights:
        if self.method == "expert" and not self.values:
            raise ValueError("expert 权重需要 values")
        if self.method == "ahp" and not self.matrix:
            raise ValueError("ahp 权重需要 matrix（两两比较矩阵）")
        if self.values is not None and any(v < 0 for v in self.values.values()):
            raise ValueError("权重不能为负")
        return self


Aggregator = Literal["arithmetic", "geometric", "harmonic"]


# --- sources -------------------------------------------------------------------------------------------

class Source(_Model):
    """Where an indicator's values come from: a ``query`` registered by a piece under its name (with
    ``params``), or a ``column`` of a ``table`` declared under the system's ``tables`` (a CSV shipped
    with the configuration or given with ``--data``)."""

    query: str | None = Field(default=None, pattern=r"^[a-z][a-z0-9_.]{0,127}$")
    params: dict[str, Any] = Field(default_factory=dict)
    table: Identifier | None = None
    column: str | None = None

    @model_validator(mode="after")
    def _one(self) -> Source:
        if (self.query is None) == (self.table is None):
            raise ValueError("source 需要 query 或 table 二者之一")
        if self.table is not None and not self.column:
            raise ValueError("table 来源需要 column")
        return self


class Table(_Model):
    """An imported table: ``path`` (CSV, relative to the configuration file), the column naming the unit
    (and optionally its display name and the period); every other column may be an indicator's source."""

    path: str | None = None
    unit_column: str = "unit"
    name_column: str | None = None
    period_column: str | None = None
    sample_column: str | None = None


class Denominator(_Model):
    """The indicator is ``numerator / denominator × per`` (e.g. policies per 10,000 enterprises: per 10000)."""

    source: Source
    per: float = Field(default=1.0, gt=0)


# --- the tree ------------------------------------------------------------------------------------------

class Node(_Model):
    id: Identifier
    name: str = Field(min_length=1, max_length=128)
    description: str | None = None
    # aggregate nodes
    children: list[Node] | None = None
    weights: Weights | None = None
    aggregate: Aggregator | None = None
    min_available: float | None = Field(default=None, ge=0, le=1,
                                        description="share of children with a score needed for this node")
    # indicators
    source: Source | None = None
    unit: str | None = None
    direction: Literal["higher", "lower"] | None = None
    denominator: Denominator | None = None
    period: str | None = Field(default=None, description="the period the value covers, e.g. month, year")
    normalise: Normalise | None = None
    impute: Literal["none", "mean", "median", "min", "max", "carry_forward"] | None = None
    min_sample: int | None = Field(default=None, ge=1)
    weight_note: str | None = Field(default=None, description="e.g. 默认权重，非官方")

    @model_validator(mode="after")
    def _kind(self) -> Node:
        if (self.children is None) == (self.source is None):
            raise ValueError(f"节点 {self.id} 需要 children（汇总节点）或 source（指标）二者之一")
        if self.children is not None:
            if not self.children:
                raise ValueError(f"节点 {self.id} 的 children 不能为空")
            for key in ("unit", "direction", "denominator", "normalise", "impute", "min_sample"):
                if getattr(self, key) is not None:
                    raise ValueError(f"汇总节点 {self.id} 不能有 {key}（只用于指标）")
        else:
            for key in ("weights", "aggregate", "min_available"):
                if getattr(self, key) is not None:
                    raise ValueError(f"指标 {self.id} 不能有 {key}（只用于汇总节点）")
        return self

    @property
    def is_indicator(self) -> bool:
        return self.source is not None

    def walk(self):
        """This node and every node below it, parents before children."""
        yield self
        for child in self.children or ():
            yield from child.walk()

    def indicators(self) -> list[Node]:
        return [node for node in self.walk() if node.is_indicator]


class Missing(_Model):
    """Missing data: indicators reported by fewer than ``indicator_coverage`` of the units are dropped;
    units with fewer than ``unit_availability`` of the indicators are not scored; the remaining gaps are
    imputed by ``impute`` (per indicator overridable), every imputed cell recorded and flagged."""

    indicator_coverage: float = Field(default=0.5, ge=0, le=1)
    unit_availability: float = Field(default=0.6, ge=0, le=1)
    impute: Literal["none", "mean", "median", "min", "max", "carry_forward"] = "none"


class TierLevel(_Model):
    id: Identifier
    label: str
    colour: str = Field(pattern=r"^#[0-9a-fA-F]{6}$")
    min: float | None = Field(default=None, description="thresholds: the lowest score of this tier")
    share: float | None = Field(default=None, gt=0, le=1, description="rank_share: the share of units")


class Tiers(_Model):
    """Colour tiers, best first: by score ``thresholds`` (each level's ``min``; the last has none) or by
    ``rank_share`` (each level's ``share`` of the ranked units; the last takes the rest). ``hysteresis`` is
    the band (score points, or a share) a unit must cross beyond a boundary to leave its previous tier."""

    method: Literal["thresholds", "rank_share"] = "thresholds"
    levels: list[TierLevel] = Field(min_length=2)
    hysteresis: float = Field(default=0.0, ge=0)
    min_sample: int | None = Field(default=None, ge=1, description="units with a smaller sample are not coloured")
    sample_indicator: str | None = None

    @model_validator(mode="after")
    def _levels(self) -> Tiers:
        body = self.levels[:-1]
        if self.method == "thresholds":
            mins = [level.min for level in body]
            if any(m is None for m in mins):
                raise ValueError("thresholds 分档：除最后一档外每档需要 min")
            if any(b >= a for a, b in pairwise(mins)):
                raise ValueError("thresholds 分档的 min 必须从高到低递减")
        else:
            shares = [level.share for level in body]
            if any(s is None for s in shares):
                raise ValueError("rank_share 分档：除最后一档外每档需要 share")
            if sum(shares) >= 1:  # type: ignore[arg-type]
                raise ValueError("rank_share 分档的 share 之和必须小于 1（最后一档取其余）")
        return self


class Supervision(_Model):
    """"Bottom ``bottom_k`` for ``consecutive`` periods → 督办" (default 2 and 2); with ``robust`` only when
    the unit's ``interval`` rank interval from the Monte Carlo lies wholly in the bottom k in each period."""

    bottom_k: int = Field(default=2, ge=1)
    consecutive: int = Field(default=2, ge=1)
    robust: bool = False


class Uncertainty(_Model):
    """Seeded Monte Carlo over the methods: each run perturbs every node's weights by a uniform factor in
    [1 − weight_noise, 1 + weight_noise] and draws a normaliser and an aggregator from the lists
    (``configured`` = the configuration's own choice)."""

    runs: int = Field(default=500, ge=10, le=100000)
    seed: int = 20240601
    weight_noise: float = Field(default=0.25, ge=0, lt=1)
    normalisers: list[Literal["configured", "minmax", "zscore", "rank", "percentile"]] = ["configured"]
    aggregators: list[Literal["configured", "arithmetic", "geometric", "harmonic"]] = ["configured"]
    interval: tuple[float, float] = (5.0, 95.0)


class System(_Model):
    """One indicator system (one YAML file)."""

    id: Identifier
    name: str = Field(min_length=1, max_length=128)
    version: int = Field(default=1, ge=1)
    description: str | None = None
    reference: str | None = Field(default=None, description="the published method or data this reproduces")
    units: Literal["region", "department", "economy", "other"] = "region"
    period: Literal["month", "quarter", "year"] = "month"
    normalise: Normalise = Normalise()
    aggregate: Aggregator = "arithmetic"
    missing: Missing = Missing()
    tables: dict[Identifier, Table] = Field(default_factory=dict)
    tree: Node
    tiers: Tiers | None = None
    supervision: Supervision | None = None
    uncertainty: Uncertainty | None = None

    @model_validator(mode="after")
    def _consistent(self) -> System:
        seen: set[str] = set()
        for node in self.tree.walk():
            if node.id in seen:
                raise ValueError(f"节点 id {node.id} 重复")
            seen.add(node.id)
            if node.children is not None and node.weights is not None:
                ids = [c.id for c in node.children]
                w = node.weights
                if w.values is not None and set(w.values) != set(ids):
                    raise ValueError(f"节点 {node.id} 的 weights.values 须恰好列出其子节点 {ids}")
                if w.matrix is not None:
                    order = w.order or ids
                    if set(order) != set(ids) or len(order) != len(ids):
                        raise ValueError(f"节点 {node.id} 的 weights.order 须恰好列出其子节点 {ids}")
                    if len(w.matrix) != len(ids) or any(len(row) != len(ids) for row in w.matrix):
                        raise ValueError(f"节点 {node.id} 的 AHP 矩阵须为 {len(ids)}×{len(ids)}")
            if node.source is not None:
                for source in (node.source, node.denominator.source if node.denominator else None):
                    if source is not None and source.table is not None and source.table not in self.tables:
                        raise ValueError(f"指标 {node.id} 的 table {source.table} 未在 tables 中声明")
        if self.tiers and self.tiers.sample_indicator and self.tiers.sample_indicator not in seen:
            raise ValueError(f"tiers.sample_indicator {self.tiers.sample_indicator} 不是本体系的指标")
        return self

    def node(self, node_id: str) -> Node:
        for node in self.tree.walk():
            if node.id == node_id:
                return node
        raise KeyError(node_id)

    def indicators(self) -> list[Node]:
        return self.tree.indicators()

    def normalise_of(self, indicator: Node) -> Normalise:
        return indicator.normalise or self.normalise

    def aggregate_of(self, node: Node) -> str:
        return node.aggregate or self.aggregate


Node.model_rebuild()


def system_schema() -> dict:
    """The JSON Schema (draft 2020-12) of an indicator system's YAML."""
    schema = System.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://qinqing.example/schemas/indicator-system.schema.json"
    schema["title"] = "qinqing 指标体系 (indicator system)"
    return schema


def write_schema(path: Path = SCHEMA_FILE) -> None:
    path.write_text(json.dumps(system_schema(), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
