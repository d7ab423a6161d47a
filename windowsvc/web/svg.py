"""What the inline SVGs share: escaping, rough text widths, numbers, the accessible wrapper.

Pure string building: no Flask, no database, no client-side script. A caller puts the result
into a page with ``Markup(svg)``; every piece of text in it has been escaped here.
"""

import hashlib
import re
import unicodedata

from markupsafe import escape

FONT = (
    "'Noto Sans CJK SC','Source Han Sans SC','PingFang SC','Microsoft YaHei',"
    "system-ui,-apple-system,'Segoe UI',sans-serif"
)
MONO = "ui-monospace,'SFMono-Regular',Menlo,Consolas,'DejaVu Sans Mono',monospace"
INK, MUTED, LINE, ACCENT = "#0f172a", "#475569", "#94a3b8", "#1d4ed8"
NO_DATA, EMPTY = "无数据", "暂无数据"

# characters XML 1.0 does not allow (an SVG with one would not parse)
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def esc(value) -> str:
    """Text or attribute value, escaped for XML (& < > " ')."""
    return str(escape(_NOT_XML.sub("", str(value))))


def text_width(text, size: float, mono: bool = False) -> float:
    """An estimate of the rendered width: wide (CJK) characters are one em, others ~0.6 em."""
    width = 0.0
    for ch in str(text):
        if unicodedata.east_asian_width(ch) in "WF":
            width += size
        elif mono:
            width += size * 0.6
        elif ch in "il.,:;'|!()[] ":
            width += size * 0.32
        elif ch.isupper() or ch in "mwMW%":
            width += size * 0.72
        else:
            width += size * 0.56
    return width


def truncate(text, size: float, max_width: float) -> str:
    """``text`` shortened with '…' to fit ``max_width``."""
    text = str(text)
    if text_width(text, size) <= max_width:
        return text
    while text and text_width(text + "…", size) > max_width:
        text = text[:-1]
    return text + "…"


def num(x: float) -> str:
    """A coordinate with at most one decimal."""
    return f"{x:.1f}".rstrip("0").rstrip(".") if x == x else "0"


def format_value(value, unit: str = "") -> str:
    """'93.5%' for percentages (given in percent, not as a share), '12件' otherwise.

    None is written as 无数据.
    """
    if value is None:
        return NO_DATA
    if unit == "%":
        return f"{value:.1f}%"
    return f"{value:.2f}".rstrip("0").rstrip(".") + unit


def new_id(*parts) -> str:
    """An id prefix derived from the content, so equal input renders equal output."""
    digest = hashlib.sha1("\x1f".join(str(p) for p in parts).encode()).hexdigest()[:10]
    return f"svg-{digest}"


def document(uid: str, title: str, desc: str, body: str, width: float, height: float, kind: str):
    """The ``<svg>`` element: role=img named by its ``<title>`` and described by its ``<desc>``,
    scaled to its container (never wider than its natural size)."""
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="{esc(kind)}" role="img" '
        f'aria-labelledby="{uid}-title" aria-describedby="{uid}-desc" '
        f'viewBox="0 0 {num(width)} {num(height)}" width="100%" '
        f'style="max-width:{num(width)}px;height:auto" preserveAspectRatio="xMidYMin meet" '
        f'font-family="{esc(FONT)}" fill="{INK}">'
        f'<title id="{uid}-title">{esc(title)}</title>'
        f'<desc id="{uid}-desc">{esc(desc)}</desc>'
        f"{body}</svg>"
    )


def heading(title: str, x: float, y: float, max_width: float) -> str:
    """The visible title at the top of a chart."""
    return (
        f'<text class="chart-title" x="{num(x)}" y="{num(y)}" font-size="16" '
        f'font-weight="700">{esc(truncate(title, 16, max_width))}</text>'
    )


def empty(title: str, kind: str, message: str = EMPTY, width: float = 640) -> str:
    """A clear '暂无数据' picture instead of an empty or broken chart."""
    uid = new_id(kind, title, message)
    height = 150
    body = (
        heading(title, 16, 28, width - 32)
        + f'<rect class="empty" x="16" y="44" width="{num(width - 32)}" height="90" rx="8" '
        f'fill="#f8fafc" stroke="{LINE}" stroke-dasharray="6 4"/>'
        f'<text class="empty" x="{num(width / 2)}" y="95" text-anchor="middle" font-size="15" '
        f'fill="{MUTED}">{esc(message)}</text>'
    )
    return document(uid, title, f"{title}：{message}", body, width, height, kind)
