"""JSON readers: the strict loader, then each typed record built on it."""

from __future__ import annotations

import codecs
import contextlib
import hashlib
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from provenance.errors import LimitExceededError, MalformedFileError
from provenance.model import Severity
from provenance.readers import jsonfiles
from provenance.readers.jsonfiles import (
    check_index_against_headers,
    load_json_object,
    parse_adapter_config,
    parse_chat_template_file,
    parse_config,
    parse_generation_config,
    parse_quant_config,
    parse_shard_index,
    parse_special_tokens_map,
    parse_tokenizer_config,
)

LLAMA_CONFIG: dict[str, Any] = {
    "_name_or_path": "meta-llama/Llama-3.3-70B-Instruct",
    "architectures": ["LlamaForCausalLM"],
    "bos_token_id": 128000,
    "eos_token_id": [128001, 128008, 128009],
    "hidden_size": 8192,
    "intermediate_size": 28672,
    "max_position_embeddings": 131072,
    "model_type": "llama",
    "num_attention_heads": 64,
    "num_hidden_layers": 80,
    "num_key_value_heads": 8,
    "rope_theta": 500000.0,
    "tie_word_embeddings": False,
    "torch_dtype": "bfloat16",
    "transformers_version": "4.47.0.dev0",
    "vocab_size": 128256,
}


def encode(value: Any) -> bytes:
    return json.dumps(value).encode()


def load_error(data: bytes, **kwargs: int) -> MalformedFileError:
    with pytest.raises(MalformedFileError) as caught:
        load_json_object(data, "config.json", **kwargs)
    return caught.value


# --- the loader


@pytest.mark.parametrize("word", ["NaN", "Infinity", "-Infinity", "1e400", "-1e999"])
def test_nan_and_infinity_are_rejected_naming_the_file(word: str) -> None:
    error = load_error(f'{{"rope_theta": {word}}}'.encode())
    assert str(error).startswith("config.json")
    assert "NaN and Infinity are not allowed" in str(error)
    assert word in str(error)


def test_utf8_bom_is_accepted_with_a_finding() -> None:
    value, findings = load_json_object(codecs.BOM_UTF8 + b'{"a": 1}', "config.json")
    assert value == {"a": 1}
    assert [(f.rule_id, f.severity) for f in findings] == [("json.bom", Severity.MEDIUM)]
    assert "config.json" in findings[0].message


@pytest.mark.parametrize("bom", [codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, codecs.BOM_UTF32_LE])
def test_utf16_json_is_an_error(bom: bytes) -> None:
    assert "must be UTF-8" in str(load_error(bom + '{"a": 1}'.encode("utf-16-le")))


def test_duplicate_keys_are_an_error_naming_the_key() -> None:
    assert str(load_error(b'{"a": {"hidden_size": 1, "hidden_size": 2}}')) == (
        "config.json: duplicate key 'hidden_size'"
    )


@pytest.mark.parametrize(
    ("text", "kind"), [("[1, 2]", "array"), ('"x"', "string"), ("3", "number"), ("null", "null")]
)
def test_top_level_must_be_an_object(text: str, kind: str) -> None:
    assert f"top-level JSON value must be an object, got {kind}" in str(load_error(text.encode()))


def test_oversize_is_rejected_before_parsing() -> None:
    error = load_error(b'{"a": "' + b"x" * 2000 + b'"}', max_bytes=1000)
    assert isinstance(error, LimitExceededError)
    assert "size cap" in str(error)


@pytest.mark.parametrize("opener", ["[", '{"a":'])
def test_deep_nesting_is_a_limit_error_not_a_recursion_error(opener: str) -> None:
    closer = "]" if opener == "[" else "}"
    error = load_error((opener * 100_000 + "1" + closer * 100_000).encode())
    assert isinstance(error, LimitExceededError)
    assert "nesting too deep" in str(error)


@pytest.mark.parametrize(
    "data",
    [
        b'{"a": "' + b'\\"' * 1_000_000,
        b'{"a": "' + b"[" * 2_000_000,
        b'{"a": [' + b"[]," * 1_000_000 + b"[]]}",
    ],
    ids=["unterminated-escapes", "unterminated-brackets", "many-pairs"],
)
def test_nesting_pre_check_on_pathological_inputs(data: bytes) -> None:
    """Inputs that made a regex-based pre-check quadratic: each ends in a definite answer (speed: bench/)."""
    try:
        value, _ = load_json_object(data, "x.json")
    except MalformedFileError as exc:
        assert "x.json" in str(exc)
    else:
        assert len(value["a"]) == 1_000_001


def test_brackets_inside_strings_do_not_count_as_nesting() -> None:
    value, _ = load_json_object(json.dumps({"t": "[" * 500 + '\\"{' * 200}).encode(), "x.json")
    assert value["t"].startswith("[[[")


def test_depth_bound_is_exact() -> None:
    ok = '{"a":' * 63 + "1" + "}" * 63
    assert load_json_object(ok.encode(), "x.json", max_depth=63)
    assert isinstance(load_error(ok.encode(), max_depth=62), LimitExceededError)


def test_not_json_error_has_line_and_column() -> None:
    error = load_error(b'{\n  "a": 1,\n  oops\n}')
    assert error.target == "config.json:3:3"
    assert "invalid JSON" in str(error)


def test_invalid_utf8_names_the_offset() -> None:
    assert "not valid UTF-8 (at byte 7)" in str(load_error(b'{"a": "\xff"}'))


def test_empty_file() -> None:
    assert "empty file" in str(load_error(b"  \n"))


def test_huge_integer_is_malformed_not_a_value_error_traceback() -> None:
    assert "invalid JSON" in str(load_error(b'{"a": ' + b"9" * 5000 + b"}"))


JSONISH = st.lists(
    st.sampled_from([*'{}[]",:0123456789.eE+- \n\\tfrunlsaNI', "NaN", "\ufeff", "\x00", "é"]), max_size=80
)


@settings(max_examples=300, deadline=None)
@given(st.one_of(JSONISH.map(lambda t: "".join(t).encode("utf-8")), st.binary(max_size=200)))
def test_fuzz_only_our_errors_escape(data: bytes) -> None:
    try:
        value, _ = load_json_object(data, "fuzz.json", max_depth=8)
    except MalformedFileError:
        return
    assert isinstance(value, dict)


@settings(max_examples=300, deadline=None)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=5),
        lambda c: st.lists(c) | st.dictionaries(st.text(max_size=5), c),
        max_leaves=20,
    )
)
def test_fuzz_typed_readers_never_crash_on_any_json_object(value: Any) -> None:
    data = encode(
        {
            "hidden_size": value,
            "auto_map": value,
            "eos_token_id": value,
            "chat_template": value,
            "bos_token": value,
            "weight_map": value,
            "target_modules": value,
            "quantization_config": value,
        }
    )
    for reader in (
        parse_config,
        parse_tokenizer_config,
        parse_adapter_config,
        parse_generation_config,
        parse_quant_config,
        parse_shard_index,
    ):
        with contextlib.suppress(MalformedFileError):
            json.dumps(reader(data, "fuzz.json").to_json())


# --- config.json


def test_llama_config_fingerprint() -> None:
    config = parse_config(encode(LLAMA_CONFIG))
    assert config.model_type == "llama"
    assert config.architectures == ("LlamaForCausalLM",)
    assert config.fingerprint() == {
        "hidden_size": 8192,
        "num_hidden_layers": 80,
        "num_attention_heads": 64,
        "num_key_value_heads": 8,
        "vocab_size": 128256,
        "intermediate_size": 28672,
        "max_position_embeddings": 131072,
        "model_type": "llama",
        "rope_theta": 500000.0,
        "tie_word_embeddings": False,
    }
    assert config.eos_token_id == (128001, 128008, 128009)
    assert config.bos_token_id == (128000,)
    assert config.torch_dtype == "bfloat16"
    assert config.name_or_path == "meta-llama/Llama-3.3-70B-Instruct"
    assert not config.has_custom_code
    assert config.findings == ()
    json.dumps(config.to_json())


def test_auto_map_is_a_custom_code_finding_and_nothing_is_imported() -> None:
    config = parse_config(
        encode(
            {
                "model_type": "deepseek_v3",
                "auto_map": {
                    "AutoConfig": "configuration_deepseek_evil.DeepseekV3Config",
                    "AutoModelForCausalLM": "modeling_deepseek_evil.DeepseekV3ForCausalLM",
                },
            }
        )
    )
    assert config.has_custom_code
    (finding,) = config.findings
    assert finding.rule_id == "config.custom-code"
    assert finding.message.startswith("config.json: custom code (auto_map), nothing imported:")
    assert "modeling_deepseek_evil.DeepseekV3ForCausalLM" in finding.message
    assert not any("deepseek_evil" in name for name in sys.modules)


def test_auto_map_pointing_at_another_repo_is_high() -> None:
    config = parse_config(encode({"auto_map": {"AutoModel": "other/repo--modeling.M"}}))
    (finding,) = config.findings
    assert finding.severity == Severity.HIGH
    assert "code from another repo: other/repo--modeling.M" in finding.message


def test_malformed_auto_map_is_still_a_custom_code_finding() -> None:
    assert [f.rule_id for f in parse_config(encode({"auto_map": ["x"]})).findings] == ["config.custom-code"]


def test_multimodal_config_reads_the_fingerprint_from_text_config() -> None:
    config = parse_config(
        encode(
            {
                "model_type": "gemma3",
                "text_config": {"hidden_size": 2560, "num_hidden_layers": 34, "eos_token_id": 1},
                "eos_token_id": [1, 106],
            }
        )
    )
    assert config.fingerprint_source == "text_config"
    assert (config.hidden_size, config.num_hidden_layers) == (2560, 34)
    assert config.eos_token_id == (1,)


def test_wrong_types_are_findings_and_absent_values() -> None:
    config = parse_config(
        encode(
            {
                "hidden_size": "4096",
                "num_hidden_layers": True,
                "architectures": [1],
                "dtype": "float16",
                "vocab_size": 32000.0,
            }
        )
    )
    assert config.hidden_size is None
    assert config.num_hidden_layers is None
    assert config.architectures == ()
    assert config.torch_dtype == "float16"
    assert config.vocab_size == 32000
    assert [f.rule_id for f in config.findings] == ["config.bad-type"] * 3
    assert "config.json: hidden_size should be an integer, got string; ignored" in [
        f.message for f in config.findings
    ]


def test_quantization_config_inside_config_json() -> None:
    config = parse_config(
        encode(
            {**LLAMA_CONFIG, "quantization_config": {"quant_method": "bitsandbytes", "load_in_4bit": True}}
        )
    )
    assert config.quantization is not None
    assert (config.quantization.quant_method, config.quantization.bits) == ("bitsandbytes", 4)
    assert config.quantization.source == "config.json:quantization_config"
    fp8 = parse_config(
        encode(
            {"quantization_config": {"quant_method": "fp8", "fmt": "e4m3", "weight_block_size": [128, 128]}}
        )
    )
    assert fp8.quantization is not None and fp8.quantization.raw["fmt"] == "e4m3"


def test_config_nan_bom_dup_array_oversize_through_parse_config() -> None:
    with pytest.raises(MalformedFileError, match="NaN"):
        parse_config(b'{"rope_theta": NaN}')
    with pytest.raises(MalformedFileError, match="duplicate key 'model_type'"):
        parse_config(b'{"model_type": "a", "model_type": "b"}')
    with pytest.raises(MalformedFileError, match="got array"):
        parse_config(b"[]")
    with pytest.raises(LimitExceededError):
        parse_config(b" " * (jsonfiles.MAX_JSON_BYTES + 1))
    assert [f.rule_id for f in parse_config(codecs.BOM_UTF8 + encode(LLAMA_CONFIG)).findings] == ["json.bom"]


# --- quantization files


def test_gptq_quantize_config() -> None:
    quant = parse_quant_config(
        encode({"bits": 4, "group_size": 128, "desc_act": False, "sym": True}), "quantize_config.json"
    )
    assert (quant.quant_method, quant.bits, quant.group_size, quant.method_inferred) == ("gptq", 4, 128, True)


def test_awq_quant_config() -> None:
    quant = parse_quant_config(
        encode({"zero_point": True, "q_group_size": 128, "w_bit": 4, "version": "GEMM"}),
        "sub/quant_config.json",
    )
    assert (quant.quant_method, quant.bits, quant.group_size, quant.method_inferred) == ("awq", 4, 128, True)


def test_declared_method_wins() -> None:
    quant = parse_quant_config(encode({"quant_method": "gptq", "bits": 8}), "quant_config.json")
    assert (quant.quant_method, quant.bits, quant.method_inferred) == ("gptq", 8, False)


# --- tokenizer

SSTI = (
    "{{ cycler.__init__.__globals__.os.system('touch MARKER') }}"
    "{% for m in messages %}{{ m['content'] }}{% endfor %}"
)


def test_tokenizer_config_tokens_and_templates() -> None:
    data = encode(
        {
            "tokenizer_class": "LlamaTokenizerFast",
            "bos_token": {"__type": "AddedToken", "content": "<s>", "lstrip": False},
            "eos_token": "</s>",
            "pad_token": None,
            "unk_token": {"content": "<unk>"},
            "additional_special_tokens": ["<|im_start|>", {"content": "<|im_end|>"}],
            "added_tokens_decoder": {
                "32000": {"content": "<|im_end|>", "special": True},
                "2": {"content": "</s>", "special": True},
                "7": {"content": "x", "special": False},
            },
            "chat_template": SSTI,
        }
    )
    info = parse_tokenizer_config(data)
    assert (info.bos_token, info.eos_token, info.pad_token, info.unk_token) == ("<s>", "</s>", None, "<unk>")
    assert info.additional_special_tokens == ("<|im_start|>", "<|im_end|>")
    assert [t.id for t in info.added_tokens] == [2, 7, 32000]
    assert info.special_tokens == ("<s>", "</s>", "<unk>", "<|im_start|>", "<|im_end|>")
    (template,) = info.chat_templates
    assert template.text == SSTI
    assert template.sha256 == hashlib.sha256(SSTI.encode()).hexdigest()
    assert info.findings == ()
    json.dumps(info.to_json())


def test_named_chat_templates_and_bad_template() -> None:
    info = parse_tokenizer_config(
        encode(
            {"chat_template": [{"name": "default", "template": "a"}, {"name": "tool_use", "template": "b"}]}
        )
    )
    assert [(t.name, t.text) for t in info.chat_templates] == [("default", "a"), ("tool_use", "b")]
    bad = parse_tokenizer_config(encode({"chat_template": 5, "eos_token": 3}))
    assert bad.chat_templates == ()
    assert [f.rule_id for f in bad.findings] == ["tokenizer.bad-type", "tokenizer.bad-type"]


def test_tokenizer_auto_map_is_custom_code() -> None:
    info = parse_tokenizer_config(
        encode({"auto_map": {"AutoTokenizer": ["tokenization_x.XTokenizer", None]}})
    )
    assert [f.rule_id for f in info.findings] == ["tokenizer.custom-code"]
    assert info.auto_map == (("AutoTokenizer", "tokenization_x.XTokenizer"),)


def test_special_tokens_map() -> None:
    info = parse_special_tokens_map(
        encode({"bos_token": {"content": "<|begin_of_text|>"}, "eos_token": "<|eot_id|>"}),
        "special_tokens_map.json",
    )
    assert (info.bos_token, info.eos_token) == ("<|begin_of_text|>", "<|eot_id|>")


def test_chat_template_files_hash_the_same_text() -> None:
    from_jinja = parse_chat_template_file(SSTI.replace("\n", "\r\n").encode(), "chat_template.jinja")
    from_json = parse_chat_template_file(encode({"chat_template": SSTI}), "chat_template.json")
    assert from_jinja == from_json


def test_chat_template_is_never_rendered(tmp_path: Path) -> None:
    # A fresh interpreter: no template engine is imported and the payload's marker file never appears.
    script = (
        "import json, sys\n"
        "from provenance.readers import jsonfiles\n"
        f"info = jsonfiles.parse_tokenizer_config(json.dumps({{'chat_template': {SSTI!r}}}).encode())\n"
        "json.dumps(info.to_json())\n"
        "assert 'jinja2' not in sys.modules, 'jinja2 imported'\n"
    )
    subprocess.run([sys.executable, "-c", script], cwd=tmp_path, check=True, timeout=60)
    assert not (tmp_path / "MARKER").exists()


# --- adapter and generation


def test_adapter_config() -> None:
    adapter = parse_adapter_config(
        encode(
            {
                "peft_type": "LORA",
                "base_model_name_or_path": "meta-llama/Llama-3.1-8B",
                "task_type": "CAUSAL_LM",
                "r": 16,
                "lora_alpha": 32,
                "target_modules": ["q_proj", "v_proj"],
            }
        )
    )
    assert (adapter.peft_type, adapter.base_model_name_or_path, adapter.r, adapter.lora_alpha) == (
        "LORA",
        "meta-llama/Llama-3.1-8B",
        16,
        32.0,
    )
    assert adapter.target_modules == ("q_proj", "v_proj")
    assert adapter.findings == ()


@pytest.mark.parametrize("base", ["/home/me/llama", "./llama", "~/m", "C:\\models\\llama", "models\\llama"])
def test_adapter_with_a_local_base_path(base: str) -> None:
    adapter = parse_adapter_config(encode({"base_model_name_or_path": base, "target_modules": ".*proj"}))
    assert [f.rule_id for f in adapter.findings] == ["adapter.local-base-model"]
    assert adapter.target_modules == (".*proj",)


def test_adapter_without_base() -> None:
    assert [f.rule_id for f in parse_adapter_config(b"{}").findings] == ["adapter.no-base-model"]


def test_generation_config() -> None:
    gen = parse_generation_config(
        encode(
            {
                "bos_token_id": 1,
                "eos_token_id": [2, 3],
                "do_sample": True,
                "temperature": 0.6,
                "top_p": 0.95,
                "transformers_version": "4.46.0",
            }
        )
    )
    assert (gen.bos_token_id, gen.eos_token_id, gen.do_sample, gen.temperature, gen.top_p) == (
        (1,),
        (2, 3),
        True,
        0.6,
        0.95,
    )


# --- shard index

INDEX = {
    "metadata": {"total_size": 1000},
    "weight_map": {
        "model.embed_tokens.weight": "model-00001-of-00002.safetensors",
        "model.layers.0.mlp.weight": "model-00001-of-00002.safetensors",
        "lm_head.weight": "model-00002-of-00002.safetensors",
    },
}


def test_shard_index() -> None:
    index = parse_shard_index(encode(INDEX))
    assert index.total_size == 1000
    assert index.shards == ("model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors")
    assert index.tensors_per_shard["model-00002-of-00002.safetensors"] == {"lm_head.weight"}
    assert index.findings == ()
    assert index.to_json()["tensor_count"] == 3


@pytest.mark.parametrize(
    ("shard", "problem"),
    [
        ("../x.safetensors", "`..`"),
        ("a/../../x.safetensors", "`..`"),
        ("/etc/passwd", "absolute path"),
        ("C:/x.safetensors", "absolute path"),
        ("a\\x.safetensors", "backslash"),
        ("", "empty"),
        (7, "must be a string"),
    ],
)
def test_bad_shard_names_are_errors_naming_index_and_shard(shard: Any, problem: str) -> None:
    data = encode({"weight_map": {"w": shard}})
    with pytest.raises(MalformedFileError) as caught:
        parse_shard_index(data, "model.safetensors.index.json")
    message = str(caught.value)
    assert message.startswith("model.safetensors.index.json: weight_map['w'] names shard")
    assert repr(shard) in message
    assert problem in message


def test_index_without_weight_map() -> None:
    with pytest.raises(MalformedFileError, match="weight_map must be an object, got null"):
        parse_shard_index(b'{"metadata": {}}')


def test_index_matches_headers() -> None:
    index = parse_shard_index(encode(INDEX))
    headers = {shard: set(names) for shard, names in index.tensors_per_shard.items()}
    assert check_index_against_headers(index, headers) == []


def test_index_against_headers_names_missing_shards_and_tensor_differences() -> None:
    index = parse_shard_index(encode(INDEX), "pytorch_model.bin.index.json")
    headers = {
        "model-00001-of-00002.safetensors": {"model.embed_tokens.weight", "model.norm.weight"},
        "model-00003-of-00003.safetensors": {"extra.weight"},
    }
    findings = check_index_against_headers(index, headers)
    mlp, norm = "model.layers.0.mlp.weight", "model.norm.weight"
    one, two, three = (f"model-0000{n}-of-0000{m}.safetensors" for n, m in ((1, 2), (2, 2), (3, 3)))
    assert [(f.rule_id, f.message.removeprefix("pytorch_model.bin.index.json: ")) for f in findings] == [
        ("index.tensor-mismatch", f"{one} lacks tensor {mlp} that the index assigns to it"),
        ("index.tensor-mismatch", f"{one} holds tensor {norm} that the index does not assign to it"),
        ("index.missing-shard", f"shard {two} (1 tensor) is not present"),
        ("index.unreferenced-shard", f"shard {three} is present but the index does not name it"),
    ]
    assert all(f.location == "pytorch_model.bin.index.json" for f in findings)


def test_many_tensor_differences_are_summarised() -> None:
    index = parse_shard_index(encode({"weight_map": {f"t{i:02}": "a.safetensors" for i in range(12)}}))
    (finding,) = check_index_against_headers(index, {"a.safetensors": set()})
    assert "12 tensors t00, t01, t02, t03, t04 (+7 more)" in finding.message
