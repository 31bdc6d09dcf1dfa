"""Build the lineage graph: weigh the witnesses of each model into edges, follow parents, report conflicts.

`build_graph` is pure given its resolver: ScanReports in, a LineageGraph out. `default_resolver` is the one
place that does I/O (it scans a parent through the Hub, the HF cache or the knowledge base, reading metadata
files only, never weights).

Confidence of an edge (documented in docs/lineage.md):

    confidence = (1 - prod over groups g of (1 - w_g)) * prod over contrary evidence c of (1 - |w_c|)

where w_g is the strongest weight among the witnesses of group g (witnesses.WEIGHT; a group is one
statement repeated, e.g. a card's `base_model` and the Hub tag computed from it, and counts once), and
contrary evidence is an architecture that cannot be the parent's. So independent witnesses that agree raise
the confidence (card metadata 0.85 + card table 0.75 -> 0.96), repeating one source does not, and each edge's
evidence list shows every term of the sum.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Protocol

from provenance.errors import ProvenanceError
from provenance.lineage import fingerprint as fp
from provenance.lineage.model import (
    WEIGHT_RELATIONS,
    Candidate,
    DeclaredLicense,
    Edge,
    EdgeEvidence,
    LineageGraph,
    Node,
    Relation,
    finding_key,
    same_publisher,
)
from provenance.lineage.witnesses import (
    KnownLineage,
    NameIndex,
    Subject,
    Witnessed,
    known_lineage,
    looks_like_repo_id,
    norm,
    relation_hints,
    subject_of,
    witness_all,
)
from provenance.model import DECLARED_LICENSE_KINDS, Finding, Severity
from provenance.scan_report import ScanReport
from provenance.sources.interface import MetadataOnlySource, Source

Resolver = Callable[[str], ScanReport | None]


class KnownModelLike(fp.KnownLike, KnownLineage, Protocol):
    """A knowledge-base entry: architecture for fingerprints, recorded lineage (KnownModel has both)."""


MAX_NODES = 64
FINGERPRINT_WEIGHT = 0.6
ARCHITECTURE_AGREES = 0.3
ARCHITECTURE_DIFFERS = -0.6
NAME_WEIGHT = 0.3
PERMISSIVE = frozenset(
    {"mit", "apache-2.0", "bsd-2-clause", "bsd-3-clause", "isc", "unlicense", "cc0-1.0", "cc-by-4.0", "zlib"}
)
_FAMILIES = ("llama", "qwen", "mistral", "mixtral", "gemma", "phi", "falcon")
_NAME_FAMILY = re.compile(rf"(?<![a-z])({'|'.join(_FAMILIES)})(?![a-z])")
# model_type families a name word may sit on (llama.cpp files Mistral models as llama).
_FAMILY_TYPES = {
    "llama": ("llama", "mllama"),
    "mistral": ("mistral", "llama"),
    "mixtral": ("mixtral", "llama"),
}


def confidence(evidence: Iterable[EdgeEvidence]) -> float:
    """The rule in the module docstring."""
    strongest: dict[str, float] = {}
    contrary = 1.0
    for item in evidence:
        if item.weight < 0:
            contrary *= 1 - min(1.0, -item.weight)
        else:
            strongest[item.group] = max(strongest.get(item.group, 0.0), item.weight)
    support = 1 - math.prod(1 - min(1.0, w) for w in strongest.values())
    return round(support * contrary, 3)


def build_graph(
    root: ScanReport,
    resolve_parent: Resolver,
    max_depth: int = 8,
    *,
    known_models: Sequence[KnownModelLike] | None = None,
    extra: Sequence[Witnessed] = (),
    max_nodes: int = MAX_NODES,
) -> LineageGraph:
    """The lineage of `root`: its parents' scans come from `resolve_parent(repo_id)` (None: unresolvable),
    each parent once, to `max_depth` hops. `known_models` defaults to the bundled knowledge base; `extra`
    adds witnesses about the root (e.g. weights.as_witness)."""
    known = tuple(_bundled_models() if known_models is None else known_models)
    builder = _Builder(resolve_parent, known, max_depth, max_nodes)
    return builder.run(root, extra)


def _bundled_models() -> Sequence[KnownModelLike]:
    from provenance.knowledge import load_knowledge_base  # noqa: PLC0415  (loads YAML on first use)

    return load_knowledge_base().models


@dataclass
class _Builder:
    """Mutable state of one build_graph call; frozen into a LineageGraph at the end."""

    resolve: Resolver
    known: tuple[KnownModelLike, ...]
    max_depth: int
    max_nodes: int
    nodes: dict[str, Node] = field(default_factory=dict)
    reports: dict[str, ScanReport] = field(default_factory=dict)
    subjects: dict[str, Subject] = field(default_factory=dict)
    edges: list[Edge] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    pending: dict[str, list[Witnessed]] = field(default_factory=lambda: defaultdict(list))

    def __post_init__(self) -> None:
        self.index = NameIndex(tuple(m.repo_id for m in self.known))
        self.known_by_id = {m.repo_id.lower(): m for m in self.known}

    def run(self, root: ScanReport, extra: Sequence[Witnessed]) -> LineageGraph:
        first = subject_of(root)
        self.pending[first.node_id.lower()].extend(extra)
        queue: deque[tuple[ScanReport, Subject, int]] = deque([(root, first, 0)])
        while queue:
            report, subject, depth = queue.popleft()
            self._add_node(report, subject)
            for edge in self._edges_of(report, subject, is_root=depth == 0):
                self.edges.append(edge)
                queue.extend(self._follow(edge.parent, subject.node_id, depth + 1))
        return self._finish(first.node_id)

    # --- nodes ------------------------------------------------------------------------------------

    def _add_node(self, report: ScanReport, subject: Subject) -> None:
        key = subject.node_id.lower()
        self.reports[key] = report
        self.subjects[key] = subject
        self.nodes[key] = node_of(report, subject.node_id)

    def _follow(self, parent: str, child: str, depth: int) -> list[tuple[ScanReport, Subject, int]]:
        key = parent.lower()
        if key in self.nodes:
            return []
        if not looks_like_repo_id(parent):
            self._placeholder(parent, "external", "named as a parent, but not a Hub repo id")
            self._note(
                "lineage.parent-not-a-repo",
                Severity.LOW,
                f"{child} names {parent!r} as a parent; "
                "it is not a Hub repo id, so its terms cannot be looked up",
                parent,
                "check the model card; if the parent is on the Hub, name it as org/name",
            )
            return []
        if depth > self.max_depth or len(self.nodes) >= self.max_nodes:
            return self._cut(parent, child, depth)
        report, reason = self._resolve(parent)
        if report is None:
            self._placeholder(parent, "unresolved", reason)
            self._note(
                "lineage.parent-unresolved",
                Severity.LOW,
                f"parent {parent} of {child} could not be "
                f"resolved ({reason}); its own lineage and licenses are unknown",
                parent,
                "scan with network access, or add the model to the knowledge base",
            )
            return []
        subject = replace(subject_of(report), node_id=parent)
        self.nodes[key] = node_of(report, parent)
        return [(report, subject, depth)]

    def _resolve(self, parent: str) -> tuple[ScanReport | None, str]:
        try:
            report = self.resolve(parent)
        except ProvenanceError as exc:
            return None, exc.problem
        why_not: Callable[[str], str | None] | None = getattr(self.resolve, "why_not", None)
        reason = (why_not(parent) if why_not else None) or "not found by the resolver"
        return report, reason

    def _cut(self, parent: str, child: str, depth: int) -> list[tuple[ScanReport, Subject, int]]:
        limit = f"depth limit {self.max_depth}" if depth > self.max_depth else f"node limit {self.max_nodes}"
        self._placeholder(parent, "unresolved", f"not followed: {limit}")
        rule = "lineage.depth-limit" if depth > self.max_depth else "lineage.node-limit"
        self._note(
            rule,
            Severity.MEDIUM,
            f"lineage not followed past {child}: parent {parent} is beyond the "
            f"{limit}; licenses further up are unknown",
            parent,
            "raise the limit (--max-depth)",
        )
        return []

    def _placeholder(self, node_id: str, source: str, note: str) -> None:
        self.nodes[node_id.lower()] = Node(node_id, None, (), source, notes=(note,))

    def _note(self, rule: str, severity: Severity, message: str, location: str, fix: str = "") -> None:
        self.findings.append(Finding(rule, severity, message, location, fix))

    # --- edges ------------------------------------------------------------------------------------

    def _edges_of(self, report: ScanReport, subject: Subject, *, is_root: bool) -> list[Edge]:
        claims = witness_all(report, subject, self.index) + self.pending.pop(subject.node_id.lower(), [])
        known = self.known_by_id.get(subject.node_id.lower())
        if known is not None and report.target.kind != "knowledge-base":
            claims += known_lineage(known)
        own = [c for c in claims if c.child is None or c.child.lower() == subject.node_id.lower()]
        for claim in claims:
            if claim.child is not None and claim.child.lower() != subject.node_id.lower():
                self.pending[claim.child.lower()].append(replace(claim, child=None))
        edges, findings = combine(subject.node_id, own, relation_hints(report))
        self.findings.extend(findings)
        if is_root:
            edges = self._with_fingerprint(report, subject, edges)
        return edges

    def _with_fingerprint(self, report: ScanReport, subject: Subject, edges: list[Edge]) -> list[Edge]:
        seen = fp.of_report(report)
        if not seen:
            return edges
        exclude = {subject.node_id, *(e.parent for e in edges if e.relation == "distillation")}
        ranking = fp.rank(seen, self.known, (*subject.names, *subject.aliases), exclude)
        key = subject.node_id.lower()
        self.nodes[key] = replace(self.nodes[key], candidates=ranking.candidates[:5])
        if any(e.relation in WEIGHT_RELATIONS for e in edges) or key in self.known_by_id:
            return edges
        return edges + self._inferred(report, subject, ranking)

    def _inferred(self, report: ScanReport, subject: Subject, ranking: fp.Ranking) -> list[Edge]:
        if len(ranking.tied) > 1:
            self._note(
                "lineage.fingerprint-ambiguous",
                Severity.MEDIUM,
                f"{subject.node_id}: no witness names a base, and {ranking.explain()}",
                subject.node_id,
                "name the base model in the card (`base_model:`)",
            )
            return []
        best = ranking.best
        if best is None:
            return []
        evidence = [fingerprint_evidence(ranking, best)]
        if best.name_score > 0:
            words = f"name words shared with {best.repo_id}: {best.name_score:.2f} (Jaccard)"
            evidence.append(
                EdgeEvidence(
                    "name-similarity",
                    words,
                    f"name:{subject.node_id}",
                    round(NAME_WEIGHT * best.name_score, 3),
                    "name",
                )
            )
        hints = relation_hints(report)
        relation: Relation = hints[0][0] if hints else "finetune"
        evidence.extend(ev for _, ev in hints)
        edge = make_edge(subject.node_id, best.repo_id, relation, evidence)
        self._note(
            "lineage.base-inferred",
            Severity.MEDIUM,
            f"{subject.node_id}: no witness names a base; "
            f"{relation} of {best.repo_id} inferred from architecture and name (confidence "
            f"{edge.confidence:.2f}); {ranking.explain()}",
            subject.node_id,
            "confirm the base and declare it in the card (`base_model:`)",
        )
        return [edge]

    # --- the final pass ---------------------------------------------------------------------------

    def _finish(self, root: str) -> LineageGraph:
        edges = [self._check_architecture(e) for e in self.edges]
        edges = self._drop_cycles(root, edges)
        for edge in edges:
            self.findings.extend(license_conflicts(edge, self.nodes))
        for key, subject in self.subjects.items():
            self.findings.extend(name_conflicts(subject, fp.of_report(self.reports[key])))
        root_node = self.nodes[root.lower()]
        others = sorted((n for k, n in self.nodes.items() if k != root.lower()), key=lambda n: n.id.lower())
        return LineageGraph(
            root=root,
            nodes=(root_node, *others),
            edges=tuple(sorted(edges, key=lambda e: (e.child.lower(), e.parent.lower(), e.relation))),
            findings=tuple(sorted(set(self.findings), key=finding_key)),
        )

    def _fingerprint_of(self, node_id: str) -> fp.Fingerprint:
        report = self.reports.get(node_id.lower())
        seen = fp.of_report(report) if report is not None else fp.Fingerprint({}, "")
        known = self.known_by_id.get(node_id.lower())
        return seen if seen or known is None else fp.of_known(known)

    def _check_architecture(self, edge: Edge) -> Edge:
        """A fine-tune, adapter or quantization keeps its parent's shape: say so, or say that it does not."""
        if edge.relation not in {"finetune", "adapter", "quantized"}:
            return edge
        child, parent = self._fingerprint_of(edge.child), self._fingerprint_of(edge.parent)
        if not child:
            return edge
        if not parent:
            self.findings.extend(parent_name_conflict(edge, child))
            return edge
        result = fp.compare(child, parent)
        if result.shape_mismatches():
            return self._mismatch(edge, result, child)
        if len(result.agree) >= fp.MIN_COMPARED and result.score >= 0.5:
            value = f"architecture fits the parent: {', '.join(result.matching)}"
            ev = EdgeEvidence("fingerprint", value, child.source, ARCHITECTURE_AGREES, "architecture")
            return make_edge(edge.child, edge.parent, edge.relation, [*edge.evidence, ev])
        return edge

    def _mismatch(self, edge: Edge, result: fp.Comparison, child: fp.Fingerprint) -> Edge:
        differs = "; ".join(result.shape_mismatches())
        ev = EdgeEvidence(
            "fingerprint",
            f"architecture differs from the parent: {differs}",
            child.source,
            ARCHITECTURE_DIFFERS,
            "architecture",
        )
        better = [c.repo_id for c in self.nodes[edge.child.lower()].candidates[:3]]
        hint = f"; its architecture fits {', '.join(better)}" if better else ""
        self._note(
            "lineage.base-architecture-mismatch",
            Severity.HIGH,
            f"{edge.child} claims {edge.relation} "
            f"of {edge.parent}, but a {_NOUN[edge.relation]} keeps its parent's shape and these differ: "
            f"{differs}{hint}",
            edge.child,
            "check which model the weights really come from",
        )
        return make_edge(edge.child, edge.parent, edge.relation, [*edge.evidence, ev])

    def _drop_cycles(self, root: str, edges: list[Edge]) -> list[Edge]:
        """An edge back to an ancestor on the current path is impossible in reality: report it, drop it."""
        by_child: dict[str, list[Edge]] = defaultdict(list)
        for edge in sorted(edges, key=lambda e: (e.parent.lower(), e.relation)):
            by_child[edge.child.lower()].append(edge)
        dropped: set[int] = set()
        self._walk(root.lower(), [root], by_child, dropped, set())
        return [e for e in edges if id(e) not in dropped]

    def _walk(
        self, key: str, path: list[str], by_child: dict[str, list[Edge]], dropped: set[int], done: set[str]
    ) -> None:
        for edge in by_child.get(key, []):
            parent = edge.parent.lower()
            on_path = [p.lower() for p in path]
            if parent in on_path:
                dropped.add(id(edge))
                loop = " -> ".join([*path[on_path.index(parent) :], edge.parent])
                self._note(
                    "lineage.cycle",
                    Severity.HIGH,
                    f"lineage cycle {loop} ({edge.relation} edge "
                    f"dropped; evidence: {edge.evidence[0].location if edge.evidence else 'none'})",
                    edge.child,
                    "a model cannot descend from itself: correct the card's base_model",
                )
            elif parent not in done:
                self._walk(parent, [*path, edge.parent], by_child, dropped, done)
        done.add(key)


# --- combining witnesses into edges ---------------------------------------------------------------


def combine(
    child: str, claims: Sequence[Witnessed], hints: Sequence[tuple[Relation, EdgeEvidence]] = ()
) -> tuple[list[Edge], list[Finding]]:
    """Claims about one model's parents -> one edge per (parent, weights-or-teacher), with findings for
    witnesses that disagree on the relation."""
    groups: dict[tuple[str, bool], list[Witnessed]] = defaultdict(list)
    families = [c for c in claims if c.family]
    for claim in (c for c in claims if not c.family):
        groups[(claim.parent.lower(), claim.relation == "distillation")].append(claim)
    groups = _merge_bare_names(groups)
    for claim in families:
        for (parent, teacher), members in groups.items():
            if not teacher and _holds_words(parent, claim.parent):
                members.append(claim)
    weight_parents = sum(1 for _, teacher in groups if not teacher)
    edges: list[Edge] = []
    findings: list[Finding] = []
    for (_, teacher), members in sorted(groups.items()):
        parent = _display_id(members)
        relation, disagreement = _relation(members, teacher, hints, weight_parents)
        if disagreement:
            findings.append(
                Finding(
                    "lineage.relation-disagreement",
                    Severity.LOW,
                    f"{child} -> {parent}: "
                    f"witnesses disagree on the relation ({disagreement}); using {relation}",
                    child,
                )
            )
        evidence = [m.evidence for m in members]
        if not any(ev.weight > 0 for ev in evidence):
            findings.append(_contrary_only(child, parent, evidence))
            continue
        if not teacher:
            evidence += [ev for _, ev in hints]
        edges.append(make_edge(child, parent, relation, evidence))
    return edges, findings


def _contrary_only(child: str, parent: str, evidence: Sequence[EdgeEvidence]) -> Finding:
    said = "; ".join(f"{e.witness}: {e.value}" for e in evidence)
    return Finding(
        "lineage.not-a-parent",
        Severity.INFO,
        f"{child} -> {parent}: only evidence against ({said}); no edge",
        child,
    )


def _merge_bare_names(
    groups: dict[tuple[str, bool], list[Witnessed]],
) -> dict[tuple[str, bool], list[Witnessed]]:
    """A bare name ("OpenHermes-2.5-Mistral-7B") joins the one Hub id of the same name, when there is one."""
    merged: dict[tuple[str, bool], list[Witnessed]] = defaultdict(list)
    for (parent, teacher), members in groups.items():
        if "/" not in parent:
            same = [k for k in groups if k[1] == teacher and "/" in k[0] and norm(k[0]) == norm(parent)]
            if len(same) == 1:
                merged[same[0]].extend(members)
                continue
        merged[(parent, teacher)].extend(members)
    return merged


def _holds_words(parent: str, family: str) -> bool:
    """Every word of `family` ("qwen 1.5b", "qwen-2.5") appears in the parent's name, in order."""
    name = norm(parent)
    position = 0
    for word in family.split():
        found = name.find(norm(word), position)
        if found < 0:
            return False
        position = found + len(norm(word))
    return True


def _display_id(members: Sequence[Witnessed]) -> str:
    ids = [m.parent for m in members if not m.family]
    with_org = [i for i in ids if "/" in i]
    return (with_org or ids)[0]


def _relation(
    members: Sequence[Witnessed], teacher: bool, hints: Sequence[tuple[Relation, EdgeEvidence]], parents: int
) -> tuple[Relation, str]:
    if teacher:
        return "distillation", ""
    stated = sorted((m for m in members if m.relation), key=lambda m: m.priority)
    if stated and stated[0].relation is not None:
        chosen = stated[0].relation
        others = sorted({f"{m.evidence.witness}: {m.relation}" for m in stated if m.relation != chosen})
        said = f"{stated[0].evidence.witness}: {chosen}"
        return chosen, f"{said} vs {', '.join(others)}" if others else ""
    if hints:
        return hints[0][0], ""
    return ("merge" if parents > 1 else "finetune"), ""


def make_edge(child: str, parent: str, relation: Relation, evidence: Iterable[EdgeEvidence]) -> Edge:
    unique = sorted(set(evidence), key=lambda e: (-e.weight, e.witness, e.location, e.value))
    return Edge(child, parent, relation, confidence(unique), tuple(unique))


def fingerprint_evidence(ranking: fp.Ranking, best: Candidate) -> EdgeEvidence:
    coverage = min(1.0, len(best.matching) / 6)
    value = f"{ranking.explain()}; agree: {', '.join(best.matching)}"
    if best.mismatching:
        value += f"; differ: {', '.join(best.mismatching)}"
    weight = round(FINGERPRINT_WEIGHT * best.score * coverage, 3)
    return EdgeEvidence("fingerprint", value, ranking.fingerprint.source, weight, "architecture")


# --- nodes and conflicts --------------------------------------------------------------------------

_NOUN = {"finetune": "fine-tune", "adapter": "adapter", "quantized": "quantization"}
_AS_CHILD = {
    "finetune": "a fine-tune of",
    "adapter": "an adapter on",
    "quantized": "a quantization of",
    "merge": "a merge including",
    "distillation": "distilled from",
}


def node_of(report: ScanReport, node_id: str) -> Node:
    target = report.target
    notes = list(target.notes)
    if target.canonical_id and target.canonical_id.lower() != node_id.lower():
        notes.append(f"the Hub answers as {target.canonical_id} (renamed)")
    return Node(
        node_id, target.commit or target.revision, declared_licenses(report), target.kind, notes=tuple(notes)
    )


def declared_licenses(report: ScanReport) -> tuple[DeclaredLicense, ...]:
    """Each license id with every place that declares it; `other` is named by `license_name` when given."""
    name = report.first("card.license_name")
    where: dict[str, list[str]] = defaultdict(list)
    for kind in DECLARED_LICENSE_KINDS:
        for fact in report.facts_of(kind):
            for value in fact.value if isinstance(fact.value, list) else [fact.value]:
                if isinstance(value, str) and value.strip():
                    text = value.strip().lower()
                    license_id = str(name).strip().lower() if text == "other" and name else text
                    where[license_id].append(str(fact.origin))
    _add_license_texts(report, where)
    return tuple(DeclaredLicense(k, tuple(sorted(set(v)))) for k, v in sorted(where.items()))


def _add_license_texts(report: ScanReport, where: dict[str, list[str]]) -> None:
    """A root LICENSE whose text is a known license is a witness too: it joins the declaration that names
    the same license (whatever its spelling), or adds the license under its Hub id."""
    from provenance.licenses.catalog import default_catalog  # noqa: PLC0415  (only when a text was identified)
    from provenance.readers.extract import root_license_identified  # noqa: PLC0415

    for fact in report.facts_of("license_file.LICENSE"):
        text = root_license_identified(fact)
        if text is None:
            continue
        _path, license_id, kind = text
        catalog = default_catalog()
        known = catalog.lookup(license_id)
        if known is None:
            continue
        same = [k for k in where if (m := catalog.lookup(k)) is not None and m.id == known.id]
        key = same[0] if same else (known.hub_ids[0] if known.hub_ids else known.id).lower()
        where[key].append(f"{fact.origin} (text: {kind} match)")


def license_conflicts(edge: Edge, nodes: dict[str, Node]) -> list[Finding]:
    """A weights edge hands the parent's whole license to the child: a child declaring something else, or
    nothing, is a finding (the policy engine decides what that means)."""
    child, parent = nodes.get(edge.child.lower()), nodes.get(edge.parent.lower())
    if edge.relation not in WEIGHT_RELATIONS or child is None or parent is None:
        return []
    ours, theirs = set(child.effective_licenses), set(parent.effective_licenses)
    if not theirs or theirs <= ours:
        return []
    if ours and same_publisher(edge.child, edge.parent):
        # DeepSeek-R1 (MIT) on DeepSeek-V3-Base, Llama-3.3-70B-Instruct on Llama-3.1-70B: the licensor
        # relicensing its own derivative, which the policy engine honours too (docs/policy-engine.md)
        message = (
            f"{edge.child} declares {', '.join(sorted(ours))} while its base {edge.parent} is under "
            f"{', '.join(sorted(theirs))}: the same publisher relicensed its own derivative, so the base's "
            "terms are not carried further"
        )
        fix = "nothing to do unless the two repos do not share a licensor"
        return [Finding("lineage.relicensed-by-publisher", Severity.INFO, message, edge.child, fix)]
    severity = Severity.MEDIUM if theirs <= PERMISSIVE else Severity.HIGH
    declared = ", ".join(sorted(ours)) or "no license"
    rule = (
        "lineage.quantized-license-differs"
        if edge.relation == "quantized"
        else "lineage.license-differs-from-base"
    )
    message = (
        f"{edge.child} declares {declared}, but it is {_AS_CHILD[edge.relation]} {edge.parent}, which is "
        f"under {', '.join(sorted(theirs))} (confidence {edge.confidence:.2f})"
    )
    fix = f"the terms of {', '.join(sorted(theirs))} reach {edge.child}; declare them or check the base"
    return [Finding(rule, severity, message, edge.child, fix)]


def name_families(names: Iterable[str]) -> set[str]:
    return {m.group(1) for name in names for m in _NAME_FAMILY.finditer(name.lower())}


def _type_fits(family: str, model_type: str) -> bool:
    return model_type.lower().startswith(_FAMILY_TYPES.get(family, (family,)))


def name_conflicts(subject: Subject, seen: fp.Fingerprint) -> list[Finding]:
    """A name that says Llama on a Qwen architecture: no family word of the name fits the model type."""
    model_type = seen.keys.get("model_type")
    families = name_families(subject.names)
    if not isinstance(model_type, str) or not families or any(_type_fits(f, model_type) for f in families):
        return []
    message = (
        f"{subject.node_id}: the name says {', '.join(sorted(families))}, but the architecture is "
        f"{model_type} ({seen.source})"
    )
    fix = "the name may hide where the weights come from; check the card's base model"
    return [Finding("lineage.name-architecture-mismatch", Severity.MEDIUM, message, subject.node_id, fix)]


def parent_name_conflict(edge: Edge, child: fp.Fingerprint) -> list[Finding]:
    """Without the parent's config, its name still says which family it belongs to."""
    model_type = child.keys.get("model_type")
    families = name_families([edge.parent])
    if not isinstance(model_type, str) or not families or any(_type_fits(f, model_type) for f in families):
        return []
    message = (
        f"{edge.child} claims {edge.relation} of {edge.parent} (a {', '.join(sorted(families))} model "
        f"by its name), but its own architecture is {model_type} ({child.source})"
    )
    fix = "check which model the weights really come from"
    return [Finding("lineage.base-architecture-mismatch", Severity.HIGH, message, edge.child, fix)]


# --- the default resolver (I/O) -------------------------------------------------------------------


class ScanResolver:
    """Resolves a parent id by the target rules (Hub, then the HF cache, then the knowledge base; see
    provenance.sources.resolve), reading metadata files only. None when it cannot; `why_not` says why."""

    def __init__(self, cache_dir: Path | None = None) -> None:
        self._cache_dir = cache_dir
        self._reasons: dict[str, str] = {}

    def __call__(self, repo_id: str) -> ScanReport | None:
        from provenance.errors import RepoNotFoundError  # noqa: PLC0415
        from provenance.scan import scan_source  # noqa: PLC0415
        from provenance.sources.resolve import hub_or_fallback, offline_source, parse_repo_ref  # noqa: PLC0415

        if not looks_like_repo_id(repo_id):
            self._reasons[repo_id] = "not a Hub repo id"
            return None
        ref = parse_repo_ref(repo_id)
        try:
            try:
                source = hub_or_fallback(ref, repo_id, self._cache_dir)
            except RepoNotFoundError as exc:
                # a card may name a base the Hub no longer serves (deleted, private, renamed without a
                # redirect): what the cache or the knowledge base know of it still counts, marked as such
                source = offline_source(ref, repo_id, self._cache_dir, f"the Hub answered: {exc.problem}")
            self.seen(repo_id, source)
            return scan_source(MetadataOnlySource(source))
        except ProvenanceError as exc:
            self._reasons[repo_id] = exc.problem
            return None

    def seen(self, repo_id: str, source: Source) -> None:
        """Called with each parent's whole source before its weight files are set aside (a hook: the lock
        keeps the full listings)."""

    def why_not(self, repo_id: str) -> str | None:
        return self._reasons.get(repo_id)


def default_resolver(*, cache_dir: Path | None = None) -> ScanResolver:
    return ScanResolver(cache_dir)
