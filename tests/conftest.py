"""Session set-up shared by every test: a Hugging Face Hub emulator and a sealed HF environment.

huggingface_hub reads `HF_ENDPOINT`, `HF_HOME`, `HF_HUB_OFFLINE` and its timeouts once, at import. So this
module binds the emulator's two servers on ephemeral 127.0.0.1 ports and sets the environment at *import*
time, before any test module can import huggingface_hub (binding is cheap, and port 0 leaves no race between
picking a port and using it). The servers stop at exit. Fixture repos are built on first use of `hub`.

Environment for the whole session: `HF_ENDPOINT` = the emulator; `HF_HOME` = a fresh temporary folder;
`HF_HUB_DISABLE_TELEMETRY=1`, `HF_HUB_DISABLE_XET=1`, `HF_HUB_ETAG_TIMEOUT=2`, `HF_HUB_DOWNLOAD_TIMEOUT=2`;
`HF_TOKEN`, `HUGGING_FACE_HUB_TOKEN`, `HF_HUB_OFFLINE`, `TRANSFORMERS_OFFLINE`, `HF_HUB_CACHE` and the proxy
variables unset (set them in a test with `monkeypatch.setenv`; HubSource reads HF_TOKEN and HF_HUB_OFFLINE
on each call, huggingface_hub's own HF_HUB_OFFLINE flag stays off).

The `hub` fixture (session) yields the `hubemu.server.HubEmulator`:
    hub.url, hub.cdn_url    base URLs of the hub and of the CDN that serves LFS bytes
    hub.faults              .status() .server_error() .rate_limit() .not_found() .gated() .delay() .hang()
                            .truncate() .ignore_range() .malformed_json() .drop_keys() .extra_entries();
                            each takes repo=, where= ("api" "resolve" "cdn" "files"), path=, method=, times=
    hub.log                 .entries() .count() .bytes_sent() filtered by server=, method=, repo=, file=,
                            path_prefix=; .authorization_values(server), .assert_no_authorization_on_cdn()
    hub.add_repo(id, {path: bytes}, gated=, private=, extra_info=, tag=, lfs=) -> Repo
                            (repo.sha, repo.commit({path: bytes}, branch=, tag=, pr=))
    hub.repo(id), hub.rename(old, new), hub.accept(id, token), hub.reset()
Standard repos (hubemu/repos.py): acme/tiny-base, acme/tiny-llm (main, tag v1.0, refs/pr/1), acme/sharded-17,
acme/gated-llama, acme/quant-gguf, deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B.

Before every test (autouse): faults, the log, renames and accepted tokens are reset, hung requests released,
and the HF cache under `$HF_HOME/hub` is emptied, so no test sees another's downloads.
"""

from __future__ import annotations

import atexit
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

if "huggingface_hub" in sys.modules:
    raise RuntimeError(
        "huggingface_hub was imported before tests/conftest.py could point HF_ENDPOINT at the emulator"
    )

from hubemu.repos import standard_repos
from hubemu.server import HubEmulator

_STATE = Path(tempfile.mkdtemp(prefix="provenance-tests-"))
HUB = HubEmulator(_STATE / "hub-store").start()
HF_HOME = _STATE / "hf-home"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-goldens",
        action="store_true",
        default=False,
        help="rewrite the golden files (tests/data/golden/) from the current output instead of comparing",
    )


def _cleanup() -> None:
    HUB.stop()
    shutil.rmtree(_STATE, ignore_errors=True)


atexit.register(_cleanup)

_UNSET = (
    "HF_TOKEN",
    "HUGGING_FACE_HUB_TOKEN",
    "HF_HUB_OFFLINE",
    "TRANSFORMERS_OFFLINE",
    "HF_HUB_CACHE",
    "HF_XET_CACHE",
    "HF_TOKEN_PATH",
    "HF_OIDC_RESOURCE",
    "HF_HUB_DISABLE_IMPLICIT_TOKEN",
    "HF_DEBUG",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "http_proxy",
    "https_proxy",
    "all_proxy",
)
for _name in _UNSET:
    os.environ.pop(_name, None)
os.environ.update(
    {
        "HF_ENDPOINT": HUB.url,
        "HF_HOME": str(HF_HOME),
        "HF_HUB_DISABLE_TELEMETRY": "1",
        "HF_HUB_DISABLE_XET": "1",
        "HF_HUB_DISABLE_PROGRESS_BARS": "1",
        "HF_HUB_ETAG_TIMEOUT": "2",
        "HF_HUB_DOWNLOAD_TIMEOUT": "2",
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
    }
)

_built = False


@pytest.fixture(scope="session")
def hub() -> HubEmulator:
    """The running emulator, with the standard repos built on first use."""
    global _built  # noqa: PLW0603  (one build per session, shared by all tests)
    if not _built:
        standard_repos(HUB.store)
        _built = True
    return HUB


@pytest.fixture(autouse=True)
def _fresh_hub_state() -> Iterator[None]:
    HUB.reset()
    cache = HF_HOME / "hub"
    if cache.exists():
        shutil.rmtree(cache, ignore_errors=True)
    yield
    HUB.reset()
