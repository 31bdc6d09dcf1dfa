"""SPDX 3.0.1 output against the official SPDX 3.0.1 JSON schema (tests/data/schemas/SOURCES-spdx3.md)."""

from __future__ import annotations

import copy
import functools
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from sbom_support import MODELS, catalog_licenses, real_evaluation, synthetic_evaluation

from provenance.report.sbom import render_sbom

SCHEMA = Path(__file__).resolve().parents[1] / "data" / "schemas" / "spdx-json-schema-3.0.1.json"


@functools.cache
def validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def errors(document: dict[str, Any]) -> list[str]:
    return [f"{e.json_path}: {e.message[:200]}" for e in validator().iter_errors(document)]


@pytest.mark.usefixtures("offline")
@pytest.mark.parametrize("model", MODELS)
def test_spdx3_of_the_distills_is_schema_valid(model: str) -> None:
    text = render_sbom(real_evaluation(model), "spdx3", licenses=catalog_licenses())
    assert errors(json.loads(text)) == []


def _subset(document: dict[str, Any], keep: Any) -> dict[str, Any]:
    """The document with only its creation info and the elements `keep` selects (the schema checks each
    element on its own, not references, so a subset of a valid document stays valid; and it is much faster)."""
    graph = [e for e in document["@graph"] if e["type"] == "CreationInfo" or keep(e)]
    return {"@context": document["@context"], "@graph": copy.deepcopy(graph)}


def test_files_hashes_and_variant_relationships_are_schema_valid() -> None:
    document = json.loads(render_sbom(synthetic_evaluation(), "spdx3"))
    subset = _subset(
        document,
        lambda e: (
            e["type"] == "software_File"
            or e.get("relationshipType") in {"hasVariant", "contains", "trainedOn"}
        ),
    )
    assert {e["type"] for e in subset["@graph"]} == {"CreationInfo", "software_File", "Relationship"}
    assert len(subset["@graph"]) == 1 + 2 + 3
    assert errors(subset) == []


def test_the_schema_rejects_what_spdx_3_forbids() -> None:
    document = json.loads(render_sbom(synthetic_evaluation(), "spdx3"))
    subset = _subset(
        document, lambda e: e["type"] in {"ai_AIPackage", "Relationship"} and "finetune" in str(e)
    )
    assert errors(subset) == []
    broken = copy.deepcopy(subset)
    next(e for e in broken["@graph"] if e["type"] == "ai_AIPackage")["software_primaryPurpose"] = "vibes"
    assert errors(broken)
    missing = copy.deepcopy(subset)
    del next(e for e in missing["@graph"] if e["type"] == "Relationship")["relationshipType"]
    assert errors(missing)
