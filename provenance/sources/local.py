"""Local sources: a checkpoint folder, or a single checkpoint file.

Safe filesystem defaults, as in model_signing: symlinks that leave the root are never followed (a finding
names them), special files (FIFOs, sockets, devices) are never opened, and reads are bounded.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from provenance.errors import InputError, LimitExceededError, TargetNotFoundError
from provenance.model import FileEntry, Finding, Severity
from provenance.readers.textfiles import classify_path
from provenance.sources.interface import Source, TargetInfo

DEFAULT_MAX_FILES = 100_000
_SKIP_DIRS = frozenset({".git", ".cache", "__pycache__", ".hg", ".svn"})
_LICENSE_KINDS = frozenset({"license", "notice", "use_policy"})


def check_readable_target(path: Path) -> os.stat_result:
    """Stat a target without opening it: a FIFO, socket or device would hang or never end."""
    try:
        st = path.stat()
    except FileNotFoundError:
        raise TargetNotFoundError(str(path), "no such file or directory") from None
    except PermissionError:
        raise InputError(str(path), "permission denied") from None
    except OSError as exc:
        raise InputError(str(path), f"cannot stat: {exc.strerror}") from None
    if not (stat.S_ISDIR(st.st_mode) or stat.S_ISREG(st.st_mode)):
        raise InputError(
            str(path), "not a regular file or directory (FIFO, socket or device); refusing to read it"
        )
    if not os.access(path, os.R_OK):
        raise InputError(str(path), "permission denied")
    return st


def _read_regular(path: Path, display: str, limit: int, prefix: bool) -> bytes:
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise InputError(display, f"cannot open: {exc.strerror}") from None
    with os.fdopen(fd, "rb") as fh:
        st = os.fstat(fh.fileno())
        if not stat.S_ISREG(st.st_mode):
            raise InputError(display, "not a regular file; refusing to read it")
        if not prefix and st.st_size > limit:
            raise LimitExceededError(display, f"file is {st.st_size} bytes, over the {limit}-byte read cap")
        return fh.read(limit)


class LocalDirSource(Source):
    """A checkpoint folder on disk."""

    def __init__(
        self, root: Path, requested: str, notes: tuple[str, ...] = (), max_files: int = DEFAULT_MAX_FILES
    ):
        check_readable_target(root)
        self._root = root.resolve()
        self._info = TargetInfo(requested=requested, kind="local-dir", root=str(self._root), notes=notes)
        self._max_files = max_files
        self._findings: list[Finding] = []
        self._paths: dict[str, Path] = {}
        self._files = self._walk()

    @property
    def info(self) -> TargetInfo:
        return self._info

    def files(self) -> list[FileEntry]:
        return list(self._files)

    def findings(self) -> list[Finding]:
        return list(self._findings)

    def read(self, path: str, limit: int) -> bytes:
        return _read_regular(self._resolve(path), path, limit, prefix=False)

    def read_prefix(self, path: str, length: int) -> bytes:
        return _read_regular(self._resolve(path), path, length, prefix=True)

    def local_path(self, path: str) -> Path:
        """The on-disk path of a listed file, for readers that stream (pickle zips)."""
        return self._resolve(path)

    def _resolve(self, rel: str) -> Path:
        try:
            return self._paths[rel]
        except KeyError:
            raise InputError(rel, "not a file of this snapshot") from None

    def _walk(self) -> list[FileEntry]:
        entries: list[FileEntry] = []
        for dirpath, dirnames, filenames in os.walk(self._root, followlinks=False):
            dirnames[:] = sorted(
                d for d in dirnames if d not in _SKIP_DIRS and self._keep_dir(Path(dirpath, d))
            )
            for name in sorted(filenames):
                entry = self._entry(Path(dirpath, name))
                if entry is not None:
                    entries.append(entry)
                if len(entries) > self._max_files:
                    raise LimitExceededError(
                        str(self._root),
                        f"more than {self._max_files} files",
                        hint="scan a narrower folder, or raise the cap with --max-files",
                    )
        entries.sort(key=lambda e: e.path)
        return entries

    def _keep_dir(self, path: Path) -> bool:
        if path.is_symlink():
            self._note_symlink(path)
            return False
        rel = path.relative_to(self._root).as_posix()
        if classify_path(rel) in _LICENSE_KINDS:
            self._add(
                "file.license-directory", Severity.MEDIUM, f"{rel} is a directory, not a license text", rel
            )
        return True

    def _entry(self, path: Path) -> FileEntry | None:
        rel = path.relative_to(self._root).as_posix()
        if path.is_symlink():
            return self._symlink_entry(path, rel)
        st = path.lstat()
        if not stat.S_ISREG(st.st_mode):
            self._add("file.special", Severity.MEDIUM, f"{rel}: not a regular file; not read", rel)
            return None
        self._paths[rel] = path
        return FileEntry(path=rel, size=st.st_size)

    def _symlink_entry(self, path: Path, rel: str) -> FileEntry | None:
        target = Path(os.path.realpath(path))
        if not target.is_relative_to(self._root):
            self._note_symlink(path)
            return None
        if not target.is_file():
            self._add(
                "file.broken-symlink", Severity.MEDIUM, f"{rel}: symlink to a missing or special file", rel
            )
            return None
        self._paths[rel] = target
        return FileEntry(path=rel, size=target.stat().st_size)

    def _note_symlink(self, path: Path) -> None:
        rel = path.relative_to(self._root).as_posix()
        self._add(
            "file.symlink-outside-root",
            Severity.MEDIUM,
            f"{rel} is a symlink to {path.readlink()}, outside the scanned folder; not followed",
            rel,
        )

    def _add(self, rule: str, severity: Severity, message: str, location: str) -> None:
        self._findings.append(Finding(rule, severity, message, location))


class LocalFileSource(Source):
    """A single checkpoint file (`.safetensors`, `.gguf`, a pickle)."""

    def __init__(self, path: Path, requested: str, notes: tuple[str, ...] = ()):
        st = check_readable_target(path)
        if not stat.S_ISREG(st.st_mode):
            raise InputError(str(path), "expected a file")
        self._path = path.resolve()
        self._entry = FileEntry(path=self._path.name, size=st.st_size)
        self._info = TargetInfo(requested=requested, kind="local-file", root=str(self._path), notes=notes)

    @property
    def info(self) -> TargetInfo:
        return self._info

    def files(self) -> list[FileEntry]:
        return [self._entry]

    def read(self, path: str, limit: int) -> bytes:
        return _read_regular(self.local_path(path), path, limit, prefix=False)

    def read_prefix(self, path: str, length: int) -> bytes:
        return _read_regular(self.local_path(path), path, length, prefix=True)

    def local_path(self, path: str) -> Path:
        if path != self._entry.path:
            raise InputError(path, "not a file of this snapshot")
        return self._path
