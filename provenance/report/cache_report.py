"""`provenance scan` over a whole Hugging Face cache: one scan per cached model, then one document.

Each model is scanned from the cache alone (`hf-cache:org/name`), with its lineage and claims as a single scan
would have them. A model that cannot be scanned (a malformed file, a broken snapshot) is recorded with its
error and the others go on; the command then exits with that error's code (the highest, when several).

JSON (`schema_version` 1, deterministic bytes): `{"$schema", "schema_version", "tool", "cache", "models": [
{"repo_id", "report": <the scan report of docs/scan-report.md>} | {"repo_id", "error": {"problem", "hint",
"exit_code"}}]}`, models sorted by repo id. Text: every model's report, then a summary table.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from provenance.errors import ProvenanceError
    from provenance.lineage.model import LineageGraph
    from provenance.scan_report import ScanReport

SCHEMA = "https://provenance.invalid/schemas/scan-cache/1"


@dataclass(frozen=True)
class CachedModel:
    """One cached model: its report (with lineage and claims when asked), or the error that stopped it."""

    repo_id: str
    report: ScanReport | None = None
    lineage: LineageGraph | None = None
    claims: dict[str, Any] | None = None
    error: ProvenanceError | None = None

    def __post_init__(self) -> None:
        if (self.report is None) == (self.error is None):
            raise ValueError(f"{self.repo_id}: a cached model has its report or its error, exactly one")

    def to_json(self) -> dict[str, Any]:
        if self.error is not None:
            error = {
                "problem": self.error.problem,
                "hint": self.error.hint,
                "exit_code": self.error.exit_code,
            }
            return {"repo_id": self.repo_id, "error": error}
        assert self.report is not None  # __post_init__
        from provenance.scan_report import to_json_text  # noqa: PLC0415

        lineage = self.lineage.to_json() if self.lineage is not None else None
        report = json.loads(to_json_text(self.report, lineage, self.claims))
        return {"repo_id": self.repo_id, "report": report}


def exit_code(models: list[CachedModel]) -> int:
    """0 when every model was scanned, else the highest exit code among the errors."""
    return max((m.error.exit_code for m in models if m.error is not None), default=0)


def render_cache(models: list[CachedModel], root: Path, fmt: str, *, color: bool, width: int = 110) -> str:
    from provenance import __version__  # noqa: PLC0415

    ordered = sorted(models, key=lambda m: m.repo_id.lower())
    if fmt == "json":
        doc = {
            "$schema": SCHEMA,
            "schema_version": 1,
            "tool": {"name": "provenance", "version": __version__},
            "cache": str(root),
            "models": [m.to_json() for m in ordered],
        }
        return json.dumps(doc, sort_keys=True, indent=2, ensure_ascii=False) + "\n"
    return _render_text(ordered, root, color=color, width=width)


def _render_text(models: list[CachedModel], root: Path, *, color: bool, width: int) -> str:
    from rich import box  # noqa: PLC0415  (rich is slow to import)
    from rich.console import Console  # noqa: PLC0415
    from rich.rule import Rule  # noqa: PLC0415
    from rich.table import Table  # noqa: PLC0415
    from rich.text import Text  # noqa: PLC0415

    from provenance.report.terminal import render_text  # noqa: PLC0415

    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=color, no_color=not color, width=width, highlight=False)
    for number, model in enumerate(models, 1):
        console.print(Rule(Text(f"{number}/{len(models)}  {model.repo_id}"), style="bold"))
        if model.error is not None:
            console.print(Text(f"not scanned: {model.error.diagnostics()}", style="red"))
            continue
        assert model.report is not None  # CachedModel.__post_init__
        text = render_text(model.report, color=color, width=width, lineage=model.lineage, claims=model.claims)
        console.print(Text.from_ansi(text) if color else Text(text), end="")
    table = Table(title=f"Hugging Face cache {root}: {len(models)} model(s)", box=box.SIMPLE_HEAD)
    for column in ("Model", "Declared", "Effective", "Findings"):
        table.add_column(column, overflow="fold")
    for model in models:
        table.add_row(*_summary_row(model))
    console.print(table)
    return buffer.getvalue()


def _summary_row(model: CachedModel) -> tuple[str, str, str, str]:
    if model.error is not None:
        return model.repo_id, "-", "-", f"not scanned: {model.error.problem}"
    assert model.report is not None  # CachedModel.__post_init__
    declared = sorted(
        {str(f.value) for f in model.report.facts if f.kind in {"card.license", "hub.license"} and f.value}
    )
    effective = "-"
    if model.lineage is not None:
        root = model.lineage.node(model.lineage.root)
        if root is not None:
            effective = ", ".join(root.effective_licenses) or "none"
    counts: dict[str, int] = {}
    lineage_findings = model.lineage.findings if model.lineage is not None else ()
    for finding in {*model.report.findings, *lineage_findings}:
        counts[str(finding.severity)] = counts.get(str(finding.severity), 0) + 1
    order = ("critical", "high", "medium", "low", "info")
    findings = ", ".join(f"{counts[s]} {s}" for s in order if s in counts) or "none"
    return model.repo_id, ", ".join(declared) or "none", effective, findings


__all__ = ["SCHEMA", "CachedModel", "exit_code", "render_cache"]
