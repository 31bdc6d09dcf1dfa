"""Renderings of a lineage graph as plain strings: Mermaid, Graphviz dot, JSON, and a text tree.

Every id, license and note can come from a model's own metadata, so each format escapes it for its own
syntax, and control characters never reach the output (a card cannot restyle a terminal or break a label).
Arrows point from a model to what it was made from; distillation edges are dashed.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from provenance.lineage.model import Edge, LineageGraph, Node

FORMATS = ("mermaid", "dot", "json", "text")


def printable(text: str, limit: int = 200) -> str:
    """One line: control and other unprintable characters as `\\xNN` escapes, cut at `limit`."""
    clean = "".join(ch if ch.isprintable() else f"\\x{ord(ch):02x}" for ch in text)
    return clean if len(clean) <= limit else clean[: limit - 3] + "..."


def _licenses(node: Node | None) -> str:
    if node is None:
        return "?"
    if node.source in {"unresolved", "external"}:
        return node.source
    declared = sorted({d.license for d in node.declared_licenses})
    text = ", ".join(declared) or "no license declared"
    if node.effective is not None and len(node.effective) > len(declared):
        text += f"; effective: {', '.join(node.effective)}"
    return text


def _edge_label(edge: Edge) -> str:
    return f"{edge.relation} {edge.confidence:.2f}"


# --- Mermaid --------------------------------------------------------------------------------------

_MERMAID_ENTITIES = {'"': "#quot;", "#": "#35;", "<": "#lt;", ">": "#gt;", "&": "#amp;", "`": "#96;"}


def _mermaid_text(text: str) -> str:
    return "".join(_MERMAID_ENTITIES.get(ch, ch) for ch in printable(text))


def to_mermaid(graph: LineageGraph) -> str:
    ids = {n.id.lower(): f"n{i}" for i, n in enumerate(graph.nodes)}
    lines = ["flowchart BT"]
    for node in graph.nodes:
        label = f"{_mermaid_text(node.id)}<br/>{_mermaid_text(_licenses(node))}"
        lines.append(f'  {ids[node.id.lower()]}["{label}"]')
    for edge in graph.edges:
        arrow = "-.->" if edge.relation == "distillation" else "-->"
        child, parent = ids.get(edge.child.lower()), ids.get(edge.parent.lower())
        if child and parent:
            lines.append(f'  {child} {arrow}|"{_mermaid_text(_edge_label(edge))}"| {parent}')
    return "\n".join(lines) + "\n"


# --- Graphviz dot ---------------------------------------------------------------------------------


def _dot_text(text: str) -> str:
    return printable(text).replace("\\", "\\\\").replace('"', '\\"')


def to_dot(graph: LineageGraph) -> str:
    lines = ["digraph lineage {", "  rankdir=BT;", '  node [shape=box, fontname="Helvetica"];']
    for node in graph.nodes:
        label = f"{_dot_text(node.id)}\\n{_dot_text(_licenses(node))}"
        style = ", style=bold" if node.id == graph.root else ""
        lines.append(f'  "{_dot_text(node.id)}" [label="{label}"{style}];')
    for edge in graph.edges:
        style = ", style=dashed" if edge.relation == "distillation" else ""
        lines.append(
            f'  "{_dot_text(edge.child)}" -> "{_dot_text(edge.parent)}" '
            f'[label="{_dot_text(_edge_label(edge))}"{style}];'
        )
    lines.append("}")
    return "\n".join(lines) + "\n"


# --- JSON -----------------------------------------------------------------------------------------


def to_json_text(graph: LineageGraph) -> str:
    """The `lineage` section alone; deterministic bytes (sorted keys, fixed list order)."""
    return json.dumps(graph.to_json(), sort_keys=True, indent=2, ensure_ascii=False) + "\n"


# --- terminal tree --------------------------------------------------------------------------------

_VERB = {
    "finetune": "fine-tuned from",
    "adapter": "adapter on",
    "quantized": "quantized from",
    "merge": "merged from",
    "distillation": "distilled from (teacher)",
}


def to_text_tree(graph: LineageGraph, *, evidence: bool = True) -> str:
    """The root, then each parent indented under its child; a node met twice is not expanded again."""
    nodes = {n.id.lower(): n for n in graph.nodes}
    root = nodes.get(graph.root.lower())
    lines = [f"{printable(graph.root)}  [{printable(_licenses(root))}]"]
    _tree(graph, nodes, graph.root, indent="", shown={graph.root.lower()}, lines=lines, evidence=evidence)
    return "\n".join(lines) + "\n"


def _tree(
    graph: LineageGraph,
    nodes: dict[str, Node],
    child: str,
    *,
    indent: str,
    shown: set[str],
    lines: list[str],
    evidence: bool,
) -> None:
    edges = graph.parents(child)
    for number, edge in enumerate(edges):
        last = number == len(edges) - 1
        branch, more = ("└── ", "    ") if last else ("├── ", "│   ")
        parent = nodes.get(edge.parent.lower())
        witnesses = sorted({e.witness for e in edge.evidence if e.weight > 0})
        why = f"  ({edge.confidence:.2f}: {', '.join(witnesses)})" if evidence else ""
        head = f"{_VERB[edge.relation]} {printable(edge.parent)}  [{printable(_licenses(parent))}]"
        repeat = edge.parent.lower() in shown
        lines.append(indent + branch + head + printable(why, 300) + ("  (see above)" if repeat else ""))
        if not repeat:
            shown.add(edge.parent.lower())
            _tree(
                graph, nodes, edge.parent, indent=indent + more, shown=shown, lines=lines, evidence=evidence
            )


RENDERERS: dict[str, Callable[[LineageGraph], str]] = {
    "mermaid": to_mermaid,
    "dot": to_dot,
    "json": to_json_text,
    "text": to_text_tree,
}


def render(graph: LineageGraph, fmt: str) -> str:
    """`fmt` is one of FORMATS; anything else is a ValueError naming the choices."""
    renderer = RENDERERS.get(fmt)
    if renderer is None:
        raise ValueError(f"unknown lineage format {fmt!r} (expected one of: {', '.join(FORMATS)})")
    return renderer(graph)
