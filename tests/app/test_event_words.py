"""Every kind of event the services record has words in both languages, so a dossier's history
never shows a code such as ``dossier_filed``."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

import app as app_package
from app.services.workflow import TRANSITIONS

RECORDERS = {"record", "record_for_notice", "_record"}


def _emitted_kinds() -> set[str]:
    """The kinds the code records: every transition's kind, and the second argument of each
    call to a recorder (a string, or a module constant naming one)."""
    kinds = set(TRANSITIONS.values())
    root = Path(app_package.__file__).parent
    for path in root.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or len(node.args) < 2:
                continue
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            if name not in RECORDERS:
                continue
            arg = node.args[1]
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                kinds.add(arg.value)
            elif isinstance(arg, ast.Name):
                module = ".".join(path.relative_to(root.parent).with_suffix("").parts)
                value = getattr(importlib.import_module(module), arg.id, None)
                if isinstance(value, str):
                    kinds.add(value)
    return kinds


KINDS = sorted(_emitted_kinds())


def test_the_collection_finds_the_recorded_kinds():
    # Kinds recorded outside the transitions table: by a constant, through record_for_notice,
    # through the refunds' own recorder.
    assert {"step_late_reason", "payment_started", "refund_made", "cadastral_data_sent_to_tax",
            "transfer_matched"} <= set(KINDS)


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_every_event_kind_has_words(app, lang):
    from flask import get_template_attribute, session

    with app.test_request_context("/"):
        session["lang"] = lang
        words = get_template_attribute("_macros.html", "event_words")
        missing = [k for k in KINDS if str(words(k)).strip() in ("", k)]
        assert missing == []
        if lang == "vi":
            english = get_template_attribute("_macros.html", "event_words")
            untranslated = [k for k in KINDS if str(english(k)).isascii()]
            assert untranslated == [], "no Vietnamese words for these kinds"


def test_a_history_reads_in_words(app):
    from flask import render_template_string, session

    events = [{"kind": "dossier_filed", "to_status": "filed", "actor_label": "registry_officer",
               "at": None, "data": {}}]
    with app.test_request_context("/"):
        session["lang"] = "en"
        html = render_template_string('{% from "_macros.html" import events_list %}{{ events_list(events) }}',
                                      events=events)
    assert "Dossier filed by the registry" in html and "now: Filed" in html and "Registry officer" in html
    assert "dossier_filed ->" not in html and "→ filed" not in html
