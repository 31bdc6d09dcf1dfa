"""Text decoding, license files, Git LFS pointers, path classification and content sniffing."""

from __future__ import annotations

import codecs
import hashlib
import io
import pickle
import struct
import tarfile
import zipfile

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from provenance.model import Severity
from provenance.readers.textfiles import (
    TORCH_LEGACY_MAGIC,
    ContentType,
    FileKind,
    LfsPointer,
    LicenseKind,
    classify_path,
    content_mismatch,
    decode_text,
    parse_lfs_pointer,
    read_license_file,
    sniff,
)

MIT = (
    "MIT License\n\nCopyright (c) 2023 DeepSeek — Zürich\n\n"
    "Permission is hereby granted, free of charge, to any person obtaining a copy\n"
    'of this software and associated documentation files (the "Software").\n'
)
OID = "4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393"
POINTER = f"version https://git-lfs.github.com/spec/v1\noid sha256:{OID}\nsize 12345\n".encode()


# --- decode_text


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        (MIT.encode(), "utf-8"),
        (codecs.BOM_UTF8 + MIT.encode(), "utf-8-sig"),
        (codecs.BOM_UTF16_LE + MIT.encode("utf-16-le"), "utf-16-le"),
        (codecs.BOM_UTF16_BE + MIT.encode("utf-16-be"), "utf-16-be"),
        (codecs.BOM_UTF32_LE + MIT.encode("utf-32-le"), "utf-32-le"),
        (MIT.replace("\n", "\r\n").encode(), "utf-8"),
        (MIT.replace("\n", "\r").encode(), "utf-8"),
        (codecs.BOM_UTF16_LE + MIT.replace("\n", "\r\n").encode("utf-16-le"), "utf-16-le"),
    ],
)
def test_decode_text_gives_the_same_text(data: bytes, encoding: str) -> None:
    assert decode_text(data, "LICENSE") == (MIT, encoding, ())


def test_latin1_fallback_is_stated() -> None:
    text, encoding, findings = decode_text(MIT.encode("latin-1", errors="replace"), "LICENSE")
    assert encoding == "latin-1"
    assert "Zürich" in text
    assert [f.rule_id for f in findings] == ["text.latin1-fallback"]
    assert findings[0].message == "LICENSE is not valid UTF-8 (byte 0xfc at offset 44); decoded as Latin-1"


def test_invalid_utf16_after_bom_is_replaced_with_a_finding() -> None:
    text, encoding, findings = decode_text(
        codecs.BOM_UTF16_LE + "ab".encode("utf-16-le") + b"\x00\xd8", "LICENSE"
    )
    assert (text, encoding) == ("ab\ufffd", "utf-16-le")
    assert [f.rule_id for f in findings] == ["text.decode-errors"]


def test_invalid_utf8_after_bom_falls_back_to_latin1() -> None:
    text, encoding, findings = decode_text(codecs.BOM_UTF8 + b"caf\xe9", "LICENSE")
    assert (text, encoding) == ("café", "latin-1")
    assert [f.rule_id for f in findings] == ["text.latin1-fallback"]


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_fuzz_decode_text_never_raises(data: bytes) -> None:
    text, _, _ = decode_text(data, "x")
    assert "\r" not in text


# --- license files


LATIN1_MIT = MIT.replace("—", "-")


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (MIT.replace("\n", "\r\n").encode(), MIT),
        (codecs.BOM_UTF16_LE + MIT.replace("\n", "\r\n").encode("utf-16-le"), MIT),
        (codecs.BOM_UTF8 + MIT.encode(), MIT),
        (LATIN1_MIT.replace("\n", "\r\n").encode("latin-1"), LATIN1_MIT),
    ],
    ids=["crlf", "utf16-crlf", "bom", "latin1-crlf"],
)
def test_license_in_any_encoding_normalises_to_the_utf8_lf_text(data: bytes, expected: str) -> None:
    license_text = read_license_file(data, "LICENSE")
    assert license_text.text == read_license_file(expected.encode(), "LICENSE").text == expected
    assert license_text.sha256 == hashlib.sha256(data).hexdigest()
    assert license_text.kind is LicenseKind.LICENSE


def test_license_record() -> None:
    lic = read_license_file(MIT.encode(), "sub/LICENSE.txt")
    assert (lic.name, lic.kind, lic.size, lic.encoding, lic.truncated, lic.findings) == (
        "sub/LICENSE.txt",
        LicenseKind.LICENSE,
        len(MIT.encode()),
        "utf-8",
        False,
        (),
    )
    assert lic.to_json()["kind"] == "LICENSE"


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("NOTICE", LicenseKind.NOTICE),
        ("USE_POLICY.md", LicenseKind.USE_POLICY),
        ("README.md", LicenseKind.OTHER),
    ],
)
def test_license_kinds(name: str, kind: LicenseKind) -> None:
    assert read_license_file(b"text", name).kind is kind


def test_binary_license_is_a_finding() -> None:
    lic = read_license_file(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "LICENSE")
    assert [(f.rule_id, f.severity) for f in lic.findings][-1] == ("license.binary", Severity.HIGH)


def test_utf16_license_is_not_mistaken_for_binary() -> None:
    assert read_license_file(codecs.BOM_UTF16_LE + MIT.encode("utf-16-le"), "LICENSE").findings == ()


@pytest.mark.parametrize("data", [b"", b"  \r\n\t\n"])
def test_empty_license_is_a_finding(data: bytes) -> None:
    assert [f.rule_id for f in read_license_file(data, "LICENSE").findings] == ["license.empty"]


def test_hundred_megabyte_license_is_capped() -> None:
    data = MIT.encode() * (100 * 1024 * 1024 // len(MIT.encode()) + 1)
    lic = read_license_file(data, "LICENSE")
    assert lic.truncated
    assert len(lic.text.encode()) <= 1024 * 1024
    assert lic.size == len(data)
    (finding,) = lic.findings
    assert finding.rule_id == "license.too-large"
    assert finding.message.startswith(f"license file too large: LICENSE has {len(data)} bytes")


@pytest.mark.parametrize(
    ("data", "cap"),
    [
        ("aé".encode() * 10, 4),  # cap falls inside the two bytes of é
        ("a😀".encode() * 10, 7),  # inside a four-byte character
        (codecs.BOM_UTF16_LE + "a😀".encode("utf-16-le") * 10, 7),  # odd cut, then a split surrogate pair
        (codecs.BOM_UTF16_BE + "a😀".encode("utf-16-be") * 10, 6),
        (codecs.BOM_UTF32_LE + "aé".encode("utf-32-le") * 10, 10),
    ],
)
def test_truncation_never_splits_a_character(data: bytes, cap: int) -> None:
    lic = read_license_file(data, "LICENSE", cap=cap)
    assert lic.truncated
    assert [f.rule_id for f in lic.findings] == ["license.too-large"]
    assert "\ufffd" not in lic.text
    assert lic.encoding != "latin-1"


# --- LFS pointers


def test_lfs_pointer() -> None:
    pointer = parse_lfs_pointer(POINTER)
    assert pointer == LfsPointer(oid=OID, size=12345)
    assert pointer.describe() == f"LFS pointer (oid sha256:{OID}, size 12345); weights not present"
    assert pointer.to_json() == {"oid": f"sha256:{OID}", "size": 12345, "extra": {}}


def test_lfs_pointer_with_extension_keys_keeps_them() -> None:
    data = (
        f"version https://git-lfs.github.com/spec/v1\next-0-foo sha256:{'1' * 64}\noid sha256:{OID}\nsize 0\n"
    ).encode()
    pointer = parse_lfs_pointer(data)
    assert pointer is not None
    assert pointer.extra == (("ext-0-foo", "sha256:" + "1" * 64),)
    assert pointer.size == 0


@pytest.mark.parametrize(
    "data",
    [
        POINTER[:-1],
        POINTER.replace(b"\n", b"\r\n"),
        POINTER.replace(OID.encode(), OID.upper().encode()),
        POINTER.replace(OID.encode(), OID[:-1].encode()),
        POINTER.replace(b"sha256:", b"sha1:"),
        POINTER.replace(b"size 12345", b"size 012345"),
        POINTER.replace(b"size 12345", b"size -1"),
        POINTER.replace(b"size 12345", b"size  12345"),
        POINTER.replace(b"spec/v1", b"spec/v2"),
        POINTER.replace(b"https://git-lfs.github.com/spec/v1", b"https://hawser.github.com/spec/v1"),
        f"version https://git-lfs.github.com/spec/v1\nsize 12345\noid sha256:{OID}\n".encode(),
        f"version https://git-lfs.github.com/spec/v1\noid sha256:{OID}\n".encode(),
        POINTER + b"size 1\n",
        POINTER + b"Zed x\n",
        POINTER + b"x" * 1024 + b" y\n",
        b"",
        b"\x00" * 100,
    ],
)
def test_not_an_lfs_pointer(data: bytes) -> None:
    assert parse_lfs_pointer(data) is None


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200).map(lambda b: POINTER[:40] + b))
def test_fuzz_lfs_pointer_never_raises(data: bytes) -> None:
    parse_lfs_pointer(data)


# --- path kinds


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("README.md", FileKind.CARD),
        ("readme.md", FileKind.CARD),
        ("config.json", FileKind.CONFIG),
        ("text_encoder/config.json", FileKind.CONFIG),
        ("generation_config.json", FileKind.GENERATION_CONFIG),
        ("tokenizer_config.json", FileKind.TOKENIZER_CONFIG),
        ("special_tokens_map.json", FileKind.SPECIAL_TOKENS_MAP),
        ("tokenizer.json", FileKind.TOKENIZER_JSON),
        ("chat_template.jinja", FileKind.CHAT_TEMPLATE),
        ("adapter_config.json", FileKind.ADAPTER_CONFIG),
        ("model.safetensors.index.json", FileKind.SHARD_INDEX),
        ("pytorch_model.bin.index.json", FileKind.SHARD_INDEX),
        ("quantize_config.json", FileKind.QUANT_CONFIG),
        ("quant_config.json", FileKind.QUANT_CONFIG),
        ("model-00001-of-00002.safetensors", FileKind.SAFETENSORS),
        ("Llama-3.3-70B-Q4_K_M.gguf", FileKind.GGUF),
        ("pytorch_model.bin", FileKind.PICKLE),
        ("model.pt", FileKind.PICKLE),
        ("weights.PTH", FileKind.PICKLE),
        ("optimizer.ckpt", FileKind.PICKLE),
        ("LICENSE", FileKind.LICENSE),
        ("LICENSE.txt", FileKind.LICENSE),
        ("LICENSE-MODEL", FileKind.LICENSE),
        ("license.md", FileKind.LICENSE),
        ("LICENCE", FileKind.LICENSE),
        ("COPYING", FileKind.LICENSE),
        ("NOTICE", FileKind.NOTICE),
        ("NOTICE.txt", FileKind.NOTICE),
        ("USE_POLICY.md", FileKind.USE_POLICY),
        ("Acceptable-Use-Policy.md", FileKind.USE_POLICY),
        ("LICENSE.safetensors", FileKind.SAFETENSORS),
        ("licenses.py", FileKind.OTHER),
        ("merges.txt", FileKind.OTHER),
        ("model", FileKind.OTHER),
    ],
)
def test_classify_path(path: str, kind: FileKind) -> None:
    assert classify_path(path) is kind


# --- sniffing


def safetensors_bytes() -> bytes:
    header = b'{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}'
    return struct.pack("<Q", len(header)) + header + b"\x00" * 4


def zip_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("archive/data.pkl", pickle.dumps({"a": 1}, protocol=2))
    return buffer.getvalue()


def tar_bytes() -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.USTAR_FORMAT) as archive:
        info = tarfile.TarInfo("storages")
        info.size = 1
        archive.addfile(info, io.BytesIO(b"x"))
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("data", "content"),
    [
        (safetensors_bytes(), ContentType.SAFETENSORS),
        (b"GGUF\x03\x00\x00\x00" + b"\x00" * 16, ContentType.GGUF),
        (zip_bytes(), ContentType.ZIP),
        (pickle.dumps([1, 2], protocol=2), ContentType.PICKLE),
        (pickle.dumps([1, 2], protocol=5), ContentType.PICKLE),
        (TORCH_LEGACY_MAGIC + b".\x80\x02}q\x00.", ContentType.TORCH_LEGACY),
        (tar_bytes(), ContentType.TAR),
        (POINTER, ContentType.LFS_POINTER),
        (b"", ContentType.EMPTY),
        (b"{}", ContentType.UNKNOWN),
        (b"\x80", ContentType.UNKNOWN),
        (b"\x08\x00\x00\x00\x00\x00\x00\x00[", ContentType.UNKNOWN),
        (b"\xff" * 8 + b"{", ContentType.UNKNOWN),
    ],
)
def test_sniff(data: bytes, content: ContentType) -> None:
    assert sniff(data[:1024]) is content


def test_tar_needs_262_bytes() -> None:
    data = tar_bytes()
    assert sniff(data[:262]) is ContentType.TAR
    assert sniff(data[:261]) is ContentType.UNKNOWN


@pytest.mark.parametrize(
    ("path", "data", "rule", "fragment"),
    [
        (
            "model.safetensors",
            zip_bytes(),
            "file.content-mismatch",
            "the name says safetensors, the content is zip",
        ),
        (
            "model.gguf",
            safetensors_bytes(),
            "file.content-mismatch",
            "the content is safetensors; read as safetensors",
        ),
        ("pytorch_model.bin", safetensors_bytes(), "file.content-mismatch", "the name says pickle"),
        ("pytorch_model.bin", b"(lp0\nI1\na.", "file.content-mismatch", "the content is no known format"),
        ("config.json", zip_bytes(), "file.content-mismatch", "the name says config, the content is zip"),
        (
            "weights",
            pickle.dumps(1, protocol=4),
            "file.content-mismatch",
            "the name says other, the content is pickle",
        ),
        ("model.safetensors", POINTER, "file.lfs-pointer", f"LFS pointer (oid sha256:{OID}, size 12345)"),
        (
            "model.safetensors",
            POINTER[:-1] + b"x\n",
            "file.malformed-lfs-pointer",
            "malformed Git LFS pointer",
        ),
        ("model.safetensors", b"", "file.empty", "empty file"),
    ],
)
def test_content_mismatch(path: str, data: bytes, rule: str, fragment: str) -> None:
    finding = content_mismatch(path, data[:1024])
    assert finding is not None
    assert finding.rule_id == rule
    assert fragment in finding.message
    assert finding.location == path


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("model.safetensors", safetensors_bytes()),
        ("pytorch_model.bin", zip_bytes()),
        ("pytorch_model.bin", TORCH_LEGACY_MAGIC),
        ("model.gguf", b"GGUF\x03\x00\x00\x00"),
        ("config.json", b'{"a": 1}'),
        ("README.md", b""),
    ],
)
def test_no_mismatch(path: str, data: bytes) -> None:
    assert content_mismatch(path, data) is None
