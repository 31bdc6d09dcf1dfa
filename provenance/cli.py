"""Command line. The only module that prints or picks exit codes.

Imports stay light at module level so `provenance --help` is fast: every command imports what it needs
when it runs.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import signal
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, NoReturn

from provenance import __version__
from provenance.errors import Interrupted, OutputError, ProvenanceError, UsageError

if TYPE_CHECKING:
    from provenance.lineage.model import LineageGraph
    from provenance.scan_report import ScanReport

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2
EXIT_INPUT = 3
EXIT_HUB = 4
EXIT_OUTPUT = 5

EXIT_CODES_HELP = """\
exit codes:
  0    ok
  1    policy violations at or above --fail-on (check)
  2    usage error
  3    bad input: a target or a file in it is unreadable or malformed
  4    Hub or network error (not found, gated, rate limited, offline with nothing cached)
  5    output error: the report could not be written
  130  interrupted (SIGINT); 143 terminated (SIGTERM)
"""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        raise UsageError("", message)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="provenance",
        description="What a model really is, where it came from, and what its licenses oblige.",
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"provenance {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands.required = True
    scan = commands.add_parser(
        "scan",
        help="collect lineage and license evidence from a model",
        description="Collect evidence from a model without downloading weights or executing anything.",
        epilog=_TARGETS_HELP + "\n" + EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    scan.add_argument("target", metavar="TARGET")
    scan.add_argument(
        "--format", choices=("text", "json"), default="text", help="report format (default: text)"
    )
    scan.add_argument(
        "-o", "--output", metavar="FILE", help="write the report to FILE (atomically); '-' is stdout"
    )
    scan.add_argument(
        "--cache-dir", metavar="DIR", help="Hugging Face cache to use (default: as huggingface_hub)"
    )
    scan.add_argument(
        "--max-files", type=int, default=100_000, help="refuse folders with more files (default 100000)"
    )
    scan.add_argument("--no-lineage", action="store_true", help="do not resolve bases (no lineage section)")
    scan.add_argument(
        "--no-claims", action="store_true", help="do not check benchmark claims (no claims section)"
    )
    scan.add_argument("--max-depth", type=int, default=8, metavar="N", help="lineage depth limit (default 8)")
    scan.set_defaults(run=_cmd_scan)
    graph = commands.add_parser(
        "graph",
        help="the lineage graph of a model: bases, teachers, relations, evidence",
        description="Resolve a model's lineage (Hub, HF cache, knowledge base) and render it.",
        epilog=_TARGETS_HELP + "\n" + EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    graph.add_argument("target", metavar="TARGET")
    graph.add_argument("--format", choices=("text", "mermaid", "dot", "json"), default="text")
    graph.add_argument("-o", "--output", metavar="FILE", help="write to FILE (atomically); '-' is stdout")
    graph.add_argument(
        "--cache-dir", metavar="DIR", help="Hugging Face cache to use (default: as huggingface_hub)"
    )
    graph.add_argument("--max-depth", type=int, default=8, metavar="N", help="depth limit (default 8)")
    graph.add_argument(
        "--weights",
        nargs=2,
        metavar=("PARENT_PATH", "PARENT_ID"),
        help="opt-in weight witness: compare the local TARGET's tensors with a local PARENT_PATH checkpoint",
    )
    graph.set_defaults(run=_cmd_graph)
    for module in _COMMAND_MODULES:
        importlib.import_module(module).register(commands)
    return parser


# Commands that live next to their engine: each module has `register(commands)` adding its sub-parser with
# `set_defaults(run=...)`, and imports nothing heavy at module level (start-up time).
_COMMAND_MODULES = (
    "provenance.policy.command",
    "provenance.verify.hashes_command",
    "provenance.verify.claims_command",
    "provenance.report.outputs_command",
    "provenance.report.sbom_command",
)


_TARGETS_HELP = """\
targets:
  org/name[@revision]     a Hub model (branch, tag or commit); offline: the HF cache, then the bundled
                          knowledge base
  hf-cache:org/name[@rev] a model from the local Hugging Face cache only
  hf-cache: or CACHE_DIR  scan: every model of the Hugging Face cache (--cache-dir, else the default one),
                          each from the cache alone, then a summary
  PATH                    a local model folder, a models--org--name cache folder, or one .safetensors/.gguf/
                          .bin/.pt/.pth/.ckpt file. A local path wins over a Hub id of the same spelling.
"""


def _cmd_scan(args: argparse.Namespace) -> int:
    from provenance.report import render  # noqa: PLC0415
    from provenance.scan import scan  # noqa: PLC0415

    output = _check_output(args.output, args.target)
    cache_dir = Path(args.cache_dir) if args.cache_dir else None
    from provenance.sources.resolve import cache_target  # noqa: PLC0415

    whole_cache = cache_target(args.target, cache_dir)
    if whole_cache is not None:
        return _scan_cache(args, output, *whole_cache)
    with _progress() as progress:
        report = scan(args.target, cache_dir=cache_dir, max_files=args.max_files, progress=progress)
    lineage = None if args.no_lineage else _lineage(report, cache_dir, args.max_depth, None)
    claims = None
    if not args.no_claims:
        from provenance.verify.claims import claims_section  # noqa: PLC0415

        claims = claims_section(report)
    text = render(report, args.format, color=_use_color(output), lineage=lineage, claims=claims)
    _emit(text, output)
    return EXIT_OK


def _scan_cache(args: argparse.Namespace, output: Path | None, root: Path, repo_ids: list[str]) -> int:
    """Every model of a Hugging Face cache, each from the cache alone; one error does not stop the others."""
    from provenance.report.cache_report import CachedModel, exit_code, render_cache  # noqa: PLC0415
    from provenance.scan import scan  # noqa: PLC0415
    from provenance.sources.resolve import CACHE_PREFIX, cached_revision  # noqa: PLC0415

    models: list[CachedModel] = []
    with _progress() as progress:
        for done, repo_id in enumerate(repo_ids):
            if progress is not None:
                progress(done, len(repo_ids), repo_id)
            try:
                target = f"{CACHE_PREFIX}{repo_id}{cached_revision(root, repo_id)}"
                report = scan(target, cache_dir=root, max_files=args.max_files)
                lineage = None if args.no_lineage else _lineage(report, root, args.max_depth, None)
                claims = None
                if not args.no_claims:
                    from provenance.verify.claims import claims_section  # noqa: PLC0415

                    claims = claims_section(report)
            except Interrupted:
                raise
            except ProvenanceError as exc:
                models.append(CachedModel(repo_id, error=exc))
                continue
            models.append(CachedModel(repo_id, report, lineage, claims))
    _emit(render_cache(models, root, args.format, color=_use_color(output)), output)
    return exit_code(models)


def _cmd_graph(args: argparse.Namespace) -> int:
    from provenance.lineage.render import render  # noqa: PLC0415
    from provenance.scan import scan  # noqa: PLC0415

    output = _check_output(args.output, args.target)
    cache_dir = Path(args.cache_dir) if args.cache_dir else None
    report = scan(args.target, cache_dir=cache_dir)
    graph = _lineage(report, cache_dir, args.max_depth, args.weights)
    _emit(render(graph, args.format), output)
    return EXIT_OK


def _lineage(
    report: ScanReport, cache_dir: Path | None, max_depth: int, weights: list[str] | None
) -> LineageGraph:
    from provenance.lineage.graph import build_graph, default_resolver  # noqa: PLC0415

    if max_depth < 0:
        raise UsageError("", "--max-depth must be 0 or more")
    extra = []
    if weights is not None:
        from provenance.lineage.weights import as_witness, compare_checkpoints  # noqa: PLC0415

        if report.target.root is None:
            raise UsageError("", "--weights needs a local TARGET checkpoint")
        witness = as_witness(compare_checkpoints(Path(report.target.root), Path(weights[0])), weights[1])
        if witness is not None:
            extra.append(witness)
    from provenance.licenses.catalog import default_catalog  # noqa: PLC0415
    from provenance.policy.engine import with_effective_licenses  # noqa: PLC0415

    graph = build_graph(report, default_resolver(cache_dir=cache_dir), max_depth, extra=extra)
    return with_effective_licenses(graph, default_catalog())


@contextlib.contextmanager
def _progress() -> Iterator[Callable[[int, int, str], None] | None]:
    """A progress bar on stderr when it is a terminal; nothing otherwise (CI logs stay clean)."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console  # noqa: PLC0415
    from rich.progress import Progress  # noqa: PLC0415

    with Progress(console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("scanning", total=None)

        def update(done: int, total: int, path: str) -> None:
            bar.update(task, completed=done, total=total, description=_printable(path)[-40:])

        yield update


def _use_color(output: Path | None) -> bool:
    return output is None and sys.stdout.isatty() and not os.environ.get("NO_COLOR")


def _check_output(output: str | None, target: str) -> Path | None:
    """Refuse a bad --output before any scanning: missing folder, or a path inside the scanned model."""
    if output is None or output == "-":
        return None
    path = Path(output).expanduser().absolute()
    if not path.parent.is_dir():
        raise OutputError(output, f"output folder {path.parent} does not exist")
    if path.is_dir():
        raise OutputError(output, "is a directory")
    scanned = Path(target).expanduser()
    if os.path.lexists(scanned):
        scanned = scanned.resolve()
        real = path.resolve()
        if real == scanned or (scanned.is_dir() and real.is_relative_to(scanned)):
            raise OutputError(
                output, "points at the scanned model (or inside it); write the report elsewhere"
            )
    return path


def _emit(text: str, output: Path | None) -> None:
    if output is None:
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    from provenance.report.write import write_atomic  # noqa: PLC0415

    write_atomic(output, text.encode("utf-8"))


def _raise_interrupted(signum: int, _frame: FrameType | None) -> None:
    raise Interrupted(signum)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: parse, run one command, map errors to one line on stderr and an exit code."""
    signal.signal(signal.SIGTERM, _raise_interrupted)
    debug = "--debug" in (argv if argv is not None else sys.argv[1:])
    try:
        args = build_parser().parse_args(argv)
        run: Callable[[argparse.Namespace], int] = args.run
        return run(args)
    except KeyboardInterrupt:
        return _fail(Interrupted(signal.SIGINT), debug)
    except ProvenanceError as exc:
        return _fail(exc, debug)


def _fail(exc: ProvenanceError, debug: bool) -> int:
    if debug:
        import traceback  # noqa: PLC0415

        traceback.print_exception(exc, file=sys.stderr)
    target = f"{_printable(exc.target)}: " if exc.target else ""
    sys.stderr.write(f"provenance: error: {target}{_printable(exc.problem)}\n")
    if exc.hint:
        sys.stderr.write(f"  {_printable(exc.hint)}\n")
    return exc.exit_code


def _printable(text: str) -> str:
    """Neutralise control characters (ANSI escapes from model-supplied names) before they reach a terminal."""
    return "".join(ch if ch.isprintable() or ch == "\n" else f"\\x{ord(ch):02x}" for ch in text)


if __name__ == "__main__":
    sys.exit(main())
