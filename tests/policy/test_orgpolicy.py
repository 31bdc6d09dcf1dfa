"""Organisation policies: the format, validation (every problem at once, with file and line), bundled files,
and the behaviour the engine relies on (overrides, suppressions and their expiry, attestations, activities).

The checklist's "Policy files" cases are named in the test names and parameter ids."""

from __future__ import annotations

import datetime
import itertools
import json
import os
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from provenance.errors import InputError, PolicyError, TargetNotFoundError, UsageError
from provenance.model import Severity
from provenance.policy import orgpolicy
from provenance.policy.orgpolicy import IntendedUse, OrgPolicy, Suppression, parse_policy

CATALOG_IDS = (
    "MIT",
    "Apache-2.0",
    "CC-BY-4.0",
    "CC-BY-NC-4.0",
    "LicenseRef-llama2",
    "LicenseRef-llama3",
    "LicenseRef-llama3.1",
    "LicenseRef-llama3.2",
    "LicenseRef-llama3.3",
    "LicenseRef-deepseek-license-1.0",
    "LicenseRef-qwen",
    "LicenseRef-qwen-research",
    "LicenseRef-tongyi-qianwen",
    "LicenseRef-gemma",
    "LicenseRef-creativeml-openrail-m",
    "LicenseRef-bigscience-openrail-m",
    "LicenseRef-bigscience-bloom-rail-1.0",
)
TODAY = datetime.date(2026, 11, 29)

VALID = """\
version: 1
name: acme-product
description: Our chat product
intended_use: {commercial: true, distribution: public, hosted: true, expected_mau: 1000000}
licenses:
  allowed: [MIT, Apache-2.0, LicenseRef-llama3.3]
  denied: [LicenseRef-qwen-research, CC-BY-NC-4.0]
  unknown: high
attestations:
  required: [acceptable-use-reviewed, mau-below-700m]
  given: [mau-below-700m]
severity:
  llama.naming-prefix: critical
  "llama.*": high
  license.declared-incomplete: low
suppressions:
  - rule: license.declared-incomplete
    model: "acme/*"
    justification: legal review LGL-123
    expires: 2027-03-31
  - rule: "llama.*"
    license: LicenseRef-llama3.3
    justification: reviewed by legal, LGL-77
    expires: "2026-01-31"
fail_on: medium
"""


def parse(text: str, known: tuple[str, ...] = CATALOG_IDS, **kwargs: frozenset[str]) -> OrgPolicy:
    return parse_policy(text, "p.yaml", known, **kwargs)


def problems_of(text: str, known: tuple[str, ...] = CATALOG_IDS, **kwargs: frozenset[str]) -> list[str]:
    with pytest.raises(PolicyError) as caught:
        parse(text, known, **kwargs)
    return caught.value.problems


def one_problem(text: str, **kwargs: frozenset[str]) -> str:
    problems = problems_of(text, **kwargs)
    assert len(problems) == 1, problems
    return problems[0]


# --- a valid file ---------------------------------------------------------------------------------------------


def test_a_full_policy_is_read_into_typed_values() -> None:
    policy = parse(VALID)
    assert policy.name == "acme-product"
    assert policy.description == "Our chat product"
    assert policy.location == "p.yaml"
    assert policy.intended_use == IntendedUse(True, "public", True, 1_000_000)
    assert policy.allowed_licenses == ("MIT", "Apache-2.0", "LicenseRef-llama3.3")
    assert policy.denied_licenses == ("LicenseRef-qwen-research", "CC-BY-NC-4.0")
    assert policy.unknown_license is Severity.HIGH
    assert policy.required_attestations == ("acceptable-use-reviewed", "mau-below-700m")
    assert policy.attestations == ("mau-below-700m",)
    assert policy.severity_overrides == (
        ("llama.naming-prefix", Severity.CRITICAL),
        ("llama.*", Severity.HIGH),
        ("license.declared-incomplete", Severity.LOW),
    )
    assert policy.suppressions == (
        Suppression(
            "license.declared-incomplete",
            "acme/*",
            None,
            "legal review LGL-123",
            datetime.date(2027, 3, 31),
            17,
        ),
        Suppression(
            "llama.*",
            None,
            "LicenseRef-llama3.3",
            "reviewed by legal, LGL-77",
            datetime.date(2026, 1, 31),
            21,
        ),
    )
    assert policy.fail_on is Severity.MEDIUM


def test_only_version_is_required_and_the_rest_defaults_to_the_widest_use() -> None:
    policy = parse_policy("version: 1\n", "teams/ml.yaml")
    assert policy.name == "ml"  # from the file name
    assert policy.intended_use == IntendedUse(True, "public", True, None)
    assert policy.allowed_licenses is None
    assert policy.denied_licenses == ()
    assert policy.unknown_license is Severity.MEDIUM
    assert policy.required_attestations == policy.attestations == ()
    assert policy.severity_overrides == policy.suppressions == ()
    assert policy.fail_on is Severity.HIGH


def test_empty_lists_written_as_null_are_empty() -> None:
    policy = parse("version: 1\nlicenses:\n  denied:\nattestations:\n  required:\nsuppressions:\n")
    assert (policy.denied_licenses, policy.required_attestations, policy.suppressions) == ((), (), ())


def test_license_ids_are_matched_case_insensitively_and_written_canonically() -> None:
    policy = parse(
        "version: 1\nlicenses:\n  allowed: [mit, apache-2.0, licenseref-LLAMA3.3, LicenseRef-acme-own]\n"
    )
    assert policy.allowed_licenses == ("MIT", "Apache-2.0", "LicenseRef-llama3.3", "LicenseRef-acme-own")


def test_severity_names_are_case_insensitive() -> None:
    assert parse("version: 1\nfail_on: CRITICAL\n").fail_on is Severity.CRITICAL


def test_to_json_is_plain_json_with_every_setting() -> None:
    data = parse(VALID).to_json()
    assert json.loads(json.dumps(data)) == data
    assert data["licenses"] == {
        "allowed": ["MIT", "Apache-2.0", "LicenseRef-llama3.3"],
        "denied": ["LicenseRef-qwen-research", "CC-BY-NC-4.0"],
        "unknown": "high",
    }
    assert data["intended_use"]["activities"] == ["any_use", "commercial_use", "distribution", "hosted_use"]
    assert data["severity"][0] == {"rule": "llama.naming-prefix", "severity": "critical"}
    assert data["suppressions"][0]["expires"] == "2027-03-31"
    assert data["fail_on"] == "medium"
    assert parse("version: 1\n").to_json()["licenses"]["allowed"] is None


# --- checklist "Policy files": unknown keys -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "line", "expected"),
    [
        pytest.param(
            "version: 1\nalowed_licenses: [MIT]\n",
            2,
            "unknown key 'alowed_licenses' (did you mean 'licenses: {allowed: [...]}'?)",
            id="typo-alowed_licenses-top-level",
        ),
        pytest.param(
            "version: 1\nlicenses:\n  alowed: [MIT]\n",
            3,
            "unknown key 'alowed' in licenses (did you mean 'allowed'?)",
            id="typo-alowed-in-licenses",
        ),
        pytest.param(
            "version: 1\nfail-on: high\n",
            2,
            "unknown key 'fail-on' (did you mean 'fail_on'?)",
            id="dash-for-underscore",
        ),
        pytest.param(
            "version: 1\nintended_use:\n  comercial: true\n",
            3,
            "unknown key 'comercial' in intended_use (did you mean 'commercial'?)",
            id="typo-in-intended_use",
        ),
        pytest.param(
            "version: 1\nsuppressions:\n  - rule: a\n    justification: j\n    expires: 2027-01-01\n    expiry: 2027-01-01\n",
            6,
            "unknown key 'expiry' in suppressions[0] (did you mean 'expires'?)",
            id="typo-in-suppression",
        ),
        pytest.param(
            "version: 1\nzzz: 1\n", 2, "unknown key 'zzz' (expected one of: version, name,", id="no-close-key"
        ),
    ],
)
def test_unknown_key_is_an_error_naming_key_file_line_and_a_suggestion(
    text: str, line: int, expected: str
) -> None:
    assert one_problem(text).startswith(f"p.yaml:{line}: {expected}")


# --- checklist "Policy files": wrong type, unknown severity, duplicate key ------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "version: 1\nlicenses:\n  denied: MIT\n",
            "p.yaml:3: licenses.denied must be a list of license ids, not the string 'MIT' (write [MIT])",
            id="string-where-a-list-is-expected",
        ),
        pytest.param(
            "version: 1\nattestations:\n  required: {a: 1}\n",
            "p.yaml:3: attestations.required must be a list of attestation names, not a mapping",
            id="mapping-where-a-list-is-expected",
        ),
        pytest.param(
            "version: 1\nlicenses:\n  allowed: [MIT, 3]\n",
            "p.yaml:3: licenses.allowed[1] must be a license id, not 3",
            id="number-in-a-license-list",
        ),
        pytest.param(
            "version: 1\nintended_use:\n  commercial: maybe\n",
            "p.yaml:3: intended_use.commercial must be true or false, not the string 'maybe'",
            id="string-where-a-boolean-is-expected",
        ),
        pytest.param(
            "version: 1\nintended_use:\n  expected_mau: -5\n",
            "p.yaml:3: intended_use.expected_mau must be a whole number of monthly active users (or null), not -5",
            id="negative-mau",
        ),
        pytest.param(
            "version: 1\nintended_use:\n  expected_mau: true\n",
            "p.yaml:3: intended_use.expected_mau must be a whole number of monthly active users (or null), not true",
            id="boolean-mau",
        ),
        pytest.param(
            "version: 1\nintended_use: public\n",
            "p.yaml:2: intended_use must be a mapping with keys commercial, distribution, hosted, expected_mau, "
            "not the string 'public'",
            id="string-where-a-mapping-is-expected",
        ),
        pytest.param(
            "version: 1\nseverity: [high]\n",
            "p.yaml:2: severity must be a mapping of rule id (or glob) to severity, not a list",
            id="list-where-overrides-are-expected",
        ),
        pytest.param(
            "version: 1\nsuppressions: {rule: a}\n",
            "p.yaml:2: suppressions must be a list of suppressions, not a mapping",
            id="mapping-where-suppressions-are-expected",
        ),
        pytest.param(
            "version: 1\nname: ''\n",
            "p.yaml:2: name must be a non-empty string, not an empty string",
            id="empty-name",
        ),
        pytest.param(
            "version: 1\nfail_on: severe\n",
            "p.yaml:2: fail_on: unknown severity 'severe' (expected one of: info, low, medium, high, critical)",
            id="unknown-severity-fail_on",
        ),
        pytest.param(
            "version: 1\nlicenses:\n  unknown: 3\n",
            "p.yaml:3: licenses.unknown must be a severity (info, low, medium, high, critical), not 3",
            id="number-where-a-severity-is-expected",
        ),
        pytest.param(
            "version: 1\nseverity:\n  license.x: urgent\n",
            "p.yaml:3: severity.license.x: unknown severity 'urgent' (expected one of: info, low, medium, high, critical)",
            id="unknown-severity-override",
        ),
        pytest.param(
            "version: 1\nintended_use:\n  distribution: publik\n",
            "p.yaml:3: intended_use.distribution must be one of none, internal, public, not 'publik' (did you mean 'public'?)",
            id="unknown-distribution",
        ),
        pytest.param(
            "version: 1\nintended_use:\n  distribution: everyone\n",
            "p.yaml:3: intended_use.distribution must be one of none, internal, public, not 'everyone'",
            id="unknown-distribution-no-suggestion",
        ),
        pytest.param(
            "name: x\n", "p.yaml:1: missing key 'version' (write `version: 1` first)", id="missing-version"
        ),
        pytest.param(
            "version: 2\n",
            "p.yaml:1: unsupported version 2; this tool reads version 1",
            id="unsupported-version",
        ),
        pytest.param(
            "version: 1\nattestations:\n  required: [legal ok]\n",
            "p.yaml:3: 'legal ok' is not an attestation name (letters, digits, . _ -)",
            id="bad-attestation-name",
        ),
        pytest.param(
            "version: 1\nattestations:\n  required:\n    - a\n    - A\n",
            "p.yaml:5: attestations.required[1]: 'A' repeats attestations.required[0] (line 4)",
            id="attestation-listed-twice",
        ),
        pytest.param(
            "version: 1\nlicenses:\n  allowed: []\n",
            "p.yaml:3: licenses.allowed is empty, which allows no license; leave the key out to allow any license "
            "that is not denied",
            id="empty-allowed-list",
        ),
        pytest.param(
            "version: 1\nlicenses:\n  allowed: [MIT]\n  denied: [mit]\n",
            "p.yaml:4: MIT is both allowed and denied",
            id="allowed-and-denied",
        ),
    ],
)
def test_wrong_type_or_value_is_an_error_with_its_line(text: str, expected: str) -> None:
    assert one_problem(text) == expected


def test_duplicate_key_is_an_error_with_both_lines() -> None:
    problem = one_problem("version: 1\nfail_on: high\nname: x\nfail_on: low\n")
    assert problem.startswith("p.yaml:4:")
    assert "duplicate key 'fail_on' (first at line 2)" in problem


def test_duplicate_key_in_a_nested_mapping_is_an_error() -> None:
    problem = one_problem("version: 1\nlicenses:\n  denied: [MIT]\n  denied: [CC-BY-NC-4.0]\n")
    assert problem.startswith("p.yaml:4:")
    assert "duplicate key 'denied' (first at line 3)" in problem


def test_every_problem_is_reported_at_once_in_line_order() -> None:
    text = (
        "version: 1\n"  # 1
        "alowed_licenses: [MIT]\n"  # 2
        "intended_use: {commercial: maybe, distribution: publik}\n"  # 3
        "licenses:\n"  # 4
        "  denied: [Apache2]\n"  # 5
        "  unknown: severe\n"  # 6
        "suppressions:\n"  # 7
        "  - rule: license.x\n"  # 8
        "    expires: 2027-13-01\n"  # 9
        "fail_on: nope\n"  # 10
    )
    problems = problems_of(text)
    assert [int(p.split(":")[1]) for p in problems] == [2, 3, 3, 5, 6, 8, 9, 10]
    assert all(p.startswith("p.yaml:") for p in problems)
    with pytest.raises(PolicyError) as caught:
        parse(text)
    assert caught.value.exit_code == 3
    assert "docs/policies.md" in caught.value.diagnostics()


# --- checklist "Policy files": license ids ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("license_id", "closest"),
    [
        pytest.param("Apache2", "Apache-2.0", id="not-spdx-Apache2"),
        pytest.param("CC-BY-NC-4", "CC-BY-NC-4.0", id="not-spdx-CC-BY-NC-4"),
        pytest.param("GPL3", "GPL-3.0-only", id="not-spdx-GPL3"),
        pytest.param("bsd3", "BSD-3-Clause", id="not-spdx-bsd3"),
        pytest.param("llama3.3", "LicenseRef-llama3.3", id="catalog-id-without-prefix"),
    ],
)
def test_license_id_neither_spdx_nor_licenseref_lists_the_closest_ids(license_id: str, closest: str) -> None:
    problem = one_problem(f"version: 1\nlicenses:\n  denied:\n    - {license_id}\n")
    assert problem.startswith(
        f"p.yaml:4: licenses.denied[0]: {license_id!r} is neither an SPDX license id nor a LicenseRef-… id; closest: "
    )
    assert closest in problem.split("closest: ")[1].split(", ")


def test_misspelt_catalog_licenseref_is_an_error_naming_the_catalog_id() -> None:
    problem = one_problem("version: 1\nlicenses:\n  denied: [LicenseRef-qwen-reserch]\n")
    assert problem == (
        "p.yaml:3: licenses.denied[0]: 'LicenseRef-qwen-reserch' is not a known license id; "
        "did you mean 'LicenseRef-qwen-research'?"
    )


def test_an_organisations_own_licenseref_is_accepted() -> None:
    policy = parse("version: 1\nlicenses:\n  allowed: [LicenseRef-acme-internal-1.0]\n")
    assert policy.allowed_licenses == ("LicenseRef-acme-internal-1.0",)


def test_without_known_ids_a_catalog_licenseref_is_still_accepted_but_spdx_is_checked() -> None:
    assert parse(
        "version: 1\nlicenses:\n  denied: [LicenseRef-qwen-research]\n", known=()
    ).denied_licenses == ("LicenseRef-qwen-research",)
    assert "MIT" in problems_of("version: 1\nlicenses:\n  denied: [MTI]\n", known=())[0].split("closest: ")[
        1
    ].split(", ")


@pytest.mark.parametrize(
    "expression", ["MIT OR Apache-2.0", "MIT and/or GPL", "(MIT", "GPL-2.0 WITH Classpath"]
)
def test_license_expression_in_a_list_is_an_error_naming_the_field(expression: str) -> None:
    problem = one_problem(f"version: 1\nlicenses:\n  allowed: [MIT, '{expression}']\n")
    assert (
        problem
        == f"p.yaml:3: licenses.allowed[1]: {expression!r} is a license expression; list each license id on its own"
    )


def test_license_of_a_suppression_is_checked_too() -> None:
    text = "version: 1\nsuppressions:\n  - {rule: a, license: Apach, justification: j, expires: 2027-01-01}\n"
    problem = one_problem(text)
    assert problem.startswith("p.yaml:3: suppressions[0].license: 'Apach' is neither an SPDX license id")
    assert "Apache-2.0" in problem


# --- checklist "Policy files": the file itself ----------------------------------------------------------------


def test_policy_file_missing_is_target_not_found_exit_3(tmp_path: Path) -> None:
    with pytest.raises(TargetNotFoundError) as caught:
        orgpolicy.load_policy(tmp_path / "nope.yaml")
    assert caught.value.exit_code == 3
    assert str(caught.value) == f"{tmp_path / 'nope.yaml'}: policy file not found"
    assert isinstance(caught.value, FileNotFoundError)


def test_policy_file_under_a_file_is_not_found(tmp_path: Path) -> None:
    (tmp_path / "a").write_text("x")
    with pytest.raises(TargetNotFoundError):
        orgpolicy.load_policy(tmp_path / "a" / "p.yaml")


def test_policy_file_that_is_a_directory_is_a_clear_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError) as caught:
        orgpolicy.load_policy(tmp_path)
    assert str(caught.value) == f"{tmp_path}: is a directory, not a policy file"
    assert caught.value.exit_code == 3


def test_policy_file_that_is_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "p.yaml"
    os.mkfifo(fifo)
    with pytest.raises(InputError) as caught:
        orgpolicy.load_policy(fifo)
    assert "not a regular file" in str(caught.value)


@pytest.mark.parametrize(
    "content",
    ["", "\n\n", "# only a comment\n", "---\n"],
    ids=["zero-bytes", "blank", "comment", "bare-document"],
)
def test_policy_file_empty_is_a_policy_error(tmp_path: Path, content: str) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(content)
    with pytest.raises(PolicyError) as caught:
        orgpolicy.load_policy(path)
    assert caught.value.problems == [f"{path}:1: the policy file is empty"]
    assert caught.value.exit_code == 3


@pytest.mark.parametrize(
    "content",
    ["- MIT\n", "just text\n", "3\n"],
    ids=["top-level-list", "top-level-string", "top-level-number"],
)
def test_policy_that_is_not_a_mapping_is_a_policy_error(content: str) -> None:
    assert one_problem(content).startswith(
        "p.yaml:1: a policy is a mapping of keys (version, name, ...), not "
    )


def test_policy_file_not_utf8_is_a_policy_error_naming_line_and_offset(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_bytes(b"version: 1\ndescription: caf\xe9\n")
    with pytest.raises(PolicyError) as caught:
        orgpolicy.load_policy(path)
    assert caught.value.problems == [f"{path}:2: the policy file is not UTF-8 (invalid byte at offset 27)"]
    assert "UTF-8" in caught.value.diagnostics()


def test_policy_file_utf16_is_named_as_such(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_bytes("version: 1\n".encode("utf-16"))
    with pytest.raises(PolicyError) as caught:
        orgpolicy.load_policy(path)
    assert caught.value.problems == [f"{path}: the policy file is UTF-16; save it as UTF-8"]


def test_policy_file_with_utf8_bom_and_crlf_is_read(tmp_path: Path) -> None:
    path = tmp_path / "team.yaml"
    path.write_bytes(b"\xef\xbb\xbfversion: 1\r\nfail_on: low\r\n")
    policy = orgpolicy.load_policy(path)
    assert (policy.name, policy.location, policy.fail_on) == ("team", str(path), Severity.LOW)


def test_load_policy_passes_known_license_ids(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text("version: 1\nlicenses:\n  denied: [LicenseRef-qwen-reserch]\n")
    assert orgpolicy.load_policy(path).denied_licenses == ("LicenseRef-qwen-reserch",)  # no catalog: accepted
    with pytest.raises(PolicyError) as caught:
        orgpolicy.load_policy(path, CATALOG_IDS)
    assert caught.value.problems[0].startswith(f"{path}:3: licenses.denied[0]: 'LicenseRef-qwen-reserch'")


# --- checklist "Policy files": the hardened loader's protections (cases 39-42) --------------------------------


def test_policy_yaml_with_an_alias_is_rejected() -> None:
    problem = one_problem("version: 1\nx: &a [MIT]\nlicenses:\n  denied: *a\n")
    assert problem.startswith("p.yaml:2:")
    assert "anchors are not allowed" in problem


def test_policy_yaml_alias_bomb_is_rejected_before_construction() -> None:
    bomb = "version: 1\n" + "\n".join(
        ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
        + [f"{n}: &{n} [{','.join([f'*{p}'] * 9)}]" for p, n in zip("abcdefgh", "bcdefghi", strict=True)]
    )
    assert "anchors are not allowed" in one_problem(bomb)


@pytest.mark.parametrize(
    ("text", "tag"),
    [
        pytest.param(
            "version: 1\nname: !!python/object:os.system x\n", "!!python/object:os.system", id="python-object"
        ),
        pytest.param("version: 1\nname: !custom x\n", "!custom", id="local-tag"),
        pytest.param("version: 1\nlicenses: !!set {MIT: null}\n", "!!set", id="set"),
    ],
)
def test_policy_yaml_with_a_non_standard_tag_is_rejected_naming_it(text: str, tag: str) -> None:
    problem = one_problem(text)
    assert problem.startswith("p.yaml:")
    assert f"YAML tag {tag} is not allowed" in problem


def test_policy_yaml_oversize_text_is_rejected_before_parsing() -> None:
    text = "version: 1\ndescription: " + "x" * orgpolicy.MAX_POLICY_BYTES + "\n"
    assert "over the size cap" in one_problem(text)


def test_policy_file_oversize_is_rejected_with_a_bounded_read(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    with path.open("wb") as handle:
        handle.write(b"version: 1\n")
        handle.truncate(64 * 1024 * 1024)  # sparse: 64 MB that is never read
    with pytest.raises(PolicyError) as caught:
        orgpolicy.load_policy(path)
    assert caught.value.problems == [
        f"{path}: the policy file is over {orgpolicy.MAX_POLICY_BYTES} bytes; not parsed"
    ]


def test_policy_yaml_deep_nesting_is_rejected_without_recursion_error() -> None:
    assert "nesting too deep" in one_problem("version: 1\nseverity: " + "[" * 5000 + "]" * 5000 + "\n")


def test_policy_yaml_syntax_error_has_line_and_column() -> None:
    problem = one_problem("version: 1\nlicenses:\n  denied: [MIT\n")
    assert problem.startswith("p.yaml:")
    assert "invalid YAML" in problem


def test_policy_yaml_second_document_is_rejected() -> None:
    assert "second YAML document" in one_problem("version: 1\n---\nversion: 1\n")


# --- never a traceback -----------------------------------------------------------------------------------------

_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=False),
    st.text(max_size=12),
    st.sampled_from(
        [1, "MIT", "high", "public", "2027-01-01", "llama.*", "LicenseRef-x", "Apache2", "[", "*"]
    ),
)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                orgpolicy._TOP_KEYS + orgpolicy._SUPPRESSION_KEYS + orgpolicy._LICENSE_KEYS + ("zz",)
            ),
            inner,
            max_size=4,
        )
    ),
    max_leaves=12,
)
_DOCS = st.dictionaries(st.sampled_from((*orgpolicy._TOP_KEYS, "alowed", "x")), _VALUES, max_size=6)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_DOCS)
def test_any_yaml_document_gives_a_policy_or_a_policy_error_with_lines(doc: dict[str, object]) -> None:
    text = yaml.safe_dump(doc, sort_keys=False)
    try:
        policy = parse(text)
    except PolicyError as exc:
        assert exc.problems
        assert all(p.startswith("p.yaml:") for p in exc.problems)
    else:
        assert json.loads(json.dumps(policy.to_json())) == policy.to_json()


# --- suppressions ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        pytest.param(
            "{rule: a, expires: 2027-01-01}",
            "p.yaml:3: suppressions[0] is missing 'justification' (every suppression needs rule, justification and expires)",
            id="without-justification",
        ),
        pytest.param(
            "{rule: a, justification: '  ', expires: 2027-01-01}",
            "p.yaml:3: suppressions[0].justification must be a non-empty string, not the string '  '",
            id="blank-justification",
        ),
        pytest.param(
            "{rule: a, justification: j}",
            "p.yaml:3: suppressions[0] is missing 'expires' (every suppression needs rule, justification and expires)",
            id="without-expiry",
        ),
        pytest.param(
            "{justification: j, expires: 2027-01-01}",
            "p.yaml:3: suppressions[0] is missing 'rule' (every suppression needs rule, justification and expires)",
            id="without-rule",
        ),
        pytest.param(
            "{rule: a, justification: j, expires: 2027-13-01}",
            "p.yaml:3: suppressions[0].expires must be a date written YYYY-MM-DD, not '2027-13-01'",
            id="bad-date-month-13",
        ),
        pytest.param(
            "{rule: a, justification: j, expires: next year}",
            "p.yaml:3: suppressions[0].expires must be a date written YYYY-MM-DD, not 'next year'",
            id="bad-date-words",
        ),
        pytest.param(
            "{rule: a, justification: j, expires: 20270101}",
            "p.yaml:3: suppressions[0].expires must be a date written YYYY-MM-DD, not 20270101",
            id="bad-date-number",
        ),
        pytest.param(
            "{rule: a, justification: j, expires: 2027-01-01 10:00:00}",
            "p.yaml:3: suppressions[0].expires must be a date written YYYY-MM-DD, not '2027-01-01 10:00:00'",
            id="bad-date-with-time",
        ),
        pytest.param(
            "{rule: 'a b', justification: j, expires: 2027-01-01}",
            "p.yaml:3: 'a b' is not a rule id or glob (e.g. license.declared-incomplete, llama.*)",
            id="bad-rule",
        ),
        pytest.param(
            "not-a-mapping",
            "p.yaml:3: suppressions[0] must be a mapping with rule, justification and expires, not the string 'not-a-mapping'",
            id="not-a-mapping",
        ),
    ],
)
def test_invalid_suppression_is_an_error(entry: str, expected: str) -> None:
    assert one_problem(f"version: 1\nsuppressions:\n  - {entry}\n") == expected


def test_suppression_matches_rule_glob_model_glob_and_license() -> None:
    policy = parse(VALID)
    first, second = policy.suppressions
    assert policy.suppression_for("license.declared-incomplete", "acme/chat-7b", None, TODAY) == first
    assert policy.suppression_for("license.declared-incomplete", "other/chat-7b", None, TODAY) is None
    assert policy.suppression_for("license.other", "acme/chat-7b", None, TODAY) is None
    early = datetime.date(2026, 1, 1)
    assert policy.suppression_for("llama.naming-prefix", "anyone/x", "licenseref-llama3.3", early) == second
    assert policy.suppression_for("llama.naming-prefix", "anyone/x", "LicenseRef-llama3.1", early) is None
    assert policy.suppression_for("llama.naming-prefix", "anyone/x", None, early) is None


def test_suppression_applies_through_its_expiry_day_and_not_after() -> None:
    policy = parse(VALID)
    expires = datetime.date(2027, 3, 31)
    rule, model = "license.declared-incomplete", "acme/m"
    assert policy.suppression_for(rule, model, None, expires) is not None
    assert policy.suppression_for(rule, model, None, expires + datetime.timedelta(days=1)) is None


def test_expired_suppressions_are_listed_so_they_become_findings() -> None:
    policy = parse(VALID)
    assert [s.rule for s in policy.expired_suppressions(TODAY)] == ["llama.*"]
    assert policy.expired_suppressions(datetime.date(2026, 1, 31)) == ()
    assert len(policy.expired_suppressions(datetime.date(2027, 4, 1))) == 2
    assert policy.suppression_for("llama.naming-prefix", "x/y", "LicenseRef-llama3.3", TODAY) is None


def test_first_matching_suppression_wins() -> None:
    text = (
        "version: 1\nsuppressions:\n"
        "  - {rule: 'license.*', justification: first, expires: 2027-01-01}\n"
        "  - {rule: license.x, justification: second, expires: 2027-01-01}\n"
    )
    found = parse(text).suppression_for("license.x", "m", None, TODAY)
    assert found is not None
    assert (found.justification, found.line) == ("first", 3)


# --- severity overrides ----------------------------------------------------------------------------------------


def test_severity_for_uses_the_first_matching_override_in_file_order() -> None:
    policy = parse(VALID)
    assert policy.severity_for("llama.naming-prefix", Severity.LOW) is Severity.CRITICAL
    assert policy.severity_for("llama.built-with", Severity.LOW) is Severity.HIGH
    assert policy.severity_for("license.declared-incomplete", Severity.HIGH) is Severity.LOW
    assert policy.severity_for("license.notice", Severity.MEDIUM) is Severity.MEDIUM


def test_override_shadowed_by_an_earlier_glob_is_an_error() -> None:
    problem = one_problem("version: 1\nseverity:\n  'llama.*': high\n  llama.naming-prefix: low\n")
    assert problem == (
        "p.yaml:4: the override for 'llama.naming-prefix' never applies: 'llama.*' above it matches first "
        "(list specific rules before globs)"
    )


def test_with_known_rule_ids_an_override_or_suppression_matching_no_rule_is_an_error() -> None:
    rules = frozenset({"llama.naming-prefix", "license.declared-incomplete"})
    text = (
        "version: 1\nseverity:\n  llama.naming-prefx: high\n  'llama.*': low\n"
        "suppressions:\n  - {rule: license.nope, justification: j, expires: 2027-01-01}\n"
    )
    assert problems_of(text, known_rule_ids=rules) == [
        "p.yaml:3: 'llama.naming-prefx' matches no rule; did you mean 'llama.naming-prefix'?",
        "p.yaml:6: 'license.nope' matches no rule",
    ]
    assert parse(text).severity_for("llama.x", Severity.INFO) is Severity.LOW  # without known rules: accepted


# --- attestations, licenses -----------------------------------------------------------------------------------


def test_with_attestations_adds_the_given_ones_once_and_keeps_the_policy_frozen() -> None:
    policy = parse(VALID)
    assert policy.missing_attestations() == ("acceptable-use-reviewed",)
    more = policy.with_attestations(["acceptable-use-reviewed", " mau-below-700m ", ""])
    assert more.attestations == ("mau-below-700m", "acceptable-use-reviewed")
    assert more.missing_attestations() == ()
    assert policy.attestations == ("mau-below-700m",)
    assert more.required_attestations == policy.required_attestations


def test_allows_and_denies_compare_ids_case_insensitively() -> None:
    policy = parse(VALID)
    assert policy.denies("licenseref-qwen-research")
    assert not policy.allows("LicenseRef-qwen-research")
    assert policy.allows("mit")
    assert not policy.allows("LicenseRef-gemma")  # not on the allowed list
    open_policy = parse("version: 1\nlicenses:\n  denied: [CC-BY-NC-4.0]\n")
    assert open_policy.allows("LicenseRef-gemma")
    assert not open_policy.allows("cc-by-nc-4.0")


# --- intended use ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("commercial", "distribution", "hosted"),
    list(itertools.product([False, True], ["none", "internal", "public"], [False, True])),
)
def test_activities_follow_the_intended_use(commercial: bool, distribution: str, hosted: bool) -> None:
    text = f"version: 1\nintended_use: {{commercial: {str(commercial).lower()}, distribution: {distribution}, hosted: {str(hosted).lower()}}}\n"
    activities = parse(text).intended_use.activities()
    assert "any_use" in activities
    assert ("distribution" in activities) == (distribution == "public")  # internal is not to third parties
    assert ("hosted_use" in activities) == hosted
    assert ("commercial_use" in activities) == commercial
    assert len(activities) == 1 + (distribution == "public") + hosted + commercial


def test_intended_use_to_json() -> None:
    use = IntendedUse(commercial=False, distribution="internal", hosted=False, expected_mau=None)
    assert use.to_json() == {
        "commercial": False,
        "distribution": "internal",
        "hosted": False,
        "expected_mau": None,
        "activities": ["any_use"],
    }


# --- bundled policies ----------------------------------------------------------------------------------------------


def test_the_three_bundled_policies_are_listed() -> None:
    assert {"default", "strict-commercial", "research-only"} <= set(orgpolicy.bundled_policy_names())


@pytest.mark.parametrize("name", ["default", "strict-commercial", "research-only"])
def test_bundled_policy_loads_and_uses_only_catalog_ids(name: str) -> None:
    policy = orgpolicy.bundled_policy(name)
    assert (policy.name, policy.location) == (name, f"builtin:{name}")
    assert policy.description
    assert set(policy.allowed_licenses or ()) | set(policy.denied_licenses) <= set(CATALOG_IDS)
    assert policy.suppressions == ()
    # validated again with the catalog ids, so a misspelt LicenseRef would fail here
    text = (Path(__file__).parents[2] / "policies" / f"{name}.yaml").read_text("utf-8")
    assert parse_policy(text, f"builtin:{name}", CATALOG_IDS) == policy


def test_default_policy_assumes_the_widest_use_and_fails_on_high() -> None:
    policy = orgpolicy.default_policy()
    assert policy == orgpolicy.bundled_policy("default")
    assert policy.intended_use == IntendedUse(True, "public", True, None)
    assert policy.allowed_licenses is None
    assert policy.denied_licenses == ()
    assert policy.fail_on is Severity.HIGH
    assert policy.required_attestations == ()


def test_strict_commercial_denies_research_licenses_and_requires_review() -> None:
    policy = orgpolicy.bundled_policy("strict-commercial")
    use = policy.intended_use
    assert (use.commercial, use.distribution, use.hosted) == (True, "public", True)
    assert use.expected_mau is not None
    assert use.expected_mau < 700_000_000
    assert {"LicenseRef-qwen-research", "CC-BY-NC-4.0"} <= set(policy.denied_licenses)
    assert not policy.allows("LicenseRef-qwen-research")
    assert policy.allows("LicenseRef-llama3.3")
    assert policy.allows("Apache-2.0")
    assert not policy.allows("GPL-3.0-only")  # not reviewed: not on the allowed list
    assert policy.unknown_license is Severity.HIGH
    assert "acceptable-use-reviewed" in policy.missing_attestations()
    assert policy.fail_on <= Severity.MEDIUM


def test_research_only_is_non_commercial_internal_and_accepts_research_licenses() -> None:
    policy = orgpolicy.bundled_policy("research-only")
    assert policy.intended_use == IntendedUse(False, "internal", False, None)
    assert policy.intended_use.activities() == frozenset({"any_use"})
    assert policy.allows("LicenseRef-qwen-research")
    assert policy.allows("CC-BY-NC-4.0")


def test_unknown_bundled_policy_is_a_usage_error_listing_the_names() -> None:
    with pytest.raises(UsageError) as caught:
        orgpolicy.bundled_policy("strict")
    assert "strict-commercial" in str(caught.value)
    assert caught.value.exit_code == 2


def test_the_example_in_docs_policies_md_is_a_valid_policy() -> None:
    doc = (Path(__file__).parents[2] / "docs" / "policies.md").read_text("utf-8")
    example = doc.split("```yaml\n", 1)[1].split("```", 1)[0]
    policy = parse(example)
    assert policy.name == "acme-chat"
    assert policy.suppressions[0].license == "LicenseRef-llama3.3"
