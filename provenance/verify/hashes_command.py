"""`provenance verify`, `provenance lock` and `provenance diff` (docs/verify.md).

Only argument parsing, progress and output live here; the engines are check_files, lock and diff. Nothing
heavy is imported at module level (start-up time of `provenance --help`).
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from provenance.verify.check_files import HashReport
    from provenance.verify.manifest import Expectation

VERIFY_EXIT_CODES = """\
exit codes:
  0    every file matches (and the tensor digest, when one is expected)
  1    a mismatch, missing, extra, renamed or unverifiable file (see --allow-extra, --allow-unverifiable)
  2    usage error
  3    bad input: TARGET or a manifest is unreadable or malformed, or a file changed while it was read
  4    Hub or network error (--against: not found, gated, rate limited, offline with nothing cached)
  5    output error: the report could not be written
  130  interrupted (SIGINT); 143 terminated (SIGTERM)
"""

LOCK_EXIT_CODES = """\
exit codes:
  0    lock written
  2    usage error
  3    bad input: TARGET is unreadable or malformed, or a file changed while it was read
  4    Hub or network error
  5    output error: the lock could not be written (nothing half-written is left)
  130  interrupted (SIGINT); 143 terminated (SIGTERM)
"""

DIFF_EXIT_CODES = """\
exit codes:
  0    no drift
  1    drift: a license, lineage, revision, file or tensor digest changed
  2    usage error
  3    bad input: a lock file is unreadable or malformed
  4    Hub or network error (a side given as org/name@revision)
  5    output error
  130  interrupted (SIGINT); 143 terminated (SIGTERM)
"""

_VERIFY_DESCRIPTION = """\
Hash a local checkpoint (streaming, every core, bounded memory) and compare each file with what it should
be: the Hub's published digests (--against), a lock file (--lock), or an OpenSSF model-signing manifest or
in-toto statement (--manifest). Without any of them, print the digests (and --tensor-digest).
A Hugging Face cache folder (models--org--name) is checked against the digests its own listing records.
"""


def register(commands: argparse._SubParsersAction[Any]) -> None:
    """Add `verify`, `lock` and `diff` to the `provenance` parser."""
    raw = argparse.RawDescriptionHelpFormatter
    verify = commands.add_parser(
        "verify",
        help="check a local checkpoint's files against published digests, a lock or a signing manifest",
        description=_VERIFY_DESCRIPTION,
        epilog=VERIFY_EXIT_CODES,
        formatter_class=raw,
    )
    verify.add_argument(
        "target", metavar="TARGET", help="a local model folder, checkpoint file or cache folder"
    )
    against = verify.add_mutually_exclusive_group()
    against.add_argument("--against", metavar="ORG/NAME[@REV]", help="the Hub's published digests")
    against.add_argument(
        "--lock", metavar="FILE", help="a provenance.lock (root node's files, tensor digest)"
    )
    against.add_argument(
        "--manifest",
        metavar="FILE",
        help="model-signing signature, DSSE envelope, in-toto statement, or lock",
    )
    verify.add_argument(
        "--tensor-digest",
        action="store_true",
        help="also compute the tensor digest (same pass over the files)",
    )
    verify.add_argument("--allow-extra", action="store_true", help="files not in the manifest do not fail")
    verify.add_argument(
        "--allow-unverifiable", action="store_true", help="files without an expected digest do not fail"
    )
    _common(verify)
    verify.set_defaults(run=run_verify)

    lock = commands.add_parser(
        "lock",
        help="write provenance.lock: the lineage pinned by revision, licenses, file and tensor digests",
        description="Pin TARGET and every node of its lineage: revision, declared licenses, file digests "
        "(hashed for a local TARGET, published for Hub nodes) and the tensor digest.",
        epilog=LOCK_EXIT_CODES,
        formatter_class=raw,
    )
    lock.add_argument("target", metavar="TARGET")
    lock.add_argument("--no-lineage", action="store_true", help="lock the target only")
    lock.add_argument("--max-depth", type=int, default=8, metavar="N", help="lineage depth limit (default 8)")
    lock.add_argument("--no-tensor-digest", action="store_true", help="skip the tensor digest")
    _common(lock, default_output="provenance.lock")
    lock.set_defaults(run=run_lock)

    diff = commands.add_parser(
        "diff",
        help="license, lineage and digest drift between two locks or two revisions",
        description="Compare OLD and NEW, each a provenance.lock file or a target (org/name@revision, a "
        "folder) locked on the fly.",
        epilog=DIFF_EXIT_CODES,
        formatter_class=raw,
    )
    diff.add_argument("old", metavar="OLD")
    diff.add_argument("new", metavar="NEW")
    diff.add_argument("--max-depth", type=int, default=8, metavar="N", help="lineage depth limit (default 8)")
    _common(diff)
    diff.set_defaults(run=run_diff)


def _common(parser: argparse.ArgumentParser, default_output: str | None = None) -> None:
    if default_output is None:
        parser.add_argument("--format", choices=("text", "json"), default="text", help="output format")
    where = f" (default: {default_output})" if default_output else ""
    parser.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        default=default_output,
        help=f"write to FILE atomically; '-' is stdout{where}",
    )
    parser.add_argument(
        "--jobs", type=int, default=None, metavar="N", help="hashing threads (default: CPU count)"
    )
    parser.add_argument(
        "--cache-dir", metavar="DIR", help="Hugging Face cache to use (default: as huggingface_hub)"
    )


def _jobs(args: argparse.Namespace) -> int | None:
    from provenance.errors import UsageError  # noqa: PLC0415

    if args.jobs is not None and args.jobs < 1:
        raise UsageError("", "--jobs must be 1 or more")
    jobs: int | None = args.jobs
    return jobs


def _cache_dir(args: argparse.Namespace) -> Path | None:
    return Path(args.cache_dir).expanduser() if args.cache_dir else None


# --- verify -----------------------------------------------------------------------------------------------


def run_verify(args: argparse.Namespace) -> int:
    from provenance.cli import EXIT_FINDINGS, EXIT_OK, _check_output, _emit  # noqa: PLC0415
    from provenance.errors import TargetNotFoundError  # noqa: PLC0415
    from provenance.verify.check_files import verify_local  # noqa: PLC0415

    output = _check_output(args.output, args.target)
    jobs = _jobs(args)
    target = Path(args.target).expanduser()
    if not target.exists():
        raise TargetNotFoundError(args.target, "no such file or directory (verify checks a local copy)")
    expectation = _expectation(args)
    with _byte_progress() as progress:
        report = verify_local(target, expectation, tensors=args.tensor_digest, jobs=jobs, progress=progress)
    text = render_json(report) if args.format == "json" else render_text(report)
    _emit(text, output)
    if expectation is None and report.expectation is None:
        return EXIT_OK
    failed = report.failures(allow_extra=args.allow_extra, allow_unverifiable=args.allow_unverifiable)
    return EXIT_FINDINGS if failed else EXIT_OK


def _expectation(args: argparse.Namespace) -> Expectation | None:
    if args.against:
        return against_hub(args.against, _cache_dir(args))
    if args.lock:
        from provenance.verify.lock import read_lock  # noqa: PLC0415

        path = Path(args.lock).expanduser()
        expectation = read_lock(path).expectation()
        return replace(expectation, ignore=(*expectation.ignore, path.name))
    if args.manifest:
        from provenance.verify.manifest import read_expectation  # noqa: PLC0415

        return read_expectation(Path(args.manifest).expanduser())
    return None


def against_hub(spec: str, cache_dir: Path | None) -> Expectation:
    """The published listing of `org/name[@rev]`: the Hub, else the HF cache (trees/), else the knowledge
    base (which records files but rarely digests)."""
    from provenance.errors import UsageError  # noqa: PLC0415
    from provenance.sources.resolve import hub_or_fallback, looks_like_repo_id, parse_repo_ref  # noqa: PLC0415
    from provenance.verify.manifest import from_entries  # noqa: PLC0415

    if not looks_like_repo_id(spec.partition("@")[0]):
        raise UsageError(spec, "--against takes a Hub id: org/name[@revision]")
    ref = parse_repo_ref(spec)
    source = hub_or_fallback(ref, spec, cache_dir)
    info = source.info
    where = f"{info.canonical_id or info.repo_id}@{info.commit or info.revision or 'main'}"
    label = {"hub": "the Hub", "hf-cache": "the HF cache listing", "knowledge-base": "the knowledge base"}
    return from_entries(
        source.files(), info.kind, f"{where} ({label.get(info.kind, info.kind)})", notes=tuple(info.notes)
    )


def render_json(report: HashReport) -> str:
    import json  # noqa: PLC0415

    return json.dumps(report.to_json(), sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def render_text(report: HashReport) -> str:
    from provenance.cli import _printable  # noqa: PLC0415
    from provenance.verify.check_files import Verdict  # noqa: PLC0415

    lines = [f"verify {report.target}"]
    if report.expectation is None:
        lines.append("  no expected digests given (--against, --lock, --manifest): computed digests only")
        for d in sorted(report.digests, key=lambda d: d.path):
            lines.append(f"  {d.digest('sha256')}  {_printable(d.path)}  ({d.size} bytes)")
    else:
        lines.append(f"  against {report.expectation.source}")
        lines += [f"  note: {note}" for note in report.expectation.notes]
        for v in report.files:
            lines.append(f"  {str(v.verdict).upper():<13}{_printable(v.path)}")
            if v.verdict is Verdict.RENAMED:
                lines.append(f"      is {_printable(v.expected_path or '')} ({v.algorithm} {v.actual})")
            elif v.verdict is Verdict.MISMATCH:
                lines.append(f"      expected {v.algorithm} {v.expected}")
                lines.append(f"      actual   {v.algorithm} {v.actual}")
            if v.reason and v.verdict is not Verdict.RENAMED:
                lines.append(f"      {_printable(v.reason)}")
        summary = ", ".join(f"{report.count(k)} {k}" for k in Verdict if report.count(k))
        lines.append(f"  {summary or 'no files'}")
    td = report.tensor_digest
    if td is not None:
        shown = td.digest or f"unavailable ({td.problem})"
        lines.append(f"  tensor digest {shown}  ({td.tensors} tensors in {len(td.files)} file(s))")
        if td.expected is not None:
            lines.append(f"    expected {td.expected}: {td.verdict}")
    lines += [f"  finding: {_printable(f.message)}" for f in report.findings]
    return "\n".join(lines) + "\n"


@contextlib.contextmanager
def _byte_progress() -> Iterator[Callable[[int, int], None] | None]:
    """A bytes/s progress bar on stderr when it is a terminal; nothing otherwise."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console  # noqa: PLC0415
    from rich.progress import (  # noqa: PLC0415
        BarColumn,
        DownloadColumn,
        Progress,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    columns = (BarColumn(), DownloadColumn(), TransferSpeedColumn(), TimeRemainingColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("hashing", total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


# --- lock and diff ----------------------------------------------------------------------------------------


def run_lock(args: argparse.Namespace) -> int:
    from provenance.cli import EXIT_OK, _emit  # noqa: PLC0415
    from provenance.errors import UsageError  # noqa: PLC0415
    from provenance.verify.lock import lock_target, to_json_text  # noqa: PLC0415

    output = _lock_output(args.output)
    if args.max_depth < 0:
        raise UsageError("", "--max-depth must be 0 or more")
    with _byte_progress() as progress:
        lock = lock_target(
            args.target,
            cache_dir=_cache_dir(args),
            lineage=not args.no_lineage,
            max_depth=args.max_depth,
            tensors=not args.no_tensor_digest,
            jobs=_jobs(args),
            progress=progress,
            ignore=_inside(output, Path(args.target)),
        )
    _emit(to_json_text(lock), output)
    if output is not None:
        root = lock.root_node
        sys.stderr.write(
            f"locked {len(lock.nodes)} node(s), {len(root.files)} file(s) of {root.id}; "
            f"tensor digest {root.tensor_digest or 'none'} -> {output}\n"
        )
    return EXIT_OK


def _lock_output(output: str | None) -> Path | None:
    """Like cli._check_output, except that a lock may live inside the model folder it pins (it is then left
    out of the hashed files)."""
    from provenance.errors import OutputError  # noqa: PLC0415

    if output is None or output == "-":
        return None
    path = Path(output).expanduser().absolute()
    if not path.parent.is_dir():
        raise OutputError(output, f"output folder {path.parent} does not exist")
    if path.is_dir():
        raise OutputError(output, "is a directory")
    return path


def _inside(output: Path | None, target: Path) -> tuple[str, ...]:
    if output is None or not target.is_dir():
        return ()
    root = target.resolve()
    real = output.resolve()
    return (real.relative_to(root).as_posix(),) if real.is_relative_to(root) else ()


def run_diff(args: argparse.Namespace) -> int:
    import json  # noqa: PLC0415

    from provenance.cli import EXIT_FINDINGS, EXIT_OK, _check_output, _emit  # noqa: PLC0415
    from provenance.verify.diff import diff_locks, load_side, render_text  # noqa: PLC0415

    output = _check_output(args.output, args.new)
    _check_output(args.output, args.old)
    jobs, cache_dir = _jobs(args), _cache_dir(args)
    with _byte_progress() as progress:
        old = load_side(args.old, cache_dir=cache_dir, jobs=jobs, progress=progress, max_depth=args.max_depth)
        new = load_side(args.new, cache_dir=cache_dir, jobs=jobs, progress=progress, max_depth=args.max_depth)
    diff = diff_locks(old, new, args.old, args.new)
    if args.format == "json":
        text = json.dumps(diff.to_json(), sort_keys=True, indent=2, ensure_ascii=False) + "\n"
    else:
        text = render_text(diff)
    _emit(text, output)
    return EXIT_FINDINGS if diff.drifted else EXIT_OK
