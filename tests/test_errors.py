"""The one error root (qinqing.errors): every error class qinqing declares is a QinqingError with its own
stable code and HTTP status; the place and the JSON shape; the CLI ends on one without a traceback."""

from __future__ import annotations

import importlib
import pickle
import pkgutil
import re
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

import qinqing
from qinqing.errors import Place, QinqingError

CODE = re.compile(r"^[a-z]+(\.[a-z][a-z0-9_]*)+$")  # "<piece>.<snake_case>"


def _import_every_module() -> None:
    for module in pkgutil.walk_packages(qinqing.__path__, "qinqing."):
        if not module.name.startswith("qinqing.migrations"):  # alembic scripts import only under alembic
            importlib.import_module(module.name)


def _subclasses(root: type) -> list[type]:
    found, todo = [], list(root.__subclasses__())
    while todo:
        cls = todo.pop()
        if cls not in found:
            found.append(cls)
            todo.extend(cls.__subclasses__())
    return sorted(found, key=lambda c: f"{c.__module__}.{c.__qualname__}")


_import_every_module()
ERRORS = [c for c in _subclasses(QinqingError) if c.__module__.startswith("qinqing.")]


def test_the_pieces_roots_are_found():
    names = {c.__name__ for c in ERRORS}
    assert {"AccountError", "CatalogueError", "RuleError", "RegistryError", "StoreError", "WebError",
            "MatchingError"} <= names


@pytest.mark.parametrize("error_type", ERRORS, ids=lambda c: f"{c.__module__}.{c.__qualname__}")
def test_every_error_declares_its_own_code_and_status(error_type):
    name = error_type.__qualname__
    assert "code" in vars(error_type), f"{name} inherits its code: declare code = '<piece>.<name>'"
    assert "status" in vars(error_type), f"{name} inherits its status: declare status = 4xx/5xx"
    assert CODE.match(error_type.code), error_type.code
    assert isinstance(error_type.status, int) and 400 <= error_type.status <= 599, error_type.status


def test_codes_are_unique():
    seen: dict[str, type] = {}
    for error_type in ERRORS:
        assert error_type.code not in seen, f"{error_type.code}: {seen.get(error_type.code)} and {error_type}"
        seen[error_type.code] = error_type


def test_the_code_names_the_piece_that_declares_it():
    for error_type in ERRORS:
        piece = error_type.__module__.split(".")[1]
        assert error_type.code.split(".")[0] == piece, (error_type, error_type.code)


ERRORS_DOC = Path(__file__).resolve().parents[1] / "docs" / "errors.md"
DOC_ROW = re.compile(r"^\| `([a-z]+\.[a-z0-9_.]+)` \|", re.MULTILINE)
DOCUMENTED = set(DOC_ROW.findall(ERRORS_DOC.read_text(encoding="utf-8")))


@pytest.mark.parametrize("error_type", ERRORS, ids=lambda c: f"{c.__module__}.{c.__qualname__}")
def test_every_code_is_documented(error_type):
    assert error_type.code in DOCUMENTED, f"add a row for `{error_type.code}` to docs/errors.md"


def test_every_documented_code_exists():
    assert DOCUMENTED - {c.code for c in ERRORS} == set(), "docs/errors.md lists codes no class declares"


class _Example(QinqingError):
    code = "test.example"
    status = 404
    default_message = "示例不存在。"


def test_the_root_carries_message_place_and_details():
    place = Place(policy_id="zj-001", field="title")
    error = _Example("未找到政策 zj-001。", place=place, policy_id="zj-001")
    assert error.to_dict() == {"status": 404, "code": "test.example", "message": "未找到政策 zj-001。",
                               "place": {"policy_id": "zj-001", "field": "title"},
                               "details": {"policy_id": "zj-001"}}
    assert str(error) == error.describe() == "政策 zj-001，字段 title：未找到政策 zj-001。"
    bare = _Example()
    assert bare.message == str(bare) == "示例不存在。" and bare.place is None


def test_an_empty_place_is_no_place_and_located_fills_only_what_is_unset():
    assert _Example(place=Place()).place is None
    error = _Example("坏了。", place=Place(line=3)).located(file="a.yaml", line=9, column=5)
    assert error.place == Place(file="a.yaml", line=3, column=5)
    assert str(error) == "a.yaml:3:5：坏了。"


@pytest.mark.parametrize(("place", "text"), [
    (Place(file="a.yaml", line=3, column=5), "a.yaml:3:5"),
    (Place(line=3, column=5), "第 3 行第 5 列"),
    (Place(file="企业.csv", row=12, field="营业收入"), "企业.csv，第 12 行，字段 营业收入"),
    (Place(character=7), "第 7 个字符"),
])  # fmt: skip
def test_a_place_reads_as_chinese(place, text):
    assert str(place) == text


def test_an_error_survives_pickling_whatever_its_constructor():
    from qinqing.catalogue.errors import DraftChanged

    error = pickle.loads(pickle.dumps(DraftChanged("zj-001", 3, 4)))
    assert isinstance(error, DraftChanged) and error.place == Place(policy_id="zj-001")
    assert error.details == {"policy_id": "zj-001", "expected": 3, "actual": 4}


def test_a_rules_error_has_its_span_as_place():
    from qinqing.rules import load_policies

    _, errors = load_policies(["/no/such/policy.yaml"])
    assert errors and all(isinstance(e, QinqingError) for e in errors)
    assert errors[0].place.file == "/no/such/policy.yaml" and errors[0].place.line == 1


def test_a_busy_store_says_when_to_retry():
    from qinqing.matching.results import StoreError

    assert StoreError.status == 503 and StoreError.retry_after


# -- the CLI: a QinqingError is a Chinese message with its place, a non-zero status, no traceback --------

def _app_raising(error: Exception) -> typer.Typer:
    from qinqing.cli.errors import QinqingGroup

    app = typer.Typer(cls=QinqingGroup, pretty_exceptions_enable=False)

    @app.command()
    def fail() -> None:
        raise error

    @app.command()
    def other() -> None:  # two commands, so the group dispatches by name as `qinqing` does
        pass

    return app


def test_the_cli_prints_the_message_with_its_place_and_exits_1():
    error = _Example("示例坏了。", place=Place(file="a.yaml", line=2))
    result = CliRunner().invoke(_app_raising(error), ["fail"])
    assert result.exit_code == 1, result.output
    assert "错误：a.yaml:2：示例坏了。" in result.output and "Traceback" not in result.output


def test_the_cli_exits_75_for_try_again_later():
    from qinqing.matching.results import StoreError

    result = CliRunner().invoke(_app_raising(StoreError("结果库正被另一个进程占用")), ["fail"])
    assert result.exit_code == 75 and "错误：结果库正被另一个进程占用" in result.output


def test_a_bug_in_the_cli_keeps_its_traceback():
    result = CliRunner().invoke(_app_raising(ZeroDivisionError("x")), ["fail"])
    assert isinstance(result.exception, ZeroDivisionError)


def test_qinqing_itself_ends_on_a_domain_error_without_a_traceback(tmp_path):
    """`qinqing lists push` on a store with no run: the store's error, in Chinese, not a traceback."""
    from qinqing.cli import app

    result = CliRunner().invoke(app, ["lists", "push", "--out", str(tmp_path / "push.csv"),
                                      "--store", str(tmp_path / "store")])
    assert result.exit_code != 0 and "Traceback" not in result.output
    assert result.output.startswith("错误：") and "尚无匹配结果" in result.output
