"""SPDX 3.0.1 JSON-LD with the AI profile, through spdx-python-model (the official shacl2code bindings).

One `ai_AIPackage` per lineage node inside a `software_Sbom`, lineage and license relationships, a
`expandedlicensing_CustomLicense` per `LicenseRef-…`. spdx-python-model checks types and enums on assignment
and required properties on serialisation; either failure raises OutputError and returns no text.
Mappings: docs/sbom.md.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import TYPE_CHECKING, Any

from provenance.errors import OutputError
from provenance.report.sbom import (
    RELATION_PHRASES,
    TOOL_NAME,
    LicenseDetails,
    SbomNode,
    SbomView,
    missing_text_note,
)

if TYPE_CHECKING:
    from types import ModuleType

    from provenance.lineage.model import Edge

CONTEXT = "https://spdx.org/rdf/3.0.1/spdx-context.jsonld"
SPEC_VERSION = "3.0.1"

# SPDX 3.0.1 relationship per lineage relation: (type, direction). "up" = from the child to the parent,
# "down" = from the parent to the child.
RELATIONSHIP_TYPES: dict[str, tuple[str, str]] = {
    "finetune": ("descendantOf", "up"),
    "adapter": ("descendantOf", "up"),
    "merge": ("descendantOf", "up"),
    "quantized": ("hasVariant", "down"),
    "distillation": ("trainedOn", "up"),
}


def render_spdx3(view: SbomView) -> str:
    """SPDX 3.0.1 JSON-LD text of `view`, sorted keys; raises OutputError when the bindings refuse it."""
    from spdx_python_model import v3_0_1 as model  # noqa: PLC0415

    try:
        objects = _Builder(view, model).build()
        data = model.JSONLDSerializer().serialize_data(model.SHACLObjectSet(objects), force_at_graph=True)
    except (ValueError, TypeError) as exc:
        raise OutputError(
            view.root.model_id,
            f"the SPDX 3.0.1 document is invalid, nothing written: {exc}",
            "this is a bug in provenance's SPDX 3 mapping; please report it with the model id",
        ) from None
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-") or "x"


def _training(node: SbomNode, view: SbomView) -> str:
    """How the lineage says the model was made, in words (the AI profile's informationAboutTraining)."""
    parts = [
        f"{RELATION_PHRASES[e.relation]} {e.parent} (confidence {e.confidence:.2f})"
        for e in view.edges
        if e.child == node.model_id
    ]
    return "Lineage found by provenance: " + "; ".join(parts) + "." if parts else ""


def _output_terms(node: SbomNode, view: SbomView) -> str:
    if not node.is_root or not view.output_terms:
        return ""
    return "; output terms of a distillation teacher also apply: " + ", ".join(view.output_terms)


class _Builder:
    """Collects the elements of one document; every element gets an IRI under the document namespace."""

    def __init__(self, view: SbomView, model: ModuleType) -> None:
        self.view = view
        self.m = model
        self.elements: list[Any] = []
        self.info = model.CreationInfo(
            specVersion=SPEC_VERSION,
            created=view.created,
            createdBy=[f"{view.namespace}/agent/{TOOL_NAME}"],
            createdUsing=[f"{view.namespace}/tool/{TOOL_NAME}"],
            comment="Lineage, licenses and checks by provenance; see docs/sbom.md for the mapping.",
        )
        self.packages: dict[str, Any] = {}
        self.custom: dict[str, Any] = {}
        self.expressions: dict[str, Any] = {}

    def iri(self, kind: str, name: str) -> str:
        return f"{self.view.namespace}/{kind}/{_slug(name)}"

    def unique(self, iri: str) -> str:
        """`iri`, or `iri-2`, `iri-3`… when two model ids clean up to the same IRI."""
        taken = {getattr(e, "_id", None) for e in self.elements}
        candidate, n = iri, 1
        while candidate in taken:
            n += 1
            candidate = f"{iri}-{n}"
        return candidate

    def add(self, element: Any) -> Any:
        self.elements.append(element)
        return element

    def build(self) -> list[Any]:
        m, view = self.m, self.view
        self.add(
            m.SoftwareAgent(
                spdxId=f"{view.namespace}/agent/{TOOL_NAME}", name=TOOL_NAME, creationInfo=self.info
            )
        )
        self.add(
            m.Tool(
                spdxId=f"{view.namespace}/tool/{TOOL_NAME}",
                name=f"{TOOL_NAME} {view.tool_version}",
                creationInfo=self.info,
            )
        )
        for details in view.licenses:
            if details.is_ref:
                self.custom[details.license_id] = self.add(self._custom_license(details))
        for node in view.nodes:
            self.packages[node.model_id] = self.add(self._package(node))
        for node in view.nodes:
            self._licenses(node)
        for edge in view.edges:
            if edge.child in self.packages and edge.parent in self.packages:
                self.add(self._lineage(edge))
        self._files()
        root = self.packages[view.root.model_id]
        sbom = m.software_Sbom(
            spdxId=self.iri("sbom", view.root.model_id),
            name=view.name,
            creationInfo=self.info,
            software_sbomType=[m.software_SbomType.analyzed],
            rootElement=[root],
            element=list(self.elements),
        )
        document = m.SpdxDocument(
            spdxId=view.namespace,
            name=view.name,
            creationInfo=self.info,
            profileConformance=[
                m.ProfileIdentifierType.core,
                m.ProfileIdentifierType.software,
                m.ProfileIdentifierType.ai,
                m.ProfileIdentifierType.simpleLicensing,
                m.ProfileIdentifierType.expandedLicensing,
            ],
            rootElement=[sbom],
            element=[*self.elements, sbom],
        )
        return [*self.elements, sbom, document]

    def _package(self, node: SbomNode) -> Any:
        m = self.m
        package = m.ai_AIPackage(
            spdxId=self.unique(self.iri("model", node.model_id)),
            name=node.model_id,
            creationInfo=self.info,
            software_primaryPurpose=m.software_SoftwarePurpose.model,
            comment=f"lineage source: {node.source}" + _output_terms(node, self.view),
        )
        if node.revision:
            package.software_packageVersion = node.revision
        if node.url is not None:
            package.software_downloadLocation = node.url
            package.software_homePage = node.url
            purl = f"pkg:huggingface/{node.model_id}" + (f"@{node.revision}" if node.revision else "")
            package.software_packageUrl = purl
        if node.namespace:
            package.suppliedBy = self._organization(node.namespace)
        training = _training(node, self.view)
        if training:
            package.ai_informationAboutTraining = training
        if node.is_root and self.view.card.architecture:
            package.ai_typeOfModel = [self.view.card.architecture]
        return package

    def _organization(self, name: str) -> Any:
        iri = self.iri("organization", name)
        if not any(getattr(e, "_id", None) == iri for e in self.elements):
            self.add(self.m.Organization(spdxId=iri, name=name, creationInfo=self.info))
        return iri

    def _custom_license(self, details: LicenseDetails) -> Any:
        m = self.m
        custom = m.expandedlicensing_CustomLicense(
            spdxId=self.iri("license", details.license_id),
            name=details.name,
            creationInfo=self.info,
            simplelicensing_licenseText=details.text or missing_text_note(details),
        )
        if details.url:
            custom.expandedlicensing_seeAlso = [details.url]
        if not details.text:
            custom.comment = "license text not bundled; the name and reference identify it"
        return custom

    def _expression(self, text: str) -> Any:
        if text in self.expressions:
            return self.expressions[text]
        m = self.m
        digest = hashlib.sha256(text.encode()).hexdigest()[:12]
        refs = sorted(set(re.findall(r"LicenseRef-[A-Za-z0-9.-]+", text)))
        expression = m.simplelicensing_LicenseExpression(
            spdxId=f"{self.view.namespace}/license-expression/{digest}",
            creationInfo=self.info,
            simplelicensing_licenseExpression=text,
            simplelicensing_customIdToUri=[
                m.DictionaryEntry(key=ref, value=self.custom[ref]._id) for ref in refs if ref in self.custom
            ],
        )
        self.expressions[text] = self.add(expression)
        return expression

    def _licenses(self, node: SbomNode) -> None:
        package = self.packages[node.model_id]
        if node.declared_expression:
            self._relate(
                package, "hasDeclaredLicense", self._expression(node.declared_expression), "declared"
            )
        if node.is_root and self.view.concluded_expression:
            concluded = self._expression(self.view.concluded_expression)
            self._relate(package, "hasConcludedLicense", concluded, "concluded")

    def _relate(self, source: Any, kind: str, target: Any, name: str, comment: str | None = None) -> Any:
        m = self.m
        relationship = m.Relationship(
            spdxId=f"{source._id}/relationship/{name}-{_slug(target._id.rsplit('/', 1)[-1])}",
            creationInfo=self.info,
            from_=source,
            to=[target],
            relationshipType=getattr(m.RelationshipType, kind),
        )
        if comment:
            relationship.comment = comment
        return self.add(relationship)

    def _lineage(self, edge: Edge) -> Any:
        kind, direction = RELATIONSHIP_TYPES[edge.relation]
        child, parent = self.packages[edge.child], self.packages[edge.parent]
        source, target = (child, parent) if direction == "up" else (parent, child)
        witnesses = ", ".join(sorted({e.witness for e in edge.evidence})) or "none"
        comment = f"relation: {edge.relation}; confidence {edge.confidence:.2f}; witnesses: {witnesses}"
        return self.m.Relationship(
            spdxId=f"{child._id}/relationship/{edge.relation}-{parent._id.rsplit('/', 1)[-1]}",
            creationInfo=self.info,
            from_=source,
            to=[target],
            relationshipType=getattr(self.m.RelationshipType, kind),
            comment=comment,
        )

    def _files(self) -> None:
        m = self.m
        root = self.packages[self.view.root.model_id]
        files = []
        for entry in self.view.files:
            if not entry.lfs_sha256:
                continue
            files.append(
                self.add(
                    m.software_File(
                        spdxId=f"{root._id}/file/{_slug(entry.path)}",
                        name=entry.path,
                        creationInfo=self.info,
                        verifiedUsing=[m.Hash(algorithm=m.HashAlgorithm.sha256, hashValue=entry.lfs_sha256)],
                    )
                )
            )
        if files:
            self.add(
                m.Relationship(
                    spdxId=f"{root._id}/relationship/contains-files",
                    creationInfo=self.info,
                    from_=root,
                    to=files,
                    relationshipType=m.RelationshipType.contains,
                )
            )
