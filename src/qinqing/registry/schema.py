"""The enterprise profile: every field a policy may read.

This list is the contract between the registry and the policy language: policies
are written against these names, so a name never changes once published. Money
is in 万元 (exact decimals), ratios are fractions (0.2 means 20%), years are
integers, and any field may be missing (NULL), which is never the same as 0 or
false.

docs/registry.md is generated from this module (``python -m qinqing.registry.docs``)
and a test keeps the two in step.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import Enum


class FieldType(str, Enum):
    """Value types of the policy language, shared by every engine."""

    STRING = "string"
    INTEGER = "integer"
    MONEY = "money"  # exact decimal, 万元, DECIMAL(18,4)
    NUMBER = "number"  # a measured quantity or ratio, DOUBLE
    BOOLEAN = "boolean"
    DATE = "date"


# Longest text an imported cell of a field may hold (after trimming surrounding spaces), by type,
# unless the field declares its own max_length: no number, date or yes/no needs more than 64
# characters, however it is spelled. A longer cell, or one holding a NUL character, rejects its row.
DEFAULT_MAX_LENGTH: dict[FieldType, int] = {
    FieldType.STRING: 200,
    FieldType.INTEGER: 64,
    FieldType.MONEY: 64,
    FieldType.NUMBER: 64,
    FieldType.BOOLEAN: 64,
    FieldType.DATE: 64,
}


@dataclass(frozen=True)
class Field:
    name: str
    label_zh: str
    type: FieldType
    unit: str
    meaning: str
    department: str  # the department that usually holds the data
    derived: bool = False
    max_length: int | None = None  # characters of an imported cell; None: DEFAULT_MAX_LENGTH of the type

    @property
    def length_limit(self) -> int:
        """The most characters an imported cell of this field may hold."""
        return self.max_length if self.max_length is not None else DEFAULT_MAX_LENGTH[self.type]


S, I, M, N, B, D = (
    FieldType.STRING,
    FieldType.INTEGER,
    FieldType.MONEY,
    FieldType.NUMBER,
    FieldType.BOOLEAN,
    FieldType.DATE,
)

_MR = "市场监管部门"
_TAX = "税务部门"
_STAT = "统计部门"
_SCI = "科技部门"
_MIIT = "工业和信息化部门"
_HR = "人力资源和社会保障部门"
_COURT = "人民法院 / 信用中国"
_SAFE = "应急管理部门"
_FIN = "地方金融监管部门"
_DEV = "发展和改革部门"

STORED_FIELDS: tuple[Field, ...] = (
    Field("uscc", "统一社会信用代码", S, "", "18-character identifier per GB 32100-2015; the primary key", _MR, max_length=64),
    Field("name", "企业名称", S, "", "registered name", _MR, max_length=200),
    Field("region_code", "行政区划代码", S, "", "six-digit GB/T 2260 code of the place of registration (county level where known)", _MR, max_length=32),
    Field("industry_code", "行业代码", S, "", "GB/T 4754-2017 code: section letter + 2/3/4 digits, e.g. C3911", _STAT, max_length=32),
    Field("established_on", "成立日期", D, "", "date of establishment", _MR),
    Field("legal_person", "是否独立法人", B, "", "has independent legal-person status (not a branch)", _MR),
    Field("employees", "从业人员", I, "人", "average number of employees in the last year", _STAT),
    Field("insured_employees", "参保人数", I, "人", "employees covered by social insurance", _HR),
    Field("revenue", "营业收入", M, "万元", "operating revenue of the last full year", _TAX),
    Field("revenue_prev", "上年营业收入", M, "万元", "operating revenue of the year before", _TAX),
    Field("total_assets", "资产总额", M, "万元", "total assets at the end of the last year", _TAX),
    Field("industrial_output", "工业总产值", M, "万元", "gross industrial output value of the last year", _STAT),
    Field("industrial_output_prev", "上年工业总产值", M, "万元", "gross industrial output value of the year before", _STAT),
    Field("rd_expense", "研发费用", M, "万元", "R&D expense of the last year (as deducted for tax)", _TAX),
    Field("rd_expense_prev", "上年研发费用", M, "万元", "R&D expense of the year before", _TAX),
    Field("tax_paid", "纳税总额", M, "万元", "taxes paid in the last year", _TAX),
    Field("tax_paid_prev", "上年纳税总额", M, "万元", "taxes paid in the year before", _TAX),
    Field("software_revenue", "软件业务收入", M, "万元", "revenue from software products and services in the last year", _MIIT),
    Field("tech_renovation_investment", "技术改造投资额", M, "万元", "investment in technical renovation projects recorded in statistics (入统) in the last year", _STAT),
    Field("equipment_investment", "设备投资额", M, "万元", "investment in production equipment (incl. robots) in the last year", _MIIT),
    Field("energy_saved_tce", "年节能量", N, "吨标准煤", "annual energy saved by renovation projects, in tonnes of coal equivalent", _DEV),
    Field("unemployment_insurance_paid", "失业保险缴费", M, "万元", "unemployment insurance premiums paid in the last year", _HR),
    Field("layoff_rate", "裁员率", N, "比例", "share of insured employees laid off in the last year (0.05 = 5%)", _HR),
    Field("new_hires_youth", "新招用青年人数", I, "人", "young people (16-24, graduates) newly hired and insured in the year", _HR),
    Field("is_above_scale", "是否规上/限上", B, "", "in the statistics bureau's list of above-scale (规上) or above-quota (限上) enterprises", _STAT),
    Field("above_scale_since", "纳统年份", I, "年", "year the enterprise first entered that list", _STAT),
    Field("high_tech_cert_year", "高企认定年份", I, "年", "year of the current national high-tech enterprise certificate", _SCI),
    Field("high_tech_first_cert", "是否首次认定高企", B, "", "the current certificate is the first (not a renewal)", _SCI),
    Field("tech_sme_year", "科技型中小企业入库年份", I, "年", "year of the latest registration as a tech-based SME", _SCI),
    Field("srdi_year", "专精特新认定年份", I, "年", "year recognised as a provincial 专精特新 SME", _MIIT),
    Field("little_giant_year", "小巨人认定年份", I, "年", "year recognised as a national 专精特新“小巨人”", _MIIT),
    Field("single_champion_year", "单项冠军认定年份", I, "年", "year recognised as a manufacturing single champion", _MIIT),
    Field("smart_factory_level", "智能制造等级", S, "", "highest recognition: 未来工厂 / 智能工厂 / 数字化车间 (empty if none)", _MIIT, max_length=32),
    Field("is_listed", "是否上市", B, "", "listed on a stock exchange", _FIN),
    Field("equity_exchange_listed_year", "区域股权市场挂牌年份", I, "年", "year listed on a regional equity exchange board (e.g. 科创板 of a provincial centre)", _FIN),
    Field("is_dishonest", "是否失信被执行人", B, "", "on the courts' list of dishonest judgement debtors or a severe-dishonesty list", _COURT),
    Field("in_abnormal_list", "是否列入经营异常名录", B, "", "on the market regulator's abnormal-operations list", _MR),
    Field("in_safety_blacklist", "是否列入安全生产黑名单", B, "", "on the work-safety blacklist", _SAFE),
    Field("major_accident_year", "最近重大事故年份", I, "年", "year of the latest major safety or environmental accident", _SAFE),
)

DERIVED_FIELDS: tuple[Field, ...] = (
    Field("size_class", "企业规模", S, "", "大型 / 中型 / 小型 / 微型 per 工信部联企业〔2011〕300号; NULL when an input it needs is missing", _MIIT, True),
    Field("age_years", "成立年限", I, "年", "whole years since established_on, as of the reference date", _MR, True),
    Field("revenue_growth", "营业收入增长率", N, "比例", "revenue / revenue_prev - 1", _TAX, True),
    Field("rd_growth", "研发费用增长率", N, "比例", "rd_expense / rd_expense_prev - 1", _TAX, True),
    Field("rd_intensity", "研发投入强度", N, "比例", "rd_expense / revenue", _TAX, True),
    Field("output_growth", "工业总产值增长率", N, "比例", "industrial_output / industrial_output_prev - 1", _STAT, True),
)

ALL_FIELDS: tuple[Field, ...] = STORED_FIELDS + DERIVED_FIELDS
FIELDS_BY_NAME: dict[str, Field] = {f.name: f for f in ALL_FIELDS}
STORED_NAMES: tuple[str, ...] = tuple(f.name for f in STORED_FIELDS)

# Chinese column headers accepted on import, besides the English names.
# The 中文名 of every field is accepted; these are common variants seen in exports.
HEADER_ALIASES: dict[str, str] = {
    **{f.label_zh: f.name for f in STORED_FIELDS},
    "企业名称(全称)": "name",
    "信用代码": "uscc",
    "社会信用代码": "uscc",
    "注册地区划代码": "region_code",
    "区划代码": "region_code",
    "国民经济行业代码": "industry_code",
    "行业分类代码": "industry_code",
    "注册日期": "established_on",
    "成立时间": "established_on",
    "从业人数": "employees",
    "职工人数": "employees",
    "营业收入(万元)": "revenue",
    "上年营业收入(万元)": "revenue_prev",
    "资产总额(万元)": "total_assets",
    "研发费用(万元)": "rd_expense",
    "上年研发费用(万元)": "rd_expense_prev",
    "纳税总额(万元)": "tax_paid",
    "是否规上": "is_above_scale",
    "是否限上": "is_above_scale",
    "高新技术企业认定年份": "high_tech_cert_year",
    "是否失信": "is_dishonest",
    "是否经营异常": "in_abnormal_list",
}


def field(name: str) -> Field:
    """The field called ``name``; KeyError if there is none."""
    return FIELDS_BY_NAME[name]


# --- declared value ranges ----------------------------------------------------------------------
# The closed range [low, high] a known (non-NULL) value of each numeric field lies in. rules/bounds.py
# proves a policy's amount range from these, so they are generous upper limits for any real enterprise,
# not typical values. A derived field's range follows from its definition and its inputs' ranges.
MONEY_MAX = Decimal("10000000000")  # 1e10 万元 = 100 万亿元: above the total assets of China's largest bank
MONEY_STEP = Decimal("0.0001")  # money is stored to 4 places (1 元)
HEADCOUNT_MAX = 10_000_000  # registry/validate.py MAX_HEADCOUNT
YEAR_RANGE = (1900, 9999)  # registry/validate.py EARLIEST_YEAR; the last year a date can have
ENERGY_SAVED_MAX = Decimal("1000000000")  # 1e9 tce: a fifth of China's yearly energy use

_RANGE_OVERRIDES: dict[str, tuple[Decimal, Decimal]] = {
    "energy_saved_tce": (Decimal(0), ENERGY_SAVED_MAX),
    "layoff_rate": (Decimal(0), Decimal(1)),
    # whole years from established_on (>= 1900) to any reference date (<= 9999-12-31); negative before it
    "age_years": (Decimal(YEAR_RANGE[0] - YEAR_RANGE[1] - 1), Decimal(YEAR_RANGE[1] - YEAR_RANGE[0])),
    # (a - b) / b with 0 <= a <= MONEY_MAX and MONEY_STEP <= b (b = 0 gives NULL); a / b likewise
    **{name: (Decimal(-1), MONEY_MAX / MONEY_STEP) for name in ("revenue_growth", "rd_growth", "output_growth")},
    "rd_intensity": (Decimal(0), MONEY_MAX / MONEY_STEP),
}


def _declared_range(f: Field) -> tuple[Decimal, Decimal] | None:
    if f.name in _RANGE_OVERRIDES:
        return _RANGE_OVERRIDES[f.name]
    if f.type is FieldType.MONEY:
        return Decimal(0), MONEY_MAX
    if f.type is FieldType.INTEGER and f.unit == "人":
        return Decimal(0), Decimal(HEADCOUNT_MAX)
    if f.type is FieldType.INTEGER and f.unit == "年":
        return Decimal(YEAR_RANGE[0]), Decimal(YEAR_RANGE[1])
    return None


VALUE_RANGES: dict[str, tuple[Decimal, Decimal]] = {
    f.name: r for f in ALL_FIELDS if f.type in (FieldType.MONEY, FieldType.INTEGER, FieldType.NUMBER)
    for r in [_declared_range(f)] if r is not None
}
