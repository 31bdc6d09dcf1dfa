"""The mappings of docs/sbom.md on a hand-made lineage with every relation, file hashes, and licenses the
catalog does not know; creation time, namespaces, and refusal of invalid documents."""

from __future__ import annotations

import dataclasses
import datetime
import json

import pytest
from sbom_support import SHA_A, SHA_B, synthetic_evaluation
from spdx_python_model import load_data, v3_0_1

from provenance.errors import OutputError, UsageError
from provenance.lineage.model import RELATIONS, LineageGraph
from provenance.report import sbom_spdx3
from provenance.report.sbom import (
    DEFAULT_CREATED,
    LicenseDetails,
    build_view,
    creation_time,
    document_namespace,
    render_sbom,
    spdx_id_for,
)
from provenance.report.sbom_cyclonedx import ANCESTOR_RELATIONS
from provenance.report.sbom_cyclonedx import validate as validate_cyclonedx
from provenance.report.sbom_spdx2 import RELATIONSHIP_TYPES as SPDX2_TYPES
from provenance.report.sbom_spdx3 import RELATIONSHIP_TYPES as SPDX3_TYPES


def test_every_relation_has_a_mapping_in_every_format() -> None:
    assert set(SPDX2_TYPES) == set(RELATIONS)
    assert set(SPDX3_TYPES) == set(RELATIONS)
    assert set(RELATIONS) - {"distillation"} == ANCESTOR_RELATIONS


def test_spdx2_relationship_per_relation_and_file_checksums() -> None:
    document = json.loads(render_sbom(synthetic_evaluation(), "spdx-json"))
    names = {p["SPDXID"]: p["name"] for p in document["packages"]}
    found = {
        (names[r["spdxElementId"]], names[r["relatedSpdxElement"]], r["relationshipType"])
        for r in document["relationships"]
        if r["spdxElementId"] != "SPDXRef-DOCUMENT"
    }
    expected = {("acme/child", f"acme/parent-{rel}", SPDX2_TYPES[rel]) for rel in RELATIONS}
    files = {"model-00001-of-00002.safetensors": SHA_A, "model-00002-of-00002.safetensors": SHA_B}
    expected |= {("acme/child", name, "CONTAINS") for name in files}
    assert found == expected
    checksums = {
        p["name"]: p["checksums"] for p in document["packages"] if p.get("primaryPackagePurpose") == "FILE"
    }
    assert checksums == {n: [{"algorithm": "SHA256", "checksumValue": h}] for n, h in files.items()}


def test_spdx2_licenses_declared_concluded_and_output_terms() -> None:
    document = json.loads(render_sbom(synthetic_evaluation(), "spdx-json"))
    root = next(p for p in document["packages"] if p["name"] == "acme/child")
    assert root["licenseDeclared"] == "Apache-2.0"
    assert root["licenseConcluded"] == "Apache-2.0 AND LicenseRef-acme-model-license"
    assert "LicenseRef-teacher-terms" in root["licenseComments"]
    assert root["versionInfo"] == "1" * 40
    parents = [p for p in document["packages"] if p["name"].startswith("acme/parent")]
    assert {p["licenseConcluded"] for p in parents} == {"NOASSERTION"}
    extracted = {e["licenseId"]: e for e in document["hasExtractedLicensingInfos"]}
    assert set(extracted) == {"LicenseRef-acme-model-license", "LicenseRef-teacher-terms"}
    assert "not bundled" in extracted["LicenseRef-teacher-terms"]["extractedText"]


def test_bundled_license_text_and_reference_reach_every_format() -> None:
    details = LicenseDetails(
        "LicenseRef-acme-model-license", "Acme Model License", "ACME TEXT v1", "https://a.example/l"
    )
    known = {"acme-model-license": details}
    evaluation = synthetic_evaluation()
    spdx2 = json.loads(render_sbom(evaluation, "spdx-json", licenses=known))
    extracted = {e["licenseId"]: e for e in spdx2["hasExtractedLicensingInfos"]}
    assert extracted["LicenseRef-acme-model-license"]["extractedText"] == "ACME TEXT v1"
    assert extracted["LicenseRef-acme-model-license"]["seeAlsos"] == ["https://a.example/l"]
    spdx3 = json.loads(render_sbom(evaluation, "spdx3", licenses=known))
    custom = next(
        e
        for e in spdx3["@graph"]
        if e["type"] == "expandedlicensing_CustomLicense" and e["name"] == "Acme Model License"
    )
    assert custom["simplelicensing_licenseText"] == "ACME TEXT v1"
    cdx = json.loads(render_sbom(evaluation, "cyclonedx", licenses=known))
    parent = next(c for c in cdx["components"] if c["name"] == "parent-finetune")
    license_ = parent["licenses"][0]["license"]
    assert license_["text"]["content"] == "ACME TEXT v1"
    assert license_["url"] == "https://a.example/l"


def test_spdx3_relationships_direction_and_hashes() -> None:
    _, objects = load_data(json.loads(render_sbom(synthetic_evaluation(), "spdx3")))
    assert objects.link() == set()
    found = {
        (r.from_.name, r.relationshipType.rsplit("/", 1)[-1], tuple(sorted(t.name for t in r.to)))
        for r in objects.foreach_type(v3_0_1.Relationship)
    }
    for relation in RELATIONS:
        kind, direction = SPDX3_TYPES[relation]
        ends = ("acme/child", f"acme/parent-{relation}")
        source, target = ends if direction == "up" else ends[::-1]
        assert (source, kind, (target,)) in found
    assert ("acme/child", "hasConcludedLicense", (None,)) in found
    root = next(p for p in objects.foreach_type(v3_0_1.ai_AIPackage) if p.name == "acme/child")
    assert root.comment.endswith(
        "output terms of a distillation teacher also apply: LicenseRef-teacher-terms"
    )
    assert "distilled from the outputs of acme/parent-distillation" in root.ai_informationAboutTraining
    hashes = {
        f.name: [(h.algorithm.rsplit("/", 1)[-1], h.hashValue) for h in f.verifiedUsing]
        for f in objects.foreach_type(v3_0_1.software_File)
    }
    assert hashes == {
        "model-00001-of-00002.safetensors": [("sha256", SHA_A)],
        "model-00002-of-00002.safetensors": [("sha256", SHA_B)],
    }
    concluded = {
        e.simplelicensing_licenseExpression
        for e in objects.foreach_type(v3_0_1.simplelicensing_LicenseExpression)
    }
    assert "Apache-2.0 AND LicenseRef-acme-model-license" in concluded


def test_cyclonedx_pedigree_licenses_hashes_and_model_card() -> None:
    data = json.loads(render_sbom(synthetic_evaluation(), "cyclonedx"))
    root = data["metadata"]["component"]
    assert root["type"] == "machine-learning-model"
    assert root["purl"] == "pkg:huggingface/acme/child@" + "1" * 40
    ancestors = {a["name"] for a in root["pedigree"]["ancestors"]}
    assert ancestors == {f"parent-{r}" for r in RELATIONS if r != "distillation"}
    assert "distilled from the outputs of acme/parent-distillation (distillation" in root["pedigree"]["notes"]
    licenses = {
        (lic["license"].get("id") or lic["license"]["name"], lic["license"]["acknowledgement"])
        for lic in root["licenses"]
    }
    assert licenses == {
        ("Apache-2.0", "declared"),
        ("Apache-2.0", "concluded"),
        ("acme-model-license (LicenseRef-acme-model-license)", "concluded"),
    }
    hashes = {c["name"]: c["hashes"] for c in root["components"]}
    assert hashes["model-00001-of-00002.safetensors"] == [{"alg": "SHA-256", "content": SHA_A}]
    assert "config.json" not in hashes  # no published sha256 for a non-LFS file
    card = {p["name"]: p["value"] for p in root["modelCard"]["properties"]}
    assert card["provenance:distilled-from"] == "acme/parent-distillation"
    assert card["provenance:output-terms"] == "LicenseRef-teacher-terms"
    assert {c["bom-ref"] for c in data["components"]} == {f"model:acme/parent-{r}" for r in RELATIONS}


def test_spdx_ids_for_declared_values() -> None:
    known = {"llama3.3": LicenseDetails("LicenseRef-llama3.3", "Llama 3.3")}
    assert spdx_id_for("llama3.3", known) == "LicenseRef-llama3.3"
    assert spdx_id_for("mit", {}) == "MIT"
    assert spdx_id_for("apache-2.0", {}) == "Apache-2.0"
    assert spdx_id_for("LicenseRef-x.1", {}) == "LicenseRef-x.1"
    assert spdx_id_for("my license/2", {}) == "LicenseRef-my-license-2"
    assert spdx_id_for("other", {}) is None
    assert spdx_id_for("", {}) is None


def test_root_without_license_is_noassertion() -> None:
    evaluation = synthetic_evaluation(relations=("finetune",), root_license="other")
    document = json.loads(render_sbom(evaluation, "spdx-json"))
    root = next(p for p in document["packages"] if p["name"] == "acme/child")
    assert root["licenseDeclared"] == "NOASSERTION"


def test_creation_time_from_source_date_epoch() -> None:
    assert creation_time({}) == DEFAULT_CREATED
    assert creation_time({"SOURCE_DATE_EPOCH": "1700000000"}) == datetime.datetime(
        2023, 11, 14, 22, 13, 20, tzinfo=datetime.UTC
    )
    with pytest.raises(UsageError, match="SOURCE_DATE_EPOCH"):
        creation_time({"SOURCE_DATE_EPOCH": "yesterday"})


@pytest.mark.parametrize(
    ("fmt", "stamp"),
    [
        ("spdx-json", '"created": "2023-11-14T22:13:20Z"'),
        ("spdx-tv", "Created: 2023-11-14T22:13:20Z"),
        ("spdx3", '"created": "2023-11-14T22:13:20Z"'),
        ("cyclonedx", '"timestamp": "2023-11-14T22:13:20+00:00"'),
    ],
)
def test_created_reaches_every_format(fmt: str, stamp: str) -> None:
    created = creation_time({"SOURCE_DATE_EPOCH": "1700000000"})
    assert stamp in render_sbom(synthetic_evaluation(), fmt, created=created)
    assert stamp not in render_sbom(synthetic_evaluation(), fmt)


def test_namespace_is_fixed_per_model_and_revision() -> None:
    a = document_namespace("acme/child", "1" * 40)
    assert a == document_namespace("acme/child", "1" * 40)
    assert a != document_namespace("acme/child", "2" * 40)
    assert a != document_namespace("acme/other", "1" * 40)
    assert a.startswith("https://provenance.invalid/sbom/acme-child-")


def test_invalid_spdx2_document_is_refused_with_the_problem() -> None:
    bad = {"acme-model-license": LicenseDetails("LicenseRef-acme-model-license", "Acme", None, "not a url")}
    for fmt in ("spdx-json", "spdx-tv"):
        with pytest.raises(OutputError, match="cross_reference must be a valid URL, but is: not a url"):
            render_sbom(synthetic_evaluation(), fmt, licenses=bad)


def test_invalid_spdx3_document_is_refused() -> None:
    # a view whose namespace is not an IRI: the bindings refuse the element ids built from it
    view = dataclasses.replace(build_view(synthetic_evaluation(), {}), namespace="not an iri")
    with pytest.raises(OutputError, match=r"SPDX 3\.0\.1 document is invalid, nothing written: .*IRI"):
        sbom_spdx3.render_spdx3(view)


def test_invalid_cyclonedx_model_card_is_refused() -> None:
    data = json.loads(render_sbom(synthetic_evaluation(), "cyclonedx"))
    data["metadata"]["component"]["modelCard"]["modelParameters"]["approach"] = {"type": "vibes"}
    with pytest.raises(OutputError, match="'vibes' is not one of"):
        validate_cyclonedx(json.dumps(data), "acme/child")


def test_unknown_format_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="unknown SBOM format 'xml'"):
        render_sbom(synthetic_evaluation(), "xml")


@pytest.mark.parametrize("fmt", ["spdx-json", "spdx-tv", "spdx3", "cyclonedx"])
def test_local_folder_target_without_hub_identity_is_valid(fmt: str) -> None:
    evaluation = synthetic_evaluation(
        relations=("finetune",), root="/data/models/my model", root_source="local-dir"
    )
    text = render_sbom(evaluation, fmt)  # validated inside; an invalid document would raise OutputError
    assert "pkg:huggingface/data/models" not in text
    assert "huggingface.co//data" not in text
    assert "/data/models/my model" in text


def test_model_ids_that_clean_up_alike_stay_distinct() -> None:
    evaluation = synthetic_evaluation(relations=("finetune", "merge"))
    graph = evaluation.graph
    renamed = {"acme/parent-finetune": "acme/parent-x", "acme/parent-merge": "acme/parent x"}
    nodes = tuple(
        type(n)(renamed.get(n.id, n.id), n.revision, n.declared_licenses, n.source) for n in graph.nodes
    )
    edges = tuple(
        type(e)(e.child, renamed[e.parent], e.relation, e.confidence, e.evidence) for e in graph.edges
    )
    evaluation = type(evaluation)(evaluation.scan, LineageGraph(graph.root, nodes, edges), evaluation.report)
    spdx2 = json.loads(render_sbom(evaluation, "spdx-json"))
    assert len({p["SPDXID"] for p in spdx2["packages"]}) == len(spdx2["packages"])
    _, objects = load_data(json.loads(render_sbom(evaluation, "spdx3")))
    packages = list(objects.foreach_type(v3_0_1.ai_AIPackage))
    assert sorted(p.name for p in packages) == sorted(n.id for n in nodes)
    assert len({p._id for p in packages}) == len(nodes)
