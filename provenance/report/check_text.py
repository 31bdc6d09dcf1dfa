"""`provenance check` in the terminal: the verdict first, then why (licenses, obligations, findings)."""

from __future__ import annotations

import textwrap

from provenance.policy.model import CheckReport, PolicyFinding, TriggeredObligation, path_text

_WIDTH = 100
_MET = {True: "met", False: "NOT MET", None: "to do"}


def _clean(text: str) -> str:
    """Model-supplied text never reaches the terminal with control characters."""
    return "".join(ch if ch.isprintable() else f"\\x{ord(ch):02x}" for ch in text)


def _wrap(text: str, indent: str) -> list[str]:
    return textwrap.wrap(_clean(text), _WIDTH, initial_indent=indent, subsequent_indent=indent) or [indent]


def render_check_text(report: CheckReport) -> str:
    lines: list[str] = []
    counted = [f for f in report.findings if f.counts]
    verdict = "PASS" if report.passed else "FAIL"
    lines.append(f"provenance check: {verdict}  {_clean(report.model)}")
    at = f"@{report.revision}" if report.revision else ""
    lines.append(f"  target   {_clean(report.target)}{at}  (source: {report.source})")
    lines.append(f"  policy   {_clean(report.policy_name)}  ({_clean(report.policy_location)})")
    use = ", ".join(f"{k}={v}" for k, v in sorted(report.intended_use.items()) if k != "activities")
    lines.append(f"  use      {use}")
    failing = len(report.failing)
    lines.append(
        f"  result   {failing} finding(s) at or above {report.fail_on} "
        f"({len(counted)} counted, {len(report.findings) - len(counted)} suppressed)"
    )
    lines.append("")
    lines.append(f"Declared licenses: {', '.join(report.declared_licenses) or 'none'}")
    lines.append("Effective licenses:")
    if not report.effective:
        lines.append("  none found")
    for e in report.effective:
        known = "" if e.known else "  (not in the catalog)"
        lines.append(f"  {e.license_id:<34} {e.reach:<8} {_clean(path_text(report.model, e.path))}{known}")
    lines.append("")
    lines.extend(_obligations(report))
    lines.extend(_findings(report.findings))
    return "\n".join(lines).rstrip() + "\n"


def _obligations(report: CheckReport) -> list[str]:
    if not report.obligations:
        return ["Obligations: none triggered by the intended use", ""]
    lines = ["Obligations (triggered by the intended use):"]
    by_license: dict[str, list[TriggeredObligation]] = {}
    for o in report.obligations:
        by_license.setdefault(o.license_id, []).append(o)
    for license_id, items in by_license.items():
        first = items[0]
        lines.append(f"  {license_id}  ({_clean(path_text(report.model, first.path))})")
        for o in items:
            state = "info" if o.category == "info" else _MET[o.met]
            lines.append(f"    [{state:>7}] {_clean(o.summary)}")
            section = f"§{o.clause.section}: " if o.clause.section else ""
            lines.extend(_wrap(f"{section}“{o.clause.quote}”", "              "))
            if o.met is not True and o.action:
                lines.extend(_wrap(f"do: {o.action}", "              "))
    lines.append("")
    return lines


def _findings(findings: tuple[PolicyFinding, ...]) -> list[str]:
    if not findings:
        return ["Findings: none"]
    lines = ["Findings:"]
    for f in findings:
        mark = "  (suppressed)" if f.suppressed else ""
        lines.append(f"  {str(f.severity).upper():<8} {f.rule_id}{mark}")
        lines.extend(_wrap(f.message, "           "))
        if f.clause is not None:
            section = f" §{f.clause.section}" if f.clause.section else ""
            lines.extend(_wrap(f"clause ({f.clause.license_id}{section}): “{f.clause.quote}”", "           "))
        if f.path:
            lines.extend(_wrap(f"path: {path_text(f.model, f.path)}", "           "))
        if f.location:
            lines.extend(_wrap(f"at: {f.location}", "           "))
        if f.fix:
            lines.extend(_wrap(f"fix: {f.fix}", "           "))
        if f.suppressed:
            s = f.suppressed
            lines.extend(
                _wrap(f"suppressed until {s.expires}: {s.justification} ({s.policy_location})", "           ")
            )
    return lines
