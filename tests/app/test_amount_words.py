"""An explained line's wording writes its amounts, rates and areas as the line's table does, in
the reader's language, with × for times."""

from __future__ import annotations

import pytest
from babel.numbers import format_decimal

import tax_calc
from app.amount_words import explanation_in
from tests.tax_calc.helpers_tax import transfer_case


@pytest.mark.parametrize(("text", "locale", "expected"), [
    ("Registration fee 0.5% x 8.000.000.000 VND (contract price)", "en",
     "Registration fee 0.5% × 8,000,000,000 ₫ (contract price)"),
    ("Lệ phí trước bạ 0.5% x 8.000.000.000 đ (giá hợp đồng)", "vi",
     "Lệ phí trước bạ 0,5% × 8.000.000.000 ₫ (giá hợp đồng)"),
    ("Annual land rent: 120 m2 x 3.000.000 VND/m2 x the province's rate 1.5%", "en",
     "Annual land rent: 120 m² × 3,000,000 ₫/m² × the province's rate 1.5%"),
    ("Tiền sử dụng đất khi giao đất: 40.50 m2 x (687.200.000 x 1.25)", "vi",
     "Tiền sử dụng đất khi giao đất: 40,5 m² × (687.200.000 × 1,25)"),
    ("Late-payment interest: 1.234.567 VND x 0.03%/day x 12 days (2026-01-01 to 2026-01-12)", "en",
     "Late-payment interest: 1,234,567 ₫ × 0.03%/day × 12 days (01/01/2026 to 12/01/2026)"),
    ("Tiền chậm nộp: 12.345,5 đ x 0.03%/ngày", "vi", "Tiền chậm nộp: 12.345,5 ₫ × 0,03%/ngày"),
    ("Provincial fee: 50.000 VND x 2", "en", "Provincial fee: 50,000 ₫ × 2"),
    ("", "en", ""),
])
def test_wording_is_written_for_the_locale(text, locale, expected):
    assert explanation_in(text, locale) == expected


@pytest.mark.parametrize("locale", ["vi", "en"])
def test_the_same_amount_reads_the_same_in_the_table_and_the_wording(locale):
    """Each line of a real assessment: its base as the table shows it (the ``vnd`` filter's
    format) is written that way in its wording, and no "x" is left for times."""
    assessment = tax_calc.assess(transfer_case())
    for line in assessment.lines:
        text = line.explanation_vi if locale == "vi" else line.explanation_en
        shown = explanation_in(text, locale)
        base = format_decimal(line.base, format="#,##0", locale=locale) + " ₫"
        assert base in shown, (shown, base)
        assert " x " not in shown and "×" in shown
