"""CLI contract: usage errors, exit codes, one-line errors, atomic output, light start-up."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from provenance.cli import main

HEAVY = ("huggingface_hub", "rich", "yaml", "safetensors", "jinja2", "spdx_tools", "httpx2")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_help_imports_nothing_heavy() -> None:
    code = (
        "import sys\nfrom provenance.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        f"print([m for m in {HEAVY!r} if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    assert "exit codes:" in out
    assert out.strip().splitlines()[-1] == "[]"


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["scan", "x/y", "--bogus"], "unrecognized arguments"),
        (["scan"], "the following arguments are required: TARGET"),
        (["scan", "x/y", "--format", "yaml"], "invalid choice"),
        ([], "required: COMMAND"),
    ],
    ids=["unknown-flag", "missing-target", "bad-format", "no-command"],
)
def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str], argv: list[str], needle: str) -> None:
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert needle in err
    assert "Traceback" not in err
    assert out == ""


@pytest.mark.parametrize(
    "target",
    ["a/b/c", "org/na--me", "org/name@", "org/" + "n" * 97, "org/-name", "org/name@bad rev"],
    ids=["three-parts", "double-dash", "empty-revision", "97-chars", "leading-dash", "space-in-revision"],
)
def test_invalid_repo_ids_fail_before_any_request(
    capsys: pytest.CaptureFixture[str], target: str, hub
) -> None:  # type: ignore[no-untyped-def]
    code, _out, err = run(capsys, "scan", target)
    assert code in (2, 3)
    assert err.startswith("provenance: error: ")
    assert len(err.strip().splitlines()) <= 2
    assert hub.log.count() == 0


def test_missing_local_path_exit_3(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _out, err = run(capsys, "scan", str(tmp_path / "nope.safetensors"))
    assert code == 3
    assert "no such file" in err


def test_output_into_missing_folder_exit_5_before_scanning(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, _out, err = run(
        capsys, "scan", str(tmp_path / "does-not-matter"), "-o", str(tmp_path / "no" / "r.json")
    )
    assert code == 5
    assert "does not exist" in err


def test_output_inside_scanned_folder_refused(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    model = tmp_path / "model"
    model.mkdir()
    (model / "config.json").write_text('{"model_type": "llama"}')
    code, _out, err = run(capsys, "scan", str(model), "-o", str(model / "report.json"))
    assert code == 5
    assert "scanned model" in err
    assert not (model / "report.json").exists()


def test_json_output_is_atomic_and_deterministic(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    model = tmp_path / "model"
    model.mkdir()
    (model / "config.json").write_text('{"model_type": "llama", "hidden_size": 4096}')
    (model / "README.md").write_text(
        "---\nlicense: apache-2.0\nbase_model: meta-llama/Llama-3.1-8B\n---\n# x\n"
    )
    out1, out2 = tmp_path / "a.json", tmp_path / "b.json"
    assert run(capsys, "scan", str(model), "--format", "json", "-o", str(out1))[0] == 0
    assert run(capsys, "scan", str(model), "--format", "json", "-o", str(out2))[0] == 0
    assert out1.read_bytes() == out2.read_bytes()
    doc = json.loads(out1.read_text())
    assert doc["schema_version"] == 1
    assert {f["kind"] for f in doc["facts"]} >= {"card.license", "card.base_model", "config.model_type"}
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_text_report_escapes_control_characters(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    model = tmp_path / "model"
    model.mkdir()
    (model / "README.md").write_text('---\nlicense: "mit\\u001b[31mRED"\n---\n')
    code, out, _err = run(capsys, "scan", str(model))
    assert code == 0
    assert "\x1b" not in out
    assert "\\x1b[31mRED" in out


def test_debug_shows_traceback(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _out, err = run(capsys, "--debug", "scan", str(tmp_path / "missing"))
    assert code == 3
    assert "Traceback" in err


@pytest.mark.parametrize("fmt", ["text", "mermaid", "dot", "json"])
def test_graph_command_every_format_offline(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, fmt: str
) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    code, out, err = run(capsys, "graph", "deepseek-ai/DeepSeek-R1-Distill-Llama-70B", "--format", fmt)
    assert code == 0, err
    assert "meta-llama/Llama-3.3-70B-Instruct" in out
    assert "deepseek-ai/DeepSeek-R1" in out
    if fmt == "json":
        doc = json.loads(out)
        relations = {(e["parent"], e["relation"]) for e in doc["edges"] if e["child"].endswith("Llama-70B")}
        assert relations == {
            ("meta-llama/Llama-3.3-70B-Instruct", "finetune"),
            ("deepseek-ai/DeepSeek-R1", "distillation"),
        }


def test_scan_json_has_lineage_unless_disabled(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    code, out, _err = run(capsys, "scan", "deepseek-ai/DeepSeek-R1-Distill-Qwen-32B", "--format", "json")
    assert code == 0
    lineage = json.loads(out)["lineage"]
    assert any(e["parent"] == "Qwen/Qwen2.5-32B" and e["relation"] == "finetune" for e in lineage["edges"])
    code, out, _err = run(
        capsys, "scan", "deepseek-ai/DeepSeek-R1-Distill-Qwen-32B", "--format", "json", "--no-lineage"
    )
    assert code == 0 and "lineage" not in json.loads(out)


def test_unwritable_output_is_exit_5_and_leaves_nothing(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    model = tmp_path / "model"
    model.mkdir()
    (model / "config.json").write_text('{"model_type": "llama"}')
    code, _out, err = run(capsys, "scan", str(model), "--no-lineage", "-o", "/proc/provenance-report.json")
    assert code == 5
    assert err.startswith("provenance: error: /proc/provenance-report.json")


def test_scan_json_has_a_claims_section_checked_against_published_figures(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    folder = tmp_path / "r1"
    folder.mkdir()
    card = Path(__file__).parent / "data" / "cards" / "deepseek-ai__DeepSeek-R1.README.github.md"
    text = card.read_text(encoding="utf-8")
    (folder / "README.md").write_text(text, encoding="utf-8")
    assert main(["scan", str(folder), "--no-lineage", "--format", "json"]) == 0
    claims = json.loads(capsys.readouterr()[0])["claims"]
    assert claims["summary"]["claims"]["matches-published"] > 100
    assert "differs-from-published" not in claims["summary"]["claims"]
    # one cell changed: the scan flags it with both values
    assert "**97.3**" in text
    (folder / "README.md").write_text(text.replace("**97.3**", "**98.1**", 1), encoding="utf-8")
    assert main(["scan", str(folder), "--no-lineage", "--format", "json"]) == 0
    claims = json.loads(capsys.readouterr()[0])["claims"]
    assert claims["summary"]["claims"]["differs-from-published"] >= 1
    assert any("98.1" in f["message"] and "97.3" in f["message"] for f in claims["findings"])
    assert main(["scan", str(folder), "--no-lineage", "--no-claims", "--format", "json"]) == 0
    assert "claims" not in json.loads(capsys.readouterr()[0])


def test_text_report_shows_quoted_card_lines_as_read_and_json_as_written(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The README's base-model table row is evidence: the terminal shows its cells without Markdown link
    syntax, the JSON keeps the line as the card wrote it."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    target = "deepseek-ai/DeepSeek-R1-Distill-Llama-70B"
    assert main(["scan", target, "--no-lineage", "--no-claims"]) == 0
    text = capsys.readouterr().out
    assert '"DeepSeek-R1-Distill-Llama-70B' in text
    assert "](https://" not in text
    assert main(["scan", target, "--format", "json", "--no-lineage", "--no-claims"]) == 0
    facts = json.loads(capsys.readouterr().out)["facts"]
    (base,) = [f for f in facts if f["kind"] == "lineage.base"]
    assert (
        "[Llama-3.3-70B-Instruct](https://huggingface.co/meta-llama/Llama-3.3-70B-Instruct)"
        in base["value"]["quote"]
    )
