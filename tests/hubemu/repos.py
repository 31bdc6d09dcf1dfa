"""Fixture repos for the Hub emulator: real files with deterministic bytes, and the JSON the Hub computes.

A repo is built from a plain `{path: bytes}` mapping (`RepoStore.add`). Bytes are written once to a
content-addressed folder on disk; commits, branches, tags and PR refs point at them. What the real Hub
computes server-side (tags such as `license:mit` and `base_model:finetune:org/name`, `cardData`, `config`,
`safetensors` parameter counts, siblings with `blobId`/`lfs`) is derived here from the files, so a new
fixture repo needs nothing but its files.

`standard_repos(store)` builds the repos every test can rely on (see its docstring).
"""

from __future__ import annotations

import hashlib
import json
import re
import struct
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from safetensors.numpy import save as save_safetensors

LFS_SUFFIXES = (
    ".safetensors",
    ".gguf",
    ".bin",
    ".pt",
    ".pth",
    ".ckpt",
    ".h5",
    ".msgpack",
    ".onnx",
    ".npz",
    ".zip",
)
LFS_SIZE_THRESHOLD = 10 * 1024 * 1024
_FRONT_MATTER = re.compile(r"\A\ufeff?---\r?\n(.*?)\r?\n---\s*(?:\r?\n|\Z)", re.DOTALL)
_BASE_DATE = "2025-01-20T09:{:02d}:00.000Z"


def git_blob_oid(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


@dataclass(frozen=True)
class Blob:
    """One file's content, stored on disk under its sha256."""

    path: Path
    size: int
    sha256: str
    git_oid: str
    lfs: bool

    @property
    def pointer(self) -> bytes:
        spec = "version https://git-lfs.github.com/spec/v1"
        return f"{spec}\noid sha256:{self.sha256}\nsize {self.size}\n".encode()

    @property
    def blob_id(self) -> str:
        """The Hub's `blobId`/`oid`: git oid of the pointer for LFS files, of the content otherwise."""
        return git_blob_oid(self.pointer) if self.lfs else self.git_oid

    @property
    def etag(self) -> str:
        return self.sha256 if self.lfs else self.git_oid

    def read(self, start: int = 0, end: int | None = None) -> bytes:
        """Bytes `start..end` inclusive (the whole file by default)."""
        stop = self.size if end is None else end + 1
        with self.path.open("rb") as fh:
            fh.seek(start)
            return fh.read(max(0, stop - start))


@dataclass
class Commit:
    sha: str
    parent: str | None
    title: str
    date: str
    files: dict[str, Blob]


@dataclass
class Repo:
    """A model repo: commits and refs, plus switches (gated, private) the server honours."""

    repo_id: str
    commits: dict[str, Commit] = field(default_factory=dict)
    branches: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    pulls: dict[int, str] = field(default_factory=dict)
    gated: bool | str = False
    private: bool = False
    accepted_tokens: set[str] = field(default_factory=set)
    extra_info: dict[str, Any] = field(default_factory=dict)
    store: RepoStore | None = None

    @property
    def sha(self) -> str:
        """The commit `main` points at."""
        return self.branches["main"]

    def resolve(self, revision: str) -> Commit | None:
        """Branch, tag, `refs/heads/x`, `refs/tags/x`, `refs/pr/N`, or a full 40-hex commit."""
        rev = revision.removeprefix("refs/heads/")
        if rev in self.branches:
            return self.commits[self.branches[rev]]
        rev = rev.removeprefix("refs/tags/")
        if rev in self.tags:
            return self.commits[self.tags[rev]]
        pr = re.fullmatch(r"refs/pr/(\d+)", revision)
        if pr and int(pr.group(1)) in self.pulls:
            return self.commits[self.pulls[int(pr.group(1))]]
        return self.commits.get(revision)

    def commit(
        self,
        files: Mapping[str, bytes | None],
        *,
        branch: str = "main",
        tag: str | None = None,
        pr: int | None = None,
        title: str = "Update files",
        lfs: Iterable[str] = (),
    ) -> Commit:
        """A new commit on `branch` (or PR `pr`): the parent's files updated by `files` (None deletes)."""
        assert self.store is not None
        parent = self.commits.get(self.branches.get(branch, ""))
        tree = dict(parent.files) if parent else {}
        forced = set(lfs)
        for path, data in files.items():
            if data is None:
                tree.pop(path, None)
            else:
                tree[path] = self.store.blob(data, lfs=path in forced or is_lfs_path(path, len(data)))
        sha = _commit_sha(self.repo_id, parent.sha if parent else None, title, tree)
        new = Commit(
            sha, parent.sha if parent else None, title, _BASE_DATE.format(len(self.commits) % 60), tree
        )
        self.commits[sha] = new
        if pr is not None:
            self.pulls[pr] = sha
        else:
            self.branches[branch] = sha
        if tag is not None:
            self.tags[tag] = sha
        return new

    def model_info(self, commit: Commit, *, blobs: bool) -> dict[str, Any]:
        """The JSON of `GET /api/models/{id}[/revision/{rev}][?blobs=true]`."""
        return hub_info(self, commit, blobs=blobs)


def is_lfs_path(path: str, size: int) -> bool:
    return path.endswith(LFS_SUFFIXES) or size > LFS_SIZE_THRESHOLD


def _commit_sha(repo_id: str, parent: str | None, title: str, tree: Mapping[str, Blob]) -> str:
    lines = [f"repo {repo_id}", f"parent {parent}", f"title {title}"]
    lines += [f"{path} {blob.blob_id}" for path, blob in sorted(tree.items())]
    return hashlib.sha1("\n".join(lines).encode(), usedforsecurity=False).hexdigest()


class RepoStore:
    """All fixture repos, their blobs stored once under `root/blobs/<sha256>`."""

    def __init__(self, root: Path) -> None:
        self.root = root
        (root / "blobs").mkdir(parents=True, exist_ok=True)
        self.repos: dict[str, Repo] = {}

    def blob(self, data: bytes, *, lfs: bool) -> Blob:
        sha = hashlib.sha256(data).hexdigest()
        path = self.root / "blobs" / sha
        if not path.exists():
            path.write_bytes(data)
        return Blob(path, len(data), sha, git_blob_oid(data), lfs)

    def add(
        self,
        repo_id: str,
        files: Mapping[str, bytes],
        *,
        gated: bool | str = False,
        private: bool = False,
        extra_info: Mapping[str, Any] | None = None,
        tag: str | None = None,
        lfs: Iterable[str] = (),
    ) -> Repo:
        """A new repo whose `main` holds `files` (replaces one of that id); `extra_info` overrides keys."""
        repo = Repo(repo_id, gated=gated, private=private, extra_info=dict(extra_info or {}), store=self)
        repo.commit(files, tag=tag, title="Initial commit", lfs=lfs)
        self.repos[repo_id] = repo
        return repo

    def get(self, repo_id: str) -> Repo | None:
        return self.repos.get(repo_id)


# --- -----------------------------------------------------------------------------------------------
# What the Hub computes about a commit


def front_matter(blob: Blob | None) -> dict[str, Any] | None:
    if blob is None:
        return None
    match = _FRONT_MATTER.match(blob.read().decode("utf-8", "replace"))
    if not match:
        return None
    data = yaml.safe_load(match.group(1))
    return data if isinstance(data, dict) else None


def _json_file(blob: Blob | None) -> dict[str, Any] | None:
    if blob is None:
        return None
    try:
        data = json.loads(blob.read())
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def safetensors_header(data: bytes) -> dict[str, Any]:
    (length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + length])
    if not isinstance(header, dict):
        raise ValueError("safetensors header is not an object")
    return header


def _parameter_counts(files: Mapping[str, Blob]) -> dict[str, Any] | None:
    counts: dict[str, int] = {}
    for path, blob in files.items():
        if not path.endswith(".safetensors"):
            continue
        head = blob.read(0, 7)
        try:
            header = safetensors_header(head + blob.read(8, 7 + min(struct.unpack("<Q", head)[0], blob.size)))
        except (struct.error, ValueError):
            continue  # not a valid safetensors file: the Hub counts nothing for it either
        for name, tensor in header.items():
            if name != "__metadata__":
                counts[tensor["dtype"]] = counts.get(tensor["dtype"], 0) + int(
                    np.prod(tensor["shape"], dtype=np.int64)
                )
    return {"parameters": counts, "total": sum(counts.values())} if counts else None


def _as_list(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []


def _hub_tags(
    card: Mapping[str, Any], files: Mapping[str, Blob], config: Mapping[str, Any] | None
) -> list[str]:
    tags: list[str] = []
    library = _library_name(card, files)
    if library:
        tags.append(library)
    if any(p.endswith(".safetensors") for p in files):
        tags.append("safetensors")
    if any(p.endswith(".gguf") for p in files):
        tags.append("gguf")
    if config and isinstance(config.get("model_type"), str):
        tags.append(config["model_type"])
    pipeline = _pipeline_tag(card, config)
    if pipeline:
        tags.append(pipeline)
    tags += _as_list(card.get("tags"))
    relation = card.get("base_model_relation") or _inferred_relation(files)
    for base in _as_list(card.get("base_model")):
        tags += [f"base_model:{base}", f"base_model:{relation}:{base}"]
    tags += [f"license:{lic}" for lic in _as_list(card.get("license"))]
    tags.append("region:us")
    return list(dict.fromkeys(tags))


def _inferred_relation(files: Mapping[str, Blob]) -> str:
    if "adapter_config.json" in files:
        return "adapter"
    if any(p.endswith(".gguf") for p in files):
        return "quantized"
    return "finetune"


def _library_name(card: Mapping[str, Any], files: Mapping[str, Blob]) -> str | None:
    if isinstance(card.get("library_name"), str):
        return str(card["library_name"])
    if "config.json" in files:
        return "transformers"
    return "gguf" if any(p.endswith(".gguf") for p in files) else None


def _pipeline_tag(card: Mapping[str, Any], config: Mapping[str, Any] | None) -> str | None:
    if isinstance(card.get("pipeline_tag"), str):
        return str(card["pipeline_tag"])
    archs = _as_list((config or {}).get("architectures"))
    return "text-generation" if any(a.endswith("ForCausalLM") for a in archs) else None


def sibling(path: str, blob: Blob, *, blobs: bool) -> dict[str, Any]:
    entry: dict[str, Any] = {"rfilename": path}
    if blobs:
        entry["blobId"] = blob.blob_id
        entry["size"] = blob.size
        if blob.lfs:
            entry["lfs"] = {"sha256": blob.sha256, "size": blob.size, "pointerSize": len(blob.pointer)}
    return entry


def hub_info(repo: Repo, commit: Commit, *, blobs: bool) -> dict[str, Any]:
    files = commit.files
    card = front_matter(files.get("README.md"))
    config = _json_file(files.get("config.json"))
    info: dict[str, Any] = {
        "_id": hashlib.sha1(repo.repo_id.encode(), usedforsecurity=False).hexdigest()[:24],
        "id": repo.repo_id,
        "modelId": repo.repo_id,
        "author": repo.repo_id.split("/")[0],
        "sha": commit.sha,
        "lastModified": commit.date,
        "createdAt": _BASE_DATE.format(0),
        "private": repo.private,
        "gated": repo.gated,
        "disabled": False,
        "downloads": 0,
        "likes": 0,
        "library_name": _library_name(card or {}, files),
        "pipeline_tag": _pipeline_tag(card or {}, config),
        "tags": _hub_tags(card or {}, files, config),
        "siblings": [sibling(p, b, blobs=blobs) for p, b in sorted(files.items())],
        "spaces": [],
        "usedStorage": sum(b.size for b in files.values()),
    }
    if card is not None:
        info["cardData"] = card
    if config is not None:
        info["config"] = {k: config[k] for k in ("architectures", "model_type") if k in config}
    params = _parameter_counts(files)
    if params:
        info["safetensors"] = params
    info.update(repo.extra_info)
    return {k: v for k, v in info.items() if v is not None}


def tree_entries(
    commit: Commit, prefix: str, *, recursive: bool, expand: bool
) -> list[dict[str, Any]] | None:
    """The `/tree/{rev}/{prefix}` listing; None when `prefix` is neither a folder nor a file."""
    prefix = prefix.strip("/")
    base = f"{prefix}/" if prefix else ""
    if prefix in commit.files:
        return [_file_entry(prefix, commit.files[prefix], commit, expand)]
    entries: dict[str, dict[str, Any]] = {}
    for path, blob in sorted(commit.files.items()):
        if not path.startswith(base):
            continue
        rest = path[len(base) :].split("/")
        for depth in range(1, len(rest)):
            folder = base + "/".join(rest[:depth])
            if recursive or depth == 1:
                entries.setdefault(
                    folder, {"type": "directory", "oid": git_blob_oid(folder.encode()), "path": folder}
                )
            if not recursive:
                break
        if recursive or len(rest) == 1:
            entries[path] = _file_entry(path, blob, commit, expand)
    if not entries and prefix:
        return None
    return [entries[k] for k in sorted(entries)]


def _file_entry(path: str, blob: Blob, commit: Commit, expand: bool) -> dict[str, Any]:
    entry: dict[str, Any] = {"type": "file", "oid": blob.blob_id, "size": blob.size, "path": path}
    if blob.lfs:
        entry["lfs"] = {"oid": blob.sha256, "size": blob.size, "pointerSize": len(blob.pointer)}
    if expand:
        entry["lastCommit"] = {"id": commit.sha, "title": commit.title, "date": commit.date}
        entry["securityFileStatus"] = {
            "status": "safe",
            "avScan": {"virusFound": False, "virusNames": None},
            "pickleImportScan": None,
        }
    return entry


# --- -----------------------------------------------------------------------------------------------
# File builders


def tensors_file(shapes: Mapping[str, tuple[int, ...]], dtype: str = "float16") -> bytes:
    """A real safetensors file: deterministic values, one metadata key (more would make the bytes random)."""
    arrays = {}
    for index, (name, shape) in enumerate(shapes.items()):
        count = int(np.prod(shape, dtype=np.int64))
        values = (np.arange(count, dtype=np.float32) % 97 + index) / 128.0
        arrays[name] = values.reshape(shape).astype(dtype)
    data: bytes = save_safetensors(arrays, metadata={"format": "pt"})
    return data


def json_bytes(data: Any) -> bytes:
    return (json.dumps(data, indent=2) + "\n").encode()


def card(meta: Mapping[str, Any], body: str) -> bytes:
    return ("---\n" + yaml.safe_dump(dict(meta), sort_keys=False) + "---\n\n" + body.strip() + "\n").encode()


GITATTRIBUTES = b"".join(
    f"*{suffix} filter=lfs diff=lfs merge=lfs -text\n".encode() for suffix in (*LFS_SUFFIXES, ".tar.gz")
)

APACHE_NOTICE = """Copyright 2025 Acme Research

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
"""

MIT_TEXT = """MIT License

Copyright (c) 2023 DeepSeek

Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction, including without limitation the rights
to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
SOFTWARE.
"""

# The license section of the real DeepSeek-R1 / R1-Distill model cards (section 7), quoted as published.
DEEPSEEK_LICENSE_SECTION = """## 7. License
This code repository and the model weights are licensed under the [MIT License](https://github.com/deepseek-ai/DeepSeek-R1/blob/main/LICENSE).
DeepSeek-R1 series support commercial use, allow for any modifications and derivative works, including, but not limited to, distillation for training other LLMs. Please note that:
- DeepSeek-R1-Distill-Qwen-1.5B, DeepSeek-R1-Distill-Qwen-7B, DeepSeek-R1-Distill-Qwen-14B and DeepSeek-R1-Distill-Qwen-32B are derived from [Qwen-2.5 series](https://github.com/QwenLM/Qwen2.5), which are originally licensed under [Apache 2.0 License](https://huggingface.co/Qwen/Qwen2.5-1.5B/blob/main/LICENSE), and now finetuned with 800k samples curated with DeepSeek-R1.
- DeepSeek-R1-Distill-Llama-8B is derived from Llama3.1-8B-Base and is originally licensed under [Llama3.1 license](https://huggingface.co/meta-llama/Llama-3.1-8B/blob/main/LICENSE).
- DeepSeek-R1-Distill-Llama-70B is derived from Llama3.3-70B-Instruct and is originally licensed under [Llama3.3 license](https://huggingface.co/meta-llama/Llama-3.3-70B-Instruct/blob/main/LICENSE).
"""

# config.json of deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B (shared/known-models/configs.yaml, raw-ish copy).
DEEPSEEK_QWEN_1_5B_CONFIG: dict[str, Any] = {
    "architectures": ["Qwen2ForCausalLM"],
    "attention_dropout": 0.0,
    "bos_token_id": 151643,
    "eos_token_id": 151643,
    "hidden_act": "silu",
    "hidden_size": 1536,
    "initializer_range": 0.02,
    "intermediate_size": 8960,
    "max_position_embeddings": 131072,
    "max_window_layers": 21,
    "model_type": "qwen2",
    "num_attention_heads": 12,
    "num_hidden_layers": 28,
    "num_key_value_heads": 2,
    "rms_norm_eps": 1e-06,
    "rope_theta": 10000,
    "sliding_window": 4096,
    "tie_word_embeddings": False,
    "torch_dtype": "bfloat16",
    "use_cache": True,
    "use_mrope": False,
    "use_sliding_window": False,
    "vocab_size": 151936,
}


def llama_layer(i: int, width: int = 8) -> dict[str, tuple[int, ...]]:
    prefix = f"model.layers.{i}"
    shapes: dict[str, tuple[int, ...]] = {}
    for proj in ("q_proj", "k_proj", "v_proj", "o_proj"):
        shapes[f"{prefix}.self_attn.{proj}.weight"] = (width, width)
    for proj in ("gate_proj", "up_proj", "down_proj"):
        shapes[f"{prefix}.mlp.{proj}.weight"] = (width, width)
    shapes[f"{prefix}.input_layernorm.weight"] = (width,)
    shapes[f"{prefix}.post_attention_layernorm.weight"] = (width,)
    return shapes


def qwen2_layer(i: int) -> dict[str, tuple[int, ...]]:
    """Qwen2 names (with q/k/v biases), tiny shapes."""
    shapes = llama_layer(i, width=2)
    for proj in ("q_proj", "k_proj", "v_proj"):
        shapes[f"model.layers.{i}.self_attn.{proj}.bias"] = (2,)
    return dict(sorted(shapes.items()))


def llama_config(layers: int, width: int = 8, vocab: int = 16) -> dict[str, Any]:
    return {
        "architectures": ["LlamaForCausalLM"],
        "hidden_size": width,
        "intermediate_size": width,
        "model_type": "llama",
        "num_attention_heads": 2,
        "num_hidden_layers": layers,
        "num_key_value_heads": 2,
        "rms_norm_eps": 1e-05,
        "torch_dtype": "float16",
        "vocab_size": vocab,
    }


# --- -----------------------------------------------------------------------------------------------
# GGUF v3 writer (little-endian), enough for a valid header, KV section, tensor infos and aligned data

GGUF_UINT32, GGUF_FLOAT32, GGUF_STRING, GGUF_UINT64 = 4, 6, 8, 10
GGML_F32 = 0


def _gguf_str(text: str) -> bytes:
    raw = text.encode()
    return struct.pack("<Q", len(raw)) + raw


def _gguf_value(value: str | int | float) -> bytes:
    if isinstance(value, str):
        return struct.pack("<I", GGUF_STRING) + _gguf_str(value)
    if isinstance(value, float):
        return struct.pack("<If", GGUF_FLOAT32, value)
    if value < 2**32:
        return struct.pack("<II", GGUF_UINT32, value)
    return struct.pack("<IQ", GGUF_UINT64, value)


def gguf_file(
    kv: Mapping[str, str | int | float], tensors: Mapping[str, np.ndarray], alignment: int = 32
) -> bytes:
    """A minimal valid GGUF v3 file with F32 tensors."""
    out = bytearray(b"GGUF" + struct.pack("<IQQ", 3, len(tensors), len(kv)))
    for key, value in kv.items():
        out += _gguf_str(key) + _gguf_value(value)
    offset = 0
    blobs = []
    for name, array in tensors.items():
        data = np.ascontiguousarray(array, dtype="<f4").tobytes()
        dims = tuple(reversed(array.shape))  # GGUF lists the fastest-varying dimension first
        out += _gguf_str(name) + struct.pack("<I", len(dims)) + struct.pack(f"<{len(dims)}Q", *dims)
        out += struct.pack("<IQ", GGML_F32, offset)
        blobs.append(data)
        offset += -(-len(data) // alignment) * alignment
    out += b"\0" * (-len(out) % alignment)
    for data in blobs:
        out += data + b"\0" * (-len(data) % alignment)
    return bytes(out)


# --- -----------------------------------------------------------------------------------------------
# The standard fixture repos


def standard_repos(store: RepoStore) -> None:
    """Build `acme/tiny-base`, `acme/tiny-llm`, `acme/sharded-17`, `acme/gated-llama`, `acme/quant-gguf` and
    `deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B`."""
    _tiny_base(store)
    _tiny_llm(store)
    _sharded_17(store)
    _gated_llama(store)
    _deepseek_distill(store)
    _quant_gguf(store)


def _tiny_shapes(layers: int = 1, width: int = 8, vocab: int = 16) -> dict[str, tuple[int, ...]]:
    shapes: dict[str, tuple[int, ...]] = {"model.embed_tokens.weight": (vocab, width)}
    for i in range(layers):
        shapes.update(llama_layer(i, width))
    shapes["model.norm.weight"] = (width,)
    shapes["lm_head.weight"] = (vocab, width)
    return shapes


def _tiny_base(store: RepoStore) -> None:
    meta = {"license": "apache-2.0", "library_name": "transformers"}
    store.add(
        "acme/tiny-base",
        {
            ".gitattributes": GITATTRIBUTES,
            "README.md": card(
                meta, "# tiny-base\n\nA tiny Llama-style base model, trained from scratch by Acme."
            ),
            "config.json": json_bytes(llama_config(1)),
            "model.safetensors": tensors_file(_tiny_shapes()),
            "LICENSE": APACHE_NOTICE.encode(),
        },
    )


def _tiny_llm(store: RepoStore) -> None:
    meta = {
        "license": "apache-2.0",
        "base_model": "acme/tiny-base",
        "base_model_relation": "finetune",
        "library_name": "transformers",
        "pipeline_tag": "text-generation",
    }
    body = "# tiny-llm\n\nA tiny Llama-style model fine-tuned from [acme/tiny-base](https://huggingface.co/acme/tiny-base)."
    repo = store.add(
        "acme/tiny-llm",
        {
            ".gitattributes": GITATTRIBUTES,
            "README.md": card(meta, body),
            "config.json": json_bytes(llama_config(1)),
            "model.safetensors": tensors_file(_tiny_shapes()),
            "LICENSE": APACHE_NOTICE.encode(),
        },
        tag="v1.0",
    )
    repo.commit(
        {
            "README.md": card(meta, body + "\n\n## Changelog\n\n- v1.1: added generation_config.json"),
            "generation_config.json": json_bytes(
                {"bos_token_id": 1, "eos_token_id": 2, "max_new_tokens": 32}
            ),
        },
        title="Add generation config",
    )
    repo.commit(
        {"config.json": json_bytes({**llama_config(1), "rope_theta": 500000.0})}, pr=1, title="Try rope"
    )


def _sharded_17(store: RepoStore) -> None:
    """17 shards of ~260 KB each (a 256 x 256 float32 padding tensor per shard) and the index."""
    files: dict[str, bytes] = {}
    weight_map: dict[str, str] = {}
    total = 0
    for shard in range(1, 18):
        name = f"model-{shard:05d}-of-000017.safetensors"
        shapes: dict[str, tuple[int, ...]] = {}
        if shard == 1:
            shapes["model.embed_tokens.weight"] = (16, 8)
        if shard <= 16:
            shapes.update(llama_layer(shard - 1))
            shapes[f"model.layers.{shard - 1}.mlp.padding.weight"] = (256, 256)
        else:
            shapes.update(
                {"model.norm.weight": (8,), "lm_head.weight": (16, 8), "lm_head.padding": (256, 256)}
            )
        data = tensors_file(shapes, dtype="float32")
        files[name] = data
        weight_map.update(dict.fromkeys(shapes, name))
        header = safetensors_header(data)
        total += sum(
            t["data_offsets"][1] - t["data_offsets"][0] for k, t in header.items() if k != "__metadata__"
        )
    index = {"metadata": {"total_size": total}, "weight_map": dict(sorted(weight_map.items()))}
    meta = {"license": "apache-2.0", "library_name": "transformers"}
    store.add(
        "acme/sharded-17",
        {
            ".gitattributes": GITATTRIBUTES,
            "README.md": card(meta, "# sharded-17\n\nA tiny Llama-style model saved in 17 shards."),
            "config.json": json_bytes(llama_config(16)),
            "model.safetensors.index.json": json_bytes(index),
            **files,
        },
    )


def _gated_llama(store: RepoStore) -> None:
    meta = {
        "license": "llama3.2",
        "library_name": "transformers",
        "extra_gated_prompt": "You agree to the Llama 3.2 Community License Agreement.",
        "extra_gated_fields": {"First Name": "text", "Last Name": "text"},
    }
    store.add(
        "acme/gated-llama",
        {
            ".gitattributes": GITATTRIBUTES,
            "README.md": card(
                meta, "# gated-llama\n\nA gated tiny Llama. Accept the license to download the files."
            ),
            "config.json": json_bytes(llama_config(1)),
            "model.safetensors": tensors_file(_tiny_shapes()),
            "LICENSE": b"LLAMA 3.2 COMMUNITY LICENSE AGREEMENT\n"
            b"Llama 3.2 Version Release Date: September 25, 2024\n",
        },
        gated="manual",
    )


def _deepseek_distill(store: RepoStore) -> None:
    shapes: dict[str, tuple[int, ...]] = {"model.embed_tokens.weight": (4, 2)}
    for i in range(DEEPSEEK_QWEN_1_5B_CONFIG["num_hidden_layers"]):
        shapes.update(qwen2_layer(i))
    shapes.update({"model.norm.weight": (2,), "lm_head.weight": (4, 2)})
    body = (
        "# DeepSeek-R1\n\n## 1. Introduction\n\nWe introduce our first-generation reasoning models,"
        " DeepSeek-R1-Zero and DeepSeek-R1.\n\n" + DEEPSEEK_LICENSE_SECTION
    )
    store.add(
        "deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B",
        {
            ".gitattributes": GITATTRIBUTES,
            "LICENSE": MIT_TEXT.encode(),
            "README.md": card({"license": "mit", "library_name": "transformers"}, body),
            "config.json": json_bytes(DEEPSEEK_QWEN_1_5B_CONFIG),
            "generation_config.json": json_bytes(
                {
                    "_from_model_config": True,
                    "bos_token_id": 151646,
                    "eos_token_id": 151643,
                    "do_sample": True,
                    "temperature": 0.6,
                    "top_p": 0.95,
                }
            ),
            "model.safetensors": tensors_file(shapes),
            "tokenizer_config.json": json_bytes(
                {"bos_token": "<｜begin▁of▁sentence｜>", "eos_token": "<｜end▁of▁sentence｜>", "legacy": True}
            ),
        },
        extra_info={
            "tags": [
                "transformers",
                "safetensors",
                "qwen2",
                "text-generation",
                "conversational",
                "arxiv:2501.12948",
                "license:mit",
                "autotrain_compatible",
                "text-generation-inference",
                "endpoints_compatible",
                "region:us",
            ]
        },
    )


def _quant_gguf(store: RepoStore) -> None:
    kv: dict[str, str | int | float] = {
        "general.architecture": "qwen2",
        "general.name": "Tiny Qwen2 GGUF",
        "general.file_type": 0,
        "qwen2.context_length": 131072,
        "qwen2.embedding_length": 2,
        "qwen2.block_count": 1,
        "qwen2.attention.head_count": 1,
        "qwen2.rope.freq_base": 10000.0,
        "general.alignment": 32,
    }
    tensor = (np.arange(8, dtype=np.float32) / 8).reshape(4, 2)
    meta = {"base_model": "deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B", "tags": ["llama-cpp"]}
    store.add(
        "acme/quant-gguf",
        {
            ".gitattributes": GITATTRIBUTES,
            "README.md": card(meta, "# quant-gguf\n\nA GGUF conversion. The uploader gave no license."),
            "tiny-qwen2-F32.gguf": gguf_file(kv, {"token_embd.weight": tensor}),
        },
        extra_info={"gguf": {"total": 8, "architecture": "qwen2", "context_length": 131072}},
    )
