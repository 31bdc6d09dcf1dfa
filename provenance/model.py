"""Core records shared by every stage. All frozen; "unknown" is a value with a reason, never a bare None."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

# The facts in which a witness declares a license for the weights (a card's `license` is qualified by
# `license_name` when it is `other`).
DECLARED_LICENSE_KINDS = ("card.license", "hub.license", "gguf.general.license")


class Severity(enum.IntEnum):
    """Ordered so that `finding.severity >= threshold` reads naturally."""

    INFO = 0
    LOW = 1
    MEDIUM = 2
    HIGH = 3
    CRITICAL = 4

    @classmethod
    def parse(cls, text: str) -> Severity:
        try:
            return cls[text.strip().upper()]
        except KeyError:
            names = ", ".join(s.name.lower() for s in cls)
            raise ValueError(f"unknown severity {text!r} (expected one of: {names})") from None

    def __str__(self) -> str:
        return self.name.lower()


@dataclass(frozen=True)
class Finding:
    """Something a user must know: a rule id, a severity, what happened, where, and how to fix it."""

    rule_id: str
    severity: Severity
    message: str
    location: str = ""
    fix: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "rule_id": self.rule_id,
            "severity": str(self.severity),
            "message": self.message,
            "location": self.location,
            "fix": self.fix,
        }


@dataclass(frozen=True)
class Origin:
    """Where a fact came from: which source (hub, local, hf-cache, knowledge-base) and which file/key/line."""

    source: str
    location: str
    detail: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"source": self.source, "location": self.location, "detail": self.detail}

    def __str__(self) -> str:
        where = f"{self.location}:{self.detail}" if self.detail else self.location
        return f"{self.source}:{where}"


@dataclass(frozen=True)
class Fact:
    """One typed claim: `kind` (e.g. `card.license`, `config.model_type`), a JSON value, and its origin."""

    kind: str
    value: Any
    origin: Origin

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "value": self.value, "origin": self.origin.to_json()}


@dataclass(frozen=True)
class Unknown:
    """A value we could not learn, with the reason (gated, not present, offline, skipped...)."""

    reason: str

    def to_json(self) -> dict[str, Any]:
        return {"unknown": self.reason}


@dataclass(frozen=True)
class FileEntry:
    """A file of a snapshot as listed by its source. Hashes are the *published* ones, not computed here."""

    path: str
    size: int | None
    lfs_sha256: str | None = None
    git_blob_id: str | None = None
    present: bool = True
    lfs_pointer: bool = False
    extra: tuple[tuple[str, str], ...] = field(default_factory=tuple)

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "size": self.size,
            "lfs_sha256": self.lfs_sha256,
            "git_blob_id": self.git_blob_id,
            "present": self.present,
            "lfs_pointer": self.lfs_pointer,
        }
