"""Deadline clocks: each step of a dossier, its agency and citizen time, late reasons and apologies.

No table: the clocks are computed from the ``events`` table (app/services/clocks.py), and a
late step's reason and new date are themselves an event (``step_late_reason``), so there is
nothing to keep in step with the events.
"""

from __future__ import annotations

__all__: list[str] = []
