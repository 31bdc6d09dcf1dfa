"""Pickle checkpoints (`.bin/.pt/.pth/.ckpt`), read statically: never unpickled, torch never imported.

An opcode walk (`pickletools.genops` over bytes already in memory, so every opcode consumes input and the walk
is bounded by the input size) lists every global the pickle would import, resolving STACK_GLOBAL through the
memo. Containers are listed, not extracted: torch zip archives, the legacy stacked-pickle format, legacy tars.
"""

from __future__ import annotations

import io
import pickletools
import struct
import tarfile
import warnings
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from provenance.errors import MalformedFileError
from provenance.model import Finding, Severity

MAX_PICKLE_BYTES = 64 * 1024 * 1024
MAX_OPCODES = 10_000_000
MAX_MEMO = 100_000
MAX_DUP_MARK = 1_000_000
GET_PUT_RATIO = 50
_MAX_LOCAL_HEADER_CHECKS = 100_000
LEGACY_MAGIC = b"\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19"
LEGACY_MAX_PICKLES = 5

SAFE_GLOBALS = frozenset(
    {
        "collections.OrderedDict",
        "torch._utils._rebuild_tensor",
        "torch._utils._rebuild_tensor_v2",
        "torch._utils._rebuild_tensor_v3",
        "torch._utils._rebuild_parameter",
        "torch._utils._rebuild_parameter_with_state",
        "torch._tensor._rebuild_from_type_v2",
        "torch.Size",
        "numpy.core.multiarray._reconstruct",
        "numpy._core.multiarray._reconstruct",
        "numpy.core.multiarray.scalar",
        "numpy._core.multiarray.scalar",
        "numpy.ndarray",
        "numpy.dtype",
        "_codecs.encode",
        "builtins.set",
        "builtins.frozenset",
        "builtins.slice",
        "builtins.bytearray",
        "builtins.complex",
    }
)
_TORCH_STORAGES = {
    "Float",
    "Half",
    "BFloat16",
    "Double",
    "Long",
    "Int",
    "Short",
    "Char",
    "Byte",
    "Bool",
    "Untyped",
}
_TORCH_DTYPES = {
    "float16",
    "float32",
    "float64",
    "bfloat16",
    "int8",
    "int16",
    "int32",
    "int64",
    "uint8",
    "bool",
}
DANGEROUS_MODULES = frozenset(
    [
        "os",
        "posix",
        "nt",
        "subprocess",
        "runpy",
        "webbrowser",
        "socket",
        "shutil",
        "sys",
        "pty",
        "importlib",
        "pickle",
        "_pickle",
        "marshal",
        "code",
        "ctypes",
        "asyncio",
        "requests",
        "urllib",
        "http",
        "__main__",
        "torch.hub",
        "commands",
        "popen2",
        "platform",
        "signal",
        "multiprocessing",
        "threading",
        "tempfile",
    ]
)
DANGEROUS_GLOBALS = frozenset(
    [
        "builtins.eval",
        "builtins.exec",
        "builtins.compile",
        "builtins.open",
        "builtins.getattr",
        "builtins.setattr",
        "builtins.delattr",
        "builtins.__import__",
        "builtins.globals",
        "builtins.input",
        "builtins.breakpoint",
        "__builtin__.eval",
        "__builtin__.exec",
        "__builtin__.open",
        "__builtin__.getattr",
        "__builtin__.__import__",
        "torch.storage._load_from_bytes",
        "torch.load",
        "operator.attrgetter",
        "operator.methodcaller",
        "types.FunctionType",
        "types.CodeType",
    ]
)
_STRING_OPS = frozenset(
    {"SHORT_BINUNICODE", "BINUNICODE", "BINUNICODE8", "UNICODE", "STRING", "BINSTRING", "SHORT_BINSTRING"}
)
_PUT_OPS = frozenset({"PUT", "BINPUT", "LONG_BINPUT", "MEMOIZE"})
_GET_OPS = frozenset({"GET", "BINGET", "LONG_BINGET"})


def classify_global(name: str) -> str:
    """'safe', 'dangerous' or 'unknown' for a `module.attr` global."""
    if name in SAFE_GLOBALS or _is_torch_type(name):
        return "safe"
    module = name.rsplit(".", 1)[0]
    if name in DANGEROUS_GLOBALS or any(module == m or module.startswith(m + ".") for m in DANGEROUS_MODULES):
        return "dangerous"
    return "unknown"


def _is_torch_type(name: str) -> bool:
    if not name.startswith("torch.") or name.count(".") != 1:
        return False
    attr = name[len("torch.") :]
    return attr in _TORCH_DTYPES or (attr.endswith("Storage") and attr[: -len("Storage")] in _TORCH_STORAGES)


@dataclass(frozen=True)
class PickleReport:
    """One pickle stream: the globals it imports, its size in opcodes, and what is wrong with it."""

    name: str
    imports: tuple[str, ...]
    opcodes: int
    protocol: int | None
    findings: tuple[Finding, ...]

    @property
    def verdict(self) -> str:
        return _verdict(self.findings)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "imports": list(self.imports),
            "opcodes": self.opcodes,
            "protocol": self.protocol,
            "verdict": self.verdict,
        }


@dataclass(frozen=True)
class CheckpointReport:
    """A checkpoint file: its container format, the entries listed, every pickle scanned, and the findings."""

    name: str
    format: str
    entries: tuple[tuple[str, int], ...]
    pickles: tuple[PickleReport, ...]
    findings: tuple[Finding, ...] = field(default_factory=tuple)

    @property
    def verdict(self) -> str:
        return _verdict(self.findings)

    @property
    def imports(self) -> tuple[str, ...]:
        return tuple(sorted({i for p in self.pickles for i in p.imports}))

    def to_json(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "verdict": self.verdict,
            "imports": list(self.imports),
            "entries": [[n, s] for n, s in self.entries[:1000]],
            "pickles": [p.to_json() for p in self.pickles],
        }


def _verdict(findings: tuple[Finding, ...]) -> str:
    rules = {f.rule_id for f in findings}
    if "pickle.dangerous-import" in rules:
        return "dangerous"
    if rules & {"pickle.malformed", "pickle.resource-limit", "archive.malformed"}:
        return "unverifiable"
    if any(f.severity >= Severity.HIGH for f in findings):
        return "suspicious"
    return "no-dangerous-imports"


class _Walk:
    """State of one opcode walk: the strings that STACK_GLOBAL may take, the memo, the counters."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.imports: list[str] = []
        self.findings: list[Finding] = []
        self.recent: list[object] = []
        self.memo: dict[int, object] = {}
        self.counts = {"ops": 0, "get": 0, "put": 0, "dupmark": 0}
        self.protocol: int | None = None

    def finding(self, rule: str, severity: Severity, message: str) -> None:
        self.findings.append(Finding(rule, severity, f"{self.name}: {message}", self.name))

    def step(self, op: pickletools.OpcodeInfo, arg: Any) -> bool:
        """Account for one opcode; False when a budget is exhausted and the walk must stop."""
        self.counts["ops"] += 1
        name = op.name
        if name == "PROTO":
            self.protocol = int(arg)
        elif name in _STRING_OPS:
            self.recent.append(arg if isinstance(arg, str) else str(arg))
        elif name in _PUT_OPS:
            self.counts["put"] += 1
            self.memo[len(self.memo) if arg is None else int(arg)] = self.recent[-1] if self.recent else None
        elif name in _GET_OPS:
            self.counts["get"] += 1
            self.recent.append(self.memo.get(int(arg)))
        elif name in {"DUP", "MARK"}:
            self.counts["dupmark"] += 1
        elif name in {"GLOBAL", "INST"}:
            self.record(str(arg).replace(" ", "."))
        elif name == "STACK_GLOBAL":
            self.stack_global()
        elif name in {"EXT1", "EXT2", "EXT4"}:
            self.finding(
                "pickle.extension-code", Severity.HIGH, f"imports through the extension registry ({name})"
            )
        return self.within_budget()

    def stack_global(self) -> None:
        module, attr = (self.recent[-2], self.recent[-1]) if len(self.recent) >= 2 else (None, None)
        if isinstance(module, str) and isinstance(attr, str):
            self.record(f"{module}.{attr}")
        else:
            self.finding(
                "pickle.unknown-import", Severity.HIGH, "STACK_GLOBAL whose names could not be resolved"
            )

    def record(self, name: str) -> None:
        if name in self.imports:
            return
        self.imports.append(name)
        kind = classify_global(name)
        if kind == "dangerous":
            self.finding(
                "pickle.dangerous-import", Severity.CRITICAL, f"imports {name}, which can run code on load"
            )
        elif kind == "unknown":
            self.finding("pickle.unknown-import", Severity.HIGH, f"imports {name}, outside the allowlist")

    def within_budget(self) -> bool:
        c = self.counts
        if c["ops"] > MAX_OPCODES or len(self.memo) > MAX_MEMO or c["dupmark"] > MAX_DUP_MARK:
            reason = f"{c['ops']} opcodes, memo {len(self.memo)}, DUP/MARK {c['dupmark']}"
        elif c["get"] > 1000 and c["get"] > GET_PUT_RATIO * max(c["put"], 1):
            reason = f"GET/PUT ratio {c['get']}/{c['put']}"
        else:
            return True
        self.finding(
            "pickle.resource-limit", Severity.HIGH, f"resource limits reached ({reason}); walk stopped"
        )
        return False


def scan_pickle_stream(stream: io.BytesIO, name: str) -> PickleReport:
    """Walk one pickle from `stream`'s position to its STOP; the stream is left just after it."""
    walk = _Walk(name)
    # pickletools decodes protocol-0 strings with escape_decode, which warns on odd escapes in hostile input
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        stopped = _walk_ops(stream, walk)
    if not stopped and not any(f.rule_id == "pickle.resource-limit" for f in walk.findings):
        walk.finding("pickle.malformed", Severity.HIGH, "malformed pickle (unverifiable): no STOP opcode")
    return PickleReport(name, tuple(walk.imports), walk.counts["ops"], walk.protocol, tuple(walk.findings))


def _walk_ops(stream: io.BytesIO, walk: _Walk) -> bool:
    """Feed every opcode to `walk`; True when the pickle ended with STOP."""
    stopped = False
    try:
        total = stream.getbuffer().nbytes
        for op, arg, pos in pickletools.genops(stream):
            if op.name == "FRAME" and isinstance(arg, int) and pos is not None and pos + 9 + arg > total:
                raise ValueError(f"FRAME at byte {pos} announces {arg} bytes, {total - pos - 9} remain")
            if not walk.step(op, arg):
                break
            stopped = op.name == "STOP"
    except (ValueError, KeyError, TypeError, IndexError, OverflowError, UnicodeDecodeError, EOFError) as exc:
        walk.finding("pickle.malformed", Severity.HIGH, f"malformed pickle (unverifiable): {exc}")
        return True
    return stopped


def scan_pickle_bytes(data: bytes, name: str) -> PickleReport:
    return scan_pickle_stream(io.BytesIO(data), name)


def scan_checkpoint_bytes(data: bytes, name: str) -> CheckpointReport:
    """Sniff the container of an in-memory checkpoint and scan every pickle in it."""
    if not data:
        raise MalformedFileError(name, "empty file")
    if data.startswith(b"PK\x03\x04"):
        return _scan_zip(io.BytesIO(data), name)
    if len(data) > 262 and data[257:262] == b"ustar":
        return _scan_tar(io.BytesIO(data), name)
    if data.startswith(LEGACY_MAGIC):
        return _scan_legacy(data, name)
    report = scan_pickle_bytes(data, name)
    return CheckpointReport(name, "pickle", (), (report,), report.findings)


def read_checkpoint_file(path: Path, display: str) -> CheckpointReport:
    """Scan a checkpoint on disk: zips through their central directory, other formats from a bounded read."""
    with path.open("rb") as fh:
        head = fh.read(262)
        if not head:
            raise MalformedFileError(display, "empty file")
        fh.seek(0)
        if head.startswith(b"PK\x03\x04"):
            return _scan_zip(fh, display)
        if len(head) >= 262 and head[257:262] == b"ustar":
            return _scan_tar(fh, display)
        data = fh.read(MAX_PICKLE_BYTES + 1)
    if head.startswith(LEGACY_MAGIC):
        return _scan_legacy(data, display)
    if len(data) > MAX_PICKLE_BYTES:
        finding = Finding(
            "pickle.resource-limit",
            Severity.HIGH,
            f"{display}: a bare pickle over {MAX_PICKLE_BYTES} bytes; not scanned (unverifiable)",
            display,
        )
        return CheckpointReport(display, "pickle", (), (), (finding,))
    return scan_checkpoint_bytes(data, display)


def _scan_legacy(data: bytes, name: str) -> CheckpointReport:
    stream = io.BytesIO(data)
    reports: list[PickleReport] = []
    for index in range(LEGACY_MAX_PICKLES):
        report = scan_pickle_stream(stream, f"{name}#pickle{index}")
        reports.append(report)
        if report.findings and any(f.rule_id == "pickle.malformed" for f in report.findings):
            break
        if index == 3:  # magic, protocol, sys info, then the object; storage keys and raw bytes follow
            break
    findings = tuple(f for r in reports for f in r.findings)
    return CheckpointReport(name, "torch-legacy", (), tuple(reports), findings)


def _scan_zip(fh: Any, name: str) -> CheckpointReport:
    findings: list[Finding] = []
    reports: list[PickleReport] = []

    def add(rule: str, message: str) -> None:
        findings.append(Finding(rule, Severity.HIGH, f"{name}: {message}", name))

    try:
        archive = zipfile.ZipFile(fh)
    except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError) as exc:  # an unknown zip version
        add("archive.malformed", f"malformed/suspicious archive: {exc}")
        return CheckpointReport(name, "zip", (), (), tuple(findings))
    with archive:
        infos = archive.infolist()
        entries = tuple((i.filename, i.file_size) for i in infos)
        _check_zip_layout(infos, add)
        differ = _local_names_differing(fh, infos)
        if differ:
            add(
                "archive.malformed",
                f"malformed/suspicious archive: local and central names differ for {differ}",
            )
        for info in infos:
            if info.filename.endswith(".pkl") and not info.flag_bits & 0x1:
                data = _read_member(archive, info, add)
                if data is not None:
                    reports.append(scan_pickle_bytes(data, f"{name}:{info.filename}"))
    findings.extend(f for r in reports for f in r.findings)
    return CheckpointReport(name, "torch-zip", entries, tuple(reports), tuple(findings))


def _check_zip_layout(infos: list[zipfile.ZipInfo], add: Any) -> None:
    names = [i.filename for i in infos]
    if any(i.flag_bits & 0x1 for i in infos):
        add("archive.malformed", "malformed/suspicious archive: encrypted entries")
    if sum(n.endswith("data.pkl") for n in names) > 1:
        add("archive.malformed", "malformed/suspicious archive: more than one data.pkl")
    if any(n.lower().endswith((".zip", ".pt", ".pth", ".ckpt")) for n in names):
        add("archive.malformed", "malformed/suspicious archive: nested archive")
    if any("/code/" in f"/{n}" or n.endswith((".py", "constants.pkl")) for n in names):
        add("archive.executable-code", "contains executable code (TorchScript code/ or .py); never loaded")


def _local_names_differing(fh: Any, infos: list[zipfile.ZipInfo]) -> list[str]:
    """Members whose local header is missing or names another file than the central directory (a polyglot)."""
    differ: list[str] = []
    for info in infos[:_MAX_LOCAL_HEADER_CHECKS]:
        if info.header_offset < 0:  # a central directory pointing before the archive start
            differ.append(info.filename)
            continue
        fh.seek(info.header_offset)
        head = fh.read(30)
        if len(head) < 30 or head[:4] != b"PK\x03\x04":
            differ.append(info.filename)
            continue
        flags, name_length = struct.unpack("<H", head[6:8])[0], struct.unpack("<H", head[26:28])[0]
        name = fh.read(name_length).decode("utf-8" if flags & 0x800 else "cp437", errors="replace")
        if name != info.orig_filename:
            differ.append(info.filename)
    return differ[:5]


def _decompress_errors() -> tuple[type[Exception], ...]:
    """What a corrupt compressed member raises: zlib.error and lzma.LZMAError are not OSError subclasses."""
    errors: list[type[Exception]] = [zlib.error]
    try:
        import lzma  # noqa: PLC0415  (optional in some Python builds)
    except ImportError:
        return tuple(errors)
    errors.append(lzma.LZMAError)
    return tuple(errors)


_MEMBER_ERRORS: tuple[type[Exception], ...] = (
    zipfile.BadZipFile,
    OSError,
    ValueError,
    EOFError,
    NotImplementedError,
    *_decompress_errors(),
)


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, add: Any) -> bytes | None:
    if info.file_size > MAX_PICKLE_BYTES:
        add(
            "archive.malformed",
            f"malformed/suspicious archive: {info.filename} expands to {info.file_size} bytes",
        )
        return None
    try:
        with archive.open(info) as member:
            data = member.read(MAX_PICKLE_BYTES + 1)
    except _MEMBER_ERRORS as exc:
        add("archive.malformed", f"malformed/suspicious archive: {info.filename}: {exc}")
        return None
    if len(data) > MAX_PICKLE_BYTES:
        add("archive.malformed", f"malformed/suspicious archive: {info.filename} expands beyond the cap")
        return None
    return data


def _scan_tar(fh: Any, name: str) -> CheckpointReport:
    findings: list[Finding] = []
    reports: list[PickleReport] = []
    try:
        with tarfile.open(fileobj=fh, mode="r:") as archive:
            members = archive.getmembers()[:10_000]
            entries = tuple((m.name, m.size) for m in members)
            for member in members:
                if member.name in {"pickle", "tensors", "storages"} and member.isfile():
                    extracted = archive.extractfile(member)
                    if extracted is not None and member.size <= MAX_PICKLE_BYTES:
                        stream = io.BytesIO(extracted.read(MAX_PICKLE_BYTES))
                        reports.append(scan_pickle_stream(stream, f"{name}:{member.name}"))
    except (tarfile.TarError, OSError, EOFError) as exc:
        message = f"{name}: malformed/suspicious archive: {exc}"
        findings.append(Finding("archive.malformed", Severity.HIGH, message, name))
        entries = ()
    findings.extend(f for r in reports for f in r.findings)
    return CheckpointReport(name, "torch-legacy-tar", entries, tuple(reports), tuple(findings))
