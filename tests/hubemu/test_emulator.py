"""The emulator answers huggingface_hub 2.4 as the real Hub does: same calls, shapes and error classes."""

from __future__ import annotations

import hashlib
import json
import struct
from pathlib import Path

import httpx2
import pytest
from huggingface_hub import HfApi, hf_hub_download
from huggingface_hub.errors import (
    GatedRepoError,
    RemoteEntryNotFoundError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)
from huggingface_hub.hf_api import RepoFile

from hubemu.repos import RepoStore, safetensors_header, standard_repos
from hubemu.server import HubEmulator


@pytest.fixture
def api(hub: HubEmulator) -> HfApi:
    return HfApi(endpoint=hub.url)


def test_model_info_with_files_metadata(hub: HubEmulator, api: HfApi) -> None:
    info = api.model_info("acme/tiny-llm", files_metadata=True)

    assert info.sha == hub.repo("acme/tiny-llm").sha
    assert {"license:apache-2.0", "base_model:acme/tiny-base", "base_model:finetune:acme/tiny-base"} <= set(
        info.tags or []
    )
    assert info.card_data is not None and info.card_data.license == "apache-2.0"
    assert (
        info.gated is False and info.library_name == "transformers" and info.pipeline_tag == "text-generation"
    )
    assert info.safetensors is not None and info.safetensors.total == 728
    siblings = {s.rfilename: s for s in info.siblings or []}
    weights, config = siblings["model.safetensors"], siblings["config.json"]
    assert weights.lfs is not None and weights.lfs.size == weights.size and len(weights.lfs.sha256) == 64
    assert config.lfs is None and config.blob_id is not None and config.size
    assert hub.log.entries()[-1].path == "/api/models/acme/tiny-llm"
    assert hub.log.entries()[-1].query == {"blobs": ["true"]}


def test_revisions_branch_tag_commit_and_pr(hub: HubEmulator, api: HfApi) -> None:
    repo = hub.repo("acme/tiny-llm")
    tag_sha = repo.tags["v1.0"]

    assert api.model_info("acme/tiny-llm", revision="v1.0").sha == tag_sha
    assert api.model_info("acme/tiny-llm", revision=tag_sha).sha == tag_sha
    assert api.model_info("acme/tiny-llm", revision="refs/pr/1").sha == repo.pulls[1]
    assert tag_sha != repo.sha
    assert "generation_config.json" not in api.list_repo_files("acme/tiny-llm", revision="v1.0")
    refs = api.list_repo_refs("acme/tiny-llm", include_pull_requests=True)
    assert [b.target_commit for b in refs.branches] == [repo.sha]
    assert [(t.name, t.target_commit) for t in refs.tags] == [("v1.0", tag_sha)]
    assert refs.pull_requests is not None and refs.pull_requests[0].ref == "refs/pr/1"
    assert [c.commit_id for c in api.list_repo_commits("acme/tiny-llm")] == [repo.sha, tag_sha]


def test_tree_uses_lfs_oid_and_expands(api: HfApi) -> None:
    entries = {e.path: e for e in api.list_repo_tree("acme/tiny-llm", recursive=True, expand=True)}

    weights = entries["model.safetensors"]
    assert isinstance(weights, RepoFile)
    assert weights.lfs is not None and len(weights.lfs.sha256) == 64  # tree JSON carries it as lfs.oid
    assert weights.last_commit is not None and weights.security is not None
    infos = api.get_paths_info("acme/tiny-llm", ["config.json", "missing.bin"])
    assert [i.path for i in infos] == ["config.json"]


def test_lfs_download_crosses_to_the_cdn_without_the_token(hub: HubEmulator, tmp_path: Path) -> None:
    path = hf_hub_download("acme/tiny-llm", "model.safetensors", token="hf_emulatorTokenValue1234567890")

    data = Path(path).read_bytes()
    blob = hub.repo("acme/tiny-llm").commits[hub.repo("acme/tiny-llm").sha].files["model.safetensors"]
    assert hashlib.sha256(data).hexdigest() == blob.sha256
    head = hub.log.entries(server="hub", method="HEAD")[0]
    assert head.status == 302 and head.headers["authorization"].startswith("Bearer hf_")
    assert [e.status for e in hub.log.entries(server="cdn")] == [200]
    hub.log.assert_no_authorization_on_cdn()


def test_safetensors_metadata_single_and_sharded(api: HfApi) -> None:
    single = api.get_safetensors_metadata("acme/tiny-llm")
    sharded = api.get_safetensors_metadata("acme/sharded-17")

    assert "lm_head.weight" in single.files_metadata["model.safetensors"].tensors
    assert len(sharded.files_metadata) == 17
    assert sorted(sharded.files_metadata)[0] == "model-00001-of-000017.safetensors"
    assert sharded.weight_map["lm_head.weight"] == "model-00017-of-000017.safetensors"


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda api: api.model_info("acme/does-not-exist"), RepositoryNotFoundError),
        (lambda api: api.model_info("acme/tiny-llm", revision="nope"), RevisionNotFoundError),
        (lambda api: hf_hub_download("acme/tiny-llm", "nope.txt"), RemoteEntryNotFoundError),
        (lambda api: hf_hub_download("acme/gated-llama", "config.json"), GatedRepoError),
    ],
)
def test_error_codes_map_to_the_client_classes(api: HfApi, call: object, error: type[Exception]) -> None:
    with pytest.raises(error):
        call(api)  # type: ignore[operator]


def test_gated_repo_metadata_open_files_closed(hub: HubEmulator, api: HfApi) -> None:
    info = api.model_info("acme/gated-llama", files_metadata=True)
    assert info.gated == "manual"

    with pytest.raises(GatedRepoError) as anonymous:
        hf_hub_download("acme/gated-llama", "config.json")
    with pytest.raises(GatedRepoError) as with_token:
        hf_hub_download("acme/gated-llama", "config.json", token="hf_notAcceptedToken000000000000")
    assert anonymous.value.response.status_code == 401
    assert with_token.value.response.status_code == 403

    hub.accept("acme/gated-llama", "hf_acceptedToken0000000000000000")
    assert Path(
        hf_hub_download("acme/gated-llama", "config.json", token="hf_acceptedToken0000000000000000")
    ).is_file()


def test_cdn_honours_range_and_rejects_impossible_ranges(hub: HubEmulator) -> None:
    blob = hub.repo("acme/tiny-llm").commits[hub.repo("acme/tiny-llm").sha].files["model.safetensors"]
    url = f"{hub.cdn_url}/lfs/{blob.sha256}"

    part = httpx2.get(url, headers={"Range": "bytes=0-7"})
    bad = httpx2.get(url, headers={"Range": f"bytes={blob.size + 10}-"})

    assert part.status_code == 206 and part.headers["Content-Range"] == f"bytes 0-7/{blob.size}"
    assert part.content == blob.read(0, 7)
    assert bad.status_code == 416


def test_no_xet_headers_and_commit_headers_present(hub: HubEmulator) -> None:
    response = httpx2.head(f"{hub.url}/acme/tiny-llm/resolve/main/model.safetensors")

    assert response.status_code == 302
    assert not [h for h in response.headers if h.lower().startswith("x-xet")]
    assert response.headers["X-Repo-Commit"] == hub.repo("acme/tiny-llm").sha
    assert response.headers["Location"].startswith(hub.cdn_url)


def test_renamed_repo_redirects(hub: HubEmulator, api: HfApi) -> None:
    hub.rename("acme/old-name", "acme/tiny-llm")

    info = api.model_info("acme/old-name")

    assert info.id == "acme/tiny-llm"
    assert [e.status for e in hub.log.entries()] == [307, 200]


def test_deepseek_fixture_matches_the_real_repo() -> None:
    info = HfApi().model_info("deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B", files_metadata=True)
    readme = Path(hf_hub_download("deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B", "README.md")).read_text()
    config = json.loads(
        Path(hf_hub_download("deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B", "config.json")).read_bytes()
    )

    assert readme.startswith("---\nlicense: mit\nlibrary_name: transformers\n---\n")
    assert (
        "derived from [Qwen-2.5 series]" in readme
        and "originally licensed under [Apache 2.0 License]" in readme
    )
    assert not [t for t in info.tags or [] if t.startswith("base_model:")]
    assert config["rope_theta"] == 10000 and config["tie_word_embeddings"] is False
    assert config["max_position_embeddings"] == 131072


def test_gguf_fixture_is_valid_v3_without_license(hub: HubEmulator) -> None:
    blob = hub.repo("acme/quant-gguf").commits[hub.repo("acme/quant-gguf").sha].files["tiny-qwen2-F32.gguf"]
    data = blob.read()

    magic, version, n_tensors, n_kv = struct.unpack_from("<4sIQQ", data)
    keys, offset = [], 24
    for _ in range(n_kv):
        (length,) = struct.unpack_from("<Q", data, offset)
        keys.append(data[offset + 8 : offset + 8 + length].decode())
        offset += 8 + length
        (kind,) = struct.unpack_from("<I", data, offset)
        offset += 4
        if kind == 8:
            offset += 8 + struct.unpack_from("<Q", data, offset)[0]
        else:
            offset += {4: 4, 6: 4, 10: 8}[kind]
    assert (magic, version, n_tensors) == (b"GGUF", 3, 1)
    assert "general.architecture" in keys and "qwen2.context_length" in keys
    assert not [k for k in keys if k.startswith("general.license")]


def test_fixture_bytes_are_deterministic(tmp_path: Path, hub: HubEmulator) -> None:
    store = RepoStore(tmp_path)
    standard_repos(store)

    for repo_id, repo in store.repos.items():
        assert repo.sha == hub.repo(repo_id).sha, repo_id
    shard = store.repos["acme/sharded-17"].commits[store.repos["acme/sharded-17"].sha].files
    names = set().union(
        *(safetensors_header(b.read()) for p, b in shard.items() if p.endswith(".safetensors"))
    )
    index = json.loads(shard["model.safetensors.index.json"].read())
    assert names - {"__metadata__"} == set(index["weight_map"])
