"""The CI integration files: action.yml (its script run for real against a stand-in `provenance`), the
pre-commit hook, and the YAML examples of docs/ci.md, all checked against the real argument parser."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from provenance.cli import EXIT_CODES_HELP, build_parser

REPO = Path(__file__).resolve().parents[2]
ACTION = REPO / "action.yml"
HOOKS = REPO / ".pre-commit-hooks.yaml"
DOCS = REPO / "docs" / "ci.md"
EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


def load(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def action() -> dict[str, Any]:
    data: dict[str, Any] = load(ACTION)
    return data


def step(action: dict[str, Any], name: str) -> dict[str, Any]:
    steps: list[dict[str, Any]] = action["runs"]["steps"]
    (found,) = [s for s in steps if s.get("id") == name or s.get("name") == name]
    return found


def parse_check(argv: list[str]) -> Any:
    args = build_parser().parse_args(argv)
    assert args.command == "check"
    return args


# --- action.yml: structure --------------------------------------------------------------------------------


def test_action_is_a_composite_action_with_documented_inputs(action: dict[str, Any]) -> None:
    assert action["name"] and action["description"]
    assert action["runs"]["using"] == "composite"
    inputs = action["inputs"]
    assert {"target", "policy", "fail-on", "format", "sarif-file", "python-version"} <= set(inputs)
    assert inputs["target"]["required"] is True
    for name, spec in inputs.items():
        assert spec["description"], name
        assert spec.get("required") is True or "default" in spec, name
    assert inputs["format"]["default"] == "text"
    assert inputs["upload-sarif"]["default"] == "false"
    assert action["outputs"]["exit-code"]["value"] == "${{ steps.check.outputs.exit-code }}"
    assert action["outputs"]["sarif-file"]["value"] == "${{ steps.check.outputs.sarif-file }}"


def test_every_input_is_used_and_every_run_step_is_injection_safe(action: dict[str, Any]) -> None:
    steps = action["runs"]["steps"]
    used = {m for s in steps for m in re.findall(r"inputs\.([\w-]+)", yaml.safe_dump(s))}
    assert used == set(action["inputs"])
    for s in steps:
        if "run" in s:
            assert s["shell"] == "bash"
            # inputs reach scripts as environment variables only: `${{ }}` pasted into a script is injectable
            assert not EXPRESSION.search(s["run"]), s["name"]


def test_action_installs_from_its_own_checkout_and_sets_up_python(action: dict[str, Any]) -> None:
    setup = step(action, "Set up Python")
    assert setup["uses"].startswith("actions/setup-python@")
    assert setup["with"]["python-version"] == "${{ inputs.python-version }}"
    install = step(action, "Install provenance")
    assert "pip install" in install["run"]
    assert '"$GITHUB_ACTION_PATH"' in install["run"]


def test_upload_step_is_optional_and_uses_the_written_sarif(action: dict[str, Any]) -> None:
    upload = step(action, "Upload SARIF to code scanning")
    assert upload["uses"].startswith("github/codeql-action/upload-sarif@")
    assert "inputs.upload-sarif == 'true'" in upload["if"]
    assert "steps.check.outputs.sarif-file != ''" in upload["if"]
    assert upload["with"]["sarif_file"] == "${{ steps.check.outputs.sarif-file }}"
    assert "inputs.category" in upload["with"]["category"]


# --- action.yml: the check script, run ----------------------------------------------------------------------

FAKE_PROVENANCE = """\
#!{python}
import json, os, sys
log = os.environ["FAKE_LOG"]
with open(log, "a") as fh:
    fh.write(json.dumps(sys.argv[1:]) + "\\n")
calls = sum(1 for _ in open(log))
codes = os.environ["FAKE_CODES"].split(",")
if "-o" in sys.argv and int(codes[calls - 1]) <= 1:
    open(sys.argv[sys.argv.index("-o") + 1], "w").write("{{}}")
sys.exit(int(codes[calls - 1]))
"""


def run_script(
    tmp_path: Path, script: str, env_spec: dict[str, str], inputs: dict[str, str], codes: str = ""
) -> tuple[int, list[list[str]], dict[str, str]]:
    """Run a step's script as the runner does (`bash -eo pipefail`), inputs resolved into its `env`."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    fake = bin_dir / "provenance"
    fake.write_text(FAKE_PROVENANCE.format(python=sys.executable), encoding="utf-8")
    fake.chmod(0o755)
    log, outputs = tmp_path / "calls.jsonl", tmp_path / "github_output"
    outputs.write_text("", encoding="utf-8")
    env = {
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "FAKE_LOG": str(log),
        "FAKE_CODES": codes,
        "GITHUB_OUTPUT": str(outputs),
    }
    for key, value in env_spec.items():
        match = EXPRESSION.fullmatch(value)
        assert match is not None and match[1].startswith("inputs."), value
        env[key] = inputs[match[1].removeprefix("inputs.")]
    bash = shutil.which("bash")
    assert bash is not None
    proc = subprocess.run(
        [bash, "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    calls = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    lines = outputs.read_text(encoding="utf-8").splitlines()
    return proc.returncode, calls, dict(line.split("=", 1) for line in lines)


def inputs_of(action: dict[str, Any], **given: str) -> dict[str, str]:
    values = {name: str(spec.get("default", "")) for name, spec in action["inputs"].items()}
    values.update({k.replace("_", "-"): v for k, v in given.items()})
    return values


def test_check_step_wires_every_input_into_the_command(tmp_path: Path, action: dict[str, Any]) -> None:
    check = step(action, "check")
    inputs = inputs_of(
        action,
        target="models/my release",
        policy="policies/strict-commercial.yaml",
        fail_on="high",
        format="json",
        sarif_file="out/report.sarif",
        attest="legal-review\n\n  export-control  \n",
    )
    (tmp_path / "out").mkdir()
    code, calls, outputs = run_script(tmp_path, check["run"], check["env"], inputs, codes="1,1")
    assert code == 0  # the step records the code; the last step fails the job
    assert outputs == {"exit-code": "1", "sarif-file": "out/report.sarif"}
    sarif_run, log_run = (parse_check(argv) for argv in calls)
    for args in (sarif_run, log_run):
        assert args.target == "models/my release"
        assert args.policy == "policies/strict-commercial.yaml"
        assert args.fail_on == "high"
        assert args.attest == ["legal-review", "export-control"]
    assert (sarif_run.format, sarif_run.output) == ("sarif", "out/report.sarif")
    assert (log_run.format, log_run.output) == ("json", None)


def test_empty_inputs_leave_the_defaults_to_provenance(tmp_path: Path, action: dict[str, Any]) -> None:
    check = step(action, "check")
    code, calls, outputs = run_script(
        tmp_path, check["run"], check["env"], inputs_of(action, target="org/model"), codes="0,0"
    )
    assert code == 0
    assert outputs == {"exit-code": "0", "sarif-file": "provenance.sarif"}
    assert calls == [
        ["check", "org/model", "--format", "sarif", "-o", "provenance.sarif"],
        ["check", "org/model", "--format", "text"],
    ]


@pytest.mark.parametrize(("codes", "expected"), [("4,4", "4"), ("5,1", "5"), ("1,3", "3"), ("0,1", "1")])
def test_tool_failures_win_over_findings(
    tmp_path: Path, action: dict[str, Any], codes: str, expected: str
) -> None:
    check = step(action, "check")
    code, _, outputs = run_script(
        tmp_path, check["run"], check["env"], inputs_of(action, target="org/model"), codes=codes
    )
    assert code == 0
    assert outputs["exit-code"] == expected
    sarif_written = int(codes.split(",", maxsplit=1)[0]) <= 1
    assert outputs["sarif-file"] == ("provenance.sarif" if sarif_written else "")


@pytest.mark.parametrize("exit_code", ["1", "3", "143"])
def test_fail_step_exits_with_provenance_exit_code(
    tmp_path: Path, action: dict[str, Any], exit_code: str
) -> None:
    fail = step(action, "Fail on findings")
    assert "inputs.fail == 'true'" in fail["if"]
    assert "steps.check.outputs.exit-code != '0'" in fail["if"]
    bash = shutil.which("bash")
    assert bash is not None
    proc = subprocess.run(
        [bash, "--noprofile", "--norc", "-eo", "pipefail", "-c", fail["run"]],
        env={"PROVENANCE_EXIT_CODE": exit_code, "PATH": os.environ["PATH"]},
        check=False,
        timeout=30,
    )
    assert proc.returncode == int(exit_code)


# --- pre-commit ---------------------------------------------------------------------------------------------


def test_pre_commit_hook_runs_provenance_check_on_a_folder() -> None:
    (hook,) = load(HOOKS)
    assert hook["id"] == "provenance-check"
    assert hook["language"] == "python"
    assert hook["pass_filenames"] is False
    assert hook["entry"] == "provenance check"
    args = parse_check([*shlex.split(hook["entry"])[1:], *hook["args"]])
    assert args.target == "."
    scripts = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]["scripts"]
    assert scripts["provenance"] == "provenance.cli:main"  # what `language: python` puts on PATH


@pytest.mark.parametrize(
    ("path", "runs"),
    [
        ("README.md", True),
        ("LICENSE", True),
        ("models/release/NOTICE.txt", True),
        ("USE_POLICY.md", True),
        ("config.json", True),
        ("adapter_config.json", True),
        ("policies/strict-commercial.yaml", True),
        ("model.safetensors", False),
        ("src/app.py", False),
        ("tokenizer.json", False),
    ],
)
def test_pre_commit_hook_runs_when_what_it_reads_changes(path: str, runs: bool) -> None:
    (hook,) = load(HOOKS)
    assert (re.search(hook["files"], path) is not None) is runs


# --- docs/ci.md ---------------------------------------------------------------------------------------------


def yaml_blocks() -> list[Any]:
    text = DOCS.read_text(encoding="utf-8")
    return [yaml.safe_load(block) for block in re.findall(r"```yaml\n(.*?)```", text, flags=re.S)]


def commands_in(value: Any) -> list[str]:
    """Every `provenance check ...` command line anywhere in a YAML document."""
    if isinstance(value, dict):
        return [c for v in value.values() for c in commands_in(v)]
    if isinstance(value, list):
        return [c for v in value for c in commands_in(v)]
    if isinstance(value, str):
        return [line.strip() for line in value.splitlines() if line.strip().startswith("provenance check")]
    return []


def test_docs_yaml_examples_parse_and_their_commands_are_valid() -> None:
    blocks = yaml_blocks()
    assert len(blocks) >= 4
    commands = [c for block in blocks for c in commands_in(block)]
    assert len(commands) >= 4
    for command in commands:
        argv = shlex.split(command.split("||")[0])
        parse_check(argv[1:])


def test_docs_workflow_job_uses_the_action_with_its_inputs(action: dict[str, Any]) -> None:
    workflows = [b for b in yaml_blocks() if isinstance(b, dict) and "jobs" in b]
    uses_action = [
        s
        for w in workflows
        for job in w["jobs"].values()
        for s in job["steps"]
        if "/provenance@" in s.get("uses", "")
    ]
    (example,) = uses_action
    assert set(example["with"]) <= set(action["inputs"])
    required = {name for name, spec in action["inputs"].items() if spec.get("required") is True}
    assert required <= set(example["with"])
    job = next(w["jobs"]["provenance"] for w in workflows if example in w["jobs"]["provenance"]["steps"])
    assert job["permissions"]["security-events"] == "write"  # upload-sarif needs it
    for w in workflows:
        assert w.get("on", w.get(True))  # YAML 1.1 reads a bare `on` key as True


def test_docs_gitlab_job_writes_sarif_and_gates_on_the_exit_code() -> None:
    gitlab = [b for b in yaml_blocks() if isinstance(b, dict) and "provenance-check" in b]
    job = next(b["provenance-check"] for b in gitlab if "script" in b["provenance-check"])
    commands = commands_in(job["script"])
    assert any("--format sarif" in c and "-o provenance.sarif" in c for c in commands)
    assert "provenance.sarif" in job["artifacts"]["paths"]
    advisory = next(b["provenance-check"] for b in gitlab if "allow_failure" in b["provenance-check"])
    assert advisory["allow_failure"]["exit_codes"] == [1]


def test_docs_pre_commit_example_names_the_hook() -> None:
    (hook,) = load(HOOKS)
    configs = [b for b in yaml_blocks() if isinstance(b, dict) and "repos" in b]
    (config,) = configs
    (repo,) = config["repos"]
    (used,) = repo["hooks"]
    assert used["id"] == hook["id"]
    parse_check(["check", *used["args"]])


def test_docs_exit_codes_match_the_cli() -> None:
    documented = set(
        re.findall(r"^\| `(\d+)`(?: / `(\d+)`)? \|", DOCS.read_text(encoding="utf-8"), flags=re.M)
    )
    codes = {c for pair in documented for c in pair if c}
    cli_codes = set(re.findall(r"^\s+(\d+)\s", EXIT_CODES_HELP, flags=re.M)) | set(
        re.findall(r"(\d{3}) terminated", EXIT_CODES_HELP)
    )
    assert codes == {"0", "1", "2", "3", "4", "5", "130", "143"}
    assert codes == cli_codes
