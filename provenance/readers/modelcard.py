"""Model cards (README.md): YAML front matter through the hardened loader, the Markdown body kept as text.

`parse_card` never evaluates anything in the card: templates, HTML and ANSI escapes stay data. The accessors
normalise the fields lineage and licensing need and return each value with its README line and the findings
the normalisation raised.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from provenance.errors import LimitExceededError, MalformedFileError
from provenance.model import Finding, Severity
from provenance.readers import safe_yaml
from provenance.readers.safe_yaml import KeyPath
from provenance.readers.textfiles import decode_text

MAX_CARD_BYTES = 16 * 1024 * 1024
MAX_FRONT_MATTER_BYTES = safe_yaml.MAX_BYTES
BASE_MODEL_RELATIONS = ("adapter", "merge", "quantized", "finetune")

# huggingface_hub's repo-id rule (validate_repo_id): optional namespace, name of 1-96 chars, no `--` or `..`.
_REPO_ID = re.compile(r"(?:[A-Za-z0-9_.-]+/)?[A-Za-z0-9_.-]{1,96}")
_HF_URL = re.compile(r"https?://(?:www\.)?huggingface\.co/([^/?#\s]+/[^/?#\s]+)/?")
_YAML_BOOL_WORDS = {True: "yes", False: "no"}

T = TypeVar("T")


@dataclass(frozen=True)
class CardField(Generic[T]):
    """One normalised metadata field: its value, the README line of its key (None if absent), and findings."""

    key: str
    value: T
    line: int | None
    findings: tuple[Finding, ...] = ()

    def to_json(self) -> dict[str, Any]:
        value: Any = list(self.value) if isinstance(self.value, tuple) else self.value
        return {
            "key": self.key,
            "value": value,
            "line": self.line,
            "findings": [f.to_json() for f in self.findings],
        }


@dataclass(frozen=True)
class ModelCard:
    """A parsed card. `metadata` is the front matter as loaded (do not mutate); lines are README lines."""

    name: str
    metadata: dict[Any, Any]
    metadata_lines: dict[KeyPath, int]
    body: str
    body_start_line: int
    encoding: str
    findings: tuple[Finding, ...]
    repo_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "repo_id": self.repo_id,
            "metadata": self.metadata,
            "metadata_lines": {".".join(map(str, path)): line for path, line in self.metadata_lines.items()},
            "body_start_line": self.body_start_line,
            "encoding": self.encoding,
            "findings": [f.to_json() for f in self.findings],
            "fields": {f.key: f.to_json() for f in self.fields()},
        }

    def fields(self) -> tuple[CardField[Any], ...]:
        """Every normalised field, in a fixed order."""
        return (
            self.license(),
            self.license_name(),
            self.license_link(),
            self.base_model(),
            self.base_model_relation(),
            self.tags(),
            self.datasets(),
            self.language(),
            self.pipeline_tag(),
            self.library_name(),
            self.model_index(),
        )

    def all_findings(self) -> tuple[Finding, ...]:
        """Parse findings plus the findings of every normalised field."""
        return self.findings + tuple(f for field in self.fields() for f in field.findings)

    # --- accessors

    def license(self) -> CardField[tuple[str, ...]]:
        """`license` as a tuple of ids (usually one); lists, numbers and an unnamed `other` are findings."""
        raw = _Field(self, "license")
        if isinstance(raw.value, list):
            raw.note(
                "card.license-list",
                Severity.MEDIUM,
                f"license is a list {raw.value!r}; the Hub expects one id (an SPDX expression or `other`)",
            )
        ids = raw.strings()
        if "other" in ids and not (self._get("license_name") or self._get("license_link")):
            raw.note(
                "card.license-other-unnamed",
                Severity.MEDIUM,
                "license is `other` but neither license_name nor license_link says which license",
                fix="add license_name and license_link to the card metadata",
            )
        return raw.done(ids)

    def license_name(self) -> CardField[str | None]:
        return _Field(self, "license_name").single_string()

    def license_link(self) -> CardField[str | None]:
        return _Field(self, "license_link").single_string()

    def base_model(self) -> CardField[tuple[str, ...]]:
        """`base_model` repo ids; URLs, invalid ids and the card's own repo are left out, with findings."""
        raw = _Field(self, "base_model")
        ids: list[str] = []
        for item in raw.strings():
            repo_id = self._base_model_id(item, raw)
            if repo_id is not None and repo_id not in ids:
                ids.append(repo_id)
        return raw.done(tuple(ids))

    def _base_model_id(self, item: str, raw: _Field) -> str | None:
        url = _HF_URL.fullmatch(item)
        if url:
            raw.note(
                "card.base-model-url", Severity.LOW, f"base_model is a URL ({item}); read as {url.group(1)}"
            )
            item = url.group(1)
        elif "://" in item:
            raw.note("card.base-model-url", Severity.MEDIUM, f"base_model is a URL, not a repo id: {item}")
            return None
        if not _valid_repo_id(item):
            raw.note(
                "card.base-model-invalid", Severity.MEDIUM, f"base_model {item!r} is not a valid repo id"
            )
            return None
        if self.repo_id is not None and item.lower() == self.repo_id.lower():
            raw.note("card.base-model-self", Severity.MEDIUM, f"base_model {item} is this model itself")
            return None
        return item

    def base_model_relation(self) -> CardField[str | None]:
        field = _Field(self, "base_model_relation").single_string()
        if field.value is not None and field.value not in BASE_MODEL_RELATIONS:
            finding = _finding(
                self.name,
                field.line,
                "card.base-model-relation-unknown",
                Severity.LOW,
                f"base_model_relation {field.value!r} is not one of {', '.join(BASE_MODEL_RELATIONS)}",
            )
            return CardField(field.key, field.value, field.line, (*field.findings, finding))
        return field

    def tags(self) -> CardField[tuple[str, ...]]:
        raw = _Field(self, "tags")
        return raw.done(raw.strings())

    def datasets(self) -> CardField[tuple[str, ...]]:
        raw = _Field(self, "datasets")
        return raw.done(raw.strings())

    def language(self) -> CardField[tuple[str, ...]]:
        """Language codes. YAML 1.1 reads an unquoted `no` (Norwegian) as false: it is read back as "no"."""
        raw = _Field(self, "language")
        return raw.done(raw.strings(booleans_as_words=True))

    def pipeline_tag(self) -> CardField[str | None]:
        return _Field(self, "pipeline_tag").single_string()

    def library_name(self) -> CardField[str | None]:
        return _Field(self, "library_name").single_string()

    def model_index(self) -> CardField[Any]:
        """`model-index` exactly as loaded, for claim verification later."""
        raw = _Field(self, "model-index")
        return raw.done(raw.value)

    def _get(self, key: str) -> Any:
        return self.metadata.get(key)


class _Field:
    """Collects the value, line and findings of one metadata key while an accessor normalises it."""

    def __init__(self, card: ModelCard, key: str) -> None:
        self.card, self.key = card, key
        self.value = card.metadata.get(key)
        self.line = card.metadata_lines.get((key,))
        self.findings: list[Finding] = []

    def note(self, rule_id: str, severity: Severity, message: str, fix: str = "") -> None:
        self.findings.append(_finding(self.card.name, self.line, rule_id, severity, message, fix=fix))

    def done(self, value: T) -> CardField[T]:
        return CardField(self.key, value, self.line, tuple(self.findings))

    def strings(self, *, booleans_as_words: bool = False) -> tuple[str, ...]:
        """A string or a list of strings as a tuple; numbers become strings, anything else a finding."""
        items = self.value if isinstance(self.value, list) else [] if self.value is None else [self.value]
        out: list[str] = []
        for item in items:
            text = self._as_string(item, booleans_as_words)
            if text and text not in out:
                out.append(text)
        return tuple(out)

    def _as_string(self, item: Any, booleans_as_words: bool) -> str | None:
        if isinstance(item, str):
            return item.strip()
        if isinstance(item, bool) and booleans_as_words:
            word = _YAML_BOOL_WORDS[item]
            self.note(
                "card.yaml-boolean",
                Severity.LOW,
                f"{self.key}: YAML read a bare word as {item}; kept as {word!r}",
            )
            return word
        if isinstance(item, int | float) and not isinstance(item, bool):
            self.note(
                "card.not-a-string",
                Severity.LOW,
                f"{self.key}: {item!r} is a number, read as the string {item}",
            )
            return str(item)
        self.note("card.bad-type", Severity.MEDIUM, f"{self.key}: ignored a value of type {_type_name(item)}")
        return None

    def single_string(self) -> CardField[str | None]:
        if self.value is None or isinstance(self.value, str):
            return self.done(self.value.strip() if isinstance(self.value, str) else None)
        if isinstance(self.value, int | float) and not isinstance(self.value, bool):
            self.note(
                "card.not-a-string", Severity.LOW, f"{self.key}: {self.value!r} is a number, read as a string"
            )
            return self.done(str(self.value))
        self.note(
            "card.bad-type", Severity.MEDIUM, f"{self.key} should be a string, got {_type_name(self.value)}"
        )
        return self.done(None)


def _finding(
    name: str, line: int | None, rule_id: str, severity: Severity, message: str, *, fix: str = ""
) -> Finding:
    location = f"{name}:{line}" if line is not None else name
    return Finding(rule_id, severity, message, location=location, fix=fix)


def _valid_repo_id(text: str) -> bool:
    return (
        bool(_REPO_ID.fullmatch(text)) and "--" not in text and ".." not in text and not text.endswith(".git")
    )


def _type_name(value: Any) -> str:
    names = {dict: "mapping", list: "list", str: "string", type(None): "null", bool: "bool", int: "int"}
    return names.get(type(value), type(value).__name__)


# --- parsing


def parse_card(
    data: bytes,
    name: str = "README.md",
    *,
    repo_id: str | None = None,
    max_bytes: int = MAX_CARD_BYTES,
    max_front_matter_bytes: int = MAX_FRONT_MATTER_BYTES,
) -> ModelCard:
    """Parse a model card: YAML front matter between a `---` first line and the next `---` line, then a body.

    No front matter, or an unterminated one, is a finding (the whole text is then the body); front matter
    that is not a mapping, or invalid YAML, is a MalformedFileError naming README line and column.
    """
    if len(data) > max_bytes:
        raise LimitExceededError(name, f"model card is over the size cap ({len(data)} > {max_bytes} bytes)")
    text, encoding, decode_findings = decode_text(data, name)
    findings = list(decode_findings)
    lines = text.split("\n")
    start = _front_matter_start(lines)
    end = _front_matter_end(lines, start) if start is not None else None
    metadata: dict[Any, Any] = {}
    key_lines: dict[KeyPath, int] = {}
    if start is None:
        message = f"no card metadata: {name} has no YAML front matter"
        findings.append(_finding(name, None, "card.no-metadata", Severity.MEDIUM, message))
        return ModelCard(name, metadata, key_lines, text, 1, encoding, tuple(findings), repo_id)
    if end is None:
        message = f"unterminated front matter ({name} line {start + 1}): no closing `---`; read as prose"
        findings.append(_finding(name, start + 1, "card.unterminated-front-matter", Severity.MEDIUM, message))
        return ModelCard(name, metadata, key_lines, text, 1, encoding, tuple(findings), repo_id)
    if start > 0:
        message = f"front matter starts on line {start + 1}, after blank lines; some tools will not see it"
        findings.append(_finding(name, start + 1, "card.front-matter-not-first", Severity.LOW, message))
    block = lines[start + 1 : end]
    if all(not line.strip() or line.lstrip().startswith("#") for line in block):
        message = "card metadata block is empty"
        findings.append(_finding(name, start + 1, "card.empty-metadata", Severity.MEDIUM, message))
    else:
        metadata, key_lines = _load_metadata("\n".join(block), name, start + 1, max_front_matter_bytes)
    body = "\n".join(lines[end + 1 :])
    return ModelCard(name, metadata, key_lines, body, end + 2, encoding, tuple(findings), repo_id)


def _front_matter_start(lines: list[str]) -> int | None:
    """The `---` line opening the card; blank lines before it are tolerated, as huggingface_hub does."""
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    return first if first is not None and lines[first].rstrip(" \t") == "---" else None


def _front_matter_end(lines: list[str], start: int) -> int | None:
    return next((i for i in range(start + 1, len(lines)) if lines[i].rstrip(" \t") == "---"), None)


def _load_metadata(
    block: str, name: str, line_offset: int, max_bytes: int
) -> tuple[dict[Any, Any], dict[KeyPath, int]]:
    value, key_lines = safe_yaml.load_with_lines(block, name, max_bytes=max_bytes, line_offset=line_offset)
    if not isinstance(value, dict):
        raise MalformedFileError(
            f"{name}:{line_offset + 1}",
            f"front matter must be a mapping, got {_type_name(value)}",
            hint="card metadata is a YAML mapping such as `license: mit`",
        )
    return value, key_lines
