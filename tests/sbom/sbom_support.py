"""Helpers for the SBOM tests: real evaluations of the DeepSeek distills, and hand-made ones that exercise
every lineage relation, file hashes and licenses without a bundled text."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from provenance.licenses.catalog import default_catalog
from provenance.lineage.model import DeclaredLicense, Edge, EdgeEvidence, LineageGraph, Node, Relation
from provenance.model import FileEntry, Severity
from provenance.policy.command import Evaluation, evaluate
from provenance.policy.model import CheckReport, EffectiveLicense, PathHop
from provenance.report.sbom import LicenseDetails, catalog_details
from provenance.scan_report import FileReport, ScanReport
from provenance.sources.interface import TargetInfo

LLAMA70 = "deepseek-ai/DeepSeek-R1-Distill-Llama-70B"
QWEN32 = "deepseek-ai/DeepSeek-R1-Distill-Qwen-32B"
MODELS = (LLAMA70, QWEN32)
GOLDEN = Path(__file__).resolve().parents[1] / "data" / "golden" / "sbom"
EXTENSIONS = {"spdx-json": "spdx.json", "spdx-tv": "spdx", "spdx3": "spdx3.jsonld", "cyclonedx": "cdx.json"}

SHA_A = "a" * 64
SHA_B = "b" * 64


def golden_path(model: str, fmt: str) -> Path:
    return GOLDEN / f"{model.replace('/', '--')}.{EXTENSIONS[fmt]}"


def real_evaluation(model: str) -> Evaluation:
    """`evaluate` as the CLI runs it (callers set HF_HUB_OFFLINE=1 first)."""
    return evaluate(model)


def catalog_licenses() -> dict[str, LicenseDetails]:
    return catalog_details(default_catalog())


def _edge(child: str, parent: str, relation: Relation, confidence: float = 0.9) -> Edge:
    evidence = (EdgeEvidence("card-metadata", f"base_model: {parent}", "README.md:3", 0.9, "card"),)
    return Edge(child, parent, relation, confidence, evidence)


def _node(model_id: str, license_value: str | None, revision: str | None = None, source: str = "hub") -> Node:
    declared = (DeclaredLicense(license_value, ("README.md:2",)),) if license_value else ()
    return Node(model_id, revision, declared, source)


def _license_of(parent: str, parent_license: str) -> str:
    return "teacher-terms" if parent.endswith("-distillation") else parent_license


def synthetic_evaluation(
    relations: Sequence[Relation] = ("finetune", "adapter", "quantized", "merge", "distillation"),
    files: Sequence[FileEntry] = (
        FileEntry("config.json", 120, git_blob_id="c" * 40),
        FileEntry("model-00001-of-00002.safetensors", 1000, lfs_sha256=SHA_A),
        FileEntry("model-00002-of-00002.safetensors", 2000, lfs_sha256=SHA_B),
    ),
    root_license: str = "apache-2.0",
    parent_license: str = "acme-model-license",
    root: str = "acme/child",
    root_source: str = "hub",
) -> Evaluation:
    """acme/child with one parent per relation (`acme/parent-<relation>`), each under `parent_license`
    except the distillation teacher, under `teacher-terms` (which reaches the child through outputs only)."""
    commit = "1" * 40
    parents = [f"acme/parent-{r}" for r in relations]
    graph = LineageGraph(
        root=root,
        nodes=(
            _node(root, root_license, commit),
            *(_node(p, _license_of(p, parent_license)) for p in sorted(parents)),
        ),
        edges=tuple(_edge(root, p, r) for p, r in zip(parents, relations, strict=True)),
    )
    effective = [EffectiveLicense("Apache-2.0", root, "self", (), True, root_license)]
    for parent, relation in zip(parents, relations, strict=True):
        hop = PathHop(root, parent, relation, 0.9)
        reach = "outputs" if relation == "distillation" else "weights"
        value = _license_of(parent, parent_license)
        effective.append(EffectiveLicense(value, parent, reach, (hop,), False, value))
    report = CheckReport(
        target=root,
        model=root,
        revision=commit,
        source=root_source,
        policy_name="default",
        policy_location="",
        fail_on=Severity.HIGH,
        declared_licenses=(root_license,),
        effective=tuple(effective),
        obligations=(),
        findings=(),
        tool_version="0.1.0",
    )
    target = TargetInfo(root, root_source, repo_id=root if root_source == "hub" else None, commit=commit)
    scan = ScanReport(target, "0.1.0", tuple(FileReport(f, "other", "listed") for f in files), (), ())
    return Evaluation(scan, graph, report)
