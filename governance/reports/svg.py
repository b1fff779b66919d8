"""Inline SVG charts for the reports: a multi-series line chart and a sparkline. No JavaScript, no fonts
to fetch; every text is escaped. Sizes are in viewBox units so the charts scale down on a phone."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from markupsafe import Markup, escape

PALETTE = ("#2563eb", "#16a34a", "#d97706", "#9333ea", "#dc2626", "#0891b2", "#4b5563", "#db2777")


def _fmt(v: float) -> str:
    if abs(v) >= 1_000_000:
        return f"{v / 1_000_000:.1f}M"
    if abs(v) >= 10_000:
        return f"{v / 1000:.0f}k"
    if abs(v) >= 1000:
        return f"{v / 1000:.1f}k"
    if v == int(v):
        return str(int(v))
    return f"{v:.1f}"


def _nice_ticks(lo: float, hi: float, count: int = 4) -> list[float]:
    """Round tick values (1, 2, 2.5 or 5 times a power of ten) covering [lo, hi]."""
    import math

    if hi == lo:
        pad = abs(lo) * 0.1 or 1.0
        lo, hi = lo - pad, hi + pad
    raw = (hi - lo) / count
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    start = math.floor(lo / step) * step
    ticks = []
    v = start
    while v < hi + step * 0.999:
        ticks.append(round(v, 10))
        v += step
    return ticks


Series = tuple[str, Sequence[tuple[datetime, float]]]


def line_chart(
    title: str,
    series: Sequence[Series],
    unit: str = "",
    width: int = 560,
    height: int = 220,
    y_min: float | None = None,
    y_max: float | None = None,
    threshold: float | None = None,
) -> Markup:
    """Lines over time with axes, grid, legend and an optional threshold line."""
    pts = [p for _, s in series for p in s]
    label = escape(title)
    if not pts:
        return Markup(
            f'<svg class="chart" viewBox="0 0 {width} 60" role="img" aria-label="{label}">'
            f'<text x="{width / 2}" y="34" text-anchor="middle" class="muted">no history yet</text></svg>'
        )
    left, right, top, bottom = 48, 12, 14, 44
    legend_at: list[tuple[float, int]] = []
    lx: float = left
    row = 0
    for name, _ in series:
        w = 22 + 6.2 * len(name)
        if lx + w > width and lx > left:
            lx, row = left, row + 1
        legend_at.append((lx, row))
        lx += w
    height += 16 * row
    bottom += 16 * row
    legend_at = [(x0, height - 12 - 16 * (row - r)) for x0, r in legend_at]
    t0 = min(p[0] for p in pts).timestamp()
    t1 = max(p[0] for p in pts).timestamp()
    lo, hi = min(p[1] for p in pts), max(p[1] for p in pts)
    if threshold is not None:
        lo, hi = min(lo, threshold), max(hi, threshold)
    lo = y_min if y_min is not None else lo
    hi = y_max if y_max is not None else hi
    ticks_y = _nice_ticks(lo, hi)
    if y_max is not None and ticks_y[-1] > y_max:  # a percentage never goes above 100
        ticks_y = [t for t in ticks_y if t <= y_max]
        if ticks_y[-1] < y_max:
            ticks_y.append(y_max)
    lo, hi = ticks_y[0], ticks_y[-1]
    pw, ph = width - left - right, height - top - bottom

    def x(ts: datetime) -> float:
        return left + (pw / 2 if t1 == t0 else (ts.timestamp() - t0) / (t1 - t0) * pw)

    def y(v: float) -> float:
        return top + ph - (v - lo) / ((hi - lo) or 1) * ph

    out = [f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-label="{label}">']
    out.append(f"<title>{label}</title>")
    for v in ticks_y:
        yy = y(v)
        out.append(f'<line x1="{left}" y1="{yy:.1f}" x2="{width - right}" y2="{yy:.1f}" class="grid"/>')
        out.append(
            f'<text x="{left - 6}" y="{yy + 3.5:.1f}" text-anchor="end" class="axis">{_fmt(v)}{escape(unit)}</text>'
        )
    ticks = sorted({p[0] for p in pts})
    step = max(1, len(ticks) // 6)
    fmt = "%m-%d" if t1 - t0 > 3 * 86400 else "%m-%d %H:%M"
    last_x = -1e9
    for ts in ticks[::step]:
        if x(ts) - last_x < 70:  # keep labels apart
            continue
        last_x = x(ts)
        out.append(
            f'<text x="{x(ts):.1f}" y="{top + ph + 14}" text-anchor="middle" class="axis">{ts.strftime(fmt)}</text>'
        )
    if threshold is not None:
        yy = y(threshold)
        out.append(f'<line x1="{left}" y1="{yy:.1f}" x2="{width - right}" y2="{yy:.1f}" class="threshold"/>')
    for i, (name, s) in enumerate(series):
        colour = PALETTE[i % len(PALETTE)]
        coords = " ".join(f"{x(t):.1f},{y(v):.1f}" for t, v in sorted(s))
        if len(s) > 1:
            out.append(f'<polyline points="{coords}" fill="none" stroke="{colour}" stroke-width="2"/>')
        for t, v in sorted(s)[-1:] if len(s) > 40 else s:
            out.append(
                f'<circle cx="{x(t):.1f}" cy="{y(v):.1f}" r="3" fill="{colour}">'
                f"<title>{escape(name)}: {_fmt(v)}{escape(unit)} at {t:%Y-%m-%d %H:%M}</title></circle>"
            )
    for i, (name, _) in enumerate(series):
        colour = PALETTE[i % len(PALETTE)]
        lx, ly = legend_at[i]
        out.append(f'<rect x="{lx:.0f}" y="{ly - 8}" width="10" height="10" rx="2" fill="{colour}"/>')
        out.append(f'<text x="{lx + 14:.0f}" y="{ly + 1}" class="legend">{escape(name)}</text>')
    out.append("</svg>")
    return Markup("".join(out))


def sparkline(
    points: Sequence[tuple[datetime, float]], width: int = 120, height: int = 28, bad: bool = False
) -> Markup:
    """A tiny trend line with its last point highlighted; a dash when there is no history."""
    if not points:
        return Markup('<span class="muted">–</span>')
    pts = sorted(points)
    vals = [v for _, v in pts]
    lo, hi = min(vals), max(vals)
    span = (hi - lo) or 1.0
    n = len(pts)

    def xy(i: int, v: float) -> tuple[float, float]:
        xx = 3 + (width - 6) * (i / (n - 1) if n > 1 else 0.5)
        yy = height - 4 - (v - lo) / span * (height - 8) if hi != lo else height / 2
        return xx, yy

    coords = " ".join(f"{a:.1f},{b:.1f}" for a, b in (xy(i, v) for i, v in enumerate(vals)))
    lx, ly = xy(n - 1, vals[-1])
    colour = "#dc2626" if bad else "#2563eb"
    line = f'<polyline points="{coords}" fill="none" stroke="{colour}" stroke-width="1.5"/>' if n > 1 else ""
    return Markup(
        f'<svg class="spark" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
        f'aria-label="trend, last {_fmt(vals[-1])}">{line}'
        f'<circle cx="{lx:.1f}" cy="{ly:.1f}" r="2.5" fill="{colour}"/></svg>'
    )


def meter(percent: float | None, width: int = 90) -> Markup:
    """A horizontal bar for a percentage (green from 99, amber from 90, red below)."""
    if percent is None:
        return Markup('<span class="muted">–</span>')
    p = max(0.0, min(100.0, percent))
    colour = "#16a34a" if p >= 99 else "#d97706" if p >= 90 else "#dc2626"
    return Markup(
        f'<svg class="meter" viewBox="0 0 {width} 8" width="{width}" height="8" role="img" aria-label="{p:.1f}%">'
        f'<rect width="{width}" height="8" rx="4" fill="#e5e7eb"/>'
        f'<rect width="{width * p / 100:.1f}" height="8" rx="4" fill="{colour}"/></svg>'
    )
