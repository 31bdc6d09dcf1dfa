"""HubSource against the Hub emulator: the happy path, then every fault of the reliability checklist."""

from __future__ import annotations

import hashlib
import json
import os
import struct
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest
from hubemu.server import HubEmulator

from provenance.errors import (
    GatedRepoError,
    HubError,
    HubUnavailableError,
    InputError,
    LimitExceededError,
    ProvenanceError,
    RateLimitedError,
    RepoNotFoundError,
    RevisionNotFoundError,
)
from provenance.sources.hub import HubSource

E = TypeVar("E", bound=Exception)
SECRET = "hf_PROVENANCEtestSECRET0123456789abcdef"
SHARDS = [f"model-{i:05d}-of-000017.safetensors" for i in range(1, 18)]


def source(repo: str = "acme/tiny-llm", revision: str | None = None, **options: Any) -> HubSource:
    """A HubSource with test-sized timeouts and backoff."""
    settings: dict[str, Any] = {"timeout": 2.0, "backoff": 0.05, "max_attempts": 4, "deadline": 10.0}
    return HubSource(repo, revision, **(settings | options))


def timed(call: Callable[[], Any]) -> tuple[Any, float]:
    start = time.monotonic()
    return call(), time.monotonic() - start


def raises_within(error: type[E], seconds: float, call: Callable[[], Any]) -> tuple[E, float]:
    start = time.monotonic()
    with pytest.raises(error) as caught:
        call()
    elapsed = time.monotonic() - start
    assert elapsed < seconds, f"took {elapsed:.1f} s"
    return caught.value, elapsed


def wait_until(predicate: Callable[[], bool], seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not predicate() and time.monotonic() < deadline:
        time.sleep(0.02)


def facts_of(src: HubSource, kind: str) -> list[Any]:
    return [f.value for f in src.facts() if f.kind == kind]


# --- the happy path -----------------------------------------------------------------------------------------


def test_metadata_files_and_facts(hub: HubEmulator) -> None:
    src = source()

    repo = hub.repo("acme/tiny-llm")
    assert src.info.kind == "hub" and src.info.commit == repo.sha and src.info.canonical_id is None
    files = {f.path: f for f in src.files()}
    assert list(files) == sorted(files)
    weights, config = files["model.safetensors"], files["config.json"]
    blob = repo.commits[repo.sha].files["model.safetensors"]
    assert (weights.lfs_sha256, weights.git_blob_id, weights.present) == (blob.sha256, None, False)
    assert dict(weights.extra)["lfs_pointer_oid"] == blob.blob_id
    assert (
        config.git_blob_id == repo.commits[repo.sha].files["config.json"].git_oid
        and config.lfs_sha256 is None
    )
    assert facts_of(src, "hub.license") == ["apache-2.0"]
    assert {"repo": "acme/tiny-base", "relation": "finetune"} in facts_of(src, "hub.base_model")
    assert facts_of(src, "hub.gated") == [False] and facts_of(src, "hub.sha") == [repo.sha]
    assert facts_of(src, "hub.safetensors_parameters") == [{"parameters": {"F16": 728}, "total": 728}]
    assert facts_of(src, "hub.card_data")[0]["license"] == "apache-2.0"
    origin = next(f.origin for f in src.facts() if f.kind == "hub.license")
    assert (
        origin.location == f"{hub.url}/api/models/acme/tiny-llm/revision/{repo.sha}"
        and origin.detail == "tags"
    )
    json.dumps([f.to_json() for f in src.facts()])  # every fact value is JSON


def test_reads_are_pinned_to_the_resolved_commit(hub: HubEmulator) -> None:
    repo = hub.add_repo("acme/moving", {"config.json": b'{"v": 1}\n', "README.md": b"# one\n"})
    src = source("acme/moving")
    repo.commit({"config.json": b'{"v": 2}\n'})  # main moves after the scan started

    assert src.read("config.json", 1000) == b'{"v": 1}\n'
    assert all(repo.sha not in e.path for e in hub.log.entries(server="hub"))


def test_tag_revision_and_second_read_from_cache(hub: HubEmulator) -> None:
    src = source(revision="v1.0")
    assert src.info.commit == hub.repo("acme/tiny-llm").tags["v1.0"]
    assert "generation_config.json" not in {f.path for f in src.files()}

    first = src.read("README.md", 10_000)
    requests = hub.log.count()
    second = src.read("README.md", 10_000)

    assert first == second and b"license: apache-2.0" in first
    assert hub.log.count() == requests  # commit-pinned and cached: no request at all


def test_read_prefix_is_one_range_request(hub: HubEmulator) -> None:
    src = source()
    hub.log.clear()

    prefix = src.read_prefix("model.safetensors", 8)

    assert len(prefix) == 8 and struct.unpack("<Q", prefix)[0] > 0
    (get,) = hub.log.entries(server="hub")
    (cdn,) = hub.log.entries(server="cdn")
    assert get.range == cdn.range == "bytes=0-7"
    assert (get.status, cdn.status, cdn.bytes_sent) == (302, 206, 8)


def test_read_prefix_longer_than_the_file_is_not_an_error(hub: HubEmulator) -> None:
    src = source()
    size = next(f.size for f in src.files() if f.path == "model.safetensors")

    assert len(src.read_prefix("model.safetensors", 1_000_000)) == size


def test_read_limit_checked_before_any_download(hub: HubEmulator) -> None:
    src = source()
    hub.log.clear()

    with pytest.raises(LimitExceededError, match="over the 100-byte read cap"):
        src.read("model.safetensors", 100)
    with pytest.raises(InputError, match="not a file of this snapshot"):
        src.read("nope.txt", 100)
    assert hub.log.count() == 0


def test_sharded_headers_cost_one_range_request_per_shard(hub: HubEmulator) -> None:
    src = source("acme/sharded-17")
    index = json.loads(src.read("model.safetensors.index.json", 1_000_000))
    hub.log.clear()

    names: set[str] = set()
    for shard in SHARDS:
        prefix = src.read_prefix(shard, 16 * 1024)
        (length,) = struct.unpack("<Q", prefix[:8])
        names |= set(json.loads(prefix[8 : 8 + length])) - {"__metadata__"}

    assert names == set(index["weight_map"])
    total = sum(f.size or 0 for f in src.files() if f.path in SHARDS)
    for shard in SHARDS:
        hub_gets = hub.log.entries(server="hub", file=shard)
        cdn_gets = hub.log.entries(server="cdn", file=shard)
        assert [(e.method, e.range) for e in hub_gets] == [("GET", "bytes=0-16383")]
        assert [(e.status, e.range) for e in cdn_gets] == [(206, "bytes=0-16383")]
    assert hub.log.count() == 2 * len(SHARDS)
    assert hub.log.bytes_sent(server="cdn") == 17 * 16 * 1024 < total / 10
    assert src.findings() == []


def test_deepseek_distill_declares_mit_and_no_base_model() -> None:
    src = source("deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B")

    assert facts_of(src, "hub.license") == ["mit"]
    assert facts_of(src, "hub.base_model") == []
    card = src.read("README.md", 100_000).decode()
    assert "derived from [Qwen-2.5 series]" in card
    assert json.loads(src.read("config.json", 100_000))["model_type"] == "qwen2"


def test_gguf_repo_base_model_is_quantized_and_unlicensed() -> None:
    src = source("acme/quant-gguf")

    assert facts_of(src, "hub.license") == []
    assert facts_of(src, "hub.base_model")[0] == {
        "repo": "deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B",
        "relation": "quantized",
    }
    assert src.read_prefix("tiny-qwen2-F32.gguf", 4) == b"GGUF"


def test_cached_blob_that_no_longer_matches_gives_a_finding(hub: HubEmulator) -> None:
    src = source()
    path = src.read("config.json", 10_000)
    cached = next((Path(os.environ["HF_HOME"]) / "hub").rglob("snapshots/*/config.json"))
    Path(os.path.realpath(cached)).write_bytes(path.replace(b"llama", b"llamb"))

    src.read("config.json", 10_000)

    (finding,) = src.findings()
    assert finding.rule_id == "hub.hash-mismatch" and "config.json" in finding.message


# --- not found, gated ---------------------------------------------------------------------------------------


def test_repo_not_found(hub: HubEmulator) -> None:
    with pytest.raises(RepoNotFoundError, match="not found or private"):
        source("acme/does-not-exist")
    hub.faults.not_found("repo", repo="acme/tiny-llm")
    with pytest.raises(RepoNotFoundError, match="acme/tiny-llm: not found or private"):
        source()
    assert hub.log.count() == 2  # answers, not outages: never retried


def test_revision_not_found_names_the_revision() -> None:
    with pytest.raises(RevisionNotFoundError, match="revision 'no-such-branch' not found"):
        source(revision="no-such-branch")


def test_file_404_on_read_and_read_prefix(hub: HubEmulator) -> None:
    src = source()
    hub.faults.not_found("file", repo="acme/tiny-llm")

    with pytest.raises(HubError, match="EntryNotFound"):
        src.read("config.json", 10_000)
    with pytest.raises(HubError, match="EntryNotFound"):
        src.read_prefix("model.safetensors", 8)


@pytest.mark.parametrize(("token", "status"), [(None, 401), (SECRET, 403)])
def test_gated_repo_reports_metadata_and_refuses_files(
    hub: HubEmulator, monkeypatch: pytest.MonkeyPatch, token: str | None, status: int
) -> None:
    if token:
        monkeypatch.setenv("HF_TOKEN", token)
    src = source("acme/gated-llama")

    assert facts_of(src, "hub.gated") == ["manual"] and facts_of(src, "hub.license") == ["llama3.2"]
    reads: list[Callable[[], bytes]] = [
        lambda: src.read("config.json", 10_000),
        lambda: src.read_prefix("model.safetensors", 8),
    ]
    for read in reads:
        with pytest.raises(GatedRepoError) as caught:
            read()
        assert f"HTTP {status}" in caught.value.problem
        assert f"{hub.url}/acme/gated-llama" in caught.value.hint and "HF_TOKEN" in caught.value.hint


def test_gated_repo_with_an_accepted_token(hub: HubEmulator, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_TOKEN", SECRET)
    hub.accept("acme/gated-llama", SECRET)

    assert b"llama" in source("acme/gated-llama").read("config.json", 10_000)


def test_gated_fault_on_a_public_repo(hub: HubEmulator) -> None:
    src = source()
    hub.faults.gated(repo="acme/tiny-llm", status=403)

    with pytest.raises(GatedRepoError, match="HTTP 403"):
        src.read("config.json", 10_000)


# --- rate limits, 5xx, slow and hung servers ----------------------------------------------------------------


def test_429_retry_after_1_then_200(hub: HubEmulator) -> None:
    hub.faults.rate_limit(1, times=1, where="api")

    src, elapsed = timed(source)

    assert src.info.commit == hub.repo("acme/tiny-llm").sha
    assert elapsed >= 1.0
    assert [e.status for e in hub.log.entries()] == [429, 200]


def test_429_plain_retry_after_header_is_honoured(hub: HubEmulator) -> None:
    hub.faults.rate_limit(1, ratelimit=False, times=1, where="resolve")
    src = source()

    data, elapsed = timed(lambda: src.read("config.json", 10_000))

    assert b"llama" in data and elapsed >= 1.0


def test_retry_after_3600_stops_at_once(hub: HubEmulator) -> None:
    hub.faults.rate_limit(3600, where="api")

    error, _ = raises_within(RateLimitedError, 1.0, source)

    assert "rate limited (Retry-After 3600 s exceeds our cap of 30 s)" in str(error)
    assert hub.log.count() == 1


def test_repeated_429_stops_at_the_attempt_cap(hub: HubEmulator) -> None:
    hub.faults.rate_limit(1, where="api")

    error, elapsed = raises_within(RateLimitedError, 4.0, lambda: source(max_attempts=3))

    assert "still answered 429 after 3 attempt(s)" in str(error)
    assert hub.log.count() == 3 and elapsed >= 2.0


def test_repeated_429_stops_at_the_deadline(hub: HubEmulator) -> None:
    hub.faults.rate_limit(1, where="api")

    raises_within(RateLimitedError, 2.5, lambda: source(max_attempts=10, deadline=1.5))

    assert hub.log.count() == 2


def test_5xx_burst_then_200(hub: HubEmulator) -> None:
    hub.faults.server_error(503, times=2, where="api")

    src = source()

    assert src.info.commit is not None
    assert [e.status for e in hub.log.entries()] == [503, 503, 200]


def test_5xx_on_file_reads_is_retried(hub: HubEmulator) -> None:
    src = source()
    hub.faults.server_error(500, times=1, where="resolve")
    hub.faults.server_error(502, times=1, where="cdn")

    assert b"llama" in src.read("config.json", 10_000)
    assert len(src.read_prefix("model.safetensors", 8)) == 8


def test_permanent_5xx_fails_after_max_attempts_within_the_deadline(hub: HubEmulator) -> None:
    hub.faults.server_error(502, where="api")

    error, _ = raises_within(HubUnavailableError, 3.0, lambda: source(max_attempts=3, deadline=3.0))

    assert "HTTP 502" in error.problem and "after 3 attempt(s)" in error.problem
    assert hub.log.count() == 3


def test_slow_server_under_the_timeout_succeeds(hub: HubEmulator) -> None:
    hub.faults.delay(0.5, where="api")

    src, elapsed = timed(lambda: source(timeout=2.0))

    assert src.info.commit is not None and elapsed >= 0.5


def test_hung_server_times_out(hub: HubEmulator) -> None:
    hub.faults.hang(where="api")

    error, _ = raises_within(HubUnavailableError, 1.0 + 0.8, lambda: source(timeout=1.0, max_attempts=1))

    assert "timeout" in error.problem


def test_hung_server_with_retries_stays_within_the_deadline(hub: HubEmulator) -> None:
    hub.faults.hang(where="api")

    raises_within(HubUnavailableError, 2.0 + 0.8, lambda: source(timeout=1.0, max_attempts=4, deadline=2.0))


def test_hung_cdn_on_read_prefix(hub: HubEmulator) -> None:
    src = source(timeout=1.0, max_attempts=1)
    hub.faults.hang(where="cdn")

    raises_within(HubUnavailableError, 1.8, lambda: src.read_prefix("model.safetensors", 8))


# --- broken bodies ------------------------------------------------------------------------------------------


def test_truncated_body_on_read_prefix(hub: HubEmulator) -> None:
    src = source(max_attempts=2)
    hub.faults.truncate(where="cdn")

    with pytest.raises(HubUnavailableError, match=r"incomplete download of model\.safetensors"):
        src.read_prefix("model.safetensors", 1000)


def test_truncated_once_on_read_prefix_is_retried(hub: HubEmulator) -> None:
    src = source()
    hub.faults.truncate(where="cdn", times=1)

    assert len(src.read_prefix("model.safetensors", 1000)) == 1000
    assert hub.log.count(server="cdn") == 2


def test_truncated_body_on_read_never_returns_a_partial_file(hub: HubEmulator) -> None:
    src = source()
    hub.faults.truncate(where="resolve", method="GET", path="config.json", at=100)

    with pytest.raises(HubUnavailableError, match="incomplete download"):
        src.read("config.json", 10_000)
    cache = Path(os.environ["HF_HOME"]) / "hub"
    assert not list(cache.rglob("*.incomplete")) and not list(cache.rglob("snapshots/*/config.json"))


def test_truncated_once_on_read_is_resumed_to_the_full_file(hub: HubEmulator) -> None:
    src = source()
    hub.faults.truncate(where="resolve", method="GET", path="config.json", times=1)

    data = src.read("config.json", 10_000)

    repo = hub.repo("acme/tiny-llm")
    assert data == repo.commits[repo.sha].files["config.json"].read()
    assert src.findings() == []


def test_server_ignoring_range_is_read_only_to_the_prefix(hub: HubEmulator) -> None:
    size = 8 * 1024 * 1024
    hub.add_repo("acme/big-weights", {"model.safetensors": bytes(range(256)) * (size // 256)})
    src = source("acme/big-weights")
    hub.faults.ignore_range()
    hub.log.clear()

    prefix = src.read_prefix("model.safetensors", 65536)

    assert prefix == (bytes(range(256)) * 256)
    wait_until(lambda: hub.log.count(server="cdn") == 1)
    (cdn,) = hub.log.entries(server="cdn")
    assert cdn.status == 200 and cdn.range == "bytes=0-65535"
    assert hub.log.count(server="hub") == 1
    assert hub.log.bytes_sent(server="cdn") < 1024 * 1024  # of 8 MiB; the rest is socket buffers
    (finding,) = src.findings()
    assert finding.rule_id == "hub.range-ignored" and "model.safetensors" in finding.message


# --- renamed repos, malformed answers, unsafe paths ---------------------------------------------------------


def test_renamed_repo_reports_the_canonical_id(hub: HubEmulator) -> None:
    hub.rename("acme/old-llm", "acme/tiny-llm")

    src = source("acme/old-llm", requested="acme/old-llm")

    assert (src.info.repo_id, src.info.canonical_id) == ("acme/old-llm", "acme/tiny-llm")
    assert "renamed" in src.info.notes[0]
    assert b"llama" in src.read("config.json", 10_000)


def test_malformed_json_names_the_endpoint(hub: HubEmulator) -> None:
    hub.faults.malformed_json(repo="acme/tiny-llm")

    with pytest.raises(HubError, match=r"malformed answer from .*/api/models/acme/tiny-llm") as caught:
        source()

    assert type(caught.value) is HubError and hub.log.count() == 1
    assert "KeyError" not in caught.value.diagnostics()


@pytest.mark.parametrize(
    ("key", "words"), [("sha", "no commit hash ('sha')"), ("siblings", "'siblings' missing")]
)
def test_missing_sha_or_siblings(hub: HubEmulator, key: str, words: str) -> None:
    hub.faults.drop_keys(key)

    with pytest.raises(HubError) as caught:
        source()

    assert words in caught.value.problem and "/api/models/acme/tiny-llm" in caught.value.problem


def test_invalid_canonical_id_is_refused(hub: HubEmulator) -> None:
    hub.repo("acme/tiny-llm").extra_info["id"] = "../../etc"
    try:
        with pytest.raises(HubError, match=r"invalid repo id '\.\./\.\./etc'"):
            source()
    finally:
        del hub.repo("acme/tiny-llm").extra_info["id"]


def test_missing_id_is_a_malformed_answer(hub: HubEmulator) -> None:
    hub.faults.drop_keys("id")

    with pytest.raises(HubError, match="unexpected shape"):
        source()


def test_unsafe_sibling_paths_are_rejected_by_name(hub: HubEmulator) -> None:
    hub.faults.extra_entries("../../x", "/etc/passwd", "a\\b", "ok/../../y")

    src = source()

    paths = {f.path for f in src.files()}
    assert not {"../../x", "/etc/passwd", "a\\b", "ok/../../y"} & paths and "config.json" in paths
    rejected = [f for f in src.findings() if f.rule_id == "hub.unsafe-path"]
    assert len(rejected) == 4 and "'../../x'" in rejected[0].message


# --- offline, tokens ----------------------------------------------------------------------------------------


def test_offline_mode_fails_at_once_without_a_request(
    hub: HubEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")

    with pytest.raises(HubUnavailableError, match="offline mode"):
        source()
    assert hub.log.count() == 0


def test_authorization_reaches_the_hub_but_never_the_cdn(
    hub: HubEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_TOKEN", SECRET)
    src = source()

    src.read_prefix("model.safetensors", 8)
    src.read("model.safetensors", 1_000_000)

    assert hub.log.authorization_values("hub") and set(hub.log.authorization_values("hub")) == {
        f"Bearer {SECRET}"
    }
    assert hub.log.count(server="cdn") == 2
    hub.log.assert_no_authorization_on_cdn()


def test_token_never_appears_in_errors_or_findings(hub: HubEmulator, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_TOKEN", SECRET)
    texts: list[str] = []

    def collect(call: Callable[[], Any], *faults: Callable[[], Any]) -> None:
        hub.reset()
        for fault in faults:
            fault()
        try:
            call()
        except ProvenanceError as exc:
            texts.extend([str(exc), exc.problem, exc.hint, exc.diagnostics(), repr(exc), str(exc.__cause__)])
        else:
            pytest.fail(f"{call} did not fail")

    fast: dict[str, Any] = {"timeout": 1.0, "max_attempts": 2, "deadline": 2.0}
    collect(lambda: source("acme/nope", **fast))
    collect(lambda: source(revision="nope", **fast))
    collect(lambda: source("acme/gated-llama", **fast).read("config.json", 10_000))
    collect(lambda: source("acme/gated-llama", **fast).read_prefix("model.safetensors", 8))
    collect(lambda: source(**fast), lambda: hub.faults.rate_limit(3600))
    collect(lambda: source(**fast), lambda: hub.faults.rate_limit(0))
    collect(lambda: source(**fast), lambda: hub.faults.server_error(503))
    collect(lambda: source(**fast), hub.faults.hang)
    collect(lambda: source(**fast), hub.faults.malformed_json)
    collect(lambda: source(**fast), lambda: hub.faults.drop_keys("sha"))
    collect(
        lambda: source(**fast).read_prefix("model.safetensors", 100), lambda: hub.faults.truncate(where="cdn")
    )
    collect(lambda: source(**fast).read("config.json", 10_000), lambda: hub.faults.not_found("file"))
    collect(lambda: source(**fast).read("config.json", 10), lambda: None)
    hub.reset()
    hub.faults.extra_entries(f"../{SECRET}")
    hub.faults.ignore_range()
    src = source(**fast)
    src.read_prefix("model.safetensors", 8)
    texts += [json.dumps(f.to_json()) for f in src.findings()] + [
        json.dumps(f.to_json()) for f in src.facts()
    ]

    assert len(texts) > 60 and any("hub.unsafe-path" in t for t in texts)
    assert [t for t in texts if SECRET in t] == []
    assert any(e.headers.get("authorization") == f"Bearer {SECRET}" for e in hub.log.entries(server="hub"))


def test_explicit_token_argument_is_used_and_scrubbed_from_server_messages(hub: HubEmulator) -> None:
    hub.faults.status(400, message=f"bad request, you sent {SECRET}")

    with pytest.raises(HubError, match="HTTP 400") as caught:
        source(token=SECRET, max_attempts=1)

    assert "you sent ***" in caught.value.diagnostics() and SECRET not in caught.value.diagnostics()
    assert hub.log.authorization_values("hub") == [f"Bearer {SECRET}"]


def test_hash_of_pointer_is_not_mistaken_for_content(hub: HubEmulator) -> None:
    src = source()
    data = src.read("model.safetensors", 1_000_000)

    weights = next(f for f in src.files() if f.path == "model.safetensors")
    assert hashlib.sha256(data).hexdigest() == weights.lfs_sha256
    assert src.findings() == []
