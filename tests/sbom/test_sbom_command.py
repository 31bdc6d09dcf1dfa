"""`provenance sbom` through the real CLI: every format to a file and to stdout, exit codes, no file left
behind when a document fails validation."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from sbom_support import LLAMA70, QWEN32, catalog_licenses, real_evaluation

from provenance import cli
from provenance.policy.command import evaluate
from provenance.report import sbom as sbom_module
from provenance.report.sbom import SBOM_FORMATS, LicenseDetails, render_sbom

pytestmark = pytest.mark.usefixtures("offline")
MODULE = "provenance.report.sbom_command"


@pytest.mark.parametrize("fmt", SBOM_FORMATS)
def test_every_format_to_a_file_is_what_the_library_renders(fmt: str, tmp_path: Path) -> None:
    """The CLI adds nothing and loses nothing: its file is `render_sbom` of `evaluate` with the catalog's
    licenses (test_sbom_goldens.py pins those bytes)."""
    out = tmp_path / "sbom.out"
    assert cli.main(["sbom", LLAMA70, "--format", fmt, "-o", str(out)]) == 0
    expected = render_sbom(real_evaluation(LLAMA70), fmt, licenses=catalog_licenses())
    assert out.read_text(encoding="utf-8") == expected


def test_stdout_by_default(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["sbom", QWEN32, "--format", "spdx-json"]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["spdxVersion"] == "SPDX-2.3"
    assert err == ""


def test_source_date_epoch_sets_the_creation_time(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    assert cli.main(["sbom", QWEN32, "--format", "spdx-tv"]) == 0
    assert "Created: 2023-11-14T22:13:20Z" in capsys.readouterr().out


def test_format_is_required_and_checked(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["sbom", QWEN32]) == 2
    assert cli.main(["sbom", QWEN32, "--format", "xml"]) == 2
    assert "invalid choice: 'xml'" in capsys.readouterr().err


def test_invalid_document_leaves_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def bad_details(catalog: object) -> dict[str, LicenseDetails]:
        return {"llama3.3": LicenseDetails("LicenseRef-llama3.3", "Llama 3.3", None, "not a url")}

    monkeypatch.setattr(sbom_module, "catalog_details", bad_details)
    out = tmp_path / "sbom.spdx.json"
    assert cli.main(["sbom", LLAMA70, "--format", "spdx-json", "-o", str(out)]) == 5
    assert list(tmp_path.iterdir()) == []
    assert "cross_reference must be a valid URL" in capsys.readouterr().err


def test_missing_output_folder_is_refused_before_work(tmp_path: Path) -> None:
    assert cli.main(["sbom", LLAMA70, "--format", "spdx3", "-o", str(tmp_path / "no" / "x.json")]) == 5


def _cyclonedx_obligations(capsys: pytest.CaptureFixture[str], *options: str) -> set[str]:
    assert cli.main(["sbom", QWEN32, "--format", "cyclonedx", *options]) == 0
    card = json.loads(capsys.readouterr().out)["metadata"]["component"]["modelCard"]
    prefix = "provenance:obligation:"
    return {p["name"].removeprefix(prefix) for p in card["properties"] if p["name"].startswith(prefix)}


def test_policy_option_decides_the_obligations(capsys: pytest.CaptureFixture[str]) -> None:
    default = _cyclonedx_obligations(capsys)
    research = _cyclonedx_obligations(capsys, "--policy", "research-only")
    assert default == {o.obligation_id for o in evaluate(QWEN32).report.obligations}
    assert research == {o.obligation_id for o in evaluate(QWEN32, policy="research-only").report.obligations}
    assert research != default
    assert cli.main(["sbom", QWEN32, "--format", "cyclonedx", "--policy", "no-such-policy"]) == 2


def test_max_depth_limits_the_packages(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["sbom", LLAMA70, "--format", "spdx-json", "--max-depth", "0"]) == 0
    names = {p["name"] for p in json.loads(capsys.readouterr().out)["packages"]}
    assert names == {n.id for n in evaluate(LLAMA70, max_depth=0).graph.nodes}
    assert names < {n.id for n in evaluate(LLAMA70).graph.nodes}


def test_cache_dir_option_is_used(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        cli.main(["sbom", f"hf-cache:{QWEN32}", "--format", "spdx-json", "--cache-dir", str(tmp_path)]) == 3
    )
    err = capsys.readouterr().err
    assert (
        f"not in the local Hugging Face cache ({tmp_path}/models--deepseek-ai--DeepSeek-R1-Distill-Qwen-32B)"
        in err
    )
    assert list(tmp_path.iterdir()) == []


def test_registering_the_command_imports_no_sbom_library() -> None:
    code = (
        "import sys\n"
        "from provenance import cli\n"
        f"assert {MODULE!r} in cli._COMMAND_MODULES\n"
        "cli.build_parser()\n"
        "heavy = ('spdx_tools', 'spdx_python_model', 'cyclonedx', 'license_expression')\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & set(heavy)))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
