"""Static pickle scanning: imports listed, dangerous ones critical, malformed input unverifiable, nothing run."""

from __future__ import annotations

import io
import os
import pickle
import struct
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from provenance.cli import main
from provenance.errors import MalformedFileError
from provenance.readers.pickles import (
    LEGACY_MAGIC,
    read_checkpoint_file,
    scan_checkpoint_bytes,
    scan_pickle_bytes,
)


class _Exploit:
    """Pickles to `os.system(command)`: exactly what a malicious checkpoint does on torch.load."""

    def __init__(self, command: str) -> None:
        self.command = command

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.system, (self.command,))


def marker_pickles(marker: Path) -> dict[str, bytes]:
    command = f"touch {marker}"
    by_hand = b"cos\nsystem\n(V" + command.encode() + b"\ntR."  # protocol 0 GLOBAL
    return {
        "protocol-0-global": by_hand,
        "protocol-2": pickle.dumps(_Exploit(command), protocol=2),
        "protocol-4-stack-global-memo": pickle.dumps(_Exploit(command), protocol=4),
        "builtins-eval": b"\x80\x04\x95\x00\x00\x00\x00\x00\x00\x00\x00\x8c\x08builtins\x94\x8c\x04eval\x94\x93\x94"
        + b"\x8c\x1f__import__('os').system('true')\x94\x85\x94R\x94.",
    }


@pytest.mark.parametrize(
    "case", ["protocol-0-global", "protocol-2", "protocol-4-stack-global-memo", "builtins-eval"]
)
def test_marker_pickle_is_reported_and_never_run(tmp_path: Path, case: str) -> None:
    marker = tmp_path / "marker"
    data = marker_pickles(marker)[case]
    report = scan_pickle_bytes(data, "evil.pkl")
    assert report.verdict == "dangerous"
    critical = [f for f in report.findings if f.rule_id == "pickle.dangerous-import"]
    assert critical and critical[0].severity.name == "CRITICAL"
    assert any(name in critical[0].message for name in ("posix.system", "os.system", "builtins.eval"))
    assert not marker.exists()


def test_marker_checkpoint_through_the_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    marker = tmp_path / "marker"
    path = tmp_path / "pytorch_model.bin"
    path.write_bytes(torch_zip({"archive/data.pkl": marker_pickles(marker)["protocol-4-stack-global-memo"]}))
    assert main(["scan", str(path), "--no-lineage"]) == 0
    out, _err = capsys.readouterr()
    assert "pickle.dangerous-import" in out and "CRITICAL" in out
    assert not marker.exists()
    assert "torch" not in sys.modules


def torch_zip(members: dict[str, bytes], *, compression: int = zipfile.ZIP_STORED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def legit_data_pkl() -> bytes:
    """What torch.save writes for {'w': tensor}: OrderedDict, _rebuild_tensor_v2, a persistent storage id."""
    return (
        b"\x80\x02ccollections\nOrderedDict\nq\x00)Rq\x01X\x01\x00\x00\x00wq\x02"
        b"ctorch._utils\n_rebuild_tensor_v2\nq\x03((X\x07\x00\x00\x00storageq\x04ctorch\nFloatStorage\nq\x05"
        b"X\x01\x00\x00\x000q\x06X\x03\x00\x00\x00cpuq\x07K\x04tq\x08QK\x00K\x04\x85q\tK\x01\x85q\n\x89h\x00)Rq\x0b"
        b"tq\x0cRq\rs."
    )


def test_legit_torch_zip_has_no_dangerous_imports() -> None:
    data = torch_zip(
        {"archive/data.pkl": legit_data_pkl(), "archive/data/0": b"\0" * 16, "archive/version": b"3\n"}
    )
    report = scan_checkpoint_bytes(data, "pytorch_model.bin")
    assert report.format == "torch-zip"
    assert report.verdict == "no-dangerous-imports", report.findings
    assert set(report.imports) == {
        "collections.OrderedDict",
        "torch._utils._rebuild_tensor_v2",
        "torch.FloatStorage",
    }


@pytest.mark.parametrize(
    ("global_name", "rule"),
    [
        ("__main__ Evil", "pickle.dangerous-import"),
        ("torch.hub load", "pickle.dangerous-import"),
        ("mylib.models Net", "pickle.unknown-import"),
    ],
    ids=["__main__", "torch.hub", "outside-allowlist"],
)
def test_imports_outside_the_allowlist(global_name: str, rule: str) -> None:
    report = scan_pickle_bytes(b"\x80\x02c" + global_name.replace(" ", "\n").encode() + b"\n)R.", "x.pkl")
    assert rule in {f.rule_id for f in report.findings}
    assert report.verdict != "no-dangerous-imports"


def test_ext2_is_flagged() -> None:
    report = scan_pickle_bytes(b"\x80\x02\x83\x01\x00.", "ext.pkl")
    assert "pickle.extension-code" in {f.rule_id for f in report.findings}
    assert report.verdict == "suspicious"


@pytest.mark.parametrize(
    "data",
    [
        b"\x80\x02\xff.",
        b"\x80\x02K\x01",
        b"\x80\x02X\x10\x00\x00\x00abc",
        b"\x80\x04\x95\xff\x00\x00\x00\x00\x00\x00\x00K\x01.",
        b"\x80\x04B\xff\xff\x00\x00ab.",
    ],
    ids=["invalid-opcode", "no-stop", "truncated", "frame-length", "binbytes-length"],
)
def test_malformed_pickles_are_unverifiable(data: bytes) -> None:
    report = scan_pickle_bytes(data, "bad.pkl")
    assert report.verdict in {"unverifiable", "suspicious"}
    assert {"pickle.malformed"} <= {f.rule_id for f in report.findings} or report.verdict == "unverifiable"


def test_frame_length_disagreement() -> None:
    report = scan_pickle_bytes(b"\x80\x04\x95\xff\x00\x00\x00\x00\x00\x00\x00K\x01.", "frame.pkl")
    assert report.verdict == "unverifiable"


@pytest.mark.parametrize("kind", ["memo", "dup", "mark", "get-put"])
def test_pickle_bombs_hit_resource_limits(kind: str) -> None:
    if kind == "memo":
        body = b"N" + b"".join(b"r" + struct.pack("<I", i) for i in range(100_002))
    elif kind == "dup":
        body = b"N" + b"2" * 1_000_002
    elif kind == "mark":
        body = b"(" * 1_000_002
    else:
        body = b"Nq\x00" + b"h\x000" * 60_000
    report = scan_pickle_bytes(b"\x80\x02" + body + b".", "bomb.pkl")
    assert "pickle.resource-limit" in {f.rule_id for f in report.findings}
    assert report.verdict == "unverifiable"


def test_archive_layout_problems() -> None:
    evil = torch_zip({"archive/data.pkl": legit_data_pkl(), "other/data.pkl": legit_data_pkl()})
    assert "more than one data.pkl" in " ".join(
        f.message for f in scan_checkpoint_bytes(evil, "a.bin").findings
    )
    nested = torch_zip({"archive/data.pkl": legit_data_pkl(), "archive/inner.zip": torch_zip({"x": b"y"})})
    assert "nested archive" in " ".join(f.message for f in scan_checkpoint_bytes(nested, "b.bin").findings)
    script = torch_zip({"archive/data.pkl": legit_data_pkl(), "archive/code/__torch__.py": b"import os"})
    rules = {f.rule_id for f in scan_checkpoint_bytes(script, "c.pt").findings}
    assert "archive.executable-code" in rules


def test_encrypted_flag_and_bad_crc() -> None:
    data = bytearray(torch_zip({"archive/data.pkl": legit_data_pkl()}))
    crc_at = data.index(b"PK\x01\x02") + 16
    data[crc_at] ^= 0xFF
    local_crc = 14
    data[local_crc] ^= 0xFF
    report = scan_checkpoint_bytes(bytes(data), "crc.bin")
    assert report.verdict == "unverifiable" and any(
        "CRC" in f.message or "Bad" in f.message for f in report.findings
    )
    flagged = bytearray(torch_zip({"archive/data.pkl": legit_data_pkl()}))
    central = flagged.index(b"PK\x01\x02")
    flagged[central + 8] |= 0x01
    flagged[6] |= 0x01
    assert "encrypted" in " ".join(
        f.message for f in scan_checkpoint_bytes(bytes(flagged), "enc.bin").findings
    )


def test_deflate_bomb_is_capped(tmp_path: Path) -> None:
    data = torch_zip(
        {"archive/data.pkl": b"\x80\x02" + b"N" * (65 * 1024 * 1024)}, compression=zipfile.ZIP_DEFLATED
    )
    assert len(data) < 1_000_000
    report = scan_checkpoint_bytes(data, "bomb.bin")
    assert "archive.malformed" in {f.rule_id for f in report.findings}


def test_legacy_stacked_pickles_are_all_scanned(tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    data = LEGACY_MAGIC + pickle.dumps(1001, protocol=2) + pickle.dumps({"little_endian": True}, protocol=2)
    data += marker_pickles(marker)["protocol-2"] + b"\0" * 64
    path = tmp_path / "legacy.bin"
    path.write_bytes(data)
    report = read_checkpoint_file(path, "legacy.bin")
    assert report.format == "torch-legacy"
    assert len(report.pickles) >= 4
    assert report.verdict == "dangerous"
    assert not marker.exists()


def test_legacy_tar_format(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for name, payload in {"pickle": legit_data_pkl(), "storages": pickle.dumps(0, protocol=2)}.items():
            info = tarfile.TarInfo(name)
            info.size = len(payload)
            archive.addfile(info, io.BytesIO(payload))
    report = scan_checkpoint_bytes(buffer.getvalue(), "old.tar")
    assert report.format == "torch-legacy-tar"
    assert "torch.FloatStorage" in report.imports


def test_empty_file_is_an_error() -> None:
    with pytest.raises(MalformedFileError, match="empty file"):
        scan_checkpoint_bytes(b"", "empty.bin")


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=512))
def test_fuzz_random_bytes_never_crash(data: bytes) -> None:
    if data:
        scan_checkpoint_bytes(data, "fuzz.bin")


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=0, max_value=400), st.integers(min_value=0, max_value=255))
def test_fuzz_mutated_valid_pickles_never_crash(position: int, value: int) -> None:
    data = bytearray(legit_data_pkl())
    data[position % len(data)] = value
    scan_pickle_bytes(bytes(data), "mutated.pkl")
