"""The offline default: a Source whose facts come from the bundled knowledge base, never from file bytes.

It lists the files and shards the knowledge base records (all `present=False`), refuses to read bytes, and
gives these fact kinds (the scanner and lineage stages consume them):

| kind | value |
|---|---|
| `card.license` | the declared license as its Hub card id: `mit`, `apache-2.0`, `llama3.1`, `other`, ... |
| `card.license_name` | the `license_name` that goes with `other` (`deepseek`, ...) |
| `card.base_model` | a base's repo id, one fact per base |
| `card.base_model_relation` | that base's relation (`finetune`, `adapter`, `quantized`, `merge`) |
| `lineage.base` | `{"repo", "relation", "quote"}`: the edge with the verbatim text that states it |
| `lineage.teacher` | `{"repo", "relation": "distillation", "quote"}` |
| `config.<key>` | a recorded config.json fingerprint value (lists as JSON lists) |
| `tokenizer.<key>` | `bos_token`, `eos_token`, `pad_token` strings |
| `shards.count` | number of safetensors shards |
| `shards.pattern` | shard names as recorded, e.g. `model-0000N-of-000002.safetensors` |
| `hub.gated` | `false`, `"manual"`, `"auto"`, or `true` (gating fields in the card, mode not recorded) |

`card.*` here means "what the model's card or README declares", as recorded; the origin says which source
stated it. Every origin is `Origin("knowledge-base", "provenance/data/known_models.yaml", detail)` with
detail `"<repo> ← <source>"`, `<source>` being the fact's public origin (`github:…@commit`, `search-id:…`,
`hf:…`). `card.base_model` and `card.base_model_relation` come in pairs, one pair per base, in order.
"""

from __future__ import annotations

from typing import Any

from provenance.errors import InputError
from provenance.knowledge import BUNDLED_LOCATION, KnowledgeBase, KnownEdge, KnownModel, load_knowledge_base
from provenance.model import Fact, FileEntry, Origin
from provenance.sources.interface import Source, TargetInfo

KIND = "knowledge-base"
OFFLINE_NOTE = "offline: facts recorded in the bundled knowledge base, not read from the Hub"
NOT_OFFLINE = "not available offline: the knowledge base records facts, not file contents"


class KnowledgeBaseSource(Source):
    """Recorded facts about one known repo (see `knowledge_source` to look one up by repo id)."""

    def __init__(
        self,
        model: KnownModel,
        requested: str | None = None,
        notes: tuple[str, ...] = (),
        location: str = BUNDLED_LOCATION,
    ) -> None:
        self._model = model
        self._location = location
        self._info = TargetInfo(
            requested=requested or model.repo_id,
            kind=KIND,
            repo_id=model.repo_id,
            revision=None,
            notes=(*notes, OFFLINE_NOTE),
        )

    @property
    def info(self) -> TargetInfo:
        return self._info

    @property
    def model(self) -> KnownModel:
        return self._model

    def files(self) -> list[FileEntry]:
        entries: dict[str, FileEntry] = {}
        shards = self._model.shards
        if shards is not None:
            sizes = shards.sizes if len(shards.sizes) == shards.count else ()
            for i, name in enumerate(shards.names()):
                entries[name] = _entry(name, None, sizes[i] if sizes else None, shards.source)
        for recorded in self._model.files:
            known = entries.get(recorded.path)
            if known is None or (known.size is None and recorded.size_text is not None):
                entries[recorded.path] = _entry(
                    recorded.path, recorded.size, recorded.size_text, recorded.source
                )
        return [entries[path] for path in sorted(entries)]

    def read(self, path: str, limit: int) -> bytes:
        raise InputError(path, NOT_OFFLINE)

    def read_prefix(self, path: str, length: int) -> bytes:
        raise InputError(path, NOT_OFFLINE)

    def facts(self) -> list[Fact]:
        m = self._model
        facts = self._license_facts()
        for edge in m.bases:
            facts.append(self._fact("card.base_model", edge.repo, edge.source))
            facts.append(self._fact("card.base_model_relation", edge.relation, edge.source))
            facts.append(self._fact("lineage.base", _edge_value(edge), edge.source))
        if m.teacher is not None:
            facts.append(self._fact("lineage.teacher", _edge_value(m.teacher), m.teacher.source))
        config_ref = m.config_source[0].ref if m.config_source else ""
        facts.extend(self._fact(f"config.{k}", _json(v), config_ref) for k, v in m.config.items())
        facts.extend(
            self._fact(f"tokenizer.{k}", v, m.tokenizer_source or "") for k, v in m.tokenizer.items()
        )
        if m.shards is not None:
            facts.append(self._fact("shards.count", m.shards.count, m.shards.source))
            facts.append(self._fact("shards.pattern", m.shards.pattern, m.shards.source))
        if m.gated is not None:
            facts.append(self._fact("hub.gated", m.gated, m.gated_source or ""))
        return facts

    def _license_facts(self) -> list[Fact]:
        m = self._model
        ref = m.license_source or ""
        facts = [self._fact("card.license", m.license, ref)] if m.license else []
        if m.license_name:
            facts.append(self._fact("card.license_name", m.license_name, ref))
        return facts

    def _fact(self, kind: str, value: Any, source_ref: str) -> Fact:
        return Fact(kind, value, Origin(KIND, self._location, f"{self._model.repo_id} ← {source_ref}"))


def knowledge_source(
    repo_id: str, requested: str | None = None, notes: tuple[str, ...] = (), kb: KnowledgeBase | None = None
) -> KnowledgeBaseSource | None:
    """The knowledge-base source for `repo_id` (any letter case), or None when it is not recorded."""
    base = kb if kb is not None else load_knowledge_base()
    model = base.get(repo_id)
    return KnowledgeBaseSource(model, requested, notes, base.location) if model is not None else None


def _entry(path: str, size: int | None, size_text: str | None, source_ref: str) -> FileEntry:
    extra = (("recorded_size", size_text),) if size_text else ()
    return FileEntry(path=path, size=size, present=False, extra=(*extra, ("source", source_ref)))


def _edge_value(edge: KnownEdge) -> dict[str, str]:
    return {"repo": edge.repo, "relation": edge.relation, "quote": edge.quote}


def _json(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value
