"""Checklist cases that had no end-to-end test: bad checkpoints through the real CLI, license witnesses that
disagree, a truncated checkpoint failing `check`, template payloads never reaching a template engine, zip
polyglots, and a LICENSE that is a directory. Inputs are bytes built here; nothing of ours is patched."""

from __future__ import annotations

import hashlib
import io
import json
import pickle
import struct
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from fuzz_targets import _GSTR, _GU32, gguf_file, safetensors_file

from provenance.cli import main
from provenance.readers.pickles import scan_checkpoint_bytes
from provenance.scan import scan

ROOT = Path(__file__).resolve().parents[2]
TEXTS = ROOT / "policies" / "licenses" / "texts"
SSTI = "{{ cycler.__init__.__globals__.os.popen('touch MARKER').read() }}{% for m in messages %}{{ m }}{% endfor %}"
_VALID_ST = safetensors_file({"w": ("F32", [4])})
_VALID_GGUF, _ = gguf_file([("general.architecture", _GSTR, "llama")], [("a", (4,))])


def _cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


# --- a bad checkpoint given as the target: exit 3, one line naming the file, the previous report untouched ---

BAD_FILES: dict[str, tuple[str, bytes, str]] = {
    "st-5-bytes": ("m.safetensors", b"\x05\x00\x00\x00\x00", "header too small (5 bytes)"),
    "st-header-u64-max": ("m.safetensors", b"\xff" * 8 + b"{}", str(2**64 - 1)),
    "st-header-over-file-size": ("m.safetensors", struct.pack("<Q", 4096) + b"{}      ", "4096"),
    "st-bom": ("m.safetensors", struct.pack("<Q", 5) + b"\xef\xbb\xbf{}", "BOM (at byte 8)"),
    "st-top-level-array": ("m.safetensors", struct.pack("<Q", 8) + b"[]      ", "safetensors"),
    "st-nan": ("m.safetensors", struct.pack("<Q", 16) + b'{"a": NaN}      ', "NaN"),
    "gguf-bad-magic": ("m.gguf", b"GGUX" + _VALID_GGUF[4:], "m.gguf"),
    "gguf-v1": ("m.gguf", _VALID_GGUF[:4] + struct.pack("<I", 1) + _VALID_GGUF[8:], "v1"),
    "gguf-byte-swapped-v3": (
        "m.gguf",
        _VALID_GGUF[:4] + struct.pack(">I", 3) + _VALID_GGUF[8:],
        "big-endian",
    ),
    "gguf-n-kv-2^63": ("m.gguf", _VALID_GGUF[:16] + struct.pack("<Q", 2**63) + _VALID_GGUF[24:], "m.gguf"),
    "gguf-zero-alignment": (
        "m.gguf",
        gguf_file([("general.alignment", _GU32, 0)], [])[0],
        "alignment",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_bad_checkpoint_target_exits_3_with_one_line_and_leaves_the_previous_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str
) -> None:
    name, data, needle = BAD_FILES[case]
    target = tmp_path / "model" / name
    target.parent.mkdir()
    target.write_bytes(data)
    output = tmp_path / "out" / "report.json"
    output.parent.mkdir()
    output.write_text("previous\n")
    code, out, err = _cli(capsys, "scan", str(target), "--format", "json", "--no-lineage", "-o", str(output))
    assert code == 3, err
    first = err.splitlines()[0]
    assert first.startswith(f"provenance: error: {name}") or first.startswith(
        f"provenance: error: {target}"
    ), err
    assert needle in err
    assert "Traceback" not in err and out == ""
    assert output.read_text() == "previous\n"
    assert [p.name for p in output.parent.iterdir()] == ["report.json"]


# --- license witnesses ------------------------------------------------------------------------------------


def _model(root: Path, card: str, license_text: bytes | None, gguf_license: str | None) -> Path:
    root.mkdir()
    (root / "README.md").write_text(f"---\n{card}\n---\n# model\n")
    if license_text is not None:
        (root / "LICENSE").write_bytes(license_text)
    if gguf_license is not None:
        kvs = [("general.architecture", _GSTR, "llama"), ("general.license", _GSTR, gguf_license)]
        (root / "model.gguf").write_bytes(gguf_file(kvs, [("a", (4,))])[0])
    return root


def test_three_disagreeing_license_witnesses_are_a_conflict_naming_each_source(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    llama = (TEXTS / "llama3.3-community-license.txt").read_bytes()
    model = _model(tmp_path / "m", "license: mit", llama, "apache-2.0")
    report = scan(str(model))
    kinds = {f.kind for f in report.facts}
    assert {"card.license", "gguf.general.license", "license_file.LICENSE"} <= kinds
    (conflict,) = [f for f in report.findings if f.rule_id == "license.conflict"]
    for witness in (
        "MIT: card.license 'mit' (README.md)",
        "Apache-2.0: gguf.general.license",
        "LICENSE text",
    ):
        assert witness in conflict.message
    assert "llama3.3" in conflict.message
    code, out, err = _cli(capsys, "check", str(model), "--format", "json")
    assert code == 1, err
    flagged = [f for f in json.loads(out)["findings"] if "license witnesses disagree" in f["message"]]
    assert flagged and flagged[0]["severity"] == "high"


@pytest.mark.parametrize(
    ("card", "text", "gguf_license"),
    [
        ("license: mit", "deepseek-r1-mit.txt", "MIT"),
        (
            "license: other\nlicense_name: llama3.3\nlicense_link: LICENSE",
            "llama3.3-community-license.txt",
            None,
        ),
        ("license: apache-2.0", "apache-2.0.txt", "apache-2.0"),
        ("license: mit", None, None),
        ("license: [mit, apache-2.0]", "apache-2.0.txt", "apache-2.0"),
    ],
    ids=["mit-everywhere", "other-named-llama3.3", "apache-everywhere", "card-only", "card-lists-two"],
)
def test_agreeing_license_witnesses_are_no_conflict(
    tmp_path: Path, card: str, text: str | None, gguf_license: str | None
) -> None:
    model = _model(tmp_path / "m", card, (TEXTS / text).read_bytes() if text else None, gguf_license)
    report = scan(str(model))
    assert not [f for f in report.findings if f.rule_id == "license.conflict"]


def test_a_known_license_text_is_a_declaration_its_terms_reach_the_model(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Declared metadata is one witness among several: a Llama 3.3 LICENSE under an `mit` card brings the
    Llama 3.3 duties to the model itself, and the LICENSE is named as where that license was declared."""
    llama = (TEXTS / "llama3.3-community-license.txt").read_bytes()
    model = _model(tmp_path / "m", "license: mit", llama, None)
    code, out, _err = _cli(capsys, "graph", str(model), "--format", "json")
    assert code == 0
    (root,) = [n for n in json.loads(out)["nodes"] if n["source"] == "local-dir"]
    declared = {d["license"]: d["where"] for d in root["declared_licenses"]}
    assert set(declared) == {"mit", "llama3.3"}
    assert declared["llama3.3"] == ["local-dir:LICENSE (text: exact match)"]
    code, out, _err = _cli(capsys, "check", str(model), "--format", "json")
    duties = {o["kind"] for o in json.loads(out)["obligations"] if o["license"] == "LicenseRef-llama3.3"}
    assert {"attribution_display", "license_copy"} <= duties


def test_a_license_text_agreeing_with_the_card_joins_its_declaration(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model = _model(tmp_path / "m", "license: mit", (TEXTS / "deepseek-r1-mit.txt").read_bytes(), None)
    code, out, _err = _cli(capsys, "graph", str(model), "--format", "json")
    assert code == 0
    (root,) = [n for n in json.loads(out)["nodes"] if n["source"] == "local-dir"]
    (mit,) = root["declared_licenses"]
    assert mit["license"] == "mit" and len(mit["where"]) == 2
    assert any("LICENSE (text:" in w for w in mit["where"])


def test_invalid_spdx_expression_in_a_card_is_named_and_never_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for i, value in enumerate(["MIT and/or GPL", "(MIT OR Apache-2.0", "MIT AND AND GPL-3.0"]):
        model = _model(tmp_path / f"m{i}", f"license: {json.dumps(value)}", None, None)
        code, out, err = _cli(capsys, "check", str(model), "--format", "json")
        assert code in (0, 1) and "Traceback" not in err, err
        messages = " ".join(f["message"] for f in json.loads(out)["findings"])
        assert value.lower() in messages.lower()


def test_license_that_is_a_directory_gets_its_own_statement(tmp_path: Path) -> None:
    model = _model(tmp_path / "m", "license: mit", None, None)
    (model / "LICENSE").mkdir()
    (model / "LICENSE" / "secret.txt").write_text("not a license")
    report = scan(str(model))
    (finding,) = [f for f in report.findings if f.rule_id == "file.license-directory"]
    assert finding.location == "LICENSE"
    assert not [f for f in report.facts if f.kind.startswith("license_file.")]


def test_missing_license_file_gets_its_own_statement(tmp_path: Path) -> None:
    bare = _model(tmp_path / "bare", "license: mit", None, "mit")
    (finding,) = [f for f in scan(str(bare)).findings if f.rule_id == "license.file-missing"]
    assert "no LICENSE file" in finding.message and finding.location == str(bare)
    shipped = _model(
        tmp_path / "shipped", "license: mit", (TEXTS / "deepseek-r1-mit.txt").read_bytes(), "mit"
    )
    assert not [f for f in scan(str(shipped)).findings if f.rule_id == "license.file-missing"]
    # a single checkpoint file has no folder to hold a LICENSE: nothing to say
    single = scan(str(bare / "model.gguf"))
    assert not [f for f in single.findings if f.rule_id == "license.file-missing"]


# --- truncated checkpoint: evidence kept, `check` fails -----------------------------------------------------


def test_truncated_safetensors_keeps_its_header_evidence_and_fails_check(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model = _model(tmp_path / "m", "license: mit", (TEXTS / "deepseek-r1-mit.txt").read_bytes(), None)
    full = safetensors_file({"w": ("F32", [64])}, {"format": "pt"})
    (model / "model.safetensors").write_bytes(full[:-100])
    report = scan(str(model))
    (entry,) = [f for f in report.files if f.entry.path == "model.safetensors"]
    assert entry.status == "header read" and entry.summary["tensors"] == 1
    (finding,) = [f for f in report.findings if f.rule_id == "safetensors.truncated"]
    assert f"expected {len(full)} bytes, file has {len(full) - 100}" in finding.message
    code, out, _err = _cli(capsys, "check", str(model), "--format", "json")
    assert code == 1
    assert any("truncated" in f["message"] for f in json.loads(out)["findings"])


# --- template payloads are data ------------------------------------------------------------------------------


def test_chat_template_payloads_never_reach_a_template_engine_in_a_whole_scan(tmp_path: Path) -> None:
    model = tmp_path / "m"
    model.mkdir()
    (model / "README.md").write_text("---\nlicense: mit\n---\n# {{ 7*7 }} \x1b[31mred\x1b[0m\n")
    (model / "tokenizer_config.json").write_text(json.dumps({"chat_template": SSTI}))
    kvs = [("general.architecture", _GSTR, "llama"), ("general.name", _GSTR, "{{ 7*7 }}")]
    (model / "model.gguf").write_bytes(gguf_file([*kvs, ("tokenizer.chat_template", _GSTR, SSTI)], [])[0])
    script = (
        "import sys\n"
        "sys.modules['jinja2'] = None  # any import of the template engine fails loudly\n"
        "from provenance.cli import main\n"
        "sys.exit(main(['scan', 'm', '--format', 'json', '--no-lineage', '--no-claims', '-o', 'r.json']))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], check=False, cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert not (tmp_path / "MARKER").exists()
    report = json.loads((tmp_path / "r.json").read_text())
    digest = hashlib.sha256(SSTI.encode()).hexdigest()
    facts = {f["kind"]: f["value"] for f in report["facts"]}
    assert facts["tokenizer.chat_template_sha256"] == digest
    assert facts["gguf.general.name"] == "{{ 7*7 }}"
    assert digest in json.dumps(report["facts"])


# --- zip polyglots -------------------------------------------------------------------------------------------


def _torch_zip() -> bytearray:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("archive/data.pkl", pickle.dumps({"w": 1}, protocol=2))
        archive.writestr("archive/data/0", bytes(8))
    return bytearray(buffer.getvalue())


@pytest.mark.parametrize(
    ("central", "local"),
    [(b"archive/data.pkl", b"archive/dat0.pkl"), (b"archive/data/0", b"archive/evil.p")],
    ids=["pickle-member", "data-member"],
)
def test_local_and_central_names_that_differ_are_a_suspicious_archive(central: bytes, local: bytes) -> None:
    data = _torch_zip()
    at = data.index(central)  # the first occurrence is the local header
    data[at : at + len(central)] = local
    report = scan_checkpoint_bytes(bytes(data), "polyglot.bin")
    assert report.verdict != "no-dangerous-imports"
    assert any("malformed/suspicious archive" in f.message for f in report.findings)
    assert report.verdict == "unverifiable" or any(central.decode() in f.message for f in report.findings)


def test_an_untouched_zip_has_no_name_finding() -> None:
    report = scan_checkpoint_bytes(bytes(_torch_zip()), "clean.bin")
    assert not report.findings


# --- output that cannot be written: exit 5, the previous report untouched, no temp file ---------------------


def test_write_failing_like_a_full_disk_exits_5_and_keeps_the_previous_report(tmp_path: Path) -> None:
    model = _model(tmp_path / "m", "license: mit", (TEXTS / "deepseek-r1-mit.txt").read_bytes(), None)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    (out_dir / "report.json").write_text("previous\n")
    # RLIMIT_FSIZE makes every write past 200 bytes fail with EFBIG, as ENOSPC would on a full disk
    script = (
        "import resource, signal, sys\n"
        "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (200, 200))\n"
        "from provenance.cli import main\n"
        f"sys.exit(main(['scan', {str(model)!r}, '--format', 'json', '--no-lineage', '--no-claims',"
        f" '-o', {str(out_dir / 'report.json')!r}]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], check=False, cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 5, done.stderr
    assert done.stderr.startswith("provenance: error: ") and "Traceback" not in done.stderr
    assert (out_dir / "report.json").read_text() == "previous\n"
    assert [p.name for p in out_dir.iterdir()] == ["report.json"]


def test_member_stored_but_listed_as_deflated_is_a_finding_not_a_zlib_error() -> None:
    # found by a 10-minute bench/fuzz.py run: zlib.error (not an OSError) escaped while reading data.pkl
    data = _torch_zip()
    central = data.index(b"PK\x01\x02")
    name_length = struct.unpack("<H", data[central + 28 : central + 30])[0]
    assert data[central + 46 : central + 46 + name_length].endswith(b"data.pkl")
    data[central + 10 : central + 12] = struct.pack("<H", zipfile.ZIP_DEFLATED)
    report = scan_checkpoint_bytes(bytes(data), "stored-as-deflated.bin")
    assert report.verdict == "unverifiable"
    assert any("data.pkl" in f.message and "decompress" in f.message for f in report.findings)


def test_central_directory_offset_past_itself_is_a_finding_not_a_value_error() -> None:
    # found by tests/reliability/test_fuzz.py: zipfile then computes negative local-header offsets
    data = _torch_zip()
    end = data.rindex(b"PK\x05\x06")
    (claimed,) = struct.unpack("<I", data[end + 16 : end + 20])
    data[end + 16 : end + 20] = struct.pack("<I", claimed + 64)
    report = scan_checkpoint_bytes(bytes(data), "shifted.bin")
    assert report.verdict == "unverifiable"
    assert any("malformed/suspicious archive" in f.message for f in report.findings)


def test_zip_needing_an_unknown_version_is_a_finding_not_a_not_implemented_error() -> None:
    # found by bench/fuzz.py: zipfile raises NotImplementedError("zip file version 25.5") while listing
    data = _torch_zip()
    central = data.index(b"PK\x01\x02")
    data[central + 6] = 255  # version needed to extract: 25.5
    report = scan_checkpoint_bytes(bytes(data), "future.bin")
    assert report.verdict == "unverifiable"
    assert any("zip file version" in f.message for f in report.findings)
