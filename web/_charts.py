"""Attention over time as inline SVG drawn on the server, and the same numbers as a table and CSV.

No chart library and no script: a chart is an ``<svg role="img">`` with a
``<title>`` and a ``<desc>`` that says what it shows in words, a ``<title>`` on
every bar or point (the browser shows it on hover), and the page puts the same
numbers in a table beside it. Series are told apart by colour (the Okabe-Ito
palette, safe for colour-blind readers) and by dash pattern and marker shape,
so a grey print still reads. Every string is escaped here; the markup is built
from numbers.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from markupsafe import Markup, escape

# (colour, dash pattern, marker): Okabe & Ito's palette, one dash and marker each.
STYLES: tuple[tuple[str, str, str], ...] = (
    ("#0072B2", "", "circle"),
    ("#D55E00", "7 4", "square"),
    ("#009E73", "2 3", "triangle"),
    ("#CC79A7", "9 3 2 3", "diamond"),
)
WIDTH, HEIGHT = 720, 260
LEFT, RIGHT, TOP, BOTTOM = 56, 14, 14, 40
MAX_MARKERS = 80  # more points than this: lines without markers
MAX_PERIODS = 5_000  # a chart over more periods than this is refused by the caller (dates too far apart)


@dataclass
class Series:
    """One line (or the bars) of a chart: matches per period and, for shares, all articles per period."""

    label: str
    counts: dict[str, int]
    totals: dict[str, int] = field(default_factory=dict)

    def value(self, period: str, measure: str) -> float:
        count = self.counts.get(period, 0)
        if measure == "share":
            total = self.totals.get(period, 0)
            return count / total if total else 0.0
        return float(count)


@dataclass
class Chart:
    svg: Markup
    periods: list[str]
    series: list[Series]
    measure: str
    interval: str

    def rows(self) -> list[tuple[str, list[tuple[int, int, float]]]]:
        """Per period: (count, all articles, share) of each series, for the table."""
        out = []
        for period in self.periods:
            cells = []
            for one in self.series:
                count, total = one.counts.get(period, 0), one.totals.get(period, 0)
                cells.append((count, total, count / total if total else 0.0))
            out.append((period, cells))
        return out


def _parse(key: str) -> date:
    return date.fromisoformat(key[:10])


def _step(day: date, interval: str) -> date:
    if interval == "day":
        return day + timedelta(days=1)
    if interval == "week":
        return day + timedelta(days=7)
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def periods(series: Sequence[Series], interval: str) -> list[str]:
    """Every period from the first to the last that any series has matches or articles in, empty
    ones included, as the histograms key them (a day, the Monday of a week, the first of a month)."""
    keys = sorted({key for one in series for key in (*one.counts, *one.totals) if key})
    if not keys:
        return []
    first, last = _parse(keys[0]), _parse(keys[-1])
    out: list[str] = []
    day = first
    while day <= last and len(out) <= MAX_PERIODS:
        out.append(day.isoformat())
        day = _step(day, interval)
    return out


def _nice_ceiling(value: float) -> float:
    """The smallest 1, 2, 4, 6 or 8 times a power of ten at or above ``value`` (1 for nothing):
    its half, the middle grid line, is then a round number too (a whole one for counts from 2 on)."""
    if value <= 0:
        return 1.0
    power = 1.0
    while power * 10 <= value:
        power *= 10
    while power > value:
        power /= 10
    for factor in (1, 2, 4, 6, 8, 10):
        if factor * power >= value:
            return factor * power
    return 10 * power  # pragma: no cover


def format_value(value: float, measure: str) -> str:
    if measure == "share":
        return f"{value * 100:.1f}%"
    return f"{int(value):,}"


def period_label(key: str, interval: str) -> str:
    if interval == "month":
        return _parse(key).strftime("%b %Y")
    if interval == "week":
        return f"week of {key}"
    return key


def _marker(kind: str, x: float, y: float, colour: str, tip: str) -> str:
    title = f"<title>{escape(tip)}</title>"
    if kind == "circle":
        return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{colour}">{title}</circle>'
    if kind == "square":
        return (
            f'<rect x="{x - 3.5:.1f}" y="{y - 3.5:.1f}" width="7" height="7" fill="{colour}">{title}</rect>'
        )
    if kind == "triangle":
        points = f"{x:.1f},{y - 4.5:.1f} {x - 4.5:.1f},{y + 3.5:.1f} {x + 4.5:.1f},{y + 3.5:.1f}"
    else:
        points = f"{x:.1f},{y - 5:.1f} {x + 5:.1f},{y:.1f} {x:.1f},{y + 5:.1f} {x - 5:.1f},{y:.1f}"
    return f'<polygon points="{points}" fill="{colour}">{title}</polygon>'


def _tip(one: Series, period: str, interval: str, measure: str) -> str:
    count, total = one.counts.get(period, 0), one.totals.get(period, 0)
    text = f"{one.label}: {period_label(period, interval)}: {count:,} article{'s' if count != 1 else ''}"
    if total:
        text += f" ({count / total * 100:.1f}% of {total:,})"
    return text


def time_chart(
    series: Sequence[Series], *, interval: str, measure: str, title: str, chart_id: str, bars: bool = False
) -> Chart:
    """The chart of ``series`` per ``interval``, counts or shares (``measure``): bars for one
    series when ``bars``, else a line each."""
    keys = periods(series, interval)
    width = WIDTH - LEFT - RIGHT
    height = HEIGHT - TOP - BOTTOM
    values = [[one.value(p, measure) for p in keys] for one in series]
    top = _nice_ceiling(max((v for row in values for v in row), default=0.0))
    n = max(len(keys), 1)

    def x(i: int) -> float:
        return LEFT + (i + 0.5) * width / n

    def y(v: float) -> float:
        return TOP + height - (v / top) * height

    parts: list[str] = []
    ticks = (0.0, top / 2, top) if measure == "share" or (top / 2).is_integer() else (0.0, top)
    for tick in ticks:  # grid and y labels
        parts.append(
            f'<line class="grid" x1="{LEFT}" x2="{LEFT + width}" y1="{y(tick):.1f}" y2="{y(tick):.1f}"/>'
        )
        parts.append(
            f'<text class="axis" x="{LEFT - 6}" y="{y(tick) + 4:.1f}" text-anchor="end">'
            f"{escape(format_value(tick, measure))}</text>"
        )
    if keys:  # x labels: the first, the last and a few between
        shown = (
            sorted({round(i * (len(keys) - 1) / 4) for i in range(5)}) if len(keys) > 5 else range(len(keys))
        )
        for i in shown:
            anchor = (
                "start"
                if i == 0 and len(keys) > 1
                else "end"
                if i == len(keys) - 1 and len(keys) > 1
                else "middle"
            )
            label = keys[i][:7] if interval == "month" else keys[i]
            parts.append(
                f'<text class="axis" x="{x(i):.1f}" y="{HEIGHT - BOTTOM + 18}" text-anchor="{anchor}">'
                f"{escape(label)}</text>"
            )
    for number, (one, row) in enumerate(zip(series, values, strict=True)):
        colour, dash, marker = STYLES[number % len(STYLES)]
        if bars and len(series) == 1:
            bar = max(1.0, width / n * 0.8)
            for i, value in enumerate(row):
                if value <= 0:
                    continue
                tip = _tip(one, keys[i], interval, measure)
                parts.append(
                    f'<rect class="bar" x="{x(i) - bar / 2:.1f}" y="{y(value):.1f}" width="{bar:.1f}" '
                    f'height="{TOP + height - y(value):.1f}" fill="{colour}"><title>{escape(tip)}</title></rect>'
                )
            continue
        points = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(row))
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        parts.append(
            f'<polyline class="line" points="{points}" fill="none" stroke="{colour}" stroke-width="2"{dash_attr}/>'
        )
        if len(keys) <= MAX_MARKERS:
            parts += [
                _marker(marker, x(i), y(v), colour, _tip(one, keys[i], interval, measure))
                for i, v in enumerate(row)
            ]
    parts.append(
        f'<line class="axis-line" x1="{LEFT}" x2="{LEFT + width}" y1="{TOP + height}" y2="{TOP + height}"/>'
    )
    description = _describe(series, keys, values, interval, measure)
    svg = (
        f'<svg class="chart" role="img" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" focusable="false">'
        f'<title id="{chart_id}-title">{escape(title)}</title>'
        f'<desc id="{chart_id}-desc">{escape(description)}</desc>' + "".join(parts) + "</svg>"
    )
    return Chart(Markup(svg), keys, list(series), measure, interval)


def _describe(
    series: Sequence[Series], keys: list[str], values: list[list[float]], interval: str, measure: str
) -> str:
    if not keys:
        return "No articles to chart."
    what = "Share of all articles" if measure == "share" else "Articles"
    text = (
        f"{what} per {interval} from {period_label(keys[0], interval)} to {period_label(keys[-1], interval)}."
    )
    for one, row in zip(series, values, strict=True):
        best = max(range(len(row)), key=lambda i: row[i])
        text += (
            f" {one.label}: {sum(one.counts.get(k, 0) for k in keys):,} in all, most in "
            f"{period_label(keys[best], interval)} ({format_value(row[best], measure)})."
        )
    return text


def chart_csv(chart: Chart) -> str:
    """The chart's numbers: a row per period; per series its count, all articles and share."""
    out = io.StringIO()
    writer = csv.writer(out)
    header = ["period"]
    for one in chart.series:
        header += [f"{one.label} count", f"{one.label} all articles", f"{one.label} share"]
    writer.writerow(header)
    for period, cells in chart.rows():
        row: list[str | int] = [period]
        for count, total, share in cells:
            row += [count, total, f"{share:.6f}"]
        writer.writerow(row)
    return out.getvalue()
