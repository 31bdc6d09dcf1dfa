"""Hand-made evaluations for the output formats: a lineage, a check report and a scan, with no catalog needed.

The clause texts below are short stand-ins written for these tests (not license texts); the renderers must
copy them verbatim, which is what the tests check.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from provenance.lineage.model import DeclaredLicense, Edge, EdgeEvidence, LineageGraph, Node
from provenance.model import FileEntry, Severity
from provenance.policy.command import Evaluation
from provenance.policy.model import (
    CheckReport,
    ClauseRef,
    EffectiveLicense,
    PathHop,
    PolicyFinding,
    TriggeredObligation,
)
from provenance.report.notice import LicenseDoc
from provenance.scan_report import FileReport, ScanReport
from provenance.sources.interface import TargetInfo

CHILD = "acme/Widget-7B"
BASE = "upstream/Base-7B"
TEACHER = "teacher/Big-Teacher"
NOTICE_LINE = "Base 7B is licensed under the Base Community License, Copyright © Upstream Inc."
ATTRIBUTION_QUOTE = "prominently display “Built with Base” on a related website or documentation"
OUTPUT_NOTICE_LINE = "Outputs of Big Teacher are provided under the Teacher Output Terms."

Golden = Callable[[str, str], None]  # the `golden` fixture: golden(file name, text)


@dataclass(frozen=True)
class Case:
    evaluation: Evaluation
    docs: dict[str, LicenseDoc]


def _obligation(kind: str, license_id: str, path: tuple[PathHop, ...], **kw: str) -> TriggeredObligation:
    quote = kw.pop("quote", f"the {kind} clause of {license_id}")
    reach = (
        "self" if not path else ("outputs" if any(h.relation == "distillation" for h in path) else "weights")
    )
    return TriggeredObligation(
        f"{license_id}:{kind}",
        kind,
        kw.pop("summary", f"{kind} duty"),
        kw.pop("action", f"meet {kind}"),
        license_id,
        ClauseRef(license_id, quote, kw.pop("section", "1.b"), "policies/licenses/x.yaml"),
        path,
        reach,  # type: ignore[arg-type]
        None,
        kw.pop("notice_text", ""),
    )


def _node(node_id: str, license_id: str) -> Node:
    return Node(node_id, None, (DeclaredLicense(license_id, (f"{node_id}/README.md",)),), "knowledge-base")


def _edge(child: str, parent: str, relation: str, confidence: float) -> Edge:
    evidence = (EdgeEvidence("card", f"base_model: {parent}", "README.md:3", 0.9, "card"),)
    return Edge(child, parent, relation, confidence, evidence)  # type: ignore[arg-type]


def _scan(model: str, files: tuple[str, ...] = ("LICENSE", "README.md")) -> ScanReport:
    target = TargetInfo(model, "knowledge-base", repo_id=model)
    reports = tuple(FileReport(FileEntry(p, 10), p.lower(), "recorded (offline)") for p in files)
    return ScanReport(target, "0.0.test", reports, (), ())


def weights_case(*, child: str = CHILD, base_license: str = "LicenseRef-base") -> Case:
    """CHILD (own license MIT) is a fine-tune of BASE (a license with a NOTICE line and an attribution) and
    was distilled from TEACHER (whose output terms carry one notice line of their own)."""
    to_base = (PathHop(child, BASE, "finetune", 0.9),)
    to_teacher = (PathHop(child, TEACHER, "distillation", 0.8),)
    graph = LineageGraph(
        child,
        (_node(child, "mit"), _node(BASE, "base"), _node(TEACHER, "teacher")),
        (_edge(child, BASE, "finetune", 0.9), _edge(child, TEACHER, "distillation", 0.8)),
    )
    effective = (
        EffectiveLicense("MIT", child, "self", (), True, "mit"),
        EffectiveLicense(base_license, BASE, "weights", to_base, True, "base"),
        EffectiveLicense("LicenseRef-teacher", TEACHER, "outputs", to_teacher, True, "teacher"),
    )
    obligations = (
        _obligation("license_copy", "MIT", ()),
        _obligation("license_copy", base_license, to_base),
        _obligation("notice_file", base_license, to_base, notice_text=NOTICE_LINE),
        _obligation("attribution_display", base_license, to_base, quote=ATTRIBUTION_QUOTE),
        _obligation("acceptable_use", base_license, to_base),
        _obligation("naming", base_license, to_base, summary="name must start with “Base”"),
        _obligation("notice_file", "LicenseRef-teacher", to_teacher, notice_text=OUTPUT_NOTICE_LINE),
    )
    findings = (
        PolicyFinding(
            "license.declared-incomplete",
            Severity.HIGH,
            f"{child} declares mit, but {base_license} also applies to its weights",
            child,
            fix=f"declare {base_license} too",
            license_id=base_license,
            path=to_base,
        ),
    )
    report = _report(child, ("mit",), effective, obligations, findings)
    docs = {
        "MIT": LicenseDoc(
            "MIT", "MIT License", "MIT License\n\nCopyright (c) <year> <holders>\n\nPermission…\n", ""
        ),
        base_license: LicenseDoc(
            base_license,
            "Base Community License",
            "BASE LICENSE TEXT\n",
            "https://example.org/base",
            ("aup",),
        ),
        "aup": LicenseDoc("aup", "Base Acceptable Use Policy", "", "https://example.org/aup"),
        "LicenseRef-teacher": LicenseDoc("LicenseRef-teacher", "Teacher License", "TEACHER TEXT\n", ""),
    }
    return Case(Evaluation(_scan(child), graph, report), docs)


def apache_case() -> Case:
    """CHILD (own license MIT) fine-tuned from an Apache-2.0 base: NOTICE propagation and change statement."""
    to_base = (PathHop(CHILD, BASE, "finetune", 0.93),)
    graph = LineageGraph(
        CHILD, (_node(CHILD, "mit"), _node(BASE, "apache-2.0")), (_edge(CHILD, BASE, "finetune", 0.93),)
    )
    effective = (
        EffectiveLicense("MIT", CHILD, "self", (), True, "mit"),
        EffectiveLicense("Apache-2.0", BASE, "weights", to_base, True, "apache-2.0"),
    )
    obligations = (
        _obligation("license_copy", "MIT", ()),
        _obligation("license_copy", "Apache-2.0", to_base, section="4(a)"),
        _obligation("notice_file", "Apache-2.0", to_base, section="4(d)"),
        _obligation("change_statement", "Apache-2.0", to_base, section="4(b)"),
    )
    report = _report(CHILD, ("mit",), effective, obligations, ())
    docs = {
        "MIT": LicenseDoc("MIT", "MIT License", "MIT License\n\nCopyright (c) <year> <holders>\n", ""),
        "Apache-2.0": LicenseDoc("Apache-2.0", "Apache License 2.0", "APACHE TEXT\n", "https://apache.org/l"),
    }
    return Case(Evaluation(_scan(CHILD), graph, report), docs)


def _report(
    model: str,
    declared: tuple[str, ...],
    effective: tuple[EffectiveLicense, ...],
    obligations: tuple[TriggeredObligation, ...],
    findings: tuple[PolicyFinding, ...],
) -> CheckReport:
    return CheckReport(
        target=model,
        model=model,
        revision=None,
        source="knowledge-base",
        policy_name="default",
        policy_location="policies/default.yaml",
        fail_on=Severity.HIGH,
        declared_licenses=declared,
        effective=effective,
        obligations=obligations,
        findings=findings,
        tool_version="0.0.test",
        intended_use={"commercial": True, "distribution": "public"},
    )
