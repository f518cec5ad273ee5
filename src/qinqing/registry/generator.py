"""Synthetic enterprise registries for demos and benchmarks, deterministic for a seed.

Rows are drawn in chunks with numpy (one generator per chunk, seeded from (seed, chunk number)),
turned into Arrow record batches typed like the store, and appended to a CSV or Parquet file, so
memory stays bounded whatever ``n`` is, and the same seed gives a byte-identical file.

The distributions are plausible, not statistics: section shares roughly follow the
enterprise counts by 门类 of China's economic censuses, sizes are heavy-tailed (lognormal
employees, revenue per employee by section), and certifications and blacklists appear at
rates of the order seen in practice (高企 ~7% of manufacturers, 专精特新 ~2%, 小巨人 ~0.3%,
失信 ~1%, 经营异常 ~3%). Every optional field is also missing (NULL) in 5-15% of rows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from qinqing.errors import Place
from qinqing.registry.errors import GenerateRefused
from qinqing.registry.schema import STORED_FIELDS
from qinqing.registry.standards import industries, regions, uscc
from qinqing.registry.tables import ENTERPRISES_ARROW_SCHEMA

DEFAULT_AS_OF = date(2024, 12, 31)  # fixed, so that a seed gives the same file on any day
CHUNK_ROWS = 100_000
HOME_SHARE = 0.85  # share of enterprises in the chosen province

# Rough shares of enterprises by 门类 (A-T); T (国际组织) gets none.
SECTION_WEIGHTS = {
    "A": 3.0, "B": 0.5, "C": 15.0, "D": 0.7, "E": 5.0, "F": 28.0, "G": 3.0, "H": 3.0, "I": 5.0, "J": 0.5,
    "K": 5.0, "L": 13.0, "M": 8.0, "N": 1.0, "O": 3.0, "P": 1.0, "Q": 0.7, "R": 2.5, "S": 0.1,
}
# Median operating revenue per employee, 万元, by 门类 (others: 30).
REVENUE_PER_EMPLOYEE = {"A": 25, "B": 150, "C": 60, "D": 150, "E": 50, "F": 120, "G": 50, "H": 15,
                        "I": 40, "J": 100, "K": 80, "L": 40, "M": 30}
ASSETS_TO_REVENUE = {"K": 4.0, "J": 8.0, "D": 2.5}  # median total assets / revenue (others: 0.9)
# Revenue (万元) from which an enterprise is above scale (规上/限上), approximately per 门类.
ABOVE_SCALE_REVENUE = {"B": 2000, "C": 2000, "D": 2000, "E": 2000, "H": 200}
RETAIL_DIVISION, RETAIL_THRESHOLD, WHOLESALE_THRESHOLD, SERVICES_THRESHOLD = "52", 500, 2000, 1000

ALWAYS_PRESENT = {"uscc", "name", "region_code", "industry_code"}
SMART_FACTORY = np.array(["未来工厂", "智能工厂", "数字化车间"], dtype=object)
TRADE_NAMES = list("恒泰华鑫瑞丰安康盛达宏远兴隆嘉禾永信诚德正元博通昌明海润天佑金源新峰汇聚鼎力宇星晨光锦程卓越")
SECTION_WORDS = {
    "A": ["农业", "生态农业", "养殖", "林业"], "B": ["矿业", "能源"], "C": ["机械", "电子", "新材料", "精密制造", "智能装备", "化工", "纺织", "食品"],
    "D": ["能源", "电力", "燃气"], "E": ["建设", "建筑工程", "装饰工程"], "F": ["贸易", "商贸", "商行", "供应链"], "G": ["物流", "运输"],
    "H": ["餐饮", "酒店管理"], "I": ["信息技术", "网络科技", "软件"], "J": ["投资", "融资租赁"], "K": ["置业", "房地产开发"],
    "L": ["商务咨询", "企业管理", "人力资源"], "M": ["科技", "检测技术", "设计"], "N": ["环境工程", "园林"], "O": ["家政服务", "维修服务"],
    "P": ["教育科技", "培训"], "Q": ["健康管理", "医疗"], "R": ["文化传媒", "体育文化"], "S": ["社区服务"],
}
USCC_ALPHABET = np.frombuffer(uscc.ALPHABET.encode(), dtype=np.uint8)
_USCC_WEIGHTS = np.array([pow(3, i, 31) for i in range(17)], dtype=np.int64)
_ORG_WEIGHTS = np.array([3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)


@dataclass(frozen=True)
class Plan:
    """What every chunk draws from: regions, industries and per-field missing rates, fixed by the seed."""

    seed: int
    province: str | None
    as_of: date

    @cached_property
    def _setup_rng(self) -> np.random.Generator:
        return np.random.default_rng([self.seed, 0xC0DE])

    @cached_property
    def counties(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """County codes, their probabilities and the place name used in company names."""
        codes = [c for c in regions.all_codes() if regions.level(c) == "county"]
        rng = np.random.default_rng([self.seed, 1])
        weights = np.empty(len(codes))
        city_weight: dict[str, float] = {}
        prefixes = []
        for i, code in enumerate(codes):
            parent = regions.parent(code) or code[:2] + "0000"
            if parent not in city_weight:  # a provincial capital's city code ends in 0100
                city_weight[parent] = rng.lognormal(0, 0.6) * (2.5 if parent.endswith("0100") else 1.0)
            kind = int(code[4:6])  # 01-20 districts, 21-80 counties, 81-99 county-level cities
            structural = 1.5 if kind <= 20 else (1.2 if kind >= 81 else 0.7)
            weights[i] = city_weight[parent] * structural * rng.lognormal(0, 0.5)
            prefixes.append(_place_prefix(parent))
        codes_array = np.array(codes)
        if self.province:
            home = np.array([c[:2] == self.province[:2] for c in codes])
            if not home.any():
                raise GenerateRefused(f"省级行政区划代码“{self.province}”下没有区县", province=self.province)
            weights = np.where(home, weights / weights[home].sum() * HOME_SHARE,
                               weights / weights[~home].sum() * (1 - HOME_SHARE))
        return codes_array, weights / weights.sum(), np.array(prefixes, dtype=object)

    @cached_property
    def industry_classes(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """小类 codes grouped by section: codes, section letters present, their start and count, probabilities."""
        by_section: dict[str, list[str]] = {}
        for code in industries.classes():
            by_section.setdefault(code[0], []).append(code)
        letters = [s for s in sorted(by_section) if SECTION_WEIGHTS.get(s, 0) > 0]
        codes = np.array([c for s in letters for c in by_section[s]])
        counts = np.array([len(by_section[s]) for s in letters])
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
        weights = np.array([SECTION_WEIGHTS[s] for s in letters])
        return codes, np.array(letters), np.stack([starts, counts]), weights / weights.sum()

    @cached_property
    def missing_rates(self) -> dict[str, float]:
        optional = [f.name for f in STORED_FIELDS if f.name not in ALWAYS_PRESENT]
        return dict(zip(optional, self._setup_rng.uniform(0.05, 0.15, len(optional))))

    @cached_property
    def body_permutations(self) -> tuple[int, int, int, int]:
        """(a, b) of i -> a*i+b mod m, one pair for 8-digit bodies (m=1e8), one for MA+6 (m=31^6)."""
        rng = self._setup_rng
        a8 = int(rng.integers(10**6, 10**7)) * 10 + 3  # ends in 3: coprime to 10**8
        a6 = int(rng.integers(10**6, 10**7)) * 31 + 7  # not a multiple of 31: coprime to 31**6
        return a8, int(rng.integers(0, 10**8)), a6, int(rng.integers(0, 31**6))


def _place_prefix(parent: str) -> str:
    place = regions.name(parent) or ""
    for suffix in ("特别行政区", "维吾尔自治区", "壮族自治区", "回族自治区", "自治区", "自治州", "地区", "盟", "省", "市"):
        if place.endswith(suffix) and len(place) > len(suffix) + 1:
            return place[: -len(suffix)]
    return place


def generate(
    path: str | Path,
    n: int,
    seed: int = 0,
    *,
    province: str | None = None,
    as_of: date = DEFAULT_AS_OF,
    chunk_rows: int = CHUNK_ROWS,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Write ``n`` synthetic enterprises to ``path`` (.csv with Chinese headers, or .parquet); returns n."""
    path = Path(path)
    plan = Plan(seed, province, as_of)
    suffix = path.suffix.lower()
    if suffix not in {".csv", ".parquet"}:
        raise GenerateRefused("输出文件应以.csv或.parquet结尾", place=Place(file=str(path)))
    writer = _writer(path, suffix)
    try:
        for chunk, start in enumerate(range(0, n, chunk_rows)):
            rows = min(chunk_rows, n - start)
            writer.write(draw_chunk(plan, chunk, start, rows))
            if progress is not None:
                progress(rows)
    finally:
        writer.close()
    return n


class _writer:
    def __init__(self, path: Path, suffix: str):
        if suffix == ".parquet":
            self._parquet = pq.ParquetWriter(path, ENTERPRISES_ARROW_SCHEMA, compression="zstd")
            self._csv = None
        else:
            self._parquet = None
            self._schema = pa.schema([pa.field(f.label_zh, t.type) for f, t in zip(STORED_FIELDS, ENTERPRISES_ARROW_SCHEMA)])
            self._sink = pa.OSFile(str(path), "wb")
            self._sink.write(b"\xef\xbb\xbf")  # BOM: Excel then opens the Chinese headers correctly
            self._csv = pa_csv.CSVWriter(self._sink, self._schema, write_options=pa_csv.WriteOptions(quoting_style="needed"))

    def write(self, batch: pa.RecordBatch) -> None:
        if self._parquet is not None:
            self._parquet.write_batch(batch)
        else:
            self._csv.write_batch(pa.RecordBatch.from_arrays(batch.columns, schema=self._schema))

    def close(self) -> None:
        if self._parquet is not None:
            self._parquet.close()
        else:
            self._csv.close()
            self._sink.close()


def draw_chunk(plan: Plan, chunk: int, start: int, rows: int) -> pa.RecordBatch:
    """Rows ``start`` … ``start + rows - 1`` of the registry, as a record batch typed like the store."""
    rng = np.random.default_rng([plan.seed, chunk])
    county_codes, county_p, county_prefix = plan.counties
    class_codes, letters, (starts, counts), section_p = plan.industry_classes
    county = rng.choice(len(county_codes), size=rows, p=county_p)
    section_index = rng.choice(len(letters), size=rows, p=section_p)
    industry = class_codes[starts[section_index] + (rng.random(rows) * counts[section_index]).astype(np.int64)]
    section = letters[section_index]
    region = county_codes[county]

    age_days = np.minimum(rng.exponential(8 * 365.25, rows), 40 * 365.25).astype(np.int64) + 30
    established = np.datetime64(plan.as_of, "D") - age_days
    established_year = established.astype("datetime64[Y]").astype(np.int64) + 1970
    age_years = age_days / 365.25
    young = age_years < 1  # no full year of accounts yet

    employees = np.clip(np.round(rng.lognormal(np.log(8), 1.4, rows)), 1, 60_000).astype(np.int64)
    per_employee = np.vectorize(lambda s: REVENUE_PER_EMPLOYEE.get(s, 30), otypes=[float])(section)
    revenue = employees * per_employee * rng.lognormal(0, 0.8, rows)
    assets_ratio = np.vectorize(lambda s: ASSETS_TO_REVENUE.get(s, 0.9), otypes=[float])(section)
    total_assets = revenue * assets_ratio * rng.lognormal(0, 0.6, rows)
    growth = np.clip(rng.normal(0.06, 0.18, rows), -0.6, 1.5)
    revenue_prev = revenue / (1 + growth)
    industrial = np.isin(section, ["B", "C", "D"])
    output = revenue * rng.uniform(0.92, 1.08, rows)
    output_prev = output / (1 + np.clip(growth + rng.normal(0, 0.05, rows), -0.6, 1.5))
    rd_rate = np.select([section == "C", section == "I", section == "M"], [0.45, 0.5, 0.4], 0.08)
    has_rd = rng.random(rows) < rd_rate
    rd = revenue * np.clip(rng.lognormal(np.log(0.03), 0.6, rows), 0, 0.6)
    rd_prev = rd / (1 + np.clip(rng.normal(0.1, 0.3, rows), -0.7, 2))
    tax = revenue * rng.lognormal(np.log(0.035), 0.5, rows)
    tax_prev = tax / (1 + np.clip(growth + rng.normal(0, 0.1, rows), -0.7, 2))
    software = revenue * rng.uniform(0.3, 1.0, rows)
    has_software = (section == "I") & (rng.random(rows) < 0.6)
    manufacturing = section == "C"
    has_renovation = manufacturing & (rng.random(rows) < 0.12)
    renovation = revenue * rng.lognormal(np.log(0.05), 0.8, rows)
    has_equipment = manufacturing & (rng.random(rows) < 0.25)
    equipment = revenue * rng.lognormal(np.log(0.03), 0.8, rows)
    energy_saved = np.where(has_renovation & (rng.random(rows) < 0.4), rng.lognormal(np.log(200), 1.2, rows), np.nan)
    insured = np.round(employees * rng.beta(8, 2, rows)).astype(np.int64)
    unemployment_paid = insured * 0.04 * rng.lognormal(0, 0.25, rows)
    layoff = np.where(rng.random(rows) < 0.25, rng.beta(1.2, 25, rows), 0.0)
    youth = rng.poisson(employees * 0.04)

    threshold = _above_scale_threshold(section, industry)
    above_scale = (revenue >= threshold) & ~young
    above_since = _year_between(rng, np.maximum(established_year, 2000), plan.as_of.year)
    cert_base = np.select([section == "C", section == "I", section == "M"], [0.07, 0.10, 0.08], 0.005)
    high_tech = (rng.random(rows) < cert_base * np.where(employees > 50, 1.5, 0.8)) & ~young
    high_tech_year = np.maximum(plan.as_of.year - rng.integers(0, 3, rows), established_year)
    tech_sme = (rng.random(rows) < np.where(np.isin(section, ["C", "I", "M"]), 0.10, 0.01)) & (employees <= 500)
    tech_sme_year = np.maximum(plan.as_of.year - rng.integers(0, 2, rows), established_year)
    srdi_rate = np.select([section == "C", np.isin(section, ["I", "M"])], [0.25, 0.10], 0.02)  # among the ~30% eligible by size and age
    srdi = (rng.random(rows) < srdi_rate) & (employees >= 10) & (employees <= 1000) & (age_years >= 3)
    srdi_year = _year_between(rng, np.maximum(established_year, 2019), plan.as_of.year)
    little_giant = srdi & (rng.random(rows) < 0.15)
    little_giant_year = _year_between(rng, srdi_year, plan.as_of.year)
    champion = manufacturing & (employees > 300) & (rng.random(rows) < 0.01)
    champion_year = _year_between(rng, np.maximum(established_year, 2016), plan.as_of.year)
    smart_draw = rng.random(rows)
    smart_level = np.where(smart_draw < 0.001, 0, np.where(smart_draw < 0.011, 1, np.where(smart_draw < 0.041, 2, -1)))
    smart_level = np.where(manufacturing, smart_level, -1)
    listed = rng.random(rows) < np.select([employees > 500, employees > 100], [0.08, 0.005], 0.0)
    equity_listed = ~listed & (rng.random(rows) < 0.005)
    equity_year = _year_between(rng, np.maximum(established_year, 2015), plan.as_of.year)
    dishonest = rng.random(rows) < 0.01
    abnormal = rng.random(rows) < np.where(employees < 10, 0.04, 0.015)
    safety_black = rng.random(rows) < np.where(np.isin(section, ["B", "C", "E"]), 0.004, 0.001)
    accident = rng.random(rows) < 0.001
    accident_year = _year_between(rng, np.maximum(established_year, plan.as_of.year - 5), plan.as_of.year)

    columns = {
        "uscc": _usccs(plan, start, rows, region, established_year),
        "name": _names(rng, county_prefix[county], section, employees),
        "region_code": region,
        "industry_code": industry,
        "established_on": established,
        "legal_person": rng.random(rows) < 0.96,
        "employees": employees,
        "insured_employees": insured,
        "revenue": _where(~young, revenue),
        "revenue_prev": _where(age_years >= 2, revenue_prev),
        "total_assets": total_assets,
        "industrial_output": _where(industrial & ~young, output),
        "industrial_output_prev": _where(industrial & (age_years >= 2), output_prev),
        "rd_expense": _where(has_rd & ~young, rd),
        "rd_expense_prev": _where(has_rd & (age_years >= 2), rd_prev),
        "tax_paid": _where(~young, tax),
        "tax_paid_prev": _where(age_years >= 2, tax_prev),
        "software_revenue": _where(has_software & ~young, software),
        "tech_renovation_investment": _where(has_renovation, renovation),
        "equipment_investment": _where(has_equipment, equipment),
        "energy_saved_tce": energy_saved,
        "unemployment_insurance_paid": unemployment_paid,
        "layoff_rate": layoff,
        "new_hires_youth": youth,
        "is_above_scale": above_scale,
        "above_scale_since": _where(above_scale, above_since),
        "high_tech_cert_year": _where(high_tech, high_tech_year),
        "high_tech_first_cert": _where(high_tech, rng.random(rows) < 0.5),
        "tech_sme_year": _where(tech_sme, tech_sme_year),
        "srdi_year": _where(srdi, srdi_year),
        "little_giant_year": _where(little_giant, little_giant_year),
        "single_champion_year": _where(champion, champion_year),
        "smart_factory_level": np.where(smart_level >= 0, SMART_FACTORY[np.maximum(smart_level, 0)], None),
        "is_listed": listed,
        "equity_exchange_listed_year": _where(equity_listed, equity_year),
        "is_dishonest": dishonest,
        "in_abnormal_list": abnormal,
        "in_safety_blacklist": safety_black,
        "major_accident_year": _where(accident, accident_year),
    }
    arrays = []
    for spec in ENTERPRISES_ARROW_SCHEMA:
        values = columns[spec.name]
        missing = _missing_mask(values)
        if spec.name in plan.missing_rates:
            missing = missing | (rng.random(rows) < plan.missing_rates[spec.name])
        arrays.append(_arrow(values, missing, spec.type))
    return pa.RecordBatch.from_arrays(arrays, schema=ENTERPRISES_ARROW_SCHEMA)


def _above_scale_threshold(section: np.ndarray, industry: np.ndarray) -> np.ndarray:
    division = np.array([code[1:3] for code in industry])
    threshold = np.full(len(section), float(SERVICES_THRESHOLD))
    for letter, value in ABOVE_SCALE_REVENUE.items():
        threshold[section == letter] = value
    trade = section == "F"
    threshold[trade] = np.where(division[trade] == RETAIL_DIVISION, RETAIL_THRESHOLD, WHOLESALE_THRESHOLD)
    return threshold


def _year_between(rng: np.random.Generator, low: np.ndarray, high: int) -> np.ndarray:
    low = np.minimum(np.asarray(low, dtype=np.int64), high)
    return low + (rng.random(len(low)) * (high - low + 1)).astype(np.int64)


def _where(present: np.ndarray, values: np.ndarray) -> np.ndarray:
    """``values`` where ``present``, else NaN (floats) or a masked marker (integers, booleans)."""
    if values.dtype.kind == "f":
        return np.where(present, values, np.nan)
    return np.ma.masked_array(values, mask=~present)


def _missing_mask(values) -> np.ndarray:
    if isinstance(values, np.ma.MaskedArray):
        return np.ma.getmaskarray(values)
    if values.dtype.kind == "f":
        return np.isnan(values)
    if values.dtype == object:
        return np.array([v is None for v in values])
    return np.zeros(len(values), dtype=bool)


def _arrow(values, missing: np.ndarray, type_: pa.DataType) -> pa.Array:
    data = np.ma.getdata(values) if isinstance(values, np.ma.MaskedArray) else values
    if pa.types.is_decimal(type_):
        return pa.array(np.round(np.nan_to_num(data), 4), mask=missing).cast(type_, safe=False)
    if pa.types.is_date(type_):
        return pa.array(data.astype("datetime64[D]"), mask=missing).cast(type_)
    if pa.types.is_floating(type_):
        return pa.array(np.round(np.nan_to_num(data), 6), mask=missing, type=type_)
    if pa.types.is_string(type_):
        return pa.array(np.where(missing, None, data).tolist() if data.dtype == object else data, mask=missing, type=type_)
    return pa.array(data, mask=missing, type=type_)


def _usccs(plan: Plan, start: int, rows: int, region: np.ndarray, established_year: np.ndarray) -> np.ndarray:
    """Unique valid codes: 9 1 + region + organisation code (8 digits, or MA+6 since 2016) + check."""
    a8, b8, a6, b6 = plan.body_permutations
    index = np.arange(start, start + rows, dtype=np.int64)
    chars = np.empty((rows, 18), dtype=np.uint8)
    chars[:, 0], chars[:, 1] = ord("9"), ord("1")
    chars[:, 2:8] = np.frombuffer("".join(region).encode(), dtype=np.uint8).reshape(rows, 6)
    new_style = established_year >= 2016
    old = (a8 * index + b8) % 10**8  # a8 * index stays far below 2**63 for any realistic n
    for k in range(8):
        chars[:, 15 - k] = ord("0") + (old // 10**k) % 10
    new = (a6 * index + b6) % 31**6
    chars[new_style, 8], chars[new_style, 9] = ord("M"), ord("A")
    for k in range(6):
        chars[new_style, 15 - k] = USCC_ALPHABET[((new // 31**k) % 31)[new_style]]
    body = chars[:, 8:16].astype(np.int64)
    value36 = np.where(body <= ord("9"), body - ord("0"), body - ord("A") + 10)
    org = 11 - (value36 * _ORG_WEIGHTS).sum(axis=1) % 11
    chars[:, 16] = np.select([org == 10, org == 11], [ord("X"), ord("0")], ord("0") + org % 10)
    lookup = np.full(128, -1, dtype=np.int64)
    lookup[USCC_ALPHABET] = np.arange(31)
    total = (lookup[chars[:, :17]] * _USCC_WEIGHTS).sum(axis=1)
    chars[:, 17] = USCC_ALPHABET[(31 - total % 31) % 31]
    codes = chars.view("S18").ravel().astype(str)
    # the standard's own implementation confirms the vectorised arithmetic on a sample
    for code in codes[:: max(1, rows // 50)]:
        assert uscc.make(code[0], code[1], code[2:8], code[8:17]) == code, code
    return codes


def _names(rng: np.random.Generator, place: np.ndarray, section: np.ndarray, employees: np.ndarray) -> np.ndarray:
    rows = len(place)
    trade = np.array(TRADE_NAMES, dtype=object)
    first, second = trade[rng.integers(0, len(trade), rows)], trade[rng.integers(0, len(trade), rows)]
    pick = rng.random(rows)
    words = np.array([SECTION_WORDS[s][int(p * len(SECTION_WORDS[s]))] for s, p in zip(section, pick)], dtype=object)
    suffix = np.where(employees > 1000, "股份有限公司", np.where(rng.random(rows) < 0.1, "有限责任公司", "有限公司"))
    return place + first + second + words + suffix.astype(object)
