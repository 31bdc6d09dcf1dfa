"""Weight witness (opt-in, local files): was one safetensors checkpoint initialised from another?

Only tensors present in both with the same name, shape and dtype (F32, F16 or BF16, at least 2-D) are
compared. From each, a few rows are sampled (deterministically, per tensor name) and read as byte ranges at
the offsets the header gives, never a whole tensor: at most MAX_ROW_ELEMENTS values per row, so memory stays
bounded whatever the model size. Decoding uses the stdlib (struct/array), not numpy.

The statistic: the mean cosine similarity of the sampled row pairs, and the fraction of rows that are
bit-identical. A fine-tune keeps its parent's directions (cosine near 1); independently initialised weights
are near-orthogonal (cosine near 0). Verdicts: "initialised from" (mean cosine >= 0.9), "unrelated"
(|mean cosine| <= 0.3), otherwise "inconclusive", also when fewer than MIN_ROWS rows could be compared.
"""

from __future__ import annotations

import math
import random
import struct
import sys
from array import array
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Literal

from provenance.lineage.model import EdgeEvidence
from provenance.lineage.witnesses import Witnessed
from provenance.readers.safetensors import PREFIX_SIZE, TensorInfo, read_safetensors_file

Verdict = Literal["initialised from", "unrelated", "inconclusive"]

ROWS_PER_TENSOR = 8
MAX_TENSORS = 64
MAX_ROW_ELEMENTS = 4096
MIN_ROWS = 4
SAME_THRESHOLD = 0.9
UNRELATED_THRESHOLD = 0.3
_ITEM_SIZE = {"F32": 4, "F16": 2, "BF16": 2}


@dataclass(frozen=True)
class Located:
    """A tensor and where its bytes start in which file."""

    path: Path
    info: TensorInfo
    data_start: int


@dataclass(frozen=True)
class WeightComparison:
    child: str
    parent: str
    shared_tensors: int
    tensors_compared: int
    rows_compared: int
    mean_cosine: float | None
    min_cosine: float | None
    identical_fraction: float
    verdict: Verdict
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {
            "child": self.child,
            "parent": self.parent,
            "shared_tensors": self.shared_tensors,
            "tensors_compared": self.tensors_compared,
            "rows_compared": self.rows_compared,
            "mean_cosine": None if self.mean_cosine is None else round(self.mean_cosine, 6),
            "min_cosine": None if self.min_cosine is None else round(self.min_cosine, 6),
            "identical_fraction": round(self.identical_fraction, 6),
            "verdict": self.verdict,
            "reason": self.reason,
        }


def tensors_of(path: Path) -> dict[str, Located]:
    """Every tensor of a .safetensors file, or of all the .safetensors files of a folder (sharded)."""
    files = sorted(path.glob("*.safetensors")) if path.is_dir() else [path]
    found: dict[str, Located] = {}
    for file in files:
        header, _ = read_safetensors_file(file)
        start = PREFIX_SIZE + header.header_size
        for info in header.tensors:
            found.setdefault(info.name, Located(file, info, start))
    return found


def comparable(child: dict[str, Located], parent: dict[str, Located]) -> list[str]:
    names = []
    for name in sorted(child.keys() & parent.keys()):
        a, b = child[name].info, parent[name].info
        if a.dtype == b.dtype and a.shape == b.shape and a.dtype in _ITEM_SIZE and len(a.shape) >= 2:
            names.append(name)
    return names


def compare_checkpoints(
    child: Path,
    parent: Path,
    *,
    rows_per_tensor: int = ROWS_PER_TENSOR,
    max_tensors: int = MAX_TENSORS,
    seed: int = 0,
) -> WeightComparison:
    """Sample rows of the tensors both checkpoints share and judge whether `child` started from `parent`."""
    ours, theirs = tensors_of(child), tensors_of(parent)
    names = comparable(ours, theirs)
    picked = _spread(names, max_tensors)
    cosines: list[float] = []
    identical = rows = 0
    with ExitStack() as stack:
        handles: dict[Path, BinaryIO] = {}

        def handle(path: Path) -> BinaryIO:
            if path not in handles:
                handles[path] = stack.enter_context(path.open("rb"))
            return handles[path]

        for name in picked:
            for left, right in _row_pairs(ours[name], theirs[name], handle, rows_per_tensor, seed):
                rows += 1
                identical += left == right
                cosine = _cosine(_decode(left, ours[name].info.dtype), _decode(right, ours[name].info.dtype))
                if cosine is not None:
                    cosines.append(cosine)
    counts = (len(names), len(picked), rows, identical)
    return _judge(str(child), str(parent), counts, cosines)


def _spread(names: list[str], limit: int) -> list[str]:
    """At most `limit` names, evenly spread over the sorted list (first and last layers included)."""
    if len(names) <= limit:
        return names
    step = (len(names) - 1) / (limit - 1) if limit > 1 else 0
    return [names[round(i * step)] for i in range(limit)]


def _row_pairs(a: Located, b: Located, handle: Any, count: int, seed: int) -> Iterator[tuple[bytes, bytes]]:
    shape = a.info.shape
    row_elements = math.prod(shape[1:])
    take = min(row_elements, MAX_ROW_ELEMENTS) * _ITEM_SIZE[a.info.dtype]
    row_bytes = row_elements * _ITEM_SIZE[a.info.dtype]
    picker = random.Random(f"{seed}:{a.info.name}")  # noqa: S311  (sampling rows, not a secret)
    for row in sorted(picker.sample(range(shape[0]), min(count, shape[0]))):
        left = _read(handle(a.path), a.data_start + a.info.begin + row * row_bytes, take)
        right = _read(handle(b.path), b.data_start + b.info.begin + row * row_bytes, take)
        if len(left) == take and len(right) == take:
            yield left, right


def _read(file: BinaryIO, offset: int, length: int) -> bytes:
    file.seek(offset)
    return file.read(length)


def _decode(data: bytes, dtype: str) -> array[float] | tuple[float, ...]:
    if dtype == "F16":
        values: tuple[float, ...] = struct.unpack(f"<{len(data) // 2}e", data)
        return values
    if dtype == "BF16":
        widened = bytearray(len(data) * 2)
        widened[2::4] = data[0::2]
        widened[3::4] = data[1::2]
        data = bytes(widened)
    floats = array("f", data)
    if sys.byteorder == "big":
        floats.byteswap()
    return floats


def _cosine(left: Any, right: Any) -> float | None:
    dot = sum(x * y for x, y in zip(left, right, strict=True))
    norm = math.sqrt(sum(x * x for x in left)) * math.sqrt(sum(y * y for y in right))
    if not math.isfinite(dot) or not math.isfinite(norm) or norm == 0:
        return None
    return max(-1.0, min(1.0, float(dot / norm)))


def _judge(
    child: str, parent: str, counts: tuple[int, int, int, int], cosines: list[float]
) -> WeightComparison:
    """`counts`: shared tensors, tensors compared, rows compared, bit-identical rows."""
    shared, compared, rows, identical = counts
    mean = sum(cosines) / len(cosines) if cosines else None
    low = min(cosines) if cosines else None
    same = identical / rows if rows else 0.0
    verdict: Verdict = "inconclusive"
    if len(cosines) < MIN_ROWS:
        reason = (
            f"only {len(cosines)} comparable rows (same name, shape and F32/F16/BF16 dtype); need {MIN_ROWS}"
        )
    elif mean is not None and mean >= SAME_THRESHOLD:
        verdict = "initialised from"
        reason = f"sampled rows point the same way (mean cosine {mean:.4f}); {same:.0%} bit-identical"
    elif mean is not None and abs(mean) <= UNRELATED_THRESHOLD:
        verdict = "unrelated"
        reason = f"sampled rows are near-orthogonal (mean cosine {mean:.4f}): not initialised from it"
    else:
        reason = f"mean cosine {mean:.4f} is between {UNRELATED_THRESHOLD} and {SAME_THRESHOLD}"
    return WeightComparison(child, parent, shared, compared, rows, mean, low, same, verdict, reason)


def as_witness(comparison: WeightComparison, parent_id: str) -> Witnessed | None:
    """The comparison as a claim about `parent_id` for graph.build_graph(extra=...); None if inconclusive."""
    weight = {"initialised from": 0.95, "unrelated": -0.9}.get(comparison.verdict)
    if weight is None:
        return None
    value = (
        f"{comparison.verdict}: {comparison.reason}; {comparison.rows_compared} rows of "
        f"{comparison.tensors_compared} tensors"
    )
    location = f"{comparison.child} vs {comparison.parent}"
    return Witnessed(parent_id, None, EdgeEvidence("weights", value, location, weight, "weights"))
