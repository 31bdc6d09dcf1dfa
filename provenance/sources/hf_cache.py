"""The local Hugging Face cache (`$HF_HUB_CACHE/models--org--name`), read without the network.

We walk the folders ourselves instead of `scan_cache_dir()`, which drops a whole repo when one snapshot link
is broken: a compliance tool must report damage, not hide it. Nothing outside the cache is ever read.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path

from provenance.errors import InputError, LimitExceededError
from provenance.model import Fact, FileEntry, Finding, Origin, Severity
from provenance.sources.interface import Source, TargetInfo

_COMMIT = re.compile(r"^[0-9a-f]{40}$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_BLOB_CHECK_MAX = 16 * 1024 * 1024
_TREE_MAX = 64 * 1024 * 1024


class CacheCorruptedError(InputError):
    """The cache's own structure is damaged (refs, snapshot links)."""


def default_cache_dir() -> Path:
    """Where huggingface_hub keeps its cache, by the same environment variables, without importing it."""
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"]).expanduser()
    if os.environ.get("HF_HOME"):
        return Path(os.environ["HF_HOME"]).expanduser() / "hub"
    xdg = os.environ.get("XDG_CACHE_HOME") or str(Path("~/.cache").expanduser())
    return Path(xdg) / "huggingface" / "hub"


def repo_folder(cache_dir: Path, repo_id: str) -> Path:
    return cache_dir / ("models--" + repo_id.replace("/", "--"))


def repo_id_from_folder(folder: Path) -> str | None:
    """`models--org--name` -> `org/name`; None for anything else."""
    parts = folder.name.split("--")
    if len(parts) != 3 or parts[0] != "models":
        return None
    return f"{parts[1]}/{parts[2]}"


def _git_blob_sha1(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


class HFCacheSource(Source):
    """One repo revision from the cache: files from `snapshots/<commit>`, published hashes from `trees/`."""

    def __init__(
        self, repo_dir: Path, repo_id: str, revision: str | None, requested: str, notes: tuple[str, ...] = ()
    ):
        self._dir = repo_dir.resolve()
        self._blobs = self._dir / "blobs"
        self._findings: list[Finding] = []
        # True when trees/<commit>.json listed the whole repo; else only the downloaded files are known
        self.listing_complete = False
        commit = self._resolve_commit(revision or "main")
        self._snapshot = self._dir / "snapshots" / commit
        if not self._snapshot.is_dir():
            raise InputError(
                f"{repo_id}@{revision or 'main'}", f"snapshot {commit} is not in the cache at {self._dir}"
            )
        self._info = TargetInfo(
            requested=requested,
            kind="hf-cache",
            repo_id=repo_id,
            revision=revision,
            commit=commit,
            root=str(self._snapshot),
            notes=(*notes, "read from the local Hugging Face cache: cached, not re-verified against the Hub"),
        )
        self._paths: dict[str, Path] = {}
        self._files = self._list(commit)

    @property
    def info(self) -> TargetInfo:
        return self._info

    def files(self) -> list[FileEntry]:
        return list(self._files)

    def findings(self) -> list[Finding]:
        return list(self._findings)

    def facts(self) -> list[Fact]:
        origin = Origin("hf-cache", str(self._dir), "refs")
        return [Fact("cache.commit", self._info.commit, origin)]

    def local_path(self, path: str) -> Path:
        try:
            return self._paths[path]
        except KeyError:
            raise InputError(path, "not present in the cached snapshot") from None

    def read(self, path: str, limit: int) -> bytes:
        blob = self.local_path(path)
        size = blob.stat().st_size
        if size > limit:
            raise LimitExceededError(path, f"file is {size} bytes, over the {limit}-byte read cap")
        return blob.read_bytes()

    def read_prefix(self, path: str, length: int) -> bytes:
        with self.local_path(path).open("rb") as fh:
            return fh.read(length)

    def _resolve_commit(self, revision: str) -> str:
        if _COMMIT.match(revision):
            return revision
        refs = self._dir / "refs"
        ref = (refs / revision).resolve()
        if not ref.is_relative_to(refs.resolve()):
            raise CacheCorruptedError(str(refs / revision), "ref path leaves the cache's refs/ folder")
        if not ref.is_file():
            raise InputError(
                str(self._dir), f"revision {revision!r} is not in the cache (no refs/{revision})"
            )
        text = ref.read_bytes()[:128].decode("ascii", "replace").strip()
        if not _COMMIT.match(text):
            raise CacheCorruptedError(
                str(ref), f"refs/{revision} does not hold a commit hash (got {text[:50]!r})"
            )
        return text

    def _list(self, commit: str) -> list[FileEntry]:
        published = self._published(commit)
        self.listing_complete = bool(published)
        entries: dict[str, FileEntry] = {}
        for path in sorted(self._snapshot.rglob("*")):
            if path.is_dir() and not path.is_symlink():
                continue
            rel = path.relative_to(self._snapshot).as_posix()
            blob = self._blob_for(path, rel)
            if blob is not None:
                self._paths[rel] = blob
                entries[rel] = self._entry(rel, blob, published.get(rel, {}))
        for rel, meta in published.items():
            if rel not in entries:
                entries[rel] = self._entry(rel, None, meta)
        self._note_incomplete()
        return [entries[k] for k in sorted(entries)]

    def _blob_for(self, path: Path, rel: str) -> Path | None:
        if not path.is_symlink():
            return path if path.is_file() else None
        target = Path(os.path.realpath(path))
        if not target.is_relative_to(self._dir):
            self._add(
                "cache.link-outside",
                Severity.HIGH,
                f"{rel} links outside the cache ({path.readlink()})",
                rel,
            )
            return None
        if not target.is_file():
            self._add("cache.broken-symlink", Severity.MEDIUM, f"{rel}: blob missing (broken symlink)", rel)
            return None
        if not target.is_relative_to(self._blobs):
            self._add("cache.link-outside-blobs", Severity.MEDIUM, f"{rel} resolves outside blobs/", rel)
        self._check_blob_name(target, rel)
        return target

    def _check_blob_name(self, blob: Path, rel: str) -> None:
        """Blob file names are ETags: sha256 for LFS files, git sha1 otherwise. Check the small ones."""
        size = blob.stat().st_size
        if size > _BLOB_CHECK_MAX:
            return
        data = blob.read_bytes()
        name = blob.name
        if _SHA256.match(name):
            actual = hashlib.sha256(data).hexdigest()
        elif _COMMIT.match(name):
            actual = _git_blob_sha1(data)
        else:
            return
        if actual != name:
            self._add(
                "cache.blob-integrity", Severity.HIGH, f"{rel}: cached blob {name} hashes to {actual}", rel
            )

    def _entry(self, rel: str, blob: Path | None, meta: dict[str, object]) -> FileEntry:
        size = blob.stat().st_size if blob is not None else _int_or_none(meta.get("size"))
        lfs = meta.get("lfs_sha256")
        blob_id = meta.get("blob_id")
        if blob is not None and lfs is None and _SHA256.match(blob.name):
            lfs = blob.name
        if blob is not None and blob_id is None and _COMMIT.match(blob.name):
            blob_id = blob.name
        return FileEntry(
            path=rel,
            size=size,
            lfs_sha256=lfs if isinstance(lfs, str) else None,
            git_blob_id=blob_id if isinstance(blob_id, str) and not lfs else None,
            present=blob is not None,
        )

    def _published(self, commit: str) -> dict[str, dict[str, object]]:
        tree = self._dir / "trees" / f"{commit}.json"
        if not tree.is_file():
            return {}
        location = str(tree)
        try:
            if tree.stat().st_size > _TREE_MAX:
                raise ValueError("too large")
            doc = json.loads(tree.read_bytes())
            files = doc["files"]
            if not isinstance(files, dict):
                raise TypeError("files is not an object")
        except (ValueError, KeyError, TypeError) as exc:
            self._add("cache.bad-tree", Severity.MEDIUM, f"unreadable tree listing: {exc}", location)
            return {}
        return {k: v for k, v in files.items() if isinstance(v, dict) and self._safe_rel(k, location)}

    def _safe_rel(self, rel: str, location: str) -> bool:
        if rel.startswith("/") or "\\" in rel or ".." in rel.split("/"):
            self._add(
                "cache.unsafe-path", Severity.HIGH, f"tree lists an unsafe path {rel!r}; ignored", location
            )
            return False
        return True

    def _note_incomplete(self) -> None:
        if not self._blobs.is_dir():
            return
        for blob in sorted(self._blobs.glob("*.incomplete")):
            self._add(
                "cache.incomplete", Severity.INFO, f"{blob.name}: unfinished download, ignored", str(blob)
            )

    def _add(self, rule: str, severity: Severity, message: str, location: str) -> None:
        self._findings.append(Finding(rule, severity, message, location))


def _int_or_none(value: object) -> int | None:
    return value if isinstance(value, int) else None


def remember_ref(cache_dir: Path, repo_id: str, revision: str | None, commit: str) -> None:
    """Record `revision -> commit` in the cache, as huggingface_hub does for branch downloads, so an offline
    scan of `org/name` finds what an online scan pinned by commit. Atomic; skipped when nothing was cached."""
    folder = repo_folder(cache_dir, repo_id)
    name = revision or "main"
    if not (folder / "snapshots" / commit).is_dir() or _COMMIT.match(name) or not _COMMIT.match(commit):
        return
    ref = folder / "refs" / name
    if not ref.resolve().is_relative_to((folder / "refs").resolve()):
        return
    ref.parent.mkdir(parents=True, exist_ok=True)
    tmp = ref.with_name(f".{ref.name}.{os.getpid()}.tmp")
    tmp.write_text(commit)
    tmp.replace(ref)
