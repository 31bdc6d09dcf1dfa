"""CycloneDX 1.6 ML-BOM through cyclonedx-python-lib: a `machine-learning-model` component per lineage node.

The root is `metadata.component`, the other nodes are `components`; each carries `pedigree.ancestors` for the
parents its weights come from, and the root a `modelCard` (which the library cannot model yet, so it is added
to the JSON). The result is validated against the library's bundled CycloneDX 1.6 JSON schema; an invalid BOM
raises OutputError and no text is returned. Mappings: docs/sbom.md.
"""

from __future__ import annotations

import json
import uuid
import warnings
from typing import TYPE_CHECKING, Any

from cyclonedx.model import (
    AttachedText,
    ExternalReference,
    ExternalReferenceType,
    HashAlgorithm,
    HashType,
    Property,
    XsUri,
)
from cyclonedx.model.bom import Bom, BomMetaData
from cyclonedx.model.component import Component, ComponentType, Pedigree
from cyclonedx.model.license import DisjunctiveLicense, LicenseAcknowledgement
from cyclonedx.model.tool import ToolRepository
from cyclonedx.output import make_outputter
from cyclonedx.schema import OutputFormat, SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
from packageurl import PackageURL

from provenance.errors import OutputError
from provenance.report.sbom import RELATION_PHRASES, TOOL_NAME, SbomNode, SbomView

if TYPE_CHECKING:
    from provenance.lineage.model import Edge

# Lineage relations whose parent is a `pedigree.ancestors` entry: the child's weights come from the parent.
# A distillation teacher is not an ancestor of the weights; it is named in `pedigree.notes` and a property.
ANCESTOR_RELATIONS = frozenset({"finetune", "adapter", "quantized", "merge"})
PROPERTY_PREFIX = "provenance:"


def bom_ref(model_id: str) -> str:
    return f"model:{model_id}"


def render_cyclonedx(view: SbomView) -> str:
    """CycloneDX 1.6 JSON of `view`, sorted keys; raises OutputError when the schema rejects it."""
    bom = build_bom(view)
    with warnings.catch_warnings():
        # The library warns that the dependency graph is incomplete; lineage is not a dependency graph.
        warnings.filterwarnings("ignore", message=".*has no defined dependencies.*", category=UserWarning)
        text = make_outputter(bom, OutputFormat.JSON, SchemaVersion.V1_6).output_as_string()
    data = json.loads(text)
    data["metadata"]["component"]["modelCard"] = model_card(view)
    text = json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    validate(text, view.root.model_id)
    return text


def validate(text: str, target: str) -> None:
    errors = JsonStrictValidator(SchemaVersion.V1_6).validate_str(text, all_errors=True)
    if errors is not None:
        problems = "; ".join(sorted({_problem(e.data) for e in errors}))
        raise OutputError(
            target,
            f"the CycloneDX 1.6 BOM is invalid, nothing written: {problems}",
            "this is a bug in provenance's CycloneDX mapping; please report it with the model id",
        )


def _problem(error: Any) -> str:
    """`path: message` of a jsonschema error."""
    where = getattr(error, "json_path", "")
    return f"{where}: {getattr(error, 'message', error)}" if where else str(getattr(error, "message", error))


def build_bom(view: SbomView) -> Bom:
    """The cyclonedx-python-lib `Bom` of `view`, without the model card."""
    tool = Component(
        type=ComponentType.APPLICATION,
        name=TOOL_NAME,
        version=view.tool_version,
        bom_ref=f"tool:{TOOL_NAME}",
    )
    root = _component(view.root, view)
    root.components = [
        _file(entry.path, entry.lfs_sha256 or "", entry.size) for entry in view.files if entry.lfs_sha256
    ]
    metadata = BomMetaData(tools=ToolRepository(components=[tool]), component=root, timestamp=view.created)
    return Bom(
        serial_number=uuid.uuid5(uuid.NAMESPACE_URL, view.namespace),
        metadata=metadata,
        components=[_component(node, view) for node in view.nodes if not node.is_root],
    )


def _component(node: SbomNode, view: SbomView) -> Component:
    parents = [e for e in view.edges if e.child == node.model_id]
    ancestors = [_ancestor(e, view) for e in parents if e.relation in ANCESTOR_RELATIONS]
    properties = [Property(name=f"{PROPERTY_PREFIX}lineage-source", value=node.source)]
    properties += [Property(name=f"{PROPERTY_PREFIX}lineage:{e.relation}", value=e.parent) for e in parents]
    component = Component(
        type=ComponentType.MACHINE_LEARNING_MODEL,
        group=node.namespace or None,
        name=node.short_name,
        version=node.revision,
        bom_ref=bom_ref(node.model_id),
        licenses=_licenses(node, view),
        properties=properties,
        pedigree=Pedigree(ancestors=ancestors, notes=_notes(parents)) if parents else None,
    )
    if node.url is not None:
        component.purl = PackageURL("huggingface", node.namespace or None, node.short_name, node.revision)
        component.external_references = [
            ExternalReference(type=ExternalReferenceType.WEBSITE, url=XsUri(node.url)),
            ExternalReference(
                type=ExternalReferenceType.MODEL_CARD,
                url=XsUri(f"{node.url}/blob/{node.revision or 'main'}/README.md"),
            ),
        ]
    return component


def _ancestor(edge: Edge, view: SbomView) -> Component:
    """A reference copy of the parent: enough to identify it; its full component is listed in the BOM."""
    parent = next(n for n in view.nodes if n.model_id == edge.parent)
    copy = Component(
        type=ComponentType.MACHINE_LEARNING_MODEL,
        group=parent.namespace or None,
        name=parent.short_name,
        version=parent.revision,
        bom_ref=f"{bom_ref(edge.child)}#ancestor:{edge.parent}",
        description=(
            f"{edge.relation} parent (confidence {edge.confidence:.2f}); full entry: {bom_ref(edge.parent)}"
        ),
    )
    if parent.url is not None:
        copy.purl = PackageURL("huggingface", parent.namespace or None, parent.short_name, parent.revision)
    return copy


def _notes(parents: list[Edge]) -> str:
    lines = []
    for edge in parents:
        witnesses = ", ".join(sorted({e.witness for e in edge.evidence})) or "none"
        lines.append(
            f"{RELATION_PHRASES[edge.relation]} {edge.parent} ({edge.relation}, confidence "
            f"{edge.confidence:.2f}; witnesses: {witnesses})"
        )
    return "; ".join(lines)


def _licenses(node: SbomNode, view: SbomView) -> list[DisjunctiveLicense]:
    """Declared licenses for every node, and for the root also the concluded ones (CycloneDX 1.6
    `acknowledgement`). One license object each: 1.6 allows a single expression only when it stands alone."""
    out = [_license(i, view, LicenseAcknowledgement.DECLARED) for i in node.declared]
    if node.is_root:
        out += [_license(i, view, LicenseAcknowledgement.CONCLUDED) for i in view.concluded]
    return out


def _license(license_id: str, view: SbomView, acknowledgement: LicenseAcknowledgement) -> DisjunctiveLicense:
    details = view.license(license_id)
    if not details.is_ref:
        return DisjunctiveLicense(id=license_id, acknowledgement=acknowledgement)
    return DisjunctiveLicense(
        name=f"{details.name} ({license_id})" if details.name != license_id else license_id,
        text=AttachedText(content=details.text) if details.text else None,
        url=XsUri(details.url) if details.url else None,
        acknowledgement=acknowledgement,
    )


def _file(path: str, sha256: str, size: int | None) -> Component:
    return Component(
        type=ComponentType.FILE,
        name=path,
        bom_ref=f"file:{path}",
        hashes=[HashType(alg=HashAlgorithm.SHA_256, content=sha256)],
        description=f"{size} bytes" if size is not None else None,
    )


def model_card(view: SbomView) -> dict[str, Any]:
    """The root's CycloneDX 1.6 `modelCard`: what the scan found, lineage and obligations as properties."""
    card = view.card
    parameters: dict[str, Any] = {}
    if card.task:
        parameters["task"] = card.task
    if card.architecture_family:
        parameters["architectureFamily"] = card.architecture_family
    if card.architecture:
        parameters["modelArchitecture"] = card.architecture
    if card.datasets:
        parameters["datasets"] = [{"type": "dataset", "name": name} for name in card.datasets]
    teachers = [
        e.parent for e in view.edges if e.child == view.root.model_id and e.relation == "distillation"
    ]
    if teachers:
        parameters["approach"] = {"type": "supervised"}
    properties = [{"name": f"{PROPERTY_PREFIX}distilled-from", "value": t} for t in sorted(teachers)]
    properties += [{"name": f"{PROPERTY_PREFIX}license-concluded", "value": i} for i in view.concluded]
    properties += [{"name": f"{PROPERTY_PREFIX}output-terms", "value": i} for i in view.output_terms]
    properties += [
        {"name": f"{PROPERTY_PREFIX}obligation:{obligation}", "value": summary}
        for _license, obligation, summary in card.obligations
    ]
    out: dict[str, Any] = {"bom-ref": f"{bom_ref(view.root.model_id)}#model-card"}
    if parameters:
        out["modelParameters"] = parameters
    if properties:
        out["properties"] = properties
    return out
