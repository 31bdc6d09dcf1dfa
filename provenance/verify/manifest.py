"""What a checkpoint's files should hash to: from a source's listing (Hub, HF cache, knowledge base), from our
lock file, or from an OpenSSF model-signing manifest (a sigstore bundle, a DSSE envelope, or a bare in-toto
statement).

Pure parsers over bytes; `read_expectation` is the one bounded file read. A model-signing signature is *not*
verified here (that needs sigstore and the signer's identity): its digests are read and checked against the
files, and the report says that the signature itself was not checked.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from provenance.errors import InputError, LimitExceededError, MalformedFileError
from provenance.model import FileEntry

MAX_MANIFEST = 64 * 1024 * 1024
IN_TOTO_STATEMENT = "https://in-toto.io/Statement/v1"
IN_TOTO_STATEMENT_V01 = "https://in-toto.io/Statement/v0.1"
MODEL_SIGNING_V1 = "https://model_signing/signature/v1.0"
MODEL_SIGNING_V01 = "https://model_signing/Digests/v0.1"
SIGNATURE_NOT_CHECKED = (
    "the manifest's signature was not verified (use `model_signing verify` with the signer's identity); "
    "only its digests were checked against the files"
)
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_SHA1 = re.compile(r"^[0-9a-f]{40}$")
_HINT = (
    "expected a provenance.lock, a model-signing signature (sigstore bundle), a DSSE envelope or an in-toto "
    "statement"
)


@dataclass(frozen=True)
class ExpectedRange:
    """A byte range of a file and its sha256 (model-signing `shards` serialization)."""

    begin: int
    end: int
    sha256: str


@dataclass(frozen=True)
class ExpectedFile:
    """A file that should be there. No digest at all means unverifiable, with `reason`."""

    path: str
    size: int | None = None
    sha256: str | None = None
    git_sha1: str | None = None
    lfs: bool = False
    ranges: tuple[ExpectedRange, ...] = ()
    reason: str = ""

    @property
    def algorithms(self) -> tuple[str, ...]:
        named = (("sha256", self.sha256), ("git-sha1", self.git_sha1))
        return tuple(name for name, value in named if value is not None)

    def expected(self, algorithm: str) -> str | None:
        return {"sha256": self.sha256, "git-sha1": self.git_sha1}.get(algorithm)


@dataclass(frozen=True)
class Expectation:
    """Every file a checkpoint should hold, where that list came from, and the tensor digest if known.

    `ignore`: local paths (or folders) never judged, e.g. the manifest file itself or model-signing's
    `ignore_paths`.
    """

    kind: str
    source: str
    files: tuple[ExpectedFile, ...]
    tensor_digest: str | None = None
    ignore: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default_factory=tuple)

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "source": self.source, "notes": list(self.notes)}


def from_entries(
    entries: Iterable[FileEntry], kind: str, source: str, notes: tuple[str, ...] = ()
) -> Expectation:
    """A source's listing: LFS sha256 for LFS files, the git blob sha1 for others (as the Hub publishes)."""
    files = []
    for entry in entries:
        sha256 = entry.lfs_sha256 if entry.lfs_sha256 and _SHA256.match(entry.lfs_sha256) else None
        sha1 = (
            entry.git_blob_id if not sha256 and entry.git_blob_id and _SHA1.match(entry.git_blob_id) else None
        )
        reason = "" if sha256 or sha1 else f"no published digest ({kind})"
        files.append(
            ExpectedFile(entry.path, entry.size, sha256, sha1, lfs=sha256 is not None, reason=reason)
        )
    return Expectation(kind, source, tuple(sorted(files, key=lambda f: f.path)), notes=notes)


def read_json_file(path: Path, what: str = "manifest") -> tuple[Any, str]:
    """The parsed JSON of a small file (bounded read), and its display name; errors name the file."""
    name = str(path)
    try:
        if not path.is_file():
            raise InputError(name, f"not a regular file (a {what} is expected)")
        size = path.stat().st_size
        if size > MAX_MANIFEST:
            raise LimitExceededError(name, f"{size} bytes, over the {MAX_MANIFEST}-byte {what} cap")
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError(name, "no such file") from None
    except OSError as exc:
        raise InputError(name, f"cannot read: {exc.strerror}") from None
    return parse_json(data, name), name


def read_expectation(path: Path) -> Expectation:
    """Read a lock file or a model-signing / in-toto manifest (bounded), detected by its content."""
    document, name = read_json_file(path)
    expectation = expectation_of(document, name)
    return replace(expectation, ignore=(*expectation.ignore, path.name))


def parse_expectation(data: bytes, name: str) -> Expectation:
    return expectation_of(parse_json(data, name), name)


def expectation_of(document: Any, name: str) -> Expectation:
    if not isinstance(document, dict):
        raise MalformedFileError(name, "not a JSON object", _HINT)
    from provenance.verify.lock import is_lock, parse_lock  # noqa: PLC0415  (lock imports this module)

    if is_lock(document):
        return parse_lock(document, name).expectation()
    if "dsseEnvelope" in document:
        return _statement(_envelope_payload(document["dsseEnvelope"], name), name, signed=True)
    if "payloadType" in document and "payload" in document:
        return _statement(_envelope_payload(document, name), name, signed=True)
    if "_type" in document:
        return _statement(document, name, signed=False)
    raise MalformedFileError(name, "not a format we know", _HINT)


def parse_json(data: bytes, name: str) -> Any:
    try:
        return json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise MalformedFileError(name, "not UTF-8", _HINT, offset=exc.start) from None
    except RecursionError:
        raise LimitExceededError(name, "JSON nested too deep", _HINT) from None
    except ValueError as exc:
        raise MalformedFileError(name, f"not valid JSON: {exc}", _HINT) from None


def _envelope_payload(envelope: Any, name: str) -> Any:
    if not isinstance(envelope, dict) or not isinstance(envelope.get("payload"), str):
        raise MalformedFileError(name, "DSSE envelope without a base64 `payload`", _HINT)
    kind = envelope.get("payloadType")
    if kind not in (None, "application/vnd.in-toto+json"):
        raise MalformedFileError(name, f"DSSE payloadType {kind!r} is not an in-toto statement", _HINT)
    try:
        raw = base64.b64decode(envelope["payload"], validate=True)
    except (binascii.Error, ValueError):
        raise MalformedFileError(name, "DSSE payload is not valid base64", _HINT) from None
    return parse_json(raw, f"{name} (DSSE payload)")


def _statement(statement: Any, name: str, *, signed: bool) -> Expectation:
    if not isinstance(statement, dict) or statement.get("_type") not in (
        IN_TOTO_STATEMENT,
        IN_TOTO_STATEMENT_V01,
    ):
        raise MalformedFileError(name, "payload is not an in-toto statement (`_type`)", _HINT)
    predicate_type = statement.get("predicateType")
    notes = (
        (SIGNATURE_NOT_CHECKED,) if signed else ("an unsigned in-toto statement: its digests were checked",)
    )
    if predicate_type == MODEL_SIGNING_V1:
        files, ignore = _model_signing_resources(statement.get("predicate"), name)
        return Expectation("model-signing", name, files, ignore=ignore, notes=notes)
    files = _subjects(statement.get("subject"), name)
    return Expectation("in-toto", name, files, notes=notes)


def _model_signing_resources(predicate: Any, name: str) -> tuple[tuple[ExpectedFile, ...], tuple[str, ...]]:
    if not isinstance(predicate, dict):
        raise MalformedFileError(name, "model-signing statement without a `predicate` object", _HINT)
    serialization = predicate.get("serialization")
    resources = predicate.get("resources")
    if not isinstance(serialization, dict) or not isinstance(resources, list):
        raise MalformedFileError(name, "model-signing predicate needs `serialization` and `resources`", _HINT)
    method, hash_type = serialization.get("method"), serialization.get("hash_type")
    if hash_type != "sha256":
        raise MalformedFileError(name, f"hash_type {hash_type!r} is not supported (sha256 only)", _HINT)
    ignore = serialization.get("ignore_paths") or []
    ignored = tuple(p for p in ignore if isinstance(p, str))
    if method == "files":
        return tuple(_resource_file(r, name) for r in resources), ignored
    if method == "shards":
        return _resource_shards(resources, name), ignored
    raise MalformedFileError(name, f"serialization method {method!r} is not supported (files, shards)", _HINT)


def _resource(resource: Any, name: str) -> tuple[str, str]:
    if not isinstance(resource, dict):
        raise MalformedFileError(name, "a resource is not an object", _HINT)
    rname, digest = resource.get("name"), resource.get("digest")
    if not isinstance(rname, str) or not isinstance(digest, str) or not _SHA256.match(digest):
        raise MalformedFileError(
            name, f"resource {str(rname)[:80]!r}: needs a name and a sha256 hex digest", _HINT
        )
    _check_path(rname.rpartition(":")[0] if _is_shard_name(rname) else rname, name)
    return rname, digest


def _resource_file(resource: Any, name: str) -> ExpectedFile:
    path, digest = _resource(resource, name)
    return ExpectedFile(path, sha256=digest)


def _is_shard_name(text: str) -> bool:
    parts = text.rsplit(":", 2)
    return len(parts) == 3 and parts[1].isdigit() and parts[2].isdigit()


def _resource_shards(resources: list[Any], name: str) -> tuple[ExpectedFile, ...]:
    by_path: dict[str, list[ExpectedRange]] = {}
    for resource in resources:
        rname, digest = _resource(resource, name)
        if not _is_shard_name(rname):
            raise MalformedFileError(name, f"shard resource {rname[:80]!r} is not `path:start:end`", _HINT)
        path, begin, end = rname.rsplit(":", 2)
        if int(end) < int(begin):
            raise MalformedFileError(name, f"shard resource {rname[:80]!r}: end before start", _HINT)
        by_path.setdefault(path, []).append(ExpectedRange(int(begin), int(end), digest))
    files = []
    for path, ranges in sorted(by_path.items()):
        ordered = tuple(sorted(ranges, key=lambda r: r.begin))
        expected = 0
        for shard in ordered:
            if shard.begin != expected:
                raise MalformedFileError(
                    name, f"{path}: shards do not tile the file (gap or overlap at {expected})"
                )
            expected = shard.end
        files.append(ExpectedFile(path, size=expected, ranges=ordered))
    return tuple(files)


def _subjects(subjects: Any, name: str) -> tuple[ExpectedFile, ...]:
    if not isinstance(subjects, list) or not subjects:
        raise MalformedFileError(name, "in-toto statement without `subject` entries", _HINT)
    files = []
    for subject in subjects:
        if not isinstance(subject, dict) or not isinstance(subject.get("name"), str):
            raise MalformedFileError(name, "an in-toto subject has no `name`", _HINT)
        digest = subject.get("digest")
        sha256 = digest.get("sha256") if isinstance(digest, dict) else None
        path = subject["name"]
        _check_path(path, name)
        if isinstance(sha256, str) and _SHA256.match(sha256.lower()):
            files.append(ExpectedFile(path, sha256=sha256.lower()))
        else:
            files.append(ExpectedFile(path, reason="the statement gives no sha256 for this subject"))
    return tuple(files)


def _check_path(path: str, name: str) -> None:
    if not path or path.startswith("/") or "\\" in path or ".." in path.split("/") or "\0" in path:
        raise MalformedFileError(name, f"unsafe file name {path[:80]!r} in the manifest", _HINT)


__all__ = [
    "SIGNATURE_NOT_CHECKED",
    "Expectation",
    "ExpectedFile",
    "ExpectedRange",
    "expectation_of",
    "from_entries",
    "parse_expectation",
    "parse_json",
    "read_expectation",
    "read_json_file",
]
