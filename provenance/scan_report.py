"""The result of a scan: plain, frozen, serialisable data (no open handles), so scans can be mapped over a
distributed engine later. The JSON form is versioned and documented in docs/scan-report.md."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from provenance.model import Fact, FileEntry, Finding
from provenance.sources.interface import TargetInfo

SCHEMA = "https://provenance.invalid/schemas/scan-report/1"
SCHEMA_VERSION = 1


@dataclass(frozen=True)
class FileReport:
    """What the scan learned about one file: its listed entry, how it was read, and a format summary."""

    entry: FileEntry
    kind: str
    status: str
    detected: str | None = None
    summary: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            **self.entry.to_json(),
            "kind": self.kind,
            "status": self.status,
            "detected_format": self.detected,
            "summary": self.summary,
        }


@dataclass(frozen=True)
class ScanReport:
    target: TargetInfo
    tool_version: str
    files: tuple[FileReport, ...]
    facts: tuple[Fact, ...]
    findings: tuple[Finding, ...]
    card_body: str | None = None
    card_body_start_line: int | None = None

    def facts_of(self, kind: str) -> list[Fact]:
        return [f for f in self.facts if f.kind == kind]

    def first(self, kind: str) -> Any:
        found = self.facts_of(kind)
        return found[0].value if found else None

    def to_json(self) -> dict[str, Any]:
        return {
            "$schema": SCHEMA,
            "schema_version": SCHEMA_VERSION,
            "tool": {"name": "provenance", "version": self.tool_version},
            "target": self.target.to_json(),
            "files": [f.to_json() for f in self.files],
            "facts": [f.to_json() for f in self.facts],
            "findings": [f.to_json() for f in self.findings],
        }


def to_json_text(
    report: ScanReport, lineage: dict[str, Any] | None = None, claims: dict[str, Any] | None = None
) -> str:
    """Deterministic bytes: sorted keys, stable list order, no timestamps. `lineage` is the graph's JSON,
    `claims` the benchmark-claims section (provenance.verify.claims.claims_section)."""
    doc = report.to_json()
    if lineage is not None:
        doc["lineage"] = lineage
    if claims is not None:
        doc["claims"] = claims
    return json.dumps(doc, sort_keys=True, indent=2, ensure_ascii=False) + "\n"
