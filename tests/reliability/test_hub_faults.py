"""Hub faults on every call path of a whole scan, through the emulator (real huggingface_hub, nothing patched).

Call paths of a Hub scan of `acme/tiny-llm`: `info` (one model_info answer carrying the card data, the file
tree (siblings) and the files metadata (sizes, LFS sha256)), then the file reads: `card` (README.md),
`config` (config.json), `license` (LICENSE, a prefix read) and `header` (the safetensors header, a range read
crossing from the Hub to the CDN). Each fault is tried on each path: a transient fault must leave the report
identical to a clean scan; a permanent one must end the scan with a HubError (exit 4), never a partial report.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hubemu.server import HubEmulator

from provenance.cli import main
from provenance.errors import (
    EntryNotFoundError,
    HubError,
    HubUnavailableError,
    RateLimitedError,
    RepoNotFoundError,
)
from provenance.scan import scan_source
from provenance.scan_report import ScanReport
from provenance.sources.hub import HubSource

REPO = "acme/tiny-llm"
PATHS: dict[str, dict[str, str]] = {
    "info": {"where": "api"},
    "card": {"where": "files", "path": "README.md"},
    "config": {"where": "files", "path": "config.json"},
    "license": {"where": "files", "path": "LICENSE"},
    "header": {"where": "files", "path": "model.safetensors"},
}
FILE_PATHS = [p for p in PATHS if p != "info"]


def _source(**options: Any) -> HubSource:
    settings: dict[str, Any] = {"timeout": 1.0, "backoff": 0.05, "max_attempts": 3, "deadline": 4.0}
    return HubSource(REPO, **(settings | options))


def _scan(**options: Any) -> ScanReport:
    return scan_source(_source(**options))


def _evidence(report: ScanReport) -> dict[str, Any]:
    """What a scan found, without timings: facts, findings and the status of each file."""
    document = report.to_json()
    return {key: document[key] for key in ("target", "facts", "findings")} | {
        "files": [(f.entry.path, f.status) for f in report.files]
    }


@pytest.fixture(scope="module")
def clean(hub: HubEmulator) -> dict[str, Any]:
    hub.reset()
    return _evidence(_scan())


def _faulted_requests(hub: HubEmulator, path: str) -> int:
    match = PATHS[path]
    if path == "info":
        return len([e for e in hub.log.entries(server="hub") if e.path.startswith("/api/")])
    return len([e for e in hub.log.entries() if e.file == match["path"]])


TRANSIENT: dict[str, Callable[[HubEmulator, dict[str, str]], object]] = {
    "5xx-burst": lambda hub, m: hub.faults.server_error(503, times=2, **m),
    "502-once": lambda hub, m: hub.faults.server_error(502, times=1, **m),
    "429-retry-after-1": lambda hub, m: hub.faults.rate_limit(1, times=1, **m),
    "truncated-once": lambda hub, m: hub.faults.truncate(times=1, **m),
}


# a truncated info answer is its own test below (the JSON is cut, not a file)
_TRANSIENT_CASES = [
    (p, f) for p in sorted(PATHS) for f in sorted(TRANSIENT) if (p, f) != ("info", "truncated-once")
]


@pytest.mark.parametrize(("path", "fault"), _TRANSIENT_CASES, ids=[f"{p}-{f}" for p, f in _TRANSIENT_CASES])
def test_transient_fault_gives_the_clean_report(
    hub: HubEmulator, clean: dict[str, Any], path: str, fault: str
) -> None:
    TRANSIENT[fault](hub, PATHS[path])
    assert _evidence(_scan()) == clean
    assert _faulted_requests(hub, path) >= 2, "the fault was never hit: the test would prove nothing"


def test_429_waits_for_retry_after_on_a_file_read(hub: HubEmulator, clean: dict[str, Any]) -> None:
    hub.faults.rate_limit(2, times=1, **PATHS["config"])
    start = time.monotonic()
    assert _evidence(_scan(deadline=10.0)) == clean
    assert time.monotonic() - start >= 2.0


PERMANENT: dict[str, tuple[Callable[[HubEmulator, dict[str, str]], object], type[HubError]]] = {
    "404": (lambda hub, m: hub.faults.status(404, error_code="EntryNotFound", **m), EntryNotFoundError),
    "5xx-permanent": (lambda hub, m: hub.faults.server_error(500, **m), HubUnavailableError),
    "429-retry-after-3600": (lambda hub, m: hub.faults.rate_limit(3600, **m), RateLimitedError),
    "429-repeated": (lambda hub, m: hub.faults.rate_limit(1, **m), RateLimitedError),
    "hang": (lambda hub, m: hub.faults.hang(**m), HubUnavailableError),
    "truncated-always": (lambda hub, m: hub.faults.truncate(**m), HubError),
}


# hf_hub_download resumes a cut download by itself for ~5 s before giving up: the full-file reads (card,
# config) are covered by the truncated-once cases above and by tests/sources/test_hub.py
_PERMANENT_CASES = [
    (p, f)
    for p in sorted(PATHS)
    for f in sorted(PERMANENT)
    if not (f == "truncated-always" and p in ("card", "config"))
]


@pytest.mark.parametrize(("path", "fault"), _PERMANENT_CASES, ids=[f"{p}-{f}" for p, f in _PERMANENT_CASES])
def test_permanent_fault_is_a_hub_error_naming_the_repo(hub: HubEmulator, path: str, fault: str) -> None:
    inject, error = PERMANENT[fault]
    if fault == "404" and path == "info":
        hub.faults.not_found("repo", where="api")
        error = RepoNotFoundError
    else:
        inject(hub, PATHS[path])
    options = {
        "max_attempts": 1 if fault in ("hang", "truncated-always") else 2,
        "deadline": 1.0,
        "timeout": 0.5,
    }
    with pytest.raises(error) as caught:
        _scan(**options)
    assert caught.value.exit_code == 4
    assert REPO in str(caught.value) or PATHS[path].get("path", REPO) in str(caught.value)
    assert "Traceback" not in caught.value.diagnostics()


def test_truncated_info_answer_is_retried_or_an_error(hub: HubEmulator, clean: dict[str, Any]) -> None:
    hub.faults.truncate(times=1, where="api")
    assert _evidence(_scan()) == clean
    hub.faults.truncate(where="api")
    with pytest.raises(HubError):
        _scan(max_attempts=2, deadline=2.0)


@pytest.mark.parametrize("keys", [("sha",), ("siblings",), ("sha", "siblings", "cardData")])
def test_info_with_missing_keys_is_a_hub_error_not_a_key_error(
    hub: HubEmulator, keys: tuple[str, ...]
) -> None:
    hub.faults.drop_keys(*keys, repo=REPO)
    with pytest.raises(HubError):
        _scan()


def test_malformed_json_on_the_info_path_names_the_endpoint(hub: HubEmulator) -> None:
    hub.faults.malformed_json(repo=REPO)
    with pytest.raises(HubError) as caught:
        _scan()
    assert "/api/models/" in caught.value.problem


@pytest.mark.parametrize("bad", ["../../outside.json", "/etc/passwd", "a/../../b.safetensors"])
def test_tree_entry_escaping_the_repo_is_rejected_by_name_and_never_fetched(
    hub: HubEmulator, bad: str
) -> None:
    hub.faults.extra_entries(bad, repo=REPO)
    report = _scan()
    assert bad not in [f.entry.path for f in report.files]
    assert any(bad in f.message for f in report.findings)
    assert not [e for e in hub.log.entries() if e.file is not None and ".." in e.file]


# --- the same faults through the CLI: exit code 4, one line on stderr, the previous report untouched --------

CLI_FAULTS: dict[str, Callable[[HubEmulator], object]] = {
    "info-404": lambda hub: hub.faults.not_found("repo", where="api"),
    "info-malformed-json": lambda hub: hub.faults.malformed_json(repo=REPO),
    "card-404": lambda hub: hub.faults.status(404, error_code="EntryNotFound", **PATHS["card"]),
    "config-404": lambda hub: hub.faults.status(404, error_code="EntryNotFound", **PATHS["config"]),
    "license-429-3600": lambda hub: hub.faults.rate_limit(3600, **PATHS["license"]),
    "header-429-3600": lambda hub: hub.faults.rate_limit(3600, **PATHS["header"]),
}


@pytest.mark.parametrize("fault", sorted(CLI_FAULTS))
def test_cli_hub_fault_exits_4_and_leaves_the_previous_report(
    hub: HubEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str], fault: str
) -> None:
    output = tmp_path / "report.json"
    output.write_text('{"previous": true}\n')
    CLI_FAULTS[fault](hub)
    code = main(["scan", REPO, "--format", "json", "--no-lineage", "--no-claims", "-o", str(output)])
    out, err = capsys.readouterr()
    assert code == 4, err
    assert err.startswith("provenance: error: ") and "Traceback" not in err
    assert out == ""
    assert json.loads(output.read_text()) == {"previous": True}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.json"]


def test_cli_transient_faults_on_every_path_still_write_one_whole_report(
    hub: HubEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for match in PATHS.values():
        hub.faults.server_error(503, times=1, **match)
    output = tmp_path / "report.json"
    code = main(["scan", REPO, "--format", "json", "--no-lineage", "--no-claims", "-o", str(output)])
    _out, err = capsys.readouterr()
    assert code == 0, err
    assert json.loads(output.read_text())["target"]["repo_id"] == REPO
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.json"]
