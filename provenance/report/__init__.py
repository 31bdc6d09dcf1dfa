"""Reporters: one module per output format. Each returns text; the CLI decides where it goes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from provenance.errors import UsageError

if TYPE_CHECKING:
    from provenance.lineage.model import LineageGraph
    from provenance.scan_report import ScanReport

FORMATS = ("text", "json")


def render(
    report: ScanReport,
    fmt: str,
    *,
    color: bool = False,
    width: int = 110,
    lineage: LineageGraph | None = None,
    claims: dict[str, Any] | None = None,
) -> str:
    if fmt == "json":
        # imported here: building the CLI parser imports this package (the command modules live in it)
        from provenance.scan_report import to_json_text  # noqa: PLC0415

        return to_json_text(report, lineage.to_json() if lineage is not None else None, claims)
    if fmt == "text":
        from provenance.report.terminal import render_text  # noqa: PLC0415  (rich is slow to import)

        return render_text(report, color=color, width=width, lineage=lineage, claims=claims)
    raise UsageError("", f"unknown format {fmt!r} (expected one of: {', '.join(FORMATS)})")
