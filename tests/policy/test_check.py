"""`provenance check` end to end: real lineage (knowledge base, Hub emulator, local folders), the bundled
license catalog and policies, the real CLI. Nothing in the pipeline is replaced."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hubemu.repos import card, json_bytes

from provenance.cli import main

LLAMA70 = "deepseek-ai/DeepSeek-R1-Distill-Llama-70B"
QWEN32 = "deepseek-ai/DeepSeek-R1-Distill-Qwen-32B"
LICENSES = Path(__file__).resolve().parents[2] / "policies" / "licenses" / "texts"


def check_json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, Any]]:
    code = main(["check", *argv, "--format", "json"])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, json.loads(out)


def obligations_of(report: dict[str, Any], license_id: str) -> dict[str, dict[str, Any]]:
    return {o["kind"]: o for o in report["obligations"] if o["license"] == license_id}


def rules(report: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for f in report["findings"]:
        out.setdefault(f["rule"], []).append(f)
    return out


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


def test_llama_distill_strict_commercial_lists_llama_duties_with_clause_and_path(
    capsys: pytest.CaptureFixture[str], offline: None
) -> None:
    code, report = check_json(capsys, LLAMA70, "--policy", "strict-commercial")
    assert code == 1
    assert report["passed"] is False
    effective = {e["license"]: e for e in report["effective_licenses"]}
    llama = effective["LicenseRef-llama3.3"]
    assert llama["reach"] == "weights"
    assert [(h["child"], h["relation"], h["parent"]) for h in llama["path"]] == [
        (LLAMA70, "finetune", "meta-llama/Llama-3.3-70B-Instruct")
    ]
    assert effective["MIT"]["reach"] == "self"
    # Meta relicensed its own derivative: the Llama 3.1 terms stop at Llama 3.3
    assert "LicenseRef-llama3.1" not in effective
    duties = obligations_of(report, "LicenseRef-llama3.3")
    for kind in ("license_copy", "attribution_display", "notice_file", "acceptable_use", "naming"):
        assert kind in duties, kind
        assert duties[kind]["clause"]["quote"], kind
        assert duties[kind]["path"][0]["parent"] == "meta-llama/Llama-3.3-70B-Instruct"
    assert "Built with Llama" in duties["attribution_display"]["clause"]["quote"]
    assert duties["notice_file"]["notice_text"].startswith("Llama 3.3 is licensed under the Llama 3.3")
    # the 700M clause is checked against the policy's stated MAU, and is met
    assert duties["mau_threshold"]["met"] is True
    found = rules(report)
    gap = found["license.declared-incomplete"]
    assert [f["license"] for f in gap] == ["LicenseRef-llama3.3"]
    assert gap[0]["severity"] == "high"
    assert "declares mit" in gap[0]["message"]
    # the model's own name does not start with "Llama": a distributed derivative must
    naming = found["obligation.naming"]
    assert naming[0]["severity"] in {"high", "medium"}
    assert "DeepSeek-R1-Distill-Llama-70B" in naming[0]["message"]


def test_llama_distill_text_report_shows_clauses_and_path(
    capsys: pytest.CaptureFixture[str], offline: None
) -> None:
    code = main(["check", LLAMA70, "--policy", "strict-commercial"])
    out, _ = capsys.readouterr()
    assert code == 1
    assert out.startswith("provenance check: FAIL")
    assert "Built with Llama" in out
    assert f"{LLAMA70} --finetune--> meta-llama/Llama-3.3-70B-Instruct" in out
    assert "license.declared-incomplete" in out


def test_qwen_distill_has_apache_duties_and_no_llama_duty(
    capsys: pytest.CaptureFixture[str], offline: None
) -> None:
    _code, report = check_json(capsys, QWEN32, "--policy", "strict-commercial")
    effective = {e["license"] for e in report["effective_licenses"]}
    assert "Apache-2.0" in effective
    assert not any(e.startswith("LicenseRef-llama") for e in effective)
    apache = obligations_of(report, "Apache-2.0")
    assert {"license_copy", "notice_file", "change_statement"} <= set(apache)
    assert not any(o["license"].startswith("LicenseRef-llama") for o in report["obligations"])
    assert not any("Llama" in f["message"] for f in report["findings"] if f["rule"].startswith("obligation."))


def test_teacher_terms_travel_only_through_output_clauses(
    capsys: pytest.CaptureFixture[str], offline: None
) -> None:
    _code, report = check_json(capsys, QWEN32, "--policy", "default")
    for obligation in report["obligations"]:
        if any(h["relation"] == "distillation" for h in obligation["path"]):
            assert obligation["reach"] == "outputs"
            assert obligation["kind"] not in {"license_copy", "notice_file", "retain_notices"}


@pytest.fixture
def qwen_research_child(hub: Any) -> str:
    """Modelled on Qwen/Qwen2.5-3B (license: other, license_name: qwen-research) and a fine-tune of it."""
    base = "Qwen/Qwen2.5-3B"
    if hub.store.get(base) is None:
        meta = {
            "license": "other",
            "license_name": "qwen-research",
            "license_link": "https://huggingface.co/Qwen/Qwen2.5-3B/blob/main/LICENSE",
            "language": ["en"],
            "pipeline_tag": "text-generation",
        }
        hub.add_repo(base, {"README.md": card(meta, "# Qwen2.5-3B\n")})
    child = "acme/qwen-3b-support-bot"
    if hub.store.get(child) is None:
        meta = {"license": "apache-2.0", "base_model": base, "base_model_relation": "finetune"}
        hub.add_repo(child, {"README.md": card(meta, "# Support bot\n\nFine-tuned from Qwen2.5-3B.\n")})
    return child


def test_qwen_research_base_fails_commercial_policy(
    capsys: pytest.CaptureFixture[str], qwen_research_child: str
) -> None:
    code, report = check_json(capsys, qwen_research_child, "--policy", "strict-commercial")
    assert code == 1
    found = rules(report)
    non_commercial = found["license.non-commercial"]
    assert non_commercial[0]["license"] == "LicenseRef-qwen-research"
    assert non_commercial[0]["path"][0]["parent"] == "Qwen/Qwen2.5-3B"
    assert non_commercial[0]["clause"]["quote"]
    assert found["policy.license-denied"][0]["license"] == "LicenseRef-qwen-research"


def test_qwen_research_base_passes_research_policy(
    capsys: pytest.CaptureFixture[str], qwen_research_child: str
) -> None:
    _code, report = check_json(capsys, qwen_research_child, "--policy", "research-only")
    assert "license.non-commercial" not in rules(report)
    assert "policy.license-denied" not in rules(report)


def _release_folder(tmp_path: Path, name: str, *, notice: bool, license_text: bool) -> Path:
    folder = tmp_path / name
    folder.mkdir()
    meta = {
        "license": "llama3.3",
        "base_model": "meta-llama/Llama-3.3-70B-Instruct",
        "base_model_relation": "finetune",
    }
    body = f"# {name}\n\nBuilt with Llama. A fine-tune of Llama 3.3 70B Instruct.\n"
    (folder / "README.md").write_bytes(card(meta, body))
    (folder / "config.json").write_bytes(
        json_bytes({"model_type": "llama", "architectures": ["LlamaForCausalLM"]})
    )
    if license_text:
        shutil.copy(LICENSES / "llama3.3-community-license.txt", folder / "LICENSE")
        shutil.copy(LICENSES / "llama3.3-acceptable-use-policy.txt", folder / "USE_POLICY.md")
    if notice:
        (folder / "NOTICE").write_text(
            "Llama 3.3 is licensed under the Llama 3.3 Community License, Copyright © Meta Platforms, Inc. "
            "All Rights Reserved.\n",
            encoding="utf-8",
        )
    return folder


def test_release_folder_meeting_llama_duties(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, offline: None
) -> None:
    folder = _release_folder(tmp_path, "Llama-3.3-acme-support", notice=True, license_text=True)
    _code, report = check_json(capsys, str(folder), "--policy", "default")
    duties = obligations_of(report, "LicenseRef-llama3.3")
    for kind in ("license_copy", "notice_file", "attribution_display", "naming", "acceptable_use"):
        assert duties[kind]["met"] is True, kind
    assert "license.declared-incomplete" not in rules(report)


def test_release_folder_missing_notice_license_and_prefix(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, offline: None
) -> None:
    folder = _release_folder(tmp_path, "acme-support-70b", notice=False, license_text=False)
    code, report = check_json(capsys, str(folder), "--policy", "default", "--fail-on", "medium")
    assert code == 1
    duties = obligations_of(report, "LicenseRef-llama3.3")
    assert duties["license_copy"]["met"] is False
    assert duties["notice_file"]["met"] is False
    assert duties["naming"]["met"] is False
    found = rules(report)
    assert {"obligation.license-copy", "obligation.notice-file", "obligation.naming"} <= set(found)
    assert all(f["license"] == "LicenseRef-llama3.3" for f in found["obligation.notice-file"])


def test_policy_file_overrides_and_suppressions(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, offline: None
) -> None:
    policy = tmp_path / "team.yaml"
    policy.write_text(
        "version: 1\n"
        "name: team\n"
        "intended_use: {commercial: true, distribution: public, hosted: false, expected_mau: 1000}\n"
        "severity:\n"
        "  obligation.naming: low\n"
        "suppressions:\n"
        "  - rule: license.declared-incomplete\n"
        "    justification: legal review LGL-1 accepted the upstream card\n"
        "    expires: 2999-01-01\n"
        "fail_on: medium\n",
        encoding="utf-8",
    )
    code, report = check_json(capsys, LLAMA70, "--policy", str(policy))
    found = rules(report)
    gap = found["license.declared-incomplete"][0]
    assert gap["suppressed"]["justification"].startswith("legal review")
    assert gap["suppressed"]["location"] == f"{policy}:7"
    assert found["obligation.naming"][0]["severity"] == "low"
    assert found["obligation.naming"][0]["default_severity"] in {"high", "medium"}
    failing = [
        f
        for f in report["findings"]
        if f["suppressed"] is None and f["severity"] in {"medium", "high", "critical"}
    ]
    assert code == (1 if failing else 0)


def test_expired_suppression_no_longer_applies(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, offline: None
) -> None:
    policy = tmp_path / "old.yaml"
    policy.write_text(
        "version: 1\nname: old\n"
        "intended_use: {commercial: true, distribution: public, hosted: false, expected_mau: 1000}\n"
        "suppressions:\n"
        "  - rule: license.declared-incomplete\n"
        "    justification: temporary\n"
        "    expires: 2020-01-01\n",
        encoding="utf-8",
    )
    code, report = check_json(capsys, LLAMA70, "--policy", str(policy))
    found = rules(report)
    assert found["license.declared-incomplete"][0]["suppressed"] is None
    assert found["policy.suppression-expired"][0]["location"] == f"{policy}:5"
    assert code == 1


def test_fail_on_threshold_and_attestations(capsys: pytest.CaptureFixture[str], offline: None) -> None:
    _code, strict = check_json(capsys, QWEN32, "--policy", "strict-commercial", "--fail-on", "critical")
    missing = [f for f in strict["findings"] if f["rule"] == "policy.attestation-missing"]
    assert missing
    names = [f["message"].split("'")[1] for f in missing]
    argv = ["--policy", "strict-commercial", "--fail-on", "critical"]
    for name in names:
        argv += ["--attest", name]
    _code, attested = check_json(capsys, QWEN32, *argv)
    assert not [f for f in attested["findings"] if f["rule"] == "policy.attestation-missing"]
    code = main(
        ["check", QWEN32, "--policy", "strict-commercial", "--fail-on", "critical", "--format", "json"]
    )
    report = json.loads(capsys.readouterr()[0])
    has_critical = any(f["severity"] == "critical" and f["suppressed"] is None for f in report["findings"])
    assert code == (1 if has_critical else 0)


def test_json_is_deterministic(capsys: pytest.CaptureFixture[str], offline: None) -> None:
    main(["check", LLAMA70, "--format", "json"])
    first = capsys.readouterr()[0]
    main(["check", LLAMA70, "--format", "json"])
    assert capsys.readouterr()[0] == first


@pytest.mark.parametrize(
    ("argv", "code", "needle"),
    [
        (["--policy", "no-such-policy"], 2, "bundled"),
        (["--policy", "missing.yaml"], 3, "missing.yaml"),
        (["--fail-on", "severe"], 2, "invalid choice"),
    ],
    ids=["unknown-policy-name", "missing-policy-file", "bad-fail-on"],
)
def test_check_usage_and_policy_errors(
    capsys: pytest.CaptureFixture[str], offline: None, argv: list[str], code: int, needle: str
) -> None:
    assert main(["check", LLAMA70, *argv]) == code
    out, err = capsys.readouterr()
    assert out == ""
    assert needle in err
    assert "Traceback" not in err


def test_invalid_policy_file_names_every_problem(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, offline: None
) -> None:
    policy = tmp_path / "typo.yaml"
    policy.write_text(
        "version: 1\nname: typo\nlicenses:\n  alowed: [MIT]\nfail_on: severe\n", encoding="utf-8"
    )
    assert main(["check", LLAMA70, "--policy", str(policy)]) == 3
    out, err = capsys.readouterr()
    assert out == ""
    assert f"{policy}" in err
    assert "alowed" in err
    assert "allowed" in err
    assert "severe" in err


def test_sarif_from_the_cli_validates_and_carries_the_llama_findings(
    capsys: pytest.CaptureFixture[str], offline: None
) -> None:
    code = main(["check", LLAMA70, "--policy", "strict-commercial", "--format", "sarif"])
    sarif = json.loads(capsys.readouterr()[0])
    assert code == 1
    schema_path = Path(__file__).resolve().parents[1] / "data" / "schemas" / "sarif-schema-2.1.0.json"
    schema = json.loads(schema_path.read_text(encoding="utf-8"))
    errors = list(jsonschema.validators.validator_for(schema)(schema).iter_errors(sarif))
    assert errors == []
    results = sarif["runs"][0]["results"]
    gap = [r for r in results if r["ruleId"] == "license.declared-incomplete"]
    assert gap and gap[0]["level"] == "error"
    assert "meta-llama/Llama-3.3-70B-Instruct" in gap[0]["message"]["text"]


def test_edited_llama_license_is_reported_with_the_place_of_the_edit(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, offline: None
) -> None:
    folder = _release_folder(tmp_path, "Llama-3.3-acme-edited", notice=True, license_text=True)
    text = (folder / "LICENSE").read_text(encoding="utf-8")
    assert "700 million monthly active users" in text
    (folder / "LICENSE").write_text(
        text.replace("700 million monthly active users", "7 billion monthly active users"), encoding="utf-8"
    )
    line = next(i for i, row in enumerate(text.splitlines(), 1) if "700 million monthly active" in row)
    _code, report = check_json(capsys, str(folder), "--policy", "default")
    edited = rules(report)["license.text-modified"]
    assert edited[0]["location"] == f"LICENSE:{line}"
    assert "Llama 3.3" in edited[0]["message"]
    assert "§2" in edited[0]["message"]
    assert "7 billion" in edited[0]["message"] and "700 million" in edited[0]["message"]
    # the edited text is still the Llama 3.3 license for the copy duty; the edit is the finding
    assert obligations_of(report, "LicenseRef-llama3.3")["license_copy"]["met"] is True


def test_exact_license_copy_is_identified_in_a_scan(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    folder = tmp_path / "apache-model"
    folder.mkdir()
    shutil.copy(LICENSES / "apache-2.0.txt", folder / "LICENSE")
    (folder / "README.md").write_bytes(card({"license": "apache-2.0"}, "# m\n"))
    assert main(["scan", str(folder), "--no-lineage", "--format", "json"]) == 0
    report = json.loads(capsys.readouterr()[0])
    facts = [f for f in report["facts"] if f["kind"] == "license_file.LICENSE"]
    assert facts[0]["value"]["identified"]["license"] == "Apache-2.0"
    assert facts[0]["value"]["identified"]["kind"] == "exact"
    assert not [f for f in report["findings"] if f["rule_id"] == "license.text-modified"]


def _evidence_policy(tmp_path: Path, required: bool) -> str:
    policy = tmp_path / f"evidence-{required}.yaml"
    flag = "true" if required else "false"
    policy.write_text(f"version: 1\nevidence:\n  require_weights_metadata: {flag}\n", encoding="utf-8")
    return str(policy)


def test_gated_repo_gives_no_verdict_when_the_policy_requires_weights_metadata(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, hub: Any
) -> None:
    assert main(["check", "acme/gated-llama", "--policy", _evidence_policy(tmp_path, True)]) == 4
    out, err = capsys.readouterr()
    assert out == "" and "Traceback" not in err
    assert "gated repo" in err and "evidence.require_weights_metadata" in err
    assert "acme/gated-llama" in err
    # without the requirement the public metadata is judged: a verdict (0 or 1), never exit 4
    assert main(["check", "acme/gated-llama", "--policy", _evidence_policy(tmp_path, False)]) in (0, 1)
    _out, err = capsys.readouterr()
    assert "Traceback" not in err


def test_knowledge_base_only_gives_no_verdict_when_weights_metadata_is_required(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, offline: None
) -> None:
    assert main(["check", LLAMA70, "--policy", _evidence_policy(tmp_path, True)]) == 4
    out, err = capsys.readouterr()
    assert out == "" and "knowledge base" in err
    # without the requirement the knowledge base's facts are judged: a verdict with its report
    assert main(["check", LLAMA70, "--policy", _evidence_policy(tmp_path, False)]) == 1
    assert "LicenseRef-llama3.3" in capsys.readouterr().out


def test_evidence_key_typo_is_named_with_a_suggestion(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, offline: None
) -> None:
    policy = tmp_path / "typo.yaml"
    policy.write_text("version: 1\nevidence:\n  require_weight_metadata: yes\n", encoding="utf-8")
    assert main(["check", LLAMA70, "--policy", str(policy)]) == 3
    err = capsys.readouterr().err
    assert f"{policy}:3" in err and "require_weight_metadata" in err and "require_weights_metadata" in err
