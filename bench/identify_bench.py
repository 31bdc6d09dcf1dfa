"""License identification: time for a 10 kB and a 1 MB text, and how far each known text is from the closest.

Run: .venv/bin/python bench/identify_bench.py [N]
Prints best-of-N times, then one row per catalog text: the runner-up when the text itself is scanned (margin =
1 - its similarity) and the same for the text with its Markdown stripped, reflowed and upper-cased.
"""

from __future__ import annotations

import re
import sys
import time

from provenance.licenses.catalog import default_catalog
from provenance.licenses.identify import ReferenceText, TextMatch, identify_text, reference_texts


def best_of(text: str, references: tuple[ReferenceText, ...], runs: int) -> tuple[float, TextMatch]:
    best, match = float("inf"), identify_text(text, references)
    for _ in range(runs):
        start = time.perf_counter()
        match = identify_text(text, references)
        best = min(best, time.perf_counter() - start)
    return best, match


def reformatted(text: str) -> str:
    plain = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text).replace("**", "").replace("\\", "")
    return " ".join(plain.split()).upper()


def runner_up(match: TextMatch) -> tuple[str, float]:
    return next(((i, s) for i, s in match.candidates if i != match.license_id), ("-", 0.0))


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    references = reference_texts(default_catalog())
    apache = next(r.text for r in references if r.license_id == "Apache-2.0")
    llama = next(r.text for r in references if r.license_id == "LicenseRef-llama3.3")
    edited = llama.replace("700 million", "100 million") + "\n" + apache[: 10_000 - len(llama)]
    filler = "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod\n" * 7000
    big = (filler + apache + filler)[: 1024 * 1024]
    print(f"{len(references)} reference texts")
    for label, text in (("10 kB", edited), ("1 MB", big)):
        seconds, match = best_of(text, references, runs)
        print(f"{label:>6} ({len(text)} chars): {seconds * 1000:7.1f} ms -> {match.kind} {match.license_id}")
    print(f"\n{'text':40} {'runner-up (as is)':42} {'margin':>7}   {'reformatted':11} {'margin':>7}")
    for reference in references:
        same = identify_text(reference.text, references)
        other = identify_text(reformatted(reference.text), references)
        (up, score), (_, score2) = runner_up(same), runner_up(other)
        ok = "ok" if other.license_id == reference.license_id else f"-> {other.license_id}"
        print(f"{reference.license_id:40} {up:34} {score:7.4f} {1 - score:7.4f}   {ok:11} {1 - score2:7.4f}")


if __name__ == "__main__":
    main()
