"""License identification: texts (exact, normalised, near with edit locations), Hub ids, SPDX expressions."""

from __future__ import annotations

import codecs
import json
import pathlib
import re
import time
from dataclasses import dataclass, field

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from provenance.errors import MalformedFileError
from provenance.licenses.catalog import LicenseCatalog, default_catalog
from provenance.licenses.identify import (
    AFTER_LICENSE,
    BEFORE_LICENSE,
    MAX_INPUT_CHARS,
    NEAR_THRESHOLD,
    ReferenceText,
    TextMatch,
    identify_declared,
    identify_text,
    parse_expression,
    reference_texts,
)
from provenance.readers.textfiles import read_license_file

TEXTS = pathlib.Path(__file__).resolve().parents[2] / "policies" / "licenses" / "texts"
LLAMA_SIBLINGS = (
    "LicenseRef-llama3.1",
    "LicenseRef-llama3.2",
    "LicenseRef-llama3.3",
    "LicenseRef-llama3.1-aup",
    "LicenseRef-llama3.2-aup",
    "LicenseRef-llama3.3-aup",
)
# The smallest gap measured between a Llama 3.x text and its closest sibling is 0.0101 (3.2 vs 3.3
# community license, docs/license-identification.md); a variant must keep about half of it.
SIBLING_MARGIN = 0.005
LLAMA33_CLAUSE_2 = (
    "you must request a license from Meta, which Meta may grant to you in its sole discretion, "
    "and you are not authorized to exercise"
)


@pytest.fixture(scope="module")
def catalog() -> LicenseCatalog:
    return default_catalog()


@pytest.fixture(scope="module")
def references(catalog: LicenseCatalog) -> tuple[ReferenceText, ...]:
    return reference_texts(catalog)


def _reference(references: tuple[ReferenceText, ...], license_id: str) -> ReferenceText:
    return next(r for r in references if r.license_id == license_id)


def _line_of(text: str, fragment: str) -> int:
    return next(i for i, line in enumerate(text.split("\n"), 1) if fragment in line)


def _plain(markdown: str) -> str:
    """The text as a Markdown renderer would show it: links as their text, no emphasis, no escapes."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", markdown)
    return text.replace("**", "").replace("\\", "")


def _runner_up(match: TextMatch) -> float:
    return max((s for i, s in match.candidates if i != match.license_id), default=0.0)


# --- every known text, and the Llama siblings


def test_the_catalog_ships_the_shared_texts(references: tuple[ReferenceText, ...]) -> None:
    assert len(list(TEXTS.glob("*.txt"))) >= 19
    ids = {r.license_id for r in references}
    assert {*LLAMA_SIBLINGS, "Apache-2.0", "MIT", "LicenseRef-llama2", "LicenseRef-qwen-research"} <= ids


@pytest.mark.parametrize("path", sorted(TEXTS.glob("*.txt")), ids=lambda p: p.name)
def test_every_bundled_text_file_identifies_as_its_license(
    catalog: LicenseCatalog, references: tuple[ReferenceText, ...], path: pathlib.Path
) -> None:
    text = path.read_text(encoding="utf-8")
    owners = {lic.id for lic in catalog.licenses if lic.text.file == f"texts/{path.name}"}
    owners |= {r.license_id for r in references if r.text == text}
    match = identify_text(text, references)
    assert match.kind == "exact"
    assert match.license_id in owners
    assert match.candidates[0] == (match.license_id, 1.0)
    assert _runner_up(match) < 1.0


@pytest.mark.parametrize("license_id", LLAMA_SIBLINGS)
def test_llama_versions_are_told_apart_when_reformatted(
    references: tuple[ReferenceText, ...], license_id: str
) -> None:
    reformatted = " ".join(_plain(_reference(references, license_id).text).split()).upper()
    match = identify_text(reformatted, references)
    assert (match.kind, match.license_id) == ("normalised", license_id)
    assert match.similarity - _runner_up(match) >= SIBLING_MARGIN


def test_an_edited_llama32_is_near_llama32_not_its_sibling(references: tuple[ReferenceText, ...]) -> None:
    text = _reference(references, "LicenseRef-llama3.2").text
    edited = text.replace("700 million monthly active users", "100 million monthly active users")
    assert edited != text
    match = identify_text(edited, references)
    assert (match.kind, match.license_id) == ("near", "LicenseRef-llama3.2")
    assert match.similarity - _runner_up(match) >= SIBLING_MARGIN


# --- exact and normalised


def test_crlf_newlines_and_a_trailing_newline_are_still_exact(references: tuple[ReferenceText, ...]) -> None:
    text = _reference(references, "Apache-2.0").text.replace("\n", "\r\n") + "\r\n\r\n"
    match = identify_text(text, references)
    assert (match.kind, match.license_id, match.similarity) == ("exact", "Apache-2.0", 1.0)


def test_a_utf16_license_file_read_by_the_reader_is_exact(references: tuple[ReferenceText, ...]) -> None:
    text = _reference(references, "LicenseRef-llama3.3").text
    data = codecs.BOM_UTF16_LE + text.replace("\n", "\r\n").encode("utf-16-le")
    match = identify_text(read_license_file(data, "LICENSE").text, references)
    assert (match.kind, match.license_id) == ("exact", "LicenseRef-llama3.3")


@pytest.mark.parametrize(
    "transform",
    [
        pytest.param(lambda t: " ".join(t.split()), id="reflowed"),
        pytest.param(lambda t: t.replace('"', "“").replace("'", "’"), id="curly-quotes"),
        pytest.param(lambda t: t.lower(), id="lower-case"),
        pytest.param(lambda t: re.sub(r"(?m)^   ([0-9]+)\. ", r"## \1. ", t), id="markdown-headings"),
        pytest.param(lambda t: re.sub(r"(?m)^(\s+)\(([a-d])\)", r"\1- (\2)", t), id="bullets"),
    ],
)
def test_apache_reformatted_is_normalised(references: tuple[ReferenceText, ...], transform: object) -> None:
    text = _reference(references, "Apache-2.0").text
    changed = transform(text)  # type: ignore[operator]
    assert changed != text
    match = identify_text(changed, references)
    assert (match.kind, match.license_id, match.similarity, match.edits) == (
        "normalised",
        "Apache-2.0",
        1.0,
        (),
    )


def test_markdown_stripped_llama33_is_normalised(references: tuple[ReferenceText, ...]) -> None:
    text = _plain(_reference(references, "LicenseRef-llama3.3").text)
    match = identify_text(text, references)
    assert (match.kind, match.license_id) == ("normalised", "LicenseRef-llama3.3")


def test_copyright_years_and_holders_are_a_template(references: tuple[ReferenceText, ...]) -> None:
    mit = _reference(references, "MIT").text
    ours = re.sub(
        r"(?m)^Copyright.*$", "Copyright (c) 2019-2025 The Example Authors\nCopyright 2018 Other", mit
    )
    assert ours != mit
    assert identify_text(ours, references).kind == "normalised"
    apache = _reference(references, "Apache-2.0").text
    filled = apache.replace("Copyright [yyyy] [name of copyright owner]", "Copyright 2024 Alibaba Cloud")
    assert filled != apache
    match = identify_text(filled, references)
    assert (match.kind, match.license_id) == ("normalised", "Apache-2.0")


def test_a_changed_word_in_the_mit_body_is_not_normalised(references: tuple[ReferenceText, ...]) -> None:
    mit = _reference(references, "MIT").text
    edited = mit.replace("WITHOUT WARRANTY OF ANY KIND", "WITH A WARRANTY OF ANY KIND")
    match = identify_text(edited, references)
    assert (match.kind, match.license_id) == ("near", "MIT")
    assert [e.found for e in match.edits] and "WITH A WARRANTY" in match.edits[0].found


# --- near, with where the text was edited


def test_llama33_with_the_700m_clause_edited_is_near_and_names_section_2(
    references: tuple[ReferenceText, ...],
) -> None:
    text = _reference(references, "LicenseRef-llama3.3").text
    edited = text.replace(
        LLAMA33_CLAUSE_2, "you may continue without a license from Meta and you are authorized to use"
    )
    assert edited != text
    match = identify_text(edited, references)
    assert (match.kind, match.license_id) == ("near", "LicenseRef-llama3.3")
    assert match.edited
    assert 0.98 <= match.similarity < 1.0
    assert len(match.edits) == 1
    edit = match.edits[0]
    assert edit.section == "2. Additional Commercial Terms"
    assert edit.line == _line_of(edited, "you may continue without")
    assert "must request a license" in edit.expected
    assert "may continue without" in edit.found
    assert match.similarity - _runner_up(match) >= SIBLING_MARGIN


def test_an_edit_in_a_subclause_names_the_subclause(references: tuple[ReferenceText, ...]) -> None:
    text = _reference(references, "LicenseRef-llama3.3").text
    edited = text.replace("prominently display “Built with Llama”", "display “Powered by us”")
    assert edited != text
    match = identify_text(edited, references)
    assert match.kind == "near"
    assert [(e.section, e.line) for e in match.edits] == [("1.b.i", _line_of(edited, "Powered by us"))]


@pytest.mark.parametrize(
    ("license_id", "old", "new", "section"),
    [
        (
            "Apache-2.0",
            "then any Derivative Works that You distribute must",
            "then Derivative Works may",
            "4.d",
        ),
        ("LicenseRef-gemma", "You must provide all third party", "You may provide some third party", "3.1.2"),
        (
            "LicenseRef-qwen-research",
            "If you are commercially using the Materials, you shall request a license from us.",
            "You may use the Materials commercially.",
            "2.b",
        ),
        ("LicenseRef-llama3.1-aup", "Guns and illegal weapons", "Toy weapons", "2.2"),
    ],
)
def test_edits_name_the_clause_in_each_heading_style(
    references: tuple[ReferenceText, ...], license_id: str, old: str, new: str, section: str
) -> None:
    text = _reference(references, license_id).text
    assert old in text
    edited = text.replace(old, new, 1)
    match = identify_text(edited, references)
    assert (match.kind, match.license_id) == ("near", license_id)
    assert [(e.section, e.line) for e in match.edits] == [(section, _line_of(edited, new))]


def test_a_removed_clause_is_an_edit_with_nothing_found(references: tuple[ReferenceText, ...]) -> None:
    text = _reference(references, "LicenseRef-llama3.1").text
    clause = next(line for line in text.split("\n") if "integrated end user product" in line)
    edited = text.replace(clause, "")
    match = identify_text(edited, references)
    assert (match.kind, match.license_id) == ("near", "LicenseRef-llama3.1")
    assert len(match.edits) == 1
    assert match.edits[0].section == "1.b.ii"
    assert match.edits[0].found == ""
    assert "If you receive Llama Materials" in match.edits[0].expected


def test_text_around_a_license_is_reported_as_extra(references: tuple[ReferenceText, ...]) -> None:
    apache = _reference(references, "Apache-2.0").text
    header = "Acme Tiny LLM\nCopyright 2025 Acme Corp.\nThe weights are released under the license below.\n\n"
    match = identify_text(header + apache, references)
    assert (match.kind, match.license_id, match.edits) == ("normalised", "Apache-2.0", ())
    assert [(e.section, e.line) for e in match.extra] == [(BEFORE_LICENSE, 1)]
    assert "The weights are released" in match.extra[0].found


def test_an_appended_use_policy_is_extra_and_also_identified(references: tuple[ReferenceText, ...]) -> None:
    licence = _reference(references, "LicenseRef-llama3.3").text
    policy = _reference(references, "LicenseRef-llama3.3-aup").text
    combined = licence + "\n\n" + policy
    match = identify_text(combined, references)
    assert match.license_id == "LicenseRef-llama3.3"
    assert [e.section for e in match.extra] == [AFTER_LICENSE]
    assert match.extra[0].line == licence.count("\n") + 3
    assert any(n.startswith("also contains LicenseRef-llama3.3-aup") for n in match.notes)


def test_an_edited_license_beats_a_shorter_text_matched_exactly(
    references: tuple[ReferenceText, ...],
) -> None:
    licence = _reference(references, "LicenseRef-llama3.3").text.replace(LLAMA33_CLAUSE_2, "you may go on")
    policy = _reference(references, "LicenseRef-llama3.3-aup").text
    match = identify_text(licence + "\n" + policy, references)
    assert (match.kind, match.license_id) == ("near", "LicenseRef-llama3.3")
    assert [e.section for e in match.edits] == ["2. Additional Commercial Terms"]
    assert [e.section for e in match.extra] == [AFTER_LICENSE]


# --- none, and inputs that are not licenses


def test_unrelated_text_is_none_with_the_closest_candidate(references: tuple[ReferenceText, ...]) -> None:
    readme = "# Tiny model\n\nA small model fine-tuned on recipes. Use it for cooking questions.\n" * 20
    match = identify_text(readme, references)
    assert (match.kind, match.license_id, match.edits) == ("none", None, ())
    assert match.similarity < NEAR_THRESHOLD


def test_a_heavily_rewritten_license_falls_below_the_threshold(references: tuple[ReferenceText, ...]) -> None:
    words = _reference(references, "LicenseRef-llama3.3").text.split()
    rewritten = " ".join(w if i % 3 else "changed" for i, w in enumerate(words))
    match = identify_text(rewritten, references)
    assert match.kind == "none"
    assert match.candidates
    assert match.candidates[0][0].startswith("LicenseRef-llama3")
    assert all(s < NEAR_THRESHOLD for _, s in match.candidates)


@pytest.mark.parametrize("text", ["", "   \n\n", "§§§ --- ***"])
def test_empty_text_is_none(references: tuple[ReferenceText, ...], text: str) -> None:
    assert identify_text(text, references).kind == "none"


def test_binary_input_is_not_identified(references: tuple[ReferenceText, ...]) -> None:
    apache = _reference(references, "Apache-2.0").text
    match = identify_text("\x00\x01\x02PK" + apache, references)
    assert (match.kind, match.license_id) == ("none", None)
    assert "binary" in match.notes[0]


def test_big_input_is_bounded_and_fast(references: tuple[ReferenceText, ...]) -> None:
    apache = _reference(references, "Apache-2.0").text
    filler = "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod\n" * 7000
    started = time.monotonic()
    inside = identify_text(filler + apache + filler, references)
    assert (inside.kind, inside.license_id) == ("normalised", "Apache-2.0")
    assert [e.section for e in inside.extra] == [BEFORE_LICENSE, AFTER_LICENSE]
    beyond = identify_text(filler * 3 + apache, references)
    assert beyond.kind == "none"
    assert any(str(MAX_INPUT_CHARS) in n for n in beyond.notes)
    assert time.monotonic() - started < 5


def test_to_json_is_plain_json(references: tuple[ReferenceText, ...]) -> None:
    text = _reference(references, "LicenseRef-llama3.3").text.replace("700 million", "7 million")
    match = identify_text("Header line\n" + text, references)
    data = json.loads(json.dumps(match.to_json()))
    assert data["kind"] == "near"
    assert data["edits"][0]["section"] == "2. Additional Commercial Terms"
    assert data["extra"][0]["section"] == BEFORE_LICENSE
    assert data["candidates"][0]["license_id"] == "LicenseRef-llama3.3"


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=400))
def test_identify_text_never_raises(text: str) -> None:
    references = (ReferenceText("MIT", "MIT License", "Permission is hereby granted, free of charge"),)
    match = identify_text(text, references)
    assert match.kind in ("exact", "normalised", "near", "none")
    assert 0.0 <= match.similarity <= 1.0


@settings(max_examples=30, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            ["Llama", "3.3", "1.", "(a)", "](x)", "**", "\n", "Copyright 2024", "License", "§", "\\."]
        ),
        max_size=300,
    )
)
def test_identify_text_never_raises_against_the_catalog(
    references: tuple[ReferenceText, ...], parts: list[str]
) -> None:
    match = identify_text(" ".join(parts), references)
    assert match.kind in ("exact", "normalised", "near", "none")
    assert all(0.0 <= s <= 1.0 for _, s in match.candidates)


# --- SPDX expressions


@pytest.mark.parametrize(
    ("expression", "keys", "operator"),
    [
        ("MIT", ("MIT",), "single"),
        ("apache-2.0 OR mit", ("Apache-2.0", "MIT"), "OR"),
        ("(MIT OR Apache-2.0) AND LicenseRef-llama3.3", ("MIT", "Apache-2.0", "LicenseRef-llama3.3"), "AND"),
        ("Apache-2.0 WITH LLVM-exception", ("Apache-2.0", "LLVM-exception"), "WITH"),
        ("LicenseRef-qwen-research", ("LicenseRef-qwen-research",), "single"),
    ],
)
def test_valid_expressions(expression: str, keys: tuple[str, ...], operator: str) -> None:
    parsed = parse_expression(expression)
    assert (parsed.valid, parsed.keys, parsed.operator) == (True, keys, operator)
    assert parsed.require() is parsed


@pytest.mark.parametrize(
    ("expression", "problem"),
    [
        ("MIT and/or GPL", "and/or"),
        ("(MIT OR Apache-2.0", "nvalid"),
        ("MIT OR Apache-2.0)", "nbalanced"),
        ("MIT AND", "AND requires"),
        ("Apache License 2.0", "not a license id"),
        ("", "empty"),
    ],
)
def test_invalid_expressions_are_values_with_an_error(expression: str, problem: str) -> None:
    parsed = parse_expression(expression, field="cardData.license")
    assert not parsed.valid
    assert problem in parsed.error
    assert parsed.keys == ()
    with pytest.raises(MalformedFileError) as raised:
        parsed.require()
    assert raised.value.target == "cardData.license"
    assert repr(expression) in raised.value.problem


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("()MIT-2.0 ANDORWITH/+apache,")), max_size=40))
def test_parse_expression_never_raises(expression: str) -> None:
    parsed = parse_expression(expression)
    assert parsed.valid == (parsed.error == "")
    assert parsed.valid or parsed.keys == ()


# --- declared values, against a catalog


@pytest.mark.parametrize(
    ("value", "license_name", "expected"),
    [
        ("llama3.3", None, "LicenseRef-llama3.3"),
        ("llama3.1", None, "LicenseRef-llama3.1"),
        ("apache-2.0", None, "Apache-2.0"),
        ("mit", None, "MIT"),
        ("LicenseRef-scancode-llama-3.3-license-2024", None, "LicenseRef-llama3.3"),
        ("other", "qwen-research", "LicenseRef-qwen-research"),
    ],
)
def test_hub_ids_map_through_the_shipped_catalog(
    catalog: LicenseCatalog, value: str, license_name: str | None, expected: str
) -> None:
    match = identify_declared(value, license_name, catalog)
    assert match.license_ids == (expected,)
    assert match.known


def test_an_expression_of_hub_ids_maps_each_key_through_the_shipped_catalog(catalog: LicenseCatalog) -> None:
    match = identify_declared("apache-2.0 OR LicenseRef-llama3.3", None, catalog)
    assert match.license_ids == ("Apache-2.0", "LicenseRef-llama3.3")
    assert match.expression is not None and match.expression.operator == "OR"
    unknown = identify_declared("llama3.33", None, catalog)
    assert not unknown.known
    assert "LicenseRef-llama3.3" in unknown.suggestions


@dataclass(frozen=True)
class _License:
    id: str
    name: str
    tags: tuple[str, ...] = ()


@dataclass
class _Catalog:
    """A stand-in with the catalog's lookup surface, so the mapping logic is tested on its own."""

    licenses: tuple[_License, ...] = field(
        default=(
            _License("Apache-2.0", "Apache License 2.0", ("apache-2.0",)),
            _License("MIT", "MIT License", ("mit",)),
            _License("LicenseRef-llama3.3", "Llama 3.3", ("llama3.3", "llama-3.3-community-license")),
        )
    )

    def lookup(self, value: str, license_name: str | None = None) -> _License | None:
        wanted = (license_name if value.strip().lower() == "other" else value) or ""
        return next(
            (lic for lic in self.licenses if wanted.lower() in {lic.id.lower(), *lic.tags}),
            None,
        )

    def closest(self, value: str, n: int = 3) -> list[str]:
        return [lic.id for lic in self.licenses if value[:5].lower() in lic.id.lower()][:n]


@pytest.mark.parametrize(
    ("value", "license_name", "ids"),
    [
        ("llama3.3", None, ("LicenseRef-llama3.3",)),
        ("apache-2.0", None, ("Apache-2.0",)),
        ("MIT", None, ("MIT",)),
        ("other", "llama-3.3-community-license", ("LicenseRef-llama3.3",)),
        (["apache-2.0", "mit"], None, ("Apache-2.0", "MIT")),
        ("Apache-2.0 OR MIT", None, ("Apache-2.0", "MIT")),
    ],
)
def test_declared_values_map_to_catalog_ids(
    value: str | list[str], license_name: str | None, ids: tuple[str, ...]
) -> None:
    match = identify_declared(value, license_name, _Catalog())  # type: ignore[arg-type]
    assert (match.license_ids, match.unknown, match.reason) == (ids, (), "")
    assert match.known


def test_a_declared_expression_keeps_its_operator() -> None:
    match = identify_declared("Apache-2.0 OR MIT", None, _Catalog())  # type: ignore[arg-type]
    assert match.expression is not None
    assert match.expression.operator == "OR"


@pytest.mark.parametrize(
    ("value", "license_name", "reason"),
    [
        ("unknown", None, "'unknown'"),
        ("", None, "no license declared"),
        (None, None, "no license declared"),
        ("other", None, "without a license_name"),
        ("other", "acme-license", "'acme-license' is not in the license catalog"),
        ("MIT and/or GPL", None, "and/or"),
        ("gpl-3.0", None, "not in the license catalog: GPL-3.0"),
        ("llama3.9", None, "not in the license catalog: llama3.9"),
    ],
)
def test_unmapped_declared_values_say_why(value: str | None, license_name: str | None, reason: str) -> None:
    match = identify_declared(value, license_name, _Catalog())  # type: ignore[arg-type]
    assert not match.known
    assert match.license_ids == ()
    assert reason in match.reason
    json.dumps(match.to_json())


def test_an_unmapped_value_gets_suggestions_and_a_partial_list_keeps_what_mapped() -> None:
    match = identify_declared(["mit", "llama9"], None, _Catalog())  # type: ignore[arg-type]
    assert match.license_ids == ("MIT",)
    assert match.unknown == ("llama9",)
    assert match.suggestions == ("LicenseRef-llama3.3",)
