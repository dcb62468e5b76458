"""Hypothesis strategies for arbitrary JSON text, shared by the fuzz tests of the tax CLI and
of the API: values of every JSON type, number literals far past Python's and Decimal's
limits, hostile text, and the key paths of a case to mutate one at a time."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st


class Raw:
    """A number literal written into the JSON text as is (it may be far too long for
    Python's json module to write from an int)."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return f"Raw({self.text[:40]!r}{'...' if len(self.text) > 40 else ''})"


def dump(value: Any) -> str:
    if isinstance(value, Raw):
        return value.text
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(k)}: {dump(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(dump(v) for v in value) + "]"
    return json.dumps(value)


number_literals = st.one_of(
    st.from_regex(r"-?(0|[1-9][0-9]{0,40})(\.[0-9]{1,12})?([eE][+-]?[0-9]{1,12})?",
                  fullmatch=True),
    st.integers(1, 6000).map(lambda n: "9" * n),  # past Python's 4,300 digits
    st.sampled_from(["100000000", "100000000.000001", "10000000000", "10000000001",
                     "1000000000000000", "1000000000000001", "24", "25", "99", "100", "1000",
                     "1001", "0", "-1", "2012", "2028", "2090", "1e999999999", "1e-7"]),
)
texts = st.one_of(
    st.text(max_size=12),
    st.text(st.characters(categories=["Cc", "Cf", "Co", "Cs", "Zl"]), max_size=4),
    st.sampled_from(["2026-11-27", "1999-12-31", "2101-01-01", "2026-02-30", "transfer",
                     "residential", "one_time", "120.5", "1e30", "9" * 40, "x" * 101, "NaN"]),
)
leaves = st.one_of(
    st.none(), st.booleans(), st.integers(), number_literals.map(Raw), texts,
)
json_values = st.recursive(
    leaves,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(texts, children,
                                                                       max_size=4),
    max_leaves=12,
)


def paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    """Every key path inside a case (dict keys and list indices)."""
    found = []
    if isinstance(value, dict):
        for k, v in value.items():
            found.append(prefix + (k,))
            found.extend(paths(v, prefix + (k,)))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            found.append(prefix + (i,))
            found.extend(paths(v, prefix + (i,)))
    return found
