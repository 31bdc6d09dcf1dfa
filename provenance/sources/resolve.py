"""Turn what the user typed into a Source: a local path, the HF cache, the Hub, or the bundled knowledge base.

Precedence (documented in docs/targets.md): an existing local path wins over a Hub id of the same spelling
(the report says so). A Hub id goes to the Hub; when the Hub cannot be reached or HF_HUB_OFFLINE=1, to the
local HF cache, then to the bundled knowledge base. "Not found" and "gated" from a reachable Hub never fall
back: they are answers, not outages.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from provenance.errors import HubUnavailableError, InputError, TargetNotFoundError, UsageError
from provenance.sources.hf_cache import HFCacheSource, default_cache_dir, repo_folder, repo_id_from_folder
from provenance.sources.interface import Source
from provenance.sources.local import LocalDirSource, LocalFileSource, check_readable_target

_PART = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,94}[A-Za-z0-9])?$")
_REV_BAD = re.compile(r"[\s\x00-\x1f\x7f~^:?*\[\\]")
CACHE_PREFIX = "hf-cache:"


@dataclass(frozen=True)
class RepoRef:
    """A validated Hub model id with an optional revision (branch, tag or commit)."""

    repo_id: str
    revision: str | None

    def __str__(self) -> str:
        return f"{self.repo_id}@{self.revision}" if self.revision else self.repo_id


def looks_like_repo_id(text: str) -> bool:
    return text.count("/") == 1 and not text.startswith((".", "/", "~")) and "\\" not in text


def parse_repo_ref(text: str) -> RepoRef:
    """Validate `org/name[@revision]` before any request is made."""
    repo, at, revision = text.partition("@")
    if at and not revision:
        raise UsageError(
            text, "empty revision after '@'", hint="write org/name@main, a tag, or a commit hash"
        )
    if repo.count("/") != 1:
        raise UsageError(text, "a Hub model id has exactly one '/': org/name")
    for part in repo.split("/"):
        _check_part(text, part)
    if revision and (_REV_BAD.search(revision) or ".." in revision or len(revision) > 255):
        raise UsageError(text, f"invalid revision {revision!r}")
    return RepoRef(repo, revision or None)


def _check_part(text: str, part: str) -> None:
    if len(part) > 96:
        raise UsageError(text, f"{part[:20]}...: longer than 96 characters")
    if not _PART.match(part) or "--" in part or ".." in part:
        raise UsageError(
            text,
            f"invalid name {part!r}",
            hint="Hub names use letters, digits, '-', '_' and '.', without '--' or '..', "
            "and cannot start or end with '-' or '.'",
        )


def offline_mode() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in {"1", "true", "yes", "on"}


def resolve(target: str, *, cache_dir: Path | None = None, max_files: int = 100_000) -> Source:
    """The Source for a target string, by the precedence in the module docstring."""
    if not target:
        raise UsageError("", "empty target")
    if target.startswith(CACHE_PREFIX):
        ref = parse_repo_ref(target.removeprefix(CACHE_PREFIX))
        folder = repo_folder(cache_dir or default_cache_dir(), ref.repo_id)
        if not (folder / "snapshots").is_dir():
            raise InputError(str(ref), f"not in the local Hugging Face cache ({folder})")
        return HFCacheSource(folder, ref.repo_id, ref.revision, target)
    path = Path(target).expanduser()
    if os.path.lexists(path):
        notes = (
            ("a local path and a Hub id share this name: the local path wins",)
            if looks_like_repo_id(target)
            else ()
        )
        return local_source(path, target, notes, max_files)
    if not looks_like_repo_id(target.partition("@")[0]):
        raise TargetNotFoundError(target, "no such file or directory, and not a Hub id (org/name)")
    return hub_or_fallback(parse_repo_ref(target), target, cache_dir)


def local_source(path: Path, requested: str, notes: tuple[str, ...] = (), max_files: int = 100_000) -> Source:
    check_readable_target(path)
    if path.is_file():
        return LocalFileSource(path, requested, notes)
    if (path / "snapshots").is_dir() and repo_id_from_folder(path.resolve()):
        repo_id = repo_id_from_folder(path.resolve())
        assert repo_id is not None
        return HFCacheSource(path, repo_id, None, requested, notes)
    cached = cache_root_models(path)
    if cached:
        raise UsageError(
            requested,
            f"this is a Hugging Face cache holding {len(cached)} model(s)",
            hint=f"`provenance scan {requested}` scans them all; one of them: "
            f"provenance scan {CACHE_PREFIX}{cached[0]}",
        )
    return LocalDirSource(path, requested, notes, max_files)


def cache_root_models(path: Path) -> list[str] | None:
    """The model repo ids held by a Hugging Face cache root (`models--org--name/snapshots`), sorted; None
    when `path` is not one (a model folder with its own config or card is a model, whatever else it holds)."""
    if not path.is_dir() or any(path.glob("*.json")) or any(path.glob("README*")):
        return None
    found = [
        repo_id
        for folder in path.glob("models--*--*")
        if (folder / "snapshots").is_dir() and (repo_id := repo_id_from_folder(folder)) is not None
    ]
    return sorted(found, key=str.lower) or None


def cached_revision(root: Path, repo_id: str) -> str:
    """`@commit` for a cached repo without `refs/main` that holds exactly one snapshot (downloaded by
    commit), else "" (the cache's main ref)."""
    folder = repo_folder(root, repo_id)
    if (folder / "refs" / "main").is_file():
        return ""
    snapshots = [p.name for p in (folder / "snapshots").iterdir() if p.is_dir()]
    return f"@{snapshots[0]}" if len(snapshots) == 1 else ""


def cache_target(target: str, cache_dir: Path | None) -> tuple[Path, list[str]] | None:
    """(root, repo ids) when `target` names a whole Hugging Face cache: `hf-cache:` alone (the default
    cache, or `cache_dir`) or the path of a cache root folder. None for every other target."""
    if target == CACHE_PREFIX:
        root = cache_dir or default_cache_dir()
        if not root.is_dir():
            raise TargetNotFoundError(str(root), "no Hugging Face cache here")
        return root, cache_root_models(root) or []
    path = Path(target).expanduser()
    if target.startswith(CACHE_PREFIX) or not path.is_dir():
        return None
    models = cache_root_models(path)
    return (path, models) if models else None


def cached_source(
    ref: RepoRef, requested: str, cache_dir: Path | None, notes: tuple[str, ...]
) -> Source | None:
    """The cached snapshot of `ref`, or None when the cache does not hold it."""
    folder = repo_folder(cache_dir or default_cache_dir(), ref.repo_id)
    if not (folder / "snapshots").is_dir():
        return None
    try:
        return HFCacheSource(folder, ref.repo_id, ref.revision, requested, notes)
    except InputError:
        return None


def hub_or_fallback(ref: RepoRef, requested: str, cache_dir: Path | None) -> Source:
    reason = "HF_HUB_OFFLINE=1"
    if not offline_mode():
        from provenance.sources.hub import HubSource  # noqa: PLC0415  (huggingface_hub is slow to import)

        try:
            return HubSource(ref.repo_id, ref.revision, requested=requested)
        except HubUnavailableError as exc:
            reason = f"the Hub could not be reached ({exc.problem})"
    return offline_source(ref, requested, cache_dir, reason)


def offline_source(ref: RepoRef, requested: str, cache_dir: Path | None, reason: str) -> Source:
    note = f"{reason}: resolved offline"
    cached = cached_source(ref, requested, cache_dir, (note,))
    if cached is not None:
        return cached
    from provenance.sources.knowledge_source import knowledge_source  # noqa: PLC0415

    known = knowledge_source(ref.repo_id, requested, (note,)) if ref.revision is None else None
    if known is not None:
        return known
    raise HubUnavailableError(
        str(ref),
        f"{reason}, and it is neither in the local Hugging Face cache nor in the bundled knowledge base",
        hint="connect to the Hub (unset HF_HUB_OFFLINE), or scan a local copy of the model folder",
    )
