"""`provenance check --format sarif`: the CheckReport as one SARIF 2.1.0 run, shaped for GitHub code scanning.

Deterministic (sorted keys, stable ids, no timestamps): two runs over the same inputs give the same bytes, and
code scanning matches alerts across runs through `partialFingerprints`. Every result has a physical location
(code scanning needs one): the file and line when the finding names one, else the checked target, with a
logical location naming the model. Absolute local paths never reach the output: they are made relative to
`base` (the repository root, usually the working directory) when under it, else cut to their file name.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import PurePosixPath, PureWindowsPath
from typing import Any
from urllib.parse import quote

from provenance.model import Severity
from provenance.policy.model import CheckReport, PolicyFinding, finding_sort_key, path_text

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA_URI = (
    "https://raw.githubusercontent.com/oasis-tcs/sarif-spec/master/Schemata/sarif-schema-2.1.0.json"
)
SRCROOT = "%SRCROOT%"
FINGERPRINT_KEY = "provenanceFinding/v1"
# No public home yet: set this to the docs folder URL (ending in "/") and rules get helpUri, the driver
# informationUri. Both must be absolute URIs, so nothing is emitted rather than a made-up one.
DOCS_URI: str | None = None

LEVELS: dict[Severity, str] = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFO: "note",
}
# GitHub buckets security-severity scores: >= 9.0 critical, 7.0-8.9 high, 4.0-6.9 medium, 0.1-3.9 low.
SECURITY_SEVERITY: dict[Severity, str] = {
    Severity.CRITICAL: "9.5",
    Severity.HIGH: "8.0",
    Severity.MEDIUM: "5.5",
    Severity.LOW: "2.0",
}
_LOCAL_SOURCES = frozenset({"local-dir", "local-file"})
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")
# "path" or "path:line"; prose (spaces, quotes) and "scheme:..." values like "builtin:default" are not files.
_FILE_LOCATION = re.compile(r"^(?P<path>(?:[A-Za-z]:[\\/])?[^\s:\"'“”‘’]+)(?::(?P<line>[1-9][0-9]*))?$")

_RULES: dict[str, tuple[str, str]] = {
    "license.declared-incomplete": (
        "The declared license is missing a license that reaches the weights",
        "A license reaches the model's weights through its lineage (fine-tune, adapter, quantization, merge) "
        "but the model does not declare it. Its obligations apply whatever the model card says.",
    ),
    "license.unidentified": (
        "A declared license is not in the license catalog",
        "The model declares a license the catalog cannot identify, so its obligations cannot be computed.",
    ),
    "license.undetermined": (
        "An ancestor of the weights has no license",
        "A model the weights derive from declares no license at all; nothing permits reuse of its weights.",
    ),
    "policy.license-denied": (
        "A license denied by the policy reaches the model",
        "A license listed under `licenses.denied` in the organisation policy reaches the weights.",
    ),
    "policy.license-not-allowed": (
        "A license reaches the model that the policy does not allow",
        "The policy sets `licenses.allowed` and a license reaching the weights is not on the list.",
    ),
    "policy.attestation-missing": (
        "A required attestation was not given",
        "The policy requires an attestation that was neither recorded in the policy nor given with --attest.",
    ),
    "policy.suppression-expired": (
        "A suppression in the policy has expired",
        "A suppression's `expires` date has passed; the findings it covered count again.",
    ),
}
_FAMILIES: dict[str, tuple[str, str, str]] = {
    "obligation": (
        "license",
        "License obligation not met: {words}",
        "An obligation of a license that reaches the model applies to the intended use and the released "
        "artifact does not meet it (or it cannot be checked automatically). The result quotes the clause "
        "and the path through the lineage graph.",
    ),
    "license": (
        "license",
        "License restriction: {words}",
        "A restriction of a license that reaches the model applies to the intended use. The result quotes "
        "the clause and the path through the lineage graph.",
    ),
    "policy": ("policy", "Policy: {words}", "The organisation policy is not met."),
    "lineage": (
        "lineage",
        "Lineage: {words}",
        "What the model files say about where the model comes from is inconsistent or incomplete.",
    ),
}


@dataclass(frozen=True)
class _Place:
    """Where a result points: a repository-relative (or external) URI, a line, and whether it is a file."""

    uri: str
    base_id: str | None
    line: int
    is_file: bool


def render_sarif(report: CheckReport, *, base: str | None = None, docs_uri: str | None = DOCS_URI) -> str:
    """The report as SARIF 2.1.0 JSON text, ending in a newline.

    `base` is the repository root that relative URIs (`%SRCROOT%`) refer to; absolute paths under it become
    relative, others are cut to their name. `docs_uri` (absolute, ending in "/") adds helpUri/informationUri.
    """
    findings = sorted(report.findings, key=_order)
    rule_ids = sorted({f.rule_id for f in findings})
    index = {rule_id: i for i, rule_id in enumerate(rule_ids)}
    fingerprints = _fingerprints(findings, base)
    driver: dict[str, Any] = {
        "name": "provenance",
        "version": _version(report),
        "rules": [_rule(rule_id, findings, docs_uri) for rule_id in rule_ids],
    }
    if docs_uri:
        driver["informationUri"] = docs_uri
    run: dict[str, Any] = {
        "tool": {"driver": driver},
        "invocations": [_invocation(report, base)],
        "results": [_result(f, report, index[f.rule_id], fingerprints[id(f)], base) for f in findings],
        "columnKind": "unicodeCodePoints",
        "properties": _run_properties(report, base),
    }
    log = {"$schema": SARIF_SCHEMA_URI, "version": SARIF_VERSION, "runs": [run]}
    return json.dumps(log, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _version(report: CheckReport) -> str:
    if report.tool_version:
        return report.tool_version
    from provenance import __version__  # noqa: PLC0415  (the package imports report modules lazily)

    return __version__


def _order(finding: PolicyFinding) -> tuple[Any, ...]:
    hops = tuple((h.child, h.relation, h.parent) for h in finding.path)
    return (*finding_sort_key(finding), finding.location, hops, finding.suppressed is not None)


def _level(severity: Severity) -> str:
    return LEVELS[severity]


def _words(rule_id: str) -> str:
    return rule_id.split(".", 1)[-1].replace("-", " ").replace("_", " ")


def _rule_name(rule_id: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[.\-_/]+", rule_id) if part)


def _rule(rule_id: str, findings: list[PolicyFinding], docs_uri: str | None) -> dict[str, Any]:
    family = rule_id.split(".", 1)[0]
    tag, short_template, full = _FAMILIES.get(family, (family, "{words}", "Reported by provenance."))
    short, full = _RULES.get(rule_id, (short_template.format(words=_words(rule_id)), full))
    default = max((f.default_severity or f.severity) for f in findings if f.rule_id == rule_id)
    properties: dict[str, Any] = {
        "tags": sorted({"provenance", "compliance", tag}),
        "problem.severity": _level(default).replace("note", "recommendation"),
        "precision": "high",
        "severity": str(default),
    }
    if default in SECURITY_SEVERITY:
        properties["security-severity"] = SECURITY_SEVERITY[default]
    help_text = (
        f"{full}\n\nDefault severity: {default}. Each result quotes the clause, shows the path through the "
        "lineage graph and says how to fix it."
    )
    rule: dict[str, Any] = {
        "id": rule_id,
        "name": _rule_name(rule_id),
        "shortDescription": {"text": short},
        "fullDescription": {"text": full},
        "help": {"text": help_text, "markdown": help_text},
        "defaultConfiguration": {"level": _level(default)},
        "properties": properties,
    }
    if docs_uri:
        rule["helpUri"] = f"{docs_uri}policy-engine.md#3-policy-findings"
    return rule


def _message(finding: PolicyFinding, base: str | None, target: str) -> str:
    parts = [finding.message]
    if finding.clause is not None:
        section = f" §{finding.clause.section}" if finding.clause.section else ""
        parts.append(f"Clause ({finding.clause.license_id}{section}): “{finding.clause.quote}”")
    if finding.path:
        parts.append(f"Path: {path_text(finding.model, finding.path)}")
    if finding.fix:
        parts.append(f"Fix: {finding.fix}")
    if finding.suppressed is not None:
        parts.append(f"Suppressed until {finding.suppressed.expires}: {finding.suppressed.justification}")
    return _scrub("\n".join(parts), base, target)


def _result(
    finding: PolicyFinding, report: CheckReport, rule_index: int, fingerprint: str, base: str | None
) -> dict[str, Any]:
    place = _place(finding.location, report, base)
    result: dict[str, Any] = {
        "ruleId": finding.rule_id,
        "ruleIndex": rule_index,
        "level": _level(finding.severity),
        "message": {"text": _message(finding, base, report.target)},
        "locations": [_location(place, finding.model)],
        "partialFingerprints": {FINGERPRINT_KEY: fingerprint},
        "properties": _result_properties(finding, base, report.target),
    }
    if finding.suppressed is not None:
        s = finding.suppressed
        result["suppressions"] = [
            {
                "kind": "external",
                "status": "accepted",
                "justification": s.justification,
                "properties": {
                    "expires": s.expires,
                    "policyLocation": _safe_location(s.policy_location, base),
                },
            }
        ]
    return result


def _result_properties(finding: PolicyFinding, base: str | None, target: str) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "severity": str(finding.severity),
        "model": finding.model,
        "license": finding.license_id,
        "clause": _clause(finding, base, target),
        "path": [hop.to_json() for hop in finding.path],
        "fix": finding.fix,
    }
    if finding.location:
        properties["location"] = _safe_location(finding.location, base)
    if finding.default_severity is not None:
        properties["defaultSeverity"] = str(finding.default_severity)
    return properties


def _clause(finding: PolicyFinding, base: str | None, target: str) -> dict[str, Any] | None:
    if finding.clause is None:
        return None
    clause = finding.clause.to_json()
    clause["source"] = _scrub(clause["source"], base, target)
    return clause


def _location(place: _Place, model: str) -> dict[str, Any]:
    artifact: dict[str, Any] = {"uri": place.uri}
    if place.base_id:
        artifact["uriBaseId"] = place.base_id
    location: dict[str, Any] = {
        "physicalLocation": {"artifactLocation": artifact, "region": {"startLine": place.line}},
    }
    if not place.is_file:
        location["logicalLocations"] = [{"name": model, "fullyQualifiedName": model, "kind": "module"}]
    return location


def _place(location: str, report: CheckReport, base: str | None) -> _Place:
    """The finding's file when it names one inside the repository, else the checked target."""
    match = _FILE_LOCATION.match(location.strip()) if location else None
    if match is not None:
        relative = _relative(match["path"], base)
        if relative is not None:
            return _Place(_uri(relative), SRCROOT, int(match["line"] or 1), True)
    return _target_place(report, base)


def _target_place(report: CheckReport, base: str | None) -> _Place:
    if report.source in _LOCAL_SOURCES:
        relative = _relative(report.target, base)
        return _Place(_uri(relative or _name(report.target)), SRCROOT, 1, False)
    if _HUB_ID.match(report.model):
        return _Place(f"https://huggingface.co/{quote(report.model, safe='/-._~')}", None, 1, False)
    return _Place(_uri(_name(report.target) or report.model or "model"), None, 1, False)


def _is_absolute(path: str) -> bool:
    return PurePosixPath(path).is_absolute() or PureWindowsPath(path).is_absolute() or path.startswith("~")


def _relative(path: str, base: str | None) -> str | None:
    """`path` relative to the repository root, or None when it is absolute and outside `base`."""
    posix = path.replace("\\", "/")
    if not _is_absolute(path):
        parts = [p for p in PurePosixPath(posix).parts if p not in {".", ""}]
        if ".." in parts:
            return None
        return "/".join(parts) or "."
    if base:
        root = PurePosixPath(base.replace("\\", "/"))
        candidate = PurePosixPath(posix)
        if candidate.is_relative_to(root) and candidate != root:
            return candidate.relative_to(root).as_posix()
    return None


def _name(path: str) -> str:
    return PurePosixPath(path.replace("\\", "/").rstrip("/")).name


def _uri(path: str) -> str:
    return quote(path, safe="/-._~")


def _safe_location(location: str, base: str | None) -> str:
    """A location for display: relative when it can be, the file name alone when it is absolute elsewhere."""
    match = _FILE_LOCATION.match(location.strip())
    if match is None or not _is_absolute(match["path"]):
        return _scrub(location, base)
    relative = _relative(match["path"], base) or _name(match["path"])
    return f"{relative}:{match['line']}" if match["line"] else relative


def _scrub(text: str, base: str | None, target: str = "") -> str:
    """Free text (messages, clause sources) without the absolute target folder or repository root."""
    if target and _is_absolute(target):
        folder = target.rstrip("/\\")
        if folder:
            text = text.replace(folder, _relative(folder, base) or _name(folder))
    root = (base or "").rstrip("/\\")
    if root:
        text = text.replace(root + "/", "").replace(root + "\\", "")
    return text


def _fingerprints(findings: list[PolicyFinding], base: str | None) -> dict[int, str]:
    """A stable hash per finding from rule, model, license, path and file; the message breaks rare ties."""
    keys = {id(f): _identity(f, base) for f in findings}
    counts: dict[tuple[str, ...], int] = {}
    for key in keys.values():
        counts[key] = counts.get(key, 0) + 1
    out: dict[int, str] = {}
    for f in findings:
        key = keys[id(f)]
        if counts[key] > 1:
            key = (*key, f.message)
        out[id(f)] = hashlib.sha256("\x1f".join(key).encode("utf-8")).hexdigest()[:32]
    return out


def _identity(finding: PolicyFinding, base: str | None) -> tuple[str, ...]:
    hops = " ".join(f"{h.child}>{h.relation}>{h.parent}" for h in finding.path)
    match = _FILE_LOCATION.match(finding.location.strip()) if finding.location else None
    file = (_relative(match["path"], base) or _name(match["path"])) if match else ""
    return (finding.rule_id, finding.model, finding.license_id or "", hops, file)


def _invocation(report: CheckReport, base: str | None) -> dict[str, Any]:
    return {
        "executionSuccessful": True,
        "properties": {
            "policy": {"name": report.policy_name, "location": _safe_location(report.policy_location, base)},
            "failOn": str(report.fail_on),
            "passed": report.passed,
            "failing": len(report.failing),
        },
    }


def _run_properties(report: CheckReport, base: str | None) -> dict[str, Any]:
    target = report.target
    if report.source in _LOCAL_SOURCES:
        target = _relative(report.target, base) or _name(report.target)
    return {
        "target": target,
        "model": report.model,
        "revision": report.revision,
        "source": report.source,
        "declaredLicenses": list(report.declared_licenses),
        "effectiveLicenses": [
            {"license": e.license_id, "reach": e.reach, "holder": e.holder, "known": e.known}
            for e in report.effective
        ],
        "intendedUse": report.intended_use,
    }
