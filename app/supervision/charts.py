"""Charts drawn on the server as SVG: no script, no outside network, readable without
colour (each bar carries its numbers as text) and by a screen reader (``role="group"`` with
a label, a title and a description: a group, not an image, since its labels are links)."""

from __future__ import annotations

from markupsafe import Markup

ON_TIME = "#2e7d32"
LATE = "#c62828"
OPEN = "#9e9e9e"


def _pct(rate: float | None) -> str:
    return "—" if rate is None else f"{rate * 100:.1f}%"


def bars(groups: list[dict], key: str, *, title: str, labels: dict[str, str] | None = None,
         link=None, open_text: str = "%(n)s open", width: int = 640) -> Markup:
    """One horizontal bar per group: on time (green), late (red) and open (grey) steps,
    lengths proportional to counts, with the on-time rate written beside it. ``link(group)``
    gives each label's drill-down address."""
    labels = labels or {}
    row_h, label_w, text_w = 28, 170, 150
    bar_w = width - label_w - text_w
    most = max((g["finished"] + g["open"] for g in groups), default=0) or 1
    height = row_h * max(len(groups), 1) + 10
    desc = "; ".join(
        f"{labels.get(str(g[key]), g[key])}: {_pct(g['on_time_rate'])} "
        f"({g['on_time']}/{g['finished']}, {g['open']} open)" for g in groups) or "—"
    parts = [Markup('<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="group" '
                    'width="{w}" height="{h}" viewBox="0 0 {w} {h}" aria-label="{t}">'
                    '<title>{t}</title><desc>{d}</desc>').format(w=width, h=height, t=title, d=desc)]
    for i, g in enumerate(groups):
        y = 5 + i * row_h
        label = labels.get(str(g[key]), str(g[key]))
        text = Markup('<text x="0" y="{y}" font-size="13">{label}</text>').format(y=y + 18, label=label)
        if link is not None:
            text = Markup('<a href="{href}">{text}</a>').format(href=link(g), text=text)
        parts.append(text)
        x = label_w
        for count, colour, name in ((g["on_time"], ON_TIME, "on-time"), (g["late"], LATE, "late"),
                                    (g["open"], OPEN, "open")):
            w = round(bar_w * count / most, 1)
            if w:
                parts.append(Markup('<rect class="{n}" x="{x}" y="{y}" width="{w}" height="18" '
                                    'fill="{c}"/>').format(n=name, x=x, y=y + 4, w=w, c=colour))
            x += w
        beside = f'{_pct(g["on_time_rate"])} · {g["on_time"]}/{g["finished"]}'
        if g["open"]:
            beside += " · " + open_text % {"n": g["open"]}
        parts.append(Markup('<text x="{x}" y="{y}" font-size="13">{t}</text>').format(
            x=label_w + bar_w + 8, y=y + 18, t=beside))
    parts.append(Markup("</svg>"))
    return Markup("").join(parts)


def legend(on_time: str, late: str, open_: str) -> Markup:
    items = ((ON_TIME, on_time), (LATE, late), (OPEN, open_))
    return Markup("").join(
        Markup('<span class="legend"><svg width="12" height="12" aria-hidden="true"><rect '
               'width="12" height="12" fill="{c}"/></svg> {t}</span> ').format(c=colour, t=text)
        for colour, text in items)
