"""Verify a local checkpoint against an Expectation: one verdict per file, and the tensor digest.

`plan` and `judge` are pure (listings and digests in, tasks and verdicts out); `verify_local` does the I/O
(list the folder, hash on a thread pool). Verdicts:

| verdict | meaning |
|---|---|
| match | the file's digest is the expected one |
| mismatch | a digest or the size differs (`expected` and `actual` say which) |
| missing | expected, not on disk |
| extra | on disk, not expected |
| renamed | on disk under another name: its content is that of a missing expected file |
| unverifiable | cannot be checked, with the reason (LFS pointer in place of the weights, no digest) |
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from provenance.model import FileEntry, Finding
from provenance.verify.digest import Located, merge_records, tensor_digest
from provenance.verify.hashes import ByteRange, FileDigests, HashTask, hash_files
from provenance.verify.manifest import Expectation, ExpectedFile

WEIGHT_SUFFIXES = (".safetensors", ".gguf")
LFS_POINTER_MAX = 1024
GIT_SHA1_EXTRA_MAX = 64 * 1024 * 1024


class Verdict(enum.StrEnum):
    MATCH = "match"
    MISMATCH = "mismatch"
    MISSING = "missing"
    EXTRA = "extra"
    RENAMED = "renamed"
    UNVERIFIABLE = "unverifiable"


@dataclass(frozen=True)
class FileVerdict:
    path: str
    verdict: Verdict
    algorithm: str | None = None
    expected: str | None = None
    actual: str | None = None
    reason: str = ""
    size: int | None = None
    expected_path: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "verdict": str(self.verdict),
            "algorithm": self.algorithm,
            "expected": self.expected,
            "actual": self.actual,
            "reason": self.reason,
            "size": self.size,
            "expected_path": self.expected_path,
        }


@dataclass(frozen=True)
class TensorDigestResult:
    """The checkpoint's tensor digest (None with `problem` when some weight file has none)."""

    digest: str | None
    tensors: int
    files: tuple[str, ...]
    expected: str | None = None
    problem: str = ""

    @property
    def verdict(self) -> Verdict | None:
        if self.expected is None:
            return None
        if self.digest is None:
            return Verdict.UNVERIFIABLE
        return Verdict.MATCH if self.digest == self.expected else Verdict.MISMATCH

    def to_json(self) -> dict[str, Any]:
        verdict = self.verdict
        return {
            "digest": self.digest,
            "tensors": self.tensors,
            "files": list(self.files),
            "expected": self.expected,
            "verdict": str(verdict) if verdict is not None else None,
            "problem": self.problem or None,
        }


@dataclass(frozen=True)
class HashReport:
    """The result of one verify run: plain, frozen data (JSON form in docs/verify.md)."""

    target: str
    expectation: Expectation | None
    files: tuple[FileVerdict, ...]
    digests: tuple[FileDigests, ...]
    tensor_digest: TensorDigestResult | None
    findings: tuple[Finding, ...] = field(default_factory=tuple)

    def count(self, verdict: Verdict) -> int:
        return sum(1 for f in self.files if f.verdict is verdict)

    def failures(self, *, allow_extra: bool = False, allow_unverifiable: bool = False) -> list[FileVerdict]:
        allowed = {Verdict.MATCH}
        if allow_extra:
            allowed.add(Verdict.EXTRA)
        if allow_unverifiable:
            allowed.add(Verdict.UNVERIFIABLE)
        bad = [f for f in self.files if f.verdict not in allowed]
        td = self.tensor_digest
        if td is not None and td.verdict is not None and td.verdict not in allowed:
            bad.append(FileVerdict("<tensor digest>", td.verdict, "tdv1", td.expected, td.digest, td.problem))
        return bad

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": "https://provenance.invalid/schemas/verify-report/1",
            "target": self.target,
            "against": self.expectation.to_json() if self.expectation is not None else None,
            "summary": {str(v): self.count(v) for v in Verdict},
            "files": [f.to_json() for f in self.files],
            "computed": [d.to_json() for d in sorted(self.digests, key=lambda d: d.path)],
            "tensor_digest": self.tensor_digest.to_json() if self.tensor_digest is not None else None,
            "findings": [f.to_json() for f in self.findings],
        }


@dataclass(frozen=True)
class LocalFile:
    """A file on disk: repo-relative `path`, absolute `file`, size, and its first bytes when it is tiny (to
    recognise an LFS pointer)."""

    path: str
    file: str
    size: int
    head: bytes = b""


# --- planning (pure) --------------------------------------------------------------------------------------


def is_weight_file(path: str) -> bool:
    return path.lower().endswith(WEIGHT_SUFFIXES)


def plan(expectation: Expectation | None, local: Mapping[str, LocalFile], *, tensors: bool) -> list[HashTask]:
    """The hashing each local file needs: the expected algorithms (sha256 and shard ranges by default), sha256
    for extras (plus git sha1 when a missing small file could have been renamed to it), tensors if asked."""
    expected = {f.path: f for f in expectation.files} if expectation is not None else {}
    missing_sizes = {f.size for p, f in expected.items() if p not in local and f.git_sha1 is not None}
    tasks = []
    for path, found in sorted(local.items()):
        want = expected.get(path)
        algorithms: tuple[str, ...] = ("sha256",)
        ranges: tuple[ByteRange, ...] = ()
        if want is not None:
            if _pointer_in_place(want, found):
                continue
            if want.algorithms:
                algorithms = want.algorithms
            ranges = tuple(ByteRange(f"{path}:{r.begin}:{r.end}", r.begin, r.end) for r in want.ranges)
            if ranges and found.size != ranges[-1].end:
                ranges = ()
        elif found.size in missing_sizes and found.size <= GIT_SHA1_EXTRA_MAX:
            algorithms = ("sha256", "git-sha1")
        tasks.append(HashTask(path, found.file, algorithms, tensors and is_weight_file(path), ranges))
    return tasks


def _size_differs(want: ExpectedFile, found: LocalFile) -> bool:
    return want.size is not None and want.size != found.size


def _pointer_in_place(want: ExpectedFile, found: LocalFile) -> bool:
    from provenance.readers.textfiles import parse_lfs_pointer  # noqa: PLC0415

    if not found.head or (want.size is not None and want.size == found.size):
        return False
    return parse_lfs_pointer(found.head) is not None


# --- judging (pure) ---------------------------------------------------------------------------------------


def judge(
    expectation: Expectation | None, local: Mapping[str, LocalFile], digests: Mapping[str, FileDigests]
) -> list[FileVerdict]:
    """One verdict per expected or local file, sorted by path."""
    if expectation is None:
        return []
    expected = {f.path: f for f in expectation.files}
    verdicts = [_judge_present(expected[p], local[p], digests.get(p)) for p in sorted(expected) if p in local]
    missing = [expected[p] for p in sorted(expected) if p not in local]
    extras = [local[p] for p in sorted(local) if p not in expected]
    renamed, missing, extras = _renames(missing, extras, digests)
    verdicts += renamed
    verdicts += [
        FileVerdict(f.path, Verdict.MISSING, reason="expected, not on disk", size=f.size) for f in missing
    ]
    for extra in extras:
        actual = digests[extra.path].digest("sha256") if extra.path in digests else None
        verdicts.append(
            FileVerdict(
                extra.path, Verdict.EXTRA, "sha256", None, actual, "on disk, not expected", extra.size
            )
        )
    return sorted(verdicts, key=lambda v: (v.path, str(v.verdict)))


def _judge_present(want: ExpectedFile, found: LocalFile, got: FileDigests | None) -> FileVerdict:
    from provenance.readers.textfiles import parse_lfs_pointer  # noqa: PLC0415

    pointer = parse_lfs_pointer(found.head) if found.head and want.size != found.size else None
    if pointer is not None:
        same = want.sha256 is None or pointer.oid == want.sha256
        note = "points at the published file" if same else "points at another file than the published one"
        reason = (
            f"Git LFS pointer in place of the weights (oid sha256:{pointer.oid}, {note}); run `git lfs pull`"
        )
        return FileVerdict(found.path, Verdict.UNVERIFIABLE, "sha256", want.sha256, None, reason, found.size)
    if got is None:
        return FileVerdict(found.path, Verdict.UNVERIFIABLE, reason="not hashed", size=found.size)
    size_note = f"size {found.size} bytes, expected {want.size}" if _size_differs(want, found) else ""
    if size_note and not want.algorithms:
        return FileVerdict(
            found.path, Verdict.MISMATCH, "size", str(want.size), str(found.size), size_note, found.size
        )
    if not want.algorithms and not want.ranges:
        actual = got.digest("sha256")
        return FileVerdict(found.path, Verdict.UNVERIFIABLE, "sha256", None, actual, want.reason, found.size)
    for algorithm in want.algorithms:
        expected, actual = want.expected(algorithm), got.digest(algorithm)
        if actual != expected or size_note:
            return FileVerdict(
                found.path, Verdict.MISMATCH, algorithm, expected, actual, size_note, found.size
            )
    for byte_range, actual in got.ranges:
        wanted = next(r.sha256 for r in want.ranges if (r.begin, r.end) == (byte_range.begin, byte_range.end))
        if actual != wanted:
            reason = f"bytes {byte_range.begin}-{byte_range.end} differ"
            return FileVerdict(
                found.path, Verdict.MISMATCH, "sha256-shard", wanted, actual, reason, found.size
            )
    algorithm = want.algorithms[0] if want.algorithms else "sha256-shards"
    shown = want.expected(algorithm) if want.algorithms else f"{len(want.ranges)} shards"
    return FileVerdict(found.path, Verdict.MATCH, algorithm, shown, shown, "", found.size)


def _renames(
    missing: list[ExpectedFile], extras: list[LocalFile], digests: Mapping[str, FileDigests]
) -> tuple[list[FileVerdict], list[ExpectedFile], list[LocalFile]]:
    renamed: list[FileVerdict] = []
    left = list(missing)
    kept: list[LocalFile] = []
    for extra in extras:
        got = digests.get(extra.path)
        match = next((m for m in left if _same_content(m, got)), None) if got is not None else None
        if got is None or match is None:
            kept.append(extra)
            continue
        left.remove(match)
        algorithm = match.algorithms[0]
        reason = f"content of the expected {match.path} under another name"
        renamed.append(
            FileVerdict(
                extra.path,
                Verdict.RENAMED,
                algorithm,
                match.expected(algorithm),
                got.digest(algorithm),
                reason,
                extra.size,
                match.path,
            )
        )
    return renamed, left, kept


def _same_content(want: ExpectedFile, got: FileDigests) -> bool:
    if not want.algorithms or (want.size is not None and want.size != got.size):
        return False
    return all(got.digest(a) == want.expected(a) for a in want.algorithms)


def tensor_result(digests: Iterable[FileDigests], expected: str | None) -> TensorDigestResult | None:
    """The checkpoint's tensor digest over every weight file that was hashed for tensors."""
    from provenance.errors import InputError  # noqa: PLC0415

    weights = sorted((d for d in digests if is_weight_file(d.path)), key=lambda d: d.path)
    if not weights:
        return TensorDigestResult(None, 0, (), expected, "no safetensors or GGUF file") if expected else None
    files = tuple(d.path for d in weights)
    broken = next((d for d in weights if d.tensors is None), None)
    if broken is not None:
        problem = f"{broken.path}: {broken.tensor_problem or 'tensors not hashed'}"
        return TensorDigestResult(None, 0, files, expected, problem)
    try:
        records = merge_records(Located(t, d.path) for d in weights for t in d.tensors or ())
    except InputError as exc:
        return TensorDigestResult(None, 0, files, expected, f"{exc.target}: {exc.problem}")
    return TensorDigestResult(tensor_digest(records), len(records), files, expected)


# --- I/O --------------------------------------------------------------------------------------------------


def list_local(
    target: Path, *, max_files: int = 100_000
) -> tuple[dict[str, LocalFile], list[Finding], Expectation | None]:
    """The files of a local folder or file (safe defaults of sources.local: no symlink out of the root, no
    special files). A Hugging Face cache folder also yields the published digests it records."""
    from provenance.sources.hf_cache import HFCacheSource  # noqa: PLC0415
    from provenance.sources.resolve import local_source  # noqa: PLC0415

    source = local_source(target, str(target), max_files=max_files)
    local_path: Callable[[str], Path] = getattr(source, "local_path")  # noqa: B009  (every local source has it)
    entries = [e for e in source.files() if e.present]
    files = {e.path: _local_file(e, local_path(e.path)) for e in entries}
    cached = None
    if isinstance(source, HFCacheSource):
        from provenance.verify.manifest import from_entries  # noqa: PLC0415

        info = source.info
        cached = from_entries(source.files(), "hf-cache", f"{info.repo_id}@{info.commit} (HF cache listing)")
    return files, source.findings(), cached


def _local_file(entry: FileEntry, path: Path) -> LocalFile:
    size = entry.size if entry.size is not None else path.stat().st_size
    head = b""
    if size < LFS_POINTER_MAX:
        with path.open("rb") as handle:
            head = handle.read(LFS_POINTER_MAX)
    return LocalFile(entry.path, str(path), size, head)


def drop_ignored(local: dict[str, LocalFile], ignore: Sequence[str]) -> dict[str, LocalFile]:
    def ignored(path: str) -> bool:
        return any(path == i or path.startswith(i.rstrip("/") + "/") for i in ignore)

    return {p: f for p, f in local.items() if not ignored(p)}


def verify_local(
    target: Path,
    expectation: Expectation | None,
    *,
    tensors: bool = False,
    jobs: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    max_files: int = 100_000,
    ignore: Sequence[str] = (),
) -> HashReport:
    """List `target`, hash what `expectation` needs in one pass per file, and judge every file. `ignore`:
    local paths (or folders) never hashed nor judged, added to the expectation's own."""
    local, findings, cached = list_local(target, max_files=max_files)
    if expectation is None:
        expectation = cached
    local = drop_ignored(local, (*ignore, *(expectation.ignore if expectation is not None else ())))
    want_tensors = tensors or (expectation is not None and expectation.tensor_digest is not None)
    tasks = plan(expectation, local, tensors=want_tensors)
    results = hash_files(tasks, jobs=jobs, progress=progress)
    digests = {d.path: d for d in results}
    verdicts = judge(expectation, local, digests)
    expected_td = expectation.tensor_digest if expectation is not None else None
    td = tensor_result(results, expected_td) if want_tensors else None
    return HashReport(str(target), expectation, tuple(verdicts), tuple(results), td, tuple(findings))


__all__ = [
    "FileVerdict",
    "HashReport",
    "LocalFile",
    "TensorDigestResult",
    "Verdict",
    "judge",
    "plan",
    "tensor_result",
    "verify_local",
]
