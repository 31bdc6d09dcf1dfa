"""The human report. Model-supplied text goes through `Text` objects (never markup) with control characters
escaped, so a card or GGUF name holding ANSI escapes or `[bold]` cannot restyle the terminal."""

from __future__ import annotations

import io
from collections.abc import Iterable
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from provenance.model import Fact, Finding, Severity
from provenance.scan_report import FileReport, ScanReport

_SEVERITY_STYLE = {
    Severity.CRITICAL: "bold white on red",
    Severity.HIGH: "bold red",
    Severity.MEDIUM: "yellow",
    Severity.LOW: "cyan",
    Severity.INFO: "dim",
}
_LICENSE_KINDS = (
    "card.license",
    "card.license_name",
    "card.license_link",
    "hub.license",
    "gguf.general.license",
)
_LINEAGE_KINDS = (
    "lineage.base",
    "lineage.teacher",
    "card.base_model",
    "card.base_model_relation",
    "hub.base_model",
)


def clean(value: Any) -> str:
    """One line of printable text: control characters shown as escapes, long values cut."""
    text = value if isinstance(value, str) else repr(value)
    text = "".join(ch if ch.isprintable() else f"\\x{ord(ch):02x}" for ch in text)
    return text if len(text) <= 160 else text[:157] + "..."


def render_text(report: ScanReport, *, color: bool, width: int) -> str:
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=color, no_color=not color, width=width, highlight=False)
    _header(console, report)
    licenses = _select(report.facts, _LICENSE_KINDS) + [
        f for f in report.facts if f.kind.startswith("license_file.")
    ]
    _facts_table(console, "Licenses", licenses)
    _facts_table(
        console,
        "Lineage (as witnessed; the lineage graph weighs these)",
        _select(report.facts, _LINEAGE_KINDS),
    )
    _facts_table(console, "Architecture", [f for f in report.facts if f.kind.startswith("config.")])
    _facts_table(console, "GGUF metadata", [f for f in report.facts if f.kind.startswith("gguf.")])
    _facts_table(console, "Tokenizer", [f for f in report.facts if f.kind.startswith("tokenizer.")])
    _files_table(console, report.files)
    _findings(console, report.findings)
    return buffer.getvalue()


def _header(console: Console, report: ScanReport) -> None:
    t = report.target
    title = Text("provenance scan  ", style="bold")
    title.append(clean(t.repo_id or t.root or t.requested), style="bold cyan")
    console.print(title)
    line = Text(f"source: {t.kind}")
    if t.revision:
        line.append(f"  revision: {clean(t.revision)}")
    if t.commit:
        line.append(f"  commit: {t.commit}")
    line.append(f"  tool: provenance {report.tool_version}")
    console.print(line)
    for note in t.notes:
        console.print(Text(f"note: {clean(note)}", style="italic"))


def _select(facts: Iterable[Fact], kinds: tuple[str, ...]) -> list[Fact]:
    return [f for f in facts if f.kind in kinds]


def _facts_table(console: Console, title: str, facts: list[Fact]) -> None:
    if not facts:
        return
    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, show_edge=False, expand=False)
    table.add_column("fact", no_wrap=True)
    table.add_column("value", overflow="fold")
    table.add_column("where from", overflow="fold", style="dim")
    for fact in facts:
        table.add_row(Text(fact.kind), Text(_fact_value(fact.value)), Text(clean(str(fact.origin))))
    console.print(table)


def _fact_value(value: Any) -> str:
    if isinstance(value, dict) and "first_line" in value:
        return clean(f"{value['path']} ({value['first_line']}; sha256 {value['sha256'][:12]}…)")
    if isinstance(value, dict) and "repo" in value:
        relation = value.get("relation") or "base"
        quote = f'  "{value["quote"]}"' if value.get("quote") else ""
        return clean(f"{relation}: {value['repo']}{quote}")
    if isinstance(value, list):
        return clean(", ".join(str(v) for v in value))
    return clean(value)


def _files_table(console: Console, files: tuple[FileReport, ...]) -> None:
    if not files:
        return
    table = Table(title=f"Files ({len(files)})", title_justify="left", box=box.SIMPLE_HEAD, show_edge=False)
    table.add_column("path", overflow="fold")
    table.add_column("size", justify="right")
    table.add_column("kind")
    table.add_column("read")
    for f in files[:200]:
        size = "?" if f.entry.size is None else _human(f.entry.size)
        table.add_row(Text(clean(f.entry.path)), size, f.kind, Text(clean(f.status)))
    console.print(table)
    if len(files) > 200:
        console.print(Text(f"... and {len(files) - 200} more files (see --format json)", style="dim"))


def _findings(console: Console, findings: tuple[Finding, ...]) -> None:
    if not findings:
        console.print(Text("No findings.", style="green"))
        return
    console.print(Text(f"Findings ({len(findings)})", style="bold"))
    for finding in sorted(findings, key=lambda f: (-f.severity, f.rule_id, f.location)):
        line = Text(f"  {str(finding.severity).upper():8}", style=_SEVERITY_STYLE[finding.severity])
        line.append(f" {finding.rule_id}  ", style="bold")
        line.append(clean(finding.message))
        if finding.location:
            line.append(f"  ({clean(finding.location)})", style="dim")
        console.print(line)
        if finding.fix:
            console.print(Text(f"           fix: {clean(finding.fix)}", style="dim"))


def _human(size: int) -> str:
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} TB"
