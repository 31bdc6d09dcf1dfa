"""Lineage: witnesses from scans combined into a graph of models and relations (see docs/lineage.md)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["LineageGraph", "build_graph", "default_resolver", "render"]

if TYPE_CHECKING:
    from provenance.lineage.graph import build_graph, default_resolver
    from provenance.lineage.model import LineageGraph
    from provenance.lineage.render import render


def __getattr__(name: str) -> Any:
    modules = {"build_graph": "graph", "default_resolver": "graph", "LineageGraph": "model"}
    modules["render"] = "render"
    if name not in modules:
        raise AttributeError(name)
    import importlib  # noqa: PLC0415

    return getattr(importlib.import_module(f"provenance.lineage.{modules[name]}"), name)
