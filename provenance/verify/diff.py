"""Drift between two locks (or two revisions, locked on the fly): licenses, lineage, revisions and digests.

`diff_locks` is pure. The roots are compared with each other whatever their ids (two revisions of one repo,
or a local copy against the published model); the other nodes are matched by id.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from provenance.verify.lock import Lock, LockedFile, LockedNode


@dataclass(frozen=True)
class Change:
    """One difference. `kind`: license, lineage, revision, node, file, tensor-digest."""

    kind: str
    node: str
    message: str
    old: str | None = None
    new: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "node": self.node,
            "message": self.message,
            "old": self.old,
            "new": self.new,
        }


@dataclass(frozen=True)
class LockDiff:
    old: str
    new: str
    changes: tuple[Change, ...]
    notes: tuple[str, ...] = ()

    @property
    def drifted(self) -> bool:
        return bool(self.changes)

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": "https://provenance.invalid/schemas/lock-diff/1",
            "old": self.old,
            "new": self.new,
            "drifted": self.drifted,
            "changes": [c.to_json() for c in self.changes],
            "notes": list(self.notes),
        }


def diff_locks(old: Lock, new: Lock, old_name: str = "old", new_name: str = "new") -> LockDiff:
    changes: list[Change] = []
    notes: list[str] = []
    pairs = [(old.root_node, new.root_node)]
    old_rest = {n.id.lower(): n for n in old.nodes if n.id != old.root}
    new_rest = {n.id.lower(): n for n in new.nodes if n.id != new.root}
    for key in sorted(old_rest.keys() | new_rest.keys()):
        before, after = old_rest.get(key), new_rest.get(key)
        if before is None and after is not None:
            changes.append(Change("node", after.id, f"{after.id} joined the lineage", None, after.id))
        elif after is None and before is not None:
            changes.append(Change("node", before.id, f"{before.id} left the lineage", before.id, None))
        elif before is not None and after is not None:
            pairs.append((before, after))
    for before, after in pairs:
        changes += _node_changes(before, after, notes)
    changes += _edge_changes(old, new)
    return LockDiff(old_name, new_name, tuple(changes), tuple(notes))


def _node_changes(before: LockedNode, after: LockedNode, notes: list[str]) -> list[Change]:
    name = after.id if before.id == after.id else f"{before.id} -> {after.id}"
    changes: list[Change] = []
    if before.revision != after.revision:
        changes.append(Change("revision", name, "revision changed", before.revision, after.revision))
    if set(before.licenses) != set(after.licenses):
        old, new = ", ".join(before.licenses) or "none", ", ".join(after.licenses) or "none"
        changes.append(Change("license", name, f"declared license changed: {old} -> {new}", old, new))
    changes += _file_changes(name, before.files, after.files, notes)
    if before.tensor_digest and after.tensor_digest and before.tensor_digest != after.tensor_digest:
        changes.append(
            Change("tensor-digest", name, "tensor digest changed", before.tensor_digest, after.tensor_digest)
        )
    elif bool(before.tensor_digest) != bool(after.tensor_digest) and (
        before.tensor_digest or after.tensor_digest
    ):
        notes.append(f"{name}: tensor digest known on one side only; not compared")
    return changes


def _file_changes(
    node: str, before: tuple[LockedFile, ...], after: tuple[LockedFile, ...], notes: list[str]
) -> list[Change]:
    old = {f.path: f for f in before}
    new = {f.path: f for f in after}
    changes = [
        Change("file", node, f"{p}: removed", _digest(old[p]), None) for p in sorted(old.keys() - new.keys())
    ]
    changes += [
        Change("file", node, f"{p}: added", None, _digest(new[p])) for p in sorted(new.keys() - old.keys())
    ]
    for path in sorted(old.keys() & new.keys()):
        a, b = old[path], new[path]
        if a.sha256 and b.sha256:
            differs = a.sha256 != b.sha256
        elif a.git_sha1 and b.git_sha1 and not a.sha256 and not b.sha256:
            differs = a.git_sha1 != b.git_sha1
        elif a.size is not None and b.size is not None and a.size != b.size:
            differs = True
        else:
            notes.append(f"{node}: {path}: digests not comparable (different algorithms or none)")
            continue
        if differs:
            changes.append(Change("file", node, f"{path}: content changed", _digest(a), _digest(b)))
    return changes


def _digest(locked: LockedFile) -> str | None:
    if locked.sha256:
        return f"sha256:{locked.sha256}"
    if locked.git_sha1:
        return f"git-sha1:{locked.git_sha1}"
    return f"size:{locked.size}" if locked.size is not None else None


def _edge_changes(old: Lock, new: Lock) -> list[Change]:
    def keyed(lock: Lock) -> Mapping[tuple[str, str], str]:
        root = lock.root.lower()
        return {
            ("<root>" if e.child.lower() == root else e.child.lower(), e.parent.lower()): e.relation
            for e in lock.edges
        }

    before, after = keyed(old), keyed(new)
    changes = []
    for key in sorted(before.keys() | after.keys()):
        child, parent = key
        shown = new.root if child == "<root>" else child
        a, b = before.get(key), after.get(key)
        if a == b:
            continue
        if a is None:
            message = f"new edge: {shown} is a {b} of {parent}"
        elif b is None:
            message = f"edge removed: {shown} was a {a} of {parent}"
        else:
            message = f"relation of {shown} to {parent} changed: {a} -> {b}"
        changes.append(Change("lineage", shown, message, a, b))
    return changes


def load_side(
    spec: str,
    *,
    cache_dir: Path | None,
    jobs: int | None,
    progress: Callable[[int, int], None] | None,
    max_depth: int = 8,
) -> Lock:
    """A lock file as is, or a target (Hub id with revision, folder) locked now."""
    from provenance.verify.lock import lock_target, read_lock  # noqa: PLC0415

    path = Path(spec).expanduser()
    if path.is_file() and not path.name.endswith((".safetensors", ".gguf", ".bin", ".pt", ".pth", ".ckpt")):
        return read_lock(path)
    return lock_target(spec, cache_dir=cache_dir, max_depth=max_depth, jobs=jobs, progress=progress)


def render_text(diff: LockDiff) -> str:
    if not diff.changes:
        lines = [f"no drift between {diff.old} and {diff.new}"]
    else:
        lines = [f"{len(diff.changes)} change(s) from {diff.old} to {diff.new}:"]
        for kind in ("license", "lineage", "node", "revision", "tensor-digest", "file"):
            for change in (c for c in diff.changes if c.kind == kind):
                lines.append(f"  [{kind}] {change.node}: {change.message}")
                if kind in {"tensor-digest", "file"} and (change.old or change.new):
                    lines.append(f"      old {change.old or '-'}")
                    lines.append(f"      new {change.new or '-'}")
    lines += [f"  note: {note}" for note in diff.notes]
    return "\n".join(lines) + "\n"


__all__ = ["Change", "LockDiff", "diff_locks", "load_side", "render_text"]
