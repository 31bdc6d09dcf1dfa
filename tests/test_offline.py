"""Offline resolution: HF_HUB_OFFLINE=1 or an unreachable Hub -> the HF cache, then the knowledge base."""

from __future__ import annotations

import pytest

from provenance.cli import main
from provenance.scan import scan


def test_offline_scan_uses_what_an_online_scan_cached(hub, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    online = scan("acme/tiny-llm")
    assert online.target.kind == "hub"
    hub.log.clear()
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    offline = scan("acme/tiny-llm")
    assert hub.log.count() == 0
    assert offline.target.kind == "hf-cache"
    assert offline.target.commit == online.target.commit
    assert any("not re-verified" in note for note in offline.target.notes)
    assert any("HF_HUB_OFFLINE=1" in note for note in offline.target.notes)
    assert offline.first("card.license") == online.first("card.license")
    assert offline.facts_of("card.license")[0].origin.source == "hf-cache"


def test_offline_without_cache_or_knowledge_is_exit_4(
    hub, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    code = main(["scan", "acme/never-cached"])
    _out, err = capsys.readouterr()
    assert code == 4
    assert "HF_HUB_OFFLINE=1" in err
    assert hub.log.count() == 0


def test_unreachable_hub_falls_back_to_cache(hub, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    scan("acme/tiny-llm")
    hub.faults.server_error(502, repo="acme/tiny-llm", where="api")
    report = scan("acme/tiny-llm")
    assert report.target.kind == "hf-cache"
    assert any("could not be reached" in note for note in report.target.notes)
