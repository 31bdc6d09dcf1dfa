"""The policy engine: lineage graph + license catalog + organisation policy -> obligations and findings.

Pure code over data (see docs/policy-engine.md):

1. **Effective licenses.** From the checked model, every path up the lineage graph is walked. Each license a
   model on the way declares reaches the checked model with a *reach*: `self` (its own), `weights` (only
   finetune/adapter/quantized/merge hops) or `outputs` (a distillation hop on the way: only the clauses
   written for outputs travel). A licensor relicensing its own derivative stops its earlier terms: a child
   in the same Hub namespace as its parent that declares its own license is not bound by the parent's
   (Meta's Llama 3.3 on Llama 3.1, DeepSeek's MIT R1 on DeepSeek-V3-Base).
2. **Obligations.** A clause reaches the model when every hop of the path is one of the relations the clause
   travels along (`reaches` in the catalog), and triggers when the intended use includes one of its activities
   (`when`). Duties become obligations to meet (checked against a released folder when one is given);
   restrictions become violations; the rest is information.
3. **Policy.** Allowed and denied licenses, unidentified licenses, the gap between declared and effective
   licenses, required attestations; then severity overrides and suppressions (which stay visible).
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from provenance.licenses.catalog import License, LicenseCatalog, LicenseObligation
from provenance.lineage.model import WEIGHT_RELATIONS, LineageGraph, Node, same_publisher
from provenance.model import Finding, Severity
from provenance.policy.model import (
    CheckReport,
    ClauseRef,
    EffectiveLicense,
    PathHop,
    PolicyFinding,
    Reach,
    Suppressed,
    TriggeredObligation,
    finding_sort_key,
    path_text,
)
from provenance.policy.orgpolicy import OrgPolicy

MAX_PATHS = 10_000  # paths explored per check: a lineage graph is small, but a hostile one must stay bounded

# Lineage findings that the engine replaces with its own, more precise judgement.
_REPLACED_LINEAGE_RULES = frozenset(
    {"lineage.license-differs-from-base", "lineage.quantized-license-differs"}
)
# Declared values that say "no license stated" rather than naming one.
_NO_LICENSE = frozenset({"", "unknown", "none", "noassertion", "other"})


@dataclass(frozen=True)
class Artifact:
    """The folder about to be released, as far as the checks need it: license-like texts, the card, a name."""

    root: str
    model_name: str
    texts: tuple[tuple[str, str], ...]  # (file name relative to root, text), license-like files and README
    card_text: str = ""
    identified: tuple[tuple[str, str], ...] = ()  # (file name, catalog license id) from text identification

    def files_named(self, *prefixes: str) -> list[tuple[str, str]]:
        return [(n, t) for n, t in self.texts if n.rsplit("/", 1)[-1].upper().startswith(prefixes)]


@dataclass(frozen=True)
class _Reached:
    license_id: str
    declared_as: str
    holder: str
    path: tuple[PathHop, ...]
    entry: License | None

    @property
    def reach(self) -> Reach:
        if not self.path:
            return "self"
        return "outputs" if any(h.relation == "distillation" for h in self.path) else "weights"


# --- 1. effective licenses --------------------------------------------------------------------------------


def _declared(node: Node, catalog: LicenseCatalog) -> list[tuple[str, str, License | None]]:
    """(license id or the raw value, declared value, catalog entry) for each license the node declares."""
    out = []
    for declared in node.declared_licenses:
        value = declared.license.strip()
        if value.lower() in _NO_LICENSE:
            continue
        entry = catalog.lookup(value)
        out.append((entry.id if entry else value, value, entry))
    return out


def _paths(graph: LineageGraph, root: str) -> Iterable[tuple[str, tuple[PathHop, ...]]]:
    """Every (model, path from the root) reachable by parent edges, without revisiting a model on one path."""
    stack: list[tuple[str, tuple[PathHop, ...]]] = [(root, ())]
    seen = 0
    while stack and seen < MAX_PATHS:
        model, path = stack.pop()
        seen += 1
        yield model, path
        on_path = {root.lower(), *(h.parent.lower() for h in path)}
        for edge in sorted(graph.parents(model), key=lambda e: (e.parent, e.relation), reverse=True):
            if edge.parent.lower() not in on_path:
                hop = edge.ref()
                stack.append((edge.parent, (*path, hop)))


def _relicensed(graph: LineageGraph, path: tuple[PathHop, ...], catalog: LicenseCatalog) -> bool:
    """True when a licensor relicensed its own derivative somewhere on the path (see the module doc)."""
    for hop in path:
        child = graph.node(hop.child)
        if (
            child is not None
            and hop.relation in WEIGHT_RELATIONS
            and same_publisher(hop.child, hop.parent)
            and _declared(child, catalog)
        ):
            return True
    return False


def reached_licenses(graph: LineageGraph, catalog: LicenseCatalog) -> list[_Reached]:
    out: list[_Reached] = []
    for model, path in _paths(graph, graph.root):
        node = graph.node(model)
        if node is None or _relicensed(graph, path, catalog):
            continue
        for license_id, value, entry in _declared(node, catalog):
            out.append(_Reached(license_id, value, node.id, path, entry))
    return out


def effective_licenses(graph: LineageGraph, catalog: LicenseCatalog) -> tuple[EffectiveLicense, ...]:
    """Each license reaching the root, by its strongest reach and then its most confident path."""
    best: dict[str, EffectiveLicense] = {}
    order = {"self": 0, "weights": 1, "outputs": 2}
    for r in reached_licenses(graph, catalog):
        candidate = EffectiveLicense(
            r.license_id, r.holder, r.reach, r.path, r.entry is not None, r.declared_as
        )
        current = best.get(r.license_id)
        if current is None or (order[candidate.reach], -candidate.confidence, len(candidate.path)) < (
            order[current.reach],
            -current.confidence,
            len(current.path),
        ):
            best[r.license_id] = candidate
    return tuple(sorted(best.values(), key=lambda e: (order[e.reach], e.license_id)))


def with_effective_licenses(graph: LineageGraph, catalog: LicenseCatalog) -> LineageGraph:
    """The graph with each node's `effective_licenses`: catalog ids reaching its weights (own included)."""
    nodes = []
    for node in graph.nodes:
        reached = effective_licenses(replace(graph, root=node.id), catalog)
        ids = tuple(sorted(e.license_id for e in reached if e.reach != "outputs"))
        nodes.append(replace(node, effective=ids))
    return replace(graph, nodes=tuple(nodes))


# --- 2. obligations -----------------------------------------------------------------------------------------


def travels(obligation: LicenseObligation, path: Sequence[PathHop]) -> bool:
    """A clause reaches the model when every hop is a relation it travels along (`self` for no hop)."""
    if not path:
        return "self" in obligation.reaches
    return all(hop.relation in obligation.reaches for hop in path)


def _clause(entry: License, obligation: LicenseObligation) -> ClauseRef:
    return ClauseRef(entry.id, obligation.clause.quote, obligation.clause.section, entry.location)


def _name_key(name: str) -> str:
    """Names compare without case, space, `-`, `_` or `.` ("Llama 3" prefixes "llama-3-8b")."""
    return re.sub(r"[\s_.-]+", "", name.strip().lower())


def _quoted_phrase(text: str) -> str:
    match = re.search(r"[“\"]([^”\"]{3,80})[”\"]", text)
    return match.group(1) if match else ""


def _normalise(text: str) -> str:
    return " ".join(text.replace("“", '"').replace("”", '"').replace("’", "'").split()).lower()


def _contains(haystack: str, needle: str) -> bool:
    return bool(needle) and _normalise(needle) in _normalise(haystack)


def _has_license_text(artifact: Artifact, entry: License) -> bool:
    if any(license_id == entry.id for _, license_id in artifact.identified):
        return True
    candidates = artifact.files_named("LICENSE", "LICENCE", "COPYING", "USE_POLICY", "NOTICE")
    markers = [m for m in entry.markers if m]
    return any(any(_contains(text, m) for m in markers) for _, text in candidates) if markers else False


def _met(
    obligation: LicenseObligation,
    entry: License,
    catalog: LicenseCatalog,
    artifact: Artifact | None,
    model_id: str,
) -> tuple[bool | None, str]:
    """Whether the released folder meets a duty: (met or None when it cannot be told, what was looked at)."""
    kind = obligation.kind
    if kind == "naming" and obligation.prefix:
        name = (artifact.model_name if artifact else model_id).rsplit("/", 1)[-1]
        ok = _name_key(name).startswith(_name_key(obligation.prefix))
        return (
            ok,
            f"the model name {name!r} {'starts' if ok else 'does not start'} with {obligation.prefix!r}",
        )
    if artifact is None:
        return None, "no released folder given"
    if kind == "license_copy" or (kind == "retain_notices" and entry.family in {"permissive", "cc"}):
        found = _has_license_text(artifact, entry)
        return found, ("a copy of the license text is present" if found else "no copy of the license text")
    if kind == "notice_file":
        notices = artifact.files_named("NOTICE")
        if obligation.notice_text:
            found = any(_contains(text, obligation.notice_text) for _, text in notices)
            return found, ("the NOTICE carries the required line" if found else "no NOTICE with the line")
        return bool(notices), ("a NOTICE file is present" if notices else "no NOTICE file")
    if kind == "attribution_display":
        phrase = _quoted_phrase(obligation.summary) or _quoted_phrase(obligation.clause.quote)
        if not phrase:
            return None, "nothing to look for"
        places = [artifact.card_text, *(t for _, t in artifact.files_named("NOTICE"))]
        found = any(_contains(text, phrase) for text in places)
        return found, (f"“{phrase}” is displayed" if found else f"“{phrase}” not found in README or NOTICE")
    if kind == "acceptable_use":
        policies = [catalog.get(i) for i in entry.incorporates]
        found = any(p is not None and _has_license_text(artifact, p) for p in policies) or bool(
            artifact.files_named("USE_POLICY", "ACCEPTABLE_USE")
        )
        return found, (
            "the acceptable use policy is shipped" if found else "no acceptable use policy shipped"
        )
    return None, "not checked automatically"


@dataclass(frozen=True)
class _Context:
    graph: LineageGraph
    catalog: LicenseCatalog
    policy: OrgPolicy
    artifact: Artifact | None
    activities: frozenset[str]


def _obligations(
    ctx: _Context, reached: list[_Reached]
) -> tuple[list[TriggeredObligation], list[PolicyFinding]]:
    root = ctx.graph.root
    done: dict[str, TriggeredObligation] = {}
    findings: list[PolicyFinding] = []
    for r in sorted(reached, key=lambda r: (len(r.path), r.license_id, r.holder)):
        if r.entry is None:
            continue
        for obligation in r.entry.obligations:
            if obligation.id in done or not travels(obligation, r.path):
                continue
            if not (set(obligation.when) & ctx.activities):
                continue
            clause = _clause(r.entry, obligation)
            met, looked = (None, "")
            finding = None
            if obligation.category == "duty":
                met, looked = _met(obligation, r.entry, ctx.catalog, ctx.artifact, root)
                finding = _duty_finding(
                    root,
                    r,
                    obligation=obligation,
                    clause=clause,
                    met=met,
                    looked=looked,
                    artifact_root=ctx.artifact.root if ctx.artifact else None,
                )
            elif obligation.category == "restriction":
                met, finding = _restriction(ctx, r, obligation, clause)
            done[obligation.id] = TriggeredObligation(
                obligation.id,
                obligation.kind,
                obligation.summary,
                obligation.action,
                r.entry.id,
                clause,
                r.path,
                r.reach,
                met,
                obligation.notice_text,
                obligation.category,
            )
            if finding is not None:
                findings.append(finding)
    return list(done.values()), findings


def _via(root: str, path: tuple[PathHop, ...]) -> str:
    return "its own license" if not path else f"via {path_text(root, path)}"


def _duty_finding(
    root: str,
    r: _Reached,
    *,
    obligation: LicenseObligation,
    clause: ClauseRef,
    met: bool | None,
    looked: str,
    artifact_root: str | None,
) -> PolicyFinding | None:
    if met:
        return None
    assert r.entry is not None
    if met is None:
        severity = Severity.INFO
        message = f"{r.entry.name}: {obligation.summary} ({_via(root, r.path)})"
    else:
        severity = obligation.severity
        message = f"{r.entry.name}: {obligation.summary}, but {looked} ({_via(root, r.path)})"
    return PolicyFinding(
        f"obligation.{obligation.kind.replace('_', '-')}",
        severity,
        message,
        root,
        fix=obligation.action,
        license_id=r.entry.id,
        clause=clause,
        path=r.path,
        location="" if met is None or artifact_root is None else artifact_root,
    )


def _restriction(
    ctx: _Context, r: _Reached, obligation: LicenseObligation, clause: ClauseRef
) -> tuple[bool | None, PolicyFinding | None]:
    """A restriction the intended use triggers: (respected or None when unknown, the finding if any)."""
    assert r.entry is not None
    root, use = ctx.graph.root, ctx.policy.intended_use
    rule = f"license.{obligation.kind.replace('_', '-')}"
    severity = obligation.severity
    kind = obligation.kind
    if kind in {"mau_threshold", "commercial_requires_license"} and obligation.threshold is not None:
        if use.expected_mau is None:
            message = (
                f"{r.entry.name}: above {obligation.threshold:,} monthly active users a separate license is "
                f"needed, and the policy does not state the expected MAU ({_via(root, r.path)})"
            )
            return None, PolicyFinding(
                rule, Severity.LOW, message, root, obligation.action, r.entry.id, clause, r.path
            )
        if use.expected_mau <= obligation.threshold:
            return True, None
        message = (
            f"{r.entry.name}: expected {use.expected_mau:,} monthly active users is above the "
            f"{obligation.threshold:,} the license allows without a separate license ({_via(root, r.path)})"
        )
        return False, PolicyFinding(
            rule, severity, message, root, obligation.action, r.entry.id, clause, r.path
        )
    if kind in {"non_commercial", "no_improving_other_llms", "commercial_requires_license"}:
        what = {
            "non_commercial": "does not allow commercial use, which the policy intends",
            "no_improving_other_llms": "does not allow its outputs to improve another model, and this model "
            "was distilled from it",
            "commercial_requires_license": "requires a separate license for commercial use",
        }[kind]
        message = f"{r.entry.name} {what} ({_via(root, r.path)})"
        return False, PolicyFinding(
            rule, severity, message, root, obligation.action, r.entry.id, clause, r.path
        )
    # prohibited uses, territorial and safety restrictions: a person must confirm them (attestations)
    message = f"{r.entry.name}: {obligation.summary} ({_via(root, r.path)})"
    return None, PolicyFinding(
        rule, Severity.INFO, message, root, obligation.action, r.entry.id, clause, r.path
    )


# --- 3. policy ----------------------------------------------------------------------------------------------


def _license_findings(
    ctx: _Context, effective: tuple[EffectiveLicense, ...], reached: list[_Reached]
) -> list[PolicyFinding]:
    root, policy, catalog = ctx.graph.root, ctx.policy, ctx.catalog
    findings: list[PolicyFinding] = []
    allowed = {a.lower() for a in policy.allowed_licenses} if policy.allowed_licenses is not None else None
    denied = {d.lower() for d in policy.denied_licenses}
    for e in effective:
        via = _via(root, e.path)
        if not e.known:
            hint = catalog.closest(e.license_id)
            findings.append(
                PolicyFinding(
                    "license.unidentified",
                    policy.unknown_license,
                    f"license {e.declared_as!r} of {e.holder} is not in the license catalog ({via})",
                    root,
                    fix="identify the license text and add it to policies/licenses/"
                    + (f" (closest known: {', '.join(hint)})" if hint else ""),
                    license_id=e.license_id,
                    path=e.path,
                )
            )
            continue
        if e.reach == "outputs":
            continue  # only the output clauses travel: the license itself is not the model's
        if e.license_id.lower() in denied:
            findings.append(
                PolicyFinding(
                    "policy.license-denied",
                    Severity.HIGH,
                    f"{e.license_id} reaches {root} ({via}) and the policy {policy.name} denies it",
                    root,
                    fix="choose another base model, or change the policy with a justification",
                    license_id=e.license_id,
                    path=e.path,
                    location=policy.location,
                )
            )
        elif allowed is not None and e.license_id.lower() not in allowed:
            findings.append(
                PolicyFinding(
                    "policy.license-not-allowed",
                    Severity.MEDIUM,
                    f"{e.license_id} reaches {root} ({via}) and is not on the allowed list of {policy.name}",
                    root,
                    fix="ask for the license to be reviewed and added to `licenses.allowed`",
                    license_id=e.license_id,
                    path=e.path,
                    location=policy.location,
                )
            )
    findings.extend(_undetermined(ctx, reached))
    findings.extend(_declared_gap(ctx, effective))
    return findings


def _undetermined(ctx: _Context, reached: list[_Reached]) -> list[PolicyFinding]:
    """Models on a weights path that declare no license at all: something reaches the root, unknown what."""
    root = ctx.graph.root
    holders = {r.holder.lower() for r in reached}
    out = []
    for model, path in _paths(ctx.graph, root):
        node = ctx.graph.node(model)
        if node is None or model.lower() in holders or _relicensed(ctx.graph, path, ctx.catalog):
            continue
        if any(h.relation == "distillation" for h in path):
            continue
        out.append(
            PolicyFinding(
                "license.undetermined",
                ctx.policy.unknown_license,
                f"{node.id} declares no license; whatever it is reaches {root} ({_via(root, path)})",
                root,
                fix="find the license of this model (its LICENSE file or its publisher) before release",
                path=path,
            )
        )
    return out


def _declared_gap(ctx: _Context, effective: tuple[EffectiveLicense, ...]) -> list[PolicyFinding]:
    root_node = ctx.graph.node(ctx.graph.root)
    if root_node is None:
        return []
    own = {license_id.lower() for license_id, _, _ in _declared(root_node, ctx.catalog)}
    out = []
    for e in effective:
        if e.reach != "weights" or e.license_id.lower() in own:
            continue
        declared = ", ".join(sorted(d.license for d in root_node.declared_licenses)) or "no license"
        out.append(
            PolicyFinding(
                "license.declared-incomplete",
                Severity.HIGH,
                f"{ctx.graph.root} declares {declared}, but {e.license_id} also applies to its weights "
                f"({_via(ctx.graph.root, e.path)}, confidence {e.confidence:.2f})",
                ctx.graph.root,
                fix=f"declare {e.license_id} too (e.g. `license: other` with `license_name`), ship its text "
                "and meet its obligations",
                license_id=e.license_id,
                path=e.path,
            )
        )
    return out


def _attestation_findings(ctx: _Context) -> list[PolicyFinding]:
    given = set(ctx.policy.attestations)
    return [
        PolicyFinding(
            "policy.attestation-missing",
            Severity.MEDIUM,
            f"the policy {ctx.policy.name} requires the attestation {name!r}, which was not given",
            ctx.graph.root,
            fix=f"confirm it with `--attest {name}` (or `attestations.given` in the policy) once it is true",
            location=ctx.policy.location,
        )
        for name in ctx.policy.required_attestations
        if name not in given
    ]


def _expired(ctx: _Context, today: datetime.date) -> list[PolicyFinding]:
    return [
        PolicyFinding(
            "policy.suppression-expired",
            Severity.LOW,
            f"the suppression of {s.rule} expired on {s.expires.isoformat()} ({s.justification})",
            ctx.graph.root,
            fix="review the finding again; renew the suppression with a new date, or remove it",
            location=f"{ctx.policy.location}:{s.line}",
        )
        for s in ctx.policy.expired_suppressions(today)
    ]


def _from_lineage(findings: Iterable[Finding], root: str) -> list[PolicyFinding]:
    return [
        PolicyFinding(f.rule_id, f.severity, f.message, root, fix=f.fix, location=f.location)
        for f in findings
        if f.rule_id not in _REPLACED_LINEAGE_RULES
    ]


def _apply_policy(
    findings: list[PolicyFinding], policy: OrgPolicy, today: datetime.date
) -> tuple[PolicyFinding, ...]:
    out = []
    for found in findings:
        f = found
        severity = policy.severity_for(f.rule_id, f.severity)
        if severity != f.severity:
            f = replace(f, severity=severity, default_severity=f.severity)
        suppression = policy.suppression_for(f.rule_id, f.model, f.license_id, today)
        if suppression is not None:
            where = f"{policy.location}:{suppression.line}"
            f = replace(
                f, suppressed=Suppressed(suppression.justification, suppression.expires.isoformat(), where)
            )
        out.append(f)
    unique = {(f.rule_id, f.model, f.license_id, f.message): f for f in out}
    return tuple(sorted(unique.values(), key=finding_sort_key))


def _obligation_order(o: TriggeredObligation) -> tuple[int, str, int, str]:
    return (len(o.path), o.license_id, {"restriction": 0, "duty": 1}.get(o.category, 2), o.obligation_id)


def check(
    graph: LineageGraph,
    catalog: LicenseCatalog,
    policy: OrgPolicy,
    *,
    target: str,
    source: str,
    revision: str | None = None,
    artifact: Artifact | None = None,
    fail_on: Severity | None = None,
    scan_findings: Sequence[Finding] = (),
    today: datetime.date | None = None,
    tool_version: str = "",
) -> CheckReport:
    """Judge one lineage graph against the catalog and an organisation policy (pure; `today` for expiry)."""
    today = today or datetime.date.today()
    ctx = _Context(graph, catalog, policy, artifact, frozenset(policy.intended_use.activities()))
    reached = reached_licenses(graph, catalog)
    effective = effective_licenses(graph, catalog)
    obligations, findings = _obligations(ctx, reached)
    findings += _license_findings(ctx, effective, reached)
    findings += _attestation_findings(ctx)
    findings += _expired(ctx, today)
    findings += _from_lineage([*scan_findings, *graph.findings], graph.root)
    root = graph.node(graph.root)
    return CheckReport(
        target=target,
        model=graph.root,
        revision=revision,
        source=source,
        policy_name=policy.name,
        policy_location=policy.location,
        fail_on=fail_on if fail_on is not None else policy.fail_on,
        declared_licenses=tuple(d.license for d in root.declared_licenses) if root else (),
        effective=effective,
        obligations=tuple(sorted(obligations, key=_obligation_order)),
        findings=_apply_policy(findings, policy, today),
        tool_version=tool_version,
        intended_use=policy.intended_use.to_json(),
    )
