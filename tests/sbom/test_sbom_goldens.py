"""Every SBOM format for the two DeepSeek distills, offline: byte-for-byte goldens, validation by each
format's own tooling, and round trips through the libraries that can parse them back."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cyclonedx.model.bom import Bom
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
from sbom_support import EXTENSIONS, LLAMA70, MODELS, QWEN32, catalog_licenses, golden_path, real_evaluation
from spdx_python_model import load_data, v3_0_1
from spdx_tools.spdx.parser.json.json_parser import parse_from_file
from spdx_tools.spdx.parser.tagvalue.parser import Parser
from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document

from provenance.report.sbom import SBOM_FORMATS, render_sbom
from provenance.report.sbom_spdx2 import RELATIONSHIP_TYPES as SPDX2_TYPES
from provenance.report.sbom_spdx3 import RELATIONSHIP_TYPES as SPDX3_TYPES

pytestmark = pytest.mark.usefixtures("offline")


def render(model: str, fmt: str) -> str:
    return render_sbom(real_evaluation(model), fmt, licenses=catalog_licenses())


def test_every_format_has_a_golden_extension() -> None:
    assert set(EXTENSIONS) == set(SBOM_FORMATS)


@pytest.mark.parametrize("fmt", SBOM_FORMATS)
@pytest.mark.parametrize("model", MODELS)
def test_golden(model: str, fmt: str, update_goldens: bool) -> None:
    text = render(model, fmt)
    path = golden_path(model, fmt)
    if update_goldens:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"no golden file {path.name}: run pytest tests/sbom --update-goldens"
    assert text == path.read_text(encoding="utf-8"), f"{path.name} changed: compare, then --update-goldens"


@pytest.mark.parametrize("fmt", SBOM_FORMATS)
def test_same_input_same_bytes(fmt: str) -> None:
    assert render(QWEN32, fmt) == render(QWEN32, fmt)


def _graph_edges(model: str) -> set[tuple[str, str, str]]:
    graph = real_evaluation(model).graph
    return {(e.child, e.parent, e.relation) for e in graph.edges}


@pytest.mark.parametrize("suffix", ["spdx.json", "spdx"])
@pytest.mark.parametrize("model", MODELS)
def test_spdx2_round_trips_and_validates(model: str, suffix: str, tmp_path: Path) -> None:

    path = tmp_path / f"sbom.{suffix}"
    path.write_text(render(model, "spdx-json" if suffix == "spdx.json" else "spdx-tv"), encoding="utf-8")
    if suffix == "spdx.json":
        document = parse_from_file(str(path))
    else:
        # spdx-tools' parse_file builds the ply parser with debug output into site-packages and leaks the
        # file handle; the same parser without debug files reads the same grammar.
        document = Parser(debug=False, write_tables=False).parse(path.read_text(encoding="utf-8"))
    assert validate_full_spdx_document(document) == []
    graph = real_evaluation(model).graph
    names = {p.spdx_id: p.name for p in document.packages}
    assert {n.id for n in graph.nodes} <= set(names.values())
    lineage = {
        (names[r.spdx_element_id], names[r.related_spdx_element_id], r.relationship_type.name)
        for r in document.relationships
        if r.relationship_type.name in set(SPDX2_TYPES.values())
    }
    assert lineage == {(c, p, SPDX2_TYPES[rel]) for c, p, rel in _graph_edges(model)}


def test_spdx2_llama_distill_concludes_the_llama_license_it_does_not_declare() -> None:
    document = json.loads(render(LLAMA70, "spdx-json"))
    root = next(p for p in document["packages"] if p["name"] == LLAMA70)
    assert root["licenseDeclared"] == "MIT"
    assert set(root["licenseConcluded"].split(" AND ")) == {"MIT", "LicenseRef-llama3.3"}
    extracted = {e["licenseId"]: e for e in document["hasExtractedLicensingInfos"]}
    assert "LLAMA 3.3 COMMUNITY LICENSE AGREEMENT" in extracted["LicenseRef-llama3.3"]["extractedText"]
    assert extracted["LicenseRef-llama3.3"]["name"] == "Llama 3.3 Community License Agreement"


@pytest.mark.parametrize("model", MODELS)
def test_spdx3_deserialises_with_every_reference_resolved(model: str) -> None:
    data = json.loads(render(model, "spdx3"))
    module, objects = load_data(data)
    assert module is v3_0_1
    assert objects.link() == set()
    graph = real_evaluation(model).graph
    packages = {p.name: p for p in objects.foreach_type(v3_0_1.ai_AIPackage)}
    assert set(packages) == {n.id for n in graph.nodes}
    assert all(p.software_primaryPurpose == v3_0_1.software_SoftwarePurpose.model for p in packages.values())
    found = set()
    for r in objects.foreach_type(v3_0_1.Relationship):
        kind = r.relationshipType.rsplit("/", 1)[-1]
        if kind in {t for t, _ in SPDX3_TYPES.values()}:
            found.add((r.from_.name, r.to[0].name, kind))
    expected = set()
    for child, parent, relation in _graph_edges(model):
        kind, direction = SPDX3_TYPES[relation]
        expected.add((child, parent, kind) if direction == "up" else (parent, child, kind))
    assert found == expected
    documents = list(objects.foreach_type(v3_0_1.SpdxDocument))
    assert len(documents) == 1
    assert isinstance(documents[0].rootElement[0], v3_0_1.software_Sbom)


@pytest.mark.parametrize("model", MODELS)
def test_cyclonedx_validates_and_deserialises(model: str) -> None:

    text = render(model, "cyclonedx")
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(text, all_errors=True) is None
    bom = Bom.from_json(json.loads(text))  # type: ignore[attr-defined]
    graph = real_evaluation(model).graph
    ids = {f"{c.group}/{c.name}" for c in [bom.metadata.component, *bom.components]}
    assert ids == {n.id for n in graph.nodes}
    assert bom.metadata.component.type.value == "machine-learning-model"
    data = json.loads(text)
    card = data["metadata"]["component"]["modelCard"]
    teachers = {p["value"] for p in card["properties"] if p["name"] == "provenance:distilled-from"}
    assert teachers == {
        e.parent for e in graph.edges if e.child == graph.root and e.relation == "distillation"
    }
