"""Whole scans of Hub repos through the emulator: the real huggingface_hub client, nothing patched."""

from __future__ import annotations

import pytest

from provenance.errors import GatedRepoError, HubError, RepoNotFoundError, RevisionNotFoundError
from provenance.scan import scan


def test_sharded_17_costs_one_range_read_per_shard_and_no_weight_download(hub) -> None:  # type: ignore[no-untyped-def]
    report = scan("acme/sharded-17")
    shards = [f for f in report.files if f.kind == "safetensors"]
    assert len(shards) == 17
    assert all(f.status == "header read" for f in shards)
    weight_bytes = 0
    for shard in shards:
        # one range request per shard: the Hub answers it with a redirect, the CDN with the bytes
        hub_gets = hub.log.entries(server="hub", method="GET", file=shard.entry.path)
        cdn_gets = [e for e in hub.log.entries(server="cdn", method="GET") if e.file == shard.entry.path]
        assert len(hub_gets) == 1 and hub_gets[0].status == 302, [(e.path, e.status) for e in hub_gets]
        assert len(cdn_gets) == 1, [(e.path, e.range) for e in cdn_gets]
        assert cdn_gets[0].range is not None and cdn_gets[0].range.startswith("bytes=0-")
        weight_bytes += cdn_gets[0].bytes_sent
    total_size = sum(f.entry.size or 0 for f in shards)
    header_bytes = sum(f.summary["header_size"] + 8 for f in shards)
    assert weight_bytes <= total_size
    assert weight_bytes < total_size or header_bytes == total_size
    assert not any(f.rule_id.startswith("safetensors.") for f in report.findings)
    print(
        f"17-shard scan: {hub.log.count()} requests, {hub.log.bytes_sent()} bytes sent, "
        f"weights {weight_bytes} bytes"
    )


def test_deepseek_distill_fixture_facts(hub) -> None:  # type: ignore[no-untyped-def]
    report = scan("deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B")
    assert report.target.kind == "hub"
    assert report.target.commit is not None and len(report.target.commit) == 40
    assert report.first("card.license") == "mit"
    assert report.first("config.model_type") == "qwen2"
    assert report.card_body is not None and "Apache 2.0" in report.card_body
    card = report.facts_of("card.license")[0]
    assert card.origin.source == "hub" and card.origin.location == "README.md"


def test_revision_pins_every_read(hub) -> None:  # type: ignore[no-untyped-def]
    report = scan("acme/tiny-llm@v1.0")
    assert report.target.revision == "v1.0"
    commit = report.target.commit
    resolves = [e for e in hub.log.entries(server="hub") if "/resolve/" in e.path]
    assert resolves and all(f"/resolve/{commit}/" in e.path for e in resolves)


def test_gguf_repo_without_license(hub) -> None:  # type: ignore[no-untyped-def]
    report = scan("acme/quant-gguf")
    rules = {f.rule_id for f in report.findings}
    assert "gguf.no-license" in rules
    assert report.first("gguf.general.architecture") == "qwen2"


@pytest.mark.parametrize(
    ("target", "fault", "error"),
    [
        ("acme/nope", None, RepoNotFoundError),
        ("acme/tiny-llm@no-such-branch", None, RevisionNotFoundError),
    ],
    ids=["repo-404", "revision-404"],
)
def test_hub_answers_are_errors_not_fallbacks(
    hub, target: str, fault: str | None, error: type[HubError]
) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(error):
        scan(target)


def test_gated_repo_reports_public_metadata(hub) -> None:  # type: ignore[no-untyped-def]
    report = scan("acme/gated-llama")
    assert report.first("hub.gated") in ("manual", "auto", True)
    gated = [f for f in report.findings if f.rule_id == "hub.gated-file"]
    assert gated, report.findings
    assert any("huggingface" in f.fix or "/acme/gated-llama" in f.fix for f in gated)
    assert issubclass(GatedRepoError, HubError)
