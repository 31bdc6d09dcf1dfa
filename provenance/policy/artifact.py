"""Read what the checks need from a folder about to be released (I/O at the edge; the engine stays pure)."""

from __future__ import annotations

import os
from pathlib import Path

from provenance.policy.engine import Artifact
from provenance.readers.extract import identify_license_text
from provenance.readers.textfiles import decode_text

MAX_TEXT_BYTES = 1024 * 1024  # a LICENSE, NOTICE or README larger than this is read up to here
_PREFIXES = ("LICENSE", "LICENCE", "COPYING", "NOTICE", "USE_POLICY", "ACCEPTABLE_USE", "README")


def load_artifact(root: Path, model_name: str | None = None) -> Artifact:
    """License-like files and the README at the top of `root` (never following links out of it)."""
    texts: list[tuple[str, str]] = []
    card = ""
    with os.scandir(root) as entries:
        names = sorted(e.name for e in entries if e.is_file(follow_symlinks=False))
    for name in names:
        if not name.upper().startswith(_PREFIXES):
            continue
        with (root / name).open("rb") as fh:
            data = fh.read(MAX_TEXT_BYTES)
        text, _, _ = decode_text(data, name)
        texts.append((name, text))
        if name.lower() == "readme.md":
            card = text
    identified = []
    for name, text in texts:
        if not name.upper().startswith(("README",)):
            match = identify_license_text(text)
            if match is not None and match.license_id is not None:
                identified.append((name, match.license_id))
    return Artifact(str(root), model_name or root.resolve().name, tuple(texts), card, tuple(identified))
