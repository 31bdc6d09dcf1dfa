"""Witnesses: pure functions from one ScanReport to the parents it names, each claim with its evidence.

A witness never decides an edge on its own; `graph.py` weighs them. Each claim carries a `weight` (how much
the witness is worth alone) and a `group` (claims of one group repeat one statement and count once):

| witness | group | weight | relation it states |
|---|---|---|---|
| `adapter_config.json` base_model_name_or_path | adapter-config | 0.95 | adapter |
| knowledge base `lineage.base` / `lineage.teacher` | knowledge-base | 0.90 | recorded |
| card `base_model` (+ relation); Hub tags, cardData, baseModels | card-metadata | 0.85 | stated or inferred |
| GGUF `general.source.*` | gguf-source | 0.80 | quantized |
| GGUF `general.base_model.*` | gguf-base | 0.75 | the source's base |
| card table with a "Base Model" column, row naming this model | card-table | 0.75 | finetune |
| card prose ("fine-tuned from", "distilled from", "merge of", ...) | card-prose | 0.70 | from the verb |
| repo / GGUF name (`-GGUF`, `-AWQ`, `-4bit`, `X-Distill-Y`) | name | 0.50 | quantized / distillation |
| config `_name_or_path` | config | 0.40 | unstated |

Prose is attributed to a subject: a sentence counts only when its subject names this model (or a family
such as "DeepSeek-R1-Distill models"), refers to itself ("This model is ..."), or is empty (a list item that
starts with the verb). So the DeepSeek-R1 README, which every R1 repo ships, gives each model its own row.
A name that is not a Hub id is matched against known ids (knowledge base, ids linked in the card), then given
the org of this repo or of its family; failing that it stays a bare name and its node is `external`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import PurePath
from typing import Protocol

from provenance.lineage.model import EdgeEvidence, Relation, is_relation
from provenance.model import Fact
from provenance.scan_report import ScanReport

WEIGHT = {
    "adapter-config": 0.95,
    "knowledge-base": 0.9,
    "card-metadata": 0.85,
    "gguf-source": 0.8,
    "gguf-base": 0.75,
    "card-table": 0.75,
    "card-prose": 0.7,
    "name": 0.5,
    "config": 0.4,
}
# Which witness's word on the relation wins when several state one (lower wins).
RELATION_PRIORITY = {
    "card.base_model_relation": 0,
    "knowledge-base": 1,
    "adapter_config": 2,
    "hub.base_model": 3,
    "gguf.general.source": 4,
    "card.table": 5,
    "card.prose": 5,
    "repo-name": 6,
    "gguf.general.name": 6,
}

_ID_SHAPE = re.compile(r"^[A-Za-z0-9][\w.-]*/[A-Za-z0-9][\w.-]*$")
_HF_REPO_URL = re.compile(
    r"^https?://(?:www\.)?huggingface\.co/(?!datasets/|spaces/|docs/|blog/|papers/)"
    r"([A-Za-z0-9][\w.-]*)/([A-Za-z0-9][\w.-]*?)(?:/tree/[^/\s]+)?/?$"
)
_FAMILY_ORGS = {
    "llama": "meta-llama",
    "meta-llama": "meta-llama",
    "qwen": "Qwen",
    "mistral": "mistralai",
    "mixtral": "mistralai",
    "gemma": "google",
    "phi": "microsoft",
    "deepseek": "deepseek-ai",
}


def looks_like_repo_id(text: str) -> bool:
    return bool(_ID_SHAPE.match(text)) and ".." not in text and "--" not in text


def norm(name: str) -> str:
    """Spelling-insensitive form of a model name: `Llama3.1-8B` and `llama-3.1 8b` agree; dots are kept."""
    return re.sub(r"[\s_\-]+", "", name.rsplit("/", 1)[-1].lower())


def hf_repo_of_url(url: str) -> str | None:
    match = _HF_REPO_URL.match(url.strip())
    return f"{match.group(1)}/{match.group(2)}" if match else None


# --- the records ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Subject:
    """The model a report is about: its node id, its Hub id when it has one, its own names (repo name, file
    or folder name) and aliases (a GGUF's `general.name` names the model it was converted from: prose about
    that name is about this file, but a parent of that name is its source, not itself)."""

    node_id: str
    repo_id: str | None
    names: tuple[str, ...]
    aliases: tuple[str, ...] = ()

    @property
    def org(self) -> str | None:
        return self.repo_id.split("/")[0] if self.repo_id else None

    def is_self(self, name: str) -> bool:
        if self.repo_id and name.lower() == self.repo_id.lower():
            return True
        if "/" in name and self.repo_id:
            return False
        return norm(name) in {norm(n) for n in self.names}

    def is_named(self, name: str) -> bool:
        return self.is_self(name) or norm(name) in {norm(n) for n in self.aliases}

    def in_family(self, family: str) -> bool:
        prefix = norm(family)
        return any(norm(n).startswith(prefix) and norm(n) != prefix for n in (*self.names, *self.aliases))


@dataclass(frozen=True)
class Witnessed:
    """One witness's claim that `parent` is a parent. `relation` None: a weights edge of unstated kind.

    `family` claims name a series or family ("Qwen-2.5 series", the `Qwen-1.5B` in `X-Distill-Qwen-1.5B`):
    they corroborate an edge to a parent whose name holds every word, and never create one. `child` is set
    when the claim is about another model (a GGUF names the base of the model it was converted from).
    """

    parent: str
    relation: Relation | None
    evidence: EdgeEvidence
    family: bool = False
    child: str | None = None

    @property
    def priority(self) -> int:
        return RELATION_PRIORITY.get(self.evidence.witness, 9) if self.relation else 99


@dataclass(frozen=True)
class NameIndex:
    """Known Hub ids to turn a bare name ("Llama3.1-8B-Base", "DeepSeek-V3-Base") into an id."""

    known: tuple[str, ...]

    def resolve(self, name: str, subject: Subject) -> tuple[str, str]:
        """The id and how it was found; a name found nowhere comes back as itself with "unresolved"."""
        if looks_like_repo_id(name):
            return name, "id"
        found = self._find(norm(name))
        if found:
            return found, "known"
        # Meta and Qwen name base models without "-Base" ("Llama3.1-8B-Base" in the R1 README is
        # meta-llama/Llama-3.1-8B); DeepSeek keeps it (DeepSeek-V3-Base), which an exact match finds first.
        found = self._find(norm(name).removesuffix("base"))
        if found:
            return found, "known, without '-base'"
        guessed = self._same_org_guess(name, subject) or self._family_guess(name)
        return (guessed, "org inferred from the name") if guessed else (name, "unresolved")

    def _find(self, wanted: str) -> str | None:
        return next((k for k in self.known if norm(k) == wanted), None) if wanted else None

    @staticmethod
    def _same_org_guess(name: str, subject: Subject) -> str | None:
        lead = _lead_word(name)
        org = subject.org
        if org and lead and len(lead) >= 4 and lead in org.lower():
            return f"{org}/{_hyphenate(name)}"
        return None

    @staticmethod
    def _family_guess(name: str) -> str | None:
        org = _FAMILY_ORGS.get(_lead_word(name))
        return f"{org}/{_hyphenate(name)}" if org else None


def _lead_word(name: str) -> str:
    match = re.match(r"[A-Za-z]+", name)
    return match.group().lower() if match else ""


def _hyphenate(name: str) -> str:
    return re.sub(r"\s+", "-", name.strip())


def subject_of(report: ScanReport) -> Subject:
    target = report.target
    repo_id = target.canonical_id or target.repo_id
    node_id = repo_id or target.requested
    if repo_id:
        names = [repo_id.split("/")[-1]]
    else:
        path = PurePath(target.root or target.requested)
        names = [path.stem if target.kind == "local-file" else path.name]
    aliases = tuple(dict.fromkeys(n for n in _gguf_names(report) if n and n not in names))
    return Subject(node_id, repo_id, tuple(n for n in names if n), aliases)


def _gguf_names(report: ScanReport) -> list[str]:
    names = [str(f.value) for f in report.facts_of("gguf.general.name") if isinstance(f.value, str)]
    basename = report.first("gguf.general.basename")
    if isinstance(basename, str):
        parts = [basename, report.first("gguf.general.finetune"), report.first("gguf.general.size_label")]
        names.append("-".join(str(p) for p in parts if isinstance(p, str) and p))
    return names


def evidence(witness: str, value: str, location: str, group: str, factor: float = 1.0) -> EdgeEvidence:
    return EdgeEvidence(witness, value, location, round(WEIGHT[group] * factor, 3), group)


# --- metadata witnesses ---------------------------------------------------------------------------


def card_metadata(report: ScanReport) -> list[Witnessed]:
    """Card `base_model` (one fact per base) with its `base_model_relation`; the Hub's copies of the same.

    The knowledge base also records its bases as card facts; those are its `lineage.base` facts again (with
    their quote), so they are left to `knowledge` rather than counted twice."""
    relations = report.facts_of("card.base_model_relation")
    recorded = bool(report.facts_of("lineage.base"))
    found: list[Witnessed] = []
    for fact in report.facts_of("card.base_model"):
        if recorded and fact.origin.source == "knowledge-base":
            continue
        paired = next((r for r in relations if r.origin == fact.origin), relations[0] if relations else None)
        relation = paired.value if paired is not None and is_relation(paired.value) else None
        for base in _strings(fact.value):
            witness = "card.base_model_relation" if relation else "card.base_model"
            value = f"base_model: {base}" + (f" (base_model_relation: {relation})" if relation else "")
            ev = evidence(witness, value, str(fact.origin), "card-metadata")
            found.append(Witnessed(base, relation, ev))
    for fact in report.facts_of("hub.base_model"):
        found.extend(_hub_base(fact))
    return found


def _hub_base(fact: Fact) -> list[Witnessed]:
    value = fact.value if isinstance(fact.value, dict) else {"repo": fact.value}
    repo, relation = value.get("repo"), value.get("relation")
    if not isinstance(repo, str) or not repo:
        return []
    stated = relation if is_relation(relation) else None
    text = f"Hub {fact.origin.detail or 'metadata'}: {repo}" + (f" ({relation})" if stated else "")
    return [Witnessed(repo, stated, evidence("hub.base_model", text, str(fact.origin), "card-metadata"))]


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value] if value.strip() else []
    if isinstance(value, list | tuple):
        return [v for v in value if isinstance(v, str) and v.strip()]
    return []


def adapter(report: ScanReport) -> list[Witnessed]:
    found = []
    for fact in report.facts_of("adapter.base_model"):
        for base in _strings(fact.value):
            peft = report.first("adapter.peft_type")
            text = f"base_model_name_or_path: {base}" + (f" (peft_type {peft})" if peft else "")
            found.append(
                Witnessed(
                    base, "adapter", evidence("adapter_config", text, str(fact.origin), "adapter-config")
                )
            )
    return found


def knowledge(report: ScanReport) -> list[Witnessed]:
    """`lineage.base` / `lineage.teacher` recorded in the bundled knowledge base, each with its quote."""
    found = []
    teacher: Relation = "distillation"
    for kind, default in (("lineage.base", None), ("lineage.teacher", teacher)):
        for fact in report.facts_of(kind):
            value = fact.value if isinstance(fact.value, dict) else {}
            repo, relation = value.get("repo"), value.get("relation", default)
            if not isinstance(repo, str):
                continue
            stated = relation if is_relation(relation) else default
            quote = str(value.get("quote") or "")
            factor = 1.0 if quote else 0.7
            text = quote or f"{kind}: {repo} (recorded without a quote: {fact.origin.detail})"
            ev = evidence("knowledge-base", text, str(fact.origin), "knowledge-base", factor)
            found.append(Witnessed(repo, stated, ev))
    return found


class KnownEdgeLike(Protocol):
    @property
    def repo(self) -> str: ...

    @property
    def relation(self) -> str: ...

    @property
    def source(self) -> str: ...

    @property
    def quote(self) -> str: ...


class KnownLineage(Protocol):
    """What a knowledge-base entry records about lineage (provenance.knowledge.KnownModel has it)."""

    @property
    def repo_id(self) -> str: ...

    @property
    def bases(self) -> Sequence[KnownEdgeLike]: ...

    @property
    def teacher(self) -> KnownEdgeLike | None: ...


def known_lineage(model: KnownLineage) -> list[Witnessed]:
    """The knowledge base's record of a model scanned from elsewhere (the Hub, a cache): the same weight as
    its `lineage.*` facts in an offline scan."""
    found = []
    edges = [*model.bases, *([model.teacher] if model.teacher is not None else [])]
    for edge in edges:
        relation = edge.relation if is_relation(edge.relation) else None
        text = edge.quote or f"{edge.repo} (recorded without a quote: {edge.source})"
        location = f"knowledge-base:{model.repo_id} <- {edge.source}"
        ev = evidence("knowledge-base", text, location, "knowledge-base", 1.0 if edge.quote else 0.7)
        found.append(Witnessed(edge.repo, relation, ev))
    return found


def config_name(report: ScanReport, subject: Subject) -> list[Witnessed]:
    """`_name_or_path` in config.json: the path the weights were loaded from before saving, often the base."""
    fact = next(iter(report.facts_of("config._name_or_path")), None)
    if fact is None or not isinstance(fact.value, str) or not looks_like_repo_id(fact.value):
        return []
    if subject.is_self(fact.value):
        return []
    ev = evidence("config._name_or_path", f"_name_or_path: {fact.value}", str(fact.origin), "config")
    return [Witnessed(fact.value, None, ev)]


# --- GGUF -----------------------------------------------------------------------------------------


def gguf(report: ScanReport, subject: Subject, index: NameIndex) -> list[Witnessed]:
    """`general.source.*` names the converted model; `general.base_model.*` is *that* model's base (llama.cpp
    copies it from the source card), so it is a base of the source when the source is known."""
    source = _gguf_source(report, subject, index)
    found = [source] if source else []
    for parent, location, how in _gguf_bases(report, subject, index):
        text = f"general.base_model: {parent}" + ("" if how in {"id", "known"} else f" ({how})")
        factor = 1.0 if how in {"id", "known"} else 0.8
        ev = evidence("gguf.general.base_model", text, location, "gguf-base", factor)
        child = source.parent if source and norm(source.parent) != norm(parent) else None
        found.append(Witnessed(parent, "finetune" if child else None, ev, child=child))
    return found


def _gguf_source(report: ScanReport, subject: Subject, index: NameIndex) -> Witnessed | None:
    for key in ("general.source.repo_url", "general.source.url", "general.source.huggingface.repository"):
        fact = next(iter(report.facts_of(f"gguf.{key}")), None)
        if fact is None or not isinstance(fact.value, str):
            continue
        repo = hf_repo_of_url(fact.value) or (fact.value if looks_like_repo_id(fact.value) else None)
        if repo and not subject.is_self(repo):
            ev = evidence("gguf.general.source", f"{key}: {fact.value}", str(fact.origin), "gguf-source")
            return Witnessed(repo, "quantized", ev)
    if not _only_gguf_weights(report):
        return None
    for name in _gguf_names(report):
        repo, how = index.resolve(name, subject)
        if how == "known" and not subject.is_self(repo):
            fact = next(iter(report.facts_of("gguf.general.name")), None)
            location = str(fact.origin) if fact else "gguf: general.basename"
            ev = evidence("gguf.general.name", f"converted model named {name!r}", location, "name")
            return Witnessed(repo, "quantized", ev)
    return None


def _gguf_bases(report: ScanReport, subject: Subject, index: NameIndex) -> Iterator[tuple[str, str, str]]:
    entries: dict[str, dict[str, Fact]] = {}
    for fact in report.facts:
        match = re.fullmatch(r"gguf\.general\.base_model\.(\d+)\.(\w+)", fact.kind)
        if match:
            entries.setdefault(match.group(1), {})[match.group(2)] = fact
    for number in sorted(entries, key=int):
        fields = entries[number]
        url = fields.get("repo_url")
        repo = hf_repo_of_url(str(url.value)) if url else None
        name_fact = fields.get("name") or url
        if name_fact is None:
            continue
        if repo:
            yield repo, str(name_fact.origin), "id"
            continue
        org = fields.get("organization")
        name = str(name_fact.value)
        found, how = index.resolve(name, subject)
        if how == "unresolved" and org is not None:
            found, how = f"{_hyphenate(str(org.value))}/{_hyphenate(name)}", "org from general.base_model"
        if not subject.is_self(found):
            yield found, str(name_fact.origin), how


def _only_gguf_weights(report: ScanReport) -> bool:
    kinds = {f.kind for f in report.files}
    return "gguf" in kinds and not kinds & {"safetensors", "pickle"}


# --- names ----------------------------------------------------------------------------------------

_QUANT_SUFFIX = re.compile(
    r"[-_.](?:i1-)?(?:GGUF|GGML|AWQ|GPTQ|EXL2|MLX|bnb|nf4|fp8|int[48]|[248]bit|[248]-bit|imatrix|"
    r"Q\d(?:_K)?(?:_[SML])?|Q\d_\d|I?Q\d_[A-Z]+|B?F16|F32|\d+(?:\.\d+)?bpw)$",
    re.IGNORECASE,
)
_DISTILL = re.compile(r"^(?P<teacher>.+?)-Distill-(?P<base>[A-Za-z]+)-(?P<size>\d+(?:\.\d+)?[BM])\b")


def repo_name(subject: Subject, index: NameIndex, relation_hint_location: str) -> list[Witnessed]:
    """`org/X-GGUF` (-AWQ, -GPTQ, -4bit, ...) is a quantization of X; `T-Distill-Qwen-7B` learnt from T."""
    name = subject.names[0] if subject.names else ""
    quantized = _quantized_from_name(name, subject, index, relation_hint_location)
    # "X-Distill-Y-8B-AWQ" quantizes a distill: the teacher belongs to X-Distill-Y-8B, one hop up.
    return quantized or _distilled_from_name(name, subject, index, relation_hint_location)


def _quantized_from_name(name: str, subject: Subject, index: NameIndex, location: str) -> list[Witnessed]:
    stripped, suffixes = name, list[str]()
    while match := _QUANT_SUFFIX.search(stripped):
        suffixes.insert(0, match.group()[1:])
        stripped = stripped[: match.start()]
    if not suffixes or not stripped:
        return []
    parent, how = index.resolve(stripped, subject)
    if how == "org inferred from the name" and subject.org and parent.startswith(f"{subject.org}/"):
        how = "unresolved"  # a re-uploader's own org is rarely the source's
    text = f"name {name!r}: suffix {'-'.join(suffixes)} marks a quantization of {stripped!r}"
    if how == "unresolved":
        # An unknown name ("model" in model-q8.gguf) proves nothing alone; it can still back a named parent.
        words = " ".join(re.split(r"[-_\s]+", stripped))
        return [Witnessed(words, None, evidence("repo-name", text, location, "name", 0.6), family=True)]
    factor = 1.0 if how in {"known", "id"} else 0.6
    return [Witnessed(parent, "quantized", evidence("repo-name", text, location, "name", factor))]


def _distilled_from_name(name: str, subject: Subject, index: NameIndex, location: str) -> list[Witnessed]:
    match = _DISTILL.match(name)
    if match is None:
        return []
    teacher, how = index.resolve(match.group("teacher"), subject)
    text = f"name {name!r}: '{match.group('teacher')}-Distill-' names the teacher"
    factor = 1.0 if how in {"known", "id"} else 0.8
    found = [Witnessed(teacher, "distillation", evidence("repo-name", text, location, "name", factor))]
    family = f"{match.group('base')} {match.group('size')}"
    hint = f"name {name!r}: '-Distill-{match.group('base')}-{match.group('size')}' names the base family"
    found.append(Witnessed(family, None, evidence("repo-name", hint, location, "name", 0.6), family=True))
    return found


# --- card prose -----------------------------------------------------------------------------------

_MODEL = r"(?:[A-Za-z0-9][\w.-]*/)?[A-Za-z][\w.]*(?:-[\w.]+)+|[A-Za-z0-9][\w.-]*/[A-Za-z0-9][\w.-]*"
_MODEL_TOKEN = re.compile(rf"(?<![\w/.-])(?:{_MODEL})")
_FAMILY_AFTER = re.compile(r"\s+(?:series|family|models|checkpoints|variants)\b", re.IGNORECASE)
_AUX = r"(?:is|are|was|were|has\s+been|have\s+been|had\s+been)"
_VERB_RELATION = {
    "fine": "finetune",
    "finetuned": "finetune",
    "trained": "finetune",
    "derived": "finetune",
    "built": "finetune",
    "initialized": "finetune",
    "initialised": "finetune",
    "continued": "finetune",
    "quantized": "quantized",
    "quantised": "quantized",
    "converted": "quantized",
    "merged": "merge",
    "distilled": "distillation",
}
_VERB = (
    r"(?P<verb>fine-?tuned|finetuned|trained|derived|built|initiali[sz]ed|continued(?:\s+pre-?trained)?|"
    r"quanti[sz]ed|converted|merged|distilled)"
)
_PREP = r"(?:from|of|based\s+on|on\s+top\s+of)"
# (pattern, relation or None to read it from the verb, whether the pattern holds its own finite verb)
_PATTERNS: tuple[tuple[re.Pattern[str], str | None, bool], ...] = (
    (
        re.compile(
            rf"\b{_AUX}\s+(?:(?:a|an|the)\s+)?(?:[\w-]+\s+){{0,2}}?{_VERB}\s+"
            rf"(?:(?:version|variant|checkpoint|model)\s+)?{_PREP}\s+",
            re.I,
        ),
        None,
        True,
    ),
    (re.compile(rf"\b{_VERB}\s+(?:(?:version|variant|checkpoint)\s+)?{_PREP}\s+", re.I), None, False),
    (
        re.compile(
            r"\b(?:fine-?tune|finetune|quanti[sz]ation|quanti[sz]ed\s+version|conversion)\s+of\s+", re.I
        ),
        "noun",
        False,
    ),
    (
        re.compile(
            r"\b(?:GGUF|GPTQ|AWQ|EXL2|MLX)\s+(?:format\s+)?(?:model\s+)?"
            r"(?:files|quants|versions?|quanti[sz]ations?)\s+(?:for|of)\s+",
            re.I,
        ),
        "quantized",
        False,
    ),
    (re.compile(r"\bmerge\s+of\s+", re.I), "merge", False),
    (
        re.compile(
            r"\btrained\s+on\s+(?:the\s+)?(?:outputs?|generations|responses|completions)\s+(?:of|from)\s+",
            re.I,
        ),
        "distillation",
        False,
    ),
    (
        re.compile(
            r"\b(?:outputs?|samples|data|responses|completions|generations|traces)\s+"
            r"(?:generated|produced|curated|synthesi[sz]ed)\s+(?:by|with|from|using)\s+",
            re.I,
        ),
        "distillation",
        False,
    ),
)
_GENERATED_AFTER = re.compile(rf"(?P<name>{_MODEL})[- ]generated\s+(?:data|samples|outputs|responses)", re.I)
_SELF_REF = re.compile(
    r"\b(?:this|our|the)\s+(?:model|checkpoint|repo(?:sitory)?|weights|files|version)\b|^\s*(?:it|this)\b|"
    r"^\s*(?:a|an)\s+(?:[\w-]+\s+){0,4}(?:model|checkpoint|version|variant|llm|quantization)\s*$",
    re.I,
)
_BARE_QUALIFIER = re.compile(
    r"^\s*(?:(?:a|an|the)\s+)?(?:(?:\d+[- ]?bits?|int\d|fp\d+|bf16|f16|gguf|awq|gptq|exl2)\s*)*$", re.I
)
_CLAUSE_CUT = re.compile(r"[;:]|\bwhich\b|\bthat\b|\bwhile\b|\bbut\b", re.I)
_PHRASE_CUT = re.compile(r",|;|:|&|\(|\band\b|\bwith\b|\busing\b", re.I)


@dataclass(frozen=True)
class Sentence:
    text: str
    line: int


def prose(report: ScanReport, subject: Subject, index: NameIndex) -> list[Witnessed]:
    """Statements in the card body whose subject is this model."""
    body = report.card_body
    if not body:
        return []
    where, offset = card_location(report)
    linked = linked_ids(body)
    local = NameIndex(tuple(dict.fromkeys((*linked, *index.known))))
    found: list[Witnessed] = []
    for sentence in sentences(body):
        location = f"{where}:line {sentence.line + offset}"
        found.extend(_statements(sentence.text, subject, local, location))
    return found


def card_location(report: ScanReport) -> tuple[str, int]:
    """The card's origin ("local-dir:README.md") and the README line where the body starts, minus one."""
    fact = next((f for f in report.facts if f.kind.startswith("card.")), None)
    where = f"{fact.origin.source}:{fact.origin.location}" if fact else f"{report.target.kind}:README.md"
    start = getattr(report, "card_body_start_line", None)
    return where, (start - 1 if isinstance(start, int) and start > 0 else 0)


def linked_ids(body: str) -> tuple[str, ...]:
    urls = re.findall(r"https?://[^\s)\]\"'>]+", body)
    return tuple(dict.fromkeys(repo for repo in map(hf_repo_of_url, urls) if repo))


def _statements(text: str, subject: Subject, index: NameIndex, location: str) -> Iterator[Witnessed]:
    for pattern, kind, finite in _PATTERNS:
        for match in pattern.finditer(text):
            relation = _relation_of(match, kind)
            if relation is None or not _about_subject(text, match.start(), subject, finite=finite):
                continue
            quote = _quote(text)
            for name, family in _parents_after(text[match.end() :], relation == "merge"):
                yield from _claim(
                    name, family, relation, subject=subject, index=index, quote=quote, location=location
                )
    for match in _GENERATED_AFTER.finditer(text):
        if _about_subject(text, match.start(), subject, finite=False):
            name = match.group("name")
            yield from _claim(
                name,
                False,
                "distillation",
                subject=subject,
                index=index,
                quote=_quote(text),
                location=location,
            )


def _relation_of(match: re.Match[str], kind: str | None) -> str | None:
    if kind == "noun":
        return "quantized" if match.group().lower().startswith(("quanti", "conversion")) else "finetune"
    if kind is not None:
        return kind
    verb = match.group("verb").lower()
    return _VERB_RELATION.get(re.split(r"[-\s]", verb)[0])


def _claim(
    name: str, family: bool, relation: str, *, subject: Subject, index: NameIndex, quote: str, location: str
) -> Iterator[Witnessed]:
    if family:
        ev = evidence("card.prose", quote, location, "card-prose", 0.5)
        yield Witnessed(name, None, ev, family=True)
        return
    parent, how = index.resolve(name, subject)
    if subject.is_self(parent) or subject.is_self(name):
        return
    factor = 1.0 if how in {"id", "known"} else 0.8
    text = quote if how in {"id", "known"} else f"{quote} [{name!r}: {how}]"
    stated = relation if is_relation(relation) else None
    yield Witnessed(parent, stated, evidence("card.prose", text, location, "card-prose", factor))


def _about_subject(text: str, start: int, subject: Subject, *, finite: bool) -> bool:
    """Whether the statement before `start` is about this model: the subject of its clause when the verb is
    finite ("X is derived from"), of the sentence's main verb for a participle after one ("X are fine-tuned
    ..., using samples generated by"), else the noun phrase the participle hangs on ("six models distilled
    from")."""
    before = text[:start]
    aux = None if finite else re.search(rf"\b{_AUX}\b", before, re.IGNORECASE)
    if finite or aux:
        scope = _CLAUSE_CUT.split(before[: aux.start()] if aux else before)[-1]
    else:
        scope = _PHRASE_CUT.split(before)[-1]
    return _scope_names_subject(scope, subject)


def _scope_names_subject(scope: str, subject: Subject) -> bool:
    others = False
    for match in _MODEL_TOKEN.finditer(scope):
        token = match.group().rstrip(".")
        if subject.is_named(token):
            return True
        if _FAMILY_AFTER.match(scope, match.end()) and subject.in_family(token):
            return True
        others = others or _model_like(token)
    if others:
        return False
    return bool(_SELF_REF.search(scope) or _BARE_QUALIFIER.match(scope))


def _parents_after(rest: str, many: bool) -> Iterator[tuple[str, bool]]:
    """Model names at the start of `rest` ("A", or "A, B and C" for merges); `True` marks a family."""
    rest = re.sub(r"^(?:(?:the|a|an|top\s+of|weights\s+of|checkpoints?\s+of)\s+)+", "", rest, flags=re.I)
    while True:
        match = _MODEL_TOKEN.match(rest)
        if match is None:
            return
        name = match.group().rstrip(".,")
        if not _model_like(name):
            return
        yield name, bool(_FAMILY_AFTER.match(rest, match.end()))
        rest = rest[match.end() :]
        separator = re.match(r"\s*(?:,\s*(?:and\s+)?|and\s+|&\s*|\+\s*)", rest)
        if not many or separator is None:
            return
        rest = rest[separator.end() :]


def _model_like(token: str) -> bool:
    """ "Qwen2.5-Math-1.5B", "GPT-4", "org/any-name": yes; "open-source", "Llama-style", "and/or": no."""
    return bool(re.search(r"\d" if "/" not in token else r"[\d-]", token))


def _quote(text: str) -> str:
    return text if len(text) <= 300 else text[:297] + "..."


# --- Markdown: sentences and tables ---------------------------------------------------------------

_LINK = re.compile(r"!?\[([^\]]*)\]\(([^)\s]*)(?:\s+\"[^\"]*\")?\)")
_TAG = re.compile(r"<[^>]{0,400}>")
_LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")
_TABLE_SEPARATOR = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(?:\|\s*:?-{3,}:?\s*)*\|?\s*$")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z\[*_(])")


def clean_inline(text: str) -> str:
    """Markdown inline text as plain words: links become their Hub id (repo links) or their text."""

    def link(match: re.Match[str]) -> str:
        if match.group().startswith("!"):
            return match.group(1)
        return hf_repo_of_url(match.group(2)) or match.group(1)

    text = _LINK.sub(link, text)
    text = re.sub(r"https?://\S+", lambda m: hf_repo_of_url(m.group().rstrip(".,)")) or "", text)
    text = _TAG.sub(" ", text)
    text = re.sub(r"\*\*|__|`|\\(?=[<>*_])", "", text)
    return re.sub(r"\s+", " ", text).strip()


def _blocks(body: str) -> Iterator[tuple[int, list[str]]]:
    """Paragraphs and list items outside code fences and tables, each with its first line (1-based)."""
    block: list[str] = []
    start = 0
    fenced = False
    for number, line in enumerate(body.splitlines(), 1):
        stripped = line.strip()
        if stripped.startswith(("```", "~~~")):
            fenced = not fenced
        boundary = fenced or not stripped or stripped.startswith(("|", "#", "```", "~~~"))
        if boundary or _LIST_ITEM.match(line):
            if block:
                yield start, block
            block = []
            if boundary:
                continue
        if not block:
            start = number
        block.append(stripped)
    if block:
        yield start, block


def sentences(body: str) -> Iterator[Sentence]:
    for start, lines in _blocks(body):
        text = clean_inline(" ".join(_LIST_ITEM.sub("", line) for line in lines))
        for part in _SENTENCE_END.split(text):
            if part:
                yield Sentence(part, start)


@dataclass(frozen=True)
class Table:
    header: tuple[str, ...]
    rows: tuple[tuple[int, tuple[str, ...]], ...]


def tables(body: str) -> Iterator[Table]:
    lines = body.splitlines()
    number = 0
    while number < len(lines) - 1:
        if lines[number].strip().startswith("|") and _TABLE_SEPARATOR.match(lines[number + 1]):
            header = _cells(lines[number])
            rows = []
            number += 2
            while number < len(lines) and lines[number].strip().startswith("|"):
                rows.append((number + 1, _cells(lines[number])))
                number += 1
            yield Table(header, tuple(rows))
        else:
            number += 1


def _cells(line: str) -> tuple[str, ...]:
    return tuple(clean_inline(cell) for cell in line.strip().strip("|").split("|"))


_BASE_COLUMNS = {
    "base model": "finetune",
    "base models": "finetune",
    "base": "finetune",
    "parent": "finetune",
    "parent model": "finetune",
    "teacher": "distillation",
    "teacher model": "distillation",
}


def table(report: ScanReport, subject: Subject, index: NameIndex) -> list[Witnessed]:
    """Rows of a table with a "Base Model" (or "Teacher") column whose other cells name this model."""
    body = report.card_body
    if not body:
        return []
    where, offset = card_location(report)
    local = NameIndex(tuple(dict.fromkeys((*linked_ids(body), *index.known))))
    found: list[Witnessed] = []
    for tab in tables(body):
        columns = {
            i: _BASE_COLUMNS[h.lower()] for i, h in enumerate(tab.header) if h.lower() in _BASE_COLUMNS
        }
        for line, row in tab.rows if columns else ():
            if not _row_names_subject(row, columns, subject):
                continue
            location = f"{where}:line {line + offset}"
            for column, relation in columns.items():
                if column < len(row):
                    cell = _table_cell(
                        row,
                        column,
                        relation,
                        header=tab.header,
                        subject=subject,
                        index=local,
                        location=location,
                    )
                    found.extend(cell)
    return found


def _row_names_subject(row: Sequence[str], skip: Iterable[int], subject: Subject) -> bool:
    skipped = set(skip)
    for i, cell in enumerate(row):
        if i not in skipped and any(
            subject.is_named(m.group().rstrip(".")) for m in _MODEL_TOKEN.finditer(cell)
        ):
            return True
    return False


def _table_cell(
    row: Sequence[str],
    column: int,
    relation: str,
    *,
    header: Sequence[str],
    subject: Subject,
    index: NameIndex,
    location: str,
) -> Iterator[Witnessed]:
    for match in _MODEL_TOKEN.finditer(row[column]):
        name = match.group().rstrip(".")
        parent, how = index.resolve(name, subject)
        if subject.is_self(parent):
            continue
        factor = 1.0 if how in {"id", "known"} else 0.8
        value = f"| {' | '.join(row)} | (column {header[column]!r})"
        stated = relation if is_relation(relation) else None
        yield Witnessed(parent, stated, evidence("card.table", value, location, "card-table", factor))


# --- relation hints (no parent of their own) ------------------------------------------------------


def relation_hints(report: ScanReport) -> list[tuple[Relation, EdgeEvidence]]:
    """What the files say about *how* this model was made from whatever its parent is."""
    hints: list[tuple[Relation, EdgeEvidence]] = []
    peft = next(iter(report.facts_of("adapter.peft_type")), None)
    if peft is not None:
        hints.append(
            (
                "adapter",
                EdgeEvidence("adapter_config", f"peft_type {peft.value}", str(peft.origin), 0.0, "relation"),
            )
        )
    method = next(iter(report.facts_of("quant.method")), None)
    if method is not None:
        bits = report.first("quant.bits")
        text = f"quantization_config: {method.value}" + (f", {bits} bits" if bits else "")
        hints.append(
            ("quantized", EdgeEvidence("quantization_config", text, str(method.origin), 0.0, "relation"))
        )
    if _only_gguf_weights(report):
        paths = ", ".join(f.entry.path for f in report.files if f.kind == "gguf")
        hints.append(
            (
                "quantized",
                EdgeEvidence("file-format", f"weights only as GGUF ({paths})", "files", 0.0, "relation"),
            )
        )
    return hints


def witness_all(report: ScanReport, subject: Subject, index: NameIndex) -> list[Witnessed]:
    name_location = f"name:{subject.node_id}"
    claims = [
        *card_metadata(report),
        *adapter(report),
        *knowledge(report),
        *config_name(report, subject),
        *gguf(report, subject, index),
        *repo_name(subject, index, name_location),
        *prose(report, subject, index),
        *table(report, subject, index),
    ]
    return list(dict.fromkeys(claims))
