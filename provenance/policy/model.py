"""Types of the policy engine: what reaches a model, what it obliges, and what a check found.

Everything here is plain data (frozen dataclasses, JSON-ready through `to_json`), so a check over thousands of
models can be mapped over a distributed engine and its results compared byte for byte.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from provenance.lineage.model import EdgeRef
from provenance.model import Severity

# How a license reaches a model: with the weights (finetune, adapter, quantized, merge, or the model's own
# license) or only through the outputs of a teacher (distillation).
Reach = Literal["self", "weights", "outputs"]

# Activities of the organisation that trigger a clause (see IntendedUse in provenance/policy/orgpolicy.py).
Activity = Literal["any_use", "distribution", "hosted_use", "commercial_use"]
ACTIVITIES: tuple[Activity, ...] = ("any_use", "distribution", "hosted_use", "commercial_use")


# One edge on the way from the checked model to the model whose license applies.
PathHop = EdgeRef


def path_text(root: str, path: tuple[PathHop, ...]) -> str:
    """`a --finetune--> b --distillation--> c`, or just `a` for the model's own license."""
    parts = [root]
    for hop in path:
        parts.append(f"--{hop.relation}--> {hop.parent}")
    return " ".join(parts)


@dataclass(frozen=True)
class ClauseRef:
    """The clause behind an obligation or finding, quoted verbatim from the license text."""

    license_id: str
    quote: str
    section: str = ""
    source: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "license": self.license_id,
            "quote": self.quote,
            "section": self.section,
            "source": self.source,
        }


@dataclass(frozen=True)
class EffectiveLicense:
    """A license that reaches `model`, how (`reach`), from which model (`holder`) and by which path."""

    license_id: str
    holder: str
    reach: Reach
    path: tuple[PathHop, ...]
    known: bool  # in the license catalog
    declared_as: str = ""  # the declared value it was identified from (`llama3.3`, `other` + name, ...)

    @property
    def confidence(self) -> float:
        value = 1.0
        for hop in self.path:
            value *= hop.confidence
        return value

    def to_json(self) -> dict[str, Any]:
        return {
            "license": self.license_id,
            "holder": self.holder,
            "reach": self.reach,
            "known": self.known,
            "declared_as": self.declared_as,
            "confidence": round(self.confidence, 3),
            "path": [hop.to_json() for hop in self.path],
        }


@dataclass(frozen=True)
class Suppressed:
    """Why a finding does not count: the policy's suppression, kept visible in every report."""

    justification: str
    expires: str
    policy_location: str

    def to_json(self) -> dict[str, Any]:
        return {
            "justification": self.justification,
            "expires": self.expires,
            "location": self.policy_location,
        }


@dataclass(frozen=True)
class PolicyFinding:
    """One result of a check: rule, severity, message, the clause, the path that caused it, how to fix."""

    rule_id: str
    severity: Severity
    message: str
    model: str
    fix: str = ""
    license_id: str | None = None
    clause: ClauseRef | None = None
    path: tuple[PathHop, ...] = ()
    location: str = ""  # a file (and line) when the finding is about one: a policy file, the released folder
    default_severity: Severity | None = None  # set when the policy overrode the rule's severity
    suppressed: Suppressed | None = None

    @property
    def counts(self) -> bool:
        return self.suppressed is None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "rule": self.rule_id,
            "severity": str(self.severity),
            "message": self.message,
            "model": self.model,
            "fix": self.fix,
            "license": self.license_id,
            "clause": self.clause.to_json() if self.clause else None,
            "path": [hop.to_json() for hop in self.path],
            "location": self.location,
            "suppressed": self.suppressed.to_json() if self.suppressed else None,
        }
        if self.default_severity is not None:
            data["default_severity"] = str(self.default_severity)
        return data


def finding_sort_key(finding: PolicyFinding) -> tuple[int, str, str, str, str]:
    return (-int(finding.severity), finding.rule_id, finding.model, finding.license_id or "", finding.message)


@dataclass(frozen=True)
class TriggeredObligation:
    """An obligation of an effective license that the intended use triggers, and whether the released
    artifact already meets it (`met` is None when it cannot be checked, e.g. a Hub target)."""

    obligation_id: str
    kind: str
    summary: str
    action: str
    license_id: str
    clause: ClauseRef
    path: tuple[PathHop, ...]
    reach: Reach
    met: bool | None = None
    notice_text: str = ""
    category: str = "duty"  # duty | restriction | info (the catalog's kind families)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.obligation_id,
            "kind": self.kind,
            "summary": self.summary,
            "action": self.action,
            "license": self.license_id,
            "reach": self.reach,
            "clause": self.clause.to_json(),
            "path": [hop.to_json() for hop in self.path],
            "met": self.met,
            "notice_text": self.notice_text,
            "category": self.category,
        }


@dataclass(frozen=True)
class CheckReport:
    """Everything `provenance check` decided, in one serialisable value."""

    target: str
    model: str
    revision: str | None
    source: str
    policy_name: str
    policy_location: str
    fail_on: Severity
    declared_licenses: tuple[str, ...]
    effective: tuple[EffectiveLicense, ...]
    obligations: tuple[TriggeredObligation, ...]
    findings: tuple[PolicyFinding, ...]
    tool_version: str = ""
    intended_use: dict[str, Any] = field(default_factory=dict)

    @property
    def failing(self) -> tuple[PolicyFinding, ...]:
        return tuple(f for f in self.findings if f.counts and f.severity >= self.fail_on)

    @property
    def passed(self) -> bool:
        return not self.failing

    def to_json(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "model": self.model,
            "revision": self.revision,
            "source": self.source,
            "tool_version": self.tool_version,
            "policy": {"name": self.policy_name, "location": self.policy_location},
            "intended_use": self.intended_use,
            "fail_on": str(self.fail_on),
            "passed": self.passed,
            "declared_licenses": list(self.declared_licenses),
            "effective_licenses": [e.to_json() for e in self.effective],
            "obligations": [o.to_json() for o in self.obligations],
            "findings": [f.to_json() for f in self.findings],
        }
