"""`provenance notice`, `provenance card-section` and `provenance report` (docs/outputs.md).

Each runs the same evaluation as `provenance check` (scan, lineage, license catalog, policy) and renders it.
Nothing heavy is imported at module level (start-up time of `provenance --help`).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from provenance.policy.command import Evaluation

_EPILOG = """\
policies:
  The intended use of --policy (default: the bundled `default` policy: commercial, public distribution,
  hosted) decides which obligations are triggered, so which notices the outputs carry. See docs/outputs.md.

exit codes:
  0    written
  2    usage error
  3    input error (unreadable target, invalid policy file)
  4    Hub or network error
  5    output error (cannot write -o FILE; nothing is left half-written)
  130  interrupted (SIGINT), 143 terminated (SIGTERM)
"""


def register(commands: argparse._SubParsersAction[Any]) -> None:
    """Add `notice`, `card-section` and `report` to the `provenance` parser."""
    from provenance.cli import _TARGETS_HELP  # noqa: PLC0415

    epilog = _TARGETS_HELP + "\n" + _EPILOG
    formatter = argparse.RawDescriptionHelpFormatter
    notice = commands.add_parser(
        "notice",
        help="write the NOTICE file the licenses reaching a model require",
        description="The attributions, notice lines, upstream NOTICE texts and license texts that the\n"
        "licenses reaching TARGET require for the intended use, verbatim from the license catalog.",
        epilog=epilog,
        formatter_class=formatter,
    )
    _common(notice, output_required=True)
    notice.set_defaults(run=_run_notice)
    card = commands.add_parser(
        "card-section",
        help="a 'License and provenance' section and front matter for a model card",
        description="A Markdown section for TARGET's model card, preceded by the front matter keys\n"
        "(license, license_name, license_link, base_model, base_model_relation) saying what the check found.",
        epilog=epilog,
        formatter_class=formatter,
    )
    _common(card, output_required=False)
    card.set_defaults(run=_run_card_section)
    report = commands.add_parser(
        "report",
        help="a self-contained report people can look at (HTML: lineage picture, licenses, findings)",
        description="One HTML file with no external resources: the lineage graph as SVG, the licenses that\n"
        "reach TARGET, their obligations, the findings, and hash verification results when given.",
        epilog=epilog,
        formatter_class=formatter,
    )
    report.add_argument("--format", choices=("html",), default="html", help="report format (default: html)")
    report.add_argument(
        "--verification",
        metavar="FILE",
        help="a `provenance verify --format json` report to include in the page",
    )
    _common(report, output_required=True)
    report.set_defaults(run=_run_report)


def _common(parser: argparse.ArgumentParser, *, output_required: bool) -> None:
    parser.add_argument("target", metavar="TARGET")
    where = "write to FILE (atomically); '-' is stdout" + ("" if output_required else " (default: stdout)")
    parser.add_argument("-o", "--output", metavar="FILE", required=output_required, help=where)
    parser.add_argument("--policy", metavar="FILE|NAME", help="policy file or bundled policy name")
    parser.add_argument("--cache-dir", metavar="DIR", help="Hugging Face cache to use")
    parser.add_argument(
        "--max-depth", type=int, default=8, metavar="N", help="lineage depth limit (default 8)"
    )


def _evaluate(args: argparse.Namespace) -> Evaluation:
    from provenance.policy.command import evaluate  # noqa: PLC0415

    cache_dir = Path(args.cache_dir) if args.cache_dir else None
    return evaluate(args.target, policy=args.policy, cache_dir=cache_dir, max_depth=args.max_depth)


def _run_notice(args: argparse.Namespace) -> int:
    from provenance.cli import _check_output, _emit  # noqa: PLC0415
    from provenance.report.notice import render_notice  # noqa: PLC0415

    output = _check_output(args.output, args.target)
    _emit(render_notice(_evaluate(args)), output)
    return 0


def _run_card_section(args: argparse.Namespace) -> int:
    from provenance.cli import _check_output, _emit  # noqa: PLC0415
    from provenance.report.card_section import render_card_section  # noqa: PLC0415

    output = _check_output(args.output, args.target)
    _emit(render_card_section(_evaluate(args)), output)
    return 0


def _run_report(args: argparse.Namespace) -> int:
    from provenance.cli import _check_output, _emit  # noqa: PLC0415
    from provenance.report.html import render_html  # noqa: PLC0415

    output = _check_output(args.output, args.target)
    verification = _verification(args.verification) if args.verification else None
    _emit(render_html(_evaluate(args), verification=verification), output)
    return 0


def _verification(path: str) -> dict[str, Any]:
    import json  # noqa: PLC0415

    from provenance.errors import InputError  # noqa: PLC0415

    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(path, f"cannot read the verification report: {exc.strerror}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(path, f"not a JSON verification report: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("files"), list):
        raise InputError(path, "not a `provenance verify --format json` report (no `files` list)")
    return data
