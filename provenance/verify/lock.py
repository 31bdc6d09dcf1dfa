"""`provenance.lock`: every node of a model's lineage pinned by revision, license, file digests and tensor
digest, so a later run (`verify --lock`, `diff`) can tell what drifted.

`build_lock` and `parse_lock` are pure. `lock_target` does the I/O: a scan, the lineage graph (recording each
parent's published file listing on the way), and for a local checkpoint the hashing of every file (sha256,
and the tensor digest in the same pass). The JSON form is documented in docs/verify.md; it has sorted keys
and no timestamps, so the same inputs give the same bytes.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from provenance import __version__
from provenance.errors import MalformedFileError
from provenance.lineage.graph import ScanResolver
from provenance.lineage.model import EdgeRef
from provenance.model import FileEntry
from provenance.sources.interface import Source
from provenance.verify.digest import is_tensor_digest
from provenance.verify.manifest import Expectation, ExpectedFile

if TYPE_CHECKING:
    from provenance.lineage.model import LineageGraph
    from provenance.scan_report import ScanReport

LOCK_SCHEMA = "https://provenance.invalid/schemas/lock/1"
LOCK_VERSION = 1
DEFAULT_NAME = "provenance.lock"
_LOCAL_KINDS = frozenset({"local-dir", "local-file"})
_HINT = "regenerate it with `provenance lock TARGET`"


@dataclass(frozen=True)
class LockedFile:
    path: str
    size: int | None
    sha256: str | None = None
    git_sha1: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "size": self.size, "sha256": self.sha256, "git_sha1": self.git_sha1}


@dataclass(frozen=True)
class LockedNode:
    """One model of the lineage. `files_origin`: `computed` (hashed here), `published` (Hub/cache listing),
    `recorded` (knowledge base, usually without digests) or `unknown`."""

    id: str
    revision: str | None
    source: str
    licenses: tuple[str, ...]
    files: tuple[LockedFile, ...]
    files_origin: str
    tensor_digest: str | None = None
    tensor_note: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "revision": self.revision,
            "source": self.source,
            "licenses": list(self.licenses),
            "files_origin": self.files_origin,
            "files": [f.to_json() for f in self.files],
            "tensor_digest": self.tensor_digest,
            "tensor_digest_note": self.tensor_note or None,
        }


LockedEdge = EdgeRef  # an edge of the locked lineage, without its evidence


@dataclass(frozen=True)
class Lock:
    target: Mapping[str, Any]
    root: str
    nodes: tuple[LockedNode, ...]
    edges: tuple[LockedEdge, ...]
    tool_version: str = __version__
    name: str = DEFAULT_NAME

    def node(self, node_id: str) -> LockedNode | None:
        return next((n for n in self.nodes if n.id.lower() == node_id.lower()), None)

    @property
    def root_node(self) -> LockedNode:
        node = self.node(self.root)
        assert node is not None  # parse_lock and build_lock guarantee it
        return node

    def expectation(self) -> Expectation:
        """The root's files and tensor digest, as what a local copy must match."""
        root = self.root_node
        files = tuple(
            ExpectedFile(f.path, f.size, f.sha256, None if f.sha256 else f.git_sha1, reason=_no_digest(f))
            for f in root.files
        )
        revision = f"@{root.revision}" if root.revision else ""
        source = f"{self.name} ({root.id}{revision}, files {root.files_origin})"
        return Expectation("lock", source, files, tensor_digest=root.tensor_digest)

    def to_json(self) -> dict[str, Any]:
        return {
            "$schema": LOCK_SCHEMA,
            "lock_version": LOCK_VERSION,
            "tool": {"name": "provenance", "version": self.tool_version},
            "target": dict(self.target),
            "root": self.root,
            "nodes": [n.to_json() for n in self.nodes],
            "edges": [e.to_json() for e in self.edges],
        }


def to_json_text(lock: Lock) -> str:
    return json.dumps(lock.to_json(), sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def _no_digest(locked: LockedFile) -> str:
    return "" if locked.sha256 or locked.git_sha1 else "the lock records no digest for this file"


# --- building (pure) --------------------------------------------------------------------------------------


def locked_from_entries(entries: Sequence[FileEntry]) -> tuple[LockedFile, ...]:
    files = (
        LockedFile(e.path, e.size, e.lfs_sha256, None if e.lfs_sha256 else e.git_blob_id) for e in entries
    )
    return tuple(sorted(files, key=lambda f: f.path))


def files_origin(kind: str, files: Sequence[LockedFile]) -> str:
    if not files:
        return "unknown"
    if kind in _LOCAL_KINDS:
        return "computed"
    if kind == "knowledge-base":
        return "recorded"
    return "published"


def build_lock(
    report: ScanReport,
    graph: LineageGraph | None,
    *,
    root_files: tuple[LockedFile, ...],
    root_tensor_digest: str | None,
    root_tensor_note: str,
    listings: Mapping[str, Sequence[FileEntry]],
) -> Lock:
    """A lock from a scan, its lineage graph (None: root only) and the digests gathered for each node."""
    from provenance.lineage.graph import node_of  # noqa: PLC0415
    from provenance.lineage.witnesses import subject_of  # noqa: PLC0415

    info = report.target
    root_id = graph.root if graph is not None else subject_of(report).node_id
    graph_nodes = graph.nodes if graph is not None else (node_of(report, root_id),)
    nodes = []
    for node in graph_nodes:
        if node.id == root_id:
            origin = files_origin(info.kind, root_files)
            nodes.append(
                LockedNode(
                    node.id, node.revision, node.source, node.licenses, root_files, origin,
                    root_tensor_digest, root_tensor_note,
                )
            )  # fmt: skip
            continue
        files = locked_from_entries(listings.get(node.id.lower(), ()))
        note = "weights not hashed: the lock hashes only a local root checkpoint"
        origin = files_origin(node.source, files)
        nodes.append(
            LockedNode(node.id, node.revision, node.source, node.licenses, files, origin, None, note)
        )
    edges = tuple(e.ref() for e in (graph.edges if graph is not None else ()))
    target = {
        "requested": info.requested,
        "kind": info.kind,
        "repo_id": info.repo_id,
        "revision": info.revision,
        "commit": info.commit,
    }
    return Lock(target, root_id, tuple(nodes), edges)


# --- parsing (pure) ---------------------------------------------------------------------------------------


def is_lock(document: Mapping[str, Any]) -> bool:
    return document.get("$schema") == LOCK_SCHEMA


def parse_lock(document: Any, name: str) -> Lock:
    """Validate a lock's JSON; every problem is a MalformedFileError naming the file and the field."""
    if not isinstance(document, dict) or not is_lock(document):
        raise MalformedFileError(name, f"not a provenance lock file ($schema is not {LOCK_SCHEMA})", _HINT)
    if document.get("lock_version") != LOCK_VERSION:
        raise MalformedFileError(
            name, f"lock_version {document.get('lock_version')!r} is not supported", _HINT
        )
    target = _field(document, "target", dict, name)
    root = _field(document, "root", str, name)
    nodes = tuple(_node(raw, name, i) for i, raw in enumerate(_field(document, "nodes", list, name)))
    edges = tuple(_edge(raw, name, i) for i, raw in enumerate(_field(document, "edges", list, name)))
    if not any(n.id == root for n in nodes):
        raise MalformedFileError(name, f"root {root!r} is not among the nodes", _HINT)
    tool = document.get("tool")
    version = tool.get("version") if isinstance(tool, dict) else None
    return Lock(target, root, nodes, edges, str(version or "unknown"), Path(name).name)


def _field(raw: Mapping[str, Any], key: str, kind: type, name: str, where: str = "") -> Any:
    value = raw.get(key)
    if not isinstance(value, kind):
        raise MalformedFileError(
            name, f"{where}{key}: expected {kind.__name__}, got {type(value).__name__}", _HINT
        )
    return value


def _optional(raw: Mapping[str, Any], key: str, kind: type, name: str, where: str) -> Any:
    value = raw.get(key)
    if value is not None and (not isinstance(value, kind) or isinstance(value, bool)):
        raise MalformedFileError(name, f"{where}{key}: expected {kind.__name__} or null", _HINT)
    return value


def _node(raw: Any, name: str, index: int) -> LockedNode:
    where = f"nodes[{index}]."
    if not isinstance(raw, dict):
        raise MalformedFileError(name, f"nodes[{index}] is not an object", _HINT)
    licenses = _field(raw, "licenses", list, name, where)
    files = tuple(
        _file(f, name, f"{where}files[{i}].") for i, f in enumerate(_field(raw, "files", list, name, where))
    )
    digest = _optional(raw, "tensor_digest", str, name, where)
    if digest is not None and not is_tensor_digest(digest):
        raise MalformedFileError(name, f"{where}tensor_digest: not a tdv1:<sha256 hex> digest", _HINT)
    return LockedNode(
        _field(raw, "id", str, name, where),
        _optional(raw, "revision", str, name, where),
        str(raw.get("source") or ""),
        tuple(str(x) for x in licenses),
        files,
        str(raw.get("files_origin") or "unknown"),
        digest,
        str(raw.get("tensor_digest_note") or ""),
    )


def _file(raw: Any, name: str, where: str) -> LockedFile:
    if not isinstance(raw, dict):
        raise MalformedFileError(name, f"{where.rstrip('.')} is not an object", _HINT)
    path = _field(raw, "path", str, name, where)
    if path.startswith("/") or ".." in path.split("/") or "\\" in path:
        raise MalformedFileError(name, f"{where}path: unsafe path {path[:80]!r}", _HINT)
    sha256 = _optional(raw, "sha256", str, name, where)
    git_sha1 = _optional(raw, "git_sha1", str, name, where)
    for key, value, length in (("sha256", sha256, 64), ("git_sha1", git_sha1, 40)):
        if value is not None and (len(value) != length or any(c not in "0123456789abcdef" for c in value)):
            raise MalformedFileError(name, f"{where}{key}: not {length} lowercase hex digits", _HINT)
    return LockedFile(path, _optional(raw, "size", int, name, where), sha256, git_sha1)


def _edge(raw: Any, name: str, index: int) -> LockedEdge:
    where = f"edges[{index}]."
    if not isinstance(raw, dict):
        raise MalformedFileError(name, f"edges[{index}] is not an object", _HINT)
    confidence = raw.get("confidence", 0.0)
    if not isinstance(confidence, int | float) or isinstance(confidence, bool):
        raise MalformedFileError(name, f"{where}confidence: expected a number", _HINT)
    return LockedEdge(
        _field(raw, "child", str, name, where),
        _field(raw, "parent", str, name, where),
        _field(raw, "relation", str, name, where),
        float(confidence),
    )


def read_lock(path: Path) -> Lock:
    from provenance.verify.manifest import read_json_file  # noqa: PLC0415

    document, name = read_json_file(path, "lock file")
    return parse_lock(document, name)


# --- I/O --------------------------------------------------------------------------------------------------


class ListingResolver(ScanResolver):
    """Resolves lineage parents like lineage.graph.ScanResolver, and keeps each parent's full file listing
    (weights included, with published digests) for the lock."""

    def __init__(self, cache_dir: Path | None = None) -> None:
        super().__init__(cache_dir)
        self.listings: dict[str, list[FileEntry]] = {}

    def seen(self, repo_id: str, source: Source) -> None:
        files = source.files()
        for key in (repo_id, source.info.canonical_id, source.info.repo_id):
            if key:
                self.listings[key.lower()] = files


def lock_target(
    target: str,
    *,
    cache_dir: Path | None = None,
    lineage: bool = True,
    max_depth: int = 8,
    tensors: bool = True,
    jobs: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    ignore: Sequence[str] = (),
) -> Lock:
    """Scan `target`, resolve its lineage, hash a local checkpoint (files and tensors in one pass). `ignore`:
    paths inside a local target left out (the lock file itself)."""
    from provenance.lineage.graph import build_graph  # noqa: PLC0415
    from provenance.scan import scan  # noqa: PLC0415

    report = scan(target, cache_dir=cache_dir)
    root_files, digest, note = _root_digests(
        report, tensors=tensors, jobs=jobs, progress=progress, ignore=ignore
    )
    resolver = ListingResolver(cache_dir)
    graph = build_graph(report, resolver, max_depth) if lineage else None
    return build_lock(
        report,
        graph,
        root_files=root_files,
        root_tensor_digest=digest,
        root_tensor_note=note,
        listings=resolver.listings,
    )


def _root_digests(
    report: ScanReport,
    *,
    tensors: bool,
    jobs: int | None,
    progress: Callable[[int, int], None] | None,
    ignore: Sequence[str],
) -> tuple[tuple[LockedFile, ...], str | None, str]:
    info = report.target
    if info.kind not in _LOCAL_KINDS or info.root is None:
        files = locked_from_entries([f.entry for f in report.files])
        return files, None, f"weights not hashed ({info.kind}): lock a local copy to record the tensor digest"
    from provenance.verify.check_files import verify_local  # noqa: PLC0415

    result = verify_local(Path(info.root), None, tensors=tensors, jobs=jobs, progress=progress, ignore=ignore)
    files = tuple(
        sorted((LockedFile(d.path, d.size, d.digest("sha256")) for d in result.digests), key=lambda f: f.path)
    )
    td = result.tensor_digest
    if td is None:
        return files, None, "not asked (--no-tensor-digest)" if not tensors else "no safetensors or GGUF file"
    return files, td.digest, td.problem


__all__ = [
    "DEFAULT_NAME",
    "LOCK_SCHEMA",
    "ListingResolver",
    "Lock",
    "LockedEdge",
    "LockedFile",
    "LockedNode",
    "build_lock",
    "lock_target",
    "parse_lock",
    "read_lock",
    "to_json_text",
]
