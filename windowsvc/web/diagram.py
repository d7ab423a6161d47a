"""A workflow definition drawn as an SVG state diagram, with the path a case took and where it is.

A small layered layout of our own (no graphviz): edges that close a cycle and go back in the
definition's order of states are turned round, every state goes on the layer of its longest path
from the initial state, long edges pass through dummy points, layers are ordered by barycentres
and placed by isotonic regression (each node as close as the order allows to its neighbours'
mean).

Works for any ``WorkflowDefinition`` (the lifecycle, the step and the rectification machines).
The layout depends on the definition only, so every case of a workflow is drawn the same way.
"""

from dataclasses import dataclass, field

from .svg import ACCENT, INK, LINE, MONO, MUTED, document, esc, new_id, num, text_width

BOX_H, MIN_BOX_W, LAYER_GAP = 60, 118, 74
GAP_REAL, GAP_DUMMY, DUMMY_W, LOOP = 30, 14, 10, 18
MARGIN, TOP = 24, 76
LABEL_SIZE, NAME_SIZE, EDGE_SIZE, LOOP_SIZE = 14, 10.5, 10.5, 10
BADGE_SIZE = 10
VISITED_FILL, CURRENT_FILL = "#dbeafe", "#1e3a8a"
CURRENT, VISITED = "当前", "已经过"


@dataclass
class _Edge:
    source: str
    dest: str
    triggers: list[str] = field(default_factory=list)
    taken: bool = False
    defined: bool = True
    back: bool = False
    chain: list = field(default_factory=list)  # DAG direction, with dummies

    @property
    def text(self) -> str:
        return " / ".join(self.triggers) if self.triggers else "(未定义)"


def path_from_events(events) -> list[tuple[str, str]]:
    """The (from_state, to_state) pairs of a case's record: ``Event`` rows, ``Recorded`` or dicts.

    Events without a state change of the case (no to_state) are left out; the first event's
    missing from_state (intake) is kept as None so the state it created counts as visited.
    """
    pairs = []
    for event in events:
        get = event.get if isinstance(event, dict) else lambda k, e=event: getattr(e, k, None)
        source, dest = get("from_state"), get("to_state")
        if dest is not None:
            pairs.append((source, dest))
    return pairs


def lifecycle_svg_from_events(definition, events, current: str | None, title: str) -> str:
    """``lifecycle_svg`` of a case's recorded events."""
    return lifecycle_svg(definition, path_from_events(events), current, title)


def lifecycle_svg(definition, path: list[tuple[str, str]], current: str | None, title: str) -> str:
    """The definition's state diagram as an SVG string, with ``path`` (the (from, to) transitions
    the case took, in order) highlighted and ``current`` marked as where the case stands."""
    names = [s["name"] for s in definition.states]
    labels = definition.labels
    finals = definition.final_states
    known = set(names)

    edges, loops = _edges(definition, known)
    taken_loops: set[str] = set()
    visited: set[str] = set()
    for source, dest in path:
        visited.update(s for s in (source, dest) if s in known)
        if source not in known or dest not in known:
            continue
        if source == dest:
            taken_loops.add(source)
            continue
        edge = edges.get((source, dest))
        if edge is None:
            edge = edges[(source, dest)] = _Edge(source, dest, defined=False)
        edge.taken = True
    if current not in known:
        current = None
    elist = list(edges.values())

    widths = {n: _box_width(n, labels.get(n, n), loops.get(n)) for n in names}
    layer_of, order = _layers(definition.initial, names, elist)
    layers = _dummies(layer_of, order, elist)
    layers = _order(layers, elist)
    extent = {
        n: (widths[n] / 2, widths[n] / 2 + (LOOP if loops.get(n) else 0))
        for layer in layers
        for n in layer
        if n in widths
    }
    x = _place(layers, elist, extent)
    content = max(x[n] + extent.get(n, (0, DUMMY_W / 2))[1] for n in x) + MARGIN
    width = max(content, 640)
    x = {n: v + (width - content) / 2 for n, v in x.items()}

    def top(node):
        return TOP + layer_of[node] * (BOX_H + LAYER_GAP)

    boxes = {n: (x[n] - widths[n] / 2, top(n), widths[n], BOX_H) for n in names}
    height_layers = TOP + len(layers) * (BOX_H + LAYER_GAP) - LAYER_GAP

    uid = new_id("diagram", definition.name, title, path, current)
    arrows = {
        "plain": f"{uid}-arrow",
        "taken": f"{uid}-arrow-taken",
    }
    geometry = _edge_geometry(elist, x, boxes, top)
    placed: list[tuple] = [_pad(b, 2) for b in boxes.values()]

    parts = [_defs(arrows)]
    parts.append(
        f'<text class="chart-title" x="{MARGIN}" y="30" font-size="16" font-weight="700">'
        f"{esc(title)}</text>"
    )
    start = boxes.get(definition.initial)
    if start is not None:
        cx = start[0] + start[2] / 2
        parts.append(
            f'<g class="start" aria-hidden="true"><circle cx="{num(cx)}" cy="{num(start[1] - 24)}" '
            f'r="6" fill="{INK}"/><path d="M{num(cx)} {num(start[1] - 18)}V{num(start[1] - 2)}" '
            f'stroke="{INK}" stroke-width="1.5" marker-end="url(#{arrows["plain"]})"/></g>'
        )
    for taken in (False, True):
        for edge in elist:
            if edge.taken == taken:
                parts.append(_edge_svg(edge, geometry[id(edge)], arrows))
    for name in names:
        parts.append(
            _box_svg(
                name,
                labels.get(name, name),
                boxes[name],
                state_class(name, visited, current),
                name in finals,
                loops.get(name),
                name in taken_loops,
                arrows,
            )
        )
    parts.extend(_edge_labels(elist, geometry, boxes, placed))
    legend, legend_h = _legend(width, height_layers + 28, arrows)
    parts.append(legend)
    desc = _describe(definition, path, current, labels, known, len(elist))
    return document(
        uid, title, desc, "".join(parts), width, height_layers + 28 + legend_h, "state-diagram"
    )


def state_class(name: str, visited: set[str], current: str | None) -> str:
    """'state current', 'state visited' or 'state'."""
    if name == current:
        return "state current"
    return "state visited" if name in visited else "state"


# --- the graph -------------------------------------------------------------------------------


def _edges(definition, known):
    """(source, dest) → _Edge with the triggers between them; self-loops by state apart."""
    edges: dict[tuple[str, str], _Edge] = {}
    loops: dict[str, list[str]] = {}
    for t in definition.transitions:
        sources = t["source"] if isinstance(t["source"], list) else [t["source"]]
        for source in sources:
            dest = source if t["dest"] == "=" else t["dest"]
            if source not in known or dest not in known:
                continue
            if source == dest:
                bucket = loops.setdefault(source, [])
            else:
                bucket = edges.setdefault((source, dest), _Edge(source, dest)).triggers
            if t["trigger"] not in bucket:
                bucket.append(t["trigger"])
    return edges, loops


def _layers(initial, names, edges):
    """Each state on the layer of its longest path from the initial state, with the cycles cut.

    A depth-first search from the initial state (then from any state it did not reach) gives the
    order; an edge closing a cycle is turned round when it goes back in the definition's order of
    states (a plain DFS back edge depends on which branch the search takes first: it drew 已解释说明
    below 申诉中 in the rectification machine). Returns (layer of state, DFS order).
    """
    index = {n: i for i, n in enumerate(names)}
    out: dict[str, list[_Edge]] = {n: [] for n in names}
    for e in edges:
        out[e.source].append(e)
    for n in out:
        out[n].sort(key=lambda e: index[e.dest])
    seen, order = set(), []

    def visit(node):
        seen.add(node)
        order.append(node)
        for e in out[node]:
            if e.dest not in seen:
                visit(e.dest)

    for root in [initial, *names]:
        if root in out and root not in seen:
            visit(root)

    def reachable(start):
        found, todo = set(), [start]
        while todo:
            for e in out[todo.pop()]:
                if e.dest not in found:
                    found.add(e.dest)
                    todo.append(e.dest)
        return found

    reach = {n: reachable(n) for n in names}
    for e in edges:
        e.back = e.source in reach[e.dest] and index[e.dest] < index[e.source]
    incoming: dict[str, list[str]] = {n: [] for n in names}
    for e in edges:
        u, v = (e.dest, e.source) if e.back else (e.source, e.dest)
        incoming[v].append(u)
    layer: dict = {}

    def depth(node, trail=()):
        if node not in layer:
            preds = [p for p in incoming[node] if p not in trail]
            layer[node] = max((depth(p, (*trail, node)) + 1 for p in preds), default=0)
        return layer[node]

    for n in names:
        depth(n)
    return layer, order


def _dummies(layer, order, edges):
    """Each edge as a chain of nodes one layer apart (DAG direction); returns the layers."""
    for i, e in enumerate(edges):
        u, v = (e.dest, e.source) if e.back else (e.source, e.dest)
        chain = [u]
        for depth in range(layer[u] + 1, layer[v]):
            dummy = ("dummy", i, depth)
            layer[dummy] = depth
            chain.append(dummy)
        e.chain = [*chain, v]
    rank = {n: i for i, n in enumerate(order)}
    count = max(layer.values(), default=0) + 1
    layers: list[list] = [[] for _ in range(count)]
    for node in order:
        layers[layer[node]].append(node)
    dummies = [n for n in layer if isinstance(n, tuple)]
    for node in dummies:
        layers[layer[node]].append(node)
    for row in layers:
        row.sort(
            key=lambda n: rank[edges[n[1]].chain[0]] + 0.5 if isinstance(n, tuple) else rank[n]
        )
    return layers


def _links(edges):
    up, down = {}, {}
    for e in edges:
        for a, b in zip(e.chain, e.chain[1:], strict=False):
            down.setdefault(a, []).append(b)
            up.setdefault(b, []).append(a)
    return up, down


def _crossings(layers, down):
    total = 0
    for upper, lower in zip(layers, layers[1:], strict=False):
        pos = {n: i for i, n in enumerate(lower)}
        pairs = [(i, pos[b]) for i, a in enumerate(upper) for b in down.get(a, []) if b in pos]
        total += sum(
            1
            for k, (a1, b1) in enumerate(pairs)
            for a2, b2 in pairs[k + 1 :]
            if (a1 - a2) * (b1 - b2) < 0
        )
    return total


def _order(layers, edges):
    """Barycentre sweeps down and up; the order with the fewest crossings wins."""
    up, down = _links(edges)
    best, best_count = [list(r) for r in layers], _crossings(layers, down)
    current = [list(r) for r in layers]
    for sweep in range(16):
        rows = range(1, len(current)) if sweep % 2 == 0 else range(len(current) - 2, -1, -1)
        for i in rows:
            ref = current[i - 1] if sweep % 2 == 0 else current[i + 1]
            pos = {n: k for k, n in enumerate(ref)}
            nbrs = up if sweep % 2 == 0 else down

            def key(item, pos=pos, nbrs=nbrs):
                k, node = item
                linked = [pos[n] for n in nbrs.get(node, []) if n in pos]
                return sum(linked) / len(linked) if linked else k

            current[i] = [n for _, n in sorted(enumerate(current[i]), key=key)]
        count = _crossings(current, down)
        if count < best_count:
            best, best_count = [list(r) for r in current], count
    return best


def _isotonic(values, weights):
    """Least-squares non-decreasing fit (pool adjacent violators)."""
    blocks: list[list[float]] = []
    for v, w in zip(values, weights, strict=True):
        blocks.append([v, w, 1])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            m2, w2, c2 = blocks.pop()
            m1, w1, c1 = blocks.pop()
            blocks.append([(m1 * w1 + m2 * w2) / (w1 + w2), w1 + w2, c1 + c2])
    fitted = []
    for mean, _, count in blocks:
        fitted.extend([mean] * int(count))
    return fitted


def _place(layers, edges, extent):
    """x of every node: as near its neighbours' mean as the order and the gaps allow."""
    up, down = _links(edges)

    def ext(n):
        return extent.get(n, (DUMMY_W / 2, DUMMY_W / 2))

    def gap(a, b):
        real = not isinstance(a, tuple) and not isinstance(b, tuple)
        return ext(a)[1] + ext(b)[0] + (GAP_REAL if real else GAP_DUMMY)

    x = {}
    for row in layers:
        pos = 0.0
        for k, node in enumerate(row):
            pos = pos + gap(row[k - 1], node) if k else 0.0
            x[node] = pos
    for sweep in range(30):
        downward = sweep % 2 == 0
        rows = layers if downward else list(reversed(layers))
        for row in rows:
            if not row:
                continue
            desired = []
            for node in row:
                linked = (up if downward else down).get(node, [])
                if sweep >= 20:
                    linked = up.get(node, []) + down.get(node, [])
                desired.append(sum(x[n] for n in linked) / len(linked) if linked else x[node])
            offsets = [0.0]
            for a, b in zip(row, row[1:], strict=False):
                offsets.append(offsets[-1] + gap(a, b))
            weights = [1.0 if isinstance(n, tuple) else 2.0 for n in row]
            fit = _isotonic([d - o for d, o in zip(desired, offsets, strict=True)], weights)
            for node, z, o in zip(row, fit, offsets, strict=True):
                x[node] = z + o
    left = min(x[n] - ext(n)[0] for n in x) if x else 0
    return {n: v - left + MARGIN for n, v in x.items()}


# --- drawing ---------------------------------------------------------------------------------


def _box_width(name, label, loops):
    label_w = text_width(label, LABEL_SIZE) * 1.05 + _badge_width(VISITED) + 8
    rows = [label_w, text_width(name, NAME_SIZE, mono=True)]
    if loops:
        rows.append(text_width("↻ " + " / ".join(loops), LOOP_SIZE))
    return max(MIN_BOX_W, max(rows) + 22)


def _badge_width(text):
    return text_width(text, BADGE_SIZE) + 10


def _pad(box, by):
    x, y, w, h = box
    return (x - by, y - by, w + 2 * by, h + 2 * by)


def _defs(arrows):
    def marker(mid, colour, size):
        return (
            f'<marker id="{mid}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="{size}" '
            f'markerHeight="{size}" markerUnits="userSpaceOnUse" orient="auto-start-reverse">'
            f'<path d="M0 0L10 5L0 10z" fill="{colour}"/></marker>'
        )

    return f"<defs>{marker(arrows['plain'], LINE, 9)}{marker(arrows['taken'], ACCENT, 12)}</defs>"


def _edge_geometry(edges, x, boxes, top):
    """Segments of each edge's path in drawing direction: ('C'|'L', start, end)."""
    ports_out, ports_in = {}, {}
    for e in edges:
        ports_out.setdefault(e.chain[0], []).append(e)
        ports_in.setdefault(e.chain[-1], []).append(e)

    def spread(node, group, neighbour):
        bx, _, bw, _ = boxes[node]
        group.sort(key=lambda e: x[neighbour(e)])
        return {
            id(e): bx + bw * (0.18 + 0.64 * (k + 1) / (len(group) + 1)) for k, e in enumerate(group)
        }

    start_x, end_x = {}, {}
    for node, group in ports_out.items():
        start_x.update(spread(node, group, lambda e: e.chain[1]))
    for node, group in ports_in.items():
        end_x.update(spread(node, group, lambda e: e.chain[-2]))

    def band(node):
        return top(node), top(node) + BOX_H

    geometry = {}
    for e in edges:
        u, v = e.chain[0], e.chain[-1]
        points = [(start_x[id(e)], band(u)[1])]
        for dummy in e.chain[1:-1]:
            t, b = band(dummy)
            points += [(x[dummy], t), (x[dummy], b)]
        points.append((end_x[id(e)], band(v)[0] - 1))
        segments = [
            ("C" if k % 2 == 0 else "L", points[k], points[k + 1]) for k in range(len(points) - 1)
        ]
        if e.back:
            segments = [(kind, b, a) for kind, a, b in reversed(segments)]
        geometry[id(e)] = segments
    return geometry


def _path_d(segments):
    d = [f"M{num(segments[0][1][0])} {num(segments[0][1][1])}"]
    for kind, (x0, y0), (x1, y1) in segments:
        if kind == "L":
            d.append(f"L{num(x1)} {num(y1)}")
        else:
            ym = (y0 + y1) / 2
            d.append(f"C{num(x0)} {num(ym)} {num(x1)} {num(ym)} {num(x1)} {num(y1)}")
    return "".join(d)


def _edge_svg(edge, segments, arrows):
    classes = "edge taken" if edge.taken else "edge"
    if not edge.defined:
        classes += " undefined"
    stroke = (
        f'stroke="{ACCENT}" stroke-width="3.2" marker-end="url(#{arrows["taken"]})"'
        if edge.taken
        else f'stroke="{LINE}" stroke-width="1.3" marker-end="url(#{arrows["plain"]})"'
    )
    dash = ' stroke-dasharray="5 4"' if not edge.defined else ""
    return (
        f'<g class="{classes}" data-from="{esc(edge.source)}" data-to="{esc(edge.dest)}">'
        f'<path d="{_path_d(segments)}" fill="none" {stroke}{dash}/></g>'
    )


def _box_svg(name, label, box, classes, final, loops, loop_taken, arrows):
    x, y, w, h = box
    current, visited = "current" in classes, "visited" in classes
    fill = CURRENT_FILL if current else VISITED_FILL if visited else "#ffffff"
    stroke, stroke_w = (ACCENT, 4) if current else (ACCENT, 2.4) if visited else (LINE, 1.2)
    ink = "#ffffff" if current else INK
    sub = "#dbeafe" if current else MUTED
    parts = [
        f'<g class="{classes}" data-state="{esc(name)}">',
        f'<rect x="{num(x)}" y="{num(y)}" width="{num(w)}" height="{num(h)}" rx="10" '
        f'fill="{fill}" stroke="{stroke}" stroke-width="{stroke_w}"/>',
    ]
    if final:
        parts.append(
            f'<rect class="final" x="{num(x + 4)}" y="{num(y + 4)}" width="{num(w - 8)}" '
            f'height="{num(h - 8)}" rx="7" fill="none" stroke="{ink if current else stroke}" '
            f'stroke-width="1"/>'
        )
    badge = CURRENT if current else VISITED if visited else None
    label_w = text_width(label, LABEL_SIZE) * 1.05
    total = label_w + (_badge_width(badge) + 6 if badge else 0)
    lx = x + (w - total) / 2
    first, second, third = (y + 23, y + 39, y + 53) if loops else (y + 28, y + 46, None)
    parts.append(
        f'<text x="{num(lx)}" y="{num(first)}" font-size="{LABEL_SIZE}" font-weight="700" '
        f'fill="{ink}">{esc(label)}</text>'
    )
    if badge:
        bx, bw = lx + label_w + 6, _badge_width(badge)
        bfill, bink = ("#ffffff", CURRENT_FILL) if current else (ACCENT, "#ffffff")
        parts.append(
            f'<g class="badge"><rect x="{num(bx)}" y="{num(first - 12)}" width="{num(bw)}" '
            f'height="15" rx="7.5" fill="{bfill}"/><text x="{num(bx + bw / 2)}" '
            f'y="{num(first - 1)}" text-anchor="middle" font-size="{BADGE_SIZE}" '
            f'font-weight="700" fill="{bink}">{esc(badge)}</text></g>'
        )
    parts.append(
        f'<text x="{num(x + w / 2)}" y="{num(second)}" text-anchor="middle" '
        f'font-size="{NAME_SIZE}" font-family="{esc(MONO)}" fill="{sub}">{esc(name)}</text>'
    )
    if loops:
        weight = ' font-weight="700"' if loop_taken else ""
        parts.append(
            f'<text x="{num(x + w / 2)}" y="{num(third)}" text-anchor="middle" '
            f'font-size="{LOOP_SIZE}" fill="{sub}"{weight}>{esc("↻ " + " / ".join(loops))}</text>'
        )
    parts.append("</g>")
    if loops:
        rx, ty, by = x + w, y + h * 0.3, y + h * 0.7
        classes = "edge self taken" if loop_taken else "edge self"
        stroke = (
            f'stroke="{ACCENT}" stroke-width="2.6" marker-end="url(#{arrows["taken"]})"'
            if loop_taken
            else f'stroke="{LINE}" stroke-width="1.3" marker-end="url(#{arrows["plain"]})"'
        )
        parts.append(
            f'<g class="{classes}" data-from="{esc(name)}" data-to="{esc(name)}">'
            f'<path d="M{num(rx)} {num(ty)}C{num(rx + LOOP)} {num(ty - 4)} {num(rx + LOOP)} '
            f'{num(by + 4)} {num(rx + 1)} {num(by)}" fill="none" {stroke}/></g>'
        )
    return "".join(parts)


def _bezier(p0, p1, t):
    (x0, y0), (x1, y1) = p0, p1
    ym = (y0 + y1) / 2
    pts = [(x0, y0), (x0, ym), (x1, ym), (x1, y1)]
    coef = [(1 - t) ** 3, 3 * (1 - t) ** 2 * t, 3 * (1 - t) * t**2, t**3]
    return (
        sum(c * p[0] for c, p in zip(coef, pts, strict=True)),
        sum(c * p[1] for c, p in zip(coef, pts, strict=True)),
    )


def _overlap(a, b):
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    dx = min(ax + aw, bx + bw) - max(ax, bx)
    dy = min(ay + ah, by + bh) - max(ay, by)
    return dx * dy if dx > 0 and dy > 0 else 0.0


def _place_label(text, candidates, placed):
    w, h = text_width(text, EDGE_SIZE) + 6, EDGE_SIZE + 4
    best, best_cost = None, None
    for cx, cy in candidates:
        rect = (cx - w / 2, cy - h / 2, w, h)
        cost = sum(_overlap(rect, other) for other in placed)
        if best_cost is None or cost < best_cost:
            best, best_cost = rect, cost
        if cost == 0:
            break
    placed.append(best)
    return best


def _edge_labels(edges, geometry, boxes, placed):
    """Trigger names on the edges; several edges with the same triggers into one state share a
    label just above it."""
    parts = []
    groups: dict[tuple[str, str], list[_Edge]] = {}
    for e in edges:
        if not e.back:
            groups.setdefault((e.dest, e.text), []).append(e)
    shared = {id(e) for group in groups.values() if len(group) > 1 for e in group}

    def label(text, rect, taken):
        weight = ' font-weight="700"' if taken else ""
        colour = ACCENT if taken else MUTED
        classes = "edge-label taken" if taken else "edge-label"
        return (
            f'<text class="{classes}" x="{num(rect[0] + rect[2] / 2)}" '
            f'y="{num(rect[1] + rect[3] - 4)}" text-anchor="middle" font-size="{EDGE_SIZE}" '
            f'fill="{colour}"{weight} stroke="#ffffff" stroke-width="4" '
            f'paint-order="stroke">{esc(text)}</text>'
        )

    for (dest, text), group in groups.items():
        if len(group) < 2:
            continue
        bx, by, bw, _ = boxes[dest]
        cx = bx + bw / 2
        candidates = [(cx, by - 30), (cx - bw * 0.6, by - 14), (cx + bw * 0.6, by - 14)]
        candidates += [(cx, by - 44), (cx - bw, by - 30), (cx + bw, by - 30)]
        rect = _place_label(text, candidates, placed)
        parts.append(label(text, rect, any(e.taken for e in group)))
    for e in edges:
        if id(e) in shared:
            continue
        curves = [(a, b) for kind, a, b in geometry[id(e)] if kind == "C"]
        candidates = [
            _bezier(a, b, t) for a, b in curves for t in (0.5, 0.35, 0.65, 0.25, 0.75, 0.15, 0.85)
        ]
        rect = _place_label(e.text, candidates, placed)
        parts.append(label(e.text, rect, e.taken))
    return parts


def _legend(width, y, arrows):
    """The key, wrapped to the width; returns (svg, height)."""
    items = [
        ("taken-edge", "已经过的流转 (粗线)"),
        ("edge", "未经过的流转"),
        ("visited", f"{VISITED}的状态"),
        ("current", f"{CURRENT}状态"),
        ("final", "终态 (双线框)"),
        ("loop", "↻ 状态内的操作"),
    ]
    parts, cx, cy = [f'<g class="legend" transform="translate(0 {num(y)})">'], MARGIN, 0
    parts.append(
        f'<line x1="{MARGIN}" y1="-10" x2="{num(width - MARGIN)}" y2="-10" stroke="#e2e8f0"/>'
    )
    for kind, text in items:
        item_w = 34 + text_width(text, 12) + 22
        if cx + item_w > width - MARGIN:
            cx, cy = MARGIN, cy + 26
        sy = cy + 8
        if kind in ("taken-edge", "edge"):
            stroke = (
                f'stroke="{ACCENT}" stroke-width="3.2" marker-end="url(#{arrows["taken"]})"'
                if kind == "taken-edge"
                else f'stroke="{LINE}" stroke-width="1.3" marker-end="url(#{arrows["plain"]})"'
            )
            parts.append(f'<path d="M{num(cx)} {num(sy)}H{num(cx + 28)}" {stroke}/>')
        elif kind == "loop":
            parts.append(
                f'<rect x="{num(cx)}" y="{num(sy - 8)}" width="18" height="16" rx="4" '
                f'fill="#ffffff" stroke="{LINE}"/><path d="M{num(cx + 18)} {num(sy - 4)}'
                f"C{num(cx + 30)} {num(sy - 7)} {num(cx + 30)} {num(sy + 7)} {num(cx + 19)} "
                f'{num(sy + 4)}" fill="none" stroke="{LINE}" stroke-width="1.3" '
                f'marker-end="url(#{arrows["plain"]})"/>'
            )
        else:
            fill, stroke, sw = {
                "visited": (VISITED_FILL, ACCENT, 2.4),
                "current": (CURRENT_FILL, ACCENT, 3),
                "final": ("#ffffff", LINE, 1.2),
            }[kind]
            parts.append(
                f'<rect x="{num(cx)}" y="{num(sy - 8)}" width="28" height="16" rx="4" '
                f'fill="{fill}" stroke="{stroke}" stroke-width="{sw}"/>'
            )
            if kind == "final":
                parts.append(
                    f'<rect x="{num(cx + 3)}" y="{num(sy - 5)}" width="22" height="10" rx="2" '
                    f'fill="none" stroke="{LINE}"/>'
                )
        parts.append(
            f'<text x="{num(cx + 34)}" y="{num(sy + 4)}" font-size="12" fill="{INK}">'
            f"{esc(text)}</text>"
        )
        cx += item_w
    parts.append("</g>")
    return "".join(parts), cy + 30


def _describe(definition, path, current, labels, known, edge_count):
    """The text alternative: the states, the path taken and the current state."""

    def named(state):
        return f"{labels[state]}({state})" if state in known else str(state)

    states = "、".join(named(s["name"]) for s in definition.states)
    text = (
        f"{definition.name} 流程的状态图, 共 {len(definition.states)} 个状态 ({states}), "
        f"{edge_count} 条流转。"
    )
    chain: list[str] = []
    for source, dest in path:
        if source is not None and (not chain or chain[-1] != source):
            if chain:
                chain.append("…")
            chain.append(source)
        chain.append(dest)
    if chain:
        text += "已经过: " + " → ".join(c if c == "…" else named(c) for c in chain) + "。"
    else:
        text += "尚无经过的流转。"
    text += f"当前状态: {named(current)}。" if current else "无当前状态。"
    return text
