"""The scan: a Source's files through the readers into one ScanReport of facts and findings.

Only the Source touches disk or network. Each reader is a pure function of bytes; this module decides which
bytes each one needs (a whole small file, a header prefix, nothing) and turns reader records into facts that
carry their origin (source, file, key or line).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from provenance import __version__
from provenance.errors import GatedRepoError, HubError, InputError, MalformedFileError, ProvenanceError
from provenance.model import DECLARED_LICENSE_KINDS, Fact, FileEntry, Finding, Origin, Severity
from provenance.readers import extract
from provenance.readers.textfiles import (
    SNIFF_BYTES,
    ContentType,
    classify_path,
    content_mismatch,
    parse_lfs_pointer,
    sniff,
)
from provenance.scan_report import FileReport, ScanReport
from provenance.sources.interface import Source

SMALL_FILE_LIMIT = 16 * 1024 * 1024
CARD_LIMIT = 4 * 1024 * 1024
LICENSE_LIMIT = 4 * 1024 * 1024
SAFETENSORS_FIRST_READ = 100_000  # as huggingface_hub; real shard headers are 5-60 kB
GGUF_READS = (16 * 1024 * 1024, 256 * 1024 * 1024)
LFS_POINTER_MAX = 1024


@dataclass
class _Scan:
    """Mutable accumulator for one scan; frozen into a ScanReport at the end."""

    source: Source
    facts: list[Fact] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    files: list[FileReport] = field(default_factory=list)
    card_body: str | None = None
    card_body_start_line: int | None = None
    headers: dict[str, frozenset[str]] = field(default_factory=dict)
    index: Any = None

    def origin(self, path: str, detail: str = "") -> Origin:
        return Origin(self.source.info.kind, path, detail)


Progress = Callable[[int, int, str], None]


def scan(
    target: str, *, cache_dir: Path | None = None, max_files: int = 100_000, progress: Progress | None = None
) -> ScanReport:
    """Resolve `target` (Hub id, local path, cache entry) and scan it. See docs/targets.md."""
    from provenance.sources.hf_cache import default_cache_dir, remember_ref  # noqa: PLC0415
    from provenance.sources.resolve import resolve  # noqa: PLC0415

    report = scan_source(resolve(target, cache_dir=cache_dir, max_files=max_files), progress)
    info = report.target
    if info.kind == "hub" and info.repo_id and info.commit:
        remember_ref(
            cache_dir or default_cache_dir(), info.canonical_id or info.repo_id, info.revision, info.commit
        )
    return report


def scan_source(source: Source, progress: Progress | None = None) -> ScanReport:
    """Read every file of `source` that a reader wants; `progress(done, total, path)` after each file."""
    state = _Scan(source)
    state.facts.extend(source.facts())
    entries = source.files()
    for done, entry in enumerate(entries, 1):
        state.files.append(_scan_file(state, entry))
        if progress is not None:
            progress(done, len(entries), entry.path)
    state.findings.extend(source.findings())
    state.findings.extend(_cross_checks(state))
    return ScanReport(
        target=source.info,
        tool_version=__version__,
        files=tuple(state.files),
        facts=tuple(sorted(state.facts, key=_fact_key)),
        findings=tuple(sorted(set(state.findings), key=_finding_key)),
        card_body=state.card_body,
        card_body_start_line=state.card_body_start_line,
    )


def _fact_key(fact: Fact) -> tuple[str, str, str]:
    return (fact.kind, str(fact.origin), repr(fact.value))


def _finding_key(finding: Finding) -> tuple[int, str, str, str]:
    return (-finding.severity, finding.rule_id, finding.location, finding.message)


def _scan_file(state: _Scan, entry: FileEntry) -> FileReport:
    kind = classify_path(entry.path)
    handler = _HANDLERS.get(kind)
    if handler is None:
        return FileReport(entry, kind, "listed")
    try:
        return handler(state, entry, kind)
    except GatedRepoError as exc:
        state.findings.append(Finding("hub.gated-file", Severity.MEDIUM, exc.problem, entry.path, exc.hint))
        return FileReport(entry, kind, "not read: gated")
    except MalformedFileError as exc:
        if state.source.info.kind == "local-file":
            raise
        state.findings.append(Finding("file.malformed", Severity.HIGH, exc.problem, entry.path))
        return FileReport(entry, kind, "error: malformed")
    except HubError:
        raise
    except InputError as exc:
        if not entry.present and state.source.info.kind == "knowledge-base":
            return FileReport(entry, kind, "recorded (offline)")
        if state.source.info.kind == "local-file":
            raise
        state.findings.append(Finding("file.unreadable", Severity.HIGH, exc.problem, entry.path))
        return FileReport(entry, kind, "error: unreadable")


def _read_small(state: _Scan, entry: FileEntry, limit: int) -> bytes:
    data = state.source.read(entry.path, limit)
    if not data:
        raise MalformedFileError(entry.path, "empty file")
    return data


def _card(state: _Scan, entry: FileEntry, kind: str) -> FileReport:
    if "/" in entry.path:
        return FileReport(entry, kind, "listed")
    card = extract.card(_read_small(state, entry, CARD_LIMIT), entry.path)
    state.card_body = card.body
    state.card_body_start_line = card.body_start_line
    state.facts.extend(extract.card_facts(card, state.origin))
    state.findings.extend(card.all_findings())
    return FileReport(entry, kind, "read", summary={"metadata_keys": sorted(map(str, card.metadata))})


def _json_file(state: _Scan, entry: FileEntry, kind: str) -> FileReport:
    data = _read_small(state, entry, SMALL_FILE_LIMIT)
    facts, findings, summary, record = extract.json_file(kind, data, entry.path, state.origin)
    state.facts.extend(facts)
    state.findings.extend(findings)
    if kind == "shard_index":
        state.index = record
    return FileReport(entry, kind, "read", summary=summary)


def _license_file(state: _Scan, entry: FileEntry, kind: str) -> FileReport:
    data = state.source.read_prefix(entry.path, LICENSE_LIMIT + 1)
    facts, findings, summary = extract.license_file(data, entry, state.origin)
    state.facts.extend(facts)
    state.findings.extend(findings)
    return FileReport(entry, kind, "read", summary=summary)


def _weights(state: _Scan, entry: FileEntry, kind: str) -> FileReport:
    if entry.size == 0:
        raise MalformedFileError(entry.path, "empty file")
    pointer = _lfs_pointer(state, entry)
    if pointer is not None:
        return pointer
    first_read = {"safetensors": SAFETENSORS_FIRST_READ, "gguf": GGUF_READS[0]}.get(kind, SNIFF_BYTES)
    prefix = state.source.read_prefix(entry.path, first_read)
    detected = sniff(prefix)
    if detected is ContentType.EMPTY:
        raise MalformedFileError(entry.path, "empty file")
    mismatch = content_mismatch(entry.path, prefix)
    if mismatch is not None:
        state.findings.append(mismatch)
    reader = _WEIGHT_READERS.get(_CONTENT_READER.get(detected, kind))
    if reader is None:
        return FileReport(entry, kind, f"not read: content is {detected}", detected=str(detected))
    return reader(state, entry, kind, prefix, str(detected))


def _lfs_pointer(state: _Scan, entry: FileEntry) -> FileReport | None:
    if entry.size is None or entry.size > LFS_POINTER_MAX or not entry.present:
        return None
    pointer = parse_lfs_pointer(state.source.read(entry.path, LFS_POINTER_MAX))
    if pointer is None:
        return None
    message = f"LFS pointer (oid sha256:{pointer.oid}, size {pointer.size}); weights not present"
    state.findings.append(
        Finding("file.lfs-pointer", Severity.MEDIUM, f"{entry.path}: {message}", entry.path)
    )
    state.facts.append(
        Fact("file.expected_sha256", {"path": entry.path, "sha256": pointer.oid}, state.origin(entry.path))
    )
    pointed = FileEntry(entry.path, pointer.size, lfs_sha256=pointer.oid, present=False, lfs_pointer=True)
    return FileReport(
        pointed, classify_path(entry.path), "LFS pointer: weights not present", detected="lfs-pointer"
    )


def _safetensors(state: _Scan, entry: FileEntry, kind: str, prefix: bytes, detected: str) -> FileReport:
    header, findings = extract.safetensors(state.source, entry, prefix)
    state.findings.extend(findings)
    state.headers[entry.path] = frozenset(t.name for t in header.tensors)
    state.facts.extend(extract.safetensors_facts(header, state.origin(entry.path, "__metadata__")))
    return FileReport(entry, kind, "header read", detected, extract.safetensors_summary(header))


def _gguf(state: _Scan, entry: FileEntry, kind: str, prefix: bytes, detected: str) -> FileReport:
    header = extract.gguf(state.source, entry, prefix)
    state.findings.extend(extract.gguf_findings(header))
    state.facts.extend(extract.gguf_facts(header, state.origin))
    status = "header read (truncated)" if header.truncated else "header read"
    return FileReport(entry, kind, status, detected, extract.gguf_summary(header))


def _pickle(state: _Scan, entry: FileEntry, kind: str, prefix: bytes, detected: str) -> FileReport:
    local_path: Callable[[str], Path] | None = getattr(state.source, "local_path", None)
    if local_path is None:
        state.findings.append(
            Finding(
                "pickle.not-scanned-remote",
                Severity.LOW,
                f"{entry.path}: pickle checkpoints are scanned only from local files (no weight download)",
                entry.path,
                "download the file and scan it locally; prefer safetensors",
            )
        )
        return FileReport(entry, kind, "not read: remote pickle", detected)
    report = extract.pickle_file(local_path(entry.path), entry.path)
    state.findings.extend(report.findings)
    return FileReport(entry, kind, f"statically scanned ({report.verdict})", detected, report.to_json())


_HANDLERS: dict[str, Callable[[_Scan, FileEntry, str], FileReport]] = {
    "card": _card,
    "config": _json_file,
    "generation_config": _json_file,
    "tokenizer_config": _json_file,
    "special_tokens_map": _json_file,
    "adapter_config": _json_file,
    "shard_index": _json_file,
    "quant_config": _json_file,
    "license": _license_file,
    "notice": _license_file,
    "use_policy": _license_file,
    "safetensors": _weights,
    "gguf": _weights,
    "pickle": _weights,
}

_CONTENT_READER = {
    ContentType.SAFETENSORS: "safetensors",
    ContentType.GGUF: "gguf",
    ContentType.ZIP: "pickle",
    ContentType.PICKLE: "pickle",
    ContentType.TORCH_LEGACY: "pickle",
    ContentType.TAR: "pickle",
}

_WEIGHT_READERS: dict[str, Callable[[_Scan, FileEntry, str, bytes, str], FileReport]] = {
    "safetensors": _safetensors,
    "gguf": _gguf,
    "pickle": _pickle,
}


def _cross_checks(state: _Scan) -> list[Finding]:
    findings: list[Finding] = []
    if state.index is not None and state.headers:
        findings.extend(extract.index_findings(state.index, state.headers))
    kinds = {f.kind for f in state.facts}
    if not kinds & set(DECLARED_LICENSE_KINDS):
        findings.append(
            Finding(
                "license.undeclared",
                Severity.MEDIUM,
                "no license is declared (no card `license:`, no Hub license tag, no GGUF general.license)",
                state.source.info.requested,
                "declare the license of the weights in the model card front matter",
            )
        )
    findings.extend(_license_conflict(state))
    findings.extend(_license_file_missing(state))
    return findings


_LISTING_SOURCES = frozenset({"hub", "local-dir", "hf-cache"})


def _license_file_missing(state: _Scan) -> list[Finding]:
    """A repo or folder (not a single file, not the knowledge base) without any LICENSE-like file."""
    from provenance.readers.textfiles import FileKind, classify_path  # noqa: PLC0415

    info = state.source.info
    if info.kind not in _LISTING_SOURCES:
        return []
    if any(classify_path(f.entry.path) is FileKind.LICENSE for f in state.files):
        return []
    if not getattr(state.source, "listing_complete", True):
        # an HF cache without the repo's file listing knows only what was downloaded
        return [
            Finding(
                "license.file-missing",
                Severity.INFO,
                "no LICENSE file among the downloaded files (the cache does not list the rest of the repo)",
                info.requested,
                "scan the Hub repo, or download its LICENSE into the cache",
            )
        ]
    return [
        Finding(
            "license.file-missing",
            Severity.LOW,
            "no LICENSE file: the license text is not shipped with the model (only a card or tag names it)",
            info.requested,
            "add the full text of the weights' license as LICENSE at the top of the repo",
        )
    ]


def _license_witnesses(state: _Scan) -> dict[str, dict[str, str]]:
    """Per witness (card, Hub tags, GGUF metadata, root LICENSE text): the licenses it names, and how."""
    from provenance.licenses.catalog import default_catalog  # noqa: PLC0415  (loaded only when comparing)

    declaring = {f.kind for f in state.facts if f.kind in DECLARED_LICENSE_KINDS}
    texts = [f for f in state.facts if extract.root_license_identified(f) is not None]
    if len(declaring) + len(texts) < 2:
        return {}  # one witness (or none) cannot disagree: no need to load the catalog
    catalog = default_catalog()
    name = next(
        (f.value for f in state.facts if f.kind == "card.license_name" and isinstance(f.value, str)), None
    )
    seen: dict[str, dict[str, str]] = {}
    for fact in state.facts:
        if fact.kind in DECLARED_LICENSE_KINDS and isinstance(fact.value, str) and fact.value.strip():
            known = catalog.lookup(fact.value, name if fact.kind == "card.license" else None)
            key = known.id if known is not None else fact.value.strip().lower()
            if key != "other":
                where = fact.origin.location or "tags"
                seen.setdefault(fact.kind, {})[key] = f"{fact.kind} {fact.value!r} ({where})"
        elif (text := extract.root_license_identified(fact)) is not None and text[2] == "exact":
            path, license_id, _kind = text
            seen.setdefault(path, {})[license_id] = f"{path} text"
    return seen


def _license_conflict(state: _Scan) -> list[Finding]:
    """A finding when two witnesses name no license in common (a card listing two ids agrees with either)."""
    witnesses = list(_license_witnesses(state).values())
    if not any(a.keys().isdisjoint(b) for i, a in enumerate(witnesses) for b in witnesses[i + 1 :]):
        return []
    by_license: dict[str, list[str]] = {}
    for named in witnesses:
        for license_id, how in named.items():
            by_license.setdefault(license_id, []).append(how)
    said = "; ".join(f"{license_id}: {', '.join(how)}" for license_id, how in sorted(by_license.items()))
    return [
        Finding(
            "license.conflict",
            Severity.HIGH,
            f"the license witnesses disagree ({said})",
            state.source.info.requested,
            "find out which license applies to the weights and make the card, LICENSE and metadata agree",
        )
    ]


__all__ = ["ProvenanceError", "ScanReport", "scan", "scan_source"]
