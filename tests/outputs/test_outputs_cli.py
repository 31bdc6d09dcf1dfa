"""`notice`, `card-section` and `report` through their argument parsers (registered on a fresh parser, as
provenance/cli.py does), writing files atomically and offline."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest
import yaml

from provenance.errors import OutputError
from provenance.report import outputs_command

LLAMA70 = "deepseek-ai/DeepSeek-R1-Distill-Llama-70B"
QWEN32 = "deepseek-ai/DeepSeek-R1-Distill-Qwen-32B"


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="provenance")
    commands = root.add_subparsers(dest="command", required=True)
    outputs_command.register(commands)
    return root


def run(*argv: str) -> int:
    args = parser().parse_args(list(argv))
    code: int = args.run(args)
    return code


def test_every_command_is_registered_with_its_options() -> None:
    for argv in (
        ["notice", "x", "-o", "NOTICE"],
        ["card-section", "x"],
        ["report", "x", "--format", "html", "-o", "r.html"],
    ):
        args = parser().parse_args([*argv, "--policy", "default", "--cache-dir", "/c", "--max-depth", "3"])
        assert callable(args.run)
        assert (args.policy, args.cache_dir, args.max_depth) == ("default", "/c", 3)


@pytest.mark.parametrize(
    "argv", [["notice", "x"], ["report", "x"], ["report", "x", "-o", "r", "--format", "pdf"]]
)
def test_missing_output_or_unknown_format_is_a_usage_error(argv: list[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        parser().parse_args(argv)
    assert exc.value.code == 2


def test_notice_command_writes_the_file(offline: None, tmp_path: Path) -> None:
    out = tmp_path / "NOTICE"
    assert run("notice", LLAMA70, "-o", str(out)) == 0
    text = out.read_text(encoding="utf-8")
    assert "Built with Llama" in text.splitlines()
    assert not [p for p in tmp_path.iterdir() if p.name != "NOTICE"], "no temporary file is left behind"


def test_card_section_goes_to_stdout_without_output(
    offline: None, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run("card-section", QWEN32) == 0
    out = capsys.readouterr().out
    head = out[4:].partition("\n---\n")[0]
    assert yaml.safe_load(head)["base_model"] == ["Qwen/Qwen2.5-32B"]
    assert "## License and provenance" in out


def test_report_command_writes_html_and_includes_verification(offline: None, tmp_path: Path) -> None:
    verify = tmp_path / "verify.json"
    verify.write_text(
        '{"target": "./release", "summary": {"match": 1}, "files": '
        '[{"path": "weights-a.safetensors", "verdict": "match", "algorithm": "sha256"}]}',
        encoding="utf-8",
    )
    out = tmp_path / "report.html"
    assert run("report", QWEN32, "--format", "html", "-o", str(out), "--verification", str(verify)) == 0
    html = out.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>")
    assert "weights-a.safetensors" in html


def test_output_in_a_missing_folder_fails_before_any_work(tmp_path: Path) -> None:
    with pytest.raises(OutputError):
        run("notice", "does/not-matter", "-o", str(tmp_path / "missing" / "NOTICE"))


def test_a_bad_verification_file_is_an_input_error(offline: None, tmp_path: Path) -> None:
    from provenance.errors import InputError  # noqa: PLC0415

    bad = tmp_path / "verify.json"
    bad.write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(InputError):
        run("report", QWEN32, "-o", str(tmp_path / "r.html"), "--verification", str(bad))
    assert not (tmp_path / "r.html").exists()
