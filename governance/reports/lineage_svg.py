"""The lineage graph as an inline SVG, laid out here (no layout service, no network at render time).

Layered layout in the Sugiyama manner, kept small: the medallion layer (bronze, silver, gold) gives the
band, the longest path inside the band gives the column, and a few barycenter sweeps order the nodes of
each column so edges cross as little as they can. Nodes are coloured by status: failing, suspect
(downstream of a failing dataset), ok, or not checked.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Iterable

from markupsafe import Markup, escape

LAYERS = ("bronze", "silver", "gold")
STATUS_STYLE = {
    "failing": ("#fee2e2", "#dc2626"),
    "suspect": ("#fef3c7", "#d97706"),
    "ok": ("#dcfce7", "#16a34a"),
    "unchecked": ("#f3f4f6", "#9ca3af"),
}
BAND_FILL = {"bronze": "#fbf4ec", "silver": "#f3f5f8", "gold": "#fdf8e6", "other": "#f7f7f7"}


def downstream(edges: Iterable[tuple[str, str]], start: Iterable[str]) -> set[str]:
    """Every dataset reachable from `start` (excluded) along the edges."""
    succ: dict[str, set[str]] = defaultdict(set)
    for a, b in edges:
        succ[a].add(b)
    seen: set[str] = set()
    queue = deque(start)
    while queue:
        for nxt in succ[queue.popleft()]:
            if nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)
    return seen - set(start)


Routes = dict[tuple[str, str], list[tuple[int, int]]]


def layout(
    nodes: list[str], edges: list[tuple[str, str]], layer_of: dict[str, str]
) -> tuple[dict[str, tuple[int, int]], list[tuple[str, int, int]], Routes]:
    """(column, row) per node, the bands as (layer, first column, last column), and for every edge that
    spans several columns the (column, row) slots it passes through (dummy nodes, so it never runs
    under a box)."""
    bands = [lb for lb in LAYERS if any(layer_of.get(n) == lb for n in nodes)]
    if any(layer_of.get(n) not in LAYERS for n in nodes):
        bands.append("other")
    band = {n: layer_of.get(n) if layer_of.get(n) in LAYERS else "other" for n in nodes}
    preds: dict[str, set[str]] = defaultdict(set)
    for a, b in edges:
        if a in band and b in band:
            preds[b].add(a)
    sub = dict.fromkeys(nodes, 0)
    for _ in range(len(nodes)):  # longest path inside each band; bounded, so a cycle cannot hang it
        changed = False
        for n in nodes:
            for p in preds[n]:
                if band[p] == band[n] and sub[p] + 1 > sub[n] and sub[p] + 1 < len(nodes):
                    sub[n] = sub[p] + 1
                    changed = True
        if not changed:
            break
    col_of: dict[str, int] = {}
    bands_out: list[tuple[str, int, int]] = []
    offset = 0
    for b in bands:
        members = [n for n in nodes if band[n] == b]
        width = max(sub[n] for n in members) + 1
        for n in members:
            col_of[n] = offset + sub[n]
        bands_out.append((b, offset, offset + width - 1))
        offset += width
    preds = defaultdict(set)
    dummies: dict[tuple[str, str], list[str]] = {}
    for a, b in edges:
        if a not in col_of or b not in col_of:
            continue
        chain = [a]
        for c in range(col_of[a] + 1, col_of[b]):
            d = f"\0{a}->{b}#{c}"
            col_of[d] = c
            chain.append(d)
        chain.append(b)
        dummies[(a, b)] = chain[1:-1]
        for x, y in zip(chain, chain[1:], strict=False):
            preds[y].add(x)
    columns: dict[int, list[str]] = defaultdict(list)
    for n in sorted(col_of):
        columns[col_of[n]].append(n)
    succs: dict[str, set[str]] = defaultdict(set)
    for b, ps in preds.items():
        for a in ps:
            succs[a].add(b)
    order = sorted(columns)
    for sweep in range(6):  # barycenter ordering, alternating down and up
        cols = order[1:] if sweep % 2 == 0 else order[-2::-1]
        for c in cols:
            pos = {n: i for cc in columns.values() for i, n in enumerate(cc)}
            neigh = preds if sweep % 2 == 0 else succs

            def key(
                n: str, neigh: dict[str, set[str]] = neigh, pos: dict[str, int] = pos
            ) -> tuple[float, str]:
                ns = [pos[m] for m in neigh[n] if m in pos]
                return (sum(ns) / len(ns) if ns else pos[n], n)

            columns[c].sort(key=key)
    slot = {n: (col_of[n], i) for members in columns.values() for i, n in enumerate(members)}
    placed = {n: slot[n] for n in nodes}
    routes = {e: [slot[d] for d in ds] for e, ds in dummies.items()}
    return placed, bands_out, routes


def lineage_svg(
    nodes: list[str], edges: list[tuple[str, str]], layer_of: dict[str, str], status: dict[str, str]
) -> Markup:
    if not nodes:
        return Markup('<p class="muted">No lineage graph.</p>')
    placed, bands, routes = layout(nodes, edges, layer_of)
    node_w = max(150, min(280, int(max(len(n) for n in nodes) * 7.0) + 30))
    node_h, gap_x, gap_y, top, left = 34, 64, 16, 42, 16
    ncols = max(c for c, _ in placed.values()) + 1
    nrows = max([r for _, r in placed.values()] + [r for rs in routes.values() for _, r in rs]) + 1
    width = left * 2 + ncols * node_w + (ncols - 1) * gap_x
    height = top + nrows * (node_h + gap_y) + 8

    def box(n: str) -> tuple[float, float]:
        c, r = placed[n]
        return left + c * (node_w + gap_x), top + r * (node_h + gap_y)

    out = [
        f'<svg class="lineage" viewBox="0 0 {width} {height}" role="img" aria-label="Lineage graph">',
        "<title>Lineage: bronze → silver → gold</title>",
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
        'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#94a3b8"/></marker>'
        '<marker id="arrow-bad" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
        'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#d97706"/></marker></defs>',
    ]
    for name, c0, c1 in bands:
        x0 = left + c0 * (node_w + gap_x) - gap_x / 3
        x1 = left + c1 * (node_w + gap_x) + node_w + gap_x / 3
        out.append(
            f'<rect x="{x0:.0f}" y="4" width="{x1 - x0:.0f}" height="{height - 8}" rx="8" fill="{BAND_FILL[name]}"/>'
            f'<text x="{(x0 + x1) / 2:.0f}" y="24" text-anchor="middle" class="band">{escape(name.upper())}</text>'
        )
    for a, b in edges:
        if a not in placed or b not in placed:
            continue
        ax, ay = box(a)
        bx, by = box(b)
        pts = [(ax + node_w, ay + node_h / 2)]
        for c, r in routes.get((a, b), []):
            yy = top + r * (node_h + gap_y) + node_h / 2
            xx = left + c * (node_w + gap_x)
            pts += [(xx, yy), (xx + node_w, yy)]
        pts.append((bx - 2, by + node_h / 2))
        d = f"M{pts[0][0]:.1f},{pts[0][1]:.1f}"
        for i in range(1, len(pts)):
            (x1, y1), (x2, y2) = pts[i - 1], pts[i]
            if i % 2 == 0:  # across a dummy slot: straight
                d += f" L{x2:.1f},{y2:.1f}"
            else:
                dx = max(20.0, (x2 - x1) / 2)
                d += f" C{x1 + dx:.1f},{y1:.1f} {x2 - dx:.1f},{y2:.1f} {x2:.1f},{y2:.1f}"
        hot = status.get(a) in ("failing", "suspect")
        out.append(
            f'<path d="{d}" '
            f'class="edge{" hot" if hot else ""}" marker-end="url(#{"arrow-bad" if hot else "arrow"})">'
            f"<title>{escape(a)} → {escape(b)}</title></path>"
        )
    for n in nodes:
        x, y = box(n)
        st = status.get(n, "unchecked")
        fill, stroke = STATUS_STYLE[st]
        mark = {"failing": "✗ ", "suspect": "! "}.get(st, "")
        out.append(
            f'<g class="node {st}"><title>{escape(n)}: {st}</title>'
            f'<rect x="{x:.0f}" y="{y:.0f}" width="{node_w}" height="{node_h}" rx="6" fill="{fill}" '
            f'stroke="{stroke}" stroke-width="{2 if st in ("failing", "suspect") else 1.2}"/>'
            f'<text x="{x + 10:.0f}" y="{y + node_h / 2 + 4:.0f}" class="node-label">{escape(mark + n)}</text></g>'
        )
    out.append("</svg>")
    return Markup("".join(out))
