"""The license catalog: one YAML file per license under `policies/licenses/` (docs/licenses.md).

Each file says how to recognise a license (SPDX or `LicenseRef-` id, Hub card ids, `license_name` values,
ScanCode keys, marker phrases, a bundled text pinned by sha256) and what it obliges, clause by clause: the
kind of clause, the relations along which it travels to another model, the activities that trigger it, and
the verbatim quote it rests on. Files are read with the hardened YAML loader and validated in one pass that
collects every problem as `file:line: problem` before raising one `PolicyError`; the engine then works on
frozen records.
"""

from __future__ import annotations

import difflib
import functools
import hashlib
import importlib.resources
import pathlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib.resources.abc import Traversable
from typing import Any

from provenance.errors import MalformedFileError, PolicyError
from provenance.model import Severity
from provenance.readers import safe_yaml

RELATIONS: tuple[str, ...] = ("self", "finetune", "adapter", "quantized", "merge", "distillation")
ACTIVITIES: tuple[str, ...] = ("any_use", "distribution", "hosted_use", "commercial_use")

DUTY_KINDS: frozenset[str] = frozenset(
    {
        "license_copy",
        "notice_file",
        "attribution_display",
        "naming",
        "retain_notices",
        "change_statement",
        "acceptable_use",
        "use_restrictions_flow_down",
        "update_obligation",
        "disclosure",
    }
)
RESTRICTION_KINDS: frozenset[str] = frozenset(
    {
        "non_commercial",
        "mau_threshold",
        "commercial_requires_license",
        "no_improving_other_llms",
        "prohibited_use",
        "territorial_restriction",
        "remote_restriction",
        "safety_circumvention",
    }
)
INFO_KINDS: frozenset[str] = frozenset(
    {
        "governing_law",
        "litigation_termination",
        "patent_termination",
        "no_warranty",
        "trademark",
        "export_control",
        "outputs_not_derivatives",
        "integrated_product_exception",
        "derivatives_include_distillation",
        "hosted_service_is_distribution",
        "distillation_permitted",
    }
)
OBLIGATION_KINDS: frozenset[str] = DUTY_KINDS | RESTRICTION_KINDS | INFO_KINDS
FAMILIES: tuple[str, ...] = ("llama", "qwen", "gemma", "deepseek", "openrail", "permissive", "cc", "other")
LICENSE_KINDS: tuple[str, ...] = ("license", "use-policy")
FIDELITIES: tuple[str, ...] = ("exact", "re-typed", "clauses-only")
PERMISSIONS: tuple[str, ...] = (
    "commercial_use",
    "distribution",
    "modification",
    "hosted_use",
    "outputs_to_train_other_models",
)
PERMISSION_VALUES: tuple[str, ...] = ("true", "false", "conditional")
THRESHOLD_KINDS: frozenset[str] = frozenset({"mau_threshold", "commercial_requires_license"})

MAX_CATALOG_FILE_BYTES = 256 * 1024
MAX_TEXT_BYTES = 1024 * 1024
MAX_CATALOG_FILES = 1000

_HINT = "fix every problem listed; docs/licenses.md describes each key"
_TOP_KEYS = (
    "id",
    "name",
    "version",
    "family",
    "kind",
    "hub_ids",
    "license_names",
    "scancode_keys",
    "aliases",
    "text",
    "identification",
    "incorporates",
    "permissions",
    "notes",
    "obligations",
)
_REQUIRED_TOP = ("id", "name", "family", "kind", "text")
_TEXT_KEYS = ("file", "sha256", "source", "fidelity")
_IDENTIFICATION_KEYS = ("markers",)
_OBLIGATION_KEYS = (
    "id",
    "kind",
    "summary",
    "action",
    "reaches",
    "when",
    "severity",
    "threshold",
    "prefix",
    "notice_text",
    "clause",
)
_REQUIRED_OBLIGATION = ("id", "kind", "summary", "reaches", "when", "severity", "clause")
_CLAUSE_KEYS = ("section", "quote")
_LICENSE_REF = re.compile(r"LicenseRef-[A-Za-z0-9][A-Za-z0-9.\-]*")
_LOCAL_ID = re.compile(r"[a-z0-9][a-z0-9._\-]*")
_SHA256 = re.compile(r"[0-9a-f]{64}")
_TEXT_FILE = re.compile(r"texts/[A-Za-z0-9][A-Za-z0-9._\-]*\.txt")

Path = tuple[str | int, ...]


# --- records ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LicenseClause:
    """Where a clause sits in its text and its verbatim words."""

    section: str
    quote: str


@dataclass(frozen=True)
class LicenseObligation:
    """One clause of a license: what it asks, along which relations it travels, what triggers it."""

    id: str  # global: "<license id>/<local id>"
    kind: str
    summary: str
    action: str
    reaches: tuple[str, ...]
    when: tuple[str, ...]
    severity: Severity
    clause: LicenseClause
    notice_text: str = ""
    threshold: int | None = None
    prefix: str = ""

    @property
    def category(self) -> str:
        """`duty` (to do when released), `restriction` (violated by an activity) or `info`."""
        if self.kind in DUTY_KINDS:
            return "duty"
        if self.kind in RESTRICTION_KINDS:
            return "restriction"
        return "info"


@dataclass(frozen=True)
class LicenseText:
    """The bundled text (relative to the catalog folder, None when only clauses are known) and its source."""

    file: str | None
    sha256: str | None
    source: str
    fidelity: str


@dataclass(frozen=True)
class License:
    """A validated catalog entry; build a catalog with `load_catalog` or `default_catalog`."""

    id: str
    name: str
    version: str
    family: str
    kind: str
    hub_ids: tuple[str, ...]
    license_names: tuple[str, ...]
    scancode_keys: tuple[str, ...]
    aliases: tuple[str, ...]
    text: LicenseText
    markers: tuple[str, ...]
    incorporates: tuple[str, ...]
    permissions: tuple[tuple[str, str], ...]
    obligations: tuple[LicenseObligation, ...]
    notes: tuple[str, ...]
    location: str
    root: Traversable | None = field(default=None, repr=False, compare=False)

    def permission(self, name: str) -> str:
        """`true`, `false`, `conditional`, or `unknown` when the entry does not say."""
        return dict(self.permissions).get(name, "unknown")

    def obligations_along(self, relation: str) -> tuple[LicenseObligation, ...]:
        return tuple(o for o in self.obligations if relation in o.reaches)

    def read_text(self) -> str | None:
        """The bundled text, or None when the entry has none (or it cannot be read)."""
        if self.text.file is None or self.root is None:
            return None
        try:
            return self.root.joinpath(*self.text.file.split("/")).read_bytes().decode("utf-8")
        except (OSError, UnicodeDecodeError):
            return None


@dataclass(frozen=True)
class LicenseCatalog:
    """Every license entry, sorted by id, with lookups by any name a model card or a scanner uses."""

    licenses: tuple[License, ...]
    _index: Mapping[str, License] = field(default_factory=dict, repr=False, compare=False)
    _names: Mapping[str, License] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self._index:
            index, names = _indexes(self.licenses)
            object.__setattr__(self, "_index", index)
            object.__setattr__(self, "_names", names)

    def get(self, license_id: str) -> License | None:
        wanted = license_id.strip().lower()
        return next((lic for lic in self.licenses if lic.id.lower() == wanted), None)

    def lookup(self, value: str, license_name: str | None = None) -> License | None:
        """A declared value (id, Hub id, ScanCode key, alias, `license_name`), or `other` + `license_name`."""
        key = value.strip().lower()
        if key == "other":
            key = (license_name or "").strip().lower()
            if not key or key == "other":
                return None
        return self._names.get(key) or self._index.get(key)

    def ids(self) -> tuple[str, ...]:
        return tuple(lic.id for lic in self.licenses)

    def closest(self, value: str, n: int = 3) -> list[str]:
        """Catalog ids whose id, Hub ids or aliases look most like `value` (for "did you mean")."""
        spelled: dict[str, str] = {}
        for lic in self.licenses:
            for name in (lic.id, *lic.hub_ids, *lic.license_names, *lic.aliases):
                spelled.setdefault(name.lower(), lic.id)
        found: list[str] = []
        for match in difflib.get_close_matches(value.strip().lower(), list(spelled), n=n * 3, cutoff=0.6):
            if spelled[match] not in found:
                found.append(spelled[match])
        return found[:n]


def _indexes(licenses: Iterable[License]) -> tuple[dict[str, License], dict[str, License]]:
    index: dict[str, License] = {}
    names: dict[str, License] = {}
    for lic in licenses:
        for value in (lic.id, *lic.hub_ids, *lic.scancode_keys, *_scancode_short(lic), *lic.aliases):
            index.setdefault(value.lower(), lic)
        for value in lic.license_names:
            names.setdefault(value.lower(), lic)
    return index, names


def _scancode_short(lic: License) -> list[str]:
    prefix = "licenseref-scancode-"
    return [k[len(prefix) :] for k in lic.scancode_keys if k.lower().startswith(prefix)]


# --- loading ------------------------------------------------------------------------------------------------


def load_catalog(directory: pathlib.Path) -> LicenseCatalog:
    """Every `*.yaml` in `directory`; PolicyError with every problem (as `file:line: problem`) if any."""
    if not directory.is_dir():
        raise PolicyError(str(directory), [f"{directory}: not a directory of license files"], _HINT)
    return _load(directory, str(directory))


@functools.cache
def default_catalog() -> LicenseCatalog:
    """The catalog shipped with the tool (`policies/licenses`, installed as `provenance.policies`)."""
    return _load(importlib.resources.files("provenance.policies") / "licenses", "policies/licenses")


def _load(root: Traversable, label: str) -> LicenseCatalog:
    files = sorted((f for f in root.iterdir() if f.name.endswith(".yaml") and f.is_file()), key=_name)
    problems: list[str] = []
    if not files:
        problems.append(f"{label}: no license files (*.yaml) found")
    if len(files) > MAX_CATALOG_FILES:
        problems.append(f"{label}: more than {MAX_CATALOG_FILES} license files")
        files = files[:MAX_CATALOG_FILES]
    entries: list[tuple[License, dict[Path, int]]] = []
    attempted: set[str] = set()  # ids of invalid files too, so their problems are not repeated as unknown ids
    for file in files:
        builder = _EntryBuilder(root, f"{label}/{file.name}")
        entry = builder.build(file)
        problems += builder.problems
        attempted.add(builder.license_id.lower())
        if entry is not None:
            entries.append((entry, builder.lines))
    problems += _cross_checks(entries, attempted)
    if problems:
        target = f"{label}/{files[0].name}" if len(files) == 1 else label
        raise PolicyError(target, problems, _HINT)
    return LicenseCatalog(tuple(sorted((e for e, _ in entries), key=lambda e: e.id.lower())))


def _name(file: Traversable) -> str:
    return file.name


def _cross_checks(entries: list[tuple[License, dict[Path, int]]], attempted: set[str]) -> list[str]:
    """Ids unique; each name a card can use means one license; incorporated documents exist."""
    problems: list[str] = []
    ids: dict[str, str] = {}
    names: dict[str, tuple[str, str]] = {}
    for entry, lines in entries:
        where = f"{entry.location}:{lines.get(('id',), 1)}"
        first = ids.setdefault(entry.id.lower(), entry.location)
        if first != entry.location:
            problems.append(f"{where}: duplicate license id {entry.id!r} (also in {first})")
            continue
        spellings = (*entry.hub_ids, *entry.license_names, *entry.scancode_keys, *entry.aliases)
        for value in dict.fromkeys(v.lower() for v in (entry.id, *spellings)):
            owner = names.setdefault(value, (entry.id, entry.location))
            if owner[0] != entry.id:
                problems.append(f"{where}: {value!r} already names {owner[0]} (in {owner[1]})")
    for entry, lines in entries:
        for i, other in enumerate(entry.incorporates):
            if other.lower() not in attempted:
                line = lines.get(("incorporates", i), lines.get(("incorporates",), 1))
                problems.append(f"{entry.location}:{line}: incorporates unknown license id {other!r}")
    return problems


@functools.cache
def _spdx_ids() -> frozenset[str]:
    from license_expression import get_license_index  # noqa: PLC0415  (loaded only when validating)

    found: set[str] = set()
    for item in get_license_index():
        for key in (item.get("spdx_license_key"), *item.get("other_spdx_license_keys", [])):
            if isinstance(key, str) and not key.startswith("LicenseRef-"):
                found.add(key)
    return frozenset(found)


def normalise_whitespace(text: str) -> str:
    return " ".join(text.split())


class _EntryBuilder:
    """Validates one catalog file, collecting every problem; `build` returns None when there were any."""

    def __init__(self, root: Traversable, location: str) -> None:
        self.root = root
        self.location = location
        self.problems: list[str] = []
        self.lines: dict[Path, int] = {}
        self.text: str | None = None
        self.license_id = ""

    def problem(self, path: Path, message: str) -> None:
        line = 1
        for end in range(len(path), 0, -1):
            if path[:end] in self.lines:
                line = self.lines[path[:end]]
                break
        self.problems.append(f"{self.location}:{line}: {message}")

    def build(self, file: Traversable) -> License | None:
        value = self._parse(file)
        if value is None:
            return None
        if not isinstance(value, dict):
            self.problem((), f"a license entry is a mapping of keys (id, name, ...), not {_type(value)}")
            return None
        self._keys(value, (), _TOP_KEYS, _REQUIRED_TOP)
        license_id = self.license_id = self._license_id(value.get("id"))
        text = self._text(value.get("text"))
        entry = License(
            id=license_id,
            name=self._string(value, ("name",)),
            version=self._string(value, ("version",), required=False),
            family=self._choice(value, ("family",), FAMILIES),
            kind=self._choice(value, ("kind",), LICENSE_KINDS),
            hub_ids=self._strings(value, ("hub_ids",), lower=True),
            license_names=self._strings(value, ("license_names",), lower=True),
            scancode_keys=self._strings(value, ("scancode_keys",)),
            aliases=self._strings(value, ("aliases",)),
            text=text,
            markers=self._identification(value.get("identification")),
            incorporates=self._incorporates(value),
            permissions=self._permissions(value.get("permissions")),
            obligations=self._obligations(value.get("obligations"), license_id),
            notes=self._strings(value, ("notes",)),
            location=self.location,
            root=self.root,
        )
        return None if self.problems else entry

    def _parse(self, file: Traversable) -> Any:
        try:
            data = file.read_bytes()
        except OSError as exc:
            self.problems.append(f"{self.location}:1: cannot be read ({exc.strerror or exc})")
            return None
        if len(data) > MAX_CATALOG_FILE_BYTES:
            self.problems.append(f"{self.location}:1: over {MAX_CATALOG_FILE_BYTES} bytes; not read")
            return None
        try:
            value, self.lines = safe_yaml.load_with_lines(data.decode("utf-8"), self.location)
        except UnicodeDecodeError as exc:
            self.problems.append(f"{self.location}:1: not UTF-8 ({exc.reason})")
            return None
        except MalformedFileError as exc:
            self.problems.append(f"{exc.target}: {exc.problem}")
            return None
        if value is None:
            self.problems.append(f"{self.location}:1: the file is empty")
        return value

    # --- generic checks

    def _keys(
        self, value: dict[Any, Any], path: Path, known: tuple[str, ...], required: tuple[str, ...]
    ) -> None:
        for key in value:
            if str(key) not in known:
                near = difflib.get_close_matches(str(key), known, n=1)
                hint = f" (did you mean {near[0]!r}?)" if near else f" (expected one of: {', '.join(known)})"
                self.problem((*path, str(key)), f"unknown key {_dotted((*path, str(key)))!r}{hint}")
        for key in required:
            if key not in value:
                self.problem(path, f"missing required key {_dotted((*path, key))!r}")

    def _get(self, value: dict[Any, Any], path: Path) -> Any:
        return value.get(path[-1])

    def _string(self, value: dict[Any, Any], path: Path, *, required: bool = True, full: Path = ()) -> str:
        where = full or path
        item = self._get(value, path)
        if item is None:
            if required and path[-1] in value:
                self.problem(where, f"{_dotted(where)!r} must not be empty")
            return ""
        if not isinstance(item, str):
            self.problem(where, f"{_dotted(where)!r} must be a string, not {_type(item)}")
            return ""
        if required and not item.strip():
            self.problem(where, f"{_dotted(where)!r} must not be empty")
        return item.strip()

    def _strings(
        self, value: dict[Any, Any], path: Path, *, lower: bool = False, full: Path = ()
    ) -> tuple[str, ...]:
        where = full or path
        items = self._get(value, path)
        if items is None:
            return ()
        if not isinstance(items, list):
            self.problem(where, f"{_dotted(where)!r} must be a list of strings, not {_type(items)}")
            return ()
        out: list[str] = []
        for i, item in enumerate(items):
            if not isinstance(item, str) or not item.strip():
                self.problem(
                    (*where, i), f"{_dotted(where)}[{i}] must be a non-empty string, not {_type(item)}"
                )
                continue
            text = item.strip().lower() if lower else item.strip()
            if text in out:
                self.problem((*where, i), f"{_dotted(where)}[{i}] {text!r} is listed twice")
            out.append(text)
        return tuple(out)

    def _choice(self, value: dict[Any, Any], path: Path, allowed: Iterable[str], *, full: Path = ()) -> str:
        where = full or path
        text = self._string(value, path, full=where)
        allowed = tuple(allowed)
        if text and text not in allowed:
            self.problem(where, _unknown(str(where[-1]), text, allowed))
        return text

    # --- sections

    def _license_id(self, item: Any) -> str:
        if item is None:
            return ""
        if not isinstance(item, str) or not item.strip():
            self.problem(("id",), f"'id' must be a non-empty string, not {_type(item)}")
            return ""
        text = item.strip()
        if text.lower().startswith("licenseref-"):
            if not text.startswith("LicenseRef-"):
                self.problem(("id",), f"id {text!r} must start with 'LicenseRef-' (that capitalisation)")
            elif not _LICENSE_REF.fullmatch(text):
                self.problem(("id",), f"id {text!r}: a LicenseRef- id has letters, digits, '.' and '-' only")
        elif text not in _spdx_ids():
            near = difflib.get_close_matches(text, sorted(_spdx_ids()), n=1)
            hint = f" (did you mean {near[0]!r}?)" if near else ""
            self.problem(("id",), f"id {text!r} is not an SPDX license id; use 'LicenseRef-…'{hint}")
        return text

    def _text(self, item: Any) -> LicenseText:
        empty = LicenseText(None, None, "", "")
        if item is None:
            return empty
        if not isinstance(item, dict):
            self.problem(
                ("text",), f"'text' must be a mapping (file, sha256, source, fidelity), not {_type(item)}"
            )
            return empty
        path: Path = ("text",)
        self._keys(item, path, _TEXT_KEYS, ("file", "sha256", "source", "fidelity"))
        file = self._optional_string(item, (*path, "file"))
        sha = self._optional_string(item, (*path, "sha256"))
        source = self._string(item, ("source",), full=(*path, "source"))
        fidelity = self._choice(item, ("fidelity",), FIDELITIES, full=(*path, "fidelity"))
        if file is None:
            if sha is not None:
                self.problem((*path, "sha256"), "'text.sha256' must be null when there is no 'text.file'")
            if fidelity and fidelity != "clauses-only":
                self.problem((*path, "fidelity"), "an entry without a text file has fidelity 'clauses-only'")
            return LicenseText(None, None, source, fidelity)
        if fidelity == "clauses-only":
            self.problem((*path, "fidelity"), "fidelity 'clauses-only' is for entries without a text file")
        self._check_file(file, sha)
        return LicenseText(file, sha, source, fidelity)

    def _optional_string(self, item: dict[Any, Any], path: Path) -> str | None:
        value = item.get(path[-1])
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            self.problem(path, f"{_dotted(path)!r} must be a non-empty string or null, not {_type(value)}")
            return None
        return value.strip()

    def _check_file(self, file: str, sha: str | None) -> None:
        path: Path = ("text", "file")
        if not _TEXT_FILE.fullmatch(file):
            self.problem(path, f"text file {file!r} must be 'texts/<name>.txt' inside the catalog folder")
            return
        target = self.root.joinpath(*file.split("/"))
        try:
            data = target.read_bytes()
        except OSError:
            self.problem(path, f"text file {file!r} does not exist")
            return
        if len(data) > MAX_TEXT_BYTES:
            self.problem(path, f"text file {file!r} is over {MAX_TEXT_BYTES} bytes")
            return
        digest = hashlib.sha256(data).hexdigest()
        if sha is None or not _SHA256.fullmatch(sha):
            self.problem(
                ("text", "sha256"), f"'text.sha256' must be 64 lower-case hex digits (the file has {digest})"
            )
        elif sha != digest:
            self.problem(("text", "sha256"), f"sha256 of {file} is {digest}, not {sha} (the text changed?)")
        try:
            self.text = normalise_whitespace(data.decode("utf-8"))
        except UnicodeDecodeError:
            self.problem(path, f"text file {file!r} is not UTF-8")

    def _identification(self, item: Any) -> tuple[str, ...]:
        if item is None:
            return ()
        if not isinstance(item, dict):
            self.problem(("identification",), f"'identification' must be a mapping, not {_type(item)}")
            return ()
        self._keys(item, ("identification",), _IDENTIFICATION_KEYS, ())
        markers = self._strings(item, ("markers",), full=("identification", "markers"))
        for i, marker in enumerate(markers):
            self._in_text(("identification", "markers", i), "marker", marker, casefold=True)
        return markers

    def _incorporates(self, value: dict[Any, Any]) -> tuple[str, ...]:
        ids = self._strings(value, ("incorporates",))
        for i, other in enumerate(ids):
            if not _LICENSE_REF.fullmatch(other) and other not in _spdx_ids():
                self.problem(("incorporates", i), f"incorporates {other!r}: not a license id")
        return ids

    def _permissions(self, item: Any) -> tuple[tuple[str, str], ...]:
        if item is None:
            return ()
        if not isinstance(item, dict):
            self.problem(("permissions",), f"'permissions' must be a mapping, not {_type(item)}")
            return ()
        self._keys(item, ("permissions",), PERMISSIONS, ())
        out: list[tuple[str, str]] = []
        for key, raw in item.items():
            if str(key) not in PERMISSIONS:
                continue
            text = raw if isinstance(raw, str) else str(raw).lower() if isinstance(raw, bool) else None
            if text not in PERMISSION_VALUES:
                self.problem(
                    ("permissions", str(key)), f"permission {key!r} must be true, false or conditional"
                )
                continue
            out.append((str(key), text))
        return tuple(sorted(out))

    def _obligations(self, item: Any, license_id: str) -> tuple[LicenseObligation, ...]:
        if item is None:
            return ()
        if not isinstance(item, list):
            self.problem(("obligations",), f"'obligations' must be a list, not {_type(item)}")
            return ()
        out: list[LicenseObligation] = []
        seen: dict[str, int] = {}
        for i, raw in enumerate(item):
            obligation = self._obligation(raw, ("obligations", i), license_id)
            if obligation is None:
                continue
            local = obligation.id.rsplit("/", 1)[-1]
            if local in seen:
                self.problem(
                    ("obligations", i, "id"), f"obligation id {local!r} repeats obligations[{seen[local]}]"
                )
            seen.setdefault(local, i)
            out.append(obligation)
        return tuple(out)

    def _obligation(self, raw: Any, path: Path, license_id: str) -> LicenseObligation | None:
        if not isinstance(raw, dict):
            self.problem(path, f"{_dotted(path)} must be a mapping (id, kind, ...), not {_type(raw)}")
            return None
        self._keys(raw, path, _OBLIGATION_KEYS, _REQUIRED_OBLIGATION)
        local = self._string(raw, ("id",), full=(*path, "id"))
        if local and not _LOCAL_ID.fullmatch(local):
            self.problem((*path, "id"), f"obligation id {local!r}: lower-case letters, digits, '.', '_', '-'")
        kind = self._choice(raw, ("kind",), sorted(OBLIGATION_KINDS), full=(*path, "kind"))
        action = self._string(raw, ("action",), required=kind not in INFO_KINDS, full=(*path, "action"))
        if kind and kind not in INFO_KINDS and "action" not in raw:
            self.problem(path, f"{_dotted(path)}: a {kind} clause needs an 'action' (how to comply)")
        return LicenseObligation(
            id=f"{license_id}/{local}",
            kind=kind,
            summary=self._string(raw, ("summary",), full=(*path, "summary")),
            action=action,
            reaches=self._vocabulary(raw, (*path, "reaches"), RELATIONS, "relation"),
            when=self._vocabulary(raw, (*path, "when"), ACTIVITIES, "activity"),
            severity=self._severity(raw.get("severity"), (*path, "severity")),
            clause=self._clause(raw.get("clause"), (*path, "clause")),
            notice_text=self._notice(raw, path),
            threshold=self._threshold(raw, path, kind),
            prefix=self._prefix(raw, path, kind),
        )

    def _vocabulary(
        self, raw: dict[Any, Any], path: Path, allowed: tuple[str, ...], what: str
    ) -> tuple[str, ...]:
        values = self._strings(raw, (path[-1],), full=path)
        if path[-1] in raw and isinstance(raw[path[-1]], list) and not values:
            self.problem(path, f"{_dotted(path)!r} must name at least one {what}")
        for i, value in enumerate(values):
            if value not in allowed:
                self.problem((*path, i), _unknown(what, value, allowed))
        return tuple(sorted(values, key=lambda v: allowed.index(v) if v in allowed else len(allowed)))

    def _severity(self, raw: Any, path: Path) -> Severity:
        if raw is None:
            return Severity.INFO
        if not isinstance(raw, str):
            self.problem(path, f"'severity' must be a string, not {_type(raw)}")
            return Severity.INFO
        try:
            return Severity.parse(raw)
        except ValueError as exc:
            near = difflib.get_close_matches(raw.lower(), [str(s) for s in Severity], n=1)
            self.problem(path, f"{exc}" + (f" (did you mean {near[0]!r}?)" if near else ""))
            return Severity.INFO

    def _clause(self, raw: Any, path: Path) -> LicenseClause:
        if raw is None:
            return LicenseClause("", "")
        if not isinstance(raw, dict):
            self.problem(path, f"'clause' must be a mapping (section, quote), not {_type(raw)}")
            return LicenseClause("", "")
        self._keys(raw, path, _CLAUSE_KEYS, ("quote",))
        section = self._string(raw, ("section",), required=False, full=(*path, "section"))
        quote = self._string(raw, ("quote",), full=(*path, "quote"))
        if quote:
            self._in_text((*path, "quote"), "quote", quote)
        return LicenseClause(section, normalise_whitespace(quote))

    def _notice(self, raw: dict[Any, Any], path: Path) -> str:
        notice = self._string(raw, ("notice_text",), required=False, full=(*path, "notice_text"))
        if notice:
            self._in_text((*path, "notice_text"), "notice_text", notice)
        return notice

    def _threshold(self, raw: dict[Any, Any], path: Path, kind: str) -> int | None:
        value = raw.get("threshold")
        where = (*path, "threshold")
        if value is None:
            if kind == "mau_threshold":
                self.problem(path, f"{_dotted(path)}: a mau_threshold clause needs 'threshold'")
            return None
        if kind and kind not in THRESHOLD_KINDS:
            self.problem(
                where, f"'threshold' is only for {' and '.join(sorted(THRESHOLD_KINDS))}, not {kind}"
            )
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            self.problem(where, f"'threshold' must be a positive integer, not {value!r}")
            return None
        return value

    def _prefix(self, raw: dict[Any, Any], path: Path, kind: str) -> str:
        prefix = self._string(raw, ("prefix",), required=False, full=(*path, "prefix"))
        if "prefix" in raw and kind and kind != "naming":
            self.problem((*path, "prefix"), f"'prefix' is only for naming clauses, not {kind}")
        return prefix

    def _in_text(self, path: Path, what: str, words: str, *, casefold: bool = False) -> None:
        if self.text is None:
            return
        needle, haystack = normalise_whitespace(words), self.text
        if casefold:
            needle, haystack = needle.casefold(), haystack.casefold()
        if needle not in haystack:
            self.problem(path, f"{what} {_short(words)!r} is not in the license text")


def _dotted(path: Path) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


def _unknown(what: str, value: str, allowed: tuple[str, ...]) -> str:
    near = difflib.get_close_matches(value, allowed, n=1)
    hint = f"did you mean {near[0]!r}?" if near else f"expected one of: {', '.join(allowed)}"
    return f"unknown {what} {value!r} ({hint})"


def _short(text: str, limit: int = 60) -> str:
    text = normalise_whitespace(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _type(value: Any) -> str:
    if value is None:
        return "null"
    return {dict: "a mapping", list: "a list", str: "a string", bool: "a boolean"}.get(
        type(value), type(value).__name__
    )
