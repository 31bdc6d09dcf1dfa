"""`render_sarif`: valid SARIF 2.1.0 (the official OASIS schema), shaped for GitHub code scanning, deterministic."""

from __future__ import annotations

import copy
import json
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jsonschema
import pytest

from provenance import __version__
from provenance.model import Severity
from provenance.policy.model import (
    CheckReport,
    ClauseRef,
    EffectiveLicense,
    PathHop,
    PolicyFinding,
    Suppressed,
    TriggeredObligation,
)
from provenance.report.sarif import FINGERPRINT_KEY, render_sarif

SCHEMA_PATH = Path(__file__).resolve().parents[1] / "data" / "schemas" / "sarif-schema-2.1.0.json"
ROOT = "deepseek-ai/DeepSeek-R1-Distill-Llama-70B"
BASE = "meta-llama/Llama-3.3-70B-Instruct"
HOP = PathHop(ROOT, BASE, "finetune", 0.95)
LLAMA_CLAUSE = ClauseRef(
    "LicenseRef-llama3.3",
    "include a copy of this Agreement with any such Llama Materials",
    section="1.b.i",
    source="policies/licenses/texts/llama3.3.txt",
)
EXPECTED_LEVEL = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFO: "note",
}


@pytest.fixture(scope="module")
def validator() -> jsonschema.protocols.Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema)


def finding(
    rule: str = "obligation.license-copy", severity: Severity = Severity.HIGH, **kw: Any
) -> PolicyFinding:
    values: dict[str, Any] = {
        "message": f"{rule} happened",
        "model": ROOT,
        "fix": "ship LICENSE",
        "license_id": "LicenseRef-llama3.3",
        "clause": LLAMA_CLAUSE,
        "path": (HOP,),
    }
    values.update(kw)
    return PolicyFinding(rule, severity, **values)


def report(*findings: PolicyFinding, **kw: Any) -> CheckReport:
    values: dict[str, Any] = {
        "target": ROOT,
        "model": ROOT,
        "revision": "0123abcd",
        "source": "hub",
        "policy_name": "strict-commercial",
        "policy_location": "builtin:strict-commercial",
        "fail_on": Severity.MEDIUM,
        "declared_licenses": ("MIT",),
        "effective": (
            EffectiveLicense("MIT", ROOT, "self", (), True, "mit"),
            EffectiveLicense("LicenseRef-llama3.3", BASE, "weights", (HOP,), True, "llama3.3"),
        ),
        "obligations": (
            TriggeredObligation(
                "llama3.3.license-copy",
                "license_copy",
                "copy the agreement",
                "ship it",
                "LicenseRef-llama3.3",
                LLAMA_CLAUSE,
                (HOP,),
                "weights",
            ),
        ),
        "findings": findings,
        "tool_version": "9.9.9",
        "intended_use": {"commercial": True, "distribution": "public"},
    }
    values.update(kw)
    return CheckReport(**values)


def every_kind() -> CheckReport:
    """Every severity, with and without a file location, overridden, suppressed, with prose locations."""
    return report(
        finding("license.declared-incomplete", Severity.CRITICAL),
        finding("obligation.license-copy", Severity.HIGH, location="release/LICENSE"),
        finding("obligation.notice-file", Severity.MEDIUM, location="release/NOTICE:12"),
        finding("policy.attestation-missing", Severity.LOW, license_id=None, clause=None, path=()),
        finding("obligation.attribution-display", Severity.INFO, location="not checked automatically"),
        finding("policy.suppression-expired", Severity.LOW, location="policies/team.yaml:31", clause=None),
        finding(
            "license.mau-threshold",
            Severity.LOW,
            default_severity=Severity.HIGH,
            suppressed=Suppressed("MAU is far below 700M", "2027-01-31", "policies/team.yaml:40"),
        ),
        finding("policy.license-denied", Severity.HIGH, location="builtin:strict-commercial"),
    )


def sarif(rep: CheckReport, **kw: Any) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(render_sarif(rep, **kw))
    return data


def run_of(rep: CheckReport, **kw: Any) -> dict[str, Any]:
    run: dict[str, Any] = sarif(rep, **kw)["runs"][0]
    return run


def results_by_rule(rep: CheckReport, **kw: Any) -> dict[str, dict[str, Any]]:
    return {r["ruleId"]: r for r in run_of(rep, **kw)["results"]}


# --- the schema itself --------------------------------------------------------------------------------------


def test_schema_file_is_the_oasis_sarif_2_1_0_schema() -> None:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    assert schema["$id"].endswith("/oasis-tcs/sarif-spec/master/Schemata/sarif-schema-2.1.0.json")
    assert "Version 2.1.0" in schema["title"]
    assert schema["properties"]["version"]["enum"] == ["2.1.0"]
    assert {"result", "run", "toolComponent", "suppression", "physicalLocation"} <= set(schema["definitions"])
    # The metaschema's only complaint is upstream's: region's `anyOf` sits inside `properties`, so the schema
    # does not enforce "startLine, charOffset or byteOffset" (checked below for every result instead). The
    # `language` pattern's inline flag is also rejected by Python's re, so formats are not checked here.
    meta = jsonschema.validators.validator_for(schema)
    complaints = {"/".join(map(str, e.absolute_path)) for e in meta(meta.META_SCHEMA).iter_errors(schema)}
    assert complaints == {"definitions/region/properties/anyOf"}


def test_validator_has_teeth(validator: jsonschema.protocols.Validator) -> None:
    good = sarif(every_kind())
    assert list(validator.iter_errors(good)) == []
    for breakage in ("level", "message", "version", "ruleIndex"):
        bad = copy.deepcopy(good)
        result = bad["runs"][0]["results"][0]
        if breakage == "level":
            result["level"] = "fatal"
        elif breakage == "message":
            del result["message"]
        elif breakage == "ruleIndex":
            result["ruleIndex"] = -2
        else:
            bad["version"] = "2.0.0"
        assert list(validator.iter_errors(bad)), breakage


# --- validity -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "rep",
    [
        pytest.param(report(), id="no-findings"),
        pytest.param(every_kind(), id="every-kind"),
        pytest.param(report(finding(), source="local-dir", target="models/release"), id="local-dir"),
        pytest.param(report(finding(), source="knowledge-base", model="not a hub id"), id="odd-model"),
        pytest.param(report(finding(clause=replace(LLAMA_CLAUSE, section=""), fix="")), id="bare"),
    ],
)
def test_output_is_valid_sarif_2_1_0(validator: jsonschema.protocols.Validator, rep: CheckReport) -> None:
    log = sarif(rep)
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(log)]
    assert errors == []
    assert log["version"] == "2.1.0"
    assert len(log["runs"]) == 1


def test_tool_driver_and_invocation() -> None:
    run = run_of(every_kind())
    driver = run["tool"]["driver"]
    assert driver["name"] == "provenance"
    assert driver["version"] == "9.9.9"
    invocation = run["invocations"][0]
    assert invocation["executionSuccessful"] is True
    assert invocation["properties"]["policy"] == {
        "name": "strict-commercial",
        "location": "builtin:strict-commercial",
    }
    assert invocation["properties"]["failOn"] == "medium"
    assert invocation["properties"]["passed"] is False
    assert run["properties"]["declaredLicenses"] == ["MIT"]
    assert [e["license"] for e in run["properties"]["effectiveLicenses"]] == ["MIT", "LicenseRef-llama3.3"]


def test_driver_version_defaults_to_the_package_version() -> None:
    assert run_of(report(tool_version=""))["tool"]["driver"]["version"] == __version__


def test_docs_uri_gives_information_and_help_uris() -> None:
    plain = run_of(report(finding()))
    assert "informationUri" not in plain["tool"]["driver"]
    assert all("helpUri" not in rule for rule in plain["tool"]["driver"]["rules"])
    docs = "https://docs.example.org/provenance/"
    run = run_of(report(finding()), docs_uri=docs)
    assert run["tool"]["driver"]["informationUri"] == docs
    (rule,) = run["tool"]["driver"]["rules"]
    assert rule["helpUri"].startswith(docs)
    assert urlsplit(rule["helpUri"]).scheme == "https"


# --- levels and rules -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("severity", list(Severity), ids=str)
def test_level_per_severity(severity: Severity) -> None:
    run = run_of(report(finding(severity=severity)))
    (result,) = run["results"]
    assert result["level"] == EXPECTED_LEVEL[severity]
    assert result["properties"]["severity"] == str(severity)
    (rule,) = run["tool"]["driver"]["rules"]
    assert rule["defaultConfiguration"]["level"] == EXPECTED_LEVEL[severity]
    score = rule["properties"].get("security-severity")
    if severity is Severity.INFO:
        assert score is None
    else:
        bucket = {Severity.CRITICAL: (9.0, 10.0), Severity.HIGH: (7.0, 8.9), Severity.MEDIUM: (4.0, 6.9)}
        low, high = bucket.get(severity, (0.1, 3.9))
        assert low <= float(score) <= high


def test_rule_index_points_at_the_rule_of_the_result() -> None:
    run = run_of(every_kind())
    rules = run["tool"]["driver"]["rules"]
    ids = [rule["id"] for rule in rules]
    assert ids == sorted(set(ids))
    assert set(ids) == {f.rule_id for f in every_kind().findings}
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]


def test_rules_carry_descriptions_tags_and_the_default_severity() -> None:
    run = run_of(every_kind())
    rules = {rule["id"]: rule for rule in run["tool"]["driver"]["rules"]}
    for rule in rules.values():
        assert rule["name"] and " " not in rule["name"]
        assert rule["shortDescription"]["text"]
        assert rule["fullDescription"]["text"]
        assert rule["help"]["text"]
        assert 0 < len(rule["properties"]["tags"]) <= 10  # GitHub shows at most 10 tags per rule
    assert "license" in rules["obligation.license-copy"]["properties"]["tags"]
    assert "policy" in rules["policy.attestation-missing"]["properties"]["tags"]
    assert rules["license.declared-incomplete"]["shortDescription"]["text"].startswith("The declared license")
    assert "notice file" in rules["obligation.notice-file"]["shortDescription"]["text"]
    # the policy lowered mau-threshold to low: the rule keeps its default (high), the result shows the override
    mau = rules["license.mau-threshold"]
    assert mau["defaultConfiguration"]["level"] == "error"
    result = results_by_rule(every_kind())["license.mau-threshold"]
    assert result["level"] == "note"
    assert result["properties"]["defaultSeverity"] == "high"


def test_one_rule_for_many_findings_takes_the_highest_default() -> None:
    rep = report(
        finding(severity=Severity.LOW, license_id="MIT"),
        finding(severity=Severity.HIGH, license_id="Apache-2.0"),
    )
    run = run_of(rep)
    (rule,) = run["tool"]["driver"]["rules"]
    assert rule["defaultConfiguration"]["level"] == "error"
    assert sorted(r["level"] for r in run["results"]) == ["error", "note"]
    assert {r["ruleIndex"] for r in run["results"]} == {0}


# --- results ----------------------------------------------------------------------------------------------


def test_message_has_the_clause_the_path_and_the_fix() -> None:
    (result,) = run_of(report(finding(message="Llama 3.3: copy of the agreement missing")))["results"]
    text = result["message"]["text"]
    assert text.startswith("Llama 3.3: copy of the agreement missing")
    assert "§1.b.i" in text
    assert "“include a copy of this Agreement with any such Llama Materials”" in text
    assert f"{ROOT} --finetune--> {BASE}" in text
    assert "Fix: ship LICENSE" in text
    props = result["properties"]
    assert props["license"] == "LicenseRef-llama3.3"
    assert props["clause"]["quote"] == LLAMA_CLAUSE.quote
    assert props["path"] == [{"child": ROOT, "parent": BASE, "relation": "finetune", "confidence": 0.95}]


def test_file_location_with_and_without_line() -> None:
    results = results_by_rule(every_kind())
    notice = results["obligation.notice-file"]["locations"][0]["physicalLocation"]
    assert notice["artifactLocation"] == {"uri": "release/NOTICE", "uriBaseId": "%SRCROOT%"}
    assert notice["region"] == {"startLine": 12}
    license_copy = results["obligation.license-copy"]["locations"][0]
    assert license_copy["physicalLocation"]["artifactLocation"]["uri"] == "release/LICENSE"
    assert license_copy["physicalLocation"]["region"] == {"startLine": 1}
    assert "logicalLocations" not in license_copy


@pytest.mark.parametrize(
    "location", ["", "not checked automatically", "builtin:strict-commercial", "../outside/LICENSE"]
)
def test_no_file_falls_back_to_the_model(location: str) -> None:
    (result,) = run_of(report(finding(location=location)))["results"]
    (loc,) = result["locations"]
    assert loc["logicalLocations"] == [{"fullyQualifiedName": ROOT, "kind": "module", "name": ROOT}]
    artifact = loc["physicalLocation"]["artifactLocation"]
    assert artifact == {"uri": f"https://huggingface.co/{ROOT}"}


def test_local_folder_target_is_a_repository_path() -> None:
    rep = report(finding(), source="local-dir", target="./models/release/")
    (result,) = run_of(rep)["results"]
    artifact = result["locations"][0]["physicalLocation"]["artifactLocation"]
    assert artifact == {"uri": "models/release", "uriBaseId": "%SRCROOT%"}


def test_uris_are_escaped() -> None:
    rep = report(finding(), source="local-dir", target="models/my model#1")
    (result,) = run_of(rep)["results"]
    uri = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri == "models/my%20model%231"


def test_every_result_has_what_github_code_scanning_needs() -> None:
    run = run_of(every_kind())
    assert len(run["results"]) == len(every_kind().findings)
    for result in run["results"]:
        assert result["message"]["text"]
        assert 1 <= len(result["locations"]) <= 10
        physical = result["locations"][0]["physicalLocation"]
        assert physical["artifactLocation"]["uri"]
        assert physical["region"]["startLine"] >= 1
        assert set(result["partialFingerprints"]) == {FINGERPRINT_KEY}


def test_suppressed_findings_carry_an_external_suppression() -> None:
    results = results_by_rule(every_kind())
    suppressed = results["license.mau-threshold"]
    assert suppressed["suppressions"] == [
        {
            "justification": "MAU is far below 700M",
            "kind": "external",
            "properties": {"expires": "2027-01-31", "policyLocation": "policies/team.yaml:40"},
            "status": "accepted",
        }
    ]
    assert "Suppressed until 2027-01-31" in suppressed["message"]["text"]
    assert all("suppressions" not in r for rule, r in results.items() if rule != "license.mau-threshold")


# --- fingerprints and determinism -----------------------------------------------------------------------------


def fingerprints(rep: CheckReport) -> list[str]:
    return [r["partialFingerprints"][FINGERPRINT_KEY] for r in run_of(rep)["results"]]


def test_fingerprints_are_stable_and_distinct() -> None:
    first = fingerprints(every_kind())
    assert first == fingerprints(every_kind())
    assert len(set(first)) == len(first)
    assert all(len(fp) == 32 and int(fp, 16) >= 0 for fp in first)


def test_fingerprint_follows_identity_not_wording_or_severity() -> None:
    (before,) = fingerprints(report(finding()))
    (reworded,) = fingerprints(report(finding(message="reworded", severity=Severity.LOW, fix="other")))
    assert before == reworded
    for changed in (
        finding(license_id="Apache-2.0"),
        finding(model="org/other"),
        finding(path=(PathHop(ROOT, BASE, "adapter", 0.95),)),
        finding(rule="obligation.notice-file"),
        finding(location="release/LICENSE"),
    ):
        assert fingerprints(report(changed)) != [before]


def test_findings_that_differ_only_in_wording_still_get_distinct_fingerprints() -> None:
    rep = report(finding(message="first duty"), finding(message="second duty"))
    prints = fingerprints(rep)
    assert len(set(prints)) == 2


def test_same_bytes_twice_and_independent_of_finding_order() -> None:
    rep = every_kind()
    text = render_sarif(rep)
    assert text == render_sarif(rep)
    assert text == render_sarif(replace(rep, findings=tuple(reversed(rep.findings))))
    assert text.endswith("}\n")
    for word in ("Time", "time", "date-time"):
        assert f'"{word}' not in text  # no startTimeUtc, endTimeUtc or other clocks


# --- no local paths ---------------------------------------------------------------------------------------


def test_absolute_local_paths_never_leak(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    release = root / "models" / "release"
    rep = report(
        finding(location=f"{release}/LICENSE:7", message=f"no LICENSE in {release}"),
        finding("policy.suppression-expired", location=f"{tmp_path}/elsewhere/policy.yaml:3"),
        source="local-dir",
        target=str(release),
        policy_location=str(root / "policies" / "team.yaml"),
    )
    without_base = render_sarif(rep)
    with_base = render_sarif(rep, base=str(root))
    assert str(tmp_path) not in without_base
    assert "no LICENSE in release" in without_base
    assert str(tmp_path) not in with_base
    results = results_by_rule(rep, base=str(root))
    located = results["obligation.license-copy"]["locations"][0]["physicalLocation"]
    assert located["artifactLocation"] == {"uri": "models/release/LICENSE", "uriBaseId": "%SRCROOT%"}
    assert located["region"] == {"startLine": 7}
    assert "no LICENSE in models/release" in results["obligation.license-copy"]["message"]["text"]
    # outside the repository: the target stands in, and only the file name is kept for display
    outside = results["policy.suppression-expired"]
    assert outside["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "models/release"
    assert outside["properties"]["location"] == "policy.yaml:3"
    run = run_of(rep, base=str(root))
    assert run["invocations"][0]["properties"]["policy"]["location"] == "policies/team.yaml"
    assert run["properties"]["target"] == "models/release"
    # without a base nothing absolute is kept: the folder's name stands for the target
    bare = results_by_rule(rep)["obligation.license-copy"]["locations"][0]["physicalLocation"]
    assert bare["artifactLocation"] == {"uri": "release", "uriBaseId": "%SRCROOT%"}
