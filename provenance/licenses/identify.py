"""Which known license a text is, and which license a card or Hub value declares.

Pure functions over strings and the catalog: `identify_text` tells a license file apart from the known texts
(exact, normalised or near, and where a near text was edited), `identify_declared` maps card and Hub license
values to catalog ids, and `parse_expression` reads SPDX expressions without ever raising out of
license-expression. See docs/license-identification.md for the method, the thresholds and measured margins.
"""

from __future__ import annotations

import bisect
import functools
import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import TYPE_CHECKING, Any, Literal

from provenance.errors import MalformedFileError

if TYPE_CHECKING:
    from provenance.licenses.catalog import LicenseCatalog

MAX_INPUT_CHARS = 1024 * 1024
NEAR_THRESHOLD = 0.80
AMBIGUOUS_MARGIN = 0.002
PREFILTER_MIN_CONTAINMENT = 0.05
MAX_ALIGNED = 6
FALLBACK_MIN_SHARED_WORDS = 0.3
ERROR_WEIGHT = 4
SHINGLE = 4
MERGE_GAP = 8
CONTEXT_WORDS = 2
MAX_EDITS = 50
EXCERPT_CHARS = 120

MatchKind = Literal["exact", "normalised", "near", "none"]
BEFORE_LICENSE = "before the license text"
AFTER_LICENSE = "after the license text"


# --- records


@dataclass(frozen=True)
class ReferenceText:
    """A known license text and the catalog id it identifies."""

    license_id: str
    name: str
    text: str


@dataclass(frozen=True)
class TextEdit:
    """Where a scanned text differs from the known one.

    `line` is 1-based in the scanned text; `section` is the clause of the known text the change sits under
    ("2. Additional Commercial Terms", "1.b.i"), or BEFORE_LICENSE / AFTER_LICENSE for extra text around it.
    `expected` is the known wording ("" when text was added), `found` the scanned one ("" when removed).
    """

    line: int
    section: str
    expected: str
    found: str

    def to_json(self) -> dict[str, Any]:
        return {"line": self.line, "section": self.section, "expected": self.expected, "found": self.found}


@dataclass(frozen=True)
class TextMatch:
    """The known text a scanned text is, and how closely.

    `kind` describes the license text found: "exact" (the whole file equals it after newline normalisation),
    "normalised" (equal once case, whitespace, punctuation, Markdown and copyright lines are set aside),
    "near" (similarity >= NEAR_THRESHOLD), "none". `extra` is text outside the license (a project header,
    an appended policy); `similarity` is over the license region only. `candidates` ranks the best three ids.
    """

    license_id: str | None
    name: str
    kind: MatchKind
    similarity: float
    edits: tuple[TextEdit, ...] = ()
    candidates: tuple[tuple[str, float], ...] = ()
    extra: tuple[TextEdit, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def edited(self) -> bool:
        return bool(self.edits)

    def to_json(self) -> dict[str, Any]:
        return {
            "license_id": self.license_id,
            "name": self.name,
            "kind": self.kind,
            "similarity": round(self.similarity, 4),
            "edits": [e.to_json() for e in self.edits],
            "candidates": [{"license_id": i, "similarity": round(s, 4)} for i, s in self.candidates],
            "extra": [e.to_json() for e in self.extra],
            "notes": list(self.notes),
        }


# --- normalisation


@dataclass(frozen=True)
class _Tokens:
    """Normalised words of a text with where each one sits (char span); `breaks` are the newline offsets."""

    words: tuple[str, ...]
    starts: tuple[int, ...]
    ends: tuple[int, ...]
    breaks: tuple[int, ...]

    def line(self, index: int) -> int:
        """The 1-based line of word `index` (the last word's line past the end; 1 when there are none)."""
        if not self.starts:
            return 1
        return bisect.bisect_left(self.breaks, self.starts[min(index, len(self.starts) - 1)]) + 1


_MARKER = r"(?:\d{1,3}|[a-zA-Z]|[ivxIVX]{1,4})"
_TOKEN = re.compile(
    r"(?P<skip>\]\([^\s()\[\]]{1,512}\)"  # a Markdown link target (bounded: a scanned file may be hostile)
    rf"|\({_MARKER}\)"  # list markers: (a) (iv) (3)
    rf"|(?<![\w.]){_MARKER}\\?\**[.)](?=\s|\*|$))"  # 1. b) iv. 3\. 3**.
    r"|[^\W_]+(?:\.[^\W_]+)*"  # a word; inner dots kept: 3.3, 1.b.i, llama.com
)
_COPYRIGHT_LINE = re.compile(
    r"^[^\w\n]*copyright\b[^\n]*?(?:\b(?:19|20)\d\d\b|\[yyyy\]|<year>)[^\n]*$", re.IGNORECASE | re.MULTILINE
)


def _newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _exact_form(text: str) -> str:
    return _newlines(text).removeprefix("\ufeff").rstrip()


def _tokenise(text: str) -> _Tokens:
    """Words in reading order, case-folded and NFKC-normalised; Markdown link targets and list markers
    (`1.`, `b)`, `(iv)`, `3\\.`) are skipped wherever they stand, so that reflowed text compares alike."""
    words: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    for match in _TOKEN.finditer(text):
        if match.lastgroup == "skip":
            continue
        word = match.group()
        words.append(word.lower() if word.isascii() else unicodedata.normalize("NFKC", word).casefold())
        starts.append(match.start())
        ends.append(match.end())
    breaks = tuple(m.start() for m in re.finditer("\n", text))
    return _Tokens(tuple(words), tuple(starts), tuple(ends), breaks)


def _template_words(text: str, tokens: _Tokens) -> frozenset[int]:
    """Indices of the words on copyright lines (`Copyright (c) 2023 DeepSeek`, `Copyright [yyyy] [name]`)."""
    lines = {text.count("\n", 0, m.start()) + 1 for m in _COPYRIGHT_LINE.finditer(text)}
    return frozenset(i for i in range(len(tokens.words)) if tokens.line(i) in lines)


def _shingles(words: Sequence[str]) -> list[int]:
    """The hash of the SHINGLE-word window starting at each position."""
    return [hash(tuple(words[i : i + SHINGLE])) for i in range(len(words) - SHINGLE + 1)]


# --- sections of a known text


@dataclass(frozen=True)
class _Heading:
    kind: Literal["part", "number", "bullet", "letter", "roman"]
    marker: str
    title: str
    indent: int
    markdown: bool


_ORDER = {"part": 0, "number": 1, "bullet": 1, "letter": 2, "roman": 3}
_PART = re.compile(r"section\s+([0-9]+|[ivxlc]+)\b\s*[:.]?\s*(.*)", re.IGNORECASE)
_ANNEX = re.compile(r"(?:appendix|attachment|exhibit|schedule|end of terms)\b.*", re.IGNORECASE)
_TITLE_LINE = re.compile(
    r".{0,60}(?:acceptable use policy|license agreement|prohibited use policy)", re.IGNORECASE
)
_BOLD_LINE = re.compile(r"\*\*[^*]{1,60}\*\*(?:\s*\*\*[^*]{1,60}\*\*)*")
_NUMBER = re.compile(r"(\d+\.\d+(?:\.\d+)*)(?:\s+(.*)|$)|(\d+)[.)]\s*(.*)")
_LETTER = re.compile(r"\(?([a-z]|[ivx]+)[.)]\s+(.*)")
_BULLET = re.compile(r"[*\-•]\s+(.*)")
_ROMANS = frozenset({"i", "ii", "iii", "iv", "v", "vi", "vii", "viii", "ix", "x"})


def _parse_heading(line: str) -> _Heading | None:
    raw = line.expandtabs(4).replace("\\", "")
    indent = len(raw) - len(raw.lstrip())
    raw = raw.strip()
    if _BOLD_LINE.fullmatch(raw):
        return _Heading("part", "", _title(raw.replace("*", "")), 0, True)
    if match := _BULLET.fullmatch(raw):
        return _Heading("bullet", "", _title(match.group(1).replace("*", "")), indent, False)
    body = raw.replace("*", "")
    markdown = body.startswith("#")
    body = body.lstrip("#").strip()
    if match := _PART.match(body):
        return _Heading(
            "part", match.group(1), f"Section {match.group(1)}: {_title(match.group(2))}", 0, True
        )
    if _ANNEX.fullmatch(body) or _TITLE_LINE.fullmatch(body):
        return _Heading("part", "", _title(body), 0, True)
    if match := _NUMBER.match(body):
        number = match.group(1) or match.group(3)
        return _Heading("number", number, _title(match.group(2) or match.group(4) or ""), indent, markdown)
    if match := _LETTER.match(body):
        marker = match.group(1)
        kind: Literal["letter", "roman"] = "roman" if marker in _ROMANS else "letter"
        return _Heading(kind, marker, "", indent, markdown)
    return None


def _title(rest: str) -> str:
    cut = re.search(r"[.:]\s|[.:]$", rest)
    title = (rest[: cut.start()] if cut else rest).strip()
    return title if len(title) <= 70 else title[:60].rstrip() + "…"


def _is_parent(top: _Heading, new: _Heading) -> bool:
    if new.kind == "part":
        return False
    if top.kind == "part":
        return True
    if new.indent > top.indent or (top.markdown and not new.markdown):
        return True
    return _ORDER[top.kind] < _ORDER[new.kind] and new.indent >= top.indent


def _resolve_roman(stack: list[_Heading], heading: _Heading) -> _Heading:
    """`i.` after `h.` is a letter; `i.` right under a letter, or after `iii.`, is a roman numeral."""
    if heading.kind != "roman" or len(heading.marker) != 1 or not stack:
        return heading
    top = stack[-1]
    follows_letter = top.kind == "letter" and ord(top.marker) == ord(heading.marker) - 1
    if follows_letter or (top.kind not in {"letter", "roman"} and heading.marker != "i"):
        return _Heading("letter", heading.marker, "", heading.indent, heading.markdown)
    return heading


def _label(stack: Sequence[_Heading]) -> str:
    markers = [h for h in stack if h.kind != "part"]
    if len(markers) == 1:
        head = markers[0]
        sep = " " if "." in head.marker else ". "
        return f"{head.marker}{sep}{head.title}" if head.title else head.marker
    if markers:
        return ".".join(h.marker for h in markers)
    return stack[-1].title if stack else "preamble"


def _section_labels(text: str) -> tuple[str, ...]:
    """The section label each line sits under (index 0 is line 1). Bullets are numbered 1, 2, ... per list."""
    stack: list[_Heading] = []
    labels: list[str] = []
    for line in text.split("\n"):
        heading = _parse_heading(line)
        if heading is not None:
            heading = _resolve_roman(stack, heading)
            sibling = None
            while stack and not _is_parent(stack[-1], heading):
                popped = stack.pop()
                if popped.kind == heading.kind and popped.indent == heading.indent:
                    sibling = popped
            if heading.kind == "bullet":
                number = int(sibling.marker) + 1 if sibling else 1
                heading = _Heading("bullet", str(number), heading.title, heading.indent, False)
            stack.append(heading)
        labels.append(_label(stack))
    return tuple(labels)


# --- references, prepared once


@dataclass(frozen=True)
class _Prepared:
    reference: ReferenceText
    text: str
    exact: str
    tokens: _Tokens
    template: frozenset[int]
    shingles: frozenset[int]
    counts: Counter[str]
    sections: tuple[str, ...]


@functools.lru_cache(maxsize=256)
def _prepare(reference: ReferenceText) -> _Prepared:
    text = _newlines(reference.text)
    tokens = _tokenise(text)
    return _Prepared(
        reference=reference,
        text=text,
        exact=_exact_form(text),
        tokens=tokens,
        template=_template_words(text, tokens),
        shingles=frozenset(_shingles(tokens.words)),
        counts=Counter(tokens.words),
        sections=_section_labels(text),
    )


def reference_texts(catalog: LicenseCatalog) -> tuple[ReferenceText, ...]:
    """Every catalog license whose text ships with the catalog."""
    found: list[ReferenceText] = []
    for license_ in catalog.licenses:
        text = license_.read_text()
        if text:
            found.append(ReferenceText(license_.id, license_.name, text))
    return tuple(found)


# --- identification


Change = tuple[int, int, int, int]


@dataclass(frozen=True)
class _Alignment:
    """A reference aligned with a region of the input: changes are (ref i1:i2, input j1:j2) word ranges."""

    prepared: _Prepared
    similarity: float
    score: float
    region: tuple[int, int]
    changes: tuple[Change, ...]
    template_changes: tuple[Change, ...]

    @property
    def license_id(self) -> str:
        return self.prepared.reference.license_id


def identify_text(text: str, references: Sequence[ReferenceText]) -> TextMatch:
    """Which of `references` `text` is: exact, normalised, near (with edits and extra text) or none.

    Reads at most MAX_INPUT_CHARS characters; text with NUL characters is binary and is not identified.
    Never raises for any input.
    """
    notes: list[str] = []
    if "\x00" in text[:MAX_INPUT_CHARS]:
        return _none("binary content (NUL characters): not a license text")
    if len(text) > MAX_INPUT_CHARS:
        text = text[:MAX_INPUT_CHARS]
        notes.append(f"only the first {MAX_INPUT_CHARS} characters were compared")
    text = _newlines(text).removeprefix("\ufeff")
    prepared = [_prepare(reference) for reference in references]
    tokens = _tokenise(text)
    if not tokens.words:
        return _none("no words to compare", *notes)
    alignments = _align_candidates(tokens, prepared)
    candidates = _rank(alignments)
    exact = _exact_form(text)
    for known in prepared:
        if known.exact == exact:
            return _whole(known, "exact", candidates, notes)
    for known in prepared:
        if known.tokens.words == tokens.words:
            return _whole(known, "normalised", candidates, notes)
    if not alignments or alignments[0].similarity < NEAR_THRESHOLD:
        best = f"; closest {candidates[0][0]} at {candidates[0][1]:.3f}" if candidates else ""
        note = f"no known text reaches similarity {NEAR_THRESHOLD}{best}"
        return _none(note, *notes, candidates=candidates)
    return _near(text, tokens, alignments, candidates, notes)


def _none(note: str, *notes: str, candidates: tuple[tuple[str, float], ...] = ()) -> TextMatch:
    similarity = candidates[0][1] if candidates else 0.0
    return TextMatch(None, "", "none", similarity, (), candidates, (), (note, *notes))


def _whole(
    known: _Prepared, kind: MatchKind, candidates: tuple[tuple[str, float], ...], notes: list[str]
) -> TextMatch:
    reference = known.reference
    ranked = ((reference.license_id, 1.0), *[c for c in candidates if c[0] != reference.license_id])
    return TextMatch(reference.license_id, reference.name, kind, 1.0, (), ranked[:3], (), tuple(notes))


def _rank(alignments: Sequence[_Alignment]) -> tuple[tuple[str, float], ...]:
    ranked: list[tuple[str, float]] = []
    for alignment in alignments:
        if alignment.license_id not in {i for i, _ in ranked}:
            ranked.append((alignment.license_id, round(alignment.similarity, 6)))
    return tuple(ranked[:3])


def _align_candidates(tokens: _Tokens, prepared: Sequence[_Prepared]) -> list[_Alignment]:
    """Align the input with the references most likely to match, best first.

    Best means: reaching NEAR_THRESHOLD, then explaining most of the input with fewest differences (matched
    words minus ERROR_WEIGHT per word missing or added), so that neither a short text matching part of the
    input perfectly (a policy appended to an edited license) nor a long one matching all of it loosely
    (Llama 3's license-plus-policy file over a Llama 3.3 license-plus-policy) wins over the right one.

    Likely means sharing at least PREFILTER_MIN_CONTAINMENT of the reference's word shingles; when none does
    (a heavily rewritten text), the references sharing the most words are aligned instead, so that "none"
    still names the closest candidates.
    """
    shingles = _shingles(tokens.words)
    keys = frozenset(shingles)
    scored = [
        (len(keys & known.shingles) / len(known.shingles), known) for known in prepared if known.shingles
    ]
    likely = [(score, known) for score, known in scored if score >= PREFILTER_MIN_CONTAINMENT]
    if not likely:
        counts = Counter(tokens.words)
        likely = [(_shared_words(counts, known), known) for known in prepared if known.tokens.words]
        likely = [(score, known) for score, known in likely if score >= FALLBACK_MIN_SHARED_WORDS]
    likely.sort(key=lambda pair: -pair[0])
    chosen = [known for _, known in likely[:MAX_ALIGNED]]
    wanted = keys.intersection(frozenset().union(*[known.shingles for known in chosen]))
    hits = [(i, key) for i, key in enumerate(shingles) if key in wanted]
    alignments = [_align(tokens, hits, known) for known in chosen]
    alignments.sort(key=_rank_key)
    return alignments


def _rank_key(alignment: _Alignment) -> tuple[bool, float]:
    eligible = alignment.similarity >= NEAR_THRESHOLD
    return (not eligible, -alignment.score if eligible else -alignment.similarity)


def _shared_words(counts: Counter[str], known: _Prepared) -> float:
    shared = sum((counts & known.counts).values())
    return 2 * shared / (counts.total() + known.counts.total())


def _align(tokens: _Tokens, hits: Sequence[tuple[int, int]], known: _Prepared) -> _Alignment:
    start, end = _window(hits, len(tokens.words), known)
    reference = known.tokens.words
    matcher = SequenceMatcher(None, reference, tokens.words[start:end], autojunk=True)
    opcodes = [(tag, i1, i2, j1 + start, j2 + start) for tag, i1, i2, j1, j2 in matcher.get_opcodes()]
    while opcodes and opcodes[0][0] == "insert":
        start = opcodes.pop(0)[4]
    while opcodes and opcodes[-1][0] == "insert":
        end = opcodes.pop()[3]
    changes = [(i1, i2, j1, j2) for tag, i1, i2, j1, j2 in opcodes if tag != "equal"]
    template = [c for c in changes if _in_template(known, c)]
    edits = [c for c in changes if not _in_template(known, c)]
    matched = sum(i2 - i1 for tag, i1, i2, _, _ in opcodes if tag == "equal")
    matched += sum(i2 - i1 for i1, i2, _, _ in template)
    found = end - start + sum((i2 - i1) - (j2 - j1) for i1, i2, j1, j2 in template)
    similarity = min(1.0, 2 * matched / (len(reference) + found)) if reference else 0.0
    score = matched - ERROR_WEIGHT * (len(reference) + found - 2 * matched)
    return _Alignment(known, similarity, score, (start, end), tuple(_merged(edits)), tuple(template))


def _in_template(known: _Prepared, change: Change) -> bool:
    """A change confined to a copyright line of the reference (years and holders differ per project)."""
    i1, i2, _, _ = change
    if i1 == i2:
        return i1 - 1 in known.template or i1 in known.template
    return all(i in known.template for i in range(i1, i2))


def _merged(changes: Sequence[Change]) -> list[Change]:
    """Changes split by fewer than MERGE_GAP unchanged words are one edit."""
    merged: list[Change] = []
    for i1, i2, j1, j2 in changes:
        if merged and i1 - merged[-1][1] < MERGE_GAP and j1 - merged[-1][3] < MERGE_GAP:
            merged[-1] = (merged[-1][0], i2, merged[-1][2], j2)
        else:
            merged.append((i1, i2, j1, j2))
    return merged


def _window(shared: Sequence[tuple[int, int]], size: int, known: _Prepared) -> tuple[int, int]:
    """The stretch of the input, about as long as the reference, that holds most of its shingles.

    `shared` lists (position, shingle) for the input shingles found in any aligned reference.
    """
    length = len(known.tokens.words)
    if size <= 2 * length + 64:
        return 0, size
    hits = [i for i, key in shared if key in known.shingles]
    if not hits:
        return 0, min(size, length)
    span = length + length // 4
    best, best_lo, lo = 0, 0, 0
    for hi, position in enumerate(hits):
        while position - hits[lo] > span:
            lo += 1
        if hi - lo + 1 > best:
            best, best_lo = hi - lo + 1, lo
    first = hits[best_lo]
    last = hits[best_lo + best - 1] + SHINGLE
    margin = max(32, length // 10)
    return max(0, first - margin), min(size, last + margin)


def _near(
    text: str,
    tokens: _Tokens,
    alignments: Sequence[_Alignment],
    candidates: tuple[tuple[str, float], ...],
    notes: list[str],
) -> TextMatch:
    best = alignments[0]
    edits = _edits(text, tokens, best)
    notes += [f"copyright line filled in at line {tokens.line(c[2])}" for c in best.template_changes]
    notes += _other_licenses(tokens, alignments)
    if len(edits) > MAX_EDITS:
        notes.append(f"{len(edits) - MAX_EDITS} more edits not listed")
    reference = best.prepared.reference
    return TextMatch(
        reference.license_id,
        reference.name,
        "near" if edits else "normalised",
        best.similarity if edits else 1.0,
        tuple(edits[:MAX_EDITS]),
        candidates,
        _extra(text, tokens, best.region),
        tuple(notes),
    )


def _other_licenses(tokens: _Tokens, alignments: Sequence[_Alignment]) -> list[str]:
    """Other known texts found beside the best one, and runners-up too close to call."""
    best = alignments[0]
    notes: list[str] = []
    seen = {best.license_id}
    found = [best.region]
    for other in alignments[1:]:
        if other.similarity < NEAR_THRESHOLD or other.license_id in seen:
            continue
        seen.add(other.license_id)
        start, end = other.region
        if all(_shared(other.region, region) < (end - start) / 2 for region in found):
            found.append(other.region)
            line = tokens.line(start)
            notes.append(
                f"also contains {other.license_id} (similarity {other.similarity:.3f}) from line {line}"
            )
        elif _shared(other.region, best.region) and best.similarity - other.similarity < AMBIGUOUS_MARGIN:
            notes.append(f"ambiguous: {other.license_id} is within {AMBIGUOUS_MARGIN} of {best.license_id}")
    return notes


def _shared(one: tuple[int, int], other: tuple[int, int]) -> int:
    return max(0, min(one[1], other[1]) - max(one[0], other[0]))


def _edits(text: str, tokens: _Tokens, alignment: _Alignment) -> list[TextEdit]:
    known = alignment.prepared
    return [
        TextEdit(
            line=tokens.line(j1),
            section=known.sections[known.tokens.line(i1) - 1],
            expected=_excerpt_in_context(known.text, known.tokens, i1, i2),
            found=_excerpt_in_context(text, tokens, j1, j2),
        )
        for i1, i2, j1, j2 in alignment.changes
    ]


def _excerpt_in_context(text: str, tokens: _Tokens, start: int, end: int) -> str:
    """The changed words with up to CONTEXT_WORDS unchanged ones either side; "" when nothing is there."""
    if start >= end:
        return ""
    return _excerpt(text, tokens, max(0, start - CONTEXT_WORDS), min(len(tokens.words), end + CONTEXT_WORDS))


def _excerpt(text: str, tokens: _Tokens, start: int, end: int) -> str:
    if start >= end:
        return ""
    words = " ".join(text[tokens.starts[start] : tokens.ends[end - 1]].split())
    return words if len(words) <= EXCERPT_CHARS else words[: EXCERPT_CHARS - 1] + "…"


def _extra(text: str, tokens: _Tokens, region: tuple[int, int]) -> tuple[TextEdit, ...]:
    start, end = region
    found: list[TextEdit] = []
    if start > 0:
        found.append(TextEdit(tokens.line(0), BEFORE_LICENSE, "", _excerpt(text, tokens, 0, start)))
    if end < len(tokens.words):
        excerpt = _excerpt(text, tokens, end, len(tokens.words))
        found.append(TextEdit(tokens.line(end), AFTER_LICENSE, "", excerpt))
    return tuple(found)


# --- SPDX expressions


@dataclass(frozen=True)
class ParsedExpression:
    """An SPDX license expression, read. Invalid input is a value with `error` set, never an exception.

    `operator` is the top-level one: "AND" (all apply), "OR" (a choice), "WITH" (a license with an
    exception) or "single". `keys` are license keys in order, SPDX ids in their canonical case.
    """

    expression: str
    field: str
    normalised: str
    keys: tuple[str, ...]
    operator: Literal["AND", "OR", "WITH", "single", "none"]
    error: str = ""

    @property
    def valid(self) -> bool:
        return not self.error

    def require(self) -> ParsedExpression:
        """This expression, or MalformedFileError naming the field when it is invalid."""
        if self.error:
            raise MalformedFileError(
                self.field,
                f"invalid license expression {self.expression!r}: {self.error}",
                hint="use SPDX ids joined by AND, OR and WITH, e.g. 'Apache-2.0 OR MIT'",
            )
        return self

    def to_json(self) -> dict[str, Any]:
        return {
            "expression": self.expression,
            "field": self.field,
            "normalised": self.normalised,
            "keys": list(self.keys),
            "operator": self.operator,
            "error": self.error,
        }


_KEY = re.compile(r"[A-Za-z0-9.+:-]+")


def parse_expression(expression: str, field: str = "license") -> ParsedExpression:
    """Parse `expression` with license-expression's SPDX licensing; LicenseRef-* and unknown keys are kept."""
    if not expression.strip():
        return ParsedExpression(expression, field, "", (), "none", "empty license expression")
    from license_expression import ExpressionError  # noqa: PLC0415 - heavy; `--help` must not import it

    licensing = _licensing()
    try:
        parsed = licensing.parse(expression, validate=False, strict=False)
        keys = tuple(licensing.license_keys(parsed, unique=True))
    except ExpressionError as exc:
        return ParsedExpression(expression, field, "", (), "none", _expression_problem(exc))
    except Exception as exc:  # noqa: BLE001 - the library raises bare TypeErrors on odd input; never leak them
        return ParsedExpression(expression, field, "", (), "none", f"cannot parse: {exc}")
    bad = [key for key in keys if not _KEY.fullmatch(key)]
    if bad:
        problem = f"{bad[0]!r} is not a license id (ids have no spaces; join ids with AND or OR)"
        return ParsedExpression(expression, field, "", (), "none", problem)
    return ParsedExpression(expression, field, str(parsed), keys, _operator(parsed))


@functools.cache
def _licensing() -> Any:
    """license-expression's SPDX licensing: built from its bundled license index once (~30 ms)."""
    from license_expression import get_spdx_licensing  # noqa: PLC0415 - heavy; loaded on first use

    return get_spdx_licensing()


def _expression_problem(exc: Exception) -> str:
    message = str(exc).strip() or type(exc).__name__
    if "and/or" in message.lower():
        return "'and/or' is not an operator: say AND (all apply) or OR (a choice)"
    return message


def _operator(parsed: Any) -> Literal["AND", "OR", "WITH", "single"]:
    name = type(parsed).__name__
    if name in ("AND", "OR"):
        return "AND" if name == "AND" else "OR"
    if name == "LicenseWithExceptionSymbol":
        return "WITH"
    return "single"


# --- declared values (cards, Hub tags)


@dataclass(frozen=True)
class DeclaredMatch:
    """Catalog ids a declared license value maps to; `unknown` lists what did not map, `reason` says why."""

    value: str
    license_name: str | None
    license_ids: tuple[str, ...]
    unknown: tuple[str, ...] = ()
    reason: str = ""
    suggestions: tuple[str, ...] = ()
    expression: ParsedExpression | None = None

    @property
    def known(self) -> bool:
        return bool(self.license_ids) and not self.unknown

    def to_json(self) -> dict[str, Any]:
        return {
            "value": self.value,
            "license_name": self.license_name,
            "license_ids": list(self.license_ids),
            "unknown": list(self.unknown),
            "reason": self.reason,
            "suggestions": list(self.suggestions),
            "expression": self.expression.to_json() if self.expression else None,
        }


def identify_declared(
    value: str | Sequence[str] | None, license_name: str | None, catalog: LicenseCatalog
) -> DeclaredMatch:
    """Map a card/Hub license value (`llama3.3`, `apache-2.0`, `other` + license_name, SPDX ids or
    expressions, ScanCode keys, `unknown`, or a list of these) to catalog ids."""
    values = [value] if isinstance(value, str) or value is None else list(value)
    shown = ", ".join(str(v) for v in values)
    ids: list[str] = []
    unknown: list[str] = []
    reasons: list[str] = []
    suggestions: list[str] = []
    expression: ParsedExpression | None = None
    for item in values:
        found, reason, parsed = _declared_one(item, license_name, catalog)
        expression = expression or parsed
        ids += [i for i in found if i not in ids]
        if reason:
            unknown.append("" if item is None else item)
            reasons.append(reason)
            suggestions += [s for s in _closest(catalog, item or "") if s not in suggestions]
    return DeclaredMatch(
        shown,
        license_name,
        tuple(ids),
        tuple(unknown),
        "; ".join(reasons),
        tuple(suggestions[:3]),
        expression,
    )


def _declared_one(
    value: str | None, license_name: str | None, catalog: LicenseCatalog
) -> tuple[list[str], str, ParsedExpression | None]:
    text = (value or "").strip()
    if not text:
        return [], "no license declared", None
    if text.casefold() == "unknown":
        return [], "the card declares the license as 'unknown'", None
    if text.casefold() == "other" and not (license_name or "").strip():
        return [], "'other' without a license_name says nothing about which license", None
    direct = catalog.lookup(text, license_name)
    if direct is not None:
        return [direct.id], "", None
    if text.casefold() == "other":
        return [], f"license_name {license_name!r} is not in the license catalog", None
    parsed = parse_expression(text)
    if not parsed.valid:
        return [], f"{text!r} is neither a known license id nor a valid expression ({parsed.error})", parsed
    found: list[str] = []
    missing: list[str] = []
    for key in parsed.keys:
        license_ = catalog.lookup(key)
        if license_ is None:
            missing.append(key)
        else:
            found.append(license_.id)
    reason = f"not in the license catalog: {', '.join(missing)}" if missing else ""
    return found, reason, parsed if parsed.operator != "single" else None


def _closest(catalog: LicenseCatalog, value: str) -> list[str]:
    if not value.strip():
        return []
    return catalog.closest(value, n=3)
