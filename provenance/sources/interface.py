"""The one interface every source implements: list files, read bytes on demand, and say what it knows.

A source is the only stage that touches disk or network for a scan. Everything after it (readers, lineage,
policy) works on the bytes and records it returns.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from typing import Any

from provenance.model import Fact, FileEntry, Finding


@dataclass(frozen=True)
class TargetInfo:
    """What was scanned: as typed by the user, as resolved, from which kind of source."""

    requested: str
    kind: str  # "hub" | "local-dir" | "local-file" | "hf-cache" | "knowledge-base"
    repo_id: str | None = None
    revision: str | None = None  # as requested (branch, tag or commit); None means the default branch
    commit: str | None = None  # resolved 40-hex commit when the source knows it
    canonical_id: str | None = None  # differs from repo_id when the Hub redirected a renamed repo
    root: str | None = None  # local path for local sources
    notes: tuple[str, ...] = field(default_factory=tuple)

    def to_json(self) -> dict[str, Any]:
        return {
            "requested": self.requested,
            "kind": self.kind,
            "repo_id": self.repo_id,
            "revision": self.revision,
            "commit": self.commit,
            "canonical_id": self.canonical_id,
            "root": self.root,
            "notes": list(self.notes),
        }


class Source(abc.ABC):
    """A snapshot of one model: its files, their bytes on demand, and facts the source itself holds."""

    @property
    @abc.abstractmethod
    def info(self) -> TargetInfo:
        """What this source resolved the target to."""

    @abc.abstractmethod
    def files(self) -> list[FileEntry]:
        """Every file of the snapshot, sorted by path, with sizes and published hashes where known."""

    @abc.abstractmethod
    def read(self, path: str, limit: int) -> bytes:
        """The whole file at `path` (repo-relative, POSIX). Raises LimitExceededError over `limit` bytes."""

    @abc.abstractmethod
    def read_prefix(self, path: str, length: int) -> bytes:
        """The first `length` bytes of `path` (fewer if shorter). Remote: one HTTP range request."""

    def facts(self) -> list[Fact]:
        """Facts the source knows beyond file bytes (Hub tags, gated status, recorded card data...)."""
        return []

    def findings(self) -> list[Finding]:
        """Problems the source met while listing (symlinks out of root, gated files, cache damage...)."""
        return []


class MetadataOnlySource(Source):
    """`inner` without its weight files: what lineage needs of a parent is its card and configs, never its
    tensor headers (one range request per shard saved for every parent)."""

    _WEIGHT_KINDS = frozenset({"safetensors", "gguf", "pickle"})

    def __init__(self, inner: Source) -> None:
        self._inner = inner

    @property
    def info(self) -> TargetInfo:
        return self._inner.info

    def files(self) -> list[FileEntry]:
        from provenance.readers.textfiles import classify_path  # noqa: PLC0415

        return [f for f in self._inner.files() if classify_path(f.path) not in self._WEIGHT_KINDS]

    def read(self, path: str, limit: int) -> bytes:
        return self._inner.read(path, limit)

    def read_prefix(self, path: str, length: int) -> bytes:
        return self._inner.read_prefix(path, length)

    def facts(self) -> list[Fact]:
        return self._inner.facts()

    def findings(self) -> list[Finding]:
        return self._inner.findings()
