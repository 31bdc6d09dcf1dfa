"""The human report. Model-supplied text goes through `Text` objects (never markup) with control characters
escaped, so a card or GGUF name holding ANSI escapes or `[bold]` cannot restyle the terminal."""

from __future__ import annotations

import io
import re
from collections.abc import Iterable
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from provenance.lineage.model import LineageGraph
from provenance.model import Fact, Finding, Origin, Severity
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


def clean(value: Any, limit: int = 160) -> str:
    """One line of printable text: control characters shown as escapes, long values cut at `limit`."""
    text = value if isinstance(value, str) else repr(value)
    text = "".join(ch if ch.isprintable() else f"\\x{ord(ch):02x}" for ch in text)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def render_text(
    report: ScanReport,
    *,
    color: bool,
    width: int,
    lineage: LineageGraph | None = None,
    claims: dict[str, Any] | None = None,
) -> str:
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=color, no_color=not color, width=width, highlight=False)
    _header(console, report)
    if lineage is not None:
        from provenance.lineage.render import to_text_tree  # noqa: PLC0415

        console.print(Text("Lineage", style="bold"))
        console.print(Text(to_text_tree(lineage, evidence=True).rstrip("\n")))
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
    if claims is not None:
        _claims(console, claims)
    findings = report.findings + (tuple(lineage.findings) if lineage is not None else ())
    _findings(console, findings)
    return buffer.getvalue()


def _claims(console: Console, claims: dict[str, Any]) -> None:
    """One line per verdict count; contradicted claims come with the findings of the claims section."""
    summary = claims.get("summary") or {}
    counts = {**(summary.get("claims") or {}), **(summary.get("comparisons") or {})}
    if not counts:
        return
    shown = ", ".join(f"{n} {verdict}" for verdict, n in sorted(counts.items()))
    console.print(Text("Benchmark claims", style="bold"))
    console.print(Text(f"  {shown}  (details: provenance claims TARGET)"))


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
    table.add_column("where from", overflow="fold", style="dim", min_width=44)
    for fact in facts:
        table.add_row(Text(fact.kind), Text(_fact_value(fact.value)), Text(clean(_origin_text(fact.origin))))
    console.print(table)


def _origin_text(origin: Origin) -> str:
    """Where a fact came from, short: the knowledge base's file is always the same; its source is not."""
    if origin.source == "knowledge-base":
        return "knowledge base: " + origin.detail.split(" ← ", 1)[-1]
    return str(origin)


def _fact_value(value: Any) -> str:
    if isinstance(value, dict) and "first_line" in value:
        return clean(f"{value['path']} ({value['first_line']}; sha256 {value['sha256'][:12]}…)")
    if isinstance(value, dict) and "repo" in value:
        relation = value.get("relation") or "base"
        quote = f'  "{_plain_markdown(str(value["quote"]))}"' if value.get("quote") else ""
        return clean(f"{relation}: {value['repo']}{quote}")
    if isinstance(value, list):
        return clean(", ".join(str(v) for v in value))
    return clean(value)


def _plain_markdown(quote: str) -> str:
    """A quoted card line as a reader sees it: links as their Hub id or label, no emphasis, table cells
    without the outer pipes (the JSON report keeps the line as written)."""
    from provenance.lineage.witnesses import clean_inline  # noqa: PLC0415

    return clean_inline(quote).strip("| ")


def _files_table(console: Console, files: tuple[FileReport, ...]) -> None:
    if not files:
        return
    table = Table(title=f"Files ({len(files)})", title_justify="left", box=box.SIMPLE_HEAD, show_edge=False)
    table.add_column("path", overflow="fold")
    table.add_column("size", justify="right")
    table.add_column("kind")
    table.add_column("read")
    rows = _group_shards(files)
    for path, size, kind, status in rows[:200]:
        table.add_row(Text(clean(path)), size, kind, Text(clean(status)))
    console.print(table)
    if len(rows) > 200:
        console.print(Text(f"... and {len(rows) - 200} more rows (see --format json)", style="dim"))


_SHARD = re.compile(r"^(?P<head>.*?)(?P<n>\d+)(?P<tail>-of-\d+\.[A-Za-z0-9.]+)$")


def _group_shards(files: tuple[FileReport, ...]) -> list[tuple[str, str, str, str]]:
    """One row per file, except shards of one checkpoint read the same way: one row for the run."""
    rows: list[tuple[str, str, str, str]] = []
    runs: dict[tuple[str, str, str, str], list[FileReport]] = {}
    for f in files:
        match = _SHARD.match(f.entry.path)
        if match is None:
            rows.append((f.entry.path, _size(f.entry.size), f.kind, f.status))
            continue
        key = (match["head"], match["tail"], f.kind, f.status)
        if key not in runs:
            runs[key] = []
            rows.append(key)
        runs[key].append(f)
    return [_run_row(row, runs.get(row)) for row in rows]


def _run_row(row: tuple[str, str, str, str], run: list[FileReport] | None) -> tuple[str, str, str, str]:
    if run is None:
        return row
    if len(run) == 1:
        f = run[0]
        return (f.entry.path, _size(f.entry.size), f.kind, f.status)
    head, tail, kind, status = row
    sizes = [f.entry.size for f in run]
    total = _size(sum(s for s in sizes if s is not None)) if None not in sizes else "?"
    return (f"{head}*{tail} ({len(run)} shards)", total, kind, status)


def _size(size: int | None) -> str:
    return "?" if size is None else _human(size)


def _findings(console: Console, findings: tuple[Finding, ...]) -> None:
    if not findings:
        console.print(Text("No findings.", style="green"))
        return
    console.print(Text(f"Findings ({len(findings)})", style="bold"))
    for finding in sorted(findings, key=lambda f: (-f.severity, f.rule_id, f.location)):
        line = Text(f"  {str(finding.severity).upper():8}", style=_SEVERITY_STYLE[finding.severity])
        line.append(f" {finding.rule_id}  ", style="bold")
        line.append(clean(finding.message, 600))
        if finding.location:
            line.append(f"  ({clean(finding.location)})", style="dim")
        console.print(line)
        if finding.fix:
            console.print(Text(f"           fix: {clean(finding.fix, 600)}", style="dim"))


def _human(size: int) -> str:
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} TB"
