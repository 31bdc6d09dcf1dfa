"""The hardened YAML loader: bounds are enforced before construction, errors carry name:line:col."""

from __future__ import annotations

import contextlib
import time

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from provenance.errors import LimitExceededError, MalformedFileError
from provenance.readers import safe_yaml

# The classic "billion laughs" in YAML: 9 levels of 9 aliases each, ~387 million strings if expanded.
ALIAS_BOMB = "\n".join(
    ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    + [f"{n}: &{n} [{','.join([f'*{p}'] * 9)}]" for p, n in zip("abcdefgh", "bcdefghi", strict=True)]
)


def error_of(text: str, **kwargs: int) -> MalformedFileError:
    with pytest.raises(MalformedFileError) as caught:
        safe_yaml.load(text, "README.md", **kwargs)
    return caught.value


def test_plain_values_as_safe_load_gives_them_but_timestamps_stay_strings() -> None:
    text = "license: mit\nn: 3\nx: 1.5\nok: true\nnone: ~\nhex: 0x10\nday: 2024-01-02\ns: !!str 12\n"
    assert safe_yaml.load(text, "t") == {
        "license": "mit",
        "n": 3,
        "x": 1.5,
        "ok": True,
        "none": None,
        "hex": 16,
        "day": "2024-01-02",
        "s": "12",
    }


def test_lines_for_top_level_nested_keys_and_list_items() -> None:
    text = "a: 1\nb:\n  c: 2\n  d:\n    - x\n    - e: 3\n"
    value, lines = safe_yaml.load_with_lines(text, "p.yaml", line_offset=10)
    assert value == {"a": 1, "b": {"c": 2, "d": ["x", {"e": 3}]}}
    assert lines == {
        ("a",): 11,
        ("b",): 12,
        ("b", "c"): 13,
        ("b", "d"): 14,
        ("b", "d", 0): 15,
        ("b", "d", 1): 16,
        ("b", "d", 1, "e"): 16,
    }


def test_empty_document_is_none() -> None:
    assert safe_yaml.load("", "t") is None
    assert safe_yaml.load("# only a comment\n", "t") is None


def test_alias_bomb_is_rejected_at_the_first_anchor_without_expanding() -> None:
    assert len(ALIAS_BOMB.encode()) < 400
    started = time.perf_counter()
    error = error_of(ALIAS_BOMB)
    assert time.perf_counter() - started < 0.1
    assert "anchors are not allowed (&a)" in str(error)
    assert str(error).startswith("README.md:1:4:")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a: *undefined\n", "aliases are not allowed (*undefined)"),
        ("a: &x 1\n", "anchors are not allowed (&x)"),
        ("base: &b {x: 1}\nchild:\n  <<: *b\n", "anchors are not allowed (&b)"),
        ("- &x [1]\n- *x\n", "anchors are not allowed (&x)"),
    ],
)
def test_any_anchor_or_alias_is_rejected(text: str, message: str) -> None:
    assert message in str(error_of(text))


@pytest.mark.parametrize(
    ("text", "tag"),
    [
        ("a: !!python/object:os.system x\n", "!!python/object:os.system"),
        ("a: !!python/object/apply:os.system ['touch /tmp/x']\n", "!!python/object/apply:os.system"),
        ("a: !!python/name:builtins.eval ''\n", "!!python/name:builtins.eval"),
        ("a: !custom 1\n", "!custom"),
        ("a: !!binary aGk=\n", "!!binary"),
        ("a: !!set {x: null}\n", "!!set"),
        ("!!omap [a: 1]\n", "!!omap"),
        ("a: !<tag:example.com,2024:x> 1\n", "tag:example.com,2024:x"),
    ],
)
def test_non_standard_tags_are_rejected_with_the_tag_named(text: str, tag: str) -> None:
    assert f"YAML tag {tag} is not allowed" in str(error_of(text))


def test_core_explicit_tags_are_allowed() -> None:
    text = "a: !!int '7'\nb: !!float '1.5'\nc: !!bool 'true'\nd: !!null ''\ne: !!seq [1]\nf: !!map {x: 1}\n"
    assert safe_yaml.load(text, "t") == {"a": 7, "b": 1.5, "c": True, "d": None, "e": [1], "f": {"x": 1}}


def test_invalid_value_for_an_explicit_tag_is_an_error() -> None:
    assert "invalid !!int value 'x'" in str(error_of("a: !!int x\n"))


def test_second_document_is_rejected() -> None:
    error = error_of("a: 1\n---\nb: 2\n")
    assert "second YAML document" in str(error)
    assert str(error).startswith("README.md:2:1:")
    assert "second YAML document" in str(error_of("a: 1\n...\n---\nb: 2\n"))


def test_tab_indent_error_has_line_and_column_with_offset() -> None:
    error = error_of("license: mit\ntags:\n\t- x\n", line_offset=1)
    assert str(error).startswith("README.md:4:1: invalid YAML:")
    assert not isinstance(error, LimitExceededError)


def test_unclosed_flow_sequence_error() -> None:
    error = error_of("tags: [a, b\nlicense: mit\n")
    assert "invalid YAML" in str(error)
    assert error.target.startswith("README.md:")


@pytest.mark.parametrize(
    "text",
    [
        "- " * 5000 + "x\n",
        "[" * 5000 + "]" * 5000,
        "{a: " * 5000 + "}" * 5000,
        "a:\n" + "".join("  " * i + f"k{i}:\n" for i in range(1, 70)),
    ],
    ids=["block-seq", "flow-seq", "flow-map", "block-map-70"],
)
def test_deep_nesting_is_a_limit_error_not_a_recursion_error(text: str) -> None:
    error = error_of(text)
    assert isinstance(error, LimitExceededError)
    assert "nesting too deep" in str(error)


def test_depth_bound_is_exact() -> None:
    assert safe_yaml.load("[" * 64 + "]" * 64, "t", max_depth=64) is not None
    assert isinstance(error_of("[" * 65 + "]" * 65, max_depth=64), LimitExceededError)


def test_four_megabyte_front_matter_is_rejected_before_parsing() -> None:
    text = "tags:\n" + "- tag\n" * 700_000
    assert len(text) > 4_000_000
    started = time.perf_counter()
    error = error_of(text)
    assert time.perf_counter() - started < 0.5
    assert isinstance(error, LimitExceededError)
    assert "size cap" in str(error)


def test_two_million_item_list_is_rejected_before_parsing() -> None:
    text = "[" + ",".join(["1"] * 2_000_000) + "]"
    started = time.perf_counter()
    assert isinstance(error_of(text), LimitExceededError)
    assert time.perf_counter() - started < 0.5


def test_size_cap_counts_utf8_bytes_not_characters() -> None:
    text = "a: " + "é" * 100
    assert safe_yaml.load(text, "t", max_bytes=300) == {"a": "é" * 100}
    assert isinstance(error_of(text, max_bytes=150), LimitExceededError)


def test_node_count_is_bounded() -> None:
    assert isinstance(error_of("[" + ",".join(["1"] * 50) + "]", max_nodes=20), LimitExceededError)


def test_largest_accepted_document_parses_in_bounded_time() -> None:
    text = "[" + ",".join(["1"] * 120_000) + "]"
    assert len(text) < safe_yaml.MAX_BYTES
    started = time.perf_counter()
    assert len(safe_yaml.load(text, "t")) == 120_000
    assert time.perf_counter() - started < 5


def test_duplicate_keys_are_errors_with_both_lines() -> None:
    error = error_of("license: mit\ntags: [a]\nlicense: apache-2.0\n", line_offset=1)
    assert str(error) == "README.md:4:1: duplicate key 'license' (first at line 2)"
    nested = error_of("a:\n  b: 1\n  b: 2\n")
    assert "duplicate key 'b' (first at line 2)" in str(nested)


def test_same_key_in_different_mappings_is_fine() -> None:
    assert safe_yaml.load("- name: a\n- name: b\n", "t") == [{"name": "a"}, {"name": "b"}]


def test_complex_keys_and_merge_keys_are_rejected() -> None:
    assert "mapping keys must be scalars" in str(error_of("? [a, b]\n: 1\n"))
    assert "mapping keys must be scalars" in str(error_of("{[a]: 1}\n"))
    assert "merge keys (<<) are not allowed" in str(error_of("a:\n  <<: {x: 1}\n"))


def test_control_characters_and_lone_surrogates_are_malformed_not_crashes() -> None:
    error = error_of('a: "x"\nb: "\x00"\n')
    assert "invalid YAML" in str(error)
    assert error.target.startswith("README.md:2:")
    assert "not encodable" in str(error_of("a: \ud800\n"))


def test_ansi_escapes_and_templates_are_kept_as_data() -> None:
    value = safe_yaml.load('name: "\\e[31mred\\e[0m"\nt: "{{ 7*7 }}"\n', "t")
    assert value == {"name": "\x1b[31mred\x1b[0m", "t": "{{ 7*7 }}"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (ALIAS_BOMB, "README.md:1:4: YAML anchors are not allowed (&a)"),
        ("[" * 5000 + "]" * 5000, "README.md:1:65: nesting too deep (over 64 levels)"),
        ("a:\n\t- 1\n", "README.md:2:1: invalid YAML: found character '\\t' that cannot start any token"),
        (
            "a: !!python/object:os.system x\n",
            "README.md:1:4: YAML tag !!python/object:os.system is not allowed",
        ),
        ('a: "\x00"\n', "README.md:1:5: invalid YAML: special characters are not allowed"),
    ],
)
def test_pure_python_parser_fallback_has_the_same_guards(
    monkeypatch: pytest.MonkeyPatch, text: str, message: str
) -> None:
    monkeypatch.setattr(safe_yaml, "_EventParser", yaml.SafeLoader)
    assert str(error_of(text)).startswith(message)
    assert safe_yaml.load("a: [1, {b: c}]\n", "t") == {"a": [1, {"b": "c"}]}


TOKENS = [*"ab01 :-[]{}&*!|>'\"#?,.~\n\t\\%@`<=", "---", "...", "\ufeff", "é", "!!python/object:", "  ", "- "]
YAMLISH = st.lists(st.sampled_from(TOKENS), max_size=80).map("".join)


@settings(max_examples=300, deadline=None)
@given(st.one_of(YAMLISH, st.text(max_size=200)))
def test_fuzz_only_our_errors_escape(text: str) -> None:
    with contextlib.suppress(MalformedFileError):
        safe_yaml.load_with_lines(text, "fuzz.yaml", max_depth=8, max_nodes=500)
