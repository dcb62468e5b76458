"""Any input, a clear answer: arbitrary JSON text, and valid cases with one value replaced by
arbitrary JSON, fed to the command line. The answer is an assessment (exit 0, JSON on
stdout) or one line ``error: FIELD: message`` (exit 2), never an exception."""

from __future__ import annotations

import copy
import io
import json
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from tax_calc.cli import main
from tax_calc.parse import _CASE_KEYS
from tests.json_fuzz import VALID_CASES, dump, json_values, paths

FUZZ = settings(max_examples=200, deadline=None)

@st.composite
def mutated_cases(draw) -> str:
    case = copy.deepcopy(draw(st.sampled_from(VALID_CASES)))
    path = draw(st.sampled_from(paths(case)))
    target = case
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = draw(json_values)
    return dump(case)


@st.composite
def arbitrary_texts(draw) -> str:
    text = dump(draw(json_values))
    if draw(st.booleans()):  # and sometimes a broken or deeply nested text
        kind = draw(st.sampled_from(["cut", "deep", "garbage"]))
        if kind == "cut":
            text = text[: draw(st.integers(0, max(0, len(text) - 1)))]
        elif kind == "deep":
            n = draw(st.integers(15, 5000))
            text = "[" * n + text + "]" * n
        else:
            text += draw(st.text(max_size=5))
    return text


KNOWN_FIELD = re.compile(r"(?P<key>[a-z_0-9]+)(\[\d+\])?(\..*)?")


def check_answer(text: str) -> None:
    out, err = io.StringIO(), io.StringIO()
    code = main(["-"], stdin=io.StringIO(text), stdout=out, stderr=err)
    if code == 0:
        result = json.loads(out.getvalue())
        assert err.getvalue() == ""
        assert result["total"] == sum(line["amount"] for line in result["lines"])
        return
    assert code == 2, err.getvalue()
    assert out.getvalue() == ""
    message = err.getvalue()
    assert message.endswith("\n") and message.count("\n") == 1, message
    found = re.fullmatch(r"error: (?P<field>.+?): (?P<message>.+)\n", message)
    assert found, message
    field = found["field"]
    known = KNOWN_FIELD.fullmatch(field)
    assert field in {"json", "case", "data file"} or field.startswith('"') or (
        known is not None and known["key"] in _CASE_KEYS
    ) or found["message"] == "unknown field", message


@FUZZ
@given(mutated_cases())
def test_a_valid_case_with_one_value_replaced_gets_a_clear_answer(text):
    check_answer(text)


@FUZZ
@given(arbitrary_texts())
def test_arbitrary_json_gets_a_clear_answer(text):
    check_answer(text)


def test_every_valid_case_is_assessed():
    for case in VALID_CASES:
        out, err = io.StringIO(), io.StringIO()
        assert main(["-"], stdin=io.StringIO(json.dumps(case)), stdout=out, stderr=err) == 0, \
            err.getvalue()
        assert json.loads(out.getvalue())["lines"]
