"""The NOTICE: what the effective licenses require, verbatim, and nothing they do not."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest
from outputs_support import (
    ATTRIBUTION_QUOTE,
    BASE,
    NOTICE_LINE,
    OUTPUT_NOTICE_LINE,
    TEACHER,
    Golden,
    apache_case,
    weights_case,
)

from provenance.licenses.catalog import default_catalog
from provenance.policy.command import evaluate
from provenance.report.notice import GENERATED_MARK, ScannedText, render_notice

LLAMA70 = "deepseek-ai/DeepSeek-R1-Distill-Llama-70B"
QWEN32 = "deepseek-ai/DeepSeek-R1-Distill-Qwen-32B"
MIT_TEXT = Path(__file__).resolve().parents[2] / "policies" / "licenses" / "texts" / "deepseek-r1-mit.txt"


def test_weights_license_notice_line_and_attribution_are_verbatim() -> None:
    case = weights_case()
    text = render_notice(case.evaluation, docs=case.docs, texts=())
    assert NOTICE_LINE in text.splitlines()
    # the phrase is the one quoted in the clause, not retyped
    assert "Built with Base" in ATTRIBUTION_QUOTE
    assert "Built with Base" in text.splitlines()
    assert case.docs["LicenseRef-base"].text.strip() in text
    # the incorporated policy has no bundled text: it is referenced by its source
    assert "ship a copy of https://example.org/aup" in text


def test_outputs_license_appears_only_with_a_notice_duty() -> None:
    case = weights_case()
    with_duty = render_notice(case.evaluation, docs=case.docs, texts=())
    assert OUTPUT_NOTICE_LINE in with_duty
    assert TEACHER in with_duty
    report = case.evaluation.report
    no_duty = replace(
        report, obligations=tuple(o for o in report.obligations if o.license_id != "LicenseRef-teacher")
    )
    text = render_notice(replace(case.evaluation, report=no_duty), docs=case.docs, texts=())
    assert "LicenseRef-teacher" not in text
    assert "TEACHER TEXT" not in text
    assert OUTPUT_NOTICE_LINE not in text


def test_no_line_for_an_obligation_that_was_not_triggered() -> None:
    case = weights_case()
    report = case.evaluation.report
    kept = tuple(o for o in report.obligations if o.kind not in {"notice_file", "attribution_display"})
    text = render_notice(
        replace(case.evaluation, report=replace(report, obligations=kept)), docs=case.docs, texts=()
    )
    assert NOTICE_LINE not in text
    assert "Built with Base" not in text


def test_apache_upstream_notice_is_carried_over_when_the_scan_read_one() -> None:
    case = apache_case()
    upstream = ScannedText("NOTICE", "Base 7B\nCopyright 2024 Upstream Inc. Attribution notice.\n")
    text = render_notice(case.evaluation, docs=case.docs, texts=(upstream,))
    assert "Copyright 2024 Upstream Inc. Attribution notice." in text
    assert "none read by this scan" not in text
    assert f"was made from {BASE} (finetune)" in text


def test_apache_without_upstream_notice_says_where_to_get_it() -> None:
    case = apache_case()
    text = render_notice(case.evaluation, docs=case.docs, texts=())
    assert f"Upstream NOTICE: none read by this scan. If {BASE} (https://huggingface.co/{BASE})" in text


def test_a_generated_notice_is_never_carried_into_itself() -> None:
    case = apache_case()
    ours = ScannedText("NOTICE", f"NOTICE\n{GENERATED_MARK} 0.1\nold content that must not come back\n")
    text = render_notice(case.evaluation, docs=case.docs, texts=(ours,))
    assert "old content that must not come back" not in text


def test_mit_copyright_comes_from_the_scanned_license_file() -> None:
    case = apache_case()
    scanned = ScannedText(
        "LICENSE", "MIT License\n\nCopyright (c) 2031 Widget Makers\n\nPermission…\n", "MIT"
    )
    text = render_notice(case.evaluation, docs=case.docs, texts=(scanned,))
    assert "Copyright (c) 2031 Widget Makers" in text.splitlines()
    assert "<holders>" not in text  # the scanned file replaces the catalog's template copy


def test_model_supplied_strings_are_data_not_templates() -> None:
    case = weights_case(child="acme/{{ 7 * 7 }}{% if true %}x{% endif %}")
    text = render_notice(case.evaluation, docs=case.docs, texts=())
    assert "acme/{{ 7 * 7 }}{% if true %}x{% endif %}" in text
    assert "acme/49" not in text


def _catalog_notice_lines(license_id: str) -> list[str]:
    entry = default_catalog().get(license_id)
    assert entry is not None
    return [o.notice_text for o in entry.obligations if o.notice_text]


def test_llama_distill_notice_holds_every_llama_attribution(offline: None) -> None:
    evaluation = evaluate(LLAMA70)
    text = render_notice(evaluation)
    weights = [e for e in evaluation.report.effective if e.reach in {"self", "weights"}]
    assert {e.license_id for e in weights} == {"MIT", "LicenseRef-llama3.3"}
    for e in weights:
        assert f"({e.license_id})" in text
    required = [o.notice_text for o in evaluation.report.obligations if o.notice_text]
    assert required, "the Llama 3.3 Notice line is triggered for distribution"
    assert set(required) <= set(_catalog_notice_lines("LicenseRef-llama3.3"))
    for line in required:
        assert line in text.splitlines()
    assert "Built with Llama" in text.splitlines()
    llama = default_catalog().get("LicenseRef-llama3.3")
    aup = default_catalog().get("LicenseRef-llama3.3-aup")
    assert llama is not None and aup is not None
    assert (llama.read_text() or "").rstrip() in text
    assert (aup.read_text() or "").rstrip() in text


def test_qwen_distill_notice_has_apache_and_nothing_of_llama(offline: None) -> None:
    evaluation = evaluate(QWEN32)
    text = render_notice(evaluation)
    assert "Llama" not in text
    assert "(Apache-2.0)" in text
    apache = default_catalog().get("Apache-2.0")
    assert apache is not None
    assert (apache.read_text() or "").rstrip() in text
    assert "Upstream NOTICE: none read by this scan. If Qwen/Qwen2.5-32B" in text
    # the teacher (DeepSeek-R1, MIT) reaches only through outputs and asks for nothing in a NOTICE
    assert "--distillation-->" not in text


def test_local_folder_notice_propagates_its_notice_and_copyright(offline: None, tmp_path: Path) -> None:
    folder = tmp_path / "acme-qwen"
    folder.mkdir()
    card = "---\nlicense: mit\nbase_model: Qwen/Qwen2.5-32B\nbase_model_relation: finetune\n---\n# Acme\n"
    (folder / "README.md").write_text(card, encoding="utf-8")
    mit = MIT_TEXT.read_text(encoding="utf-8").replace(
        "Copyright (c) 2023 DeepSeek", "Copyright (c) 2030 Acme"
    )
    (folder / "LICENSE").write_text(mit, encoding="utf-8")
    (folder / "NOTICE").write_text("Qwen upstream attribution notice, line one.\n", encoding="utf-8")
    text = render_notice(evaluate(str(folder)))
    assert "Copyright (c) 2030 Acme" in text.splitlines()
    assert "Copyright (c) 2023 DeepSeek" not in text
    assert "Qwen upstream attribution notice, line one." in text.splitlines()


@pytest.mark.parametrize("model", [LLAMA70, QWEN32])
def test_notice_golden(offline: None, golden: Golden, model: str) -> None:
    golden(f"{model.rsplit('/', maxsplit=1)[-1]}.NOTICE", render_notice(evaluate(model)))


@pytest.mark.parametrize("model", [LLAMA70, QWEN32])
def test_every_section_is_a_license_that_reaches_the_weights(offline: None, model: str) -> None:
    evaluation = evaluate(model)
    text = render_notice(evaluation)
    sections = re.findall(r"^\d+\. .+ \(([^()]+)\)$", text, flags=re.MULTILINE)
    weights = [e.license_id for e in evaluation.report.effective if e.reach in {"self", "weights"}]
    assert sorted(sections) == sorted(weights)
    appendices = re.findall(r"^Appendix [A-Z]\. .+ \(([^()]+)\)$", text, flags=re.MULTILINE)
    catalog = default_catalog()
    allowed = set(weights) | {
        i for w in weights for i in (catalog.get(w).incorporates if catalog.get(w) else ())
    }
    assert set(appendices) <= allowed
