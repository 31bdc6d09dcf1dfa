"""Reporters: one module per output format. Each returns text; the CLI decides where it goes."""

from __future__ import annotations

from provenance.errors import UsageError
from provenance.scan_report import ScanReport, to_json_text

FORMATS = ("text", "json")


def render(report: ScanReport, fmt: str, *, color: bool = False, width: int = 110) -> str:
    if fmt == "json":
        return to_json_text(report)
    if fmt == "text":
        from provenance.report.terminal import render_text  # noqa: PLC0415  (rich is slow to import)

        return render_text(report, color=color, width=width)
    raise UsageError("", f"unknown format {fmt!r} (expected one of: {', '.join(FORMATS)})")
