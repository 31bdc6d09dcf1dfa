"""`provenance claims`: check a model's benchmark claims against published figures and reproduced results.

This module is the edge: it reads the target (through the same sources as `scan`), the `--text` and
`--results` files, then hands plain data to the pure checker in `provenance.verify.claims`. Nothing heavy is
imported at module level (start-up time of `provenance --help`).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from provenance.sources.interface import Source
    from provenance.verify.claims_extract import Extraction, Subject
    from provenance.verify.claims_figures import Catalog

MAX_INPUT_BYTES = 64 * 1024 * 1024
EVAL_RESULTS_LIMIT = 1024 * 1024

CLAIMS_EXIT_HELP = """\
claims:
  A contradicted claim (a number the published table does not have, a comparison the figures do not support,
  a reproduction outside the noise band, or a number copied from a base or teacher) is reported, and the
  command exits 0: the report is the product. With --fail-on-contradiction it exits 1 instead, for CI.
"""


def register(commands: argparse._SubParsersAction[Any]) -> None:
    """Add the `claims` sub-command to the `provenance` parser."""
    from provenance.cli import _TARGETS_HELP, EXIT_CODES_HELP  # noqa: PLC0415

    parser = commands.add_parser(
        "claims",
        help="check benchmark claims against published figures and reproduced results",
        description=(
            "Extract benchmark claims from a model's card (model-index, .eval_results/*.yaml, Markdown "
            "tables, prose) and from --text files; check each against the published figures (cited) and "
            "against reproduced results (--results), with a Wilson or bootstrap noise band."
        ),
        epilog=_TARGETS_HELP + "\n" + CLAIMS_EXIT_HELP + "\n" + EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("target", metavar="TARGET")
    parser.add_argument(
        "--results",
        metavar="FILE",
        action="append",
        default=[],
        help="reproduced results: lm-eval-harness results JSON, per-sample JSONL, or the simple YAML "
        "(repeatable; formats in docs/claims.md)",
    )
    parser.add_argument(
        "--text",
        metavar="FILE",
        action="append",
        default=[],
        help="also check claims in a Markdown/text file",
    )
    parser.add_argument(
        "--format", choices=("text", "json"), default="text", help="report format (default text)"
    )
    parser.add_argument(
        "-o", "--output", metavar="FILE", help="write the report to FILE (atomically); '-' is stdout"
    )
    parser.add_argument(
        "--cache-dir", metavar="DIR", help="Hugging Face cache to use (default: as huggingface_hub)"
    )
    parser.add_argument("--confidence", type=float, default=0.95, help="noise band confidence (default 0.95)")
    parser.add_argument(
        "--seed", type=int, default=0, help="bootstrap seed (default 0; same seed, same band)"
    )
    parser.add_argument(
        "--fail-on-contradiction", action="store_true", help="exit 1 when any claim is contradicted"
    )
    parser.set_defaults(run=_run)


def _run(args: argparse.Namespace) -> int:
    from provenance.cli import EXIT_FINDINGS, EXIT_OK, _check_output, _emit  # noqa: PLC0415
    from provenance.errors import UsageError  # noqa: PLC0415
    from provenance.scan import scan_source  # noqa: PLC0415
    from provenance.sources.resolve import resolve  # noqa: PLC0415
    from provenance.verify import claims  # noqa: PLC0415
    from provenance.verify.claims_figures import load_catalog  # noqa: PLC0415
    from provenance.verify.claims_results import parse_results  # noqa: PLC0415

    if not 0.5 <= args.confidence < 1:
        raise UsageError("", f"--confidence must be at least 0.5 and below 1, got {args.confidence}")
    output = _check_output(args.output, args.target)
    texts = [(path, _read_input(path)) for path in args.text]
    results = [(path, _read_input(path)) for path in args.results]
    catalog = load_catalog()
    reproductions = [r for path, data in results for r in parse_results(data, path, catalog)]
    cache_dir = Path(args.cache_dir) if args.cache_dir else None
    source = resolve(args.target, cache_dir=cache_dir)
    scanned = scan_source(source)
    subject = claims.subject_of(scanned, catalog)
    model_index, lines = _model_index(source)
    extraction = claims.extract_from_card(
        catalog,
        subject,
        scanned.card_body,
        scanned.card_body_start_line or 1,
        model_index=model_index,
        model_index_lines=lines,
    )
    extraction.extend(_eval_results(source, catalog, subject))
    extraction.extend(_texts(texts, catalog, subject))
    report = claims.check(
        extraction,
        subject,
        reproductions,
        catalog,
        confidence=args.confidence,
        seed=args.seed,
        target=scanned.target.to_json(),
    )
    rendered = claims.render_json(report) if args.format == "json" else claims.render_text(report)
    _emit(rendered, output)
    return EXIT_FINDINGS if args.fail_on_contradiction and report.contradicted() else EXIT_OK


def _read_input(path: str) -> bytes:
    from provenance.errors import InputError, LimitExceededError, TargetNotFoundError  # noqa: PLC0415

    file = Path(path).expanduser()
    try:
        size = file.stat().st_size
        if not file.is_file():
            raise InputError(path, "is not a regular file")
        if size > MAX_INPUT_BYTES:
            raise LimitExceededError(path, f"file is over the size cap ({size} > {MAX_INPUT_BYTES} bytes)")
        return file.read_bytes()
    except FileNotFoundError:
        raise TargetNotFoundError(path, "no such file") from None
    except OSError as exc:
        raise InputError(path, f"cannot read: {exc.strerror}") from None


def _texts(texts: list[tuple[str, bytes]], catalog: Catalog, subject: Subject) -> Extraction:
    from provenance.readers.textfiles import decode_text  # noqa: PLC0415
    from provenance.verify.claims_extract import Extraction, text_claims  # noqa: PLC0415

    out = Extraction()
    for path, data in texts:
        text, _, findings = decode_text(data, path)
        out.findings.extend(findings)
        out.extend(text_claims(catalog, subject, text, path))
    return out


def _model_index(source: Source) -> tuple[Any, dict[tuple[str | int, ...], int]]:
    """The card's `model-index` and key lines; an unreadable card gives nothing (the scan reports it)."""
    from provenance.errors import EntryNotFoundError, GatedRepoError, HubError, ProvenanceError  # noqa: PLC0415
    from provenance.readers.modelcard import parse_card  # noqa: PLC0415
    from provenance.scan import CARD_LIMIT  # noqa: PLC0415

    entry = next((f for f in source.files() if f.path.lower() == "readme.md"), None)
    if entry is None:
        return None, {}
    try:
        card = parse_card(source.read(entry.path, CARD_LIMIT), entry.path)
    except (GatedRepoError, EntryNotFoundError):
        return None, {}
    except HubError:
        raise
    except ProvenanceError:
        return None, {}
    return card.metadata.get("model-index"), dict(card.metadata_lines)


def _eval_results(source: Source, catalog: Catalog, subject: Subject) -> Extraction:
    from provenance.errors import EntryNotFoundError, GatedRepoError, HubError, ProvenanceError  # noqa: PLC0415
    from provenance.model import Finding, Severity  # noqa: PLC0415
    from provenance.readers import safe_yaml  # noqa: PLC0415
    from provenance.verify.claims_extract import Extraction, context, eval_results_claims  # noqa: PLC0415

    out = Extraction()
    for entry in source.files():
        if not (entry.path.startswith(".eval_results/") and entry.path.endswith((".yaml", ".yml"))):
            continue
        try:
            data = source.read(entry.path, EVAL_RESULTS_LIMIT)
            parsed = safe_yaml.load(data.decode("utf-8"), entry.path)
        except (GatedRepoError, EntryNotFoundError):
            continue
        except HubError:
            raise
        except (ProvenanceError, UnicodeDecodeError) as exc:
            problem = exc.problem if isinstance(exc, ProvenanceError) else "not UTF-8"
            out.findings.append(Finding("claims.eval-results-malformed", Severity.LOW, problem, entry.path))
            continue
        out.extend(eval_results_claims(context(catalog, subject, entry.path), parsed))
    return out
