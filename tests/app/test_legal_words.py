"""The legal basis of every rule and every provincial fee schedule reads in Vietnamese on a
Vietnamese page: documents, articles, clauses and points the Vietnamese way, Đ in the codes,
and no English phrase left over."""

from __future__ import annotations

import re

import pytest

from app.legal_words import legal_basis_in, legal_basis_vi
from tax_calc.rules import RULES
from tax_calc.tables import default_data_dir


def _fee_schedule_sources() -> list[str]:
    """The ``source`` of every fee schedule: a provincial fee line's legal basis is its
    schedule's source (tax_calc/fees.py)."""
    sources = []
    for path in sorted((default_data_dir() / "fees").glob("*.csv")):
        meta = dict(line[2:].split(": ", 1) for line in path.read_text(encoding="utf-8").splitlines()
                    if line.startswith("# ") and ": " in line)
        assert meta["kind"] == "fee_schedule"
        sources.append(meta["source"].strip())
    return sources


def _bases() -> list[str]:
    """Every legal basis a line can carry: each rule's own, the joins the calculator makes
    (late interest over two rules, the special change-of-use levy before the levy, the
    consolidated non-agricultural declaration), and the fee schedules' sources."""
    bases = [rule.legal_basis for rule in RULES]
    by_code: dict[str, list[str]] = {}
    for rule in RULES:
        by_code.setdefault(rule.code, []).append(rule.legal_basis)
    bases += ["; ".join(by_code["late_interest"])]
    bases += [f"{s}; {lv}" for s in by_code["land_use_levy_special_change_of_use"]
              for lv in by_code["land_use_levy"]]
    bases += [nat + "; Circular 153/2011/TT-BTC art. 8(1.2) (consolidated declaration)"
              for nat in by_code["non_agricultural_tax"]]
    bases += _fee_schedule_sources()
    return list(dict.fromkeys(bases))


BASES = _bases()
CODE = re.compile(r"^[A-Z0-9][A-Z0-9-]*$|^[IVX]+$")


def _english_words(text: str) -> set[str]:
    words = set(re.findall(r"[A-Za-z][A-Za-z']*", text))
    return {w for w in words if not CODE.match(w) and len(w) > 1}


@pytest.mark.parametrize("basis", BASES, ids=range(len(BASES)))
def test_no_english_word_is_left_in_vietnamese(basis):
    vi = legal_basis_vi(basis)
    left = sorted(w for w in _english_words(basis) if re.search(rf"(?<![\w]){re.escape(w)}(?![\w])", vi))
    assert left == [], f"{vi!r} keeps {left}"
    assert not re.search(r"\b(?:ND|QD|HDND)\b", vi), vi  # Đ in the codes
    assert not re.search(r"\d\.\d+%|\d{1,3},\d{3}\b", vi), vi  # Vietnamese number marks


@pytest.mark.parametrize(("english", "vietnamese"), [
    ("Decree 10/2022/ND-CP, Article 7", "Nghị định 10/2022/NĐ-CP, Điều 7"),
    ("Decree 10/2022/ND-CP art. 7", "Nghị định 10/2022/NĐ-CP, Điều 7"),
    ("Clause 2, Article 7 of Decision 5/2020/QD-TTg", "Khoản 2 Điều 7 của Quyết định 5/2020/QĐ-TTg"),
    ("Point c, Clause 2, Article 10", "Điểm c khoản 2 Điều 10"),
    ("Resolution 254/2025/QH15 art. 10(2)(c); Decree 50/2026/ND-CP art. 6",
     "Nghị quyết 254/2025/QH15, điểm c khoản 2 Điều 10; Nghị định 50/2026/NĐ-CP, Điều 6"),
    ("Law 38/2019/QH14 art. 59 (0.03% per day)", "Luật 38/2019/QH14, Điều 59 (0,03% mỗi ngày)"),
    ("Circular 153/2011/TT-BTC art. 7-8", "Thông tư 153/2011/TT-BTC, Điều 7-8"),
    ("Circular 153/2011/TT-BTC art. 8(1.2)", "Thông tư 153/2011/TT-BTC, điểm 1.2 khoản 1 Điều 8"),
    ("Land Law 31/2024/QH15 art. 81(8)", "Luật Đất đai 31/2024/QH15, khoản 8 Điều 81"),
    ("Resolution 06/2020/NQ-HDND", "Nghị quyết 06/2020/NQ-HĐND"),
    ("Decree 10/2022/ND-CP art. 7 (base; as amended by Decree 175/2025/ND-CP), art. 8(1) (0.5%)",
     "Nghị định 10/2022/NĐ-CP, Điều 7 (giá tính lệ phí; sửa đổi bởi Nghị định 175/2025/NĐ-CP), "
     "khoản 1 Điều 8 (0,5%)"),
    ("art. 16 (inheritance/gift above 10,000,000)", "Điều 16 (thừa kế, quà tặng trên 10.000.000)"),
])
def test_citations_read_the_vietnamese_way(english, vietnamese):
    assert legal_basis_vi(english) == vietnamese


def test_english_readers_get_the_rules_own_words_with_a_times_sign():
    basis = next(r.legal_basis for r in RULES if r.version == "PIT-2026.07")
    assert legal_basis_in(basis, "en") == basis.replace(" x ", " × ")
    assert legal_basis_in(basis, "vi") == legal_basis_vi(basis)
    assert legal_basis_in(None, "vi") == "" and legal_basis_in("", "en") == ""


def test_the_template_filter_follows_the_reader_language(app):
    from flask import render_template_string, session

    for lang, expected in (("vi", "Nghị định 10/2022/NĐ-CP, Điều 7"), ("en", "Decree 10/2022/ND-CP art. 7")):
        with app.test_request_context("/"):
            session["lang"] = lang
            assert render_template_string("{{ b|legal_basis }}", b="Decree 10/2022/ND-CP art. 7") == expected
