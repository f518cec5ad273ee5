"""The `qinqing` command as a whole: every --help renders, in English; bad input is a Chinese usage error
(exit status 2), never a traceback."""

from __future__ import annotations

import re
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pytest
from typer.main import get_command
from typer.testing import CliRunner

from qinqing.cli import app

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "policies/heilongjiang/hlj-2021-new-above-scale-industrial.yaml"
runner = CliRunner()

# Every group and command, written out by hand: a new command has to be added here (and its --help is checked).
COMMANDS = [
    (), ("match",), ("explain",), ("preview",), ("serve",), ("demo",),
    ("registry",), ("registry", "generate"), ("registry", "import"), ("registry", "validate"), ("registry", "show"),
    ("policy",), ("policy", "check"), ("catalogue",), ("catalogue", "load"), ("catalogue", "list"),
    ("run",), ("run", "full"), ("run", "enterprise"), ("run", "policy"),
    ("lists",), ("lists", "push"), ("lists", "auto-grant"),
    ("audit",), ("audit", "verify"), ("audit", "show"),
    ("indices",), ("indices", "compute"), ("indices", "list"), ("indices", "supervise"),
    ("worker",), ("jobs",),
    ("appeals",), ("appeals", "config"), ("appeals", "config", "show"), ("appeals", "config", "load"),
    ("appeals", "list"), ("appeals", "sweep"), ("appeals", "rankings"), ("appeals", "classifier"),
    ("workflow",), ("workflow", "fund"), ("workflow", "totals"), ("workflow", "grant-batch"), ("workflow", "pay"),
    ("workflow", "bank-file"), ("workflow", "bank-return"), ("workflow", "reconcile"), ("workflow", "queue"),
    ("workflow", "report"), ("workflow", "verify"),
]  # fmt: skip
CJK = re.compile(r"[\u3400-\u9fff]")


def _paths(command, prefix=()):
    yield prefix
    for name, sub in getattr(command, "commands", {}).items():
        yield from _paths(sub, prefix + (name,))


def _flat(text: str) -> str:
    """Output without the error box's borders and line breaks (a long path may wrap inside it)."""
    return re.sub(r"[\s│╭╮╰╯─]", "", text)


def _is_usage_error(result, *fragments: str) -> None:
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    for fragment in fragments:
        assert _flat(fragment) in _flat(result.output), result.output


@pytest.fixture
def registry_csv(tmp_path: Path) -> Path:
    path = tmp_path / "e.csv"
    pacsv.write_csv(pa.table({
        "uscc": ["A", "B"], "name": ["甲公司", "乙公司"], "region_code": ["230102", "230102"],
        "industry_code": ["C3911", "C3911"], "legal_person": [True, True], "is_above_scale": [True, True],
        "above_scale_since": [2021, 2020], "is_dishonest": [False, False], "in_abnormal_list": [False, False],
        "in_safety_blacklist": [False, False],
    }), path)  # fmt: skip
    return path


@pytest.fixture
def catalogue_db(tmp_path: Path, monkeypatch) -> Path:
    """A database (named by QINQING_DATABASE_URL) whose published catalogue is the seed policy."""
    from qinqing.settings import get_settings

    monkeypatch.setenv("QINQING_DATABASE_URL", f"sqlite:///{tmp_path / 'q.db'}")
    get_settings.cache_clear()
    loaded = runner.invoke(app, ["catalogue", "load", str(SEED)])
    assert loaded.exit_code == 0, loaded.output
    yield tmp_path / "q.db"
    get_settings.cache_clear()


def test_the_list_of_commands_is_complete():
    assert sorted(_paths(get_command(app))) == sorted(COMMANDS)


@pytest.mark.parametrize("path", COMMANDS, ids=lambda p: " ".join(p) or "qinqing")
def test_every_help_renders_in_english(path):
    result = runner.invoke(app, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage: qinqing" in result.output
    command = get_command(app)
    for name in path:
        command = command.commands[name]
    texts = [command.help or ""] + [getattr(p, "help", None) or "" for p in command.params]
    for text in filter(None, texts):
        # Chinese terms may be quoted (统一社会信用代码, 免申即享), but the sentence is English.
        assert len(re.findall(r"[A-Za-z]", text)) > len(CJK.findall(text)), f"not English: {text!r}"


@pytest.mark.parametrize("args", [
    ["run", "full", "--as-of", "2025-13-01"],
    ["run", "enterprise", "A", "--as-of", "2025-13-01"],
    ["run", "policy", "hlj-2021-new-above-scale-industrial", "--as-of", "2025-13-01"],
    ["preview", str(SEED), "--as-of", "2025-13-01"],
], ids=lambda a: " ".join(a[:2]) if a[0] == "run" else a[0])  # fmt: skip
def test_a_bad_date_is_a_chinese_usage_error(args, registry_csv, catalogue_db):
    extra = ["--enterprises", str(registry_csv)]
    result = runner.invoke(app, args + extra)
    _is_usage_error(result, "日期格式应为 YYYY-MM-DD，实为“2025-13-01”")


def test_a_day_that_does_not_exist_is_named(registry_csv, catalogue_db):
    result = runner.invoke(app, ["run", "full", "--enterprises", str(registry_csv),
                                 "--as-of", "2025-02-30"])  # fmt: skip
    _is_usage_error(result, "实为“2025-02-30”")


def test_a_missing_catalogue_directory_is_named(tmp_path, catalogue_db):
    missing = tmp_path / "no-such-dir"
    result = runner.invoke(app, ["catalogue", "load", str(missing)])
    _is_usage_error(result, "DIRECTORY", f"找不到政策文件或目录“{missing}”")


def test_match_reports_a_missing_draft_policies_path(tmp_path, registry_csv):
    missing = tmp_path / "no-such-dir"
    result = runner.invoke(app, ["match", "--draft-policies", str(missing), "--enterprises", str(registry_csv),
                                 "--out", str(tmp_path / "o.csv")])  # fmt: skip
    _is_usage_error(result, "--draft-policies", f"找不到政策文件或目录“{missing}”")


def test_a_missing_policy_file_is_named(tmp_path, registry_csv):
    missing = tmp_path / "draft.yaml"
    result = runner.invoke(app, ["preview", "--draft-file", str(missing), "--enterprises", str(registry_csv),
                                 "--as-of", "2025-01-01"])  # fmt: skip
    _is_usage_error(result, "--draft-file", f"找不到政策文件或目录“{missing}”")


def test_preview_wants_exactly_one_policy(tmp_path, registry_csv):
    result = runner.invoke(app, ["preview", "--draft-file", str(tmp_path), "--enterprises", str(registry_csv),
                                 "--as-of", "2025-01-01"])  # fmt: skip
    _is_usage_error(result, f"应为一项政策，“{tmp_path}”中有 0 项")


def test_a_missing_registry_file_is_named(tmp_path, catalogue_db):
    missing = tmp_path / "none.parquet"
    result = runner.invoke(app, ["run", "full", "--enterprises", str(missing),
                                 "--as-of", "2021-12-01", "--store", str(tmp_path / "store")])  # fmt: skip
    _is_usage_error(result, "--enterprises", f"找不到企业数据文件“{missing}”")


def test_policy_errors_are_listed_and_exit_1(tmp_path, catalogue_db):
    bad = tmp_path / "bad.yaml"
    bad.write_text(SEED.read_text(encoding="utf-8").replace("level: 省", "level: 州"), encoding="utf-8")
    result = runner.invoke(app, ["catalogue", "load", str(bad)])
    assert result.exit_code == 1, result.output
    assert "未通过，未发布" in _flat(result.output) and _flat("第 9 行：") in _flat(result.output)
    assert _flat("拒绝 1 个文件") in _flat(result.output)
    drafts = runner.invoke(app, ["match", "--draft-policies", str(bad), "--enterprises", str(tmp_path / "x.csv"),
                                 "--out", str(tmp_path / "o.csv")])  # fmt: skip
    assert drafts.exit_code == 1 and f"{bad}:9:8:" in drafts.output and "政策文件有 1 处错误" in drafts.output


def test_run_full_still_summarises_in_chinese(tmp_path, registry_csv, catalogue_db):
    # One policy × two enterprises on 2021-12-01: A (纳统 2021) is eligible, B (纳统 2020) is not.
    result = runner.invoke(app, ["run", "full", "--enterprises", str(registry_csv),
                                 "--as-of", "2021-12-01", "--store", str(tmp_path / "store")])  # fmt: skip
    assert result.exit_code == 0, result.output
    flat = _flat(result.output)
    assert _flat("政策 1 项（跳过过期 0 项），企业 2 家") in flat
    assert _flat("符合 1，待补充数据 0") in flat


def test_match_reads_a_generated_csv_like_its_parquet_twin(tmp_path):
    """`registry generate` writes CSV with Chinese headers for spreadsheets; `match` must read them."""
    outputs = []
    for suffix in (".csv", ".parquet"):
        registry = tmp_path / f"registry{suffix}"
        made = runner.invoke(app, ["registry", "generate", "--n", "300", "--seed", "5", "--province", "230000",
                                   "--out", str(registry)])  # fmt: skip
        assert made.exit_code == 0, made.output
        out = tmp_path / f"matches-{suffix[1:]}.csv"
        result = runner.invoke(app, ["match", "--all-pairs", "--draft-policies", str(SEED), "--enterprises", str(registry),
                                     "--out", str(out), "--as-of", "2021-12-01"])  # fmt: skip
        assert result.exit_code == 0, result.output
        outputs.append(pacsv.read_csv(out))
    from_csv, from_parquet = outputs
    assert from_csv.equals(from_parquet)
    assert from_csv.num_rows == 300
    assert "" not in from_csv.column("uscc").to_pylist()
    assert set(from_csv.column("status").to_pylist()) >= {"ineligible", "unknown"}


def test_match_names_an_unreadable_registry_file_without_a_traceback(tmp_path):
    junk = tmp_path / "junk.csv"
    junk.write_bytes(bytes(range(128, 256)) * 3)
    result = runner.invoke(app, ["match", "--draft-policies", str(SEED), "--enterprises", str(junk),
                                 "--out", str(tmp_path / "m.csv")])  # fmt: skip
    _is_usage_error(result, "既不是 UTF-8 也不是 GBK/GB18030 编码的 CSV 文件")
    missing = runner.invoke(app, ["match", "--draft-policies", str(SEED), "--enterprises", str(tmp_path / "none.csv"),
                                  "--out", str(tmp_path / "m.csv")])  # fmt: skip
    _is_usage_error(missing, "找不到企业数据文件")


def test_preview_names_regions_industries_and_amounts_in_chinese(registry_csv):
    # Hand-worked: A entered the above-scale list in 2021 (50 万元), B in 2020 (not new); both in 道里区.
    result = runner.invoke(app, ["preview", "--draft-file", str(SEED), "--enterprises", str(registry_csv),
                                 "--as-of", "2021-12-01"])
    assert result.exit_code == 0, result.output
    flat = _flat(result.output)
    for line in ("范围内企业 2 家，符合 1，待补充数据 0，预计金额 50 万元", "每家金额：最低 50 · ", "最高 50 万元",
                 "金额区间：50 万元 1 家", "按地区：黑龙江省哈尔滨市道里区 符合1 待补0", "按行业门类：C 制造业 符合1 待补0",
                 "按企业规模：未知规模 符合1 待补0"):
        assert _flat(line) in flat, line
    assert "None" not in result.output
