"""The lineage graph: models (nodes), what each was made from (edges), and why we believe it (evidence).

Every record is frozen and every list is kept in a fixed order, so the same scans give the same bytes. The
JSON form is the `lineage` section of the report (docs/lineage.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, TypeGuard, get_args

from provenance.model import Finding, Severity

Relation = Literal["finetune", "adapter", "quantized", "merge", "distillation"]
RELATIONS: tuple[Relation, ...] = get_args(Relation)
WEIGHT_RELATIONS: frozenset[str] = frozenset({"finetune", "adapter", "quantized", "merge"})


def is_relation(text: object) -> TypeGuard[Relation]:
    return isinstance(text, str) and text in RELATIONS


@dataclass(frozen=True)
class EdgeEvidence:
    """One witness behind an edge: what kind, what it said, where it said it, and what it weighs.

    `weight` is the witness's own strength in [0, 1]; a negative weight is evidence *against* the edge
    (e.g. an architecture that cannot be the parent's). `group` is the independence class: witnesses of one
    group repeat one claim (a card's `base_model`, the Hub tag computed from it) and count once.
    """

    witness: str
    value: str
    location: str
    weight: float
    group: str

    def to_json(self) -> dict[str, Any]:
        return {
            "witness": self.witness,
            "value": self.value,
            "location": self.location,
            "weight": round(self.weight, 3),
            "group": self.group,
        }


@dataclass(frozen=True)
class DeclaredLicense:
    """A license a model declares, with every place it is declared (card line, Hub tag, GGUF key)."""

    license: str
    where: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {"license": self.license, "where": list(self.where)}


@dataclass(frozen=True)
class Candidate:
    """A known model whose architecture fits this node's: the score, and which keys agree or differ."""

    repo_id: str
    score: float
    matching: tuple[str, ...]
    mismatching: tuple[str, ...]
    name_score: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "repo_id": self.repo_id,
            "score": round(self.score, 3),
            "name_score": round(self.name_score, 3),
            "matching": list(self.matching),
            "mismatching": list(self.mismatching),
        }


@dataclass(frozen=True)
class Node:
    """A model: a Hub repo id (with revision when known), a local path, or a name that resolved nowhere."""

    id: str
    revision: str | None
    declared_licenses: tuple[DeclaredLicense, ...]
    source: str
    candidates: tuple[Candidate, ...] = ()
    notes: tuple[str, ...] = ()
    effective: tuple[str, ...] | None = None  # set by provenance.policy.engine.with_effective_licenses

    @property
    def effective_licenses(self) -> tuple[str, ...]:
        """The licenses that reach this model's weights (catalog ids) once the policy engine computed them,
        else the declared ones."""
        if self.effective is not None:
            return self.effective
        return tuple(sorted({d.license for d in self.declared_licenses}))

    @property
    def licenses(self) -> tuple[str, ...]:
        return self.effective_licenses

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "revision": self.revision,
            "source": self.source,
            "declared_licenses": [d.to_json() for d in self.declared_licenses],
            "effective_licenses": list(self.effective_licenses),
            "fingerprint_candidates": [c.to_json() for c in self.candidates],
            "notes": list(self.notes),
        }


def same_publisher(child: str, parent: str) -> bool:
    """Both Hub ids under one namespace: the organisation that publishes (and licenses) both."""
    ours, theirs = child.partition("/"), parent.partition("/")
    return bool(ours[1] and theirs[1] and ours[0].lower() == theirs[0].lower())


@dataclass(frozen=True)
class EdgeRef:
    """An edge without its evidence: a hop of a license path, an edge pinned in a lock file."""

    child: str
    parent: str
    relation: str
    confidence: float

    def to_json(self) -> dict[str, Any]:
        return {
            "child": self.child,
            "parent": self.parent,
            "relation": self.relation,
            "confidence": round(self.confidence, 3),
        }


@dataclass(frozen=True)
class Edge:
    """`child` was made from `parent` by `relation`; `confidence` in [0, 1] follows from `evidence`."""

    child: str
    parent: str
    relation: Relation
    confidence: float
    evidence: tuple[EdgeEvidence, ...]

    def ref(self) -> EdgeRef:
        return EdgeRef(self.child, self.parent, self.relation, self.confidence)

    def to_json(self) -> dict[str, Any]:
        return {**self.ref().to_json(), "evidence": [e.to_json() for e in self.evidence]}


@dataclass(frozen=True)
class LineageGraph:
    """Nodes (root first, then by id), edges (by child, parent, relation) and findings (by severity)."""

    root: str
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]
    findings: tuple[Finding, ...] = field(default_factory=tuple)

    def node(self, node_id: str) -> Node | None:
        return next((n for n in self.nodes if n.id == node_id), None)

    def parents(self, child: str, relation: str | None = None) -> list[Edge]:
        return [e for e in self.edges if e.child == child and relation in (None, e.relation)]

    def to_json(self) -> dict[str, Any]:
        return {
            "root": self.root,
            "nodes": [n.to_json() for n in self.nodes],
            "edges": [e.to_json() for e in self.edges],
            "findings": [f.to_json() for f in self.findings],
        }


def finding_key(finding: Finding) -> tuple[int, str, str, str]:
    return (-finding.severity, finding.rule_id, finding.location, finding.message)


__all__ = [
    "RELATIONS",
    "WEIGHT_RELATIONS",
    "Candidate",
    "DeclaredLicense",
    "Edge",
    "EdgeEvidence",
    "Finding",
    "LineageGraph",
    "Node",
    "Relation",
    "Severity",
]
