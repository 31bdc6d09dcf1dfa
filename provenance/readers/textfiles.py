"""Text files of a model repo: decoding, LICENSE/NOTICE/USE_POLICY, Git LFS pointers, path and content kinds.

Every function here is pure: bytes (or a path string) in, a frozen record or a string out. Nothing is read
from disk; the caller decides how many bytes to hand over.
"""

from __future__ import annotations

import codecs
import enum
import hashlib
import re
from dataclasses import dataclass
from typing import Any

from provenance.model import Finding, Severity

LICENSE_CAP = 1024 * 1024
LFS_POINTER_MAX = 1024
LFS_SPEC_V1 = "https://git-lfs.github.com/spec/v1"
SNIFF_BYTES = 262  # enough for the tar `ustar` magic at offset 257

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


# --- decoding


def decode_text(data: bytes, name: str) -> tuple[str, str, tuple[Finding, ...]]:
    """Decode text the way a careful reader would, and say how: (text with LF newlines, encoding, findings).

    A BOM decides (UTF-8, UTF-16 LE/BE, UTF-32 LE/BE) and is dropped. Without one, UTF-8 is tried and
    Latin-1 is the stated fallback. Bytes invalid after a UTF-16/32 BOM become U+FFFD, with a finding.
    Never raises.
    """
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return _decode_after_bom(data[len(bom) :], encoding, name)
    try:
        return _normalise_newlines(data.decode("utf-8")), "utf-8", ()
    except UnicodeDecodeError as exc:
        return _normalise_newlines(data.decode("latin-1")), "latin-1", (_latin1_finding(data, exc, name),)


def _decode_after_bom(body: bytes, encoding: str, name: str) -> tuple[str, str, tuple[Finding, ...]]:
    codec = "utf-8" if encoding == "utf-8-sig" else encoding
    try:
        return _normalise_newlines(body.decode(codec)), encoding, ()
    except UnicodeDecodeError as exc:
        if codec == "utf-8":
            return _normalise_newlines(body.decode("latin-1")), "latin-1", (_latin1_finding(body, exc, name),)
        finding = Finding(
            "text.decode-errors",
            Severity.MEDIUM,
            f"{name} has a {encoding.upper()} byte-order mark but invalid {encoding.upper()} data "
            f"at byte {exc.start + _bom_length(encoding)}; invalid bytes replaced with U+FFFD",
            location=name,
            fix=f"re-save {name} as UTF-8",
        )
        return _normalise_newlines(body.decode(codec, errors="replace")), encoding, (finding,)


def _bom_length(encoding: str) -> int:
    return next(len(bom) for bom, enc in _BOMS if enc == encoding)


def _latin1_finding(data: bytes, exc: UnicodeDecodeError, name: str) -> Finding:
    return Finding(
        "text.latin1-fallback",
        Severity.LOW,
        f"{name} is not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start}); decoded as Latin-1",
        location=name,
        fix=f"re-save {name} as UTF-8",
    )


def _normalise_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


# --- licenses


class LicenseKind(enum.StrEnum):
    LICENSE = "LICENSE"
    NOTICE = "NOTICE"
    USE_POLICY = "USE_POLICY"
    OTHER = "other"


@dataclass(frozen=True)
class LicenseText:
    """A license-like file as text: newlines normalised to LF, BOM dropped, `sha256` over the bytes given."""

    name: str
    kind: LicenseKind
    text: str
    sha256: str
    size: int
    encoding: str
    truncated: bool
    findings: tuple[Finding, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": str(self.kind),
            "text": self.text,
            "sha256": self.sha256,
            "size": self.size,
            "encoding": self.encoding,
            "truncated": self.truncated,
            "findings": [f.to_json() for f in self.findings],
        }


def read_license_file(data: bytes, name: str, cap: int = LICENSE_CAP) -> LicenseText:
    """Read a LICENSE, NOTICE or USE_POLICY file; oversize, binary and empty files are findings."""
    truncated = len(data) > cap
    body = data[: _char_boundary(data, cap)] if truncated else data
    text, encoding, decode_findings = decode_text(body, name)
    findings = list(decode_findings)
    if truncated:
        findings.append(
            Finding(
                "license.too-large",
                Severity.MEDIUM,
                f"license file too large: {name} has {len(data)} bytes; only the first {len(body)} were read",
                location=name,
            )
        )
    if "\x00" in text:
        findings.append(
            Finding(
                "license.binary",
                Severity.HIGH,
                f"{name} contains NUL bytes: binary content, not license text",
                location=name,
                fix=f"replace {name} with the license text",
            )
        )
    elif not text.strip():
        findings.append(Finding("license.empty", Severity.MEDIUM, f"{name} is empty", location=name))
    return LicenseText(
        name=name,
        kind=license_kind(name),
        text=text,
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
        encoding=encoding,
        truncated=truncated,
        findings=tuple(findings),
    )


def _char_boundary(data: bytes, cap: int) -> int:
    """The largest cut <= cap that does not split a character of the file's encoding."""
    if data.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        return cap - (cap - 4) % 4
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        cut = cap - cap % 2
        high = data[cut - 1] if data.startswith(codecs.BOM_UTF16_LE) else data[cut - 2]
        return cut - 2 if cut > 2 and 0xD8 <= high <= 0xDB else cut
    cut = cap
    while cut > max(cap - 3, 0) and 0x80 <= data[cut] <= 0xBF:
        cut -= 1
    return cut


def license_kind(path: str) -> LicenseKind:
    kind = classify_path(path)
    return {
        FileKind.LICENSE: LicenseKind.LICENSE,
        FileKind.NOTICE: LicenseKind.NOTICE,
        FileKind.USE_POLICY: LicenseKind.USE_POLICY,
    }.get(kind, LicenseKind.OTHER)


# --- LFS pointers


@dataclass(frozen=True)
class LfsPointer:
    """A Git LFS pointer: the weights are elsewhere; `oid` is the sha256 the real file must have."""

    oid: str
    size: int
    extra: tuple[tuple[str, str], ...] = ()

    def describe(self) -> str:
        return f"LFS pointer (oid sha256:{self.oid}, size {self.size}); weights not present"

    def to_json(self) -> dict[str, Any]:
        return {"oid": f"sha256:{self.oid}", "size": self.size, "extra": dict(self.extra)}


_LFS_KEY = re.compile(r"[a-z0-9.-]+")
_LFS_OID = re.compile(r"sha256:([0-9a-f]{64})")
_LFS_SIZE = re.compile(r"0|[1-9][0-9]{0,19}")


def parse_lfs_pointer(data: bytes) -> LfsPointer | None:
    """The pointer if `data` is exactly a v1 Git LFS pointer per the spec, else None (most files are not).

    Strict: under 1024 bytes, UTF-8, every line `key value\\n`, `version` first, other keys sorted and unique,
    `oid sha256:<64 lowercase hex>` and `size <decimal>` present. Unknown keys are kept in `extra`.
    """
    if not 0 < len(data) < LFS_POINTER_MAX or not data.startswith(b"version ") or not data.endswith(b"\n"):
        return None
    try:
        lines = data.decode("utf-8")[:-1].split("\n")
    except UnicodeDecodeError:
        return None
    pairs = [line.partition(" ") for line in lines]
    if any(not sep or not _LFS_KEY.fullmatch(k) or not v or v[0] == " " or "\r" in v for k, sep, v in pairs):
        return None
    if (pairs[0][0], pairs[0][2]) != ("version", LFS_SPEC_V1):
        return None
    rest = [(k, v) for k, _, v in pairs[1:]]
    keys = [k for k, _ in rest]
    if keys != sorted(set(keys)):
        return None
    values = dict(rest)
    oid = _LFS_OID.fullmatch(values.pop("oid", ""))
    size = values.pop("size", "")
    if oid is None or not _LFS_SIZE.fullmatch(size):
        return None
    return LfsPointer(oid=oid.group(1), size=int(size), extra=tuple(sorted(values.items())))


# --- path kinds


# A LICENSE at the top of a repo speaks for the weights (one in a sub-folder may be a dependency's).
ROOT_LICENSE_NAMES = frozenset(
    {"license", "license.md", "license.txt", "licence", "licence.md", "licence.txt"}
)


class FileKind(enum.StrEnum):
    CARD = "card"
    CONFIG = "config"
    GENERATION_CONFIG = "generation_config"
    TOKENIZER_CONFIG = "tokenizer_config"
    SPECIAL_TOKENS_MAP = "special_tokens_map"
    TOKENIZER_JSON = "tokenizer_json"
    CHAT_TEMPLATE = "chat_template"
    ADAPTER_CONFIG = "adapter_config"
    SHARD_INDEX = "shard_index"
    QUANT_CONFIG = "quant_config"
    SAFETENSORS = "safetensors"
    GGUF = "gguf"
    PICKLE = "pickle"
    LICENSE = "license"
    NOTICE = "notice"
    USE_POLICY = "use_policy"
    OTHER = "other"


_EXACT_NAMES = {
    "readme.md": FileKind.CARD,
    "config.json": FileKind.CONFIG,
    "generation_config.json": FileKind.GENERATION_CONFIG,
    "tokenizer_config.json": FileKind.TOKENIZER_CONFIG,
    "special_tokens_map.json": FileKind.SPECIAL_TOKENS_MAP,
    "tokenizer.json": FileKind.TOKENIZER_JSON,
    "chat_template.jinja": FileKind.CHAT_TEMPLATE,
    "chat_template.json": FileKind.CHAT_TEMPLATE,
    "adapter_config.json": FileKind.ADAPTER_CONFIG,
    "quantize_config.json": FileKind.QUANT_CONFIG,
    "quant_config.json": FileKind.QUANT_CONFIG,
    "quantization_config.json": FileKind.QUANT_CONFIG,
}
_SUFFIXES = (
    (".safetensors.index.json", FileKind.SHARD_INDEX),
    (".bin.index.json", FileKind.SHARD_INDEX),
    (".safetensors", FileKind.SAFETENSORS),
    (".gguf", FileKind.GGUF),
    (".bin", FileKind.PICKLE),
    (".pt", FileKind.PICKLE),
    (".pth", FileKind.PICKLE),
    (".ckpt", FileKind.PICKLE),
    (".pkl", FileKind.PICKLE),
    (".pickle", FileKind.PICKLE),
    (".joblib", FileKind.PICKLE),
)
_TEXT_STEM = r"(?:[-_. ][^/]*)?(?:\.(?:txt|md|rst))?"
_LEGAL_NAMES = (
    (re.compile(rf"(?:LICEN[SC]E|COPYING){_TEXT_STEM}", re.IGNORECASE), FileKind.LICENSE),
    (re.compile(rf"NOTICE{_TEXT_STEM}", re.IGNORECASE), FileKind.NOTICE),
    (re.compile(rf"(?:ACCEPTABLE[-_ ]?)?USE[-_ ]?POLICY{_TEXT_STEM}", re.IGNORECASE), FileKind.USE_POLICY),
)


def classify_path(path: str) -> FileKind:
    """Which reader a repo-relative path is meant for, by its name alone (`sniff` judges the content)."""
    base = path.replace("\\", "/").rsplit("/", 1)[-1]
    lower = base.lower()
    if lower in _EXACT_NAMES:
        return _EXACT_NAMES[lower]
    for suffix, kind in _SUFFIXES:
        if lower.endswith(suffix):
            return kind
    for pattern, kind in _LEGAL_NAMES:
        if pattern.fullmatch(base):
            return kind
    return FileKind.OTHER


# --- content sniffing


class ContentType(enum.StrEnum):
    SAFETENSORS = "safetensors"
    GGUF = "gguf"
    ZIP = "zip"
    PICKLE = "pickle"
    TORCH_LEGACY = "torch_legacy"
    TAR = "tar"
    LFS_POINTER = "lfs_pointer"
    EMPTY = "empty"
    UNKNOWN = "unknown"


# torch's legacy (pre-1.6) format opens with this magic number, pickled with protocol 2.
TORCH_LEGACY_MAGIC = b"\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19"
_SAFETENSORS_MAX_HEADER = 100_000_000


def sniff(prefix: bytes) -> ContentType:
    """What the leading bytes say a file is. Give SNIFF_BYTES (262) bytes or more, or the whole file."""
    if not prefix:
        return ContentType.EMPTY
    if prefix.startswith(b"version " + LFS_SPEC_V1.encode() + b"\n"):
        return ContentType.LFS_POINTER
    if prefix.startswith(b"GGUF"):
        return ContentType.GGUF
    if prefix[:4] in (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08"):
        return ContentType.ZIP
    if prefix[257:262] == b"ustar":
        return ContentType.TAR
    if prefix.startswith(TORCH_LEGACY_MAGIC):
        return ContentType.TORCH_LEGACY
    if prefix[0] == 0x80 and len(prefix) > 1 and 2 <= prefix[1] <= 5:
        return ContentType.PICKLE
    if (
        len(prefix) >= 9
        and prefix[8:9] == b"{"
        and 2 <= int.from_bytes(prefix[:8], "little") <= _SAFETENSORS_MAX_HEADER
    ):
        return ContentType.SAFETENSORS
    return ContentType.UNKNOWN


_EXPECTED_CONTENT = {
    FileKind.SAFETENSORS: {ContentType.SAFETENSORS},
    FileKind.GGUF: {ContentType.GGUF},
    FileKind.PICKLE: {ContentType.ZIP, ContentType.PICKLE, ContentType.TORCH_LEGACY, ContentType.TAR},
}
_BINARY_CONTENT = set().union(*_EXPECTED_CONTENT.values())


def content_mismatch(path: str, prefix: bytes) -> Finding | None:
    """A finding when the name and the leading bytes disagree, or the file is only an LFS pointer; else None.

    `prefix` should hold the first 1024 bytes (so that a whole LFS pointer is visible) or the whole file.
    Readers should follow the sniffed type, not the extension.
    """
    kind = classify_path(path)
    content = sniff(prefix)
    weights = kind in _EXPECTED_CONTENT
    if content is ContentType.LFS_POINTER:
        pointer = parse_lfs_pointer(prefix)
        if pointer is None:
            return Finding(
                "file.malformed-lfs-pointer", Severity.HIGH, f"{path}: malformed Git LFS pointer", path
            )
        return Finding(
            "file.lfs-pointer", Severity.HIGH if weights else Severity.MEDIUM, pointer.describe(), path
        )
    if content is ContentType.EMPTY:
        return Finding("file.empty", Severity.HIGH, f"{path}: empty file", path) if weights else None
    if weights and content not in _EXPECTED_CONTENT[kind]:
        return _mismatch(path, kind, content)
    if not weights and content in _BINARY_CONTENT:
        return _mismatch(path, kind, content)
    return None


def _mismatch(path: str, kind: FileKind, content: ContentType) -> Finding:
    found = "no known format" if content is ContentType.UNKNOWN else f"{content}; read as {content}"
    return Finding(
        "file.content-mismatch",
        Severity.HIGH,
        f"{path}: the name says {kind}, the content is {found}",
        location=path,
        fix="rename the file to match its format",
    )
