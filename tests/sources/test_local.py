"""Local folder and file sources: safe filesystem defaults."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from provenance.errors import InputError, LimitExceededError, TargetNotFoundError
from provenance.sources.local import LocalDirSource, LocalFileSource


def make_model(root: Path) -> Path:
    root.mkdir()
    (root / "config.json").write_text('{"model_type": "llama"}')
    (root / "README.md").write_text("---\nlicense: mit\n---\n# m\n")
    (root / "sub").mkdir()
    (root / "sub" / "notes.txt").write_text("x")
    return root


def test_lists_files_sorted_with_sizes(tmp_path: Path) -> None:
    src = LocalDirSource(make_model(tmp_path / "m"), "m")
    assert [(f.path, f.size) for f in src.files()] == [
        ("README.md", 25),
        ("config.json", 23),
        ("sub/notes.txt", 1),
    ]
    assert src.read("config.json", 100) == b'{"model_type": "llama"}'
    assert src.read_prefix("README.md", 3) == b"---"


def test_read_cap_is_enforced_before_reading(tmp_path: Path) -> None:
    src = LocalDirSource(make_model(tmp_path / "m"), "m")
    with pytest.raises(LimitExceededError, match="over the 10-byte read cap"):
        src.read("config.json", 10)


def test_symlink_out_of_root_is_not_followed(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("outside")
    root = make_model(tmp_path / "m")
    (root / "LICENSE").symlink_to(secret)
    (root / "linkdir").symlink_to(tmp_path)
    src = LocalDirSource(root, "m")
    assert "LICENSE" not in {f.path for f in src.files()}
    rules = {(f.rule_id, f.location) for f in src.findings()}
    assert ("file.symlink-outside-root", "LICENSE") in rules
    assert ("file.symlink-outside-root", "linkdir") in rules
    with pytest.raises(InputError, match="not a file of this snapshot"):
        src.read("LICENSE", 100)


def test_symlink_inside_root_is_followed(tmp_path: Path) -> None:
    root = make_model(tmp_path / "m")
    (root / "alias.json").symlink_to(root / "config.json")
    src = LocalDirSource(root, "m")
    assert src.read("alias.json", 100) == b'{"model_type": "llama"}'


def test_path_traversal_in_read_is_refused(tmp_path: Path) -> None:
    src = LocalDirSource(make_model(tmp_path / "m"), "m")
    with pytest.raises(InputError):
        src.read("../m/config.json", 100)


def test_fifo_inside_folder_is_reported_not_opened(tmp_path: Path) -> None:
    root = make_model(tmp_path / "m")
    os.mkfifo(root / "pipe.safetensors")
    src = LocalDirSource(root, "m")
    assert "pipe.safetensors" not in {f.path for f in src.files()}
    assert any(f.rule_id == "file.special" for f in src.findings())


@pytest.mark.parametrize("kind", ["missing", "fifo", "socket", "dev-zero", "no-permission"])
def test_bad_targets_fail_at_once(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "target"
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "socket":
        sock = socket.socket(socket.AF_UNIX)
        sock.bind(str(path))
        sock.close()
    elif kind == "dev-zero":
        path = Path("/dev/zero")
    elif kind == "no-permission":
        path.write_text("x")
        path.chmod(0)
        if os.access(path, os.R_OK):  # root reads anything: use an unreadable directory entry instead
            path.chmod(0o600)
            path = tmp_path / "nodir" / "x"
    expected = TargetNotFoundError if kind in {"missing", "no-permission"} else InputError
    with pytest.raises(expected):
        LocalFileSource(path, str(path))


def test_file_count_cap(tmp_path: Path) -> None:
    root = tmp_path / "many"
    root.mkdir()
    for i in range(30):
        (root / f"f{i}.txt").write_text("x")
    with pytest.raises(LimitExceededError, match="more than 20 files"):
        LocalDirSource(root, "many", max_files=20)


def test_many_small_files_are_listed_once_with_progress_for_each(tmp_path: Path) -> None:
    """The checklist's 100k-file folder, scaled down (bench/folder_bench.py times the full size): every file
    is listed, progress counts up to the total once per file, and the cap's message names the limit."""
    from provenance.scan import scan  # noqa: PLC0415

    root = tmp_path / "many"
    for i in range(3000):
        folder = root / f"d{i % 30:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"f{i}.txt").write_text("x")
    (root / "README.md").write_text("---\nlicense: mit\n---\n# many\n")
    seen: list[tuple[int, int]] = []
    report = scan(str(root), progress=lambda done, total, _path: seen.append((done, total)))
    assert len(report.files) == 3001
    assert seen == [(n, 3001) for n in range(1, 3002)]
    assert report.first("card.license") == "mit"
    with pytest.raises(LimitExceededError, match="more than 3000 files"):
        scan(str(root), max_files=3000)


def test_single_file_source(tmp_path: Path) -> None:
    path = tmp_path / "model.gguf"
    path.write_bytes(b"GGUF" + b"\0" * 20)
    src = LocalFileSource(path, str(path))
    assert [f.path for f in src.files()] == ["model.gguf"]
    assert src.read_prefix("model.gguf", 4) == b"GGUF"
    assert src.info.kind == "local-file"
