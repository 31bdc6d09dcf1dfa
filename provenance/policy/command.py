"""`provenance check`, the CI gate: lineage + license catalog + organisation policy -> findings, exit 0/1."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from provenance.lineage.model import LineageGraph
    from provenance.policy.model import CheckReport
    from provenance.policy.orgpolicy import OrgPolicy
    from provenance.scan_report import ScanReport

EXIT_FINDINGS = 1

_EPILOG = """\
policies:
  --policy takes a YAML file, or the name of a bundled policy: default, strict-commercial, research-only.
  Without --policy the bundled `default` policy is used. See docs/policies.md.

exit codes:
  0    nothing at or above the --fail-on severity (default: the policy's `fail_on`)
  1    at least one finding at or above it (suppressed findings never count)
  2    usage error (bad arguments, a policy name that does not exist)
  3    input error (unreadable target, invalid policy file: every problem listed with file and line)
  4    Hub or network error
  5    output error (cannot write -o FILE; nothing is left half-written)
  130  interrupted (SIGINT), 143 terminated (SIGTERM)
"""


def register(commands: argparse._SubParsersAction[Any]) -> None:
    """Add `check` to the `provenance` parser."""
    from provenance.cli import _TARGETS_HELP  # noqa: PLC0415

    check = commands.add_parser(
        "check",
        help="judge a model against a policy: licenses, obligations, findings (exit 1 on findings)",
        description=(
            "Resolve the model's lineage, compute the licenses that reach it and what they oblige for the "
            "intended use, and judge the result against an organisation policy. A local folder is checked "
            "as the artifact about to be released (LICENSE/NOTICE copies, name prefix, declared licenses)."
        ),
        epilog=_TARGETS_HELP + "\n" + _EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    check.add_argument("target", metavar="TARGET")
    check.add_argument("--policy", metavar="FILE|NAME", help="policy file or bundled policy name")
    check.add_argument("--format", choices=("text", "json", "sarif"), default="text")
    check.add_argument(
        "--fail-on",
        metavar="SEVERITY",
        choices=("info", "low", "medium", "high", "critical"),
        help="fail (exit 1) on findings at or above this severity (default: the policy's fail_on)",
    )
    check.add_argument("--attest", action="append", default=[], metavar="NAME", help="confirm an attestation")
    check.add_argument("-o", "--output", metavar="FILE", help="write the report to FILE (atomically)")
    check.add_argument("--cache-dir", metavar="DIR", help="Hugging Face cache to use")
    check.add_argument(
        "--max-depth", type=int, default=8, metavar="N", help="lineage depth limit (default 8)"
    )
    check.set_defaults(run=_run)


def _policy(value: str | None, known_ids: tuple[str, ...]) -> OrgPolicy:
    from provenance.errors import UsageError  # noqa: PLC0415
    from provenance.policy.orgpolicy import (  # noqa: PLC0415
        bundled_policy,
        bundled_policy_names,
        default_policy,
        load_policy,
    )

    if value is None:
        return default_policy()
    path = Path(value)
    if value in bundled_policy_names() and not path.exists():
        return bundled_policy(value)
    if not path.exists() and path.suffix not in {".yaml", ".yml"} and "/" not in value:
        names = ", ".join(bundled_policy_names())
        raise UsageError(value, f"no policy file or bundled policy of that name (bundled: {names})")
    return load_policy(path, known_ids)


@dataclass(frozen=True)
class Evaluation:
    """One model judged: the scan, its lineage and the check report (what every output format renders)."""

    scan: ScanReport
    graph: LineageGraph
    report: CheckReport


def evaluate(
    target: str,
    *,
    policy: str | None = None,
    attest: Sequence[str] = (),
    fail_on: str | None = None,
    cache_dir: Path | None = None,
    max_depth: int = 8,
) -> Evaluation:
    """Scan TARGET, resolve its lineage, judge it against a policy (a file, a bundled name, or the default).

    The one entry point for `check`, `notice`, `sbom` and the other outputs, so that they agree."""
    from provenance import __version__  # noqa: PLC0415
    from provenance.cli import _lineage  # noqa: PLC0415
    from provenance.licenses.catalog import default_catalog  # noqa: PLC0415
    from provenance.model import Severity  # noqa: PLC0415
    from provenance.policy.artifact import load_artifact  # noqa: PLC0415
    from provenance.policy.engine import check  # noqa: PLC0415
    from provenance.scan import scan  # noqa: PLC0415

    catalog = default_catalog()
    org_policy = _policy(policy, catalog.ids())
    if attest:
        org_policy = org_policy.with_attestations(attest)
    report = scan(target, cache_dir=cache_dir)
    if org_policy.require_weights_metadata:
        _require_weights_metadata(report, org_policy.location)
    graph = _lineage(report, cache_dir, max_depth, None)
    root = Path(report.target.root) if report.target.root else None
    artifact = load_artifact(root) if root is not None and root.is_dir() else None
    result = check(
        graph,
        catalog,
        org_policy,
        target=target,
        source=report.target.kind,
        revision=report.target.commit or report.target.revision,
        artifact=artifact,
        fail_on=Severity.parse(fail_on) if fail_on else None,
        scan_findings=report.findings,
        tool_version=__version__,
    )
    return Evaluation(report, graph, result)


def _require_weights_metadata(report: ScanReport, policy_location: str) -> None:
    """No verdict (exit 4) when the policy needs the weights' metadata and the scan could not read it."""
    from provenance.errors import GatedRepoError, HubUnavailableError  # noqa: PLC0415

    why = f"the policy ({policy_location}) sets evidence.require_weights_metadata"
    target = report.target.requested
    gated = sorted({f.location or "" for f in report.findings if f.rule_id == "hub.gated-file"})
    if gated:
        fixes = sorted({f.fix for f in report.findings if f.rule_id == "hub.gated-file" and f.fix})
        raise GatedRepoError(
            target,
            f"gated repo: the weights' metadata could not be read ({', '.join(gated[:3])}); {why}",
            fixes[0] if fixes else "accept the repo's terms on the Hub and set HF_TOKEN",
        )
    if report.target.kind == "knowledge-base":
        raise HubUnavailableError(
            target,
            f"resolved from the bundled knowledge base only (Hub unreachable or offline, nothing cached): "
            f"no weights' metadata; {why}",
            "run where the Hub is reachable, or download the repo's metadata into the HF cache first",
        )


def _run(args: argparse.Namespace) -> int:
    from provenance.cli import _check_output, _emit  # noqa: PLC0415

    output = _check_output(args.output, args.target)
    cache_dir = Path(args.cache_dir) if args.cache_dir else None
    result = evaluate(
        args.target,
        policy=args.policy,
        attest=args.attest,
        fail_on=args.fail_on,
        cache_dir=cache_dir,
        max_depth=args.max_depth,
    ).report
    _emit(_render(result, args.format), output)
    return 0 if result.passed else EXIT_FINDINGS


def _render(result: CheckReport, fmt: str) -> str:
    if fmt == "json":
        import json  # noqa: PLC0415

        return json.dumps(result.to_json(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    if fmt == "sarif":
        from provenance.report.sarif import render_sarif  # noqa: PLC0415

        return render_sarif(result, base=str(Path.cwd()))
    from provenance.report.check_text import render_check_text  # noqa: PLC0415

    return render_check_text(result)
