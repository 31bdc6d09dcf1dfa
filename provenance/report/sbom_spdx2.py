"""SPDX 2.3 (JSON and tag-value) through spdx-tools: one package per lineage node, lineage relationships.

The document is validated with spdx-tools' validator before anything is written; an invalid document raises
OutputError listing every problem, and no text is returned. Mappings: docs/sbom.md.
"""

from __future__ import annotations

import io
import json
import re
from typing import TYPE_CHECKING, Any, Literal

from spdx_tools.common.spdx_licensing import spdx_licensing
from spdx_tools.spdx.model.actor import Actor, ActorType
from spdx_tools.spdx.model.checksum import Checksum, ChecksumAlgorithm
from spdx_tools.spdx.model.document import CreationInfo, Document
from spdx_tools.spdx.model.extracted_licensing_info import ExtractedLicensingInfo
from spdx_tools.spdx.model.package import (
    ExternalPackageRef,
    ExternalPackageRefCategory,
    Package,
    PackagePurpose,
)
from spdx_tools.spdx.model.relationship import Relationship, RelationshipType
from spdx_tools.spdx.model.spdx_no_assertion import SpdxNoAssertion
from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document
from spdx_tools.spdx.writer.json.json_writer import write_document_to_stream as write_json
from spdx_tools.spdx.writer.tagvalue.tagvalue_writer import write_document_to_stream as write_tag_value

from provenance.errors import OutputError
from provenance.report.sbom import TOOL_NAME, SbomNode, SbomView, missing_text_note

if TYPE_CHECKING:
    from provenance.lineage.model import Edge
    from provenance.model import FileEntry

# SPDX 2.3 relationship for `child <relation> parent` (child is the relationship's element).
RELATIONSHIP_TYPES: dict[str, str] = {
    "finetune": "DESCENDANT_OF",
    "adapter": "DESCENDANT_OF",
    "merge": "DESCENDANT_OF",
    "quantized": "VARIANT_OF",
    "distillation": "GENERATED_FROM",
}
DOCUMENT_ID = "SPDXRef-DOCUMENT"


def render_spdx2(view: SbomView, syntax: Literal["json", "tag-value"]) -> str:
    """SPDX 2.3 text of `view`; raises OutputError when spdx-tools finds the document invalid."""
    document = build_document(view)
    validate(document)
    if syntax == "json":
        stream = io.StringIO()
        write_json(document, stream, validate=False)
        return json.dumps(json.loads(stream.getvalue()), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    stream = io.StringIO()
    write_tag_value(document, stream, validate=False)
    return stream.getvalue()


def validate(document: Document) -> None:
    messages = validate_full_spdx_document(document)
    if messages:
        problems = "; ".join(sorted(m.validation_message for m in messages))
        raise OutputError(
            document.creation_info.name,
            f"the SPDX 2.3 document is invalid, nothing written: {problems}",
            "this is a bug in provenance's SPDX mapping; please report it with the model id",
        )


def build_document(view: SbomView) -> Any:
    """The spdx-tools `Document` of `view` (not yet validated)."""
    ids = package_ids(view.nodes)
    info = CreationInfo(
        spdx_version="SPDX-2.3",
        spdx_id=DOCUMENT_ID,
        name=view.name,
        document_namespace=view.namespace,
        creators=[Actor(ActorType.TOOL, f"{TOOL_NAME}-{view.tool_version}")],
        created=view.created.replace(tzinfo=None),
        creator_comment="Lineage, licenses and checks by provenance; see docs/sbom.md for the mapping.",
    )
    packages = [_package(node, view, ids[node.model_id]) for node in view.nodes]
    file_packages = [_file_package(f, ids[view.root.model_id]) for f in view.files if f.lfs_sha256]
    relationships = [Relationship(DOCUMENT_ID, RelationshipType.DESCRIBES, ids[view.root.model_id])]
    relationships += [
        Relationship(ids[view.root.model_id], RelationshipType.CONTAINS, p.spdx_id) for p in file_packages
    ]
    relationships += [_lineage(edge, ids) for edge in view.edges if edge.child in ids and edge.parent in ids]
    return Document(
        info,
        packages=packages + file_packages,
        relationships=relationships,
        extracted_licensing_info=[_extracted(d) for d in view.licenses if d.is_ref],
    )


def package_ids(nodes: tuple[SbomNode, ...]) -> dict[str, str]:
    """`SPDXRef-Model-<id>` per node; a numbered suffix keeps two ids that clean up alike apart."""
    out: dict[str, str] = {}
    for node in nodes:
        base = "SPDXRef-Model-" + (re.sub(r"[^A-Za-z0-9.-]+", "-", node.model_id).strip("-") or "model")
        spdx_id, n = base, 1
        while spdx_id in out.values():
            n += 1
            spdx_id = f"{base}-{n}"
        out[node.model_id] = spdx_id
    return out


def _expression(text: str | None) -> Any:
    return spdx_licensing.parse(text) if text else SpdxNoAssertion()


def _package(node: SbomNode, view: SbomView, spdx_id: str) -> Any:
    refs = []
    if node.url is not None:
        purl = f"pkg:huggingface/{node.model_id}" + (f"@{node.revision}" if node.revision else "")
        refs.append(ExternalPackageRef(ExternalPackageRefCategory.PACKAGE_MANAGER, "purl", purl))
    return Package(
        spdx_id=spdx_id,
        name=node.model_id,
        download_location=node.url or SpdxNoAssertion(),
        version=node.revision,
        supplier=Actor(ActorType.ORGANIZATION, node.namespace) if node.namespace else SpdxNoAssertion(),
        files_analyzed=False,
        homepage=node.url or SpdxNoAssertion(),
        license_declared=_expression(node.declared_expression),
        license_concluded=_expression(view.concluded_expression if node.is_root else None),
        license_comment=_license_comment(view) if node.is_root else None,
        copyright_text=SpdxNoAssertion(),
        comment=f"machine-learning model; lineage source: {node.source}",
        external_references=refs,
        primary_package_purpose=PackagePurpose.OTHER,
    )


def _license_comment(view: SbomView) -> str:
    text = (
        "Declared: the licenses the model's card or Hub metadata state. Concluded: every license that "
        "reaches the weights through the lineage (own, finetune, adapter, quantized, merge)."
    )
    if view.output_terms:
        text += " Output terms of a distillation teacher also apply: " + ", ".join(view.output_terms) + "."
    return text


def _file_package(entry: FileEntry, root_id: str) -> Any:
    """A weight file with its published sha256. SPDX 2.3 files must carry a SHA1, which the Hub does not
    publish for LFS content, so each hashed file is a FILE-purpose package instead."""
    slug = re.sub(r"[^A-Za-z0-9.-]+", "-", entry.path).strip("-")
    return Package(
        spdx_id=f"{root_id}-File-{slug}",
        name=entry.path,
        download_location=SpdxNoAssertion(),
        file_name=entry.path,
        files_analyzed=False,
        checksums=[Checksum(ChecksumAlgorithm.SHA256, entry.lfs_sha256 or "")],
        license_concluded=SpdxNoAssertion(),
        license_declared=SpdxNoAssertion(),
        copyright_text=SpdxNoAssertion(),
        comment=f"size: {entry.size} bytes" if entry.size is not None else None,
        primary_package_purpose=PackagePurpose.FILE,
    )


def _lineage(edge: Edge, ids: dict[str, str]) -> Any:
    witnesses = ", ".join(sorted({e.witness for e in edge.evidence})) or "none"
    comment = f"relation: {edge.relation}; confidence {edge.confidence:.2f}; witnesses: {witnesses}"
    kind = RelationshipType[RELATIONSHIP_TYPES[edge.relation]]
    return Relationship(ids[edge.child], kind, ids[edge.parent], comment=comment)


def _extracted(details: Any) -> Any:
    return ExtractedLicensingInfo(
        license_id=details.license_id,
        extracted_text=details.text or missing_text_note(details),
        license_name=details.name,
        cross_references=[details.url] if details.url else [],
        comment=None if details.text else "license text not bundled; the name and reference identify it",
    )
