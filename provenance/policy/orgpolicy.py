"""Organisation policies: what the team intends to do with a model, and what it accepts (docs/policies.md).

A policy file is YAML read by the hardened loader (no aliases, no tags, bounded size and depth), then
validated in one pass that collects *every* problem as `file:line: problem` before raising one `PolicyError`.
The result is a frozen `OrgPolicy` the engine evaluates with pure code; nothing here touches the graph.
"""

from __future__ import annotations

import datetime
import difflib
import fnmatch
import functools
import importlib.resources
import pathlib
import re
import stat
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal, cast

from provenance.errors import InputError, MalformedFileError, PolicyError, TargetNotFoundError, UsageError
from provenance.model import Severity
from provenance.readers import safe_yaml

MAX_POLICY_BYTES = 256 * 1024
FORMAT_VERSION = 1
BUILTIN_PREFIX = "builtin:"

Distribution = Literal["none", "internal", "public"]
DISTRIBUTIONS: tuple[Distribution, ...] = ("none", "internal", "public")

_HINT = "fix every problem listed; docs/policies.md describes each key"
_TOP_KEYS = (
    "version",
    "name",
    "description",
    "intended_use",
    "licenses",
    "attestations",
    "severity",
    "suppressions",
    "fail_on",
    "evidence",
)
_USE_KEYS = ("commercial", "distribution", "hosted", "expected_mau")
_LICENSE_KEYS = ("allowed", "denied", "unknown")
_ATTESTATION_KEYS = ("required", "given")
_EVIDENCE_KEYS = ("require_weights_metadata",)
_SUPPRESSION_KEYS = ("rule", "model", "license", "justification", "expires")
# Flat spellings people reach for, and where the setting really lives.
_TOP_LEVEL_SPELLINGS = {
    "allowed_licenses": "licenses: {allowed: [...]}",
    "denied_licenses": "licenses: {denied: [...]}",
    "allowed": "licenses: {allowed: [...]}",
    "denied": "licenses: {denied: [...]}",
    "unknown_license": "licenses: {unknown: ...}",
    "required_attestations": "attestations: {required: [...]}",
    "severity_overrides": "severity",
    "overrides": "severity",
    "suppress": "suppressions",
    "use": "intended_use",
}
_LICENSE_REF = re.compile(r"LicenseRef-[A-Za-z0-9.\-]+", re.IGNORECASE)
_RULE_PATTERN = re.compile(r"[A-Za-z0-9._*?\[\]\-]+")
_ATTESTATION = re.compile(r"[A-Za-z0-9][A-Za-z0-9._\-]*")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_GLOB_CHARS = frozenset("*?[")
_EXPRESSION = re.compile(r"(?i)(^|\s)(and|or|with)(\s|/|$)|[()/+]")


@dataclass(frozen=True)
class IntendedUse:
    """What the organisation will do with the model; each clause of a license is triggered by an activity."""

    commercial: bool
    distribution: Distribution
    hosted: bool
    expected_mau: int | None

    def activities(self) -> frozenset[str]:
        """The activities that trigger license clauses. `internal` distribution (copies that stay inside the
        organisation) is not distribution to a third party, so it does not trigger redistribution duties."""
        found = {"any_use"}
        if self.distribution == "public":
            found.add("distribution")
        if self.hosted:
            found.add("hosted_use")
        if self.commercial:
            found.add("commercial_use")
        return frozenset(found)

    def to_json(self) -> dict[str, Any]:
        return {
            "commercial": self.commercial,
            "distribution": self.distribution,
            "hosted": self.hosted,
            "expected_mau": self.expected_mau,
            "activities": sorted(self.activities()),
        }


# The widest use: a policy that does not say what it intends sees every obligation that could apply.
WIDEST_USE = IntendedUse(commercial=True, distribution="public", hosted=True, expected_mau=None)


@dataclass(frozen=True)
class Suppression:
    """A finding the organisation accepted, with why and until when (inclusive)."""

    rule: str
    model: str | None
    license: str | None
    justification: str
    expires: datetime.date
    line: int

    def applies(self, rule_id: str, model: str, license_id: str | None, today: datetime.date) -> bool:
        return (
            today <= self.expires
            and fnmatch.fnmatchcase(rule_id, self.rule)
            and (self.model is None or fnmatch.fnmatchcase(model, self.model))
            and (self.license is None or (license_id or "").lower() == self.license.lower())
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "model": self.model,
            "license": self.license,
            "justification": self.justification,
            "expires": self.expires.isoformat(),
            "line": self.line,
        }


@dataclass(frozen=True)
class OrgPolicy:
    """A validated organisation policy. Build one with `load_policy`, `parse_policy` or `bundled_policy`."""

    name: str
    description: str
    location: str
    intended_use: IntendedUse
    allowed_licenses: tuple[str, ...] | None
    denied_licenses: tuple[str, ...]
    unknown_license: Severity
    required_attestations: tuple[str, ...]
    attestations: tuple[str, ...]
    severity_overrides: tuple[tuple[str, Severity], ...]
    suppressions: tuple[Suppression, ...]
    fail_on: Severity
    # `check` exits 4 (not a verdict) when it could not read the weights' metadata: a gated repo without
    # access, or a scan resolved from the bundled knowledge base alone
    require_weights_metadata: bool = False

    def severity_for(self, rule_id: str, default: Severity) -> Severity:
        """The severity of the first override (in file order) whose rule id or glob matches."""
        for pattern, severity in self.severity_overrides:
            if fnmatch.fnmatchcase(rule_id, pattern):
                return severity
        return default

    def suppression_for(
        self, rule_id: str, model: str, license_id: str | None, today: datetime.date
    ) -> Suppression | None:
        """The first suppression (in file order) that matches and has not expired on `today`."""
        for suppression in self.suppressions:
            if suppression.applies(rule_id, model, license_id, today):
                return suppression
        return None

    def expired_suppressions(self, today: datetime.date) -> tuple[Suppression, ...]:
        return tuple(s for s in self.suppressions if s.expires < today)

    def with_attestations(self, extra: Sequence[str]) -> OrgPolicy:
        """This policy with more attestations given (e.g. from `--attest`), without duplicates, order kept."""
        given = dict.fromkeys([*self.attestations, *(a.strip() for a in extra if a.strip())])
        return replace(self, attestations=tuple(given))

    def missing_attestations(self) -> tuple[str, ...]:
        return tuple(a for a in self.required_attestations if a not in self.attestations)

    def denies(self, license_id: str) -> bool:
        return license_id.lower() in {d.lower() for d in self.denied_licenses}

    def allows(self, license_id: str) -> bool:
        """Not denied, and on the allowed list when there is one (ids compare case-insensitively)."""
        if self.denies(license_id):
            return False
        return self.allowed_licenses is None or license_id.lower() in {
            a.lower() for a in self.allowed_licenses
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "location": self.location,
            "intended_use": self.intended_use.to_json(),
            "licenses": {
                "allowed": list(self.allowed_licenses) if self.allowed_licenses is not None else None,
                "denied": list(self.denied_licenses),
                "unknown": str(self.unknown_license),
            },
            "attestations": {"required": list(self.required_attestations), "given": list(self.attestations)},
            "severity": [{"rule": rule, "severity": str(sev)} for rule, sev in self.severity_overrides],
            "suppressions": [s.to_json() for s in self.suppressions],
            "fail_on": str(self.fail_on),
            "evidence": {"require_weights_metadata": self.require_weights_metadata},
        }


# --- loading ------------------------------------------------------------------------------------------------


def load_policy(
    path: pathlib.Path, known_license_ids: Collection[str] = (), *, known_rule_ids: Collection[str] = ()
) -> OrgPolicy:
    """Read a policy file: TargetNotFoundError if missing, InputError if unreadable, else PolicyError."""
    return parse_policy(_read_text(path), str(path), known_license_ids, known_rule_ids=known_rule_ids)


def parse_policy(
    text: str, name: str, known_license_ids: Collection[str] = (), *, known_rule_ids: Collection[str] = ()
) -> OrgPolicy:
    """Validate policy YAML; `name` is where it came from (used in messages and as `location`).

    `known_license_ids` (e.g. the license catalog's ids) are accepted beside SPDX ids and offered as
    suggestions; `known_rule_ids`, when given, make an override or suppression that matches no rule an error.
    """
    try:
        value, lines = safe_yaml.load_with_lines(text, name, max_bytes=MAX_POLICY_BYTES)
    except MalformedFileError as exc:
        raise PolicyError(name, [str(exc)], _HINT) from None
    if value is None:
        raise PolicyError(
            name,
            [f"{name}:1: the policy file is empty"],
            "start from `provenance.policies` default.yaml; docs/policies.md describes each key",
        )
    if not isinstance(value, dict):
        found = _type_name(value)
        raise PolicyError(
            name, [f"{name}:1: a policy is a mapping of keys (version, name, ...), not {found}"]
        )
    builder = _PolicyBuilder(
        name, lines, _LicenseIds(frozenset(known_license_ids)), frozenset(known_rule_ids)
    )
    policy = builder.build(value)
    if policy is None:
        raise PolicyError(name, builder.problems, _HINT)
    return policy


def bundled_policy_names() -> tuple[str, ...]:
    root = importlib.resources.files("provenance.policies")
    return tuple(sorted(p.name[: -len(".yaml")] for p in root.iterdir() if p.name.endswith(".yaml")))


@functools.cache
def bundled_policy(name: str) -> OrgPolicy:
    """One of the policies shipped with the tool ("default", "strict-commercial", "research-only")."""
    names = bundled_policy_names()
    if name not in names:
        raise UsageError(name, f"no bundled policy of that name (bundled: {', '.join(names)})")
    text = importlib.resources.files("provenance.policies").joinpath(f"{name}.yaml").read_text("utf-8")
    return parse_policy(text, f"{BUILTIN_PREFIX}{name}")


def default_policy() -> OrgPolicy:
    return bundled_policy("default")


def _read_text(path: pathlib.Path) -> str:
    target = str(path)
    try:
        mode = path.stat().st_mode
    except (FileNotFoundError, NotADirectoryError):
        raise TargetNotFoundError(
            target, "policy file not found", "give an existing file, or leave out --policy for the default"
        ) from None
    except OSError as exc:
        raise InputError(target, f"cannot read the policy file: {exc.strerror}") from None
    if stat.S_ISDIR(mode):
        raise InputError(target, "is a directory, not a policy file", "name the policy YAML file itself")
    if not stat.S_ISREG(mode):
        raise InputError(target, "is not a regular file; a policy must be a YAML file")
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_POLICY_BYTES + 1)
    except OSError as exc:
        raise InputError(target, f"cannot read the policy file: {exc.strerror}") from None
    return _decode(data, target)


def _decode(data: bytes, target: str) -> str:
    if len(data) > MAX_POLICY_BYTES:
        raise PolicyError(target, [f"{target}: the policy file is over {MAX_POLICY_BYTES} bytes; not parsed"])
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise PolicyError(target, [f"{target}: the policy file is UTF-16; save it as UTF-8"])
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        problem = f"{target}:{line}: the policy file is not UTF-8 (invalid byte at offset {exc.start})"
        raise PolicyError(target, [problem], "save the policy file as UTF-8") from None


# --- license ids --------------------------------------------------------------------------------------------


@functools.cache
def _spdx_ids() -> dict[str, str]:
    """SPDX license ids (no exceptions), lowercased to their canonical spelling; ScanCode refs included."""
    from license_expression import get_spdx_licensing  # noqa: PLC0415 - 30 ms, only when a policy is read

    symbols = get_spdx_licensing().known_symbols
    return {key.lower(): key for key, symbol in symbols.items() if not symbol.is_exception}


class _LicenseIds:
    """Checks license ids against SPDX and the catalog's ids, and finds the closest ones for a message."""

    def __init__(self, known: frozenset[str]) -> None:
        self.known = known
        self.by_lower = {**_spdx_ids(), **{k.lower(): k for k in known}}

    def check(self, raw: str) -> tuple[str | None, str]:
        """(canonical id, "") or (None, the problem)."""
        text = raw.strip()
        canonical = self.by_lower.get(text.lower())
        if canonical is not None:
            return canonical, ""
        if _EXPRESSION.search(text):
            return None, f"{text!r} is a license expression; list each license id on its own"
        if _LICENSE_REF.fullmatch(text):
            typo_of = self.known_refs_close_to(text)
            if typo_of:
                return None, f"{text!r} is not a known license id; did you mean {_or_list(typo_of)}?"
            return "LicenseRef-" + text[len("LicenseRef-") :], ""
        close = self.closest(text)
        hint = f"; closest: {', '.join(close)}" if close else ""
        return None, f"{text!r} is neither an SPDX license id nor a LicenseRef-… id{hint}"

    def known_refs_close_to(self, ref: str) -> list[str]:
        """Known LicenseRef ids this unknown one looks like a misspelling of (compared without the prefix)."""
        suffixes = {k.lower()[len("LicenseRef-") :]: k for k in self.known if _LICENSE_REF.fullmatch(k)}
        matches = difflib.get_close_matches(ref.lower()[len("LicenseRef-") :], list(suffixes), 3, 0.8)
        return [suffixes[m] for m in matches]

    def closest(self, text: str) -> list[str]:
        """Up to three ids that look like `text` once case, punctuation and `LicenseRef-` are set aside;
        catalog ids first."""
        pool = _suggestion_pool(self.known)
        wanted = _squash(text)
        scored = sorted((-_likeness(wanted, squashed), squashed) for squashed in pool)
        ids = [i for score, squashed in scored[:6] if score <= -0.6 for i in pool[squashed]]
        return sorted(ids, key=lambda i: i not in self.known)[:3]


def _squash(license_id: str) -> str:
    lowered = license_id.lower()
    lowered = lowered.removeprefix("licenseref-")
    return re.sub(r"[^a-z0-9]", "", lowered)


def _likeness(wanted: str, candidate: str) -> float:
    """difflib's ratio, plus a bonus when one is the start of the other (`bsd3` -> `bsd3clause`)."""
    matcher = difflib.SequenceMatcher(None, wanted, candidate)
    if matcher.real_quick_ratio() < 0.5 or matcher.quick_ratio() < 0.5:
        return 0.0
    prefix = bool(wanted) and (candidate.startswith(wanted) or wanted.startswith(candidate))
    return matcher.ratio() + (0.3 if prefix else 0.0)


@functools.cache
def _suggestion_pool(known: frozenset[str]) -> dict[str, list[str]]:
    pool: dict[str, list[str]] = {}
    for license_id in [*sorted(known), *_spdx_ids().values()]:
        if not license_id.startswith("LicenseRef-scancode-"):
            pool.setdefault(_squash(license_id), []).append(license_id)
    return pool


# --- validation ---------------------------------------------------------------------------------------------

_Path = tuple[str | int, ...]
_MISSING = object()


class _PolicyBuilder:
    """Walks the loaded YAML once, turning it into an OrgPolicy and collecting every problem on the way."""

    def __init__(
        self, name: str, lines: dict[safe_yaml.KeyPath, int], ids: _LicenseIds, rule_ids: frozenset[str]
    ) -> None:
        self.name, self.lines, self.ids, self.rule_ids = name, lines, ids, rule_ids
        self.found: list[tuple[int, tuple[tuple[int, str], ...], str]] = []

    @property
    def problems(self) -> list[str]:
        """Every problem as `file:line: problem`, in line order."""
        return [f"{self.name}:{line}: {text}" for line, _, text in sorted(self.found, key=lambda f: f[:2])]

    def build(self, doc: dict[Any, Any]) -> OrgPolicy | None:
        self.keys(doc, (), _TOP_KEYS, _TOP_LEVEL_SPELLINGS)
        self.version(doc.get("version", _MISSING))
        use = self.intended_use(doc.get("intended_use", _MISSING))
        licenses = self.mapping(doc.get("licenses", _MISSING), ("licenses",), _LICENSE_KEYS)
        allowed = self.allowed(licenses)
        denied = self.license_list(licenses.get("denied", []), ("licenses", "denied"))
        self.overlap(allowed or (), denied)
        attestations = self.mapping(doc.get("attestations", _MISSING), ("attestations",), _ATTESTATION_KEYS)
        evidence = self.mapping(doc.get("evidence", _MISSING), ("evidence",), _EVIDENCE_KEYS)
        policy = OrgPolicy(
            name=self.text(doc, "name", _default_name(self.name)),
            description=self.text(doc, "description", ""),
            location=self.name,
            intended_use=use,
            allowed_licenses=allowed,
            denied_licenses=denied,
            unknown_license=self.severity(licenses.get("unknown", "medium"), ("licenses", "unknown")),
            required_attestations=self.names(attestations.get("required", []), ("attestations", "required")),
            attestations=self.names(attestations.get("given", []), ("attestations", "given")),
            severity_overrides=self.overrides(doc.get("severity", _MISSING)),
            suppressions=self.suppressions(doc.get("suppressions", [])),
            fail_on=self.severity(doc.get("fail_on", "high"), ("fail_on",)),
            require_weights_metadata=self.boolean(
                evidence.get("require_weights_metadata", _MISSING),
                ("evidence", "require_weights_metadata"),
                default=False,
            ),
        )
        return None if self.found else policy

    # -- reporting

    def line(self, path: _Path) -> int:
        while path and path not in self.lines:
            path = path[:-1]
        return self.lines.get(path, 1)

    def problem(self, path: _Path, text: str) -> None:
        order = tuple((p, "") if isinstance(p, int) else (-1, p) for p in path)
        self.found.append((self.line(path), order, text))

    def type_problem(self, path: _Path, expected: str, value: Any) -> None:
        self.problem(path, f"{_label(path)} must be {expected}, not {_type_name(value)}")

    # -- shapes

    def keys(
        self,
        mapping: dict[Any, Any],
        path: _Path,
        allowed: Sequence[str],
        spellings: dict[str, str] | None = None,
    ) -> None:
        spellings = spellings or {}
        for key in mapping:
            if isinstance(key, str) and key in allowed:
                continue
            where = f"in {_label(path)} " if path else ""
            self.problem(
                (*path, str(key)), f"unknown key {key!r} {where}{_suggest(str(key), allowed, spellings)}"
            )

    def mapping(self, value: Any, path: _Path, allowed: Sequence[str]) -> dict[str, Any]:
        if value is _MISSING or value is None:
            return {}
        if not isinstance(value, dict):
            self.type_problem(path, f"a mapping with keys {', '.join(allowed)}", value)
            return {}
        self.keys(value, path, allowed)
        return {k: v for k, v in value.items() if isinstance(k, str)}

    def version(self, value: Any) -> None:
        if value is _MISSING:
            self.problem((), f"missing key 'version' (write `version: {FORMAT_VERSION}` first)")
        elif isinstance(value, bool) or value != FORMAT_VERSION:
            self.problem(
                ("version",), f"unsupported version {value!r}; this tool reads version {FORMAT_VERSION}"
            )

    def text(self, doc: dict[str, Any], key: str, default: str) -> str:
        value = doc.get(key, _MISSING)
        if value is _MISSING:
            return default
        if not isinstance(value, str) or not value.strip():
            self.type_problem((key,), "a non-empty string", value)
            return default
        return value.strip()

    def boolean(self, value: Any, path: _Path, default: bool) -> bool:
        if value is _MISSING:
            return default
        if not isinstance(value, bool):
            self.type_problem(path, "true or false", value)
            return default
        return value

    def severity(self, value: Any, path: _Path) -> Severity:
        if not isinstance(value, str):
            self.type_problem(path, "a severity (info, low, medium, high, critical)", value)
            return Severity.HIGH
        try:
            return Severity.parse(value)
        except ValueError as exc:
            self.problem(path, f"{_label(path)}: {exc}")
            return Severity.HIGH

    def items(self, value: Any, path: _Path, what: str) -> list[tuple[_Path, str]]:
        """The string items of a list (null is empty) with their paths; a problem per bad item or repeat."""
        if value is None:
            return []
        if not isinstance(value, list):
            example = f" (write [{value}])" if isinstance(value, str) else ""
            self.problem(path, f"{_label(path)} must be a list of {what}, not {_type_name(value)}{example}")
            return []
        out: list[tuple[_Path, str]] = []
        first: dict[str, int] = {}
        for index, item in enumerate(value):
            item_path = (*path, index)
            if not isinstance(item, str) or not item.strip():
                self.type_problem(item_path, f"a {what[:-1]}", item)
                continue
            key = item.strip().lower()
            if key in first:
                earlier = (*path, first[key])
                where = f"{_label(earlier)} (line {self.line(earlier)})"
                self.problem(item_path, f"{_label(item_path)}: {item.strip()!r} repeats {where}")
                continue
            first[key] = index
            out.append((item_path, item.strip()))
        return out

    # -- sections

    def intended_use(self, value: Any) -> IntendedUse:
        path: _Path = ("intended_use",)
        use = self.mapping(value, path, _USE_KEYS)
        distribution = use.get("distribution", WIDEST_USE.distribution)
        if distribution not in DISTRIBUTIONS:
            self.problem(
                (*path, "distribution"),
                f"intended_use.distribution must be one of {', '.join(DISTRIBUTIONS)}, "
                f"not {distribution!r}{_suggest_value(distribution, DISTRIBUTIONS)}",
            )
            distribution = WIDEST_USE.distribution
        return IntendedUse(
            commercial=self.boolean(
                use.get("commercial", _MISSING), (*path, "commercial"), WIDEST_USE.commercial
            ),
            distribution=cast(Distribution, distribution),
            hosted=self.boolean(use.get("hosted", _MISSING), (*path, "hosted"), WIDEST_USE.hosted),
            expected_mau=self.mau(use.get("expected_mau"), (*path, "expected_mau")),
        )

    def mau(self, value: Any, path: _Path) -> int | None:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            self.type_problem(path, "a whole number of monthly active users (or null)", value)
            return None
        return value

    def allowed(self, licenses: dict[str, Any]) -> tuple[str, ...] | None:
        if "allowed" not in licenses or licenses["allowed"] is None:
            return None
        path: _Path = ("licenses", "allowed")
        if licenses["allowed"] == []:
            self.problem(
                path,
                "licenses.allowed is empty, which allows no license; leave the key out to "
                "allow any license that is not denied",
            )
        return self.license_list(licenses["allowed"], path)

    def license_list(self, value: Any, path: _Path) -> tuple[str, ...]:
        out = []
        for item_path, item in self.items(value, path, "license ids"):
            canonical = self.license_id(item, item_path)
            if canonical is not None:
                out.append(canonical)
        return tuple(out)

    def license_id(self, raw: str, path: _Path) -> str | None:
        canonical, problem = self.ids.check(raw)
        if problem:
            self.problem(path, f"{_label(path)}: {problem}")
        return canonical

    def overlap(self, allowed: tuple[str, ...], denied: tuple[str, ...]) -> None:
        both = sorted({a.lower() for a in allowed} & {d.lower() for d in denied})
        for lowered in both:
            index = next(i for i, d in enumerate(denied) if d.lower() == lowered)
            self.problem(("licenses", "denied", index), f"{denied[index]} is both allowed and denied")

    def names(self, value: Any, path: _Path) -> tuple[str, ...]:
        out = []
        for item_path, item in self.items(value, path, "attestation names"):
            if _ATTESTATION.fullmatch(item):
                out.append(item)
            else:
                self.problem(item_path, f"{item!r} is not an attestation name (letters, digits, . _ -)")
        return tuple(out)

    def overrides(self, value: Any) -> tuple[tuple[str, Severity], ...]:
        if value is _MISSING or value is None:
            return ()
        if not isinstance(value, dict):
            self.type_problem(("severity",), "a mapping of rule id (or glob) to severity", value)
            return ()
        out: list[tuple[str, Severity]] = []
        for key, raw in value.items():
            path: _Path = ("severity", str(key))
            rule = self.rule(key, path)
            severity = self.severity(raw, path)
            if rule is not None:
                self.shadowed(rule, out, path)
                out.append((rule, severity))
        return tuple(out)

    def shadowed(self, rule: str, earlier: list[tuple[str, Severity]], path: _Path) -> None:
        for pattern, _ in earlier:
            if not _GLOB_CHARS & set(rule) and fnmatch.fnmatchcase(rule, pattern):
                self.problem(
                    path,
                    f"the override for {rule!r} never applies: {pattern!r} above it matches "
                    "first (list specific rules before globs)",
                )
                return

    def rule(self, value: Any, path: _Path) -> str | None:
        if not isinstance(value, str) or not _RULE_PATTERN.fullmatch(value):
            self.problem(
                path, f"{value!r} is not a rule id or glob (e.g. license.declared-incomplete, llama.*)"
            )
            return None
        if self.rule_ids and not fnmatch.filter(self.rule_ids, value):
            close = difflib.get_close_matches(value, sorted(self.rule_ids), 3)
            hint = f"; did you mean {_or_list(close)}?" if close else ""
            self.problem(path, f"{value!r} matches no rule{hint}")
        return value

    def suppressions(self, value: Any) -> tuple[Suppression, ...]:
        if value is None:
            return ()
        if not isinstance(value, list):
            self.type_problem(("suppressions",), "a list of suppressions", value)
            return ()
        found = (self.suppression(item, ("suppressions", i)) for i, item in enumerate(value))
        return tuple(s for s in found if s is not None)

    def suppression(self, value: Any, path: _Path) -> Suppression | None:
        if not isinstance(value, dict):
            self.type_problem(path, "a mapping with rule, justification and expires", value)
            return None
        before = len(self.found)
        self.keys(value, path, _SUPPRESSION_KEYS)
        for key in ("rule", "justification", "expires"):
            if value.get(key) is None:
                self.problem(
                    path,
                    f"{_label(path)} is missing {key!r} (every suppression needs rule, "
                    "justification and expires)",
                )
        rule = self.rule(value["rule"], (*path, "rule")) if value.get("rule") is not None else None
        model = self.optional_text(value.get("model"), (*path, "model"))
        license_id = self.optional_license(value.get("license"), (*path, "license"))
        justification = self.optional_text(value.get("justification"), (*path, "justification"))
        expires = (
            self.date(value["expires"], (*path, "expires")) if value.get("expires") is not None else None
        )
        if len(self.found) > before or rule is None or expires is None or not justification:
            return None
        return Suppression(rule, model, license_id, justification, expires, self.line(path))

    def optional_text(self, value: Any, path: _Path) -> str | None:
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            self.type_problem(path, "a non-empty string", value)
            return None
        return value.strip()

    def optional_license(self, value: Any, path: _Path) -> str | None:
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            self.type_problem(path, "a license id", value)
            return None
        return self.license_id(value, path)

    def date(self, value: Any, path: _Path) -> datetime.date | None:
        text = value if isinstance(value, str) else ""
        try:
            if _ISO_DATE.fullmatch(text):
                return datetime.date.fromisoformat(text)
        except ValueError:
            pass
        self.problem(path, f"{_label(path)} must be a date written YYYY-MM-DD, not {value!r}")
        return None


# --- helpers ------------------------------------------------------------------------------------------------


def _label(path: _Path) -> str:
    text = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path)
    return text.lstrip(".") or "the policy"


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f"the string {value[:60]!r}" if value else "an empty string"
    if isinstance(value, int | float):
        return repr(value)
    return (
        "a list"
        if isinstance(value, list)
        else "a mapping"
        if isinstance(value, dict)
        else type(value).__name__
    )


def _default_name(location: str) -> str:
    if location.startswith(BUILTIN_PREFIX):
        return location[len(BUILTIN_PREFIX) :]
    return pathlib.PurePath(location).stem or location


def _or_list(items: Iterable[str]) -> str:
    quoted = [repr(i) for i in items]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]


def _suggest(key: str, allowed: Sequence[str], spellings: dict[str, str]) -> str:
    normalised = key.lower().replace("-", "_").replace(" ", "_")
    match = difflib.get_close_matches(normalised, [*allowed, *spellings], 1, 0.6)
    if not match:
        return f"(expected one of: {', '.join(allowed)})"
    target = spellings.get(match[0], match[0])
    return f"(did you mean {target!r}?)"


def _suggest_value(value: Any, choices: Sequence[str]) -> str:
    match = difflib.get_close_matches(str(value).lower(), choices, 1, 0.6)
    return f" (did you mean {match[0]!r}?)" if match else ""
