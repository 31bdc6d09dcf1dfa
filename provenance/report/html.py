"""`provenance report --format html`: one self-contained page (no script, no network: inline CSS and SVG).

The lineage picture is laid out here: models in rows by their distance from the checked model (the checked
model on top, what it was made from below), each row ordered by where its children sit, edges labelled with
relation and confidence. Every model-supplied string reaches the page through Jinja2's HTML autoescaping.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from provenance.policy.model import path_text
from provenance.report.notice import environment, intended_use_text

if TYPE_CHECKING:
    from provenance.lineage.model import LineageGraph
    from provenance.policy.command import Evaluation

CHAR_WIDTH = 7.4  # px per character of the 12px monospace labels
NODE_HEIGHT = 46
ROW_GAP = 96
NODE_GAP = 36
MARGIN = 24
MAX_LABEL = 64  # characters of a model id drawn in a box (the full id is in the tooltip)


@dataclass(frozen=True)
class NodeBox:
    id: str
    label: str
    licenses: str
    x: float
    y: float
    width: float
    root: bool


@dataclass(frozen=True)
class EdgeLine:
    child: str
    parent: str
    label: str
    x1: float
    y1: float
    x2: float
    y2: float
    distillation: bool

    @property
    def label_at(self) -> tuple[float, float, str]:
        """Where the label goes: past the middle, beside the line, on the side the line leans to."""
        x = self.x1 + (self.x2 - self.x1) * 0.55
        y = self.y1 + (self.y2 - self.y1) * 0.55 + 4
        if self.x2 < self.x1 - 1:
            return round(x - 8, 1), round(y, 1), "end"
        return round(x + 8, 1), round(y, 1), "start"


@dataclass(frozen=True)
class Picture:
    width: float
    height: float
    nodes: tuple[NodeBox, ...]
    edges: tuple[EdgeLine, ...]


def _short(text: str) -> str:
    return text if len(text) <= MAX_LABEL else text[: MAX_LABEL - 1] + "…"


def depths(graph: LineageGraph) -> dict[str, int]:
    """Shortest distance of every node from the root along parent edges; unreachable nodes go last."""
    depth = {graph.root: 0}
    frontier = [graph.root]
    while frontier:
        following = []
        for child in frontier:
            for edge in sorted(graph.parents(child), key=lambda e: e.parent):
                if edge.parent not in depth:
                    depth[edge.parent] = depth[child] + 1
                    following.append(edge.parent)
        frontier = following
    deepest = max(depth.values(), default=0)
    for node_id in [n.id for n in graph.nodes] + [i for e in graph.edges for i in (e.child, e.parent)]:
        depth.setdefault(node_id, deepest + 1)
    return depth


def _rows(graph: LineageGraph) -> list[list[str]]:
    depth = depths(graph)
    rows: list[list[str]] = [[] for _ in range(max(depth.values(), default=0) + 1)]
    for node_id in sorted(depth, key=lambda n: (depth[n], n)):
        rows[depth[node_id]].append(node_id)
    return [row for row in rows if row]


def _box_width(graph: LineageGraph, node_id: str) -> float:
    node = graph.node(node_id)
    licenses = ", ".join(node.licenses) if node else ""
    return max(len(_short(node_id)), len(licenses) + 2, 12) * CHAR_WIDTH + 24


def layout(graph: LineageGraph) -> Picture:
    """Boxes in rows by depth, each row centred and ordered by the mean x of the children above it."""
    rows = _rows(graph)
    width_of = {n: _box_width(graph, n) for row in rows for n in row}
    row_widths = [sum(width_of[n] for n in row) + NODE_GAP * (len(row) - 1) for row in rows]
    total = max(row_widths, default=0.0)
    centre: dict[str, float] = {}
    boxes: list[NodeBox] = []
    for index, (row, row_width) in enumerate(zip(rows, row_widths, strict=True)):

        def barycentre(node_id: str) -> tuple[float, str]:
            xs = [centre[e.child] for e in graph.edges if e.parent == node_id and e.child in centre]
            return (sum(xs) / len(xs) if xs else float("inf"), node_id)

        x = MARGIN + (total - row_width) / 2
        y = MARGIN + index * (NODE_HEIGHT + ROW_GAP)
        for node_id in sorted(row, key=barycentre):
            boxes.append(_box(graph, node_id, x, y, width_of[node_id]))
            centre[node_id] = x + width_of[node_id] / 2
            x += width_of[node_id] + NODE_GAP
    by_id = {b.id: b for b in boxes}
    height = MARGIN * 2 + len(rows) * NODE_HEIGHT + max(len(rows) - 1, 0) * ROW_GAP
    return Picture(total + MARGIN * 2, height, tuple(boxes), _edge_lines(graph, by_id))


def _box(graph: LineageGraph, node_id: str, x: float, y: float, width: float) -> NodeBox:
    node = graph.node(node_id)
    licenses = (", ".join(node.licenses) or "no license") if node else "not resolved"
    return NodeBox(
        node_id, _short(node_id), licenses, round(x, 1), round(y, 1), round(width, 1), node_id == graph.root
    )


def _edge_lines(graph: LineageGraph, by_id: Mapping[str, NodeBox]) -> tuple[EdgeLine, ...]:
    """Each edge from the child's bottom to the parent's top; a child's edges leave from spread-out points
    (ordered by where their parents sit) so that their labels do not sit on one another."""
    lines = []
    for child in sorted({e.child for e in graph.edges}):
        out = sorted(graph.parents(child), key=lambda e: (by_id[e.parent].x, e.parent, e.relation))
        a = by_id[child]
        for index, e in enumerate(out):
            b = by_id[e.parent]
            below = b.y > a.y
            x1 = a.x + a.width * (index + 1) / (len(out) + 1)
            lines.append(
                EdgeLine(
                    child,
                    e.parent,
                    f"{e.relation} {e.confidence:.2f}",
                    round(x1, 1),
                    round(a.y + NODE_HEIGHT if below else a.y, 1),
                    round(b.x + b.width / 2, 1),
                    round(b.y if below else b.y + NODE_HEIGHT, 1),
                    e.relation == "distillation",
                )
            )
    return tuple(lines)


# --- the page


def _hop_list(root: str, path: Sequence[Any]) -> str:
    return path_text(root, tuple(path)) if path else "own license"


def _status(category: str, met: bool | None) -> str:
    if category == "info":
        return "for information"
    if category == "restriction":
        return {True: "respected", False: "violated", None: "to confirm"}[met]
    return {True: "met", False: "not met", None: "to check"}[met]


def verification_rows(verification: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The parts of a `provenance verify --format json` report the page shows (None when not given)."""
    if verification is None:
        return None
    files = [f for f in verification.get("files", []) if isinstance(f, Mapping)]
    digest = verification.get("tensor_digest")
    return {
        "target": str(verification.get("target", "")),
        "summary": sorted((str(k), v) for k, v in dict(verification.get("summary") or {}).items() if v),
        "files": [
            {
                "path": str(f.get("path", "")),
                "verdict": str(f.get("verdict", "")),
                "algorithm": str(f.get("algorithm") or ""),
                "reason": str(f.get("reason") or ""),
            }
            for f in files
        ],
        "tensor_digest": digest if isinstance(digest, Mapping) else None,
    }


def html_context(evaluation: Evaluation, verification: Mapping[str, Any] | None = None) -> dict[str, Any]:
    report, graph = evaluation.report, evaluation.graph
    root = report.model
    return {
        "report": report,
        "passed": report.passed,
        "picture": layout(graph),
        "node_height": NODE_HEIGHT,
        "effective": [
            {"e": e, "path": _hop_list(root, e.path), "confidence": f"{e.confidence:.2f}"}
            for e in report.effective
        ],
        "obligations": [
            {"o": o, "path": _hop_list(root, o.path), "met": _status(o.category, o.met)}
            for o in report.obligations
        ],
        "findings": [
            {"f": f, "path": path_text(root, f.path) if f.path else "", "severity": str(f.severity)}
            for f in report.findings
        ],
        "edges": graph.edges,
        "intended_use": intended_use_text(report.intended_use),
        "verification": verification_rows(verification),
    }


def render_html(evaluation: Evaluation, *, verification: Mapping[str, Any] | None = None) -> str:
    """The whole report as one HTML document; `verification` is a `provenance verify` JSON report, if any."""
    template = environment(html=True).get_template("report.html.j2")
    return template.render(html_context(evaluation, verification)).rstrip("\n") + "\n"
