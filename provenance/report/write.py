"""Atomic report writing: a temp file beside the target, fsync, then rename. A failure leaves nothing."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from provenance.errors import OutputError


def write_atomic(path: Path, data: bytes) -> None:
    """Write `data` to `path` so readers see the old file or the whole new one, never a mix."""
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise OutputError(str(path), f"cannot create a file in {path.parent}: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        Path(tmp).replace(path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            Path(tmp).unlink()
        raise OutputError(str(path), f"cannot write: {exc.strerror}") from None
    except BaseException:
        with contextlib.suppress(OSError):
            Path(tmp).unlink()
        raise
