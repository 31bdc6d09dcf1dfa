"""Model cards: real cards from tests/data/cards, then every parsing case of the reliability checklist."""

from __future__ import annotations

import codecs
import json
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from provenance.errors import LimitExceededError, MalformedFileError
from provenance.model import Severity
from provenance.readers.modelcard import ModelCard, parse_card

CARDS = Path(__file__).resolve().parent.parent / "data" / "cards"


def card_of(text: str, **kwargs: str) -> ModelCard:
    return parse_card(text.encode("utf-8"), "README.md", **kwargs)


def rules(card: ModelCard) -> list[str]:
    return [f.rule_id for f in card.all_findings()]


# --- real cards


def test_qwen_math_card() -> None:
    card = parse_card((CARDS / "Qwen__Qwen2.5-Math-1.5B.README.md").read_bytes())
    assert card.license().value == ("apache-2.0",)
    assert card.license().line == 7
    assert card.license_link().value == "https://huggingface.co/Qwen/Qwen2.5-Math-1.5B/blob/main/LICENSE"
    assert card.base_model().value == ("Qwen/Qwen2.5-1.5B",)
    assert card.base_model().line == 2
    assert card.language().value == ("en",)
    assert card.pipeline_tag().value == "text-generation"
    assert card.library_name().value == "transformers"
    assert card.body_start_line == 10
    assert card.body.startswith("\n# Qwen2.5-Math-1.5B")
    assert card.all_findings() == ()
    assert card.encoding == "utf-8"


def test_openhermes_card_base_model_tags_and_model_index() -> None:
    card = parse_card((CARDS / "teknium__OpenHermes-2.5-Mistral-7B.README.md").read_bytes())
    assert card.base_model().value == ("mistralai/Mistral-7B-v0.1",)
    assert card.tags().value == (
        "mistral",
        "instruct",
        "finetune",
        "chatml",
        "gpt4",
        "synthetic data",
        "distillation",
    )
    assert card.model_index().value == [{"name": "OpenHermes-2-Mistral-7B", "results": []}]
    assert card.metadata_lines[("model-index", 0, "name")] == 12
    assert card.license().value == ("apache-2.0",)
    assert card.license().line == 14


@pytest.mark.parametrize(
    "name", ["deepseek-ai__DeepSeek-R1.README.github.md", "meta-llama__llama3_3.MODEL_CARD.github.md"]
)
def test_github_cards_have_no_metadata_and_their_horizontal_rules_are_not_front_matter(name: str) -> None:
    data = (CARDS / name).read_bytes()
    card = parse_card(data, name)
    assert card.metadata == {}
    assert rules(card) == ["card.no-metadata"]
    assert card.findings[0].message == f"no card metadata: {name} has no YAML front matter"
    assert card.body == data.decode("utf-8")
    assert card.license().value == ()


def test_deepseek_r1_with_hub_style_front_matter_gives_mit() -> None:
    # Synthetic: the GitHub README body under a hand-written front matter like the Hub card's.
    body = (CARDS / "deepseek-ai__DeepSeek-R1.README.github.md").read_text(encoding="utf-8")
    card = card_of(
        "---\nlicense: mit\nlibrary_name: transformers\n---\n" + body, repo_id="deepseek-ai/DeepSeek-R1"
    )
    assert card.license().value == ("mit",)
    assert card.license().line == 2
    assert card.body == body
    assert card.body_start_line == 5
    assert card.all_findings() == ()


def test_to_json_is_serialisable() -> None:
    card = parse_card((CARDS / "teknium__OpenHermes-2.5-Mistral-7B.README.md").read_bytes())
    encoded = json.loads(json.dumps(card.to_json()))
    assert encoded["fields"]["base_model"]["value"] == ["mistralai/Mistral-7B-v0.1"]
    assert encoded["metadata_lines"]["model-index.0.name"] == 12


# --- front matter structure

LF_CARD = "---\nlicense: mit\ntags:\n- a\n---\n# Title\n\nbody line\n"


@pytest.mark.parametrize(
    "data",
    [
        codecs.BOM_UTF8 + LF_CARD.encode(),
        LF_CARD.replace("\n", "\r\n").encode(),
        codecs.BOM_UTF8 + LF_CARD.replace("\n", "\r\n").encode(),
        LF_CARD.replace("\n", "\r").encode(),
        codecs.BOM_UTF16_LE + LF_CARD.encode("utf-16-le"),
        codecs.BOM_UTF16_BE + LF_CARD.replace("\n", "\r\n").encode("utf-16-be"),
    ],
    ids=["bom", "crlf", "bom-crlf", "cr", "utf16le", "utf16be-crlf"],
)
def test_bom_crlf_and_utf16_parse_the_same_as_lf(data: bytes) -> None:
    reference = card_of(LF_CARD)
    card = parse_card(data)
    assert (card.metadata, card.metadata_lines, card.body, card.body_start_line) == (
        reference.metadata,
        reference.metadata_lines,
        reference.body,
        reference.body_start_line,
    )
    assert card.findings == ()


def test_invalid_utf8_falls_back_to_latin1_with_a_finding() -> None:
    card = parse_card("---\nlicense: mit\n---\nCaf\xe9 ol\xe9\n".encode("latin-1"))
    assert card.license().value == ("mit",)
    assert card.body == "Café olé\n"
    assert card.encoding == "latin-1"
    assert rules(card) == ["text.latin1-fallback"]
    assert "decoded as Latin-1" in card.findings[0].message


def test_unterminated_front_matter_is_a_finding_and_the_prose_is_not_parsed_as_yaml() -> None:
    text = "---\nlicense: mit\na: !!python/object:os.system x\n# Title\n"
    card = card_of(text)
    assert card.metadata == {}
    assert card.body == text
    assert rules(card) == ["card.unterminated-front-matter"]
    assert "unterminated front matter (README.md line 1)" in card.findings[0].message
    assert card.findings[0].location == "README.md:1"


@pytest.mark.parametrize(
    ("yaml_text", "kind"),
    [("- a\n- b", "list"), ("just a string", "string"), ("null", "null"), ("~", "null"), ("42", "int")],
)
def test_front_matter_that_is_not_a_mapping_is_an_error_naming_the_file(yaml_text: str, kind: str) -> None:
    with pytest.raises(MalformedFileError) as caught:
        card_of(f"---\n{yaml_text}\n---\nbody\n")
    assert f"front matter must be a mapping, got {kind}" in str(caught.value)
    assert caught.value.target.startswith("README.md")


def test_empty_front_matter_is_a_finding_not_an_error() -> None:
    card = card_of("---\n# nothing yet\n\n---\nbody\n")
    assert card.metadata == {}
    assert rules(card) == ["card.empty-metadata"]


def test_blank_lines_before_front_matter_are_tolerated_with_a_finding() -> None:
    card = card_of("\n\n---\nlicense: mit\n---\nbody\n")
    assert card.license().value == ("mit",)
    assert card.license().line == 4
    assert rules(card) == ["card.front-matter-not-first"]


@pytest.mark.parametrize(
    ("front", "where"),
    [
        ("license: mit\ntags:\n\t- a\n", "README.md:4:1"),
        ("license: mit\ntags: [a, b\n", "README.md:4:"),
        ("license: mit\n--- b: 2\n", "README.md:3:1"),
    ],
    ids=["tab", "unclosed-bracket", "second-document"],
)
def test_invalid_yaml_errors_point_at_the_readme_line(front: str, where: str) -> None:
    with pytest.raises(MalformedFileError) as caught:
        card_of(f"---\n{front}---\nbody\n")
    assert caught.value.target.startswith(where)


def test_a_bare_dashes_line_closes_the_block_so_the_rest_is_body() -> None:
    card = card_of("---\nlicense: mit\n---\nb: 2\n---\n")
    assert card.metadata == {"license": "mit"}
    assert card.body == "b: 2\n---\n"


@pytest.mark.parametrize(
    ("front", "message"),
    [
        (
            "a: !!python/object/apply:os.system ['id']\n",
            "YAML tag !!python/object/apply:os.system is not allowed",
        ),
        ("a: &x [1]\nb: *x\n", "anchors are not allowed"),
        ("license: mit\nlicense: apache-2.0\n", "duplicate key 'license' (first at line 2)"),
    ],
)
def test_unsafe_yaml_in_a_card_is_rejected(front: str, message: str) -> None:
    with pytest.raises(MalformedFileError) as caught:
        card_of(f"---\n{front}---\nbody\n")
    assert message in str(caught.value)


def test_four_megabyte_front_matter_is_rejected_fast() -> None:
    text = "---\ntags:\n" + "- tag\n" * 700_000 + "---\nbody\n"
    started = time.perf_counter()
    with pytest.raises(LimitExceededError):
        card_of(text)
    assert time.perf_counter() - started < 1.0


def test_5000_deep_front_matter_is_nesting_too_deep() -> None:
    with pytest.raises(LimitExceededError, match="nesting too deep"):
        card_of("---\na: " + "[" * 5000 + "]" * 5000 + "\n---\n")


def test_card_over_the_size_cap_is_rejected() -> None:
    with pytest.raises(LimitExceededError):
        parse_card(b"x" * 101, max_bytes=100)


def test_ansi_escapes_and_templates_are_kept_as_data() -> None:
    card = card_of('---\nlicense: "\\e[31mmit"\n---\n\x1b[2J{{ config.__class__ }}\n')
    assert card.license().value == ("\x1b[31mmit",)
    assert card.body == "\x1b[2J{{ config.__class__ }}\n"


# --- normalised fields


def test_license_list_is_normalised_with_a_finding() -> None:
    field = card_of("---\nlicense:\n- mit\n- apache-2.0\n---\n").license()
    assert field.value == ("mit", "apache-2.0")
    assert [f.rule_id for f in field.findings] == ["card.license-list"]
    assert field.findings[0].location == "README.md:2"


def test_license_int_is_normalised_with_a_finding() -> None:
    field = card_of("---\nlicense: 2\n---\n").license()
    assert field.value == ("2",)
    assert [f.rule_id for f in field.findings] == ["card.not-a-string"]


def test_license_other_without_name_or_link() -> None:
    field = card_of("---\nlicense: other\n---\n").license()
    assert field.value == ("other",)
    assert [f.rule_id for f in field.findings] == ["card.license-other-unnamed"]
    named = card_of("---\nlicense: other\nlicense_name: llama3.3\nlicense_link: LICENSE\n---\n")
    assert named.license().findings == ()
    assert named.license_name().value == "llama3.3"


def test_license_of_wrong_type_never_crashes() -> None:
    card = card_of("---\nlicense: {a: 1}\nlicense_name: [x]\n---\n")
    assert card.license().value == ()
    assert card.license_name().value is None
    assert set(rules(card)) == {"card.bad-type"}


def test_base_model_list_url_invalid_and_self() -> None:
    card = card_of(
        "---\nbase_model:\n"
        "- meta-llama/Llama-3.3-70B-Instruct\n"
        "- https://huggingface.co/Qwen/Qwen2.5-1.5B\n"
        "- https://example.com/model\n"
        "- a/b/c\n"
        "- org/na--me\n"
        "- acme/me\n"
        "- gpt2\n"
        "---\n",
        repo_id="acme/Me",
    )
    field = card.base_model()
    assert field.value == ("meta-llama/Llama-3.3-70B-Instruct", "Qwen/Qwen2.5-1.5B", "gpt2")
    assert [f.message for f in field.findings if f.rule_id == "card.base-model-url"] == [
        "base_model is a URL (https://huggingface.co/Qwen/Qwen2.5-1.5B); read as Qwen/Qwen2.5-1.5B",
        "base_model is a URL, not a repo id: https://example.com/model",
    ]
    assert [f.message for f in field.findings if f.rule_id == "card.base-model-invalid"] == [
        "base_model 'a/b/c' is not a valid repo id",
        "base_model 'org/na--me' is not a valid repo id",
    ]
    assert [f.message for f in field.findings if f.rule_id == "card.base-model-self"] == [
        "base_model acme/me is this model itself"
    ]


def test_base_model_relation() -> None:
    assert card_of("---\nbase_model_relation: quantized\n---\n").base_model_relation().findings == ()
    field = card_of("---\nbase_model_relation: distill\n---\n").base_model_relation()
    assert field.value == "distill"
    assert [f.rule_id for f in field.findings] == ["card.base-model-relation-unknown"]


def test_language_no_is_norwegian_not_false() -> None:
    field = card_of("---\nlanguage:\n- en\n- no\n---\n").language()
    assert field.value == ("en", "no")
    assert [f.rule_id for f in field.findings] == ["card.yaml-boolean"]


def test_tags_datasets_single_string_and_duplicates() -> None:
    card = card_of("---\ntags: chat\ndatasets:\n- a/b\n- a/b\n- 3\n---\n")
    assert card.tags().value == ("chat",)
    assert card.datasets().value == ("a/b", "3")


def test_field_findings_have_severities_and_locations() -> None:
    card = card_of("---\nlicense: other\n---\n")
    (finding,) = card.all_findings()
    assert finding.severity == Severity.MEDIUM
    assert finding.location == "README.md:2"


# --- fuzz

FRONT = st.lists(
    st.sampled_from(
        [*"ab: -[]{}&*!'\"#\n\t", "---\n", "license: ", "base_model: ", "\r\n", "\ufeff", "é", "\x00"]
    ),
    max_size=60,
).map("".join)


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        FRONT.map(lambda t: ("---\n" + t).encode("utf-8")),
        st.binary(max_size=200).map(lambda b: b"---\n" + b),
        st.binary(max_size=200),
    )
)
def test_fuzz_front_matter_only_our_errors_escape(data: bytes) -> None:
    try:
        card = parse_card(data, repo_id="acme/x")
    except MalformedFileError:
        return
    json.dumps(card.to_json())
