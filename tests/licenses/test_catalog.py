"""The license catalog: the bundled entries (texts pinned by sha256, quotes found in their texts, what travels
along which relation), lookups by the names cards use, and validation of catalog files (every problem at once,
as `file:line: problem`)."""

from __future__ import annotations

import hashlib
import re
import shutil
from pathlib import Path

import pytest

from provenance.errors import PolicyError
from provenance.licenses import catalog as catalog_module
from provenance.licenses.catalog import (
    ACTIVITIES,
    DUTY_KINDS,
    INFO_KINDS,
    RELATIONS,
    RESTRICTION_KINDS,
    License,
    LicenseCatalog,
    default_catalog,
    load_catalog,
)
from provenance.model import Severity

REPO = Path(__file__).resolve().parents[2]
CATALOG_DIR = REPO / "policies" / "licenses"
WEIGHTS = ("finetune", "adapter", "quantized", "merge")

REQUIRED_IDS = (
    "MIT",
    "Apache-2.0",
    "CC-BY-4.0",
    "CC-BY-NC-4.0",
    "LicenseRef-llama2",
    "LicenseRef-llama2-aup",
    "LicenseRef-llama3",
    "LicenseRef-llama3-aup",
    "LicenseRef-llama3.1",
    "LicenseRef-llama3.1-aup",
    "LicenseRef-llama3.2",
    "LicenseRef-llama3.2-aup",
    "LicenseRef-llama3.3",
    "LicenseRef-llama3.3-aup",
    "LicenseRef-deepseek-license-1.0",
    "LicenseRef-qwen",
    "LicenseRef-qwen-research",
    "LicenseRef-tongyi-qianwen",
    "LicenseRef-gemma",
    "LicenseRef-gemma-prohibited-use-policy",
    "LicenseRef-creativeml-openrail-m",
    "LicenseRef-bigscience-openrail-m",
    "LicenseRef-bigscience-bloom-rail-1.0",
)


def _norm(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture(scope="module")
def cat() -> LicenseCatalog:
    return default_catalog()


def _entry(cat: LicenseCatalog, license_id: str) -> License:
    entry = cat.get(license_id)
    assert entry is not None, license_id
    return entry


def _by_kind(entry: License, kind: str) -> list[str]:
    return [o.id for o in entry.obligations if o.kind == kind]


def _one(entry: License, kind: str):  # type: ignore[no-untyped-def]
    found = [o for o in entry.obligations if o.kind == kind]
    assert len(found) == 1, (entry.id, kind, found)
    return found[0]


# --- the bundled catalog ------------------------------------------------------------------------------------


def test_bundled_catalog_has_every_required_license(cat: LicenseCatalog) -> None:
    assert set(REQUIRED_IDS) <= set(cat.ids())
    assert list(cat.ids()) == sorted(cat.ids(), key=str.lower)


def test_every_catalog_file_validates_and_default_matches_a_fresh_load(cat: LicenseCatalog) -> None:
    fresh = load_catalog(CATALOG_DIR)
    assert fresh.ids() == cat.ids()
    assert len(list(CATALOG_DIR.glob("*.yaml"))) == len(cat.licenses)
    assert _entry(cat, "LicenseRef-llama3.3").location == "policies/licenses/llama3.3.yaml"


def test_default_catalog_is_loaded_once() -> None:
    assert default_catalog() is default_catalog()


def test_every_bundled_text_matches_its_sha256(cat: LicenseCatalog) -> None:
    bundled = [e for e in cat.licenses if e.text.file]
    assert len(bundled) >= 19
    for entry in bundled:
        assert entry.text.file is not None
        data = (CATALOG_DIR / entry.text.file).read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry.text.sha256, entry.id
        assert entry.read_text() == data.decode("utf-8")


def test_every_quote_notice_and_marker_is_in_its_text(cat: LicenseCatalog) -> None:
    checked = 0
    for entry in cat.licenses:
        text = entry.read_text()
        if text is None:
            continue
        haystack = _norm(text)
        for obligation in entry.obligations:
            assert _norm(obligation.clause.quote) in haystack, obligation.id
            if obligation.notice_text:
                assert _norm(obligation.notice_text) in haystack, obligation.id
            checked += 1
        for marker in entry.markers:
            assert _norm(marker).casefold() in haystack.casefold(), (entry.id, marker)
    assert checked == sum(len(e.obligations) for e in cat.licenses if e.text.file) > 0


def test_clauses_only_entries_have_no_text_and_say_so(cat: LicenseCatalog) -> None:
    clauses_only = {e.id for e in cat.licenses if e.text.fidelity == "clauses-only"}
    assert {"LicenseRef-qwen", "CC-BY-NC-4.0", "LicenseRef-bigscience-openrail-m"} <= clauses_only
    for license_id in clauses_only:
        entry = _entry(cat, license_id)
        assert entry.text.file is None
        assert entry.text.sha256 is None
        assert entry.read_text() is None
        assert entry.text.source.startswith("clauses only")
        assert any("known clauses only" in note for note in entry.notes), license_id


def test_every_text_and_entry_is_accounted_for_in_the_manifest(cat: LicenseCatalog) -> None:
    manifest = (CATALOG_DIR / "MANIFEST.md").read_text(encoding="utf-8")
    for text_file in (CATALOG_DIR / "texts").glob("*.txt"):
        assert text_file.name in manifest, text_file.name
    for entry in cat.licenses:
        assert f"`{entry.id}`" in manifest, entry.id


def test_obligation_records_are_well_formed(cat: LicenseCatalog) -> None:
    for entry in cat.licenses:
        ids = [o.id for o in entry.obligations]
        assert len(ids) == len(set(ids))
        for obligation in entry.obligations:
            assert obligation.id.startswith(entry.id + "/")
            assert set(obligation.reaches) <= set(RELATIONS) and obligation.reaches
            assert set(obligation.when) <= set(ACTIVITIES) and obligation.when
            assert obligation.clause.quote
            expected = (
                "duty"
                if obligation.kind in DUTY_KINDS
                else "restriction"
                if obligation.kind in RESTRICTION_KINDS
                else "info"
            )
            assert obligation.kind in DUTY_KINDS | RESTRICTION_KINDS | INFO_KINDS
            assert obligation.category == expected
            if obligation.category != "info":
                assert obligation.action, obligation.id


def test_kind_vocabularies_do_not_overlap() -> None:
    assert not (DUTY_KINDS & RESTRICTION_KINDS)
    assert not (DUTY_KINDS & INFO_KINDS)
    assert not (RESTRICTION_KINDS & INFO_KINDS)


def test_incorporated_documents_are_use_policies(cat: LicenseCatalog) -> None:
    for entry in cat.licenses:
        for other in entry.incorporates:
            assert _entry(cat, other).kind == "use-policy", (entry.id, other)
    assert _entry(cat, "LicenseRef-llama3.3").incorporates == ("LicenseRef-llama3.3-aup",)
    assert _entry(cat, "LicenseRef-gemma").incorporates == ("LicenseRef-gemma-prohibited-use-policy",)


# --- lookups -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "license_name", "expected"),
    [
        ("llama3.3", None, "LicenseRef-llama3.3"),
        ("LLAMA3.3", None, "LicenseRef-llama3.3"),
        ("llama3.1", None, "LicenseRef-llama3.1"),
        ("llama3.2", None, "LicenseRef-llama3.2"),
        ("llama3", None, "LicenseRef-llama3"),
        ("llama2", None, "LicenseRef-llama2"),
        ("mit", None, "MIT"),
        ("MIT", None, "MIT"),
        ("apache-2.0", None, "Apache-2.0"),
        ("Apache-2.0", None, "Apache-2.0"),
        ("deepseek", None, "LicenseRef-deepseek-license-1.0"),
        ("gemma", None, "LicenseRef-gemma"),
        ("qwen-research", None, "LicenseRef-qwen-research"),
        ("other", "qwen-research", "LicenseRef-qwen-research"),
        ("other", "qwen", "LicenseRef-qwen"),
        ("other", "deepseek", "LicenseRef-deepseek-license-1.0"),
        ("other", "tongyi-qianwen", "LicenseRef-tongyi-qianwen"),
        ("OTHER", " Qwen-Research ", "LicenseRef-qwen-research"),
        ("other", "apache-2.0", "Apache-2.0"),
        ("other", "LicenseRef-gemma", "LicenseRef-gemma"),
        ("cc-by-nc-4.0", None, "CC-BY-NC-4.0"),
        ("cc-by-4.0", None, "CC-BY-4.0"),
        ("creativeml-openrail-m", None, "LicenseRef-creativeml-openrail-m"),
        ("bigscience-openrail-m", None, "LicenseRef-bigscience-openrail-m"),
        ("bigscience-bloom-rail-1.0", None, "LicenseRef-bigscience-bloom-rail-1.0"),
        ("LicenseRef-scancode-llama-3.3-license-2024", None, "LicenseRef-llama3.3"),
        ("llama-3.3-license-2024", None, "LicenseRef-llama3.3"),
        ("LicenseRef-scancode-deepseek-la-1.0", None, "LicenseRef-deepseek-license-1.0"),
        ("Llama 3.3 Community License", None, "LicenseRef-llama3.3"),
        ("licenseref-llama3.3", None, "LicenseRef-llama3.3"),
        (" mit ", None, "MIT"),
    ],
)
def test_lookup_of_declared_values(
    cat: LicenseCatalog, value: str, license_name: str | None, expected: str
) -> None:
    found = cat.lookup(value, license_name)
    assert found is not None
    assert found.id == expected


@pytest.mark.parametrize(
    ("value", "license_name"),
    [
        ("other", None),
        ("other", ""),
        ("other", "no-such-license"),
        ("other", "other"),
        ("gpl-9.0", None),
        ("", None),
        ("unknown", None),
    ],
)
def test_lookup_of_unknown_values_is_none(cat: LicenseCatalog, value: str, license_name: str | None) -> None:
    assert cat.lookup(value, license_name) is None


def test_get_is_by_id_only_and_case_insensitive(cat: LicenseCatalog) -> None:
    assert _entry(cat, "licenseref-GEMMA").id == "LicenseRef-gemma"
    assert cat.get("gemma") is None
    assert cat.get("LicenseRef-nothing") is None


def test_closest_suggests_ids_for_misspellings(cat: LicenseCatalog) -> None:
    assert "LicenseRef-llama3.3" in cat.closest("lama3.3")
    assert cat.closest("apache2.0")[0] == "Apache-2.0"
    assert len(cat.closest("llama", n=2)) <= 2
    assert cat.closest("zzzzzzzzzz") == []


def test_permission_reports_unknown_for_unlisted(cat: LicenseCatalog) -> None:
    qwen_research = _entry(cat, "LicenseRef-qwen-research")
    assert qwen_research.permission("commercial_use") == "false"
    assert _entry(cat, "MIT").permission("commercial_use") == "true"
    assert _entry(cat, "LicenseRef-llama3.3").permission("commercial_use") == "conditional"
    assert _entry(cat, "LicenseRef-llama3.3-aup").permission("commercial_use") == "unknown"
    assert qwen_research.permission("no_such_permission") == "unknown"


# --- what travels along which relation -----------------------------------------------------------------------


def test_mit_notice_reaches_weights_but_not_students(cat: LicenseCatalog) -> None:
    mit = _entry(cat, "MIT")
    notice = _one(mit, "retain_notices")
    assert set(notice.reaches) == {"self", *WEIGHTS}
    assert notice.when == ("distribution",)
    assert [o.kind for o in mit.obligations_along("distillation")] == ["distillation_permitted"]


def test_apache_duties_are_4a_to_4d_on_distribution(cat: LicenseCatalog) -> None:
    apache = _entry(cat, "Apache-2.0")
    sections = {o.kind: o.clause.section for o in apache.obligations if o.category == "duty"}
    assert sections == {
        "license_copy": "4(a)",
        "change_statement": "4(b)",
        "retain_notices": "4(c)",
        "notice_file": "4(d)",
    }
    for obligation in apache.obligations:
        assert "distillation" not in obligation.reaches
        if obligation.category == "duty":
            assert obligation.when == ("distribution",)
            assert set(obligation.reaches) <= {"self", *WEIGHTS}
    assert apache.obligations_along("distillation") == ()


@pytest.mark.parametrize("version", ["3.1", "3.2", "3.3"])
def test_llama_3x_duties(cat: LicenseCatalog, version: str) -> None:
    entry = _entry(cat, f"LicenseRef-llama{version}")
    naming = _one(entry, "naming")
    assert naming.prefix == "Llama"
    assert "distillation" in naming.reaches and "self" not in naming.reaches
    notice = _one(entry, "notice_file")
    assert notice.notice_text == (
        f"Llama {version} is licensed under the Llama {version} Community License, "
        "Copyright © Meta Platforms, Inc. All Rights Reserved."
    )
    mau = _one(entry, "mau_threshold")
    assert mau.threshold == 700_000_000
    assert "distillation" not in mau.reaches
    for kind in ("license_copy", "attribution_display", "acceptable_use"):
        assert "distillation" not in _one(entry, kind).reaches
    assert _by_kind(entry, "no_improving_other_llms") == []
    assert "Built with Llama" in _one(entry, "attribution_display").clause.quote
    assert entry.incorporates == (f"LicenseRef-llama{version}-aup",)


def test_original_llama3_forbids_improving_other_llms_through_outputs(cat: LicenseCatalog) -> None:
    llama3 = _entry(cat, "LicenseRef-llama3")
    ban = _one(llama3, "no_improving_other_llms")
    assert ban.reaches == ("distillation",)
    assert ban.when == ("any_use",)
    assert ban.category == "restriction"
    naming = _one(llama3, "naming")
    assert naming.prefix == "Llama 3"
    assert "distillation" not in naming.reaches


def test_llama2_forbids_improving_other_llms_and_has_no_naming_duty(cat: LicenseCatalog) -> None:
    llama2 = _entry(cat, "LicenseRef-llama2")
    assert _one(llama2, "no_improving_other_llms").reaches == ("distillation",)
    assert _by_kind(llama2, "naming") == []
    assert _by_kind(llama2, "attribution_display") == []


def test_qwen_research_is_non_commercial_along_weights(cat: LicenseCatalog) -> None:
    restriction = _one(_entry(cat, "LicenseRef-qwen-research"), "non_commercial")
    assert set(restriction.reaches) == {"self", *WEIGHTS}
    assert restriction.when == ("commercial_use",)
    assert restriction.severity is Severity.HIGH


def test_gemma_terms_reach_distilled_students(cat: LicenseCatalog) -> None:
    along = {o.kind for o in _entry(cat, "LicenseRef-gemma").obligations_along("distillation")}
    assert {
        "use_restrictions_flow_down",
        "license_copy",
        "notice_file",
        "acceptable_use",
        "derivatives_include_distillation",
    } <= along
    policy = _entry(cat, "LicenseRef-gemma-prohibited-use-policy")
    assert all("distillation" in o.reaches for o in policy.obligations)


def test_deepseek_use_restrictions_carry_over_to_students(cat: LicenseCatalog) -> None:
    deepseek = _entry(cat, "LicenseRef-deepseek-license-1.0")
    flow = _one(deepseek, "use_restrictions_flow_down")
    assert set(flow.reaches) == set(RELATIONS)
    assert "Attachment A" in {o.clause.section for o in deepseek.obligations_along("distillation")}


@pytest.mark.parametrize(
    "license_id", ["LicenseRef-creativeml-openrail-m", "LicenseRef-bigscience-openrail-m"]
)
def test_openrail_m_restrictions_flow_down_with_a_license_copy(cat: LicenseCatalog, license_id: str) -> None:
    entry = _entry(cat, license_id)
    assert entry.family == "openrail"
    assert "distillation" in _one(entry, "use_restrictions_flow_down").reaches
    assert "distillation" in _one(entry, "license_copy").reaches


def test_cc_licenses(cat: LicenseCatalog) -> None:
    by_nc = _one(_entry(cat, "CC-BY-NC-4.0"), "non_commercial")
    assert by_nc.when == ("commercial_use",)
    cc_by = _entry(cat, "CC-BY-4.0")
    assert {"retain_notices", "change_statement"} <= {o.kind for o in cc_by.obligations}
    assert _by_kind(cc_by, "non_commercial") == []


def test_qwen_2024_known_clauses(cat: LicenseCatalog) -> None:
    qwen = _entry(cat, "LicenseRef-qwen")
    assert _one(qwen, "commercial_requires_license").threshold == 100_000_000
    assert _one(qwen, "notice_file").notice_text.startswith(
        "Qwen is licensed under the Qwen LICENSE AGREEMENT"
    )
    assert "distillation" in _one(qwen, "attribution_display").reaches


# --- validation of catalog files -----------------------------------------------------------------------------

TEXT = "EXAMPLE LICENSE\n\nYou must keep this notice.\nNo warranty of any kind.\n"
VALID = """\
id: LicenseRef-example
name: Example License
version: "1"
family: other
kind: license
hub_ids: [example]
license_names: [example-license]
scancode_keys: []
aliases: ["The Example License"]
text:
  file: texts/example.txt
  sha256: {sha}
  source: "written for the tests"
  fidelity: exact
identification:
  markers: ["EXAMPLE LICENSE"]
incorporates: []
permissions:
  commercial_use: true
  distribution: conditional
notes: ["a note"]
obligations:
  - id: keep-notice
    kind: retain_notices
    summary: keep the notice
    action: Keep the notice.
    reaches: [self, finetune]
    when: [distribution]
    severity: medium
    clause:
      section: "1"
      quote: You must keep this notice.
"""


def _write(root: Path, name: str, body: str, text: str = TEXT) -> Path:
    (root / "texts").mkdir(exist_ok=True)
    (root / "texts" / "example.txt").write_text(text, encoding="utf-8")
    sha = hashlib.sha256(text.encode("utf-8")).hexdigest()
    path = root / name
    path.write_text(body.replace("{sha}", sha), encoding="utf-8")
    return path


def _problems(root: Path) -> list[str]:
    with pytest.raises(PolicyError) as excinfo:
        load_catalog(root)
    return excinfo.value.problems


def _line_of(body: str, fragment: str) -> int:
    for number, line in enumerate(body.splitlines(), start=1):
        if fragment in line:
            return number
    raise AssertionError(fragment)


def test_a_valid_file_loads(tmp_path: Path) -> None:
    _write(tmp_path, "example.yaml", VALID)
    loaded = load_catalog(tmp_path)
    entry = loaded.licenses[0]
    assert entry.id == "LicenseRef-example"
    assert entry.obligations[0].id == "LicenseRef-example/keep-notice"
    assert entry.obligations[0].severity is Severity.MEDIUM
    assert entry.permissions == (("commercial_use", "true"), ("distribution", "conditional"))
    assert entry.read_text() == TEXT
    assert entry.location == f"{tmp_path}/example.yaml"
    assert loaded.lookup("example") is entry and loaded.lookup("other", "example-license") is entry


@pytest.mark.parametrize(
    ("old", "new", "fragment", "expected"),
    [
        (
            "obligations:\n",
            "obligatons:\n",
            "obligatons:",
            "unknown key 'obligatons' (did you mean 'obligations'?)",
        ),
        ("    severity: medium", "    severty: medium", "severty:", "did you mean 'severity'?"),
        (
            "hub_ids: [example]",
            "hub_ids: example",
            "hub_ids:",
            "'hub_ids' must be a list of strings, not a string",
        ),
        (
            "    kind: retain_notices",
            "    kind: retain_notice",
            "kind: retain_notice",
            "unknown kind 'retain_notice' (did you mean 'retain_notices'?)",
        ),
        (
            "reaches: [self, finetune]",
            "reaches: [self, fine-tune]",
            "reaches:",
            "unknown relation 'fine-tune' (did you mean 'finetune'?)",
        ),
        (
            "when: [distribution]",
            "when: [distributing]",
            "when:",
            "unknown activity 'distributing' (did you mean 'distribution'?)",
        ),
        ("severity: medium", "severity: severe", "severity:", "unknown severity 'severe'"),
        ("family: other", "family: lama", "family:", "unknown family 'lama' (did you mean 'llama'?)"),
        (
            "kind: license\n",
            "kind: licence\n",
            "kind: licence",
            "unknown kind 'licence' (did you mean 'license'?)",
        ),
        (
            "quote: You must keep this notice.",
            "quote: You must keep that notice.",
            "quote:",
            "quote 'You must keep that notice.' is not in the license text",
        ),
        (
            'markers: ["EXAMPLE LICENSE"]',
            'markers: ["OTHER LICENSE"]',
            "markers:",
            "marker 'OTHER LICENSE' is not in the license text",
        ),
        ("fidelity: exact", "fidelity: perfect", "fidelity:", "unknown fidelity 'perfect'"),
        (
            "id: LicenseRef-example",
            "id: Example-1",
            "id: Example-1",
            "is not an SPDX license id; use 'LicenseRef-…'",
        ),
        (
            "id: LicenseRef-example",
            "id: licenseref-example",
            "id: licenseref",
            "must start with 'LicenseRef-'",
        ),
        (
            "  distribution: conditional",
            "  distribution: maybe",
            "distribution: maybe",
            "permission 'distribution' must be true, false or conditional",
        ),
        ("  distribution: conditional", "  distribute: true", "distribute:", "did you mean 'distribution'?"),
        (
            "incorporates: []",
            "incorporates: [LicenseRef-missing]",
            "incorporates:",
            "incorporates unknown license id 'LicenseRef-missing'",
        ),
        (
            "file: texts/example.txt",
            "file: ../example.txt",
            "file:",
            "must be 'texts/<name>.txt' inside the catalog folder",
        ),
        (
            "file: texts/example.txt",
            "file: texts/missing.txt",
            "file:",
            "text file 'texts/missing.txt' does not exist",
        ),
        (
            "    severity: medium",
            "    severity: medium\n    threshold: 5",
            "threshold:",
            "'threshold' is only for commercial_requires_license and mau_threshold",
        ),
        (
            "    severity: medium",
            "    severity: medium\n    prefix: Example",
            "prefix:",
            "'prefix' is only for naming clauses",
        ),
        (
            "    kind: retain_notices",
            "    kind: mau_threshold",
            "keep-notice",
            "a mau_threshold clause needs 'threshold'",
        ),
        ("    action: Keep the notice.\n", "", "keep-notice", "a retain_notices clause needs an 'action'"),
        ("reaches: [self, finetune]", "reaches: []", "reaches:", "must name at least one relation"),
        ('version: "1"', "version: 1", "version:", "'version' must be a string, not int"),
    ],
)
def test_each_problem_is_reported_with_file_and_line(
    tmp_path: Path, old: str, new: str, fragment: str, expected: str
) -> None:
    assert old in VALID
    body = VALID.replace(old, new, 1)
    _write(tmp_path, "example.yaml", body)
    problems = _problems(tmp_path)
    matching = [p for p in problems if expected in p]
    assert matching, problems
    assert matching[0].startswith(f"{tmp_path}/example.yaml:{_line_of(body, fragment)}: ")


def test_sha256_mismatch_names_the_digest(tmp_path: Path) -> None:
    _write(tmp_path, "example.yaml", VALID)
    (tmp_path / "texts" / "example.txt").write_text(TEXT + "edited\n", encoding="utf-8")
    problems = _problems(tmp_path)
    digest = hashlib.sha256((TEXT + "edited\n").encode()).hexdigest()
    assert any(f"sha256 of texts/example.txt is {digest}" in p for p in problems), problems
    assert problems[0].startswith(f"{tmp_path}/example.yaml:{_line_of(VALID, 'sha256:')}: ")


def test_every_problem_of_a_file_is_reported_at_once(tmp_path: Path) -> None:
    body = (
        VALID.replace("family: other", "family: lama")
        .replace("severity: medium", "severity: severe")
        .replace("obligations:\n", "obligatons:\n")
        .replace("hub_ids: [example]", "hub_ids: 3")
    )
    _write(tmp_path, "example.yaml", body)
    with pytest.raises(PolicyError) as excinfo:
        load_catalog(tmp_path)
    problems = excinfo.value.problems
    assert len(problems) >= 3
    assert f"{len(problems)} problems" in str(excinfo.value)
    assert excinfo.value.target == f"{tmp_path}/example.yaml"
    for problem in problems:
        assert re.match(rf"{re.escape(str(tmp_path))}/example\.yaml:\d+: ", problem), problem


def test_duplicate_ids_across_files(tmp_path: Path) -> None:
    _write(tmp_path, "a.yaml", VALID)
    second = (
        VALID.replace("hub_ids: [example]", "hub_ids: [example-two]")
        .replace("license_names: [example-license]", "license_names: []")
        .replace('aliases: ["The Example License"]', "aliases: []")
    )
    _write(tmp_path, "b.yaml", second)
    problems = _problems(tmp_path)
    assert problems == [
        f"{tmp_path}/b.yaml:{_line_of(second, 'id: LicenseRef')}: duplicate license id 'LicenseRef-example' "
        f"(also in {tmp_path}/a.yaml)"
    ]


def test_a_name_meaning_two_licenses_is_refused(tmp_path: Path) -> None:
    _write(tmp_path, "a.yaml", VALID)
    _write(tmp_path, "b.yaml", VALID.replace("LicenseRef-example", "LicenseRef-example-two"))
    problems = _problems(tmp_path)
    assert any("'example' already names LicenseRef-example" in p for p in problems), problems
    assert all(p.startswith(f"{tmp_path}/b.yaml:") for p in problems)


def test_problems_of_several_files_are_collected_together(tmp_path: Path) -> None:
    _write(tmp_path, "a.yaml", VALID.replace("family: other", "family: lama"))
    _write(
        tmp_path,
        "b.yaml",
        VALID.replace("LicenseRef-example", "LicenseRef-b")
        .replace("hub_ids: [example]", "hub_ids: []")
        .replace("license_names: [example-license]", "license_names: []")
        .replace('aliases: ["The Example License"]', "aliases: []")
        .replace("when: [distribution]", "when: [shipping]"),
    )
    with pytest.raises(PolicyError) as excinfo:
        load_catalog(tmp_path)
    assert excinfo.value.target == str(tmp_path)
    files = {p.split(":", 1)[0] for p in excinfo.value.problems}
    assert files == {f"{tmp_path}/a.yaml", f"{tmp_path}/b.yaml"}


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("a: &x 1\nb: *x\n", "YAML anchors are not allowed"),
        ("id: [unclosed\n", "invalid YAML"),
        ("", "the file is empty"),
        ("- a list\n", "a license entry is a mapping"),
        ("id: !!python/object:os.system x\n", "tag"),
    ],
)
def test_unreadable_yaml_is_a_policy_error_with_a_line(tmp_path: Path, body: str, expected: str) -> None:
    (tmp_path / "bad.yaml").write_text(body, encoding="utf-8")
    problems = _problems(tmp_path)
    assert len(problems) == 1
    assert expected in problems[0]
    assert re.match(rf"{re.escape(str(tmp_path))}/bad\.yaml:\d+", problems[0]), problems


def test_an_oversized_file_is_refused_before_parsing(tmp_path: Path) -> None:
    (tmp_path / "big.yaml").write_text("notes: [" + "x, " * 200_000 + "]\n", encoding="utf-8")
    problems = _problems(tmp_path)
    assert problems == [
        f"{tmp_path}/big.yaml:1: over {catalog_module.MAX_CATALOG_FILE_BYTES} bytes; not read"
    ]


def test_an_empty_or_missing_directory(tmp_path: Path) -> None:
    assert _problems(tmp_path) == [f"{tmp_path}: no license files (*.yaml) found"]
    with pytest.raises(PolicyError, match="not a directory"):
        load_catalog(tmp_path / "missing")


def test_a_copy_of_the_bundled_catalog_with_one_quote_edited_is_refused(tmp_path: Path) -> None:
    shutil.copytree(CATALOG_DIR, tmp_path / "licenses")
    target = tmp_path / "licenses" / "llama3.3.yaml"
    body = target.read_text(encoding="utf-8")
    edited = body.replace("include “Llama” at the beginning", "include “Meta” at the beginning", 1)
    assert edited != body
    target.write_text(edited, encoding="utf-8")
    problems = _problems(tmp_path / "licenses")
    assert len(problems) == 1
    assert "is not in the license text" in problems[0]
    assert problems[0].startswith(f"{tmp_path}/licenses/llama3.3.yaml:")


def test_an_invalid_incorporated_file_is_reported_once(tmp_path: Path) -> None:
    policy = (
        VALID.replace("LicenseRef-example", "LicenseRef-example-aup")
        .replace("kind: license\n", "kind: use-policy\n")
        .replace("hub_ids: [example]", "hub_ids: []")
        .replace("license_names: [example-license]", "license_names: []")
        .replace('aliases: ["The Example License"]', "aliases: []")
        .replace("family: other", "family: lama")
    )
    _write(tmp_path, "aup.yaml", policy)
    _write(
        tmp_path, "example.yaml", VALID.replace("incorporates: []", "incorporates: [LicenseRef-example-aup]")
    )
    problems = _problems(tmp_path)
    assert len(problems) == 1
    assert problems[0].startswith(f"{tmp_path}/aup.yaml:{_line_of(policy, 'family:')}: unknown family 'lama'")
