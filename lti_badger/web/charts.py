"""Small server-rendered SVG charts (no JavaScript, no inline styles): awards over time and
the criteria funnel. Every chart comes with the same numbers as a table for screen readers
and for anyone who prefers numbers; the SVG itself is marked decorative-with-title."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from markupsafe import Markup, escape


@dataclass(frozen=True)
class Series:
    title: str
    labels: list[str]
    values: list[int]


WEEKS = 12


def first_week(today: date, weeks: int = WEEKS) -> date:
    """The Monday the awards chart starts on."""
    return today - timedelta(days=today.weekday()) - timedelta(weeks=weeks - 1)


def awards_per_week(dates: list[datetime], *, weeks: int = WEEKS, today: date) -> Series:
    return weekly_series(Counter(d.date() for d in dates), weeks=weeks, today=today)


def weekly_series(per_day: Mapping[date, int], *, weeks: int = WEEKS, today: date) -> Series:
    """Awards per week from awards per day (counted in Python or by the database)."""
    start = first_week(today, weeks)
    counts: Counter = Counter()
    for day, n in per_day.items():
        monday = day - timedelta(days=day.weekday())
        if monday >= start:
            counts[monday] += n
    labels, values = [], []
    for i in range(weeks):
        monday = start + timedelta(weeks=i)
        labels.append(monday.isoformat())
        values.append(counts.get(monday, 0))
    return Series("awards per week", labels, values)


def bar_chart_svg(series: Series, *, width: int = 640, height: int = 220, horizontal: bool = False) -> Markup:
    """Bars with value labels; the accessible name is the series title (the table has the data)."""
    top = max(series.values or [0]) or 1
    n = max(len(series.values), 1)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
             f'aria-label="{escape(series.title)}" focusable="false"><title>{escape(series.title)}</title>']
    if horizontal:
        row = (height - 10) / n
        label_w = 220
        for i, (label, value) in enumerate(zip(series.labels, series.values)):
            y = 5 + i * row
            w = (width - label_w - 60) * value / top
            parts.append(f'<text x="{label_w - 8}" y="{y + row * 0.62:.1f}" text-anchor="end" font-size="13" fill="#1b1b1b">'
                         f'{escape(label[:32])}</text>')
            parts.append(f'<rect x="{label_w}" y="{y + row * 0.15:.1f}" width="{w:.1f}" height="{row * 0.7:.1f}" fill="#0a4f8f"/>')
            parts.append(f'<text x="{label_w + w + 6:.1f}" y="{y + row * 0.62:.1f}" font-size="13" fill="#1b1b1b">{value}</text>')
    else:
        base = height - 30
        col = (width - 20) / n
        for i, (label, value) in enumerate(zip(series.labels, series.values)):
            h = (base - 20) * value / top
            x = 10 + i * col
            parts.append(f'<rect x="{x + col * 0.15:.1f}" y="{base - h:.1f}" width="{col * 0.7:.1f}" height="{h:.1f}" fill="#0a4f8f"/>')
            parts.append(f'<text x="{x + col / 2:.1f}" y="{base - h - 4:.1f}" text-anchor="middle" font-size="12" fill="#1b1b1b">{value}</text>')
            if i % max(1, n // 6) == 0:
                parts.append(f'<text x="{x + col / 2:.1f}" y="{height - 10}" text-anchor="middle" font-size="11" fill="#4a4a4a">'
                             f'{escape(label[5:])}</text>')
        parts.append(f'<line x1="10" y1="{base}" x2="{width - 10}" y2="{base}" stroke="#4a4a4a"/>')
    parts.append("</svg>")
    return Markup("".join(parts))
