"""`provenance card-section`: a "License and provenance" section for a model card, with the front matter keys
(`license`, `license_name`, `license_link`, `base_model`, `base_model_relation`) that make the card say what
the check found. The YAML is written by a YAML dumper (never by string templating), the Markdown escapes every
model-supplied string."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from provenance.lineage.model import WEIGHT_RELATIONS, Edge
from provenance.policy.model import EffectiveLicense, path_text
from provenance.report.notice import environment

if TYPE_CHECKING:
    from provenance.policy.command import Evaluation

# License values the Hugging Face Hub knows for `license:` (others are `license: other` + `license_name`).
HUB_LICENSES = frozenset(
    {
        "apache-2.0", "mit", "openrail", "bigscience-openrail-m", "creativeml-openrail-m",
        "bigscience-bloom-rail-1.0", "bigcode-openrail-m", "afl-3.0", "artistic-2.0", "bsl-1.0", "bsd",
        "bsd-2-clause", "bsd-3-clause", "bsd-3-clause-clear", "c-uda", "cc", "cc0-1.0", "cc-by-2.0",
        "cc-by-2.5", "cc-by-3.0", "cc-by-4.0", "cc-by-sa-3.0", "cc-by-sa-4.0", "cc-by-nc-2.0",
        "cc-by-nc-3.0", "cc-by-nc-4.0", "cc-by-nd-4.0", "cc-by-nc-nd-3.0", "cc-by-nc-nd-4.0",
        "cc-by-nc-sa-2.0", "cc-by-nc-sa-3.0", "cc-by-nc-sa-4.0", "cdla-sharing-1.0", "cdla-permissive-1.0",
        "cdla-permissive-2.0", "wtfpl", "ecl-2.0", "epl-1.0", "epl-2.0", "etalab-2.0", "eupl-1.1",
        "eupl-1.2", "agpl-3.0", "gfdl", "gpl", "gpl-2.0", "gpl-3.0", "lgpl", "lgpl-2.1", "lgpl-3.0", "isc",
        "h-research", "intel-research", "lppl-1.3c", "ms-pl", "apple-ascl", "apple-amlr", "mpl-2.0",
        "odc-by", "odbl", "openrail++", "osl-3.0", "postgresql", "ofl-1.1", "ncsa", "unlicense", "zlib",
        "pddl", "lgpl-lr", "deepfloyd-if-license", "fair-noncommercial-research-license", "llama2",
        "llama3", "llama3.1", "llama3.2", "llama3.3", "llama4", "gemma", "unknown", "other",
    }
)  # fmt: skip
HUB_RELATIONS = ("adapter", "merge", "quantized", "finetune")
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>|#])")


def markdown(text: object) -> str:
    """Model-supplied text as literal Markdown: special characters escaped, newlines folded."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", " ".join(str(text).split()))


@dataclass(frozen=True)
class MetadataChange:
    key: str
    before: Any
    after: Any


def _hub_value(e: EffectiveLicense) -> str:
    for value in (e.declared_as.lower(), e.license_id.lower().removeprefix("licenseref-")):
        if value in HUB_LICENSES and value not in {"other", "unknown"}:
            return value
    return ""


def _slug(e: EffectiveLicense) -> str:
    return re.sub(r"[^a-z0-9.]+", "-", e.license_id.lower().removeprefix("licenseref-")).strip("-")


def _weights_licenses(evaluation: Evaluation) -> list[EffectiveLicense]:
    return [e for e in evaluation.report.effective if e.reach in {"self", "weights"}]


def _license_keys(licenses: Sequence[EffectiveLicense]) -> dict[str, Any]:
    if not licenses:
        return {}
    if len(licenses) == 1 and _hub_value(licenses[0]):
        return {"license": _hub_value(licenses[0])}
    if len(licenses) == 1:
        return {"license": "other", "license_name": _slug(licenses[0]), "license_link": "LICENSE"}
    name = "-and-".join(sorted(_hub_value(e) or _slug(e) for e in licenses))
    return {"license": "other", "license_name": name, "license_link": "NOTICE"}


def base_edges(evaluation: Evaluation) -> list[Edge]:
    """The root's weight parents (finetune, adapter, quantized, merge), most confident first."""
    graph = evaluation.graph
    edges = [e for e in graph.parents(graph.root) if e.relation in WEIGHT_RELATIONS]
    return sorted(edges, key=lambda e: (-e.confidence, e.parent))


def _base_keys(evaluation: Evaluation) -> dict[str, Any]:
    edges = base_edges(evaluation)
    if not edges:
        return {}
    relations = {e.relation for e in edges}
    relation = "merge" if len(edges) > 1 or "merge" in relations else edges[0].relation
    return {"base_model": [e.parent for e in edges], "base_model_relation": relation}


def metadata(evaluation: Evaluation) -> dict[str, Any]:
    """The front matter keys the card should carry, from the effective licenses and the lineage."""
    return {**_license_keys(_weights_licenses(evaluation)), **_base_keys(evaluation)}


def _found(evaluation: Evaluation, key: str) -> Any:
    values = [f.value for f in evaluation.scan.facts_of(f"card.{key}")]
    if not values:
        return None
    return values[0] if len(values) == 1 else values


def _same(before: Any, after: Any) -> bool:
    def norm(value: Any) -> Any:
        if isinstance(value, list) and len(value) == 1:
            value = value[0]
        return [str(v).lower() for v in value] if isinstance(value, list) else str(value).lower()

    return before is not None and norm(before) == norm(after)


def changes(evaluation: Evaluation, wanted: dict[str, Any]) -> list[MetadataChange]:
    """Each key whose value in the scanned card is missing or differs from what the check found."""
    return [
        MetadataChange(key, _found(evaluation, key), value)
        for key, value in wanted.items()
        if not _same(_found(evaluation, key), value)
    ]


def front_matter(wanted: dict[str, Any]) -> str:
    import yaml  # noqa: PLC0415

    body = yaml.safe_dump(wanted, sort_keys=True, allow_unicode=True, default_flow_style=False)
    return f"---\n{body}---\n"


def _display(value: Any) -> str:
    if value is None:
        return "missing"
    if isinstance(value, list):
        return ", ".join(markdown(v) for v in value)
    return markdown(value)


def card_context(evaluation: Evaluation) -> dict[str, Any]:
    report, graph = evaluation.report, evaluation.graph
    wanted = metadata(evaluation)
    root = report.model
    licenses = [
        {
            "id": markdown(e.license_id),
            "holder": markdown(e.holder),
            "reach": e.reach,
            "path": markdown(path_text(root, e.path)) if e.path else "own license",
            "confidence": f"{e.confidence:.2f}",
        }
        for e in report.effective
    ]
    obligations = [
        {
            "license": markdown(o.license_id),
            "kind": o.kind,
            "summary": markdown(o.summary),
            "action": markdown(o.action),
            "section": markdown(o.clause.section),
            "met": {True: "met", False: "not met", None: "to check"}[o.met],
        }
        for o in report.obligations
        if o.category != "info"
    ]
    attributions = sorted(
        {
            phrase
            for o in report.obligations
            if o.kind == "attribution_display"
            for phrase in [_phrase(o.clause.quote) or _phrase(o.summary)]
            if phrase
        }
    )
    return {
        "model": markdown(root),
        "front_matter": front_matter(wanted),
        "licenses": licenses,
        "edges": [
            {
                "child": markdown(e.child),
                "parent": markdown(e.parent),
                "relation": e.relation,
                "confidence": f"{e.confidence:.2f}",
            }
            for e in graph.edges
        ],
        "obligations": obligations,
        "attributions": [markdown(a) for a in attributions],
        "notice_lines": [
            markdown(t) for t in dict.fromkeys(o.notice_text for o in report.obligations if o.notice_text)
        ],
        "changes": [
            {"key": c.key, "before": _display(c.before), "after": _display(c.after)}
            for c in changes(evaluation, wanted)
        ],
        "teachers": [markdown(e.parent) for e in graph.parents(graph.root, "distillation")],
        "policy": markdown(report.policy_name),
        "tool_version": report.tool_version,
        "revision": markdown(report.revision or "not recorded"),
        "source": markdown(report.source),
    }


def _phrase(text: str) -> str:
    match = re.search(r"[“\"]([^”\"]{3,80})[”\"]", text)
    return match.group(1) if match else ""


def render_card_section(evaluation: Evaluation) -> str:
    """Front matter to merge into the card, then the Markdown section."""
    text = environment(html=False).get_template("card-section.md.j2").render(card_context(evaluation))
    return text.rstrip("\n") + "\n"
