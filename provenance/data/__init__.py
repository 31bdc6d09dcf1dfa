"""Bundled data files (knowledge base, published figures), each with its sources beside it."""

from __future__ import annotations

import importlib.resources
import os
from pathlib import Path

from provenance.errors import InputError


def read_data_file(path: str | os.PathLike[str] | None, bundled: str, what: str) -> tuple[str, str]:
    """(text, location) of `path`, or of the bundled file `bundled` (named as `provenance/data/<bundled>`)
    when `path` is None. An unreadable file is an InputError naming it and `what` it should have been."""
    if path is None:
        resource = importlib.resources.files("provenance") / "data" / bundled
        return resource.read_text(encoding="utf-8"), f"provenance/data/{bundled}"
    location = str(path)
    try:
        return Path(path).read_text(encoding="utf-8"), location
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(location, f"cannot read {what}: {exc}") from None
