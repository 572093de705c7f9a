"""The staffing page's charts (issue #19): server-drawn SVG of bot.support.staffing's figures,
every label escaped and no script, since the console's Content-Security-Policy allows none."""
from __future__ import annotations

import html
import math
from dataclasses import dataclass
from typing import Iterable, Sequence

from bot.support.staffing import HOURS, StaffingReport


CHART_WIDTH, WIDE_CHART_WIDTH, CHART_HEIGHT = 640, 1100, 220
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 42, 10, 26, 30
TEXT_STYLE = 'font-family="system-ui, sans-serif" font-size="12" fill="#4b5563"'
SHADE = "#eceef1"
CONVERSATIONS_COLOUR, HANDOFFS_COLOUR, WAIT_COLOUR, AGENTS_COLOUR = "#2563eb", "#ea580c", "#7c3aed", "#16a34a"


@dataclass(frozen=True)
class Series:
    name: str  # in the legend and the tooltips
    values: tuple[float | None, ...]
    colour: str


@dataclass(frozen=True)
class Axis:
    """The chart's frame: `count` slots across `width`, and a y scale of `lines` steps of `step`."""

    count: int
    step: float
    lines: int
    width: int = CHART_WIDTH

    @classmethod
    def fitting(cls, count: int, series: Sequence[Series], width: int = CHART_WIDTH) -> "Axis":
        largest = max((v for s in series for v in s.values if v is not None), default=0.0)
        step = nice_step(largest / 4)
        return cls(count, step, max(1, math.ceil(largest / step - 1e-9)), width)

    @property
    def top(self) -> float:
        return self.step * self.lines

    @property
    def plot_height(self) -> float:
        return CHART_HEIGHT - MARGIN_TOP - MARGIN_BOTTOM

    @property
    def slot(self) -> float:
        return (self.width - MARGIN_LEFT - MARGIN_RIGHT) / max(self.count, 1)

    def x(self, index: float) -> float:
        return MARGIN_LEFT + self.slot * index

    def y(self, value: float) -> float:
        return MARGIN_TOP + self.plot_height * (1 - value / self.top)


def nice_step(rough: float) -> float:
    """A grid step at least `rough`: 1, 2, 2.5 or 5 times a power of ten (1 at the least)."""
    if rough <= 1:
        return 1.0
    power = 10 ** math.floor(math.log10(rough))
    return next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= rough)


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _fmt(value: float) -> str:
    return f"{value:.0f}" if float(value).is_integer() or abs(value) >= 100 else f"{value:.1f}"


def _frame(axis: Axis, labels: Sequence[str], label_every: int, centred: bool) -> list[str]:
    """Grid lines with their values, and every `label_every`-th x label."""
    parts = []
    for n in range(axis.lines + 1):
        value = axis.step * n
        y = axis.y(value)
        parts.append(f'<line x1="{MARGIN_LEFT}" x2="{axis.width - MARGIN_RIGHT}" y1="{y:.1f}" y2="{y:.1f}" '
                     f'stroke="#e3e6ea"/>')
        parts.append(f'<text x="{MARGIN_LEFT - 4}" y="{y + 4:.1f}" text-anchor="end" {TEXT_STYLE}>'
                     f'{_e(_fmt(value))}</text>')
    baseline = CHART_HEIGHT - MARGIN_BOTTOM + 14
    for index, label in enumerate(labels):
        if index % label_every == 0:
            x, anchor = (axis.x(index + 0.5), "middle") if centred else (axis.x(index) + 2, "start")
            parts.append(f'<text x="{x:.1f}" y="{baseline}" text-anchor="{anchor}" {TEXT_STYLE}>{_e(label)}</text>')
    return parts


def _legend(series: Sequence[Series], extra: Sequence[tuple[str, str]] = ()) -> list[str]:
    parts, x = [], MARGIN_LEFT
    for name, colour in [(s.name, s.colour) for s in series] + list(extra):
        parts.append(f'<rect x="{x}" y="6" width="10" height="10" fill="{_e(colour)}"/>')
        parts.append(f'<text x="{x + 14}" y="15" {TEXT_STYLE}>{_e(name)}</text>')
        x += 30 + 6 * len(name)
    return parts


def _svg(chart_id: str, title: str, axis: Axis, parts: Sequence[str]) -> str:
    return (f'<svg class="staffing-chart" id="{_e(chart_id)}" viewBox="0 0 {axis.width} {CHART_HEIGHT}" '
            f'width="100%" role="img" aria-labelledby="{_e(chart_id)}-title" xmlns="http://www.w3.org/2000/svg">'
            f'<title id="{_e(chart_id)}-title">{_e(title)}</title>' + "".join(parts) + "</svg>")


def _shading(axis: Axis, shaded: Sequence[bool], note: str) -> list[str]:
    """A grey band behind each run of shaded slots (closed hours)."""
    parts, index = [], 0
    while index < len(shaded):
        if not shaded[index]:
            index += 1
            continue
        end = index
        while end < len(shaded) and shaded[end]:
            end += 1
        parts.append(f'<rect x="{axis.x(index):.1f}" y="{MARGIN_TOP}" width="{axis.slot * (end - index):.1f}" '
                     f'height="{axis.plot_height:.1f}" fill="{SHADE}"><title>{_e(note)}</title></rect>')
        index = end
    return parts


def _dividers(axis: Axis, every: int) -> list[str]:
    return [f'<line x1="{axis.x(i):.1f}" x2="{axis.x(i):.1f}" y1="{MARGIN_TOP}" '
            f'y2="{CHART_HEIGHT - MARGIN_BOTTOM}" stroke="#9ca3af" stroke-dasharray="2 2"/>'
            for i in range(every, axis.count, every)]


def _tip(label: str, value: float, s: Series) -> str:
    return f"<title>{_e(label)}: {_e(_fmt(value))} {_e(s.name)}</title>"


def bar_chart(chart_id: str, title: str, labels: Sequence[str], series: Sequence[Series], label_every: int = 1,
              shaded: Sequence[bool] = (), shade_note: str = "", divide_every: int = 0,
              width: int = CHART_WIDTH) -> str:
    """Grouped bars, one group per label; `shaded` slots get a grey band (noted in the legend)
    and a divider every `divide_every` slots."""
    axis = Axis.fitting(len(labels), series, width)
    parts = _shading(axis, shaded, shade_note) + _frame(axis, labels, label_every, centred=label_every < 6)
    parts += _dividers(axis, divide_every) if divide_every else []
    bar = axis.slot * 0.8 / max(len(series), 1)
    for k, s in enumerate(series):
        for index, value in enumerate(s.values):
            if value:
                x, y = axis.x(index) + axis.slot * 0.1 + k * bar, axis.y(value)
                parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(bar - 0.5, 0.5):.1f}" '
                             f'height="{axis.y(0) - y:.1f}" fill="{_e(s.colour)}">'
                             f'{_tip(labels[index], value, s)}</rect>')
    return _svg(chart_id, title, axis, parts + _legend(series, [(shade_note, SHADE)] if any(shaded) else []))


def line_chart(chart_id: str, title: str, labels: Sequence[str], series: Sequence[Series],
               label_every: int = 1) -> str:
    """A line per series through the middle of each label's slot; a missing value breaks it."""
    axis = Axis.fitting(len(labels), series)
    parts = _frame(axis, labels, label_every, centred=True)
    for s in series:
        runs = _runs(axis, s.values)
        for run in runs:
            points = " ".join(f"{x:.1f},{y:.1f}" for x, y, _ in run)
            parts.append(f'<polyline points="{points}" fill="none" stroke="{_e(s.colour)}" stroke-width="2"/>')
        for x, y, index in (point for run in runs for point in run):
            parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="{_e(s.colour)}">'
                         f'{_tip(labels[index], s.values[index], s)}</circle>')
    return _svg(chart_id, title, axis, parts + _legend(series))


def _runs(axis: Axis, values: Sequence[float | None]) -> list[list[tuple[float, float, int]]]:
    """The (x, y, index) points of each unbroken stretch of known values."""
    runs: list[list[tuple[float, float, int]]] = [[]]
    for index, value in enumerate(values):
        if value is None:
            runs.append([])
        else:
            runs[-1].append((axis.x(index + 0.5), axis.y(value), index))
    return [run for run in runs if run]


def _values(rows: Iterable, field: str) -> tuple[float | None, ...]:
    return tuple(None if getattr(row, field) is None else float(getattr(row, field)) for row in rows)


# What each chart draws: (legend, the field of each row, colour).
TRAFFIC_SERIES = (("conversations per day", "conversations", CONVERSATIONS_COLOUR),
                  ("handoffs per day", "handoffs", HANDOFFS_COLOUR))
WAIT_SERIES = (("median minutes to an agent", "median_wait_minutes", WAIT_COLOUR),)
AGENTS_SERIES = (("agents needed", "agents", AGENTS_COLOUR),)


def _series(rows: Sequence, specs: Sequence[tuple[str, str, str]]) -> list[Series]:
    return [Series(name, _values(rows, field), colour) for name, field, colour in specs]


def charts(staffing: StaffingReport) -> dict[str, str]:
    """The staffing page's SVG charts, by name."""
    by_hour, by_day, plan = staffing.history.by_hour, staffing.history.by_day, staffing.forecast.hours
    hours = [f"{h:02d}:00" for h in HOURS]
    days = [d.day.strftime("%b %d") for d in by_day]
    day_labels = max(1, math.ceil(len(days) / 8))  # about eight dates along the axis
    return {
        "hour_traffic": bar_chart("chart-hour-traffic", "Conversations and handoffs by hour of day (average per day)",
                                  hours, _series(by_hour, TRAFFIC_SERIES), label_every=3),
        "hour_wait": bar_chart("chart-hour-wait", "Median wait for an agent by hour of day", hours,
                               _series(by_hour, WAIT_SERIES), label_every=3),
        "day_traffic": line_chart("chart-day-traffic", "Conversations and handoffs per day over the season", days,
                                  _series(by_day, TRAFFIC_SERIES), label_every=day_labels),
        "day_wait": line_chart("chart-day-wait", "Median wait for an agent per day", days,
                               _series(by_day, WAIT_SERIES), label_every=day_labels),
        "forecast": bar_chart("chart-forecast", "Agents needed per hour, next 7 days",
                              [h.starts.strftime("%a %b %d %H:00") for h in plan], _series(plan, AGENTS_SERIES),
                              label_every=24, shaded=[not h.is_open for h in plan], shade_note="desk closed",
                              divide_every=24, width=WIDE_CHART_WIDTH),
    }
