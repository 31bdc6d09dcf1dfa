"""`provenance sbom TARGET --format spdx-json|spdx-tv|spdx3|cyclonedx`: the lineage as an SBOM."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, Literal, get_args

_EPILOG = """\
formats:
  spdx-json   SPDX 2.3 JSON (spdx-tools), validated before writing
  spdx-tv     SPDX 2.3 tag-value (spdx-tools), validated before writing
  spdx3       SPDX 3.0.1 JSON-LD with the AI profile (spdx-python-model)
  cyclonedx   CycloneDX 1.6 JSON ML-BOM with a modelCard (cyclonedx-python-lib), schema-validated

The same model at the same revision gives the same bytes. The creation time is SOURCE_DATE_EPOCH when set,
else 1970-01-01T00:00:00Z. See docs/sbom.md.

exit codes:
  0    the SBOM was written
  2    usage error
  3    input error (unreadable target, invalid policy file)
  4    Hub or network error
  5    output error (cannot write -o FILE, or the document failed validation: nothing is written)
  130  interrupted (SIGINT), 143 terminated (SIGTERM)
"""


# Here, not in sbom.py, so that building the CLI parser imports nothing of the SBOM builders (start-up time).
SbomFormat = Literal["spdx-json", "spdx-tv", "spdx3", "cyclonedx"]
SBOM_FORMATS: tuple[SbomFormat, ...] = get_args(SbomFormat)


def register(commands: argparse._SubParsersAction[Any]) -> None:
    """Add `sbom` to the `provenance` parser."""
    from provenance.cli import _TARGETS_HELP  # noqa: PLC0415

    sbom = commands.add_parser(
        "sbom",
        help="the model's lineage and licenses as an SBOM: SPDX 2.3, SPDX 3.0.1 (AI), CycloneDX 1.6",
        description=(
            "Resolve the model's lineage and the licenses that reach it, and write them as an SBOM: a "
            "package or component per model, lineage relationships, declared and concluded licenses."
        ),
        epilog=_TARGETS_HELP + "\n" + _EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sbom.add_argument("target", metavar="TARGET")
    sbom.add_argument("--format", choices=SBOM_FORMATS, required=True, help="SBOM format")
    sbom.add_argument("-o", "--output", metavar="FILE", help="write to FILE (atomically); '-' is stdout")
    sbom.add_argument("--policy", metavar="FILE|NAME", help="policy file or bundled policy name")
    sbom.add_argument("--cache-dir", metavar="DIR", help="Hugging Face cache to use")
    sbom.add_argument("--max-depth", type=int, default=8, metavar="N", help="lineage depth limit (default 8)")
    sbom.set_defaults(run=_run)


def _run(args: argparse.Namespace) -> int:
    import os  # noqa: PLC0415

    from provenance.cli import _check_output, _emit  # noqa: PLC0415
    from provenance.licenses.catalog import default_catalog  # noqa: PLC0415
    from provenance.policy.command import evaluate  # noqa: PLC0415
    from provenance.report.sbom import catalog_details, creation_time, render_sbom  # noqa: PLC0415

    output = _check_output(args.output, args.target)
    created = creation_time(os.environ)
    evaluation = evaluate(
        args.target,
        policy=args.policy,
        cache_dir=Path(args.cache_dir) if args.cache_dir else None,
        max_depth=args.max_depth,
    )
    text = render_sbom(evaluation, args.format, licenses=catalog_details(default_catalog()), created=created)
    _emit(text, output)
    return 0
