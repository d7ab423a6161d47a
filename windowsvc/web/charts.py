"""Small SVG charts for the pages: bars per department, a weekly trend, the rating distribution.

Every chart names itself (``<title>``) and lists its values in ``<desc>``, writes each value as
text next to its mark (colour is never the only carrier), shows missing values as '无数据' and an
empty data set as a '暂无数据' picture. Percentages are given in percent (93.5, not 0.935) with the
unit '%'; ``rules.ratings.rate`` gives a share, multiply it by 100.
"""

import math

from .svg import (
    ACCENT,
    EMPTY,
    LINE,
    MUTED,
    NO_DATA,
    document,
    empty,
    esc,
    format_value,
    heading,
    new_id,
    num,
    text_width,
    truncate,
)

WIDTH = 760
GRID = "#e2e8f0"
# one hue per rating level, orange (bad) to blue (good); the level's label is always written too
LEVEL_COLOURS = {1: "#c2410c", 2: "#ea580c", 3: "#64748b", 4: "#3b82f6", 5: "#1d4ed8"}


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values covering [low, high]."""
    if high <= low:
        high = low + 1
    raw = (high - low) / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    start = math.floor(low / step + 1e-9) * step
    ticks, value = [], start
    while value < high - 1e-9:
        ticks.append(round(value, 10))
        value += step
    ticks.append(round(value, 10))
    return ticks


def _tick_label(value: float, unit: str) -> str:
    return f"{value:g}{unit}"


def _values_desc(title: str, unit: str, pairs) -> str:
    values = "；".join(f"{label} {format_value(value, unit)}" for label, value in pairs)
    suffix = f" (单位: {unit})" if unit else ""
    return f"{title}{suffix}：{values}。"


def bar_chart(
    title: str, rows: list[tuple[str, float | None]], unit: str, max_value: float | None = None
) -> str:
    """Horizontal bars, one per row (e.g. department), with the value written at each bar's end.

    The scale runs from 0 to ``max_value`` (100 for '%', else a round number above the largest
    value); a value above it fills the bar and keeps its own label; None is written as 无数据.
    """
    rows = list(rows or [])
    if not rows:
        return empty(title, "bar-chart", width=WIDTH)
    values = [v for _, v in rows if v is not None]
    if max_value is None or max_value <= 0:
        largest = max(values, default=0)
        max_value = 100.0 if unit == "%" and largest <= 100 else nice_ticks(0, largest or 1)[-1]
    label_size, row_h, bar_h = 13, 32, 18
    label_w = min(max(text_width(label, label_size) for label, _ in rows) + 8, WIDTH * 0.34)
    x0 = 16 + label_w + 8
    plot_w = WIDTH - x0 - 92
    top = 52
    height = top + len(rows) * row_h + 34
    ticks = [t for t in nice_ticks(0, max_value, 4) if t <= max_value + 1e-9]

    def scale(value):
        return plot_w * min(max(value, 0), max_value) / max_value

    parts = [heading(title, 16, 28, WIDTH - 32)]
    axis_y = top + len(rows) * row_h
    for tick in ticks:
        tx = x0 + scale(tick)
        parts.append(
            f'<line class="grid" x1="{num(tx)}" y1="{top - 6}" x2="{num(tx)}" '
            f'y2="{num(axis_y)}" stroke="{GRID}"/>'
            f'<text class="tick" x="{num(tx)}" y="{num(axis_y + 18)}" text-anchor="middle" '
            f'font-size="11" fill="{MUTED}">{esc(_tick_label(tick, unit))}</text>'
        )
    for k, (label, value) in enumerate(rows):
        y = top + k * row_h
        mid = y + row_h / 2
        parts.append(
            f'<text class="row-label" x="{num(x0 - 8)}" y="{num(mid + 4.5)}" text-anchor="end" '
            f'font-size="{label_size}">{esc(truncate(label, label_size, label_w))}</text>'
        )
        if value is None:
            parts.append(
                f'<g class="bar missing" data-label="{esc(label)}">'
                f'<rect x="{num(x0)}" y="{num(mid - bar_h / 2)}" width="{num(plot_w)}" '
                f'height="{bar_h}" fill="none" stroke="{LINE}" stroke-dasharray="4 4" rx="3"/>'
                f'<text x="{num(x0 + 8)}" y="{num(mid + 4)}" font-size="12" fill="{MUTED}" '
                f'font-style="italic">{NO_DATA}</text></g>'
            )
            continue
        length = scale(value)
        parts.append(
            f'<g class="bar" data-label="{esc(label)}" data-value="{value}">'
            f'<rect x="{num(x0)}" y="{num(mid - bar_h / 2)}" width="{num(length)}" '
            f'height="{bar_h}" rx="3" fill="{ACCENT}"/>'
            f'<text class="value" x="{num(x0 + length + 6)}" y="{num(mid + 4.5)}" '
            f'font-size="12" font-weight="700">{esc(format_value(value, unit))}</text></g>'
        )
    parts.append(
        f'<line class="axis" x1="{num(x0)}" y1="{top - 6}" x2="{num(x0)}" y2="{num(axis_y)}" '
        f'stroke="{MUTED}"/>'
    )
    desc = _values_desc(title, unit, rows)
    uid = new_id("bar-chart", desc, max_value)
    return document(uid, title, desc, "".join(parts), WIDTH, height, "bar-chart")


def trend_chart(title: str, points: list[tuple[str, float | None]], unit: str) -> str:
    """A line over the periods (e.g. weeks) with a dot and a value at each; the line breaks where
    a value is None (written as 无数据 at the bottom of the plot)."""
    points = list(points or [])
    values = [v for _, v in points if v is not None]
    if not values:
        if not points:
            return empty(title, "trend-chart", width=WIDTH)
        return empty(title, "trend-chart", f"{EMPTY} ({len(points)} 个周期均无数据)", WIDTH)
    low, high = min(values), max(values)
    pad = (high - low) * 0.15 or abs(high) * 0.1 or 1
    low = 0 if 0 <= low <= high * 0.6 else low - pad
    high = high + pad
    if unit == "%":
        low, high = max(low, 0), min(high, 100) if max(values) <= 100 else high
    ticks = nice_ticks(low, high, 4)
    low, high = ticks[0], ticks[-1]
    left, right, top, bottom = 64, 24, 56, 62
    height = 330
    plot_w, plot_h = WIDTH - left - right, height - top - bottom
    n = len(points)
    spacing = plot_w / n
    label_size = 11
    widest = max(text_width(label, label_size) for label, _ in points)
    step = max(1, math.ceil((widest + 8) / spacing))
    show_values = n <= 16

    def px(k):
        return left + spacing * (k + 0.5)

    def py(value):
        return top + plot_h * (1 - (value - low) / (high - low))

    parts = [heading(title, 16, 28, WIDTH - 32)]
    for tick in ticks:
        ty = py(tick)
        parts.append(
            f'<line class="grid" x1="{left}" y1="{num(ty)}" x2="{num(WIDTH - right)}" '
            f'y2="{num(ty)}" stroke="{GRID}"/><text class="tick" x="{left - 8}" '
            f'y="{num(ty + 4)}" text-anchor="end" font-size="11" fill="{MUTED}">'
            f"{esc(_tick_label(tick, unit))}</text>"
        )
    run: list[tuple[float, float]] = []
    runs = []
    for k, (_, value) in enumerate(points):
        if value is None:
            if run:
                runs.append(run)
            run = []
        else:
            run.append((px(k), py(value)))
    if run:
        runs.append(run)
    for segment in runs:
        if len(segment) > 1:
            d = "M" + "L".join(f"{num(a)} {num(b)}" for a, b in segment)
            parts.append(
                f'<path class="line" d="{d}" fill="none" stroke="{ACCENT}" stroke-width="2.5" '
                f'stroke-linejoin="round"/>'
            )
    labelled = set(range(n)) if show_values else _notable(points)
    for k, (label, value) in enumerate(points):
        x = px(k)
        if k % step == 0 or (k == n - 1 and (n - 1) % step >= step / 2):
            parts.append(
                f'<text class="period" x="{num(x)}" y="{num(top + plot_h + 20)}" '
                f'text-anchor="middle" font-size="{label_size}">{esc(label)}</text>'
            )
        if value is None:
            short = NO_DATA if spacing >= 40 else "无"
            parts.append(
                f'<text class="gap" data-label="{esc(label)}" x="{num(x)}" '
                f'y="{num(top + plot_h - 6)}" text-anchor="middle" font-size="10" '
                f'fill="{MUTED}" font-style="italic">{short}</text>'
            )
            continue
        y = py(value)
        parts.append(
            f'<circle class="point" data-label="{esc(label)}" data-value="{value}" '
            f'cx="{num(x)}" cy="{num(y)}" r="4.5" fill="{ACCENT}" stroke="#ffffff" '
            f'stroke-width="1.5"/>'
        )
        if k in labelled:
            ly = y - 10 if y - 10 > top - 4 else y + 18
            parts.append(
                f'<text class="value" x="{num(x)}" y="{num(ly)}" text-anchor="middle" '
                f'font-size="11" font-weight="700" stroke="#ffffff" stroke-width="3" '
                f'paint-order="stroke">{esc(format_value(value, unit))}</text>'
            )
    parts.append(
        f'<line class="axis" x1="{left}" y1="{num(top + plot_h)}" x2="{num(WIDTH - right)}" '
        f'y2="{num(top + plot_h)}" stroke="{MUTED}"/>'
    )
    desc = _values_desc(title, unit, points)
    uid = new_id("trend-chart", desc)
    return document(uid, title, desc, "".join(parts), WIDTH, height, "trend-chart")


def _notable(points) -> set[int]:
    """The points worth a value label when there are too many for all: first, last, min, max."""
    present = [(k, v) for k, (_, v) in enumerate(points) if v is not None]
    return {
        present[0][0],
        present[-1][0],
        min(present, key=lambda p: p[1])[0],
        max(present, key=lambda p: p[1])[0],
    }


def _level(key):
    """Rating keys from JSON arrive as text: '5' → 5."""
    if isinstance(key, str) and key.strip().lstrip("-").isdigit():
        return int(key)
    return key


def distribution_chart(title: str, counts: dict, labels: dict) -> str:
    """One column per level (e.g. 1 非常不满意 … 5 非常满意) with its count and share.

    ``labels`` gives each level its name (``rules.ratings.LEVELS``); levels in ``labels`` without
    a count are drawn with 0, counts of a level without a label are drawn under the level itself.
    """
    counts = {_level(k): max(int(v or 0), 0) for k, v in (counts or {}).items()}
    names = {_level(k): v for k, v in (labels or {}).items()}
    total = sum(counts.values())
    if total == 0:
        return empty(title, "distribution-chart", width=WIDTH)
    levels = sorted(
        set(names) | set(counts), key=lambda k: (0, k, "") if isinstance(k, int) else (1, 0, str(k))
    )
    largest = max(counts.values())
    left, right, top, bottom = 24, 24, 66, 64
    height = 330
    plot_w, plot_h = WIDTH - left - right, height - top - bottom
    slot = plot_w / len(levels)
    bar_w = min(72, slot * 0.6)
    base = top + plot_h
    parts = [heading(title, 16, 28, WIDTH - 32)]
    rows = []
    for k, level in enumerate(levels):
        count = counts.get(level, 0)
        share = count / total * 100
        name = names.get(level, str(level))
        rows.append((name, count, share))
        cx = left + slot * (k + 0.5)
        bar_h = plot_h * count / largest
        colour = LEVEL_COLOURS.get(level, ACCENT) if isinstance(level, int) else ACCENT
        text = f"{count} ({share:.1f}%)"
        parts.append(
            f'<g class="column" data-level="{esc(level)}" data-count="{count}">'
            f'<rect x="{num(cx - bar_w / 2)}" y="{num(base - bar_h)}" width="{num(bar_w)}" '
            f'height="{num(bar_h)}" rx="3" fill="{colour}"/>'
            f'<text class="value" x="{num(cx)}" y="{num(base - bar_h - 8)}" '
            f'text-anchor="middle" font-size="12" font-weight="700">{esc(text)}</text>'
            f'<text class="level" x="{num(cx)}" y="{num(base + 20)}" text-anchor="middle" '
            f'font-size="13">{esc(truncate(name, 13, slot - 6))}</text>'
            f'<text class="level-key" x="{num(cx)}" y="{num(base + 38)}" text-anchor="middle" '
            f'font-size="11" fill="{MUTED}">{esc(level)}</text></g>'
        )
    parts.append(
        f'<line class="axis" x1="{left}" y1="{num(base)}" x2="{num(WIDTH - right)}" '
        f'y2="{num(base)}" stroke="{MUTED}"/>'
    )
    values = "；".join(f"{name} {count} 条 ({share:.1f}%)" for name, count, share in rows)
    desc = f"{title}：共 {total} 条；{values}。"
    uid = new_id("distribution-chart", desc)
    return document(uid, title, desc, "".join(parts), WIDTH, height, "distribution-chart")


def as_table(
    rows: list[tuple[str, float | None]],
    unit: str = "",
    caption: str | None = None,
    headers: tuple[str, str] = ("项目", "数值"),
) -> str:
    """The values of a chart as an HTML table (e.g. for a visually hidden alternative)."""
    head = f"<caption>{esc(caption)}</caption>" if caption else ""
    body = "".join(
        f'<tr><th scope="row">{esc(label)}</th><td>{esc(format_value(value, unit))}</td></tr>'
        for label, value in rows
    )
    return (
        f'<table class="chart-data">{head}<thead><tr><th scope="col">{esc(headers[0])}</th>'
        f'<th scope="col">{esc(headers[1])}</th></tr></thead><tbody>{body}</tbody></table>'
    )
