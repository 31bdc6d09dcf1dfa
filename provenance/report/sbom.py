"""SBOMs of a model's lineage: SPDX 2.3 (JSON, tag-value), SPDX 3.0.1 JSON-LD (AI profile), CycloneDX 1.6.

Every format is built from one `SbomView`: the nodes of the lineage graph with their licenses resolved to SPDX
ids, the edges, the root's files, the concluded license (the licenses that reach the root's weights) and the
fixed document identity. The builders are pure: same `Evaluation`, same licenses, same `created` → same bytes.
See docs/sbom.md for the mappings and the determinism rules.
"""

from __future__ import annotations

import datetime
import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from provenance.errors import UsageError
from provenance.report.sbom_command import SBOM_FORMATS

if TYPE_CHECKING:
    from provenance.licenses.catalog import LicenseCatalog
    from provenance.lineage.model import Edge, Node
    from provenance.model import FileEntry
    from provenance.policy.command import Evaluation
    from provenance.policy.model import EffectiveLicense


# How each lineage relation reads in the documents' free-text fields.
RELATION_PHRASES = {
    "finetune": "fine-tuned from",
    "adapter": "an adapter on",
    "quantized": "quantized from",
    "merge": "merged from",
    "distillation": "distilled from the outputs of",
}

# Without SOURCE_DATE_EPOCH the documents carry this fixed creation time, so that the same model gives the
# same bytes on every run (reproducible-builds convention: the epoch, never the wall clock).
DEFAULT_CREATED = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
NAMESPACE_BASE = "https://provenance.invalid/sbom"
TOOL_NAME = "provenance"

# Declared values that name no license (see policy/engine.py): NOASSERTION in the SBOM.
_NO_LICENSE = frozenset({"", "unknown", "none", "noassertion", "other"})
_LICENSE_REF = re.compile(r"^LicenseRef-[A-Za-z0-9.-]+$")


@dataclass(frozen=True)
class LicenseDetails:
    """What an SBOM says about a license: its id (SPDX or `LicenseRef-…`), name, text and a reference URL."""

    license_id: str
    name: str
    text: str | None = None
    url: str | None = None

    @property
    def is_ref(self) -> bool:
        return self.license_id.startswith("LicenseRef-")


@dataclass(frozen=True)
class SbomNode:
    """A lineage node as the SBOMs show it: declared licenses as SPDX ids, and where it was learnt from."""

    model_id: str
    revision: str | None
    source: str
    declared: tuple[str, ...]
    is_root: bool

    @property
    def namespace(self) -> str:
        return self.model_id.split("/", 1)[0] if "/" in self.model_id else ""

    @property
    def short_name(self) -> str:
        return self.model_id.rsplit("/", 1)[-1]

    @property
    def url(self) -> str | None:
        """The Hub page of a repo id; None for local paths and names that resolved nowhere."""
        if self.source in {"local-dir", "local-file"} or self.model_id.count("/") != 1:
            return None
        return f"https://huggingface.co/{self.model_id}"

    @property
    def declared_expression(self) -> str | None:
        return " AND ".join(self.declared) if self.declared else None


@dataclass(frozen=True)
class ModelFacts:
    """What the scan learnt about the root model that a model card can carry, plus triggered obligations."""

    task: str | None = None
    architecture_family: str | None = None
    architecture: str | None = None
    datasets: tuple[str, ...] = ()
    obligations: tuple[tuple[str, str, str], ...] = ()  # (license id, obligation id, summary)


@dataclass(frozen=True)
class SbomView:
    """Everything the format builders need, resolved once."""

    name: str
    namespace: str
    created: datetime.datetime
    tool_version: str
    root: SbomNode
    nodes: tuple[SbomNode, ...]  # root first, then by id
    edges: tuple[Edge, ...]
    files: tuple[FileEntry, ...]  # the root's files, sorted by path
    concluded: tuple[str, ...]  # license ids reaching the root's weights (reach self or weights)
    output_terms: tuple[str, ...]  # license ids reaching the root only through a teacher's outputs
    licenses: tuple[LicenseDetails, ...]  # every license id used, sorted
    card: ModelFacts = field(default_factory=ModelFacts)

    @property
    def concluded_expression(self) -> str | None:
        return " AND ".join(self.concluded) if self.concluded else None

    def license(self, license_id: str) -> LicenseDetails:
        return next(d for d in self.licenses if d.license_id == license_id)


def creation_time(environ: Mapping[str, str]) -> datetime.datetime:
    """`SOURCE_DATE_EPOCH` when set (reproducible builds), else the fixed `DEFAULT_CREATED`."""
    value = environ.get("SOURCE_DATE_EPOCH", "").strip()
    if not value:
        return DEFAULT_CREATED
    try:
        return datetime.datetime.fromtimestamp(int(value), tz=datetime.UTC)
    except (ValueError, OverflowError, OSError):
        raise UsageError(
            "SOURCE_DATE_EPOCH", f"must be a whole number of seconds since 1970, not {value!r}"
        ) from None


def spdx_id_for(value: str, known: Mapping[str, LicenseDetails]) -> str | None:
    """The SPDX license id (or `LicenseRef-…`) for a declared value or catalog id; None for "no license"."""
    text = value.strip()
    if text.lower() in _NO_LICENSE:
        return None
    details = known.get(text.lower())
    if details is not None:
        return details.license_id
    if _LICENSE_REF.match(text):
        return text
    canonical = _spdx_list_id(text)
    if canonical is not None:
        return canonical
    return "LicenseRef-" + (re.sub(r"[^A-Za-z0-9.-]+", "-", text).strip("-") or "unnamed")


def _spdx_list_id(text: str) -> str | None:
    from spdx_tools.common.spdx_licensing import spdx_licensing  # noqa: PLC0415

    try:
        parsed = spdx_licensing.parse(text)
    except Exception:  # noqa: BLE001  (license-expression raises several unrelated types on odd input)
        return None
    if parsed is None or spdx_licensing.unknown_license_keys(parsed):
        return None
    keys = spdx_licensing.license_keys(parsed)
    return str(keys[0]) if len(keys) == 1 and " " not in text else None


def build_view(
    evaluation: Evaluation,
    known: Mapping[str, LicenseDetails],
    created: datetime.datetime = DEFAULT_CREATED,
) -> SbomView:
    """Resolve the evaluation into the one view every format renders.

    `known` maps declared values and catalog ids (lower case) to their details; values it lacks become SPDX
    list ids when license-expression knows them, or `LicenseRef-<value>` otherwise."""
    graph, report, target = evaluation.graph, evaluation.report, evaluation.scan.target
    known = _with_declared_values(known, report.effective)
    revision = report.revision or target.commit or target.revision
    nodes = tuple(_node(n, n.id == graph.root, revision, known) for n in graph.nodes)
    root = next(n for n in nodes if n.is_root)
    concluded = _resolve((e.license_id for e in report.effective if e.reach != "outputs"), known)
    outputs = _resolve((e.license_id for e in report.effective if e.reach == "outputs"), known)
    used = sorted({*concluded, *outputs, *(i for n in nodes for i in n.declared)})
    return SbomView(
        name=f"{root.model_id} lineage SBOM",
        namespace=document_namespace(root.model_id, root.revision),
        created=created,
        tool_version=report.tool_version or evaluation.scan.tool_version,
        root=root,
        nodes=nodes,
        edges=tuple(sorted(graph.edges, key=lambda e: (e.child, e.parent, e.relation))),
        files=tuple(sorted((f.entry for f in evaluation.scan.files), key=lambda f: f.path)),
        concluded=concluded,
        output_terms=tuple(i for i in outputs if i not in concluded),
        licenses=tuple(_details(i, known) for i in used),
        card=_model_facts(evaluation),
    )


def _model_facts(evaluation: Evaluation) -> ModelFacts:
    scan = evaluation.scan
    task = scan.first("card.pipeline_tag") or scan.first("hub.pipeline_tag")
    family = scan.first("config.model_type")
    architectures = scan.first("config.architectures")
    datasets = scan.first("card.datasets")
    if isinstance(datasets, str):
        datasets = [datasets]
    obligations = {(o.license_id, o.obligation_id, o.summary) for o in evaluation.report.obligations}
    return ModelFacts(
        task=task if isinstance(task, str) and task else None,
        architecture_family=family if isinstance(family, str) and family else None,
        architecture=str(architectures[0]) if isinstance(architectures, list) and architectures else None,
        datasets=tuple(sorted({str(d) for d in datasets})) if isinstance(datasets, list) else (),
        obligations=tuple(sorted(obligations)),
    )


def _with_declared_values(
    known: Mapping[str, LicenseDetails], effective: Iterable[EffectiveLicense]
) -> dict[str, LicenseDetails]:
    """`known`, plus each value the engine identified (`llama3.3` → the details of `LicenseRef-llama3.3`)."""
    out = dict(known)
    for e in effective:
        details = out.get(e.license_id.lower())
        if e.declared_as and details is not None:
            out.setdefault(e.declared_as.lower(), details)
    return out


def _resolve(ids: Iterable[str], known: Mapping[str, LicenseDetails]) -> tuple[str, ...]:
    return tuple(sorted({r for i in ids if (r := spdx_id_for(i, known)) is not None}))


def _node(node: Node, is_root: bool, revision: str | None, known: Mapping[str, LicenseDetails]) -> SbomNode:
    declared = _resolve((d.license for d in node.declared_licenses), known)
    return SbomNode(node.id, node.revision or (revision if is_root else None), node.source, declared, is_root)


def _details(license_id: str, known: Mapping[str, LicenseDetails]) -> LicenseDetails:
    found = next((d for d in known.values() if d.license_id == license_id), None)
    if found is not None:
        return found
    if not license_id.startswith("LicenseRef-"):
        return LicenseDetails(license_id, license_id, url=f"https://spdx.org/licenses/{license_id}.html")
    return LicenseDetails(license_id, license_id.removeprefix("LicenseRef-"))


def catalog_details(catalog: LicenseCatalog) -> dict[str, LicenseDetails]:
    """Details of every catalog license, keyed by each name it is declared under (lower case)."""
    out: dict[str, LicenseDetails] = {}
    for entry in catalog.licenses:
        details = LicenseDetails(entry.id, entry.name, entry.read_text())
        for name in (entry.id, *entry.hub_ids, *entry.license_names, *entry.aliases):
            out.setdefault(name.strip().lower(), details)
    return out


def document_namespace(model_id: str, revision: str | None) -> str:
    """A fixed namespace per model and revision: the same model at the same revision gets the same URI."""
    digest = hashlib.sha256(f"{model_id}\n{revision or ''}".encode()).hexdigest()[:16]
    slug = re.sub(r"[^A-Za-z0-9.-]+", "-", model_id).strip("-") or "model"
    return f"{NAMESPACE_BASE}/{slug}-{digest}"


def missing_text_note(details: LicenseDetails) -> str:
    """What the SBOM says instead of a license text provenance does not bundle."""
    where = f" See {details.url}." if details.url else ""
    return f"The text of {details.name} ({details.license_id}) is not bundled with provenance.{where}"


def render_sbom(
    evaluation: Evaluation,
    fmt: str,
    *,
    licenses: Mapping[str, LicenseDetails] | None = None,
    created: datetime.datetime = DEFAULT_CREATED,
) -> str:
    """The SBOM of `evaluation` in `fmt`, validated; raises OutputError naming the problem when invalid."""
    if fmt not in SBOM_FORMATS:
        raise UsageError("", f"unknown SBOM format {fmt!r} (expected one of: {', '.join(SBOM_FORMATS)})")
    view = build_view(evaluation, licenses or {}, created)
    if fmt in {"spdx-json", "spdx-tv"}:
        from provenance.report.sbom_spdx2 import render_spdx2  # noqa: PLC0415

        return render_spdx2(view, "json" if fmt == "spdx-json" else "tag-value")
    if fmt == "spdx3":
        from provenance.report.sbom_spdx3 import render_spdx3  # noqa: PLC0415

        return render_spdx3(view)
    from provenance.report.sbom_cyclonedx import render_cyclonedx  # noqa: PLC0415

    return render_cyclonedx(view)
